// SPDX-License-Identifier: Apache-2.0
#include "core/standing.hpp"

namespace baton::core::standing {

const char* to_string(Stand s) {
  switch (s) {
    case Stand::none: return "none";
    case Stand::attempt_lease: return "attempt_lease";
    case Stand::new_lease: return "new_lease";
  }
  return "?";
}

Stand decide(const Outcome& o) {
  // Only voters that said held will grant it when that hold ends: too few of
  // them for a majority, and the FREE race decides as before. (A free voter
  // would grant it at once and hold the resource for us through the wait.)
  if (!o.quorum_kept) return Stand::none;
  if (o.above_holder && !o.gave_back) return Stand::attempt_lease;
  if (o.raced) return Stand::none;
  return Stand::new_lease;
}

Tally votes(Tally attempt, VoterSet kept) {
  attempt.only_asked(kept);
  return attempt;
}

bool retry_same_lease(Instant now, Instant t0, Duration ttl) { return now - t0 < ttl / 2; }

bool must_poll(std::size_t unqueued, std::size_t kept, std::size_t need, std::size_t voters) {
  return unqueued > 0 && kept + need <= voters;
}

}  // namespace baton::core::standing
