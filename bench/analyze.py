#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Collects one bench.sh run into results.json and draws the chart (gnuplot).

    python3 bench/analyze.py build-bench/results
    python3 bench/analyze.py --markdown build-bench/results.json   # tables for docs/benchmarks.md

Reads <dir>/raw.jsonl (one JSON object per line, each tagged by bench.sh with
"case"), <dir>/core.json and <dir>/codec.json (Google Benchmark JSON), and the
contended runs' event files <dir>/events-<case>*.csv ("contender,event,t_ns",
event in start/grant/release, t_ns on CLOCK_MONOTONIC, shared by every process
on the machine). Writes <dir>/../results.json and <dir>/../bench.png.

Hand-off: for each grant whose acquire started before the latest release (the
new holder was already waiting when the resource was freed), the time from
that release to the grant. A holder re-acquiring after its own release does
not count as a hand-off, but its ownerships count in ownerships/s and shares.
"""
import glob
import json
import os
import subprocess
import sys


def pct(xs, q):
    if not xs:
        return None
    xs = sorted(xs)
    i = min(int(q * len(xs)), len(xs) - 1)
    return xs[i]


def handoff(files, seconds=None):
    ev = []
    ends = []  # each file's last event: the window ends when the first process stopped
    for f in files:
        last_t = None
        with open(f) as fh:
            for line in fh:
                parts = line.strip().split(",")
                if len(parts) == 3:
                    ev.append((int(parts[2]), parts[1], parts[0]))
                    last_t = int(parts[2])
        if last_t is not None:
            ends.append(last_t)
    ev.sort()
    if ends and seconds is None:
        ev = [e for e in ev if e[0] <= min(ends)]
    if not ev:
        return None
    started = {}
    last_release = None
    granted_since_release = False
    grants = {}
    samples = []
    first = ev[0][0]
    last = ev[-1][0]
    for t, kind, who in ev:
        if kind == "start":
            started[who] = t
        elif kind == "grant":
            grants[who] = grants.get(who, 0) + 1
            s = started.get(who)
            if last_release is not None and not granted_since_release and s is not None and s < last_release:
                samples.append((t - last_release) / 1000.0)
            granted_since_release = True
        elif kind == "release":
            last_release = t
            granted_since_release = False
    total = sum(grants.values())
    secs = seconds if seconds else max((last - first) / 1e9, 1e-9)
    shares = {k: round(v / total, 3) for k, v in sorted(grants.items())} if total else {}
    return {
        "ownerships": total,
        "ownerships_per_s": round(total / secs, 1),
        "handoffs": len(samples),
        "handoff_p50_us": pct(samples, 0.5),
        "handoff_p99_us": pct(samples, 0.99),
        "handoff_p999_us": pct(samples, 0.999),
        "shares": shares,
    }


def gbench(path):
    out = {}
    if not os.path.exists(path):
        return out
    with open(path) as fh:
        data = json.load(fh)
    for b in data.get("benchmarks", []):
        keep = {k: v for k, v in b.items() if k not in ("family_index", "per_family_instance_index", "run_type",
                                                          "repetitions", "repetition_index", "threads")}
        out[b["name"]] = keep
    return out


def markdown(path):
    """Prints the tables of docs/benchmarks.md from a results.json."""
    r = json.load(open(path))
    c = r["cases"]
    lat = [("floor, one UDP round trip", "floor_rtt"), ("floor, 3 members (1 of 2 replies)", "floor_m3"),
           ("Baton acquire, 3 members (blocking API)", "baton_acquire_m3"),
           ("Baton acquire, 3 members (callback API)", "baton_async_m3"),
           ("Baton acquire + release, 3 members", "baton_cycle_m3"), ("Baton renew, 3 members", "baton_renew_m3"),
           ("Baton acquire, 3 members, busy_poll 200 us (blocking API)", "baton_acquire_bp_m3"),
           ("Baton acquire, 3 members, busy_poll 200 us (callback API)", "baton_async_bp_m3"),
           ("Baton acquire + release, 3 members, busy_poll 200 us", "baton_cycle_bp_m3"),
           ("Redlock acquire, 3 redis", "redlock_acquire_m3"),
           ("Redlock acquire, 3 redis, hiredis's libuv adapter", "redlock_acquire_hiredis_m3"),
           ("Redlock acquire + release, 3 redis, unlock awaited", "redlock_cycle_m3"),
           ("Redlock acquire + release, 3 redis, unlock not awaited", "redlock_cycle_nowait_m3"),
           ("floor, 5 members (2 of 4 replies)", "floor_m5"),
           ("Baton acquire, 5 members (blocking API)", "baton_acquire_m5"),
           ("Baton acquire, 5 members (callback API)", "baton_async_m5"),
           ("Baton acquire + release, 5 members", "baton_cycle_m5"), ("Baton renew, 5 members", "baton_renew_m5"),
           ("Baton acquire, 5 members, busy_poll 200 us (blocking API)", "baton_acquire_bp_m5"),
           ("Baton acquire, 5 members, busy_poll 200 us (callback API)", "baton_async_bp_m5"),
           ("Baton acquire + release, 5 members, busy_poll 200 us", "baton_cycle_bp_m5"),
           ("Redlock acquire, 5 redis", "redlock_acquire_m5"),
           ("Redlock acquire + release, 5 redis, unlock awaited", "redlock_cycle_m5"),
           ("Redlock acquire + release, 5 redis, unlock not awaited", "redlock_cycle_nowait_m5")]
    print("| case | p50 | p99 | p99.9 |\n|---|---|---|---|")
    for label, k in lat:
        v = c.get(k)
        if v:
            print("| %s | %.1f | %.1f | %.1f |" % (label, v["p50_us"], v["p99_us"], v["p999_us"]))
    print("\n| contenders | system | hand-off p50 (us) | hand-off p99 (us) | hand-offs | ownerships/s | shares |")
    print("|---|---|---|---|---|---|---|")
    for n in (2, 4, 8):
        for label, k in (("Baton", "baton_contended_c%d"), ("Redlock, delay 0–200 ms", "redlock_contended_c%d_d200"),
                         ("Redlock, retry at once", "redlock_contended_c%d_d0")):
            h = (c.get(k % n) or {}).get("handoff")
            if not h:
                continue
            f = lambda x: "%.1f" % x if x is not None else "–"
            print("| %d | %s | %s | %s | %d | %.1f | %s |" % (n, label, f(h["handoff_p50_us"]), f(h["handoff_p99_us"]),
                  h["handoffs"], h["ownerships_per_s"], " ".join("%s:%.2f" % kv for kv in h["shares"].items())))
    fair = (c.get("baton_fair_c4") or {}).get("handoff")
    if fair:
        print("\nFairness, 4 contenders holding 20 ms (think 1 ms): %d ownerships, shares %s" % (
            fair["ownerships"], " ".join("%s:%.3f" % kv for kv in sorted(fair["shares"].items()))))
    print("\n| case | per second |\n|---|---|")
    for label, k in (("Baton, 3 member processes, member 1 acquiring with 16 in flight", "baton_throughput1_m3"),
                     ("Baton, 3 member processes, all 3 acquiring with 16 in flight each", "baton_throughput_m3"),
                     ("Baton, 5 member processes, member 1 acquiring with 16 in flight", "baton_throughput1_m5")):
        v = c.get(k)
        if v:
            print("| %s | %s |" % (label, format(round(v["acq_rel_per_s"]), ",")))
    for name, b in r["core"].items():
        if name.startswith("BM_AcquireRelease"):
            print("| `core::Node` only, %s | %s |" % (name.split("/", 1)[1], format(round(b["acq_rel_per_s"]), ",")))
    for name, b in list(r["core"].items()) + list(r["codec"].items()):
        if not name.startswith("BM_AcquireRelease"):
            extra = " bytes_per_lease=%.1f" % b["bytes_per_lease"] if "bytes_per_lease" in b else ""
            print("%s: %.1f %s CPU%s" % (name, b["cpu_time"], b["time_unit"], extra))
    for g in r["goals"]:
        print("%s: %s" % (g["goal"], g["measured"]))
    for k in ("baton_throughput1_m3", "baton_throughput_m3"):
        for m in (c.get(k) or {}).get("per_member", []):
            st = m.get("stats", {})
            if st.get("cpu_s") and m.get("acq_rel"):
                print("%s: %d acq+rel, cpu %.2f s, %.1f us cpu each" % (k, m["acq_rel"], st["cpu_s"], st["cpu_s"] / m["acq_rel"] * 1e6))
    print(r["machine"])


def main():
    if sys.argv[1] == "--markdown":
        return markdown(sys.argv[2])
    d = sys.argv[1]
    top = os.path.dirname(os.path.abspath(d))
    cases = {}
    with open(os.path.join(d, "raw.jsonl")) as fh:
        for line in fh:
            line = line.strip()
            if not line.startswith("{"):
                continue
            r = json.loads(line)
            c = r.get("case", "?")
            if c in cases and "acq_rel_per_s" in r:  # several member processes of one throughput case
                cases[c].setdefault("per_member", []).append(r)
                cases[c]["acq_rel_per_s"] = round(cases[c]["acq_rel_per_s"] + r["acq_rel_per_s"], 1)
                continue
            cases[c] = r
            if "acq_rel_per_s" in r:
                r["per_member"] = [dict(r)]
    for c in list(cases):
        files = sorted(glob.glob(os.path.join(d, "events-%s*.csv" % c)))
        if files:
            # Redlock stops every client at its deadline: its duration is the
            # run's. A Baton member's last acquire may outlast the others'
            # run, so the span of its events is used instead.
            secs = cases[c].get("seconds") if cases[c].get("bench") == "redlock" else None
            cases[c]["handoff"] = handoff(files, secs)
    machine = {}
    mpath = os.path.join(d, "machine.json")
    if os.path.exists(mpath):
        with open(mpath) as fh:
            machine = json.load(fh)
    results = {"machine": machine, "cases": cases, "core": gbench(os.path.join(d, "core.json")),
               "codec": gbench(os.path.join(d, "codec.json"))}
    results["goals"] = goals(cases, results["core"])
    with open(os.path.join(top, "results.json"), "w") as fh:
        json.dump(results, fh, indent=1, sort_keys=True)
    chart(d, top, cases, results["core"])
    for g in results["goals"]:
        print("%-58s %s" % (g["goal"], g["measured"]))


def val(cases, c, k):
    r = cases.get(c)
    return None if r is None else r.get(k)


def goals(cases, core):
    g = []
    for m in (3, 5):
        b = val(cases, "baton_acquire_m%d" % m, "p50_us")
        f = val(cases, "floor_m%d" % m, "p50_us")
        r = val(cases, "redlock_acquire_m%d" % m, "p50_us")
        ba = val(cases, "baton_async_m%d" % m, "p50_us")
        bc = val(cases, "baton_cycle_m%d" % m, "p50_us")
        rc = val(cases, "redlock_cycle_m%d" % m, "p50_us")
        rcn = val(cases, "redlock_cycle_nowait_m%d" % m, "p50_us")
        bp = val(cases, "baton_acquire_bp_m%d" % m, "p50_us")
        bpa = val(cases, "baton_async_bp_m%d" % m, "p50_us")
        bpc = val(cases, "baton_cycle_bp_m%d" % m, "p50_us")
        def ratio(goal, a, z):
            if a and z:
                g.append({"goal": "m%d %s" % (m, goal), "measured": "%.1f / %.1f us = %.2fx" % (a, z, a / z)})
        ratio("acquire p50 <= 1.3x fan-out floor p50", b, f)
        ratio("acquire p50 (callback API) vs fan-out floor p50", ba, f)
        ratio("acquire p50 (busy_poll 200 us) vs fan-out floor p50", bp, f)
        ratio("acquire p50 (busy_poll 200 us, callback API) vs fan-out floor p50", bpa, f)
        ratio("acquire p50 <= 0.5x Redlock acquire p50", b, r)
        ratio("acquire p50 (callback API) vs Redlock acquire p50", ba, r)
        ratio("acquire p50 (busy_poll 200 us) vs Redlock acquire p50", bp, r)
        ratio("acquire p50 (busy_poll 200 us, callback API) vs Redlock acquire p50", bpa, r)
        ratio("acquire+release p50 <= 0.33x Redlock's (unlock awaited)", bc, rc)
        ratio("acquire+release p50 (busy_poll 200 us) vs Redlock's (unlock awaited)", bpc, rc)
        ratio("acquire+release p50 vs Redlock's (unlock not awaited)", bc, rcn)
    rtt = val(cases, "floor_rtt", "p50_us")
    for n in (2, 4, 8):
        h = (cases.get("baton_contended_c%d" % n) or {}).get("handoff") or {}
        if h.get("handoff_p50_us") and rtt:
            g.append({"goal": "hand-off p50 <= 3 floor round trips (%d contenders)" % n,
                      "measured": "%.1f us = %.1f round trips of %.1f us" % (h["handoff_p50_us"], h["handoff_p50_us"] / rtt, rtt)})
    fair = (cases.get("baton_fair_c4") or {}).get("handoff") or {}
    if fair.get("shares"):
        worst = max(abs(s - 0.25) / 0.25 for s in fair["shares"].values())
        n = fair.get("ownerships") or 0
        noise = " (a share's standard error from %d ownerships: %.0f%%)" % (n, 100 * (3.0 / n) ** 0.5) if n else ""
        g.append({"goal": "4 contenders holding 20 ms: every share within 10% of 1/4",
                  "measured": "shares %s, worst %.0f%% off%s" % (
                      " ".join("%s:%.3f" % kv for kv in sorted(fair["shares"].items())), 100 * worst, noise)})
    t = val(cases, "baton_throughput_m3", "acq_rel_per_s")
    if t:
        g.append({"goal": ">= 100,000 acquire+release/s, 3-member cluster (all acquiring)", "measured": "%.0f/s" % t})
    t1 = val(cases, "baton_throughput1_m3", "acq_rel_per_s")
    if t1:
        g.append({"goal": ">= 100,000 acquire+release/s, 3-member cluster (one acquiring)", "measured": "%.0f/s" % t1})
    for name, b in core.items():
        if name.startswith("BM_BytesPerLease"):
            g.append({"goal": "<= 200 bytes per live lease per voter (%s)" % name.split("/")[1],
                      "measured": "%.1f bytes" % b.get("bytes_per_lease", 0)})
    return g


def chart(d, top, cases, core):
    # Panel 1: latency p50 and p99 by system and member count.
    rows = []
    for m in (3, 5):
        for label, c in (("UDP floor\\n(fan-out)", "floor_m%d"), ("Baton\\nacquire", "baton_acquire_m%d"),
                         ("Baton acquire\\n(callback)", "baton_async_m%d"),
                         ("Baton acquire\\n(busy poll)", "baton_acquire_bp_m%d"),
                         ("Baton\\nacq+rel", "baton_cycle_m%d"), ("Baton\\nrenew", "baton_renew_m%d"),
                         ("Redlock\\nacquire", "redlock_acquire_m%d"),
                         ("Redlock\\nacq+rel\\n(unlock awaited)", "redlock_cycle_m%d"),
                         ("Redlock\\nacq+rel\\n(not awaited)", "redlock_cycle_nowait_m%d")):
            r = cases.get(c % m)
            if r and r.get("p50_us"):
                rows.append('"%s\\n[%d members]" %.1f %.1f' % (label, m, r["p50_us"], r["p99_us"]))
    with open(os.path.join(d, "latency.dat"), "w") as fh:
        fh.write("\n".join(rows) + "\n")
    # Panel 2: hand-off p50 by contenders.
    hrows = []
    for n in (2, 4, 8):
        vals = []
        for c in ("baton_contended_c%d", "redlock_contended_c%d_d200", "redlock_contended_c%d_d0"):
            h = (cases.get(c % n) or {}).get("handoff") or {}
            vals.append("%.1f" % h["handoff_p50_us"] if h.get("handoff_p50_us") else "NaN")
        hrows.append("%d %s" % (n, " ".join(vals)))
    with open(os.path.join(d, "handoff.dat"), "w") as fh:
        fh.write("\n".join(hrows) + "\n")
    # Panel 3: throughput.
    trows = []
    t1 = val(cases, "baton_throughput1_m3", "acq_rel_per_s")
    if t1:
        trows.append('"Baton 3 members,\\n1 acquiring\\n(16 in flight)" %.0f' % t1)
    t = val(cases, "baton_throughput_m3", "acq_rel_per_s")
    if t:
        trows.append('"Baton 3 members,\\nall 3 acquiring\\n(16 in flight each)" %.0f' % t)
    for name, b in core.items():
        if name.startswith("BM_AcquireRelease/members:3/in_flight:64"):
            trows.append('"core::Node only,\\n3 members\\n(no I/O, 1 thread)" %.0f' % b.get("acq_rel_per_s", 0))
    for c, label in (("redlock_cycle_nowait_m3", "Redlock, 3 redis\\n(1 client,\\nclosed loop)"),):
        r = cases.get(c)
        if r and r.get("grants_per_s"):
            trows.append('"%s" %.0f' % (label, r["grants_per_s"]))
    with open(os.path.join(d, "throughput.dat"), "w") as fh:
        fh.write("\n".join(trows) + "\n")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "chart.gp")
    png = os.path.join(top, "bench.png")
    try:
        subprocess.run(["gnuplot", "-e", "dir='%s'; out='%s'" % (d, png), script], check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print("chart not drawn (gnuplot: %s); install gnuplot-nox" % e, file=sys.stderr)


if __name__ == "__main__":
    main()
