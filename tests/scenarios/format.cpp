// SPDX-License-Identifier: Apache-2.0
#include "format.hpp"

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace baton::scenario {

using namespace baton::core;

namespace {

// `v` in units of `unit` ns, exact decimal with trailing zeros trimmed.
std::string decimal(std::int64_t v, std::int64_t unit, std::string_view suffix) {
  std::string out;
  std::uint64_t a = v < 0 ? static_cast<std::uint64_t>(-(v + 1)) + 1 : static_cast<std::uint64_t>(v);
  if (v < 0) out += '-';
  const auto u = static_cast<std::uint64_t>(unit);
  out += std::to_string(a / u);
  std::uint64_t frac = a % u;
  if (frac != 0) {
    std::string digits = std::to_string(frac);
    digits.insert(0, std::to_string(u).size() - 1 - digits.size(), '0');
    while (!digits.empty() && digits.back() == '0') digits.pop_back();
    out += '.' + digits;
  }
  out += suffix;
  return out;
}

}  // namespace

std::string fmt_duration(Duration d) {
  const std::int64_t ns = d.count_ns();
  const std::int64_t a = ns < 0 ? -ns : ns;
  if (d == Duration::max()) return "never";
  if (ns == 0) return "0s";
  if (a >= 1'000'000'000) return decimal(ns, 1'000'000'000, "s");
  if (a >= 1'000'000) return decimal(ns, 1'000'000, "ms");
  if (a >= 1'000) return decimal(ns, 1'000, "us");
  return std::to_string(ns) + "ns";
}

std::string fmt_offset(Duration d) {
  if (d == Duration::max()) return "never";
  return (d < Duration::zero() ? "" : "+") + fmt_duration(d);
}

std::string fmt_member(MemberId m) { return "n" + std::to_string(m.value); }

std::string fmt_lease(const LeaseId& l) {
  return std::to_string(l.owner.value) + "." + std::to_string(l.incarnation.value) + "." + std::to_string(l.serial);
}

namespace {

std::string head(std::string_view kind, const ResourceName& r, const LeaseId& l, Token t) {
  std::string s(kind);
  s += ' ' + r.str() + " lease=" + fmt_lease(l) + " token=" + std::to_string(t.value);
  return s;
}

std::string fmt(const Request& m) { return head("REQUEST", m.resource, m.lease, m.token) + " ttl=" + fmt_duration(m.ttl); }
std::string fmt(const Grant& m) { return head("GRANT", m.resource, m.lease, m.token) + (m.handoff ? " handoff" : ""); }
std::string fmt(const Deny& m) {
  std::string s = head("DENY", m.resource, m.lease, m.token) + " reason=" + std::string(deny_reason_name(m.reason));
  if (m.reason == DenyReason::held) s += " holder=" + fmt_member(m.holder) + " left=" + fmt_duration(m.time_left);
  s += " fence=" + std::to_string(m.fence.value);
  return s;
}
std::string fmt(const Renew& m) {
  return head("RENEW", m.resource, m.lease, m.token) + " ttl=" + fmt_duration(m.ttl) + " round=" + std::to_string(m.round);
}
std::string fmt(const RenewAck& m) {
  std::string s = head("RENEW_ACK", m.resource, m.lease, m.token) + " round=" + std::to_string(m.round);
  s += m.ok ? " ok" : " nack reason=" + std::string(deny_reason_name(m.reason));
  s += " fence=" + std::to_string(m.fence.value);
  return s;
}
std::string fmt(const Release& m) { return head("RELEASE", m.resource, m.lease, m.token); }
std::string fmt(const Free& m) { return "FREE " + m.resource.str() + " fence=" + std::to_string(m.fence.value); }
// Nonces are random per life: left out so traces stay readable and stable.
std::string fmt(const FloorQuery&) { return "FLOOR_QUERY"; }
std::string fmt(const FloorReply& m) {
  return m.ready ? "FLOOR_REPLY ready floor=" + std::to_string(m.floor.value) : std::string("FLOOR_REPLY not-ready");
}
std::string fmt(const Ping&) { return "PING"; }
std::string fmt(const Pong& m) {
  return std::string("PONG") + (m.quarantined ? " quarantined" : "") + " live=" + std::to_string(m.live_leases) +
         " waiters=" + std::to_string(m.waiters) + " floor=" + std::to_string(m.floor.value);
}

std::string fmt(const IncarnationBehind& m) { return "INCARNATION_BEHIND seen=" + std::to_string(m.seen.value); }
// Issue 21: records as "E=2 b=1 voters=[1,2,3]" (core::to_string).
std::string id(CfgId c) { return std::to_string(c.epoch) + "." + std::to_string(c.ballot); }
std::string fmt(const ConfigRead& m) { return "CONFIG_READ ballot=" + std::to_string(m.ballot); }
std::string fmt(const ConfigReadReply& m) {
  return "CONFIG_READ_REPLY ballot=" + std::to_string(m.ballot) + (m.ok ? " ok" : " refused") +
         " promised=" + std::to_string(m.promised) + " " + to_string(m.record);
}
std::string fmt(const ConfigPropose& m) { return "CONFIG_PROPOSE " + to_string(m.record); }
std::string fmt(const ConfigAck& m) {
  return "CONFIG_ACK " + id(m.proposed) + (m.ok ? " ok" : " refused") + " cfg=" + id(m.cfg) +
         " max_stored=" + std::to_string(m.max_stored.value) + " promised=" + std::to_string(m.promised);
}
std::string fmt(const ConfigQuery&) { return "CONFIG_QUERY"; }
std::string fmt(const ConfigReply& m) { return "CONFIG_REPLY " + to_string(m.record); }
// Issue 21 step 4: never in a scenario trace (observer <-> runtime), formatted for completeness.
std::string fmt(const ConfigChange& m) {
  std::string v;
  for (MemberId id : m.voters) v += (v.empty() ? "" : ",") + std::to_string(id.value);
  return "CONFIG_CHANGE expect=" + id(m.expect) + " voters=[" + v + "]";
}
std::string fmt(const ConfigChangeReply& m) {
  return "CONFIG_CHANGE_REPLY state=" + std::to_string(static_cast<int>(m.state)) + " " + to_string(m.record);
}

}  // namespace

std::string fmt_message(const Message& m) {
  return std::visit([](const auto& x) { return fmt(x); }, m);
}

Duration parse_duration(std::string_view s) {
  static constexpr struct {
    std::string_view suffix;
    std::int64_t ns;
  } units[] = {{"ms", 1'000'000}, {"us", 1'000}, {"ns", 1}, {"s", 1'000'000'000}};
  for (const auto& u : units) {
    if (s.size() <= u.suffix.size() || s.substr(s.size() - u.suffix.size()) != u.suffix) continue;
    const std::string num(s.substr(0, s.size() - u.suffix.size()));
    const auto dot = num.find('.');
    const std::string whole = num.substr(0, dot);
    if (whole.empty() || whole.find_first_not_of("0123456789") != std::string::npos) break;
    std::int64_t ns = std::stoll(whole) * u.ns;
    if (dot != std::string::npos) {
      const std::string frac = num.substr(dot + 1);
      if (frac.empty() || frac.find_first_not_of("0123456789") != std::string::npos) break;
      std::int64_t scale = u.ns;
      for (char ch : frac) {
        if (scale % 10 != 0) throw std::runtime_error("duration below 1ns: " + std::string(s));
        scale /= 10;
        ns += (ch - '0') * scale;
      }
    }
    return Duration::ns(ns);
  }
  throw std::runtime_error("bad duration: " + std::string(s));
}

MemberId parse_member(std::string_view s) {
  if (!s.empty() && s.front() == 'n') s.remove_prefix(1);
  if (s.empty() || s.find_first_not_of("0123456789") != std::string_view::npos)
    throw std::runtime_error("bad member: " + std::string(s));
  return MemberId{static_cast<std::uint32_t>(std::stoul(std::string(s)))};
}

std::int64_t parse_ppm(std::string_view s) {
  const std::string str(s);
  const auto dot = str.find('.');
  std::int64_t v = std::stoll(str.substr(0, dot)) * 1'000'000;
  if (dot != std::string::npos) {
    std::int64_t scale = 1'000'000;
    for (char ch : str.substr(dot + 1)) {
      if (ch < '0' || ch > '9' || scale == 1) throw std::runtime_error("bad rate: " + str);
      scale /= 10;
      v += (ch - '0') * scale;
    }
  }
  return v;
}

}  // namespace baton::scenario
