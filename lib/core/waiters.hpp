// Waiters: members that were denied because a resource was held, and get a
// FREE notice when it stops being held (Guarantee 3: no blind polling).
// Bounded per resource and per voter; a member is remembered once per
// resource; waiters are forgotten once told.
#pragma once

#include <cstddef>
#include <memory>
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
  std::size_t size() const { return members_ ? members_->size() : 0; }
  bool empty() const { return size() == 0; }

 private:
  // Arrival order, unique. Null while empty: most entries (every live lease
  // with nobody waiting) then pay one pointer, not a vector's three words.
  std::unique_ptr<std::vector<MemberId>> members_;
};

}  // namespace baton::core
