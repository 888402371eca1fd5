// SPDX-License-Identifier: Apache-2.0
// Internal to lib/codec: the FlatBuffers side of encode(). One Encoder keeps
// its builder's memory between datagrams, so the Packer's hot path does not
// allocate a builder per datagram. Includes generated code: never include
// this outside lib/codec/*.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "baton/result.hpp"
#include "codec/codec.hpp"
#include "core/message.hpp"
#include "wire/baton_generated.h"

namespace baton::codec::detail {

class Encoder {
 public:
  Encoder();
  // As codec::encode(), over pointers so that callers can encode a subset of
  // their messages without copying them, with the key's state precomputed.
  Result<std::size_t> encode(const Header& h, std::span<const core::Message* const> msgs, const AuthKey* key,
                             std::span<std::uint8_t> out);

  // The steps of encode() for the Packer's size search: build() encodes into
  // the builder and returns the datagram's size (with the tag if `tagged`),
  // whatever its size; built() is that datagram without its tag, valid until
  // the next build. Building costs no tag: the Packer tags only the datagram
  // it sends.
  Result<std::size_t> build(const Header& h, std::span<const core::Message* const> msgs, bool tagged);
  std::span<const std::uint8_t> built() const;
  // The size of a datagram with no messages: what the header costs.
  std::size_t overhead(const Header& h, bool tagged);

 private:
  std::size_t build_unchecked(const Header& h, std::span<const core::Message* const> msgs, bool tagged);

  flatbuffers::FlatBufferBuilder fbb_;                   // cleared, not freed, between datagrams
  std::vector<flatbuffers::Offset<wire::Message>> msgs_; // scratch: offsets of this datagram's messages
};

}  // namespace baton::codec::detail
