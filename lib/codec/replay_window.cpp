// SPDX-License-Identifier: Apache-2.0
#include "codec/replay_window.hpp"

#include <algorithm>

#include "core/assert.hpp"

namespace baton::codec {

namespace {
constexpr std::uint64_t window = core::limits::replay_window;
}  // namespace

ReplayWindow::ReplayWindow() { entries_.reserve(core::limits::members_max); }

bool ReplayWindow::test(const Entry& e, std::uint64_t seq) {
  const std::uint64_t bit = seq % window;
  return (e.seen[bit / 64] >> (bit % 64)) & 1U;
}

void ReplayWindow::set(Entry& e, std::uint64_t seq) {
  const std::uint64_t bit = seq % window;
  e.seen[bit / 64] |= std::uint64_t{1} << (bit % 64);
}

// Moves `top` up to `seq`. Each number s in (top, seq] shares its bit with
// s - window, which falls out of the window now; clear those bits so that the
// new numbers read as "not seen".
void ReplayWindow::advance(Entry& e, std::uint64_t seq) {
  BATON_ASSERT(seq > e.top);
  if (seq - e.top >= window) {
    e.seen.fill(0);
  } else {
    for (std::uint64_t s = e.top + 1; s <= seq; ++s) {
      const std::uint64_t bit = s % window;
      e.seen[bit / 64] &= ~(std::uint64_t{1} << (bit % 64));
    }
  }
  e.top = seq;
  set(e, seq);
}

void ReplayWindow::restart(Entry& e, core::Incarnation incarnation, std::uint64_t seq) {
  e.incarnation = incarnation;
  e.top = seq;
  e.seen.fill(0);
  set(e, seq);
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
    Entry fresh;
    fresh.sender = sender;
    restart(fresh, incarnation, seq);
    entries_.insert(it, fresh);
    return accepted;
  }
  Entry& e = *it;
  // A previous life: delayed, replayed, or a new life whose incarnation came
  // out lower (a wall clock stepped back: the caller may tell the sender).
  if (incarnation < e.incarnation) return Verdict::older_incarnation;
  if (incarnation > e.incarnation) {  // the sender restarted
    restart(e, incarnation, seq);
    return accepted;
  }
  if (seq > e.top) {
    advance(e, seq);
    return accepted;
  }
  if (e.top - seq >= window) return replayed;  // below the window: cannot tell, so refuse
  if (test(e, seq)) return replayed;           // seen: a duplicate or a replay
  set(e, seq);
  return accepted;
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
