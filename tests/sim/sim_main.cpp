// baton-sim: runs the deterministic simulator over many seeds, or replays one.
//
//   baton-sim --seeds N [--first-seed S] [--members M] [--steps K] [--verbose]
//   baton-sim --seed S [--members M] [--steps K] [--trace]
//   baton-sim ... --expect-failure   (negative controls: succeed only if a seed fails)
//
// The last line of a multi-seed run is always "N passed, F failed".
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

#include "sim_cluster.hpp"
#include "trace.hpp"

namespace {

using baton::sim::SimOptions;
using baton::sim::SimResult;

struct Args {
  std::uint64_t seeds = 1;          // how many seeds to run
  std::uint64_t first_seed = 1;     // the first of them
  bool single = false;              // --seed given: replay exactly one
  std::uint32_t members = 5;
  std::uint64_t steps = 20000;      // faulty-phase steps per seed
  bool trace = false;
  bool verbose = false;             // one line per seed
  bool expect_failure = false;      // exit 0 only if some seed fails
  bool invariants = true;           // run the core's per-member invariants after every step
};

int usage_error(const std::string& what) {
  std::fprintf(stderr,
               "baton-sim: %s\n"
               "usage: baton-sim --seeds N [--first-seed S] [--members M] [--steps K] [--verbose] [--expect-failure]\n"
               "       baton-sim --seed S [--members M] [--steps K] [--trace]\n"
               "       --no-invariants: skip the core's per-member invariants (guarantees only)\n",
               what.c_str());
  return 2;
}

bool parse_u64(const char* s, std::uint64_t& out) {
  if (!s || !*s) return false;
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(s, &end, 10);
  if (errno != 0 || *end != '\0' || s[0] == '-') return false;
  out = v;
  return true;
}

// Parses argv; returns 0 on success, else the exit code (2).
int parse(int argc, char** argv, Args& a) {
  bool seeds_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view f = argv[i];
    const auto value = [&](std::uint64_t& out) {
      if (i + 1 >= argc) return false;
      return parse_u64(argv[++i], out);
    };
    std::uint64_t v = 0;
    if (f == "--seeds") {
      if (!value(v) || v == 0) return usage_error("--seeds needs a positive number");
      a.seeds = v;
      seeds_given = true;
    } else if (f == "--first-seed") {
      if (!value(v)) return usage_error("--first-seed needs a number");
      a.first_seed = v;
    } else if (f == "--seed") {
      if (!value(v)) return usage_error("--seed needs a number");
      a.first_seed = v;
      a.single = true;
    } else if (f == "--members") {
      if (!value(v) || v < 1 || v > 64) return usage_error("--members needs a number in 1..64");
      a.members = static_cast<std::uint32_t>(v);
    } else if (f == "--steps") {
      if (!value(v) || v == 0) return usage_error("--steps needs a positive number");
      a.steps = v;
    } else if (f == "--trace") {
      a.trace = true;
    } else if (f == "--verbose") {
      a.verbose = true;
    } else if (f == "--no-invariants") {
      a.invariants = false;
    } else if (f == "--expect-failure") {
      a.expect_failure = true;
    } else if (f == "--help" || f == "-h") {
      usage_error("help");
      return 2;
    } else {
      return usage_error("unknown flag '" + std::string(f) + "'");
    }
  }
  if (a.single && seeds_given) return usage_error("--seed and --seeds exclude each other");
  if (a.trace && !a.single) return usage_error("--trace needs --seed S (one seed)");
  if (a.single) a.seeds = 1;
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

std::string replay_command(const Args& a, std::uint64_t seed, const char* argv0) {
  return std::string(argv0) + " --seed " + std::to_string(seed) + " --members " + std::to_string(a.members) +
         " --steps " + std::to_string(a.steps) + (a.invariants ? "" : " --no-invariants") + " --trace";
}

// A core assertion aborts the process: say which seed did it before dying.
volatile std::sig_atomic_t g_in_seed = 0;
char g_abort_note[512];
void on_abort(int) {
  if (g_in_seed) {
    const ssize_t n = static_cast<ssize_t>(std::strlen(g_abort_note));
    if (write(STDOUT_FILENO, g_abort_note, static_cast<std::size_t>(n)) < 0) _exit(134);
  }
  _exit(134);
}

double rtts(std::int64_t ns) { return static_cast<double>(ns) / static_cast<double>(baton::sim::round_trip_ns); }

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (int rc = parse(argc, argv, a); rc != 0) return rc;
  std::signal(SIGABRT, on_abort);

  std::uint64_t passed = 0, failed = 0;
  std::uint64_t acquires = 0, granted = 0, handoffs = 0, stale_rejected = 0, steps = 0;
  std::vector<std::int64_t> handoff_ns, free_grant_ns;
  const auto started = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < a.seeds; ++i) {
    const std::uint64_t seed = a.first_seed + i;
    SimOptions o;
    o.seed = seed;
    o.members = a.members;
    o.fault_steps = a.steps;
    o.trace = a.trace ? &std::cout : nullptr;
    o.invariants = a.invariants;
    std::snprintf(g_abort_note, sizeof g_abort_note,
                  "seed %llu: FAILED core assertion (see stderr)\n  replay: %s\n%llu passed, %llu failed\n",
                  static_cast<unsigned long long>(seed), replay_command(a, seed, argv[0]).c_str(),
                  static_cast<unsigned long long>(passed), static_cast<unsigned long long>(failed + 1));
    g_in_seed = 1;
    const SimResult r = baton::sim::run_simulation(o);
    g_in_seed = 0;
    const auto& f = r.figures;
    acquires += f.acquires;
    granted += f.granted;
    handoffs += f.handoffs;
    stale_rejected += f.stale_rejected;
    steps += r.steps;
    handoff_ns.insert(handoff_ns.end(), f.handoff_ns.begin(), f.handoff_ns.end());
    free_grant_ns.insert(free_grant_ns.end(), f.free_grant_ns.begin(), f.free_grant_ns.end());
    if (a.verbose || a.single) {
      std::printf("seed %llu: %s, %llu steps, %s simulated, %llu crashes, %llu pauses, %llu partitions, %llu clogs; %s\n",
                  static_cast<unsigned long long>(seed), r.ok() ? "ok" : "FAILED",
                  static_cast<unsigned long long>(r.steps), baton::sim::true_ms(r.end_true_ns).c_str(),
                  static_cast<unsigned long long>(r.crashes), static_cast<unsigned long long>(r.pauses),
                  static_cast<unsigned long long>(r.partitions), static_cast<unsigned long long>(r.clogs),
                  r.scenario.c_str());
    }
    if (r.ok()) {
      ++passed;
      continue;
    }
    ++failed;
    const auto& v = *r.violation;
    std::printf("seed %llu: FAILED %s at %s: %s\n  scenario: %s\n  replay: %s\n",
                static_cast<unsigned long long>(seed), std::string(guarantee_name(v.guarantee)).c_str(),
                baton::sim::true_ms(v.at_true_ns).c_str(), v.what.c_str(), r.scenario.c_str(),
                replay_command(a, seed, argv[0]).c_str());
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  const auto report = [](const char* what, std::vector<std::int64_t>& xs) {
    if (xs.empty()) {
      std::printf("  %s: no samples\n", what);
      return;
    }
    std::sort(xs.begin(), xs.end());
    std::printf("  %s: %zu samples, median %.1f, p99 %.1f, worst %.1f round trips\n", what, xs.size(),
                rtts(xs[xs.size() / 2]), rtts(xs[xs.size() * 99 / 100]), rtts(xs.back()));
  };
  std::printf("summary: %llu seeds, %llu members, %llu steps in %.1fs; round trip = %.3fms, liveness bound %lld round trips\n",
              static_cast<unsigned long long>(a.seeds), static_cast<unsigned long long>(a.members),
              static_cast<unsigned long long>(steps), secs, static_cast<double>(baton::sim::round_trip_ns) / 1e6,
              static_cast<long long>(baton::sim::liveness_bound_rtts));
  std::printf("  acquires attempted %llu, granted %llu; hand-offs (healed phase) %llu; stale writes fenced off %llu\n",
              static_cast<unsigned long long>(acquires), static_cast<unsigned long long>(granted),
              static_cast<unsigned long long>(handoffs), static_cast<unsigned long long>(stale_rejected));
  report("release -> next grant (healed phase)", handoff_ns);
  report("free with a waiter -> grant (healed phase)", free_grant_ns);
  std::printf("%llu passed, %llu failed\n", static_cast<unsigned long long>(passed),
              static_cast<unsigned long long>(failed));
  std::fflush(stdout);
  if (a.expect_failure) return failed > 0 ? 0 : 1;
  return failed == 0 ? 0 : 1;
}
