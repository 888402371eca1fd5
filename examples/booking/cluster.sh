# SPDX-License-Identifier: Apache-2.0
# Shared by the booking tests and run-demo.sh: starts three booking nodes on
# 127.0.0.1 over one SQLite database and stops them. Source it; do not run it.
#   BOOKING_NODE, BOOKING_LOAD   the two programs
#   booking_start DIR [node options...]   sets NODES (host:port list), PIDS,
#       HTTP_PORTS; node 1 also gets $BOOKING_NODE1_OPTS
#   booking_stop                          stops every node it started
#   booking_bins NAME DIR                 sets BOOKING_NODE and BOOKING_LOAD from DIR;
#       exits 1 with NAME's message if either is not built
# shellcheck shell=bash

booking_bins() {
  local name=$1 dir=$2 p
  BOOKING_NODE="$dir/booking-node"
  BOOKING_LOAD="$dir/booking-load"
  for p in "$BOOKING_NODE" "$BOOKING_LOAD"; do
    [[ -x "$p" ]] || { echo "$name: $p is not built (cmake --build build --target booking-node booking-load)" >&2; exit 1; }
  done
}

PIDS=()
HTTP_PORTS=()
NODES=""

booking_start() {
  local dir=$1
  shift
  local ports udp members i
  read -r -a ports <<<"$("$BOOKING_LOAD" --free-ports 6)"
  [[ ${#ports[@]} -eq 6 ]] || { echo "booking: cannot find free ports" >&2; return 1; }
  udp=("${ports[@]:0:3}")
  HTTP_PORTS=("${ports[@]:3:3}")
  members="127.0.0.1:${udp[0]},127.0.0.1:${udp[1]},127.0.0.1:${udp[2]}"
  NODES="127.0.0.1:${HTTP_PORTS[0]},127.0.0.1:${HTTP_PORTS[1]},127.0.0.1:${HTTP_PORTS[2]}"
  for i in 1 2 3; do
    local extra=()
    # shellcheck disable=SC2206  # word splitting of the extra options is wanted
    [[ $i -eq 1 && -n "${BOOKING_NODE1_OPTS:-}" ]] && extra=(${BOOKING_NODE1_OPTS})
    "$BOOKING_NODE" --id "$i" --members "$members" --http "${HTTP_PORTS[$((i - 1))]}" \
      --db "$dir/booking.db" "$@" "${extra[@]}" >"$dir/node$i.log" 2>&1 &
    PIDS+=($!)
  done
}

booking_stop() {
  local p
  for p in "${PIDS[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  PIDS=()
}
