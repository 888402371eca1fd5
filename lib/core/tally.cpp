// SPDX-License-Identifier: Apache-2.0
#include "core/tally.hpp"

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

Tally::Tally(std::size_t voters)
    : voters_(static_cast<std::uint8_t>(voters)), need_(static_cast<std::uint8_t>(majority(voters))) {
  BATON_ASSERT(voters > 0);
  BATON_ASSERT(voters <= limits::members_max);
}

Vote Tally::vote(std::size_t i) const {
  BATON_ASSERT(i < voters_);
  return votes_[i];
}

TallyResult Tally::result() const {
  if (yes_ >= need_) return TallyResult::won;
  // More voters on the no side than the voters - majority that can be spared.
  if (no_ > voters_ - need_) return TallyResult::lost;
  return TallyResult::pending;
}

VoterSet Tally::with(Vote v) const {
  VoterSet s;
  for (std::size_t i = 0; i < voters_; ++i) {
    if (votes_[i] == v) s.insert(i);
  }
  return s;
}

void Tally::set(std::size_t i, Vote v) {
  BATON_ASSERT(i < voters_);
  const Vote old = votes_[i];
  if (old == Vote::yes) --yes_;
  if (old == Vote::no || old == Vote::given_back) --no_;
  votes_[i] = v;
  if (v == Vote::yes) ++yes_;
  if (v == Vote::no || v == Vote::given_back) ++no_;
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
  for (std::size_t i = 0; i < voters_; ++i) {
    if (votes_[i] != Vote::given_back) set(i, Vote::pending);
  }
}

void Tally::only_asked(VoterSet asked) {
  for (std::size_t i = 0; i < voters_; ++i) {
    if (votes_[i] == Vote::given_back) continue;
    set(i, asked.contains(i) ? Vote::pending : Vote::no);
  }
}

std::string Tally::letters() const {
  std::string s;
  for (std::size_t i = 0; i < voters_; ++i) {
    switch (votes_[i]) {
      case Vote::pending: s += '_'; break;
      case Vote::yes: s += 'y'; break;
      case Vote::no: s += 'n'; break;
      case Vote::given_back: s += 'g'; break;
    }
  }
  return s;
}

std::string Tally::check() const {
  std::size_t yes = 0;
  std::size_t no = 0;
  for (std::size_t i = 0; i < voters_; ++i) {
    yes += votes_[i] == Vote::yes;
    no += votes_[i] == Vote::no || votes_[i] == Vote::given_back;
  }
  for (std::size_t i = voters_; i < limits::members_max; ++i) {
    if (votes_[i] != Vote::pending) return "tally: a vote beyond the voters";
  }
  if (yes != yes_) return "tally: yes count " + std::to_string(yes_) + " but " + std::to_string(yes) + " yes votes";
  if (no != no_) return "tally: no count " + std::to_string(no_) + " but " + std::to_string(no) + " no votes";
  if (voters_ > 0 && need_ != majority(voters_)) return "tally: need is not the majority";
  return {};
}

}  // namespace baton::core
