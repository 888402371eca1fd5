// SPDX-License-Identifier: Apache-2.0
// batonctl: run Baton members, take leases, ask members for their status,
// torture a cluster and serve the fenced register, without writing C++.
// docs/operations.md is the manual.
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "commands.hpp"
#include "common.hpp"
#include "flags.hpp"

namespace {

constexpr const char* usage_text =
    "usage: batonctl <command> [flags]\n"
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
