// SPDX-License-Identifier: Apache-2.0
// Tally: the votes of one round, an attempt's REQUESTs or a renewal's RENEWs,
// and whether they make a majority (etcd raft's quorum.VoteResult).
//
// Each voter of the resource, by its index in the sorted voter list, has one
// vote:
//   pending     not answered (yet), or asked again;
//   yes         granted (or acked) this lease;
//   no          denied it, or told FREE (it will not grant it now);
//   given_back  granted it, and this member sent that voter RELEASE.
// The result is `won` once yes votes reach the majority, `lost` once more
// voters are on the no side (no and given back) than can be spared, and
// `pending` otherwise.
//
// A joint configuration (issue 21, shared/MEMBERSHIP.md A2) needs a majority
// of each of its two voter sets: a tally may carry two groups, and wins only
// with a majority of yes votes in each. Voters in neither group (members of
// the address book that this configuration does not list) start as no: they
// are never asked, and their votes never count.
//
// A voter that said no may grant later: a hold ended and it handed the lease
// over, so its no becomes a yes. A voter whose grant was given back never
// counts as yes again (Guarantee 1: our RELEASE may still be on its way, and
// would end the very hold a yes would count): grant() refuses it, and the
// caller answers that grant with another RELEASE. That refusal is the type's
// own rule, not a check each caller must remember (issue 19's renewal hole).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/limits.hpp"

namespace baton::core {

enum class Vote : std::uint8_t { pending, yes, no, given_back };
enum class TallyResult : std::uint8_t { pending, won, lost };

const char* to_string(Vote v);
const char* to_string(TallyResult r);

// A set of voters, by index into a resource's sorted voter list.
class VoterSet {
 public:
  static_assert(limits::members_max <= 64, "one bit per voter");
  constexpr VoterSet() = default;
  static VoterSet from_bits(std::uint64_t bits) { return VoterSet{bits}; }
  std::uint64_t bits() const { return bits_; }
  bool contains(std::size_t i) const { return (bits_ >> i) & 1U; }
  void insert(std::size_t i) { bits_ |= std::uint64_t{1} << i; }
  void erase(std::size_t i) { bits_ &= ~(std::uint64_t{1} << i); }
  std::size_t size() const { return static_cast<std::size_t>(__builtin_popcountll(bits_)); }
  bool empty() const { return bits_ == 0; }
  VoterSet operator&(VoterSet o) const { return VoterSet{bits_ & o.bits_}; }
  VoterSet operator|(VoterSet o) const { return VoterSet{bits_ | o.bits_}; }
  bool operator==(const VoterSet&) const = default;

 private:
  explicit constexpr VoterSet(std::uint64_t bits) : bits_(bits) {}
  std::uint64_t bits_ = 0;  // bit i: voter i
};

class Tally {
 public:
  Tally() = default;
  // `voters` voters, every vote pending; a majority of them wins.
  explicit Tally(std::size_t voters);
  // `voters` voters of which those in `a` (non-empty), and when `b` is not
  // empty also those in `b`, vote: a majority of `a` and one of `b` win.
  // Voters in neither start as no.
  Tally(std::size_t voters, VoterSet a, VoterSet b);

  std::size_t voters() const { return voters_; }
  // The voters in a group (all of them for a plain tally).
  std::size_t voting() const { return asked().size(); }
  // The voters in a group: those asked (the others start as no).
  VoterSet asked() const { return group_a_ | group_b_; }
  // The larger of the groups' majorities: fewer yes votes can never win, and
  // with fewer than need() voters left off the no side the tally is lost.
  std::size_t need() const { return need_; }
  VoterSet group_a() const { return group_a_; }
  VoterSet group_b() const { return group_b_; }
  bool joint() const { return !group_b_.empty(); }
  std::size_t yes() const { return yes_count_; }
  // The no side: no and given back.
  std::size_t no() const { return no_count_; }
  Vote vote(std::size_t i) const {
    const std::uint64_t bit = std::uint64_t{1} << i;
    if (yes_ & bit) return Vote::yes;
    if (no_ & bit) return Vote::no;
    if (given_back_ & bit) return Vote::given_back;
    return Vote::pending;  // also for i >= voters(): check() keeps those empty
  }
  TallyResult result() const {
    if (wins(group_a_) && (group_b_.empty() || wins(group_b_))) return TallyResult::won;
    // In some group, more voters on the no side than can be spared.
    if (loses(group_a_) || (!group_b_.empty() && loses(group_b_))) return TallyResult::lost;
    return TallyResult::pending;
  }
  // Whether a quorum could still form if every voter in `out` said no
  // (whatever the votes so far): some majority of each group avoids `out`.
  bool possible_without(VoterSet out) const;
  // Voters whose vote is `v`.
  VoterSet with(Vote v) const;
  bool any_given_back() const { return given_back_ != 0; }

  // Voter i granted. From pending or no (a hand-off replaces a no); a second
  // grant is a duplicate and changes nothing. Refused (returns false, nothing
  // changes) for a voter whose grant was given back.
  bool grant(std::size_t i);
  // Voter i denied (or told FREE). Only a pending vote becomes no; returns
  // whether it did (a later or repeated answer does not overturn a vote).
  bool deny(std::size_t i);
  // This member sent voter i RELEASE for the lease: from any vote (a voter
  // may hold the lease without our having seen its grant, e.g. it acked a
  // confirm round). Counts on the no side for good.
  void give_back(std::size_t i);
  // Every vote but the given-back ones back to pending: the same lease asked
  // again (a standing request's retry).
  void ask_again();
  // Every vote not in `asked` (and not given back) becomes no: the voters
  // that are not asked cannot grant (a standing request asks only some).
  void only_asked(VoterSet asked);

  // One letter per voter: _ pending, y yes, n no, g given back ("yn_").
  std::string letters() const;
  // Each voter has exactly one vote, and only voters have votes; empty if so.
  std::string check() const;

 private:
  void set(std::size_t i, Vote v);
  void recount();
  bool wins(VoterSet g) const { return (VoterSet::from_bits(yes_) & g).size() >= g.size() / 2 + 1; }
  bool loses(VoterSet g) const {
    return g.size() - (VoterSet::from_bits(no_ | given_back_) & g).size() < g.size() / 2 + 1;
  }
  // One bit per voter in at most one of the three sets (pending: in none).
  std::uint64_t yes_ = 0;
  std::uint64_t no_ = 0;
  std::uint64_t given_back_ = 0;
  VoterSet group_a_;  // every voter, unless joint or some are left out
  VoterSet group_b_;  // empty unless joint
  std::uint8_t voters_ = 0;
  std::uint8_t need_ = 0;
  std::uint8_t yes_count_ = 0;  // |yes_|, kept with the sets (check() recounts)
  std::uint8_t no_count_ = 0;   // |no_| + |given_back_|
};

}  // namespace baton::core
