// SPDX-License-Identifier: Apache-2.0
// encode() and decode(): the FlatBuffers datagram <-> header + core messages.
// The receive order is fixed (wire/README.md): size, tag, verifier, version,
// cluster id, fields. Each step relies on the ones before it: nothing is
// parsed before the tag verified, no field is read before the verifier
// proved every offset in bounds.
#include "codec/codec.hpp"

#include <algorithm>
#include <cstring>
#include <variant>

#include "codec/encoder.hpp"
#include "core/assert.hpp"

namespace baton::codec {

namespace {

using core::DropReason;

// Verifier limits: a well-formed datagram nests Datagram -> [Message] ->
// Message -> body table -> [ubyte], and holds at most 1 + 2 per message
// tables. Anything deeper or larger is malformed without further work.
constexpr flatbuffers::uoffset_t verifier_depth_max = 8;
// (A message may also carry a configuration record: a third table.)
constexpr flatbuffers::uoffset_t verifier_tables_max = 1 + 3 * core::limits::messages_per_datagram_max;

// DenyReason numbers travel on the wire: core and schema must agree.
constexpr std::uint8_t deny_reason_max = core::deny_reason_max;
static_assert(static_cast<std::uint8_t>(wire::DenyReason::not_voter) ==
              static_cast<std::uint8_t>(core::DenyReason::not_voter));
static_assert(static_cast<std::uint8_t>(wire::DenyReason::MAX) == deny_reason_max);
static_assert(static_cast<std::uint8_t>(wire::DenyReason::held) == static_cast<std::uint8_t>(core::DenyReason::held));

constexpr std::size_t drops_max = drop_reason_count;
// limits.hpp sizes pong_mismatches_max by this.
static_assert(sizeof(wire::ConfigMismatch) == 24);

// StartKind numbers travel in PONG: core and schema must agree.
static_assert(static_cast<std::uint8_t>(wire::StartKind::MAX) == core::start_kind_max);
static_assert(static_cast<std::uint8_t>(wire::StartKind::peers) == static_cast<std::uint8_t>(core::StartKind::peers));
static_assert(static_cast<std::uint8_t>(wire::StartKind::reservation) ==
              static_cast<std::uint8_t>(core::StartKind::reservation));

bool valid_name(const core::ResourceName& r) {
  return !r.empty() && r.size() <= core::limits::resource_name_bytes_max;
}

bool valid_deny_reason(core::DenyReason r) {
  const auto v = static_cast<std::uint8_t>(r);
  return v >= 1 && v <= deny_reason_max;
}

// One predicate per message type; encodable() dispatches.
// Tokens, fences and floors at most limits::token_max (a larger one from
// anyone holding the key would pin a fence at the top, or make the next
// token wrap).
bool valid_token(core::Token t) { return t.value <= core::limits::token_max; }
// A configuration id names an epoch >= 1; an attached record is valid and is
// the one the id names (issue 21).
bool valid_cfg(core::CfgId id, const std::optional<core::CfgRecord>& r) {
  return id.epoch >= 1 && (!r || (r->id == id && core::validate_record(*r).ok()));
}
bool valid_record(const std::optional<core::CfgRecord>& r) { return !r || core::validate_record(*r).ok(); }
bool valid(const core::Request& m) {
  return valid_name(m.resource) && m.ttl >= core::Duration::zero() && valid_token(m.token) &&
         valid_cfg(m.cfg, m.record);
}
bool valid(const core::Grant& m) { return valid_name(m.resource) && valid_token(m.token); }
bool valid(const core::Deny& m) {
  return valid_name(m.resource) && valid_deny_reason(m.reason) && m.time_left >= core::Duration::zero() &&
         (!m.unqueued || m.reason == core::DenyReason::held) && valid_token(m.token) && valid_token(m.fence) &&
         valid_record(m.record) && (!m.record || core::is_config_reason(m.reason));
}
bool valid(const core::Renew& m) {
  return valid_name(m.resource) && m.ttl >= core::Duration::zero() && valid_token(m.token) &&
         valid_cfg(m.cfg, m.record);
}
bool valid(const core::RenewAck& m) {
  // ok acks carry no reason (0); the encoder and decoder accept 0 either way.
  return valid_name(m.resource) && (m.reason == core::DenyReason{} || valid_deny_reason(m.reason)) &&
         valid_token(m.token) && valid_token(m.fence) && valid_record(m.record) &&
         (!m.record || (!m.ok && core::is_config_reason(m.reason)));
}
bool valid(const core::Release& m) { return valid_name(m.resource) && valid_token(m.token); }
bool valid(const core::Free& m) { return valid_name(m.resource) && valid_token(m.fence); }
bool valid(const core::FloorQuery&) { return true; }
// A record only with a ready answer, and a promise at least its ballot.
bool valid(const core::FloorReply& m) {
  return valid_token(m.floor) && valid_record(m.record) && (!m.record || (m.ready && m.promised >= m.record->id.ballot)) &&
         (m.record || m.promised == 0);
}
bool valid(const core::Ping&) { return true; }
// Incarnations are never 0 (decide_start), so a hint of 0 says nothing true.
bool valid(const core::IncarnationBehind& m) { return m.seen.value != 0; }
// Issue 21: the configuration messages carry valid records and ids.
bool valid(const core::ConfigRead&) { return true; }
bool valid(const core::ConfigReadReply& m) {
  return core::validate_record(m.record).ok() && m.promised >= m.record.id.ballot;
}
bool valid(const core::ConfigPropose& m) { return core::validate_record(m.record).ok(); }
bool valid(const core::ConfigAck& m) {
  return m.proposed.epoch >= 1 && m.cfg.epoch >= 1 && valid_token(m.max_stored) && (!m.ok || m.proposed == m.cfg) &&
         m.ttl_max >= core::Duration::zero();
}
bool valid(const core::ConfigQuery&) { return true; }
bool valid(const core::ConfigReply& m) { return core::validate_record(m.record).ok(); }
// ---- Remote reconfiguration (issue 21 step 4): CONFIG_CHANGE and its reply.
static_assert(static_cast<std::uint8_t>(wire::ConfigChangeState::MAX) == core::change_state_max);
static_assert(static_cast<std::uint8_t>(wire::ConfigChangeState::refused) ==
              static_cast<std::uint8_t>(core::ChangeState::refused));
static_assert(static_cast<std::uint8_t>(wire::ConfigChangeOutcome::timed_out) ==
              static_cast<std::uint8_t>(core::ReconfigOutcome::timed_out) + 1);
// A voter set asked for: 1..members_max member ids (not 0, not client ids),
// strictly ascending (so unique).
bool valid_voter_set(const std::vector<core::MemberId>& v) {
  if (v.empty() || v.size() > core::limits::members_max) return false;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i].value == 0 || v[i].value > core::member_id_max) return false;
    if (i > 0 && !(v[i - 1] < v[i])) return false;
  }
  return true;
}
bool valid(const core::ConfigChange& m) {
  return m.nonce != 0 && m.expect.epoch >= 1 && valid_voter_set(m.voters);
}
bool valid(const core::ConfigChangeReply& m) {
  const auto st = static_cast<std::uint8_t>(m.state);
  const auto oc = static_cast<std::uint8_t>(m.outcome);
  return st >= 1 && st <= core::change_state_max && oc <= static_cast<std::uint8_t>(core::ReconfigOutcome::timed_out) &&
         (m.state == core::ChangeState::done || m.outcome == core::ReconfigOutcome{}) &&
         core::validate_record(m.record).ok() && m.detail.size() <= core::limits::config_change_detail_max;
}
// ---- end of remote reconfiguration

bool valid(const core::Pong& m) {
  return m.drops.size() <= drops_max && m.mismatches.size() <= core::limits::pong_mismatches_max && valid_token(m.floor) &&
         static_cast<std::uint8_t>(m.start) <= core::start_kind_max && m.quarantine_left >= core::Duration::zero() &&
         m.floor_answers <= core::limits::members_max && m.floor_answers_needed <= core::limits::members_max;
}

// ---- decoding -----------------------------------------------------------
// Each decoder reads a verified table. Required fields are checked again
// (null means malformed) so that no path depends on the verifier's
// required-field handling to avoid a null dereference.

core::LeaseId from_wire(const wire::LeaseId& l) {
  return core::LeaseId{core::MemberId(l.owner()), core::Incarnation(l.incarnation()), l.serial()};
}

bool read_name(const flatbuffers::Vector<std::uint8_t>* v, core::ResourceName& out) {
  if (v == nullptr || v->size() == 0 || v->size() > core::limits::resource_name_bytes_max) return false;
  out = core::ResourceName(std::string(reinterpret_cast<const char*>(v->data()), v->size()));
  return true;
}

// The common head of the lease-carrying messages.
template <typename Table, typename Msg>
bool read_lease_head(const Table& t, Msg& m) {
  if (t.lease() == nullptr || !read_name(t.resource(), m.resource)) return false;
  m.lease = from_wire(*t.lease());
  m.token = core::Token(t.token());
  return true;
}

// A member id list of a record: at most members_max. The verifier aligns a
// vector's length, not its elements: copy bytes rather than load in place.
bool read_ids(const flatbuffers::Vector<std::uint32_t>* v, std::vector<core::MemberId>& out) {
  if (v == nullptr) return true;
  if (v->size() > core::limits::members_max) return false;
  out.resize(v->size());
  for (flatbuffers::uoffset_t i = 0; i < v->size(); ++i) {
    std::uint32_t x = 0;
    std::memcpy(&x, v->Data() + i * sizeof(x), sizeof(x));
    out[i] = core::MemberId(flatbuffers::EndianScalar(x));
  }
  return true;
}

// An absent record is fine (nullopt); a present one must be valid.
bool read_record(const wire::CfgRecord* t, std::optional<core::CfgRecord>& out) {
  if (t == nullptr) return true;
  if (t->id() == nullptr) return false;
  core::CfgRecord r;
  r.id = core::CfgId{t->id()->epoch(), t->id()->ballot()};
  r.floor = core::Token(t->floor());
  if (!read_ids(t->voters(), r.old_voters) || !read_ids(t->new_voters(), r.new_voters)) return false;
  if (!core::validate_record(r)) return false;
  out = std::move(r);
  return true;
}

// The configuration tag of a REQUEST or RENEW: absent means the initial
// configuration (a sender older than issue 21 knows only that one).
template <typename Table, typename Msg>
bool read_cfg(const Table& t, Msg& m) {
  if (const auto* id = t.cfg()) m.cfg = core::CfgId{id->epoch(), id->ballot()};
  return read_record(t.record(), m.record) && valid_cfg(m.cfg, m.record);
}

std::optional<core::Message> read(const wire::Request& t) {
  core::Request m;
  if (!read_lease_head(t, m)) return std::nullopt;
  m.ttl = core::Duration::ns(t.ttl_ns());
  if (!read_cfg(t, m)) return std::nullopt;
  return m;
}

std::optional<core::Message> read(const wire::Grant& t) {
  core::Grant m;
  if (!read_lease_head(t, m)) return std::nullopt;
  m.handoff = t.handoff();
  return m;
}

std::optional<core::Message> read(const wire::Deny& t) {
  core::Deny m;
  if (!read_lease_head(t, m)) return std::nullopt;
  m.reason = static_cast<core::DenyReason>(t.reason());
  m.holder = core::MemberId(t.holder());
  m.time_left = core::Duration::ns(t.time_left_ns());
  m.fence = core::Token(t.fence());
  m.unqueued = t.unqueued();
  if (!read_record(t.record(), m.record)) return std::nullopt;
  m.promised = t.promised();
  return m;
}

std::optional<core::Message> read(const wire::Renew& t) {
  core::Renew m;
  if (!read_lease_head(t, m)) return std::nullopt;
  m.ttl = core::Duration::ns(t.ttl_ns());
  m.round = t.round();
  if (!read_cfg(t, m)) return std::nullopt;
  m.believed = t.believed();
  return m;
}

std::optional<core::Message> read(const wire::RenewAck& t) {
  core::RenewAck m;
  if (!read_lease_head(t, m)) return std::nullopt;
  m.round = t.round();
  m.ok = t.ok();
  m.reason = static_cast<core::DenyReason>(t.reason());
  m.fence = core::Token(t.fence());
  if (!read_record(t.record(), m.record)) return std::nullopt;
  m.promised = t.promised();
  return m;
}

std::optional<core::Message> read(const wire::Release& t) {
  core::Release m;
  if (!read_lease_head(t, m)) return std::nullopt;
  return m;
}

std::optional<core::Message> read(const wire::Free& t) {
  core::Free m;
  if (!read_name(t.resource(), m.resource)) return std::nullopt;
  m.fence = core::Token(t.fence());
  m.waiters = t.waiters();
  return m;
}

std::optional<core::Message> read(const wire::FloorQuery& t) { return core::FloorQuery{.nonce = t.nonce()}; }

std::optional<core::Message> read(const wire::FloorReply& t) {
  core::FloorReply m{.nonce = t.nonce(), .ready = t.ready(), .floor = core::Token(t.floor()), .record = {},
                     .promised = t.promised()};
  if (!read_record(t.record(), m.record)) return std::nullopt;
  return m;
}

std::optional<core::Message> read(const wire::Ping& t) { return core::Ping{.nonce = t.nonce()}; }

std::optional<core::Message> read(const wire::Pong& t) {
  core::Pong m;
  m.nonce = t.nonce();
  m.quarantined = t.quarantined();
  m.live_leases = t.live_leases();
  m.waiters = t.waiters();
  m.floor = core::Token(t.floor());
  m.start = static_cast<core::StartKind>(t.start());  // range: valid()
  m.quarantine_left = core::Duration::ns(t.quarantine_left_ns());
  m.floor_answers = t.floor_answers();
  m.floor_answers_needed = t.floor_answers_needed();
  if (const auto* c = t.cfg()) {
    if (c->epoch() == 0) return std::nullopt;  // absent means "not said"; present names an epoch >= 1
    m.cfg = core::CfgId{c->epoch(), c->ballot()};
  }
  if (const auto* d = t.drops()) {
    if (d->size() > drops_max) return std::nullopt;
    m.drops.resize(d->size());
    // The verifier aligns a vector's length, not its 8-byte elements: copy
    // bytes instead of loading possibly misaligned uint64s.
    for (flatbuffers::uoffset_t i = 0; i < d->size(); ++i) {
      std::uint64_t v = 0;
      std::memcpy(&v, d->Data() + i * sizeof(v), sizeof(v));
      m.drops[i] = flatbuffers::EndianScalar(v);
    }
  }
  if (const auto* v = t.mismatches()) {
    if (v->size() > core::limits::pong_mismatches_max) return std::nullopt;
    m.mismatches.resize(v->size());
    for (flatbuffers::uoffset_t i = 0; i < v->size(); ++i) {
      // Copied out for the same reason: elements may sit misaligned.
      wire::ConfigMismatch w;
      std::memcpy(&w, v->Data() + i * sizeof(w), sizeof(w));
      m.mismatches[i] = core::ConfigMismatch{
          .sender = core::MemberId(w.sender()), .fingerprint = w.fingerprint(), .datagrams = w.datagrams()};
    }
  }
  return m;
}

std::optional<core::Message> read(const wire::IncarnationBehind& t) {
  if (t.seen() == 0) return std::nullopt;  // as valid(): no incarnation is 0
  return core::IncarnationBehind{.seen = core::Incarnation(t.seen())};
}

std::optional<core::Message> read(const wire::ConfigRead& t) { return core::ConfigRead{.ballot = t.ballot()}; }

std::optional<core::Message> read(const wire::ConfigReadReply& t) {
  core::ConfigReadReply m{.ballot = t.ballot(), .ok = t.ok(), .record = {}, .promised = t.promised()};
  std::optional<core::CfgRecord> r;
  if (t.record() == nullptr || !read_record(t.record(), r)) return std::nullopt;
  m.record = std::move(*r);
  return m;
}

std::optional<core::Message> read(const wire::ConfigPropose& t) {
  std::optional<core::CfgRecord> r;
  if (t.record() == nullptr || !read_record(t.record(), r)) return std::nullopt;
  return core::ConfigPropose{.record = std::move(*r)};
}

std::optional<core::Message> read(const wire::ConfigAck& t) {
  if (t.proposed() == nullptr || t.cfg() == nullptr) return std::nullopt;
  return core::ConfigAck{.proposed = core::CfgId{t.proposed()->epoch(), t.proposed()->ballot()},
                         .ok = t.ok(),
                         .cfg = core::CfgId{t.cfg()->epoch(), t.cfg()->ballot()},
                         .max_stored = core::Token(t.max_stored()),
                         .promised = t.promised(),
                         .ttl_max = core::Duration::ns(t.ttl_max_ns())};
}

std::optional<core::Message> read(const wire::ConfigQuery& t) { return core::ConfigQuery{.nonce = t.nonce()}; }

std::optional<core::Message> read(const wire::ConfigReply& t) {
  std::optional<core::CfgRecord> r;
  if (t.record() == nullptr || !read_record(t.record(), r)) return std::nullopt;
  return core::ConfigReply{.nonce = t.nonce(), .record = std::move(*r)};
}

// ---- Remote reconfiguration (issue 21 step 4)
std::optional<core::Message> read(const wire::ConfigChange& t) {
  if (t.expect() == nullptr) return std::nullopt;
  core::ConfigChange m{.nonce = t.nonce(), .expect = core::CfgId{t.expect()->epoch(), t.expect()->ballot()}, .voters = {}};
  if (t.voters() == nullptr || !read_ids(t.voters(), m.voters)) return std::nullopt;
  return m;  // sorted, unique, in range: valid()
}

std::optional<core::Message> read(const wire::ConfigChangeReply& t) {
  const auto state = static_cast<std::uint8_t>(t.state());
  const auto outcome = static_cast<std::uint8_t>(t.outcome());
  if (state < 1 || state > core::change_state_max) return std::nullopt;
  // done carries an outcome (1..3), every other state none (0).
  const bool done = state == static_cast<std::uint8_t>(core::ChangeState::done);
  if (done != (outcome != 0) || outcome > static_cast<std::uint8_t>(wire::ConfigChangeOutcome::MAX)) return std::nullopt;
  std::optional<core::CfgRecord> r;
  if (t.record() == nullptr || !read_record(t.record(), r)) return std::nullopt;
  const flatbuffers::String* detail = t.detail();
  if (detail != nullptr && detail->size() > core::limits::config_change_detail_max) return std::nullopt;
  return core::ConfigChangeReply{.nonce = t.nonce(),
                                 .state = static_cast<core::ChangeState>(state),
                                 .outcome = done ? static_cast<core::ReconfigOutcome>(outcome - 1) : core::ReconfigOutcome{},
                                 .record = std::move(*r),
                                 .ballot = t.ballot(),
                                 .detail = detail == nullptr ? std::string() : detail->str()};
}
// ---- end of remote reconfiguration

template <typename Table>
std::optional<core::Message> read_body(const wire::Message& msg) {
  const auto* t = static_cast<const Table*>(msg.body());
  if (t == nullptr) return std::nullopt;
  return read(*t);
}

std::optional<core::Message> read_message(const wire::Message* msg) {
  if (msg == nullptr) return std::nullopt;
  switch (msg->body_type()) {
    case wire::Body::Request: return read_body<wire::Request>(*msg);
    case wire::Body::Grant: return read_body<wire::Grant>(*msg);
    case wire::Body::Deny: return read_body<wire::Deny>(*msg);
    case wire::Body::Renew: return read_body<wire::Renew>(*msg);
    case wire::Body::RenewAck: return read_body<wire::RenewAck>(*msg);
    case wire::Body::Release: return read_body<wire::Release>(*msg);
    case wire::Body::Free: return read_body<wire::Free>(*msg);
    case wire::Body::FloorQuery: return read_body<wire::FloorQuery>(*msg);
    case wire::Body::FloorReply: return read_body<wire::FloorReply>(*msg);
    case wire::Body::Ping: return read_body<wire::Ping>(*msg);
    case wire::Body::Pong: return read_body<wire::Pong>(*msg);
    case wire::Body::IncarnationBehind: return read_body<wire::IncarnationBehind>(*msg);
    case wire::Body::ConfigRead: return read_body<wire::ConfigRead>(*msg);
    case wire::Body::ConfigReadReply: return read_body<wire::ConfigReadReply>(*msg);
    case wire::Body::ConfigPropose: return read_body<wire::ConfigPropose>(*msg);
    case wire::Body::ConfigAck: return read_body<wire::ConfigAck>(*msg);
    case wire::Body::ConfigQuery: return read_body<wire::ConfigQuery>(*msg);
    case wire::Body::ConfigReply: return read_body<wire::ConfigReply>(*msg);
    case wire::Body::ConfigChange: return read_body<wire::ConfigChange>(*msg);
    case wire::Body::ConfigChangeReply: return read_body<wire::ConfigChangeReply>(*msg);
    case wire::Body::NONE: break;
  }
  // NONE, or a type from a newer schema (the verifier lets unknown union
  // types through for forward compatibility; this version cannot use them).
  return std::nullopt;
}

// The FlatBuffers accessors load scalars in place, so the buffer must be
// aligned as the verifier assumed (it checks offsets relative to the start).
// Receive buffers may start anywhere: copy those that are not 8-aligned.
struct AlignedCopy {
  alignas(8) std::array<std::uint8_t, core::limits::datagram_bytes_max> bytes;
};

}  // namespace

bool encodable(const core::Message& m) {
  return std::visit([](const auto& alt) { return valid(alt); }, m);
}

namespace {

Result<std::size_t> encode_with(const Header& h, std::span<const core::Message> msgs, const AuthKey* key,
                                std::span<std::uint8_t> out) {
  if (msgs.size() > core::limits::messages_per_datagram_max) {
    return Error{Errc::invalid_argument, "more than messages_per_datagram_max messages"};
  }
  std::array<const core::Message*, core::limits::messages_per_datagram_max> ptrs{};
  for (std::size_t i = 0; i < msgs.size(); ++i) ptrs[i] = &msgs[i];
  detail::Encoder encoder;
  return encoder.encode(h, std::span(ptrs).first(msgs.size()), key, out);
}

std::optional<core::DropReason> decode_with(std::span<const std::uint8_t> bytes, const AuthKey* key,
                                            std::uint64_t cluster_id, Decoded& out);

}  // namespace

Result<std::size_t> encode(const Header& h, std::span<const core::Message> msgs, const ClusterKey* key,
                           std::span<std::uint8_t> out) {
  if (key == nullptr) return encode_with(h, msgs, nullptr, out);
  const AuthKey k(*key);
  return encode_with(h, msgs, &k, out);
}

Result<std::size_t> encode(const Header& h, std::span<const core::Message> msgs, const AuthKey& key,
                           std::span<std::uint8_t> out) {
  return encode_with(h, msgs, &key, out);
}

std::optional<core::DropReason> decode(std::span<const std::uint8_t> bytes, const ClusterKey* key,
                                       std::uint64_t cluster_id, Decoded& out) {
  if (key == nullptr) return decode_with(bytes, nullptr, cluster_id, out);
  const AuthKey k(*key);
  return decode_with(bytes, &k, cluster_id, out);
}

std::optional<core::DropReason> decode(std::span<const std::uint8_t> bytes, const AuthKey& key,
                                       std::uint64_t cluster_id, Decoded& out) {
  return decode_with(bytes, &key, cluster_id, out);
}

namespace {

std::optional<core::DropReason> decode_with(std::span<const std::uint8_t> bytes, const AuthKey* key,
                                            std::uint64_t cluster_id, Decoded& out) {
  // 1. Size: nothing larger than a datagram we could have sent is looked at.
  if (bytes.empty() || bytes.size() > core::limits::datagram_bytes_max) return DropReason::oversized;

  // 2. Tag, before any parsing: unauthenticated bytes never reach the parser.
  std::span<const std::uint8_t> body = bytes;
  if (key != nullptr) {
    if (bytes.size() <= tag_bytes) return DropReason::bad_auth;
    body = bytes.first(bytes.size() - tag_bytes);
    if (!key->verify(body, bytes.last<tag_bytes>())) return DropReason::bad_auth;
  }

  AlignedCopy copy;
  if (reinterpret_cast<std::uintptr_t>(body.data()) % alignof(AlignedCopy) != 0) {
    std::memcpy(copy.bytes.data(), body.data(), body.size());
    body = std::span<const std::uint8_t>(copy.bytes.data(), body.size());
  }

  // 3. Structure: every offset, vector length and required field in bounds.
  flatbuffers::Verifier::Options opts;
  opts.max_depth = verifier_depth_max;
  opts.max_tables = verifier_tables_max;
  opts.check_alignment = true;
  opts.check_nested_flatbuffers = false;
  flatbuffers::Verifier verifier(body.data(), body.size(), opts);
  if (!wire::VerifyDatagramBuffer(verifier)) return DropReason::malformed;
  const wire::Datagram* d = wire::GetDatagram(body.data());

  // 4. Envelope.
  if (d->version() != wire_version) return DropReason::wrong_version;
  if (d->cluster_id() != cluster_id) return DropReason::wrong_cluster;

  // 5. Fields.
  const auto* msgs = d->messages();
  if (msgs == nullptr || msgs->size() == 0 || msgs->size() > core::limits::messages_per_datagram_max) {
    return DropReason::malformed;
  }
  out.header = Header{.version = d->version(),
                      .cluster_id = d->cluster_id(),
                      .sender = core::MemberId(d->sender()),
                      .incarnation = core::Incarnation(d->incarnation()),
                      .seq = d->seq(),
                      .config_fingerprint = d->config_fingerprint()};
  out.messages.clear();
  out.messages.reserve(msgs->size());
  for (const wire::Message* msg : *msgs) {
    std::optional<core::Message> m = read_message(msg);
    if (!m || !encodable(*m)) return DropReason::malformed;
    out.messages.push_back(std::move(*m));
  }
  return std::nullopt;
}

}  // namespace

}  // namespace baton::codec
