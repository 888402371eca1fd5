# SPDX-License-Identifier: Apache-2.0
# Shared by the booking tests and run-demo.sh: starts three booking nodes on
# 127.0.0.1 over one SQLite database and stops them. Source it; do not run it.
#   BOOKING_NODE, BOOKING_LOAD   the two programs
#   BATONCTL                     batonctl (only for booking_start_clients)
#   booking_start DIR [node options...]   sets NODES (host:port list), PIDS,
#       HTTP_PORTS; node 1 also gets $BOOKING_NODE1_OPTS
#   booking_start_clients DIR [node options...]   the same, but the Baton
#       members are three `batonctl node` voters and the three booking nodes
#       are their clients (booking-node --client): no member slot each
#   booking_stop                          stops every node it started
#   booking_bins NAME DIR                 sets BOOKING_NODE and BOOKING_LOAD (and
#       BATONCTL, if not set) from DIR; exits 1 with NAME's message if either
#       of the first two is not built
# shellcheck shell=bash

booking_bins() {
  local name=$1 dir=$2 p
  BOOKING_NODE="$dir/booking-node"
  BOOKING_LOAD="$dir/booking-load"
  for p in "$BOOKING_NODE" "$BOOKING_LOAD"; do
    [[ -x "$p" ]] || { echo "$name: $p is not built (cmake --build build --target booking-node booking-load)" >&2; exit 1; }
  done
  BATONCTL="${BATONCTL:-$dir/batonctl}"
}

PIDS=()
HTTP_PORTS=()
NODES=""
MEMBERS=""

# booking_ports: UDP (the members) and HTTP ports; sets UDP_PORTS, HTTP_PORTS,
# NODES and MEMBERS (the Baton members in the library's syntax, ID=HOST:PORT,...,
# which booking-node and batonctl both take).
booking_ports() {
  local ports
  read -r -a ports <<<"$("$BOOKING_LOAD" --free-ports 6)"
  [[ ${#ports[@]} -eq 6 ]] || { echo "booking: cannot find free ports" >&2; return 1; }
  UDP_PORTS=("${ports[@]:0:3}")
  HTTP_PORTS=("${ports[@]:3:3}")
  NODES="127.0.0.1:${HTTP_PORTS[0]},127.0.0.1:${HTTP_PORTS[1]},127.0.0.1:${HTTP_PORTS[2]}"
  MEMBERS="1=127.0.0.1:${UDP_PORTS[0]},2=127.0.0.1:${UDP_PORTS[1]},3=127.0.0.1:${UDP_PORTS[2]}"
}

# booking_nodes DIR ID_ARGS... -- [node options...]: the three booking nodes;
# ID_ARGS is "--id" (each gets --id 1..3) or "--client".
booking_nodes() {
  local dir=$1 how=$2 i
  shift 2
  for i in 1 2 3; do
    local extra=() who=(--client)
    [[ $how == --id ]] && who=(--id "$i")
    # shellcheck disable=SC2206  # word splitting of the extra options is wanted
    [[ $i -eq 1 && -n "${BOOKING_NODE1_OPTS:-}" ]] && extra=(${BOOKING_NODE1_OPTS})
    "$BOOKING_NODE" "${who[@]}" --members "$MEMBERS" --http "${HTTP_PORTS[$((i - 1))]}" \
      --db "$dir/booking.db" "$@" "${extra[@]}" >"$dir/node$i.log" 2>&1 &
    PIDS+=($!)
  done
}

booking_start() {
  local dir=$1
  shift
  booking_ports || return 1
  booking_nodes "$dir" --id "$@"
}

booking_start_clients() {
  local dir=$1 i
  shift
  [[ -x "${BATONCTL:-}" ]] || { echo "booking: batonctl '${BATONCTL:-}' is not built (cmake --build build --target batonctl)" >&2; return 1; }
  booking_ports || return 1
  # The voters: booking-node's demo key (0x42 bytes) and cluster id 0xB00C,
  # default rho and ttl bounds as booking-node uses; the cluster's first
  # start, diskless (--no-state --bootstrap).
  printf '42%.0s' $(seq 32) >"$dir/cluster.key"
  for i in 1 2 3; do
    "$BATONCTL" node --members "$MEMBERS" --id "$i" --key-file "$dir/cluster.key" --cluster-id 45068 \
      --no-state --bootstrap >"$dir/voter$i.log" 2>&1 &
    PIDS+=($!)
  done
  booking_nodes "$dir" --client "$@"
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
