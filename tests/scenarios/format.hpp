// SPDX-License-Identifier: Apache-2.0
// Text forms of the core's values for scenario output: durations, members,
// lease ids and one line per protocol message. Everything a protocol reviewer
// needs to follow a trace, nothing that varies between runs (nonces).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/ids.hpp"
#include "core/message.hpp"
#include "core/outbox.hpp"
#include "core/time.hpp"

namespace baton::scenario {

// "10s", "250ms", "9.79998s", "40us", "5ns", "-1.5s": exact, trailing zeros trimmed.
std::string fmt_duration(core::Duration d);
// "+9.79998s": an offset from the scenario start.
std::string fmt_offset(core::Duration d);
std::string fmt_member(core::MemberId m);  // "n2"
std::string fmt_lease(const core::LeaseId& l);  // "owner.incarnation.serial", e.g. "1.1.1"
// One message, without the link: "REQUEST seat:14A lease=1.1.1 token=1 ttl=10s".
std::string fmt_message(const core::Message& m);

// Parses "10s", "250ms", "40us", "5ns", "1.5s". Throws std::runtime_error.
core::Duration parse_duration(std::string_view s);
// Parses "n3" (or "3"). Throws std::runtime_error.
core::MemberId parse_member(std::string_view s);
// Parses a decimal such as "1.01" into parts per million (1010000).
std::int64_t parse_ppm(std::string_view s);

}  // namespace baton::scenario
