// SPDX-License-Identifier: Apache-2.0
// An observer's UDP sockets (sender id 0, see lib/codec/codec.hpp): what
// `status` and `reconfigure` use to ask members, authenticated with the
// cluster key, without being a member. One IPv4 and one IPv6 socket, so one
// observer reaches members of either family.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "codec/codec.hpp"

namespace batonctl {

class ObserverSocket {
 public:
  ObserverSocket(std::uint64_t cluster_id, std::optional<baton::codec::ClusterKey> key);
  ~ObserverSocket();
  ObserverSocket(const ObserverSocket&) = delete;
  ObserverSocket& operator=(const ObserverSocket&) = delete;

  // Encodes `msgs` as observer datagram number `seq` and sends it to `to`.
  // False if it cannot be encoded (a programmer error in the caller).
  bool send(const sockaddr_storage& to, socklen_t to_len, std::uint64_t seq, std::span<const baton::core::Message> msgs);
  // Waits up to `timeout_ms` for one authenticated, decodable datagram
  // (others are skipped); true with it in `out`.
  bool receive(int timeout_ms, baton::codec::Decoded& out);

 private:
  std::uint64_t cluster_id_;
  std::optional<baton::codec::ClusterKey> key_;
  int fd4_ = -1;
  int fd6_ = -1;
};

}  // namespace batonctl
