/* The per-shard lock of the stores and the inbound room: a test-and-test-
 * and-set spinlock on a C11 atomic that yields the CPU after a short spin,
 * and a try-lock that gives up instead (for paths that have something
 * better to do than wait: the accepted-MT put stages its entry).
 * Critical sections are one table probe (tens of nanoseconds), so spinning
 * is the fast path; the yield keeps threads that outnumber cores (tests,
 * small machines) from burning a time slice behind a preempted holder.
 * The acquire exchange in smx_lock pairs with the release store in
 * smx_unlock: everything written under the lock is visible to the next
 * holder. Plain C11 atomics (not ck's inline assembly) so ThreadSanitizer
 * can check the code that uses it. */
#ifndef SMX_STORE_LOCK_H
#define SMX_STORE_LOCK_H

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

typedef struct {
        _Atomic bool held;
} smx_lock_t;

static inline void smx_lock_init(smx_lock_t *l)
{
        atomic_init(&l->held, false);
}

static inline void smx_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        __asm__ __volatile__("yield");
#endif
}

static inline void smx_lock(smx_lock_t *l)
{
        unsigned spins = 0;
        for (;;) {
                if (!atomic_exchange_explicit(&l->held, true, memory_order_acquire))
                        return;
                /* wait with plain loads so the line stays shared while held */
                while (atomic_load_explicit(&l->held, memory_order_relaxed)) {
                        if (++spins < 64) {
                                smx_cpu_relax();
                        } else {
                                spins = 0;
                                sched_yield();
                        }
                }
        }
}

/* Take the lock only if it is free or freed within `spins` short pauses
 * (a holder running on another core leaves within a critical section's
 * tens of nanoseconds; one that was preempted does not): true when taken.
 * Never yields, never blocks. */
static inline bool smx_trylock(smx_lock_t *l, unsigned spins)
{
        for (;;) {
                if (!atomic_load_explicit(&l->held, memory_order_relaxed) &&
                    !atomic_exchange_explicit(&l->held, true, memory_order_acquire))
                        return true;
                if (spins-- == 0)
                        return false;
                smx_cpu_relax();
        }
}

static inline void smx_unlock(smx_lock_t *l)
{
        atomic_store_explicit(&l->held, false, memory_order_release);
}

#endif
