/* Chaos: for a minute under steady load, SMSCs are killed and restored,
 * stalled, throttled, filled up, reset, and made to drop responses, at
 * random. At the end: every MT has exactly one outcome and none failed (0
 * lost), the handsets got each MT once (0 duplicated), no SMSC accepted
 * anything while killed (R4), and no rebind attempt broke R2. */
#include "itest.h"

static struct it_env E;

static uint32_t rng = 2463534242u;
static uint32_t rnd(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 17;
        rng ^= rng << 5;
        return rng;
}

static void chaos_step(void)
{
        char target[40];
        snprintf(target, sizeof target, "%s", E.info[rnd() % E.n].name);
        switch (rnd() % 10) {
        case 0: it_sim_ctl(&E, "kill %s", target); break;
        case 1: case 2: it_sim_ctl(&E, "restore %s", target); break;
        case 3: it_sim_ctl(&E, "stall %s on", target); break;
        case 4: it_sim_ctl(&E, "stall %s off", target); break;
        case 5: it_sim_ctl(&E, "throttle %s %s", target, rnd() % 2 ? "on" : "off"); break;
        case 6: it_sim_ctl(&E, "drop-resp %s %u", target, 1 + rnd() % 20); break;
        case 7: it_sim_ctl(&E, "reset %s", target); break;
        case 8: it_sim_ctl(&E, "queue-full %s %s", target, rnd() % 2 ? "on" : "off"); break;
        default: it_sim_ctl(&E, "throttle %s 200", target); break;
        }
}

static void calm_all(void)
{
        it_sim_ctl(&E, "restore all");
        it_sim_ctl(&E, "stall all off");
        it_sim_ctl(&E, "throttle all off");
        it_sim_ctl(&E, "queue-full all off");
        it_sim_ctl(&E, "drop-resp all 0");
}

static void test_chaos_loses_and_duplicates_nothing(void)
{
        CHECK_EQ(it_wait_active(&E, E.n, 10000), 1);
        /* SMX_CHAOS_FAST=1 (by hand, for hunting rare failures): a fault
         * every 30-150 ms instead of every 0.3-1 s */
        const char *fast_env = getenv("SMX_CHAOS_FAST");
        int fast = fast_env && *fast_env == '1';
        uint64_t end = it_now_ms() + 62000;
        uint64_t next_chaos = it_now_ms() + 500;
        while (it_now_ms() < end) {
                /* never wait for ingress room here: while every SMSC is down
                 * the faults must go on changing (restores included), or the
                 * loop would freeze the outage it is waiting out */
                it_try_submit_n(&E, 25, "chaos");
                it_pump(&E);
                if (it_now_ms() >= next_chaos) {
                        chaos_step();
                        next_chaos = it_now_ms() + (fast ? 30 + rnd() % 120 : 300 + rnd() % 700);
                }
                it_sleep_ms(50);
        }
        calm_all();
        int all_out = it_wait_outcomes(&E, E.next_mt, 90000);
        CHECK_EQ(all_out, 1);
        printf("# chaos: %llu MTs, %llu submitted, %llu failed, %llu DRs\n",
               (unsigned long long)E.next_mt, (unsigned long long)E.submitted,
               (unsigned long long)E.failed, (unsigned long long)E.drs);
        if (E.failed) {         /* say why, so a failure here can be diagnosed */
                uint64_t by[256] = { 0 };
                for (uint64_t k = 0; k < E.next_mt && k < IT_MAX_MT; k++)
                        if (E.outcome[k] == 2)
                                by[E.fail_reason[k]]++;
                for (unsigned r = 0; r < 256; r++)
                        if (by[r])
                                printf("# failed %s: %llu\n",
                                       smx_fail_reason_name((enum smx_fail_reason)r),
                                       (unsigned long long)by[r]);
                for (size_t i = 0; i < E.n; i++)
                        printf("# %s: %llu downs, last: %s\n", E.info[i].name,
                               (unsigned long long)E.downs[i], E.last_down_reason[i]);
        }
        if (E.failed || !all_out) {     /* the client's view of each bind now */
                struct smx_bind_stats bs[IT_MAX_SMSC];
                size_t nb = smx_client_binds(E.c, bs, IT_MAX_SMSC);
                for (size_t i = 0; i < nb; i++)
                        printf("# %s (worker %u): %s, in flight %u, attempts %llu, submitted %llu,"
                               " accepted %llu, resent %llu\n", bs[i].name, bs[i].worker,
                               smx_health_name(bs[i].health), bs[i].in_flight,
                               (unsigned long long)bs[i].bind_attempts,
                               (unsigned long long)bs[i].submitted,
                               (unsigned long long)bs[i].accepted,
                               (unsigned long long)bs[i].resent);
                printf("# client: %llu MTs without outcome\n",
                       (unsigned long long)smx_client_in_flight(E.c));
                char reply[1024];   /* the simulator's view: faults, sessions, binds */
                sim_ctl(E.sim, "status", reply, sizeof reply);
                printf("# sim status: %s\n", reply);
                const char *j = it_summary(&E);
                for (size_t i = 0; i < E.n; i++) {
                        char scope[64];
                        snprintf(scope, sizeof scope, "\"%s\"", E.info[i].name);
                        printf("# sim %s: bind_attempts %.0f, bind_pdus %.0f, binds_ok %.0f,"
                               " binds_refused %.0f\n", E.info[i].name,
                               it_json_num(j, scope, "bind_attempts"),
                               it_json_num(j, scope, "bind_pdus"),
                               it_json_num(j, scope, "binds_ok"),
                               it_json_num(j, scope, "binds_refused"));
                }
                it_print_violations(&E);
        }
        CHECK(E.next_mt >= 10000);
        CHECK_EQ(it_bad_outcomes(&E, E.next_mt), 0);
        CHECK_EQ(E.duplicates_outcome, 0);
        CHECK_EQ(E.failed, 0);
        const char *j = it_summary(&E);
        CHECK_EQ(it_json_num(j, "\"handset\"", "duplicates"), 0);
        CHECK_EQ((uint64_t)it_json_num(j, "\"handset\"", "delivered"), E.submitted);
        CHECK_EQ(it_json_num(j, "\"totals\"", "accepted_while_killed"), 0);
        CHECK_EQ(it_json_num(j, NULL, "violation_count"), 0);
        if (it_json_num(j, NULL, "violation_count") != 0)
                it_print_violations(&E);
        struct smx_bind_stats st[IT_MAX_SMSC];
        size_t n = smx_client_binds(E.c, st, IT_MAX_SMSC);
        for (size_t i = 0; i < n; i++)
                if (st[i].bind_attempts >= 2)
                        CHECK(st[i].min_attempt_spacing_ms > 2000);
}

int main(void)
{
        if (it_sim_start(&E, "dc3,bos", 2, 2.0) < 0) {
                printf("not ok 1 - setup\n1..1\n");
                return 1;
        }
        E.cfg.max_attempts = 1000;
        E.cfg.window = 20;
        if (it_client_start(&E) < 0) {
                printf("not ok 1 - setup\n1..1\n");
                return 1;
        }
        smx_log_configure(SMX_LOG_ERROR, NULL, NULL);
        RUN(test_chaos_loses_and_duplicates_nothing);
        smx_client_drain(E.c, 10000);
        it_stop(&E);
        return t_done();
}
