#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks torture histories (shared/HISTORY.md, version 1) against the
guarantees of shared/DESIGN.md, across all members of one run.

usage: check_history.py [--register LOG] [--rho R] [--min-life-s S]
                        [--min-acquires N] [--expect-nodes 1,2,3] HISTORY...

Checks, exactly as reported (exit 1 on any violation, 2 on unusable input):
  records     every line is a record of version 1 with the fields HISTORY.md
              requires; seq is dense from 1 per (node, incarnation); only the
              last line of a life may be torn (SIGKILL).
  exclusion   for each resource, no two validity intervals overlap in true
              time. A holder's interval starts at the true_end_ns of its ok
              acquire and ends at the earliest of: its release's
              true_start_ns, its lost/expired event's true_ns, and the
              latest true time at which its local clock can have shown its
              last valid_until_local_ns (an upper bound, see local_to_true).
  fencing     in the order of those intervals, tokens strictly increase, and
              no token of a resource belongs to two holds.
  register    replaying the register log in order: max_before is the highest
              token accepted before; a write is accepted iff its token is at
              or above it (so no write from a holder superseded at the
              register is accepted); every accepted token is one its writer
              acquired for that resource; each history `write` agrees with
              the register's verdict (ok <-> accepted, stale <-> rejected).
  progress    every (node, incarnation) whose records span at least
              --min-life-s seconds has at least --min-acquires ok acquires,
              and every node in --expect-nodes has a history.
"""
import argparse
import bisect
import collections
import json
import sys

CLOCK_SLACK_NS = 25_000  # a clock sample's true_ns is the midpoint of readings <= 50 us apart

COMMON = ("v", "node", "incarnation", "seq", "type")
REQUIRED = {
    "clock": ("local_ns", "true_ns"),
    "op": ("op", "resource", "result", "ttl_ms", "local_start_ns", "local_end_ns", "true_start_ns", "true_end_ns",
           "req_id"),
    "event": ("op", "resource", "token", "reason", "local_ns", "true_ns"),
}
REGISTER_FIELDS = ("resource", "writer", "incarnation", "token", "true_ns", "true_sent_ns", "accepted", "max_before",
                   "req_id")


class Report:
    def __init__(self):
        self.violations = collections.defaultdict(list)
        self.notes = []

    def fail(self, check, text):
        self.violations[check].append(text)

    def note(self, text):
        self.notes.append(text)


class Life:
    """One incarnation of one member."""

    def __init__(self, node, inc):
        self.node, self.inc = node, inc
        self.records = []
        # (local_ns, upper bound of the true time at that local reading)
        self.samples = []
        self.first_true = None
        self.last_true = None

    def name(self):
        return f"node {self.node} inc {self.inc}"

    def add_sample(self, local, true_upper):
        self.samples.append((local, true_upper))

    def finish(self):
        self.samples.sort()
        self.sample_locals = [s[0] for s in self.samples]

    def local_to_true(self, local, rho):
        """Latest true time at which this member's local clock can read `local`.

        Both clocks are monotonic: a sample taken at or after `local` bounds it
        from above directly; a sample before it, extrapolated at the slowest
        allowed local rate (1 - rho), bounds it too. Returns the smaller bound,
        or None without samples."""
        best = None
        i = bisect.bisect_left(self.sample_locals, local)
        if i < len(self.samples):
            best = self.samples[i][1]
        if i > 0:
            l0, t0 = self.samples[i - 1]
            ext = t0 + int((local - l0) / (1.0 - rho)) + 1
            best = ext if best is None else min(best, ext)
        return best


def load_history(path, lives, report):
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    parsed = []
    for n, raw in enumerate(lines, 1):
        try:
            rec = json.loads(raw)
            if not isinstance(rec, dict):
                raise ValueError("not an object")
            parsed.append((n, rec))
        except ValueError:
            parsed.append((n, None))
    for idx, (n, rec) in enumerate(parsed):
        where = f"{path}:{n}"
        if rec is None:
            # A torn line: only the last line of a life (the file ends, or the
            # next record starts a later incarnation).
            nxt = parsed[idx + 1][1] if idx + 1 < len(parsed) else None
            prev = next((r for _, r in reversed(parsed[:idx]) if r is not None), None)
            if nxt is None and idx + 1 == len(parsed) or (
                    nxt is not None and prev is not None and nxt.get("incarnation", 0) > prev.get("incarnation", 0)):
                report.note(f"{where}: torn line (a killed life's last write)")
                continue
            report.fail("records", f"{where}: unparseable line in the middle of a life")
            continue
        missing = [k for k in COMMON if k not in rec]
        if missing or rec.get("v") != 1 or rec.get("type") not in REQUIRED:
            report.fail("records", f"{where}: not a version-1 history record (missing {missing}, type {rec.get('type')})")
            continue
        need = [k for k in REQUIRED[rec["type"]] if k not in rec]
        if rec["type"] == "op":
            if rec.get("result") == "fail" and "err" not in rec:
                need.append("err")
            if rec.get("result") == "ok" and rec.get("op") in ("acquire", "renew"):
                need += [k for k in ("token", "valid_until_local_ns") if k not in rec]
            if rec.get("op") in ("release", "write") and "token" not in rec:
                need.append("token")
        if need:
            report.fail("records", f"{where}: {rec['type']} record lacks {need}")
            continue
        key = (str(rec["node"]), int(rec["incarnation"]))
        life = lives.setdefault(key, Life(*key))
        rec["_where"] = where
        life.records.append(rec)


def build_lives(lives, report):
    for life in lives.values():
        seqs = [r["seq"] for r in life.records]
        if seqs != list(range(1, len(seqs) + 1)):
            # A torn line may have cost one record; anything else is a writer bug.
            gaps = sum(1 for a, b in zip([0] + seqs, seqs) if b != a + 1)
            if sorted(seqs) != seqs or len(set(seqs)) != len(seqs) or gaps > 1:
                report.fail("records", f"{life.name()}: seq is not dense from 1 ({gaps} gaps)")
        for r in life.records:
            t = r["type"]
            if t == "clock":
                life.add_sample(r["local_ns"], r["true_ns"] + CLOCK_SLACK_NS)
                times = [r["true_ns"]]
            elif t == "op":
                # Span readings: local first, then true, so each true reading
                # is an upper bound of the true time of its local reading.
                life.add_sample(r["local_start_ns"], r["true_start_ns"])
                life.add_sample(r["local_end_ns"], r["true_end_ns"])
                times = [r["true_start_ns"], r["true_end_ns"]]
            else:
                times = [r["true_ns"]]
            for x in times:
                life.first_true = x if life.first_true is None else min(life.first_true, x)
                life.last_true = x if life.last_true is None else max(life.last_true, x)
        life.finish()


Hold = collections.namedtuple("Hold", "resource token node inc start end acquire_where end_why")


def collect_holds(lives, rho, report):
    holds = []
    acquired = collections.Counter()
    owners = {}  # (resource, token) -> (node, inc)
    for life in lives.values():
        open_holds = {}  # (resource, token) -> dict
        for r in life.records:
            if r["type"] == "op" and r["op"] == "acquire" and r["result"] == "ok":
                acquired[(life.node, life.inc)] += 1
                k = (r["resource"], r["token"])
                if k in owners:
                    report.fail("fencing", f"{r['_where']}: token {r['token']} of {r['resource']} was granted to "
                                           f"node {owners[k][0]} inc {owners[k][1]} too")
                owners[k] = (life.node, life.inc)
                open_holds[k] = {"start": r["true_end_ns"], "valid_until": r["valid_until_local_ns"], "ends": [],
                                 "where": r["_where"]}
                continue
            k = (r.get("resource"), r.get("token"))
            h = open_holds.get(k)
            if h is None:
                continue
            if r["type"] == "op" and r["op"] == "renew" and "valid_until_local_ns" in r:
                h["valid_until"] = max(h["valid_until"], r["valid_until_local_ns"])
            elif r["type"] == "op" and r["op"] == "release":
                h["ends"].append((r["true_start_ns"], "release"))
            elif r["type"] == "event":
                h["ends"].append((r["true_ns"], r["op"]))
        for (res, tok), h in open_holds.items():
            bound = life.local_to_true(h["valid_until"], rho)
            ends = list(h["ends"])
            if bound is not None:
                ends.append((bound, "validity"))
            if not ends:
                report.fail("exclusion", f"{h['where']}: no clock samples to place the validity end in true time")
                continue
            end, why = min(ends)
            holds.append(Hold(res, tok, life.node, life.inc, h["start"], end, h["where"], why))
    return holds, acquired, owners


def check_exclusion_and_fencing(holds, report):
    by_res = collections.defaultdict(list)
    for h in holds:
        if h.end > h.start:
            by_res[h.resource].append(h)
    checked = 0
    for res, hs in by_res.items():
        hs.sort(key=lambda h: (h.start, h.end))
        latest = None  # the interval reaching furthest so far
        prev = None
        for h in hs:
            checked += 1
            if latest is not None and h.start < latest.end:
                report.fail("exclusion", f"{res}: node {h.node} inc {h.inc} token {h.token} valid from {h.start} "
                                         f"while node {latest.node} inc {latest.inc} token {latest.token} valid "
                                         f"until {latest.end} ({latest.end_why}); overlap {latest.end - h.start} ns")
            if prev is not None and h.token <= prev.token:
                report.fail("fencing", f"{res}: token {h.token} (node {h.node} inc {h.inc}, from {h.start}) follows "
                                       f"token {prev.token} (node {prev.node} inc {prev.inc}, from {prev.start})")
            if latest is None or h.end > latest.end:
                latest = h
            prev = h
    return checked


def check_register(path, lives, owners, report):
    entries = []
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for n, raw in enumerate(lines, 1):
        try:
            e = json.loads(raw)
        except ValueError:
            if n == len(lines):
                report.note(f"{path}:{n}: torn last line")
                continue
            report.fail("register", f"{path}:{n}: unparseable line")
            continue
        if e.get("type") != "register" or any(k not in e for k in REGISTER_FIELDS):
            report.fail("register", f"{path}:{n}: not a register record")
            continue
        e["_where"] = f"{path}:{n}"
        entries.append(e)
    highest = collections.defaultdict(int)
    verdicts = {}
    for e in entries:
        res, tok = e["resource"], e["token"]
        if e["max_before"] != highest[res]:
            report.fail("register", f"{e['_where']}: max_before {e['max_before']} but the highest accepted "
                                    f"token of {res} was {highest[res]}")
        should = tok != 0 and tok >= highest[res]
        if e["accepted"] != should:
            report.fail("register", f"{e['_where']}: token {tok} of {res} {'accepted' if e['accepted'] else 'rejected'}"
                                    f" with highest {highest[res]}: a stale write was accepted"
                        if e["accepted"] else f"{e['_where']}: token {tok} of {res} rejected though at or above "
                                              f"{highest[res]}")
        if e["accepted"]:
            highest[res] = max(highest[res], tok)
            if owners.get((res, tok)) != (str(e["writer"]), int(e["incarnation"])):
                report.fail("register", f"{e['_where']}: accepted token {tok} of {res} from node {e['writer']} inc "
                                        f"{e['incarnation']}, which did not acquire it "
                                        f"(granted to {owners.get((res, tok))})")
        verdicts[(str(e["writer"]), int(e["incarnation"]), int(e["req_id"]))] = e["accepted"]
    matched = 0
    for life in lives.values():
        for r in life.records:
            if r["type"] != "op" or r["op"] != "write" or r["result"] == "timeout":
                continue
            v = verdicts.get((life.node, life.inc, int(r["req_id"])))
            if v is None:
                report.fail("register", f"{r['_where']}: write {r['result']} but the register has no such write")
                continue
            matched += 1
            if v != (r["result"] == "ok"):
                report.fail("register", f"{r['_where']}: write logged {r['result']} but the register "
                                        f"{'accepted' if v else 'rejected'} it")
    return len(entries), matched, sum(1 for e in entries if e["accepted"])


def check_progress(lives, acquired, args, report):
    nodes = {life.node for life in lives.values()}
    for n in args.expect_nodes:
        if n not in nodes:
            report.fail("progress", f"node {n} has no history")
    for life in lives.values():
        span = (life.last_true or 0) - (life.first_true or 0)
        if span >= args.min_life_s * 1e9 and acquired[(life.node, life.inc)] < args.min_acquires:
            report.fail("progress", f"{life.name()} lived {span / 1e9:.1f} s and acquired "
                                    f"{acquired[(life.node, life.inc)]} leases (< {args.min_acquires})")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("histories", nargs="+")
    p.add_argument("--register", help="the register's log (batonctl register --log)")
    p.add_argument("--rho", type=float, default=0.01, help="drift bound the members ran with (default 0.01)")
    p.add_argument("--min-life-s", type=float, default=3.0)
    p.add_argument("--min-acquires", type=int, default=1)
    p.add_argument("--expect-nodes", type=lambda s: [x for x in s.split(",") if x], default=[])
    args = p.parse_args()
    report = Report()
    lives = {}
    try:
        for h in args.histories:
            load_history(h, lives, report)
    except OSError as e:
        print(f"check_history: {e}", file=sys.stderr)
        return 2
    build_lives(lives, report)
    holds, acquired, owners = collect_holds(lives, args.rho, report)
    checked = check_exclusion_and_fencing(holds, report)
    summary = [f"lives {len(lives)}", f"holds {len(holds)} ({checked} non-empty intervals)"]
    if args.register:
        try:
            n, matched, accepted = check_register(args.register, lives, owners, report)
        except OSError as e:
            print(f"check_history: {e}", file=sys.stderr)
            return 2
        summary.append(f"register writes {n} ({accepted} accepted, {matched} matched to histories)")
    check_progress(lives, acquired, args, report)
    for life in sorted(lives.values(), key=lambda l: (l.node, l.inc)):
        span = ((life.last_true or 0) - (life.first_true or 0)) / 1e9
        summary.append(f"  {life.name()}: {span:.1f} s, {acquired[(life.node, life.inc)]} acquired")
    print("check_history: " + "\n".join(summary))
    for n in report.notes[:20]:
        print("note: " + n)
    if report.violations:
        for check, items in sorted(report.violations.items()):
            print(f"VIOLATION {check}: {len(items)}")
            for t in items[:20]:
                print("  " + t)
        return 1
    print("check_history: OK (records, exclusion, fencing" + (", register" if args.register else "") + ", progress)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
