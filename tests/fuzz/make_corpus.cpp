// SPDX-License-Identifier: Apache-2.0
// Writes (or checks) the committed seed corpus of the fuzz targets: one
// datagram of every message type, with and without the fuzz cluster key,
// plus batches. Usage:
//   fuzz_corpus_gen write <tests/fuzz/corpus>   regenerate after a schema change
//   fuzz_corpus_gen check <tests/fuzz/corpus>   fail if a seed is missing or stale
// (ctest runs `check`, so a wire change that forgets the corpus fails.)
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "codec/codec.hpp"
#include "fuzz_inputs.hpp"
#include "sample_messages.hpp"

namespace {

using namespace baton;

struct Seed {
  std::string path;                // relative to the corpus root
  std::vector<std::uint8_t> bytes; // file content
};

std::vector<std::uint8_t> encode_or_die(const codec::Header& h, const std::vector<core::Message>& msgs,
                                        const codec::ClusterKey* key) {
  std::vector<std::uint8_t> buf(core::limits::datagram_bytes_max);
  Result<std::size_t> n = codec::encode(h, msgs, key, buf);
  if (!n.ok()) {
    std::fprintf(stderr, "encode failed: %.*s\n", static_cast<int>(n.what().size()), n.what().data());
    std::exit(2);
  }
  buf.resize(*n);
  return buf;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::vector<Seed> seeds() {
  std::vector<Seed> out;
  const codec::ClusterKey& key = fuzz::key();
  codec::Header h{.version = codec::wire_version, .cluster_id = fuzz::cluster_id,
                  .sender = core::MemberId(fuzz::node_peer), .incarnation = core::Incarnation(1), .seq = 0,
                  .config_fingerprint = fuzz::node_fingerprint()};
  const auto all = codec::testing::samples();
  for (const core::Message& m : all) {
    ++h.seq;
    const std::string name = lower(core::message_name(m));
    const auto plain = encode_or_die(h, {m}, nullptr);
    const auto keyed = encode_or_die(h, {m}, &key);
    out.push_back({"fuzz_codec/" + name + ".plain", plain});
    out.push_back({"fuzz_codec/" + name + ".keyed", keyed});
    // fuzz_node_datagram: [mode][datagram]
    auto with_mode = [](fuzz::NodeMode mode, const std::vector<std::uint8_t>& d) {
      std::vector<std::uint8_t> b{static_cast<std::uint8_t>(mode)};
      b.insert(b.end(), d.begin(), d.end());
      return b;
    };
    out.push_back({"fuzz_node_datagram/" + name + ".keyed", with_mode(fuzz::NodeMode::keyed, keyed)});
    out.push_back({"fuzz_node_datagram/" + name + ".signed", with_mode(fuzz::NodeMode::signed_, plain)});
    out.push_back({"fuzz_node_datagram/" + name + ".nokey", with_mode(fuzz::NodeMode::no_key, plain)});
    // From a member with another voting configuration: refused as
    // config_mismatch, except PING and PONG.
    codec::Header other = h;
    other.config_fingerprint = fuzz::other_fingerprint;
    out.push_back({"fuzz_node_datagram/" + name + ".mismatch",
                   with_mode(fuzz::NodeMode::keyed, encode_or_die(other, {m}, &key))});
  }
  // From a client (issue 21): what a client may send, for its own lease.
  codec::Header ch = h;
  ch.sender = core::client_id(0x1234567);
  ch.incarnation = core::Incarnation(0x1122334455667788ULL);
  for (core::Message m : all) {
    const bool client_may = std::holds_alternative<core::Request>(m) || std::holds_alternative<core::Renew>(m) ||
                            std::holds_alternative<core::Release>(m) || std::holds_alternative<core::Ping>(m) ||
                            std::holds_alternative<core::ConfigQuery>(m);
    if (!client_may) continue;
    std::visit(
        [&](auto& alt) {
          if constexpr (requires { alt.lease; }) {
            alt.lease.owner = ch.sender;
            alt.lease.incarnation = ch.incarnation;
          }
        },
        m);
    ++ch.seq;
    std::vector<std::uint8_t> b{static_cast<std::uint8_t>(fuzz::NodeMode::keyed)};
    const auto d = encode_or_die(ch, {m}, &key);
    b.insert(b.end(), d.begin(), d.end());
    out.push_back({"fuzz_node_datagram/" + lower(core::message_name(m)) + ".client", b});
  }
  ++h.seq;
  // As many types as fit one datagram (codec::testing::one_datagram_samples).
  const auto batch = codec::testing::one_datagram_samples();
  out.push_back({"fuzz_codec/all.plain", encode_or_die(h, batch, nullptr)});
  out.push_back({"fuzz_codec/all.keyed", encode_or_die(h, batch, &key)});
  const auto largest = codec::testing::largest_samples();
  out.push_back({"fuzz_codec/largest_request.plain", encode_or_die(h, {largest[0]}, nullptr)});
  // Issue 21 step 4: batonctl reconfigure's request, as an observer sends it
  // (sender 0), and the largest reply (64 + 64 voters, the longest detail).
  codec::Header obs = h;
  obs.sender = codec::observer_id;
  obs.config_fingerprint = codec::no_fingerprint;
  for (const core::Message& m : largest) {
    if (std::holds_alternative<core::ConfigChange>(m)) {
      out.push_back({"fuzz_codec/config_change.observer", encode_or_die(obs, {m}, &key)});
    } else if (std::holds_alternative<core::ConfigChangeReply>(m)) {
      out.push_back({"fuzz_codec/largest_config_change_reply.keyed", encode_or_die(h, {m}, &key)});
    }
  }
  return out;
}

std::vector<std::uint8_t> read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return {};
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (std::strcmp(argv[1], "write") != 0 && std::strcmp(argv[1], "check") != 0)) {
    std::fprintf(stderr, "usage: %s write|check <corpus dir>\n", argv[0]);
    return 2;
  }
  const bool write = std::strcmp(argv[1], "write") == 0;
  const std::filesystem::path root = argv[2];
  int stale = 0;
  for (const Seed& s : seeds()) {
    const std::filesystem::path p = root / s.path;
    if (write) {
      std::filesystem::create_directories(p.parent_path());
      std::ofstream out(p, std::ios::binary | std::ios::trunc);
      out.write(reinterpret_cast<const char*>(s.bytes.data()), static_cast<std::streamsize>(s.bytes.size()));
      if (!out) {
        std::fprintf(stderr, "cannot write %s\n", p.c_str());
        return 1;
      }
    } else if (read_file(p) != s.bytes) {
      std::fprintf(stderr, "stale or missing seed: %s\n", p.c_str());
      ++stale;
    }
  }
  if (stale > 0) {
    std::fprintf(stderr, "%d seed(s) differ: rerun `fuzz_corpus_gen write %s` and commit\n", stale, root.c_str());
    return 1;
  }
  return 0;
}
