// SPDX-License-Identifier: Apache-2.0
// Config::validate and the translation of the public Config into the core's
// NodeConfig and the runtime's DriverConfig.
#include "api/config_internal.hpp"

#include <algorithm>
#include <cmath>
#include <charconv>
#include <string>

#include "core/limits.hpp"
#include "runtime/udp_transport.hpp"

namespace baton {

namespace {
Result<void> bad(std::string text) { return Error::with_text(Errc::invalid_config, std::move(text)); }

// The shortest text that reads back as `rho` ("0.1000004", not "0.1").
std::string rho_text(double rho) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, rho);
  return std::string(buf, r.ptr);
}

// The core checks rho in whole ppm; this says what was wrong with the
// double the caller gave, in the caller's terms.
Result<void> bad_rho(double rho) {
  const double max = static_cast<double>(core::limits::rho_ppm_max) / 1e6;
  if (std::isfinite(rho) && rho > 0 && rho <= max)
    return bad("rho: " + rho_text(rho) + " is below 1 ppm (1e-06), the resolution of the drift arithmetic");
  return bad("rho: " + rho_text(rho) + " outside (0, " + rho_text(max) + "]");
}

// rho in whole ppm, rounded to nearest. Out of range stays out of range, for
// the core to refuse as rho: not finite or not positive is 0 ppm, and above
// the core's bound (even by less than half a ppm) is one ppm past it.
std::uint32_t rho_ppm(double rho) {
  if (!std::isfinite(rho) || rho <= 0) return 0;
  if (rho > static_cast<double>(core::limits::rho_ppm_max) / 1e6) return core::limits::rho_ppm_max + 1;
  return static_cast<std::uint32_t>(std::llround(rho * 1e6));
}
}  // namespace

core::NodeConfig detail::to_node_config(const Config& c) {
  core::NodeConfig n;
  n.members.reserve(c.members.size());
  for (const Member& m : c.members) n.members.push_back(core::MemberId{m.id});
  // A client's id is drawn at start; validation sees a placeholder one.
  n.self = c.client ? core::client_id(1) : core::MemberId{c.self};
  // An explicit incarnation as given (so validation sees it); otherwise a
  // placeholder: the start plan sets the real one.
  n.incarnation = core::Incarnation{c.incarnation.value_or(1)};
  n.rho_ppm = rho_ppm(c.rho);
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

// Checks only what the core cannot (addresses, the runtime's own settings
// and limits); every other check is the core's (core::find_fault), one
// source each. Its fault is passed on as it is, except where the public
// Config says it in other terms: rho as a double, and "no bootstrap" where
// the core sees peer recovery.
Result<void> Config::validate() const {
  if (client) {
    // Each start draws its own id and incarnation, and a client keeps no state.
    if (self != 0) return bad("self: " + std::to_string(self) + " set on a client; leave it 0 (drawn at start)");
    if (state_dir) return bad("state_dir: '" + *state_dir + "' set on a client; a client keeps no state");
    if (bootstrap) return bad("bootstrap: set on a client; only members bootstrap a cluster");
    if (incarnation) return bad("incarnation: " + std::to_string(*incarnation) + " set on a client; drawn at start");
  }
  for (const Member& m : members) {
    if (m.port == 0) return bad("members: member " + std::to_string(m.id) + " has port 0; must be 1..65535");
    if (!runtime::parse_address(m.host, m.port))
      return bad("members: member " + std::to_string(m.id) + " host '" + m.host +
                 "' is not a numeric IPv4/IPv6 address");
  }
  if (busy_poll < std::chrono::nanoseconds{0} || busy_poll > busy_poll_max)
    return bad("busy_poll: " + std::to_string(busy_poll.count()) + "ns outside [0, 10ms]");
  if (state_dir && state_dir->empty()) return bad("state_dir: empty path (unset it instead)");
  const std::pair<const char*, std::size_t> runtime_limits[] = {{"calls_queued", limits.calls_queued},
                                                                {"send_buffers", limits.send_buffers},
                                                                {"receive_batch", limits.receive_batch},
                                                                {"renew_waiters_per_lease", limits.renew_waiters_per_lease},
                                                                {"clients", limits.clients}};
  for (const auto& [name, value] : runtime_limits) {
    if (value == 0) return bad(std::string("limits.") + name + ": 0; every limit must be positive");
  }
  core::NodeConfig n = detail::to_node_config(*this);
  if (!state_dir && !bootstrap && !client) n.recovery = core::RecoveryMode::peers;
  const std::optional<core::ConfigFault> f = core::find_fault(n);
  if (!f) return {};
  switch (f->field) {
    case core::ConfigField::rho: return bad_rho(rho);
    case core::ConfigField::recovery:
      if (n.recovery == core::RecoveryMode::peers)
        return bad("bootstrap: unset, and no state_dir: a single member must set bootstrap (peer recovery needs peers)");
      break;
    default: break;
  }
  return f->error;
}

}  // namespace baton
