#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Negative controls for check_history.py: a clean synthetic run passes, and
each planted fault (overlap, token order, stale write accepted, verdict
mismatch, missing progress, torn middle line, duplicate token) is reported
under the right check. Without these, a checker that accepts everything
would look the same as a correct one."""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
MS = 1_000_000
OFFSET = 7 * MS  # local = true + OFFSET


def clock_records(node, inc, t_from, t_to, seq):
    out = []
    t = t_from
    while t <= t_to:
        seq[0] += 1
        out.append({"v": 1, "node": node, "incarnation": inc, "seq": seq[0], "type": "clock",
                    "local_ns": t + OFFSET, "true_ns": t})
        t += 20 * MS
    return out


def op(node, inc, seq, name, res, start, end, result="ok", **kw):
    seq[0] += 1
    r = {"v": 1, "node": node, "incarnation": inc, "seq": seq[0], "type": "op", "op": name, "resource": res,
         "result": result, "ttl_ms": 100, "local_start_ns": start + OFFSET, "local_end_ns": end + OFFSET,
         "true_start_ns": start, "true_end_ns": end, "req_id": seq[0]}
    r.update(kw)
    return r


def run(tag, holds, register, expect, extra_args=(), mutate_lines=None):
    """holds: list of (node, start_ms, end_ms, token); each hold writes once."""
    with tempfile.TemporaryDirectory() as d:
        per_node = {}
        reg = []
        for node, s, e, tok in holds:
            seq = per_node.setdefault(node, [[0], []])
            recs = seq[1]
            sq = seq[0]
            recs.append(op(node, 1, sq, "acquire", "r0", (s - 1) * MS, s * MS, token=tok,
                           valid_until_local_ns=(s + 100) * MS + OFFSET))
            w = op(node, 1, sq, "write", "r0", s * MS, s * MS + 1000, token=tok)
            recs.append(w)
            reg.append({"v": 1, "type": "register", "resource": "r0", "writer": node, "incarnation": 1,
                        "token": tok, "true_ns": s * MS + 500, "true_sent_ns": s * MS + 100, "accepted": True,
                        "max_before": 0, "req_id": w["req_id"]})
            recs.append(op(node, 1, sq, "release", "r0", e * MS, e * MS + 1000, token=tok))
        files = []
        for node, (sq, recs) in per_node.items():
            # Clock samples over the whole run, then records ordered by time.
            clocks = clock_records(node, 1, 0, 5000 * MS, [0])
            allr = sorted(clocks + recs, key=lambda r: r.get("true_start_ns", r.get("true_ns")))
            for i, r in enumerate(allr, 1):
                r["seq"] = i
            # write records keep their req_id (unique per incarnation)
            lines = [json.dumps(r) for r in allr]
            if mutate_lines:
                lines = mutate_lines(node, lines)
            path = os.path.join(d, f"h{node}.jsonl")
            with open(path, "w") as f:
                f.write("\n".join(lines) + "\n")
            files.append(path)
        # Register: fill in max_before and accepted as a correct register would.
        highest = 0
        reg.sort(key=lambda e: e["true_ns"])
        for e in reg:
            e["max_before"] = highest
            e["accepted"] = e["token"] >= highest
            if e["accepted"]:
                highest = e["token"]
        if register:
            register(reg)
        rpath = os.path.join(d, "reg.jsonl")
        with open(rpath, "w") as f:
            f.write("".join(json.dumps(e) + "\n" for e in reg))
        cmd = [sys.executable, os.path.join(HERE, "check_history.py"), "--register", rpath, *extra_args, *files]
        p = subprocess.run(cmd, capture_output=True, text=True)
        ok = (p.returncode == 0) if expect is None else (p.returncode == 1 and f"VIOLATION {expect}" in p.stdout)
        print(f"{'ok  ' if ok else 'FAIL'} {tag}: exit {p.returncode}")
        if not ok:
            print(p.stdout, p.stderr)
        return ok


def main():
    clean = [("1", 100, 150, 10), ("2", 200, 260, 11), ("1", 300, 350, 12)]
    results = [
        run("clean run passes", clean, None, None),
        run("overlap", [("1", 100, 150, 10), ("2", 140, 260, 11)], None, "exclusion"),
        # Killed holder (no release): its validity (100 ms) runs past the next start.
        run("overlap with a killed holder's validity",
            [("1", 100, 150, 10), ("2", 180, 260, 11)], None, "exclusion",
            mutate_lines=lambda node, lines: [l for l in lines if not ('"release"' in l and '"token": 10' in l)]),
        run("token order", [("1", 100, 150, 12), ("2", 200, 260, 11)], None, "fencing"),
        run("duplicate token", [("1", 100, 150, 10), ("2", 200, 260, 10)], None, "fencing"),
        run("stale write accepted", clean, lambda reg: reg.append(
            {"v": 1, "type": "register", "resource": "r0", "writer": "1", "incarnation": 1, "token": 10,
             "true_ns": 999 * MS, "true_sent_ns": 998 * MS, "accepted": True, "max_before": 12, "req_id": 999}),
            "register"),
        run("verdict mismatch", clean, lambda reg: reg[1].update(accepted=False), "register"),
        run("write from a member that never acquired the token", clean,
            lambda reg: reg.append({"v": 1, "type": "register", "resource": "r0", "writer": "3", "incarnation": 1,
                                    "token": 50, "true_ns": 999 * MS, "true_sent_ns": 998 * MS, "accepted": True,
                                    "max_before": 12, "req_id": 1}), "register"),
        run("no progress", clean, None, "progress", extra_args=["--min-acquires", "5", "--min-life-s", "1"]),
        run("missing node", clean, None, "progress", extra_args=["--expect-nodes", "1,2,3"]),
        run("torn line in the middle of a life", clean, None, "records",
            mutate_lines=lambda node, lines: lines[:3] + [lines[3][:20]] + lines[4:] if node == "1" else lines),
        run("torn last line is fine", clean, None, None,
            mutate_lines=lambda node, lines: lines + ['{"v":1,"node":"' + node + '","inc']),
    ]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
