// SPDX-License-Identifier: Apache-2.0
// The protocol core is sans-I/O: no sockets (STYLE.md, 1).
#error "baton_core must not include <sys/socket.h>: I/O belongs in lib/runtime/"
