// SPDX-License-Identifier: Apache-2.0
// Acquirer: this member's own acquires and the leases it holds
// (DESIGN "Acquire", "Renew", "Release", and the list of details that matter).
//
// One acquire is a sequence of attempts. An attempt reads t0, picks a fresh
// lease id and a token above every token this member has seen, and sends
// REQUEST to every voter of the resource (its own voter in-process). With
// grants from a majority before the attempt's deadline, the lease is valid
// until drift::validity_end(t0, ttl) on this member's clock. Otherwise the
// attempt fails: grants it got are released, and the next attempt starts
//   - at once, with a higher token, after stale-token denials only;
//   - after a held denial, on a FREE notice (or when the longest reported
//     hold ends, in case the FREE is lost), after random jitter;
//   - after jitter otherwise (timeouts, split votes, quarantined voters).
// The jitter is uniform in [0, J·2^k] with J the measured round trip and k the
// split votes this acquire lost so far (attempts with some grants but no
// majority), capped at 64·J: contenders that tie draw apart, and the window
// grows until it is wide enough for however many contend, so split votes die
// out (docs/protocol.md, "Liveness"). Losing to a plain holder does not widen it.
//
// A retry after FREE also uses the race's size: the FREE says how many members
// its voter told (n), and the window is at least 2·n·J (J alone for n = 1).
// The doubling counts only split votes of the current race: a FREE that comes
// long after this acquire's last failure (more than 8·J) means someone held
// the resource in between, so a new race starts and the count restarts.
// Without that, a member that lost a few races kept a 64·J window against
// newcomers' J and lost every hand-off for seconds (issue 7's fairness
// benchmark); without the doubling at all, two members whose own votes split
// every round (a 3-member cluster with one member down) kept splitting.
//
// Hand-off: after an attempt that held denials from enough voters for a
// majority failed, the acquire keeps a *standing request* at those voters
// and backs off as above: the attempt's own request if its token is above
// the holder's (they keep it already), or else (unless a FREE came during
// the attempt, or some voter granted it: a race, not a holder) a fresh lease
// id with a token above the holder's, sent to them. Those voters keep it with
// the waiter, and when the hold ends each grants it itself if it picks this
// waiter (Voter). A grant for the standing
// request turns the backoff into an attempt on that lease, with validity from
// the standing request's t0; a FREE from a voter during that attempt means
// the voter picked someone else, and counts as its no. If the standing
// request does not win, the FREE race above runs as before; its retry, while
// the standing request is under half its ttl old, asks every voter for that
// same lease (a voter may have handed it over already).
//
// Several acquires of one resource in this member take turns: at most one of
// them is attempting or backing off (the head); the others wait, queued, in
// the order they were called, and the next one starts its attempts when the
// head wins, fails or is cancelled. Side by side they would split this
// member's own vote between them on every attempt (the simulator's seed 6442)
// and a process with two contenders would take more than its share of
// hand-offs. try_acquire is not queued: it makes its one attempt at once.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/message.hpp"
#include "core/node.hpp"
#include "core/rng.hpp"
#include "core/rtt.hpp"
#include "core/sink.hpp"
#include "core/time.hpp"

namespace baton::core {

class Acquirer {
 public:
  Acquirer(const NodeConfig& config, Rng& rng);

  Result<AcquireId> acquire(Instant now, const AcquireArgs& args, std::vector<MemberId> voters, Sink& sink);
  Result<void> release(Instant now, AcquireId id, Sink& sink);
  Result<void> renew(Instant now, AcquireId id, Sink& sink);
  Result<void> set_auto_renew(Instant now, AcquireId id, bool on);

  void on_grant(Instant now, MemberId from, const Grant& g, Sink& sink);
  void on_deny(Instant now, MemberId from, const Deny& d, Sink& sink);
  void on_renew_ack(Instant now, MemberId from, const RenewAck& a, Sink& sink);
  void on_free(Instant now, MemberId from, const Free& f, Sink& sink);
  void on_deadline(Instant now, Sink& sink);

  // Raises the token hint: proposals stay above every token seen.
  void observe(Token t) {
    if (t > hint_) hint_ = t;
  }
  Token hint() const { return hint_; }
  Instant next_deadline() const { return timers_.empty() ? Instant::max() : timers_.begin()->first; }
  std::optional<LeaseInfo> lease(AcquireId id) const;
  std::size_t in_flight() const { return acqs_.size(); }
  // Attempts and renewal rounds whose requests are out, answers due: a
  // runtime may poll for those answers instead of sleeping (busy_poll).
  bool awaiting_answers() const { return awaiting_ > 0; }
  // For the invariants: the count above matches the acquires.
  std::string check_awaiting() const;
  Duration srtt(Instant now) const { return rtt_.get(now); }
  // For the invariants: every waiting acquire of a resource is queued behind
  // exactly one head that is attempting or backing off.
  std::string check_queues() const;

 private:
  enum class Phase : std::uint8_t { queued, attempting, backoff, held };
  // kNoHeld: a held denial. kReleased: it granted this lease and we sent it
  // RELEASE; a lease can outlive the attempt (a standing request), and that
  // voter's grant must never count again.
  enum : std::uint8_t { kNone = 0, kYes = 1, kNo = 2, kNoHeld = 3, kReleased = 4 };

  struct Acq {
    AcquireId id;
    ResourceName resource;
    Duration ttl;                  // requested hold
    Instant wait_until;            // give up after this (<= started: try_acquire)
    bool try_only = false;         // one attempt (plus stale retries), no waiting
    bool auto_renew = false;
    std::vector<MemberId> voters;  // sorted
    std::size_t need = 0;          // majority of voters
    Phase phase = Phase::queued;
    std::uint32_t splits = 0;      // failed attempts that had some grants: contention (jitter doubling)
    std::uint32_t stale_retries = 0;
    std::uint32_t timeouts = 0;    // consecutive attempts that ended without a verdict (no denial either)
  std::uint32_t unqueued_polls = 0;  // consecutive polls because too few held voters kept the request
    // Current attempt, or the held lease.
    LeaseId lease;
    Token token;
    Instant t0;                    // read before the first REQUEST of the attempt
    Instant timeout_at;            // the attempt times out then (attempt_timeout)
    Instant attempt_deadline;      // timeout_at, or sooner once contested (bound_contested)
    std::vector<std::uint8_t> answer;  // per voter: kNone, kYes, kNo, kNoHeld, kReleased
    bool standing = false;         // backoff: `lease` is a standing request, waiting for a hand-off
    bool handoff = false;          // attempting: the attempt counts hand-off grants of a standing request
    bool old_t0 = false;           // attempting: t0 is a standing request's (hand-off or its retry): no round-trip sample
    bool provisional = false;      // attempting: a counted grant is a hand-off, held only handoff_confirm at its voter
    bool confirming = false;       // attempting: a majority granted, some provisionally: the confirm round (RENEW) is out
    std::size_t yes = 0, no = 0;
    bool saw_held = false, saw_stale = false, saw_overloaded = false, saw_ttl = false;
    bool saw_unqueued = false;     // a held denial said the voter did not keep the request
  bool free_seen = false;        // a FREE arrived during the attempt
    std::uint32_t free_waiters = 0;  // the largest race a FREE reported during the attempt
    Instant own_release_at = Instant::max();  // a holder here released the resource then (release_rtt_)
    Token max_fence;               // highest fence reported by a denial
    Duration max_time_left;        // longest hold reported by a held denial
    Duration min_quarantine_left = Duration::max();  // soonest a quarantined voter votes again
    std::size_t quarantined = 0;   // voters that said quarantined in this attempt (denial or confirm nack)
    Instant retry_at = Instant::max();
    Instant failed_at;             // when the latest attempt failed
    // Held lease.
    Instant valid_from;            // t0 or t_r of the latest successful round
    Instant validity_end;          // believe the lease valid strictly before this
    Instant renew_at = Instant::max();  // next auto-renew round
    bool renewing = false;
    bool renew_explicit = false;   // a renew() call waits for this round's outcome
    std::uint32_t round = 0;
    Instant t_r;                   // read before the round's first RENEW
    Instant round_deadline;
    std::vector<std::uint8_t> renew_answer;
    std::size_t acks = 0, nacks = 0, superseded_nacks = 0;
    std::uint32_t round_timeouts = 0;  // consecutive rounds that ended without a verdict
    Instant timer = Instant::max();  // this acquire's entry in timers_
  };

  // The attempt has a denial, and an answer from another member: a majority,
  // if still possible, needs every voter yet to answer to grant.
  bool contested(const Acq& a) const;
  // Then stop waiting for those voters soon (they may be down).
  void bound_contested(Acq& a, Instant now);
  Acq* find(AcquireId id);
  Acq* find_by_lease(const LeaseId& lease);
  std::size_t voter_index(const Acq& a, MemberId m) const;
  // How long an attempt (or renewal round) waits for a verdict: four smoothed
  // round trips, doubled per consecutive timeout, within [min, max]; so a
  // network slower than the estimate is outlived after a few tries.
  Duration attempt_timeout(std::uint32_t timeouts, Instant now) const;
  // How long to wait before asking again when the held voters that kept our
  // request miss some majority: kUnqueuedPollRtts round trips (clamped to the
  // attempt timeouts), doubled per consecutive poll up to kUnqueuedPollDoublings.
  Duration unqueued_poll(const Acq& a, Instant now) const;
  Duration jitter(const Acq& a, Instant now);
  // [0, this] is the window after `a`'s split votes in the current race: J
  // doubled per split lost, at most 64·J.
  static Duration split_window(const Acq& a, Duration j);
  // The wait before retrying after a FREE that told `waiters` members, with
  // `rtt` the round-trip estimate now.
  Duration free_jitter(Acq& a, std::uint32_t waiters, Duration rtt, Instant now);
  // One draw for `a` and one per acquire queued behind it, the earliest kept.
  Duration draw(const Acq& a, Duration window);
  // `a` and the acquires queued behind it (at most limits::jitter_draws_max).
  std::size_t waiting_here(const Acq& a) const;
  // A fresh lease id for `a`'s next request (hand-off weighting).
  LeaseId mint_lease(const Acq& a);
  // The token for `a`'s next request.
  Token next_token(const Acq& a) const;
  // REQUEST to every voter whose answer in `a` is kNone.
  void request_unanswered(const Acq& a, Sink& sink);
  // Some voter's grant of `a`'s lease was given back (RELEASE sent): that
  // lease may never be held, stand for a hand-off, or be renewed.
  static bool gave_back(const Acq& a);
  // No majority of grants is possible any more.
  static bool majority_lost(const Acq& a);
  // A FREE from `from` is its no (if it had not answered); whether the majority is lost.
  bool free_is_no(Acq& a, MemberId from);
  // An answer to something sent at `sent`, due by `deadline`, arrived at
  // `now`: a round-trip sample, unless it came after its deadline.
  void sample_rtt(Instant now, Instant sent, Instant deadline);
  void reschedule(Acq& a);
  void erase(Acq& a);
  // Every change of phase or renewing goes through these (awaiting_).
  static std::size_t awaits(const Acq& a) { return (a.phase == Phase::attempting ? 1 : 0) + (a.renewing ? 1 : 0); }
  void set_phase(Acq& a, Phase p);
  void set_renewing(Acq& a, bool on);

  void start_attempt(Acq& a, Instant now, Sink& sink);
  // Backoff after a held denial: a fresh lease, a token above the holder's,
  // sent to the voters that said held, to be granted when the hold ends.
  // `may_send`: false keeps only the attempt's own request standing.
  void send_standing(Acq& a, Instant now, Sink& sink, bool may_send);
  // Another acquire queued behind `a`, which has a standing request: a new
  // one, weighted for both (mint_lease), to the voters that may hand over.
  void restand(Acq& a, Instant now, Sink& sink);
  // A fresh standing lease for `a`: minted, a token above the holder's, t0 = now.
  void new_standing_lease(Acq& a, Instant now, Sink& sink);
  // Forgets what the last attempt's answers said (denial reasons, FREEs, retry time).
  static void clear_verdict(Acq& a);
  // A voter granted the standing request: count hand-off grants from now on.
  void start_handoff(Acq& a, Instant now);
  // The retry while a standing request may still be granted: the same lease
  // and token to every voter, so a voter that handed it over answers with the
  // same grant instead of a held denial against ourselves.
  void retry_standing(Acq& a, Instant now, Sink& sink);
  void won(Acq& a, Instant now, Sink& sink);
  // A majority granted, some as hand-offs (held only handoff_confirm): a
  // RENEW round confirms them before anything is believed.
  void start_confirm(Acq& a, Instant now, Sink& sink);
  void on_confirm_ack(Acq& a, Instant now, MemberId from, const RenewAck& ack, Sink& sink);
  void attempt_failed(Acq& a, Instant now, Sink& sink);
  void release_grants(Acq& a, Sink& sink);
  void fail(Acq& a, Errc why, Instant now, Sink& sink);
  // `a` left the head of its resource's queue (won, failed, cancelled): the
  // next queued acquire of the resource, if any, starts attempting.
  void advance_queue(const ResourceName& resource, Instant now, Sink& sink);
  // The head of its resource's queue: attempting or backing off, and not a
  // try_acquire (those are never queued and never block the queue).
  static bool is_head(const Acq& a) {
    return !a.try_only && (a.phase == Phase::attempting || a.phase == Phase::backoff);
  }
  // Whether some acquire of `resource` is its head now.
  bool has_head(const ResourceName& resource) const;
  // An event about `a`: the lease's token and validity, except for
  // acquire_failed, which has neither.
  static void emit(Sink& sink, const Acq& a, EventKind kind, Errc error = Errc::ok, LostReason why = {});
  Errc failure_code(const Acq& a) const;
  void start_round(Acq& a, Instant now, Sink& sink);
  void lose(Acq& a, LostReason why, Sink& sink);
  void send_release(const Acq& a, Sink& sink);
  void due(Acq& a, Instant now, Sink& sink);

  const NodeConfig& config_;
  Rng& rng_;
  std::map<AcquireId, Acq> acqs_;                     // ordered: deterministic
  std::map<LeaseId, AcquireId> by_lease_;             // current attempt or held lease
  std::multimap<ResourceName, AcquireId> by_resource_;
  std::set<std::pair<Instant, AcquireId>> timers_;
  std::uint64_t next_id_ = 1;
  std::uint64_t next_serial_ = 1;
  std::size_t awaiting_ = 0;                          // sum of awaits() over acqs_
  Token hint_;                                        // highest token seen anywhere
  RttEstimator rtt_;                                  // recent round trips (median)
  // A holder here released, another voter's FREE came back: the delay a
  // remote waiter sees after a release, twice over (on_free's local lag).
  // Samples longer than kReleaseRttCap request round trips are ignored.
  RttEstimator release_rtt_{Duration::zero()};
  static constexpr std::int64_t kReleaseRttCap = 8;
  // Round trips between polls of an acquire no held voter kept (Guarantee 3
  // under full waiter tables; each poll is one REQUEST round).
  static constexpr std::int64_t kUnqueuedPollRtts = 8;
  static constexpr std::uint32_t kUnqueuedPollDoublings = 2;  // at most 4x: 32 round trips
};

}  // namespace baton::core
