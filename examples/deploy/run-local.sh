#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The deployment example (examples/deploy/README.md): three members as three
# separate `batonctl node --config` processes on this machine, configured the
# way baton-node@.service configures them on three hosts (one shared
# node.toml, the per-member values in the environment), then `batonctl status`
# against them, then a clean stop. Exits 0 only if every member answered
# status with the same configuration.
#
# Usage: examples/deploy/run-local.sh [--batonctl PATH] [--keep]
#   --batonctl PATH  the batonctl to run (default: build/bin/batonctl, then PATH)
#   --keep           leave the scratch directory (configs, state, logs) behind
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
batonctl=""
keep=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --batonctl)
      [[ $# -ge 2 ]] || { echo "run-local.sh: --batonctl needs a path" >&2; exit 2; }
      batonctl="$2"; shift ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '3,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-local.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
if [[ -z "$batonctl" ]]; then
  if [[ -x "$root/build/bin/batonctl" ]]; then batonctl="$root/build/bin/batonctl"; else batonctl="$(command -v batonctl || true)"; fi
fi
[[ -n "$batonctl" && -x "$batonctl" ]] || { echo "run-local.sh: --batonctl '$batonctl' is not an executable (build first, or install baton-tools)" >&2; exit 2; }

work="$(mktemp -d /tmp/baton-deploy.XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do [[ -n "$p" ]] && kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]:-}"; do [[ -n "$p" ]] && wait "$p" 2>/dev/null || true; done
  if [[ $keep == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT INT TERM

# Three free UDP ports (bound, read, released; the members bind them next).
read -r p1 p2 p3 < <(python3 - <<'PY'
import socket
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])
PY
)
sed -e "s/@PORT1@/$p1/" -e "s/@PORT2@/$p2/" -e "s/@PORT3@/$p3/" "$here/node.toml" > "$work/node.toml"
(umask 077; "$batonctl" keygen > "$work/cluster.key")
members="1=127.0.0.1:$p1,2=127.0.0.1:$p2,3=127.0.0.1:$p3"

for id in 1 2 3; do
  mkdir -p "$work/state-$id"
  # What the unit does per host: BATON_SELF, BATON_STATE_DIR, BATON_KEY_FILE;
  # --bootstrap for the cluster's first start only.
  BATON_SELF=$id BATON_STATE_DIR="$work/state-$id" BATON_KEY_FILE="$work/cluster.key" \
    "$batonctl" node --config "$work/node.toml" --bootstrap >"$work/node-$id.log" 2>&1 &
  pids+=($!)
  echo "member $id: batonctl node --config node.toml (BATON_SELF=$id), pid $!, log node-$id.log"
done

# Status, until every member answers (they start within a second).
status=1
for _ in $(seq 1 20); do
  if "$batonctl" status --members "$members" --key-file "$work/cluster.key" --cluster-id 7 \
       --timeout-ms 250 --attempts 2 >"$work/status.txt" 2>&1; then
    status=0
    break
  fi
  for i in 0 1 2; do
    kill -0 "${pids[$i]}" 2>/dev/null || { echo "member $((i + 1)) exited:" >&2; cat "$work/node-$((i + 1)).log" >&2; exit 1; }
  done
  sleep 0.5
done
echo
echo "batonctl status --members $members --key-file cluster.key --cluster-id 7:"
cat "$work/status.txt"
if [[ $status != 0 ]]; then
  echo "run-local.sh: not every member answered status" >&2
  exit 1
fi
# A clean stop: SIGTERM, as systemctl stop sends it; each member exits 0.
for i in 0 1 2; do kill -TERM "${pids[$i]}"; done
for i in 0 1 2; do
  if ! wait "${pids[$i]}"; then echo "member $((i + 1)) did not stop cleanly:" >&2; cat "$work/node-$((i + 1)).log" >&2; exit 1; fi
done
pids=()
echo "all three members stopped cleanly"
