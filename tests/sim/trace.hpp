// SPDX-License-Identifier: Apache-2.0
// Trace: one readable line per message or event, for `baton-sim --trace`.
#pragma once

#include <cstdint>
#include <string>

#include "core/ids.hpp"
#include "core/message.hpp"
#include "core/outbox.hpp"
#include "core/time.hpp"

namespace baton::sim {

std::string describe(const core::LeaseId& l);
std::string describe(const core::Message& m);
std::string describe(const core::Event& e);
// "12.345678ms": true time (ns) as milliseconds.
std::string true_ms(std::int64_t true_ns);
// "1234.567890123s": a member's local reading.
std::string local_s(core::Instant local);

}  // namespace baton::sim
