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

}  // namespace baton::core
