// The codec (issue 7): what one datagram costs to encode and to decode
// (verify + parse into core structs), with and without the cluster key's
// authentication tag, and what the Packer costs per message when it batches
// an outbox.
//
//   build-bench/bin/baton_codec_bench --benchmark_counters_tabular=true
//
// The datagram is the common case on the hot path: one REQUEST (or GRANT)
// for a short resource name. BM_Packer packs <n> GRANTs to 2 destinations.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

#include "codec/codec.hpp"

namespace {

using namespace baton;

core::LeaseId lease() { return core::LeaseId{core::MemberId(2), core::Incarnation(7), 12345}; }

core::Message request() {
  return core::Request{.resource = core::ResourceName("seat:14A"), .lease = lease(), .ttl = core::Duration::s(10),
                       .token = core::Token(1'000'001)};
}

core::Message grant() {
  return core::Grant{.resource = core::ResourceName("seat:14A"), .lease = lease(), .token = core::Token(1'000'001)};
}

codec::ClusterKey key() {
  codec::ClusterKey k;
  for (std::size_t i = 0; i < k.bytes.size(); ++i) k.bytes[i] = static_cast<std::uint8_t>(i * 7 + 1);
  return k;
}

codec::Header header() {
  codec::Header h;
  h.cluster_id = 42;
  h.sender = core::MemberId(2);
  h.incarnation = core::Incarnation(7);
  h.seq = 1;
  return h;
}

void BM_Encode(benchmark::State& state) {
  const bool auth = state.range(0) != 0;
  const auto k = key();
  const std::vector<core::Message> msgs{request()};
  std::vector<std::uint8_t> buf(core::limits::datagram_bytes_max);
  codec::Header h = header();
  std::size_t bytes = 0;
  for (auto _ : state) {
    ++h.seq;
    auto r = codec::encode(h, msgs, auth ? &k : nullptr, buf);
    if (!r.ok()) std::abort();
    bytes = *r;
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["datagram_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_Encode)->ArgName("auth")->Arg(0)->Arg(1);

void BM_Decode(benchmark::State& state) {
  const bool auth = state.range(0) != 0;
  const auto k = key();
  const std::vector<core::Message> msgs{request()};
  std::vector<std::uint8_t> buf(core::limits::datagram_bytes_max);
  auto n = codec::encode(header(), msgs, auth ? &k : nullptr, buf);
  if (!n.ok()) std::abort();
  buf.resize(*n);
  codec::Decoded out;
  for (auto _ : state) {
    auto drop = codec::decode(buf, auth ? &k : nullptr, 42, out);
    if (drop) std::abort();
    benchmark::DoNotOptimize(out.messages.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Decode)->ArgName("auth")->Arg(0)->Arg(1);

// Receiver: decode plus the member check and replay window, as the runtime
// runs it on every datagram.
void BM_Receive(benchmark::State& state) {
  const auto k = key();
  const std::vector<core::Message> msgs{grant()};
  std::vector<std::vector<std::uint8_t>> dgs;
  codec::Header h = header();
  for (int i = 0; i < 4096; ++i) {
    std::vector<std::uint8_t> buf(core::limits::datagram_bytes_max);
    h.seq = static_cast<std::uint64_t>(i + 1);
    auto n = codec::encode(h, msgs, &k, buf);
    if (!n.ok()) std::abort();
    buf.resize(*n);
    dgs.push_back(std::move(buf));
  }
  codec::Decoded out;
  std::size_t i = 0;
  std::optional<codec::Receiver> rx;
  for (auto _ : state) {
    if (i % dgs.size() == 0) {
      state.PauseTiming();
      rx.emplace(42, k, std::vector<core::MemberId>{core::MemberId(1), core::MemberId(2), core::MemberId(3)},
                 core::MemberId(1));
      state.ResumeTiming();
    }
    auto drop = rx->receive(dgs[i++ % dgs.size()], out);
    if (drop) std::abort();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Receive);

// Packs <n> GRANTs (distinct resources, alternating between two destinations)
// into datagrams, authenticated; items = messages.
void BM_Packer(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<core::Outgoing> msgs;
  char name[32];
  for (std::size_t i = 0; i < n; ++i) {
    std::snprintf(name, sizeof name, "seat:%zu", i);
    msgs.push_back(core::Outgoing{core::MemberId(static_cast<std::uint32_t>(2 + i % 2)),
                                  core::Grant{.resource = core::ResourceName(std::string(name)), .lease = lease(),
                                              .token = core::Token(i + 1)}});
  }
  codec::Packer packer(42, core::MemberId(1), core::Incarnation(1), key());
  std::vector<codec::Datagram> out;
  std::size_t datagrams = 0;
  for (auto _ : state) {
    out.clear();
    packer.pack(msgs, out);
    datagrams = out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
  state.counters["datagrams"] = static_cast<double>(datagrams);
}
BENCHMARK(BM_Packer)->ArgName("messages")->Arg(1)->Arg(64);

}  // namespace

BENCHMARK_MAIN();
