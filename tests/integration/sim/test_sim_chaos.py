#!/usr/bin/env python3
"""smsc-sim under a storm: four ESMEs submit (with and without identity and
receipts, some malformed) while every fault is switched on and off at random.
The simulator must survive (clean exit, no sanitizer report) and its ledger
must add up. Usage: test_sim_chaos.py PATH/TO/smsc-sim"""
import random
import struct
import sys
import threading
import time

from simlib import (Sim, Esme, Tap, check, check_eq, pdu, submit_body, tlv, SUBMIT_SM, ENQUIRE_LINK,
                    DELIVER_SM, RESP, TAG_SMX_MSG_IDENTITY)

EXE = sys.argv[1]


def esme_loop(s, name, stop, seed):
    rnd = random.Random(seed)
    while not stop.is_set():
        try:
            e = s.esme(name)
        except Exception:
            time.sleep(0.05)
            continue
        try:
            e.sock.settimeout(0.5)
            for i in range(200):
                if stop.is_set():
                    break
                kind = rnd.random()
                if kind < 0.05:
                    e.send(pdu(SUBMIT_SM, e.next_seq(), b"\0\0"))          # body too short
                elif kind < 0.1:
                    e.send(pdu(0x99, e.next_seq()))                         # unknown command
                else:
                    ident = tlv(TAG_SMX_MSG_IDENTITY, struct.pack(">QQ", seed, rnd.randrange(300)))
                    body = submit_body(regdel=rnd.choice((0, 1)), tlvs=ident if rnd.random() < 0.7 else b"")
                    e.send(pdu(SUBMIT_SM, e.next_seq(), body))
                while True:
                    p = e.read_pdu(0.001)
                    if p is None:
                        break
                    e.handle_unsolicited(p)
        except (EOFError, OSError):
            pass
        finally:
            e.close()


def test_survives_random_faults_and_ledger_adds_up():
    s = Sim(EXE, "--set", "dr_delay_ms=1-20", "--set", "other_site_prob=0.3", "--set", "dr_before_resp_prob=0.1",
            "--set", "deliver_timeout_ms=300", "--set", "mo_rate=50", "--set", "mo_multipart_prob=0.3",
            "--set", "resp_latency_ms=0-3", rebind_interval=0)
    stop = threading.Event()
    threads = [threading.Thread(target=esme_loop, args=(s, n, stop, i)) for i, n in enumerate(s.order)]
    for t in threads:
        t.start()
    rnd = random.Random(99)
    faults = [("kill",), ("restore",), ("stall", "on"), ("stall", "off"), ("throttle", "on"), ("throttle", "off"),
              ("throttle", "100"), ("queue-full", "on"), ("queue-full", "off"), ("drop-resp", "5"),
              ("slow", "5000"), ("slow", "off"), ("reset",), ("refuse-bind", "ESME_RBINDFAIL"),
              ("refuse-bind", "off"), ("hostile", "all"), ("hostile", "off"), ("mo",)]
    end = time.time() + 4
    while time.time() < end:
        f = rnd.choice(faults)
        rc, out = s.ctl(f[0], rnd.choice(s.order), *f[1:])
        check_eq(rc, 0, out)
        time.sleep(0.02)
    for cmd in (("restore", "all"), ("stall", "all", "off"), ("slow", "all", "off"), ("hostile", "all", "off")):
        s.ctl(*cmd)
    stop.set()
    for t in threads:
        t.join()
    led = s.stop()
    t = led["totals"]
    check_eq(t["submit_sm_received"], t["submit_sm_accepted"] + t["submit_sm_rejected"] + t["submit_sm_unanswered"])
    check_eq(t["handset_delivered"], t["submit_sm_accepted"] - t["service_duplicates"])
    check_eq(led["handset"]["duplicates"], 0)
    check(t["submit_sm_accepted"] > 0 and t["deliver_sm_acked"] > 0, t)
    kinds = {v["kind"] for v in led["violations"]}
    check(kinds <= {"deliver_unacked"}, kinds)


if __name__ == "__main__":
    tp = Tap()
    tp.run(test_survives_random_faults_and_ledger_adds_up)
    sys.exit(tp.done())
