/* Three instances of one cluster in one process, sharing a real
 * redis-server (started here on a unix socket), against smsc-sim: every
 * SMSC sends each DR and MO on a random session of its system_id, and with
 * three instances bound to every SMSC that session belongs to any of them
 * (2 out of 3 times another instance than the owner). With DRs written
 * before their submit_sm_resp, DRs on other sites, intermediate (ACCEPTED)
 * DRs, deliver_sms re-sent by the service on another bind and multipart MOs
 * whose parts land on different instances:
 *   - every MT gets one outcome at the instance that accepted it;
 *   - every DR the service sent reaches exactly one application, the
 *     owner's, correlated to its MT, once per (MT, state);
 *   - every part DR of a long MT reaches its owner once, and the owner
 *     alone gets one merged final per MT, the worst part's state;
 *   - every MO reaches exactly one application, once, whole;
 *   - an instance that stops with DRs still to come: its DRs wait in its
 *     stream and a live instance takes them over after owner_takeover_ms,
 *     once; an instance restarted with the same name gets what was left;
 *   - what the applications released is trimmed from the streams. */
#include "rtest_inst.h"

#define N_INST 3

/* Instance `name` with the owner_takeover_ms given (DRs park up to 20 s). */
static int inst_start(struct rt_inst *in, const char *name, uint32_t takeover_ms)
{
        struct smx_config *cfg = rt_inst_config(in, name);
        cfg->dr_park_timeout_ms = 20000;
        cfg->store.owner_takeover_ms = takeover_ms;
        return rt_inst_launch(in);
}

static double sim_total(const char *key)
{
        return it_json_num(it_summary(&E), "\"totals\"", key);
}

/* Across every instance: how many DR events have this (id, state). */
static unsigned same_dr(const struct rt_dr *d)
{
        unsigned n = 0;
        for (int i = 0; i < N_INST; i++)
                for (size_t j = 0; j < I[i].n_drs; j++)
                        n += !strcmp(I[i].drs[j].id, d->id) && I[i].drs[j].state == d->state;
        return n;
}

/* Pump until the instances have `want` outcomes more than out0[]; the
 * count reached. */
static uint64_t await_outcomes(const uint64_t out0[N_INST], uint64_t want)
{
        uint64_t end = it_now_ms() + 30000, outs = 0;
        while (it_now_ms() < end) {
                rt_pump_all();
                outs = 0;
                for (int i = 0; i < N_INST; i++)
                        outs += I[i].outcomes - out0[i];
                if (outs >= want)
                        break;
                it_sleep_ms(5);
        }
        return outs;
}

/* Wait until the service has sent at least `min` DRs since its dr_sent
 * counter read dr0 and we have seen as many, then settle on its final
 * count (it may still be sending). Returns the DRs it sent. */
static double settle_service_drs(double dr0, double min)
{
        double want;
        uint64_t end = it_now_ms() + 30000;
        do {
                rt_pump_all();
                it_sleep_ms(20);
                want = sim_total("dr_sent") - dr0;
        } while ((want < min || rt_total_drs() < (size_t)want) && it_now_ms() < end);
        for (int round = 0; round < 10; round++) {
                rt_settle((size_t)want, 0, 20000, 1500);
                double now_want = sim_total("dr_sent") - dr0;
                if (now_want == want && rt_total_drs() >= (size_t)want)
                        break;
                want = now_want;
        }
        return want;
}

static void knobs_default(void)
{
        it_sim_ctl(&E, "set all other_site_prob 0.5");
        it_sim_ctl(&E, "set all dr_before_resp_prob 0.3");
        it_sim_ctl(&E, "set all dr_accepted_prob 0.5");
        it_sim_ctl(&E, "set all dr_delay_ms 20-200");
        it_sim_ctl(&E, "set all deliver_timeout_ms 10000");
        it_sim_ctl(&E, "set all mo_multipart_prob 1");
        it_sim_ctl(&E, "set all mo_out_of_order_prob 0.5");
        it_sim_ctl(&E, "set all dr_final_mix DELIVERED:100");
}

static void test_every_dr_once_at_its_owner(void)
{
        knobs_default();
        rt_reset_events();
        double dr0 = sim_total("dr_sent");
        uint64_t out0[N_INST], sub = 0;
        for (int i = 0; i < N_INST; i++)
                out0[i] = I[i].outcomes;
        for (int i = 0; i < N_INST; i++)
                sub += rt_submit_n(&I[i], 100, "shared store");
        CHECK_EQ(sub, 300);
        CHECK_EQ(await_outcomes(out0, 300), 300);
        /* every MT is followed by its final DR, some by an ACCEPTED one too */
        double want = settle_service_drs(dr0, 300);
        printf("# DRs sent by the service %.0f, seen %zu (a %zu, b %zu, c %zu)\n", want,
               rt_total_drs(), I[0].n_drs, I[1].n_drs, I[2].n_drs);
        CHECK(want > 300);                      /* some MTs had an ACCEPTED DR too */
        CHECK_EQ(rt_total_drs(), (size_t)want);
        size_t dup = 0, finals = 0;
        for (int i = 0; i < N_INST; i++) {
                CHECK_EQ(I[i].foreign_drs, 0);
                CHECK_EQ(I[i].uncorrelated, 0);
                for (size_t j = 0; j < I[i].n_drs; j++) {
                        dup += same_dr(&I[i].drs[j]) != 1;
                        finals += I[i].drs[j].mt_final;
                }
        }
        CHECK_EQ(dup, 0);
        CHECK_EQ(finals, 300);                  /* one merged final per MT */
        for (int i = 0; i < N_INST; i++)
                CHECK(I[i].n_drs >= 100);       /* each owner got its own */
        /* what the applications released is trimmed from the streams (every
         * 256 acknowledgements and once a second): at most the stream node
         * holding the newest entries is left, not one entry per DR */
        for (int i = 0; i < N_INST; i++) {
                char q[96];
                snprintf(q, sizeof q, "XLEN smsmux:{%.31s}:s:%.7s", cluster, I[i].name);
                long long len = rtest_redis_int(&R, q);
                for (int t = 0; t < 200 && (len < 0 || len > 100 || len >= (long long)I[i].n_drs);
                     t++) {
                        rt_pump_all();
                        rtest_sleep_ms(20);
                        len = rtest_redis_int(&R, q);
                }
                printf("# stream of %s: %lld entries left of %zu\n", I[i].name, len, I[i].n_drs);
                CHECK(len >= 0 && len <= 100 && len < (long long)I[i].n_drs);
        }
        /* stats and /metrics show the store */
        char *txt = NULL;
        CHECK_EQ(smx_stats_render(I[0].c, SMX_STATS_PROMETHEUS, &txt, NULL), 0);
        CHECK(txt && strstr(txt, "smsmux_store_connected 1"));
        CHECK(txt && strstr(txt, "smsmux_store_events_total"));
        free(txt);
        txt = NULL;
        CHECK_EQ(smx_stats_render(I[0].c, SMX_STATS_JSON, &txt, NULL), 0);
        CHECK(txt && strstr(txt, "\"store\":{\"connected\":1"));
        free(txt);
}

/* Merge order of final states (include/smsmux.h), -1 for a non-final one. */
static int final_rank(enum smx_dr_state s)
{
        switch (s) {
        case SMX_DR_DELIVERED: return 0;
        case SMX_DR_UNKNOWN: return 1;
        case SMX_DR_DELETED: return 2;
        case SMX_DR_EXPIRED: return 3;
        case SMX_DR_UNDELIVERABLE: return 4;
        case SMX_DR_REJECTED: return 5;
        default: return -1;
        }
}

#define MP_MTS 20       /* long MTs per instance */
#define MP_PARTS 3

/* Long MTs (3 UDH parts each) from every instance, each part's DRs on a
 * random session of any instance (other site half the time, some before
 * the part's submit_sm_resp, some with an ACCEPTED first), final states
 * mixed: the DR routing script merges the parts' finals in Redis, whoever
 * received them. The owner alone gets every part's DRs once, with its
 * part/parts, and exactly one DR flagged mt_final per MT carrying the
 * worst part's state. */
static void test_multipart_mt_part_drs_and_one_merged_final_at_owner(void)
{
        knobs_default();
        it_sim_ctl(&E, "set all dr_final_mix "
                       "DELIVERED:50,UNKNOWN:10,DELETED:10,EXPIRED:10,UNDELIVERABLE:10,REJECTED:10");
        rt_reset_events();
        char text[401];
        for (int i = 0; i < 400; i++)
                text[i] = (char)('a' + i % 26);
        text[400] = 0;          /* 400 GSM characters: 3 parts of 153 */
        double dr0 = sim_total("dr_sent"), acc0 = sim_total("submit_sm_accepted");
        uint64_t first[N_INST], out0[N_INST], sub0[N_INST], sub = 0;
        for (int i = 0; i < N_INST; i++) {
                first[i] = I[i].next_k;
                out0[i] = I[i].outcomes;
                sub0[i] = I[i].submitted;
        }
        for (int i = 0; i < N_INST; i++)
                sub += rt_submit_n(&I[i], MP_MTS, text);
        CHECK_EQ(sub, N_INST * MP_MTS);
        CHECK_EQ(await_outcomes(out0, sub), sub);
        for (int i = 0; i < N_INST; i++)
                CHECK_EQ(I[i].submitted - sub0[i], MP_MTS);
        CHECK_EQ(sim_total("submit_sm_accepted") - acc0, sub * MP_PARTS);
        double want = settle_service_drs(dr0, (double)(sub * MP_PARTS));
        printf("# long MTs: DRs sent by the service %.0f, seen %zu (a %zu, b %zu, c %zu)\n",
               want, rt_total_drs(), I[0].n_drs, I[1].n_drs, I[2].n_drs);
        CHECK(want >= sub * MP_PARTS);
        CHECK_EQ(rt_total_drs(), (size_t)want);
        size_t bad = 0, finals_wrong = 0, merged_not_delivered = 0, mixed = 0;
        for (int i = 0; i < N_INST; i++) {
                CHECK_EQ(I[i].foreign_drs, 0);  /* no DR at a non-owner */
                CHECK_EQ(I[i].uncorrelated, 0);
                for (uint64_t k = first[i]; k < I[i].next_k; k++) {
                        char id[64];
                        snprintf(id, sizeof id, "%.24s-%llu", I[i].name, (unsigned long long)k);
                        unsigned fin_seen[MP_PARTS + 1] = { 0 }, acc_seen[MP_PARTS + 1] = { 0 };
                        unsigned got = 0, finals = 0;
                        int worst = -1, best = 99;
                        enum smx_dr_state worst_state = 0, merged = 0;
                        for (size_t j = 0; j < I[i].n_drs; j++) {
                                const struct rt_dr *d = &I[i].drs[j];
                                if (strcmp(d->id, id))
                                        continue;
                                got++;
                                if (d->parts != MP_PARTS || d->part < 1 || d->part > MP_PARTS) {
                                        bad++;
                                        continue;
                                }
                                int r = final_rank(d->state);
                                if (r >= 0) {
                                        fin_seen[d->part]++;
                                        if (r > worst) {
                                                worst = r;
                                                worst_state = d->state;
                                        }
                                        best = r < best ? r : best;
                                } else if (d->state == SMX_DR_ACCEPTED) {
                                        acc_seen[d->part]++;
                                } else {
                                        bad++;
                                }
                                if (d->mt_final) {
                                        finals++;
                                        merged = d->mt_state;
                                        bad += r < 0;   /* only a final DR completes */
                                }
                        }
                        for (unsigned q = 1; q <= MP_PARTS; q++)
                                bad += fin_seen[q] != 1 || acc_seen[q] > 1;
                        merged_not_delivered += worst > 0;
                        mixed += best != worst;
                        if (finals != 1 || merged != worst_state) {
                                if (finals_wrong++ < 5)
                                        printf("# MT %s: %u DRs, %u flagged final, merged %d, worst %d\n",
                                               id, got, finals, (int)merged, (int)worst_state);
                        }
                }
        }
        CHECK_EQ(bad, 0);
        CHECK_EQ(finals_wrong, 0);
        CHECK(merged_not_delivered > 0);        /* the merge had a worse state to pick */
        CHECK(mixed > 0);                       /* and parts that disagreed */
}

static void test_multipart_mo_split_across_instances_once(void)
{
        knobs_default();
        rt_reset_events();
        double mo0 = sim_total("mo_sent"), rs0 = sim_total("deliver_sm_resent");
        /* slow output on two SMSCs while the service waits 150 ms for a
         * deliver_sm_resp: parts still trickling out are re-sent on another
         * session, often another instance's */
        it_sim_ctl(&E, "set all deliver_timeout_ms 150");
        it_sim_ctl(&E, "slow %s 600", E.info[0].name);
        it_sim_ctl(&E, "slow %s 600", E.info[2].name);
        it_sim_ctl(&E, "mo all 8");
        size_t want = 8 * E.n;
        int ok = rt_settle(0, want, 40000, 0);
        it_sim_ctl(&E, "slow all off");
        rt_settle(0, 0, 0, 2000);
        CHECK_EQ(ok, 1);
        CHECK_EQ(sim_total("mo_sent") - mo0, want);
        printf("# MOs seen %zu (a %zu, b %zu, c %zu), deliver_sm re-sent %.0f\n", rt_total_mos(),
               I[0].n_mos, I[1].n_mos, I[2].n_mos, sim_total("deliver_sm_resent") - rs0);
        CHECK_EQ(rt_total_mos(), want);
        size_t bad = 0, dup = 0;
        for (int i = 0; i < N_INST; i++)
                for (size_t j = 0; j < I[i].n_mos; j++) {
                        bad += !it_mo_whole(&I[i].mos[j]);
                        for (int i2 = 0; i2 < N_INST; i2++)
                                for (size_t j2 = 0; j2 < I[i2].n_mos; j2++)
                                        dup += (i2 != i || j2 != j) &&
                                               !strcmp(I[i].mos[j].text, I[i2].mos[j2].text);
                }
        CHECK_EQ(bad, 0);
        CHECK_EQ(dup, 0);
        int on = 0;
        for (int i = 0; i < N_INST; i++)
                on += I[i].n_mos > 0;
        CHECK(on >= 2);                         /* completed on more than one instance */
}

/* Final DRs only, each dr_delay ms after its MT's submit_sm_resp: instance
 * c submits 40 MTs, gets their outcomes, and stops before their DRs come. */
static void owner_submits_then_stops(struct rt_inst *c, const char *dr_delay, const char *text)
{
        knobs_default();
        it_sim_ctl(&E, "set all dr_accepted_prob 0");
        it_sim_ctl(&E, "set all dr_before_resp_prob 0");
        it_sim_ctl(&E, "set all dr_delay_ms %s", dr_delay);
        rt_reset_events();
        uint64_t out0 = c->outcomes;
        CHECK_EQ(rt_submit_n(c, 40, text), 40);
        uint64_t end = it_now_ms() + 20000;
        while (c->outcomes - out0 < 40 && it_now_ms() < end) {
                rt_pump_all();
                it_sleep_ms(2);
        }
        CHECK_EQ(c->outcomes - out0, 40);
        smx_client_destroy(c->c);
        c->c = NULL;
}

static void test_stopped_owner_drs_taken_over_then_rest_after_restart(void)
{
        struct rt_inst *c = &I[2];
        /* c stops before its DRs come: they wait in its stream */
        owner_submits_then_stops(c, "1500-2500", "owner goes away");
        /* a and b take them over after owner_takeover_ms (3 s), once */
        rt_settle(40, 0, 30000, 1500);
        size_t got = I[0].n_drs + I[1].n_drs, dup = 0;
        printf("# c's DRs taken over: a %zu, b %zu\n", I[0].n_drs, I[1].n_drs);
        CHECK_EQ(got, 40);
        for (int i = 0; i < 2; i++) {
                CHECK_EQ(I[i].foreign_drs, I[i].n_drs);        /* all c's */
                CHECK_EQ(I[i].uncorrelated, 0);
                for (size_t j = 0; j < I[i].n_drs; j++)
                        dup += same_dr(&I[i].drs[j]) != 1;
        }
        CHECK_EQ(dup, 0);

        /* c again, same name, with DRs pending for it: it gets its own */
        rt_reset_events();
        it_sim_ctl(&E, "set all dr_delay_ms 20-100");
        CHECK_EQ(inst_start(c, "c", 3000), 0);
        CHECK_EQ(rt_all_active(), 1);
        /* a and b see c's heartbeat within one scan (1 s) and stop reading
         * its stream; entries they read before that are theirs, once */
        rt_settle(0, 0, 0, 1500);
        CHECK_EQ(rt_submit_n(c, 30, "owner is back"), 30);
        rt_settle(30, 0, 20000, 1000);
        CHECK_EQ(c->n_drs, 30);
        CHECK_EQ(c->foreign_drs, 0);
        CHECK_EQ(I[0].n_drs + I[1].n_drs, 0);
}

static void test_owner_restarted_in_time_gets_its_pending_drs(void)
{
        struct rt_inst *c = &I[2];
        owner_submits_then_stops(c, "800-1500", "owner restarts");
        /* back well within owner_takeover_ms (3 s): a and b leave c's
         * stream alone, and c reads what waited for it */
        rt_settle(0, 0, 0, 300);
        CHECK_EQ(inst_start(c, "c", 3000), 0);
        rt_settle(40, 0, 20000, 1500);
        printf("# after the restart: c %zu, a %zu, b %zu\n", c->n_drs, I[0].n_drs, I[1].n_drs);
        CHECK_EQ(c->n_drs, 40);
        CHECK_EQ(c->foreign_drs, 0);
        CHECK_EQ(I[0].n_drs + I[1].n_drs, 0);
        size_t dup = 0;
        for (size_t j = 0; j < c->n_drs; j++)
                dup += same_dr(&c->drs[j]) != 1;
        CHECK_EQ(dup, 0);
        CHECK_EQ(rt_all_active(), 1);
}

/* The MT identity is hash(cluster, app MT id): the same MT resubmitted
 * through another instance is the same message to the service. */
static void test_resubmit_through_another_instance_is_one_message(void)
{
        double dup0 = it_json_num(it_summary(&E), "\"handset\"", "service_duplicates");
        double hs0 = it_json_num(it_summary(&E), "\"handset\"", "duplicates");
        struct smx_mt mt = { .id = "same-mt-1", .from = "12345", .to = "447700900001",
                             .text = "resubmitted elsewhere", .want_dr = 0 };
        uint64_t out_a = I[0].outcomes, out_b = I[1].outcomes;
        CHECK_EQ(smx_submit(I[0].c, &mt), 0);
        CHECK_EQ(smx_submit(I[1].c, &mt), 0);
        uint64_t end = it_now_ms() + 10000;
        while (it_now_ms() < end && (I[0].outcomes == out_a || I[1].outcomes == out_b)) {
                rt_pump_all();
                it_sleep_ms(5);
        }
        CHECK_EQ(I[0].outcomes - out_a, 1);
        CHECK_EQ(I[1].outcomes - out_b, 1);
        CHECK_EQ(it_json_num(it_summary(&E), "\"handset\"", "service_duplicates") - dup0, 1);
        CHECK_EQ(it_json_num(it_summary(&E), "\"handset\"", "duplicates") - hs0, 0);
}

static int inst_start_first(struct rt_inst *in, const char *name, int i)
{
        (void)i;
        return inst_start(in, name, 3000);
}

int main(void)
{
        int rc = rt_start(2);
        if (rc != RTEST_GO)
                return rc;
        snprintf(cluster, sizeof cluster, "t%d", (int)getpid());
        rt_n = N_INST;
        if ((rc = rt_start_instances(inst_start_first)) != RTEST_GO ||
            (rc = rt_await_bound()) != RTEST_GO)
                return rc;
        RUN(test_every_dr_once_at_its_owner);
        RUN(test_multipart_mt_part_drs_and_one_merged_final_at_owner);
        RUN(test_multipart_mo_split_across_instances_once);
        RUN(test_resubmit_through_another_instance_is_one_message);
        RUN(test_owner_restarted_in_time_gets_its_pending_drs);
        RUN(test_stopped_owner_drs_taken_over_then_rest_after_restart);
        return rt_finish();
}
