// SPDX-License-Identifier: Apache-2.0
// Packer: grouping by destination, order, sequence numbers, splitting by the
// message and byte limits, and dropping what cannot be encoded.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "codec/codec.hpp"
#include "core/rng.hpp"
#include "sample_messages.hpp"

namespace baton::codec {
namespace {

constexpr std::uint64_t cluster = 99;
const core::MemberId self(1);
const core::Incarnation incarnation(5);
constexpr std::uint64_t fingerprint = 0x5eed5eed5eed5eedULL;

ClusterKey key() {
  ClusterKey k;
  k.bytes.fill(0x42);
  return k;
}

core::Message named_free(std::size_t i, std::size_t name_bytes) {
  std::string name = std::to_string(i);
  name.resize(std::max(name_bytes, name.size()), '.');
  return core::Free{.resource = core::ResourceName(name), .fence = core::Token(i)};
}

// Decodes every datagram (keyed) and returns the messages per destination, in
// arrival order, checking the invariants every datagram must meet.
std::map<core::MemberId, std::vector<core::Message>> unpack(const std::vector<Datagram>& out,
                                                            std::uint64_t first_seq) {
  std::map<core::MemberId, std::vector<core::Message>> got;
  const ClusterKey k = key();
  std::uint64_t seq = first_seq;
  for (const Datagram& d : out) {
    EXPECT_LE(d.bytes.size(), core::limits::datagram_bytes_max);
    Decoded dec;
    EXPECT_EQ(decode(d.bytes, &k, cluster, dec), std::nullopt);
    EXPECT_EQ(dec.header.sender, self);
    EXPECT_EQ(dec.header.incarnation, incarnation);
    EXPECT_EQ(dec.header.config_fingerprint, fingerprint);
    EXPECT_EQ(dec.header.seq, seq++);
    EXPECT_GE(dec.messages.size(), 1u);
    EXPECT_LE(dec.messages.size(), core::limits::messages_per_datagram_max);
    auto& v = got[d.to];
    v.insert(v.end(), dec.messages.begin(), dec.messages.end());
  }
  return got;
}

TEST(Packer, OneMessageOneDatagram) {
  Packer p(cluster, self, incarnation, fingerprint, key());
  EXPECT_EQ(p.next_seq(), 1u);
  const std::vector<core::Outgoing> in = {{.to = core::MemberId(2), .msg = core::Ping{.nonce = 3}}};
  std::vector<Datagram> out;
  p.pack(in, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to, core::MemberId(2));
  const auto got = unpack(out, 1);
  EXPECT_EQ(got.at(core::MemberId(2)), std::vector<core::Message>{in[0].msg});
  EXPECT_EQ(p.next_seq(), 2u);
  EXPECT_EQ(p.dropped(), 0u);
}

TEST(Packer, GroupsByDestinationKeepingOrder) {
  Packer p(cluster, self, incarnation, fingerprint, key());
  std::vector<core::Outgoing> in;
  std::map<core::MemberId, std::vector<core::Message>> want;
  const auto s = testing::samples();
  for (std::size_t i = 0; i < 30; ++i) {
    const core::MemberId to(static_cast<std::uint32_t>(4 - i % 3));  // 4, 3, 2, 4, ...
    in.push_back({.to = to, .msg = s[i % s.size()]});
    want[to].push_back(s[i % s.size()]);
  }
  std::vector<Datagram> out;
  p.pack(in, out);
  ASSERT_EQ(out.size(), 3u);  // 10 small messages per destination fit one datagram each
  EXPECT_EQ(out[0].to, core::MemberId(2));
  EXPECT_EQ(out[1].to, core::MemberId(3));
  EXPECT_EQ(out[2].to, core::MemberId(4));
  EXPECT_EQ(unpack(out, 1), want);
}

TEST(Packer, TheFirstDestinationRotatesBetweenCalls) {
  // The same fan-out four times: each call starts just after the destination
  // that went first in the previous one, so no member is always served last.
  Packer p(cluster, self, incarnation, fingerprint, key());
  const std::vector<core::Outgoing> in = {{.to = core::MemberId(2), .msg = core::Ping{.nonce = 1}},
                                          {.to = core::MemberId(5), .msg = core::Ping{.nonce = 2}},
                                          {.to = core::MemberId(3), .msg = core::Ping{.nonce = 3}}};
  const std::vector<std::vector<std::uint32_t>> want = {{2, 3, 5}, {3, 5, 2}, {5, 2, 3}, {2, 3, 5}};
  for (const auto& order : want) {
    std::vector<Datagram> out;
    p.pack(in, out);
    std::vector<std::uint32_t> got;
    for (const Datagram& d : out) got.push_back(d.to.value);
    EXPECT_EQ(got, order);
  }
}

TEST(Packer, SplitsByMessageCountAndBytes) {
  struct Case {
    const char* name;
    std::size_t count;
    std::size_t name_bytes;
    std::size_t datagrams_min;  // at least this many datagrams are needed
  };
  const Case cases[] = {
      {.name = "small: split by count", .count = 100, .name_bytes = 1, .datagrams_min = 4},
      {.name = "largest: split by bytes", .count = 100, .name_bytes = core::limits::resource_name_bytes_max,
       .datagrams_min = 100 * core::limits::resource_name_bytes_max / core::limits::datagram_bytes_max + 1},
      {.name = "exactly one full datagram", .count = core::limits::messages_per_datagram_max, .name_bytes = 1,
       .datagrams_min = 1},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Packer p(cluster, self, incarnation, fingerprint, key());
    std::vector<core::Outgoing> in;
    std::vector<core::Message> want;
    for (std::size_t i = 0; i < c.count; ++i) {
      in.push_back({.to = core::MemberId(7), .msg = named_free(i, c.name_bytes)});
      want.push_back(in.back().msg);
    }
    std::vector<Datagram> out;
    p.pack(in, out);
    EXPECT_GE(out.size(), c.datagrams_min);
    EXPECT_EQ(unpack(out, 1).at(core::MemberId(7)), want);
    EXPECT_EQ(p.next_seq(), out.size() + 1);

    // As few as fit: each datagram but the last was closed because the next
    // message would not have fitted (by count or by bytes).
    const ClusterKey k = key();
    std::size_t next = 0;
    for (std::size_t d = 0; d < out.size(); ++d) {
      Decoded dec;
      ASSERT_EQ(decode(out[d].bytes, &k, cluster, dec), std::nullopt);
      next += dec.messages.size();
      if (d + 1 == out.size()) break;
      if (dec.messages.size() == core::limits::messages_per_datagram_max) continue;
      dec.messages.push_back(want[next]);
      std::vector<std::uint8_t> buf(core::limits::datagram_bytes_max);
      Result<std::size_t> r = encode(dec.header, dec.messages, &k, buf);
      ASSERT_FALSE(r.ok()) << "datagram " << d << " had room for one more";
      EXPECT_EQ(r.code(), Errc::overloaded);
    }
  }
}

// Seeded random outboxes: mixed types, name lengths and destinations. Every
// datagram decodes, each destination receives exactly its messages in order.
TEST(Packer, RandomOutboxesArriveCompleteAndInOrder) {
  core::Rng rng(7);
  const auto kinds = testing::samples();
  for (int iter = 0; iter < 50; ++iter) {
    Packer p(cluster, self, incarnation, fingerprint, key());
    std::vector<core::Outgoing> in;
    std::map<core::MemberId, std::vector<core::Message>> want;
    const std::size_t n = rng.uniform(300);
    for (std::size_t i = 0; i < n; ++i) {
      core::Message m = kinds[rng.uniform(kinds.size() - 1)];
      std::visit(
          [&](auto& alt) {
            if constexpr (requires { alt.resource; }) {
              alt.resource = core::ResourceName(
                  std::string(1 + rng.uniform(core::limits::resource_name_bytes_max - 1), static_cast<char>(i)));
            }
          },
          m);
      const core::MemberId to(static_cast<std::uint32_t>(2 + rng.uniform(4)));
      in.push_back({.to = to, .msg = m});
      want[to].push_back(m);
    }
    std::vector<Datagram> out;
    p.pack(in, out);
    ASSERT_EQ(unpack(out, 1), want) << "iteration " << iter;
    EXPECT_EQ(p.dropped(), 0u);
  }
}

TEST(Packer, SequenceNumbersIncreaseAcrossCalls) {
  Packer p(cluster, self, incarnation, fingerprint, key());
  std::vector<Datagram> out;
  for (int call = 0; call < 3; ++call) {
    const std::vector<core::Outgoing> in = {{.to = core::MemberId(2), .msg = core::Ping{}},
                                            {.to = core::MemberId(3), .msg = core::Ping{}}};
    p.pack(in, out);
  }
  ASSERT_EQ(out.size(), 6u);
  unpack(out, 1);  // checks seq 1..6 in order
  EXPECT_EQ(p.next_seq(), 7u);
}

TEST(Packer, DropsWhatCannotBeEncodedAndSendsTheRest) {
  Packer p(cluster, self, incarnation, fingerprint, key());
  const core::ResourceName too_long(std::string(core::limits::resource_name_bytes_max + 1, 'z'));
  const std::vector<core::Outgoing> in = {
      {.to = core::MemberId(2), .msg = core::Ping{.nonce = 1}},
      {.to = core::MemberId(2), .msg = testing::make<core::Grant>([&](auto& m) { m.resource = too_long; })},
      {.to = core::MemberId(3), .msg = core::Grant{}},  // empty name
      {.to = core::MemberId(2), .msg = core::Ping{.nonce = 2}},
  };
  std::vector<Datagram> out;
  p.pack(in, out);
  EXPECT_EQ(p.dropped(), 2u);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(unpack(out, 1).at(core::MemberId(2)),
            (std::vector<core::Message>{core::Ping{.nonce = 1}, core::Ping{.nonce = 2}}));
}

TEST(Packer, NothingInNothingOut) {
  Packer p(cluster, self, incarnation, fingerprint, key());
  std::vector<Datagram> out;
  p.pack({}, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(p.next_seq(), 1u);
}

TEST(Packer, WithoutKeyDatagramsAreUntagged) {
  Packer p(cluster, self, incarnation, fingerprint, std::nullopt);
  const std::vector<core::Outgoing> in = {{.to = core::MemberId(2), .msg = core::Ping{.nonce = 8}}};
  std::vector<Datagram> out;
  p.pack(in, out);
  ASSERT_EQ(out.size(), 1u);
  Decoded d;
  EXPECT_EQ(decode(out[0].bytes, nullptr, cluster, d), std::nullopt);
  const ClusterKey k = key();
  EXPECT_EQ(decode(out[0].bytes, &k, cluster, d), core::DropReason::bad_auth);
}

}  // namespace
}  // namespace baton::codec
