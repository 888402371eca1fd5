// SPDX-License-Identifier: Apache-2.0
// The core's outputs: messages to send, notifications for the application and
// a floor reservation to persist. The driver drains them after every input
// (take_outbox) and re-arms one timer at next_deadline().
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "baton/lost_reason.hpp"
#include "baton/result.hpp"
#include "core/ids.hpp"
#include "core/incarnation.hpp"
#include "core/membership.hpp"
#include "core/message.hpp"
#include "core/time.hpp"

namespace baton::core {

struct Outgoing {
  MemberId to{};  // never the sending member itself: self-delivery is in-process
  Message msg{};
};

enum class EventKind : std::uint8_t {
  acquired,        // the lease is held: token and validity_end are set
  acquire_failed,  // terminal: error says why (busy, unavailable, cancelled, ...)
  renewed,         // a renewal round succeeded: validity_end is the new end
  renew_failed,    // an explicit renew() did not succeed: error (unknown_outcome, lost)
  lost,            // terminal: the lease is gone, lost_reason says why
};

// Why a held lease was lost: the public type itself (one definition). The
// core reports renew_failing, expired and superseded, never restarted.
using LostReason = baton::LostReason;
using baton::lost_reason_name;

std::string_view event_kind_name(EventKind k);

struct Event {
  EventKind kind{};
  AcquireId id{};
  ResourceName resource{};
  Token token{};               // acquired, renewed, lost: the lease's token
  Instant validity_end{};      // acquired, renewed: on this member's clock
  Errc error = Errc::ok;     // acquire_failed, renew_failed
  LostReason lost_reason{};  // lost
};

struct Outbox {
  std::vector<Outgoing> messages;
  std::vector<Event> events;
  // Write this floor reservation durably (fsync), then call
  // Node::on_persisted(now, value). At most one outstanding at a time.
  std::optional<Token> persist;
  // The voter adopted a configuration record (issue 21, V1): write this state
  // (record and promise) durably, fsynced, BEFORE sending any of `messages`
  // and before the next input: they may act on it. The latest one wins.
  std::optional<CfgState> persist_config;
  // A peer has seen a newer life of this member than this one, so this one's
  // datagrams are dropped there (core/incarnation.hpp). The runtime ends this
  // life and starts a Node with `new_life->incarnation`; the rest of this
  // outbox is still handled first (events, then messages).
  std::optional<NewLife> new_life;
  // A reconfiguration this member drove ended (Node::reconfigure).
  std::optional<ReconfigResult> reconfigured;

  void clear() {
    messages.clear();
    events.clear();
    persist.reset();
    persist_config.reset();
    new_life.reset();
    reconfigured.reset();
  }
  bool empty() const {
    return messages.empty() && events.empty() && !persist && !persist_config && !new_life && !reconfigured;
  }
};

}  // namespace baton::core
