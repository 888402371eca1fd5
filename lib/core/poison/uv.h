// SPDX-License-Identifier: Apache-2.0
// The protocol core is sans-I/O: it must not include libuv (STYLE.md, 1 and 17).
// This header shadows the real uv.h on the core's include path.
#error "baton_core must not include uv.h: I/O belongs in lib/runtime/"
