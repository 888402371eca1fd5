// SPDX-License-Identifier: Apache-2.0
#include "sim_network.hpp"

#include <algorithm>

#include "core/assert.hpp"

namespace baton::sim {

SimNetwork::SimNetwork(std::size_t members, std::size_t link_queue_max, core::Rng& rng)
    : members_(members),
      link_queue_max_(link_queue_max),
      rng_(rng),
      blocked_(members * members, 0),
      clog_until_(members * members, 0),
      link_load_(members * members, 0),
      last_arrival_(members * members, 0) {
  BATON_ASSERT(members > 0);
  BATON_ASSERT(link_queue_max > 0);
}

std::size_t SimNetwork::link(std::uint32_t from, std::uint32_t to) const {
  BATON_ASSERT(from >= 1 && from <= members_);
  BATON_ASSERT(to >= 1 && to <= members_);
  return (from - 1) * members_ + (to - 1);
}

void SimNetwork::block(core::MemberId from, core::MemberId to) { ++blocked_[link(from, to)]; }
void SimNetwork::unblock(core::MemberId from, core::MemberId to) {
  auto& b = blocked_[link(from, to)];
  if (b > 0) --b;  // heal_all() may have lifted it already
}
bool SimNetwork::blocked(core::MemberId from, core::MemberId to) const { return blocked_[link(from, to)] > 0; }

void SimNetwork::clog(core::MemberId from, core::MemberId to, std::int64_t until_true_ns) {
  auto& c = clog_until_[link(from, to)];
  c = std::max(c, until_true_ns);
}

void SimNetwork::heal_all() {
  std::fill(blocked_.begin(), blocked_.end(), 0u);
  std::fill(clog_until_.begin(), clog_until_.end(), 0);
}

std::int64_t SimNetwork::draw_delay() {
  const auto& p = profile_;
  // Long tails first: a small share of datagrams is delayed by orders of
  // magnitude, some beyond every ttl (a delayed REQUEST must stay harmless).
  if (p.far_tail_ppm > 0 && rng_.chance_ppm(p.far_tail_ppm)) {
    return p.delay_min_ns + static_cast<std::int64_t>(rng_.uniform(static_cast<std::uint64_t>(p.far_tail_max_ns)));
  }
  if (p.tail_ppm > 0 && rng_.chance_ppm(p.tail_ppm)) {
    return p.delay_min_ns + static_cast<std::int64_t>(rng_.uniform(static_cast<std::uint64_t>(p.tail_max_ns)));
  }
  return p.delay_min_ns + static_cast<std::int64_t>(rng_.uniform(static_cast<std::uint64_t>(p.delay_max_ns - p.delay_min_ns)));
}

void SimNetwork::enqueue(std::int64_t now_true_ns, std::int64_t arrive_true_ns, Datagram d) {
  const std::size_t l = link(d);
  if (link_load_[l] >= link_queue_max_) {
    ++counters_.overflowed;
    return;
  }
  if (clog_until_[l] > arrive_true_ns) {
    // A clogged link delivers its backlog after it heals, still reordered.
    arrive_true_ns = clog_until_[l] + draw_delay();
    ++counters_.clogged;
  }
  ++link_load_[l];
  if (last_arrival_[l] > now_true_ns) {
    ++counters_.pairs_in_flight;
    if (arrive_true_ns < last_arrival_[l]) ++counters_.pairs_swapped;
  }
  last_arrival_[l] = arrive_true_ns;
  queue_.emplace(std::make_pair(arrive_true_ns, inserted_++), std::move(d));
}

void SimNetwork::send(std::int64_t now_true_ns, Datagram d) {
  BATON_ASSERT(!d.msgs.empty());
  BATON_ASSERT(d.src_slot() != d.dst_slot());
  ++counters_.sent;
  d.serial = ++serial_;
  if (blocked_[link(d)] > 0) {
    ++counters_.blocked;
    return;
  }
  if (profile_.loss_ppm > 0 && rng_.chance_ppm(profile_.loss_ppm)) {
    ++counters_.lost;
    return;
  }
  if (profile_.dup_ppm > 0 && rng_.chance_ppm(profile_.dup_ppm)) {
    ++counters_.duplicated;
    enqueue(now_true_ns, now_true_ns + draw_delay(), d);
  }
  const std::int64_t at = arrival(now_true_ns, link(d));
  enqueue(now_true_ns, at, std::move(d));
}

std::int64_t SimNetwork::arrival(std::int64_t now_true_ns, std::size_t l) {
  const std::int64_t earliest = now_true_ns + profile_.delay_min_ns;
  // Overtaking: arrive before the previous datagram of the link, which is
  // still in flight (its arrival lies beyond the shortest delay from now).
  if (profile_.reorder_ppm > 0 && last_arrival_[l] > earliest && rng_.chance_ppm(profile_.reorder_ppm)) {
    ++counters_.overtook;
    return earliest + static_cast<std::int64_t>(rng_.uniform(static_cast<std::uint64_t>(last_arrival_[l] - 1 - earliest)));
  }
  return now_true_ns + draw_delay();
}

std::int64_t SimNetwork::next_arrival_ns() const {
  return queue_.empty() ? INT64_MAX : queue_.begin()->first.first;
}

std::set<std::string> SimNetwork::lease_traffic_of(core::MemberId m) const {
  std::set<std::string> names;
  for (const auto& [key, d] : queue_) {
    for (const core::Message& msg : d.msgs) {
      if (d.from == m) {
        if (const auto* r = std::get_if<core::Request>(&msg)) names.insert(r->resource.str());
        if (const auto* r = std::get_if<core::Renew>(&msg)) names.insert(r->resource.str());
      } else if (d.to == m) {
        if (const auto* g = std::get_if<core::Grant>(&msg)) names.insert(g->resource.str());
        if (const auto* a = std::get_if<core::RenewAck>(&msg); a && a->ok) names.insert(a->resource.str());
      }
    }
  }
  return names;
}

std::optional<Datagram> SimNetwork::pop_due(std::int64_t now_true_ns) {
  while (!queue_.empty() && queue_.begin()->first.first <= now_true_ns) {
    auto node = queue_.extract(queue_.begin());
    Datagram d = std::move(node.mapped());
    --link_load_[link(d)];
    // A partition that began while the datagram was in flight drops it too.
    if (blocked_[link(d)] > 0) {
      ++counters_.blocked;
      continue;
    }
    ++counters_.delivered;
    return d;
  }
  return std::nullopt;
}

}  // namespace baton::sim
