// SPDX-License-Identifier: Apache-2.0
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
  in.ttl_max = Duration::s(60);
  in.rho_ppm = 10000;
  return in;
}

StoredState stored(std::optional<std::uint64_t> floor, std::optional<std::uint64_t> inc) {
  return StoredState{.floor = floor, .incarnation = inc, .ttl_max_ns = std::nullopt, .rho_ppm = std::nullopt};
}

TEST(DecideStart, TableOfModes) {
  struct Case {
    const char* name;
    StartInputs in;
    StoredState stored;
    core::RecoveryMode mode;
    bool persist;
    std::uint64_t reservation;
    std::uint64_t incarnation;
    bool write_initial_floor = false;
    bool bootstrap_ignored = false;
  };
  const Case cases[] = {
      {"state dir with floor", inputs("/x", false, std::nullopt, 50), stored(1ull << 33, 7),
       core::RecoveryMode::reservation, true, 1ull << 33, 50},
      {"state dir with floor, bootstrap: ignored", inputs("/x", true, std::nullopt, 50), stored(1ull << 33, 7),
       core::RecoveryMode::reservation, true, 1ull << 33, 50, false, true},
      {"state dir, clock behind counter", inputs("/x", false, std::nullopt, 5), stored(0, 7),
       core::RecoveryMode::reservation, true, 0, 8},
      // Issue 19: a directory without state is a member that lost it, not a first start.
      {"empty state dir: lost state, from peers", inputs("/x", false, std::nullopt, 50), stored(std::nullopt, std::nullopt),
       core::RecoveryMode::peers, true, 0, 50},
      {"state dir with only an incarnation: from peers", inputs("/x", false, std::nullopt, 50), stored(std::nullopt, 70),
       core::RecoveryMode::peers, true, 0, 71},
      {"empty state dir, bootstrap", inputs("/x", true, std::nullopt, 50), stored(std::nullopt, std::nullopt),
       core::RecoveryMode::first_start, true, 0, 50, true},
      {"no state dir", inputs(std::nullopt, false, std::nullopt, 50), {}, core::RecoveryMode::peers, false, 0, 50},
      {"bootstrap", inputs(std::nullopt, true, std::nullopt, 50), {}, core::RecoveryMode::first_start, false, 0, 50},
      {"explicit incarnation", inputs(std::nullopt, false, 42, 50), {}, core::RecoveryMode::peers, false, 0, 42},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const StartPlan p = decide_start(c.in, c.stored);
    EXPECT_EQ(p.recovery, c.mode);
    EXPECT_EQ(p.persist, c.persist);
    EXPECT_EQ(p.recovered_reservation.value, c.reservation);
    EXPECT_EQ(p.incarnation.value, c.incarnation);
    EXPECT_EQ(p.write_initial_floor, c.write_initial_floor);
    EXPECT_EQ(p.bootstrap_ignored, c.bootstrap_ignored);
  }
}

// Issue 19: the quarantine covers the longest ttl_max and largest rho any
// earlier life voted under; the directory keeps the largest ever seen.
TEST(DecideStart, PriorTtlMaxAndRhoComeFromTheStateDirectory) {
  struct Case {
    const char* name;
    std::optional<std::uint64_t> stored_ttl_ns, stored_rho;
    Duration ttl_max;
    std::uint32_t rho_ppm;
    Duration prior_ttl;
    std::uint32_t prior_rho;
    Duration store_ttl;
    std::uint32_t store_rho;
  };
  const Case cases[] = {
      {"lowered across the restart", 4'000'000'000, 20000, Duration::s(1), 10000, Duration::s(4), 20000, Duration::s(4),
       20000},
      {"raised across the restart", 1'000'000'000, 5000, Duration::s(4), 10000, Duration::s(1), 5000, Duration::s(4),
       10000},
      {"nothing stored (first start, older directory)", std::nullopt, std::nullopt, Duration::s(2), 10000,
       Duration::zero(), 0, Duration::s(2), 10000},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    StartInputs in = inputs("/x", false, std::nullopt, 50);
    in.ttl_max = c.ttl_max;
    in.rho_ppm = c.rho_ppm;
    const StartPlan p = decide_start(
        in, StoredState{.floor = 7, .incarnation = 3, .ttl_max_ns = c.stored_ttl_ns, .rho_ppm = c.stored_rho});
    EXPECT_EQ(p.prior_ttl_max, c.prior_ttl);
    EXPECT_EQ(p.prior_rho_ppm, c.prior_rho);
    EXPECT_EQ(p.ttl_max_to_store, c.store_ttl);
    EXPECT_EQ(p.rho_ppm_to_store, c.store_rho);
  }
  // Without a state directory nothing is known or kept.
  const StartPlan diskless = decide_start(inputs(std::nullopt, false, std::nullopt, 50), {});
  EXPECT_EQ(diskless.prior_ttl_max, Duration::zero());
  EXPECT_EQ(diskless.prior_rho_ppm, 0u);
}

class StateDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/baton-state-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::uint64_t number(const char* name) const {
    auto v = read_value(dir_, name);
    EXPECT_TRUE(v.ok()) << v.what();
    return v.ok() && v->has_value() ? **v : ~0ull;
  }
  bool has(const char* name) const { return std::filesystem::exists(dir_ + "/" + name); }
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

TEST_F(StateDirTest, CorruptedFileIsAnErrorNamingItNotAGuess) {
  for (const char* content : {"", "12x\n", "12", "\n", "-3\n", "99999999999999999999999\n"}) {
    std::ofstream(dir_ + "/floor") << content;
    auto r = read_value(dir_, floor_file_name);
    EXPECT_EQ(r.code(), Errc::io_error) << '"' << content << '"';
    EXPECT_NE(r.what().find(dir_ + "/floor"), std::string_view::npos) << r.what();
  }
}

TEST_F(StateDirTest, PlanStartBumpsIncarnationAndRecoversFloor) {
  StartInputs in = inputs(dir_, true, std::nullopt, 1);
  auto first = plan_start(in);
  ASSERT_TRUE(first.ok()) << first.what();
  EXPECT_EQ(first->recovery, core::RecoveryMode::first_start);
  EXPECT_TRUE(first->persist);
  const core::Incarnation first_inc = first->incarnation;
  first = Error{};  // releases the lock
  ASSERT_TRUE(write_value(dir_, floor_file_name, 1ull << 32).ok());
  in.bootstrap = false;
  auto second = plan_start(in);
  ASSERT_TRUE(second.ok()) << second.what();
  EXPECT_EQ(second->recovery, core::RecoveryMode::reservation);
  EXPECT_EQ(second->recovered_reservation.value, 1ull << 32);
  EXPECT_GT(second->incarnation, first_inc);
}

// Issue 19: bootstrap writes the floor at once, so a later start without
// bootstrap recovers from the reservation instead of starting fresh again.
TEST_F(StateDirTest, BootstrapInitializesTheDirectoryAndLaterStartsRecoverFromIt) {
  auto first = plan_start(inputs(dir_, true, std::nullopt, 1));
  ASSERT_TRUE(first.ok()) << first.what();
  EXPECT_EQ(first->recovery, core::RecoveryMode::first_start);
  EXPECT_EQ(number(floor_file_name), 0u);
  EXPECT_EQ(number(incarnation_file_name), first->incarnation.value);
  EXPECT_EQ(number(ttl_max_file_name), 60'000'000'000u);
  EXPECT_EQ(number(rho_file_name), 10000u);
  first = Error{};
  for (bool bootstrap : {false, true}) {
    SCOPED_TRACE(bootstrap ? "again with bootstrap" : "without bootstrap");
    auto later = plan_start(inputs(dir_, bootstrap, std::nullopt, 1));
    ASSERT_TRUE(later.ok()) << later.what();
    EXPECT_EQ(later->recovery, core::RecoveryMode::reservation);
    EXPECT_EQ(later->recovered_reservation.value, 0u);
    EXPECT_EQ(later->bootstrap_ignored, bootstrap);
  }
}

TEST_F(StateDirTest, EmptyDirectoryWithoutBootstrapRecoversFromPeersAndStillPersists) {
  auto p = plan_start(inputs(dir_, false, std::nullopt, 1));
  ASSERT_TRUE(p.ok()) << p.what();
  EXPECT_EQ(p->recovery, core::RecoveryMode::peers);
  EXPECT_TRUE(p->persist);
  EXPECT_FALSE(has(floor_file_name)) << "the floor is written by the voter, once it knows one";
}

TEST_F(StateDirTest, SingleMemberWithoutStateOrBootstrapIsRefusedAndNothingWritten) {
  StartInputs in = inputs(dir_, false, std::nullopt, 1);
  in.has_peers = false;
  auto p = plan_start(in);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.code(), Errc::invalid_config);
  EXPECT_NE(p.what().find(dir_), std::string_view::npos) << p.what();
  EXPECT_NE(p.what().find("bootstrap"), std::string_view::npos) << p.what();
  EXPECT_FALSE(has(incarnation_file_name));
  EXPECT_FALSE(has(ttl_max_file_name));
}

TEST_F(StateDirTest, MissingDirectoryIsRefusedNamingItUnlessBootstrapCreatesIt) {
  const std::string missing = dir_ + "/member-1";
  auto refused = plan_start(inputs(missing, false, std::nullopt, 1));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.code(), Errc::io_error);
  EXPECT_NE(refused.what().find("'" + missing + "' does not exist"), std::string_view::npos) << refused.what();
  EXPECT_NE(refused.what().find("--bootstrap"), std::string_view::npos) << refused.what();
  EXPECT_FALSE(std::filesystem::exists(missing));

  auto created = plan_start(inputs(missing, true, std::nullopt, 1));
  ASSERT_TRUE(created.ok()) << created.what();
  EXPECT_TRUE(created->created_dir);
  EXPECT_EQ(std::filesystem::status(missing).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_all);
  auto floor = read_value(missing, floor_file_name);
  ASSERT_TRUE(floor.ok() && floor->has_value());
  EXPECT_EQ(**floor, 0u);
}

TEST_F(StateDirTest, NotADirectoryIsRefusedNamingIt) {
  const std::string file = dir_ + "/plain";
  std::ofstream(file) << "x\n";
  auto r = plan_start(inputs(file, true, std::nullopt, 1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Errc::io_error);
  EXPECT_NE(r.what().find("'" + file + "' exists but is not a directory"), std::string_view::npos) << r.what();
}

// Issue 19: a second start on a directory in use is refused before it reads
// or writes anything there, and the error names the directory and the holder.
TEST_F(StateDirTest, SecondStartOnALockedDirectoryIsRefusedAndChangesNothing) {
  auto first = plan_start(inputs(dir_, true, std::nullopt, 1));
  ASSERT_TRUE(first.ok()) << first.what();
  ASSERT_TRUE(first->lock.held());
  ASSERT_TRUE(write_value(dir_, floor_file_name, 1ull << 33).ok());  // what the running member reserved
  const std::uint64_t inc = number(incarnation_file_name);

  for (bool bootstrap : {false, true}) {
    auto second = plan_start(inputs(dir_, bootstrap, std::nullopt, inc + 100));
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.code(), Errc::io_error);
    const std::string expected = "state directory '" + dir_ + "' is locked by another member of this process (pid " +
                                 std::to_string(::getpid()) + ")";
    EXPECT_NE(second.what().find(expected), std::string_view::npos) << second.what();
    EXPECT_EQ(number(incarnation_file_name), inc);
    EXPECT_EQ(number(floor_file_name), 1ull << 33);
  }
  auto direct = StateDirLock::acquire(dir_);
  EXPECT_EQ(direct.code(), Errc::io_error);

  first = Error{};  // the first life ends: the lock is free again
  auto third = plan_start(inputs(dir_, false, std::nullopt, inc + 100));
  ASSERT_TRUE(third.ok()) << third.what();
  EXPECT_EQ(third->recovery, core::RecoveryMode::reservation);
  EXPECT_EQ(third->recovered_reservation.value, 1ull << 33);
}

TEST_F(StateDirTest, LargestTtlMaxAndRhoArePersistedBeforeVoting) {
  StartInputs in = inputs(dir_, true, std::nullopt, 1);
  in.ttl_max = Duration::s(4);
  in.rho_ppm = 20000;
  ASSERT_TRUE(plan_start(in).ok());
  EXPECT_EQ(number(ttl_max_file_name), 4'000'000'000u);
  EXPECT_EQ(number(rho_file_name), 20000u);
  // Lowered: the prior values come back, and the files keep the larger ones.
  in.bootstrap = false;
  in.ttl_max = Duration::s(1);
  in.rho_ppm = 10000;
  auto lowered = plan_start(in);
  ASSERT_TRUE(lowered.ok()) << lowered.what();
  EXPECT_EQ(lowered->prior_ttl_max, Duration::s(4));
  EXPECT_EQ(lowered->prior_rho_ppm, 20000u);
  EXPECT_EQ(number(ttl_max_file_name), 4'000'000'000u);
  EXPECT_EQ(number(rho_file_name), 20000u);
  lowered = Error{};
  // Raised above them: stored.
  in.ttl_max = Duration::s(6);
  ASSERT_TRUE(plan_start(in).ok());
  EXPECT_EQ(number(ttl_max_file_name), 6'000'000'000u);
}

TEST_F(StateDirTest, OutOfRangeTtlMaxOrRhoFileIsCorruption) {
  ASSERT_TRUE(write_value(dir_, floor_file_name, 5).ok());
  ASSERT_TRUE(write_value(dir_, ttl_max_file_name, 3'600'000'000'001ull).ok());
  auto r = plan_start(inputs(dir_, false, std::nullopt, 1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Errc::io_error);
  EXPECT_NE(r.what().find(dir_ + "/ttl_max_ns"), std::string_view::npos) << r.what();
  ASSERT_TRUE(write_value(dir_, ttl_max_file_name, 1'000'000'000).ok());
  ASSERT_TRUE(write_value(dir_, rho_file_name, 100001).ok());
  r = plan_start(inputs(dir_, false, std::nullopt, 1));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.what().find(dir_ + "/rho_ppm"), std::string_view::npos) << r.what();
}

// Issue 21: the configuration record and promise, one text file written
// atomically; a missing file is the initial configuration, a corrupted one
// stops the start naming it.
TEST_F(StateDirTest, ConfigurationRoundTripsAndPlanStartReadsIt) {
  const core::CfgState joint{
      .record = {.id = {4, 9}, .old_voters = {core::MemberId{1}, core::MemberId{2}, core::MemberId{3}},
                 .new_voters = {core::MemberId{2}, core::MemberId{3}, core::MemberId{7}}, .floor = {}},
      .promised = 11, .join_floor = core::Token{40}};
  const core::CfgState simple{
      .record = {.id = {5, 11}, .old_voters = {core::MemberId{2}, core::MemberId{3}, core::MemberId{7}},
                 .new_voters = {}, .floor = core::Token{1ull << 40}},
      .promised = 11, .join_floor = core::Token{1ull << 41}};
  EXPECT_EQ(format_config(simple),
            "epoch 5\nballot 11\nvoters 2 3 7\nnew_voters\nfloor 1099511627776\npromised 11\njoin_floor 2199023255552\n");
  for (const core::CfgState& s : {joint, simple}) EXPECT_EQ(parse_config(format_config(s)), s);

  auto none = read_config(dir_);
  ASSERT_TRUE(none.ok()) << none.what();
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(write_config(dir_, joint).ok());
  ASSERT_TRUE(write_config(dir_, simple).ok());
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/config.tmp"));
  auto back = read_config(dir_);
  ASSERT_TRUE(back.ok()) << back.what();
  EXPECT_EQ(*back, simple);

  ASSERT_TRUE(write_value(dir_, floor_file_name, 7).ok());
  auto plan = plan_start(inputs(dir_, false, std::nullopt, 1));
  ASSERT_TRUE(plan.ok()) << plan.what();
  EXPECT_EQ(plan->cfg, simple);
}

TEST_F(StateDirTest, CorruptedConfigurationIsAnErrorNamingItAndTheStartWritesNothing) {
  const char* bad[] = {
      "",
      "epoch 2\nballot 1\nvoters 1 2 3\nnew_voters\nfloor 0\npromised 1\n",      // no join floor
      "epoch 2\nballot 1\nvoters 1 2 3\nnew_voters\nfloor 5\npromised 1\njoin_floor 4\n",  // below F
      "epoch 2\nballot 1\nvoters 1 2 3\nnew_voters\nfloor 0\n",                  // no promise
      "epoch 2\nballot 1\nvoters 1 2 3\nnew_voters\nfloor 0\npromised 0\njoin_floor 0\n",     // promise below ballot
      "epoch 0\nballot 0\nvoters 1 2 3\nnew_voters\nfloor 0\npromised 0\njoin_floor 0\n",     // epoch 0
      "epoch 2\nballot 1\nvoters 3 2\nnew_voters\nfloor 0\npromised 1\njoin_floor 0\n",       // unsorted
      "epoch 2\nballot 1\nvoters\nnew_voters\nfloor 0\npromised 1\njoin_floor 0\n",           // no voters
      "epoch 2\nballot 1\nvoters 1  2\nnew_voters\nfloor 0\npromised 1\njoin_floor 0\n",      // two spaces
      "epoch 2\nballot 1\nvoters 1 2\nnew_voters 3\nfloor 4\npromised 1\njoin_floor 0\n",     // joint with F
      "epoch 2\nballot 1\nvoters 1 2\nnew_voters\nfloor 0\npromised 1\njoin_floor 0\nextra\n",
      "ballot 1\nepoch 2\nvoters 1 2\nnew_voters\nfloor 0\npromised 1\n",       // order
  };
  ASSERT_TRUE(write_value(dir_, floor_file_name, 7).ok());
  for (const char* content : bad) {
    SCOPED_TRACE(content);
    std::ofstream(dir_ + "/config", std::ios::trunc) << content;
    auto r = read_config(dir_);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), Errc::io_error);
    EXPECT_NE(r.what().find(dir_ + "/config"), std::string_view::npos) << r.what();
    auto p = plan_start(inputs(dir_, false, std::nullopt, 1));
    ASSERT_FALSE(p.ok());
    EXPECT_FALSE(has(incarnation_file_name));  // refused before writing anything
  }
}

}  // namespace
}  // namespace baton::runtime
