// SPDX-License-Identifier: Apache-2.0
#include "core/message.hpp"

namespace baton::core {

std::string_view deny_reason_name(DenyReason r) {
  switch (r) {
    case DenyReason::held: return "held";
    case DenyReason::stale: return "stale";
    case DenyReason::quarantined: return "quarantined";
    case DenyReason::ttl_too_long: return "ttl_too_long";
    case DenyReason::overloaded: return "overloaded";
    case DenyReason::not_current: return "not_current";
    case DenyReason::config: return "config";
    case DenyReason::behind: return "behind";
    case DenyReason::not_voter: return "not_voter";
  }
  return "unknown";
}

std::string_view message_name(const Message& m) {
  static constexpr std::string_view names[] = {"REQUEST", "GRANT",       "DENY",        "RENEW",
                                               "RENEW_ACK", "RELEASE",   "FREE",        "FLOOR_QUERY",
                                               "FLOOR_REPLY", "PING",    "PONG",
                                               "INCARNATION_BEHIND", "CONFIG_READ", "CONFIG_READ_REPLY",
                                               "CONFIG_PROPOSE", "CONFIG_ACK", "CONFIG_QUERY", "CONFIG_REPLY",
                                               "CONFIG_CHANGE", "CONFIG_CHANGE_REPLY"};
  static_assert(std::size(names) == std::variant_size_v<Message>);
  return names[m.index()];
}

}  // namespace baton::core
