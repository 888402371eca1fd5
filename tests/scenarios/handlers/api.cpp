// SPDX-License-Identifier: Apache-2.0
// acquire, release, renew: the application's calls on one member.
#include <stdexcept>

#include "format.hpp"
#include "handlers/handlers.hpp"

namespace baton::scenario {

using namespace baton::core;

namespace {
AcquireId id_arg(const Cmd& c, std::size_t i) {
  if (i >= c.pos.size() || c.pos[i].empty() || c.pos[i][0] != '#')
    throw std::runtime_error(c.name + ": missing #id argument");
  return AcquireId{std::stoull(c.pos[i].substr(1))};
}

std::string error_text(Errc e, std::string_view what) {
  return "error " + std::string(errc_name(e)) + " (" + std::string(what) + ")";
}
}  // namespace

// acquire n1 seat:14A ttl=10s [wait=5s | try] [auto_renew]. Without wait=, one try.
std::string cmd_acquire(World& w, const Cmd& c) {
  Member& m = w.member(member_arg(c, 0));
  if (c.pos.size() < 2) throw std::runtime_error("acquire: missing resource");
  const Instant now = w.local_now(m);
  AcquireArgs args{.resource = ResourceName(c.pos[1]),
                   .ttl = parse_duration(value_arg(c, "ttl", "10s")),
                   .wait_until = now,
                   .auto_renew = has_flag(c, "auto_renew")};
  if (c.args.count("wait")) args.wait_until = now + parse_duration(c.args.at("wait"));
  auto r = w.node(m.id).acquire(now, args);
  std::string out = fmt_member(m.id) + ": acquire ";
  if (!r.ok()) {
    out += c.pos[1] + " " + error_text(r.code(), r.what());
    return out;
  }
  m.last_acquire = std::max(m.last_acquire, *r);
  out += "#" + std::to_string(r->value) + " " + c.pos[1];
  // With more members than replicas, say who votes on this resource.
  const auto voters = w.node(m.id).voters_of(args.resource);
  if (voters.size() < w.ids().size()) {
    out += " voters=";
    for (std::size_t i = 0; i < voters.size(); ++i) out += (i ? "," : "") + fmt_member(voters[i]);
  }
  out += "\n";
  w.collect(m, &out);
  return out;
}

namespace {
template <typename Call>
std::string lease_call(World& w, const Cmd& c, Call call) {
  Member& m = w.member(member_arg(c, 0));
  const AcquireId id = id_arg(c, 1);
  Result<void> r = call(w.node(m.id), w.local_now(m), id);
  std::string out = fmt_member(m.id) + ": " + c.name + " #" + std::to_string(id.value);
  if (!r.ok()) return out + " " + error_text(r.code(), r.what());
  out += "\n";
  w.collect(m, &out);
  return out;
}
}  // namespace

std::string cmd_release(World& w, const Cmd& c) {
  return lease_call(w, c, [](Node& n, Instant now, AcquireId id) { return n.release(now, id); });
}

std::string cmd_renew(World& w, const Cmd& c) {
  return lease_call(w, c, [](Node& n, Instant now, AcquireId id) { return n.renew(now, id); });
}

}  // namespace baton::scenario
