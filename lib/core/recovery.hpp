// SPDX-License-Identifier: Apache-2.0
// Recovery: when a member that lost its memory may vote again (DESIGN "Restart").
//
// (a) Quarantine: the longest allowed ttl, stretched by rho (drift.hpp), must
//     have passed on this member's clock since it started, so every validity
//     that its previous life's grants supported has ended.
// (b) Floor: its floor must be at or above every token it could ever have
//     stored: from the persisted reservation (known at start), or learned
//     from peers: FLOOR_QUERY to every other member, and FLOOR_REPLY answers
//     from at least N − floor(R/2) of them that have themselves recovered.
//     Every majority that committed a token has floor(R/2)+1 voters, so at
//     least floor(R/2) of them besides this member; N−1 others minus
//     (N − floor(R/2)) answers leaves floor(R/2)−1 unheard, fewer than any
//     such group: the answers include one member of every committing majority.
//     The queries go out only once the quarantine is over: a grant of the
//     previous life may still be in flight after the restart and complete a
//     majority with grants that peers make later; but a majority that
//     completes after its validity would end is a failed attempt, and every
//     such validity ends before the quarantine does. So answers sent after the
//     quarantine include every token any lease was ever committed with.
//     (Found by tests/scenarios/testdata/peer_recovery_late_commit.txt.)
//     Answers accumulate across resends (one nonce per life).
// (c) Configuration (issue 21): a member that lost its state also lost its
//     configuration record and its promise, and the initial record may list
//     voters that a change removed long ago. Each answer carries the
//     answerer's record and promise; the member adopts the newest record
//     heard and the highest promise before it votes. With records, which
//     answers suffice depends on the record: for each voter set G of the
//     newest record heard, enough members of G answered that every majority
//     of G has one answerer besides this member (all of G but
//     floor(|G|/2) − 1 others when this member is in G, all but floor(|G|/2)
//     when not); a newer record heard moves the target. A record whose one
//     voter set is this member alone cannot be recovered from anyone: the
//     member stays unready (its tokens are lost; docs/operations.md). When
//     the initial record lists every member this is the rule of (b); in
//     scale mode (more members than replicas) records never change and (b)
//     is kept. docs/protocol.md, "A member that lost its state".
// (d) Fence (issue 21, with a state directory): its previous life may have
//     acked a record proposal that a driver still counts after these
//     answers. So, once (c) is met, it takes a ballot above every promise it
//     heard and its own, persists that promise, and sends CONFIG_READ with
//     it to the voters of the record learned; it votes only once the same
//     coverage of every voter set has promised that ballot (replies naming a
//     newer record move the target; a refusal for a higher promise takes a
//     ballot above it and starts again). Every majority that could still
//     commit with the old ack has a member that has either reported the
//     record, or promised above the ballot it was proposed with.
// A first start (never ran before) needs none of them.
#pragma once

#include <cstdint>
#include <set>

#include "core/config.hpp"
#include "core/message.hpp"
#include "core/rng.hpp"
#include "core/sink.hpp"
#include "core/time.hpp"

namespace baton::core {

class Recovery {
 public:
  // `record`: the configuration this life starts under (the member's own,
  // from its state directory, or the initial one).
  // `record`, `promised`: the configuration and promise this life starts
  // with (the member's own, from its state directory, or the initial one).
  Recovery(const NodeConfig& config, Instant start, Rng& rng, const CfgRecord& record, std::uint64_t promised = 0);
  Recovery(const NodeConfig& config, Instant start, Rng& rng)
      : Recovery(config, start, rng, initial_record(config.members)) {}

  // Sends the first FLOOR_QUERY (peers mode).
  void start(Instant now, Sink& sink);
  void on_deadline(Instant now, Sink& sink);
  // `record`: the answer's record when the member can adopt it (valid, its
  // voters members; the Node checks), else null.
  void on_floor_reply(Instant now, MemberId from, const FloorReply& r, const CfgRecord* record = nullptr);
  // (d): a CONFIG_READ_REPLY to the fence's read (`record`: its record when
  // adoptable, else null), and sending what is due (the fence's first read
  // once (c) is met). The Node calls send_due after every reply.
  void on_read_reply(Instant now, MemberId from, const ConfigReadReply& r, const CfgRecord* record);
  void send_due(Instant now, Sink& sink);
  // The ballot of the fence's read (0: none yet); the Node persists it as its
  // voter's promise before the read leaves.
  std::uint64_t fence_ballot() const { return fence_ballot_; }
  // The promise this life started with: a record learned at or above its
  // ballot may be adopted (V1 as of the restart; the fence's own promise
  // does not count against what the fence learns).
  std::uint64_t start_promise() const { return own_promise_; }

  bool ready() const { return quarantine_over_ && floor_known_; }
  bool quarantine_over() const { return quarantine_over_; }
  bool floor_known() const { return floor_known_; }
  // The floor learned (reservation or max of peer answers); valid once floor_known().
  Token floor() const { return floor_; }
  Instant quarantine_end() const { return quarantine_end_; }
  // Peers mode: the newest record heard (or the starting one) and the
  // highest promise heard; what the member adopts once floor_known().
  const CfgRecord& record() const { return record_; }
  std::uint64_t promised() const { return promised_; }
  std::size_t answers() const { return answered_.size(); }
  // Answers needed in all: those counted so far plus those still missing
  // (a voter set that cannot be covered counts one more than it has).
  std::size_t answers_needed() const;
  Instant next_deadline() const;

 private:
  void query(Instant now, Sink& sink);
  void fence(Instant now, Sink& sink);
  // Answers of `heard` still missing for the current target (0: enough).
  std::size_t missing(const std::set<MemberId>& heard) const;

  const NodeConfig& config_;
  Rng& rng_;
  Instant quarantine_end_;      // on this member's clock
  bool quarantine_over_ = false;
  bool floor_known_ = false;
  Token floor_;
  std::size_t needed_ = 0;      // scale mode: recovered answers needed (rule (b))
  bool by_record_ = false;      // peers mode outside scale mode: rule (c)
  CfgRecord record_;            // the newest record heard
  std::uint64_t promised_ = 0;  // the highest promise heard
  std::set<MemberId> answered_; // recovered members that answered (bounded by the member count)
  // (d), with a state directory: after the floor answers, the fence's read.
  bool fence_on_ = false;          // configured: peers mode, records, a state directory
  bool floors_done_ = false;       // (b)/(c) met
  std::uint64_t own_promise_ = 0;  // this life's starting promise
  std::uint64_t fence_ballot_ = 0; // the read's ballot (0: not started)
  bool fence_send_ = false;        // a (re)start of the read is due
  std::set<MemberId> fenced_;      // members that promised fence_ballot_ (bounded by the member count)
  Instant next_read_ = Instant::max();
  std::uint64_t nonce_ = 0;     // of this life's queries
  Instant next_query_ = Instant::max();
};

}  // namespace baton::core
