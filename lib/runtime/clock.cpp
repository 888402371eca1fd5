// SPDX-License-Identifier: Apache-2.0
#include "runtime/clock.hpp"

#include <time.h>

#include "core/assert.hpp"

namespace baton::runtime {

core::Instant MonotonicGuard::observe(core::Instant reading) {
  // A regression would make a voter's hold end early or a holder's validity
  // end late: both unsafe. The kernel promises this never happens.
  BATON_ASSERT(reading >= last_);
  last_ = reading;
  return reading;
}

core::Instant boot_now() {
  thread_local MonotonicGuard guard;
  timespec ts{};
  const int rc = clock_gettime(CLOCK_BOOTTIME, &ts);
  BATON_ASSERT(rc == 0);  // CLOCK_BOOTTIME exists on every Linux since 2.6.39
  const std::int64_t ns = static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
  return guard.observe(core::Instant::from_ns(ns));
}

std::uint64_t realtime_ns() {
  timespec ts{};
  const int rc = clock_gettime(CLOCK_REALTIME, &ts);
  BATON_ASSERT(rc == 0);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace baton::runtime
