// SPDX-License-Identifier: Apache-2.0
// Hostile datagrams from a raw UDP socket: forged (wrong key), truncated,
// garbage, oversized, wrong cluster, stranger and replayed datagrams are
// dropped, counted by reason, and change nothing.
//
// Member 3 is in every config but not started: the test's raw socket sits
// on its port, so it can both speak as member 3 (with the right key) and
// hear what member 1 sends to member 3.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>

#include "codec/codec.hpp"
#include "raw_socket.hpp"
#include "test_cluster.hpp"

namespace baton {
namespace {

using namespace std::chrono_literals;
using test::eventually;


std::vector<std::uint8_t> datagram(std::uint32_t sender, std::uint64_t cluster_id, const ClusterKey& key,
                                   std::uint64_t seq, core::Message msg) {
  codec::ClusterKey k;
  k.bytes = key;
  codec::Header h{.version = codec::wire_version,
                  .cluster_id = cluster_id,
                  .sender = core::MemberId{sender},
                  .incarnation = core::Incarnation{1},
                  .seq = seq};
  std::vector<std::uint8_t> out(core::limits::datagram_bytes_max);
  core::Message msgs[] = {std::move(msg)};
  auto n = codec::encode(h, msgs, &k, out);
  EXPECT_TRUE(n.ok()) << n.what();
  out.resize(n.ok() ? *n : 0);
  return out;
}

std::uint64_t drops(const Stats& s, DropReason r) { return s.drops[static_cast<std::size_t>(r)]; }

TEST(HostileDatagrams, AreDroppedCountedAndChangeNothing) {
  auto m = test::start_members(3, {3});
  test::RawSocket raw(m.ports[2]);
  ASSERT_TRUE(raw.bound()) << "member 3's port was taken meanwhile";
  const std::uint16_t target = m.ports[0];
  const ClusterKey key = test::test_key();
  const ClusterKey wrong_key = test::test_key(99);

  AcquireOptions o;
  o.ttl = 5s;
  o.wait = 5s;
  auto lease = m[1].acquire("seat:14A", o);
  ASSERT_TRUE(lease.ok()) << lease.what();
  ASSERT_TRUE(eventually([&] { return m[1].stats().grants >= 1; }));
  const Stats before = m[1].stats();

  const core::LeaseId fake{core::MemberId{3}, core::Incarnation{1}, 1};
  const core::Request forged_request{core::ResourceName("seat:14A"), fake, core::Duration::s(5), core::Token{1ull << 62}};
  // Forged: the right shape, the wrong key. A REQUEST with a huge token and a
  // RELEASE of the real lease's resource: either would change state if accepted.
  raw.send_to(target, datagram(3, 77, wrong_key, 1, forged_request));
  raw.send_to(target, datagram(3, 77, wrong_key, 2,
                               core::Release{core::ResourceName("seat:14A"), fake, core::Token{lease->token()}}));
  // Truncated: a correctly keyed datagram missing its last bytes.
  auto good = datagram(3, 77, key, 3, forged_request);
  raw.send_to(target, std::vector<std::uint8_t>(good.begin(), good.end() - 7));
  // Garbage.
  std::mt19937 rng(1234);
  std::vector<std::uint8_t> garbage(200);
  for (auto& b : garbage) b = static_cast<std::uint8_t>(rng());
  raw.send_to(target, garbage);
  // Oversized: above the 1400-byte limit.
  raw.send_to(target, std::vector<std::uint8_t>(3000, 0xAB));
  // Wrong cluster, right key.
  raw.send_to(target, datagram(3, 78, key, 4, core::Ping{1}));
  // Stranger: right key and cluster, sender 9 is no member.
  raw.send_to(target, datagram(9, 77, key, 5, core::Ping{2}));

  // Replay: a valid PING from member 3 is answered (a PONG to member 3's
  // port, this socket); the same bytes again are dropped as a replay.
  auto ping = datagram(3, 77, key, 10, core::Ping{3});
  raw.send_to(target, ping);
  std::vector<std::uint8_t> reply;
  ASSERT_GT(raw.receive(reply, 20000), 0) << "no PONG for a valid PING";
  raw.send_to(target, ping);

  ASSERT_TRUE(eventually([&] {
    const Stats s = m[1].stats();
    return drops(s, DropReason::bad_auth) >= 4 && drops(s, DropReason::oversized) >= 1 &&
           drops(s, DropReason::wrong_cluster) >= 1 && drops(s, DropReason::stranger) >= 1 &&
           drops(s, DropReason::replayed) >= 1;
  })) << "drops were not counted";
  const Stats after = m[1].stats();
  EXPECT_EQ(drops(after, DropReason::bad_auth), 4u);  // forged x2, truncated, garbage
  EXPECT_EQ(drops(after, DropReason::oversized), 1u);
  EXPECT_EQ(drops(after, DropReason::wrong_cluster), 1u);
  EXPECT_EQ(drops(after, DropReason::stranger), 1u);
  EXPECT_EQ(drops(after, DropReason::replayed), 1u);
  // Nothing changed: no grant, no denial, the lease is live at the voter and
  // still held; another member is still refused.
  EXPECT_EQ(after.grants, before.grants);
  EXPECT_EQ(after.denials, before.denials);
  EXPECT_EQ(after.live_leases, before.live_leases);
  EXPECT_TRUE(lease->valid());
  EXPECT_TRUE(test::refused(m[2].try_acquire("seat:14A", 1s).code()));
  EXPECT_EQ(m[2].stats().drops_total(), 0u);
}

TEST(HostileDatagrams, ClusterWithoutKeyRunsAndWarns) {
  std::vector<std::string> warnings;
  std::mutex mu;
  auto m = test::start_members(3, {}, [&](Config& c) {
    c.cluster_key.reset();
    c.log = [&](LogLevel level, std::string_view text) {
      std::lock_guard<std::mutex> lock(mu);
      if (level == LogLevel::warn) warnings.emplace_back(text);
    };
  });
  {
    std::lock_guard<std::mutex> lock(mu);
    ASSERT_GE(warnings.size(), 3u);
    EXPECT_NE(warnings[0].find("NOT authenticated"), std::string::npos);
  }
  AcquireOptions o;
  o.ttl = 1s;
  o.wait = 5s;
  auto lease = m[2].acquire("r", o);
  ASSERT_TRUE(lease.ok()) << lease.what();
}

}  // namespace
}  // namespace baton
