/* Table memory and timer-sweep pacing shared by the stores.
 *
 * Zeroed memory for the stores' slot arrays: one region for all shards of a
 * store. A big region (>= 2 MiB) is mapped directly, aligned to 2 MiB and
 * advised to use transparent huge pages: a lookup of a random key in a
 * table of millions costs one cache miss, and with 4 KiB pages also a TLB
 * miss and a page walk (bench/README.md "Inbound"). Small ones come from
 * aligned_alloc (64-byte aligned, zeroed). */
#ifndef SMX_STORE_TABLE_MEM_H
#define SMX_STORE_TABLE_MEM_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

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

#endif
