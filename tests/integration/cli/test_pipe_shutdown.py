#!/usr/bin/env python3
"""Issue 12, part 2, through the CLI: nothing a SMSC was answered ESME_ROK
for is lost when `smsmux pipe` ends. Against a smsc-sim it starts (control
socket for `dr`, `mo`, `drop-resp`):
  - a DR for a message_id no MT ever had (parked: no resp will come),
  - the DR of an MT whose submit_sm_resp the service never sends,
  - an MO of 3 parts of which only 2 are ever sent,
then stdin closes: all three appear on stdout (the DRs uncorrelated, the MO
flagged partial with what arrived), each once, before pipe exits 0.
Usage: test_pipe_shutdown.py SMSMUX SMSC_SIM"""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clitest import Pipe, Sim, Tap, outcomes  # noqa: E402

smx, sim_path = sys.argv[1], sys.argv[2]
tap = Tap()


def ctl(path, *words):
    r = subprocess.run([sim_path, "ctl", "--control", path, *words], capture_output=True,
                       text=True, timeout=20)
    return r.stdout.strip()


def acked(path):
    try:
        return json.loads(ctl(path, "summary"))["totals"]["deliver_sm_acked"]
    except (ValueError, KeyError):
        return -1


def parked_dr_and_partial_mo_printed_at_eof():
    ctl_path = os.path.join(tempfile.mkdtemp(prefix="smx-i12-"), "ctl.sock")
    sim = Sim(sim_path, "--control", ctl_path, "--set", "dr_delay_ms=20-50")
    names = {n for n, _, _ in sim.smscs}
    p = Pipe(smx, sim.args() + ["--rebind-interval", "1", "--drain-timeout", "3"])
    up = p.wait_bound(names, 30)
    tap.ok(up, "every SMSC bound", p.err[-5:])
    base = acked(ctl_path)
    # the next submit_sm on every SMSC is accepted (DR scheduled) but never answered
    ctl(ctl_path, "drop-resp", "all", "1", "submit_sm")
    ctl(ctl_path, "dr", "smsc1.dc3", "DEADBEEF0001", "UNDELIVERABLE")
    ctl(ctl_path, "mo", "smsc2.bos", "1", "3", "2")
    p.send({"id": "no-resp", "from": "12345", "to": "447700900001", "text": "resp dropped"})
    # the MT's message_id, from the service's own records
    msgid = None
    t0 = time.time()
    while time.time() - t0 < 20 and not msgid:
        try:
            mts = json.loads(ctl(ctl_path, "mts"))
            recs = mts.get("mts", mts) if isinstance(mts, dict) else mts
            for m in recs:
                msgid = m.get("message_id") or msgid
        except ValueError:
            pass
        time.sleep(0.1)
    # the client acknowledged both DRs and both MO parts
    t0 = time.time()
    while time.time() - t0 < 30 and acked(ctl_path) < base + 4:
        time.sleep(0.1)
    got = acked(ctl_path) - base
    tap.ok(msgid is not None and got == 4,
           "the DRs and the MO parts were acknowledged before stdin closes", (msgid, got))
    rc = p.close(timeout=90)
    sim.stop()
    ev = p.events
    drs = [e for e in ev if e.get("event") == "dr"]
    unknown = [e for e in drs if e.get("message_id") == "DEADBEEF0001"]
    tap.ok(len(unknown) == 1 and unknown[0].get("id") is None and
           unknown[0].get("state") == "UNDELIVERABLE" and unknown[0].get("smsc"),
           "the DR for an unknown id is printed once, uncorrelated, with its state and SMSC",
           (drs, p.err[-8:]))
    mine = [e for e in drs if msgid and e.get("message_id") == msgid]
    tap.ok(len(mine) == 1 and mine[0].get("id") is None and mine[0].get("state") == "DELIVERED",
           "the DR whose resp never came is printed once, uncorrelated", (msgid, drs))
    mos = [e for e in ev if e.get("event") == "mo"]
    tap.ok(len(mos) == 1 and mos[0].get("partial") is True and mos[0].get("parts") == 2 and
           "part 1/3" in mos[0].get("text", "") and "part 2/3" in mos[0].get("text", ""),
           "the MO missing a part is printed once, flagged partial, with both parts that came",
           mos)
    oc = outcomes(ev).get("no-resp", [])
    tap.ok(len(oc) == 1 and oc[0]["event"] == "failed",
           "the MT without a resp has exactly one outcome (failed)", oc)
    tap.ok(rc == 0 and not p.not_json, "pipe exits 0, stdout only JSON", (rc, p.not_json[:3]))
    try:
        os.unlink(ctl_path)
        os.rmdir(os.path.dirname(ctl_path))
    except OSError:
        pass


parked_dr_and_partial_mo_printed_at_eof()
tap.done()
