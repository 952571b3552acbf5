/* Lanes: an application thread's own way into the ingress.
 *
 * A lane belongs to one (thread, ingress) at a time. It holds a private
 * cache of free slots (one bundle of the free stack, up to SMX_SLOT_BUNDLE
 * = 32, taken with one CAS) and a single-producer ring of slot indices the thread
 * publishes on with a release store: no locked instruction per MT, and no
 * cache line the thread writes per MT that another thread also writes (the
 * shared free stack's top and the shared ring's head used to move between
 * the application's core and the worker's on every MT: bench/README.md,
 * "lanes"). Consumers (workers, the HTTP transport) pop lanes like the
 * shared ring, one CAS on the lane's c_head per run (several may pop one
 * lane). A lane that is full (lane_cells, at most SMX_LANE_CELLS_MAX)
 * overflows to the shared ring, which holds every slot, so a publication
 * never fails. The publication ends with a full fence, the publisher's half
 * of the sleep hand-shake (ingress.h).
 *
 * Lanes are made on a thread's first smx_submit, kept by the ingress until
 * ingress_fini, and handed back at thread exit (the cached slots go back to
 * the free stack; MTs still queued on it stay there and are popped as
 * usual), to be claimed by the next thread that needs one. */
#ifndef SMX_LANE_H
#define SMX_LANE_H

#include <stdatomic.h>
#include <stdint.h>

#include "ingress/idx_ring.h"
#include "ingress/ingress.h"

/* One lane. The owner line is written only by the owning thread; the ring's
 * c_head only by consumers (in ring, padded apart from p_tail). */
struct smx_lane {
        struct smx_ingress *g;
        uint32_t cache_head;       /* owner: cached free slots, chained by free_next */
        uint32_t cache_n;
        uint32_t c_seen;           /* owner: c_head as last read (full check) */
        _Atomic int owned;         /* claimed by a thread (under g->lanes_mu) */
        struct smx_idx_ring ring;  /* single producer: p_tail only; cells below */
};

/* Claim a lane of g for the calling thread (a free one, or a new one):
 * NULL when SMX_LANES_MAX are in use or on allocation failure (the caller
 * then uses the shared ring). */
struct smx_lane *lane_claim(struct smx_ingress *g);
/* Hand a lane back: its cached slots to the free stack; it may be claimed
 * again. Its queued MTs stay on it. */
void lane_release(struct smx_lane *l);

/* A free slot from the lane's cache, refilled with one bundle (one CAS)
 * when empty: its index, or SMX_SLOT_NONE when no slot is free. Owner. */
static inline uint32_t lane_take(struct smx_lane *l)
{
        if (l->cache_n == 0) {
                uint32_t n;
                uint32_t head = ingress_bundle_take(l->g, &n);
                if (head == SMX_SLOT_NONE)
                        return SMX_SLOT_NONE;
                l->cache_head = head;
                l->cache_n = n;
        }
        uint32_t idx = l->cache_head;
        l->cache_head = ingress_slot(l->g, idx)->free_next;
        l->cache_n--;
        return idx;
}
/* Put a slot taken and not published back into the cache (released:
 * ingress_slot_release). Owner. */
static inline void lane_put(struct smx_lane *l, uint32_t idx)
{
        if (l->cache_n == l->g->bundle) {      /* a full cache goes back first */
                ingress_bundle_put(l->g, l->cache_head, l->cache_n);
                l->cache_n = 0;
        }
        ingress_slot(l->g, idx)->free_next = l->cache_n ? l->cache_head : SMX_SLOT_NONE;
        l->cache_head = idx;
        l->cache_n++;
}
/* Start loading, for writing, the slot lane_take hands out next. */
static inline void lane_prefetch_next(const struct smx_lane *l)
{
        if (l->cache_n == 0)
                return;
        const char *p = (const char *)ingress_slot(l->g, l->cache_head);
        for (unsigned off = 0; off < SMX_SLOT_SIZE; off += 64)
                __builtin_prefetch(p + off, 1, 3);
}

/* Publish idx[0..n) in order, n >= 1: on the lane (cells, then p_tail with
 * a release store), or on the shared ring when the lane has no room for
 * them; then the publisher's full fence of the sleep hand-shake, so the
 * caller's loads of the sleepers' flags after it cannot pass the
 * publication (ingress.h). Owner. */
static inline void lane_publish_n(struct smx_lane *l, const uint32_t *idx, uint32_t n)
{
        struct smx_idx_ring *r = &l->ring;
        uint32_t p = atomic_load_explicit(&r->p_tail, memory_order_relaxed);
        if (r->mask + 1 - (p - l->c_seen) < n) {       /* room left, as last seen */
                l->c_seen = atomic_load_explicit(&r->c_head, memory_order_acquire);
                if (r->mask + 1 - (p - l->c_seen) < n) {
                        ingress_publish_n(l->g, idx, n);   /* overflow: never fails */
                        smx_fence_sc();
                        return;
                }
        }
        for (uint32_t i = 0; i < n; i++)
                atomic_store_explicit(&r->cell[(p + i) & r->mask], idx[i], memory_order_relaxed);
        atomic_store_explicit(&r->p_tail, p + n, memory_order_release);
        smx_fence_sc();
}

#endif
