// SPDX-License-Identifier: Apache-2.0
// waiters.hpp: a bounded set of members to tell with FREE (or hand the lease),
// one request per member, returned in arrival order and forgotten once taken.
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

Waiter W(std::uint32_t m, std::uint64_t serial = 0) {
  return Waiter{.member = MemberId{m}, .lease = LeaseId{.owner = MemberId{m}, .incarnation = {}, .serial = serial}};
}

std::vector<MemberId> members(const std::vector<Waiter>& v) {
  std::vector<MemberId> out;
  for (const Waiter& w : v) out.push_back(w.member);
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
      EXPECT_EQ(w.add(W(c.adds[i]), c.max), c.results[i]) << c.name << " add #" << i;
      EXPECT_LE(w.size(), c.max) << c.name;
    }
    EXPECT_EQ(w.size(), c.taken.size()) << c.name;
    EXPECT_EQ(members(w.take()), c.taken) << c.name;
    EXPECT_TRUE(w.empty()) << c.name;
    EXPECT_TRUE(w.take().empty()) << c.name << ": told once, then forgotten";
  }
}

TEST(Waiters, ContainsAndRemove) {
  WaiterSet w;
  EXPECT_FALSE(w.contains(MemberId{1}));
  EXPECT_FALSE(w.remove(MemberId{1}));
  ASSERT_TRUE(w.add(W(1), 3));
  ASSERT_TRUE(w.add(W(2), 3));
  ASSERT_TRUE(w.add(W(3), 3));
  EXPECT_FALSE(w.add(W(4), 3));
  EXPECT_TRUE(w.contains(MemberId{2}));
  EXPECT_TRUE(w.remove(MemberId{2}));
  EXPECT_FALSE(w.contains(MemberId{2}));
  EXPECT_FALSE(w.remove(MemberId{2}));
  // Room again after a removal; order of the rest is kept.
  EXPECT_TRUE(w.add(W(4), 3));
  EXPECT_EQ(members(w.take()), ids({1, 3, 4}));
}

TEST(Waiters, AMemberWaitingAgainKeepsItsPlaceWithItsNewestRequest) {
  // The voter hands the lease to a waiter's latest request: an older one's
  // acquirer has moved on and would only give it back.
  WaiterSet w;
  ASSERT_TRUE(w.add(W(1, 10), 2));
  ASSERT_TRUE(w.add(W(2, 20), 2));
  ASSERT_TRUE(w.add(W(1, 11), 2));  // full, but member 1 is present: replaced
  const std::vector<Waiter> taken = w.take();
  ASSERT_EQ(members(taken), ids({1, 2}));
  EXPECT_EQ(taken[0].lease.serial, 11u);
  EXPECT_EQ(taken[1].lease.serial, 20u);
}

}  // namespace
}  // namespace baton::core
