// SPDX-License-Identifier: Apache-2.0
// The standing request: after an attempt lost to a holder, a request that the
// voters which said `held` keep with their waiter, to grant themselves when
// that hold ends (a hand-off, docs/protocol.md "Hand-off"). Pure decisions;
// the Acquirer carries them out.
//
// After a failed attempt with held denials from enough voters for a
// majority (those that kept the request: a full waiter table says
// `unqueued` instead):
//   - the attempt's own request stands, if its token is above the holder's
//     (those voters keep it already) and none of its grants was given back;
//   - otherwise a fresh lease, with a token above the holder's, goes to those
//     voters, unless a FREE came during the attempt or some voter granted it
//     (a race among contenders, not a holder: a new request would reach
//     voters already free and skip the race's jitter);
//   - otherwise nothing stands, and the FREE race decides.
// Guarantee 1: a lease with a grant we gave back never stands. Our RELEASE
// may still be on its way, and would end a hold that a hand-off or a renewal
// of that lease counted, while this member believed in it (issue 19).
#pragma once

#include <cstddef>

#include "core/ids.hpp"
#include "core/tally.hpp"
#include "core/time.hpp"

namespace baton::core::standing {

enum class Stand : std::uint8_t {
  none,           // nothing stands
  attempt_lease,  // the failed attempt's own request stands
  new_lease,      // a fresh lease goes to the voters that kept ours
};
const char* to_string(Stand s);

struct Outcome {
  // The voters that said held and kept our request (and still say no) are a
  // quorum of the attempt's configuration: a majority, of each voter set if
  // joint (Tally::possible_without).
  bool quorum_kept = false;
  bool above_holder = false;    // the attempt's token is above every fence reported
  bool gave_back = false;       // some grant of the attempt's lease was given back
  bool raced = false;           // a FREE came during the attempt, or some voter granted it
};

Stand decide(const Outcome& o);

// The standing request's votes: the voters that kept it are asked (pending);
// every other voter cannot grant it (no), and a given-back grant stays given
// back.
Tally votes(Tally attempt, VoterSet kept);

// The retry of a backoff with a standing request asks every voter for that
// same lease (one may have handed it over already) while the request is under
// half its ttl old; later, a fresh attempt.
bool retry_same_lease(Instant now, Instant t0, Duration ttl);

// Guarantee 3 under full waiter tables: some held voter did not keep our
// request, and the voters that did miss some majority (kept + need <=
// voters), so a majority may come free without any of them sending FREE:
// the acquire polls instead of waiting for FREE.
bool must_poll(std::size_t unqueued, std::size_t kept, std::size_t need, std::size_t voters);

}  // namespace baton::core::standing
