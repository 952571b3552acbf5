/* SPSC event ring (see event_ring.h). The producer owns `tail` and the
 * records between tail and head+capacity; the consumer owns `head` and the
 * records between head and tail. Each index is published with a release
 * store and read with an acquire load, so a record's contents are complete
 * before the other side can see the index that covers it. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "events/event_ring.h"

struct smx_event_ring {
        _Alignas(64) _Atomic uint32_t head;    /* written by the consumer */
        _Alignas(64) _Atomic uint32_t tail;    /* written by the producer */
        _Alignas(64) uint32_t mask;            /* read-only after create */
        uint32_t cached_head;                  /* producer's last view of head */
        struct smx_ev_rec *recs;
};

struct smx_event_ring *event_ring_create(uint32_t capacity_pow2)
{
        if (capacity_pow2 < 2 || (capacity_pow2 & (capacity_pow2 - 1)) != 0)
                return NULL;
        struct smx_event_ring *r = aligned_alloc(64, sizeof *r);
        if (!r)
                return NULL;
        memset(r, 0, sizeof *r);
        r->mask = capacity_pow2 - 1;
        r->recs = calloc(capacity_pow2, sizeof *r->recs);
        if (!r->recs) {
                free(r);
                return NULL;
        }
        return r;
}

void event_ring_destroy(struct smx_event_ring *r)
{
        if (!r)
                return;
        uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
        uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
        for (; h != t; h++)
                free(r->recs[h & r->mask].text_heap);
        free(r->recs);
        free(r);
}

uint32_t event_ring_space_w(const struct smx_event_ring *r)
{
        /* acquire: pairs with the consumer's release of head, so records it
         * released are no longer being read when we reuse them */
        uint32_t h = atomic_load_explicit(&((struct smx_event_ring *)r)->head, memory_order_acquire);
        uint32_t t = atomic_load_explicit(&((struct smx_event_ring *)r)->tail, memory_order_relaxed);
        return r->mask + 1 - (t - h);
}

uint32_t event_ring_used(const struct smx_event_ring *r)
{
        struct smx_event_ring *m = (struct smx_event_ring *)r;
        uint32_t h = atomic_load_explicit(&m->head, memory_order_acquire);
        uint32_t t = atomic_load_explicit(&m->tail, memory_order_acquire);
        return t - h;
}

#define EV_AHEAD 8

static struct smx_ev_rec *next_free(struct smx_event_ring *r)
{
        uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
        if (t - r->cached_head > r->mask) {
                /* acquire: see event_ring_space_w */
                r->cached_head = atomic_load_explicit(&r->head, memory_order_acquire);
                if (t - r->cached_head > r->mask)
                        return NULL;
        }
        /* the ring is far larger than a cache: start loading, for writing,
         * the part of a record written EV_AHEAD records from now that an
         * outcome fills, so that record's stores do not wait for memory */
        const char *ahead = (const char *)&r->recs[(t + EV_AHEAD) & r->mask];
        __builtin_prefetch(ahead, 1, 3);
        __builtin_prefetch(ahead + 64, 1, 3);
        __builtin_prefetch(ahead + 128, 1, 3);
        return &r->recs[t & r->mask];
}

struct smx_ev_rec *event_ring_reserve_w(struct smx_event_ring *r)
{
        struct smx_ev_rec *e = next_free(r);
        if (!e)
                return NULL;
        /* Clear the header (text_len, text_heap included) and the string
         * heads; the buffers need no wipe because every string is written
         * NUL-terminated or left empty. */
        memset(e, 0, offsetof(struct smx_ev_rec, id));
        e->bind = 0xFFFF;
        e->id[0] = e->message_id[0] = e->err[0] = e->reason_text[0] = 0;
        e->from[0] = e->to[0] = e->text[0] = 0;
        return e;
}

struct smx_ev_rec *event_ring_reserve_outcome_w(struct smx_event_ring *r)
{
        struct smx_ev_rec *e = next_free(r);
        if (!e)
                return NULL;
        memset(e, 0, offsetof(struct smx_ev_rec, id));
        e->bind = 0xFFFF;
        e->id[0] = e->message_id[0] = 0;
        return e;
}

void event_ring_commit_w(struct smx_event_ring *r)
{
        uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
        /* release: the record's contents happen-before the consumer's
         * acquire load of the new tail */
        atomic_store_explicit(&r->tail, t + 1, memory_order_release);
}

struct smx_ev_rec *event_ring_peek(struct smx_event_ring *r)
{
        uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
        /* acquire: pairs with commit's release; the record is complete */
        uint32_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (h == t)
                return NULL;
        return &r->recs[h & r->mask];
}

struct smx_ev_rec *event_ring_peek_nth(struct smx_event_ring *r, uint32_t n)
{
        uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
        /* acquire: pairs with commit's release; records up to tail are complete */
        uint32_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (t - h <= n)
                return NULL;
        return &r->recs[(h + n) & r->mask];
}

void event_ring_release(struct smx_event_ring *r)
{
        uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
        struct smx_ev_rec *e = &r->recs[h & r->mask];
        free(e->text_heap);
        e->text_heap = NULL;
        /* release: our reads of the record are done before the producer may
         * reuse it */
        atomic_store_explicit(&r->head, h + 1, memory_order_release);
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
