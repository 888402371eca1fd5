// SPDX-License-Identifier: Apache-2.0
// Decoded protocol messages: the core's vocabulary. FlatBuffers types never
// reach the core; lib/codec translates between these structs and bytes.
// Field meanings on the wire: wire/README.md. Protocol: docs/protocol.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "baton/stats.hpp"
#include "core/ids.hpp"
#include "core/membership.hpp"
#include "core/time.hpp"

namespace baton::core {

// Why a voter said no. Stable numbers: they travel on the wire.
enum class DenyReason : std::uint8_t {
  held = 1,          // another lease is live here; holder and time_left are set
  stale = 2,         // proposed token is not above this voter's fence; fence is set
  quarantined = 3,   // this voter restarted and is not yet allowed to vote
  ttl_too_long = 4,  // ttl above this voter's ttl_max (or below ttl_min)
  overloaded = 5,    // a table is full (leases, pending persistence)
  not_current = 6,   // RENEW/RELEASE for a lease that is not the live one here
  // Configurations (issue 21; docs/protocol.md "Configurations"). Each of
  // these denials carries the voter's record, `behind` also its promise.
  config = 7,        // the message was tagged with a configuration older than the voter's
  behind = 8,        // tagged with a newer one the voter could not adopt (not attached, or a
                     // lower ballot than the voter promised)
  not_voter = 9,     // the voter's own configuration does not list it as a voter
};
inline constexpr std::uint8_t deny_reason_max = 9;
// The configuration denials: only these carry the voter's record and promise.
constexpr bool is_config_reason(DenyReason r) {
  return r == DenyReason::config || r == DenyReason::behind || r == DenyReason::not_voter;
}
std::string_view deny_reason_name(DenyReason r);

// Why a received datagram was dropped before reaching the core, or a message
// was dropped by the core: the public type itself (one definition, stable
// numbers: reported in PONG and status); baton::drop_reason_count of them.
using DropReason = baton::DropReason;
using baton::drop_reason_count;
using baton::drop_reason_name;

// REQUEST: acquirer -> voter. "Grant `lease` on `resource` for `ttl` with token `token`."
struct Request {
  ResourceName resource{};
  LeaseId lease{};
  Duration ttl{};  // hold duration at the voter, on the voter's clock
  Token token{};   // proposed fencing token; granted only if above the voter's fence
  CfgId cfg = initial_cfg_id;       // the configuration the acquirer sent it under (V2 gate)
  std::optional<CfgRecord> record{};  // that configuration, for a voter known to be behind it
  bool operator==(const Request&) const = default;
};

// GRANT: voter -> acquirer. The voter stored `token` as the resource's fence.
struct Grant {
  ResourceName resource{};
  LeaseId lease{};
  Token token{};
  // A hand-off (Voter::notify_free): the voter holds it only for
  // handoff_confirm, until a RENEW of the lease confirms the waiter is alive.
  bool handoff = false;
  bool operator==(const Grant&) const = default;
};

// DENY: voter -> acquirer, with the reason and the voter's numbers.
struct Deny {
  ResourceName resource{};
  LeaseId lease{};
  Token token{};          // the token that was proposed
  DenyReason reason{};
  MemberId holder{};      // reason == held: the member holding the live lease
  Duration time_left{};   // reason == held: hold time left at the voter
  Token fence{};          // the voter's fence for the resource (all reasons)
  bool unqueued = false;  // reason == held: the voter's waiter table was full, so it
                          // did not keep this request: no FREE or hand-off will follow
  // reason config, behind, not_voter: the voter's configuration, and the
  // highest ballot it promised (behind: a record below it is refused).
  std::optional<CfgRecord> record{};
  std::uint64_t promised = 0;
  bool operator==(const Deny&) const = default;
};

// RENEW: holder -> voter. Extend the hold of `lease` by `ttl` from now.
struct Renew {
  ResourceName resource{};
  LeaseId lease{};
  Token token{};
  Duration ttl{};
  std::uint32_t round = 0;  // the holder's renewal round; acks echo it
  CfgId cfg = initial_cfg_id;       // the configuration of the round (V2 gate)
  std::optional<CfgRecord> record{};  // that configuration, for a voter known to be behind it
  // V4 (docs/protocol.md, "Renewals across a change"): a renewal round of a
  // lease its holder believes valid, which a voter with nothing live may
  // re-grant where its fence is not the token. False for a hand-off's
  // confirm round (a lease not yet valid) and from a member before V4.
  bool believed = false;
  bool operator==(const Renew&) const = default;
};

// RENEW_ACK: voter -> holder. ok: the hold was extended (or re-granted).
struct RenewAck {
  ResourceName resource{};
  LeaseId lease{};
  Token token{};
  std::uint32_t round = 0;
  bool ok = false;
  DenyReason reason{};  // !ok: why (not_current, stale, quarantined, ttl_too_long, config, behind, not_voter)
  Token fence{};          // the voter's fence for the resource
  std::optional<CfgRecord> record{};  // reason config, behind, not_voter: as in Deny
  std::uint64_t promised = 0;
  bool operator==(const RenewAck&) const = default;
};

// RELEASE: holder (or a loser of a split vote) -> voter. Drop `lease` if live.
struct Release {
  ResourceName resource{};
  LeaseId lease{};
  Token token{};
  bool operator==(const Release&) const = default;
};

// FREE: voter -> waiter. The resource has no live lease here any more.
struct Free {
  ResourceName resource{};
  Token fence{};              // the voter's fence, a hint for the next proposal
  std::uint32_t waiters = 0;  // members this voter told, the recipient included: the race's size
  bool operator==(const Free&) const = default;
};

// FLOOR_QUERY: restarted voter (peer recovery) -> every other member.
struct FloorQuery {
  std::uint64_t nonce = 0;
  bool operator==(const FloorQuery&) const = default;
};

// FLOOR_REPLY: "the highest token I ever stored is at most `floor`".
// ready == false: the answering voter is itself still recovering; floor unset.
// Since issue 21 it also carries the answering member's configuration record
// and promise (ready only; absent from an older member): a member that lost
// its state learns from them which record to vote under, and which ballots
// it must refuse (docs/protocol.md, "Recovering a member's state").
struct FloorReply {
  std::uint64_t nonce = 0;
  bool ready = false;
  Token floor{};
  std::optional<CfgRecord> record{};
  std::uint64_t promised = 0;
  bool operator==(const FloorReply&) const = default;
};

// PING / PONG: liveness and status (batonctl status, RTT measurement).
struct Ping {
  std::uint64_t nonce = 0;
  bool operator==(const Ping&) const = default;
};

// A member whose datagrams were refused for carrying another voting
// configuration's fingerprint (codec::Receiver). Reported in PONG to observers.
struct ConfigMismatch {
  MemberId sender{};              // the member that sent them
  std::uint64_t fingerprint = 0;  // the last fingerprint its refused datagrams carried
  std::uint64_t datagrams = 0;    // how many of its datagrams were refused (count)
  bool operator==(const ConfigMismatch&) const = default;
};

// How the answering member started its life (PONG, for status): why it is
// quarantined. Stable numbers (the wire's StartKind); 0 is what an older
// member that does not say reads as.
enum class StartKind : std::uint8_t {
  unknown = 0,
  first_start = 1,   // bootstrap: never quarantined
  reservation = 2,   // floor from its state directory; quarantined for the stretched ttl_max
  peers = 3,         // floor from its peers: quarantine, then enough answers
};
inline constexpr std::uint8_t start_kind_max = 3;

struct Pong {
  std::uint64_t nonce = 0;
  bool quarantined = false;
  std::uint64_t live_leases = 0;   // leases live at this voter
  std::uint64_t waiters = 0;       // waiters remembered by this voter
  Token floor{};                     // this voter's floor
  std::vector<std::uint64_t> drops;  // indexed by DropReason
  // By sender, at most limits::pong_mismatches_max. Filled by the runtime for
  // observers; the core never sees fingerprints, so its own PONG leaves it empty.
  std::vector<ConfigMismatch> mismatches;
  StartKind start = StartKind::unknown;      // how this life started
  Duration quarantine_left = Duration::zero();  // restart quarantine still to run on its clock (0: over)
  std::uint32_t floor_answers = 0;         // peers: recovered members that answered its floor query
  std::uint32_t floor_answers_needed = 0;  // peers: answers it needs (0: not learning its floor from peers)
  CfgId cfg{0, 0};  // the configuration it votes under (issue 21); epoch 0: not said (an older member)
  bool operator==(const Pong&) const = default;
};

// INCARNATION_BEHIND: member -> a member whose datagram it dropped for an
// older incarnation (codec::ReplayWindow). "The newest incarnation I have
// seen from you is `seen`." The recipient starts a new life above `seen` if
// its own incarnation is below it (core/incarnation.hpp, docs/protocol.md
// "Restart"); otherwise the hint is stale or answers a replay, and is ignored.
struct IncarnationBehind {
  Incarnation seen{};  // >= 1: the newest incarnation of the recipient the sender accepted
  bool operator==(const IncarnationBehind&) const = default;
};

// ---- Configuration messages (issue 21; docs/protocol.md "Configuration
// records"). Members only, except CONFIG_QUERY, which clients may send.

// CONFIG_READ: driver -> voter (phase 0). "Promise `ballot`."
struct ConfigRead {
  std::uint64_t ballot = 0;
  bool operator==(const ConfigRead&) const = default;
};

// CONFIG_READ_REPLY: ok: the voter promised `ballot` (it was at least its
// promise); not ok: it promised a higher one. Its record and promise either way.
struct ConfigReadReply {
  std::uint64_t ballot = 0;
  bool ok = false;
  CfgRecord record{};
  std::uint64_t promised = 0;
  bool operator==(const ConfigReadReply&) const = default;
};

// CONFIG_PROPOSE: driver -> voter. "Adopt `record`" (V1).
struct ConfigPropose {
  CfgRecord record{};
  bool operator==(const ConfigPropose&) const = default;
};

// CONFIG_ACK: ok: the voter holds exactly the proposed record now (adopted,
// or already had it). `max_stored` is max(floor, every fence), read after
// answering: the driver takes F from a committing majority's acks.
struct ConfigAck {
  CfgId proposed{};
  bool ok = false;
  CfgId cfg{};
  Token max_stored{};
  std::uint64_t promised = 0;
  // The longest hold the voter grants, or granted in an earlier life: the
  // driver's phase-2 wait covers it (a voter with a longer ttl_max than the
  // driver's could otherwise hold a lease of the old voters past the wait).
  Duration ttl_max{};
  bool operator==(const ConfigAck&) const = default;
};

// CONFIG_QUERY / CONFIG_REPLY: any member's record (V5: removed ones too).
struct ConfigQuery {
  std::uint64_t nonce = 0;
  bool operator==(const ConfigQuery&) const = default;
};
struct ConfigReply {
  std::uint64_t nonce = 0;
  CfgRecord record{};
  bool operator==(const ConfigReply&) const = default;
};

// ---- Remote reconfiguration (issue 21 step 4; docs/operations.md "Changing
// the members"). An observer (`batonctl reconfigure`, sender 0, with the
// cluster key) asks one member to drive a change; the member's runtime
// answers, the core never sees either message (Node drops them).

// How far a CONFIG_CHANGE got. Stable numbers: they travel on the wire.
enum class ChangeState : std::uint8_t {
  started = 1,  // this request started a run now
  running = 2,  // its run (same nonce) is under way
  done = 3,     // its run ended: outcome, record and ballot say how
  refused = 4,  // not started: detail says why (bad voters, busy, the configuration moved on)
};
inline constexpr std::uint8_t change_state_max = 4;

// CONFIG_CHANGE: observer -> member. "Move the voters to `voters`." A re-send
// with the same nonce is a poll: it starts nothing, it answers the state.
struct ConfigChange {
  std::uint64_t nonce = 0;           // != 0: the request's id
  CfgId expect{};                    // refused unless the member's voter holds a record of this epoch (replays
                                     // of an old request after the configuration moved on change nothing)
  std::vector<MemberId> voters;      // the new voter set: sorted, unique member ids, 1..members_max
  bool operator==(const ConfigChange&) const = default;
};

// CONFIG_CHANGE_REPLY: member -> observer.
struct ConfigChangeReply {
  std::uint64_t nonce = 0;           // the request's nonce
  ChangeState state = ChangeState::refused;
  ReconfigOutcome outcome = ReconfigOutcome::committed;  // state done only
  CfgRecord record{};                // done: the run's final (or newest) record; else the member's current one
  std::uint64_t ballot = 0;          // the run's ballot (0: refused)
  std::string detail;                // for people, at most limits::config_change_detail_max bytes
  bool operator==(const ConfigChangeReply&) const = default;
};

using Message = std::variant<Request, Grant, Deny, Renew, RenewAck, Release, Free, FloorQuery,
                             FloorReply, Ping, Pong, IncarnationBehind, ConfigRead, ConfigReadReply,
                             ConfigPropose, ConfigAck, ConfigQuery, ConfigReply,
                             ConfigChange, ConfigChangeReply>;

std::string_view message_name(const Message& m);

}  // namespace baton::core
