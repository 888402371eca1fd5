// SPDX-License-Identifier: Apache-2.0
#include "core/invariants.hpp"

#include <algorithm>

#include "core/acquirer.hpp"
#include "core/node.hpp"
#include "core/reconfigure.hpp"
#include "core/recovery.hpp"
#include "core/voter.hpp"

namespace baton::core {

std::string check_invariants(const Node& node) {
  const NodeConfig& c = node.config();
  const Voter& v = node.voter();
  const FenceTable& t = v.table();
  std::string bad;
  auto fail = [&](std::string what) {
    if (bad.empty()) bad = std::move(what);
  };
  std::size_t live = 0, waiters = 0;
  t.for_each([&](std::string_view name, const FenceTable::Entry& e) {
    if (e.fence < t.base()) fail("fence below the recovered floor: " + std::string(name));
    if (e.hold) {
      ++live;
      if (e.hold->token > e.fence) fail("live lease token above fence: " + std::string(name));
    }
    if (e.granted > e.fence) fail("granted token above fence: " + std::string(name));
    if (e.waiters.size() > c.limits.waiters_per_resource) fail("waiters over limit: " + std::string(name));
    waiters += e.waiters.size();
    // (A join floor raises fences above the reservation: the persisted
    // configuration record holds it. A re-granted RENEW (V4) may give a
    // resource without an entry one at the floor learned from peers.)
    if (c.persist && e.fence > std::max({v.reservation(), v.cfg().join_floor, t.base()}))
      fail("fence above the synced reservation: " + std::string(name));
  });
  if (live != t.live()) fail("live-lease index out of step");
  if (!t.heap_consistent()) fail("expiry heap out of step with the holds");
  if (waiters != t.waiters()) fail("waiter count out of step");
  if (!t.client_refs_consistent()) fail("client hold and waiter counts out of step");
  if (t.live() > c.limits.leases_per_voter) fail("live leases over limit");
  if (t.waiters() > c.limits.waiters_per_voter) fail("waiters over voter limit");
  if (t.entries() > t.live() + t.waiters() + c.limits.idle_fences) fail("fence entries over bound (Guarantee 4)");
  if (!v.ready() && t.live() > 0) fail("quarantined voter holds a lease it granted");
  if (v.ready() && !node.recovery().ready()) fail("voter ready before recovery");
  if (v.parked() > c.limits.pending_persist) fail("parked requests over limit");
  if (node.acquirer().in_flight() > c.limits.acquires_in_flight) fail("acquires over limit");
  if (node.acquirer().hint() < t.floor()) fail("token hint below own floor");
  if (std::string q = node.acquirer().check_invariants(); !q.empty()) fail(std::move(q));
  if (std::string q = node.reconfigurer().check_invariants(); !q.empty()) fail(std::move(q));
  // Issue 21: the promise covers the record's ballot (V1), and a member's
  // acquirer knows at least its own voter's record (A1).
  if (!validate_state(v.cfg())) fail("configuration state inconsistent: " + std::string(validate_state(v.cfg()).what()));
  if (!client_mode(c) && node.acquirer().cfg().id < v.cfg().record.id)
    fail("acquirer's configuration older than its voter's");
  if (t.floor() < t.base()) fail("floor below the recovered floor");
  if (t.granted_floor() > t.floor()) fail("granted floor above the floor");
  return bad;
}

}  // namespace baton::core
