// SPDX-License-Identifier: Apache-2.0
// fence_table.hpp: per-resource fences with one floor, bounded by evicting
// idle entries (Guarantee 4) without ever lowering a resource's fence
// (Guarantee 2).
#include "core/fence_table.hpp"

#include "core/rng.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace baton::core {
namespace {

LeaseId lease(std::uint64_t serial) { return LeaseId{.owner = MemberId{1}, .incarnation = Incarnation{1}, .serial = serial}; }

// Stores `fence` for `name` as a grant followed by a release would.
void store_idle(FenceTable& t, const std::string& name, std::uint64_t fence) {
  t.get(ResourceName(name))->fence = Token{fence};
  t.settle(name);
}

void hold(FenceTable& t, const std::string& name, std::uint64_t token, std::int64_t expiry_ns) {
  t.get(ResourceName(name))->fence = Token{token};
  t.set_hold(name, Hold{.lease = lease(token), .token = Token{token}, .holder = MemberId{2},
                        .expiry = Instant::from_ns(expiry_ns)});
}

bool bounded(const FenceTable& t, std::size_t idle_max) { return t.entries() <= t.live() + t.waiters() + idle_max; }

TEST(FenceTable, UnknownResourceHasFenceFloor) {
  struct Case {
    std::uint64_t floor;
  };
  const Case cases[] = {{.floor = 0}, {.floor = 1}, {.floor = 1ULL << 40}, {.floor = UINT64_MAX}};
  for (const Case& c : cases) {
    FenceTable t(Token{c.floor}, 4);
    EXPECT_EQ(t.fence_of("nothing"), Token{c.floor});
    EXPECT_EQ(t.find("nothing"), nullptr);
    EXPECT_EQ(t.get(ResourceName("new"))->fence, Token{c.floor}) << "a fresh entry starts at the floor";
    EXPECT_EQ(t.max_token(), Token{c.floor});
  }
}

TEST(FenceTable, EvictionFoldsIdleFencesIntoTheFloorOldestFirst) {
  FenceTable t(Token{0}, 2);
  store_idle(t, "a", 30);
  store_idle(t, "b", 10);
  EXPECT_EQ(t.entries(), 2u);
  EXPECT_EQ(t.floor(), Token{0});
  store_idle(t, "c", 20);  // third idle entry: "a", the least recently idle, goes
  EXPECT_EQ(t.entries(), 2u);
  EXPECT_EQ(t.evictions(), 1u);
  EXPECT_EQ(t.find("a"), nullptr);
  EXPECT_EQ(t.floor(), Token{30});
  EXPECT_EQ(t.fence_of("a"), Token{30}) << "an evicted fence is never lowered";
  // Entries below the new floor are not lowered either; their fence is now <= floor.
  EXPECT_EQ(t.fence_of("b"), Token{10});
  store_idle(t, "d", 5);  // evicts "b": floor stays 30 (max, not last)
  EXPECT_EQ(t.find("b"), nullptr);
  EXPECT_EQ(t.floor(), Token{30});
  EXPECT_EQ(t.fence_of("b"), Token{30});
  EXPECT_EQ(t.evictions(), 2u);
}

TEST(FenceTable, MemoryStaysBoundedOverManyNames) {
  struct Case {
    std::size_t idle_max;
    int names;
  };
  const Case cases[] = {{.idle_max = 1, .names = 1000}, {.idle_max = 16, .names = 5000}, {.idle_max = 100, .names = 3000}};
  for (const Case& c : cases) {
    FenceTable t(Token{0}, c.idle_max);
    // A few live holds and waiters, which must survive all the churn.
    hold(t, "held", 1, 1'000'000);
    hold(t, "waited", 2, 1'000'000);
    ASSERT_TRUE(t.add_waiter("waited", Waiter{.member = MemberId{3}}, 8, 100));
    std::uint64_t highest = 2;
    for (int i = 0; i < c.names; ++i) {
      const std::uint64_t fence = 3 + static_cast<std::uint64_t>(i) * 7 % 1000;
      highest = std::max(highest, fence);
      store_idle(t, "r" + std::to_string(i), fence);
      ASSERT_TRUE(bounded(t, c.idle_max)) << "entries " << t.entries() << " after " << i;
      // Guarantee 2: no name's fence ever drops below what was stored for it.
      ASSERT_GE(t.fence_of("r" + std::to_string(i)), Token{fence});
    }
    EXPECT_EQ(t.entries(), 2 + c.idle_max);
    EXPECT_EQ(t.evictions(), static_cast<std::uint64_t>(c.names) - c.idle_max);
    ASSERT_NE(t.find("held"), nullptr);
    ASSERT_NE(t.find("waited"), nullptr);
    EXPECT_TRUE(t.find("held")->hold.has_value());
    EXPECT_EQ(t.max_token(), Token{highest});
    for (int i = 0; i < c.names; ++i) EXPECT_GE(t.fence_of("r" + std::to_string(i)), Token{3 + static_cast<std::uint64_t>(i) * 7 % 1000});
  }
}

TEST(FenceTable, WaitersKeepAnEntryUntilTaken) {
  FenceTable t(Token{0}, 1);
  hold(t, "w", 5, 100);
  ASSERT_TRUE(t.add_waiter("w", Waiter{.member = MemberId{7}}, 4, 10));
  // The hold ends but, until its waiters are told, nothing else happens here;
  // end_hold hands the waiters over and the entry becomes idle on settle().
  store_idle(t, "x", 1);
  store_idle(t, "y", 2);
  ASSERT_NE(t.find("w"), nullptr);
  const auto told = t.end_hold("w");
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(told[0].member, MemberId{7});
  EXPECT_EQ(t.waiters(), 0u);
  t.settle("w");  // now idle too: "y", idle longer, is folded at once
  EXPECT_EQ(t.find("y"), nullptr);
  ASSERT_NE(t.find("w"), nullptr);
  EXPECT_EQ(t.floor(), Token{2});
  store_idle(t, "z", 3);  // then "w"
  EXPECT_EQ(t.find("w"), nullptr);
  EXPECT_EQ(t.floor(), Token{5});
  EXPECT_EQ(t.fence_of("w"), Token{5});
}

TEST(FenceTable, AddWaiterLimitsAndDedupe) {
  FenceTable t(Token{0}, 4);
  hold(t, "a", 1, 100);
  hold(t, "b", 2, 100);
  struct Step {
    const char* res;
    std::uint32_t member;
    bool added;
    std::size_t total;  // waiters() afterwards
  };
  // per resource: 2, per voter: 3.
  const Step steps[] = {
      {.res = "a", .member = 1, .added = true, .total = 1},
      {.res = "a", .member = 1, .added = true, .total = 1},   // dedupe: not counted twice
      {.res = "a", .member = 2, .added = true, .total = 2},
      {.res = "a", .member = 3, .added = false, .total = 2},  // per-resource bound
      {.res = "b", .member = 3, .added = true, .total = 3},
      {.res = "b", .member = 4, .added = false, .total = 3},  // per-voter bound
      {.res = "a", .member = 2, .added = true, .total = 3},   // present: still true when full
  };
  for (const Step& s : steps) {
    EXPECT_EQ(t.add_waiter(s.res, Waiter{.member = MemberId{s.member}}, 2, 3), s.added) << s.res << " " << s.member;
    EXPECT_EQ(t.waiters(), s.total) << s.res << " " << s.member;
  }
  t.remove_waiter("a", MemberId{1});
  EXPECT_EQ(t.waiters(), 2u);
  t.remove_waiter("a", MemberId{1});  // absent: no change
  t.remove_waiter("nothing", MemberId{1});
  EXPECT_EQ(t.waiters(), 2u);
  EXPECT_EQ(t.end_hold("a"), std::vector<Waiter>{Waiter{.member = MemberId{2}}});
  EXPECT_EQ(t.waiters(), 1u);
}

TEST(FenceTable, ExpiriesInOrder) {
  FenceTable t(Token{0}, 8);
  EXPECT_EQ(t.next_expiry(), Instant::max());
  hold(t, "late", 1, 300);
  hold(t, "early", 2, 100);
  hold(t, "mid", 3, 200);
  hold(t, "tie", 4, 200);
  EXPECT_EQ(t.live(), 4u);
  EXPECT_EQ(t.next_expiry(), Instant::from_ns(100));
  struct Case {
    std::int64_t now;
    std::vector<std::string> expired;
  };
  const Case cases[] = {
      {.now = 99, .expired = {}},
      {.now = 100, .expired = {"early"}},  // at the expiry instant: expired
      {.now = 200, .expired = {"early", "mid", "tie"}},
      {.now = 1000, .expired = {"early", "mid", "tie", "late"}},
  };
  for (const Case& c : cases) EXPECT_EQ(t.expired(Instant::from_ns(c.now)), c.expired) << c.now;

  t.extend_hold("early", Instant::from_ns(250));
  EXPECT_EQ(t.next_expiry(), Instant::from_ns(200));
  EXPECT_EQ(t.find("early")->hold->expiry, Instant::from_ns(250));
  t.extend_hold("early", Instant::from_ns(150));  // never shortens
  EXPECT_EQ(t.find("early")->hold->expiry, Instant::from_ns(250));
  EXPECT_EQ(t.expired(Instant::from_ns(250)), (std::vector<std::string>{"mid", "tie", "early"}));

  t.end_hold("mid");
  t.end_hold("tie");
  EXPECT_EQ(t.live(), 2u);
  EXPECT_EQ(t.next_expiry(), Instant::from_ns(250));
  EXPECT_EQ(t.fence_of("mid"), Token{3}) << "ending a hold keeps the fence";
}

TEST(FenceTable, ExpiryHeapMatchesAnOrderedModelUnderRandomChurn) {
  // Holds set, extended and ended at random on 40 names, against a sorted set
  // of (expiry, name): the earliest expiry, the expired list and its order
  // agree after every step, and the heap's own bookkeeping stays consistent.
  Rng rng(12345);
  auto rnd = [&rng](std::uint64_t n) { return rng.uniform(n - 1); };
  FenceTable t(Token{0}, 1000);
  std::set<std::pair<std::int64_t, std::string>> model;
  std::map<std::string, std::int64_t> expiry_of;
  std::uint64_t token = 1;
  for (int step = 0; step < 20000; ++step) {
    const std::string name = "r" + std::to_string(rnd(40));
    const std::int64_t at = static_cast<std::int64_t>(rnd(50)) * 1000;  // many ties
    auto held = expiry_of.find(name);
    switch (rnd(3)) {
      case 0:  // grant, if free
        if (held == expiry_of.end()) {
          hold(t, name, token++, at);
          model.emplace(at, name);
          expiry_of[name] = at;
        }
        break;
      case 1:  // extend, if held (only later expiries count)
        if (held != expiry_of.end()) {
          const std::int64_t later = held->second + at;
          t.extend_hold(name, Instant::from_ns(later));
          if (later > held->second) {
            model.erase({held->second, name});
            model.emplace(later, name);
            held->second = later;
          }
        }
        break;
      case 2:  // release or expire
        t.end_hold(name);
        if (held != expiry_of.end()) {
          model.erase({held->second, name});
          expiry_of.erase(held);
        }
        t.settle(name);
        break;
    }
    ASSERT_TRUE(t.heap_consistent()) << "step " << step;
    ASSERT_EQ(t.live(), model.size()) << "step " << step;
    ASSERT_EQ(t.next_expiry(), model.empty() ? Instant::max() : Instant::from_ns(model.begin()->first));
    const std::int64_t now = static_cast<std::int64_t>(rnd(60)) * 1000;
    std::vector<std::string> want;
    for (const auto& [e, n] : model) {
      if (e > now) break;
      want.push_back(n);
    }
    ASSERT_EQ(t.expired(Instant::from_ns(now)), want) << "step " << step;
  }
}

TEST(FenceTable, RefStaysValidThroughRehashesUntilSettleEvictsIt) {
  // A voter looks a resource up once per message and then works through the
  // Ref, while creating entries may rehash the table in between.
  FenceTable t(Token{0}, 2);
  const FenceTable::Ref r = t.get(ResourceName("kept"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r.name(), "kept");
  EXPECT_FALSE(t.lookup("absent"));
  for (int i = 0; i < 5000; ++i) t.get(ResourceName("other:" + std::to_string(i)));  // many rehashes, none settled
  r->fence = Token{9};
  t.set_hold(r, Hold{.lease = lease(9), .token = Token{9}, .holder = MemberId{2}, .expiry = Instant::from_ns(50)});
  ASSERT_NE(t.find("kept"), nullptr);
  ASSERT_TRUE(t.find("kept")->hold.has_value());
  EXPECT_EQ(t.find("kept")->hold->token, Token{9});
  EXPECT_EQ(t.expired(Instant::from_ns(50)), std::vector<std::string>{"kept"});
  EXPECT_TRUE(t.heap_consistent());
  EXPECT_TRUE(t.end_hold(r).empty());
  t.settle(r);
  EXPECT_EQ(t.fence_of("kept"), Token{9}) << "idle but kept: only 1 of 2 idle slots used";
  t.settle(t.lookup("other:0"));
  t.settle(t.lookup("other:1"));
  EXPECT_EQ(t.find("kept"), nullptr) << "the least recently idle entry is evicted";
  EXPECT_EQ(t.fence_of("kept"), Token{9}) << "its fence lives on in the floor";
}

TEST(FenceTable, SameAnswersWhateverTheHashSeedThroughRehashes) {
  // The table hashes names with a seed (random in a real process). Two tables
  // with different seeds, fed the same grants, releases and waiters over
  // 3,000 names with eviction, must agree on every fence, the floor, the
  // evictions and the expired list: nothing may depend on the hash order.
  // The table grows through many rehashes while holds are live, and the
  // expiry heap (which points at table nodes) stays consistent.
  Rng rng(777);
  auto rnd = [&rng](std::uint64_t n) { return rng.uniform(n - 1); };
  FenceTable a(Token{0}, 500, 1);
  FenceTable b(Token{0}, 500, 0x9e3779b97f4a7c15ULL);
  std::map<std::string, bool> held;
  std::uint64_t token = 1;
  for (int step = 0; step < 30000; ++step) {
    const std::string name = "seat:" + std::to_string(rnd(3000));
    const std::int64_t at = static_cast<std::int64_t>(rnd(100)) * 1000;
    const bool is_held = held[name];
    switch (rnd(3)) {
      case 0:
        if (!is_held) {
          hold(a, name, token, at);
          hold(b, name, token, at);
          ++token;
          held[name] = true;
        }
        break;
      case 1: {
        const Waiter w{.member = MemberId{3}, .lease = lease(token), .token = Token{token}, .ttl = {}, .received = {}};
        a.get(ResourceName(name));
        b.get(ResourceName(name));
        EXPECT_EQ(a.add_waiter(name, w, 4, 100), b.add_waiter(name, w, 4, 100));
        break;
      }
      case 2:
        EXPECT_EQ(a.end_hold(name).size(), b.end_hold(name).size());
        a.settle(name);
        b.settle(name);
        held[name] = false;
        break;
    }
    ASSERT_TRUE(a.heap_consistent()) << "step " << step;
    ASSERT_TRUE(b.heap_consistent()) << "step " << step;
    ASSERT_EQ(a.fence_of(name), b.fence_of(name)) << "step " << step;
    if (step % 1000 == 0) {
      const Instant now = Instant::from_ns(static_cast<std::int64_t>(rnd(100)) * 1000);
      ASSERT_EQ(a.expired(now), b.expired(now)) << "step " << step;
      for (int i = 0; i < 3000; ++i) {
        const std::string n = "seat:" + std::to_string(i);
        ASSERT_EQ(a.fence_of(n), b.fence_of(n)) << n;
      }
    }
  }
  EXPECT_EQ(a.floor(), b.floor());
  EXPECT_EQ(a.entries(), b.entries());
  EXPECT_EQ(a.live(), b.live());
  EXPECT_EQ(a.waiters(), b.waiters());
  EXPECT_EQ(a.evictions(), b.evictions());
  EXPECT_GT(a.evictions(), 0u) << "the churn should reach the idle bound";
  EXPECT_GT(a.live(), 500u) << "the churn should keep many holds live through the rehashes";
}

TEST(FenceTable, RaiseFloorLiftsFencesNeverLowers) {
  struct Case {
    std::uint64_t raise_to;
    std::uint64_t floor, a, b, unknown;  // afterwards
  };
  // Before: floor 10, a = 20, b = 50.
  const Case cases[] = {
      {.raise_to = 5, .floor = 10, .a = 20, .b = 50, .unknown = 10},
      {.raise_to = 10, .floor = 10, .a = 20, .b = 50, .unknown = 10},
      {.raise_to = 30, .floor = 30, .a = 30, .b = 50, .unknown = 30},
      {.raise_to = 50, .floor = 50, .a = 50, .b = 50, .unknown = 50},
      {.raise_to = 99, .floor = 99, .a = 99, .b = 99, .unknown = 99},
  };
  for (const Case& c : cases) {
    FenceTable t(Token{10}, 8);
    store_idle(t, "a", 20);
    hold(t, "b", 50, 100);
    t.raise_floor(Token{c.raise_to});
    EXPECT_EQ(t.floor(), Token{c.floor}) << c.raise_to;
    EXPECT_EQ(t.fence_of("a"), Token{c.a}) << c.raise_to;
    EXPECT_EQ(t.fence_of("b"), Token{c.b}) << c.raise_to;
    EXPECT_EQ(t.fence_of("unknown"), Token{c.unknown}) << c.raise_to;
    EXPECT_EQ(t.find("b")->hold->token, Token{50}) << "the live lease keeps its token";
  }
}

// V4: what this voter granted (Entry::granted) survives eviction through the
// granted floor, which a fresh entry starts at; a raised floor moves fences
// only, and the granted floor a table starts with is at most its floor.
TEST(FenceTable, GrantedTokensSurviveEvictionAndAFloorRaiseLeavesThem) {
  FenceTable t(Token{10}, 1, 0, Token{7});
  EXPECT_EQ(t.granted_floor(), Token{7});
  EXPECT_EQ(t.get(ResourceName("fresh"))->granted, Token{7}) << "a fresh entry: the granted floor";
  t.settle("fresh");
  auto a = t.get(ResourceName("a"));
  a->fence = Token{40};
  a->granted = Token{40};
  t.settle("a");  // evicts "fresh" (granted 7)
  EXPECT_EQ(t.granted_floor(), Token{7});
  store_idle(t, "b", 60);  // fence only (a floor raised it, say): evicts "a"
  EXPECT_EQ(t.granted_floor(), Token{40}) << "a's grant folded in";
  EXPECT_EQ(t.floor(), Token{40});
  EXPECT_EQ(t.get(ResourceName("a"))->granted, Token{40}) << "a again: its history is the granted floor";
  t.settle("a");  // evicts "b", whose granted (the floor's 7 when made) adds nothing
  EXPECT_EQ(t.granted_floor(), Token{40});
  EXPECT_EQ(t.floor(), Token{60});
  t.raise_floor(Token{100});
  EXPECT_EQ(t.find("a")->fence, Token{100});
  EXPECT_EQ(t.find("a")->granted, Token{40}) << "a raised floor is no grant";
  EXPECT_EQ(t.granted_floor(), Token{40});

  FenceTable capped(Token{5}, 4, 0, Token{9});
  EXPECT_EQ(capped.granted_floor(), Token{5}) << "never above the floor";
}

}  // namespace
}  // namespace baton::core
