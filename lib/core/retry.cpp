// SPDX-License-Identifier: Apache-2.0
#include "core/retry.hpp"

#include <algorithm>

#include "core/assert.hpp"
#include "core/limits.hpp"

namespace baton::core::retry {

Duration attempt_timeout(Duration rtt, std::uint32_t timeouts, Bounds b) {
  const Duration base = std::clamp(rtt * 4, b.timeout_min, b.timeout_max);
  return min(base * (std::int64_t{1} << std::min<std::uint32_t>(timeouts, 20)), b.timeout_max);
}

Duration unqueued_poll(Duration rtt, std::uint32_t polls, Bounds b) {
  const Duration base = std::clamp(rtt * kUnqueuedPollRtts, b.timeout_min, b.timeout_max);
  return base * (std::int64_t{1} << std::min(polls, kUnqueuedPollDoublings));
}

Duration split_window(Duration j, std::uint32_t splits) {
  const std::uint32_t doublings = std::min<std::uint32_t>(splits > 0 ? splits - 1 : 0, limits::jitter_doublings_max);
  return j * (std::int64_t{1} << doublings);
}

Duration free_window(Duration j, std::uint32_t waiters, std::uint32_t splits) {
  const std::int64_t n = std::clamp<std::int64_t>(waiters, 1, static_cast<std::int64_t>(limits::members_max));
  return max(n == 1 ? j : j * (2 * n), split_window(j, splits));
}

bool new_race(Instant now, Instant failed_at, Duration j) { return now - failed_at > j * kNewRaceRtts; }

Duration draw(Rng& rng, Duration window, std::size_t draws) {
  BATON_ASSERT(draws >= 1);
  BATON_ASSERT(window >= Duration::zero());
  std::uint64_t best = UINT64_MAX;
  for (std::size_t i = 0; i < draws; ++i) {
    best = std::min(best, rng.uniform(static_cast<std::uint64_t>(window.count_ns())));
  }
  return Duration::ns(static_cast<std::int64_t>(best));
}

}  // namespace baton::core::retry
