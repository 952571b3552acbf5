#!/usr/bin/env python3
"""`smsmux pipe` prints an event as soon as it exists, also while stdin is
idle (CLI.md: "one line is flushed as soon as the event exists").

Regression: the pipe stopped polling after a short batch of events, which
leaves the library's eventfd unarmed (smx_events_poll arms it only when a
poll finds nothing), so the next event waited for the next stdin line or the
1 s wait timeout. Here each MT is written alone and its DR (sent 20-40 ms
after the submit) is awaited with stdin idle: with the bug every DR came
about 1 s late, now within milliseconds. The bound asserted (median under
0.5 s over 10 MTs) is half the bug's delay, far above the expected figure.
Usage: test_pipe_wakeup.py SMSMUX SMSC_SIM"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clitest import Pipe, Sim, Tap, mt  # noqa: E402

smx, sim_path = sys.argv[1], sys.argv[2]
tap = Tap()
sim = Sim(sim_path, "--set", "dr_delay_ms=20-40")
names = {n for n, _, _ in sim.smscs}
p = Pipe(smx, sim.args() + ["--rebind-interval", "1", "--drain-timeout", "10"])
up = p.wait_for(lambda ev: {e.get("smsc") for e in ev
                            if e.get("event") == "bind" and e.get("state") == "up"} >= names, 20)
tap.ok(up, "every bind up")


def seen(kind, mt_id):
    return lambda ev: any(e.get("event") == kind and e.get("id") == mt_id for e in ev)


delays = []
for i in range(10):
    m = mt(i, prefix="w")
    p.send(m)
    if not p.wait_for(seen("submitted", m["id"]), 10):
        break
    t0 = time.time()
    if not p.wait_for(seen("dr", m["id"]), 10):
        break
    delays.append(time.time() - t0)
rc = p.close()
sim.stop()
delays.sort()
median = delays[len(delays) // 2] if delays else None
tap.ok(len(delays) == 10, "each of 10 MTs gets its submitted event and its DR", delays)
tap.ok(median is not None and median < 0.5,
       "with stdin idle, a DR is printed without waiting for more input (median %s s)" % (
           "%.3f" % median if median is not None else "-"), delays)
tap.ok(rc == 0, "pipe exits 0 after EOF", rc)
tap.done()
