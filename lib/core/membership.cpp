// SPDX-License-Identifier: Apache-2.0
#include "core/membership.hpp"

#include <algorithm>

#include "core/assert.hpp"
#include "core/limits.hpp"

namespace baton::core {

namespace {

bool contains(const std::vector<MemberId>& sorted, MemberId m) {
  return std::binary_search(sorted.begin(), sorted.end(), m);
}

// Whether more than half of `set` is in `granted`.
bool majority_of(const std::vector<MemberId>& set, std::span<const MemberId> granted) {
  std::size_t n = 0;
  for (MemberId m : set) {
    if (std::find(granted.begin(), granted.end(), m) != granted.end()) ++n;
  }
  return 2 * n > set.size();
}

std::string list(const std::vector<MemberId>& ids) {
  std::string s = "[";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(ids[i].value);
  }
  return s + "]";
}

Result<void> check_set(const char* name, const std::vector<MemberId>& ids) {
  if (ids.size() > limits::members_max) {
    return Error::with_text(Errc::invalid_argument, std::string("config: ") + name + " has " + std::to_string(ids.size()) +
                                             " voters, more than " + std::to_string(limits::members_max));
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const MemberId m = ids[i];
    if (m.value == 0 || m.value > member_id_max) {
      return Error::with_text(Errc::invalid_argument, std::string("config: ") + name + " voter " + std::to_string(m.value) +
                                               " is not a member id (1.." + std::to_string(member_id_max) + ")");
    }
    if (i > 0 && !(ids[i - 1] < m)) {
      return Error::with_text(Errc::invalid_argument,
                              std::string("config: ") + name + " " + list(ids) + " is not sorted and unique");
    }
  }
  return {};
}

}  // namespace

bool CfgRecord::is_voter(MemberId m) const { return contains(old_voters, m) || contains(new_voters, m); }

bool CfgRecord::is_quorum(std::span<const MemberId> granted) const {
  if (!majority_of(old_voters, granted)) return false;
  return !joint() || majority_of(new_voters, granted);
}

std::vector<MemberId> CfgRecord::voters() const {
  std::vector<MemberId> v = old_voters;
  for (MemberId m : new_voters) {
    if (!contains(old_voters, m)) v.push_back(m);
  }
  return v;
}

CfgRecord initial_record(std::vector<MemberId> members) {
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  CfgRecord r;
  r.id = initial_cfg_id;
  r.old_voters = std::move(members);
  return r;
}

Result<void> validate_record(const CfgRecord& r) {
  if (r.id.epoch == 0) return Error::with_text(Errc::invalid_argument, "config: epoch 0 (epochs start at 1)");
  if (r.id.epoch > limits::token_max || r.id.ballot > limits::token_max) {
    return Error::with_text(Errc::invalid_argument, "config: id " + to_string(r.id) + " above " +
                                                        std::to_string(limits::token_max) + " in epoch or ballot");
  }
  if (r.old_voters.empty()) return Error::with_text(Errc::invalid_argument, "config: " + to_string(r.id) + " has no voters");
  if (auto ok = check_set("voters", r.old_voters); !ok) return ok;
  if (auto ok = check_set("new voters", r.new_voters); !ok) return ok;
  if (r.floor.value > limits::token_max) {
    return Error::with_text(Errc::invalid_argument, "config: join floor " + std::to_string(r.floor.value) +
                                             " is above the largest token " + std::to_string(limits::token_max));
  }
  if (r.joint() && r.floor.value != 0) {
    return Error::with_text(Errc::invalid_argument, "config: " + to_string(r.id) + " is joint and has join floor " +
                                             std::to_string(r.floor.value) + " (only a simple record has one)");
  }
  return {};
}

std::string to_string(CfgId id) { return "(" + std::to_string(id.epoch) + ", " + std::to_string(id.ballot) + ")"; }

std::string to_string(const CfgRecord& r) {
  std::string s = "E=" + std::to_string(r.id.epoch) + " b=" + std::to_string(r.id.ballot) + " voters=" + list(r.old_voters);
  if (r.joint()) s += " new=" + list(r.new_voters);
  if (r.floor.value != 0) s += " F=" + std::to_string(r.floor.value);
  return s;
}

CfgAccept v1_check(const CfgState& s, const CfgRecord& r) {
  if (!(s.record.id < r.id)) return CfgAccept::not_newer;
  if (r.id.ballot < s.promised) return CfgAccept::behind;
  return CfgAccept::accepted;
}

CfgState v1_accept(const CfgState& s, const CfgRecord& r) {
  BATON_ASSERT(v1_check(s, r) == CfgAccept::accepted);
  return CfgState{r, std::max(s.promised, r.id.ballot), std::max(s.join_floor, r.floor)};
}

Result<void> validate_state(const CfgState& s) {
  if (auto ok = validate_record(s.record); !ok) return ok;
  if (s.promised < s.record.id.ballot) {
    return Error::with_text(Errc::invalid_argument, "config: promised ballot " + std::to_string(s.promised) +
                                                        " below the record's ballot " + std::to_string(s.record.id.ballot) +
                                                        " (" + to_string(s.record) + ")");
  }
  if (s.join_floor < s.record.floor || s.join_floor.value > limits::token_max) {
    return Error::with_text(Errc::invalid_argument, "config: join floor " + std::to_string(s.join_floor.value) +
                                                        " below the record's F or above the largest token (" +
                                                        to_string(s.record) + ")");
  }
  return {};
}

bool adoptable(const CfgRecord& r, std::span<const MemberId> sorted_members, std::size_t replicas) {
  if (sorted_members.size() > replicas) {
    return !r.joint() && std::equal(r.old_voters.begin(), r.old_voters.end(), sorted_members.begin(),
                                    sorted_members.end());
  }
  const auto listed = [&](const std::vector<MemberId>& set) {
    return std::includes(sorted_members.begin(), sorted_members.end(), set.begin(), set.end());
  };
  return listed(r.old_voters) && listed(r.new_voters);
}

const char* to_string(ReconfigOutcome o) {
  switch (o) {
    case ReconfigOutcome::committed: return "committed";
    case ReconfigOutcome::superseded: return "superseded";
    case ReconfigOutcome::timed_out: return "timed_out";
  }
  return "?";
}

}  // namespace baton::core
