#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Replace every voter, one by one, while torture clients run (issue 21 step 4).

usage: reconfig_replace.py --batonctl PATH [--workdir DIR] [--seed N]

Six `batonctl node` members on 127.0.0.1 (--replicas 7, so the cluster is not
in scale mode and its voters can change), all voting at first (the initial
record lists every member). Two `batonctl torture --client` processes (no
member slot) take leases on three resources and write to a fenced register
the whole time. With `batonctl reconfigure` (asking the lowest-id member that
answers), the voters go {1..6} -> {1..5} (two requests racing: one runs, the
other is refused as busy) -> {1,2,3} -> {2,3,4} -> {3,4,5} -> {4,5,6}.
Then members 1, 2 and 3 are stopped (SIGTERM) and the clients keep taking
leases from the new voters alone. Finally check_history.py checks the
clients' histories and the register log (shared/HISTORY.md).

Fails (exit 1) if a change does not commit, or commits other voters than
asked, if the remaining members do not report the final record, if a client
took no lease after members 1-3 stopped, or if the history checker reports
a violation. Every process is bounded and killed on exit; the work directory
keeps the histories and logs.
"""
import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time

import torture_run

N = 6
REPLICAS = 7          # above N: every member votes on every resource, the voters can change
TTL_MAX_MS = 300      # a change waits out ttl_max: about 0.3 s plus round trips
TTL_MS = 150          # the clients' leases: renewed during 60-250 ms holds
CLIENTS = 2
RESOURCES = 3
STEPS = [[1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 6]]
SETTLE_S = 1.0        # torture under each configuration before the next change
AFTER_STOP_S = 4.0    # torture with members 1-3 gone


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batonctl", required=True)
    p.add_argument("--workdir", default="/tmp/baton-reconfig-replace")
    p.add_argument("--seed", type=int, default=None)
    args = p.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 31)
    rng = random.Random(seed)
    print(f"reconfig_replace.py: seed {seed}", flush=True)
    members, key = torture_run.local_cluster(args.batonctl, args.workdir, N)
    work = args.workdir
    register_addr = f"127.0.0.1:{torture_run.free_ports(1)[0]}"
    procs = []
    common = ["--members", members, "--key-file", key, "--replicas", str(REPLICAS)]
    start = time.monotonic()

    def log(text):
        print(f"[{time.monotonic() - start:6.2f}s] {text}", flush=True)

    def spawn(argv, logname):
        with open(os.path.join(work, logname), "ab") as f:
            proc = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, cwd=work, start_new_session=True)
        procs.append(proc)
        return proc

    failures = []

    def expect(cond, what):
        log(("ok: " if cond else "FAIL: ") + what)
        if not cond:
            failures.append(what)

    try:
        register = spawn([args.batonctl, "register", "--listen", register_addr, "--log",
                          os.path.join(work, "register.jsonl")], "register.log")
        nodes = {}
        for i in range(1, N + 1):
            nodes[i] = spawn([args.batonctl, "node", *common, "--id", str(i), "--ttl-max-ms", str(TTL_MAX_MS),
                              "--state-dir", os.path.join(work, f"state-{i}"), "--bootstrap"], f"member-{i}.log")
        expect(wait_status(args.batonctl, common, list(range(1, N + 1)), 10), "all 6 members answer status")

        # A bound only: the clients are stopped (SIGTERM) AFTER_STOP_S after members 1-3.
        total_s = 60
        clients = []
        for c in range(1, CLIENTS + 1):
            clients.append(spawn([args.batonctl, "torture", "--client", *common, "--ttl-max-ms", str(TTL_MAX_MS),
                                  "--resources", str(RESOURCES), "--ttl-ms", str(TTL_MS),
                                  "--hold-ms", str(60 if c == 1 else 250), "--duration-s", str(int(total_s)),
                                  "--history", os.path.join(work, f"history-c{c}.jsonl"),
                                  "--register", register_addr, "--seed", str(rng.getrandbits(63))],
                                 f"client-{c}.log"))
        time.sleep(SETTLE_S)

        def reconfigure(voters, wait=True):
            proc = subprocess.Popen([args.batonctl, "reconfigure", *common, "--voters", ",".join(map(str, voters)),
                                     "--timeout-ms", "15000", "--json"], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            procs.append(proc)
            if not wait:
                return proc
            out, err = proc.communicate(timeout=30)
            return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)

        # Two changes asked of member 1 at once: one runs, the other is refused as busy (exit 1, nothing
        # started), whichever request arrives second.
        racing = [reconfigure([1, 2, 3, 4, 5], wait=False), reconfigure([1, 2, 3, 4, 5], wait=False)]
        results = [(p.communicate(timeout=30), p.returncode) for p in racing]
        log(f"two racing reconfigure --voters 1,2,3,4,5: {results}")
        outcomes = sorted(json.loads(o).get("outcome") if o.strip().startswith("{") else "" for (o, _), _ in results)
        expect(outcomes == ["committed", "refused"] and sorted(rc for _, rc in results) == [0, 1]
               and any("busy: a reconfiguration another batonctl started" in o for (o, _), _ in results),
               "of two racing requests, one committed and the other was refused as busy (exit 1)")

        took = []
        for voters in STEPS:
            r = reconfigure(voters)
            log(f"reconfigure --voters {voters}: exit {r.returncode}: {r.stdout.strip()} {r.stderr.strip()}")
            out = json.loads(r.stdout) if r.stdout.strip().startswith("{") else {}
            expect(r.returncode == 0 and out.get("outcome") == "committed" and out.get("voters") == voters
                   and out.get("new_voters") == [], f"the change to {voters} committed with exactly those voters")
            if out.get("outcome") == "committed":
                took.append(out["elapsed_ms"])
            time.sleep(SETTLE_S)
        if took:
            log(f"changes took {took} ms (batonctl reconfigure's elapsed_ms: ping, then the run; "
                f"ttl_max {TTL_MAX_MS} ms)")

        # The final record at the new voters, and at member 3, which the last change removed (the driver
        # re-sends the final record to those too). Members 1 and 2, removed earlier, keep the last record
        # they voted under (V5): no later change involves them.
        last = (out.get("epoch"), out.get("ballot"))
        final = status(args.batonctl, common)
        epochs = {m["id"]: (m.get("cfg_epoch"), m.get("cfg_ballot")) for m in final if m.get("reachable")}
        expect(all(epochs.get(i) == last for i in (3, 4, 5, 6)),
               f"members 3-6 vote under the final record {last}: {epochs}")

        for i in (1, 2, 3):
            nodes[i].send_signal(signal.SIGTERM)
        for i in (1, 2, 3):
            expect(wait_exit(nodes[i], 10) == 0, f"member {i} stopped cleanly")
        stopped_ns = time.monotonic_ns()
        log(f"members 1, 2, 3 stopped (monotonic {stopped_ns} ns); the clients go on with voters 4, 5, 6")
        time.sleep(AFTER_STOP_S)
        for c in clients:
            c.send_signal(signal.SIGTERM)
        for c in clients:
            expect(wait_exit(c, 10) == 0, f"torture client stopped cleanly (pid {c.pid})")
        register.send_signal(signal.SIGTERM)
        register.wait(timeout=10)

        histories = [os.path.join(work, f"history-c{c}.jsonl") for c in range(1, CLIENTS + 1)]
        for h in histories:
            after = acquires_after(h, stopped_ns)
            expect(after > 0, f"{os.path.basename(h)}: {after} leases acquired after members 1-3 stopped")
        rc = subprocess.call([sys.executable, os.path.join(torture_run.HERE, "check_history.py"), "--register",
                              os.path.join(work, "register.jsonl"), "--min-life-s", "3", "--min-acquires", "1",
                              *histories])
        expect(rc == 0, f"check_history.py found no violation (exit {rc})")
    finally:
        torture_run.kill_all(procs)
    if failures:
        print(f"reconfig_replace.py: FAILED ({len(failures)}): " + "; ".join(failures) + f"; logs in {work}",
              flush=True)
        return 1
    print(f"reconfig_replace.py: ok in {time.monotonic() - start:.1f} s", flush=True)
    return 0


def status(batonctl, common):
    r = subprocess.run([batonctl, "status", *common, "--json", "--timeout-ms", "300"], capture_output=True,
                       text=True, timeout=30)
    try:
        return json.loads(r.stdout)["members"]
    except (ValueError, KeyError):
        return []


def wait_status(batonctl, common, ids, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        up = {m["id"] for m in status(batonctl, common) if m.get("reachable")}
        if set(ids) <= up:
            return True
        time.sleep(0.1)
    return False


def wait_exit(proc, timeout):
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


def acquires_after(history, true_ns):
    n = 0
    with open(history) as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if r.get("type") == "op" and r.get("op") == "acquire" and r.get("result") == "ok" and \
                    r.get("true_start_ns", 0) > true_ns:
                n += 1
    return n


if __name__ == "__main__":
    sys.exit(main())
