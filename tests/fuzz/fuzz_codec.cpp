// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: arbitrary bytes into codec::decode(), with and without the
// cluster key. Properties: never crashes, never reads out of bounds (ASan),
// no undefined behaviour (UBSan); whatever decodes re-encodes and decodes to
// the same header and messages.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "codec/codec.hpp"
#include "fuzz_inputs.hpp"

namespace {

using namespace baton;

// A property violation: abort so libFuzzer records the input.
void require(bool ok) {
  if (!ok) std::abort();
}

void round_trip(const codec::Decoded& d, const codec::ClusterKey* key) {
  std::array<std::uint8_t, core::limits::datagram_bytes_max> buf{};
  Result<std::size_t> n = codec::encode(d.header, d.messages, key, buf);
  // Every decoded message is encodable. The canonical encoding may still be
  // larger than the input (a hostile buffer can point several messages at one
  // shared name vector), so "too large" is the one acceptable failure.
  require(n.ok() || n.code() == Errc::overloaded);
  if (!n.ok()) return;
  codec::Decoded again;
  require(!codec::decode(std::span(buf).first(*n), key, fuzz::cluster_id, again).has_value());
  require(again.header == d.header);
  require(again.messages == d.messages);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  for (const codec::ClusterKey* key : {static_cast<const codec::ClusterKey*>(nullptr), &fuzz::key()}) {
    codec::Decoded d;
    if (codec::decode(bytes, key, fuzz::cluster_id, d).has_value()) continue;
    require(!d.messages.empty());
    require(d.messages.size() <= core::limits::messages_per_datagram_max);
    round_trip(d, key);
  }
  return 0;
}
