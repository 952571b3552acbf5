"""Helpers for the black-box smsc-sim tests (Python 3 stdlib only).

Sim: starts `smsc-sim --port-base 0` with a control socket and a ledger file
on 127.0.0.1, reads the `listening`/`ready` lines, runs `ctl` commands, and
stops it with SIGTERM, returning the ledger JSON.
Esme: a minimal blocking SMPP 3.4 client (bind, submit_sm, enquire_link,
unbind, reading PDUs, answering deliver_sm).
Tap: prints TAP (one behaviour per test function).
"""
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

# dies_with_parent (tests/pylib/childproc.py), also for the tests that import it from here
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "pylib"))
from childproc import dies_with_parent  # noqa: E402,F401

GENERIC_NACK = 0x80000000
BIND_RECEIVER = 0x00000001
BIND_TRANSMITTER = 0x00000002
QUERY_SM = 0x00000003
SUBMIT_SM = 0x00000004
DELIVER_SM = 0x00000005
UNBIND = 0x00000006
REPLACE_SM = 0x00000007
CANCEL_SM = 0x00000008
BIND_TRANSCEIVER = 0x00000009
ENQUIRE_LINK = 0x00000015
SUBMIT_MULTI = 0x00000021
DATA_SM = 0x00000103
RESP = 0x80000000

ESME_ROK = 0x00
ESME_RINVCMDLEN = 0x02
ESME_RINVCMDID = 0x03
ESME_RINVBNDSTS = 0x04
ESME_RALYBND = 0x05
ESME_RBINDFAIL = 0x0D
ESME_RINVPASWD = 0x0E
ESME_RINVSYSID = 0x0F
ESME_RMSGQFUL = 0x14
ESME_RTHROTTLED = 0x58
ESME_RX_T_APPN = 0x64
ESME_RINVDCS = 0x104

TAG_RECEIPTED_MESSAGE_ID = 0x001E
TAG_MESSAGE_STATE = 0x0427
TAG_SAR_MSG_REF_NUM = 0x020C
TAG_SAR_TOTAL_SEGMENTS = 0x020E
TAG_SAR_SEGMENT_SEQNUM = 0x020F
TAG_SC_INTERFACE_VERSION = 0x0210
TAG_SMX_MSG_IDENTITY = 0x1401

STATE_DELIVERED = 2
STATE_ACCEPTED = 6


def cstr(s):
    if isinstance(s, str):
        s = s.encode()
    return s + b"\0"


def tlv(tag, value):
    return struct.pack(">HH", tag, len(value)) + value


def pdu(cmd, seq, body=b"", status=0):
    return struct.pack(">IIII", 16 + len(body), cmd, status, seq) + body


def bind_body(system_id="smsmux", password="secret"):
    return cstr(system_id) + cstr(password) + cstr("") + bytes([0x34, 0, 0]) + cstr("")


def submit_body(src="12345", dst="447700900001", text=b"hello", regdel=1, esm=0, dcs=0, tlvs=b""):
    if isinstance(text, str):
        text = text.encode()
    return (cstr("") + bytes([0, 0]) + cstr(src) + bytes([0, 0]) + cstr(dst) +
            bytes([esm, 0, 0]) + cstr("") + cstr("") + bytes([regdel, 0, dcs, 0, len(text)]) + text + tlvs)


class Pdu:
    def __init__(self, raw):
        self.raw = raw
        self.length, self.cmd, self.status, self.seq = struct.unpack(">IIII", raw[:16])
        self.body = raw[16:]

    def cstring_at(self, off):
        end = self.body.index(b"\0", off)
        return self.body[off:end].decode("latin-1"), end + 1

    def message_id(self):
        if not self.body:
            return None
        return self.cstring_at(0)[0]

    def sm(self):
        """Decode a deliver_sm/submit_sm body into a dict (with tlvs)."""
        b = self.body
        d = {}
        d["service_type"], o = self.cstring_at(0)
        o += 2
        d["source_addr"], o = self.cstring_at(o)
        o += 2
        d["destination_addr"], o = self.cstring_at(o)
        d["esm_class"], d["protocol_id"], d["priority"] = b[o], b[o + 1], b[o + 2]
        o += 3
        _, o = self.cstring_at(o)
        _, o = self.cstring_at(o)
        d["registered_delivery"], _, d["data_coding"], _, sm_len = b[o:o + 5]
        o += 5
        d["short_message"] = b[o:o + sm_len]
        o += sm_len
        tl = {}
        while o + 4 <= len(b):
            tag, ln = struct.unpack(">HH", b[o:o + 4])
            tl.setdefault(tag, b[o + 4:o + 4 + ln])
            o += 4 + ln
        d["tlvs"] = tl
        return d


class Esme:
    """A blocking SMPP client for tests."""

    def __init__(self, host, port, timeout=5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.seq = 0
        self.auto_ack = True
        self.inbox = []   # deliver_sm received while waiting for something else

    def next_seq(self):
        self.seq += 1
        return self.seq

    def send(self, data):
        self.sock.sendall(data)

    def read_pdu(self, timeout=5.0):
        """Next PDU, or None on timeout; raises EOFError on close."""
        deadline = time.time() + timeout
        while True:
            if len(self.buf) >= 4:
                ln = struct.unpack(">I", self.buf[:4])[0]
                if ln >= 16 and len(self.buf) >= ln:
                    raw, self.buf = self.buf[:ln], self.buf[ln:]
                    return Pdu(raw)
            left = deadline - time.time()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            except ConnectionResetError:
                raise EOFError("reset")
            if not chunk:
                raise EOFError("closed")
            self.buf += chunk

    def request(self, cmd, body=b"", timeout=5.0):
        """Send a request; return its response (deliver_sm meanwhile go to inbox)."""
        seq = self.next_seq()
        self.send(pdu(cmd, seq, body))
        return self.wait_resp(seq, timeout)

    def wait_resp(self, seq, timeout=5.0):
        deadline = time.time() + timeout
        while True:
            p = self.read_pdu(max(0.0, deadline - time.time()))
            if p is None:
                return None
            if p.cmd & RESP and p.seq == seq:
                return p
            self.handle_unsolicited(p)

    def handle_unsolicited(self, p):
        if p.cmd == DELIVER_SM:
            self.inbox.append(p)
            if self.auto_ack:
                self.send(pdu(DELIVER_SM | RESP, p.seq, b"\0"))
        elif p.cmd == ENQUIRE_LINK:
            self.send(pdu(ENQUIRE_LINK | RESP, p.seq))

    def bind(self, kind=BIND_TRANSCEIVER, system_id="smsmux", password="secret"):
        return self.request(kind, bind_body(system_id, password))

    def submit(self, timeout=5.0, **kw):
        return self.request(SUBMIT_SM, submit_body(**kw), timeout)

    def collect_delivers(self, n, timeout=5.0):
        """Read until n deliver_sm are in the inbox (or timeout); returns inbox."""
        deadline = time.time() + timeout
        while len(self.inbox) < n and time.time() < deadline:
            try:
                p = self.read_pdu(max(0.0, deadline - time.time()))
            except EOFError:
                break
            if p is not None:
                self.handle_unsolicited(p)
        return self.inbox

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Sim:
    """One smsc-sim process on free ports."""

    def __init__(self, exe, *args, sites="dc3,bos", per_site=2, rebind_interval=None, topology_flags=True):
        """topology_flags=False: no --port-base/--sites/--smscs-per-site
        (the config file in args gives them)."""
        self.dir = tempfile.mkdtemp(prefix="smsc-sim-test-")
        self.control = os.path.join(self.dir, "ctl.sock")
        self.ledger = os.path.join(self.dir, "ledger.json")
        self.exe = exe
        cmd = [exe]
        if topology_flags:
            cmd += ["--port-base", "0", "--sites", sites, "--smscs-per-site", str(per_site)]
        cmd += ["--control", self.control, "--ledger", self.ledger, "--seed", "7"]
        if rebind_interval is not None:
            cmd += ["--rebind-interval", str(rebind_interval)]
        cmd += list(args)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     preexec_fn=dies_with_parent())
        self.smscs = {}
        self.order = []
        self.lines = []
        while True:
            line = self.proc.stdout.readline()
            if not line:
                err = self.proc.stderr.read()
                raise RuntimeError("smsc-sim exited before ready: " + err)
            line = line.strip()
            self.lines.append(line)
            if line == "ready":
                break
            parts = line.split()
            if parts[0] == "listening":
                host, port = parts[3].rsplit(":", 1)
                self.smscs[parts[1]] = (host, int(port), parts[2])
                self.order.append(parts[1])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def addr(self, name):
        h, p, _ = self.smscs[name]
        return h, p

    def esme(self, name, bind=True, kind=BIND_TRANSCEIVER, **kw):
        h, p = self.addr(name)
        e = Esme(h, p)
        if bind:
            r = e.bind(kind, **kw)
            assert r is not None and r.status == 0, "bind failed"
        return e

    def ctl(self, *words):
        r = subprocess.run([self.exe, "ctl", "--control", self.control] + list(words),
                           capture_output=True, text=True, timeout=10)
        return r.returncode, r.stdout.strip()

    def summary(self):
        rc, out = self.ctl("summary")
        return json.loads(out)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.stderr = self.proc.stderr.read()
        self.proc.stderr.close()
        try:
            with open(self.ledger) as f:
                data = json.load(f)
        finally:
            for fn in os.listdir(self.dir):
                os.unlink(os.path.join(self.dir, fn))
            os.rmdir(self.dir)
        # a sanitizer report or a crash fails the test that ran the simulator
        if (self.proc.returncode != 0 or "Sanitizer" in self.stderr or
                "runtime error" in self.stderr):
            raise AssertionError("smsc-sim exit %d: %s" % (self.proc.returncode, self.stderr[-2000:]))
        return data


def smsc(summary, name):
    for m in summary["smscs"]:
        if m["name"] == name:
            return m
    raise KeyError(name)


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def run(self, fn, *args):
        self.n += 1
        name = fn.__name__
        try:
            fn(*args)
            print("ok %d - %s" % (self.n, name))
        except Exception:
            self.failed += 1
            print("not ok %d - %s" % (self.n, name))
            for line in traceback.format_exc().splitlines():
                print("# " + line)
        sys.stdout.flush()

    def done(self):
        print("1..%d" % self.n)
        return 1 if self.failed else 0


def main(namespace):
    """Run every test_* function of a test module (its globals()) as TAP."""
    t = Tap()
    for name, fn in list(namespace.items()):
        if name.startswith("test_") and callable(fn):
            t.run(fn)
    sys.exit(t.done())


def check(cond, msg=""):
    if not cond:
        raise AssertionError(msg)


def check_eq(a, b, msg=""):
    if a != b:
        raise AssertionError("%r != %r %s" % (a, b, msg))


def wait_for(pred, timeout=5.0, step=0.02):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()
