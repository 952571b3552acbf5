/* The client's side of the knobs: the published snapshot pointer, the
 * setter's lock, retired snapshots and when they may be freed, and what a
 * worker does with a new snapshot (knobs_sync_w). Internal. */
#ifndef SMX_KNOBS_CLIENT_H
#define SMX_KNOBS_CLIENT_H

#include <pthread.h>
#include <stdatomic.h>

#include "knobs/knobs.h"

struct smx_client;
struct smx_worker;

/* Owned by the client. `cur` is read by every worker (acquire) and written
 * only by a setter holding `lock`; `seen[k]` is written by worker k (the gen
 * of the snapshot it holds) and read by setters to free old snapshots. */
struct smx_knob_state {
        _Atomic(struct smx_knobs *) cur;
        pthread_mutex_t lock;              /* setters and readers of retired/cur text */
        struct smx_knobs **retired;        /* published before, maybe still held */
        size_t n_retired, cap_retired;
        const char **names, **sites;       /* per bind, point into the client's binds */
        _Atomic uint64_t *seen;            /* per worker */
        unsigned n_workers;
        char admin_socket[108];            /* copy of cfg admin_socket, "" none */
};

/* Build the first snapshot from the client's configuration and binds (call
 * after the binds and the worker count are set). 0 or SMX_ENOMEM. */
int knobs_client_init(struct smx_client *c, const struct smx_config *cfg);
void knobs_client_fini(struct smx_client *c);

/* Worker k, at the top of each loop turn: load the current snapshot into
 * w->kn and, when it is new, apply it to the worker's binds and router
 * (tps, window, weight, timeouts, admin state). */
void knobs_sync_w(struct smx_worker *w);

/* Run fn with the current snapshot while no setter can replace or free it. */
void knobs_with_current(struct smx_client *c,
                        void (*fn)(const struct smx_knobs *k, void *arg), void *arg);

#endif
