// SPDX-License-Identifier: Apache-2.0
#include "baton/prometheus.hpp"

#include <string>

namespace baton::prometheus {

namespace {

struct CounterDef {
  const char* name;
  const char* help;
  std::uint64_t Stats::*field;
};

// Stats' counters (monotonic within a member's life).
constexpr CounterDef counter_defs[] = {
    {"baton_grants_total", "GRANTs this member sent as a voter.", &Stats::grants},
    {"baton_denials_total", "DENYs this member sent as a voter.", &Stats::denials},
    {"baton_renewals_total", "Holds this voter extended on RENEW.", &Stats::renewals},
    {"baton_acquires_total", "Acquire calls the loop accepted.", &Stats::acquires},
    {"baton_acquired_total", "Leases this member obtained.", &Stats::acquired},
    {"baton_acquire_failures_total", "Acquires that ended without a lease.", &Stats::acquire_failures},
    {"baton_renewed_total", "Renewal rounds that reached a majority.", &Stats::renewed},
    {"baton_losses_total", "Leases lost (any LostReason).", &Stats::losses},
    {"baton_datagrams_received_total", "Datagrams accepted and handed to the protocol.", &Stats::datagrams_received},
    {"baton_datagrams_sent_total", "Datagrams handed to the socket.", &Stats::datagrams_sent},
    {"baton_send_failures_total", "Datagrams not sent (no buffer, socket error, unencodable).", &Stats::send_failures},
    {"baton_persist_failures_total", "Floor reservation writes that failed (retried).", &Stats::persist_failures},
    {"baton_observer_pings_total", "Status PINGs from observers answered.", &Stats::observer_pings},
    {"baton_new_lives_total", "Lives started in-process because a peer had seen a newer one.", &Stats::new_lives},
    {"baton_incarnation_hints_sent_total", "INCARNATION_BEHIND hints sent.", &Stats::incarnation_hints_sent},
    {"baton_clients_unknown_total", "Answers to clients no longer remembered (not sent).", &Stats::clients_unknown},
    {"baton_clients_evicted_total", "Client lives evicted to make room.", &Stats::clients_evicted},
};

struct GaugeDef {
  const char* name;
  const char* help;
  double (*read)(const Stats&);
};

constexpr GaugeDef gauge_defs[] = {
    {"baton_live_leases", "Leases live at this member as a voter.",
     [](const Stats& s) { return static_cast<double>(s.live_leases); }},
    {"baton_waiters", "Waiters this member remembers as a voter.",
     [](const Stats& s) { return static_cast<double>(s.waiters); }},
    {"baton_quarantined", "1 while this member does not vote yet after a restart.",
     [](const Stats& s) { return s.quarantined ? 1.0 : 0.0; }},
    {"baton_held_leases", "Leases this member holds.", [](const Stats& s) { return static_cast<double>(s.held_leases); }},
    {"baton_pending_acquires", "Acquire calls waiting for an outcome.",
     [](const Stats& s) { return static_cast<double>(s.pending_acquires); }},
    {"baton_incarnation", "This life's incarnation.", [](const Stats& s) { return static_cast<double>(s.incarnation); }},
};

// LatencyHistogram's buckets as Prometheus upper bounds in seconds: bucket i
// (i < buckets - 1) ends below 2^(i+1) us; the last is +Inf.
::prometheus::Histogram::BucketBoundaries latency_bounds() {
  ::prometheus::Histogram::BucketBoundaries b;
  for (std::size_t i = 0; i + 1 < LatencyHistogram::buckets; ++i)
    b.push_back(static_cast<double>(std::uint64_t{1} << (i + 1)) * 1e-6);
  return b;
}

// The lower bound of bucket i in seconds (0 for bucket 0).
double bucket_floor_seconds(std::size_t i) {
  return i == 0 ? 0.0 : static_cast<double>(std::uint64_t{1} << i) * 1e-6;
}

}  // namespace

Metrics::Metrics(::prometheus::Registry& registry, const Cluster& cluster) : cluster_(cluster) {
  const ::prometheus::Labels member{{"member", std::to_string(cluster.self())}};
  for (const CounterDef& d : counter_defs) {
    auto& family = ::prometheus::BuildCounter().Name(d.name).Help(d.help).Register(registry);
    counters_.push_back({&family, &family.Add(member), d.field, 0, 0});
  }
  auto& drops = ::prometheus::BuildCounter()
                    .Name("baton_drops_total")
                    .Help("Datagrams received and dropped, by reason.")
                    .Register(registry);
  for (std::size_t r = 0; r < drop_reason_count; ++r) {
    ::prometheus::Labels labels = member;
    labels["reason"] = std::string(drop_reason_name(static_cast<DropReason>(r)));
    counters_.push_back({&drops, &drops.Add(labels), nullptr, r, 0});
  }
  for (const GaugeDef& d : gauge_defs) {
    auto& family = ::prometheus::BuildGauge().Name(d.name).Help(d.help).Register(registry);
    gauges_.push_back({&family, &family.Add(member), d.read});
  }
  latency_family_ = &::prometheus::BuildHistogram()
                         .Name("baton_acquire_latency_seconds")
                         .Help("Acquire call to grant. _sum adds each acquire's bucket lower bound (a lower bound).")
                         .Register(registry);
  latency_ = &latency_family_->Add(member, latency_bounds());
  update();
}

Metrics::~Metrics() {
  for (auto& c : counters_) c.family->Remove(c.counter);
  for (auto& g : gauges_) g.family->Remove(g.gauge);
  latency_family_->Remove(latency_);
}

void Metrics::update() { update(cluster_.stats()); }

void Metrics::update(const Stats& stats) {
  for (auto& c : counters_) {
    const std::uint64_t now = c.field != nullptr ? stats.*(c.field) : stats.drops[c.drop_index];
    // A counter never goes back: a smaller value (not expected within a
    // Cluster's life) only resets the reference.
    if (now > c.last) c.counter->Increment(static_cast<double>(now - c.last));
    c.last = now;
  }
  for (auto& g : gauges_) g.gauge->Set(g.read(stats));
  std::vector<double> increments(LatencyHistogram::buckets, 0.0);
  double sum = 0;
  bool any = false;
  for (std::size_t i = 0; i < LatencyHistogram::buckets; ++i) {
    const std::uint64_t now = stats.acquire_latency.counts[i];
    const std::uint64_t last = latency_last_.counts[i];
    if (now <= last) continue;
    increments[i] = static_cast<double>(now - last);
    sum += increments[i] * bucket_floor_seconds(i);
    any = true;
  }
  if (any) latency_->ObserveMultiple(increments, sum);
  latency_last_ = stats.acquire_latency;
}

}  // namespace baton::prometheus
