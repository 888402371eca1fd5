// SPDX-License-Identifier: Apache-2.0
// reconfigure.hpp: the driver's phases, its ballots, and the answers that end
// a run, one message at a time.
#include "core/reconfigure.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <vector>

namespace baton::core {
namespace {

class FakeSink final : public Sink {
 public:
  void send(MemberId to, Message msg) override { sent.push_back({to, std::move(msg)}); }
  void emit(Event) override {}
  void persist(Token) override {}
  void persist_config(const CfgState&) override {}
  NodeStats& stats() override { return st; }
  void observe_token(Token) override {}

  // The members a message of type T went to since the last clear(), in order.
  template <typename T>
  std::vector<MemberId> to() const {
    std::vector<MemberId> out;
    for (const auto& [m, msg] : sent) {
      if (std::holds_alternative<T>(msg)) out.push_back(m);
    }
    return out;
  }
  // The record of the last CONFIG_PROPOSE.
  CfgRecord proposed() const {
    for (auto it = sent.rbegin(); it != sent.rend(); ++it) {
      if (const auto* p = std::get_if<ConfigPropose>(&it->second)) return p->record;
    }
    ADD_FAILURE() << "no CONFIG_PROPOSE sent";
    return {};
  }
  void clear() { sent.clear(); }
  std::vector<std::pair<MemberId, Message>> sent;
  NodeStats st;
};

std::vector<MemberId> ids(std::initializer_list<std::uint32_t> v) {
  std::vector<MemberId> out;
  for (std::uint32_t i : v) out.push_back(MemberId{i});
  return out;
}

constexpr MemberId M1{1}, M2{2}, M3{3}, M4{4};
const Instant T0 = Instant::from_ns(1'000'000'000);
const ReconfigTiming kTiming{
    .wait = Duration::s(2), .margin = Duration::ms(2), .resend = Duration::ms(100), .give_up = Duration::s(30)};

CfgRecord initial() { return initial_record(ids({1, 2, 3})); }

ConfigReadReply read_ok(std::uint64_t ballot, const CfgRecord& r, std::uint64_t promised) {
  return ConfigReadReply{.ballot = ballot, .ok = true, .record = r, .promised = promised};
}
ConfigAck ack(const CfgRecord& r, Token max_stored = {}, bool ok = true) {
  return ConfigAck{.proposed = r.id, .ok = ok, .cfg = r.id, .max_stored = max_stored, .promised = r.id.ballot};
}

// Member 1's run from the initial record to `target`, through phase 0 and
// phase R (members 1 and 2 answering), to its joint record, which it returns.
CfgRecord to_joint(Reconfigurer& d, FakeSink& s, std::vector<MemberId> target) {
  const std::uint64_t b = *next_ballot(0, M1);
  d.start(T0, initial(), std::move(target), b, s);
  for (MemberId m : {M1, M2}) d.on_read_reply(T0, m, read_ok(b, initial(), b), true, s);
  const CfgRecord k = s.proposed();
  for (MemberId m : {M1, M2}) d.on_ack(T0, m, ack(k), s);
  return s.proposed();
}

TEST(Reconfigure, BallotsAreUniquePerMemberAndAboveWhatWasHeard) {
  const std::uint64_t stride = std::uint64_t{1} << 31;
  EXPECT_EQ(next_ballot(0, M1), 1u);
  EXPECT_EQ(next_ballot(1, M1), stride + 1);
  EXPECT_EQ(next_ballot(1, M2), 2u);
  EXPECT_EQ(next_ballot(stride + 5, M3), 2 * stride + 3);
  EXPECT_EQ(ballot_owner(2 * stride + 3), M3);
  // Two members never draw the same ballot from the same promise.
  for (std::uint64_t above : std::vector<std::uint64_t>{0, 7, stride, 3 * stride + 9}) {
    std::set<std::uint64_t> seen;
    for (std::uint32_t m = 1; m <= 50; ++m) {
      const auto b = next_ballot(above, MemberId{m});
      ASSERT_TRUE(b.has_value());
      EXPECT_GT(*b, above);
      EXPECT_EQ(ballot_owner(*b), MemberId{m});
      seen.insert(*b);
    }
    EXPECT_EQ(seen.size(), 50u);
  }
  EXPECT_FALSE(next_ballot(limits::token_max, M1).has_value()) << "exhausted: no ballot above 2^63-1";
}

// Replacing voter 3 with voter 4, every phase in turn.
TEST(Reconfigure, ReplacesAVoterThroughTheJointRecordAndTheWait) {
  Reconfigurer d(M1, kTiming);
  FakeSink s;
  const std::uint64_t b = *next_ballot(0, M1);
  d.start(T0, initial(), ids({1, 2, 4}), b, s);
  EXPECT_TRUE(d.active());
  EXPECT_EQ(d.phase(), Reconfigurer::Phase::read);
  // Our own voter first (it persists the promise before anything leaves).
  EXPECT_EQ(s.to<ConfigRead>(), ids({1, 2, 3}));
  s.clear();
  d.on_read_reply(T0, M1, read_ok(b, initial(), b), true, s);
  EXPECT_TRUE(s.sent.empty());
  d.on_read_reply(T0, M2, read_ok(b, initial(), b), true, s);
  // Phase R: K again under our ballot, to K's voters.
  ASSERT_EQ(d.phase(), Reconfigurer::Phase::repropose);
  const CfgRecord k = s.proposed();
  EXPECT_EQ(k.id, (CfgId{1, b}));
  EXPECT_EQ(k.old_voters, ids({1, 2, 3}));
  EXPECT_EQ(s.to<ConfigPropose>(), ids({1, 2, 3}));
  s.clear();
  d.on_ack(T0, M1, ack(k), s);
  d.on_ack(T0, M3, ack(k), s);
  // Phase 1: the joint record to C and C'.
  ASSERT_EQ(d.phase(), Reconfigurer::Phase::joint);
  const CfgRecord j = s.proposed();
  EXPECT_EQ(j.id, (CfgId{2, b}));
  EXPECT_EQ(j.old_voters, ids({1, 2, 3}));
  EXPECT_EQ(j.new_voters, ids({1, 2, 4}));
  EXPECT_EQ(s.to<ConfigPropose>(), ids({1, 2, 3, 4}));
  s.clear();
  // Acks from C' alone do not commit it: a majority of C must hold it.
  d.on_ack(T0, M4, ack(j, Token{50}), s);
  d.on_ack(T0, M1, ack(j, Token{7}), s);
  EXPECT_EQ(d.phase(), Reconfigurer::Phase::joint);
  // The last needed ack arrives late: t_q is its receipt.
  const Instant t_q = T0 + Duration::ms(700);
  d.on_ack(t_q, M3, ack(j, Token{9}), s);
  ASSERT_EQ(d.phase(), Reconfigurer::Phase::wait);
  EXPECT_EQ(d.next_deadline(), min(t_q + kTiming.wait, T0 + kTiming.resend));
  // Nothing final before t_q + wait, however often the deadline fires.
  for (Instant t = t_q; t < t_q + kTiming.wait; t = t + Duration::ms(100)) {
    d.on_deadline(t, s);
    EXPECT_EQ(s.to<ConfigPropose>().size(), s.sent.size());  // only re-sends of the joint record
    for (const auto& [m, msg] : s.sent) EXPECT_EQ(std::get<ConfigPropose>(msg).record, j);
    s.clear();
  }
  d.on_deadline(t_q + kTiming.wait, s);
  ASSERT_EQ(d.phase(), Reconfigurer::Phase::final);
  const CfgRecord f = s.proposed();
  EXPECT_EQ(f.id, (CfgId{3, b}));
  EXPECT_EQ(f.old_voters, ids({1, 2, 4}));
  EXPECT_FALSE(f.joint());
  EXPECT_EQ(f.floor, Token{50}) << "F: the highest max_stored acked by t_q";
  // To C' and to the voter leaving (it learns it is removed).
  EXPECT_EQ(s.to<ConfigPropose>(), ids({1, 2, 4, 3}));
  s.clear();
  // A majority of C' commits it (member 3's ack, leaving, does not count).
  d.on_ack(t_q + kTiming.wait, M4, ack(f), s);
  EXPECT_TRUE(d.active());
  d.on_ack(t_q + kTiming.wait, M2, ack(f), s);
  EXPECT_FALSE(d.active());
  const auto r = d.take_result();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, ReconfigOutcome::committed);
  EXPECT_EQ(r->record, f);
  EXPECT_FALSE(d.take_result().has_value());
  // Stragglers: member 1 (staying) and member 3 (leaving) have not acked,
  // and get the record again a few times; member 3 acks the second one.
  EXPECT_EQ(d.phase(), Reconfigurer::Phase::stragglers);
  std::size_t to_1 = 0, to_3 = 0;
  for (Instant t = t_q + kTiming.wait; d.phase() != Reconfigurer::Phase::idle; t = t + kTiming.resend) {
    d.on_deadline(t, s);
    for (MemberId m : s.to<ConfigPropose>()) {
      EXPECT_TRUE(m == M1 || m == M3) << m.value;
      ++(m == M1 ? to_1 : to_3);
    }
    s.clear();
    if (to_3 == 2) d.on_ack(t, M3, ack(f), s);
    ASSERT_LT(to_1, 100u);
  }
  EXPECT_GT(to_1, 2u);
  EXPECT_EQ(to_3, 2u) << "not after its ack";
  EXPECT_EQ(d.check_invariants(), "");
}

TEST(Reconfigure, AVoterWithALongerTtlMaxLengthensTheWait) {
  // A voter of the ack majority grants holds up to 5 s (a longer ttl_max
  // than the driver's 2 s wait): a lease of C alone it granted may run that
  // long past t_q, so phase 3 waits for it.
  Reconfigurer d(M1, kTiming);
  FakeSink s;
  const CfgRecord j = to_joint(d, s, ids({1, 2, 4}));
  ASSERT_TRUE(j.joint());
  ConfigAck slow = ack(j);
  slow.ttl_max = Duration::s(5);
  d.on_ack(T0, M1, ack(j), s);
  d.on_ack(T0, M3, slow, s);
  ASSERT_EQ(d.phase(), Reconfigurer::Phase::wait);
  s.clear();
  d.on_deadline(T0 + kTiming.wait, s);
  EXPECT_EQ(d.phase(), Reconfigurer::Phase::wait) << "not after the driver's own 2 s";
  d.on_deadline(T0 + Duration::s(5) + kTiming.margin, s);
  EXPECT_EQ(d.phase(), Reconfigurer::Phase::final);
}

TEST(Reconfigure, TheRunsDeadlineNeverCutsItsWaitShort) {
  // A voter reports a ttl_max of 60 s, far beyond the run's 30 s give-up:
  // the run waits the 60 s and goes on, instead of timing out in the wait.
  Reconfigurer d(M1, kTiming);
  FakeSink s;
  const CfgRecord j = to_joint(d, s, ids({1, 2, 4}));
  ConfigAck slow = ack(j);
  slow.ttl_max = Duration::s(60);
  d.on_ack(T0, M1, ack(j), s);
  d.on_ack(T0, M2, slow, s);
  ASSERT_EQ(d.phase(), Reconfigurer::Phase::wait);
  d.on_deadline(T0 + kTiming.give_up, s);
  EXPECT_EQ(d.phase(), Reconfigurer::Phase::wait);
  EXPECT_FALSE(d.take_result().has_value());
  d.on_deadline(T0 + Duration::s(60) + kTiming.margin, s);
  EXPECT_EQ(d.phase(), Reconfigurer::Phase::final);
}

TEST(Reconfigure, AHigherPromiseEndsTheRunSuperseded) {
  Reconfigurer d(M2, kTiming);
  FakeSink s;
  const std::uint64_t b = *next_ballot(0, M2);
  d.start(T0, initial(), ids({1, 2}), b, s);
  d.on_read_reply(T0, M3, ConfigReadReply{.ballot = b, .ok = false, .record = initial(), .promised = b + 10}, true, s);
  EXPECT_FALSE(d.active());
  const auto r = d.take_result();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, ReconfigOutcome::superseded);
  EXPECT_NE(r->detail.find("member 3 promised ballot"), std::string::npos) << r->detail;
  EXPECT_EQ(d.highest_promise(), b + 10);
}

TEST(Reconfigure, ARefusedProposalEndsTheRunSuperseded) {
  Reconfigurer d(M1, kTiming);
  FakeSink s;
  const std::uint64_t b = *next_ballot(0, M1);
  d.start(T0, initial(), ids({1, 2}), b, s);
  d.on_read_reply(T0, M1, read_ok(b, initial(), b), true, s);
  d.on_read_reply(T0, M2, read_ok(b, initial(), b), true, s);
  const CfgRecord k = s.proposed();
  d.on_ack(T0, M2, ack(k, Token{}, false), s);
  const auto r = d.take_result();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, ReconfigOutcome::superseded);
}

TEST(Reconfigure, ANewerRecordInPhaseZeroIsReadFromItsVoters) {
  Reconfigurer d(M1, kTiming);
  FakeSink s;
  const std::uint64_t b = *next_ballot(100, M1);
  d.start(T0, initial(), ids({1, 2, 3}), b, s);
  s.clear();
  const CfgRecord newer{.id = {3, 2}, .old_voters = ids({1, 2, 4}), .new_voters = {}, .floor = Token{5}};
  d.on_read_reply(T0, M2, read_ok(b, newer, b), true, s);
  EXPECT_EQ(d.phase(), Reconfigurer::Phase::read);

  s.clear();
  // A record that is not usable (another address book) is no answer.
  d.on_read_reply(T0, M4, read_ok(b, newer, b), false, s);
  d.on_read_reply(T0, M1, read_ok(b, newer, b), true, s);
  EXPECT_EQ(d.phase(), Reconfigurer::Phase::read);
  d.on_read_reply(T0, M4, read_ok(b, newer, b), true, s);
  ASSERT_EQ(d.phase(), Reconfigurer::Phase::repropose);
  const CfgRecord k = s.proposed();
  EXPECT_EQ(k.id, (CfgId{3, b}));
  EXPECT_EQ(k.floor, Token{5}) << "phase R spreads the record's F too";
}

TEST(Reconfigure, AHalfDoneChangeIsFinishedThenOurs) {
  // K is joint: a driver crashed between phases 1 and 3. We finish its
  // change (to {1,2,4}) first, then make ours (to {1,2}).
  Reconfigurer d(M1, kTiming);
  FakeSink s;
  const CfgRecord joint{.id = {2, 7}, .old_voters = ids({1, 2, 3}), .new_voters = ids({1, 2, 4}), .floor = {}};
  const std::uint64_t b = *next_ballot(7, M1);
  d.start(T0, joint, ids({1, 2}), b, s);
  for (MemberId m : {M1, M2, M4}) d.on_read_reply(T0, m, read_ok(b, joint, b), true, s);
  ASSERT_EQ(d.phase(), Reconfigurer::Phase::joint) << "a joint K is re-proposed as phase 1";
  const CfgRecord j = s.proposed();
  EXPECT_EQ(j.id, (CfgId{2, b}));
  EXPECT_EQ(j.new_voters, ids({1, 2, 4}));
  d.on_ack(T0, M1, ack(j), s);
  d.on_ack(T0, M3, ack(j), s);
  ASSERT_EQ(d.phase(), Reconfigurer::Phase::wait);
  const Instant after = T0 + kTiming.wait;
  d.on_deadline(after, s);
  const CfgRecord f = s.proposed();
  EXPECT_EQ(f.old_voters, ids({1, 2, 4}));
  d.on_ack(after, M1, ack(f), s);
  d.on_ack(after, M4, ack(f), s);
  // Not our target yet: a new phase 0, from the finished record.
  EXPECT_TRUE(d.active());
  EXPECT_EQ(d.phase(), Reconfigurer::Phase::read);
  EXPECT_FALSE(d.take_result().has_value());
  for (MemberId m : {M1, M2}) d.on_read_reply(after, m, read_ok(b, f, b), true, s);
  ASSERT_EQ(d.phase(), Reconfigurer::Phase::repropose);
  const CfgRecord k = s.proposed();
  EXPECT_EQ(k, f) << "the same record, the same ballot: re-proposed unchanged";
  d.on_ack(after, M1, ack(k), s);
  d.on_ack(after, M2, ack(k), s);
  ASSERT_EQ(d.phase(), Reconfigurer::Phase::joint);
  EXPECT_EQ(s.proposed().new_voters, ids({1, 2}));
}

TEST(Reconfigure, NoQuorumGivesUpTimedOutAndResendsUntilThen) {
  Reconfigurer d(M1, kTiming);
  FakeSink s;
  const std::uint64_t b = *next_ballot(0, M1);
  d.start(T0, initial(), ids({1, 2}), b, s);
  d.on_read_reply(T0, M1, read_ok(b, initial(), b), true, s);
  s.clear();
  d.on_deadline(T0 + kTiming.resend, s);
  EXPECT_EQ(s.to<ConfigRead>(), ids({2, 3})) << "only the voters that have not answered";
  d.on_deadline(T0 + kTiming.give_up, s);
  const auto r = d.take_result();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, ReconfigOutcome::timed_out);
  EXPECT_EQ(d.next_deadline(), Instant::max());
}

TEST(Reconfigure, ANoChangeRunCommitsAfterPhaseR) {
  Reconfigurer d(M1, kTiming);
  FakeSink s;
  const std::uint64_t b = *next_ballot(0, M1);
  d.start(T0, initial(), ids({1, 2, 3}), b, s);
  for (MemberId m : {M1, M2}) d.on_read_reply(T0, m, read_ok(b, initial(), b), true, s);
  const CfgRecord k = s.proposed();
  for (MemberId m : {M2, M3}) d.on_ack(T0, m, ack(k), s);
  const auto r = d.take_result();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, ReconfigOutcome::committed);
  EXPECT_EQ(r->record, k);
}

}  // namespace
}  // namespace baton::core
