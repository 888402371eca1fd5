// SPDX-License-Identifier: Apache-2.0
// The protocol core with no I/O (issue 7): how many acquire+release cycles per
// second core::Node sustains when the members of an in-memory cluster hand
// each other's outboxes over directly, and how many bytes one live lease costs
// a voter. Everything runs on one thread; the "network" is a FIFO of messages.
//
//   build-bench/bin/baton_core_bench --benchmark_counters_tabular=true
//
// BM_AcquireRelease/<members>/<in_flight>: member 1 starts <in_flight>
// acquires (try_acquire: wait_until = now) on distinct resources, the cluster
// delivers until quiet, then member 1 releases them all; one item = one
// acquire + release. Resources rotate through 4096 names, so voters reuse idle
// fence entries as a long-running cluster would.
//
// BM_BytesPerLease/<n>: one voter (member 1 of 3) receives <n> REQUESTs for
// distinct resources from member 2 and grants them all; bytes_per_lease is the
// growth of malloc's bytes in use (mallinfo2: uordblks plus hblkhd, the large
// blocks malloc maps on their own) divided by <n>.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <cstdio>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "core/node.hpp"

namespace {

using namespace baton::core;

struct InFlight {
  MemberId from;
  MemberId to;
  Message msg;
};

// N nodes sharing a virtual clock that advances 1 us per delivery, so that
// holds and timers behave as in a fast real cluster.
class MemCluster {
 public:
  explicit MemCluster(std::size_t n) {
    NodeConfig base;
    for (std::size_t i = 1; i <= n; ++i) base.members.push_back(MemberId{static_cast<std::uint32_t>(i)});
    for (std::size_t i = 1; i <= n; ++i) {
      NodeConfig c = base;
      c.self = MemberId{static_cast<std::uint32_t>(i)};
      c.incarnation = Incarnation{1};
      auto node = Node::create(c, 1000 + i, now_);
      if (!node.ok()) std::abort();
      nodes_.push_back(std::move(*node));
    }
  }

  Node& node(std::uint32_t id) { return *nodes_[id - 1]; }
  Instant now() const { return now_; }
  std::vector<Event>& events() { return events_; }

  void collect(std::uint32_t id) {
    nodes_[id - 1]->take_outbox(out_);
    for (auto& o : out_.messages) net_.push_back(InFlight{MemberId{id}, o.to, std::move(o.msg)});
    for (auto& e : out_.events) events_.push_back(std::move(e));
  }

  // Delivers until no message is left, firing due deadlines as time advances.
  void deliver_all() {
    while (!net_.empty()) {
      InFlight f = std::move(net_.front());
      net_.pop_front();
      now_ += Duration::us(1);
      Node& n = *nodes_[f.to.value - 1];
      n.on_message(now_, f.from, f.msg);
      collect(f.to.value);
    }
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i]->next_deadline() <= now_) {
        nodes_[i]->on_deadline(now_);
        collect(static_cast<std::uint32_t>(i + 1));
      }
    }
  }

 private:
  Instant now_ = Instant::from_ns(1'000'000'000);
  std::vector<std::unique_ptr<Node>> nodes_;
  std::deque<InFlight> net_;
  std::vector<Event> events_;
  Outbox out_;
};

std::vector<ResourceName> names(std::size_t n, const char* prefix) {
  std::vector<ResourceName> v;
  v.reserve(n);
  char buf[64];
  for (std::size_t i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%s%zu", prefix, i);
    v.emplace_back(std::string(buf));
  }
  return v;
}

void BM_AcquireRelease(benchmark::State& state) {
  const auto members = static_cast<std::size_t>(state.range(0));
  const auto in_flight = static_cast<std::size_t>(state.range(1));
  MemCluster c(members);
  const auto res = names(4096, "seat:");
  std::vector<AcquireId> ids;
  ids.reserve(in_flight);
  std::size_t next = 0;
  std::uint64_t acquired = 0, failed = 0;
  for (auto _ : state) {
    ids.clear();
    for (std::size_t i = 0; i < in_flight; ++i) {
      AcquireArgs a{.resource = res[next++ % res.size()], .ttl = Duration::s(10), .wait_until = c.now()};
      auto r = c.node(1).acquire(c.now(), a);
      if (!r.ok()) std::abort();
      ids.push_back(*r);
      c.collect(1);
    }
    c.deliver_all();
    for (auto& e : c.events()) {
      if (e.kind == EventKind::acquired) ++acquired;
      if (e.kind == EventKind::acquire_failed) ++failed;
    }
    c.events().clear();
    for (auto id : ids) {
      (void)c.node(1).release(c.now(), id);
      c.collect(1);
    }
    c.deliver_all();
    c.events().clear();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * in_flight));
  state.counters["acquired"] = static_cast<double>(acquired);
  state.counters["failed"] = static_cast<double>(failed);
  state.counters["acq_rel_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * in_flight), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_AcquireRelease)
    ->ArgNames({"members", "in_flight"})
    ->Args({3, 1})
    ->Args({3, 64})
    ->Args({5, 1})
    ->Args({5, 64})
    ->Unit(benchmark::kMicrosecond);

// Bytes malloc has handed out: small blocks plus the large ones it maps on
// their own (a big vector lands there, and uordblks alone would miss it).
std::size_t in_use() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

// One voter granting `n` distinct leases; bytes per live lease from malloc's
// own accounting (mallinfo2, glibc >= 2.33).
void BM_BytesPerLease(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  double bytes_per_lease = 0;
  std::uint64_t live = 0;
  for (auto _ : state) {
    state.PauseTiming();
    NodeConfig c;
    c.members = {MemberId{1}, MemberId{2}, MemberId{3}};
    c.self = MemberId{1};
    c.incarnation = Incarnation{1};
    c.limits.leases_per_voter = n + 1;
    Instant now = Instant::from_ns(1'000'000'000);
    auto node = Node::create(c, 7, now);
    if (!node.ok()) std::abort();
    auto res = names(n, "seat:");  // the names exist before and after: not counted
    Outbox out;
    malloc_trim(0);
    const std::size_t before = in_use();
    state.ResumeTiming();
    for (std::size_t i = 0; i < n; ++i) {
      Request r{.resource = res[i],
                .lease = LeaseId{MemberId{2}, Incarnation{1}, i + 1},
                .ttl = Duration::s(60),
                .token = Token{i + 1}};
      (*node)->on_message(now, MemberId{2}, r);
      (*node)->take_outbox(out);
    }
    state.PauseTiming();
    out = Outbox{};
    const std::size_t after = in_use();
    live = (*node)->status().live_leases;
    bytes_per_lease = static_cast<double>(after - before) / static_cast<double>(n);
    node->reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
  state.counters["bytes_per_lease"] = bytes_per_lease;
  state.counters["live_leases"] = static_cast<double>(live);
}
BENCHMARK(BM_BytesPerLease)->ArgName("leases")->Arg(100'000)->Arg(1'000'000)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
