// SPDX-License-Identifier: Apache-2.0
// Internal: the public Stats snapshot, built from the core's counters and
// status, the runtime's counters and what the API itself keeps.
#pragma once

#include <cstdint>

#include "baton/stats.hpp"
#include "core/stats.hpp"
#include "runtime/driver.hpp"

namespace baton::detail {

// What only the API layer knows (loop thread).
struct ApiGauges {
  std::uint64_t held_leases = 0;       // leases held here now
  std::uint64_t pending_acquires = 0;  // acquire calls waiting for an outcome now
  LatencyHistogram acquire_latency;    // acquire call -> grant
};

// Every field of Stats from exactly one source, through the mapping tables
// in stats.cpp; their static_asserts fail the build when a field of Stats or
// of runtime::DriverCounters has no entry.
Stats make_stats(const core::NodeStats& node, const core::NodeStatus& status, std::uint64_t incarnation,
                 const runtime::DriverCounters& counters, const ApiGauges& api);

}  // namespace baton::detail
