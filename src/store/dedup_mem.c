/* In-process dedup window (store.h): the DR and MO identities delivered
 * recently, so a re-send on another bind or site reaches the app once (R5).
 *
 * Layout. 2^k shards (shard = key.lo & (n-1)), each a linear-probing table
 * of 24-byte slots (128-bit key + expiry; the top bit of the expiry word
 * marks a pending claim) sized to its capacity x 5/4 (30 B per identity at
 * capacity), deletion by backward shift. An identity lives `window_ms` from
 * its commit.
 *
 * Claim / commit / abort. A worker claims an identity before it builds the
 * event, commits once the event is in its ring (or parked/held), and aborts
 * when it could not queue it, which removes the claim: no trace, the SMSC's
 * re-send is processed as new (HOSTILE F-19). A claim seen by another worker
 * is BUSY: that worker answers "try again" so only one copy can ever be
 * delivered.
 *
 * Capacity. At capacity a shard first drops what has expired; if nothing
 * has, it forgets its oldest identities (those within 1/16 of a window of
 * the oldest, at least one), counted as `evicted`. Memory stays bounded and
 * a claim never fails; the cost is a weaker guarantee for the oldest
 * identities under overload, which the stats show.
 *
 * Why not ck_hs / ck_rhs (Concurrency Kit): bench/ck/bench_ck_dedup, same
 * run, 2^20 identities at 80 %: claim + commit 77 ns vs 269-360, claim of
 * a re-send 32 vs 137-166, 30 B per identity vs 70-84 (a set of pointers
 * to records, a writer lock per shard and an epoch, even with lock-free
 * SEEN answers and commits). bench/README.md "ck or ours". */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/table_mem.h"

#define PENDING (1ull << 63)
#define EXP_MASK (PENDING - 1)

/* One identity; guarded by its shard's lock. exp == 0: free slot. */
struct dedup_slot {
        uint64_t lo, hi;
        uint64_t exp;           /* expiry ms | PENDING; 0 = free */
};

/* One shard; every field guarded by b.lock (table_mem.h). */
struct dedup_shard {
        struct smx_shard_base b;
        uint64_t latest_exp;            /* no entry expires after this */
        struct dedup_slot *slots;
        uint64_t claims, seen, busy, aborted, expired, evicted;
};

/* The window: shared by every worker, immutable after open but for the shards. */
struct dedup_mem {
        uint32_t window_ms;
        struct smx_table t;             /* shards are struct dedup_shard */
};

static struct dedup_shard *dshard_of(struct dedup_mem *m, const struct smx_key128 *k)
{
        return &((struct dedup_shard *)m->t.shards)[k->lo & (m->t.n_shards - 1)];
}

static uint32_t dslot_find(const struct dedup_shard *s, const struct smx_key128 *k, int *found)
{
        uint32_t i = smx_slot_home(s->b.nslots, k->hi);
        for (;;) {
                const struct dedup_slot *e = &s->slots[i];
                if (e->exp == 0) {
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

static void dslot_delete(struct dedup_shard *s, uint32_t i)
{
        uint32_t j = i;
        for (;;) {
                j = smx_slot_next(s->b.nslots, j);
                struct dedup_slot *e = &s->slots[j];
                if (e->exp == 0)
                        break;
                if (smx_slot_may_fill(i, j, smx_slot_home(s->b.nslots, e->hi))) {
                        s->slots[i] = *e;
                        i = j;
                }
        }
        s->slots[i].exp = 0;
        s->b.count--;
}

/* Remove committed entries expiring at or before `upto`; note the earliest
 * and latest expiry left. Pending claims are never removed here. */
static size_t dshard_sweep(struct dedup_shard *s, uint64_t upto)
{
        size_t n = 0;
        uint64_t earliest = UINT64_MAX, last = 0;
        for (uint32_t i = 0; i < s->b.nslots;) {
                struct dedup_slot *e = &s->slots[i];
                if (e->exp != 0 && !(e->exp & PENDING) && e->exp <= upto) {
                        dslot_delete(s, i);
                        n++;
                        continue;
                }
                if (e->exp != 0) {
                        uint64_t x = e->exp & EXP_MASK;
                        if (x < earliest)
                                earliest = x;
                        if (x > last)
                                last = x;
                }
                i++;
        }
        s->b.next_sweep_ms = earliest;
        s->latest_exp = last;
        return n;
}

static enum smx_dedup_claim dedup_claim(void *impl, const struct smx_key128 *k, uint64_t now_ms)
{
        struct dedup_mem *m = impl;
        struct dedup_shard *s = dshard_of(m, k);
        enum smx_dedup_claim rc;
        int found;

        smx_lock(&s->b.lock);
        uint32_t i = dslot_find(s, k, &found);
        if (found) {
                struct dedup_slot *e = &s->slots[i];
                if (e->exp & PENDING) {
                        rc = SMX_DEDUP_BUSY;
                        s->busy++;
                        goto out;
                }
                if (e->exp > now_ms) {
                        rc = SMX_DEDUP_SEEN;
                        s->seen++;
                        goto out;
                }
                /* expired but not swept yet: claim it afresh */
                e->exp = ((now_ms + m->window_ms) & EXP_MASK) | PENDING;
                rc = SMX_DEDUP_NEW;
                s->claims++;
                goto out;
        }
        if (s->b.count >= s->b.cap) {
                if (now_ms >= s->b.next_sweep_ms)
                        s->expired += dshard_sweep(s, now_ms);
                /* nothing expired: forget the oldest ~1/16, by expiry. The
                 * earliest expiry is next_sweep_ms (exact after a sweep, a
                 * lower bound otherwise), the latest is tracked on insert;
                 * widen the cut until something goes (rarely more than one
                 * pass). */
                uint64_t first = s->b.next_sweep_ms, last = s->latest_exp;
                uint64_t step = last > first ? (last - first) / 16 : 0;
                if (step == 0)
                        step = 1;
                for (int pass = 0; s->b.count >= s->b.cap && pass < 64; pass++) {
                        s->evicted += dshard_sweep(s, first + step - 1);
                        first = s->b.next_sweep_ms;
                        step *= 2;
                }
                if (s->b.count >= s->b.cap) {
                        /* all pending (cannot happen with sane sizes): refuse
                         * by reporting busy, the caller answers "retry" */
                        rc = SMX_DEDUP_BUSY;
                        s->busy++;
                        goto out;
                }
                i = dslot_find(s, k, &found);
        }
        s->slots[i].lo = k->lo;
        s->slots[i].hi = k->hi;
        s->slots[i].exp = ((now_ms + m->window_ms) & EXP_MASK) | PENDING;
        if (now_ms + m->window_ms > s->latest_exp)
                s->latest_exp = now_ms + m->window_ms;
        s->b.count++;
        s->claims++;
        rc = SMX_DEDUP_NEW;
out:
        smx_unlock(&s->b.lock);
        return rc;
}

static void dedup_commit(void *impl, const struct smx_key128 *k, uint64_t now_ms)
{
        struct dedup_mem *m = impl;
        struct dedup_shard *s = dshard_of(m, k);
        int found;

        smx_lock(&s->b.lock);
        uint32_t i = dslot_find(s, k, &found);
        if (found) {
                uint64_t exp = (now_ms + m->window_ms) & EXP_MASK;
                if (exp == 0)
                        exp = 1;
                s->slots[i].exp = exp;
                if (exp < s->b.next_sweep_ms)
                        s->b.next_sweep_ms = exp;
                if (exp > s->latest_exp)
                        s->latest_exp = exp;
        }
        smx_unlock(&s->b.lock);
}

static void dedup_abort(void *impl, const struct smx_key128 *k)
{
        struct dedup_mem *m = impl;
        struct dedup_shard *s = dshard_of(m, k);
        int found;

        smx_lock(&s->b.lock);
        uint32_t i = dslot_find(s, k, &found);
        if (found && (s->slots[i].exp & PENDING)) {
                dslot_delete(s, i);
                s->aborted++;
        }
        smx_unlock(&s->b.lock);
}

static size_t dedup_timer_sweep(struct smx_shard_base *b, uint64_t now_ms)
{
        struct dedup_shard *s = (struct dedup_shard *)b;
        size_t x = dshard_sweep(s, now_ms);
        s->expired += x;
        return x;
}

static size_t dedup_expire(void *impl, unsigned part, unsigned n_parts, uint64_t now_ms)
{
        struct dedup_mem *m = impl;
        return smx_table_expire(&m->t, part, n_parts, now_ms, dedup_timer_sweep);
}

/* As corr_prefetch: the table geometry is immutable after open. */
static void dedup_prefetch(void *impl, const struct smx_key128 *k)
{
        struct dedup_mem *m = impl;
        const struct dedup_shard *s = dshard_of(m, k);
        __builtin_prefetch(&s->slots[smx_slot_home(s->b.nslots, k->hi)]);
}

static void dedup_stats(void *impl, struct smx_dedup_stats *st)
{
        struct dedup_mem *m = impl;
        memset(st, 0, sizeof *st);
        for (unsigned i = 0; i < m->t.n_shards; i++) {
                struct dedup_shard *s = (struct dedup_shard *)smx_table_shard(&m->t, i);
                smx_lock(&s->b.lock);
                smx_shard_base_sum(&s->b, &st->entries, &st->capacity, &st->slots);
                st->bytes += (uint64_t)s->b.nslots * sizeof(struct dedup_slot);
                st->claims += s->claims;
                st->seen += s->seen;
                st->busy += s->busy;
                st->aborted += s->aborted;
                st->expired += s->expired;
                st->evicted += s->evicted;
                smx_unlock(&s->b.lock);
        }
        st->bytes += sizeof *m + (uint64_t)m->t.n_shards * m->t.shard_size;
}

static void dedup_destroy(void *impl)
{
        struct dedup_mem *m = impl;
        if (!m)
                return;
        smx_table_close(&m->t);
        free(m);
}

static const struct smx_dedup_ops dedup_mem_ops = {
        .name = "memory",
        .claim = dedup_claim,
        .commit = dedup_commit,
        .abort = dedup_abort,
        .expire = dedup_expire,
        .prefetch = dedup_prefetch,
        .stats = dedup_stats,
        .destroy = dedup_destroy,
};

int smx_dedup_mem_open(const struct smx_dedup_config *cfg, struct smx_dedup_store *out)
{
        if (!cfg || cfg->capacity == 0 || !out)
                return -EINVAL;
        struct dedup_mem *m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        m->window_ms = cfg->window_ms;
        if (smx_table_open(&m->t, cfg->capacity, sizeof(struct dedup_shard),
                           sizeof(struct dedup_slot), 5, 4) != 0) {
                free(m);
                return -ENOMEM;
        }
        for (unsigned i = 0; i < m->t.n_shards; i++)
                ((struct dedup_shard *)smx_table_shard(&m->t, i))->slots = smx_table_slots(&m->t, i);
        out->ops = &dedup_mem_ops;
        out->impl = m;
        return 0;
}
