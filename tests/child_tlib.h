/* Child processes a test starts (redis-server, dnsmasq, a simulator, the
 * smsmux CLI) must not outlive it: a test killed from outside (SIGTERM from
 * meson's timeout, SIGKILL) runs no clean-up, and a child left running holds
 * its port or socket and its CPU (an orphaned redis-server was seen after
 * cli_pipe_crash_redis timed out). t_child_dies_with_parent(), called in the
 * child right after fork() and before exec, asks the kernel for SIGKILL when
 * the thread that forked it ends (PR_SET_PDEATHSIG, kept across execve of an
 * ordinary binary), and exits at once when that parent already died between
 * the fork and the prctl. Fork from a thread that lives as long as the child
 * (the tests' main thread). */
#ifndef SMX_TESTS_CHILD_TLIB_H
#define SMX_TESTS_CHILD_TLIB_H

#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <unistd.h>

static inline void t_child_dies_with_parent(pid_t parent)
{
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
                _exit(127);
}

#endif
