// SPDX-License-Identifier: Apache-2.0
#include "core/node.hpp"
#include "core/acquirer.hpp"
#include "core/drift.hpp"
#include "core/reconfigure.hpp"
#include "core/recovery.hpp"
#include "core/voter.hpp"

#include <gtest/gtest.h>

#include <functional>

#include "test_cluster.hpp"

namespace baton::core {
namespace {

using testing::InFlight;
using testing::TestCluster;

TEST(Node, UncontendedAcquireTakesOneRoundTrip) {
  TestCluster c(3);
  auto id = c.acquire(1, "seat:14A", Duration::s(10), Duration::s(1));
  ASSERT_TRUE(id.ok());
  // Requests to the two other voters are in flight; the own voter granted in-process.
  EXPECT_EQ(c.network().size(), 2u);
  c.deliver_all();
  auto ev = c.last_event(1, *id);
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->kind, EventKind::acquired);
  EXPECT_GT(ev->token.value, 0u);
  // Validity: t0 + ttl·(1−rho)/(1+rho) − margin, t0 = the acquire call's now.
  EXPECT_EQ(ev->validity_end, drift::validity_end(c.now(), Duration::s(10), 10000, Duration::ms(2)));
}

// A refused acquire changes nothing: not even time moves (a later `now` is
// not taken), no message, no event, no count, no id used up.
TEST(Node, BadAcquireArgumentsChangeNothing) {
  TestCluster c(3);
  Node& n = c.node(1);
  const NodeStats before = n.stats();
  const Instant deadline = n.next_deadline();
  const Instant later = c.now() + Duration::s(5);
  struct Row {
    const char* resource;
    Duration ttl;
    const char* what;
  };
  const Row rows[] = {{"seat:14A", Duration::ms(9), "ttl: 9ms outside [ttl_min 10ms, ttl_max 60s]"},
                      {"seat:14A", Duration::s(61), "ttl: 61s outside [ttl_min 10ms, ttl_max 60s]"},
                      {"", Duration::s(1), "resource: empty name; must be 1..128 bytes"}};
  for (const Row& row : rows) {
    auto r = n.acquire(later, AcquireArgs{.resource = ResourceName(row.resource), .ttl = row.ttl,
                                          .wait_until = later + Duration::s(1), .auto_renew = false});
    ASSERT_FALSE(r.ok()) << row.what;
    EXPECT_EQ(r.code(), Errc::invalid_argument);
    EXPECT_EQ(r.what(), row.what);
  }
  EXPECT_FALSE(n.has_output());
  EXPECT_EQ(n.stats().acquires, before.acquires);
  EXPECT_EQ(n.status().in_flight, 0u);
  EXPECT_EQ(n.next_deadline(), deadline);
  // Time did not move: the original `now` is still accepted (Node asserts
  // that time never goes backwards), and the first good acquire gets id 1.
  auto ok = c.acquire(1, "seat:14A", Duration::s(10), Duration::s(1));
  ASSERT_TRUE(ok.ok()) << ok.what();
  EXPECT_EQ(ok->value, 1u);
}

TEST(Node, SecondAcquirerWaitsForFreeAndGetsHigherToken) {
  TestCluster c(3);
  auto a = c.acquire(1, "r", Duration::s(10), Duration::s(1));
  c.deliver_all();
  auto b = c.acquire(2, "r", Duration::s(10), Duration::s(5));
  c.deliver_all();
  EXPECT_FALSE(c.last_event(2, *b).has_value()) << "b must wait while a holds";
  c.advance(Duration::ms(100));
  EXPECT_FALSE(c.last_event(2, *b).has_value());
  ASSERT_TRUE(c.node(1).release(c.now(), *a).ok());
  c.collect(MemberId{1});
  c.advance(Duration::ms(50));
  auto ev = c.last_event(2, *b);
  ASSERT_TRUE(ev.has_value());
  ASSERT_EQ(ev->kind, EventKind::acquired);
  EXPECT_GT(ev->token, c.last_event(1, *a)->token);
}

TEST(Node, TryAcquireOnHeldResourceFailsBusy) {
  TestCluster c(3);
  ASSERT_TRUE(c.acquire(1, "r", Duration::s(10), Duration::s(1)).ok());
  c.deliver_all();
  auto b = c.acquire(2, "r", Duration::s(10), Duration::zero());
  c.advance(Duration::ms(10));
  auto ev = c.last_event(2, *b);
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->kind, EventKind::acquire_failed);
  EXPECT_EQ(ev->error, Errc::busy);
}

TEST(Node, LeaseExpiresWithoutRenewalAndNextHolderTakesOver) {
  TestCluster c(3);
  auto a = c.acquire(1, "r", Duration::ms(100), Duration::s(1));
  c.deliver_all();
  auto b = c.acquire(2, "r", Duration::ms(100), Duration::s(5));
  c.advance(Duration::ms(300));
  auto lost = c.last_event(1, *a);
  ASSERT_TRUE(lost.has_value());
  EXPECT_EQ(lost->kind, EventKind::lost);
  EXPECT_EQ(lost->lost_reason, LostReason::expired);
  // b acquired once a's lease ended (and, with no renewal, b's own then expired too).
  bool b_acquired = false;
  for (const Event& e : c.events(2)) b_acquired |= e.id == *b && e.kind == EventKind::acquired;
  EXPECT_TRUE(b_acquired);
}

TEST(Node, AutoRenewKeepsLeasePastTtl) {
  TestCluster c(3);
  auto a = c.acquire(1, "r", Duration::ms(100), Duration::s(1), /*auto_renew=*/true);
  c.advance(Duration::s(1));
  auto info = c.node(1).lease(*a);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->state, LeaseInfo::State::held);
  EXPECT_GT(info->validity_end, c.now());
}


// Issue 21 step 4: CONFIG_CHANGE and its reply are between an observer and a
// member's runtime; from a member (or forged as one) the core drops them.
TEST(Node, RemoteReconfigurationMessagesNeverReachTheCore) {
  NodeConfig base;
  base.persist = true;
  TestCluster c(3, base);
  const Message change = ConfigChange{.nonce = 1, .expect = initial_cfg_id, .voters = {MemberId{1}, MemberId{2}}};
  const Message reply = ConfigChangeReply{.nonce = 1, .state = ChangeState::started, .outcome = {},
                                          .record = c.node(1).cfg().record, .ballot = 0, .detail = "x"};
  c.node(1).on_message(c.now(), MemberId{2}, change);
  c.node(1).on_message(c.now(), MemberId{2}, reply);
  EXPECT_EQ(c.node(1).stats().drops[static_cast<std::size_t>(DropReason::stranger)], 2u);
  EXPECT_FALSE(c.node(1).has_output()) << "no run started, nothing persisted";
  EXPECT_EQ(c.node(1).cfg().promised, 0u);
}

// ---- added by the unit-test pass ---------------------------------------------

TEST(Node, MessagesFromStrangersAndFromSelfAreDroppedAndCounted) {
  TestCluster c(3);
  const Message m = Request{.resource = ResourceName("r"),
                            .lease = LeaseId{.owner = MemberId{9}, .incarnation = Incarnation{1}, .serial = 1},
                            .ttl = Duration::s(1), .token = Token{5}};
  c.node(1).on_message(c.now(), MemberId{9}, m);  // not a member
  c.node(1).on_message(c.now(), MemberId{1}, m);  // claims to be us
  EXPECT_EQ(c.node(1).stats().drops[static_cast<std::size_t>(DropReason::stranger)], 2u);
  EXPECT_EQ(c.node(1).stats().requests, 0u);
  EXPECT_EQ(c.node(1).status().live_leases, 0u);
  EXPECT_FALSE(c.node(1).has_output());
}

TEST(Node, DelayedGrantForAnAbandonedAttemptIsReleased) {
  TestCluster c(3);
  auto a = c.acquire(1, "r", Duration::s(10), Duration::zero());  // one attempt
  // The requests to 2 and 3 are delayed past the attempt's deadline.
  auto delayed = c.network();
  c.network().clear();
  c.advance(Duration::ms(50));
  ASSERT_EQ(c.last_event(1, *a)->kind, EventKind::acquire_failed);
  for (auto& f : delayed) c.network().push_back(f);
  c.deliver_all();
  // 2 and 3 granted the stale request, member 1 answered with RELEASE, and
  // the resource is free again everywhere.
  EXPECT_EQ(c.node(1).stats().late_releases, 2u);
  for (std::uint32_t id : {1u, 2u, 3u}) EXPECT_EQ(c.node(id).status().live_leases, 0u) << id;
  auto b = c.acquire(2, "r", Duration::s(10), Duration::zero());
  c.deliver_all();
  EXPECT_EQ(c.last_event(2, *b)->kind, EventKind::acquired);
}

// Evictions are counted in the node's stats (Guarantee 4 is observable).
TEST(Node, EvictionsAreCountedInStats) {
  NodeConfig base;
  base.limits.idle_fences = 1;
  TestCluster c(3, base);
  for (const char* name : {"a", "b", "c"}) {
    auto id = c.acquire(1, name, Duration::s(10), Duration::s(1));
    c.deliver_all();
    ASSERT_TRUE(c.node(1).release(c.now(), *id).ok());
    c.collect(MemberId{1});
    c.deliver_all();
  }
  EXPECT_EQ(c.node(2).voter().table().evictions(), 2u);
  EXPECT_EQ(c.node(2).stats().evictions, c.node(2).voter().table().evictions());
}

// Issue 19: the status (PONG) says why a member is quarantined: the time
// its restart quarantine still runs, then the floor answers from peers it
// has and needs.
TEST(Node, PongSaysWhyAMemberIsQuarantined) {
  TestCluster c(3);
  const Pong fresh = c.node(1).pong(c.now(), 5);
  EXPECT_EQ(fresh.nonce, 5u);
  EXPECT_FALSE(fresh.quarantined);
  EXPECT_EQ(fresh.start, StartKind::first_start);
  EXPECT_EQ(fresh.quarantine_left, Duration::zero());

  c.crash(MemberId{2});
  c.start(MemberId{2}, RecoveryMode::peers);
  const Duration wait = drift::quarantine_end(c.now(), Duration::s(60), 10000) - c.now();
  Pong p = c.node(2).pong(c.now(), 6);
  EXPECT_TRUE(p.quarantined);
  EXPECT_EQ(p.start, StartKind::peers);
  EXPECT_EQ(p.quarantine_left, wait);
  EXPECT_EQ(p.floor_answers, 0u);
  EXPECT_EQ(p.floor_answers_needed, 2u);  // N - floor(R/2) = 3 - 1
  c.advance(Duration::s(1), {3});
  EXPECT_EQ(c.node(2).pong(c.now(), 7).quarantine_left, wait - Duration::s(1));

  // Quarantine over, member 3 cut off: one answer of the two it needs.
  c.advance(wait, {3});
  p = c.node(2).pong(c.now(), 8);
  EXPECT_TRUE(p.quarantined);
  EXPECT_EQ(p.quarantine_left, Duration::zero());
  EXPECT_EQ(p.floor_answers, 1u);
  EXPECT_EQ(p.floor_answers_needed, 2u);
  c.advance(Duration::s(1));
  p = c.node(2).pong(c.now(), 9);
  EXPECT_FALSE(p.quarantined);
  EXPECT_EQ(p.floor_answers, 2u);

  // A member recovering from its reservation needs no answers.
  c.crash(MemberId{3});
  c.start(MemberId{3}, RecoveryMode::reservation, Token{1ULL << 32});
  p = c.node(3).pong(c.now(), 10);
  EXPECT_TRUE(p.quarantined);
  EXPECT_EQ(p.start, StartKind::reservation);
  EXPECT_EQ(p.quarantine_left, wait);
  EXPECT_EQ(p.floor_answers_needed, 0u);
}

// ---- clients (issue 21) ------------------------------------------------------

constexpr MemberId kClient = client_id(0x1234567);

TEST(Node, ClientAcquiresRenewsAndReleasesThroughTheVoters) {
  TestCluster c(3);
  c.start_client(kClient, Incarnation{0xabcdef0123456789ULL});
  auto a = c.acquire(kClient.value, "r", Duration::s(10), Duration::s(1));
  ASSERT_TRUE(a.ok()) << a.what();
  // Not a voter itself: a REQUEST to each of the three members.
  ASSERT_EQ(c.network().size(), 3u);
  for (const InFlight& f : c.network()) {
    EXPECT_EQ(f.from, kClient);
    const auto* r = std::get_if<Request>(&f.msg);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->lease.owner, kClient);
    EXPECT_EQ(r->lease.incarnation, Incarnation{0xabcdef0123456789ULL});
  }
  c.deliver_all();
  auto ev = c.last_event(kClient.value, *a);
  ASSERT_TRUE(ev.has_value());
  ASSERT_EQ(ev->kind, EventKind::acquired);
  for (std::uint32_t m = 1; m <= 3; ++m) {
    const FenceTable::Entry* e = c.node(m).voter().table().find("r");
    ASSERT_TRUE(e && e->hold) << "member " << m;
    EXPECT_EQ(e->hold->holder, kClient);
  }
  ASSERT_TRUE(c.node(kClient.value).renew(c.now(), *a).ok());
  c.collect(kClient);
  c.deliver_all();
  EXPECT_EQ(c.last_event(kClient.value, *a)->kind, EventKind::renewed);
  // A member contends and is handed the lease when the client releases.
  auto b = c.acquire(2, "r", Duration::s(10), Duration::s(5));
  c.deliver_all();
  EXPECT_FALSE(c.last_event(2, *b).has_value());
  ASSERT_TRUE(c.node(kClient.value).release(c.now(), *a).ok());
  c.collect(kClient);
  c.advance(Duration::ms(50));
  auto got = c.last_event(2, *b);
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(got->kind, EventKind::acquired);
  EXPECT_GT(got->token, ev->token);
  // A client votes on nothing.
  EXPECT_EQ(c.node(kClient.value).stats().requests, 0u);
  EXPECT_EQ(c.node(kClient.value).status().live_leases, 0u);
}

TEST(Node, MemberReleasesAndTheWaitingClientIsHandedTheLease) {
  TestCluster c(3);
  c.start_client(kClient, Incarnation{77});
  auto a = c.acquire(1, "r", Duration::s(10), Duration::s(1));
  c.deliver_all();
  auto b = c.acquire(kClient.value, "r", Duration::s(10), Duration::s(5));
  c.deliver_all();
  EXPECT_FALSE(c.last_event(kClient.value, *b).has_value()) << "the client waits while member 1 holds";
  ASSERT_TRUE(c.node(1).release(c.now(), *a).ok());
  c.collect(MemberId{1});
  c.advance(Duration::ms(50));
  auto ev = c.last_event(kClient.value, *b);
  ASSERT_TRUE(ev.has_value());
  ASSERT_EQ(ev->kind, EventKind::acquired);
  EXPECT_GT(ev->token, c.last_event(1, *a)->token);
}

// Who may send what: a client sends a voter only REQUEST, RENEW, RELEASE and
// PING; a client takes only acquirer answers, and only from members.
TEST(Node, AClientNeitherVotesNorIsTakenForAVoter) {
  TestCluster c(3);
  c.start_client(kClient, Incarnation{5});
  const LeaseId lease{.owner = MemberId{2}, .incarnation = Incarnation{1}, .serial = 1};
  const auto stranger = [](Node& n) { return n.stats().drops[static_cast<std::size_t>(DropReason::stranger)]; };
  // At a voter, from the client: votes, floors and hints are a stranger's.
  const Message from_client[] = {
      Grant{.resource = ResourceName("r"), .lease = lease, .token = Token{9}, .handoff = false},
      Deny{.resource = ResourceName("r"), .lease = lease, .token = Token{9}, .reason = DenyReason::held},
      Free{.resource = ResourceName("r"), .fence = Token{9}, .waiters = 1},
      FloorQuery{.nonce = 1},
      FloorReply{.nonce = 1, .ready = true, .floor = Token{1u << 20}},
      IncarnationBehind{.seen = Incarnation{99}},
  };
  for (const Message& m : from_client) c.node(1).on_message(c.now(), kClient, m);
  EXPECT_EQ(stranger(c.node(1)), std::size(from_client));
  EXPECT_EQ(c.node(1).voter().table().floor(), Token{0});
  EXPECT_FALSE(c.node(1).has_output());
  // At the client, from a member: nothing a voter takes; from another client: nothing.
  const Message to_voter[] = {
      Request{.resource = ResourceName("r"), .lease = lease, .ttl = Duration::s(1), .token = Token{5}},
      Renew{.resource = ResourceName("r"), .lease = lease, .token = Token{5}, .ttl = Duration::s(1), .round = 1},
      Release{.resource = ResourceName("r"), .lease = lease, .token = Token{5}},
      FloorQuery{.nonce = 2},
  };
  for (const Message& m : to_voter) c.node(kClient.value).on_message(c.now(), MemberId{2}, m);
  c.node(kClient.value).on_message(c.now(), client_id(42), Ping{.nonce = 3});
  EXPECT_EQ(stranger(c.node(kClient.value)), std::size(to_voter) + 1);
  EXPECT_EQ(c.node(kClient.value).status().live_leases, 0u);
  EXPECT_FALSE(c.node(kClient.value).has_output());
  // What a client may send is taken: a PING is answered with a PONG to it.
  c.node(1).on_message(c.now(), kClient, Ping{.nonce = 4});
  c.collect(MemberId{1});
  ASSERT_EQ(c.network().size(), 1u);
  EXPECT_EQ(c.network().front().to, kClient);
  EXPECT_TRUE(std::holds_alternative<Pong>(c.network().front().msg));
}

// A client's RENEW that arrives after its RELEASE (reordered, or replayed
// once the voter's replay state for it was evicted) changes nothing.
TEST(Node, ARenewAfterItsReleaseDoesNotResurrectTheLease) {
  TestCluster c(3);
  c.start_client(kClient, Incarnation{6});
  auto a = c.acquire(kClient.value, "r", Duration::s(10), Duration::s(1));
  c.deliver_all();
  ASSERT_EQ(c.last_event(kClient.value, *a)->kind, EventKind::acquired);
  // Capture the client's RENEW to member 1, then release.
  ASSERT_TRUE(c.node(kClient.value).renew(c.now(), *a).ok());
  c.collect(kClient);
  std::optional<Message> renew;
  for (const InFlight& f : c.network())
    if (f.to == MemberId{1}) renew = f.msg;
  ASSERT_TRUE(renew.has_value());
  c.network().clear();
  ASSERT_TRUE(c.node(kClient.value).release(c.now(), *a).ok());
  c.collect(kClient);
  c.deliver_all();
  ASSERT_FALSE(c.node(1).voter().table().find("r")->hold.has_value());
  c.node(1).on_message(c.now(), kClient, *renew);
  c.collect(MemberId{1});
  EXPECT_FALSE(c.node(1).voter().table().find("r")->hold.has_value()) << "a released lease stays released";
  ASSERT_EQ(c.network().size(), 1u);
  const auto* ack = std::get_if<RenewAck>(&c.network().front().msg);
  ASSERT_NE(ack, nullptr);
  EXPECT_FALSE(ack->ok);
  EXPECT_EQ(ack->reason, DenyReason::not_current);
}

// Once a voter evicted a client life's replay window, that life's old
// datagrams may be accepted once more: each acts as a late duplicate and
// changes nothing that matters (docs/protocol.md "Clients").
TEST(Node, ReplaysOfAnEvictedClientsDatagramsChangeNothingThatMatters) {
  TestCluster c(3);
  c.start_client(kClient, Incarnation{8});
  // The client's whole conversation with member 1, captured.
  std::vector<Message> captured;
  const auto capture_to_1 = [&] {
    for (const InFlight& f : c.network())
      if (f.from == kClient && f.to == MemberId{1}) captured.push_back(f.msg);
  };
  auto a = c.acquire(kClient.value, "r", Duration::s(10), Duration::s(1));
  capture_to_1();
  c.deliver_all();
  ASSERT_EQ(c.last_event(kClient.value, *a)->kind, EventKind::acquired);
  ASSERT_TRUE(c.node(kClient.value).renew(c.now(), *a).ok());
  c.collect(kClient);
  capture_to_1();
  c.deliver_all();
  ASSERT_TRUE(c.node(kClient.value).release(c.now(), *a).ok());
  c.collect(kClient);
  capture_to_1();
  c.deliver_all();
  ASSERT_EQ(captured.size(), 3u);  // REQUEST, RENEW, RELEASE
  // The client exits; member 2 takes the resource.
  c.crash(kClient);
  auto b = c.acquire(2, "r", Duration::s(10), Duration::s(1));
  c.deliver_all();
  const auto held_b = c.last_event(2, *b);
  ASSERT_EQ(held_b->kind, EventKind::acquired);
  const FenceTable::Entry& now_entry = *c.node(1).voter().table().find("r");
  ASSERT_TRUE(now_entry.hold.has_value());
  const Hold before_hold = *now_entry.hold;
  const Token before_fence = now_entry.fence;
  const std::size_t before_waiters = c.node(1).voter().table().waiters();
  // Every captured datagram again, in order and reversed.
  for (int round = 0; round < 2; ++round) {
    for (const Message& m : captured) c.node(1).on_message(c.now(), kClient, m);
    std::reverse(captured.begin(), captured.end());
  }
  c.collect(MemberId{1});
  const FenceTable::Entry& after = *c.node(1).voter().table().find("r");
  ASSERT_TRUE(after.hold.has_value());
  EXPECT_EQ(after.hold->lease, before_hold.lease) << "member 2 still holds at member 1";
  EXPECT_EQ(after.hold->expiry, before_hold.expiry);
  EXPECT_EQ(after.fence, before_fence) << "no fence moved";
  // The replayed REQUEST found the resource held, so it was denied and kept
  // as a waiter, as any late duplicate is (the waiter tables bound them);
  // its token is below the fence, so it can never be handed the lease.
  EXPECT_EQ(c.node(1).voter().table().waiters(), before_waiters + 1);
  // Member 2's lease is untouched; once it is released the resource is free
  // (no replayed lease was stored as a waiter or a hold).
  ASSERT_TRUE(c.node(2).release(c.now(), *b).ok());
  c.collect(MemberId{2});
  c.deliver_all();
  EXPECT_FALSE(c.node(1).voter().table().find("r")->hold.has_value()) << "no hand-off to the replayed request";
  EXPECT_EQ(c.node(1).voter().table().waiters(), 0u);
  auto d = c.acquire(3, "r", Duration::s(10), Duration::zero());
  c.deliver_all();
  ASSERT_EQ(c.last_event(3, *d)->kind, EventKind::acquired);
  EXPECT_GT(c.last_event(3, *d)->token, held_b->token);
}

// Issue 21 (V1, V2, A1, A2): a record that reached one voter spreads through
// the acquirers' requests. Member 2 alone adopted (2, 1) (same voters).
// Member 1's first attempt is tagged (1, 0): member 2 denies `config` with
// its record, which member 1 learns, and the attempt fails at once (A2: its
// grants counted under (1, 0) are given back). The retry is tagged (2, 1):
// voters 1 and 3 are behind and say so; the next retry carries the record to
// them, they adopt it, and it wins. A second acquire wins at once.
TEST(Node, ANewerRecordSpreadsThroughRequestsAndDenials) {
  TestCluster c(3);
  const CfgRecord next{.id = {2, 1}, .old_voters = {MemberId{1}, MemberId{2}, MemberId{3}}, .new_voters = {},
                       .floor = {}};
  EXPECT_EQ(c.node(2).propose_config(c.now(), next), CfgAccept::accepted);
  EXPECT_EQ(c.node(2).cfg().record, next);

  auto first = c.acquire(1, "r", Duration::s(10), Duration::s(1));
  ASSERT_TRUE(first.ok());
  c.deliver_all();
  ASSERT_TRUE(c.last_event(1, *first).has_value());
  EXPECT_EQ(c.last_event(1, *first)->kind, EventKind::acquired);
  EXPECT_EQ(c.node(1).acquirer().cfg().id, next.id);  // learned from member 2's denial
  EXPECT_EQ(c.node(1).stats().configs_learned, 1u);
  EXPECT_EQ(c.node(2).stats().denials_by_reason[static_cast<std::size_t>(DenyReason::config)], 1u);
  EXPECT_EQ(c.node(3).stats().denials_by_reason[static_cast<std::size_t>(DenyReason::behind)], 1u);
  for (std::uint32_t m = 1; m <= 3; ++m) EXPECT_EQ(c.node(m).cfg().record, next) << "member " << m;
  EXPECT_EQ(c.node(1).stats().stale_retries, 2u);  // under the learned record, then carrying it

  auto second = c.acquire(1, "s", Duration::s(10), Duration::s(1));
  ASSERT_TRUE(second.ok());
  c.deliver_all();
  ASSERT_TRUE(c.last_event(1, *second).has_value());
  EXPECT_EQ(c.last_event(1, *second)->kind, EventKind::acquired);
  EXPECT_EQ(c.node(1).stats().stale_retries, 2u);
}

// Issue 21, step 3, end to end through the Nodes: member 1 removes member 3.
// The change commits; every member holds the final record (member 3, the
// one removed, too: the driver tells it), member 3 says not_voter, and
// member 1 acquires with voters 1 and 2 alone.
TEST(Node, AReconfigurationRemovesAVoter) {
  NodeConfig base;
  base.persist = true;
  base.ttl_max = Duration::s(1);
  TestCluster c(3, base);
  ASSERT_TRUE(c.node(1).reconfigure(c.now(), {MemberId{2}, MemberId{1}}).ok());
  c.collect(MemberId{1});
  c.deliver_all();
  c.advance(Duration::s(3));
  ASSERT_EQ(c.reconfigured(1).size(), 1u);
  const ReconfigResult& r = c.reconfigured(1).front();
  EXPECT_EQ(r.outcome, ReconfigOutcome::committed) << r.detail;
  EXPECT_TRUE(r.requested) << "the run Node::reconfigure started, not a repair";
  EXPECT_EQ(r.record.old_voters, (std::vector<MemberId>{MemberId{1}, MemberId{2}}));
  EXPECT_EQ(r.record.id.epoch, 3u);
  for (std::uint32_t m = 1; m <= 3; ++m) EXPECT_EQ(c.node(m).cfg().record, r.record) << "member " << m;
  c.crash(MemberId{3});
  auto a = c.acquire(1, "r", Duration::ms(500), Duration::s(1));
  ASSERT_TRUE(a.ok());
  c.deliver_all();
  // The voters persist a floor reservation before their first grant: the
  // writes complete.
  for (std::uint32_t m : {1u, 2u}) {
    if (auto it = c.persists().find(m); it != c.persists().end()) {
      c.node(m).on_persisted(c.now(), it->second);
      c.collect(MemberId{m});
    }
  }
  c.deliver_all();
  ASSERT_TRUE(c.last_event(1, *a).has_value());
  EXPECT_EQ(c.last_event(1, *a)->kind, EventKind::acquired) << "voters 1 and 2 are a majority of [1,2]";
}

TEST(Node, ReconfigureRefusesBadVotersAndAMemberWithoutAStateDirectory) {
  TestCluster diskless(3);
  const auto r = diskless.node(1).reconfigure(diskless.now(), {MemberId{1}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Errc::invalid_argument);
  EXPECT_NE(std::string(r.error().what).find("no state directory"), std::string::npos) << r.error().what;
  NodeConfig base;
  base.persist = true;
  TestCluster c(3, base);
  const auto none = c.node(1).reconfigure(c.now(), {});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(std::string(none.error().what).find("empty"), std::string::npos);
  const auto stranger = c.node(1).reconfigure(c.now(), {MemberId{1}, MemberId{9}});
  ASSERT_FALSE(stranger.ok());
  EXPECT_NE(std::string(stranger.error().what).find("voter 9 is not among the 3 members"), std::string::npos)
      << stranger.error().what;
  const auto twice = c.node(1).reconfigure(c.now(), {MemberId{1}, MemberId{1}});
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(std::string(twice.error().what).find("voter 1 is listed twice"), std::string::npos);
  ASSERT_TRUE(c.node(1).reconfigure(c.now(), {MemberId{1}, MemberId{2}}).ok());
  const auto busy = c.node(1).reconfigure(c.now(), {MemberId{1}});
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.code(), Errc::busy);
  EXPECT_EQ(c.node(1).cfg().record.id, initial_cfg_id) << "nothing adopted by a refused call";
}

// Issue 21: a member that lost its state learns its floor, its record and
// its promise from its peers, and the answers it needs depend on the record
// (core/recovery.hpp (c)). Five members, voters [1,2,3] after a change;
// member 2 acquires with voters 2 and 3 alone, so only they store the token.
// Member 3 loses its state and restarts knowing only the initial record
// (every member votes). Answers from 1, 4 and 5, which would do for the
// initial record, are not enough: 2 must answer too, since [2,3] is a
// majority of [1,2,3]. Then it votes under [1,2,3] with a floor above the
// token, and took no part in the change traffic before.
TEST(Node, AMemberThatLostItsStateLearnsTheRecordAndNeedsEveryMajorityOfItsVoters) {
  NodeConfig base;
  base.persist = true;
  base.ttl_max = Duration::s(1);
  TestCluster c(5, base);
  ASSERT_TRUE(c.node(1).reconfigure(c.now(), {MemberId{1}, MemberId{2}, MemberId{3}}).ok());
  c.collect(MemberId{1});
  c.advance(Duration::s(3));
  ASSERT_EQ(c.reconfigured(1).size(), 1u);
  const CfgRecord record = c.reconfigured(1).front().record;
  ASSERT_EQ(c.reconfigured(1).front().outcome, ReconfigOutcome::committed) << c.reconfigured(1).front().detail;
  ASSERT_EQ(record.old_voters, (std::vector<MemberId>{MemberId{1}, MemberId{2}, MemberId{3}}));

  auto a = c.acquire(2, "r", Duration::ms(500), Duration::s(1));
  ASSERT_TRUE(a.ok());
  for (int round = 0; round < 3; ++round) {
    c.deliver_all({1});
    for (std::uint32_t m : {2u, 3u}) {
      if (auto it = c.persists().find(m); it != c.persists().end()) {
        c.node(m).on_persisted(c.now(), it->second);
        c.collect(MemberId{m});
      }
    }
  }
  c.deliver_all({1});
  ASSERT_TRUE(c.last_event(2, *a).has_value());
  ASSERT_EQ(c.last_event(2, *a)->kind, EventKind::acquired);
  const Token granted = c.last_event(2, *a)->token;
  ASSERT_LT(c.node(1).voter().max_token(), granted) << "member 1 must not have stored the token";

  c.crash(MemberId{3});
  c.start(MemberId{3}, RecoveryMode::peers, {}, /*persist=*/true);
  EXPECT_EQ(c.node(3).cfg().record.id, initial_cfg_id);
  // A driver's read reaches it while it learns: it does not answer.
  c.advance(Duration::s(5), {2});
  EXPECT_TRUE(c.node(3).recovery().quarantine_over());
  EXPECT_FALSE(c.node(3).recovery().floor_known()) << "answers of 1, 4 and 5 miss the majority [2,3]";
  EXPECT_GE(c.node(3).recovery().answers(), 3u);
  EXPECT_EQ(c.node(3).recovery().record().id, record.id) << "learned from member 1's answer";
  const auto refused = c.node(3).reconfigure(c.now(), {MemberId{3}, MemberId{4}});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.code(), Errc::unavailable) << refused.error().what;

  c.advance(Duration::s(5));
  ASSERT_TRUE(c.node(3).recovery().ready());
  EXPECT_GE(c.node(3).recovery().floor(), granted);
  EXPECT_GE(c.node(3).voter().table().floor(), granted);
  EXPECT_EQ(c.node(3).cfg().record, record);
  EXPECT_GE(c.node(3).cfg().promised, record.id.ballot);
}


// Pumps the network, dropping what `drop` says.
void pump(TestCluster& c, const std::function<bool(const InFlight&)>& drop) {
  for (std::size_t n = 0; !c.network().empty() && n < 100000; ++n) {
    InFlight f = std::move(c.network().front());
    c.network().pop_front();
    if (drop(f)) continue;
    c.node(f.to.value).on_message(c.now(), f.from, f.msg);
    c.collect(f.to);
  }
}
void sync_persists(TestCluster& c, std::initializer_list<std::uint32_t> ms) {
  for (std::uint32_t m : ms) {
    if (auto it = c.persists().find(m); it != c.persists().end()) {
      c.node(m).on_persisted(c.now(), it->second);
      c.collect(MemberId{m});
    }
  }
}

// Issue 21 (recovery.hpp (d), found by a review): a previous life's
// CONFIG_ACK counted by a driver after the new life recovered. Member 1
// moves five voters to [1,2]; the joint proposal reaches only member 3,
// which acks it, then loses its state and recovers from 2, 4 and 5 (still at
// K) while member 1 is cut off. Without the fence, member 1's re-send then
// commits the joint record with 1, 3's old ack and 2, the final [1,2]
// follows, and members 3, 4, 5 still at K grant r to member 4 while 1 and 2
// grant it to member 1: two leases at once. With it, 2, 4 and 5 promised the
// recovering member's ballot, above the driver's, and the joint record
// cannot commit without it hearing of it.
TEST(Node, APreviousLifesConfigAckCannotCommitPastTheRecoveryFence) {
  NodeConfig base;
  base.persist = true;
  base.ttl_max = Duration::s(1);
  TestCluster c(5, base);
  const MemberId m1{1}, m2{2}, m3{3};
  ASSERT_TRUE(c.node(1).reconfigure(c.now(), {m1, m2}).ok());
  c.collect(m1);
  pump(c, [](const InFlight& f) {
    const auto* p = std::get_if<ConfigPropose>(&f.msg);
    return p && p->record.joint() && f.to.value != 3;
  });
  ASSERT_EQ(c.node(3).cfg().record.id.epoch, 2u) << "member 3 holds the joint record";
  const CfgId k = c.node(2).cfg().record.id;
  const std::uint64_t driver_ballot = c.node(1).reconfigurer().ballot();
  c.crash(m3);
  c.start(m3, RecoveryMode::peers, {}, /*persist=*/true);
  c.advance(Duration::s(3), {1});
  ASSERT_TRUE(c.node(3).recovery().ready());
  EXPECT_GT(c.node(3).recovery().fence_ballot(), driver_ballot);
  for (std::uint32_t m : {2u, 4u, 5u}) {
    EXPECT_GE(c.node(m).cfg().promised, c.node(3).recovery().fence_ballot()) << "member " << m << " promised the fence";
  }
  // The driver comes back; 3, 4 and 5 are cut off from 1 and 2 from now on.
  c.advance(Duration::s(4), {3, 4, 5});
  bool committed = false;
  for (const ReconfigResult& r : c.reconfigured(1)) committed |= r.outcome == ReconfigOutcome::committed;
  EXPECT_FALSE(committed) << "the joint record needed member 3's old ack";
  EXPECT_EQ(c.node(2).cfg().record.id, k);
  auto a4 = c.acquire(4, "r", Duration::s(1), Duration::s(1));
  ASSERT_TRUE(a4.ok());
  for (int i = 0; i < 3; ++i) {
    c.deliver_all({1, 2});
    sync_persists(c, {3, 4, 5});
  }
  c.deliver_all({1, 2});
  auto a1 = c.acquire(1, "r", Duration::s(1), Duration::s(1));
  ASSERT_TRUE(a1.ok());
  for (int i = 0; i < 3; ++i) {
    c.deliver_all({3, 4, 5});
    sync_persists(c, {1, 2});
  }
  c.deliver_all({3, 4, 5});
  const auto acquired = [&](std::uint32_t m, AcquireId a) {
    const auto e = c.last_event(m, a);
    return e.has_value() && e->kind == EventKind::acquired;
  };
  const bool held4 = acquired(4, *a4);
  const bool held1 = acquired(1, *a1);
  EXPECT_FALSE(held4 && held1) << "two leases on r at once";
  EXPECT_TRUE(held4) << "3, 4 and 5 are a majority of K";
}

}  // namespace
}  // namespace baton::core
