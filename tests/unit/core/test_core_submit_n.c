/* smx_submit_n against smsc-sim in-process: a run of MTs is accepted as a
 * prefix — all of it, up to a bad MT (its error reported, nothing after it
 * queued), or up to the point the ingress is full (SMX_EAGAIN) — and every
 * accepted MT gets exactly one outcome, also when several threads submit
 * runs at once while slots are freed by the workers. */
#include <pthread.h>
#include <stdatomic.h>

#include "integration/core/itest.h"

static struct it_env E;

#define N_SLOTS 64 /* ingress_capacity */

static char ids[256][32];
static struct smx_mt run_mts[256];

/* n MTs numbered from E.next_mt (not advanced); run_mts[bad] gets no
 * destination when bad < n. */
static const struct smx_mt *make_run(unsigned n, unsigned bad)
{
        for (unsigned i = 0; i < n; i++) {
                snprintf(ids[i], sizeof ids[i], "mt-%llu", (unsigned long long)(E.next_mt + i));
                run_mts[i] = (struct smx_mt){ .id = ids[i], .from = "12345",
                                              .to = i == bad ? "" : "447700900001",
                                              .text = "run of MTs" };
        }
        return run_mts;
}

static void test_empty_run_accepts_nothing_and_reports_no_error(void)
{
        int err = -1;
        CHECK_EQ(smx_submit_n(E.c, make_run(0, 0), 0, &err), 0);
        CHECK_EQ(err, 0);
        CHECK_EQ(smx_client_in_flight(E.c), 0);
}

static void test_whole_run_is_accepted(void)
{
        int err = -1;
        CHECK_EQ(smx_submit_n(E.c, make_run(20, 99), 20, &err), 20);
        CHECK_EQ(err, 0);
        E.next_mt += 20;
        CHECK_EQ(smx_client_in_flight(E.c), 20);
}

static void test_run_stops_at_a_bad_mt_with_its_error(void)
{
        int err = 0;
        CHECK_EQ(smx_submit_n(E.c, make_run(6, 2), 6, &err), 2);
        CHECK_EQ(err, SMX_EINVAL);
        E.next_mt += 2;
        CHECK_EQ(smx_client_in_flight(E.c), 22);
        /* what smx_submit says of the same MT */
        CHECK_EQ(smx_submit(E.c, &run_mts[2]), SMX_EINVAL);
}

static void test_run_stops_when_the_ingress_is_full(void)
{
        /* not started: 22 of 64 slots are taken, so 42 more fit */
        int err = 0;
        CHECK_EQ(smx_submit_n(E.c, make_run(50, 99), 50, &err), 42);
        CHECK_EQ(err, SMX_EAGAIN);
        E.next_mt += 42;
        CHECK_EQ(smx_client_in_flight(E.c), N_SLOTS);
        CHECK_EQ(smx_submit_n(E.c, make_run(1, 99), 1, &err), 0);
        CHECK_EQ(err, SMX_EAGAIN);
}

static void test_every_accepted_mt_of_the_runs_gets_one_outcome(void)
{
        CHECK_EQ(smx_client_start(E.c), 0);
        CHECK_EQ(it_wait_active(&E, E.n, 10000), 1);
        CHECK_EQ(it_wait_outcomes(&E, E.next_mt, 20000), 1);
        CHECK_EQ(E.submitted, E.next_mt);
        CHECK_EQ(E.failed, 0);
        CHECK_EQ(it_bad_outcomes(&E, E.next_mt), 0);
        CHECK_EQ(E.duplicates_outcome, 0);
}

/* ---- several submitting threads ---- */

#define THREADS 4
#define PER_THREAD 5000
#define RUN_LEN 50

static _Atomic unsigned finished;   /* submitting threads done */

struct submitter {
        unsigned k;
        uint64_t accepted;
        int bad_error;
};

static void *submit_thread(void *arg)
{
        struct submitter *t = arg;
        static __thread char tid_ids[RUN_LEN][32];
        struct smx_mt mts[RUN_LEN];
        uint64_t base = 100000 + (uint64_t)t->k * PER_THREAD, next = 0;
        uint64_t deadline = it_now_ms() + 60000;
        while (next < PER_THREAD && it_now_ms() < deadline) {
                unsigned n = PER_THREAD - next < RUN_LEN ? (unsigned)(PER_THREAD - next) : RUN_LEN;
                for (unsigned i = 0; i < n; i++) {
                        snprintf(tid_ids[i], sizeof tid_ids[i], "mt-%llu",
                                 (unsigned long long)(base + next + i));
                        mts[i] = (struct smx_mt){ .id = tid_ids[i], .from = "12345",
                                                  .to = "447700900001", .text = "threads" };
                }
                int err = 0;
                int ok = smx_submit_n(E.c, mts, n, &err);
                next += (uint64_t)ok;
                if (err == SMX_EAGAIN) {
                        it_sleep_ms(1);
                } else if (err != 0) {
                        t->bad_error = err;
                        break;
                }
        }
        t->accepted = next;
        atomic_fetch_add(&finished, 1);
        return NULL;
}

static void test_runs_from_several_threads_each_get_one_outcome_per_mt(void)
{
        uint64_t before = E.submitted + E.failed;
        struct submitter t[THREADS];
        pthread_t th[THREADS];
        for (unsigned k = 0; k < THREADS; k++) {
                t[k] = (struct submitter){ .k = k };
                CHECK_EQ(pthread_create(&th[k], NULL, submit_thread, &t[k]), 0);
        }
        /* this thread consumes the events meanwhile, so outcomes free slots */
        uint64_t end = it_now_ms() + 90000;
        while (atomic_load(&finished) < THREADS && it_now_ms() < end)
                if (!it_pump(&E))
                        it_sleep_ms(1);
        uint64_t total = 0;
        for (unsigned k = 0; k < THREADS; k++) {
                pthread_join(th[k], NULL);
                CHECK_EQ(t[k].bad_error, 0);
                CHECK_EQ(t[k].accepted, PER_THREAD);
                total += t[k].accepted;
        }
        CHECK_EQ(it_wait_outcomes(&E, before + total, 30000), 1);
        CHECK_EQ(E.submitted + E.failed - before, total);
        uint64_t bad = 0;
        for (uint64_t k = 100000; k < 100000 + (uint64_t)THREADS * PER_THREAD; k++)
                if (E.outcomes_seen[k] != 1)
                        bad++;
        CHECK_EQ(bad, 0);
        CHECK_EQ(E.duplicates_outcome, 0);
        const char *j = it_summary(&E);
        CHECK_EQ(it_json_num(j, NULL, "violation_count"), 0);
}

static void test_run_after_drain_is_refused_with_estate(void)
{
        CHECK_EQ(smx_client_drain(E.c, 5000), 0);
        int err = 0;
        CHECK_EQ(smx_submit_n(E.c, make_run(3, 99), 3, &err), 0);
        CHECK_EQ(err, SMX_ESTATE);
}

int main(void)
{
        if (it_sim_start(&E, "dc1", 2, 31.0) < 0) {
                printf("Bail out! simulator did not start\n");
                return 1;
        }
        E.cfg.workers = 2;
        E.cfg.ingress_capacity = N_SLOTS;
        char err[256] = "";
        int rc = smx_client_create(&E.cfg, &E.c, err, sizeof err);
        if (rc < 0) {
                printf("Bail out! smx_client_create: %s (%s)\n", smx_strerror(rc), err);
                return 1;
        }
        RUN(test_empty_run_accepts_nothing_and_reports_no_error);
        RUN(test_whole_run_is_accepted);
        RUN(test_run_stops_at_a_bad_mt_with_its_error);
        RUN(test_run_stops_when_the_ingress_is_full);
        RUN(test_every_accepted_mt_of_the_runs_gets_one_outcome);
        RUN(test_runs_from_several_threads_each_get_one_outcome_per_mt);
        RUN(test_run_after_drain_is_refused_with_estate);
        it_stop(&E);
        return t_done();
}
