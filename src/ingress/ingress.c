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
#include "ingress/lane.h"
#include "mem/region.h"

_Static_assert(sizeof(struct smx_slot) + 210 <= SMX_SLOT_SIZE,
               "an MT slot holds 70 three-byte UTF-8 characters inline");
_Static_assert(sizeof(struct smx_slot) <= 4 * 64 && SMX_SLOT_SIZE % 64 == 0,
               "slots are whole cache lines");

int ingress_init(struct smx_ingress *g, uint32_t n_slots)
{
        memset(g, 0, sizeof *g);
        (void)text_pool_init(&g->text, 0, 0);   /* empty until ingress_text_init */
        pthread_mutex_init(&g->lanes_mu, NULL);
        if (n_slots < 2 || (n_slots & (n_slots - 1)) || n_slots > (1u << 24))
                return -EINVAL;
        g->n_slots = n_slots;
        g->lane_cells = n_slots < SMX_LANE_CELLS_MAX ? n_slots : SMX_LANE_CELLS_MAX;
        g->bundle = n_slots / 64 < 1 ? 1 : n_slots / 64 > SMX_SLOT_BUNDLE ? SMX_SLOT_BUNDLE
                                                                         : n_slots / 64;
        g->slots = smx_region_alloc((size_t)n_slots * SMX_SLOT_SIZE);   /* zeroed, THP */
        g->in_ring.cell = calloc(n_slots, sizeof *g->in_ring.cell);
        if (!g->slots || !g->in_ring.cell) {
                ingress_fini(g);
                return -ENOMEM;
        }
        g->in_ring.mask = n_slots - 1;
        /* bundles of g->bundle in index order, slot 0's on top */
        uint32_t b = g->bundle;
        for (uint32_t i = 0; i < n_slots; i++) {
                struct smx_slot *s = ingress_slot(g, i);
                s->last_bind = 0xFFFF;
                int bundle_end = (i + 1) % b == 0 || i + 1 == n_slots;
                s->free_next = bundle_end ? SMX_SLOT_NONE : i + 1;
                uint32_t below = i + b < n_slots ? i + b : SMX_SLOT_NONE;
                atomic_init(&s->next, i % b == 0 ? below : SMX_SLOT_NONE);
                if (i % b == 0)
                        s->free_n = n_slots - i < b ? n_slots - i : b;
        }
        atomic_init(&g->free_top, 0);   /* version 0, slot 0's bundle on top */
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
        uint32_t nl = atomic_load(&g->n_lanes);
        for (uint32_t i = 0; i < nl; i++)
                free(atomic_load(&g->lane[i]));
        pthread_mutex_destroy(&g->lanes_mu);
        text_pool_fini(&g->text);
        smx_region_free(g->slots, (size_t)g->n_slots * SMX_SLOT_SIZE);
        free((void *)g->in_ring.cell);
        memset(g, 0, sizeof *g);
}

/* Push the chained bundles first .. (tail_head's bundle) with one CAS:
 * tail_head's stack link is pointed at the old top. */
static void bundles_put(struct smx_ingress *g, uint32_t first, uint32_t tail_head)
{
        _Atomic uint32_t *link = &ingress_slot(g, tail_head)->next;
        uint64_t t = atomic_load_explicit(&g->free_top, memory_order_relaxed);
        do
                atomic_store_explicit(link, (uint32_t)t, memory_order_relaxed);
        while (!atomic_compare_exchange_weak_explicit(&g->free_top, &t, free_stack_top(t, first),
                                                      memory_order_release,
                                                      memory_order_relaxed));
}

void ingress_bundle_put(struct smx_ingress *g, uint32_t head, uint32_t n)
{
        ingress_slot(g, head)->free_n = n;
        bundles_put(g, head, head);
}

uint32_t ingress_slot_take(struct smx_ingress *g)
{
        uint32_t n;
        uint32_t head = ingress_bundle_take(g, &n);
        if (head != SMX_SLOT_NONE && n > 1)
                ingress_bundle_put(g, ingress_slot(g, head)->free_next, n - 1);
        return head;
}

uint32_t ingress_slot_take_n(struct smx_ingress *g, uint32_t *out, uint32_t max)
{
        uint32_t got = 0;
        while (got < max) {
                uint32_t n;
                uint32_t idx = ingress_bundle_take(g, &n);
                if (idx == SMX_SLOT_NONE)
                        break;
                while (n > 0 && got < max) {
                        out[got++] = idx;
                        idx = ingress_slot(g, idx)->free_next;
                        n--;
                }
                if (n > 0)
                        ingress_bundle_put(g, idx, n);   /* the rest, as a bundle */
        }
        return got;
}

/* Only the thread that holds the index writes the slot, so the tag moves on
 * with a plain store (other workers only read it: mt_ref_ok), not a locked
 * increment. */
void ingress_slot_release(struct smx_ingress *g, uint32_t idx)
{
        struct smx_slot *s = ingress_slot(g, idx);
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
        ingress_slot_release(g, idx);
        ingress_slot(g, idx)->free_next = SMX_SLOT_NONE;
        ingress_bundle_put(g, idx, 1);
}

void ingress_chain_add(struct smx_ingress *g, struct smx_slot_chain *ch, uint32_t idx)
{
        ingress_slot_release(g, idx);
        struct smx_slot *s = ingress_slot(g, idx);
        /* newest first: it goes on top, the one freed last is taken first */
        if (ch->n == 0) {
                s->free_next = SMX_SLOT_NONE;
                s->free_n = 1;
                ch->tail_head = idx;
        } else {
                struct smx_slot *f = ingress_slot(g, ch->first);
                if (f->free_n < g->bundle) {            /* idx heads first's bundle now */
                        s->free_next = ch->first;
                        s->free_n = f->free_n + 1;
                        atomic_store_explicit(&s->next, atomic_load_explicit(&f->next,
                                                                             memory_order_relaxed),
                                              memory_order_relaxed);
                        if (ch->tail_head == ch->first)
                                ch->tail_head = idx;
                } else {                                /* a new bundle above first's */
                        s->free_next = SMX_SLOT_NONE;
                        s->free_n = 1;
                        atomic_store_explicit(&s->next, ch->first, memory_order_relaxed);
                }
        }
        ch->first = idx;
        ch->n++;
}

void ingress_chain_free(struct smx_ingress *g, struct smx_slot_chain *ch)
{
        if (ch->n)
                bundles_put(g, ch->first, ch->tail_head);
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
        return ingress_pop_n(g, &idx, 1) ? idx : SMX_SLOT_NONE;
}

/* The calling consumer's next lane to look at first: each pop starts one
 * lane further, so a busy lane does not starve the others. */
static _Thread_local uint32_t lane_turn;

uint32_t ingress_pop_lanes(struct smx_ingress *g, uint32_t *out, uint32_t max)
{
        uint32_t nl = atomic_load_explicit(&g->n_lanes, memory_order_acquire);
        uint32_t got = 0, start = lane_turn++;
        for (uint32_t k = 0; k < nl && got < max; k++) {
                struct smx_lane *l = atomic_load_explicit(&g->lane[(start + k) % nl],
                                                          memory_order_relaxed);
                got += idx_ring_pop_n(&l->ring, out + got, max - got);
        }
        return got;
}

uint32_t ingress_lanes_queued(const struct smx_ingress *g)
{
        struct smx_ingress *m = (struct smx_ingress *)g;
        uint32_t nl = atomic_load_explicit(&m->n_lanes, memory_order_acquire), q = 0;
        for (uint32_t i = 0; i < nl; i++)
                q += idx_ring_size(&atomic_load_explicit(&m->lane[i], memory_order_relaxed)->ring);
        return q;
}

uint32_t ingress_announce_sleep(const struct smx_ingress *g, _Atomic int *flag, int value)
{
        atomic_store_explicit(flag, value, memory_order_seq_cst);
        smx_fence_sc();   /* the sleeper's half of the lanes' hand-shake */
        /* idx_ring_reserved's load of p_head is seq_cst: the shared ring's */
        return idx_ring_reserved(&g->in_ring) + ingress_lanes_queued(g);
}

uint32_t ingress_pushed(const struct smx_ingress *g)
{
        struct smx_ingress *m = (struct smx_ingress *)g;
        uint32_t p = atomic_load_explicit(&m->in_ring.p_head, memory_order_acquire);
        uint32_t nl = atomic_load_explicit(&m->n_lanes, memory_order_acquire);
        for (uint32_t i = 0; i < nl; i++)
                p += atomic_load_explicit(
                        &atomic_load_explicit(&m->lane[i], memory_order_relaxed)->ring.p_tail,
                        memory_order_acquire);
        return p;
}

uint32_t ingress_queued(const struct smx_ingress *g)
{
        return idx_ring_size(&g->in_ring) + ingress_lanes_queued(g);
}
