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
  }
  return "unknown";
}

std::string_view drop_reason_name(DropReason r) {
  switch (r) {
    case DropReason::oversized: return "oversized";
    case DropReason::bad_auth: return "bad_auth";
    case DropReason::malformed: return "malformed";
    case DropReason::wrong_cluster: return "wrong_cluster";
    case DropReason::wrong_version: return "wrong_version";
    case DropReason::replayed: return "replayed";
    case DropReason::stranger: return "stranger";
    case DropReason::overflow: return "overflow";
    case DropReason::count_: break;
  }
  return "unknown";
}

std::string_view message_name(const Message& m) {
  static constexpr std::string_view names[] = {"REQUEST", "GRANT",       "DENY",        "RENEW",
                                               "RENEW_ACK", "RELEASE",   "FREE",        "FLOOR_QUERY",
                                               "FLOOR_REPLY", "PING",    "PONG"};
  static_assert(std::size(names) == std::variant_size_v<Message>);
  return names[m.index()];
}

}  // namespace baton::core
