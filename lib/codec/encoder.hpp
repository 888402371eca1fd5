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

 private:
  flatbuffers::FlatBufferBuilder fbb_;                   // cleared, not freed, between datagrams
  std::vector<flatbuffers::Offset<wire::Message>> msgs_; // scratch: offsets of this datagram's messages
};

}  // namespace baton::codec::detail
