// baton-sim: runs the deterministic simulator over many seeds, or replays one.
//
//   baton-sim --seeds N [--first-seed S] [--members M] [--steps K] [--jobs J] [--verbose]
//   baton-sim --seed S [--members M] [--steps K] [--trace]
//   baton-sim ... --expect-failure   (negative controls: succeed only if a seed fails)
//
// The last line of a multi-seed run is always "N passed, F failed".
#include <algorithm>
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
  std::uint64_t jobs = 2;           // threads running seeds (1 with --trace)
  unsigned expected_mask = 0;       // --expect-guarantee: bit g set = a failure of guarantee g counts
};

int usage_error(const std::string& what) {
  std::fprintf(stderr,
               "baton-sim: %s\n"
               "usage: baton-sim --seeds N [--first-seed S] [--members M] [--steps K] [--jobs J] [--verbose] [--expect-failure]\n"
               "       baton-sim --seed S [--members M] [--steps K] [--trace]\n"
               "       --no-invariants: skip the core's per-member invariants (guarantees only)\n"
               "       --expect-failure / --expect-guarantee 1,2: succeed only if some seed fails (that way)\n",
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
    } else if (f == "--jobs") {
      if (!value(v) || v < 1 || v > 64) return usage_error("--jobs needs a number in 1..64");
      a.jobs = v;
    } else if (f == "--no-invariants") {
      a.invariants = false;
    } else if (f == "--expect-guarantee") {
      // Comma-separated guarantees (0 = core invariant); implies --expect-failure.
      if (i + 1 >= argc) return usage_error("--expect-guarantee needs a list such as 1,2");
      for (const char* p = argv[++i]; *p; ++p) {
        if (*p >= '0' && *p <= '4') {
          a.expected_mask |= 1u << (*p - '0');
        } else if (*p != ',') {
          return usage_error("--expect-guarantee takes guarantees 0..4, comma-separated");
        }
      }
      if (a.expected_mask == 0) return usage_error("--expect-guarantee needs at least one guarantee");
      a.expect_failure = true;
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

std::string replay_command(const Args& a, std::uint64_t seed, const char* argv0) {
  return std::string(argv0) + " --seed " + std::to_string(seed) + " --members " + std::to_string(a.members) +
         " --steps " + std::to_string(a.steps) + (a.invariants ? "" : " --no-invariants") + " --trace";
}

// A core assertion aborts the process: say which seeds were running before dying.
constexpr std::size_t jobs_max = 64;
std::atomic<std::uint64_t> g_running[jobs_max];  // per worker: seed + 1 in progress, 0 idle
const char* g_argv0 = "baton-sim";
Args g_args;
void on_abort(int) {
  char buf[512];
  for (std::size_t w = 0; w < jobs_max; ++w) {
    const std::uint64_t s = g_running[w].load();
    if (s == 0) continue;
    const int n = std::snprintf(buf, sizeof buf,
                                "seed %llu: FAILED core assertion (see stderr)\n  replay: %s --seed %llu --members %u "
                                "--steps %llu --trace\n",
                                static_cast<unsigned long long>(s - 1), g_argv0, static_cast<unsigned long long>(s - 1),
                                g_args.members, static_cast<unsigned long long>(g_args.steps));
    if (n > 0 && write(STDOUT_FILENO, buf, static_cast<std::size_t>(std::min(n, 511))) < 0) break;
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
  Histogram handoff, free_grant;
};

void account(const Args& a, const SimResult& r, Totals& t) {
  std::lock_guard<std::mutex> lock(t.mu);
  const auto& f = r.figures;
  t.acquires += f.acquires;
  t.granted += f.granted;
  t.handoffs += f.handoffs;
  t.stale_rejected += f.stale_rejected;
  t.steps += r.steps;
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
              v.what.c_str(), r.scenario.c_str(), replay_command(a, r.seed, g_argv0).c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (int rc = parse(argc, argv, a); rc != 0) return rc;
  g_argv0 = argv[0];
  g_args = a;
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
      o.members = a.members;
      o.fault_steps = a.steps;
      o.trace = a.trace ? &std::cout : nullptr;
      o.invariants = a.invariants;
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

  std::printf("summary: %llu seeds, %u members, %llu steps in %.1fs on %zu threads; round trip = %.3fms, liveness bound "
              "%lld round trips (+ %lld syncs of up to %.0fms when members persist)\n",
              static_cast<unsigned long long>(a.seeds), a.members, static_cast<unsigned long long>(totals.steps), secs,
              jobs, static_cast<double>(baton::sim::round_trip_ns) / 1e6,
              static_cast<long long>(baton::sim::liveness_bound_rtts), static_cast<long long>(baton::sim::liveness_syncs),
              static_cast<double>(baton::sim::disk_sync_max_ns) / 1e6);
  std::printf("  acquires attempted %llu, granted %llu; hand-offs (healed phase) %llu; stale writes fenced off %llu\n",
              static_cast<unsigned long long>(totals.acquires), static_cast<unsigned long long>(totals.granted),
              static_cast<unsigned long long>(totals.handoffs), static_cast<unsigned long long>(totals.stale_rejected));
  totals.handoff.print("release -> next grant (healed phase)");
  totals.free_grant.print("free with a waiter -> grant (healed phase)");
  std::printf("%llu passed, %llu failed\n", static_cast<unsigned long long>(totals.passed),
              static_cast<unsigned long long>(totals.failed));
  std::fflush(stdout);
  if (a.expected_mask != 0) {
    std::fprintf(stderr, "baton-sim: %llu of the failures broke an expected guarantee\n",
                 static_cast<unsigned long long>(totals.failed_as_expected));
    return totals.failed_as_expected > 0 ? 0 : 1;
  }
  if (a.expect_failure) return totals.failed > 0 ? 0 : 1;
  return totals.failed == 0 ? 0 : 1;
}
