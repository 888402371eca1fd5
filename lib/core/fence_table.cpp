// SPDX-License-Identifier: Apache-2.0
#include "core/fence_table.hpp"

#include <algorithm>

#include "core/assert.hpp"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace baton::core {

std::size_t FenceTable::NameHash::operator()(std::string_view name) const {
  return static_cast<std::size_t>(XXH3_64bits_withSeed(name.data(), name.size(), seed));
}

void FenceTable::raise_floor(Token t) {
  if (t <= base_) return;
  base_ = t;
  floor_ = std::max(floor_, t);
  // Guarantee 2: no fence sits below what earlier lives may have stored
  // (Entry::granted stays: what this voter granted is unchanged).
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

FenceTable::Ref FenceTable::lookup(std::string_view name) {
  auto it = map_.find(name);
  return it == map_.end() ? Ref{} : Ref{&*it};
}

FenceTable::Ref FenceTable::get(const ResourceName& name) {
  auto it = map_.find(name.view());
  if (it == map_.end()) {
    it = map_.emplace(name.str(), Entry{}).first;
    it->second.fence = floor_;
    it->second.granted = granted_floor_;
    // A fresh entry is idle until a hold or waiter arrives; settle() files it.
  }
  return Ref{&*it};
}

void FenceTable::mark_busy(Entry& e) {
  if (!e.idle) return;
  idle_.erase(e.idle_pos);
  e.idle = false;
}

void FenceTable::set_hold(Ref ref, Hold h) {
  BATON_ASSERT(ref);
  Entry& e = *ref;
  BATON_ASSERT(!e.hold.has_value());
  BATON_ASSERT(h.token <= e.fence);  // stored before the hold (Guarantee 2 pair, voter side)
  mark_busy(e);
  e.hold = h;
  ref_client(h.holder);
  expiries_.push_back(Due{h.expiry, ref.kv_});
  heap_place(expiries_.size() - 1, expiries_.back());
  heap_up(expiries_.size() - 1);
}

void FenceTable::extend_hold(Ref ref, Instant expiry) {
  BATON_ASSERT(ref);
  Entry& e = *ref;
  BATON_ASSERT(e.hold.has_value());
  if (expiry <= e.hold->expiry) return;
  e.hold->expiry = expiry;
  expiries_[e.heap_pos].at = expiry;
  heap_down(e.heap_pos);  // later than before: it can only sink
}

std::vector<Waiter> FenceTable::end_hold(std::string_view name) {
  const Ref ref = lookup(name);
  if (!ref) return {};
  return end_hold(ref);
}

std::vector<Waiter> FenceTable::end_hold(Ref ref) {
  BATON_ASSERT(ref);
  Entry& e = *ref;
  if (e.hold) {
    heap_remove(e.heap_pos);
    unref_client(e.hold->holder);
    e.hold.reset();
  }
  waiters_ -= e.waiters.size();
  std::vector<Waiter> out = e.waiters.take();
  for (const Waiter& w : out) unref_client(w.member);
  return out;
}

void FenceTable::settle(std::string_view name) {
  const Ref ref = lookup(name);
  if (ref) settle(ref);
}

void FenceTable::settle(Ref ref) {
  BATON_ASSERT(ref);
  Entry& e = *ref;
  const bool idle = !e.hold && e.waiters.empty();
  if (idle && !e.idle) {
    e.idle = true;
    e.idle_pos = idle_.insert(idle_.end(), ref.name());
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
    granted_floor_ = std::max(granted_floor_, it->second.granted);
    idle_.pop_front();
    map_.erase(it);
    ++evictions_;
  }
}

Instant FenceTable::next_expiry() const { return expiries_.empty() ? Instant::max() : expiries_.front().at; }

std::vector<std::string> FenceTable::expired(Instant now) const {
  // Every heap slot due by `now` lies in the subtree of due slots under the
  // root: walk it, then order by (expiry, name).
  std::vector<const Due*> due;
  std::vector<std::size_t> stack;
  if (!expiries_.empty()) stack.push_back(0);
  while (!stack.empty()) {
    const std::size_t i = stack.back();
    stack.pop_back();
    if (expiries_[i].at > now) continue;
    due.push_back(&expiries_[i]);
    for (std::size_t c = 2 * i + 1; c <= 2 * i + 2 && c < expiries_.size(); ++c) stack.push_back(c);
  }
  std::sort(due.begin(), due.end(), [](const Due* a, const Due* b) { return before(*a, *b); });
  std::vector<std::string> out;
  out.reserve(due.size());
  for (const Due* d : due) out.push_back(d->kv->first);
  return out;
}

bool FenceTable::before(const Due& a, const Due& b) {
  if (a.at != b.at) return a.at < b.at;
  return a.kv->first < b.kv->first;
}

void FenceTable::heap_place(std::size_t i, Due d) {
  expiries_[i] = d;
  d.kv->second.heap_pos = static_cast<std::uint32_t>(i);
}

void FenceTable::heap_up(std::size_t i) {
  const Due d = expiries_[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / 2;
    if (!before(d, expiries_[parent])) break;
    heap_place(i, expiries_[parent]);
    i = parent;
  }
  heap_place(i, d);
}

void FenceTable::heap_down(std::size_t i) {
  const Due d = expiries_[i];
  const std::size_t n = expiries_.size();
  for (;;) {
    std::size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && before(expiries_[child + 1], expiries_[child])) ++child;
    if (!before(expiries_[child], d)) break;
    heap_place(i, expiries_[child]);
    i = child;
  }
  heap_place(i, d);
}

void FenceTable::heap_remove(std::size_t i) {
  BATON_ASSERT(i < expiries_.size());
  expiries_[i].kv->second.heap_pos = Entry::no_pos;
  const Due moved = expiries_.back();
  expiries_.pop_back();
  if (i == expiries_.size()) return;  // it was the last slot
  // The last slot fills the hole, then moves whichever way restores order.
  heap_place(i, moved);
  heap_up(i);
  heap_down(moved.kv->second.heap_pos);
}

bool FenceTable::heap_consistent() const {
  for (std::size_t i = 0; i < expiries_.size(); ++i) {
    const Due& d = expiries_[i];
    const Entry& e = d.kv->second;
    if (e.heap_pos != i || !e.hold || e.hold->expiry != d.at) return false;
    if (i > 0 && before(d, expiries_[(i - 1) / 2])) return false;
  }
  return true;
}

bool FenceTable::add_waiter(Ref ref, const Waiter& w, std::size_t per_resource_max, std::size_t total_max) {
  BATON_ASSERT(ref);
  Entry& e = *ref;
  if (e.waiters.contains(w.member)) return e.waiters.add(w, per_resource_max);  // a newer request: replaced
  if (waiters_ >= total_max) return false;
  if (!e.waiters.add(w, per_resource_max)) return false;
  ++waiters_;
  ref_client(w.member);
  mark_busy(e);
  return true;
}

void FenceTable::remove_waiter(Ref e, MemberId m) {
  if (e && e->waiters.remove(m)) {
    --waiters_;
    unref_client(m);
  }
}

void FenceTable::ref_client(MemberId m) {
  if (is_client(m)) ++client_refs_[m.value];
}

void FenceTable::unref_client(MemberId m) {
  if (!is_client(m)) return;
  auto it = client_refs_.find(m.value);
  BATON_ASSERT(it != client_refs_.end() && it->second > 0);
  if (--it->second == 0) client_refs_.erase(it);
}

bool FenceTable::client_refs_consistent() const {
  std::unordered_map<std::uint32_t, std::uint32_t> count;
  for (const auto& [name, e] : map_) {
    if (e.hold && is_client(e.hold->holder)) ++count[e.hold->holder.value];
    for (const Waiter& w : e.waiters.list()) {
      if (is_client(w.member)) ++count[w.member.value];
    }
  }
  return count == client_refs_;
}

Token FenceTable::max_token() const {
  Token t = floor_;
  for (const auto& [name, e] : map_) t = std::max(t, e.fence);
  return t;
}

}  // namespace baton::core
