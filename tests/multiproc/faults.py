#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Multi-process fault tests: 5 batonctl members on 127.0.0.1, all running
`torture` against one fenced register, while this driver injects faults;
then check_history.py checks the histories and the register log.

usage: faults.py --batonctl PATH --scenario NAME [--duration S] [--workdir DIR] [--seed N]

Scenarios:
  kill_restart  SIGKILL one member at a time and restart it (next --incarnation)
                after a pause; member 5 runs diskless (--no-state: peer recovery).
  stop_cont     SIGSTOP one or two members at once for 2-5 ttls, then SIGCONT.
  majority      SIGKILL three of five members at once, restart them together.
  wiped_state   SIGKILL a member and delete its state directory. Restarted as
                before it must refuse to start, naming the directory; restarted
                with the directory created empty (what an operator does), it
                must recover its floor from its peers (and say so).
  locked_state  while a member runs (or is SIGSTOPped), a second `batonctl
                node` on its state directory must be refused, naming the
                directory and the running member's pid; sometimes the holder is
                then SIGKILLed and restarted (the kernel frees its lock).
  mixed         all of the above at random (the soak).

Members with a state directory start their first life with --bootstrap and
every later one without. Expectations about refusals and log lines that do
not hold are listed as FAIL lines, and the run exits 1.

Every process is bounded (torture --duration-s, a hard deadline here) and
killed on exit; the work directory keeps the histories and logs for reading.
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import torture_run

N = 5
TTL_MS = 300
HOLD_MS = 60         # members 3..5: short holds
LONG_HOLD_MS = 450   # members 1, 2: holds that outlast the ttl, so they renew
RESOURCES = 3


class Run:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.work = args.workdir
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work)
        ports = torture_run.free_ports(N + 1)
        self.members = ",".join(f"{i}=127.0.0.1:{ports[i - 1]}" for i in range(1, N + 1))
        self.register_addr = f"127.0.0.1:{ports[N]}"
        self.key = os.path.join(self.work, "cluster.key")
        with open(self.key, "w") as f:
            f.write(subprocess.check_output([args.batonctl, "keygen"], text=True))
        self.procs = {}        # member id -> Popen
        self.incarnation = {}  # member id -> current incarnation
        self.stopped = set()   # members under SIGSTOP
        self.all_procs = []
        self.start = time.monotonic()
        # The histories' true_ns is CLOCK_MONOTONIC too: this lines the fault log up with them.
        print(f"faults.py: start at monotonic {int(self.start * 1e9)} ns", flush=True)
        self.end = self.start + args.duration
        self.faults = []
        self.failures = []  # expectations about refusals and log lines that did not hold

    def log(self, text):
        line = f"[{time.monotonic() - self.start:6.2f}s] {text}"
        print(line, flush=True)
        self.faults.append(line)

    def spawn(self, argv, logname):
        f = open(os.path.join(self.work, logname), "ab")
        p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, cwd=self.work, start_new_session=True)
        f.close()
        self.all_procs.append(p)
        return p

    def start_register(self):
        self.register = self.spawn([self.args.batonctl, "register", "--listen", self.register_addr, "--log",
                                    os.path.join(self.work, "register.jsonl")], "register.log")

    def expect(self, cond, what, detail=""):
        self.log(("ok: " if cond else "FAIL: ") + what)
        if not cond:
            self.failures.append(what + (f" ({detail})" if detail else ""))

    def state_dir(self, i):
        return os.path.join(self.work, f"state-{i}")

    def log_since(self, logname, offset):
        with open(os.path.join(self.work, logname), "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")

    def log_size(self, logname):
        path = os.path.join(self.work, logname)
        return os.path.getsize(path) if os.path.exists(path) else 0

    def wait_for_log(self, logname, offset, text, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log_since(logname, offset):
                return True
            time.sleep(0.05)
        return text in self.log_since(logname, offset)

    def start_member(self, i):
        inc = self.incarnation.get(i, 0) + 1
        self.incarnation[i] = inc
        remaining = max(1, int(round(self.end - time.monotonic())))
        argv = [self.args.batonctl, "torture", "--members", self.members, "--id", str(i), "--key-file", self.key,
                "--resources", str(RESOURCES), "--ttl-ms", str(TTL_MS),
                "--hold-ms", str(self.args.long_hold_ms if i <= 2 else self.args.hold_ms),
                "--duration-s", str(remaining), "--history", os.path.join(self.work, f"history-{i}.jsonl"),
                "--register", self.register_addr, "--incarnation", str(inc),
                "--seed", str(self.rng.getrandbits(63))]
        if i == N:
            # Diskless: its first life bootstraps, later lives recover the floor from peers.
            argv += ["--no-state"] + (["--bootstrap"] if inc == 1 else [])
        else:
            # The cluster's first start creates and initializes the directory; later lives recover from it.
            argv += ["--state-dir", self.state_dir(i)] + (["--bootstrap"] if inc == 1 else [])
        self.procs[i] = self.spawn(argv, f"member-{i}.log")
        return self.procs[i]

    def kill(self, i):
        p = self.procs[i]
        if i in self.stopped:
            self.cont(i)
        p.send_signal(signal.SIGKILL)
        p.wait()
        self.log(f"SIGKILL member {i} (incarnation {self.incarnation[i]})")

    def stop(self, i):
        self.procs[i].send_signal(signal.SIGSTOP)
        self.stopped.add(i)
        self.log(f"SIGSTOP member {i}")

    def cont(self, i):
        self.procs[i].send_signal(signal.SIGCONT)
        self.stopped.discard(i)
        self.log(f"SIGCONT member {i}")

    def alive(self):
        return [i for i, p in self.procs.items() if p.poll() is None]

    def sleep(self, s):
        time.sleep(max(0.0, min(s, self.end - time.monotonic())))

    def time_left(self):
        return self.end - time.monotonic()

    # ---- scenarios ---------------------------------------------------------

    def fault_kill_restart(self):
        i = self.rng.choice(self.alive())
        self.kill(i)
        self.sleep(self.rng.uniform(0.3, 1.5))
        if self.time_left() > 2:
            self.start_member(i)
            self.log(f"restart member {i} as incarnation {self.incarnation[i]}")

    def fault_stop_cont(self, many=False):
        k = 2 if many else 1
        victims = self.rng.sample([i for i in self.alive() if i not in self.stopped], k)
        for i in victims:
            self.stop(i)
        self.sleep(self.rng.uniform(2, 5) * TTL_MS / 1000)
        for i in victims:
            self.cont(i)

    def fault_majority(self):
        victims = self.rng.sample([i for i in self.alive() if i != N], 3)
        for i in victims:
            self.kill(i)
        self.sleep(self.rng.uniform(0.5, 1.5))
        if self.time_left() > 2:
            for i in victims:
                self.start_member(i)
            self.log(f"restart members {victims}")

    def fault_wiped_state(self):
        i = self.rng.choice([j for j in self.alive() if j != N])  # member N has no state directory
        self.kill(i)
        d = self.state_dir(i)
        shutil.rmtree(d)
        self.log(f"deleted member {i}'s state directory")
        self.sleep(self.rng.uniform(0.2, 0.8))
        if self.time_left() < 4:
            return
        # Restarted as before (no --bootstrap): refused, naming the directory, nothing created.
        logname = f"member-{i}.log"
        offset = self.log_size(logname)
        p = self.start_member(i)
        try:
            rc = p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            rc = None
        text = self.log_since(logname, offset)
        self.expect(rc == 1 and f"state directory '{d}' does not exist" in text and not os.path.exists(d),
                    f"member {i} with its state directory deleted refuses to start", f"exit {rc}: {text.strip()}")
        # The operator's answer: an empty directory. The member recovers its floor from its peers.
        os.makedirs(d, mode=0o700)
        offset = self.log_size(logname)
        self.start_member(i)
        self.log(f"restart member {i} as incarnation {self.incarnation[i]} with an empty state directory")
        self.expect(self.wait_for_log(logname, offset, f"state directory '{d}' has no state: recovering the floor "
                                                        "from peers", 10),
                    f"member {i} says it recovers its floor from peers", self.log_since(logname, offset).strip())
        # Guarantee 2: it votes again only with a floor learned from its peers (a fresh start had floor 0).
        row = self.wait_for_status(i, lambda m: m.get("quarantined") is False, 10)
        self.expect(row.get("quarantined") is False and row.get("start") == "peers" and row.get("floor", 0) > 0,
                    f"member {i} votes again with a floor from its peers", json.dumps(row))

    def wait_for_status(self, i, cond, timeout):
        """Member i's row of `batonctl status --json` once cond(row) holds, or the last one seen."""
        deadline = time.monotonic() + timeout
        row = {}
        while time.monotonic() < deadline:
            r = subprocess.run([self.args.batonctl, "status", "--members", self.members, "--key-file", self.key,
                                "--json", "--attempts", "1", "--timeout-ms", "300"], capture_output=True, text=True)
            if r.stdout.startswith("{"):
                row = {m["id"]: m for m in json.loads(r.stdout)["members"]}.get(i, {})
                if cond(row):
                    break
            time.sleep(0.1)
        return row

    def fault_locked_state(self):
        candidates = [j for j in self.alive() if j != N and j not in self.stopped]
        if not candidates:
            return
        i = self.rng.choice(candidates)
        d = self.state_dir(i)
        paused = self.rng.random() < 0.5
        if paused:
            self.stop(i)
        logname = f"second-{i}.log"
        offset = self.log_size(logname)
        second = self.spawn([self.args.batonctl, "node", "--members", self.members, "--id", str(i), "--key-file",
                             self.key, "--ttl-max-ms", str(TTL_MS), "--state-dir", d], logname)
        try:
            rc = second.wait(timeout=20)
        except subprocess.TimeoutExpired:
            rc = None
        text = self.log_since(logname, offset)
        holder = self.procs[i].pid
        self.expect(rc == 1 and f"state directory '{d}' is locked by another process (pid {holder})" in text,
                    f"a second process on member {i}'s state directory is refused"
                    + (" (holder SIGSTOPped)" if paused else ""), f"exit {rc}: {text.strip()}")
        if paused:
            self.sleep(self.rng.uniform(1, 3) * TTL_MS / 1000)
            self.cont(i)
        if self.rng.random() < 0.5 and self.time_left() > 4:
            # The holder dies: the kernel releases its lock, and a restart takes it.
            self.kill(i)
            self.sleep(self.rng.uniform(0.2, 0.8))
            self.start_member(i)
            self.log(f"restart member {i} as incarnation {self.incarnation[i]}")

    def drive(self):
        sc = self.args.scenario
        self.sleep(2.0)  # a quiet start: everyone makes progress first
        while self.time_left() > 5:
            if sc == "kill_restart":
                self.fault_kill_restart()
            elif sc == "stop_cont":
                self.fault_stop_cont(many=self.rng.random() < 0.5)
            elif sc == "majority":
                self.fault_majority()
            elif sc == "wiped_state":
                self.fault_wiped_state()
            elif sc == "locked_state":
                self.fault_locked_state()
            else:
                self.rng.choice([self.fault_kill_restart, self.fault_stop_cont,
                                 lambda: self.fault_stop_cont(many=True), self.fault_majority,
                                 self.fault_wiped_state, self.fault_locked_state])()
            self.sleep(self.rng.uniform(1.0, 2.5))
        # The last seconds are fault-free: every member ends connected.

    def cleanup(self):
        torture_run.kill_all(self.all_procs)

    def run(self):
        try:
            self.start_register()
            for i in range(1, N + 1):
                self.start_member(i)
            self.drive()
            # Members end by themselves (--duration-s); a hard deadline after that.
            deadline = time.monotonic() + max(0, self.time_left()) + 15
            if torture_run.wait_members(self.procs, self.register, deadline, self.work):
                return 1
        finally:
            self.cleanup()
        rc = torture_run.check_histories(self.work, N)
        torture_run.print_member_summaries(self.work, N)
        for f in self.failures:
            print(f"FAIL {f}", flush=True)
        return 1 if self.failures else rc


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batonctl", required=True)
    p.add_argument("--scenario", required=True,
                   choices=["kill_restart", "stop_cont", "majority", "wiped_state", "locked_state", "mixed"])
    p.add_argument("--duration", type=float, default=20)
    p.add_argument("--workdir", default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--soak", action="store_true", help="run only when BATON_SOAK=1 (else exit 77: skipped)")
    p.add_argument("--hold-ms", type=int, default=HOLD_MS, help=f"members 3..5's holds (default {HOLD_MS})")
    p.add_argument("--long-hold-ms", type=int, default=LONG_HOLD_MS,
                   help=f"members 1 and 2's holds, which renew (default {LONG_HOLD_MS})")
    args = p.parse_args()
    if args.soak and os.environ.get("BATON_SOAK") != "1":
        print("faults.py: soak skipped (set BATON_SOAK=1 to run it)")
        return 77
    args.batonctl = os.path.abspath(args.batonctl)
    if args.seed is None:
        args.seed = random.SystemRandom().getrandbits(32)
    if args.workdir is None:
        args.workdir = os.path.join(os.getcwd(), f"multiproc-{args.scenario}")
    print(f"faults.py: scenario {args.scenario}, seed {args.seed}, duration {args.duration}s, work {args.workdir}",
          flush=True)
    run = Run(args)

    def on_term(signum, frame):
        run.cleanup()
        sys.exit(1)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    return run.run()


if __name__ == "__main__":
    sys.exit(main())
