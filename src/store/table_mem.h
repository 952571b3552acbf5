/* Table memory and timer-sweep pacing shared by the stores.
 *
 * Zeroed memory for the stores' slot arrays. Big tables (>= 2 MiB) are
 * mapped directly and advised to use transparent huge pages: a lookup in a
 * table of millions of random keys costs one cache miss, and without huge
 * pages also a TLB miss and page walk (measured: bench/README.md "Inbound").
 * Small ones come from calloc. Free with the same size. */
#ifndef SMX_STORE_TABLE_MEM_H
#define SMX_STORE_TABLE_MEM_H

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define SMX_TABLE_MAP_MIN ((size_t)2 << 20)

static inline void *smx_table_alloc(size_t bytes)
{
        if (bytes < SMX_TABLE_MAP_MIN)
                return calloc(1, bytes ? bytes : 1);
        void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                return NULL;
#ifdef MADV_HUGEPAGE
        madvise(p, bytes, MADV_HUGEPAGE);       /* a hint: fine if refused */
#endif
        return p;
}

static inline void smx_table_free(void *p, size_t bytes)
{
        if (!p)
                return;
        if (bytes < SMX_TABLE_MAP_MIN)
                free(p);
        else
                munmap(p, bytes);
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
