/* A redis-server started by the store tests' helper (rtest.h) does not
 * outlive its test: a stand-in test process starts one with
 * rtest_redis_start() and is killed with SIGKILL (as meson's timeout kills
 * a test that hangs, no clean-up running); the redis-server must die with
 * it. This process is a child subreaper, so the orphaned redis-server is
 * re-parented here and its end can be waited for (and, when the helper is
 * wrong, it is still running 10 s later: the test fails and kills it). */
#include <errno.h>
#include <sys/prctl.h>

#include "rtest.h"
#include "testlib.h"

/* Wait up to ms for pid (our child) to end: its status, or -1 (still runs). */
static int t_wait_end(pid_t pid, unsigned ms)
{
        for (unsigned waited = 0; waited <= ms; waited += 10) {
                int st;
                pid_t r = waitpid(pid, &st, WNOHANG);
                if (r == pid)
                        return st;
                if (r < 0 && errno != EINTR)
                        return -1;
                rtest_sleep_ms(10);
        }
        return -1;
}

static void test_redis_server_dies_with_a_killed_test(void)
{
        int fds[2];
        CHECK_EQ(pipe(fds), 0);
        pid_t victim = fork();
        if (victim == 0) {
                /* the stand-in test: start redis-server, say where, hang */
                close(fds[0]);
                struct rtest_redis r;
                if (rtest_redis_start(&r, 0) < 0)
                        _exit(1);
                ssize_t w = write(fds[1], &r, sizeof r);
                (void)w;
                for (;;)
                        pause();
        }
        close(fds[1]);
        struct rtest_redis r;
        memset(&r, 0, sizeof r);
        ssize_t n = read(fds[0], &r, sizeof r);
        close(fds[0]);
        CHECK_EQ(n, (ssize_t)sizeof r);
        if (n != (ssize_t)sizeof r || r.pid <= 0) {
                kill(victim, SIGKILL);
                waitpid(victim, NULL, 0);
                return;
        }
        CHECK_EQ(rtest_redis_ping(&r), 1);
        kill(victim, SIGKILL);
        waitpid(victim, NULL, 0);
        int st = t_wait_end(r.pid, 10000);
        CHECK(st != -1);
        CHECK(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
        if (st == -1) {
                printf("# redis-server %d outlived the killed test\n", (int)r.pid);
                kill(r.pid, SIGKILL);
                waitpid(r.pid, NULL, 0);
        }
        CHECK_EQ(rtest_redis_ping(&r), 0);
        unlink(r.sock);
        unlink(r.log);
        rmdir(r.dir);
}

int main(void)
{
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
                printf("not ok 1 - setup: PR_SET_CHILD_SUBREAPER\n1..1\n");
                return 1;
        }
        RUN(test_redis_server_dies_with_a_killed_test);
        return t_done();
}
