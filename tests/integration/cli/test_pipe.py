#!/usr/bin/env python3
"""`smsmux pipe` as a black box (../../../../shared/CLI.md) against a
smsc-sim it starts on free ports: one outcome per MT line, bad_request with
the line number, duplicate_id, DRs correlated with the app ids, bind events,
exit 0 after EOF or SIGTERM (also with MTs in flight), usage errors, stdout only
JSON.
Usage: test_pipe.py SMSMUX SMSC_SIM"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clitest import Pipe, Sim, Tap, mt, outcomes  # noqa: E402

smx, sim_path = sys.argv[1], sys.argv[2]
tap = Tap()
FAST = ["--rebind-interval", "1", "--drain-timeout", "10"]
DR_STATES = {"ENROUTE", "DELIVERED", "EXPIRED", "DELETED", "UNDELIVERABLE", "ACCEPTED",
             "UNKNOWN", "REJECTED"}


def main_run():
    sim = Sim(sim_path)
    names = {n for n, _, _ in sim.smscs}
    p = Pipe(smx, sim.args() + FAST)
    up = p.wait_bound(names, 20)
    ids = [f"m{i}" for i in range(21)]
    for i in range(20):
        p.send(mt(i))                                            # lines 1..20
    p.send("not json")                                           # line 21
    p.send({"id": "nofield", "from": "12345"})                   # line 22
    p.send(mt(3))                                                # line 23: m3 again
    p.send("")                                                   # line 24: blank
    p.send(mt(20, text="h\u00e9llo \u20ac \U0001F600"))          # line 25
    want = set(ids) | {"nofield", None}
    p.wait_for(lambda ev: want <= set(outcomes(ev)) and len(outcomes(ev).get("m3", [])) >= 2, 60)
    # keep stdin open a little so DRs arrive before the drain
    p.wait_for(lambda ev: sum(1 for e in ev if e.get("event") == "dr") >= 21, 15)
    rc = p.close()
    ledger = sim.stop()
    ev = p.events
    oc = outcomes(ev)

    binds = [e for e in ev if e.get("event") == "bind"]
    tap.ok(up, "a bind up event for every SMSC", binds)
    tap.ok(binds and all(list(e)[:4] == ["event", "smsc", "site", "state"] for e in binds) and
           all(e["site"] in {s for _, s, _ in sim.smscs} for e in binds),
           "bind events carry event, smsc, site, state in that order", binds[:3])

    single = [i for i in ids if i != "m3"]
    bad = {i: oc.get(i) for i in single
           if len(oc.get(i, [])) != 1 or oc[i][0]["event"] != "submitted"}
    tap.ok(not bad, "every MT line gets exactly one submitted event", bad)

    subs = [e for e in ev if e.get("event") == "submitted"]
    tap.ok(subs and all(list(e) == ["event", "id", "smsc", "message_id"] and e["message_id"] and
                        e["smsc"] in names for e in subs),
           "submitted events: event, id, smsc, message_id (non-empty), a known SMSC", subs[:3])

    nulls = oc.get(None, [])
    tap.ok(len(nulls) == 1 and nulls[0].get("reason") == "bad_request" and
           nulls[0].get("line") == 21 and nulls[0].get("permanent") is True,
           "a non-JSON line gets failed bad_request with id null and its line number", nulls)

    nf = oc.get("nofield", [])
    tap.ok(len(nf) == 1 and nf[0]["event"] == "failed" and nf[0]["reason"] == "bad_request" and
           "line" not in nf[0], "a line missing fields gets failed bad_request with its id", nf)

    m3 = oc.get("m3", [])
    tap.ok(sorted(e["event"] for e in m3) == ["failed", "submitted"] and
           any(e.get("reason") == "duplicate_id" for e in m3),
           "a repeated id gets failed duplicate_id and the first stays submitted once", m3)

    tap.ok(len(oc.get("m20", [])) == 1 and oc["m20"][0]["event"] == "submitted",
           "an MT with non-ASCII UTF-8 text is submitted", oc.get("m20"))

    msgid = {e["id"]: e["message_id"] for e in subs}
    drs = [e for e in ev if e.get("event") == "dr"]
    wrong = [e for e in drs if e.get("id") is not None and
             (msgid.get(e["id"]) != e.get("message_id") or e.get("state") not in DR_STATES or
              list(e) != ["event", "id", "message_id", "state", "smsc"])]
    tap.ok(drs and not wrong, f"DR lines ({len(drs)}) carry the app id of their MT and its message_id",
           wrong or "no DR arrived")
    keys = [(e.get("id"), e.get("message_id"), e.get("state")) for e in drs]
    tap.ok(len(keys) == len(set(keys)), "no DR reaches stdout twice", keys)

    tap.ok(rc == 0, "exits 0 after stdin EOF", f"exit status {rc}; stderr: {''.join(p.err)[-800:]}")
    tap.ok(not p.not_json, "stdout holds only JSON lines", p.not_json[:5])
    tap.ok(any("21" in line for line in p.err), "the bad line is explained on stderr", p.err[-5:])
    tot = (ledger or {}).get("totals", {})
    tap.ok(tot.get("submit_sm_accepted") == 21 and
           (ledger or {}).get("handset", {}).get("duplicates") == 0,
           "the simulator accepted each valid MT exactly once, no handset duplicates",
           json.dumps(tot)[:600])


def pipe_with_config(text):
    """`smsmux pipe --config FILE` with no input, FILE a temporary .ini
    holding text (removed afterwards); returns the run and FILE's path."""
    fd, path = tempfile.mkstemp(suffix=".ini")
    os.write(fd, text)
    os.close(fd)
    r = subprocess.run([smx, "pipe", "--config", path], input="", capture_output=True, text=True,
                       timeout=20)
    os.unlink(path)
    return r, path


def usage_errors():
    r = subprocess.run([smx, "pipe", "--bogus"], capture_output=True, text=True, timeout=20)
    tap.ok(r.returncode != 0 and r.stdout == "" and "--bogus" in r.stderr,
           "an unknown flag is a usage error: non-zero exit, message on stderr, stdout empty",
           (r.returncode, r.stdout, r.stderr))
    r = subprocess.run([smx, "pipe"], input="", capture_output=True, text=True, timeout=20)
    tap.ok(r.returncode != 0 and r.stdout == "" and r.stderr,
           "no SMSC given is a usage error", (r.returncode, r.stdout, r.stderr))
    r, path = pipe_with_config(b"[client]\nwindow = 10\nwindw = 3\n")
    tap.ok(r.returncode != 0 and f"{path}:3" in r.stderr and "windw" in r.stderr,
           "a bad config file is an error naming file, line and key", (r.returncode, r.stderr))
    r, path = pipe_with_config(b"[client]\nwindow = 10\n\n[smsc a]\nsite = s\nhost = 127.0.0.1\n")
    tap.ok(r.returncode != 0 and r.stdout == "" and f"{path}:4: [smsc a]: missing key 'port'"
           in r.stderr, "an SMSC without a port is an error naming the file and its section's line",
           (r.returncode, r.stderr))
    r = subprocess.run([smx, "pipe", "--smsc", "a@b=127.0.0.1:notaport"], input="",
                       capture_output=True, text=True, timeout=20)
    tap.ok(r.returncode != 0 and r.stdout == "", "a malformed --smsc is a usage error",
           (r.returncode, r.stderr))
    r = subprocess.run([smx, "nosuchcommand"], capture_output=True, text=True, timeout=20)
    tap.ok(r.returncode != 0 and r.stdout == "", "an unknown command is a usage error",
           (r.returncode, r.stderr))


def eof_and_signals():
    sim = Sim(sim_path)
    t0 = time.time()
    r = subprocess.run([smx, "pipe", *sim.args(), *FAST], input="", capture_output=True,
                       text=True, timeout=60)
    bad = [l for l in r.stdout.splitlines() if not l.startswith("{")]
    tap.ok(r.returncode == 0 and not bad and time.time() - t0 < 30,
           "empty stdin: exits 0 promptly with only JSON on stdout", (r.returncode, r.stderr[-500:]))

    lines = "".join(json.dumps(mt(i, "e")) + "\n" for i in range(50))
    r = subprocess.run([smx, "pipe", *sim.args(), *FAST], input=lines, capture_output=True,
                       text=True, timeout=90)
    oc = outcomes([json.loads(l) for l in r.stdout.splitlines()])
    miss = [f"e{i}" for i in range(50) if len(oc.get(f"e{i}", [])) != 1]
    tap.ok(r.returncode == 0 and not miss,
           "MTs still outstanding at EOF get their outcomes before exit 0",
           (r.returncode, miss[:10], r.stderr[-500:]))

    p = Pipe(smx, sim.args() + FAST)
    for i in range(5):
        p.send(mt(i, "s"))
    p.wait_for(lambda ev: {f"s{i}" for i in range(5)} <= set(outcomes(ev)), 30)
    t0 = time.time()
    rc = p.signal_and_wait(signal.SIGTERM, 30)
    took = time.time() - t0
    p.close(timeout=5)
    oc = outcomes(p.events)
    tap.ok(rc == 0 and took < 20 and all(len(oc.get(f"s{i}", [])) == 1 for i in range(5)),
           "SIGTERM with stdin still open: drains and exits 0", (rc, took, p.err[-5:]))
    sim.stop()


def example_config():
    """The shipped example config, with every SMSC's address replaced by
    --smsc flags pointing at the simulator: the flags win."""
    example = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                           "tools", "smsmux", "smsmux.example.ini")
    sim = Sim(sim_path)
    lines = "".join(json.dumps(mt(i, "x")) + "\n" for i in range(5))
    r = subprocess.run([smx, "pipe", "--config", example, *sim.args(), *FAST], input=lines,
                       capture_output=True, text=True, timeout=60)
    sim.stop()
    ev = [json.loads(l) for l in r.stdout.splitlines()]
    oc = outcomes(ev)
    ok = all(len(oc.get(f"x{i}", [])) == 1 and oc[f"x{i}"][0]["event"] == "submitted"
             for i in range(5))
    tap.ok(r.returncode == 0 and ok,
           "the example config loads and --smsc flags override its addresses",
           (r.returncode, r.stderr[-600:], oc))


def drain_deadline():
    """No SMSC reachable: at EOF the MT waits --drain-timeout, then fails with
    reason shutdown, and the process still exits 0."""
    import socket
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        port = so.getsockname()[1]
    t0 = time.time()
    r = subprocess.run([smx, "pipe", "--smsc", f"a@b=127.0.0.1:{port}", "--rebind-interval", "1",
                        "--drain-timeout", "2"], input=json.dumps(mt(1, "z")) + "\n",
                       capture_output=True, text=True, timeout=60)
    took = time.time() - t0
    oc = outcomes([json.loads(l) for l in r.stdout.splitlines()])
    z = oc.get("z1", [])
    tap.ok(r.returncode == 0 and len(z) == 1 and z[0]["event"] == "failed" and
           z[0]["reason"] == "shutdown" and 1.5 < took < 20,
           "an MT still unsent at the drain deadline fails with reason shutdown; exit 0",
           (r.returncode, took, r.stdout, r.stderr[-400:]))


def backpressure():
    """A tiny ingress ring (config file) makes smx_submit push back; no line
    is dropped: every MT still gets exactly one outcome."""
    fd, path = tempfile.mkstemp(suffix=".ini")
    os.write(fd, b"[client]\ningress_capacity = 4\nwindow = 1\n")
    os.close(fd)
    sim = Sim(sim_path)
    n = 400
    lines = "".join(json.dumps(mt(i, "p")) + "\n" for i in range(n))
    r = subprocess.run([smx, "pipe", "--config", path, *sim.args(), *FAST], input=lines,
                       capture_output=True, text=True, timeout=120)
    ledger = sim.stop()
    os.unlink(path)
    oc = outcomes([json.loads(l) for l in r.stdout.splitlines()])
    miss = [f"p{i}" for i in range(n) if len(oc.get(f"p{i}", [])) != 1 or
            oc[f"p{i}"][0]["event"] != "submitted"]
    acc = (ledger or {}).get("totals", {}).get("submit_sm_accepted")
    tap.ok(r.returncode == 0 and not miss and acc == n,
           "under backpressure (ingress of 4) every MT is submitted exactly once",
           (r.returncode, miss[:10], acc, r.stderr[-400:]))


def sigterm_with_mts_in_flight():
    """One SIGTERM while MTs wait for their submit_sm_resp (the simulator
    answers 1.5 s late) drains like EOF: every MT gets the SMSC's answer
    (submitted), none fails "shutdown", and no second signal is imagined.
    (Before: the signalfd was never read, so the drain loop saw the same
    SIGTERM again at once, stopped as for a second signal and failed every
    MT in flight - the SMSC accepted them all the same.)"""
    sim = Sim(sim_path, "--set", "resp_latency_ms=1500")
    names = {n for n, _, _ in sim.smscs}
    p = Pipe(smx, sim.args() + FAST)
    up = p.wait_bound(names, 20)
    n = 20
    for i in range(n):
        p.send(mt(i, "t"))
    time.sleep(0.5)                         # sent, their answers 1 s away
    rc = p.signal_and_wait(signal.SIGTERM, 40)
    p.close(timeout=5)
    ledger = sim.stop()
    oc = outcomes(p.events)
    bad = {f"t{i}": oc.get(f"t{i}") for i in range(n)
           if len(oc.get(f"t{i}", [])) != 1 or oc[f"t{i}"][0]["event"] != "submitted"}
    acc = (ledger or {}).get("totals", {}).get("submit_sm_accepted")
    err = "".join(p.err)
    tap.ok(up and rc == 0 and not bad and acc == n and "second signal" not in err,
           "one SIGTERM with MTs in flight: each gets the SMSC's answer (submitted), exit 0",
           (up, rc, acc, list(bad.items())[:3], err[-400:]))


def second_sigterm_cuts_the_drain():
    """A second SIGTERM ends the drain at once: the MTs still waiting for an
    answer (due in 30 s, the drain would wait 60 s) fail "shutdown"."""
    sim = Sim(sim_path, "--set", "resp_latency_ms=30000")
    names = {n for n, _, _ in sim.smscs}
    p = Pipe(smx, sim.args() + ["--rebind-interval", "1", "--drain-timeout", "60"])
    up = p.wait_bound(names, 20)
    for i in range(5):
        p.send(mt(i, "u"))
    time.sleep(0.5)
    p.p.send_signal(signal.SIGTERM)
    time.sleep(1)                           # draining now
    first_ended = p.p.poll() is not None
    rc = p.signal_and_wait(signal.SIGTERM, 25)  # well before the answers or the deadline
    p.close(timeout=5)
    sim.stop()
    oc = outcomes(p.events)
    failed = [i for i in range(5) if [e.get("reason") for e in oc.get(f"u{i}", [])] == ["shutdown"]]
    tap.ok(up and not first_ended and rc == 0 and len(failed) == 5,
           "a second SIGTERM cuts the drain: the MTs in flight fail shutdown, exit 0",
           (up, first_ended, rc, oc, "".join(p.err)[-400:]))


main_run()
sigterm_with_mts_in_flight()
second_sigterm_cuts_the_drain()
example_config()
backpressure()
drain_deadline()
usage_errors()
eof_and_signals()
tap.done()
