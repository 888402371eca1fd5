// SPDX-License-Identifier: Apache-2.0
// baton::prometheus over a real 3-member cluster on 127.0.0.1: the series
// exist per member after registering, an acquire shows in the collected
// counters, gauges and the latency histogram of the member that took it (and
// not in another's), updating twice does not count twice, and a destroyed
// Metrics leaves no series behind.
#include "baton/prometheus.hpp"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <optional>
#include <string>

#include "test_cluster.hpp"

namespace baton {
namespace {

using namespace std::chrono_literals;

const ::prometheus::ClientMetric* find(const std::vector<::prometheus::MetricFamily>& families,
                                       const std::string& name, const std::string& member,
                                       const std::string& reason = "") {
  for (const auto& f : families) {
    if (f.name != name) continue;
    for (const auto& m : f.metric) {
      bool member_ok = false, reason_ok = reason.empty();
      for (const auto& l : m.label) {
        if (l.name == "member" && l.value == member) member_ok = true;
        if (l.name == "reason" && l.value == reason) reason_ok = true;
      }
      if (member_ok && reason_ok) return &m;
    }
  }
  return nullptr;
}

std::optional<double> counter(const std::vector<::prometheus::MetricFamily>& f, const std::string& name,
                              const std::string& member) {
  const auto* m = find(f, name, member);
  if (m == nullptr) return std::nullopt;
  return m->counter.value;
}

std::optional<double> gauge(const std::vector<::prometheus::MetricFamily>& f, const std::string& name,
                            const std::string& member) {
  const auto* m = find(f, name, member);
  if (m == nullptr) return std::nullopt;
  return m->gauge.value;
}

TEST(Prometheus, AcquireShowsInTheCollectedMetrics) {
  auto members = test::start_members(3);
  ASSERT_EQ(members.clusters.size(), 3u);
  Cluster& one = *members.clusters[0];
  auto registry = std::make_shared<::prometheus::Registry>();
  prometheus::Metrics m1(*registry, one);
  auto m2 = std::make_unique<prometheus::Metrics>(*registry, *members.clusters[1]);

  auto before = registry->Collect();
  EXPECT_EQ(counter(before, "baton_acquired_total", "1"), 0.0);
  EXPECT_EQ(counter(before, "baton_acquired_total", "2"), 0.0);
  ASSERT_NE(find(before, "baton_drops_total", "1", "bad_auth"), nullptr);
  ASSERT_NE(find(before, "baton_acquire_latency_seconds", "1"), nullptr);

  auto lease = one.acquire("seat:14A", test::opts(5s, 5s));
  ASSERT_TRUE(lease.ok()) << lease.what();
  // The snapshot follows the loop's batch: wait until it shows the grant.
  ASSERT_TRUE(test::eventually([&] { return one.stats().acquired == 1 && one.stats().held_leases == 1; }));
  m1.update();
  m2->update();
  m1.update();  // a second update adds nothing
  const auto after = registry->Collect();
  EXPECT_EQ(counter(after, "baton_acquires_total", "1"), 1.0);
  EXPECT_EQ(counter(after, "baton_acquired_total", "1"), 1.0);
  EXPECT_EQ(counter(after, "baton_acquired_total", "2"), 0.0);
  EXPECT_EQ(counter(after, "baton_acquire_failures_total", "1"), 0.0);
  EXPECT_EQ(gauge(after, "baton_held_leases", "1"), 1.0);
  EXPECT_EQ(gauge(after, "baton_held_leases", "2"), 0.0);
  EXPECT_GE(counter(after, "baton_datagrams_sent_total", "1").value_or(0), 1.0);
  // A majority of the resource's voters granted: grants counted across members.
  const double grants = counter(after, "baton_grants_total", "1").value_or(0) +
                        counter(after, "baton_grants_total", "2").value_or(0);
  EXPECT_GE(grants, 1.0);
  // The histogram: one sample for member 1, in a finite bucket, none for 2.
  const auto* h1 = find(after, "baton_acquire_latency_seconds", "1");
  ASSERT_NE(h1, nullptr);
  EXPECT_EQ(h1->histogram.sample_count, 1u);
  ASSERT_EQ(h1->histogram.bucket.size(), LatencyHistogram::buckets);
  EXPECT_EQ(h1->histogram.bucket.back().cumulative_count, 1u);
  EXPECT_EQ(h1->histogram.bucket.front().upper_bound, 2e-6);
  EXPECT_EQ(find(after, "baton_acquire_latency_seconds", "2")->histogram.sample_count, 0u);

  ASSERT_TRUE(lease->release().ok());
  ASSERT_TRUE(test::eventually([&] { return one.stats().held_leases == 0; }));
  m1.update();
  const auto released = registry->Collect();
  EXPECT_EQ(gauge(released, "baton_held_leases", "1"), 0.0);
  EXPECT_EQ(counter(released, "baton_acquired_total", "1"), 1.0);

  m2.reset();  // member 2's series leave the registry; member 1's stay
  const auto gone = registry->Collect();
  EXPECT_EQ(find(gone, "baton_acquired_total", "2"), nullptr);
  EXPECT_EQ(counter(gone, "baton_acquired_total", "1"), 1.0);
}

}  // namespace
}  // namespace baton
