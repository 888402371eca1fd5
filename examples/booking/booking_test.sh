#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ctest (label booking): the double-booking scenario, small.
#   baton     3 nodes with Baton, 12 users on 3 seats: every seat booked once
#   chaos     the same, and node 1 is SIGSTOPped holding seat:14A mid-booking,
#             past its lease: its late write is rejected by the fencing token
#   baseline  3 nodes without a lease (check, then write): at least one seat
#             double booked
#   api       the HTTP answers of a node: 201, 409 taken, 400 for bad input,
#             the row in /seats (token = fence), the page
#   clients   3 voters (batonctl node, $BATONCTL) and the 3 booking nodes as
#             their clients (--client), with chaos: every seat booked once,
#             node 1's late write rejected, each node a client (drawn id above
#             2^31-1) and the rows name those ids
#   flags     run-demo.sh, one-member-stopped.sh, booking-node and booking-load
#             refuse bad flags: exit 2 and a message naming the flag (and the
#             value), nothing started; booking-load --free-ports
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${BOOKING_NODE:?}" "${BOOKING_LOAD:?}"
# shellcheck source=examples/booking/cluster.sh
source "$here/cluster.sh"

case="${1:?usage: booking_test.sh baton|chaos|baseline|api|clients|flags}"
dir="$(mktemp -d /tmp/booking-test.XXXXXX)"
cleanup() {
  booking_stop
  if [[ "${rc:-1}" -ne 0 ]]; then
    for f in "$dir"/node*.log "$dir"/voter*.log; do [[ -f $f ]] && { echo "--- $f"; tail -n 20 "$f"; }; done
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

load=("$BOOKING_LOAD" --users 12 --seats 14A,14B,14C --wait-ready 20)
case "$case" in
  baton)
    booking_start "$dir"
    "${load[@]}" --nodes "$NODES" --expect-no-double
    ;;
  chaos)
    BOOKING_NODE1_OPTS="--slow-seat 14A --slow-ms 400" booking_start "$dir" --ttl-ms 500
    "${load[@]}" --nodes "$NODES" --chaos --expect-no-double --expect-stale
    ;;
  baseline)
    booking_start "$dir" --baseline --race-ms 100
    "${load[@]}" --nodes "$NODES" --expect-double
    ;;
  api)
    booking_start "$dir"
    "$BOOKING_LOAD" --nodes "$NODES" --wait-ready 20 --check-api
    ;;
  clients)
    : "${BATONCTL:?}"
    BOOKING_NODE1_OPTS="--slow-seat 14A --slow-ms 400" booking_start_clients "$dir" --ttl-ms 500
    "${load[@]}" --nodes "$NODES" --chaos --expect-no-double --expect-stale | tee "$dir/report.txt"
    # Each booking node started as a client: its drawn id is above member ids.
    ids=""
    for i in 1 2 3; do
      id=$(sed -n 's/^booking-node \([0-9]*\) (baton, client) ready.*/\1/p' "$dir/node$i.log")
      [[ -n $id && $id -gt 2147483647 ]] || { echo "booking node $i is not a client: $(head -n 3 "$dir/node$i.log")" >&2; exit 1; }
      ids+=" $id "
    done
    # The booked rows name the client that wrote them.
    rows=$(grep -c '^    1[0-9][A-F] .* node [0-9]* token' "$dir/report.txt" || true)
    [[ $rows -eq 3 ]] || { echo "expected 3 booked rows in the report, found $rows" >&2; exit 1; }
    while read -r node; do
      [[ $ids == *" $node "* ]] || { echo "a row names node $node, not one of the clients:$ids" >&2; exit 1; }
    done < <(sed -n 's/^    1[0-9][A-F] .* node \([0-9]*\) token.*/\1/p' "$dir/report.txt")
    ;;
  flags)
    refuses() {  # $1 = expected message part, then the command
      local want=$1 out code=0
      shift
      out=$("$@" 2>&1) || code=$?
      [[ $code -eq 2 && $out == *"$want"* ]] || { echo "not refused (exit $code): $* -> $out" >&2; exit 1; }
    }
    refuses "--bin needs a value" bash "$here/run-demo.sh" --bin
    refuses "unknown argument '--frob'" bash "$here/run-demo.sh" --frob
    refuses "--bin needs a value" bash "$here/one-member-stopped.sh" --bin
    refuses "--users needs a value" bash "$here/one-member-stopped.sh" --users
    refuses "--users needs a positive number" bash "$here/one-member-stopped.sh" --users 0
    refuses "unknown argument '--frob'" bash "$here/one-member-stopped.sh" --frob
    refuses "--baseline and --clients exclude each other" bash "$here/run-demo.sh" --baseline --clients
    nodeargs=(--members 1=127.0.0.1:1 --http 1 --db "$dir/never.db")
    refuses "--client and --id exclude each other" "$BOOKING_NODE" --client --id 1 "${nodeargs[@]}"
    refuses "--client keeps no state" "$BOOKING_NODE" --client --state-dir "$dir/s" "${nodeargs[@]}"
    # CLI11 (issue 22): one --members syntax (the library's), and every bad
    # flag named with its value.
    refuses "--members: " "$BOOKING_NODE" --id 1 --members 127.0.0.1:1 --http 1 --db "$dir/never.db"
    refuses "--id 4 is not one of --members" "$BOOKING_NODE" --id 4 "${nodeargs[@]}"
    refuses "--http: Value 70000 not in range" "$BOOKING_NODE" --id 1 --members 1=127.0.0.1:1 --http 70000 \
      --db "$dir/never.db"
    refuses "--frob" "$BOOKING_NODE" --frob "${nodeargs[@]}"
    refuses "--ttl-ms: 1 required" "$BOOKING_NODE" --id 1 "${nodeargs[@]}" --ttl-ms
    refuses "--nodes: '127.0.0.1' is not HOST:PORT" "$BOOKING_LOAD" --nodes 127.0.0.1
    refuses "--users: Value many not in range" "$BOOKING_LOAD" --nodes 127.0.0.1:1 --users many
    out=$("$BOOKING_NODE" --help) && [[ $out == *--members* && $out == *ID=HOST:PORT* ]] \
      || { echo "booking-node --help does not describe --members: $out" >&2; exit 1; }
    read -r -a ports <<<"$("$BOOKING_LOAD" --free-ports 4)"
    [[ ${#ports[@]} -eq 4 && $(printf '%s\n' "${ports[@]}" | sort -u | wc -l) -eq 4 ]] \
      || { echo "booking-load --free-ports 4 did not print 4 distinct ports: ${ports[*]}" >&2; exit 1; }
    [[ ! -e "$dir/never.db" ]] || { echo "booking-node created its database before refusing its flags" >&2; exit 1; }
    ;;
  *) echo "unknown case $case" >&2; exit 2 ;;
esac
rc=0
