#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""batonctl's command line as processes see it: --help on every subcommand,
exit code 2 and a clear message for bad flags and bad keys, keygen, node
stopping cleanly on SIGTERM, acquire's exit codes (0 acquired, 3 not), status
as a table and as JSON, and a member with the wrong key ignored and reported
(bad_auth) by the others. State directories (issue 19): a missing one is
refused without --bootstrap, a second process on one is refused naming the
holder's pid, and status says why a member is quarantined. Clients (issue
21): acquire, bench, torture and shell take --client instead of --id (both
together, or member-only flags, are refused naming them; node has no
--client), and acquire, bench and torture run as clients of the members,
their histories checked like the members'. node --config (issue 22): a TOML
file plus the environment; other member flags and bad files refused."""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import torture_run

FAILURES = []


def check(cond, what, detail=""):
    print(f"{'ok  ' if cond else 'FAIL'} {what}")
    if not cond:
        FAILURES.append(what)
        if detail:
            print("     " + detail.replace("\n", "\n     "))


def check_prometheus(r, members, up):
    """`r` is status --prometheus over `members` of which `up` answer: every family has # HELP and # TYPE
    before its samples, names and labels are valid, each sample parses, baton_member_up has one sample per
    member (1 for those up), and every other family has one sample per reachable member (per reason for
    drops). Exit 1 when some member is down."""
    name_re = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*$")
    sample_re = re.compile(r'([a-zA-Z_:][a-zA-Z0-9_:]*)\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*)\} (\S+)$')
    types, samples, problems = {}, {}, []
    for line in r.stdout.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            if not name_re.match(name) or kind not in ("gauge", "counter") or name in types:
                problems.append(line)
            types[name] = kind
            continue
        m = sample_re.match(line)
        if not m or m.group(1) not in types:
            problems.append(line)
            continue
        float(m.group(3))
        labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2)))
        samples.setdefault(m.group(1), []).append((labels, float(m.group(3))))
    ups = {int(l["member"]): v for l, v in samples.get("baton_member_up", [])}
    per_member_ok = all(
        sorted(int(l["member"]) for l, _ in rows) == sorted(up) for n, rows in samples.items()
        if n not in ("baton_member_up", "baton_member_drops_total"))
    drops = samples.get("baton_member_drops_total", [])
    check(not problems and len(types) >= 9 and ups == {i: (1.0 if i in up else 0.0) for i in members}
          and len(samples["baton_member_up"]) == len(members) and per_member_ok
          and types.get("baton_member_drops_total") == "counter"
          and {l["reason"] for l, _ in drops} >= {"bad_auth", "replayed"}
          and len(drops) % len(up) == 0 and r.returncode == (0 if set(members) == up else 1),
          "status --prometheus: valid exposition format, one sample per member", "\n".join(problems) + r.stdout)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batonctl", required=True)
    p.add_argument("--workdir", required=True)
    args = p.parse_args()
    B = os.path.abspath(args.batonctl)
    work = args.workdir
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    procs = []

    def run(*argv, timeout=30):
        # A command that outlives `timeout` is killed and reads as exit code None (a failed check, not a crash).
        try:
            return subprocess.run([B, *argv], capture_output=True, text=True, cwd=work, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            text = lambda b: b.decode(errors="replace") if isinstance(b, bytes) else (b or "")
            return subprocess.CompletedProcess(e.cmd, None, text(e.stdout), text(e.stderr) + "\n(timed out)")

    def spawn(*argv, log):
        f = open(os.path.join(work, log), "wb")
        pr = subprocess.Popen([B, *argv], stdout=f, stderr=subprocess.STDOUT, cwd=work, start_new_session=True)
        procs.append(pr)
        return pr

    try:
        # --help everywhere, exit 0; usage errors exit 2.
        for cmd in ["keygen", "node", "acquire", "status", "reconfigure", "torture", "register", "bench", "shell"]:
            r = run(cmd, "--help")
            check(r.returncode == 0 and f"usage: batonctl {cmd}" in r.stdout, f"{cmd} --help")
            r = run(cmd, "--no-such-flag")
            check(r.returncode == 2 and "unknown flag '--no-such-flag'" in r.stderr, f"{cmd}: unknown flag exits 2",
                  r.stderr)
        r = run("--help")
        check(r.returncode == 0 and "commands:" in r.stdout and r.stdout.startswith("Usage: batonctl "),
              "batonctl --help (help2man reads it: Usage: first)")
        # help2man reads the version from the first line: name, package, version.
        r = run("--version")
        check(r.returncode == 0 and re.fullmatch(r"batonctl \(Baton\) \d+\.\d+\.\d+\n", r.stdout) is not None,
              "batonctl --version prints one line: batonctl (Baton) X.Y.Z", r.stdout)
        r = run("frobnicate")
        check(r.returncode == 2 and "unknown command" in r.stderr, "unknown command exits 2")
        r = run()
        check(r.returncode == 2, "no command exits 2")
        r = run("node", "--id", "1")
        check(r.returncode == 2 and "--members is required" in r.stderr, "node without --members", r.stderr)
        r = run("node", "--members", "1=127.0.0.1:1", "--id", "2")
        check(r.returncode == 2 and "not one of --members" in r.stderr, "--id not a member", r.stderr)
        r = run("node", "--members", "1=localhost:7101", "--id", "1")
        check(r.returncode == 2 and "numeric" in r.stderr, "non-numeric host", r.stderr)
        r = run("node", "--members", "1=127.0.0.1:7101", "--id", "x")
        check(r.returncode == 2 and "not a non-negative integer" in r.stderr, "non-numeric id", r.stderr)
        r = run("node", "--members", "1=127.0.0.1:7101", "--id", "1", "--rho", "0.5")
        check(r.returncode == 2 and "--rho" in r.stderr, "rho out of range", r.stderr)
        r = run("torture", "--members", "1=127.0.0.1:7101", "--id", "1")
        check(r.returncode == 2 and "--history is required" in r.stderr, "torture without --history", r.stderr)
        r = run("acquire", "--members", "1=127.0.0.1:7101", "--id", "1")
        check(r.returncode == 2 and "RESOURCE" in r.stderr, "acquire without RESOURCE", r.stderr)
        r = run("shell", "--members", "1=127.0.0.1:7101", "--id", "1", "seat")
        check(r.returncode == 2 and "no positional arguments" in r.stderr, "shell with a positional exits 2", r.stderr)

        # The parser is CLI11 (issue 22): --version and --help at the top level (help2man reads both), and
        # every bad flag named with the value at fault, exit 2.
        # (--version's one line is checked above.)
        r = run("--help")
        check(all(c in r.stdout for c in ["Usage: batonctl <command>", "keygen", "status", "--version",
                                           "exit codes:"]), "batonctl --help lists the commands, --version, exit codes",
              r.stdout)
        r = run("help")
        check(r.returncode == 0 and r.stdout.startswith("Usage: batonctl "), "batonctl help is --help", r.stdout)
        r = run("--frob")
        check(r.returncode == 2 and "unknown flag '--frob'" in r.stderr, "an unknown top-level flag exits 2", r.stderr)
        r = run("help")
        check(r.returncode == 0 and "commands:" in r.stdout, "batonctl help")
        r = run("node", "--help")
        check(r.returncode == 0 and all(f in r.stdout for f in ["--members", "--id", "--rho", "--config", "--help"]),
              "node --help lists its flags", r.stdout)
        m1 = ["--members", "1=127.0.0.1:7101"]
        for argv, want, what in [
                (["node", *m1, "--id", "-1"], "--id: '-1' is not a non-negative integer", "a negative --id"),
                (["node", *m1, "--id", "0"], "--id: 0 is outside [1, 2147483647]", "--id 0"),
                (["node", *m1, "--id", "1", "--rho", "nan"], "--rho: 'nan' is not a number", "--rho nan"),
                (["node", *m1, "--id", "1", "--rho", "0.5"], "--rho: 0.5 is outside [1e-06, 0.1]", "--rho 0.5"),
                (["node", *m1, "--id", "1", "--id", "1"], "--id", "--id given twice"),
                (["node", *m1, "--id", "1", "--bootstrap", "--bootstrap"], "--bootstrap", "--bootstrap given twice"),
                (["node", *m1, "--id"], "--id", "--id without its value"),
                (["node", "--members", "127.0.0.1:7101", "--id", "1"], "--members: ", "--members without ids"),
                (["node", *m1, "--id=1", "--frob=3"], "unknown flag '--frob'", "--frob=3"),
                (["acquire", *m1, "--id", "1", "--ttl-ms", "90000", "seat"],
                 "--ttl-ms 90000 is above --ttl-max-ms 60000", "--ttl-ms above --ttl-max-ms, both values named"),
                (["status", *m1, "--json", "--prometheus"], "--json and --prometheus exclude each other",
                 "status --json --prometheus"),
        ]:
            r = run(*argv)
            check(r.returncode == 2 and want in r.stderr, f"{what}: exit 2 naming it", r.stderr)
        # reconfigure (issue 21 step 4): every bad flag named with its value, exit 2, before any datagram.
        m2 = ["--members", "1=127.0.0.1:7101,2=127.0.0.1:7102"]
        for argv, want, what in [
                (["reconfigure", *m2], "--voters is required", "reconfigure without --voters"),
                (["reconfigure", *m2, "--voters", ""], "--voters is required", "reconfigure --voters ''"),
                (["reconfigure", *m2, "--voters", "1,x"], "--voters: 'x' is not a member id", "--voters 1,x"),
                (["reconfigure", *m2, "--voters", "0"], "--voters: '0' is not a member id", "--voters 0"),
                (["reconfigure", *m2, "--voters", "1,,2"], "--voters: '' is not a member id", "--voters 1,,2"),
                (["reconfigure", *m2, "--voters", "1,9"], "--voters: 9 is not one of --members", "--voters 1,9"),
                (["reconfigure", *m2, "--voters", "2,1,2"], "--voters: 2 is listed twice", "--voters 2,1,2"),
                (["reconfigure", *m2, "--voters", "1", "--member", "3"], "--member 3 is not one of --members",
                 "--member 3"),
                (["reconfigure", *m2, "--voters", "1", "--interval-ms", "5"], "--interval-ms: 5 is outside [10, 10000]",
                 "--interval-ms 5"),
                (["reconfigure", *m2, "--voters", "1", "--timeout-ms", "0"], "--timeout-ms: 0 is outside",
                 "--timeout-ms 0"),
                (["reconfigure", "--voters", "1"], "--members is required", "reconfigure without --members"),
                (["reconfigure", *m2, "--voters", "1", "extra"], "unexpected argument 'extra'", "a positional"),
        ]:
            r = run(*argv)
            check(r.returncode == 2 and want in r.stderr, f"{what}: exit 2 naming it", r.stderr)
        r = run("reconfigure", "--members", "1=127.0.0.1:9", "--voters", "1", "--timeout-ms", "300")
        check(r.returncode == 1 and "no member answered" in r.stderr, "reconfigure: nobody answers, exit 1", r.stderr)

        r = run("acquire", *m1, "--id", "1", "--ttl-ms", "010", "--ttl-min-ms", "20", "seat")
        check(r.returncode == 2 and "--ttl-ms 10 is below --ttl-min-ms 20" in r.stderr,
              "--ttl-ms 010 reads as decimal 10, not octal", r.stderr)
        # "--" ends the flags: what follows is positional, even when it looks like a flag.
        r = run("acquire", *m1, "--id", "1", "--", "--seat", "--other")
        check(r.returncode == 2 and "exactly one RESOURCE" in r.stderr, "acquire -- --seat --other: two RESOURCEs",
              r.stderr)

        # --client instead of --id: both together are refused, naming both flags, before anything starts.
        one = ["--members", "1=127.0.0.1:7101"]
        for cmd, extra in [("acquire", ["seat"]), ("bench", []), ("torture", ["--history", "never.jsonl"]),
                           ("shell", [])]:
            r = run(cmd, *one, "--client", "--id", "3", *extra)
            check(r.returncode == 2 and "--client and --id exclude each other" in r.stderr,
                  f"{cmd} --client --id 3 exits 2 naming both flags", r.stderr)
            r = run(cmd, "--help")
            check("--client" in r.stdout and "(--id N | --client)" in r.stdout, f"{cmd} --help shows --client")
        r = run("acquire", *one, "seat")
        check(r.returncode == 2 and "--id is required (or --client" in r.stderr, "acquire without --id or --client",
              r.stderr)
        for flag in (["--state-dir", "x"], ["--bootstrap"], ["--clients-max", "5"]):
            r = run("acquire", *one, "--client", *flag, "seat")
            check(r.returncode == 2 and f"--client and {flag[0]} exclude each other" in r.stderr,
                  f"acquire --client {flag[0]} exits 2", r.stderr)
        r = run("node", *one, "--client")
        check(r.returncode == 2 and "unknown flag '--client'" in r.stderr, "node is member-only: no --client", r.stderr)
        check(not os.path.exists(os.path.join(work, "never.jsonl")), "a refused torture --client wrote no history")

        # keygen: 64 hex characters, fresh every time.
        k1, k2 = run("keygen").stdout, run("keygen").stdout
        check(len(k1.strip()) == 64 and all(c in "0123456789abcdef" for c in k1.strip()) and k1 != k2,
              "keygen prints a fresh 64-hex key")
        key = os.path.join(work, "cluster.key")
        with open(key, "w") as f:
            f.write("\n  " + k1.strip() + "  \n\n")  # surrounding whitespace is ignored
        wrong_key = os.path.join(work, "wrong.key")
        with open(wrong_key, "w") as f:
            f.write(k2)
        for name, text, expect in [("short", k1.strip()[:63], "64 hex characters"),
                                   ("not hex", "zz" + k1.strip()[2:], "is not hex"),
                                   ("inner space", k1.strip()[:30] + " " + k1.strip()[31:], "is not hex")]:
            bad = os.path.join(work, "bad.key")
            with open(bad, "w") as f:
                f.write(text)
            r = run("status", "--members", "1=127.0.0.1:9", "--key-file", bad)
            check(r.returncode == 2 and expect in r.stderr, f"bad key file ({name}) exits 2", r.stderr)
        r = run("status", "--members", "1=127.0.0.1:9", "--key-file", os.path.join(work, "missing.key"))
        check(r.returncode == 2 and "cannot read" in r.stderr, "missing key file exits 2", r.stderr)

        # node --config (issue 22): the file plus BATON_SELF/BATON_KEY_FILE from the environment; other
        # member flags are refused naming them, and a bad file names its line, key and value.
        cfg_port = torture_run.free_ports(1)[0]
        cfg = os.path.join(work, "node.toml")
        with open(cfg, "w") as f:
            f.write(f'members = [{{ id = 1, host = "127.0.0.1", port = {cfg_port} }}]\nbootstrap = true\n'
                    'ttl_max = "5s"\n')
        r = run("node", "--config", cfg, "--id", "1", "--rho", "0.02")
        check(r.returncode == 2 and "--config excludes --id, --rho" in r.stderr, "node --config --id exits 2 naming them",
              r.stderr)
        r = run("node", "--config", cfg)
        check(r.returncode == 2 and "self: missing" in r.stderr and "BATON_SELF" in r.stderr,
              "node --config without self (file or BATON_SELF) exits 2", r.stderr)
        bad_cfg = os.path.join(work, "bad.toml")
        with open(bad_cfg, "w") as f:
            f.write('self = 1\nttl_maxx = "5s"\n')
        r = run("node", "--config", bad_cfg)
        check(r.returncode == 2 and f"{bad_cfg}:2: ttl_maxx: unknown key" in r.stderr,
              "node --config: an unknown key exits 2 naming file, line and key", r.stderr)
        env = dict(os.environ, BATON_SELF="1", BATON_KEY_FILE=key)
        with open(os.path.join(work, "node-config.log"), "wb") as log:
            cfg_node = subprocess.Popen([B, "node", "--config", cfg], stdout=log, stderr=subprocess.STDOUT, cwd=work,
                                        env=env, start_new_session=True)
        procs.append(cfg_node)
        deadline = time.monotonic() + 10
        started = ""
        while time.monotonic() < deadline and cfg_node.poll() is None:
            with open(os.path.join(work, "node-config.log")) as f:
                started = f.read()
            if f"member running on port {cfg_port}" in started:
                break
            time.sleep(0.05)
        check(f"batonctl[1] info: member running on port {cfg_port}" in started and "NOT authenticated" not in started,
              "node --config runs member 1 (BATON_SELF) with the key (BATON_KEY_FILE)", started)
        cfg_node.send_signal(signal.SIGTERM)
        check(cfg_node.wait(timeout=20) == 0, "node --config exits 0 on SIGTERM")

        # A 3-member cluster (4 slots: member 4 is the acquirer).
        ports = torture_run.free_ports(4)
        members = ",".join(f"{i}=127.0.0.1:{ports[i - 1]}" for i in range(1, 5))
        three = ",".join(f"{i}=127.0.0.1:{ports[i - 1]}" for i in range(1, 4))

        # Without --bootstrap a missing state directory is refused, named, and not created.
        r = run("node", "--members", members, "--id", "1", "--key-file", key, "--ttl-max-ms", "5000", timeout=20)
        check(r.returncode == 1 and "state directory 'baton-state-1' does not exist" in r.stderr
              and "--bootstrap" in r.stderr and not os.path.exists(os.path.join(work, "baton-state-1")),
              "node: a missing state directory is refused without --bootstrap", r.stderr)

        # The cluster's first start: --bootstrap creates and initializes each state directory.
        nodes = [spawn("node", "--members", members, "--id", str(i), "--key-file", key, "--ttl-max-ms", "5000",
                       "--bootstrap", log=f"node-{i}.log") for i in (1, 2, 3)]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            r = run("status", "--members", three, "--key-file", key, "--timeout-ms", "200", "--attempts", "1")
            if r.returncode == 0:
                break
            time.sleep(0.2)
        check(r.returncode == 0 and r.stdout.count(" yes ") == 3, "status: three members reachable", r.stdout)
        # status --prometheus: the text exposition format, from the PONGs (no prometheus-cpp in batonctl).
        r = run("status", "--members", members, "--key-file", key, "--prometheus", "--timeout-ms", "300",
                "--attempts", "1")
        check_prometheus(r, members=[1, 2, 3, 4], up={1, 2, 3})
        with open(os.path.join(work, "baton-state-1", "floor")) as f:
            check(f.read() == "0\n", "--bootstrap wrote the initial floor")

        # A second process on member 1's state directory is refused before it touches it.
        r = run("node", "--members", members, "--id", "1", "--key-file", key, "--ttl-max-ms", "5000", timeout=20)
        check(r.returncode == 1 and f"state directory 'baton-state-1' is locked by another process (pid {nodes[0].pid})"
              in r.stderr, "node: a second process on one state directory is refused, naming the holder", r.stderr)
        r = run("status", "--members", members, "--key-file", key, "--json", "--timeout-ms", "300", "--attempts", "1")
        doc = json.loads(r.stdout)
        rows = {m["id"]: m for m in doc["members"]}
        check(r.returncode == 1 and not rows[4]["reachable"] and rows[1]["reachable"]
              and rows[1]["quarantined"] is False and "bad_auth" in rows[1]["drops"]
              and rows[1]["incarnation"] > 0 and rows[1]["rtt_us"] >= 0
              and rows[1]["cfg_epoch"] == 1 and rows[1]["cfg_ballot"] == 0,
              "status --json: fields (the initial configuration 1.0), member 4 unreachable, exit 1", r.stdout)

        # acquire: 0 when acquired (token and validity printed), 3 when not.
        holder = subprocess.Popen([B, "acquire", "--members", members, "--id", "4", "--key-file", key, "--bootstrap",
                                   "--ttl-max-ms", "5000", "--ttl-ms", "1000", "--wait-ms", "20000", "--hold-ms", "3000", "seat"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, cwd=work, start_new_session=True)
        procs.append(holder)
        first = holder.stdout.readline()
        check(first.startswith("acquired seat token=") and "validity_ms=" in first, "acquire prints the token", first)
        r = run("status", "--members", three, "--key-file", key, "--json")
        leases = sum(m["live_leases"] for m in json.loads(r.stdout)["members"])
        check(leases >= 2, "status shows the live lease at a majority of voters", r.stdout)
        # Member 3 cannot take it meanwhile (the node is stopped first: one process per member).
        nodes[2].send_signal(signal.SIGTERM)
        rc = nodes[2].wait(timeout=20)
        check(rc == 0, "node exits 0 on SIGTERM")
        r = run("acquire", "--members", members, "--id", "3", "--key-file", key, "--ttl-max-ms", "5000",
                "--ttl-ms", "1000", "seat", timeout=60)  # member 3's own state directory, free again
        check(r.returncode == 3 and "not acquired" in r.stdout, "acquire of a held resource exits 3",
              r.stdout + r.stderr)
        out, err = holder.communicate(timeout=60)
        check(holder.returncode == 0 and "released seat" in out, "holder renewed past its ttl and released",
              out + err)

        # A member with the wrong key is ignored, and the others say so.
        wrong = run("acquire", "--members", members, "--id", "3", "--key-file", wrong_key, "--ttl-max-ms", "5000",
                    "--ttl-ms", "1000", "other", timeout=60)
        check(wrong.returncode == 3, "a member with the wrong key gets no lease", wrong.stdout + wrong.stderr)
        r = run("status", "--members", three, "--key-file", key, "--json", "--attempts", "1", "--timeout-ms", "300")
        rows = {m["id"]: m for m in json.loads(r.stdout)["members"]}
        check(rows[1]["drops"]["bad_auth"] >= 1 and rows[2]["drops"]["bad_auth"] >= 1,
              "the others count the wrong key's datagrams as bad_auth", r.stdout)
        deadline = time.monotonic() + 10
        logged = False
        while time.monotonic() < deadline and not logged:
            with open(os.path.join(work, "node-1.log"), errors="replace") as f:
                logged = "bad_auth" in f.read()
            time.sleep(0.2)
        check(logged, "and log it")

        # bench: joins as member 4 (members 1 and 2 up: a majority of 4 with itself), with member 4's
        # state directory from the acquire above: quarantined for the stretched ttl_max (5 s; the
        # directory keeps the largest ttl_max member 4 voted under, so every start here passes the
        # same --ttl-max-ms), which the acquires' 10 s wait covers.
        r = run("bench", "--members", members, "--id", "4", "--key-file", key,
                "--ttl-max-ms", "5000", "--ttl-ms", "2000", "--ops", "300", "--concurrency", "8", "--resources", "16",
                "--json", timeout=90)
        doc = json.loads(r.stdout) if r.returncode == 0 and r.stdout.startswith("{") else {}
        check(doc.get("ops") == 300 and doc.get("errors") == 0 and doc.get("ops_per_s", 0) > 0
              and doc["acquire"]["n"] == 300 and 0 < doc["acquire"]["p50_us"] <= doc["acquire"]["p99_us"]
              and doc["acquire_release"]["p50_us"] >= doc["acquire"]["p50_us"] and "handoff" not in doc,
              "bench --json: ops, errors, ops_per_s and latencies", r.stdout + r.stderr)
        r = run("bench", "--members", members, "--id", "4", "--key-file", key,
                "--ttl-max-ms", "5000", "--ttl-ms", "2000", "--ops", "60", "--contenders", "3", "--hold-us", "500",
                "--json", timeout=90)
        doc = json.loads(r.stdout) if r.returncode == 0 and r.stdout.startswith("{") else {}
        check(doc.get("ops") == 60 and doc.get("errors") == 0 and doc.get("handoff", {}).get("n", 0) > 0,
              "bench --contenders: hand-offs between the waiting threads", r.stdout + r.stderr)
        r = run("bench", "--members", members, "--id", "4", "--concurrency", "0")
        check(r.returncode == 2 and "--concurrency" in r.stderr, "bench: bad --concurrency exits 2", r.stderr)
        r = run("bench", "--members", members, "--id", "4", "--concurrency", "4", "--contenders", "2")
        check(r.returncode == 2 and "exclude" in r.stderr, "bench: --concurrency with --contenders exits 2", r.stderr)

        # shell: member 4 again (quarantined up to 5 s: the acquire waits 10 s). Bad commands answer
        # invalid_argument, name what is wrong and change nothing.
        sh = subprocess.run([B, "shell", "--members", members, "--id", "4", "--key-file", key, "--ttl-max-ms", "5000"],
                            input="acquire seat 5\nfrobnicate seat\nacquire seat 1000 10000\nacquire seat 1000\n"
                                  "release seat\nrelease seat\nacquire " + "x" * 129 + "\nquit\n",
                            capture_output=True, text=True, cwd=work, timeout=60)
        answers = [json.loads(line) for line in sh.stdout.splitlines() if line.startswith("{")]
        ops = [(a.get("op"), a.get("ok"), a.get("error")) for a in answers]
        check(sh.returncode == 0 and ops == [("ready", None, None), ("acquire", False, "invalid_argument"),
                                              ("frobnicate", False, "invalid_argument"), ("acquire", True, None),
                                              ("acquire", False, "invalid_argument"), ("release", True, None),
                                              ("release", False, "invalid_argument"),
                                              ("acquire", False, "invalid_argument")]
              and "TTL_MS '5' must be a whole number in [10, 5000]" in answers[1].get("what", "")
              and answers[3].get("token", 0) > 0 and answers[3].get("latency_us", -1) >= 0
              and "already holds it" in answers[4].get("what", ""),
              "shell: one JSON answer per command, bad ones invalid_argument", sh.stdout + sh.stderr)

        # Member 3 restarted diskless without --bootstrap: it says it recovers from peers and what
        # to do, and status says why it is quarantined until its quarantine ends and peers answered.
        diskless = spawn("node", "--members", members, "--id", "3", "--key-file", key, "--ttl-max-ms", "5000",
                         "--no-state", log="node-3-diskless.log")
        nodes.append(diskless)
        time.sleep(0.5)
        r = run("status", "--members", three, "--key-file", key, "--attempts", "3", "--timeout-ms", "500")
        table = r.stdout.split("voting configuration")[0]  # the member table, not the fingerprint lines
        row3 = [line for line in table.splitlines() if line.startswith("3 ")]
        check(len(row3) == 1 and "restart quarantine," in row3[0] and "s left, then floor answers from peers (0 of 2"
              in row3[0], "status: why member 3 is quarantined (table)", r.stdout)
        r = run("status", "--members", three, "--key-file", key, "--json", "--attempts", "3", "--timeout-ms", "500")
        rows = {m["id"]: m for m in json.loads(r.stdout)["members"]} if r.stdout.startswith("{") else {}
        m3 = rows.get(3, {})
        check(m3.get("quarantined") is True and m3.get("start") == "peers" and 0 < m3.get("quarantine_left_ms", 0) <= 5102
              and m3.get("floor_answers_needed") == 2 and rows[1].get("start") == "first_start",
              "status --json: start, quarantine_left_ms, floor answers", r.stdout)
        with open(os.path.join(work, "node-3-diskless.log"), errors="replace") as f:
            text = f.read()
        check("has no state directory and no bootstrap: recovering the floor from peers" in text
              and "--bootstrap" in text, "node: a diskless start without --bootstrap says what to do", text)
        deadline = time.monotonic() + 20
        m3 = {}
        while time.monotonic() < deadline:
            r = run("status", "--members", three, "--key-file", key, "--json", "--attempts", "1", "--timeout-ms", "300")
            if r.stdout.startswith("{"):
                m3 = {m["id"]: m for m in json.loads(r.stdout)["members"]}.get(3, {})
                if m3.get("quarantined") is False:
                    break
            time.sleep(0.2)
        check(m3.get("quarantined") is False and m3.get("floor_answers") == 2,
              "member 3 recovered its floor from peers 1 and 2", json.dumps(m3))

        # Clients (issue 21): members 1, 2 and 3 vote (3 of the 4 slots); clients list the members exactly as
        # they do, with their key and ttl bounds, and take no slot. Two torture clients run against a register
        # (2 s) while an acquire pair and a bench run as clients too; then the histories are checked.
        client = ["--members", members, "--key-file", key, "--ttl-max-ms", "5000", "--client"]
        register_addr = f"127.0.0.1:{torture_run.free_ports(1)[0]}"
        register = spawn("register", "--listen", register_addr, "--log", "client-register.jsonl",
                         log="client-register.log")
        tortures = [spawn("torture", *client, "--history", f"client-history-{i}.jsonl", "--register", register_addr,
                          "--resources", "2", "--ttl-ms", "300", "--hold-ms", "30", "--duration-s", "2",
                          log=f"client-torture-{i}.log") for i in (1, 2)]
        holder = subprocess.Popen([B, "acquire", *client, "--ttl-ms", "1000", "--hold-ms", "1000", "seat"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=work,
                                  start_new_session=True)
        procs.append(holder)
        first = holder.stdout.readline()
        check(first.startswith("acquired seat token=") and "validity_ms=" in first, "acquire --client prints the token",
              first)
        r = run("acquire", *client, "--ttl-ms", "1000", "seat", timeout=30)
        check(r.returncode == 3 and "not acquired" in r.stdout, "another client cannot take it meanwhile (exit 3)",
              r.stdout + r.stderr)
        out, err = holder.communicate(timeout=30)
        drawn = [int(x) for x in re.findall(r"batonctl\[client\] info: baton: client (\d+) starting", err)]
        check(holder.returncode == 0 and "released seat" in out and len(drawn) == 1 and drawn[0] > 2**31 - 1,
              "acquire --client: a drawn client id above 2^31-1, held and released", out + err)
        r = run("bench", *client, "--ttl-ms", "2000", "--ops", "200", "--concurrency", "8", "--resources", "16",
                "--json", timeout=60)
        doc = json.loads(r.stdout) if r.returncode == 0 and r.stdout.startswith("{") else {}
        check(doc.get("client") is True and doc.get("id", 0) > 2**31 - 1 and doc.get("ops") == 200
              and doc.get("errors") == 0 and doc["acquire"]["n"] == 200,
              "bench --client --json: its client id, every acquire through the members", r.stdout + r.stderr)
        for i, t in enumerate(tortures, 1):
            check(t.wait(timeout=30) == 0, f"torture --client {i} exits 0")
        register.send_signal(signal.SIGTERM)
        register.wait(timeout=10)
        nodes_seen = []
        for i in (1, 2):
            with open(os.path.join(work, f"client-history-{i}.jsonl")) as f:
                nodes_seen.append({json.loads(line)["node"] for line in f if line.strip()})
        ids = [next(iter(n)) for n in nodes_seen if len(n) == 1]
        check(len(ids) == 2 and ids[0] != ids[1] and all(int(x) > 2**31 - 1 for x in ids),
              "torture --client: each history names its own client id (above 2^31-1) as node", repr(nodes_seen))
        hc = subprocess.run([sys.executable, os.path.join(torture_run.HERE, "check_history.py"), "--register",
                             os.path.join(work, "client-register.jsonl"), "--expect-nodes", ",".join(ids),
                             "--min-life-s", "1", "--min-acquires", "1",
                             *[os.path.join(work, f"client-history-{i}.jsonl") for i in (1, 2)]],
                            capture_output=True, text=True, timeout=60)
        accepted = re.search(r"\((\d+) accepted", hc.stdout)
        check(hc.returncode == 0 and accepted and int(accepted.group(1)) > 0,
              "check_history: the clients' histories and register log (fenced writes accepted)", hc.stdout + hc.stderr)

        for n in nodes[:2] + [diskless]:
            n.send_signal(signal.SIGINT)
            check(n.wait(timeout=20) == 0, "node exits 0 on SIGINT")
    finally:
        for pr in procs:
            if pr.poll() is None:
                pr.kill()
                pr.wait()
    print(f"cli_test: {len(FAILURES)} failure(s)")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
