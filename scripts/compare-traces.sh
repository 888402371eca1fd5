#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Replays a fixed set of simulator seeds with --trace under two builds of
# baton-sim and reports every seed whose trace differs (the timing summary
# line excluded). A refactor of the core that claims to change no behaviour
# must show none (issue 20: the acquirer's phase types).
#
# Usage: scripts/compare-traces.sh OLD/baton-sim NEW/baton-sim
#   Seeds: default, harsh and reorder profiles, seeds 1-12 each, plus harsh
#   at 9 members (seeds 1-4 and 7874, 19629, 1019491: the negative pins).
set -euo pipefail
old=${1:?usage: compare-traces.sh OLD/baton-sim NEW/baton-sim}
new=${2:?usage: compare-traces.sh OLD/baton-sim NEW/baton-sim}
for bin in "$old" "$new"; do
  [[ -x "$bin" ]] || { echo "compare-traces: not an executable: $bin" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
runs=()
for p in default harsh reorder; do
  for s in $(seq 1 12); do runs+=("$p $s 0"); done
done
for s in 1 2 3 4 7874 19629 1019491; do runs+=("harsh $s 9"); done
differ=0
for r in "${runs[@]}"; do
  read -r profile seed members <<<"$r"
  args=(--seed "$seed" --profile "$profile" --trace)
  [[ "$members" != 0 ]] && args+=(--members "$members")
  "$old" "${args[@]}" 2>&1 | grep -v '^summary:' >"$work/old" || true
  "$new" "${args[@]}" 2>&1 | grep -v '^summary:' >"$work/new" || true
  if ! cmp -s "$work/old" "$work/new"; then
    echo "differs: ${args[*]}"
    diff "$work/old" "$work/new" | head -5 || true  # diff exits 1 on a difference (pipefail)
    differ=$((differ + 1))
  fi
done
echo "${#runs[@]} traces compared, $differ differ"
[[ $differ == 0 ]]
