// SPDX-License-Identifier: Apache-2.0
#include "core/config.hpp"

#include <algorithm>

#include "core/drift.hpp"

namespace baton::core {

namespace {
Result<void> bad(std::string_view what) { return Error{Errc::invalid_config, what}; }
}  // namespace

Result<void> validate(const NodeConfig& c) {
  if (c.members.empty()) return bad("members: at least one member is required");
  if (c.members.size() > limits::members_max) return bad("members: more than 64 members");
  std::vector<MemberId> sorted = c.members;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) return bad("members: member ids must be unique");
  if (sorted.front().value == 0) return bad("members: member id 0 is reserved");
  if (!std::binary_search(sorted.begin(), sorted.end(), c.self)) return bad("self: not among the members");
  if (c.incarnation.value == 0) return bad("incarnation: must be non-zero");
  if (c.rho_ppm == 0 || c.rho_ppm > limits::rho_ppm_max) return bad("rho: must be in (0, 0.1]");
  if (c.ttl_min < limits::ttl_floor) return bad("ttl_min: below 1 ms");
  if (c.ttl_max > limits::ttl_ceiling) return bad("ttl_max: above 1 hour");
  if (c.ttl_min > c.ttl_max) return bad("ttl_min: above ttl_max");
  if (c.prior_ttl_max < Duration::zero() || c.prior_ttl_max > limits::ttl_ceiling) return bad("prior_ttl_max: outside [0, 1 hour]");
  if (c.prior_rho_ppm > limits::rho_ppm_max) return bad("prior_rho: above 0.1");
  if (c.margin <= Duration::zero()) return bad("margin: must be positive");
  // The shortest lease must leave at least half its stretched ttl after the margin.
  if (c.margin * 2 > drift::stretch_down(c.ttl_min, c.rho_ppm)) return bad("margin: too large for ttl_min (margin*2 > ttl_min*(1-rho)/(1+rho))");
  if (c.replicas == 0 || c.replicas % 2 == 0) return bad("replicas: must be odd and positive");
  if (c.reservation_block < 1024) return bad("reservation_block: below 1024");
  if (c.recovery == RecoveryMode::reservation && !c.persist) return bad("recovery: reservation needs persist");
  if (c.recovery == RecoveryMode::peers && c.members.size() < 2) return bad("recovery: peer recovery needs other members");
  if (c.rtt_initial <= Duration::zero()) return bad("rtt_initial: must be positive");
  if (c.attempt_timeout_min <= Duration::zero()) return bad("attempt_timeout_min: must be positive");
  if (c.attempt_timeout_min > c.attempt_timeout_max) return bad("attempt_timeout_min: above attempt_timeout_max");
  if (c.handoff_confirm <= Duration::zero() || c.handoff_confirm > limits::ttl_ceiling) return bad("handoff_confirm: must be in (0, 1 hour]");
  const NodeLimits& l = c.limits;
  if (l.leases_per_voter == 0 || l.waiters_per_resource == 0 || l.waiters_per_voter == 0 ||
      l.acquires_in_flight == 0 || l.outbox_messages == 0 || l.pending_persist == 0 || l.idle_fences == 0)
    return bad("limits: every limit must be positive");
  if (l.outbox_messages < c.members.size() * 2) return bad("limits: outbox must hold at least two messages per member");
  return {};
}

std::size_t voter_count(const NodeConfig& c) { return std::min<std::size_t>(c.replicas, c.members.size()); }

}  // namespace baton::core
