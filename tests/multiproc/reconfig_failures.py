#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The failure cases of a change of the voters, as docs/operations.md
"Changing the members" describes them (issue 21 step 4).

usage: reconfig_failures.py --batonctl PATH [--workdir DIR]

Five `batonctl node` members on 127.0.0.1 with state directories and
--ttl-max-ms 1000; the voters are first changed to {1,2,3}. Then, each
checked against what the documentation says:

  old_majority_down  members 2 and 3 stopped: a change asked of member 1
                     ends timed_out (exit 1), nothing changed; 2 and 3 back.
  new_majority_down  members 4 and 5 stopped: a change to {1,4,5} commits
                     its joint record, proposes the final one (which only a
                     majority of {1,4,5} can commit), then ends timed_out;
                     leases are unavailable meanwhile; with 4 and 5 back,
                     the next change (to {1,2,3}, from member 2) finishes the
                     half-done one first, then makes its own.
  superseded         members 2 and 3 asked at once for different voters: one
                     commits, the other is superseded, or refused when the
                     winner's joint record reached it first (exit 1).
  driver_crash       the driving member is SIGKILLed while the joint record
                     is out; the next run, from another member, finishes the
                     change; the killed member restarts from its state.

Prints how long each run took (batonctl reconfigure --json elapsed_ms).
Exit 1 if any of it behaves otherwise.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

import torture_run

N = 5
TTL_MAX_MS = 1000


class Cluster:
    def __init__(self, batonctl, work):
        self.b = batonctl
        self.work = work
        self.members, self.key = torture_run.local_cluster(batonctl, work, N)
        self.common = ["--members", self.members, "--key-file", self.key]
        self.nodes = {}
        self.procs = []
        self.failures = []
        self.start_time = time.monotonic()

    def log(self, text):
        print(f"[{time.monotonic() - self.start_time:6.2f}s] {text}", flush=True)

    def expect(self, cond, what):
        self.log(("ok: " if cond else "FAIL: ") + what)
        if not cond:
            self.failures.append(what)

    def start(self, i, bootstrap=False):
        with open(os.path.join(self.work, f"member-{i}.log"), "ab") as f:
            p = subprocess.Popen([self.b, "node", *self.common, "--id", str(i), "--ttl-max-ms", str(TTL_MAX_MS),
                                  "--state-dir", os.path.join(self.work, f"state-{i}")] +
                                 (["--bootstrap"] if bootstrap else []),
                                 stdout=f, stderr=subprocess.STDOUT, cwd=self.work, start_new_session=True)
        self.nodes[i] = p
        self.procs.append(p)

    def stop(self, i, sig=signal.SIGTERM):
        self.nodes[i].send_signal(sig)
        self.nodes[i].wait(timeout=10)

    def status(self):
        r = subprocess.run([self.b, "status", *self.common, "--json", "--timeout-ms", "200", "--attempts", "1"],
                           capture_output=True, text=True, timeout=30)
        try:
            return {m["id"]: m for m in json.loads(r.stdout)["members"]}
        except (ValueError, KeyError):
            return {}

    def wait_voting(self, ids, timeout=15):
        """Until every member in `ids` answers and is out of its restart quarantine."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s = self.status()
            if all(s.get(i, {}).get("reachable") and not s[i].get("quarantined") for i in ids):
                return True
            time.sleep(0.1)
        return False

    def epochs(self, ids):
        s = self.status()
        return {i: s.get(i, {}).get("cfg_epoch") for i in ids}

    def reconfigure(self, voters, member=None, timeout_ms=30000, wait=True):
        argv = [self.b, "reconfigure", *self.common, "--voters", ",".join(map(str, voters)), "--json",
                "--timeout-ms", str(timeout_ms)] + (["--member", str(member)] if member else [])
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        return self.finish(p, voters) if wait else p

    def finish(self, p, voters):
        out, err = p.communicate(timeout=120)
        doc = json.loads(out) if out.strip().startswith("{") else {}
        self.log(f"reconfigure --voters {voters}: exit {p.returncode}: {out.strip()} | {err.strip()}")
        return p.returncode, doc

    def acquire_client(self, resource):
        r = subprocess.run([self.b, "acquire", "--client", *self.common, "--ttl-max-ms", str(TTL_MAX_MS),
                            "--ttl-ms", "200", "--wait-ms", "1500", "--hold-ms", "0", resource],
                           capture_output=True, text=True, timeout=30, cwd=self.work)
        return r.returncode


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batonctl", required=True)
    p.add_argument("--workdir", default="/tmp/baton-reconfig-failures")
    args = p.parse_args()
    c = Cluster(args.batonctl, args.workdir)
    try:
        for i in range(1, N + 1):
            c.start(i, bootstrap=True)
        c.expect(c.wait_voting(range(1, N + 1)), "5 members up")
        rc, doc = c.reconfigure([1, 2, 3])
        c.expect(rc == 0 and doc.get("outcome") == "committed", "voters {1,2,3} committed")
        base = doc.get("epoch")

        # ---- old_majority_down
        c.stop(2)
        c.stop(3)
        rc, doc = c.reconfigure([1, 4, 5], member=1)
        c.expect(rc == 1 and doc.get("outcome") == "timed_out",
                 f"old majority down: timed_out after {doc.get('elapsed_ms')} ms, exit 1")
        c.expect(c.epochs([1, 4, 5]) == {1: base, 4: base, 5: base}, f"nothing changed: still epoch {base}")
        c.start(2)
        c.start(3)
        c.expect(c.wait_voting([2, 3]), "members 2 and 3 back")

        # ---- new_majority_down
        c.stop(4)
        c.stop(5)
        rc, doc = c.reconfigure([1, 4, 5], member=1)
        c.expect(rc == 1 and doc.get("outcome") == "timed_out" and doc.get("new_voters") == [1, 4, 5],
                 f"new majority down: timed_out after {doc.get('elapsed_ms')} ms at the joint record, exit 1")
        joint = doc.get("epoch")  # the newest record the run committed: the joint one
        # The final record {1,4,5} (joint + 1) went to the old voters too, but only a majority of {1,4,5}
        # commits it: members 1-3 hold it uncommitted, and leases need a majority of {1,4,5}.
        held = c.epochs([1, 2, 3])
        c.expect(set(held.values()) <= {joint, joint + 1} and joint + 1 in held.values(),
                 f"members 1-3 hold the joint record {joint} or the uncommitted final one: {held}")
        arc = c.acquire_client("held-under-joint")
        c.expect(arc == 3, f"a client's acquire fails under the joint record with 4 and 5 down (exit {arc})")
        c.start(4)
        c.start(5)
        c.expect(c.wait_voting([4, 5]), "members 4 and 5 back")
        rc, doc = c.reconfigure([1, 2, 3], member=2)
        c.expect(rc == 0 and doc.get("outcome") == "committed" and doc.get("voters") == [1, 2, 3]
                 and doc.get("epoch") == joint + 3,
                 f"the next change finished the half-done one ({joint} -> {joint + 1}: {{1,4,5}}), then made its own "
                 f"(-> {doc.get('epoch')}) in {doc.get('elapsed_ms')} ms")
        arc = c.acquire_client("after-repair")
        c.expect(arc == 0, f"a client acquires again (exit {arc})")

        # ---- superseded
        racers = [c.reconfigure([2, 3, 4], member=2, wait=False), c.reconfigure([3, 4, 5], member=3, wait=False)]
        outcomes = [c.finish(pr, v) for pr, v in zip(racers, ([2, 3, 4], [3, 4, 5]))]
        kinds = sorted(d.get("outcome") for _, d in outcomes)
        # The loser is superseded (its run started, then met the winner's higher ballot), or refused
        # when the winner's joint record (a new epoch) reached it before its request did.
        loser = next((d for _, d in outcomes if d.get("outcome") != "committed"), {})
        c.expect(sorted(rc for rc, _ in outcomes) == [0, 1] and kinds.count("committed") == 1 and
                 (loser.get("outcome") == "superseded" or
                  (loser.get("outcome") == "refused" and "the configuration moved on" in loser.get("detail", ""))),
                 f"two drivers at once: one committed, the other {loser.get('outcome')}: {loser.get('detail')}")
        winner = next(d for _, d in outcomes if d.get("outcome") == "committed")
        voters = winner["voters"]

        # ---- driver_crash: kill the driver while its joint record is out (phase 2 waits 1 s).
        target = [1, 2, 3]
        before = c.epochs(voters)[voters[0]]
        driver = voters[0]
        pr = c.reconfigure(target, member=driver, timeout_ms=4000, wait=False)
        deadline = time.monotonic() + 5
        seen_joint = False
        while time.monotonic() < deadline and not seen_joint:
            seen_joint = any(e == before + 1 for e in c.epochs([v for v in voters if v != driver]).values())
        c.stop(driver, signal.SIGKILL)
        c.log(f"SIGKILL member {driver} (the driver) {'with the joint record out' if seen_joint else 'TOO LATE'}")
        c.expect(seen_joint, "the driver was killed mid-change (joint record seen at a voter)")
        rc, doc = c.finish(pr, target)
        c.expect(rc == 1, "batonctl got no outcome from the killed driver (exit 1)")
        other = next(v for v in target if v != driver)
        rc, doc = c.reconfigure(target, member=other)
        c.expect(rc == 0 and doc.get("outcome") == "committed" and doc.get("voters") == target,
                 f"member {other} finished the change to {target} (epoch {doc.get('epoch')}, {doc.get('elapsed_ms')} ms)")
        c.start(driver)
        c.expect(c.wait_voting([driver]), f"member {driver} restarted from its state directory")
        final = doc.get("epoch")
        c.expect(all(e == final for e in c.epochs(target).values()), f"voters {target} at epoch {final}")
        arc = c.acquire_client("after-crash")
        c.expect(arc == 0, f"a client acquires after the crash and repair (exit {arc})")
    finally:
        torture_run.kill_all(c.procs)
    if c.failures:
        print(f"reconfig_failures.py: FAILED ({len(c.failures)}): " + "; ".join(c.failures), flush=True)
        return 1
    print(f"reconfig_failures.py: ok in {time.monotonic() - c.start_time:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
