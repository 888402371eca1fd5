// SPDX-License-Identifier: Apache-2.0
// DeadlineTimer: the one wakeup of a member, re-armed from
// Node::next_deadline() after every batch (STYLE.md 2, ngtcp2's pull model).
//
// A Linux timerfd on CLOCK_BOOTTIME, the core's clock (runtime/clock.hpp),
// armed with the absolute deadline in nanoseconds (TFD_TIMER_ABSTIME) and
// watched by a uv_poll_t. Issue 7: a uv_timer_t counts whole milliseconds
// from the loop's cached CLOCK_MONOTONIC time, so a 100 us retry deadline
// waited a whole millisecond, and the two clocks drift apart across a
// suspend. The timerfd fires at the deadline itself, on the same clock, to
// the kernel's timer slack.
//
// The timer is still only a wakeup: on firing the driver reads the clock
// again and the core decides what is due, so a wakeup that comes early does
// nothing (the timer is re-armed) and one that comes late only delays work,
// while lease validity itself is always judged against a fresh reading.
//
// Lifetime: start() creates the timerfd and the poll handle; the driver
// closes handle() with the other handles (uv_close); the timerfd is closed by
// the destructor, which runs after the handle's close callback (the driver
// outlives its handles), and libuv allows closing a polled fd once uv_close
// was called on its poll handle.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>

#include "baton/result.hpp"
#include "core/time.hpp"

namespace baton::runtime {

// An absolute expiry for timerfd_settime(TFD_TIMER_ABSTIME), as the
// seconds and nanoseconds of an itimerspec's it_value.
struct TimerfdExpiry {
  std::int64_t sec = 0;   // whole seconds since boot
  std::int64_t nsec = 0;  // 0 .. 999'999'999
  bool operator==(const TimerfdExpiry&) const = default;
};

// The it_value that fires at `deadline`: its nanoseconds split, but never
// all zero, which would disarm the timer instead of firing it at once (a
// deadline at or before boot, 0 or negative, becomes 1 ns: in the past, so
// due at once). Instant::max() (nothing due) gives all zero: disarmed.
// Pure, unit-tested.
TimerfdExpiry timerfd_expiry(core::Instant deadline);

class DeadlineTimer {
 public:
  explicit DeadlineTimer(std::function<void()> on_fire) : on_fire_(std::move(on_fire)) {}
  ~DeadlineTimer();
  DeadlineTimer(const DeadlineTimer&) = delete;
  DeadlineTimer& operator=(const DeadlineTimer&) = delete;

  // Loop thread, once. Errors: io_error (no timerfd, or the poll handle
  // failed; then nothing is left to close but what the destructor closes).
  Result<void> start(uv_loop_t* loop);
  // Fires at `deadline` (CLOCK_BOOTTIME) at the latest. A deadline already
  // past fires at once, on the next loop iteration. An expiry still set and
  // sooner than `deadline` (or than Instant::max(), "none") is kept: it
  // fires early, and the caller, finding nothing due, arms again.
  void arm(core::Instant deadline);
  uv_handle_t* handle() { return reinterpret_cast<uv_handle_t*>(&poll_); }

 private:
  static void on_poll(uv_poll_t* p, int status, int events);

  int fd_ = -1;                                 // the timerfd; closed by the destructor
  uv_poll_t poll_{};                            // readable when the timerfd expired; closed by the driver
  core::Instant armed_ = core::Instant::max();  // deadline set and not yet fired (max: none)
  std::function<void()> on_fire_;               // the driver's batch
};

}  // namespace baton::runtime
