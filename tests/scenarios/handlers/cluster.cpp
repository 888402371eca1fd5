// SPDX-License-Identifier: Apache-2.0
// cluster, crash, restart, pause, resume, sync, clock: members' lives and clocks.
#include <stdexcept>

#include "core/recovery.hpp"
#include "format.hpp"
#include "handlers/handlers.hpp"

namespace baton::scenario {

using namespace baton::core;

// cluster n=3 [rho=0.01] [ttl_max=60s] [ttl_min=10ms] [margin=2ms] [replicas=5]
//         [persist=true] [sync=auto|manual] [rtt=1ms] [attempt_timeout_min=2ms]
// rtt: the acquirers' round-trip estimate before any sample. Scripts that
// leave messages undelivered for long raise attempt_timeout_min so that
// retries (every attempt timeout) stay few enough to read (attempt_timeout_max
// follows it when it is larger). idle_fences: idle
// fence entries a voter keeps before folding the oldest into its floor.
std::string cmd_cluster(World& w, const Cmd& c) {
  NodeConfig base;
  const std::size_t n = std::stoul(value_arg(c, "n", "3"));
  base.rho_ppm = static_cast<std::uint32_t>(parse_ppm(value_arg(c, "rho", "0.01")));
  base.ttl_max = parse_duration(value_arg(c, "ttl_max", "60s"));
  base.ttl_min = parse_duration(value_arg(c, "ttl_min", "10ms"));
  base.margin = parse_duration(value_arg(c, "margin", "2ms"));
  base.replicas = static_cast<std::uint32_t>(std::stoul(value_arg(c, "replicas", "5")));
  base.persist = value_arg(c, "persist", "false") == "true";
  base.rtt_initial = parse_duration(value_arg(c, "rtt", "1ms"));
  base.attempt_timeout_min = parse_duration(value_arg(c, "attempt_timeout_min", "2ms"));
  base.attempt_timeout_max = max(base.attempt_timeout_max, base.attempt_timeout_min);
  base.limits.idle_fences = std::stoul(value_arg(c, "idle_fences", std::to_string(base.limits.idle_fences)));
  base.limits.waiters_per_resource = std::stoul(value_arg(c, "waiters_per_resource", std::to_string(base.limits.waiters_per_resource)));
  w.create(n, base, value_arg(c, "sync", "auto") == "manual");
  std::string out;
  for (MemberId id : w.ids()) w.start(w.member(id), RecoveryMode::first_start, out);
  std::string names;
  for (MemberId id : w.ids()) names += (names.empty() ? "" : " ") + fmt_member(id);
  return names + ": up" + (out.empty() ? "" : "\n" + out);
}

std::string cmd_crash(World& w, const Cmd& c) {
  Member& m = w.member(member_arg(c, 0));
  if (!m.node) throw std::runtime_error("crash: already down");
  w.crash(m);
  return fmt_member(m.id) + ": crashed, memory lost";
}

// restart n2 [mode=reservation|peers|first_start]; default: reservation when the
// cluster persists, else peers.
std::string cmd_restart(World& w, const Cmd& c) {
  Member& m = w.member(member_arg(c, 0));
  if (m.node) throw std::runtime_error("restart: still running (crash it first)");
  const std::string mode = value_arg(c, "mode", w.base().persist ? "reservation" : "peers");
  RecoveryMode rm = RecoveryMode::peers;
  if (mode == "reservation") rm = RecoveryMode::reservation;
  else if (mode == "first_start") rm = RecoveryMode::first_start;
  else if (mode != "peers") throw std::runtime_error("restart: bad mode " + mode);
  std::string queued;
  w.start(m, rm, queued);
  const Recovery& r = m.node->recovery();
  std::string out = fmt_member(m.id) + ": restarted incarnation=" + std::to_string(m.incarnation) + " mode=" + mode;
  if (!r.quarantine_over()) out += " quarantined_until=" + w.local_offset(m, r.quarantine_end());
  out += r.floor_known() ? " floor=" + std::to_string(r.floor().value) : std::string(" floor=unknown");
  return out + "\n" + queued;
}

std::string cmd_pause(World& w, const Cmd& c) {
  Member& m = w.member(member_arg(c, 0));
  m.paused = true;
  return fmt_member(m.id) + ": paused";
}

std::string cmd_resume(World& w, const Cmd& c) {
  Member& m = w.member(member_arg(c, 0));
  m.paused = false;
  std::string out = fmt_member(m.id) + ": resumed\n";
  if (m.node && m.node->next_deadline() <= w.local_now(m)) w.fire_member(m, out);
  return out;
}

std::string cmd_sync(World& w, const Cmd& c) {
  std::string out;
  w.sync(w.member(member_arg(c, 0)), out);
  return out;
}

// clock n2 rate=1.01: from now on n2's clock runs at this rate of true time.
std::string cmd_clock(World& w, const Cmd& c) {
  Member& m = w.member(member_arg(c, 0));
  const std::string rate = value_arg(c, "rate", "1");
  w.set_rate(m, parse_ppm(rate));
  return fmt_member(m.id) + ": clock rate=" + rate;
}

}  // namespace baton::scenario
