// What the fuzz targets and their corpus generator share: the cluster, its
// key, the members, and the input format of fuzz_node_datagram.
#pragma once

#include <cstdint>

#include "codec/auth.hpp"
#include "core/ids.hpp"

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

// fuzz_node_datagram input: [mode][datagram bytes...]; mode % 3 selects:
enum class NodeMode : std::uint8_t {
  keyed = 0,   // the receiver has the key; the bytes go in as they are
  signed_ = 1, // the receiver has the key; the harness appends a valid tag,
               // so arbitrary authenticated content reaches the node
  no_key = 2,  // the receiver has no key
};

}  // namespace baton::fuzz
