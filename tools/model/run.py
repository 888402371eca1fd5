# SPDX-License-Identifier: Apache-2.0
"""Command-line runner for the randomized model of MEMBERSHIP.md.

    python3 tools/model/run.py --runs 200 --seed 1            # quick mode
    python3 tools/model/run.py --runs 2000 --seed 1 --break no_wait
    python3 tools/model/run.py --runs 1 --seed 1234 -v        # replay one run
    python3 tools/model/run.py --scripted                     # scripted scenarios
    python3 tools/model/run.py --scripted-break --fix confirm_strict   # each with its switch
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from protocol import BREAKS, FIXES, Params  # noqa: E402
import scenario  # noqa: E402


def one(args):
    seed, brk, fix, no_auto = args
    P = Params(brk, fix)
    P.no_auto_p = no_auto
    w, live = scenario.random_run(seed, P)
    return seed, w.checker.violations, live, w.changes_completed, w.stats


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument('--runs', type=int, default=200)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--break', dest='brk', action='append', default=[],
                    help='break switch (repeatable): ' + ', '.join(BREAKS))
    ap.add_argument('--fix', action='append', default=[],
                    help='protocol variant (repeatable): ' + ', '.join(FIXES))
    ap.add_argument('--jobs', type=int, default=1)
    ap.add_argument('--no-auto', type=float, default=0.25,
                    help='share of workload acquires without auto-renew (default 0.25;\n'
                         '0 replays the seeds of the first version of the model)')
    ap.add_argument('--scripted', action='store_true',
                    help='run the scripted scenarios (exit 1 if any has a violation)')
    ap.add_argument('--scripted-break', action='store_true',
                    help='run each scripted scenario with its own break switch added\n'
                         '(handoff_confirm_v4: without confirm_strict); exit 1 unless\n'
                         'every one breaks the guarantee it names')
    ap.add_argument('--scenario', action='append', default=[],
                    help='with --scripted/--scripted-break: only this scenario (repeatable)')
    ap.add_argument('--trace', nargs='?', const='all', default=None,
                    help='print every delivered message (or only these comma-separated\n'
                         'types, e.g. CPROP,CACK,REQ,GRANT) with true time and the\n'
                         "receiver's clock; use with --runs 1 or --scenario")
    ap.add_argument('-v', '--verbose', action='store_true')
    ap.add_argument('--stop-after', type=int, default=0,
                    help='stop after this many failing runs (0: never)')
    a = ap.parse_args()
    if a.runs < 1:
        ap.error('--runs must be at least 1, got %d' % a.runs)
    if not 1 <= a.jobs <= 64:
        ap.error('--jobs must be 1..64, got %d' % a.jobs)
    if not 0 <= a.no_auto <= 1:
        ap.error('--no-auto must be in [0, 1], got %g' % a.no_auto)
    if a.stop_after < 0:
        ap.error('--stop-after must be >= 0, got %d' % a.stop_after)
    for b in a.brk:
        if b not in BREAKS:
            ap.error('unknown break %s' % b)
    for f in a.fix:
        if f not in FIXES:
            ap.error('unknown fix %s' % f)
    if a.trace:
        scenario.TRACE = scenario.tracer(None if a.trace == 'all' else set(a.trace.split(',')))
    if a.scripted or a.scripted_break:
        import scripted
        t0 = time.time()
        rc = scripted.main(a.brk, a.fix, broken=a.scripted_break, only=a.scenario,
                           verbose=a.verbose)
        print('scripted%s: %s  (%.1f s)' % (' (break)' if a.scripted_break else '',
                                            'FAILED' if rc else 'passed', time.time() - t0))
        sys.exit(rc)
    t0 = time.time()
    jobs = [(a.seed + i, tuple(a.brk), tuple(a.fix), a.no_auto) for i in range(a.runs)]
    if a.jobs > 1:
        import multiprocessing
        pool = multiprocessing.Pool(a.jobs)
        results = pool.imap(one, jobs, chunksize=4)
    else:
        results = map(one, jobs)
    nv = nl = nc = n = 0
    bad = 0
    totals = {}
    extra = ''.join(' --break %s' % b for b in a.brk) + ''.join(' --fix %s' % f for f in a.fix)
    if a.no_auto != 0.25:
        extra += ' --no-auto %g' % a.no_auto
    for seed, viol, live, changes, stats in results:
        n += 1
        nc += changes
        for k, v in stats.items():
            totals[k] = totals.get(k, 0) + v
        if viol:
            nv += 1
            print('run seed %d: VIOLATION %s  (replay: python3 tools/model/run.py --runs 1 '
                  '--seed %d%s -v)' % (seed, viol[0][1], seed, extra))
            for t, kind, text in viol[:2]:
                print('    %s t=%.3f %s' % (kind, t, text))
        elif live:
            nl += 1
            print('run seed %d: LIVENESS %s  (replay: python3 tools/model/run.py --runs 1 '
                  '--seed %d%s -v)' % (seed, '; '.join(live), seed, extra))
        if viol or live:
            bad += 1
            if a.stop_after and bad >= a.stop_after:
                break
        sys.stdout.flush()
    if a.verbose:
        print('stats: %s' % ', '.join('%s=%d' % kv for kv in sorted(totals.items())))
    print('%d runs, %d violations, %d liveness failures, %d changes completed  (%.1f s)'
          % (n, nv, nl, nc, time.time() - t0))
    return 1 if nv or nl else 0


if __name__ == '__main__':
    sys.exit(main())
