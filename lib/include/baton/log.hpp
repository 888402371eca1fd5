// SPDX-License-Identifier: Apache-2.0
// Logging hook. Baton is quiet by default: it logs only through the hook the
// application sets in Config::log. The exceptions are two start-up warnings,
// which go to stderr when no hook is set, because running that way should be
// noticed: datagrams are not authenticated (no cluster key), and the member
// recovers its floor from its peers (no state directory and no bootstrap, or
// a state directory without state), which a cluster starting that way never
// finishes.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

namespace baton {

enum class LogLevel : std::uint8_t {
  debug,  // per-datagram detail; off unless asked for
  info,   // start, stop, recovery progress
  warn,   // degraded but working: no key, persistence retried, send buffers full
  error,  // an operation failed: persistence, socket errors
};

constexpr std::string_view log_level_name(LogLevel l) noexcept {
  switch (l) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
  }
  return "unknown";
}

// Called on the loop thread (and on the thread calling Cluster::start for
// start-up messages). Must not block and must not call back into Baton's
// blocking calls. The text is valid only during the call.
using LogHook = std::function<void(LogLevel level, std::string_view text)>;

}  // namespace baton
