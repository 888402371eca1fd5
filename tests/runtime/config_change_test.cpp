// SPDX-License-Identifier: Apache-2.0
// runtime::ChangeDesk (issue 21 step 4): who waits for a member's
// reconfiguration run, and batonctl's CONFIG_CHANGE answered idempotently by
// nonce, guarded by the expected record id.
#include "runtime/config_change.hpp"

#include <gtest/gtest.h>

#include "core/limits.hpp"

namespace baton::runtime {
namespace {

using core::ChangeState;
using core::MemberId;

core::CfgRecord record(core::CfgId id, std::vector<std::uint32_t> voters) {
  core::CfgRecord r;
  r.id = id;
  for (auto v : voters) r.old_voters.push_back(MemberId(v));
  return r;
}

core::ConfigChange change(std::uint64_t nonce, core::CfgId expect, std::vector<std::uint32_t> voters) {
  core::ConfigChange c{.nonce = nonce, .expect = expect, .voters = {}};
  for (auto v : voters) c.voters.push_back(MemberId(v));
  return c;
}

// Counts the runs started; refuses with `refusal` when set.
struct Starter {
  int started = 0;
  std::vector<MemberId> last;
  std::optional<Error> refusal;
  ChangeDesk::Start fn() {
    return [this](std::vector<MemberId> v) -> Result<void> {
      if (refusal) return *refusal;
      ++started;
      last = std::move(v);
      return {};
    };
  }
};

const core::CfgRecord initial = record({1, 0}, {1, 2, 3});

TEST(ChangeDesk, ANonceStartsOneRunAndItsResendsPollIt) {
  ChangeDesk desk;
  Starter s;
  const auto req = change(7, {1, 0}, {2, 3, 4});
  const auto a = desk.answer(req, initial, "read (1, 0) 0/3", s.fn());
  EXPECT_EQ(a.state, ChangeState::started);
  EXPECT_EQ(a.nonce, 7u);
  EXPECT_EQ(s.started, 1);
  EXPECT_EQ(s.last, req.voters);
  EXPECT_EQ(desk.owner(), ChangeDesk::Owner::remote);
  // A re-send (its reply was lost, or a poll): running, no second run, even
  // though the member's record has moved on meanwhile.
  const auto joint = record({2, 9}, {1, 2, 3});
  const auto b = desk.answer(req, joint, "joint (2, 9) acks 1/3", s.fn());
  EXPECT_EQ(b.state, ChangeState::running);
  EXPECT_EQ(b.detail, "joint (2, 9) acks 1/3");
  EXPECT_EQ(s.started, 1);
  // The run ends: not the application's; the asker's next poll reads it.
  const core::ReconfigResult done{.outcome = core::ReconfigOutcome::committed,
                                  .record = record({3, 9}, {2, 3, 4}), .ballot = 9, .detail = "", .requested = true};
  EXPECT_FALSE(desk.finish(done));
  EXPECT_EQ(desk.owner(), ChangeDesk::Owner::none);
  const auto c = desk.answer(req, done.record, "", s.fn());
  EXPECT_EQ(c.state, ChangeState::done);
  EXPECT_EQ(c.outcome, core::ReconfigOutcome::committed);
  EXPECT_EQ(c.record, done.record);
  EXPECT_EQ(c.ballot, 9u);
  EXPECT_EQ(s.started, 1) << "a finished run's nonce never starts another";
  // A replay of the old request with a new nonce: the configuration moved on.
  const auto replay = desk.answer(change(8, {1, 0}, {2, 3, 4}), done.record, "", s.fn());
  EXPECT_EQ(replay.state, ChangeState::refused);
  EXPECT_NE(replay.detail.find("the configuration moved on"), std::string::npos) << replay.detail;
  EXPECT_NE(replay.detail.find("expected (1, 0)"), std::string::npos) << replay.detail;
  EXPECT_EQ(s.started, 1);
  // A record of the expected epoch under another ballot (a racing run's phase
  // R, a repair re-proposed it) still starts a run: only the epoch is checked.
  ChangeDesk fresh;
  EXPECT_EQ(fresh.answer(change(10, {3, 1}, {2, 3}), done.record, "", s.fn()).state, ChangeState::started);
  s.started = 1;
  // Only one finished result is kept: the next run's replaces it.
  EXPECT_EQ(desk.answer(change(9, {3, 9}, {1, 2}), done.record, "", s.fn()).state, ChangeState::started);
  EXPECT_FALSE(desk.finish(done));
  EXPECT_EQ(desk.answer(req, done.record, "", s.fn()).state, ChangeState::refused) << "nonce 7 is forgotten";
}

TEST(ChangeDesk, BusyWhileAnyRunOfThisMemberIsUnderWay) {
  ChangeDesk desk;
  Starter s;
  desk.begin_api();
  const auto r = desk.answer(change(1, {1, 0}, {1, 2}), initial, "joint (2, 5) acks 1/3", s.fn());
  EXPECT_EQ(r.state, ChangeState::refused);
  EXPECT_NE(r.detail.find("busy: a reconfiguration the application started"), std::string::npos) << r.detail;
  EXPECT_EQ(s.started, 0);
  // The application's run ends: handed to the application, kept for nobody.
  const core::ReconfigResult done{.outcome = core::ReconfigOutcome::superseded, .record = initial, .ballot = 5,
                                  .detail = "", .requested = true};
  EXPECT_TRUE(desk.finish(done));
  // A duplicate of the refused request, delayed past the end of the run that
  // made it busy, is refused again: it never starts what was refused.
  const auto dup = desk.answer(change(1, {1, 0}, {1, 2}), initial, "", s.fn());
  EXPECT_EQ(dup.state, ChangeState::refused);
  EXPECT_NE(dup.detail.find("refused before"), std::string::npos) << dup.detail;
  EXPECT_EQ(s.started, 0);
  EXPECT_EQ(desk.answer(change(11, {1, 0}, {1, 2}), initial, "", s.fn()).state, ChangeState::started);
  // The core's refusal (a repair under way, a non-member) is passed on, naming the value.
  ChangeDesk other;
  s.refusal = Error{Errc::invalid_argument, "reconfigure: voter 9 is not among the 3 members"};
  const auto bad = other.answer(change(2, {1, 0}, {9}), initial, "", s.fn());
  EXPECT_EQ(bad.state, ChangeState::refused);
  EXPECT_EQ(bad.detail, "reconfigure: voter 9 is not among the 3 members");
  EXPECT_EQ(other.owner(), ChangeDesk::Owner::none);
}

TEST(ChangeDesk, ANewLifeEndsTheRunTimedOutForWhoeverWaited) {
  ChangeDesk api;
  api.begin_api();
  auto r = api.abandon(initial);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, core::ReconfigOutcome::timed_out);
  EXPECT_NE(r->detail.find("new life"), std::string::npos);
  EXPECT_EQ(api.owner(), ChangeDesk::Owner::none);

  ChangeDesk remote;
  Starter s;
  const auto req = change(4, {1, 0}, {1, 2});
  ASSERT_EQ(remote.answer(req, initial, "", s.fn()).state, ChangeState::started);
  EXPECT_FALSE(remote.abandon(initial).has_value());
  const auto poll = remote.answer(req, initial, "", s.fn());
  EXPECT_EQ(poll.state, ChangeState::done);
  EXPECT_EQ(poll.outcome, core::ReconfigOutcome::timed_out);
  EXPECT_FALSE(ChangeDesk().abandon(initial).has_value()) << "nobody waited";
}

TEST(ChangeDesk, DetailsAreBoundedAtACharacterBoundary) {
  const std::size_t max = core::limits::config_change_detail_max;
  EXPECT_EQ(bounded_detail(std::string(max, 'x')).size(), max);
  EXPECT_EQ(bounded_detail(std::string(max + 50, 'x')).size(), max);
  // A two-byte character straddling the limit is dropped whole.
  const std::string text = std::string(max - 1, 'x') + "\xc3\xa9" + "tail";
  EXPECT_EQ(bounded_detail(text), std::string(max - 1, 'x'));
}

}  // namespace
}  // namespace baton::runtime
