// SPDX-License-Identifier: Apache-2.0
#include "core/recovery.hpp"

#include <algorithm>

#include "core/drift.hpp"

namespace baton::core {

Recovery::Recovery(const NodeConfig& config, Instant start, Rng& rng) : config_(config), rng_(rng) {
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
}

void Recovery::on_floor_reply(Instant /*now*/, MemberId from, const FloorReply& r) {
  if (floor_known_ || r.nonce != nonce_ || !r.ready || from == config_.self) return;
  answered_.insert(from);
  floor_ = std::max(floor_, r.floor);
  if (answered_.size() >= needed_) {
    floor_known_ = true;
    next_query_ = Instant::max();
  }
}

Instant Recovery::next_deadline() const {
  Instant d = Instant::max();
  if (!quarantine_over_) d = min(d, quarantine_end_);
  if (!floor_known_) d = min(d, next_query_);
  return d;
}

}  // namespace baton::core
