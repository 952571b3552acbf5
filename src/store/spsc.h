/* A single-producer single-consumer ring of fixed-size elements: the
 * hand-off between one worker and the store thread (rstore.h). The producer
 * owns tail, the consumer head; each publishes its index with a release
 * store after writing/reading the element, and reads the other's with an
 * acquire load. Capacity is a power of two; nothing allocates after init. */
#ifndef SMX_SPSC_H
#define SMX_SPSC_H

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct smx_spsc {
        _Alignas(64) _Atomic uint32_t head;     /* consumer writes */
        _Alignas(64) _Atomic uint32_t tail;     /* producer writes */
        _Alignas(64) uint32_t mask, esz;        /* read-only after init */
        uint8_t *buf;
};

static inline int spsc_init(struct smx_spsc *q, uint32_t cap_pow2, uint32_t esz)
{
        memset(q, 0, sizeof *q);
        q->mask = cap_pow2 - 1;
        q->esz = esz;
        q->buf = calloc(cap_pow2, esz);
        return q->buf ? 0 : -ENOMEM;
}

static inline void spsc_fini(struct smx_spsc *q)
{
        free(q->buf);
        q->buf = NULL;
}

/* Producer: the next free element, or NULL when full. */
static inline void *spsc_slot(struct smx_spsc *q)
{
        uint32_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
        uint32_t h = atomic_load_explicit(&q->head, memory_order_acquire);
        if (t - h > q->mask)
                return NULL;
        return q->buf + (size_t)(t & q->mask) * q->esz;
}

static inline void spsc_push(struct smx_spsc *q)
{
        atomic_store_explicit(&q->tail, atomic_load_explicit(&q->tail, memory_order_relaxed) + 1,
                              memory_order_release);
}

/* Consumer: the oldest element, or NULL when empty. */
static inline void *spsc_peek(struct smx_spsc *q)
{
        uint32_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
        uint32_t t = atomic_load_explicit(&q->tail, memory_order_acquire);
        if (h == t)
                return NULL;
        return q->buf + (size_t)(h & q->mask) * q->esz;
}

static inline void spsc_pop(struct smx_spsc *q)
{
        atomic_store_explicit(&q->head, atomic_load_explicit(&q->head, memory_order_relaxed) + 1,
                              memory_order_release);
}

static inline uint32_t spsc_count(struct smx_spsc *q)
{
        return atomic_load_explicit(&q->tail, memory_order_acquire) -
               atomic_load_explicit(&q->head, memory_order_acquire);
}

#endif
