// SPDX-License-Identifier: Apache-2.0
// Free local ports for the examples, the booking demo and the runtime tests:
// the one copy of the raw-socket code they used to repeat. Header-only,
// standard library and POSIX sockets only (no Baton, no libuv), so anything
// in the tree can include it (the build adds examples/common to the include
// path where it is used).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <vector>

namespace baton::examples {

// `n` distinct ports on 127.0.0.1 that are free for both UDP (Baton members)
// and TCP (an HTTP front end) right now: the kernel picks a TCP port, the
// same port is bound for UDP, and every socket stays open until all are
// chosen, so the ports differ. Another process can still take one in the
// moment between closing them here and the caller binding it, so callers
// that can retry should. Empty when the sockets cannot be made.
inline std::vector<std::uint16_t> free_local_ports(std::size_t n) {
  std::vector<int> fds;
  std::vector<std::uint16_t> ports;
  auto close_all = [&] {
    for (int fd : fds) ::close(fd);
  };
  // A port busy for UDP is skipped; give up after many such ports.
  for (std::size_t tries = 0; ports.size() < n && tries < 64 * n + 64; ++tries) {
    const int tcp = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (tcp < 0) break;
    fds.push_back(tcp);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (::bind(tcp, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
        ::getsockname(tcp, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      break;
    const int udp = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (udp < 0) break;
    fds.push_back(udp);
    if (::bind(udp, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0) ports.push_back(ntohs(a.sin_port));
  }
  close_all();
  if (ports.size() != n) ports.clear();
  return ports;
}

}  // namespace baton::examples
