/* Inbound path and store benchmarks (figures in bench/README.md "## Inbound").
 *
 *   inbound/dr_path/drain_inline     decoded DR deliver_sm (receipted_message_id,
 *                                    message_state, 100-char receipt text) ->
 *                                    dedup claim -> correlate -> event committed
 *                                    -> dedup commit; the same thread releases
 *                                    the events every 64 DRs
 *   inbound/dr_path/consumer_thread  the same, with a second thread draining
 *                                    the ring as smx_events_poll would
 *   inbound/accepted                 inbound_on_accepted_w: normalise, put, park check
 *   inbound/mo_single                single-part UTF-8 MO -> event
 *   store/corr_get/10M               correlation lookups of random present keys
 *                                    in a store holding 10 M entries (counters:
 *                                    bytes per entry, load)
 *   store/corr_put/10M               puts into that store (replacing)
 *
 * Every DR has a fresh (id, state) so dedup never short-cuts the path.
 * Run: bench_inbound --benchmark_min_time=1
 *
 * Not a gbench run (the shim runs one thread):
 *   bench_inbound --accepted-threads N [--seconds S] [--same-ids]
 * N threads call inbound_on_accepted_w on one instance for S seconds (default
 * 5), each with its own bind and event ring, as N workers would. Ids are
 * disjoint per thread, or with --same-ids every thread walks the same ids at
 * once (SMSCs that each number their ids from 1: every put of one thread
 * meets the other's on the same shard). Prints key=value lines: total MT/s,
 * wall ns per put per thread (threads x seconds / puts), CPU ns per put,
 * and how many puts met a held shard lock (corr_staged: published later;
 * corr_waited: waited for it). */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events/event_ring.h"
#include "gbench_shim.h"
#include "inbound/inbound.h"
#include "pdu/pdu.h"
#include "store/store.h"

#define K_IDS (1u << 20)
#define ID_LEN 10

static char *ids;               /* K_IDS ids of ID_LEN hex digits, back to back */
static struct smx_inbound *g_in;
static const struct smx_bind_info g_bind = { .index = 0, .name = "smsc1.dc3", .site = "dc3" };
static uint64_t g_now = 1000;

static const char *id_at(uint32_t i)
{
        return ids + (size_t)(i % K_IDS) * ID_LEN;
}

static void setup_inbound(void)
{
        if (g_in)
                return;
        ids = malloc((size_t)K_IDS * ID_LEN);
        for (uint32_t i = 0; i < K_IDS; i++) {
                char tmp[16];
                snprintf(tmp, sizeof tmp, "%010x", i * 2654435761u);
                memcpy(ids + (size_t)i * ID_LEN, tmp, ID_LEN);
        }
        struct smx_inbound_config c;
        inbound_config_init(&c);
        c.corr_capacity = K_IDS + K_IDS / 2;
        g_in = inbound_create(&c);
        struct smx_event_ring *r = event_ring_create(1024);
        for (uint32_t i = 0; i < K_IDS; i++) {
                char app[24];
                int l = snprintf(app, sizeof app, "order-%u", i);
                inbound_on_accepted_w(g_in, &g_bind, (const uint8_t *)id_at(i), ID_LEN, app,
                                      (size_t)l, i, 0, 1, r, g_now);
        }
        event_ring_destroy(r);
}

static const char receipt[] = "id:0123456789 sub:001 dlvrd:001 submit date:2401011200 "
                              "done date:2401011201 stat:DELIVRD err:000 text:hello";
static const uint8_t states[6] = { SMPP_STATE_ENROUTE, SMPP_STATE_ACCEPTED,
                                   SMPP_STATE_DELIVERED, SMPP_STATE_UNKNOWN,
                                   SMPP_STATE_EXPIRED, SMPP_STATE_UNDELIVERABLE };
static uint64_t dr_seq;         /* walks (id, state) so every DR is new */

static void dr_pdu(struct smx_pdu *p, uint64_t n)
{
        p->tlv.receipted_message_id.p = (const uint8_t *)id_at((uint32_t)n);
        p->tlv.message_state = states[(n / K_IDS) % 6];
}

static void dr_template(struct smx_pdu *p)
{
        memset(p, 0, sizeof *p);
        p->h.command_id = SMPP_DELIVER_SM;
        p->u.sm.source_addr = (struct smx_bytes){ (const uint8_t *)"12025550100", 11 };
        p->u.sm.destination_addr = (struct smx_bytes){ (const uint8_t *)"447700900000", 12 };
        p->u.sm.esm_class = SMPP_ESM_TYPE_SMSC_DR;
        p->u.sm.short_message = (struct smx_bytes){ (const uint8_t *)receipt, sizeof receipt - 1 };
        p->tlv.present = SMX_TLV_RECEIPTED_MESSAGE_ID | SMX_TLV_MESSAGE_STATE;
        p->tlv.receipted_message_id.len = ID_LEN;
}

static void bm_dr_inline(struct gbench_state *st, void *arg)
{
        setup_inbound();
        struct smx_event_ring *ring = event_ring_create(4096);
        struct smx_pdu p;
        int64_t bad = 0;
        dr_template(&p);
        while (gbench_keep_running_batch(st, 64)) {
                for (int i = 0; i < 64; i++) {
                        dr_pdu(&p, dr_seq++);
                        if (inbound_on_deliver_w(g_in, &g_bind, &p, ring, g_now) != SMPP_ESME_ROK)
                                bad++;
                }
                g_now += (dr_seq & 1023) < 64;  /* ~1000 DRs per simulated ms */
                while (event_ring_peek(ring))
                        event_ring_release(ring);
        }
        gbench_set_items_processed(st, gbench_iterations(st));
        gbench_set_counter(st, "not_ok", (double)bad);
        event_ring_destroy(ring);
}

struct consumer {
        struct smx_event_ring *ring;
        _Atomic int stop;
        uint64_t seen;
};

static void *consumer_main(void *arg)
{
        struct consumer *c = arg;
        for (;;) {
                struct smx_ev_rec *e = event_ring_peek(c->ring);
                if (e) {
                        gbench_do_not_optimize(e->id);
                        event_ring_release(c->ring);
                        c->seen++;
                        continue;
                }
                if (atomic_load_explicit(&c->stop, memory_order_acquire))
                        return NULL;
                __builtin_ia32_pause();
        }
}

static void bm_dr_consumer(struct gbench_state *st, void *arg)
{
        setup_inbound();
        struct consumer c = { .ring = event_ring_create(4096) };
        pthread_t th;
        struct smx_pdu p;
        int64_t retries = 0;
        dr_template(&p);
        pthread_create(&th, NULL, consumer_main, &c);
        while (gbench_keep_running_batch(st, 64)) {
                for (int i = 0; i < 64; i++) {
                        dr_pdu(&p, dr_seq++);
                        /* ring full -> RX_T_APPN: the SMSC re-sends later; a
                         * worker would meanwhile serve its other binds */
                        while (inbound_on_deliver_w(g_in, &g_bind, &p, c.ring, g_now) !=
                               SMPP_ESME_ROK) {
                                retries++;
                                sched_yield();
                        }
                }
                g_now += (dr_seq & 1023) < 64;
        }
        atomic_store_explicit(&c.stop, 1, memory_order_release);
        pthread_join(th, NULL);
        gbench_set_items_processed(st, gbench_iterations(st));
        gbench_set_counter(st, "ring_full_retries", (double)retries);
        event_ring_destroy(c.ring);
}

static void bm_accepted(struct gbench_state *st, void *arg)
{
        setup_inbound();
        struct smx_event_ring *ring = event_ring_create(1024);
        uint32_t i = 0;
        while (gbench_keep_running(st)) {
                inbound_on_accepted_w(g_in, &g_bind, (const uint8_t *)id_at(i), ID_LEN,
                                      "order-application-id", 20, i, 0, 1, ring, g_now);
                i++;
        }
        gbench_set_items_processed(st, gbench_iterations(st));
        event_ring_destroy(ring);
}

static void bm_mo_single(struct gbench_state *st, void *arg)
{
        setup_inbound();
        struct smx_event_ring *ring = event_ring_create(4096);
        struct smx_pdu p;
        char text[64];
        memset(&p, 0, sizeof p);
        p.h.command_id = SMPP_DELIVER_SM;
        p.u.sm.source_addr = (struct smx_bytes){ (const uint8_t *)"447700900000", 12 };
        p.u.sm.destination_addr = (struct smx_bytes){ (const uint8_t *)"12025550100", 11 };
        uint64_t n = 0;
        while (gbench_keep_running_batch(st, 64)) {
                for (int i = 0; i < 64; i++) {
                        int l = snprintf(text, sizeof text, "STOP %llu please, h\xc3\xa9llo",
                                         (unsigned long long)n++);
                        p.u.sm.short_message = (struct smx_bytes){ (const uint8_t *)text, (uint16_t)l };
                        inbound_on_deliver_w(g_in, &g_bind, &p, ring, g_now);
                }
                while (event_ring_peek(ring))
                        event_ring_release(ring);
        }
        gbench_set_items_processed(st, gbench_iterations(st));
        event_ring_destroy(ring);
}

/* ---- the correlation store at 10 M entries ---- */

#define BIG (10u * 1000u * 1000u)
static struct smx_corr_store big;
static int big_ready;

static struct smx_key128 big_key(uint32_t i)
{
        char id[24];
        int l = snprintf(id, sizeof id, "%u", i * 2654435761u);
        return smx_hash128(id, (size_t)l, 0);
}

static void setup_big(void)
{
        if (big_ready)
                return;
        /* capacity is enforced per shard: 3 % slack so skew refuses none */
        struct smx_corr_config c = { .capacity = BIG + BIG / 32, .ttl_ms = 48u * 3600u * 1000u };
        if (smx_corr_mem_open(&c, &big) != 0)
                abort();
        struct smx_corr_val v = { .part = 1, .n_parts = 1 };
        for (uint32_t i = 0; i < BIG; i++) {
                struct smx_key128 k = big_key(i);
                v.mt_serial = i;
                v.app_len = (uint8_t)snprintf(v.app_id, sizeof v.app_id, "order-%u", i);
                big.ops->put(big.impl, &k, &v, 1);
        }
        big_ready = 1;
}

static void big_counters(struct gbench_state *st)
{
        struct smx_corr_stats cs;
        big.ops->stats(big.impl, &cs);
        gbench_set_counter(st, "entries", (double)cs.entries);
        gbench_set_counter(st, "bytes_per_entry", (double)cs.bytes / (double)cs.entries);
        gbench_set_counter(st, "load", (double)cs.entries / (double)cs.slots);
}

static void bm_corr_get(struct gbench_state *st, void *arg)
{
        setup_big();
        /* keys precomputed so the hash is not what we time */
        enum { NK = 1 << 16 };
        static struct smx_key128 keys[NK];
        uint64_t x = 88172645463325252ull;
        for (int i = 0; i < NK; i++) {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                keys[i] = big_key((uint32_t)(x % BIG));
        }
        struct smx_corr_val v;
        int64_t hits = 0;
        uint32_t i = 0;
        while (gbench_keep_running(st))
                hits += big.ops->get(big.impl, &keys[i++ & (NK - 1)], &v, 2);
        gbench_set_items_processed(st, gbench_iterations(st));
        gbench_set_counter(st, "hit_ratio", (double)hits / (double)gbench_iterations(st));
        big_counters(st);
}

static void bm_corr_put(struct gbench_state *st, void *arg)
{
        setup_big();
        struct smx_corr_val v = { .part = 1, .n_parts = 1, .app_len = 12 };
        memcpy(v.app_id, "order-replay", 12);
        uint32_t i = 0;
        while (gbench_keep_running(st)) {
                struct smx_key128 k = big_key(i++ % BIG);
                big.ops->put(big.impl, &k, &v, 2);
        }
        gbench_set_items_processed(st, gbench_iterations(st));
        big_counters(st);
}

/* ---- accepted MTs from several threads at once ---- */

struct acc_thread {
        pthread_t th;
        unsigned k, n_threads;
        int same_ids;
        uint64_t puts, refused;
        double cpu_s;
};

static pthread_barrier_t acc_start;
static _Atomic int acc_stop;

static double thread_cpu_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *acc_main(void *arg)
{
        struct acc_thread *t = arg;
        struct smx_event_ring *ring = event_ring_create(1024);
        struct smx_bind_info bind = { .index = (uint16_t)t->k, .name = "smsc", .site = "dc" };
        uint32_t i = t->same_ids ? 0 : t->k;
        uint32_t step = t->same_ids ? 1 : t->n_threads;
        pthread_barrier_wait(&acc_start);
        double c0 = thread_cpu_s();
        while (!atomic_load_explicit(&acc_stop, memory_order_relaxed)) {
                for (int b = 0; b < 64; b++) {
                        int r = inbound_on_accepted_w(g_in, &bind, (const uint8_t *)id_at(i), ID_LEN,
                                                      "order-application-id", 20, i, 0, 1, ring,
                                                      g_now);
                        t->refused += r < 0;
                        i += step;
                }
                t->puts += 64;
                while (event_ring_peek(ring))
                        event_ring_release(ring);
        }
        t->cpu_s = thread_cpu_s() - c0;
        event_ring_destroy(ring);
        return NULL;
}

static double wall_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int run_accepted_threads(unsigned n, double seconds, int same_ids)
{
        struct acc_thread t[16];
        if (n == 0 || n > 16 || seconds <= 0) {
                fprintf(stderr, "--accepted-threads 1..16, --seconds > 0\n");
                return 2;
        }
        setup_inbound();
        pthread_barrier_init(&acc_start, NULL, n + 1);
        for (unsigned k = 0; k < n; k++) {
                t[k] = (struct acc_thread){ .k = k, .n_threads = n, .same_ids = same_ids };
                pthread_create(&t[k].th, NULL, acc_main, &t[k]);
        }
        pthread_barrier_wait(&acc_start);
        double w0 = wall_s();
        struct timespec d = { (time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9) };
        nanosleep(&d, NULL);
        atomic_store_explicit(&acc_stop, 1, memory_order_relaxed);
        uint64_t puts = 0, refused = 0;
        double cpu = 0;
        for (unsigned k = 0; k < n; k++) {
                pthread_join(t[k].th, NULL);
                puts += t[k].puts;
                refused += t[k].refused;
                cpu += t[k].cpu_s;
        }
        double el = wall_s() - w0;
        pthread_barrier_destroy(&acc_start);
        printf("threads=%u\nids=%s\nseconds=%.2f\nputs=%llu\nrefused=%llu\n", n,
               same_ids ? "same" : "disjoint", el, (unsigned long long)puts,
               (unsigned long long)refused);
        printf("mt_per_s=%.0f\nwall_ns_per_put=%.1f\ncpu_ns_per_put=%.1f\ncpu_share=%.2f\n",
               (double)puts / el, el * n * 1e9 / (double)puts, cpu * 1e9 / (double)puts,
               cpu / (el * n));
        struct smx_inbound_stats st;
        inbound_stats(g_in, &st);
        printf("corr_staged=%llu\ncorr_waited=%llu\n", (unsigned long long)st.corr_staged,
               (unsigned long long)st.corr_waited);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc > 1 && strcmp(argv[1], "--accepted-threads") == 0) {
                unsigned n = argc > 2 ? (unsigned)atoi(argv[2]) : 0;
                double seconds = 5;
                int same = 0;
                for (int a = 3; a < argc; a++) {
                        if (strcmp(argv[a], "--seconds") == 0 && a + 1 < argc)
                                seconds = atof(argv[++a]);
                        else if (strcmp(argv[a], "--same-ids") == 0)
                                same = 1;
                        else
                                return fprintf(stderr, "unknown argument %s\n", argv[a]), 2;
                }
                int rc = run_accepted_threads(n, seconds, same);
                inbound_destroy(g_in);
                free(ids);
                return rc;
        }
        gbench_register("inbound/dr_path/drain_inline", bm_dr_inline, NULL);
        gbench_register("inbound/dr_path/consumer_thread", bm_dr_consumer, NULL);
        gbench_register("inbound/accepted", bm_accepted, NULL);
        gbench_register("inbound/mo_single", bm_mo_single, NULL);
        gbench_register("store/corr_get/10M", bm_corr_get, NULL);
        gbench_register("store/corr_put/10M", bm_corr_put, NULL);
        int rc = gbench_main(argc, argv);
        if (big_ready)
                big.ops->destroy(big.impl);
        inbound_destroy(g_in);
        free(ids);
        return rc;
}
