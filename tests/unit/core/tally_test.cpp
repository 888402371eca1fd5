// SPDX-License-Identifier: Apache-2.0
// tally.hpp: the truth table in testdata/tally.txt, plus the rules the type
// enforces on its own.
#include "core/tally.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace baton::core {
namespace {

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

char letter(Vote v) {
  switch (v) {
    case Vote::pending: return '_';
    case Vote::yes: return 'y';
    case Vote::no: return 'n';
    case Vote::given_back: return 'g';
  }
  return '?';
}

std::string votes(const Tally& t) {
  std::string s;
  for (std::size_t i = 0; i < t.voters(); ++i) s += letter(t.vote(i));
  return s;
}

// Applies one operation; returns "" or why the line is bad.
std::string apply(Tally& t, std::string op) {
  bool expect_refused = false;
  if (!op.empty() && op.back() == '!') {
    expect_refused = true;
    op.pop_back();
  }
  bool accepted = true;
  if (op == "again") {
    t.ask_again();
  } else if (op.starts_with("only")) {
    VoterSet asked;
    std::stringstream list(op.substr(4));
    for (std::string i; std::getline(list, i, ',');) asked.insert(std::stoul(i));
    t.only_asked(asked);
  } else if (op.size() >= 2 && (op[0] == 'y' || op[0] == 'n' || op[0] == 'g')) {
    const std::size_t i = std::stoul(op.substr(1));
    if (i >= t.voters()) return "voter index out of range: " + op;
    if (op[0] == 'y') accepted = t.grant(i);
    if (op[0] == 'n') accepted = t.deny(i);
    if (op[0] == 'g') t.give_back(i);
  } else {
    return "unknown operation: " + op;
  }
  if (accepted == expect_refused) return op + (expect_refused ? ": accepted, expected refused" : ": refused");
  return {};
}

TEST(Tally, TruthTable) {
  std::ifstream in(BATON_TESTDATA_DIR "/tally.txt");
  ASSERT_TRUE(in) << "cannot read " << BATON_TESTDATA_DIR "/tally.txt";
  int cases = 0;
  int lineno = 0;
  for (std::string line; std::getline(in, line);) {
    ++lineno;
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    const auto bar1 = line.find('|');
    const auto bar2 = line.find('|', bar1 + 1);
    ASSERT_NE(bar2, std::string::npos) << "line " << lineno << ": " << line;
    const std::size_t voters = std::stoul(line.substr(0, bar1));
    std::stringstream ops(line.substr(bar1 + 1, bar2 - bar1 - 1));
    std::stringstream want(line.substr(bar2 + 1));
    std::string want_result, want_votes;
    want >> want_result >> want_votes;
    Tally t(voters);
    for (std::string op; ops >> op;) {
      const std::string err = apply(t, op);
      EXPECT_EQ(err, "") << "line " << lineno << ": " << line;
      EXPECT_EQ(t.check(), "") << "line " << lineno << " after " << op;
    }
    EXPECT_EQ(to_string(t.result()), want_result) << "line " << lineno << ": " << line;
    EXPECT_EQ(votes(t), want_votes) << "line " << lineno << ": " << line;
    ++cases;
  }
  EXPECT_GE(cases, 30) << "the table was not read whole";
}

TEST(Tally, CountsFollowTheVotes) {
  Tally t(5);
  EXPECT_EQ(t.need(), 3U);
  t.grant(0);
  t.grant(1);
  t.deny(2);
  EXPECT_EQ(t.yes(), 2U);
  EXPECT_EQ(t.no(), 1U);
  t.give_back(0);
  EXPECT_EQ(t.yes(), 1U);
  EXPECT_EQ(t.no(), 2U) << "given back is on the no side";
  EXPECT_TRUE(t.any_given_back());
  VoterSet yes = t.with(Vote::yes);
  EXPECT_TRUE(yes.contains(1));
  EXPECT_EQ(yes.size(), 1U);
  EXPECT_EQ(t.check(), "");
}

TEST(Tally, GivenBackIsNeverYesAgainWhateverHappens) {
  // Every sequence of operations on 3 voters up to length 5: once voter 0 is
  // given back it stays given back, and grant() refuses it.
  const char* ops[] = {"y0", "n0", "g0", "y1", "n1", "again", "only0", "only1,2"};
  constexpr std::size_t kOps = sizeof(ops) / sizeof(ops[0]);
  std::size_t seqs = 0;
  std::vector<std::size_t> seq(5, 0);
  for (;;) {
    Tally t(3);
    bool given_back = false;
    for (std::size_t k : seq) {
      const std::string op = ops[k];
      if (op == "y0") {
        EXPECT_EQ(t.grant(0), !given_back);
      } else if (op == "n0") {
        t.deny(0);
      } else if (op == "g0") {
        t.give_back(0);
        given_back = true;
      } else {
        (void)apply(t, op);
      }
      if (given_back) {
        EXPECT_EQ(t.vote(0), Vote::given_back);
      }
      EXPECT_EQ(t.check(), "");
    }
    ++seqs;
    std::size_t d = 0;
    while (d < seq.size() && ++seq[d] == kOps) seq[d++] = 0;
    if (d == seq.size()) break;
  }
  EXPECT_EQ(seqs, kOps * kOps * kOps * kOps * kOps);
}

// A joint configuration (issue 21, A2): a majority of each group, and voters
// in neither group are no from the start and never count.
TEST(Tally, JointNeedsAMajorityOfEachGroup) {
  // Members 0..4; C_old = {0,1,2}, C_new = {2,3,4}.
  VoterSet a, b;
  for (std::size_t i : {0u, 1u, 2u}) a.insert(i);
  for (std::size_t i : {2u, 3u, 4u}) b.insert(i);
  Tally t(5, a, b);
  EXPECT_EQ(t.check(), "");
  EXPECT_TRUE(t.joint());
  EXPECT_EQ(t.voting(), 5u);
  EXPECT_EQ(t.need(), 2u);
  t.grant(0);
  t.grant(1);  // a majority of C_old only
  EXPECT_EQ(t.result(), TallyResult::pending);
  t.grant(3);
  EXPECT_EQ(t.result(), TallyResult::pending);  // {3} alone is no majority of C_new
  t.grant(4);
  EXPECT_EQ(t.result(), TallyResult::won);
  EXPECT_EQ(t.check(), "");
}

TEST(Tally, JointIsLostWhenEitherGroupCannotWin) {
  VoterSet a, b;
  for (std::size_t i : {0u, 1u, 2u}) a.insert(i);
  for (std::size_t i : {2u, 3u, 4u}) b.insert(i);
  Tally t(5, a, b);
  t.grant(0);
  t.grant(1);
  t.deny(3);
  EXPECT_EQ(t.result(), TallyResult::pending);
  t.deny(4);  // C_new has only voter 2 left
  EXPECT_EQ(t.result(), TallyResult::lost);
  EXPECT_FALSE(t.possible_without(VoterSet::from_bits(0b11000)));
  EXPECT_TRUE(t.possible_without(VoterSet::from_bits(0b01000)));
}

TEST(Tally, VotersOutsideTheGroupsAreNoAndNeverCount) {
  // Members 0..3; a simple configuration of {1,2,3}: member 0 is not a voter.
  VoterSet a;
  for (std::size_t i : {1u, 2u, 3u}) a.insert(i);
  Tally t(4, a, VoterSet{});
  EXPECT_EQ(t.vote(0), Vote::no);
  EXPECT_EQ(t.need(), 2u);
  EXPECT_EQ(t.voting(), 3u);
  t.grant(0);  // a stray grant from a non-voter
  t.grant(1);
  EXPECT_EQ(t.result(), TallyResult::pending);
  t.grant(2);
  EXPECT_EQ(t.result(), TallyResult::won);
  // Asked again, the outsider stays no; only_asked keeps it no too.
  t.ask_again();
  EXPECT_EQ(t.vote(0), Vote::no);
  EXPECT_EQ(t.vote(1), Vote::pending);
  t.only_asked(VoterSet::from_bits(0b0011));
  EXPECT_EQ(t.vote(0), Vote::no);
  EXPECT_EQ(t.vote(1), Vote::pending);
  EXPECT_EQ(t.vote(2), Vote::no);
  EXPECT_EQ(t.check(), "");
}

}  // namespace
}  // namespace baton::core
