#!/usr/bin/env python3
"""Writes the named seeds of tests/fuzz/corpus/fuzz_store_entry/: Redis
replies (RESP2) as the store reads them, their entries in the formats the
store's scripts write (src/store/rstore_ev.c header, rstore_lua.c,
rs_corr_value in rstore_batch.c). First byte: what the reply answers
(fuzz_store_entry.c). Usage: tools/fuzz-store-seeds.py [DIR]"""
import os
import sys

US = b"\x1f"


def bulk(b):
    if isinstance(b, str):
        b = b.encode()
    return b"$%d\r\n%s\r\n" % (len(b), b)


def arr(items):
    return b"*%d\r\n" % len(items) + b"".join(items)


def fields(*vals):
    """A payload: length-prefixed fields "N:bytes"."""
    out = b""
    for v in vals:
        if isinstance(v, int):
            v = str(v)
        if isinstance(v, str):
            v = v.encode()
        out += b"%d:%s" % (len(v), v)
    return out


def entry(eid, *kv):
    return arr([bulk(eid), arr([bulk(x) for x in kv])])


def xread(stream, entries):
    return arr([arr([bulk(stream), arr(entries)])])


def autoclaim(entries):
    return arr([bulk("0-0"), arr(entries), arr([])])


DR_PAYLOAD = fields(2, "0A1B", "000", "447700900001", "12345", "dc3-1")
SINGLE_CV = b"32772" + US + b"a" + US + US + US + US + b"app-7"
MULTI_CV = b"4" + US + b"a" + US + b"2" + US + b"3" + US + b"AAAAAAAAAAAAAAAAAAAAAw" + US + b"app-9"
MO_SMPP = fields("bos-2", "447700900001", "12345", 0, 0, 0, "hello world")
MO_GSM_PACKED = fields("dc3-1", "447700900001", "12345", 2, 1, 0, bytes.fromhex("e8329bfd06"))
MO_UDH = fields("dc3-1", "447700900001", "12345", 8, 0, 6,
                bytes.fromhex("050003a70201") + "héllo".encode("utf-16-be"))
MO_HTTP = fields("http", "447700900001", "12345", 0, 0, 0, "héllo €", "svc-42")
GROUP_HDR = fields("dc3-1", "447700900001", "12345", 0)
OWN = "smsmux:{c}:s:a"

SEEDS = {
    "dr_packed_final": b"\x00" + xread(OWN, [entry("1733400000000-0", "v",
                                                   b"D12" + US + DR_PAYLOAD + SINGLE_CV)]),
    "dr_packed_multipart": b"\x00" + xread(OWN, [entry("1733400000001-0", "v",
                                                       b"D15" + US + DR_PAYLOAD + MULTI_CV)]),
    "dr_packed_not_final": b"\x00" + xread(OWN, [entry("1733400000002-3", "v",
                                                       b"D00" + US + fields(1, "0A1B", "", "447700900001", "12345", "nobody") + SINGLE_CV)]),
    "dr_uncorrelated": b"\x00" + xread(OWN, [entry("1733400000003-0", "v", b"U00" + US + DR_PAYLOAD)]),
    "dr_nine_fields": b"\x00" + xread(OWN, [entry("1733400000004-0", "t", "D", "a", "app-9", "p", "2",
                                                  "n", "3", "f", "1", "m", "5", "s", "2",
                                                  "r", fields("0A1B", "000", "447700900001", "12345", "dc3-1"),
                                                  "x", "b")]),
    "dr_nine_fields_uncorrelated": b"\x00" + xread(OWN, [entry("1733400000005-0", "t", "U", "s", "7",
                                                               "r", fields("0A1B", "", "1", "2", "bos-2"),
                                                               "x", "b")]),
    "mo_smpp": b"\x00" + xread(OWN, [entry("1733400000006-0", "t", "M", "r", MO_SMPP, "x", "a")]),
    "mo_gsm_packed": b"\x00" + xread(OWN, [entry("1733400000007-0", "t", "M", "r", MO_GSM_PACKED, "x", "a")]),
    "mo_ucs2_udh": b"\x00" + xread(OWN, [entry("1733400000008-0", "t", "M", "r", MO_UDH, "x", "a")]),
    "mo_http": b"\x00" + xread(OWN, [entry("1733400000009-0", "t", "M", "r", MO_HTTP, "x", "a")]),
    "mo_group": b"\x00" + xread(OWN, [entry("1733400000010-0", "t", "G", "h", GROUP_HDR, "n", "3",
                                            "r", "part one part two part three", "x", "b")]),
    "mo_partial": b"\x00" + xread(OWN, [entry("1733400000011-0", "t", "P", "h", GROUP_HDR, "n", "2",
                                              "r", "part one part three", "x", "b")]),
    "taken_over_mixed": b"\x01" + xread("smsmux:{c}:s:b", [
        entry("1733400000012-0", "v", b"D12" + US + DR_PAYLOAD + SINGLE_CV),
        entry("1733400000012-1", "t", "M", "r", MO_SMPP, "x", "b"),
        arr([bulk("1733400000012-2"), b"*-1\r\n"]),
        entry("1733400000012-3", "v", b"X00" + US + b"1:2")]),
    "autoclaim": b"\x02" + autoclaim([
        entry("1733400000013-0", "v", b"U00" + US + DR_PAYLOAD),
        entry("1733400000013-0", "v", b"U00" + US + DR_PAYLOAD)]),
    "scan": b"\x07" + arr([bulk("a"), bulk("1733400000000"), bulk("b"), bulk("1"),
                           bulk("c-live"), bulk("999999"), bulk("x" * 70), bulk("1")]),
    "read_empty": b"\x00" + b"*-1\r\n",
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "..", "tests", "fuzz", "corpus", "fuzz_store_entry")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
