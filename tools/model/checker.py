# SPDX-License-Identifier: Apache-2.0
"""The checker: Guarantees 1 and 2 in true time, and a fence-checking resource.

A holder believes a lease from the true instant its majority (or confirm
round) completes until the earliest of: its release or loss, its crash, and
the true instant its own clock reaches validity_end (strictly before it).
"""
from collections import defaultdict


class Belief:
    __slots__ = ('res', 'proc', 'L', 'token', 'start', 'end', 'who')

    def __init__(self, res, proc, L, start):
        self.res, self.proc, self.L, self.token, self.start = res, proc, L, L.T, start
        self.end = None
        self.who = (proc.pid, L.lease)

    def true_end(self):
        e = self.proc.clock.true_at(self.L.ve)
        return e if self.end is None else min(e, self.end)


class Checker:
    def __init__(self, world):
        self.w = world
        self.active = defaultdict(list)
        self.last_tok = {}
        self.max_write = {}
        self.violations = []
        self.begins = defaultdict(list)  # res -> true times of belief starts
        self.keep_all = False  # scripted: keep every belief for the report

    def violate(self, kind, text):
        self.violations.append((self.w.t, kind, text))
        if len(self.violations) >= 3:
            self.w.loop.stop = True

    def begin(self, res, proc, L):
        t = self.w.t
        keep = []
        for b in self.active[res]:
            e = b.true_end()
            if e > t:
                keep.append(b)
                self.violate('G1', '%s: lease %s (token %d, holder %s) believed until t=%.3f, '
                             'lease %s (token %d, holder %s) believed from t=%.3f'
                             % (res, b.L.lease, b.token, b.proc.pid, e, L.lease, L.T, proc.pid, t))
        b = Belief(res, proc, L, t)
        keep.append(b)
        self.active[res] = keep
        last = self.last_tok.get(res)
        if last is not None and L.T <= last:
            self.violate('G2', '%s: lease %s believed at t=%.3f with token %d, after a lease '
                         'with token %d' % (res, L.lease, t, L.T, last))
        self.last_tok[res] = max(L.T, last if last is not None else L.T)
        self.write(res, L.T, proc)
        proc.beliefs.append(b)
        if self.keep_all:
            proc.__dict__.setdefault('all_beliefs', []).append(b)
        self.begins[res].append(t)
        self.w.stats['beliefs'] = self.w.stats.get('beliefs', 0) + 1
        return b

    def extend(self, b, proc):
        self.write(b.res, b.token, proc)

    def write(self, res, token, proc):
        """The fence-checking resource: a believing holder writes; a write
        with a token below the highest accepted one is rejected."""
        m = self.max_write.get(res, -1)
        if token < m:
            self.violate('G2', '%s: write of a believing holder %s with token %d rejected at '
                         't=%.3f (resource has accepted %d)' % (res, proc.pid, token, self.w.t, m))
        else:
            self.max_write[res] = token

    def end(self, b, t):
        if b is not None and b.end is None:
            b.end = t

    def crash(self, proc):
        for b in proc.beliefs:
            self.end(b, self.w.t)
        proc.beliefs = []
