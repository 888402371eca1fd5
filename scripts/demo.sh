#!/usr/bin/env bash
# Quick start, command 1: install what is needed, build, run the main job.
# The main job starts a local 3-member cluster, acquires and releases a few
# leases and prints their fencing tokens. Arguments are passed to the program.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

bash "$BATON_ROOT/scripts/install-deps.sh"

# shellcheck disable=SC2119  # no extra cmake arguments here
baton_configure_main >/dev/null
# Build only the demo program when the build system knows it (faster than the
# whole tree with its tests); otherwise build everything.
demo_targets=()
targets="$(cmake --build "$BATON_ROOT/build" --target help 2>/dev/null || true)"
for t in baton-demo hello_lease; do
  if grep -qE "(^|[ .])${t}( |$)" <<<"$targets"; then demo_targets+=("$t"); fi
done
if [[ ${#demo_targets[@]} -gt 0 ]]; then
  cmake --build "$BATON_ROOT/build" -j "$BATON_JOBS" --target "${demo_targets[@]}"
else
  cmake --build "$BATON_ROOT/build" -j "$BATON_JOBS"
fi

for program in baton-demo hello_lease; do
  if [[ -x "$BATON_ROOT/build/bin/$program" ]]; then
    baton_log "running build/bin/$program $*"
    exec "$BATON_ROOT/build/bin/$program" "$@"
  fi
done
baton_die "the demo program is not built yet: neither build/bin/baton-demo nor build/bin/hello_lease exists (the runtime, API and examples are in progress)"
