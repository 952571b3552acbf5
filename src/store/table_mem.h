/* What the stores' sharded open-addressing tables share: their memory, their
 * geometry, the shard header (lock, size, sweep bookkeeping), the timer
 * sweep loop, and the backward-shift rule of linear-probing deletion. Each
 * store keeps its own slot type, probe and sweep (they differ in what a free
 * or expired slot is), so its hot paths stay typed and inlined.
 *
 * Zeroed memory for the stores' slot arrays: one region for all shards of a
 * store. A big region (>= 2 MiB) is mapped directly, aligned to 2 MiB and
 * advised to use transparent huge pages: a lookup of a random key in a
 * table of millions costs one cache miss, and with 4 KiB pages also a TLB
 * miss and a page walk (bench/README.md "Inbound"). Small ones come from
 * aligned_alloc (64-byte aligned, zeroed). */
#ifndef SMX_STORE_TABLE_MEM_H
#define SMX_STORE_TABLE_MEM_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "store/lock.h"
#include "store/store.h"

#define SMX_TABLE_HUGE ((size_t)2 << 20)

/* A region; `p` is the usable, zeroed memory. */
struct smx_table_mem {
        void *p;
        void *map;              /* what to unmap (NULL: p came from calloc) */
        size_t map_len;
};

static inline int smx_table_alloc(struct smx_table_mem *t, size_t bytes)
{
        t->map = NULL;
        t->map_len = 0;
        if (bytes < SMX_TABLE_HUGE) {
                size_t len = (bytes + 63) & ~(size_t)63;   /* slots on cache lines */
                t->p = aligned_alloc(64, len ? len : 64);
                if (!t->p)
                        return -1;
                memset(t->p, 0, len ? len : 64);
                return 0;
        }
        size_t len = bytes + SMX_TABLE_HUGE;
        void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) {
                t->p = NULL;
                return -1;
        }
        uintptr_t a = ((uintptr_t)m + SMX_TABLE_HUGE - 1) & ~(uintptr_t)(SMX_TABLE_HUGE - 1);
        t->p = (void *)a;
        t->map = m;
        t->map_len = len;
#ifdef MADV_HUGEPAGE
        madvise(t->p, bytes, MADV_HUGEPAGE);    /* a hint: fine if refused */
#endif
        return 0;
}

static inline void smx_table_free(struct smx_table_mem *t)
{
        if (t->map)
                munmap(t->map, t->map_len);
        else
                free(t->p);
        t->p = t->map = NULL;
}

/* Whether the timer should sweep a shard now: it has entries, one of them
 * has expired, and the last timer sweep is at least SMX_SWEEP_EVERY_MS ago.
 * Entries expire at the rate they were put, so without the spacing a busy
 * shard would be swept (O(slots)) on every tick; lookups already treat an
 * expired entry as absent, and a full shard sweeps on demand. */
#define SMX_SWEEP_EVERY_MS 1000u

static inline int smx_timer_sweep_due(uint32_t count, uint64_t next_sweep_ms,
                                      uint64_t *last_ms, uint64_t now_ms)
{
        if (count == 0 || now_ms < next_sweep_ms)
                return 0;
        if (*last_ms != 0 && now_ms - *last_ms < SMX_SWEEP_EVERY_MS)
                return 0;
        *last_ms = now_ms ? now_ms : 1;
        return 1;
}

/* The fields every shard of every store starts with; the shard's lock
 * guards them and the slots. A store's shard struct has this as its first
 * member `b`. */
struct smx_shard_base {
        _Alignas(64) smx_lock_t lock;
        uint32_t nslots, count, cap;     /* nslots: any size, ~cap * num/den (open) */
        uint64_t last_timer_sweep_ms;   /* expire(): when this shard was last swept */
        uint64_t next_sweep_ms;         /* no entry expires before this */
};

/* A sharded table: n_shards (a power of two) shards of shard_size bytes,
 * each starting with a struct smx_shard_base, and every shard's slots in
 * one region (shard i's are slots i * nslots ...). Geometry never changes
 * after open, so it may be read without a lock. */
struct smx_table {
        unsigned n_shards;
        size_t shard_size, slot_size;
        void *shards;
        struct smx_table_mem mem;
};

static inline struct smx_shard_base *smx_table_shard(const struct smx_table *t, unsigned i)
{
        return (struct smx_shard_base *)((char *)t->shards + (size_t)i * t->shard_size);
}

static inline void *smx_table_slots(const struct smx_table *t, unsigned i)
{
        return (char *)t->mem.p + (size_t)i * smx_table_shard(t, 0)->nslots * t->slot_size;
}

/* Size and allocate a table for `capacity` entries: capacity split evenly
 * over smx_store_shards_for(capacity) shards, each with capacity x
 * slots_num / slots_den slots (5/4: load <= 80 %; 3/2: <= 67 %, where an
 * insert's probe of a full shard walks ~5 slots instead of ~13), shards and
 * slots zeroed, every shard's base set up. 0 or -ENOMEM (nothing left
 * allocated). */
static inline int smx_table_open(struct smx_table *t, uint32_t capacity, size_t shard_size,
                                 size_t slot_size, unsigned slots_num, unsigned slots_den)
{
        t->n_shards = smx_store_shards_for(capacity);
        t->shard_size = shard_size;
        t->slot_size = slot_size;
        t->shards = aligned_alloc(64, t->n_shards * shard_size);
        if (!t->shards)
                return -ENOMEM;
        memset(t->shards, 0, t->n_shards * shard_size);
        uint32_t per = (uint32_t)(((uint64_t)capacity + t->n_shards - 1) / t->n_shards);
        uint64_t want = (uint64_t)per * slots_num / slots_den + 1;
        uint32_t slots = (uint32_t)(want < 2 ? 2 : want);
        if (smx_table_alloc(&t->mem, (size_t)t->n_shards * slots * slot_size) != 0) {
                free(t->shards);
                t->shards = NULL;
                return -ENOMEM;
        }
        for (unsigned i = 0; i < t->n_shards; i++) {
                struct smx_shard_base *b = smx_table_shard(t, i);
                smx_lock_init(&b->lock);
                b->nslots = slots;
                b->cap = per;
                b->next_sweep_ms = UINT64_MAX;
        }
        return 0;
}

static inline void smx_table_close(struct smx_table *t)
{
        if (t->mem.p)
                smx_table_free(&t->mem);
        free(t->shards);
        t->shards = NULL;
}

/* The timer: sweep each of shards part, part + n_parts, ... that
 * smx_timer_sweep_due says is due, under its lock. `sweep` removes what
 * has expired and returns how many (and counts them itself). */
static inline size_t smx_table_expire(struct smx_table *t, unsigned part, unsigned n_parts,
                                      uint64_t now_ms,
                                      size_t (*sweep)(struct smx_shard_base *b, uint64_t now_ms))
{
        size_t n = 0;
        if (n_parts == 0)
                n_parts = 1;
        for (unsigned i = part; i < t->n_shards; i += n_parts) {
                struct smx_shard_base *b = smx_table_shard(t, i);
                smx_lock(&b->lock);
                if (smx_timer_sweep_due(b->count, b->next_sweep_ms, &b->last_timer_sweep_ms, now_ms))
                        n += sweep(b, now_ms);
                smx_unlock(&b->lock);
        }
        return n;
}

/* Add shard b's live entries, capacity and slots to the caller's stats
 * totals. Lock held. */
static inline void smx_shard_base_sum(const struct smx_shard_base *b, uint64_t *entries,
                                      uint64_t *capacity, uint64_t *slots)
{
        *entries += b->count;
        *capacity += b->cap;
        *slots += b->nslots;
}

/* Backward-shift deletion in linear probing: with a hole at slot i, the
 * entry at slot j (further along the same run) whose home slot is `home`
 * may move back into the hole unless its home lies cyclically in (i, j]. */
static inline int smx_slot_may_fill(uint32_t i, uint32_t j, uint32_t home)
{
        int stays = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
        return !stays;
}

#endif
