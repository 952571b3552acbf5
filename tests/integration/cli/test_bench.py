#!/usr/bin/env python3
"""`smsmux bench`: against a smsc-sim it starts, and against the embedded
simulator; the last stdout line is mt_per_s=<number> and the summary is on
stderr, with the CPU per MT of the application thread and of the library's
threads; the ingress is sized for the windows (twice the MTs the binds keep
in flight) unless the config file sets ingress_capacity.
Usage: test_bench.py SMSMUX SMSC_SIM"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clitest import Sim, Tap  # noqa: E402

smx, sim_path = sys.argv[1], sys.argv[2]
tap = Tap()
LAST = re.compile(r"^mt_per_s=[0-9]+(\.[0-9]+)?$")
CPU = re.compile(r"CPU per accepted MT: application thread ([0-9]+) ns, "
                 r"library threads ([0-9]+) ns, ([0-9]+) ns in all")
INGRESS = re.compile(r"sending through smx_submit_n \(ingress_capacity ([0-9]+)(, twice the windows)?\)")


def check(r, what, count):
    lines = r.stdout.splitlines()
    last = lines[-1] if lines else ""
    tap.ok(r.returncode == 0 and LAST.match(last) and float(last.split("=")[1]) > 0,
           f"{what}: exit 0, last stdout line mt_per_s=<positive number>",
           (r.returncode, r.stdout[-300:], r.stderr[-800:]))
    tap.ok("p50" in r.stderr and "p99" in r.stderr and f"{count} MTs sent, {count} accepted, 0 failed" in r.stderr,
           f"{what}: latency percentiles on stderr, every MT accepted", r.stderr[-800:])
    m = CPU.search(r.stderr)
    tap.ok(m and int(m.group(1)) > 0 and int(m.group(2)) > 0
           and abs(int(m.group(1)) + int(m.group(2)) - int(m.group(3))) <= 1,
           f"{what}: CPU per MT of the application thread and of the library threads on stderr",
           r.stderr[-800:])


def ingress(r):
    m = INGRESS.search(r.stderr)
    return (int(m.group(1)), bool(m.group(2))) if m else None


sim = Sim(sim_path)
r = subprocess.run([smx, "bench", *sim.args(), "--count", "2000", "--rebind-interval", "1"],
                   capture_output=True, text=True, timeout=90)
ledger = sim.stop()
check(r, "bench --smsc (smsc-sim)", 2000)
acc = (ledger or {}).get("totals", {}).get("submit_sm_accepted")
tap.ok(acc == 2000, "the simulator accepted every bench MT exactly once", acc)

r = subprocess.run([smx, "bench", "--count", "2000"], capture_output=True, text=True, timeout=90)
check(r, "bench with the embedded simulator", 2000)

tap.ok(ingress(r) == (1024, True),
       "default window 10 x 4 SMSCs: the ingress sized for the windows, at least 1024 slots",
       r.stderr[-600:])

r = subprocess.run([smx, "bench", "--count", "20000", "--window", "512"], capture_output=True,
                   text=True, timeout=90)
check(r, "bench --window 512 (embedded simulator)", 20000)
tap.ok(ingress(r) == (4096, True), "--window 512 x 4 SMSCs: ingress_capacity 4096 (2 x 2048)",
       r.stderr[-600:])

with tempfile.NamedTemporaryFile("w", suffix=".ini", delete=False) as f:
    f.write("[client]\ningress_capacity = 2048\n")
    ini = f.name
try:
    r = subprocess.run([smx, "bench", "--config", ini, "--count", "5000", "--window", "512"],
                       capture_output=True, text=True, timeout=90)
finally:
    os.unlink(ini)
check(r, "bench --config with ingress_capacity", 5000)
tap.ok(ingress(r) == (2048, False), "an ingress_capacity from the config file is kept as it is",
       r.stderr[-600:])

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
