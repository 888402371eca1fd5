// Bytes <-> core messages. Verify, then parse, then act (STYLE.md 10):
// size check, authentication tag (libsodium), flatbuffers::Verifier, version
// and cluster id, decoding into core structs, then (Receiver) the sender
// check and the replay window. Nothing here does I/O.
//
// Layout of a datagram: [FlatBuffers Datagram table][tag: tag_bytes] when a
// cluster key is set, or the FlatBuffers table alone when it is not (wire/README.md).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "baton/result.hpp"
#include "core/ids.hpp"
#include "core/limits.hpp"
#include "core/message.hpp"
#include "core/outbox.hpp"

namespace baton::codec {

inline constexpr std::uint16_t wire_version = 1;
inline constexpr std::size_t key_bytes = 32;
inline constexpr std::size_t tag_bytes = 32;  // HMAC-SHA-512-256 (crypto_auth)

struct ClusterKey {
  std::array<std::uint8_t, key_bytes> bytes{};
};

// The envelope of every datagram.
struct Header {
  std::uint16_t version = wire_version;
  std::uint64_t cluster_id = 0;   // datagrams of another cluster are dropped
  core::MemberId sender;
  core::Incarnation incarnation;
  std::uint64_t seq = 0;          // per (sender, incarnation), from 1, strictly increasing
  bool operator==(const Header&) const = default;
};

struct Decoded {
  Header header;
  std::vector<core::Message> messages;
};

// Encodes one datagram into `out`. `key` null: no tag. Errors: invalid_argument
// (a field out of range: name too long, too many messages, no messages),
// overloaded (the result would exceed limits::datagram_bytes_max or out.size()).
Result<std::size_t> encode(const Header& h, std::span<const core::Message> msgs, const ClusterKey* key,
                           std::span<std::uint8_t> out);

// Size, tag, verifier, version, cluster id, decoding. No replay or sender
// checks (Receiver does those). On failure `out` is unspecified and the
// reason is returned; nothing else changes.
std::optional<core::DropReason> decode(std::span<const std::uint8_t> bytes, const ClusterKey* key,
                                       std::uint64_t cluster_id, Decoded& out);

// Per-sender replay protection: the newest incarnation seen and a sliding
// window of limits::replay_window sequence numbers below the highest seen.
// Bounded: one entry per member.
class ReplayWindow {
 public:
  // True (and recorded) iff (incarnation, seq) is new: a newer incarnation
  // resets the window; an older incarnation, a repeated seq, or a seq below
  // the window is rejected.
  bool accept(core::MemberId sender, core::Incarnation incarnation, std::uint64_t seq);
  void forget(core::MemberId sender);

 private:
  struct Entry;
  std::vector<std::pair<core::MemberId, std::shared_ptr<Entry>>> entries_;  // implementation may change
};

// One datagram ready to send.
struct Datagram {
  core::MemberId to;
  std::vector<std::uint8_t> bytes;
};

// Batching: packs a core outbox's messages into as few datagrams per
// destination as fit (<= messages_per_datagram_max messages, <=
// datagram_bytes_max bytes each), stamping increasing sequence numbers.
class Packer {
 public:
  Packer(std::uint64_t cluster_id, core::MemberId self, core::Incarnation incarnation,
         std::optional<ClusterKey> key);
  // Appends to `out`. Messages that cannot be encoded at all are dropped and
  // counted in dropped().
  void pack(std::span<const core::Outgoing> msgs, std::vector<Datagram>& out);
  std::uint64_t dropped() const { return dropped_; }
  std::uint64_t next_seq() const { return seq_ + 1; }

 private:
  Header base_;
  std::optional<ClusterKey> key_;
  std::uint64_t seq_ = 0;
  std::uint64_t dropped_ = 0;
};

// The whole receive pipeline for one member: decode(), then reject senders
// that are not members or claim to be `self`, then the replay window.
class Receiver {
 public:
  Receiver(std::uint64_t cluster_id, std::optional<ClusterKey> key, std::vector<core::MemberId> members,
           core::MemberId self);
  std::optional<core::DropReason> receive(std::span<const std::uint8_t> bytes, Decoded& out);

 private:
  std::uint64_t cluster_id_;
  std::optional<ClusterKey> key_;
  std::vector<core::MemberId> members_;  // sorted
  core::MemberId self_;
  ReplayWindow replay_;
};

}  // namespace baton::codec
