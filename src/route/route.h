/* Routing: which of a worker's binds takes the next MT (R4: only an ACTIVE
 * bind with window space; no per-bind queue). Pure: the caller says, per
 * candidate, whether it can take an MT now and how many requests it has
 * outstanding; the router applies the policy. The router state (rotation,
 * smooth-weighted credits) belongs to one worker. */
#ifndef SMX_ROUTE_H
#define SMX_ROUTE_H

#include <stdint.h>

#include "smsmux.h"

#define SMX_ROUTE_MAX_CAND 1024

struct smx_route_cand {
        uint8_t ready;          /* ACTIVE, window space, output space */
        uint32_t outstanding;   /* in-flight submit_sm */
        uint32_t weight;        /* site weight (0 = 1) */
        uint16_t bind;          /* global bind index */
};

/* One worker's router. */
struct smx_router {
        enum smx_route_policy policy;
        uint32_t rr;                             /* next start for round-robin */
        int64_t credit[SMX_ROUTE_MAX_CAND];      /* smooth weighted round-robin */
};

void route_init(struct smx_router *r, enum smx_route_policy policy);

/* Pick a candidate index in c[0..n), or -1 when none is ready. A candidate
 * whose bind is `avoid` (the bind of the MT's last attempt) is taken only
 * when no other is ready ("retry on another bind"). */
int route_pick(struct smx_router *r, const struct smx_route_cand *c, uint32_t n,
               uint16_t avoid);

#endif
