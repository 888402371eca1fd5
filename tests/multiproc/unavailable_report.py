#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Issue 24: lists the acquires of a faults.py work directory that failed
with an error other than `busy`, with what the fault log and the other
members' histories show around each one: the faults in force, the latest
SIGCONT, and every op of the same resource by another member that overlaps
the failed acquire.

usage: unavailable_report.py WORKDIR [--faults FAULTS_OUT] [--all]

FAULTS_OUT is the driver's stdout (it holds the "start at monotonic" line
and the fault log); without it no fault lines are shown. --all lists `busy`
failures too.
"""
import argparse
import glob
import json
import os
import re


def load(work):
    ops = []
    for path in sorted(glob.glob(os.path.join(work, "history-*.jsonl"))):
        with open(path, errors="replace") as f:
            for line in f:
                try:
                    r = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if r.get("type") in ("op", "event"):
                    ops.append(r)
    return ops


def faults(path):
    if not path:
        return None, []
    start, out = None, []
    with open(path, errors="replace") as f:
        for line in f:
            m = re.search(r"start at monotonic (\d+) ns", line)
            if m:
                start = int(m.group(1))
            m = re.match(r"\[\s*([\d.]+)s\] (.*)", line)
            if m:
                out.append((float(m.group(1)), m.group(2)))
    return start, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("work")
    ap.add_argument("--faults")
    ap.add_argument("--all", action="store_true")
    args = ap.parse_args()
    ops = load(args.work)
    start, flog = faults(args.faults)
    t0 = start if start else min(r.get("true_start_ns", r.get("true_ns", 0)) for r in ops)
    rel = lambda ns: (ns - t0) / 1e9
    # Each member's holds: [end of its ok acquire, its release/lost/expired].
    holds = []
    open_ = {}
    for r in sorted(ops, key=lambda r: (r["node"], r["incarnation"], r["seq"])):
        key = (r["node"], r["incarnation"], r.get("resource"))
        if r["type"] == "op" and r["op"] == "acquire" and r["result"] == "ok":
            open_[key] = (r["true_end_ns"], r.get("token"))
        elif key in open_ and (r["type"] == "event" or r["op"] == "release"):
            start_ns, tok = open_.pop(key)
            end_ns = r["true_ns"] if r["type"] == "event" else r["true_start_ns"]
            holds.append((r["node"], r["resource"], tok, start_ns, end_ns))
    # When each member's torture ended (its last record): after that it no longer votes.
    last = {}
    for r in ops:
        t = r.get("true_end_ns", r.get("true_ns", 0))
        last[r["node"]] = max(last.get(r["node"], 0), t)
    paused = {}  # node -> [(from, to)] relative seconds
    stop_at = {}
    for t, text in flog:
        m = re.match(r"SIG(STOP|CONT) member (\d+)", text)
        if m and m.group(1) == "STOP":
            stop_at[m.group(2)] = t
        elif m:
            paused.setdefault(m.group(2), []).append((stop_at.pop(m.group(2), t), t))
    classes = {}
    count = 0
    for r in ops:
        if r.get("type") != "op" or r["op"] != "acquire" or r["result"] == "ok":
            continue
        if r.get("err") == "busy" and not args.all:
            continue
        count += 1
        a, b = rel(r["true_start_ns"]), rel(r["true_end_ns"])
        why = []
        if any(pa < b and pb > a for pa, pb in paused.get(r["node"], [])):
            why.append("own-pause")
        if any(n != r["node"] and rel(t) < b for n, t in last.items()):
            why.append("shutdown")
        if any(n != r["node"] and res == r["resource"] and rel(hs) < b and rel(he) > a
               for n, res, tok, hs, he in holds):
            why.append("held-by-other")
        if not why:
            why.append("FREE")
        cls = "+".join(why)
        classes[cls] = classes.get(cls, 0) + 1
        print(f"== [{cls}] node {r['node']} inc {r['incarnation']} acquire {r['resource']} {r['result']} "
              f"{r.get('err', '')} [{a:.3f} .. {b:.3f}] ({(b - a) * 1000:.0f} ms)")
        for t, text in flog:
            if a - 3 <= t <= b + 0.2:
                print(f"   fault  {t:7.3f} {text}")
        for o in ops:
            if o is r or o.get("resource") != r["resource"]:
                continue
            if o["type"] == "op":
                oa, ob = rel(o["true_start_ns"]), rel(o["true_end_ns"])
            else:
                oa = ob = rel(o["true_ns"])
            if ob >= a - 1.0 and oa <= b + 0.1:
                extra = o.get("err", "") or o.get("reason", "")
                print(f"   other  node {o['node']} {o['op']:8} {o.get('result', ''):7} {extra:10} "
                      f"tok {o.get('token', '-')} [{oa:.3f} .. {ob:.3f}]")
    print(f"{count} failed acquires listed: {classes}")


if __name__ == "__main__":
    main()
