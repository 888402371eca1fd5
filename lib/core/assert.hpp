// SPDX-License-Identifier: Apache-2.0
// BATON_ASSERT: programmer errors crash, always, also in release builds.
//
// Operating errors (loss, denial, bad datagrams) are never asserted: they are
// values (Errc) and counters. An assert states a fact the code relies on; one
// condition per assert, so a failure names exactly what broke.
#pragma once

namespace baton::core {
[[noreturn]] void assert_fail(const char* cond, const char* file, int line) noexcept;
}  // namespace baton::core

#define BATON_ASSERT(cond)                                         \
  do {                                                             \
    if (!(cond)) [[unlikely]]                                      \
      ::baton::core::assert_fail(#cond, __FILE__, __LINE__);       \
  } while (0)

