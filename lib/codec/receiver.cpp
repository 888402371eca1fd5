// SPDX-License-Identifier: Apache-2.0
// Receiver: decode(), then who sent it, then whether it shares our voting
// configuration, then whether it was seen before. The replay window is the
// last check: a datagram rejected for any reason leaves it untouched, so
// forged, malformed or mismatched datagrams cannot push a sender's window
// forward and make its real datagrams look old. The mismatch table is the
// only other state, and only authenticated members' datagrams reach it.
#include <algorithm>
#include <variant>

#include "codec/codec.hpp"
#include "core/assert.hpp"

namespace baton::codec {

namespace {

// PING and PONG change no lease state (the core answers a PING from a
// snapshot and ignores a PONG), so they may cross a configuration mismatch.
bool status_only(const std::vector<core::Message>& msgs) {
  return std::all_of(msgs.begin(), msgs.end(), [](const core::Message& m) {
    return std::holds_alternative<core::Ping>(m) || std::holds_alternative<core::Pong>(m);
  });
}

// What a client may send a voter: what an acquirer sends, for leases of this
// very life (its id and incarnation: two clients that drew the same id have
// different incarnations, and neither may speak for the other's leases), PING
// and CONFIG_QUERY (issue 21).
bool client_may_send(const Header& h, const std::vector<core::Message>& msgs) {
  const auto own = [&](const core::LeaseId& l) { return l.owner == h.sender && l.incarnation == h.incarnation; };
  return std::all_of(msgs.begin(), msgs.end(), [&](const core::Message& m) {
    if (const auto* r = std::get_if<core::Request>(&m)) return own(r->lease);
    if (const auto* r = std::get_if<core::Renew>(&m)) return own(r->lease);
    if (const auto* r = std::get_if<core::Release>(&m)) return own(r->lease);
    return std::holds_alternative<core::Ping>(m) || std::holds_alternative<core::ConfigQuery>(m);
  });
}

}  // namespace

Receiver::Receiver(std::uint64_t cluster_id, std::optional<ClusterKey> key, std::vector<core::MemberId> members,
                   core::MemberId self, std::uint64_t config_fingerprint, std::size_t clients_max)
    : cluster_id_(cluster_id),
      key_(key ? std::optional<AuthKey>(*key) : std::nullopt), members_(std::move(members)), self_(self),
      fingerprint_(config_fingerprint),
      clients_(clients_max > 0 ? std::make_unique<ClientWindows>(clients_max) : nullptr) {
  // A receiver without a fingerprint of its own would check nothing.
  BATON_ASSERT(fingerprint_ != no_fingerprint);
  std::sort(members_.begin(), members_.end());
  members_.erase(std::unique(members_.begin(), members_.end()), members_.end());
  mismatches_.reserve(members_.size());
}

bool Receiver::is_member(core::MemberId m) const { return std::binary_search(members_.begin(), members_.end(), m); }

void Receiver::note_mismatch(core::MemberId sender, std::uint64_t fingerprint) {
  auto it = std::lower_bound(mismatches_.begin(), mismatches_.end(), sender,
                             [](const core::ConfigMismatch& m, core::MemberId s) { return m.sender < s; });
  if (it == mismatches_.end() || it->sender != sender) {
    // Callers pass members only: at most one entry per member.
    BATON_ASSERT(mismatches_.size() < members_.size());
    it = mismatches_.insert(it, core::ConfigMismatch{.sender = sender, .fingerprint = 0, .datagrams = 0});
  }
  it->fingerprint = fingerprint;
  ++it->datagrams;
}

std::optional<core::DropReason> Receiver::receive(std::span<const std::uint8_t> bytes, Decoded& out,
                                                  Observers observers,
                                                  const std::function<bool(core::MemberId)>& client_pinned) {
  behind_.reset();
  if (auto why = key_ ? decode(bytes, *key_, cluster_id_, out) : decode(bytes, nullptr, cluster_id_, out)) return why;
  const Header& h = out.header;
  if (h.sender == observer_id) {
    // An observer may only ask: PING and nothing else, and no replay-window
    // state (see codec.hpp). decode() guarantees at least one message.
    const bool pings_only = std::all_of(out.messages.begin(), out.messages.end(), [](const core::Message& m) {
      return std::holds_alternative<core::Ping>(m);
    });
    if (observers == Observers::accept && pings_only) return std::nullopt;
    // Remote reconfiguration (issue 21 step 4): one CONFIG_CHANGE alone.
    const bool one_change =
        out.messages.size() == 1 && std::holds_alternative<core::ConfigChange>(out.messages.front());
    if (observers == Observers::accept && one_change) return std::nullopt;
    return core::DropReason::stranger;
  }
  // Our own id from the network is a reflection or a forgery: the core
  // delivers to itself in-process.
  if (h.sender == self_) return core::DropReason::stranger;
  if (core::is_client(h.sender)) {
    if (!clients_ || !client_may_send(h, out.messages)) return core::DropReason::stranger;
    // Not noted in mismatches(): that table is bounded by the members.
    if (h.config_fingerprint != fingerprint_ && h.config_fingerprint != no_fingerprint && !status_only(out.messages))
      return core::DropReason::config_mismatch;
    const std::uint64_t refused = clients_->refused();
    if (clients_->admit(h.sender, h.incarnation, h.seq, client_pinned)) return std::nullopt;
    // No room: every tracked client life holds, waits or is parked here.
    return clients_->refused() != refused ? core::DropReason::overflow : core::DropReason::replayed;
  }
  if (!is_member(h.sender)) return core::DropReason::stranger;
  // Another voting configuration: its votes and requests must not count here
  // (issue 19). A sender without a fingerprint predates them (wire/README.md).
  if (h.config_fingerprint != fingerprint_ && h.config_fingerprint != no_fingerprint && !status_only(out.messages)) {
    note_mismatch(h.sender, h.config_fingerprint);
    return core::DropReason::config_mismatch;
  }
  switch (replay_.admit(h.sender, h.incarnation, h.seq)) {
    case ReplayWindow::Verdict::accepted: return std::nullopt;
    case ReplayWindow::Verdict::replayed: return core::DropReason::replayed;
    case ReplayWindow::Verdict::older_incarnation: {
      const std::optional<core::Incarnation> seen = replay_.newest(h.sender);
      BATON_ASSERT(seen.has_value());  // older than something: the sender is tracked
      behind_ = Behind{.sender = h.sender, .seen = *seen};
      return core::DropReason::replayed;
    }
  }
  return core::DropReason::replayed;
}

}  // namespace baton::codec
