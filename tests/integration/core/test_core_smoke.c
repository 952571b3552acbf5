/* End to end against smsc-sim: every SMSC bound (R1), MTs submitted and
 * accepted exactly once each, no handset duplicates, clean drain. */
#include <poll.h>

#include "itest.h"

static struct it_env E;

static void test_every_smsc_is_bound(void)
{
        CHECK_EQ(it_wait_active(&E, E.n, 10000), 1);
        const char *j = it_summary(&E);
        for (size_t i = 0; i < E.n; i++) {
                char scope[64];
                snprintf(scope, sizeof scope, "\"name\":\"%s\"", E.info[i].name);
                CHECK(it_json_num(j, scope, "binds_ok") >= 1);
        }
}

static void test_mts_are_accepted_exactly_once(void)
{
        uint64_t n = 2000;
        CHECK_EQ(it_submit_n(&E, n, "hello world"), n);
        CHECK_EQ(it_wait_outcomes(&E, n, 30000), 1);
        CHECK_EQ(E.submitted, n);
        CHECK_EQ(E.failed, 0);
        CHECK_EQ(it_bad_outcomes(&E, n), 0);
        const char *j = it_summary(&E);
        CHECK_EQ(it_json_num(j, "\"totals\"", "submit_sm_accepted"), n);
        CHECK_EQ(it_json_num(j, "\"handset\"", "duplicates"), 0);
        CHECK_EQ(it_json_num(j, NULL, "violation_count"), 0);
        if (it_json_num(j, NULL, "violation_count") != 0)
                it_print_violations(&E);
}

static void test_traffic_spreads_over_every_bind(void)
{
        struct smx_bind_stats st[IT_MAX_SMSC];
        size_t n = smx_client_binds(E.c, st, IT_MAX_SMSC);
        CHECK_EQ(n, E.n);
        for (size_t i = 0; i < n; i++)
                CHECK(st[i].accepted > 0);
}

static void test_long_text_is_sent_in_segments(void)
{
        char text[400];
        memset(text, 'a', sizeof text - 1);
        text[sizeof text - 1] = 0;
        uint64_t before = E.submitted;
        CHECK_EQ(it_submit(&E, E.next_mt++, text), 0);
        CHECK_EQ(it_wait_outcomes(&E, before + E.failed + 1, 10000), 1);
        CHECK_EQ(E.submitted, before + 1);
}

static void test_events_fd_wakes_a_sleeping_application(void)
{
        /* empty the rings: the last poll returns 0 and arms the eventfd */
        while (it_pump(&E) > 0)
                ;
        struct smx_event ev[4];
        CHECK_EQ(smx_events_poll(E.c, ev, 4), 0);
        uint64_t before = E.submitted;
        CHECK_EQ(it_submit(&E, E.next_mt++, "wake me"), 0);
        struct pollfd pfd = { .fd = smx_events_fd(E.c), .events = POLLIN };
        CHECK_EQ(poll(&pfd, 1, 5000), 1);
        CHECK(pfd.revents & POLLIN);
        CHECK_EQ(it_wait_outcomes(&E, before + E.failed + 1, 5000), 1);
        CHECK_EQ(E.submitted, before + 1);
}

static void test_submit_rejects_bad_mts_without_queuing(void)
{
        struct smx_mt mt = { .id = "bad", .to = "447700900001", .text = "x" };
        uint64_t inflight = smx_client_in_flight(E.c);
        struct smx_mt no_to = mt;
        no_to.to = "";
        CHECK_EQ(smx_submit(E.c, &no_to), SMX_EINVAL);
        struct smx_mt long_to = mt;
        long_to.to = "123456789012345678901234567890";
        CHECK_EQ(smx_submit(E.c, &long_to), SMX_E2BIG);
        struct smx_mt latin = mt;
        latin.text = "\xe2\x82\xac uro";     /* euro sign: not in Latin-1 */
        latin.encoding = SMX_ENC_LATIN1;
        CHECK_EQ(smx_submit(E.c, &latin), SMX_EINVAL);
        struct smx_mt prio = mt;
        prio.priority = 9;
        CHECK_EQ(smx_submit(E.c, &prio), SMX_EINVAL);
        CHECK_EQ(smx_client_in_flight(E.c), inflight);
}

static void test_drain_returns_with_nothing_in_flight(void)
{
        CHECK_EQ(it_submit_n(&E, 100, "bye"), 100);
        CHECK_EQ(smx_client_drain(E.c, 10000), 0);
        CHECK_EQ(smx_client_in_flight(E.c), 0);
        it_pump(&E);
        CHECK_EQ(it_bad_outcomes(&E, E.next_mt), 0);
        struct smx_mt mt = { .id = "late", .to = "1", .text = "x" };
        CHECK_EQ(smx_submit(E.c, &mt), SMX_ESTATE);
        struct smx_bind_stats st[IT_MAX_SMSC];
        size_t n = smx_client_binds(E.c, st, IT_MAX_SMSC);
        for (size_t i = 0; i < n; i++)
                CHECK_EQ(st[i].health, SMX_HEALTH_DOWN);
        const char *j = it_summary(&E);
        CHECK(it_json_num(j, "\"totals\"", "unbinds") >= (double)E.n);
}

int main(void)
{
        if (it_sim_start(&E, "dc3,bos", 2, 2.0) < 0 || it_client_start(&E) < 0) {
                printf("not ok 1 - setup\n1..1\n");
                return 1;
        }
        RUN(test_every_smsc_is_bound);
        RUN(test_mts_are_accepted_exactly_once);
        RUN(test_traffic_spreads_over_every_bind);
        RUN(test_long_text_is_sent_in_segments);
        RUN(test_events_fd_wakes_a_sleeping_application);
        RUN(test_submit_rejects_bad_mts_without_queuing);
        RUN(test_drain_returns_with_nothing_in_flight);
        it_stop(&E);
        return t_done();
}
