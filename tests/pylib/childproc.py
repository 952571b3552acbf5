"""Children a Python test starts (smsc-sim, `smsmux pipe`, redis-server) must
not outlive it when it is killed from outside: meson's timeout sends SIGTERM
and no clean-up runs. Popen(..., preexec_fn=dies_with_parent()) asks the
kernel for SIGKILL to the child when this process (the thread that started
it: the main one in these tests) ends, PR_SET_PDEATHSIG, kept across exec.
A parent that ended before the request took effect ends the child at once.

Shared by the CLI tests' clitest.py and the simulator tests' simlib.py
(each puts this folder on sys.path); stdlib only."""
import ctypes
import os
import signal

_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def dies_with_parent():
    """A preexec_fn for Popen: the child gets SIGKILL when we end."""
    parent = os.getpid()

    def child():
        if _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0 or os.getppid() != parent:
            os._exit(127)
    return child
