// SPDX-License-Identifier: Apache-2.0
// Retry policy of the acquirer: how long an attempt waits for a verdict, how
// long it waits before asking again, and the random draw that spreads
// contenders apart (docs/protocol.md, "Liveness"). Pure functions of their
// arguments and an injected Rng: no state, no clock.
//
// J below is the round-trip estimate (RttEstimator, at least 1 µs).
//   attempt_timeout  4·J within [attempt_timeout_min, max], doubled per
//                    consecutive timeout up to the max: a network slower than
//                    the estimate is outlived after a few tries.
//   split_window     J doubled per split vote lost in the current race (the
//                    first split keeps J), at most 2^jitter_doublings_max·J:
//                    contenders that tie draw apart, and the window grows
//                    until it is wide enough for however many contend.
//   free_window      after a FREE that told n members: at least 2·n·J (J for
//                    n = 1), or the split window if wider.
//   unqueued_poll    kUnqueuedPollRtts·J within the attempt timeouts, doubled
//                    per consecutive poll up to kUnqueuedPollDoublings times.
//   draw             uniform in [0, window], once per acquire waiting here,
//                    the earliest kept: k local contenders win a race about
//                    as often as k members with one each would.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/rng.hpp"
#include "core/time.hpp"

namespace baton::core::retry {

// Round trips between polls of an acquire that too few held voters kept
// (Guarantee 3 under full waiter tables; each poll is one REQUEST round).
inline constexpr std::int64_t kUnqueuedPollRtts = 8;
inline constexpr std::uint32_t kUnqueuedPollDoublings = 2;  // at most 4x: 32 round trips
// A FREE later than this many round trips after our last failure means
// someone held the resource in between: a new race, split count restarts.
inline constexpr std::int64_t kNewRaceRtts = 8;

struct Bounds {
  Duration timeout_min;  // NodeConfig::attempt_timeout_min
  Duration timeout_max;  // NodeConfig::attempt_timeout_max
};

Duration attempt_timeout(Duration rtt, std::uint32_t timeouts, Bounds b);
Duration unqueued_poll(Duration rtt, std::uint32_t polls, Bounds b);
// `splits`: split votes lost in the current race.
Duration split_window(Duration j, std::uint32_t splits);
// `waiters`: the members the FREE said its voter told (clamped to 1..members_max).
Duration free_window(Duration j, std::uint32_t waiters, std::uint32_t splits);
// Whether a FREE at `now` starts a new race after a failure at `failed_at`.
bool new_race(Instant now, Instant failed_at, Duration j);
// `draws` uniform draws in [0, window] (at least one), the earliest.
Duration draw(Rng& rng, Duration window, std::size_t draws);
// J: the estimate, at least 1 µs (a zero window would not spread anyone).
inline Duration jitter_unit(Duration rtt) { return max(rtt, Duration::us(1)); }

}  // namespace baton::core::retry
