// SPDX-License-Identifier: Apache-2.0
// All clock-drift arithmetic of Baton, in one place.
//
// Model. Every member has a monotonic clock whose rate is within 1 ± rho of
// real time: for any real interval of length d, a member's clock advances by
// some L with d·(1−rho) <= L <= d·(1+rho). Equivalently, a local interval L
// lasts between L/(1+rho) and L/(1−rho) in real time.
//
// Validity at the acquirer (Guarantee 1). The acquirer reads t0 on its clock
// before it sends the first REQUEST. A voter that grants starts its hold at a
// reading `now_v` taken on receipt, which is later in real time than t0, and
// holds for `ttl` on its own clock: in real time at least ttl/(1+rho). The
// acquirer must stop believing in the lease before the earliest real instant
// at which any granting voter's hold can end:
//     real validity  <=  ttl / (1+rho).
// Measured on the acquirer's clock, which may run fast by (1+rho)... or slow:
// the acquirer's local span V lasts at most V/(1−rho) in real time, so we need
// V/(1−rho) <= ttl/(1+rho), that is
//     V = ttl · (1−rho)/(1+rho).
// We round V down and subtract `margin`, which absorbs the time between
// reading the clock and acting on the answer (a check of validity, then a
// write) and the rounding of clock readings:
//     validity_end = t0 + floor(ttl·(1−rho)/(1+rho)) − margin.
// Renewals use the same formula with t_r, read before the round's first RENEW.
//
// Hold at the voter. hold_end = now_v + ttl, with now_v read fresh on receipt
// (an earlier reading would start the hold too early: unsafe). Exact integer
// arithmetic, so "round holds up" needs no further step.
//
// Restart quarantine. A voter that lost its memory may have granted a lease
// whose holder still believes in it. Every such validity began at some t0
// before the restart and lasts at most ttl_max/(1+rho) real. The voter waits
// Q on its own clock, which lasts at least Q/(1+rho) real. Q = ttl_max would
// suffice; we stretch it further by (1+rho)/(1−rho) so that the argument does
// not depend on the previous life's clock having had the same rate, and round
// up:
//     quarantine_end = start + ceil(ttl_max · (1+rho)/(1−rho)).
//
// Renewal schedule (liveness, not safety). Auto-renew starts a round one third
// into the validity window and keeps trying until the cut-off, one fifth of the
// window before validity ends; past the cut-off the holder is told that
// renewal is failing while its lease is still valid.
#pragma once

#include <cstdint>

#include "core/time.hpp"

namespace baton::core::drift {

inline constexpr std::int64_t ppm = 1000000;

// floor(ttl·(1−rho)/(1+rho)): the longest local span the acquirer may believe in.
Duration stretch_down(Duration ttl, std::uint32_t rho_ppm);
// ceil(d·(1+rho)/(1−rho)): a local wait that lasts at least d in real time on any clock.
Duration stretch_up(Duration d, std::uint32_t rho_ppm);

// Acquirer/holder: end of validity for a grant (or renewal round) whose first
// message was sent after `t0` was read.
Instant validity_end(Instant t0, Duration ttl, std::uint32_t rho_ppm, Duration margin);
// Voter: end of a hold that starts at a fresh reading `now`.
Instant hold_end(Instant now, Duration ttl);
// Restarted voter: when it may vote again.
Instant quarantine_end(Instant start, Duration ttl_max, std::uint32_t rho_ppm);
// Auto-renew: when to start renewing, and when to report that renewal is failing.
Instant renew_start(Instant valid_from, Instant valid_end);
Instant renew_cutoff(Instant valid_from, Instant valid_end);

}  // namespace baton::core::drift
