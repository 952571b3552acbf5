/* A client's long-text pool against smsc-sim in-process: MTs with texts
 * over the slot's inline bytes are accepted until the text blocks run out,
 * then smx_submit says SMX_EAGAIN (nothing queued) while short texts still
 * go in; once their outcomes are out the blocks are free again. Every
 * accepted MT gets exactly one outcome. */
#include "integration/core/itest.h"
#include "ingress/ingress.h"

static struct it_env E;

#define N_SLOTS 8  /* ingress_capacity */
#define N_LONG 4   /* long_text_capacity: 4 x 1 KiB blocks + 1 x 4 KiB block */

static char text_300[301], text_2000[2001];

static int submit_text(uint64_t k, const char *text)
{
        char id[32];
        snprintf(id, sizeof id, "mt-%llu", (unsigned long long)k);
        struct smx_mt mt = { .id = id, .from = "12345", .to = "447700900001", .text = text };
        return smx_submit(E.c, &mt);
}

static void test_long_texts_past_the_pool_get_eagain_before_start(void)
{
        /* not started: nothing leaves the ingress, so nothing frees a block */
        for (int i = 0; i < N_LONG + 1; i++)
                CHECK_EQ(submit_text(E.next_mt++, text_300), 0);
        for (int i = 0; i < 3; i++) {
                CHECK_EQ(submit_text(E.next_mt, text_300), SMX_EAGAIN);
                CHECK_EQ(submit_text(E.next_mt, text_2000), SMX_EAGAIN);
        }
        CHECK_EQ(smx_client_in_flight(E.c), N_LONG + 1);
        /* the refusals queued nothing and kept no slot: short texts fill the
         * other N_SLOTS - (N_LONG + 1) slots, then the ingress is full */
        for (int i = N_LONG + 1; i < N_SLOTS; i++)
                CHECK_EQ(submit_text(E.next_mt++, "short"), 0);
        CHECK_EQ(submit_text(E.next_mt, "short"), SMX_EAGAIN);
        CHECK_EQ(smx_client_in_flight(E.c), N_SLOTS);
}

static void test_outcomes_free_the_blocks_for_new_long_texts(void)
{
        CHECK_EQ(smx_client_start(E.c), 0);
        CHECK_EQ(it_wait_active(&E, E.n, 10000), 1);
        uint64_t first = E.next_mt;
        CHECK_EQ(it_wait_outcomes(&E, first, 20000), 1);
        CHECK_EQ(E.submitted, first);
        /* all blocks are back: the 4 KiB one takes a 2000-byte text again */
        CHECK_EQ(submit_text(E.next_mt++, text_2000), 0);
        for (int i = 0; i < N_LONG; i++)
                CHECK_EQ(submit_text(E.next_mt++, text_300), 0);
        CHECK_EQ(it_wait_outcomes(&E, E.next_mt, 20000), 1);
        CHECK_EQ(E.submitted, E.next_mt);
        CHECK_EQ(E.failed, 0);
        CHECK_EQ(it_bad_outcomes(&E, E.next_mt), 0);
}

static void test_many_long_texts_flow_through_a_small_pool(void)
{
        /* 2000 long MTs through 5 blocks: it_submit retries on SMX_EAGAIN */
        uint64_t start = E.next_mt;
        CHECK_EQ(it_submit_n(&E, 2000, text_300), 2000);
        CHECK_EQ(it_wait_outcomes(&E, E.next_mt, 60000), 1);
        CHECK_EQ(E.submitted, E.next_mt);
        CHECK_EQ(it_bad_outcomes(&E, E.next_mt), 0);
        CHECK(E.next_mt - start == 2000);
        const char *j = it_summary(&E);
        CHECK_EQ(it_json_num(j, NULL, "violation_count"), 0);
        if (it_json_num(j, NULL, "violation_count") != 0)
                it_print_violations(&E);
}

int main(void)
{
        memset(text_300, 'a', sizeof text_300 - 1);
        memset(text_2000, 'b', sizeof text_2000 - 1);
        if (sizeof text_300 - 1 <= SMX_SLOT_TEXT_INLINE) {
                printf("Bail out! a 300-byte text fits inline\n");
                return 1;
        }
        if (it_sim_start(&E, "dc1", 1, 31.0) < 0) {
                printf("Bail out! simulator did not start\n");
                return 1;
        }
        E.cfg.workers = 1;
        E.cfg.ingress_capacity = N_SLOTS;
        E.cfg.long_text_capacity = N_LONG;
        char err[256] = "";
        int rc = smx_client_create(&E.cfg, &E.c, err, sizeof err);
        if (rc < 0) {
                printf("Bail out! smx_client_create: %s (%s)\n", smx_strerror(rc), err);
                return 1;
        }
        RUN(test_long_texts_past_the_pool_get_eagain_before_start);
        RUN(test_outcomes_free_the_blocks_for_new_long_texts);
        RUN(test_many_long_texts_flow_through_a_small_pool);
        it_stop(&E);
        return t_done();
}
