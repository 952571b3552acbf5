/* Routing policies (see route.h).
 *  - round-robin: the next ready candidate after the last one chosen;
 *  - least-outstanding: the ready candidate with the fewest in-flight
 *    requests (ties: lowest index after the rotation point);
 *  - site-weighted: smooth weighted round-robin (each pick adds every ready
 *    candidate's weight to its credit, takes the largest, subtracts the
 *    total), which spreads picks in proportion to weights without bursts. */
#include <string.h>

#include "route/route.h"

void route_init(struct smx_router *r, enum smx_route_policy policy)
{
        memset(r, 0, sizeof *r);
        r->policy = policy;
}

static int usable(const struct smx_route_cand *c, uint16_t avoid, int allow_avoid)
{
        return c->ready && (allow_avoid || c->bind != avoid);
}

static int pick_pass(struct smx_router *r, const struct smx_route_cand *c, uint32_t n,
                     uint16_t avoid, int allow_avoid)
{
        int best = -1;
        switch (r->policy) {
        case SMX_ROUTE_LEAST_OUTSTANDING:
                for (uint32_t k = 0; k < n; k++) {
                        uint32_t i = (r->rr + k) % n;
                        if (usable(&c[i], avoid, allow_avoid) &&
                            (best < 0 || c[i].outstanding < c[best].outstanding))
                                best = (int)i;
                }
                if (best >= 0)
                        r->rr = ((uint32_t)best + 1) % n;
                return best;
        case SMX_ROUTE_SITE_WEIGHTED: {
                int64_t total = 0;
                for (uint32_t i = 0; i < n && i < SMX_ROUTE_MAX_CAND; i++) {
                        if (!usable(&c[i], avoid, allow_avoid))
                                continue;
                        int64_t w = c[i].weight ? c[i].weight : 1;
                        r->credit[i] += w;
                        total += w;
                        if (best < 0 || r->credit[i] > r->credit[best])
                                best = (int)i;
                }
                if (best >= 0)
                        r->credit[best] -= total;
                return best;
        }
        case SMX_ROUTE_ROUND_ROBIN:
        default:
                for (uint32_t k = 0; k < n; k++) {
                        uint32_t i = (r->rr + k) % n;
                        if (usable(&c[i], avoid, allow_avoid)) {
                                r->rr = (i + 1) % n;
                                return (int)i;
                        }
                }
                return -1;
        }
}

int route_pick(struct smx_router *r, const struct smx_route_cand *c, uint32_t n,
               uint16_t avoid)
{
        if (n == 0)
                return -1;
        if (n > SMX_ROUTE_MAX_CAND)
                n = SMX_ROUTE_MAX_CAND;
        int i = pick_pass(r, c, n, avoid, 0);
        if (i < 0)
                i = pick_pass(r, c, n, avoid, 1);
        return i;
}
