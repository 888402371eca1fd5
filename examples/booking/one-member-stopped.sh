#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The liveness measurement of docs/booking.md ("Known limits"): three booking
# nodes, node 1 SIGSTOPped, then N users book the same seats through nodes 2
# and 3 only. Prints booking-load's report; stops everything it started.
#
# Usage: examples/booking/one-member-stopped.sh [--bin DIR] [--users N]
#   --bin DIR    where booking-node and booking-load are (default: build/bin)
#   --users N    concurrent users (default 24)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="$root/build/bin"
users=24
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bin|--users)
      [[ $# -ge 2 ]] || { echo "one-member-stopped.sh: $1 needs a value (try --help)" >&2; exit 2; }
      if [[ $1 == --bin ]]; then bin="$2"; else users="$2"; fi
      shift 2 ;;
    -h|--help) awk 'NR > 1 && /SPDX-License-Identifier/ { next } NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "one-member-stopped.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[[ "$users" =~ ^[1-9][0-9]*$ ]] || { echo "one-member-stopped.sh: --users needs a positive number" >&2; exit 2; }
# shellcheck source=examples/booking/cluster.sh
source "$here/cluster.sh"
booking_bins one-member-stopped.sh "$bin"
dir="$(mktemp -d /tmp/booking-stopped.XXXXXX)"
trap 'booking_stop; rm -rf "$dir"' EXIT
booking_start "$dir"
# Let the cluster form, then stop node 1 for the whole load.
"$BOOKING_LOAD" --nodes "${NODES%%,*}" --check-api --wait-ready 20 >/dev/null
kill -STOP "${PIDS[0]}"
echo "[booking] node 1 stopped; $users users through nodes 2 and 3"
"$BOOKING_LOAD" --nodes "${NODES#*,}" --users "$users" --seats 14A,14B,14C --wait-ready 20
