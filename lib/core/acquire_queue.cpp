// SPDX-License-Identifier: Apache-2.0
#include "core/acquire_queue.hpp"

#include <set>

#include "core/assert.hpp"

namespace baton::core {

AcquireQueue::Map::iterator AcquireQueue::find(const ResourceName& r, AcquireId id) {
  auto [lo, hi] = entries_.equal_range(r);
  for (auto it = lo; it != hi; ++it) {
    if (it->second.id == id) return it;
  }
  return entries_.end();
}

AcquireQueue::Join AcquireQueue::join(const ResourceName& r, AcquireId id, bool takes_turns) {
  BATON_ASSERT(find(r, id) == entries_.end());
  Role role = Role::apart;
  if (takes_turns) role = turn(r) ? Role::waits : Role::turn;
  entries_.emplace(r, Entry{.id = id, .role = role});
  switch (role) {
    case Role::turn: return Join::turn;
    case Role::waits: return Join::wait;
    case Role::apart: break;
  }
  return Join::apart;
}

std::optional<AcquireId> AcquireQueue::next(const ResourceName& r) {
  BATON_ASSERT(!turn(r).has_value());
  auto [lo, hi] = entries_.equal_range(r);
  for (auto it = lo; it != hi; ++it) {
    if (it->second.role == Role::waits) {
      it->second.role = Role::turn;
      return it->second.id;
    }
  }
  return std::nullopt;
}

std::optional<AcquireId> AcquireQueue::pass_turn(const ResourceName& r, AcquireId id) {
  auto it = find(r, id);
  BATON_ASSERT(it != entries_.end());
  BATON_ASSERT(it->second.role == Role::turn);
  it->second.role = Role::apart;  // it stays listed (it holds the lease now)
  return next(r);
}

std::optional<AcquireId> AcquireQueue::leave(const ResourceName& r, AcquireId id) {
  auto it = find(r, id);
  BATON_ASSERT(it != entries_.end());
  const bool had_turn = it->second.role == Role::turn;
  entries_.erase(it);
  return had_turn ? next(r) : std::nullopt;
}

std::optional<AcquireId> AcquireQueue::turn(const ResourceName& r) const {
  auto [lo, hi] = entries_.equal_range(r);
  for (auto it = lo; it != hi; ++it) {
    if (it->second.role == Role::turn) return it->second.id;
  }
  return std::nullopt;
}

bool AcquireQueue::waits(const ResourceName& r, AcquireId id) const {
  auto [lo, hi] = entries_.equal_range(r);
  for (auto it = lo; it != hi; ++it) {
    if (it->second.id == id) return it->second.role == Role::waits;
  }
  return false;
}

std::size_t AcquireQueue::waiting(const ResourceName& r) const {
  std::size_t n = 0;
  auto [lo, hi] = entries_.equal_range(r);
  for (auto it = lo; it != hi; ++it) n += it->second.role == Role::waits;
  return n;
}

std::vector<AcquireId> AcquireQueue::all(const ResourceName& r) const {
  std::vector<AcquireId> out;
  for_each(r, [&](AcquireId id) { out.push_back(id); });
  return out;
}

std::string AcquireQueue::check() const {
  std::set<AcquireId> seen;
  for (auto it = entries_.begin(); it != entries_.end();) {
    const ResourceName& r = it->first;
    const std::string name(r.view());
    std::size_t turns = 0;
    std::size_t waiting = 0;
    for (; it != entries_.end() && it->first == r; ++it) {
      if (!seen.insert(it->second.id).second) return "acquire queue: an acquire listed twice: " + name;
      turns += it->second.role == Role::turn;
      waiting += it->second.role == Role::waits;
    }
    if (turns > 1) return "two acquires of one resource attempting at once: " + name;
    if (waiting > 0 && turns == 0) return "queued acquire with none attempting: " + name;
  }
  return {};
}

}  // namespace baton::core
