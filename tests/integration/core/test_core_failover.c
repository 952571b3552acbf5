/* Failover against smsc-sim: a killed SMSC takes nothing and its in-flight
 * MTs move (R4); dropped responses are resent without handset duplicates
 * (R5); a throttling SMSC is paused while traffic shifts to the others; bad
 * credentials are reported and retried only at the rebind spacing; DRs reach
 * the application. Every MT gets exactly one outcome throughout. */
#include "itest.h"

static struct it_env E;

static size_t bind_index(const char *name)
{
        for (size_t i = 0; i < E.n; i++)
                if (!strcmp(E.info[i].name, name))
                        return i;
        return 0;
}

static void test_killed_smsc_accepts_nothing_and_in_flight_moves(void)
{
        CHECK_EQ(it_wait_active(&E, E.n, 10000), 1);
        uint64_t base = E.next_mt, n = 3000;
        CHECK_EQ(it_submit_n(&E, n, "r4 kill"), n);
        it_sim_ctl(&E, "kill smsc1.dc3");
        CHECK_EQ(it_wait_outcomes(&E, base + n, 30000), 1);
        CHECK_EQ(E.failed, 0);
        CHECK_EQ(it_bad_outcomes(&E, E.next_mt), 0);
        CHECK_EQ(it_active_binds(&E), E.n - 1);
        /* more traffic while it is down: all of it on the others */
        uint64_t more = 1000;
        CHECK_EQ(it_submit_n(&E, more, "while down"), more);
        CHECK_EQ(it_wait_outcomes(&E, base + n + more, 30000), 1);
        CHECK_EQ(E.failed, 0);
        const char *j = it_summary(&E);
        CHECK_EQ(it_json_num(j, "\"totals\"", "accepted_while_killed"), 0);
        CHECK_EQ(it_json_num(j, "\"handset\"", "duplicates"), 0);
        CHECK_EQ(it_json_num(j, NULL, "violation_count"), 0);
        if (it_json_num(j, NULL, "violation_count") != 0)
                it_print_violations(&E);
        it_sim_ctl(&E, "restore smsc1.dc3");
        CHECK_EQ(it_wait_active(&E, E.n, 10000), 1);
}

static void test_dropped_responses_are_resent_without_duplicates(void)
{
        uint64_t base = E.next_mt, n = 500;
        struct smx_bind_stats st[IT_MAX_SMSC];
        smx_client_binds(E.c, st, IT_MAX_SMSC);
        uint64_t resent_before = st[bind_index("smsc2.bos")].resent;
        it_sim_ctl(&E, "drop-resp smsc2.bos 20");
        CHECK_EQ(it_submit_n(&E, n, "r5 drop"), n);
        CHECK_EQ(it_wait_outcomes(&E, base + n, 30000), 1);
        CHECK_EQ(E.failed, 0);
        CHECK_EQ(it_bad_outcomes(&E, E.next_mt), 0);
        smx_client_binds(E.c, st, IT_MAX_SMSC);
        CHECK(st[bind_index("smsc2.bos")].resent >= resent_before + 1);
        const char *j = it_summary(&E);
        CHECK(it_json_num(j, "\"totals\"", "resp_dropped") >= 1);
        CHECK(it_json_num(j, "\"handset\"", "service_duplicates") >= 1);
        CHECK_EQ(it_json_num(j, "\"handset\"", "duplicates"), 0);
        CHECK_EQ(it_json_num(j, NULL, "violation_count"), 0);
        if (it_json_num(j, NULL, "violation_count") != 0)
                it_print_violations(&E);
}

static void test_throttling_smsc_is_paused_and_traffic_shifts(void)
{
        size_t t = bind_index("smsc1.bos");
        struct smx_bind_stats a[IT_MAX_SMSC], b[IT_MAX_SMSC];
        smx_client_binds(E.c, a, IT_MAX_SMSC);
        it_sim_ctl(&E, "throttle smsc1.bos on");
        uint64_t base = E.next_mt, n = 2000;
        CHECK_EQ(it_submit_n(&E, n, "throttle"), n);
        CHECK_EQ(it_wait_outcomes(&E, base + n, 30000), 1);
        it_sim_ctl(&E, "throttle smsc1.bos off");
        CHECK_EQ(E.failed, 0);
        CHECK_EQ(it_bad_outcomes(&E, E.next_mt), 0);
        smx_client_binds(E.c, b, IT_MAX_SMSC);
        CHECK(b[t].throttled > a[t].throttled);
        CHECK_EQ(b[t].accepted, a[t].accepted);
        uint64_t others = 0;
        for (size_t i = 0; i < E.n; i++)
                if (i != t)
                        others += b[i].accepted - a[i].accepted;
        CHECK_EQ(others, n);
        /* the pause is adaptive: far fewer throttled answers than MTs */
        CHECK(b[t].throttled - a[t].throttled < n / 4);
}

static void test_segmented_mts_survive_bind_loss_without_duplicate_parts(void)
{
        char text[400];   /* 399 GSM characters: 3 parts of 153 */
        for (size_t i = 0; i < sizeof text - 1; i++)
                text[i] = (char)('a' + i % 26);
        text[sizeof text - 1] = 0;
        const char *j = it_summary(&E);
        double delivered0 = it_json_num(j, "\"handset\"", "delivered");
        uint64_t base = E.next_mt, n = 300;
        CHECK_EQ(it_submit_n(&E, n / 2, text), n / 2);
        it_sim_ctl(&E, "reset smsc1.dc3");
        it_sim_ctl(&E, "drop-resp smsc2.dc3 7");
        CHECK_EQ(it_submit_n(&E, n / 2, text), n / 2);
        it_sim_ctl(&E, "kill smsc1.bos");
        CHECK_EQ(it_wait_outcomes(&E, base + n, 40000), 1);
        CHECK_EQ(E.failed, 0);
        CHECK_EQ(it_bad_outcomes(&E, E.next_mt), 0);
        j = it_summary(&E);
        CHECK_EQ(it_json_num(j, "\"handset\"", "delivered") - delivered0, 3 * n);
        CHECK_EQ(it_json_num(j, "\"handset\"", "duplicates"), 0);
        CHECK_EQ(it_json_num(j, NULL, "violation_count"), 0);
        if (it_json_num(j, NULL, "violation_count") != 0)
                it_print_violations(&E);
        it_sim_ctl(&E, "restore smsc1.bos");
        CHECK_EQ(it_wait_active(&E, E.n, 10000), 1);
}

static void test_delivery_receipts_reach_the_application(void)
{
        uint64_t end = it_now_ms() + 10000;
        while (E.drs == 0 && it_now_ms() < end) {
                it_pump(&E);
                it_sleep_ms(10);
        }
        CHECK(E.drs > 0);
        const char *j = it_summary(&E);
        CHECK(E.drs <= (uint64_t)it_json_num(j, "\"totals\"", "dr_sent"));
}

static void test_bad_credentials_are_reported_and_not_hammered(void)
{
        it_sim_ctl(&E, "refuse-bind smsc2.dc3 ESME_RINVPASWD");
        it_sim_ctl(&E, "reset smsc2.dc3");
        /* BIND events for ~5 s: the rebind interval is 2 s */
        size_t b = it_index(&E, "smsc2.dc3");
        uint64_t saw_reason = it_downs_during(&E, "smsc2.dc3", 5500);
        CHECK(strstr(E.last_down_reason[b], "ESME_RINVPASWD") != NULL);
        CHECK(saw_reason >= 1);
        CHECK(saw_reason <= 4);   /* the reset, then at most one refusal per 2 s */
        struct smx_bind_stats st[IT_MAX_SMSC];
        smx_client_binds(E.c, st, IT_MAX_SMSC);
        CHECK(st[bind_index("smsc2.dc3")].min_attempt_spacing_ms > 2000);
        it_sim_ctl(&E, "refuse-bind smsc2.dc3 off");
        CHECK_EQ(it_wait_active(&E, E.n, 8000), 1);
        const char *j = it_summary(&E);
        CHECK_EQ(it_json_num(j, NULL, "violation_count"), 0);
        if (it_json_num(j, NULL, "violation_count") != 0)
                it_print_violations(&E);
}

int main(void)
{
        if (it_sim_start(&E, "dc3,bos", 2, 2.0) < 0 || it_client_start(&E) < 0) {
                printf("not ok 1 - setup\n1..1\n");
                return 1;
        }
        RUN(test_killed_smsc_accepts_nothing_and_in_flight_moves);
        RUN(test_dropped_responses_are_resent_without_duplicates);
        RUN(test_throttling_smsc_is_paused_and_traffic_shifts);
        RUN(test_segmented_mts_survive_bind_loss_without_duplicate_parts);
        RUN(test_delivery_receipts_reach_the_application);
        RUN(test_bad_credentials_are_reported_and_not_hammered);
        smx_client_drain(E.c, 5000);
        it_stop(&E);
        return t_done();
}
