/* The MT slot pool and the ingress ring (src/ingress): capacity, FIFO,
 * re-enqueue always possible, generations, concurrent producers. */
#include <pthread.h>
#include <sched.h>

#include "ingress/ingress.h"
#include "session/session.h"
#include "testlib.h"

static void test_slot_ring_and_request_entry_fit_512_bytes_per_mt(void)
{
        /* 70 three-byte UTF-8 characters (a full single-part UCS-2 SMS) inline */
        CHECK(SMX_SLOT_TEXT_INLINE >= 210);
        CHECK_EQ(sizeof(struct smx_slot) + SMX_SLOT_TEXT_INLINE, SMX_SLOT_SIZE);
        /* an MT on the wire: its slot, its ingress ring cell, its request entry */
        CHECK(SMX_SLOT_SIZE + SMX_INGRESS_RING_BYTES_PER_SLOT + sizeof(struct smx_req) <= 512);
}

static void test_pool_rejects_non_power_of_two(void)
{
        struct smx_ingress g;
        CHECK_EQ(ingress_init(&g, 1000), -EINVAL);
        CHECK_EQ(ingress_init(&g, 0), -EINVAL);
}

static void test_pool_hands_out_every_slot_once_then_none(void)
{
        struct smx_ingress g;
        CHECK_EQ(ingress_init(&g, 64), 0);
        uint8_t seen[64] = { 0 };
        for (int i = 0; i < 64; i++) {
                uint32_t idx = ingress_slot_take(&g);
                CHECK(idx < 64);
                if (idx < 64) {
                        CHECK_EQ(seen[idx], 0);
                        seen[idx] = 1;
                }
        }
        CHECK_EQ(ingress_slot_take(&g), SMX_SLOT_NONE);
        ingress_fini(&g);
}

static void test_every_slot_can_be_queued_at_once(void)
{
        struct smx_ingress g;
        CHECK_EQ(ingress_init(&g, 32), 0);
        for (uint32_t i = 0; i < 32; i++)
                ingress_push(&g, ingress_slot_take(&g));
        CHECK_EQ(ingress_queued(&g), 32);
        /* pop and push back (resend) 100 times: never fails, stays FIFO-complete */
        for (int k = 0; k < 100; k++)
                ingress_push(&g, ingress_pop(&g));
        CHECK_EQ(ingress_queued(&g), 32);
        uint8_t seen[32] = { 0 };
        for (int i = 0; i < 32; i++) {
                uint32_t idx = ingress_pop(&g);
                CHECK(idx < 32);
                if (idx < 32)
                        seen[idx]++;
        }
        for (int i = 0; i < 32; i++)
                CHECK_EQ(seen[i], 1);
        CHECK_EQ(ingress_pop(&g), SMX_SLOT_NONE);
        ingress_fini(&g);
}

static void test_ingress_is_fifo(void)
{
        struct smx_ingress g;
        CHECK_EQ(ingress_init(&g, 16), 0);
        uint32_t a = ingress_slot_take(&g), b = ingress_slot_take(&g), c = ingress_slot_take(&g);
        ingress_push(&g, b);
        ingress_push(&g, a);
        ingress_push(&g, c);
        CHECK_EQ(ingress_pop(&g), b);
        CHECK_EQ(ingress_pop(&g), a);
        CHECK_EQ(ingress_pop(&g), c);
        ingress_fini(&g);
}

static void test_free_bumps_generation_and_tag(void)
{
        struct smx_ingress g;
        CHECK_EQ(ingress_init(&g, 2), 0);
        CHECK_EQ(ingress_text_init(&g, 1), 0);
        uint32_t idx = ingress_slot_take(&g);
        struct smx_slot *s = ingress_slot(&g, idx);
        uint32_t gen = s->gen, tag = atomic_load(&s->tag);
        s->overflow = text_pool_take(&g.text, 1000);
        CHECK(s->overflow != NULL);
        ingress_slot_free(&g, idx);
        CHECK_EQ(s->gen, gen + 1);
        CHECK(atomic_load(&s->tag) != tag);
        CHECK(s->overflow == NULL);
        CHECK(smx_slot_serial(idx, s->gen) != smx_slot_serial(idx, gen));
        ingress_fini(&g);
}

static struct smx_ingress G;
static void *producer(void *arg)
{
        (void)arg;
        for (int i = 0; i < 20000; i++) {
                uint32_t idx;
                /* Back off as a real submitter does on SMX_EAGAIN: with four
                 * busy-spinning threads on two cores, a producer preempted
                 * inside ck's MPMC enqueue (between reserve and publish)
                 * would stall everyone for whole scheduler slices. */
                while ((idx = ingress_slot_take(&G)) == SMX_SLOT_NONE)
                        sched_yield();
                ingress_push(&G, idx);
        }
        return NULL;
}

static void test_concurrent_producers_lose_nothing(void)
{
        CHECK_EQ(ingress_init(&G, 256), 0);
        pthread_t t[3];
        for (int i = 0; i < 3; i++)
                pthread_create(&t[i], NULL, producer, NULL);
        int got = 0;
        while (got < 60000) {
                uint32_t idx = ingress_pop(&G);
                if (idx == SMX_SLOT_NONE) {
                        sched_yield();  /* an idle worker sleeps; see producer() */
                        continue;
                }
                got++;
                ingress_slot_free(&G, idx);
        }
        for (int i = 0; i < 3; i++)
                pthread_join(t[i], NULL);
        CHECK_EQ(got, 60000);
        CHECK_EQ(ingress_pop(&G), SMX_SLOT_NONE);
        ingress_fini(&G);
}

int main(void)
{
        RUN(test_slot_ring_and_request_entry_fit_512_bytes_per_mt);
        RUN(test_pool_rejects_non_power_of_two);
        RUN(test_pool_hands_out_every_slot_once_then_none);
        RUN(test_every_slot_can_be_queued_at_once);
        RUN(test_ingress_is_fifo);
        RUN(test_free_bumps_generation_and_tag);
        RUN(test_concurrent_producers_lose_nothing);
        return t_done();
}
