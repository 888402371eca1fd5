// SPDX-License-Identifier: Apache-2.0
#include <algorithm>
#include <stdexcept>

#include "format.hpp"
#include "handlers/handlers.hpp"

namespace baton::scenario {

using namespace baton::core;

const std::map<std::string, Handler>& handlers() {
  static const std::map<std::string, Handler> table = {
      {"acquire", cmd_acquire},   {"advance", cmd_advance},     {"check", cmd_check},
      {"clock", cmd_clock},       {"cluster", cmd_cluster},     {"crash", cmd_crash},       {"delay", cmd_delay},
      {"deliver", cmd_deliver},   {"drop", cmd_drop},           {"duplicate", cmd_duplicate},
      {"events", cmd_events},     {"expect-violation", cmd_expect_violation},     {"heal", cmd_heal},           {"partition", cmd_partition},
      {"pause", cmd_pause},       {"release", cmd_release},     {"renew", cmd_renew},
      {"restart", cmd_restart},   {"resume", cmd_resume},       {"state", cmd_state},
      {"sync", cmd_sync},
  };
  return table;
}

MemberId member_arg(const Cmd& c, std::size_t i) {
  if (i >= c.pos.size()) throw std::runtime_error(c.name + ": missing member argument");
  return parse_member(c.pos[i]);
}

bool has_flag(const Cmd& c, const std::string& flag) {
  return std::find(c.pos.begin(), c.pos.end(), flag) != c.pos.end();
}

std::string value_arg(const Cmd& c, const std::string& key, const std::string& fallback) {
  auto it = c.args.find(key);
  return it == c.args.end() ? fallback : it->second;
}

LinkFilter link_arg(const Cmd& c) {
  LinkFilter f;
  for (const std::string& p : c.pos) {
    const auto arrow = p.find("->");
    if (arrow == std::string::npos) continue;
    const std::string a = p.substr(0, arrow), b = p.substr(arrow + 2);
    if (a != "*") f.from = parse_member(a);
    if (b != "*") f.to = parse_member(b);
  }
  return f;
}

}  // namespace baton::scenario
