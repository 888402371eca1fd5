// SPDX-License-Identifier: Apache-2.0
// Issue 19, part 3: a member restarted without a state directory takes its
// incarnation from the wall clock, and a clock stepped back gives it one
// below its previous life's. Peers that remember the previous life drop its
// datagrams as an older incarnation; with INCARNATION_BEHIND they tell it,
// and it starts a new life above their memory instead of staying mute until
// the clock catches up (possibly hours).
#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "codec/codec.hpp"
#include "raw_socket.hpp"
#include "test_cluster.hpp"

namespace baton {
namespace {

using namespace std::chrono_literals;
using test::eventually;

// Incarnations as a wall clock gives them (ns since the epoch): the first
// life, and a restart after the clock was stepped back an hour.
constexpr std::uint64_t first_life = 1'750'000'000'000'000'000ULL;
constexpr std::uint64_t hour_ns = 3'600'000'000'000ULL;

std::vector<std::uint8_t> datagram(std::uint32_t sender, std::uint64_t incarnation, std::uint64_t seq,
                                   core::Message msg, const ClusterKey& key) {
  codec::ClusterKey k;
  k.bytes = key;
  // No fingerprint (0): not checked, like a sender that predates it.
  const codec::Header h{.version = codec::wire_version, .cluster_id = 77, .sender = core::MemberId{sender},
                        .incarnation = core::Incarnation{incarnation}, .seq = seq};
  std::vector<std::uint8_t> out(core::limits::datagram_bytes_max);
  const core::Message msgs[] = {std::move(msg)};
  auto n = codec::encode(h, msgs, &k, out);
  EXPECT_TRUE(n.ok()) << n.what();
  out.resize(n.ok() ? *n : 0);
  return out;
}

// The INCARNATION_BEHIND hints among the datagrams `raw` receives within `ms`.
std::vector<std::uint64_t> hints_received(test::RawSocket& raw, int ms) {
  std::vector<std::uint64_t> seen;
  codec::ClusterKey k;
  k.bytes = test::test_key();
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  std::vector<std::uint8_t> buf;
  while (std::chrono::steady_clock::now() < end) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (raw.receive(buf, static_cast<int>(std::max<std::int64_t>(left.count(), 1))) < 0) continue;
    codec::Decoded d;
    if (codec::decode(buf, &k, 77, d)) continue;
    for (const core::Message& m : d.messages) {
      if (const auto* h = std::get_if<core::IncarnationBehind>(&m)) seen.push_back(h->seen.value);
    }
  }
  return seen;
}

// The runtime test of the issue: member 3 restarts with an incarnation an
// hour below its previous life's, no state directory. Without the hint it
// stays dropped by both peers (it never acquires, and its votes never
// count); with it, it is back within a bounded time: two restart quarantines
// (ttl_max 200 ms here) and a floor recovery.
TEST(Incarnation, MemberRestartedWithALowerIncarnationAcquiresAndVotesAgain) {
  auto edit = [](Config& c) {
    c.ttl_max = 200ms;
    if (c.self == 3) c.incarnation = first_life;
  };
  auto m = test::start_members(3, {}, edit);
  ASSERT_EQ(m.clusters.size(), 3u);
  AcquireOptions o;
  o.ttl = 100ms;
  o.wait = 5s;
  {
    // Both peers hear member 3's first life (its REQUESTs go to both).
    auto l = m[3].acquire("first", o);
    ASSERT_TRUE(l.ok()) << l.what();
    ASSERT_TRUE(eventually([&] { return m[1].stats().grants >= 1 && m[2].stats().grants >= 1; }));
  }
  m.clusters[2].reset();  // stop member 3

  Config c = test::member_config(m.ports, 3);
  edit(c);
  c.incarnation = first_life - hour_ns;  // the wall clock went back an hour
  c.bootstrap = false;                   // no state directory: recover from peers, as in production
  auto restarted = Cluster::start(std::move(c));
  ASSERT_TRUE(restarted.ok()) << restarted.what();
  m.clusters[2] = std::move(*restarted);

  const auto t0 = std::chrono::steady_clock::now();
  AcquireOptions q;
  q.ttl = 100ms;
  q.wait = 300ms;
  const bool acquired = eventually([&] { return m[3].acquire("after", q).ok(); }, 10s);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  ASSERT_TRUE(acquired) << "member 3 never acquired within 10 s: peers drop its datagrams as an older incarnation"
                        << " (replayed drops at member 1: " << m[1].stats().drops[5] << ")";
  const Stats s3 = m[3].stats();
  EXPECT_EQ(s3.new_lives, 1u) << "one new life, above the newest incarnation the peers had seen";
  EXPECT_EQ(s3.incarnation, first_life + 1);
  EXPECT_GE(m[1].stats().incarnation_hints_sent + m[2].stats().incarnation_hints_sent, 1u);
  std::printf("member 3 acquired %lld ms after its restart\n", static_cast<long long>(took.count()));

  // Member 3 votes again once its new life has recovered (quarantine, then
  // floor answers from both peers); then, with member 2 stopped, member 1
  // needs its grant.
  ASSERT_TRUE(eventually([&] { return !m[3].stats().quarantined; }, 5s)) << "member 3 never recovered its floor";
  m.clusters[1].reset();
  AcquireOptions v;
  v.ttl = 100ms;
  v.wait = 3s;
  auto voted = m[1].acquire("needs-3", v);
  EXPECT_TRUE(voted.ok()) << voted.what();
  EXPECT_EQ(m[3].stats().new_lives, 1u);
}

// A peer answers an older life with the newest incarnation it has seen, at
// most once per 100 ms per member, and only for authenticated datagrams.
// Member 3 is not started: the test's socket sits on its port and speaks as it.
TEST(Incarnation, PeerHintsAnOlderLifeRateLimitedAndOnlyWhenAuthenticated) {
  auto m = test::start_members(3, {3});
  test::RawSocket raw(m.ports[2]);
  ASSERT_TRUE(raw.bound()) << "member 3's port was taken meanwhile";
  const ClusterKey key = test::test_key();
  const std::uint16_t member1 = m.ports[0];
  raw.send_to(member1, datagram(3, 1000, 1, core::Ping{.nonce = 1}, key));
  ASSERT_TRUE(hints_received(raw, 100).empty()) << "the current life gets no hint";

  // A new life below it: 40 datagrams in a burst.
  const auto t0 = std::chrono::steady_clock::now();
  for (std::uint64_t seq = 1; seq <= 40; ++seq) {
    raw.send_to(member1, datagram(3, 500, seq, core::FloorQuery{.nonce = seq}, key));
  }
  const auto hints = hints_received(raw, 150);
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  ASSERT_GE(hints.size(), 1u);
  for (std::uint64_t h : hints) EXPECT_EQ(h, 1000u) << "the newest incarnation member 1 has seen from member 3";
  EXPECT_LE(hints.size(), static_cast<std::size_t>(1 + elapsed.count() / 100)) << "rate-limited per member";
  EXPECT_EQ(m[1].stats().drops[static_cast<std::size_t>(DropReason::replayed)], 40u);

  // Past the interval, forged or foreign older datagrams get nothing.
  std::this_thread::sleep_for(150ms);
  const ClusterKey wrong = test::test_key(99);
  raw.send_to(member1, datagram(3, 500, 100, core::FloorQuery{.nonce = 1}, wrong));
  raw.send_to(member1, datagram(4, 500, 100, core::FloorQuery{.nonce = 1}, key));
  EXPECT_TRUE(hints_received(raw, 200).empty()) << "a hint only ever answers an authenticated member's datagram";
  // A real one does.
  raw.send_to(member1, datagram(3, 500, 101, core::FloorQuery{.nonce = 1}, key));
  EXPECT_EQ(hints_received(raw, 200), std::vector<std::uint64_t>{1000});
  EXPECT_GE(m[1].stats().incarnation_hints_sent, 2u);
}

// What the application sees when its member starts a new life: held leases
// are lost (reason restarted) before their RELEASEs leave, pending acquires
// fail, and the same hint again (replayed, or with the same value) starts no
// second life. Member 2 is not started: the test speaks as it.
TEST(Incarnation, NewLifeEndsLeasesFirstFailsAcquiresAndHappensOncePerHint) {
  auto m = test::start_members(3, {2}, [](Config& c) {
    if (c.self == 3) c.incarnation = 1000;
  });
  test::RawSocket raw(m.ports[1]);
  ASSERT_TRUE(raw.bound()) << "member 2's port was taken meanwhile";
  const ClusterKey key = test::test_key();

  AcquireOptions o;
  o.ttl = 5s;
  o.wait = 3s;
  auto other = m[1].acquire("busy", o);  // held by member 1: member 3's acquire of it waits
  ASSERT_TRUE(other.ok()) << other.what();
  std::promise<std::pair<LostReason, std::uint64_t>> lost;  // reason, member 1's live leases then
  Cluster* member1 = &m[1];
  o.auto_renew = true;
  o.on_lost = [&lost, member1](LostReason why) { lost.set_value({why, member1->stats().live_leases}); };
  auto held = m[3].acquire("held", o);
  ASSERT_TRUE(held.ok()) << held.what();
  ASSERT_TRUE(eventually([&] { return m[1].stats().live_leases == 2; }));
  std::promise<Errc> pending;
  AcquireOptions w;
  w.ttl = 5s;
  w.wait = 10s;
  ASSERT_TRUE(m[3].acquire("busy", w, [&pending](Result<Lease> r) { pending.set_value(r.code()); }).ok());
  std::this_thread::sleep_for(50ms);

  const auto hint = datagram(2, 7, 1, core::IncarnationBehind{.seen = core::Incarnation{1005}}, key);
  raw.send_to(m.ports[2], hint);
  auto lost_f = lost.get_future();
  ASSERT_EQ(lost_f.wait_for(5s), std::future_status::ready);
  const auto [why, live_at_member1] = lost_f.get();
  EXPECT_EQ(why, LostReason::restarted);
  EXPECT_EQ(live_at_member1, 2u) << "on_lost ran before the RELEASE left";
  EXPECT_FALSE(held->valid());
  EXPECT_EQ(held->lost_reason(), LostReason::restarted);
  auto pending_f = pending.get_future();
  ASSERT_EQ(pending_f.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(pending_f.get(), Errc::unavailable);
  // The old life's RELEASE reached member 1 (it still accepts that life).
  EXPECT_TRUE(eventually([&] { return m[1].stats().live_leases == 1; }));
  ASSERT_TRUE(eventually([&] { return m[3].stats().new_lives == 1; }));
  EXPECT_EQ(m[3].stats().incarnation, 1006u);

  // The same datagram replayed, and a fresh hint with the same value: no second life.
  raw.send_to(m.ports[2], hint);
  raw.send_to(m.ports[2], datagram(2, 7, 2, core::IncarnationBehind{.seen = core::Incarnation{1005}}, key));
  raw.send_to(m.ports[2], datagram(2, 7, 3, core::IncarnationBehind{.seen = core::Incarnation{1006}}, key));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(m[3].stats().new_lives, 1u);
  EXPECT_EQ(m[3].stats().incarnation, 1006u);
}

}  // namespace
}  // namespace baton
