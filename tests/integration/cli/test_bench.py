#!/usr/bin/env python3
"""`smsmux bench`: against a smsc-sim it starts, and against the embedded
simulator; the last stdout line is mt_per_s=<number> and the summary is on
stderr. Usage: test_bench.py SMSMUX SMSC_SIM"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clitest import Sim, Tap  # noqa: E402

smx, sim_path = sys.argv[1], sys.argv[2]
tap = Tap()
LAST = re.compile(r"^mt_per_s=[0-9]+(\.[0-9]+)?$")


def check(r, what, count):
    lines = r.stdout.splitlines()
    last = lines[-1] if lines else ""
    tap.ok(r.returncode == 0 and LAST.match(last) and float(last.split("=")[1]) > 0,
           f"{what}: exit 0, last stdout line mt_per_s=<positive number>",
           (r.returncode, r.stdout[-300:], r.stderr[-800:]))
    tap.ok("p50" in r.stderr and "p99" in r.stderr and f"{count} MTs sent" in r.stderr,
           f"{what}: latency percentiles and counts on stderr", r.stderr[-800:])


sim = Sim(sim_path)
r = subprocess.run([smx, "bench", *sim.args(), "--count", "2000", "--rebind-interval", "1"],
                   capture_output=True, text=True, timeout=90)
ledger = sim.stop()
check(r, "bench --smsc (smsc-sim)", 2000)
acc = (ledger or {}).get("totals", {}).get("submit_sm_accepted")
tap.ok(acc == 2000, "the simulator accepted every bench MT exactly once", acc)

r = subprocess.run([smx, "bench", "--count", "2000"], capture_output=True, text=True, timeout=90)
check(r, "bench with the embedded simulator", 2000)

r = subprocess.run([smx, "bench", "--seconds", "1"], capture_output=True, text=True, timeout=90)
lines = r.stdout.splitlines()
tap.ok(r.returncode == 0 and lines and LAST.match(lines[-1]) and float(lines[-1][9:]) > 0,
       "bench --seconds 1: exit 0, last stdout line mt_per_s=<positive number>",
       (r.returncode, r.stdout[-300:], r.stderr[-600:]))

r = subprocess.run([smx, "bench", "--count", "5", "--seconds", "1"], capture_output=True,
                   text=True, timeout=20)
tap.ok(r.returncode != 0 and r.stdout == "", "--count with --seconds is a usage error",
       (r.returncode, r.stderr))
tap.done()
