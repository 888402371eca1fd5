// SPDX-License-Identifier: Apache-2.0
// Waiters: members that were denied because a resource was held, and are
// told when it stops being held (Guarantee 3: no blind polling). Each keeps
// the latest REQUEST it was denied for, so the voter can grant that request
// itself when the resource frees (a hand-off, docs/protocol.md) and send
// FREE to the rest. Bounded per resource and per voter; a member is
// remembered once per resource; waiters are forgotten once told.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "core/ids.hpp"
#include "core/membership.hpp"
#include "core/time.hpp"

namespace baton::core {

struct Waiter {
  MemberId member{};
  // The member's latest held-denied REQUEST for the resource (lease empty:
  // none known, never handed the lease).
  LeaseId lease{};
  Token token{};
  Duration ttl{};
  Instant received{};  // on the voter's clock
  CfgId cfg = initial_cfg_id;  // the configuration the request was tagged with (handed off only under it)
  bool operator==(const Waiter&) const = default;
};

class WaiterSet {
 public:
  // Adds `w` unless its member is present, in which case its request is
  // replaced by w's (the member keeps its place). False if the set is at
  // `max` (not added).
  bool add(const Waiter& w, std::size_t max);
  bool contains(MemberId m) const;
  bool remove(MemberId m);
  // Empties the set, returning who was in it (in arrival order).
  std::vector<Waiter> take();
  std::size_t size() const { return members_ ? members_->size() : 0; }
  // The waiters, in arrival order.
  std::span<const Waiter> list() const {
    return members_ ? std::span<const Waiter>(*members_) : std::span<const Waiter>();
  }
  bool empty() const { return size() == 0; }

 private:
  // Arrival order, unique by member. Null while empty: most entries (every
  // live lease with nobody waiting) then pay one pointer, not a vector's
  // three words.
  std::unique_ptr<std::vector<Waiter>> members_;
};

}  // namespace baton::core
