// SPDX-License-Identifier: Apache-2.0
// Clean shutdown: pending calls get `stopped`, held leases are released and
// read as not valid, later calls fail synchronously, every handle closes (the
// loop thread asserts uv_loop_close == 0; ASan/LSan check for leaks).
#include <gtest/gtest.h>

#include <future>

#include "test_cluster.hpp"

namespace baton {
namespace {

using namespace std::chrono_literals;
using test::eventually;

TEST(Shutdown, PendingAcquireGetsStoppedAndLeasesAreReleased) {
  // Five members: with the waiter and the holder stopped, three voters of
  // five still form a majority.
  auto m = test::start_members(5);
  AcquireOptions o;
  o.ttl = 5s;
  o.wait = 5s;
  auto held = m[1].acquire("r", o);
  ASSERT_TRUE(held.ok()) << held.what();
  auto other = m[1].acquire("q", o);
  ASSERT_TRUE(other.ok()) << other.what();

  // Member 2 waits for "r"; stopping member 2 ends the wait with `stopped`.
  // (A grant in flight to the stopped waiter may hold "r" at a voter until
  // its ttl: that is why the release check below uses "q".)
  std::promise<Errc> outcome;
  o.wait = 20s;
  ASSERT_TRUE(m[2].acquire("r", o, [&](Result<Lease> r) { outcome.set_value(r.code()); }).ok());
  ASSERT_TRUE(eventually([&] { return m[2].stats().pending_acquires == 1; }));
  m[2].stop();
  auto f = outcome.get_future();
  ASSERT_EQ(f.wait_for(0s), std::future_status::ready);  // stop() returned: the callback ran
  EXPECT_EQ(f.get(), Errc::stopped);

  // Stopping the holder releases its leases: member 3 gets "q" well before
  // the 5 s ttl would have run out (3 s wait).
  const std::uint64_t t1 = other->token();
  m[1].stop();
  EXPECT_FALSE(held->valid());
  EXPECT_FALSE(other->valid());
  EXPECT_EQ(other->token(), t1);
  EXPECT_EQ(other->release().code(), Errc::not_held);
  EXPECT_EQ(other->renew().code(), Errc::stopped);
  o.wait = 3s;
  auto next = m[3].acquire("q", o);
  ASSERT_TRUE(next.ok()) << next.what() << "; live leases at voters 3,4,5: " << m[3].stats().live_leases << ","
                         << m[4].stats().live_leases << "," << m[5].stats().live_leases;
  EXPECT_GT(next->token(), t1);
}

TEST(Shutdown, StopIsIdempotentAndLeaseMayOutliveTheCluster) {
  auto m = test::start_members(3);
  AcquireOptions o;
  o.ttl = 1s;
  o.wait = 5s;
  auto lease = m[1].acquire("r", o);
  ASSERT_TRUE(lease.ok()) << lease.what();
  m[1].stop();
  m[1].stop();
  m.clusters[0].reset();  // the Cluster is gone; the handle stays safe to use
  EXPECT_FALSE(lease->valid());
  EXPECT_EQ(lease->set_auto_renew(true).code(), Errc::stopped);
  EXPECT_EQ(lease->release().code(), Errc::not_held);
}

TEST(Shutdown, StartFailureLeavesNothingBehind) {
  auto ports = test::free_ports(1);
  Config c = test::member_config(ports, 1);
  c.members[0].host = "192.0.2.1";  // TEST-NET-1: not an address of this machine, bind fails
  auto r = Cluster::start(c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Errc::io_error);
  c = test::member_config(ports, 1);
  c.ttl_min = 0ms;
  EXPECT_EQ(Cluster::start(c).code(), Errc::invalid_config);
}

}  // namespace
}  // namespace baton
