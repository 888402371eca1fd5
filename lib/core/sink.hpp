// SPDX-License-Identifier: Apache-2.0
// Sink: where the Voter, Acquirer and Recovery put what they want done.
// Node implements it: messages to itself loop back in-process, the rest go to
// the outbox; events and persistence requests go to the outbox.
#pragma once

#include "core/ids.hpp"
#include "core/message.hpp"
#include "core/outbox.hpp"
#include "core/stats.hpp"

namespace baton::core {

class Sink {
 public:
  virtual ~Sink() = default;
  virtual void send(MemberId to, Message msg) = 0;
  virtual void emit(Event e) = 0;
  virtual void persist(Token reservation) = 0;
  virtual NodeStats& stats() = 0;
  // Every token seen anywhere: the acquirer's proposals stay above it.
  virtual void observe_token(Token t) = 0;
};

}  // namespace baton::core
