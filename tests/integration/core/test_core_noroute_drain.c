/* No route and drain: with every SMSC down for no_route_timeout each waiting
 * MT fails "no_route" (not permanent) and traffic flows again once they are
 * back; a drain that times out fails what is left with "shutdown", still
 * exactly one outcome per MT, and unbinds everything. */
#include "itest.h"

static struct it_env E;

static void test_no_active_bind_fails_waiting_mts_with_no_route(void)
{
        E.cfg.no_route_timeout_ms = 1500;
        CHECK_EQ(it_client_start(&E), 0);
        CHECK_EQ(it_wait_active(&E, E.n, 10000), 1);
        it_sim_ctl(&E, "kill all");
        uint64_t end = it_now_ms() + 5000;
        while (it_active_binds(&E) > 0 && it_now_ms() < end)
                it_sleep_ms(5);
        CHECK_EQ(it_active_binds(&E), 0);
        uint64_t t0 = it_now_ms();
        CHECK_EQ(it_submit_n(&E, 50, "nowhere"), 50);
        CHECK_EQ(it_wait_outcomes(&E, 50, 10000), 1);
        uint64_t waited = it_now_ms() - t0;
        CHECK(waited >= 1000);
        CHECK_EQ(E.failed, 50);
        CHECK_EQ(it_bad_outcomes(&E, 50), 0);
        int no_route = 0;
        for (int k = 0; k < 50; k++)
                no_route += E.fail_reason[k] == SMX_FAIL_NO_ROUTE;
        CHECK_EQ(no_route, 50);
}

static void test_traffic_resumes_after_restore(void)
{
        it_sim_ctl(&E, "restore all");
        CHECK_EQ(it_wait_active(&E, E.n, 10000), 1);
        CHECK_EQ(it_submit_n(&E, 100, "back"), 100);
        CHECK_EQ(it_wait_outcomes(&E, 150, 10000), 1);
        CHECK_EQ(E.submitted, 100);
        CHECK_EQ(it_bad_outcomes(&E, 150), 0);
        smx_client_drain(E.c, 5000);
        smx_client_destroy(E.c);
        E.c = NULL;
}

static void test_drain_timeout_fails_the_rest_with_shutdown(void)
{
        memset(E.outcomes_seen, 0, IT_MAX_MT * sizeof *E.outcomes_seen);
        E.submitted = E.failed = 0;
        E.next_mt = 0;
        E.cfg.no_route_timeout_ms = 60000;
        CHECK_EQ(it_client_start(&E), 0);
        CHECK_EQ(it_wait_active(&E, E.n, 10000), 1);
        it_sim_ctl(&E, "stall all on");
        CHECK_EQ(it_submit_n(&E, 200, "stuck"), 200);
        it_sleep_ms(50);
        uint64_t t0 = it_now_ms();
        CHECK_EQ(smx_client_drain(E.c, 400), SMX_ETIMEDOUT);
        uint64_t took = it_now_ms() - t0;
        CHECK(took >= 400);
        CHECK(took < 5000);
        CHECK_EQ(smx_client_in_flight(E.c), 0);
        it_pump(&E);
        CHECK_EQ(E.failed, 200);
        CHECK_EQ(it_bad_outcomes(&E, 200), 0);
        int shutdown = 0;
        for (int k = 0; k < 200; k++)
                shutdown += E.fail_reason[k] == SMX_FAIL_SHUTDOWN;
        CHECK_EQ(shutdown, 200);
        struct smx_bind_stats st[IT_MAX_SMSC];
        size_t n = smx_client_binds(E.c, st, IT_MAX_SMSC);
        for (size_t i = 0; i < n; i++)
                CHECK_EQ(st[i].health, SMX_HEALTH_DOWN);
        it_sim_ctl(&E, "stall all off");
}

static void test_submit_after_drain_is_refused(void)
{
        struct smx_mt mt = { .id = "x", .to = "1", .text = "x" };
        CHECK_EQ(smx_submit(E.c, &mt), SMX_ESTATE);
        CHECK_EQ(smx_client_drain(E.c, 10), SMX_ESTATE);
}

int main(void)
{
        if (it_sim_start(&E, "dc3,bos", 2, 1.0) < 0) {
                printf("not ok 1 - setup\n1..1\n");
                return 1;
        }
        E.cfg.rebind_interval_ms = 1000;
        RUN(test_no_active_bind_fails_waiting_mts_with_no_route);
        RUN(test_traffic_resumes_after_restore);
        RUN(test_drain_timeout_fails_the_rest_with_shutdown);
        RUN(test_submit_after_drain_is_refused);
        it_stop(&E);
        return t_done();
}
