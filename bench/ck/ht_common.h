/* What bench_ck_corr and bench_ck_dedup share: the keys, a counting
 * allocator for ck's tables, each thread's epoch record, the fixed record
 * pools a ck table points into, the ck_hs / ck_rhs callbacks on a record's
 * key, the shard-count check, and the benchmark driver that runs the same
 * operations, at the same loads, on every table (ours and ck's).
 *
 * Keys. The stores key everything by a 128-bit hash (store/hash128.h), so
 * the keys are smx_hash128 of an index: key_at(i) for the live window (i
 * wraps in KEYSPACE), miss_at(i) for keys never put. The live window
 * [lo, hi) holds `load` % of the store's capacity; put and delete move it
 * (put hi.., delete lo..), so the load stays put for every operation.
 *
 * Concurrency model of the ck tables. ck_ht, ck_hs and ck_rhs are single
 * writer, many readers (SPMC): readers never lock, writers must be
 * serialised by the caller, and a removed object may still be read by a
 * reader until an epoch passes. Every worker writes these stores, so a ck
 * table here is what the library would have to build: the same shards as
 * ours (key.lo & 63), each a ck table plus a writer lock (store/lock.h) and
 * a fixed pool of records (no allocation per message), readers inside a
 * ck_epoch section, removed records retired with ck_epoch_call and put back
 * in their shard's pool (under its lock) once no reader can hold them.
 * All of that is in the measured cost. */
#ifndef BENCH_CK_HT_COMMON_H
#define BENCH_CK_HT_COMMON_H

#include <ck_epoch.h>
#include <ck_malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gbench_shim.h"
#include "store/hash128.h"
#include "store/lock.h"

#define CAP       (1u << 20)    /* the stores' default capacity (inbound.c) */
#define KEYSPACE  (1u << 22)    /* live keys (2 threads x 2^21 each) */
#define NMISS     (1u << 20)    /* keys never put (as many as live ones: not cache-resident) */
#define BATCH     4096u         /* puts/deletes timed between window moves */
#define NSHARDS   64u           /* smx_store_shards_for(CAP) */
#define XFER      (1u << 15)    /* churn ops per thread per 2-thread iteration */
#define NOW_MS    1000u

static struct smx_key128 *keys;

static void keys_init(void)
{
        if (keys)
                return;
        keys = aligned_alloc(64, (size_t)(KEYSPACE + NMISS) * sizeof *keys);
        if (!keys)
                abort();
        for (uint64_t i = 0; i < KEYSPACE + NMISS; i++)
                keys[i] = smx_hash128(&i, sizeof i, 0x636b6874);
}

static inline const struct smx_key128 *key_at(uint64_t i)
{
        return &keys[i & (KEYSPACE - 1)];
}

/* Key i of a window that wraps in `span` keys from `base`. */
static inline const struct smx_key128 *key_in(uint64_t base, uint64_t span, uint64_t i)
{
        return key_at(base + (i & (span - 1)));
}

static inline const struct smx_key128 *miss_at(uint64_t i)
{
        return &keys[KEYSPACE + (i & (NMISS - 1))];
}

/* ---- ck's allocator: counts the bytes ck's tables hold ---- */

static _Atomic size_t ck_bytes;

static void *cnt_malloc(size_t n)
{
        atomic_fetch_add(&ck_bytes, n);
        return malloc(n);
}

static void *cnt_realloc(void *p, size_t old, size_t n, bool defer)
{
        atomic_fetch_add(&ck_bytes, n);
        atomic_fetch_sub(&ck_bytes, old);
        return realloc(p, n);
}

/* A deferred free (a map replaced by a grow) must wait for an epoch; the
 * tables are sized at open so they never grow here: freed at once. */
static void cnt_free(void *p, size_t n, bool defer)
{
        atomic_fetch_sub(&ck_bytes, n);
        free(p);
}

static struct ck_malloc ck_alloc = { cnt_malloc, cnt_realloc, cnt_free };

/* ---- one worker thread's context ---- */

static ck_epoch_t bench_epoch;

struct wctx {
        ck_epoch_record_t rec;          /* this thread's epoch record */
        unsigned retired;               /* ck_epoch_call since the last poll */
        int registered;
};

static void wctx_enter(struct wctx *w)
{
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        pthread_once(&once, (void (*)(void))keys_init);
        static int epoch_ready;
        if (!__atomic_exchange_n(&epoch_ready, 1, __ATOMIC_ACQ_REL))
                ck_epoch_init(&bench_epoch);
        if (!w->registered) {
                ck_epoch_register(&bench_epoch, &w->rec, NULL);
                w->registered = 1;
        }
}

/* After a retire: run what no reader can hold any more, every 64 retires
 * (ck_epoch_poll scans every record). */
static inline void wctx_retired(struct wctx *w)
{
        if (++w->retired >= 64) {
                w->retired = 0;
                ck_epoch_poll(&w->rec);
        }
}

/* ---- a fixed pool of records per shard (guarded by the shard's lock) ---- */

struct rec_pool {
        char *recs;
        size_t rec_size;
        uint32_t *free_idx;
        uint32_t n_free, cap;
};

static int rec_pool_init(struct rec_pool *p, uint32_t cap, size_t rec_size)
{
        p->rec_size = rec_size;
        p->cap = cap;
        p->recs = aligned_alloc(64, ((size_t)cap * rec_size + 63) & ~(size_t)63);
        p->free_idx = malloc((size_t)cap * sizeof *p->free_idx);
        if (!p->recs || !p->free_idx)
                return -1;
        for (uint32_t i = 0; i < cap; i++)
                p->free_idx[i] = cap - 1 - i;
        p->n_free = cap;
        return 0;
}

static inline void *rec_get(struct rec_pool *p)
{
        if (p->n_free == 0)
                return NULL;
        return p->recs + (size_t)p->free_idx[--p->n_free] * p->rec_size;
}

static inline void rec_put(struct rec_pool *p, void *r)
{
        p->free_idx[p->n_free++] = (uint32_t)(((char *)r - p->recs) / p->rec_size);
}

static inline size_t rec_pool_bytes(const struct rec_pool *p)
{
        return (size_t)p->cap * (p->rec_size + sizeof *p->free_idx);
}

/* ---- ck_hs / ck_rhs callbacks: records start with their key ---- */

/* The key is already a hash: its high word is what ck is handed. */
static unsigned long key_hi_hash_cb(const void *o, unsigned long seed)
{
        return ((const struct smx_key128 *)o)->hi;
}

static bool key_eq_cb(const void *a, const void *b)
{
        return smx_key128_eq(a, b);
}

/* The program's ck shards mirror the store's: stop when the store's
 * shard count at CAP is no longer NSHARDS. */
static int shards_match(const char *prog, unsigned store_shards)
{
        if (store_shards == NSHARDS)
                return 1;
        fprintf(stderr, "%s: the store no longer has %u shards at %u\n", prog, NSHARDS, CAP);
        return 0;
}

/* ---- a table under test and the driver ---- */

/* What a table must do; `t` is the table, `w` the calling thread. put: a
 * new key (0, or -1 when its shard is at capacity); get / del: 1 when the
 * key was there. `v` is the store's value type, opaque here. */
struct impl {
        const char *name;
        void *(*open)(uint32_t capacity);
        int (*put)(void *t, struct wctx *w, const struct smx_key128 *k, const void *v);
        int (*get)(void *t, struct wctx *w, const struct smx_key128 *k, void *v);
        int (*del)(void *t, struct wctx *w, const struct smx_key128 *k);
        size_t (*bytes)(void *t);       /* memory the table holds */
        const void *val;                /* the value every put stores */
        size_t val_size;
};

/* A table filled to a load, kept across the runner's calls (every
 * benchmark leaves it at the same load). base: where its keys start. */
struct table_case {
        const struct impl *im;
        unsigned load_pct;
        uint64_t base;
        void *t;
        uint64_t lo, hi;                /* live window: keys [lo, hi) */
};

static struct wctx main_w;

static int fill(struct table_case *c, struct wctx *w, uint64_t base, uint64_t n)
{
        for (uint64_t i = base; i < base + n; i++)
                if (c->im->put(c->t, w, key_at(i), c->im->val) != 0)
                        return -1;
        return 0;
}

static int case_ready(struct table_case *c, struct gbench_state *st)
{
        wctx_enter(&main_w);
        if (c->t)
                return 0;
        c->t = c->im->open(CAP);
        c->lo = c->base;
        c->hi = c->base + (uint64_t)CAP * c->load_pct / 100;
        if (!c->t || fill(c, &main_w, c->lo, c->hi - c->lo) != 0) {
                gbench_skip_with_error(st, "open/fill failed");
                return -1;
        }
        return 0;
}

static void report(struct table_case *c, struct gbench_state *st, int64_t items, int64_t bad)
{
        gbench_set_items_processed(st, items);
        gbench_set_counter(st, "B_per_entry_at_cap", (double)c->im->bytes(c->t) / CAP);
        if (bad)
                gbench_skip_with_error(st, "an operation answered wrong");
}

/* Put the BATCH keys after the live window / delete the BATCH oldest in
 * it; the count of wrong answers. slide() then moves the window by BATCH. */
static inline int64_t put_batch(struct table_case *c)
{
        int64_t bad = 0;
        for (uint32_t j = 0; j < BATCH; j++)
                bad += c->im->put(c->t, &main_w, key_at(c->hi + j), c->im->val) != 0;
        return bad;
}

static inline int64_t del_batch(struct table_case *c)
{
        int64_t bad = 0;
        for (uint32_t j = 0; j < BATCH; j++)
                bad += c->im->del(c->t, &main_w, key_at(c->lo + j)) != 1;
        return bad;
}

static inline void slide(struct table_case *c)
{
        c->lo += BATCH;
        c->hi += BATCH;
}

/* put BATCH new keys (timed), then delete as many of the oldest (not). */
static void bm_put(struct gbench_state *st, void *arg)
{
        struct table_case *c = arg;
        int64_t bad = 0;
        if (case_ready(c, st))
                return;
        while (gbench_keep_running_batch(st, BATCH)) {
                bad += put_batch(c);
                gbench_pause_timing(st);
                bad += del_batch(c);
                slide(c);
                gbench_resume_timing(st);
        }
        report(c, st, gbench_iterations(st), bad);
}

/* delete the BATCH oldest keys (timed), then put as many new ones (not). */
static void bm_del(struct gbench_state *st, void *arg)
{
        struct table_case *c = arg;
        int64_t bad = 0;
        if (case_ready(c, st))
                return;
        while (gbench_keep_running_batch(st, BATCH)) {
                bad += del_batch(c);
                gbench_pause_timing(st);
                bad += put_batch(c);
                slide(c);
                gbench_resume_timing(st);
        }
        report(c, st, gbench_iterations(st), bad);
}

static void bm_get_hit(struct gbench_state *st, void *arg)
{
        struct table_case *c = arg;
        char v[256];
        int64_t bad = 0;
        if (case_ready(c, st))
                return;
        uint64_t n = c->hi - c->lo, i = 0;
        while (gbench_keep_running(st)) {
                bad += c->im->get(c->t, &main_w, key_at(c->lo + i), v) != 1;
                if (++i == n)
                        i = 0;
        }
        report(c, st, gbench_iterations(st), bad);
}

static void bm_get_miss(struct gbench_state *st, void *arg)
{
        struct table_case *c = arg;
        char v[256];
        int64_t bad = 0;
        if (case_ready(c, st))
                return;
        uint64_t i = 0;
        while (gbench_keep_running(st))
                bad += c->im->get(c->t, &main_w, miss_at(i++), v) != 0;
        report(c, st, gbench_iterations(st), bad);
}

/* One message's life at a steady load: put its key, look it up (its DR),
 * drop the oldest key (what expiry does). */
static inline int64_t churn_one(struct table_case *c, struct wctx *w, uint64_t base,
                                uint64_t span, uint64_t *lo, uint64_t *hi)
{
        char v[256];
        int64_t bad = c->im->put(c->t, w, key_in(base, span, *hi), c->im->val) != 0;
        bad += c->im->get(c->t, w, key_in(base, span, *hi), v) != 1;
        bad += c->im->del(c->t, w, key_in(base, span, *lo)) != 1;
        ++*lo;
        ++*hi;
        return bad;
}

static void bm_churn(struct gbench_state *st, void *arg)
{
        struct table_case *c = arg;
        int64_t bad = 0;
        if (case_ready(c, st))
                return;
        while (gbench_keep_running(st))
                bad += churn_one(c, &main_w, 0, KEYSPACE, &c->lo, &c->hi);
        report(c, st, gbench_iterations(st), bad);
}

/* Two threads churn the one shared table, each its own half of the live
 * keys (the main thread's wrap in [0, KEYSPACE / 2), the helper's in
 * [KEYSPACE / 2, KEYSPACE)): the shard locks (and for ck the
 * epoch records) are shared as in the library. */
struct churn2 {
        struct table_case *c;
        uint64_t lo, hi;
        int64_t bad;
};

static struct wctx helper_w;

static void *churn2_thread(void *arg)
{
        struct churn2 *h = arg;
        wctx_enter(&helper_w);
        for (uint32_t k = 0; k < XFER; k++)
                h->bad += churn_one(h->c, &helper_w, KEYSPACE / 2, KEYSPACE / 2, &h->lo, &h->hi);
        return NULL;
}

static void bm_churn2t(struct gbench_state *st, void *arg)
{
        struct table_case *c = arg;
        static struct churn2 h;
        int64_t bad = 0;
        if (case_ready(c, st))
                return;
        if (h.c != c) {         /* first run on this table: move half its keys */
                uint64_t half = (c->hi - c->lo) / 2;
                h = (struct churn2){ c, 0, half, 0 };
                for (uint64_t j = 0; j < half; j++)
                        bad += c->im->del(c->t, &main_w, key_at(c->lo + j)) != 1;
                c->lo += half;
                bad += fill(c, &main_w, KEYSPACE / 2, half) != 0;
        }
        while (gbench_keep_running(st)) {
                pthread_t t;
                pthread_create(&t, NULL, churn2_thread, &h);
                for (uint32_t k = 0; k < XFER; k++)
                        bad += churn_one(c, &main_w, 0, KEYSPACE / 2, &c->lo, &c->hi);
                pthread_join(t, NULL);
        }
        report(c, st, gbench_iterations(st) * 2 * XFER, bad + h.bad);
}

#define N_OPS 6
static const gbench_fn ops[N_OPS] = {
        bm_put, bm_get_hit, bm_get_miss, bm_del, bm_churn, bm_churn2t,
};

/* Register every op x load x impl, impls side by side per op; op_names
 * are what the store calls put, get hit, get miss, delete, churn, 2-thread
 * churn. The 2-thread churn runs at the higher load only, on its own
 * tables (its keys are split over two windows). */
static void register_all(const struct impl *const *impls, unsigned n_impls,
                         const char *const op_names[N_OPS])
{
        static const unsigned loads[] = { 50, 80 };
        for (unsigned o = 0; o < N_OPS; o++) {
                for (unsigned l = 0; l < 2; l++) {
                        int two = ops[o] == bm_churn2t;
                        if (two && loads[l] != 80)
                                continue;
                        for (unsigned i = 0; i < n_impls; i++) {
                                static struct table_case cases[3][8];
                                struct table_case *c = &cases[two ? 2 : l][i];
                                c->im = impls[i];
                                c->load_pct = two ? 80 : loads[l];
                                char name[128];
                                snprintf(name, sizeof name, "%s/load%u/%s", op_names[o],
                                         loads[l], impls[i]->name);
                                gbench_register(name, ops[o], c);
                        }
                }
        }
}

#endif
