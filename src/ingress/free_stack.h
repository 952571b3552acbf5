/* A lock-free LIFO stack of 32-bit indices (Treiber), shared by the MT slot
 * pool (ingress.c) and the long-text block pool (text_pool.c).
 *
 * The top is one 64-bit word: version << 32 | index (FREE_STACK_NONE:
 * empty). Each element's link to the one below is an _Atomic uint32_t the
 * caller keeps at links + index * stride (inside the slot, or in an array).
 * Pop reads the top element's link and CASes (v, idx) to (v+1, link); push
 * writes the element's link and CASes (v, top) to (v+1, idx). The version
 * makes a CAS fail when the top was popped and pushed back in between
 * (ABA); a stale link read is harmless because that CAS then fails. Release
 * on push / acquire on pop hand the element's contents over with it.
 *
 * Why not ck_stack (Concurrency Kit, MPMC pop with a 16-byte CAS on pointer
 * + generation, 8-byte entries): bench/ck/bench_ck, same run: pop + push
 * 25.5 vs 28.2 ns, 32 popped (free_stack_pop_n: one CAS) and pushed back
 * 466 vs 898 ns; and a 4-byte link fits in the MT slot's header.
 * bench/README.md "ck or ours". */
#ifndef SMX_FREE_STACK_H
#define SMX_FREE_STACK_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define FREE_STACK_NONE 0xFFFFFFFFu

struct free_stack_links {
        uint8_t *base;          /* link of element i at base + i * stride */
        size_t stride;
};

static inline _Atomic uint32_t *free_stack_link(struct free_stack_links l, uint32_t idx)
{
        return (_Atomic uint32_t *)(void *)(l.base + (size_t)idx * l.stride);
}

static inline uint64_t free_stack_top(uint64_t old, uint32_t idx)
{
        return (((old >> 32) + 1) << 32) | idx;
}

/* The index popped, or FREE_STACK_NONE when the stack is empty. */
static inline uint32_t free_stack_pop(_Atomic uint64_t *top, struct free_stack_links l)
{
        uint64_t t = atomic_load_explicit(top, memory_order_acquire);
        for (;;) {
                uint32_t idx = (uint32_t)t;
                if (idx == FREE_STACK_NONE)
                        return FREE_STACK_NONE;
                uint32_t next = atomic_load_explicit(free_stack_link(l, idx), memory_order_relaxed);
                if (atomic_compare_exchange_weak_explicit(top, &t, free_stack_top(t, next),
                                                          memory_order_acquire,
                                                          memory_order_acquire))
                        return idx;
        }
}

/* Pop up to max indices with one CAS (n_elems: how many elements exist);
 * returns how many went into out. The chain below the top is walked first:
 * if the CAS succeeds, the version did not move, so nobody popped or pushed
 * meanwhile and every link read is the one in the stack. */
static inline uint32_t free_stack_pop_n(_Atomic uint64_t *top, struct free_stack_links l,
                                        uint32_t n_elems, uint32_t *out, uint32_t max)
{
        uint64_t t = atomic_load_explicit(top, memory_order_acquire);
        for (;;) {
                uint32_t n = 0, idx = (uint32_t)t;
                int stale = 0;
                while (n < max && idx != FREE_STACK_NONE) {
                        out[n++] = idx;
                        idx = atomic_load_explicit(free_stack_link(l, idx), memory_order_relaxed);
                        if (idx != FREE_STACK_NONE && idx >= n_elems) {
                                stale = 1;      /* an element taken meanwhile: look again */
                                break;
                        }
                }
                if (stale) {
                        t = atomic_load_explicit(top, memory_order_acquire);
                        continue;
                }
                if (n == 0)
                        return 0;
                if (atomic_compare_exchange_weak_explicit(top, &t, free_stack_top(t, idx),
                                                          memory_order_acquire,
                                                          memory_order_acquire))
                        return n;
        }
}

/* Push a chain first -> ... -> last whose links (all but last's) the caller
 * has set, with one CAS: last's link is pointed at the old top. */
static inline void free_stack_push_chain(_Atomic uint64_t *top, struct free_stack_links l,
                                         uint32_t first, uint32_t last)
{
        uint64_t t = atomic_load_explicit(top, memory_order_relaxed);
        do
                atomic_store_explicit(free_stack_link(l, last), (uint32_t)t, memory_order_relaxed);
        while (!atomic_compare_exchange_weak_explicit(top, &t, free_stack_top(t, first),
                                                      memory_order_release,
                                                      memory_order_relaxed));
}

static inline void free_stack_push(_Atomic uint64_t *top, struct free_stack_links l, uint32_t idx)
{
        uint64_t t = atomic_load_explicit(top, memory_order_relaxed);
        do
                atomic_store_explicit(free_stack_link(l, idx), (uint32_t)t, memory_order_relaxed);
        while (!atomic_compare_exchange_weak_explicit(top, &t, free_stack_top(t, idx),
                                                      memory_order_release,
                                                      memory_order_relaxed));
}

#endif
