/* bench_ck_corr: the correlation store's table (src/store/corr_mem.c)
 * against Concurrency Kit's ck_ht, ck_hs and ck_rhs (ck 0.7.1), same
 * program, same run (issue 16 item 4).
 *
 * ours: the store's own code (corr_mem.c is compiled into this program, so
 *   put and get are the store's corr_put / corr_get, shard lock included;
 *   delete is what its expiry sweep does per entry: find + backward shift
 *   under the shard lock). 64 B slot per entry, 80 B per entry at capacity,
 *   no pointer to follow.
 * ck_ht / ck_hs / ck_rhs: the same 64 shards, each a ck table of pointers
 *   to fixed 88-byte records (key, MT serial, expiry, part/n_parts, the app
 *   id inline up to 24 bytes as ours, the epoch entry, the record's shard
 *   for the retire callback), sized at open for the shard's capacity so
 *   they never grow; a writer lock per shard, lock-free readers in an
 *   epoch section, removed records retired through ck_epoch (ht_common.h).
 *   ck_ht in CK_HT_MODE_BYTESTRING (the 16-byte key lives in the record)
 *   with CK_HT_WORKLOAD_DELETE; the hash handed to ck is key.hi (the key
 *   is already a hash), so no table rehashes a key.
 *
 * Key: the 128-bit hashed message id; value: MT serial + part 1/1 + a
 * 16-byte app id. Capacity 2^20 (the default), loads 50 % and 80 %.
 * Operations (ht_common.h): put, get hit, get miss, delete, churn (put a
 * new id + get it + delete the oldest, one MT's life), and that churn from
 * 2 threads on the one table. Counter B_per_entry_at_cap: the table's
 * bytes / capacity. Figures and decision: bench/README.md "ck or ours". */
#include <ck_ht.h>
#include <ck_hs.h>
#include <ck_rhs.h>
#include <stddef.h>

#include "ht_common.h"
#include "store/corr_mem.c"

static const struct smx_corr_val corr_v = {
        .mt_serial = 0x5e71a1, .part = 1, .n_parts = 1, .app_len = 16,
        .app_id = "app-000000000042",
};

/* ---- ours: the store itself ---- */

static void *ours_open(uint32_t cap)
{
        struct smx_corr_config cfg = { cap, 3600u * 1000u };
        struct smx_corr_store st;
        return smx_corr_mem_open(&cfg, &st) == 0 ? st.impl : NULL;
}

static int ours_put(void *t, struct wctx *w, const struct smx_key128 *k, const void *v)
{
        return corr_put(t, k, v, NOW_MS) == 0 ? 0 : -1;
}

static int ours_get(void *t, struct wctx *w, const struct smx_key128 *k, void *v)
{
        return corr_get(t, k, v, NOW_MS);
}

static int ours_del(void *t, struct wctx *w, const struct smx_key128 *k)
{
        struct corr_shard *s = shard_of(t, k);
        int found;
        smx_lock(&s->b.lock);
        uint32_t i = slot_find(s, k, &found);
        if (found)
                slot_delete(s, i);
        smx_unlock(&s->b.lock);
        return found;
}

static size_t ours_bytes(void *t)
{
        struct smx_corr_stats st;
        corr_stats(t, &st);
        return st.bytes;
}

static const struct impl ours = {
        "ours_corr_mem", ours_open, ours_put, ours_get, ours_del, ours_bytes, &corr_v,
        sizeof corr_v,
};

/* ---- ck: shards of a ck table + writer lock + records + epoch ---- */

enum { K_HT, K_HS, K_RHS };

struct ck_corr_shard;

struct ck_corr_rec {
        struct smx_key128 k;            /* first: ck_hs/ck_rhs compare a record with a key */
        uint64_t mt_serial, expires_ms;
        uint16_t part, n_parts;
        uint8_t final_state, app_len;
        char app[APP_INLINE];
        ck_epoch_entry_t ee;
        struct ck_corr_shard *home;
};

struct ck_corr_shard {
        _Alignas(64) smx_lock_t lock;   /* the writer lock: guards all below */
        uint32_t count, cap;
        struct rec_pool pool;
        union {
                ck_ht_t ht;
                ck_hs_t hs;
                ck_rhs_t rhs;
        } u;
};

struct ck_corr {
        int kind;
        size_t table_bytes;             /* ck's allocations at open */
        struct ck_corr_shard sh[NSHARDS];
};

static void ht_hash_cb(ck_ht_hash_t *h, const void *key, size_t len, uint64_t seed)
{
        h->value = ((const struct smx_key128 *)key)->hi;
}

static void *ck_open(int kind, uint32_t cap)
{
        struct ck_corr *c = aligned_alloc(64, sizeof *c);
        if (!c)
                return NULL;
        memset(c, 0, sizeof *c);
        c->kind = kind;
        size_t before = atomic_load(&ck_bytes);
        for (unsigned i = 0; i < NSHARDS; i++) {
                struct ck_corr_shard *s = &c->sh[i];
                smx_lock_init(&s->lock);
                s->cap = cap / NSHARDS;
                if (rec_pool_init(&s->pool, s->cap, sizeof(struct ck_corr_rec)) != 0)
                        return NULL;
                bool ok = false;
                if (kind == K_HT)
                        ok = ck_ht_init(&s->u.ht, CK_HT_MODE_BYTESTRING | CK_HT_WORKLOAD_DELETE,
                                        ht_hash_cb, &ck_alloc, 2 * s->cap, 1);
                else if (kind == K_HS)
                        ok = ck_hs_init(&s->u.hs, CK_HS_MODE_SPMC | CK_HS_MODE_OBJECT | CK_HS_MODE_DELETE,
                                        key_hi_hash_cb, key_eq_cb, &ck_alloc, 2 * s->cap, 1);
                else
                        ok = ck_rhs_init(&s->u.rhs, CK_RHS_MODE_SPMC | CK_RHS_MODE_OBJECT,
                                         key_hi_hash_cb, key_eq_cb, &ck_alloc, 2 * s->cap, 1);
                if (!ok)
                        return NULL;
        }
        c->table_bytes = atomic_load(&ck_bytes) - before;
        return c;
}

static void *ck_ht_open(uint32_t cap) { return ck_open(K_HT, cap); }
static void *ck_hs_open(uint32_t cap) { return ck_open(K_HS, cap); }
static void *ck_rhs_open(uint32_t cap) { return ck_open(K_RHS, cap); }

static inline struct ck_corr_shard *ck_shard(struct ck_corr *c, const struct smx_key128 *k)
{
        return &c->sh[k->lo & (NSHARDS - 1)];
}

static int ck_put(void *t, struct wctx *w, const struct smx_key128 *k, const void *vp)
{
        struct ck_corr *c = t;
        const struct smx_corr_val *v = vp;
        struct ck_corr_shard *s = ck_shard(c, k);
        bool ok = false;
        smx_lock(&s->lock);
        struct ck_corr_rec *r = s->count < s->cap ? rec_get(&s->pool) : NULL;
        if (r) {
                r->k = *k;
                r->mt_serial = v->mt_serial;
                r->expires_ms = NOW_MS + 3600u * 1000u;
                r->part = v->part;
                r->n_parts = v->n_parts;
                r->final_state = 0;
                r->app_len = v->app_len;
                memcpy(r->app, v->app_id, v->app_len);
                r->home = s;
                if (c->kind == K_HT) {
                        ck_ht_entry_t e;
                        ck_ht_hash_t h = { k->hi };
                        ck_ht_entry_set(&e, h, &r->k, sizeof r->k, r);
                        ok = ck_ht_put_spmc(&s->u.ht, h, &e);
                } else if (c->kind == K_HS) {
                        ok = ck_hs_put(&s->u.hs, k->hi, r);
                } else {
                        ok = ck_rhs_put(&s->u.rhs, k->hi, r);
                }
                if (ok)
                        s->count++;
                else
                        rec_put(&s->pool, r);
        }
        smx_unlock(&s->lock);
        return ok ? 0 : -1;
}

static int ck_get(void *t, struct wctx *w, const struct smx_key128 *k, void *vp)
{
        struct ck_corr *c = t;
        struct smx_corr_val *v = vp;
        struct ck_corr_shard *s = ck_shard(c, k);
        const struct ck_corr_rec *r = NULL;
        int found = 0;
        ck_epoch_begin(&w->rec, NULL);
        if (c->kind == K_HT) {
                ck_ht_entry_t e;
                ck_ht_hash_t h = { k->hi };
                ck_ht_entry_key_set(&e, k, sizeof *k);
                if (ck_ht_get_spmc(&s->u.ht, h, &e))
                        r = ck_ht_entry_value(&e);
        } else if (c->kind == K_HS) {
                r = ck_hs_get(&s->u.hs, k->hi, k);
        } else {
                r = ck_rhs_get(&s->u.rhs, k->hi, k);
        }
        if (r && r->expires_ms > NOW_MS) {
                v->mt_serial = r->mt_serial;
                v->part = r->part;
                v->n_parts = r->n_parts;
                v->app_len = r->app_len;
                memcpy(v->app_id, r->app, r->app_len);
                found = 1;
        }
        ck_epoch_end(&w->rec, NULL);
        return found;
}

/* After an epoch: the record goes back to its shard's pool. */
static void ck_rec_free(ck_epoch_entry_t *ee)
{
        struct ck_corr_rec *r = (void *)((char *)ee - offsetof(struct ck_corr_rec, ee));
        struct ck_corr_shard *s = r->home;
        smx_lock(&s->lock);
        rec_put(&s->pool, r);
        smx_unlock(&s->lock);
}

static int ck_del(void *t, struct wctx *w, const struct smx_key128 *k)
{
        struct ck_corr *c = t;
        struct ck_corr_shard *s = ck_shard(c, k);
        struct ck_corr_rec *r = NULL;
        smx_lock(&s->lock);
        if (c->kind == K_HT) {
                ck_ht_entry_t e;
                ck_ht_hash_t h = { k->hi };
                ck_ht_entry_key_set(&e, k, sizeof *k);
                if (ck_ht_remove_spmc(&s->u.ht, h, &e))
                        r = ck_ht_entry_value(&e);
        } else if (c->kind == K_HS) {
                r = ck_hs_remove(&s->u.hs, k->hi, k);
        } else {
                r = ck_rhs_remove(&s->u.rhs, k->hi, k);
        }
        if (r)
                s->count--;
        smx_unlock(&s->lock);
        if (!r)
                return 0;
        ck_epoch_call(&w->rec, &r->ee, ck_rec_free);
        wctx_retired(w);
        return 1;
}

static size_t ck_bytes_of(void *t)
{
        struct ck_corr *c = t;
        size_t n = sizeof *c + c->table_bytes;
        for (unsigned i = 0; i < NSHARDS; i++)
                n += rec_pool_bytes(&c->sh[i].pool);
        return n;
}

static const struct impl ck_ht_impl = {
        "ck_ht", ck_ht_open, ck_put, ck_get, ck_del, ck_bytes_of, &corr_v, sizeof corr_v,
};
static const struct impl ck_hs_impl = {
        "ck_hs", ck_hs_open, ck_put, ck_get, ck_del, ck_bytes_of, &corr_v, sizeof corr_v,
};
static const struct impl ck_rhs_impl = {
        "ck_rhs", ck_rhs_open, ck_put, ck_get, ck_del, ck_bytes_of, &corr_v, sizeof corr_v,
};

int main(int argc, char **argv)
{
        static const struct impl *const impls[] = { &ours, &ck_ht_impl, &ck_hs_impl, &ck_rhs_impl };
        if (!shards_match("bench_ck_corr", smx_store_shards_for(CAP)))
                return 1;
        static const char *const op_names[N_OPS] = {
                "put", "get_hit", "get_miss", "delete", "churn", "churn_2threads",
        };
        register_all(impls, sizeof impls / sizeof impls[0], op_names);
        return gbench_main(argc, argv);
}
