/* Runtime knobs, drain/remove and stats of a running client against the
 * in-process smsc-sim (2 sites x 2 SMSCs): knob changes under load take
 * effect without losing or duplicating an MT, a drained site takes no new
 * MT while its binds stay up and MOs keep arriving, a removed SMSC is
 * unbound for good, and the per-bind counters match the simulator's ledger. */
#include <unistd.h>

#include "itest.h"

#define N_LOAD 12000

static int bind_index(struct smx_bind_stats *st, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (!strcmp(st[i].name, name))
                        return (int)i;
        return -1;
}

/* Sum of one per-bind counter over the binds of a site. */
enum site_field { SITE_SUBMITTED, SITE_IN_FLIGHT };
static uint64_t site_sum(smx_client *c, const char *site, enum site_field f)
{
        struct smx_bind_stats st[IT_MAX_SMSC];
        size_t n = smx_client_binds(c, st, IT_MAX_SMSC);
        uint64_t t = 0;
        for (size_t i = 0; i < n; i++)
                if (!strcmp(st[i].site, site))
                        t += f == SITE_SUBMITTED ? st[i].submitted : st[i].in_flight;
        return t;
}

static uint64_t site_submitted(smx_client *c, const char *site)
{
        return site_sum(c, site, SITE_SUBMITTED);
}

static uint64_t site_in_flight(smx_client *c, const char *site)
{
        return site_sum(c, site, SITE_IN_FLIGHT);
}

/* Whether every bind of a site shows admin state `st` in the bind stats: the
 * value its worker applied at the top of a turn (knobs_sync_w), so every MT
 * that worker routes from then on sees it, and every MT it routed before is
 * already counted in the bind's in_flight and submitted. */
static int site_admin_applied(smx_client *c, const char *site, enum smx_admin_state st)
{
        struct smx_bind_stats bs[IT_MAX_SMSC];
        size_t n = smx_client_binds(c, bs, IT_MAX_SMSC);
        int seen = 0;
        for (size_t i = 0; i < n; i++) {
                if (strcmp(bs[i].site, site))
                        continue;
                if (bs[i].admin != st)
                        return 0;
                seen = 1;
        }
        return seen;
}

static int start_env(struct it_env *e)
{
        if (it_sim_start(e, "dc3,bos", 2, 1.0) < 0)
                return -1;
        if (it_client_start(e) < 0)
                return -1;
        return it_wait_active(e, 4, 10000) ? 0 : -1;
}

/* Every MT gets exactly one outcome, all submitted, the handsets got each
 * exactly once. */
static void check_clean_finish(struct it_env *e, uint64_t n)
{
        CHECK(it_wait_outcomes(e, n, 60000));
        CHECK_EQ(e->submitted, n);
        CHECK_EQ(e->failed, 0);
        CHECK_EQ(e->duplicates_outcome, 0);
        CHECK_EQ(it_bad_outcomes(e, n), 0);
        const char *j = it_summary(e);
        CHECK_EQ(it_json_num(j, "\"totals\"", "handset_duplicates"), 0);
        CHECK_EQ(it_json_num(j, "\"totals\"", "handset_delivered"), (double)n);
}

static void test_knob_changes_under_load_lose_nothing(void)
{
        struct it_env e;
        if (start_env(&e) < 0) {
                CHECK(0);
                it_stop(&e);
                return;
        }
        static const char *const changes[][2] = {
                { "route_policy", "least_outstanding" }, { "smsc.smsc1.dc3.window", "1" },
                { "site.bos.weight", "3" }, { "route_policy", "site_weighted" },
                { "retry_backoff_ms", "10" }, { "site.dc3.tps", "3000" },
                { "response_timeout_ms", "3000" }, { "smsc.smsc1.dc3.window", "10" },
                { "route_policy", "round_robin" }, { "site.dc3.tps", "0" },
                { "log_level", "error" }, { "max_attempts", "60" },
        };
        size_t n_changes = sizeof changes / sizeof changes[0], done = 0;
        for (uint64_t k = 0; k < N_LOAD; k++) {
                CHECK_EQ(it_submit(&e, e.next_mt++, "knobs under load"), 0);
                if (k % 1000 == 999 && done < n_changes) {
                        char err[256] = "";
                        int rc = smx_knob_set(e.c, changes[done][0], changes[done][1], err,
                                              sizeof err);
                        if (rc < 0)
                                printf("# %s: %s\n", changes[done][0], err);
                        CHECK_EQ(rc, 0);
                        done++;
                }
                if ((k & 255) == 0)
                        it_pump(&e);
        }
        CHECK_EQ(done, n_changes);
        check_clean_finish(&e, N_LOAD);
        char v[64];
        CHECK(smx_knob_get(e.c, "max_attempts", v, sizeof v) > 0);
        CHECK_STR(v, "60");
        it_stop(&e);
}

/* Time for n MTs to get their outcomes. */
static uint64_t timed_batch(struct it_env *e, uint64_t n)
{
        uint64_t t0 = it_now_ms(), base = e->submitted + e->failed;
        for (uint64_t k = 0; k < n; k++)
                it_submit(e, e->next_mt++, "tps");
        it_wait_outcomes(e, base + n, 30000);
        return it_now_ms() - t0;
}

static void test_tps_knob_takes_effect_while_running(void)
{
        struct it_env e;
        if (start_env(&e) < 0) {
                CHECK(0);
                it_stop(&e);
                return;
        }
        /* 4 binds x 50/s = 200 MT/s: 400 MTs need about 2 s */
        CHECK_EQ(smx_knob_set(e.c, "site.dc3.tps", "50", NULL, 0), 0);
        CHECK_EQ(smx_knob_set(e.c, "site.bos.tps", "50", NULL, 0), 0);
        it_sleep_ms(50);
        uint64_t slow = timed_batch(&e, 400);
        printf("# 400 MTs at tps 50 per bind: %llu ms\n", (unsigned long long)slow);
        CHECK(slow >= 1500);
        CHECK_EQ(smx_knob_set(e.c, "site.dc3.tps", "0", NULL, 0), 0);
        CHECK_EQ(smx_knob_set(e.c, "site.bos.tps", "0", NULL, 0), 0);
        it_sleep_ms(50);
        uint64_t fast = timed_batch(&e, 4000);
        printf("# 4000 MTs at tps 0: %llu ms\n", (unsigned long long)fast);
        /* still at 200 MT/s they would need >= 19 s; unthrottled they take a
         * fraction of a second (the bound leaves room for a loaded machine) */
        CHECK(fast < 8000);
        check_clean_finish(&e, 4400);
        it_stop(&e);
}

static void test_drained_site_takes_no_mts_but_keeps_receiving(void)
{
        struct it_env e;
        if (start_env(&e) < 0) {
                CHECK(0);
                it_stop(&e);
                return;
        }
        uint64_t dc3_at_drain = 0, bos_at_drain = 0;
        for (uint64_t k = 0; k < N_LOAD; k++) {
                CHECK_EQ(it_submit(&e, e.next_mt++, "site drain"), 0);
                if (k == N_LOAD / 3) {
                        /* under load: dc3 is carrying MTs when the drain comes */
                        uint64_t until = it_now_ms() + 5000;
                        while (site_submitted(e.c, "dc3") == 0 && it_now_ms() < until) {
                                it_pump(&e);
                                it_sleep_ms(1);
                        }
                        CHECK_EQ(smx_site_set_admin(e.c, "dc3", SMX_ADMIN_DRAINING), 0);
                        /* the drain takes effect at each worker's next turn: a
                         * worker preempted in the middle of routing (a loaded
                         * machine) still sends the MTs it chose before; wait
                         * until both dc3 workers have applied it */
                        uint64_t applied = it_now_ms() + 5000;
                        while (!site_admin_applied(e.c, "dc3", SMX_ADMIN_DRAINING) &&
                               it_now_ms() < applied) {
                                it_pump(&e);
                                it_sleep_ms(1);
                        }
                        CHECK(site_admin_applied(e.c, "dc3", SMX_ADMIN_DRAINING));
                        /* MTs already sent to dc3 finish: wait until none is in
                         * flight there (a loaded machine may take a while) */
                        uint64_t settle = it_now_ms() + 5000;
                        do {
                                it_sleep_ms(20);
                                it_pump(&e);
                        } while (site_in_flight(e.c, "dc3") != 0 && it_now_ms() < settle);
                        CHECK_EQ(site_in_flight(e.c, "dc3"), 0);
                        dc3_at_drain = site_submitted(e.c, "dc3");
                        bos_at_drain = site_submitted(e.c, "bos");
                }
                if ((k & 255) == 0)
                        it_pump(&e);
        }
        check_clean_finish(&e, N_LOAD);
        CHECK(dc3_at_drain > 0);
        CHECK_EQ(site_submitted(e.c, "dc3"), dc3_at_drain);
        CHECK(site_submitted(e.c, "bos") > bos_at_drain + N_LOAD / 2);
        /* still bound, still receiving: MOs generated at dc3 reach the app */
        struct smx_bind_stats st[IT_MAX_SMSC];
        size_t n = smx_client_binds(e.c, st, IT_MAX_SMSC);
        int i1 = bind_index(st, n, "smsc1.dc3");
        CHECK(i1 >= 0);
        if (i1 < 0) {
                it_stop(&e);
                return;
        }
        CHECK_EQ(st[i1].health, SMX_HEALTH_ACTIVE);
        CHECK_EQ(st[i1].admin, SMX_ADMIN_DRAINING);
        uint64_t mos_before = e.mos, bind_mos = st[i1].mos;
        it_sim_ctl(&e, "mo smsc1.dc3 20");
        uint64_t end = it_now_ms() + 5000;
        while (e.mos < mos_before + 20 && it_now_ms() < end) {
                it_pump(&e);
                it_sleep_ms(5);
        }
        CHECK_EQ(e.mos, mos_before + 20);
        smx_client_binds(e.c, st, IT_MAX_SMSC);
        CHECK_EQ(st[i1].mos, bind_mos + 20);
        char v[32];
        smx_knob_get(e.c, "site.dc3.admin", v, sizeof v);
        CHECK_STR(v, "draining");
        /* enabled again: dc3 carries MTs again */
        CHECK_EQ(smx_site_set_admin(e.c, "dc3", SMX_ADMIN_ENABLED), 0);
        it_sleep_ms(50);
        uint64_t before = site_submitted(e.c, "dc3");
        for (int k = 0; k < 400; k++)
                it_submit(&e, e.next_mt++, "enabled again");
        CHECK(it_wait_outcomes(&e, N_LOAD + 400, 20000));
        CHECK(site_submitted(e.c, "dc3") > before);
        it_stop(&e);
}

static void test_removed_smsc_unbinds_and_never_rebinds(void)
{
        struct it_env e;
        if (start_env(&e) < 0) {
                CHECK(0);
                it_stop(&e);
                return;
        }
        CHECK_EQ(smx_smsc_set_admin(e.c, "smsc2.bos", SMX_ADMIN_REMOVED), 0);
        it_sleep_ms(300);
        it_pump(&e);
        struct smx_bind_stats st[IT_MAX_SMSC];
        size_t n = smx_client_binds(e.c, st, IT_MAX_SMSC);
        int i = bind_index(st, n, "smsc2.bos");
        CHECK(i >= 0);
        if (i < 0) {
                it_stop(&e);
                return;
        }
        CHECK_EQ(st[i].health, SMX_HEALTH_DOWN);
        CHECK_EQ(st[i].admin, SMX_ADMIN_REMOVED);
        uint64_t attempts = st[i].bind_attempts;
        /* the rebind interval is 1 s here: three of them pass with no attempt */
        it_downs_during(&e, "smsc2.bos", 3200);
        smx_client_binds(e.c, st, IT_MAX_SMSC);
        CHECK_EQ(st[i].bind_attempts, attempts);
        CHECK_EQ(it_json_num(it_summary(&e), "\"name\":\"smsc2.bos\"", "unbinds"), 1);
        char err[128];
        CHECK_EQ(smx_knob_set(e.c, "smsc.smsc2.bos.admin", "enabled", err, sizeof err), SMX_ESTATE);
        /* traffic goes to the other three */
        it_submit_n(&e, 1000, "after remove");
        check_clean_finish(&e, 1000);
        smx_client_binds(e.c, st, IT_MAX_SMSC);
        CHECK_EQ(st[i].submitted, 0);
        it_stop(&e);
}

static void test_bind_counters_match_the_simulator_ledger(void)
{
        struct it_env e;
        if (start_env(&e) < 0) {
                CHECK(0);
                it_stop(&e);
                return;
        }
        it_submit_n(&e, 5000, "ledger");
        check_clean_finish(&e, 5000);
        it_sim_ctl(&e, "mo smsc1.bos 7");
        /* wait until the simulator has sent everything it will (DRs trail
         * their MTs) and every deliver_sm was acknowledged: two looks at the
         * ledger 300 ms apart agree */
        uint64_t end = it_now_ms() + 20000;
        double last = -1;
        for (;;) {
                it_pump(&e);
                const char *j = it_summary(&e);
                double sent = it_json_num(j, "\"totals\"", "deliver_sm_sent");
                double acked = it_json_num(j, "\"totals\"", "deliver_sm_acked");
                if ((sent == acked && acked == last && e.mos >= 7) || it_now_ms() > end)
                        break;
                last = acked;
                it_sleep_ms(300);
        }
        it_pump(&e);
        const char *j = it_summary(&e);
        struct smx_bind_stats st[IT_MAX_SMSC];
        size_t n = smx_client_binds(e.c, st, IT_MAX_SMSC);
        CHECK_EQ(n, 4);
        uint64_t drs = 0, mos = 0, accepted = 0, lat = 0;
        for (size_t i = 0; i < n; i++) {
                char scope[80];
                snprintf(scope, sizeof scope, "\"name\":\"%.32s\"", st[i].name);
                CHECK_EQ(st[i].submitted, it_json_num(j, scope, "submit_sm_received"));
                CHECK_EQ(st[i].accepted, it_json_num(j, scope, "submit_sm_accepted"));
                CHECK_EQ(st[i].drs + st[i].mos, it_json_num(j, scope, "deliver_sm_acked"));
                CHECK_EQ(st[i].failed, 0);
                CHECK(st[i].latency_count == st[i].accepted);
                CHECK(st[i].latency_p50_us <= st[i].latency_p99_us);
                CHECK(st[i].latency_p99_us <= st[i].latency_p999_us);
                drs += st[i].drs;
                mos += st[i].mos;
                accepted += st[i].accepted;
                lat += st[i].latency_count;
        }
        CHECK_EQ(accepted, 5000);
        CHECK_EQ(lat, 5000);
        CHECK_EQ(drs + mos, it_json_num(j, "\"totals\"", "deliver_sm_acked"));
        CHECK_EQ(mos, 7);
        CHECK_EQ(e.drs, drs);
        /* the renderings carry the same numbers */
        char *txt = NULL;
        CHECK_EQ(smx_stats_render(e.c, SMX_STATS_PROMETHEUS, &txt, NULL), 0);
        char line[160];
        snprintf(line, sizeof line, "smsmux_mt_accepted_total{smsc=\"%s\",site=\"%s\"} %llu\n",
                 st[0].name, st[0].site, (unsigned long long)st[0].accepted);
        CHECK(txt && strstr(txt, line));
        snprintf(line, sizeof line, "smsmux_mts_accepted_total 5000\n");
        CHECK(txt && strstr(txt, line));
        free(txt);
        txt = NULL;
        CHECK_EQ(smx_stats_render(e.c, SMX_STATS_TABLE, &txt, NULL), 0);
        CHECK(txt && strstr(txt, "smsc1.dc3") && strstr(txt, "P99ms"));
        free(txt);
        it_stop(&e);
}

static void test_smsc_added_at_runtime_binds_and_carries_mts(void)
{
        struct it_env e;
        if (it_sim_start(&e, "dc3,bos", 2, 1.0) < 0) {
                CHECK(0);
                it_stop(&e);
                return;
        }
        e.cfg.n_smscs = 3;              /* smsc2.bos is left out at start */
        e.cfg.spare_smscs = 1;
        if (it_client_start(&e) < 0 || !it_wait_active(&e, 3, 10000)) {
                CHECK(0);
                it_stop(&e);
                return;
        }
        struct smx_bind_stats st[IT_MAX_SMSC];
        CHECK_EQ(smx_client_binds(e.c, st, IT_MAX_SMSC), 3);
        char err[256] = "";
        struct smx_smsc_config dup = e.smsc[0];
        CHECK_EQ(smx_smsc_add(e.c, &dup, err, sizeof err), SMX_EINVAL);
        CHECK(strstr(err, "exists") != NULL);
        struct smx_smsc_config big = e.smsc[3];
        big.window = e.cfg.window + 1;
        CHECK_EQ(smx_smsc_add(e.c, &big, err, sizeof err), SMX_EINVAL);
        int rc = smx_smsc_add(e.c, &e.smsc[3], err, sizeof err);
        if (rc < 0)
                printf("# smx_smsc_add: %s\n", err);
        CHECK_EQ(rc, 0);
        CHECK(it_wait_active(&e, 4, 10000));
        struct smx_smsc_config more = e.smsc[3];
        more.name = "smsc9.bos";
        CHECK_EQ(smx_smsc_add(e.c, &more, err, sizeof err), SMX_ENOMEM);   /* no spare left */
        size_t n = smx_client_binds(e.c, st, IT_MAX_SMSC);
        CHECK_EQ(n, 4);
        int i = bind_index(st, n, "smsc2.bos");
        CHECK(i >= 0);
        char v[32];
        CHECK(smx_knob_get(e.c, "smsc.smsc2.bos.admin", v, sizeof v) > 0);
        CHECK_STR(v, "enabled");
        it_submit_n(&e, 4000, "to four");
        check_clean_finish(&e, 4000);
        smx_client_binds(e.c, st, IT_MAX_SMSC);
        if (i >= 0) {
                CHECK(st[i].submitted > 0);
                CHECK_EQ(st[i].bind_attempts, 1);
        }
        it_stop(&e);
}

int main(void)
{
        RUN(test_knob_changes_under_load_lose_nothing);
        RUN(test_tps_knob_takes_effect_while_running);
        RUN(test_drained_site_takes_no_mts_but_keeps_receiving);
        RUN(test_removed_smsc_unbinds_and_never_rebinds);
        RUN(test_bind_counters_match_the_simulator_ledger);
        RUN(test_smsc_added_at_runtime_binds_and_carries_mts);
        return t_done();
}
