"""The children the CLI and simulator test helpers start (clitest.Sim: smsc-sim,
clitest.Pipe: `smsmux pipe`, simlib.Sim: smsc-sim) do not outlive a test
killed from outside. A stand-in test process starts one of each and is
sent SIGTERM, as meson's timeout does (Python's default: die at once, no
clean-up); each child must end with it. This process is a child subreaper,
so the orphans are re-parented here and their end can be waited for; one
still running after 10 s fails the test and is killed.

Usage: test_child_exit.py SMSMUX SMSC_SIM"""
import ctypes
import os
import signal
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from clitest import Tap  # noqa: E402

smx, sim_path = sys.argv[1], sys.argv[2]
tap = Tap()

VICTIM = r"""
import os, sys, time
sys.path.insert(0, sys.argv[3])
sys.path.insert(0, sys.argv[4])
import clitest, simlib
s = clitest.Sim(sys.argv[2])
p = clitest.Pipe(sys.argv[1], s.args())
s2 = simlib.Sim(sys.argv[2])
print(s.p.pid, p.p.pid, s2.proc.pid, flush=True)
time.sleep(300)
"""

PR_SET_CHILD_SUBREAPER = 36
libc = ctypes.CDLL(None, use_errno=True)


def ended(pid, timeout):
    """The wait status of our child pid once it ended, or None."""
    end = time.time() + timeout
    while time.time() < end:
        r, st = os.waitpid(pid, os.WNOHANG)
        if r == pid:
            return st
        time.sleep(0.01)
    return None


def test_helpers_children_die_with_a_killed_test():
    ok = libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    tap.ok(ok, "child subreaper")
    v = subprocess.Popen([sys.executable, "-c", VICTIM, smx, sim_path, here,
                          os.path.join(here, "..", "sim")],
                         stdout=subprocess.PIPE, text=True)
    line = v.stdout.readline().split()
    tap.ok(len(line) == 3, "the stand-in test started its children: %r" % line)
    pids = [int(x) for x in line]
    v.send_signal(signal.SIGTERM)
    v.wait()
    for name, pid in zip(("clitest.Sim", "clitest.Pipe", "simlib.Sim"), pids):
        st = ended(pid, 10)
        tap.ok(st is not None and os.WIFSIGNALED(st) and os.WTERMSIG(st) == signal.SIGKILL,
                  "%s's child %d died with the killed test (status %r)" % (name, pid, st))
        if st is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


test_helpers_children_die_with_a_killed_test()
tap.done()
