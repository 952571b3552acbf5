/* The drop-resp fault on other response kinds, seen from the smsmux client:
 * a lost enquire_link_resp makes the client give that bind up (and bind it
 * again later), a lost bind_resp is retried no sooner than the rebind
 * interval allows (R2, checked in the simulator's ledger), and the other
 * SMSC keeps carrying the traffic meanwhile. The simulator runs in-process
 * (sim.h) with the helpers of the dispatcher's integration tests. */
#include "../core/itest.h"

static struct it_env E;

/* The resp_dropped_by entry `kind` of SMSC `name` in the ledger (0 if absent). */
static double dropped_of(const char *name, const char *kind)
{
        char scope[64];
        snprintf(scope, sizeof scope, "\"name\":\"%s\"", name);
        const char *j = it_summary(&E);
        const char *p = strstr(j, scope);
        if (!p)
                return -1;
        const char *by = strstr(p, "\"resp_dropped_by\":{");
        const char *next = strstr(p + 1, "{\"name\":");
        if (!by || (next && by > next))
                return -1;
        char pat[48];
        snprintf(pat, sizeof pat, "\"%s\":", kind);
        const char *end = strchr(by, '}');
        const char *k = strstr(by, pat);
        if (!k || k > end)
                return 0;
        return strtod(k + strlen(pat), NULL);
}

static void test_dropped_enquire_link_resp_demotes_the_bind(void)
{
        CHECK_EQ(it_wait_active(&E, 2, 10000), 1);
        size_t b = it_index(&E, "smsc1.dc3");
        uint64_t before = E.downs[b];
        it_sim_ctl(&E, "drop-resp smsc1.dc3 1 enquire_link");
        /* probes go out after 1 s idle; the lost answer times out 1.5 s later */
        uint64_t end = it_now_ms() + 8000;
        while (E.downs[b] == before && it_now_ms() < end) {
                it_pump(&E);
                it_sleep_ms(5);
        }
        CHECK(E.downs[b] > before);
        CHECK_EQ(dropped_of("smsc1.dc3", "enquire_link"), 1);
        CHECK_EQ(dropped_of("smsc2.dc3", "enquire_link"), 0);
        /* one answer lost, not the link: the bind comes back */
        CHECK_EQ(it_wait_active(&E, 2, 10000), 1);
}

static void test_traffic_goes_on_over_the_other_bind_while_probes_are_lost(void)
{
        CHECK_EQ(it_wait_active(&E, 2, 10000), 1);
        it_sim_ctl(&E, "drop-resp smsc1.dc3 1000 enquire_link");
        size_t b = it_index(&E, "smsc1.dc3");
        uint64_t before = E.downs[b];
        uint64_t end = it_now_ms() + 8000;
        while (E.downs[b] == before && it_now_ms() < end) {
                it_pump(&E);
                it_sleep_ms(5);
        }
        CHECK(E.downs[b] > before);
        uint64_t first = E.next_mt, n = 200;
        CHECK_EQ(it_submit_n(&E, n, "while smsc1 probes are lost"), n);
        CHECK_EQ(it_wait_outcomes(&E, first + n, 20000), 1);
        CHECK_EQ(it_bad_outcomes(&E, first + n), 0);
        it_sim_ctl(&E, "drop-resp smsc1.dc3 0 enquire_link");
        CHECK_EQ(it_wait_active(&E, 2, 10000), 1);
}

static void test_dropped_bind_resp_is_retried_at_the_rebind_spacing(void)
{
        CHECK_EQ(it_wait_active(&E, 2, 10000), 1);
        const char *j = it_summary(&E);
        double attempts0 = it_json_num(j, "\"name\":\"smsc2.dc3\"", "bind_attempts");
        it_sim_ctl(&E, "drop-resp smsc2.dc3 3 bind");
        it_sim_ctl(&E, "reset smsc2.dc3");
        /* three binds answered by silence, then one that works */
        uint64_t end = it_now_ms() + 20000;
        while (dropped_of("smsc2.dc3", "bind_transceiver") < 3 && it_now_ms() < end) {
                it_pump(&E);
                it_sleep_ms(20);
        }
        CHECK_EQ(dropped_of("smsc2.dc3", "bind_transceiver"), 3);
        CHECK_EQ(it_wait_active(&E, 2, 10000), 1);
        j = it_summary(&E);
        double attempts = it_json_num(j, "\"name\":\"smsc2.dc3\"", "bind_attempts");
        CHECK(attempts >= attempts0 + 4);
        /* every TCP attempt to smsc2.dc3 was at least the rebind interval apart */
        CHECK(it_json_num(j, "\"name\":\"smsc2.dc3\"", "min_attempt_spacing_s") >= 1.0);
        double viol = it_json_num(j, NULL, "violation_count");
        CHECK_EQ(viol, 0);
        if (viol != 0)
                it_print_violations(&E);
}

/* Two SMSCs at one site, R2 spacing 1 s on both sides, binds given up
 * after 1 s without an answer. */
static int setup(void)
{
        if (it_sim_start(&E, "dc3", 2, 1.0) < 0)
                return -1;
        E.cfg.rebind_interval_ms = 1000;
        E.cfg.bind_timeout_ms = 1000;
        return it_client_start(&E);
}

int main(void)
{
        if (setup() < 0) {
                printf("not ok 1 - setup\n1..1\n");
                return 1;
        }
        smx_log_configure(SMX_LOG_ERROR, NULL, NULL);
        RUN(test_dropped_enquire_link_resp_demotes_the_bind);
        RUN(test_traffic_goes_on_over_the_other_bind_while_probes_are_lost);
        RUN(test_dropped_bind_resp_is_retried_at_the_rebind_spacing);
        smx_client_drain(E.c, 3000);
        it_stop(&E);
        return t_done();
}
