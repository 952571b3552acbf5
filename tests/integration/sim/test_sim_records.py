#!/usr/bin/env python3
"""smsc-sim's memory of MTs without the identity TLV is bounded: at most
mt_records_max records (config [sim] key), the oldest leaving first and
counted in the ledger's mt_records.evicted, while every DR is still sent,
correlated, and MTs with an identity stay deduplicated.
Usage: test_sim_records.py PATH_TO_SMSC_SIM (TAP on stdout)."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from simlib import main as simlib_main  # noqa: E402
from simlib import (TAG_RECEIPTED_MESSAGE_ID, TAG_SMX_MSG_IDENTITY, Sim, check, check_eq,  # noqa: E402
                    smsc, tlv)

EXE = sys.argv[1] if len(sys.argv) > 1 else "smsc-sim"


def sim_with(text):
    fd, path = tempfile.mkstemp(prefix="smsc-sim-cfg-", suffix=".ini")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    try:
        return Sim(EXE, "--config", path)
    finally:
        os.unlink(path)


def test_records_without_identity_stop_at_the_cap_and_count_evictions():
    with sim_with("[sim]\nmt_records_max = 5\n[all]\ndr_delay_ms = 300\n") as s:
        e = s.esme("smsc1.dc3")
        ids = [e.submit(regdel=1, text="mt %d" % i).message_id() for i in range(12)]
        led = s.summary()["mt_records"]
        check_eq((led["max"], led["kept"], led["evicted"]), (5, 5, 7))
        rc, out = s.ctl("mts")
        check_eq(rc, 0)
        mts = json.loads(out)
        check_eq([m["message_id"] for m in mts["mts"]], ids[7:])
        check_eq(mts["evicted"], 7)
        # every DR still goes out, also for records that left the ring
        # while their DR was scheduled
        got = set()
        for p in e.collect_delivers(12, timeout=5.0):
            got.add(p.sm()["tlvs"][TAG_RECEIPTED_MESSAGE_ID].rstrip(b"\0").decode())
        check_eq(got, set(ids))
        check_eq(smsc(s.summary(), "smsc1.dc3")["dr_sent"], 12)


def test_identity_mts_are_not_capped():
    with sim_with("[sim]\nmt_records_max = 2\n") as s:
        e = s.esme("smsc1.dc3")
        first = [e.submit(regdel=0, tlvs=tlv(TAG_SMX_MSG_IDENTITY, b"id-%d" % i)).message_id() for i in range(6)]
        again = [e.submit(regdel=0, tlvs=tlv(TAG_SMX_MSG_IDENTITY, b"id-%d" % i)).message_id() for i in range(6)]
        check_eq(again, first)
        summ = s.summary()
        check_eq(summ["handset"]["service_duplicates"], 6)
        check_eq(summ["mt_records"]["evicted"], 0)


def test_default_cap_is_reported():
    with Sim(EXE) as s:
        e = s.esme("smsc1.dc3")
        e.submit(regdel=1)
        led = s.summary()["mt_records"]
        check_eq((led["max"], led["kept"], led["evicted"]), (100000, 1, 0))


def test_bad_cap_is_a_config_error():
    fd, path = tempfile.mkstemp(prefix="smsc-sim-cfg-", suffix=".ini")
    with os.fdopen(fd, "w") as f:
        f.write("[sim]\nmt_records_max = 0\n")
    try:
        r = subprocess.run([EXE, "--config", path, "--port-base", "0"], capture_output=True, text=True, timeout=5)
        check_eq(r.returncode, 1)
        check("%s:2: [sim] mt_records_max = 0: bad value" % path in r.stderr, r.stderr)
    finally:
        os.unlink(path)


if __name__ == "__main__":
    simlib_main(globals())
