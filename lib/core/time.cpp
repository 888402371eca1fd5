// SPDX-License-Identifier: Apache-2.0
#include "core/time.hpp"

namespace baton::core {

std::string to_text(Duration d) {
  const std::int64_t ns = d.count_ns();
  if (ns == 0) return "0s";
  struct Unit {
    std::int64_t ns;
    const char* suffix;
  };
  static constexpr Unit units[] = {{1'000'000'000, "s"}, {1'000'000, "ms"}, {1'000, "us"}};
  for (const Unit& u : units) {
    if (ns % u.ns == 0) return std::to_string(ns / u.ns) + u.suffix;
  }
  return std::to_string(ns) + "ns";
}

}  // namespace baton::core
