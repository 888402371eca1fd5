// SPDX-License-Identifier: Apache-2.0
// recovery.hpp: restart quarantine and floor learning (DESIGN "Restart").
// Recovery is driven directly with a recording Sink; the last tests run the
// same through Node in the in-memory TestCluster.
#include "core/recovery.hpp"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "core/acquirer.hpp"
#include "test_cluster.hpp"

namespace baton::core {
namespace {

class FakeSink final : public Sink {
 public:
  void send(MemberId to, Message msg) override { sent.emplace_back(to, std::move(msg)); }
  void emit(Event e) override { events.push_back(std::move(e)); }
  void persist(Token) override {}
  void persist_config(const CfgState&) override {}
  NodeStats& stats() override { return st; }
  void observe_token(Token) override {}

  std::vector<std::pair<MemberId, FloorQuery>> queries() const {
    std::vector<std::pair<MemberId, FloorQuery>> out;
    for (const auto& [to, m] : sent)
      if (const auto* q = std::get_if<FloorQuery>(&m)) out.emplace_back(to, *q);
    return out;
  }

  std::vector<std::pair<MemberId, Message>> sent;
  std::vector<Event> events;
  NodeStats st;
};

const Instant T0 = Instant::from_ns(5'000'000'000);

NodeConfig config(std::uint32_t n, RecoveryMode mode, std::uint32_t replicas = 5) {
  NodeConfig c;
  for (std::uint32_t i = 1; i <= n; ++i) c.members.push_back(MemberId{i});
  c.self = MemberId{1};
  c.incarnation = Incarnation{2};
  c.replicas = replicas;
  c.recovery = mode;
  c.persist = mode == RecoveryMode::reservation;
  return c;
}

// start + ceil(ttl_max·(1e6+rho)/(1e6−rho)), from the definition. ttl_max is
// at most 1 hour (3.6e12 ns), so the product stays below 4e18.
Instant expected_quarantine_end(Instant start, Duration ttl_max, std::uint32_t rho_ppm) {
  const std::int64_t num = ttl_max.count_ns() * (1'000'000 + rho_ppm);
  const std::int64_t den = 1'000'000 - rho_ppm;
  return Instant::from_ns(start.ns() + (num + den - 1) / den);
}

FloorReply reply(std::uint64_t nonce, std::uint64_t floor, bool ready = true) {
  return FloorReply{.nonce = nonce, .ready = ready, .floor = Token{floor}};
}

// Past the quarantine, the first query's nonce (peers mode).
std::uint64_t past_quarantine(Recovery& r, FakeSink& s) {
  r.start(T0, s);
  r.on_deadline(r.quarantine_end(), s);
  EXPECT_FALSE(s.queries().empty());
  return s.queries().front().second.nonce;
}

// Issue 21 (recovery.hpp (c)): the answers needed follow the newest record
// heard, a majority of each of its voter sets covered; the record and the
// highest promise heard are what the member adopts.
TEST(Recovery, TheAnswersNeededFollowTheNewestRecordHeard) {
  NodeConfig cfg = config(5, RecoveryMode::peers);
  cfg.self = MemberId{3};
  Rng rng(1);
  Recovery r(cfg, T0, rng);  // the initial record: every member votes
  FakeSink s;
  const std::uint64_t nonce = past_quarantine(r, s);
  EXPECT_EQ(r.answers_needed(), 3u) << "N - floor(N/2) of the initial record, as before";
  const CfgRecord joint{.id = {4, 7}, .old_voters = {MemberId{1}, MemberId{2}, MemberId{3}},
                        .new_voters = {MemberId{3}, MemberId{4}, MemberId{5}}, .floor = {}};
  FloorReply with = reply(nonce, 10);
  with.record = joint;
  with.promised = 9;
  r.on_floor_reply(T0, MemberId{1}, with, &*with.record);
  r.on_floor_reply(T0, MemberId{2}, reply(nonce, 20));
  r.on_floor_reply(T0, MemberId{4}, reply(nonce, 5));
  // Three answers would do for the initial record; [3,4,5] still lacks 5
  // (this member and 5 are a majority of it).
  EXPECT_FALSE(r.floor_known());
  EXPECT_EQ(r.answers_needed(), 4u);
  EXPECT_EQ(r.record(), joint);
  EXPECT_EQ(r.promised(), 9u);
  r.on_floor_reply(T0, MemberId{5}, reply(nonce, 7));
  EXPECT_TRUE(r.floor_known());
  EXPECT_EQ(r.floor(), Token{20});
}

TEST(Recovery, AVoterSetOfThisMemberAloneCannotBeRecovered) {
  NodeConfig cfg = config(3, RecoveryMode::peers);
  Rng rng(1);
  const CfgRecord alone{.id = {3, 1}, .old_voters = {MemberId{1}}, .new_voters = {}, .floor = {}};
  Recovery r(cfg, T0, rng, alone);
  FakeSink s;
  const std::uint64_t nonce = past_quarantine(r, s);
  r.on_floor_reply(T0, MemberId{2}, reply(nonce, 1));
  r.on_floor_reply(T0, MemberId{3}, reply(nonce, 1));
  EXPECT_FALSE(r.floor_known()) << "only this member stored the tokens of [1]";
  EXPECT_GT(r.answers_needed(), r.answers());
}

TEST(Recovery, ScaleModeKeepsTheRuleOfTheReplicas) {
  NodeConfig cfg = config(7, RecoveryMode::peers, /*replicas=*/3);
  Rng rng(1);
  Recovery r(cfg, T0, rng);
  FakeSink s;
  const std::uint64_t nonce = past_quarantine(r, s);
  EXPECT_EQ(r.answers_needed(), 6u) << "N - floor(R/2)";
  for (std::uint32_t m = 2; m <= 6; ++m) r.on_floor_reply(T0, MemberId{m}, reply(nonce, m));
  EXPECT_FALSE(r.floor_known());
  r.on_floor_reply(T0, MemberId{7}, reply(nonce, 1));
  EXPECT_TRUE(r.floor_known());
}

TEST(Recovery, FirstStartIsReadyAtOnce) {
  const NodeConfig cfg = config(3, RecoveryMode::first_start);
  Rng rng(1);
  Recovery r(cfg, T0, rng);
  FakeSink s;
  r.start(T0, s);
  EXPECT_TRUE(r.ready());
  EXPECT_TRUE(r.floor_known());
  EXPECT_EQ(r.floor(), Token{0});
  EXPECT_EQ(r.quarantine_end(), T0);
  EXPECT_EQ(r.next_deadline(), Instant::max());
  EXPECT_TRUE(s.sent.empty()) << "no peers asked";
}

TEST(Recovery, ReservationModeIsQuarantinedThenReadyWithTheReservationAsFloor) {
  struct Case {
    Duration ttl_max;
    std::uint32_t rho_ppm;
    std::uint64_t reservation;
  };
  const Case cases[] = {
      {.ttl_max = Duration::s(60), .rho_ppm = 10'000, .reservation = 1ULL << 32},
      {.ttl_max = Duration::s(1), .rho_ppm = 100'000, .reservation = 5},
      {.ttl_max = Duration::s(3600), .rho_ppm = 100'000, .reservation = 0},
      {.ttl_max = Duration::ms(10), .rho_ppm = 1, .reservation = UINT64_MAX},
  };
  for (const Case& c : cases) {
    NodeConfig cfg = config(3, RecoveryMode::reservation);
    cfg.ttl_max = c.ttl_max;
    cfg.rho_ppm = c.rho_ppm;
    cfg.recovered_reservation = Token{c.reservation};
    Rng rng(1);
    Recovery r(cfg, T0, rng);
    FakeSink s;
    r.start(T0, s);
    const Instant qend = expected_quarantine_end(T0, c.ttl_max, c.rho_ppm);
    EXPECT_EQ(r.quarantine_end(), qend);
    EXPECT_TRUE(r.floor_known());
    EXPECT_EQ(r.floor(), Token{c.reservation});
    EXPECT_FALSE(r.ready());
    EXPECT_EQ(r.next_deadline(), qend);
    EXPECT_TRUE(s.sent.empty()) << "no peers needed";
    r.on_deadline(qend - Duration::ns(1), s);
    EXPECT_FALSE(r.ready()) << "one ns early";
    r.on_deadline(qend, s);
    EXPECT_TRUE(r.ready());
    EXPECT_EQ(r.next_deadline(), Instant::max());
  }
}

TEST(Recovery, PeersModeAnswersNeeded) {
  // N − floor(R/2) recovered answers, R = min(replicas, N).
  struct Case {
    std::uint32_t members;
    std::uint32_t replicas;
    std::size_t needed;
  };
  const Case cases[] = {
      {.members = 2, .replicas = 5, .needed = 1},  // R = 2
      {.members = 3, .replicas = 3, .needed = 2},
      {.members = 3, .replicas = 5, .needed = 2},  // R = 3
      {.members = 4, .replicas = 5, .needed = 2},  // R = 4
      {.members = 5, .replicas = 5, .needed = 3},
      {.members = 7, .replicas = 5, .needed = 5},
      {.members = 9, .replicas = 3, .needed = 8},
      {.members = 9, .replicas = 9, .needed = 5},
  };
  for (const Case& c : cases) {
    const NodeConfig cfg = config(c.members, RecoveryMode::peers, c.replicas);
    Rng rng(3);
    Recovery r(cfg, T0, rng);
    FakeSink s;
    r.start(T0, s);
    EXPECT_EQ(r.answers_needed(), c.needed) << c.members << "/" << c.replicas;
    EXPECT_TRUE(s.queries().empty()) << "no query before the quarantine is over";
    r.on_deadline(r.quarantine_end(), s);
    const auto q = s.queries();
    ASSERT_EQ(q.size(), c.members - 1u) << "every other member asked";
    for (const auto& [to, m] : q) {
      EXPECT_NE(to, cfg.self);
      EXPECT_EQ(m.nonce, q[0].second.nonce);
    }
    const std::uint64_t nonce = q[0].second.nonce;
    // Answers from members 2, 3, ...: the floor is known at exactly `needed`.
    std::uint64_t highest = 0;
    for (std::uint32_t k = 0; k < c.needed; ++k) {
      EXPECT_FALSE(r.floor_known()) << c.members << "/" << c.replicas << " after " << k;
      const std::uint64_t f = 100 + (k * 37) % 50;
      highest = std::max(highest, f);
      r.on_floor_reply(T0, MemberId{k + 2}, reply(nonce, f));
      EXPECT_EQ(r.answers(), k + 1u);
    }
    EXPECT_TRUE(r.floor_known()) << c.members << "/" << c.replicas;
    EXPECT_EQ(r.floor(), Token{highest}) << "the max of the answers";
    EXPECT_TRUE(r.ready()) << "quarantine over and floor known";
  }
}

TEST(Recovery, PeersModeIgnoresNotReadyWrongNonceSelfAndDuplicates) {
  const NodeConfig cfg = config(5, RecoveryMode::peers);  // needs 3
  Rng rng(4);
  Recovery r(cfg, T0, rng);
  FakeSink s;
  r.start(T0, s);
  r.on_deadline(r.quarantine_end(), s);
  const std::uint64_t nonce = s.queries().at(0).second.nonce;
  struct Step {
    const char* what;
    std::uint32_t from;
    FloorReply reply;
    std::size_t answers;  // afterwards
  };
  const Step steps[] = {
      {.what = "not ready", .from = 2, .reply = reply(nonce, 999, false), .answers = 0},
      {.what = "wrong nonce", .from = 2, .reply = reply(nonce + 2, 999), .answers = 0},
      {.what = "from self", .from = 1, .reply = reply(nonce, 999), .answers = 0},
      {.what = "good", .from = 2, .reply = reply(nonce, 10), .answers = 1},
      {.what = "duplicate", .from = 2, .reply = reply(nonce, 11), .answers = 1},
      {.what = "good", .from = 3, .reply = reply(nonce, 7), .answers = 2},
  };
  for (const Step& st : steps) {
    r.on_floor_reply(T0, MemberId{st.from}, st.reply);
    EXPECT_EQ(r.answers(), st.answers) << st.what;
    EXPECT_FALSE(r.floor_known()) << st.what;
  }
  r.on_floor_reply(T0, MemberId{5}, reply(nonce, 8));
  EXPECT_TRUE(r.floor_known());
  // 999 came only with ignored answers; the duplicate from 2 still counted its floor.
  EXPECT_EQ(r.floor(), Token{11});
  // Answers after the floor is known change nothing.
  r.on_floor_reply(T0, MemberId{4}, reply(nonce, 5000));
  EXPECT_EQ(r.floor(), Token{11});
}

TEST(Recovery, PeersModeQueriesAgainUntilAnswered) {
  struct Case {
    Duration rtt_initial;
    Duration attempt_timeout_min;
    Duration every;  // max(8·rtt_initial, 4·attempt_timeout_min)
  };
  const Case cases[] = {
      {.rtt_initial = Duration::ms(1), .attempt_timeout_min = Duration::ms(2), .every = Duration::ms(8)},
      {.rtt_initial = Duration::ms(5), .attempt_timeout_min = Duration::ms(2), .every = Duration::ms(40)},
      {.rtt_initial = Duration::us(10), .attempt_timeout_min = Duration::ms(3), .every = Duration::ms(12)},
  };
  for (const Case& c : cases) {
    NodeConfig cfg = config(3, RecoveryMode::peers);
    cfg.rtt_initial = c.rtt_initial;
    cfg.attempt_timeout_min = c.attempt_timeout_min;
    Rng rng(5);
    Recovery r(cfg, T0, rng);
    FakeSink s;
    r.start(T0, s);
    EXPECT_TRUE(s.queries().empty());
    EXPECT_EQ(r.next_deadline(), r.quarantine_end());
    // The first query goes out when the quarantine ends (peer_recovery_late_commit).
    const Instant q0 = r.quarantine_end();
    r.on_deadline(q0, s);
    ASSERT_EQ(s.queries().size(), 2u);
    const std::uint64_t nonce = s.queries()[0].second.nonce;
    EXPECT_EQ(r.next_deadline(), q0 + c.every);
    r.on_deadline(q0 + c.every - Duration::ns(1), s);
    EXPECT_EQ(s.queries().size(), 2u) << "not early";
    r.on_deadline(q0 + c.every, s);
    ASSERT_EQ(s.queries().size(), 4u);
    EXPECT_EQ(s.queries()[3].second.nonce, nonce) << "one nonce per life: answers accumulate across resends";
    EXPECT_EQ(r.next_deadline(), q0 + c.every * 2);
    // Answers to the first query still count after the resend.
    r.on_floor_reply(q0 + c.every, MemberId{2}, reply(nonce, 3));
    r.on_floor_reply(q0 + c.every, MemberId{3}, reply(nonce, 4));
    ASSERT_TRUE(r.floor_known());
    EXPECT_TRUE(r.ready());
    EXPECT_EQ(r.next_deadline(), Instant::max()) << "no more queries once the floor is known";
    r.on_deadline(q0 + c.every * 5, s);
    EXPECT_EQ(s.queries().size(), 4u);
  }
}

// ---- through Node ----------------------------------------------------------

using testing::TestCluster;

TEST(Recovery, RestartedPeerLearnsTheFloorAndVotesAfterQuarantine) {
  TestCluster c(3);
  auto a = c.acquire(1, "r", Duration::s(10), Duration::s(1));
  c.deliver_all();
  const Token t = c.last_event(1, *a)->token;
  ASSERT_TRUE(c.node(1).release(c.now(), *a).ok());
  c.collect(MemberId{1});
  c.deliver_all();
  c.crash(MemberId{3});
  const Instant started = c.now();
  c.start(MemberId{3}, RecoveryMode::peers);
  c.deliver_all();
  // No query before the quarantine ends: answers given earlier could miss a
  // majority that the previous life's in-flight grants complete later.
  EXPECT_TRUE(c.network().empty());
  EXPECT_FALSE(c.node(3).recovery().floor_known());
  EXPECT_TRUE(c.node(3).status().quarantined);
  const Instant qend = expected_quarantine_end(started, Duration::s(60), 10'000);
  EXPECT_EQ(c.node(3).recovery().quarantine_end(), qend);
  c.advance(qend - c.now() - Duration::ns(1));
  EXPECT_TRUE(c.node(3).status().quarantined);
  c.advance(Duration::ns(1));  // quarantine over: query, both others answer
  EXPECT_TRUE(c.node(3).recovery().floor_known());
  EXPECT_GE(c.node(3).status().floor, t);
  EXPECT_GE(c.node(3).acquirer().hint(), t) << "its own proposals start above what it learned";
  EXPECT_FALSE(c.node(3).status().quarantined);
  EXPECT_EQ(check_invariants(c.node(3)), "");
}

TEST(Recovery, QuarantinedPeerDeniesAndTheOthersStillGrant) {
  TestCluster c(3);
  c.crash(MemberId{3});
  c.start(MemberId{3}, RecoveryMode::peers);
  c.deliver_all();
  auto a = c.acquire(1, "r", Duration::s(10), Duration::s(1));
  c.deliver_all();
  ASSERT_EQ(c.last_event(1, *a)->kind, EventKind::acquired);
  EXPECT_EQ(c.node(3).stats().denials_by_reason[static_cast<std::size_t>(DenyReason::quarantined)], 1u);
  EXPECT_EQ(c.node(3).status().live_leases, 0u);
}

TEST(Recovery, PeersAloneCannotRestartAMajority) {
  // N = 3 needs both others recovered; with 2 and 3 restarted together each
  // hears only member 1 ready, so both stay out, also after the quarantine.
  TestCluster c(3);
  c.crash(MemberId{2});
  c.crash(MemberId{3});
  c.start(MemberId{2}, RecoveryMode::peers);
  c.start(MemberId{3}, RecoveryMode::peers);
  c.advance(Duration::s(70));
  for (std::uint32_t id : {2u, 3u}) {
    EXPECT_FALSE(c.node(id).recovery().floor_known()) << id;
    EXPECT_EQ(c.node(id).recovery().answers(), 1u) << id;
    EXPECT_TRUE(c.node(id).status().quarantined) << id;
    EXPECT_TRUE(c.node(id).recovery().quarantine_over()) << id;
  }
}

TEST(Recovery, ReservationRestartThroughNode) {
  TestCluster c(3);
  c.crash(MemberId{2});
  c.start(MemberId{2}, RecoveryMode::reservation, Token{1ULL << 33});
  c.deliver_all();
  EXPECT_EQ(c.node(2).status().floor, Token{1ULL << 33});
  EXPECT_TRUE(c.node(2).status().quarantined);
  EXPECT_GE(c.node(2).acquirer().hint(), Token{1ULL << 33});
  c.advance(Duration::s(62));  // ceil(60 s·1.01/0.99) = 61.21 s
  EXPECT_FALSE(c.node(2).status().quarantined);
}

}  // namespace
}  // namespace baton::core
