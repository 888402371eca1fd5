// DeadlineTimer: the one uv_timer_t of a member, re-armed from
// Node::next_deadline() after every batch (STYLE.md 2, ngtcp2's pull model).
//
// libuv timers count milliseconds on CLOCK_MONOTONIC from the loop's cached
// time; the core's deadlines are on CLOCK_BOOTTIME in nanoseconds. The timer
// is only a wakeup: on firing the driver reads the clock again and the core
// decides what is due, so a wakeup that comes early does nothing (the timer
// is re-armed) and one that comes late (after a suspend) only delays work,
// while lease validity itself is always judged against a fresh reading.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>

#include "baton/result.hpp"
#include "core/time.hpp"

namespace baton::runtime {

// Milliseconds to wait from `now` until `deadline`, rounded up (never wake
// before the deadline because of rounding), 0 if due, capped at one day
// (then re-armed). Pure, unit-tested.
std::uint64_t timeout_ms(core::Instant now, core::Instant deadline);

class DeadlineTimer {
 public:
  explicit DeadlineTimer(std::function<void()> on_fire) : on_fire_(std::move(on_fire)) {}
  DeadlineTimer(const DeadlineTimer&) = delete;
  DeadlineTimer& operator=(const DeadlineTimer&) = delete;

  Result<void> start(uv_loop_t* loop);
  // Arms for `deadline` (Instant::max(): disarms).
  void arm(core::Instant now, core::Instant deadline);
  uv_handle_t* handle() { return reinterpret_cast<uv_handle_t*>(&timer_); }

 private:
  static void on_timer(uv_timer_t* t);
  uv_timer_t timer_{};             // closed by the driver
  std::function<void()> on_fire_;  // the driver's batch
};

}  // namespace baton::runtime
