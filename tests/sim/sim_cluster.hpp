// SPDX-License-Identifier: Apache-2.0
// SimCluster: the simulated world. Members running the real core
// (core::Node), each with its own SimClock, talking over a SimNetwork, used by
// a Workload, watched by a Checker, all driven by one seeded Rng in virtual
// true time: the same seed replays the same run exactly (STYLE 8).
//
// A run has three phases:
//   faulty  (options.fault_steps steps) every fault: loss, duplication, long
//           delays, partitions, clogs, pauses, crashes and restarts;
//   settle  faults healed, crashed members restarted, paused ones resumed
//           (in one seed in four a minority stays down for good); no new
//           operations until old leases, holds, quarantines and delayed
//           datagrams have run out;
//   healed  well-behaved operations; Guarantee 3 is measured, then the run
//           drains and every waiting acquire must have completed. With a
//           profile's `vary`, one member waiting for a lease may crash or
//           pause here.
// What a seed draws (fault rates, member count, configuration) comes from
// its SimProfile (profile.hpp); the default profile draws what the
// simulator always drew, so its seeds replay unchanged.
// Guarantees 1, 2 and 4 (and the core's own invariants) are checked
// throughout, after every step.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "checker.hpp"
#include "core/node.hpp"
#include "core/rng.hpp"
#include "profile.hpp"
#include "sim_clock.hpp"
#include "sim_network.hpp"
#include "workload.hpp"

namespace baton::sim {

// The unit of the liveness figures and bound: one healed round trip, twice the
// healed network's longest one-way delay.
inline constexpr std::int64_t healed_delay_max_ns = 500'000;
inline constexpr std::int64_t round_trip_ns = 2 * healed_delay_max_ns;
// Guarantee 3 bound, in round trips: from "free with a waiter" to the next grant.
inline constexpr std::int64_t liveness_bound_rtts = 50;
// When members persist, a restarted voter grants nothing above its reservation
// before a sync, and a request can wait behind two (docs/protocol.md, Voter
// step 6): the bound then adds two of the profile's slowest syncs
// (SimProfile::disk_sync_ns; 20 ms in the default profile).
inline constexpr std::int64_t liveness_syncs = 2;

struct SimOptions {
  std::uint64_t seed = 1;             // drives everything in the run
  std::uint32_t members = 5;          // cluster size (ids 1..members); see members_for_seed
  std::uint64_t fault_steps = 20000;  // steps of the faulty phase
  std::ostream* trace = nullptr;      // non-null: one line per delivery, event and fault
  bool invariants = true;             // call core::check_invariants after every step
  SimProfile profile = *profile_by_name("default");  // what the seed draws (its members field is not used here)
};

struct SimResult {
  std::uint64_t seed = 0;
  std::optional<Violation> violation;  // the first broken guarantee, if any
  RunFigures figures;
  NetworkCounters network;
  NetworkCounters faulty_network;      // the network counters when the faulty phase ended
  std::uint32_t members = 0;           // cluster size of the run
  std::uint64_t steps = 0;             // steps of the whole run
  std::int64_t end_true_ns = 0;        // true time at the end
  std::uint64_t crashes = 0;           // member crashes
  std::uint64_t wipes = 0;             // of them, crashes that lost the state directory (--reconfigs)
  bool across = false;                 // the across phase ran to its end (start_across)
  std::uint64_t pauses = 0;            // member pauses
  std::uint64_t partitions = 0;        // partitions and isolations
  std::uint64_t clogs = 0;             // clogged links
  std::string scenario;                // what the seed drew (rho, disks, clocks, network)
  bool ok() const { return !violation.has_value(); }
};

SimResult run_simulation(const SimOptions& options);

// Cumulative percent thresholds of the fault kinds for a roll in [0, 99]
// (inject_fault): one-way partition, two-way partition, isolation, clog,
// clog of every link of a member, pause, crash of a majority, crash, heal
// every link. Pauses and crashes get the shares given; 25 and 22 give the
// default mix.
std::array<std::uint32_t, 9> fault_thresholds(std::uint32_t pause_pct, std::uint32_t crash_pct);

class SimCluster final : public WorkloadHost {
 public:
  explicit SimCluster(const SimOptions& options);
  ~SimCluster() override;
  SimResult run();

  // ---- WorkloadHost ----
  bool member_runs(std::uint32_t m) const override;
  core::Instant local_now(std::uint32_t m) override;
  Result<core::AcquireId> acquire(std::uint32_t m, const core::AcquireArgs& args) override;
  void release(std::uint32_t m, core::AcquireId id) override;
  void renew(std::uint32_t m, core::AcquireId id) override;

 private:
  enum class State : std::uint8_t { up, paused, crashed };
  // A floor reservation being written: done at done_true_ns unless a crash comes first.
  struct PendingWrite {
    core::Token value;          // the reservation
    std::int64_t done_true_ns;  // when the sync completes
  };
  struct Member {
    core::MemberId id;                      // 1-based member id
    core::Duration ttl_max;                 // this life's NodeConfig::ttl_max
    std::uint32_t rho_ppm = 0;              // this life's NodeConfig::rho_ppm (>= the clocks' true bound)
    // On the disk with the reservation: the longest ttl_max and largest rho
    // any life voted under (written at start, before the life votes).
    core::Duration voted_ttl_max = core::Duration::zero();
    std::uint32_t voted_rho_ppm = 0;
    std::unique_ptr<SimClock> clock;        // keeps running through pauses and crashes
    std::unique_ptr<core::Node> node;       // null while crashed
    State state = State::up;
    std::uint64_t incarnation = 1;          // current (or last) life's incarnation
    std::uint32_t life = 0;                 // restarts so far (LeaseKey::life)
    std::int64_t wake_true_ns = INT64_MAX;  // true time of node->next_deadline()
    std::int64_t until_true_ns = INT64_MAX; // paused: resume then; crashed: restart then
    std::deque<Datagram> inbox;             // paused: datagrams waiting in the socket buffer
    std::optional<core::Token> disk;        // the durable reservation (the state directory)
    std::optional<PendingWrite> writing;    // a reservation being synced
    bool persisted_unseen = false;          // a sync completed while paused: tell the node on resume
    bool client = false;                    // a client process (issue 21): id drawn per life, votes on nothing
    std::optional<core::CfgState> cfg_disk; // the durable configuration record and promise (issue 21)
    // Its state directory was wiped (--reconfigs runs): it restarts learning
    // its floor and record from its peers until a reservation reaches the disk.
    bool wiped = false;
    // --reconfigs runs: it missed the change that made the starting record,
    // and starts under the initial one (no `config` file) until it adopts one.
    bool initial_record = false;
    // This life learns its floor from its peers: the highest token of any
    // lease acquired before it started, which that floor must reach.
    std::optional<core::Token> floor_due;
    // ... and the newest record committed before it started, which the
    // record it learns must reach.
    std::optional<core::CfgId> cfg_due;
  };
  enum class Phase : std::uint8_t { faulty, settle, healed, drain, across, done };
  // A partition or clog to lift at a true time.
  struct Heal {
    std::int64_t at_true_ns;
    core::MemberId from, to;  // the link
  };

  void draw_scenario();
  // Client processes (issue 21): slots opt_.members.. processes()-1.
  std::uint32_t processes() const { return opt_.members + clients_; }
  void add_clients();
  // A client slot's next life: a fresh random id (none a live client has) and incarnation.
  void draw_client_identity(Member& mem);
  // The network slot (1-based) of `id`, a member or a live client life; 0 if
  // that client life is gone.
  std::uint32_t slot_of(core::MemberId id) const;
  // The faulty phase's client churn: a client leaves (and comes back later
  // as a new identity), pauses, or is cut off from a voter.
  void client_event();
  // Issue 21, step 2: a record of the same voters with a newer id (an epoch
  // above every member's, a ballot usually at or above every promise),
  // maybe with a join floor, proposed to a random subset of the members (the
  // others learn it from requests and denials); or a CONFIG_READ that only
  // raises promises. `last`: when the faulty phase ends, a record every
  // member can adopt.
  void cfg_bump(bool last = false);
  // Issue 21, step 3: a random running member drives a reconfiguration
  // (Node::reconfigure) to voters drawn from the newest record: one added,
  // one removed, one replaced, or any subset. `last`, when the faulty phase
  // ends and until it commits: back to every member.
  void reconfig(bool last = false);
  void on_reconfigured(std::uint32_t m, const core::ReconfigResult& r);
  // --reconfigs runs, after the drain, when every member is up and voting:
  // one member holds an auto-renewed lease while the voters change twice,
  // to a minority of the members and then to all the others (V4,
  // docs/protocol.md "Renewals across a change"). In a healed network the
  // lease must live through both changes: a loss fails Guarantee 3.
  bool start_across();
  void across_step();
  void across_event(std::uint32_t m, const core::Event& e);
  void draw_configuration();
  std::uint32_t draw_config_rho();
  void change_configuration(std::uint32_t m);
  // Whether member `m` may lose its state directory now (wipes_): see the definition.
  bool may_wipe(std::uint32_t m);
  void wipe(std::uint32_t m);
  void on_healed_fault();
  bool impaired(const Member& mem) const;
  std::string describe_scenario() const;
  core::NodeConfig node_config(std::uint32_t m, core::RecoveryMode mode) const;
  void start_node(std::uint32_t m, core::RecoveryMode mode);
  void after_call(std::uint32_t m);
  void deliver(const Datagram& d);
  void on_wake(std::uint32_t m);
  void on_write_done(std::uint32_t m);
  void crash(std::uint32_t m);
  void restart(std::uint32_t m);
  void pause(std::uint32_t m, std::int64_t for_ns);
  void resume(std::uint32_t m);
  void inject_fault();
  void heal_everything();
  // Crashes `down` for the rest of the run.
  void keep_down(const std::vector<std::uint32_t>& down);
  std::vector<std::uint32_t> choose_down();
  void enter_phase(Phase p);
  std::uint32_t unrecovered() const;
  // A member whose memory is gone (crashed) or not yet rebuilt.
  static bool unrecovered(const Member& mem);
  // How many members may be unrecovered at once and peer recovery still work.
  std::uint32_t unrecovered_max() const;
  // Member indices in a random order (Fisher-Yates on the run's rng, or `rng`).
  std::vector<std::uint32_t> shuffled_members() { return shuffled_members(rng_); }
  std::vector<std::uint32_t> shuffled_members(core::Rng& rng);
  // When a change that was refused or did not commit is tried again: 100-500 ms from now.
  std::int64_t change_retry_ns();
  std::int64_t uniform_ns(std::int64_t lo, std::int64_t hi);
  LeaseKey key(std::uint32_t m, core::AcquireId id) const;
  void trace(std::uint32_t m, const std::string& what);
  void trace_world(const std::string& what);

  SimOptions opt_;
  std::uint32_t clients_ = 0;           // client slots (clients_for_seed)
  std::uint32_t client_id_space_ = 0;   // drawn (--client-ids): 0, or ids from this many values
  std::map<std::uint32_t, std::uint32_t> client_route_;  // client id -> slot that last sent with it
  std::int64_t next_client_event_ns_ = INT64_MAX;  // faulty phase: the next client_event()
  std::uint32_t cfg_bumps_left_ = 0;    // cfg_bump() calls still to make (cfg_bumps_for_seed)
  std::uint32_t cfg_bumps_done_ = 0;    // cfg_bump() calls made
  std::int64_t next_cfg_bump_ns_ = INT64_MAX;  // faulty phase: the next cfg_bump()
  core::Rng cfg_rng_{0};                // cfg_bump()'s own draws (a stream of its own)
  std::uint32_t reconfigs_left_ = 0;    // reconfig() calls still to make in the faulty phase
  std::uint32_t reconfigs_started_ = 0; // Node::reconfigure calls that started a run
  bool wipes_ = false;                  // --reconfigs runs: some crashes wipe the state directory
  core::Token acquired_max_{};          // the highest token of any lease acquired so far
  core::CfgId committed_max_ = core::initial_cfg_id;  // the newest record a reconfiguration committed
  std::int64_t next_reconfig_ns_ = INT64_MAX;  // the next reconfig()
  core::Rng recfg_rng_{0};              // reconfig()'s own draws
  enum class LastReconfig : std::uint8_t { none, pending, committed };
  LastReconfig last_reconfig_ = LastReconfig::none;  // the one that must commit after the faulty phase
  std::uint32_t last_reconfig_member_ = 0;           // who drives it (slot index)
  std::uint32_t last_reconfig_tries_ = 0;
  std::int64_t keep_down_at_ns_ = INT64_MAX;         // the last one committed: keep members down then
  std::optional<core::CfgState> start_cfg_;          // --reconfigs: the voters members start with
  // The across phase (start_across): where it is, its two targets, who
  // drives the changes and who holds the lease, and the next across_step().
  enum class Across : std::uint8_t { off, first_change, acquiring, second_change, holding, done };
  Across across_ = Across::off;
  std::vector<core::MemberId> across_target_[2];
  std::uint32_t across_driver_ = 0, across_holder_ = 0, across_tries_ = 0;
  core::Duration across_ttl_{};
  core::AcquireId across_id_{};  // the lease, once acquired
  std::int64_t across_next_ns_ = INT64_MAX;
  core::Rng rng_;                       // the one source of randomness
  std::int64_t now_ = 0;                // true time (ns)
  std::uint64_t steps_ = 0;
  Phase phase_ = Phase::faulty;
  std::uint32_t rho_ppm_ = 10000;       // drawn: the clocks' true rate bound (every life's rho is >= it)
  core::Duration ttl_max_;              // drawn: ttl_max of the first lives; clients ask for ttls up to it
  core::Duration margin_;               // drawn: NodeConfig::margin
  std::uint32_t replicas_ = 5;          // drawn: NodeConfig::replicas
  core::Duration ttl_max_seen_;         // longest ttl_max of any life so far
  std::uint32_t rho_seen_ = 0;          // largest configured rho of any life so far
  std::array<std::uint32_t, 9> fault_mix_{};  // cumulative percent thresholds of the fault kinds
  enum class HealedFault : std::uint8_t { none, crash, pause };
  HealedFault healed_fault_ = HealedFault::none;  // drawn (vary): what happens to a waiter in the healed phase
  std::int64_t healed_fault_offset_ns_ = 0;       // ... this long after the healed phase opens
  std::int64_t healed_fault_ns_ = INT64_MAX;      // ... at this true time (once the phase opens)
  std::int64_t healed_ttl_max_ns_ = 0;            // longest ttl of the healed phase
  std::uint32_t long_hold_pct_ = 50;              // drawn (vary): percent of faulty-phase holds that are long
  bool disks_ = true;                   // drawn: members have state directories
  bool keep_down_ = false;              // drawn: a minority stays crashed after the faults heal
  std::int64_t fault_gap_ns_ = 0;       // drawn: mean gap between faults
  NetworkProfile faulty_net_;           // drawn: network in the faulty phase
  std::vector<Member> members_;
  SimNetwork net_;
  Workload workload_;
  Checker checker_;
  std::vector<Heal> heals_;             // pending partition/clog ends
  std::int64_t next_fault_ns_ = 0;
  std::int64_t phase_end_ns_ = INT64_MAX;  // settle/healed/drain: when the phase ends
  SimResult result_;
  core::Outbox outbox_;                 // reused for every drain
};

}  // namespace baton::sim
