// SPDX-License-Identifier: Apache-2.0
// Packer: outbox messages -> datagrams, grouped by destination.
//
// FlatBuffers sizes depend on the data (vtables are shared, padding varies),
// so instead of predicting sizes the packer encodes: it tries the largest
// batch allowed by the message limit and, if that is too large, searches for
// the longest prefix that fits. Sizes grow with every message added, and
// nearly in proportion, so the search interpolates between the longest
// prefix known to fit and the shortest known not to: usually two or three
// builds per datagram. Builds are not tagged; the datagram sent is tagged
// once. (A binary search that tagged every fitting probe made the packer
// half of an acquiring member's user-space instructions under load: 68,156
// encodes and 66,469 tags for 17,128 datagrams, callgrind, docs/benchmarks.md.)
#include <algorithm>
#include <cstring>

#include "codec/codec.hpp"
#include "codec/encoder.hpp"
#include "core/assert.hpp"

namespace baton::codec {

Packer::Packer(std::uint64_t cluster_id, core::MemberId self, core::Incarnation incarnation,
               std::uint64_t config_fingerprint, std::optional<ClusterKey> key)
    : base_{.version = wire_version, .cluster_id = cluster_id, .sender = self, .incarnation = incarnation, .seq = 0,
            .config_fingerprint = config_fingerprint},
      key_(key ? std::optional<AuthKey>(*key) : std::nullopt),
      encoder_(std::make_unique<detail::Encoder>()) {
  group_.reserve(core::limits::messages_per_datagram_max);
}

Packer::~Packer() = default;
Packer::Packer(Packer&&) noexcept = default;
Packer& Packer::operator=(Packer&&) noexcept = default;

void Packer::pack(std::span<const core::Outgoing> msgs, std::vector<Datagram>& out) {
  // Group by destination, ascending from just after the destination that
  // went first last time, keeping each destination's order.
  order_.clear();
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    BATON_ASSERT(msgs[i].to != core::MemberId{});
    BATON_ASSERT(msgs[i].to != base_.sender);  // self-delivery is in-process
    if (!encodable(msgs[i].msg)) {
      ++dropped_;
      continue;
    }
    order_.push_back(i);
  }
  const auto rank = [&](std::size_t i) {
    const std::uint64_t to = msgs[i].to.value;
    return to > first_ ? to : to + (std::uint64_t{1} << 32);  // after first_, then wrap around
  };
  std::stable_sort(order_.begin(), order_.end(), [&](std::size_t a, std::size_t b) { return rank(a) < rank(b); });
  if (!order_.empty()) first_ = msgs[order_.front()].to.value;

  std::size_t i = 0;
  while (i < order_.size()) {
    const core::MemberId to = msgs[order_[i]].to;
    group_.clear();
    for (; i < order_.size() && msgs[order_[i]].to == to; ++i) group_.push_back(&msgs[order_[i]].msg);
    pack_one(to, group_, out);
  }
}

bool Packer::pack_direct(std::span<const core::Message> msgs, std::vector<std::uint8_t>& out) {
  if (msgs.empty() || msgs.size() > core::limits::messages_per_datagram_max) return false;
  std::array<const core::Message*, core::limits::messages_per_datagram_max> ptrs{};
  for (std::size_t i = 0; i < msgs.size(); ++i) ptrs[i] = &msgs[i];
  BATON_ASSERT(seq_ < UINT64_MAX);
  Header h = base_;
  h.seq = seq_ + 1;
  std::array<std::uint8_t, core::limits::datagram_bytes_max> buf{};
  Result<std::size_t> r = encoder_->encode(h, std::span(ptrs).first(msgs.size()), key_ ? &*key_ : nullptr, buf);
  if (!r.ok()) {
    ++dropped_;
    return false;
  }
  seq_ = h.seq;
  out.assign(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*r));
  return true;
}

// All of `msgs` go to `to`: emit as many datagrams as needed, in order.
void Packer::pack_one(core::MemberId to, std::span<const core::Message* const> msgs, std::vector<Datagram>& out) {
  const AuthKey* key = key_ ? &*key_ : nullptr;
  const bool tagged = key != nullptr;
  constexpr std::size_t max = core::limits::datagram_bytes_max;
  std::array<std::uint8_t, max> buf{};

  while (!msgs.empty()) {
    // Sequence numbers never repeat within an incarnation (the replay window
    // relies on it); 2^64 datagrams do not happen in one life.
    BATON_ASSERT(seq_ < UINT64_MAX);
    Header h = base_;
    h.seq = seq_ + 1;

    const auto build = [&](std::size_t k) {
      Result<std::size_t> size = encoder_->build(h, msgs.first(k), tagged);
      BATON_ASSERT(size.ok());  // pack() passed only encodable messages
      return *size;
    };
    const auto keep = [&] {  // the datagram just built fits: hold its bytes
      const std::span<const std::uint8_t> body = encoder_->built();
      std::memcpy(buf.data(), body.data(), body.size());
      return body.size();
    };
    std::size_t hi = std::min(msgs.size(), core::limits::messages_per_datagram_max);
    std::size_t hi_size = build(hi);
    std::size_t lo = 0;  // longest prefix known to fit (0: none yet)
    std::size_t lo_body = 0;
    if (hi_size <= max) {
      lo = hi;
      lo_body = keep();
    } else {
      // The longest fitting prefix lies in [1, hi). A single encodable
      // message always fits (limits.hpp asserts a maximal name plus
      // overhead fits one datagram).
      // The header's size is the same for every datagram of this packer
      // (only the sequence number changes, and it is never 0): built once.
      if (overhead_ == 0) overhead_ = encoder_->overhead(h, tagged);
      std::size_t lo_size = overhead_;
      while (hi - lo > 1) {
        const std::size_t guess = lo + (max - lo_size) * (hi - lo) / (hi_size - lo_size);
        const std::size_t mid = std::clamp(guess, lo + 1, hi - 1);
        const std::size_t size = build(mid);
        if (size <= max) {
          lo = mid;
          lo_size = size;
          lo_body = keep();
        } else {
          hi = mid;
          hi_size = size;
        }
      }
      BATON_ASSERT(lo >= 1);
    }
    std::size_t total = lo_body;
    if (tagged) {
      key->tag(std::span<const std::uint8_t>(buf).first(lo_body), std::span(buf).subspan(lo_body).first<tag_bytes>());
      total += tag_bytes;
    }
    seq_ = h.seq;
    out.push_back(Datagram{.to = to, .bytes = std::vector<std::uint8_t>(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(total))});
    msgs = msgs.subspan(lo);
  }
}

}  // namespace baton::codec
