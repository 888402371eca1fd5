// SPDX-License-Identifier: Apache-2.0
// The phases of one acquire, each a type that owns only its own data
// (acquirer.hpp explains the protocol; docs/architecture.md draws the
// machine). An acquire is in exactly one of them:
//
//   queued ──▶ attempting ◀──▶ backing off
//                  │   ▲ (stale retry)
//                  ▼
//                 held
//
// and leaves the machine by failing (acquire_failed), being cancelled or
// released, or losing the lease. Acquirer::enter_* is the only way in, and
// refuses an illegal move.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <variant>

#include "baton/result.hpp"
#include "core/ids.hpp"
#include "core/membership.hpp"
#include "core/message.hpp"
#include "core/tally.hpp"
#include "core/time.hpp"

namespace baton::core::phase {

// The configuration an attempt, a standing request or a round runs under
// (issue 21, A2/A3): its requests are tagged with its id, and only a quorum
// of it wins (its tally's groups). Shared: records change rarely.
using CfgPtr = std::shared_ptr<const CfgRecord>;

// A round of RENEWs for a lease: numbered per acquire, timed from t_r (read
// before its first RENEW), counted by its own tally.
struct Round {
  std::uint32_t number = 0;
  Instant t_r;   // the new validity runs from here
  Tally votes;   // yes: acked
  CfgPtr cfg;    // the configuration current at t_r (A3)
};

// What the answers to one attempt said, for the retry policy.
struct Verdict {
  std::uint16_t reasons = 0;       // bit (1 << DenyReason): the denial reasons seen
  std::size_t unqueued = 0;        // held denials from voters that did not keep the request
  std::optional<std::uint32_t> free_waiters;  // a FREE came (or a voter that said no granted): the largest race reported
  Duration max_time_left;          // longest hold a held denial reported
  Duration min_quarantine_left = Duration::max();  // soonest a quarantined voter votes again
  std::size_t quarantined = 0;     // voters that said quarantined (denial or confirm nack)
  bool heard = false;              // another member's voter answered (grant, denial, FREE, confirm ack):
                                   // a timeout without is silence (Acquirer::due, for the error only)

  bool saw(DenyReason r) const { return (reasons >> static_cast<unsigned>(r)) & 1U; }
  void add(DenyReason r) { reasons = static_cast<std::uint16_t>(reasons | (1U << static_cast<unsigned>(r))); }
  // The error these answers call for if the acquire gives up now (busy if
  // one said held). Acquirer::fail reports busy instead of unavailable when
  // an earlier attempt of the acquire was denied held (Acq::saw_holder).
  Errc failure() const;
};

// Waiting behind another acquire of the same resource in this member
// (AcquireQueue). Owns nothing: the acquire's wait_until bounds it.
struct Queued {};

struct Attempting {
  enum class Kind : std::uint8_t {
    fresh,           // a new lease and token, REQUEST to every voter, t0 = now
    standing_retry,  // the standing request's lease asked of every voter again
    handoff,         // a voter granted the standing request: counting hand-off grants
  };
  Kind kind = Kind::fresh;
  LeaseId lease;
  Token token;
  Instant t0;                  // read before the lease's first REQUEST (Guarantee 1)
  Instant timeout_at;          // the attempt times out then
  Instant deadline;            // timeout_at, or sooner once contested
  Tally votes;                 // the REQUESTs' answers (FREE from a voter yet to answer: no)
  CfgPtr cfg;                  // the configuration current at t0 (A2); votes has its groups
  VoterSet kept;               // voters that said held and kept our request
  Verdict verdict;
  std::size_t handoff_grants = 0;  // counted grants marked hand-off: held only handoff_confirm
  std::optional<Round> confirm;    // a majority granted, some as hand-offs: the confirm round is out

  // t0 is not this attempt's own send (a standing request's): no round-trip sample.
  bool reuses_t0() const { return kind != Kind::fresh; }
  // The voters that kept our request and still say no (one that granted
  // since, or whose grant was given back, no longer waits for a hand-off).
  VoterSet kept_now() const { return kept & votes.with(Vote::no); }
};

// A request kept by the voters that said held, for a hand-off.
struct Standing {
  LeaseId lease;
  Token token;                 // above the holder's
  Instant t0;                  // read before its first REQUEST
  Tally votes;                 // pending: kept there; no: cannot hand it over
  CfgPtr cfg;                  // the configuration its requests were tagged with
};

struct BackingOff {
  Instant retry_at = Instant::max();  // the next attempt starts then
  Instant failed_at;           // the latest attempt failed then (new-race test)
  // The failed attempt's verdict.failure(): reported if the wait ends first
  // (through Acquirer::fail, which may make unavailable busy).
  Errc failure = Errc::unavailable;
  std::optional<Standing> standing;
};

struct Renewal {
  Round round;
  Instant deadline;            // a new round then
  std::size_t superseded = 0;  // nacks saying another lease is current there
};

struct Held {
  LeaseId lease;
  Token token;
  Instant valid_from;          // t0 or t_r of the latest successful round
  Instant validity_end;        // believe the lease valid strictly before this
  Tally support;               // the votes it was won with (yes: the holds it stands on)
  Instant renew_at = Instant::max();   // the next scheduled round (auto-renew, or a paced renew())
  std::optional<Instant> renew_called; // a renew() call awaits the next round's outcome
  std::uint32_t round_timeouts = 0;    // consecutive rounds that ended without a verdict
  std::optional<Renewal> renewal;      // a round under way
};

using Phase = std::variant<Queued, Attempting, BackingOff, Held>;
static_assert(std::is_same_v<std::variant_alternative_t<0, Phase>, Queued>, "name() numbers the phases");
static_assert(std::is_same_v<std::variant_alternative_t<3, Phase>, Held>, "name() numbers the phases");

const char* name(const Phase& p);
const char* to_string(Attempting::Kind k);

}  // namespace baton::core::phase
