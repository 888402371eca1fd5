#include "runtime/deadline_timer.hpp"

namespace baton::runtime {

std::uint64_t timeout_ms(core::Instant now, core::Instant deadline) {
  constexpr std::int64_t ms_ns = 1000000;
  constexpr std::int64_t cap_ms = 24LL * 3600 * 1000;
  if (deadline <= now) return 0;
  const std::int64_t wait_ns = (deadline - now).count_ns();
  const std::int64_t ms = wait_ns / ms_ns + (wait_ns % ms_ns != 0 ? 1 : 0);
  return static_cast<std::uint64_t>(ms < cap_ms ? ms : cap_ms);
}

Result<void> DeadlineTimer::start(uv_loop_t* loop) {
  if (uv_timer_init(loop, &timer_) != 0) return Error{Errc::io_error, "timer: uv_timer_init failed"};
  timer_.data = this;
  return {};
}

void DeadlineTimer::arm(core::Instant now, core::Instant deadline) {
  if (deadline.is_max()) {
    uv_timer_stop(&timer_);
    return;
  }
  // The timer counts from the loop's cached time; refresh it so that a long
  // batch does not make the timer fire early by the batch's duration.
  uv_update_time(timer_.loop);
  uv_timer_start(&timer_, &DeadlineTimer::on_timer, timeout_ms(now, deadline), 0);
}

void DeadlineTimer::on_timer(uv_timer_t* t) { static_cast<DeadlineTimer*>(t->data)->on_fire_(); }

}  // namespace baton::runtime
