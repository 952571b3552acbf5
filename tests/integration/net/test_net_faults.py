#!/usr/bin/env python3
"""Real network faults between `smsmux pipe` and the SMSCs of one site, made
in that site's own network namespace (netlib.py), under a steady MT load:

  blackhole  DROP both ways (no FIN, no RST): the site's binds are declared
             dead by the response / enquire_link timers within their bound,
             the MTs in flight there move, R2 holds on the way back;
  rst        every segment answered by a RST, mid-session and on connect;
  loss2 / loss10  2 % / 10 % of the site's segments dropped at random;
  tbf        the site's bandwidth collapses (tc tbf): traffic shifts by
             window pressure, no response timeouts, no bind lost;
  halfopen   the site's namespace is deleted while connected, then rebuilt;
  dns        the site's SMSC name resolves late, then not at all (dnsmasq
             behind a relay that delays or a firewall that drops);
  simstall   the simulator's stall on the site's SMSCs (no network fault),
             with R2 checked on the wire as well as in the ledger.

Every scenario checks: each MT exactly one outcome and all `submitted`, the
simulator's ledger shows each delivered once at the handset (no duplicate,
no violation: R2 and R5), one DR event per MT, R2 on the wire (first SYN of
each connection attempt seen by tcpdump) and in the client's stats. It
prints (TAP comments) the outcome latency p50/p99 of MTs on the healthy site
in a no-fault baseline and during the fault, and asserts only gross
regressions (no healthy-site MT waits past the detection bound).

Usage: test_net_faults.py FAULT SMSMUX SMSC_SIM
Env: NET_FAULT_SECONDS (default 20) length of the fault phase,
     NET_RATE (default 100) MTs per second."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlib  # noqa: E402
from netlib import Pipe, SimProc, SynWatch, Tap, Topology, percentile  # noqa: E402

FAULT, SMX, SIM = sys.argv[1], sys.argv[2], sys.argv[3]
FAULT_S = float(os.environ.get("NET_FAULT_SECONDS", "20"))
RATE = float(os.environ.get("NET_RATE", "100"))
BASE_S = 8.0
REBIND_S = 5
CLIENT = {
    "rebind_interval_ms": REBIND_S * 1000,
    "rebind_jitter_ms": 500,
    "connect_timeout_ms": 2000,
    "bind_timeout_ms": 3000,
    "unbind_timeout_ms": 1000,
    "response_timeout_ms": 3000,
    "enquire_link_interval_ms": 1000,
    "enquire_link_timeout_ms": 1500,
    "window": 10,
    "workers": 2,
}
# the longest a dead bind may keep an MT: its response timer, then the
# enquire_link probe's; plus slack for a loaded 2-core machine
DETECT_BOUND_S = (CLIENT["response_timeout_ms"] + CLIENT["enquire_link_interval_ms"] +
                  CLIENT["enquire_link_timeout_ms"]) / 1000.0 + 3.0
# The simulator checks R2 at accept time, which the network delays (a queued
# or retransmitted SYN); it checks 2 s less than the client's interval, while
# the wire check (SYNs leaving APP, SynWatch) holds the client to the full one.
SIM_R2_S = REBIND_S - 2
SIM_KNOBS = {
    "resp_latency_ms": "1-5",
    "dr_delay_ms": "50-300",
    "other_site_prob": "0.3",
    "deliver_timeout_ms": "2000",
    "deliver_max_sends": "20",
}
SITES = ["s1", "s2"]
HEALTHY, FAULTY = "s1", "s2"

tap = Tap()


def smsc_args(sim, faulty_host=None):
    out = []
    for name, site, hp in sim.smscs:
        if faulty_host and site == FAULTY:
            hp = "%s:%s" % (faulty_host, hp.rsplit(":", 1)[1])
        out += ["--smsc", "%s@%s=%s" % (name, site, hp)]
    return out


def site_of(sim):
    return {n: s for n, s, _ in sim.smscs}


class Run:
    """One scenario: topology, simulator, pipe, a SYN watcher on the faulty site."""

    def __init__(self, faulty_host=None, dns=False, knobs=None, client=None):
        self.topo = Topology(SITES)
        try:
            self._start(faulty_host, dns, dict(SIM_KNOBS, **(knobs or {})),
                        dict(CLIENT, **(client or {})))
        except BaseException:
            self.topo.close()
            raise

    def _start(self, faulty_host, dns, knobs, client):
        self.dns = None
        if dns:
            self.dns = DnsSide(self.topo)
        self.sim = SimProc(self.topo, SIM, rebind_interval=SIM_R2_S, knobs=knobs)
        self.site = site_of(self.sim)
        self.syn = SynWatch(self.topo, FAULTY)
        self.pipe = Pipe(self.topo, SMX, smsc_args(self.sim, faulty_host), client)
        names = set(self.sim.names())
        if not self.pipe.wait(lambda ev: self.pipe.binds_up(names) == names, 30):
            raise AssertionError("binds not up: %s\n%s" % (self.pipe.bind_events(),
                                                           self.pipe.stderr()[-2000:]))
        self.t_load = time.time()
        self.pipe.start_load(RATE)
        time.sleep(BASE_S)
        self.t_fault = time.time()
        self.t_restore = None

    def faulty_up(self):
        names = set(self.sim.names(FAULTY))
        return self.pipe.binds_up(names) == names

    def down_times(self):
        """First down event after the fault, per faulty SMSC, seconds after it."""
        out = {}
        for t, e in self.pipe.bind_events("down"):
            if t >= self.t_fault and self.site.get(e["smsc"]) == FAULTY and e["smsc"] not in out:
                out[e["smsc"]] = (t - self.t_fault, e.get("reason"))
        return out

    def finish(self):
        """Stop the load, collect outcomes, DRs, stats, the ledger; run the
        checks every scenario shares. Returns figures for the scenario's own."""
        self.t_end = time.time()
        self.pipe.end_load()
        sent = dict(self.pipe.sent)
        done = self.pipe.wait(lambda ev: set(sent) <= set(self.pipe.outcomes()), 90)
        oc = self.pipe.outcomes()
        submitted = {i for i, v in oc.items() if len(v) == 1 and v[0][1]["event"] == "submitted"}
        self.pipe.wait(lambda ev: sum(1 for _, e in ev if e.get("event") == "dr") >= len(submitted),
                       30)
        stats = self.pipe.stats()
        rc = self.pipe.close()
        ledger = self.sim.stop()
        ev = self.pipe.snapshot()
        f = {"sent": len(sent), "stats": stats, "ledger": ledger, "events": ev, "oc": oc}

        lost = [i for i in sent if i not in oc]
        dup = {i: v for i, v in oc.items() if len(v) > 1}
        failed = {i: v[0][1] for i, v in oc.items() if v[0][1]["event"] == "failed"}
        tap.ok(done and not lost and not dup,
               "%s: every MT has exactly one outcome (%d MTs)" % (FAULT, len(sent)),
               "lost %d %s dup %s" % (len(lost), lost[:5], list(dup.items())[:3]))
        tap.ok(not failed, "%s: every MT submitted (none failed)" % FAULT, list(failed.items())[:5])
        hs = ledger["handset"]
        tap.ok(hs["duplicates"] == 0 and hs["delivered"] == len(submitted) and
               ledger["violation_count"] == 0,
               "%s: handset: each submitted MT delivered once, no R2/R5 violation" % FAULT,
               "handset %s submitted %d violations %s" % (hs, len(submitted), ledger["violations"][:5]))
        drs = {}
        for _, e in ev:
            if e.get("event") == "dr":
                drs.setdefault(e.get("id"), []).append(e)
        bad_dr = {i: len(drs.get(i, [])) for i in submitted if len(drs.get(i, [])) != 1}
        tap.ok(not bad_dr and None not in drs and
               sum(len(v) for v in drs.values()) == ledger["totals"]["dr_sent"],
               "%s: one correlated DR event per MT, as many as the service sent" % FAULT,
               "bad %s uncorrelated %d total %d dr_sent %d" % (
                   list(bad_dr.items())[:5], len(drs.get(None, [])),
                   sum(len(v) for v in drs.values()), ledger["totals"]["dr_sent"]))
        tap.ok(rc == 0 and not self.pipe.sanitizer_report() and
               not any(e.get("event") == "not_json" for _, e in ev),
               "%s: pipe exits 0 after EOF, stdout only JSON" % FAULT,
               "rc %s\n%s" % (rc, self.pipe.stderr()[-1500:]))

        wire = self.syn.min_spacing()
        spacing = [b.get("min_attempt_spacing_ms") for b in (stats or {}).get("binds", [])]
        spacing = [s for s in spacing if s is not None]
        tap.ok(stats is not None and (wire is None or wire >= REBIND_S - 0.05) and
               all(s >= REBIND_S * 1000 for s in spacing),
               "%s: R2 on the wire and in stats: attempts to one SMSC >= %d s apart" % (FAULT, REBIND_S),
               "wire %s stats %s attempts %s" % (wire, spacing, self.syn.attempts))
        tap.note("%s: connection attempts to %s on the wire %d, shortest spacing %s s" % (
            FAULT, FAULTY, self.syn.count(), "%.2f" % wire if wire is not None else "-"))

        # latency of MTs whose outcome came from the healthy site
        def lat(t0, t1):
            out = []
            for i, ts in sent.items():
                if t0 <= ts < t1 and i in oc:
                    t, e = oc[i][0]
                    if self.site.get(e.get("smsc")) == HEALTHY:
                        out.append(t - ts)
            return out
        base = lat(self.t_load + 2.0, self.t_fault)
        during = lat(self.t_fault, self.t_restore or self.t_end)
        all_lat = [oc[i][0][0] - ts for i, ts in sent.items() if i in oc]
        fmt = lambda v: "%.1f ms" % (v * 1000) if v is not None else "-"  # noqa: E731
        tap.note("%s: healthy-site outcome latency baseline p50 %s p95 %s p99 %s (n=%d); during "
                 "fault p50 %s p95 %s p99 %s (n=%d, %d over 1 s: MTs moved off %s); every MT "
                 "p99 %s max %s" % (
                     FAULT, fmt(percentile(base, .5)), fmt(percentile(base, .95)),
                     fmt(percentile(base, .99)), len(base), fmt(percentile(during, .5)),
                     fmt(percentile(during, .95)), fmt(percentile(during, .99)), len(during),
                     sum(1 for x in during if x > 1.0), FAULTY,
                     fmt(percentile(all_lat, .99)), fmt(max(all_lat) if all_lat else None)))
        p99b, p99f = percentile(base, .99), percentile(during, .99)
        tap.ok(base and during and p99f <= max(10 * p99b, DETECT_BOUND_S),
               "%s: no gross latency regression on the healthy site (p99 %s vs baseline %s)" % (
                   FAULT, fmt(p99f), fmt(p99b)))
        f["share"] = lambda t0, t1: share(sent, oc, self.site, t0, t1)
        return f

    def close(self):
        self.topo.close()


def share(sent, oc, site, t0, t1):
    """Fraction of MTs sent in [t0, t1) whose outcome came from the faulty site."""
    n = k = 0
    for i, ts in sent.items():
        if t0 <= ts < t1 and i in oc:
            n += 1
            k += site.get(oc[i][0][1].get("smsc")) == FAULTY
    return k / n if n else 0.0


def bind_stat(stats, key, site=FAULTY):
    return sum(b.get(key, 0) for b in stats["binds"] if b["site"] == site)


def wait_faulty_back(r, timeout):
    return r.pipe.wait(lambda ev: r.faulty_up(), timeout)


def back_and_carrying(r, tag):
    """After the fault is lifted: the faulty site's binds come back (R2 spaced)
    and take MTs again."""
    t0 = time.time()
    up = wait_faulty_back(r, 2 * REBIND_S + 10)
    tap.ok(up, "%s: %s binds back up after the fault (%.1f s)" % (tag, FAULTY, time.time() - t0),
           r.pipe.bind_events()[-6:])
    t_up = time.time()
    time.sleep(4)
    r.pipe.wait(lambda ev: share_after(r, t_up) > 0, 5)
    tap.ok(share_after(r, t_up) > 0, "%s: %s carries MTs again after it came back" % (tag, FAULTY))


def share_after(r, t0):
    return share(dict(r.pipe.sent), r.pipe.outcomes(), r.site, t0, time.time())


def downs_text(dt):
    """The down times, one "NAME S s: REASON" per bind."""
    return ", ".join("%s %.1f s: %s" % (n, v[0], v[1]) for n, v in sorted(dt.items()))


def wait_faulty_down(r, names, within):
    """Wait (at most `within` s) until every bind in names went down; returns
    the down times (r.down_times())."""
    r.pipe.wait(lambda ev: set(r.down_times()) >= names, within)
    return r.down_times()


def check_faulty_down_in_bound(r, tag, names, how=""):
    """Every bind in names is declared down within DETECT_BOUND_S of the fault."""
    dt = wait_faulty_down(r, names, DETECT_BOUND_S + 10)
    tap.ok(set(dt) >= names and all(v[0] <= DETECT_BOUND_S for v in dt.values()),
           "%s: %s binds declared down within %.1f s%s (%s)" % (
               tag, FAULTY, DETECT_BOUND_S, how, downs_text(dt)), dt)


def sleep_to_fault_end(r):
    time.sleep(max(0.0, r.t_fault + FAULT_S - time.time()))


# --- scenarios -------------------------------------------------------------

def blackhole():
    r = Run()
    try:
        r.topo.blackhole(FAULTY)
        check_faulty_down_in_bound(r, "blackhole", set(r.sim.names(FAULTY)))
        sleep_to_fault_end(r)
        tap.ok(r.topo.fault_counter(FAULTY) > 0, "blackhole: the firewall dropped packets")
        r.t_restore = time.time()
        r.topo.flush(FAULTY)
        back_and_carrying(r, "blackhole")
        f = r.finish()
        moved = bind_stat(f["stats"], "resent")
        tap.ok(moved > 0, "blackhole: MTs in flight on %s were resent elsewhere (%d)" % (FAULTY, moved))
        tap.note("blackhole: %s share of MTs baseline %.2f, during %.2f" % (
            FAULTY, f["share"](r.t_load, r.t_fault), f["share"](r.t_fault, r.t_restore)))
    finally:
        r.close()


def rst():
    r = Run()
    try:
        r.topo.rst_storm(FAULTY)
        names = set(r.sim.names(FAULTY))
        dt = wait_faulty_down(r, names, DETECT_BOUND_S + 10)
        tap.ok(set(dt) >= names, "rst: mid-session resets take %s binds down (%s)" % (
            FAULTY, downs_text(dt)), dt)
        n0 = r.syn.count()
        sleep_to_fault_end(r)
        refused = r.syn.count() - n0
        tap.ok(refused > 0, "rst: reconnect attempts during the storm (%d) were reset on connect" % refused)
        tap.ok(not r.faulty_up(), "rst: no %s bind is up while every SYN is reset" % FAULTY)
        r.t_restore = time.time()
        r.topo.flush(FAULTY)
        back_and_carrying(r, "rst")
        f = r.finish()
        tap.note("rst: %s resent %d, share baseline %.2f during %.2f" % (
            FAULTY, bind_stat(f["stats"], "resent"), f["share"](r.t_load, r.t_fault),
            f["share"](r.t_fault, r.t_restore)))
    finally:
        r.close()


def loss(prob):
    tag = "loss%d" % round(prob * 100)

    def scenario():
        r = Run()
        try:
            r.topo.loss(FAULTY, prob)
            sleep_to_fault_end(r)
            dropped = r.topo.fault_counter(FAULTY)
            downs = [e for t, e in r.pipe.bind_events("down") if t >= r.t_fault]
            r.t_restore = time.time()
            r.topo.flush(FAULTY)
            if not r.faulty_up():
                wait_faulty_back(r, 2 * REBIND_S + 10)
            time.sleep(3)
            f = r.finish()
            tap.ok(dropped > 0, "%s: %d segments dropped at random" % (tag, dropped))
            tap.note("%s: %s binds lost during the fault %d (%s); resent %d; share baseline %.2f "
                     "during %.2f" % (tag, FAULTY, len(downs),
                                      "; ".join(sorted({str(e.get("reason")) for e in downs})),
                                      bind_stat(f["stats"], "resent"),
                                      f["share"](r.t_load, r.t_fault),
                                      f["share"](r.t_fault, r.t_restore)))
        finally:
            r.close()
    scenario.__name__ = tag
    return scenario


def tbf():
    # DRs come back on the bind of their MT (other_site_prob 0): the narrow
    # link then carries only what the client's window lets onto it. With DRs
    # of the healthy site's MTs pushed over it too, the service alone would
    # exceed 32 kbit and every response behind them would time out, whatever
    # the client does. The window keeps up to 20 submits queued at the
    # bottleneck (about 1.5 s at 32 kbit): the response and probe timers get
    # the defaults' proportions (30 s / 10 s scaled to 10 s / 5 s), not the 3 s
    # the other scenarios use to detect a dead site fast; with 3 s the queue
    # the window builds is itself longer than the timer.
    # The service's deliver_sm re-send timer gets its default (10 s) for the
    # same reason: at 2 s it re-sends every DR stuck in the queue, on the
    # same narrow link, and the copies deepen the queue further.
    r = Run(knobs={"other_site_prob": "0", "deliver_timeout_ms": "10000"},
            client={"response_timeout_ms": 10000, "enquire_link_interval_ms": 5000,
                    "enquire_link_timeout_ms": 5000})
    try:
        before = r.pipe.stats()
        r.topo.bandwidth(FAULTY, "32kbit")
        sleep_to_fault_end(r)
        r.t_restore = time.time()
        mid = r.pipe.stats()
        downs = [e for t, e in r.pipe.bind_events("down") if t >= r.t_fault]
        r.topo.flush(FAULTY)
        time.sleep(3)
        f = r.finish()
        base_share = f["share"](r.t_load, r.t_fault)
        fault_share = f["share"](r.t_fault + 2, r.t_restore)
        tap.ok(fault_share < base_share * 0.75,
               "tbf: traffic shifts off the narrow site by window pressure (share %.2f -> %.2f)" % (
                   base_share, fault_share))
        resent = bind_stat(mid, "resent") - bind_stat(before, "resent")
        tap.ok(not downs and resent == 0,
               "tbf: no timeout cascade: no bind lost, no MT resent (downs %d, resent %d)" % (
                   len(downs), resent), downs)
    finally:
        r.close()


def halfopen():
    r = Run()
    try:
        r.topo.delete_site(FAULTY)
        check_faulty_down_in_bound(r, "halfopen", set(r.sim.names(FAULTY)),
                                   " of its namespace vanishing")
        sleep_to_fault_end(r)
        r.t_restore = time.time()
        r.topo.build_site(FAULTY)
        r.syn.start(r.topo, FAULTY)
        back_and_carrying(r, "halfopen")
        f = r.finish()
        tap.note("halfopen: %s resent %d" % (FAULTY, bind_stat(f["stats"], "resent")))
    finally:
        r.close()


def simstall():
    """The simulator's stall (TCP up, nothing answered, binds included) on
    both SMSCs of s2 for the fault phase, with the wire's view of R2: the
    30-minute soak once saw the simulator count two attempts 2.8 s apart
    after a stall."""
    r = Run()
    try:
        names = set(r.sim.names(FAULTY))
        r.sim.ctl("stall", "site", FAULTY, "on")
        check_faulty_down_in_bound(r, "simstall", names)
        sleep_to_fault_end(r)
        r.t_restore = time.time()
        r.sim.ctl("stall", "site", FAULTY, "off")
        back_and_carrying(r, "simstall")
        r.finish()
    finally:
        r.close()


class DnsSide:
    """dnsmasq (the authority for s2.smsc.test) on 127.0.0.1:5300 in the DNS
    namespace, behind a UDP relay on 10.200.1.2:53 that can hold each query
    back; a firewall rule there makes it silent."""

    NAME = "s2.smsc.test"

    def __init__(self, topo):
        self.topo = topo
        dns = topo.dns
        self.dnsmasq = topo.spawn(dns, ["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
                                        "--listen-address=127.0.0.1", "--bind-interfaces",
                                        "--port=5300", "--user=root", "--pid-file=",
                                        "--host-record=%s,%s" % (self.NAME, topo.addr("s2")),
                                        "--local-ttl=1", "--log-facility=-"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        relay = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dns_relay.py")
        self.relay = topo.spawn(dns, [sys.executable, relay, "10.200.1.2", "53", "127.0.0.1", "5300"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        if self.relay.stdout.readline().strip() != "ready":
            raise RuntimeError("dns relay did not start")
        netlib.resolv_conf(topo.app, "10.200.1.2")

    def delay(self, seconds):
        self.relay.stdin.write("delay %s\n" % seconds)
        self.relay.stdin.flush()
        self.relay.stdout.readline()

    def silent(self, on):
        netlib.nsrun(self.topo.dns, "iptables", "-A" if on else "-D", "INPUT", "-p", "udp",
                     "--dport", "53", "-j", "DROP")


def dns():
    r = Run(faulty_host=DnsSide.NAME, dns=True)
    try:
        names = set(r.sim.names(FAULTY))
        # late: every answer 1.2 s late (under connect_timeout_ms 2 s); the
        # site's sessions are reset, so each reconnect resolves the name again
        r.dns.delay(1.2)
        r.sim.ctl("reset", "site", FAULTY)
        t0 = time.time()
        wait_faulty_down(r, names, 10)
        late_up = r.pipe.wait(lambda ev: r.faulty_up(), 2 * REBIND_S + 10)
        tap.ok(late_up, "dns: %s binds come back with answers 1.2 s late (%.1f s)" % (
            FAULTY, time.time() - t0), r.pipe.bind_events()[-6:])
        # none: the resolver is silent; reconnects fail on resolve and are
        # spaced by R2; the healthy site carries everything
        r.dns.delay(0)
        r.dns.silent(True)
        t_silent = time.time()
        r.sim.ctl("reset", "site", FAULTY)
        time.sleep(max(REBIND_S * 2 + 3, r.t_fault + FAULT_S - time.time()))
        reasons = [e.get("reason", "") for t, e in r.pipe.bind_events("down") if t >= t_silent]
        tap.ok(any("resolve" in x for x in reasons) and not r.faulty_up(),
               "dns: with the resolver silent, %s attempts fail on resolve (%s)" % (
                   FAULTY, "; ".join(sorted(set(reasons)))), reasons)
        r.t_restore = time.time()
        r.dns.silent(False)
        back_and_carrying(r, "dns")
        r.finish()
    finally:
        r.close()


SCENARIOS = {"blackhole": blackhole, "rst": rst, "loss2": loss(0.02), "loss10": loss(0.10),
             "tbf": tbf, "halfopen": halfopen, "dns": dns, "simstall": simstall}


def main():
    why = netlib.can_make_namespaces()
    if why:
        netlib.skip_all(why)
    try:
        SCENARIOS[FAULT]()
    except Exception as e:  # a scenario that could not run fails with its reason
        import traceback
        tap.ok(False, "%s: scenario ran to the end" % FAULT, traceback.format_exc() + str(e))
    sys.exit(tap.done())


if __name__ == "__main__":
    main()
