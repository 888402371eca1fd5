// SPDX-License-Identifier: Apache-2.0
// next_life (the decision) and the Node's handling of INCARNATION_BEHIND:
// a stale hint is ignored, a real one asks for exactly one new life.
#include "core/incarnation.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "core/node.hpp"

namespace baton::core {
namespace {

constexpr std::uint64_t u64_max = std::numeric_limits<std::uint64_t>::max();

TEST(NextLife, Table) {
  struct Case {
    const char* name;
    std::uint64_t own;
    std::uint64_t seen;
    std::optional<std::uint64_t> want;
  };
  const Case cases[] = {
      {.name = "peer saw a newer life: move above it", .own = 500, .seen = 1000, .want = 1001},
      {.name = "just above", .own = 999, .seen = 1000, .want = 1001},
      // The peer knows this life: it dropped a delayed or replayed datagram
      // of an older one. Restarting would hand a replayer a restart button.
      {.name = "this life: stale", .own = 1000, .seen = 1000, .want = std::nullopt},
      {.name = "an older life: stale", .own = 1001, .seen = 1000, .want = std::nullopt},
      {.name = "zero: stale", .own = 1, .seen = 0, .want = std::nullopt},
      {.name = "nothing above the largest", .own = 5, .seen = u64_max, .want = std::nullopt},
      {.name = "just below the largest", .own = 5, .seen = u64_max - 1, .want = u64_max},
  };
  for (const Case& c : cases) {
    const auto got = next_life(Incarnation{c.own}, Incarnation{c.seen});
    ASSERT_EQ(got.has_value(), c.want.has_value()) << c.name;
    if (got) {
      EXPECT_EQ(got->value, *c.want) << c.name;
    }
  }
}

std::unique_ptr<Node> node_at(std::uint64_t incarnation) {
  NodeConfig c;
  c.members = {MemberId{1}, MemberId{2}, MemberId{3}};
  c.self = MemberId{1};
  c.incarnation = Incarnation{incarnation};
  c.recovery = RecoveryMode::peers;
  auto n = Node::create(c, 42, Instant{});
  EXPECT_TRUE(n.ok());
  return std::move(*n);
}

std::optional<NewLife> hint(Node& n, MemberId from, std::uint64_t seen) {
  const Message m = IncarnationBehind{.seen = Incarnation{seen}};
  n.on_messages(Instant{} + Duration::ms(1), from, {&m, 1});
  Outbox out;
  n.take_outbox(out);
  return out.new_life;
}

TEST(NodeIncarnationHint, StaleHintsAreIgnoredAndCounted) {
  auto n = node_at(1000);
  EXPECT_FALSE(hint(*n, MemberId{2}, 1000).has_value()) << "the peer knows this life";
  EXPECT_FALSE(hint(*n, MemberId{2}, 999).has_value()) << "a hint about an older life";
  EXPECT_FALSE(hint(*n, MemberId{3}, 0).has_value());
  EXPECT_EQ(n->stats().stale_incarnation_hints, 3u);
  EXPECT_FALSE(n->has_output());
}

TEST(NodeIncarnationHint, RealHintAsksForExactlyOneNewLifeAboveIt) {
  auto n = node_at(500);
  // Two peers remember the previous life, 1000, and a third value arrives in
  // the same input: one new life, above the highest.
  const Message ms[] = {IncarnationBehind{.seen = Incarnation{1000}}, IncarnationBehind{.seen = Incarnation{1000}},
                        IncarnationBehind{.seen = Incarnation{700}}};
  n->on_messages(Instant{} + Duration::ms(1), MemberId{2}, ms);
  ASSERT_TRUE(n->has_output());
  Outbox out;
  n->take_outbox(out);
  ASSERT_TRUE(out.new_life.has_value());
  EXPECT_EQ(*out.new_life, (NewLife{.incarnation = Incarnation{1001}, .seen = Incarnation{1000}, .hinted_by = MemberId{2}}));
  EXPECT_EQ(n->stats().stale_incarnation_hints, 0u) << "700 < 1001 was folded into the same new life";

  // The runtime starts the new life at 1001: the same hint, delayed or
  // replayed, and the hints that answer the new life's own datagrams (the
  // peer has seen 1001 by then) ask for nothing.
  auto next = node_at(out.new_life->incarnation.value);
  EXPECT_FALSE(hint(*next, MemberId{2}, 1000).has_value());
  EXPECT_FALSE(hint(*next, MemberId{3}, 1000).has_value());
  EXPECT_FALSE(hint(*next, MemberId{2}, 1001).has_value());
  EXPECT_EQ(next->stats().stale_incarnation_hints, 3u);
  // A peer that remembers an even newer life still moves it once more.
  auto again = hint(*next, MemberId{3}, 5000);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->incarnation.value, 5001u);
}

TEST(NodeIncarnationHint, HigherHintInALaterInputRaisesThePendingNewLife) {
  auto n = node_at(500);
  const Message a = IncarnationBehind{.seen = Incarnation{800}};
  const Message b = IncarnationBehind{.seen = Incarnation{900}};
  n->on_messages(Instant{} + Duration::ms(1), MemberId{2}, {&a, 1});
  n->on_messages(Instant{} + Duration::ms(2), MemberId{3}, {&b, 1});
  Outbox out;
  n->take_outbox(out);
  ASSERT_TRUE(out.new_life.has_value());
  EXPECT_EQ(out.new_life->incarnation.value, 901u);
  EXPECT_EQ(out.new_life->hinted_by, MemberId{3});
}

}  // namespace
}  // namespace baton::core
