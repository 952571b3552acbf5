/* Wake-ups: smx_submit wakes a sleeping worker only if the worker can take
 * MTs. With the one SMSC stalled (nothing answered) and its window full,
 * the worker sleeps until a completion or its wait timeout; submits in the
 * meantime must not write its eventfd (before: one write syscall and two
 * context switches per submit, bench/README.md "Worker count"), counted as
 * the process's write syscalls (/proc/self/io syscw: nothing else writes
 * while the SMSC is stalled). The queued MTs still go out once the SMSC
 * answers again: every MT exactly one outcome. */
#include "itest.h"

static struct it_env E;

static long long syscw(void)
{
        FILE *f = fopen("/proc/self/io", "r");
        if (!f)
                return -1;
        char line[128];
        long long v = -1;
        while (fgets(line, sizeof line, f))
                if (sscanf(line, "syscw: %lld", &v) == 1)
                        break;
        fclose(f);
        return v;
}

static void test_submits_do_not_wake_a_worker_whose_window_is_full(void)
{
        CHECK_EQ(it_wait_active(&E, E.n, 10000), 1);
        it_sim_ctl(&E, "stall all on");
        CHECK_EQ(it_submit_n(&E, 8, "fill the window"), 8);   /* window 4: 4 out, 4 queued */
        it_sleep_ms(300);       /* the worker has sent what fits and sleeps */
        long long before = syscw();
        CHECK(before >= 0);
        for (int i = 0; i < 200; i++) {
                CHECK_EQ(it_submit(&E, E.next_mt, "queued"), 0);
                E.next_mt++;
                it_sleep_ms(1);         /* time for a woken worker to fall asleep again */
        }
        long long writes = syscw() - before;
        printf("# write syscalls during 200 submits to a full window: %lld\n", writes);
        CHECK(writes < 20);
        it_sim_ctl(&E, "stall all off");
        /* the stalled submits time out (2 s) and are resent; the rest follow */
        CHECK_EQ(it_wait_outcomes(&E, E.next_mt, 60000), 1);
        CHECK_EQ(E.submitted, E.next_mt);
        CHECK_EQ(it_bad_outcomes(&E, E.next_mt), 0);
}

int main(void)
{
        if (it_sim_start(&E, "dc3", 1, 1.0) < 0) {
                printf("not ok 1 - setup\n1..1\n");
                return 1;
        }
        E.cfg.workers = 1;
        E.cfg.window = 4;
        if (it_client_start(&E) < 0) {
                printf("not ok 1 - setup\n1..1\n");
                return 1;
        }
        RUN(test_submits_do_not_wake_a_worker_whose_window_is_full);
        it_stop(&E);
        return t_done();
}
