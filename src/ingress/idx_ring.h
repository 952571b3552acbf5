/* A bounded MPMC ring of 32-bit slot indices (the ingress queue).
 *
 * Free-running 32-bit counters: producers reserve a cell by CAS on p_head,
 * write it, then publish in order by moving p_tail past it (each waits for
 * the producers ahead of it); consumers read cells below p_tail and claim
 * them by CAS on c_head, several at once (idx_ring_pop_n). A ring of size S
 * holds exactly S entries (full iff p_head - c_head == S), 4 bytes each.
 * Release/acquire on p_tail hands the MT slot written before a push over to
 * the popping worker; the consumers' release CAS on c_head orders their cell
 * reads before a producer's reuse of the cell. The producers' reservation
 * CAS is seq_cst (on x86 the same `lock cmpxchg` as a relaxed one): it is
 * the publisher's half of the sleep hand-shake (ingress.h), which needs no
 * fence after the publication. Shared by all threads.
 *
 * Why not ck_ring (Concurrency Kit's MPMC ring): bench/ck/bench_ck, same
 * run: one push + one pop cost the same (22.0 vs 22.9 ns), but a run of 32
 * pushed and popped costs 45 ns here against 887 ns (ck_ring has no batched
 * MPMC enqueue or dequeue: one CAS per entry each way), and 65536 indices
 * handed from one thread to another go 24 times faster (143 vs 6 M/s);
 * ck_ring also holds one entry fewer than its size. bench/README.md
 * "ck or ours". */
#ifndef SMX_IDX_RING_H
#define SMX_IDX_RING_H

#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

struct smx_idx_ring {
        char pad0_[64];
        _Atomic uint32_t c_head;           /* consumers: next cell to pop */
        char pad1_[64 - sizeof(uint32_t)];
        _Atomic uint32_t p_tail;           /* cells below are published */
        _Atomic uint32_t p_head;           /* producers: next cell to reserve */
        char pad2_[64 - 2 * sizeof(uint32_t)];
        uint32_t mask;                     /* size - 1, size a power of two */
        _Atomic uint32_t *cell;
};

static inline void idx_ring_relax(unsigned *spins)
{
        if (++*spins < 1024) {
#if defined(__x86_64__) || defined(__i386__)
                __builtin_ia32_pause();
#endif
        } else {
                *spins = 0;
                sched_yield();   /* the producer ahead of us was preempted */
        }
}

/* Push v; returns 0, or -1 when the ring is full. The reservation CAS is
 * seq_cst (see above). */
static inline int idx_ring_push(struct smx_idx_ring *r, uint32_t v)
{
        uint32_t size = r->mask + 1;
        uint32_t p = atomic_load_explicit(&r->p_head, memory_order_relaxed);
        for (;;) {
                uint32_t c = atomic_load_explicit(&r->c_head, memory_order_acquire);
                if (p - c >= size) {
                        /* full, or our p_head snapshot is stale: look again */
                        uint32_t p2 = atomic_load_explicit(&r->p_head, memory_order_relaxed);
                        if (p2 == p)
                                return -1;
                        p = p2;
                        continue;
                }
                if (atomic_compare_exchange_weak_explicit(&r->p_head, &p, p + 1,
                                                          memory_order_seq_cst,
                                                          memory_order_relaxed))
                        break;
        }
        atomic_store_explicit(&r->cell[p & r->mask], v, memory_order_relaxed);
        unsigned spins = 0;
        while (atomic_load_explicit(&r->p_tail, memory_order_acquire) != p)
                idx_ring_relax(&spins);
        atomic_store_explicit(&r->p_tail, p + 1, memory_order_release);
        return 0;
}

/* Push v[0..n) (1 <= n <= size) as one run, in order: one reservation (a
 * seq_cst CAS, see above) and one publication for all of them. Returns 0,
 * or -1 when fewer than n cells are free (nothing pushed). */
static inline int idx_ring_push_n(struct smx_idx_ring *r, const uint32_t *v, uint32_t n)
{
        uint32_t size = r->mask + 1;
        uint32_t p = atomic_load_explicit(&r->p_head, memory_order_relaxed);
        for (;;) {
                uint32_t c = atomic_load_explicit(&r->c_head, memory_order_acquire);
                if (p - c > size - n) {
                        uint32_t p2 = atomic_load_explicit(&r->p_head, memory_order_relaxed);
                        if (p2 == p)
                                return -1;
                        p = p2;
                        continue;
                }
                if (atomic_compare_exchange_weak_explicit(&r->p_head, &p, p + n,
                                                          memory_order_seq_cst,
                                                          memory_order_relaxed))
                        break;
        }
        for (uint32_t i = 0; i < n; i++)
                atomic_store_explicit(&r->cell[(p + i) & r->mask], v[i], memory_order_relaxed);
        unsigned spins = 0;
        while (atomic_load_explicit(&r->p_tail, memory_order_acquire) != p)
                idx_ring_relax(&spins);
        atomic_store_explicit(&r->p_tail, p + n, memory_order_release);
        return 0;
}

/* Pop up to max (>= 1) values, oldest first, into out; returns how many. */
static inline uint32_t idx_ring_pop_n(struct smx_idx_ring *r, uint32_t *out, uint32_t max)
{
        uint32_t c = atomic_load_explicit(&r->c_head, memory_order_relaxed);
        for (;;) {
                uint32_t p = atomic_load_explicit(&r->p_tail, memory_order_acquire);
                uint32_t n = p - c;
                if (n == 0 || n > r->mask + 1) {
                        /* empty, or our c_head snapshot is stale */
                        uint32_t c2 = atomic_load_explicit(&r->c_head, memory_order_relaxed);
                        if (c2 == c)
                                return 0;
                        c = c2;
                        continue;
                }
                if (n > max)
                        n = max;
                for (uint32_t i = 0; i < n; i++)
                        out[i] = atomic_load_explicit(&r->cell[(c + i) & r->mask],
                                                      memory_order_relaxed);
                if (atomic_compare_exchange_weak_explicit(&r->c_head, &c, c + n,
                                                          memory_order_release,
                                                          memory_order_relaxed))
                        return n;
        }
}

/* Entries published and not yet popped (a snapshot; exact when nobody
 * pushes or pops). */
static inline uint32_t idx_ring_size(const struct smx_idx_ring *r)
{
        uint32_t c = atomic_load_explicit(&r->c_head, memory_order_relaxed);
        uint32_t p = atomic_load_explicit(&r->p_tail, memory_order_acquire);
        return p - c <= r->mask + 1 ? p - c : 0;
}

/* Entries reserved and not yet popped: those published plus those whose
 * producer has made its reservation CAS and not yet published them (a
 * snapshot). The load of p_head is seq_cst (a plain load on x86), so it
 * closes a Dekker-style hand-shake with the producers' seq_cst reservation
 * CAS: store a seq_cst flag, then look here (ingress.h,
 * ingress_announce_sleep). 0 also when the c_head read is at or past the
 * p_head read (every reservation below that p_head was popped). */
static inline uint32_t idx_ring_reserved(const struct smx_idx_ring *r)
{
        uint32_t c = atomic_load_explicit(&r->c_head, memory_order_relaxed);
        uint32_t p = atomic_load_explicit(&r->p_head, memory_order_seq_cst);
        return p - c <= r->mask + 1 ? p - c : 0;
}

#endif
