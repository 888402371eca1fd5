// SPDX-License-Identifier: Apache-2.0
// Members that disagree on the voting configuration (issue 19): a changed
// member list or replica count in a rolling restart. Each member refuses the
// other configuration's lease messages, so no acquire counts a vote from
// across the mismatch; the refusals are counted (config_mismatch), logged
// with both fingerprints, and reported to observers (batonctl status).
//
// The configurations are chosen so that, without the refusal, the
// disagreeing member would acquire with votes from the other side: that is
// what these tests check first.
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <variant>

#include "codec/codec.hpp"
#include "core/fingerprint.hpp"
#include "core/placement.hpp"
#include "raw_socket.hpp"
#include "test_cluster.hpp"

namespace baton {
namespace {

using namespace std::chrono_literals;
using test::eventually;

std::uint64_t drops(const Stats& s, DropReason r) { return s.drops[static_cast<std::size_t>(r)]; }
std::uint64_t mismatches(Cluster& c) { return drops(c.stats(), DropReason::config_mismatch); }

using test::opts;

std::uint64_t fingerprint(std::initializer_list<std::uint32_t> ids, std::size_t replicas) {
  std::vector<core::MemberId> m;
  for (auto id : ids) m.push_back(core::MemberId{id});
  return core::voting_fingerprint(m, replicas);
}

// Every log line of one member, from its loop thread.
struct LogCapture {
  std::mutex mutex;
  std::vector<std::string> lines;
  LogHook hook() {
    return [this](LogLevel, std::string_view text) {
      std::lock_guard<std::mutex> lock(mutex);
      lines.emplace_back(text);
    };
  }
  std::size_t count(const std::string& needle) {
    std::lock_guard<std::mutex> lock(mutex);
    std::size_t n = 0;
    for (const auto& l : lines) n += l.find(needle) != std::string::npos;
    return n;
  }
};

// Asks member at `port` for its status as an observer and returns the PONG's
// datagram (header and message).
codec::Decoded observe(std::uint16_t port) {
  test::RawSocket obs;
  EXPECT_TRUE(obs.bound());
  codec::ClusterKey k;
  k.bytes = test::test_key();
  const codec::Header h{.version = codec::wire_version, .cluster_id = 77, .sender = codec::observer_id,
                        .incarnation = core::Incarnation{1}, .seq = 1};
  const core::Message ping[] = {core::Ping{.nonce = 9}};
  std::vector<std::uint8_t> bytes(core::limits::datagram_bytes_max);
  auto n = codec::encode(h, ping, &k, bytes);
  EXPECT_TRUE(n.ok());
  bytes.resize(n.ok() ? *n : 0);
  codec::Decoded d;
  for (int attempt = 0; attempt < 3; ++attempt) {
    obs.send_to(port, bytes);
    std::vector<std::uint8_t> reply;
    if (obs.receive(reply, 5000) <= 0) continue;
    if (codec::decode(reply, &k, 77, d) == std::nullopt) return d;
  }
  ADD_FAILURE() << "no PONG from port " << port;
  return d;
}

TEST(ConfigMismatch, AMemberWithAnotherMemberListGetsNoVotesAcrossIt) {
  // Member 1 still runs the old list {1, 2, 3}; members 2..5 were started
  // with {1, 2, 3, 4, 5}. Members 2 and 3 list member 1, so without the
  // refusal they vote for it, and its majority of 2 (of 3) would not
  // intersect the new majorities of 3 (of 5) such as {3, 4, 5}.
  LogCapture log2;
  auto m = test::start_members(5, {}, [&](Config& c) {
    if (c.self == 1) c.members.resize(3);
    if (c.self == 2) c.log = log2.hook();
  });
  ASSERT_EQ(m.clusters.size(), 5u);
  const std::uint64_t old_fp = fingerprint({1, 2, 3}, 5), new_fp = fingerprint({1, 2, 3, 4, 5}, 5);
  ASSERT_NE(old_fp, new_fp);
  const std::uint64_t grants_2 = m[2].stats().grants, grants_3 = m[3].stats().grants;

  // Member 1 gets no vote but its own: no majority, however long it waits.
  auto lone = m[1].acquire("seat:14A", opts(2s, 1500ms));
  ASSERT_FALSE(lone.ok()) << "member 1 acquired with votes from another voting configuration (token "
                          << lone->token() << ")";
  EXPECT_EQ(lone.code(), Errc::unavailable) << errc_name(lone.code());
  EXPECT_EQ(m[2].stats().grants, grants_2);
  EXPECT_EQ(m[3].stats().grants, grants_3);
  // Its requests were refused, counted where they arrived...
  EXPECT_GE(mismatches(m[2]), 1u);
  EXPECT_GE(mismatches(m[3]), 1u);
  // ... and logged, with both fingerprints, the sender and what to do.
  ASSERT_TRUE(eventually([&] { return log2.count("member 1 runs a different voting configuration") >= 1; }));
  EXPECT_EQ(log2.count("fingerprint " + core::fingerprint_hex(old_fp) + ", ours " + core::fingerprint_hex(new_fp)), 1u);
  EXPECT_EQ(log2.count("same member ids (--members) and replicas"), 1u);
  // Rate-limited: one line so far, however many datagrams came.
  EXPECT_EQ(log2.count("runs a different voting configuration"), 1u);
  EXPECT_EQ(log2.count("voting configuration fingerprint " + core::fingerprint_hex(new_fp)), 1u);  // at start

  // The new configuration works on its own (4 of its 5 members agree), and
  // member 1 refuses its requests in turn: it never votes for them either.
  const std::uint64_t grants_1 = m[1].stats().grants;
  auto held = m[2].acquire("seat:14A", opts(2s, 5s));
  ASSERT_TRUE(held.ok()) << held.what();
  EXPECT_TRUE(eventually([&] { return mismatches(m[1]) >= 1; }));
  EXPECT_EQ(m[1].stats().grants, grants_1);
  // Member 1 still cannot take the held resource, nor a free one.
  EXPECT_FALSE(m[1].try_acquire("seat:14A", 2s).ok());
  EXPECT_FALSE(m[1].try_acquire("seat:15B", 2s).ok());

  // Status across the mismatch: each side answers an observer, with its own
  // fingerprint in the envelope and who it refused.
  const codec::Decoded at1 = observe(m.ports[0]);
  EXPECT_EQ(at1.header.config_fingerprint, old_fp);
  const codec::Decoded at2 = observe(m.ports[1]);
  EXPECT_EQ(at2.header.config_fingerprint, new_fp);
  ASSERT_EQ(at2.messages.size(), 1u);
  const auto* pong = std::get_if<core::Pong>(&at2.messages[0]);
  ASSERT_NE(pong, nullptr);
  ASSERT_EQ(pong->mismatches.size(), 1u);
  EXPECT_EQ(pong->mismatches[0].sender, core::MemberId{1});
  EXPECT_EQ(pong->mismatches[0].fingerprint, old_fp);
  EXPECT_GE(pong->mismatches[0].datagrams, 1u);
  EXPECT_EQ(pong->drops.at(static_cast<std::size_t>(DropReason::config_mismatch)), pong->mismatches[0].datagrams);
}

TEST(ConfigMismatch, AMemberWithAnotherReplicaCountGetsNoVotesAcrossIt) {
  // Same member list, but member 3 runs R = 1: it believes a resource has a
  // single voter, whose one grant is its majority. Pick a resource whose
  // voter under R = 1 is not member 3, so that member 3 needs another
  // member's vote: without the refusal that one grant would do, while
  // members 1 and 2 (R = 3, majority 2) could hold the same resource.
  auto m = test::start_members(3, {}, [](Config& c) {
    if (c.self == 3) c.replicas = 1;
  });
  ASSERT_EQ(m.clusters.size(), 3u);
  const core::MemberId all[] = {core::MemberId{1}, core::MemberId{2}, core::MemberId{3}};
  std::string resource;
  for (int i = 0; resource.empty(); ++i) {
    const std::string name = "seat:" + std::to_string(i);
    if (core::place(name, all, 1) != std::vector<core::MemberId>{core::MemberId{3}}) resource = name;
  }
  auto lone = m[3].acquire(resource, opts(2s, 1500ms));
  ASSERT_FALSE(lone.ok()) << "member 3 (R = 1) acquired " << resource << " with another configuration's vote";
  EXPECT_EQ(lone.code(), Errc::unavailable) << errc_name(lone.code());
  EXPECT_EQ(m[1].stats().grants + m[2].stats().grants, 0u);
  EXPECT_GE(mismatches(m[1]) + mismatches(m[2]), 1u);
  // Members 1 and 2 agree with each other and go on working.
  auto held = m[1].acquire(resource, opts(2s, 5s));
  ASSERT_TRUE(held.ok()) << held.what();
  const codec::Decoded at3 = observe(m.ports[2]);
  EXPECT_EQ(at3.header.config_fingerprint, fingerprint({1, 2, 3}, 1));
  EXPECT_NE(at3.header.config_fingerprint, fingerprint({1, 2, 3}, 3));
}

}  // namespace
}  // namespace baton
