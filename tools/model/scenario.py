# SPDX-License-Identifier: Apache-2.0
"""A world (processes, network, checker) and the random scenarios that drive it:
membership changes while acquirers and clients acquire, renew and release,
with crashes, restarts, pauses, loss, duplication, reordering and drift.
After the fault phase everything heals; liveness is checked then."""
import random

from checker import Checker
from protocol import Cfg, Client, DRV, Driver, Member, Params
from sim import Clock, Loop, Net

POOL = (1, 2, 3, 4, 5, 6)
INIT = frozenset((1, 2, 3))
CHANGE_BOUND = 15000.0   # true ms after heal for the final change to complete
ACQUIRE_BOUND = 6000.0   # true ms after that for each resource to be acquired again


class World:
    def __init__(self, seed, P):
        self.seed, self.P = seed, P
        self.rng = random.Random(seed)
        self.loop = Loop()
        self.net = Net(self, random.Random(seed * 7 + 1))
        self.checker = Checker(self)
        self.procs = {}
        self.member_ids = list(POOL)
        self.resources = ['r0', 'r1']
        self.stats = {}
        self.changes_completed = 0
        self.calls = []
        self._life = 0
        self.psts = {}
        self.clocks = {}
        self.healed = False
        self.client_n = 0
        self.trace = TRACE  # fn(w, dst, msg, proc) called on every delivery (run.py --trace)

    # loop facade
    @property
    def t(self):
        return self.loop.t

    def at(self, t, fn, *a):
        self.loop.at(t, fn, *a)

    def at_proc(self, proc, t, fn, a):
        self.loop.at_proc(proc, t, fn, a)

    def new_life(self):
        self._life += 1
        return self._life

    def deliver(self, dst, m):
        p = self.procs.get(dst)
        if self.trace is not None:
            self.trace(self, dst, m, p)
        if p is None or not p.up:
            return
        if p.paused:
            p.pending.append((p.recv, (m,)))
            return
        p.recv(m)

    def clock_for(self, key):
        modes = ('fast', 'slow', 'extreme', 'random')
        return Clock(self.rng.randrange(1 << 30), self.P.rho,
                     self.rng.choice(modes), self.rng.uniform(0, 1e5))

    # processes
    def add_member(self, mid, worker):
        self.psts[mid] = {'cfg': Cfg(0, (0, 0), INIT, None, 0), 'promised': (0, 0),
                          'res': 0, 'inc': 1}
        self.clocks[mid] = self.clock_for(mid)
        m = self.procs[mid] = Member(self, mid, self.clocks[mid], self.psts[mid], False)
        m.want_worker = worker
        if worker:
            m.start_worker()

    def add_client(self, oid=None):
        self.client_n += 1
        pid = ('c', self.client_n)
        if oid is None:
            oid = ('c', self.rng.getrandbits(64))  # own namespace, fresh per life
        c = self.procs[pid] = Client(self, pid, oid, self.clock_for(pid))
        c.start_worker()
        return c

    def crash(self, pid):
        p = self.procs.get(pid)
        if p is None or not p.up:
            return
        p.up = False
        p.life = -1
        self.checker.crash(p)
        if p.driver is not None and p.driver.call['status'] == 'running':
            p.driver.call['status'] = 'crashed'
        self.stats['crashes'] = self.stats.get('crashes', 0) + 1

    def restart(self, pid):
        p = self.procs.get(pid)
        if p is None or p.up:
            return
        if p.is_member:
            pst = self.psts[pid]
            pst['inc'] += 1
            m = self.procs[pid] = Member(self, pid, self.clocks[pid], pst, True)
            m.want_worker = p.want_worker
            if p.want_worker:
                m.start_worker()
        else:
            del self.procs[pid]
            if 'twins' in self.P.brk:
                c = self.add_client(p.oid)  # a restart that reuses the id (and serials)
            else:
                self.add_client()

    def pause(self, pid, d):
        p = self.procs.get(pid)
        if p is None or not p.up or p.paused:
            return
        p.paused = True
        self.at(self.t + d, self.resume, p, p.life)

    def resume(self, p, life):
        if p.life != life or not p.up:
            return
        p.paused = False
        while p.pending and p.up and not p.paused and p.life == life:
            fn, a = p.pending.pop(0)
            fn(*a)

    # membership calls
    def call(self, target, final=False, at_member=None):
        ups = [m for m in POOL if self.procs[m].up and not self.procs[m].paused
               and self.procs[m].driver is None]
        if at_member is not None:
            ups = [at_member] if self.procs[at_member].driver is None else []
        if not ups:
            return
        mid = self.rng.choice(ups)
        c = {'target': frozenset(target), 'final': final, 'status': 'running',
             'member': mid, 't': self.t, 'done_t': None}
        self.calls.append(c)
        m = self.procs[mid]
        m.driver = Driver(m, c)
        if final:
            m.driver.retries = 1 << 30
        m.driver.start()

    def final_done(self):
        """Liveness probes: one client per resource that acquires it over and
        over, so that every resource has demand after the final change."""
        if self.calls and any(c['status'] == 'running' for c in self.calls):
            return self.at(self.t + 100.0, self.final_done)
        self.probe_t = self.t
        for res in self.resources:
            c = self.add_client()
            c.fixed_res = res

    def heal(self):
        self.healed = True
        self.heal_t = self.t
        self.net.faulty = False
        for pid in list(self.procs):
            p = self.procs[pid]
            if not p.up:
                self.restart(pid)
        for p in list(self.procs.values()):
            if p.paused:
                self.resume(p, p.life)
        if self.calls:
            target = self.calls[-1]['target']
            self.final_call = None
            self.call(target, final=True)
            self.final_call = self.calls[-1] if self.calls[-1]['final'] else None


def next_target(rng, plan):
    plan = set(plan)
    out = [m for m in POOL if m not in plan]
    ops = ['replace', 'replace']
    if len(plan) < 5:
        ops += ['add', 'grow5']
    if len(plan) > 3:
        ops += ['remove', 'shrink3']
    op = rng.choice(ops)
    if op == 'add':
        plan.add(rng.choice(out))
    elif op == 'remove':
        plan.remove(rng.choice(sorted(plan)))
    elif op == 'replace':
        plan.remove(rng.choice(sorted(plan)))
        plan.add(rng.choice(out))
    elif op == 'grow5':
        while len(plan) < 5:
            plan.add(rng.choice([m for m in POOL if m not in plan]))
    elif op == 'shrink3':
        while len(plan) > 3:
            plan.remove(rng.choice(sorted(plan)))
    return frozenset(plan)


TRACE = None


def tracer(kinds=None):
    """A delivery printer: true time, the receiver's clock, src -> dst, the message."""
    def tr(w, dst, m, p):
        if kinds and m['t'] not in kinds:
            return
        loc = '%.1f' % p.now() if p is not None and p.up else 'down'
        f = ' '.join('%s=%s' % (k, v) for k, v in sorted(m.items()) if k not in ('t', 'src'))
        print('  t=%9.3f [%s@%s] %s -> %s %s %s' % (w.t, dst, loc, m['src'], dst, m['t'], f))
    return tr


def random_run(seed, P):
    w = World(seed, P)
    rng = w.rng
    for mid in POOL:
        w.add_member(mid, worker=mid <= 4)
    w.add_client()
    c = w.add_client()
    if 'twins' in P.brk:
        w.add_client(c.oid)
    tf = rng.uniform(6000, 14000)
    plan = INIT
    n_calls = rng.randint(1, 4)
    for i in range(n_calls):
        t = rng.uniform(200, tf - 300)
        plan = next_target(rng, plan)
        w.at(t, w.call, plan)
        if rng.random() < 0.25:  # a racing driver
            other = plan if rng.random() < 0.5 else next_target(rng, plan)
            w.at(t + rng.uniform(0, 60), w.call, other)
            plan = other
    # faults during [0, tf]
    for _ in range(rng.randint(0, 6)):
        pid = rng.choice(list(POOL) + ['client'] * 2)
        t = rng.uniform(0, tf)

        def crash_some(pid=pid):
            if pid == 'client':
                cl = [p for p in w.procs if isinstance(p, tuple)]
                pid = rng.choice(cl)
            w.crash(pid)
            back = w.t + rng.uniform(50, 3000)
            if back < tf:
                w.at(back, w.restart, pid)
        w.at(t, crash_some)
    for _ in range(rng.randint(0, 6)):
        t = rng.uniform(0, tf)

        def pause_some():
            pid = rng.choice(list(w.procs))
            w.pause(pid, rng.uniform(20, 2500))
        w.at(t, pause_some)
    # drivers are crashed or paused mid-change in some runs
    if rng.random() < 0.3:
        def hit_driver():
            ds = [p.pid for p in w.procs.values() if p.driver is not None and p.up]
            if ds:
                pid = rng.choice(ds)
                if rng.random() < 0.5:
                    w.crash(pid)
                    w.at(w.t + rng.uniform(100, 2000), w.restart, pid)
                else:
                    w.pause(pid, rng.uniform(500, 3000))
        w.at(rng.uniform(500, tf), hit_driver)
    w.at(tf, w.heal)
    end = tf + CHANGE_BOUND + ACQUIRE_BOUND
    w.loop.run(end)
    return w, liveness(w)


def liveness(w):
    """After heal: the final change completes within CHANGE_BOUND, and then
    every resource is acquired again within ACQUIRE_BOUND."""
    if w.checker.violations:
        return []
    fails = []
    start = w.heal_t
    fc = getattr(w, 'final_call', None)
    if fc is not None:
        late = [c for c in w.calls if c['status'] == 'running'
                or (c['status'] == 'done' and c['done_t'] > w.heal_t + CHANGE_BOUND)]
        if fc['status'] != 'done' or late:
            fails.append('change not completed: %s' % '; '.join(
                '%s->%s' % (c['status'], sorted(c['target'])) for c in late + [fc]))
            return fails
        start = getattr(w, 'probe_t', None)
        if start is None:
            fails.append('probes never started (a change still running)')
            return fails
        P = w.P
        newest = max((w.psts[m]['cfg'] for m in POOL), key=P.cid)
        holders = [m for m in newest.old if P.cid(w.psts[m]['cfg']) == P.cid(newest)]
        if newest.new is not None or 2 * len(holders) <= len(newest.old):
            fails.append('newest config %s is joint or held by a minority %s' % (newest, holders))
    for res in w.resources:
        if not any(start < t <= start + ACQUIRE_BOUND for t in w.checker.begins[res]):
            # (the probe client of res wants it from `start` on)
            fails.append('%s not acquired within %.0f ms after t=%.0f' % (res, ACQUIRE_BOUND, start))
    return fails
