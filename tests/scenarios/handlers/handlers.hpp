// SPDX-License-Identifier: Apache-2.0
// One handler per scenario command. A handler runs its command against the
// world and returns the text to compare with the script's expected output;
// bad arguments throw std::runtime_error (a test failure, not an output).
#pragma once

#include <map>
#include <string>

#include "core/ids.hpp"
#include "datadriven.hpp"
#include "world.hpp"

namespace baton::scenario {

using Handler = std::string (*)(World&, const Cmd&);

// The command table: name -> handler.
const std::map<std::string, Handler>& handlers();

// ---- argument helpers (handlers/args.cpp) ----
// The positional member argument at `i` ("n2"); throws if missing.
core::MemberId member_arg(const Cmd& c, std::size_t i);
bool has_flag(const Cmd& c, const std::string& flag);
// key=value, or `fallback` when absent.
std::string value_arg(const Cmd& c, const std::string& key, const std::string& fallback);
// "n1->n2", "n1->*", "*->n2" or "" (every link).
struct LinkFilter {
  core::MemberId from{0}, to{0};  // 0: any
  bool matches(const InFlight& f) const {
    return (from.value == 0 || f.from == from) && (to.value == 0 || f.to == to);
  }
};
LinkFilter link_arg(const Cmd& c);

// ---- handlers, by file ----
// cluster.cpp
std::string cmd_cluster(World&, const Cmd&);
std::string cmd_crash(World&, const Cmd&);
std::string cmd_restart(World&, const Cmd&);
std::string cmd_pause(World&, const Cmd&);
std::string cmd_resume(World&, const Cmd&);
std::string cmd_sync(World&, const Cmd&);
std::string cmd_clock(World&, const Cmd&);
// api.cpp
std::string cmd_acquire(World&, const Cmd&);
std::string cmd_release(World&, const Cmd&);
std::string cmd_renew(World&, const Cmd&);
// network.cpp
std::string cmd_deliver(World&, const Cmd&);
std::string cmd_drop(World&, const Cmd&);
std::string cmd_duplicate(World&, const Cmd&);
std::string cmd_delay(World&, const Cmd&);
std::string cmd_partition(World&, const Cmd&);
std::string cmd_heal(World&, const Cmd&);
// time.cpp
std::string cmd_advance(World&, const Cmd&);
// inspect.cpp
std::string cmd_events(World&, const Cmd&);
std::string cmd_state(World&, const Cmd&);
std::string cmd_check(World&, const Cmd&);
std::string cmd_expect_violation(World&, const Cmd&);

}  // namespace baton::scenario
