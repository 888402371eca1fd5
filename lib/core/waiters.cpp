#include "core/waiters.hpp"

#include <algorithm>

namespace baton::core {

bool WaiterSet::add(MemberId m, std::size_t max) {
  if (contains(m)) return true;
  if (members_.size() >= max) return false;
  members_.push_back(m);
  return true;
}

bool WaiterSet::contains(MemberId m) const { return std::find(members_.begin(), members_.end(), m) != members_.end(); }

bool WaiterSet::remove(MemberId m) {
  auto it = std::find(members_.begin(), members_.end(), m);
  if (it == members_.end()) return false;
  members_.erase(it);
  return true;
}

std::vector<MemberId> WaiterSet::take() {
  std::vector<MemberId> out;
  out.swap(members_);
  return out;
}

}  // namespace baton::core
