// SPDX-License-Identifier: Apache-2.0
#include "checker.hpp"

#include <algorithm>
#include <sstream>

#include "core/assert.hpp"

namespace baton::sim {

namespace {
std::string ms(std::int64_t ns) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(6);
  o << static_cast<double>(ns) / 1e6 << "ms";
  return o.str();
}
}  // namespace

std::string to_string(const LeaseKey& k) {
  return "n" + std::to_string(k.member + 1) + "/life" + std::to_string(k.life) + "/acq" + std::to_string(k.id.value);
}

void Checker::report(std::int64_t now, int guarantee, std::string what) {
  if (violation_) return;  // the first violation is the one to replay
  violation_ = Violation{guarantee, std::move(what), now};
}

// ---- acquires and beliefs ----------------------------------------------------

void Checker::on_acquire_call(std::int64_t now, const LeaseKey& k, const std::string& resource,
                              std::int64_t wait_until_true_ns, bool waiting) {
  ++figures_.acquires;
  if (!waiting) return;
  resources_[resource].waiting[k] = Waiter{now, wait_until_true_ns};
  waiting_on_[k] = resource;
  if (live(now)) live_waiters_.insert(k);
  update_demand(now, resource);
}

void Checker::on_event(std::int64_t now, const LeaseKey& k, const core::Event& e, SimClock& clock) {
  const std::string& name = e.resource.str();
  auto& r = resources_[name];
  const bool was_waiting = r.waiting.erase(k) > 0;
  waiting_on_.erase(k);
  switch (e.kind) {
    case core::EventKind::acquired: {
      ++figures_.granted;
      live_waiters_.erase(k);
      if (r.demand_since >= 0) {
        figures_.free_grant_ns.push_back(now - r.demand_since);
        if (r.demand_after_release) {
          ++figures_.handoffs;
          figures_.handoff_ns.push_back(now - r.demand_since);
        }
      }
      start_belief(now, k, e, clock.true_at(e.validity_end));
      break;
    }
    case core::EventKind::renewed: {
      const std::int64_t end = clock.true_at(e.validity_end);
      auto it = beliefs_.find(k);
      if (it == beliefs_.end()) {
        // The holder's validity had already run out, yet it now believes
        // again: check it like a fresh grant (same token, so no Guarantee 2 step).
        ++figures_.renewed_after_end;
        start_belief(now, k, e, end);
      } else {
        it->second.end_true_ns = end;
        if (end <= now) end_belief(now, k, true);
      }
      break;
    }
    case core::EventKind::lost:
      ++(e.lost_reason == core::LostReason::superseded ? figures_.lost_superseded : figures_.lost_other);
      if (beliefs_.count(k)) end_belief(now, k, true);
      break;
    case core::EventKind::acquire_failed:
      // A waiting acquire of the live window must not fail: it waits far longer
      // than the bound, so failing means the resource never came its way.
      if (was_waiting && live_waiters_.count(k) && e.error != Errc::cancelled) {
        report(now, 3, "waiting acquire " + to_string(k) + " on " + name + " failed: " +
                           std::string(errc_name(e.error)));
      }
      live_waiters_.erase(k);
      break;
    case core::EventKind::renew_failed:
      break;
  }
  update_demand(now, name);
}

void Checker::start_belief(std::int64_t now, const LeaseKey& k, const core::Event& e, std::int64_t end_true_ns) {
  const std::string& name = e.resource.str();
  if (end_true_ns <= now) {
    ++figures_.empty_grants;  // validity over before it began: the holder never believes
    return;
  }
  auto& r = resources_[name];
  // Guarantee 1 (mutual exclusion): nobody else may still believe now.
  for (const LeaseKey& other : r.open) {
    const Belief& b = beliefs_.at(other);
    if (other != k && b.end_true_ns > now) {
      report(now, 1, "overlap on " + name + ": " + to_string(k) + " (token " + std::to_string(e.token.value) +
                         ") acquired at " + ms(now) + " while " + to_string(other) + " (token " +
                         std::to_string(b.token.value) + ", believing since " + ms(b.start_true_ns) +
                         ") believes until " + ms(b.end_true_ns));
    }
  }
  // Guarantee 2 (fencing): tokens increase in the order of the beliefs.
  const bool same_lease = r.max_holder && *r.max_holder == k;
  if (!same_lease && r.max_holder && e.token <= r.max_token) {
    report(now, 2, "token order on " + name + ": " + to_string(k) + " got token " + std::to_string(e.token.value) +
                       " after " + to_string(*r.max_holder) + " held token " + std::to_string(r.max_token.value));
  }
  if (!r.max_holder || e.token > r.max_token) {
    r.max_token = e.token;
    r.max_holder = k;
  }
  beliefs_[k] = Belief{name, e.token, now, end_true_ns, false};
  r.open.insert(k);
  write(now, k, name, e.token, true);
}

void Checker::end_belief(std::int64_t now, const LeaseKey& k, bool write_last) {
  auto it = beliefs_.find(k);
  BATON_ASSERT(it != beliefs_.end());
  const Belief b = it->second;
  beliefs_.erase(it);
  // The last write happens as late as the holder believes; a paused holder
  // cannot write now and owes a stale write at resume instead.
  if (write_last && !b.paused) write(now, k, b.resource, b.token, true);
  resources_[b.resource].open.erase(k);
  update_demand(now, b.resource);
  auto& r = resources_[b.resource];
  if (r.demand_since == now) r.demand_after_release = true;
}

void Checker::on_release_call(std::int64_t now, const LeaseKey& k) {
  if (beliefs_.count(k)) {
    end_belief(now, k, true);
    return;
  }
  // Cancelling a pending acquire.
  auto it = waiting_on_.find(k);
  if (it == waiting_on_.end()) return;
  const std::string name = it->second;
  waiting_on_.erase(it);
  resources_[name].waiting.erase(k);
  live_waiters_.erase(k);
  update_demand(now, name);
}

void Checker::on_crash(std::int64_t now, std::uint32_t member, const std::set<std::string>& in_flight) {
  note_member_fault(now, member, "crashed", in_flight);
  paused_.erase(member);  // a paused member may crash: it never resumes
  std::vector<LeaseKey> gone;
  for (const auto& [k, b] : beliefs_) {
    if (k.member == member) gone.push_back(k);
  }
  for (const auto& k : gone) end_belief(now, k, false);  // a dead process writes nothing
  paused_writes_.erase(member);
  for (auto& [name, r] : resources_) {
    bool changed = false;
    for (auto it = r.waiting.begin(); it != r.waiting.end();) {
      if (it->first.member == member) {
        live_waiters_.erase(it->first);
        waiting_on_.erase(it->first);
        it = r.waiting.erase(it);
        changed = true;
      } else {
        ++it;
      }
    }
    if (changed) update_demand(now, name);
  }
}

void Checker::on_pause(std::int64_t now, std::uint32_t member) {
  note_member_fault(now, member, "paused");
  auto& owed = paused_writes_[member];
  for (auto& [k, b] : beliefs_) {
    if (k.member != member) continue;
    b.paused = true;
    owed.push_back(PausedWrite{k, b.resource, b.token});
  }
  // A paused application cannot take a grant: its waits are no demand.
  paused_.insert(member);
  for (const std::string& name : waited_by(member)) update_demand(now, name);
}

void Checker::on_resume(std::int64_t now, std::uint32_t member) {
  paused_.erase(member);
  for (const std::string& name : waited_by(member)) update_demand(now, name);
  auto node = paused_writes_.extract(member);
  for (auto& [k, b] : beliefs_) {
    if (k.member == member) b.paused = false;
  }
  if (node.empty()) return;
  // Right after it resumes, a holder that was paused writes once more, as an
  // application that does not look at the clock would.
  for (const PausedWrite& w : node.mapped()) {
    const bool believes = beliefs_.count(w.key) > 0;
    write(now, w.key, w.resource, w.token, believes);
  }
}

void Checker::write(std::int64_t now, const LeaseKey& k, const std::string& name, core::Token token, bool believes) {
  auto& r = resources_[name];
  const bool first = !r.reg_writer;
  if (first || token > r.reg_highest || (token == r.reg_highest && *r.reg_writer == k)) {
    r.reg_highest = token;
    r.reg_writer = k;
    if (believes) {
      ++figures_.writes_accepted;
    } else {
      ++figures_.stale_accepted;
    }
    return;
  }
  if (token == r.reg_highest) {
    // A register that accepts token >= highest lets both leases write.
    report(now, 2, "register on " + name + ": " + to_string(k) + " and " + to_string(*r.reg_writer) +
                       " both wrote with token " + std::to_string(token.value));
    return;
  }
  if (believes) {
    report(now, 2, "register on " + name + " rejected holder " + to_string(k) + " (token " +
                       std::to_string(token.value) + ", still believing) because " + to_string(*r.reg_writer) +
                       " already wrote token " + std::to_string(r.reg_highest.value));
    return;
  }
  ++figures_.stale_rejected;
}

// ---- bounded state -----------------------------------------------------------

void Checker::check_status(std::int64_t now, std::uint32_t member, const core::NodeStatus& s,
                           const core::NodeLimits& l) {
  const std::string who = "n" + std::to_string(member + 1);
  if (s.live_leases > l.leases_per_voter) {
    report(now, 4, who + " live_leases " + std::to_string(s.live_leases) + " > " + std::to_string(l.leases_per_voter));
  }
  if (s.waiters > l.waiters_per_voter) {
    report(now, 4, who + " waiters " + std::to_string(s.waiters) + " > " + std::to_string(l.waiters_per_voter));
  }
  if (s.in_flight > l.acquires_in_flight) {
    report(now, 4, who + " in_flight " + std::to_string(s.in_flight) + " > " + std::to_string(l.acquires_in_flight));
  }
  // Fence entries may cover live leases, resources with waiters, and a bounded
  // number of idle ones: never one per name ever used.
  std::uint64_t idle_max = 0;
  if constexpr (requires { l.idle_fences; }) idle_max = l.idle_fences;
  const std::uint64_t entries_max = s.live_leases + s.waiters + idle_max;
  if (s.fence_entries > entries_max) {
    report(now, 4, who + " fence_entries " + std::to_string(s.fence_entries) + " > live " +
                       std::to_string(s.live_leases) + " + waiters " + std::to_string(s.waiters) + " + idle " +
                       std::to_string(idle_max));
  }
}

// ---- liveness ----------------------------------------------------------------

void Checker::start_liveness(std::int64_t t) {
  live_from_ = t;
  for (const auto& [name, r] : resources_) {
    (void)r;
    update_demand(t, name);
  }
}

std::vector<std::string> Checker::waited_by(std::uint32_t member) const {
  std::vector<std::string> names;
  for (const auto& [k, name] : waiting_on_) {
    if (k.member == member) names.push_back(name);
  }
  return names;
}

void Checker::note_member_fault(std::int64_t now, std::uint32_t member, const char* what,
                                const std::set<std::string>& in_flight) {
  if (!live(now)) return;
  std::set<std::string> excused;
  const auto excuse = [&](const std::string& name, const LeaseKey& k, const char* doing) {
    excused.insert(name);
    resources_[name].excuses.push_back(
        {.why = "n" + std::to_string(member + 1) + " " + what + " while " + doing + " (" + to_string(k) + " at " +
                ms(now) + ")",
         .at = now});
  };
  for (const auto& [k, b] : beliefs_) {
    if (k.member == member) excuse(b.resource, k, "holding");
  }
  for (const auto& [k, name] : waiting_on_) {
    if (k.member == member) excuse(name, k, "waiting");
  }
  // Once per resource: a resource it held or waited for has its allowance.
  for (const std::string& name : in_flight) {
    if (excused.count(name)) continue;
    resources_[name].excuses.push_back(
        {.why = "n" + std::to_string(member + 1) + " " + what + " with lease traffic for " + name + " in flight (at " +
                ms(now) + ")",
         .at = now});
  }
}

void Checker::update_demand(std::int64_t now, const std::string& name) {
  auto& r = resources_[name];
  bool wanted = false;
  for (const auto& [k, w] : r.waiting) {
    if (paused_.count(k.member)) continue;
    if (w.wait_until_true_ns > now + cfg_.liveness_bound_ns) wanted = true;
  }
  const bool demand = live(now) && r.open.empty() && wanted;
  if (!demand) {
    r.demand_since = -1;
    r.demand_after_release = false;
    r.extension_ns = 0;
    r.extended_for.clear();
    demanding_.erase(name);
    return;
  }
  if (r.demand_since < 0) {
    r.demand_since = now;
    demanding_.insert(name);
  }
}

std::int64_t Checker::next_due_ns() const {
  std::int64_t due = INT64_MAX;
  for (const auto& [k, b] : beliefs_) due = std::min(due, b.end_true_ns);
  for (const std::string& name : demanding_) {
    const Resource& r = resources_.at(name);
    due = std::min(due, r.demand_since + cfg_.liveness_bound_ns + r.extension_ns + 1);
  }
  return due;
}

void Checker::run_due(std::int64_t now) {
  // Beliefs whose holder's clock reached validity_end: the last write happened
  // just before (the holder believes strictly before validity_end).
  std::vector<LeaseKey> ended;
  for (const auto& [k, b] : beliefs_) {
    if (b.end_true_ns <= now) ended.push_back(k);
  }
  for (const auto& k : ended) end_belief(now, k, true);
  if (live_from_ < 0) return;
  for (const std::string& name : demanding_) {
    Resource& r = resources_.at(name);
    if (now <= r.demand_since + cfg_.liveness_bound_ns + r.extension_ns) continue;
    // Faults whose effect is over before this demand began excuse nothing.
    std::erase_if(r.excuses, [&](const Resource::Excuse& e) {
      return e.at + member_fault_allowance_ns_ < r.demand_since;
    });
    auto ex = std::find_if(r.excuses.begin(), r.excuses.end(),
                           [&](const Resource::Excuse& e) { return e.used_by != r.demand_since; });
    if (ex != r.excuses.end()) {
      // A crashed or paused member may hold this resource up for one ttl:
      // once per demand that starts while that may last.
      ex->used_by = r.demand_since;
      const std::string why = ex->why;
      r.extension_ns += member_fault_allowance_ns_;
      r.extended_for += (r.extended_for.empty() ? "" : "; ") + why;
      ++(why.find(" crashed ") != std::string::npos ? figures_.excused_crash : figures_.excused_pause);
      figures_.excused.push_back(name + " free with a waiter since " + ms(r.demand_since) + ", past the bound at " +
                                 ms(now) + ": allowed " + ms(member_fault_allowance_ns_) + " more because " + why);
      continue;
    }
    std::string who;
    for (const auto& [k, w] : r.waiting) who += " " + to_string(k) + " (since " + ms(w.issued_true_ns) + ")";
    report(now, 3, name + " free with a waiting acquire since " + ms(r.demand_since) + ", no grant within " +
                       ms(cfg_.liveness_bound_ns + r.extension_ns) +
                       (r.extended_for.empty() ? "" : " (bound extended once per crashed/paused member: " +
                                                          r.extended_for + ")") +
                       "; waiting:" + who);
  }
}

void Checker::finish(std::int64_t now) {
  for (const LeaseKey& k : live_waiters_) {
    report(now, 3, "waiting acquire " + to_string(k) + " starved: still pending at the end of the healed phase");
    break;
  }
}

}  // namespace baton::sim
