/* The long-text block pool (src/ingress/text_pool.c): size classes, LIFO
 * reuse, exhaustion, the ingress's sizing of it, a slot's block going back
 * with the slot, and concurrent take/put never handing a block out twice. */
#include <pthread.h>
#include <sched.h>

#include "ingress/ingress.h"
#include "ingress/text_pool.h"
#include "testlib.h"

/* Which class a block is in (0 small, 1 large, -1 neither) and whether it
 * starts on a block boundary. */
static int block_class(const struct smx_text_pool *p, const uint8_t *b)
{
        for (int c = 0; c < SMX_TEXT_CLASSES; c++) {
                const struct smx_text_class *k = &p->cls[c];
                if (k->n && b >= k->mem && b < k->mem + (size_t)k->n * k->size)
                        return (size_t)(b - k->mem) % k->size == 0 ? c : -1;
        }
        return -1;
}

static void test_short_long_text_takes_small_blocks_then_a_large_one(void)
{
        struct smx_text_pool p;
        CHECK_EQ(text_pool_init(&p, 2, 1), 0);
        uint8_t *a = text_pool_take(&p, 300), *b = text_pool_take(&p, SMX_TEXT_BLOCK_SMALL);
        CHECK_EQ(block_class(&p, a), 0);
        CHECK_EQ(block_class(&p, b), 0);
        CHECK(a != b);
        /* the small blocks are gone: a large one holds the short text */
        uint8_t *c = text_pool_take(&p, 300);
        CHECK_EQ(block_class(&p, c), 1);
        CHECK(text_pool_take(&p, 300) == NULL);
        text_pool_put(&p, a);
        text_pool_put(&p, b);
        text_pool_put(&p, c);
        text_pool_fini(&p);
}

static void test_text_over_1k_takes_only_a_large_block(void)
{
        struct smx_text_pool p;
        CHECK_EQ(text_pool_init(&p, 4, 1), 0);
        uint8_t *a = text_pool_take(&p, SMX_TEXT_BLOCK_SMALL + 1);
        CHECK_EQ(block_class(&p, a), 1);
        /* small blocks are still free, but none fits */
        CHECK(text_pool_take(&p, SMX_TEXT_MAX) == NULL);
        CHECK(text_pool_take(&p, 300) != NULL);
        text_pool_put(&p, a);
        uint8_t *b = text_pool_take(&p, SMX_TEXT_MAX);
        CHECK(b == a);
        memset(b, 0x5a, SMX_TEXT_MAX);   /* the whole longest text fits (ASan) */
        text_pool_fini(&p);
}

static void test_put_block_is_the_next_taken(void)
{
        struct smx_text_pool p;
        CHECK_EQ(text_pool_init(&p, 8, 2), 0);
        uint8_t *a = text_pool_take(&p, 500), *b = text_pool_take(&p, 500);
        text_pool_put(&p, a);
        CHECK(text_pool_take(&p, 500) == a);
        text_pool_put(&p, b);
        CHECK(text_pool_take(&p, 500) == b);
        text_pool_fini(&p);
}

static void test_every_block_is_handed_out_once_then_none(void)
{
        struct smx_text_pool p;
        CHECK_EQ(text_pool_init(&p, 16, 4), 0);
        uint8_t *got[20];
        for (int i = 0; i < 20; i++) {
                got[i] = text_pool_take(&p, 600);
                CHECK(got[i] != NULL);
                CHECK_EQ(block_class(&p, got[i]), i < 16 ? 0 : 1);
                CHECK_EQ((uintptr_t)got[i] % 64, 0);
                for (int j = 0; j < i; j++)
                        CHECK(got[j] != got[i]);
        }
        CHECK(text_pool_take(&p, 217) == NULL);
        for (int i = 0; i < 20; i++)
                text_pool_put(&p, got[i]);
        for (int i = 0; i < 20; i++)
                CHECK(text_pool_take(&p, 600) != NULL);
        CHECK(text_pool_take(&p, 600) == NULL);
        text_pool_fini(&p);
}

static void test_empty_pool_gives_nothing(void)
{
        struct smx_text_pool p;
        CHECK_EQ(text_pool_init(&p, 0, 0), 0);
        CHECK(text_pool_take(&p, 300) == NULL);
        text_pool_fini(&p);
        struct smx_ingress g;   /* an ingress without ingress_text_init */
        CHECK_EQ(ingress_init(&g, 4), 0);
        CHECK(text_pool_take(&g.text, 300) == NULL);
        ingress_fini(&g);
}

static void test_ingress_sizes_the_pool_from_its_slots(void)
{
        struct smx_ingress g;
        CHECK_EQ(ingress_init(&g, 1024), 0);
        CHECK_EQ(ingress_text_init(&g, 0), 0);          /* default: slots / 8 */
        CHECK_EQ(g.text.cls[0].n, 128);
        CHECK_EQ(g.text.cls[1].n, 32);
        CHECK_EQ(g.text.cls[0].size, SMX_TEXT_BLOCK_SMALL);
        CHECK_EQ(g.text.cls[1].size, SMX_TEXT_MAX);
        ingress_fini(&g);
        CHECK_EQ(ingress_init(&g, 16), 0);
        CHECK_EQ(ingress_text_init(&g, 100000), 0);     /* no more than the slots */
        CHECK_EQ(g.text.cls[0].n, 16);
        CHECK_EQ(g.text.cls[1].n, 4);
        ingress_fini(&g);
        CHECK_EQ(ingress_init(&g, 16), 0);
        CHECK_EQ(ingress_text_init(&g, 3), 0);          /* at least one large block */
        CHECK_EQ(g.text.cls[0].n, 3);
        CHECK_EQ(g.text.cls[1].n, 1);
        ingress_fini(&g);
}

static void test_freed_slot_returns_its_text_block(void)
{
        struct smx_ingress g;
        CHECK_EQ(ingress_init(&g, 4), 0);
        CHECK_EQ(ingress_text_init(&g, 1), 0);          /* one small, one large block */
        uint32_t i1 = ingress_slot_take(&g), i2 = ingress_slot_take(&g);
        struct smx_slot *s1 = ingress_slot(&g, i1), *s2 = ingress_slot(&g, i2);
        s1->overflow = text_pool_take(&g.text, 300);
        s2->overflow = text_pool_take(&g.text, 3000);
        CHECK(s1->overflow != NULL && s2->overflow != NULL);
        CHECK(text_pool_take(&g.text, 300) == NULL);
        uint8_t *b1 = s1->overflow, *b2 = s2->overflow;
        ingress_slot_free(&g, i1);
        ingress_slot_free(&g, i2);
        CHECK(s1->overflow == NULL && s2->overflow == NULL);
        CHECK(text_pool_take(&g.text, 3000) == b2);
        CHECK(text_pool_take(&g.text, 300) == b1);
        ingress_fini(&g);
}

/* ---- concurrency: 4 threads x 100000 take/put on a small pool ---- */

#define CT_THREADS 4
#define CT_OPS     100000
#define CT_HOLD    3           /* blocks a thread holds at once (pool < 4 x 3) */

static struct smx_text_pool CP;
static _Atomic uint8_t owned[64];          /* per block: 1 while handed out */
static _Atomic uint64_t ct_double, ct_corrupt, ct_empty;

static int block_no(const uint8_t *b)
{
        int c = block_class(&CP, b);
        if (c < 0)
                return -1;
        const struct smx_text_class *k = &CP.cls[c];
        return (int)((size_t)(b - k->mem) / k->size) + (c ? (int)CP.cls[0].n : 0);
}

struct held {
        uint8_t *b;
        size_t len;
};

static void ct_put(struct held *h, uint8_t tag)
{
        for (size_t i = 0; i < h->len; i++)
                if (h->b[i] != tag) {
                        atomic_fetch_add(&ct_corrupt, 1);
                        break;
                }
        int n = block_no(h->b);
        if (n < 0 || !atomic_exchange(&owned[n], 0))
                atomic_fetch_add(&ct_double, 1);
        text_pool_put(&CP, h->b);
        h->b = NULL;
}

static void *ct_thread(void *arg)
{
        uint8_t tag = (uint8_t)(uintptr_t)arg;
        struct held h[CT_HOLD] = { { 0 } };
        uint32_t rnd = 0x9e3779b9u * tag;
        for (int op = 0; op < CT_OPS; op++) {
                rnd = rnd * 1664525u + 1013904223u;
                struct held *x = &h[(rnd >> 8) % CT_HOLD];
                if (x->b) {
                        ct_put(x, tag);
                        continue;
                }
                /* mostly 1 KiB-class texts, one in eight up to the maximum */
                size_t len = (rnd >> 16) % 8 ? 217 + (rnd >> 12) % 800 : 1025 + (rnd >> 12) % 3000;
                uint8_t *b = text_pool_take(&CP, len);
                if (!b) {
                        atomic_fetch_add(&ct_empty, 1);
                        sched_yield();
                        continue;
                }
                int n = block_no(b);
                if (n < 0 || atomic_exchange(&owned[n], 1))
                        atomic_fetch_add(&ct_double, 1);
                memset(b, tag, len);
                x->b = b;
                x->len = len;
        }
        for (int i = 0; i < CT_HOLD; i++)
                if (h[i].b)
                        ct_put(&h[i], tag);
        return NULL;
}

static void test_concurrent_take_put_never_shares_a_block(void)
{
        CHECK_EQ(text_pool_init(&CP, 8, 2), 0);   /* 10 blocks for up to 12 held */
        pthread_t t[CT_THREADS];
        for (int i = 0; i < CT_THREADS; i++)
                pthread_create(&t[i], NULL, ct_thread, (void *)(uintptr_t)(i + 1));
        for (int i = 0; i < CT_THREADS; i++)
                pthread_join(t[i], NULL);
        CHECK_EQ(atomic_load(&ct_double), 0);
        CHECK_EQ(atomic_load(&ct_corrupt), 0);
        printf("# pool empty on %llu of %d takes\n",
               (unsigned long long)atomic_load(&ct_empty), CT_THREADS * CT_OPS);
        /* every block came back: all 10 can be taken, then none */
        for (int i = 0; i < 10; i++)
                CHECK(text_pool_take(&CP, 300) != NULL);
        CHECK(text_pool_take(&CP, 300) == NULL);
        text_pool_fini(&CP);
}

int main(void)
{
        RUN(test_short_long_text_takes_small_blocks_then_a_large_one);
        RUN(test_text_over_1k_takes_only_a_large_block);
        RUN(test_put_block_is_the_next_taken);
        RUN(test_every_block_is_handed_out_once_then_none);
        RUN(test_empty_pool_gives_nothing);
        RUN(test_ingress_sizes_the_pool_from_its_slots);
        RUN(test_freed_slot_returns_its_text_block);
        RUN(test_concurrent_take_put_never_shares_a_block);
        return t_done();
}
