// SPDX-License-Identifier: Apache-2.0
// batonctl keygen: 32 random bytes from the kernel, as 64 hex characters.
#include <sys/random.h>

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
  baton::ClusterKey key{};
  std::size_t got = 0;
  while (got < key.size()) {
    const ssize_t n = getrandom(key.data() + got, key.size() - got, 0);
    if (n < 0) {
      std::perror("batonctl keygen: getrandom");
      return exit_failure;
    }
    got += static_cast<std::size_t>(n);
  }
  std::printf("%s\n", key_hex(key).c_str());
  return exit_ok;
}

}  // namespace batonctl
