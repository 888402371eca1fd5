// SPDX-License-Identifier: Apache-2.0
#include "core/incarnation.hpp"

#include <limits>

namespace baton::core {

std::optional<Incarnation> next_life(Incarnation own, Incarnation seen) {
  if (seen <= own) return std::nullopt;  // this life is already known, or the hint is about an older one
  if (seen.value == std::numeric_limits<std::uint64_t>::max()) return std::nullopt;  // nothing above it
  return Incarnation{seen.value + 1};
}

}  // namespace baton::core
