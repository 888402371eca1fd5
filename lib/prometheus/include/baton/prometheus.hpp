// SPDX-License-Identifier: Apache-2.0
// baton::prometheus: a member's Stats (baton/stats.hpp) as Prometheus metrics
// in the application's prometheus-cpp registry (issue 22). Optional: the
// target exists only where prometheus-cpp is installed (Debian
// prometheus-cpp-dev); the Baton library itself does not depend on it.
//
//   auto registry = std::make_shared<prometheus::Registry>();
//   baton::prometheus::Metrics metrics(*registry, *cluster);
//   exposer.RegisterCollectable(registry);           // prometheus-cpp pull
//   ... before each scrape, or every few seconds:
//   metrics.update();
//
// Every series carries the label member="<Cluster::self()>", so the Clusters
// of one process (or members and clients) share the families. Counters are
// named baton_<stat>_total, gauges baton_<stat>, drops are one counter family
// with a `reason` label (baton::drop_reason_name), and the acquire latency is
// the histogram baton_acquire_latency_seconds with the buckets of
// LatencyHistogram (upper bounds 2 us, 4 us, ... 2^31 us, +Inf). Stats keeps
// counts per bucket but no sum, so the histogram's _sum adds each acquire's
// bucket lower bound: a lower bound of the true sum.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <string>
#include <vector>

#include "baton/cluster.hpp"
#include "baton/stats.hpp"

namespace baton::prometheus {

class Metrics {
 public:
  // Adds this member's series to `registry` (creating the families on first
  // use) and copies the current Stats in. `registry` and `cluster` must
  // outlive this object.
  Metrics(::prometheus::Registry& registry, const Cluster& cluster);
  // Removes this member's series from the families.
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Copies the newest Stats snapshot into the series: counters advance by
  // what the member counted since the last update, gauges are set. Cheap
  // (Cluster::stats() never waits for the loop); call it from one thread at
  // a time.
  void update();

  // The same from a given snapshot (what update() does with cluster.stats()).
  void update(const Stats& stats);

 private:
  struct CounterSeries {
    ::prometheus::Family<::prometheus::Counter>* family;
    ::prometheus::Counter* counter;
    std::uint64_t Stats::*field;  // null: a drop reason (see drop_index)
    std::size_t drop_index;
    std::uint64_t last = 0;  // the stat's value at the last update
  };
  struct GaugeSeries {
    ::prometheus::Family<::prometheus::Gauge>* family;
    ::prometheus::Gauge* gauge;
    double (*read)(const Stats&);
  };

  const Cluster& cluster_;
  std::vector<CounterSeries> counters_;
  std::vector<GaugeSeries> gauges_;
  ::prometheus::Family<::prometheus::Histogram>* latency_family_ = nullptr;
  ::prometheus::Histogram* latency_ = nullptr;
  LatencyHistogram latency_last_;  // the bucket counts at the last update
};

}  // namespace baton::prometheus
