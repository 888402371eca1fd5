# SPDX-License-Identifier: Apache-2.0
"""Scripted scenarios: exact message schedules that random runs reach rarely.

Each scenario builds a World with a fault-free network whose delivery is
decided by rules (drop or delay per message), runs a fixed sequence of
actions, and reports what the checker saw.

    python3 tools/model/run.py --scripted [--fix confirm_strict]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from protocol import Params  # noqa: E402
from scenario import World, POOL  # noqa: E402
from sim import Clock  # noqa: E402


class ScriptNet:
    """Delivery by rules: rule(src, dst, msg) -> delay in ms, or None to drop."""

    def __init__(self, w):
        self.w = w
        self.rules = []
        self.faulty = False
        self.sent = 0

    def send(self, src, dst, m):
        w = self.w
        d = 0.0 if dst == src.pid else 5.0
        for r in self.rules:
            v = r(src.pid, dst, m)
            if v == 'drop':
                return
            if v is not None:
                d = v
                break
        w.at(w.t + d, w.deliver, dst, m)


def world(P, members=(1, 2, 3)):
    w = World(12345, P)
    w.net = ScriptNet(w)
    w.member_ids = list(POOL)
    for mid in POOL:
        w.add_member(mid, worker=False)
    for mid in POOL:  # exact clocks: rate 1
        w.procs[mid].clock = w.clocks[mid] = Clock(mid, 0.0, 'random', 0.0)
    return w


def client(w, name):
    from protocol import Client
    pid = ('c', name)
    c = w.procs[pid] = Client(w, pid, pid, Clock(hash(name) & 0xffff, 0.0, 'random', 0.0))
    return c


def nop(*a):
    pass


def handoff_confirm_v4(P):
    """A hand-off confirm round re-granted by V4 at a voter whose fence came
    from the floor (eviction) revives an older token after a newer lease.

    Voters 1,2,3. H holds r0 (token 1). W's request (token 2) is stored as a
    standing request at 1 and 2 (its REQUEST to 3 is lost). H releases;
    the RELEASE reaches 2 and 3 at once but 1 only at t=405. Voter 2 hands
    W's request over (hold for the 100 ms confirm window); it runs out
    unconfirmed. M acquires with token 6 from 2 and 3, believes, releases;
    2 and 3 evict the idle entry (fence 6 folded into the floor). At t=405
    voter 1 hands W's request over too: W has hand-off grants from 1 and 2,
    a majority, and sends the confirm RENEW round. Voter 1 still holds the
    hand-off: ack. Voter 2 has nothing live and no entry: fence = floor 6,
    not set by a grant of its own, so V4 re-grants token 2 and acks. W
    believes token 2 after M believed token 6."""
    P.evict_p = 1.0
    w = world(P)
    H, W, M = client(w, 'H'), client(w, 'W'), client(w, 'M')
    for c in (H, W, M):
        c.cfg = w.psts[1]['cfg']
    rules = w.net.rules
    state = {'rel_delayed': False}

    def r(src, dst, m):
        if src == ('c', 'W') and dst == 3 and m['t'] == 'REQ':
            return 'drop'
        if src == ('c', 'H') and m['t'] == 'REL' and dst == 1:
            return 300.0
        return None
    rules.append(r)
    w.at(0, lambda: H.acquire('r0', 1000.0, nop, nop, lambda a, y: None, 5000))
    w.at(50, lambda: W.acquire('r0', 1000.0, nop, nop, lambda a, y: None, 5000))

    def rel_h():
        a = H.acqs['r0']
        H.release(a)
    w.at(100, rel_h)

    def m_acq():
        M.hint['r0'] = 5
        M.acquire('r0', 1000.0, lambda a: M.after(40, M.release, a), nop, lambda a, y: None, 5000)
    w.at(250, m_acq)
    w.loop.run(2000)
    return w


def f_new_only_two_removals(P):
    """Two removals in a row: {1,2,3,4,5} -> {1,2,3,4} -> {1,2,3}, with a
    token committed at {3,4,5} only (voters 1 and 2 never stored it). With F
    given to new voters only, no voter of {1,2,3} learns it from F and the
    majority {1,2} grants a lower token afterwards."""
    return None


SCENARIOS = [
    ('handoff_confirm_v4', handoff_confirm_v4),
]


def main(brk, fix):
    bad = 0
    for name, fn in SCENARIOS:
        P = Params(brk, fix)
        w = fn(P)
        if w is None:
            continue
        v = w.checker.violations
        print('%s%s: %s' % (name, ''.join(' --fix ' + f for f in fix),
                            'VIOLATION' if v else 'ok'))
        for t, kind, text in v:
            print('    %s t=%.3f %s' % (kind, t, text))
        print('    stats: %s' % ', '.join('%s=%d' % kv for kv in sorted(w.stats.items())))
        bad += bool(v)
    return 1 if bad else 0
