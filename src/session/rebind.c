/* Rebind clock (see rebind.h). "More than interval apart" is enforced with
 * a margin (SMX_REBIND_MARGIN_MS), so an attempt exactly `interval` after
 * the last can never happen even with zero jitter. */
#include "session/rebind.h"

void rebind_init(struct smx_rebind_clock *c)
{
        c->attempts = 0;
        c->last_ms = 0;
        c->next_ms = 0;
        c->min_spacing_ms = UINT64_MAX;
}

int rebind_due(const struct smx_rebind_clock *c, uint64_t now_ms)
{
        return c->attempts == 0 || now_ms >= c->next_ms;
}

void rebind_attempt(struct smx_rebind_clock *c, uint64_t now_ms, uint32_t interval_ms,
                    uint32_t jitter_ms, uint32_t rnd)
{
        if (c->attempts > 0) {
                uint64_t gap = now_ms - c->last_ms;
                if (gap < c->min_spacing_ms)
                        c->min_spacing_ms = gap;
        }
        c->attempts++;
        c->last_ms = now_ms;
        c->next_ms = now_ms + interval_ms + SMX_REBIND_MARGIN_MS +
                     (jitter_ms ? rnd % (jitter_ms + 1) : 0);
}
