#!/usr/bin/env python3
"""blast against its own sink and against smsc-sim: every submit_sm answered,
the sink's count matches, and with receipts every DR is acknowledged.
Prints TAP. Usage: test_blast.py PATH/TO/blast PATH/TO/smsc-sim"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile

BLAST, SIM = sys.argv[1], sys.argv[2]
n = 0
failed = 0


def ok(cond, name):
    global n, failed
    n += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n, name))
    failed += 0 if cond else 1


def start(cmd):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    port = None
    for line in p.stdout:
        m = re.match(r"listening \S+ (?:\S+ )?127\.0\.0\.1:(\d+)", line)
        if m and port is None:
            port = int(m.group(1))
        if line.strip() == "ready":
            break
    return p, port


def blast(port, *extra):
    r = subprocess.run([BLAST, "--port", str(port)] + list(extra), capture_output=True, text=True, timeout=60)
    last = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
    return r.returncode, last, r.stderr


def blast_sim(sim_extra, blast_args):
    """blast against a one-SMSC smsc-sim (sim_extra added to its command line)
    that writes a ledger; returns blast's exit code, its stderr and the
    ledger's totals once the simulator has stopped."""
    d = tempfile.mkdtemp()
    ledger = os.path.join(d, "ledger.json")
    sim, port = start([SIM, "--port-base", "0", "--sites", "x", "--smscs-per-site", "1", "--ledger", ledger]
                      + sim_extra)
    rc, _, err = blast(port, *blast_args)
    sim.send_signal(signal.SIGTERM)
    sim.communicate(timeout=10)
    with open(ledger) as f:
        t = json.load(f)["totals"]
    os.unlink(ledger)
    os.rmdir(d)
    return rc, err, t


sink, port = start([BLAST, "--sink"])
rc, last, err = blast(port, "--count", "20000", "--connections", "2", "--batch", "100", "--window", "1000")
ok(rc == 0 and re.fullmatch(r"submit_per_s=\d+", last), "blast prints submit_per_s as its last line")
ok("ok 20000, errors 0" in err, "every submit_sm to the sink is answered OK")
sink.send_signal(signal.SIGTERM)
out, _ = sink.communicate(timeout=10)
ok(out.strip().splitlines()[-1] == "submit_sm=20000", "sink counts what it answered")

rc, err, t = blast_sim(["--set", "dr_delay_ms=1-5"],
                       ["--count", "5000", "--registered-delivery", "1", "--batch", "50", "--window", "500"])
ok(rc == 0 and "ok 5000, errors 0" in err, "smsc-sim answers every submit_sm from blast")
ok(t["submit_sm_accepted"] == 5000, "ledger counts the 5000 submits")
# DRs still on the way when blast hangs up stay unanswered; none is refused
ok(t["deliver_sm_acked"] > 0 and t["deliver_sm_nacked"] == 0, "blast acknowledges the DRs it gets")
# --encode: each submit_sm encoded afresh; smsc-sim decodes every one in full
rc, err, t = blast_sim([], ["--count", "3000", "--encode", "--connections", "2", "--batch", "30",
                           "--window", "300"])
ok(rc == 0 and "ok 3000, errors 0" in err, "smsc-sim accepts every afresh-encoded submit_sm (--encode)")
ok(t["submit_sm_accepted"] == 3000, "ledger counts the 3000 afresh-encoded submits")
print("1..%d" % n)
sys.exit(1 if failed else 0)
