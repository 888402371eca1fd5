// SPDX-License-Identifier: Apache-2.0
// time.hpp: Instant/Duration arithmetic saturates at the ends of the range, so
// "never" (Instant::max()) stays "never", and orders like the integers it wraps.
#include "core/time.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace baton::core {
namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();

TEST(Time, DurationUnitsAndTruncation) {
  struct Case {
    Duration d;
    std::int64_t ns, us, ms;
  };
  const Case cases[] = {
      {.d = Duration::ns(1), .ns = 1, .us = 0, .ms = 0},
      {.d = Duration::ns(1999), .ns = 1999, .us = 1, .ms = 0},
      {.d = Duration::us(7), .ns = 7000, .us = 7, .ms = 0},
      {.d = Duration::ms(3), .ns = 3'000'000, .us = 3000, .ms = 3},
      {.d = Duration::s(2), .ns = 2'000'000'000, .us = 2'000'000, .ms = 2000},
      {.d = Duration::s(3600), .ns = 3'600'000'000'000, .us = 3'600'000'000, .ms = 3'600'000},
      // Truncation is toward zero, like integer division.
      {.d = Duration::ns(-1999), .ns = -1999, .us = -1, .ms = 0},
      {.d = Duration::zero(), .ns = 0, .us = 0, .ms = 0},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.d.count_ns(), c.ns);
    EXPECT_EQ(c.d.count_us(), c.us) << c.ns;
    EXPECT_EQ(c.d.count_ms(), c.ms) << c.ns;
  }
}

TEST(Time, DurationArithmeticSaturates) {
  struct Case {
    const char* what;
    Duration got;
    std::int64_t want_ns;
  };
  const Case cases[] = {
      {.what = "plain add", .got = Duration::ms(1) + Duration::us(1), .want_ns = 1'001'000},
      {.what = "plain sub", .got = Duration::ms(1) - Duration::ms(3), .want_ns = -2'000'000},
      {.what = "max + 1", .got = Duration::max() + Duration::ns(1), .want_ns = kMax},
      {.what = "max + max", .got = Duration::max() + Duration::max(), .want_ns = kMax},
      {.what = "min - 1", .got = Duration::ns(kMin) - Duration::ns(1), .want_ns = kMin},
      {.what = "min + (-1)", .got = Duration::ns(kMin) + Duration::ns(-1), .want_ns = kMin},
      {.what = "0 - min", .got = Duration::zero() - Duration::ns(kMin), .want_ns = kMax},
      {.what = "max - (-1)", .got = Duration::max() - Duration::ns(-1), .want_ns = kMax},
      {.what = "mul", .got = Duration::ms(5) * 4, .want_ns = 20'000'000},
      {.what = "mul overflow up", .got = Duration::s(10) * (kMax / 2), .want_ns = kMax},
      {.what = "mul overflow negative", .got = Duration::s(-10) * (kMax / 2), .want_ns = kMin},
      {.what = "mul overflow negative k", .got = Duration::s(10) * -(kMax / 2), .want_ns = kMin},
      {.what = "mul both negative", .got = Duration::s(-10) * -(kMax / 2), .want_ns = kMax},
      {.what = "div truncates", .got = Duration::ns(10) / 3, .want_ns = 3},
  };
  for (const Case& c : cases) EXPECT_EQ(c.got.count_ns(), c.want_ns) << c.what;

  Duration acc = Duration::max() - Duration::ns(5);
  acc += Duration::ns(10);
  EXPECT_EQ(acc, Duration::max());
  acc -= Duration::ns(3);
  EXPECT_EQ(acc.count_ns(), kMax - 3);
}

TEST(Time, InstantArithmeticSaturatesAndNeverStaysNever) {
  struct Case {
    const char* what;
    Instant got;
    std::int64_t want_ns;
  };
  const Instant near_max = Instant::from_ns(kMax - 5);
  const Case cases[] = {
      {.what = "plain", .got = Instant::from_ns(100) + Duration::ns(23), .want_ns = 123},
      {.what = "plain sub", .got = Instant::from_ns(100) - Duration::ns(23), .want_ns = 77},
      {.what = "near max + 10 saturates", .got = near_max + Duration::ns(10), .want_ns = kMax},
      {.what = "near max + 5 reaches max", .got = near_max + Duration::ns(5), .want_ns = kMax},
      {.what = "near max + 4 stays below", .got = near_max + Duration::ns(4), .want_ns = kMax - 1},
      {.what = "max + d", .got = Instant::max() + Duration::s(1), .want_ns = kMax},
      {.what = "max - d stays never", .got = Instant::max() - Duration::s(1), .want_ns = kMax},
      {.what = "max + negative stays never", .got = Instant::max() + Duration::s(-1), .want_ns = kMax},
      {.what = "min - 1 saturates", .got = Instant::from_ns(kMin) - Duration::ns(1), .want_ns = kMin},
      {.what = "zero", .got = Instant::zero(), .want_ns = 0},
  };
  for (const Case& c : cases) EXPECT_EQ(c.got.ns(), c.want_ns) << c.what;
  EXPECT_TRUE((near_max + Duration::ns(5)).is_max());
  EXPECT_FALSE((near_max + Duration::ns(4)).is_max());

  Instant t = Instant::max();
  t += Duration::s(-5);
  EXPECT_TRUE(t.is_max());
}

TEST(Time, InstantDifferenceSaturates) {
  EXPECT_EQ((Instant::from_ns(500) - Instant::from_ns(200)).count_ns(), 300);
  EXPECT_EQ((Instant::from_ns(200) - Instant::from_ns(500)).count_ns(), -300);
  EXPECT_EQ((Instant::max() - Instant::from_ns(-1)).count_ns(), kMax);
  EXPECT_EQ((Instant::from_ns(kMin) - Instant::from_ns(1)).count_ns(), kMin);
}

TEST(Time, OrderingAndMinMax) {
  const Instant a = Instant::from_ns(-3), b = Instant::from_ns(7);
  EXPECT_LT(a, b);
  EXPECT_LT(b, Instant::max());
  EXPECT_EQ(min(a, b), a);
  EXPECT_EQ(max(a, b), b);
  EXPECT_EQ(min(b, a), a);
  EXPECT_EQ(max(b, a), b);
  EXPECT_EQ(min(b, Instant::max()), b);
  const Duration x = Duration::ns(-1), y = Duration::ns(1);
  EXPECT_LT(x, y);
  EXPECT_LT(y, Duration::max());
  EXPECT_EQ(min(x, y), x);
  EXPECT_EQ(max(x, y), y);
  EXPECT_EQ(Duration::ms(1), Duration::us(1000));
  EXPECT_NE(Duration::ms(1), Duration::us(1001));
  EXPECT_EQ(Instant{}, Instant::zero());
  EXPECT_EQ(Duration{}, Duration::zero());
}

TEST(Time, ToTextIsExactInTheLargestUnitThatDivides) {
  struct Row {
    Duration d;
    const char* text;
  };
  const Row rows[] = {{Duration::zero(), "0s"},          {Duration::s(60), "60s"},
                      {Duration::ms(1500), "1500ms"},    {Duration::ms(5), "5ms"},
                      {Duration::us(999), "999us"},      {Duration::ns(4'900'991), "4900991ns"},
                      {Duration::ms(-5), "-5ms"},        {Duration::ns(-1), "-1ns"},
                      {Duration::s(3600), "3600s"}};
  for (const Row& r : rows) EXPECT_EQ(to_text(r.d), r.text) << r.d.count_ns();
}

}  // namespace
}  // namespace baton::core
