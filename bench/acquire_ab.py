#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Uncontended acquire latency side by side: two baton_member builds, alternating rounds.

    python3 bench/acquire_ab.py --a OLD/baton_member --b NEW/baton_member [--rounds 5] [--ops 3000]

Each run is bench.sh's uncontended case: 3 member processes on 127.0.0.1
(members 2 and 3 vote; member 1 acquires and releases one resource --ops
times, one at a time) with the build under test in all three processes.
Modes `acquire` (acquire latency) and `cycle` (acquire plus release) run in
every round. Rounds alternate A, B, A, B, ... so both builds see the same
machine noise; a refactor of the core that claims no cost is checked with
it (issue 20). Prints every run's p50/p99 and then, per build and mode, the
median of the runs' p50 and p99, and B's median p50 as a ratio of A's.
Exit status 2 on bad arguments, 1 when a run failed.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fairness_ab import free_ports  # noqa: E402


def run(binary, mode, ops):
    ports = ",".join(str(p) for p in free_ports(3))
    voters = [subprocess.Popen([binary, "--id", str(i), "--ports", ports, "--mode", "vote", "--seconds", "60"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in (2, 3)]
    try:
        out = subprocess.run([binary, "--id", "1", "--ports", ports, "--mode", mode, "--ops", str(ops),
                              "--seconds", "50"], capture_output=True, text=True, timeout=90)
    finally:
        for v in voters:
            v.kill()
            v.wait()
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            r = json.loads(line)
            if r.get("errors", 0) == 0 and r.get("n", 0) > 0:
                return r
    sys.exit(f"acquire_ab: {binary} --mode {mode} produced no result: {out.stderr.strip()[:300]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--a", required=True, help="baton_member of build A (the baseline)")
    ap.add_argument("--b", required=True, help="baton_member of build B")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--ops", type=int, default=3000)
    args = ap.parse_args()
    for name in ("a", "b"):
        path = getattr(args, name)
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            print(f"acquire_ab: --{name}: not an executable: {path}", file=sys.stderr)
            sys.exit(2)
    if args.rounds < 1 or args.ops < 100:
        print(f"acquire_ab: --rounds must be >= 1 (got {args.rounds}) and --ops >= 100 (got {args.ops})",
              file=sys.stderr)
        sys.exit(2)
    results = {}
    for rnd in range(args.rounds):
        for label, binary in (("A", args.a), ("B", args.b)):
            for mode in ("acquire", "cycle"):
                r = run(binary, mode, args.ops)
                results.setdefault((label, mode), []).append(r)
                print(f"round {rnd + 1} {label} {mode:8s} p50 {r['p50_us']:7.1f} us  p99 {r['p99_us']:7.1f} us",
                      flush=True)
    for mode in ("acquire", "cycle"):
        med = {}
        for label in ("A", "B"):
            rs = results[(label, mode)]
            med[label] = statistics.median(r["p50_us"] for r in rs)
            p99 = statistics.median(r["p99_us"] for r in rs)
            print(f"{label} {mode:8s} median p50 {med[label]:7.1f} us  median p99 {p99:7.1f} us  ({len(rs)} runs)")
        print(f"B/A {mode:8s} p50 ratio {med['B'] / med['A']:.3f}")


if __name__ == "__main__":
    main()
