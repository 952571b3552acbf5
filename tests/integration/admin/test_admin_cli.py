"""The operator surface as a black box: `smsmux pipe --admin --metrics`
against smsc-sim, driven with `smsmux knob` and `smsmux stats`, the metrics
page parsed by prometheus_client's text parser (a real Prometheus parser),
stats compared with the simulator's ledger, and bad config files refused
with file, line and key. TAP on stdout.

usage: test_admin_cli.py SMSMUX SMSC_SIM"""
import json
import os
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from clitest import Pipe, Sim, Tap, mt, outcomes  # noqa: E402

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:  # Debian's python3-prometheus-client under another python3
    sys.path.append("/usr/lib/python3/dist-packages")
    from prometheus_client.parser import text_string_to_metric_families

SMX, SIM = sys.argv[1], sys.argv[2]
t = Tap()
tmp = tempfile.mkdtemp(prefix="smx-admin-")
sock = os.path.join(tmp, "admin.sock")
ctl = os.path.join(tmp, "sim.ctl")


def run(*args, timeout=20):
    p = subprocess.run([SMX, *args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def knob(*args):
    return run("knob", *args, "--admin", sock)


def stats_json():
    rc, out, err = run("stats", "--json", "--admin", sock)
    return json.loads(out) if rc == 0 else None


def ledger():
    p = subprocess.run([SIM, "ctl", "--control", ctl, "summary"], capture_output=True,
                       text=True, timeout=10)
    try:
        return json.loads(p.stdout)
    except ValueError:
        return None


def metrics(addr):
    with urllib.request.urlopen(f"http://{addr}/metrics", timeout=5) as r:
        return r.headers.get("Content-Type", ""), r.read().decode()


def families(text):
    return {f.name: f for f in text_string_to_metric_families(text)}


def sample(fams, fam, name, **labels):
    for s in fams[fam].samples:
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return None


sim = Sim(SIM, "--control", ctl)
# the last SMSC is not on the command line: it is added at runtime below
last_name, last_site, last_addr = sim.smscs[-1]
pipe = Pipe(SMX, [*sim.args()[:-2], "--admin", sock, "--metrics", "127.0.0.1:0",
                  "--rebind-interval", "1", "--drain-timeout", "10"])
try:
    t0 = time.time()
    while not os.path.exists(sock) and time.time() - t0 < 10:
        time.sleep(0.05)
    pipe.wait_for(lambda ev: sum(e.get("event") == "bind" and e.get("state") == "up"
                                 for e in ev) >= 3, 10)
    rc, out, err = run("smsc", "add", f"{last_name}@{last_site}={last_addr}", "window=5",
                       "--admin", sock)
    up = pipe.wait_for(lambda ev: any(e.get("event") == "bind" and e.get("state") == "up"
                                      and e.get("smsc") == last_name for e in ev), 10)
    t.ok(rc == 0 and up, "smsmux smsc add binds a new SMSC while running", (rc, err))
    rc2, out2, _ = knob("get", f"smsc.{last_name}.window")
    t.ok(out2.strip() == "5", "the added SMSC's settings came from KEY=VALUE", out2)
    rc, out, err = run("smsc", "add", f"{last_name}@{last_site}={last_addr}", "--admin", sock)
    t.ok(rc == 1 and "exists" in err, "adding a name twice is refused", err)
    rc, out, err = run("smsc", "add", f"x9@{last_site}={last_addr}", "windoww=5", "--admin", sock)
    t.ok(rc == 1 and "windoww" in err, "a bad key of smsc add is named", err)
    # =tls://HOST:PORT adds a TLS SMSC: against this plain port it cannot bind
    rc, out, err = run("smsc", "add", f"tls9@{last_site}=tls://{last_addr}", "--admin", sock)
    down = pipe.wait_for(lambda ev: any(e.get("event") == "bind" and e.get("state") == "down"
                                        and e.get("smsc") == "tls9" and
                                        e.get("reason", "").startswith("tls: ") for e in ev), 10)
    t.ok(rc == 0 and down, "smsc add NAME@SITE=tls://HOST:PORT binds over TLS", (rc, err))
    run("smsc", "remove", "tls9", "--admin", sock)   # the checks below want every bind up

    # a whole new site at runtime: add it, drain it, remove it
    rc, out, err = run("smsc", "add", f"nyc1@nyc={sim.smscs[0][2]}", "--admin", sock)
    up = pipe.wait_for(lambda ev: any(e.get("event") == "bind" and e.get("state") == "up"
                                      and e.get("smsc") == "nyc1" for e in ev), 10)
    _, adm, _ = knob("get", "site.nyc.admin")
    t.ok(rc == 0 and up and adm.strip() == "enabled", "a new site is added with its SMSC",
         (rc, err, adm))
    rc1, _, _ = run("site", "drain", "nyc", "--admin", sock)
    _, adm1, _ = knob("get", "site.nyc.admin")
    rc2, _, err2 = run("site", "remove", "nyc", "--admin", sock)
    down = pipe.wait_for(lambda ev: any(e.get("event") == "bind" and e.get("state") == "down"
                                        and e.get("smsc") == "nyc1" for e in ev), 10)
    js0 = stats_json()
    nyc = [b for b in js0["binds"] if b["site"] == "nyc"]
    t.ok(rc1 == 0 and adm1.strip() == "draining" and rc2 == 0 and down and len(nyc) == 1
         and nyc[0]["admin"] == "removed" and nyc[0]["state"] == "DOWN",
         "smsmux site drain/remove take a whole site out while running", (adm1, err2, nyc))
    st = os.stat(sock)
    t.ok(stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600,
         "admin socket exists with mode 0600", oct(st.st_mode))

    rc, out, err = knob("get", "retry_backoff_ms")
    t.ok(rc == 0 and out.strip() == "200", "knob get answers the configured value", (rc, out, err))
    rc, out, err = knob("set", "retry_backoff_ms", "350")
    rc2, out2, _ = knob("get", "retry_backoff_ms")
    t.ok(rc == 0 and out2.strip() == "350", "knob set takes effect", (rc, out, err, out2))
    rc, out, err = knob("set", "max_attempts", "0")
    t.ok(rc == 1 and "max_attempts" in err and out == "", "bad knob value: exit 1 naming the knob",
         (rc, out, err))
    rc, out, err = knob("set", "smsc.nope.tps", "5")
    t.ok(rc == 1 and "nope" in err, "unknown SMSC: exit 1 naming it", (rc, err))
    rc, out, err = knob("list")
    t.ok(rc == 0 and "site.dc3.admin enabled" in out and "smsc.smsc1.bos.tps 0" in out,
         "knob list shows SMSC and site knobs", out[:400])
    rc, out, err = run("knob", "frobnicate", "--admin", sock)
    t.ok(rc == 2, "knob with a bad verb is a usage error", (rc, err))
    rc, out, err = run("knob", "get", "x")
    t.ok(rc == 2 and "--admin" in err, "knob without --admin/--config is a usage error", err)
    rc, out, err = run("stats", "--admin", os.path.join(tmp, "nothing.sock"))
    t.ok(rc == 1 and "cannot reach" in err, "stats against a missing socket: exit 1", err)

    n = 300
    for i in range(n):
        pipe.send(mt(i, prefix="a"))
    done = pipe.wait_for(lambda ev: len(outcomes(ev)) >= n and
                         sum(e.get("event") == "dr" for e in ev) >= n, 60)
    outs = outcomes(pipe.events)
    t.ok(done and all(len(v) == 1 and v[0]["event"] == "submitted" for v in outs.values())
         and len(outs) == n, "300 MTs submitted once each, 300 DRs back", len(outs))
    time.sleep(0.3)

    js = stats_json()
    led = ledger()
    ok = js is not None and led is not None
    diag = []
    if ok:
        by_name = {b["smsc"]: b for b in js["binds"]}
        # nyc1 was bound to smsc1.dc3's port: that SMSC's ledger counts both
        if "nyc1" in by_name:
            for k in ("submitted", "accepted", "drs", "mos"):
                by_name[sim.smscs[0][0]] = dict(by_name[sim.smscs[0][0]])
                by_name[sim.smscs[0][0]][k] += by_name["nyc1"][k]
        for s in led["smscs"]:
            b = by_name.get(s["name"])
            if (b is None or b["submitted"] != s["submit_sm_received"]
                    or b["accepted"] != s["submit_sm_accepted"]
                    or b["drs"] + b["mos"] != s["deliver_sm_acked"]):
                ok = False
                diag.append((s["name"], b and (b["submitted"], b["accepted"], b["drs"], b["mos"]),
                             (s["submit_sm_received"], s["submit_sm_accepted"],
                              s["deliver_sm_acked"])))
        ok = ok and sum(b["accepted"] for b in js["binds"]) == n
        ok = ok and js["client"]["accepted"] == n and js["client"]["in_flight"] == 0
        ok = ok and {x["name"] for x in js["sites"]} == {"dc3", "bos", "nyc"}
        ok = ok and sum(w["submitted"] for w in js["workers"]) == n
    t.ok(ok, "stats --json per bind match the simulator ledger; sites and workers sum up", diag)

    rc, table, err = run("stats", "--admin", sock)
    t.ok(rc == 0 and all(x in table for x in ("smsc1.dc3", "smsc2.bos", "SITE", "WORKER", "P99ms")),
         "stats prints a table with binds, sites and workers", table[:300])

    rc, addr, err = knob("get", "metrics_listening")
    addr = addr.strip()
    ctype, text = metrics(addr)
    t.ok(ctype.startswith("text/plain") and "version=0.0.4" in ctype,
         "metrics served as text/plain version=0.0.4", ctype)
    try:
        fams = families(text)
        parsed = True
    except Exception as e:  # the parser raises ValueError on malformed input
        fams, parsed = {}, False
        print(f"#   parse error: {e}")
    t.ok(parsed and len(fams) > 20, "prometheus_client parses the metrics page", len(fams))
    names_ok = all(f.startswith("smsmux_") for f in fams)
    counters = [f for f in fams.values() if f.type == "counter"]
    counters_ok = all(s.name.endswith("_total") for f in counters for s in f.samples
                      if not s.name.endswith("_created"))
    t.ok(parsed and names_ok and counters_ok and len(counters) > 5,
         "metric names carry the smsmux_ prefix; counter samples end in _total")
    ok = parsed
    if parsed:
        by_name = {b["smsc"]: b for b in js["binds"]}
        for name, b in by_name.items():
            if b["admin"] == "removed":
                continue
            v = sample(fams, "smsmux_mt_accepted", "smsmux_mt_accepted_total", smsc=name)
            c = sample(fams, "smsmux_mt_accept_latency_seconds",
                       "smsmux_mt_accept_latency_seconds_count", smsc=name)
            inf = sample(fams, "smsmux_mt_accept_latency_seconds",
                         "smsmux_mt_accept_latency_seconds_bucket", smsc=name, le="+Inf")
            up = sample(fams, "smsmux_bind_up", "smsmux_bind_up", smsc=name)
            if v != b["accepted"] or c != b["accepted"] or inf != c or up != 1:
                ok = False
                print(f"#   {name}: {v} {c} {inf} {up} vs {b['accepted']}")
        ok = ok and fams["smsmux_mt_accept_latency_seconds"].type == "histogram"
        ok = ok and sample(fams, "smsmux_mts_accepted", "smsmux_mts_accepted_total") == n
    t.ok(ok, "Prometheus values equal the JSON stats (accepted, latency histogram, bind_up)")

    rc, out, err = run("stats", "--prometheus", "--admin", sock)
    try:
        ok = rc == 0 and len(families(out)) > 20
    except Exception:
        ok = False
    t.ok(ok, "stats --prometheus over the admin socket parses too")

    # move the listener at runtime
    rc, out, err = knob("set", "metrics_addr", "localhost:0")
    rc2, addr2, _ = knob("get", "metrics_listening")
    addr2 = addr2.strip()
    moved = rc == 0 and addr2 and addr2 != addr
    try:
        metrics(addr2)
        new_ok = True
    except OSError:
        new_ok = False
    try:
        metrics(addr)
        old_gone = False
    except OSError:
        old_gone = True
    t.ok(moved and new_ok and old_gone, "knob metrics_addr moves the listener while running",
         (rc, err, addr, addr2))
    rc, out, err = knob("set", "metrics_addr", "256.1.1.1:80")
    try:
        metrics(addr2)
        still = True
    except OSError:
        still = False
    t.ok(rc == 1 and still, "a bad metrics_addr is refused and the listener keeps serving", err)

    # a second process may not take over a live admin socket or a bound port
    rc, out, err = run("pipe", *sim.args(), "--admin", sock, timeout=20)
    rc2, out2, _ = knob("get", "retry_backoff_ms")
    t.ok(rc == 2 and "in use" in err and rc2 == 0,
         "a second smsmux on the same admin socket refuses to start; the first keeps it",
         (rc, err, rc2))
    rc, out, err = run("pipe", *sim.args(), "--metrics", addr2, timeout=20)
    t.ok(rc == 2 and "metrics_addr" in err, "a metrics port in use makes start fail", (rc, err))

    # drain a site from the CLI, under traffic
    before = {b["smsc"]: b["submitted"] for b in stats_json()["binds"]}
    rc, out, err = run("site", "drain", "dc3", "--admin", sock)
    time.sleep(0.2)
    for i in range(200):
        pipe.send(mt(i, prefix="d"))
    done = pipe.wait_for(lambda ev: len(outcomes(ev)) >= n + 200, 30)
    after = stats_json()
    dc3_same = all(b["submitted"] == before[b["smsc"]] for b in after["binds"] if b["site"] == "dc3")
    bos_more = sum(b["submitted"] - before[b["smsc"]] for b in after["binds"]
                   if b["site"] == "bos") == 200
    admin_ok = all(b["admin"] == "draining" and b["state"] == "ACTIVE"
                   for b in after["binds"] if b["site"] == "dc3")
    t.ok(rc == 0 and done and dc3_same and bos_more and admin_ok,
         "smsmux site drain dc3: dc3 stays bound, takes no MT; bos takes all",
         (rc, err, before, [(b["smsc"], b["submitted"], b["admin"]) for b in after["binds"]]))
finally:
    rc = pipe.close(timeout=60)
    t.ok(rc == 0, "pipe exits 0", "".join(pipe.err[-10:]))
    t.ok(not os.path.exists(sock), "the admin socket is removed at exit")
    led = sim.stop()

# config files: errors name file, line and key; passwords are never shown
bad = {
    "unknown key": ("[client]\nwindow = 10\nwindoww = 3\n", 3, "windoww"),
    "bad number": ("[client]\n\nretry_backoff_ms = soon\n", 3, "retry_backoff_ms"),
    "bad data_coding": ("[smsc a]\nsite = s\nhost = 127.0.0.1\nport = 1\n"
                        "data_coding = service,8=klingon\n", 5, "data_coding"),
    "bad metrics_addr": ("[client]\nmetrics_addr = everywhere\n", 2, "metrics_addr"),
    "missing port": ("[smsc a]\nsite = s\nhost = 127.0.0.1\n", 1, "port"),
    "long password": ("[client]\npassword = sw0rdfish-too-long\n", 2, "password"),
}
for what, (text, line, key) in bad.items():
    path = os.path.join(tmp, "bad.ini")
    with open(path, "w") as f:
        f.write(text)
    rc, out, err = run("pipe", "--config", path, timeout=10)
    t.ok(rc == 2 and f"{path}:{line}:" in err and key in err and "sw0rdfish" not in err
         and out == "", f"config with {what}: exit 2, message names file:line and '{key}'",
         (rc, err))

# `smsmux stats --config FILE` finds the socket through admin_socket
good = os.path.join(tmp, "good.ini")
with open(good, "w") as f:
    f.write(f"[client]\nadmin_socket = {os.path.join(tmp, 'gone.sock')}\n")
rc, out, err = run("stats", "--config", good)
t.ok(rc == 1 and "gone.sock" in err, "stats --config uses its admin_socket", err)
t.done()
