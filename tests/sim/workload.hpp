// SPDX-License-Identifier: Apache-2.0
// Workload: the applications that use Baton inside the simulated world.
//
// Clients live on members and loop: pick a resource, acquire it (a try with
// wait_until <= now, or a wait with a deadline), hold it for shorter or longer
// than the ttl (auto-renewing, renewing explicitly, or letting it lapse), then
// release it; sometimes cancel a pending acquire. Some clients share a few hot
// resources (contention), others spread over many names (bounded state).
//
// In the healed phase clients become well-behaved: they wait long, hold well
// within their validity and always release, so that Guarantee 3 can be
// measured: every waiting acquire must complete within the stated bound.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "baton/result.hpp"
#include "core/node.hpp"
#include "core/rng.hpp"

namespace baton::sim {

// What the world offers a client: calls on its member, at the current true time.
class WorkloadHost {
 public:
  virtual ~WorkloadHost() = default;
  // Up and not paused: the application process runs.
  virtual bool member_runs(std::uint32_t member) const = 0;
  virtual core::Instant local_now(std::uint32_t member) = 0;
  virtual Result<core::AcquireId> acquire(std::uint32_t member, const core::AcquireArgs& args) = 0;
  virtual void release(std::uint32_t member, core::AcquireId id) = 0;
  virtual void renew(std::uint32_t member, core::AcquireId id) = 0;
};

enum class WorkloadPhase : std::uint8_t {
  faulty,   // every kind of operation
  settle,   // no new operations: faults are healing, old leases run out
  healed,   // well-behaved operations, Guarantee 3 is measured
  stopped,  // no new operations: the run drains
};

struct WorkloadConfig {
  std::uint32_t members = 5;              // member count
  std::uint32_t clients_per_member = 2;   // clients on each member
  core::Duration ttl_min = core::Duration::ms(20);   // shortest ttl clients ask for
  core::Duration ttl_max = core::Duration::s(1);     // longest ttl clients ask for
  std::uint32_t cold_resources = 1000;    // names in the wide namespace
  // Varied holds (profiles with `vary`): `long_hold_pct` of the faulty
  // phase's holds are long, and a third kind of renewer joins: one explicit
  // renewal, then use the lease past its first validity (one lost RENEW then
  // leaves that voter's hold to run out while the holder believes). Off: half
  // of the holds long, drawn as before profiles.
  bool varied_holds = false;
  std::uint32_t long_hold_pct = 50;
};

class Workload {
 public:
  Workload(const WorkloadConfig& c, core::Rng& rng);

  void set_phase(WorkloadPhase p) { phase_ = p; }
  WorkloadPhase phase() const { return phase_; }
  // The longest ttl clients ask for in the faulty phase (the members' ttl_max).
  void set_ttl_max(core::Duration d) { cfg_.ttl_max = d; }
  void set_varied_holds(std::uint32_t long_hold_pct) {
    cfg_.varied_holds = true;
    cfg_.long_hold_pct = long_hold_pct;
  }
  // Healed-phase ttls are uniform in [lo, hi] (true ns; default 200-800 ms).
  void set_healed_ttl(std::int64_t lo_ns, std::int64_t hi_ns) {
    healed_ttl_lo_ns_ = lo_ns;
    healed_ttl_hi_ns_ = hi_ns;
  }
  // Some client of `member` waits for an acquire to complete.
  bool waiting(std::uint32_t member) const;

  // Earliest true time at which a client of a running member acts.
  std::int64_t next_due_ns(const WorkloadHost& host) const;
  // Runs the actions of clients due at `now`.
  void run_due(std::int64_t now, WorkloadHost& host);
  // An event from member `member`'s outbox.
  void on_event(std::int64_t now, std::uint32_t member, const core::Event& e);
  // The member crashed: its clients' acquires and leases are gone.
  void on_crash(std::uint32_t member);
  // No client holds or waits for anything (the drain is over).
  bool idle() const;

 private:
  enum class State : std::uint8_t { idle, acquiring, holding };
  struct Client {
    std::uint32_t member = 0;      // the member it runs on (0-based)
    State state = State::idle;
    core::AcquireId id;            // acquiring/holding: the acquire
    std::string resource;          // acquiring/holding: its resource
    std::int64_t next_ns = 0;      // idle: next acquire; holding: release (true ns)
    std::int64_t cancel_ns = -1;   // acquiring: cancel then (true ns), -1 never
    std::int64_t hold_ns = 0;      // how long to hold once acquired (true ns)
    std::int64_t renew_every_ns = 0;  // explicit renewals: period (true ns), 0 none
    std::int64_t next_renew_ns = -1;  // holding: next explicit renew (true ns), -1 none
    bool renew_once = false;       // the explicit renewal happens once, not every renew_every_ns
    std::uint32_t hot_share = 50;  // percent of operations on the hot resources
  };

  void start(std::int64_t now, Client& c, WorkloadHost& host);
  void choose_renewal(Client& c, core::AcquireArgs& args, std::int64_t ttl_ns);
  std::int64_t draw_ttl_spread();
  std::string pick_resource(const Client& c);
  std::int64_t due(const Client& c) const;
  std::int64_t uniform_ns(std::int64_t lo, std::int64_t hi);

  WorkloadConfig cfg_;
  core::Rng& rng_;
  WorkloadPhase phase_ = WorkloadPhase::faulty;
  std::int64_t healed_ttl_lo_ns_ = 200'000'000;  // healed-phase ttls, lower end (true ns)
  std::int64_t healed_ttl_hi_ns_ = 800'000'000;  // ... upper end
  std::vector<Client> clients_;
};

}  // namespace baton::sim
