// SPDX-License-Identifier: Apache-2.0
#include "core/acquirer.hpp"

#include <algorithm>

#include "core/assert.hpp"
#include "core/drift.hpp"
#include "core/limits.hpp"
#include "core/placement.hpp"

namespace baton::core {

namespace {
#if defined(BATON_BREAK_NO_HANDOFF_CONFIRM)
// Negative control: a majority with hand-off grants is believed at once, from
// the standing request's t0, as if the voters held it for the whole ttl.
constexpr bool kNoHandoffConfirm = true;
#else
constexpr bool kNoHandoffConfirm = false;
#endif
#if defined(BATON_BREAK_NO_UNQUEUED_POLL)
// Negative control: a held denial from a voter that did not keep our request
// (waiter table full) is taken as if it had: we wait for a FREE that never comes.
constexpr bool kNoUnqueuedPoll = true;
#else
constexpr bool kNoUnqueuedPoll = false;
#endif
#if defined(BATON_BREAK_KEEP_LATE_RTT_SAMPLES)
// Negative control: answers read after their deadline are round-trip samples
// too, so a pause of this process inflates the estimate and the jitter.
constexpr bool kKeepLateRttSamples = true;
#else
constexpr bool kKeepLateRttSamples = false;
#endif
#if defined(BATON_BREAK_REUSE_GIVEN_BACK)
// Negative control: a lease with a grant we gave back may still stand for a
// hand-off and be held and renewed (issue 19's renewal hole).
constexpr bool kReuseGivenBack = true;
#else
constexpr bool kReuseGivenBack = false;
#endif
}  // namespace

Acquirer::Acquirer(const NodeConfig& config, Rng& rng) : config_(config), rng_(rng), rtt_(config.rtt_initial) {}

// ---- bookkeeping ------------------------------------------------------------

Acquirer::Acq* Acquirer::find(AcquireId id) {
  auto it = acqs_.find(id);
  return it == acqs_.end() ? nullptr : &it->second;
}

Acquirer::Acq* Acquirer::find_by_lease(const LeaseId& lease) {
  auto it = by_lease_.find(lease);
  return it == by_lease_.end() ? nullptr : find(it->second);
}

std::size_t Acquirer::voter_index(const Acq& a, MemberId m) const {
  auto it = std::lower_bound(a.voters.begin(), a.voters.end(), m);
  if (it == a.voters.end() || *it != m) return a.voters.size();
  return static_cast<std::size_t>(it - a.voters.begin());
}

Duration Acquirer::attempt_timeout(std::uint32_t timeouts, Instant now) const {
  const Duration base = std::clamp(rtt_.get(now) * 4, config_.attempt_timeout_min, config_.attempt_timeout_max);
  return min(base * (std::int64_t{1} << std::min<std::uint32_t>(timeouts, 20)), config_.attempt_timeout_max);
}

Duration Acquirer::unqueued_poll(const Acq& a, Instant now) const {
  const Duration base =
      std::clamp(rtt_.get(now) * kUnqueuedPollRtts, config_.attempt_timeout_min, config_.attempt_timeout_max);
  return base * (std::int64_t{1} << std::min(a.unqueued_polls, kUnqueuedPollDoublings));
}

Duration Acquirer::split_window(const Acq& a, Duration j) {
  // J doubled per split vote lost, capped at 64·J.
  const std::uint32_t doublings = std::min<std::uint32_t>(a.splits > 0 ? a.splits - 1 : 0, limits::jitter_doublings_max);
  return j * (std::int64_t{1} << doublings);
}

Duration Acquirer::jitter(const Acq& a, Instant now) {
  return draw(a, split_window(a, max(rtt_.get(now), Duration::us(1))));
}

Duration Acquirer::free_jitter(Acq& a, std::uint32_t waiters, Duration rtt, Instant now) {
  const Duration j = max(rtt, Duration::us(1));
  // Someone held the resource since our last failure: a new race.
  if (now - a.failed_at > j * 8) a.splits = 0;
  const std::int64_t n = std::clamp<std::int64_t>(waiters, 1, static_cast<std::int64_t>(limits::members_max));
  return draw(a, max(n == 1 ? j : j * (2 * n), split_window(a, j)));
}

Duration Acquirer::draw(const Acq& a, Duration window) {
  // The head draws once for itself and once for every acquire queued behind
  // it, and keeps the earliest: a member with k waiting acquires then wins a
  // race after FREE about as often as k members with one each would, so each
  // contender gets its share whichever process it runs in.
  const std::size_t draws = waiting_here(a);
  std::uint64_t best = UINT64_MAX;
  for (std::size_t i = 0; i < draws; ++i) {
    best = std::min(best, rng_.uniform(static_cast<std::uint64_t>(window.count_ns())));
  }
  return Duration::ns(static_cast<std::int64_t>(best));
}

std::size_t Acquirer::waiting_here(const Acq& a) const {
  std::size_t n = 1;
  auto [lo, hi] = by_resource_.equal_range(a.resource);
  for (auto it = lo; it != hi && n < limits::jitter_draws_max; ++it) {
    if (acqs_.at(it->second).phase == Phase::queued) ++n;
  }
  return n;
}

LeaseId Acquirer::mint_lease(const Acq& a) {
  // A hand-off goes to the lowest-ranked request (handoff_rank): with k
  // acquires of the resource waiting here, the lowest of k fresh serials, so
  // each contender gets its share whichever process it runs in. Serials
  // not chosen are never used: lease ids stay unique.
  const std::size_t k = waiting_here(a);
  LeaseId best{.owner = config_.self, .incarnation = config_.incarnation, .serial = next_serial_};
  for (std::size_t i = 1; i < k; ++i) {
    const LeaseId c{.owner = config_.self, .incarnation = config_.incarnation, .serial = next_serial_ + i};
    if (handoff_rank(c) < handoff_rank(best)) best = c;
  }
  next_serial_ += k;  // all k are spent: a serial that lost once would be a biased draw later
  return best;
}

Token Acquirer::next_token(const Acq& a) const {
  // Above every token this member has seen for any resource, and every fence
  // the voters reported for this one.
  const Token above = std::max(hint_, a.max_fence);
  BATON_ASSERT(above.value < UINT64_MAX);
  return Token{above.value + 1};
}

void Acquirer::request_unanswered(const Acq& a, Sink& sink) {
  for (std::size_t i = 0; i < a.voters.size(); ++i) {
    if (a.answer[i] != kNone) continue;
    sink.send(a.voters[i], Request{.resource = a.resource, .lease = a.lease, .ttl = a.ttl, .token = a.token});
  }
}

bool Acquirer::majority_lost(const Acq& a) {
  // More than voters − majority said no (or will never say yes).
  return a.no > a.voters.size() - a.need;
}

bool Acquirer::free_is_no(Acq& a, MemberId from) {
  const std::size_t i = voter_index(a, from);
  if (i < a.voters.size() && a.answer[i] == kNone) {
    a.answer[i] = kNo;
    ++a.no;
  }
  return majority_lost(a);
}

void Acquirer::sample_rtt(Instant now, Instant sent, Instant deadline) {
  // Guarantee 3: an answer read after its attempt's (or round's) deadline
  // measures a pause of this process as often as the network (harsh seed
  // 1019491: answers queued through a 522 ms pause set the estimate to half
  // a second, and the retry jitter with it). Slow networks still get samples:
  // each timeout doubles the next attempt's deadline.
  if (now > deadline && !kKeepLateRttSamples) return;
  rtt_.sample(now, now - sent);
}

void Acquirer::reschedule(Acq& a) {
  Instant due = Instant::max();
  switch (a.phase) {
    case Phase::queued:
      due = a.wait_until;
      break;
    case Phase::attempting:
      due = a.attempt_deadline;
      if (!a.try_only) due = min(due, a.wait_until);
      break;
    case Phase::backoff:
      due = min(a.retry_at, a.wait_until);
      break;
    case Phase::held:
      due = a.validity_end;
      if (a.renewing) {
        due = min(due, min(a.round_deadline, drift::renew_cutoff(a.valid_from, a.validity_end)));
      } else if (a.auto_renew || a.renew_explicit) {
        due = min(due, a.renew_at);  // the next auto-renew round, or a paced renew() call's
      }
      break;
  }
  if (due == a.timer) return;
  if (!a.timer.is_max()) timers_.erase({a.timer, a.id});
  a.timer = due;
  if (!due.is_max()) timers_.emplace(due, a.id);
}

void Acquirer::set_phase(Acq& a, Phase p) {
  awaiting_ -= awaits(a);
  a.phase = p;
  awaiting_ += awaits(a);
}

void Acquirer::set_renewing(Acq& a, bool on) {
  awaiting_ -= awaits(a);
  a.renewing = on;
  awaiting_ += awaits(a);
}

std::string Acquirer::check_awaiting() const {
  std::size_t n = 0;
  for (const auto& [id, a] : acqs_) n += awaits(a);
  if (n != awaiting_) return "awaiting count " + std::to_string(awaiting_) + " but " + std::to_string(n) + " rounds open";
  return {};
}

void Acquirer::erase(Acq& a) {
  awaiting_ -= awaits(a);
  if (!a.timer.is_max()) timers_.erase({a.timer, a.id});
  if (!a.lease.empty()) {
    auto it = by_lease_.find(a.lease);
    if (it != by_lease_.end() && it->second == a.id) by_lease_.erase(it);
  }
  auto [lo, hi] = by_resource_.equal_range(a.resource);
  for (auto it = lo; it != hi; ++it) {
    if (it->second == a.id) {
      by_resource_.erase(it);
      break;
    }
  }
  acqs_.erase(a.id);
}

std::optional<LeaseInfo> Acquirer::lease(AcquireId id) const {
  auto it = acqs_.find(id);
  if (it == acqs_.end()) return std::nullopt;
  const Acq& a = it->second;
  LeaseInfo info;
  info.state = a.phase == Phase::held ? LeaseInfo::State::held : LeaseInfo::State::acquiring;
  info.resource = a.resource;
  info.auto_renew = a.auto_renew;
  if (a.phase == Phase::held) {
    info.token = a.token;
    info.valid_from = a.valid_from;
    info.validity_end = a.validity_end;
  }
  return info;
}

// ---- API --------------------------------------------------------------------

Result<AcquireId> Acquirer::acquire(Instant now, const AcquireArgs& args, std::vector<MemberId> voters, Sink& sink) {
  if (args.resource.empty()) return Error{Errc::invalid_argument, "resource: empty name"};
  if (args.resource.size() > limits::resource_name_bytes_max) return Error{Errc::invalid_argument, "resource: name longer than 128 bytes"};
  if (args.ttl < config_.ttl_min || args.ttl > config_.ttl_max) return Error{Errc::invalid_argument, "ttl: outside [ttl_min, ttl_max]"};
  if (acqs_.size() >= config_.limits.acquires_in_flight) return Error{Errc::overloaded, "acquires_in_flight limit reached"};
  BATON_ASSERT(!voters.empty());
  const AcquireId id{next_id_++};
  Acq& a = acqs_[id];
  a.id = id;
  a.resource = args.resource;
  a.ttl = args.ttl;
  a.wait_until = args.wait_until;
  a.try_only = args.wait_until <= now;
  a.auto_renew = args.auto_renew;
  a.voters = std::move(voters);
  a.need = majority(a.voters.size());
  const bool queue = !a.try_only && has_head(a.resource);
  by_resource_.emplace(a.resource, id);
  ++sink.stats().acquires;
  if (queue) {
    // Another acquire of this resource is under way here: wait for its turn.
    set_phase(a, Phase::queued);
    reschedule(a);
    // The head's standing request now stands for one more contender.
    auto [lo, hi] = by_resource_.equal_range(a.resource);
    for (auto it = lo; it != hi; ++it) {
      Acq& head = acqs_.at(it->second);
      if (is_head(head) && head.phase == Phase::backoff && head.standing) {
        restand(head, now, sink);
        break;
      }
    }
  } else {
    start_attempt(a, now, sink);
  }
  return id;
}

Result<void> Acquirer::release(Instant now, AcquireId id, Sink& sink) {
  Acq* a = find(id);
  if (!a) return Error{Errc::not_held, "no such lease"};
  if (a->phase == Phase::held) {
    // The holder stops using the resource (the caller did), then tells the voters.
    send_release(*a, sink);
    const ResourceName resource = a->resource;
    erase(*a);
    // The waiters here time the other voters' FREEs from now (on_free).
    auto [lo, hi] = by_resource_.equal_range(resource);
    for (auto it = lo; it != hi; ++it) acqs_.at(it->second).own_release_at = now;
    return {};
  }
  if (a->phase == Phase::attempting) release_grants(*a, sink);
  fail(*a, Errc::cancelled, now, sink);
  return {};
}

Result<void> Acquirer::renew(Instant now, AcquireId id, Sink& sink) {
  Acq* a = find(id);
  if (!a || a->phase != Phase::held) return Error{Errc::not_held, "lease not held"};
  if (now >= a->validity_end) return Error{Errc::not_held, "lease expired"};
  // A round that starts past the cut-off is given up at once (due): it
  // would only send RENEWs to every voter and report unknown_outcome. A
  // caller retrying in a loop sent thousands of such rounds (issue 19).
  // Rounds of one lease are paced: the next starts no sooner than
  // attempt_timeout_min after the previous one did (auto-renew's rounds
  // are far apart anyway), and the call then waits for that round.
  const Instant cutoff = drift::renew_cutoff(a->valid_from, a->validity_end);
  const Instant paced = a->round > 0 && !a->renewing ? max(now, a->t_r + config_.attempt_timeout_min) : now;
  if (paced >= cutoff) {
    return Error{Errc::too_late, "renew: past the renewal cut-off (the last fifth of the validity window)"};
  }
  a->renew_explicit = true;
  if (a->renewing) return {};  // the caller waits for the round under way
  if (paced == now) {
    start_round(*a, now, sink);
  } else {
    a->renew_at = paced;
    reschedule(*a);
  }
  return {};
}

Result<void> Acquirer::set_auto_renew(Instant /*now*/, AcquireId id, bool on) {
  Acq* a = find(id);
  if (!a) return Error{Errc::not_held, "no such lease"};
  a->auto_renew = on;
  if (a->phase == Phase::held) a->renew_at = drift::renew_start(a->valid_from, a->validity_end);
  reschedule(*a);
  return {};
}

// ---- attempts -----------------------------------------------------------------

void Acquirer::start_attempt(Acq& a, Instant now, Sink& sink) {
  if (!a.lease.empty()) by_lease_.erase(a.lease);
  set_phase(a, Phase::attempting);
  a.lease = mint_lease(a);
  a.token = next_token(a);
  // Guarantee 1: validity is measured from t0, read before the first send.
  // An earlier t0 only shortens validity, so `now` (read before this call) is safe.
  a.t0 = now;
  a.timeout_at = now + attempt_timeout(a.timeouts, now);
  a.attempt_deadline = a.timeout_at;
  a.answer.assign(a.voters.size(), kNone);
  a.yes = a.no = 0;
  clear_verdict(a);
  a.standing = false;
  a.handoff = false;
  a.old_t0 = false;
  a.provisional = a.confirming = false;
  by_lease_[a.lease] = a.id;
  ++sink.stats().attempts;
  reschedule(a);
  request_unanswered(a, sink);
}

void Acquirer::on_grant(Instant now, MemberId from, const Grant& g, Sink& sink) {
  Acq* a = find_by_lease(g.lease);
  if (a && g.token == a->token) {
    const std::size_t i = voter_index(*a, from);
    if (i < a->voters.size() && a->answer[i] == kReleased) {
      // A lease with a grant we gave back is never current (send_standing):
      // only the negative control gets here.
      BATON_ASSERT(kReuseGivenBack);
      ++sink.stats().late_releases;
      sink.send(from, Release{.resource = g.resource, .lease = g.lease, .token = g.token});
      return;
    }
  }
  if (a && a->phase == Phase::backoff && a->standing && g.token == a->token) start_handoff(*a, now);
  if (!a || a->phase == Phase::backoff) {
    // A grant for a lease this member no longer pursues: give it back at once,
    // so a delayed request does not block the resource until it expires.
    if (g.lease.owner == config_.self) {
#if !defined(BATON_BREAK_NO_PARTIAL_RELEASE)
      ++sink.stats().late_releases;
      sink.send(from, Release{.resource = g.resource, .lease = g.lease, .token = g.token});
      // After that RELEASE the resource is free at that voter, which no
      // longer counts us among its waiters (it may have handed an older
      // request of ours the lease instead of a FREE): a FREE from it, for
      // whichever acquire of the resource still waits here.
      if (by_resource_.count(g.resource) > 0) {
        on_free(now, from, Free{.resource = g.resource, .fence = g.token, .waiters = 1}, sink);
      }
#endif
    }
    return;
  }
  if (a->phase != Phase::attempting || g.token != a->token) return;  // duplicate for a won lease
  const std::size_t i = voter_index(*a, from);
  if (i >= a->voters.size() || a->answer[i] == kYes) return;
  // A voter that denied this request (held), or sent FREE, may grant it when
  // the hold ends (a hand-off): the grant replaces its no. Ignored, it would
  // hold the resource for us with nobody to release it.
  if (a->answer[i] != kNone) {
    --a->no;
    a->free_seen = true;  // the hold it reported ended: if this attempt fails, race as after a FREE
  }
  // In-process answers take no time; a hand-off grant answers no round trip.
  if (from != config_.self && !a->old_t0) sample_rtt(now, a->t0, a->timeout_at);
  a->answer[i] = kYes;
  ++a->yes;
  if (g.handoff) a->provisional = true;
  if (a->confirming) return;  // the confirm round decides; its RENEW went to this voter too
  if (a->yes >= a->need) return a->provisional ? start_confirm(*a, now, sink) : won(*a, now, sink);
  bound_contested(*a, now);
}

void Acquirer::on_deny(Instant now, MemberId from, const Deny& d, Sink& sink) {
  Acq* a = find_by_lease(d.lease);
  if (!a || a->phase != Phase::attempting || d.token != a->token) return;
  const std::size_t i = voter_index(*a, from);
  if (i >= a->voters.size() || a->answer[i] != kNone) return;
  if (from != config_.self && !a->old_t0) sample_rtt(now, a->t0, a->timeout_at);
  // A held voter that kept our request will send FREE or hand the lease over;
  // one whose waiter table was full (unqueued) will do neither.
  const bool kept = d.reason == DenyReason::held && (!d.unqueued || kNoUnqueuedPoll);
  a->answer[i] = kept ? kNoHeld : kNo;
  if (d.reason == DenyReason::held && !kept) a->saw_unqueued = true;
  ++a->no;
  a->max_fence = std::max(a->max_fence, d.fence);
  switch (d.reason) {
    case DenyReason::held:
      a->saw_held = true;
      a->max_time_left = max(a->max_time_left, d.time_left);
      break;
    case DenyReason::stale: a->saw_stale = true; break;
    case DenyReason::overloaded: a->saw_overloaded = true; break;
    case DenyReason::ttl_too_long: a->saw_ttl = true; break;
    case DenyReason::quarantined:
      ++a->quarantined;
      if (d.time_left > Duration::zero()) a->min_quarantine_left = min(a->min_quarantine_left, d.time_left);
      break;
    case DenyReason::not_current: break;
  }
  if (majority_lost(*a)) {
    a->timeouts = 0;  // a verdict: the voters answer in time
    return attempt_failed(*a, now, sink);
  }
  bound_contested(*a, now);
}

bool Acquirer::contested(const Acq& a) const {
  if (a.no == 0) return false;
  for (std::size_t i = 0; i < a.voters.size(); ++i) {
    if (a.voters[i] != config_.self && a.answer[i] != kNone) return true;  // another member answered
  }
  return false;
}

void Acquirer::bound_contested(Acq& a, Instant now) {
  // A voter said no, but a majority is still possible with the voters that
  // have not answered (and another member's voter has answered: the network
  // works; an in-process denial alone proves nothing about the others).
  // When those voters are down they never answer, and waiting the full
  // attempt timeout, doubled per timeout, lets the attempt outlast any wait.
  // With one of three members stopped, both live members must grant: two
  // contenders split every time (each one's own voter grants it first), and
  // one stale denial stalls the retry it calls for. So wait for the rest as
  // long again as the latest answer took, and at least two round-trip
  // estimates (capped at attempt_timeout_min: an estimate still high from a
  // faulty spell must not stall it), then fail: give back the grants, and
  // retry as the denials say. Each answer moves the bound; the attempt's
  // timeout stays the limit.
  if (!contested(a)) return;
  const Duration wait = max(now - a.t0, min(rtt_.get(now) * 2, config_.attempt_timeout_min));
  const Instant until = min(now + wait, a.timeout_at);
  if (until != a.attempt_deadline) {
    a.attempt_deadline = until;
    reschedule(a);
  }
}

void Acquirer::won(Acq& a, Instant now, Sink& sink) {
  a.own_release_at = Instant::max();
  // Guarantee 1: validity runs from t0, read before the first REQUEST; after
  // a confirm round, from its t_r, read before its RENEWs: the hand-off
  // holds are only known to last a whole ttl from when those arrived.
  const Instant from = a.confirming ? a.t_r : a.t0;
  if (a.provisional) BATON_ASSERT(a.confirming || kNoHandoffConfirm);
  const Instant end = drift::validity_end(from, a.ttl, config_.rho_ppm, config_.margin);
#if defined(BATON_BREAK_NO_DRIFT)
  // Negative control: believe the lease for the whole ttl, no stretch, no margin.
  const Instant believed_end = from + a.ttl;
#else
  const Instant believed_end = end;
#endif
  (void)end;
  if (now >= believed_end) {
    // The majority completed too late to be of use: a failed attempt.
    attempt_failed(a, now, sink);
    return;
  }
  // Guarantee 1: every grant this lease stands on is a live hold; none was
  // given back (send_standing), so no RELEASE of ours can end one.
  if (!kReuseGivenBack) BATON_ASSERT(!gave_back(a));
  set_phase(a, Phase::held);
  a.confirming = a.provisional = false;
  a.valid_from = from;
  a.validity_end = believed_end;
  a.renew_at = drift::renew_start(a.valid_from, a.validity_end);
  a.splits = 0;
  ++sink.stats().acquired;
  if (a.handoff) ++sink.stats().handoffs;
  reschedule(a);
  emit(sink, a, EventKind::acquired);
  advance_queue(a.resource, now, sink);
}

void Acquirer::start_confirm(Acq& a, Instant now, Sink& sink) {
  if (kNoHandoffConfirm) return won(a, now, sink);
  // The hand-off grants among the majority are held for handoff_confirm
  // only (Voter::grant), from moments this member cannot know: believe
  // nothing yet. A RENEW round extends every hold of the lease by its ttl
  // from receipt, which is after t_r; with a majority of acks the lease is
  // valid as after any renewal, from t_r (docs/protocol.md, Hand-off).
  a.confirming = true;
  ++a.round;
  a.t_r = now;
  a.renew_answer.assign(a.voters.size(), kNone);
  a.acks = a.nacks = a.superseded_nacks = 0;
  ++sink.stats().handoff_confirms;
  a.timeout_at = now + attempt_timeout(a.timeouts, now);
  a.attempt_deadline = a.timeout_at;
  reschedule(a);
  for (MemberId v : a.voters) {
    sink.send(v, Renew{.resource = a.resource, .lease = a.lease, .token = a.token, .ttl = a.ttl, .round = a.round});
  }
}

void Acquirer::on_confirm_ack(Acq& a, Instant now, MemberId from, const RenewAck& ack, Sink& sink) {
  if (ack.round != a.round || ack.token != a.token) return;
  const std::size_t i = voter_index(a, from);
  if (i >= a.voters.size() || a.renew_answer[i] != kNone) return;
  if (from != config_.self) sample_rtt(now, a.t_r, a.timeout_at);
  if (ack.ok) {
    a.renew_answer[i] = kYes;
    if (++a.acks >= a.need) won(a, now, sink);
    return;
  }
  // A voter counts once: a quarantined denial of the attempt already did.
  if (ack.reason == DenyReason::quarantined && a.answer[i] != kNo) ++a.quarantined;
  a.renew_answer[i] = kNo;
  // Enough voters hold something else (the hand-off ran out there and the
  // resource moved on) that no majority can confirm: race as after a FREE.
  if (++a.nacks > a.voters.size() - a.need) {
    a.timeouts = 0;  // a verdict: the voters answer in time
    a.free_seen = true;
    attempt_failed(a, now, sink);
  }
}

void Acquirer::release_grants(Acq& a, Sink& sink) {
#if defined(BATON_BREAK_NO_PARTIAL_RELEASE)
  (void)a;
  (void)sink;
#else
  for (std::size_t i = 0; i < a.voters.size(); ++i) {
    // A voter whose grant we never saw may still have acked the confirm
    // round (it handed the lease over, or re-granted it): it holds it too.
    if (a.answer[i] == kYes || (a.confirming && a.renew_answer[i] == kYes)) {
      sink.send(a.voters[i], Release{.resource = a.resource, .lease = a.lease, .token = a.token});
      a.answer[i] = kReleased;  // the lease is dead (send_standing): never count this voter again
    }
  }
  a.confirming = false;
#endif
}

Errc Acquirer::failure_code(const Acq& a) const {
  if (a.saw_held) return Errc::busy;
  if (a.saw_ttl) return Errc::invalid_argument;
  if (a.saw_overloaded) return Errc::overloaded;
  return Errc::unavailable;
}

void Acquirer::attempt_failed(Acq& a, Instant now, Sink& sink) {
  const bool was_handoff = a.handoff;
  a.handoff = false;
  release_grants(a, sink);
  // Later grants for this lease id are answered with RELEASE (on_grant).
  by_lease_.erase(a.lease);
  if (a.yes > 0) ++a.splits;  // the resource was free somewhere: we lost to contenders
  a.failed_at = now;
  const bool stale_only = a.saw_stale && !a.saw_held;
  if (stale_only && a.stale_retries < config_.stale_retries_max && (a.try_only || now < a.wait_until)) {
    // Our token was below a voter's fence: retry at once above it.
    ++a.stale_retries;
    ++sink.stats().stale_retries;
    observe(a.max_fence);
    start_attempt(a, now, sink);
    return;
  }
  if (a.try_only || now >= a.wait_until) return fail(a, failure_code(a), now, sink);
  set_phase(a, Phase::backoff);
  if (a.saw_held && !a.free_seen) {
    // Wait for FREE or a hand-off; if both are lost, try when the longest
    // reported hold ends.
    a.retry_at = now + a.max_time_left + jitter(a, now);
    const auto kept = static_cast<std::size_t>(std::count(a.answer.begin(), a.answer.end(), kNoHeld));
    if (a.saw_unqueued && kept + a.need <= a.voters.size()) {
      // Guarantee 3: some held voter did not keep our request (its waiter
      // table was full), and those that did miss some majority, so a
      // majority may come free without any of them sending FREE: poll, a few
      // round trips apart (backing off to 4x), until enough keep it or the
      // resource is free.
      const Instant poll = now + unqueued_poll(a, now) + jitter(a, now);
      if (poll < a.retry_at) {
        a.retry_at = poll;
        ++a.unqueued_polls;
        ++sink.stats().unqueued_polls;
      }
    } else {
      a.unqueued_polls = 0;  // every majority has a voter that will send FREE
    }
  } else if (a.saw_held || (was_handoff && a.free_seen)) {
    // The holder released while we were counting: the race after its FREE.
    a.retry_at = now + free_jitter(a, a.free_waiters, rtt_.get(now), now);
  } else if (!a.saw_held && a.min_quarantine_left != Duration::max() && a.voters.size() - a.quarantined < a.need) {
    // Restarted voters kept a majority out of reach: try again when the
    // first of them votes again, rather than polling it every round trip.
    // (Only then: with a majority of the others voting, the attempt failed
    // for another reason, and waiting out a quarantine of up to the
    // stretched ttl_max starved the acquire; the harsh profile found it.)
    a.retry_at = now + a.min_quarantine_left + jitter(a, now);
  } else {
    a.retry_at = now + jitter(a, now);
  }
  // The voters that said held keep our request for a hand-off. After a FREE,
  // or a split vote (some voter was free: the "holders" are racers like us),
  // only that request stands: a new one would reach voters already free and
  // skip the race's jitter.
  if (a.saw_held) send_standing(a, now, sink, /*may_send=*/!a.free_seen && a.yes == 0);
  reschedule(a);
}

void Acquirer::send_standing(Acq& a, Instant now, Sink& sink, bool may_send) {
  // Only voters that said held will grant it when that hold ends: too few of
  // them for a majority, and the FREE race decides as before. (A free voter
  // would grant it at once and hold the resource for us through the wait.)
  std::size_t held = 0;
  for (std::uint8_t x : a.answer) held += x == kNoHeld;
  if (held < a.need) return;
  // The answers from here on are the hand-off's: voters not asked never
  // grant it, so they count as its no's from the start.
  a.yes = a.no = 0;
  for (std::size_t i = 0; i < a.voters.size(); ++i) {
    if (a.answer[i] == kNoHeld) {
      a.answer[i] = kNone;
    } else {
      if (a.answer[i] != kReleased) a.answer[i] = kNo;
      ++a.no;
    }
  }
  // Guarantee 1: a lease with a grant we gave back is dead for good. Our
  // RELEASE may still be on its way, and a copy of the old GRANT may still
  // come (and be answered with another RELEASE): either would end a hold at
  // that voter that a hand-off or a renewal of this lease had counted, while
  // this member still believed in it. So such a lease never stands (issue
  // 19). Grants are given back only after a split vote (yes > 0), where no
  // new standing request is sent either: such an attempt leaves none.
  if (a.token > a.max_fence && (!gave_back(a) || kReuseGivenBack)) {
    // The attempt's own request is above the holder's token: those voters
    // keep it and may grant it as it is. A new lease would only race it.
    a.standing = true;
    by_lease_[a.lease] = a.id;
    return;
  }
  if (!may_send) return;
  BATON_ASSERT(!gave_back(a));  // may_send: no voter granted, so none was given back
  a.standing = true;
  new_standing_lease(a, now, sink);
  request_unanswered(a, sink);  // the voters that said held
}

bool Acquirer::gave_back(const Acq& a) {
  return std::find(a.answer.begin(), a.answer.end(), kReleased) != a.answer.end();
}

void Acquirer::new_standing_lease(Acq& a, Instant now, Sink& sink) {
  a.lease = mint_lease(a);
  // Above the holder's token (a held denial reports it as the fence), so the
  // voters may grant it when that hold ends.
  a.token = next_token(a);
  // Guarantee 1: a hand-off grant's validity is measured from here, before
  // the voters could have received the request, let alone granted it.
  a.t0 = now;
  by_lease_[a.lease] = a.id;
  ++sink.stats().standing_requests;
}

void Acquirer::clear_verdict(Acq& a) {
  a.saw_held = a.saw_stale = a.saw_overloaded = a.saw_ttl = false;
  a.saw_unqueued = false;
  a.free_seen = false;
  a.free_waiters = 0;
  a.max_time_left = Duration::zero();
  a.min_quarantine_left = Duration::max();
  a.quarantined = 0;
  a.retry_at = Instant::max();
}

void Acquirer::retry_standing(Acq& a, Instant now, Sink& sink) {
  // Guarantee 1: t0 stays the standing request's, the first send of this lease.
  set_phase(a, Phase::attempting);
  a.standing = false;
  a.handoff = false;
  a.old_t0 = true;
  a.provisional = a.confirming = false;
  a.timeout_at = now + attempt_timeout(a.timeouts, now);
  a.attempt_deadline = a.timeout_at;
  // A standing lease has no grant we gave back (send_standing). Under the
  // negative control such voters stay out here, as they once did.
  if (!kReuseGivenBack) BATON_ASSERT(!gave_back(a));
  a.yes = a.no = 0;
  for (std::uint8_t& x : a.answer) {
    if (x == kReleased) {
      ++a.no;
    } else {
      x = kNone;
    }
  }
  clear_verdict(a);
  ++sink.stats().attempts;
  reschedule(a);
  request_unanswered(a, sink);
}

void Acquirer::restand(Acq& a, Instant now, Sink& sink) {
  // A new standing request, minted for the acquires waiting now, to the
  // voters that may still hand the lease over. Voters keep one request per
  // member: it replaces the old one, whose grants are given back (on_grant).
  by_lease_.erase(a.lease);
  new_standing_lease(a, now, sink);
  request_unanswered(a, sink);
}

void Acquirer::start_handoff(Acq& a, Instant now) {
  // The standing request's lease, token, t0 and answers (send_standing,
  // FREEs since) stay. Guarantee 1: none of its grants was given back.
  if (!kReuseGivenBack) BATON_ASSERT(!gave_back(a));
  set_phase(a, Phase::attempting);
  a.standing = false;
  a.handoff = true;
  a.old_t0 = true;
  a.provisional = a.confirming = false;
  a.timeout_at = now + attempt_timeout(a.timeouts, now);
  a.attempt_deadline = a.timeout_at;
  clear_verdict(a);
  reschedule(a);
}

void Acquirer::emit(Sink& sink, const Acq& a, EventKind kind, Errc error, LostReason why) {
  const bool lease = kind != EventKind::acquire_failed;
  sink.emit(Event{.kind = kind, .id = a.id, .resource = a.resource, .token = lease ? a.token : Token{},
                  .validity_end = lease ? a.validity_end : Instant{}, .error = error, .lost_reason = why});
}

void Acquirer::fail(Acq& a, Errc why, Instant now, Sink& sink) {
  ++sink.stats().acquire_failures;
  emit(sink, a, EventKind::acquire_failed, why);
  const bool head = is_head(a);
  const ResourceName resource = a.resource;
  erase(a);
  if (head) advance_queue(resource, now, sink);
}

bool Acquirer::has_head(const ResourceName& resource) const {
  auto [lo, hi] = by_resource_.equal_range(resource);
  for (auto it = lo; it != hi; ++it) {
    if (is_head(acqs_.at(it->second))) return true;
  }
  return false;
}

void Acquirer::advance_queue(const ResourceName& resource, Instant now, Sink& sink) {
  if (has_head(resource)) return;
  // by_resource_ keeps equal keys in insertion order: the first queued is the oldest.
  auto [lo, hi] = by_resource_.equal_range(resource);
  for (auto it = lo; it != hi; ++it) {
    Acq& a = acqs_.at(it->second);
    if (a.phase == Phase::queued) return start_attempt(a, now, sink);
  }
}

std::string Acquirer::check_queues() const {
  std::map<ResourceName, std::pair<std::size_t, std::size_t>> n;  // heads, queued
  for (const auto& [id, a] : acqs_) {
    if (a.phase == Phase::queued) ++n[a.resource].second;
    if (is_head(a)) ++n[a.resource].first;
  }
  for (const auto& [resource, c] : n) {
    if (c.first > 1) return "two acquires of one resource attempting at once: " + std::string(resource.view());
    if (c.second > 0 && c.first == 0) return "queued acquire with none attempting: " + std::string(resource.view());
  }
  return {};
}

void Acquirer::on_free(Instant now, MemberId from, const Free& f, Sink& sink) {
  // This member's own voter tells it at once, the others about half a
  // release round trip later (RELEASE out, FREE back): a local waiter starts
  // its retry that much later, so the holder's neighbours get no head start
  // in the race. Half the request round trip is too little: voters that sat
  // idle through a hold wake slower than ones answering a stream of requests.
  const Duration rtt = rtt_.get(now);  // once for every acquire of the resource below
  Duration local_lag = Duration::zero();
  if (from == config_.self) {
    const Duration measured = release_rtt_.get(now);  // zero before the first sample
    local_lag = (measured > Duration::zero() ? min(measured, rtt * kReleaseRttCap) : rtt) / 2;
  }
  observe(f.fence);
  auto [lo, hi] = by_resource_.equal_range(f.resource);
  std::vector<AcquireId> ids;
  for (auto it = lo; it != hi; ++it) ids.push_back(it->second);
  for (AcquireId id : ids) {
    Acq* a = find(id);
    if (!a) continue;
    if (from != config_.self && a->own_release_at != Instant::max() &&
        now - a->own_release_at <= rtt * kReleaseRttCap) {
      release_rtt_.sample(now, now - a->own_release_at);
    }
    if (a->phase == Phase::attempting) {
      a->free_seen = true;  // remembered for the retry
      a->free_waiters = std::max(a->free_waiters, f.waiters);
      // During a hand-off, that voter handed the lease to someone else (or
      // could not hand it over): its no. Without a majority left, race for
      // the next one.
      if (a->handoff && free_is_no(*a, from)) attempt_failed(*a, now, sink);
    } else if (a->phase == Phase::backoff) {
      Duration wait = local_lag + free_jitter(*a, f.waiters, rtt, now);
      if (a->standing) {
        if (free_is_no(*a, from)) {  // that voter did not hand it to us
          // No majority can hand it over any more: later grants are given back.
          a->standing = false;
          by_lease_.erase(a->lease);
        } else {
          // The other voters' hand-off grants are about a round trip behind.
          wait += rtt;
        }
      }
      const Instant at = now + wait;
      if (at < a->retry_at) {
        a->retry_at = at;
        reschedule(*a);
      }
    }
  }
}

// ---- renewals and loss ------------------------------------------------------

void Acquirer::start_round(Acq& a, Instant now, Sink& sink) {
  // Guarantee 1: a renewal counts an ack from every voter, so the lease must
  // have no grant we gave back: a RELEASE of ours could end a hold it counts.
  if (!kReuseGivenBack) BATON_ASSERT(!gave_back(a));
  ++a.round;
  // The new validity is measured from t_r, read before the round's first RENEW.
  a.t_r = now;
  set_renewing(a, true);
  a.round_deadline = now + attempt_timeout(a.round_timeouts, now);
  a.renew_answer.assign(a.voters.size(), kNone);
  a.acks = a.nacks = a.superseded_nacks = 0;
  ++sink.stats().renew_rounds;
  reschedule(a);
  for (MemberId v : a.voters) {
    sink.send(v, Renew{.resource = a.resource, .lease = a.lease, .token = a.token, .ttl = a.ttl, .round = a.round});
  }
}

void Acquirer::on_renew_ack(Instant now, MemberId from, const RenewAck& ack, Sink& sink) {
  Acq* a = find_by_lease(ack.lease);
  if (a && a->phase == Phase::attempting && a->confirming) return on_confirm_ack(*a, now, from, ack, sink);
  if (!a || a->phase != Phase::held) {
    if (ack.ok && ack.lease.owner == config_.self) {
      // Extended a hold for a lease we no longer have: give it back.
      ++sink.stats().late_releases;
      sink.send(from, Release{.resource = ack.resource, .lease = ack.lease, .token = ack.token});
    }
    return;
  }
  observe(ack.fence);
  // Only answers to the current round count.
  if (!a->renewing || ack.round != a->round || ack.token != a->token) return;
  const std::size_t i = voter_index(*a, from);
  if (i >= a->voters.size() || a->renew_answer[i] != kNone) return;
  if (from != config_.self) sample_rtt(now, a->t_r, a->round_deadline);
  if (ack.ok) {
    a->renew_answer[i] = kYes;
    ++a->acks;
    // Acks count only while the lease is still valid.
    if (a->acks >= a->need && now < a->validity_end) {
      const Instant end = drift::validity_end(a->t_r, a->ttl, config_.rho_ppm, config_.margin);
      if (end > a->validity_end) {
        a->validity_end = end;
        a->valid_from = a->t_r;
      }
      set_renewing(*a, false);
      a->round_timeouts = 0;
      a->renew_at = drift::renew_start(a->valid_from, a->validity_end);
      const bool was_explicit = a->renew_explicit;
      a->renew_explicit = false;
      ++sink.stats().renewed;
      reschedule(*a);
      if (was_explicit || a->auto_renew) {
        emit(sink, *a, EventKind::renewed);
      }
    }
    return;
  }
  a->renew_answer[i] = kNo;
  ++a->nacks;
  if (ack.reason == DenyReason::not_current || ack.reason == DenyReason::stale) ++a->superseded_nacks;
  // Enough voters granted someone else that no majority can renew this lease.
  if (a->superseded_nacks > a->voters.size() - a->need) {
    if (a->renew_explicit) {
      emit(sink, *a, EventKind::renew_failed, Errc::lost);
    }
    lose(*a, LostReason::superseded, sink);
  }
}

void Acquirer::send_release(const Acq& a, Sink& sink) {
  for (MemberId v : a.voters) {
    sink.send(v, Release{.resource = a.resource, .lease = a.lease, .token = a.token});
  }
}

void Acquirer::lose(Acq& a, LostReason why, Sink& sink) {
  ++sink.stats().lost;
  // Let the voters free the resource now rather than at their hold's end.
  send_release(a, sink);
  emit(sink, a, EventKind::lost, Errc::lost, why);
  erase(a);
}

// ---- timers -------------------------------------------------------------------

void Acquirer::on_deadline(Instant now, Sink& sink) {
  while (!timers_.empty() && timers_.begin()->first <= now) {
    const AcquireId id = timers_.begin()->second;
    Acq* a = find(id);
    BATON_ASSERT(a != nullptr);
    timers_.erase(timers_.begin());
    a->timer = Instant::max();
    due(*a, now, sink);
  }
}

void Acquirer::due(Acq& a, Instant now, Sink& sink) {
  switch (a.phase) {
    case Phase::queued:
      // Its turn never came: the resource stayed contended here.
      if (now >= a.wait_until) return fail(a, Errc::busy, now, sink);
      break;
    case Phase::attempting:
      if (now >= a.attempt_deadline) {
        // A denial is a verdict of sorts (bound_contested): the network
        // answers in time. Silence from every voter is not.
        a.timeouts = contested(a) ? 0 : a.timeouts + 1;
        return attempt_failed(a, now, sink);
      }
      if (!a.try_only && now >= a.wait_until) {
        release_grants(a, sink);
        return fail(a, failure_code(a), now, sink);
      }
      break;
    case Phase::backoff:
      if (now >= a.retry_at && now < a.wait_until) {
        if (a.standing && now - a.t0 < a.ttl / 2) return retry_standing(a, now, sink);
        return start_attempt(a, now, sink);
      }
      if (now >= a.wait_until) return fail(a, failure_code(a), now, sink);
      break;
    case Phase::held: {
      if (now >= a.validity_end) {
        if (a.renew_explicit) {
          emit(sink, a, EventKind::renew_failed, Errc::unknown_outcome);
        }
        return lose(a, LostReason::expired, sink);
      }
      if (a.renewing && now >= drift::renew_cutoff(a.valid_from, a.validity_end)) {
        if (a.auto_renew) {
          if (a.renew_explicit) {
            emit(sink, a, EventKind::renew_failed, Errc::unknown_outcome);
          }
          // Tell the holder before its validity ends that renewal is failing.
          return lose(a, LostReason::renew_failing, sink);
        }
        // An explicit renew that did not get through: the lease runs to its end.
        set_renewing(a, false);
        a.renew_explicit = false;
        emit(sink, a, EventKind::renew_failed, Errc::unknown_outcome);
        break;
      }
      if (a.renewing && now >= a.round_deadline) {
        ++a.round_timeouts;
        start_round(a, now, sink);  // the round's messages or answers were lost: a new round
        return;
      }
      if (!a.renewing && (a.auto_renew || a.renew_explicit) && now >= a.renew_at) {
        start_round(a, now, sink);
        return;
      }
      break;
    }
  }
  reschedule(a);
}

}  // namespace baton::core
