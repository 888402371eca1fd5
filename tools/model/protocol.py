# SPDX-License-Identifier: Apache-2.0
"""The MEMBERSHIP.md protocol: configurations, voters (V1-V5), acquirers
(A1-A4, with the hand-off standing request and its confirm round) and the
driver (phases 0, R, 1, 2, 3).

Break switches (Params.brk) remove one rule each; see README.md.
"""
import math
import zlib
from collections import namedtuple

Cfg = namedtuple('Cfg', 'E b old new F')  # ballot b = (driver lease token, member id)
DRV = '__drv'  # the reserved resource of the driver lease

BREAKS = {
    'no_joint': 'skip the joint phase: propose C\' straight away (no F)',
    'no_wait': 'skip the phase-2 wait',
    'wait_validity': 'phase-2 wait = ttl_max*(1-rho)/(1+rho) (the validity formula)',
    'wait_from_send': 'phase-2 wait counted from the first send of phase 1',
    'new_floor0': 'new voters ignore F (floor 0)',
    'f_floor_only': 'F raises the floor but not the per-resource fences',
    'f_new_only': 'only new voters apply F',
    'f_any_answer': 'F read from the phase-0 answers (before they accepted E+1)',
    'accept_old': 'voters accept REQUEST/RENEW tagged with an older config',
    'epoch_only': 'configurations named (compared) by epoch alone',
    'no_promise': 'drivers without promise (phase 0) and re-proposal (phase R)',
    'once_per_epoch': 'no ballots: accept once per epoch, no promise, no re-proposal',
    'twins': 'client ids repeat (two clients share one id; restart reuses it)',
    # hand-off study (not rows of MEMBERSHIP.md's table)
    'handoff_nogate': 'hand-off grants skip the V2 gate, stored requests of old configs kept',
    'handoff_nodrop': 'stored requests of older configs kept on a config change (gate kept)',
    'v4_no_valid_check': 'renew acks counted even after the validity ended (with V4)',
}
FIXES = {
    'confirm_strict': 'a hand-off confirm RENEW never re-grants where nothing is live '
                      '(it only extends a live hold of that lease)',
    'renew_eq': "today's re-grant rule (fence == token) instead of V4, for every RENEW",
    'ballot_from_behind': 'a `behind` denial reports the promised ballot; a driver whose driver-lease '
                          'acquire fails proposes with a ballot above it, without the lease',
}


def voters(c):
    return c.old | c.new if c.new is not None else c.old


def maj(group, got):
    return 2 * len(group & got) > len(group)


def quorum(c, got):
    return maj(c.old, got) and (c.new is None or maj(c.new, got))


def can_quorum(c, no):
    return quorum(c, voters(c) - no)


class Params:
    def __init__(self, brk=(), fix=()):
        self.rho = 0.05
        self.margin = 2.0
        self.ttl_max = 1000.0
        self.ttls = (500.0, 1000.0)
        self.confirm = 100.0
        self.att_timeout = 150.0
        self.J = 30.0
        self.evict_p = 0.3
        self.no_auto_p = 0.25  # share of workload acquires without auto-renew
        self.brk = set(brk)
        self.fix = set(fix)
        for b in self.brk:
            assert b in BREAKS, b
        for f in self.fix:
            assert f in FIXES, f

    def cid(self, c):
        if 'epoch_only' in self.brk or 'once_per_epoch' in self.brk:
            return (c.E,)
        return (c.E, c.b)

    def vend(self, t0, ttl):
        return t0 + math.floor(ttl * (1 - self.rho) / (1 + self.rho)) - self.margin

    def quarantine(self):
        return math.ceil(self.ttl_max * (1 + self.rho) / (1 - self.rho))


class Att:
    """One attempt (or standing request) of an acquire."""

    def __init__(self, lease, T, t0, cfg, ttl):
        self.lease, self.T, self.t0, self.cfg, self.ttl = lease, T, t0, cfg, ttl
        self.grants = {}   # voter -> handoff?
        self.denies = {}   # voter -> reason
        self.left = 0.0
        self.htok = 0
        self.free = False
        self.lost = set()  # voters that sent FREE while standing
        self.rnd = 0
        self.t_r = None
        self.rcfg = None
        self.acks = set()
        self.nacks = set()
        self.acked_any = set()


class Lease:
    def __init__(self, lease, T, ttl, vf, ve, cfgs):
        self.lease, self.T, self.ttl, self.vf, self.ve = lease, T, ttl, vf, ve
        self.cfgs = cfgs
        self.rnd = 0
        self.t_r = None
        self.rcfg = None
        self.acks = set()
        self.nacks = set()
        self.ok_rnd = -1
        self.gen = 0
        self.belief = None


class Acq:
    def __init__(self, res, ttl, won, failed, lost):
        self.res, self.ttl = res, ttl
        self.won, self.failed, self.lost = won, failed, lost
        self.state = 'attempt'
        self.att = None
        self.standing = None
        self.lease = None
        self.gen = 0
        self.timeouts = 0
        self.splits = 0
        self.auto = True  # auto-renew (api.md: auto_renew); without it the lease runs to validity_end


class Proc:
    """An acquirer (members and clients alike)."""
    is_member = False

    def __init__(self, w, pid, oid, clock, inc):
        self.w, self.P = w, w.P
        self.pid, self.oid, self.clock, self.inc = pid, oid, clock, inc
        self.up, self.paused, self.pending = True, False, []
        self.life = w.new_life()
        self.serial = 0
        self.cfg = None
        self.hint = {}
        self.acqs = {}
        self.owned = {}
        self.dead = set()
        self.beliefs = []
        self.worker = False
        self.driver = None

    # -- plumbing
    def now(self):
        return self.clock.local(self.w.t)

    def send(self, dst, **m):
        m['src'] = self.pid
        self.w.net.send(self, dst, m)

    def timer(self, lt, fn, *a):
        self.w.at_proc(self, self.clock.true_at(lt) + 1e-6, fn, a)

    def after(self, d, fn, *a):
        self.timer(self.now() + d, fn, *a)

    def rng(self):
        return self.w.rng

    def stat(self, k):
        st = self.w.stats
        st[k] = st.get(k, 0) + 1

    def recv(self, m):
        getattr(self, 'on_' + m['t'])(m)

    # -- A1
    def adopt(self, rec):
        if rec is None:
            return False
        if self.cfg is None or self.P.cid(rec) > self.P.cid(self.cfg):
            self.cfg = rec
            return True
        return False

    def hint_up(self, res, v):
        if v and v > self.hint.get(res, 0):
            self.hint[res] = v

    def jitter(self, a):
        return self.w.rng.uniform(0, self.P.J * 2 ** min(a.splits, 6))

    # -- acquire
    def acquire(self, res, ttl, won, failed, lost, wait):
        a = Acq(res, ttl, won, failed, lost)
        self.acqs[res] = a
        self.after(wait, self._giveup, a)
        self._attempt(a)
        return a

    def _new_att(self, a, T=None):
        self.serial += 1
        att = Att((self.oid, self.inc, self.serial),
                  T if T is not None else self.hint.get(a.res, 0) + 1,
                  self.now(), self.cfg, a.ttl)
        self.owned[att.lease] = a
        return att

    def _attempt(self, a, reuse=None):
        if self.acqs.get(a.res) is not a:
            return
        a.gen += 1
        if reuse is not None:
            att = reuse
            att.denies, att.left, att.htok, att.free, att.lost = {}, 0.0, 0, False, set()
        else:
            att = self._new_att(a)
        a.att, a.standing, a.state = att, None, 'attempt'
        for v in voters(att.cfg):
            self.send(v, t='REQ', res=a.res, lease=att.lease, T=att.T, ttl=att.ttl,
                      cfg=att.cfg, owner=self.oid)
        to = min(self.P.att_timeout * 2 ** a.timeouts, 1200.0)
        self.after(to, self._att_timeout, a, a.gen)
        if reuse is not None:
            self._check_won(a, att)

    def _att_timeout(self, a, g):
        if a.gen != g or self.acqs.get(a.res) is not a:
            return
        if a.state == 'attempt':
            a.timeouts += 1
            self._fail(a, 'timeout')
        elif a.state == 'confirm':
            self._fail_confirm(a)

    def _give_back(self, att):
        self.dead.add(att.lease)
        for v in set(att.grants) | att.acked_any:
            self.send(v, t='REL', res=self._res_of(att), lease=att.lease,
                      T=att.T, owner=self.oid)

    def _res_of(self, att):
        return self.owned[att.lease].res

    def _drop_standing(self, a):
        st = a.standing
        if st is not None:
            self._give_back(st)
            a.standing = None

    def _fail(self, a, why):
        att = a.att
        a.gen += 1
        gave_back = bool(att.grants)
        if gave_back:
            self._give_back(att)
            a.splits += 1
        reasons = set(att.denies.values())
        if why == 'config':
            return self._attempt(a)
        if why == 'denied' and reasons and reasons <= {'stale'}:
            return self._attempt(a)
        held = {v for v, r in att.denies.items() if r == 'held'}
        wait = self.jitter(a)
        if why == 'denied' and not gave_back and quorum(att.cfg, held):
            if att.T > att.htok:
                st = att
            else:
                st = self._new_att(a, max(self.hint.get(a.res, 0), att.htok) + 1)
                for v in held:
                    self.send(v, t='REQ', res=a.res, lease=st.lease, T=st.T, ttl=st.ttl,
                              cfg=st.cfg, owner=self.oid)
            if not att.free:
                wait += att.left
        else:
            st = None
            if att.lease not in self.dead:
                self.dead.add(att.lease)
        a.att, a.standing, a.state = None, st, 'backoff'
        self.after(wait, self._retry, a, a.gen)

    def _retry(self, a, g):
        if a.gen != g or a.state != 'backoff' or self.acqs.get(a.res) is not a:
            return
        st = a.standing
        if (st is not None and st.lease not in self.dead and self.now() - st.t0 < st.ttl / 2
                and self.P.cid(st.cfg) == self.P.cid(self.cfg)):
            return self._attempt(a, reuse=st)
        self._drop_standing(a)
        self._attempt(a)

    def _giveup(self, a):
        if self.acqs.get(a.res) is not a or a.state not in ('attempt', 'backoff', 'confirm'):
            return
        if a.att is not None:
            self._give_back(a.att)
        self._drop_standing(a)
        a.state = 'done'
        a.gen += 1
        del self.acqs[a.res]
        a.failed(a)

    def _not_pursued(self, m):
        self.send(m['src'], t='REL', res=m['res'], lease=m['lease'], T=m['T'], owner=self.oid)
        b = self.acqs.get(m['res'])
        if b is not None and b.state == 'backoff':
            self._on_free(b, m['src'])

    def on_GRANT(self, m):
        lease = m['lease']
        a = self.owned.get(lease)
        if a is None or lease in self.dead or self.acqs.get(a.res) is not a:
            return self._not_pursued(m)
        if a.state in ('held', 'confirm'):
            cur = a.lease.lease if a.state == 'held' else a.att.lease
            if cur == lease:
                if a.state == 'confirm':
                    a.att.grants[m['src']] = m['handoff']
                return
            return self._not_pursued(m)
        if a.state == 'attempt' and a.att.lease == lease:
            att = a.att
        elif a.state == 'backoff' and a.standing is not None and a.standing.lease == lease:
            att = a.standing
        else:
            return self._not_pursued(m)
        att.grants[m['src']] = m['handoff']
        att.denies.pop(m['src'], None)
        att.lost.discard(m['src'])
        if a.state == 'backoff' and quorum(att.cfg, set(att.grants)):
            a.gen += 1
            a.att, a.standing, a.state = att, None, 'attempt'
            self.after(min(self.P.att_timeout * 2 ** a.timeouts, 1200.0), self._att_timeout, a, a.gen)
        if a.state == 'attempt':
            self._check_won(a, att)

    def _check_won(self, a, att):
        if not quorum(att.cfg, set(att.grants)):
            return
        if any(att.grants.values()):
            return self._confirm(a, att)
        ve = self.P.vend(att.t0, att.ttl)
        if self.now() < ve:
            return self._won(a, att, att.t0, ve)
        self._fail(a, 'late')

    def on_DENY(self, m):
        res = m['res']
        self.hint_up(res, m.get('fence', 0))
        self.hint_up(res, m.get('htok', 0))
        a = self.owned.get(m['lease'])
        if m['reason'] == 'behind':
            self.promised_seen = max(getattr(self, 'promised_seen', (0, 0)), m['promised'])
        if m['reason'] == 'config':
            newer = self.adopt(m['cfg'])
        else:
            newer = False
        if (a is None or self.acqs.get(res) is not a or a.state != 'attempt'
                or a.att.lease != m['lease']):
            return
        att = a.att
        if m['src'] in att.grants:
            return
        if newer:
            return self._fail(a, 'config')
        att.denies[m['src']] = m['reason']
        if m['reason'] == 'held':
            att.left = max(att.left, m['left'])
            att.htok = max(att.htok, m['htok'])
        if not can_quorum(att.cfg, set(att.denies)):
            self._fail(a, 'denied')

    def on_FREE(self, m):
        self.hint_up(m['res'], m['fence'])
        a = self.acqs.get(m['res'])
        if a is not None:
            self._on_free(a, m['src'])

    def _on_free(self, a, src):
        if a.state == 'attempt':
            a.att.free = True
        elif a.state == 'confirm':
            att = a.att
            att.nacks.add(src)
            if not can_quorum(att.rcfg, att.nacks):
                self._fail_confirm(a)
        elif a.state == 'backoff':
            st = a.standing
            extra = 0.0
            if st is not None:
                st.lost.add(src)
                st.grants.pop(src, None)
                if not can_quorum(st.cfg, st.lost):
                    self._drop_standing(a)
                else:
                    extra = self.P.J  # wait a round trip longer for hand-off grants
            a.gen += 1
            self.after(self.jitter(a) + extra, self._retry, a, a.gen)

    # -- hand-off confirm round (protocol.md, Hand-off)
    def _confirm(self, a, att):
        a.gen += 1
        a.state, a.att = 'confirm', att
        att.rnd += 1
        att.t_r, att.rcfg = self.now(), self.cfg
        att.acks, att.nacks = set(), set()
        for v in voters(att.rcfg):
            self.send(v, t='RENEW', res=a.res, lease=att.lease, T=att.T, ttl=att.ttl,
                      rnd=att.rnd, cfg=att.rcfg, owner=self.oid, confirm=True)
        self.after(2 * self.P.att_timeout, self._att_timeout, a, a.gen)

    def _fail_confirm(self, a):
        att = a.att
        a.gen += 1
        self._give_back(att)
        a.splits += 1
        a.att, a.standing, a.state = None, None, 'backoff'
        self.after(self.jitter(a), self._retry, a, a.gen)

    def on_RACK(self, m):
        self.hint_up(m['res'], m.get('fence', 0))
        lease = m['lease']
        a = self.owned.get(lease)
        if a is None or lease in self.dead or self.acqs.get(a.res) is not a:
            if m['ok']:
                self.send(m['src'], t='REL', res=m['res'], lease=lease, T=m['T'], owner=self.oid)
            return
        newer = m['reason'] == 'config' and self.adopt(m['cfg'])
        if a.state == 'confirm' and a.att.lease == lease:
            att = a.att
            if m['rnd'] != att.rnd:
                return
            if m['ok']:
                att.acked_any.add(m['src'])
                if m['src'] in voters(att.rcfg):
                    att.acks.add(m['src'])
                    if quorum(att.rcfg, att.acks):
                        self._won(a, att, att.t_r, self.P.vend(att.t_r, att.ttl))
                return
            if newer:
                return self._confirm(a, att)
            att.nacks.add(m['src'])
            if not can_quorum(att.rcfg, att.nacks):
                self._fail_confirm(a)
        elif a.state == 'held' and a.lease.lease == lease:
            self._renew_ack(a, a.lease, m, newer)
        elif m['ok']:
            self.send(m['src'], t='REL', res=m['res'], lease=lease, T=m['T'], owner=self.oid)

    # -- holding
    def _won(self, a, att, vf, ve):
        a.gen += 1
        if self.now() >= ve:
            self._give_back(att)
            a.att, a.state = None, 'backoff'
            self.after(self.jitter(a), self._retry, a, a.gen)
            return
        cfgs = [att.cfg] + ([att.rcfg] if att.rcfg is not None else [])
        L = Lease(att.lease, att.T, att.ttl, vf, ve, cfgs)
        L.granted = set(att.grants) | att.acked_any
        a.state, a.lease, a.att, a.standing = 'held', L, None, None
        a.timeouts = a.splits = 0
        L.belief = self.w.checker.begin(a.res, self, L)
        self._sched(a, L)
        a.won(a)

    def _sched(self, a, L):
        L.gen += 1
        g = L.gen
        if a.auto:
            self.timer(L.vf + (L.ve - L.vf) / 3, self._renew_round, a, L, g)
            self.timer(L.ve - (L.ve - L.vf) / 5, self._cutoff, a, L, g)
        self.timer(L.ve, self._expire, a, L)

    def _renew_round(self, a, L, g):
        if a.lease is not L or a.state != 'held' or L.gen != g:
            return
        if self.now() >= L.ve - (L.ve - L.vf) / 5:
            return
        L.rnd += 1
        L.t_r, L.rcfg = self.now(), self.cfg
        L.acks, L.nacks = set(), set()
        if L.rcfg not in L.cfgs:
            L.cfgs.append(L.rcfg)
        for v in voters(L.rcfg):
            self.send(v, t='RENEW', res=a.res, lease=L.lease, T=L.T, ttl=L.ttl, rnd=L.rnd,
                      cfg=L.rcfg, owner=self.oid, confirm=False)
        self.after(100.0, self._renew_round, a, L, g)

    def _renew_ack(self, a, L, m, newer):
        if m['rnd'] != L.rnd:
            return
        if self.now() >= L.ve and 'v4_no_valid_check' not in self.P.brk:
            return  # acks count only while the lease is still valid
        if m['ok']:
            if m['src'] in voters(L.rcfg):
                L.acks.add(m['src'])
                if quorum(L.rcfg, L.acks) and L.ok_rnd != L.rnd:
                    L.ok_rnd = L.rnd
                    nve = self.P.vend(L.t_r, L.ttl)
                    if nve > L.ve:
                        L.ve, L.vf = nve, L.t_r
                        self.w.checker.extend(L.belief, self)
                        self._sched(a, L)
            return
        if newer:
            L.gen += 1
            return self._renew_round(a, L, L.gen)
        if m['reason'] in ('superseded', 'not_current', 'stale'):
            L.nacks.add(m['src'])
            if not can_quorum(L.rcfg, L.nacks):
                self._end_lease(a, L, 'superseded')

    def _cutoff(self, a, L, g):
        if a.lease is L and a.state == 'held' and L.gen == g:
            self._end_lease(a, L, 'renew_failing')

    def _expire(self, a, L):
        if a.lease is L and a.state == 'held' and self.now() >= L.ve:
            self._end_lease(a, L, 'expired')

    def release(self, a):
        if a.state == 'held' and self.acqs.get(a.res) is a:
            self._end_lease(a, a.lease, 'release')

    def _end_lease(self, a, L, why):
        self.w.checker.end(L.belief, self.w.t)
        self.dead.add(L.lease)
        to = set()
        for c in L.cfgs + [self.cfg]:
            to |= voters(c)  # A4
        for v in to:
            self.send(v, t='REL', res=a.res, lease=L.lease, T=L.T, owner=self.oid)
        a.state = 'done'
        a.gen += 1
        L.gen += 1
        if self.acqs.get(a.res) is a:
            del self.acqs[a.res]
        if why != 'release':
            a.lost(a, why)

    # -- the workload: acquire, hold with auto-renew, release, repeat
    def start_worker(self):
        self.worker = True
        self.after(self.w.rng.uniform(10, 300), self._work)

    def _work(self):
        if self.cfg is None:
            return self.after(100, self._work)
        res = getattr(self, 'fixed_res', None) or self.w.rng.choice(self.w.resources)
        if res in self.acqs:
            return self.after(100, self._work)
        a = self.acquire(res, self.w.rng.choice(self.P.ttls), self._w_won, self._w_next,
                         self._w_lost, 6000.0)
        if self.P.no_auto_p > 0:  # (0: the random streams of the first version, no draw)
            a.auto = self.w.rng.random() >= self.P.no_auto_p

    def _w_won(self, a):
        self.after(self.w.rng.uniform(50, 2500), self._w_release, a)

    def _w_release(self, a):
        if a.state == 'held':
            self.release(a)
            self.after(self.w.rng.uniform(20, 600), self._work)

    def _w_next(self, a):
        self.after(self.w.rng.uniform(20, 600), self._work)

    def _w_lost(self, a, why):
        self.w.stats['lost_' + why] = self.w.stats.get('lost_' + why, 0) + 1
        self.after(self.w.rng.uniform(20, 600), self._work)

    # messages a plain acquirer ignores
    def on_CREPLY(self, m):
        self.adopt(m['cfg'])

    def on_REQ(self, m):
        pass

    def on_RENEW(self, m):
        pass

    def on_REL(self, m):
        pass


class Client(Proc):
    """A client: random id in its own namespace, never votes; bootstraps
    its config with CONFIG_QUERY to a seed member."""

    def __init__(self, w, pid, oid, clock):
        super().__init__(w, pid, oid, clock, 0)
        self._query()

    def _query(self):
        if self.cfg is None:
            self.send(self.w.rng.choice(self.w.member_ids), t='CQUERY')
            self.after(100, self._query)


class Entry:
    __slots__ = ('fence', 'flag', 'hold', 'waiters')

    def __init__(self, fence):
        self.fence, self.flag, self.hold, self.waiters = fence, 'floor', None, {}


class Hold:
    __slots__ = ('lease', 'T', 'owner', 'expiry', 'unconfirmed')

    def __init__(self, lease, T, owner, expiry, unconfirmed):
        self.lease, self.T, self.owner = lease, T, owner
        self.expiry, self.unconfirmed = expiry, unconfirmed


class Member(Proc):
    """A member: a voter and an acquirer. pst is the persisted state:
    cfg record, promised ballot, floor reservation, incarnation."""
    is_member = True

    def __init__(self, w, mid, clock, pst, restarted):
        super().__init__(w, mid, mid, clock, pst['inc'])
        self.pst = pst
        self.floor = pst['res']  # the reservation covers every token ever stored (and F)
        self.entries = {}
        self.q_until = self.now() + self.P.quarantine() if restarted else -1.0
        self.cfg = pst['cfg']

    @property
    def vcfg(self):
        return self.pst['cfg']

    # -- voter state
    def entry(self, res):
        e = self.entries.get(res)
        if e is None:
            e = self.entries[res] = Entry(self.floor)
        return e

    def max_stored(self):
        return max([self.floor] + [e.fence for e in self.entries.values()])

    def reserve(self, T):
        if T > self.pst['res']:
            self.pst['res'] = T

    def voting(self):
        return self.now() >= self.q_until and self.pid in voters(self.vcfg)

    # -- V1
    def accept(self, rec):
        P, brk = self.P, self.P.brk
        cur = self.vcfg
        if 'once_per_epoch' in brk:
            ok = rec.E > cur.E
        elif 'no_promise' in brk:
            ok = P.cid(rec) > P.cid(cur)
        else:
            ok = rec.b >= self.pst['promised'] and P.cid(rec) > P.cid(cur)
        if not ok:
            return False
        # a new voter of this change: not in C, the old voter set (cur is C itself
        # for a straggler that skips the joint config, or the joint (C, C'))
        newcomer = self.pid not in cur.old
        self.pst['promised'] = max(self.pst['promised'], rec.b)
        self.pst['cfg'] = rec  # persisted before acting
        if rec.new is None and rec.F:
            self.apply_F(rec.F, newcomer)
        if 'handoff_nogate' not in brk and 'handoff_nodrop' not in brk:
            for e in self.entries.values():  # V2: drop stored requests of an older config
                for o in [o for o, (sm, _) in e.waiters.items() if P.cid(sm['cfg']) < P.cid(rec)]:
                    del e.waiters[o]
        self.adopt(rec)
        return True

    def apply_F(self, F, newcomer):
        brk = self.P.brk
        if 'new_floor0' in brk and newcomer:
            return
        if 'f_new_only' in brk and not newcomer:
            return
        self.floor = max(self.floor, F)
        self.reserve(F)
        if 'f_floor_only' in brk:
            return
        for e in self.entries.values():
            if e.fence < F:
                e.fence, e.flag = F, 'F'

    # -- V2
    def gate(self, m):
        P = self.P
        rid, mine = P.cid(m['cfg']), P.cid(self.vcfg)
        if rid < mine:
            if 'accept_old' not in P.brk:
                return 'config'
        elif rid > mine:
            if not self.accept(m['cfg']):
                return 'behind'
        if self.pid not in voters(self.vcfg):
            return 'not_voter'  # V5
        if self.now() < self.q_until:
            return 'quarantined'
        return None

    def expire(self, res):
        e = self.entries.get(res)
        if e is not None and e.hold is not None and self.now() >= e.hold.expiry:
            self.end_hold(res, e)

    def _hold_timer(self, res):
        self.expire(res)

    def grant(self, res, e, m, dur, unconfirmed):
        if m['T'] > e.fence:
            e.fence, e.flag = m['T'], 'grant'
        self.reserve(m['T'])
        e.hold = Hold(m['lease'], m['T'], m['owner'], self.now() + dur, unconfirmed)
        self.timer(e.hold.expiry, self._hold_timer, res)

    def on_REQ(self, m):
        res = m['res']
        self.expire(res)
        why = self.gate(m)
        if why is not None:
            self.stat('deny_' + why)
            return self.send(m['src'], t='DENY', res=res, lease=m['lease'], T=m['T'],
                             reason=why, cfg=self.vcfg, fence=0, htok=0, left=0.0,
                             promised=self.pst['promised'])
        if m['ttl'] > self.P.ttl_max:
            return self.send(m['src'], t='DENY', res=res, lease=m['lease'], T=m['T'],
                             reason='ttl', cfg=self.vcfg, fence=0, htok=0, left=0.0)
        e = self.entry(res)
        h = e.hold
        if h is not None:
            if h.lease == m['lease'] and h.T == m['T']:
                return self.send(m['src'], t='GRANT', res=res, lease=m['lease'], T=m['T'],
                                 handoff=h.unconfirmed)
            e.waiters[m['owner']] = (m, self.now())
            return self.send(m['src'], t='DENY', res=res, lease=m['lease'], T=m['T'],
                             reason='held', cfg=self.vcfg, fence=e.fence, htok=h.T,
                             left=h.expiry - self.now())
        if m['T'] <= e.fence:
            return self.send(m['src'], t='DENY', res=res, lease=m['lease'], T=m['T'],
                             reason='stale', cfg=self.vcfg, fence=e.fence, htok=0, left=0.0)
        self.grant(res, e, m, m['ttl'], False)
        self.send(m['src'], t='GRANT', res=res, lease=m['lease'], T=m['T'], handoff=False)

    def on_RENEW(self, m):
        res = m['res']
        self.expire(res)

        def ack(ok, reason, fence=0):
            self.send(m['src'], t='RACK', res=res, lease=m['lease'], T=m['T'], rnd=m['rnd'],
                      ok=ok, reason=reason, cfg=self.vcfg, fence=fence)

        why = self.gate(m)
        if why is not None:
            return ack(False, why)
        e = self.entry(res)
        h = e.hold
        if h is not None:
            if h.lease == m['lease']:
                h.expiry = max(h.expiry, self.now() + m['ttl'])
                h.unconfirmed = False
                self.timer(h.expiry, self._hold_timer, res)
                return ack(True, None)
            return ack(False, 'not_current', e.fence)
        fix = self.P.fix
        if 'renew_eq' in fix or (m['confirm'] and 'confirm_strict' in fix):
            if e.fence != m['T']:
                return ack(False, 'stale', e.fence)
        elif e.fence > m['T'] and e.flag == 'grant':  # V4
            return ack(False, 'superseded', e.fence)
        self.stat('regrant_confirm' if m['confirm'] else 'regrant_renew')
        if e.fence > m['T']:
            self.stat('regrant_above_fence_' + ('confirm' if m['confirm'] else 'renew'))
        self.grant(res, e, m, m['ttl'], False)  # re-grant; never lowers the fence
        ack(True, None)

    def on_REL(self, m):
        res = m['res']
        self.expire(res)
        e = self.entries.get(res)
        if e is None:
            return
        for o in [o for o, (sm, _) in e.waiters.items() if sm['lease'] == m['lease']]:
            del e.waiters[o]
        h = e.hold
        if h is not None and h.lease == m['lease'] and h.owner == m['owner']:
            self.end_hold(res, e)

    def _handoff_ok(self, sm):
        P = self.P
        if 'handoff_nogate' in P.brk:
            return self.voting()
        rid, mine = P.cid(sm['cfg']), P.cid(self.vcfg)
        if rid < mine and 'accept_old' not in P.brk:
            return False
        if rid > mine and not self.accept(sm['cfg']):
            return False
        return self.voting()

    def end_hold(self, res, e):
        e.hold = None
        now = self.now()
        cands = []
        for o, (sm, rt) in e.waiters.items():
            if now - rt > sm['ttl'] / 2 or sm['T'] <= e.fence or sm['ttl'] > self.P.ttl_max:
                continue
            cands.append(sm)
        chosen = None
        for sm in sorted(cands, key=lambda sm: zlib.crc32(repr(sm['lease']).encode())):
            if self._handoff_ok(sm):
                chosen = sm
                break
        if chosen is not None:
            self.w.stats['handoffs'] = self.w.stats.get('handoffs', 0) + 1
            if self.P.cid(chosen['cfg']) < self.P.cid(self.vcfg):
                self.w.stats['handoffs_old_cfg'] = self.w.stats.get('handoffs_old_cfg', 0) + 1
            self.grant(res, e, chosen, min(chosen['ttl'], self.P.confirm), True)
            self.send(chosen['src'], t='GRANT', res=res, lease=chosen['lease'], T=chosen['T'],
                      handoff=True)
        for o, (sm, rt) in e.waiters.items():
            if sm is not chosen:
                self.send(sm['src'], t='FREE', res=res, fence=e.fence)
        e.waiters = {}
        if e.hold is None and self.w.rng.random() < self.P.evict_p:
            self.floor = max(self.floor, e.fence)  # evicted: folded into the floor
            del self.entries[res]

    # -- configuration messages
    def on_CREAD(self, m):
        if m['src'] not in self.w.member_ids:
            return
        ok = m['b'] >= self.pst['promised']
        if ok:
            self.pst['promised'] = m['b']
        self.send(m['src'], t='CREADR', ok=ok, cfg=self.vcfg, ms=self.max_stored(), b=m['b'])

    def on_CPROP(self, m):
        if m['src'] not in self.w.member_ids:
            return
        rec = m['rec']
        self.accept(rec)
        if 'no_promise' in self.P.brk or 'once_per_epoch' in self.P.brk:
            ok = True
        else:
            ok = rec.b >= self.pst['promised']
        self.send(m['src'], t='CACK', ok=ok, rec=self.vcfg, ms=self.max_stored(), prop=rec)

    def on_CQUERY(self, m):
        self.send(m['src'], t='CREPLY', cfg=self.vcfg)

    def on_CREADR(self, m):
        if self.driver is not None:
            self.driver.on_read(m)

    def on_CACK(self, m):
        if self.driver is not None:
            self.driver.on_ack(m)


class Driver:
    """Reconfiguration driver for one call (target voter set)."""

    def __init__(self, m, call):
        self.m, self.call, self.P = m, call, m.P
        self.gen = 0
        self.ph = None
        self.retries = 3
        self.lease_acq = None

    def start(self):
        if self.m.driver is not self:
            return
        self.gen += 1
        self.ph = 'lease'
        if DRV in self.m.acqs:
            return self.m.after(200, self.start)
        self.lease_acq = self.m.acquire(DRV, self.P.ttl_max, self._leased, self._lease_failed,
                                        lambda a, why: None, 5000.0)

    def _leased(self, a):
        if self.ph != 'lease':
            return
        self.b = (a.lease.T, self.m.oid)
        self.phase0()

    def _lease_failed(self, a):
        ps = getattr(self.m, 'promised_seen', None)
        if 'ballot_from_behind' in self.P.fix and ps is not None and self.ph == 'lease':
            self.w_stat('driver_ballot_from_behind')
            self.b = (ps[0] + 1, self.m.oid)
            return self.phase0()
        self.abort('lease')

    def abort(self, why):
        if self.ph is None:
            return
        self.w_stat('driver_abort_' + why)
        self.ph = None
        self.gen += 1
        self._release_lease()
        if self.call['final'] or self.retries > 0:
            self.retries -= 1
            self.m.after(self.m.w.rng.uniform(200, 1000), self.start)
        else:
            self.call['status'] = 'aborted'
            self.m.driver = None

    def w_stat(self, k):
        st = self.m.w.stats
        st[k] = st.get(k, 0) + 1

    def _release_lease(self):
        a = self.lease_acq
        if a is not None and a.state == 'held':
            self.m.release(a)

    # phase 0
    def phase0(self):
        self.gen += 1
        self.ph = 'read'
        self.K = self.m.cfg
        self.resp = set()
        self.Fany = 0
        brk = self.P.brk
        if 'no_promise' in brk or 'once_per_epoch' in brk:
            K = self.K
            C = K.old if K.new is None else K.new
            if C == self.call['target']:
                return self.done()
            return self.phase1(K.E + 1, C, self.call['target'])
        self._deadline(self.gen)
        self._reads(self.gen)

    def _deadline(self, g):
        self.m.after(5000.0, self._timeout, g)

    def _timeout(self, g):
        if g == self.gen:
            self.abort('timeout')

    def _reads(self, g):
        if g != self.gen or self.ph != 'read':
            return
        for v in voters(self.K) - self.resp:
            self.m.send(v, t='CREAD', b=self.b)
        self.m.after(150.0, self._reads, g)

    def on_read(self, m):
        if self.ph != 'read' or m['b'] != self.b:
            return
        if not m['ok']:
            return self.abort('refused')
        rec = m['cfg']
        self.Fany = max(self.Fany, m['ms'])
        if self.P.cid(rec) > self.P.cid(self.K):
            self.K = rec
            self.resp = set()
            self.m.adopt(rec)
            for v in voters(rec):
                self.m.send(v, t='CREAD', b=self.b)
            return
        if m['src'] in voters(self.K):
            self.resp.add(m['src'])
            if quorum(self.K, self.resp):
                self.phaseR()

    # phase R
    def phaseR(self):
        K = self.K
        if K.new is not None:
            return self.phase1(K.E, K.old, K.new)
        rec = Cfg(K.E, self.b, K.old, None, K.F)
        self.propose(rec, voters(K), K.old, self._after_R)

    def _after_R(self, rec, acks):
        if rec.old == self.call['target']:
            return self.done()
        self.phase1(rec.E + 1, rec.old, self.call['target'])

    # generic proposal with periodic resend
    def propose(self, rec, to, group, then):
        self.gen += 1
        self.ph = 'prop'
        self.rec, self.to, self.group, self.then = rec, to, group, then
        self.acks = {}
        self.committed = False
        self._deadline(self.gen)
        self._props(self.gen)

    def _props(self, g):
        if g != self.gen or self.ph != 'prop':
            return
        for v in self.to - set(self.acks):
            self.m.send(v, t='CPROP', rec=self.rec)
        self.m.after(150.0, self._props, g)

    def _same(self, a, b):
        if 'epoch_only' in self.P.brk:
            return self.P.cid(a) == self.P.cid(b)
        return a == b

    def on_ack(self, m):
        if self.ph != 'prop' or m['prop'] != self.rec:
            return
        if not m['ok']:
            return self.abort('refused')
        if not self._same(m['rec'], self.rec):
            return
        self.acks[m['src']] = m['ms']
        if maj(self.group, set(self.acks) & self.group):
            self.ph = 'committed'
            self.gen += 1
            q = {v: ms for v, ms in self.acks.items() if v in self.group}
            self.then(self.rec, q)

    # phase 1
    def phase1(self, E1, C, C2):
        if 'no_joint' in self.P.brk:
            rec = Cfg(E1, self.b, C2, None, 0)
            return self.propose(rec, C | C2, C2, self._final_committed)
        self.t_send = self.m.now()
        rec = Cfg(E1, self.b, C, C2, 0)
        self.propose(rec, C | C2, C, self._joint_committed)

    def _joint_committed(self, rec, q):
        P, brk = self.P, self.P.brk
        t_q = self.t_send if 'wait_from_send' in brk else self.m.now()
        F = max(q.values())
        if 'f_any_answer' in brk:
            F = self.Fany
        if 'no_wait' in brk:
            W = 0
        elif 'wait_validity' in brk:
            W = math.floor(P.ttl_max * (1 - P.rho) / (1 + P.rho))
        else:
            W = math.ceil(P.ttl_max) + P.margin
        self.ph = 'wait'
        self.gen += 1
        self.m.timer(t_q + W, self._phase3, self.gen, rec, F)

    def _phase3(self, g, rec, F):
        if g != self.gen or self.ph != 'wait':
            return
        rec3 = Cfg(rec.E + 1, self.b, rec.new, None, F)
        self.propose(rec3, rec.old | rec.new, rec.new, self._final_committed)

    def _final_committed(self, rec3, q):
        self.w_stat('changes')
        self.m.w.changes_completed += 1
        self._stragglers(rec3, set(q), 0)
        if rec3.old == self.call['target']:
            return self.done()
        self.phase1(rec3.E + 1, rec3.old, self.call['target'])

    def _stragglers(self, rec3, acked, n):
        if n >= 15:
            return
        for v in rec3.old - acked:
            self.m.send(v, t='CPROP', rec=rec3)
        self.m.after(200.0, self._stragglers, rec3, acked, n + 1)

    def done(self):
        self.ph = None
        self.gen += 1
        self._release_lease()
        self.call['status'] = 'done'
        self.call['done_t'] = self.m.w.t
        self.m.driver = None
        if self.call['final']:
            self.m.w.final_done()
