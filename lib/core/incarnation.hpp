// SPDX-License-Identifier: Apache-2.0
// A new life in-process, on a peer's word (issue 19, part 3; docs/protocol.md
// "Restart", "Incarnation behind").
//
// A member without a state directory takes its incarnation from the wall
// clock at start. If that clock stepped back across a restart, the new life's
// incarnation is below the previous one, and every peer that remembers the
// previous life drops the new life's datagrams as an older incarnation
// (codec::ReplayWindow): the member can neither vote nor acquire until its
// clock passes the old reading. Such a peer answers with INCARNATION_BEHIND
// {seen}, and the member moves to a new life above `seen`.
//
// Only `seen > own` calls for a new life. `seen == own` means the peer
// already accepts this life: it dropped some *other* datagram of an older
// life (delayed in the network, or replayed by an attacker), and restarting
// for it would let anyone who captured one old datagram restart a member at
// will. `seen < own`: a hint about a previous life (delayed, or replayed).
// The new life's incarnation is `seen + 1` > `seen`, so no hint with the same
// `seen` can ever trigger a second one.
#pragma once

#include <optional>

#include "core/ids.hpp"

namespace baton::core {

// The incarnation to start a new life with, given this life's `own` and a
// peer's hint that it has seen `seen` from this member; nullopt when the hint
// calls for nothing (seen <= own), or when no larger incarnation exists (seen
// is the largest value: counted and logged by the caller, never reached by
// incarnations from a clock in ns or from a persisted counter).
std::optional<Incarnation> next_life(Incarnation own, Incarnation seen);

// What the core asks the runtime to do (Outbox::new_life): end this life
// (every lease lost, every pending acquire failed) and start a new Node with
// RecoveryMode::peers (or the persisted reservation) at `incarnation`.
struct NewLife {
  Incarnation incarnation{};  // the new life's incarnation, > seen
  Incarnation seen{};         // the hint's value: the newest life of ours the peer knows
  MemberId hinted_by{};       // the member whose hint it was (for the log)
  bool operator==(const NewLife&) const = default;
};

}  // namespace baton::core
