/* The per-SMSC rebind clock (R2): first attempt immediate, every later one
 * more than the interval (plus jitter) after the previous, whatever ended the
 * session; spacing statistics. */
#include "session/rebind.h"
#include "testlib.h"

static void test_first_attempt_is_immediate(void)
{
        struct smx_rebind_clock c;
        rebind_init(&c);
        CHECK_EQ(rebind_due(&c, 0), 1);
        CHECK_EQ(rebind_due(&c, 123456), 1);
}

static void test_next_attempt_is_more_than_interval_later(void)
{
        struct smx_rebind_clock c;
        rebind_init(&c);
        rebind_attempt(&c, 1000, 30000, 0, 0);
        CHECK_EQ(rebind_due(&c, 1000), 0);
        CHECK_EQ(rebind_due(&c, 31000), 0);   /* exactly the interval: not "more than" */
        CHECK_EQ(rebind_due(&c, 31000 + SMX_REBIND_MARGIN_MS - 1), 0);
        CHECK_EQ(rebind_due(&c, 31000 + SMX_REBIND_MARGIN_MS), 1);
}

static void test_jitter_adds_at_most_its_bound(void)
{
        for (uint32_t rnd = 0; rnd < 5000; rnd += 37) {
                struct smx_rebind_clock c;
                rebind_init(&c);
                rebind_attempt(&c, 0, 2000, 500, rnd);
                CHECK(c.next_ms >= 2000 + SMX_REBIND_MARGIN_MS);
                CHECK(c.next_ms <= 2500 + SMX_REBIND_MARGIN_MS);
        }
}

static void test_spacing_statistics_track_the_shortest_gap(void)
{
        struct smx_rebind_clock c;
        rebind_init(&c);
        CHECK(c.min_spacing_ms == UINT64_MAX);
        rebind_attempt(&c, 0, 100, 0, 0);
        rebind_attempt(&c, 500, 100, 0, 0);
        rebind_attempt(&c, 700, 100, 0, 0);
        rebind_attempt(&c, 1700, 100, 0, 0);
        CHECK_EQ(c.attempts, 4);
        CHECK_EQ(c.min_spacing_ms, 200);
}

static void test_attempts_under_a_polling_loop_never_break_the_interval(void)
{
        /* a loop that attempts whenever due, polled every millisecond */
        struct smx_rebind_clock c;
        rebind_init(&c);
        uint32_t rnd = 1;
        for (uint64_t t = 0; t < 60000; t++) {
                if (rebind_due(&c, t)) {
                        rnd = rnd * 1103515245u + 12345u;
                        rebind_attempt(&c, t, 2000, 300, rnd);
                }
        }
        CHECK(c.attempts >= 20);
        CHECK(c.min_spacing_ms > 2000);
}

int main(void)
{
        RUN(test_first_attempt_is_immediate);
        RUN(test_next_attempt_is_more_than_interval_later);
        RUN(test_jitter_adds_at_most_its_bound);
        RUN(test_spacing_statistics_track_the_shortest_gap);
        RUN(test_attempts_under_a_polling_loop_never_break_the_interval);
        return t_done();
}
