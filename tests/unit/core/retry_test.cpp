// SPDX-License-Identifier: Apache-2.0
// retry.hpp: the acquirer's timeouts, windows and draws.
#include "core/retry.hpp"

#include <gtest/gtest.h>

#include "core/limits.hpp"

namespace baton::core::retry {
namespace {

constexpr Bounds kBounds{.timeout_min = Duration::ms(2), .timeout_max = Duration::ms(500)};

TEST(Retry, AttemptTimeout) {
  struct Case {
    const char* name;
    Duration rtt;
    std::uint32_t timeouts;
    Duration want;
  };
  const Case cases[] = {
      {.name = "four round trips", .rtt = Duration::ms(1), .timeouts = 0, .want = Duration::ms(4)},
      {.name = "at least the min", .rtt = Duration::us(100), .timeouts = 0, .want = Duration::ms(2)},
      {.name = "at most the max", .rtt = Duration::ms(300), .timeouts = 0, .want = Duration::ms(500)},
      {.name = "doubled per timeout", .rtt = Duration::ms(1), .timeouts = 2, .want = Duration::ms(16)},
      {.name = "min doubled", .rtt = Duration::us(1), .timeouts = 3, .want = Duration::ms(16)},
      {.name = "doubling capped at the max", .rtt = Duration::ms(1), .timeouts = 10, .want = Duration::ms(500)},
      {.name = "huge timeout count", .rtt = Duration::ms(1), .timeouts = 4000000000U, .want = Duration::ms(500)},
  };
  for (const Case& c : cases) EXPECT_EQ(attempt_timeout(c.rtt, c.timeouts, kBounds), c.want) << c.name;
}

TEST(Retry, UnqueuedPoll) {
  struct Case {
    const char* name;
    Duration rtt;
    std::uint32_t polls;
    Duration want;
  };
  const Case cases[] = {
      {.name = "eight round trips", .rtt = Duration::ms(1), .polls = 0, .want = Duration::ms(8)},
      {.name = "at least the min", .rtt = Duration::us(10), .polls = 0, .want = Duration::ms(2)},
      {.name = "doubled once", .rtt = Duration::ms(1), .polls = 1, .want = Duration::ms(16)},
      {.name = "doubled at most twice", .rtt = Duration::ms(1), .polls = 9, .want = Duration::ms(32)},
      {.name = "base capped at the max", .rtt = Duration::ms(100), .polls = 0, .want = Duration::ms(500)},
  };
  for (const Case& c : cases) EXPECT_EQ(unqueued_poll(c.rtt, c.polls, kBounds), c.want) << c.name;
}

TEST(Retry, Windows) {
  const Duration j = Duration::ms(1);
  struct Case {
    const char* name;
    Duration got;
    Duration want;
  };
  const Case cases[] = {
      {.name = "no split: J", .got = split_window(j, 0), .want = j},
      {.name = "first split keeps J", .got = split_window(j, 1), .want = j},
      {.name = "second split doubles", .got = split_window(j, 2), .want = j * 2},
      {.name = "doublings capped", .got = split_window(j, 100), .want = j * (1 << limits::jitter_doublings_max)},
      {.name = "FREE to one member: J", .got = free_window(j, 1, 0), .want = j},
      {.name = "FREE of zero waiters counts as one", .got = free_window(j, 0, 0), .want = j},
      {.name = "FREE to three: 6J", .got = free_window(j, 3, 0), .want = j * 6},
      {.name = "FREE window at least the split window", .got = free_window(j, 2, 5), .want = j * 16},
      {.name = "FREE waiters clamped to members_max", .got = free_window(j, 100000, 0),
       .want = j * (2 * static_cast<std::int64_t>(limits::members_max))},
  };
  for (const Case& c : cases) EXPECT_EQ(c.got, c.want) << c.name;
  EXPECT_EQ(jitter_unit(Duration::zero()), Duration::us(1));
  EXPECT_EQ(jitter_unit(Duration::ms(3)), Duration::ms(3));
}

TEST(Retry, NewRace) {
  const Instant t = Instant::from_ns(1'000'000'000);
  const Duration j = Duration::ms(1);
  EXPECT_FALSE(new_race(t + j * 8, t, j)) << "eight round trips is still the same race";
  EXPECT_TRUE(new_race(t + j * 8 + Duration::ns(1), t, j));
  EXPECT_FALSE(new_race(t, t, j));
}

TEST(Retry, DrawStaysInTheWindowAndMoreDrawsComeEarlier) {
  Rng one(7);
  Rng many(7);
  const Duration window = Duration::ms(10);
  Duration sum_one = Duration::zero();
  Duration sum_many = Duration::zero();
  for (int i = 0; i < 2000; ++i) {
    const Duration a = draw(one, window, 1);
    const Duration b = draw(many, window, 4);
    EXPECT_GE(a, Duration::zero());
    EXPECT_LE(a, window);
    EXPECT_GE(b, Duration::zero());
    EXPECT_LE(b, window);
    sum_one += a;
    sum_many += b;
  }
  // The mean of one uniform draw is window/2; the earliest of four, window/5.
  EXPECT_GT(sum_one / 2000, window * 4 / 10);
  EXPECT_LT(sum_one / 2000, window * 6 / 10);
  EXPECT_GT(sum_many / 2000, window * 15 / 100);
  EXPECT_LT(sum_many / 2000, window * 25 / 100);
  Rng r(1);
  EXPECT_EQ(draw(r, Duration::zero(), 3), Duration::zero()) << "a zero window draws zero";
}

}  // namespace
}  // namespace baton::core::retry
