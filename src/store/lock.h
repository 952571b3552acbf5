/* The per-shard lock of the stores: a ck test-and-set spinlock that yields
 * the CPU after a short spin. Critical sections are one table probe (tens of
 * nanoseconds), so a plain spin is the fast path; the yield keeps threads
 * that outnumber cores (tests, small machines) from burning a whole time
 * slice behind a preempted holder. ck_spinlock_fas_lock/unlock give
 * acquire/release ordering: everything written under the lock is visible to
 * the next holder. */
#ifndef SMX_STORE_LOCK_H
#define SMX_STORE_LOCK_H

#include <ck_pr.h>
#include <ck_spinlock.h>
#include <sched.h>

typedef ck_spinlock_fas_t smx_lock_t;

static inline void smx_lock_init(smx_lock_t *l)
{
        ck_spinlock_fas_init(l);
}

static inline void smx_lock(smx_lock_t *l)
{
        unsigned spins = 0;
        while (!ck_spinlock_fas_trylock(l)) {
                if (++spins < 64)
                        ck_pr_stall();
                else {
                        spins = 0;
                        sched_yield();
                }
        }
}

static inline void smx_unlock(smx_lock_t *l)
{
        ck_spinlock_fas_unlock(l);
}

#endif
