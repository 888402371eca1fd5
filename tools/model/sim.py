# SPDX-License-Identifier: Apache-2.0
"""Simulated true time, drifting clocks, a faulty network and the event loop.

Times are milliseconds (floats). True time starts at 0. Every process has a
Clock: a monotonic, piecewise-linear function of true time whose rate stays in
[1 - rho, 1 + rho]. Modes: 'fast' and 'slow' pin the rate at 1 + rho or 1 - rho
(the worst cases of the drift arguments), 'extreme' jumps between the two,
'random' draws a rate per segment.
"""
import bisect
import heapq
import random


class Clock:
    def __init__(self, seed, rho, mode, offset):
        self.rng = random.Random(seed)
        self.rho, self.mode = rho, mode
        self.ts, self.ls, self.rates = [0.0], [offset], [self._rate()]

    def _rate(self):
        r = self.rho
        if self.mode == 'fast':
            return 1 + r
        if self.mode == 'slow':
            return 1 - r
        if self.mode == 'extreme':
            return self.rng.choice((1 - r, 1 + r))
        return self.rng.uniform(1 - r, 1 + r)

    def _add(self):
        d = self.rng.uniform(100.0, 3000.0)
        self.ls.append(self.ls[-1] + d * self.rates[-1])
        self.ts.append(self.ts[-1] + d)
        self.rates.append(self._rate())

    def local(self, t):
        while self.ts[-1] <= t:
            self._add()
        i = bisect.bisect_right(self.ts, t) - 1
        return self.ls[i] + (t - self.ts[i]) * self.rates[i]

    def true_at(self, lt):
        """The true instant at which this clock reads lt."""
        while self.ls[-1] <= lt:
            self._add()
        i = bisect.bisect_right(self.ls, lt) - 1
        if i < 0:
            return 0.0
        return self.ts[i] + (lt - self.ls[i]) / self.rates[i]


class Net:
    """Loss, duplication, reordering (independent delays) and long delays."""

    def __init__(self, world, rng):
        self.w, self.rng = world, rng
        self.faulty = True
        self.loss, self.dup, self.long_p = 0.05, 0.03, 0.03
        self.sent = 0

    def delay(self):
        d = self.rng.uniform(1.0, 12.0)
        if self.faulty and self.rng.random() < self.long_p:
            d += self.rng.uniform(50.0, 3000.0)
        return d

    def send(self, src, dst, msg):
        self.sent += 1
        w = self.w
        if dst == src.pid:  # in-process, no socket
            w.at(w.t, w.deliver, dst, msg)
            return
        if self.faulty and self.rng.random() < self.loss:
            return
        copies = 2 if self.faulty and self.rng.random() < self.dup else 1
        for _ in range(copies):
            w.at(w.t + self.delay(), w.deliver, dst, msg)


class Loop:
    """The event queue. Process events are dropped when the process crashed
    (its life changed) and queued while it is paused."""

    def __init__(self):
        self.t = 0.0
        self.q = []
        self.seq = 0
        self.stop = False

    def at(self, t, fn, *args):
        heapq.heappush(self.q, (t, self.seq, fn, args))
        self.seq += 1

    def at_proc(self, proc, t, fn, args):
        self.at(t, self._proc_event, proc, proc.life, fn, args)

    @staticmethod
    def _proc_event(proc, life, fn, args):
        if proc.life != life or not proc.up:
            return
        if proc.paused:
            proc.pending.append((fn, args))
            return
        fn(*args)

    def run(self, until):
        q = self.q
        while q and q[0][0] <= until and not self.stop:
            t, _, fn, args = heapq.heappop(q)
            self.t = t
            fn(*args)
        if not self.stop:
            self.t = until
