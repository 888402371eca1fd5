// SPDX-License-Identifier: Apache-2.0
// Bytes <-> core messages. Verify, then parse, then act (STYLE.md 10):
// size check, authentication tag (libsodium), flatbuffers::Verifier, version
// and cluster id, decoding into core structs, then (Receiver) the sender
// check, the voting configuration's fingerprint and the replay window.
// Nothing here does I/O.
//
// Layout of a datagram: [FlatBuffers Datagram table][tag: tag_bytes] when a
// cluster key is set, or the FlatBuffers table alone when it is not (wire/README.md).
//
// Implementation files: codec.cpp (encode/decode), packer.cpp, receiver.cpp,
// auth.cpp, replay_window.cpp. FlatBuffers types never leave lib/codec.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "baton/result.hpp"
#include "codec/auth.hpp"
#include "codec/replay_window.hpp"
#include "core/ids.hpp"
#include "core/limits.hpp"
#include "core/message.hpp"
#include "core/outbox.hpp"

namespace baton::codec {

inline constexpr std::uint16_t wire_version = 1;

// Header::config_fingerprint of a sender that predates fingerprints (the
// field is absent): not checked, so members of the previous release still
// count during a rolling upgrade (wire/README.md). core::voting_fingerprint()
// never returns it.
inline constexpr std::uint64_t no_fingerprint = 0;

// The envelope of every datagram.
struct Header {
  std::uint16_t version = wire_version;  // wire format version (wire/README.md, versioning)
  std::uint64_t cluster_id = 0;     // datagrams of another cluster are dropped
  core::MemberId sender{};          // the sending member
  core::Incarnation incarnation{};  // the sender's life; a restart uses a larger one
  std::uint64_t seq = 0;            // per (sender, incarnation), from 1, strictly increasing
  std::uint64_t config_fingerprint = no_fingerprint;  // the sender's core::voting_fingerprint()
  bool operator==(const Header&) const = default;
};

struct Decoded {
  Header header;                        // the envelope, as received
  std::vector<core::Message> messages;  // 1..limits::messages_per_datagram_max, in sending order
};

// True iff `m` can travel on the wire: resource name of 1..resource_name_bytes_max
// bytes, ttl and time_left >= 0, a known deny reason (DENY: 1..6; RENEW_ACK:
// 0..6), at most drop_reason_count drop counters and
// limits::pong_mismatches_max config mismatches. decode() rejects exactly
// the messages this rejects, so every decoded message re-encodes.
bool encodable(const core::Message& m);

// Encodes one datagram into `out`. `key` null: no tag. Errors: invalid_argument
// (a field out of range, see encodable(); too many messages; no messages),
// overloaded (the result would exceed limits::datagram_bytes_max or out.size()).
// On error `out` is unspecified.
Result<std::size_t> encode(const Header& h, std::span<const core::Message> msgs, const ClusterKey* key,
                           std::span<std::uint8_t> out);
// As above with the key's state precomputed (no per-call key setup).
Result<std::size_t> encode(const Header& h, std::span<const core::Message> msgs, const AuthKey& key,
                           std::span<std::uint8_t> out);

// Size, tag, verifier, version, cluster id, decoding. No replay or sender
// checks (Receiver does those). On failure `out` is unspecified and the
// reason is returned; nothing else changes.
//   oversized      empty, or more than limits::datagram_bytes_max bytes
//   bad_auth       key set: too short for a tag, or the tag does not verify
//   malformed      the FlatBuffers verifier failed, or a field is out of range
//                  (no/too many messages, unknown message type, see encodable())
//   wrong_version  version != wire_version
//   wrong_cluster  cluster_id differs
// With no key, a tagged datagram is judged by the verifier alone (the tag is
// trailing bytes it ignores).
std::optional<core::DropReason> decode(std::span<const std::uint8_t> bytes, const ClusterKey* key,
                                       std::uint64_t cluster_id, Decoded& out);
// As above with the key's state precomputed (Receiver's hot path).
std::optional<core::DropReason> decode(std::span<const std::uint8_t> bytes, const AuthKey& key,
                                       std::uint64_t cluster_id, Decoded& out);

namespace detail {
class Encoder;  // codec.cpp: a reusable FlatBuffers builder
}  // namespace detail

// One datagram ready to send.
struct Datagram {
  core::MemberId to;                // destination member
  std::vector<std::uint8_t> bytes;  // encoded (and tagged) datagram, <= datagram_bytes_max
};

// Batching: packs a core outbox's messages into as few datagrams per
// destination as fit (<= messages_per_datagram_max messages, <=
// datagram_bytes_max bytes each, tag included), stamping sequence numbers
// that strictly increase across every datagram of this packer, from 1.
// Datagrams come out grouped by destination, in ascending member order
// starting after the destination that went first in the previous call (so
// the first slot rotates: no member always hears a FREE or a REQUEST last,
// a bias the fairness benchmark showed); the messages of one destination
// keep their order.
class Packer {
 public:
  // `config_fingerprint`: this member's core::voting_fingerprint(), stamped
  // on every datagram.
  Packer(std::uint64_t cluster_id, core::MemberId self, core::Incarnation incarnation,
         std::uint64_t config_fingerprint, std::optional<ClusterKey> key);
  ~Packer();
  Packer(Packer&&) noexcept;
  Packer& operator=(Packer&&) noexcept;

  // Appends to `out`. Messages that cannot be encoded at all (!encodable) are
  // dropped and counted in dropped(). Every Outgoing::to must be a member
  // other than self (the core delivers to itself in-process).
  void pack(std::span<const core::Outgoing> msgs, std::vector<Datagram>& out);
  // One datagram of `msgs` (all of them, or false), stamped with the next
  // sequence number of this packer, for a destination that is not a member
  // (an observer's address: the runtime's PONG to `batonctl status`). Using
  // this packer's sequence space means a captured copy replayed to a member
  // can at most take a number no member datagram uses, never push a
  // member's replay window ahead of this sender's real datagrams.
  bool pack_direct(std::span<const core::Message> msgs, std::vector<std::uint8_t>& out);
  std::uint64_t dropped() const { return dropped_; }
  std::uint64_t next_seq() const { return seq_ + 1; }

 private:
  void pack_one(core::MemberId to, std::span<const core::Message* const> msgs, std::vector<Datagram>& out);

  Header base_;                              // cluster, sender, incarnation, fingerprint; seq set per datagram
  std::optional<AuthKey> key_;               // tag datagrams with this key, if set
  std::uint64_t seq_ = 0;                    // last sequence number used
  std::uint64_t dropped_ = 0;                // messages dropped as not encodable
  std::unique_ptr<detail::Encoder> encoder_; // reused between datagrams (no per-datagram builder)
  std::vector<std::size_t> order_;           // scratch: message indices sorted by destination
  std::uint32_t first_ = 0;                  // destination that went first last time
  std::size_t overhead_ = 0;                 // bytes of a datagram with no messages (0: not yet known)
  std::vector<const core::Message*> group_;  // scratch: one destination's messages
};

// The sender id of an observer: a client that is not a member (batonctl
// status) and may only ask PING. Member ids are never 0 (Config::validate).
inline constexpr core::MemberId observer_id{0};

// Whether Receiver::receive lets observer datagrams through.
enum class Observers : std::uint8_t {
  reject,  // sender observer_id is a stranger, like any non-member
  accept,  // sender observer_id is accepted iff every message is a PING, or it is one CONFIG_CHANGE
};

// The whole receive pipeline for one member: decode(), then reject senders
// that are not members or claim to be `self` (stranger), then the voting
// configuration (config_mismatch), then the replay window (replayed). Only a
// datagram that passes every check advances the replay window.
//
// Voting configuration (issue 19, docs/protocol.md): a member's datagram
// whose config_fingerprint is neither ours nor no_fingerprint comes from a
// member that computes other voters or another majority, so none of its
// lease messages may count: it is dropped as config_mismatch, and noted in
// mismatches() (the sender, its fingerprint, a count). Except a datagram of
// PINGs and PONGs only: they change no lease state, and answering them keeps
// status and diagnosis working across the mismatch. On config_mismatch `out`
// holds the decoded datagram, for the caller's log only: it must not be
// acted on.
//
// With Observers::accept, an authenticated datagram from observer_id whose
// messages are all PING is returned too (out.header.sender == observer_id)
// without a replay check and without touching the replay window: a PING
// changes no state, so a replayed one is harmless, and an observer has no
// sequence space of its own. The caller must answer it itself and never hand
// it to the core (the core addresses only members). Likewise a datagram of
// exactly one CONFIG_CHANGE (batonctl reconfigure, issue 21 step 4): no
// replay window either; its `expect` id and nonce make a replay harmless
// (runtime/config_change.hpp). Any other message from observer_id is a
// stranger's.
//
// Clients (issue 21; docs/protocol.md "Clients"). With clients_max > 0, a
// datagram from a client id (core::is_client) whose messages are all
// REQUEST, RENEW, RELEASE or PING is checked like a member's (the voting
// fingerprint: a client computes the same one from the same voters), then
// against that client life's replay window (ClientWindows, bounded). Any
// other message from a client is a stranger's: a client never votes.
//
// Older incarnation (issue 19, part 3): when receive() drops a member's
// datagram as replayed because its incarnation is below the newest this
// receiver accepted from that member, behind() says so until the next
// receive(): the member and the newest incarnation seen from it. The caller
// may then answer the member with INCARNATION_BEHIND (rate-limited; the
// Receiver keeps no time). Only authenticated datagrams of members get there.
class Receiver {
 public:
  struct Behind {
    core::MemberId sender;    // the member whose datagram carried an older incarnation
    core::Incarnation seen;   // the newest incarnation accepted from it here
  };
  // `config_fingerprint`: this member's core::voting_fingerprint() (not no_fingerprint).
  // `clients_max`: how many client lives' replay windows to keep (issue 21);
  // 0 refuses every client as a stranger (a client's own receiver: clients
  // talk to members only).
  Receiver(std::uint64_t cluster_id, std::optional<ClusterKey> key, std::vector<core::MemberId> members,
           core::MemberId self, std::uint64_t config_fingerprint, std::size_t clients_max = 0);
  // `client_pinned`: which clients' replay windows must not be evicted for
  // a new client life (ClientWindows::admit); empty: none.
  std::optional<core::DropReason> receive(std::span<const std::uint8_t> bytes, Decoded& out,
                                          Observers observers = Observers::reject,
                                          const std::function<bool(core::MemberId)>& client_pinned = {});

  std::uint64_t config_fingerprint() const { return fingerprint_; }
  // Set iff the last receive() dropped a member's datagram for an older
  // incarnation (see above).
  const std::optional<Behind>& behind() const { return behind_; }
  // Members whose datagrams were dropped as config_mismatch, by sender (at
  // most one entry per member: bounded by the member list).
  const std::vector<core::ConfigMismatch>& mismatches() const { return mismatches_; }
  // Client lives tracked, and how many were evicted to make room (0 and 0
  // without clients).
  std::size_t clients_tracked() const { return clients_ ? clients_->size() : 0; }
  std::uint64_t client_evictions() const { return clients_ ? clients_->evictions() : 0; }
  // New client lives refused because every tracked life was pinned.
  std::uint64_t clients_refused() const { return clients_ ? clients_->refused() : 0; }

 private:
  bool is_member(core::MemberId m) const;
  void note_mismatch(core::MemberId sender, std::uint64_t fingerprint);

  std::uint64_t cluster_id_;             // our cluster; others are wrong_cluster
  std::optional<AuthKey> key_;           // verify tags with this key, if set
  std::vector<core::MemberId> members_;  // sorted, unique
  core::MemberId self_;                  // our own id: a datagram claiming it is a stranger
  std::uint64_t fingerprint_;            // our voting configuration; others are config_mismatch
  std::vector<core::ConfigMismatch> mismatches_;  // by sender, members only
  ReplayWindow replay_;                  // per-sender incarnation + sequence window
  std::unique_ptr<ClientWindows> clients_;  // per client life; null: clients refused
  std::optional<Behind> behind_;         // the last receive()'s older-incarnation drop, if it was one
};

}  // namespace baton::codec
