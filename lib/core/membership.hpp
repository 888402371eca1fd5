// SPDX-License-Identifier: Apache-2.0
// Configuration records (issue 21, docs/membership.md step 2): which members
// vote, named by an id that orders every configuration a cluster ever had.
//
// A record is (E, b, C_old, C_new, F): epoch E, the ballot b of the driver
// that proposed it, the voter set C_old, and for a joint configuration (a
// change under way) the voter set C_new; F, the join floor, only on a simple
// record that ends a change. Its id is (E, b), ordered lexicographically.
// Every member persists its record and `promised`, the highest ballot it
// promised or accepted, before acting on them (shared/MEMBERSHIP.md, V1).
//
// Until the reconfiguration driver exists (step 3), a cluster has one record:
// initial_record(members) = (1, 0, members, -, 0), which is also what a
// member of an older version, whose requests carry no id, is taken to mean.
// Pure values and functions; no I/O.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "baton/result.hpp"
#include "core/ids.hpp"

namespace baton::core {

// A configuration's id: epoch first, then the proposing driver's ballot.
struct CfgId {
  std::uint64_t epoch = 0;
  std::uint64_t ballot = 0;
  constexpr auto operator<=>(const CfgId&) const = default;
};

// The id of every cluster's first configuration, and what a request without
// an id (a member older than issue 21) is taken to be tagged with.
inline constexpr CfgId initial_cfg_id{1, 0};

struct CfgRecord {
  CfgId id = initial_cfg_id;
  std::vector<MemberId> old_voters;  // C_old: sorted, unique members, non-empty
  std::vector<MemberId> new_voters;  // C_new: empty for a simple record; sorted, unique when joint
  Token floor{};                     // F: 0 unless a simple record that ends a change
  bool operator==(const CfgRecord&) const = default;

  bool joint() const { return !new_voters.empty(); }
  // Whether `m` votes under this record (in C_old or C_new).
  bool is_voter(MemberId m) const;
  // Whether `granted` (member ids, any order, duplicates counted once) is a
  // quorum of this record: a majority of C_old, and when joint also of C_new.
  bool is_quorum(std::span<const MemberId> granted) const;
  // Every voter, C_old then those of C_new not in C_old.
  std::vector<MemberId> voters() const;
};

// (1, 0, members, -, 0) with `members` sorted.
CfgRecord initial_record(std::vector<MemberId> members);

// Checks a record from anywhere (wire, state directory, API): epoch in
// 1..2^63-1 and ballot <= 2^63-1 (ids far from exhaustion);
// C_old non-empty; each set sorted, unique, members only (1..member_id_max),
// at most limits::members_max; F only on a simple record, <= token_max.
// Errors: invalid_argument naming the value at fault ("config: epoch 0 ...").
Result<void> validate_record(const CfgRecord& r);

// "(E, b)" and "E=2 b=7 voters=[1,2,3] new=[4] F=9": for logs and errors.
std::string to_string(CfgId id);
std::string to_string(const CfgRecord& r);

// What a member persists about configurations.
struct CfgState {
  CfgRecord record;   // the configuration it votes under
  std::uint64_t promised = 0;  // the highest driver ballot it promised or accepted; >= record.id.ballot
  // The highest join floor F of any record it adopted: applied to the floor at
  // every start, never lowered. (The current record's F is not enough: the next
  // record, joint or simple, may carry none, and replaces it on disk.)
  Token join_floor{};
  bool operator==(const CfgState&) const = default;
};

// Whether `s` is consistent: a valid record, promised >= its ballot, and
// join_floor >= its F, <= token_max. Errors name the value at fault.
Result<void> validate_state(const CfgState& s);

// The records a member adopts (V1) or learns (A1): every voter one of its
// members (NodeConfig::members, the cluster's address book: a record cannot
// name a process nobody can reach), and in scale mode (more members than
// `replicas`), only the simple record of exactly the members: changing the
// voters there is argued in shared/MEMBERSHIP.md but not yet simulated.
// Anything else, even relayed by a key holder, is refused. Any key holder may
// propose or relay a record, as it may send any other message: the cluster
// key is the trust boundary (docs/protocol.md, "Configuration records").
bool adoptable(const CfgRecord& r, std::span<const MemberId> sorted_members, std::size_t replicas);

// V1: whether a member in state `s` accepts record `r` (a proposal, or the
// record relayed with a request): iff r's ballot >= promised and r's id is
// above the member's. `behind`: refused for a lower ballot than promised.
// `foreign` (Voter::adopt, Acquirer::learn): not a record this member may
// adopt yet (adoptable).
enum class CfgAccept : std::uint8_t { accepted, not_newer, behind, foreign };
CfgAccept v1_check(const CfgState& s, const CfgRecord& r);
// The state after accepting `r` (v1_check said accepted): its promise at
// least r's ballot, its join floor at least r's F.
CfgState v1_accept(const CfgState& s, const CfgRecord& r);

// How a reconfiguration this member drove ended (core/reconfigure.hpp).
enum class ReconfigOutcome : std::uint8_t {
  committed,   // the new voter set's simple record is committed (a majority of it holds it)
  superseded,  // a voter promised or holds a higher ballot: another driver is newer; retry later
  timed_out,   // no quorum answered in time; the change may be half done (the next driver finishes it)
};
const char* to_string(ReconfigOutcome o);
struct ReconfigResult {
  ReconfigOutcome outcome = ReconfigOutcome::committed;
  CfgRecord record;           // committed: the final record; otherwise the newest one heard of
  std::uint64_t ballot = 0;   // the driver's ballot
  std::string detail;         // for people: who refused, what was missing
  // true: the run Node::reconfigure started (its caller waits for this);
  // false: a repair the member started itself (a stray promise).
  bool requested = false;
};

}  // namespace baton::core
