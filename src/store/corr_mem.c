/* In-process correlation store (store.h): normalised message_id -> MT
 * identity, shared by every worker.
 *
 * Layout. 2^k shards (smx_store_shards_for), shard = key.lo & (n-1). Each
 * shard is a linear-probing table of 64-byte slots (one cache line) sized
 * to its capacity x 3/2 (load <= 67 %; SLOTS_NUM / SLOTS_DEN) (home slot = key.hi scaled to the slot count, so no
 * power-of-two rounding), deletion by backward shift (no tombstones). A slot
 * holds the 128-bit key, the MT serial, the expiry, part/n_parts, the part's
 * first final DR state, and the app id inline when it is <= 24 bytes; a
 * longer one (up to SMX_ID_MAX = 64) lives in a per-shard pool of 64-byte
 * blocks (free list; chunks of 1024 blocks allocated on demand, never more
 * than the shard's capacity). So an entry costs one 64 B slot, 96 B of table
 * per entry at capacity, plus a 64 B block when its app id is long.
 *
 * Why 3/2 and not 5/4 (80 %, the dedup store's): entries leave only by
 * expiry (48 h by default), so a busy store sits at its capacity, and there
 * every put of a new key walks its run to a free slot: ~13 slots of 64 B at
 * 80 %, ~5 at 67 %. bench_e2e --dr 1, same run: 22 ns less library CPU per
 * DR-asking MT, lower in 5 of 5 pairs, for 16 B more per entry
 * (bench/README.md "CPU per MT, issue 16").
 *
 * A multipart MT (n_parts > 1) also has a merge record in the same table,
 * keyed by hash("merge", serial, app id): n_parts, a bitmap of the part
 * numbers already final (so a part resubmitted under a second message id
 * still counts once), their count, and the worst state. part_final() updates the part under its shard lock, then the merge
 * record under its own (never both at once, so no lock order to keep).
 * put waits for its shard locks; try_put gives up (-EBUSY) when one stays
 * held through a short spin, for a caller that can retry later.
 *
 * Capacity. `capacity` is split evenly over the shards; a shard refuses a
 * put (-ENOSPC, counted `full`) when it holds its share and none has
 * expired (so with skewed keys the first refusal comes a little before the
 * total reaches `capacity`). Expired entries are removed by the
 * timer (expire) and, when a put finds the shard full, by a sweep of that
 * shard, which also notes the earliest expiry left: until then a full shard
 * refuses in O(1) without sweeping again.
 *
 * Why not ck_ht / ck_hs / ck_rhs (Concurrency Kit): bench/ck/bench_ck_corr,
 * same run, 2^20 entries at 80 % (measured before the 3/2 sizing): put 115 ns vs 345-422, get hit 192 vs
 * 356-400, put + get + delete 368 vs 863-1349, 80 B per entry vs 110-158.
 * ck's tables hold pointers (a second cache miss per hit) and are single
 * writer: every worker writes, so the shard lock stays and an epoch comes
 * on top. bench/README.md "ck or ours". */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pdu/smpp_defs.h"
#include "store/store.h"
#include "store/table_mem.h"

#define APP_INLINE 24u
#define SLOTS_NUM 3u            /* slots per entry at capacity: 3/2 (why: above) */
#define SLOTS_DEN 2u
#define POOL_CHUNK 1024u
#define POOL_NONE  UINT32_MAX

enum { SLOT_FREE = 0, SLOT_PART, SLOT_MERGE };

/* One table slot (64 B). Guarded by its shard's lock. A part entry uses
 * u.p; a merge record uses u.m, with `part` counting the final parts and
 * `final_state` the worst so far. */
struct corr_slot {
        uint64_t lo, hi;
        uint64_t expires_ms;
        uint16_t part, n_parts;
        uint8_t kind;
        uint8_t final_state;
        uint8_t app_len;
        uint8_t app_ext;                /* 1: app id in the pool at u.p.app.ref */
        union {
                struct {
                        uint64_t mt_serial;
                        union {
                                char inl[APP_INLINE];
                                uint32_t ref;
                        } app;
                } p;
                struct {
                        uint64_t done[4];       /* bit k: part k+1 is final (parts 1..256) */
                } m;
        } u;
};
_Static_assert(sizeof(struct corr_slot) == 64, "corr slot must be one cache line");

/* 64-byte blocks for long app ids. Guarded by the shard lock. */
struct app_pool {
        char (**chunks)[SMX_ID_MAX];
        uint32_t n_chunks, max_chunks;
        uint32_t used;                  /* blocks handed out from chunks so far */
        uint32_t free_head;             /* free list threaded through blocks */
};

/* One shard; every field guarded by b.lock (table_mem.h). */
struct corr_shard {
        struct smx_shard_base b;
        struct corr_slot *slots;
        struct app_pool pool;
        uint64_t puts, hits, misses, full, expired;
};

/* The store: shared by every worker, immutable after open but for the shards. */
struct corr_mem {
        uint32_t ttl_ms;
        struct smx_table t;             /* shards are struct corr_shard */
};

/* ---- helpers ---- */

unsigned smx_store_shards_for(uint32_t capacity)
{
        unsigned n = 64;
        while (n > 1 && capacity / n < 256)
                n >>= 1;
        return n;
}

int smx_corr_state_is_final(uint8_t state)
{
        switch (state) {
        case SMPP_STATE_DELIVERED: case SMPP_STATE_EXPIRED: case SMPP_STATE_DELETED:
        case SMPP_STATE_UNDELIVERABLE: case SMPP_STATE_UNKNOWN: case SMPP_STATE_REJECTED:
                return 1;
        default:
                return 0;
        }
}

int smx_corr_state_rank(uint8_t state)
{
        switch (state) {
        case SMPP_STATE_DELIVERED: return 1;
        case SMPP_STATE_UNKNOWN: return 2;
        case SMPP_STATE_DELETED: return 3;
        case SMPP_STATE_EXPIRED: return 4;
        case SMPP_STATE_UNDELIVERABLE: return 5;
        case SMPP_STATE_REJECTED: return 6;
        default: return 0;
        }
}

static char *pool_block(struct app_pool *p, uint32_t ref)
{
        return p->chunks[ref / POOL_CHUNK][ref % POOL_CHUNK];
}

static uint32_t pool_alloc(struct app_pool *p)
{
        if (p->free_head != POOL_NONE) {
                uint32_t ref = p->free_head;
                memcpy(&p->free_head, pool_block(p, ref), sizeof p->free_head);
                return ref;
        }
        if (p->used == p->n_chunks * POOL_CHUNK) {
                if (p->n_chunks == p->max_chunks)
                        return POOL_NONE;
                char (*c)[SMX_ID_MAX] = malloc(POOL_CHUNK * sizeof *c);
                if (!c)
                        return POOL_NONE;
                p->chunks[p->n_chunks++] = c;
        }
        return p->used++;
}

static void pool_free(struct app_pool *p, uint32_t ref)
{
        memcpy(pool_block(p, ref), &p->free_head, sizeof p->free_head);
        p->free_head = ref;
}

static void slot_release(struct corr_shard *s, struct corr_slot *e)
{
        if (e->app_ext)
                pool_free(&s->pool, e->u.p.app.ref);
        e->app_ext = 0;
}

/* Remove slot i and shift the rest of its run back (linear probing). */
static void slot_delete(struct corr_shard *s, uint32_t i)
{
        slot_release(s, &s->slots[i]);
        uint32_t j = i;
        for (;;) {
                j = smx_slot_next(s->b.nslots, j);
                struct corr_slot *e = &s->slots[j];
                if (e->kind == SLOT_FREE)
                        break;
                if (smx_slot_may_fill(i, j, smx_slot_home(s->b.nslots, e->hi))) {
                        s->slots[i] = *e;
                        i = j;
                }
        }
        s->slots[i].kind = SLOT_FREE;
        s->slots[i].app_ext = 0;
        s->b.count--;
}

/* Index of k in the shard (*found = 1), or of the free slot where it would
 * go (*found = 0). The table is never full (count <= 67 % of the slots). */
static uint32_t slot_find(const struct corr_shard *s, const struct smx_key128 *k, int *found)
{
        uint32_t i = smx_slot_home(s->b.nslots, k->hi);
        for (;;) {
                const struct corr_slot *e = &s->slots[i];
                if (e->kind == SLOT_FREE) {
                        *found = 0;
                        return i;
                }
                if (e->lo == k->lo && e->hi == k->hi) {
                        *found = 1;
                        return i;
                }
                i = smx_slot_next(s->b.nslots, i);
        }
}

/* Remove every expired entry; note the earliest expiry left. */
static size_t shard_sweep(struct corr_shard *s, uint64_t now_ms)
{
        size_t n = 0;
        uint64_t earliest = UINT64_MAX;
        for (uint32_t i = 0; i < s->b.nslots;) {
                struct corr_slot *e = &s->slots[i];
                if (e->kind != SLOT_FREE && e->expires_ms <= now_ms) {
                        slot_delete(s, i);      /* slot i now holds a shifted entry: look again */
                        n++;
                        continue;
                }
                if (e->kind != SLOT_FREE && e->expires_ms < earliest)
                        earliest = e->expires_ms;
                i++;
        }
        s->expired += n;
        s->b.next_sweep_ms = earliest;
        return n;
}

static struct corr_shard *shard_of(struct corr_mem *m, const struct smx_key128 *k)
{
        return &((struct corr_shard *)m->t.shards)[k->lo & (m->t.n_shards - 1)];
}

/* Make room for one more entry; 0 or -ENOSPC. Lock held. */
static int shard_room(struct corr_shard *s, uint64_t now_ms)
{
        if (s->b.count < s->b.cap)
                return 0;
        if (now_ms >= s->b.next_sweep_ms)
                shard_sweep(s, now_ms);
        if (s->b.count < s->b.cap)
                return 0;
        s->full++;
        return -ENOSPC;
}

static void slot_set_app(struct corr_shard *s, struct corr_slot *e, const char *app, uint8_t len)
{
        slot_release(s, e);
        e->app_len = len;
        if (len <= APP_INLINE) {
                memcpy(e->u.p.app.inl, app, len);
                return;
        }
        uint32_t ref = pool_alloc(&s->pool);
        if (ref == POOL_NONE) {         /* out of memory: keep what fits inline */
                e->app_len = APP_INLINE;
                memcpy(e->u.p.app.inl, app, APP_INLINE);
                return;
        }
        memcpy(pool_block(&s->pool, ref), app, len);
        e->app_ext = 1;
        e->u.p.app.ref = ref;
}

static struct smx_key128 merge_key(uint64_t serial, const char *app, uint8_t len)
{
        static const char tag[] = "merge";
        struct smx_key128 k = smx_hash128(tag, sizeof tag, 0);
        k = smx_hash128_more(k, &serial, sizeof serial);
        return smx_hash128_more(k, app, len);
}

/* ---- ops ---- */

/* Take a shard lock: wait for it (put), or give up when it stays held
 * through `spins` tests (try_put: the holder may be preempted). */
#define WAIT UINT32_MAX

static int shard_lock(struct corr_shard *s, unsigned spins)
{
        if (spins == WAIT) {
                smx_lock(&s->b.lock);
                return 1;
        }
        return smx_trylock(&s->b.lock, spins);
}

/* The merge record of a multipart MT: create it once, keep its expiry
 * fresh. A full shard leaves the MT without one (part_final: merge_lost).
 * 0, or -EBUSY (try: its shard lock is held). */
static int merge_touch(struct corr_mem *m, const struct smx_corr_val *v, uint8_t alen,
                       uint64_t exp, uint64_t now_ms, unsigned spins)
{
        int found;
        struct smx_key128 mk = merge_key(v->mt_serial, v->app_id, alen);
        struct corr_shard *ms = shard_of(m, &mk);
        if (!shard_lock(ms, spins))
                return -EBUSY;
        uint32_t i = slot_find(ms, &mk, &found);
        if (!found && shard_room(ms, now_ms) == 0) {
                i = slot_find(ms, &mk, &found);
                struct corr_slot *e = &ms->slots[i];
                memset(e, 0, sizeof *e);
                e->lo = mk.lo;
                e->hi = mk.hi;
                e->kind = SLOT_MERGE;
                e->n_parts = v->n_parts;
                ms->b.count++;
                found = 1;
        }
        if (found) {
                ms->slots[i].expires_ms = exp;
                if (exp < ms->b.next_sweep_ms)
                        ms->b.next_sweep_ms = exp;
        }
        smx_unlock(&ms->b.lock);
        return 0;
}

static int put_part(struct corr_mem *m, const struct smx_key128 *k, const struct smx_corr_val *v,
                    uint64_t now_ms, unsigned spins)
{
        struct corr_shard *s = shard_of(m, k);
        uint64_t exp = now_ms + m->ttl_ms;
        uint8_t alen = v->app_len > SMX_ID_MAX ? SMX_ID_MAX : v->app_len;
        int found, rc = 0;

        /* Merge record first: once a part entry is visible, a DR racing on
         * another worker must find the record its part_final merges into. */
        if (v->n_parts > 1 && merge_touch(m, v, alen, exp, now_ms, spins) != 0)
                return -EBUSY;

        if (!shard_lock(s, spins))
                return -EBUSY;
        uint32_t i = slot_find(s, k, &found);
        if (!found) {
                rc = shard_room(s, now_ms);
                if (rc == 0) {
                        i = slot_find(s, k, &found);  /* a sweep may have moved things */
                        s->b.count++;
                }
        }
        if (rc == 0) {
                struct corr_slot *e = &s->slots[i];
                if (!found) {
                        e->lo = k->lo;
                        e->hi = k->hi;
                        e->app_ext = 0;
                }
                if (!found || e->u.p.mt_serial != v->mt_serial)
                        e->final_state = 0;     /* an id reused for another MT */
                e->kind = SLOT_PART;
                e->u.p.mt_serial = v->mt_serial;
                e->expires_ms = exp;
                e->part = v->part;
                e->n_parts = v->n_parts;
                slot_set_app(s, e, v->app_id, alen);
                if (exp < s->b.next_sweep_ms)
                        s->b.next_sweep_ms = exp;
                s->puts++;
        }
        smx_unlock(&s->b.lock);
        return rc;
}

static int corr_put(void *impl, const struct smx_key128 *k, const struct smx_corr_val *v,
                    uint64_t now_ms)
{
        return put_part(impl, k, v, now_ms, WAIT);
}

static int corr_try_put(void *impl, const struct smx_key128 *k, const struct smx_corr_val *v,
                        uint64_t now_ms, unsigned spins)
{
        return put_part(impl, k, v, now_ms, spins < WAIT ? spins : WAIT - 1);
}

static int corr_get(void *impl, const struct smx_key128 *k, struct smx_corr_val *v,
                    uint64_t now_ms)
{
        struct corr_mem *m = impl;
        struct corr_shard *s = shard_of(m, k);
        int found;

        smx_lock(&s->b.lock);
        uint32_t i = slot_find(s, k, &found);
        if (found && s->slots[i].kind == SLOT_PART && s->slots[i].expires_ms > now_ms) {
                const struct corr_slot *e = &s->slots[i];
                v->mt_serial = e->u.p.mt_serial;
                v->part = e->part;
                v->n_parts = e->n_parts;
                v->app_len = e->app_len;
                memcpy(v->app_id, e->app_ext ? pool_block(&s->pool, e->u.p.app.ref) : e->u.p.app.inl,
                       e->app_len);
                s->hits++;
                found = 1;
        } else {
                found = 0;
                s->misses++;
        }
        smx_unlock(&s->b.lock);
        return found;
}

static int corr_part_final(void *impl, const struct smx_key128 *k, uint8_t state,
                           uint64_t now_ms, struct smx_corr_final *out)
{
        struct corr_mem *m = impl;
        struct corr_shard *s = shard_of(m, k);
        uint64_t serial = 0;
        uint16_t n_parts = 0, part_no = 0;
        uint8_t alen = 0;
        char app[SMX_ID_MAX];
        int found;

        memset(out, 0, sizeof *out);
        smx_lock(&s->b.lock);
        uint32_t i = slot_find(s, k, &found);
        if (found && (s->slots[i].kind != SLOT_PART || s->slots[i].expires_ms <= now_ms))
                found = 0;
        if (found) {
                struct corr_slot *e = &s->slots[i];
                if (e->final_state == 0 && smx_corr_state_is_final(state)) {
                        e->final_state = state;
                        out->newly_final = 1;
                        serial = e->u.p.mt_serial;
                        n_parts = e->n_parts;
                        part_no = e->part;
                        alen = e->app_len;
                        memcpy(app, e->app_ext ? pool_block(&s->pool, e->u.p.app.ref) : e->u.p.app.inl,
                               alen);
                }
        }
        smx_unlock(&s->b.lock);
        if (!found || !out->newly_final)
                return found;
        if (n_parts <= 1) {
                out->mt_final = 1;
                out->mt_state = state;
                return 1;
        }

        struct smx_key128 mk = merge_key(serial, app, alen);
        struct corr_shard *ms = shard_of(m, &mk);
        smx_lock(&ms->b.lock);
        i = slot_find(ms, &mk, &found);
        if (found && ms->slots[i].kind == SLOT_MERGE) {
                struct corr_slot *e = &ms->slots[i];
                /* count each part number once, even if two entries (a part
                 * resubmitted under a new message id) both turn final */
                int fresh = 1;
                if (part_no >= 1 && part_no <= 256) {
                        uint64_t bit = 1ull << ((part_no - 1) % 64);
                        fresh = !(e->u.m.done[(part_no - 1) / 64] & bit);
                        e->u.m.done[(part_no - 1) / 64] |= bit;
                }
                if (fresh && smx_corr_state_rank(state) > smx_corr_state_rank(e->final_state))
                        e->final_state = state;
                if (fresh && e->part < e->n_parts)
                        e->part++;
                if (fresh && e->part == e->n_parts) {
                        out->mt_final = 1;
                        out->mt_state = e->final_state;
                }
        } else {
                out->merge_lost = 1;
        }
        smx_unlock(&ms->b.lock);
        return 1;
}

static size_t corr_timer_sweep(struct smx_shard_base *b, uint64_t now_ms)
{
        return shard_sweep((struct corr_shard *)b, now_ms);
}

static size_t corr_expire(void *impl, unsigned part, unsigned n_parts, uint64_t now_ms)
{
        struct corr_mem *m = impl;
        return smx_table_expire(&m->t, part, n_parts, now_ms, corr_timer_sweep);
}

/* The table geometry never changes after open: reading it without the lock
 * is safe; the slots are only prefetched. A probe reads the key's home slot
 * and, at the table's usual load (up to 67 %), the slots after it: the home
 * slot and the next PREFETCH_SLOTS - 1 are loaded (a put of a new key in a
 * full shard walks its whole run). */
/* 8, measured (bench/README.md "CPU per MT, issue 16"): against 4, 11 ns
 * less library CPU per DR-asking MT in a full store (lower in 5 of 5
 * pairs); 6 was not better than 8, and 16 cost 65 ns more (the line fill
 * buffers run out: a batch of resps prefetches for 16 puts at once), both
 * measured at 80 % load, where a put of a new key walks ~13 slots (~5 at
 * the 67 % of SLOTS_NUM / SLOTS_DEN); the hardware's streamer takes over
 * the rest of a long run. */
#define PREFETCH_SLOTS 8u

static void corr_prefetch(void *impl, const struct smx_key128 *k)
{
        struct corr_mem *m = impl;
        const struct corr_shard *s = shard_of(m, k);
        uint32_t i = smx_slot_home(s->b.nslots, k->hi);
        for (unsigned n = 0; n < PREFETCH_SLOTS; n++) {
                __builtin_prefetch(&s->slots[i]);
                i = smx_slot_next(s->b.nslots, i);
        }
}

static void corr_stats(void *impl, struct smx_corr_stats *st)
{
        struct corr_mem *m = impl;
        memset(st, 0, sizeof *st);
        for (unsigned i = 0; i < m->t.n_shards; i++) {
                struct corr_shard *s = (struct corr_shard *)smx_table_shard(&m->t, i);
                smx_lock(&s->b.lock);
                smx_shard_base_sum(&s->b, &st->entries, &st->capacity, &st->slots);
                st->bytes += (uint64_t)s->b.nslots * sizeof(struct corr_slot)
                             + (uint64_t)s->pool.n_chunks * POOL_CHUNK * SMX_ID_MAX
                             + (uint64_t)s->pool.max_chunks * sizeof *s->pool.chunks;
                st->puts += s->puts;
                st->hits += s->hits;
                st->misses += s->misses;
                st->full += s->full;
                st->expired += s->expired;
                smx_unlock(&s->b.lock);
        }
        st->bytes += sizeof *m + (uint64_t)m->t.n_shards * m->t.shard_size;
}

static void corr_destroy(void *impl)
{
        struct corr_mem *m = impl;
        if (!m)
                return;
        for (unsigned i = 0; m->t.shards && i < m->t.n_shards; i++) {
                struct corr_shard *s = (struct corr_shard *)smx_table_shard(&m->t, i);
                for (uint32_t c = 0; c < s->pool.n_chunks; c++)
                        free(s->pool.chunks[c]);
                free(s->pool.chunks);
        }
        smx_table_close(&m->t);
        free(m);
}

static const struct smx_corr_ops corr_mem_ops = {
        .name = "memory",
        .put = corr_put,
        .try_put = corr_try_put,
        .get = corr_get,
        .part_final = corr_part_final,
        .expire = corr_expire,
        .prefetch = corr_prefetch,
        .stats = corr_stats,
        .destroy = corr_destroy,
};

int smx_corr_mem_open(const struct smx_corr_config *cfg, struct smx_corr_store *out)
{
        if (!cfg || cfg->capacity == 0 || !out)
                return -EINVAL;
        struct corr_mem *m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        m->ttl_ms = cfg->ttl_ms;
        if (smx_table_open(&m->t, cfg->capacity, sizeof(struct corr_shard),
                           sizeof(struct corr_slot), SLOTS_NUM, SLOTS_DEN) != 0) {
                free(m);
                return -ENOMEM;
        }
        for (unsigned i = 0; i < m->t.n_shards; i++) {
                struct corr_shard *s = (struct corr_shard *)smx_table_shard(&m->t, i);
                s->slots = smx_table_slots(&m->t, i);
                s->pool.free_head = POOL_NONE;
                s->pool.max_chunks = (s->b.cap + POOL_CHUNK - 1) / POOL_CHUNK;
                s->pool.chunks = calloc(s->pool.max_chunks, sizeof *s->pool.chunks);
                if (!s->pool.chunks) {
                        corr_destroy(m);
                        return -ENOMEM;
                }
        }
        out->ops = &corr_mem_ops;
        out->impl = m;
        return 0;
}
