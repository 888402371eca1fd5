// SPDX-License-Identifier: Apache-2.0
// Reconfigurer: one member's reconfiguration driver (issue 21; the driver of
// shared/MEMBERSHIP.md, as repaired in docs/membership.md, and argued in
// docs/protocol.md "Changing the voters"). It moves the cluster from the
// voter set C of the newest record it knows to a target set C':
//
//   read     phase 0: CONFIG_READ(b) to K's voters. A refusal (a higher
//            promise) ends the run, superseded; an answer with a newer record
//            makes that K and reads again; a quorum of K answering with
//            nothing newer ends the phase. Those voters promised b: no record
//            of a lower ballot is adopted there from now on.
//   repropose  phase R: K again, under (E_K, b), committed by a quorum of K
//            acking exactly that id. This finishes a change a crashed driver
//            left half done, and spreads an F only a minority had. (A joint
//            K is re-proposed as phase 1 of its own change.)
//   joint    phase 1: (E+1, b, C, C') to C and C'. Committed by a majority of
//            C acking exactly it; t_q is this member's clock reading when the
//            last needed ack arrived (its receipt, not the send), and F is
//            the highest max_stored in the acks so far (each read after the
//            voter adopted the joint record).
//   wait     phase 2: until t_q + ttl_max + margin on this member's clock:
//            every lease valid under C alone has ended by then.
//   final    phase 3: (E+2, b, C', -, F) to C and C', committed by a
//            majority of C'. Afterwards the record is re-sent to voters
//            that have not acked, a few times (stragglers).
//
// Any ok = false answer to a proposal ends the run, superseded. Unanswered
// messages are re-sent every `resend`; the whole run gives up after
// `give_up` (timed_out: the next driver finishes the change from phase 0).
// After finishing a change K left half done, the run goes on to its own
// target from a fresh phase 0 (at most once more).
//
// Ballots: b = k·2^31 + member id, so two members never use the same one,
// and a member takes one above every promise it heard of and above its own
// voter's promise; its own voter is read first, in-process, so the ballot is
// persisted (Outbox::persist_config) before any datagram carries it.
//
// Sans-I/O like the rest of the core: inputs carry `now`, outputs go to the Sink.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "baton/result.hpp"
#include "core/ids.hpp"
#include "core/membership.hpp"
#include "core/message.hpp"
#include "core/sink.hpp"
#include "core/time.hpp"

namespace baton::core {

// The smallest ballot of member `self` above `above`; none when exhausted
// (above 2^63-1).
std::optional<std::uint64_t> next_ballot(std::uint64_t above, MemberId self);
// The member whose ballot `b` is (b mod 2^31).
MemberId ballot_owner(std::uint64_t b);

struct ReconfigTiming {
  Duration wait;     // phase 2: at least this member's ttl_max (any life's) + margin; longer if an acking voter's is
  Duration margin;  // added to the longest ttl_max an ack reported
  Duration resend;   // re-send unanswered reads and proposals this often
  Duration give_up;  // the whole run ends timed_out after this
};

class Reconfigurer {
 public:
  enum class Phase : std::uint8_t { idle, read, repropose, joint, wait, final, stragglers };
  static const char* to_string(Phase p);

  Reconfigurer(MemberId self, ReconfigTiming timing);

  // Whether a run is under way (stragglers do not count: a new run may start).
  bool active() const { return phase_ != Phase::idle && phase_ != Phase::stragglers; }
  Phase phase() const { return phase_; }
  // The voters this run moves to (valid while active()).
  const std::vector<MemberId>& target() const { return target_; }
  std::uint64_t ballot() const { return ballot_; }
  // Starts a run from `known` (the newest record this member knows) to
  // `target` (sorted, unique, valid voters) with `ballot` (next_ballot).
  // The caller checked the arguments; asserts !active().
  void start(Instant now, const CfgRecord& known, std::vector<MemberId> target, std::uint64_t ballot, Sink& sink);
  // Answers from members (the Node checked the records they carry are valid
  // and adoptable; others arrive with `usable` false and count as no answer).
  void on_read_reply(Instant now, MemberId from, const ConfigReadReply& r, bool usable, Sink& sink);
  void on_ack(Instant now, MemberId from, const ConfigAck& a, Sink& sink);
  void on_deadline(Instant now, Sink& sink);
  Instant next_deadline() const;
  // The outcome of the run that ended, once.
  std::optional<ReconfigResult> take_result();
  // The highest promise any answer reported (the next run's ballot goes above it).
  std::uint64_t highest_promise() const { return highest_promise_; }
  // After a commit, a straggler refused the record for a promise above our
  // ballot (a driver that read it died, or lost to us): once, that promise;
  // the member re-proposes with a higher ballot (Node), or the straggler
  // stays `behind`, a dead voter, until the next change.
  std::optional<std::uint64_t> take_stray_promise() { return std::exchange(stray_promise_, std::nullopt); }
  // What the run waits for, for people: "joint (3, 7) acks 2/3 of [1,2,3]".
  std::string describe() const;
  // The phase's data agree; empty if so.
  std::string check_invariants() const;

 private:
  void read(Instant now, Sink& sink);
  void propose(Instant now, CfgRecord r, Phase p, Sink& sink);
  void send_pending(Sink& sink);
  void committed(Instant now, Sink& sink);
  void finish(ReconfigOutcome outcome, std::string detail);
  void finish_committed(Instant now);
  // The members the current message goes to.
  std::vector<MemberId> recipients() const;
  // Whether `answered_` is the quorum the phase needs.
  bool quorum() const;

  MemberId self_;
  ReconfigTiming timing_;
  Phase phase_ = Phase::idle;
  std::uint64_t ballot_ = 0;
  std::vector<MemberId> target_;
  CfgRecord known_;                    // K: the newest record the run knows
  CfgRecord proposal_;                 // repropose, joint, final, stragglers: the record out
  std::vector<MemberId> answered_;     // sorted: voters that answered ok (read) or acked exactly proposal_
  std::vector<MemberId> leaving_;      // stragglers after a change: the voters it removed
  Token f_{};                          // joint: the highest max_stored acked so far
  Duration ttl_max_{};                 // joint: the longest ttl_max acked so far
  Instant t_q_;                        // joint committed then (receipt of the last needed ack)
  Instant wait_until_ = Instant::max();  // wait: phase 3 starts then
  Instant resend_at_ = Instant::max();
  Instant give_up_at_ = Instant::max();
  std::uint32_t changes_left_ = 0;     // changes this run may still start (a half-done one, then ours)
  std::uint32_t straggler_sends_ = 0;  // stragglers: re-sends left
  std::uint64_t highest_promise_ = 0;
  std::optional<std::uint64_t> stray_promise_;
  std::optional<ReconfigResult> result_;
};

}  // namespace baton::core
