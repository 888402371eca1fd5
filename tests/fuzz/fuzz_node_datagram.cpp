// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: arbitrary bytes through codec::Receiver into
// core::Node::on_messages, the whole receive path of one member.
//
// Properties:
//  - nothing crashes, asserts, leaks or trips a sanitizer;
//  - keyed mode: a datagram the receiver rejects reaches nothing but
//    Node::count_drop; the node's stats change in exactly that drop counter.
//    That includes a member's datagram under another voting configuration
//    (config_mismatch: the *.mismatch seeds);
//    Random bytes cannot carry a valid tag, so with a key they never reach
//    the node's logic;
//  - signed mode (the harness tags the bytes, standing in for a member that
//    holds the key): authenticated but arbitrary content may reach the node,
//    which must cope, and everything it sends back must be encodable.
//
// Input format and shared constants: fuzz_inputs.hpp.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <type_traits>
#include <vector>

#include "codec/codec.hpp"
#include "core/fingerprint.hpp"
#include "core/node.hpp"
#include "fuzz_inputs.hpp"

namespace {

using namespace baton;

void require(bool ok) {
  if (!ok) std::abort();
}

const core::Instant start = core::Instant::from_ns(1'000'000'000);

std::unique_ptr<core::Node> make_node() {
  core::NodeConfig config;
  config.members = {core::MemberId(1), core::MemberId(2), core::MemberId(3)};
  config.self = core::MemberId(fuzz::node_self);
  config.incarnation = core::Incarnation(1);
  Result<std::unique_ptr<core::Node>> node = core::Node::create(config, /*seed=*/1, start);
  require(node.ok());
  return std::move(*node);
}

// NodeStats is plain counters (no padding), so bytes compare like fields.
static_assert(std::has_unique_object_representations_v<core::NodeStats>);

bool same_except_drop(core::NodeStats before, core::NodeStats after, core::DropReason why) {
  const auto i = static_cast<std::size_t>(why);
  if (after.drops[i] != before.drops[i] + 1) return false;
  before.drops[i] = after.drops[i];
  return std::memcmp(&before, &after, sizeof before) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto mode = static_cast<fuzz::NodeMode>(data[0] % 3);
  std::vector<std::uint8_t> bytes(data + 1, data + size);
  if (mode == fuzz::NodeMode::signed_) {
    std::array<std::uint8_t, codec::tag_bytes> tag{};
    codec::auth_tag(bytes, fuzz::key(), tag);
    bytes.insert(bytes.end(), tag.begin(), tag.end());
  }
  const std::optional<codec::ClusterKey> key =
      mode == fuzz::NodeMode::no_key ? std::nullopt : std::optional<codec::ClusterKey>(fuzz::key());

  std::unique_ptr<core::Node> node = make_node();
  const std::uint64_t fingerprint = core::voting_fingerprint(node->config());
  require(fingerprint == fuzz::node_fingerprint());
  // Clients too (issue 21): a sender id with the top bit set reaches the
  // client path (replay windows per client life, pinned while they hold).
  codec::Receiver receiver(fuzz::cluster_id, key, node->config().members, node->config().self, fingerprint,
                           /*clients_max=*/4);
  codec::Decoded d;
  const core::NodeStats before = node->stats();
  const auto pinned = [&](core::MemberId m) { return node->client_pinned(m); };
  if (const std::optional<core::DropReason> why = receiver.receive(bytes, d, codec::Observers::reject, pinned)) {
    node->count_drop(*why);
    require(same_except_drop(before, node->stats(), *why));
    return 0;
  }
  // Accepted. Keyed mode can only get here with bytes the corpus generator
  // tagged; fuzzed bytes would need a forged tag.
  node->on_messages(start, d.header.sender, d.messages);
  core::Outbox out;
  node->take_outbox(out);
  // The node's own next acquire after whatever tokens it saw (a token of
  // UINT64_MAX once made it assert here; the codec now refuses it).
  require(node->acquire(start, core::AcquireArgs{.resource = core::ResourceName("fuzz:own"), .ttl = core::Duration::s(1),
                                                 .wait_until = start, .auto_renew = false})
              .ok());
  core::Outbox own;
  node->take_outbox(own);
  out.messages.insert(out.messages.end(), own.messages.begin(), own.messages.end());
  node->on_deadline(start + core::Duration::s(120));
  core::Outbox later;
  node->take_outbox(later);

  codec::Packer packer(fuzz::cluster_id, node->config().self, node->config().incarnation, fingerprint, key);
  std::vector<codec::Datagram> datagrams;
  packer.pack(out.messages, datagrams);
  packer.pack(later.messages, datagrams);
  require(packer.dropped() == 0);
  return 0;
}
