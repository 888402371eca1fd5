// SPDX-License-Identifier: Apache-2.0
#include "codec/replay_window.hpp"

#include <algorithm>

#include "core/assert.hpp"

namespace baton::codec {

namespace {
constexpr std::uint64_t window = core::limits::replay_window;
}  // namespace

ReplayWindow::ReplayWindow() { entries_.reserve(core::limits::members_max); }

bool SeqWindow::test(std::uint64_t seq) const {
  const std::uint64_t bit = seq % window;
  return (seen_[bit / 64] >> (bit % 64)) & 1U;
}

void SeqWindow::set(std::uint64_t seq) {
  const std::uint64_t bit = seq % window;
  seen_[bit / 64] |= std::uint64_t{1} << (bit % 64);
}

// Moves `top` up to `seq`. Each number s in (top, seq] shares its bit with
// s - window, which falls out of the window now; clear those bits so that the
// new numbers read as "not seen".
void SeqWindow::advance(std::uint64_t seq) {
  BATON_ASSERT(seq > top_);
  if (seq - top_ >= window) {
    seen_.fill(0);
  } else {
    for (std::uint64_t s = top_ + 1; s <= seq; ++s) {
      const std::uint64_t bit = s % window;
      seen_[bit / 64] &= ~(std::uint64_t{1} << (bit % 64));
    }
  }
  top_ = seq;
  set(seq);
}

void SeqWindow::restart(std::uint64_t seq) {
  BATON_ASSERT(seq != 0);
  top_ = seq;
  seen_.fill(0);
  set(seq);
}

bool SeqWindow::admit(std::uint64_t seq) {
  if (seq == 0) return false;
  if (seq > top_) {
    advance(seq);
    return true;
  }
  if (top_ - seq >= window) return false;  // below the window: cannot tell, so refuse
  if (test(seq)) return false;             // seen: a duplicate or a replay
  set(seq);
  return true;
}

ReplayWindow::Verdict ReplayWindow::admit(core::MemberId sender, core::Incarnation incarnation, std::uint64_t seq) {
  constexpr Verdict accepted = Verdict::accepted;
  constexpr Verdict replayed = Verdict::replayed;
  // Senders start at 1; 0 would alias "nothing seen yet".
  if (seq == 0) return replayed;
  auto it = std::lower_bound(entries_.begin(), entries_.end(), sender,
                             [](const Entry& e, core::MemberId s) { return e.sender < s; });
  if (it == entries_.end() || it->sender != sender) {
    if (entries_.size() >= core::limits::members_max) return replayed;
    entries_.insert(it, Entry{.sender = sender, .incarnation = incarnation, .seqs = SeqWindow(seq)});
    return accepted;
  }
  Entry& e = *it;
  // A previous life: delayed, replayed, or a new life whose incarnation came
  // out lower (a wall clock stepped back: the caller may tell the sender).
  if (incarnation < e.incarnation) return Verdict::older_incarnation;
  if (incarnation > e.incarnation) {  // the sender restarted
    e.incarnation = incarnation;
    e.seqs.restart(seq);
    return accepted;
  }
  return e.seqs.admit(seq) ? accepted : replayed;
}

std::optional<core::Incarnation> ReplayWindow::newest(core::MemberId sender) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), sender,
                             [](const Entry& e, core::MemberId s) { return e.sender < s; });
  if (it == entries_.end() || it->sender != sender) return std::nullopt;
  return it->incarnation;
}

void ReplayWindow::forget(core::MemberId sender) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), sender,
                             [](const Entry& e, core::MemberId s) { return e.sender < s; });
  if (it != entries_.end() && it->sender == sender) entries_.erase(it);
}

}  // namespace baton::codec

namespace baton::codec {

ClientWindows::ClientWindows(std::size_t capacity) : capacity_(capacity) {
  BATON_ASSERT(capacity_ > 0);
  index_.reserve(std::min<std::size_t>(capacity_, 1024));
}

std::size_t ClientWindows::KeyHash::operator()(const Key& k) const {
  // splitmix64's finalizer over both halves: ids and incarnations are random
  // already, this only mixes them.
  std::uint64_t x = k.incarnation ^ (std::uint64_t{k.client} * 0x9e3779b97f4a7c15ULL);
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return static_cast<std::size_t>(x ^ (x >> 31));
}

bool ClientWindows::admit(core::MemberId client, core::Incarnation incarnation, std::uint64_t seq,
                          const std::function<bool(core::MemberId)>& pinned) {
  if (seq == 0) return false;
  const Key key{.client = client.value, .incarnation = incarnation.value};
  if (auto it = index_.find(key); it != index_.end()) {
    if (!it->second->seqs.admit(seq)) return false;
    lru_.splice(lru_.begin(), lru_, it->second);  // most recently accepted
    return true;
  }
  if (index_.size() >= capacity_) {
    // The least recently accepted life that is not pinned (at most
    // `capacity_` looked at).
    const auto victim =
        least_recent_unpinned(lru_, pinned, [](const Life& l) { return core::MemberId(l.key.client); });
    if (victim == lru_.end()) {
      ++refused_;
      return false;
    }
    index_.erase(victim->key);
    lru_.erase(victim);
    ++evictions_;
  }
  lru_.push_front(Life{.key = key, .seqs = SeqWindow(seq)});
  index_.emplace(key, lru_.begin());
  return true;
}

bool ClientWindows::tracks(core::MemberId client, core::Incarnation incarnation) const {
  return index_.contains(Key{.client = client.value, .incarnation = incarnation.value});
}

}  // namespace baton::codec
