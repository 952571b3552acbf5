/* Lane claim and hand-back (lane.h): once per thread and ingress, under
 * the ingress's lanes_mu; the per-MT parts are inline in lane.h. */
#include <stdlib.h>
#include <string.h>

#include "ingress/lane.h"

struct smx_lane *lane_claim(struct smx_ingress *g)
{
        struct smx_lane *l = NULL;
        pthread_mutex_lock(&g->lanes_mu);
        uint32_t nl = atomic_load_explicit(&g->n_lanes, memory_order_relaxed);
        for (uint32_t i = 0; i < nl && !l; i++) {
                struct smx_lane *x = atomic_load_explicit(&g->lane[i], memory_order_relaxed);
                if (!atomic_load_explicit(&x->owned, memory_order_relaxed))
                        l = x;
        }
        if (!l && nl < SMX_LANES_MAX) {
                size_t cells = (size_t)g->lane_cells * sizeof(_Atomic uint32_t);
                l = aligned_alloc(64, (sizeof *l + cells + 63) & ~(size_t)63);
                if (l) {
                        memset(l, 0, sizeof *l + cells);
                        l->g = g;
                        l->ring.mask = g->lane_cells - 1;
                        l->ring.cell = (_Atomic uint32_t *)(void *)(l + 1);
                        atomic_store_explicit(&g->lane[nl], l, memory_order_relaxed);
                        /* consumers read lane[i] only below n_lanes */
                        atomic_store_explicit(&g->n_lanes, nl + 1, memory_order_release);
                }
        }
        if (l) {
                /* the previous owner's cache went back at its release; its
                 * c_seen is a valid (old) view of c_head */
                l->cache_n = 0;
                l->cache_head = SMX_SLOT_NONE;
                atomic_store_explicit(&l->owned, 1, memory_order_relaxed);
        }
        pthread_mutex_unlock(&g->lanes_mu);   /* hands the owner fields over */
        return l;
}

void lane_release(struct smx_lane *l)
{
        struct smx_ingress *g = l->g;
        if (l->cache_n)
                ingress_bundle_put(g, l->cache_head, l->cache_n);
        l->cache_n = 0;
        l->cache_head = SMX_SLOT_NONE;
        pthread_mutex_lock(&g->lanes_mu);
        atomic_store_explicit(&l->owned, 0, memory_order_relaxed);
        pthread_mutex_unlock(&g->lanes_mu);
}
