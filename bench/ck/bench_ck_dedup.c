/* bench_ck_dedup: the dedup window's table (src/store/dedup_mem.c) against
 * Concurrency Kit's ck_hs and ck_rhs (ck 0.7.1; sets, what the window is),
 * same program, same run (issue 16 item 4).
 *
 * What the inbound path does with the window, per DR/MO identity:
 *   claim_commit_new  claim a new identity, then commit it (every DR/MO);
 *   claim_seen        claim one committed before: SEEN (a re-send);
 *   claim_abort_new   claim a new identity, then abort (could not queue);
 *   delete            drop an identity (what the expiry sweep does each);
 *   churn             claim+commit a new one, a re-send of it, drop the
 *                     oldest; and that from 2 threads on the one window.
 * ours: the store's own code (dedup_mem.c compiled in): dedup_claim /
 *   dedup_commit / dedup_abort, each under its shard lock; delete = find +
 *   backward shift under the lock (the sweep's step). 24 B slot, 30 B per
 *   identity at capacity.
 * ck_hs / ck_rhs: the same 64 shards, each a ck set of pointers to 48-byte
 *   records (key, expiry word with the pending bit, epoch entry, the
 *   record's shard), a writer lock per shard (ht_common.h). Given every
 *   advantage SPMC allows: a claim that finds its identity answers SEEN or
 *   BUSY without the lock (in an epoch section); only a new identity takes
 *   the writer lock (look again, insert); commit is a lock-free store of the
 *   expiry into the claimer's own record; abort and delete take the lock
 *   and retire the record through ck_epoch.
 * Capacity 2^20 (the default), loads 50 % and 80 %. Counter
 * B_per_entry_at_cap: the table's bytes / capacity. Figures and decision:
 * bench/README.md "ck or ours". */
#include <ck_hs.h>
#include <ck_rhs.h>
#include <stddef.h>

#include "ht_common.h"
#include "store/corr_mem.c"     /* smx_store_shards_for */
#include "store/dedup_mem.c"

#define WINDOW_MS (3600u * 1000u)

/* ---- ours: the window itself ---- */

static void *ours_open(uint32_t cap)
{
        struct smx_dedup_config cfg = { cap, WINDOW_MS };
        struct smx_dedup_store st;
        return smx_dedup_mem_open(&cfg, &st) == 0 ? st.impl : NULL;
}

static int ours_put(void *t, struct wctx *w, const struct smx_key128 *k, const void *v)
{
        if (dedup_claim(t, k, NOW_MS) != SMX_DEDUP_NEW)
                return -1;
        dedup_commit(t, k, NOW_MS);
        return 0;
}

/* 1: SEEN; 0: it was new (claimed, then aborted); 2: BUSY (never here) */
static int ours_get(void *t, struct wctx *w, const struct smx_key128 *k, void *v)
{
        enum smx_dedup_claim rc = dedup_claim(t, k, NOW_MS);
        if (rc == SMX_DEDUP_NEW)
                dedup_abort(t, k);
        return rc == SMX_DEDUP_SEEN ? 1 : rc == SMX_DEDUP_NEW ? 0 : 2;
}

static int ours_del(void *t, struct wctx *w, const struct smx_key128 *k)
{
        struct dedup_shard *s = dshard_of(t, k);
        int found;
        smx_lock(&s->b.lock);
        uint32_t i = dslot_find(s, k, &found);
        if (found)
                dslot_delete(s, i);
        smx_unlock(&s->b.lock);
        return found;
}

static size_t ours_bytes(void *t)
{
        struct smx_dedup_stats st;
        dedup_stats(t, &st);
        return st.bytes;
}

static const struct impl ours = {
        "ours_dedup_mem", ours_open, ours_put, ours_get, ours_del, ours_bytes, NULL, 0,
};

/* ---- ck ---- */

enum { K_HS, K_RHS };

struct ck_dd_shard;

struct ck_dd_rec {
        struct smx_key128 k;            /* first: the set compares a record with a key */
        _Atomic uint64_t exp;           /* expiry ms | PENDING */
        ck_epoch_entry_t ee;
        struct ck_dd_shard *home;
};

struct ck_dd_shard {
        _Alignas(64) smx_lock_t lock;   /* the writer lock: guards all below */
        uint32_t count, cap;
        struct rec_pool pool;
        union {
                ck_hs_t hs;
                ck_rhs_t rhs;
        } u;
};

struct ck_dd {
        int kind;
        size_t table_bytes;
        struct ck_dd_shard sh[NSHARDS];
};

static void *ck_open(int kind, uint32_t cap)
{
        struct ck_dd *c = aligned_alloc(64, sizeof *c);
        if (!c)
                return NULL;
        memset(c, 0, sizeof *c);
        c->kind = kind;
        size_t before = atomic_load(&ck_bytes);
        for (unsigned i = 0; i < NSHARDS; i++) {
                struct ck_dd_shard *s = &c->sh[i];
                smx_lock_init(&s->lock);
                s->cap = cap / NSHARDS;
                if (rec_pool_init(&s->pool, s->cap, sizeof(struct ck_dd_rec)) != 0)
                        return NULL;
                bool ok = kind == K_HS
                        ? ck_hs_init(&s->u.hs, CK_HS_MODE_SPMC | CK_HS_MODE_OBJECT | CK_HS_MODE_DELETE,
                                     key_hi_hash_cb, key_eq_cb, &ck_alloc, 2 * s->cap, 1)
                        : ck_rhs_init(&s->u.rhs, CK_RHS_MODE_SPMC | CK_RHS_MODE_OBJECT,
                                      key_hi_hash_cb, key_eq_cb, &ck_alloc, 2 * s->cap, 1);
                if (!ok)
                        return NULL;
        }
        c->table_bytes = atomic_load(&ck_bytes) - before;
        return c;
}

static void *ck_hs_open(uint32_t cap) { return ck_open(K_HS, cap); }
static void *ck_rhs_open(uint32_t cap) { return ck_open(K_RHS, cap); }

static inline struct ck_dd_shard *ck_shard(struct ck_dd *c, const struct smx_key128 *k)
{
        return &c->sh[k->lo & (NSHARDS - 1)];
}

static inline struct ck_dd_rec *set_get(struct ck_dd *c, struct ck_dd_shard *s,
                                        const struct smx_key128 *k)
{
        return c->kind == K_HS ? ck_hs_get(&s->u.hs, k->hi, k) : ck_rhs_get(&s->u.rhs, k->hi, k);
}

static enum smx_dedup_claim answer(uint64_t e)
{
        return (e & PENDING) ? SMX_DEDUP_BUSY : e > NOW_MS ? SMX_DEDUP_SEEN : SMX_DEDUP_NEW;
}

static enum smx_dedup_claim ck_claim(struct ck_dd *c, struct wctx *w, const struct smx_key128 *k)
{
        struct ck_dd_shard *s = ck_shard(c, k);
        enum smx_dedup_claim rc = SMX_DEDUP_NEW;
        ck_epoch_begin(&w->rec, NULL);
        struct ck_dd_rec *r = set_get(c, s, k);
        if (r)
                rc = answer(atomic_load_explicit(&r->exp, memory_order_acquire));
        ck_epoch_end(&w->rec, NULL);
        if (rc != SMX_DEDUP_NEW)
                return rc;

        smx_lock(&s->lock);
        r = set_get(c, s, k);
        uint64_t claim = ((NOW_MS + WINDOW_MS) & EXP_MASK) | PENDING;
        if (r) {
                rc = answer(atomic_load_explicit(&r->exp, memory_order_relaxed));
                if (rc == SMX_DEDUP_NEW)        /* expired, not swept: claim afresh */
                        atomic_store_explicit(&r->exp, claim, memory_order_release);
        } else if (s->count < s->cap && (r = rec_get(&s->pool)) != NULL) {
                r->k = *k;
                atomic_store_explicit(&r->exp, claim, memory_order_relaxed);
                r->home = s;
                bool ok = c->kind == K_HS ? ck_hs_put(&s->u.hs, k->hi, r)
                                          : ck_rhs_put(&s->u.rhs, k->hi, r);
                if (ok) {
                        s->count++;
                } else {
                        rec_put(&s->pool, r);
                        rc = SMX_DEDUP_BUSY;
                }
        } else {
                rc = SMX_DEDUP_BUSY;    /* full: eviction is not measured here */
        }
        smx_unlock(&s->lock);
        return rc;
}

/* Only the claimer commits its record: a lock-free store. */
static void ck_commit(struct ck_dd *c, struct wctx *w, const struct smx_key128 *k)
{
        struct ck_dd_shard *s = ck_shard(c, k);
        ck_epoch_begin(&w->rec, NULL);
        struct ck_dd_rec *r = set_get(c, s, k);
        if (r)
                atomic_store_explicit(&r->exp, (NOW_MS + WINDOW_MS) & EXP_MASK,
                                      memory_order_release);
        ck_epoch_end(&w->rec, NULL);
}

static void ck_rec_free(ck_epoch_entry_t *ee)
{
        struct ck_dd_rec *r = (void *)((char *)ee - offsetof(struct ck_dd_rec, ee));
        struct ck_dd_shard *s = r->home;
        smx_lock(&s->lock);
        rec_put(&s->pool, r);
        smx_unlock(&s->lock);
}

static int ck_remove(struct ck_dd *c, struct wctx *w, const struct smx_key128 *k)
{
        struct ck_dd_shard *s = ck_shard(c, k);
        smx_lock(&s->lock);
        struct ck_dd_rec *r = c->kind == K_HS ? ck_hs_remove(&s->u.hs, k->hi, k)
                                              : ck_rhs_remove(&s->u.rhs, k->hi, k);
        if (r)
                s->count--;
        smx_unlock(&s->lock);
        if (!r)
                return 0;
        ck_epoch_call(&w->rec, &r->ee, ck_rec_free);
        wctx_retired(w);
        return 1;
}

static int ck_put(void *t, struct wctx *w, const struct smx_key128 *k, const void *v)
{
        if (ck_claim(t, w, k) != SMX_DEDUP_NEW)
                return -1;
        ck_commit(t, w, k);
        return 0;
}

static int ck_get(void *t, struct wctx *w, const struct smx_key128 *k, void *v)
{
        enum smx_dedup_claim rc = ck_claim(t, w, k);
        if (rc == SMX_DEDUP_NEW)
                ck_remove(t, w, k);     /* abort */
        return rc == SMX_DEDUP_SEEN ? 1 : rc == SMX_DEDUP_NEW ? 0 : 2;
}

static int ck_del(void *t, struct wctx *w, const struct smx_key128 *k)
{
        return ck_remove(t, w, k);
}

static size_t ck_bytes_of(void *t)
{
        struct ck_dd *c = t;
        size_t n = sizeof *c + c->table_bytes;
        for (unsigned i = 0; i < NSHARDS; i++)
                n += rec_pool_bytes(&c->sh[i].pool);
        return n;
}

static const struct impl ck_hs_impl = {
        "ck_hs", ck_hs_open, ck_put, ck_get, ck_del, ck_bytes_of, NULL, 0,
};
static const struct impl ck_rhs_impl = {
        "ck_rhs", ck_rhs_open, ck_put, ck_get, ck_del, ck_bytes_of, NULL, 0,
};

int main(int argc, char **argv)
{
        static const struct impl *const impls[] = { &ours, &ck_hs_impl, &ck_rhs_impl };
        static const char *const op_names[N_OPS] = {
                "claim_commit_new", "claim_seen", "claim_abort_new", "delete", "churn",
                "churn_2threads",
        };
        if (!shards_match("bench_ck_dedup", smx_store_shards_for(CAP)))
                return 1;
        register_all(impls, sizeof impls / sizeof impls[0], op_names);
        return gbench_main(argc, argv);
}
