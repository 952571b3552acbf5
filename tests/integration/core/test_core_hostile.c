/* Hostile SMSC input (HOSTILE.md) through the whole stack: the simulator's
 * non-fatal cases leave the bind ACTIVE and traffic flowing; each fatal case
 * (bad command_length, non-SMPP bytes, a PDU that never completes, unbind)
 * closes that bind only, its in-flight MTs move, and it is bound again at
 * the rebind spacing. MOs reach the application exactly once. */
#include "itest.h"

static struct it_env E;

static int bind_health(const char *name)
{
        struct smx_bind_stats st[IT_MAX_SMSC];
        size_t n = smx_client_binds(E.c, st, IT_MAX_SMSC);
        for (size_t i = 0; i < n; i++)
                if (!strcmp(st[i].name, name))
                        return (int)st[i].health;
        return -1;
}

static uint64_t downs_of(const char *name, unsigned ms)
{
        return it_downs_during(&E, name, ms);
}

static void test_non_fatal_cases_keep_the_bind_up(void)
{
        CHECK_EQ(it_wait_active(&E, E.n, 10000), 1);
        it_sim_ctl(&E, "hostile smsc1.dc3 all");
        CHECK_EQ(downs_of("smsc1.dc3", 1500), 0);
        CHECK_EQ(bind_health("smsc1.dc3"), SMX_HEALTH_ACTIVE);
        it_sim_ctl(&E, "hostile smsc1.dc3 off");
        uint64_t n = 300;
        CHECK_EQ(it_submit_n(&E, n, "after hostile"), n);
        CHECK_EQ(it_wait_outcomes(&E, n, 20000), 1);
        CHECK_EQ(E.submitted, n);
        const char *j = it_summary(&E);
        CHECK(it_json_num(j, "\"name\":\"smsc1.dc3\"", "hostile_sent") >= 20);
        CHECK_EQ(it_json_num(j, NULL, "violation_count"), 0);
        if (it_json_num(j, NULL, "violation_count") != 0)
                it_print_violations(&E);
}

static void fatal_case(const char *which)
{
        CHECK_EQ(it_wait_active(&E, E.n, 10000), 1);
        uint64_t base = E.next_mt, n = 200;
        CHECK_EQ(it_submit_n(&E, n, "fatal"), n);
        it_sim_ctl(&E, "hostile smsc2.bos %s", which);
        uint64_t downs = downs_of("smsc2.bos", 2500);
        it_sim_ctl(&E, "hostile smsc2.bos off");
        if (downs < 1)
                printf("# case %s: bind did not go down\n", which);
        CHECK(downs >= 1);
        CHECK_EQ(it_wait_outcomes(&E, base + n, 20000), 1);
        CHECK_EQ(it_bad_outcomes(&E, E.next_mt), 0);
        CHECK_EQ(E.failed, 0);
        CHECK_EQ(it_wait_active(&E, E.n, 10000), 1);
}

static void test_a01_zero_length_closes_and_rebinds(void) { fatal_case("A-01"); }
static void test_a05_huge_length_closes_and_rebinds(void) { fatal_case("A-05"); }
static void test_a07_http_peer_closes_and_rebinds(void) { fatal_case("A-07"); }
static void test_a07_tls_peer_closes_and_rebinds(void) { fatal_case("A-07-tls"); }
static void test_a09_partial_pdu_deadline_closes(void) { fatal_case("A-09"); }
static void test_d09_unbind_from_smsc_closes_and_rebinds(void) { fatal_case("D-09"); }

static void test_dripping_smsc_output_is_reassembled(void)
{
        /* a few hundred bytes per second: every PDU straddles several recvs */
        it_sim_ctl(&E, "slow smsc1.bos 300");
        uint64_t base = E.next_mt, n = 100;
        CHECK_EQ(it_submit_n(&E, n, "drip"), n);
        CHECK_EQ(it_wait_outcomes(&E, base + n, 30000), 1);
        it_sim_ctl(&E, "slow smsc1.bos off");
        CHECK_EQ(E.failed, 0);
        CHECK_EQ(it_bad_outcomes(&E, E.next_mt), 0);
        struct smx_bind_stats st[IT_MAX_SMSC];
        smx_client_binds(E.c, st, IT_MAX_SMSC);
        CHECK(st[it_index(&E, "smsc1.bos")].accepted > 0);
        CHECK_EQ(st[it_index(&E, "smsc1.bos")].health, SMX_HEALTH_ACTIVE);
}

static void test_mos_reach_the_application_once(void)
{
        uint64_t before = E.mos;
        it_sim_ctl(&E, "mo smsc1.bos 25");
        it_sim_ctl(&E, "mo smsc2.dc3 25 3");
        uint64_t end = it_now_ms() + 8000;
        while (E.mos - before < 50 && it_now_ms() < end) {
                it_pump(&E);
                it_sleep_ms(10);
        }
        it_sleep_ms(300);
        it_pump(&E);
        CHECK_EQ(E.mos - before, 50);
        const char *j = it_summary(&E);
        CHECK_EQ(it_json_num(j, NULL, "violation_count"), 0);
        if (it_json_num(j, NULL, "violation_count") != 0)
                it_print_violations(&E);
        struct smx_bind_stats st[IT_MAX_SMSC];
        size_t n = smx_client_binds(E.c, st, IT_MAX_SMSC);
        for (size_t i = 0; i < n; i++)
                if (st[i].bind_attempts >= 2)
                        CHECK(st[i].min_attempt_spacing_ms > 1000);
}

int main(void)
{
        if (it_sim_start(&E, "dc3,bos", 2, 1.0) < 0) {
                printf("not ok 1 - setup\n1..1\n");
                return 1;
        }
        E.cfg.rebind_interval_ms = 1000;
        E.cfg.pdu_read_timeout_ms = 1000;
        E.cfg.enquire_link_interval_ms = 5000;
        if (it_client_start(&E) < 0) {
                printf("not ok 1 - setup\n1..1\n");
                return 1;
        }
        smx_log_configure(SMX_LOG_ERROR, NULL, NULL);
        RUN(test_non_fatal_cases_keep_the_bind_up);
        RUN(test_a01_zero_length_closes_and_rebinds);
        RUN(test_a05_huge_length_closes_and_rebinds);
        RUN(test_a07_http_peer_closes_and_rebinds);
        RUN(test_a07_tls_peer_closes_and_rebinds);
        RUN(test_a09_partial_pdu_deadline_closes);
        RUN(test_d09_unbind_from_smsc_closes_and_rebinds);
        RUN(test_dripping_smsc_output_is_reassembled);
        RUN(test_mos_reach_the_application_once);
        smx_client_drain(E.c, 5000);
        it_stop(&E);
        return t_done();
}
