// SPDX-License-Identifier: Apache-2.0
// batonctl keygen: 32 random bytes (libsodium), as 64 hex characters.

#include <cstdio>

#include "commands.hpp"
#include "flags.hpp"

namespace batonctl {

int cmd_keygen(const Args& args) {
  FlagSet flags("keygen", "",
                "Prints a fresh cluster key: 32 random bytes as 64 hex characters and a newline.\n"
                "Store it in a file readable only by the members' user, e.g.\n"
                "  umask 077; batonctl keygen > cluster.key\n"
                "and pass the same file to every member with --key-file.");
  if (!flags.parse(args)) return exit_ok;
  if (!flags.positional().empty()) throw UsageError{"unexpected argument '" + flags.positional()[0] + "'"};
  std::printf("%s\n", baton::cluster_key_hex(baton::generate_cluster_key()).c_str());
  return exit_ok;
}

}  // namespace batonctl
