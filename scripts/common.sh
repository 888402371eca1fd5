# SPDX-License-Identifier: Apache-2.0
# Shared helpers for scripts/*.sh. Source it; do not run it.
#   BATON_ROOT   the checkout (this file's parent directory)
#   BATON_JOBS   parallel build/test jobs (default 2: the reference machine)
# shellcheck shell=bash

BATON_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BATON_JOBS="${BATON_JOBS:-2}"
export BATON_ROOT BATON_JOBS

# CI (and any run without a terminal on stdin) must never wait for input.
if [[ -n "${CI:-}" || ! -t 0 ]]; then
  export DEBIAN_FRONTEND=noninteractive
  export CMAKE_COLOR_DIAGNOSTICS=OFF
fi

baton_log() { printf '[baton] %s\n' "$*"; }
baton_die() { printf '[baton] error: %s\n' "$*" >&2; exit 1; }

# The main build (build/): g++ 12, RelWithDebInfo with line tables only
# (-g1: backtraces keep file and line, debuggers see no variables; it
# compiles much faster: acquirer_test.cpp took 21.1 s against 37.1 s at -g,
# one compile each, side by side; scripts/package.sh's build keeps -g),
# warnings as errors, a
# shared libbaton (the examples run against libbaton.so) for the prefix /usr:
# the shape of the Debian packages, so that the package.debs test packs this
# build as scripts/package.sh packs build-pkg/. scripts/demo.sh and stage 1
# of scripts/test.sh configure it identically so that one does not
# invalidate the other's build. Extra arguments go to cmake.
baton_configure_main() {
  cmake -S "$BATON_ROOT" -B "$BATON_ROOT/build" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" \
    -DCMAKE_CXX_COMPILER=g++-12 \
    -DBUILD_SHARED_LIBS=ON \
    -DCMAKE_INSTALL_PREFIX=/usr \
    -DBATON_WERROR=ON "$@"
}

# Benchmark scripts: background processes go into PIDS; baton_stop_pids
# kills and reaps them (trap it on EXIT INT TERM).
PIDS=()
baton_stop_pids() {
  local p
  for p in "${PIDS[@]:-}"; do [[ -n $p ]] && kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]:-}"; do [[ -n $p ]] && wait "$p" 2>/dev/null || true; done
  PIDS=()
}

# N ports free for both UDP and TCP on 127.0.0.1, comma-separated.
baton_free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
n, got, socks = int(sys.argv[1]), [], []
while len(got) < n:
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM); t.bind(("127.0.0.1", 0))
    p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p))
    except OSError:
        t.close(); continue
    socks += [t, u]; got.append(p)
print(",".join(map(str, got)))
PY
}
