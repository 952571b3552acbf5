/* The per-SMSC rebind clock (R2): each connect attempt to an SMSC starts
 * more than `interval` ms after the previous attempt to that SMSC, plus a
 * random jitter, whatever ended the last session; the very first attempt is
 * immediate. It also keeps the figures smx_client_binds() reports (attempts,
 * shortest spacing). Pure: time and randomness come from the caller. Owned by
 * the worker that owns the bind. */
#ifndef SMX_REBIND_H
#define SMX_REBIND_H

#include <stdint.h>

/* Added to every spacing: the connect is issued a little after the attempt
 * is recorded (end of the worker's loop turn) and the SMSC sees it when it
 * accepts, so "more than interval apart" keeps a margin for both. */
#define SMX_REBIND_MARGIN_MS 50u

struct smx_rebind_clock {
        uint64_t attempts;
        uint64_t last_ms;          /* time of the last attempt */
        uint64_t next_ms;          /* earliest time of the next attempt */
        uint64_t min_spacing_ms;   /* shortest gap seen, UINT64_MAX before 2 attempts */
};

void rebind_init(struct smx_rebind_clock *c);
/* May an attempt start at `now`? */
int rebind_due(const struct smx_rebind_clock *c, uint64_t now_ms);
/* Record an attempt at `now`; the next one is allowed at
 * now + interval + SMX_REBIND_MARGIN_MS + (rnd % (jitter + 1)). */
void rebind_attempt(struct smx_rebind_clock *c, uint64_t now_ms, uint32_t interval_ms,
                    uint32_t jitter_ms, uint32_t rnd);

#endif
