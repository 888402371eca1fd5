#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Network-fault test: 5 batonctl torture members, each in its own network
namespace, joined by a bridge in a sixth namespace; nftables rules in the
bridge namespace inject a partition, random loss and duplication; then
check_history.py checks the histories and the register log.

usage: netns_faults.py --batonctl PATH [--duration S] [--workdir DIR] [--seed N]

Topology (all names unique per run, P = this driver's pid):
  baton-P-br   bridge br0 with 10.250.0.254/24; the fenced register listens
               there. Nothing in it routes anywhere: the namespaces have only
               lo and their veths, so no traffic leaves them.
  baton-P-n1..n5  member i at 10.250.0.i/24 on eth0, whose peer vp<i> is a
               port of br0.

Faults (table `bridge baton`, hook forward, i.e. member-to-member datagrams):
  partition    members {a, b} cannot reach the other three, both ways; then
               heal. The minority cannot win a majority while it lasts.
  loss         `numgen random mod 100 < N drop` on UDP between members.
  duplication  table `netdev baton_dup`: on ingress of each bridge port,
               `numgen random mod 100 < N dup to "br0"`: the copy is sent out
               through the bridge device, which forwards it to the
               destination's port, so the receiver gets the datagram twice
               (Baton counts the second as `replayed`). This is nftables'
               netdev `dup`, no netem needed. If the kernel refuses the rule,
               the sub-case is skipped with a message.
The last seconds are fault-free, so every member ends connected.

Skips (exit 77) when not root, when nft is missing, or when `ip netns add`
fails. Every namespace is deleted in a finally (also on failure or SIGTERM);
this removes the veths, the bridge and the nft tables that live inside them.
The driver then checks `ip netns list` for leftovers of this run.
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

SKIP = 77
N = 5
TTL_MS = 300
HOLD_MS = 60
LONG_HOLD_MS = 450
RESOURCES = 3
SUBNET = "10.250.0"
PORT = 7101
REGISTER_PORT = 7200


def sh(argv, check=True, input=None):
    r = subprocess.run(argv, capture_output=True, text=True, input=input)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({r.returncode}): {r.stderr.strip()}")
    return r


def ns_list():
    r = sh(["ip", "netns", "list"], check=False)
    return [line.split()[0] for line in r.stdout.splitlines() if line.strip()]


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def remove_stale():
    """Namespaces left by an earlier run that died without its finally (SIGKILL)."""
    for ns in ns_list():
        parts = ns.split("-")
        if len(parts) == 3 and parts[0] == "baton" and parts[1].isdigit() and not pid_alive(int(parts[1])):
            for p in sh(["ip", "netns", "pids", ns], check=False).stdout.split():
                try:
                    os.kill(int(p), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            sh(["ip", "netns", "del", ns], check=False)
            print(f"netns_faults.py: removed stale namespace {ns}", flush=True)


class Net:
    def __init__(self):
        self.prefix = f"baton-{os.getpid()}-"
        self.br = self.prefix + "br"
        self.nodes = {i: f"{self.prefix}n{i}" for i in range(1, N + 1)}
        self.created = []
        self.dup_ok = None

    def add_ns(self, name):
        sh(["ip", "netns", "add", name])
        self.created.append(name)
        sh(["ip", "-n", name, "link", "set", "lo", "up"])

    def setup(self):
        self.add_ns(self.br)
        sh(["ip", "-n", self.br, "link", "add", "br0", "type", "bridge"])
        sh(["ip", "-n", self.br, "addr", "add", f"{SUBNET}.254/24", "dev", "br0"])
        sh(["ip", "-n", self.br, "link", "set", "br0", "up"])
        for i, ns in self.nodes.items():
            self.add_ns(ns)
            sh(["ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", f"vp{i}", "netns", self.br])
            sh(["ip", "-n", self.br, "link", "set", f"vp{i}", "master", "br0"])
            sh(["ip", "-n", self.br, "link", "set", f"vp{i}", "up"])
            sh(["ip", "-n", ns, "addr", "add", f"{SUBNET}.{i}/24", "dev", "eth0"])
            sh(["ip", "-n", ns, "link", "set", "eth0", "up"])
        self.nft("add table bridge baton\n"
                 "add chain bridge baton filt { type filter hook forward priority 0; policy accept; }\n")
        # Wait until every link is up (no STP on br0: ports forward at once).
        deadline = time.monotonic() + 10
        links = [(self.br, "br0")] + [(self.br, f"vp{i}") for i in self.nodes] + [(ns, "eth0") for ns in self.nodes.values()]
        for ns, dev in links:
            while "LOWER_UP" not in sh(["ip", "-n", ns, "link", "show", dev], check=False).stdout:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{dev} in {ns} is not up")
                time.sleep(0.05)

    def nft(self, script, check=True):
        return sh(["ip", "netns", "exec", self.br, "nft", "-f", "-"], check=check, input=script)

    def flush(self):
        self.nft("flush chain bridge baton filt\n")
        if self.dup_ok:
            self.nft("delete table netdev baton_dup\n", check=False)

    def partition(self, side_a):
        a = ", ".join(f"{SUBNET}.{i}" for i in side_a)
        b = ", ".join(f"{SUBNET}.{i}" for i in self.nodes if i not in side_a)
        self.nft(f"add rule bridge baton filt ip saddr {{ {a} }} ip daddr {{ {b} }} counter drop\n"
                 f"add rule bridge baton filt ip saddr {{ {b} }} ip daddr {{ {a} }} counter drop\n")

    def loss(self, pct):
        self.nft(f"add rule bridge baton filt meta l4proto udp numgen random mod 100 < {pct} counter drop\n")

    def duplicate(self, pct):
        script = "add table netdev baton_dup\n"
        for i in self.nodes:
            script += (f"add chain netdev baton_dup in{i} {{ type filter hook ingress device vp{i} priority 0; }}\n"
                       f"add rule netdev baton_dup in{i} ip daddr {SUBNET}.1-{SUBNET}.{N} meta l4proto udp "
                       f"numgen random mod 100 < {pct} counter dup to \"br0\"\n")
        r = self.nft(script, check=False)
        self.dup_ok = r.returncode == 0
        if not self.dup_ok:
            self.nft("delete table netdev baton_dup\n", check=False)
            return r.stderr.strip()
        return None

    def counters(self):
        out = self.nft("list ruleset\n", check=False).stdout
        return " | ".join(line.strip() for line in out.splitlines() if "counter packets" in line)

    def teardown(self):
        for ns in reversed(self.created):
            for p in sh(["ip", "netns", "pids", ns], check=False).stdout.split():
                try:
                    os.kill(int(p), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            sh(["ip", "netns", "del", ns], check=False)
        self.created = []
        left = [ns for ns in ns_list() if ns.startswith(self.prefix)]
        if left:
            print(f"netns_faults.py: namespaces left behind: {left}", flush=True)
            return False
        return True


class Run:
    def __init__(self, args, net):
        self.args = args
        self.net = net
        self.rng = random.Random(args.seed)
        self.work = args.workdir
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work)
        self.members = ",".join(f"{i}={SUBNET}.{i}:{PORT}" for i in range(1, N + 1))
        self.register_addr = f"{SUBNET}.254:{REGISTER_PORT}"
        self.key = os.path.join(self.work, "cluster.key")
        with open(self.key, "w") as f:
            f.write(subprocess.check_output([args.batonctl, "keygen"], text=True))
        self.procs = {}
        self.all_procs = []
        self.start = time.monotonic()
        self.end = self.start + args.duration
        self.dup_replayed = None

    def log(self, text):
        print(f"[{time.monotonic() - self.start:6.2f}s] {text}", flush=True)

    def spawn(self, ns, argv, logname):
        f = open(os.path.join(self.work, logname), "ab")
        p = subprocess.Popen(["ip", "netns", "exec", ns] + argv, stdout=f, stderr=subprocess.STDOUT, cwd=self.work,
                             start_new_session=True)
        f.close()
        self.all_procs.append(p)
        return p

    def start_all(self):
        self.register = self.spawn(self.net.br, [self.args.batonctl, "register", "--listen", self.register_addr,
                                                 "--log", os.path.join(self.work, "register.jsonl")], "register.log")
        for i in range(1, N + 1):
            argv = [self.args.batonctl, "torture", "--members", self.members, "--id", str(i), "--key-file", self.key,
                    "--resources", str(RESOURCES), "--ttl-ms", str(TTL_MS),
                    "--hold-ms", str(LONG_HOLD_MS if i <= 2 else HOLD_MS),
                    "--duration-s", str(int(self.args.duration)),
                    "--history", os.path.join(self.work, f"history-{i}.jsonl"),
                    "--register", self.register_addr, "--incarnation", "1",
                    "--seed", str(self.rng.getrandbits(63)), "--state-dir", os.path.join(self.work, f"state-{i}"),
                    "--bootstrap"]  # the cluster's first (and only) start: no member restarts here
            self.procs[i] = self.spawn(self.net.nodes[i], argv, f"member-{i}.log")

    def sleep(self, s):
        time.sleep(max(0.0, min(s, self.end - time.monotonic())))

    def drive(self):
        d = self.args.duration
        phase = (d - 6.0) / 3  # 2 s quiet start, 3 fault phases with a heal each, 4 s clean end
        self.sleep(2.0)
        minority = sorted(self.rng.sample(range(1, N + 1), 2))
        self.net.partition(minority)
        self.log(f"partition: {minority} | {[i for i in range(1, N + 1) if i not in minority]}")
        self.hold_then_heal(phase)
        pct = self.rng.choice([10, 20, 30])
        self.net.loss(pct)
        self.log(f"loss {pct}% of member-to-member UDP")
        self.hold_then_heal(phase)
        pct = self.rng.choice([20, 50])
        err = self.net.duplicate(pct)
        if err:
            self.log(f"duplication SKIPPED: the kernel refused netdev `dup to`: {err}")
        else:
            self.log(f"duplicate {pct}% of member-to-member UDP")
        self.sleep(phase * 0.7)
        if not err:
            self.log(f"counters: {self.net.counters()}")
            self.dup_replayed = self.replayed()
            self.log(f"members' `replayed` drops so far (batonctl status): {self.dup_replayed}")
        self.net.flush()
        self.log("heal; fault-free until the end")

    def hold_then_heal(self, phase):
        """Keeps the current fault for 70% of `phase`, then heals for the rest."""
        self.sleep(phase * 0.7)
        self.log(f"counters: {self.net.counters()}")
        self.net.flush()
        self.log("heal")
        self.sleep(phase * 0.3)

    def replayed(self):
        """Sum of the members' `replayed` drops, asked with `batonctl status` from the bridge namespace
        (None if no member answered)."""
        r = subprocess.run(["ip", "netns", "exec", self.net.br, self.args.batonctl, "status", "--members",
                            self.members, "--key-file", self.key, "--json", "--timeout-ms", "300"],
                           capture_output=True, text=True)
        try:
            members = [m for m in json.loads(r.stdout)["members"] if m.get("reachable")]
        except (ValueError, KeyError):
            return None
        if not members:
            return None
        return sum(m.get("drops", {}).get("replayed", 0) for m in members)

    def cleanup(self):
        for p in self.all_procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()

    def run(self):
        try:
            self.start_all()
            self.drive()
            if torture_run.wait_members(self.procs, self.register, self.end + 15, self.work):
                return 1
        finally:
            self.cleanup()
        rc = torture_run.check_histories(self.work, N)
        if self.net.dup_ok and self.dup_replayed == 0:
            print("netns_faults.py: FAIL: duplication was on, yet no member counted a replayed datagram", flush=True)
            rc = 1
        torture_run.print_member_summaries(self.work, N)
        return rc


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batonctl", required=True)
    p.add_argument("--duration", type=float, default=24)
    p.add_argument("--workdir", default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--opt-in", action="store_true", help="run only when BATON_NETNS=1 (else exit 77: skipped)")
    args = p.parse_args()
    if args.opt_in and os.environ.get("BATON_NETNS") != "1":
        print("netns_faults.py: SKIPPED: opt-in test, set BATON_NETNS=1 to run it")
        return SKIP
    if os.geteuid() != 0:
        print("netns_faults.py: SKIPPED: needs root (network namespaces and nftables)")
        return SKIP
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            print(f"netns_faults.py: SKIPPED: `{tool}` not found (apt-get install nftables iproute2)")
            return SKIP
    remove_stale()
    probe = f"baton-{os.getpid()}-probe"
    r = sh(["ip", "netns", "add", probe], check=False)
    if r.returncode != 0:
        print(f"netns_faults.py: SKIPPED: `ip netns add` failed here: {r.stderr.strip()}")
        return SKIP
    try:
        # nf_tables with the bridge family, inside a namespace of our own.
        r = sh(["ip", "netns", "exec", probe, "nft", "add table bridge probe"], check=False)
        if r.returncode != 0:
            print(f"netns_faults.py: SKIPPED: nftables (bridge family) unusable here: {r.stderr.strip()}")
            return SKIP
    finally:
        sh(["ip", "netns", "del", probe], check=False)
    args.batonctl = os.path.abspath(args.batonctl)
    if args.seed is None:
        args.seed = random.SystemRandom().getrandbits(32)
    if args.workdir is None:
        args.workdir = os.path.join(os.getcwd(), "multiproc-netns")
    print(f"netns_faults.py: seed {args.seed}, duration {args.duration}s, work {args.workdir}", flush=True)

    net = Net()
    run = None

    def on_term(signum, frame):
        raise SystemExit(1)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    rc = 1
    try:
        net.setup()
        run = Run(args, net)
        rc = run.run()
    finally:
        if run is not None:
            run.cleanup()
        clean = net.teardown()
        print(f"netns_faults.py: cleanup {'ok' if clean else 'INCOMPLETE'}; ip netns list: "
              f"{[ns for ns in ns_list() if ns.startswith('baton-')] or 'no baton-* namespaces'}", flush=True)
        if not clean and rc == 0:
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
