// Packer: outbox messages -> datagrams, grouped by destination.
//
// FlatBuffers sizes depend on the data (vtables are shared, padding varies),
// so instead of predicting sizes the packer encodes: it tries the largest
// batch allowed by the message limit and, if that is too large, searches for
// the longest prefix that fits (sizes grow with every message added, so a
// binary search finds it in at most log2(messages_per_datagram_max) + 1
// encodes per datagram).
#include <algorithm>

#include "codec/codec.hpp"
#include "codec/encoder.hpp"
#include "core/assert.hpp"

namespace baton::codec {

Packer::Packer(std::uint64_t cluster_id, core::MemberId self, core::Incarnation incarnation,
               std::optional<ClusterKey> key)
    : base_{.version = wire_version, .cluster_id = cluster_id, .sender = self, .incarnation = incarnation, .seq = 0},
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
  std::array<std::uint8_t, core::limits::datagram_bytes_max> buf{};

  while (!msgs.empty()) {
    // Sequence numbers never repeat within an incarnation (the replay window
    // relies on it); 2^64 datagrams do not happen in one life.
    BATON_ASSERT(seq_ < UINT64_MAX);
    Header h = base_;
    h.seq = seq_ + 1;

    std::size_t hi = std::min(msgs.size(), core::limits::messages_per_datagram_max);
    Result<std::size_t> r = encoder_->encode(h, msgs.first(hi), key, buf);
    std::size_t taken = hi;
    if (!r.ok()) {
      // Too large: the longest fitting prefix lies in [1, hi).
      BATON_ASSERT(r.code() == Errc::overloaded);
      std::size_t lo = 0;  // longest prefix known to fit (0: none yet)
      while (hi - lo > 1) {
        const std::size_t mid = lo + (hi - lo) / 2;
        if (encoder_->encode(h, msgs.first(mid), key, buf).ok()) lo = mid; else hi = mid;
      }
      // A single encodable message always fits (limits.hpp asserts a maximal
      // name plus overhead fits one datagram).
      BATON_ASSERT(lo >= 1);
      taken = lo;
      r = encoder_->encode(h, msgs.first(taken), key, buf);
      BATON_ASSERT(r.ok());
    }
    seq_ = h.seq;
    out.push_back(Datagram{.to = to, .bytes = std::vector<std::uint8_t>(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*r))});
    msgs = msgs.subspan(taken);
  }
}

}  // namespace baton::codec
