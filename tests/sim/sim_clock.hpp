// SPDX-License-Identifier: Apache-2.0
// SimClock: one member's monotonic clock in the simulated world.
//
// True time is the simulator's virtual time, in integer nanoseconds (named
// `*_true_ns` everywhere in tests/sim). A member's clock reads local time as a
// core::Instant. The clock is piecewise linear in true time: a sequence of
// segments, each with a constant rate 1 + d/1e6 where |d| <= rho_ppm, so the
// rate bound of DESIGN "Assumptions" holds at every instant (STYLE 8: shapes
// linear, periodic and step-in-rate, plus the worst cases pinned at exactly
// 1+rho and 1-rho).
//
// Both directions are exact integer functions:
//   local_at(t) = L_i + floor((t - T_i) * (1e6 + d_i) / 1e6)    in segment i
//   true_at(L)  = the smallest true t with local_at(t) >= L
// local_at is monotonic (non-decreasing) because every rate is positive and
// segment i+1 starts exactly where segment i ends. true_at is what the
// simulator uses to wake a member for its next_deadline(): rounding up means a
// member is never woken before its deadline, and the checker uses it to find
// the true instant at which a holder stops believing in its lease.
//
// Segments are generated lazily from the clock's own Rng, so the shape depends
// only on the clock's seed, never on the order in which it is queried.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/rng.hpp"
#include "core/time.hpp"

namespace baton::sim {

enum class ClockShape : std::uint8_t {
  exact,        // rate exactly 1
  fixed,        // one constant rate drawn within the bound
  pinned_fast,  // rate exactly 1 + rho for ever
  pinned_slow,  // rate exactly 1 - rho for ever
  wandering,    // a new rate within the bound every 20 ms .. 2 s (piecewise linear)
  periodic,     // alternates between 1 + rho and 1 - rho with a fixed half-period
};
std::string_view clock_shape_name(ClockShape s);

class SimClock {
 public:
  // `local_origin` is the local reading at true time 0; `seed` drives the shape.
  SimClock(ClockShape shape, std::uint32_t rho_ppm, core::Instant local_origin, std::uint64_t seed);

  // Local reading at true time `t_true_ns` (>= 0).
  core::Instant local_at(std::int64_t t_true_ns);
  // Smallest true time at which the local reading is >= `local`;
  // never_ns for Instant::max() (or anything the run cannot reach).
  std::int64_t true_at(core::Instant local);

  ClockShape shape() const { return shape_; }
  // Rate offset of the segment covering `t_true_ns`, in ppm (for traces).
  std::int32_t rate_ppm_at(std::int64_t t_true_ns);

  static constexpr std::int64_t never_ns = INT64_MAX;

 private:
  struct Segment {
    std::int64_t true_start_ns = 0;   // true time at which this rate begins
    std::int64_t local_start_ns = 0;  // local reading at true_start_ns
    std::int32_t rate_ppm = 0;        // rate is 1 + rate_ppm / 1e6; |rate_ppm| <= rho_ppm
  };
  // Appends the segment that follows the last one.
  void extend();
  // Index of the segment covering true time t (extends as needed).
  std::size_t segment_for_true(std::int64_t t_true_ns);
  std::int32_t draw_rate();

  ClockShape shape_;
  std::int32_t rho_ppm_;          // rate bound, parts per million
  core::Rng rng_;                 // this clock's own randomness
  std::int32_t fixed_rate_ppm_;   // fixed: the drawn rate
  std::int64_t half_period_ns_;   // periodic: length of each half (true ns)
  std::vector<Segment> segments_; // by increasing true_start_ns; never empty
};

}  // namespace baton::sim
