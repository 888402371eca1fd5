// SPDX-License-Identifier: Apache-2.0
// Stats helpers of the public API: log2 latency buckets, drop totals.
#include "baton/stats.hpp"

#include <gtest/gtest.h>

namespace baton {
namespace {

TEST(LatencyHistogram, Log2Buckets) {
  struct Case {
    std::uint64_t micros;
    std::size_t bucket;
  };
  const Case cases[] = {
      {.micros = 0, .bucket = 0},    {.micros = 1, .bucket = 0},   {.micros = 2, .bucket = 1},
      {.micros = 3, .bucket = 1},    {.micros = 4, .bucket = 2},   {.micros = 1023, .bucket = 9},
      {.micros = 1024, .bucket = 10}, {.micros = ~0ull, .bucket = LatencyHistogram::buckets - 1},
  };
  for (const Case& c : cases) EXPECT_EQ(LatencyHistogram::bucket_of(c.micros), c.bucket) << c.micros;
  LatencyHistogram h;
  h.record(3);
  h.record(1500);
  EXPECT_EQ(h.counts[1], 1u);
  EXPECT_EQ(h.counts[10], 1u);
  EXPECT_EQ(h.total(), 2u);
}

TEST(Stats, DropsTotalAndNames) {
  Stats s;
  s.drops[static_cast<std::size_t>(DropReason::bad_auth)] = 3;
  s.drops[static_cast<std::size_t>(DropReason::replayed)] = 2;
  EXPECT_EQ(s.drops_total(), 5u);
  EXPECT_EQ(drop_reason_name(DropReason::stranger), "stranger");
}

}  // namespace
}  // namespace baton
