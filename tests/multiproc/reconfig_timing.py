#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""How long a change of the voters takes (docs/operations.md "Changing the
members"): three `batonctl node` members with --ttl-max-ms T on 127.0.0.1,
then --changes alternating changes {1,2} <-> {1,2,3} with `batonctl
reconfigure --interval-ms 10 --json`, printing each one's outcome and
elapsed_ms (from the first PING to the reply that said done; a poll every
10 ms). A measurement, not a test (not in ctest).

usage: reconfig_timing.py --batonctl PATH --ttl-max-ms T [--changes N] [--workdir DIR]
"""
import argparse
import json
import subprocess
import sys
import time

import torture_run


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batonctl", required=True)
    p.add_argument("--ttl-max-ms", type=int, required=True)
    p.add_argument("--changes", type=int, default=5)
    p.add_argument("--workdir", default="/tmp/baton-reconfig-timing")
    args = p.parse_args()
    members, key = torture_run.local_cluster(args.batonctl, args.workdir, 3)
    common = ["--members", members, "--key-file", key]
    procs = [subprocess.Popen([args.batonctl, "node", *common, "--id", str(i), "--ttl-max-ms", str(args.ttl_max_ms),
                               "--state-dir", f"{args.workdir}/state-{i}", "--bootstrap"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
             for i in (1, 2, 3)]
    rc = 0
    try:
        time.sleep(1)
        took = []
        for k in range(args.changes):
            voters = "1,2" if k % 2 == 0 else "1,2,3"
            r = subprocess.run([args.batonctl, "reconfigure", *common, "--voters", voters, "--interval-ms", "10",
                                "--json"], capture_output=True, text=True, timeout=120)
            d = json.loads(r.stdout) if r.stdout.strip().startswith("{") else {}
            print(f"--voters {voters}: {d.get('outcome')} in {d.get('elapsed_ms')} ms", flush=True)
            if d.get("outcome") != "committed":
                rc = 1
            else:
                took.append(d["elapsed_ms"])
        if took:
            print(f"ttl_max {args.ttl_max_ms} ms: {len(took)} changes, {min(took)}..{max(took)} ms")
    finally:
        torture_run.kill_all(procs)
    return rc


if __name__ == "__main__":
    sys.exit(main())
