/* The long-text block pool (see text_pool.h).
 *
 * Per class, a free stack of block indices (free_stack.h, as the MT
 * slots'), the links in an array of their own: release on put / acquire on
 * take order the last owner's reads of the text before the next owner's
 * writes. A block's class and index follow from its address. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ingress/free_stack.h"
#include "ingress/ingress.h"
#include "ingress/text_pool.h"

_Static_assert(SMX_SLOT_NONE == FREE_STACK_NONE && SMX_TEXT_NONE == FREE_STACK_NONE,
               "an empty stack is the same NONE everywhere");
_Static_assert(sizeof(struct smx_text_class) == 128, "top has a cache line of its own");
_Static_assert(SMX_TEXT_BLOCK_SMALL % 64 == 0 && SMX_TEXT_BLOCK_LARGE % 64 == 0,
               "blocks are whole cache lines");
_Static_assert(SMX_TEXT_BLOCK_SMALL < SMX_TEXT_BLOCK_LARGE, "classes ascend");
_Static_assert(SMX_SLOT_TEXT_INLINE == 216,
               "smsmux.h documents texts over 216 bytes as the ones taking a block");

static int class_init(struct smx_text_class *k, uint32_t size, uint32_t n)
{
        k->size = size;
        atomic_init(&k->top, SMX_TEXT_NONE);
        if (n == 0)
                return 0;
        k->mem = aligned_alloc(64, (size_t)n * size);
        k->next = calloc(n, sizeof *k->next);
        if (!k->mem || !k->next)
                return -ENOMEM;
        k->n = n;
        for (uint32_t i = 0; i < n; i++)
                atomic_init(&k->next[i], i + 1 < n ? i + 1 : SMX_TEXT_NONE);
        atomic_init(&k->top, 0);   /* version 0, block 0 on top */
        return 0;
}

int text_pool_init(struct smx_text_pool *p, uint32_t n_small, uint32_t n_large)
{
        memset(p, 0, sizeof *p);
        if (class_init(&p->cls[0], SMX_TEXT_BLOCK_SMALL, n_small) < 0 ||
            class_init(&p->cls[1], SMX_TEXT_BLOCK_LARGE, n_large) < 0) {
                text_pool_fini(p);
                return -ENOMEM;
        }
        return 0;
}

void text_pool_fini(struct smx_text_pool *p)
{
        for (int c = 0; c < SMX_TEXT_CLASSES; c++) {
                free(p->cls[c].mem);
                free((void *)p->cls[c].next);
        }
        memset(p, 0, sizeof *p);
        for (int c = 0; c < SMX_TEXT_CLASSES; c++)
                atomic_init(&p->cls[c].top, SMX_TEXT_NONE);
}

static uint8_t *class_take(struct smx_text_class *k)
{
        uint32_t idx = free_stack_pop(&k->top, (struct free_stack_links){ (uint8_t *)k->next,
                                                                          sizeof k->next[0] });
        return idx == FREE_STACK_NONE ? NULL : k->mem + (size_t)idx * k->size;
}

uint8_t *text_pool_take(struct smx_text_pool *p, size_t len)
{
        for (int c = 0; c < SMX_TEXT_CLASSES; c++) {
                struct smx_text_class *k = &p->cls[c];
                if (len > k->size)
                        continue;
                uint8_t *b = class_take(k);
                if (b)
                        return b;
        }
        return NULL;
}

void text_pool_put(struct smx_text_pool *p, uint8_t *block)
{
        for (int c = 0; c < SMX_TEXT_CLASSES; c++) {
                struct smx_text_class *k = &p->cls[c];
                uintptr_t off = (uintptr_t)block - (uintptr_t)k->mem;
                if (!k->n || (uintptr_t)block < (uintptr_t)k->mem ||
                    off >= (uintptr_t)k->n * k->size)
                        continue;
                free_stack_push(&k->top, (struct free_stack_links){ (uint8_t *)k->next,
                                                                    sizeof k->next[0] },
                                (uint32_t)(off / k->size));
                return;
        }
}
