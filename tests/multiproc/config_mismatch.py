#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Members started with different member lists (issue 19): a rolling restart
that grows {1,2,3} to {1,2,3,4,5}, stopped halfway with member 1 still on
the old list. Five torture members hammer three resources against one fenced
register for --duration seconds.

Without the voting-configuration check, members 2 and 3 list member 1 and
vote for it: member 1 wins with {1,2} (a majority of 3) while member 4 wins
with {3,4,5} (a majority of 5), and the histories overlap. With it:

  * member 1 acquires nothing, and members 2..5 go on acquiring;
  * both sides count the refused datagrams (config_mismatch) and log them
    with both fingerprints, rate-limited;
  * `batonctl status` shows member 1's fingerprint as differing, who refused
    whom, warns, and exits 1;
  * check_history.py passes over all five histories.

usage: config_mismatch.py --batonctl PATH [--duration S] [--workdir DIR] [--seed N]
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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import torture_run  # noqa: E402  (free_ports, kill_all)
N = 5
OLD = [1, 2, 3]           # member 1's list
TTL_MS = 300
HOLD_MS = 60
RESOURCES = 3
# core::voting_fingerprint of each list with the default replicas (pinned by
# tests/unit/core/fingerprint_test.cpp and wire/README.md).
FP_OLD = "efd66e614e2a0a9a"   # {1,2,3}
FP_NEW = "e82234d1700e65d0"   # {1,2,3,4,5}

FAILURES = []


def check(cond, what, detail=""):
    print(f"{'ok  ' if cond else 'FAIL'} {what}", flush=True)
    if not cond:
        FAILURES.append(what)
        if detail:
            print("     " + str(detail).replace("\n", "\n     "), flush=True)


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def ok_acquires(path):
    """Successful acquires recorded in one history file."""
    n = 0
    for line in read(path).splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue  # a torn last line
        if rec.get("type") == "op" and rec.get("op") == "acquire" and rec.get("result") == "ok":
            n += 1
    return n


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batonctl", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--duration", type=int, default=15)
    p.add_argument("--seed", type=int, default=None)
    args = p.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 31)
    print(f"config_mismatch: seed {seed}", flush=True)
    rng = random.Random(seed)
    B = os.path.abspath(args.batonctl)
    work = args.workdir
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)

    ports = torture_run.free_ports(N + 1)
    addr = {i: f"127.0.0.1:{ports[i - 1]}" for i in range(1, N + 1)}
    new_list = ",".join(f"{i}={addr[i]}" for i in range(1, N + 1))
    old_list = ",".join(f"{i}={addr[i]}" for i in OLD)
    register_addr = f"127.0.0.1:{ports[N]}"
    key = os.path.join(work, "cluster.key")
    with open(key, "w") as f:
        f.write(subprocess.check_output([B, "keygen"], text=True))

    procs = []

    def spawn(argv, log):
        f = open(os.path.join(work, log), "ab")
        pr = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, cwd=work, start_new_session=True)
        f.close()
        procs.append(pr)
        return pr

    def status(*extra):
        return subprocess.run([B, "status", "--members", new_list, "--key-file", key, "--timeout-ms", "500",
                               "--attempts", "2", *extra], capture_output=True, text=True, cwd=work, timeout=30)

    members = {}
    try:
        register = spawn([B, "register", "--listen", register_addr, "--log", os.path.join(work, "register.jsonl")],
                         "register.log")
        for i in range(1, N + 1):
            members[i] = spawn([B, "torture", "--members", old_list if i in (1,) else new_list, "--id", str(i),
                                "--key-file", key, "--resources", str(RESOURCES), "--ttl-ms", str(TTL_MS),
                                "--hold-ms", str(HOLD_MS), "--duration-s", str(args.duration),
                                "--history", os.path.join(work, f"history-{i}.jsonl"), "--register", register_addr,
                                "--state-dir", os.path.join(work, f"state-{i}"), "--bootstrap",
                                "--seed", str(rng.getrandbits(63))], f"member-{i}.log")

        # Halfway: what status says while both lists run.
        time.sleep(args.duration / 2)
        r = status("--json")
        doc = {}
        try:
            doc = json.loads(r.stdout)
        except ValueError:
            pass
        rows = {m["id"]: m for m in doc.get("members", [])}
        check(r.returncode == 1, "status exits 1 while members disagree", r.stdout + r.stderr)
        check(all(rows.get(i, {}).get("reachable") for i in range(1, N + 1)),
              "status reaches every member across the mismatch (PING/PONG still work)", r.stdout)
        check(rows.get(1, {}).get("config_fingerprint") == FP_OLD and rows.get(1, {}).get("config") == "DIFFERS",
              f"status: member 1 runs {FP_OLD} ({{1,2,3}}) and differs", rows.get(1))
        check(all(rows.get(i, {}).get("config_fingerprint") == FP_NEW and rows.get(i, {}).get("config") == "ok"
                  for i in range(2, N + 1)), f"status: members 2..5 run {FP_NEW} ({{1..5}})", r.stdout)
        cfg = doc.get("config", {})
        check(cfg.get("agree") is False and cfg.get("reference") == FP_NEW and cfg.get("fingerprint_of_members") == FP_NEW,
              "status: the members do not agree; the reference is --members' fingerprint", cfg)

        def refused(row, sender):
            return [m for m in row.get("config_mismatches", []) if m.get("sender") == sender]

        for i in (2, 3):
            got = refused(rows.get(i, {}), 1)
            check(len(got) == 1 and got[0].get("fingerprint") == FP_OLD and got[0].get("datagrams", 0) >= 1
                  and rows[i]["drops"].get("config_mismatch", 0) >= got[0]["datagrams"],
                  f"status: member {i} refused member 1's datagrams (fingerprint {FP_OLD})", rows.get(i))
        got = refused(rows.get(1, {}), 2) + refused(rows.get(1, {}), 3)
        check(len(got) >= 1 and all(m.get("fingerprint") == FP_NEW for m in got),
              f"status: member 1 refused members 2/3 (fingerprint {FP_NEW})", rows.get(1))
        # Members 4 and 5 are not in member 1's list: their datagrams are a
        # stranger's there, and member 1 never sends them anything.
        check(not refused(rows.get(1, {}), 4) and not refused(rows.get(4, {}), 1),
              "status: members 4 and 5 are strangers to member 1, not mismatches", r.stdout)
        r = status()
        check("DIFFERS" in r.stdout and "WARNING: members run different voting configurations" in r.stdout
              and f"1 (fingerprint {FP_OLD}" in r.stdout, "status table: the configuration section and warning",
              r.stdout)

        # The members end by themselves (--duration-s).
        deadline = time.monotonic() + args.duration + 20
        for i, pr in members.items():
            try:
                rc = pr.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                rc = None
            check(rc == 0, f"member {i} finished cleanly", read(os.path.join(work, f"member-{i}.log"))[-2000:])
        register.send_signal(signal.SIGTERM)
        register.wait(timeout=10)
    finally:
        torture_run.kill_all(procs)

    # Member 1 never counted a vote from across the mismatch; the rest worked.
    acquired = {i: ok_acquires(os.path.join(work, f"history-{i}.jsonl")) for i in range(1, N + 1)}
    print(f"ok acquires per member: {acquired}", flush=True)
    check(acquired[1] == 0, "member 1 (old list) acquired nothing", acquired)
    check(all(acquired[i] >= 1 for i in range(2, N + 1)), "members 2..5 (new list) acquired", acquired)

    # Logged on both sides with both fingerprints, the sender and what to do;
    # rate-limited (one line per sender at once, then at most every 10 s).
    logs = {i: read(os.path.join(work, f"member-{i}.log")) for i in range(1, N + 1)}
    line_new = f"member 1 runs a different voting configuration: fingerprint {FP_OLD}, ours {FP_NEW}"
    line_old = f"runs a different voting configuration: fingerprint {FP_NEW}, ours {FP_OLD}"
    for i in (2, 3):
        n = logs[i].count(line_new)
        check(1 <= n <= 1 + args.duration // 10 + 1, f"member {i} logs member 1's mismatch, rate-limited ({n} lines)",
              logs[i][-2000:])
    check(line_old in logs[1] and "same member ids (--members) and replicas" in logs[1],
          "member 1 logs the others' mismatch and what to do", logs[1][-2000:])
    check(f"voting configuration fingerprint {FP_OLD} (members 1,2,3; 3 voters per resource (replicas 5))" in logs[1]
          and f"voting configuration fingerprint {FP_NEW} (members 1,2,3,4,5; 5 voters per resource (replicas 5))"
          in logs[2],
          "each member logs its fingerprint at start")

    # Safety: the histories and the register log pass the checker. (Progress
    # is checked above: member 1 is expected to make none.)
    histories = [os.path.join(work, f"history-{i}.jsonl") for i in range(1, N + 1)]
    rc = subprocess.call([sys.executable, os.path.join(HERE, "check_history.py"), "--register",
                          os.path.join(work, "register.jsonl"), "--expect-nodes", ",".join(map(str, range(1, N + 1))),
                          "--min-acquires", "0", *histories])
    check(rc == 0, "check_history.py: no violation")
    print(f"config_mismatch: {len(FAILURES)} failure(s); work directory {work}", flush=True)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
