// SPDX-License-Identifier: Apache-2.0
#include "sim_cluster.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <ostream>
#include <sstream>

#include "core/acquirer.hpp"
#include "core/assert.hpp"
#include "core/drift.hpp"
#include "core/limits.hpp"
#include "core/placement.hpp"
#include "core/reconfigure.hpp"
#include "core/recovery.hpp"
#include "core/voter.hpp"
#include "trace.hpp"

#if __has_include("core/invariants.hpp")
#include "core/invariants.hpp"
#define BATON_SIM_INVARIANTS 1
#endif

namespace baton::sim {

namespace {
constexpr std::int64_t ms_ns = 1'000'000;
constexpr std::int64_t s_ns = 1'000'000'000;
constexpr std::int64_t healed_window_ns = 2 * s_ns;          // healed phase with operations
constexpr std::int64_t drain_max_ns = 60 * s_ns;             // healed phase drain, at most
constexpr std::size_t inbox_max = 256;                       // datagrams a paused member buffers
constexpr std::size_t link_queue_max = 512;                  // datagrams in flight per link

NetworkProfile healed_profile() {
  NetworkProfile p;
  p.delay_min_ns = 50'000;
  p.delay_max_ns = healed_delay_max_ns;
  return p;
}

}  // namespace

// The fault kinds of inject_fault, in roll order, and their default weights
// (percent): one-way partition, two-way partition, isolation, clog, clog of
// every link of a member, pause, crash of a majority (with disks; a single
// crash without), crash, heal every link.
constexpr std::array<std::uint32_t, 9> default_fault_weights = {15, 10, 10, 10, 5, 25, 10, 12, 3};

// Cumulative thresholds for a roll in [0, 99]. Pauses and crashes get the
// shares asked for (crashes split 10:12 between a majority and one member, as
// by default); the other kinds share the rest in their default proportions
// (largest remainder, so the thresholds end at exactly 100). 25 % and 22 %
// give the default thresholds, so default seeds replay unchanged.
std::array<std::uint32_t, 9> fault_thresholds(std::uint32_t pause_pct, std::uint32_t crash_pct) {
  BATON_ASSERT(pause_pct + crash_pct <= 100);
  std::array<std::uint32_t, 9> w = default_fault_weights;
  w[5] = pause_pct;
  w[6] = (crash_pct * 10 + 11) / 22;
  w[7] = crash_pct - w[6];
  const std::uint32_t rest = 100 - pause_pct - crash_pct;
  constexpr std::array<std::size_t, 6> others = {0, 1, 2, 3, 4, 8};
  constexpr std::uint32_t others_total = 53;
  std::uint32_t given = 0;
  std::array<std::uint32_t, 9> remainder{};
  for (std::size_t i : others) {
    w[i] = default_fault_weights[i] * rest / others_total;
    remainder[i] = default_fault_weights[i] * rest % others_total;
    given += w[i];
  }
  while (given < rest) {
    std::size_t best = others[0];
    for (std::size_t i : others) {
      if (remainder[i] > remainder[best]) best = i;
    }
    ++w[best];
    remainder[best] = 0;
    ++given;
  }
  std::array<std::uint32_t, 9> t{};
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < w.size(); ++i) t[i] = sum += w[i];
  BATON_ASSERT(t[8] == 100);
  return t;
}
SimResult run_simulation(const SimOptions& options) {
  SimCluster world(options);
  return world.run();
}

SimCluster::SimCluster(const SimOptions& options)
    : opt_(options),
      clients_(clients_for_seed(options.profile, options.seed)),
      rng_(options.seed),
      net_(options.members + clients_, link_queue_max, rng_),
      workload_(WorkloadConfig{.members = options.members + clients_}, rng_),
      checker_(CheckerConfig{.liveness_bound_ns = liveness_bound_rtts * round_trip_ns, .round_trip_ns = round_trip_ns}) {
  BATON_ASSERT(options.members >= 1);
  BATON_ASSERT(options.members <= core::limits::members_max);
  result_.seed = options.seed;
  result_.members = options.members;
}

SimCluster::~SimCluster() = default;

std::int64_t SimCluster::uniform_ns(std::int64_t lo, std::int64_t hi) {
  BATON_ASSERT(lo <= hi);
  return lo + static_cast<std::int64_t>(rng_.uniform(static_cast<std::uint64_t>(hi - lo)));
}

LeaseKey SimCluster::key(std::uint32_t m, core::AcquireId id) const { return LeaseKey{m, members_[m].life, id}; }

// ---- the scenario a seed draws -------------------------------------------------

// The draws of the default profile come first and in the order they always
// had: a default seed's trace stays what it was before profiles existed.
void SimCluster::draw_scenario() {
  const SimProfile& p = opt_.profile;
  rho_ppm_ = static_cast<std::uint32_t>(draw(rng_, p.rho_ppm));
  disks_ = draw(rng_, p.disks) == 1;
  // One seed in four keeps a minority of members down through the healed
  // phase: Guarantee 3 must hold with the live majority alone.
  keep_down_ = opt_.members >= 3 && rng_.uniform(3) == 0;
  if (disks_) {
    checker_.set_liveness_bound(liveness_bound_rtts * round_trip_ns + liveness_syncs * p.disk_sync_ns.max());
  }
  fault_gap_ns_ = draw(rng_, p.fault_gap_ns);
  faulty_net_.loss_ppm = static_cast<std::uint32_t>(draw(rng_, p.loss_ppm));
  faulty_net_.dup_ppm = static_cast<std::uint32_t>(draw(rng_, p.dup_ppm));
  faulty_net_.delay_min_ns = draw(rng_, p.delay_min_ns);
  faulty_net_.delay_max_ns = draw(rng_, p.delay_max_ns);
  faulty_net_.tail_ppm = static_cast<std::uint32_t>(draw(rng_, p.tail_ppm));
  faulty_net_.tail_max_ns = draw(rng_, p.tail_max_ns);
  faulty_net_.far_tail_ppm = static_cast<std::uint32_t>(draw(rng_, p.far_tail_ppm));
  faulty_net_.far_tail_max_ns = draw(rng_, p.far_tail_max_ns);
  faulty_net_.reorder_ppm = static_cast<std::uint32_t>(draw(rng_, p.reorder_ppm));
  net_.set_profile(faulty_net_);
  const auto pause_pct = static_cast<std::uint32_t>(draw(rng_, p.pause_share_pct));
  const auto crash_pct = static_cast<std::uint32_t>(draw(rng_, p.crash_share_pct));
  fault_mix_ = fault_thresholds(pause_pct, crash_pct);

  std::string clocks;
  for (std::uint32_t m = 0; m < opt_.members; ++m) {
    // The worst case first: one clock pinned at each end of the bound.
    ClockShape shape = static_cast<ClockShape>(rng_.uniform(5));
    if (m == 0) shape = ClockShape::pinned_fast;
    if (m == 1) shape = ClockShape::pinned_slow;
    const auto origin = core::Instant::from_ns(uniform_ns(1 * s_ns, 1'000'000 * s_ns));
    Member mem;
    mem.id = core::MemberId(m + 1);
    mem.clock = std::make_unique<SimClock>(shape, rho_ppm_, origin, rng_.next());
    members_.push_back(std::move(mem));
    clocks += (m ? "," : "") + std::string(clock_shape_name(shape));
  }
  draw_configuration();
  add_clients();
  // Configuration bumps (issue 21) draw from a stream of their own: a run
  // without them draws what it always drew.
  cfg_bumps_left_ = cfg_bumps_for_seed(opt_.profile, opt_.seed);
  cfg_rng_ = core::Rng(opt_.seed ^ 0x6366675f62756d70ULL);
  if (cfg_bumps_left_ > 0) next_cfg_bump_ns_ = static_cast<std::int64_t>(cfg_rng_.uniform(static_cast<std::uint64_t>(4 * fault_gap_ns_)));
  // Reconfigurations (issue 21, step 3), a stream of their own too. They
  // need a state directory on every voter (a diskless one forgets its
  // promise) and every member voting on every resource (scale mode is not
  // supported yet): such a run has both.
  reconfigs_left_ = reconfigs_for_seed(opt_.profile, opt_.seed);
  recfg_rng_ = core::Rng(opt_.seed ^ 0x7265636f6e666967ULL);
  std::string lagging_note;
  if (reconfigs_left_ > 0) {
    disks_ = true;
    wipes_ = true;
    replicas_ = std::max(replicas_, opt_.members | 1U);
    // The voters start as a random subset of at least half the members, as
    // if a change had happened before (record (2, 0)): the others are spare
    // hosts that never voted, floor 0, which a change may add (V3, F).
    std::vector<core::MemberId> voters;
    while (voters.empty()) {
      for (std::uint32_t i = 1; i <= opt_.members; ++i) {
        if (recfg_rng_.uniform(3) != 0) voters.push_back(core::MemberId(i));
      }
      if (voters.size() * 2 < opt_.members) voters.clear();
    }
    start_cfg_ = core::CfgState{.record = {.id = {2, 0}, .old_voters = voters, .new_voters = {}, .floor = {}},
                                .promised = 0, .join_floor = {}};
    committed_max_ = start_cfg_->record.id;
    // Members that missed that change start without a record, under the
    // initial one (every member votes), as a member does whose `config`
    // file was never written: up to a minority of the members, and of the
    // voters (the change committed at a majority of each). They and a
    // member that lost its state (wipe()) must never make a quorum of the
    // initial record that way.
    const std::uint32_t cap = std::min((opt_.members - 1) / 2, static_cast<std::uint32_t>((voters.size() - 1) / 2));
    std::uint32_t lagging = static_cast<std::uint32_t>(recfg_rng_.uniform(cap));
    std::uint32_t lagging_voters = 0;
    for (std::uint32_t i = opt_.members; i > 0 && lagging > 0; --i) {
      const std::uint32_t m = static_cast<std::uint32_t>(recfg_rng_.uniform(opt_.members - 1));
      if (members_[m].initial_record) continue;
      const bool voter = std::binary_search(voters.begin(), voters.end(), members_[m].id);
      if (voter && lagging_voters + 1 > (voters.size() - 1) / 2) continue;
      lagging_voters += voter ? 1 : 0;
      members_[m].initial_record = true;
      --lagging;
      lagging_note += " initial=n" + std::to_string(m + 1);
    }
    next_reconfig_ns_ = static_cast<std::int64_t>(recfg_rng_.uniform(static_cast<std::uint64_t>(4 * fault_gap_ns_)));
  }
  std::ostringstream d;
  d << "rho=" << rho_ppm_ << "ppm " << (disks_ ? "disks(reservation)" : "no-disks(peers)") << " loss="
    << faulty_net_.loss_ppm << "ppm dup=" << faulty_net_.dup_ppm << "ppm fault_gap=" << true_ms(fault_gap_ns_)
    << " clocks=" << clocks;
  // The default profile's scenario line is unchanged (it is in its traces).
  if (!is_plain_default(p)) d << " " << describe_scenario();
  result_.scenario = d.str() + lagging_note;
}

// Client slots after the members, drawn after everything else: a run
// without clients draws what it always drew.
void SimCluster::add_clients() {
  if (clients_ > 0) client_id_space_ = static_cast<std::uint32_t>(draw(rng_, opt_.profile.client_ids));
  for (std::uint32_t j = 0; j < clients_; ++j) {
    const auto shape = static_cast<ClockShape>(rng_.uniform(5));
    const auto origin = core::Instant::from_ns(uniform_ns(1 * s_ns, 1'000'000 * s_ns));
    Member mem;
    mem.client = true;
    mem.clock = std::make_unique<SimClock>(shape, rho_ppm_, origin, rng_.next());
    // A client computes its validities with the clocks' true bound, and asks
    // for ttls up to the first lives' ttl_max (its own).
    mem.rho_ppm = rho_ppm_;
    mem.ttl_max = ttl_max_;
    draw_client_identity(mem);
    members_.push_back(std::move(mem));
  }
  if (clients_ > 0) next_client_event_ns_ = uniform_ns(0, 2 * fault_gap_ns_);
}

void SimCluster::draw_client_identity(Member& mem) {
  mem.incarnation = rng_.next() | 1;
  if (client_id_space_ > 0) {
    // Collisions on purpose: another live client may have drawn this id. A
    // member answers the one it heard from last (runtime: ClientBook).
    mem.id = core::client_id(static_cast<std::uint32_t>(rng_.uniform(client_id_space_ - 1)) + 1);
    return;
  }
  while (true) {
    const auto bits = static_cast<std::uint32_t>(rng_.uniform(core::member_id_max - 1)) + 1;
    const core::MemberId id = core::client_id(bits);
    if (slot_of(id) != 0) continue;  // a live client's: draw again
    mem.id = id;
    break;
  }
}

std::uint32_t SimCluster::slot_of(core::MemberId id) const {
  if (!core::is_client(id)) return id.value;
  if (auto it = client_route_.find(id.value); it != client_route_.end() && members_[it->second - 1].id == id) {
    return it->second;
  }
  for (std::uint32_t m = opt_.members; m < members_.size(); ++m) {
    if (members_[m].id == id) return m + 1;
  }
  return 0;
}

void SimCluster::client_event() {
  next_client_event_ns_ = now_ + uniform_ns(0, 2 * fault_gap_ns_);
  const std::uint32_t m = opt_.members + static_cast<std::uint32_t>(rng_.uniform(clients_ - 1));
  const std::uint64_t roll = rng_.uniform(99);
  if (roll < 40) {
    crash(m);  // leaves; comes back after crash()'s delay as a new identity
  } else if (roll < 80) {
    const std::uint64_t kind = rng_.uniform(9);
    pause(m, kind < 6 ? uniform_ns(ms_ns, 50 * ms_ns) : uniform_ns(500 * ms_ns, 3 * s_ns));
  } else {
    const core::MemberId client_slot(m + 1);
    const core::MemberId voter(static_cast<std::uint32_t>(rng_.uniform(opt_.members - 1)) + 1);
    const std::int64_t heal_at = now_ + uniform_ns(10 * ms_ns, 2 * s_ns);
    trace_world("partition n" + std::to_string(m + 1) + "<->n" + std::to_string(voter.value) + " until " +
                true_ms(heal_at));
    for (const auto& [from, to] : {std::pair{client_slot, voter}, std::pair{voter, client_slot}}) {
      net_.block(from, to);
      heals_.push_back(Heal{heal_at, from, to});
    }
    ++result_.partitions;
  }
}

void SimCluster::cfg_bump(bool last) {
  if (!last) {
    --cfg_bumps_left_;
    next_cfg_bump_ns_ = cfg_bumps_left_ == 0 ? INT64_MAX
                                             : now_ + static_cast<std::int64_t>(
                                                          cfg_rng_.uniform(static_cast<std::uint64_t>(4 * fault_gap_ns_)));
  }
  ++cfg_bumps_done_;
  // The highest record and promise any member holds (up, or on its disk),
  // and the highest token any voter stored.
  std::uint64_t epoch = 0, ballot = 0;
  core::Token stored{};
  for (std::uint32_t m = 0; m < processes(); ++m) {
    const Member& mem = members_[m];
    if (mem.node) {
      epoch = std::max(epoch, mem.node->acquirer().cfg().id.epoch);
      if (!mem.client) {
        epoch = std::max(epoch, mem.node->cfg().record.id.epoch);
        ballot = std::max(ballot, mem.node->cfg().promised);
        stored = std::max(stored, mem.node->voter().max_token());
      }
    }
    if (mem.cfg_disk) {
      epoch = std::max(epoch, mem.cfg_disk->record.id.epoch);
      ballot = std::max(ballot, mem.cfg_disk->promised);
    }
  }
  const std::uint64_t roll = last ? 1 : cfg_rng_.uniform(3);
  if (roll == 0) {
    // A driver's phase 0 that got no further: a CONFIG_READ with a higher
    // ballot from a random member to a random subset, whose promises then
    // refuse any record below it (`behind` from a promise).
    const auto from = core::MemberId(static_cast<std::uint32_t>(cfg_rng_.uniform(opt_.members - 1)) + 1);
    const core::ConfigRead read{.ballot = ballot + 1 + cfg_rng_.uniform(2)};
    std::string to;
    for (std::uint32_t m = 0; m < opt_.members; ++m) {
      if (cfg_rng_.uniform(1) == 0 || !member_runs(m) || members_[m].id == from) continue;
      members_[m].node->on_message(local_now(m), from, core::Message{read});
      to += " n" + std::to_string(m + 1);
      after_call(m);
    }
    trace_world("CONFIG_READ ballot " + std::to_string(read.ballot) + " from n" + std::to_string(from.value) + " to" +
                (to.empty() ? std::string(" nobody") : to));
    return;
  }
  core::CfgRecord r;
  for (std::uint32_t i = 0; i < opt_.members; ++i) r.old_voters.push_back(core::MemberId(i + 1));
  // Usually at or above every promise (every member can adopt it); one time
  // in four, except for the last, any ballot up to that (members that
  // promised more deny `behind` until a later record supersedes it). The
  // last record, proposed when the faulty phase ends, is always adoptable.
  const bool low = !last && cfg_rng_.uniform(3) == 0;
  r.id = core::CfgId{epoch + 1, low ? cfg_rng_.uniform(ballot) : ballot + cfg_rng_.uniform(2)};
  // A join floor: none, at most what some voter stored (a real one is read
  // from a majority's acks), or above it (by up to two reservation blocks:
  // it then lies above voters' reservations, which only the persisted join
  // floor covers).
  switch (cfg_rng_.uniform(2)) {
    case 0: break;
    case 1: r.floor = core::Token(cfg_rng_.uniform(stored.value)); break;
    default: r.floor = core::Token(stored.value + cfg_rng_.uniform(std::uint64_t{1} << 33)); break;
  }
  // To a random subset of the members that run; the last one to at least
  // one of them, from which requests and denials carry it to the rest
  // (proposed to nobody, a lower-ballot record that promises refuse could
  // stay the newest anyone knows). Not to all: that a record reaching some
  // members reaches every one is what the simulator checks.
  std::vector<bool> chosen(opt_.members, false);
  bool any = false;
  for (std::uint32_t m = 0; m < opt_.members; ++m) {
    chosen[m] = cfg_rng_.uniform(1) == 1 && member_runs(m);
    any = any || chosen[m];
  }
  if (last && !any) {
    std::vector<std::uint32_t> running;
    for (std::uint32_t m = 0; m < opt_.members; ++m) {
      if (member_runs(m)) running.push_back(m);
    }
    if (!running.empty()) chosen[running[cfg_rng_.uniform(running.size() - 1)]] = true;
  }
  std::string to;
  for (std::uint32_t m = 0; m < opt_.members; ++m) {
    if (!chosen[m]) continue;
    const core::CfgAccept verdict = members_[m].node->propose_config(local_now(m), r);
    if (verdict != core::CfgAccept::accepted && !low) {
      checker_.report(now_, 0, "n" + std::to_string(m + 1) + " refused configuration " + core::to_string(r) +
                                   ", proposed above every record and promise");
    }
    to += " n" + std::to_string(m + 1);
    after_call(m);
  }
  trace_world("configuration " + core::to_string(r) + " proposed to" + (to.empty() ? std::string(" nobody") : to));
}

void SimCluster::reconfig(bool last) {
  const auto gap = [&] { return static_cast<std::int64_t>(recfg_rng_.uniform(static_cast<std::uint64_t>(4 * fault_gap_ns_))); };
  if (!last) {
    --reconfigs_left_;
    next_reconfig_ns_ = reconfigs_left_ == 0 ? INT64_MAX : now_ + gap();
  }
  std::vector<std::uint32_t> running;
  for (std::uint32_t m = 0; m < opt_.members; ++m) {
    if (member_runs(m)) running.push_back(m);
  }
  if (running.empty()) {
    if (last) {
      last_reconfig_ = LastReconfig::pending;
      next_reconfig_ns_ = now_ + 100 * ms_ns;
    }
    return;
  }
  // The voters of the newest record any running member holds.
  core::CfgRecord newest = members_[running.front()].node->cfg().record;
  for (std::uint32_t m : running) {
    const core::CfgRecord& r = members_[m].node->cfg().record;
    if (newest.id < r.id) newest = r;
  }
  const std::vector<core::MemberId> voters = newest.joint() ? newest.new_voters : newest.old_voters;
  std::vector<core::MemberId> others;
  for (std::uint32_t i = 1; i <= opt_.members; ++i) {
    if (!std::binary_search(voters.begin(), voters.end(), core::MemberId(i))) others.push_back(core::MemberId(i));
  }
  // Voters drawn from the newest record: one added, removed or replaced,
  // the spares moved in (the new voters a majority, with the floor F gives
  // them), or any non-empty subset.
  const auto draw_target = [&](const char*& kind) {
    std::vector<core::MemberId> target = voters;
    switch (recfg_rng_.uniform(4)) {
      case 0:
        kind = "add";
        if (!others.empty()) target.push_back(others[recfg_rng_.uniform(others.size() - 1)]);
        break;
      case 1:
        kind = "remove";
        if (target.size() > 1) target.erase(target.begin() + static_cast<std::ptrdiff_t>(recfg_rng_.uniform(target.size() - 1)));
        break;
      case 2:
        kind = "replace";
        if (!others.empty()) {
          target[recfg_rng_.uniform(target.size() - 1)] = others[recfg_rng_.uniform(others.size() - 1)];
        }
        break;
      case 3:
        kind = "move to the spares";
        if (!others.empty()) {
          target = others;
          if (target.size() == 1 || recfg_rng_.uniform(1) == 0) target.push_back(voters[recfg_rng_.uniform(voters.size() - 1)]);
        }
        break;
      default:
        kind = "any subset";
        target.clear();
        for (std::uint32_t i = 1; i <= opt_.members; ++i) {
          if (recfg_rng_.uniform(1) == 1) target.push_back(core::MemberId(i));
        }
        if (target.empty()) target.push_back(core::MemberId(static_cast<std::uint32_t>(recfg_rng_.uniform(opt_.members - 1)) + 1));
        break;
    }
    // Never a member that lost its state as the only voter: nobody else
    // could vouch for that set, so its recovery and the change would wait
    // for each other for good (docs/operations.md, "Changing the members").
    if (target.size() == 1 && members_[target.front().value - 1].wiped) {
      target.push_back(core::MemberId(target.front().value % opt_.members + 1));
    }
    std::sort(target.begin(), target.end());
    return target;
  };
  const auto call = [&](std::uint32_t m, const std::vector<core::MemberId>& target, const char* kind) {
    std::string list;
    for (core::MemberId v : target) list += (list.empty() ? "" : ",") + std::to_string(v.value);
    auto r = members_[m].node->reconfigure(local_now(m), target);
    trace(m, std::string("call reconfigure (") + kind + ") to [" + list + "] from " + core::to_string(newest) + " -> " +
                 (r.ok() ? std::string("started") : std::string(errc_name(r.code())) + ": " + std::string(r.error().what)));
    if (r.ok()) ++reconfigs_started_;
    after_call(m);
    return r.ok();
  };
  if (!last) {
    const char* kind = "";
    const std::uint32_t m = running[recfg_rng_.uniform(running.size() - 1)];
    call(m, draw_target(kind), kind);
    // One time in three a second driver starts at the same instant on
    // another member: racing drivers, ordered only by their ballots.
    if (running.size() > 1 && recfg_rng_.uniform(2) == 0) {
      std::uint32_t other = running[recfg_rng_.uniform(running.size() - 1)];
      if (other == m) other = running[(std::find(running.begin(), running.end(), m) - running.begin() + 1) % running.size()];
      if (member_runs(other)) call(other, draw_target(kind), kind);
    }
    return;
  }
  std::vector<core::MemberId> every;
  for (std::uint32_t i = 1; i <= opt_.members; ++i) every.push_back(core::MemberId(i));
  const std::uint32_t m = running[recfg_rng_.uniform(running.size() - 1)];
  last_reconfig_ = LastReconfig::pending;
  last_reconfig_member_ = UINT32_MAX;  // none until one starts
  if (call(m, every, "every member")) {
    last_reconfig_member_ = m;
    next_reconfig_ns_ = INT64_MAX;  // on_reconfigured retries if it does not commit
  } else {
    // Busy (a run of the faulty phase still going there): again, later.
    next_reconfig_ns_ = change_retry_ns();
  }
}

void SimCluster::on_reconfigured(std::uint32_t m, const core::ReconfigResult& r) {
  trace(m, std::string("reconfiguration ") + core::to_string(r.outcome) + ": " + core::to_string(r.record) +
               (r.detail.empty() ? std::string() : " (" + r.detail + ")"));
  if (r.outcome == core::ReconfigOutcome::committed) committed_max_ = std::max(committed_max_, r.record.id);
  if ((across_ == Across::first_change || across_ == Across::second_change) && m == across_driver_ && r.requested) {
    const auto& target = across_target_[across_ == Across::first_change ? 0 : 1];
    if (r.outcome == core::ReconfigOutcome::committed && !r.record.joint() && r.record.old_voters == target) {
      if (across_ == Across::first_change) {
        across_ = Across::acquiring;
        core::AcquireArgs args{.resource = core::ResourceName("across"), .ttl = across_ttl_,
                               .wait_until = local_now(across_holder_) + core::Duration::s(10), .auto_renew = true};
        if (!acquire(across_holder_, args).ok()) checker_.report(now_, 3, "the across phase's acquire was refused");
      } else {
        // Renewed under the new voters alone for a few ttls, then released.
        across_ = Across::holding;
        across_next_ns_ = now_ + 4 * across_ttl_.count_ns();
      }
    } else if (++across_tries_ >= 50) {
      checker_.report(now_, 3, "the across phase's change did not commit in 50 tries: " + r.detail);
    } else {
      across_next_ns_ = change_retry_ns();
    }
    return;
  }
  // Only the run reconfig() started counts, not a repair of a stray promise
  // (which commits the voters the member knew).
  if (last_reconfig_ != LastReconfig::pending || m != last_reconfig_member_ || !r.requested) return;
  const bool every = !r.record.joint() && r.record.old_voters.size() == opt_.members;
  if (r.outcome == core::ReconfigOutcome::committed && every) {
    last_reconfig_ = LastReconfig::committed;
    // Deferred by heal_everything; from the main loop (this runs inside a
    // call on member m, which may be among those kept down).
    if (keep_down_) keep_down_at_ns_ = now_;
    return;
  }
  // Another driver was newer, or too few answered: again, a little later.
  if (++last_reconfig_tries_ >= 50) {
    checker_.report(now_, 0, "the last reconfiguration did not commit in 50 tries: " + r.detail);
    return;
  }
  next_reconfig_ns_ = change_retry_ns();
}

bool SimCluster::start_across() {
  if (last_reconfig_ != LastReconfig::committed || opt_.members < 2) return false;
  for (std::uint32_t m = 0; m < opt_.members; ++m) {
    const Member& mem = members_[m];
    if (mem.state != State::up || !mem.node || !mem.node->voter().ready()) return false;
  }
  // A minority of the members first (at least one), then all the others:
  // the lease's holds are all at the first set, and the second change's
  // joint record needs a majority of voters that never granted it.
  const std::vector<std::uint32_t> order = shuffled_members(recfg_rng_);
  const std::size_t k = std::max<std::size_t>(1, (opt_.members - 1) / 2);
  for (std::size_t i = 0; i < order.size(); ++i) across_target_[i < k ? 0 : 1].push_back(core::MemberId(order[i] + 1));
  for (auto& t : across_target_) std::sort(t.begin(), t.end());
  across_driver_ = static_cast<std::uint32_t>(recfg_rng_.uniform(opt_.members - 1));
  across_holder_ = static_cast<std::uint32_t>(recfg_rng_.uniform(opt_.members - 1));
  core::Duration ttl_cap = members_.front().ttl_max;
  for (std::uint32_t m = 0; m < opt_.members; ++m) ttl_cap = std::min(ttl_cap, members_[m].ttl_max);
  across_ttl_ = std::min(core::Duration::ms(200), ttl_cap);
  across_ = Across::first_change;
  across_next_ns_ = now_;
  std::string what = "ACROSS: n" + std::to_string(across_holder_ + 1) + " holds a lease while n" +
                     std::to_string(across_driver_ + 1) + " changes the voters twice";
  for (const auto& t : across_target_) {
    what += " [";
    for (core::MemberId v : t) what += (what.back() == '[' ? "" : ",") + std::to_string(v.value);
    what += "]";
  }
  trace_world(what);
  return true;
}

void SimCluster::across_step() {
  across_next_ns_ = INT64_MAX;
  const std::uint32_t m = across_driver_;
  if (across_ == Across::first_change || across_ == Across::second_change) {
    const auto& target = across_target_[across_ == Across::first_change ? 0 : 1];
    auto r = members_[m].node->reconfigure(local_now(m), target);
    trace(m, std::string("call reconfigure (across) -> ") + (r.ok() ? "started" : std::string(errc_name(r.code()))));
    after_call(m);
    if (!r.ok()) across_next_ns_ = change_retry_ns();  // busy: a repair runs
  } else if (across_ == Across::holding) {
    release(across_holder_, across_id_);
    across_ = Across::done;
    result_.across = true;
    phase_end_ns_ = now_;  // the run ends (enter_phase(done) from the main loop)
  }
}

void SimCluster::across_event(std::uint32_t m, const core::Event& e) {
  if (m != across_holder_ || e.resource.view() != "across") return;
  switch (e.kind) {
    case core::EventKind::acquired:
      if (across_ == Across::acquiring) {
        across_id_ = e.id;
        across_ = Across::second_change;
        across_next_ns_ = now_;
      }
      break;
    case core::EventKind::lost:
      checker_.report(now_, 3, std::string("a lease held across a change of the voters, in a healed network, was lost (") +
                                   std::string(core::lost_reason_name(e.lost_reason)) + ")");
      break;
    case core::EventKind::acquire_failed:
      checker_.report(now_, 3, "the across phase's acquire failed: " + std::string(errc_name(e.error)));
      break;
    default: break;
  }
}

// What the default profile keeps fixed: ttl_max, margin, replicas, each
// life's rho, and the healed-phase waiter fault. Drawn after everything the
// default profile draws, so that without `vary` no draw moves.
void SimCluster::draw_configuration() {
  const SimProfile& p = opt_.profile;
  ttl_max_ = core::Duration::ns(draw(rng_, p.ttl_max_ns));
  margin_ = core::Duration::ns(draw(rng_, p.margin_ns));
  replicas_ = static_cast<std::uint32_t>(draw(rng_, p.replicas));
  if (replicas_ == 0) {
    // Odd, 3..min(members, 7): with more members than that, rendezvous
    // placement picks each resource's voters (scale mode).
    const std::uint32_t top = std::max<std::uint32_t>(3, std::min<std::uint32_t>(opt_.members, 7));
    replicas_ = 3 + 2 * static_cast<std::uint32_t>(rng_.uniform((top - 3) / 2));
  }
  ttl_max_seen_ = ttl_max_;
  rho_seen_ = rho_ppm_;
  for (Member& mem : members_) {
    mem.ttl_max = ttl_max_;
    mem.rho_ppm = p.vary ? draw_config_rho() : rho_ppm_;
    rho_seen_ = std::max(rho_seen_, mem.rho_ppm);
  }
  workload_.set_ttl_max(ttl_max_);
  if (!p.vary) return;
  // More holds that renew, and renewals of more kinds (Workload::choose_renewal).
  long_hold_pct_ = static_cast<std::uint32_t>(30 + rng_.uniform(60));
  workload_.set_varied_holds(long_hold_pct_);
  // Half of the seeds crash or pause a member that is waiting for a lease
  // during the healed phase: liveness with a dead waiter.
  const std::uint64_t f = rng_.uniform(3);
  healed_fault_ = f == 0 ? HealedFault::crash : f == 1 ? HealedFault::pause : HealedFault::none;
  healed_fault_offset_ns_ = uniform_ns(0, healed_window_ns * 3 / 4);
}

// A life's configured rho: the clocks' true bound or more (a smaller one
// would break the assumption every drift formula rests on), a quarter of
// the time at the limit.
std::uint32_t SimCluster::draw_config_rho() {
  const auto top = static_cast<std::uint32_t>(core::limits::rho_ppm_max);
  switch (rng_.uniform(3)) {
    case 0:
    case 1: return rho_ppm_;
    case 2: return top;
    default: return rho_ppm_ + static_cast<std::uint32_t>(rng_.uniform(top - rho_ppm_));
  }
}

std::string SimCluster::describe_scenario() const {
  std::ostringstream d;
  d << "profile=" << opt_.profile.name << " members=" << opt_.members << " replicas=" << replicas_
    << " delay=" << true_ms(faulty_net_.delay_min_ns) << ".." << true_ms(faulty_net_.delay_max_ns)
    << " tail=" << faulty_net_.tail_ppm << "ppm/" << true_ms(faulty_net_.tail_max_ns)
    << " far_tail=" << faulty_net_.far_tail_ppm << "ppm/" << true_ms(faulty_net_.far_tail_max_ns)
    << " reorder=" << faulty_net_.reorder_ppm << "ppm ttl_max=" << true_ms(ttl_max_.count_ns())
    << " margin=" << true_ms(margin_.count_ns()) << (clients_ ? " clients=" + std::to_string(clients_) : "")
    << (client_id_space_ ? " client_ids=" + std::to_string(client_id_space_) : "")
    << " config_rho=";
  for (std::size_t m = 0; m < members_.size(); ++m) d << (m ? "," : "") << members_[m].rho_ppm;
  if (opt_.profile.vary) d << " long_holds=" << long_hold_pct_ << "%";
  if (healed_fault_ != HealedFault::none) {
    d << " healed_fault=" << (healed_fault_ == HealedFault::crash ? "crash" : "pause") << "@+"
      << true_ms(healed_fault_offset_ns_);
  }
  return d.str();
}

core::NodeConfig SimCluster::node_config(std::uint32_t m, core::RecoveryMode mode) const {
  core::NodeConfig c;
  for (std::uint32_t i = 0; i < opt_.members; ++i) c.members.push_back(core::MemberId(i + 1));
  c.self = members_[m].id;
  c.incarnation = core::Incarnation(members_[m].incarnation);
  const Member& mem = members_[m];
  c.rho_ppm = mem.rho_ppm;
  c.margin = margin_;
  c.ttl_min = core::Duration::ms(10);
  c.ttl_max = mem.ttl_max;
  c.replicas = replicas_;
  c.recovery = mode;
  c.persist = disks_;
  c.recovered_reservation = mem.disk.value_or(core::Token{});
  // What the state directory says earlier lives voted under (zero without
  // one: nothing persists it, so the simulator never changes the
  // configuration of a member without a disk).
  c.prior_ttl_max = mem.voted_ttl_max;
  c.prior_rho_ppm = mem.voted_rho_ppm;
  // The configuration record on the disk (issue 21); none: the initial one,
  // or the voters a --reconfigs run starts with.
  // A wiped directory holds only what this life's recovery wrote there.
  if (disks_) c.recovered_cfg = mem.cfg_disk ? mem.cfg_disk : mem.wiped || mem.initial_record ? std::nullopt : start_cfg_;
  // Small limits, so that the bounds of Guarantee 4 are actually reached.
  c.limits.leases_per_voter = 64;
  c.limits.waiters_per_resource = 8;
  c.limits.waiters_per_voter = 64;
  c.limits.acquires_in_flight = 16;
  if constexpr (requires { c.limits.idle_fences; }) c.limits.idle_fences = 16;
  if (mem.client) {
    // A client keeps no state: each life starts fresh and votes on nothing.
    c.recovery = core::RecoveryMode::first_start;
    c.persist = false;
    c.recovered_reservation = core::Token{};
    c.prior_ttl_max = core::Duration::zero();
    c.prior_rho_ppm = 0;
    c.recovered_cfg.reset();
  }
  return c;
}

// ---- members -------------------------------------------------------------------

bool SimCluster::member_runs(std::uint32_t m) const { return members_[m].state == State::up; }

core::Instant SimCluster::local_now(std::uint32_t m) { return members_[m].clock->local_at(now_); }

void SimCluster::trace(std::uint32_t m, const std::string& what) {
  if (!opt_.trace) return;
  *opt_.trace << true_ms(now_) << " n" << (m + 1) << " [" << local_s(local_now(m)) << "] " << what << "\n";
}

void SimCluster::trace_world(const std::string& what) {
  if (!opt_.trace) return;
  *opt_.trace << true_ms(now_) << " world " << what << "\n";
}

void SimCluster::start_node(std::uint32_t m, core::RecoveryMode mode) {
  Member& mem = members_[m];
  auto created = core::Node::create(node_config(m, mode), rng_.next(), local_now(m));
  if (!created.ok()) {
    checker_.report(now_, 0, "n" + std::to_string(m + 1) + ": Node::create failed: " + std::string(created.what()));
    return;
  }
  mem.node = std::move(created.value());
  mem.floor_due.reset();
  mem.cfg_due.reset();
  if (mode == core::RecoveryMode::peers && !mem.client) {
    mem.floor_due = acquired_max_;
    mem.cfg_due = committed_max_;
  }
  if (disks_) {
    // The state directory records the configuration a life votes under
    // before it votes (synchronously, at start), so the next life's
    // quarantine covers it (NodeConfig::prior_ttl_max, prior_rho_ppm).
    mem.voted_ttl_max = std::max(mem.voted_ttl_max, mem.ttl_max);
    mem.voted_rho_ppm = std::max(mem.voted_rho_ppm, mem.rho_ppm);
  }
  mem.state = State::up;
  mem.until_true_ns = INT64_MAX;
  after_call(m);
}

void SimCluster::after_call(std::uint32_t m) {
  Member& mem = members_[m];
  core::Node& node = *mem.node;
  node.take_outbox(outbox_);
  for (const core::Event& e : outbox_.events) {
    if (e.kind == core::EventKind::acquired) acquired_max_ = std::max(acquired_max_, e.token);
    trace(m, describe(e));
    checker_.on_event(now_, key(m, e.id), e, *mem.clock);
    workload_.on_event(now_, m, e);
    if (across_ != Across::off) across_event(m, e);
  }
  // Batch the messages for each destination into datagrams, in order.
  std::map<std::uint32_t, std::vector<core::Message>> by_dest;
  for (core::Outgoing& o : outbox_.messages) {
    BATON_ASSERT(o.to != mem.id);
    by_dest[o.to.value].push_back(std::move(o.msg));
  }
  if (mem.client && !by_dest.empty()) client_route_[mem.id.value] = m + 1;
  for (auto& [to, msgs] : by_dest) {
    const std::uint32_t dst = slot_of(core::MemberId(to));
    if (dst == 0) {
      trace(m, "to a client life that is gone: " + std::to_string(msgs.size()) + " messages not sent");
      continue;
    }
    for (std::size_t i = 0; i < msgs.size(); i += core::limits::messages_per_datagram_max) {
      Datagram d{mem.id, core::MemberId(to), {}, 0, m + 1, dst};
      const std::size_t end = std::min(msgs.size(), i + core::limits::messages_per_datagram_max);
      for (std::size_t j = i; j < end; ++j) d.msgs.push_back(std::move(msgs[j]));
      net_.send(now_, std::move(d));
    }
  }
  if (outbox_.reconfigured) on_reconfigured(m, *outbox_.reconfigured);
  if (outbox_.persist_config) {
    // Written before any of this outbox's datagrams leave (the runtime
    // writes it synchronously, first): a crash cannot fall between.
    trace(m, "persist configuration " + core::to_string(outbox_.persist_config->record) + " promised " +
                 std::to_string(outbox_.persist_config->promised));
    if (disks_ && !mem.client) mem.cfg_disk = *outbox_.persist_config;
  }
  // Peer recovery (core/recovery.hpp): the answers include a member of
  // every majority that ever committed a token, so the floor learned is at
  // least every token a lease was acquired with before this life started.
  if (mem.floor_due && node.recovery().floor_known()) {
    if (node.voter().table().floor() < *mem.floor_due) {
      checker_.report(now_, 0, "n" + std::to_string(m + 1) + " learned floor " +
                                   std::to_string(node.voter().table().floor().value) + " from its peers, below token " +
                                   std::to_string(mem.floor_due->value) + " of a lease acquired before it restarted");
    }
    mem.floor_due.reset();
  }
  // And the record it votes under is at least the newest one committed
  // before it restarted (the answers include a member of the quorum that
  // committed the next record after any it learns of).
  // (Unless its own promise is above that record's ballot: V1 refuses the
  // record then, as at any voter holding a stray promise, and the repair
  // re-proposes it higher.)
  if (mem.cfg_due && node.recovery().floor_known()) {
    if (node.cfg().record.id < *mem.cfg_due && node.cfg().promised <= mem.cfg_due->ballot) {
      checker_.report(now_, 0, "n" + std::to_string(m + 1) + " recovered from its peers under " +
                                   core::to_string(node.cfg().record.id) + ", older than " +
                                   core::to_string(*mem.cfg_due) + " committed before it restarted");
    }
    mem.cfg_due.reset();
  }
  // A member never votes under a record older than the one on its disk.
  if (!mem.client && mem.cfg_disk && node.cfg().record.id < mem.cfg_disk->record.id) {
    checker_.report(now_, 0, "n" + std::to_string(m + 1) + " votes under " + core::to_string(node.cfg().record.id) +
                                 " below its persisted " + core::to_string(mem.cfg_disk->record.id));
  }
  if (outbox_.persist) {
    if (mem.writing) {
      checker_.report(now_, 0, "n" + std::to_string(m + 1) + " asked to persist a reservation while one is syncing");
    }
    trace(m, "persist reservation " + std::to_string(outbox_.persist->value));
    mem.writing = PendingWrite{*outbox_.persist, now_ + draw(rng_, opt_.profile.disk_sync_ns)};
  }
  checker_.check_status(now_, m, node.status(), node.config().limits);
#ifdef BATON_SIM_INVARIANTS
  if (std::string broken = opt_.invariants ? core::check_invariants(node) : std::string(); !broken.empty()) {
    checker_.report(now_, 0, "n" + std::to_string(m + 1) + " invariant: " + broken);
  }
#endif
  const std::int64_t wake = mem.clock->true_at(node.next_deadline());
  // Never before the deadline (true_at rounds up); a deadline already due
  // runs at the next step, one nanosecond on, so that time always moves.
  mem.wake_true_ns = wake == SimClock::never_ns ? INT64_MAX : std::max(wake, now_ + 1);
}

Result<core::AcquireId> SimCluster::acquire(std::uint32_t m, const core::AcquireArgs& args) {
  Member& mem = members_[m];
  const core::Instant local = local_now(m);
  auto r = mem.node->acquire(local, args);
  trace(m, "call acquire " + args.resource.str() + " ttl=" + std::to_string(args.ttl.count_ms()) + "ms wait=" +
               std::to_string((args.wait_until - local).count_ms()) + "ms" + (args.auto_renew ? " auto_renew" : "") +
               " -> " + (r.ok() ? "acq" + std::to_string(r.value().value) : std::string(errc_name(r.code()))));
  if (r.ok()) {
    checker_.on_acquire_call(now_, key(m, r.value()), args.resource.str(), mem.clock->true_at(args.wait_until),
                             args.wait_until > local);
  }
  after_call(m);
  return r;
}

void SimCluster::release(std::uint32_t m, core::AcquireId id) {
  Member& mem = members_[m];
  checker_.on_release_call(now_, key(m, id));  // the application stops using it first
  auto r = mem.node->release(local_now(m), id);
  trace(m, "call release acq" + std::to_string(id.value) + " -> " + std::string(errc_name(r.code())));
  after_call(m);
}

void SimCluster::renew(std::uint32_t m, core::AcquireId id) {
  Member& mem = members_[m];
  auto r = mem.node->renew(local_now(m), id);
  trace(m, "call renew acq" + std::to_string(id.value) + " -> " + std::string(errc_name(r.code())));
  after_call(m);
}

void SimCluster::deliver(const Datagram& d) {
  const std::uint32_t m = d.dst_slot() - 1;
  Member& mem = members_[m];
  if (mem.state == State::crashed) return;
  if (mem.id != d.to) return;  // to a client life that has ended (its socket is gone)
  if (mem.state == State::paused) {
    if (mem.inbox.size() < inbox_max) mem.inbox.push_back(d);  // else: the socket buffer overflows
    return;
  }
  if (opt_.trace) {
    for (const core::Message& msg : d.msgs) trace(m, "<- n" + std::to_string(d.src_slot()) + " " + describe(msg));
  }
  mem.node->on_messages(local_now(m), d.from, d.msgs);
  after_call(m);
}

void SimCluster::on_wake(std::uint32_t m) {
  Member& mem = members_[m];
  trace(m, "deadline");
  mem.node->on_deadline(local_now(m));
  after_call(m);
}

void SimCluster::on_write_done(std::uint32_t m) {
  Member& mem = members_[m];
  const core::Token value = mem.writing->value;
  mem.writing.reset();
  mem.disk = value;
  mem.wiped = false;  // the floor file is there: the next start reads it
  if (mem.state == State::paused) {
    mem.persisted_unseen = true;
    return;
  }
  trace(m, "persisted reservation " + std::to_string(value.value));
  mem.node->on_persisted(local_now(m), value);
  after_call(m);
}

void SimCluster::crash(std::uint32_t m) {
  Member& mem = members_[m];
  if (mem.state == State::crashed) return;
  trace(m, "CRASH");
  // Lease traffic of the dying member that a voter may still act on: in
  // flight, or parked at a live voter for a reservation sync.
  std::set<std::string> traffic = net_.lease_traffic_of(mem.id);
  for (const Member& other : members_) {
    if (other.state == State::crashed || !other.node) continue;
    for (const auto& [from, r] : other.node->voter().parked_requests()) {
      if (from == mem.id) traffic.insert(r.resource.str());
    }
  }
  checker_.on_crash(now_, m, traffic);
  workload_.on_crash(m);
  mem.node.reset();
  // A sync in progress may or may not have reached the disk.
  if (mem.writing && rng_.uniform(1) == 0) {
    mem.disk = mem.writing->value;
    mem.wiped = false;
  }
  mem.writing.reset();
  mem.persisted_unseen = false;
  mem.inbox.clear();
  mem.state = State::crashed;
  mem.wake_true_ns = INT64_MAX;
  // Half of the restarts come back at once, while leases granted by the
  // member's previous life are still believed (the quarantine's reason to be).
  mem.until_true_ns = now_ + (rng_.uniform(1) ? uniform_ns(ms_ns, 20 * ms_ns) : uniform_ns(20 * ms_ns, 3 * s_ns));
  ++result_.crashes;
}

void SimCluster::restart(std::uint32_t m) {
  Member& mem = members_[m];
  if (mem.client) {
    // A client comes back as a new identity: a fresh id and incarnation.
    ++mem.life;
    draw_client_identity(mem);
    trace(m, "RESTART as client " + std::to_string(mem.id.value) + " incarnation " + std::to_string(mem.incarnation));
    start_node(m, core::RecoveryMode::first_start);
    return;
  }
  ++mem.life;
  ++mem.incarnation;
  if (opt_.profile.vary && !mem.wiped) change_configuration(m);
  trace(m, "RESTART incarnation " + std::to_string(mem.incarnation) +
               (disks_ && !mem.wiped ? " reservation " + std::to_string(mem.disk.value_or(core::Token{}).value) : " peers") +
               (opt_.profile.vary ? " ttl_max=" + true_ms(mem.ttl_max.count_ns()) + " rho=" +
                                        std::to_string(mem.rho_ppm) + "ppm prior_ttl_max=" +
                                        true_ms(mem.voted_ttl_max.count_ns()) + " prior_rho=" +
                                        std::to_string(mem.voted_rho_ppm) + "ppm"
                                  : std::string()));
  start_node(m, disks_ && !mem.wiped ? core::RecoveryMode::reservation : core::RecoveryMode::peers);
}

// --reconfigs runs: a crash that also wipes the state directory (a disk
// replaced, a host re-provisioned): the member comes back learning its
// floor, record and promise from its peers (core/recovery.hpp (c)). One
// such member recovering at a time, within the peer-recovery budget
// (unrecovered_max), and never the only voter of a voter set of any record
// a member holds: nobody else could vouch for its tokens (the member would
// stay unready for good, which is what losing that voter's disk means).
bool SimCluster::may_wipe(std::uint32_t m) {
  if (!wipes_ || phase_ != Phase::faulty || members_[m].client) return false;
  if (unrecovered() + (unrecovered(members_[m]) ? 0 : 1) > unrecovered_max()) return false;
  const core::MemberId id = members_[m].id;
  const auto alone = [&](const std::vector<core::MemberId>& g) { return g.size() == 1 && g.front() == id; };
  for (std::uint32_t o = 0; o < opt_.members; ++o) {
    const Member& mem = members_[o];
    if (mem.wiped) return false;
    std::vector<const core::CfgRecord*> held;
    if (mem.cfg_disk) held.push_back(&mem.cfg_disk->record);
    if (mem.node) held.push_back(&mem.node->cfg().record);
    for (const core::CfgRecord* r : held) {
      if (alone(r->old_voters) || alone(r->new_voters)) return false;
    }
    // Nor the target of a run under way: its joint record would be such a set.
    if (mem.node && mem.node->reconfigurer().active() && alone(mem.node->reconfigurer().target())) return false;
  }
  return true;
}

void SimCluster::wipe(std::uint32_t m) {
  crash(m);
  Member& mem = members_[m];
  trace(m, "WIPE: its state directory is lost");
  mem.disk.reset();
  mem.cfg_disk.reset();
  // The operator restarts it with the configuration it had: nothing on disk
  // says what earlier lives voted under any more, so this life's own ttl_max
  // and rho must cover them (else the quarantine breaks by construction).
  mem.ttl_max = std::max(mem.ttl_max, mem.voted_ttl_max);
  mem.rho_ppm = std::max(mem.rho_ppm, mem.voted_rho_ppm);
  mem.voted_ttl_max = core::Duration::zero();
  mem.voted_rho_ppm = 0;
  mem.wiped = true;
  ++result_.wipes;
  result_.scenario += " wipe=n" + std::to_string(m + 1);
}

// An operator may restart a member with a longer or shorter ttl_max and a
// larger or smaller rho. Only members with a disk: it is what tells the new
// life what its predecessors voted under; without one nothing could, and a
// change would break the quarantine by construction, not find a bug. Not
// in the healed phase: its ttls are fixed by the configuration it opened with.
void SimCluster::change_configuration(std::uint32_t m) {
  if (!disks_ || phase_ == Phase::healed || phase_ == Phase::drain) return;
  if (rng_.uniform(2) != 0) return;  // a third of the restarts
  Member& mem = members_[m];
  mem.ttl_max = core::Duration::ns(draw(rng_, opt_.profile.ttl_max_ns));
  mem.rho_ppm = draw_config_rho();
  ttl_max_seen_ = std::max(ttl_max_seen_, mem.ttl_max);
  rho_seen_ = std::max(rho_seen_, mem.rho_ppm);
}

void SimCluster::pause(std::uint32_t m, std::int64_t for_ns) {
  Member& mem = members_[m];
  if (mem.state != State::up) return;
  trace(m, "PAUSE for " + true_ms(for_ns));
  checker_.on_pause(now_, m);
  mem.state = State::paused;
  mem.until_true_ns = now_ + for_ns;
  ++result_.pauses;
}

void SimCluster::resume(std::uint32_t m) {
  Member& mem = members_[m];
  mem.state = State::up;
  mem.until_true_ns = INT64_MAX;
  trace(m, "RESUME");
  checker_.on_resume(now_, m);  // a stale holder writes before it looks at anything
  if (mem.persisted_unseen) {
    mem.persisted_unseen = false;
    mem.node->on_persisted(local_now(m), *mem.disk);
    after_call(m);
  }
  while (!mem.inbox.empty() && mem.state == State::up) {
    Datagram d = std::move(mem.inbox.front());
    mem.inbox.pop_front();
    deliver(d);
  }
}

// Members whose memory is gone or not yet rebuilt: peer recovery needs all
// but floor(R/2) of the others recovered, so peer-only runs keep at most
// floor(R/2) of them at once (DESIGN "Restart").
std::uint32_t SimCluster::unrecovered() const {
  // Members only: clients vote on nothing.
  return static_cast<std::uint32_t>(std::count_if(members_.begin(), members_.begin() + opt_.members,
                                                  [](const Member& mem) { return unrecovered(mem); }));
}

std::int64_t SimCluster::change_retry_ns() { return now_ + 100 * ms_ns + uniform_ns(0, 400 * ms_ns); }

std::vector<std::uint32_t> SimCluster::shuffled_members(core::Rng& rng) {
  std::vector<std::uint32_t> order(opt_.members);
  for (std::uint32_t m = 0; m < opt_.members; ++m) order[m] = m;
  for (std::uint32_t i = opt_.members; i > 1; --i) std::swap(order[i - 1], order[rng.uniform(i - 1)]);
  return order;
}

bool SimCluster::unrecovered(const Member& mem) {
  if (mem.state == State::crashed) return true;
  const core::NodeStatus s = mem.node->status();
  return s.quarantined || !s.floor_recovered;
}

std::uint32_t SimCluster::unrecovered_max() const {
  return std::min(opt_.members, replicas_) / 2;
}

// Down for a resource's voters: crashed, paused, or not yet recovered.
bool SimCluster::impaired(const Member& mem) const { return mem.state == State::paused || unrecovered(mem); }

// ---- faults --------------------------------------------------------------------

void SimCluster::inject_fault() {
  const std::uint32_t n = opt_.members;
  const auto pick = [&] { return static_cast<std::uint32_t>(rng_.uniform(n - 1)); };
  const std::uint64_t roll = rng_.uniform(99);
  std::uint32_t a = pick();
  if (rng_.uniform(1) == 0) {
    // Aim half of the faults at a member whose voter holds live leases: a
    // crash there is what restart quarantine exists for.
    std::vector<std::uint32_t> voting;
    for (std::uint32_t m = 0; m < n; ++m) {
      if (members_[m].state == State::up && members_[m].node->status().live_leases > 0) voting.push_back(m);
    }
    if (!voting.empty()) a = voting[rng_.uniform(voting.size() - 1)];
  }
  std::uint32_t b = pick();
  if (n > 1 && b == a) b = (a + 1) % n;
  const core::MemberId ia(a + 1), ib(b + 1);
  const std::int64_t heal_at = now_ + uniform_ns(10 * ms_ns, 2 * s_ns);
  const auto& t = fault_mix_;
  const auto block = [&](core::MemberId from, core::MemberId to) {
    net_.block(from, to);
    heals_.push_back(Heal{heal_at, from, to});
  };
  if (roll < t[0] && n > 1) {
    trace_world("partition one-way n" + std::to_string(a + 1) + "->n" + std::to_string(b + 1) + " until " + true_ms(heal_at));
    block(ia, ib);
    ++result_.partitions;
  } else if (roll < t[1] && n > 1) {
    trace_world("partition n" + std::to_string(a + 1) + "<->n" + std::to_string(b + 1) + " until " + true_ms(heal_at));
    block(ia, ib);
    block(ib, ia);
    ++result_.partitions;
  } else if (roll < t[2] && n > 1) {
    trace_world("isolate n" + std::to_string(a + 1) + " until " + true_ms(heal_at));
    for (std::uint32_t o = 0; o < n; ++o) {
      if (o == a) continue;
      block(ia, core::MemberId(o + 1));
      block(core::MemberId(o + 1), ia);
    }
    ++result_.partitions;
  } else if (roll < t[3] && n > 1) {
    const std::int64_t until = now_ + uniform_ns(5 * ms_ns, s_ns);
    trace_world("clog n" + std::to_string(a + 1) + "->n" + std::to_string(b + 1) + " until " + true_ms(until));
    net_.clog(ia, ib, until);
    ++result_.clogs;
  } else if (roll < t[4] && n > 1) {
    // Swizzle-clog: every outgoing link of a member, healing in random order.
    trace_world("clog all links from n" + std::to_string(a + 1));
    for (std::uint32_t o = 0; o < n; ++o) {
      if (o != a) net_.clog(ia, core::MemberId(o + 1), now_ + uniform_ns(5 * ms_ns, s_ns));
    }
    ++result_.clogs;
  } else if (roll < t[5]) {
    // Short pauses, and pauses far past any validity (a holder asleep),
    // now and then for many ttls; or what --pause-len asks for.
    if (const auto& len = opt_.profile.pause_ns) {
      pause(a, uniform_ns(len->lo, len->hi));
    } else {
      const std::uint64_t kind = rng_.uniform(19);
      pause(a, kind < 10 ? uniform_ns(ms_ns, 50 * ms_ns)
               : kind < 19 ? uniform_ns(500 * ms_ns, 3 * s_ns)
                           : uniform_ns(3 * s_ns, 10 * s_ns));
    }
  } else if (roll < t[6] && disks_) {
    // A majority (and sometimes everyone) loses its memory at once.
    trace_world("crash a majority");
    std::vector<std::uint32_t> order = shuffled_members();
    std::stable_partition(order.begin(), order.end(), [&](std::uint32_t m) {
      return members_[m].state == State::up && members_[m].node->status().live_leases > 0;
    });
    const std::uint32_t count = static_cast<std::uint32_t>(core::majority(n) + rng_.uniform(n - core::majority(n)));
    for (std::uint32_t i = 0; i < count; ++i) crash(order[i]);
  } else if (roll < t[7]) {
    if (wipes_ && members_[a].state != State::crashed && may_wipe(a)) {
      wipe(a);
    } else if (disks_ || (members_[a].state != State::crashed && unrecovered() < unrecovered_max())) {
      crash(a);
    }
  } else {
    trace_world("heal all links");
    net_.heal_all();
    heals_.clear();
  }
  next_fault_ns_ = now_ + uniform_ns(0, 2 * fault_gap_ns_);
}

// The healed phase's one fault (vary): a member with a waiting acquire
// crashes (and restarts after crash()'s delay) or pauses, if the members
// down, paused or recovering stay a minority of every resource's voters (else
// liveness is not promised); if none qualifies now, try again shortly.
void SimCluster::on_healed_fault() {
  healed_fault_ns_ = INT64_MAX;
  std::uint32_t down = 0;
  for (std::uint32_t m = 0; m < opt_.members; ++m) down += impaired(members_[m]) ? 1 : 0;
  std::vector<std::uint32_t> waiting;
  for (std::uint32_t m = 0; m < opt_.members; ++m) {
    if (members_[m].state == State::up && !impaired(members_[m]) && workload_.waiting(m)) waiting.push_back(m);
  }
  // With reconfigurations every member votes at the end, and a majority of
  // them must stay up: at most (members - 1) / 2 impaired. (Without, the
  // limit stays R/2, which for an even member count is half of them: left
  // as it was, so that those runs replay unchanged; docs/testing.md.)
  const std::uint32_t limit = reconfigs_started_ > 0 ? (opt_.members - 1) / 2 : unrecovered_max();
  if (waiting.empty() || down + 1 > limit) {
    if (now_ + 5 * ms_ns < phase_end_ns_) healed_fault_ns_ = now_ + 5 * ms_ns;
    return;
  }
  const std::uint32_t m = waiting[rng_.uniform(waiting.size() - 1)];
  if (healed_fault_ == HealedFault::crash) {
    trace_world("healed-phase fault: crash n" + std::to_string(m + 1) + ", which waits for a lease");
    result_.scenario += " healed_crash=n" + std::to_string(m + 1);
    crash(m);
  } else {
    const std::int64_t len = uniform_ns(ms_ns, 2 * healed_ttl_max_ns_);
    trace_world("healed-phase fault: pause n" + std::to_string(m + 1) + ", which waits for a lease");
    result_.scenario += " healed_pause=n" + std::to_string(m + 1) + "/" + true_ms(len);
    pause(m, len);
  }
}

void SimCluster::heal_everything() {
  trace_world("HEAL: network healed, paused members resume, crashed members restart");
  net_.heal_all();
  heals_.clear();
  net_.set_profile(healed_profile());
  // With reconfigurations, the members to keep down are chosen once the last
  // one committed (every member voting): before, a minority of the members
  // could be a majority of some record's voters, and a change to those voters
  // could then neither finish nor be undone (that is what stopping a
  // majority of a voter set does; docs/operations.md).
  const bool defer = reconfigs_started_ > 0 || reconfigs_left_ > 0;
  const std::vector<std::uint32_t> down = keep_down_ && !defer ? choose_down() : std::vector<std::uint32_t>{};
  keep_down(down);
  for (std::uint32_t m = 0; m < processes(); ++m) {
    if (std::find(down.begin(), down.end(), m) != down.end()) continue;
    if (members_[m].state == State::paused) resume(m);
    if (members_[m].state == State::crashed) restart(m);
  }
}

void SimCluster::keep_down(const std::vector<std::uint32_t>& down) {
  for (std::uint32_t m : down) {
    crash(m);
    members_[m].until_true_ns = INT64_MAX;  // never restarts
    trace(m, "STAYS DOWN for the rest of the run");
    result_.scenario += " down=n" + std::to_string(m + 1);
  }
}

// Members that stay crashed through the healed phase: at least one, at most a
// minority of any resource's voters, so every resource keeps a live majority.
// Without disks, restarted members recover from their peers, which needs all
// but floor(R/2) of the others recovered: the members kept down count against
// that, so a recovered member is kept down only while the count allows it.
std::vector<std::uint32_t> SimCluster::choose_down() {
  const std::uint32_t allowed = unrecovered_max();
  const std::uint32_t want = 1 + static_cast<std::uint32_t>(rng_.uniform(allowed - 1));
  std::vector<std::uint32_t> order = shuffled_members();
  if (wipes_) {
    // A wiped member still learning its state needs answers from all but
    // floor(R/2) - 1 of the others, like a diskless one: it and every member
    // kept down count against that, and it goes down first (that costs
    // nothing more); a member merely quarantined recovers by itself.
    const auto learning = [&](std::uint32_t m) { return members_[m].wiped && unrecovered(members_[m]); };
    std::stable_partition(order.begin(), order.end(), learning);
    std::uint32_t cost = static_cast<std::uint32_t>(std::count_if(order.begin(), order.end(), learning));
    std::vector<std::uint32_t> down;
    for (std::uint32_t m : order) {
      if (down.size() == want) break;
      if (!learning(m)) {
        if (cost >= allowed) break;
        ++cost;
      }
      down.push_back(m);
    }
    return down;
  }
  // Crashed members first: keeping them down costs peer recovery nothing.
  std::stable_partition(order.begin(), order.end(), [&](std::uint32_t m) { return members_[m].state == State::crashed; });
  std::uint32_t unrecovered_now = unrecovered();
  std::vector<std::uint32_t> down;
  for (std::uint32_t m : order) {
    if (down.size() == want) break;
    const bool counted = unrecovered(members_[m]);
    if (!disks_ && !counted && unrecovered_now >= allowed) continue;
    if (!counted) ++unrecovered_now;
    down.push_back(m);
  }
  return down;
}

void SimCluster::enter_phase(Phase p) {
  phase_ = p;
  switch (p) {
    case Phase::faulty: break;
    case Phase::settle: {
      result_.faulty_network = net_.counters();
      heal_everything();
      // A last record every member can adopt, so that no lower-ballot record
      // a promise refuses is the newest when liveness is measured.
      if (cfg_bumps_done_ > 0) cfg_bump(/*last=*/true);
      // A last reconfiguration, back to every member: it must commit.
      if (reconfigs_started_ > 0 || reconfigs_left_ > 0) {
        reconfigs_left_ = 0;
        next_reconfig_ns_ = INT64_MAX;
        reconfig(/*last=*/true);
      }
      workload_.set_phase(WorkloadPhase::settle);
      // Until every hold, quarantine, old lease and delayed datagram of the
      // faulty phase has run out: restart quarantine, plus the longest hold a
      // client keeps (3 ttl_max), plus a hold stretched by rho, plus the
      // longest delay. Every life's ttl_max and rho count.
      const core::Duration stretched = core::drift::stretch_up(ttl_max_seen_, rho_seen_);
      const std::int64_t delay_max =
          std::max({faulty_net_.far_tail_max_ns, faulty_net_.tail_max_ns, faulty_net_.delay_max_ns});
      phase_end_ns_ = now_ + 2 * stretched.count_ns() + 3 * ttl_max_seen_.count_ns() + delay_max;
      break;
    }
    case Phase::healed: {
      trace_world("LIVENESS window opens");
      // Healed-phase ttls fit every member's ttl_max (a voter denies longer
      // ones): 200-800 ms with the default ttl_max of 1 s.
      core::Duration ttl_cap = members_.front().ttl_max;
      for (const Member& mem : members_) ttl_cap = std::min(ttl_cap, mem.ttl_max);
      healed_ttl_max_ns_ = std::min<std::int64_t>(800 * ms_ns, ttl_cap.count_ns());
      workload_.set_healed_ttl(std::min<std::int64_t>(200 * ms_ns, healed_ttl_max_ns_ / 4), healed_ttl_max_ns_);
      // A crashed or paused member's requests and holds may keep a resource
      // from its waiters for one of its ttls (on a voter's clock: stretched).
      checker_.set_member_fault_allowance(
          core::drift::stretch_up(core::Duration::ns(healed_ttl_max_ns_), rho_ppm_).count_ns());
      // Clients that share ids (--client-ids) steal each other's answers:
      // that costs liveness by design (docs/protocol.md "Clients"), so such
      // a run checks Guarantees 1, 2 and 4 only.
      if (client_id_space_ == 0) {
        checker_.start_liveness(now_);
      } else {
        trace_world("shared client ids: liveness not measured");
      }
      workload_.set_phase(WorkloadPhase::healed);
      phase_end_ns_ = now_ + healed_window_ns;
      if (healed_fault_ != HealedFault::none) healed_fault_ns_ = now_ + healed_fault_offset_ns_;
      break;
    }
    case Phase::drain:
      trace_world("draining");
      workload_.set_phase(WorkloadPhase::stopped);
      phase_end_ns_ = now_ + drain_max_ns;
      break;
    case Phase::across:
      phase_end_ns_ = now_ + 60 * s_ns;  // two changes of a few ttl_max each, and the hold
      break;
    case Phase::done:
      if (last_reconfig_ == LastReconfig::pending) {
        checker_.report(now_, 0, "the last reconfiguration had not committed when the run ended");
      }
      checker_.finish(now_);
      phase_end_ns_ = INT64_MAX;
      break;
  }
}

// ---- the run -------------------------------------------------------------------

SimResult SimCluster::run() {
  draw_scenario();
  for (std::uint32_t m = 0; m < processes(); ++m) start_node(m, core::RecoveryMode::first_start);
  trace_world("scenario " + result_.scenario);
  next_fault_ns_ = uniform_ns(0, 2 * fault_gap_ns_);
  const std::uint64_t step_cap = opt_.fault_steps * 4 + 2'000'000;

  while (phase_ != Phase::done && !checker_.failed()) {
    if (steps_ >= step_cap) {
      checker_.report(now_, 0, "step cap reached: " + std::to_string(step_cap) + " steps without finishing");
      break;
    }
    if (phase_ == Phase::faulty && steps_ >= opt_.fault_steps) enter_phase(Phase::settle);
    if (phase_ == Phase::drain && workload_.idle()) {
      if (!start_across()) {
        enter_phase(Phase::done);
        break;
      }
      enter_phase(Phase::across);
    }
    // The next thing to happen; ties resolve in this order (checker first:
    // a belief ending at t is over before anything else happens at t).
    enum class Next { checker, phase, heal, fault, member_until, write, network, wake, workload, healed_fault, across, client,
                      cfg_bump, reconfig, keep_down };
    Next what = Next::checker;
    std::uint32_t who = 0;
    std::int64_t t = checker_.next_due_ns();
    const auto consider = [&](std::int64_t at, Next w, std::uint32_t m) {
      if (at < t) {
        t = at;
        what = w;
        who = m;
      }
    };
    consider(phase_end_ns_, Next::phase, 0);
    for (std::size_t i = 0; i < heals_.size(); ++i) consider(heals_[i].at_true_ns, Next::heal, static_cast<std::uint32_t>(i));
    if (phase_ == Phase::faulty) consider(next_fault_ns_, Next::fault, 0);
    for (std::uint32_t m = 0; m < processes(); ++m) consider(members_[m].until_true_ns, Next::member_until, m);
    for (std::uint32_t m = 0; m < opt_.members; ++m) {
      if (members_[m].writing) consider(members_[m].writing->done_true_ns, Next::write, m);
    }
    consider(net_.next_arrival_ns(), Next::network, 0);
    for (std::uint32_t m = 0; m < processes(); ++m) {
      if (members_[m].state == State::up) consider(members_[m].wake_true_ns, Next::wake, m);
    }
    consider(workload_.next_due_ns(*this), Next::workload, 0);
    if (phase_ == Phase::healed) consider(healed_fault_ns_, Next::healed_fault, 0);
    if (phase_ == Phase::across) consider(across_next_ns_, Next::across, 0);
    if (phase_ == Phase::faulty) consider(next_client_event_ns_, Next::client, 0);
    if (phase_ == Phase::faulty) consider(next_cfg_bump_ns_, Next::cfg_bump, 0);
    if (phase_ == Phase::faulty || last_reconfig_ != LastReconfig::none) consider(next_reconfig_ns_, Next::reconfig, 0);
    consider(keep_down_at_ns_, Next::keep_down, 0);
    if (t == INT64_MAX) {
      checker_.report(now_, 0, "nothing left to happen before the run finished");
      break;
    }
    // Work that fell due while its member was paused or crashed runs now.
    now_ = std::max(now_, t);
    ++steps_;
    switch (what) {
      case Next::checker: checker_.run_due(now_); break;
      case Next::phase:
        if (phase_ == Phase::across && across_ != Across::done) {
          checker_.report(now_, 3, "the across phase did not finish in time");
          break;
        }
        enter_phase(phase_ == Phase::settle ? Phase::healed : phase_ == Phase::healed ? Phase::drain : Phase::done);
        break;
      case Next::across: across_step(); break;
      case Next::heal: {
        const Heal h = heals_[who];
        heals_.erase(heals_.begin() + who);
        net_.unblock(h.from, h.to);
        break;
      }
      case Next::fault: inject_fault(); break;
      case Next::member_until:
        if (members_[who].state == State::paused) {
          resume(who);
        } else {
          restart(who);
        }
        break;
      case Next::write: on_write_done(who); break;
      case Next::network:
        if (auto d = net_.pop_due(now_)) deliver(*d);
        break;
      case Next::wake: on_wake(who); break;
      case Next::workload: workload_.run_due(now_, *this); break;
      case Next::healed_fault: on_healed_fault(); break;
      case Next::client: client_event(); break;
      case Next::cfg_bump: cfg_bump(); break;
      case Next::reconfig: reconfig(/*last=*/phase_ != Phase::faulty); break;
      case Next::keep_down: {
        keep_down_at_ns_ = INT64_MAX;
        // A minority of the voters (every member, since the last change):
        // with an even count, choose_down's R/2 would be half of them.
        std::vector<std::uint32_t> down = choose_down();
        down.resize(std::min<std::size_t>(down.size(), (opt_.members - 1) / 2));
        keep_down(down);
        break;
      }
    }
  }
  result_.violation = checker_.failed() ? std::optional<Violation>(checker_.violation()) : std::nullopt;
  result_.figures = checker_.figures();
  result_.network = net_.counters();
  result_.steps = steps_;
  result_.end_true_ns = now_;
  return result_;
}

}  // namespace baton::sim
