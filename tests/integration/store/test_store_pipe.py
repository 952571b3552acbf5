#!/usr/bin/env python3
"""Three `smsmux pipe` processes of one cluster sharing a real redis-server
(started here on a unix socket, AOF with appendfsync no: rtest.h) against one smsc-sim that
sends each DR on a random session of the SMSC (so 2 times in 3 on another
instance's) or another site's, sometimes before the submit_sm_resp:

 1. under load, `kill -9` of instance c, restarted at once with the same
    name; the test resubmits the MTs c1 printed no outcome for, as an
    application would: every MT has an outcome, every DR reaches its
    owner's stdout (c's on c1 or c2), nothing is lost, no handset
    duplicate; the only repeats are DRs c1 printed right before the kill
    and c2 read again (its stream entry was not acknowledged yet);
 2. `kill -9` of c without a restart, DRs still due: a and b take them
    over after owner_takeover_ms (3 s), each once;
 3. redis-server killed and restarted (AOF), then stopped with
    SIGSTOP for 5 s, while a and b send: every MT gets its outcome while
    Redis is away (MTs never wait for it), and afterwards every DR reaches
    its owner, once (the held DRs were answered ESME_RX_T_APPN and re-sent
    by the service, the buffered correlations written).
Usage: test_store_pipe.py SMSMUX SMSC_SIM"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from clitest import Tap, Sim, Pipe, dies_with_parent  # noqa: E402

SMX, SIM = sys.argv[1], sys.argv[2]


class Redis:
    """redis-server on a unix socket in a fresh directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="smx-redis-")
        self.sock = os.path.join(self.dir, "redis.sock")
        self.url = "unix://" + self.sock
        self.p = None
        self.start()

    def start(self):
        self.p = subprocess.Popen(
            ["redis-server", "--port", "0", "--unixsocket", self.sock, "--unixsocketperm", "700",
             "--dir", self.dir, "--save", "", "--appendonly", "yes", "--appendfsync", "no",
             "--logfile", os.path.join(self.dir, "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=dies_with_parent())
        for _ in range(500):
            if os.path.exists(self.sock) and self.cli("PING") == "PONG":
                return
            time.sleep(0.01)
        raise RuntimeError("redis-server did not start")

    def cli(self, *args):
        r = subprocess.run(["redis-cli", "-s", self.sock, *args], capture_output=True, text=True,
                           timeout=10)
        return r.stdout.strip()

    def kill9(self):
        self.p.send_signal(signal.SIGKILL)
        self.p.wait()

    def stop(self):
        if self.p and self.p.poll() is None:
            self.p.send_signal(signal.SIGCONT)
            self.p.terminate()
            self.p.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def mt(mid):
    return {"id": mid, "from": "12345", "to": "447700900001", "text": "scale out " + mid}


def events_of(p, kind):
    with p.lock:
        return [e for e in p.events if e.get("event") == kind]


def outcome_ids(p):
    return {e["id"] for e in events_of(p, "submitted") + events_of(p, "failed")}


def dr_ids(p):
    return [e.get("id") for e in events_of(p, "dr")]


def wait(pred, timeout):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def ctl(sim_ctl, cmd):
    subprocess.run([SIM, "ctl", "--control", sim_ctl, *cmd.split()], capture_output=True,
                   timeout=10)


def main():
    tap = Tap()
    if not shutil.which("redis-server") or not shutil.which("redis-cli"):
        print("1..0 # SKIP redis-server not installed (tools/bootstrap.sh)")
        return
    red = Redis()
    sim_ctl = os.path.join(red.dir, "sim.ctl")
    sim = Sim(SIM, "--rebind-interval", "0", "--control", sim_ctl,
              "--set", "other_site_prob=0.5", "--set", "dr_before_resp_prob=0.2",
              "--set", "dr_delay_ms=200-1200", "--set", "deliver_timeout_ms=3000",
              "--set", "deliver_max_sends=50")
    conf = os.path.join(red.dir, "store.ini")
    with open(conf, "w") as f:
        f.write("[store]\nowner_takeover_ms = 3000\nhold_ms = 2000\n")
    cluster = "p%d" % os.getpid()

    def start(name):
        p = Pipe(SMX, sim.args() + ["--config", conf, "--store", red.url, "--instance", name,
                                    "--cluster", cluster, "--rebind-interval", "1",
                                    "--workers", "1"])
        ok = wait(lambda: sum(1 for e in events_of(p, "bind") if e.get("state") == "up")
                  >= len(sim.smscs), 20)
        return p, ok

    a, ok_a = start("a")
    b, ok_b = start("b")
    c1, ok_c = start("c")
    tap.ok(ok_a and ok_b and ok_c, "three pipes bound every SMSC")

    # ---- 1. kill -9 of c under load, restarted with the same name ----
    N = 300
    sent = {"a": [], "b": [], "c": []}

    def feed(p, name, lo, hi, rate=150):
        for i in range(lo, hi):
            mid = f"{name}-{i}"
            try:
                p.send(mt(mid))
            except (BrokenPipeError, OSError):
                return
            sent[name].append(mid)
            time.sleep(1.0 / rate)

    ta = threading.Thread(target=feed, args=(a, "a", 0, N))
    tb = threading.Thread(target=feed, args=(b, "b", 0, N))
    ta.start()
    tb.start()
    tc = threading.Thread(target=feed, args=(c1, "c", 0, N // 2, 300))
    tc.start()
    time.sleep(0.3)             # ~90 MTs written, the last ones still in flight
    c1.p.send_signal(signal.SIGKILL)
    tc.join()
    n_c1 = len(sent["c"])
    c1.p.wait()
    time.sleep(0.3)
    c2, ok_c2 = start("c")
    tap.ok(ok_c2, "c restarted with the same name and bound")
    lost = [m for m in sent["c"] if m not in outcome_ids(c1)]
    for mid in lost:
        c2.send(mt(mid))
    feed(c2, "c", n_c1, N)
    ta.join()
    tb.join()
    all_ids = set(sent["a"]) | set(sent["b"]) | set(sent["c"])
    tap.ok(len(all_ids) == 3 * N, "every MT was sent", len(all_ids))
    print(f"# c1 killed after {n_c1} MTs were written to it")
    ok = wait(lambda: outcome_ids(a) >= set(sent["a"]) and outcome_ids(b) >= set(sent["b"])
              and (outcome_ids(c1) | outcome_ids(c2)) >= set(sent["c"]), 60)
    tap.ok(ok, f"every MT has an outcome (c1 printed {len(outcome_ids(c1))}, "
               f"{len(lost)} resubmitted to c2)")

    def drs_cover(ids):
        got = set(dr_ids(a)) | set(dr_ids(b)) | set(dr_ids(c1)) | set(dr_ids(c2))
        return got >= ids

    ok = wait(lambda: drs_cover(all_ids), 90)
    missing = all_ids - (set(dr_ids(a)) | set(dr_ids(b)) | set(dr_ids(c1)) | set(dr_ids(c2)))
    tap.ok(ok, "every MT's DR reached an application", sorted(missing)[:20])
    time.sleep(2)
    wrong = [d for d in dr_ids(a) if not (d or "").startswith("a-")] + \
            [d for d in dr_ids(b) if not (d or "").startswith("b-")] + \
            [d for d in dr_ids(c1) + dr_ids(c2) if not (d or "").startswith("c-")]
    tap.ok(not wrong, "each DR at its owner, none uncorrelated", wrong[:20])
    dup_ab = [d for d in set(dr_ids(a)) if dr_ids(a).count(d) > 1] + \
             [d for d in set(dr_ids(b)) if dr_ids(b).count(d) > 1]
    dup_c = [d for d in set(dr_ids(c2)) if dr_ids(c2).count(d) > 1] + \
            [d for d in set(dr_ids(c1)) if dr_ids(c1).count(d) > 1]
    again = set(dr_ids(c1)) & set(dr_ids(c2))
    tap.ok(not dup_ab and not dup_c, "no DR twice on one instance", (dup_ab + dup_c)[:20])
    print(f"# DRs c1 printed and c2 printed again after the kill: {len(again)}")
    tap.ok(len(again) <= 64, "repeats after the kill only from c1's last unacknowledged poll",
           sorted(again)[:20])

    # ---- 2. kill -9 of c, no restart: a and b take over ----
    ctl(sim_ctl, "set all dr_delay_ms 1500-2500")
    ctl(sim_ctl, "set all dr_before_resp_prob 0")
    feed(c2, "c", 1000, 1080, rate=400)
    late = {f"c-{i}" for i in range(1000, 1080)}
    ok = wait(lambda: outcome_ids(c2) >= late, 30)
    tap.ok(ok, "c2 has outcomes for 80 more MTs")
    c2.p.send_signal(signal.SIGKILL)
    c2.p.wait()
    ok = wait(lambda: set(dr_ids(a)) | set(dr_ids(b)) | set(dr_ids(c2)) >= late, 40)
    took = [d for d in dr_ids(a) + dr_ids(b) if d in late]
    tap.ok(ok and len(took) == len(set(took)),
           f"c's DRs taken over by a ({sum(1 for d in dr_ids(a) if d in late)}) and b "
           f"({sum(1 for d in dr_ids(b) if d in late)}), each once",
           sorted(late - (set(dr_ids(a)) | set(dr_ids(b)) | set(dr_ids(c2))))[:20])

    # ---- 3. Redis killed and restarted, then paused 5 s ----
    ctl(sim_ctl, "set all dr_delay_ms 200-1200")
    sent3 = {"a": [], "b": []}

    def feed3(p, name):
        for i in range(2000, 2600):
            mid = f"{name}-{i}"
            p.send(mt(mid))
            sent3[name].append(mid)
            time.sleep(1.0 / 80)

    ta = threading.Thread(target=feed3, args=(a, "a"))
    tb = threading.Thread(target=feed3, args=(b, "b"))
    ta.start()
    tb.start()
    time.sleep(1.5)
    red.kill9()
    n_before = len(outcome_ids(a)) + len(outcome_ids(b))
    time.sleep(1.5)
    n_during = len(outcome_ids(a)) + len(outcome_ids(b))
    red.start()
    time.sleep(1.5)
    red.p.send_signal(signal.SIGSTOP)
    s_before = len(outcome_ids(a)) + len(outcome_ids(b))
    time.sleep(5)
    s_during = len(outcome_ids(a)) + len(outcome_ids(b))
    red.p.send_signal(signal.SIGCONT)
    ta.join()
    tb.join()
    print(f"# outcomes while Redis was down 1.5 s: {n_during - n_before}, "
          f"while it was stopped 5 s: {s_during - s_before}")
    tap.ok(n_during - n_before > 50 and s_during - s_before > 200,
           "MTs keep getting outcomes while Redis is down or stopped")
    ids3 = set(sent3["a"]) | set(sent3["b"])
    ok = wait(lambda: outcome_ids(a) | outcome_ids(b) >= ids3, 60)
    tap.ok(ok, "every MT of the outage has an outcome")
    ok = wait(lambda: set(dr_ids(a)) | set(dr_ids(b)) >= ids3, 120)
    miss3 = ids3 - (set(dr_ids(a)) | set(dr_ids(b)))
    tap.ok(ok, "every DR of the outage reached an application", sorted(miss3)[:20])
    time.sleep(2)
    wrong3 = [d for d in dr_ids(a) if d in ids3 and not d.startswith("a-")] + \
             [d for d in dr_ids(b) if d in ids3 and not d.startswith("b-")]
    dup3 = [d for d in ids3 if (dr_ids(a) + dr_ids(b)).count(d) > 1]
    unc = [e for e in events_of(a, "dr") + events_of(b, "dr") if not e.get("id")]
    tap.ok(not wrong3 and not dup3 and not unc,
           "after the outage each DR at its owner, once, correlated",
           (wrong3 + dup3)[:20] + unc[:3])

    rcs = [p.close(timeout=60) for p in (a, b)]
    tap.ok(rcs == [0, 0], "a and b drain and exit 0 at end of input",
           f"{rcs} {''.join(a.err[-5:] + b.err[-5:])}")
    ledger = sim.stop() or {}
    tot = ledger.get("totals", {})
    hd = ledger.get("handset", {})
    print(f"# ledger: dr_sent {tot.get('dr_sent')}, deliver_sm_resent {tot.get('deliver_sm_resent')}, "
          f"service_duplicates {hd.get('service_duplicates')}, unacked {tot.get('deliver_sm_unacked')}")
    tap.ok(hd.get("duplicates") == 0, "no MT reached a handset twice (resubmits kept their identity)",
           hd)
    tap.ok(tot.get("deliver_sm_unacked") == 0, "the service had every deliver_sm answered", tot)
    red.stop()
    tap.done()


if __name__ == "__main__":
    main()
