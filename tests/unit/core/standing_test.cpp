// SPDX-License-Identifier: Apache-2.0
// standing.hpp: whether a request stands for a hand-off, with which votes,
// when its retry reuses the lease, and when an acquire polls instead.
#include "core/standing.hpp"

#include <gtest/gtest.h>

namespace baton::core::standing {
namespace {

TEST(Standing, Decide) {
  struct Case {
    const char* name;
    Outcome in;
    Stand want;
  };
  const Case cases[] = {
      {.name = "too few kept it for a majority", .in = {.quorum_kept = false, .above_holder = true}, .want = Stand::none},
      {.name = "own request above the holder stands",
       .in = {.quorum_kept = true, .above_holder = true},
       .want = Stand::attempt_lease},
      {.name = "below the holder: a new lease", .in = {.quorum_kept = true}, .want = Stand::new_lease},
      {.name = "given back never stands (Guarantee 1)",
       .in = {.quorum_kept = true, .above_holder = true, .gave_back = true, .raced = true},
       .want = Stand::none},
      {.name = "given back, no race either: a new lease, never the old one",
       .in = {.quorum_kept = true, .above_holder = true, .gave_back = true},
       .want = Stand::new_lease},
      {.name = "a race (FREE or grants): no new lease", .in = {.quorum_kept = true, .raced = true}, .want = Stand::none},
      {.name = "a race, own request above: it stands",
       .in = {.quorum_kept = true, .above_holder = true, .raced = true},
       .want = Stand::attempt_lease},
  };
  for (const Case& c : cases) EXPECT_EQ(to_string(decide(c.in)), std::string(to_string(c.want))) << c.name;
}

TEST(Standing, VotesAskOnlyTheVotersThatKeptIt) {
  Tally attempt(5);
  attempt.deny(0);  // held, kept
  attempt.deny(1);  // held, kept
  attempt.deny(2);  // held, kept
  attempt.grant(3);
  attempt.give_back(3);
  VoterSet kept;
  kept.insert(0);
  kept.insert(1);
  kept.insert(2);
  const Tally t = votes(attempt, kept);
  EXPECT_EQ(t.letters(), "___gn");
  EXPECT_EQ(t.result(), TallyResult::pending);
  EXPECT_EQ(t.check(), "");
}

TEST(Standing, RetryReusesTheLeaseUnderHalfItsTtl) {
  const Instant t0 = Instant::from_ns(5'000'000'000);
  const Duration ttl = Duration::s(10);
  EXPECT_TRUE(retry_same_lease(t0, t0, ttl));
  EXPECT_TRUE(retry_same_lease(t0 + Duration::s(5) - Duration::ns(1), t0, ttl));
  EXPECT_FALSE(retry_same_lease(t0 + Duration::s(5), t0, ttl));
}

TEST(Standing, MustPoll) {
  struct Case {
    const char* name;
    std::size_t unqueued, kept, need, voters;
    bool want;
  };
  const Case cases[] = {
      {.name = "every held voter kept it", .unqueued = 0, .kept = 1, .need = 2, .voters = 3, .want = false},
      {.name = "one did not, the rest miss a majority", .unqueued = 1, .kept = 1, .need = 2, .voters = 3, .want = true},
      {.name = "one did not, the rest cover every majority", .unqueued = 1, .kept = 2, .need = 2, .voters = 3,
       .want = false},
      {.name = "five voters, two kept", .unqueued = 2, .kept = 2, .need = 3, .voters = 5, .want = true},
      {.name = "five voters, three kept", .unqueued = 1, .kept = 3, .need = 3, .voters = 5, .want = false},
  };
  for (const Case& c : cases) EXPECT_EQ(must_poll(c.unqueued, c.kept, c.need, c.voters), c.want) << c.name;
}

}  // namespace
}  // namespace baton::core::standing
