#!/usr/bin/env python3
"""smsc-sim black-box: delivery receipts (R3, R6), service-side dedup by the
MT identity TLV (R5), deliver_sm re-sends, and MOs (single, UDH, SAR, out of
order, data_coding). Usage: test_sim_delivery.py PATH/TO/smsc-sim"""
import json
import re
import struct
import sys
import time

from simlib import main as simlib_main  # noqa: E402
from simlib import (Sim, Esme, check, check_eq, pdu, smsc, submit_body, tlv, wait_for, BIND_RECEIVER,
                    BIND_TRANSMITTER, DELIVER_SM, SUBMIT_SM, RESP, ESME_RX_T_APPN,
                    TAG_RECEIPTED_MESSAGE_ID, TAG_MESSAGE_STATE, TAG_SMX_MSG_IDENTITY,
                    TAG_SAR_MSG_REF_NUM, TAG_SAR_TOTAL_SEGMENTS, TAG_SAR_SEGMENT_SEQNUM,
                    STATE_DELIVERED, STATE_ACCEPTED)

EXE = sys.argv[1]
FAST = ("--set", "dr_delay_ms=10-30")


def ident(n):
    return tlv(TAG_SMX_MSG_IDENTITY, struct.pack(">QQ", 0xABCDEF, n))


def dr_fields(p):
    d = p.sm()
    rid = d["tlvs"].get(TAG_RECEIPTED_MESSAGE_ID, b"").rstrip(b"\0").decode()
    st = d["tlvs"].get(TAG_MESSAGE_STATE, b"\xff")[0]
    return d, rid, st


def test_dr_sent_when_registered_delivery_1():
    s = Sim(EXE, *FAST)
    try:
        e = s.esme("smsc1.dc3")
        mid = e.submit(regdel=1, text="hello world").message_id()
        e.collect_delivers(1, 3)
        check_eq(len(e.inbox), 1)
        d, rid, st = dr_fields(e.inbox[0])
        check_eq(rid, mid)
        check_eq(st, STATE_DELIVERED)
        check_eq(d["esm_class"] & 0x3C, 0x04)
        check_eq(d["source_addr"], "447700900001")
        check_eq(d["destination_addr"], "12345")
        text = d["short_message"].decode()
        check(re.fullmatch(r"id:\d{10} sub:001 dlvrd:001 submit date:\d{10} done date:\d{10} "
                           r"stat:DELIVRD err:000 text:hello world", text), text)
    finally:
        s.stop()


def test_dr_text_id_is_not_the_message_id():
    s = Sim(EXE, *FAST, "--set", "msgid_style=dec0")
    try:
        e = s.esme("smsc1.dc3")
        mid = e.submit(regdel=1).message_id()
        e.collect_delivers(1, 3)
        text = e.inbox[0].sm()["short_message"].decode()
        check(("id:%s " % mid) not in text, text)
    finally:
        s.stop()


def test_no_dr_when_registered_delivery_0():
    s = Sim(EXE, *FAST)
    try:
        e = s.esme("smsc1.dc3")
        e.submit(regdel=0)
        e.collect_delivers(1, 0.5)
        check_eq(len(e.inbox), 0)
    finally:
        s.stop()


def test_accepted_then_delivered():
    s = Sim(EXE, *FAST, "--set", "dr_accepted_prob=1")
    try:
        e = s.esme("smsc1.dc3")
        mid = e.submit(regdel=1).message_id()
        e.collect_delivers(2, 3)
        states = [dr_fields(p)[2] for p in e.inbox]
        check_eq(states, [STATE_ACCEPTED, STATE_DELIVERED])
        check_eq({dr_fields(p)[1] for p in e.inbox}, {mid})
        check("stat:ACCEPTD" in e.inbox[0].sm()["short_message"].decode())
    finally:
        s.stop()


def test_final_state_mix_is_obeyed():
    s = Sim(EXE, *FAST, "--set", "dr_final_mix=UNDELIVERABLE:1")
    try:
        e = s.esme("smsc1.dc3")
        for _ in range(5):
            e.submit(regdel=1)
        e.collect_delivers(5, 3)
        check_eq([dr_fields(p)[2] for p in e.inbox], [5] * 5)
        check("stat:UNDELIV" in e.inbox[0].sm()["short_message"].decode())
    finally:
        s.stop()


def test_failure_only_receipt_skips_delivered():
    s = Sim(EXE, *FAST)
    try:
        e = s.esme("smsc1.dc3")
        e.submit(regdel=2)
        e.collect_delivers(1, 0.5)
        check_eq(len(e.inbox), 0)
    finally:
        s.stop()


def test_dr_goes_to_other_site_bind():
    s = Sim(EXE, *FAST, "--set", "other_site_prob=1")
    try:
        tx = s.esme("smsc1.dc3", kind=BIND_TRANSMITTER)
        same = s.esme("smsc2.dc3", kind=BIND_RECEIVER)
        other = s.esme("smsc1.bos", kind=BIND_RECEIVER)
        mid = tx.submit(regdel=1).message_id()
        other.collect_delivers(1, 3)
        same.collect_delivers(1, 0.3)
        check_eq(len(other.inbox), 1)
        check_eq(len(same.inbox), 0)
        check_eq(dr_fields(other.inbox[0])[1], mid)
    finally:
        s.stop()


def test_dr_waits_for_a_receiver_bind():
    s = Sim(EXE, *FAST)
    try:
        tx = s.esme("smsc1.dc3", kind=BIND_TRANSMITTER)
        mid = tx.submit(regdel=1).message_id()
        time.sleep(0.2)
        rx = s.esme("smsc2.bos", kind=BIND_RECEIVER)
        rx.collect_delivers(1, 3)
        check_eq(dr_fields(rx.inbox[0])[1], mid)
    finally:
        s.stop()


def test_dr_before_submit_resp():
    s = Sim(EXE, "--set", "dr_before_resp_prob=1")
    try:
        e = s.esme("smsc1.dc3")
        seq = e.next_seq()
        e.send(pdu(SUBMIT_SM, seq, submit_body(regdel=1)))
        first = e.read_pdu(3)
        check_eq(first.cmd, DELIVER_SM)
        e.handle_unsolicited(first)
        r = e.wait_resp(seq, 3)
        check_eq(r.cmd, SUBMIT_SM | RESP)
        check_eq(dr_fields(first)[1], r.message_id())
    finally:
        s.stop()


def test_unacked_deliver_resent_on_another_bind():
    s = Sim(EXE, *FAST, "--set", "deliver_timeout_ms=300")
    try:
        a = s.esme("smsc1.dc3")
        a.auto_ack = False
        mid = a.submit(regdel=1).message_id()
        a.collect_delivers(1, 3)
        check_eq(len(a.inbox), 1)
        b = s.esme("smsc2.dc3", kind=BIND_RECEIVER)
        b.collect_delivers(1, 3)
        check_eq(len(b.inbox), 1)
        check_eq(b.inbox[0].raw[16:], a.inbox[0].raw[16:])
        check_eq(dr_fields(b.inbox[0])[1], mid)
        led = s.summary()
        check_eq(led["totals"]["deliver_sm_resent"], 1)
        check_eq(led["totals"]["deliver_sm_acked"], 1)
    finally:
        s.stop()


def test_transient_nack_makes_service_resend():
    s = Sim(EXE, *FAST)
    try:
        e = s.esme("smsc1.dc3")
        e.auto_ack = False
        e.submit(regdel=1)
        e.collect_delivers(1, 3)
        e.send(pdu(DELIVER_SM | RESP, e.inbox[0].seq, b"\0", status=ESME_RX_T_APPN))
        e.auto_ack = True
        e.collect_delivers(2, 3)
        check_eq(len(e.inbox), 2)
        check_eq(e.inbox[1].raw[16:], e.inbox[0].raw[16:])
        led = s.summary()
        check_eq(led["totals"]["deliver_sm_nacked"], 1)
        check_eq(led["totals"]["deliver_sm_acked"], 1)
    finally:
        s.stop()


def test_never_acked_deliver_is_a_violation():
    s = Sim(EXE, *FAST)
    e = s.esme("smsc1.dc3")
    e.auto_ack = False
    e.submit(regdel=1)
    e.collect_delivers(1, 3)
    led = s.stop()
    kinds = [v["kind"] for v in led["violations"]]
    check("deliver_unacked" in kinds, kinds)
    check_eq(led["totals"]["deliver_sm_unacked"], 1)


def test_resubmit_same_identity_gets_original_message_id():
    s = Sim(EXE, *FAST)
    try:
        e = s.esme("smsc1.dc3")
        m1 = e.submit(regdel=1, tlvs=ident(1)).message_id()
        e2 = s.esme("smsc1.bos")
        m2 = e2.submit(regdel=1, tlvs=ident(1)).message_id()
        check_eq(m2, m1)
        led = s.summary()
        check_eq(led["handset"]["delivered"], 1)
        check_eq(led["handset"]["service_duplicates"], 1)
        check_eq(led["handset"]["duplicates"], 0)
        e.collect_delivers(1, 2)
        e2.collect_delivers(1, 0.3)
        check_eq(len(e.inbox) + len(e2.inbox), 1)
    finally:
        s.stop()


def test_segments_of_one_identity_are_distinct():
    s = Sim(EXE)
    try:
        e = s.esme("smsc1.dc3")
        ids = []
        for part in (1, 2):
            udh = bytes([5, 0, 3, 0x42, 2, part])
            ids.append(e.submit(regdel=0, esm=0x40, text=udh + b"part", tlvs=ident(9)).message_id())
        for part in (1, 2):
            sar = (tlv(TAG_SAR_MSG_REF_NUM, b"\0\7") + tlv(TAG_SAR_TOTAL_SEGMENTS, b"\2") +
                   tlv(TAG_SAR_SEGMENT_SEQNUM, bytes([part])))
            ids.append(e.submit(regdel=0, text=b"part", tlvs=ident(10) + sar).message_id())
        check_eq(len(set(ids)), 4)
        check_eq(s.summary()["handset"]["delivered"], 4)
    finally:
        s.stop()


def test_same_text_without_identity_counts_as_distinct():
    s = Sim(EXE)
    try:
        e = s.esme("smsc1.dc3")
        a = e.submit(regdel=0, text="same").message_id()
        b = e.submit(regdel=0, text="same").message_id()
        check(a != b)
        led = s.summary()
        check_eq(led["handset"]["delivered"], 2)
        check_eq(led["handset"]["service_duplicates"], 0)
    finally:
        s.stop()


def test_dedup_off_reports_handset_duplicate():
    s = Sim(EXE, "--set", "service_dedup=0")
    try:
        e = s.esme("smsc1.dc3")
        e.submit(regdel=0, tlvs=ident(3))
        e.submit(regdel=0, tlvs=ident(3))
        led = s.summary()
        check_eq(led["handset"]["duplicates"], 1)
        check("handset_duplicate" in [v["kind"] for v in led["violations"]])
    finally:
        s.stop()


def test_ctl_mo_single():
    s = Sim(EXE)
    try:
        e = s.esme("smsc1.dc3")
        check_eq(s.ctl("mo", "smsc1.dc3")[0], 0)
        e.collect_delivers(1, 3)
        d = e.inbox[0].sm()
        check_eq(d["esm_class"], 0)
        check(d["short_message"].startswith(b"MO 1 from smsc1.dc3"), d["short_message"])
        check_eq(d["destination_addr"], "12345")
        check(d["source_addr"].startswith("4477009"))
        check_eq(s.summary()["totals"]["mo_sent"], 1)
    finally:
        s.stop()


def test_mo_multipart_udh():
    s = Sim(EXE)
    try:
        e = s.esme("smsc1.dc3")
        s.ctl("mo", "smsc1.dc3", "1", "3")
        e.collect_delivers(3, 3)
        parts = []
        for p in e.inbox:
            d = p.sm()
            check_eq(d["esm_class"] & 0x40, 0x40)
            sm = d["short_message"]
            check_eq(sm[:3], b"\x05\x00\x03")
            parts.append((sm[3], sm[4], sm[5]))
        check_eq(sorted(parts), [(parts[0][0], 3, 1), (parts[0][0], 3, 2), (parts[0][0], 3, 3)])
    finally:
        s.stop()


def test_mo_multipart_sar():
    s = Sim(EXE, "--set", "mo_sar_prob=1")
    try:
        e = s.esme("smsc1.dc3")
        s.ctl("mo", "smsc1.dc3", "1", "2")
        e.collect_delivers(2, 3)
        segs = []
        for p in e.inbox:
            t = p.sm()["tlvs"]
            check_eq(t[TAG_SAR_TOTAL_SEGMENTS], b"\x02")
            segs.append(t[TAG_SAR_SEGMENT_SEQNUM][0])
        check_eq(sorted(segs), [1, 2])
    finally:
        s.stop()


def test_mo_out_of_order():
    s = Sim(EXE, "--set", "mo_out_of_order_prob=1")
    try:
        e = s.esme("smsc1.dc3")
        s.ctl("mo", "smsc1.dc3", "1", "3")
        e.collect_delivers(3, 3)
        check_eq([p.sm()["short_message"][5] for p in e.inbox], [3, 2, 1])
    finally:
        s.stop()


def test_mo_ucs2_data_coding():
    s = Sim(EXE, "--set", "mo_dcs=8")
    try:
        e = s.esme("smsc1.dc3")
        s.ctl("mo", "smsc1.dc3")
        e.collect_delivers(1, 3)
        d = e.inbox[0].sm()
        check_eq(d["data_coding"], 8)
        check(d["short_message"].decode("utf-16-be").startswith("MO 1 from"))
    finally:
        s.stop()


def test_mo_rate_generates_mos():
    s = Sim(EXE, "--set", "mo_rate=20", sites="x", per_site=1)
    try:
        e = s.esme("smsc1.x")
        e.collect_delivers(5, 3)
        check(len(e.inbox) >= 5, len(e.inbox))
    finally:
        s.stop()


def test_mo_goes_to_other_site_bind():
    s = Sim(EXE, "--set", "other_site_prob=1")
    try:
        same = s.esme("smsc1.dc3", kind=BIND_RECEIVER)
        other = s.esme("smsc2.bos", kind=BIND_RECEIVER)
        s.ctl("mo", "smsc1.dc3", "3")
        other.collect_delivers(3, 3)
        same.collect_delivers(1, 0.3)
        check_eq((len(other.inbox), len(same.inbox)), (3, 0))
    finally:
        s.stop()


def mo_bytes(dcs, text):
    s = Sim(EXE, "--set", "mo_dcs=%d" % dcs, "--set", "mo_text=" + text, sites="x", per_site=1)
    try:
        e = s.esme("smsc1.x")
        s.ctl("mo", "smsc1.x")
        e.collect_delivers(1, 3)
        d = e.inbox[0].sm()
        check_eq(d["data_coding"], dcs)
        return d["short_message"]
    finally:
        s.stop()


def test_mo_text_utf8_for_dcs_0():
    check_eq(mo_bytes(0, "h\u00e9 \u20ac"), "h\u00e9 \u20ac".encode("utf-8"))


def test_mo_text_gsm_unpacked_for_dcs_2():
    # @ -> 00, pound -> 01, euro -> ESC 65, a -> 61, backtick has no GSM form -> ?
    check_eq(mo_bytes(2, "@\u00a3\u20aca`"), b"\x00\x01\x1b\x65\x61\x3f")


def test_mo_text_latin1_for_dcs_3():
    check_eq(mo_bytes(3, "caf\u00e9 \u20ac"), b"caf\xe9 ?")


def test_mo_text_ascii_for_dcs_1():
    check_eq(mo_bytes(1, "caf\u00e9"), b"caf?")


def test_mo_text_ucs2_surrogates_for_dcs_8():
    check_eq(mo_bytes(8, "a\U0001F600"), b"\x00a\xd8\x3d\xde\x00")


def test_set_mo_text_with_spaces_over_ctl():
    s = Sim(EXE, sites="x", per_site=1)
    try:
        e = s.esme("smsc1.x")
        check_eq(s.ctl("set", "all", "mo_text", "two words"), (0, "ok"))
        s.ctl("mo", "all")
        e.collect_delivers(1, 3)
        check_eq(e.inbox[0].sm()["short_message"], b"two words")
    finally:
        s.stop()


def test_mo_multipart_udh_16bit_reference():
    s = Sim(EXE, "--set", "mo_udh16_prob=1")
    try:
        e = s.esme("smsc1.dc3")
        s.ctl("mo", "smsc1.dc3", "1", "2")
        e.collect_delivers(2, 3)
        heads = sorted(p.sm()["short_message"][:7] for p in e.inbox)
        check_eq([h[:3] for h in heads], [b"\x06\x08\x04"] * 2)
        check_eq([(h[5], h[6]) for h in heads], [(2, 1), (2, 2)])
        check_eq(heads[0][3:5], heads[1][3:5])
    finally:
        s.stop()


def test_mts_lists_each_mt_with_identity():
    s = Sim(EXE)
    try:
        e = s.esme("smsc1.dc3")
        mid = e.submit(regdel=0, tlvs=ident(5)).message_id()
        e.submit(regdel=0, tlvs=ident(5))
        rc, out = s.ctl("mts")
        check_eq(rc, 0)
        d = json.loads(out)
        check_eq(d["count"], 1)
        m = d["mts"][0]
        check_eq((m["message_id"], m["smsc"], m["segment"], m["resubmits"]), (mid, "smsc1.dc3", 1, 1))
        check_eq(m["identity"], "0000000000abcdef0000000000000005")
    finally:
        s.stop()


def test_in_flight_deliver_resent_when_its_session_closes():
    s = Sim(EXE, *FAST)
    try:
        a = s.esme("smsc1.dc3")
        a.auto_ack = False
        mid = a.submit(regdel=1).message_id()
        a.collect_delivers(1, 3)
        a.close()
        b = s.esme("smsc1.bos", kind=BIND_RECEIVER)
        b.collect_delivers(1, 3)
        check_eq(len(b.inbox), 1)
        check_eq(dr_fields(b.inbox[0])[1], mid)
        led = s.summary()
        check_eq((led["totals"]["deliver_sm_resent"], led["totals"]["deliver_sm_acked"]), (1, 1))
    finally:
        s.stop()


def test_deliver_given_up_after_max_sends():
    s = Sim(EXE, *FAST, "--set", "deliver_timeout_ms=100", "--set", "deliver_max_sends=2")
    try:
        a = s.esme("smsc1.dc3")
        a.auto_ack = False
        a.submit(regdel=1)
        a.collect_delivers(3, 1.0)
        check_eq(len(a.inbox), 2)
        led = s.summary()
        check_eq(led["totals"]["deliver_sm_unacked"], 1)
        check("deliver_unacked" in [v["kind"] for v in led["violations"]])
    finally:
        s.stop()


if __name__ == "__main__":
    simlib_main(globals())
