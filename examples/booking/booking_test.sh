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
#   flags     run-demo.sh and one-member-stopped.sh refuse bad flags: exit 2
#             and a message naming the flag, nothing started
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${BOOKING_NODE:?}" "${BOOKING_LOAD:?}"
# shellcheck source=examples/booking/cluster.sh
source "$here/cluster.sh"

case="${1:?usage: booking_test.sh baton|chaos|baseline|api|flags}"
dir="$(mktemp -d /tmp/booking-test.XXXXXX)"
cleanup() {
  booking_stop
  if [[ "${rc:-1}" -ne 0 ]]; then
    for f in "$dir"/node*.log; do echo "--- $f"; tail -n 20 "$f"; done
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
    ;;
  *) echo "unknown case $case" >&2; exit 2 ;;
esac
rc=0
