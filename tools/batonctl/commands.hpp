// SPDX-License-Identifier: Apache-2.0
// One function per subcommand (cmd_<name>.cpp). Each parses its own flags
// (throwing UsageError for bad ones) and returns the process exit code.
#pragma once

#include <string>
#include <vector>

namespace batonctl {

using Args = std::vector<std::string>;

int cmd_keygen(const Args& args);
int cmd_node(const Args& args);
int cmd_acquire(const Args& args);
int cmd_status(const Args& args);
int cmd_reconfigure(const Args& args);
int cmd_torture(const Args& args);
int cmd_register(const Args& args);
int cmd_bench(const Args& args);
int cmd_shell(const Args& args);

}  // namespace batonctl
