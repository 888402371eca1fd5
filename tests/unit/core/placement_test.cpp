// SPDX-License-Identifier: Apache-2.0
// placement.hpp: rendezvous hashing. The expected voter sets are computed here
// from rendezvous_score by a straightforward full sort, independently of
// place()'s partial sort.
#include "core/placement.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/rng.hpp"

namespace baton::core {
namespace {

std::vector<MemberId> ids(std::initializer_list<std::uint32_t> v) {
  std::vector<MemberId> out;
  for (auto x : v) out.push_back(MemberId{x});
  return out;
}

std::vector<MemberId> range_ids(std::uint32_t first, std::uint32_t last) {
  std::vector<MemberId> out;
  for (std::uint32_t i = first; i <= last; ++i) out.push_back(MemberId{i});
  return out;
}

// Reference: the `r` members with the highest score (ties by lower id), sorted.
std::vector<MemberId> reference(const std::string& name, std::vector<MemberId> members, std::size_t r) {
  std::sort(members.begin(), members.end(), [&](MemberId a, MemberId b) {
    const auto sa = rendezvous_score(name, a), sb = rendezvous_score(name, b);
    if (sa != sb) return sa > sb;
    return a < b;
  });
  if (members.size() > r) members.resize(r);
  std::sort(members.begin(), members.end());
  return members;
}

std::string name_of(int i) { return "res:" + std::to_string(i); }

TEST(Placement, Majority) {
  struct Case {
    std::size_t voters, majority;
  };
  const Case cases[] = {{.voters = 1, .majority = 1}, {.voters = 2, .majority = 2}, {.voters = 3, .majority = 2},
                        {.voters = 4, .majority = 3}, {.voters = 5, .majority = 3}, {.voters = 7, .majority = 4}};
  for (const Case& c : cases) EXPECT_EQ(majority(c.voters), c.majority) << c.voters;
}

TEST(Placement, EveryMemberVotesWhenMembersAtMostR) {
  struct Case {
    std::vector<MemberId> members;  // any order
    std::size_t replicas;
    std::vector<MemberId> want;     // sorted
  };
  const Case cases[] = {
      {.members = ids({1}), .replicas = 5, .want = ids({1})},
      {.members = ids({3, 1, 2}), .replicas = 3, .want = ids({1, 2, 3})},
      {.members = ids({9, 4, 7}), .replicas = 5, .want = ids({4, 7, 9})},
      {.members = ids({5, 4, 3, 2, 1}), .replicas = 5, .want = ids({1, 2, 3, 4, 5})},
  };
  for (const Case& c : cases) {
    for (int i = 0; i < 50; ++i) EXPECT_EQ(place(name_of(i), c.members, c.replicas), c.want);
  }
}

TEST(Placement, ExactlyRDistinctSortedVotersMatchingTheHighestScores) {
  struct Case {
    std::uint32_t members;
    std::size_t replicas;
  };
  const Case cases[] = {{.members = 4, .replicas = 3}, {.members = 6, .replicas = 5}, {.members = 9, .replicas = 3},
                        {.members = 64, .replicas = 5}, {.members = 8, .replicas = 1}};
  for (const Case& c : cases) {
    const auto members = range_ids(1, c.members);
    for (int i = 0; i < 300; ++i) {
      const auto got = place(name_of(i), members, c.replicas);
      ASSERT_EQ(got.size(), c.replicas);
      EXPECT_TRUE(std::is_sorted(got.begin(), got.end()));
      EXPECT_EQ(std::adjacent_find(got.begin(), got.end()), got.end()) << "duplicate voter";
      EXPECT_EQ(got, reference(name_of(i), members, c.replicas)) << name_of(i);
    }
  }
}

TEST(Placement, DeterministicAndIndependentOfMemberOrder) {
  auto members = range_ids(1, 9);
  Rng rng(3);
  for (int i = 0; i < 200; ++i) {
    const auto first = place(name_of(i), members, 5);
    EXPECT_EQ(place(name_of(i), members, 5), first);
    // Fisher–Yates shuffle with the deterministic test PRNG.
    auto shuffled = members;
    for (std::size_t k = shuffled.size() - 1; k > 0; --k) std::swap(shuffled[k], shuffled[rng.uniform(k)]);
    EXPECT_EQ(place(name_of(i), shuffled, 5), first);
  }
}

TEST(Placement, ScoreDependsOnNameAndMember) {
  int same_member = 0, same_name = 0;
  for (int i = 0; i < 1000; ++i) {
    same_member += rendezvous_score(name_of(i), MemberId{1}) == rendezvous_score(name_of(i + 1), MemberId{1});
    same_name += rendezvous_score(name_of(i), MemberId{1}) == rendezvous_score(name_of(i), MemberId{2});
    EXPECT_EQ(rendezvous_score(name_of(i), MemberId{3}), rendezvous_score(name_of(i), MemberId{3}));
  }
  EXPECT_EQ(same_member, 0);
  EXPECT_EQ(same_name, 0);
}

TEST(Placement, AddingAMemberMovesOnlyResourcesItJoins) {
  struct Case {
    std::uint32_t members;
    std::size_t replicas;
  };
  const Case cases[] = {{.members = 5, .replicas = 5}, {.members = 7, .replicas = 5}, {.members = 9, .replicas = 3}};
  for (const Case& c : cases) {
    const auto before_members = range_ids(1, c.members);
    const auto after_members = range_ids(1, c.members + 1);
    const MemberId added{c.members + 1};
    int moved = 0;
    const int names = 3000;
    for (int i = 0; i < names; ++i) {
      const auto before = place(name_of(i), before_members, c.replicas);
      const auto after = place(name_of(i), after_members, c.replicas);
      if (before == after) continue;
      ++moved;
      // Changed only because the new member entered the top R, displacing one.
      ASSERT_TRUE(std::binary_search(after.begin(), after.end(), added)) << name_of(i);
      std::vector<MemberId> kept;
      std::set_intersection(before.begin(), before.end(), after.begin(), after.end(), std::back_inserter(kept));
      EXPECT_EQ(kept.size(), c.replicas - 1) << name_of(i);
    }
    // The new member enters the top R of about R/(N+1) of the names.
    const double expected = static_cast<double>(names) * static_cast<double>(c.replicas) / (c.members + 1);
    EXPECT_GT(moved, expected * 0.8) << c.members;
    EXPECT_LT(moved, expected * 1.2) << c.members;
  }
}

TEST(Placement, RoughlyBalanced) {
  struct Case {
    std::uint32_t members;
    std::size_t replicas;
  };
  const Case cases[] = {{.members = 7, .replicas = 3}, {.members = 9, .replicas = 5}, {.members = 16, .replicas = 5}};
  const int names = 10000;
  for (const Case& c : cases) {
    const auto members = range_ids(1, c.members);
    std::map<MemberId, int> load;
    for (int i = 0; i < names; ++i) {
      for (MemberId m : place(name_of(i), members, c.replicas)) ++load[m];
    }
    const double fair = static_cast<double>(names) * static_cast<double>(c.replicas) / c.members;
    ASSERT_EQ(load.size(), c.members);
    for (const auto& [m, n] : load) {
      EXPECT_GT(n, fair * 0.85) << "member " << m.value;
      EXPECT_LT(n, fair * 1.15) << "member " << m.value;
    }
  }
}

}  // namespace
}  // namespace baton::core
