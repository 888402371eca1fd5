// Waiters: members that were denied because a resource was held, and get a
// FREE notice when it stops being held (Guarantee 3: no blind polling).
// Bounded per resource and per voter; a member is remembered once per
// resource; waiters are forgotten once told.
#pragma once

#include <cstddef>
#include <vector>

#include "core/ids.hpp"

namespace baton::core {

class WaiterSet {
 public:
  // Adds `m` unless present. False if the set is at `max` (not added).
  bool add(MemberId m, std::size_t max);
  bool contains(MemberId m) const;
  bool remove(MemberId m);
  // Empties the set, returning who was in it (in arrival order).
  std::vector<MemberId> take();
  std::size_t size() const { return members_.size(); }
  bool empty() const { return members_.empty(); }

 private:
  std::vector<MemberId> members_;  // arrival order, unique
};

}  // namespace baton::core
