// Pure pieces of lib/runtime: clock guard, bounded queue, slot pool, timer
// expiry, start plan and state files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "runtime/bounded_queue.hpp"
#include "runtime/clock.hpp"
#include "runtime/deadline_timer.hpp"
#include "runtime/slot_pool.hpp"
#include "runtime/state_dir.hpp"

namespace baton::runtime {
namespace {

using core::Duration;
using core::Instant;

TEST(MonotonicGuard, AcceptsEqualAndLaterReadings) {
  MonotonicGuard g;
  EXPECT_EQ(g.observe(Instant::from_ns(5)), Instant::from_ns(5));
  EXPECT_EQ(g.observe(Instant::from_ns(5)), Instant::from_ns(5));
  EXPECT_EQ(g.observe(Instant::from_ns(9)), Instant::from_ns(9));
  EXPECT_EQ(g.last(), Instant::from_ns(9));
}

TEST(MonotonicGuardDeathTest, CrashesWhenTheClockGoesBackwards) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  MonotonicGuard g;
  (void)g.observe(Instant::from_ns(100));
  EXPECT_DEATH((void)g.observe(Instant::from_ns(99)), "reading >= last_");
}

TEST(BootClock, ReadsAdvanceAndCountFromBoot) {
  const Instant a = boot_now();
  const Instant b = boot_now();
  EXPECT_GE(b, a);
  EXPECT_GT(a, Instant::zero());
}

TEST(BoundedQueue, RefusesWhenFullButReservedPassesAndCloseRefusesAll) {
  BoundedQueue<int> q(2);
  EXPECT_EQ(q.push(1), PushResult::ok);
  EXPECT_EQ(q.push(2), PushResult::ok);
  EXPECT_EQ(q.push(3), PushResult::full);
  EXPECT_EQ(q.push_reserved(4), PushResult::ok);
  std::vector<int> out;
  q.drain(out);
  EXPECT_EQ(out, (std::vector<int>{1, 2, 4}));
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.push(5), PushResult::ok);
  EXPECT_EQ(q.close(), std::vector<int>{5});
  EXPECT_EQ(q.push(6), PushResult::closed);
  EXPECT_EQ(q.push_reserved(7), PushResult::closed);
}

TEST(BoundedQueue, AfterHookRunsOnlyWhenQueued) {
  BoundedQueue<int> q(1);
  int woken = 0;
  EXPECT_EQ(q.push(1, [&] { ++woken; }), PushResult::ok);
  EXPECT_EQ(q.push(2, [&] { ++woken; }), PushResult::full);
  EXPECT_EQ(woken, 1);
}

TEST(SlotPool, HandsOutEachSlotOnceAndRunsOut) {
  SlotPool<int> pool(2);
  int* a = pool.acquire();
  int* b = pool.acquire();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a, b);
  EXPECT_EQ(pool.acquire(), nullptr);
  EXPECT_EQ(pool.in_use(), 2u);
  pool.release(a);
  EXPECT_EQ(pool.acquire(), a);
}

TEST(TimerfdExpiry, SplitsNanosecondsNeverAllZeroUnlessDisarmed) {
  struct Case {
    Instant deadline;
    TimerfdExpiry expected;
  };
  const Case cases[] = {
      {.deadline = Instant::max(), .expected = {.sec = 0, .nsec = 0}},  // disarm
      {.deadline = Instant::from_ns(0), .expected = {.sec = 0, .nsec = 1}},  // due: fire, not disarm
      {.deadline = Instant::from_ns(-5), .expected = {.sec = 0, .nsec = 1}},
      {.deadline = Instant::from_ns(1), .expected = {.sec = 0, .nsec = 1}},
      {.deadline = Instant::from_ns(100'000), .expected = {.sec = 0, .nsec = 100'000}},  // 100 us: not rounded to 1 ms
      {.deadline = Instant::from_ns(999'999'999), .expected = {.sec = 0, .nsec = 999'999'999}},
      {.deadline = Instant::from_ns(1'000'000'000), .expected = {.sec = 1, .nsec = 0}},
      {.deadline = Instant::from_ns(3'600'000'000'123), .expected = {.sec = 3600, .nsec = 123}},
      {.deadline = Instant::from_ns(INT64_MAX - 1), .expected = {.sec = 9'223'372'036, .nsec = 854'775'806}},
  };
  for (const Case& c : cases) EXPECT_EQ(timerfd_expiry(c.deadline), c.expected) << c.deadline.ns();
}

StartInputs inputs(std::optional<std::string> dir, bool bootstrap, std::optional<std::uint64_t> inc,
                   std::uint64_t realtime) {
  StartInputs in;
  in.state_dir = std::move(dir);
  in.bootstrap = bootstrap;
  in.incarnation = inc;
  in.realtime_ns = realtime;
  return in;
}

TEST(DecideStart, TableOfModes) {
  struct Case {
    const char* name;
    StartInputs in;
    std::optional<std::uint64_t> floor;
    std::optional<std::uint64_t> stored_inc;
    core::RecoveryMode mode;
    bool persist;
    std::uint64_t reservation;
    std::uint64_t incarnation;
  };
  const Case cases[] = {
      {"state dir with floor", inputs("/x", false, std::nullopt, 50), 1ull << 33, 7, core::RecoveryMode::reservation,
       true, 1ull << 33, 50},
      {"state dir, clock behind counter", inputs("/x", false, std::nullopt, 5), std::nullopt, 7,
       core::RecoveryMode::first_start, true, 0, 8},
      {"empty state dir", inputs("/x", false, std::nullopt, 50), std::nullopt, std::nullopt,
       core::RecoveryMode::first_start, true, 0, 50},
      {"no state dir", inputs(std::nullopt, false, std::nullopt, 50), std::nullopt, std::nullopt, core::RecoveryMode::peers, false, 0, 50},
      {"bootstrap", inputs(std::nullopt, true, std::nullopt, 50), std::nullopt, std::nullopt, core::RecoveryMode::first_start,
       false, 0, 50},
      {"explicit incarnation", inputs(std::nullopt, false, 42, 50), std::nullopt, std::nullopt,
       core::RecoveryMode::peers, false, 0, 42},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const StartPlan p = decide_start(c.in, c.floor, c.stored_inc);
    EXPECT_EQ(p.recovery, c.mode);
    EXPECT_EQ(p.persist, c.persist);
    EXPECT_EQ(p.recovered_reservation.value, c.reservation);
    EXPECT_EQ(p.incarnation.value, c.incarnation);
  }
}

class StateDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/baton-state-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(StateDirTest, WriteThenReadBackAndMissingIsNullopt) {
  auto missing = read_value(dir_, floor_file_name);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  ASSERT_TRUE(write_value(dir_, floor_file_name, 12345678901234ull).ok());
  auto back = read_value(dir_, floor_file_name);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(**back, 12345678901234ull);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/floor.tmp"));
}

TEST_F(StateDirTest, CorruptedFileIsAnErrorNotAGuess) {
  for (const char* content : {"", "12x\n", "12", "\n", "-3\n", "99999999999999999999999\n"}) {
    std::ofstream(dir_ + "/floor") << content;
    EXPECT_EQ(read_value(dir_, floor_file_name).code(), Errc::io_error) << '"' << content << '"';
  }
}

TEST_F(StateDirTest, PlanStartBumpsIncarnationAndRecoversFloor) {
  StartInputs in = inputs(dir_, false, std::nullopt, 1);
  auto first = plan_start(in);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->recovery, core::RecoveryMode::first_start);
  EXPECT_TRUE(first->persist);
  ASSERT_TRUE(write_value(dir_, floor_file_name, 1ull << 32).ok());
  auto second = plan_start(in);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->recovery, core::RecoveryMode::reservation);
  EXPECT_EQ(second->recovered_reservation.value, 1ull << 32);
  EXPECT_GT(second->incarnation, first->incarnation);
}

TEST(PlanStart, MissingDirectoryIsAnIoError) {
  StartInputs in = inputs("/nonexistent/baton-state", false, std::nullopt, 1);
  EXPECT_EQ(plan_start(in).code(), Errc::io_error);
}

}  // namespace
}  // namespace baton::runtime
