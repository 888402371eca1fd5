#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Where an uncontended acquire's time goes, per operation: CPU time, context
# switches and system calls of the client and of the servers, for the floor
# (one request to 2 responders, the first reply ends the round), Baton at 3
# members (blocking API, then callback API with one acquire in flight; each
# acquire is released) and Redlock on 3 local redis-servers. Counted with
# `perf stat` (software events and syscall tracepoints, no sampling), so
# nothing is slowed the way strace slows it. docs/benchmarks.md reads it.
#
# Usage: scripts/bench-profile.sh [--ops N]   (default 10000 per case)
# Needs the Release binaries scripts/bench.sh builds (build-bench/; built
# here if missing), perf with tracepoints (root, tracefs) from linux-perf
# (scripts/install-deps.sh --profile), and redis-server for the Redlock
# rows (skipped with a message when missing). Writes build-bench/profile/.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build-bench
BIN=$BUILD/bin
OUT=$BUILD/profile
OPS=10000

while [[ $# -gt 0 ]]; do
  case "$1" in
    --ops) [[ $# -ge 2 && $2 =~ ^[1-9][0-9]*$ ]] || baton_die "--ops needs a positive number"; OPS=$2; shift ;;
    -h|--help) awk 'NR > 1 && /SPDX-License-Identifier/ { next } NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) baton_die "bench-profile.sh: unknown argument '$1' (try --help)" ;;
  esac
  shift
done

command -v perf >/dev/null || baton_die "perf is missing: scripts/install-deps.sh --profile installs it"
SYSCALLS=(epoll_wait epoll_pwait epoll_ctl sendmsg sendmmsg recvmsg recvmmsg futex read write)
EVENTS=task-clock,context-switches$(printf ',syscalls:sys_enter_%s' "${SYSCALLS[@]}")
perf stat -e "$EVENTS" -x, -o /dev/null -- true 2>/dev/null ||
  baton_die "perf cannot count syscall tracepoints here (needs root and tracefs)"

TARGETS=(baton_floor_responder baton_floor_client baton_member)
if [[ ! -x $BIN/baton_member || ! -x $BIN/baton_floor_client ]]; then
  baton_log "building the benchmark binaries in $BUILD"
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBATON_TESTS=OFF -DBATON_EXAMPLES=OFF >/dev/null
  cmake --build "$BUILD" -j"$(nproc)" --target "${TARGETS[@]}" >/dev/null
fi
rm -rf "$OUT"
mkdir -p "$OUT"

trap baton_stop_pids EXIT INT TERM

# Every client runs with --warmup 0: the counts cover every operation it
# made, and they are divided by its sample count, so a warm-up would add its
# operations' system calls and CPU to the timed ones (5-10% with the
# defaults).
# measure CASE: counts the client command (the rest of the arguments) and,
# at the same time, the servers in PIDS.
measure() {
  local name=$1
  shift
  local servers
  servers=$(IFS=,; echo "${PIDS[*]}")
  perf stat -e "$EVENTS" -x, -o "$OUT/$name.servers" -p "$servers" &
  local watcher=$!
  sleep 0.3
  perf stat -e "$EVENTS" -x, -o "$OUT/$name.client" -- "$@" >"$OUT/$name.json" 2>/dev/null
  kill -INT "$watcher"
  wait "$watcher" 2>/dev/null || true
  baton_log "$name done"
}

PORTS=$(baton_free_ports 2)
for p in ${PORTS//,/ }; do
  "$BIN/baton_floor_responder" --port "$p" --seconds 600 >/dev/null & PIDS+=($!)
done
sleep 0.3
measure floor "$BIN/baton_floor_client" --ports "$PORTS" --need 1 --rounds "$OPS" --warmup 0 --label m3
baton_stop_pids

PORTS=$(baton_free_ports 3)
for i in 2 3; do "$BIN/baton_member" --id $i --ports "$PORTS" --mode vote --seconds 600 >/dev/null 2>&1 & PIDS+=($!); done
sleep 1
measure baton_blocking "$BIN/baton_member" --id 1 --ports "$PORTS" --mode acquire --ops "$OPS" --warmup 0 --seconds 60
# The callback form runs for a time, not a count: 2 s per 10,000 ops asks for
# at least as many acquires as the other cases make.
measure baton_callback "$BIN/baton_member" --id 1 --ports "$PORTS" --mode throughput --in-flight 1 \
  --seconds $(( (OPS + 9999) / 10000 * 2 ))
baton_stop_pids

if command -v redis-server >/dev/null && [[ -x $BIN/baton_redlock_bench ]]; then
  PORTS=$(baton_free_ports 3)
  for p in ${PORTS//,/ }; do
    redis-server --port "$p" --save '' --appendonly no --bind 127.0.0.1 --protected-mode yes >/dev/null & PIDS+=($!)
  done
  sleep 1
  measure redlock "$BIN/baton_redlock_bench" --ports "$PORTS" --mode acquire --ops "$OPS" --warmup 0 --seconds 60
  baton_stop_pids
else
  baton_log "redis-server or baton_redlock_bench missing: Redlock rows skipped"
fi

python3 - "$OUT" <<'PY' | tee "$OUT/profile.txt"
import json, os, sys
out = sys.argv[1]
def counts(path):
    r = {}
    for line in open(path):
        f = line.strip().split(',')
        if len(f) > 3:
            try:
                r[f[2].replace('syscalls:sys_enter_', '')] = float(f[0])
            except ValueError:
                pass
    return r
print('case            side     p50 us  CPU us/op  ctx sw/op  system calls per op')
for name in ('floor', 'baton_blocking', 'baton_callback', 'redlock'):
    if not os.path.exists(f'{out}/{name}.json'):
        continue
    result = next(json.loads(l) for l in open(f'{out}/{name}.json') if l.startswith('{'))
    n = result['n']
    for side in ('client', 'servers'):
        c = counts(f'{out}/{name}.{side}')
        cpu = c.pop('task-clock', 0) * 1000 / n  # task-clock is in ms
        cs = c.pop('context-switches', 0) / n
        calls = ', '.join(f'{k} {v / n:.2f}' for k, v in sorted(c.items(), key=lambda kv: -kv[1]) if v / n >= 0.01)
        print(f"{name:15s} {side:7s} {result['p50_us']:7.1f}  {cpu:9.1f}  {cs:9.2f}  {calls}")
PY
