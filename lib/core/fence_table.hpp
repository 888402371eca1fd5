// SPDX-License-Identifier: Apache-2.0
// FenceTable: a voter's per-resource state, bounded (Guarantee 4).
//
// Each entry holds the resource's `fence` (highest token this voter stored
// for it), its live hold if any, and its waiters. An entry with no hold and
// no waiters is idle; idle entries are kept (so that acquires of different
// resources do not contend on one shared number) up to `idle_max`, then the
// least recently idle one is evicted and its fence folded into the single
// `floor`. A resource without an entry has fence == floor. So memory grows
// with live leases and waiters plus a constant, never with every name used.
//
// Live holds are also in an indexed binary min-heap by expiry (16 bytes per
// hold in one vector, the entry knowing its position), not a balanced tree
// (a 64-byte node per hold).
//
// Entries sit in a hash table keyed by name, hashed with seeded XXH3: every
// REQUEST and RELEASE looks its resource up, and in an ordered map each
// lookup compared ~log2(n) names, which share long prefixes ("seat:12A",
// "bench:tp:1:...") and so cost a memcmp each. The voter looks a message's
// resource up once and goes on through the Ref it got. The seed comes
// from the node's seed (random in a real process), so a caller choosing
// names cannot aim them at one bucket; the simulator's seeded runs stay
// reproducible. Nothing depends on the table's iteration order: expiries are
// ordered by (expiry, name) and eviction by the idle list.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <list>
#include <unordered_map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/ids.hpp"
#include "core/time.hpp"
#include "core/waiters.hpp"

namespace baton::core {

struct Hold {
  LeaseId lease{};    // the live lease
  Token token{};      // its fencing token (== the entry's fence while live)
  MemberId holder{};  // the acquiring member
  Instant expiry{};   // hold ends at this instant on the voter's clock
  bool provisional = false;  // a hand-off not yet confirmed by a RENEW (expiry is handoff_confirm away)
};

class FenceTable {
 public:
  struct Entry;

 private:
  // Seeded XXH3 of the name; transparent, so string_views look up without a copy.
  struct NameHash {
    using is_transparent = void;
    std::uint64_t seed = 0;
    std::size_t operator()(std::string_view name) const;
  };
  using Map = std::unordered_map<std::string, Entry, NameHash, std::equal_to<>>;

 public:
  struct Entry {
    Token fence{};               // highest token stored for this resource; >= floor
    std::optional<Hold> hold;  // the live lease, if any
    WaiterSet waiters;         // members to tell (or hand the lease) when it is free
    // The highest token this voter granted (or re-granted) for this resource
    // (<= fence): a RENEW below it is superseded here (Voter::on_renew, V4).
    // A fence raised by a floor or a join floor leaves it; a fresh entry
    // starts at granted_floor() (the resource's evicted history).
    Token granted{};
    // False only while the last hold at `granted` is one its owner released:
    // then a RENEW of that lease must not re-grant it (Voter::on_renew; a
    // RENEW arriving after the RELEASE, reordered, duplicated, or a client's
    // replayed once its replay state was evicted, would resurrect it). A
    // grant sets it again; a fresh entry has it set, judged as with no entry.
    bool regrantable = true;
   private:
    friend class FenceTable;
    static constexpr std::uint32_t no_pos = UINT32_MAX;
    std::list<std::string_view>::iterator idle_pos;
    std::uint32_t heap_pos = no_pos;  // index in expiries_ while the hold is live
    bool idle = false;
  };

  // An entry together with its name, as one lookup found it, so that a
  // message's handling looks its resource up once (the by-name calls below
  // each look it up again). Valid until that entry is evicted, which only
  // settle() does; empty when the name has no entry.
  class Ref {
   public:
    Ref() = default;
    explicit operator bool() const { return kv_ != nullptr; }
    Entry& operator*() const { return kv_->second; }
    Entry* operator->() const { return &kv_->second; }
    std::string_view name() const { return kv_->first; }

   private:
    friend class FenceTable;
    explicit Ref(Map::value_type* kv) : kv_(kv) {}
    Map::value_type* kv_ = nullptr;
  };

  // `hash_seed` keys the name hash (see above). `granted_floor` (<= floor)
  // bounds the tokens this voter granted before: its own reservation after a
  // restart from its state directory, 0 for a new life.
  FenceTable(Token floor, std::size_t idle_max, std::uint64_t hash_seed = 0, Token granted_floor = Token{})
      : map_(0, NameHash{hash_seed}),
        floor_(floor),
        base_(floor),
        granted_floor_(std::min(granted_floor, floor)),
        idle_max_(idle_max) {}
  FenceTable(const FenceTable&) = delete;
  FenceTable& operator=(const FenceTable&) = delete;

  Token floor() const { return floor_; }
  // The floor learned at recovery: every entry's fence is at or above it.
  // (The eviction floor may pass a kept entry's fence: that entry's fence is
  // its own resource's history, and resources without an entry use floor().)
  Token base() const { return base_; }
  // Covers Entry::granted of every evicted entry (and the granted floor the
  // table started with): the granted token of a resource without an entry.
  Token granted_floor() const { return granted_floor_; }
  // Recovery learned that tokens up to `t` may have been stored.
  void raise_floor(Token t);

  // The fence of `name`: its entry's, or the floor.
  Token fence_of(std::string_view name) const;
  Entry* find(std::string_view name);
  const Entry* find(std::string_view name) const;
  Ref lookup(std::string_view name);
  // The entry of `name`, created with fence = floor if absent.
  Ref get(const ResourceName& name);

  // Each call below by Ref (which must not be empty) or by name (which must
  // have an entry, except for end_hold, settle and remove_waiter).
  void set_hold(Ref e, Hold h);
  void set_hold(std::string_view name, Hold h) { set_hold(lookup(name), h); }
  void extend_hold(Ref e, Instant expiry);
  void extend_hold(std::string_view name, Instant expiry) { extend_hold(lookup(name), expiry); }
  // Drops the hold (if any). Returns the waiters to notify (and forgets them).
  std::vector<Waiter> end_hold(Ref e);
  std::vector<Waiter> end_hold(std::string_view name);
  // Call after changing an entry's waiters or hold: files it as idle if it
  // is, which may evict an idle entry (this one included): Refs end here.
  void settle(Ref e);
  void settle(std::string_view name);

  // Earliest hold expiry, or Instant::max().
  Instant next_expiry() const;
  // Names whose hold expires at or before `now`, earliest first.
  std::vector<std::string> expired(Instant now) const;

  std::size_t entries() const { return map_.size(); }
  std::size_t live() const { return expiries_.size(); }
  // For the invariants: the expiry heap agrees with the entries' holds.
  bool heap_consistent() const;
  std::size_t waiters() const { return waiters_; }
  std::uint64_t evictions() const { return evictions_; }
  // Whether client `m` holds a lease or waits here (issue 21): its replay
  // window must then not be evicted (Node::client_pinned). Counted as holds
  // and waiters come and go, so bounded by them.
  bool client_has_state(MemberId m) const { return client_refs_.contains(m.value); }
  std::size_t clients_with_state() const { return client_refs_.size(); }
  // Recounts the clients' holds and waiters against the counters (invariants).
  bool client_refs_consistent() const;
  // Waiter bookkeeping goes through these so the total stays exact.
  // Adds `w`, or replaces its member's request if that member already waits.
  bool add_waiter(Ref e, const Waiter& w, std::size_t per_resource_max, std::size_t total_max);
  bool add_waiter(std::string_view name, const Waiter& w, std::size_t per_resource_max, std::size_t total_max) {
    return add_waiter(lookup(name), w, per_resource_max, total_max);
  }
  void remove_waiter(Ref e, MemberId m);
  void remove_waiter(std::string_view name, MemberId m) { remove_waiter(lookup(name), m); }

  // Highest token stored anywhere (floor or any fence).
  Token max_token() const;

  // Every entry, in the table's (hash) order.
  template <typename F>
  void for_each(F&& f) const {
    for (const auto& [name, e] : map_) f(std::string_view(name), e);
  }
  // Every entry, by name: for dumps that must read the same on every run.
  template <typename F>
  void for_each_by_name(F&& f) const {
    std::vector<const Map::value_type*> all;
    all.reserve(map_.size());
    for (const auto& kv : map_) all.push_back(&kv);
    std::sort(all.begin(), all.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
    for (const auto* kv : all) f(std::string_view(kv->first), kv->second);
  }

 private:
  struct Due {
    Instant at;               // the hold's expiry
    Map::value_type* kv;      // its entry (nodes never move, even on rehash)
  };

  void mark_busy(Entry& e);
  void evict_idle();
  // The expiry heap: earliest first, ties by name (deterministic).
  static bool before(const Due& a, const Due& b);
  void heap_place(std::size_t i, Due d);  // stores d at i and tells its entry
  void heap_up(std::size_t i);
  void heap_down(std::size_t i);
  void heap_remove(std::size_t i);

  Map map_;                                                   // by name; iteration order unused
  std::vector<Due> expiries_;                                 // live holds, a min-heap by expiry
  std::list<std::string_view> idle_;                          // idle entries, least recently idle first
  Token floor_{};                                             // covers every evicted entry (>= base_)
  Token base_{};                                              // recovered floor; every fence >= it
  Token granted_floor_{};                                     // covers evicted entries' `granted` (<= floor_)
  std::size_t idle_max_;                                      // idle entries kept
  std::size_t waiters_ = 0;                                   // total over all entries
  std::uint64_t evictions_ = 0;
  std::unordered_map<std::uint32_t, std::uint32_t> client_refs_;  // client id -> its holds + waiters here
  void ref_client(MemberId m);
  void unref_client(MemberId m);
};

}  // namespace baton::core
