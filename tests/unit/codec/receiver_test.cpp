// SPDX-License-Identifier: Apache-2.0
// Receiver: decode + membership + voting configuration + replay window, and
// the rule that only an accepted datagram advances the window.
#include <gtest/gtest.h>

#include <functional>
#include <set>

#include <vector>

#include "codec/codec.hpp"

namespace baton::codec {
namespace {

constexpr std::uint64_t cluster = 7;
// The receiver's voting configuration, and another one (a member that lists
// other members or another replica count).
constexpr std::uint64_t ours = 0x0123456789abcdefULL;
constexpr std::uint64_t theirs = 0xfedcba9876543210ULL;

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
  std::uint64_t fingerprint = ours;
};

std::vector<std::uint8_t> datagram(const Sent& s, std::vector<core::Message> msgs) {
  const Header h{.version = s.version, .cluster_id = s.cluster_id, .sender = core::MemberId(s.sender),
                 .incarnation = core::Incarnation(s.incarnation), .seq = s.seq, .config_fingerprint = s.fingerprint};
  const ClusterKey k = key(s.key_byte);
  std::vector<std::uint8_t> buf(core::limits::datagram_bytes_max);
  Result<std::size_t> n = encode(h, msgs, s.key_byte != 0 ? &k : nullptr, buf);
  EXPECT_TRUE(n.ok());
  buf.resize(*n);
  return buf;
}

std::vector<std::uint8_t> datagram(const Sent& s) { return datagram(s, {core::Ping{.nonce = s.seq}}); }

Receiver make_receiver() {
  return Receiver(cluster, key(), {core::MemberId(3), core::MemberId(1), core::MemberId(2)}, core::MemberId(1), ours);
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
  // An observer's own fingerprint is never checked: theirs, here.
  const Header h{.version = wire_version, .cluster_id = cluster, .sender = observer_id,
                 .incarnation = core::Incarnation(1), .seq = seq, .config_fingerprint = theirs};
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
  const core::Message pong = core::Pong{.nonce = 5, .quarantined = false, .live_leases = 0, .waiters = 0, .floor = {}, .drops = {}, .mismatches = {}};
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

// Issue 21 step 4: batonctl reconfigure's CONFIG_CHANGE, alone, is the one
// other message an observer may send; the runtime answers it (never the core).
TEST(Receiver, ObserversMaySendOneConfigChangeAlone) {
  using core::DropReason;
  const core::Message change =
      core::ConfigChange{.nonce = 3, .expect = {1, 0}, .voters = {core::MemberId(1), core::MemberId(2)}};
  const core::Message ping = core::Ping{.nonce = 5};
  Receiver r = make_receiver();
  Decoded d;
  EXPECT_EQ(r.receive(observer_datagram(1, {change}), d), DropReason::stranger);  // observers not accepted
  for (int i = 0; i < 2; ++i) {  // a re-send of the same bytes too: no replay window
    ASSERT_EQ(r.receive(observer_datagram(1, {change}), d, Observers::accept), std::nullopt) << i;
    EXPECT_EQ(d.header.sender, observer_id);
    ASSERT_EQ(d.messages.size(), 1u);
    EXPECT_EQ(d.messages[0], change);
  }
  EXPECT_EQ(r.receive(observer_datagram(2, {change, change}), d, Observers::accept), DropReason::stranger);
  EXPECT_EQ(r.receive(observer_datagram(3, {ping, change}), d, Observers::accept), DropReason::stranger);
  EXPECT_EQ(r.receive(observer_datagram(4, {change}, 0x22), d, Observers::accept), DropReason::bad_auth);
}

TEST(Receiver, AnotherVotingConfigurationIsRefusedCountedAndChangesNothing) {
  using core::DropReason;
  const core::ResourceName res("seat:14A");
  const core::LeaseId lease{core::MemberId(2), core::Incarnation(1), 1};
  // Every lease message, and FLOOR_* (a floor from another configuration
  // would answer for other majorities): none may cross the mismatch.
  const std::vector<core::Message> lease_msgs = {
      core::Request{.resource = res, .lease = lease, .ttl = core::Duration::s(5), .token = core::Token(9)},
      core::Grant{.resource = res, .lease = lease, .token = core::Token(9)},
      core::Deny{.resource = res, .lease = lease, .token = core::Token(9), .reason = core::DenyReason::held,
                 .holder = core::MemberId(3), .time_left = core::Duration::s(1), .fence = core::Token(8)},
      core::Renew{.resource = res, .lease = lease, .token = core::Token(9), .ttl = core::Duration::s(5), .round = 1},
      core::RenewAck{.resource = res, .lease = lease, .token = core::Token(9), .round = 1, .ok = true,
                     .reason = {}, .fence = core::Token(9)},
      core::Release{.resource = res, .lease = lease, .token = core::Token(9)},
      core::Free{.resource = res, .fence = core::Token(9), .waiters = 1},
      core::FloorQuery{.nonce = 1},
      core::FloorReply{.nonce = 1, .ready = true, .floor = core::Token(1ULL << 40)},
  };
  Receiver r = make_receiver();
  Decoded d;
  std::uint64_t seq = 0;
  for (const core::Message& m : lease_msgs) {
    // Alone, and hidden behind a PING.
    for (const auto& msgs : {std::vector<core::Message>{m}, std::vector<core::Message>{core::Ping{.nonce = 1}, m}}) {
      ++seq;
      EXPECT_EQ(r.receive(datagram({.sender = 2, .seq = seq, .fingerprint = theirs}, msgs), d),
                DropReason::config_mismatch)
          << core::message_name(m);
    }
  }
  // Counted per sender, with the fingerprint it carried.
  ASSERT_EQ(r.mismatches().size(), 1u);
  EXPECT_EQ(r.mismatches()[0], (core::ConfigMismatch{.sender = core::MemberId(2), .fingerprint = theirs,
                                                     .datagrams = 2 * lease_msgs.size()}));
  // Changed nothing: member 2's first sequence numbers are still new (the
  // window did not move), so its real datagrams are not taken for replays.
  for (std::uint64_t s = 1; s <= seq; ++s) {
    ASSERT_EQ(r.receive(datagram({.sender = 2, .seq = s}, {lease_msgs[0]}), d), std::nullopt) << s;
    EXPECT_EQ(d.messages, std::vector<core::Message>{lease_msgs[0]});
  }
  // PING and PONG cross the mismatch (they change no lease state), through the
  // replay window like any member datagram, and are not counted as refused.
  const core::Message pong = core::Pong{.nonce = 5, .quarantined = false, .live_leases = 0, .waiters = 0,
                                        .floor = {}, .drops = {}, .mismatches = {}};
  const auto status = datagram({.sender = 3, .seq = 1, .fingerprint = theirs}, {core::Ping{.nonce = 5}, pong});
  ASSERT_EQ(r.receive(status, d), std::nullopt);
  EXPECT_EQ(d.header.config_fingerprint, theirs);
  EXPECT_EQ(r.receive(status, d), DropReason::replayed);
  // A sender that predates fingerprints (field absent: 0) is not checked.
  EXPECT_EQ(r.receive(datagram({.sender = 3, .seq = 2, .fingerprint = no_fingerprint}, {lease_msgs[0]}), d),
            std::nullopt);
  // Member 3's later mismatch gets an entry of its own; 2's fingerprint is
  // the last one seen.
  constexpr std::uint64_t third = 0x3333333333333333ULL;
  EXPECT_EQ(r.receive(datagram({.sender = 3, .seq = 3, .fingerprint = theirs}, {lease_msgs[1]}), d),
            DropReason::config_mismatch);
  EXPECT_EQ(r.receive(datagram({.sender = 2, .seq = 1000, .fingerprint = third}, {lease_msgs[1]}), d),
            DropReason::config_mismatch);
  ASSERT_EQ(r.mismatches().size(), 2u);
  EXPECT_EQ(r.mismatches()[0].fingerprint, third);
  EXPECT_EQ(r.mismatches()[0].datagrams, 2 * lease_msgs.size() + 1);
  EXPECT_EQ(r.mismatches()[1],
            (core::ConfigMismatch{.sender = core::MemberId(3), .fingerprint = theirs, .datagrams = 1}));
  // Authentication, membership and the other checks come first: a forged,
  // foreign or stranger's datagram with another fingerprint is not counted
  // as a mismatch (nobody without the key can make a member log one).
  EXPECT_EQ(r.receive(datagram({.sender = 2, .seq = 2000, .key_byte = 0x22, .fingerprint = theirs}, {lease_msgs[0]}), d),
            DropReason::bad_auth);
  EXPECT_EQ(r.receive(datagram({.sender = 4, .seq = 2000, .fingerprint = theirs}, {lease_msgs[0]}), d),
            DropReason::stranger);
  EXPECT_EQ(r.receive(datagram({.sender = 2, .seq = 2000, .cluster_id = cluster + 1, .fingerprint = theirs},
                               {lease_msgs[0]}), d),
            DropReason::wrong_cluster);
  EXPECT_EQ(r.mismatches()[0].datagrams, 2 * lease_msgs.size() + 1);
  EXPECT_EQ(r.mismatches().size(), 2u);
}

// Issue 19, part 3: a member restarted with a lower incarnation (its wall
// clock stepped back). The drop stays `replayed` (an older life's datagrams
// must never count again), and behind() tells the caller whom to answer with
// what; nothing unauthenticated or foreign gets that far.
TEST(Receiver, OlderIncarnationIsDroppedAndReportedWithTheNewestSeen) {
  using core::DropReason;
  Receiver r = make_receiver();
  Decoded d;
  ASSERT_EQ(r.receive(datagram({.sender = 2, .incarnation = 1000, .seq = 7}), d), std::nullopt);
  EXPECT_FALSE(r.behind().has_value());
  // The new life, at 500.
  EXPECT_EQ(r.receive(datagram({.sender = 2, .incarnation = 500, .seq = 1}), d), DropReason::replayed);
  ASSERT_TRUE(r.behind().has_value());
  EXPECT_EQ(r.behind()->sender, core::MemberId(2));
  EXPECT_EQ(r.behind()->seen, core::Incarnation(1000));
  // Reset by the next receive, whatever its outcome.
  EXPECT_EQ(r.receive(datagram({.sender = 3, .seq = 1}), d), std::nullopt);
  EXPECT_FALSE(r.behind().has_value());
  // A repeat within the current life is a plain replay: nothing to tell.
  EXPECT_EQ(r.receive(datagram({.sender = 2, .incarnation = 1000, .seq = 7}), d), DropReason::replayed);
  EXPECT_FALSE(r.behind().has_value());
  // Forged, foreign, stranger's or mismatched: dropped before the window.
  const Sent older[] = {{.sender = 2, .incarnation = 500, .seq = 2, .key_byte = 0x22},
                        {.sender = 2, .incarnation = 500, .seq = 2, .key_byte = 0},
                        {.sender = 2, .incarnation = 500, .seq = 2, .cluster_id = cluster + 1},
                        {.sender = 4, .incarnation = 500, .seq = 2},
                        {.sender = 2, .incarnation = 500, .seq = 2, .fingerprint = theirs}};
  for (const Sent& s : older) {
    EXPECT_NE(r.receive(datagram(s, {core::FloorQuery{.nonce = 1}}), d), std::nullopt);
    EXPECT_FALSE(r.behind().has_value());
  }
  // The hint's recipient moves to 1001: accepted, and its window restarts.
  EXPECT_EQ(r.receive(datagram({.sender = 2, .incarnation = 1001, .seq = 1}), d), std::nullopt);
  EXPECT_EQ(r.receive(datagram({.sender = 2, .incarnation = 1000, .seq = 8}), d), DropReason::replayed);
  ASSERT_TRUE(r.behind().has_value());
  EXPECT_EQ(r.behind()->seen, core::Incarnation(1001));
}

TEST(Receiver, PackDirectSharesThePackersSequence) {
  Packer p(cluster, core::MemberId(2), core::Incarnation(4), ours, key());
  Receiver r = make_receiver();
  std::vector<Datagram> out;
  const std::vector<core::Outgoing> one = {{.to = core::MemberId(1), .msg = core::Ping{.nonce = 1}}};
  p.pack(one, out);
  std::vector<std::uint8_t> direct;
  const std::vector<core::Message> pong = {core::Pong{.nonce = 2, .quarantined = true, .live_leases = 3, .waiters = 0, .floor = {}, .drops = {1, 2}, .mismatches = {}}};
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
  Packer p(cluster, core::MemberId(2), core::Incarnation(4), ours, key());
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

// ---- clients (issue 21) ------------------------------------------------------

constexpr std::uint32_t kClientA = core::client_id(0x0abc).value;
constexpr std::uint32_t kClientB = core::client_id(0x0def).value;

Receiver make_voter_receiver(std::size_t clients_max) {
  return Receiver(cluster, key(), {core::MemberId(3), core::MemberId(1), core::MemberId(2)}, core::MemberId(1), ours,
                  clients_max);
}

TEST(Receiver, ClientsMaySendWhatAnAcquirerSendsAndNothingElse) {
  using core::DropReason;
  const core::ResourceName res("r0");
  const core::LeaseId lease{core::MemberId(kClientA), core::Incarnation(7), 1};
  const core::Message request = core::Request{.resource = res, .lease = lease, .ttl = core::Duration::s(1),
                                              .token = core::Token(9)};
  const core::Message renew = core::Renew{.resource = res, .lease = lease, .token = core::Token(9),
                                          .ttl = core::Duration::s(1), .round = 1};
  const core::Message release = core::Release{.resource = res, .lease = lease, .token = core::Token(9)};
  const core::Message grant = core::Grant{.resource = res, .lease = lease, .token = core::Token(9), .handoff = false};
  const core::Message floor_query = core::FloorQuery{.nonce = 1};
  Receiver r = make_voter_receiver(8);
  Decoded d;
  const auto from_a = [&](std::uint64_t seq, std::vector<core::Message> msgs, std::uint64_t fp = ours) {
    return datagram({.sender = kClientA, .incarnation = 7, .seq = seq, .fingerprint = fp}, std::move(msgs));
  };
  EXPECT_EQ(r.receive(from_a(1, {request}), d), std::nullopt);
  EXPECT_EQ(d.header.sender, core::MemberId(kClientA));
  EXPECT_EQ(r.receive(from_a(2, {renew, release, core::Ping{.nonce = 2}}), d), std::nullopt);
  // A vote, a floor query, or either mixed in: a stranger's, and the window untouched.
  EXPECT_EQ(r.receive(from_a(3, {grant}), d), DropReason::stranger);
  EXPECT_EQ(r.receive(from_a(4, {request, floor_query}), d), DropReason::stranger);
  // Another voting configuration: refused, not noted among the members' mismatches.
  EXPECT_EQ(r.receive(from_a(5, {request}, theirs), d), DropReason::config_mismatch);
  EXPECT_TRUE(r.mismatches().empty());
  // Seqs 3..5 were refused before the window: still new.
  EXPECT_EQ(r.receive(from_a(3, {request}), d), std::nullopt);
  // A replay is refused.
  EXPECT_EQ(r.receive(from_a(1, {request}), d), DropReason::replayed);
  EXPECT_EQ(r.clients_tracked(), 1u);
  // A client speaks only for leases of its own life: another incarnation's
  // (a namesake that drew the same id) or another owner's is a stranger's.
  const core::LeaseId namesake{core::MemberId(kClientA), core::Incarnation(8), 1};
  const core::LeaseId other{core::MemberId(kClientB), core::Incarnation(7), 1};
  EXPECT_EQ(r.receive(from_a(6, {core::Release{.resource = res, .lease = namesake, .token = core::Token(9)}}), d),
            DropReason::stranger);
  EXPECT_EQ(r.receive(from_a(7, {core::Release{.resource = res, .lease = other, .token = core::Token(9)}}), d),
            DropReason::stranger);
  // A receiver that takes no clients (a client's own) refuses them all.
  Receiver none = make_voter_receiver(0);
  EXPECT_EQ(none.receive(from_a(1, {request}), d), DropReason::stranger);
}

TEST(Receiver, ClientLivesHaveWindowsOfTheirOwnAndTheLeastRecentIsEvicted) {
  using core::DropReason;
  Receiver r = make_voter_receiver(2);
  Decoded d;
  const auto dg = [](std::uint32_t who, std::uint64_t inc, std::uint64_t seq) {
    return datagram({.sender = who, .incarnation = inc, .seq = seq});
  };
  ASSERT_EQ(r.receive(dg(kClientA, 7, 1), d), std::nullopt);
  // Another life of A (random incarnations have no order): a window of its
  // own, and A's old life keeps its window (its replays stay refused).
  ASSERT_EQ(r.receive(dg(kClientA, 3, 1), d), std::nullopt);
  EXPECT_EQ(r.receive(dg(kClientA, 7, 1), d), DropReason::replayed);
  EXPECT_EQ(r.receive(dg(kClientA, 3, 1), d), DropReason::replayed);
  EXPECT_EQ(r.clients_tracked(), 2u);
  // A third life evicts the least recently accepted: A/7 (A/3 was accepted after it).
  ASSERT_EQ(r.receive(dg(kClientB, 1, 1), d), std::nullopt);
  EXPECT_EQ(r.clients_tracked(), 2u);
  EXPECT_EQ(r.client_evictions(), 1u);
  EXPECT_EQ(r.receive(dg(kClientA, 3, 1), d), DropReason::replayed) << "A/3 is still tracked";
  // A/7's window is gone: its old datagram is accepted once more (bounded
  // state; the voter treats it as a late duplicate), which evicts B/1.
  EXPECT_EQ(r.receive(dg(kClientA, 7, 1), d), std::nullopt);
  EXPECT_EQ(r.receive(dg(kClientA, 7, 1), d), DropReason::replayed);
  EXPECT_EQ(r.client_evictions(), 2u);
  // Members never compete with clients for room.
  EXPECT_EQ(r.receive(datagram({.sender = 2, .seq = 1}), d), std::nullopt);
  EXPECT_EQ(r.receive(datagram({.sender = 3, .seq = 1}), d), std::nullopt);
  EXPECT_EQ(r.clients_tracked(), 2u);
}

// A client with a hold or waiter at the voter keeps its window: a new life
// evicts the least recent unpinned one, and none if every life is pinned
// (the new one is refused, as overflow). Else a replay could extend the
// pinned client's hold once its window was gone (adversarial review, issue 21).
TEST(Receiver, PinnedClientWindowsAreNotEvicted) {
  using core::DropReason;
  Receiver r = make_voter_receiver(2);
  Decoded d;
  const auto dg = [](std::uint32_t who, std::uint64_t inc, std::uint64_t seq) {
    return datagram({.sender = who, .incarnation = inc, .seq = seq});
  };
  const std::uint32_t kClientC = core::client_id(0x0123).value;
  std::set<std::uint32_t> pinned = {kClientA};
  const std::function<bool(core::MemberId)> is_pinned = [&](core::MemberId m) { return pinned.contains(m.value); };
  ASSERT_EQ(r.receive(dg(kClientA, 1, 1), d, Observers::reject, is_pinned), std::nullopt);
  ASSERT_EQ(r.receive(dg(kClientB, 1, 1), d, Observers::reject, is_pinned), std::nullopt);
  // C evicts B (A is older but pinned).
  ASSERT_EQ(r.receive(dg(kClientC, 1, 1), d, Observers::reject, is_pinned), std::nullopt);
  EXPECT_EQ(r.receive(dg(kClientA, 1, 1), d, Observers::reject, is_pinned), DropReason::replayed) << "A kept";
  // Both tracked lives pinned: a new life is refused, and nothing evicted.
  pinned.insert(kClientC);
  EXPECT_EQ(r.receive(dg(kClientB, 2, 1), d, Observers::reject, is_pinned), DropReason::overflow);
  EXPECT_EQ(r.clients_refused(), 1u);
  EXPECT_EQ(r.receive(dg(kClientC, 1, 1), d, Observers::reject, is_pinned), DropReason::replayed) << "C kept";
  // Once A's state is gone, a new life may take its room.
  pinned.erase(kClientA);
  EXPECT_EQ(r.receive(dg(kClientB, 2, 1), d, Observers::reject, is_pinned), std::nullopt);
  EXPECT_EQ(r.client_evictions(), 2u);
}

}  // namespace
}  // namespace baton::codec
