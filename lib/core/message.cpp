// SPDX-License-Identifier: Apache-2.0
#include "core/message.hpp"

#include "baton/stats.hpp"

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

// The public stats carry the same reasons with the same stable numbers (they
// travel in PONG); one table of names serves both.
static_assert(static_cast<std::size_t>(DropReason::count_) == baton::drop_reason_count);
static_assert(static_cast<int>(DropReason::oversized) == static_cast<int>(baton::DropReason::oversized));
static_assert(static_cast<int>(DropReason::overflow) == static_cast<int>(baton::DropReason::overflow));
static_assert(static_cast<int>(DropReason::replayed) == static_cast<int>(baton::DropReason::replayed));
static_assert(static_cast<int>(DropReason::stranger) == static_cast<int>(baton::DropReason::stranger));
static_assert(static_cast<int>(DropReason::bad_auth) == static_cast<int>(baton::DropReason::bad_auth));
static_assert(static_cast<int>(DropReason::malformed) == static_cast<int>(baton::DropReason::malformed));
static_assert(static_cast<int>(DropReason::wrong_cluster) == static_cast<int>(baton::DropReason::wrong_cluster));
static_assert(static_cast<int>(DropReason::wrong_version) == static_cast<int>(baton::DropReason::wrong_version));

std::string_view drop_reason_name(DropReason r) {
  if (r == DropReason::count_) return "unknown";
  return baton::drop_reason_name(static_cast<baton::DropReason>(r));
}

std::string_view message_name(const Message& m) {
  static constexpr std::string_view names[] = {"REQUEST", "GRANT",       "DENY",        "RENEW",
                                               "RENEW_ACK", "RELEASE",   "FREE",        "FLOOR_QUERY",
                                               "FLOOR_REPLY", "PING",    "PONG",
                                               "INCARNATION_BEHIND"};
  static_assert(std::size(names) == std::variant_size_v<Message>);
  return names[m.index()];
}

}  // namespace baton::core
