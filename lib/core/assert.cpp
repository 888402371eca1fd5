// SPDX-License-Identifier: Apache-2.0
#include "core/assert.hpp"

#include <cstdio>
#include <cstdlib>

namespace baton::core {

void assert_fail(const char* cond, const char* file, int line) noexcept {
  std::fprintf(stderr, "baton: assertion failed: %s at %s:%d\n", cond, file, line);
  std::fflush(stderr);
  std::abort();
}

}  // namespace baton::core
