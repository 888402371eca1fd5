// SPDX-License-Identifier: Apache-2.0
#include "sim_clock.hpp"

#include <algorithm>

#include "core/assert.hpp"

namespace baton::sim {

namespace {
constexpr std::int64_t ppm = 1000000;
// Constant-rate shapes still get a new segment every so often, which keeps the
// products in local_at/true_at far from 64-bit overflow (10 s * 1.1e6 < 2^63).
constexpr std::int64_t long_segment_ns = 10'000'000'000;
// true_at() answers never_ns beyond this local span from the origin (about
// 2.8 hours): nothing in a run lasts that long, and "never" deadlines end up here.
constexpr std::int64_t horizon_ns = 10'000'000'000'000;

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b; }             // a, b >= 0
std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }   // a >= 0, b > 0
}  // namespace

std::string_view clock_shape_name(ClockShape s) {
  switch (s) {
    case ClockShape::exact: return "exact";
    case ClockShape::fixed: return "fixed";
    case ClockShape::pinned_fast: return "pinned_fast";
    case ClockShape::pinned_slow: return "pinned_slow";
    case ClockShape::wandering: return "wandering";
    case ClockShape::periodic: return "periodic";
  }
  return "?";
}

SimClock::SimClock(ClockShape shape, std::uint32_t rho_ppm, core::Instant local_origin, std::uint64_t seed)
    : shape_(shape), rho_ppm_(static_cast<std::int32_t>(rho_ppm)), rng_(seed), fixed_rate_ppm_(0), half_period_ns_(0) {
  BATON_ASSERT(rho_ppm < ppm);
  BATON_ASSERT(local_origin.ns() >= 0);
  fixed_rate_ppm_ = draw_rate();
  half_period_ns_ = 50'000'000 + static_cast<std::int64_t>(rng_.uniform(950'000'000));
  Segment first;
  first.local_start_ns = local_origin.ns();
  switch (shape_) {
    case ClockShape::exact: first.rate_ppm = 0; break;
    case ClockShape::fixed: first.rate_ppm = fixed_rate_ppm_; break;
    case ClockShape::pinned_fast: first.rate_ppm = rho_ppm_; break;
    case ClockShape::pinned_slow: first.rate_ppm = -rho_ppm_; break;
    case ClockShape::wandering: first.rate_ppm = draw_rate(); break;
    case ClockShape::periodic: first.rate_ppm = rng_.uniform(1) ? rho_ppm_ : -rho_ppm_; break;
  }
  segments_.push_back(first);
}

std::int32_t SimClock::draw_rate() {
  // Half of the draws sit on an end of the bound: the extremes are where
  // drift arithmetic breaks first.
  switch (rng_.uniform(3)) {
    case 0: return rho_ppm_;
    case 1: return -rho_ppm_;
    default: return static_cast<std::int32_t>(rng_.uniform(2 * static_cast<std::uint64_t>(rho_ppm_))) - rho_ppm_;
  }
}

void SimClock::extend() {
  const Segment& last = segments_.back();
  std::int64_t len_ns = long_segment_ns;
  std::int32_t next_rate = last.rate_ppm;
  if (shape_ == ClockShape::wandering) {
    len_ns = 20'000'000 + static_cast<std::int64_t>(rng_.uniform(1'980'000'000));
    next_rate = draw_rate();
  } else if (shape_ == ClockShape::periodic) {
    len_ns = half_period_ns_;
    next_rate = -last.rate_ppm;
  }
  Segment next;
  next.true_start_ns = last.true_start_ns + len_ns;
  next.local_start_ns = last.local_start_ns + floor_div(len_ns * (ppm + last.rate_ppm), ppm);
  next.rate_ppm = next_rate;
  segments_.push_back(next);
}

std::size_t SimClock::segment_for_true(std::int64_t t_true_ns) {
  BATON_ASSERT(t_true_ns >= 0);
  while (segments_.back().true_start_ns <= t_true_ns) extend();
  // First segment starting after t, minus one.
  auto it = std::upper_bound(segments_.begin(), segments_.end(), t_true_ns,
                             [](std::int64_t t, const Segment& s) { return t < s.true_start_ns; });
  return static_cast<std::size_t>(it - segments_.begin()) - 1;
}

core::Instant SimClock::local_at(std::int64_t t_true_ns) {
  const Segment& s = segments_[segment_for_true(t_true_ns)];
  const std::int64_t dt = t_true_ns - s.true_start_ns;
  BATON_ASSERT(dt >= 0);
  BATON_ASSERT(dt <= long_segment_ns);
  return core::Instant::from_ns(s.local_start_ns + floor_div(dt * (ppm + s.rate_ppm), ppm));
}

std::int32_t SimClock::rate_ppm_at(std::int64_t t_true_ns) { return segments_[segment_for_true(t_true_ns)].rate_ppm; }

std::int64_t SimClock::true_at(core::Instant local) {
  const std::int64_t target = local.ns();
  if (local.is_max() || target - segments_.front().local_start_ns > horizon_ns) return never_ns;
  if (target <= segments_.front().local_start_ns) return 0;
  while (segments_.back().local_start_ns < target) extend();
  // The last segment whose local start is strictly below the target: the
  // earliest true time reaching `target` lies inside it, because the next
  // segment starts at a local reading >= target.
  auto it = std::lower_bound(segments_.begin(), segments_.end(), target,
                             [](const Segment& s, std::int64_t l) { return s.local_start_ns < l; });
  const Segment& s = *(it - 1);
  // Smallest dt with floor(dt * (1e6 + d) / 1e6) >= target - L_i.
  const std::int64_t need = target - s.local_start_ns;
  const std::int64_t dt = ceil_div(need * ppm, ppm + s.rate_ppm);
  return s.true_start_ns + dt;
}

}  // namespace baton::sim
