#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Issue 24: liveness after a paused holder. Five `batonctl shell` members on
127.0.0.1 (each votes and takes leases). Each cycle:

  1. a holder H acquires the resource (ttl 300 ms, auto-renew; or with
     --renew explicit, renew() calls as batonctl torture makes them, the
     last one sent just before the pause, so that the pause catches it in
     flight);
  2. after 50-150 ms H is paused (SIGSTOP) for 0.8-1.0 s, past its ttl, then
     continued; half the time it is told to release the (lost) lease at once,
     half the time it is left alone;
  3. after a 1 s heal, an acquirer X (H itself one time in three, otherwise
     another member) acquires the same resource with a 1 s wait, and
     releases it.

With every member up and the resource free, Guarantee 3 says step 3 must
succeed within a few round trips. The run counts the outcomes of step 3 and
reports the acquire latency after a heal (p50, p99, max). It exits 1 if any
step-3 acquire failed, 0 otherwise.

usage: pause_heal.py --batonctl PATH [--cycles N] [--seed S] [--renew auto|explicit] [--workdir DIR] [--json] [--soak]
"""
import argparse
import json
import os
import queue
import random
import signal
import statistics
import subprocess
import sys
import threading
import time

import torture_run

N = 5
TTL_MS = 300
RESOURCE = "seat:14A"


class Shell:
    """One `batonctl shell` member; commands in, JSON lines out."""

    def __init__(self, args, i, members, key, work):
        self.i = i
        self.lines = queue.Queue()
        self.lost = []
        self.log = open(os.path.join(work, f"member-{i}.log"), "w")
        self.proc = subprocess.Popen(
            [args.batonctl, "shell", "--members", members, "--id", str(i), "--key-file", key,
             "--state-dir", os.path.join(work, f"state-{i}"), "--bootstrap", "--ttl-max-ms", "5000"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True, bufsize=1)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                msg = json.loads(line)
            except json.JSONDecodeError:
                continue
            if msg.get("op") == "lost":
                self.lost.append(msg)
            else:
                self.lines.put(msg)

    def expect(self, op, timeout):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"member {self.i}: no '{op}' answer within {timeout} s")
            try:
                msg = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if msg.get("op") == op:
                return msg

    def send(self, command, timeout=10):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.expect(command.split()[0], timeout)

    def stop(self):
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def percentile(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batonctl", required=True)
    ap.add_argument("--cycles", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", default="pause_heal-work")
    ap.add_argument("--renew", choices=["auto", "explicit"], default="auto",
                    help="how the holder renews: auto-renew, or renew() calls (the last in flight at the pause)")
    ap.add_argument("--json", action="store_true", help="also print the summary as one JSON line")
    ap.add_argument("--soak", action="store_true", help="run only when BATON_SOAK=1 (else exit 77: skipped)")
    args = ap.parse_args()
    if args.soak and os.environ.get("BATON_SOAK") != "1":
        print("pause_heal: soak skipped (set BATON_SOAK=1 to run it)")
        return 77
    if args.cycles < 1 or args.cycles > 100000:
        print(f"pause_heal: --cycles must be 1..100000, got {args.cycles}", file=sys.stderr)
        return 2
    if not os.access(args.batonctl, os.X_OK):
        print(f"pause_heal: --batonctl: not an executable: {args.batonctl}", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    members, key = torture_run.local_cluster(args.batonctl, args.workdir, N)
    shells = {i: Shell(args, i, members, key, args.workdir) for i in range(1, N + 1)}
    outcomes, latencies, failures = {}, [], []
    try:
        for s in shells.values():
            s.expect("ready", 10)
        for cycle in range(1, args.cycles + 1):
            h = rng.randint(1, N)
            auto = args.renew == "auto"
            got = shells[h].send(f"acquire {RESOURCE} {TTL_MS} 3000" + (" renew" if auto else ""), timeout=10)
            if not got["ok"]:
                # The previous cycle's holds may still be running out: not the case under test.
                print(f"cycle {cycle}: holder n{h} did not acquire ({got.get('error')}), skipped", flush=True)
                time.sleep(1)
                continue
            held_for = rng.uniform(0.05, 0.15)
            if auto:
                time.sleep(held_for)
            else:
                # renew() about every 100 ms, as torture does past half the validity; the
                # last call goes out just before the pause and is answered after it.
                while held_for > 0.1:
                    time.sleep(0.1)
                    held_for -= 0.1
                    shells[h].send(f"renew {RESOURCE}")
                time.sleep(held_for)
                shells[h].proc.stdin.write(f"renew {RESOURCE}\n")
                shells[h].proc.stdin.flush()
                time.sleep(rng.uniform(0, 0.003))
            pause = rng.uniform(0.8, 1.0)
            os.kill(shells[h].proc.pid, signal.SIGSTOP)
            time.sleep(pause)
            os.kill(shells[h].proc.pid, signal.SIGCONT)
            if not auto:
                shells[h].expect("renew", 10)
            told = rng.random() < 0.5
            if told:
                shells[h].send(f"release {RESOURCE}")
            time.sleep(1.0)  # the heal
            x = h if rng.random() < 1 / 3 else rng.choice([i for i in range(1, N + 1) if i != h])
            got = shells[x].send(f"acquire {RESOURCE} {TTL_MS} 1000", timeout=10)
            key_ = "ok" if got["ok"] else got.get("error", "?")
            outcomes[key_] = outcomes.get(key_, 0) + 1
            if got["ok"]:
                latencies.append(got["latency_us"])
                shells[x].send(f"release {RESOURCE}")
            else:
                failures.append(f"cycle {cycle}: n{x} (holder n{h}, paused {pause:.2f} s, "
                                f"{'told to release' if told else 'left alone'}) failed: {got.get('error')} "
                                f"after {got.get('latency_us')} us")
                print("FAIL " + failures[-1], flush=True)
            if not told:
                shells[h].send(f"release {RESOURCE}")  # forget the lost lease before the next cycle
            if cycle % 10 == 0:
                print(f"{cycle} cycles: {outcomes}", flush=True)
    finally:
        for s in shells.values():
            s.stop()
    summary = {"cycles": args.cycles, "outcomes": outcomes, "seed": args.seed, "renew": args.renew}
    if latencies:
        summary.update({"p50_us": percentile(latencies, 0.5), "p99_us": percentile(latencies, 0.99),
                        "max_us": max(latencies), "mean_us": round(statistics.mean(latencies))})
    print(f"pause_heal: {args.cycles} cycles, outcomes {outcomes}; acquire after heal "
          + (f"p50 {summary['p50_us']} us, p99 {summary['p99_us']} us, max {summary['max_us']} us"
             if latencies else "(none succeeded)"))
    if args.json:
        print(json.dumps(summary))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
