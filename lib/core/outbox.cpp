// SPDX-License-Identifier: Apache-2.0
#include "core/outbox.hpp"

namespace baton::core {

std::string_view event_kind_name(EventKind k) {
  switch (k) {
    case EventKind::acquired: return "acquired";
    case EventKind::acquire_failed: return "acquire_failed";
    case EventKind::renewed: return "renewed";
    case EventKind::renew_failed: return "renew_failed";
    case EventKind::lost: return "lost";
  }
  return "unknown";
}

std::string_view lost_reason_name(LostReason r) {
  switch (r) {
    case LostReason::renew_failing: return "renew_failing";
    case LostReason::expired: return "expired";
    case LostReason::superseded: return "superseded";
  }
  return "unknown";
}

}  // namespace baton::core
