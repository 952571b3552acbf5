/* SPSC event ring (see event_ring.h). The producer owns `tail`, `big_tail`
 * and the entries between tail and head+capacity; the consumer owns `head`
 * and the entries between head and tail. Each index is published with a
 * release store and read with an acquire load, so an entry's contents (and
 * its record's) are complete before the other side can see the index that
 * covers it.
 *
 * The records of the side array are taken in entry order (big_tail) and each
 * is released with its entry, so the records in use are at most the entries
 * in use: a free entry implies a free record, and the consumer finds a record
 * through its entry's `big` index alone. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "events/event_ring.h"

struct smx_event_ring *event_ring_create(uint32_t capacity_pow2)
{
        if (capacity_pow2 < 2 || (capacity_pow2 & (capacity_pow2 - 1)) != 0)
                return NULL;
        struct smx_event_ring *r = aligned_alloc(64, sizeof *r);
        if (!r)
                return NULL;
        memset(r, 0, sizeof *r);
        r->mask = capacity_pow2 - 1;
        r->outs = aligned_alloc(64, (size_t)capacity_pow2 * sizeof *r->outs);
        r->recs = calloc(capacity_pow2, sizeof *r->recs);
        if (!r->outs || !r->recs) {
                free(r->outs);
                free(r->recs);
                free(r);
                return NULL;
        }
        memset(r->outs, 0, (size_t)capacity_pow2 * sizeof *r->outs);
        return r;
}

void event_ring_destroy(struct smx_event_ring *r)
{
        if (!r)
                return;
        uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
        uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
        for (; h != t; h++) {
                const struct smx_ev_out *o = &r->outs[h & r->mask];
                if (o->type == SMX_EV_OUT_BIG)
                        free(r->recs[o->big & r->mask].text_heap);
        }
        free(r->outs);
        free(r->recs);
        free(r->gate);
        free(r);
}

int event_ring_gate(struct smx_event_ring *r, const _Atomic uint32_t *count, unsigned q)
{
        uint32_t *g = calloc((size_t)r->mask + 1, sizeof *g);
        if (!g)
                return -ENOMEM;
        r->gate = g;
        r->gate_src = count;
        r->gate_q = q;
        return 0;
}

uint32_t event_ring_used(const struct smx_event_ring *r)
{
        struct smx_event_ring *m = (struct smx_event_ring *)r;
        uint32_t h = atomic_load_explicit(&m->head, memory_order_acquire);
        uint32_t t = atomic_load_explicit(&m->tail, memory_order_acquire);
        return t - h;
}

struct smx_ev_rec *event_ring_reserve_w(struct smx_event_ring *r)
{
        if (!event_ring_next_free_w(r))
                return NULL;
        r->reserved_big = 1;
        struct smx_ev_rec *e = &r->recs[r->big_tail & r->mask];
        /* the record SMX_EV_AHEAD records from now: its header and the string
         * heads an outcome or a DR writes first */
        const char *ahead = (const char *)&r->recs[(r->big_tail + SMX_EV_AHEAD) & r->mask];
        __builtin_prefetch(ahead, 1, 3);
        __builtin_prefetch(ahead + 64, 1, 3);
        __builtin_prefetch(ahead + 128, 1, 3);
        /* Clear the header (text_len, text_heap included) and the string
         * heads; the buffers need no wipe because every string is written
         * NUL-terminated or left empty. */
        memset(e, 0, offsetof(struct smx_ev_rec, id));
        e->bind = 0xFFFF;
        e->id[0] = e->message_id[0] = e->err[0] = e->reason_text[0] = 0;
        e->from[0] = e->to[0] = e->text[0] = 0;
        return e;
}

const struct smx_ev_out *event_ring_peek_out_nth(struct smx_event_ring *r, uint32_t n)
{
        uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
        /* acquire: pairs with commit's release; entries up to tail are complete */
        uint32_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (t - h <= n)
                return NULL;
        return &r->outs[(h + n) & r->mask];
}

uint32_t event_ring_readable(struct smx_event_ring *r)
{
        uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
        /* acquire: pairs with commit's release; entries up to tail are complete */
        return atomic_load_explicit(&r->tail, memory_order_acquire) - h;
}

struct smx_ev_view event_ring_view(struct smx_event_ring *r)
{
        return (struct smx_ev_view){
                .outs = r->outs,
                .head = atomic_load_explicit(&r->head, memory_order_relaxed),
                .mask = r->mask,
        };
}

struct smx_ev_rec *event_ring_big(struct smx_event_ring *r, const struct smx_ev_out *o)
{
        return &r->recs[o->big & r->mask];
}

struct smx_ev_rec *event_ring_peek(struct smx_event_ring *r)
{
        const struct smx_ev_out *o = event_ring_peek_out_nth(r, 0);
        if (!o)
                return NULL;
        if (o->type == SMX_EV_OUT_BIG)
                return event_ring_big(r, o);
        struct smx_ev_rec *e = &r->scratch;
        memset(e, 0, offsetof(struct smx_ev_rec, id));
        e->type = o->type;
        e->flags = o->flags;
        e->reason = o->reason;
        e->bind = o->bind;
        e->status = o->status;
        e->attempts = o->attempts;
        e->latency_us = o->latency_us;
        event_copy_str(e->id, sizeof e->id, o->str, o->id_len);
        const char *m = o->str + o->id_len + 1;
        event_copy_str(e->message_id, sizeof e->message_id, m, strlen(m));
        e->err[0] = e->reason_text[0] = e->from[0] = e->to[0] = e->text[0] = 0;
        return e;
}

void event_ring_release(struct smx_event_ring *r)
{
        uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
        const struct smx_ev_out *o = &r->outs[h & r->mask];
        if (o->type == SMX_EV_OUT_BIG) {
                struct smx_ev_rec *e = &r->recs[o->big & r->mask];
                free(e->text_heap);
                e->text_heap = NULL;
        }
        /* release: our reads of the entry and its record are done before the
         * producer may reuse them */
        atomic_store_explicit(&r->head, h + 1, memory_order_release);
}

void event_ring_release_n(struct smx_event_ring *r, uint32_t n)
{
        if (n == 0)
                return;
        uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
        for (uint32_t i = 0; i < n; i++) {
                const struct smx_ev_out *o = &r->outs[(h + i) & r->mask];
                if (o->type == SMX_EV_OUT_BIG) {
                        struct smx_ev_rec *e = &r->recs[o->big & r->mask];
                        free(e->text_heap);
                        e->text_heap = NULL;
                }
        }
        /* release: our reads of the entries and their records are done
         * before the producer may reuse them */
        atomic_store_explicit(&r->head, h + n, memory_order_release);
}

int event_rec_set_text(struct smx_ev_rec *e, const char *text, size_t len)
{
        if (len < SMX_EV_TEXT_INLINE) {
                if (len)
                        memcpy(e->text, text, len);
                e->text[len] = 0;
                e->text_heap = NULL;
        } else {
                char *h = malloc(len + 1);
                if (!h)
                        return -ENOMEM;
                memcpy(h, text, len);
                h[len] = 0;
                e->text_heap = h;
                e->text[0] = 0;
        }
        e->text_len = (uint32_t)len;
        return 0;
}

size_t event_copy_str(char *dst, size_t cap, const void *src, size_t len)
{
        if (cap == 0)
                return 0;
        if (len > cap - 1)
                len = cap - 1;
        if (len)
                memcpy(dst, src, len);
        dst[len] = 0;
        return len;
}
