// SPDX-License-Identifier: Apache-2.0
#include "codec/encoder.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <variant>

#include "core/assert.hpp"

namespace baton::codec::detail {

namespace {

using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

// The union's alternatives are the core::Message alternatives in the same
// order (wire/baton.fbs), so the union tag is the variant index + 1.
static_assert(static_cast<std::size_t>(wire::Body::MAX) == std::variant_size_v<core::Message>);
static_assert(static_cast<int>(wire::Body::Request) == 1 + 0);
static_assert(static_cast<int>(wire::Body::Pong) == 1 + 10);

// The builder starts with room for any datagram that can be sent. An attempt
// that is too large (at most messages_per_datagram_max maximal messages, a
// few KiB) grows it once and is then refused by the size check after Finish().
constexpr std::size_t builder_initial_bytes = 2 * core::limits::datagram_bytes_max;

wire::LeaseId to_wire(const core::LeaseId& l) {
  return wire::LeaseId(l.owner.value, l.incarnation.value, l.serial);
}

Offset<flatbuffers::Vector<std::uint8_t>> name(FlatBufferBuilder& b, const core::ResourceName& r) {
  return b.CreateVector(reinterpret_cast<const std::uint8_t*>(r.view().data()), r.size());
}

wire::DenyReason to_wire(core::DenyReason r) { return static_cast<wire::DenyReason>(r); }

// One function per message type: returns the union's (type, table offset).
struct Body {
  wire::Body type;
  Offset<void> table;
};

// A configuration record, or a null offset (the field left out).
Offset<wire::CfgRecord> record(FlatBufferBuilder& b, const std::optional<core::CfgRecord>& r) {
  if (!r) return 0;
  auto ids = [&](const std::vector<core::MemberId>& v) -> Offset<flatbuffers::Vector<std::uint32_t>> {
    if (v.empty()) return 0;
    std::array<std::uint32_t, core::limits::members_max> raw{};
    BATON_ASSERT(v.size() <= raw.size());
    for (std::size_t i = 0; i < v.size(); ++i) raw[i] = v[i].value;
    return b.CreateVector(raw.data(), v.size());
  };
  const auto old_voters = ids(r->old_voters);
  const auto new_voters = ids(r->new_voters);
  const wire::CfgId id(r->id.epoch, r->id.ballot);
  return wire::CreateCfgRecord(b, &id, old_voters, new_voters, r->floor.value);
}

// The tag of a REQUEST or RENEW: left out for the initial configuration, so
// a cluster that never changed its voters sends what it sent before issue 21.
std::optional<wire::CfgId> cfg_tag(core::CfgId id) {
  if (id == core::initial_cfg_id) return std::nullopt;
  return wire::CfgId(id.epoch, id.ballot);
}

Body body(FlatBufferBuilder& b, const core::Request& m) {
  const auto r = name(b, m.resource);
  const auto l = to_wire(m.lease);
  const auto rec = record(b, m.record);
  const auto tag = cfg_tag(m.cfg);
  return {wire::Body::Request,
          wire::CreateRequest(b, r, &l, m.ttl.count_ns(), m.token.value, tag ? &*tag : nullptr, rec).Union()};
}

Body body(FlatBufferBuilder& b, const core::Grant& m) {
  const auto r = name(b, m.resource);
  const auto l = to_wire(m.lease);
  return {wire::Body::Grant, wire::CreateGrant(b, r, &l, m.token.value, m.handoff).Union()};
}

Body body(FlatBufferBuilder& b, const core::Deny& m) {
  const auto r = name(b, m.resource);
  const auto l = to_wire(m.lease);
  const auto rec = record(b, m.record);
  return {wire::Body::Deny, wire::CreateDeny(b, r, &l, m.token.value, to_wire(m.reason), m.holder.value,
                                             m.time_left.count_ns(), m.fence.value, m.unqueued, rec, m.promised)
                                .Union()};
}

Body body(FlatBufferBuilder& b, const core::Renew& m) {
  const auto r = name(b, m.resource);
  const auto l = to_wire(m.lease);
  const auto rec = record(b, m.record);
  const auto tag = cfg_tag(m.cfg);
  return {wire::Body::Renew,
          wire::CreateRenew(b, r, &l, m.token.value, m.ttl.count_ns(), m.round, tag ? &*tag : nullptr, rec,
                             m.believed)
              .Union()};
}

Body body(FlatBufferBuilder& b, const core::RenewAck& m) {
  const auto r = name(b, m.resource);
  const auto l = to_wire(m.lease);
  const auto rec = record(b, m.record);
  return {wire::Body::RenewAck, wire::CreateRenewAck(b, r, &l, m.token.value, m.round, m.ok,
                                                     to_wire(m.reason), m.fence.value, rec, m.promised)
                                    .Union()};
}

Body body(FlatBufferBuilder& b, const core::Release& m) {
  const auto r = name(b, m.resource);
  const auto l = to_wire(m.lease);
  return {wire::Body::Release, wire::CreateRelease(b, r, &l, m.token.value).Union()};
}

Body body(FlatBufferBuilder& b, const core::Free& m) {
  const auto r = name(b, m.resource);
  return {wire::Body::Free, wire::CreateFree(b, r, m.fence.value, m.waiters).Union()};
}

Body body(FlatBufferBuilder& b, const core::FloorQuery& m) {
  return {wire::Body::FloorQuery, wire::CreateFloorQuery(b, m.nonce).Union()};
}

Body body(FlatBufferBuilder& b, const core::FloorReply& m) {
  const auto rec = record(b, m.record);
  return {wire::Body::FloorReply, wire::CreateFloorReply(b, m.nonce, m.ready, m.floor.value, rec, m.promised).Union()};
}

Body body(FlatBufferBuilder& b, const core::Ping& m) {
  return {wire::Body::Ping, wire::CreatePing(b, m.nonce).Union()};
}

Body body(FlatBufferBuilder& b, const core::ConfigRead& m) {
  return {wire::Body::ConfigRead, wire::CreateConfigRead(b, m.ballot).Union()};
}

Body body(FlatBufferBuilder& b, const core::ConfigReadReply& m) {
  const auto rec = record(b, m.record);
  return {wire::Body::ConfigReadReply, wire::CreateConfigReadReply(b, m.ballot, m.ok, rec, m.promised).Union()};
}

Body body(FlatBufferBuilder& b, const core::ConfigPropose& m) {
  const auto rec = record(b, m.record);
  return {wire::Body::ConfigPropose, wire::CreateConfigPropose(b, rec).Union()};
}

Body body(FlatBufferBuilder& b, const core::ConfigAck& m) {
  const wire::CfgId proposed(m.proposed.epoch, m.proposed.ballot);
  const wire::CfgId cfg(m.cfg.epoch, m.cfg.ballot);
  return {wire::Body::ConfigAck,
          wire::CreateConfigAck(b, &proposed, m.ok, &cfg, m.max_stored.value, m.promised, m.ttl_max.count_ns()).Union()};
}

Body body(FlatBufferBuilder& b, const core::ConfigQuery& m) {
  return {wire::Body::ConfigQuery, wire::CreateConfigQuery(b, m.nonce).Union()};
}

Body body(FlatBufferBuilder& b, const core::ConfigReply& m) {
  const auto rec = record(b, m.record);
  return {wire::Body::ConfigReply, wire::CreateConfigReply(b, m.nonce, rec).Union()};
}

// ---- Remote reconfiguration (issue 21 step 4)
Body body(FlatBufferBuilder& b, const core::ConfigChange& m) {
  std::array<std::uint32_t, core::limits::members_max> raw{};
  BATON_ASSERT(m.voters.size() <= raw.size());  // encodable() checked it
  for (std::size_t i = 0; i < m.voters.size(); ++i) raw[i] = m.voters[i].value;
  const auto voters = b.CreateVector(raw.data(), m.voters.size());
  const wire::CfgId expect(m.expect.epoch, m.expect.ballot);
  return {wire::Body::ConfigChange, wire::CreateConfigChange(b, m.nonce, &expect, voters).Union()};
}

Body body(FlatBufferBuilder& b, const core::ConfigChangeReply& m) {
  const auto rec = record(b, m.record);
  const auto detail = m.detail.empty() ? Offset<flatbuffers::String>() : b.CreateString(m.detail);
  const auto outcome = m.state == core::ChangeState::done
                           ? static_cast<wire::ConfigChangeOutcome>(static_cast<std::uint8_t>(m.outcome) + 1)
                           : wire::ConfigChangeOutcome::none;
  return {wire::Body::ConfigChangeReply,
          wire::CreateConfigChangeReply(b, m.nonce, static_cast<wire::ConfigChangeState>(m.state), outcome, rec,
                                        m.ballot, detail)
              .Union()};
}
// ---- end of remote reconfiguration

Body body(FlatBufferBuilder& b, const core::IncarnationBehind& m) {
  return {wire::Body::IncarnationBehind, wire::CreateIncarnationBehind(b, m.seen.value).Union()};
}

Body body(FlatBufferBuilder& b, const core::Pong& m) {
  // An empty counter list is left out (null vector); decode reads it as empty.
  Offset<flatbuffers::Vector<std::uint64_t>> drops = 0;
  if (!m.drops.empty()) drops = b.CreateVector(m.drops.data(), m.drops.size());
  // Likewise an empty mismatch list (every PONG of a healthy cluster).
  Offset<flatbuffers::Vector<const wire::ConfigMismatch*>> mismatches = 0;
  if (!m.mismatches.empty()) {
    std::array<wire::ConfigMismatch, core::limits::pong_mismatches_max> w;
    const std::size_t n = std::min(m.mismatches.size(), w.size());  // encodable() checked the bound
    for (std::size_t i = 0; i < n; ++i) {
      const core::ConfigMismatch& c = m.mismatches[i];
      w[i] = wire::ConfigMismatch(c.sender.value, c.fingerprint, c.datagrams);
    }
    mismatches = b.CreateVectorOfStructs(w.data(), n);
  }
  const wire::CfgId cfg(m.cfg.epoch, m.cfg.ballot);
  return {wire::Body::Pong,
          wire::CreatePong(b, m.nonce, m.quarantined, m.live_leases, m.waiters, m.floor.value, drops, mismatches,
                           static_cast<wire::StartKind>(m.start), m.quarantine_left.count_ns(), m.floor_answers,
                           m.floor_answers_needed, m.cfg.epoch == 0 ? nullptr : &cfg)
              .Union()};
}

}  // namespace

Encoder::Encoder() : fbb_(builder_initial_bytes) {
  msgs_.reserve(core::limits::messages_per_datagram_max);
}

Result<std::size_t> Encoder::build(const Header& h, std::span<const core::Message* const> msgs, bool tagged) {
  if (msgs.empty()) return Error{Errc::invalid_argument, "a datagram carries at least one message"};
  if (msgs.size() > core::limits::messages_per_datagram_max) {
    return Error{Errc::invalid_argument, "more than messages_per_datagram_max messages"};
  }
  for (const core::Message* m : msgs) {
    BATON_ASSERT(m != nullptr);
    if (!encodable(*m)) return Error{Errc::invalid_argument, "a message field is out of range"};
  }
  return build_unchecked(h, msgs, tagged);
}

std::size_t Encoder::build_unchecked(const Header& h, std::span<const core::Message* const> msgs, bool tagged) {
  fbb_.Clear();
  msgs_.clear();
  for (const core::Message* m : msgs) {
    const Body b = std::visit([this](const auto& alt) { return body(fbb_, alt); }, *m);
    msgs_.push_back(wire::CreateMessage(fbb_, b.type, b.table));
  }
  const auto vec = fbb_.CreateVector(msgs_);
  const auto root = wire::CreateDatagram(fbb_, h.version, h.cluster_id, h.sender.value, h.incarnation.value,
                                         h.seq, vec, h.config_fingerprint);
  wire::FinishDatagramBuffer(fbb_, root);
  return fbb_.GetSize() + (tagged ? tag_bytes : 0);
}

std::size_t Encoder::overhead(const Header& h, bool tagged) { return build_unchecked(h, {}, tagged); }

std::span<const std::uint8_t> Encoder::built() const { return {fbb_.GetBufferPointer(), fbb_.GetSize()}; }

Result<std::size_t> Encoder::encode(const Header& h, std::span<const core::Message* const> msgs,
                                    const AuthKey* key, std::span<std::uint8_t> out) {
  Result<std::size_t> total = build(h, msgs, key != nullptr);
  if (!total) return total;
  if (*total > core::limits::datagram_bytes_max) {
    return Error{Errc::overloaded, "datagram would exceed datagram_bytes_max"};
  }
  if (*total > out.size()) return Error{Errc::overloaded, "output buffer too small"};
  const std::span<const std::uint8_t> body = built();
  std::memcpy(out.data(), body.data(), body.size());
  if (key != nullptr) {
    key->tag(out.first(body.size()), out.subspan(body.size()).first<tag_bytes>());
  }
  return *total;
}

}  // namespace baton::codec::detail
