// SPDX-License-Identifier: Apache-2.0
// LostReason: why a held lease ended. One definition for the public API and
// the protocol core (core::Event::lost_reason is this type; the core never
// reports `restarted`, which the runtime's in-process new life does).
#pragma once

#include <cstdint>
#include <string_view>

namespace baton {

// Why a held lease ended without being released.
enum class LostReason : std::uint8_t {
  renew_failing,  // renewal did not reach a majority before the renewal cut-off (its
                  // validity had not run out yet); the voters are told to release it,
                  // so it ends now
  expired,        // validity ended without a successful renewal
  superseded,     // the voters report another lease on the resource
  restarted,      // this member started a new life in-process (a peer had seen a newer
                  // incarnation of it, e.g. after the wall clock stepped back across a
                  // restart): every lease of the old life ends at once
};

constexpr std::string_view lost_reason_name(LostReason r) noexcept {
  switch (r) {
    case LostReason::renew_failing: return "renew_failing";
    case LostReason::expired: return "expired";
    case LostReason::superseded: return "superseded";
    case LostReason::restarted: return "restarted";
  }
  return "unknown";
}

}  // namespace baton
