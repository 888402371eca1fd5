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

# The main build (build/): g++ 12, RelWithDebInfo, warnings as errors.
# scripts/demo.sh and stage 1 of scripts/test.sh configure it identically so
# that one does not invalidate the other's build. Extra arguments go to cmake.
baton_configure_main() {
  cmake -S "$BATON_ROOT" -B "$BATON_ROOT/build" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER=g++-12 \
    -DBATON_WERROR=ON "$@"
}
