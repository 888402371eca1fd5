// SPDX-License-Identifier: Apache-2.0
// voter.hpp, driven directly with a recording Sink: grant/deny/renew/release,
// waiters and FREE, quarantine, ttl bounds, limits and floor reservations.
#include "core/voter.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/rng.hpp"

namespace baton::core {
namespace {

struct Sent {
  MemberId to;
  Message msg;
};

class FakeSink final : public Sink {
 public:
  void send(MemberId to, Message msg) override { sent.push_back(Sent{to, std::move(msg)}); }
  void emit(Event e) override { events.push_back(std::move(e)); }
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
  // The one message sent since the last clear(), of type T.
  template <typename T>
  T only() const {
    EXPECT_EQ(sent.size(), 1u);
    if (sent.empty()) return T{};
    const T* m = std::get_if<T>(&sent.back().msg);
    EXPECT_NE(m, nullptr) << "got " << message_name(sent.back().msg);
    return m ? *m : T{};
  }
  void clear() { sent.clear(); }

  std::vector<Sent> sent;
  std::vector<Event> events;
  std::vector<Token> persists;
  std::vector<Token> observed;
  NodeStats st;
};

constexpr MemberId A{1}, B{2}, C{3}, D{4};

NodeConfig config() {
  NodeConfig c;
  c.members = {A, B, C, D};
  c.self = A;
  c.incarnation = Incarnation{1};
  return c;
}

LeaseId lease_of(MemberId owner, std::uint64_t serial) {
  return LeaseId{.owner = owner, .incarnation = Incarnation{1}, .serial = serial};
}

Request req(const char* res, MemberId owner, std::uint64_t serial, std::uint64_t token,
            Duration ttl = Duration::s(10)) {
  return Request{.resource = ResourceName(res), .lease = lease_of(owner, serial), .ttl = ttl, .token = Token{token}};
}

// A renewal of a lease its holder believes valid (V4 applies); confirm_of
// below is a hand-off's confirm round.
Renew renew_of(const Request& r, std::uint32_t round = 1, Duration ttl = Duration::s(10)) {
  return Renew{.resource = r.resource, .lease = r.lease, .token = r.token, .ttl = ttl, .round = round, .believed = true};
}

Renew confirm_of(const Request& r, std::uint32_t round = 1, Duration ttl = Duration::s(10)) {
  Renew n = renew_of(r, round, ttl);
  n.believed = false;
  return n;
}

Release release_of(const Request& r) { return Release{.resource = r.resource, .lease = r.lease, .token = r.token}; }

const Instant T0 = Instant::from_ns(1'000'000'000);

TEST(Voter, GrantsOnlyAboveFence) {
  struct Case {
    std::uint64_t floor;
    std::uint64_t token;
    bool granted;
  };
  const Case cases[] = {
      {.floor = 0, .token = 1, .granted = true},   {.floor = 0, .token = 0, .granted = false},
      {.floor = 10, .token = 9, .granted = false}, {.floor = 10, .token = 10, .granted = false},
      {.floor = 10, .token = 11, .granted = true}, {.floor = 10, .token = UINT64_MAX, .granted = true},
  };
  for (const Case& c : cases) {
    NodeConfig cfg = config();
    Voter v(cfg, Token{c.floor}, true);
    FakeSink s;
    const Request r = req("r", B, 1, c.token);
    v.on_request(T0, B, r, s);
    ASSERT_EQ(s.sent.size(), 1u);
    EXPECT_EQ(s.sent[0].to, B);
    if (c.granted) {
      EXPECT_EQ(s.only<Grant>(), (Grant{.resource = r.resource, .lease = r.lease, .token = r.token}));
      // The token is stored with the grant; the hold runs ttl from the fresh reading.
      EXPECT_EQ(v.table().fence_of("r"), Token{c.token});
      ASSERT_NE(v.table().find("r"), nullptr);
      const Hold& h = *v.table().find("r")->hold;
      EXPECT_EQ(h.lease, r.lease);
      EXPECT_EQ(h.token, r.token);
      EXPECT_EQ(h.holder, B);
      EXPECT_EQ(h.expiry, T0 + Duration::s(10));
      EXPECT_EQ(s.st.grants, 1u);
    } else {
      const Deny d = s.only<Deny>();
      EXPECT_EQ(d.reason, DenyReason::stale) << c.floor << " " << c.token;
      EXPECT_EQ(d.fence, Token{c.floor});
      EXPECT_EQ(d.token, Token{c.token});
      EXPECT_EQ(d.lease, r.lease);
      EXPECT_EQ(v.table().live(), 0u);
      EXPECT_EQ(v.table().fence_of("r"), Token{c.floor}) << "a denial never changes the fence";
      EXPECT_EQ(s.st.denials_by_reason[static_cast<std::size_t>(DenyReason::stale)], 1u);
    }
    EXPECT_EQ(s.st.requests, 1u);
    EXPECT_EQ(s.observed, std::vector<Token>{Token{c.token}});
  }
}

TEST(Voter, FencesArePerResource) {
  NodeConfig cfg = config();
  Voter v(cfg, Token{0}, true);
  FakeSink s;
  v.on_request(T0, B, req("x", B, 1, 100), s);
  s.clear();
  // A lower token on another resource is fine: per-resource fences.
  v.on_request(T0, C, req("y", C, 1, 5), s);
  EXPECT_EQ(s.only<Grant>().token, Token{5});
  EXPECT_EQ(v.table().fence_of("x"), Token{100});
  EXPECT_EQ(v.table().fence_of("y"), Token{5});
}

TEST(Voter, DuplicateRequestGetsTheSameGrantAndNoSecondHold) {
  NodeConfig cfg = config();
  Voter v(cfg, Token{0}, true);
  FakeSink s;
  const Request r = req("r", B, 1, 7);
  v.on_request(T0, B, r, s);
  const Grant first = s.only<Grant>();
  s.clear();
  v.on_request(T0 + Duration::s(3), B, r, s);  // retransmission, later
  EXPECT_EQ(s.only<Grant>(), first);
  EXPECT_EQ(v.table().live(), 1u);
  EXPECT_EQ(v.table().find("r")->hold->expiry, T0 + Duration::s(10)) << "a duplicate does not extend the hold";
  EXPECT_EQ(v.table().waiters(), 0u) << "the holder is not its own waiter";
  EXPECT_EQ(s.st.grants, 2u);
  // Same lease, different token: not the duplicate, a held denial.
  s.clear();
  v.on_request(T0, B, req("r", B, 1, 8), s);
  EXPECT_EQ(s.only<Deny>().reason, DenyReason::held);
}

TEST(Voter, HeldDenialCarriesHolderTimeLeftFenceAndRegistersWaiter) {
  NodeConfig cfg = config();
  Voter v(cfg, Token{0}, true);
  FakeSink s;
  v.on_request(T0, B, req("r", B, 1, 7), s);
  s.clear();
  const Request r2 = req("r", C, 1, 9);
  v.on_request(T0 + Duration::s(4), C, r2, s);
  const Deny d = s.only<Deny>();
  EXPECT_EQ(d.reason, DenyReason::held);
  EXPECT_EQ(d.holder, B);
  EXPECT_EQ(d.time_left, Duration::s(6));
  EXPECT_EQ(d.fence, Token{7});
  EXPECT_EQ(d.token, Token{9});
  EXPECT_EQ(d.lease, r2.lease);
  EXPECT_EQ(v.table().waiters(), 1u);
  EXPECT_TRUE(v.table().find("r")->waiters.contains(C));
  EXPECT_EQ(v.table().fence_of("r"), Token{7}) << "a held denial does not store the proposed token";
  // Repeated requests from the same member are one waiter.
  v.on_request(T0 + Duration::s(5), C, req("r", C, 2, 10), s);
  EXPECT_EQ(v.table().waiters(), 1u);
}

TEST(Voter, WaiterLimitsAreCounted) {
  NodeConfig cfg = config();
  cfg.members = {A, B, C, D, MemberId{5}, MemberId{6}};
  cfg.limits.waiters_per_resource = 2;
  cfg.limits.waiters_per_voter = 3;
  Voter v(cfg, Token{0}, true);
  FakeSink s;
  v.on_request(T0, A, req("x", A, 1, 1), s);
  v.on_request(T0, A, req("y", A, 2, 2), s);
  struct Step {
    const char* res;
    std::uint32_t from;
    std::size_t waiters;   // afterwards, whole voter
    std::uint64_t dropped; // waiters_dropped afterwards
    bool unqueued;         // the denial says the request was not kept
  };
  const Step steps[] = {
      {.res = "x", .from = 2, .waiters = 1, .dropped = 0, .unqueued = false},
      {.res = "x", .from = 3, .waiters = 2, .dropped = 0, .unqueued = false},
      {.res = "x", .from = 4, .waiters = 2, .dropped = 1, .unqueued = true},  // per resource full
      {.res = "y", .from = 5, .waiters = 3, .dropped = 1, .unqueued = false},
      {.res = "y", .from = 6, .waiters = 3, .dropped = 2, .unqueued = true},  // per voter full
      {.res = "x", .from = 2, .waiters = 3, .dropped = 2, .unqueued = false},  // already waiting: not a drop
  };
  std::uint64_t serial = 10;
  for (const Step& st : steps) {
    s.clear();
    v.on_request(T0, MemberId{st.from}, req(st.res, MemberId{st.from}, ++serial, 50), s);
    EXPECT_EQ(s.only<Deny>().reason, DenyReason::held) << "denied held even when not remembered";
    // Guarantee 3: a request not kept gets no FREE, so the denial must say so.
    EXPECT_EQ(s.only<Deny>().unqueued, st.unqueued) << st.res << " " << st.from;
    EXPECT_EQ(v.table().waiters(), st.waiters) << st.res << " " << st.from;
    EXPECT_EQ(s.st.waiters_dropped, st.dropped) << st.res << " " << st.from;
  }
}

TEST(Voter, ReleaseOnlyByOwnerWithMatchingLeaseAndToken) {
  struct Case {
    const char* name;
    MemberId from;
    Release rel;
    bool released;
  };
  const Request r = req("r", B, 1, 7);
  const Case cases[] = {
      {.name = "owner, exact", .from = B, .rel = release_of(r), .released = true},
      {.name = "other member", .from = C, .rel = release_of(r), .released = false},
      {.name = "wrong token", .from = B, .rel = Release{.resource = r.resource, .lease = r.lease, .token = Token{6}},
       .released = false},
      {.name = "wrong lease", .from = B,
       .rel = Release{.resource = r.resource, .lease = lease_of(B, 2), .token = r.token}, .released = false},
      {.name = "wrong resource", .from = B,
       .rel = Release{.resource = ResourceName("q"), .lease = r.lease, .token = r.token}, .released = false},
  };
  for (const Case& c : cases) {
    NodeConfig cfg = config();
    Voter v(cfg, Token{0}, true);
    FakeSink s;
    v.on_request(T0, B, r, s);
    v.on_request(T0, C, req("r", C, 1, 6), s);  // a waiter whose token may not be granted
    s.clear();
    v.on_release(T0 + Duration::s(1), c.from, c.rel, s);
    EXPECT_EQ(v.table().live(), c.released ? 0u : 1u) << c.name;
    EXPECT_EQ(s.st.releases, c.released ? 1u : 0u) << c.name;
    EXPECT_EQ(s.all<Free>().size(), c.released ? 1u : 0u) << c.name;
    EXPECT_EQ(v.table().fence_of("r"), Token{7}) << c.name << ": release keeps the fence";
  }
}

TEST(Voter, FreeToWaitersOnReleaseThenForgotten) {
  NodeConfig cfg = config();
  Voter v(cfg, Token{0}, true);
  FakeSink s;
  const Request r = req("r", B, 1, 7);
  v.on_request(T0, B, r, s);
  // Waiters whose requests may not be granted (tokens not above the fence):
  // nobody is handed the lease, everybody is told.
  v.on_request(T0, D, req("r", D, 1, 5), s);
  v.on_request(T0, C, req("r", C, 1, 7), s);
  s.clear();
  v.on_release(T0, B, release_of(r), s);
  EXPECT_TRUE(s.all<Grant>().empty());
  const auto frees = s.all<Free>();
  ASSERT_EQ(frees.size(), 2u);
  EXPECT_EQ(frees[0].first, D);  // arrival order
  EXPECT_EQ(frees[1].first, C);
  for (const auto& [to, f] : frees) {
    EXPECT_EQ(f.resource, ResourceName("r"));
    EXPECT_EQ(f.fence, Token{7});
  }
  EXPECT_EQ(s.st.frees_sent, 2u);
  EXPECT_EQ(v.table().waiters(), 0u);
  // The resource is free: the next request above the fence is granted and
  // told nobody else.
  s.clear();
  v.on_request(T0, C, req("r", C, 2, 8), s);
  EXPECT_EQ(s.only<Grant>().token, Token{8});
  s.clear();
  v.on_release(T0, C, release_of(req("r", C, 2, 8)), s);
  EXPECT_TRUE(s.all<Free>().empty()) << "waiters are forgotten once told";
}

TEST(Voter, FreeToWaitersOnExpiry) {
  NodeConfig cfg = config();
  Voter v(cfg, Token{0}, true);
  FakeSink s;
  v.on_request(T0, B, req("r", B, 1, 7, Duration::s(2)), s);
  v.on_request(T0, C, req("r", C, 1, 8, Duration::s(2)), s);  // half its ttl old at the expiry: not handed over
  EXPECT_EQ(v.next_deadline(), T0 + Duration::s(2));
  s.clear();
  v.expire(T0 + Duration::s(2) - Duration::ns(1), s);
  EXPECT_TRUE(s.sent.empty()) << "not before the hold ends";
  EXPECT_EQ(v.table().live(), 1u);
  v.expire(T0 + Duration::s(2), s);
  EXPECT_EQ(s.only<Free>(), (Free{.resource = ResourceName("r"), .fence = Token{7}, .waiters = 1}));
  EXPECT_EQ(s.sent[0].to, C);
  EXPECT_EQ(v.table().live(), 0u);
  EXPECT_EQ(s.st.expiries, 1u);
  EXPECT_EQ(v.next_deadline(), Instant::max());
  // A request with the old token is stale now; a higher one is granted.
  s.clear();
  v.on_request(T0 + Duration::s(2), C, req("r", C, 2, 7), s);
  EXPECT_EQ(s.only<Deny>().reason, DenyReason::stale);
}

TEST(Voter, RenewExtendsTheHold) {
  NodeConfig cfg = config();
  Voter v(cfg, Token{0}, true);
  FakeSink s;
  const Request r = req("r", B, 1, 7);
  v.on_request(T0, B, r, s);
  s.clear();
  v.on_renew(T0 + Duration::s(5), B, renew_of(r, 3), s);
  const RenewAck a = s.only<RenewAck>();
  EXPECT_TRUE(a.ok);
  EXPECT_EQ(a.round, 3u);
  EXPECT_EQ(a.token, Token{7});
  EXPECT_EQ(a.lease, r.lease);
  EXPECT_EQ(v.table().find("r")->hold->expiry, T0 + Duration::s(15));
  EXPECT_EQ(v.next_deadline(), T0 + Duration::s(15));
  EXPECT_EQ(s.st.renewals, 1u);
  // A renew with a shorter ttl never shortens the hold.
  s.clear();
  v.on_renew(T0 + Duration::s(6), B, renew_of(r, 4, Duration::s(1)), s);
  EXPECT_TRUE(s.only<RenewAck>().ok);
  EXPECT_EQ(v.table().find("r")->hold->expiry, T0 + Duration::s(15));
}

// A restarted voter whose floor equals a holder's token re-grants its RENEW
// (no entry: the floor rule), and must keep re-granting it after that hold
// runs out: the entry the re-grant created is not a released one (the
// adversarial review of issue 21 found it refused from then on).
TEST(Voter, AFloorReGrantDoesNotStrandTheHolderLater) {
  NodeConfig cfg = config();
  Voter v(cfg, Token{7}, true);  // restarted: floor 7, no entries
  FakeSink s;
  const Request l1 = req("r", B, 1, 7, Duration::s(2));
  v.on_renew(T0, B, renew_of(l1, 1, Duration::s(2)), s);
  ASSERT_TRUE(s.only<RenewAck>().ok) << "floor == token: re-granted";
  v.expire(T0 + Duration::s(3), s);
  ASSERT_FALSE(v.table().find("r")->hold.has_value());
  s.clear();
  v.on_renew(T0 + Duration::s(3), B, renew_of(l1, 2, Duration::s(2)), s);
  EXPECT_TRUE(s.only<RenewAck>().ok) << "still fence == token, never released: re-granted again";
  // Released by its owner: now refused.
  v.on_release(T0 + Duration::s(3), B, release_of(l1), s);
  s.clear();
  v.on_renew(T0 + Duration::s(3), B, renew_of(l1, 3, Duration::s(2)), s);
  EXPECT_FALSE(s.only<RenewAck>().ok);
}

// A client is pinned (its replay window kept by the runtime) exactly while it
// holds or waits at this voter (issue 21).
TEST(Voter, AClientIsPinnedWhileItHoldsOrWaits) {
  NodeConfig cfg = config();
  Voter v(cfg, Token{0}, true);
  FakeSink s;
  const MemberId x = client_id(11), y = client_id(12);
  const Request held = req("r", x, 1, 5);
  v.on_request(T0, x, held, s);
  EXPECT_TRUE(v.client_pinned(x));
  EXPECT_FALSE(v.client_pinned(y));
  v.on_request(T0, y, req("r", y, 1, 6), s);  // denied held: kept as a waiter
  EXPECT_TRUE(v.client_pinned(y));
  EXPECT_TRUE(v.table().client_refs_consistent());
  v.on_release(T0, x, release_of(held), s);  // y is handed the lease
  EXPECT_FALSE(v.client_pinned(x));
  EXPECT_TRUE(v.client_pinned(y));
  v.expire(T0 + Duration::s(60), s);
  EXPECT_FALSE(v.client_pinned(y));
  EXPECT_EQ(v.table().clients_with_state(), 0u);
  EXPECT_TRUE(v.table().client_refs_consistent());
}

TEST(Voter, RenewTable) {
  // Voter state: lease L1 (B, token 7) granted at T0 with ttl 2 s; then `setup`.
  enum class Setup {
    live, expired, released, expired_then_other_granted, expired_then_other_released, evicted,
    expired_then_floor_raised, released_then_floor_raised, evicted_then_newer_evicted
  };
  struct Case {
    const char* name;
    Setup setup;
    Renew renew;
    bool ok;
    DenyReason reason;  // !ok
    bool live_after;    // L1 held here afterwards
    Token fence_after{};  // 0: unchanged
  };
  const Request l1 = req("r", B, 1, 7, Duration::s(2));
  const Case cases[] = {
      {.name = "live: extend", .setup = Setup::live, .renew = renew_of(l1), .ok = true, .reason = {}, .live_after = true},
      {.name = "live: other lease", .setup = Setup::live,
       .renew = renew_of(req("r", B, 2, 7)), .ok = false, .reason = DenyReason::not_current, .live_after = true},
      {.name = "live: other token", .setup = Setup::live,
       .renew = renew_of(req("r", B, 1, 8)), .ok = false, .reason = DenyReason::not_current, .live_after = true},
      {.name = "nothing live, fence == token: re-grant", .setup = Setup::expired, .renew = renew_of(l1), .ok = true,
       .reason = {}, .live_after = true},
      // V4: a token this voter never stored is re-granted (the holder counts
      // the ack only while its lease is valid), and the fence rises to it.
      {.name = "nothing live, token above fence: re-grant, the fence rises", .setup = Setup::expired,
       .renew = renew_of(req("r", B, 1, 9)), .ok = true, .reason = {}, .live_after = true, .fence_after = Token{9}},
      // V4: a fence a join floor (or a floor from peers) raised above the
      // token was not set by a grant here: re-granted, the fence stays.
      {.name = "fence raised by a floor above the token: re-grant", .setup = Setup::expired_then_floor_raised,
       .renew = renew_of(l1), .ok = true, .reason = {}, .live_after = true},
      {.name = "released, then the fence raised by a floor: still refused", .setup = Setup::released_then_floor_raised,
       .renew = renew_of(l1), .ok = false, .reason = DenyReason::not_current, .live_after = false},
      // A hand-off's confirm round (not believed: the lease is not valid
      // yet) keeps the rule before V4: only where the fence is the token.
      {.name = "confirm round, fence raised by a floor: refused", .setup = Setup::expired_then_floor_raised,
       .renew = confirm_of(l1), .ok = false, .reason = DenyReason::stale, .live_after = false},
      {.name = "confirm round, token above fence: refused", .setup = Setup::expired,
       .renew = confirm_of(req("r", B, 1, 9)), .ok = false, .reason = DenyReason::not_current, .live_after = false},
      {.name = "confirm round, fence == token: re-grant", .setup = Setup::expired, .renew = confirm_of(l1), .ok = true,
       .reason = {}, .live_after = true},
      {.name = "confirm round, live: extend", .setup = Setup::live, .renew = confirm_of(l1), .ok = true, .reason = {},
       .live_after = true},
      {.name = "newer lease live", .setup = Setup::expired_then_other_granted, .renew = renew_of(l1), .ok = false,
       .reason = DenyReason::not_current, .live_after = false},
      {.name = "newer lease released: fence above token", .setup = Setup::expired_then_other_released,
       .renew = renew_of(l1), .ok = false, .reason = DenyReason::stale, .live_after = false},
      // Released by its owner (issue 21): fence == token still, but a RENEW
      // arriving after the RELEASE (reordered, or a client's replayed) must
      // not resurrect it.
      {.name = "released, fence == token: refused", .setup = Setup::released, .renew = renew_of(l1), .ok = false,
       .reason = DenyReason::not_current, .live_after = false},
      // Evicted entry: fence == floor == 7 == token, still the same number.
      {.name = "evicted, floor == token: re-grant", .setup = Setup::evicted, .renew = renew_of(l1), .ok = true,
       .reason = {}, .live_after = true},
      // Evicted, and a newer token granted here for another resource was
      // evicted after it: the granted floor says this voter may have granted
      // a newer lease of r too.
      {.name = "evicted, a newer grant evicted after it: stale", .setup = Setup::evicted_then_newer_evicted,
       .renew = renew_of(l1), .ok = false, .reason = DenyReason::stale, .live_after = false},
  };
  for (const Case& c : cases) {
    NodeConfig cfg = config();
    cfg.limits.idle_fences = 1;
    Voter v(cfg, Token{0}, true);
    FakeSink s;
    v.on_request(T0, B, l1, s);
    Instant now = T0 + Duration::s(1);
    if (c.setup == Setup::released || c.setup == Setup::released_then_floor_raised) {
      v.on_release(now, B, release_of(l1), s);
      ASSERT_EQ(v.table().fence_of("r"), Token{7}) << "setup: the fence stays";
    } else if (c.setup != Setup::live) {
      now = T0 + Duration::s(3);
      v.expire(now, s);
    }
    const Request other = req("r", C, 1, 20);
    if (c.setup == Setup::expired_then_other_granted || c.setup == Setup::expired_then_other_released) {
      v.on_request(now, C, other, s);
    }
    if (c.setup == Setup::expired_then_other_released) v.on_release(now, C, release_of(other), s);
    if (c.setup == Setup::evicted || c.setup == Setup::evicted_then_newer_evicted) {
      v.on_request(now, C, req("q", C, 1, 3), s);
      v.on_release(now, C, release_of(req("q", C, 1, 3)), s);
      ASSERT_EQ(v.table().find("r"), nullptr) << "setup: entry evicted";
      ASSERT_EQ(v.table().floor(), Token{7});
      ASSERT_EQ(v.table().granted_floor(), Token{7});
    }
    if (c.setup == Setup::evicted_then_newer_evicted) {
      v.on_request(now, C, req("p", C, 1, 30), s);
      v.on_release(now, C, release_of(req("p", C, 1, 30)), s);  // evicts q (granted 3)
      v.on_request(now, C, req("o", C, 1, 31), s);
      v.on_release(now, C, release_of(req("o", C, 1, 31)), s);  // evicts p (granted 30)
      ASSERT_EQ(v.table().granted_floor(), Token{30});
    }
    if (c.setup == Setup::expired_then_floor_raised || c.setup == Setup::released_then_floor_raised) {
      v.raise_floor(Token{50});
      ASSERT_EQ(v.table().fence_of("r"), Token{50}) << "setup: the floor raises the fence";
    }
    const Token fence_before = v.table().fence_of("r");
    s.clear();
    v.on_renew(now, B, c.renew, s);
    const RenewAck a = s.only<RenewAck>();
    EXPECT_EQ(a.ok, c.ok) << c.name;
    EXPECT_EQ(a.round, c.renew.round) << c.name;
    if (!c.ok) {
      EXPECT_EQ(a.reason, c.reason) << c.name;
      EXPECT_EQ(a.fence, fence_before) << c.name;
    }
    const FenceTable::Entry* e = v.table().find("r");
    const bool live = e && e->hold && e->hold->lease == l1.lease;
    EXPECT_EQ(live, c.live_after) << c.name;
    if (c.ok && live) {
      EXPECT_EQ(e->hold->expiry, now + Duration::s(10)) << c.name;
    }
    const Token fence_after = c.fence_after == Token{} ? fence_before : c.fence_after;
    EXPECT_EQ(v.table().fence_of("r"), fence_after) << c.name << ": a renew never lowers a fence";
    if (c.ok && live) {
      EXPECT_EQ(e->hold->token, c.renew.token) << c.name;
      EXPECT_EQ(e->granted, c.renew.token) << c.name;
    }
  }
}

// V4 (docs/protocol.md, "Renewals across a change"): a new voter, whose floor
// came from its peers or a join floor and which granted nothing, supports a
// lease granted before it joined; a token above its reservation is synced
// first, like a grant's.
TEST(Voter, ANewVoterReGrantsALeaseGrantedBeforeItJoined) {
  NodeConfig cfg = config();
  cfg.persist = true;
  Voter v(cfg, Token{0}, true);  // a new life: nothing granted here
  FakeSink s;
  // Below the floor learned from peers: re-granted at once, the fence stays.
  v.raise_floor(Token{100});
  v.on_renew(T0, B, renew_of(req("r", B, 1, 40)), s);
  RenewAck a = s.only<RenewAck>();
  EXPECT_TRUE(a.ok);
  const FenceTable::Entry* e = v.table().find("r");
  ASSERT_NE(e, nullptr);
  ASSERT_TRUE(e->hold.has_value());
  EXPECT_EQ(e->hold->token, Token{40});
  EXPECT_EQ(e->fence, Token{100});
  EXPECT_EQ(e->granted, Token{40});
  // Above the floor and the reservation: a sync first (refused meanwhile).
  s.clear();
  v.on_renew(T0, B, renew_of(req("q", B, 2, 150)), s);
  a = s.only<RenewAck>();
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.reason, DenyReason::overloaded);
  ASSERT_EQ(s.persists.size(), 1u);
  EXPECT_GE(s.persists.back(), Token{150});
  EXPECT_EQ(v.table().fence_of("q"), Token{100}) << "nothing stored before the sync";
  v.on_persisted(T0, s.persists.back(), s);
  s.clear();
  v.on_renew(T0, B, renew_of(req("q", B, 2, 150)), s);
  EXPECT_TRUE(s.only<RenewAck>().ok);
  EXPECT_EQ(v.table().fence_of("q"), Token{150});
  // A newer grant here supersedes: a RENEW of an older token is stale.
  v.on_release(T0, B, release_of(req("r", B, 1, 40)), s);
  v.on_request(T0, C, req("r", C, 1, 120), s);
  v.on_release(T0, C, release_of(req("r", C, 1, 120)), s);
  s.clear();
  v.on_renew(T0, B, renew_of(req("r", B, 1, 40)), s);
  a = s.only<RenewAck>();
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.reason, DenyReason::stale);
}

TEST(Voter, QuarantinedVoterDeniesAndNacks) {
  NodeConfig cfg = config();
  Voter v(cfg, Token{0}, false);
  FakeSink s;
  const Request r = req("r", B, 1, 7);
  v.on_request(T0, B, r, s);
  const Deny d = s.only<Deny>();
  EXPECT_EQ(d.reason, DenyReason::quarantined);
  EXPECT_EQ(v.table().live(), 0u);
  s.clear();
  v.on_renew(T0, B, renew_of(r), s);
  const RenewAck a = s.only<RenewAck>();
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.reason, DenyReason::quarantined);
  EXPECT_EQ(v.table().live(), 0u) << "no re-grant while quarantined";
  // Once ready, the same request is granted.
  v.set_ready(true);
  s.clear();
  v.on_request(T0, B, r, s);
  EXPECT_EQ(s.only<Grant>().token, Token{7});
}

TEST(Voter, TtlBounds) {
  struct Case {
    Duration ttl;
    bool ok;
  };
  // Defaults: ttl_min 10 ms, ttl_max 60 s.
  const Case cases[] = {
      {.ttl = Duration::ms(10) - Duration::ns(1), .ok = false}, {.ttl = Duration::ms(10), .ok = true},
      {.ttl = Duration::s(60), .ok = true}, {.ttl = Duration::s(60) + Duration::ns(1), .ok = false},
      {.ttl = Duration::zero(), .ok = false}};
  for (const Case& c : cases) {
    NodeConfig cfg = config();
    Voter v(cfg, Token{0}, true);
    FakeSink s;
    v.on_request(T0, B, req("r", B, 1, 7, c.ttl), s);
    if (c.ok) {
      EXPECT_EQ(s.only<Grant>().token, Token{7});
    } else {
      EXPECT_EQ(s.only<Deny>().reason, DenyReason::ttl_too_long) << c.ttl.count_ns();
    }
    // Renew of a live lease with the same ttl.
    if (c.ok) {
      s.clear();
      v.on_renew(T0, B, renew_of(req("r", B, 1, 7), 1, c.ttl + Duration::s(61)), s);
      EXPECT_EQ(s.only<RenewAck>().reason, DenyReason::ttl_too_long);
    }
  }
}

TEST(Voter, LiveLeaseLimitDeniesOverloaded) {
  NodeConfig cfg = config();
  cfg.limits.leases_per_voter = 2;
  Voter v(cfg, Token{0}, true);
  FakeSink s;
  v.on_request(T0, B, req("a", B, 1, 1), s);
  v.on_request(T0, B, req("b", B, 2, 2), s);
  s.clear();
  v.on_request(T0, B, req("c", B, 3, 3), s);
  EXPECT_EQ(s.only<Deny>().reason, DenyReason::overloaded);
  EXPECT_EQ(v.table().live(), 2u);
  EXPECT_EQ(v.table().fence_of("c"), Token{0});
}

// ---- hand-off -------------------------------------------------------------

TEST(Voter, HandsTheFreedLeaseToOneWaiterAndTellsTheRest) {
  // C and D were denied with equal tokens, as the losers of one race are.
  // When B releases, the voter grants one of those requests itself, exactly
  // as if it had arrived then, and sends FREE (with the new fence) to the
  // other. A voter that saw the same requests in the other order picks the
  // same waiter: the majority that granted B hands over without a round trip.
  std::optional<MemberId> first_pick;
  for (bool c_first : {true, false}) {
    NodeConfig cfg = config();
    Voter v(cfg, Token{0}, true);
    FakeSink s;
    const Request r = req("r", B, 1, 7);
    const Request rc = req("r", C, 4, 8), rd = req("r", D, 9, 8);
    v.on_request(T0, B, r, s);
    v.on_request(T0, c_first ? C : D, c_first ? rc : rd, s);
    v.on_request(T0, c_first ? D : C, c_first ? rd : rc, s);
    s.clear();
    const NodeStats before = s.st;
    v.on_release(T0 + Duration::ms(3), B, release_of(r), s);
    const auto grants = s.all<Grant>();
    const auto frees = s.all<Free>();
    ASSERT_EQ(grants.size(), 1u);
    ASSERT_EQ(frees.size(), 1u);
    const MemberId to = grants[0].first;
    const Request& chosen = to == C ? rc : rd;
    EXPECT_EQ(grants[0].second,
              (Grant{.resource = chosen.resource, .lease = chosen.lease, .token = chosen.token, .handoff = true}));
    EXPECT_EQ(frees[0].first, to == C ? D : C);
    EXPECT_EQ(frees[0].second, (Free{.resource = ResourceName("r"), .fence = Token{8}, .waiters = 2}));
    // Stored like any grant: the hold, the fence; but held only until the
    // waiter could confirm it (handoff_confirm), not for its ttl.
    const FenceTable::Entry* e = v.table().find("r");
    ASSERT_NE(e, nullptr);
    ASSERT_TRUE(e->hold.has_value());
    EXPECT_EQ(e->hold->lease, chosen.lease);
    EXPECT_EQ(e->hold->holder, to);
    EXPECT_TRUE(e->hold->provisional);
    EXPECT_EQ(e->fence, Token{8});
    EXPECT_EQ(v.next_deadline(), T0 + Duration::ms(3) + min(chosen.ttl, cfg.handoff_confirm));
    EXPECT_EQ(v.table().waiters(), 0u);
    EXPECT_EQ(s.st.handoff_grants, before.handoff_grants + 1);
    EXPECT_EQ(s.st.grants, before.grants + 1);
    if (first_pick) {
      EXPECT_EQ(to, *first_pick) << "the pick does not depend on arrival order";
    }
    first_pick = to;
    // The new holder's request is now a duplicate: the same grant again. The
    // other's old request is held off like any other.
    s.clear();
    v.on_request(T0 + Duration::ms(4), to, chosen, s);
    EXPECT_EQ(s.only<Grant>().lease, chosen.lease);
    s.clear();
    v.on_release(T0 + Duration::ms(5), to, release_of(chosen), s);
    EXPECT_TRUE(s.sent.empty()) << "the other waiter was told once and forgotten";
  }
}

TEST(Voter, HandsOverOnlyWhatARequestArrivingThenWouldGet) {
  struct Case {
    const char* name;
    std::uint64_t waiter_token;  // the holder's token is 7
    Duration ttl;                // of the waiter's request, received at T0
    Duration released_after;
    bool ready = true;
    bool handed = false;
  };
  const Case cases[] = {
      {.name = "above the fence, fresh", .waiter_token = 8, .ttl = Duration::s(2), .released_after = Duration::ms(1), .handed = true},
      {.name = "equal to the fence", .waiter_token = 7, .ttl = Duration::s(2), .released_after = Duration::ms(1)},
      {.name = "below the fence", .waiter_token = 3, .ttl = Duration::s(2), .released_after = Duration::ms(1)},
      {.name = "exactly half its ttl old", .waiter_token = 8, .ttl = Duration::s(2), .released_after = Duration::s(1), .handed = true},
      {.name = "older than half its ttl", .waiter_token = 8, .ttl = Duration::s(2),
       .released_after = Duration::s(1) + Duration::ns(1)},
      {.name = "voter quarantined since", .waiter_token = 8, .ttl = Duration::s(2), .released_after = Duration::ms(1),
       .ready = false},
  };
  for (const Case& c : cases) {
    NodeConfig cfg = config();
    Voter v(cfg, Token{0}, true);
    FakeSink s;
    const Request r = req("r", B, 1, 7, Duration::s(30));
    v.on_request(T0, B, r, s);
    v.on_request(T0, C, req("r", C, 1, c.waiter_token, c.ttl), s);
    if (!c.ready) v.set_ready(false);
    s.clear();
    v.on_release(T0 + c.released_after, B, release_of(r), s);
    if (c.handed) {
      EXPECT_EQ(s.only<Grant>().token, Token{c.waiter_token}) << c.name;
      EXPECT_EQ(v.table().live(), 1u) << c.name;
    } else {
      EXPECT_EQ(s.only<Free>().fence, Token{7}) << c.name;
      EXPECT_EQ(v.table().live(), 0u) << c.name;
      EXPECT_EQ(s.st.handoff_grants, 0u) << c.name;
    }
  }
}

TEST(Voter, HandsOverOnExpiryAndOnlyTheWaitersNewestRequest) {
  NodeConfig cfg = config();
  Voter v(cfg, Token{0}, true);
  FakeSink s;
  v.on_request(T0, B, req("r", B, 1, 7, Duration::s(2)), s);
  v.on_request(T0 + Duration::ms(100), C, req("r", C, 1, 8, Duration::s(10)), s);
  v.on_request(T0 + Duration::ms(200), C, req("r", C, 2, 9, Duration::s(10)), s);  // C's next attempt
  EXPECT_EQ(v.table().waiters(), 1u);
  s.clear();
  v.expire(T0 + Duration::s(2), s);
  EXPECT_EQ(s.only<Grant>(),
            (Grant{.resource = ResourceName("r"), .lease = lease_of(C, 2), .token = Token{9}, .handoff = true}));
  EXPECT_EQ(s.st.expiries, 1u);
  EXPECT_EQ(v.next_deadline(), T0 + Duration::s(2) + cfg.handoff_confirm);
}

TEST(Voter, AHandOffIsHeldForTheConfirmWindowUntilARenewConfirmsIt) {
  // Issue 19, the dead waiter: a hand-off to a waiter that cannot answer
  // blocked the freed resource for the waiter's whole ttl. Now the voter
  // holds it for handoff_confirm; a RENEW of that lease (the waiter's
  // confirm round) extends it to the ttl; without one it ends, and the
  // next waiter gets it.
  NodeConfig cfg = config();
  for (const bool confirmed : {false, true}) {
    Voter v(cfg, Token{0}, true);
    FakeSink s;
    v.on_request(T0, B, req("r", B, 1, 7, Duration::s(2)), s);
    v.on_request(T0 + Duration::ms(100), C, req("r", C, 1, 8, Duration::s(10)), s);  // held: C waits
    v.on_request(T0 + Duration::ms(150), D, req("r", D, 1, 9, Duration::s(10)), s);  // and D
    s.clear();
    v.on_release(T0 + Duration::s(1), B, release_of(req("r", B, 1, 7, Duration::s(2))), s);
    ASSERT_EQ(s.all<Grant>().size(), 1u);
    const MemberId first = s.all<Grant>()[0].first;
    const Grant g = s.all<Grant>()[0].second;
    EXPECT_TRUE(g.handoff);
    const Instant confirm_end = T0 + Duration::s(1) + cfg.handoff_confirm;
    EXPECT_EQ(v.next_deadline(), confirm_end);
    if (confirmed) {
      s.clear();
      v.on_renew(T0 + Duration::s(1) + Duration::ms(2), first,
                 Renew{.resource = g.resource, .lease = g.lease, .token = g.token, .ttl = Duration::s(10), .round = 1}, s);
      ASSERT_EQ(s.all<RenewAck>().size(), 1u);
      EXPECT_TRUE(s.all<RenewAck>()[0].second.ok);
      EXPECT_EQ(v.next_deadline(), T0 + Duration::s(11) + Duration::ms(2)) << "the whole ttl from the confirm";
      EXPECT_FALSE(v.table().find("r")->hold->provisional);
      // A duplicate of its request now gets a plain grant.
      s.clear();
      v.on_request(T0 + Duration::s(2), first, req("r", first, 1, g.token.value, Duration::s(10)), s);
      EXPECT_FALSE(s.only<Grant>().handoff);
    } else {
      // Nobody confirms: the hold ends at the confirm window, and the
      // resource is free again for everyone else waiting there.
      s.clear();
      v.expire(confirm_end, s);
      EXPECT_EQ(s.st.expiries, 1u);
      EXPECT_FALSE(v.table().find("r") != nullptr && v.table().find("r")->hold.has_value() &&
                   v.table().find("r")->hold->holder == first)
          << "the dead waiter no longer holds it";
    }
  }
}

// ---- persistence ----------------------------------------------------------

NodeConfig persist_config() {
  NodeConfig c = config();
  c.persist = true;
  c.reservation_block = 1024;
  c.limits.pending_persist = 3;
  return c;
}

TEST(Voter, HandsOverNoTokenItsReservationDoesNotCover) {
  // With persistence a token above the synced reservation needs a sync first;
  // a hand-off never waits for one: FREE instead, and the waiter asks again.
  NodeConfig cfg = persist_config();
  Voter v(cfg, Token{0}, true);
  FakeSink s;
  const Request r = req("r", B, 1, 7);
  v.on_request(T0, B, r, s);
  v.on_persisted(T0, s.persists.at(0), s);  // reservation 7 + 1024
  ASSERT_EQ(s.all<Grant>().size(), 1u);
  v.on_request(T0, C, req("r", C, 1, 7 + 1024), s);  // covered
  v.on_request(T0, D, req("r", D, 1, 7 + 1025), s);  // not covered
  s.clear();
  v.on_release(T0, B, release_of(r), s);
  const auto grants = s.all<Grant>();
  ASSERT_EQ(grants.size(), 1u);
  EXPECT_EQ(grants[0].first, C);
  EXPECT_EQ(s.all<Free>().size(), 1u);
  EXPECT_TRUE(s.persists.size() == 1u) << "no sync asked for by a hand-off";
}

TEST(Voter, ReleaseGivesUpTheLeasesParkedRequest) {
  // A request parked for a sync, then released by its owner: the sync must
  // not grant it (nobody would give back a hold its dead acquirer left).
  NodeConfig cfg = persist_config();
  Voter v(cfg, Token{0}, true);
  FakeSink s;
  const Request mine = req("a", B, 1, 5);
  const Request other = req("b", C, 1, 6);
  v.on_request(T0, B, mine, s);
  v.on_request(T0, C, other, s);
  ASSERT_EQ(v.parked(), 2u);
  // Not the owner, or not that exact lease and token: nothing given up.
  v.on_release(T0, C, release_of(mine), s);
  v.on_release(T0, B, Release{.resource = mine.resource, .lease = mine.lease, .token = Token{6}}, s);
  EXPECT_EQ(v.parked(), 2u);
  v.on_release(T0, B, release_of(mine), s);
  EXPECT_EQ(v.parked(), 1u);
  v.on_persisted(T0, s.persists.at(0), s);
  const auto grants = s.all<Grant>();
  ASSERT_EQ(grants.size(), 1u) << "only the request still wanted is granted";
  EXPECT_EQ(grants[0].first, C);
  EXPECT_EQ(v.table().live(), 1u);
  EXPECT_EQ(v.table().fence_of("a"), Token{0});
}

TEST(Voter, PersistParksUntilTheReservationIsSynced) {
  NodeConfig cfg = persist_config();
  Voter v(cfg, Token{0}, true);
  FakeSink s;
  const Request r1 = req("a", B, 1, 5);
  v.on_request(T0, B, r1, s);
  EXPECT_TRUE(s.sent.empty()) << "no answer before the sync";
  EXPECT_EQ(v.parked(), 1u);
  EXPECT_EQ(v.table().live(), 0u);
  EXPECT_EQ(v.table().fence_of("a"), Token{0}) << "nothing stored above the reservation";
  // token + block, one sync for the whole block.
  EXPECT_EQ(s.persists, std::vector<Token>{Token{5 + 1024}});
  EXPECT_EQ(v.persist_pending(), Token{1029});
  // A second request in the same block: parked, no second sync.
  v.on_request(T0, C, req("b", C, 1, 900), s);
  EXPECT_EQ(s.persists.size(), 1u);
  EXPECT_EQ(v.parked(), 2u);
  EXPECT_EQ(s.st.persists, 1u);
  // A sync of some other value is not ours.
  v.on_persisted(T0, Token{77}, s);
  EXPECT_EQ(v.parked(), 2u);
  EXPECT_TRUE(s.sent.empty());
  v.on_persisted(T0, Token{1029}, s);
  EXPECT_EQ(v.reservation(), Token{1029});
  EXPECT_EQ(v.parked(), 0u);
  const auto grants = s.all<Grant>();
  ASSERT_EQ(grants.size(), 2u);
  EXPECT_EQ(grants[0].first, B);
  EXPECT_EQ(grants[0].second.token, Token{5});
  EXPECT_EQ(grants[1].first, C);
  EXPECT_EQ(grants[1].second.token, Token{900});
  // Within the reservation: granted at once, no sync.
  s.clear();
  v.on_request(T0, D, req("c", D, 1, 1029), s);
  EXPECT_EQ(s.only<Grant>().token, Token{1029});
  EXPECT_EQ(s.persists.size(), 1u);
  // Above it: the next block.
  s.clear();
  v.on_request(T0, D, req("d", D, 2, 1030), s);
  EXPECT_TRUE(s.sent.empty());
  EXPECT_EQ(s.persists.back(), Token{1030 + 1024});
  EXPECT_EQ(s.persists.size(), 2u);
}

TEST(Voter, PersistTokenAbovePendingSyncAsksForAHigherOneAfterIt) {
  NodeConfig cfg = persist_config();
  Voter v(cfg, Token{0}, true);
  FakeSink s;
  v.on_request(T0, B, req("a", B, 1, 5), s);     // asks 1029
  v.on_request(T0, C, req("b", C, 1, 5000), s);  // above 1029: waits for that sync first
  EXPECT_EQ(s.persists, std::vector<Token>{Token{1029}});
  v.on_persisted(T0, Token{1029}, s);
  // "a" is answered; "b" is parked again behind a sync covering 5000.
  ASSERT_EQ(s.all<Grant>().size(), 1u);
  EXPECT_EQ(s.all<Grant>()[0].second.token, Token{5});
  EXPECT_EQ(s.persists.back(), Token{5000 + 1024});
  EXPECT_EQ(v.parked(), 1u);
  v.on_persisted(T0, Token{6024}, s);
  ASSERT_EQ(s.all<Grant>().size(), 2u);
  EXPECT_EQ(s.all<Grant>()[1].second.token, Token{5000});
  EXPECT_LE(v.table().max_token(), v.reservation()) << "every stored token is covered by the synced reservation";
}

TEST(Voter, RequestsParkedDuringASyncNeedOneMoreSyncBetweenThem) {
  // Tokens several blocks apart arrive while the first sync runs (a majority
  // restarted, each member's tokens a reservation block above its last). The
  // next sync covers the highest of them: two syncs in all, not one per block.
  NodeConfig cfg = persist_config();
  Voter v(cfg, Token{0}, true);
  FakeSink s;
  v.on_request(T0, B, req("a", B, 1, 5), s);  // asks 1029
  v.on_request(T0, C, req("b", C, 1, 3000), s);
  v.on_request(T0, D, req("c", D, 1, 9000), s);
  EXPECT_EQ(s.persists, std::vector<Token>{Token{1029}});
  v.on_persisted(T0, Token{1029}, s);
  EXPECT_EQ(s.persists.back(), Token{9000 + 1024}) << "covers the highest parked token";
  v.on_persisted(T0, Token{10024}, s);
  EXPECT_EQ(s.persists.size(), 2u);
  EXPECT_EQ(s.all<Grant>().size(), 3u);
  EXPECT_EQ(v.parked(), 0u);
  // The batch's maximum is forgotten once it is replayed.
  s.clear();
  v.on_request(T0, B, req("d", B, 2, 10025), s);
  EXPECT_EQ(s.persists.back(), Token{10025 + 1024});
}

TEST(Voter, PersistParkedOverflowIsOverloaded) {
  NodeConfig cfg = persist_config();  // pending_persist = 3
  Voter v(cfg, Token{0}, true);
  FakeSink s;
  for (std::uint64_t i = 1; i <= 3; ++i) v.on_request(T0, B, req(("r" + std::to_string(i)).c_str(), B, i, i), s);
  EXPECT_EQ(v.parked(), 3u);
  EXPECT_TRUE(s.sent.empty());
  v.on_request(T0, C, req("r4", C, 1, 4), s);
  EXPECT_EQ(s.only<Deny>().reason, DenyReason::overloaded);
  EXPECT_EQ(v.parked(), 3u);
  s.clear();
  v.on_persisted(T0, *v.persist_pending(), s);
  EXPECT_EQ(s.all<Grant>().size(), 3u);
}

TEST(Voter, RestartedFromReservationStartsAboveIt) {
  NodeConfig cfg = persist_config();
  Voter v(cfg, Token{5000}, true);  // floor = the recovered reservation
  FakeSink s;
  EXPECT_EQ(v.reservation(), Token{5000});
  v.on_request(T0, B, req("a", B, 1, 5000), s);
  EXPECT_EQ(s.only<Deny>().reason, DenyReason::stale);
  EXPECT_EQ(s.only<Deny>().fence, Token{5000});
  s.clear();
  v.on_request(T0, B, req("a", B, 2, 5001), s);
  EXPECT_TRUE(s.sent.empty());
  EXPECT_EQ(s.persists, std::vector<Token>{Token{5001 + 1024}});
}


// Random sequences of requests, renews, releases and expiries against one
// voter with a tiny idle-entry budget (so eviction folds fences into the floor
// all the time). After every step, per resource: a grant's token is above every
// token granted here before (Guarantee 2, voter side), a renew re-grant only
// re-creates the newest token, and fence_of() never drops.
TEST(Voter, RandomOperationsKeepFencesMonotonic) {
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    NodeConfig cfg = config();
    cfg.limits.idle_fences = 1 + seed % 3;
    Voter v(cfg, Token{0}, true);
    Rng rng(seed);
    Instant now = T0;
    const char* names[] = {"a", "b", "c", "d", "e"};
    std::map<std::string, std::uint64_t> max_granted;  // highest token granted per name
    std::map<std::string, std::uint64_t> last_fence;
    std::vector<Request> issued;
    std::uint64_t serial = 0;
    for (int step = 0; step < 400; ++step) {
      FakeSink s;
      const std::string name = names[rng.uniform(4)];
      const MemberId from{static_cast<std::uint32_t>(1 + rng.uniform(3))};
      switch (rng.uniform(4)) {
        case 0:
        case 1: {  // a request with a token near the current numbers, sometimes stale
          const std::uint64_t base = max_granted.count(name) ? max_granted[name] : 0;
          const std::uint64_t token = base + rng.uniform(6) - std::min<std::uint64_t>(base, 2);
          const Request r = req(name.c_str(), from, ++serial, std::max<std::uint64_t>(token, 1),
                                Duration::ms(10 + static_cast<std::int64_t>(rng.uniform(50))));
          issued.push_back(r);
          v.on_request(now, from, r, s);
          break;
        }
        case 2: {  // renew or release of some earlier request
          if (issued.empty()) break;
          const Request r = issued[rng.uniform(issued.size() - 1)];
          if (rng.uniform(1)) {
            v.on_renew(now, r.lease.owner, renew_of(r, 1, Duration::ms(30)), s);
          } else {
            v.on_release(now, r.lease.owner, release_of(r), s);
          }
          break;
        }
        default:
          now = now + Duration::ms(static_cast<std::int64_t>(rng.uniform(20)));
          v.expire(now, s);
      }
      for (const auto& [to, g] : s.all<Grant>()) {
        const std::string n = g.resource.str();
        // A duplicate answer repeats the live grant; anything new is above.
        const FenceTable::Entry* e = v.table().find(n);
        ASSERT_NE(e, nullptr);
        ASSERT_TRUE(e->hold.has_value());
        if (max_granted.count(n) && g.token.value <= max_granted[n]) {
          EXPECT_EQ(g.token.value, max_granted[n]) << "seed " << seed << " step " << step << ": token granted below a previous grant";
        }
        max_granted[n] = std::max(max_granted[n], g.token.value);
      }
      for (const auto& [to, a] : s.all<RenewAck>()) {
        if (!a.ok) continue;
        const std::string n = a.resource.str();
        // A re-grant on RENEW may re-create a hold this voter never granted
        // when an evicted resource's fence, folded into the floor, happens to
        // equal the token (DESIGN allows it: fence == token). It never goes
        // below a token granted here before.
        EXPECT_GE(a.token.value, max_granted[n]) << "seed " << seed << " step " << step << ": renewed an older token";
        max_granted[n] = std::max(max_granted[n], a.token.value);
      }
      for (const char* n : names) {
        const std::uint64_t f = v.table().fence_of(n).value;
        EXPECT_GE(f, last_fence[n]) << "seed " << seed << " step " << step << ": fence of " << n << " dropped";
        EXPECT_GE(f, max_granted.count(n) ? max_granted[n] : 0) << "seed " << seed << " step " << step;
        last_fence[n] = f;
      }
      EXPECT_LE(v.table().entries(), v.table().live() + v.table().waiters() + cfg.limits.idle_fences);
    }
  }
}


// ---- configurations (issue 21, V1/V2) ---------------------------------------

CfgRecord same_voters(CfgId id, std::uint64_t floor = 0) {
  return CfgRecord{.id = id, .old_voters = {A, B, C, D}, .new_voters = {}, .floor = Token{floor}};
}

TEST(Voter, GateTable) {
  // The voter is at (2, 5) with promise 6; each request is tagged `tag`, with
  // the record of that id attached or not.
  struct Case {
    const char* name;
    CfgId tag;
    bool attach;
    std::optional<DenyReason> denied;  // none: granted
    CfgId after;                       // the voter's id afterwards
  };
  const Case cases[] = {
      {"same id", {2, 5}, false, std::nullopt, {2, 5}},
      {"older id", {1, 0}, false, DenyReason::config, {2, 5}},
      {"older id, record attached", {2, 4}, true, DenyReason::config, {2, 5}},
      {"newer, no record", {3, 6}, false, DenyReason::behind, {2, 5}},
      {"newer, record attached", {3, 6}, true, std::nullopt, {3, 6}},
      {"newer, below the promise", {3, 5}, true, DenyReason::behind, {2, 5}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    NodeConfig cfg = config();
    Voter v(cfg, CfgState{same_voters({2, 5}), 6}, Token{}, true);
    FakeSink s;
    Request r = req("r", B, 1, 5);
    r.cfg = c.tag;
    if (c.attach) r.record = same_voters(c.tag);
    v.on_request(T0, B, r, s);
    EXPECT_EQ(v.cfg().record.id, c.after);
    if (!c.denied) {
      EXPECT_EQ(s.only<Grant>().token, Token{5});
      continue;
    }
    const Deny d = s.only<Deny>();
    EXPECT_EQ(d.reason, *c.denied);
    // Every configuration denial carries the voter's record and promise.
    ASSERT_TRUE(d.record.has_value());
    EXPECT_EQ(d.record->id, (CfgId{2, 5}));
    EXPECT_EQ(d.promised, 6u);
    EXPECT_EQ(v.table().fence_of("r"), Token{});  // nothing stored
    EXPECT_TRUE(s.configs.empty());
  }
}

TEST(Voter, AdoptingARecordPersistsItAndAppliesItsJoinFloorToEveryFence) {
  NodeConfig cfg = config();
  Voter v(cfg, Token{}, true);
  FakeSink s;
  v.on_request(T0, B, req("low", B, 1, 5), s);
  v.on_request(T0, B, req("high", B, 2, 50), s);
  EXPECT_EQ(v.adopt(same_voters({2, 1}, 20), s), CfgAccept::accepted);
  ASSERT_EQ(s.configs.size(), 1u);
  EXPECT_EQ(s.configs[0], (CfgState{same_voters({2, 1}, 20), 1, Token{20}}));
  EXPECT_EQ(v.table().fence_of("low"), Token{20});
  EXPECT_EQ(v.table().fence_of("high"), Token{50});
  EXPECT_EQ(v.table().fence_of("never-used"), Token{20});
  EXPECT_EQ(s.st.configs_adopted, 1u);
  // Not again, and not an older one.
  EXPECT_EQ(v.adopt(same_voters({2, 1}, 20), s), CfgAccept::not_newer);
  EXPECT_EQ(v.adopt(same_voters({1, 3}), s), CfgAccept::not_newer);
  EXPECT_EQ(s.configs.size(), 1u);
  // A restart from the persisted state applies F again.
  Voter restarted(cfg, s.configs[0], Token{}, true);
  EXPECT_EQ(restarted.table().fence_of("low"), Token{20});
  // A later record without F (every joint one, by rule) does not lower the
  // join floor a restart applies (review of step 2: it used to).
  EXPECT_EQ(v.adopt(same_voters({3, 1}), s), CfgAccept::accepted);
  ASSERT_EQ(s.configs.size(), 2u);
  EXPECT_EQ(s.configs[1].join_floor, Token{20});
  Voter again(cfg, s.configs[1], Token{}, true);
  FakeSink t;
  Request below = req("low", C, 1, 15);
  below.cfg = {3, 1};
  again.on_request(T0, C, below, t);
  EXPECT_EQ(t.only<Deny>().reason, DenyReason::stale);
}

TEST(Voter, ARecordOfOtherVotersIsNeitherAdoptedNorRelayed) {
  // A voter adopts only records whose voters are all among its members (the
  // address book): a REQUEST from any key holder carrying one of voters
  // {7, 8, 9}, or a joint one that adds 7, changes nothing.
  NodeConfig cfg = config();
  Voter v(cfg, Token{}, true);
  FakeSink s;
  const CfgRecord foreign{.id = {2, 0}, .old_voters = {MemberId{7}, MemberId{8}, MemberId{9}}, .new_voters = {},
                          .floor = {}};
  EXPECT_EQ(v.adopt(foreign, s), CfgAccept::foreign);
  CfgRecord joint = same_voters({2, 0});
  joint.new_voters = {A, B, MemberId{7}};
  EXPECT_EQ(v.adopt(joint, s), CfgAccept::foreign);
  Request r = req("r", B, 1, 5);
  r.cfg = foreign.id;
  r.record = foreign;
  v.on_request(T0, B, r, s);
  EXPECT_EQ(s.only<Deny>().reason, DenyReason::behind);
  EXPECT_EQ(v.cfg().record.id, initial_cfg_id);
  EXPECT_TRUE(s.configs.empty());
}

TEST(Voter, ARemovedVoterStopsVotingAndSaysSo) {
  // V5: a record of its members that leaves this voter (A) out is adopted;
  // from then on A denies not_voter, and still answers CONFIG_QUERY.
  NodeConfig cfg = config();
  Voter v(cfg, Token{}, true);
  FakeSink s;
  CfgRecord joint = same_voters({2, 5});
  joint.new_voters = {B, C};
  EXPECT_EQ(v.adopt(joint, s), CfgAccept::accepted);
  Request r = req("r", B, 1, 5);
  r.cfg = joint.id;
  v.on_request(T0, B, r, s);
  EXPECT_TRUE(std::holds_alternative<Grant>(s.sent.back().msg)) << "a joint record still lists A";
  s.clear();
  const CfgRecord final_rec{.id = {3, 5}, .old_voters = {B, C}, .new_voters = {}, .floor = Token{9}};
  Request r2 = req("r2", C, 2, 10);
  r2.cfg = final_rec.id;
  r2.record = final_rec;
  v.on_request(T0, C, r2, s);
  EXPECT_EQ(s.only<Deny>().reason, DenyReason::not_voter);
  EXPECT_EQ(v.cfg().record, final_rec);
  EXPECT_EQ(v.table().floor(), Token{9});  // F applied, though it votes no more
  s.clear();
  v.on_config_query(B, ConfigQuery{.nonce = 4}, s);
  EXPECT_EQ(s.only<ConfigReply>().record, final_rec);
}

TEST(Voter, AnswersTheDriversMessages) {
  NodeConfig cfg = config();
  Voter v(cfg, CfgState{same_voters({2, 3}), 3}, Token{}, true);
  FakeSink s;
  v.on_request(T0, B, [] {
    Request r = req("r", B, 1, 40);
    r.cfg = {2, 3};
    return r;
  }(), s);
  s.clear();
  // CONFIG_READ: a ballot below the promise is refused; one at or above it is
  // promised, and a higher one persisted before the reply.
  v.on_config_read(C, ConfigRead{.ballot = 2}, s);
  EXPECT_EQ(s.only<ConfigReadReply>(),
            (ConfigReadReply{.ballot = 2, .ok = false, .record = same_voters({2, 3}), .promised = 3}));
  EXPECT_TRUE(s.configs.empty());
  s.clear();
  v.on_config_read(C, ConfigRead{.ballot = 8}, s);
  EXPECT_TRUE(s.only<ConfigReadReply>().ok);
  ASSERT_EQ(s.configs.size(), 1u);
  EXPECT_EQ(s.configs[0].promised, 8u);
  s.clear();
  // CONFIG_PROPOSE below the promise: refused, with the voter's id.
  v.on_config_propose(C, ConfigPropose{.record = same_voters({3, 7})}, s);
  EXPECT_EQ(s.only<ConfigAck>(), (ConfigAck{.proposed = {3, 7}, .ok = false, .cfg = {2, 3}, .max_stored = Token{40},
                                           .promised = 8, .ttl_max = cfg.ttl_max}));
  s.clear();
  // At the promise: adopted; again: still ok (a driver re-sends to stragglers).
  for (int i = 0; i < 2; ++i) {
    v.on_config_propose(C, ConfigPropose{.record = same_voters({3, 8}, 30)}, s);
    EXPECT_EQ(s.only<ConfigAck>(), (ConfigAck{.proposed = {3, 8}, .ok = true, .cfg = {3, 8}, .max_stored = Token{40},
                                             .promised = 8, .ttl_max = cfg.ttl_max}));
    s.clear();
  }
  v.on_config_query(D, ConfigQuery{.nonce = 5}, s);
  EXPECT_EQ(s.only<ConfigReply>(), (ConfigReply{.nonce = 5, .record = same_voters({3, 8}, 30)}));
}

TEST(Voter, RenewIsGatedToo) {
  NodeConfig cfg = config();
  Voter v(cfg, CfgState{same_voters({2, 5}), 5}, Token{}, true);
  FakeSink s;
  Request r = req("r", B, 1, 5);
  r.cfg = {2, 5};
  v.on_request(T0, B, r, s);
  s.clear();
  Renew old = renew_of(r);
  old.cfg = {1, 0};
  v.on_renew(T0, B, old, s);
  const RenewAck a = s.only<RenewAck>();
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.reason, DenyReason::config);
  ASSERT_TRUE(a.record.has_value());
  EXPECT_EQ(a.record->id, (CfgId{2, 5}));
  s.clear();
  Renew current = renew_of(r);
  current.cfg = {2, 5};
  v.on_renew(T0, B, current, s);
  EXPECT_TRUE(s.only<RenewAck>().ok);
}

TEST(Voter, AVoterItsOwnRecordDoesNotListDeniesNotVoter) {
  NodeConfig cfg = config();
  const CfgRecord without_self{.id = {2, 1}, .old_voters = {B, C, D}, .new_voters = {}, .floor = {}};
  Voter v(cfg, CfgState{without_self, 1}, Token{}, true);
  FakeSink s;
  Request r = req("r", B, 1, 5);
  r.cfg = without_self.id;
  v.on_request(T0, B, r, s);
  const Deny d = s.only<Deny>();
  EXPECT_EQ(d.reason, DenyReason::not_voter);
  EXPECT_EQ(d.record, without_self);
}

TEST(Voter, AStoredRequestOfAnOlderConfigurationIsToldFreeNotHandedTheLease) {
  NodeConfig cfg = config();
  Voter v(cfg, Token{}, true);
  FakeSink s;
  const Request held = req("r", B, 1, 5, Duration::s(2));
  v.on_request(T0, B, held, s);
  v.on_request(T0 + Duration::ms(1), C, req("r", C, 2, 9), s);  // kept as a waiter under (1, 0)
  ASSERT_EQ(v.adopt(same_voters({2, 1}), s), CfgAccept::accepted);
  s.clear();
  Release rel = release_of(held);
  v.on_release(T0 + Duration::ms(2), B, rel, s);
  EXPECT_EQ(s.st.handoff_grants, 0u);
  const Free f = s.only<Free>();
  EXPECT_EQ(f.resource, ResourceName("r"));
  EXPECT_EQ(s.sent[0].to, C);
}

}  // namespace
}  // namespace baton::core
