// SPDX-License-Identifier: Apache-2.0
// AcquireQueue: how several acquires of one resource in this member take
// turns. At most one of them holds the turn (it is attempting or backing
// off); the others wait, in the order they were called, and the oldest gets
// the turn when the holder wins, fails or is cancelled. Side by side they
// would split this member's own vote between them on every attempt (the
// simulator's seed 6442), and a process with two contenders would take more
// than its share of hand-offs. A try_acquire never waits and never takes the
// turn: it makes its one attempt at once.
//
// The queue also lists every acquire of a resource in call order (FREE
// notices are dispatched in that order), and counts those waiting (the
// retry draws and the hand-off weighting take one per waiting acquire).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/ids.hpp"

namespace baton::core {

class AcquireQueue {
 public:
  enum class Join : std::uint8_t {
    turn,   // it holds the turn: start attempting
    wait,   // another holds it: wait (queued)
    apart,  // a try_acquire: attempts at once, outside the queue
  };
  // A new acquire `id` of `r`; `takes_turns` is false for a try_acquire.
  Join join(const ResourceName& r, AcquireId id, bool takes_turns);
  // `id`, the turn holder, won: the turn passes to the oldest waiting
  // acquire, returned (it starts attempting), if any. `id` stays listed.
  std::optional<AcquireId> pass_turn(const ResourceName& r, AcquireId id);
  // `id` is gone (failed, cancelled, released, lost). If it held the turn,
  // the turn passes as above.
  std::optional<AcquireId> leave(const ResourceName& r, AcquireId id);

  std::optional<AcquireId> turn(const ResourceName& r) const;
  bool holds_turn(const ResourceName& r, AcquireId id) const { return turn(r) == id; }
  bool waits(const ResourceName& r, AcquireId id) const;
  // Acquires of `r` waiting for the turn.
  std::size_t waiting(const ResourceName& r) const;
  // Every acquire of `r`, in call order (empty if none): a copy, safe to
  // walk while acquires leave.
  std::vector<AcquireId> all(const ResourceName& r) const;
  // Calls `f(id)` for every acquire of `r`, in call order; `f` must not
  // change the queue.
  template <class F>
  void for_each(const ResourceName& r, F&& f) const {
    auto [lo, hi] = entries_.equal_range(r);
    for (auto it = lo; it != hi; ++it) f(it->second.id);
  }
  bool contains(const ResourceName& r) const { return entries_.count(r) > 0; }
  std::size_t size() const { return entries_.size(); }

  // At most one turn holder per resource; a waiting acquire implies one;
  // every acquire is listed once; empty if so.
  std::string check() const;

 private:
  enum class Role : std::uint8_t { turn, waits, apart };
  struct Entry {
    AcquireId id;
    Role role;
  };
  using Map = std::multimap<ResourceName, Entry>;
  Map::iterator find(const ResourceName& r, AcquireId id);
  // The turn of `r` is free: the oldest waiting acquire takes it.
  std::optional<AcquireId> next(const ResourceName& r);
  // One node per acquire, equal keys in call order (the multimap keeps
  // insertion order): a resource with one acquire costs one allocation.
  Map entries_;
};

}  // namespace baton::core
