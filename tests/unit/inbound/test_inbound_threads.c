/* Several worker threads on one inbound instance at once: the same DRs
 * arrive on different workers (and before their submit_sm_resp), the stores
 * are hammered concurrently, and every DR still reaches the app exactly once
 * and correlated. Run under ASan in CI; the shared state is only touched
 * under shard locks or through atomics. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>

#include "inbound_fixture.h"
#include "inbound/inbound_int.h"
#include "store/store.h"

#define W 4
#define N_MT 12000

struct counts {
        _Atomic uint32_t delivered, accepted_state, mt_final, wrong;
};
static struct counts cnt[N_MT];
static _Atomic uint64_t uncorrelated;

static struct smx_inbound *g_in;
static _Atomic unsigned workers_done;
static struct smx_bind_info g_bind[W];

enum { OP_ACCEPT, OP_DR, OP_DR_ACCEPTED };
struct op {
        uint8_t kind, part;
        uint32_t mt;
};

static int mt_parts(uint32_t mt)
{
        return mt % 5 == 0 ? 2 : 1;
}

static void msgid_of(uint32_t mt, int part, char *buf, size_t cap)
{
        snprintf(buf, cap, "M%u-%d", mt, part);
}

static void consume(struct smx_event_ring *ring)
{
        struct smx_ev_rec *e;
        while ((e = event_ring_peek(ring)) != NULL) {
                if (e->type == SMX_EV_DR) {
                        if (!(e->flags & SMX_EVF_HAS_ID)) {
                                atomic_fetch_add(&uncorrelated, 1);
                        } else {
                                unsigned mt = (unsigned)atoi(e->id + 3);
                                char want[32];
                                snprintf(want, sizeof want, "app%u", mt);
                                if (mt >= N_MT || strcmp(want, e->id) != 0) {
                                        if (mt < N_MT)
                                                atomic_fetch_add(&cnt[mt].wrong, 1);
                                } else {
                                        if (e->state == SMX_DR_DELIVERED)
                                                atomic_fetch_add(&cnt[mt].delivered, 1);
                                        if (e->state == SMX_DR_ACCEPTED)
                                                atomic_fetch_add(&cnt[mt].accepted_state, 1);
                                        if (e->flags & SMX_EVF_MT_FINAL)
                                                atomic_fetch_add(&cnt[mt].mt_final, 1);
                                }
                        }
                }
                event_ring_release(ring);
        }
}

struct worker_arg {
        unsigned k;
        struct op *ops;
        size_t n_ops;
};

static void *worker(void *arg)
{
        struct worker_arg *a = arg;
        struct smx_event_ring *ring = event_ring_create(256);
        struct smx_pdu p;
        char id[32], app[32];
        for (size_t i = 0; i < a->n_ops; i++) {
                const struct op *o = &a->ops[i];
                msgid_of(o->mt, o->part, id, sizeof id);
                if (o->kind == OP_ACCEPT) {
                        snprintf(app, sizeof app, "app%u", o->mt);
                        int rc;
                        while ((rc = inbound_on_accepted_w(g_in, &g_bind[a->k], (const uint8_t *)id,
                                                           strlen(id), app, strlen(app), o->mt,
                                                           (uint16_t)(o->part - 1),
                                                           (uint16_t)mt_parts(o->mt),
                                                           ring, 1000)) < 0)
                                consume(ring);
                } else {
                        fx_dr(&p, id, o->kind == OP_DR ? SMPP_STATE_DELIVERED : SMPP_STATE_ACCEPTED,
                              NULL);
                        /* RX_T_APPN: the SMSC re-sends; do as it would */
                        while (inbound_on_deliver_w(g_in, &g_bind[a->k], &p, ring, 1000) !=
                               SMPP_ESME_ROK)
                                consume(ring);
                }
                if ((i & 7) == 0)
                        consume(ring);
        }
        /* Then tick as a worker does until it stops: parked DRs whose resp
         * landed while a ring was full are delivered by their shard's owner,
         * and staged correlation puts are published, possibly by another
         * worker after this one ran out of operations. Stop once every
         * worker is done and nothing is left parked or staged (bounded:
         * the counts below then show what was stuck). */
        atomic_fetch_add(&workers_done, 1);
        for (int round = 0; round < 200000; round++) {
                consume(ring);
                inbound_tick_w(g_in, a->k, W, ring, 1001);
                consume(ring);
                if (atomic_load(&workers_done) == W && round >= 4) {
                        struct smx_inbound_stats st;
                        inbound_stats(g_in, &st);
                        if (st.park_now == 0 && !stage_pending(g_in))
                                break;
                }
                sched_yield();
        }
        consume(ring);
        event_ring_destroy(ring);
        return NULL;
}

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void)
{
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        return rng_state;
}

static void test_dr_once_per_state_across_racing_workers(void)
{
        struct smx_inbound_config c;
        inbound_config_init(&c);
        c.park_timeout_ms = 1000000;    /* no DR may time out here */
        c.corr_capacity = 1u << 16;
        g_in = inbound_create(&c);
        for (unsigned k = 0; k < W; k++)
                g_bind[k].index = (uint16_t)k;
        static struct op ops[W][N_MT * 8];
        struct worker_arg args[W];
        for (unsigned k = 0; k < W; k++)
                args[k] = (struct worker_arg){ k, ops[k], 0 };
        for (uint32_t mt = 0; mt < N_MT; mt++) {
                for (int part = 1; part <= mt_parts(mt); part++) {
                        struct op a = { OP_ACCEPT, (uint8_t)part, mt };
                        struct op d = { OP_DR, (uint8_t)part, mt };
                        struct op ac = { OP_DR_ACCEPTED, (uint8_t)part, mt };
                        unsigned k = mt % W;
                        args[k].ops[args[k].n_ops++] = a;
                        /* the same DR on two other workers (lost resp, re-send) */
                        args[(k + 1) % W].ops[args[(k + 1) % W].n_ops++] = d;
                        args[(k + 2) % W].ops[args[(k + 2) % W].n_ops++] = d;
                        if (mt % 3 == 0 && part == 1)
                                args[(k + 3) % W].ops[args[(k + 3) % W].n_ops++] = ac;
                }
        }
        for (unsigned k = 0; k < W; k++)        /* shuffle: DRs often beat their resp */
                for (size_t i = args[k].n_ops; i > 1; i--) {
                        size_t j = rnd() % i;
                        struct op t = args[k].ops[i - 1];
                        args[k].ops[i - 1] = args[k].ops[j];
                        args[k].ops[j] = t;
                }
        pthread_t th[W];
        for (unsigned k = 0; k < W; k++)
                pthread_create(&th[k], NULL, worker, &args[k]);
        for (unsigned k = 0; k < W; k++)
                pthread_join(th[k], NULL);

        struct smx_inbound_stats st;
        inbound_stats(g_in, &st);
        int bad = 0;
        for (uint32_t mt = 0; mt < N_MT; mt++) {
                unsigned want_deliv = (unsigned)mt_parts(mt);
                unsigned want_acc = mt % 3 == 0 ? 1 : 0;
                if (cnt[mt].delivered != want_deliv || cnt[mt].accepted_state != want_acc ||
                    cnt[mt].mt_final != 1 || cnt[mt].wrong != 0) {
                        if (bad++ < 5)
                                printf("# mt %u: delivered %u accepted %u final %u wrong %u\n",
                                       mt, cnt[mt].delivered, cnt[mt].accepted_state,
                                       cnt[mt].mt_final, cnt[mt].wrong);
                }
        }
        CHECK_EQ(bad, 0);
        CHECK_EQ(atomic_load(&uncorrelated), 0);
        CHECK_EQ(st.park_now, 0);
        CHECK(st.dr_duplicates > 0);
        printf("# parked %llu matched %llu dups %llu busy %llu ring_full %llu staged %llu "
               "waited %llu\n",
               (unsigned long long)st.parked, (unsigned long long)st.park_matched,
               (unsigned long long)st.dr_duplicates, (unsigned long long)st.busy,
               (unsigned long long)st.ring_full, (unsigned long long)st.corr_staged,
               (unsigned long long)st.corr_waited);
        inbound_destroy(g_in);
}

/* ---- the stores alone ---- */

static struct smx_corr_store g_corr;
static struct smx_dedup_store g_dedup;
#define KEYS 20000
static _Atomic uint32_t claimed_new[KEYS];
static _Atomic uint64_t corrupt;

static void *store_worker(void *arg)
{
        unsigned k = (unsigned)(uintptr_t)arg;
        char id[32];
        for (int round = 0; round < 2; round++)
                for (uint32_t i = 0; i < KEYS; i++) {
                        uint32_t x = (i * 7919u + k * 104729u) % KEYS;
                        snprintf(id, sizeof id, "key-%u", x);
                        struct smx_key128 key = smx_hash128(id, strlen(id), 0);
                        if (x % W == k && round == 0) {
                                struct smx_corr_val v = { .mt_serial = x, .part = 1, .n_parts = 1 };
                                v.app_len = (uint8_t)snprintf(v.app_id, sizeof v.app_id,
                                                              "application-identity-%u", x);
                                CHECK_EQ(g_corr.ops->put(g_corr.impl, &key, &v, 0), 0);
                        }
                        struct smx_corr_val got;
                        if (g_corr.ops->get(g_corr.impl, &key, &got, 0)) {
                                char want[SMX_ID_MAX + 1];
                                int l = snprintf(want, sizeof want, "application-identity-%u", x);
                                if (got.mt_serial != x || got.app_len != l ||
                                    memcmp(got.app_id, want, (size_t)l) != 0)
                                        atomic_fetch_add(&corrupt, 1);
                        }
                        enum smx_dedup_claim c;
                        while ((c = g_dedup.ops->claim(g_dedup.impl, &key, 0)) == SMX_DEDUP_BUSY)
                                ;
                        if (c == SMX_DEDUP_NEW) {
                                atomic_fetch_add(&claimed_new[x], 1);
                                /* abort a few first: someone else must then win it */
                                if ((x + (unsigned)round) % 11 == 0 && round == 0 && k == 0)
                                        g_dedup.ops->abort(g_dedup.impl, &key),
                                        atomic_fetch_sub(&claimed_new[x], 1);
                                else
                                        g_dedup.ops->commit(g_dedup.impl, &key, 0);
                        }
                }
        return NULL;
}

static void test_stores_hammered_by_threads_stay_consistent(void)
{
        struct smx_corr_config cc = { .capacity = KEYS * 2, .ttl_ms = 1000000 };
        struct smx_dedup_config dc = { .capacity = KEYS * 2, .window_ms = 1000000 };
        CHECK_EQ(smx_corr_mem_open(&cc, &g_corr), 0);
        CHECK_EQ(smx_dedup_mem_open(&dc, &g_dedup), 0);
        pthread_t th[W];
        for (unsigned k = 0; k < W; k++)
                pthread_create(&th[k], NULL, store_worker, (void *)(uintptr_t)k);
        for (unsigned k = 0; k < W; k++)
                pthread_join(th[k], NULL);
        CHECK_EQ(atomic_load(&corrupt), 0);
        int wrong = 0;
        for (uint32_t i = 0; i < KEYS; i++)
                if (claimed_new[i] != 1)
                        wrong++;
        CHECK_EQ(wrong, 0);
        struct smx_corr_stats cs;
        g_corr.ops->stats(g_corr.impl, &cs);
        CHECK_EQ(cs.entries, KEYS);
        g_corr.ops->destroy(g_corr.impl);
        g_dedup.ops->destroy(g_dedup.impl);
}

int main(void)
{
        RUN(test_dr_once_per_state_across_racing_workers);
        RUN(test_stores_hammered_by_threads_stay_consistent);
        return t_done();
}
