"""Helpers for the smsmux CLI black-box tests (stdlib only): a TAP reporter,
an smsc-sim started on free ports, and a running `smsmux pipe` whose stdout
is collected line by line on a thread."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

# dies_with_parent (tests/pylib/childproc.py), also for the tests that import it from here
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "pylib"))
from childproc import dies_with_parent  # noqa: E402,F401


class Tap:
    """Numbered TAP lines; the plan goes last."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, diag=None):
        self.n += 1
        if not cond:
            self.failed += 1
        print(("ok" if cond else "not ok") + f" {self.n} - {name}", flush=True)
        if not cond and diag is not None:
            for line in str(diag).splitlines()[:20]:
                print(f"#   {line}", flush=True)

    def done(self):
        print(f"1..{self.n}", flush=True)
        sys.exit(1 if self.failed else 0)


class Sim:
    """smsc-sim --port-base 0 with a ledger file; stop() returns the ledger."""

    def __init__(self, sim_path, *extra):
        fd, self.ledger = tempfile.mkstemp(prefix="smx-cli-ledger-", suffix=".json")
        os.close(fd)
        self.p = subprocess.Popen([sim_path, "--port-base", "0", "--ledger", self.ledger, *extra],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                  preexec_fn=dies_with_parent())
        self.smscs = []   # (name, site, host:port)
        t0 = time.time()
        for line in self.p.stdout:
            w = line.split()
            if w[:1] == ["ready"]:
                break
            if w[:1] == ["listening"] and len(w) == 4:
                self.smscs.append((w[1], w[2], w[3]))
            if time.time() - t0 > 15:
                break
        if not self.smscs:
            self.p.kill()
            raise RuntimeError("smsc-sim printed no listening lines")

    def args(self):
        out = []
        for name, site, addr in self.smscs:
            out += ["--smsc", f"{name}@{site}={addr}"]
        return out

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        try:
            with open(self.ledger) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None
        finally:
            os.unlink(self.ledger)


class Pipe:
    """A running `smsmux pipe`; lines on stdout are parsed as they come."""

    def __init__(self, smx_path, args):
        self.p = subprocess.Popen([smx_path, "pipe", *args], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  preexec_fn=dies_with_parent())
        self.lines, self.events, self.not_json = [], [], []
        self.lock = threading.Lock()
        self.err = []
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()
        self.te = threading.Thread(target=self._read_err, daemon=True)
        self.te.start()

    def _read(self):
        for line in self.p.stdout:
            with self.lock:
                self.lines.append(line)
                try:
                    self.events.append(json.loads(line))
                except ValueError:
                    self.not_json.append(line)

    def _read_err(self):
        for line in self.p.stderr:
            self.err.append(line)

    def send(self, obj_or_text):
        line = obj_or_text if isinstance(obj_or_text, str) else json.dumps(obj_or_text)
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def wait_for(self, pred, timeout):
        """Wait until pred(events) is true; returns whether it became true."""
        t0 = time.time()
        while time.time() - t0 < timeout:
            with self.lock:
                if pred(list(self.events)):
                    return True
            time.sleep(0.05)
        with self.lock:
            return pred(list(self.events))

    def wait_bound(self, names, timeout):
        """Wait until every SMSC in names had a bind "up" event."""
        return self.wait_for(lambda ev: {e.get("smsc") for e in ev if e.get("event") == "bind"
                                         and e.get("state") == "up"} >= set(names), timeout)

    def signal_and_wait(self, sig, timeout):
        """Send sig; the exit status, or None (then killed) if it did not
        exit within timeout."""
        self.p.send_signal(sig)
        try:
            return self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return None

    def close(self, timeout=60):
        """Close stdin; return the exit status (None if it did not exit)."""
        self.p.stdin.close()
        try:
            rc = self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            rc = None
        self.t.join(timeout=5)
        self.te.join(timeout=5)
        return rc


def outcomes(events):
    """{id: [outcome events]} for submitted/failed events."""
    out = {}
    for e in events:
        if e.get("event") in ("submitted", "failed"):
            out.setdefault(e.get("id"), []).append(e)
    return out


def mt(i, prefix="m", text=None):
    return {"id": f"{prefix}{i}", "from": "12345", "to": "447700900%03d" % (i % 1000),
            "text": text if text is not None else f"test message {i}"}
