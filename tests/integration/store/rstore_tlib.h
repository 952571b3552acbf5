/* What the tests that drive a store thread directly (rstore_create with a
 * host of their own, no client around it) share: a host whose wake-ups do
 * nothing (these tests poll the store's stats and queues themselves) and
 * the store's stats read in one call. Called from the test's main thread. */
#ifndef RSTORE_TLIB_H
#define RSTORE_TLIB_H

#include "store/rstore.h"

static inline void rtest_wake_app_none(void *ctx)
{
        (void)ctx;
}

static inline void rtest_wake_worker_none(void *ctx, unsigned k)
{
        (void)ctx;
        (void)k;
}

/* A host of n_workers whose wake-ups do nothing. */
static inline struct rs_host rtest_quiet_host(unsigned n_workers)
{
        return (struct rs_host){ .n_workers = n_workers,
                                 .wake_worker = rtest_wake_worker_none,
                                 .wake_app = rtest_wake_app_none };
}

static inline struct rs_stats rtest_rs_stats(struct smx_rstore *rs)
{
        struct rs_stats st;
        rstore_stats(rs, &st);
        return st;
}

#endif
