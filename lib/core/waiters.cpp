// SPDX-License-Identifier: Apache-2.0
#include "core/waiters.hpp"

#include <algorithm>

namespace baton::core {

bool WaiterSet::add(const Waiter& w, std::size_t max) {
  if (members_) {
    auto it = std::find_if(members_->begin(), members_->end(), [&](const Waiter& x) { return x.member == w.member; });
    if (it != members_->end()) {
      *it = w;
      return true;
    }
  }
  if (size() >= max) return false;
  if (!members_) members_ = std::make_unique<std::vector<Waiter>>();
  members_->push_back(w);
  return true;
}

bool WaiterSet::contains(MemberId m) const {
  return members_ && std::any_of(members_->begin(), members_->end(), [&](const Waiter& x) { return x.member == m; });
}

bool WaiterSet::remove(MemberId m) {
  if (!members_) return false;
  auto it = std::find_if(members_->begin(), members_->end(), [&](const Waiter& x) { return x.member == m; });
  if (it == members_->end()) return false;
  members_->erase(it);
  if (members_->empty()) members_.reset();
  return true;
}

std::vector<Waiter> WaiterSet::take() {
  if (!members_) return {};
  std::vector<Waiter> out = std::move(*members_);
  members_.reset();
  return out;
}

}  // namespace baton::core
