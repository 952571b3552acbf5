/* pin_workers: every worker is pinned to one CPU of the set the process may
 * run on (what taskset or a cgroup cpuset allows), never to a CPU outside
 * it, and with room for them the workers spread over the allowed CPUs.
 * The client is started from a thread whose CPU set was narrowed first (the
 * library's threads inherit it, as with taskset); its threads are told
 * apart from the simulator's by thread id (alive before smx_client_start or
 * not), and each one's CPU set is read with sched_getaffinity. With
 * workers = 0 the library starts one worker per CPU of that set less one
 * (at least one, at most one per SMSC). */
#include <dirent.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "itest.h"

#define MAX_TIDS 256

static size_t list_tids(long *tids, size_t max)
{
        size_t n = 0;
        DIR *d = opendir("/proc/self/task");
        if (!d)
                return 0;
        struct dirent *e;
        while ((e = readdir(d)) != NULL && n < max) {
                long t = atol(e->d_name);
                if (t > 0)
                        tids[n++] = t;
        }
        closedir(d);
        return n;
}

/* The CPU sets of the threads started since `before` was listed. */
static size_t new_thread_sets(const long *before, size_t n_before, cpu_set_t *sets, size_t max)
{
        long now[MAX_TIDS];
        size_t n_now = list_tids(now, MAX_TIDS), k = 0;
        for (size_t i = 0; i < n_now && k < max; i++) {
                int old = 0;
                for (size_t j = 0; j < n_before; j++)
                        old |= now[i] == before[j];
                if (!old && sched_getaffinity((pid_t)now[i], sizeof sets[k], &sets[k]) == 0)
                        k++;
        }
        return k;
}

static int is_subset(const cpu_set_t *a, const cpu_set_t *b)
{
        cpu_set_t x;
        CPU_AND(&x, a, b);
        return CPU_EQUAL(&x, a);
}

/* Start a 2-worker pinned client on the 4 simulated SMSCs with this thread's
 * CPU set narrowed to `allowed`; check its threads; stop it. Returns how
 * many different CPUs the single-CPU threads (the pinned workers) took. */
static int run_pinned(struct it_env *e, const cpu_set_t *allowed)
{
        cpu_set_t saved;
        CHECK_EQ(sched_getaffinity(0, sizeof saved, &saved), 0);
        CHECK_EQ(sched_setaffinity(0, sizeof *allowed, allowed), 0);
        long before[MAX_TIDS];
        size_t n_before = list_tids(before, MAX_TIDS);
        e->cfg.workers = 2;
        e->cfg.pin_workers = 1;
        CHECK_EQ(it_client_start(e), 0);
        CHECK_EQ(sched_setaffinity(0, sizeof saved, &saved), 0);
        CHECK_EQ(it_wait_active(e, e->n, 10000), 1);   /* the workers run (and pinned themselves) */
        cpu_set_t sets[MAX_TIDS], used;
        CPU_ZERO(&used);
        size_t n = new_thread_sets(before, n_before, sets, MAX_TIDS), pinned = 0;
        for (size_t i = 0; i < n; i++) {
                CHECK(is_subset(&sets[i], allowed));
                if (CPU_COUNT(&sets[i]) == 1) {
                        pinned++;
                        CPU_OR(&used, &used, &sets[i]);
                }
        }
        CHECK(pinned >= 2);
        CHECK_EQ(it_submit_n(e, 500, "pinned"), 500);
        CHECK_EQ(it_wait_outcomes(e, e->next_mt, 30000), 1);
        CHECK_EQ(e->failed, 0);
        smx_client_drain(e->c, 5000);
        it_pump(e);
        smx_client_destroy(e->c);
        e->c = NULL;
        return CPU_COUNT(&used);
}

static struct it_env E;
static cpu_set_t process_set;

/* Workers a client created with workers = 0 from a thread narrowed to
 * `allowed` runs (from the binds' owners). */
static unsigned default_workers_for(struct it_env *e, const cpu_set_t *allowed)
{
        cpu_set_t saved;
        CHECK_EQ(sched_getaffinity(0, sizeof saved, &saved), 0);
        CHECK_EQ(sched_setaffinity(0, sizeof *allowed, allowed), 0);
        e->cfg.workers = 0;
        e->cfg.pin_workers = 0;
        char err[256] = "";
        int rc = smx_client_create(&e->cfg, &e->c, err, sizeof err);
        CHECK_EQ(sched_setaffinity(0, sizeof saved, &saved), 0);
        CHECK_EQ(rc, 0);
        if (rc < 0)
                return 0;
        struct smx_bind_stats st[IT_MAX_SMSC];
        size_t n = smx_client_binds(e->c, st, IT_MAX_SMSC);
        unsigned running = 0;
        for (size_t i = 0; i < n && i < IT_MAX_SMSC; i++)
                if (st[i].worker + 1 > running)
                        running = st[i].worker + 1;
        smx_client_destroy(e->c);
        e->c = NULL;
        return running;
}

static void test_default_worker_count_follows_the_cpu_set(void)
{
        cpu_set_t set;
        CPU_ZERO(&set);
        int cpus[CPU_SETSIZE], n = 0;
        for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
                if (CPU_ISSET(cpu, &process_set))
                        cpus[n++] = cpu;
        CHECK(n >= 1);
        CPU_SET(cpus[0], &set);
        CHECK_EQ(default_workers_for(&E, &set), 1);     /* one CPU: one worker */
        if (n >= 2) {
                CPU_SET(cpus[1], &set);
                CHECK_EQ(default_workers_for(&E, &set), 1);     /* one CPU left to the app */
        }
        unsigned want = n > 1 ? (unsigned)n - 1 : 1;
        if (want > E.n)
                want = (unsigned)E.n;
        CHECK_EQ(default_workers_for(&E, &process_set), want);
}

static void test_workers_stay_inside_a_one_cpu_set(void)
{
        /* the last CPU the process may use: pinning worker k to core k would
         * take CPU 0, outside the set */
        int last = -1;
        for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
                if (CPU_ISSET(cpu, &process_set))
                        last = cpu;
        CHECK(last >= 0);
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(last, &one);
        CHECK_EQ(run_pinned(&E, &one), 1);
}

static void test_workers_spread_over_a_two_cpu_set(void)
{
        if (CPU_COUNT(&process_set) < 2) {
                printf("# one CPU only: nothing to spread over\n");
                return;
        }
        /* the two highest CPUs the process may use */
        cpu_set_t two;
        CPU_ZERO(&two);
        int got = 0;
        for (int cpu = CPU_SETSIZE - 1; cpu >= 0 && got < 2; cpu--)
                if (CPU_ISSET(cpu, &process_set)) {
                        CPU_SET(cpu, &two);
                        got++;
                }
        CHECK_EQ(run_pinned(&E, &two), 2);
}

int main(void)
{
        CHECK_EQ(sched_getaffinity(0, sizeof process_set, &process_set), 0);
        if (it_sim_start(&E, "dc3,bos", 2, 1.0) < 0) {
                printf("not ok 1 - setup\n1..1\n");
                return 1;
        }
        RUN(test_workers_stay_inside_a_one_cpu_set);
        RUN(test_workers_spread_over_a_two_cpu_set);
        RUN(test_default_worker_count_follows_the_cpu_set);
        it_stop(&E);
        return t_done();
}
