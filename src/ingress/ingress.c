/* Slot pool, free stack and the ingress ring (see ingress.h and
 * idx_ring.h: the ring of n_slots cells holds all n_slots indices).
 *
 * The free slots are a free stack (free_stack.h) linked through each
 * slot's `next`: the slot freed last is taken first, still in cache. A text
 * too long for its slot is in a block of the text pool (text_pool.c),
 * returned on free. The slots are one region on transparent huge pages
 * (mem/region.h). */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ingress/free_stack.h"
#include "ingress/ingress.h"
#include "mem/region.h"

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
        g->slots = smx_region_alloc((size_t)n_slots * SMX_SLOT_SIZE);   /* zeroed, THP */
        g->in_ring.cell = calloc(n_slots, sizeof *g->in_ring.cell);
        if (!g->slots || !g->in_ring.cell) {
                ingress_fini(g);
                return -ENOMEM;
        }
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
        smx_region_free(g->slots, (size_t)g->n_slots * SMX_SLOT_SIZE);
        free((void *)g->in_ring.cell);
        memset(g, 0, sizeof *g);
}

uint32_t ingress_slot_take_n(struct smx_ingress *g, uint32_t *out, uint32_t max)
{
        return free_stack_pop_n(&g->free_top, ingress_slot_links(g), g->n_slots, out, max);
}

/* The slot's side of a free: its text block back to the pool, a new
 * identity, answers of its last attempt stale. Only the thread that holds
 * the index writes the slot, so the tag moves on with a plain store (other
 * workers only read it: mt_ref_ok), not a locked increment. */
static void slot_release(struct smx_ingress *g, struct smx_slot *s)
{
        if (s->overflow) {
                text_pool_put(&g->text, s->overflow);
                s->overflow = NULL;
        }
        s->gen++;
        atomic_store_explicit(&s->tag, atomic_load_explicit(&s->tag, memory_order_relaxed) + 1,
                              memory_order_relaxed);
}

void ingress_slot_free(struct smx_ingress *g, uint32_t idx)
{
        slot_release(g, ingress_slot(g, idx));
        free_stack_push(&g->free_top, ingress_slot_links(g), idx);
}

void ingress_chain_add(struct smx_ingress *g, struct smx_slot_chain *ch, uint32_t idx)
{
        struct smx_slot *s = ingress_slot(g, idx);
        slot_release(g, s);
        /* newest first: it goes on top, the one freed last is taken first */
        atomic_store_explicit(&s->next, ch->first, memory_order_relaxed);
        if (ch->n++ == 0)
                ch->last = idx;
        ch->first = idx;
}

void ingress_chain_free(struct smx_ingress *g, struct smx_slot_chain *ch)
{
        if (ch->n)
                free_stack_push_chain(&g->free_top, ingress_slot_links(g), ch->first, ch->last);
        *ch = SMX_SLOT_CHAIN_EMPTY;
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
