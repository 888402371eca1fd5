// SPDX-License-Identifier: Apache-2.0
// The codec (issue 7): what one datagram costs to encode and to decode
// (verify + parse into core structs), with and without the cluster key's
// authentication tag, and what the Packer costs per message when it batches
// an outbox.
//
//   build-bench/bin/baton_codec_bench --benchmark_counters_tabular=true
//
// The datagram is the common case on the hot path: one REQUEST (or GRANT)
// for a short resource name. BM_Packer packs <n> GRANTs to 2 destinations.
//
// BM_Auth_*: the authentication primitive alone, old and new side by side in
// one run, on <bytes>-byte messages (200: the size the issue 7 profile saw):
//
//   build-bench/bin/baton_codec_bench --benchmark_filter=Auth
//
//   Hmac            crypto_auth, HMAC-SHA-512-256: the tag before issue 7
//   Blake2b         AuthKey::tag, keyed BLAKE2b-128 from the precomputed
//                   state: the tag now
//   Blake2bOneShot  crypto_generichash with the key and no precomputed state:
//                   what AuthKey saves (little: libsodium still compresses the
//                   key block per datagram, see lib/codec/auth.hpp)
//
// BM_Encode and BM_Decode with auth use a precomputed AuthKey, as the
// Packer and Receiver do.
#include <benchmark/benchmark.h>
#include <sodium.h>

#include <array>
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
  h.config_fingerprint = 0x5eed5eed5eed5eedULL;
  return h;
}

std::vector<std::uint8_t> message(std::int64_t bytes) {
  std::vector<std::uint8_t> m(static_cast<std::size_t>(bytes));
  for (std::size_t i = 0; i < m.size(); ++i) m[i] = static_cast<std::uint8_t>(i * 13 + 5);
  return m;
}

void BM_Auth_Hmac(benchmark::State& state) {
  if (sodium_init() < 0) std::abort();
  const auto k = key();
  const auto msg = message(state.range(0));
  std::array<std::uint8_t, crypto_auth_BYTES> tag{};
  for (auto _ : state) {
    crypto_auth(tag.data(), msg.data(), msg.size(), k.bytes.data());
    benchmark::DoNotOptimize(tag.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Auth_Hmac)->ArgName("bytes")->Arg(64)->Arg(200)->Arg(1400);

void BM_Auth_Blake2b(benchmark::State& state) {
  const codec::AuthKey k(key());
  const auto msg = message(state.range(0));
  std::array<std::uint8_t, codec::tag_bytes> tag{};
  for (auto _ : state) {
    k.tag(msg, tag);
    benchmark::DoNotOptimize(tag.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Auth_Blake2b)->ArgName("bytes")->Arg(64)->Arg(200)->Arg(1400);

void BM_Auth_Blake2bOneShot(benchmark::State& state) {
  if (sodium_init() < 0) std::abort();
  const auto k = key();
  const auto msg = message(state.range(0));
  std::array<std::uint8_t, codec::tag_bytes> tag{};
  for (auto _ : state) {
    crypto_generichash(tag.data(), tag.size(), msg.data(), msg.size(), k.bytes.data(), k.bytes.size());
    benchmark::DoNotOptimize(tag.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Auth_Blake2bOneShot)->ArgName("bytes")->Arg(64)->Arg(200)->Arg(1400);

void BM_Encode(benchmark::State& state) {
  const bool auth = state.range(0) != 0;
  const codec::AuthKey k(key());
  const std::vector<core::Message> msgs{request()};
  std::vector<std::uint8_t> buf(core::limits::datagram_bytes_max);
  codec::Header h = header();
  std::size_t bytes = 0;
  for (auto _ : state) {
    ++h.seq;
    auto r = auth ? codec::encode(h, msgs, k, buf) : codec::encode(h, msgs, nullptr, buf);
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
  const codec::AuthKey k(key());
  const std::vector<core::Message> msgs{request()};
  std::vector<std::uint8_t> buf(core::limits::datagram_bytes_max);
  auto n = auth ? codec::encode(header(), msgs, k, buf) : codec::encode(header(), msgs, nullptr, buf);
  if (!n.ok()) std::abort();
  buf.resize(*n);
  codec::Decoded out;
  for (auto _ : state) {
    auto drop = auth ? codec::decode(buf, k, 42, out) : codec::decode(buf, nullptr, 42, out);
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
                 core::MemberId(1), h.config_fingerprint);
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
  codec::Packer packer(42, core::MemberId(1), core::Incarnation(1), header().config_fingerprint, key());
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
