# SPDX-License-Identifier: Apache-2.0
"""What faults.py and netns_faults.py do alike once their faults are over:
wait for the members, stop the register, run the history checker, and show
each member's last words; and the local cluster setup of pause_heal.py and
pause_contend.py. Imported by them (they run from this directory)."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def free_ports(n):
    """n UDP ports on 127.0.0.1 that were free a moment ago."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def local_cluster(batonctl, workdir, n):
    """A fresh `workdir` with a cluster key, and a --members list of n members
    on free loopback ports: (members, key file). pause_heal.py and
    pause_contend.py start their members from these."""
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    ports = free_ports(n)
    members = ",".join(f"{i}=127.0.0.1:{ports[i - 1]}" for i in range(1, n + 1))
    key = os.path.join(workdir, "cluster.key")
    with open(key, "w") as f:
        f.write(subprocess.run([batonctl, "keygen"], capture_output=True, text=True, check=True).stdout)
    return members, key


def kill_all(procs):
    """SIGKILLs every process group still running (continuing a stopped one first) and reaps it."""
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGCONT)
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()


def wait_members(procs, register, deadline, work):
    """Waits for every member process until `deadline` (time.monotonic()), then
    stops the register. 1 (with a message) if a member is late or failed."""
    for i, p in procs.items():
        try:
            rc = p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"member {i} did not finish by the deadline", flush=True)
            return 1
        if rc != 0:
            print(f"member {i} exited {rc}; see {work}/member-{i}.log", flush=True)
            return 1
    register.send_signal(signal.SIGTERM)
    register.wait(timeout=10)
    return 0


def check_histories(work, n):
    """Runs check_history.py over members 1..n's histories and the register's log."""
    histories = [os.path.join(work, f"history-{i}.jsonl") for i in range(1, n + 1)]
    cmd = [sys.executable, os.path.join(HERE, "check_history.py"), "--register",
           os.path.join(work, "register.jsonl"), "--expect-nodes", ",".join(str(i) for i in range(1, n + 1)),
           "--min-life-s", "3", "--min-acquires", "1", *histories]
    return subprocess.call(cmd)


def print_member_summaries(work, n):
    """Each member's `torture done` line and any error, from its log."""
    for i in range(1, n + 1):
        with open(os.path.join(work, f"member-{i}.log"), errors="replace") as f:
            for line in f:
                if "torture done" in line or "error" in line:
                    print(f"member {i}: {line.rstrip()}")
