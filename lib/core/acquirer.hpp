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
// Several acquires of one resource in this member take turns (AcquireQueue,
// acquire_queue.hpp). try_acquire is not queued: it makes its one attempt at
// once.
//
// The shape (docs/architecture.md): each acquire is in one phase, a type
// owning only its data (acquire_phase.hpp), entered only through enter_*,
// which refuses an illegal move; answers are counted by one Tally type
// (tally.hpp), in which a given-back grant can never count again; the pure
// policies live in retry.hpp (timeouts, windows, draws), standing.hpp (the
// standing request) and acquire_queue.hpp (turns). This file dispatches
// inputs to the phase they concern. check_invariants() checks every phase's
// data after each step (the simulator and the scenario tests call it).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/acquire_phase.hpp"
#include "core/acquire_queue.hpp"
#include "core/config.hpp"
#include "core/message.hpp"
#include "core/node.hpp"
#include "core/retry.hpp"
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
  // A1 (issue 21): the newest configuration record heard of. Requests and
  // renewals are tagged with its id; a voter known to be behind it gets the
  // record itself. `learn` adopts `r` if its id is newer (it must be valid).
  const CfgRecord& cfg() const { return *cfg_; }
  bool learn(const CfgRecord& r, Sink& sink);
  Instant next_deadline() const { return timers_.empty() ? Instant::max() : timers_.begin()->first; }
  std::optional<LeaseInfo> lease(AcquireId id) const;
  // The acquire's phase and what it is waiting for, for people (scenario
  // `state`, debugging): "backoff standing=2/3 pending", "held renewing round=4".
  std::string describe(AcquireId id) const;
  std::size_t in_flight() const { return acqs_.size(); }
  // Attempts and renewal rounds whose requests are out, answers due: a
  // runtime may poll for those answers instead of sleeping (busy_poll).
  bool awaiting_answers() const { return awaiting_ > 0; }
  // Whether `lease` was minted by this acquirer, in this life or (a member's
  // ids being its own) an earlier one: only then may a stray answer for it be
  // given back with a RELEASE. A client's id is 31 random bits, so another
  // live client may share it: its leases carry another incarnation and are
  // never ours to release (docs/protocol.md "Clients").
  bool mine(const LeaseId& lease) const;
  Duration srtt(Instant now) const { return rtt_.get(now); }
  // Every phase's data, the indexes, the timers, the turns and the counts
  // agree (LogCabin's RaftConsensusInvariants); empty if so.
  std::string check_invariants() const;

 private:
  // One acquire: its arguments, what it learned across attempts, and its phase.
  struct Acq {
    AcquireId id;
    ResourceName resource;
    Duration ttl;                  // requested hold
    Instant wait_until;            // give up after this (<= started: try_acquire)
    bool try_only = false;         // one attempt (plus stale retries), no waiting: set once
    bool auto_renew = false;       // the caller's setting
    std::vector<MemberId> voters;  // sorted
    // Across attempts.
    std::uint32_t splits = 0;      // failed attempts that had some grants: contention (jitter doubling)
    std::uint32_t stale_retries = 0;
    std::uint32_t timeouts = 0;    // consecutive attempts that ended without a verdict (no denial either)
    std::uint32_t unqueued_polls = 0;  // consecutive polls because too few held voters kept the request
    // A held denial answered some attempt of this acquire, and no attempt
    // since timed out in silence (no answer from another member's voter:
    // Verdict::heard): if the wait ends now, fail() reports busy where the
    // current phase's verdict says unavailable (issue 24). An attempt on a
    // standing request (hand-off, its confirm round, standing retry) starts
    // with a blank verdict, and so does the backoff after a hand-off that
    // went to another waiter. Only the error code reads it.
    bool saw_holder = false;
    Token max_fence;               // highest fence reported by a denial
    Instant own_release_at = Instant::max();  // a holder here released the resource then (release_rtt_)
    std::uint32_t rounds = 0;      // RENEW rounds sent (confirm or renewal): numbers them
    Instant last_round_at;         // t_r of the latest, if rounds > 0 (renew() pacing)
    std::uint32_t moves = 0;       // phase changes so far (0: just created)
    Instant timer = Instant::max();  // this acquire's entry in timers_
    phase::Phase phase;
  };
  using Attempting = phase::Attempting;
  using BackingOff = phase::BackingOff;
  using Held = phase::Held;

  // ---- moves between phases (the only writers of Acq::phase) ----
  void enter_queued(Acq& a, Sink& sink);
  Attempting& enter_attempting(Acq& a, Attempting next, Sink& sink);
  BackingOff& enter_backoff(Acq& a, BackingOff next, Sink& sink);
  Held& enter_held(Acq& a, Held next, Sink& sink);
  // The move itself: the trace, the lease index and the awaiting count follow.
  template <class P>
  void move(Acq& a, P&& next, const char* detail, Sink& sink);
  // The lease the phase answers to (attempt, standing request, held lease).
  static const LeaseId* current_lease(const Acq& a);
  static bool awaits(const Acq& a);
  void unindex(const Acq& a);
  void unindex(const LeaseId& lease, AcquireId id);
  void index(const Acq& a);

  Acq* find(AcquireId id);
  Acq* find_by_lease(const LeaseId& lease);
  std::size_t voter_index(const Acq& a, MemberId m) const;
  retry::Bounds bounds() const { return {config_.attempt_timeout_min, config_.attempt_timeout_max}; }
  Duration attempt_timeout(std::uint32_t timeouts, Instant now) const;
  Duration jitter(const Acq& a, Instant now);
  // The wait before retrying after a FREE that told `waiters` members (a new
  // race restarts the split count).
  Duration free_jitter(Acq& a, const BackingOff& b, std::uint32_t waiters, Duration rtt, Instant now);
  // `a` and the acquires queued behind it (at most limits::jitter_draws_max).
  std::size_t waiting_here(const Acq& a) const;
  // A fresh lease id for `a`'s next request (hand-off weighting).
  LeaseId mint_lease(const Acq& a);
  // The token for `a`'s next request.
  Token next_token(const Acq& a) const;
  // REQUEST for `lease` to every voter whose vote in `votes` is pending,
  // tagged with `cfg` (the configuration `votes` counts a quorum of).
  void request_pending(const Acq& a, const LeaseId& lease, Token token, const Tally& votes, const CfgRecord& cfg,
                       Sink& sink);
  // A tally of `a`'s voters for configuration `c` (A2, A3): groups of its
  // voter sets; voters it does not list are never asked.
  Tally tally_for(const Acq& a, const CfgRecord& c) const;
  // RENEW for round `round` of `lease` to every voter the round's tally asks.
  // `believed`: a renewal of a held lease (V4 may re-grant it), not a
  // hand-off's confirm round.
  void renew_all(const Acq& a, const LeaseId& lease, Token token, const phase::Round& round, bool believed,
                 Sink& sink);
  // An answer to something sent at `sent`, due by `deadline`, arrived at
  // `now`: a round-trip sample, unless it came after its deadline.
  void sample_rtt(Instant now, Instant sent, Instant deadline);
  // A FREE from `from` is its no in `votes` (if it had not answered);
  // whether no majority of them can grant any more.
  bool free_is_no(const Acq& a, Tally& votes, MemberId from) const;
  void reschedule(Acq& a);
  Instant due_time(const Acq& a) const;
  // Forgets `a`; returns the acquire that gets the turn it held, if any.
  std::optional<AcquireId> erase(Acq& a);

  // ---- attempting ----
  void start_attempt(Acq& a, Instant now, Sink& sink);
  void attempt_grant(Acq& a, Attempting& at, std::size_t i, const Grant& g, Instant now, Sink& sink);
  // The attempt has a denial, and an answer from another member: a majority,
  // if still possible, needs every voter yet to answer to grant.
  bool contested(const Attempting& at, const Acq& a) const;
  // Then stop waiting for those voters soon (they may be down).
  void bound_contested(Acq& a, Attempting& at, Instant now);
  void won(Acq& a, Instant now, Sink& sink);
  // A majority granted, some as hand-offs (held only handoff_confirm): a
  // RENEW round confirms them before anything is believed.
  void start_confirm(Acq& a, Instant now, Sink& sink);
  // An attempt or round under `c` heard nothing from its voters: they may
  // all be gone (removed and stopped) while this acquirer missed the change.
  // Asks every other member which configuration it votes under (CONFIG_QUERY;
  // V5: removed members answer too), at most once per re-send interval.
  void ask_others(const CfgRecord& c, Instant now, Sink& sink);
  // Tags an outgoing REQUEST or RENEW to voter `v` with `c`'s id (V2), and
  // attaches `c` itself if `v` said it is behind it.
  template <typename M>
  M tagged(M m, MemberId v, const CfgRecord& c) const;
  // What an answer from voter `v` says about configurations: a newer record
  // (learned), or that `v` is behind ours (it gets the record next time).
  void hear_cfg(MemberId v, DenyReason reason, const std::optional<CfgRecord>& record, Sink& sink);
  void on_confirm_ack(Acq& a, Attempting& at, Instant now, MemberId from, const RenewAck& ack, Sink& sink);
  void attempt_failed(Acq& a, Instant now, Sink& sink);
  // RELEASE to every voter that granted (or acked the confirm round); each
  // such vote becomes given back.
  void release_grants(const Acq& a, Attempting& at, Sink& sink);
  // The retry time after a failed attempt (draws jitter).
  Instant retry_time(Acq& a, const Attempting& at, const BackingOff& b, Instant now, Sink& sink);

  // ---- backing off ----
  // After a held denial: keep a request standing at the voters that kept it.
  void stand(Acq& a, const Attempting& failed, bool had_grants, Instant now, Sink& sink);
  // A fresh standing lease: minted, a token above the holder's, t0 = now.
  void new_standing_lease(Acq& a, phase::Standing& s, Instant now, Sink& sink);
  // Another acquire queued behind `a`, which has a standing request: a new
  // one, weighted for both (mint_lease), to the voters that may hand over.
  void restand(Acq& a, Instant now, Sink& sink);
  // The retry while a standing request may still be granted: the same lease
  // and token to every voter, so a voter that handed it over answers with the
  // same grant instead of a held denial against ourselves.
  void retry_standing(Acq& a, Instant now, Sink& sink);
  // An attempt on the standing request's lease, token, t0 and votes.
  Attempting attempt_standing(const Acq& a, phase::Attempting::Kind kind, Instant now) const;
  // A voter granted the standing request: count hand-off grants from now on.
  void start_handoff(Acq& a, Instant now, Sink& sink);
  void backoff_free(Acq& a, BackingOff& b, MemberId from, const Free& f, Duration lag, Duration rtt, Instant now);

  // ---- held ----
  void start_round(Acq& a, Instant now, Sink& sink);
  void renewal_ack(Acq& a, Held& h, std::size_t i, const RenewAck& ack, Instant now, Sink& sink);
  void held_due(Acq& a, Held& h, Instant now, Sink& sink);
  void lose(Acq& a, LostReason why, Sink& sink);
  void send_release(const Acq& a, const LeaseId& lease, Token token, Sink& sink);

  // ---- leaving ----
  void fail(Acq& a, Errc why, Instant now, Sink& sink);
  void start_next(std::optional<AcquireId> next, Instant now, Sink& sink);
  // An event about `a`: acquired/renewed/lost carry the held lease's token
  // and validity; acquire_failed and renew_failed of a lease carry... see emit.
  static void emit(Sink& sink, const Acq& a, EventKind kind, Errc error = Errc::ok, LostReason why = {});
  void due(Acq& a, Instant now, Sink& sink);

  std::string check_acquire(const Acq& a) const;

  const NodeConfig& config_;
  Rng& rng_;
  std::map<AcquireId, Acq> acqs_;                     // ordered: deterministic
  std::map<LeaseId, AcquireId> by_lease_;             // every phase's current lease
  AcquireQueue queue_;                                // turns per resource
  std::set<std::pair<Instant, AcquireId>> timers_;
  std::uint64_t next_id_ = 1;
  std::uint64_t next_serial_ = 1;
  std::size_t awaiting_ = 0;                          // acquires for which awaits()
  Token hint_;                                        // highest token seen anywhere
  RttEstimator rtt_;                                  // recent round trips (median)
  phase::CfgPtr cfg_;                                 // A1: the newest configuration heard of
  std::vector<MemberId> members_;                     // config_.members, sorted (adoptable)
  Instant next_ask_at_;                               // ask_others() not before then
  std::uint64_t asks_ = 0;                            // CONFIG_QUERY nonces
  std::vector<MemberId> behind_;                      // voters that said they are behind cfg_
                                                      // (at most members_max: voters only)
  // A holder here released, another voter's FREE came back: the delay a
  // remote waiter sees after a release, twice over (on_free's local lag).
  // Samples longer than kReleaseRttCap request round trips are ignored.
  RttEstimator release_rtt_{Duration::zero()};
  static constexpr std::int64_t kReleaseRttCap = 8;
};

}  // namespace baton::core
