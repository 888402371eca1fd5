#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Quick start, command 1: install what is needed, build, run the main job.
#
# The main job is the booking example (examples/booking/, docs/booking.md):
# it starts 3 booking nodes (Baton members that serve HTTP and share one
# SQLite database), runs concurrent users booking the same seats with a chaos
# step (the node holding a seat's lease is SIGSTOPped past its validity, then
# continued: its stale write is rejected by the fencing token), prints the
# report for people and then the same report as one JSON line, and stops
# everything it started.
#
# Usage: scripts/demo.sh [--keep] [--baseline] [--clients]
#   --keep       leave the three nodes running and print the page's address
#   --baseline   the same load with no lease at all: shows the double bookings
#   --clients    three batonctl voters, the booking nodes as their clients
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

bash "$BATON_ROOT/scripts/install-deps.sh"

# shellcheck disable=SC2119  # no extra cmake arguments here
baton_configure_main >/dev/null
cmake --build "$BATON_ROOT/build" -j "$BATON_JOBS" --target booking-node booking-load
exec bash "$BATON_ROOT/examples/booking/run-demo.sh" --bin "$BATON_ROOT/build/bin" "$@"
