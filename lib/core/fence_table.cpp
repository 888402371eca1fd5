#include "core/fence_table.hpp"

#include <algorithm>

#include "core/assert.hpp"

namespace baton::core {

void FenceTable::raise_floor(Token t) {
  if (t <= base_) return;
  base_ = t;
  floor_ = std::max(floor_, t);
  // Guarantee 2: no fence sits below what earlier lives may have stored.
  for (auto& [name, e] : map_) e.fence = std::max(e.fence, base_);
}

Token FenceTable::fence_of(std::string_view name) const {
  const Entry* e = find(name);
  return e ? e->fence : floor_;
}

FenceTable::Entry* FenceTable::find(std::string_view name) {
  auto it = map_.find(name);
  return it == map_.end() ? nullptr : &it->second;
}

const FenceTable::Entry* FenceTable::find(std::string_view name) const {
  auto it = map_.find(name);
  return it == map_.end() ? nullptr : &it->second;
}

FenceTable::Entry& FenceTable::get(const ResourceName& name) {
  auto it = map_.find(name.view());
  if (it == map_.end()) {
    it = map_.emplace(name.str(), Entry{}).first;
    it->second.fence = floor_;
    // A fresh entry is idle until a hold or waiter arrives; settle() files it.
  }
  return it->second;
}

void FenceTable::mark_busy(Entry& e) {
  if (!e.idle) return;
  idle_.erase(e.idle_pos);
  e.idle = false;
}

void FenceTable::set_hold(std::string_view name, Hold h) {
  auto it = map_.find(name);
  BATON_ASSERT(it != map_.end());
  Entry& e = it->second;
  BATON_ASSERT(!e.hold.has_value());
  BATON_ASSERT(h.token <= e.fence);  // stored before the hold (Guarantee 2 pair, voter side)
  mark_busy(e);
  e.hold = h;
  expiries_.emplace(h.expiry, std::string_view(it->first));
}

void FenceTable::extend_hold(std::string_view name, Instant expiry) {
  auto it = map_.find(name);
  BATON_ASSERT(it != map_.end());
  Entry& e = it->second;
  BATON_ASSERT(e.hold.has_value());
  if (expiry <= e.hold->expiry) return;
  expiries_.erase({e.hold->expiry, std::string_view(it->first)});
  e.hold->expiry = expiry;
  expiries_.emplace(expiry, std::string_view(it->first));
}

std::vector<MemberId> FenceTable::end_hold(std::string_view name) {
  auto it = map_.find(name);
  if (it == map_.end()) return {};
  Entry& e = it->second;
  if (e.hold) {
    expiries_.erase({e.hold->expiry, std::string_view(it->first)});
    e.hold.reset();
  }
  waiters_ -= e.waiters.size();
  return e.waiters.take();
}

void FenceTable::settle(std::string_view name) {
  auto it = map_.find(name);
  if (it == map_.end()) return;
  Entry& e = it->second;
  const bool idle = !e.hold && e.waiters.empty();
  if (idle && !e.idle) {
    e.idle = true;
    e.idle_pos = idle_.insert(idle_.end(), std::string_view(it->first));
    evict_idle();
  } else if (!idle) {
    mark_busy(e);
  }
}

void FenceTable::evict_idle() {
  while (idle_.size() > idle_max_) {
    auto it = map_.find(idle_.front());
    BATON_ASSERT(it != map_.end());
    BATON_ASSERT(!it->second.hold);
    BATON_ASSERT(it->second.waiters.empty());
    floor_ = std::max(floor_, it->second.fence);
    idle_.pop_front();
    map_.erase(it);
    ++evictions_;
  }
}

Instant FenceTable::next_expiry() const { return expiries_.empty() ? Instant::max() : expiries_.begin()->first; }

std::vector<std::string> FenceTable::expired(Instant now) const {
  std::vector<std::string> out;
  for (const auto& [at, name] : expiries_) {
    if (at > now) break;
    out.emplace_back(name);
  }
  return out;
}

bool FenceTable::add_waiter(std::string_view name, MemberId m, std::size_t per_resource_max, std::size_t total_max) {
  auto it = map_.find(name);
  BATON_ASSERT(it != map_.end());
  Entry& e = it->second;
  if (e.waiters.contains(m)) return true;
  if (waiters_ >= total_max) return false;
  if (!e.waiters.add(m, per_resource_max)) return false;
  ++waiters_;
  mark_busy(e);
  return true;
}

void FenceTable::remove_waiter(std::string_view name, MemberId m) {
  Entry* e = find(name);
  if (e && e->waiters.remove(m)) --waiters_;
}

Token FenceTable::max_token() const {
  Token t = floor_;
  for (const auto& [name, e] : map_) t = std::max(t, e.fence);
  return t;
}

}  // namespace baton::core
