// SPDX-License-Identifier: Apache-2.0
#include "core/tally.hpp"

#include <algorithm>

#include "core/assert.hpp"
#include "core/placement.hpp"

namespace baton::core {

const char* to_string(Vote v) {
  switch (v) {
    case Vote::pending: return "pending";
    case Vote::yes: return "yes";
    case Vote::no: return "no";
    case Vote::given_back: return "given_back";
  }
  return "?";
}

const char* to_string(TallyResult r) {
  switch (r) {
    case TallyResult::pending: return "pending";
    case TallyResult::won: return "won";
    case TallyResult::lost: return "lost";
  }
  return "?";
}

namespace {
std::uint64_t all_bits(std::size_t voters) {
  return voters == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << voters) - 1;
}
}  // namespace

Tally::Tally(std::size_t voters)
    : group_a_(VoterSet::from_bits(all_bits(voters))),
      voters_(static_cast<std::uint8_t>(voters)),
      need_(static_cast<std::uint8_t>(majority(voters))) {
  BATON_ASSERT(voters > 0);
  BATON_ASSERT(voters <= limits::members_max);
}

Tally::Tally(std::size_t voters, VoterSet a, VoterSet b)
    : group_a_(a), group_b_(b), voters_(static_cast<std::uint8_t>(voters)) {
  BATON_ASSERT(voters > 0);
  BATON_ASSERT(voters <= limits::members_max);
  BATON_ASSERT(!a.empty());
  BATON_ASSERT(((a.bits() | b.bits()) & ~all_bits(voters)) == 0);
  need_ = static_cast<std::uint8_t>(std::max(majority(a.size()), b.empty() ? 0 : majority(b.size())));
  no_ = all_bits(voters) & ~(a.bits() | b.bits());
  recount();
}

bool Tally::possible_without(VoterSet out) const {
  const auto ok = [&](VoterSet g) { return g.size() - (g & out).size() >= majority(g.size()); };
  return ok(group_a_) && (group_b_.empty() || ok(group_b_));
}

VoterSet Tally::with(Vote v) const {
  switch (v) {
    case Vote::yes: return VoterSet::from_bits(yes_);
    case Vote::no: return VoterSet::from_bits(no_);
    case Vote::given_back: return VoterSet::from_bits(given_back_);
    case Vote::pending: break;
  }
  return VoterSet::from_bits(all_bits(voters_) & ~(yes_ | no_ | given_back_));
}

void Tally::set(std::size_t i, Vote v) {
  BATON_ASSERT(i < voters_);
  const std::uint64_t bit = std::uint64_t{1} << i;
  const Vote old = vote(i);
  if (old == Vote::yes) --yes_count_;
  if (old == Vote::no || old == Vote::given_back) --no_count_;
  yes_ &= ~bit;
  no_ &= ~bit;
  given_back_ &= ~bit;
  if (v == Vote::yes) {
    yes_ |= bit;
    ++yes_count_;
  }
  if (v == Vote::no) no_ |= bit;
  if (v == Vote::given_back) given_back_ |= bit;
  if (v == Vote::no || v == Vote::given_back) ++no_count_;
}

void Tally::recount() {
  yes_count_ = static_cast<std::uint8_t>(VoterSet::from_bits(yes_).size());
  no_count_ = static_cast<std::uint8_t>(VoterSet::from_bits(no_ | given_back_).size());
}

bool Tally::grant(std::size_t i) {
  // Guarantee 1: a given-back grant never counts again (see the header).
  if (vote(i) == Vote::given_back) return false;
  set(i, Vote::yes);
  return true;
}

bool Tally::deny(std::size_t i) {
  if (vote(i) != Vote::pending) return false;
  set(i, Vote::no);
  return true;
}

void Tally::give_back(std::size_t i) { set(i, Vote::given_back); }

void Tally::ask_again() {
  yes_ = 0;
  no_ = all_bits(voters_) & ~(group_a_.bits() | group_b_.bits());  // those in no group stay no
  recount();
}

void Tally::only_asked(VoterSet asked) {
  const VoterSet pending = with(Vote::pending);
  const std::uint64_t outside = all_bits(voters_) & ~(group_a_.bits() | group_b_.bits());
  no_ = (no_ | yes_ | pending.bits() | outside) & ~(asked.bits() & ~outside);
  yes_ = 0;
  recount();
}

std::string Tally::letters() const {
  std::string s;
  for (std::size_t i = 0; i < voters_; ++i) {
    switch (vote(i)) {
      case Vote::pending: s += '_'; break;
      case Vote::yes: s += 'y'; break;
      case Vote::no: s += 'n'; break;
      case Vote::given_back: s += 'g'; break;
    }
  }
  return s;
}

std::string Tally::check() const {
  if ((yes_ & no_) || (yes_ & given_back_) || (no_ & given_back_)) return "tally: a voter with two votes";
  const std::uint64_t all = all_bits(voters_);
  if ((yes_ | no_ | given_back_) & ~all) return "tally: a vote beyond the voters";
  if (((group_a_.bits() | group_b_.bits()) & ~all) != 0) return "tally: a group beyond the voters";
  if (voters_ > 0 && group_a_.empty()) return "tally: no voters in group a";
  const std::size_t need =
      std::max(majority(group_a_.size()), group_b_.empty() ? std::size_t{0} : majority(group_b_.size()));
  if (voters_ > 0 && need_ != need) return "tally: need is not the groups' majority";
  if (yes_count_ != VoterSet::from_bits(yes_).size()) return "tally: yes count does not match the yes votes";
  if (no_count_ != VoterSet::from_bits(no_ | given_back_).size()) return "tally: no count does not match the no votes";
  return {};
}

}  // namespace baton::core
