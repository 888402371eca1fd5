// SPDX-License-Identifier: Apache-2.0
// batonctl bench: join a running cluster as member N, or as a client with
// --client, and measure it (issue 7, docs/operations.md). Two workloads:
//  - throughput (default): C acquires in flight through the callback form,
//    round robin over K resources; each grant is released at once and
//    replaced by a new acquire until M acquires have ended;
//  - --contenders X: X threads on one resource, each looping blocking
//    acquire -> hold --hold-us -> release, until M ownerships; a hand-off is
//    the time from a release to the next grant, counted when that grant's
//    acquire was already waiting at the release.
// Latencies: acquire (call -> lease), release (the release() call; it waits
// for no acknowledgement) and acquire+release (call -> release returned).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "commands.hpp"
#include "common.hpp"
#include "history.hpp"
#include "latency.hpp"

namespace batonctl {

namespace {

struct Samples {
  std::vector<std::int64_t> acquire, release, acquire_release, handoff;  // ns
};

struct Outcome {
  std::uint64_t ops = 0;     // acquires that ended (granted or failed)
  std::uint64_t errors = 0;  // acquires that failed
  double seconds = 0;
  Samples s;
};

// `{"n":..,"p50_us":..,"p99_us":..,"p999_us":..,...}` (sorts `v`).
nlohmann::ordered_json latency_json(std::vector<std::int64_t>& v) {
  return baton::bench::to_json(baton::bench::percentiles(v));
}

struct Workload {
  std::uint64_t resources = 1024;
  std::uint64_t concurrency = 16;
  std::uint64_t ops = 10000;
  std::uint64_t contenders = 0;
  std::uint64_t hold_us = 1000;
  std::uint64_t ttl_ms = 10000;
  std::uint64_t seconds = 60;
};

// C acquires in flight (callback form); every callback runs on the loop
// thread. The state is shared with the callbacks, so a callback that runs
// after this returns (the cluster stopping) touches nothing freed.
struct Flight : std::enable_shared_from_this<Flight> {
  baton::Cluster* cluster = nullptr;
  Workload w;
  baton::AcquireOptions opts;
  std::int64_t stop_at = 0;
  std::mutex mu;
  std::condition_variable cv;
  Outcome out;
  std::uint64_t issued = 0, in_flight = 0;

  // Starts the next acquire if one is left; false when none was started.
  bool next() {
    std::uint64_t n = 0;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (issued >= w.ops || local_now_ns() >= stop_at || stop_requested()) return false;
      n = issued++;
      ++in_flight;
    }
    const std::string name = "bench:" + std::to_string(n % w.resources);
    const std::int64_t t0 = local_now_ns();
    auto self = shared_from_this();
    auto r = cluster->acquire(name, opts, [self, t0](baton::Result<baton::Lease> lease) {
      const std::int64_t t1 = local_now_ns();
      std::int64_t t2 = t1;
      if (lease) {
        lease->release();
        t2 = local_now_ns();
      }
      self->next();  // before this one counts as ended: in_flight never drops to 0 early
      self->ended(lease.ok(), t0, t1, t2);
    });
    if (!r) ended(false, 0, 0, 0);
    return true;
  }
  void ended(bool ok, std::int64_t t0, std::int64_t t1, std::int64_t t2) {
    std::lock_guard<std::mutex> lock(mu);
    ++out.ops;
    if (ok) {
      out.s.acquire.push_back(t1 - t0);
      out.s.release.push_back(t2 - t1);
      out.s.acquire_release.push_back(t2 - t0);
    } else {
      ++out.errors;
    }
    --in_flight;
    cv.notify_all();
  }
};

Outcome run_throughput(baton::Cluster& cluster, const Workload& w) {
  auto f = std::make_shared<Flight>();
  f->cluster = &cluster;
  f->w = w;
  f->opts.ttl = std::chrono::milliseconds(w.ttl_ms);
  f->opts.wait = std::chrono::seconds(10);
  const std::int64_t start = local_now_ns();
  f->stop_at = start + static_cast<std::int64_t>(w.seconds) * 1'000'000'000;
  for (std::uint64_t i = 0; i < w.concurrency; ++i) {
    if (!f->next()) break;
  }
  std::unique_lock<std::mutex> lock(f->mu);
  // Every acquire ends within its wait (10 s) and an attempt: bounded.
  f->cv.wait_for(lock, std::chrono::seconds(w.seconds + 30), [&] { return f->in_flight == 0; });
  Outcome out = f->out;
  out.seconds = static_cast<double>(local_now_ns() - start) / 1e9;
  return out;
}

// X threads on one resource, blocking calls.
Outcome run_contended(baton::Cluster& cluster, const Workload& w) {
  struct Ownership {
    std::int64_t start, grant, release;
  };
  std::mutex mu;
  std::vector<Ownership> owned;
  Outcome out;
  std::uint64_t issued = 0;
  const std::int64_t start = local_now_ns();
  const std::int64_t stop_at = start + static_cast<std::int64_t>(w.seconds) * 1'000'000'000;
  baton::AcquireOptions opts;
  opts.ttl = std::chrono::milliseconds(w.ttl_ms);
  opts.wait = std::chrono::seconds(10);
  std::vector<std::thread> threads;
  for (std::uint64_t c = 0; c < w.contenders; ++c) {
    threads.emplace_back([&] {
      for (;;) {
        {
          std::lock_guard<std::mutex> lock(mu);
          if (issued >= w.ops || local_now_ns() >= stop_at || stop_requested()) return;
          ++issued;
        }
        const std::int64_t t0 = local_now_ns();
        auto lease = cluster.acquire("bench:contended", opts);
        const std::int64_t t1 = local_now_ns();
        if (!lease) {
          std::lock_guard<std::mutex> lock(mu);
          ++out.ops;
          ++out.errors;
          continue;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(w.hold_us));
        const std::int64_t t2 = local_now_ns();
        lease->release();
        const std::int64_t t3 = local_now_ns();
        std::lock_guard<std::mutex> lock(mu);
        ++out.ops;
        out.s.acquire.push_back(t1 - t0);
        out.s.release.push_back(t3 - t2);
        out.s.acquire_release.push_back(t3 - t0);
        owned.push_back({t0, t1, t2});
      }
    });
  }
  for (auto& t : threads) t.join();
  out.seconds = static_cast<double>(local_now_ns() - start) / 1e9;
  // Hand-offs: for each release, the first grant after it, if its acquire
  // was already waiting then.
  std::vector<Ownership> by_grant = owned;
  std::sort(by_grant.begin(), by_grant.end(), [](const Ownership& a, const Ownership& b) { return a.grant < b.grant; });
  for (const Ownership& o : owned) {
    auto it = std::lower_bound(by_grant.begin(), by_grant.end(), o.release,
                               [](const Ownership& a, std::int64_t t) { return a.grant < t; });
    if (it != by_grant.end() && it->start <= o.release) out.s.handoff.push_back(it->grant - o.release);
  }
  return out;
}

}  // namespace

int cmd_bench(const Args& args) {
  FlagSet flags("bench", "--members ... (--id N | --client) [flags]",
                "Joins an already running cluster as member N (no other process may run member N), or with\n"
                "--client as a client of --members (no member slot: it votes on nothing), and measures it:\n"
                "--concurrency acquires in flight over --resources resources, each released at once, until\n"
                "--ops acquires have ended; or, with --contenders X, X threads taking turns on one resource,\n"
                "holding it --hold-us each time. Prints ops, errors, ops_per_s and p50/p99/p99.9 latencies in\n"
                "microseconds of acquire, release and acquire+release (and hand-off with --contenders), as one\n"
                "JSON object with --json (with id: the member's id or the client's drawn id, and client).\n"
                "Exit 0 when every acquire succeeded, 1 when some failed.");
  MemberFlags member;
  member.declare(flags, Role::member_or_client);
  Workload w;
  bool json = false;
  flags.add_u64("resources", &w.resources, "distinct resources, bench:0 .. bench:K-1 (default 1024)", 1, 1u << 20);
  flags.add_u64("concurrency", &w.concurrency, "acquires in flight (default 16)", 1, 1u << 16);
  flags.add_u64("ops", &w.ops, "acquires to run (default 10000)", 1, 100'000'000);
  flags.add_u64("contenders", &w.contenders, "threads contending on one resource instead (default 0: off)", 0, 256);
  flags.add_u64("hold-us", &w.hold_us, "with --contenders: how long each holds the lease (default 1000)", 0,
                10'000'000);
  flags.add_u64("ttl-ms", &w.ttl_ms, "lease ttl (default 10000; within --ttl-min-ms..--ttl-max-ms)", 1,
                24ull * 3600 * 1000);
  flags.add_u64("seconds", &w.seconds, "stop starting acquires after this long (default 60)", 1, 24 * 3600);
  flags.add_bool("json", &json, "print one JSON object");
  if (!flags.parse(args)) return exit_ok;
  if (!flags.positional().empty()) throw UsageError{"bench takes no positional arguments"};
  if (w.ttl_ms > member.ttl_max_ms)
    throw UsageError{"--ttl-ms " + std::to_string(w.ttl_ms) + " is above --ttl-max-ms " + std::to_string(member.ttl_max_ms)};
  if (w.ttl_ms < member.ttl_min_ms)
    throw UsageError{"--ttl-ms " + std::to_string(w.ttl_ms) + " is below --ttl-min-ms " + std::to_string(member.ttl_min_ms)};
  if (flags.given("concurrency") && w.contenders > 0)
    throw UsageError{"--concurrency and --contenders exclude each other"};
  baton::Config config = member.config(flags);
  config.limits.calls_queued = std::max<std::size_t>(config.limits.calls_queued, 2 * w.concurrency);
  auto m = Member::start(std::move(config), member.verbose);
  if (!m) return exit_failure;

  Outcome o = w.contenders > 0 ? run_contended(m->cluster(), w) : run_throughput(m->cluster(), w);
  const double ok_ops = static_cast<double>(o.ops - o.errors);
  const double per_s = o.seconds > 0 ? ok_ops / o.seconds : 0;
  if (json) {
    nlohmann::ordered_json doc;
    doc["id"] = m->id();
    doc["client"] = m->cluster().is_client();
    doc["ops"] = o.ops;
    doc["errors"] = o.errors;
    doc["seconds"] = std::round(o.seconds * 1000) / 1000;
    doc["ops_per_s"] = baton::bench::tenths(per_s);
    doc["acquire"] = latency_json(o.s.acquire);
    doc["release"] = latency_json(o.s.release);
    doc["acquire_release"] = latency_json(o.s.acquire_release);
    if (w.contenders > 0) doc["handoff"] = latency_json(o.s.handoff);
    std::printf("%s\n", Json::dump(doc).c_str());
  } else {
    std::printf("ops %llu, errors %llu, %.3f s, %.1f acquire+release/s\n", static_cast<unsigned long long>(o.ops),
                static_cast<unsigned long long>(o.errors), o.seconds, per_s);
    const std::pair<const char*, std::vector<std::int64_t>*> rows[] = {
        {"acquire", &o.s.acquire},
        {"release", &o.s.release},
        {"acquire+release", &o.s.acquire_release},
        {"hand-off", &o.s.handoff}};
    for (const auto& [name, v] : rows) {
      if (v == &o.s.handoff && w.contenders == 0) continue;
      const baton::bench::Percentiles p = baton::bench::percentiles(*v);
      std::printf("%-16s n=%zu p50 %.1f us, p99 %.1f us, p99.9 %.1f us\n", name, p.n, p.p50_us, p.p99_us,
                  p.p999_us);
    }
  }
  std::fflush(stdout);
  return o.errors == 0 ? exit_ok : exit_failure;
}

}  // namespace batonctl
