/* Slot pool, free stack and the ingress ring (see ingress.h and
 * idx_ring.h: the ring of n_slots cells holds all n_slots indices).
 *
 * The free stack (Treiber): pop reads the top slot's free_next and CASes
 * the top from (v, idx) to (v+1, next); push links the slot to the current
 * top and CASes (v, top) to (v+1, idx). The version makes a CAS fail when
 * the top was popped and pushed back in between (ABA); a stale free_next
 * read is harmless because that CAS then fails. Release on push / acquire
 * on pop hand the slot's contents over with it. A text too long for its
 * slot is in a block of the text pool (text_pool.c), returned on free. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ingress/ingress.h"

_Static_assert(sizeof(struct smx_slot) + 210 <= SMX_SLOT_SIZE,
               "an MT slot holds 70 three-byte UTF-8 characters inline");
_Static_assert(sizeof(struct smx_slot) <= 4 * 64 && SMX_SLOT_SIZE % 64 == 0,
               "slots are whole cache lines");

int ingress_init(struct smx_ingress *g, uint32_t n_slots)
{
        memset(g, 0, sizeof *g);
        (void)text_pool_init(&g->text, 0, 0);   /* empty until ingress_text_init */
        if (n_slots < 2 || (n_slots & (n_slots - 1)) || n_slots > (1u << 24))
                return -EINVAL;
        g->n_slots = n_slots;
        g->slots = aligned_alloc(64, (size_t)n_slots * SMX_SLOT_SIZE);
        g->in_ring.cell = calloc(n_slots, sizeof *g->in_ring.cell);
        if (!g->slots || !g->in_ring.cell) {
                ingress_fini(g);
                return -ENOMEM;
        }
        memset(g->slots, 0, (size_t)n_slots * SMX_SLOT_SIZE);
        g->in_ring.mask = n_slots - 1;
        for (uint32_t i = 0; i < n_slots; i++) {
                struct smx_slot *s = ingress_slot(g, i);
                s->next = SMX_SLOT_NONE;
                s->last_bind = 0xFFFF;
                atomic_init(&s->next, i + 1 < n_slots ? i + 1 : SMX_SLOT_NONE);
        }
        atomic_init(&g->free_top, 0);   /* version 0, slot 0 on top */
        return 0;
}

int ingress_text_init(struct smx_ingress *g, uint32_t n_long)
{
        if (n_long == 0)
                n_long = g->n_slots / 8 ? g->n_slots / 8 : 1;
        if (n_long > g->n_slots)
                n_long = g->n_slots;
        return text_pool_init(&g->text, n_long, n_long / 4 ? n_long / 4 : 1);
}

void ingress_fini(struct smx_ingress *g)
{
        text_pool_fini(&g->text);
        free(g->slots);
        free((void *)g->in_ring.cell);
        memset(g, 0, sizeof *g);
}

static inline uint64_t top_make(uint64_t old, uint32_t idx)
{
        return (((old >> 32) + 1) << 32) | idx;
}

uint32_t ingress_slot_take(struct smx_ingress *g)
{
        uint64_t top = atomic_load_explicit(&g->free_top, memory_order_acquire);
        for (;;) {
                uint32_t idx = (uint32_t)top;
                if (idx == SMX_SLOT_NONE)
                        return SMX_SLOT_NONE;
                uint32_t next = atomic_load_explicit(&ingress_slot(g, idx)->next,
                                                     memory_order_relaxed);
                if (atomic_compare_exchange_weak_explicit(&g->free_top, &top,
                                                          top_make(top, next),
                                                          memory_order_acquire,
                                                          memory_order_acquire))
                        return idx;
        }
}

uint32_t ingress_slot_take_n(struct smx_ingress *g, uint32_t *out, uint32_t max)
{
        uint64_t top = atomic_load_explicit(&g->free_top, memory_order_acquire);
        for (;;) {
                /* walk the chain below the top: if the CAS succeeds, the top's
                 * version did not move, so nobody popped or pushed meanwhile
                 * and every link read is the one in the stack */
                uint32_t n = 0, idx = (uint32_t)top;
                int stale = 0;
                while (n < max && idx != SMX_SLOT_NONE) {
                        out[n++] = idx;
                        idx = atomic_load_explicit(&ingress_slot(g, idx)->next,
                                                   memory_order_relaxed);
                        if (idx != SMX_SLOT_NONE && idx >= g->n_slots) {
                                stale = 1;   /* a slot taken meanwhile: look again */
                                break;
                        }
                }
                if (stale) {
                        top = atomic_load_explicit(&g->free_top, memory_order_acquire);
                        continue;
                }
                if (n == 0)
                        return 0;
                if (atomic_compare_exchange_weak_explicit(&g->free_top, &top,
                                                          top_make(top, idx),
                                                          memory_order_acquire,
                                                          memory_order_acquire))
                        return n;
        }
}

void ingress_slot_free(struct smx_ingress *g, uint32_t idx)
{
        struct smx_slot *s = ingress_slot(g, idx);
        if (s->overflow) {
                text_pool_put(&g->text, s->overflow);
                s->overflow = NULL;
        }
        s->gen++;
        atomic_fetch_add_explicit(&s->tag, 1, memory_order_relaxed);
        uint64_t top = atomic_load_explicit(&g->free_top, memory_order_relaxed);
        do
                atomic_store_explicit(&s->next, (uint32_t)top, memory_order_relaxed);
        while (!atomic_compare_exchange_weak_explicit(&g->free_top, &top, top_make(top, idx),
                                                      memory_order_release,
                                                      memory_order_relaxed));
}

void ingress_push(struct smx_ingress *g, uint32_t idx)
{
        /* cannot fail: the ring holds all n_slots indices */
        (void)idx_ring_push(&g->in_ring, idx);
}

void ingress_push_n(struct smx_ingress *g, const uint32_t *idx, uint32_t n)
{
        if (n)
                (void)idx_ring_push_n(&g->in_ring, idx, n);   /* cannot fail, as above */
}

uint32_t ingress_pop(struct smx_ingress *g)
{
        uint32_t idx;
        return idx_ring_pop_n(&g->in_ring, &idx, 1) ? idx : SMX_SLOT_NONE;
}

uint32_t ingress_queued(const struct smx_ingress *g)
{
        return idx_ring_size(&g->in_ring);
}
