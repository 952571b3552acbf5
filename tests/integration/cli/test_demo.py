#!/usr/bin/env python3
"""A short `smsmux demo` (--duration 14 s, rebind interval 2 s): the fault
plan plays, one progress line per second, and the summary reports lost 0 and
duplicated 0 with exit 0. Usage: test_demo.py SMSMUX"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clitest import Tap  # noqa: E402

smx = sys.argv[1]
tap = Tap()
r = subprocess.run([smx, "demo", "--duration", "14", "--rebind-interval", "2", "--rate", "100",
                    "--drain-timeout", "45"], capture_output=True, text=True, timeout=200)
out = r.stdout
tap.ok(r.returncode == 0, "a short demo exits 0", (r.returncode, out[-1500:], r.stderr[-800:]))
progress = [l for l in out.splitlines() if re.match(r"^\[ *\d+s\] +\d+ MT/s", l)]
tap.ok(len(progress) >= 12, f"one progress line per second ({len(progress)})", out[:1200])
for cmd in ("kill site bos", "restore site bos", "stall smsc1.dc3 on", "throttle smsc2.dc3 on"):
    tap.ok(f"plan: {cmd}" in out, f"the fault plan plays '{cmd}'", out[:1500])
lost = re.search(r"^lost: (\d+)", out, re.M)
dup = re.search(r"^duplicated: (\d+)", out, re.M)
tap.ok(lost and lost.group(1) == "0", "summary: lost 0", out[-1500:])
tap.ok(dup and dup.group(1) == "0", "summary: duplicated 0", out[-1500:])
gap = re.search(r"^shortest spacing between bind attempts to one SMSC: ([0-9.]+) s", out, re.M)
tap.ok(gap and float(gap.group(1)) > 2.0,
       "summary: shortest spacing between bind attempts above the rebind interval", out[-1500:])
tap.ok(re.search(r"^smsc1\.dc3 +dc3 ", out, re.M) and re.search(r"^smsc2\.bos +bos ", out, re.M),
       "summary table has a row per SMSC", out[-1500:])
tap.done()
