/* The HTTP transport's receiver with a shared store: three instances of one
 * cluster in one process, a real redis-server (started here on a unix
 * socket), smsc-sim's SMPP engine and its HTTP side, which pushes every DR
 * and MO to the three instances' receivers in turn (a load balancer in
 * front of them: each push attempt goes to the next receiver, so a copy the
 * service re-sends lands on another instance).
 *   a: transport http (its MTs go over the HTTP API), receiver on;
 *   b, c: transport smpp, receivers on; all three bound to every SMSC.
 * What it proves:
 *   - an HTTP MT's DR pushed to any instance's receiver reaches a alone,
 *     correlated, once, also when the DR arrives before a has the MT's
 *     answer (the service answers late: the DR parks in Redis) and when the
 *     service pushes every DR twice (shared dedup);
 *   - an SMPP MT's DR pushed over HTTP (some before the submit_sm_resp)
 *     reaches its owner b once, correlated;
 *   - an MO pushed twice, to two instances, is delivered once overall, with
 *     its text, from the HTTP transport;
 *   - Redis paused: the receivers answer 503 after hold_ms (the service
 *     re-sends), nothing is delivered twice or lost once Redis is back;
 *   - an instance stopped while its receiver holds deferred answers stops
 *     (after answering them 503) and the re-sends reach the others, once. */
#include "rtest_http.h"

#define N_INST 3

static unsigned mo_serial;      /* the simulator's last MO number ("mo text N") */

/* Instance `name`: a (i 0) sends its MTs over HTTP, b and c over SMPP;
 * every one has a receiver; DRs park up to 20 s, Redis waited for 500 ms. */
static int inst_start(struct rt_inst *in, const char *name, int i)
{
        struct smx_config *cfg = rt_inst_config(in, name);
        cfg->dr_park_timeout_ms = 20000;
        cfg->store.hold_ms = 500;
        smx_http_config_init(&in->hc);
        in->hc.transport = i == 0 ? SMX_TRANSPORT_HTTP : SMX_TRANSPORT_SMPP;
        if (in->hc.transport != SMX_TRANSPORT_SMPP) {
                rt_http_post_to_sim(in);
        }
        in->hc.receiver = "127.0.0.1:0";
        cfg->http = &in->hc;
        return rt_inst_launch(in);
}

static struct smx_http_stats rx_stats(int i)
{
        struct smx_http_stats st;
        smx_client_http_stats(I[i].c, &st);
        return st;
}

static uint64_t await_outcomes(struct rt_inst *in, uint64_t want)
{
        uint64_t end = it_now_ms() + 30000;
        while (it_now_ms() < end && in->outcomes < want) {
                rt_pump_all();
                it_sleep_ms(5);
        }
        return in->outcomes;
}

/* Every DR of `in`'s MTs k0..k0+n-1 reached `in` once, nobody else. */
static void check_drs_once_at(struct rt_inst *in, uint64_t k0, unsigned n)
{
        unsigned missing = 0, twice = 0;
        for (unsigned k = 0; k < n; k++) {
                char id[64];
                snprintf(id, sizeof id, "%s-%llu", in->name, (unsigned long long)(k0 + k));
                unsigned c = rt_dr_count(id);
                missing += c == 0;
                twice += c > 1;
        }
        CHECK_EQ(missing, 0);
        CHECK_EQ(twice, 0);
        CHECK_EQ(in->n_drs, n);
        CHECK_EQ(in->foreign_drs, 0);
        for (int i = 0; i < N_INST; i++) {
                CHECK_EQ(I[i].uncorrelated, 0);
                if (&I[i] != in)
                        CHECK_EQ(I[i].n_drs, 0);
        }
}

#define N_HTTP 120

/* HTTP MTs from a; the service answers the first half 800 ms late (their
 * DRs are pushed before a has the answer: parked in Redis, routed when a's
 * correlation write comes) and pushes every DR twice, each copy to the next
 * receiver. */
static void test_http_mt_drs_reach_the_owner_once_from_any_receiver(void)
{
        struct rt_inst *a = &I[0];
        rt_reset_events();
        uint64_t k0 = a->next_k, out0 = a->outcomes;
        double parked0 = rt_store_sum("parked"), dup0 = rt_store_sum("duplicates");
        struct smx_http_stats b0 = rx_stats(1), c0 = rx_stats(2);
        rt_hctl("http dup-push on");
        rt_hctl("http late dc3 800");
        rt_hctl("http late bos 800");
        CHECK_EQ(rt_submit_n(a, N_HTTP / 2, "shared store over http"), N_HTTP / 2);
        CHECK_EQ(await_outcomes(a, out0 + N_HTTP / 2), out0 + N_HTTP / 2);
        rt_hctl("http late dc3 0");
        rt_hctl("http late bos 0");
        CHECK_EQ(rt_submit_n(a, N_HTTP / 2, "shared store over http"), N_HTTP / 2);
        CHECK_EQ(await_outcomes(a, out0 + N_HTTP), out0 + N_HTTP);
        CHECK_EQ(a->submitted, a->outcomes);
        rt_settle(N_HTTP, 0, 30000, 1500);
        rt_hctl("http dup-push off");
        printf("# HTTP MTs' DRs: a %zu (over http %llu), b %zu, c %zu; parked %.0f, "
               "duplicates %.0f\n", a->n_drs, (unsigned long long)a->drs_http, I[1].n_drs,
               I[2].n_drs, rt_store_sum("parked") - parked0, rt_store_sum("duplicates") - dup0);
        check_drs_once_at(a, k0, N_HTTP);
        CHECK_EQ(a->drs_http, N_HTTP);
        CHECK(rx_stats(0).rx_deferred > 0);     /* answered once Redis had them */
        /* b's and c's receivers took some of them, and Redis parked the
         * early ones and recognised the second copies */
        struct smx_http_stats b1 = rx_stats(1), c1 = rx_stats(2);
        CHECK(b1.rx_delivered + b1.rx_duplicates - b0.rx_delivered - b0.rx_duplicates > 0);
        CHECK(c1.rx_delivered + c1.rx_duplicates - c0.rx_delivered - c0.rx_duplicates > 0);
        CHECK(rt_store_sum("parked") - parked0 > 0);
        CHECK(rt_store_sum("duplicates") - dup0 >= N_HTTP);
        struct http_sim_counts sc;
        http_sim_counts(H, &sc);
        CHECK_EQ(sc.dr_acked, sc.dr_pushed);
}

#define N_SMPP 120

/* SMPP MTs from b; the service pushes half of their DRs over HTTP to the
 * receivers in turn (some written before the submit_sm_resp), the rest on
 * an SMPP bind of any instance. */
static void test_smpp_mt_drs_pushed_over_http_reach_the_owner_once(void)
{
        struct rt_inst *b = &I[1];
        rt_reset_events();
        it_sim_ctl(&E, "set all dr_before_resp_prob 0.3");
        uint64_t k0 = b->next_k, out0 = b->outcomes;
        struct http_sim_counts s0, s1;
        http_sim_counts(H, &s0);
        CHECK_EQ(rt_submit_n(b, N_SMPP, "shared store over http"), N_SMPP);
        CHECK_EQ(await_outcomes(b, out0 + N_SMPP), out0 + N_SMPP);
        rt_settle(N_SMPP, 0, 30000, 1500);
        http_sim_counts(H, &s1);
        printf("# SMPP MTs' DRs: b %zu (over http %llu), a %zu, c %zu; service pushed %llu "
               "over http\n", b->n_drs, (unsigned long long)b->drs_http, I[0].n_drs, I[2].n_drs,
               (unsigned long long)(s1.smpp_dr_via_http - s0.smpp_dr_via_http));
        check_drs_once_at(b, k0, N_SMPP);
        CHECK(s1.smpp_dr_via_http - s0.smpp_dr_via_http > N_SMPP / 5);
        CHECK_EQ(b->drs_http, s1.smpp_dr_via_http - s0.smpp_dr_via_http);
        it_sim_ctl(&E, "set all dr_before_resp_prob 0");
}

/* MOs pushed twice each, the copies to different receivers: once overall. */
static void test_http_mo_pushed_to_two_instances_is_delivered_once(void)
{
        rt_reset_events();
        struct http_sim_counts s0;
        http_sim_counts(H, &s0);
        unsigned k0 = mo_serial;
        rt_hctl("http dup-push on");
        rt_hctl("http mo 90");
        mo_serial += 90;
        rt_settle(0, 90, 20000, 1500);
        rt_hctl("http dup-push off");
        unsigned missing, twice;
        rt_http_mos_once(k0, 90, &missing, &twice);
        printf("# MOs: a %zu, b %zu, c %zu\n", I[0].n_mos, I[1].n_mos, I[2].n_mos);
        CHECK_EQ(rt_total_mos(), 90);
        CHECK_EQ(missing, 0);
        CHECK_EQ(twice, 0);
        for (int i = 0; i < N_INST; i++)
                CHECK_EQ(I[i].mos_not_http, 0);
        struct http_sim_counts s1;
        http_sim_counts(H, &s1);
        CHECK_EQ(s1.mo_pushed - s0.mo_pushed, 180);
        CHECK_EQ(s1.mo_acked - s0.mo_acked, 180);
}

/* Redis paused: a DR/MO waits hold_ms (500 ms), then the receiver answers
 * 503 and the service re-sends (to the next receiver); once Redis is back
 * every one is delivered once. */
static void test_redis_paused_receivers_answer_503_then_deliver_once(void)
{
        rt_reset_events();
        struct http_sim_counts s0;
        http_sim_counts(H, &s0);
        uint64_t busy0 = rx_stats(0).rx_busy + rx_stats(1).rx_busy + rx_stats(2).rx_busy;
        unsigned k0 = mo_serial;
        rtest_redis_kill(&R, SIGSTOP);
        rt_hctl("http mo 40");
        mo_serial += 40;
        uint64_t end = it_now_ms() + 3000;
        while (it_now_ms() < end) {
                rt_pump_all();
                it_sleep_ms(5);
        }
        CHECK_EQ(rt_total_mos(), 0);                       /* nothing without Redis */
        rtest_redis_kill(&R, SIGCONT);
        rt_settle(0, 40, 30000, 1500);
        uint64_t busy = rx_stats(0).rx_busy + rx_stats(1).rx_busy + rx_stats(2).rx_busy - busy0;
        struct http_sim_counts s1;
        http_sim_counts(H, &s1);
        printf("# Redis paused 3 s: %llu answers 503, %llu failed pushes; MOs a %zu, b %zu, "
               "c %zu\n", (unsigned long long)busy,
               (unsigned long long)(s1.push_failures - s0.push_failures), I[0].n_mos,
               I[1].n_mos, I[2].n_mos);
        CHECK(busy > 0);
        CHECK(s1.push_failures - s0.push_failures > 0);
        CHECK_EQ(rt_total_mos(), 40);
        unsigned missing, twice;
        rt_http_mos_once(k0, 40, &missing, &twice);
        CHECK_EQ(missing, 0);
        CHECK_EQ(twice, 0);
        CHECK_EQ(s1.mo_acked - s0.mo_acked, 40);
        CHECK(rt_store_sum("in_retry_later") > 0);
}

/* An instance stopped while its receiver holds requests waiting for a
 * paused Redis: the stop waits for their answers (503 after hold_ms; the
 * daemon may not stop with a suspended connection), nothing hangs or
 * crashes, and the service's re-sends reach the other two: every MO once.
 * Runs last: it leaves c stopped. */
static void test_instance_stopped_with_answers_pending_loses_nothing(void)
{
        rt_reset_events();
        struct http_sim_counts s0;
        http_sim_counts(H, &s0);
        unsigned k0 = mo_serial;
        rtest_redis_kill(&R, SIGSTOP);
        rt_hctl("http mo 30");
        mo_serial += 30;
        uint64_t end = it_now_ms() + 200;
        while (it_now_ms() < end) {
                rt_pump_all();
                it_sleep_ms(5);
        }
        struct smx_http_stats st = rx_stats(2);
        printf("# c holds %llu deferred answers when it stops\n",
               (unsigned long long)(st.rx_requests - st.rx_delivered - st.rx_duplicates -
                                    st.rx_busy - st.rx_bad - st.rx_forbidden));
        uint64_t t0 = it_now_ms();
        smx_client_destroy(I[2].c);
        I[2].c = NULL;
        uint64_t took = it_now_ms() - t0;
        printf("# c stopped in %llu ms\n", (unsigned long long)took);
        CHECK(took < 30000);                    /* it stops (no hang) */
        rtest_redis_kill(&R, SIGCONT);
        /* an MO c's store had written before the pause reaches Redis once it
         * runs again, in c's stream: the service's re-send of it is then a
         * duplicate at a or b (200, not delivered again), and that MO comes
         * only when a or b takes c's stream over, owner_takeover_ms (30 s)
         * after they are back on Redis (which itself can take seconds) */
        rt_settle(0, 30, 75000, 1500);
        unsigned missing, twice;
        rt_http_mos_once(k0, 30, &missing, &twice);
        printf("# MOs: a %zu, b %zu\n", I[0].n_mos, I[1].n_mos);
        CHECK_EQ(missing, 0);
        CHECK_EQ(twice, 0);
        CHECK_EQ(rt_total_mos(), 30);
        struct http_sim_counts s1;
        http_sim_counts(H, &s1);
        CHECK_EQ(s1.mo_acked - s0.mo_acked, 30);
}

int main(void)
{
        int rc = rt_start(1);
        if (rc != RTEST_GO)
                return rc;
        struct http_sim_options ho;
        http_sim_options_init(&ho);
        ho.smpp = E.sim;
        ho.smpp_dr_via_http = 0.5;
        ho.dr_delay_ms = 5;
        if (rt_http_sim_start(&ho))
                return 1;
        it_sim_ctl(&E, "set all other_site_prob 0.5");
        it_sim_ctl(&E, "set all dr_accepted_prob 0");
        it_sim_ctl(&E, "set all dr_delay_ms 20-100");
        it_sim_ctl(&E, "set all dr_final_mix DELIVERED:100");
        it_sim_ctl(&E, "set all mo_rate 0");
        snprintf(cluster, sizeof cluster, "h%d", (int)getpid());
        rt_n = N_INST;
        if ((rc = rt_start_instances(inst_start)) != RTEST_GO)
                return rc;
        rt_http_push_to_receivers(0, N_INST);
        if ((rc = rt_await_bound()) != RTEST_GO)
                return rc;
        RUN(test_http_mt_drs_reach_the_owner_once_from_any_receiver);
        RUN(test_smpp_mt_drs_pushed_over_http_reach_the_owner_once);
        RUN(test_http_mo_pushed_to_two_instances_is_delivered_once);
        RUN(test_redis_paused_receivers_answer_503_then_deliver_once);
        RUN(test_instance_stopped_with_answers_pending_loses_nothing);
        return rt_http_finish();
}
