// SPDX-License-Identifier: Apache-2.0
#include "core/reconfigure.hpp"

#include <algorithm>
#include <utility>

#include "core/assert.hpp"
#include "core/limits.hpp"

namespace baton::core {

namespace {
#if defined(BATON_BREAK_NO_JOINT)
// Negative control: straight from C to C' (phase 3 right after phase R),
// without the joint configuration and its wait.
constexpr bool kNoJoint = true;
#else
constexpr bool kNoJoint = false;
#endif
#if defined(BATON_BREAK_NO_JOIN_FLOOR)
// Negative control: the final record carries no join floor F (new voters
// keep whatever floor they have).
constexpr bool kNoJoinFloor = true;
#else
constexpr bool kNoJoinFloor = false;
#endif
#if defined(BATON_BREAK_NO_PHASE2_WAIT)
// Negative control: the final record goes out as soon as the joint one
// commits, while leases valid under C alone may still run.
constexpr bool kNoPhase2Wait = true;
#else
constexpr bool kNoPhase2Wait = false;
#endif

constexpr std::uint64_t kBallotStride = std::uint64_t{1} << 31;  // member ids are below 2^31
constexpr std::uint32_t kStragglerSends = 3;

bool contains(const std::vector<MemberId>& sorted, MemberId m) {
  return std::binary_search(sorted.begin(), sorted.end(), m);
}

void insert_sorted(std::vector<MemberId>& sorted, MemberId m) {
  auto it = std::lower_bound(sorted.begin(), sorted.end(), m);
  if (it == sorted.end() || *it != m) sorted.insert(it, m);
}

std::string list(const std::vector<MemberId>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i].value);
  return s + "]";
}
}  // namespace

std::optional<std::uint64_t> next_ballot(std::uint64_t above, MemberId self) {
  BATON_ASSERT(self.value > 0 && self.value < kBallotStride);
  std::uint64_t k = above / kBallotStride;
  std::uint64_t b = k * kBallotStride + self.value;
  if (b <= above) {
    ++k;
    b = k * kBallotStride + self.value;
  }
  if (b > limits::token_max) return std::nullopt;  // ids stay at most 2^63-1, like the records'
  return b;
}

MemberId ballot_owner(std::uint64_t b) { return MemberId{static_cast<std::uint32_t>(b % kBallotStride)}; }

const char* Reconfigurer::to_string(Phase p) {
  switch (p) {
    case Phase::idle: return "idle";
    case Phase::read: return "read";
    case Phase::repropose: return "repropose";
    case Phase::joint: return "joint";
    case Phase::wait: return "wait";
    case Phase::final: return "final";
    case Phase::stragglers: return "stragglers";
  }
  return "?";
}

Reconfigurer::Reconfigurer(MemberId self, ReconfigTiming timing) : self_(self), timing_(timing) {}

void Reconfigurer::start(Instant now, const CfgRecord& known, std::vector<MemberId> target, std::uint64_t ballot,
                         Sink& sink) {
  BATON_ASSERT(!active());
  BATON_ASSERT(!target.empty() && std::is_sorted(target.begin(), target.end()));
  BATON_ASSERT(ballot > known.id.ballot && ballot_owner(ballot) == self_);
  ballot_ = ballot;
  stray_promise_.reset();
  target_ = std::move(target);
  known_ = known;
  changes_left_ = 2;
  result_.reset();
  give_up_at_ = now + timing_.give_up;
  read(now, sink);
}

void Reconfigurer::read(Instant now, Sink& sink) {
  phase_ = Phase::read;
  answered_.clear();
  // Our own voter first, in-process: its promise of our ballot is written
  // before any datagram carries the ballot, so no later run of this member
  // takes it again (next_ballot goes above that promise).
  sink.send(self_, ConfigRead{.ballot = ballot_});
  for (MemberId v : known_.voters()) {
    if (v != self_) sink.send(v, ConfigRead{.ballot = ballot_});
  }
  resend_at_ = now + timing_.resend;
}

std::vector<MemberId> Reconfigurer::recipients() const {
  if (phase_ == Phase::read) return known_.voters();
  std::vector<MemberId> to = proposal_.voters();
  // Phase 3 also tells the members leaving: they stop voting (V5).
  if (phase_ == Phase::final) {
    for (MemberId m : known_.voters()) {
      if (!contains(proposal_.old_voters, m)) to.push_back(m);
    }
  }
  if (phase_ == Phase::stragglers) to.insert(to.end(), leaving_.begin(), leaving_.end());
  return to;
}

void Reconfigurer::send_pending(Sink& sink) {
  for (MemberId v : recipients()) {
    if (contains(answered_, v)) continue;
    if (phase_ == Phase::read) {
      sink.send(v, ConfigRead{.ballot = ballot_});
    } else {
      sink.send(v, ConfigPropose{.record = proposal_});
    }
  }
}

void Reconfigurer::propose(Instant now, CfgRecord r, Phase p, Sink& sink) {
  BATON_ASSERT(r.id.ballot == ballot_);
  BATON_ASSERT(validate_record(r).ok());
  phase_ = p;
  proposal_ = std::move(r);
  answered_.clear();
  leaving_.clear();  // set when a final record commits
  f_ = Token{};
  ttl_max_ = Duration::zero();
  send_pending(sink);
  resend_at_ = now + timing_.resend;
}

bool Reconfigurer::quorum() const {
  switch (phase_) {
    case Phase::read:
    case Phase::repropose: return known_.is_quorum(answered_);
    case Phase::joint: {
      // A majority of C: the leases of C alone it must outwait met it.
      CfgRecord c;
      c.old_voters = proposal_.old_voters;
      return c.is_quorum(answered_);
    }
    case Phase::final: return proposal_.is_quorum(answered_);  // simple: a majority of C'
    default: return false;
  }
}

void Reconfigurer::on_read_reply(Instant now, MemberId from, const ConfigReadReply& r, bool usable, Sink& sink) {
  highest_promise_ = std::max(highest_promise_, r.promised);
  if (phase_ != Phase::read || r.ballot != ballot_) return;
  if (!r.ok) {
    return finish(ReconfigOutcome::superseded, "member " + std::to_string(from.value) + " promised ballot " +
                                                   std::to_string(r.promised) + ", above ours (" +
                                                   std::to_string(ballot_) + ")");
  }
  if (!usable) return;
  if (known_.id < r.record.id) {
    // A newer configuration: read its voters (our ballot is above its: a
    // voter holding it promised at least its ballot, and said ok to ours).
    known_ = r.record;
    return read(now, sink);
  }
  if (!known_.is_voter(from)) return;  // our own voter, outside K: its promise is all we wanted
  insert_sorted(answered_, from);
  if (!quorum()) return;
  // Phase R: K itself under our ballot.
  CfgRecord k = known_;
  k.id.ballot = ballot_;
  propose(now, std::move(k), known_.joint() ? Phase::joint : Phase::repropose, sink);
}

void Reconfigurer::on_ack(Instant now, MemberId from, const ConfigAck& a, Sink& sink) {
  highest_promise_ = std::max(highest_promise_, a.promised);
  const bool proposing = phase_ == Phase::repropose || phase_ == Phase::joint || phase_ == Phase::wait ||
                         phase_ == Phase::final || phase_ == Phase::stragglers;
  if (!proposing || a.proposed != proposal_.id) return;
  if (!a.ok) {
    if (phase_ == Phase::stragglers) {
      // Committed already: the straggler moved on to something newer, or
      // refuses ours for a promise above our ballot (take_stray_promise).
      insert_sorted(answered_, from);
      if (a.cfg < proposal_.id && a.promised > ballot_) stray_promise_ = std::max(stray_promise_.value_or(0), a.promised);
      return;
    }
    return finish(ReconfigOutcome::superseded,
                  "member " + std::to_string(from.value) + " refused " + core::to_string(proposal_.id) + ": it holds " +
                      core::to_string(a.cfg) + " and promised ballot " + std::to_string(a.promised));
  }
  if (contains(answered_, from)) return;
  insert_sorted(answered_, from);
  if (phase_ == Phase::joint) {
    if (!kNoJoinFloor) f_ = std::max(f_, a.max_stored);
    ttl_max_ = max(ttl_max_, a.ttl_max);
  }
  if (phase_ == Phase::wait || phase_ == Phase::stragglers) return;
  if (quorum()) committed(now, sink);
}

void Reconfigurer::committed(Instant now, Sink& sink) {
  switch (phase_) {
    case Phase::repropose: {
      known_ = proposal_;
      if (known_.old_voters == target_ || changes_left_ == 0) return finish_committed(now);
      --changes_left_;
      if (kNoJoint) {
        CfgRecord s{.id = {known_.id.epoch + 1, ballot_}, .old_voters = target_, .new_voters = {}, .floor = {}};
        return propose(now, std::move(s), Phase::final, sink);
      }
      CfgRecord j{.id = {known_.id.epoch + 1, ballot_}, .old_voters = known_.old_voters, .new_voters = target_,
                  .floor = {}};
      return propose(now, std::move(j), Phase::joint, sink);
    }
    case Phase::joint:
      // t_q: the receipt of the last ack needed, on our clock.
      t_q_ = now;
      known_ = proposal_;
      phase_ = Phase::wait;
      // Every lease of C alone ended within the longest ttl of a voter in
      // the ack majority from t_q (docs/protocol.md "Changing the voters").
      wait_until_ = kNoPhase2Wait ? now : now + max(timing_.wait, ttl_max_ + timing_.margin);
      // The run's deadline never ends the wait it started: a voter may report
      // a far longer ttl_max than this member's (docs/protocol.md).
      give_up_at_ = max(give_up_at_, wait_until_ + (timing_.give_up - timing_.wait));
      if (kNoPhase2Wait) return on_deadline(now, sink);
      return;
    case Phase::final:
      // The voters leaving (in the joint record, not in the final one) keep
      // getting the final record with the stragglers: they stop voting (V5).
      leaving_.clear();
      for (MemberId m : known_.voters()) {
        if (!contains(proposal_.old_voters, m)) leaving_.push_back(m);
      }
      known_ = proposal_;
      if (known_.old_voters != target_ && changes_left_ > 0) {
        // We finished a change someone else began: now ours, from phase 0.
        // Start the straggler re-sends again when ours commits.
        return read(now, sink);
      }
      return finish_committed(now);
    default: BATON_ASSERT(false);
  }
}

void Reconfigurer::on_deadline(Instant now, Sink& sink) {
  if (phase_ == Phase::idle) return;
  if (active() && now >= give_up_at_) {
    return finish(ReconfigOutcome::timed_out, describe());
  }
  if (phase_ == Phase::wait && now >= wait_until_) {
    const CfgRecord joint = proposal_;
    wait_until_ = Instant::max();
    CfgRecord s{.id = {joint.id.epoch + 1, ballot_}, .old_voters = joint.new_voters, .new_voters = {},
                .floor = f_};
    return propose(now, std::move(s), Phase::final, sink);
  }
  if (now >= resend_at_) {
    if (phase_ == Phase::stragglers) {
      if (straggler_sends_ == 0) {
        phase_ = Phase::idle;
        resend_at_ = Instant::max();
        return;
      }
      --straggler_sends_;
    }
    send_pending(sink);
    resend_at_ = now + timing_.resend;
  }
}

Instant Reconfigurer::next_deadline() const {
  if (phase_ == Phase::idle) return Instant::max();
  Instant next = resend_at_;
  if (active()) next = min(next, give_up_at_);
  if (phase_ == Phase::wait) next = min(next, wait_until_);
  return next;
}

void Reconfigurer::finish_committed(Instant now) {
  finish(ReconfigOutcome::committed, "");
  // finish() went idle: keep pushing the record to the voters that have not
  // acked it a while (stragglers), and hear their refusals.
  phase_ = Phase::stragglers;
  straggler_sends_ = kStragglerSends;
  resend_at_ = now + timing_.resend;
}

void Reconfigurer::finish(ReconfigOutcome outcome, std::string detail) {
  result_ = ReconfigResult{.outcome = outcome, .record = known_, .ballot = ballot_, .detail = std::move(detail)};
  phase_ = Phase::idle;
  resend_at_ = Instant::max();
  wait_until_ = Instant::max();
}

std::optional<ReconfigResult> Reconfigurer::take_result() { return std::exchange(result_, std::nullopt); }

std::string Reconfigurer::describe() const {
  std::string s = to_string(phase_);
  if (phase_ == Phase::idle) return s;
  s += " ballot " + std::to_string(ballot_) + " target " + list(target_);
  if (phase_ == Phase::read) return s + " read " + core::to_string(known_) + " answered " + list(answered_);
  return s + " proposal " + core::to_string(proposal_) + " acked " + list(answered_);
}

std::string Reconfigurer::check_invariants() const {
  if (!std::is_sorted(answered_.begin(), answered_.end())) return "reconfigure: answered not sorted";
  if (phase_ == Phase::idle) return {};
  if (ballot_owner(ballot_) != self_) return "reconfigure: a ballot of another member";
  if (phase_ != Phase::read && proposal_.id.ballot != ballot_) return "reconfigure: a proposal under another ballot";
  if (phase_ == Phase::wait && !proposal_.joint()) return "reconfigure: waiting after a simple record";
  if (phase_ == Phase::wait && wait_until_.is_max()) return "reconfigure: waiting for nothing";
  if (phase_ == Phase::final && proposal_.joint()) return "reconfigure: a joint final record";
  return {};
}

}  // namespace baton::core
