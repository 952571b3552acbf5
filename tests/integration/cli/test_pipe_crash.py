#!/usr/bin/env python3
"""kill -9 of `smsmux pipe` under load, restarted; the harness resubmits the
MTs that had no outcome on the first run's stdout, with the same ids, as an
application would. Measured with the in-process store (--store memory, the
default): the MT identity TLV is the process's nonce + a slot serial, so a
resubmitted MT is new to the service, and every MT the service had accepted
whose `submitted` line the crash swallowed reaches the handset twice.

Asserted: every MT id ends with exactly one `submitted` across the two runs;
every MT reached the handset (deliveries >= MTs; the simulator sees a
resubmission as a new MT, so the handset duplicates are deliveries - MTs);
they never exceed the MTs resubmitted (only MTs in flight at the crash can be
duplicated); the restarted pipe exits 0. Reported (TAP comments): MTs
written, in flight at the kill, resubmitted, handset duplicates, DRs of the
first run's MTs that reached the second run uncorrelated ("id": null: the
correlation store died with the process).

R2 across a restart: the library keeps no rebind clock outside the process,
so the restarted pipe binds at once; the simulator checks a 1 s spacing and
the harness waits 1.5 s before restarting. A supervisor restarting faster
than rebind_interval_ms would break R2 (see docs/operating.md).
With `redis` as third argument the same runs with the shared Redis store
(a redis-server on a unix socket started here; the restarted pipe has the
same --instance name): the MT identity is then derived from the cluster and
the app id, so the service recognises a resubmission and no MT reaches the
handset twice (asserted: 0 copies), and the first run's DRs wait in the
store for the restarted instance (uncorrelated ones reported).
Usage: test_pipe_crash.py SMSMUX SMSC_SIM [memory|redis]"""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clitest import Pipe, Sim, Tap, dies_with_parent, mt  # noqa: E402

smx, sim_path = sys.argv[1], sys.argv[2]
STORE = sys.argv[3] if len(sys.argv) > 3 else "memory"
RATE = 300.0
tap = Tap()


class Redis:
    """redis-server on a unix socket in a fresh directory (no persistence:
    only the pipe is killed here)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="smx-crash-redis-")
        self.sock = os.path.join(self.dir, "redis.sock")
        self.p = subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", self.sock,
                                   "--unixsocketperm", "700", "--dir", self.dir, "--save", "",
                                   "--appendonly", "no"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  preexec_fn=dies_with_parent())
        for _ in range(500):
            if os.path.exists(self.sock):
                return
            time.sleep(0.01)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        self.p.terminate()
        self.p.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


redis = None
if STORE == "redis":
    if shutil.which("redis-server") is None:
        print("1..0 # SKIP redis-server not installed (tools/bootstrap.sh installs it)")
        sys.exit(0)
    redis = Redis()

cfg = tempfile.NamedTemporaryFile("w", suffix=".ini", delete=False)
cfg.write("[client]\ndr_park_timeout_ms = 2000\nrebind_interval_ms = 1000\nrebind_jitter_ms = 0\n")
cfg.close()
sim = Sim(sim_path, "--rebind-interval", "1", "--set", "dr_delay_ms=200-1500",
          "--set", "resp_latency_ms=5-40")
names = {n for n, _, _ in sim.smscs}
ARGS = sim.args() + ["--config", cfg.name, "--drain-timeout", "20"]
if redis:
    ARGS += ["--store", "unix://" + redis.sock, "--instance", "crash-a",
             "--cluster", "crash%d" % os.getpid()]


def start():
    p = Pipe(smx, ARGS)
    p.written = []
    ok = p.wait_bound(names, 20)
    return p, ok


def load(p, ids, stop):
    t0 = time.time()
    for k, i in enumerate(ids):
        if stop.is_set():
            return
        due = t0 + k / RATE
        if due > time.time():
            time.sleep(due - time.time())
        try:
            p.send(mt(i))
            p.written.append(i)
        except (BrokenPipeError, ValueError, OSError):
            return


def note(text):
    print("# " + text, flush=True)


def outcome_ids(events):
    out = {}
    for e in events:
        if e.get("event") in ("submitted", "failed"):
            out.setdefault(e.get("id"), []).append(e["event"])
    return out


# run 1: load, kill -9 in the middle of it
p1, up1 = start()
tap.ok(up1, "run 1: every bind up")
all_ids = list(range(3000))
stop = threading.Event()
th = threading.Thread(target=load, args=(p1, all_ids, stop), daemon=True)
th.start()
time.sleep(5.0)
p1.p.kill()                 # SIGKILL: no drain, no unbind
stop.set()
th.join()
p1.p.wait()
p1.t.join(timeout=5)
with p1.lock:
    ev1 = list(p1.events)
oc1 = outcome_ids(ev1)
# MTs written before the kill: load() records each line it wrote
sent_n = len(p1.written)
no_outcome = [i for i in range(sent_n) if "m%d" % i not in oc1]
note("run 1: outcomes %d of the first %d MTs before the kill; %d without one" % (
    len(oc1), sent_n, len(no_outcome)))

time.sleep(1.5)             # R2 across the restart: see the header

# run 2: restart, resubmit the MTs with no outcome (same ids), then more
p2, up2 = start()
tap.ok(up2, "run 2: every bind up after the restart")
resubmit = no_outcome + list(range(sent_n, sent_n + 300))
load(p2, resubmit, threading.Event())
want = {"m%d" % i for i in resubmit}
p2.wait_for(lambda ev: want <= set(outcome_ids(ev)), 60)
# DRs of run 1's MTs arrive on run 2's binds and leave the park uncorrelated
p2.wait_for(lambda ev: sum(1 for e in ev if e.get("event") == "dr") >= len(want), 20)
time.sleep(3)
rc = p2.close()
ledger = sim.stop()
os.unlink(cfg.name)
if redis:
    redis.stop()
oc2 = outcome_ids(p2.events)

every = ["m%d" % i for i in range(sent_n + 300)]
per_id = {i: oc1.get(i, []) + oc2.get(i, []) for i in every}
bad = {i: v for i, v in per_id.items() if v != ["submitted"]}
tap.ok(not bad, "every MT id ends with exactly one submitted across both runs (%d MTs)" % len(every),
       list(bad.items())[:10])
hs = ledger["handset"]
# A resubmitted MT carries the new process's identity: the simulator counts
# it as another MT, not a duplicate. Copies at the handset beyond one per
# MT id are therefore delivered - MTs.
extra = hs["delivered"] - len(every)
resub_n = len(no_outcome)
tap.ok(extra >= 0 and hs["duplicates"] == 0,
       "every MT reached the handset (deliveries %d, MTs %d)" % (hs["delivered"], len(every)), hs)
if redis:
    tap.ok(extra == 0, "redis store: no MT reaches the handset twice (copies %d, resubmitted %d, "
           "service duplicates %d)" % (extra, resub_n, hs["service_duplicates"]), hs)
else:
    tap.ok(extra <= resub_n,
           "handset copies beyond one per MT (%d) only among the MTs resubmitted after the crash "
           "(%d)" % (extra, resub_n), hs)
tap.ok(rc == 0, "the restarted pipe exits 0", rc)
dr2 = [e for e in p2.events if e.get("event") == "dr"]
uncorrelated = sum(1 for e in dr2 if e.get("id") is None)
r2 = [v for v in ledger["violations"] if v.get("rule") == "R2"]
note("crash (%s store): %d MTs written before the kill, %d without an outcome (resubmitted with the same "
         "ids), handset duplicates %d (in-process store expected: those the service had accepted "
         "whose submitted line the kill swallowed; redis: 0), DRs uncorrelated in run 2 %d of %d, R2 "
         "violations at the simulator %d" % (STORE, sent_n, resub_n, extra, uncorrelated,
                                              len(dr2), len(r2)))
tap.done()
