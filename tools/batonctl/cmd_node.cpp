// SPDX-License-Identifier: Apache-2.0
// batonctl node: a member that votes and does nothing else.
#include "commands.hpp"
#include "common.hpp"

namespace batonctl {

int cmd_node(const Args& args) {
  FlagSet flags("node", "--members ... --id N [flags] | --config FILE [--bootstrap] [--verbose]",
                "Runs member N: it votes on leases and answers status, and takes no lease itself.\n"
                "Runs until SIGTERM or SIGINT, then stops cleanly (exit 0).\n"
                "With --config, the member's configuration comes from a TOML file (examples/node.toml)\n"
                "and the environment (BATON_SELF, BATON_STATE_DIR, BATON_KEY_FILE override the file);\n"
                "the other member flags are then refused.");
  MemberFlags member;
  std::string config_path;
  flags.add_string("config", &config_path,
                   "read the configuration from this TOML file (docs/operations.md \"Configuration file\"); "
                   "excludes every member flag but --bootstrap and --verbose");
  member.declare(flags, Role::member);
  if (!flags.parse(args)) return exit_ok;
  if (!flags.positional().empty()) throw UsageError{"unexpected argument '" + flags.positional()[0] + "'"};
  if (flags.given("config") && config_path.empty()) throw UsageError{"--config needs a file name"};
  baton::Config config = flags.given("config") ? member.config_file(flags, config_path) : member.config(flags);
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
