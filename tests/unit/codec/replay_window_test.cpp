// SPDX-License-Identifier: Apache-2.0
// ReplayWindow: table-driven scripts of (sender, incarnation, seq) -> accepted?
#include <gtest/gtest.h>

#include <vector>

#include "codec/replay_window.hpp"

namespace baton::codec {
namespace {

constexpr std::uint64_t W = core::limits::replay_window;

struct Step {
  std::uint32_t sender = 1;
  std::uint64_t incarnation = 1;
  std::uint64_t seq = 0;
  bool accepted = false;
};

struct Script {
  const char* name;
  std::vector<Step> steps;
};

TEST(ReplayWindow, Scripts) {
  const Script scripts[] = {
      {.name = "in order",
       .steps = {{.seq = 1, .accepted = true}, {.seq = 2, .accepted = true}, {.seq = 3, .accepted = true}}},
      {.name = "first datagram may start anywhere",
       .steps = {{.seq = 500, .accepted = true}, {.seq = 499, .accepted = true}}},
      {.name = "seq 0 rejected",
       .steps = {{.seq = 0, .accepted = false}, {.seq = 1, .accepted = true}, {.seq = 0, .accepted = false}}},
      {.name = "duplicate",
       .steps = {{.seq = 1, .accepted = true}, {.seq = 1, .accepted = false}, {.seq = 2, .accepted = true},
                 {.seq = 1, .accepted = false}, {.seq = 2, .accepted = false}}},
      {.name = "reorder within window",
       .steps = {{.seq = 5, .accepted = true}, {.seq = 3, .accepted = true}, {.seq = 4, .accepted = true},
                 {.seq = 1, .accepted = true}, {.seq = 3, .accepted = false}, {.seq = 2, .accepted = true},
                 {.seq = 6, .accepted = true}, {.seq = 4, .accepted = false}}},
      {.name = "too old: the window's edge",
       .steps = {{.seq = W + 10, .accepted = true}, {.seq = 10, .accepted = false}, {.seq = 11, .accepted = true},
                 {.seq = 11, .accepted = false}}},
      {.name = "window slides: a reused bit reads as unseen",
       .steps = {{.seq = 3, .accepted = true},
                 {.seq = W + 2, .accepted = true},   // 3 still inside (W + 2 - 3 < W)
                 {.seq = 3, .accepted = false},
                 {.seq = W + 3, .accepted = true},   // takes 3's bit; 3 falls out
                 {.seq = 3, .accepted = false},
                 {.seq = W + 1, .accepted = true},
                 {.seq = W + 2, .accepted = false}}},
      {.name = "big jump forgets everything below",
       .steps = {{.seq = 1, .accepted = true}, {.seq = 2, .accepted = true}, {.seq = 10 * W, .accepted = true},
                 {.seq = 10 * W - 1, .accepted = true}, {.seq = 9 * W + 1, .accepted = true},
                 {.seq = 9 * W, .accepted = false}, {.seq = 2, .accepted = false}}},
      {.name = "new incarnation resets",
       .steps = {{.incarnation = 1, .seq = 5000, .accepted = true},
                 {.incarnation = 2, .seq = 1, .accepted = true},
                 {.incarnation = 2, .seq = 1, .accepted = false},
                 {.incarnation = 2, .seq = 2, .accepted = true},
                 {.incarnation = 9, .seq = 1, .accepted = true}}},
      {.name = "old incarnation rejected",
       .steps = {{.incarnation = 5, .seq = 1, .accepted = true},
                 {.incarnation = 4, .seq = 2, .accepted = false},
                 {.incarnation = 4, .seq = 1000000, .accepted = false},
                 {.incarnation = 5, .seq = 2, .accepted = true}}},
      {.name = "senders are independent",
       .steps = {{.sender = 1, .seq = 1, .accepted = true}, {.sender = 2, .seq = 1, .accepted = true},
                 {.sender = 2, .incarnation = 7, .seq = 3, .accepted = true},
                 {.sender = 1, .seq = 2, .accepted = true}, {.sender = 1, .seq = 1, .accepted = false},
                 {.sender = 2, .seq = 4, .accepted = false}}},
  };
  for (const auto& script : scripts) {
    SCOPED_TRACE(script.name);
    ReplayWindow w;
    for (std::size_t i = 0; i < script.steps.size(); ++i) {
      const Step& s = script.steps[i];
      EXPECT_EQ(w.accept(core::MemberId(s.sender), core::Incarnation(s.incarnation), s.seq), s.accepted)
          << "step " << i << ": sender " << s.sender << " inc " << s.incarnation << " seq " << s.seq;
    }
  }
}

TEST(ReplayWindow, EverySeqOfALongRunOnceThenNeverAgain) {
  ReplayWindow w;
  const core::MemberId s(4);
  const core::Incarnation inc(1);
  for (std::uint64_t seq = 1; seq <= 3 * W; ++seq) ASSERT_TRUE(w.accept(s, inc, seq)) << seq;
  for (std::uint64_t seq = 1; seq <= 3 * W; ++seq) ASSERT_FALSE(w.accept(s, inc, seq)) << seq;
}

TEST(ReplayWindow, ForgetStartsAfresh) {
  ReplayWindow w;
  ASSERT_TRUE(w.accept(core::MemberId(1), core::Incarnation(9), 100));
  ASSERT_FALSE(w.accept(core::MemberId(1), core::Incarnation(8), 1));
  w.forget(core::MemberId(1));
  EXPECT_EQ(w.senders(), 0u);
  EXPECT_TRUE(w.accept(core::MemberId(1), core::Incarnation(8), 1));
  w.forget(core::MemberId(77));  // unknown: no effect
  EXPECT_EQ(w.senders(), 1u);
}

TEST(ReplayWindow, BoundedByMembersMax) {
  ReplayWindow w;
  for (std::uint32_t m = 1; m <= core::limits::members_max; ++m) {
    ASSERT_TRUE(w.accept(core::MemberId(m), core::Incarnation(1), 1));
  }
  EXPECT_FALSE(w.accept(core::MemberId(1000), core::Incarnation(1), 1));
  EXPECT_EQ(w.senders(), core::limits::members_max);
  // Known senders keep working.
  EXPECT_TRUE(w.accept(core::MemberId(1), core::Incarnation(1), 2));
}

// admit() tells an older life apart from a replay within the current life,
// so the receiver can answer only the former (INCARNATION_BEHIND).
TEST(ReplayWindow, AdmitNamesOlderIncarnations) {
  using V = ReplayWindow::Verdict;
  ReplayWindow w;
  const core::MemberId m(2);
  EXPECT_FALSE(w.newest(m).has_value());
  EXPECT_EQ(w.admit(m, core::Incarnation(1000), 5), V::accepted);
  EXPECT_EQ(w.admit(m, core::Incarnation(1000), 5), V::replayed);
  EXPECT_EQ(w.admit(m, core::Incarnation(1000), 0), V::replayed);
  EXPECT_EQ(w.admit(m, core::Incarnation(999), 6), V::older_incarnation);
  EXPECT_EQ(w.admit(m, core::Incarnation(1), 1), V::older_incarnation);
  EXPECT_EQ(w.newest(m), core::Incarnation(1000)) << "an older life moves nothing";
  EXPECT_EQ(w.admit(m, core::Incarnation(1000), 6), V::accepted);
  EXPECT_EQ(w.admit(m, core::Incarnation(1001), 1), V::accepted);
  EXPECT_EQ(w.newest(m), core::Incarnation(1001));
  EXPECT_EQ(w.admit(m, core::Incarnation(1000), 7), V::older_incarnation);
}

}  // namespace
}  // namespace baton::codec
