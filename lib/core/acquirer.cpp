// SPDX-License-Identifier: Apache-2.0
#include "core/acquirer.hpp"

#include <algorithm>
#include <variant>

#include "core/assert.hpp"
#include "core/drift.hpp"
#include "core/limits.hpp"
#include "core/placement.hpp"
#include "core/standing.hpp"

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
#if defined(BATON_BREAK_NO_DRIFT)
// Negative control: believe a lease for the whole ttl from t0, no stretch, no margin.
constexpr bool kNoDrift = true;
#else
constexpr bool kNoDrift = false;
#endif
#if defined(BATON_BREAK_STRAY_RELEASE_ANY_LIFE)
// Negative control: an answer for a lease with our id is given back whatever
// life minted it; a client that drew another live client's id then releases
// that client's holds (Guarantee 1; baton-sim --client-ids).
constexpr bool kStrayReleaseAnyLife = true;
#else
constexpr bool kStrayReleaseAnyLife = false;
#endif
#if defined(BATON_BREAK_COUNT_LATE_RENEW_ACKS)
// Negative control: a renewal round's acks count even once the lease's
// validity has ended (handled before the acquirer's own deadline, as after a
// stall). V4's re-grant rests on that clause (docs/protocol.md, "Renewals
// across a change"): a voter that lost its state re-grants a RENEW delayed
// past a newer lease, and the holder would believe the older token again.
constexpr bool kCountLateRenewAcks = true;
#else
constexpr bool kCountLateRenewAcks = false;
#endif
#if defined(BATON_BREAK_NO_PARTIAL_RELEASE)
// Negative control: grants of a failed attempt are never given back.
constexpr bool kNoPartialRelease = true;
#else
constexpr bool kNoPartialRelease = false;
#endif

using phase::Held;
using phase::Renewal;
using phase::Round;
using phase::Standing;
using Kind = phase::Attempting::Kind;
}  // namespace

Acquirer::Acquirer(const NodeConfig& config, Rng& rng)
    : config_(config),
      rng_(rng),
      rtt_(config.rtt_initial),
      cfg_(std::make_shared<const CfgRecord>(initial_record(config.members))),
      members_(cfg_->old_voters) {}

bool Acquirer::learn(const CfgRecord& r, Sink& sink) {
  if (!(cfg_->id < r.id)) return false;
  // Only a record this member's voter could adopt (membership.hpp).
  if (!adoptable(r, members_, config_.replicas)) return false;
  cfg_ = std::make_shared<const CfgRecord>(r);
  behind_.clear();  // who is behind the new record is learned again
  ++sink.stats().configs_learned;
  return true;
}

template <typename M>
M Acquirer::tagged(M m, MemberId v, const CfgRecord& c) const {
  m.cfg = c.id;
  // behind_ is about cfg_: a voter behind it gets it (an older record, the
  // one an attempt still runs under, it has or will be denied `config` for).
  if (c.id == cfg_->id && std::find(behind_.begin(), behind_.end(), v) != behind_.end()) m.record = c;
  return m;
}

void Acquirer::ask_others(const CfgRecord& c, Instant now, Sink& sink) {
  // Once per re-send interval at most, and only if some member is not a
  // voter of `c` (never while every member votes: nothing changes then).
  if (members_.size() == c.voters().size() || now < next_ask_at_) return;
  next_ask_at_ = now + config_.attempt_timeout_min * 10;
  for (MemberId m : members_) {
    if (m != config_.self && !c.is_voter(m)) sink.send(m, ConfigQuery{.nonce = ++asks_});
  }
}

Tally Acquirer::tally_for(const Acq& a, const CfgRecord& c) const {
  // The usual case, every voter of the resource in one set: no lookups.
  if (!c.joint() && c.old_voters == a.voters) return Tally(a.voters.size());
  VoterSet old_set;
  VoterSet new_set;
  for (std::size_t i = 0; i < a.voters.size(); ++i) {
    if (std::binary_search(c.old_voters.begin(), c.old_voters.end(), a.voters[i])) old_set.insert(i);
    if (std::binary_search(c.new_voters.begin(), c.new_voters.end(), a.voters[i])) new_set.insert(i);
  }
  // adoptable() keeps every record's voters among the members, so C_old has
  // some of a resource's voters (all of them in scale mode, which has one
  // voter set).
  BATON_ASSERT(!old_set.empty());
  BATON_ASSERT(c.joint() == !new_set.empty());
  return Tally(a.voters.size(), old_set, new_set);
}

void Acquirer::renew_all(const Acq& a, const LeaseId& lease, Token token, const Round& round, bool believed,
                         Sink& sink) {
  for (std::size_t i = 0; i < a.voters.size(); ++i) {
    if (round.votes.vote(i) != Vote::pending) continue;  // a voter of no group
    sink.send(a.voters[i], tagged(Renew{.resource = a.resource, .lease = lease, .token = token, .ttl = a.ttl,
                                        .round = round.number, .believed = believed},
                                  a.voters[i], *round.cfg));
  }
}

void Acquirer::hear_cfg(MemberId v, DenyReason reason, const std::optional<CfgRecord>& record, Sink& sink) {
  if (!record) return;
  if (learn(*record, sink)) return;
  // The voter said it is behind our record: send it the record, once per
  // voter and record (behind_ holds voters only, at most members_max).
  if (reason == DenyReason::behind && record->id < cfg_->id &&
      std::find(behind_.begin(), behind_.end(), v) == behind_.end() && behind_.size() < limits::members_max) {
    behind_.push_back(v);
  }
}

// ---- moves between phases ---------------------------------------------------
//
// Every change of Acq::phase goes through move(), called only by the enter_*
// functions below, each of which first asserts that the move is legal (etcd
// raft's becomeFollower/becomeCandidate/becomeLeader). move() keeps the
// by-lease index, the awaiting count and the trace in step with the phase.

const LeaseId* Acquirer::current_lease(const Acq& a) {
  if (const auto* at = std::get_if<Attempting>(&a.phase)) return &at->lease;
  if (const auto* b = std::get_if<BackingOff>(&a.phase)) return b->standing ? &b->standing->lease : nullptr;
  if (const auto* h = std::get_if<Held>(&a.phase)) return &h->lease;
  return nullptr;
}

bool Acquirer::awaits(const Acq& a) {
  if (std::holds_alternative<Attempting>(a.phase)) return true;
  if (const auto* h = std::get_if<Held>(&a.phase)) return h->renewal.has_value();
  return false;
}

void Acquirer::unindex(const LeaseId& lease, AcquireId id) {
  auto it = by_lease_.find(lease);
  if (it != by_lease_.end() && it->second == id) by_lease_.erase(it);
}

void Acquirer::unindex(const Acq& a) {
  if (const LeaseId* lease = current_lease(a)) unindex(*lease, a.id);
}

void Acquirer::index(const Acq& a) {
  if (const LeaseId* lease = current_lease(a)) by_lease_[*lease] = a.id;
}

template <class P>
void Acquirer::move(Acq& a, P&& next, const char* detail, Sink& sink) {
  const char* from = a.moves == 0 ? "new" : phase::name(a.phase);
  awaiting_ -= awaits(a) ? 1 : 0;
  const LeaseId* old = current_lease(a);
  const std::optional<LeaseId> before = old ? std::optional<LeaseId>(*old) : std::nullopt;
  a.phase = std::forward<P>(next);
  ++a.moves;
  const LeaseId* after = current_lease(a);
  if (!after || before != *after) {
    // Another lease (or none) now answers for the acquire. (Winning keeps
    // the attempt's lease, a hand-off the standing request's: no change.)
    if (before) unindex(*before, a.id);
    index(a);
  }
  awaiting_ += awaits(a) ? 1 : 0;
  sink.transition(Transition{.id = a.id, .resource = a.resource.view(), .from = from, .to = phase::name(a.phase),
                             .detail = detail});
}

void Acquirer::enter_queued(Acq& a, Sink& sink) {
  // Only a new acquire waits for its turn; one that had its turn never does again.
  BATON_ASSERT(a.moves == 0);
  BATON_ASSERT(!a.try_only);
  BATON_ASSERT(queue_.waits(a.resource, a.id));
  move(a, phase::Queued{}, "", sink);
}

phase::Attempting& Acquirer::enter_attempting(Acq& a, Attempting next, Sink& sink) {
  if (next.kind == Kind::fresh) {
    // New, its turn came, a stale-token retry, or a backoff's retry; never
    // from held.
    BATON_ASSERT(!std::holds_alternative<Held>(a.phase));
    if (std::holds_alternative<phase::Queued>(a.phase) && a.moves > 0) {
      BATON_ASSERT(queue_.holds_turn(a.resource, a.id));
    }
  } else {
    // A standing request's retry or hand-off: only from the backoff that
    // keeps that standing request, with its lease, token and t0.
    const auto* b = std::get_if<BackingOff>(&a.phase);
    BATON_ASSERT(b != nullptr);
    BATON_ASSERT(b->standing.has_value());
    BATON_ASSERT(b->standing->lease == next.lease);
    BATON_ASSERT(b->standing->t0 == next.t0);
  }
  // Guarantee 1 (established): the attempt's t0 precedes every REQUEST of its lease.
  BATON_ASSERT(next.t0 <= next.timeout_at);
  BATON_ASSERT(next.votes.voters() == a.voters.size());
  const char* detail = next.kind == Kind::fresh && std::holds_alternative<Attempting>(a.phase)
                           ? "stale-token retry"
                           : phase::to_string(next.kind);
  move(a, std::move(next), detail, sink);
  return std::get<Attempting>(a.phase);
}

phase::BackingOff& Acquirer::enter_backoff(Acq& a, BackingOff next, Sink& sink) {
  BATON_ASSERT(std::holds_alternative<Attempting>(a.phase));
  BATON_ASSERT(!a.try_only);  // a try_acquire fails instead of waiting
  BATON_ASSERT(!next.retry_at.is_max());
  if (next.standing) {
    // Guarantee 1 (established): a lease with a grant we gave back never stands.
    if (!kReuseGivenBack) BATON_ASSERT(!next.standing->votes.any_given_back());
  }
  const char* detail = next.standing ? "standing request" : "";
  move(a, std::move(next), detail, sink);
  return std::get<BackingOff>(a.phase);
}

phase::Held& Acquirer::enter_held(Acq& a, Held next, Sink& sink) {
  BATON_ASSERT(std::holds_alternative<Attempting>(a.phase));
  // Guarantee 1 (established): a majority granted, and the validity ends
  // within the drift bound from its start.
  BATON_ASSERT(next.support.result() == TallyResult::won);
  if (!kNoDrift) {
    BATON_ASSERT(next.validity_end <= drift::validity_end(next.valid_from, a.ttl, config_.rho_ppm, config_.margin));
  }
  if (!kReuseGivenBack) BATON_ASSERT(!next.support.any_given_back());
  const bool handoff = std::get<Attempting>(a.phase).kind == Kind::handoff;
  move(a, std::move(next), handoff ? "hand-off" : "", sink);
  return std::get<Held>(a.phase);
}

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
  return retry::attempt_timeout(rtt_.get(now), timeouts, bounds());
}

Duration Acquirer::jitter(const Acq& a, Instant now) {
  const Duration j = retry::jitter_unit(rtt_.get(now));
  return retry::draw(rng_, retry::split_window(j, a.splits), waiting_here(a));
}

Duration Acquirer::free_jitter(Acq& a, const BackingOff& b, std::uint32_t waiters, Duration rtt, Instant now) {
  const Duration j = retry::jitter_unit(rtt);
  // Someone held the resource since our last failure: a new race.
  if (retry::new_race(now, b.failed_at, j)) a.splits = 0;
  return retry::draw(rng_, retry::free_window(j, waiters, a.splits), waiting_here(a));
}

std::size_t Acquirer::waiting_here(const Acq& a) const {
  return std::min(1 + queue_.waiting(a.resource), limits::jitter_draws_max);
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
  // Never above limits::token_max, which the codec refuses: a peer holding
  // the key that reported token_max leaves this member proposing token_max,
  // which voters deny as stale (the acquire then fails), never a token it
  // could not send.
  const Token above = std::max(hint_, a.max_fence);
  return Token{std::min(above.value, limits::token_max - 1) + 1};
}

void Acquirer::request_pending(const Acq& a, const LeaseId& lease, Token token, const Tally& votes,
                               const CfgRecord& cfg, Sink& sink) {
  for (std::size_t i = 0; i < a.voters.size(); ++i) {
    if (votes.vote(i) != Vote::pending) continue;
    sink.send(a.voters[i],
              tagged(Request{.resource = a.resource, .lease = lease, .ttl = a.ttl, .token = token}, a.voters[i], cfg));
  }
}

bool Acquirer::free_is_no(const Acq& a, Tally& votes, MemberId from) const {
  const std::size_t i = voter_index(a, from);
  if (i < a.voters.size()) votes.deny(i);
  return votes.result() == TallyResult::lost;
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

Instant Acquirer::due_time(const Acq& a) const {
  if (std::holds_alternative<phase::Queued>(a.phase)) return a.wait_until;
  if (const auto* at = std::get_if<Attempting>(&a.phase)) {
    return a.try_only ? at->deadline : min(at->deadline, a.wait_until);
  }
  if (const auto* b = std::get_if<BackingOff>(&a.phase)) return min(b->retry_at, a.wait_until);
  const Held& h = std::get<Held>(a.phase);
  Instant due = h.validity_end;
  if (h.renewal) {
    due = min(due, min(h.renewal->deadline, drift::renew_cutoff(h.valid_from, h.validity_end)));
  } else if (a.auto_renew || h.renew_called) {
    due = min(due, h.renew_at);  // the next auto-renew round, or a paced renew() call's
  }
  return due;
}

void Acquirer::reschedule(Acq& a) {
  const Instant due = due_time(a);
  if (due == a.timer) return;
  if (!a.timer.is_max()) timers_.erase({a.timer, a.id});
  a.timer = due;
  if (!due.is_max()) timers_.emplace(due, a.id);
}

std::optional<AcquireId> Acquirer::erase(Acq& a) {
  awaiting_ -= awaits(a) ? 1 : 0;
  if (!a.timer.is_max()) timers_.erase({a.timer, a.id});
  unindex(a);
  const ResourceName resource = a.resource;
  const AcquireId id = a.id;
  acqs_.erase(id);
  // If it held the turn (attempting or backing off), the next waiting acquire gets it.
  return queue_.leave(resource, id);
}

std::optional<LeaseInfo> Acquirer::lease(AcquireId id) const {
  auto it = acqs_.find(id);
  if (it == acqs_.end()) return std::nullopt;
  const Acq& a = it->second;
  LeaseInfo info;
  info.resource = a.resource;
  info.auto_renew = a.auto_renew;
  if (const auto* h = std::get_if<Held>(&a.phase)) {
    info.state = LeaseInfo::State::held;
    info.token = h->token;
    info.valid_from = h->valid_from;
    info.validity_end = h->validity_end;
  } else {
    info.state = LeaseInfo::State::acquiring;
  }
  return info;
}

std::string Acquirer::describe(AcquireId id) const {
  auto it = acqs_.find(id);
  if (it == acqs_.end()) return "gone";
  const Acq& a = it->second;
  std::string s = phase::name(a.phase);
  if (const auto* at = std::get_if<Attempting>(&a.phase)) {
    s += std::string(" (") + phase::to_string(at->kind) + ") votes=" + at->votes.letters();
    if (at->confirm) s += " confirm=" + at->confirm->votes.letters();
  } else if (const auto* b = std::get_if<BackingOff>(&a.phase)) {
    if (b->standing) s += " standing=" + b->standing->votes.letters();
  } else if (const auto* h = std::get_if<Held>(&a.phase)) {
    s += " support=" + h->support.letters();
    if (h->renewal) {
      s += " renewing round=" + std::to_string(h->renewal->round.number) + " votes=" + h->renewal->round.votes.letters();
    }
  }
  return s;
}

// ---- API --------------------------------------------------------------------

Result<AcquireId> Acquirer::acquire(Instant now, const AcquireArgs& args, std::vector<MemberId> voters, Sink& sink) {
  // Relied on: Node::acquire ran core::check_acquire, the one check of an
  // acquire's arguments (config.hpp).
  BATON_ASSERT(!args.resource.empty());
  BATON_ASSERT(args.resource.size() <= limits::resource_name_bytes_max);
  BATON_ASSERT(args.ttl >= config_.ttl_min);
  BATON_ASSERT(args.ttl <= config_.ttl_max);
  if (acqs_.size() >= config_.limits.acquires_in_flight) return Error{Errc::overloaded, "acquires_in_flight limit reached"};
  BATON_ASSERT(!voters.empty());
  BATON_ASSERT(voters.size() <= limits::members_max);
  const AcquireId id{next_id_++};
  Acq& a = acqs_[id];
  a.id = id;
  a.resource = args.resource;
  a.ttl = args.ttl;
  a.wait_until = args.wait_until;
  a.try_only = args.wait_until <= now;
  a.auto_renew = args.auto_renew;
  a.voters = std::move(voters);
  ++sink.stats().acquires;
  if (queue_.join(a.resource, id, !a.try_only) != AcquireQueue::Join::wait) {
    start_attempt(a, now, sink);
    return id;
  }
  // Another acquire of this resource is under way here: wait for its turn.
  enter_queued(a, sink);
  reschedule(a);
  // The turn holder's standing request now stands for one more contender.
  Acq& head = acqs_.at(*queue_.turn(a.resource));
  if (const auto* b = std::get_if<BackingOff>(&head.phase); b && b->standing) restand(head, now, sink);
  return id;
}

Result<void> Acquirer::release(Instant now, AcquireId id, Sink& sink) {
  Acq* a = find(id);
  if (!a) return Error{Errc::not_held, "no such lease"};
  if (const auto* h = std::get_if<Held>(&a->phase)) {
    // The holder stops using the resource (the caller did), then tells the voters.
    send_release(*a, h->lease, h->token, sink);
    const ResourceName resource = a->resource;
    const std::optional<AcquireId> next = erase(*a);
    BATON_ASSERT(!next.has_value());  // a holder never holds the turn
    // The waiters here time the other voters' FREEs from now (on_free).
    queue_.for_each(resource, [&](AcquireId other) { acqs_.at(other).own_release_at = now; });
    return {};
  }
  if (auto* at = std::get_if<Attempting>(&a->phase)) release_grants(*a, *at, sink);
  fail(*a, Errc::cancelled, now, sink);
  return {};
}

Result<void> Acquirer::renew(Instant now, AcquireId id, Sink& sink) {
  Acq* a = find(id);
  Held* h = a ? std::get_if<Held>(&a->phase) : nullptr;
  if (!h) return Error{Errc::not_held, "lease not held"};
  if (now >= h->validity_end) return Error{Errc::not_held, "lease expired"};
  // A round that starts past the cut-off is given up at once (due): it
  // would only send RENEWs to every voter and report unknown_outcome. A
  // caller retrying in a loop sent thousands of such rounds (issue 19).
  // Rounds of one lease are paced: the next starts no sooner than
  // attempt_timeout_min after the previous one did (auto-renew's rounds
  // are far apart anyway), and the call then waits for that round.
  const Instant cutoff = drift::renew_cutoff(h->valid_from, h->validity_end);
  const Instant paced = a->rounds > 0 && !h->renewal ? max(now, a->last_round_at + config_.attempt_timeout_min) : now;
  if (paced >= cutoff) {
    return Error{Errc::too_late, "renew: past the renewal cut-off (the last fifth of the validity window)"};
  }
  if (!h->renew_called) h->renew_called = now;
  if (h->renewal) return {};  // the caller waits for the round under way
  if (paced == now) {
    start_round(*a, now, sink);
  } else {
    h->renew_at = paced;
    reschedule(*a);
  }
  return {};
}

Result<void> Acquirer::set_auto_renew(Instant /*now*/, AcquireId id, bool on) {
  Acq* a = find(id);
  if (!a) return Error{Errc::not_held, "no such lease"};
  a->auto_renew = on;
  if (auto* h = std::get_if<Held>(&a->phase)) h->renew_at = drift::renew_start(h->valid_from, h->validity_end);
  reschedule(*a);
  return {};
}

// ---- attempting ---------------------------------------------------------------

void Acquirer::start_attempt(Acq& a, Instant now, Sink& sink) {
  Attempting next;
  next.kind = Kind::fresh;
  next.lease = mint_lease(a);
  next.token = next_token(a);
  // Guarantee 1: validity is measured from t0, read before the first send.
  // An earlier t0 only shortens validity, so `now` (read before this call) is safe.
  next.t0 = now;
  next.timeout_at = now + attempt_timeout(a.timeouts, now);
  next.deadline = next.timeout_at;
  // A2: the configuration current at t0; only a quorum of it wins.
  next.cfg = cfg_;
  next.votes = tally_for(a, *cfg_);
  Attempting& at = enter_attempting(a, std::move(next), sink);
  ++sink.stats().attempts;
  reschedule(a);
  request_pending(a, at.lease, at.token, at.votes, *at.cfg, sink);
}

void Acquirer::on_grant(Instant now, MemberId from, const Grant& g, Sink& sink) {
  // A voter grants only under our configuration's id: it is not behind.
  if (!behind_.empty()) std::erase(behind_, from);
  Acq* a = find_by_lease(g.lease);
  if (a) {
    // The votes and token of the phase this lease belongs to.
    const Tally* votes = nullptr;
    Token token;
    if (const auto* at = std::get_if<Attempting>(&a->phase)) {
      votes = &at->votes;
      token = at->token;
    } else if (const auto* b = std::get_if<BackingOff>(&a->phase)) {
      votes = &b->standing->votes;  // indexed: it has a standing request
      token = b->standing->token;
    } else if (const auto* h = std::get_if<Held>(&a->phase)) {
      votes = &h->support;
      token = h->token;
    }
    const std::size_t i = voter_index(*a, from);
    if (votes && g.token == token && i < a->voters.size() && votes->vote(i) == Vote::given_back) {
      // A lease with a grant we gave back is never current (standing.hpp):
      // only the negative control gets here. The Tally would refuse the
      // grant anyway; answer it with another RELEASE.
      BATON_ASSERT(kReuseGivenBack);
      ++sink.stats().late_releases;
      sink.send(from, Release{.resource = g.resource, .lease = g.lease, .token = g.token});
      return;
    }
    if (const auto* b = std::get_if<BackingOff>(&a->phase); b && g.token == b->standing->token) {
      start_handoff(*a, now, sink);
    }
  }
  if (!a || std::holds_alternative<BackingOff>(a->phase)) {
    // A grant for a lease this member no longer pursues: give it back at once,
    // so a delayed request does not block the resource until it expires.
    if (mine(g.lease) && !kNoPartialRelease) {
      ++sink.stats().late_releases;
      sink.send(from, Release{.resource = g.resource, .lease = g.lease, .token = g.token});
      // After that RELEASE the resource is free at that voter, which no
      // longer counts us among its waiters (it may have handed an older
      // request of ours the lease instead of a FREE): a FREE from it, for
      // whichever acquire of the resource still waits here.
      if (queue_.contains(g.resource)) {
        on_free(now, from, Free{.resource = g.resource, .fence = g.token, .waiters = 1}, sink);
      }
    }
    return;
  }
  auto* at = std::get_if<Attempting>(&a->phase);
  if (!at || g.token != at->token) return;  // duplicate for a won lease
  attempt_grant(*a, *at, voter_index(*a, from), g, now, sink);
}

void Acquirer::attempt_grant(Acq& a, Attempting& at, std::size_t i, const Grant& g, Instant now, Sink& sink) {
  if (i >= a.voters.size() || at.votes.vote(i) == Vote::yes) return;
  // A voter that denied this request (held), or sent FREE, may grant it when
  // the hold ends (a hand-off): the grant replaces its no. Ignored, it would
  // hold the resource for us with nobody to release it.
  if (at.votes.vote(i) != Vote::pending) {
    // The hold it reported ended: if this attempt fails, race as after a FREE.
    at.verdict.free_waiters = at.verdict.free_waiters.value_or(0);
  }
  // In-process answers take no time; a hand-off grant answers no round trip.
  if (a.voters[i] != config_.self && !at.reuses_t0()) sample_rtt(now, at.t0, at.timeout_at);
  if (a.voters[i] != config_.self) at.verdict.heard = true;
  const bool counted = at.votes.grant(i);
  BATON_ASSERT(counted);  // given-back grants were answered in on_grant
  if (g.handoff) ++at.handoff_grants;
  if (at.confirm) return;  // the confirm round decides; its RENEW went to this voter too
  if (at.votes.result() == TallyResult::won) {
    return at.handoff_grants > 0 ? start_confirm(a, now, sink) : won(a, now, sink);
  }
  bound_contested(a, at, now);
}

void Acquirer::on_deny(Instant now, MemberId from, const Deny& d, Sink& sink) {
  hear_cfg(from, d.reason, d.record, sink);
  Acq* a = find_by_lease(d.lease);
  auto* at = a ? std::get_if<Attempting>(&a->phase) : nullptr;
  if (!at || d.token != at->token) return;
  const std::size_t i = voter_index(*a, from);
  if (i >= a->voters.size() || at->votes.vote(i) != Vote::pending) return;
  if (from != config_.self && !at->reuses_t0()) sample_rtt(now, at->t0, at->timeout_at);
  if (from != config_.self) at->verdict.heard = true;
  // A held voter that kept our request will send FREE or hand the lease over;
  // one whose waiter table was full (unqueued) will do neither.
  const bool held = d.reason == DenyReason::held;
  const bool kept = held && (!d.unqueued || kNoUnqueuedPoll);
  at->votes.deny(i);
  if (kept) at->kept.insert(i);
  if (held && !kept) ++at->verdict.unqueued;
  if (held) a->saw_holder = true;
  a->max_fence = std::max(a->max_fence, d.fence);
  at->verdict.add(d.reason);
  if (held) at->verdict.max_time_left = max(at->verdict.max_time_left, d.time_left);
  if (d.reason == DenyReason::quarantined) {
    ++at->verdict.quarantined;
    if (d.time_left > Duration::zero()) at->verdict.min_quarantine_left = min(at->verdict.min_quarantine_left, d.time_left);
  }
  // A2: a voter ahead of the attempt's configuration (whose record we have
  // now learned) fails it at once: give back the grants, retry under it.
  const bool newer_cfg = (d.reason == DenyReason::config || d.reason == DenyReason::behind) && at->cfg->id < cfg_->id;
  if (at->votes.result() == TallyResult::lost || newer_cfg) {
    a->timeouts = 0;  // a verdict: the voters answer in time
    return attempt_failed(*a, now, sink);
  }
  bound_contested(*a, *at, now);
}

bool Acquirer::contested(const Attempting& at, const Acq& a) const {
  // Only the voters the attempt asked (its configuration's): the others start as no.
  const VoterSet asked = at.votes.asked();
  if (((at.votes.with(Vote::no) | at.votes.with(Vote::given_back)) & asked).empty()) return false;
  for (std::size_t i = 0; i < a.voters.size(); ++i) {
    if (!asked.contains(i)) continue;
    if (a.voters[i] != config_.self && at.votes.vote(i) != Vote::pending) return true;  // another member answered
  }
  return false;
}

void Acquirer::bound_contested(Acq& a, Attempting& at, Instant now) {
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
  if (!contested(at, a)) return;
  const Duration wait = max(now - at.t0, min(rtt_.get(now) * 2, config_.attempt_timeout_min));
  const Instant until = min(now + wait, at.timeout_at);
  if (until != at.deadline) {
    at.deadline = until;
    reschedule(a);
  }
}

void Acquirer::won(Acq& a, Instant now, Sink& sink) {
  Attempting& at = std::get<Attempting>(a.phase);
  a.own_release_at = Instant::max();
  // Guarantee 1: validity runs from t0, read before the first REQUEST; after
  // a confirm round, from its t_r, read before its RENEWs: the hand-off
  // holds are only known to last a whole ttl from when those arrived.
  const Instant from = at.confirm ? at.confirm->t_r : at.t0;
  if (at.handoff_grants > 0) BATON_ASSERT(at.confirm || kNoHandoffConfirm);
  const Instant end = drift::validity_end(from, a.ttl, config_.rho_ppm, config_.margin);
  // Negative control (no_drift): believe the lease for the whole ttl, no stretch, no margin.
  const Instant believed_end = kNoDrift ? from + a.ttl : end;
  if (now >= believed_end) {
    // The majority completed too late to be of use: a failed attempt.
    attempt_failed(a, now, sink);
    return;
  }
  // Guarantee 1 (relied on): every grant this lease stands on is a live
  // hold; none was given back (standing.hpp), so no RELEASE of ours can end one.
  if (!kReuseGivenBack) BATON_ASSERT(!at.votes.any_given_back());
  Held next;
  next.lease = at.lease;
  next.token = at.token;
  next.valid_from = from;
  next.validity_end = believed_end;
  next.support = at.votes;
  next.renew_at = drift::renew_start(from, believed_end);
  const bool handoff = at.kind == Kind::handoff;
  a.splits = 0;
  enter_held(a, std::move(next), sink);
  ++sink.stats().acquired;
  if (handoff) ++sink.stats().handoffs;
  reschedule(a);
  emit(sink, a, EventKind::acquired);
  if (queue_.holds_turn(a.resource, a.id)) start_next(queue_.pass_turn(a.resource, a.id), now, sink);
}

void Acquirer::start_confirm(Acq& a, Instant now, Sink& sink) {
  if (kNoHandoffConfirm) return won(a, now, sink);
  // The hand-off grants among the majority are held for handoff_confirm
  // only (Voter::grant), from moments this member cannot know: believe
  // nothing yet. A RENEW round extends every hold of the lease by its ttl
  // from receipt, which is after t_r; with a majority of acks the lease is
  // valid as after any renewal, from t_r (docs/protocol.md, Hand-off).
  Attempting& at = std::get<Attempting>(a.phase);
  BATON_ASSERT(!at.confirm.has_value());
  BATON_ASSERT(at.handoff_grants > 0);
  ++a.rounds;
  a.last_round_at = now;
  // A3: the confirm round runs under the configuration current at its t_r.
  at.confirm = Round{.number = a.rounds, .t_r = now, .votes = tally_for(a, *cfg_), .cfg = cfg_};
  ++sink.stats().handoff_confirms;
  at.timeout_at = now + attempt_timeout(a.timeouts, now);
  at.deadline = at.timeout_at;
  reschedule(a);
  sink.transition(Transition{.id = a.id, .resource = a.resource.view(), .from = "attempting", .to = "attempting",
                             .detail = "confirm round"});
  // Not believed: the lease is not valid yet, so the voters' V4 re-grant
  // (which rests on acks counting only while the lease is valid) must not
  // apply (docs/protocol.md, "Renewals across a change").
  renew_all(a, at.lease, at.token, *at.confirm, /*believed=*/false, sink);
}

void Acquirer::on_confirm_ack(Acq& a, Attempting& at, Instant now, MemberId from, const RenewAck& ack, Sink& sink) {
  Round& c = *at.confirm;
  if (ack.round != c.number || ack.token != at.token) return;
  const std::size_t i = voter_index(a, from);
  if (i >= a.voters.size() || c.votes.vote(i) != Vote::pending) return;
  if (from != config_.self) {
    sample_rtt(now, c.t_r, at.timeout_at);
    at.verdict.heard = true;
  }
  if (ack.ok) {
    c.votes.grant(i);
    if (c.votes.result() == TallyResult::won) won(a, now, sink);
    return;
  }
  // A voter counts once: a quarantined denial of the attempt already did.
  // (The attempt's no from a held denial that kept our request is not one.)
  const bool counted = at.votes.vote(i) == Vote::no && !at.kept.contains(i);
  if (ack.reason == DenyReason::quarantined && !counted) ++at.verdict.quarantined;
  c.votes.deny(i);
  // A3: a voter ahead of the round's configuration fails the confirm round
  // at once; the retry runs under the newer one (a stale-like retry).
  const bool newer_cfg = is_config_reason(ack.reason) && c.cfg->id < cfg_->id;
  if (newer_cfg) {
    a.timeouts = 0;
    at.verdict.add(ack.reason);
    attempt_failed(a, now, sink);
    return;
  }
  // Enough voters hold something else (the hand-off ran out there and the
  // resource moved on) that no majority can confirm: race as after a FREE.
  if (c.votes.result() == TallyResult::lost) {
    a.timeouts = 0;  // a verdict: the voters answer in time
    at.verdict.free_waiters = at.verdict.free_waiters.value_or(0);
    attempt_failed(a, now, sink);
  }
}

void Acquirer::release_grants(const Acq& a, Attempting& at, Sink& sink) {
  if (kNoPartialRelease) return;
  for (std::size_t i = 0; i < a.voters.size(); ++i) {
    // A voter whose grant we never saw may still have acked the confirm
    // round (it handed the lease over, or re-granted it): it holds it too.
    if (at.votes.vote(i) == Vote::yes || (at.confirm && at.confirm->votes.vote(i) == Vote::yes)) {
      sink.send(a.voters[i], Release{.resource = a.resource, .lease = at.lease, .token = at.token});
      at.votes.give_back(i);  // the lease is dead (standing.hpp): this voter never counts again
    }
  }
  at.confirm.reset();
}

void Acquirer::attempt_failed(Acq& a, Instant now, Sink& sink) {
  Attempting& at = std::get<Attempting>(a.phase);
  const bool had_grants = at.votes.yes() > 0;  // before they are given back
  release_grants(a, at, sink);
  if (had_grants) ++a.splits;  // the resource was free somewhere: we lost to contenders
  const phase::Verdict& v = at.verdict;
  // A voter ahead of our configuration (which we have now learned), or
  // behind it (which now gets the record), is retried at once too, like a
  // stale denial (A2).
  const bool cfg = v.saw(DenyReason::config) || v.saw(DenyReason::behind);
  const bool stale_only = (v.saw(DenyReason::stale) || cfg) && !v.saw(DenyReason::held);
  if (stale_only && a.stale_retries < config_.stale_retries_max && (a.try_only || now < a.wait_until)) {
    // Our token was below a voter's fence: retry at once above it.
    ++a.stale_retries;
    ++sink.stats().stale_retries;
    observe(a.max_fence);
    start_attempt(a, now, sink);
    return;
  }
  if (a.try_only || now >= a.wait_until) return fail(a, v.failure(), now, sink);
  const Attempting failed = at;  // the phase is replaced below
  BackingOff next;
  next.failed_at = now;
  next.failure = failed.verdict.failure();
  next.retry_at = retry_time(a, failed, next, now, sink);
  // The voters that said held keep our request for a hand-off (standing.hpp).
  const VoterSet kept = failed.kept_now();
  standing::Stand stand = standing::Stand::none;
  if (failed.verdict.saw(DenyReason::held)) {
    const VoterSet not_kept = VoterSet::from_bits(failed.votes.asked().bits() & ~kept.bits());
    stand = standing::decide({.quorum_kept = failed.votes.possible_without(not_kept),
                              .above_holder = failed.token > a.max_fence,
                              .gave_back = failed.votes.any_given_back() && !kReuseGivenBack,
                              .raced = failed.verdict.free_waiters.has_value() || had_grants});
  }
  if (stand == standing::Stand::attempt_lease) {
    // The attempt's own request is above the holder's token: those voters
    // keep it and may grant it as it is. A new lease would only race it.
    next.standing = Standing{.lease = failed.lease, .token = failed.token, .t0 = failed.t0,
                             .votes = standing::votes(failed.votes, kept), .cfg = failed.cfg};
  } else if (stand == standing::Stand::new_lease) {
    BATON_ASSERT(!failed.votes.any_given_back());  // no voter granted, so none was given back
    next.standing = Standing{.lease = {}, .token = {}, .t0 = now, .votes = standing::votes(failed.votes, kept),
                             .cfg = failed.cfg};
    new_standing_lease(a, *next.standing, now, sink);
  }
  BackingOff& b = enter_backoff(a, std::move(next), sink);
  if (stand == standing::Stand::new_lease) {
    request_pending(a, b.standing->lease, b.standing->token, b.standing->votes, *b.standing->cfg,
                    sink);  // the voters that said held
  }
  reschedule(a);
}

Instant Acquirer::retry_time(Acq& a, const Attempting& at, const BackingOff& b, Instant now, Sink& sink) {
  const phase::Verdict& v = at.verdict;
  const bool held = v.saw(DenyReason::held);
  const bool free = v.free_waiters.has_value();
  if (held && !free) {
    // Wait for FREE or a hand-off; if both are lost, try when the longest
    // reported hold ends.
    Instant retry = now + v.max_time_left + jitter(a, now);
    const std::size_t kept = at.kept_now().size();
    if (standing::must_poll(v.unqueued, kept, at.votes.need(), at.votes.voting())) {
      // Guarantee 3: some held voter did not keep our request (its waiter
      // table was full), and those that did miss some majority, so a
      // majority may come free without any of them sending FREE: poll, a few
      // round trips apart (backing off to 4x), until enough keep it or the
      // resource is free.
      const Instant poll = now + retry::unqueued_poll(rtt_.get(now), a.unqueued_polls, bounds()) + jitter(a, now);
      if (poll < retry) {
        retry = poll;
        ++a.unqueued_polls;
        ++sink.stats().unqueued_polls;
      }
    } else {
      a.unqueued_polls = 0;  // every majority has a voter that will send FREE
    }
    return retry;
  }
  if (held || (at.kind == Kind::handoff && free)) {
    // The holder released while we were counting: the race after its FREE.
    return now + free_jitter(a, b, v.free_waiters.value_or(0), rtt_.get(now), now);
  }
  if (v.min_quarantine_left != Duration::max() && at.votes.voting() - v.quarantined < at.votes.need()) {
    // Restarted voters kept a majority out of reach: try again when the
    // first of them votes again, rather than polling it every round trip.
    // (Only then: with a majority of the others voting, the attempt failed
    // for another reason, and waiting out a quarantine of up to the
    // stretched ttl_max starved the acquire; the harsh profile found it.)
    return now + v.min_quarantine_left + jitter(a, now);
  }
  return now + jitter(a, now);
}

// ---- backing off ----------------------------------------------------------------

void Acquirer::new_standing_lease(Acq& a, Standing& s, Instant now, Sink& sink) {
  s.lease = mint_lease(a);
  // Above the holder's token (a held denial reports it as the fence), so the
  // voters may grant it when that hold ends.
  s.token = next_token(a);
  // Guarantee 1: a hand-off grant's validity is measured from here, before
  // the voters could have received the request, let alone granted it.
  s.t0 = now;
  ++sink.stats().standing_requests;
}

void Acquirer::restand(Acq& a, Instant now, Sink& sink) {
  // A new standing request, minted for the acquires waiting now, to the
  // voters that may still hand the lease over. Voters keep one request per
  // member: it replaces the old one, whose grants are given back (on_grant).
  BackingOff& b = std::get<BackingOff>(a.phase);
  Standing& s = *b.standing;
  unindex(a);
  new_standing_lease(a, s, now, sink);
  index(a);
  request_pending(a, s.lease, s.token, s.votes, *s.cfg, sink);
}

phase::Attempting Acquirer::attempt_standing(const Acq& a, Kind kind, Instant now) const {
  const Standing& s = *std::get<BackingOff>(a.phase).standing;
  // Guarantee 1 (relied on): a standing lease has no grant we gave back
  // (standing.hpp). Under the negative control such voters stay out, as they once did.
  if (!kReuseGivenBack) BATON_ASSERT(!s.votes.any_given_back());
  Attempting next;
  next.kind = kind;
  next.lease = s.lease;
  next.token = s.token;
  // Guarantee 1: t0 stays the standing request's, the first send of this lease.
  next.t0 = s.t0;
  next.timeout_at = now + attempt_timeout(a.timeouts, now);
  next.deadline = next.timeout_at;
  next.votes = s.votes;
  next.cfg = s.cfg;  // its grants are under the configuration it was tagged with
  return next;
}

void Acquirer::retry_standing(Acq& a, Instant now, Sink& sink) {
  Attempting next = attempt_standing(a, Kind::standing_retry, now);
  next.votes.ask_again();
  Attempting& at = enter_attempting(a, std::move(next), sink);
  ++sink.stats().attempts;
  reschedule(a);
  request_pending(a, at.lease, at.token, at.votes, *at.cfg, sink);
}

void Acquirer::start_handoff(Acq& a, Instant now, Sink& sink) {
  // The standing request's votes stay: the voters not asked say no, and so
  // do those that sent FREE since.
  enter_attempting(a, attempt_standing(a, Kind::handoff, now), sink);
  reschedule(a);
}

void Acquirer::backoff_free(Acq& a, BackingOff& b, MemberId from, const Free& f, Duration lag, Duration rtt,
                            Instant now) {
  Duration wait = lag + free_jitter(a, b, f.waiters, rtt, now);
  if (b.standing) {
    if (free_is_no(a, b.standing->votes, from)) {  // that voter did not hand it to us
      // No majority can hand it over any more: later grants are given back.
      unindex(a);
      b.standing.reset();
    } else {
      // The other voters' hand-off grants are about a round trip behind.
      wait += rtt;
    }
  }
  const Instant at = now + wait;
  if (at < b.retry_at) {
    b.retry_at = at;
    reschedule(a);
  }
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
  for (AcquireId id : queue_.all(f.resource)) {
    Acq* a = find(id);
    if (!a) continue;
    if (from != config_.self && a->own_release_at != Instant::max() &&
        now - a->own_release_at <= rtt * kReleaseRttCap) {
      release_rtt_.sample(now, now - a->own_release_at);
    }
    if (auto* at = std::get_if<Attempting>(&a->phase)) {
      at->verdict.free_waiters = std::max(at->verdict.free_waiters.value_or(0), f.waiters);  // for the retry
      if (from != config_.self) at->verdict.heard = true;
      // During a hand-off, that voter handed the lease to someone else (or
      // could not hand it over): its no. Without a majority left, race for
      // the next one.
      if (at->kind == Kind::handoff && free_is_no(*a, at->votes, from)) attempt_failed(*a, now, sink);
    } else if (auto* b = std::get_if<BackingOff>(&a->phase)) {
      backoff_free(*a, *b, from, f, local_lag, rtt, now);
    }
  }
}

// ---- held: renewals and loss ------------------------------------------------

void Acquirer::start_round(Acq& a, Instant now, Sink& sink) {
  Held& h = std::get<Held>(a.phase);
  // Guarantee 1 (relied on): a renewal counts an ack from every voter, so the
  // lease must have no grant we gave back: a RELEASE of ours could end a hold it counts.
  if (!kReuseGivenBack) BATON_ASSERT(!h.support.any_given_back());
  ++a.rounds;
  // The new validity is measured from t_r, read before the round's first RENEW.
  a.last_round_at = now;
  if (!h.renewal) ++awaiting_;
  // A3: the round runs under the configuration current at t_r; only a
  // quorum of it renews.
  h.renewal = Renewal{.round = Round{.number = a.rounds, .t_r = now, .votes = tally_for(a, *cfg_), .cfg = cfg_},
                      .deadline = now + attempt_timeout(h.round_timeouts, now)};
  ++sink.stats().renew_rounds;
  reschedule(a);
  renew_all(a, h.lease, h.token, h.renewal->round, /*believed=*/true, sink);
}

bool Acquirer::mine(const LeaseId& lease) const {
  if (lease.owner != config_.self) return false;
  if (kStrayReleaseAnyLife || lease.incarnation == config_.incarnation) return true;
  return !is_client(config_.self) && lease.incarnation < config_.incarnation;
}

void Acquirer::on_renew_ack(Instant now, MemberId from, const RenewAck& ack, Sink& sink) {
  if (!ack.ok) hear_cfg(from, ack.reason, ack.record, sink);
  Acq* a = find_by_lease(ack.lease);
  if (auto* at = a ? std::get_if<Attempting>(&a->phase) : nullptr; at && at->confirm) {
    return on_confirm_ack(*a, *at, now, from, ack, sink);
  }
  Held* h = a ? std::get_if<Held>(&a->phase) : nullptr;
  if (!h) {
    if (ack.ok && mine(ack.lease)) {
      // Extended a hold for a lease we no longer have: give it back.
      ++sink.stats().late_releases;
      sink.send(from, Release{.resource = ack.resource, .lease = ack.lease, .token = ack.token});
    }
    return;
  }
  observe(ack.fence);
  // Only answers to the current round count.
  if (!h->renewal || ack.round != h->renewal->round.number || ack.token != h->token) return;
  const std::size_t i = voter_index(*a, from);
  if (i >= a->voters.size() || h->renewal->round.votes.vote(i) != Vote::pending) return;
  if (from != config_.self) sample_rtt(now, h->renewal->round.t_r, h->renewal->deadline);
  renewal_ack(*a, *h, i, ack, now, sink);
}

void Acquirer::renewal_ack(Acq& a, Held& h, std::size_t i, const RenewAck& ack, Instant now, Sink& sink) {
  Renewal& r = *h.renewal;
  if (ack.ok) {
    r.round.votes.grant(i);
    // Acks count only while the lease is still valid (the voters' re-grant
    // rule V4 rests on it: docs/protocol.md, "Renewals across a change").
    if (r.round.votes.result() != TallyResult::won || (now >= h.validity_end && !kCountLateRenewAcks)) return;
    const Instant t_r = r.round.t_r;
    const Instant end = drift::validity_end(t_r, a.ttl, config_.rho_ppm, config_.margin);
    if (end > h.validity_end) {
      h.validity_end = end;
      h.valid_from = t_r;
    }
    h.renewal.reset();
    --awaiting_;
    h.round_timeouts = 0;
    h.renew_at = drift::renew_start(h.valid_from, h.validity_end);
    const bool called = h.renew_called.has_value();
    h.renew_called.reset();
    ++sink.stats().renewed;
    reschedule(a);
    if (called || a.auto_renew) emit(sink, a, EventKind::renewed);
    return;
  }
  r.round.votes.deny(i);
  // A3: a voter ahead of the round's configuration: a new round at once
  // under the newer one (learned from this nack), while the lease is valid.
  if (is_config_reason(ack.reason) && r.round.cfg->id < cfg_->id && now < h.validity_end) {
    start_round(a, now, sink);
    return;
  }
  if (ack.reason == DenyReason::not_current || ack.reason == DenyReason::stale) ++r.superseded;
  // Enough voters granted someone else that no majority can renew this lease.
  if (r.superseded > r.round.votes.voting() - r.round.votes.need()) {
    if (h.renew_called) emit(sink, a, EventKind::renew_failed, Errc::lost);
    lose(a, LostReason::superseded, sink);
  }
}

void Acquirer::send_release(const Acq& a, const LeaseId& lease, Token token, Sink& sink) {
  for (MemberId v : a.voters) {
    sink.send(v, Release{.resource = a.resource, .lease = lease, .token = token});
  }
}

void Acquirer::lose(Acq& a, LostReason why, Sink& sink) {
  const Held& h = std::get<Held>(a.phase);
  ++sink.stats().lost;
  // Let the voters free the resource now rather than at their hold's end.
  send_release(a, h.lease, h.token, sink);
  emit(sink, a, EventKind::lost, Errc::lost, why);
  const std::optional<AcquireId> next = erase(a);
  BATON_ASSERT(!next.has_value());  // a holder never holds the turn
}

void Acquirer::held_due(Acq& a, Held& h, Instant now, Sink& sink) {
  if (now >= h.validity_end) {
    if (h.renew_called) emit(sink, a, EventKind::renew_failed, Errc::unknown_outcome);
    return lose(a, LostReason::expired, sink);
  }
  if (h.renewal && now >= drift::renew_cutoff(h.valid_from, h.validity_end)) {
    if (a.auto_renew) {
      if (h.renew_called) emit(sink, a, EventKind::renew_failed, Errc::unknown_outcome);
      // Tell the holder before its validity ends that renewal is failing.
      return lose(a, LostReason::renew_failing, sink);
    }
    // An explicit renew that did not get through: the lease runs to its end.
    h.renewal.reset();
    --awaiting_;
    h.renew_called.reset();
    emit(sink, a, EventKind::renew_failed, Errc::unknown_outcome);
  } else if (h.renewal && now >= h.renewal->deadline) {
    ++h.round_timeouts;
    if (h.renewal->round.votes.yes() == 0) ask_others(*h.renewal->round.cfg, now, sink);
    return start_round(a, now, sink);  // the round's messages or answers were lost: a new round
  } else if (!h.renewal && (a.auto_renew || h.renew_called) && now >= h.renew_at) {
    return start_round(a, now, sink);
  }
  reschedule(a);
}

// ---- leaving ------------------------------------------------------------------

void Acquirer::emit(Sink& sink, const Acq& a, EventKind kind, Errc error, LostReason why) {
  // acquired, renewed, renew_failed and lost are about the held lease:
  // its token and validity. acquire_failed has neither.
  const Held* h = std::get_if<Held>(&a.phase);
  if (kind != EventKind::acquire_failed) BATON_ASSERT(h != nullptr);
  sink.emit(Event{.kind = kind, .id = a.id, .resource = a.resource, .token = h ? h->token : Token{},
                  .validity_end = h ? h->validity_end : Instant{}, .error = error, .lost_reason = why});
}

void Acquirer::fail(Acq& a, Errc why, Instant now, Sink& sink) {
  // An acquire that was denied held and then ended in a hand-off attempt, its
  // confirm round, a standing retry, or the backoff after a hand-off that
  // went to another waiter, waited for a holder (or lost it to another
  // waiter): busy. Those phases' own verdicts record no holder, so they
  // reported unavailable, which says no majority answered (issue 24). Only
  // unavailable is replaced: busy (queued), cancelled, overloaded and
  // invalid_argument stand.
  if (why == Errc::unavailable && a.saw_holder) why = Errc::busy;
  ++sink.stats().acquire_failures;
  emit(sink, a, EventKind::acquire_failed, why);
  start_next(erase(a), now, sink);
}

void Acquirer::start_next(std::optional<AcquireId> next, Instant now, Sink& sink) {
  if (!next) return;
  Acq& n = acqs_.at(*next);
  BATON_ASSERT(std::holds_alternative<phase::Queued>(n.phase));
  start_attempt(n, now, sink);
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
  if (std::holds_alternative<phase::Queued>(a.phase)) {
    // Its turn never came: the resource stayed contended here.
    if (now >= a.wait_until) return fail(a, Errc::busy, now, sink);
  } else if (auto* at = std::get_if<Attempting>(&a.phase)) {
    if (now >= at->deadline) {
      // A denial is a verdict of sorts (bound_contested): the network
      // answers in time. Silence from every voter is not.
      a.timeouts = contested(*at, a) ? 0 : a.timeouts + 1;
      // No other member answered this attempt: whether anyone holds the
      // resource is no longer known, and unavailable says so. (Not
      // `timeouts`: contested() counts the voters a hand-off attempt never
      // asked as answers.)
      if (!at->verdict.heard) {
        a.saw_holder = false;
        ask_others(*at->cfg, now, sink);
      }
      return attempt_failed(a, now, sink);
    }
    if (!a.try_only && now >= a.wait_until) {
      release_grants(a, *at, sink);
      return fail(a, at->verdict.failure(), now, sink);
    }
  } else if (auto* b = std::get_if<BackingOff>(&a.phase)) {
    if (now >= b->retry_at && now < a.wait_until) {
      if (b->standing && standing::retry_same_lease(now, b->standing->t0, a.ttl)) return retry_standing(a, now, sink);
      return start_attempt(a, now, sink);
    }
    if (now >= a.wait_until) return fail(a, b->failure, now, sink);
  } else {
    return held_due(a, std::get<Held>(a.phase), now, sink);
  }
  reschedule(a);
}

// ---- invariants -----------------------------------------------------------------

std::string Acquirer::check_acquire(const Acq& a) const {
  const std::string who = "acquire #" + std::to_string(a.id.value) + " " + std::string(a.resource.view()) + ": ";
  const bool turn = queue_.holds_turn(a.resource, a.id);
  const bool waits = queue_.waits(a.resource, a.id);
  if (std::holds_alternative<phase::Queued>(a.phase)) {
    if (!waits) return who + "queued but not waiting in the queue";
    return {};
  }
  if (waits) return who + "waits in the queue but is " + phase::name(a.phase);
  if (const auto* at = std::get_if<Attempting>(&a.phase)) {
    if (turn == a.try_only) return who + (a.try_only ? "a try_acquire holds the turn" : "attempting without the turn");
    if (std::string t = at->votes.check(); !t.empty()) return who + t;
    if (at->votes.voters() != a.voters.size()) return who + "attempt tally of the wrong size";
    if (at->deadline > at->timeout_at) return who + "attempt deadline after its timeout";
    if (at->t0 > at->timeout_at) return who + "attempt t0 after its timeout";
    for (std::size_t i = 0; i < a.voters.size(); ++i) {
      if (at->kept.contains(i) && at->votes.vote(i) == Vote::pending) return who + "a kept request with no answer";
    }
    if (at->confirm) {
      if (std::string t = at->confirm->votes.check(); !t.empty()) return who + "confirm " + t;
      if (at->handoff_grants == 0) return who + "a confirm round without hand-off grants";
      if (at->votes.result() != TallyResult::won) return who + "a confirm round without a majority of grants";
      if (at->votes.any_given_back()) return who + "a confirm round for a lease given back";
    }
    return {};
  }
  if (const auto* b = std::get_if<BackingOff>(&a.phase)) {
    if (!turn) return who + "backing off without the turn";
    if (b->retry_at.is_max()) return who + "backing off with no retry time";
    if (b->standing) {
      if (std::string t = b->standing->votes.check(); !t.empty()) return who + "standing " + t;
      if (b->standing->votes.result() == TallyResult::lost) return who + "a standing request no majority can grant";
      if (!kReuseGivenBack && b->standing->votes.any_given_back()) return who + "a standing request given back";
    }
    return {};
  }
  const Held& h = std::get<Held>(a.phase);
  if (turn) return who + "holds the lease and the turn";
  if (std::string t = h.support.check(); !t.empty()) return who + "support " + t;
  if (h.support.result() != TallyResult::won) return who + "held without a majority";
  if (!kReuseGivenBack && h.support.any_given_back()) return who + "held with a grant given back";
  if (h.valid_from >= h.validity_end) return who + "validity ends before it starts";
  // Guarantee 1: the validity never exceeds the drift bound from its start.
  if (!kNoDrift && h.validity_end > drift::validity_end(h.valid_from, a.ttl, config_.rho_ppm, config_.margin)) {
    return who + "validity beyond the drift bound";
  }
  if (h.renewal) {
    if (std::string t = h.renewal->round.votes.check(); !t.empty()) return who + "renewal " + t;
    if (h.renewal->round.number != a.rounds) return who + "a renewal that is not the latest round";
  }
  return {};
}

std::string Acquirer::check_invariants() const {
  std::size_t awaiting = 0;
  std::size_t leases = 0;
  std::size_t timers = 0;
  for (const auto& [id, a] : acqs_) {
    if (id != a.id) return "acquire filed under the wrong id";
    if (std::string bad = check_acquire(a); !bad.empty()) return bad;
    if (awaits(a)) ++awaiting;
    if (const LeaseId* lease = current_lease(a)) {
      ++leases;
      auto it = by_lease_.find(*lease);
      if (it == by_lease_.end() || it->second != id) return "by-lease index misses acquire #" + std::to_string(id.value);
    }
    if (a.timer != due_time(a)) return "timer of acquire #" + std::to_string(id.value) + " out of step with its phase";
    if (!a.timer.is_max()) {
      ++timers;
      if (!timers_.count({a.timer, id})) return "timer of acquire #" + std::to_string(id.value) + " not armed";
    }
    bool listed = false;
    const AcquireId self = id;  // (clang 14 cannot capture a structured binding)
    queue_.for_each(a.resource, [&](AcquireId other) { listed |= other == self; });
    if (!listed) return "acquire #" + std::to_string(id.value) + " not in its queue";
  }
  if (leases != by_lease_.size()) return "by-lease index holds leases no phase has";
  if (queue_.size() != acqs_.size()) return "the acquire queue lists acquires that are gone";
  if (timers != timers_.size()) return "timers armed for no acquire";
  if (awaiting != awaiting_) {
    return "awaiting count " + std::to_string(awaiting_) + " but " + std::to_string(awaiting) + " rounds open";
  }
  if (std::string q = queue_.check(); !q.empty()) return q;
  return {};
}

}  // namespace baton::core
