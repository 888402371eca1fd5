// SPDX-License-Identifier: Apache-2.0
#include "core/acquire_queue.hpp"

#include <algorithm>
#include <set>

#include "core/assert.hpp"

namespace baton::core {

AcquireQueue::Join AcquireQueue::join(const ResourceName& r, AcquireId id, bool takes_turns) {
  Queue& q = queues_[r];
  BATON_ASSERT(std::find(q.all.begin(), q.all.end(), id) == q.all.end());
  q.all.push_back(id);
  if (!takes_turns) return Join::apart;
  if (q.turn) {
    q.waiting.push_back(id);
    return Join::wait;
  }
  q.turn = id;
  return Join::turn;
}

std::optional<AcquireId> AcquireQueue::next(Queue& q) {
  BATON_ASSERT(!q.turn.has_value());
  if (q.waiting.empty()) return std::nullopt;
  q.turn = q.waiting.front();
  q.waiting.pop_front();
  return q.turn;
}

std::optional<AcquireId> AcquireQueue::pass_turn(const ResourceName& r, AcquireId id) {
  auto it = queues_.find(r);
  BATON_ASSERT(it != queues_.end());
  BATON_ASSERT(it->second.turn == id);
  it->second.turn.reset();
  return next(it->second);
}

std::optional<AcquireId> AcquireQueue::leave(const ResourceName& r, AcquireId id) {
  auto it = queues_.find(r);
  BATON_ASSERT(it != queues_.end());
  Queue& q = it->second;
  auto pos = std::find(q.all.begin(), q.all.end(), id);
  BATON_ASSERT(pos != q.all.end());
  q.all.erase(pos);
  std::optional<AcquireId> started;
  if (q.turn == id) {
    q.turn.reset();
    started = next(q);
  } else if (auto w = std::find(q.waiting.begin(), q.waiting.end(), id); w != q.waiting.end()) {
    q.waiting.erase(w);
  }
  if (q.all.empty()) queues_.erase(it);
  return started;
}

std::optional<AcquireId> AcquireQueue::turn(const ResourceName& r) const {
  auto it = queues_.find(r);
  return it == queues_.end() ? std::nullopt : it->second.turn;
}

bool AcquireQueue::holds_turn(const ResourceName& r, AcquireId id) const { return turn(r) == id; }

bool AcquireQueue::waits(const ResourceName& r, AcquireId id) const {
  auto it = queues_.find(r);
  if (it == queues_.end()) return false;
  return std::find(it->second.waiting.begin(), it->second.waiting.end(), id) != it->second.waiting.end();
}

std::size_t AcquireQueue::waiting(const ResourceName& r) const {
  auto it = queues_.find(r);
  return it == queues_.end() ? 0 : it->second.waiting.size();
}

std::vector<AcquireId> AcquireQueue::all(const ResourceName& r) const {
  auto it = queues_.find(r);
  return it == queues_.end() ? std::vector<AcquireId>{} : it->second.all;
}

std::string AcquireQueue::check() const {
  for (const auto& [r, q] : queues_) {
    const std::string name(r.view());
    if (q.all.empty()) return "acquire queue: an empty queue kept for " + name;
    if (!q.waiting.empty() && !q.turn) return "queued acquire with none attempting: " + name;
    std::set<AcquireId> seen(q.all.begin(), q.all.end());
    if (seen.size() != q.all.size()) return "acquire queue: an acquire listed twice for " + name;
    for (AcquireId w : q.waiting) {
      if (!seen.count(w)) return "acquire queue: a waiting acquire not listed for " + name;
      if (q.turn == w) return "acquire queue: the turn holder also waits for " + name;
    }
    if (q.turn && !seen.count(*q.turn)) return "acquire queue: the turn holder not listed for " + name;
  }
  return {};
}

}  // namespace baton::core
