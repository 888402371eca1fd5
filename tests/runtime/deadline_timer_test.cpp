// SPDX-License-Identifier: Apache-2.0
// DeadlineTimer on a real loop (the test's own, no threads): it fires for a
// deadline less than a millisecond away, never before the deadline on the
// core's clock, fires again for a deadline re-armed after firing, and stays
// quiet when disarmed. The assertions are about order (fired, not early),
// never about how fast: speed belongs in benchmarks.
#include <gtest/gtest.h>
#include <uv.h>

#include <vector>

#include "runtime/clock.hpp"
#include "runtime/deadline_timer.hpp"

namespace baton::runtime {
namespace {

using core::Duration;
using core::Instant;

class Timer : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(uv_loop_init(&loop_), 0);
    ASSERT_TRUE(timer_.start(&loop_).ok());
  }
  void TearDown() override {
    uv_close(timer_.handle(), nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&loop_), 0);
  }
  // Runs the loop until the timer fired `n` times in all.
  void run_until_fired(std::size_t n) {
    while (fired_at_.size() < n) uv_run(&loop_, UV_RUN_ONCE);
  }

  uv_loop_t loop_{};
  std::vector<Instant> fired_at_;  // boot_now() at each firing
  DeadlineTimer timer_{[this] { fired_at_.push_back(boot_now()); }};
};

TEST_F(Timer, FiresForASubMillisecondDeadlineNotBeforeIt) {
  const Instant deadline = boot_now() + Duration::us(100);
  timer_.arm(deadline);
  run_until_fired(1);
  ASSERT_EQ(fired_at_.size(), 1u);
  EXPECT_GE(fired_at_[0], deadline);  // same clock (CLOCK_BOOTTIME): never early
}

TEST_F(Timer, APastDeadlineFiresAndTheSameDeadlineReArmedFiresAgain) {
  const Instant past = boot_now();
  timer_.arm(past);
  run_until_fired(1);
  // The driver re-arms after every batch, often for the same deadline: once
  // fired, that must still reach the kernel.
  timer_.arm(past);
  run_until_fired(2);
  EXPECT_EQ(fired_at_.size(), 2u);
}

TEST_F(Timer, ASoonerDeadlineReplacesALaterOneButNotTheOtherWayRound) {
  // A later deadline replaced by a sooner one: fires once, for the sooner.
  const Instant now = boot_now();
  timer_.arm(now + Duration::s(3600));
  const Instant soon = now + Duration::us(200);
  timer_.arm(soon);
  run_until_fired(1);
  EXPECT_GE(fired_at_[0], soon);

  // A sooner deadline "replaced" by a later one, or by none: the sooner
  // expiry stays set (no timerfd_settime) and fires once, early; the driver
  // finds nothing due and re-arms.
  const Instant soon2 = boot_now() + Duration::us(200);
  timer_.arm(soon2);
  timer_.arm(soon2 + Duration::s(3600));
  timer_.arm(Instant::max());
  run_until_fired(2);
  EXPECT_GE(fired_at_[1], soon2);

  // After it fired nothing is set: max is then a real "none", and nothing
  // fires. A guard uv_timer ends the wait (the timerfd keeps the loop alive,
  // as an armed uv_timer did).
  timer_.arm(Instant::max());
  uv_timer_t guard{};
  ASSERT_EQ(uv_timer_init(&loop_, &guard), 0);
  bool guard_fired = false;
  guard.data = &guard_fired;
  uv_timer_start(&guard, [](uv_timer_t* t) { *static_cast<bool*>(t->data) = true; }, 5, 0);
  while (!guard_fired) uv_run(&loop_, UV_RUN_ONCE);
  EXPECT_EQ(fired_at_.size(), 2u);
  uv_close(reinterpret_cast<uv_handle_t*>(&guard), nullptr);
  uv_run(&loop_, UV_RUN_NOWAIT);  // runs the close before `guard` goes out of scope
}

}  // namespace
}  // namespace baton::runtime
