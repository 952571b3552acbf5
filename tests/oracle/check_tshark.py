#!/usr/bin/env python3
"""tshark judges our encoder (TAP output).

    check_tshark.py PCAP_WRITER

Runs PCAP_WRITER (tests/oracle/pcap_writer.c) to get a capture of PDUs made
by our encoder plus a JSON sidecar of what each PDU holds, has tshark's SMPP
dissector read the capture (TCP reassembly on, port 2775 decoded as SMPP),
and compares every value tshark shows with the sidecar:

  - every frame the sidecar names carries exactly its PDUs (command ids in
    order), every field value matches, and no SMPP field shows up that the
    sidecar does not expect;
  - frames the sidecar does not name (handshake, first half of a split PDU)
    carry no SMPP fields;
  - the TCP layer is clean: no tcp.analysis flags (sequence numbers agree),
    valid IPv4 and TCP checksums.

tshark prints a field that occurs several times in one frame as one
aggregated list, so values are matched by position over the frame's PDUs in
order. If tshark is missing the test FAILS (CI installs it).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

AGG = "|"
_count = 0
_failed = 0


def tap(ok, name, diag=()):
    global _count, _failed
    _count += 1
    if not ok:
        _failed += 1
    print(("ok" if ok else "not ok") + " %d - %s" % (_count, name))
    for line in (diag if not ok else ()):
        print("# " + line)
    sys.stdout.flush()


def done():
    print("1..%d" % _count)
    sys.exit(1 if _failed else 0)


def norm(kind, value):
    """A tshark or sidecar value in a comparable form."""
    if kind == "int":
        return int(value, 0)
    if kind == "bytes":
        return value.replace(":", "").lower()
    return value


def main():
    if len(sys.argv) != 2:
        print("usage: check_tshark.py PCAP_WRITER", file=sys.stderr)
        return 2
    writer = sys.argv[1]

    tshark = shutil.which("tshark")
    tap(tshark is not None, "tshark is installed",
        [] if tshark else ["tshark not found in PATH: install it (tools/bootstrap.sh)"])
    if tshark is None:
        done()

    work = tempfile.mkdtemp(prefix="smx-tshark-")
    try:
        pcap = os.path.join(work, "smpp.pcap")
        sidecar = os.path.join(work, "smpp.json")
        run = subprocess.run([writer, pcap, sidecar], capture_output=True, text=True)
        tap(run.returncode == 0, "pcap_writer encodes the session",
            run.stderr.splitlines()[-5:])
        if run.returncode != 0:
            done()
        with open(sidecar) as f:
            side = json.load(f)

        kinds = side["fields"]
        names = list(kinds)
        extra = ["tcp.analysis.flags", "ip.checksum.status", "tcp.checksum.status"]
        cmd = [tshark, "-r", pcap, "-n",
               "-o", "tcp.desegment_tcp_streams:TRUE",
               "-o", "tcp.check_checksum:TRUE",
               "-o", "ip.check_checksum:TRUE",
               "-d", "tcp.port==%d,smpp" % side["port"],
               "-T", "fields", "-E", "separator=/t", "-E", "aggregator=" + AGG,
               "-E", "occurrence=a", "-e", "frame.number"]
        for n in extra + names:
            cmd += ["-e", n]
        ts = subprocess.run(cmd, capture_output=True, text=True)
        tap(ts.returncode == 0, "tshark reads the capture",
            [" ".join(cmd)] + ts.stderr.splitlines()[-5:])
        if ts.returncode != 0:
            done()

        rows = {}
        for line in ts.stdout.splitlines():
            cols = line.split("\t")
            cols += [""] * (1 + len(extra) + len(names) - len(cols))
            frame = int(cols[0])
            rows[frame] = {n: (cols[i + 1].split(AGG) if cols[i + 1] != "" else [])
                           for i, n in enumerate(extra + names)}
        tap(len(rows) == side["frames"], "tshark sees all %d frames" % side["frames"],
            ["tshark saw %d frames" % len(rows)])

        bad_tcp = []
        for frame, r in sorted(rows.items()):
            if r["tcp.analysis.flags"]:
                bad_tcp.append("frame %d: tcp.analysis.flags set" % frame)
            for n in ("ip.checksum.status", "tcp.checksum.status"):
                if any(v != "1" for v in r[n]):  # PROTO_CHECKSUM_E_GOOD
                    bad_tcp.append("frame %d: %s = %s" % (frame, n, r[n]))
        tap(not bad_tcp, "TCP/IP layer is clean (sequence numbers, checksums)", bad_tcp[:10])

        by_frame = {p["frame"]: p["pdus"] for p in side["packets"]}
        for frame, r in sorted(rows.items()):
            if frame in by_frame:
                continue
            stray = ["%s=%s" % (n, r[n]) for n in names if r[n]]
            if stray:
                tap(False, "frame %d carries no SMPP PDU" % frame, stray[:10])

        total = 0
        for frame in sorted(by_frame):
            pdus = by_frame[frame]
            r = rows.get(frame)
            if r is None:
                tap(False, "frame %d is in the capture" % frame)
                continue
            want_ids = [int(p["smpp.command_id"][0]) for p in pdus]
            got_ids = [norm("int", v) for v in r["smpp.command_id"]]
            tap(got_ids == want_ids, "frame %d carries %d PDU(s) in order" % (frame, len(pdus)),
                ["command ids: tshark %s, sidecar %s" % (got_ids, want_ids)])
            pos = {n: 0 for n in names}
            for k, pdu in enumerate(pdus):
                diag = []
                nvals = 0
                for n, values in pdu.items():
                    kind = kinds[n]
                    have = r[n][pos[n]:pos[n] + len(values)]
                    pos[n] += len(values)
                    want = [norm(kind, v) for v in values]
                    try:
                        got = [norm(kind, v) for v in have]
                    except ValueError:
                        got = have
                    nvals += len(values)
                    if got != want:
                        diag.append("%s: tshark %r, ours %r" % (n, got, want))
                cid = int(pdu["smpp.command_id"][0])
                seq = pdu["smpp.sequence_number"][0]
                tap(not diag, "frame %d PDU %d (command_id 0x%08x seq %s): %d values match tshark"
                    % (frame, k + 1, cid, seq, nvals), diag)
                total += 1
            leftover = ["%s: unexpected %r" % (n, r[n][pos[n]:]) for n in names if r[n][pos[n]:]]
            tap(not leftover, "frame %d shows no SMPP value we did not write" % frame, leftover[:10])
        tap(total == sum(len(p) for p in by_frame.values()) and total > 0,
            "all %d PDUs checked" % total)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    done()


if __name__ == "__main__":
    sys.exit(main())
