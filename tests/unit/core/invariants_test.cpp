// SPDX-License-Identifier: Apache-2.0
// invariants.hpp: check_invariants() is empty on healthy nodes, fresh and
// after each kind of operation. (TestCluster also checks after every step; here
// each state is checked explicitly, on every member.)
#include "core/invariants.hpp"

#include <gtest/gtest.h>

#include <string>

#include "core/voter.hpp"
#include "test_cluster.hpp"

namespace baton::core {
namespace {

using testing::TestCluster;

void expect_healthy(TestCluster& c, std::initializer_list<std::uint32_t> ids, const char* when) {
  for (std::uint32_t id : ids) EXPECT_EQ(check_invariants(c.node(id)), "") << "member " << id << " " << when;
}

TEST(Invariants, FreshNodes) {
  struct Case {
    std::size_t members;
  };
  const Case cases[] = {{.members = 1}, {.members = 3}, {.members = 5}, {.members = 7}};
  for (const Case& k : cases) {
    TestCluster c(k.members);
    for (std::uint32_t id = 1; id <= k.members; ++id) {
      EXPECT_EQ(check_invariants(c.node(id)), "") << k.members << " members, member " << id;
      const NodeStatus st = c.node(id).status();
      EXPECT_FALSE(st.quarantined);
      EXPECT_EQ(st.live_leases, 0u);
      EXPECT_EQ(st.fence_entries, 0u);
    }
  }
}

TEST(Invariants, AfterAcquireContentionReleaseAndExpiry) {
  TestCluster c(3);
  auto a = c.acquire(1, "r", Duration::ms(200), Duration::s(1));
  c.deliver_all();
  expect_healthy(c, {1, 2, 3}, "after acquire");
  ASSERT_EQ(c.last_event(1, *a)->kind, EventKind::acquired);
  auto b = c.acquire(2, "r", Duration::ms(200), Duration::s(5));
  auto d = c.acquire(3, "r", Duration::ms(200), Duration::s(5));
  c.deliver_all();
  expect_healthy(c, {1, 2, 3}, "with waiters");
  EXPECT_GT(c.node(1).status().waiters, 0u);
  ASSERT_TRUE(c.node(1).release(c.now(), *a).ok());
  c.collect(MemberId{1});
  c.advance(Duration::ms(20));
  expect_healthy(c, {1, 2, 3}, "after release and handover");
  // Whoever got it lets it expire; the other then takes it.
  c.advance(Duration::ms(500));
  expect_healthy(c, {1, 2, 3}, "after expiries");
  int acquired = 0;
  for (std::uint32_t id : {2u, 3u})
    for (const Event& e : c.events(id)) acquired += e.kind == EventKind::acquired && (e.id == *b || e.id == *d);
  EXPECT_EQ(acquired, 2);
  for (std::uint32_t id : {1u, 2u, 3u}) EXPECT_EQ(c.node(id).status().live_leases, 0u);
}

TEST(Invariants, AfterAutoRenewAndExplicitRenew) {
  TestCluster c(5);
  auto a = c.acquire(4, "r", Duration::ms(100), Duration::s(1), /*auto_renew=*/true);
  c.advance(Duration::ms(450));
  expect_healthy(c, {1, 2, 3, 4, 5}, "during auto-renew");
  ASSERT_TRUE(c.node(4).set_auto_renew(c.now(), *a, false).ok());
  ASSERT_TRUE(c.node(4).renew(c.now(), *a).ok());
  c.collect(MemberId{4});
  c.deliver_all();
  expect_healthy(c, {1, 2, 3, 4, 5}, "after explicit renew");
  c.advance(Duration::ms(300));
  expect_healthy(c, {1, 2, 3, 4, 5}, "after expiry");
}

TEST(Invariants, EvictionKeepsMemoryBoundedAndFencesConsistent) {
  // idle_fences = 2: many resources acquired and released in turn; a held
  // entry whose fence the eviction floor passes must still check clean.
  NodeConfig base;
  base.limits.idle_fences = 2;
  TestCluster c(3, base);
  auto held = c.acquire(1, "held", Duration::s(30), Duration::s(1));
  c.deliver_all();
  ASSERT_EQ(c.last_event(1, *held)->kind, EventKind::acquired);
  for (int i = 0; i < 20; ++i) {
    const std::string name = "res:" + std::to_string(i);
    auto id = c.acquire(2, name.c_str(), Duration::s(10), Duration::s(1));
    c.deliver_all();
    ASSERT_EQ(c.last_event(2, *id)->kind, EventKind::acquired) << name;
    ASSERT_TRUE(c.node(2).release(c.now(), *id).ok());
    c.collect(MemberId{2});
    c.deliver_all();
    expect_healthy(c, {1, 2, 3}, name.c_str());
    for (std::uint32_t m : {1u, 2u, 3u}) EXPECT_LE(c.node(m).status().fence_entries, 1u + 2u) << name;
  }
  for (std::uint32_t m : {1u, 2u, 3u}) {
    EXPECT_GT(c.node(m).stats().evictions + c.node(m).voter().table().evictions(), 0u);
    EXPECT_GT(c.node(m).status().floor, c.last_event(1, *held)->token) << "the floor passed the held entry's fence";
  }
  // The held lease is intact, then released, and everything still checks.
  ASSERT_TRUE(c.node(1).release(c.now(), *held).ok());
  c.collect(MemberId{1});
  c.deliver_all();
  expect_healthy(c, {1, 2, 3}, "after releasing the held entry");
}

TEST(Invariants, AfterRestarts) {
  TestCluster c(3);
  auto a = c.acquire(1, "r", Duration::s(1), Duration::s(1));
  c.deliver_all();
  ASSERT_EQ(c.last_event(1, *a)->kind, EventKind::acquired);
  c.crash(MemberId{3});
  c.start(MemberId{3}, RecoveryMode::peers);
  c.deliver_all();
  expect_healthy(c, {1, 2, 3}, "peer restart, quarantined");
  c.crash(MemberId{2});
  c.start(MemberId{2}, RecoveryMode::reservation, Token{1ULL << 32});
  c.deliver_all();
  expect_healthy(c, {1, 2, 3}, "reservation restart, quarantined");
  c.advance(Duration::s(62));
  expect_healthy(c, {1, 2, 3}, "after the quarantines");
  EXPECT_FALSE(c.node(2).status().quarantined);
  EXPECT_FALSE(c.node(3).status().quarantined);
}

TEST(Invariants, PersistingVoterNeverStoresAboveItsSyncedReservation) {
  TestCluster c(3);
  c.crash(MemberId{2});
  c.start(MemberId{2}, RecoveryMode::reservation, Token{100});
  c.advance(Duration::s(62));
  ASSERT_FALSE(c.node(2).status().quarantined);
  // A token above the reservation: member 2 parks the request and asks for a sync.
  auto a = c.acquire(2, "r", Duration::s(10), Duration::s(1));
  c.deliver_all();
  expect_healthy(c, {1, 2, 3}, "request parked");
  ASSERT_TRUE(c.persists().count(2));
  EXPECT_GT(c.persists()[2], Token{100});
  EXPECT_EQ(c.node(2).voter().parked(), 1u);
  c.node(2).on_persisted(c.now(), c.persists()[2]);
  c.collect(MemberId{2});
  c.deliver_all();
  expect_healthy(c, {1, 2, 3}, "after the sync");
  EXPECT_EQ(c.node(2).voter().parked(), 0u);
  EXPECT_EQ(c.node(2).voter().reservation(), c.persists()[2]);
  ASSERT_EQ(c.last_event(2, *a)->kind, EventKind::acquired);
  EXPECT_LE(c.node(2).voter().max_token(), c.node(2).voter().reservation());
}

// Issue 19: a member whose state directory lost its state recovers its floor
// from peers (recovery == peers) and keeps persisting: its reservation starts
// at 0, so the first token above the recovered floor waits for a sync.
TEST(Invariants, LostStateDirectoryRecoversFromPeersThenPersistsBeforeGranting) {
  TestCluster c(3);
  auto a = c.acquire(1, "r", Duration::s(1), Duration::s(1));
  c.deliver_all();
  ASSERT_EQ(c.last_event(1, *a)->kind, EventKind::acquired);
  const Token t1 = c.last_event(1, *a)->token;
  ASSERT_TRUE(c.node(1).release(c.now(), *a).ok());
  c.collect(MemberId{1});
  c.deliver_all();
  c.crash(MemberId{2});
  c.start(MemberId{2}, RecoveryMode::peers, Token{}, /*persist=*/true);
  EXPECT_TRUE(c.node(2).status().quarantined);
  c.advance(Duration::s(62));
  expect_healthy(c, {1, 2, 3}, "after the quarantine");
  ASSERT_FALSE(c.node(2).status().quarantined);
  EXPECT_GE(c.node(2).status().floor, t1);
  EXPECT_EQ(c.node(2).voter().reservation(), Token{});
  // Only member 2 and member 3 vote: member 2's grant needs a sync first.
  c.crash(MemberId{1});
  auto b = c.acquire(3, "r", Duration::s(1), Duration::s(1));
  c.deliver_all();
  ASSERT_TRUE(c.persists().count(2));
  EXPECT_GT(c.persists()[2], t1);
  EXPECT_EQ(c.node(2).voter().parked(), 1u);
  c.node(2).on_persisted(c.now(), c.persists()[2]);
  c.collect(MemberId{2});
  c.deliver_all();
  expect_healthy(c, {2, 3}, "after the sync");
  ASSERT_EQ(c.last_event(3, *b)->kind, EventKind::acquired);
  EXPECT_GT(c.last_event(3, *b)->token, t1);
  EXPECT_LE(c.node(2).voter().max_token(), c.node(2).voter().reservation());
}

}  // namespace
}  // namespace baton::core
