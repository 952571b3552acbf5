#!/usr/bin/env python3
"""Soak: `smsmux pipe` under steady MT load for MINUTES while random faults
play, DRs and MOs on, sampled every 10 s (netlib.py topology: each site
behind its own network namespace, one smsc-sim for every site).

1. Calibration: MTs written as fast as possible for a few seconds; the
   outcome rate measured is the max rate of this pipe + simulator + harness
   on this machine. The soak runs at half of it (capped by --max-rate, said
   in the output when the cap applies).
2. Every 15-40 s one fault on one random site or SMSC, held 5-15 s, lifted:
   network (blackhole, RST storm, 2 %/10 % loss, bandwidth collapse, the
   site's namespace deleted and rebuilt) or simulator (kill/restore, stall,
   throttle, drop-resp, reset, queue-full). At most one at a time, so a
   route always exists.
3. Every 10 s one CSV row: RSS and open fds of the pipe process, in flight,
   ingress queued, parked DRs, correlation and dedup entries (admin socket,
   `smsmux stats --json`), MT outcomes/s, p50/p99 outcome latency of the
   MTs decided in the interval, DRs and MOs/s, active binds, the fault.
4. Pass: every MT exactly one outcome and all submitted; handset: each
   delivered once, no ledger violation (R5; an R2 entry only where the
   wire shows its two connections left APP at least the interval apart:
   the ledger times arrival at the simulator, which a network fault can
   delay; each such entry is reported); every DR and MO the service
   sent reached stdout exactly once; connection attempts to one SMSC at
   least the rebind interval apart on the wire (tcpdump, first SYN of each,
   in APP) as well as in the ledger; a failed MT only with a transient
   reason (reported; never delivered); RSS less the pipe's id set
   (CLI.md has `pipe` refuse any id it was ever given, so it keeps them
   all; idset_bytes() computes what the set holds, checked against the
   figure the pipe prints at exit) within +-5 % after warm-up of its value
   at the end of warm-up, open fds within +-5 % or +-1 per SMSC (a bind
   that is down has no socket); p50 latency of the last third not above
   twice the first third's (after warm-up) + 5 ms.

The correlation TTL and dedup window are set to 60 s (20 s in a run under
5 minutes) so their occupancy reaches a steady state within the run; with
the defaults (48 h, 10 min) they would only fill, which is what an
operator sizes corr_capacity/dedup_capacity for (docs/tuning.md).

Usage: soak.py --minutes M --out DIR --smsmux PATH --sim PATH [--max-rate R]
Writes DIR/soak.csv, DIR/soak.png (gnuplot), DIR/summary.json; exit 0 on
pass, 1 on fail (reasons on stdout), 77 when namespaces cannot be made."""
import argparse
import json
import os
import random
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlib  # noqa: E402
from netlib import Pipe, SimProc, SynWatch, Topology, percentile  # noqa: E402

SITES = ["s1", "s2"]
NET_FAULTS = ("blackhole", "rst", "loss2", "loss10", "tbf", "halfopen")
REBIND_S = 5
SAMPLE_S = 10.0
IDSET_CHUNK = 1 << 20   # tools/smsmux/idset.h: arena chunk, first table size
IDSET_MIN_CAP = 1024
R2_DETAIL = re.compile(r"attempt ([0-9.]+) s after .* from [0-9.]+:(\d+) after [0-9.]+:(\d+)$")
COLUMNS = ["t_s", "rss_kb", "fds", "in_flight", "queued", "parked", "corr_entries",
           "dedup_entries", "mt_per_s", "p50_ms", "p99_ms", "dr_per_s", "mo_per_s",
           "active_binds", "fault", "ids_written", "ids_decided", "idset_kb", "rss_net_kb",
           "rss_net_upper_kb"]


DR_STATES = ["ENROUTE", "DELIVERED", "EXPIRED", "DELETED", "UNDELIVERABLE", "ACCEPTED",
             "UNKNOWN", "REJECTED"]


def idset_bytes(runs):
    """What `smsmux pipe`'s duplicate-id set holds (idset.h: table of 8-byte
    slots doubling at 70 % load from IDSET_MIN_CAP, ids packed as 2-byte
    length + bytes into IDSET_CHUNK chunks, none crossing a chunk's end, and
    the chunk list) after it was given, in order, the ids described by runs:
    [(prefix, count)] for ids prefix0 .. prefix(count-1). Computed per run of
    equal length, so a sample of millions of ids costs microseconds."""
    n = chunks = used = 0
    for prefix, count in runs:
        start = 0
        while start < count:
            digits = len(str(start))
            end = min(count, 10 ** digits)
            k, e = end - start, len(prefix) + digits + 2
            per = IDSET_CHUNK // e
            fit = (IDSET_CHUNK - used) // e if chunks else 0
            if k <= fit:
                used += k * e
            else:
                rest = k - fit
                chunks += -(-rest // per)
                used = (rest - (-(-rest // per) - 1) * per) * e
            n += k
            start = end
    cap = 0
    while n * 10 > cap * 7:      # grown before the add that would pass 70 %
        cap = cap * 2 if cap else IDSET_MIN_CAP
    chunks_cap = 0
    while chunks > chunks_cap:
        chunks_cap = chunks_cap * 2 if chunks_cap else 16
    return cap * 8 + chunks * IDSET_CHUNK + chunks_cap * 8


class Seen:
    """One byte per MT number (ids are PREFIX + decimal number): a 30-minute
    run at thousands of MT/s stays a few MB instead of millions of dicts."""

    def __init__(self):
        self.b = bytearray()

    def get(self, n):
        return self.b[n] if n < len(self.b) else 0

    def set(self, n, v):
        if n >= len(self.b):
            self.b.extend(bytes(max(n + 1 - len(self.b), 1 << 20)))
        self.b[n] = v


class SoakPipe(Pipe):
    """A Pipe that keeps aggregates instead of every event: MTs still pending
    (id -> time written), per MT number its outcome (1 submitted, 2 failed)
    and the DR states seen (a bit each), outcome latencies and DR/MO counts
    since the last sample."""

    def __init__(self, *a, **kw):
        self.pending = {}
        self.outcome = {"s": Seen(), "cal": Seen()}
        self.dr_bits = {"s": Seen(), "cal": Seen()}
        self.n_submitted = 0
        self.failed = []
        self.duplicated = []
        self.dr_duplicated = []
        self.unexpected = []
        self.uncorrelated = set()
        self.lat = []
        self.drs = self.mos = 0
        self.mo_keys = set()
        self.dr_total = self.mo_total = 0
        self.bind_state = {}
        super().__init__(*a, **kw)

    @staticmethod
    def split(mt_id):
        if isinstance(mt_id, str):
            for pre in ("cal", "s"):
                if mt_id.startswith(pre) and mt_id[len(pre):].isdigit():
                    return pre, int(mt_id[len(pre):])
        return None, None

    def send_lines(self, ids, lines):
        now = time.time()
        with self.lock:
            for i in ids:
                self.pending[i] = now
        self.p.stdin.write("\n".join(lines) + "\n")
        self.p.stdin.flush()

    def _read(self):
        for line in self.p.stdout:
            t = time.time()
            try:
                e = json.loads(line)
            except ValueError:
                self.unexpected.append(line)
                continue
            ev = e.get("event")
            with self.lock:
                if ev in ("submitted", "failed"):
                    pre, n = self.split(e.get("id"))
                    if pre is None:
                        self.unexpected.append(line)
                        continue
                    if self.outcome[pre].get(n):
                        self.duplicated.append(e.get("id"))
                        continue
                    self.outcome[pre].set(n, 1 if ev == "submitted" else 2)
                    ts = self.pending.pop(e["id"], None)
                    if ts is not None:
                        self.lat.append(t - ts)
                    if ev == "failed":
                        self.failed.append(e)
                    else:
                        self.n_submitted += 1
                elif ev == "dr":
                    self.drs += 1
                    self.dr_total += 1
                    pre, n = self.split(e.get("id"))
                    st = e.get("state")
                    if pre is None or st not in DR_STATES:
                        key = (e.get("id"), e.get("message_id"), st)
                        if key in self.uncorrelated:
                            self.dr_duplicated.append(key)
                        self.uncorrelated.add(key)
                        continue
                    bit = 1 << DR_STATES.index(st)
                    cur = self.dr_bits[pre].get(n)
                    if cur & bit:
                        self.dr_duplicated.append((e.get("id"), st))
                    self.dr_bits[pre].set(n, cur | bit)
                elif ev == "mo":
                    self.mos += 1
                    self.mo_total += 1
                    self.mo_keys.add((e.get("from"), e.get("text")))
                elif ev == "bind":
                    self.bind_state[e["smsc"]] = e["state"]

    def decided(self, mt_id):
        pre, n = self.split(mt_id)
        return bool(self.outcome[pre].get(n))

    def binds_up(self, names):
        with self.lock:
            return {n for n in names if self.bind_state.get(n) == "up"}

    def take_interval(self):
        with self.lock:
            lat, drs, mos = self.lat, self.drs, self.mos
            self.lat, self.drs, self.mos = [], 0, 0
        return lat, drs, mos


def log(*a):
    print("soak:", *a, flush=True)


class Soak:
    def __init__(self, args):
        self.args = args
        self.minutes = args.minutes
        short = self.minutes < 5
        ttl = 20000 if short else 60000
        self.client = {
            "rebind_interval_ms": REBIND_S * 1000, "rebind_jitter_ms": 500,
            "connect_timeout_ms": 2000, "bind_timeout_ms": 3000, "unbind_timeout_ms": 1000,
            "response_timeout_ms": 3000, "enquire_link_interval_ms": 1000,
            "enquire_link_timeout_ms": 1500, "window": 20, "workers": 2,
            "corr_ttl_ms": ttl, "dedup_window_ms": ttl, "dr_park_timeout_ms": 30000,
        }
        self.sim_knobs = {
            "resp_latency_ms": "1-5", "dr_delay_ms": "50-500", "dr_accepted_prob": "0.2",
            "other_site_prob": "0.3", "dr_before_resp_prob": "0.05",
            "deliver_timeout_ms": "2000", "deliver_max_sends": "50",
            "mo_rate": "2", "mo_multipart_prob": "0.2", "mo_sar_prob": "0.3",
            "mo_out_of_order_prob": "0.3",
        }
        self.topo = Topology(SITES)
        self.fault = "none"
        self.fault_log = []
        self.rows = []
        self.stop = threading.Event()

    # --- set-up -------------------------------------------------------------
    def start(self):
        self.sim = SimProc(self.topo, self.args.sim, rebind_interval=REBIND_S, knobs=self.sim_knobs)
        smsc = []
        for name, site, hp in self.sim.smscs:
            smsc += ["--smsc", "%s@%s=%s" % (name, site, hp)]
        # the wire's view of R2 (first SYN of each attempt, per SMSC port):
        # the simulator timestamps the accept, which a network fault delays
        self.syn = {site: SynWatch(self.topo, site) for site in SITES}
        self.pipe = SoakPipe(self.topo, self.args.smsmux, smsc, self.client)
        names = set(self.sim.names())
        if not self.pipe.wait(lambda ev: self.pipe.binds_up(names) == names, 30):
            raise RuntimeError("binds not up: " + self.pipe.stderr()[-2000:])

    def calibrate(self, seconds=5.0):
        """Write MTs unpaced; the outcome rate over the burst is the max rate."""
        t0 = time.time()
        i = 0
        while time.time() - t0 < seconds:
            ids = ["cal%d" % k for k in range(i, i + 200)]
            self.pipe.send_lines(ids, [json.dumps({"id": x, "from": "12345", "to": "447700900001",
                                                   "text": "calibrate"}) for x in ids])
            i += 200
        deadline = time.time() + 120
        while time.time() < deadline and self.pipe.pending:
            time.sleep(0.05)
        rate = i / (time.time() - t0)
        self.pipe.take_interval()
        return rate, i

    # --- load ---------------------------------------------------------------
    def load(self, rate):
        """Paced in 10 ms batches (one write per batch)."""
        i = 0
        t0 = time.time()
        while not self.stop.is_set():
            due = int((time.time() - t0) * rate)
            if due <= i:
                time.sleep(0.01)
                continue
            ids = ["s%d" % k for k in range(i, due)]
            lines = [json.dumps({"id": "s%d" % k, "from": "12345", "to": "4477009%05d" % (k % 100000),
                                 "text": "soak %d" % k}) for k in range(i, due)]
            i = due
            self.sent_n = i
            try:
                self.pipe.send_lines(ids, lines)
            except (BrokenPipeError, ValueError):
                return

    # --- faults -------------------------------------------------------------
    def faults(self, rng):
        sim_smscs = self.sim.names()
        kinds = ["blackhole", "rst", "loss2", "loss10", "tbf", "halfopen",
                 "kill", "stall", "throttle", "drop-resp", "reset", "queue-full"]
        next_at = time.time() + rng.uniform(15, 25)
        while not self.stop.wait(0.2):
            if time.time() < next_at:
                continue
            kind = rng.choice(kinds)
            site = rng.choice(SITES)
            smsc = rng.choice(sim_smscs)
            hold = rng.uniform(5, 15)
            self.fault = kind
            self.fault_log.append((round(time.time() - self.t0, 1), kind, site, smsc, round(hold, 1)))
            lift = self.apply(kind, site, smsc)
            self.stop.wait(hold)
            lift()
            self.fault = "none"
            next_at = time.time() + rng.uniform(10, 25)

    def apply(self, kind, site, smsc):
        t, s = self.topo, self.sim
        if kind == "blackhole":
            t.blackhole(site)
        elif kind == "rst":
            t.rst_storm(site)
        elif kind in ("loss2", "loss10"):
            t.loss(site, 0.02 if kind == "loss2" else 0.10)
        elif kind == "tbf":
            t.bandwidth(site, "24kbit")
        elif kind == "halfopen":
            t.delete_site(site)

            def rebuild():
                t.build_site(site)
                self.syn[site].start(t, site)
            return rebuild
        elif kind == "kill":
            s.ctl("kill", "site", site)
            return lambda: s.ctl("restore", "site", site)
        elif kind == "stall":
            s.ctl("stall", smsc, "on")
            return lambda: s.ctl("stall", smsc, "off")
        elif kind == "throttle":
            s.ctl("throttle", smsc, "50")
            return lambda: s.ctl("throttle", smsc, "off")
        elif kind == "queue-full":
            s.ctl("queue-full", smsc, "on")
            return lambda: s.ctl("queue-full", smsc, "off")
        elif kind == "drop-resp":
            s.ctl("drop-resp", smsc, "5", "submit_sm", "deliver_sm", "enquire_link")
            return lambda: s.ctl("drop-resp", smsc, "0")
        elif kind == "reset":
            s.ctl("reset", smsc)
            return lambda: None
        return lambda: t.flush(site)

    def last_fault_before(self, site, sim_t):
        """The last fault that touched site before simulator time sim_t (the
        ledger's clock starts with the simulator, before the soak's t0)."""
        t = sim_t - self.sim_t0_offset
        best = None
        for f in self.fault_log:
            smsc_site = f[3].rsplit(".", 1)[-1]
            on_site = f[2] == site if f[1] in NET_FAULTS + ("kill",) else smsc_site == site
            if on_site and f[0] <= t:
                best = {"at_s": f[0], "kind": f[1], "target": f[2] if f[1] in NET_FAULTS + ("kill",)
                        else f[3], "hold_s": f[4], "ended_s_before": round(t - f[0] - f[4], 1)}
        return best

    # --- sampling -------------------------------------------------------------
    def sample(self, prev_t):
        now = time.time()
        pid = self.pipe.p.pid
        rss = 0
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss = int(line.split()[1])
            fds = len(os.listdir("/proc/%d/fd" % pid))
        except OSError:
            fds = 0
        st = self.pipe.stats() or {}
        cl, inb = st.get("client", {}), st.get("inbound", {})
        lat, drs, mos = self.pipe.take_interval()
        span = now - prev_t
        p50, p99 = percentile(lat, .5), percentile(lat, .99)
        row = [round(now - self.t0, 1), rss, fds, cl.get("in_flight", 0), cl.get("queued", 0),
               inb.get("park_now", 0), inb.get("corr_entries", 0), inb.get("dedup_entries", 0),
               round(len(lat) / span, 1), round(p50 * 1000, 2) if p50 is not None else "",
               round(p99 * 1000, 2) if p99 is not None else "", round(drs / span, 1),
               round(mos / span, 2), cl.get("active_binds", 0), self.fault]
        # the pipe's id set (idset_bytes): the pipe has read at least the ids
        # decided and at most those written; both bounds, for the RSS rule
        written = getattr(self, "sent_n", 0)
        with self.pipe.lock:
            decided = self.pipe.n_submitted + len(self.pipe.failed) - getattr(self, "cal_n", 0)
        cal = getattr(self, "cal_n", 0)
        set_hi = idset_bytes([("cal", cal), ("s", written)]) // 1024
        set_lo = idset_bytes([("cal", cal), ("s", max(0, decided))]) // 1024
        row += [written, max(0, decided), set_hi, rss - set_hi, rss - set_lo]
        self.rows.append(row)
        return now

    def run(self):
        self.start()
        cal_rate, cal_n = self.calibrate()
        self.cal_n, self.sent_n = cal_n, 0
        rate = cal_rate / 2
        capped = self.args.max_rate and rate > self.args.max_rate
        if capped:
            rate = self.args.max_rate
        log("calibration: %d MTs, max %.0f MT/s; soak at %.0f MT/s%s" % (
            cal_n, cal_rate, rate, " (capped by --max-rate)" if capped else ""))
        self.t0 = time.time()
        # the ledger's clock (seconds since the simulator started) in the
        # soak's (seconds since t0), to name the fault before an entry
        self.sim_t0_offset = json.loads(self.sim.ctl("summary"))["elapsed_s"] - (time.time() - self.t0)
        rng = random.Random(self.args.seed)
        threads = [threading.Thread(target=self.load, args=(rate,), daemon=True),
                   threading.Thread(target=self.faults, args=(rng,), daemon=True)]
        for th in threads:
            th.start()
        end = self.t0 + self.minutes * 60
        prev = self.t0
        while time.time() < end:
            time.sleep(max(0.0, min(SAMPLE_S - (time.time() - prev), end - time.time())))
            prev = self.sample(prev)
            r = self.rows[-1]
            log("t=%5.0fs rss=%dkB fds=%d inflight=%s corr=%s dedup=%s mt/s=%s p50=%sms "
                "p99=%sms fault=%s" % (r[0], r[1], r[2], r[3], r[6], r[7], r[8], r[9], r[10], r[14]))
        self.stop.set()
        for th in threads:
            th.join(timeout=30)
        return self.finish(cal_rate, rate, capped)

    # --- verdict ----------------------------------------------------------------
    def finish(self, cal_rate, rate, capped):
        for site in SITES:          # whatever fault was last is lifted by faults()
            if self.topo.rtr(site) not in self.topo.namespaces:
                self.topo.build_site(site)
        p = self.pipe
        deadline = time.time() + 120
        while time.time() < deadline and p.pending:
            time.sleep(0.1)
        # DRs and MOs still on their way: wait until stdout has what the
        # service sent so far, and that stays so
        self.sim.ctl("set", "all", "mo_rate", "0")
        deadline = time.time() + 60
        stable = 0
        while time.time() < deadline and stable < 3:
            tot = json.loads(self.sim.ctl("summary"))["totals"]
            stable = stable + 1 if (p.dr_total, p.mo_total) == (tot["dr_sent"], tot["mo_sent"]) else 0
            time.sleep(1)
        rc = p.close()
        ledger = self.sim.stop()
        fails = []
        # the model of the id set the RSS rule subtracts must be the pipe's
        # own figure (its last stderr line)
        idset_line = [ln for ln in p.stderr().splitlines() if "smsmux pipe: id set:" in ln]
        idset_model = idset_bytes([("cal", self.cal_n), ("s", self.sent_n)])
        idset_pipe = None
        if idset_line:
            w = idset_line[-1].split()
            idset_pipe = {"ids": int(w[4]), "bytes": int(w[6])}
        if idset_pipe != {"ids": self.cal_n + self.sent_n, "bytes": idset_model}:
            fails.append("id set: the pipe says %s, the soak's model %d ids %d bytes" % (
                idset_pipe, self.cal_n + self.sent_n, idset_model))
        lost = sorted(p.pending)
        submitted = p.n_submitted
        n_sent = self.cal_n + self.sent_n
        if lost or p.duplicated or p.unexpected or submitted + len(p.failed) != n_sent:
            fails.append("MTs without exactly one outcome: written %d, decided %d, lost %d %s, "
                         "duplicated %d %s, unexpected lines %s" % (
                             n_sent, submitted + len(p.failed), len(lost), lost[:5],
                             len(p.duplicated), p.duplicated[:5], p.unexpected[:3]))
        # a transient failure is an outcome the application retries (not a
        # loss: the handset check below shows none was delivered); a
        # permanent one has no place under these faults
        perm = [e for e in p.failed if e.get("permanent") is not False]
        if perm:
            fails.append("permanently failed MTs: %d %s" % (len(perm), perm[:5]))
        hs = ledger["handset"]
        if hs["duplicates"] or hs["delivered"] != submitted:
            fails.append("handset %s, submitted %d" % (hs, submitted))
        # R2 in the ledger is timed where the connection reached the
        # simulator; each entry names both connections (client ports), so
        # the wire in APP says what the client did: an entry whose two
        # connections left APP at least the interval apart is the network's
        # doing (a SYN queued by tbf or retransmitted after a loss reaches
        # the simulator late) and is reported; any other entry fails
        r2_net, r2_bad, other = [], [], []
        ports = {name: (site, int(hp.rsplit(":", 1)[1])) for name, site, hp in self.sim.smscs}
        for v in ledger["violations"]:
            if (v["rule"], v["kind"]) != ("R2", "rebind_spacing"):
                other.append(v)
                continue
            m = R2_DETAIL.search(v["detail"])
            site, port = ports[v["smsc"]]
            first = self.syn[site].first
            t_new = first.get((m.group(2), port)) if m else None
            t_old = first.get((m.group(3), port)) if m else None
            entry = dict(v, wire_spacing_s=round(t_new - t_old, 3) if t_new and t_old else None,
                         last_fault_on_site=self.last_fault_before(site, v["t"]))
            if entry["wire_spacing_s"] is not None and entry["wire_spacing_s"] >= REBIND_S - 0.05:
                r2_net.append(entry)
            else:
                r2_bad.append(entry)
        if other or r2_bad or ledger["violation_count"] > len(ledger["violations"]):
            fails.append("ledger violations (%d): %s" % (ledger["violation_count"],
                                                         (r2_bad + other)[:5]))
        tot = ledger["totals"]
        if p.dr_total != tot["dr_sent"] or p.dr_duplicated:
            fails.append("DR events %d (duplicated %d %s) vs dr_sent %d" % (
                p.dr_total, len(p.dr_duplicated), p.dr_duplicated[:5], tot["dr_sent"]))
        if p.mo_total != tot["mo_sent"] or len(p.mo_keys) != p.mo_total:
            fails.append("MO events %d (distinct %d) vs mo_sent %d" % (
                p.mo_total, len(p.mo_keys), tot["mo_sent"]))
        if rc != 0 or p.sanitizer_report():
            fails.append("pipe exit %s: %s" % (rc, p.stderr()[-1000:]))

        # flatness after warm-up: the first third of the run (at least 30 s)
        warm = max(30.0, self.minutes * 60 / 3)
        after = [r for r in self.rows if r[0] >= warm]
        flat = {}
        if len(after) >= 2:
            # RSS: `smsmux pipe` remembers every id it was given (CLI.md:
            # a repeat of a finished id is refused), an amount the soak
            # computes exactly (idset_bytes, checked against the pipe's own
            # figure at exit). RSS minus that set ("net": rss_net_kb with the
            # set for the ids written, rss_net_upper_kb for the ids decided;
            # the pipe has read something in between) must stay within 5 % of
            # its value at the end of warm-up: a leak of 5 % of what the
            # library and the pipe hold besides the set fails.
            ref = after[0][18]
            hi, lo = max(r[18] for r in after), min(r[19] for r in after)
            first_mts, last_mts = after[0][15], after[-1][15]
            flat["rss_kb"] = {
                "at_warmup": after[0][1], "at_end": after[-1][1],
                "id_set_kb_at_warmup": after[0][17], "id_set_kb_at_end": after[-1][17],
                "net_at_warmup": ref, "net_min": lo, "net_max": hi,
                "net_max_dev_pct": round(100.0 * max(hi - ref, ref - lo) / ref, 2) if ref else None,
                "net_bytes_per_mt_after_warmup": round(
                    1024.0 * (after[-1][18] - ref) / (last_mts - first_mts), 2)
                if last_mts > first_mts else None,
                "id_set_bytes_per_mt_after_warmup": round(
                    1024.0 * (after[-1][17] - after[0][17]) / (last_mts - first_mts), 2)
                if last_mts > first_mts else None}
            if ref and (hi - ref > 0.05 * ref or ref - lo > 0.05 * ref) and self.args.rss_check:
                fails.append("RSS less the id set not flat after warm-up: %s" % flat["rss_kb"])
            # fds: a bind that is down has no socket, one connecting has
            # one: the count moves by up to one per SMSC with the faults
            n_smscs = len(self.sim.smscs)
            ref = after[0][2]
            lo, hi = min(r[2] for r in after), max(r[2] for r in after)
            flat["fds"] = {"at_warmup": ref, "min": lo, "max": hi,
                           "max_dev_pct": round(100.0 * max(hi - ref, ref - lo) / ref, 2)}
            if ref and max(hi - ref, ref - lo) > max(0.05 * ref, n_smscs):
                fails.append("fds not flat after warm-up: %s" % flat["fds"])
            p50s = [r[9] for r in after if r[9] != ""]
            third = max(1, len(p50s) // 3)
            first, last = percentile(p50s[:third], .5), percentile(p50s[-third:], .5)
            flat["p50_ms_first_third"], flat["p50_ms_last_third"] = first, last
            if first is not None and last > 2 * first + 5:
                fails.append("latency drifts: p50 %.1f ms -> %.1f ms" % (first, last))
        else:
            fails.append("too few samples after warm-up (%d)" % len(after))

        wire = {}
        for site, w in self.syn.items():
            for port, times in w.attempts.items():
                times = sorted(times)
                gaps = [b - a for a, b in zip(times, times[1:])]
                wire[port] = {"attempts": len(times),
                              "min_spacing_s": round(min(gaps), 3) if gaps else None}
        short = {pt: v for pt, v in wire.items()
                 if v["min_spacing_s"] is not None and v["min_spacing_s"] < REBIND_S - 0.05}
        if short:
            fails.append("R2 on the wire: attempts closer than %d s: %s" % (REBIND_S, short))
        summary = {
            "minutes": self.minutes, "calibrated_max_mt_per_s": round(cal_rate),
            "soak_mt_per_s": round(rate), "capped": bool(capped), "mts": n_sent,
            "submitted": submitted, "failed": len(p.failed),
            "failed_reasons": sorted({e.get("reason") for e in p.failed}), "lost": len(lost),
            "duplicated_outcomes": len(p.duplicated), "handset": hs,
            "violations": ledger["violation_count"], "ledger_violations": ledger["violations"][:10],
            "r2_ledger_entries_network_delay": r2_net, "r2_ledger_entries_unexplained": r2_bad,
            "sim_max_accept_lag_s": ledger["totals"].get("max_accept_lag_s"),
            "r2_on_the_wire": wire, "drs": p.dr_total, "mos": p.mo_total,
            "faults": self.fault_log, "flatness": flat, "id_set_at_exit": idset_pipe,
            "p50_ms_overall": percentile([r[9] for r in self.rows if r[9] != ""], .5),
            "p99_ms_worst_interval": max([r[10] for r in self.rows if r[10] != ""], default=None),
            "pass": not fails, "failures": fails,
        }
        return summary

    def write(self, summary):
        out = self.args.out
        os.makedirs(out, exist_ok=True)
        csv = os.path.join(out, "soak.csv")
        with open(csv, "w") as f:
            f.write(",".join(COLUMNS) + "\n")
            for r in self.rows:
                f.write(",".join(str(x) for x in r[:len(COLUMNS)]) + "\n")
        with open(os.path.join(out, "summary.json"), "w") as f:
            json.dump(summary, f, indent=1)
        plot(csv, os.path.join(out, "soak.png"), summary)

    def close(self):
        self.stop.set()
        self.topo.close()


def plot(csv, png, summary):
    """Four panels: memory/fds, occupancy, throughput, latency (gnuplot)."""
    title = "smsmux soak: %s min at %s MT/s, %d faults, lost %d, duplicated %d" % (
        summary["minutes"], summary["soak_mt_per_s"], len(summary["faults"]), summary["lost"],
        summary["handset"]["duplicates"])
    script = """
set datafile separator ','
set terminal pngcairo size 1200,1100 font ',9' noenhanced
set output '%(png)s'
set key autotitle columnhead left top
set multiplot layout 4,1 title '%(title)s'
set xlabel 't (s)'
set ylabel 'RSS (MB)'
set y2label 'open fds'
set y2tics
set ytics nomirror
set yrange [0:*]
set y2range [0:*]
plot '%(csv)s' using 1:($2/1024) with lines title 'RSS MB', \\
     '' using 1:($19/1024) with lines title 'RSS less the id set MB', \\
     '' using 1:($18/1024) with lines title 'id set MB', '' using 1:3 axes x1y2 with lines title 'fds'
unset y2label
unset y2tics
set autoscale y
set ylabel 'entries'
plot '%(csv)s' using 1:7 with lines title 'correlation', '' using 1:8 with lines title 'dedup', \\
     '' using 1:6 with lines title 'parked DRs', '' using 1:4 with lines title 'in flight', \\
     '' using 1:5 with lines title 'ingress queued'
set ylabel 'per second'
plot '%(csv)s' using 1:9 with lines title 'MT outcomes/s', '' using 1:12 with lines title 'DRs/s', \\
     '' using 1:($13*100) with lines title 'MOs/s x100'
set ylabel 'outcome latency (ms)'
set logscale y
plot '%(csv)s' using 1:10 with linespoints title 'p50', '' using 1:11 with linespoints title 'p99'
unset multiplot
""" % {"png": png, "csv": csv, "title": title}
    r = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True)
    if r.returncode != 0:
        log("gnuplot failed: " + r.stderr.strip())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--smsmux", required=True)
    ap.add_argument("--sim", required=True)
    ap.add_argument("--max-rate", type=float, default=0)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--no-rss-check", dest="rss_check", action="store_false",
                    help="report RSS but do not judge it (sanitizer builds: ASan's "
                         "quarantine keeps freed memory, so RSS climbs by design)")
    args = ap.parse_args()
    why = netlib.can_make_namespaces()
    if why:
        log("SKIP: " + why)
        sys.exit(77)
    log("seed %d" % args.seed)
    s = Soak(args)
    try:
        summary = s.run()
        s.write(summary)
    finally:
        s.close()
    log("summary: " + json.dumps({k: v for k, v in summary.items() if k != "faults"}))
    log("faults: " + "; ".join("%.0fs %s %s/%s %.0fs" % f for f in summary["faults"]))
    log("PASS" if summary["pass"] else "FAIL: " + " | ".join(summary["failures"]))
    sys.exit(0 if summary["pass"] else 1)


if __name__ == "__main__":
    main()
