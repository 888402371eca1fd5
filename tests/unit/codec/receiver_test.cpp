// Receiver: decode + membership + replay window, and the rule that only an
// accepted datagram advances the window.
#include <gtest/gtest.h>

#include <vector>

#include "codec/codec.hpp"

namespace baton::codec {
namespace {

constexpr std::uint64_t cluster = 7;

ClusterKey key(std::uint8_t v = 0x11) {
  ClusterKey k;
  k.bytes.fill(v);
  return k;
}

struct Sent {
  std::uint32_t sender = 2;
  std::uint64_t incarnation = 1;
  std::uint64_t seq = 1;
  std::uint64_t cluster_id = cluster;
  std::uint16_t version = wire_version;
  std::uint8_t key_byte = 0x11;  // 0: no tag
};

std::vector<std::uint8_t> datagram(const Sent& s) {
  const Header h{.version = s.version, .cluster_id = s.cluster_id, .sender = core::MemberId(s.sender),
                 .incarnation = core::Incarnation(s.incarnation), .seq = s.seq};
  const std::vector<core::Message> msgs = {core::Ping{.nonce = s.seq}};
  const ClusterKey k = key(s.key_byte);
  std::vector<std::uint8_t> buf(core::limits::datagram_bytes_max);
  Result<std::size_t> n = encode(h, msgs, s.key_byte != 0 ? &k : nullptr, buf);
  EXPECT_TRUE(n.ok());
  buf.resize(*n);
  return buf;
}

Receiver make_receiver() {
  return Receiver(cluster, key(), {core::MemberId(3), core::MemberId(1), core::MemberId(2)}, core::MemberId(1));
}

struct Step {
  const char* what;
  Sent sent;
  std::optional<core::DropReason> expected;
};

TEST(Receiver, Scripts) {
  using core::DropReason;
  struct Script {
    const char* name;
    std::vector<Step> steps;
  };
  const Script scripts[] = {
      {.name = "members accepted, strangers and self rejected",
       .steps = {{"from 2", {.sender = 2}, std::nullopt},
                 {"from 3", {.sender = 3}, std::nullopt},
                 {"from self", {.sender = 1}, DropReason::stranger},
                 {"from non-member", {.sender = 4}, DropReason::stranger},
                 {"from member 0", {.sender = 0}, DropReason::stranger}}},
      {.name = "replays rejected",
       .steps = {{"seq 1", {.seq = 1}, std::nullopt},
                 {"seq 1 again", {.seq = 1}, DropReason::replayed},
                 {"seq 3", {.seq = 3}, std::nullopt},
                 {"seq 2 late", {.seq = 2}, std::nullopt},
                 {"seq 2 again", {.seq = 2}, DropReason::replayed},
                 {"seq 0", {.seq = 0}, DropReason::replayed}}},
      {.name = "restart: new incarnation accepted, old one rejected",
       .steps = {{"inc 1", {.incarnation = 1, .seq = 10}, std::nullopt},
                 {"inc 2 from 1", {.incarnation = 2, .seq = 1}, std::nullopt},
                 {"inc 1 again", {.incarnation = 1, .seq = 11}, DropReason::replayed}}},
      {.name = "rejected datagrams do not advance the window",
       .steps = {{"forged far ahead", {.seq = 1'000'000, .key_byte = 0x22}, DropReason::bad_auth},
                 {"untagged far ahead", {.seq = 1'000'000, .key_byte = 0}, DropReason::bad_auth},
                 {"other cluster ahead", {.seq = 1'000'000, .cluster_id = cluster + 1}, DropReason::wrong_cluster},
                 {"newer version ahead", {.seq = 1'000'000, .version = wire_version + 1},
                  DropReason::wrong_version},
                 {"newer incarnation, other cluster", {.incarnation = 9, .seq = 5, .cluster_id = 1},
                  DropReason::wrong_cluster},
                 {"real seq 1 still new", {.seq = 1}, std::nullopt},
                 {"stranger with our sender's seq", {.sender = 4, .seq = 2}, DropReason::stranger},
                 {"real seq 2 still new", {.seq = 2}, std::nullopt}}},
  };
  for (const auto& script : scripts) {
    SCOPED_TRACE(script.name);
    Receiver r = make_receiver();
    for (const auto& step : script.steps) {
      Decoded d;
      const auto bytes = datagram(step.sent);
      EXPECT_EQ(r.receive(bytes, d), step.expected) << step.what;
      if (!step.expected) {
        EXPECT_EQ(d.header.sender, core::MemberId(step.sent.sender)) << step.what;
        EXPECT_EQ(d.messages, std::vector<core::Message>{core::Ping{.nonce = step.sent.seq}}) << step.what;
      }
    }
  }
}

std::vector<std::uint8_t> observer_datagram(std::uint64_t seq, std::vector<core::Message> msgs,
                                            std::uint8_t key_byte = 0x11) {
  const Header h{.version = wire_version, .cluster_id = cluster, .sender = observer_id,
                 .incarnation = core::Incarnation(1), .seq = seq};
  const ClusterKey k = key(key_byte);
  std::vector<std::uint8_t> buf(core::limits::datagram_bytes_max);
  Result<std::size_t> n = encode(h, msgs, &k, buf);
  EXPECT_TRUE(n.ok());
  buf.resize(n.ok() ? *n : 0);
  return buf;
}

TEST(Receiver, ObserversMayOnlyPingAndLeaveNoState) {
  using core::DropReason;
  const core::ResourceName res("r0");
  const core::LeaseId lease{core::MemberId(2), core::Incarnation(1), 1};
  const core::Message ping = core::Ping{.nonce = 5};
  const core::Message release = core::Release{.resource = res, .lease = lease, .token = core::Token(9)};
  const core::Message pong = core::Pong{.nonce = 5, .quarantined = false, .live_leases = 0, .waiters = 0, .floor = {}, .drops = {}};
  Receiver r = make_receiver();
  Decoded d;
  // Without Observers::accept, sender 0 is a stranger whatever it carries.
  EXPECT_EQ(r.receive(observer_datagram(1, {ping}), d), DropReason::stranger);
  // Accepted: PINGs only, returned with sender 0, the same bytes again too
  // (no replay window for observers).
  const auto pings = observer_datagram(1, {ping, core::Ping{.nonce = 6}});
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(r.receive(pings, d, Observers::accept), std::nullopt) << i;
    EXPECT_EQ(d.header.sender, observer_id);
    EXPECT_EQ(d.messages.size(), 2u);
  }
  // Anything else from an observer is a stranger's, alone or mixed with PINGs.
  EXPECT_EQ(r.receive(observer_datagram(2, {release}), d, Observers::accept), DropReason::stranger);
  EXPECT_EQ(r.receive(observer_datagram(3, {ping, release}), d, Observers::accept), DropReason::stranger);
  EXPECT_EQ(r.receive(observer_datagram(4, {pong}), d, Observers::accept), DropReason::stranger);
  // Authentication comes first: a PING with the wrong key is bad_auth.
  EXPECT_EQ(r.receive(observer_datagram(5, {ping}, 0x22), d, Observers::accept), DropReason::bad_auth);
  // Observer datagrams with huge sequence numbers left the members' windows
  // alone: member 2's first datagram is still new.
  EXPECT_EQ(r.receive(observer_datagram(1'000'000, {ping}), d, Observers::accept), std::nullopt);
  EXPECT_EQ(r.receive(datagram({.sender = 2, .seq = 1}), d, Observers::accept), std::nullopt);
  EXPECT_EQ(d.header.sender, core::MemberId(2));
}

TEST(Receiver, PackDirectSharesThePackersSequence) {
  Packer p(cluster, core::MemberId(2), core::Incarnation(4), key());
  Receiver r = make_receiver();
  std::vector<Datagram> out;
  const std::vector<core::Outgoing> one = {{.to = core::MemberId(1), .msg = core::Ping{.nonce = 1}}};
  p.pack(one, out);
  std::vector<std::uint8_t> direct;
  const std::vector<core::Message> pong = {core::Pong{.nonce = 2, .quarantined = true, .live_leases = 3, .waiters = 0, .floor = {}, .drops = {1, 2}}};
  ASSERT_TRUE(p.pack_direct(pong, direct));
  p.pack(one, out);
  ASSERT_EQ(out.size(), 2u);
  Decoded d;
  ASSERT_EQ(r.receive(direct, d), std::nullopt);
  EXPECT_EQ(d.header.seq, 2u);
  EXPECT_EQ(d.header.incarnation, core::Incarnation(4));
  EXPECT_EQ(d.messages, pong);
  ASSERT_EQ(r.receive(out[0].bytes, d), std::nullopt);
  EXPECT_EQ(d.header.seq, 1u);
  ASSERT_EQ(r.receive(out[1].bytes, d), std::nullopt);
  EXPECT_EQ(d.header.seq, 3u);
  EXPECT_FALSE(p.pack_direct({}, direct));
}

TEST(Receiver, PackerToReceiverEndToEnd) {
  Packer p(cluster, core::MemberId(2), core::Incarnation(4), key());
  Receiver r = make_receiver();
  std::vector<core::Outgoing> in;
  for (std::uint64_t i = 0; i < 200; ++i) in.push_back({.to = core::MemberId(1), .msg = core::Ping{.nonce = i}});
  std::vector<Datagram> out;
  p.pack(in, out);
  ASSERT_GT(out.size(), 1u);
  std::vector<core::Message> got;
  // Deliver in reverse (reordering within the window) and each one twice.
  for (auto it = out.rbegin(); it != out.rend(); ++it) {
    Decoded d;
    ASSERT_EQ(r.receive(it->bytes, d), std::nullopt);
    got.insert(got.begin(), d.messages.begin(), d.messages.end());
    EXPECT_EQ(r.receive(it->bytes, d), core::DropReason::replayed);
  }
  std::vector<core::Message> want;
  for (const auto& o : in) want.push_back(o.msg);
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace baton::codec
