// SPDX-License-Identifier: Apache-2.0
// RawSocket: a plain UDP socket on 127.0.0.1 for tests that speak to members
// from outside Baton's runtime: hostile datagrams, observer PINGs.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <vector>

namespace baton::test {

class RawSocket {
 public:
  // Binds 127.0.0.1:`port` (0: an ephemeral port, not any member's).
  explicit RawSocket(std::uint16_t port = 0) : fd_(::socket(AF_INET, SOCK_DGRAM, 0)) {
    sockaddr_in a = addr(port);
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  }
  ~RawSocket() { ::close(fd_); }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  bool bound() const { return bound_; }
  void send_to(std::uint16_t port, const std::vector<std::uint8_t>& bytes) {
    sockaddr_in a = addr(port);
    ASSERT_EQ(::sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof(a)),
              static_cast<ssize_t>(bytes.size()));
  }
  // Waits up to `ms` for a datagram; its size, or -1.
  ssize_t receive(std::vector<std::uint8_t>& out, int ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, ms) != 1) return -1;
    out.resize(65536);
    const ssize_t n = ::recv(fd_, out.data(), out.size(), 0);
    if (n >= 0) out.resize(static_cast<std::size_t>(n));
    return n;
  }

 private:
  static sockaddr_in addr(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    return a;
  }
  int fd_;
  bool bound_ = false;
};

}  // namespace baton::test
