// SPDX-License-Identifier: Apache-2.0
// Counters and gauges of one member's core. Plain numbers; the runtime copies
// them for status/PONG, the simulator checks the gauges against limits.
#pragma once

#include <array>
#include <cstdint>

#include "core/config.hpp"
#include "core/message.hpp"

namespace baton::core {

struct NodeStats {
  // Voter side
  std::uint64_t requests = 0;        // REQUESTs handled
  std::uint64_t grants = 0;          // GRANTs sent (new grants and duplicate answers)
  std::uint64_t denials = 0;         // DENYs sent
  std::array<std::uint64_t, 16> denials_by_reason{};  // indexed by DenyReason (at most deny_reason_max)
  std::uint64_t renewals = 0;        // holds extended (or re-granted) on RENEW
  std::uint64_t renew_nacks = 0;     // RENEW answered with !ok
  std::uint64_t releases = 0;        // live leases dropped on RELEASE
  std::uint64_t expiries = 0;        // holds that ran out
  std::uint64_t frees_sent = 0;      // FREE notices sent to waiters
  std::uint64_t handoff_grants = 0;  // GRANTs to a waiter when a hold ended (also in grants)
  std::uint64_t waiters_dropped = 0; // waiters not remembered: a waiter limit was full
  std::uint64_t evictions = 0;       // fence entries folded into the floor
  std::uint64_t persists = 0;        // floor reservations requested
  std::uint64_t configs_adopted = 0; // configuration records adopted (V1; issue 21)
  // Acquirer side
  std::uint64_t acquires = 0;        // acquire() calls accepted
  std::uint64_t attempts = 0;        // REQUEST rounds sent
  std::uint64_t acquired = 0;        // leases obtained
  std::uint64_t acquire_failures = 0;
  std::uint64_t stale_retries = 0;   // immediate retries after a stale denial
  std::uint64_t renew_rounds = 0;
  std::uint64_t renewed = 0;         // renewal rounds that reached a majority
  std::uint64_t lost = 0;            // leases lost (any reason)
  std::uint64_t late_releases = 0;   // RELEASEs answering grants for abandoned attempts
  std::uint64_t standing_requests = 0;  // REQUEST rounds sent to wait for a hand-off
  std::uint64_t handoffs = 0;        // leases obtained by a hand-off (also in acquired)
  std::uint64_t handoff_confirms = 0;  // confirm rounds after a majority with hand-off grants
  std::uint64_t unqueued_polls = 0;  // retries scheduled because no held voter kept our request
  std::uint64_t configs_learned = 0; // newer configuration records the acquirer adopted (A1)
  std::uint64_t config_repairs = 0;  // driver runs started to re-propose a record a stray promise blocked
  // Drops (counted by the codec/runtime via count_drop, and by the core)
  std::array<std::uint64_t, drop_reason_count> drops{};
  std::uint64_t outbox_overflow = 0;  // messages not queued: outbox limit
  // INCARNATION_BEHIND hints received that called for nothing: about this
  // life or an older one (delayed, or answering a replayed old datagram)
  std::uint64_t stale_incarnation_hints = 0;
};

// A snapshot of this member's state, for status/PONG and the simulator's checker.
struct NodeStatus {
  bool quarantined = false;         // not (yet) voting after a restart
  bool floor_recovered = false;     // peer/reservation floor known
  std::uint64_t live_leases = 0;    // leases live at this member's voter
  std::uint64_t waiters = 0;        // waiters remembered by this member's voter
  std::uint64_t fence_entries = 0;  // per-resource entries at the voter
  std::uint64_t in_flight = 0;      // acquires pending plus leases held here
  Token floor{};                      // the voter's floor
  RecoveryMode recovery = RecoveryMode::first_start;  // how this life started
  Instant quarantine_end{};           // on this member's clock: the restart quarantine ends here
  std::uint32_t floor_answers = 0;        // peers: recovered members that answered the floor query
  std::uint32_t floor_answers_needed = 0; // peers: answers needed (0 in the other modes)
};

}  // namespace baton::core
