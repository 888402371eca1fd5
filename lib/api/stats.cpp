// SPDX-License-Identifier: Apache-2.0
// The public Stats from the layers below: one mapping table per source,
// checked at compile time against the field counts of Stats and
// DriverCounters (so a new counter cannot be left out silently).
#include "api/stats_internal.hpp"

#include <array>
#include <cstddef>
#include <iterator>

namespace baton::detail {

namespace {

// The number of fields of the aggregate T: the most initializers T{...}
// accepts, each an AnyField, which converts to any field's type. (Brace
// elision never splits an array or struct field: AnyField converts to it whole.)
struct AnyField {
  template <typename T>
  constexpr operator T() const noexcept;  // NOLINT: only ever in unevaluated contexts
};
template <typename T, typename... Fields>
constexpr std::size_t field_count() {
  if constexpr (requires { T{Fields{}..., AnyField{}}; }) {
    return field_count<T, Fields..., AnyField>();
  } else {
    return sizeof...(Fields);
  }
}

// One counter or gauge: Stats::*to = From::*from.
template <typename From>
struct Copy {
  std::uint64_t Stats::*to;
  std::uint64_t From::*from;
};

constexpr Copy<core::NodeStats> from_node[] = {
    {&Stats::grants, &core::NodeStats::grants},
    {&Stats::denials, &core::NodeStats::denials},
    {&Stats::renewals, &core::NodeStats::renewals},
    {&Stats::acquires, &core::NodeStats::acquires},
    {&Stats::acquired, &core::NodeStats::acquired},
    {&Stats::acquire_failures, &core::NodeStats::acquire_failures},
    {&Stats::renewed, &core::NodeStats::renewed},
    {&Stats::losses, &core::NodeStats::lost},
};
constexpr Copy<core::NodeStatus> from_status[] = {
    {&Stats::live_leases, &core::NodeStatus::live_leases},
    {&Stats::waiters, &core::NodeStatus::waiters},
};
// Every runtime counter is published (static_assert below).
constexpr Copy<runtime::DriverCounters> from_runtime[] = {
    {&Stats::datagrams_received, &runtime::DriverCounters::datagrams_received},
    {&Stats::datagrams_sent, &runtime::DriverCounters::datagrams_sent},
    {&Stats::send_failures, &runtime::DriverCounters::send_failures},
    {&Stats::persist_failures, &runtime::DriverCounters::persist_failures},
    {&Stats::observer_pings, &runtime::DriverCounters::observer_pings},
    {&Stats::incarnation_hints_sent, &runtime::DriverCounters::incarnation_hints_sent},
    {&Stats::new_lives, &runtime::DriverCounters::new_lives},
    {&Stats::clients_unknown, &runtime::DriverCounters::clients_unknown},
    {&Stats::clients_evicted, &runtime::DriverCounters::clients_evicted},
};
constexpr Copy<ApiGauges> from_api[] = {
    {&Stats::held_leases, &ApiGauges::held_leases},
    {&Stats::pending_acquires, &ApiGauges::pending_acquires},
};
// Set by make_stats itself (not plain counters): quarantined, drops,
// acquire_latency, incarnation; and voting, by Cluster::Impl::on_batch_end
// (only when the record changed: no allocation per batch).
constexpr std::size_t set_by_hand = 5;

constexpr std::size_t mapped = std::size(from_node) + std::size(from_status) + std::size(from_runtime) + std::size(from_api);
static_assert(field_count<Stats>() == mapped + set_by_hand,
              "a field of baton::Stats has no source: add it to a table in lib/api/stats.cpp");
static_assert(field_count<runtime::DriverCounters>() == std::size(from_runtime),
              "a runtime counter is not published: add it to baton::Stats and to from_runtime");
static_assert(std::tuple_size_v<decltype(Stats::drops)> == std::tuple_size_v<decltype(core::NodeStats::drops)>);

// No field filled twice (which would let the count above pass with one missing).
constexpr bool targets_distinct() {
  std::array<std::uint64_t Stats::*, mapped> all{};
  std::size_t k = 0;
  for (const auto& c : from_node) all[k++] = c.to;
  for (const auto& c : from_status) all[k++] = c.to;
  for (const auto& c : from_runtime) all[k++] = c.to;
  for (const auto& c : from_api) all[k++] = c.to;
  for (std::size_t i = 0; i < all.size(); ++i) {
    for (std::size_t j = i + 1; j < all.size(); ++j) {
      if (all[i] == all[j]) return false;
    }
  }
  return true;
}
static_assert(targets_distinct(), "a field of baton::Stats is filled from two sources");

template <typename From, std::size_t N>
void copy_all(Stats& s, const From& from, const Copy<From> (&table)[N]) {
  for (const Copy<From>& c : table) s.*c.to = from.*c.from;
}

}  // namespace

Stats make_stats(const core::NodeStats& node, const core::NodeStatus& status, std::uint64_t incarnation,
                 const runtime::DriverCounters& counters, const ApiGauges& api) {
  Stats s;
  copy_all(s, node, from_node);
  copy_all(s, status, from_status);
  copy_all(s, counters, from_runtime);
  copy_all(s, api, from_api);
  s.quarantined = status.quarantined;
  s.drops = node.drops;  // one DropReason for core and API: the same indices
  s.acquire_latency = api.acquire_latency;
  s.incarnation = incarnation;
  return s;
}

}  // namespace baton::detail
