/* The engine's clock (monotonic ns), its random draws (xorshift64*, seeded
 * for reproducible behaviour) and the timer queue: a binary min-heap on
 * (due time, insertion order), so timers due at the same instant run in the
 * order they were added. Engine thread (or under the lock). */
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "sim_engine.h"

uint64_t sim_now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

double sim_rand(struct smsc_sim *s)
{
        /* xorshift64*: good enough for behaviour draws, reproducible by seed */
        uint64_t x = s->rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s->rng = x;
        return (double)((x * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
}

double sim_range_draw(struct smsc_sim *s, const struct sim_range *r)
{
        if (r->exp) {
                double v = -r->lo * log(1.0 - sim_rand(s));
                return r->hi > 0 && v > r->hi ? r->hi : v;
        }
        if (r->hi <= r->lo)
                return r->lo;
        return r->lo + (r->hi - r->lo) * sim_rand(s);
}

/* ---- timers: a min-heap on (at, order) ---- */

static int timer_less(const struct sim_timer *a, const struct sim_timer *b)
{
        return a->at < b->at || (a->at == b->at && a->order < b->order);
}

void sim_timer_add(struct smsc_sim *s, uint64_t at, int kind, uint64_t sess_id, void *p, uint64_t a)
{
        if (s->n_timers == s->cap_timers) {
                size_t nc = s->cap_timers ? s->cap_timers * 2 : 1024;
                struct sim_timer *nt = realloc(s->timers, nc * sizeof(*nt));
                if (!nt) {
                        if (kind == SIM_T_RESP)
                                free(p);
                        return;
                }
                s->timers = nt;
                s->cap_timers = nc;
        }
        size_t i = s->n_timers++;
        struct sim_timer t = { at, s->timer_order++, kind, sess_id, p, a };
        while (i > 0) {
                size_t parent = (i - 1) / 2;
                if (!timer_less(&t, &s->timers[parent]))
                        break;
                s->timers[i] = s->timers[parent];
                i = parent;
        }
        s->timers[i] = t;
}

void sim_timer_pop(struct smsc_sim *s, struct sim_timer *out)
{
        *out = s->timers[0];
        struct sim_timer last = s->timers[--s->n_timers];
        size_t i = 0, n = s->n_timers;
        for (;;) {
                size_t l = 2 * i + 1, r = l + 1, m = i;
                const struct sim_timer *best = &last;
                if (l < n && timer_less(&s->timers[l], best)) {
                        m = l;
                        best = &s->timers[l];
                }
                if (r < n && timer_less(&s->timers[r], best))
                        m = r;
                if (m == i)
                        break;
                s->timers[i] = s->timers[m];
                i = m;
        }
        if (n)
                s->timers[i] = last;
}
