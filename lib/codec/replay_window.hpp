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
#include <optional>
#include <vector>

#include "core/ids.hpp"
#include "core/limits.hpp"

namespace baton::codec {

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
  static constexpr std::size_t words = core::limits::replay_window / 64;
  static_assert(core::limits::replay_window % 64 == 0, "the window is a whole number of words");
  static_assert(words > 0);

  struct Entry {
    core::MemberId sender;               // whose datagrams these are
    core::Incarnation incarnation;       // newest incarnation seen from sender
    std::uint64_t top = 0;               // highest seq accepted in that incarnation (>= 1)
    // Bit (seq % replay_window) is set iff seq, within (top - replay_window, top],
    // was accepted. Bits of numbers above top are kept clear.
    std::array<std::uint64_t, words> seen{};
  };

  static bool test(const Entry& e, std::uint64_t seq);
  static void set(Entry& e, std::uint64_t seq);
  static void advance(Entry& e, std::uint64_t seq);
  static void restart(Entry& e, core::Incarnation incarnation, std::uint64_t seq);

  std::vector<Entry> entries_;  // sorted by sender, at most limits::members_max
};

}  // namespace baton::codec
