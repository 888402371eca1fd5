// SPDX-License-Identifier: Apache-2.0
// FenceGuard (lib/include/baton/fence.hpp): table-driven admit rules,
// eviction into the floor, atomic check-and-write under contention.
#include "baton/fence.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace baton {
namespace {

struct Step {
  const char* resource;
  std::uint64_t token;
  Errc expect;
  std::uint64_t highest_after;
};

TEST(FenceGuard, AdmitRules) {
  const Step steps[] = {
      {.resource = "seat:1", .token = 5, .expect = Errc::ok, .highest_after = 5},
      {.resource = "seat:1", .token = 5, .expect = Errc::ok, .highest_after = 5},  // same lease writes again
      {.resource = "seat:1", .token = 4, .expect = Errc::stale_token, .highest_after = 5},
      {.resource = "seat:1", .token = 9, .expect = Errc::ok, .highest_after = 9},
      {.resource = "seat:1", .token = 5, .expect = Errc::stale_token, .highest_after = 9},
      {.resource = "seat:2", .token = 1, .expect = Errc::ok, .highest_after = 1},  // resources independent
      {.resource = "seat:2", .token = 0, .expect = Errc::invalid_argument, .highest_after = 1},
  };
  FenceGuard g;
  for (const Step& s : steps) {
    SCOPED_TRACE(std::string(s.resource) + " token " + std::to_string(s.token));
    EXPECT_EQ(g.admit(s.resource, s.token).code(), s.expect);
    EXPECT_EQ(g.highest(s.resource), s.highest_after);
  }
  EXPECT_EQ(g.size(), 2u);
}

TEST(FenceGuard, GuardedRunsWriteOnlyWhenAdmitted) {
  FenceGuard g;
  int writes = 0;
  EXPECT_TRUE(g.guarded("r", 7, [&] { ++writes; }).ok());
  EXPECT_EQ(g.guarded("r", 6, [&] { ++writes; }).code(), Errc::stale_token);
  EXPECT_EQ(writes, 1);
}

TEST(FenceGuard, EvictionFoldsIntoFloorAndStaysSafe) {
  FenceGuard g(2);
  ASSERT_TRUE(g.admit("a", 10).ok());
  ASSERT_TRUE(g.admit("b", 20).ok());
  ASSERT_TRUE(g.admit("a", 11).ok());  // a is now the most recent; b is evicted next
  ASSERT_TRUE(g.admit("c", 30).ok());
  EXPECT_EQ(g.size(), 2u);
  EXPECT_EQ(g.floor(), 20u);
  // b lost its entry: its old token 20 is still refused below... and lower ones too.
  EXPECT_EQ(g.admit("b", 19).code(), Errc::stale_token);
  EXPECT_EQ(g.highest("b"), 20u);
  EXPECT_TRUE(g.admit("b", 20).ok());
  EXPECT_EQ(g.size(), 2u);
}

TEST(FenceGuard, ConcurrentWritersNeverWriteBelowTheHighest) {
  FenceGuard g;
  std::uint64_t stored = 0;  // written only inside guarded(), under the guard's mutex
  bool regressed = false;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (std::uint64_t i = 1; i <= 2000; ++i) {
        const std::uint64_t token = i * 4 + static_cast<std::uint64_t>(t);
        (void)g.guarded("row", token, [&] {
          if (token < stored) regressed = true;
          stored = token;
        });
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_FALSE(regressed);
  EXPECT_EQ(g.highest("row"), stored);
  EXPECT_EQ(stored, 2000u * 4 + 3);
}

}  // namespace
}  // namespace baton
