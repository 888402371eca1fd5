// SPDX-License-Identifier: Apache-2.0
// acquirer.hpp, driven directly with a recording Sink and hand-made voter
// answers: attempts, partial releases, retries (stale, held/FREE, jitter),
// deadlines, cancellation, validity, renewal rounds and loss.
#include "core/acquirer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/drift.hpp"
#include "core/placement.hpp"

namespace baton::core {
namespace {

struct Sent {
  MemberId to;
  Message msg;
  Instant at;
};

class FakeSink final : public Sink {
 public:
  void send(MemberId to, Message msg) override { sent.push_back(Sent{to, std::move(msg), *now}); }
  void emit(Event e) override { events.push_back({*now, std::move(e)}); }
  void persist(Token reservation) override { persists.push_back(reservation); }
  void persist_config(const CfgState& s) override { configs.push_back(s); }
  std::vector<CfgState> configs;
  NodeStats& stats() override { return st; }
  void observe_token(Token t) override { observed.push_back(t); }

  template <typename T>
  std::vector<std::pair<MemberId, T>> all() const {
    std::vector<std::pair<MemberId, T>> out;
    for (const Sent& s : sent)
      if (const T* m = std::get_if<T>(&s.msg)) out.emplace_back(s.to, *m);
    return out;
  }

  const Instant* now = nullptr;
  std::vector<Sent> sent;
  std::vector<std::pair<Instant, Event>> events;
  std::vector<Token> persists;
  std::vector<Token> observed;
  NodeStats st;
};

constexpr MemberId M1{1}, M2{2}, M3{3}, M4{4}, M5{5};
const Instant T0 = Instant::from_ns(1'000'000'000);

NodeConfig base_config(std::uint32_t n = 3) {
  NodeConfig c;
  for (std::uint32_t i = 1; i <= n; ++i) c.members.push_back(MemberId{i});
  c.self = M1;
  c.incarnation = Incarnation{7};
  // Pinned (not the default) so the timeout arithmetic below stays explicit.
  c.attempt_timeout_min = Duration::ms(2);
  return c;
}

// One acquirer with a recording sink and a virtual clock.
struct Harness {
  explicit Harness(NodeConfig c = base_config(), std::uint64_t seed = 1) : cfg(std::move(c)), rng(seed), acq(cfg, rng) {
    sink.now = &now;
  }

  Result<AcquireId> acquire(const char* res, Duration ttl, Duration wait, bool auto_renew = false) {
    return acq.acquire(now, AcquireArgs{.resource = ResourceName(res), .ttl = ttl, .wait_until = now + wait,
                                        .auto_renew = auto_renew},
                       cfg.members, sink);
  }
  // Fires due timers up to `t`, then sets the clock to `t`.
  void run_until(Instant t) {
    while (acq.next_deadline() <= t) {
      now = max(now, acq.next_deadline());
      acq.on_deadline(now, sink);
    }
    now = t;
  }
  void at(Instant t) { run_until(t); }

  std::vector<Request> requests() const {
    std::vector<Request> out;
    for (const auto& [to, r] : sink.all<Request>()) out.push_back(r);
    return out;
  }
  // The REQUEST of the latest attempt (they all carry the same lease and token).
  Request last_request() const {
    const auto r = requests();
    EXPECT_FALSE(r.empty());
    return r.empty() ? Request{} : r.back();
  }
  std::size_t attempts() const { return requests().size() / cfg.members.size(); }
  Request last_request_of(const char* res) const {
    const auto all = requests();
    for (auto it = all.rbegin(); it != all.rend(); ++it)
      if (it->resource.view() == res) return *it;
    ADD_FAILURE() << "no request for " << res;
    return Request{};
  }

  void grant(MemberId from, const Request& r) {
    acq.on_grant(now, from, Grant{.resource = r.resource, .lease = r.lease, .token = r.token}, sink);
  }
  void deny(MemberId from, const Request& r, DenyReason why, Token fence = Token{0},
            Duration time_left = Duration::zero(), MemberId holder = MemberId{9}) {
    acq.on_deny(now, from, Deny{.resource = r.resource, .lease = r.lease, .token = r.token, .reason = why,
                                 .holder = why == DenyReason::held ? holder : MemberId{},
                                 .time_left = time_left, .fence = fence},
                sink);
  }
  // A held denial from a voter whose waiter table was full: it kept nothing.
  void deny_unqueued(MemberId from, const Request& r, Duration time_left) {
    acq.on_deny(now, from, Deny{.resource = r.resource, .lease = r.lease, .token = r.token, .reason = DenyReason::held,
                                 .holder = MemberId{9}, .time_left = time_left, .fence = Token{3}, .unqueued = true},
                sink);
  }
  void ack(MemberId from, const Renew& r, bool ok = true, DenyReason why = {}) {
    acq.on_renew_ack(now, from, RenewAck{.resource = r.resource, .lease = r.lease, .token = r.token,
                                         .round = r.round, .ok = ok, .reason = why, .fence = r.token},
                     sink);
  }
  void free_notice(MemberId from, const char* res, Token fence = Token{0}, std::uint32_t waiters = 1) {
    acq.on_free(now, from, Free{.resource = ResourceName(res), .fence = fence, .waiters = waiters}, sink);
  }

  std::vector<Event> events() const {
    std::vector<Event> out;
    for (const auto& [t, e] : sink.events) out.push_back(e);
    return out;
  }
  std::optional<std::pair<Instant, Event>> last_event() const {
    if (sink.events.empty()) return std::nullopt;
    return sink.events.back();
  }
  std::vector<std::pair<MemberId, Release>> releases() const { return sink.all<Release>(); }

  NodeConfig cfg;
  Rng rng;
  Acquirer acq;
  FakeSink sink;
  Instant now = T0;
};

// validity_end from the definition: t0 + floor(ttl·(1e6−rho)/(1e6+rho)) − margin.
Instant expected_validity(Instant t0, std::int64_t ttl_ns, std::int64_t rho_ppm = 10'000,
                          std::int64_t margin_ns = 2'000'000) {
  return Instant::from_ns(t0.ns() + ttl_ns * (1'000'000 - rho_ppm) / (1'000'000 + rho_ppm) - margin_ns);
}

TEST(Acquirer, UncontendedAttemptWinsWithAMajority) {
  Harness h;
  auto id = h.acquire("seat:14A", Duration::s(10), Duration::s(1));
  ASSERT_TRUE(id.ok());
  const auto reqs = h.sink.all<Request>();
  ASSERT_EQ(reqs.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(reqs[i].first, MemberId{static_cast<std::uint32_t>(i + 1)}) << "every voter, itself included";
    EXPECT_EQ(reqs[i].second, reqs[0].second);
  }
  const Request r = reqs[0].second;
  EXPECT_EQ(r.token, Token{1});
  EXPECT_EQ(r.ttl, Duration::s(10));
  EXPECT_EQ(r.lease.owner, M1);
  EXPECT_EQ(r.lease.incarnation, Incarnation{7}) << "lease ids carry the incarnation";
  h.at(T0 + Duration::ms(1));
  h.grant(M1, r);
  EXPECT_TRUE(h.events().empty()) << "one grant of three is not a majority";
  h.grant(M1, r);  // a duplicate counts once
  EXPECT_TRUE(h.events().empty());
  h.grant(M3, r);
  ASSERT_EQ(h.events().size(), 1u);
  const Event e = h.events()[0];
  EXPECT_EQ(e.kind, EventKind::acquired);
  EXPECT_EQ(e.id, *id);
  EXPECT_EQ(e.token, Token{1});
  // Measured from t0 = T0 (before the first send), not from the majority at T0+1ms.
  EXPECT_EQ(e.validity_end, expected_validity(T0, 10'000'000'000));
  const auto info = h.acq.lease(*id);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->state, LeaseInfo::State::held);
  EXPECT_EQ(info->valid_from, T0);
  EXPECT_TRUE(h.releases().empty());
}

TEST(Acquirer, TokenIsAboveEverythingSeen) {
  Harness h;
  h.acq.observe(Token{100});
  h.acq.observe(Token{40});  // lower: no effect
  ASSERT_TRUE(h.acquire("r", Duration::s(1), Duration::s(1)).ok());
  EXPECT_EQ(h.last_request().token, Token{101});
  h.free_notice(M2, "other", Token{500});
  ASSERT_TRUE(h.acquire("q", Duration::s(1), Duration::s(1)).ok());
  EXPECT_EQ(h.last_request().token, Token{501});
}

TEST(Acquirer, FailedAttemptReleasesExactlyThePartialGrants) {
  struct Case {
    std::uint32_t voters;
    std::vector<MemberId> grants;
    std::vector<MemberId> held;  // denials, enough to make a majority unreachable
  };
  const Case cases[] = {
      {.voters = 3, .grants = {M1}, .held = {M2, M3}},
      {.voters = 3, .grants = {}, .held = {M2, M3}},
      {.voters = 5, .grants = {M1, M4}, .held = {M2, M3, M5}},
      {.voters = 5, .grants = {M2}, .held = {M1, M3, M5}},
  };
  for (const Case& c : cases) {
    Harness h(base_config(c.voters));
    ASSERT_TRUE(h.acquire("r", Duration::s(10), Duration::s(30)).ok());
    const Request r = h.last_request();
    h.at(T0 + Duration::ms(1));
    for (MemberId g : c.grants) h.grant(g, r);
    for (std::size_t i = 0; i < c.held.size(); ++i) {
      EXPECT_TRUE(h.releases().empty()) << "the attempt is still open";
      h.deny(c.held[i], r, DenyReason::held, Token{0}, Duration::s(5));
    }
    const auto rel = h.releases();
    ASSERT_EQ(rel.size(), c.grants.size());
    for (std::size_t i = 0; i < rel.size(); ++i) {
      EXPECT_EQ(rel[i].first, c.grants[i]);
      EXPECT_EQ(rel[i].second, (Release{.resource = r.resource, .lease = r.lease, .token = r.token}));
    }
    EXPECT_TRUE(h.events().empty()) << "waiting, not failed";
    EXPECT_EQ(h.attempts(), 1u) << "no retry before FREE or the hold's end";
  }
}

TEST(Acquirer, LateGrantIsAnsweredWithRelease) {
  Harness h;
  ASSERT_TRUE(h.acquire("r", Duration::s(10), Duration::s(30)).ok());
  const Request r = h.last_request();
  // No answers: the attempt times out after clamp(4·srtt, 2 ms, 1 s) = 4 ms.
  h.run_until(T0 + Duration::ms(4));
  EXPECT_EQ(h.attempts(), 1u);
  h.grant(M2, r);  // a grant for the abandoned attempt
  auto rel = h.releases();
  ASSERT_EQ(rel.size(), 1u);
  EXPECT_EQ(rel[0].first, M2);
  EXPECT_EQ(rel[0].second, (Release{.resource = r.resource, .lease = r.lease, .token = r.token}));
  EXPECT_EQ(h.sink.st.late_releases, 1u);
  // A grant for somebody else's lease is none of our business.
  Request foreign = r;
  foreign.lease.owner = M3;
  h.grant(M2, foreign);
  EXPECT_EQ(h.releases().size(), 1u);
}

TEST(Acquirer, LateGrantAfterGivingUpIsReleased) {
  Harness h;
  auto id = h.acquire("r", Duration::s(10), Duration::zero());  // try_acquire
  const Request r = h.last_request();
  h.run_until(T0 + Duration::ms(4));
  ASSERT_EQ(h.events().size(), 1u);
  EXPECT_EQ(h.events()[0].kind, EventKind::acquire_failed);
  h.grant(M3, r);
  ASSERT_EQ(h.releases().size(), 1u);
  EXPECT_EQ(h.releases()[0].first, M3);
  EXPECT_FALSE(h.acq.lease(*id).has_value());
}

TEST(Acquirer, StaleOnlyDenialsRetryAtOnceAboveTheReportedFence) {
  Harness h;
  ASSERT_TRUE(h.acquire("r", Duration::s(10), Duration::s(30)).ok());
  const Request r1 = h.last_request();
  h.at(T0 + Duration::ms(1));
  h.grant(M1, r1);
  h.deny(M2, r1, DenyReason::stale, Token{50});
  EXPECT_EQ(h.attempts(), 1u);
  h.deny(M3, r1, DenyReason::stale, Token{40});
  // At once (same instant), all voters, a fresh lease id, a token above 50.
  ASSERT_EQ(h.attempts(), 2u);
  const Request r2 = h.last_request();
  EXPECT_EQ(r2.token, Token{51});
  EXPECT_NE(r2.lease, r1.lease);
  EXPECT_EQ(h.sink.sent.back().at, h.now);
  EXPECT_EQ(h.sink.st.stale_retries, 1u);
  // The grant of the failed attempt was given back.
  ASSERT_EQ(h.releases().size(), 1u);
  EXPECT_EQ(h.releases()[0].first, M1);
  EXPECT_EQ(h.releases()[0].second.token, r1.token);
  h.grant(M2, r2);
  h.grant(M3, r2);
  ASSERT_EQ(h.events().size(), 1u);
  EXPECT_EQ(h.events()[0].kind, EventKind::acquired);
  EXPECT_EQ(h.events()[0].token, Token{51});
  // t0 of the retry, not of the first attempt.
  EXPECT_EQ(h.events()[0].validity_end, expected_validity(T0 + Duration::ms(1), 10'000'000'000));
}

TEST(Acquirer, StaleRetriesAreBounded) {
  struct Case {
    std::uint32_t stale_retries_max;
  };
  const Case cases[] = {{.stale_retries_max = 0}, {.stale_retries_max = 1}, {.stale_retries_max = 3}};
  for (const Case& c : cases) {
    NodeConfig cfg = base_config();
    cfg.stale_retries_max = c.stale_retries_max;
    Harness h(cfg);
    ASSERT_TRUE(h.acquire("r", Duration::s(10), Duration::zero()).ok());  // try_acquire
    for (std::uint64_t round = 1; round <= 10 && h.events().empty(); ++round) {
      const Request r = h.last_request();
      const Token fence{r.token.value + 100};  // someone keeps getting ahead
      h.deny(M2, r, DenyReason::stale, fence);
      h.deny(M3, r, DenyReason::stale, fence);
      if (h.events().empty()) {
        EXPECT_GT(h.last_request().token, fence);
      }
    }
    EXPECT_EQ(h.attempts(), c.stale_retries_max + 1u);
    ASSERT_EQ(h.events().size(), 1u);
    EXPECT_EQ(h.events()[0].kind, EventKind::acquire_failed);
    EXPECT_EQ(h.events()[0].error, Errc::unavailable);
  }
}

TEST(Acquirer, HeldDenialWaitsForFree) {
  Harness h;
  ASSERT_TRUE(h.acquire("r", Duration::s(10), Duration::s(30)).ok());
  const Request r1 = h.last_request();
  h.at(T0 + Duration::ms(1));  // answers after exactly one srtt: the estimate stays 1 ms
  h.deny(M2, r1, DenyReason::held, Token{3}, Duration::s(5));
  h.deny(M3, r1, DenyReason::held, Token{3}, Duration::s(5));
  ASSERT_EQ(h.acq.srtt(h.now), Duration::ms(1));
  // No blind polling: nothing until FREE (or the hold's end).
  h.run_until(T0 + Duration::s(2));
  EXPECT_EQ(h.attempts(), 1u);
  const Instant free_at = h.now;
  h.free_notice(M2, "r", Token{3});
  // Retry after jitter in [0, J], J = srtt = 1 ms.
  h.run_until(free_at + Duration::ms(1));
  ASSERT_EQ(h.attempts(), 2u);
  const Instant retry_at = h.sink.sent.back().at;
  EXPECT_GE(retry_at, free_at);
  EXPECT_LE(retry_at, free_at + Duration::ms(1));
  EXPECT_GT(h.last_request().token, Token{3});
}

TEST(Acquirer, HeldDenialWithoutFreeRetriesWhenTheHoldEnds) {
  Harness h;
  ASSERT_TRUE(h.acquire("r", Duration::s(10), Duration::s(30)).ok());
  const Request r1 = h.last_request();
  h.at(T0 + Duration::ms(1));
  h.deny(M2, r1, DenyReason::held, Token{3}, Duration::s(5));
  h.deny(M3, r1, DenyReason::held, Token{3}, Duration::s(3));
  const Instant denied = h.now;
  h.run_until(denied + Duration::s(5) - Duration::ns(1));
  EXPECT_EQ(h.attempts(), 1u) << "not before the longest reported hold ends";
  h.run_until(denied + Duration::s(5) + Duration::ms(1));
  ASSERT_EQ(h.attempts(), 2u) << "the FREE was lost: try when the hold ends, plus jitter";
}

TEST(Acquirer, HeldDenialsThatKeptNoRequestArePolled) {
  // Guarantee 3 under full waiter tables: no voter kept the request, so no
  // FREE or hand-off will come. Ask again a few round trips later, not when
  // the reported hold ends (the holder may release long before).
  Harness h;
  ASSERT_TRUE(h.acquire("r", Duration::s(10), Duration::s(30)).ok());
  const Request r1 = h.last_request();
  h.at(T0 + Duration::ms(1));
  h.deny_unqueued(M2, r1, Duration::s(5));
  h.deny_unqueued(M3, r1, Duration::s(5));
  const Instant denied = h.now;
  ASSERT_EQ(h.acq.srtt(h.now), Duration::ms(1));
  // kUnqueuedPollRtts (8) round trips, plus the jitter (at most J = 1 ms).
  h.run_until(denied + Duration::ms(8) - Duration::ns(1));
  EXPECT_EQ(h.attempts(), 1u) << "a poll, not a busy loop";
  h.run_until(denied + Duration::ms(9));
  EXPECT_EQ(h.attempts(), 2u) << "polled well before the hold's end";
  EXPECT_EQ(h.sink.st.unqueued_polls, 1u);
}

TEST(Acquirer, AnswersReadAfterTheirDeadlineAreNoRoundTripSamples) {
  // This process slept through the attempt (a pause): the answers queued
  // meanwhile are read seconds after the REQUESTs. They must not set the
  // round-trip estimate, which scales every retry's jitter.
  Harness h;
  ASSERT_TRUE(h.acquire("r", Duration::s(10), Duration::s(30)).ok());
  const Request r1 = h.last_request();
  h.now = T0 + Duration::ms(1);  // in time: a sample of 1 ms
  h.deny(M2, r1, DenyReason::held, Token{3}, Duration::s(5));
  ASSERT_EQ(h.acq.srtt(h.now), Duration::ms(1));
  h.now = T0 + Duration::s(5);  // no timer ran: read after the attempt's deadline
  h.deny(M3, r1, DenyReason::held, Token{3}, Duration::s(5));
  EXPECT_EQ(h.acq.srtt(h.now), Duration::ms(1)) << "a 5 s answer taken for a round trip";
}

TEST(Acquirer, KeptVotersThatMissAMajorityDoNotStopThePoll) {
  // M3 kept the request, M2 did not: a majority {M1, M2} may come free while
  // M3 is still held (or its FREE is lost), and nobody else would tell us.
  Harness h;
  ASSERT_TRUE(h.acquire("r", Duration::s(10), Duration::s(30)).ok());
  const Request r1 = h.last_request();
  h.at(T0 + Duration::ms(1));
  h.deny_unqueued(M2, r1, Duration::s(5));
  h.deny(M3, r1, DenyReason::held, Token{3}, Duration::s(5));
  const Instant denied = h.now;
  h.run_until(denied + Duration::ms(9));
  EXPECT_EQ(h.attempts(), 2u) << "polled although one voter kept the request";
  EXPECT_EQ(h.sink.st.unqueued_polls, 1u);
}

TEST(Acquirer, UnqueuedPollsBackOffToFourTimes) {
  Harness h;
  ASSERT_TRUE(h.acquire("r", Duration::s(10), Duration::s(30)).ok());
  std::vector<Duration> gaps;
  for (int poll = 0; poll < 4; ++poll) {
    const Request r = h.last_request();
    h.at(h.now + Duration::ms(1));
    h.deny_unqueued(M2, r, Duration::s(5));
    h.deny_unqueued(M3, r, Duration::s(5));
    const Instant denied = h.now;
    const std::size_t before = h.attempts();
    // Up to the next attempt (the poll), and no further: its REQUESTs are
    // answered at once in the next round of the loop.
    while (h.attempts() == before && h.now < denied + Duration::ms(40)) h.run_until(h.acq.next_deadline());
    ASSERT_EQ(h.attempts(), before + 1) << "poll " << poll;
    gaps.push_back(h.sink.sent.back().at - denied);
  }
  // 8 rtt, then 16, 32, 32 (rtt stays 1 ms), each plus at most one jitter window.
  const std::int64_t base_ms[] = {8, 16, 32, 32};
  for (std::size_t i = 0; i < gaps.size(); ++i) {
    EXPECT_GE(gaps[i], Duration::ms(base_ms[i])) << "poll " << i;
    EXPECT_LE(gaps[i], Duration::ms(base_ms[i] + 2)) << "poll " << i;
  }
  EXPECT_EQ(h.sink.st.unqueued_polls, 4u);
}

TEST(Acquirer, FreeDuringTheAttemptIsRemembered) {
  Harness h;
  ASSERT_TRUE(h.acquire("r", Duration::s(10), Duration::s(30)).ok());
  const Request r1 = h.last_request();
  h.at(T0 + Duration::ms(1));
  h.deny(M2, r1, DenyReason::held, Token{3}, Duration::s(5));
  h.free_notice(M2, "r", Token{3});  // the holder released while we were still counting
  h.deny(M3, r1, DenyReason::held, Token{3}, Duration::s(5));
  const Instant failed = h.now;
  h.run_until(failed + Duration::ms(1));
  EXPECT_EQ(h.attempts(), 2u) << "retry after jitter, not after the reported 5 s";
}

TEST(Acquirer, SplitWaitsForSilentVotersOnlyAsLongAgainAsTheAnswersTook) {
  // One voter of three is down: our own grant and a "held" denial for a
  // contender leave the outcome to a voter that never answers. The attempt
  // gives it as long again as the denial took, and at least two round-trip
  // estimates (here the denial's own round trip), far less than its 50 ms
  // timeout, then gives back its grant.
  struct Case {
    Duration denial_after;  // the contender's voter answers then
    Duration fails_after;   // the attempt fails then (from its start)
  };
  for (const Case& c : {Case{Duration::ms(1), Duration::ms(3)}, Case{Duration::us(300), Duration::us(900)},
                        Case{Duration::ms(3), Duration::ms(9)}}) {
    NodeConfig cfg = base_config();
    cfg.attempt_timeout_min = Duration::ms(50);
    Harness h(cfg);
    ASSERT_TRUE(h.acquire("r", Duration::s(10), Duration::s(30)).ok());
    const Request r1 = h.last_request();
    h.grant(M1, r1);
    h.at(T0 + c.denial_after);
    h.deny(M2, r1, DenyReason::held, Token{0}, Duration::s(10), M2);
    ASSERT_EQ(h.acq.srtt(h.now), c.denial_after) << "one sample: the estimate is that sample";
    h.run_until(T0 + c.fails_after - Duration::ns(1));
    EXPECT_TRUE(h.releases().empty()) << "gave up on M3 early, denial after " << c.denial_after.count_ns() << " ns";
    h.run_until(T0 + c.fails_after);
    ASSERT_EQ(h.releases().size(), 1u) << "the split fails and gives back our own grant";
    EXPECT_EQ(h.releases()[0].first, M1);
  }
}

TEST(Acquirer, SplitsDoNotDoubleTheAttemptTimeout) {
  // Split after split with a silent voter: every attempt gives up after the
  // bound (3 ms here: the denial after 1 ms, then two 1 ms estimates).
  // Before, each ended by timeout, and the timeout doubled per attempt:
  // 4, 8, 16 ... ms.
  Harness h;
  ASSERT_TRUE(h.acquire("r", Duration::s(10), Duration::s(30)).ok());
  for (int round = 0; round < 8; ++round) {
    const Request r = h.last_request();
    const Instant t0 = h.now;
    const std::size_t released = h.releases().size();
    h.grant(M1, r);
    h.at(t0 + Duration::ms(1));
    h.deny(M2, r, DenyReason::held, Token{0}, Duration::s(10), M2);
    h.run_until(t0 + Duration::ms(3));
    ASSERT_EQ(h.releases().size(), released + 1) << "round " << round << ": failed within the bound";
    h.free_notice(M2, "r");  // the contender gave up too
    const std::size_t before = h.attempts();
    while (h.attempts() == before) h.run_until(h.acq.next_deadline());
  }
}

TEST(Acquirer, JitterIsBoundedAndDoublesPerSplitVote) {
  // Each attempt gets one grant (from M2, exactly one round trip after it was
  // sent, so the round-trip estimate stays at rtt_initial = 1 ms) and then no
  // majority: a split vote. The retry waits a jitter drawn from
  // [0, J·2^(k−1)] with k the split votes so far, capped at 64·J.
  const std::int64_t J = 1'000'000;
  const std::int64_t caps[] = {J, 2 * J, 4 * J, 8 * J, 16 * J, 32 * J, 64 * J, 64 * J};
  constexpr std::size_t rounds = std::size(caps);
  std::int64_t max_gap[rounds] = {};
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    Harness h(base_config(), seed);
    ASSERT_TRUE(h.acquire("r", Duration::s(10), Duration::s(30)).ok());
    for (std::size_t k = 0; k < rounds; ++k) {
      const Request r = h.last_request();
      h.run_until(h.sink.sent.back().at + Duration::ms(1));
      h.grant(M2, r);  // one grant of two needed
      const Instant failed = h.acq.next_deadline();  // the attempt's deadline
      ASSERT_LT(failed, T0 + Duration::s(30));
      h.run_until(failed);
      ASSERT_EQ(h.attempts(), k + 1) << "seed " << seed;
      const std::int64_t gap = (h.acq.next_deadline() - failed).count_ns();  // the retry is due then
      EXPECT_GE(gap, 0);
      EXPECT_LE(gap, caps[k]) << "seed " << seed << " split " << k + 1;
      max_gap[k] = std::max(max_gap[k], gap);
      h.run_until(failed + Duration::ns(gap));
      ASSERT_EQ(h.attempts(), k + 2) << "seed " << seed;
      EXPECT_EQ(h.sink.sent.back().at, failed + Duration::ns(gap));
    }
  }
  // Over 200 seeds the largest draw comes close to its cap: the jitter really
  // doubles (and the first one really is within one round trip).
  for (std::size_t k = 0; k < rounds; ++k) EXPECT_GT(max_gap[k], caps[k] * 3 / 4) << "split " << k + 1;
}

TEST(Acquirer, RetryAfterFreeScalesWithTheRaceNotWithPastRaces) {
  // After a FREE that told n members, the retry waits a draw from at least
  // [0, 2·n·J] (J alone for n = 1). Split votes widen it only within one race:
  // a FREE that comes more than 8·J after the last failure means someone held
  // the resource meanwhile, and a waiter that lost earlier races is not pushed
  // behind newcomers.
  struct Case {
    const char* name;
    std::uint32_t splits_first;  // split votes lost before the FREE
    Duration free_after;         // from the last failure to the FREE
    std::uint32_t waiters;       // the FREE's race size
    Duration max_wait;           // window, J = 1 ms
  };
  const Case cases[] = {
      {.name = "alone", .splits_first = 0, .free_after = Duration::zero(), .waiters = 1, .max_wait = Duration::ms(1)},
      {.name = "three", .splits_first = 0, .free_after = Duration::zero(), .waiters = 3, .max_wait = Duration::ms(6)},
      {.name = "three, five splits, then a holder", .splits_first = 5, .free_after = Duration::ms(9), .waiters = 3,
       .max_wait = Duration::ms(6)},
      {.name = "three, five splits, FREE at once", .splits_first = 5, .free_after = Duration::zero(), .waiters = 3,
       .max_wait = Duration::ms(16)},
  };
  for (const Case& c : cases) {
    Duration longest = Duration::zero();
    for (std::uint64_t seed = 1; seed <= 200; ++seed) {
      Harness h(base_config(), seed);
      ASSERT_TRUE(h.acquire("r", Duration::s(10), Duration::s(30)).ok());
      for (std::uint32_t k = 0; k < c.splits_first; ++k) {
        const Request r = h.last_request();
        const std::size_t n = h.attempts();
        h.at(h.now + Duration::ms(1));  // J stays 1 ms
        h.grant(M2, r);                 // one grant, then two noes: a split vote
        h.deny(M1, r, DenyReason::overloaded);
        h.deny(M3, r, DenyReason::overloaded);
        h.run_until(h.acq.next_deadline());  // its retry, after jitter
        ASSERT_EQ(h.attempts(), n + 1);
      }
      const Request r = h.last_request();
      h.at(h.now + Duration::ms(1));
      h.deny(M2, r, DenyReason::held, Token{1}, Duration::s(5));
      h.deny(M3, r, DenyReason::held, Token{1}, Duration::s(5));
      h.at(h.now + c.free_after);
      const std::size_t sent_before = h.sink.sent.size();
      const Instant free_at = h.now;
      h.free_notice(M2, "r", Token{1}, c.waiters);
      h.run_until(free_at + c.max_wait);
      ASSERT_GT(h.sink.sent.size(), sent_before) << c.name << ": a retry within the window";
      ASSERT_TRUE(std::holds_alternative<Request>(h.sink.sent[sent_before].msg)) << c.name;
      const Duration waited = h.sink.sent[sent_before].at - free_at;  // the retry's first REQUEST
      EXPECT_LE(waited, c.max_wait) << c.name << " seed " << seed;
      longest = max(longest, waited);
    }
    EXPECT_GT(longest, c.max_wait * 3 / 4) << c.name << ": the draws fill the window";
  }
}

TEST(Acquirer, AFreeFromTheOwnVoterStartsTheRaceHalfARoundTripLater) {
  // The member's own voter tells it at once; remote waiters hear half a round
  // trip later. The local waiter's retry is shifted by J/2 so the holder's
  // neighbours get no head start: never before J/2 after an in-process FREE.
  // (Here M2 and M3 said held and hold the standing request, so a FREE from
  // M1 leaves them free to hand the lease over: the race waits J longer for
  // that. A FREE from M2 means M2 will not: then no majority can.)
  Duration earliest_local = Duration::max(), earliest_remote = Duration::max();
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    for (const MemberId from : {M1, M2}) {
      Harness h(base_config(), seed);
      ASSERT_TRUE(h.acquire("r", Duration::s(10), Duration::s(30)).ok());
      const Request r = h.last_request();
      h.at(T0 + Duration::ms(1));  // J = 1 ms
      h.deny(M2, r, DenyReason::held, Token{1}, Duration::s(5));
      h.deny(M3, r, DenyReason::held, Token{1}, Duration::s(5));
      const std::size_t sent_before = h.sink.sent.size();
      const Instant free_at = h.now;
      h.free_notice(from, "r", Token{1}, 1);
      h.run_until(free_at + Duration::ms(3));
      ASSERT_GT(h.sink.sent.size(), sent_before);
      const Duration waited = h.sink.sent[sent_before].at - free_at;
      (from == M1 ? earliest_local : earliest_remote) = min(from == M1 ? earliest_local : earliest_remote, waited);
      EXPECT_LE(waited, from == M1 ? Duration::us(2500) : Duration::ms(1));
    }
  }
  EXPECT_GE(earliest_local, Duration::us(1500));
  EXPECT_LT(earliest_remote, Duration::us(100)) << "a remote FREE's draw starts at once";
}

TEST(Acquirer, AFreeFromTheOwnVoterWaitsHalfTheMeasuredReleaseRoundTrip) {
  // After a holder here released, the time until another voter's FREE comes
  // back is a release round trip; the local waiter's next in-process FREE is
  // shifted by half of it. Samples longer than 8 request round trips (J) are
  // ignored, and then the shift stays J/2.
  struct Case {
    const char* name;
    Duration remote_free_after;  // from the release to member 2's FREE
    Duration lag;                // the local waiter's shift in the next race
  };
  const Case cases[] = {
      {.name = "3 ms release round trip", .remote_free_after = Duration::ms(3), .lag = Duration::us(1500)},
      {.name = "20 ms, beyond 8 J: ignored", .remote_free_after = Duration::ms(20), .lag = Duration::us(500)},
  };
  for (const Case& c : cases) {
    Duration earliest = Duration::max(), latest = Duration::zero();
    for (std::uint64_t seed = 1; seed <= 100; ++seed) {
      Harness h(base_config(), seed);
      // Every voter answers 1 ms after a request: J = 1 ms.
      const auto answer_all = [&h](bool grant) {
        const Request r = h.last_request();
        h.at(h.now + Duration::ms(1));
        for (const MemberId v : {M1, M2, M3}) {
          if (grant) h.grant(v, r);
          else h.deny(v, r, DenyReason::held, Token{1}, Duration::s(5));
        }
      };
      auto a = h.acquire("r", Duration::s(10), Duration::s(30));
      ASSERT_TRUE(a.ok());
      answer_all(true);
      auto b = h.acquire("r", Duration::s(10), Duration::s(30));  // waits for a
      ASSERT_TRUE(b.ok());
      answer_all(false);
      ASSERT_TRUE(h.acq.release(h.now, *a, h.sink).ok());
      h.at(h.now + c.remote_free_after);
      h.free_notice(M2, "r", Token{1}, 1);
      h.run_until(h.now + Duration::ms(2));  // b's retry
      answer_all(true);                      // b holds
      auto n = h.acquire("r", Duration::s(10), Duration::s(30));  // waits for b
      ASSERT_TRUE(n.ok());
      answer_all(false);
      ASSERT_TRUE(h.acq.release(h.now, *b, h.sink).ok());
      const std::size_t sent_before = h.sink.sent.size();
      const Instant free_at = h.now;
      h.free_notice(M1, "r", Token{2}, 1);  // in-process, at once
      h.run_until(free_at + Duration::ms(4));
      ASSERT_GT(h.sink.sent.size(), sent_before) << c.name;
      ASSERT_TRUE(std::holds_alternative<Request>(h.sink.sent[sent_before].msg)) << c.name;
      const Duration waited = h.sink.sent[sent_before].at - free_at;
      earliest = min(earliest, waited);
      latest = max(latest, waited);
    }
    EXPECT_GE(earliest, c.lag) << c.name;
    EXPECT_LT(earliest, c.lag + Duration::us(100)) << c.name << ": some draws come early in the window";
    EXPECT_LE(latest, c.lag + Duration::ms(1)) << c.name << ": lag + one J at most";
  }
}

TEST(Acquirer, LosingToAPlainHolderDoesNotWidenTheJitter) {
  // Attempts that get no grant at all (nobody answers) are not split votes:
  // however many fail, the retry jitter stays within one round trip.
  const std::int64_t J = 1'000'000;
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    Harness h(base_config(), seed);
    ASSERT_TRUE(h.acquire("r", Duration::s(10), Duration::s(30)).ok());
    for (std::size_t k = 0; k < 6; ++k) {
      const Instant failed = h.acq.next_deadline();
      h.run_until(failed);
      const std::int64_t gap = (h.acq.next_deadline() - failed).count_ns();
      EXPECT_LE(gap, J) << "seed " << seed << " failure " << k + 1;
      h.run_until(failed + Duration::ns(gap));
    }
  }
}

TEST(Acquirer, WaitDeadlineFailsBusyOrUnavailable) {
  enum class Answer { held, none, quarantined };
  struct Case {
    const char* name;
    Answer answer;
    Errc want;
  };
  const Case cases[] = {
      {.name = "held", .answer = Answer::held, .want = Errc::busy},
      {.name = "no answers", .answer = Answer::none, .want = Errc::unavailable},
      {.name = "quarantined voters", .answer = Answer::quarantined, .want = Errc::unavailable},
  };
  for (const Case& c : cases) {
    Harness h;
    auto id = h.acquire("r", Duration::s(10), Duration::s(1));
    const Instant wait_until = T0 + Duration::s(1);
    // Answer every attempt the same way, one round trip (1 ms, the initial
    // estimate, so the jitter base stays 1 ms) after it was sent, until the
    // wait is over.
    std::size_t seen = 0;
    const Instant limit = wait_until + Duration::s(1);
    while (h.events().empty() && h.now < limit) {
      bool answered = false;
      while (seen < h.sink.sent.size() && !answered) {
        const Sent s = h.sink.sent[seen++];  // a copy: answering may send more
        const Request* r = std::get_if<Request>(&s.msg);
        if (!r || s.to == M1 || c.answer == Answer::none) continue;
        answered = true;
        h.run_until(max(h.now, s.at + Duration::ms(1)));
        if (!h.events().empty()) break;
        if (c.answer == Answer::held) h.deny(s.to, *r, DenyReason::held, Token{0}, Duration::s(60));
        if (c.answer == Answer::quarantined) h.deny(s.to, *r, DenyReason::quarantined);
      }
      if (!answered) h.run_until(min(h.acq.next_deadline(), limit));
    }
    ASSERT_EQ(h.events().size(), 1u) << c.name;
    EXPECT_EQ(h.last_event()->first, wait_until) << c.name << ": fails at the wait deadline";
    EXPECT_EQ(h.events()[0].kind, EventKind::acquire_failed) << c.name;
    EXPECT_EQ(h.events()[0].error, c.want) << c.name;
    EXPECT_EQ(h.events()[0].id, *id);
    EXPECT_EQ(h.acq.in_flight(), 0u);
  }
}

TEST(Acquirer, TryAcquireMakesOneAttempt) {
  enum class Answer { held_with_one_grant, none };
  struct Case {
    const char* name;
    Answer answer;
    Errc want;
    std::size_t releases;
  };
  const Case cases[] = {
      {.name = "held", .answer = Answer::held_with_one_grant, .want = Errc::busy, .releases = 1},
      {.name = "no answers", .answer = Answer::none, .want = Errc::unavailable, .releases = 0},
  };
  for (const Case& c : cases) {
    Harness h;
    ASSERT_TRUE(h.acquire("r", Duration::s(10), Duration::zero()).ok());
    const Request r = h.last_request();
    if (c.answer == Answer::held_with_one_grant) {
      h.grant(M1, r);
      h.deny(M2, r, DenyReason::held, Token{0}, Duration::s(5));
      h.deny(M3, r, DenyReason::held, Token{0}, Duration::s(5));
    }
    h.run_until(T0 + Duration::s(10));
    EXPECT_EQ(h.attempts(), 1u) << c.name;
    ASSERT_EQ(h.events().size(), 1u) << c.name;
    EXPECT_EQ(h.events()[0].kind, EventKind::acquire_failed);
    EXPECT_EQ(h.events()[0].error, c.want) << c.name;
    EXPECT_EQ(h.releases().size(), c.releases) << c.name;
  }
}

TEST(Acquirer, ReleaseCancelsAPendingAcquire) {
  struct Case {
    const char* name;
    bool in_backoff;
  };
  const Case cases[] = {{.name = "attempting", .in_backoff = false}, {.name = "backoff", .in_backoff = true}};
  for (const Case& c : cases) {
    Harness h;
    auto id = h.acquire("r", Duration::s(10), Duration::s(30));
    const Request r = h.last_request();
    h.grant(M1, r);
    if (c.in_backoff) {
      h.deny(M2, r, DenyReason::held, Token{0}, Duration::s(5));
      h.deny(M3, r, DenyReason::held, Token{0}, Duration::s(5));
    }
    const std::size_t releases_before = h.releases().size();
    ASSERT_TRUE(h.acq.release(h.now, *id, h.sink).ok());
    if (!c.in_backoff) {
      ASSERT_EQ(h.releases().size(), 1u) << "the partial grant is given back";
      EXPECT_EQ(h.releases()[0].first, M1);
    } else {
      EXPECT_EQ(h.releases().size(), releases_before);
    }
    ASSERT_EQ(h.events().size(), 1u) << c.name;
    EXPECT_EQ(h.events()[0].kind, EventKind::acquire_failed);
    EXPECT_EQ(h.events()[0].error, Errc::cancelled);
    EXPECT_EQ(h.acq.in_flight(), 0u);
    EXPECT_EQ(h.acq.release(h.now, *id, h.sink).code(), Errc::not_held);
    // A grant arriving now is given back.
    const std::size_t n = h.releases().size();
    h.grant(M2, r);
    EXPECT_EQ(h.releases().size(), n + 1) << c.name;
    h.run_until(T0 + Duration::s(60));
    EXPECT_EQ(h.events().size(), 1u) << c.name << ": exactly one terminal event";
    EXPECT_EQ(h.attempts(), 1u);
  }
}

TEST(Acquirer, ReleaseOfAHeldLeaseTellsEveryVoter) {
  Harness h;
  auto id = h.acquire("r", Duration::s(10), Duration::s(30));
  const Request r = h.last_request();
  h.grant(M1, r);
  h.grant(M2, r);
  ASSERT_EQ(h.events().size(), 1u);
  ASSERT_TRUE(h.acq.release(h.now, *id, h.sink).ok());
  const auto rel = h.releases();
  ASSERT_EQ(rel.size(), 3u);
  for (const auto& [to, m] : rel) EXPECT_EQ(m, (Release{.resource = r.resource, .lease = r.lease, .token = r.token}));
  EXPECT_EQ(h.events().size(), 1u) << "no event for an explicit release";
  EXPECT_FALSE(h.acq.lease(*id).has_value());
  h.grant(M3, r);  // late duplicate grant for the released lease
  EXPECT_EQ(h.releases().size(), 4u);
}

TEST(Acquirer, MajorityCompletingAtOrAfterValidityEndIsAFailedAttempt) {
  // ttl 10 ms: validity = floor(10e6·99/101) − 2e6 = 7,801,980 ns after t0. A
  // 5 ms round-trip estimate keeps the attempt open for 20 ms.
  struct Case {
    std::int64_t majority_at_ns;  // after t0
    bool acquired;
  };
  const Case cases[] = {{.majority_at_ns = 7'801'979, .acquired = true},
                        {.majority_at_ns = 7'801'980, .acquired = false},
                        {.majority_at_ns = 9'000'000, .acquired = false}};
  for (const Case& c : cases) {
    NodeConfig cfg = base_config();
    cfg.rtt_initial = Duration::ms(5);
    Harness h(cfg);
    ASSERT_TRUE(h.acquire("r", Duration::ms(10), Duration::zero()).ok());
    const Request r = h.last_request();
    h.now = T0 + Duration::ns(c.majority_at_ns);
    h.grant(M2, r);
    h.grant(M3, r);
    ASSERT_EQ(h.events().size(), 1u) << c.majority_at_ns;
    if (c.acquired) {
      EXPECT_EQ(h.events()[0].kind, EventKind::acquired);
      EXPECT_EQ(h.events()[0].validity_end, T0 + Duration::ns(7'801'980));
      EXPECT_TRUE(h.releases().empty());
    } else {
      EXPECT_EQ(h.events()[0].kind, EventKind::acquire_failed) << c.majority_at_ns;
      EXPECT_EQ(h.releases().size(), 2u) << "both useless grants are given back";
    }
  }
}

// ---- renewals --------------------------------------------------------------

// A harness holding "r" (ttl 10 s), acquired with answers after 1 ms.
struct Held {
  explicit Held(bool auto_renew = false, NodeConfig cfg = base_config()) : h(std::move(cfg)) {
    id = *h.acquire("r", Duration::s(10), Duration::s(30), auto_renew);
    req = h.last_request();
    h.at(T0 + Duration::ms(1));
    for (std::uint32_t i = 1; i <= majority(h.cfg.members.size()); ++i) h.grant(MemberId{i}, req);
    EXPECT_EQ(h.events().size(), 1u);
    validity_end = h.acq.lease(id)->validity_end;
  }
  std::vector<Renew> renews() const {
    std::vector<Renew> out;
    for (const auto& [to, r] : h.sink.all<Renew>()) out.push_back(r);
    return out;
  }
  Harness h;
  AcquireId id;
  Request req;
  Instant validity_end;
};

TEST(Acquirer, RenewRoundExtendsFromItsSendTime) {
  Held held;
  Harness& h = held.h;
  h.at(T0 + Duration::s(2));
  ASSERT_TRUE(h.acq.renew(h.now, held.id, h.sink).ok());
  const auto rs = held.renews();
  ASSERT_EQ(rs.size(), 3u);
  EXPECT_EQ(rs[0].round, 1u);
  EXPECT_EQ(rs[0].token, held.req.token);
  EXPECT_EQ(rs[0].lease, held.req.lease);
  const Instant t_r = h.now;
  h.at(t_r + Duration::ms(1));
  h.ack(M2, rs[1]);
  EXPECT_EQ(h.events().size(), 1u);
  h.ack(M3, rs[2]);
  ASSERT_EQ(h.events().size(), 2u);
  EXPECT_EQ(h.events()[1].kind, EventKind::renewed);
  EXPECT_EQ(h.events()[1].validity_end, expected_validity(t_r, 10'000'000'000));
  EXPECT_EQ(h.acq.lease(held.id)->validity_end, expected_validity(t_r, 10'000'000'000));
  EXPECT_EQ(h.acq.lease(held.id)->valid_from, t_r);
}

TEST(Acquirer, AcksOfAnOlderRoundAreIgnored) {
  Held held;
  Harness& h = held.h;
  h.at(T0 + Duration::s(2));
  ASSERT_TRUE(h.acq.renew(h.now, held.id, h.sink).ok());
  const Renew round1 = held.renews().back();
  // No answers: after the round deadline (4·srtt) a new round goes out.
  h.run_until(h.now + Duration::ms(10));
  const auto rs = held.renews();
  ASSERT_GE(rs.size(), 6u);
  const Renew round2 = rs.back();
  EXPECT_GT(round2.round, round1.round);
  const Instant t_r2 = h.sink.sent.back().at;
  h.ack(M2, round1);
  h.ack(M3, round1);
  EXPECT_EQ(h.events().size(), 1u) << "acks of round 1 do not count for round 2";
  EXPECT_EQ(h.acq.lease(held.id)->validity_end, held.validity_end);
  // Acks with the right round but another token do not count either.
  Renew wrong = round2;
  wrong.token = Token{round2.token.value + 1};
  h.ack(M2, wrong);
  h.ack(M3, wrong);
  EXPECT_EQ(h.events().size(), 1u);
  h.ack(M2, round2);
  h.ack(M3, round2);
  ASSERT_EQ(h.events().size(), 2u);
  EXPECT_EQ(h.events()[1].kind, EventKind::renewed);
  EXPECT_EQ(h.events()[1].validity_end, expected_validity(t_r2, 10'000'000'000));
}

TEST(Acquirer, RenewNacksSupersede) {
  struct Case {
    std::uint32_t voters;
    std::vector<DenyReason> nacks;  // from voters 2, 3, ...
    bool lost;
  };
  const Case cases[] = {
      {.voters = 3, .nacks = {DenyReason::not_current, DenyReason::not_current}, .lost = true},
      {.voters = 3, .nacks = {DenyReason::stale, DenyReason::not_current}, .lost = true},
      {.voters = 3, .nacks = {DenyReason::not_current}, .lost = false},
      {.voters = 3, .nacks = {DenyReason::quarantined, DenyReason::quarantined}, .lost = false},
      {.voters = 3, .nacks = {DenyReason::ttl_too_long, DenyReason::not_current}, .lost = false},
      {.voters = 5, .nacks = {DenyReason::stale, DenyReason::stale}, .lost = false},
      {.voters = 5, .nacks = {DenyReason::stale, DenyReason::stale, DenyReason::not_current}, .lost = true},
  };
  for (const Case& c : cases) {
    Held held(false, base_config(c.voters));
    Harness& h = held.h;
    ASSERT_TRUE(h.acq.renew(h.now, held.id, h.sink).ok());
    const Renew r = held.renews().back();
    for (std::size_t i = 0; i < c.nacks.size(); ++i) h.ack(MemberId{static_cast<std::uint32_t>(i + 2)}, r, false, c.nacks[i]);
    const auto ev = h.events();
    if (c.lost) {
      ASSERT_EQ(ev.size(), 3u);
      EXPECT_EQ(ev[1].kind, EventKind::renew_failed) << "the explicit renew() gets its answer";
      EXPECT_EQ(ev[1].error, Errc::lost);
      EXPECT_EQ(ev[2].kind, EventKind::lost);
      EXPECT_EQ(ev[2].lost_reason, LostReason::superseded);
      EXPECT_EQ(h.releases().size(), c.voters) << "voters are told at once";
      EXPECT_FALSE(h.acq.lease(held.id).has_value());
    } else {
      EXPECT_EQ(ev.size(), 1u);
      EXPECT_TRUE(h.acq.lease(held.id).has_value());
    }
  }
}

TEST(Acquirer, AutoRenewFailingIsReportedAtTheCutoffBeforeValidityEnds) {
  Held held(/*auto_renew=*/true);
  Harness& h = held.h;
  const Instant cutoff = drift::renew_cutoff(T0, held.validity_end);
  // valid_end − (valid_end − t0)/5, from the definition.
  EXPECT_EQ(cutoff, held.validity_end - (held.validity_end - T0) / 5);
  ASSERT_LT(cutoff, held.validity_end);
  h.run_until(cutoff - Duration::ns(1));
  EXPECT_EQ(h.events().size(), 1u);
  EXPECT_FALSE(held.renews().empty()) << "rounds were tried (and lost)";
  EXPECT_GE(h.sink.all<Renew>().size(), 6u) << "several rounds, each to every voter";
  // The first round started a third into the window.
  const auto first_renew = std::find_if(h.sink.sent.begin(), h.sink.sent.end(),
                                        [](const Sent& s) { return std::holds_alternative<Renew>(s.msg); });
  ASSERT_NE(first_renew, h.sink.sent.end());
  EXPECT_EQ(first_renew->at, T0 + (held.validity_end - T0) / 3);
  h.run_until(cutoff);
  ASSERT_EQ(h.events().size(), 2u);
  EXPECT_EQ(h.last_event()->first, cutoff);
  EXPECT_EQ(h.events()[1].kind, EventKind::lost);
  EXPECT_EQ(h.events()[1].lost_reason, LostReason::renew_failing);
  EXPECT_LT(h.now, held.validity_end) << "told while the lease is still valid";
}

TEST(Acquirer, AutoRenewKeepsTheLease) {
  Held held(/*auto_renew=*/true);
  Harness& h = held.h;
  std::size_t answered = 0;
  Instant end = held.validity_end;
  for (int i = 0; i < 2000 && h.now < T0 + Duration::s(60); ++i) {
    h.run_until(min(h.acq.next_deadline(), T0 + Duration::s(60)));
    const auto rs = held.renews();
    for (; answered < rs.size(); ++answered) {
      if (answered % 3 != 2) continue;  // answer once per round, after its three sends
      h.at(h.now + Duration::ms(1));
      h.ack(M2, rs[answered]);
      h.ack(M3, rs[answered]);
    }
    ASSERT_TRUE(h.acq.lease(held.id).has_value()) << "lost at " << h.now.ns();
    EXPECT_GE(h.acq.lease(held.id)->validity_end, end) << "validity never moves back";
    end = h.acq.lease(held.id)->validity_end;
  }
  EXPECT_GT(end, T0 + Duration::s(60));
}

TEST(Acquirer, WithoutAutoRenewTheLeaseExpires) {
  Held held;
  Harness& h = held.h;
  h.run_until(held.validity_end - Duration::ns(1));
  EXPECT_EQ(h.events().size(), 1u);
  EXPECT_TRUE(held.renews().empty()) << "no renewal unless asked";
  h.run_until(held.validity_end);
  ASSERT_EQ(h.events().size(), 2u);
  EXPECT_EQ(h.last_event()->first, held.validity_end);
  EXPECT_EQ(h.events()[1].kind, EventKind::lost);
  EXPECT_EQ(h.events()[1].lost_reason, LostReason::expired);
  EXPECT_FALSE(h.acq.lease(held.id).has_value());
}

TEST(Acquirer, ExplicitRenewThatFailsReportsThenRunsToItsEnd) {
  Held held;
  Harness& h = held.h;
  h.at(T0 + Duration::s(5));
  ASSERT_TRUE(h.acq.renew(h.now, held.id, h.sink).ok());
  const Instant cutoff = drift::renew_cutoff(T0, held.validity_end);
  h.run_until(cutoff);
  ASSERT_EQ(h.events().size(), 2u);
  EXPECT_EQ(h.events()[1].kind, EventKind::renew_failed);
  EXPECT_EQ(h.events()[1].error, Errc::unknown_outcome);
  EXPECT_TRUE(h.acq.lease(held.id).has_value()) << "still valid until its end";
  h.run_until(held.validity_end);
  ASSERT_EQ(h.events().size(), 3u);
  EXPECT_EQ(h.events()[2].lost_reason, LostReason::expired);
  // renew() on a lease that is gone.
  EXPECT_EQ(h.acq.renew(h.now, held.id, h.sink).code(), Errc::not_held);
}

TEST(Acquirer, RenewPastTheCutoffFailsFastWithoutSending) {
  // Issue 19's renew storm: a caller that retried renew() in the last fifth
  // of the window started a round per call, each given up at once with
  // unknown_outcome after RENEWs to every voter. Now the call is refused
  // with too_late, and nothing is sent.
  Held held;
  Harness& h = held.h;
  const Instant cutoff = drift::renew_cutoff(T0, held.validity_end);
  h.at(cutoff);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(h.acq.renew(h.now, held.id, h.sink).code(), Errc::too_late);
    h.at(h.now + Duration::us(10));
  }
  EXPECT_TRUE(held.renews().empty()) << "no RENEW after the cut-off";
  EXPECT_EQ(h.events().size(), 1u) << "no renew_failed either: the call failed synchronously";
  EXPECT_TRUE(h.acq.lease(held.id).has_value()) << "the lease runs to its end";
}

TEST(Acquirer, RenewRoundsOfOneLeaseArePaced) {
  // A caller renewing in a loop, each round answered at once: a new round
  // starts no sooner than attempt_timeout_min after the previous one did,
  // and the call made in between waits for that round.
  Held held;
  Harness& h = held.h;
  h.at(T0 + Duration::s(1));
  const Instant start = h.now;
  std::size_t rounds = 0;
  while (h.now < start + Duration::ms(100)) {
    ASSERT_TRUE(h.acq.renew(h.now, held.id, h.sink).ok());
    const auto rs = held.renews();
    if (rs.size() / 3 > rounds) {
      rounds = rs.size() / 3;
      h.ack(M2, rs.back());  // with the in-process ack (M1), a majority
      h.ack(M1, rs.back());
    }
    h.at(h.now + Duration::us(100));
  }
  const Duration pace = h.cfg.attempt_timeout_min;
  EXPECT_GE(rounds, 2u);
  EXPECT_LE(rounds, static_cast<std::size_t>(Duration::ms(100).count_ns() / pace.count_ns()) + 1)
      << "one round per " << pace.count_ns() << " ns";
  for (std::size_t i = 3; i < held.renews().size(); i += 3) {
    EXPECT_EQ(held.renews()[i].round, held.renews()[i - 3].round + 1);
  }
}

TEST(Acquirer, LateRenewAckForAGoneLeaseIsReleased) {
  Held held;
  Harness& h = held.h;
  ASSERT_TRUE(h.acq.renew(h.now, held.id, h.sink).ok());
  const Renew r = held.renews().back();
  ASSERT_TRUE(h.acq.release(h.now, held.id, h.sink).ok());
  const std::size_t n = h.releases().size();
  h.ack(M3, r);
  ASSERT_EQ(h.releases().size(), n + 1);
  EXPECT_EQ(h.releases().back().first, M3);
  h.ack(M2, r, /*ok=*/false, DenyReason::not_current);  // a nack needs no answer
  EXPECT_EQ(h.releases().size(), n + 1);
}

// ---- several acquires of one resource in one member -------------------------

// The REQUESTs sent for one resource, in order.
std::vector<Request> requests_of(const Harness& h, const char* res) {
  std::vector<Request> out;
  for (const Request& r : h.requests())
    if (r.resource.view() == res) out.push_back(r);
  return out;
}

TEST(Acquirer, SecondAcquireOfAResourceQueuesBehindTheFirst) {
  Harness h;
  auto a = h.acquire("r", Duration::s(10), Duration::s(30));
  auto b = h.acquire("r", Duration::s(10), Duration::s(30));
  auto other = h.acquire("s", Duration::s(10), Duration::s(30));
  ASSERT_TRUE(a.ok() && b.ok() && other.ok());
  EXPECT_EQ(requests_of(h, "r").size(), 3u) << "one attempt, to three voters, for the two acquires of r";
  EXPECT_EQ(requests_of(h, "s").size(), 3u) << "another resource is not held up";
  EXPECT_TRUE(h.acq.check_invariants().empty()) << h.acq.check_invariants();
  const Request ra = h.last_request_of("r");
  h.grant(M1, ra);
  h.grant(M2, ra);
  ASSERT_EQ(h.events().size(), 1u);
  EXPECT_EQ(h.events()[0].id, *a);
  // The head won: the queued one starts its own attempt at once, with a fresh
  // lease id.
  const auto rs = requests_of(h, "r");
  ASSERT_EQ(rs.size(), 6u);
  EXPECT_NE(rs.back().lease, ra.lease);
  EXPECT_TRUE(h.acq.check_invariants().empty()) << h.acq.check_invariants();
}

TEST(Acquirer, QueuedAcquiresTakeTheirTurnInCallOrder) {
  struct Case {
    const char* name;
    // How the head leaves: wins, is cancelled, or fails at its wait deadline.
    enum { wins, cancelled, times_out } how;
  };
  const Case cases[] = {{"head wins", Case::wins}, {"head cancelled", Case::cancelled},
                        {"head times out", Case::times_out}};
  for (const Case& c : cases) {
    Harness h;
    auto a = h.acquire("r", Duration::s(10), Duration::ms(100));
    auto b = h.acquire("r", Duration::s(10), Duration::s(30));
    auto d = h.acquire("r", Duration::s(10), Duration::s(30));
    ASSERT_TRUE(a.ok() && b.ok() && d.ok());
    const Request ra = h.last_request_of("r");
    switch (c.how) {
      case Case::wins:
        h.grant(M1, ra);
        h.grant(M2, ra);
        break;
      case Case::cancelled: ASSERT_TRUE(h.acq.release(h.now, *a, h.sink).ok()); break;
      case Case::times_out:
        h.deny(M2, ra, DenyReason::held, Token{1}, Duration::s(5));
        h.deny(M3, ra, DenyReason::held, Token{1}, Duration::s(5));
        h.run_until(T0 + Duration::ms(100));
        break;
    }
    // After held denials a standing request went to M2 and M3 as well.
    const std::size_t standing = c.how == Case::times_out ? 2 : 0;
    ASSERT_EQ(requests_of(h, "r").size(), 6u + standing) << c.name;
    // The second attempt belongs to b (called before d): b wins it.
    const Request rb = h.last_request_of("r");
    h.grant(M1, rb);
    h.grant(M2, rb);
    const auto ev = h.events();
    ASSERT_GE(ev.size(), 2u) << c.name;
    EXPECT_EQ(ev[ev.size() - 1].kind, EventKind::acquired) << c.name;
    EXPECT_EQ(ev[ev.size() - 1].id, *b) << c.name;
    EXPECT_EQ(requests_of(h, "r").size(), 9u + standing) << c.name << ": then d's turn";
    EXPECT_TRUE(h.acq.check_invariants().empty()) << c.name << ": " << h.acq.check_invariants();
  }
}

TEST(Acquirer, QueuedAcquireFailsBusyAtItsDeadlineAndCancelsQuietly) {
  Harness h;
  ASSERT_TRUE(h.acquire("r", Duration::s(10), Duration::s(30)).ok());
  auto b = h.acquire("r", Duration::s(10), Duration::ms(50));
  auto d = h.acquire("r", Duration::s(10), Duration::s(30));
  ASSERT_TRUE(b.ok() && d.ok());
  const std::size_t sent = h.sink.sent.size();
  ASSERT_TRUE(h.acq.release(h.now, *d, h.sink).ok());
  EXPECT_EQ(h.sink.sent.size(), sent) << "a queued acquire has nothing to release";
  h.run_until(T0 + Duration::ms(50));
  ASSERT_EQ(h.events().size(), 2u);
  EXPECT_EQ(h.events()[0].id, *d);
  EXPECT_EQ(h.events()[0].error, Errc::cancelled);
  EXPECT_EQ(h.events()[1].id, *b);
  EXPECT_EQ(h.events()[1].kind, EventKind::acquire_failed);
  EXPECT_EQ(h.events()[1].error, Errc::busy) << "its turn never came: the resource was contended here";
  EXPECT_EQ(h.acq.in_flight(), 1u);
  EXPECT_TRUE(h.acq.check_invariants().empty()) << h.acq.check_invariants();
}

TEST(Acquirer, TryAcquireIsNotQueued) {
  Harness h;
  ASSERT_TRUE(h.acquire("r", Duration::s(10), Duration::s(30)).ok());
  ASSERT_TRUE(h.acquire("r", Duration::s(10), Duration::zero()).ok());
  EXPECT_EQ(requests_of(h, "r").size(), 6u) << "try_acquire makes its one attempt at once";
  EXPECT_TRUE(h.acq.check_invariants().empty()) << h.acq.check_invariants();
}

// ---- hand-off ---------------------------------------------------------------

// An acquire whose attempt M1 (itself) and M2 denied as held by a lease with
// token 5, after 1 ms (J = 1 ms): two noes of three fail it, and its standing
// request, to M1 and M2, is the last REQUEST.
struct Waiting {
  Harness h;
  Request attempt;
  Waiting() : h(base_config()) {
    EXPECT_TRUE(h.acquire("r", Duration::s(10), Duration::s(30)).ok());
    attempt = h.last_request();
    h.at(T0 + Duration::ms(1));
    for (MemberId m : {M1, M2}) h.deny(m, attempt, DenyReason::held, Token{5}, Duration::s(5));
  }
  Request standing() const { return h.last_request(); }
};

TEST(Acquirer, AfterHeldDenialsAStandingRequestWaitsAtThoseVoters) {
  struct Case {
    const char* name;
    std::vector<DenyReason> answers;  // M1, M2: two noes fail the attempt
    std::size_t standing_to;          // voters it goes to (0: none)
  };
  const Case cases[] = {
      {"a majority held", {DenyReason::held, DenyReason::held}, 2},
      {"one held: no majority could hand it over", {DenyReason::held, DenyReason::overloaded}, 0},
      {"the other held", {DenyReason::overloaded, DenyReason::held}, 0},
  };
  for (const Case& c : cases) {
    Harness h;
    ASSERT_TRUE(h.acquire("r", Duration::s(10), Duration::s(30)).ok());
    const Request r = h.last_request();
    h.at(T0 + Duration::ms(1));
    const MemberId voters[] = {M1, M2};
    for (std::size_t i = 0; i < 2; ++i) h.deny(voters[i], r, c.answers[i], Token{5}, Duration::s(5));
    const auto reqs = h.sink.all<Request>();
    ASSERT_EQ(reqs.size(), 3 + c.standing_to) << c.name;
    EXPECT_EQ(h.sink.st.standing_requests, c.standing_to > 0 ? 1u : 0u) << c.name;
    for (std::size_t k = 3; k < reqs.size(); ++k) {
      const auto& [to, st] = reqs[k];
      const std::size_t i = static_cast<std::size_t>(to.value - 1);
      EXPECT_EQ(c.answers[i], DenyReason::held) << c.name << ": only to voters that said held";
      EXPECT_NE(st.lease, r.lease) << c.name << ": a fresh lease id";
      EXPECT_EQ(st.token, Token{6}) << c.name << ": above the holder's token";
      EXPECT_EQ(st.ttl, r.ttl) << c.name;
    }
    EXPECT_TRUE(h.events().empty()) << c.name << ": still waiting";
  }
}

TEST(Acquirer, AnAttemptAboveTheHoldersTokenStandsAsItIs) {
  // The voters that said held keep the request they denied; if its token is
  // above the holder's they may grant it as it is, so no new request goes out.
  Harness h;
  h.acq.observe(Token{9});
  ASSERT_TRUE(h.acquire("r", Duration::s(10), Duration::s(30)).ok());
  const Request r = h.last_request();
  ASSERT_EQ(r.token, Token{10});
  h.at(T0 + Duration::ms(1));
  h.deny(M1, r, DenyReason::held, Token{5}, Duration::s(5));
  h.deny(M2, r, DenyReason::held, Token{5}, Duration::s(5));
  EXPECT_EQ(h.requests().size(), 3u);
  EXPECT_EQ(h.sink.st.standing_requests, 0u);
  h.at(T0 + Duration::ms(30));
  h.grant(M2, r);
  h.grant(M1, r);
  ASSERT_EQ(h.events().size(), 1u);
  EXPECT_EQ(h.events()[0].kind, EventKind::acquired);
  EXPECT_EQ(h.events()[0].validity_end, drift::validity_end(T0, r.ttl, h.cfg.rho_ppm, h.cfg.margin));
  EXPECT_EQ(h.sink.st.handoffs, 1u);
  EXPECT_TRUE(h.releases().empty());
}

TEST(Acquirer, ALeaseWithAGrantGivenBackNeverStands) {
  // M2 granted, M1 and M3 said held: the attempt fails and M2's grant is
  // released. The RELEASE may be slow, and a copy of M2's GRANT may come
  // later (and be answered with another RELEASE): either could end a hold of
  // this lease at M2 that a hand-off or a renewal had counted (issue 19). So
  // the lease is dead: it does not stand for a hand-off, and every later
  // grant of it, hand-offs included, is given back and taken as a FREE.
  Harness h;
  h.acq.observe(Token{9});
  ASSERT_TRUE(h.acquire("r", Duration::s(10), Duration::s(30)).ok());
  const Request r = h.last_request();
  h.at(T0 + Duration::ms(1));
  h.grant(M2, r);
  h.deny(M1, r, DenyReason::held, Token{5}, Duration::s(5));
  h.deny(M3, r, DenyReason::held, Token{5}, Duration::s(5));
  ASSERT_EQ(h.releases().size(), 1u);
  EXPECT_EQ(h.sink.all<Request>().size(), 3u) << "a split vote: no fresh standing request either";
  h.at(T0 + Duration::ms(20));
  h.grant(M2, r);  // the copy
  h.grant(M1, r);  // a hand-off
  h.grant(M3, r);  // the second hand-off: once a majority, now nothing
  EXPECT_TRUE(h.events().empty()) << "the given-back lease is never held";
  const auto rel = h.releases();
  ASSERT_EQ(rel.size(), 4u);
  EXPECT_EQ(rel[1].first, M2);
  EXPECT_EQ(rel[2].first, M1);
  EXPECT_EQ(rel[3].first, M3);
  for (const auto& [to, release] : rel) EXPECT_EQ(release.lease, r.lease);
  // The hand-offs were FREEs: the acquire retries soon, under a fresh lease.
  h.at(h.acq.next_deadline());
  ASSERT_EQ(h.sink.all<Request>().size(), 6u);
  EXPECT_NE(h.last_request().lease, r.lease);
  EXPECT_LT(h.now, T0 + Duration::s(1)) << "the retry follows the FREE, not the reported hold's end";
}

TEST(Acquirer, AnAcquireQueuedBehindAStandingRequestRenewsItForBoth) {
  // The voters hand the lease to the lowest-ranked request (handoff_rank).
  // When a second acquire of the resource queues here, the head's standing
  // request is replaced by one minted for two: the lower rank of two fresh
  // serials, so this member is handed the lease about twice as often as a
  // member with one waiting acquire.
  Waiting w;
  Harness& h = w.h;
  const Request old = w.standing();
  h.at(h.now + Duration::ms(2));
  const Instant restood_at = h.now;
  ASSERT_TRUE(h.acquire("r", Duration::s(10), Duration::s(30)).ok());
  const auto reqs = h.sink.all<Request>();
  ASSERT_EQ(reqs.size(), 3u + 2u + 2u) << "a new standing request to M1 and M2 only";
  const Request fresh = reqs.back().second;
  EXPECT_EQ(reqs[5].first, M1);
  EXPECT_EQ(reqs[6].first, M2);
  EXPECT_GT(fresh.lease.serial, old.lease.serial);
  EXPECT_GT(fresh.token, Token{5});
  // The lower-ranked of the two serials after the old one.
  const LeaseId a{.owner = M1, .incarnation = h.cfg.incarnation, .serial = old.lease.serial + 1};
  const LeaseId b{.owner = M1, .incarnation = h.cfg.incarnation, .serial = old.lease.serial + 2};
  EXPECT_EQ(fresh.lease, handoff_rank(a) < handoff_rank(b) ? a : b);
  // The new one wins, valid from when it was sent; a voter that hands over
  // the old request (it had not seen the new one yet) is given it back.
  h.grant(M1, fresh);
  h.grant(M2, fresh);
  ASSERT_EQ(h.events().size(), 1u);
  EXPECT_EQ(h.events()[0].validity_end, drift::validity_end(restood_at, fresh.ttl, h.cfg.rho_ppm, h.cfg.margin));
  h.grant(M3, old);
  ASSERT_EQ(h.releases().size(), 1u);
  EXPECT_EQ(h.releases()[0].first, M3);
  EXPECT_EQ(h.releases()[0].second.lease, old.lease);
  EXPECT_EQ(h.events().size(), 1u);
}

TEST(Acquirer, KWaitingAcquiresWinTheRankKTimesAsOften) {
  // The head of k waiting acquires gets the lowest rank of k serials: against
  // one other member's single request it is lower about k/(k+1) of the time.
  for (std::size_t k : {1u, 2u, 4u}) {
    int wins = 0;
    constexpr int trials = 3000;
    for (int t = 1; t <= trials; ++t) {
      NodeConfig c = base_config();
      c.incarnation = Incarnation{static_cast<std::uint64_t>(t)};
      Harness h(c);
      h.acq.observe(Token{9});
      ASSERT_TRUE(h.acquire("r", Duration::s(10), Duration::s(30)).ok());  // serial 1, attempting
      const Request first = h.last_request();
      for (std::size_t q = 1; q < k; ++q) ASSERT_TRUE(h.acquire("r", Duration::s(10), Duration::s(30)).ok());
      h.at(T0 + Duration::ms(1));
      // Held denials, then a FREE race: the retry is minted with k draws.
      h.deny(M1, first, DenyReason::held, Token{5}, Duration::s(5));
      h.deny(M2, first, DenyReason::held, Token{5}, Duration::s(5));
      h.free_notice(M1, "r", Token{5}, 2);
      h.free_notice(M2, "r", Token{5}, 2);
      h.run_until(h.now + Duration::ms(10));
      const Request retry = h.last_request();
      ASSERT_NE(retry.lease, first.lease);

      const LeaseId rival{.owner = M2, .incarnation = Incarnation{static_cast<std::uint64_t>(t) * 7919}, .serial = 1};
      wins += handoff_rank(retry.lease) < handoff_rank(rival);
    }
    const double share = static_cast<double>(wins) / trials;
    const double expect = static_cast<double>(k) / static_cast<double>(k + 1);
    EXPECT_NEAR(share, expect, 0.04) << "k = " << k;
  }
}

TEST(Acquirer, HandOffGrantsWinWithValidityFromTheStandingRequest) {
  Waiting w;
  Harness& h = w.h;
  const Request st = w.standing();
  const Instant sent_at = h.now;
  const Duration j = h.acq.srtt(h.now);
  h.at(sent_at + Duration::ms(40));  // the hold ends much later
  h.grant(M1, st);                   // the own voter hands over first
  EXPECT_TRUE(h.events().empty());
  h.at(sent_at + Duration::ms(41));
  h.grant(M2, st);
  ASSERT_EQ(h.events().size(), 1u);
  const Event e = h.events()[0];
  EXPECT_EQ(e.kind, EventKind::acquired);
  EXPECT_EQ(e.token, st.token);
  // Guarantee 1: measured from before the standing request was sent, not from the grants.
  EXPECT_EQ(e.validity_end, drift::validity_end(sent_at, st.ttl, h.cfg.rho_ppm, h.cfg.margin));
  EXPECT_EQ(h.sink.st.handoffs, 1u);
  EXPECT_EQ(h.sink.st.acquired, 1u);
  EXPECT_EQ(h.acq.srtt(h.now), j) << "a hand-off grant is no round-trip sample";
  EXPECT_TRUE(h.releases().empty());
}

TEST(Acquirer, AFreeDuringAHandOffIsThatVotersNo) {
  // M2 handed the lease over, M1 picked someone else: no majority is left, so
  // the grant goes back at once and the acquire races as after any FREE.
  Waiting w;
  Harness& h = w.h;
  const Request st = w.standing();
  h.at(h.now + Duration::ms(10));
  h.grant(M2, st);
  h.free_notice(M3, "r", Token{6}, 2);  // M3 (not asked: already a no) changes nothing
  EXPECT_TRUE(h.releases().empty());
  h.free_notice(M1, "r", Token{6}, 2);
  const auto rel = h.releases();
  ASSERT_EQ(rel.size(), 1u);
  EXPECT_EQ(rel[0].first, M2);
  EXPECT_EQ(rel[0].second.lease, st.lease);
  const std::size_t before = h.requests().size();
  h.run_until(h.now + Duration::ms(5));
  ASSERT_EQ(h.requests().size(), before + 3) << "a new attempt, to every voter";
  EXPECT_NE(h.last_request().lease, st.lease);
  EXPECT_GT(h.last_request().token, Token{6});
}

TEST(Acquirer, AGrantAfterAHeldDenialOfTheSameRequestCounts) {
  // The voter denied the request (held), then the hold ended and it granted
  // that very request. Ignoring the grant would leave the resource held for
  // us with nobody to release it.
  Harness h;
  ASSERT_TRUE(h.acquire("r", Duration::s(10), Duration::s(30)).ok());
  const Request r = h.last_request();
  h.at(T0 + Duration::ms(1));
  h.grant(M1, r);
  h.deny(M2, r, DenyReason::held, Token{5}, Duration::ms(1));
  h.grant(M2, r);
  ASSERT_EQ(h.events().size(), 1u);
  EXPECT_EQ(h.events()[0].kind, EventKind::acquired);
  EXPECT_TRUE(h.releases().empty());
}

TEST(Acquirer, ALateGrantIsGivenBackAndStartsTheRaceLikeAFree) {
  // A voter handed the lease to a request this member no longer pursues (its
  // previous attempt): given back, and since that voter has forgotten us as a
  // waiter, its grant is the FREE we would otherwise never get.
  Waiting w;
  Harness& h = w.h;
  const Request st = w.standing();
  h.free_notice(M1, "r", Token{6}, 1);  // M1 will not hand over: with M3 not asked, it is dropped
  const std::size_t before = h.requests().size();
  h.grant(M2, st);  // then a grant for it after all
  const auto rel = h.releases();
  ASSERT_EQ(rel.size(), 1u);
  EXPECT_EQ(rel[0].second.lease, st.lease);
  EXPECT_EQ(h.sink.st.late_releases, 1u);
  h.run_until(h.now + Duration::ms(3));
  EXPECT_EQ(h.requests().size(), before + 3) << "the race's retry";
}

TEST(Acquirer, TheRetryWhileAStandingRequestMayWinAsksForThatLease) {
  // The retry after a FREE, while the standing request could still be handed
  // over, asks every voter for that same lease and token: a voter that handed
  // it over answers with the same grant instead of a held denial against us.
  Waiting w;
  Harness& h = w.h;
  const Request st = w.standing();
  const Instant standing_at = h.now;
  h.at(h.now + Duration::ms(2));
  h.free_notice(M3, "r", Token{6}, 2);  // M3 was not asked; M1 and M2 still may hand over
  h.run_until(h.now + Duration::ms(5));
  const auto reqs = h.sink.all<Request>();
  ASSERT_EQ(reqs.size(), 3u + 2u + 3u);
  for (std::size_t k = 5; k < 8; ++k) {
    EXPECT_EQ(reqs[k].second.lease, st.lease);
    EXPECT_EQ(reqs[k].second.token, st.token);
  }
  h.grant(M1, st);
  h.grant(M2, st);
  ASSERT_EQ(h.events().size(), 1u);
  EXPECT_EQ(h.events()[0].validity_end, drift::validity_end(standing_at, st.ttl, h.cfg.rho_ppm, h.cfg.margin))
      << "still measured from the standing request";
}

TEST(Acquirer, QueuedAcquiresShortenTheHeadsJitter) {
  // After a held denial and a FREE, the head retries after the earliest of one
  // draw for itself and one per queued acquire: with 3 queued, the mean wait is
  // about 1/5 of J instead of 1/2 (the minimum of 4 uniform draws).
  auto mean_retry_delay = [](std::size_t queued) {
    Duration sum = Duration::zero();
    constexpr int trials = 400;
    for (int t = 0; t < trials; ++t) {
      Harness h(base_config(), 1000 + static_cast<std::uint64_t>(t));
      EXPECT_TRUE(h.acquire("r", Duration::s(10), Duration::s(30)).ok());
      for (std::size_t q = 0; q < queued; ++q) EXPECT_TRUE(h.acquire("r", Duration::s(10), Duration::s(30)).ok());
      const Request r1 = h.last_request_of("r");
      h.at(T0 + Duration::ms(1));  // J stays 1 ms
      h.deny(M2, r1, DenyReason::held, Token{3}, Duration::s(5));
      h.deny(M3, r1, DenyReason::held, Token{3}, Duration::s(5));
      const Instant free_at = h.now;
      h.free_notice(M2, "r", Token{3});
      h.run_until(free_at + Duration::ms(1));
      EXPECT_EQ(requests_of(h, "r").size(), 8u) << "attempt, standing request to M2 and M3, retry";
      sum = sum + (h.sink.sent.back().at - free_at);
    }
    return sum.count_ns() / trials;
  };
  const std::int64_t alone = mean_retry_delay(0);
  const std::int64_t with_three = mean_retry_delay(3);
  EXPECT_GT(alone, 400'000) << "about J/2 = 500 us";
  EXPECT_LT(alone, 600'000);
  EXPECT_GT(with_three, 140'000) << "about J/5 = 200 us";
  EXPECT_LT(with_three, 260'000);
}

// ---- limits and arguments --------------------------------------------------

// awaiting_answers() tells the runtime when polling for answers can pay
// (Config::busy_poll): while an attempt's REQUESTs or a renewal's RENEWs are
// out, never while holding, backing off, queued or done.
TEST(Acquirer, AwaitingAnswersOnlyWhileRequestsOrRenewalsAreOut) {
  Harness h;
  EXPECT_FALSE(h.acq.awaiting_answers());
  auto id = h.acquire("r", Duration::s(10), Duration::s(30));
  ASSERT_TRUE(id.ok());
  EXPECT_TRUE(h.acq.awaiting_answers()) << "an attempt is out";
  const Request r = h.last_request();
  h.at(T0 + Duration::ms(1));
  h.grant(M1, r);
  EXPECT_TRUE(h.acq.awaiting_answers()) << "one grant of three";
  h.grant(M2, r);
  ASSERT_EQ(h.events().size(), 1u);
  EXPECT_FALSE(h.acq.awaiting_answers()) << "held";

  ASSERT_TRUE(h.acq.renew(h.now, *id, h.sink).ok());
  EXPECT_TRUE(h.acq.awaiting_answers()) << "a renewal round is out";
  std::vector<Renew> rs;
  for (const auto& [to, m] : h.sink.all<Renew>()) rs.push_back(m);
  ASSERT_EQ(rs.size(), 3u);
  h.ack(M2, rs[1]);
  h.ack(M3, rs[2]);
  ASSERT_EQ(h.events().size(), 2u);
  EXPECT_FALSE(h.acq.awaiting_answers()) << "renewed";

  // Held denials from a majority: backing off with a standing request, which
  // may wait a whole hold, is not polled for.
  auto second = h.acquire("r", Duration::s(10), Duration::s(30));
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(h.acq.awaiting_answers());
  const Request s = h.last_request();
  h.deny(M2, s, DenyReason::held, r.token, Duration::s(5));
  h.deny(M3, s, DenyReason::held, r.token, Duration::s(5));
  ASSERT_EQ(h.events().size(), 2u) << "still waiting for the hold to end";
  EXPECT_EQ(h.acq.lease(*second)->state, LeaseInfo::State::acquiring);
  EXPECT_FALSE(h.acq.awaiting_answers()) << "backing off";
  ASSERT_TRUE(h.acq.release(h.now, *second, h.sink).ok());
  ASSERT_TRUE(h.acq.release(h.now, *id, h.sink).ok());
  EXPECT_FALSE(h.acq.awaiting_answers());
  EXPECT_EQ(h.acq.check_invariants(), "");

  // A queued acquire is not out until its turn comes.
  auto head = h.acquire("q", Duration::s(10), Duration::s(30));
  auto queued = h.acquire("q", Duration::s(10), Duration::s(30));
  ASSERT_TRUE(head.ok() && queued.ok());
  const std::size_t sent = h.sink.all<Request>().size();
  ASSERT_TRUE(h.acq.release(h.now, *head, h.sink).ok());
  EXPECT_GT(h.sink.all<Request>().size(), sent) << "the queued acquire attempts now";
  EXPECT_TRUE(h.acq.awaiting_answers());
  ASSERT_TRUE(h.acq.release(h.now, *queued, h.sink).ok());
  EXPECT_FALSE(h.acq.awaiting_answers()) << "cancelled";

  // A try_acquire that times out: answers no longer due.
  ASSERT_TRUE(h.acquire("t", Duration::s(10), Duration::zero()).ok());
  EXPECT_TRUE(h.acq.awaiting_answers());
  h.run_until(h.now + Duration::s(1));
  EXPECT_EQ(h.events().back().kind, EventKind::acquire_failed);
  EXPECT_FALSE(h.acq.awaiting_answers()) << "the lone attempt timed out";
  EXPECT_EQ(h.acq.check_invariants(), "");
}

TEST(Acquirer, InFlightLimitIsOverloaded) {
  NodeConfig cfg = base_config();
  cfg.limits.acquires_in_flight = 2;
  Harness h(cfg);
  auto a = h.acquire("a", Duration::s(10), Duration::s(30));
  ASSERT_TRUE(a.ok());
  const Request ra = h.last_request();
  h.grant(M1, ra);
  h.grant(M2, ra);  // held leases count too
  ASSERT_TRUE(h.acquire("b", Duration::s(10), Duration::s(30)).ok());
  const std::size_t sent = h.sink.sent.size();
  auto c = h.acquire("c", Duration::s(10), Duration::s(30));
  EXPECT_EQ(c.code(), Errc::overloaded);
  EXPECT_EQ(h.sink.sent.size(), sent) << "nothing sent for a refused call";
  EXPECT_EQ(h.acq.in_flight(), 2u);
  EXPECT_EQ(h.sink.st.acquires, 2u);
  ASSERT_TRUE(h.acq.release(h.now, *a, h.sink).ok());
  EXPECT_TRUE(h.acquire("c", Duration::s(10), Duration::s(30)).ok());
}

// Bad arguments never reach the acquirer: core::check_acquire refuses them
// first (config_test.cpp, CheckAcquire.Table; node_test.cpp,
// Node.BadAcquireArgumentsChangeNothing). The limits themselves are accepted.
TEST(Acquirer, ArgumentsAtTheLimitsAreAccepted) {
  Harness h;
  EXPECT_TRUE(h.acq.acquire(h.now, AcquireArgs{.resource = ResourceName(std::string(128, 'x')), .ttl = Duration::ms(10),
                                               .wait_until = h.now, .auto_renew = false},
                            h.cfg.members, h.sink)
                  .ok());
}

// V4 rests on this clause (docs/protocol.md, "Renewals across a change"): a
// round's acks that arrive once the lease's validity has ended (handled
// before the acquirer's own deadline fires, as Node::on_messages does after a
// stall: nothing else stops the round) must not renew it. Otherwise a voter
// that lost its state (granted floor 0) and re-granted a RENEW delayed past
// a newer lease would make the holder believe the older token again.
// (From a review of V4; negative switch count_late_renew_acks.)
TEST(Acquirer, AcksArrivingAfterTheValidityEndedDoNotRenew) {
  Held held;
  Harness& h = held.h;
  h.at(T0 + Duration::s(2));
  ASSERT_TRUE(h.acq.renew(h.now, held.id, h.sink).ok());
  const auto rs = held.renews();
  ASSERT_EQ(rs.size(), 3u);
  h.now = held.validity_end + Duration::ms(1);  // no on_deadline: the acks come first
  h.ack(M2, rs[1]);
  h.ack(M3, rs[2]);
  for (const Event& e : h.events()) EXPECT_NE(e.kind, EventKind::renewed) << "a late quorum renewed the lease";
  const auto l = h.acq.lease(held.id);
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->validity_end, held.validity_end);
}

}  // namespace
}  // namespace baton::core
