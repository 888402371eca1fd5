// SPDX-License-Identifier: Apache-2.0
#include "workload.hpp"

#include <algorithm>

#include "core/assert.hpp"

namespace baton::sim {

namespace {
constexpr std::int64_t ms_ns = 1'000'000;
}

Workload::Workload(const WorkloadConfig& c, core::Rng& rng) : cfg_(c), rng_(rng) {
  for (std::uint32_t m = 0; m < cfg_.members; ++m) {
    for (std::uint32_t i = 0; i < cfg_.clients_per_member; ++i) {
      Client cl;
      cl.member = m;
      cl.next_ns = uniform_ns(0, 50 * ms_ns);
      // Some clients mostly contend on hot names, some mostly roam many names.
      cl.hot_share = static_cast<std::uint32_t>(rng_.uniform(100));
      clients_.push_back(cl);
    }
  }
}

std::int64_t Workload::uniform_ns(std::int64_t lo, std::int64_t hi) {
  BATON_ASSERT(lo <= hi);
  return lo + static_cast<std::int64_t>(rng_.uniform(static_cast<std::uint64_t>(hi - lo)));
}

std::string Workload::pick_resource(const Client& c) {
  if (phase_ == WorkloadPhase::healed) {
    // Contended: a handful of clients on each of two names, plus a few quiet ones.
    if (rng_.uniform(99) < 80) return "hot:" + std::to_string(rng_.uniform(1));
    return "warm:" + std::to_string(rng_.uniform(7));
  }
  const std::uint64_t roll = rng_.uniform(99);
  if (roll < c.hot_share) return "hot:" + std::to_string(rng_.uniform(1));
  if (roll < c.hot_share + (100 - c.hot_share) / 2) return "warm:" + std::to_string(rng_.uniform(7));
  return "cold:" + std::to_string(rng_.uniform(cfg_.cold_resources - 1));
}

std::int64_t Workload::due(const Client& c) const {
  switch (c.state) {
    case State::idle:
      return (phase_ == WorkloadPhase::faulty || phase_ == WorkloadPhase::healed) ? c.next_ns : INT64_MAX;
    case State::acquiring: return c.cancel_ns >= 0 ? c.cancel_ns : INT64_MAX;
    case State::holding: return c.next_renew_ns >= 0 ? std::min(c.next_ns, c.next_renew_ns) : c.next_ns;
  }
  return INT64_MAX;
}

std::int64_t Workload::next_due_ns(const WorkloadHost& host) const {
  std::int64_t t = INT64_MAX;
  for (const Client& c : clients_) {
    if (host.member_runs(c.member)) t = std::min(t, due(c));
  }
  return t;
}

// Varied holds: ttls spread evenly over the doublings from ttl_min to
// ttl_max (log-uniform, in integers): short ttls are as common as long ones,
// so a 50 ms tail delay outlasts a renewal's start as often as it does not.
std::int64_t Workload::draw_ttl_spread() {
  const std::int64_t lo = cfg_.ttl_min.count_ns(), hi = cfg_.ttl_max.count_ns();
  std::uint64_t doublings = 0;
  while ((lo << (doublings + 1)) <= hi) ++doublings;
  const std::int64_t from = lo << rng_.uniform(doublings);
  return uniform_ns(from, std::min(hi, 2 * from));
}

void Workload::start(std::int64_t now, Client& c, WorkloadHost& host) {
  const core::Instant local = host.local_now(c.member);
  core::AcquireArgs args;
  args.resource = core::ResourceName(pick_resource(c));
  std::int64_t ttl_ns = cfg_.varied_holds ? draw_ttl_spread() : uniform_ns(cfg_.ttl_min.count_ns(), cfg_.ttl_max.count_ns());
  c.cancel_ns = -1;
  c.renew_every_ns = 0;
  c.renew_once = false;
  if (phase_ == WorkloadPhase::healed) {
    // Hold far within the validity and always release: any delay to the next
    // grant is then the protocol's, not a lapse waiting for a hold to expire.
    ttl_ns = uniform_ns(healed_ttl_lo_ns_, healed_ttl_hi_ns_);
    args.wait_until = local + core::Duration::s(30);
    c.hold_ns = uniform_ns(0, 20 * ms_ns);
  } else {
    const bool try_only = rng_.uniform(99) < 30;
    const std::int64_t wait_ns = uniform_ns(10 * ms_ns, 3000 * ms_ns);
    args.wait_until = try_only ? local : local + core::Duration::ns(wait_ns);
    if (!try_only && rng_.uniform(99) < 5) c.cancel_ns = now + uniform_ns(0, wait_ns);
    const bool long_hold = cfg_.varied_holds ? rng_.uniform(99) < cfg_.long_hold_pct : rng_.uniform(1) == 1;
    c.hold_ns = long_hold ? uniform_ns(ttl_ns, 3 * ttl_ns) : uniform_ns(0, ttl_ns / 2);
    if (long_hold) choose_renewal(c, args, ttl_ns);
  }
  args.ttl = core::Duration::ns(ttl_ns);
  c.resource = args.resource.str();
  auto r = host.acquire(c.member, args);
  if (!r.ok()) {
    c.state = State::idle;  // overloaded (or rejected): try again later
    c.next_ns = now + uniform_ns(1 * ms_ns, 50 * ms_ns);
    return;
  }
  c.state = State::acquiring;
  c.id = r.value();
}

// How a long hold keeps its lease: auto-renew, explicit renewals every
// ttl/3, (varied holds only) one explicit renewal and then use past the
// first validity, or nothing (it lapses and the holder must be told: lost).
void Workload::choose_renewal(Client& c, core::AcquireArgs& args, std::int64_t ttl_ns) {
  const std::uint64_t how = rng_.uniform(99);
  if (!cfg_.varied_holds) {
    if (how < 40) {
      args.auto_renew = true;
    } else if (how < 70) {
      c.renew_every_ns = ttl_ns / 3;
    }
    return;
  }
  if (how < 30) {
    args.auto_renew = true;
  } else if (how < 50) {
    c.renew_every_ns = ttl_ns / 3;
  } else if (how < 85) {
    c.renew_once = true;
    c.renew_every_ns = uniform_ns(ttl_ns / 4, ttl_ns / 2);
    c.hold_ns = uniform_ns(ttl_ns, ttl_ns * 3 / 2);
  }
}

void Workload::run_due(std::int64_t now, WorkloadHost& host) {
  for (Client& c : clients_) {
    if (!host.member_runs(c.member) || due(c) > now) continue;
    switch (c.state) {
      case State::idle:
        start(now, c, host);
        break;
      case State::acquiring:
        c.cancel_ns = -1;
        host.release(c.member, c.id);  // cancel: acquire_failed(cancelled) follows
        break;
      case State::holding:
        if (c.next_renew_ns >= 0 && c.next_renew_ns <= now && c.next_renew_ns < c.next_ns) {
          c.next_renew_ns = c.renew_once ? -1 : now + c.renew_every_ns;
          host.renew(c.member, c.id);
          break;
        }
        c.state = State::idle;
        c.next_ns = now + uniform_ns(0, (phase_ == WorkloadPhase::healed ? 30 : 100) * ms_ns);
        host.release(c.member, c.id);
        break;
    }
  }
}

void Workload::on_event(std::int64_t now, std::uint32_t member, const core::Event& e) {
  for (Client& c : clients_) {
    if (c.member != member || c.state == State::idle || c.id != e.id) continue;
    switch (e.kind) {
      case core::EventKind::acquired:
        c.state = State::holding;
        c.next_ns = now + c.hold_ns;
        c.next_renew_ns = c.renew_every_ns > 0 ? now + c.renew_every_ns : -1;
        break;
      case core::EventKind::acquire_failed:
      case core::EventKind::lost:
        c.state = State::idle;
        c.next_ns = now + uniform_ns(0, 100 * ms_ns);
        break;
      case core::EventKind::renewed:
      case core::EventKind::renew_failed:
        break;
    }
    return;
  }
}

void Workload::on_crash(std::uint32_t member) {
  for (Client& c : clients_) {
    if (c.member != member) continue;
    c.state = State::idle;
    c.cancel_ns = -1;
    c.next_renew_ns = -1;
  }
}

bool Workload::waiting(std::uint32_t member) const {
  return std::any_of(clients_.begin(), clients_.end(),
                     [member](const Client& c) { return c.member == member && c.state == State::acquiring; });
}

bool Workload::idle() const {
  return std::all_of(clients_.begin(), clients_.end(), [](const Client& c) { return c.state == State::idle; });
}

}  // namespace baton::sim
