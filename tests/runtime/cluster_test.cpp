// SPDX-License-Identifier: Apache-2.0
// Acquire / release / renew across 3 and 5 members, each its own Cluster and
// loop thread, over UDP on 127.0.0.1.
#include <gtest/gtest.h>

#include <future>

#include "test_cluster.hpp"

namespace baton {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::start_members;

using test::opts;

void exclusive_handover(std::size_t n) {
  auto m = start_members(n);
  ASSERT_EQ(m.clusters.size(), n);
  auto first = m[1].acquire("seat:14A", opts(2s, 5s));
  ASSERT_TRUE(first.ok()) << first.what();
  EXPECT_TRUE(first->valid());
  EXPECT_EQ(first->resource(), "seat:14A");
  EXPECT_GT(first->token(), 0u);
  EXPECT_GT(first->time_left(), 0ns);

  // Mutual exclusion: every other member is refused. One attempt: busy, or
  // unavailable when the denials came later than the attempt's timeout (a
  // loaded machine).
  for (std::uint32_t id = 2; id <= n; ++id) {
    auto other = m[id].try_acquire("seat:14A", 2s);
    EXPECT_TRUE(test::refused(other.code())) << "member " << id << ": " << errc_name(other.code());
  }
  const std::uint64_t t1 = first->token();
  ASSERT_TRUE(first->release().ok());
  EXPECT_FALSE(first->valid());
  EXPECT_EQ(first->release().code(), Errc::not_held);

  // Guarantee 2: the next lease carries a higher token.
  auto second = m[n].acquire("seat:14A", opts(2s, 5s));
  ASSERT_TRUE(second.ok()) << second.what();
  EXPECT_GT(second->token(), t1);
  // Other resources do not contend.
  auto other = m[2].acquire("seat:15B", opts(2s, 5s));
  ASSERT_TRUE(other.ok()) << other.what();
  EXPECT_TRUE(eventually([&] { return m[1].stats().grants >= 2; }));
}

TEST(Cluster, ExclusiveHandoverAcrossThreeMembers) { exclusive_handover(3); }
TEST(Cluster, ExclusiveHandoverAcrossFiveMembers) { exclusive_handover(5); }

TEST(Cluster, WaiterIsGrantedWhenTheHolderReleases) {
  auto m = start_members(3);
  auto held = m[1].acquire("printer", opts(5s, 5s));
  ASSERT_TRUE(held.ok()) << held.what();
  std::promise<Result<Lease>> got;
  auto outcome = got.get_future();
  // Waits up to 3 s, less than the holder's 5 s ttl: only the release (and
  // the voters' FREE notice) can let it through.
  ASSERT_TRUE(m[2].acquire("printer", opts(5s, 3s), [&](Result<Lease> r) { got.set_value(std::move(r)); }).ok());
  EXPECT_TRUE(eventually([&] { return m[2].stats().pending_acquires == 1; }));
  const std::uint64_t t1 = held->token();
  ASSERT_TRUE(held->release().ok());
  ASSERT_EQ(outcome.wait_for(20s), std::future_status::ready);
  auto lease = outcome.get();
  ASSERT_TRUE(lease.ok()) << lease.what();
  EXPECT_GT(lease->token(), t1);
}

TEST(Cluster, CallsFromCallbacksRunInTheSameBatch) {
  // Each grant's callback releases its lease and starts the next acquire, on
  // the loop thread. Those calls are queued without waking the loop and run
  // in the batch that delivered the grant (Mailbox::begin_batch): all 200
  // complete, none is left waiting for a wakeup that never comes.
  auto m = start_members(3);
  constexpr int total = 200;
  std::promise<void> all_done;
  std::atomic<int> done{0}, failed{0};
  std::function<void(int)> next = [&](int i) {
    const auto r = m[1].acquire("chain:" + std::to_string(i % 7), opts(5s, 5s), [&, i](Result<Lease> l) {
      if (!l.ok() || !l->release().ok()) ++failed;
      if (++done == total) {
        all_done.set_value();
      } else {
        next(i + 1);
      }
    });
    if (!r.ok()) ++failed;
  };
  next(0);
  ASSERT_EQ(all_done.get_future().wait_for(30s), std::future_status::ready) << done.load() << " of " << total;
  EXPECT_EQ(failed.load(), 0);
  EXPECT_TRUE(eventually([&] { return m[1].stats().pending_acquires == 0; }));
}

TEST(Cluster, SynchronousFailureNeverRunsTheCallback) {
  auto m = start_members(3);
  std::atomic<int> calls{0};
  auto cb = [&](Result<Lease>) { ++calls; };
  // core::check_acquire's texts (and the API's own for wait), naming the value.
  struct Bad {
    std::string resource;
    AcquireOptions opts;
    const char* what;
  };
  const Bad bad[] = {
      {"", opts(1s), "resource: empty name; must be 1..128 bytes"},
      {std::string(129, 'x'), opts(1s), "resource: 129 bytes, longer than 128"},
      {"r", opts(1ms), "ttl: 1ms outside [ttl_min 20ms, ttl_max 5s]"},
      {"r", opts(1h), "ttl: 3600s outside [ttl_min 20ms, ttl_max 5s]"},
      {"r", opts(1s, -1s), "wait: -1s; must not be negative"},
  };
  for (const Bad& b : bad) {
    auto r = m[1].acquire(b.resource, b.opts, cb);
    EXPECT_EQ(r.code(), Errc::invalid_argument) << b.what;
    EXPECT_EQ(r.what(), b.what);
    // The blocking form fails the same way, at once.
    auto blocking = m[1].acquire(b.resource, b.opts);
    EXPECT_EQ(blocking.code(), Errc::invalid_argument) << b.what;
  }
  EXPECT_EQ(m[1].acquire("r", opts(1s), AcquireCallback{}).code(), Errc::invalid_argument);  // no callback
  // A call that succeeded gets exactly one callback; the failed ones none.
  std::promise<void> done;
  ASSERT_TRUE(m[1].acquire("r", opts(1s), [&](Result<Lease>) {
                    ++calls;
                    done.set_value();
                  }).ok());
  ASSERT_EQ(done.get_future().wait_for(20s), std::future_status::ready);
  m[1].stop();
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(m[1].acquire("r", opts(1s), cb).code(), Errc::stopped);
  EXPECT_EQ(m[1].try_acquire("r", 1s).code(), Errc::stopped);
}

TEST(Cluster, RenewMovesValidityLater) {
  auto m = start_members(3);
  auto lease = m[1].acquire("r", opts(1s, 5s));
  ASSERT_TRUE(lease.ok()) << lease.what();
  const auto before = lease->validity_end();
  // Renewal validity is measured from the round's start, which is later.
  ASSERT_TRUE(eventually([&] { return BootClock::now() > before - 900ms; }));
  auto r = lease->renew();
  ASSERT_TRUE(r.ok()) << r.what();
  EXPECT_GT(lease->validity_end(), before);
  EXPECT_TRUE(lease->valid());
  EXPECT_TRUE(eventually([&] { return m[1].stats().renewed >= 1; }));
}

TEST(Cluster, AutoRenewOutlivesTheTtl) {
  auto m = start_members(3);
  // 1 s: renewal rounds must fit in the window even on a loaded machine.
  AcquireOptions o = opts(1s, 5s);
  o.auto_renew = true;
  std::atomic<int> lost{0};
  o.on_lost = [&](LostReason) { ++lost; };
  auto lease = m[1].acquire("r", o);
  ASSERT_TRUE(lease.ok()) << lease.what();
  const auto first_end = lease->validity_end();
  // Wait for the clock to pass the first validity end: still valid, renewed.
  ASSERT_TRUE(eventually([&] { return BootClock::now() > first_end + 300ms; }));
  EXPECT_TRUE(lease->valid());
  EXPECT_GT(lease->validity_end(), first_end);
  EXPECT_EQ(lost.load(), 0);
  EXPECT_FALSE(m[2].try_acquire("r", 1s).ok());
}

TEST(Cluster, DestructorReleases) {
  auto m = start_members(3);
  std::uint64_t t1 = 0;
  {
    auto lease = m[1].acquire("r", opts(5s, 5s));
    ASSERT_TRUE(lease.ok()) << lease.what();
    t1 = lease->token();
  }
  // Released, not expired: the 3 s wait ends before the 5 s ttl would.
  auto next = m[2].acquire("r", opts(5s, 3s));
  ASSERT_TRUE(next.ok()) << next.what();
  EXPECT_GT(next->token(), t1);
}

TEST(Cluster, FullCallQueueIsOverloadedAndChangesNothing) {
  auto m = start_members(3, {}, [](Config& c) { c.limits.calls_queued = 2; });
  auto lease = m[1].acquire("r", opts(2s, 5s));
  ASSERT_TRUE(lease.ok()) << lease.what();
  // Stall member 1's loop inside a callback, so posted calls pile up.
  std::promise<void> unblock;
  std::shared_future<void> resume = unblock.get_future().share();
  std::promise<void> stalled;
  ASSERT_TRUE(lease->renew([&, resume](Result<void>) {
                     stalled.set_value();
                     resume.wait();
                   }).ok());
  ASSERT_EQ(stalled.get_future().wait_for(20s), std::future_status::ready);
  std::atomic<int> callbacks{0};
  int accepted = 0;
  int overloaded = 0;
  for (int i = 0; i < 5; ++i) {
    auto r = m[1].acquire("x" + std::to_string(i), opts(1s), [&](Result<Lease>) { ++callbacks; });
    if (r.ok()) ++accepted;
    if (r.code() == Errc::overloaded) ++overloaded;
  }
  EXPECT_EQ(accepted, 2);
  EXPECT_EQ(overloaded, 3);
  unblock.set_value();
  // Only the accepted calls ever call back.
  EXPECT_TRUE(eventually([&] { return callbacks.load() == 2; }));
  m[1].stop();
  EXPECT_EQ(callbacks.load(), 2);
}

TEST(Cluster, StatsCountLeasesAndLatency) {
  auto m = start_members(3);
  auto lease = m[1].acquire("r", opts(2s, 5s));
  ASSERT_TRUE(lease.ok()) << lease.what();
  ASSERT_TRUE(eventually([&] { return m[1].stats().held_leases == 1; }));
  const Stats s = m[1].stats();
  EXPECT_EQ(s.acquired, 1u);
  EXPECT_EQ(s.acquire_latency.total(), 1u);
  EXPECT_GE(s.datagrams_sent, 2u);
  EXPECT_GE(s.datagrams_received, 1u);
  EXPECT_EQ(s.drops_total(), 0u);
}

}  // namespace
}  // namespace baton
