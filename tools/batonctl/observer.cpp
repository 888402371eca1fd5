// SPDX-License-Identifier: Apache-2.0
#include "observer.hpp"

#include <poll.h>
#include <unistd.h>

#include "common.hpp"

namespace batonctl {

ObserverSocket::ObserverSocket(std::uint64_t cluster_id, std::optional<baton::codec::ClusterKey> key)
    : cluster_id_(cluster_id), key_(key) {
  fd4_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  fd6_ = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

ObserverSocket::~ObserverSocket() {
  if (fd4_ >= 0) ::close(fd4_);
  if (fd6_ >= 0) ::close(fd6_);
}

bool ObserverSocket::send(const sockaddr_storage& to, socklen_t to_len, std::uint64_t seq,
                          std::span<const baton::core::Message> msgs) {
  const baton::codec::Header h{.version = baton::codec::wire_version, .cluster_id = cluster_id_,
                               .sender = baton::codec::observer_id, .incarnation = baton::core::Incarnation{1},
                               .seq = seq};
  std::vector<std::uint8_t> bytes(baton::core::limits::datagram_bytes_max);
  auto n = baton::codec::encode(h, msgs, key_ ? &*key_ : nullptr, bytes);
  if (!n) return false;
  const int fd = to.ss_family == AF_INET6 ? fd6_ : fd4_;
  ::sendto(fd, bytes.data(), *n, 0, reinterpret_cast<const sockaddr*>(&to), to_len);
  return true;
}

bool ObserverSocket::receive(int timeout_ms, baton::codec::Decoded& out) {
  const std::int64_t end = true_now_ns() + static_cast<std::int64_t>(timeout_ms) * 1000000;
  std::vector<std::uint8_t> buf(65536);
  for (;;) {
    const std::int64_t left_ms = (end - true_now_ns()) / 1000000;
    if (left_ms <= 0) return false;
    pollfd p[2] = {{fd4_, POLLIN, 0}, {fd6_, POLLIN, 0}};
    if (::poll(p, 2, static_cast<int>(left_ms)) <= 0) continue;
    for (const pollfd& pf : p) {
      if ((pf.revents & POLLIN) == 0) continue;
      const ssize_t got = ::recv(pf.fd, buf.data(), buf.size(), 0);
      if (got <= 0) continue;
      const std::span<const std::uint8_t> bytes(buf.data(), static_cast<std::size_t>(got));
      if (!baton::codec::decode(bytes, key_ ? &*key_ : nullptr, cluster_id_, out)) return true;
    }
  }
}

}  // namespace batonctl
