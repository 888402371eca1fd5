// SPDX-License-Identifier: Apache-2.0
// baton-sim: runs the deterministic simulator over many seeds, or replays one.
//
//   baton-sim --seeds N [--first-seed S] [--profile P] [fault flags] [--steps K] [--jobs J] [--verbose]
//   baton-sim --seed S [--profile P] [fault flags] [--steps K] [--trace]
//   baton-sim ... --expect-failure   (negative controls: succeed only if a seed fails)
//   baton-sim --help
//
// The last line of a multi-seed run is always "N passed, F failed".
#include <CLI/CLI.hpp>

#include <algorithm>
#include <charconv>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unistd.h>
#include <vector>

#include "sim_cluster.hpp"
#include "trace.hpp"

namespace {

using baton::sim::SimOptions;
using baton::sim::SimProfile;
using baton::sim::SimResult;

struct Args {
  std::uint64_t seeds = 1;          // how many seeds to run
  std::uint64_t first_seed = 1;     // the first of them
  bool single = false;              // --seed given: replay exactly one
  SimProfile profile = *baton::sim::profile_by_name("default");  // what each seed draws
  std::string world_flags;          // --profile and the fault flags as given (not --members), for replay commands
  std::string members_spec = "5";   // --members as given ("5", "3..9"), or the profile's
  std::uint64_t steps = 20000;      // faulty-phase steps per seed
  bool trace = false;
  bool verbose = false;             // one line per seed
  bool expect_failure = false;      // exit 0 only if some seed fails
  bool invariants = true;           // run the core's per-member invariants after every step
  std::uint64_t jobs = 2;           // threads running seeds (1 with --trace)
  unsigned expected_mask = 0;       // --expect-guarantee: bit g set = a failure of guarantee g counts
};

constexpr const char* usage_text =
    "usage: baton-sim --seeds N [--first-seed S] [--profile P] [fault flags] [--steps K] [--jobs J] [--verbose]\n"
    "       baton-sim --seed S [--profile P] [fault flags] [--steps K] [--trace]\n";

int usage_error(const std::string& what) {
  std::fprintf(stderr, "baton-sim: %s\n%s(baton-sim --help lists every flag and profile)\n", what.c_str(), usage_text);
  return 2;
}

void print_help() {
  std::printf(
      "baton-sim: the deterministic simulator (docs/testing.md). Runs seeds of the real core in a simulated\n"
      "world and checks DESIGN's four guarantees; the last line is always 'N passed, F failed'.\n\n%s\n"
      "Run flags:\n"
      "  --seeds N             run N seeds (default 1)\n"
      "  --first-seed S        the first of them (default 1)\n"
      "  --seed S              replay one seed (with --trace: one line per message, event and fault)\n"
      "  --steps K             faulty-phase steps per seed (default 20000)\n"
      "  --jobs J              threads running seeds (default 2; results do not depend on it)\n"
      "  --verbose             one line per seed (scenario, worst hand-off, excused waits)\n"
      "  --no-invariants       skip the core's per-member invariants (the guarantees only)\n"
      "  --expect-failure      exit 0 only if some seed fails (negative controls)\n"
      "  --expect-guarantee L  exit 0 only if some seed breaks a guarantee in L (e.g. 1,2; 0 = core invariant)\n"
      "  --profile NAME        the world's draws: %s (default: default)\n"
      "  --help                this text\n\n%s",
      usage_text, baton::sim::profile_names().c_str(), baton::sim::profile_help().c_str());
}

// CLI11 validators (transform: they hand CLI11 a canonical decimal): an
// unsigned number in [lo, hi], the message naming the value ("--seeds: 'x'
// is not a positive number").
CLI::Validator number_in(std::uint64_t lo, std::uint64_t hi, const char* need) {
  return CLI::Validator(
      [lo, hi, need](std::string& v) -> std::string {
        std::uint64_t out = 0;
        const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
        if (v.empty() || ec != std::errc{} || end != v.data() + v.size() || out < lo || out > hi)
          return "'" + v + "' is not " + need;
        v = std::to_string(out);
        return {};
      },
      "");
}

// --expect-guarantee: comma-separated guarantees 0..4 (0 = core invariant).
std::string guarantee_mask(const std::string& list, unsigned& mask) {
  mask = 0;
  for (char c : list) {
    if (c >= '0' && c <= '4') {
      mask |= 1u << (c - '0');
    } else if (c != ',') {
      mask = 0;
      break;
    }
  }
  return mask == 0 ? "--expect-guarantee: '" + list + "' is not a list of guarantees 0..4 such as 1,2" : "";
}

// Parses argv (CLI11); returns 0 on success, else the exit code (2). --help: -1.
// --profile is applied first, then the fault flags override what it draws.
int parse(int argc, char** argv, Args& a) {
  CLI::App app("baton-sim", "baton-sim");
  std::uint64_t seed = 0;
  std::string profile, expect_guarantee;
  bool no_invariants = false, vary = false, no_vary = false;
  const auto positive = number_in(1, UINT64_MAX, "a positive number");
  app.add_option("--seeds", a.seeds)->transform(positive);
  auto* first = app.add_option("--first-seed", a.first_seed)->transform(number_in(0, UINT64_MAX, "a number"));
  app.add_option("--seed", seed)->transform(number_in(0, UINT64_MAX, "a number"))->excludes(first);
  app.add_option("--steps", a.steps)->transform(positive);
  app.add_option("--jobs", a.jobs)->transform(number_in(1, 64, "a number in 1..64"));
  app.add_flag("--trace", a.trace);
  app.add_flag("--verbose", a.verbose);
  app.add_flag("--no-invariants", no_invariants);
  app.add_flag("--expect-failure", a.expect_failure);
  app.add_option("--expect-guarantee", expect_guarantee);
  app.add_option("--profile", profile);
  const auto names = baton::sim::profile_flag_names();
  std::vector<std::string> values(names.size());
  std::vector<CLI::Option*> world(names.size());
  for (std::size_t i = 0; i < names.size(); ++i) world[i] = app.add_option(std::string(names[i]), values[i]);
  app.add_flag("--vary", vary)->excludes(app.add_flag("--no-vary", no_vary));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    return -1;
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what());
  }
  if (!profile.empty()) {
    const auto p = baton::sim::profile_by_name(profile);
    if (!p) return usage_error("--profile: unknown profile '" + profile + "' (" + baton::sim::profile_names() + ")");
    a.profile = *p;
    a.world_flags += " --profile " + profile;
    const auto& m = p->members.profile;
    a.members_spec = m.single() ? std::to_string(m.lo) : std::to_string(m.lo) + ".." + std::to_string(m.hi);
  }
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (world[i]->count() == 0) continue;
    bool known = false;
    if (std::string err = baton::sim::apply_profile_flag(a.profile, names[i], values[i], known); !err.empty())
      return usage_error(err);
    if (names[i] == "--members") {
      a.members_spec = values[i];  // replay commands name the seed's count instead
    } else {
      a.world_flags += " " + std::string(names[i]) + " " + values[i];
    }
  }
  if (vary || no_vary) {
    bool known = false;
    (void)baton::sim::apply_profile_flag(a.profile, vary ? "--vary" : "--no-vary", "", known);
    a.world_flags += vary ? " --vary" : " --no-vary";
  }
  if (!expect_guarantee.empty() || app.count("--expect-guarantee") > 0) {
    if (std::string err = guarantee_mask(expect_guarantee, a.expected_mask); !err.empty()) return usage_error(err);
    a.expect_failure = true;  // --expect-guarantee implies --expect-failure
  }
  a.invariants = !no_invariants;
  if (app.count("--seed") > 0) {
    a.single = true;
    a.first_seed = seed;
  }
  if (std::string err = baton::sim::check_profile(a.profile); !err.empty()) return usage_error(err);
  if (a.single && app.count("--seeds") > 0) return usage_error("--seed and --seeds exclude each other");
  if (a.trace && !a.single) return usage_error("--trace needs --seed S (one seed)");
  if (a.single) a.seeds = 1;
  if (a.trace) a.jobs = 1;
  return 0;
}

std::string_view guarantee_name(int g) {
  switch (g) {
    case 1: return "guarantee 1 (mutual exclusion)";
    case 2: return "guarantee 2 (fencing)";
    case 3: return "guarantee 3 (liveness)";
    case 4: return "guarantee 4 (bounded state)";
    default: return "core invariant";
  }
}

// The command that replays one seed: its world flags as given, with the
// seed's member count fixed (it is drawn from a stream of its own, so fixing
// it changes nothing else).
std::string replay_command(const Args& a, std::uint64_t seed, std::uint32_t members, const char* argv0) {
  return std::string(argv0) + " --seed " + std::to_string(seed) + a.world_flags + " --members " + std::to_string(members) +
         " --steps " + std::to_string(a.steps) + (a.invariants ? "" : " --no-invariants") + " --trace";
}

// A core assertion aborts the process: say which seeds were running before dying.
constexpr std::size_t jobs_max = 64;
std::atomic<std::uint64_t> g_running[jobs_max];  // per worker: seed + 1 in progress, 0 idle
const char* g_argv0 = "baton-sim";
std::string g_abort_replay;  // the replay command's flags after the seed, built before any seed runs
void on_abort(int) {
  char buf[2048];
  for (std::size_t w = 0; w < jobs_max; ++w) {
    const std::uint64_t s = g_running[w].load();
    if (s == 0) continue;
    const int n = std::snprintf(buf, sizeof buf, "seed %llu: FAILED core assertion (see stderr)\n  replay: %s --seed %llu%s\n",
                                static_cast<unsigned long long>(s - 1), g_argv0, static_cast<unsigned long long>(s - 1),
                                g_abort_replay.c_str());
    if (n > 0 && write(STDOUT_FILENO, buf, static_cast<std::size_t>(std::min<int>(n, sizeof buf - 1))) < 0) break;
  }
  const char last[] = "0 passed, 1 failed\n";
  if (write(STDOUT_FILENO, last, sizeof last - 1) < 0) _exit(134);
  _exit(134);
}

double rtts(std::int64_t ns) { return static_cast<double>(ns) / static_cast<double>(baton::sim::round_trip_ns); }

// Latency figures without keeping every sample: buckets of a tenth of a round
// trip (exact enough for a median), plus the exact worst.
struct Histogram {
  static constexpr std::int64_t bucket_ns = baton::sim::round_trip_ns / 10;
  std::vector<std::uint64_t> buckets = std::vector<std::uint64_t>(100000, 0);
  std::uint64_t count = 0;
  std::int64_t worst_ns = 0;
  void add(std::int64_t ns) {
    const auto b = static_cast<std::size_t>(std::min<std::int64_t>(ns / bucket_ns, 99999));
    ++buckets[b];
    ++count;
    worst_ns = std::max(worst_ns, ns);
  }
  // Upper edge of the bucket holding the q-th quantile (in round trips).
  double quantile(double q) const {
    const auto want = static_cast<std::uint64_t>(q * static_cast<double>(count - 1)) + 1;
    std::uint64_t seen = 0;
    for (std::size_t b = 0; b < buckets.size(); ++b) {
      seen += buckets[b];
      if (seen >= want) return rtts(static_cast<std::int64_t>(b + 1) * bucket_ns);
    }
    return rtts(worst_ns);
  }
  void print(const char* what) const {
    if (count == 0) {
      std::printf("  %s: no samples\n", what);
      return;
    }
    std::printf("  %s: %llu samples, median %.1f, p99 %.1f, worst %.1f round trips\n", what,
                static_cast<unsigned long long>(count), quantile(0.5), quantile(0.99), rtts(worst_ns));
  }
};

// Everything the seeds add up to, guarded by `mu`.
struct Totals {
  std::mutex mu;
  std::uint64_t passed = 0, failed = 0;
  std::uint64_t failed_as_expected = 0;  // failures of a guarantee named by --expect-guarantee
  std::uint64_t acquires = 0, granted = 0, handoffs = 0, stale_rejected = 0, steps = 0;
  std::uint64_t lost_superseded = 0, lost_other = 0;
  std::uint64_t across = 0;  // seeds whose across phase ran (--reconfigs)
  std::uint64_t excused_crash = 0, excused_pause = 0;  // healed-phase waits a member fault excused
  baton::sim::NetworkCounters faulty_net;              // summed over the seeds' faulty phases
  Histogram handoff, free_grant;
};

void account(const Args& a, const SimResult& r, Totals& t) {
  std::lock_guard<std::mutex> lock(t.mu);
  const auto& f = r.figures;
  t.acquires += f.acquires;
  t.granted += f.granted;
  t.handoffs += f.handoffs;
  t.stale_rejected += f.stale_rejected;
  t.lost_superseded += f.lost_superseded;
  t.lost_other += f.lost_other;
  if (r.across) ++t.across;
  t.steps += r.steps;
  t.excused_crash += f.excused_crash;
  t.excused_pause += f.excused_pause;
  t.faulty_net.delivered += r.faulty_network.delivered;
  t.faulty_net.duplicated += r.faulty_network.duplicated;
  t.faulty_net.pairs_in_flight += r.faulty_network.pairs_in_flight;
  t.faulty_net.pairs_swapped += r.faulty_network.pairs_swapped;
  t.faulty_net.sent += r.faulty_network.sent;
  for (std::int64_t ns : f.handoff_ns) t.handoff.add(ns);
  for (std::int64_t ns : f.free_grant_ns) t.free_grant.add(ns);
  if (a.verbose || a.single) {
    // The slowest hand-off tells how close a passing seed came to the bound.
    std::int64_t worst_ns = 0;
    for (std::int64_t ns : f.handoff_ns) worst_ns = std::max(worst_ns, ns);
    for (std::int64_t ns : f.free_grant_ns) worst_ns = std::max(worst_ns, ns);
    std::printf("seed %llu: %s, %llu steps, %s simulated, %llu crashes, %llu pauses, %llu partitions, %llu clogs, "
                "worst hand-off %.1f round trips; %s\n",
                static_cast<unsigned long long>(r.seed), r.ok() ? "ok" : "FAILED",
                static_cast<unsigned long long>(r.steps), baton::sim::true_ms(r.end_true_ns).c_str(),
                static_cast<unsigned long long>(r.crashes), static_cast<unsigned long long>(r.pauses),
                static_cast<unsigned long long>(r.partitions), static_cast<unsigned long long>(r.clogs),
                static_cast<double>(worst_ns) / static_cast<double>(baton::sim::round_trip_ns), r.scenario.c_str());
    for (const std::string& e : f.excused) std::printf("  excused wait: %s\n", e.c_str());
  }
  if (r.ok()) {
    ++t.passed;
    return;
  }
  ++t.failed;
  const auto& v = *r.violation;
  if (a.expected_mask & (1u << v.guarantee)) ++t.failed_as_expected;
  std::printf("seed %llu: FAILED %s at %s: %s\n  scenario: %s\n  replay: %s\n", static_cast<unsigned long long>(r.seed),
              std::string(guarantee_name(v.guarantee)).c_str(), baton::sim::true_ms(v.at_true_ns).c_str(),
              v.what.c_str(), r.scenario.c_str(), replay_command(a, r.seed, r.members, g_argv0).c_str());
  std::fflush(stdout);
}

void print_summary(const Args& a, Totals& totals, double secs, std::size_t jobs) {
  std::printf("summary: %llu seeds, %s members, %llu steps in %.1fs on %zu threads; round trip = %.3fms, liveness bound "
              "%lld round trips (+ %lld syncs of up to %.0fms when members persist)\n",
              static_cast<unsigned long long>(a.seeds), a.members_spec.c_str(),
              static_cast<unsigned long long>(totals.steps), secs, jobs,
              static_cast<double>(baton::sim::round_trip_ns) / 1e6,
              static_cast<long long>(baton::sim::liveness_bound_rtts), static_cast<long long>(baton::sim::liveness_syncs),
              static_cast<double>(a.profile.disk_sync_ns.max()) / 1e6);
  if (!baton::sim::is_plain_default(a.profile)) std::printf("  profile %s\n", describe(a.profile).c_str());
  std::printf("  acquires attempted %llu, granted %llu; hand-offs (healed phase) %llu; stale writes fenced off %llu\n",
              static_cast<unsigned long long>(totals.acquires), static_cast<unsigned long long>(totals.granted),
              static_cast<unsigned long long>(totals.handoffs), static_cast<unsigned long long>(totals.stale_rejected));
  std::printf("  leases lost: %llu superseded, %llu renewal failing, expired or restarted\n",
              static_cast<unsigned long long>(totals.lost_superseded),
              static_cast<unsigned long long>(totals.lost_other));
  if (totals.across > 0) {
    std::printf("  a lease held across two changes of the voters (every member up): %llu seeds\n",
                static_cast<unsigned long long>(totals.across));
  }
  const auto& n = totals.faulty_net;
  const auto pct = [](std::uint64_t part, std::uint64_t whole) {
    return whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0;
  };
  std::printf("  faulty phase: %llu datagrams sent, %.1f%% duplicated; %.1f%% sent while the previous one on their link "
              "was in flight, and %.1f%% of those overtook it\n",
              static_cast<unsigned long long>(n.sent), pct(n.duplicated, n.sent), pct(n.pairs_in_flight, n.sent),
              pct(n.pairs_swapped, n.pairs_in_flight));
  totals.handoff.print("release -> next grant (healed phase)");
  totals.free_grant.print("free with a waiter -> grant (healed phase)");
  if (a.profile.vary) {
    std::printf("  waits past the bound excused by a member crashed/paused while holding or waiting (healed phase): "
                "%llu crashed, %llu paused\n",
                static_cast<unsigned long long>(totals.excused_crash), static_cast<unsigned long long>(totals.excused_pause));
  }
  std::printf("%llu passed, %llu failed\n", static_cast<unsigned long long>(totals.passed),
              static_cast<unsigned long long>(totals.failed));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (int rc = parse(argc, argv, a); rc != 0) {
    if (rc > 0) return rc;
    print_help();
    return 0;
  }
  g_argv0 = argv[0];
  g_abort_replay = a.world_flags + " --members " + a.members_spec + " --steps " + std::to_string(a.steps) +
                   (a.invariants ? "" : " --no-invariants") + " --trace";
  std::signal(SIGABRT, on_abort);

  Totals totals;
  std::atomic<std::uint64_t> next{0};
  const auto started = std::chrono::steady_clock::now();
  // Seeds are independent worlds (the core has no global state): run them on
  // `jobs` threads. Each seed's result does not depend on the thread.
  const auto worker = [&](std::size_t w) {
    for (std::uint64_t i = next++; i < a.seeds; i = next++) {
      SimOptions o;
      o.seed = a.first_seed + i;
      o.members = baton::sim::members_for_seed(a.profile, o.seed);
      o.fault_steps = a.steps;
      o.trace = a.trace ? &std::cout : nullptr;
      o.invariants = a.invariants;
      o.profile = a.profile;
      g_running[w] = o.seed + 1;
      const SimResult r = baton::sim::run_simulation(o);
      g_running[w] = 0;
      account(a, r, totals);
    }
  };
  const std::size_t jobs = static_cast<std::size_t>(std::min<std::uint64_t>(a.jobs, a.seeds));
  std::vector<std::thread> threads;
  for (std::size_t w = 1; w < jobs; ++w) threads.emplace_back(worker, w);
  worker(0);
  for (auto& th : threads) th.join();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  print_summary(a, totals, secs, jobs);
  if (a.expected_mask != 0) {
    std::fprintf(stderr, "baton-sim: %llu of the failures broke an expected guarantee\n",
                 static_cast<unsigned long long>(totals.failed_as_expected));
    return totals.failed_as_expected > 0 ? 0 : 1;
  }
  if (a.expect_failure) return totals.failed > 0 ? 0 : 1;
  return totals.failed == 0 ? 0 : 1;
}
