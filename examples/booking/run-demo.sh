#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The booking demo (docs/booking.md): three booking nodes on 127.0.0.1 over one
# SQLite database, 24 users booking the same four seats through all of them,
# with chaos (node 1 is SIGSTOPped while it holds seat:14A in the middle of a
# booking, past its lease). Prints the report for people, then the same report
# as one JSON line, and stops everything it started.
#
# Usage: examples/booking/run-demo.sh [--bin DIR] [--keep] [--baseline | --clients]
#   --bin DIR    where booking-node and booking-load are (default: build/bin)
#   --keep       leave the three nodes running and print the page's address
#   --baseline   the same load without Baton (no lease, no fence): double bookings
#   --clients    the Baton members are three voters (`batonctl node`, also in
#                --bin DIR) and the three booking nodes are their clients:
#                they take leases through the voters and vote on nothing
# Expects the programs built (scripts/demo.sh builds them).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="$root/build/bin"
keep=0
baseline=0
clients=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bin) [[ $# -ge 2 ]] || { echo "run-demo.sh: $1 needs a value (try --help)" >&2; exit 2; }
      bin="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    --baseline) baseline=1; shift ;;
    --clients) clients=1; shift ;;
    -h|--help) awk 'NR > 1 && /SPDX-License-Identifier/ { next } NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "run-demo.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[[ $baseline -eq 1 && $clients -eq 1 ]] && { echo "run-demo.sh: --baseline and --clients exclude each other" >&2; exit 2; }
# shellcheck source=examples/booking/cluster.sh
source "$here/cluster.sh"
booking_bins run-demo.sh "$bin"
if [[ $clients -eq 1 && ! -x "$BATONCTL" ]]; then
  echo "run-demo.sh: $BATONCTL is not built (cmake --build build --target batonctl)" >&2
  exit 1
fi

dir="$(mktemp -d /tmp/booking-demo.XXXXXX)"
stop_all() {
  booking_stop
  rm -rf "$dir"
}
trap stop_all EXIT

load=("$BOOKING_LOAD" --users 24 --seats 14A,14B,14C,15D --wait-ready 20 --both)
if [[ $baseline -eq 1 ]]; then
  echo "[booking] starting 3 nodes WITHOUT Baton (check, then write; no lease, no fence)"
  booking_start "$dir" --baseline
  "${load[@]}" --nodes "$NODES" || true
elif [[ $clients -eq 1 ]]; then
  echo "[booking] starting 3 Baton voters (batonctl node) and 3 booking nodes as their clients;"
  echo "[booking] booking node 1 will be SIGSTOPped while holding seat:14A"
  BOOKING_NODE1_OPTS="--slow-seat 14A --slow-ms 300" booking_start_clients "$dir"
  "${load[@]}" --nodes "$NODES" --chaos
else
  echo "[booking] starting 3 Baton nodes; node 1 will be SIGSTOPped while holding seat:14A"
  BOOKING_NODE1_OPTS="--slow-seat 14A --slow-ms 300" booking_start "$dir"
  "${load[@]}" --nodes "$NODES" --chaos
fi

if [[ $keep -eq 1 ]]; then
  trap - EXIT
  logs="$dir/node*.log"
  if [[ $clients -eq 1 ]]; then logs+=", $dir/voter*.log"; fi
  echo "[booking] the nodes keep running (database $dir/booking.db, logs $logs)"
  for i in 0 1 2; do echo "[booking] seat map: http://127.0.0.1:${HTTP_PORTS[$i]}/"; done
  echo "[booking] book a seat: curl -X POST -d '{\"seat\":\"12A\",\"user\":\"ana\"}' http://127.0.0.1:${HTTP_PORTS[0]}/book"
  echo "[booking] stop them: kill ${PIDS[*]}"
fi
