#include "core/waiters.hpp"

#include <algorithm>

namespace baton::core {

bool WaiterSet::add(MemberId m, std::size_t max) {
  if (contains(m)) return true;
  if (size() >= max) return false;
  if (!members_) members_ = std::make_unique<std::vector<MemberId>>();
  members_->push_back(m);
  return true;
}

bool WaiterSet::contains(MemberId m) const {
  return members_ && std::find(members_->begin(), members_->end(), m) != members_->end();
}

bool WaiterSet::remove(MemberId m) {
  if (!members_) return false;
  auto it = std::find(members_->begin(), members_->end(), m);
  if (it == members_->end()) return false;
  members_->erase(it);
  if (members_->empty()) members_.reset();
  return true;
}

std::vector<MemberId> WaiterSet::take() {
  if (!members_) return {};
  std::vector<MemberId> out = std::move(*members_);
  members_.reset();
  return out;
}

}  // namespace baton::core
