// SPDX-License-Identifier: Apache-2.0
// batonctl node: a member that votes and does nothing else.
#include "commands.hpp"
#include "common.hpp"

namespace batonctl {

int cmd_node(const Args& args) {
  FlagSet flags("node", "--members ... --id N [flags]",
                "Runs member N: it votes on leases and answers status, and takes no lease itself.\n"
                "Runs until SIGTERM or SIGINT, then stops cleanly (exit 0).");
  MemberFlags member;
  member.declare(flags, Role::member);
  if (!flags.parse(args)) return exit_ok;
  if (!flags.positional().empty()) throw UsageError{"unexpected argument '" + flags.positional()[0] + "'"};
  baton::Config config = member.config(flags);
  auto m = Member::start(std::move(config), member.verbose);
  if (!m) return exit_failure;
  log_line(m->id(), "info", "member running on port " + std::to_string(m->cluster().local_port()));
  while (!sleep_or_stop(std::chrono::hours(1))) {
  }
  log_line(m->id(), "info", "stopping");
  m.reset();
  return exit_ok;
}

}  // namespace batonctl
