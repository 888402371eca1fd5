#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Issue 24, with what pause_heal.py lacks: contenders. Five `batonctl shell`
members on 127.0.0.1 with state directories. Each cycle:

  1. a holder H acquires the resource (ttl 300 ms; auto-renew, or renew()
     calls with the last one in flight at the pause);
  2. 1-3 other members (contenders) ask for it with a 1 s wait while H holds
     it, so the voters keep their requests (standing requests, hand-offs);
  3. 50-150 ms after H's acquire, H is paused (SIGSTOP) for 0.8-1.0 s, past
     its ttl, then continued; half the time it is told to release the lost
     lease at once;
  4. a contender that gets the lease holds it 150 or 750 ms (750 renews,
     auto or by renew() calls), then releases it;
  5. once every contender is done and H's lost lease is released, after a
     gap of 0-1.2 s (nobody holds or asks for the resource then), an
     acquirer X (H one time in three, a contender one time in three,
     otherwise a member that took no part) acquires it with a 1 s wait.

With every member up and the resource free, Guarantee 3 wants step 5 to
succeed within a few round trips. Counts step 5's outcomes, prints each
failure with the cycle's events, exits 1 if any step-5 acquire failed.
Every --restart-every cycles one member (not H) is SIGKILLed and restarted
from its state directory before the cycle (its quarantine is waited out).

The summary also counts the contenders' outcomes (step 4): a contender
that lost its wait to other holders fails `busy` (issue 24's `unavailable`
was that, before the acquirer's fix).

usage: pause_contend.py --batonctl PATH [--cycles N] [--seed S] [--workdir DIR] [--restart-every K] [--soak]
"""
import argparse
import os
import random
import signal
import subprocess
import sys
import time

import pause_heal
import torture_run

N = 5
TTL_MS = 300
RESOURCE = "seat:14A"


class Member(pause_heal.Shell):
    """A pause_heal shell that can be started again on its state directory."""

    def __init__(self, args, i, members, key, work, bootstrap=True):
        self.args_, self.members_, self.key_, self.work_ = args, members, key, work
        self.i = i
        self.start(bootstrap)

    def start(self, bootstrap):
        import queue
        import threading
        self.lines = queue.Queue()
        self.lost = []
        self.log = open(os.path.join(self.work_, f"member-{self.i}.log"), "a")
        argv = [self.args_.batonctl, "shell", "--members", self.members_, "--id", str(self.i), "--key-file",
                self.key_, "--state-dir", os.path.join(self.work_, f"state-{self.i}"), "--ttl-max-ms", "1000"]
        if bootstrap:
            argv.append("--bootstrap")
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                     text=True, bufsize=1)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def write(self, command):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def kill(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batonctl", required=True)
    ap.add_argument("--cycles", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", default="pause_contend-work")
    ap.add_argument("--restart-every", type=int, default=0)
    ap.add_argument("--soak", action="store_true", help="run only when BATON_SOAK=1 (else exit 77: skipped)")
    args = ap.parse_args()
    if args.soak and os.environ.get("BATON_SOAK") != "1":
        print("pause_contend: soak skipped (set BATON_SOAK=1 to run it)")
        return 77
    if args.cycles < 1 or args.cycles > 100000:
        print(f"pause_contend: --cycles must be 1..100000, got {args.cycles}", file=sys.stderr)
        return 2
    if args.restart_every < 0:
        print(f"pause_contend: --restart-every must be >= 0, got {args.restart_every}", file=sys.stderr)
        return 2
    if not os.access(args.batonctl, os.X_OK):
        print(f"pause_contend: --batonctl: not an executable: {args.batonctl}", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    members, key = torture_run.local_cluster(args.batonctl, args.workdir, N)
    m = {i: Member(args, i, members, key, args.workdir) for i in range(1, N + 1)}
    outcomes, latencies, failures = {}, [], []
    contender_outcomes = {}
    t_start = time.monotonic()
    log = open(os.path.join(args.workdir, "cycles.log"), "w")

    def note(text):
        line = f"[{time.monotonic() - t_start:8.3f}] {text}"
        log.write(line + "\n")
        log.flush()
        return line

    try:
        for s in m.values():
            s.expect("ready", 10)
        print(note(f"start at monotonic {int(t_start * 1e9)} ns"), flush=True)
        for cycle in range(1, args.cycles + 1):
            events = []
            ev = lambda text: events.append(note(f"cycle {cycle}: {text}"))
            if args.restart_every and cycle % args.restart_every == 0:
                r = rng.randint(1, N)
                m[r].kill()
                ev(f"SIGKILL n{r}")
                time.sleep(rng.uniform(0.2, 0.6))
                m[r].start(bootstrap=False)
                m[r].expect("ready", 10)
                ev(f"restarted n{r}")
                time.sleep(1.5)  # its quarantine (ttl_max 1 s, stretched)
            h = rng.randint(1, N)
            explicit = rng.random() < 0.5
            got = m[h].send(f"acquire {RESOURCE} {TTL_MS} 3000" + ("" if explicit else " renew"), timeout=10)
            if not got["ok"]:
                ev(f"holder n{h} did not acquire ({got.get('error')}), skipped")
                time.sleep(1.5)
                continue
            ev(f"n{h} holds token {got['token']} ({'renew() calls' if explicit else 'auto-renew'})")
            others = [i for i in range(1, N + 1) if i != h]
            contenders = rng.sample(others, rng.randint(1, 3))
            holds = {c: rng.choice([150, 750]) for c in contenders}
            auto = {c: rng.random() < 0.5 for c in contenders}
            held_for = rng.uniform(0.05, 0.15)
            t_acq = time.monotonic()
            # Contenders ask while H holds, at random moments before the pause.
            asks = sorted((rng.uniform(0, held_for * 0.9), c) for c in contenders)
            renew_sent = False
            for at, c in asks:
                time.sleep(max(0.0, t_acq + at - time.monotonic()))
                m[c].write(f"acquire {RESOURCE} {TTL_MS} 1000" + (" renew" if auto[c] and holds[c] > 150 else ""))
                ev(f"contender n{c} asks (hold {holds[c]} ms, {'auto' if auto[c] else 'renew() calls'})")
            if explicit:
                time.sleep(max(0.0, t_acq + held_for - time.monotonic()))
                m[h].write(f"renew {RESOURCE}")
                renew_sent = True
                time.sleep(rng.uniform(0, 0.003))
            else:
                time.sleep(max(0.0, t_acq + held_for - time.monotonic()))
            pause = rng.uniform(0.8, 1.0)
            os.kill(m[h].proc.pid, signal.SIGSTOP)
            ev(f"SIGSTOP n{h} for {pause:.3f} s")
            t_stop = time.monotonic()
            # Contenders: whoever gets it holds it, renewing, then releases.
            pending = set(contenders)
            holding = {}  # c -> (release_at, next_renew)
            cont_at = t_stop + pause
            continued = False
            while pending or holding or not continued:
                now = time.monotonic()
                if not continued and now >= cont_at:
                    os.kill(m[h].proc.pid, signal.SIGCONT)
                    continued = True
                    ev(f"SIGCONT n{h}")
                for c in list(pending):
                    try:
                        msg = m[c].lines.get_nowait()
                    except Exception:
                        continue
                    if msg.get("op") != "acquire":
                        continue
                    pending.discard(c)
                    ck = "ok" if msg["ok"] else msg.get("error", "?")
                    contender_outcomes[ck] = contender_outcomes.get(ck, 0) + 1
                    if msg["ok"]:
                        ev(f"contender n{c} acquired token {msg['token']} after {msg['latency_us']} us")
                        holding[c] = [now + holds[c] / 1000, now + 0.1]
                    else:
                        ev(f"contender n{c} failed {msg.get('error')} after {msg['latency_us']} us")
                for c in list(holding):
                    release_at, next_renew = holding[c]
                    if now >= release_at:
                        r = m[c].send(f"release {RESOURCE}")
                        ev(f"contender n{c} released ({'ok' if r['ok'] else r.get('error')})")
                        del holding[c]
                    elif holds[c] > 150 and not auto[c] and now >= next_renew:
                        r = m[c].send(f"renew {RESOURCE}")
                        if not r["ok"]:
                            ev(f"contender n{c} renew: {r.get('error')}")
                        holding[c][1] = now + 0.1
                time.sleep(0.002)
            if renew_sent:
                r = m[h].expect("renew", 10)
                ev(f"n{h}'s renew after the pause: {'ok' if r['ok'] else r.get('error')}")
            if rng.random() < 0.5:
                r = m[h].send(f"release {RESOURCE}")
                ev(f"n{h} told to release ({'ok' if r['ok'] else r.get('error')})")
            else:
                ev(f"n{h} left alone")
            gap = rng.uniform(0.0, 1.2)
            time.sleep(gap)
            roll = rng.random()
            if roll < 1 / 3:
                x = h
            elif roll < 2 / 3:
                x = rng.choice(contenders)
            else:
                rest = [i for i in others if i not in contenders]
                x = rng.choice(rest) if rest else rng.choice(contenders)
            role = "the paused holder" if x == h else "a contender" if x in contenders else "a bystander"
            got = m[x].send(f"acquire {RESOURCE} {TTL_MS} 1000", timeout=10)
            k = "ok" if got["ok"] else got.get("error", "?")
            outcomes[k] = outcomes.get(k, 0) + 1
            ev(f"X=n{x} ({role}) after a {gap:.3f} s gap: {k} after {got.get('latency_us')} us")
            if got["ok"]:
                latencies.append(got["latency_us"])
                m[x].send(f"release {RESOURCE}")
            else:
                failures.append(events)
                print("FAIL cycle %d\n  %s" % (cycle, "\n  ".join(events)), flush=True)
            # The holder forgets its lost lease (if it was not told to release it).
            if x != h:
                m[h].write(f"release {RESOURCE}")
                m[h].expect("release", 10)
            time.sleep(0.4)  # let everything settle before the next cycle
            if cycle % 10 == 0:
                print(f"{cycle} cycles: {outcomes} ({os.getloadavg()[0]:.2f} load)", flush=True)
    finally:
        for s in m.values():
            try:
                os.kill(s.proc.pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
            s.stop()
    print(f"pause_contend: {args.cycles} cycles, outcomes {outcomes}"
          + (f"; latency p50 {pause_heal.percentile(latencies, 0.5)} us, p99 {pause_heal.percentile(latencies, 0.99)}"
             f" us, max {max(latencies)} us" if latencies else "")
          + f"; contenders {contender_outcomes}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
