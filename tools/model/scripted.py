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


def clock(P, rate):
    """An exact clock (rate 1), or one pinned at 1 + rho ('fast') or 1 - rho ('slow')."""
    if rate == 'exact':
        return Clock(0, 0.0, 'random', 0.0)
    return Clock(0, P.rho, rate, 0.0)


def world(P, rates=None):
    w = World(12345, P)
    w.checker.keep_all = True
    w.net = ScriptNet(w)
    w.member_ids = list(POOL)
    for mid in POOL:
        w.add_member(mid, worker=False)
    for mid in POOL:  # exact clocks (rate 1, reading true time) unless given
        w.procs[mid].clock = w.clocks[mid] = clock(P, (rates or {}).get(mid, 'exact'))
    return w


def client(w, name, rate='exact', cfg=None):
    from protocol import Client
    pid = ('c', name)
    c = w.procs[pid] = Client(w, pid, pid, clock(w.P, rate))
    c.cfg = cfg if cfg is not None else w.psts[1]['cfg']
    return c


def acq(c, res='r0', hint=None, ttl=1000.0, hold=None, wait=5000.0, auto=False):
    """c acquires res (token hint+1); no auto-renew unless asked (api.md's
    default): a believed lease then runs to validity_end. hold: release after
    that many ms of c's clock."""
    if hint is not None:
        c.hint[res] = hint
    won = (lambda a: c.after(hold, c.release, a)) if hold is not None else nop
    a = c.acquire(res, ttl, won, nop, lambda a, y: None, wait)
    a.auto = auto
    return a


def run_until(w, cond, limit):
    """Run the loop in 0.5 ms steps until cond() holds (True) or until limit."""
    while w.t < limit:
        w.loop.run(w.t + 0.5)
        if cond():
            return True
    return False


def call(w, target, mid):
    """A reconfigure call on member mid; returns its Driver."""
    w.call(frozenset(target), at_member=mid)
    return w.procs[mid].driver


def in_phase1(d):
    return d.ph == 'prop' and d.rec.new is not None


def committed_final(w, d, target):
    """The call's final record (simple, voters target) is held by a majority of target."""
    recs = [w.psts[m]['cfg'] for m in target]
    fin = [r for r in recs if r.new is None and r.old == frozenset(target) and r.E > 0]
    return 2 * len(fin) > len(target)


def final_rec(w, target):
    return max((w.psts[m]['cfg'] for m in target), key=w.P.cid)


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
    rules = w.net.rules
    state = {'rel_delayed': False}

    def r(src, dst, m):
        if src == ('c', 'W') and dst == 3 and m['t'] == 'REQ':
            return 'drop'
        if src == ('c', 'H') and m['t'] == 'REL' and dst == 1:
            return 300.0
        if src == ('c', 'M') and m['t'] == 'REQ' and dst == 1:
            return 'drop'  # M never waits at 1: no dependence on what RELEASE does to waiters
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


def wait_validity(P):
    """The phase-2 wait computed with the validity formula is short.

    Driver 1 (clock fast, 1+rho) changes {1,2,3} -> {4,5,6}. H (clock slow,
    1-rho, no auto-renew) is granted r0 by 1,2,3 under the simple config just
    before they accept the joint config (phase-1 proposals take 20 ms). H's
    validity, 902 ms on its clock, lasts 949 ms of true time. The driver waits
    W from t_q: with W = ttl_max + margin = 1002 ms local (954 true) the final
    record commits after H's validity; with W = 904 ms local (861 true) it
    commits about 60 ms before, and M, granted by {4,5,6} under the final
    config, believes while H still does: Guarantee 1."""
    P.evict_p = 0.0
    w = world(P, rates={1: 'fast'})
    H = client(w, 'H', rate='slow')
    M = client(w, 'M')

    def r(s, d, m):
        if m['t'] == 'CPROP' and m['rec'].new is not None and s != d:
            return 20.0
        if s == ('c', 'H') and d == 1:  # voter 1 (the driver's) is in the joint config at once
            return 'drop'
        return None
    w.net.rules.append(r)
    target = {4, 5, 6}
    d = call(w, target, 1)
    run_until(w, lambda: in_phase1(d), 3000)
    H.cfg = w.psts[2]['cfg']  # the committed phase-R record
    acq(H, hint=0)
    run_until(w, lambda: committed_final(w, d, target), 4000)
    M.cfg = final_rec(w, target)
    acq(M, hint=10)
    w.loop.run(w.t + 3000)
    return w


def wait_from_send(P):
    """The phase-2 wait counted from the first send of phase 1 is short.

    Driver 1 changes {1,2,3} -> {4,5,6}; the joint proposal reaches voter 2
    500 ms late and never reaches voter 3 (nor do the driver lease's renewals,
    which would carry it), so t_q (receipt of voter 2's ack) is 505 ms after
    the send. At send + 300 ms H (no auto-renew) is granted r0
    by 2 and 3, which still run the simple config: H believes until send +
    1202. Counted from the send, the wait ends at send + 1002 and M, granted by
    {4,5,6} under the final config, believes while H still does: Guarantee 1.
    Counted from t_q the final record commits after send + 1507."""
    P.evict_p = 0.0
    w = world(P)
    H = client(w, 'H')
    M = client(w, 'M')

    def r(s, d, m):
        if m['t'] == 'CPROP' and m['rec'].new is not None and s == 1:
            if d == 2:
                return 500.0
            if d == 3:
                return 'drop'
        if s == 1 and d in (2, 3) and m['t'] == 'RENEW':
            return 'drop'  # (the driver lease's renewals would carry the joint record)
        if s == ('c', 'H') and d == 1:
            return 'drop'
        return None
    w.net.rules.append(r)
    target = {4, 5, 6}
    d = call(w, target, 1)
    run_until(w, lambda: in_phase1(d), 3000)
    w.loop.run(w.t + 300)
    H.cfg = w.psts[2]['cfg']
    acq(H, hint=0)
    run_until(w, lambda: committed_final(w, d, target), 5000)
    M.cfg = final_rec(w, target)
    acq(M, hint=10)
    w.loop.run(w.t + 3000)
    return w


def new_floor0(P):
    """New voters at floor 0.

    H is granted r0 with token 5 by {1,2,3} and releases it. Driver 1 changes
    {1,2,3} -> {3,4,5}; F >= 5. M, new and knowing no token (T = 1), asks the
    final config {3,4,5}: if the new voters 4 and 5 ignore F they grant T = 1,
    and M believes token 1 after token 5: Guarantee 2."""
    P.evict_p = 0.0
    w = world(P)
    H, M = client(w, 'H'), client(w, 'M')
    acq(H, hint=4, hold=50)
    w.loop.run(200)
    target = {3, 4, 5}
    d = call(w, target, 1)
    run_until(w, lambda: committed_final(w, d, target), 5000)
    M.cfg = final_rec(w, target)
    acq(M, hint=0)
    w.loop.run(w.t + 2000)
    return w


def f_floor_only(P):
    """F raised the floor but not the per-resource fences.

    H1 takes r0 with token 1 at {1,2,3}; H2 takes it with token 5 at {1,2}
    (its REQUEST to 3 is lost): voter 3's entry for r0 keeps fence 1. Driver
    1 changes {1,2,3} -> {3,4,5}. In the joint phase J (T = 1) asks 4 and 5
    only (its messages to 1,2,3 are lost); the new voters vote at once (V3)
    and grant it, so each has an entry for r0 with fence 1; J gives up. The
    final record carries F >= 5. If F raises only the floor, the entries of
    3, 4 and 5 stay at 1 and M (T = 2) is granted by them: token 2 after
    token 5, Guarantee 2."""
    P.evict_p = 0.0
    w = world(P)
    H1, H2, J, M = client(w, 'H1'), client(w, 'H2'), client(w, 'J'), client(w, 'M')

    def r(s, d, m):
        if s == ('c', 'H2') and d == 3:
            return 'drop'
        if s == ('c', 'J') and d in (1, 2, 3):
            return 'drop'
        return None
    w.net.rules.append(r)
    acq(H1, hint=0, hold=20)
    w.loop.run(100)
    acq(H2, hint=4, hold=20)
    w.loop.run(200)
    target = {3, 4, 5}
    d = call(w, target, 1)
    run_until(w, lambda: d.ph == 'wait', 3000)
    J.cfg = w.psts[4]['cfg']
    acq(J, hint=0, wait=100.0)
    run_until(w, lambda: committed_final(w, d, target), 5000)
    M.cfg = final_rec(w, target)
    acq(M, hint=1)
    w.loop.run(w.t + 2000)
    return w


def f_new_only(P):
    """F given to new voters only: two removals in a row.

    Driver 1 grows {1,2,3} -> {1,2,3,4,5}. H takes r0 with token 5 from
    {3,4,5} (its REQUESTs to 1 and 2 are lost). Then {1,2,3,4,5} ->
    {1,2,3,4} and {1,2,3,4} -> {1,2,3}: no new voters, so if only new voters
    apply F, voters 1 and 2 never learn token 5. M (T = 1) is granted by
    {1,2}: token 1 after token 5, Guarantee 2. With F applied by every voter
    of C', voters 1 and 2 hold 5 after the first removal."""
    P.evict_p = 0.0
    w = world(P)
    H, M = client(w, 'H'), client(w, 'M')
    w.net.rules.append(lambda s, d, m: 'drop' if s == ('c', 'H') and d in (1, 2) else None)
    t = 0
    for target in ({1, 2, 3, 4, 5}, {1, 2, 3, 4}, {1, 2, 3}):
        d = call(w, target, 1)
        run_until(w, lambda: w.procs[1].driver is None, w.t + 5000)
        w.loop.run(w.t + 100)
        if len(target) == 5:
            H.cfg = final_rec(w, target)
            acq(H, hint=4, hold=20)
            w.loop.run(w.t + 200)
    M.cfg = final_rec(w, {1, 2, 3})
    acq(M, hint=0)
    w.loop.run(w.t + 2000)
    return w


def f_any_answer(P):
    """F read from the phase-0 answers instead of the committing acks.

    Driver 1 reads {1,2,3} (phase 0); its phase-R proposal takes 100 ms.
    Meanwhile H takes r0 with token 5 from {1,2,3} and releases it. The joint
    acks (read after accepting) report 5; the phase-0 answers reported only the
    driver lease's token 1. Change {1,2,3} -> {1,4,5}: with F from the
    phase-0 answers, the new voters 4 and 5 get floor 1 and grant M (T = 2):
    token 2 after token 5, Guarantee 2."""
    P.evict_p = 0.0
    w = world(P)
    H, M = client(w, 'H'), client(w, 'M')
    w.net.rules.append(lambda s, d, m: 100.0 if (m['t'] == 'CPROP' and m['rec'].E == 0) else None)
    target = {1, 4, 5}
    d = call(w, target, 1)
    run_until(w, lambda: d.ph == 'prop', 3000)
    acq(H, hint=4, hold=20)
    run_until(w, lambda: committed_final(w, d, target), 5000)
    M.cfg = final_rec(w, target)
    acq(M, hint=1)
    w.loop.run(w.t + 2000)
    return w


def epoch_only(P):
    """Configurations named by epoch alone.

    Driver A (member 4, ballot (1,4)) proposes the joint J_A = ({1,2,3},
    {1,4,5}) at epoch 1; it reaches 1, 4, 5 only, and A crashes. Driver B
    (member 6) gets the driver lease after A's ran out (ballot (2,6)), hears
    nothing from voter 1 (every message 1 -> 6 is lost), reads {2,3},
    and commits J_B = ({1,2,3},{2,3,6}) at epoch 1 with {2,3}, then waits.
    During the wait X, which learned J_A, asks J_A's voters (its REQUEST to 3
    is lost; 4 is down): by (E, b) voters 1 and 2 hold J_B, which is newer, and
    deny `config`; X retries under J_B and its lease holds 2 and 6. By epoch
    alone, J_A and J_B are the same config: 1 (which keeps J_A) and 2 grant,
    with 5 X has majorities of {1,2,3} and {1,4,5}, but none of {2,3,6}. B's
    final record {2,3,6} commits, and Z is granted r0 by 3 and 6 while X
    still believes: Guarantee 1."""
    P.evict_p = 0.0
    w = world(P)
    X, Z = client(w, 'X'), client(w, 'Z')

    def r(s, d, m):
        if s == 4 and d in (2, 3) and m['t'] == 'CPROP' and m['rec'].E == 1:
            return 'drop'
        if s == 1 and d == 6:
            return 'drop'
        if s == ('c', 'X') and d == 3:
            return 'drop'
        return None
    w.net.rules.append(r)
    A = call(w, {1, 4, 5}, 4)
    run_until(w, lambda: A.ph == 'prop' and A.rec.E == 1, 3000)
    JA = A.rec
    w.loop.run(w.t + 20)
    w.crash(4)
    B = call(w, {2, 3, 6}, 6)
    run_until(w, lambda: getattr(B, 'ph', None) == 'wait', 8000)
    w.loop.run(w.t + 850)
    X.cfg = JA
    acq(X, hint=10)
    run_until(w, lambda: committed_final(w, B, {2, 3, 6}), w.t + 2000)
    Z.cfg = final_rec(w, {2, 3, 6})
    acq(Z, hint=20)
    w.loop.run(w.t + 2000)
    return w


def beliefs(w, res):
    out = []
    for p in w.procs.values():
        for b in getattr(p, 'all_beliefs', []):
            if b.res == res:
                out.append('%s %s token %d from t=%.1f to t=%.1f' % (res, p.pid, b.token, b.start,
                                                                    b.true_end()))
    return sorted(out, key=lambda s: float(s.split('from t=')[1].split()[0]))


def no_promise(P):
    """Drivers ordered by their lease's token, without promise (phase 0) and
    re-proposal (phase R): two configurations committed at one epoch.

    Driver A (member 4, ballot (1,4)) proposes J_A = ({1,2,3},{1,4,5}) at
    epoch 1; its proposals take 1100 ms (the one to 3 is lost) and its
    driver-lease renewals are lost, so its lease lapses at 721 ms. Driver B
    (member 6) gets the lease (ballot (2,6)) and proposes J_B = ({1,2,3},
    {2,3,6}) at epoch 1 (400 ms on the way). Without promises, J_A commits at
    {1,2} at 1115 ms, then J_B (a higher id) replaces it there and commits
    too. Both wait and propose their
    final records at epoch 2, {1,4,5} by A and {2,3,6} by B, and both commit.
    X, knowing {1,4,5}, is granted r0 by 4 and 5 (its REQUEST to 1 is lost),
    Z, knowing {2,3,6}, by 2, 3 and 6: both believe at once, Guarantee 1.
    With promises, B's read makes 1,2,3 refuse J_A and A aborts."""
    P.evict_p = 0.0
    w = world(P)
    X, Z = client(w, 'X'), client(w, 'Z')

    def r(s, d, m):
        if s == 4 and d == 3 and m['t'] == 'CPROP' and m['rec'].E == 1:
            return 'drop'
        if m['t'] == 'CPROP' and m['rec'].E == 1 and m['rec'].new is not None and s != d:
            if s == 4:
                return 1100.0
            if s == 6:
                return 400.0
        if s in (4, 6) and m['t'] == 'RENEW':
            return 'drop'  # (driver-lease renewals would carry the joint records)
        if s == ('c', 'X') and d == 1:
            return 'drop'
        return None
    w.net.rules.append(r)
    A = call(w, {1, 4, 5}, 4)
    w.loop.run(100)
    B = call(w, {2, 3, 6}, 6)
    run_until(w, lambda: committed_final(w, A, {1, 4, 5}) and committed_final(w, B, {2, 3, 6}),
              6000)
    w.loop.run(w.t + 20)
    X.cfg = final_rec(w, {4, 5})
    Z.cfg = final_rec(w, {2, 3, 6})
    acq(X, hint=10)
    acq(Z, hint=10)
    w.loop.run(w.t + 2000)
    return w


# name, scenario, the switch that must break it, the guarantee it then breaks
SCENARIOS = [
    ('handoff_confirm_v4', handoff_confirm_v4, '-confirm_strict', 'G2'),
    ('wait_validity', wait_validity, 'wait_validity', 'G1'),
    ('wait_from_send', wait_from_send, 'wait_from_send', 'G1'),
    ('new_floor0', new_floor0, 'new_floor0', 'G2'),
    ('f_floor_only', f_floor_only, 'f_floor_only', 'G2'),
    ('f_new_only', f_new_only, 'f_new_only', 'G2'),
    ('f_any_answer', f_any_answer, 'f_any_answer', 'G2'),
    ('epoch_only', epoch_only, 'epoch_only', 'G1'),
    ('no_promise', no_promise, 'no_promise', 'G1'),
]


def _params(brk, fix, switch, broken):
    brk, fix = list(brk), list(fix)
    if broken:
        if switch.startswith('-'):  # the switch is leaving a fix out
            fix = [f for f in fix if f not in (switch[1:], 'renew_eq')]
        elif switch not in brk:
            brk.append(switch)
    return Params(brk, fix), brk, fix


def main(brk, fix, broken=False, only=None, verbose=False):
    """Run every scenario. broken=False: with brk/fix as given; exit 1 if any
    scenario has a violation. broken=True (--scripted-break): each scenario
    with its own switch added (for handoff_confirm_v4: confirm_strict left
    out); exit 1 unless every scenario breaks its named guarantee."""
    bad = 0
    names = [n for n, _, _, _ in SCENARIOS]
    for o in only or ():
        if o not in names:
            print('unknown scenario %s (known: %s)' % (o, ', '.join(names)))
            return 2
    for name, fn, switch, g in SCENARIOS:
        if only and name not in only:
            continue
        P, b2, f2 = _params(brk, fix, switch, broken)
        w = fn(P)
        v = w.checker.violations
        args = ''.join(' --break ' + x for x in b2) + ''.join(' --fix ' + x for x in f2)
        kinds = sorted({k for _, k, _ in v})
        if broken:
            ok = g in kinds
            verdict = ('breaks %s as expected' % g) if ok else ('NOT CAUGHT (expected %s; saw %s)'
                                                                % (g, kinds or 'nothing'))
            bad += not ok
        else:
            verdict = 'VIOLATION %s' % ','.join(kinds) if v else 'ok'
            bad += bool(v)
        print('%-20s%s: %s' % (name, args, verdict))
        for t, kind, text in v[:3]:
            print('    %s t=%.3f %s' % (kind, t, text))
        if verbose:
            for res in sorted(w.checker.begins):
                for b in beliefs(w, res):
                    print('    belief %s' % b)
            print('    stats: %s' % ', '.join('%s=%d' % kv for kv in sorted(w.stats.items())))
    return 1 if bad else 0
