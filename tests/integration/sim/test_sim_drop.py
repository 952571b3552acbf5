#!/usr/bin/env python3
"""smsc-sim's drop-resp fault over every response kind, seen by a raw ESME:
`drop-resp T N [KIND...]` swallows the answers to the next N requests of each
KIND (named by the request; no KIND is submit_sm, the old form), the request
itself is still handled, and the ledger counts each kind in resp_dropped_by.
Usage: test_sim_drop.py PATH_TO_SMSC_SIM (TAP on stdout)."""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from simlib import main as simlib_main  # noqa: E402
from simlib import (BIND_RECEIVER, BIND_TRANSCEIVER, BIND_TRANSMITTER, DATA_SM, ENQUIRE_LINK,  # noqa: E402
                    ESME_RALYBND, ESME_RINVCMDID, GENERIC_NACK, QUERY_SM, RESP, UNBIND, Esme, Sim,
                    bind_body, check, check_eq, cstr, pdu, smsc)

EXE = sys.argv[1] if len(sys.argv) > 1 else "smsc-sim"
SILENCE = 0.4   # how long a dropped answer is waited for


def dropped_by(s, name="smsc1.dc3"):
    return smsc(s.summary(), name)["resp_dropped_by"]


def data_sm_body():
    return cstr("") + bytes([0, 0]) + cstr("447700900001") + bytes([0, 0]) + cstr("12345") + bytes([0, 0, 0])


def test_enquire_link_resp_dropped_exactly_n():
    with Sim(EXE) as s:
        e = s.esme("smsc1.dc3")
        check_eq(s.ctl("drop-resp", "smsc1.dc3", "2", "enquire_link")[0], 0)
        check(e.request(ENQUIRE_LINK, timeout=SILENCE) is None)
        check(e.request(ENQUIRE_LINK, timeout=SILENCE) is None)
        r = e.request(ENQUIRE_LINK)
        check(r is not None and r.cmd == ENQUIRE_LINK | RESP)
        check_eq(e.submit(regdel=0).status, 0)
        m = smsc(s.summary(), "smsc1.dc3")
        check_eq((m["resp_dropped"], m["resp_dropped_by"], m["enquire_links"]), (2, {"enquire_link": 2}, 3))


def test_no_kind_still_means_submit_sm():
    with Sim(EXE) as s:
        e = s.esme("smsc1.dc3")
        s.ctl("drop-resp", "smsc1.dc3", "1")
        check(e.request(ENQUIRE_LINK) is not None)
        check(e.submit(regdel=0, timeout=SILENCE) is None)
        check_eq(e.submit(regdel=0).status, 0)
        check_eq(dropped_by(s), {"submit_sm": 1})


def test_dropped_bind_resp_leaves_the_session_bound():
    with Sim(EXE) as s:
        s.ctl("drop-resp", "smsc1.dc3", "1", "bind_transceiver_resp")
        e = s.esme("smsc1.dc3", bind=False)
        check(e.request(BIND_TRANSCEIVER, bind_body(), SILENCE) is None)
        # the service did bind it: a submit is taken, a second bind is refused
        check_eq(e.submit(regdel=0).status, 0)
        check_eq(e.bind().status, ESME_RALYBND)
        m = smsc(s.summary(), "smsc1.dc3")
        check_eq((m["binds_ok"], m["resp_dropped_by"]), (1, {"bind_transceiver": 1}))


def test_bind_kind_covers_every_bind_type():
    with Sim(EXE) as s:
        s.ctl("drop-resp", "smsc2.bos", "1", "bind")   # one of each bind type
        h, p = s.addr("smsc2.bos")
        for kind in (BIND_TRANSMITTER, BIND_RECEIVER, BIND_TRANSCEIVER):
            e = Esme(h, p)
            check(e.request(kind, bind_body(), SILENCE) is None, hex(kind))
            e.close()
        e = Esme(h, p)
        check_eq(e.bind().status, 0)
        check_eq(dropped_by(s, "smsc2.bos"),
                 {"bind_transmitter": 1, "bind_receiver": 1, "bind_transceiver": 1})


def test_dropped_unbind_resp_still_closes_the_session():
    with Sim(EXE) as s:
        e = s.esme("smsc1.dc3")
        s.ctl("drop-resp", "smsc1.dc3", "1", "unbind")
        seq = e.next_seq()
        e.send(pdu(UNBIND, seq))
        closed = False
        try:
            check(e.read_pdu(2.0) is None)
        except EOFError:
            closed = True
        check(closed, "the session stays open after unbind")
        check_eq(dropped_by(s), {"unbind": 1})


def test_generic_nack_for_unknown_command_dropped():
    with Sim(EXE) as s:
        e = s.esme("smsc1.dc3")
        s.ctl("drop-resp", "smsc1.dc3", "1", "generic_nack")
        check(e.request(0x00000999, timeout=SILENCE) is None)
        r = e.request(0x00000999)
        check(r is not None and r.cmd == GENERIC_NACK and r.status == ESME_RINVCMDID)
        m = smsc(s.summary(), "smsc1.dc3")
        check_eq((m["resp_dropped_by"], m["generic_nacks_sent"]), ({"generic_nack": 1}, 1))


def test_data_sm_and_unsupported_kinds_in_one_list():
    with Sim(EXE) as s:
        e = s.esme("smsc1.dc3")
        check_eq(s.ctl("drop-resp", "smsc1.dc3", "1", "data_sm,query_sm", "enquire_link_resp")[0], 0)
        check(e.request(DATA_SM, data_sm_body(), SILENCE) is None)
        check(e.request(QUERY_SM, cstr("A1") + bytes([0, 0]) + cstr("12345"), SILENCE) is None)
        check(e.request(ENQUIRE_LINK, timeout=SILENCE) is None)
        r = e.request(DATA_SM, data_sm_body())
        check(r is not None and r.cmd == GENERIC_NACK, r and hex(r.cmd))
        check_eq(dropped_by(s), {"enquire_link": 1, "data_sm": 1, "unsupported": 1})


def test_all_then_zero_clears_every_kind():
    with Sim(EXE) as s:
        e = s.esme("smsc1.dc3")
        s.ctl("drop-resp", "all", "5", "all")
        check(e.request(ENQUIRE_LINK, timeout=SILENCE) is None)
        check_eq(s.ctl("drop-resp", "all", "0", "all")[0], 0)
        check(e.request(ENQUIRE_LINK) is not None)
        check_eq(e.submit(regdel=0).status, 0)
        check_eq(smsc(s.summary(), "smsc1.dc3")["resp_dropped"], 1)


def test_unknown_kind_is_an_error():
    with Sim(EXE) as s:
        rc, out = s.ctl("drop-resp", "smsc1.dc3", "1", "enquire")
        check_eq(rc, 1)
        check(out.startswith("error: drop-resp: unknown kind"), out)
        rc, out = s.ctl("drop-resp", "smsc1.dc3", "x", "bind")
        check_eq(rc, 1)


def test_plan_step_drops_a_kind():
    with tempfile.TemporaryDirectory(prefix="smsc-sim-plan-") as d:
        plan = os.path.join(d, "drop.plan")
        with open(plan, "w") as f:
            f.write("0.1 drop-resp site dc3 1 enquire_link\n")
        with Sim(EXE, "--plan", plan) as s:
            e = s.esme("smsc2.dc3")
            time.sleep(0.3)
            check(e.request(ENQUIRE_LINK, timeout=SILENCE) is None)
            check(e.request(ENQUIRE_LINK) is not None)
            check_eq(dropped_by(s, "smsc2.dc3"), {"enquire_link": 1})
            check_eq(dropped_by(s, "smsc1.bos"), {})


if __name__ == "__main__":
    simlib_main(globals())
