// SPDX-License-Identifier: Apache-2.0
// batonctl: run Baton members, take leases, ask members for their status,
// torture a cluster and serve the fenced register, without writing C++.
// docs/operations.md is the manual.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "baton/version.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "flags.hpp"

namespace {

// `batonctl --help` is also the source of the man page (help2man,
// tools/batonctl/man.cmake): "Usage:" and "or:" become the SYNOPSIS, the
// next paragraph the DESCRIPTION, "commands:" a section; `--version` prints
// the one line help2man expects.
constexpr const char* usage_text =
    "Usage: batonctl <command> [flags]\n"
    "  or:  batonctl --help | --version\n"
    "\n"
    "Run the members of a Baton cluster, take leases with fencing tokens, ask members for their\n"
    "status, measure and torture a cluster. docs/operations.md is the manual; with the packages,\n"
    "/etc/baton/node.toml and the systemd unit baton-node@.service run a member.\n"
    "\n"
    "commands:\n"
    "  keygen     print a fresh cluster key (64 hex characters)\n"
    "  node       run a member that votes, until SIGTERM or SIGINT\n"
    "  acquire    join as a member (or a client), take a lease, hold it, release it\n"
    "  bench      join as a member (or a client) and measure the cluster (latency, throughput, hand-off)\n"
    "  status     ask every member for its status (table, --json or --prometheus)\n"
    "  reconfigure  change the voters online: ask one member to drive the change, wait for its outcome\n"
    "  torture    run a member (or a client) that takes leases at random and records a history\n"
    "  register   run the fenced register that torture members write to\n"
    "  shell      run a member (or a client) that takes lease commands on stdin (JSON answers)\n"
    "\n"
    "`batonctl <command> --help` describes each command's flags. acquire, bench, torture and shell\n"
    "take --client instead of --id N to run as a client: no member slot, it votes on nothing.\n"
    "exit codes: 0 ok, 1 runtime error (reconfigure: not committed), 2 bad flags, 3 lease not acquired\n"
    "(acquire)\n";

struct Command {
  const char* name;
  const char* help;
  int (*run)(const batonctl::Args&);
};

constexpr Command commands[] = {
    {"keygen", "print a fresh cluster key (64 hex characters)", batonctl::cmd_keygen},
    {"node", "run a member that votes, until SIGTERM or SIGINT", batonctl::cmd_node},
    {"acquire", "join as a member (or a client), take a lease, hold it, release it", batonctl::cmd_acquire},
    {"bench", "join as a member (or a client) and measure the cluster (latency, throughput, hand-off)",
     batonctl::cmd_bench},
    {"status", "ask every member for its status (table, --json or --prometheus)", batonctl::cmd_status},
    {"reconfigure", "change the voters online: ask one member to drive the change, wait for its outcome",
     batonctl::cmd_reconfigure},
    {"torture", "run a member (or a client) that takes leases at random and records a history",
     batonctl::cmd_torture},
    {"register", "run the fenced register that torture members write to", batonctl::cmd_register},
    {"shell", "run a member (or a client) that takes lease commands on stdin (JSON answers)", batonctl::cmd_shell},
};

// The top level's help is usage_text, whole (the man page is made from it).
class Formatter : public CLI::Formatter {
 public:
  std::string make_help(const CLI::App*, std::string, CLI::AppFormatMode) const override { return usage_text; }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("batonctl", "batonctl");
  app.formatter(std::make_shared<Formatter>());
  app.option_defaults()->group("flags");
  app.set_help_flag("-h,--help", "show this help");
  app.set_version_flag("--version", std::string("batonctl (Baton) ") + baton::version(), "print the version");
  app.add_subcommand("help", "show this help")->group("");  // the same as --help; not listed
  // Each command parses its own flags (FlagSet): its subcommand takes every
  // argument after its name as they are, --help included.
  for (const Command& c : commands)
    app.add_subcommand(c.name, c.help)->group("commands")->prefix_command()->set_help_flag();
  if (argc < 2) {
    std::fputs(app.help().c_str(), stderr);
    return batonctl::exit_usage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return batonctl::exit_ok;
  } catch (const CLI::CallForVersion&) {
    // The library's version, which batonctl is built with (help2man reads this line).
    std::printf("batonctl (Baton) %s\n", baton::version());
    return batonctl::exit_ok;
  } catch (const CLI::ParseError& e) {
    // Anything else at the top level: an unknown command or flag.
    const std::string first = argv[1];
    std::fprintf(stderr, "batonctl: unknown %s '%s'\n\n%s", first.starts_with("-") ? "flag" : "command",
                 first.c_str(), app.help().c_str());
    return batonctl::exit_usage;
  }
  if (app.got_subcommand("help")) {
    // app.help() would describe the selected subcommand, "help" itself.
    std::fputs(app.get_formatter()->make_help(&app, "batonctl", CLI::AppFormatMode::Normal).c_str(), stdout);
    return batonctl::exit_ok;
  }
  for (const Command& c : commands) {
    CLI::App* sub = app.get_subcommand(c.name);
    if (!sub->parsed()) continue;
    batonctl::install_stop_signals();
    try {
      return c.run(sub->remaining());
    } catch (const batonctl::UsageError& e) {
      std::fprintf(stderr, "batonctl %s: %s\n", c.name, e.message.c_str());
      return batonctl::exit_usage;
    }
  }
  std::fputs(app.help().c_str(), stderr);
  return batonctl::exit_usage;
}
