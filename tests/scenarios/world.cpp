// SPDX-License-Identifier: Apache-2.0
#include "world.hpp"

#include <stdexcept>

#include "core/invariants.hpp"
#include "core/recovery.hpp"
#include "core/voter.hpp"
#include "format.hpp"

namespace baton::scenario {

using namespace baton::core;

namespace {
__extension__ typedef __int128 i128;
constexpr std::int64_t kPpm = 1'000'000;
constexpr int kFiringsMax = 100000;  // per advance: a loop that never settles is a bug

// Holds at a voter, by resource: what `timer` lines diff to report expiries.
std::map<std::string, Hold> holds_of(const Node& n) {
  std::map<std::string, Hold> out;
  n.voter().table().for_each([&](std::string_view name, const FenceTable::Entry& e) {
    if (e.hold) out.emplace(std::string(name), *e.hold);
  });
  return out;
}
}  // namespace

void World::create(std::size_t n, const NodeConfig& base, bool manual_sync) {
  if (created()) throw std::runtime_error("cluster: already created");
  base_ = base;
  manual_sync_ = manual_sync;
  base_.members.clear();
  for (std::uint32_t i = 1; i <= n; ++i) base_.members.push_back(MemberId{i});
  for (std::uint32_t i = 1; i <= n; ++i) {
    Member& m = members_[MemberId{i}];
    m.id = MemberId{i};
    m.local_anchor = kClockStart;
  }
}

Member& World::member(MemberId id) {
  auto it = members_.find(id);
  if (it == members_.end()) throw std::runtime_error("no member " + fmt_member(id));
  return it->second;
}

Node& World::node(MemberId id) {
  Member& m = member(id);
  if (!m.node) throw std::runtime_error(fmt_member(id) + " is down");
  return *m.node;
}

std::vector<MemberId> World::ids() const {
  std::vector<MemberId> out;
  for (const auto& [id, m] : members_) out.push_back(id);
  return out;
}

// ---- time ---------------------------------------------------------------------

Instant World::local_now(const Member& m) const {
  const i128 elapsed = static_cast<i128>(true_now_ - m.true_anchor) * m.rate_ppm / kPpm;
  return m.local_anchor + Duration::ns(static_cast<std::int64_t>(elapsed));
}

std::string World::local_offset(const Member&, Instant t) const { return fmt_offset(t - kClockStart); }

std::string World::when(const Member& m) const {
  std::string s = fmt_offset(Duration::ns(true_now_)) + " " + fmt_member(m.id);
  const Duration local = local_now(m) - kClockStart;
  if (local != Duration::ns(true_now_)) s += " (local " + fmt_offset(local) + ")";
  return s;
}

void World::set_rate(Member& m, std::int64_t rate_ppm) {
  m.local_anchor = local_now(m);
  m.true_anchor = true_now_;
  m.rate_ppm = rate_ppm;
}

void World::advance_all(Duration d, std::string& out) {
  if (d < Duration::zero()) throw std::runtime_error("advance: negative duration");
  const std::int64_t end = true_now_ + d.count_ns();
  for (int i = 0; i < kFiringsMax; ++i) {
    // The true instant of the earliest deadline of a running member.
    std::int64_t next = end;
    for (auto& [id, m] : members_) {
      if (!m.node || m.paused) continue;
      const Instant dl = m.node->next_deadline();
      if (dl.is_max()) continue;
      const i128 local_wait = static_cast<i128>((dl - m.local_anchor).count_ns());
      std::int64_t t = m.true_anchor;
      if (local_wait > 0) t += static_cast<std::int64_t>((local_wait * kPpm + m.rate_ppm - 1) / m.rate_ppm);
      next = std::min(next, std::max(t, true_now_));
    }
    true_now_ = next;
    const std::size_t before = out.size();
    fire_due(out);
    if (out.size() == before && true_now_ == end) return;
  }
  throw std::runtime_error("advance: deadlines never settle");
}

void World::advance_member(Member& m, Duration d, std::string& out) {
  if (d < Duration::zero()) throw std::runtime_error("advance: negative duration");
  m.local_anchor = local_now(m) + d;
  m.true_anchor = true_now_;
  if (m.node && !m.paused && m.node->next_deadline() <= local_now(m)) fire_member(m, out);
}

void World::fire_due(std::string& out) {
  for (auto& [id, m] : members_) {
    if (!m.node || m.paused) continue;
    if (m.node->next_deadline() <= local_now(m)) fire_member(m, out);
  }
  (void)check_all();  // records a guarantee violation seen at this instant
}

void World::fire_member(Member& m, std::string& out) {
  Node& n = *m.node;
  const Instant now = local_now(m);
  const auto holds_before = holds_of(n);
  const bool ready_before = n.recovery().ready();
  const bool floor_before = n.recovery().floor_known();
  n.on_deadline(now);
  out += when(m) + ": timer\n";
  const auto holds_after = holds_of(n);
  for (const auto& [name, hold] : holds_before) {
    auto it = holds_after.find(name);
    if (it != holds_after.end() && it->second.lease == hold.lease) continue;
    // A hold ends by running out, or by a RELEASE from this member's own acquirer.
    out += "  hold " + name + " lease=" + fmt_lease(hold.lease) + (hold.expiry <= now ? " expired\n" : " released\n");
  }
  if (!floor_before && n.recovery().floor_known())
    out += "  floor learned: " + std::to_string(n.recovery().floor().value) + "\n";
  if (!ready_before && n.recovery().ready()) out += "  quarantine over: voting\n";
  collect(m, &out, "  queued: ");
}

// ---- members --------------------------------------------------------------------

void World::start(Member& m, RecoveryMode mode, std::string& out) {
  NodeConfig c = base_;
  c.self = m.id;
  c.incarnation = Incarnation{++m.incarnation};
  c.recovery = mode;
  if (mode == RecoveryMode::reservation) {
    c.persist = true;
    c.recovered_reservation = m.synced.value_or(Token{});
  }
  // Fixed seeds: the same script always produces the same trace.
  auto n = Node::create(c, 1000 * std::uint64_t{m.id.value} + m.incarnation, local_now(m));
  if (!n.ok()) throw std::runtime_error("Node::create: " + std::string(n.what()));
  m.node = std::move(*n);
  // The acquirer's transitions print with the messages of the step that made
  // them ("n3 #1 seat:14A: backoff → attempting (hand-off)").
  m.node->set_tracer([&m](const Transition& t) {
    std::string line = fmt_member(m.id) + " #" + std::to_string(t.id.value) + " " + std::string(t.resource) + ": " +
                       t.from + " → " + t.to;
    if (*t.detail) line += std::string(" (") + t.detail + ")";
    m.transitions.push_back(std::move(line));
  });
  m.paused = false;
  m.sync_pending.reset();
  m.last_acquire = AcquireId{0};
  collect(m, &out);
}

void World::crash(Member& m) {
  m.node.reset();
  m.transitions.clear();
  m.paused = false;
  // A write in progress never completed: the previous reservation stays.
  m.sync_pending.reset();
}

void World::collect(Member& m, std::string* out, const std::string& prefix, bool show_messages) {
  if (!m.node) return;
  Outbox box;
  m.node->take_outbox(box);
  for (std::string& t : m.transitions) {
    if (out) *out += "  " + t + "\n";
  }
  m.transitions.clear();
  for (Outgoing& o : box.messages) {
    InFlight f{.seq = next_seq_++, .sent_at = true_now_, .from = m.id, .to = o.to, .msg = std::move(o.msg)};
    if (out && show_messages) *out += prefix + link(f) + " " + fmt_message(f.msg) + "\n";
    queue_.push_back(std::move(f));
  }
  for (const Event& e : box.events) record_event(m, e);
  if (box.persist) {
    m.sync_pending = *box.persist;
    if (out) *out += "  " + fmt_member(m.id) + ": persist reservation=" + std::to_string(box.persist->value) + "\n";
    if (!manual_sync_) {
      std::string ignored;
      sync(m, out ? *out : ignored);
    }
  }
}

void World::sync(Member& m, std::string& out) {
  if (!m.node || !m.sync_pending) throw std::runtime_error("sync: nothing to sync at " + fmt_member(m.id));
  const Token t = *m.sync_pending;
  m.sync_pending.reset();
  m.synced = t;
  out += "  " + fmt_member(m.id) + ": synced reservation=" + std::to_string(t.value) + "\n";
  m.node->on_persisted(local_now(m), t);
  collect(m, &out, "  queued: ");
}

void World::record_event(Member& m, const Event& e) {
  std::string s = fmt_offset(Duration::ns(true_now_)) + " " + fmt_member(m.id) + ": " +
                  std::string(event_kind_name(e.kind)) + " #" + std::to_string(e.id.value) + " " + e.resource.str();
  switch (e.kind) {
    case EventKind::acquired:
    case EventKind::renewed:
      s += " token=" + std::to_string(e.token.value) + " valid_until=" + local_offset(m, e.validity_end);
      break;
    case EventKind::acquire_failed:
    case EventKind::renew_failed:
      s += " " + std::string(errc_name(e.error));
      break;
    case EventKind::lost:
      s += " " + std::string(lost_reason_name(e.lost_reason)) + " token=" + std::to_string(e.token.value);
      break;
  }
  m.events.emplace_back(true_now_, s);
  if (e.kind == EventKind::acquired) {
    // Guarantee 2: each acquisition of a resource carries a higher token.
    Token& last = last_token_[e.resource.str()];
    if (e.token <= last && guarantee_violation_.empty()) {
      guarantee_violation_ = "Guarantee 2: " + fmt_member(m.id) + " acquired " + e.resource.str() + " with token " +
                             std::to_string(e.token.value) + " after token " + std::to_string(last.value);
    }
    last = std::max(last, e.token);
  }
}

// ---- network --------------------------------------------------------------------

std::string World::link(const InFlight& f) const { return fmt_member(f.from) + "->" + fmt_member(f.to); }

bool World::cut(MemberId a, MemberId b) const {
  if (sides_.empty()) return false;
  auto side = [&](MemberId m) {
    for (std::size_t i = 0; i < sides_.size(); ++i)
      if (sides_[i].count(m)) return static_cast<int>(i);
    return -1;  // not named: cut off from everyone
  };
  return side(a) != side(b) || side(a) < 0;
}

void World::deliver(const InFlight& f, std::string& out) {
  out += link(f) + " " + fmt_message(f.msg);
  Member& to = member(f.to);
  if (cut(f.from, f.to)) {
    out += "  (dropped: partition)\n";
    return;
  }
  if (!to.node) {
    out += "  (dropped: " + fmt_member(f.to) + " down)\n";
    return;
  }
  out += "\n";
  to.node->on_message(local_now(to), f.from, f.msg);
  // Answers are not printed here (they show when delivered); syncs are.
  collect(to, &out, "", false);
}

// ---- checks --------------------------------------------------------------------

std::string World::check_all() {
  std::string bad;
  std::map<std::string, std::string> believer;  // resource -> "n1 #1"
  for (auto& [id, m] : members_) {
    if (!m.node) continue;
    const std::string v = check_invariants(*m.node);
    if (!v.empty() && bad.empty()) bad = fmt_member(id) + ": " + v;
    const Instant now = local_now(m);
    for (std::uint64_t a = 1; a <= m.last_acquire.value; ++a) {
      auto info = m.node->lease(AcquireId{a});
      if (!info || info->state != LeaseInfo::State::held || now >= info->validity_end) continue;
      const std::string who = fmt_member(id) + " #" + std::to_string(a);
      auto [it, fresh] = believer.emplace(info->resource.str(), who);
      const std::string key = "G1 " + info->resource.str() + " " + it->second + " " + who;
      if (!fresh && guarantee_violation_.empty() && !reported_.count(key)) {
        violation_key_ = key;
        guarantee_violation_ = "Guarantee 1: " + it->second + " and " + who + " both believe " + info->resource.str() +
                               " valid at " + fmt_offset(Duration::ns(true_now_));
      }
    }
  }
  if (bad.empty()) bad = guarantee_violation_;
  return bad;
}

std::string World::take_violation() {
  std::string v = check_all();
  if (!guarantee_violation_.empty()) reported_.insert(violation_key_);
  guarantee_violation_.clear();
  violation_key_.clear();
  return v;
}

}  // namespace baton::scenario
