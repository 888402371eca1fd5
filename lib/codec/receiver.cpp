// Receiver: decode(), then who sent it, then whether it was seen before.
// The replay window is the last check, and the only one with state: a
// datagram rejected for any reason leaves it untouched, so forged or
// malformed datagrams cannot push a sender's window forward and make its
// real datagrams look old.
#include <algorithm>
#include <variant>

#include "codec/codec.hpp"

namespace baton::codec {

Receiver::Receiver(std::uint64_t cluster_id, std::optional<ClusterKey> key, std::vector<core::MemberId> members,
                   core::MemberId self)
    : cluster_id_(cluster_id),
      key_(key ? std::optional<AuthKey>(*key) : std::nullopt), members_(std::move(members)), self_(self) {
  std::sort(members_.begin(), members_.end());
  members_.erase(std::unique(members_.begin(), members_.end()), members_.end());
}

bool Receiver::is_member(core::MemberId m) const { return std::binary_search(members_.begin(), members_.end(), m); }

std::optional<core::DropReason> Receiver::receive(std::span<const std::uint8_t> bytes, Decoded& out,
                                                  Observers observers) {
  if (auto why = key_ ? decode(bytes, *key_, cluster_id_, out) : decode(bytes, nullptr, cluster_id_, out)) return why;
  const Header& h = out.header;
  if (h.sender == observer_id) {
    // An observer may only ask: PING and nothing else, and no replay-window
    // state (see codec.hpp). decode() guarantees at least one message.
    const bool pings_only = std::all_of(out.messages.begin(), out.messages.end(), [](const core::Message& m) {
      return std::holds_alternative<core::Ping>(m);
    });
    if (observers == Observers::accept && pings_only) return std::nullopt;
    return core::DropReason::stranger;
  }
  // Our own id from the network is a reflection or a forgery: the core
  // delivers to itself in-process.
  if (h.sender == self_ || !is_member(h.sender)) return core::DropReason::stranger;
  if (!replay_.accept(h.sender, h.incarnation, h.seq)) return core::DropReason::replayed;
  return std::nullopt;
}

}  // namespace baton::codec
