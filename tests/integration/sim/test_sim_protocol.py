#!/usr/bin/env python3
"""smsc-sim black-box: start-up contract, binds, submit_sm, enquire_link,
unbind, unsupported operations (R7), framing errors, message-id styles, and
the ledger written at exit. Usage: test_sim_protocol.py PATH/TO/smsc-sim"""
import json
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import time

from simlib import main as simlib_main  # noqa: E402
from simlib import dies_with_parent  # noqa: E402
from simlib import (Sim, Esme, check, check_eq, pdu, smsc, submit_body, tlv, bind_body,
                    BIND_TRANSCEIVER, BIND_TRANSMITTER, BIND_RECEIVER, SUBMIT_SM, ENQUIRE_LINK,
                    UNBIND, QUERY_SM, CANCEL_SM, REPLACE_SM, SUBMIT_MULTI, DATA_SM, DELIVER_SM,
                    GENERIC_NACK, RESP, ESME_RINVPASWD, ESME_RINVSYSID, ESME_RINVBNDSTS,
                    ESME_RINVCMDID, ESME_RINVCMDLEN, ESME_RALYBND, ESME_RINVDCS,
                    TAG_SC_INTERFACE_VERSION)

EXE = sys.argv[1]


def test_prints_listening_lines_then_ready():
    s = Sim(EXE)
    try:
        check_eq(s.lines[-1], "ready")
        check_eq(s.order, ["smsc1.dc3", "smsc2.dc3", "smsc1.bos", "smsc2.bos"])
        for line in s.lines[:-1]:
            check(re.fullmatch(r"listening smsc\d\.\w+ \w+ 127\.0\.0\.1:\d+", line), line)
        ports = [s.smscs[n][1] for n in s.order]
        check_eq(len(set(ports)), 4)
        check_eq([s.smscs[n][2] for n in s.order], ["dc3", "dc3", "bos", "bos"])
    finally:
        s.stop()


def test_port_base_numbers_smscs_site_by_site():
    # find a free block of 3 ports by asking the kernel, then retry if taken
    for _ in range(5):
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        base = probe.getsockname()[1]
        probe.close()
        if base > 65000:
            continue
        r = subprocess.Popen([EXE, "--port-base", str(base), "--sites", "a,b,c", "--smscs-per-site", "1",
                              "--ledger", os.devnull], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             preexec_fn=dies_with_parent())
        lines = []
        for _ in range(4):
            line = r.stdout.readline().strip()
            if not line:
                break
            lines.append(line)
        r.terminate()
        r.communicate(timeout=10)
        if len(lines) == 4:
            check_eq(lines, ["listening smsc1.a a 127.0.0.1:%d" % base,
                             "listening smsc1.b b 127.0.0.1:%d" % (base + 1),
                             "listening smsc1.c c 127.0.0.1:%d" % (base + 2), "ready"])
            return
    raise AssertionError("no free port block found")


def test_bind_with_default_credentials_succeeds():
    s = Sim(EXE)
    try:
        for kind in (BIND_TRANSCEIVER, BIND_TRANSMITTER, BIND_RECEIVER):
            e = Esme(*s.addr("smsc1.dc3"))
            r = e.bind(kind)
            check_eq(r.cmd, kind | RESP)
            check_eq(r.status, 0)
            check_eq(r.message_id(), "smsc1.dc3")
            e.close()
    finally:
        s.stop()


def test_bind_resp_carries_sc_interface_version_34():
    s = Sim(EXE)
    try:
        e = Esme(*s.addr("smsc1.dc3"))
        r = e.bind()
        _, off = r.cstring_at(0)
        check_eq(r.body[off:], struct.pack(">HHB", TAG_SC_INTERFACE_VERSION, 1, 0x34))
    finally:
        s.stop()


def test_bad_password_gets_rinvpaswd():
    s = Sim(EXE)
    try:
        e = Esme(*s.addr("smsc1.dc3"))
        r = e.bind(password="wrong")
        check_eq(r.status, ESME_RINVPASWD)
        check_eq(r.length, 16)
        led = s.summary()
        check_eq(smsc(led, "smsc1.dc3")["binds_refused"], 1)
    finally:
        s.stop()


def test_bad_system_id_gets_rinvsysid():
    s = Sim(EXE)
    try:
        e = Esme(*s.addr("smsc1.dc3"))
        check_eq(e.bind(system_id="nobody").status, ESME_RINVSYSID)
    finally:
        s.stop()


def test_custom_credentials_from_flags():
    s = Sim(EXE, "--system-id", "alice", "--password", "pw1")
    try:
        e = Esme(*s.addr("smsc2.bos"))
        check_eq(e.bind(system_id="alice", password="pw1").status, 0)
        e2 = Esme(*s.addr("smsc2.bos"))
        check_eq(e2.bind().status, ESME_RINVSYSID)
    finally:
        s.stop()


def test_second_bind_on_one_session_gets_ralybnd():
    s = Sim(EXE)
    try:
        e = s.esme("smsc1.dc3")
        check_eq(e.bind().status, ESME_RALYBND)
    finally:
        s.stop()


def test_submit_gets_resp_with_message_id():
    s = Sim(EXE)
    try:
        e = s.esme("smsc1.dc3")
        r = e.submit(regdel=0)
        check_eq(r.cmd, SUBMIT_SM | RESP)
        check_eq(r.status, 0)
        check(re.fullmatch(r"[0-9A-F]+", r.message_id()), r.message_id())
    finally:
        s.stop()


def test_message_ids_unique_across_smscs():
    s = Sim(EXE)
    try:
        ids = []
        for name in s.order:
            e = s.esme(name)
            for _ in range(5):
                ids.append(e.submit(regdel=0).message_id())
        check_eq(len(ids), len(set(ids)))
    finally:
        s.stop()


def test_submit_before_bind_gets_rinvbndsts():
    s = Sim(EXE)
    try:
        e = Esme(*s.addr("smsc1.dc3"))
        r = e.submit()
        check_eq(r.status, ESME_RINVBNDSTS)
    finally:
        s.stop()


def test_submit_on_receiver_bind_gets_rinvbndsts():
    s = Sim(EXE)
    try:
        e = s.esme("smsc1.dc3", kind=BIND_RECEIVER)
        check_eq(e.submit().status, ESME_RINVBNDSTS)
    finally:
        s.stop()


def test_enquire_link_answered():
    s = Sim(EXE)
    try:
        e = s.esme("smsc1.dc3")
        r = e.request(ENQUIRE_LINK)
        check_eq((r.cmd, r.status, r.length), (ENQUIRE_LINK | RESP, 0, 16))
    finally:
        s.stop()


def test_unbind_answered_then_closed():
    s = Sim(EXE)
    try:
        e = s.esme("smsc1.dc3")
        r = e.request(UNBIND)
        check_eq(r.cmd, UNBIND | RESP)
        try:
            p = e.read_pdu(2)
            raise AssertionError("expected close, got %r" % (p and p.cmd))
        except EOFError:
            pass
    finally:
        s.stop()


def test_unsupported_operations_get_generic_nack_rinvcmdid():
    s = Sim(EXE)
    try:
        e = s.esme("smsc1.dc3")
        for cmd in (QUERY_SM, CANCEL_SM, REPLACE_SM, SUBMIT_MULTI, DATA_SM, 0x99):
            r = e.request(cmd, b"\0" * 20)
            check(r is not None, "no answer to 0x%x" % cmd)
            check_eq((r.cmd, r.status), (GENERIC_NACK, ESME_RINVCMDID), "cmd 0x%x" % cmd)
        check_eq(e.request(ENQUIRE_LINK).status, 0)
    finally:
        s.stop()


def test_bad_command_length_gets_nack_and_close():
    s = Sim(EXE)
    try:
        e = s.esme("smsc1.dc3")
        e.send(struct.pack(">IIII", 8, SUBMIT_SM, 0, 77))
        p = e.read_pdu(2)
        check_eq((p.cmd, p.status, p.seq), (GENERIC_NACK, ESME_RINVCMDLEN, 77))
        try:
            e.read_pdu(2)
            raise AssertionError("expected close")
        except EOFError:
            pass
    finally:
        s.stop()


def test_short_submit_body_answered_not_closed():
    s = Sim(EXE)
    try:
        e = s.esme("smsc1.dc3")
        r = e.request(SUBMIT_SM, b"\0\0\0")
        check(r is not None and r.status != 0 and (r.cmd in (SUBMIT_SM | RESP, GENERIC_NACK)))
        check_eq(e.request(ENQUIRE_LINK).status, 0)
    finally:
        s.stop()


def test_unknown_data_coding_rejected():
    s = Sim(EXE, "--set", "dcs=0,8")
    try:
        e = s.esme("smsc1.dc3")
        check_eq(e.submit(dcs=8, text=b"\0h\0i").status, 0)
        check_eq(e.submit(dcs=3, text=b"hi").status, ESME_RINVDCS)
    finally:
        s.stop()


def msgid_of(style):
    s = Sim(EXE, "--set", "msgid_style=" + style, sites="x", per_site=1)
    try:
        e = s.esme("smsc1.x")
        return [e.submit(regdel=0).message_id() for _ in range(12)][-1]
    finally:
        s.stop()


def test_msgid_style_decimal():
    check_eq(msgid_of("dec"), "12")


def test_msgid_style_lower_hex():
    check_eq(msgid_of("hex"), "c")


def test_msgid_style_upper_hex():
    check_eq(msgid_of("HEX"), "C")


def test_msgid_style_leading_zeros():
    check_eq(msgid_of("dec0"), "0000000012")
    check_eq(msgid_of("hex0"), "000000000c")


def test_ledger_written_at_exit_with_counts():
    s = Sim(EXE)
    e = s.esme("smsc2.dc3")
    for _ in range(3):
        e.submit(regdel=0)
    e.request(ENQUIRE_LINK)
    e.close()
    led = s.stop()
    m = smsc(led, "smsc2.dc3")
    check_eq(m["submit_sm_received"], 3)
    check_eq(m["submit_sm_accepted"], 3)
    check_eq(m["handset_delivered"], 3)
    check_eq(m["bind_attempts"], 1)
    check_eq(m["binds_ok"], 1)
    check_eq(led["totals"]["submit_sm_received"], 3)
    check_eq(led["final"], True)
    check_eq(led["violations"], [])


def test_ledger_goes_to_stdout_without_flag():
    p = subprocess.Popen([EXE, "--port-base", "0", "--sites", "x", "--smscs-per-site", "1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=dies_with_parent())
    while p.stdout.readline().strip() != "ready":
        pass
    p.terminate()
    out, _ = p.communicate(timeout=10)
    led = json.loads(out.strip().splitlines()[-1])
    check_eq(led["smscs"][0]["name"], "smsc1.x")


def test_summary_over_ctl_matches_ledger_shape():
    s = Sim(EXE)
    try:
        rc, out = s.ctl("summary")
        check_eq(rc, 0)
        d = json.loads(out)
        for key in ("smscs", "totals", "handset", "violations", "violation_count"):
            check(key in d, key)
        check_eq(d["final"], False)
    finally:
        s.stop()


def test_bad_flag_exits_2():
    r = subprocess.run([EXE, "--no-such-flag"], capture_output=True, text=True, timeout=10)
    check_eq(r.returncode, 2)


def test_unsupported_operations_can_get_their_own_resp():
    s = Sim(EXE, "--set", "unsupported_reply=resp")
    try:
        e = s.esme("smsc1.dc3")
        for cmd in (QUERY_SM, CANCEL_SM, REPLACE_SM, SUBMIT_MULTI):
            r = e.request(cmd, b"\0" * 20)
            check_eq((r.cmd, r.status), (cmd | RESP, ESME_RINVCMDID), "cmd 0x%x" % cmd)
        r = e.request(DATA_SM, b"\0" * 20)
        check_eq((r.cmd, r.status), (GENERIC_NACK, ESME_RINVCMDID))
    finally:
        s.stop()


def test_reader_that_stops_reading_pauses_the_session():
    import threading
    s = Sim(EXE, sites="x", per_site=1)
    try:
        e = s.esme("smsc1.x")
        total = 600000
        one = pdu(SUBMIT_SM, 7, submit_body(regdel=0))
        blob = one * total
        t = threading.Thread(target=lambda: e.sock.sendall(blob))
        e.sock.settimeout(None)
        t.start()
        time.sleep(1.0)
        first = smsc(s.summary(), "smsc1.x")["submit_sm_received"]
        check(0 < first < total, first)
        time.sleep(0.3)
        check_eq(smsc(s.summary(), "smsc1.x")["submit_sm_received"], first)
        got = 0
        buf = b""
        e.sock.settimeout(10)
        while got < total:
            chunk = e.sock.recv(1 << 20)
            check(chunk, "closed after %d" % got)
            buf += chunk
            # count whole responses without decoding each
            off = 0
            while len(buf) - off >= 4:
                ln = struct.unpack_from(">I", buf, off)[0]
                if len(buf) - off < ln:
                    break
                got += 1
                off += ln
            buf = buf[off:]
        t.join()
        check_eq(got, total)
        check_eq(smsc(s.summary(), "smsc1.x")["submit_sm_accepted"], total)
    finally:
        s.stop()


if __name__ == "__main__":
    simlib_main(globals())
