// SPDX-License-Identifier: Apache-2.0
// Observer PINGs (batonctl status): a datagram from sender 0 that carries
// only PINGs is answered by the runtime with a PONG to its source address,
// carrying the member's incarnation and status, and changes nothing. Any
// other message from sender 0 is dropped as a stranger's.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>
#include <variant>

#include "codec/codec.hpp"
#include "raw_socket.hpp"
#include "test_cluster.hpp"

namespace baton {
namespace {

using namespace std::chrono_literals;
using test::eventually;

codec::ClusterKey codec_key(const ClusterKey& k) {
  codec::ClusterKey c;
  c.bytes = k;
  return c;
}

std::vector<std::uint8_t> from_observer(const ClusterKey& key, std::vector<core::Message> msgs) {
  const codec::ClusterKey k = codec_key(key);
  const codec::Header h{.version = codec::wire_version, .cluster_id = 77, .sender = codec::observer_id,
                        .incarnation = core::Incarnation{1}, .seq = 1};
  std::vector<std::uint8_t> out(core::limits::datagram_bytes_max);
  auto n = codec::encode(h, msgs, &k, out);
  EXPECT_TRUE(n.ok()) << n.what();
  out.resize(n.ok() ? *n : 0);
  return out;
}

std::uint64_t drops(const Stats& s, DropReason r) { return s.drops[static_cast<std::size_t>(r)]; }

TEST(ObserverPing, IsAnsweredWithStatusAndChangesNothing) {
  auto m = test::start_members(3, {}, [](Config& c) { c.incarnation = 40 + c.self; });
  test::RawSocket obs;  // an ephemeral port: not any member's
  ASSERT_TRUE(obs.bound());
  const ClusterKey key = test::test_key();

  AcquireOptions o;
  o.ttl = 5s;
  o.wait = 5s;
  auto lease = m[2].acquire("seat:14A", o);
  ASSERT_TRUE(lease.ok()) << lease.what();
  ASSERT_TRUE(eventually([&] { return m[1].stats().live_leases == 1; }));
  const Stats before = m[1].stats();

  const auto ping = from_observer(key, {core::Ping{.nonce = 0xfeed}});
  for (int round = 0; round < 2; ++round) {  // the same bytes twice: no replay window for observers
    obs.send_to(m.ports[0], ping);
    std::vector<std::uint8_t> reply;
    ASSERT_GT(obs.receive(reply, 20000), 0) << "no PONG for an observer PING, round " << round;
    codec::Decoded d;
    const codec::ClusterKey k = codec_key(key);
    ASSERT_EQ(codec::decode(reply, &k, 77, d), std::nullopt);
    EXPECT_EQ(d.header.sender, core::MemberId{1});
    EXPECT_EQ(d.header.incarnation, core::Incarnation{41});
    ASSERT_EQ(d.messages.size(), 1u);
    const auto* pong = std::get_if<core::Pong>(&d.messages[0]);
    ASSERT_NE(pong, nullptr);
    EXPECT_EQ(pong->nonce, 0xfeedu);
    EXPECT_FALSE(pong->quarantined);
    EXPECT_EQ(pong->live_leases, 1u);
    EXPECT_EQ(pong->drops.size(), drop_reason_count);
  }

  // Sender 0 with anything but PINGs: a REQUEST with a huge token, a RELEASE
  // of the live lease, and a RELEASE hidden behind a PING. None is answered.
  const core::LeaseId fake{codec::observer_id, core::Incarnation{1}, 1};
  const core::ResourceName res("seat:14A");
  obs.send_to(m.ports[0], from_observer(key, {core::Request{res, fake, core::Duration::s(5), core::Token{1ull << 62}}}));
  obs.send_to(m.ports[0], from_observer(key, {core::Release{res, fake, core::Token{lease->token()}}}));
  obs.send_to(m.ports[0], from_observer(key, {core::Ping{.nonce = 1}, core::Release{res, fake, core::Token{lease->token()}}}));
  // A PING with the wrong key is not answered either.
  obs.send_to(m.ports[0], from_observer(test::test_key(99), {core::Ping{.nonce = 2}}));
  ASSERT_TRUE(eventually([&] {
    const Stats s = m[1].stats();
    return drops(s, DropReason::stranger) >= 3 && drops(s, DropReason::bad_auth) >= 1;
  })) << "drops were not counted";
  std::vector<std::uint8_t> reply;
  EXPECT_EQ(obs.receive(reply, 200), -1) << "a non-PING from sender 0 was answered";

  const Stats after = m[1].stats();
  EXPECT_EQ(drops(after, DropReason::stranger), 3u);
  EXPECT_EQ(drops(after, DropReason::bad_auth), 1u);
  EXPECT_EQ(after.observer_pings, before.observer_pings + 2);
  EXPECT_EQ(after.grants, before.grants);
  EXPECT_EQ(after.denials, before.denials);
  EXPECT_EQ(after.live_leases, before.live_leases);
  EXPECT_TRUE(lease->valid());
  EXPECT_TRUE(test::refused(m[3].try_acquire("seat:14A", 1s).code()));
}

// Asks the member on `port` for its status as an observer; its PONG.
std::optional<core::Pong> status_of(std::uint16_t port) {
  test::RawSocket obs;
  EXPECT_TRUE(obs.bound());
  const ClusterKey key = test::test_key();
  obs.send_to(port, from_observer(key, {core::Ping{.nonce = 0x5a}}));
  std::vector<std::uint8_t> reply;
  if (obs.receive(reply, 20000) <= 0) return std::nullopt;
  codec::Decoded d;
  const codec::ClusterKey k = codec_key(key);
  if (codec::decode(reply, &k, 77, d) || d.messages.size() != 1) return std::nullopt;
  const auto* pong = std::get_if<core::Pong>(&d.messages[0]);
  if (pong == nullptr) return std::nullopt;
  return *pong;
}

// Issue 19: the status says why a member is quarantined. A member restarted
// from its state directory with a lowered ttl_max still has the old, longer
// ttl_max's quarantine to go; one whose directory lost its state waits for
// floor answers from its peers after its quarantine.
TEST(ObserverPing, SaysWhyAMemberIsQuarantined) {
  std::vector<std::string> dirs;
  for (int i = 0; i < 3; ++i) {
    char tmpl[] = "/tmp/baton-why-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dirs.emplace_back(tmpl);
  }
  auto m = test::start_members(3, {}, [&](Config& c) {
    c.bootstrap = true;
    c.state_dir = dirs[c.self - 1];
    c.ttl_max = 4s;
  });
  auto fresh = status_of(m.ports[0]);
  ASSERT_TRUE(fresh.has_value());
  EXPECT_FALSE(fresh->quarantined);
  EXPECT_EQ(fresh->start, core::StartKind::first_start);

  // Member 1: restarted with ttl_max lowered to 1 s.
  m[1].stop();
  m.clusters[0].reset();
  Config c1 = test::member_config(m.ports, 1);
  c1.state_dir = dirs[0];
  c1.ttl_max = 1s;
  auto one = Cluster::start(c1);
  ASSERT_TRUE(one.ok()) << one.what();
  auto p1 = status_of(m.ports[0]);
  ASSERT_TRUE(p1.has_value());
  EXPECT_TRUE(p1->quarantined);
  EXPECT_EQ(p1->start, core::StartKind::reservation);
  // ceil(4 s * 1.01/0.99) = 4.08 s from its start; 1 s would leave at most 1.02 s.
  EXPECT_GT(p1->quarantine_left, core::Duration::s(3)) << p1->quarantine_left.count_ms() << " ms";
  EXPECT_LE(p1->quarantine_left, core::Duration::ms(4081));
  EXPECT_EQ(p1->floor_answers_needed, 0u);

  // Member 3: its directory emptied, restarted without bootstrap; member 2 is down.
  m[2].stop();
  m.clusters[1].reset();
  m[3].stop();
  m.clusters[2].reset();
  std::filesystem::remove_all(dirs[2]);
  std::filesystem::create_directory(dirs[2]);
  Config c3 = test::member_config(m.ports, 3);
  c3.bootstrap = false;
  c3.state_dir = dirs[2];
  c3.ttl_max = 1s;
  auto three = Cluster::start(c3);
  ASSERT_TRUE(three.ok()) << three.what();
  auto p3 = status_of(m.ports[2]);
  ASSERT_TRUE(p3.has_value());
  EXPECT_TRUE(p3->quarantined);
  EXPECT_EQ(p3->start, core::StartKind::peers);
  EXPECT_GT(p3->quarantine_left, core::Duration::zero());
  EXPECT_EQ(p3->floor_answers_needed, 2u);
  // Its quarantine over, it waits for answers: member 1 answers (its floor,
  // the reservation, is known even while it is quarantined), member 2 is
  // down. One of two.
  ASSERT_TRUE(eventually(
      [&] {
        auto p = status_of(m.ports[2]);
        return p && p->quarantine_left == core::Duration::zero() && p->floor_answers == 1;
      },
      20s));
  auto still = status_of(m.ports[2]);
  ASSERT_TRUE(still.has_value());
  EXPECT_TRUE(still->quarantined);
  EXPECT_EQ(still->floor_answers_needed, 2u);
  for (const auto& d : dirs) std::filesystem::remove_all(d);
}

}  // namespace
}  // namespace baton
