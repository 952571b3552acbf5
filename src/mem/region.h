/* Large, long-lived, zeroed memory regions of the library (the MT slots):
 * mmap'd directly, 2 MiB-aligned and advised for transparent huge pages
 * (MADV_HUGEPAGE) when at least 2 MiB long, so a full ingress costs one TLB
 * entry per 2 MiB instead of per 4 KiB and its first touch a fault per
 * 2 MiB. With THP off (or `never`) the advice does nothing and the region
 * is plain 4 KiB pages, as from aligned_alloc.
 *
 * Why not jemalloc (issue 16): a private jemalloc arena gives the same 4 KiB
 * pages as glibc (bench/mem/bench_bigmem: random slot access 7.6 vs 6.9 ns
 * at 65536 slots, 11.1 vs 13.0 at 262144), THP in jemalloc is a process-wide
 * option, and linking jemalloc into the library replaces the allocator of a
 * statically linked application. The huge pages: 5.7 / 6.2 ns, and about
 * 10 % less CPU per MT end to end with a full 65536-slot ingress
 * (bench/README.md "Large memory: jemalloc or not").
 *
 * Never used on a hot path: create and destroy only. No state, any thread. */
#ifndef SMX_MEM_REGION_H
#define SMX_MEM_REGION_H

#include <stddef.h>

/* len bytes of zeroed memory, 64-byte aligned at least; NULL when out of
 * memory. Free with smx_region_free(p, len) and the same len. */
void *smx_region_alloc(size_t len);

void smx_region_free(void *p, size_t len);

#endif
