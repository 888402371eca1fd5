// SPDX-License-Identifier: Apache-2.0
// encode()/decode(): round trips of every message type, the receive order
// (size, tag, verifier, version, cluster, fields), and hostile input:
// truncation, corruption, random bytes and hand-built FlatBuffers with
// out-of-range fields. Everything hostile must come back as a DropReason.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "codec/codec.hpp"
#include "core/rng.hpp"
#include "sample_messages.hpp"
#include "wire/baton_generated.h"

namespace baton::codec {
namespace {

using core::DropReason;
using testing::make;
using testing::samples;

constexpr std::uint64_t cluster = 0xC1C1C1C1DEADBEEFULL;

ClusterKey make_key(std::uint8_t salt) {
  ClusterKey k;
  for (std::size_t i = 0; i < k.bytes.size(); ++i) k.bytes[i] = static_cast<std::uint8_t>(i * 7 + salt);
  return k;
}

Header header() {
  return Header{.version = wire_version, .cluster_id = cluster, .sender = core::MemberId(2),
                .incarnation = core::Incarnation(0x0A0B0C0D0E0F1011ULL), .seq = 0x123456789ULL,
                .config_fingerprint = 0x5eed0f0f5eed0f0fULL};
}

std::vector<std::uint8_t> encode_ok(const Header& h, const std::vector<core::Message>& msgs, const ClusterKey* key) {
  std::vector<std::uint8_t> buf(core::limits::datagram_bytes_max);
  Result<std::size_t> n = encode(h, msgs, key, buf);
  EXPECT_TRUE(n.ok()) << n.what();
  buf.resize(n.ok() ? *n : 0);
  return buf;
}

std::optional<DropReason> decode_bytes(const std::vector<std::uint8_t>& b, const ClusterKey* key, Decoded& out) {
  return decode(b, key, cluster, out);
}

// ---- round trips ------------------------------------------------------------

TEST(Codec, SamplesCoverEveryMessageType) {
  const auto s = samples();
  ASSERT_EQ(s.size(), std::variant_size_v<core::Message>);
  for (std::size_t i = 0; i < s.size(); ++i) EXPECT_EQ(s[i].index(), i);
}

TEST(Codec, EveryMessageTypeRoundTripsAloneWithAndWithoutKey) {
  const ClusterKey key = make_key(1);
  for (const ClusterKey* k : {static_cast<const ClusterKey*>(nullptr), &key}) {
    for (const core::Message& m : samples()) {
      SCOPED_TRACE(std::string(core::message_name(m)) + (k ? " keyed" : " unkeyed"));
      const auto bytes = encode_ok(header(), {m}, k);
      Decoded d;
      ASSERT_EQ(decode_bytes(bytes, k, d), std::nullopt);
      EXPECT_EQ(d.header, header());
      ASSERT_EQ(d.messages.size(), 1u);
      EXPECT_EQ(d.messages[0], m);
    }
  }
}

TEST(Codec, BatchOfEveryTypeRoundTripsInOrder) {
  const ClusterKey key = make_key(1);
  std::vector<core::Message> msgs = testing::one_datagram_samples();
  std::vector<core::Message> reversed(msgs.rbegin(), msgs.rend());
  for (const auto& batch : {msgs, reversed}) {
    const auto bytes = encode_ok(header(), batch, &key);
    Decoded d;
    ASSERT_EQ(decode_bytes(bytes, &key, d), std::nullopt);
    EXPECT_EQ(d.messages, batch);
  }
}

TEST(Codec, FullDatagramOfSmallMessagesRoundTrips) {
  std::vector<core::Message> msgs;
  for (std::size_t i = 0; i < core::limits::messages_per_datagram_max; ++i) {
    msgs.push_back(core::Ping{.nonce = i * 1000003});
  }
  const ClusterKey key = make_key(1);
  const auto bytes = encode_ok(header(), msgs, &key);
  Decoded d;
  ASSERT_EQ(decode_bytes(bytes, &key, d), std::nullopt);
  EXPECT_EQ(d.messages, msgs);
}

TEST(Codec, LargestMessageOfEveryTypeFitsOneDatagram) {
  const ClusterKey key = make_key(1);
  for (const core::Message& m : testing::largest_samples()) {
    SCOPED_TRACE(core::message_name(m));
    const auto bytes = encode_ok(header(), {m}, &key);
    EXPECT_LE(bytes.size(), core::limits::datagram_bytes_max);
    Decoded d;
    ASSERT_EQ(decode_bytes(bytes, &key, d), std::nullopt);
    EXPECT_EQ(d.messages.at(0), m);
  }
}

TEST(Codec, DefaultValuedFieldsRoundTrip) {
  // FlatBuffers omits fields equal to their default; they must read back.
  std::vector<core::Message> msgs = {
      make<core::Request>([](auto& m) { m.resource = core::ResourceName("a"); }),
      make<core::RenewAck>([](auto& m) {
        m.resource = core::ResourceName("b");
        m.ok = true;
      }),
      core::Pong{},
      core::FloorReply{},
  };
  const auto bytes = encode_ok(Header{.cluster_id = cluster}, msgs, nullptr);
  Decoded d;
  ASSERT_EQ(decode_bytes(bytes, nullptr, d), std::nullopt);
  EXPECT_EQ(d.messages, msgs);
  EXPECT_EQ(d.header, Header{.cluster_id = cluster});
}

// Issue 21: configuration ids and records round-trip; the initial id is
// left out of the datagram (what a sender older than issue 21 sent), and a
// REQUEST without one reads as tagged with the initial configuration.
TEST(Codec, ConfigurationFieldsRoundTripAndTheInitialIdIsLeftOut) {
  const core::CfgRecord rec = testing::sample_record();
  std::vector<core::Message> msgs = {
      make<core::Deny>([&](auto& m) {
        m.resource = core::ResourceName("d");
        m.reason = core::DenyReason::behind;
        m.record = rec;
        m.promised = 8;
      }),
      make<core::RenewAck>([&](auto& m) {
        m.resource = core::ResourceName("k");
        m.reason = core::DenyReason::not_voter;
        m.record = rec;
      }),
      make<core::Renew>([&](auto& m) {
        m.resource = core::ResourceName("r");
        m.cfg = rec.id;
        m.record = rec;
      }),
  };
  const auto bytes = encode_ok(header(), msgs, nullptr);
  Decoded d;
  ASSERT_EQ(decode_bytes(bytes, nullptr, d), std::nullopt);
  EXPECT_EQ(d.messages, msgs);

  core::Request initial;
  initial.resource = core::ResourceName("a");
  core::Request tagged = initial;
  tagged.cfg = core::CfgId{1, 1};
  const auto plain_bytes = encode_ok(header(), {initial}, nullptr);
  EXPECT_LT(plain_bytes.size(), encode_ok(header(), {tagged}, nullptr).size());
  ASSERT_EQ(decode_bytes(plain_bytes, nullptr, d), std::nullopt);
  EXPECT_EQ(std::get<core::Request>(d.messages.at(0)).cfg, core::initial_cfg_id);
}

// Issue 19: PONG says why a member is quarantined; a PONG without those
// fields (an older member) reads as "not said".
// A datagram of one message body `body` of type `type`, built in `b` as an
// older member would (only the fields it knew), unauthenticated.
std::vector<std::uint8_t> old_datagram(flatbuffers::FlatBufferBuilder& b, wire::Body type,
                                       flatbuffers::Offset<void> body) {
  const auto msg = wire::CreateMessage(b, type, body);
  const std::vector<flatbuffers::Offset<wire::Message>> msgs = {msg};
  const Header h = header();
  b.Finish(wire::CreateDatagramDirect(b, h.version, h.cluster_id, h.sender.value, h.incarnation.value, h.seq, &msgs),
           wire::DatagramIdentifier());
  return {b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()};
}

TEST(Codec, PongWhyFieldsRoundTripAndAreAbsentFromOlderPongs) {
  const core::Pong why{.nonce = 9, .quarantined = true, .live_leases = 0, .waiters = 0, .floor = core::Token(7),
                       .drops = {}, .mismatches = {}, .start = core::StartKind::peers, .quarantine_left = core::Duration::ms(1500),
                       .floor_answers = 1, .floor_answers_needed = 2, .cfg = core::CfgId{3, 4}};
  const auto bytes = encode_ok(header(), {why}, nullptr);
  Decoded d;
  ASSERT_EQ(decode_bytes(bytes, nullptr, d), std::nullopt);
  EXPECT_EQ(d.messages.at(0), core::Message{why});

  flatbuffers::FlatBufferBuilder b;
  const std::vector<std::uint64_t> drops = {1};
  const auto old_pong = wire::CreatePongDirect(b, 9, true, 0, 0, 7, &drops);  // the fields before issue 19
  const std::vector<std::uint8_t> old_bytes = old_datagram(b, wire::Body::Pong, old_pong.Union());
  ASSERT_EQ(decode_bytes(old_bytes, nullptr, d), std::nullopt);
  const auto& p = std::get<core::Pong>(d.messages.at(0));
  EXPECT_TRUE(p.quarantined);
  EXPECT_EQ(p.start, core::StartKind::unknown);
  EXPECT_EQ(p.quarantine_left, core::Duration::zero());
  EXPECT_EQ(p.floor_answers_needed, 0u);
  EXPECT_EQ(p.cfg, (core::CfgId{0, 0}));  // issue 21: not said
}

TEST(Codec, FloorReplyCarriesTheAnswerersRecordAndAnOlderOneDecodesWithout) {
  const core::FloorReply with{.nonce = 43, .ready = true, .floor = core::Token(9), .record = testing::sample_record(),
                              .promised = 6};
  const auto bytes = encode_ok(header(), {with}, nullptr);
  Decoded d;
  ASSERT_EQ(decode_bytes(bytes, nullptr, d), std::nullopt);
  EXPECT_EQ(d.messages.at(0), core::Message{with});

  flatbuffers::FlatBufferBuilder b;
  const auto old_reply = wire::CreateFloorReply(b, 43, true, 9);  // the fields before issue 21
  const std::vector<std::uint8_t> old_bytes = old_datagram(b, wire::Body::FloorReply, old_reply.Union());
  ASSERT_EQ(decode_bytes(old_bytes, nullptr, d), std::nullopt);
  const auto& r = std::get<core::FloorReply>(d.messages.at(0));
  EXPECT_EQ(r.floor, core::Token(9));
  EXPECT_EQ(r.record, std::nullopt);
  EXPECT_EQ(r.promised, 0u);
}

// V4: RENEW says whether its lease is believed valid (a renewal, not a
// hand-off's confirm round); one from an older member reads as not believed,
// the rule before V4 (docs/protocol.md, "Renewals across a change").
TEST(Codec, RenewBelievedRoundTripsAndAnOlderRenewReadsAsNotBelieved) {
  for (const bool believed : {true, false}) {
    core::Renew r;
    r.resource = core::ResourceName("seat:14A");
    r.token = core::Token(5);
    r.believed = believed;
    const auto bytes = encode_ok(header(), {r}, nullptr);
    Decoded d;
    ASSERT_EQ(decode_bytes(bytes, nullptr, d), std::nullopt);
    EXPECT_EQ(d.messages.at(0), core::Message{r});
  }
  flatbuffers::FlatBufferBuilder b;
  const auto name = b.CreateVector(std::vector<std::uint8_t>{'r'});
  const wire::LeaseId lease(1, 1, 1);
  const auto old_renew = wire::CreateRenew(b, name, &lease, 5, 1000, 2);  // the fields before issue 21
  const std::vector<std::uint8_t> old_bytes = old_datagram(b, wire::Body::Renew, old_renew.Union());
  Decoded d;
  ASSERT_EQ(decode_bytes(old_bytes, nullptr, d), std::nullopt);
  const auto& r = std::get<core::Renew>(d.messages.at(0));
  EXPECT_EQ(r.token, core::Token(5));
  EXPECT_EQ(r.round, 2u);
  EXPECT_FALSE(r.believed);
}

TEST(Codec, TagAddsExactlyTagBytes) {
  const ClusterKey key = make_key(1);
  const auto plain = encode_ok(header(), testing::one_datagram_samples(), nullptr);
  const auto tagged = encode_ok(header(), testing::one_datagram_samples(), &key);
  ASSERT_EQ(tagged.size(), plain.size() + tag_bytes);
  EXPECT_TRUE(std::equal(plain.begin(), plain.end(), tagged.begin()));
}

TEST(Codec, MisalignedInputDecodes) {
  const ClusterKey key = make_key(1);
  const auto bytes = encode_ok(header(), testing::one_datagram_samples(), &key);
  for (std::size_t shift = 1; shift < 8; ++shift) {
    std::vector<std::uint8_t> storage(shift + bytes.size());
    std::copy(bytes.begin(), bytes.end(), storage.begin() + static_cast<std::ptrdiff_t>(shift));
    Decoded d;
    ASSERT_EQ(decode(std::span(storage).subspan(shift), &key, cluster, d), std::nullopt) << shift;
    EXPECT_EQ(d.messages, testing::one_datagram_samples());
  }
}

// ---- encode refusals -----------------------------------------------------

struct RefusalCase {
  const char* name;
  std::vector<core::Message> msgs;
  Errc expected;
};

std::vector<core::Message> many(std::size_t n, const core::Message& m) { return std::vector<core::Message>(n, m); }

TEST(Codec, EncodeRefusesOutOfRangeInput) {
  const core::ResourceName too_long(std::string(core::limits::resource_name_bytes_max + 1, 'n'));
  const core::ResourceName longest(std::string(core::limits::resource_name_bytes_max, 'n'));
  const RefusalCase cases[] = {
      {.name = "no messages", .msgs = {}, .expected = Errc::invalid_argument},
      {.name = "too many messages", .msgs = many(core::limits::messages_per_datagram_max + 1, core::Ping{}),
       .expected = Errc::invalid_argument},
      {.name = "empty name", .msgs = {core::Grant{}}, .expected = Errc::invalid_argument},
      {.name = "name too long", .msgs = {make<core::Free>([&](auto& m) { m.resource = too_long; })}, .expected = Errc::invalid_argument},
      {.name = "negative ttl",
       .msgs = {make<core::Request>([](auto& m) {
         m.resource = core::ResourceName("a");
         m.ttl = core::Duration::ns(-1);
       })},
       .expected = Errc::invalid_argument},
      {.name = "negative renew ttl",
       .msgs = {make<core::Renew>([](auto& m) {
         m.resource = core::ResourceName("a");
         m.ttl = core::Duration::ns(-1);
       })},
       .expected = Errc::invalid_argument},
      {.name = "negative time left",
       .msgs = {make<core::Deny>([](auto& m) {
         m.resource = core::ResourceName("a");
         m.reason = core::DenyReason::held;
         m.time_left = core::Duration::ns(-5);
       })},
       .expected = Errc::invalid_argument},
      {.name = "unqueued, not held",
       .msgs = {make<core::Deny>([](auto& m) {
         m.resource = core::ResourceName("a");
         m.reason = core::DenyReason::stale;
         m.unqueued = true;
       })},
       .expected = Errc::invalid_argument},
      {.name = "deny without reason",
       .msgs = {make<core::Deny>([](auto& m) { m.resource = core::ResourceName("a"); })},
       .expected = Errc::invalid_argument},
      // Issue 21: configuration ids and records.
      {.name = "cfg epoch 0",
       .msgs = {make<core::Request>([](auto& m) {
         m.resource = core::ResourceName("a");
         m.cfg = core::CfgId{0, 0};
       })},
       .expected = Errc::invalid_argument},
      {.name = "record not the tagged one",
       .msgs = {make<core::Renew>([](auto& m) {
         m.resource = core::ResourceName("a");
         m.record = testing::sample_record();
         m.cfg = core::CfgId{m.record->id.epoch + 1, 0};
       })},
       .expected = Errc::invalid_argument},
      {.name = "record voters unsorted",
       .msgs = {make<core::Request>([](auto& m) {
         m.resource = core::ResourceName("a");
         m.record = testing::sample_record();
         std::swap(m.record->old_voters[0], m.record->old_voters[1]);
         m.cfg = m.record->id;
       })},
       .expected = Errc::invalid_argument},
      {.name = "joint record with a join floor",
       .msgs = {make<core::Deny>([](auto& m) {
         m.resource = core::ResourceName("a");
         m.reason = core::DenyReason::config;
         m.record = testing::sample_record();
         m.record->new_voters = {core::MemberId(9)};
       })},
       .expected = Errc::invalid_argument},
      {.name = "record with a held denial",
       .msgs = {make<core::Deny>([](auto& m) {
         m.resource = core::ResourceName("a");
         m.reason = core::DenyReason::held;
         m.record = testing::sample_record();
       })},
       .expected = Errc::invalid_argument},
      {.name = "config ack ok for another id",
       .msgs = {core::ConfigAck{.proposed = {2, 1}, .ok = true, .cfg = {2, 2}, .max_stored = {}, .promised = 2}},
       .expected = Errc::invalid_argument},
      {.name = "config ack with a negative ttl_max",
       .msgs = {core::ConfigAck{.proposed = {2, 1}, .ok = true, .cfg = {2, 1}, .max_stored = {}, .promised = 1,
                                .ttl_max = core::Duration::ns(-1)}},
       .expected = Errc::invalid_argument},
      {.name = "config read reply promise below its record's ballot",
       .msgs = {core::ConfigReadReply{.ballot = 1, .ok = true, .record = testing::sample_record(), .promised = 4}},
       .expected = Errc::invalid_argument},
      {.name = "config propose of an invalid record",
       .msgs = {core::ConfigPropose{.record = core::CfgRecord{}}},
       .expected = Errc::invalid_argument},
      {.name = "record on an ok ack",
       .msgs = {make<core::RenewAck>([](auto& m) {
         m.resource = core::ResourceName("a");
         m.ok = true;
         m.record = testing::sample_record();
       })},
       .expected = Errc::invalid_argument},
      {.name = "unknown deny reason",
       .msgs = {make<core::Deny>([](auto& m) {
         m.resource = core::ResourceName("a");
         m.reason = static_cast<core::DenyReason>(core::deny_reason_max + 1);
       })},
       .expected = Errc::invalid_argument},
      {.name = "unknown renew-ack reason",
       .msgs = {make<core::RenewAck>([](auto& m) {
         m.resource = core::ResourceName("a");
         m.reason = static_cast<core::DenyReason>(200);
       })},
       .expected = Errc::invalid_argument},
      {.name = "token above token_max",
       .msgs = {make<core::Release>([](auto& m) {
         m.resource = core::ResourceName("a");
         m.token = core::Token(core::limits::token_max + 1);
       })},
       .expected = Errc::invalid_argument},
      {.name = "fence above token_max",
       .msgs = {make<core::Free>([](auto& m) {
         m.resource = core::ResourceName("a");
         m.fence = core::Token(UINT64_MAX);
       })},
       .expected = Errc::invalid_argument},
      {.name = "floor above token_max",
       .msgs = {core::FloorReply{.nonce = 1, .ready = true, .floor = core::Token(core::limits::token_max + 1)}},
       .expected = Errc::invalid_argument},
      {.name = "floor reply record from a recovering member",
       .msgs = {core::FloorReply{.nonce = 1, .ready = false, .floor = {}, .record = testing::sample_record(), .promised = 5}},
       .expected = Errc::invalid_argument},
      {.name = "floor reply promise below its record's ballot",
       .msgs = {core::FloorReply{.nonce = 1, .ready = true, .floor = {}, .record = testing::sample_record(), .promised = 4}},
       .expected = Errc::invalid_argument},
      {.name = "floor reply promise without a record",
       .msgs = {core::FloorReply{.nonce = 1, .ready = true, .floor = {}, .record = std::nullopt, .promised = 4}},
       .expected = Errc::invalid_argument},
      {.name = "pong start kind out of range",
       .msgs = {make<core::Pong>([](auto& m) { m.start = static_cast<core::StartKind>(4); })},
       .expected = Errc::invalid_argument},
      {.name = "pong negative quarantine left",
       .msgs = {make<core::Pong>([](auto& m) { m.quarantine_left = core::Duration::ns(-1); })},
       .expected = Errc::invalid_argument},
      {.name = "pong floor answers above the member limit",
       .msgs = {make<core::Pong>([](auto& m) { m.floor_answers_needed = core::limits::members_max + 1; })},
       .expected = Errc::invalid_argument},
      {.name = "too many drop counters",
       .msgs = {make<core::Pong>([](auto& m) { m.drops.resize(drop_reason_count + 1); })},
       .expected = Errc::invalid_argument},
      {.name = "too many config mismatches",
       .msgs = {make<core::Pong>([](auto& m) { m.mismatches.resize(core::limits::pong_mismatches_max + 1); })},
       .expected = Errc::invalid_argument},
      {.name = "incarnation hint of 0", .msgs = {core::IncarnationBehind{}}, .expected = Errc::invalid_argument},
      {.name = "one bad among good",
       .msgs = {core::Ping{}, make<core::Free>([&](auto& m) { m.resource = too_long; }), core::Ping{}},
       .expected = Errc::invalid_argument},
      {.name = "too many bytes",
       .msgs = many(core::limits::messages_per_datagram_max,
                    make<core::Free>([&](auto& m) { m.resource = longest; })),
       .expected = Errc::overloaded},
  };
  const ClusterKey key = make_key(1);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<std::uint8_t> buf(4 * core::limits::datagram_bytes_max);
    Result<std::size_t> r = encode(header(), c.msgs, &key, buf);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), c.expected);
    // A field error is one that encodable() names too.
    const bool count_ok = !c.msgs.empty() && c.msgs.size() <= core::limits::messages_per_datagram_max;
    if (c.expected == Errc::invalid_argument && count_ok) {
      EXPECT_TRUE(std::any_of(c.msgs.begin(), c.msgs.end(), [](const auto& m) { return !encodable(m); }));
    }
  }
}

TEST(Codec, EncodableMatchesEncode) {
  for (const auto& m : samples()) EXPECT_TRUE(encodable(m)) << core::message_name(m);
  EXPECT_FALSE(encodable(core::Grant{}));
  EXPECT_TRUE(encodable(make<core::RenewAck>([](auto& m) {
    m.resource = core::ResourceName("a");
    m.ok = true;
  })));
}

TEST(Codec, EncodeRefusesSmallOutputBuffer) {
  const auto needed = encode_ok(header(), testing::one_datagram_samples(), nullptr).size();
  std::vector<std::uint8_t> buf(needed - 1);
  Result<std::size_t> r = encode(header(), testing::one_datagram_samples(), nullptr, buf);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Errc::overloaded);
  buf.resize(needed);
  EXPECT_TRUE(encode(header(), testing::one_datagram_samples(), nullptr, buf).ok());
}

// ---- the receive order ---------------------------------------------------

TEST(Codec, EnvelopeChecks) {
  const ClusterKey key = make_key(1);
  const ClusterKey other = make_key(2);
  Header v2 = header();
  v2.version = wire_version + 1;
  Header v0 = header();
  v0.version = 0;
  Header elsewhere = header();
  elsewhere.cluster_id = cluster + 1;

  struct Case {
    const char* name;
    std::vector<std::uint8_t> bytes;
    const ClusterKey* key;
    std::optional<DropReason> expected;
  };
  const std::vector<std::uint8_t> good = encode_ok(header(), testing::one_datagram_samples(), &key);
  std::vector<std::uint8_t> flipped_tag = good;
  flipped_tag.back() ^= 0x01;
  const Case cases[] = {
      {.name = "valid", .bytes = good, .key = &key, .expected = std::nullopt},
      {.name = "empty", .bytes = {}, .key = &key, .expected = DropReason::oversized},
      {.name = "empty, no key", .bytes = {}, .key = nullptr, .expected = DropReason::oversized},
      {.name = "one byte too many", .bytes = std::vector<std::uint8_t>(core::limits::datagram_bytes_max + 1),
       .key = &key, .expected = DropReason::oversized},
      {.name = "huge", .bytes = std::vector<std::uint8_t>(65536), .key = nullptr, .expected = DropReason::oversized},
      {.name = "wrong key", .bytes = good, .key = &other, .expected = DropReason::bad_auth},
      {.name = "flipped tag bit", .bytes = flipped_tag, .key = &key, .expected = DropReason::bad_auth},
      {.name = "untagged under a key", .bytes = encode_ok(header(), testing::one_datagram_samples(), nullptr), .key = &key,
       .expected = DropReason::bad_auth},
      {.name = "shorter than a tag", .bytes = std::vector<std::uint8_t>(tag_bytes), .key = &key,
       .expected = DropReason::bad_auth},
      {.name = "newer version", .bytes = encode_ok(v2, testing::one_datagram_samples(), &key), .key = &key,
       .expected = DropReason::wrong_version},
      {.name = "version 0", .bytes = encode_ok(v0, testing::one_datagram_samples(), nullptr), .key = nullptr,
       .expected = DropReason::wrong_version},
      {.name = "other cluster", .bytes = encode_ok(elsewhere, testing::one_datagram_samples(), &key), .key = &key,
       .expected = DropReason::wrong_cluster},
      {.name = "other cluster and key", .bytes = encode_ok(elsewhere, testing::one_datagram_samples(), &other), .key = &key,
       .expected = DropReason::bad_auth},
      {.name = "zeros", .bytes = std::vector<std::uint8_t>(64), .key = nullptr, .expected = DropReason::malformed},
      {.name = "tagged, no key: verifier ignores the trailing tag", .bytes = good, .key = nullptr,
       .expected = std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Decoded d;
    EXPECT_EQ(decode(c.bytes, c.key, cluster, d), c.expected);
  }
}

// ---- hostile bytes -------------------------------------------------------

TEST(Codec, EveryTruncationIsRejected) {
  const ClusterKey key = make_key(1);
  const auto keyed = encode_ok(header(), testing::one_datagram_samples(), &key);
  const auto plain = encode_ok(header(), testing::one_datagram_samples(), nullptr);
  for (std::size_t n = 0; n < keyed.size(); ++n) {
    Decoded d;
    EXPECT_NE(decode(std::span(keyed).first(n), &key, cluster, d), std::nullopt) << n;
  }
  // Without a tag, cutting off the builder's trailing alignment padding leaves
  // a buffer that still verifies; anything that decodes must decode to the
  // original, everything else must be rejected.
  std::size_t accepted = 0;
  for (std::size_t n = 0; n < plain.size(); ++n) {
    Decoded d;
    if (decode(std::span(plain).first(n), nullptr, cluster, d) == std::nullopt) {
      ++accepted;
      EXPECT_EQ(d.messages, testing::one_datagram_samples()) << n;
      EXPECT_EQ(d.header, header()) << n;
    }
  }
  EXPECT_LT(accepted, 8u);
}

TEST(Codec, EveryFlippedBitUnderAKeyIsBadAuth) {
  const ClusterKey key = make_key(1);
  const auto good = encode_ok(header(), testing::one_datagram_samples(), &key);
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      auto bad = good;
      bad[i] ^= static_cast<std::uint8_t>(1U << bit);
      Decoded d;
      ASSERT_EQ(decode(bad, &key, cluster, d), DropReason::bad_auth) << i << ":" << bit;
    }
  }
}

// Without a key nothing protects the bytes: a flipped bit may still decode
// (a changed token, say), but then it must be a valid datagram that re-encodes
// to an equivalent one. Mostly, it is rejected.
TEST(Codec, EveryFlippedBitWithoutKeyIsRejectedOrValid) {
  const auto good = encode_ok(header(), testing::one_datagram_samples(), nullptr);
  std::set<DropReason> seen;
  std::size_t overloaded = 0;
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      auto bad = good;
      bad[i] ^= static_cast<std::uint8_t>(1U << bit);
      Decoded d;
      if (auto why = decode(bad, nullptr, cluster, d)) {
        seen.insert(*why);
        continue;
      }
      // Every decoded message re-encodes. The datagram as a whole may not
      // fit again: a flipped length or offset can make fields share bytes
      // (a PONG's mismatch list grown over its neighbours), and the encoder
      // writes every field out. Then each message must fit alone.
      std::vector<std::uint8_t> buf(core::limits::datagram_bytes_max);
      const Result<std::size_t> whole = encode(d.header, d.messages, nullptr, buf);
      if (!whole.ok()) {
        ASSERT_EQ(whole.code(), Errc::overloaded) << whole.what();
        for (const core::Message& m : d.messages) {
          const auto alone = encode_ok(d.header, {m}, nullptr);
          Decoded d2;
          ASSERT_EQ(decode(alone, nullptr, cluster, d2), std::nullopt);
          EXPECT_EQ(d2.messages, std::vector<core::Message>{m});
        }
        ++overloaded;
        continue;
      }
      buf.resize(*whole);
      Decoded d2;
      ASSERT_EQ(decode(buf, nullptr, cluster, d2), std::nullopt);
      EXPECT_EQ(d2.messages, d.messages);
      EXPECT_EQ(d2.header, d.header);
    }
  }
  // The exception stays one: a handful of the flips at most.
  EXPECT_LE(overloaded, 16u);
  EXPECT_TRUE(seen.count(DropReason::malformed));
  EXPECT_TRUE(seen.count(DropReason::wrong_cluster));
  EXPECT_TRUE(seen.count(DropReason::wrong_version));
}

TEST(Codec, RandomBytesAreRejected) {
  const ClusterKey key = make_key(1);
  core::Rng rng(20240611);
  const auto good = encode_ok(header(), testing::one_datagram_samples(), nullptr);
  for (int iter = 0; iter < 20000; ++iter) {
    std::vector<std::uint8_t> b;
    if (iter % 2 == 0) {
      b.resize(rng.uniform(core::limits::datagram_bytes_max));
      for (auto& x : b) x = static_cast<std::uint8_t>(rng.next());
    } else {
      // A valid datagram with a few random bytes overwritten: gets past the
      // identifier and root offset far more often than pure noise.
      b = good;
      for (int k = 0; k < 4; ++k) b[rng.uniform(b.size() - 1)] = static_cast<std::uint8_t>(rng.next());
    }
    Decoded d;
    ASSERT_EQ(decode(b, &key, cluster, d), b.empty() ? DropReason::oversized : DropReason::bad_auth);
    if (decode(b, nullptr, cluster, d) == std::nullopt) {
      for (const auto& m : d.messages) ASSERT_TRUE(encodable(m));
    }
  }
}

// ---- hand-built FlatBuffers -------------------------------------------------
// The encoder refuses to write these, so the tests build them field by field.

namespace fb = flatbuffers;

using BodyFn = std::function<std::pair<wire::Body, fb::Offset<void>>(fb::FlatBufferBuilder&)>;

std::vector<std::uint8_t> build(const std::vector<BodyFn>& bodies, bool with_messages_vector = true) {
  fb::FlatBufferBuilder b;
  std::vector<fb::Offset<wire::Message>> msgs;
  for (const auto& f : bodies) {
    auto [type, off] = f(b);
    msgs.push_back(wire::CreateMessage(b, type, off));
  }
  fb::Offset<fb::Vector<fb::Offset<wire::Message>>> vec = 0;
  if (with_messages_vector) vec = b.CreateVector(msgs);
  const Header h = header();
  wire::DatagramBuilder db(b);
  db.add_version(h.version);
  db.add_cluster_id(h.cluster_id);
  db.add_sender(h.sender.value);
  db.add_incarnation(h.incarnation.value);
  db.add_seq(h.seq);
  if (with_messages_vector) db.add_messages(vec);
  // EndTable, not Finish(): Finish() asserts the required fields.
  const auto root = fb::Offset<wire::Datagram>(b.EndTable(db.start_));
  b.Finish(root, wire::DatagramIdentifier());
  return {b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()};
}

std::pair<wire::Body, fb::Offset<void>> ping(fb::FlatBufferBuilder& b) {
  return {wire::Body::Ping, wire::CreatePing(b, 1).Union()};
}

BodyFn request_with(std::string name, std::int64_t ttl_ns, bool with_lease = true, std::uint64_t token = 0) {
  return [=](fb::FlatBufferBuilder& b) {
    const auto r = b.CreateVector(reinterpret_cast<const std::uint8_t*>(name.data()), name.size());
    const wire::LeaseId l(1, 2, 3);
    const auto start = b.StartTable();
    b.AddOffset(wire::Request::VT_RESOURCE, r);
    if (with_lease) b.AddStruct(wire::Request::VT_LEASE, &l);
    b.AddElement<std::int64_t>(wire::Request::VT_TTL_NS, ttl_ns, 0);
    b.AddElement<std::uint64_t>(wire::Request::VT_TOKEN, token, 0);
    return std::pair{wire::Body::Request, fb::Offset<void>(b.EndTable(start))};
  };
}

BodyFn deny_with(std::uint8_t reason, std::int64_t time_left_ns, bool unqueued = false) {
  return [=](fb::FlatBufferBuilder& b) {
    const auto r = b.CreateVector(reinterpret_cast<const std::uint8_t*>("x"), 1);
    const wire::LeaseId l(1, 2, 3);
    const auto start = b.StartTable();
    b.AddOffset(wire::Deny::VT_RESOURCE, r);
    b.AddStruct(wire::Deny::VT_LEASE, &l);
    b.AddElement<std::uint8_t>(wire::Deny::VT_REASON, reason, 0);
    b.AddElement<std::int64_t>(wire::Deny::VT_TIME_LEFT_NS, time_left_ns, 0);
    b.AddElement<std::uint8_t>(wire::Deny::VT_UNQUEUED, unqueued ? 1 : 0, 0);
    return std::pair{wire::Body::Deny, fb::Offset<void>(b.EndTable(start))};
  };
}

BodyFn renew_ack_with(std::uint8_t reason) {
  return [=](fb::FlatBufferBuilder& b) {
    const auto r = b.CreateVector(reinterpret_cast<const std::uint8_t*>("x"), 1);
    const wire::LeaseId l(1, 2, 3);
    const auto start = b.StartTable();
    b.AddOffset(wire::RenewAck::VT_RESOURCE, r);
    b.AddStruct(wire::RenewAck::VT_LEASE, &l);
    b.AddElement<std::uint8_t>(wire::RenewAck::VT_REASON, reason, 0);
    return std::pair{wire::Body::RenewAck, fb::Offset<void>(b.EndTable(start))};
  };
}

using core::CfgId;
using V = std::vector<std::uint32_t>;

std::vector<std::uint32_t> ids_from(std::uint32_t first, std::uint32_t n) {
  std::vector<std::uint32_t> v;
  for (std::uint32_t i = 0; i < n; ++i) v.push_back(first + i);
  return v;
}

// A REQUEST tagged `cfg`, with a record of these fields if `voters` is set
// (its id `rec_id`, the tag unless given; nullopt: the id left out).
BodyFn request_cfg(CfgId cfg, std::optional<std::vector<std::uint32_t>> voters = std::nullopt,
                   std::vector<std::uint32_t> new_voters = {}, std::uint64_t floor = 0,
                   std::optional<std::optional<CfgId>> rec_id = std::nullopt) {
  return [=](fb::FlatBufferBuilder& b) {
    fb::Offset<wire::CfgRecord> rec = 0;
    if (voters) {
      const auto old_v = b.CreateVector(*voters);
      const auto new_v = b.CreateVector(new_voters);
      const std::optional<CfgId> id = rec_id ? *rec_id : std::optional<CfgId>(cfg);
      const wire::CfgId wid(id ? id->epoch : 0, id ? id->ballot : 0);
      // By hand: the generated CreateCfgRecord asserts (in debug builds) that
      // the required id is there.
      const auto start = b.StartTable();
      b.AddElement<std::uint64_t>(wire::CfgRecord::VT_FLOOR, floor, 0);
      b.AddOffset(wire::CfgRecord::VT_NEW_VOTERS, new_v);
      b.AddOffset(wire::CfgRecord::VT_VOTERS, old_v);
      if (id) b.AddStruct(wire::CfgRecord::VT_ID, &wid);
      rec = fb::Offset<wire::CfgRecord>(b.EndTable(start));
    }
    const auto r = b.CreateVector(reinterpret_cast<const std::uint8_t*>("a"), 1);
    const wire::LeaseId l(1, 2, 3);
    const wire::CfgId tag(cfg.epoch, cfg.ballot);
    return std::pair{wire::Body::Request, wire::CreateRequest(b, r, &l, 5, 1, &tag, rec).Union()};
  };
}

BodyFn pong_with(std::size_t drops, std::size_t mismatches = 0) {
  return [=](fb::FlatBufferBuilder& b) {
    const std::vector<std::uint64_t> d(drops, 9);
    const std::vector<wire::ConfigMismatch> m(mismatches, wire::ConfigMismatch(3, 0xabc, 1));
    return std::pair{wire::Body::Pong, wire::CreatePongDirect(b, 1, false, 0, 0, 0, &d, &m).Union()};
  };
}

// A PONG with the fields issue 19 appended, raw (so out-of-range values get through).
BodyFn pong_why(std::uint8_t start, std::int64_t left_ns, std::uint32_t answers, std::uint32_t needed) {
  return [=](fb::FlatBufferBuilder& b) {
    const auto t = b.StartTable();
    b.AddElement<std::uint64_t>(wire::Pong::VT_NONCE, 1, 0);
    b.AddElement<std::uint8_t>(wire::Pong::VT_START, start, 0);
    b.AddElement<std::int64_t>(wire::Pong::VT_QUARANTINE_LEFT_NS, left_ns, 0);
    b.AddElement<std::uint32_t>(wire::Pong::VT_FLOOR_ANSWERS, answers, 0);
    b.AddElement<std::uint32_t>(wire::Pong::VT_FLOOR_ANSWERS_NEEDED, needed, 0);
    return std::pair{wire::Body::Pong, fb::Offset<void>(b.EndTable(t))};
  };
}

BodyFn free_without_name() {
  return [](fb::FlatBufferBuilder& b) {
    const auto start = b.StartTable();
    b.AddElement<std::uint64_t>(wire::Free::VT_FENCE, 5, 0);
    return std::pair{wire::Body::Free, fb::Offset<void>(b.EndTable(start))};
  };
}

BodyFn incarnation_behind(std::uint64_t seen) {
  return [=](fb::FlatBufferBuilder& b) {
    return std::pair{wire::Body::IncarnationBehind, wire::CreateIncarnationBehind(b, seen).Union()};
  };
}

// Issue 21 step 4: a CONFIG_CHANGE (expect left out if nullopt) and a
// CONFIG_CHANGE_REPLY with raw state and outcome numbers and a detail of
// `detail_bytes` characters.
BodyFn config_change(std::uint64_t nonce, std::optional<CfgId> expect, std::vector<std::uint32_t> voters) {
  return [=](fb::FlatBufferBuilder& b) {
    const auto v = b.CreateVector(voters);
    const wire::CfgId e(expect ? expect->epoch : 0, expect ? expect->ballot : 0);
    const auto t = b.StartTable();
    b.AddElement<std::uint64_t>(wire::ConfigChange::VT_NONCE, nonce, 0);
    if (expect) b.AddStruct(wire::ConfigChange::VT_EXPECT, &e);
    b.AddOffset(wire::ConfigChange::VT_VOTERS, v);
    return std::pair{wire::Body::ConfigChange, fb::Offset<void>(b.EndTable(t))};
  };
}

BodyFn change_reply(std::uint8_t state, std::uint8_t outcome, std::size_t detail_bytes) {
  return [=](fb::FlatBufferBuilder& b) {
    const std::vector<std::uint32_t> voters = {1, 2, 3};
    const auto detail = b.CreateString(std::string(detail_bytes, 'x'));
    const wire::CfgId id(2, 5);
    const auto v = b.CreateVector(voters);
    const auto rs = b.StartTable();
    b.AddOffset(wire::CfgRecord::VT_VOTERS, v);
    b.AddStruct(wire::CfgRecord::VT_ID, &id);
    const auto record = fb::Offset<wire::CfgRecord>(b.EndTable(rs));
    const auto t = b.StartTable();
    b.AddElement<std::uint64_t>(wire::ConfigChangeReply::VT_NONCE, 9, 0);
    b.AddOffset(wire::ConfigChangeReply::VT_RECORD, record);
    b.AddOffset(wire::ConfigChangeReply::VT_DETAIL, detail);
    b.AddElement<std::uint8_t>(wire::ConfigChangeReply::VT_STATE, state, 0);
    b.AddElement<std::uint8_t>(wire::ConfigChangeReply::VT_OUTCOME, outcome, 0);
    return std::pair{wire::Body::ConfigChangeReply, fb::Offset<void>(b.EndTable(t))};
  };
}

BodyFn typed(wire::Body type) {
  return [=](fb::FlatBufferBuilder& b) { return std::pair{type, wire::CreatePing(b, 1).Union()}; };
}

BodyFn no_body() {
  return [](fb::FlatBufferBuilder&) { return std::pair{wire::Body::NONE, fb::Offset<void>(0)}; };
}

TEST(Codec, HandBuiltOutOfRangeFieldsAreMalformed) {
  const std::string longest(core::limits::resource_name_bytes_max, 'n');
  const std::size_t drop_reasons = drop_reason_count;
  struct Case {
    const char* name;
    std::vector<BodyFn> bodies;
    bool with_messages_vector = true;
    std::optional<DropReason> expected = DropReason::malformed;
  };
  const Case cases[] = {
      // Controls: the hand builder itself produces decodable datagrams.
      {.name = "control: ping", .bodies = {ping}, .expected = std::nullopt},
      {.name = "control: longest name", .bodies = {request_with(longest, 5)}, .expected = std::nullopt},
      {.name = "control: zero ttl", .bodies = {request_with("a", 0)}, .expected = std::nullopt},
      {.name = "control: token token_max", .bodies = {request_with("a", 5, true, core::limits::token_max)},
       .expected = std::nullopt},
      {.name = "control: deny reason 9", .bodies = {deny_with(9, 0)}, .expected = std::nullopt},
      {.name = "control: held, unqueued", .bodies = {deny_with(1, 0, true)}, .expected = std::nullopt},
      {.name = "control: renew-ack reason 0", .bodies = {renew_ack_with(0)}, .expected = std::nullopt},
      {.name = "control: a counter per drop reason", .bodies = {pong_with(drop_reasons)}, .expected = std::nullopt},
      {.name = "control: pong_mismatches_max mismatches",
       .bodies = {pong_with(0, core::limits::pong_mismatches_max)}, .expected = std::nullopt},
      {.name = "control: incarnation hint 1", .bodies = {incarnation_behind(1)}, .expected = std::nullopt},
      {.name = "control: pong why, peers, 64 of 64", .bodies = {pong_why(3, 5, 64, 64)}, .expected = std::nullopt},
      {.name = "control: 32 messages",
       .bodies = std::vector<BodyFn>(core::limits::messages_per_datagram_max, ping), .expected = std::nullopt},

      {.name = "no messages vector", .bodies = {ping}, .with_messages_vector = false},
      {.name = "zero messages", .bodies = {}},
      {.name = "33 messages", .bodies = std::vector<BodyFn>(core::limits::messages_per_datagram_max + 1, ping)},
      {.name = "empty name", .bodies = {request_with("", 5)}},
      {.name = "name too long", .bodies = {request_with(longest + "n", 5)}},
      {.name = "negative ttl", .bodies = {request_with("a", -1)}},
      {.name = "missing lease", .bodies = {request_with("a", 5, false)}},
      // A member that took it would assert on its next acquire (token + 1).
      {.name = "token above token_max", .bodies = {request_with("a", 5, true, core::limits::token_max + 1)}},
      {.name = "token UINT64_MAX", .bodies = {request_with("a", 5, true, UINT64_MAX)}},
      {.name = "missing name", .bodies = {free_without_name()}},
      {.name = "deny reason 0", .bodies = {deny_with(0, 0)}},
      {.name = "deny reason 10", .bodies = {deny_with(10, 0)}},
      {.name = "deny reason 255", .bodies = {deny_with(255, 0)}},
      {.name = "negative time left", .bodies = {deny_with(1, -1)}},
      {.name = "unqueued with reason stale", .bodies = {deny_with(2, 0, true)}},
      {.name = "unqueued with reason overloaded", .bodies = {deny_with(5, 0, true)}},
      {.name = "renew-ack reason 10", .bodies = {renew_ack_with(10)}},
      {.name = "a drop counter too many", .bodies = {pong_with(drop_reasons + 1)}},
      {.name = "a config mismatch too many", .bodies = {pong_with(0, core::limits::pong_mismatches_max + 1)}},
      {.name = "incarnation hint 0", .bodies = {incarnation_behind(0)}},
      {.name = "incarnation hint absent (reads as 0)", .bodies = {[](fb::FlatBufferBuilder& b) {
         return std::pair{wire::Body::IncarnationBehind, fb::Offset<void>(b.EndTable(b.StartTable()))};
       }}},
      {.name = "pong start kind 4", .bodies = {pong_why(4, 0, 0, 0)}},
      {.name = "pong negative quarantine left", .bodies = {pong_why(2, -1, 0, 0)}},
      {.name = "pong 65 floor answers", .bodies = {pong_why(3, 0, 65, 2)}},
      {.name = "pong 65 floor answers needed", .bodies = {pong_why(3, 0, 0, 65)}},
      {.name = "unknown union type",
       .bodies = {typed(static_cast<wire::Body>(static_cast<int>(wire::Body::MAX) + 1))}},
      {.name = "union type 255", .bodies = {typed(static_cast<wire::Body>(255))}},
      {.name = "no body", .bodies = {no_body()}},
      {.name = "bad one after good ones", .bodies = {ping, ping, deny_with(10, 0)}},
      // Issue 21: configuration ids and records.
      {.name = "control: request tagged (2, 5) with its record",
       .bodies = {request_cfg(CfgId{2, 5}, V{1, 2, 4}, {}, 0)}, .expected = std::nullopt},
      {.name = "control: request tagged (2, 5) without a record", .bodies = {request_cfg(CfgId{2, 5})},
       .expected = std::nullopt},
      {.name = "control: joint record of 64 and 64",
       .bodies = {request_cfg(CfgId{3, 1}, ids_from(1, 64), ids_from(65, 64), 0)}, .expected = std::nullopt},
      {.name = "cfg epoch 0", .bodies = {request_cfg(CfgId{0, 5})}},
      {.name = "record of another id", .bodies = {request_cfg(CfgId{2, 5}, V{1, 2, 4}, {}, 0, CfgId{2, 6})}},
      {.name = "record without an id",
       .bodies = {request_cfg(CfgId{2, 5}, V{1, 2, 4}, {}, 0, std::optional<CfgId>{})}},
      {.name = "record without voters", .bodies = {request_cfg(CfgId{2, 5}, V{}, {}, 0)}},
      {.name = "record voters unsorted", .bodies = {request_cfg(CfgId{2, 5}, V{2, 1}, {}, 0)}},
      {.name = "record voter repeated", .bodies = {request_cfg(CfgId{2, 5}, V{1, 1}, {}, 0)}},
      {.name = "record voter 0", .bodies = {request_cfg(CfgId{2, 5}, V{0, 1}, {}, 0)}},
      {.name = "record voter a client id", .bodies = {request_cfg(CfgId{2, 5}, V{1, 0x80000001U}, {}, 0)}},
      {.name = "record of 65 voters", .bodies = {request_cfg(CfgId{2, 5}, ids_from(1, 65), {}, 0)}},
      {.name = "joint record with a join floor", .bodies = {request_cfg(CfgId{2, 5}, V{1}, {2}, 7)}},
      {.name = "join floor above token_max",
       .bodies = {request_cfg(CfgId{2, 5}, V{1}, {}, core::limits::token_max + 1)}},
      // Issue 21 step 4: CONFIG_CHANGE and CONFIG_CHANGE_REPLY.
      {.name = "control: config change of 64 voters", .bodies = {config_change(1, CfgId{3, 1}, ids_from(1, 64))},
       .expected = std::nullopt},
      {.name = "control: config change reply, done, timed out, longest detail",
       .bodies = {change_reply(3, 3, core::limits::config_change_detail_max)}, .expected = std::nullopt},
      {.name = "control: config change reply, refused", .bodies = {change_reply(4, 0, 5)}, .expected = std::nullopt},
      {.name = "config change nonce 0", .bodies = {config_change(0, CfgId{3, 1}, V{1, 2})}},
      {.name = "config change without expect", .bodies = {config_change(1, std::nullopt, V{1, 2})}},
      {.name = "config change expect epoch 0", .bodies = {config_change(1, CfgId{0, 1}, V{1, 2})}},
      {.name = "config change no voters", .bodies = {config_change(1, CfgId{3, 1}, V{})}},
      {.name = "config change voters unsorted", .bodies = {config_change(1, CfgId{3, 1}, V{2, 1})}},
      {.name = "config change voter repeated", .bodies = {config_change(1, CfgId{3, 1}, V{1, 1})}},
      {.name = "config change voter 0", .bodies = {config_change(1, CfgId{3, 1}, V{0, 1})}},
      {.name = "config change voter a client id", .bodies = {config_change(1, CfgId{3, 1}, V{1, 0x80000001U})}},
      {.name = "config change of 65 voters", .bodies = {config_change(1, CfgId{3, 1}, ids_from(1, 65))}},
      {.name = "config change reply state 0", .bodies = {change_reply(0, 0, 0)}},
      {.name = "config change reply state 5", .bodies = {change_reply(5, 0, 0)}},
      {.name = "config change reply done without outcome", .bodies = {change_reply(3, 0, 0)}},
      {.name = "config change reply outcome 4", .bodies = {change_reply(3, 4, 0)}},
      {.name = "config change reply running with an outcome", .bodies = {change_reply(2, 1, 0)}},
      {.name = "config change reply detail too long",
       .bodies = {change_reply(4, 0, core::limits::config_change_detail_max + 1)}},
  };
  const ClusterKey key = make_key(1);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto bytes = build(c.bodies, c.with_messages_vector);
    Decoded d;
    EXPECT_EQ(decode(bytes, nullptr, cluster, d), c.expected);
    // The same under a valid tag: authenticity does not excuse bad fields.
    if (bytes.size() + tag_bytes <= core::limits::datagram_bytes_max) {
      std::array<std::uint8_t, tag_bytes> tag{};
      auth_tag(bytes, key, tag);
      bytes.insert(bytes.end(), tag.begin(), tag.end());
      EXPECT_EQ(decode(bytes, &key, cluster, d), c.expected);
    }
  }
}

TEST(Codec, DatagramOfThePreviousLayoutDecodesWithoutFingerprint) {
  // build() writes the Datagram table as senders before config_fingerprint
  // did (no such field): it decodes, and reads as no_fingerprint, which the
  // Receiver does not check (wire/README.md, versioning).
  const auto bytes = build({ping});
  Decoded d;
  ASSERT_EQ(decode(bytes, nullptr, cluster, d), std::nullopt);
  Header want = header();
  want.config_fingerprint = no_fingerprint;
  EXPECT_EQ(d.header, want);
  // And the field is really there when set (not left out as a default).
  const auto now = encode_ok(header(), {core::Ping{.nonce = 1}}, nullptr);
  ASSERT_EQ(decode(now, nullptr, cluster, d), std::nullopt);
  EXPECT_EQ(d.header.config_fingerprint, header().config_fingerprint);
  EXPECT_GT(now.size(), bytes.size());
}

}  // namespace
}  // namespace baton::codec
