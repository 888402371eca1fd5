// SPDX-License-Identifier: Apache-2.0
// What the fuzz targets and their corpus generator share: the cluster, its
// key, the members, and the input format of fuzz_node_datagram.
#pragma once

#include <cstdint>

#include "codec/auth.hpp"
#include "core/fingerprint.hpp"
#include "core/ids.hpp"
#include "core/limits.hpp"

namespace baton::fuzz {

inline constexpr std::uint64_t cluster_id = 0xF0220F0220F0220FULL;

inline const codec::ClusterKey& key() {
  static const codec::ClusterKey k = [] {
    codec::ClusterKey out;
    for (std::size_t i = 0; i < out.bytes.size(); ++i) out.bytes[i] = static_cast<std::uint8_t>(0xA5 ^ (i * 13));
    return out;
  }();
  return k;
}

// fuzz_node_datagram runs member 1 of {1, 2, 3}; corpus datagrams come from 2.
inline constexpr std::uint32_t node_self = 1;
inline constexpr std::uint32_t node_peer = 2;

// The voting configuration of fuzz_node_datagram's node: members {1, 2, 3}
// with the default R. Corpus datagrams carry its fingerprint so that they
// reach the node; the *.mismatch seeds carry another one (a member with
// another member list) and exercise the refusal.
inline std::uint64_t node_fingerprint() {
  const core::MemberId members[] = {core::MemberId(1), core::MemberId(2), core::MemberId(3)};
  return core::voting_fingerprint(members, core::limits::replicas_default);
}
inline constexpr std::uint64_t other_fingerprint = 0x0f0f0f0f0f0f0f0fULL;

// fuzz_node_datagram input: [mode][datagram bytes...]; mode % 3 selects:
enum class NodeMode : std::uint8_t {
  keyed = 0,   // the receiver has the key; the bytes go in as they are
  signed_ = 1, // the receiver has the key; the harness appends a valid tag,
               // so arbitrary authenticated content reaches the node
  no_key = 2,  // the receiver has no key
};

}  // namespace baton::fuzz
