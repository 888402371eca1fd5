// SPDX-License-Identifier: Apache-2.0
// NodeConfig: everything a member's core needs, validated up front.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "baton/result.hpp"
#include "core/ids.hpp"
#include "core/limits.hpp"
#include "core/membership.hpp"
#include "core/time.hpp"

namespace baton::core {

// How this life of the member starts (DESIGN "Restart").
enum class RecoveryMode : std::uint8_t {
  // The member never ran before in this cluster, and the operator said so
  // (bootstrap; a state directory without state alone is not enough, issue
  // 19): no quarantine, floor 0.
  first_start,
  // Restarted with a state directory: floor starts at the persisted
  // reservation; quarantined for the stretched ttl_max.
  reservation,
  // Restarted without state (diskless, or a state directory that lost it;
  // with one, persist stays on): quarantined for the stretched ttl_max and
  // until enough recovered peers reported their floors.
  peers,
};

// Per-instance limits (defaults in limits.hpp). Every table is bounded.
struct NodeLimits {
  std::size_t leases_per_voter = limits::leases_per_voter_default;     // live leases held at this voter
  std::size_t waiters_per_resource = limits::waiters_per_resource_default;
  std::size_t waiters_per_voter = limits::waiters_per_voter_default;   // all resources together
  std::size_t acquires_in_flight = limits::acquires_in_flight_default; // acquires + held leases here
  std::size_t outbox_messages = limits::outbox_messages_default;       // per drain of the outbox
  std::size_t pending_persist = limits::pending_persist_max;           // requests parked on a sync
  std::size_t idle_fences = limits::idle_fences_default;               // idle fence entries kept before
                                                                       // folding them into the floor
};

struct NodeConfig {
  std::vector<MemberId> members;   // every member of the static cluster, unique, non-zero
  MemberId self{};                   // this member; one of `members`
  Incarnation incarnation{};         // this life; non-zero, never reused by this member
  std::uint32_t rho_ppm = 10000;   // clock-rate drift bound, parts per million (0.01)
  Duration margin = Duration::ms(2);       // subtracted from every validity (clock reads, scheduling)
  Duration ttl_min = Duration::ms(10);     // shortest ttl accepted
  Duration ttl_max = Duration::s(60);      // longest ttl granted; sets the restart quarantine
  std::uint32_t replicas = limits::replicas_default;  // R: voters per resource when members > R
  RecoveryMode recovery = RecoveryMode::first_start;
  bool persist = false;            // state directory: persist floor reservations before use
  Token recovered_reservation{};   // recovery == reservation: the reservation read back
  // The longest ttl_max and largest rho any earlier life of this member voted
  // under (persisted in the state directory; zero when unknown). The restart
  // quarantine covers them too: a life that lowered ttl_max or rho must still
  // outwait the holds its predecessors granted.
  Duration prior_ttl_max = Duration::zero();
  std::uint32_t prior_rho_ppm = 0;
  // The configuration record and promise persisted in the state directory
  // (issue 21); none: the initial record of `members`. Until online
  // reconfiguration exists, its voters must be `members`.
  std::optional<CfgState> recovered_cfg;
  std::uint64_t reservation_block = 1ULL << 32;  // tokens covered by one persisted reservation
  Duration rtt_initial = Duration::ms(1);        // round-trip estimate before any sample
  Duration attempt_timeout_min = Duration::ms(10);  // one acquire attempt waits at least this (loaded
                                                   // hosts answer late; only lost messages wait it out)
  Duration attempt_timeout_max = Duration::s(1);   // ... and at most this for a verdict
  // A voter holds a lease it hands over to a waiter for at most this long
  // (or the lease's ttl, if shorter) until the waiter confirms it with a
  // RENEW: so a waiter that crashed, paused or was cut off blocks the freed
  // resource for at most this, not a whole ttl (issue 19, the dead waiter).
  Duration handoff_confirm = Duration::ms(100);
  std::uint32_t stale_retries_max = 8;  // immediate retries after stale denials, per acquire
  NodeLimits limits;
};

// The field of NodeConfig that validation found at fault: the structured
// reason. A layer that shows the configuration in its own terms (the public
// Config's rho as a double, bootstrap rather than a recovery mode) keys on
// this, never on the text.
enum class ConfigField : std::uint8_t {
  members,
  self,
  incarnation,
  rho,
  ttl_min,
  ttl_max,
  prior_ttl_max,
  prior_rho,
  margin,
  replicas,
  reservation_block,
  recovery,
  rtt_initial,
  attempt_timeout_min,
  handoff_confirm,
  limits,
  configuration,
};

struct ConfigFault {
  ConfigField field{};  // what is at fault
  Error error;          // invalid_config; the text starts "<field>:" and names the value at fault
};

// Checks every field and their relations: the first fault found, or none.
std::optional<ConfigFault> find_fault(const NodeConfig& c);
// find_fault as a Result: ok, or the fault's error.
Result<void> validate(const NodeConfig& c);

// The one check of an acquire's arguments: the resource name is 1..128
// bytes (limits::resource_name_bytes_max) and the ttl within [c.ttl_min,
// c.ttl_max]. The API runs it on the caller's thread before it posts the
// call (a failure there means the callback never runs); Node::acquire runs
// it again before anything changes, for every other caller (simulator,
// scenarios). Errors: invalid_argument, naming the value at fault
// ("ttl: 5ms outside [ttl_min 10ms, ttl_max 60s]").
Result<void> check_acquire(const NodeConfig& c, std::string_view resource, Duration ttl);

// Whether this node is a client (issue 21): self is a client id, not one of
// the members; it acquires through the members and votes on nothing.
inline bool client_mode(const NodeConfig& c) { return is_client(c.self); }

// R (or the member count, if smaller): how many voters a resource has.
std::size_t voter_count(const NodeConfig& c);

}  // namespace baton::core
