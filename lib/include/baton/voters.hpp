// SPDX-License-Identifier: Apache-2.0
// Who votes: the configuration record a member votes under, and the outcome
// of a change of the voters (Cluster::reconfigure; docs/operations.md
// "Changing the members", docs/protocol.md "Changing the voters").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace baton {

// A configuration record: which members vote. Records are ordered by
// (epoch, ballot); each change of the voters makes two (a joint one, then
// the new voters' own).
struct VoterConfig {
  std::uint64_t epoch = 0;              // >= 1 (0 in a default-constructed value: not known)
  std::uint64_t ballot = 0;             // the ballot of the member that proposed it (0: the cluster's first)
  std::vector<std::uint32_t> voters;    // the voters, sorted member ids
  // While a change is under way (a joint record): the voters it moves to,
  // sorted. A lease then needs a majority of `voters` and of `new_voters`.
  std::vector<std::uint32_t> new_voters;

  bool joint() const noexcept { return !new_voters.empty(); }
  bool operator==(const VoterConfig&) const = default;
};

// How a change of the voters ended.
enum class ReconfigureOutcome : std::uint8_t {
  committed,   // the new voters' record is committed: a majority of them holds it
  superseded,  // another member's change (a higher ballot) got in first: look at the
               // configuration (Stats::voting) and call again if still needed
  timed_out,   // no quorum answered in time (voters down or unreachable, or this member
               // started a new life mid-change); the change may be half done: the next
               // reconfigure, from any member, finishes it first
};

constexpr std::string_view reconfigure_outcome_name(ReconfigureOutcome o) noexcept {
  switch (o) {
    case ReconfigureOutcome::committed: return "committed";
    case ReconfigureOutcome::superseded: return "superseded";
    case ReconfigureOutcome::timed_out: return "timed_out";
  }
  return "unknown";
}

struct ReconfigureResult {
  ReconfigureOutcome outcome = ReconfigureOutcome::committed;
  VoterConfig config;     // committed: the new voters' record; otherwise the newest one this member heard of
  std::uint64_t ballot = 0;  // the ballot this member's run used
  std::string detail;     // for people: what the run waited for, who refused

  bool committed() const noexcept { return outcome == ReconfigureOutcome::committed; }
};

}  // namespace baton
