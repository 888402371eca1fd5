#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ctest (label booking): the seat-map page in headless Chromium. Three Baton
# nodes, a small chaos load (so that a seat is booked and one stale write was
# rejected), then `chromium --headless --dump-dom` of GET / and checks on the
# DOM the page's script built from /seats. Exit 77 (ctest: skipped) when
# Chromium is not installed (Debian: apt-get install chromium).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${BOOKING_NODE:?}" "${BOOKING_LOAD:?}"
# shellcheck source=examples/booking/cluster.sh
source "$here/cluster.sh"

chromium=""
for c in chromium chromium-browser; do
  if command -v "$c" >/dev/null; then chromium="$c"; break; fi
done
if [[ -z "$chromium" ]]; then
  echo "SKIP: chromium is not installed (apt-get install chromium); the page was not tested"
  exit 77
fi

dir="$(mktemp -d /tmp/booking-browser.XXXXXX)"
cleanup() {
  booking_stop
  if [[ "${rc:-1}" -ne 0 ]]; then
    for f in "$dir"/node*.log "$dir"/chromium.err; do [[ -f "$f" ]] && { echo "--- $f"; tail -n 20 "$f"; }; done
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

BOOKING_NODE1_OPTS="--slow-seat 14A --slow-ms 400" booking_start "$dir" --ttl-ms 500
"$BOOKING_LOAD" --nodes "$NODES" --users 3 --seats 14A,15C --chaos --wait-ready 20 --expect-no-double --expect-stale

url="http://127.0.0.1:${HTTP_PORTS[1]}/"
# --virtual-time-budget lets the page's fetch of /seats finish before the dump.
timeout 45 "$chromium" --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --user-data-dir="$dir/profile" \
  --virtual-time-budget=5000 --dump-dom "$url" >"$dir/dom.html" 2>"$dir/chromium.err"

fail() { echo "FAIL: $*"; echo "--- DOM:"; head -c 4000 "$dir/dom.html"; echo; rc=1; exit 1; }
# Every seat of the map is drawn; 14A and 15C are booked
# (14A by rival-user, through node 2 or 3, while node 1 was stopped), with
# their token and node; one rejected stale write is listed.
seats=$(grep -o 'id="seat-[0-9]*[A-F]"' "$dir/dom.html" | wc -l)
[[ "$seats" -eq 30 ]] || fail "expected 30 seats in the map, found $seats"
for s in 14A 15C; do
  grep -Eq "<div class=\"seat booked\" id=\"seat-$s\" data-user=\"[a-z0-9-]+\" data-token=\"[1-9][0-9]*\">" "$dir/dom.html" ||
    fail "seat $s is not shown booked with a user and a token"
done
grep -Eq 'id="seat-14A"[^>]*>.*token [1-9][0-9]* · node [1-3]' "$dir/dom.html" || fail "seat 14A does not show its token and node"
grep -q '<tr class="rejected"><td>14A</td><td>paused-user</td><td>1</td>' "$dir/dom.html" ||
  fail "the rejected stale write of node 1 on 14A is not listed"
grep -q 'id="stale-count">1<' "$dir/dom.html" || fail "the stale-write counter does not show 1"
grep -q 'seat booked' "$dir/dom.html" && ! grep -q 'seat double' "$dir/dom.html" || fail "a seat is shown double booked"
echo "PASS: the page shows the bookings, their tokens and nodes, and the rejected stale write"
rc=0
