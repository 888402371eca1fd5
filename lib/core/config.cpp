// SPDX-License-Identifier: Apache-2.0
#include "core/config.hpp"

#include <algorithm>
#include <string>

#include "core/drift.hpp"

namespace baton::core {

namespace {

ConfigFault fault(ConfigField field, std::string text) {
  return ConfigFault{.field = field, .error = Error::with_text(Errc::invalid_config, std::move(text))};
}

std::string num(std::uint64_t v) { return std::to_string(v); }

// The members, self and incarnation: who this member is.
std::optional<ConfigFault> identity_fault(const NodeConfig& c) {
  using F = ConfigField;
  if (c.members.empty()) return fault(F::members, "members: at least one member is required (the list is empty)");
  if (c.members.size() > limits::members_max)
    return fault(F::members, "members: " + num(c.members.size()) + " members, more than " + num(limits::members_max));
  std::vector<MemberId> sorted = c.members;
  std::sort(sorted.begin(), sorted.end());
  if (auto dup = std::adjacent_find(sorted.begin(), sorted.end()); dup != sorted.end())
    return fault(F::members, "members: member id " + num(dup->value) + " appears more than once");
  if (sorted.front().value == 0) return fault(F::members, "members: member id 0 is reserved");
  if (sorted.back().value > member_id_max)
    return fault(F::members, "members: member id " + num(sorted.back().value) + " above " + num(member_id_max) +
                                 " (larger ids are client ids)");
  if (c.self.value == 0) return fault(F::self, "self: 0; set it to this member's id");
  // A client (issue 21): not one of the members, and it never votes.
  if (!is_client(c.self) && !std::binary_search(sorted.begin(), sorted.end(), c.self))
    return fault(F::self, "self: " + num(c.self.value) + " is not among the members");
  if (c.incarnation.value == 0) return fault(F::incarnation, "incarnation: 0; must be non-zero");
  return std::nullopt;
}

// rho, the ttl bounds, the margin and what an earlier life voted under:
// the drift arithmetic's inputs.
std::optional<ConfigFault> timing_fault(const NodeConfig& c) {
  using F = ConfigField;
  const std::string rho_max = num(limits::rho_ppm_max) + " ppm";
  if (c.rho_ppm == 0 || c.rho_ppm > limits::rho_ppm_max)
    return fault(F::rho, "rho: " + num(c.rho_ppm) + " ppm outside (0, " + rho_max + "]");
  if (c.ttl_min < limits::ttl_floor)
    return fault(F::ttl_min, "ttl_min: " + to_text(c.ttl_min) + " below " + to_text(limits::ttl_floor));
  if (c.ttl_max > limits::ttl_ceiling)
    return fault(F::ttl_max, "ttl_max: " + to_text(c.ttl_max) + " above " + to_text(limits::ttl_ceiling));
  if (c.ttl_min > c.ttl_max)
    return fault(F::ttl_min, "ttl_min: " + to_text(c.ttl_min) + " above ttl_max " + to_text(c.ttl_max));
  if (c.prior_ttl_max < Duration::zero() || c.prior_ttl_max > limits::ttl_ceiling)
    return fault(F::prior_ttl_max,
                 "prior_ttl_max: " + to_text(c.prior_ttl_max) + " outside [0, " + to_text(limits::ttl_ceiling) + "]");
  if (c.prior_rho_ppm > limits::rho_ppm_max)
    return fault(F::prior_rho, "prior_rho: " + num(c.prior_rho_ppm) + " ppm above " + rho_max);
  if (c.margin <= Duration::zero()) return fault(F::margin, "margin: " + to_text(c.margin) + "; must be positive");
  // The shortest lease must leave at least half its stretched ttl after the margin.
  if (const Duration stretched = drift::stretch_down(c.ttl_min, c.rho_ppm); c.margin * 2 > stretched)
    return fault(F::margin, "margin: " + to_text(c.margin) + " too large for ttl_min " + to_text(c.ttl_min) +
                                " (margin*2 must be at most ttl_min*(1-rho)/(1+rho) = " + to_text(stretched) + ")");
  return std::nullopt;
}

// Replicas, persistence and recovery, the acquirer's timeouts, the limits.
std::optional<ConfigFault> operating_fault(const NodeConfig& c) {
  using F = ConfigField;
  if (c.replicas == 0 || c.replicas % 2 == 0)
    return fault(F::replicas, "replicas: " + num(c.replicas) + "; must be odd and positive");
  if (c.reservation_block < 1024)
    return fault(F::reservation_block, "reservation_block: " + num(c.reservation_block) + " below 1024");
  if (c.recovery == RecoveryMode::reservation && !c.persist)
    return fault(F::recovery, "recovery: reservation needs persist (it is off)");
  if (is_client(c.self) && (c.recovery != RecoveryMode::first_start || c.persist))
    return fault(F::recovery, "recovery: a client (self " + num(c.self.value) +
                                  ") keeps no state and votes on nothing: first_start without persist only");
  if (c.recovery == RecoveryMode::peers && c.members.size() < 2)
    return fault(F::recovery, "recovery: peer recovery needs other members (there is " + num(c.members.size()) + ")");
  if (c.rtt_initial <= Duration::zero())
    return fault(F::rtt_initial, "rtt_initial: " + to_text(c.rtt_initial) + "; must be positive");
  if (c.attempt_timeout_min <= Duration::zero())
    return fault(F::attempt_timeout_min, "attempt_timeout_min: " + to_text(c.attempt_timeout_min) + "; must be positive");
  if (c.attempt_timeout_min > c.attempt_timeout_max)
    return fault(F::attempt_timeout_min, "attempt_timeout_min: " + to_text(c.attempt_timeout_min) +
                                             " above attempt_timeout_max " + to_text(c.attempt_timeout_max));
  if (c.handoff_confirm <= Duration::zero() || c.handoff_confirm > limits::ttl_ceiling)
    return fault(F::handoff_confirm,
                 "handoff_confirm: " + to_text(c.handoff_confirm) + " outside (0, " + to_text(limits::ttl_ceiling) + "]");
  const NodeLimits& l = c.limits;
  const std::pair<const char*, std::size_t> positive[] = {
      {"leases_per_voter", l.leases_per_voter},     {"waiters_per_resource", l.waiters_per_resource},
      {"waiters_per_voter", l.waiters_per_voter},   {"acquires_in_flight", l.acquires_in_flight},
      {"outbox_messages", l.outbox_messages},       {"pending_persist", l.pending_persist},
      {"idle_fences", l.idle_fences}};
  for (const auto& [name, value] : positive) {
    if (value == 0) return fault(F::limits, std::string("limits.") + name + ": 0; every limit must be positive");
  }
  if (l.outbox_messages < c.members.size() * 2)
    return fault(F::limits, "limits.outbox_messages: " + num(l.outbox_messages) + " below two per member (" +
                                num(c.members.size() * 2) + ")");
  return std::nullopt;
}

// The persisted configuration record (issue 21): valid, its promise not
// below its ballot, and one this member could adopt (adoptable: its voters
// among `members`; in scale mode exactly them).
std::optional<ConfigFault> cfg_fault(const NodeConfig& c) {
  using F = ConfigField;
  if (!c.recovered_cfg) return std::nullopt;
  const CfgState& s = *c.recovered_cfg;
  if (auto ok = validate_state(s); !ok) return fault(F::configuration, std::string(ok.error().what));
  std::vector<MemberId> sorted = c.members;
  std::sort(sorted.begin(), sorted.end());
  if (!adoptable(s.record, sorted, c.replicas)) {
    return fault(F::configuration,
                 "config: the persisted configuration " + to_string(s.record) +
                     (sorted.size() > c.replicas
                          ? " does not list exactly the members (" + num(sorted.size()) +
                                " of them, more than replicas " + num(c.replicas) +
                                ": the voters cannot change in scale mode yet)"
                          : " names a voter that is not among the members (" + num(sorted.size()) + " of them)"));
  }
  return std::nullopt;
}

}  // namespace

std::optional<ConfigFault> find_fault(const NodeConfig& c) {
  if (auto f = identity_fault(c)) return f;
  if (auto f = timing_fault(c)) return f;
  if (auto f = operating_fault(c)) return f;
  return cfg_fault(c);
}

Result<void> validate(const NodeConfig& c) {
  if (auto f = find_fault(c)) return f->error;
  return {};
}

Result<void> check_acquire(const NodeConfig& c, std::string_view resource, Duration ttl) {
  if (resource.empty())
    return Error::with_text(Errc::invalid_argument,
                            "resource: empty name; must be 1.." + num(limits::resource_name_bytes_max) + " bytes");
  if (resource.size() > limits::resource_name_bytes_max)
    return Error::with_text(Errc::invalid_argument, "resource: " + num(resource.size()) + " bytes, longer than " +
                                                        num(limits::resource_name_bytes_max));
  if (ttl < c.ttl_min || ttl > c.ttl_max)
    return Error::with_text(Errc::invalid_argument, "ttl: " + to_text(ttl) + " outside [ttl_min " + to_text(c.ttl_min) +
                                                        ", ttl_max " + to_text(c.ttl_max) + "]");
  return {};
}

std::size_t voter_count(const NodeConfig& c) { return std::min<std::size_t>(c.replicas, c.members.size()); }

}  // namespace baton::core
