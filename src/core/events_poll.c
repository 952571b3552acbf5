/* smx_events_poll: the single consumer of every worker's event ring (and
 * the HTTP transport's, and the shared store's: its records are released,
 * and so acknowledged in Redis, at the next poll, and each is shown only
 * while its lease runs: rstore.h, the fence; with the shared store an
 * outcome is shown only once its MT's correlation is in Redis: the outcome
 * gate, rstore.h). Events are handed to the
 * application in place (struct smx_event points into the ring entry of an
 * outcome, or into the full record of any other event: event_ring.h) and
 * released at the next poll; the rings are visited fairly, and the eventfd
 * is announced only when a poll found nothing, so a busy application makes
 * no syscall per event. */
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "core/client_int.h"
#include "http/http.h"

static void set_smsc(struct smx_client *c, uint8_t flags, uint16_t bind, struct smx_event *ev)
{
        if ((flags & SMX_EVF_HTTP) || bind == SMX_BIND_HTTP) {
                ev->smsc = "http";
                ev->site = "";
        } else if (bind < c->n_binds) {
                ev->smsc = c->binds[bind].name;
                ev->site = c->binds[bind].site;
        } else {
                ev->smsc = ev->site = "";
        }
}

/* The fields of struct smx_event past an outcome's (DR, MO and BIND ones)
 * zeroed one by one. A memset of the whole 160-octet struct per event
 * compiled to `rep stos`, whose start-up cost more than these stores
 * (bench/README.md "CPU per MT, issue 16"); the outcome's own fields are
 * all written by out_to_event / to_event. The assertion stops the build
 * when struct smx_event changes, so a new field cannot be left unset. */
_Static_assert(sizeof(struct smx_event) == 160 &&
                       offsetof(struct smx_event, state) == 64 &&
                       offsetof(struct smx_event, bind_reason) == 152,
               "struct smx_event changed: update event_clear_rest and event_clear");
static inline void event_clear_rest(struct smx_event *ev)
{
        ev->state = (enum smx_dr_state)0;
        memset(ev->err, 0, sizeof ev->err);
        ev->part = 0;
        ev->mt_final = 0;
        ev->mt_state = (enum smx_dr_state)0;
        ev->raw = 0;
        ev->from = ev->to = ev->text = NULL;
        ev->text_len = 0;
        ev->parts = 0;
        ev->partial = 0;
        ev->up = 0;
        ev->bind_reason = NULL;
}

/* Every field zero (the first line's, then the rest). */
static inline void event_clear(struct smx_event *ev)
{
        ev->type = (enum smx_event_type)0;
        ev->smsc = ev->site = ev->id = ev->message_id = NULL;
        ev->attempts = ev->status = 0;
        ev->reason = SMX_FAIL_NONE;
        ev->permanent = 0;
        ev->latency_us = 0;
        event_clear_rest(ev);
}

/* An outcome whole in its ring entry: one cache line read; every field of
 * *ev written once (no clear of the whole struct first). */
static void out_to_event(struct smx_client *c, const struct smx_ev_out *o, struct smx_event *ev)
{
        ev->type = (enum smx_event_type)o->type;
        set_smsc(c, o->flags, o->bind, ev);
        ev->id = o->str;
        const char *m = o->str + o->id_len + 1;
        ev->message_id = m[0] ? m : NULL;
        ev->attempts = o->attempts;
        ev->status = o->status;
        ev->reason = (enum smx_fail_reason)o->reason;
        ev->permanent = (o->flags & SMX_EVF_PERMANENT) != 0;
        ev->latency_us = o->latency_us;
        event_clear_rest(ev);
}

static void to_event(struct smx_client *c, const struct smx_ev_rec *e, struct smx_event *ev)
{
        event_clear(ev);
        ev->type = (enum smx_event_type)e->type;
        set_smsc(c, e->flags, e->bind, ev);
        switch (ev->type) {
        case SMX_EV_SUBMITTED:
        case SMX_EV_FAILED:
                ev->id = e->id;
                ev->message_id = e->message_id[0] ? e->message_id : NULL;
                ev->attempts = e->attempts;
                ev->status = e->status;
                ev->reason = (enum smx_fail_reason)e->reason;
                ev->permanent = (e->flags & SMX_EVF_PERMANENT) != 0;
                ev->latency_us = e->latency_us;
                break;
        case SMX_EV_DR:
                ev->id = (e->flags & SMX_EVF_HAS_ID) ? e->id : NULL;
                ev->message_id = e->message_id;
                ev->state = (enum smx_dr_state)e->state;
                memcpy(ev->err, e->err, sizeof ev->err);
                ev->err[sizeof ev->err - 1] = 0;
                ev->from = e->from;
                ev->to = e->to;
                ev->text = event_rec_text(e);
                ev->text_len = e->text_len;
                if (e->flags & SMX_EVF_HAS_ID) {
                        ev->part = e->part;
                        ev->parts = e->parts ? e->parts : 1;
                }
                ev->mt_final = (e->flags & SMX_EVF_MT_FINAL) != 0;
                ev->mt_state = ev->mt_final ? (enum smx_dr_state)e->mt_state : (enum smx_dr_state)0;
                ev->raw = (e->flags & SMX_EVF_RAW) != 0;
                break;
        case SMX_EV_MO:
                ev->from = e->from;
                ev->to = e->to;
                ev->text = event_rec_text(e);
                ev->text_len = e->text_len;
                ev->parts = e->parts ? e->parts : 1;
                ev->partial = (e->flags & SMX_EVF_PARTIAL) != 0;
                ev->raw = (e->flags & SMX_EVF_RAW) != 0;
                break;
        case SMX_EV_BIND:
                ev->up = (e->flags & SMX_EVF_UP) != 0;
                ev->status = e->status;
                ev->bind_reason = e->reason_text[0] ? e->reason_text : NULL;
                break;
        default:
                break;
        }
}

/* Event ring r: the workers' first, then the HTTP transport's, then the
 * shared store's. */
static struct smx_event_ring *ring_at(struct smx_client *c, unsigned r)
{
        if (r < c->n_workers)
                return c->workers[r].evr;
        r -= c->n_workers;
        if (c->http) {
                if (r < SMX_HTTP_RINGS)
                        return smx_http_ring(c->http, r);
                r -= SMX_HTTP_RINGS;
        }
        return rstore_ring(c->rstore);
}

/* The shared store's ring (the last): up to `take` records, each only
 * while its lease runs (the fence, rstore.h): one whose lease ran out
 * stops this ring until the store thread renews it or drops it; a dropped
 * one (another instance took its entry over) is taken unseen and released
 * with the others. Returns the events written; *used the records taken. */
static size_t collect_store(struct smx_client *c, unsigned k, struct smx_event *ev,
                            size_t take, uint32_t *used)
{
        struct smx_event_ring *r = ring_at(c, k);
        struct rs_fence f = rstore_fence(c->rstore);
        uint64_t now = rstore_mono_ms();
        struct smx_ev_view v = event_ring_view(r);
        uint32_t held = c->held[k], avail = event_ring_readable(r) - held, u = 0;
        size_t n = 0;
        while (n < take && u < avail) {
                enum rs_fence_verdict fv = rs_fence_check(f, v.head + held + u, now);
                if (fv == RS_FENCE_WAIT)
                        break;
                const struct smx_ev_out *o = event_view_nth(v, held + u);
                u++;
                if (fv == RS_FENCE_DROP)
                        continue;
                if (o->type == SMX_EV_OUT_BIG)
                        to_event(c, event_ring_big(r, o), &ev[n++]);
                else
                        out_to_event(c, o, &ev[n++]);
        }
        c->store_shown += (uint32_t)n;
        *used = u;
        return n;
}

/* Of the `avail` entries of r after the `held` ones, how many may be shown
 * now: all, or for a ring gated by the shared store (event_ring_gate) those
 * committed when no more correlation writes were pushed than are settled
 * (rstore_corr_done), so an MT's SUBMITTED waits for its correlation and
 * the entries after it for it. The counts grow along the ring: when the
 * last passes, all do (one load); else the first that does not stops it. */
static uint32_t gate_avail(struct smx_client *c, struct smx_event_ring *r, struct smx_ev_view v,
                           uint32_t held, uint32_t avail)
{
        if (!r->gate || !avail)
                return avail;
        uint32_t done = rstore_corr_done(c->rstore, r->gate_q);
        const uint32_t *g = r->gate;
        if ((int32_t)(g[(v.head + held + avail - 1) & v.mask] - done) <= 0)
                return avail;
        uint32_t n = 0;
        while (n < avail && (int32_t)(g[(v.head + held + n) & v.mask] - done) <= 0)
                n++;
        return n;
}

/* Hand out up to max committed events, at most `quota` per ring per pass,
 * the rings in turn (a fair share when several are busy). Per ring and
 * pass: one acquire load of its tail, then the entries in order, the one
 * COLLECT_AHEAD ahead prefetched (the worker wrote it: its first load
 * would stall). */
#define COLLECT_AHEAD 8u
static size_t collect(struct smx_client *c, struct smx_event *ev, size_t max)
{
        size_t n = 0;
        unsigned W = c->n_rings;
        size_t quota = max / W ? max / W : 1;
        int progress = 1;
        while (n < max && progress) {
                progress = 0;
                for (unsigned j = 0; j < W && n < max; j++) {
                        unsigned k = (c->poll_rr + j) % W;
                        if (c->rstore && k == W - 1) {
                                size_t want = quota < max - n ? quota : max - n;
                                uint32_t used;
                                n += collect_store(c, k, ev + n, want, &used);
                                if (used) {
                                        c->held[k] += used;
                                        progress = 1;
                                }
                                continue;
                        }
                        struct smx_event_ring *r = ring_at(c, k);
                        uint32_t held = c->held[k];
                        uint32_t avail = event_ring_readable(r) - held;
                        struct smx_ev_view v = event_ring_view(r);
                        avail = gate_avail(c, r, v, held, avail);
                        size_t take = avail < quota ? avail : quota;
                        if (take > max - n)
                                take = max - n;
                        for (size_t q = 0; q < take; q++) {
                                const struct smx_ev_out *o = event_view_nth(v, held + (uint32_t)q);
                                if (q == 0)
                                        for (uint32_t a = 1; a < COLLECT_AHEAD && a < take; a++)
                                                __builtin_prefetch(event_view_nth(v, held + a));
                                if (q + COLLECT_AHEAD < take)
                                        __builtin_prefetch(
                                                event_view_nth(v, held + (uint32_t)q + COLLECT_AHEAD));
                                if (o->type == SMX_EV_OUT_BIG)
                                        to_event(c, event_ring_big(r, o), &ev[n++]);
                                else
                                        out_to_event(c, o, &ev[n++]);
                        }
                        if (take) {
                                c->held[k] = held + (uint32_t)take;
                                progress = 1;
                        }
                }
        }
        c->poll_rr = (c->poll_rr + 1) % W;
        return n;
}

/* Records of the store's ring taken unseen (dropped by the fence) and
 * none shown: released now, not at the next poll (an application that
 * was shown nothing may sleep until the store wakes it). */
static void store_release_unseen(struct smx_client *c)
{
        unsigned k = c->n_rings - 1;
        if (!c->rstore || !c->held[k] || c->store_shown)
                return;
        event_ring_release_n(ring_at(c, k), c->held[k]);
        c->held[k] = 0;
        rstore_released(c->rstore);
}

size_t smx_events_poll(smx_client *c, struct smx_event *ev, size_t max)
{
        if (!c || !c->workers)
                return 0;
        for (unsigned k = 0; k < c->n_rings; k++) {
                if (!c->held[k])
                        continue;
                event_ring_release_n(ring_at(c, k), c->held[k]);
                c->held[k] = 0;
                if (c->rstore && k == c->n_rings - 1) {
                        c->store_shown = 0;
                        rstore_released(c->rstore);   /* the shared store's: acknowledged in Redis now */
                }
        }
        if (!ev || max == 0)
                return 0;
        size_t n = collect(c, ev, max);
        store_release_unseen(c);
        if (n == 0) {
                /* announce that we may sleep, then look once more: a record
                 * committed before the announcement is seen here, one after it
                 * writes the eventfd (worker: wake_app) */
                atomic_store(&c->app_sleeping, 1);
                c->efd_armed = 1;
                n = collect(c, ev, max);
                store_release_unseen(c);
                if (n > 0)
                        atomic_store(&c->app_sleeping, 0);
        }
        if (n > 0 && c->efd_armed) {
                /* once per sleep cycle, not per poll: clear a wake-up that may
                 * have been written since we announced the sleep */
                uint64_t v;
                ssize_t r = read(c->app_efd, &v, sizeof v);
                (void)r;
                c->efd_armed = 0;
        }
        return n;
}

int smx_events_fd(smx_client *c)
{
        return c ? c->app_efd : -1;
}
