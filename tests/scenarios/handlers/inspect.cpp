// SPDX-License-Identifier: Apache-2.0
// events, state, check: what the members saw and what they hold.
#include <algorithm>

#include "core/acquirer.hpp"
#include "core/invariants.hpp"
#include "core/recovery.hpp"
#include "core/voter.hpp"
#include "format.hpp"
#include "handlers/handlers.hpp"

namespace baton::scenario {

using namespace baton::core;

namespace {
std::vector<MemberId> members_arg(World& w, const Cmd& c) {
  if (c.pos.empty()) return w.ids();
  std::vector<MemberId> out;
  for (std::size_t i = 0; i < c.pos.size(); ++i) out.push_back(member_arg(c, i));
  return out;
}

std::string voter_state(World& w, Member& m) {
  const Node& n = *m.node;
  const Recovery& r = n.recovery();
  const Voter& v = n.voter();
  std::string s = fmt_member(m.id) + ":";
  if (r.ready()) {
    s += " voting";
  } else {
    s += " quarantined";
    if (!r.quarantine_over()) s += " until=" + w.local_offset(m, r.quarantine_end());
    if (!r.floor_known())
      s += " floor_unknown answers=" + std::to_string(r.answers()) + "/" + std::to_string(r.answers_needed());
  }
  s += " floor=" + std::to_string(v.table().floor().value);
  if (n.config().persist) s += " reservation=" + std::to_string(v.reservation().value);
  if (v.persist_pending()) s += " persisting=" + std::to_string(v.persist_pending()->value);
  if (v.parked()) s += " parked=" + std::to_string(v.parked());
  s += " hint=" + std::to_string(n.acquirer().hint().value) + "\n";
  const Instant now = w.local_now(m);
  v.table().for_each_by_name([&](std::string_view name, const FenceTable::Entry& e) {
    s += "  " + std::string(name) + " fence=" + std::to_string(e.fence.value);
    if (e.hold) {
      s += " hold=" + fmt_lease(e.hold->lease) + " token=" + std::to_string(e.hold->token.value) + " holder=" +
           fmt_member(e.hold->holder) + " left=" + fmt_duration(e.hold->expiry - now);
    }
    if (!e.waiters.empty()) {
      s += " waiters=";
      bool first = true;
      for (MemberId id : w.ids()) {
        if (!e.waiters.contains(id)) continue;
        s += (first ? "" : ",") + fmt_member(id);
        first = false;
      }
    }
    s += "\n";
  });
  return s;
}

std::string acquirer_state(World& w, Member& m) {
  std::string s;
  for (std::uint64_t a = 1; a <= m.last_acquire.value; ++a) {
    auto info = m.node->lease(AcquireId{a});
    if (!info) continue;
    s += "  #" + std::to_string(a) + " " + info->resource.str();
    if (info->state == LeaseInfo::State::held) {
      s += " held token=" + std::to_string(info->token.value) + " valid_until=" + w.local_offset(m, info->validity_end);
      if (w.local_now(m) >= info->validity_end) s += " (past validity)";
      const std::string phase = m.node->describe(AcquireId{a});  // "held support=yy_ ..."
      s += phase.substr(phase.find(' '));
    } else {
      s += " " + m.node->describe(AcquireId{a});
    }
    if (info->auto_renew) s += " auto_renew";
    s += "\n";
  }
  return s;
}
}  // namespace

std::string cmd_events(World& w, const Cmd& c) {
  // In the order they happened (true time), then by member.
  std::vector<std::pair<std::int64_t, std::string>> lines;
  for (MemberId id : members_arg(w, c)) {
    Member& m = w.member(id);
    for (; m.events_printed < m.events.size(); ++m.events_printed) lines.push_back(m.events[m.events_printed]);
  }
  std::stable_sort(lines.begin(), lines.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (const auto& [t, line] : lines) out += line + "\n";
  return out.empty() ? "no events" : out;
}

std::string cmd_state(World& w, const Cmd& c) {
  std::string out;
  for (MemberId id : members_arg(w, c)) {
    Member& m = w.member(id);
    if (!m.node) {
      out += fmt_member(id) + ": down\n";
      continue;
    }
    out += voter_state(w, m) + acquirer_state(w, m);
  }
  return out;
}

// check: every invariant and Guarantees 1-2, now. Prints (and clears) a
// guarantee violation seen since the last check.
std::string cmd_check(World& w, const Cmd&) {
  const std::string bad = w.take_violation();
  return bad.empty() ? "ok" : "violation: " + bad;
}

// expect-violation: this script breaks an assumption on purpose; its own
// `check` commands report the violations instead of failing the test.
std::string cmd_expect_violation(World& w, const Cmd&) {
  w.violation_expected = true;
  return "violations expected: reported by check";
}

}  // namespace baton::scenario
