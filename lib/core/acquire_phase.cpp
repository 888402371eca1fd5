// SPDX-License-Identifier: Apache-2.0
#include "core/acquire_phase.hpp"

namespace baton::core::phase {

Errc Verdict::failure() const {
  if (saw(DenyReason::held)) return Errc::busy;
  if (saw(DenyReason::ttl_too_long)) return Errc::invalid_argument;
  if (saw(DenyReason::overloaded)) return Errc::overloaded;
  return Errc::unavailable;
}

const char* name(const Phase& p) {
  switch (p.index()) {
    case 0: return "queued";
    case 1: return "attempting";
    case 2: return "backoff";
    case 3: return "held";
  }
  return "?";
}

const char* to_string(Attempting::Kind k) {
  switch (k) {
    case Attempting::Kind::fresh: return "fresh";
    case Attempting::Kind::standing_retry: return "standing retry";
    case Attempting::Kind::handoff: return "hand-off";
  }
  return "?";
}

}  // namespace baton::core::phase
