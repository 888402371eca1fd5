// SPDX-License-Identifier: Apache-2.0
// batonctl: run Baton members, take leases, ask members for their status,
// torture a cluster and serve the fenced register, without writing C++.
// docs/operations.md is the manual.
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "baton/version.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "flags.hpp"

namespace {

// `batonctl --help` is also the source of the man page (help2man, tools/CMakeLists.txt):
// "Usage:" and "or:" become the SYNOPSIS, the next paragraph the DESCRIPTION,
// "commands:" a section; `--version` prints the one line help2man expects.
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
    "  status     ask every member for its status (table or --json)\n"
    "  torture    run a member (or a client) that takes leases at random and records a history\n"
    "  register   run the fenced register that torture members write to\n"
    "  shell      run a member (or a client) that takes lease commands on stdin (JSON answers)\n"
    "\n"
    "`batonctl <command> --help` describes each command's flags. acquire, bench, torture and shell\n"
    "take --client instead of --id N to run as a client: no member slot, it votes on nothing.\n"
    "exit codes: 0 ok, 1 runtime error, 2 bad flags, 3 lease not acquired (acquire)\n";

struct Command {
  std::string_view name;
  int (*run)(const batonctl::Args&);
};

constexpr Command commands[] = {
    {"keygen", batonctl::cmd_keygen},   {"node", batonctl::cmd_node},         {"acquire", batonctl::cmd_acquire},
    {"status", batonctl::cmd_status},   {"torture", batonctl::cmd_torture},   {"register", batonctl::cmd_register},
    {"bench", batonctl::cmd_bench},     {"shell", batonctl::cmd_shell},
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(usage_text, stderr);
    return batonctl::exit_usage;
  }
  const std::string_view name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    std::fputs(usage_text, stdout);
    return batonctl::exit_ok;
  }
  if (name == "--version" || name == "-V") {
    // The library's version, which batonctl is built with (help2man reads this line).
    std::printf("batonctl (Baton) %s\n", baton::version());
    return batonctl::exit_ok;
  }
  for (const Command& c : commands) {
    if (c.name != name) continue;
    batonctl::install_stop_signals();
    try {
      return c.run(batonctl::Args(argv + 2, argv + argc));
    } catch (const batonctl::UsageError& e) {
      std::fprintf(stderr, "batonctl %s: %s\n", argv[1], e.message.c_str());
      return batonctl::exit_usage;
    }
  }
  std::fprintf(stderr, "batonctl: unknown command '%s'\n\n%s", argv[1], usage_text);
  return batonctl::exit_usage;
}
