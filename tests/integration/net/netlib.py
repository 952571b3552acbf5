"""Sites as network namespaces: the harness of the real-network fault tests
(Python 3 stdlib; `ip`, `iptables`, `tc`, `tcpdump`, `dnsmasq` from Debian,
installed by tools/bootstrap.sh).

Topology (every name carries the test's PID, nothing touches the host's own
interfaces, routes or firewall; Topology.close() deletes it all, and a
signal handler makes SIGTERM from meson's timeout run the cleanup too):

    ns APP (smsmux pipe)      ns RTR<k> (site k's network)    ns SVC (smsc-sim)
    a<k> 10.k.1.1/30 ---veth--- l<k> 10.k.1.2/30
                                r<k> 10.k.2.1/30 ---veth--- s<k> 10.k.2.2/30
                                                            lo: 10.k.9.1 (site k's SMSCs)
    a99 10.200.1.1/30 --veth--- ns DNS d99 10.200.1.2 (dnsmasq + delay relay)

One smsc-sim serves every site (each site's SMSCs listen on their own
address), so its ledger stays the single truth across sites: handset
duplicates, R2 spacing, DRs re-sent on another site's bind (R3). Each site's
traffic crosses only its own router namespace, where faults are made with
iptables (FORWARD chain) and tc (both veths), or by deleting the namespace
(the site's network vanishes: no FIN, no RST).

Pipe: `smsmux pipe` in APP with a load generator thread; every line written
and every event read is timestamped, so outcome latency per MT is known.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

PORT_BASE = 2775


def run(*cmd, check=True):
    r = subprocess.run(list(cmd), capture_output=True, text=True, timeout=30)
    if check and r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr.strip()))
    return r


def nsrun(ns, *cmd, check=True):
    return run("ip", "netns", "exec", ns, *cmd, check=check)


def can_make_namespaces():
    """None when namespaces, veths, iptables and tc work here, else why not."""
    for tool in ("ip", "iptables", "tc", "tcpdump", "dnsmasq"):
        if shutil.which(tool) is None:
            return "%s not installed (tools/bootstrap.sh installs it)" % tool
    if os.geteuid() != 0:
        return "not root: creating network namespaces needs CAP_NET_ADMIN"
    name = "smxprobe%d" % os.getpid()
    try:
        r = run("ip", "netns", "add", name, check=False)
        if r.returncode != 0:
            return "cannot create a network namespace (no CAP_NET_ADMIN?): " + r.stderr.strip()
        r = nsrun(name, "iptables", "-A", "FORWARD", "-m", "statistic", "--mode", "random",
                  "--probability", "0.5", "-j", "DROP", check=False)
        if r.returncode != 0:
            return "iptables does not work in a namespace: " + r.stderr.strip()
        return None
    finally:
        run("ip", "netns", "del", name, check=False)


def remove_stale():
    """Namespaces left by a test process that died without cleaning up."""
    r = run("ip", "netns", "list", check=False)
    for line in r.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        if not name.startswith("smxt") or "-" not in name:
            continue
        pid = name[4:].split("-")[0]
        if pid.isdigit() and not os.path.exists("/proc/" + pid):
            run("ip", "netns", "del", name, check=False)
            shutil.rmtree("/etc/netns/" + name, ignore_errors=True)


class Topology:
    def __init__(self, sites):
        remove_stale()
        self.tag = "smxt%d" % os.getpid()
        self.sites = list(sites)           # site names, index k = position + 1
        self.app = self.tag + "-app"
        self.svc = self.tag + "-svc"
        self.dns = self.tag + "-dns"
        self.namespaces = []
        self.procs = []
        self.tmp = tempfile.mkdtemp(prefix="smx-net-")
        self._old_term = signal.signal(signal.SIGTERM, self._on_term)
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    def _on_term(self, signum, frame):
        raise SystemExit("SIGTERM")

    def rtr(self, site):
        return "%s-r%d" % (self.tag, self.k(site))

    def k(self, site):
        return self.sites.index(site) + 1

    def addr(self, site):
        return "10.%d.9.1" % self.k(site)

    def _ns(self, name):
        run("ip", "netns", "add", name)
        self.namespaces.append(name)
        nsrun(name, "ip", "link", "set", "lo", "up")

    def _veth(self, ns1, if1, ip1, ns2, if2, ip2):
        run("ip", "-n", ns1, "link", "add", if1, "type", "veth", "peer", "name", if2, "netns", ns2)
        run("ip", "-n", ns1, "addr", "add", ip1, "dev", if1)
        run("ip", "-n", ns2, "addr", "add", ip2, "dev", if2)
        run("ip", "-n", ns1, "link", "set", if1, "up")
        run("ip", "-n", ns2, "link", "set", if2, "up")

    def _build(self):
        self._ns(self.app)
        self._ns(self.svc)
        for site in self.sites:
            self.build_site(site)
        self._ns(self.dns)
        self._veth(self.app, "a99", "10.200.1.1/30", self.dns, "d99", "10.200.1.2/30")

    def build_site(self, site):
        """(Re)creates site's router namespace and its two links."""
        k = self.k(site)
        r = self.rtr(site)
        self._ns(r)
        nsrun(r, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
        self._veth(self.app, "a%d" % k, "10.%d.1.1/30" % k, r, "l%d" % k, "10.%d.1.2/30" % k)
        self._veth(r, "r%d" % k, "10.%d.2.1/30" % k, self.svc, "s%d" % k, "10.%d.2.2/30" % k)
        run("ip", "-n", self.svc, "addr", "replace", "10.%d.9.1/32" % k, "dev", "lo")
        run("ip", "-n", self.app, "route", "replace", "10.%d.9.0/24" % k, "via", "10.%d.1.2" % k)
        run("ip", "-n", r, "route", "replace", "10.%d.9.0/24" % k, "via", "10.%d.2.2" % k)
        run("ip", "-n", self.svc, "route", "replace", "10.%d.1.0/30" % k, "via", "10.%d.2.1" % k)

    def delete_site(self, site):
        """The site's network vanishes: its router namespace (and with it both
        veth pairs and the routes through them) is deleted while connected."""
        r = self.rtr(site)
        run("ip", "netns", "del", r)
        self.namespaces.remove(r)

    # faults in site's router namespace -----------------------------------
    def ipt(self, site, *rule):
        nsrun(self.rtr(site), "iptables", *rule)

    def flush(self, site):
        nsrun(self.rtr(site), "iptables", "-F", "FORWARD")
        k = self.k(site)
        for dev in ("l%d" % k, "r%d" % k):
            nsrun(self.rtr(site), "tc", "qdisc", "del", "dev", dev, "root", check=False)

    def blackhole(self, site):
        """DROP both ways, no RST, no ICMP."""
        self.ipt(site, "-A", "FORWARD", "-j", "DROP")

    def rst_storm(self, site):
        """Every TCP segment either way answered by a RST (SYNs too)."""
        self.ipt(site, "-A", "FORWARD", "-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset")

    def loss(self, site, prob):
        self.ipt(site, "-A", "FORWARD", "-m", "statistic", "--mode", "random",
                 "--probability", "%.4f" % prob, "-j", "DROP")

    def bandwidth(self, site, rate, latency="2s"):
        """Token bucket on both of the site's links: at most `rate`, a queue
        of `latency` (a bloated buffer, as a congested link has) before drops."""
        k = self.k(site)
        for dev in ("l%d" % k, "r%d" % k):
            nsrun(self.rtr(site), "tc", "qdisc", "replace", "dev", dev, "root", "tbf",
                  "rate", rate, "burst", "1600", "latency", latency)

    def fault_counter(self, site):
        """Packets the FORWARD rules of site matched (dropped/rejected)."""
        r = nsrun(self.rtr(site), "iptables", "-L", "FORWARD", "-v", "-x", "-n", check=False)
        total = 0
        for line in r.stdout.splitlines()[2:]:
            w = line.split()
            if w and w[0].isdigit():
                total += int(w[0])
        return total

    # processes --------------------------------------------------------------
    def spawn(self, ns, cmd, **kw):
        p = subprocess.Popen(["ip", "netns", "exec", ns] + list(cmd), **kw)
        self.procs.append(p)
        return p

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        for ns in list(self.namespaces):
            run("ip", "netns", "del", ns, check=False)
            shutil.rmtree("/etc/netns/" + ns, ignore_errors=True)
        self.namespaces = []
        shutil.rmtree(self.tmp, ignore_errors=True)
        signal.signal(signal.SIGTERM, self._old_term or signal.SIG_DFL)


class SimProc:
    """smsc-sim in SVC, every site's SMSCs on that site's address."""

    def __init__(self, topo, sim_exe, per_site=2, rebind_interval=5, knobs=None):
        self.topo, self.exe = topo, sim_exe
        self.control = os.path.join(topo.tmp, "sim.sock")
        self.ledger = os.path.join(topo.tmp, "ledger.json")
        cfg = os.path.join(topo.tmp, "sim.ini")
        with open(cfg, "w") as f:
            f.write("[sim]\nsites = %s\nsmscs_per_site = %d\nport_base = %d\n"
                    "rebind_interval = %d\n" % (", ".join(topo.sites), per_site, PORT_BASE,
                                                rebind_interval))
            f.write("[all]\n")
            for key, val in (knobs or {}).items():
                f.write("%s = %s\n" % (key, val))
            for site in topo.sites:
                f.write("[site %s]\nhost = %s\n" % (site, topo.addr(site)))
        self.err = open(os.path.join(topo.tmp, "sim.err"), "w+")
        self.p = topo.spawn(topo.svc, [sim_exe, "--config", cfg, "--control", self.control,
                                       "--ledger", self.ledger, "--seed", "11"],
                            stdout=subprocess.PIPE, stderr=self.err, text=True)
        self.smscs = []          # (name, site, host:port)
        for line in self.p.stdout:
            w = line.split()
            if w[:1] == ["ready"]:
                break
            if w[:1] == ["listening"]:
                self.smscs.append((w[1], w[2], w[3]))
        if not self.smscs:
            raise RuntimeError("smsc-sim did not start: " + self.stderr())

    def stderr(self):
        self.err.seek(0)
        return self.err.read()

    def names(self, site=None):
        return [n for n, s, _ in self.smscs if site is None or s == site]

    def ctl(self, *words):
        r = subprocess.run([self.exe, "ctl", "--control", self.control] + list(words),
                           capture_output=True, text=True, timeout=10)
        return r.stdout.strip()

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        err = self.stderr()
        # a sanitizer report or a crash fails the test that ran the simulator
        if self.p.returncode != 0 or "Sanitizer" in err or "runtime error" in err:
            raise AssertionError("smsc-sim exit %d: %s" % (self.p.returncode, err[-2000:]))
        with open(self.ledger) as f:
            return json.load(f)


class SynWatch:
    """tcpdump in APP on site's link: the time of every new TCP connection
    attempt (first SYN of each source port) toward each SMSC port. This is
    the wire's view of R2, independent of what the library or the simulator
    count (a SYN the blackhole drops never reaches the simulator)."""

    def __init__(self, topo, site):
        self.attempts = {}     # dst port -> [time of first SYN per src port]
        self.first = {}        # (src port, dst port) -> time of its first SYN
        self.start(topo, site)

    def start(self, topo, site):
        """(Re)starts the capture: after the site's namespace was deleted and
        rebuilt, its link in APP is a new interface."""
        dev = "a%d" % topo.k(site)
        self.p = topo.spawn(topo.app, ["tcpdump", "-l", "-n", "-tt", "-i", dev,
                                       "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.p.stderr.readline()     # "listening on ..." once capturing
        while line and "listening" not in line:
            line = self.p.stderr.readline()
        if not line:
            raise RuntimeError("tcpdump did not start")
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.p.stdout:
            w = line.split()
            # 1700000000.123456 IP 10.2.1.1.41234 > 10.2.9.1.2777: Flags [S], ...
            try:
                t = float(w[0])
                src = w[2].rsplit(".", 1)[1]
                dst = int(w[4].rstrip(":").rsplit(".", 1)[1])
            except (IndexError, ValueError):
                continue
            if (src, dst) not in self.first:
                self.first[(src, dst)] = t
                self.attempts.setdefault(dst, []).append(t)

    def min_spacing(self):
        best = None
        for times in self.attempts.values():
            times = sorted(times)
            for a, b in zip(times, times[1:]):
                best = b - a if best is None else min(best, b - a)
        return best

    def count(self):
        return sum(len(v) for v in self.attempts.values())


class Pipe:
    """`smsmux pipe` in APP, fed by a paced load generator; events timestamped."""

    def __init__(self, topo, smx_exe, smsc_args, client_cfg, extra=()):
        self.topo = topo
        cfg = os.path.join(topo.tmp, "client.ini")
        with open(cfg, "w") as f:
            f.write("[client]\n")
            for key, val in client_cfg.items():
                f.write("%s = %s\n" % (key, val))
        self.admin = os.path.join(topo.tmp, "admin.sock")
        self.smx = smx_exe
        self.errf = open(os.path.join(topo.tmp, "pipe.err"), "w+")
        self.p = topo.spawn(topo.app, [smx_exe, "pipe", "--config", cfg, "--admin", self.admin,
                                       "--drain-timeout", "60"] + list(smsc_args) + list(extra),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errf,
                            text=True, bufsize=1)
        self.events = []          # (time, event dict)
        self.sent = {}            # id -> time written
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.stop_load = threading.Event()
        self.loader = None

    def _read(self):
        for line in self.p.stdout:
            t = time.time()
            try:
                ev = json.loads(line)
            except ValueError:
                ev = {"event": "not_json", "line": line}
            with self.lock:
                self.events.append((t, ev))

    def stderr(self):
        self.errf.seek(0)
        return self.errf.read()

    def sanitizer_report(self):
        err = self.stderr()
        return "Sanitizer" in err or "runtime error" in err

    def send(self, mt_id, dst="447700900001", text=None):
        line = json.dumps({"id": mt_id, "from": "12345", "to": dst,
                           "text": text or ("net test " + mt_id)})
        self.sent[mt_id] = time.time()
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def start_load(self, rate, prefix="m"):
        def loop():
            i = 0
            t0 = time.time()
            while not self.stop_load.is_set():
                due = t0 + i / rate
                now = time.time()
                if due > now:
                    time.sleep(min(due - now, 0.05))
                    continue
                self.send("%s%d" % (prefix, i), "4477009%05d" % (i % 100000))
                i += 1
        self.loader = threading.Thread(target=loop, daemon=True)
        self.loader.start()

    def end_load(self):
        self.stop_load.set()
        if self.loader:
            self.loader.join()

    def snapshot(self):
        with self.lock:
            return list(self.events)

    def wait(self, pred, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if pred(self.snapshot()):
                return True
            time.sleep(0.05)
        return pred(self.snapshot())

    def binds_up(self, names):
        """Names whose last bind event is up."""
        state = {}
        for _, e in self.snapshot():
            if e.get("event") == "bind":
                state[e["smsc"]] = e["state"]
        return {n for n in names if state.get(n) == "up"}

    def bind_events(self, state=None):
        return [(t, e) for t, e in self.snapshot()
                if e.get("event") == "bind" and (state is None or e["state"] == state)]

    def outcomes(self):
        out = {}
        for t, e in self.snapshot():
            if e.get("event") in ("submitted", "failed"):
                out.setdefault(e.get("id"), []).append((t, e))
        return out

    def stats(self):
        r = subprocess.run([self.smx, "stats", "--json", "--admin", self.admin],
                           capture_output=True, text=True, timeout=10)
        return json.loads(r.stdout) if r.returncode == 0 else None

    def close(self, timeout=90):
        self.end_load()
        self.p.stdin.close()
        try:
            rc = self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            rc = None
        self.reader.join(timeout=5)
        return rc


def percentile(values, q):
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, diag=None):
        self.n += 1
        if not cond:
            self.failed += 1
        print(("ok" if cond else "not ok") + " %d - %s" % (self.n, name), flush=True)
        if not cond and diag is not None:
            for line in str(diag).splitlines()[:30]:
                print("#   " + line, flush=True)

    def note(self, text):
        for line in str(text).splitlines():
            print("# " + line, flush=True)

    def done(self):
        print("1..%d" % self.n, flush=True)
        return 1 if self.failed else 0


def skip_all(reason):
    print("1..0 # SKIP " + reason, flush=True)
    sys.exit(0)


def resolv_conf(ns, nameserver):
    """`ip netns exec NS` bind-mounts /etc/netns/NS/resolv.conf over
    /etc/resolv.conf for the process it starts."""
    d = "/etc/netns/" + ns
    os.makedirs(d, exist_ok=True)
    with open(d + "/resolv.conf", "w") as f:
        f.write("nameserver %s\noptions timeout:1 attempts:1\n" % nameserver)

