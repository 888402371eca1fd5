// SPDX-License-Identifier: Apache-2.0
#include "core/recovery.hpp"

#include <algorithm>

#include "core/drift.hpp"
#include "core/reconfigure.hpp"

namespace baton::core {

Recovery::Recovery(const NodeConfig& config, Instant start, Rng& rng, const CfgRecord& record,
                   std::uint64_t promised)
    : config_(config), rng_(rng), record_(record), promised_(promised), own_promise_(promised) {
  // Guarantee 1 across a configuration change: a previous life may have voted
  // under a longer ttl_max or a larger rho than this one.
  const Duration ttl_max = max(config.ttl_max, config.prior_ttl_max);
  const std::uint32_t rho_ppm = std::max(config.rho_ppm, config.prior_rho_ppm);
  switch (config.recovery) {
    case RecoveryMode::first_start:
      quarantine_end_ = start;
      quarantine_over_ = true;
      floor_known_ = true;
      break;
    case RecoveryMode::reservation:
      quarantine_end_ = drift::quarantine_end(start, ttl_max, rho_ppm);
      floor_ = config.recovered_reservation;
      floor_known_ = true;
      break;
    case RecoveryMode::peers: {
      quarantine_end_ = drift::quarantine_end(start, ttl_max, rho_ppm);
      const std::size_t n = config.members.size();
      const std::size_t r = std::min<std::size_t>(config.replicas, n);
      needed_ = n - r / 2;
      by_record_ = n <= config.replicas;
#if defined(BATON_BREAK_RECOVERY_IGNORES_CFG)
      by_record_ = false;  // negative control: rule (b) only, the record is not learned
#endif
      // Only a member that can keep a promise runs the fence; a diskless
      // one cannot, and no member of a cluster with one may drive a change.
      fence_on_ = by_record_ && config.persist;
#if defined(BATON_BREAK_NO_RECOVERY_FENCE)
      fence_on_ = false;  // negative control: vote once the floor answers are in
#endif
      break;
    }
  }
#if defined(BATON_BREAK_NO_QUARANTINE)
  quarantine_end_ = start;  // negative control: vote again at once
#endif
  if (start >= quarantine_end_) quarantine_over_ = true;
}

void Recovery::start(Instant now, Sink& sink) {
  nonce_ = rng_.next() | 1;
  if (!floor_known_ && quarantine_over_) query(now, sink);
}

void Recovery::query(Instant now, Sink& sink) {
  for (MemberId m : config_.members) {
    if (m != config_.self) sink.send(m, FloorQuery{.nonce = nonce_});
  }
  // Ask again until enough recovered members answered: they may be recovering
  // themselves, or the query or replies may be lost.
  const Duration every = std::max(config_.rtt_initial * 8, config_.attempt_timeout_min * 4);
  next_query_ = now + every;
}

void Recovery::on_deadline(Instant now, Sink& sink) {
  if (!quarantine_over_ && now >= quarantine_end_) {
    quarantine_over_ = true;
    if (!floor_known_) return query(now, sink);
  }
  if (!floor_known_ && quarantine_over_ && now >= next_query_) query(now, sink);
  send_due(now, sink);
}

void Recovery::on_floor_reply(Instant /*now*/, MemberId from, const FloorReply& r, const CfgRecord* record) {
  if (floor_known_ || r.nonce != nonce_ || !r.ready || from == config_.self) return;
  answered_.insert(from);
  floor_ = std::max(floor_, r.floor);
  if (by_record_ && record != nullptr) {
    if (record_.id < record->id) record_ = *record;
    promised_ = std::max(promised_, r.promised);
  }
  if (floors_done_ || missing(answered_) != 0) return;
  floors_done_ = true;
  next_query_ = Instant::max();
  if (fence_on_) {
    fence_send_ = true;  // send_due starts the read
  } else {
    floor_known_ = true;
  }
}

void Recovery::on_read_reply(Instant /*now*/, MemberId from, const ConfigReadReply& r, const CfgRecord* record) {
  if (floor_known_ || fence_ballot_ == 0 || r.ballot != fence_ballot_ || from == config_.self) return;
  promised_ = std::max(promised_, r.promised);
  if (record != nullptr && record_.id < record->id) record_ = *record;  // the target moves
  if (!r.ok) {
    fence_send_ = true;  // a higher promise: again, above it
    return;
  }
  fenced_.insert(from);
  if (missing(fenced_) == 0) {
    floor_known_ = true;
    next_read_ = Instant::max();
  }
}

void Recovery::send_due(Instant now, Sink& sink) {
  if (floor_known_ || !floors_done_ || !fence_on_) return;
  if (fence_send_) {
    fence_send_ = false;
    const std::optional<std::uint64_t> b =
        next_ballot(std::max({promised_, own_promise_, fence_ballot_, record_.id.ballot}), config_.self);
    if (!b) return;  // ballots exhausted: it stays unready (status says so)
    fence_ballot_ = *b;
    fenced_.clear();
    next_read_ = now;
  }
  if (now < next_read_) return;
  for (MemberId v : record_.voters()) {
    if (v != config_.self && !fenced_.contains(v)) sink.send(v, ConfigRead{.ballot = fence_ballot_});
  }
  next_read_ = now + std::max(config_.rtt_initial * 8, config_.attempt_timeout_min * 4);
}

std::size_t Recovery::missing(const std::set<MemberId>& heard_set) const {
  if (!by_record_) return heard_set.size() >= needed_ ? 0 : needed_ - heard_set.size();
  std::size_t out = 0;
  const auto group = [&](const std::vector<MemberId>& g) {
    const bool mine = std::binary_search(g.begin(), g.end(), config_.self);
    const std::size_t others = g.size() - (mine ? 1 : 0);
    const std::size_t heard = static_cast<std::size_t>(
        std::count_if(g.begin(), g.end(), [&](MemberId m) { return heard_set.contains(m); }));
    // Every majority of G (floor(|G|/2) + 1 members) has floor(|G|/2) of
    // them besides this member, or one more when it is not in G: fewer than
    // that may stay unheard. This member alone: nobody else can say.
    const std::size_t besides = g.size() / 2 + (mine ? 0 : 1);
    if (besides == 0) return std::size_t{1};
    const std::size_t need = others - (besides - 1);
    return heard >= need ? std::size_t{0} : need - heard;
  };
  out += group(record_.old_voters);
  if (record_.joint()) out += group(record_.new_voters);
  return out;
}

std::size_t Recovery::answers_needed() const {
  if (config_.recovery != RecoveryMode::peers) return 0;
  return answered_.size() + missing(answered_);
}

Instant Recovery::next_deadline() const {
  Instant d = Instant::max();
  if (!quarantine_over_) d = min(d, quarantine_end_);
  if (!floor_known_) d = min(min(d, next_query_), next_read_);
  return d;
}

}  // namespace baton::core
