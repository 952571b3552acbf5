/* R2 under flapping: SMSCs are killed, restored and reset over and over
 * while traffic flows; no two connect attempts to one SMSC are ever closer
 * than the rebind interval (2 s here), as measured by the simulator and by
 * the client, and every MT still gets exactly one outcome. */
#include "itest.h"

static struct it_env E;

static void test_flapping_never_breaks_rebind_spacing(void)
{
        CHECK_EQ(it_wait_active(&E, E.n, 10000), 1);
        const char *names[] = { "smsc1.dc3", "smsc2.dc3", "smsc1.bos", "smsc2.bos" };
        uint64_t end = it_now_ms() + 14000;
        unsigned step = 0;
        while (it_now_ms() < end) {
                const char *m = names[step % 4];
                switch (step % 3) {
                case 0: it_sim_ctl(&E, "reset %s", m); break;
                case 1: it_sim_ctl(&E, "kill %s", m); break;
                default: it_sim_ctl(&E, "restore all"); break;
                }
                step++;
                for (int i = 0; i < 10; i++) {
                        it_submit_n(&E, 20, "flap");
                        it_pump(&E);
                        it_sleep_ms(30);
                }
        }
        it_sim_ctl(&E, "restore all");
        CHECK_EQ(it_wait_outcomes(&E, E.next_mt, 60000), 1);
        CHECK_EQ(it_bad_outcomes(&E, E.next_mt), 0);
        const char *j = it_summary(&E);
        CHECK_EQ(it_json_num(j, NULL, "violation_count"), 0);
        if (it_json_num(j, NULL, "violation_count") != 0)
                it_print_violations(&E);
        for (size_t i = 0; i < E.n; i++) {
                char scope[64];
                snprintf(scope, sizeof scope, "\"name\":\"%s\"", E.info[i].name);
                double sp = it_json_num(j, scope, "min_attempt_spacing_s");
                CHECK(it_json_num(j, scope, "bind_attempts") >= 2);
                CHECK(sp > 2.0);
        }
        struct smx_bind_stats st[IT_MAX_SMSC];
        size_t n = smx_client_binds(E.c, st, IT_MAX_SMSC);
        for (size_t i = 0; i < n; i++) {
                CHECK(st[i].bind_attempts >= 2);
                CHECK(st[i].min_attempt_spacing_ms > 2000);
        }
        CHECK_EQ(it_json_num(j, "\"handset\"", "duplicates"), 0);
        CHECK_EQ(it_json_num(j, "\"totals\"", "accepted_while_killed"), 0);
}

int main(void)
{
        if (it_sim_start(&E, "dc3,bos", 2, 2.0) < 0 || it_client_start(&E) < 0) {
                printf("not ok 1 - setup\n1..1\n");
                return 1;
        }
        RUN(test_flapping_never_breaks_rebind_spacing);
        smx_client_drain(E.c, 5000);
        it_stop(&E);
        return t_done();
}
