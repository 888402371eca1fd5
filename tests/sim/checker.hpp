// SPDX-License-Identifier: Apache-2.0
// Checker: the four DESIGN guarantees, checked against the simulator's true
// time after every step (STYLE 7, in the spirit of TigerBeetle's state_checker).
//
// Beliefs. A holder believes its lease valid from its `acquired` event until
// the earliest of: its release() call, its `lost` event, its crash, or the
// true instant at which its own clock reaches validity_end (strictly before
// it; each `renewed` event moves that end). A paused holder still believes:
// its clock runs on while it sleeps.
//
// Guarantee 1: beliefs in one resource never overlap in true time.
// Guarantee 2: a new belief's token is above every earlier belief's token on
//   the resource, across restarts. A fenced register (what a database using
//   the token would keep) receives a write at the start of every belief, one
//   at its last instant, and one from every holder that was paused while it
//   held, right after it resumes (what a stale holder would do). The register
//   accepts token >= highest. A rejected write from a holder that still
//   believes, or two leases writing the same token, breaks the guarantee;
//   rejected stale writes are counted (fencing at work).
// Guarantee 3 (in the healed phase, from live_from on): whenever a resource
//   has no believer and some acquire of a running member is waiting for it, a
//   grant follows within liveness_bound; every waiting acquire issued then
//   completes. A member that crashes or pauses in the healed phase while it
//   holds or waits for a resource may keep it from the others for one of its
//   ttls (its request may be granted after it died, or its hold run out on the
//   voters' clocks): each such crash or pause extends one wait on that
//   resource by the member-fault allowance, and says so: once per wait, for
//   every wait that starts within that allowance of the fault (the held-up
//   resource may be wanted, granted and wanted again meanwhile). So does a
//   crash with lease traffic of the member's still in flight (a late copy of
//   a REQUEST it had finished with may be granted after it died: an orphaned
//   hold that nobody gives back, like a crashed holder's).
// Guarantee 4: every member's status gauges stay within its configured limits.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/ids.hpp"
#include "core/outbox.hpp"
#include "core/stats.hpp"
#include "sim_clock.hpp"

namespace baton::sim {

// One acquire of one life of one member: AcquireIds restart with each life.
struct LeaseKey {
  std::uint32_t member = 0;  // member index, 0-based
  std::uint32_t life = 0;    // how many times the member restarted before
  core::AcquireId id;        // the acquire's id in that life
  auto operator<=>(const LeaseKey&) const = default;
};
std::string to_string(const LeaseKey& k);

// The first broken guarantee of a run.
struct Violation {
  int guarantee = 0;           // 1..4; 0 for a per-member invariant
  std::string what;            // what broke, with the numbers
  std::int64_t at_true_ns = 0; // when the checker saw it
};

struct CheckerConfig {
  std::int64_t liveness_bound_ns = 0;  // Guarantee 3 bound (true ns)
  std::int64_t round_trip_ns = 1;      // unit of the liveness figures (true ns)
};

// Liveness and fencing figures of one run.
struct RunFigures {
  std::uint64_t acquires = 0;          // acquire() calls accepted
  std::uint64_t granted = 0;           // acquired events
  std::uint64_t empty_grants = 0;      // acquired with validity already over (never believed)
  std::uint64_t renewed_after_end = 0; // renewed events after the belief had ended
  std::uint64_t lost_superseded = 0;   // lost events: the voters reported another lease
  std::uint64_t lost_other = 0;        // lost events: renewal failing, expired, restarted
  std::uint64_t handoffs = 0;          // live window: grants to a waiter after a release
  std::vector<std::int64_t> handoff_ns;// live window: release -> next grant (true ns)
  std::vector<std::int64_t> free_grant_ns;  // live window: free with a waiter -> grant (true ns)
  std::uint64_t writes_accepted = 0;   // register writes accepted
  std::uint64_t stale_rejected = 0;    // stale writes the register rejected
  std::uint64_t stale_accepted = 0;    // stale writes accepted (no newer holder had written yet)
  // Live window: waits that needed the allowance of a member that crashed
  // or paused while holding or waiting, by case (for the summary).
  std::uint64_t excused_crash = 0;
  std::uint64_t excused_pause = 0;
  std::vector<std::string> excused;    // "hot:0 waited 512.3ms: n3 crashed while waiting (n3/life0/acq7)"
};

class Checker {
 public:
  explicit Checker(const CheckerConfig& c) : cfg_(c) {}
  // The run's Guarantee 3 bound, set once its scenario is drawn.
  void set_liveness_bound(std::int64_t ns) { cfg_.liveness_bound_ns = ns; }
  // How long a crashed or paused member may block a resource it held or
  // waited for (one stretched ttl), set when the healed phase opens.
  void set_member_fault_allowance(std::int64_t ns) { member_fault_allowance_ns_ = ns; }

  // ---- hooks, all at true time `now` ---------------------------------------
  void on_acquire_call(std::int64_t now, const LeaseKey& k, const std::string& resource,
                       std::int64_t wait_until_true_ns, bool waiting);
  // An event from the member's outbox; `clock` is that member's clock.
  void on_event(std::int64_t now, const LeaseKey& k, const core::Event& e, SimClock& clock);
  // The application called release(): it stops using the resource first.
  void on_release_call(std::int64_t now, const LeaseKey& k);
  // `in_flight`: resources of the member's lease traffic still in flight
  // (SimNetwork::lease_traffic_of) or parked at a live voter for a sync: a
  // voter may still grant one to the dead member, and nobody can then give
  // that hold back.
  void on_crash(std::int64_t now, std::uint32_t member, const std::set<std::string>& in_flight = {});
  void on_pause(std::int64_t now, std::uint32_t member);
  void on_resume(std::int64_t now, std::uint32_t member);
  void check_status(std::int64_t now, std::uint32_t member, const core::NodeStatus& s, const core::NodeLimits& l);
  void report(std::int64_t now, int guarantee, std::string what);

  // Guarantee 3 starts to apply at `t` (the healed phase has settled).
  void start_liveness(std::int64_t t);
  // Liveness ends at `t`: waiting acquires still pending then have starved.
  void finish(std::int64_t now);

  // Next true time at which run_due() has work (belief ends, liveness deadlines).
  std::int64_t next_due_ns() const;
  void run_due(std::int64_t now);

  bool failed() const { return violation_.has_value(); }
  const Violation& violation() const { return *violation_; }
  const RunFigures& figures() const { return figures_; }
  // Beliefs open now (for the end of a run's summary).
  std::size_t open_beliefs() const { return beliefs_.size(); }

 private:
  struct Belief {
    std::string resource;          // resource name
    core::Token token;             // the lease's fencing token
    std::int64_t start_true_ns;    // acquired event
    std::int64_t end_true_ns;      // first true instant the holder no longer believes
    bool paused = false;           // the holder is paused (writes wait for resume)
  };
  struct Waiter {
    std::int64_t issued_true_ns;   // acquire() call
    std::int64_t wait_until_true_ns;  // the acquire's deadline, in true time
  };
  struct Resource {
    std::set<LeaseKey> open;               // beliefs open now
    core::Token max_token;                 // highest token of any belief so far (Guarantee 2)
    std::optional<LeaseKey> max_holder;    // whose belief had it
    core::Token reg_highest;               // fenced register: highest accepted token
    std::optional<LeaseKey> reg_writer;    // ... and which lease wrote it
    std::map<LeaseKey, Waiter> waiting;    // waiting acquires pending
    std::int64_t demand_since = -1;        // free with a waiter since (true ns), -1: not
    bool demand_after_release = false;     // that demand began when a belief ended
    // Allowances of members that crashed or paused holding, waiting, or with
    // lease traffic out: each may extend every demand that starts before its
    // effect is over (`at` + the allowance), once per demand.
    struct Excuse {
      std::string why;
      std::int64_t at = 0;             // true ns of the crash or pause
      std::int64_t used_by = -1;       // demand_since of the demand it extended last
    };
    std::vector<Excuse> excuses;
    std::int64_t extension_ns = 0;         // this demand's bound was extended by this much
    std::string extended_for;              // ... because of these excuses
  };
  // A stale write owed by a holder that was paused while it believed.
  struct PausedWrite {
    LeaseKey key;
    std::string resource;
    core::Token token;
  };

  void start_belief(std::int64_t now, const LeaseKey& k, const core::Event& e, std::int64_t end_true_ns);
  void end_belief(std::int64_t now, const LeaseKey& k, bool write);
  void write(std::int64_t now, const LeaseKey& k, const std::string& resource, core::Token token, bool believes);
  void update_demand(std::int64_t now, const std::string& resource);
  // Live window: `member` crashed or paused; each resource it held or waited
  // for gets one allowance. `what` is "crashed" or "paused".
  void note_member_fault(std::int64_t now, std::uint32_t member, const char* what,
                         const std::set<std::string>& in_flight = {});
  // Resources with a waiting acquire of `member`.
  std::vector<std::string> waited_by(std::uint32_t member) const;
  bool live(std::int64_t now) const { return live_from_ >= 0 && now >= live_from_; }

  CheckerConfig cfg_;
  std::map<LeaseKey, Belief> beliefs_;          // open beliefs
  std::map<std::string, Resource> resources_;   // every resource seen (test-side state, unbounded by design)
  std::map<std::uint32_t, std::vector<PausedWrite>> paused_writes_;  // by member
  std::set<LeaseKey> live_waiters_;             // waiting acquires issued in the live window, pending
  std::set<std::string> demanding_;             // resources with demand_since >= 0
  std::map<LeaseKey, std::string> waiting_on_;  // waiting acquire -> its resource
  std::int64_t live_from_ = -1;                 // Guarantee 3 applies from here (true ns), -1: not yet
  std::int64_t member_fault_allowance_ns_ = 0;  // see set_member_fault_allowance
  std::set<std::uint32_t> paused_;              // members paused now: their waits create no demand
  std::optional<Violation> violation_;
  RunFigures figures_;
};

}  // namespace baton::sim
