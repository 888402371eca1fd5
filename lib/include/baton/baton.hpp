// SPDX-License-Identifier: Apache-2.0
// Baton: leases with fencing tokens, voted by the members of a static cluster.
// The umbrella header of the public API (docs/api.md).
#pragma once

#include "baton/cluster.hpp"  // IWYU pragma: export
#include "baton/config.hpp"   // IWYU pragma: export
#include "baton/fence.hpp"    // IWYU pragma: export
#include "baton/lease.hpp"    // IWYU pragma: export
#include "baton/log.hpp"      // IWYU pragma: export
#include "baton/lost_reason.hpp"  // IWYU pragma: export
#include "baton/result.hpp"   // IWYU pragma: export
#include "baton/stats.hpp"    // IWYU pragma: export
#include "baton/voters.hpp"   // IWYU pragma: export
#include "baton/version.hpp"  // IWYU pragma: export (generated: cmake/version.hpp.in)
