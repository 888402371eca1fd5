// SPDX-License-Identifier: Apache-2.0
// membership.hpp: configuration records, their order, validation, quorums
// and V1 (issue 21).
#include "core/membership.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/limits.hpp"

namespace baton::core {
namespace {

std::vector<MemberId> ids(std::initializer_list<std::uint32_t> v) {
  std::vector<MemberId> out;
  for (std::uint32_t x : v) out.push_back(MemberId{x});
  return out;
}

CfgRecord rec(CfgId id, std::initializer_list<std::uint32_t> old_v, std::initializer_list<std::uint32_t> new_v = {},
              std::uint64_t floor = 0) {
  return CfgRecord{.id = id, .old_voters = ids(old_v), .new_voters = ids(new_v), .floor = Token{floor}};
}

TEST(Membership, IdsOrderByEpochThenBallot) {
  EXPECT_LT((CfgId{1, 9}), (CfgId{2, 0}));
  EXPECT_LT((CfgId{2, 3}), (CfgId{2, 4}));
  EXPECT_EQ((CfgId{2, 3}), (CfgId{2, 3}));
  EXPECT_EQ(initial_cfg_id, (CfgId{1, 0}));
}

TEST(Membership, InitialRecordSortsAndDeduplicates) {
  const CfgRecord r = initial_record(ids({3, 1, 2, 3}));
  EXPECT_EQ(r, rec({1, 0}, {1, 2, 3}));
  EXPECT_TRUE(validate_record(r).ok());
  EXPECT_FALSE(r.joint());
}

TEST(Membership, ValidateNamesTheValueAtFault) {
  struct Case {
    const char* name;
    CfgRecord r;
    const char* text;  // empty: valid
  };
  std::vector<std::uint32_t> many;
  const Case cases[] = {
      {"simple", rec({1, 0}, {1, 2, 3}), ""},
      {"joint", rec({2, 4}, {1, 2, 3}, {2, 3, 4}), ""},
      {"simple with F", rec({3, 4}, {2, 3, 4}, {}, 17), ""},
      {"epoch 0", rec({0, 1}, {1}), "epoch 0"},
      {"no voters", rec({1, 0}, {}), "has no voters"},
      {"unsorted", rec({1, 0}, {2, 1}), "voters [2,1] is not sorted and unique"},
      {"repeated", rec({1, 0}, {1, 1}), "is not sorted and unique"},
      {"voter 0", rec({1, 0}, {0, 1}), "voter 0 is not a member id"},
      {"client id", rec({1, 0}, {1, 0x80000000U}), "voter 2147483648 is not a member id"},
      {"new unsorted", rec({2, 0}, {1}, {3, 2}), "new voters [3,2] is not sorted"},
      {"joint with F", rec({2, 0}, {1}, {2}, 5), "is joint and has join floor 5"},
      {"F above token_max", rec({2, 0}, {1}, {}, limits::token_max + 1), "join floor 9223372036854775808"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Result<void> ok = validate_record(c.r);
    if (std::string(c.text).empty()) {
      EXPECT_TRUE(ok.ok()) << ok.what();
    } else {
      ASSERT_FALSE(ok.ok());
      EXPECT_EQ(ok.code(), Errc::invalid_argument);
      EXPECT_NE(std::string(ok.what()).find(c.text), std::string::npos) << ok.what();
    }
  }
  CfgRecord big = rec({1, 0}, {});
  for (std::uint32_t i = 1; i <= limits::members_max + 1; ++i) big.old_voters.push_back(MemberId{i});
  EXPECT_FALSE(validate_record(big).ok());
  big.old_voters.pop_back();
  EXPECT_TRUE(validate_record(big).ok());
}

TEST(Membership, QuorumIsAMajorityOfEachSet) {
  const CfgRecord simple = rec({1, 0}, {1, 2, 3});
  EXPECT_FALSE(simple.is_quorum(ids({1})));
  EXPECT_TRUE(simple.is_quorum(ids({1, 3})));
  EXPECT_FALSE(simple.is_quorum(ids({1, 1, 9})));  // duplicates and strangers do not count
  // Joint (1,2,3) -> (3,4,5): a majority of each.
  const CfgRecord joint = rec({2, 1}, {1, 2, 3}, {3, 4, 5});
  EXPECT_FALSE(joint.is_quorum(ids({1, 2})));     // old only
  EXPECT_FALSE(joint.is_quorum(ids({4, 5})));     // new only
  EXPECT_TRUE(joint.is_quorum(ids({3, 1, 4})));   // 3 counts in both
  EXPECT_TRUE(joint.is_quorum(ids({1, 2, 4, 5})));
  EXPECT_EQ(joint.voters(), ids({1, 2, 3, 4, 5}));
  EXPECT_TRUE(joint.is_voter(MemberId{5}));
  EXPECT_FALSE(joint.is_voter(MemberId{6}));
}

TEST(Membership, V1AcceptsOnlyNewerIdsAtOrAbovePromise) {
  const CfgState s{.record = rec({2, 5}, {1, 2, 3}), .promised = 7};
  struct Case {
    CfgId id;
    CfgAccept want;
  };
  const Case cases[] = {
      {{3, 7}, CfgAccept::accepted},   // newer, ballot == promised
      {{3, 9}, CfgAccept::accepted},   // newer, higher ballot
      {{2, 8}, CfgAccept::accepted},   // same epoch, higher ballot
      {{3, 6}, CfgAccept::behind},     // newer id, but below the promise
      {{2, 5}, CfgAccept::not_newer},  // the same record
      {{1, 9}, CfgAccept::not_newer},  // older epoch
      {{2, 7}, CfgAccept::accepted},   // ballot 7 >= promised, id (2,7) > (2,5)
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(to_string(c.id));
    const CfgRecord r = rec(c.id, {1, 2, 3});
    EXPECT_EQ(v1_check(s, r), c.want);
    if (c.want == CfgAccept::accepted) {
      const CfgState next = v1_accept(s, r);
      EXPECT_EQ(next.record, r);
      EXPECT_EQ(next.promised, std::max<std::uint64_t>(7, c.id.ballot));
    }
  }
}

TEST(Membership, StateKeepsTheHighestJoinFloorAndAdoptsOnlyTheMembersRecords) {
  CfgState s{.record = rec({1, 0}, {1, 2, 3}), .promised = 0, .join_floor = {}};
  s = v1_accept(s, rec({2, 1}, {1, 2, 3}, {}, 50));
  EXPECT_EQ(s.join_floor, Token{50});
  s = v1_accept(s, rec({3, 1}, {1, 2, 3}));  // no F: the join floor stays
  EXPECT_EQ(s.join_floor, Token{50});
  EXPECT_TRUE(validate_state(s).ok());
  s.join_floor = Token{0};
  s.record.floor = Token{7};
  EXPECT_FALSE(validate_state(s).ok());
  const std::vector<MemberId> members = ids({1, 2, 3});
  // Voters among the members (the address book), in any sets, joint or not.
  EXPECT_TRUE(adoptable(rec({2, 0}, {1, 2, 3}), members, 5));
  EXPECT_TRUE(adoptable(rec({2, 0}, {1, 2}), members, 5));
  EXPECT_TRUE(adoptable(rec({2, 0}, {1, 2}, {2, 3}), members, 5));
  EXPECT_FALSE(adoptable(rec({2, 0}, {1, 2, 3}, {1, 2, 3, 4}), members, 5));  // 4 is no member
  EXPECT_FALSE(adoptable(rec({2, 0}, {4}), members, 5));
  // Scale mode (more members than replicas): only exactly the members.
  EXPECT_TRUE(adoptable(rec({2, 0}, {1, 2, 3}), members, 1));
  EXPECT_FALSE(adoptable(rec({2, 0}, {1, 2}), members, 1));
  EXPECT_FALSE(adoptable(rec({2, 0}, {1, 2, 3}, {1, 2, 3}), members, 1));
  EXPECT_FALSE(validate_record(rec({std::uint64_t{1} << 63, 0}, {1})).ok());
  EXPECT_FALSE(validate_record(rec({1, std::uint64_t{1} << 63}, {1})).ok());
}

TEST(Membership, ToStringShowsEveryField) {
  EXPECT_EQ(to_string(rec({2, 4}, {1, 2}, {2, 3})), "E=2 b=4 voters=[1,2] new=[2,3]");
  EXPECT_EQ(to_string(rec({3, 4}, {2, 3}, {}, 9)), "E=3 b=4 voters=[2,3] F=9");
  EXPECT_EQ(to_string(CfgId{5, 6}), "(5, 6)");
}

}  // namespace
}  // namespace baton::core
