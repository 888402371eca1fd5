// SPDX-License-Identifier: Apache-2.0
// The runtime's clock: CLOCK_BOOTTIME, read at the point of use.
//
// DESIGN ("Details that matter"): the holder must measure its validity on a
// clock that keeps counting through a system suspend. CLOCK_MONOTONIC (which
// uv_hrtime reads) stops while the machine sleeps, so a member that slept
// would believe an expired lease still valid; CLOCK_BOOTTIME includes the
// suspended time. uv_now() is worse still: millisecond-truncated and cached
// per loop iteration, so it can be far in the past (STYLE.md 3).
//
// The core receives time as an argument (core::Instant, ns since boot here).
// Every call site of boot_now() says which direction of error is safe there.
//
// Like TigerBeetle's monotonic_guard, every reading is checked against the
// previous one on the same thread: a clock that goes backwards is a kernel or
// hardware bug that would break the drift arithmetic, so it crashes. The
// guard is per thread because two threads' readings are not ordered with
// each other: a reading taken earlier may be compared later.
#pragma once

#include <cstdint>

#include "core/time.hpp"

namespace baton::runtime {

// Pure part, unit-tested: remembers the last reading of one thread.
class MonotonicGuard {
 public:
  // Returns `reading` after asserting that it is not below the previous one.
  core::Instant observe(core::Instant reading);
  core::Instant last() const { return last_; }

 private:
  core::Instant last_ = core::Instant::zero();  // latest reading seen, ns
};

// Reads CLOCK_BOOTTIME (ns since boot, counting through suspend), passes it
// through this thread's MonotonicGuard.
core::Instant boot_now();

// Wall-clock nanoseconds since the Unix epoch (CLOCK_REALTIME). Never used for
// lease timing: only to derive a fresh incarnation when there is no state
// directory, where uniqueness across restarts is all that matters.
std::uint64_t realtime_ns();

}  // namespace baton::runtime
