// waiters.hpp: a bounded, deduplicated set of members to tell with FREE,
// returned in arrival order and forgotten once taken.
#include "core/waiters.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace baton::core {
namespace {

std::vector<MemberId> ids(std::initializer_list<std::uint32_t> v) {
  std::vector<MemberId> out;
  for (auto x : v) out.push_back(MemberId{x});
  return out;
}

TEST(Waiters, AddDedupeBoundAndTakeOrder) {
  struct Case {
    const char* name;
    std::size_t max;
    std::vector<std::uint32_t> adds;
    std::vector<bool> results;       // add() per element of adds
    std::vector<MemberId> taken;     // take() afterwards, arrival order
  };
  const Case cases[] = {
      {.name = "arrival order kept", .max = 8, .adds = {5, 2, 9}, .results = {true, true, true}, .taken = ids({5, 2, 9})},
      {.name = "dedupe", .max = 8, .adds = {3, 3, 4, 3}, .results = {true, true, true, true}, .taken = ids({3, 4})},
      {.name = "bound", .max = 2, .adds = {1, 2, 3}, .results = {true, true, false}, .taken = ids({1, 2})},
      // A member already present is "remembered" even when the set is full.
      {.name = "dedupe when full", .max = 2, .adds = {1, 2, 2, 1, 7}, .results = {true, true, true, true, false},
       .taken = ids({1, 2})},
      {.name = "bound 1", .max = 1, .adds = {6, 6, 5}, .results = {true, true, false}, .taken = ids({6})},
  };
  for (const Case& c : cases) {
    WaiterSet w;
    ASSERT_EQ(c.adds.size(), c.results.size());
    for (std::size_t i = 0; i < c.adds.size(); ++i) {
      EXPECT_EQ(w.add(MemberId{c.adds[i]}, c.max), c.results[i]) << c.name << " add #" << i;
      EXPECT_LE(w.size(), c.max) << c.name;
    }
    EXPECT_EQ(w.size(), c.taken.size()) << c.name;
    EXPECT_EQ(w.take(), c.taken) << c.name;
    EXPECT_TRUE(w.empty()) << c.name;
    EXPECT_EQ(w.take(), std::vector<MemberId>{}) << c.name << ": told once, then forgotten";
  }
}

TEST(Waiters, ContainsAndRemove) {
  WaiterSet w;
  EXPECT_FALSE(w.contains(MemberId{1}));
  EXPECT_FALSE(w.remove(MemberId{1}));
  ASSERT_TRUE(w.add(MemberId{1}, 3));
  ASSERT_TRUE(w.add(MemberId{2}, 3));
  ASSERT_TRUE(w.add(MemberId{3}, 3));
  EXPECT_FALSE(w.add(MemberId{4}, 3));
  EXPECT_TRUE(w.contains(MemberId{2}));
  EXPECT_TRUE(w.remove(MemberId{2}));
  EXPECT_FALSE(w.contains(MemberId{2}));
  EXPECT_FALSE(w.remove(MemberId{2}));
  // Room again after a removal; order of the rest is kept.
  EXPECT_TRUE(w.add(MemberId{4}, 3));
  EXPECT_EQ(w.take(), ids({1, 3, 4}));
}

}  // namespace
}  // namespace baton::core
