/* bench_bigmem: where the library's large, long-lived memory should come
 * from (issue 16 item 3). The MT slots are the biggest such region
 * (ingress_capacity x SMX_SLOT_SIZE: 29 MiB at the default 65536 slots);
 * the text blocks, the rings and the event rings are allocated the same
 * way, once, at smx_client_create. Three backings of the same region:
 *
 *   - glibc: aligned_alloc(64, size), what src/ingress does now;
 *   - jemalloc: mallocx(size, MALLOCX_ALIGN(64) | MALLOCX_ARENA(a) |
 *     MALLOCX_TCACHE_NONE) from a private arena (arenas.create), i.e. the
 *     library using jemalloc's API for itself. jemalloc cannot be
 *     dlopen()ed ("cannot allocate memory in static TLS block": it is built
 *     with initial-exec TLS), so this program links it, which makes it this
 *     program's malloc; glibc's aligned_alloc and free are therefore taken
 *     from libc.so.6 itself with dlopen + dlsym;
 *   - thp: mmap of a 2 MiB-aligned range + madvise(MADV_HUGEPAGE), the
 *     transparent huge pages a private jemalloc arena would be wanted for,
 *     without an allocator.
 *
 * Per backing and slot count (4096, 65536, 262144 slots of 448 B):
 *   - first_touch: allocate, write every byte once, free (what create and
 *     the first pass over the slots cost: page faults), per MiB;
 *   - random_slot: read the slot's first cache line, write its third (the
 *     application filling a slot, the worker reading it), slots picked at
 *     random: the TLB-bound case of a full ingress; per slot.
 * Figures and the decision: bench/README.md "Large memory: jemalloc or not". */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <jemalloc/jemalloc.h>

#include "gbench_shim.h"

#define SLOT 448u
#define HUGE_2M (2u << 20)

enum backing { GLIBC, JEMALLOC, THP };
static const char *backing_name[] = { "glibc_aligned_alloc", "jemalloc_private_arena",
                                      "mmap_madv_hugepage" };

static void *(*libc_aligned_alloc)(size_t, size_t);
static void (*libc_free)(void *);
static unsigned je_arena;

static int libc_open(void)
{
        void *h = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
        if (!h)
                return -1;
        libc_aligned_alloc = (void *(*)(size_t, size_t))dlsym(h, "aligned_alloc");
        libc_free = (void (*)(void *))dlsym(h, "free");
        return libc_aligned_alloc && libc_free ? 0 : -1;
}

static int jemalloc_open(void)
{
        size_t sz = sizeof je_arena;
        return mallctl("arenas.create", &je_arena, &sz, NULL, 0) == 0 ? 0 : -1;
}

static int je_flags(void)
{
        return MALLOCX_LG_ALIGN(6) | MALLOCX_ARENA(je_arena) | MALLOCX_TCACHE_NONE;
}

static void *region_alloc(enum backing b, size_t size)
{
        switch (b) {
        case GLIBC:
                return libc_aligned_alloc(64, size);
        case JEMALLOC:
                return mallocx(size, je_flags());
        case THP: {
                size_t len = (size + HUGE_2M - 1) & ~(size_t)(HUGE_2M - 1);
                uint8_t *m = mmap(NULL, len + HUGE_2M, PROT_READ | PROT_WRITE,
                                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (m == MAP_FAILED)
                        return NULL;
                uint8_t *p = (uint8_t *)(((uintptr_t)m + HUGE_2M - 1) & ~(uintptr_t)(HUGE_2M - 1));
                if (p > m)
                        munmap(m, (size_t)(p - m));
                size_t tail = (size_t)(m + len + HUGE_2M - (p + len));
                if (tail)
                        munmap(p + len, tail);
                madvise(p, len, MADV_HUGEPAGE);
                return p;
        }
        }
        return NULL;
}

static void region_free(enum backing b, void *p, size_t size)
{
        if (!p)
                return;
        if (b == GLIBC)
                libc_free(p);
        else if (b == JEMALLOC)
                dallocx(p, je_flags());
        else
                munmap(p, (size + HUGE_2M - 1) & ~(size_t)(HUGE_2M - 1));
}

struct case_arg {
        enum backing b;
        uint32_t n_slots;
};

static void bm_first_touch(struct gbench_state *st, void *arg)
{
        const struct case_arg *a = arg;
        size_t size = (size_t)a->n_slots * SLOT;
        while (gbench_keep_running(st)) {
                uint8_t *p = region_alloc(a->b, size);
                if (!p) {
                        gbench_skip_with_error(st, "allocation failed");
                        return;
                }
                memset(p, 1, size);
                gbench_do_not_optimize(p);
                region_free(a->b, p, size);
        }
        gbench_set_bytes_processed(st, gbench_iterations(st) * (int64_t)size);
}

static void bm_random_slot(struct gbench_state *st, void *arg)
{
        const struct case_arg *a = arg;
        size_t size = (size_t)a->n_slots * SLOT;
        uint8_t *p = region_alloc(a->b, size);
        if (!p) {
                gbench_skip_with_error(st, "allocation failed");
                return;
        }
        memset(p, 0, size);
        uint64_t x = 88172645463325252ull, sum = 0;
        while (gbench_keep_running_batch(st, 64)) {
                for (int i = 0; i < 64; i++) {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        uint8_t *s = p + (size_t)(x % a->n_slots) * SLOT;
                        sum += *(volatile uint64_t *)s;
                        *(volatile uint64_t *)(s + 128) = sum;
                }
        }
        gbench_use_value((int64_t)sum);
        gbench_set_items_processed(st, gbench_iterations(st));
        region_free(a->b, p, size);
}

int main(int argc, char **argv)
{
        if (libc_open() < 0 || jemalloc_open() < 0) {
                fprintf(stderr, "bench_bigmem: glibc's aligned_alloc or a jemalloc arena: not found\n");
                return 1;
        }
        static const uint32_t sizes[] = { 4096, 65536, 262144 };
        static struct case_arg args[3][3];
        static char names[2][3][3][96];
        for (int b = 0; b < 3; b++) {
                for (int k = 0; k < 3; k++) {
                        args[b][k] = (struct case_arg){ (enum backing)b, sizes[k] };
                        snprintf(names[0][b][k], sizeof names[0][b][k], "first_touch/%s/%u_slots",
                                 backing_name[b], sizes[k]);
                        snprintf(names[1][b][k], sizeof names[1][b][k], "random_slot/%s/%u_slots",
                                 backing_name[b], sizes[k]);
                        gbench_register(names[0][b][k], bm_first_touch, &args[b][k]);
                        gbench_register(names[1][b][k], bm_random_slot, &args[b][k]);
                }
        }
        return gbench_main(argc, argv);
}
