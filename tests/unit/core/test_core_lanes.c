/* Lanes (src/ingress/lane.h): the per-thread way into the ingress.
 *
 * Ingress level: a lane refills its cache with one bundle and hands it back
 * at release; a full lane overflows to the shared ring and every MT is
 * popped once; a released lane is reused with its queued MTs; the
 * accounting counts MTs on lanes; bundles stay at most SMX_SLOT_BUNDLE.
 * Client level, against smsc-sim in-process: waves of threads submitting
 * and exiting while the client runs (every MT exactly one outcome, lanes
 * and their cached slots handed back at thread exit), a client destroyed
 * while threads hold lanes (then a new client used by the same thread),
 * and a drain at shutdown with MTs waiting on lanes. */
#include <pthread.h>
#include <stdatomic.h>

#include "core/client_int.h"
#include "ingress/lane.h"
#include "integration/core/itest.h"

/* ---- ingress level ---- */

/* Free slots, counted by taking them all (then given back). */
static uint32_t free_slots(struct smx_ingress *g)
{
        static uint32_t idx[1u << 14];
        uint32_t n = ingress_slot_take_n(g, idx, g->n_slots);
        for (uint32_t i = 0; i < n; i++)
                ingress_slot_free(g, idx[i]);
        return n;
}

static void test_lane_takes_a_bundle_and_hands_its_cache_back(void)
{
        struct smx_ingress g;
        CHECK_EQ(ingress_init(&g, 4096), 0);
        CHECK_EQ(g.bundle, SMX_SLOT_BUNDLE);
        struct smx_lane *l = lane_claim(&g);
        CHECK(l != NULL);
        uint32_t a = lane_take(l);
        CHECK(a < 4096);
        /* one bundle left the stack: the lane holds the other 31 */
        CHECK_EQ(l->cache_n, SMX_SLOT_BUNDLE - 1);
        CHECK_EQ(free_slots(&g), 4096 - SMX_SLOT_BUNDLE);
        lane_release(l);
        CHECK_EQ(free_slots(&g), 4095);
        ingress_slot_free(&g, a);
        CHECK_EQ(free_slots(&g), 4096);
        ingress_fini(&g);
}

static void test_a_full_lane_overflows_to_the_shared_ring_and_nothing_is_lost(void)
{
        enum { N = 8192 };      /* lane_cells = SMX_LANE_CELLS_MAX = 4096 */
        static struct smx_ingress g;
        CHECK_EQ(ingress_init(&g, N), 0);
        CHECK_EQ(g.lane_cells, SMX_LANE_CELLS_MAX);
        struct smx_lane *l = lane_claim(&g);
        CHECK(l != NULL);
        for (uint32_t i = 0; i < N; i++) {
                uint32_t idx = lane_take(l);
                CHECK(idx < N);
                if (idx >= N)
                        break;
                lane_publish_n(l, &idx, 1);
        }
        CHECK_EQ(lane_take(l), SMX_SLOT_NONE);
        CHECK_EQ(ingress_lanes_queued(&g), SMX_LANE_CELLS_MAX);
        CHECK_EQ(ingress_queued(&g), N);
        CHECK_EQ(ingress_pushed(&g), N);
        static uint8_t seen[N];
        uint32_t idx[64], n, popped = 0, twice = 0;
        while ((n = ingress_pop_n(&g, idx, 64)) > 0)
                for (uint32_t i = 0; i < n; i++) {
                        if (seen[idx[i]]++)
                                twice++;
                        popped++;
                }
        CHECK_EQ(popped, N);
        CHECK_EQ(twice, 0);
        lane_release(l);
        ingress_fini(&g);
}

static void test_a_released_lane_is_reused_with_its_queued_mts(void)
{
        struct smx_ingress g;
        CHECK_EQ(ingress_init(&g, 1024), 0);
        struct smx_lane *l = lane_claim(&g);
        uint32_t ids[10];
        for (int i = 0; i < 10; i++) {
                ids[i] = lane_take(l);
                lane_publish_n(l, &ids[i], 1);
        }
        lane_release(l);
        struct smx_lane *again = lane_claim(&g);
        CHECK(again == l);
        CHECK_EQ(atomic_load(&g.n_lanes), 1);
        uint32_t more = lane_take(again);
        lane_publish_n(again, &more, 1);
        CHECK_EQ(ingress_pushed(&g), 11);
        /* FIFO on the lane, across the two owners */
        for (int i = 0; i < 10; i++)
                CHECK_EQ(ingress_pop(&g), ids[i]);
        CHECK_EQ(ingress_pop(&g), more);
        CHECK_EQ(ingress_pop(&g), SMX_SLOT_NONE);
        lane_release(again);
        ingress_fini(&g);
}

static void test_lanes_run_out_at_the_maximum(void)
{
        struct smx_ingress g;
        CHECK_EQ(ingress_init(&g, 64), 0);
        for (uint32_t i = 0; i < SMX_LANES_MAX; i++)
                CHECK(lane_claim(&g) != NULL);
        CHECK(lane_claim(&g) == NULL);
        CHECK_EQ(atomic_load(&g.n_lanes), SMX_LANES_MAX);
        ingress_fini(&g);
}

static void test_a_freed_chain_goes_back_in_bundles_of_at_most_32(void)
{
        struct smx_ingress g;
        CHECK_EQ(ingress_init(&g, 2048), 0);
        static uint32_t idx[2048];
        CHECK_EQ(ingress_slot_take_n(&g, idx, 2048), 2048);
        struct smx_slot_chain ch = SMX_SLOT_CHAIN_EMPTY;
        for (uint32_t i = 0; i < 100; i++)
                ingress_chain_add(&g, &ch, idx[i]);
        ingress_chain_free(&g, &ch);
        uint32_t total = 0, n, bundles = 0;
        uint32_t head;
        static uint8_t seen[2048];
        while ((head = ingress_bundle_take(&g, &n)) != SMX_SLOT_NONE) {
                CHECK(n >= 1 && n <= SMX_SLOT_BUNDLE);
                bundles++;
                for (uint32_t k = 0, s = head; k < n; k++) {
                        CHECK(s < 2048);
                        if (s >= 2048)
                                break;
                        CHECK_EQ(seen[s]++, 0);
                        s = ingress_slot(&g, s)->free_next;
                        total++;
                }
        }
        CHECK_EQ(total, 100);
        CHECK_EQ(bundles, 4);   /* 100 = 32 + 32 + 32 + 4 */
        ingress_fini(&g);
}

/* ---- client level ---- */

static struct it_env E;

#define N_SLOTS 2048    /* fewer than waves * threads * its bundle (32) */
#define WAVES 8
#define PER_WAVE 9
#define PER_THREAD 400

struct sub {
        smx_client *c;
        uint64_t base;
        unsigned n;
        int use_n;              /* smx_submit_n instead of smx_submit */
        unsigned accepted;
        int bad;
};

static void *submitter(void *arg)
{
        struct sub *t = arg;
        char id[32];
        uint64_t deadline = it_now_ms() + 60000;
        while (t->accepted < t->n && it_now_ms() < deadline) {
                struct smx_mt mt[4];
                char ids[4][32];
                int rc;
                if (t->use_n) {
                        unsigned k = t->n - t->accepted < 4 ? t->n - t->accepted : 4;
                        for (unsigned i = 0; i < k; i++)
                                mt[i] = it_mt(t->base + t->accepted + i, ids[i], "lanes");
                        int err = 0;
                        t->accepted += (unsigned)smx_submit_n(t->c, mt, k, &err);
                        rc = err;
                } else {
                        mt[0] = it_mt(t->base + t->accepted, id, "lanes");
                        rc = smx_submit(t->c, &mt[0]);
                        if (rc == 0)
                                t->accepted++;
                }
                if (rc == SMX_EAGAIN)
                        it_sleep_ms(1);
                else if (rc != 0) {
                        t->bad = rc;
                        break;
                }
        }
        return NULL;
}

static void test_waves_of_threads_submitting_and_exiting_get_one_outcome_per_mt(void)
{
        uint64_t before = E.submitted + E.failed, total = 0;
        for (unsigned w = 0; w < WAVES; w++) {
                struct sub t[PER_WAVE];
                pthread_t th[PER_WAVE];
                for (unsigned k = 0; k < PER_WAVE; k++) {
                        t[k] = (struct sub){ .c = E.c, .n = PER_THREAD, .use_n = k & 1,
                                             .base = 1000 + (uint64_t)(w * PER_WAVE + k) * PER_THREAD };
                        CHECK_EQ(pthread_create(&th[k], NULL, submitter, &t[k]), 0);
                }
                for (unsigned k = 0; k < PER_WAVE; k++) {
                        while (pthread_tryjoin_np(th[k], NULL) != 0)
                                if (!it_pump(&E))
                                        it_sleep_ms(1);
                        CHECK_EQ(t[k].bad, 0);
                        CHECK_EQ(t[k].accepted, PER_THREAD);
                        total += t[k].accepted;
                }
        }
        CHECK_EQ(it_wait_outcomes(&E, before + total, 30000), 1);
        CHECK_EQ(E.submitted + E.failed - before, total);
        uint64_t bad = 0;
        for (uint64_t k = 1000; k < 1000 + (uint64_t)WAVES * PER_WAVE * PER_THREAD; k++)
                bad += E.outcomes_seen[k] != 1;
        CHECK_EQ(bad, 0);
        CHECK_EQ(E.duplicates_outcome, 0);
        CHECK_EQ(smx_client_in_flight(E.c), 0);
        /* exited threads' lanes were reused, their cached slots returned */
        CHECK(atomic_load(&E.c->ing.n_lanes) <= PER_WAVE + 1);
        /* (a worker returns a turn's slots after its outcomes are out) */
        uint64_t end = it_now_ms() + 2000;
        while (free_slots(&E.c->ing) != N_SLOTS && it_now_ms() < end)
                it_sleep_ms(5);
        CHECK_EQ(free_slots(&E.c->ing), N_SLOTS);
}

/* A thread that submits to one client, waits, then to another. */
struct hold {
        smx_client *c;
        _Atomic int step;       /* 1: submitted to c; 2: go on with c (new client) */
        int rc1, rc2;
};

static void *holder(void *arg)
{
        struct hold *h = arg;
        char id[32];
        struct smx_mt mt = it_mt(900000, id, "held");
        h->rc1 = smx_submit(h->c, &mt);
        atomic_store(&h->step, 1);
        while (atomic_load(&h->step) != 2)
                it_sleep_ms(1);
        h->rc2 = smx_submit(h->c, &mt);
        return NULL;
}

static void test_destroying_a_client_while_threads_hold_its_lanes(void)
{
        struct smx_config cfg = E.cfg;
        cfg.ingress_capacity = 64;
        smx_client *c1 = NULL, *c2 = NULL;
        char err[256];
        CHECK_EQ(smx_client_create(&cfg, &c1, err, sizeof err), 0);
        enum { T = 4 };
        struct hold h[T];
        pthread_t th[T];
        for (int k = 0; k < T; k++) {
                h[k] = (struct hold){ .c = c1 };
                CHECK_EQ(pthread_create(&th[k], NULL, holder, &h[k]), 0);
        }
        for (int k = 0; k < T; k++)
                while (atomic_load(&h[k].step) != 1)
                        it_sleep_ms(1);
        CHECK_EQ(atomic_load(&c1->ing.n_lanes), T);
        CHECK_EQ(smx_client_in_flight(c1), T);
        smx_client_destroy(c1);   /* 4 lanes held, an MT on each, 28 slots cached */
        /* a new client, maybe at the same address: the threads' cached
         * lane must not be taken for its own */
        CHECK_EQ(smx_client_create(&cfg, &c2, err, sizeof err), 0);
        for (int k = 0; k < T; k++) {
                h[k].c = c2;
                atomic_store(&h[k].step, 2);
        }
        for (int k = 0; k < T; k++) {
                pthread_join(th[k], NULL);
                CHECK_EQ(h[k].rc1, 0);
                CHECK_EQ(h[k].rc2, 0);
        }
        CHECK_EQ(smx_client_in_flight(c2), T);
        /* the threads exited: their lanes of c2 came back, slots with them */
        CHECK_EQ(free_slots(&c2->ing), 64 - T);
        uint32_t nl = atomic_load(&c2->ing.n_lanes);
        CHECK(nl >= 1 && nl <= T);
        struct smx_lane *l = lane_claim(&c2->ing);
        CHECK(l != NULL);
        CHECK_EQ(atomic_load(&c2->ing.n_lanes), nl);   /* a handed-back one */
        lane_release(l);
        smx_client_destroy(c2);
}

static void test_drain_at_shutdown_fails_mts_waiting_on_lanes_once_each(void)
{
        /* an SMSC nobody listens on: the MTs wait in the ingress */
        struct smx_smsc_config dead = E.smsc[0];
        dead.port = 1;
        struct smx_config cfg = E.cfg;
        cfg.smscs = &dead;
        cfg.n_smscs = 1;
        cfg.workers = 1;
        cfg.ingress_capacity = 1024;
        cfg.no_route_timeout_ms = 600000;
        struct it_env D;
        memset(&D, 0, sizeof D);
        D.outcomes_seen = calloc(IT_MAX_MT, sizeof *D.outcomes_seen);
        D.outcome = calloc(IT_MAX_MT, 1);
        D.fail_reason = calloc(IT_MAX_MT, 1);
        char err[256];
        CHECK_EQ(smx_client_create(&cfg, &D.c, err, sizeof err), 0);
        CHECK_EQ(smx_client_start(D.c), 0);
        enum { T = 3, EACH = 100 };
        struct sub t[T];
        pthread_t th[T];
        for (int k = 0; k < T; k++) {
                t[k] = (struct sub){ .c = D.c, .n = EACH, .use_n = k & 1,
                                     .base = 150000 + (uint64_t)k * EACH };
                CHECK_EQ(pthread_create(&th[k], NULL, submitter, &t[k]), 0);
        }
        for (int k = 0; k < T; k++) {
                pthread_join(th[k], NULL);
                CHECK_EQ(t[k].accepted, EACH);
        }
        CHECK_EQ(smx_client_in_flight(D.c), T * EACH);
        CHECK(ingress_lanes_queued(&D.c->ing) > 0);
        CHECK_EQ(smx_client_drain(D.c, 200), SMX_ETIMEDOUT);
        CHECK_EQ(smx_client_in_flight(D.c), 0);
        uint64_t end = it_now_ms() + 5000;
        while (D.failed < T * EACH && it_now_ms() < end)
                if (!it_pump(&D))
                        it_sleep_ms(2);
        CHECK_EQ(D.failed, T * EACH);
        CHECK_EQ(D.submitted, 0);
        uint64_t bad = 0;
        for (uint64_t k = 0; k < T * EACH; k++)
                bad += D.outcomes_seen[150000 + k] != 1 ||
                       D.fail_reason[150000 + k] != SMX_FAIL_SHUTDOWN;
        CHECK_EQ(bad, 0);
        CHECK_EQ(D.duplicates_outcome, 0);
        smx_client_destroy(D.c);
        free(D.outcomes_seen);
        free(D.outcome);
        free(D.fail_reason);
}

int main(void)
{
        RUN(test_lane_takes_a_bundle_and_hands_its_cache_back);
        RUN(test_a_full_lane_overflows_to_the_shared_ring_and_nothing_is_lost);
        RUN(test_a_released_lane_is_reused_with_its_queued_mts);
        RUN(test_lanes_run_out_at_the_maximum);
        RUN(test_a_freed_chain_goes_back_in_bundles_of_at_most_32);
        if (it_sim_start(&E, "dc1", 2, 31.0) < 0) {
                printf("Bail out! simulator did not start\n");
                return 1;
        }
        E.cfg.workers = 2;
        E.cfg.ingress_capacity = N_SLOTS;
        if (it_client_start(&E) < 0) {
                printf("Bail out! client did not start\n");
                return 1;
        }
        CHECK_EQ(it_wait_active(&E, E.n, 10000), 1);
        RUN(test_waves_of_threads_submitting_and_exiting_get_one_outcome_per_mt);
        RUN(test_destroying_a_client_while_threads_hold_its_lanes);
        RUN(test_drain_at_shutdown_fails_mts_waiting_on_lanes_once_each);
        it_stop(&E);
        return t_done();
}
