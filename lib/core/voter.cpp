// SPDX-License-Identifier: Apache-2.0
#include "core/voter.hpp"

#include <algorithm>
#include <tuple>

#include "core/assert.hpp"
#include "core/drift.hpp"

namespace baton::core {

namespace {
#if defined(BATON_BREAK_KEEP_PARKED_ON_RELEASE)
// Negative control: a RELEASE leaves its lease's parked request, which the
// next sync grants to an acquirer that gave it up (Guarantee 3).
constexpr bool kKeepParkedOnRelease = true;
#else
constexpr bool kKeepParkedOnRelease = false;
#endif
#if defined(BATON_BREAK_NO_REGRANT_ACROSS_CHANGE)
// Negative control: the re-grant rule before V4, only where the fence is
// exactly the token: a new voter refuses to renew a lease granted before it
// joined, and a lease held across a change of most voters is lost
// (Guarantee 3; the simulator's across phase).
constexpr bool kNoRegrantAcrossChange = true;
#else
constexpr bool kNoRegrantAcrossChange = false;
#endif
#if defined(BATON_BREAK_REGRANT_RELEASED)
// Negative control: a RENEW that arrives after its lease's RELEASE re-grants
// it (the re-grant rule without its released check, or without its entry).
constexpr bool kRegrantReleased = true;
#else
constexpr bool kRegrantReleased = false;
#endif
}  // namespace

#if defined(BATON_BREAK_ACCEPT_OLDER_CFG)
// Negative control: a request tagged with an older configuration than the
// voter's is judged as if it carried the voter's (no `config` denial): a
// quorum of a replaced voter set can still form.
constexpr bool kAcceptOlderCfg = true;
#else
constexpr bool kAcceptOlderCfg = false;
#endif
#if defined(BATON_BREAK_NO_CFG_CATCH_UP)
// Negative control: a voter never adopts a newer configuration relayed with a
// request (V2 without V1): it denies `behind` forever, and an acquirer that
// knows the newer record can never win where a majority is behind.
constexpr bool kNoCfgCatchUp = true;
#else
constexpr bool kNoCfgCatchUp = false;
#endif

static_assert(deny_reason_max < std::tuple_size_v<decltype(NodeStats{}.denials_by_reason)>);

Voter::Voter(const NodeConfig& config, Token floor, bool ready, std::uint64_t hash_seed)
    : Voter(config, CfgState{initial_record(config.members), 0}, floor, ready, hash_seed) {}

Voter::Voter(const NodeConfig& config, CfgState cfg, Token floor, bool ready, std::uint64_t hash_seed)
    : config_(config),
      members_(initial_record(config.members).old_voters),
      cfg_(std::move(cfg)),
      // What this voter granted before: at most its own reservation (0 for
      // a new life, whose floor comes from its peers).
      table_(std::max(floor, cfg_.join_floor), config.limits.idle_fences, hash_seed, floor),
      ready_(ready),
      reservation_(floor) {
  BATON_ASSERT(validate_state(cfg_).ok());
}

CfgAccept Voter::adopt(const CfgRecord& r, Sink& sink) {
  if (!adoptable(r, members_, config_.replicas)) return CfgAccept::foreign;
  const CfgAccept verdict = v1_check(cfg_, r);
  if (verdict != CfgAccept::accepted) return verdict;
  cfg_ = v1_accept(cfg_, r);
  // Before voting under a record with a join floor: the floor and every
  // per-resource fence at least F (shared/MEMBERSHIP.md, "How voters get
  // their floor"). The persisted state keeps the highest F ever adopted
  // (CfgState::join_floor), so every restart applies it again, whatever
  // records came after (the reservation need not cover it).
  table_.raise_floor(cfg_.join_floor);
  sink.observe_token(cfg_.join_floor);  // this member's proposals go above it
  ++sink.stats().configs_adopted;
  sink.persist_config(cfg_);
  return verdict;
}

void Voter::recover_cfg(const CfgRecord& r, std::uint64_t promised, std::uint64_t min_ballot, Sink& sink) {
  bool changed = false;
  if (cfg_.record.id < r.id && r.id.ballot >= min_ballot) {
    cfg_.record = r;
    cfg_.join_floor = std::max(cfg_.join_floor, r.floor);
    table_.raise_floor(cfg_.join_floor);
    sink.observe_token(cfg_.join_floor);
    ++sink.stats().configs_adopted;
    changed = true;
  }
  const std::uint64_t p = std::max(promised, cfg_.record.id.ballot);
  if (p > cfg_.promised) {
    cfg_.promised = p;
    changed = true;
  }
  if (changed) sink.persist_config(cfg_);
}

void Voter::on_config_read(MemberId from, const ConfigRead& r, Sink& sink) {
  const bool ok = r.ballot >= cfg_.promised;
  if (ok && r.ballot > cfg_.promised) {
    // A promise is kept across restarts: written before the reply leaves.
    cfg_.promised = r.ballot;
    sink.persist_config(cfg_);
  }
  sink.send(from, ConfigReadReply{.ballot = r.ballot, .ok = ok, .record = cfg_.record, .promised = cfg_.promised});
}

void Voter::on_config_propose(MemberId from, const ConfigPropose& p, Sink& sink) {
  // The codec checked the record; a scenario or the simulator may not have.
  if (!validate_record(p.record)) return;
  adopt(p.record, sink);
  // ok: this voter holds exactly the proposed record now, adopted just now or
  // before (a driver re-sends to stragglers). Read after adopting: F, when
  // the record has one, is below max_stored.
  const bool ok = cfg_.record == p.record;
  sink.send(from, ConfigAck{.proposed = p.record.id, .ok = ok, .cfg = cfg_.record.id,
                            .max_stored = std::max(table_.max_token(), table_.floor()), .promised = cfg_.promised,
                            .ttl_max = max(config_.ttl_max, config_.prior_ttl_max)});
}

void Voter::on_config_query(MemberId from, const ConfigQuery& q, Sink& sink) {
  sink.send(from, ConfigReply{.nonce = q.nonce, .record = cfg_.record});
}

std::optional<DenyReason> Voter::gate(CfgId id, const std::optional<CfgRecord>& attached, Sink& sink) {
  if (id < cfg_.record.id) {
    if (!kAcceptOlderCfg) return DenyReason::config;
    id = cfg_.record.id;
  }
  if (cfg_.record.id < id) {
    // Only the record the message was tagged with, and only if valid (the
    // codec checked it; a scenario or the simulator may not have).
    if (kNoCfgCatchUp || !attached || attached->id != id || !validate_record(*attached)) return DenyReason::behind;
    if (adopt(*attached, sink) != CfgAccept::accepted) return DenyReason::behind;
  }
  BATON_ASSERT(id == cfg_.record.id);
  if (!cfg_.record.is_voter(config_.self)) return DenyReason::not_voter;
  return std::nullopt;
}

void Voter::deny(MemberId to, const Request& r, DenyReason why, Sink& sink, const Hold* holder, Instant now,
                 bool unqueued) {
  BATON_ASSERT(!unqueued || why == DenyReason::held);
  Deny d{.resource = r.resource, .lease = r.lease, .token = r.token, .reason = why,
         .holder = {}, .time_left = Duration::zero(), .fence = table_.fence_of(r.resource.view()),
         .unqueued = unqueued};
  attach_cfg(d);
  if (holder) {
    d.holder = holder->holder;
    d.time_left = max(holder->expiry - now, Duration::zero());
  } else if (why == DenyReason::quarantined && !quarantine_until_.is_max()) {
    d.time_left = max(quarantine_until_ - now, Duration::zero());
  }
  auto& st = sink.stats();
  ++st.denials;
  ++st.denials_by_reason[static_cast<std::size_t>(why)];
  sink.send(to, std::move(d));
}

void Voter::nack(MemberId to, const Renew& r, DenyReason why, Sink& sink) {
  ++sink.stats().renew_nacks;
  RenewAck a{.resource = r.resource, .lease = r.lease, .token = r.token, .round = r.round,
             .ok = false, .reason = why, .fence = table_.fence_of(r.resource.view())};
  attach_cfg(a);
  sink.send(to, std::move(a));
}

bool Voter::covered(Token t, Sink& sink) {
  if (!config_.persist || t <= reservation_) return true;
  // One sync at a time. If one is pending (even below t), the parked request
  // is handled again when it completes and then asks for a higher one.
  if (!persist_pending_) {
    // One sync covers a whole block of tokens above t and above every request
    // parked with it, so requests that arrived during the previous sync need
    // one more sync between them, not one each (the simulator's seed 99: after
    // a majority restarted, tokens a few blocks apart chained three syncs).
    // Never above limits::token_max (what a state directory may hold; the
    // codec refuses larger tokens, so `top` is at most that).
    const Token top = std::max(t, replay_max_);
    const std::uint64_t room = limits::token_max - std::min(top.value, limits::token_max);
    persist_pending_ = Token{top.value + std::min<std::uint64_t>(config_.reservation_block, room)};
    ++sink.stats().persists;
    sink.persist(*persist_pending_);
  }
  return false;
}

void Voter::on_request(Instant now, MemberId from, const Request& r, Sink& sink) {
  ++sink.stats().requests;
  sink.observe_token(r.token);
  if (const auto why = gate(r.cfg, r.record, sink)) return deny(from, r, *why, sink);
  if (!ready_) return deny(from, r, DenyReason::quarantined, sink, nullptr, now);
  if (!ttl_ok(r.ttl)) return deny(from, r, DenyReason::ttl_too_long, sink);
  FenceTable::Ref e = table_.lookup(r.resource.view());
  if (e && e->hold) {
    const Hold& h = *e->hold;
    if (h.lease == r.lease && h.token == r.token) {
      // A duplicate of the request we granted: the same answer again (still
      // a hand-off if no RENEW confirmed it yet).
      ++sink.stats().grants;
      sink.send(from, Grant{.resource = r.resource, .lease = r.lease, .token = r.token, .handoff = h.provisional});
      return;
    }
    const Hold copy = h;
    const Waiter w{.member = from, .lease = r.lease, .token = r.token, .ttl = r.ttl, .received = now, .cfg = r.cfg};
    const bool kept = table_.add_waiter(e, w, config_.limits.waiters_per_resource, config_.limits.waiters_per_voter);
    if (!kept) ++sink.stats().waiters_dropped;
    // Guarantee 3: a request the table could not keep gets no FREE and no
    // hand-off, so the denial says so and the acquirer polls (Acquirer::on_deny).
    deny(from, r, DenyReason::held, sink, &copy, now, /*unqueued=*/!kept);
    return;
  }
  const Token fence = e ? e->fence : table_.floor();
#if !defined(BATON_BREAK_NO_TOKEN_CHECK)
  // Guarantee 2 (fencing): grant only a token above every token stored here.
  if (r.token <= fence) return deny(from, r, DenyReason::stale, sink);
#else
  (void)fence;  // negative control: the token check is switched off
#endif
  if (table_.live() >= config_.limits.leases_per_voter) return deny(from, r, DenyReason::overloaded, sink);
  if (!covered(r.token, sink)) {
    if (parked_.size() >= config_.limits.pending_persist) return deny(from, r, DenyReason::overloaded, sink);
    parked_.emplace_back(from, r);
    return;
  }
  // Hold from a fresh reading of this voter's clock (`now` is read on receipt).
  e = grant(now, from, e, r.resource, r.lease, r.token, r.ttl, sink);
  table_.remove_waiter(e, from);
}

FenceTable::Ref Voter::grant(Instant now, MemberId to, FenceTable::Ref e, const ResourceName& resource,
                             const LeaseId& lease, Token token, Duration ttl, Sink& sink, bool handoff) {
  if (!e) e = table_.get(resource);
  e->fence = token;  // the token is replicated with the grant
  e->granted = token;
  e->regrantable = true;
  // A hand-off is held only until the waiter could have confirmed it (its
  // acquirer believes nothing before a RENEW round succeeds): a waiter that
  // cannot answer blocks the resource for handoff_confirm, not a whole ttl.
  const Duration hold = handoff ? min(ttl, config_.handoff_confirm) : ttl;
  table_.set_hold(e, Hold{.lease = lease, .token = token, .holder = to, .expiry = drift::hold_end(now, hold),
                          .provisional = handoff});
  ++sink.stats().grants;
  sink.send(to, Grant{.resource = resource, .lease = lease, .token = token, .handoff = handoff});
  return e;
}

void Voter::on_renew(Instant now, MemberId from, const Renew& r, Sink& sink) {
  sink.observe_token(r.token);
  if (const auto why = gate(r.cfg, r.record, sink)) return nack(from, r, *why, sink);
  if (!ready_) return nack(from, r, DenyReason::quarantined, sink);
  if (!ttl_ok(r.ttl)) return nack(from, r, DenyReason::ttl_too_long, sink);
  FenceTable::Ref e = table_.lookup(r.resource.view());
  if (e && e->hold) {
    if (e->hold->lease != r.lease || e->hold->token != r.token) return nack(from, r, DenyReason::not_current, sink);
    table_.extend_hold(e, drift::hold_end(now, r.ttl));
    e->hold->provisional = false;  // a hand-off confirmed: held for the whole ttl from now
  } else {
    // Nothing live here: the re-grant rule V4 (docs/protocol.md, "Renewals
    // across a change"). Safety does not rest on it but on the acquirer,
    // which counts an ack only while its lease is still valid: no other
    // lease of the resource can have been granted by then, so holding this
    // one here too adds a hold and takes none away. What this voter knows
    // only spares the holder a round: a voter that granted a newer token
    // here says so (`stale`), and one whose last hold at this token was
    // released by its owner says `not_current` (a RENEW arriving after the
    // RELEASE, reordered, duplicated, or a client's replayed once its replay
    // state was evicted, must not resurrect it here; docs/protocol.md
    // "Clients"). A fence above the token that this voter did not set by a
    // grant (a join floor F, a floor learned from peers) re-grants: a new
    // voter supports a lease granted before it joined.
    const Token granted = e ? e->granted : table_.granted_floor();
    const Token fence = e ? e->fence : table_.floor();
    // Only a renewal of a lease its holder believes valid (Renew::believed):
    // a hand-off's confirm round is for a lease not valid yet, so the
    // acquirer's clause protects nothing there (the model's hole: a voter
    // whose entry was evicted into the floor, or whose fence F raised,
    // re-granted an old hand-off token after a newer lease came and went;
    // docs/membership.md, repair 1). It keeps the rule before V4, as does
    // every RENEW of a member that predates V4: only where the fence is
    // exactly the token.
    if ((kNoRegrantAcrossChange || !r.believed) && fence != r.token)
      return nack(from, r, fence > r.token ? DenyReason::stale : DenyReason::not_current, sink);
    if (granted > r.token) return nack(from, r, DenyReason::stale, sink);
    if (!kRegrantReleased && e && e->granted == r.token && !e->regrantable)
      return nack(from, r, DenyReason::not_current, sink);
    if (table_.live() >= config_.limits.leases_per_voter) return nack(from, r, DenyReason::overloaded, sink);
    // A token above the fence is stored here now: covered by the reservation
    // first, like a grant's (the next round finds the sync done).
    if (r.token > fence && !covered(r.token, sink)) return nack(from, r, DenyReason::overloaded, sink);
    if (!e) e = table_.get(r.resource);
    e->fence = std::max(e->fence, r.token);
    e->granted = r.token;
    e->regrantable = true;
    table_.set_hold(e, Hold{.lease = r.lease, .token = r.token, .holder = from, .expiry = drift::hold_end(now, r.ttl)});
  }
  ++sink.stats().renewals;
  sink.send(from, RenewAck{.resource = r.resource, .lease = r.lease, .token = r.token, .round = r.round,
                           .ok = true, .reason = {}, .fence = r.token});
}

void Voter::on_release(Instant now, MemberId from, const Release& r, Sink& sink) {
  // A request of that lease still parked for a reservation sync is given up
  // too: granted after the sync, it would hold the resource for an acquirer
  // that no longer wants it, and if that acquirer died meanwhile nobody would
  // give it back (an orphaned hold for its whole ttl; harsh seed 80953591).
  if (r.lease.owner == from && !kKeepParkedOnRelease) {
    std::erase_if(parked_, [&](const std::pair<MemberId, Request>& p) {
      return p.first == from && p.second.lease == r.lease && p.second.token == r.token &&
             p.second.resource == r.resource;
    });
  }
  const FenceTable::Ref e = table_.lookup(r.resource.view());
  if (!e || !e->hold) return;
  // Only the lease's own acquirer releases it, and only that exact grant.
  if (e->hold->lease != r.lease || e->hold->token != r.token || r.lease.owner != from) return;
  ++sink.stats().releases;
  e->regrantable = false;  // until the next grant (e->granted is this token: a grant stores it)
  notify_free(now, e, table_.end_hold(e), sink);
}

void Voter::expire(Instant now, Sink& sink) {
  for (const std::string& name : table_.expired(now)) {
    // Live until now, so not idle: no earlier notify_free evicted it.
    const FenceTable::Ref e = table_.lookup(name);
    BATON_ASSERT(e && e->hold);
    ++sink.stats().expiries;
    notify_free(now, e, table_.end_hold(e), sink);
  }
}

bool Voter::may_hand_off(Instant now, const Waiter& w, Token fence) const {
  // The rule on_request applies to a request arriving now, and the request
  // must be recent: its acquirer measures validity from before it sent it,
  // so one older than half its ttl leaves it little (and a request its
  // acquirer gave up on is answered with RELEASE, which costs a round trip).
  if (w.lease.empty() || !ready_ || !ttl_ok(w.ttl)) return false;
  // The V2 gate, with the stored request's configuration: one kept from
  // before this voter adopted a newer record is told FREE instead, and
  // retries under the newer one.
  if (w.cfg != cfg_.record.id || !cfg_.record.is_voter(config_.self)) return false;
  if (now - w.received > w.ttl / 2) return false;
  if (w.token <= fence) return false;  // Guarantee 2, as in on_request
  if (table_.live() >= config_.limits.leases_per_voter) return false;
  // With persistence, only a token the current reservation covers: no sync here.
  if (config_.persist && w.token > reservation_) return false;
  return true;
}

void Voter::notify_free(Instant now, FenceTable::Ref e, std::vector<Waiter> waiters, Sink& sink) {
  const ResourceName resource(e.name());
  Token fence = e->fence;
  const auto told = static_cast<std::uint32_t>(waiters.size());
  const Waiter* chosen = nullptr;
  std::uint64_t chosen_rank = 0;
  for (const Waiter& w : waiters) {
    if (!may_hand_off(now, w, fence)) continue;
    const std::uint64_t rank = handoff_rank(w.lease);
    if (!chosen || rank < chosen_rank) {
      chosen = &w;
      chosen_rank = rank;
    }
  }
  if (chosen) {
    grant(now, chosen->member, e, resource, chosen->lease, chosen->token, chosen->ttl, sink, /*handoff=*/true);
    ++sink.stats().handoff_grants;
    fence = chosen->token;  // the others' next proposal goes above it
  }
  for (const Waiter& w : waiters) {
    if (&w == chosen) continue;
    ++sink.stats().frees_sent;
    sink.send(w.member, Free{.resource = resource, .fence = fence, .waiters = told});
  }
  table_.settle(e);  // the last use of e: settling may evict it
}

bool Voter::client_pinned(MemberId m) const {
  if (table_.client_has_state(m)) return true;
  // Parked requests: at most limits::pending_persist_max of them.
  return std::any_of(parked_.begin(), parked_.end(), [&](const auto& p) { return p.first == m; });
}

void Voter::on_persisted(Instant now, Token reservation, Sink& sink) {
  if (!persist_pending_ || reservation != *persist_pending_) return;  // not what we asked for
  BATON_ASSERT(reservation >= reservation_);
  reservation_ = reservation;
  persist_pending_.reset();
  std::vector<std::pair<MemberId, Request>> parked;
  parked.swap(parked_);
  for (const auto& [from, r] : parked) replay_max_ = std::max(replay_max_, r.token);
  for (auto& [from, r] : parked) on_request(now, from, r, sink);
  replay_max_ = Token{};
}

}  // namespace baton::core
