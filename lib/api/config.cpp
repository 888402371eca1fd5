// SPDX-License-Identifier: Apache-2.0
// Config::validate and the translation of the public Config into the core's
// NodeConfig and the runtime's DriverConfig.
#include "api/config_internal.hpp"

#include <algorithm>
#include <cmath>

#include "runtime/udp_transport.hpp"

namespace baton {

namespace {
Result<void> bad(std::string_view what) { return Error{Errc::invalid_config, what}; }
}  // namespace

core::NodeConfig detail::to_node_config(const Config& c) {
  core::NodeConfig n;
  n.members.reserve(c.members.size());
  for (const Member& m : c.members) n.members.push_back(core::MemberId{m.id});
  n.self = core::MemberId{c.self};
  n.incarnation = core::Incarnation{1};  // placeholder; the start plan sets the real one
  n.rho_ppm = std::isfinite(c.rho) && c.rho > 0 && c.rho < 1 ? static_cast<std::uint32_t>(std::llround(c.rho * 1e6)) : 0;
  n.margin = core::Duration::ns(c.margin.count());
  n.ttl_min = core::Duration::ns(c.ttl_min.count());
  n.ttl_max = core::Duration::ns(c.ttl_max.count());
  n.replicas = c.replicas;
  n.recovery = core::RecoveryMode::first_start;
  n.persist = false;
  n.limits.acquires_in_flight = c.limits.acquires_in_flight;
  n.limits.leases_per_voter = c.limits.leases_per_voter;
  n.limits.waiters_per_resource = c.limits.waiters_per_resource;
  n.limits.waiters_per_voter = c.limits.waiters_per_voter;
  return n;
}

Result<void> Config::validate() const {
  if (members.empty()) return bad("members: at least one member is required");
  for (const Member& m : members) {
    if (m.id == 0) return bad("members: member id 0 is reserved");
    if (m.port == 0) return bad("members: port must be 1..65535");
    if (!runtime::parse_address(m.host, m.port)) return bad("members: host is not a numeric IPv4/IPv6 address");
  }
  if (self == 0) return bad("self: must be set to this member's id");
  if (!std::isfinite(rho) || rho <= 0 || rho > 0.1) return bad("rho: must be in (0, 0.1]");
  if (incarnation && *incarnation == 0) return bad("incarnation: must be non-zero");
  if (busy_poll < std::chrono::nanoseconds{0} || busy_poll > busy_poll_max)
    return bad("busy_poll: must be in [0, 10 ms]");
  if (state_dir && state_dir->empty()) return bad("state_dir: empty path (unset it instead)");
  if (limits.calls_queued == 0 || limits.send_buffers == 0 || limits.receive_batch == 0 ||
      limits.renew_waiters_per_lease == 0 || limits.acquires_in_flight == 0 || limits.leases_per_voter == 0 ||
      limits.waiters_per_resource == 0 || limits.waiters_per_voter == 0)
    return bad("limits: every limit must be positive");
  // The rest (ids unique, self a member, ttl and margin relations, replicas,
  // peer recovery needing peers) is the core's own check: one source of truth.
  core::NodeConfig n = detail::to_node_config(*this);
  if (!state_dir && !bootstrap) n.recovery = core::RecoveryMode::peers;
  if (auto r = core::validate(n); !r) {
    if (n.recovery == core::RecoveryMode::peers && r.what().starts_with("recovery:"))
      return bad("bootstrap: a single member without state_dir must set bootstrap (peer recovery needs peers)");
    return r;
  }
  return {};
}

}  // namespace baton
