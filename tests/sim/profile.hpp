// SPDX-License-Identifier: Apache-2.0
// SimProfile: what a seed's world may draw — fault rates and ranges, the
// member count, and (with `vary`) the configuration the members run with.
//
// A profile is a set of ranges. Each seed draws one value from each range at
// the start of its run (SimCluster::draw_scenario), so the same seed under the
// same profile replays exactly. Named profiles (`default`, `harsh`, `reorder`)
// are starting points; a baton-sim flag replaces one parameter's range:
// `--dup 20%` fixes duplication at 20 % in every seed, `--dup 10%..30%` draws it
// from that range per seed.
//
// Draw order and replay. A parameter that the profile draws (a range wider
// than one value) always consumes its draw, even when a flag overrides it: a
// flag that fixes one value leaves every other draw of the seed as it was, so
// "does seed 123 still fail with --loss 0%?" compares like with like. A flag
// range draws once more, from the flag's range. The `default` profile draws
// exactly what baton-sim drew before profiles existed, in the same order, so
// documented seeds replay with the same trace.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/rng.hpp"

namespace baton::sim {

// An inclusive range of integers (ppm, ns, counts); lo == hi is one value.
struct Range {
  std::int64_t lo = 0;  // smallest value drawn
  std::int64_t hi = 0;  // largest value drawn (inclusive)
  bool single() const { return lo == hi; }
};

// One parameter of the world: what the profile draws, and a flag's override.
struct Param {
  Range profile;                      // the profile's range (used when `choices` is empty)
  std::vector<std::int64_t> choices;  // non-empty: the profile picks one of these, uniformly
  std::optional<Range> flag;          // a command-line override, drawn after the profile's draw
  // Largest value a seed can get (for bounds that must cover every draw).
  std::int64_t max() const;
  // Smallest value a seed can get.
  std::int64_t min() const;
};

// The profile's draw (one rng draw if it has a range or several choices, none
// for a single value), then the flag's (the same rule), which wins.
std::int64_t draw(core::Rng& rng, const Param& p);

struct SimProfile {
  std::string name = "default";  // the named profile it started from
  // ---- the member count: drawn from its own Rng (members_for_seed) ----
  Param members;                 // cluster size
  // ---- client processes (issue 21): drawn from their own Rng (clients_for_seed) ----
  Param clients;                 // processes that acquire through the members without a slot (0: none)
  Param client_ids;              // client ids are drawn from this many values (0: all 2^31-1, never a
                                 // live client's); small values make clients share ids (collisions)
  // ---- configuration records (issue 21): drawn from their own Rng (cfg_bumps_for_seed) ----
  Param cfg_bumps;               // newer records of the same voters installed at random members during
                                 // the faulty phase (0: none), standing in for a driver's proposals
  Param reconfigs;               // reconfigurations (Node::reconfigure) started by random members during
                                 // the faulty phase (0: none); one more when it ends, which must commit
  // ---- the faulty phase's network (SimNetwork's NetworkProfile) ----
  Param loss_ppm;                // chance a datagram is lost
  Param dup_ppm;                 // chance a datagram is delivered twice
  Param delay_min_ns;            // usual one-way delay, lower end
  Param delay_max_ns;            // usual one-way delay, upper end
  Param tail_ppm;                // chance of a long delay ...
  Param tail_max_ns;             // ... uniform up to this
  Param far_tail_ppm;            // chance of a delay far beyond most ttls ...
  Param far_tail_max_ns;         // ... uniform up to this
  Param reorder_ppm;             // chance a datagram overtakes the one sent before it on its link
  // ---- faults and processes ----
  Param fault_gap_ns;            // mean gap between faults
  Param pause_share_pct;         // whole percent of faults that pause a member
  Param crash_share_pct;         // whole percent of faults that crash members
  std::optional<Range> pause_ns; // flag only: pause lengths uniform in this range (default: three tiers)
  Param disk_sync_ns;            // a reservation sync takes this long (drawn per sync)
  Param disks;                   // 1: members have state directories; 0: they recover from peers
  Param rho_ppm;                 // the clocks' true rate bound (and every member's configured rho, unless vary)
  // ---- configuration (drawn only when `vary` is on) ----
  bool vary = false;             // draw ttl_max, margin, replicas, restart configs, healed-phase waiter faults
  Param ttl_max_ns;              // the members' ttl_max (and the longest ttl clients ask for)
  Param margin_ns;               // NodeConfig::margin
  Param replicas;                // NodeConfig::replicas; a profile value of 0 means "odd, 3..min(members, 7)"
};

// The default profile with no flag applied: baton-sim's world as it was
// before profiles (its scenario line and trace are kept unchanged).
bool is_plain_default(const SimProfile& p);
// The named profiles; nullopt for an unknown name.
std::optional<SimProfile> profile_by_name(std::string_view name);
// Names of the named profiles, for messages.
std::string profile_names();

// Applies one flag (`--dup`, ...) with its value to `p`. Returns "" on success,
// else a message naming the flag and the value. `known` is false when `flag`
// is not a profile flag (the caller handles it).
std::string apply_profile_flag(SimProfile& p, std::string_view flag, std::string_view value, bool& known);
// The profile flags that take a value ("--members", "--dup", ...), in --help
// order; --vary and --no-vary take none.
std::vector<std::string_view> profile_flag_names();
// Relations between parameters (delay_min <= delay_max, shares <= 100 %, ...);
// "" or a message naming the flags.
std::string check_profile(const SimProfile& p);
// The --help text of the profile flags and the named profiles.
std::string profile_help();
// One line: what the profile draws (for the run summary).
std::string describe(const SimProfile& p);

// The member count of a seed: the profile's (or --members') range, drawn from
// an Rng of its own so that the world's draws do not depend on it (a seed's
// run at the count it drew equals the run with --members fixed at that count).
std::uint32_t members_for_seed(const SimProfile& p, std::uint64_t seed);
// The client count of a seed, the same way (a stream of its own): 0 in every
// named profile, so their seeds replay unchanged; --clients sets it.
std::uint32_t clients_for_seed(const SimProfile& p, std::uint64_t seed);
// The configuration bumps of a seed, the same way: 0 in every named profile;
// --cfg-bumps sets it.
std::uint32_t cfg_bumps_for_seed(const SimProfile& p, std::uint64_t seed);
// The reconfigurations of a seed, the same way: 0 in every named profile;
// --reconfigs sets it.
std::uint32_t reconfigs_for_seed(const SimProfile& p, std::uint64_t seed);

// Value parsers, exposed for tests. Each returns nullopt on anything malformed.
// "5%", "0.3%", "2500ppm" -> ppm.
std::optional<std::int64_t> parse_rate_ppm(std::string_view s);
// "100ns", "50us", "3ms", "2.5s" -> ns.
std::optional<std::int64_t> parse_duration_ns(std::string_view s);
// "7" -> 7.
std::optional<std::int64_t> parse_count(std::string_view s);

}  // namespace baton::sim
