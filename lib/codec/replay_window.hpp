// SPDX-License-Identifier: Apache-2.0
// Replay protection per sender (DESIGN "Wire": replays of old datagrams must
// not change state). A sender stamps every datagram with its incarnation and a
// sequence number that starts at 1 and strictly increases within that
// incarnation. The receiver remembers, per sender, the newest incarnation, the
// highest sequence number seen in it (`top`), and which of the
// limits::replay_window numbers ending at `top` it has seen.
//
// Accepted: a newer incarnation (the window restarts there), or, within the
// current incarnation, a sequence number above `top` or one inside the window
// not seen yet (datagrams may be reordered by up to the window).
// Rejected: seq 0, an older incarnation, a repeat, or a number at or below
// top - replay_window (too old to tell apart from a replay).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <list>
#include <optional>
#include <unordered_map>
#include <vector>

#include "core/ids.hpp"
#include "core/limits.hpp"

namespace baton::codec {

// One sender life's sequence numbers: the highest accepted (`top`) and which
// of the limits::replay_window numbers ending at it were seen.
class SeqWindow {
 public:
  // Starts the window at `seq` (>= 1), seen.
  explicit SeqWindow(std::uint64_t seq) { restart(seq); }
  // Whether `seq` is new (and then records it): above top, or inside the
  // window and not seen. Refused: 0, a repeat, at or below top - replay_window.
  bool admit(std::uint64_t seq);
  void restart(std::uint64_t seq);
  std::uint64_t top() const { return top_; }

 private:
  static constexpr std::size_t words = core::limits::replay_window / 64;
  static_assert(core::limits::replay_window % 64 == 0, "the window is a whole number of words");
  static_assert(words > 0);
  bool test(std::uint64_t seq) const;
  void set(std::uint64_t seq);
  void advance(std::uint64_t seq);

  std::uint64_t top_ = 0;  // highest seq accepted (>= 1)
  // Bit (seq % replay_window) is set iff seq, within (top - replay_window, top],
  // was accepted. Bits of numbers above top are kept clear.
  std::array<std::uint64_t, words> seen_{};
};

class ReplayWindow {
 public:
  ReplayWindow();

  enum class Verdict : std::uint8_t {
    accepted,           // new: recorded
    replayed,           // seq 0, a repeat, below the window, or an untracked sender past the bound
    older_incarnation,  // from a life of `sender` older than the newest seen (newest())
  };
  // Whether (incarnation, seq) from `sender` is new (and then records it);
  // see the rules above. Bounded: at most limits::members_max senders are
  // tracked; a further unknown sender is rejected (callers admit only members).
  Verdict admit(core::MemberId sender, core::Incarnation incarnation, std::uint64_t seq);
  // admit() == accepted.
  bool accept(core::MemberId sender, core::Incarnation incarnation, std::uint64_t seq) {
    return admit(sender, incarnation, seq) == Verdict::accepted;
  }
  // The newest incarnation accepted from `sender`, if it is tracked.
  std::optional<core::Incarnation> newest(core::MemberId sender) const;
  // Drops everything known about `sender` (its next datagram starts afresh).
  void forget(core::MemberId sender);
  // Senders currently tracked.
  std::size_t senders() const { return entries_.size(); }

 private:
  struct Entry {
    core::MemberId sender;          // whose datagrams these are
    core::Incarnation incarnation;  // newest incarnation seen from sender
    SeqWindow seqs;                 // that incarnation's sequence numbers
  };

  std::vector<Entry> entries_;  // sorted by sender, at most limits::members_max
};

// The least recently used entry of `lru` (most recent first) whose client
// `pinned` does not name, or lru.end() if every one is pinned (no `pinned`:
// none is). `client_of` reads an entry's client id. ClientWindows and the
// runtime's ClientBook evict by this one rule.
template <typename List, typename ClientOf>
typename List::iterator least_recent_unpinned(List& lru, const std::function<bool(core::MemberId)>& pinned,
                                              ClientOf client_of) {
  for (auto it = lru.rbegin(); it != lru.rend(); ++it) {
    if (!pinned || !pinned(client_of(*it))) return std::next(it).base();
  }
  return lru.end();
}

// Replay protection for clients (issue 21; docs/protocol.md "Clients"): one
// SeqWindow per client life, keyed by (client id, incarnation), at most
// `capacity` of them; a life not yet tracked evicts the least recently
// accepted one when the table is full. Client incarnations are random, so
// lives have no order: every (id, incarnation) is a life of its own, and
// another life of the same id does not end this one's window (so a replay of
// an old life's datagram cannot reopen the current life's).
//
// Bounded, hence best effort: once a life's window was evicted, a replay of
// one of its datagrams is accepted again, once. The voter is built for that:
// such a datagram acts like a late network duplicate, which the protocol
// tolerates by design (docs/protocol.md "Clients", the replay argument).
class ClientWindows {
 public:
  explicit ClientWindows(std::size_t capacity);
  ClientWindows(const ClientWindows&) = delete;
  ClientWindows& operator=(const ClientWindows&) = delete;

  // Whether (incarnation, seq) from `client` is new (and then records it).
  // A life not yet tracked, with the table full, evicts the least recently
  // accepted life whose client `pinned` does not name (a client with a hold,
  // waiter or parked request at the voter: evicting its window would let a
  // replay extend that hold); if every life is pinned, the new one is
  // refused (counted in refused()).
  bool admit(core::MemberId client, core::Incarnation incarnation, std::uint64_t seq,
             const std::function<bool(core::MemberId)>& pinned = {});
  std::uint64_t refused() const { return refused_; }
  std::size_t size() const { return index_.size(); }
  std::size_t capacity() const { return capacity_; }
  std::uint64_t evictions() const { return evictions_; }
  bool tracks(core::MemberId client, core::Incarnation incarnation) const;

 private:
  struct Key {
    std::uint32_t client;
    std::uint64_t incarnation;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const;
  };
  struct Life {
    Key key;
    SeqWindow seqs;
  };
  std::size_t capacity_;
  std::list<Life> lru_;  // most recently accepted first
  std::unordered_map<Key, std::list<Life>::iterator, KeyHash> index_;
  std::uint64_t evictions_ = 0;
  std::uint64_t refused_ = 0;
};

}  // namespace baton::codec
