// SPDX-License-Identifier: Apache-2.0
// Stats helpers of the public API: log2 latency buckets, drop totals, and
// the snapshot built from the layers below (detail::make_stats).
#include "baton/stats.hpp"

#include <gtest/gtest.h>

#include <type_traits>

#include "api/stats_internal.hpp"

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

// Every field comes from its own source: distinct values in, each found in
// its place (a table entry pointing at the wrong source fails here; a field
// with no entry fails the build, in lib/api/stats.cpp).
TEST(Stats, MakeStatsTakesEachFieldFromItsSource) {
  core::NodeStats n;
  n.grants = 101;
  n.denials = 102;
  n.renewals = 103;
  n.acquires = 104;
  n.acquired = 105;
  n.acquire_failures = 106;
  n.renewed = 107;
  n.lost = 108;
  n.requests = 999;  // not published
  for (std::size_t i = 0; i < n.drops.size(); ++i) n.drops[i] = 200 + i;
  core::NodeStatus st;
  st.live_leases = 301;
  st.waiters = 302;
  st.quarantined = true;
  runtime::DriverCounters c;
  c.datagrams_received = 401;
  c.datagrams_sent = 402;
  c.send_failures = 403;
  c.persist_failures = 404;
  c.observer_pings = 405;
  c.incarnation_hints_sent = 406;
  c.new_lives = 407;
  detail::ApiGauges api;
  api.held_leases = 501;
  api.pending_acquires = 502;
  api.acquire_latency.record(1024);

  const Stats s = detail::make_stats(n, st, 601, c, api);
  EXPECT_EQ(s.grants, 101u);
  EXPECT_EQ(s.denials, 102u);
  EXPECT_EQ(s.renewals, 103u);
  EXPECT_EQ(s.acquires, 104u);
  EXPECT_EQ(s.acquired, 105u);
  EXPECT_EQ(s.acquire_failures, 106u);
  EXPECT_EQ(s.renewed, 107u);
  EXPECT_EQ(s.losses, 108u);
  for (std::size_t i = 0; i < s.drops.size(); ++i) EXPECT_EQ(s.drops[i], 200 + i) << drop_reason_name(DropReason(i));
  EXPECT_EQ(s.live_leases, 301u);
  EXPECT_EQ(s.waiters, 302u);
  EXPECT_TRUE(s.quarantined);
  EXPECT_EQ(s.datagrams_received, 401u);
  EXPECT_EQ(s.datagrams_sent, 402u);
  EXPECT_EQ(s.send_failures, 403u);
  EXPECT_EQ(s.persist_failures, 404u);
  EXPECT_EQ(s.observer_pings, 405u);
  EXPECT_EQ(s.incarnation_hints_sent, 406u);
  EXPECT_EQ(s.new_lives, 407u);
  EXPECT_EQ(s.held_leases, 501u);
  EXPECT_EQ(s.pending_acquires, 502u);
  EXPECT_EQ(s.acquire_latency.counts[10], 1u);
  EXPECT_EQ(s.incarnation, 601u);
}

// One definition: the core's reasons are the public enums themselves.
TEST(Stats, CoreAndApiShareTheReasonTypes) {
  static_assert(std::is_same_v<core::DropReason, DropReason>);
  static_assert(std::is_same_v<core::LostReason, LostReason>);
  EXPECT_EQ(core::drop_reason_name(DropReason::config_mismatch), "config_mismatch");
  EXPECT_EQ(core::lost_reason_name(LostReason::superseded), "superseded");
}

}  // namespace
}  // namespace baton
