/* Huge-page-advised regions (see region.h). A region of 2 MiB or more is
 * an anonymous mapping of len + 2 MiB trimmed to a 2 MiB-aligned range of
 * len rounded up to 2 MiB (the kernel can only back aligned 2 MiB ranges
 * with a huge page); a smaller one comes from aligned_alloc and memset,
 * where huge pages could not help. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "mem/region.h"

#define REGION_HUGE ((size_t)2 << 20)

static size_t huge_len(size_t len)
{
        return (len + REGION_HUGE - 1) & ~(REGION_HUGE - 1);
}

void *smx_region_alloc(size_t len)
{
        if (len < REGION_HUGE) {
                void *p = aligned_alloc(64, len ? (len + 63) & ~(size_t)63 : 64);
                if (p)
                        memset(p, 0, len);
                return p;
        }
        size_t want = huge_len(len);
        uint8_t *m = mmap(NULL, want + REGION_HUGE, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
                return NULL;
        uint8_t *p = (uint8_t *)(((uintptr_t)m + REGION_HUGE - 1) & ~(uintptr_t)(REGION_HUGE - 1));
        if (p > m)
                munmap(m, (size_t)(p - m));
        size_t tail = (size_t)((m + want + REGION_HUGE) - (p + want));
        if (tail)
                munmap(p + want, tail);
        (void)madvise(p, want, MADV_HUGEPAGE);   /* EINVAL without THP: 4 KiB pages then */
        return p;
}

void smx_region_free(void *p, size_t len)
{
        if (!p)
                return;
        if (len < REGION_HUGE)
                free(p);
        else
                munmap(p, huge_len(len));
}
