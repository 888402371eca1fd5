// SPDX-License-Identifier: Apache-2.0
// Voter: answers REQUEST, RENEW and RELEASE for the resources this member
// votes on (DESIGN "Recommended protocol", steps 3, Renew, Release).
//
// Grants only when the resource has no live lease here and the proposed token
// is above the resource's fence, storing the token with the grant (the token
// is replicated with every grant). Holds run `ttl` on this voter's clock from
// a fresh reading. A held denial remembers the requester as a waiter, with
// the request. When the hold ends (release or expiry) the voter grants one
// waiter's request itself if it still may (a hand-off: the same rule as a
// REQUEST arriving then) and tells the others with FREE. Every voter picks
// the same waiter from the same requests, so a majority hands the lease over
// without another round trip (docs/protocol.md, "Hand-off").
//
// With persistence, a token above the current floor reservation is stored only
// after a new reservation covering it was synced (the request is parked until
// Node::on_persisted); so after a restart the reservation bounds every token
// this voter ever stored.
#pragma once

#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include "core/config.hpp"
#include "core/fence_table.hpp"
#include "core/message.hpp"
#include "core/sink.hpp"
#include "core/time.hpp"

namespace baton::core {

class Voter {
 public:
  // `floor`: every token this voter may have stored before (0 on a first
  // start). `ready`: false while quarantined (Recovery decides).
  // `hash_seed` keys the resource table's name hash (FenceTable).
  // `cfg`: the configuration record and promise this member persisted (or
  // the initial record); its join floor is applied to `floor`.
  Voter(const NodeConfig& config, Token floor, bool ready, std::uint64_t hash_seed = 0);
  Voter(const NodeConfig& config, CfgState cfg, Token floor, bool ready, std::uint64_t hash_seed = 0);

  void on_request(Instant now, MemberId from, const Request& r, Sink& sink);
  void on_renew(Instant now, MemberId from, const Renew& r, Sink& sink);
  void on_release(Instant now, MemberId from, const Release& r, Sink& sink);
  // Ends holds that ran out by `now`, telling their waiters.
  void expire(Instant now, Sink& sink);
  // A reservation the runtime synced; parked requests are handled again.
  void on_persisted(Instant now, Token reservation, Sink& sink);

  // Recovery: quarantine over / floor learned.
  // `until`: while not ready, when the quarantine ends on this clock
  // (Instant::max() if unknown); reported in quarantined denials so that
  // acquirers wait instead of polling.
  void set_ready(bool ready, Instant until = Instant::max()) {
    ready_ = ready;
    quarantine_until_ = until;
  }
  void raise_floor(Token t) { table_.raise_floor(t); }

  // V1 (issue 21): adopts `r` if its ballot is not below the promise and its
  // id is above this voter's; then applies its join floor to the floor and
  // every fence, and asks the runtime to persist the new state before
  // anything else is sent (Sink::persist_config). Stored requests of an
  // older configuration are no longer handed off. `r` must be valid
  // (validate_record).
  CfgAccept adopt(const CfgRecord& r, Sink& sink);
  const CfgState& cfg() const { return cfg_; }
  // Peer recovery (recovery.hpp (c), (d)): the newest record the peers
  // hold, adopted if newer than this voter's and its ballot at least
  // `min_ballot` (the promise the life started with: V1 as of the restart),
  // and a promise of at least `promised`; persisted like an adopted record.
  // `r` must be valid and adoptable.
  void recover_cfg(const CfgRecord& r, std::uint64_t promised, std::uint64_t min_ballot, Sink& sink);
  // The driver's messages (issue 21): CONFIG_READ promises a ballot at least
  // the voter's promise (persisted first, like an adopted record) and answers
  // with the record; CONFIG_PROPOSE adopts by V1 and acks with max_stored;
  // CONFIG_QUERY answers with the record. A voter its record no longer lists
  // answers all three (V5).
  void on_config_read(MemberId from, const ConfigRead& r, Sink& sink);
  void on_config_propose(MemberId from, const ConfigPropose& p, Sink& sink);
  void on_config_query(MemberId from, const ConfigQuery& q, Sink& sink);

  bool ready() const { return ready_; }
  Instant next_deadline() const { return table_.next_expiry(); }
  const FenceTable& table() const { return table_; }
  Token reservation() const { return reservation_; }
  std::optional<Token> persist_pending() const { return persist_pending_; }
  std::size_t parked() const { return parked_.size(); }
  // The parked requests, by sender (for the simulator's checker).
  const std::vector<std::pair<MemberId, Request>>& parked_requests() const { return parked_; }
  // Client `m` holds, waits or has a request parked here (issue 21): its
  // replay window must not be evicted (Node::client_pinned).
  bool client_pinned(MemberId m) const;
  // Highest token this voter ever stored (what a FLOOR_REPLY reports).
  Token max_token() const { return table_.max_token(); }

 private:
  void deny(MemberId to, const Request& r, DenyReason why, Sink& sink, const Hold* holder = nullptr,
            Instant now = Instant{}, bool unqueued = false);
  void nack(MemberId to, const Renew& r, DenyReason why, Sink& sink);
  // A DENY or RENEW_ACK with a configuration reason carries this voter's
  // record and promise (V2).
  template <typename Answer>
  void attach_cfg(Answer& a) const {
    if (!is_config_reason(a.reason)) return;
    a.record = cfg_.record;
    a.promised = cfg_.promised;
  }
  // V2: the configuration gate of a REQUEST or RENEW tagged `id`, with
  // `attached` its record if the sender sent it: the denial reason, or none
  // (the message is under this voter's configuration, which lists it).
  std::optional<DenyReason> gate(CfgId id, const std::optional<CfgRecord>& attached, Sink& sink);
  // The hold on `e` ended: hand the lease to one of `waiters`, FREE the rest.
  void notify_free(Instant now, FenceTable::Ref e, std::vector<Waiter> waiters, Sink& sink);
  // Stores `lease` as the resource's hold (from `now`) and its token as the
  // fence, and sends GRANT: on a REQUEST, or when handing a freed lease over
  // (`handoff`: held for min(ttl, handoff_confirm) until a RENEW confirms it).
  // `e` is the resource's entry, or empty if it has none yet; returns it.
  FenceTable::Ref grant(Instant now, MemberId to, FenceTable::Ref e, const ResourceName& resource,
                        const LeaseId& lease, Token token, Duration ttl, Sink& sink, bool handoff = false);
  // Whether `w`'s request may be granted now with the resource's fence `fence`.
  bool may_hand_off(Instant now, const Waiter& w, Token fence) const;
  bool ttl_ok(Duration ttl) const { return ttl >= config_.ttl_min && ttl <= config_.ttl_max; }
  // Persistence: true if `t` may be stored now; otherwise asks for a sync.
  bool covered(Token t, Sink& sink);

  const NodeConfig& config_;
  std::vector<MemberId> members_;  // config_.members, sorted
  CfgState cfg_;
  FenceTable table_;
  bool ready_;
  Instant quarantine_until_ = Instant::max();  // while !ready_: when voting may resume
  Token reservation_;                          // persist: tokens up to this are synced
  std::optional<Token> persist_pending_;       // a reservation being synced
  std::vector<std::pair<MemberId, Request>> parked_;  // waiting for that sync; bounded
  Token replay_max_;  // while replaying parked requests: the highest token among them
};

}  // namespace baton::core
