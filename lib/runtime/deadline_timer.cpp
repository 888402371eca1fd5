// SPDX-License-Identifier: Apache-2.0
#include "runtime/deadline_timer.hpp"

#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/assert.hpp"

namespace baton::runtime {

TimerfdExpiry timerfd_expiry(core::Instant deadline) {
  constexpr std::int64_t s_ns = 1'000'000'000;
  if (deadline.is_max()) return {};
  const std::int64_t ns = deadline.ns() > 0 ? deadline.ns() : 1;
  return {.sec = ns / s_ns, .nsec = ns % s_ns};
}

DeadlineTimer::~DeadlineTimer() {
  // The driver closed poll_ (uv_close) before this runs, if start() made it.
  if (fd_ >= 0) ::close(fd_);
}

Result<void> DeadlineTimer::start(uv_loop_t* loop) {
  BATON_ASSERT(fd_ < 0);
  fd_ = ::timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd_ < 0) return Error{Errc::io_error, "timer: timerfd_create(CLOCK_BOOTTIME) failed"};
  // uv_poll_init fails before it initializes the handle, so on failure there
  // is no handle to close; the destructor closes the fd.
  if (uv_poll_init(loop, &poll_, fd_) != 0) return Error{Errc::io_error, "timer: uv_poll_init failed"};
  poll_.data = this;
  // Polled for the handle's whole life: a disarmed timerfd is never
  // readable, and starting and stopping per arm would cost epoll_ctl calls.
  // It fails only for bad arguments or an fd that another handle polls,
  // and this fd is new: an initialized handle must reach the driver's
  // close list, so there is no error path here.
  const int rc = uv_poll_start(&poll_, UV_READABLE, &DeadlineTimer::on_poll);
  BATON_ASSERT(rc == 0);
  return {};
}

void DeadlineTimer::arm(core::Instant deadline) {
  BATON_ASSERT(fd_ >= 0);
  // The driver re-arms after every batch, usually for the same deadline:
  // still set and not fired, so the kernel need not hear it again. A later
  // deadline need not either: the earlier expiry still set fires, finds
  // nothing due, and the driver re-arms then. Under load the next deadline
  // moves later after nearly every batch (an attempt's timeout replaced by
  // the lease's), and this saves a timerfd_settime per batch for one
  // spurious wakeup per expiry (strace, docs/benchmarks.md).
  // (With nothing set, armed_ is max: only "none again" returns here.)
  if (deadline >= armed_) return;
  const TimerfdExpiry e = timerfd_expiry(deadline);
  itimerspec spec{};
  spec.it_value.tv_sec = static_cast<time_t>(e.sec);
  spec.it_value.tv_nsec = static_cast<long>(e.nsec);
  // Fails only for arguments that timerfd_expiry never produces.
  const int rc = ::timerfd_settime(fd_, TFD_TIMER_ABSTIME, &spec, nullptr);
  BATON_ASSERT(rc == 0);
  armed_ = deadline;
}

void DeadlineTimer::on_poll(uv_poll_t* p, int status, int) {
  auto* self = static_cast<DeadlineTimer*>(p->data);
  if (status == 0) {
    // Clear the expiry, or the level-triggered poll fires again at once.
    // EAGAIN: re-armed since it expired (the new deadline is still ahead),
    // so nothing fired and there is nothing to do.
    std::uint64_t expirations = 0;
    const ssize_t n = ::read(self->fd_, &expirations, sizeof expirations);
    if (n != static_cast<ssize_t>(sizeof expirations)) {
      BATON_ASSERT(n < 0);
      BATON_ASSERT(errno == EAGAIN);
      return;
    }
  }
  // Fired (or status < 0, a poll error: run the batch anyway; it reads the
  // clock and re-arms, so at worst this wakeup finds nothing due). Either
  // way the next arm() must reach the kernel, even for the same deadline.
  self->armed_ = core::Instant::max();
  self->on_fire_();
}

}  // namespace baton::runtime
