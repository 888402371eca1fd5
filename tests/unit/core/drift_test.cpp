// SPDX-License-Identifier: Apache-2.0
// drift.hpp: the clock-drift arithmetic. Expected values are computed here
// from the definitions (exact rationals, checked independently), never copied
// from the implementation's output.
#include "core/drift.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace baton::core {
namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kPpm = 1'000'000;

// Every ttl of the grid is at most 1 hour = 3.6e12 ns and every rate at most
// 1.1e6 ppm, so every product below is at most ~4.9e18 and fits in int64.
constexpr std::int64_t kGridTtls[] = {1, 2, 7, 99, 101, 999, 1'000'000, 10'000'000, 1'000'000'001,
                                      60'000'000'000, 3'599'999'999'999, 3'600'000'000'000};
constexpr std::uint32_t kGridRhos[] = {1, 10, 999, 9'999, 10'000, 33'333, 50'000, 99'999, 100'000};

TEST(Drift, StretchDownAndUpKnownValues) {
  // floor(ttl·(1−rho)/(1+rho)) and ceil(d·(1+rho)/(1−rho)) in nanoseconds,
  // worked out by hand (and cross-checked with Python fractions).
  struct Case {
    std::int64_t ttl_ns;
    std::uint32_t rho_ppm;
    std::int64_t down_ns;  // floor
    std::int64_t up_ns;    // ceil
  };
  const Case cases[] = {
      // 10 s · 99/101 = 9801980198.02 → down; 10 s · 101/99 = 10202020202.02 → up.
      {.ttl_ns = 10'000'000'000, .rho_ppm = 10'000, .down_ns = 9'801'980'198, .up_ns = 10'202'020'203},
      // 1 ns: 0.98 rounds down to 0 (no validity at all), 1.02 rounds up to 2.
      {.ttl_ns = 1, .rho_ppm = 10'000, .down_ns = 0, .up_ns = 2},
      // Exact cases round to themselves: 101·99/101 = 99, 99·101/99 = 101.
      {.ttl_ns = 101, .rho_ppm = 10'000, .down_ns = 99, .up_ns = 104},
      {.ttl_ns = 99, .rho_ppm = 10'000, .down_ns = 97, .up_ns = 101},
      // rho = 0.1: 100·9/11 = 81.8, 100·11/9 = 122.2.
      {.ttl_ns = 100, .rho_ppm = 100'000, .down_ns = 81, .up_ns = 123},
      // The longest ttl (1 hour) at the largest rho: 3.6e12·9/11, 3.6e12·11/9 (exact).
      {.ttl_ns = 3'600'000'000'000, .rho_ppm = 100'000, .down_ns = 2'945'454'545'454, .up_ns = 4'400'000'000'000},
      // Default ttl_max 60 s at the default rho: the restart quarantine.
      {.ttl_ns = 60'000'000'000, .rho_ppm = 10'000, .down_ns = 58'811'881'188, .up_ns = 61'212'121'213},
      {.ttl_ns = 0, .rho_ppm = 10'000, .down_ns = 0, .up_ns = 0},
      // rho = 0: identity.
      {.ttl_ns = 5, .rho_ppm = 0, .down_ns = 5, .up_ns = 5},
      // 128-bit intermediates: no overflow at the top of the range; up saturates.
      {.ttl_ns = kMax, .rho_ppm = 100'000, .down_ns = 7'546'395'302'881'180'205, .up_ns = kMax},
      {.ttl_ns = kMax, .rho_ppm = 1, .down_ns = 9'223'353'590'129'148'823, .up_ns = kMax},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(drift::stretch_down(Duration::ns(c.ttl_ns), c.rho_ppm).count_ns(), c.down_ns)
        << "ttl " << c.ttl_ns << " rho " << c.rho_ppm;
    EXPECT_EQ(drift::stretch_up(Duration::ns(c.ttl_ns), c.rho_ppm).count_ns(), c.up_ns)
        << "ttl " << c.ttl_ns << " rho " << c.rho_ppm;
  }
}

TEST(Drift, StretchDownIsTheExactFloorOverTheGrid) {
  for (std::int64_t ttl : kGridTtls) {
    for (std::uint32_t rho : kGridRhos) {
      const std::int64_t v = drift::stretch_down(Duration::ns(ttl), rho).count_ns();
      const std::int64_t num = ttl * (kPpm - rho);
      const std::int64_t den = kPpm + rho;
      // v = floor(num/den)  <=>  v·den <= num < (v+1)·den.
      EXPECT_LE(v * den, num) << "ttl " << ttl << " rho " << rho;
      EXPECT_GT((v + 1) * den, num) << "rounds down too far: ttl " << ttl << " rho " << rho;
    }
  }
}

TEST(Drift, StretchUpIsTheExactCeilingOverTheGrid) {
  for (std::int64_t d : kGridTtls) {
    for (std::uint32_t rho : kGridRhos) {
      const std::int64_t q = drift::stretch_up(Duration::ns(d), rho).count_ns();
      const std::int64_t num = d * (kPpm + rho);
      const std::int64_t den = kPpm - rho;
      // q = ceil(num/den)  <=>  (q−1)·den < num <= q·den.
      EXPECT_GE(q * den, num) << "d " << d << " rho " << rho;
      EXPECT_LT((q - 1) * den, num) << "rounds up too far: d " << d << " rho " << rho;
    }
  }
}

// Guarantee 1, the core relation: a grant's validity at the acquirer never
// outlasts the hold at any granting voter, whatever the two clocks' rates
// within 1 ± rho. A local span L on a clock of rate r (ppm) lasts L/r real
// time. The voter's hold starts no earlier in real time than t0 (worst case:
// at t0), so validity is safe iff V/a <= ttl/h, i.e. V·h <= ttl·a.
TEST(Drift, ValidityNeverOutlastsAnyHoldForAnyClockRates) {
  const std::int64_t margins[] = {0, 1, 2'000'000};
  for (std::int64_t ttl : kGridTtls) {
    for (std::uint32_t rho : kGridRhos) {
      const std::int64_t rates[] = {kPpm - rho, kPpm, kPpm + rho};
      for (std::int64_t margin : margins) {
        const Instant t0 = Instant::from_ns(123'456'789);
        const Instant end = drift::validity_end(t0, Duration::ns(ttl), rho, Duration::ns(margin));
        const std::int64_t v = (end - t0).count_ns();
        EXPECT_LE(v, ttl - margin);
        for (std::int64_t a : rates) {      // acquirer clock rate
          for (std::int64_t h : rates) {    // voter clock rate
            EXPECT_LE(v * h, ttl * a) << "ttl " << ttl << " rho " << rho << " margin " << margin << " a " << a
                                      << " h " << h;
          }
        }
      }
    }
  }
}

// Restart quarantine: its shortest real duration (clock at 1+rho) covers the
// longest real duration of any hold of the previous life (clock at 1−rho).
TEST(Drift, QuarantineOutlastsAnyHoldForAnyClockRates) {
  for (std::int64_t ttl_max : kGridTtls) {
    for (std::uint32_t rho : kGridRhos) {
      const std::int64_t rates[] = {kPpm - rho, kPpm, kPpm + rho};
      const Instant start = Instant::from_ns(5'000);
      const Instant qend = drift::quarantine_end(start, Duration::ns(ttl_max), rho);
      const std::int64_t q = (qend - start).count_ns();
      EXPECT_GE(q, ttl_max);
      for (std::int64_t qr : rates) {     // restarted member's clock rate
        for (std::int64_t hr : rates) {   // previous life's clock rate
          EXPECT_GE(q * hr, ttl_max * qr) << "ttl_max " << ttl_max << " rho " << rho;
        }
      }
      // The validity of any grant also ended: ttl_max·(1−rho)/(1+rho) < quarantine.
      EXPECT_LT(drift::stretch_down(Duration::ns(ttl_max), rho).count_ns(), q + 1);
    }
  }
}

TEST(Drift, ValidityEndHoldEndQuarantineEnd) {
  struct Case {
    const char* what;
    Instant got;
    Instant want;
  };
  const Instant t0 = Instant::from_ns(1'000);
  const Case cases[] = {
      {.what = "validity: t0 + floor(stretch) - margin",
       .got = drift::validity_end(t0, Duration::s(10), 10'000, Duration::ms(2)),
       .want = Instant::from_ns(1'000 + 9'801'980'198 - 2'000'000)},
      {.what = "validity of 1 ns rounds down to t0",
       .got = drift::validity_end(t0, Duration::ns(1), 10'000, Duration::zero()), .want = t0},
      {.what = "validity at rho 0.1, 1 hour",
       .got = drift::validity_end(t0, Duration::s(3600), 100'000, Duration::ms(2)),
       .want = Instant::from_ns(1'000 + 2'945'454'545'454 - 2'000'000)},
      {.what = "hold is exact", .got = drift::hold_end(t0, Duration::ns(7)), .want = Instant::from_ns(1'007)},
      {.what = "hold saturates at never",
       .got = drift::hold_end(Instant::from_ns(kMax - 5), Duration::ns(10)), .want = Instant::max()},
      {.what = "hold of never is never", .got = drift::hold_end(Instant::max(), Duration::s(1)), .want = Instant::max()},
      {.what = "quarantine rounds up",
       .got = drift::quarantine_end(t0, Duration::s(60), 10'000),
       .want = Instant::from_ns(1'000 + 61'212'121'213)},
      {.what = "quarantine 1 hour at rho 0.1",
       .got = drift::quarantine_end(t0, Duration::s(3600), 100'000),
       .want = Instant::from_ns(1'000 + 4'400'000'000'000)},
      {.what = "quarantine saturates",
       .got = drift::quarantine_end(Instant::from_ns(kMax - 10), Duration::s(1), 10'000), .want = Instant::max()},
      {.what = "validity from never stays never",
       .got = drift::validity_end(Instant::max(), Duration::s(1), 10'000, Duration::ms(2)), .want = Instant::max()},
  };
  for (const Case& c : cases) EXPECT_EQ(c.got, c.want) << c.what;
}

TEST(Drift, RenewStartAndCutoff) {
  struct Case {
    std::int64_t from, end;
    std::int64_t start, cutoff;  // from + w/3, end − w/5, w = end − from (integer division)
  };
  const Case cases[] = {
      {.from = 0, .end = 300, .start = 100, .cutoff = 240},
      {.from = 1'000, .end = 1'010, .start = 1'003, .cutoff = 1'008},
      {.from = 1'000, .end = 1'014, .start = 1'004, .cutoff = 1'012},
      {.from = 50, .end = 51, .start = 50, .cutoff = 51},
      {.from = 50, .end = 55, .start = 51, .cutoff = 54},
      // Empty or inverted windows: nothing to schedule inside them.
      {.from = 50, .end = 50, .start = 50, .cutoff = 50},
      {.from = 50, .end = 40, .start = 50, .cutoff = 40},
      // Nearly the whole range: no overflow. (end = Instant::max() would be
      // "never", which stays never.)
      {.from = 0, .end = kMax - 1, .start = (kMax - 1) / 3, .cutoff = (kMax - 1) - (kMax - 1) / 5},
  };
  for (const Case& c : cases) {
    const Instant from = Instant::from_ns(c.from), end = Instant::from_ns(c.end);
    EXPECT_EQ(drift::renew_start(from, end).ns(), c.start) << c.from << ".." << c.end;
    EXPECT_EQ(drift::renew_cutoff(from, end).ns(), c.cutoff) << c.from << ".." << c.end;
  }
}

TEST(Drift, RenewScheduleOrderingOverTheGrid) {
  // For every real validity window: from <= start < cutoff < end, so a renewal
  // round starts before the cut-off, and renew_failing comes before validity ends.
  const Instant t0 = Instant::from_ns(77);
  for (std::int64_t ttl : kGridTtls) {
    for (std::uint32_t rho : kGridRhos) {
      const Instant end = drift::validity_end(t0, Duration::ns(ttl), rho, Duration::zero());
      if (end - t0 < Duration::ns(5)) continue;  // windows shorter than 5 ns have no room for a cut-off
      const Instant start = drift::renew_start(t0, end);
      const Instant cutoff = drift::renew_cutoff(t0, end);
      EXPECT_LE(t0, start);
      EXPECT_LT(start, cutoff) << ttl << " " << rho;
      EXPECT_LT(cutoff, end) << ttl << " " << rho;
    }
  }
}

}  // namespace
}  // namespace baton::core
