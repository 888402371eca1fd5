// SPDX-License-Identifier: Apache-2.0
// Sink: where the Voter, Acquirer and Recovery put what they want done.
// Node implements it: messages to itself loop back in-process, the rest go to
// the outbox; events and persistence requests go to the outbox.
#pragma once

#include <string_view>

#include "core/ids.hpp"
#include "core/message.hpp"
#include "core/outbox.hpp"
#include "core/stats.hpp"

namespace baton::core {

// One of this member's acquires moved from one phase to another
// (acquire_phase.hpp), or took a step within one (a confirm round). For
// traces and debugging only: nothing in the protocol depends on it.
struct Transition {
  AcquireId id;
  std::string_view resource;  // valid during the call only
  const char* from = "";    // phase name, or "new"
  const char* to = "";      // phase name
  const char* detail = "";  // e.g. "hand-off", "standing request", "" for none
};

class Sink {
 public:
  virtual ~Sink() = default;
  virtual void send(MemberId to, Message msg) = 0;
  virtual void emit(Event e) = 0;
  virtual void persist(Token reservation) = 0;
  // The voter adopted a configuration (V1): write `state` durably before any
  // message sent after this call leaves the member (Outbox::persist_config).
  virtual void persist_config(const CfgState& state) = 0;
  virtual NodeStats& stats() = 0;
  // Every token seen anywhere: the acquirer's proposals stay above it.
  virtual void observe_token(Token t) = 0;
  // A phase change of an acquire (traces); ignored unless someone listens.
  virtual void transition(const Transition& /*t*/) {}
};

}  // namespace baton::core
