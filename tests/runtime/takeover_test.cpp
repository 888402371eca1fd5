// SPDX-License-Identifier: Apache-2.0
// Failure of the holder. A holder process killed with SIGKILL (it releases
// nothing) is taken over after its lease expires, with a higher token. A
// holder whose loop thread is stuck past its validity learns that it lost the
// lease, and the resource's FenceGuard rejects its late write.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <future>

#include "test_cluster.hpp"

namespace baton {
namespace {

using namespace std::chrono_literals;
using test::eventually;

using test::opts;

// Child: member 1 takes the lease (auto-renewed: only death ends it), reports
// its token through the pipe, then waits to be killed.
[[noreturn]] void run_holder(const std::vector<std::uint16_t>& ports, int report_fd) {
  auto c = Cluster::start(test::member_config(ports, 1));
  if (!c) _exit(10);
  AcquireOptions o = opts(400ms, 20s);  // members 2 and 3 start meanwhile in the parent
  o.auto_renew = true;
  auto lease = (*c)->acquire("job:nightly", o);
  if (!lease) _exit(11);
  const std::uint64_t token = lease->token();
  if (::write(report_fd, &token, sizeof(token)) != sizeof(token)) _exit(12);
  for (;;) ::pause();
}

TEST(Takeover, KilledHolderIsSupersededWithAHigherToken) {
  // Fork before any thread exists in this process (gtest runs one test per
  // process here via gtest_discover_tests, and starts no threads itself).
  const auto ports = test::free_ports(3);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    run_holder(ports, fds[1]);
  }
  ::close(fds[1]);
  auto m2 = Cluster::start(test::member_config(ports, 2));
  auto m3 = Cluster::start(test::member_config(ports, 3));
  ASSERT_TRUE(m2.ok() && m3.ok());

  pollfd p{fds[0], POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 30000), 1) << "the holder never reported a lease";
  std::uint64_t dead_token = 0;
  ASSERT_EQ(::read(fds[0], &dead_token, sizeof(dead_token)), static_cast<ssize_t>(sizeof(dead_token)));
  ::close(fds[0]);
  EXPECT_GT(dead_token, 0u);
  // While the holder lives (and renews), the resource is busy.
  EXPECT_TRUE(test::refused((*m2)->try_acquire("job:nightly", 400ms).code()));

  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status));

  // No release came: the voters' holds must run out first. Then a higher token.
  auto lease = (*m2)->acquire("job:nightly", opts(1s, 20s));
  ASSERT_TRUE(lease.ok()) << lease.what();
  EXPECT_GT(lease->token(), dead_token);
}

TEST(Takeover, PausedHolderLosesTheLeaseAndItsWriteIsFenced) {
  auto m = test::start_members(3);
  FenceGuard guard;
  AcquireOptions o = opts(300ms, 5s);
  o.auto_renew = true;
  std::promise<LostReason> lost;
  o.on_lost = [&](LostReason r) { lost.set_value(r); };
  auto stale = m[1].acquire("row:42", o);
  ASSERT_TRUE(stale.ok()) << stale.what();
  ASSERT_TRUE(guard.admit("row:42", stale->token()).ok());

  // Stall member 1's loop thread: a callback runs on it and does not return
  // until released (like a GC pause, or swapping).
  std::promise<void> unblock;
  std::shared_future<void> resume = unblock.get_future().share();
  std::promise<void> stalled;
  ASSERT_TRUE(stale->renew([&, resume](Result<void>) {
                      stalled.set_value();
                      resume.wait();
                    }).ok());
  ASSERT_EQ(stalled.get_future().wait_for(20s), std::future_status::ready);

  // valid() reads the clock now: it turns false on time although the loop
  // that would report the loss is stuck.
  ASSERT_TRUE(eventually([&] { return !stale->valid(); }));

  // Another member takes over with a higher token and writes.
  auto fresh = m[2].acquire("row:42", opts(2s, 10s));
  ASSERT_TRUE(fresh.ok()) << fresh.what();
  EXPECT_GT(fresh->token(), stale->token());
  ASSERT_TRUE(guard.admit("row:42", fresh->token()).ok());

  // The stale holder wakes up: it is told, and its late write is rejected.
  unblock.set_value();
  auto lost_future = lost.get_future();
  ASSERT_EQ(lost_future.wait_for(20s), std::future_status::ready);
  (void)lost_future.get();
  EXPECT_FALSE(stale->valid());
  EXPECT_TRUE(stale->lost_reason().has_value());
  EXPECT_EQ(guard.admit("row:42", stale->token()).code(), Errc::stale_token);
  EXPECT_EQ(guard.highest("row:42"), fresh->token());
  EXPECT_TRUE(eventually([&] { return m[1].stats().losses == 1; }));
}

}  // namespace
}  // namespace baton
