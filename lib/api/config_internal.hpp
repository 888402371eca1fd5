// SPDX-License-Identifier: Apache-2.0
// Internal: translating the public Config for the layers below.
#pragma once

#include "baton/config.hpp"
#include "core/config.hpp"

namespace baton::detail {

// The core's view of `c` (recovery first_start, incarnation 1: the caller
// fills both from the start plan). Does not validate.
core::NodeConfig to_node_config(const Config& c);

}  // namespace baton::detail
