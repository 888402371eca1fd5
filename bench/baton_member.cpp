// SPDX-License-Identifier: Apache-2.0
// A Baton member process for the benchmarks (issue 7). Every member of the
// benchmarked cluster is one of these processes, on 127.0.0.1, with an
// authenticated cluster key (as a deployment would run it). It either just
// votes, or also runs a workload through the public API and prints one JSON
// line (latencies in microseconds) when done.
//
//   baton_member --id I --ports P1,P2,P3 [--mode M] [--seconds S] [--ops N]
//                [--ttl-ms T] [--contenders C] [--in-flight K] [--events FILE]
//                [--busy-poll-us U]   (Config::busy_poll; default 0)
//   modes:
//     vote        run until SIGTERM/SIGINT or S seconds
//     acquire     Cluster::acquire on a new resource each time (blocking
//                 form); one sample = the call; the release after it is not timed
//     cycle       acquire + release of one resource in a closed loop; one
//                 sample = acquire call -> release() returned
//     renew       one lease; one sample = one blocking Lease::renew()
//     contended   C threads, each looping acquire (wait up to 10 s) -> hold
//                 (--hold-us, default 1000) -> release -> think (--think-us,
//                 default 1000) on the one resource "bench:contended"; writes
//                 "contender,event,t_ns" lines (start, grant, release) to FILE
//                 (contender = I*100 + thread) for bench/analyze.py
//     throughput  K acquires in flight (callback form) on distinct resources;
//                 each grant is released at once and replaced by a new
//                 acquire; prints completed acquire+release per second
// Every workload first waits (up to 10 s) until an acquire succeeds, so that
// all members are up.
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sys/resource.h>
#include <string>
#include <thread>
#include <vector>

#include "baton/baton.hpp"
#include "cli.hpp"
#include "latency.hpp"

namespace {

using baton::bench::now_ns;
using namespace std::chrono_literals;

std::atomic<bool> g_stop{false};

struct Options {
  std::uint32_t id = 1;
  std::vector<int> ports;
  std::string mode = "vote";
  double seconds = 60;
  std::size_t ops = 5000;
  std::size_t warmup = 200;
  int ttl_ms = 10000;
  std::size_t contenders = 1;
  std::size_t in_flight = 64;
  int hold_us = 1000;   // contended: work under the lease
  int think_us = 1000;  // contended: work between ownerships
  int busy_poll_us = 0;  // Config::busy_poll
  std::string events;
};

baton::Config config(const Options& o) {
  baton::Config c;
  for (std::size_t i = 0; i < o.ports.size(); ++i)
    c.members.push_back(baton::Member{static_cast<std::uint32_t>(i + 1), "127.0.0.1", static_cast<std::uint16_t>(o.ports[i])});
  c.self = o.id;
  baton::ClusterKey key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(0x5a ^ i);
  c.cluster_key = key;
  c.cluster_id = 7;
  c.bootstrap = true;  // a fresh cluster: no state directory, no peer recovery
  c.limits.calls_queued = 1u << 16;
  c.busy_poll = std::chrono::microseconds(o.busy_poll_us);
  return c;
}

std::chrono::nanoseconds ttl(const Options& o) { return std::chrono::milliseconds(o.ttl_ms); }

bool wait_ready(baton::Cluster& c, const Options& o) {
  const std::int64_t until = now_ns() + 10'000'000'000;
  const std::string name = "bench:ready:" + std::to_string(o.id);
  while (now_ns() < until && !g_stop) {
    auto l = c.try_acquire(name, ttl(o));
    if (l.ok()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

using Json = nlohmann::ordered_json;

// One JSON line: bench, mode, members, errors, the fields of `extra`, then
// the latency percentiles.
void print(const Options& o, const Json& extra, std::vector<std::int64_t>& samples, std::size_t errors) {
  Json out;
  out["bench"] = "baton";
  out["mode"] = o.mode;
  out["members"] = o.ports.size();
  out["errors"] = errors;
  for (const auto& [k, v] : extra.items()) out[k] = v;
  baton::bench::add_fields(out, baton::bench::percentiles(samples));
  std::printf("%s\n", out.dump().c_str());
  std::fflush(stdout);
}

// This member's counters that explain a slow or failing run.
Json stats_json(const baton::Cluster& c) {
  const baton::Stats s = c.stats();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const double cpu_s = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                       static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  return {{"grants", s.grants},
          {"denials", s.denials},
          {"acquire_failures", s.acquire_failures},
          {"datagrams_sent", s.datagrams_sent},
          {"datagrams_received", s.datagrams_received},
          {"drops", s.drops_total()},
          {"send_failures", s.send_failures},
          {"cpu_s", std::round(cpu_s * 1000) / 1000}};
}

int run_acquire(baton::Cluster& c, const Options& o, bool cycle) {
  std::vector<std::int64_t> samples;
  std::size_t errors = 0;
  const std::int64_t until = now_ns() + static_cast<std::int64_t>(o.seconds * 1e9);
  baton::AcquireOptions ao;
  ao.ttl = ttl(o);
  ao.wait = 1s;
  for (std::size_t i = 0; samples.size() < o.ops && now_ns() < until && !g_stop; ++i) {
    const std::string name = cycle ? std::string("bench:cycle") : "bench:acq:" + std::to_string(i);
    const std::int64_t t0 = now_ns();
    auto l = c.acquire(name, ao);
    const std::int64_t t1 = now_ns();
    if (!l.ok()) {
      ++errors;
      continue;
    }
    l->release();
    const std::int64_t t2 = now_ns();
    if (i >= o.warmup) samples.push_back(cycle ? t2 - t0 : t1 - t0);
  }
  print(o, Json::object(), samples, errors);
  return 0;
}

int run_renew(baton::Cluster& c, const Options& o) {
  std::vector<std::int64_t> samples;
  std::size_t errors = 0;
  baton::AcquireOptions ao;
  ao.ttl = ttl(o);
  ao.wait = 1s;
  auto l = c.acquire("bench:renew", ao);
  if (!l.ok()) return 1;
  const std::int64_t until = now_ns() + static_cast<std::int64_t>(o.seconds * 1e9);
  for (std::size_t i = 0; samples.size() < o.ops && now_ns() < until && !g_stop; ++i) {
    const std::int64_t t0 = now_ns();
    auto r = l->renew();
    const std::int64_t t1 = now_ns();
    if (!r.ok()) {
      ++errors;
      continue;
    }
    if (i >= o.warmup) samples.push_back(t1 - t0);
  }
  print(o, Json::object(), samples, errors);
  return 0;
}

int run_contended(baton::Cluster& c, const Options& o) {
  std::FILE* ev = o.events.empty() ? nullptr : std::fopen(o.events.c_str(), "w");
  std::mutex mu;
  std::atomic<std::size_t> grants{0}, errors{0};
  const std::int64_t until = now_ns() + static_cast<std::int64_t>(o.seconds * 1e9);
  auto record = [&](std::size_t who, const char* what, std::int64_t t) {
    if (!ev) return;
    std::lock_guard<std::mutex> g(mu);
    std::fprintf(ev, "%zu,%s,%lld\n", who, what, static_cast<long long>(t));
  };
  std::vector<std::thread> threads;
  const std::int64_t t0 = now_ns();
  for (std::size_t k = 0; k < o.contenders; ++k) {
    threads.emplace_back([&, k] {
      const std::size_t who = o.id * 100 + k;
      baton::AcquireOptions ao;
      ao.ttl = ttl(o);
      ao.wait = 10s;
      while (now_ns() < until && !g_stop) {
        record(who, "start", now_ns());
        auto l = c.acquire("bench:contended", ao);
        if (!l.ok()) {
          ++errors;
          continue;
        }
        record(who, "grant", now_ns());
        ++grants;
        if (o.hold_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(o.hold_us));
        // The release is recorded before the call: the holder stops using the
        // lease here, and release() then tells the voters.
        record(who, "release", now_ns());
        l->release();
        if (o.think_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(o.think_us));
      }
    });
  }
  for (auto& t : threads) t.join();
  if (ev) std::fclose(ev);
  std::vector<std::int64_t> none;
  const double seconds = static_cast<double>(now_ns() - t0) / 1e9;
  print(o, {{"contenders", o.contenders}, {"grants", grants.load()}, {"seconds", std::round(seconds * 1000) / 1000}},
        none, errors);
  return 0;
}

// K acquires in flight through the callback form; every grant is released
// at once (on the loop thread) and replaced by the next acquire.
struct Pump {
  baton::Cluster* cluster = nullptr;
  const Options* o = nullptr;
  std::atomic<std::size_t> done{0}, errors{0}, serial{0};
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> outstanding{0};
  std::mutex mu;
  std::vector<std::int64_t> samples;  // acquire call -> callback with the lease, ns

  void start_one() {
    if (stopping) return;
    const std::size_t i = serial++;
    baton::AcquireOptions ao;
    ao.ttl = ttl(*o);
    ao.wait = 1s;
    const std::string name = "bench:tp:" + std::to_string(o->id) + ":" + std::to_string(i % 65536);
    ++outstanding;
    const std::int64_t t0 = now_ns();
    auto r = cluster->acquire(name, ao, [this, t0](baton::Result<baton::Lease> l) {
      if (l.ok()) {
        const std::int64_t t1 = now_ns();
        l->release();
        ++done;
        std::lock_guard<std::mutex> g(mu);
        if (samples.size() < 1'000'000) samples.push_back(t1 - t0);
      } else {
        if (stopping) {
          // The other members may already have stopped: not counted.
        } else if (errors++ == 0) std::fprintf(stderr, "throughput: acquire failed: %s\n", std::string(l.what()).c_str());
      }
      --outstanding;
      start_one();
    });
    if (!r.ok()) {
      --outstanding;
      if (errors++ == 0) std::fprintf(stderr, "throughput: acquire refused: %s\n", std::string(r.what()).c_str());
    }
  }
};

int run_throughput(baton::Cluster& c, const Options& o) {
  Pump p;
  p.cluster = &c;
  p.o = &o;
  const std::int64_t t0 = now_ns();
  for (std::size_t k = 0; k < o.in_flight; ++k) p.start_one();
  while (now_ns() - t0 < static_cast<std::int64_t>(o.seconds * 1e9) && !g_stop) std::this_thread::sleep_for(10ms);
  const std::size_t done = p.done.load();
  const double elapsed = static_cast<double>(now_ns() - t0) / 1e9;
  p.stopping = true;
  const std::int64_t drain_until = now_ns() + 3'000'000'000;
  while (p.outstanding.load() > 0 && now_ns() < drain_until) std::this_thread::sleep_for(5ms);
  std::vector<std::int64_t> lat;
  {
    std::lock_guard<std::mutex> g(p.mu);
    lat = p.samples;
  }
  print(o,
        {{"in_flight", o.in_flight},
         {"acq_rel", done},
         {"seconds", std::round(elapsed * 1000) / 1000},
         {"acq_rel_per_s", baton::bench::tenths(static_cast<double>(done) / elapsed)},
         {"stats", stats_json(c)}},
        lat, p.errors.load());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app("baton_member: a Baton member process for the benchmarks (see the top of bench/baton_member.cpp)",
               "baton_member");
  app.add_option("--id", o.id, "this member's id: its port is the I-th of --ports")->required();
  app.add_option("--ports", o.ports, "the members' UDP ports on 127.0.0.1, ids 1.. in order")
      ->required()
      ->delimiter(',')
      ->check(CLI::Range(1, 65535));
  app.add_option("--mode", o.mode, "vote|acquire|cycle|renew|contended|throughput (default vote)")
      ->check(CLI::IsMember({"vote", "acquire", "cycle", "renew", "contended", "throughput"}));
  app.add_option("--seconds", o.seconds, "how long to run (default 60)")->check(CLI::PositiveNumber);
  app.add_option("--ops", o.ops, "samples to take (default 5000)");
  app.add_option("--warmup", o.warmup, "samples to drop first (default 200)");
  app.add_option("--ttl-ms", o.ttl_ms, "lease ttl (default 10000)")->check(CLI::Range(1, 3600000));
  app.add_option("--contenders", o.contenders, "contended: threads (default 1)");
  app.add_option("--in-flight", o.in_flight, "throughput: acquires in flight (default 64)");
  app.add_option("--events", o.events, "contended: write contender,event,t_ns lines here");
  app.add_option("--hold-us", o.hold_us, "contended: work under the lease (default 1000)")->check(CLI::NonNegativeNumber);
  app.add_option("--think-us", o.think_us, "contended: work between ownerships (default 1000)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--busy-poll-us", o.busy_poll_us, "Config::busy_poll (default 0)")->check(CLI::NonNegativeNumber);
  if (const int rc = baton::bench::parse_flags(app, argc, argv); rc >= 0) return rc;
  if (o.id < 1 || o.id > o.ports.size()) {
    std::fprintf(stderr, "baton_member: --id %u is not in 1..%zu (one per --ports entry)\n", o.id, o.ports.size());
    return 2;
  }
  if (o.mode == "contended" && o.contenders == 0) {
    std::fprintf(stderr, "baton_member: --mode contended needs --contenders 1 or more\n");
    return 2;
  }
  std::signal(SIGTERM, [](int) { g_stop = true; });
  std::signal(SIGINT, [](int) { g_stop = true; });
  auto started = baton::Cluster::start(config(o));
  if (!started.ok()) {
    std::fprintf(stderr, "baton_member %u: start: %s\n", o.id, std::string(started.what()).c_str());
    return 1;
  }
  auto& cluster = **started;
  int rc = 0;
  if (o.mode == "vote") {
    const std::int64_t until = now_ns() + static_cast<std::int64_t>(o.seconds * 1e9);
    while (!g_stop && now_ns() < until) std::this_thread::sleep_for(20ms);
    std::fprintf(stderr, "%s\n", Json{{"member", o.id}, {"stats", stats_json(cluster)}}.dump().c_str());
  } else if (!wait_ready(cluster, o)) {
    std::fprintf(stderr, "baton_member %u: cluster not ready within 10 s\n", o.id);
    rc = 1;
  } else if (o.mode == "acquire" || o.mode == "cycle") {
    rc = run_acquire(cluster, o, o.mode == "cycle");
  } else if (o.mode == "renew") {
    rc = run_renew(cluster, o);
  } else if (o.mode == "contended") {
    rc = run_contended(cluster, o);
  } else if (o.mode == "throughput") {
    rc = run_throughput(cluster, o);
  } else {
    std::fprintf(stderr, "baton_member: unknown mode %s\n", o.mode.c_str());
    rc = 2;
  }
  cluster.stop();
  return rc;
}
