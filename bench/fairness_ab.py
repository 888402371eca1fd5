#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Contended cases side by side: two baton_member builds, alternating rounds.

    python3 bench/fairness_ab.py --a OLD/baton_member --b NEW/baton_member [--rounds 3]
    python3 bench/fairness_ab.py --a build-bench/bin/baton_member          # one build only

Each run is the fairness case of bench.sh: 3 member processes on 127.0.0.1,
4 contenders on one resource split round-robin (member 1 runs two), each
holding --hold-us (20 ms) and thinking 1 ms, for --seconds (20). Rounds
alternate A, B, A, B, ... so both builds see the same machine noise.

Per run it prints each contender's share, the worst deviation from a fair
share, member 1's share (it runs two of the four contenders: fair is 0.5),
how often the pair's sibling won the hand-off after a pair member's release
(fair is 1/3: three other contenders were waiting), and the hand-off p50 and
p99 (bench/analyze.py's definition). Then the means (medians for latency)
per build. The hand-off case of bench.sh is `--hold-us 1000 --seconds 4
--contenders 2|4|8`.
Exit status 2 on bad arguments, 1 when a run produced no events.
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from analyze import handoff  # noqa: E402

MEMBERS = 3


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def run_case(binary, contenders, hold_us, seconds, prefix):
    ports = ",".join(str(p) for p in free_ports(MEMBERS))
    procs, voters, files = [], [], []
    for i in range(1, MEMBERS + 1):
        k = (contenders + MEMBERS - i) // MEMBERS
        base = [binary, "--id", str(i), "--ports", ports]
        if k == 0:
            voters.append(subprocess.Popen(base + ["--mode", "vote", "--seconds", str(seconds + 5)],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            continue
        f = f"{prefix}-{i}.csv"
        files.append(f)
        procs.append(subprocess.Popen(
            base + ["--mode", "contended", "--contenders", str(k), "--hold-us", str(hold_us),
                    "--seconds", str(seconds), "--events", f],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    for p in procs:
        try:
            p.wait(timeout=seconds + 60)
        except subprocess.TimeoutExpired:
            p.kill()
    for v in voters:
        v.kill()
        v.wait()
    return files


def events(files):
    ev = []
    for f in files:
        if not os.path.exists(f):
            continue
        with open(f) as fh:
            for line in fh:
                parts = line.strip().split(",")
                if len(parts) == 3:
                    ev.append((int(parts[2]), parts[1], parts[0]))
    ev.sort()
    return ev


def sibling_rate(ev):
    """After a release by a contender whose member runs two or more, the share
    of next grants (to someone else) that went to that member's other contender."""
    member = lambda who: int(who) // 100  # contender 100*m + k
    per_member = {}
    for _, _, who in ev:
        per_member.setdefault(member(who), set()).add(who)
    last, wins, n = None, 0, 0
    for _, kind, who in ev:
        if kind == "release":
            last = who
        elif kind == "grant" and last is not None:
            if who != last and len(per_member[member(last)]) > 1:
                n += 1
                wins += member(who) == member(last)
            last = None
    return (wins / n if n else None), n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--a", required=True, help="baton_member binary A")
    ap.add_argument("--b", help="baton_member binary B (optional)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--contenders", type=int, default=4)
    ap.add_argument("--hold-us", type=int, default=20000)
    ap.add_argument("--out", help="directory for the event files (default: a temporary one)")
    args = ap.parse_args()
    builds = [("A", args.a)] + ([("B", args.b)] if args.b else [])
    for _, b in builds:
        if not (os.path.isfile(b) and os.access(b, os.X_OK)):
            ap.error(f"not an executable: {b}")
    if args.rounds < 1 or args.seconds < 1 or args.contenders < 2 or args.hold_us < 0:
        ap.error("--rounds and --seconds must be at least 1, --contenders at least 2, --hold-us not negative")
    out = args.out or tempfile.mkdtemp(prefix="baton-fairness-")
    os.makedirs(out, exist_ok=True)
    fair = 1.0 / args.contenders
    fair_pair = ((args.contenders + MEMBERS - 1) // MEMBERS) * fair  # member 1's contenders
    fair_sibling = (fair_pair * args.contenders - 1) / (args.contenders - 1)  # of the others waiting
    summary = {tag: {"worst": [], "pair": [], "sibling": [], "p50": [], "p99": [], "rate": []} for tag, _ in builds}
    for r in range(1, args.rounds + 1):
        for tag, binary in builds:
            files = run_case(binary, args.contenders, args.hold_us, args.seconds, f"{out}/{tag}-{r}")
            ev = events(files)
            h = handoff([f for f in files if os.path.exists(f)]) if ev else None
            if not h or not h["ownerships"]:
                print(f"round {r} {tag}: no grants recorded (event files in {out})", file=sys.stderr)
                return 1
            shares = h["shares"]
            worst = max(abs(s - fair) / fair for s in shares.values())
            pair = sum(s for who, s in shares.items() if int(who) // 100 == 1)
            sib, n = sibling_rate(ev)
            summary[tag]["worst"].append(worst)
            summary[tag]["pair"].append(pair)
            if sib is not None:
                summary[tag]["sibling"].append(sib)
            if h["handoff_p50_us"] is not None:
                summary[tag]["p50"].append(h["handoff_p50_us"])
                summary[tag]["p99"].append(h["handoff_p99_us"])
            summary[tag]["rate"].append(h["ownerships_per_s"])
            print(f"round {r} {tag}: {h['ownerships']} ownerships, shares "
                  + " ".join(f"{k}:{v:.3f}" for k, v in shares.items())
                  + f", worst {worst * 100:.1f}%, member 1 {pair:.3f}, sibling won "
                  + (f"{sib:.3f} of {n}" if sib is not None else "n/a")
                  + f", hand-off p50 {h['handoff_p50_us']} p99 {h['handoff_p99_us']} us"
                  + f" ({h['handoffs']}), {h['ownerships_per_s']} ownerships/s", flush=True)
    for tag, binary in builds:
        s = summary[tag]
        mean = lambda xs: f"{statistics.mean(xs):.3f}" if xs else "n/a"
        med = lambda xs: f"{statistics.median(xs):.1f}" if xs else "n/a"
        print(f"{tag} ({binary}): mean worst {statistics.mean(s['worst']) * 100:.1f}%, "
              f"member 1 {mean(s['pair'])} (fair {fair_pair:.3f}), sibling {mean(s['sibling'])} (fair {fair_sibling:.3f}), "
              f"hand-off p50 {med(s['p50'])} us, p99 {med(s['p99'])} us (medians of rounds), "
              f"{mean(s['rate'])} ownerships/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
