/* Stopping an instance whose HTTP receiver holds deferred answers the store
 * cannot give (Redis SIGSTOPped, hold_ms and local_after_ms far away) is
 * bounded: the receiver's close waits HTTP_RX_CLOSE_WAIT_MS (5 s) for them,
 * then answers them 503 itself (the service re-sends, SERVICE.md H4), and no
 * message is delivered twice or lost. Two instances of one cluster on a real
 * redis-server, smsc-sim's HTTP side pushing MOs to their receivers in turn
 * (a load balancer):
 *   - Redis paused, 30 MOs pushed: both receivers defer them;
 *   - a is destroyed while Redis is still paused: it returns (before: it
 *     waited for its store's hold_ms, here 10 minutes - the test's watchdog
 *     gives it 40 s, then lets Redis run, which ends the wait);
 *   - Redis runs again: every MO reaches the application once across a
 *     (what it polled before) and b. An MO whose script a's store had sent
 *     before the pause runs when Redis does, into a's stream, which b takes
 *     over; the service's re-send of it is a duplicate at b (200, not
 *     delivered again). One a's store never sent is dropped with a (its
 *     ticket freed), the re-send brings it to b;
 *   - then b alone, Redis paused again, MOs deferred, b drained: its
 *     receiver's close answers them 503 after the 5 s, and rx_abandoned
 *     shows that in smx_client_http_stats, the JSON and Prometheus stats. */
#include <stdatomic.h>

#include "rtest_http.h"

#define N_INST 2
#define N_MOS 30

static unsigned mo_serial;

static int inst_start(struct rt_inst *in, const char *name, int i)
{
        (void)i;
        struct smx_config *cfg = rt_inst_config(in, name);
        cfg->store.hold_ms = 600000;            /* the store would answer after 10 min */
        cfg->store.local_after_ms = 600000;
        cfg->store.owner_takeover_ms = 3000;    /* b takes a's stream over soon */
        smx_http_config_init(&in->hc);
        in->hc.transport = SMX_TRANSPORT_SMPP;
        in->hc.receiver = "127.0.0.1:0";
        cfg->http = &in->hc;
        return rt_inst_launch(in);
}

static atomic_int destroyed;

static void *destroy_a(void *arg)
{
        smx_client_destroy(arg);
        atomic_store(&destroyed, 1);
        return NULL;
}

static void test_stop_with_store_paused_is_bounded_and_delivers_each_mo_once(void)
{
        rt_reset_events();
        struct http_sim_counts s0;
        http_sim_counts(H, &s0);
        unsigned k0 = mo_serial;
        rtest_redis_kill(&R, SIGSTOP);
        rt_hctl("http mo 30");
        mo_serial += N_MOS;
        uint64_t end = it_now_ms() + 500;
        while (it_now_ms() < end) {
                rt_pump_all();
                it_sleep_ms(5);
        }
        struct smx_http_stats st;
        smx_client_http_stats(I[0].c, &st);
        printf("# a deferred %llu answers\n", (unsigned long long)st.rx_deferred);
        CHECK(st.rx_deferred > 0);
        pthread_t th;
        smx_client *a = I[0].c;
        I[0].c = NULL;
        uint64_t t0 = it_now_ms();
        CHECK_EQ(pthread_create(&th, NULL, destroy_a, a), 0);
        while (!atomic_load(&destroyed) && it_now_ms() - t0 < 40000) {
                rt_pump_all();
                it_sleep_ms(5);
        }
        int returned = atomic_load(&destroyed);
        printf("# a %s while Redis was paused (%llu ms)\n", returned ? "stopped" : "did NOT stop",
               (unsigned long long)(it_now_ms() - t0));
        CHECK(returned);
        rtest_redis_kill(&R, SIGCONT);
        pthread_join(th, NULL);
        /* a's stream (scripts a's store sent before the pause) is taken over
         * by b owner_takeover_ms after it is back on Redis */
        rt_settle(0, N_MOS, 60000, 2000);
        unsigned missing, twice;
        rt_http_mos_once(k0, N_MOS, &missing, &twice);
        printf("# MOs: a %zu, b %zu\n", I[0].n_mos, I[1].n_mos);
        CHECK_EQ(missing, 0);
        CHECK_EQ(twice, 0);
        CHECK_EQ(rt_total_mos(), N_MOS);
        struct http_sim_counts s1;
        http_sim_counts(H, &s1);
        CHECK_EQ(s1.mo_acked - s0.mo_acked, N_MOS);
}

static atomic_int drained;

static void *drain_b(void *arg)
{
        smx_client_drain(arg, 1000);
        atomic_store(&drained, 1);
        return NULL;
}

/* b alone now, Redis paused again: MOs pushed to b are deferred; b's drain
 * closes its receiver, which answers them 503 itself after 5 s, and the
 * public stats (smx_client_http_stats, JSON, Prometheus) count them in
 * rx_abandoned. */
static void test_abandoned_answers_are_counted_in_public_stats(void)
{
        rt_http_push_to_receivers(1, 1);
        struct smx_http_stats st0;
        smx_client_http_stats(I[1].c, &st0);
        CHECK_EQ(st0.rx_abandoned, 0);
        rtest_redis_kill(&R, SIGSTOP);
        rt_hctl("http mo 10");
        mo_serial += 10;
        struct smx_http_stats st;
        uint64_t end = it_now_ms() + 10000;
        do {
                rt_pump_all();
                it_sleep_ms(5);
                smx_client_http_stats(I[1].c, &st);
        } while (st.rx_deferred == st0.rx_deferred && it_now_ms() < end);
        CHECK(st.rx_deferred > st0.rx_deferred);
        smx_client *b = I[1].c;
        pthread_t th;
        CHECK_EQ(pthread_create(&th, NULL, drain_b, b), 0);
        end = it_now_ms() + 40000;
        while (!atomic_load(&drained) && it_now_ms() < end)
                it_sleep_ms(5);
        CHECK(atomic_load(&drained));
        rtest_redis_kill(&R, SIGCONT);
        pthread_join(th, NULL);
        smx_client_http_stats(b, &st);
        printf("# b: %llu deferred, %llu of them abandoned by the close\n",
               (unsigned long long)(st.rx_deferred - st0.rx_deferred),
               (unsigned long long)st.rx_abandoned);
        CHECK(st.rx_abandoned > 0);
        CHECK(st.rx_abandoned <= st.rx_deferred - st0.rx_deferred);
        char *txt = NULL;
        CHECK_EQ(smx_stats_render(b, SMX_STATS_JSON, &txt, NULL), 0);
        char want[96];
        snprintf(want, sizeof want, "\"rx_abandoned\":%llu", (unsigned long long)st.rx_abandoned);
        CHECK(txt && strstr(txt, want));
        free(txt);
        txt = NULL;
        CHECK_EQ(smx_stats_render(b, SMX_STATS_PROMETHEUS, &txt, NULL), 0);
        snprintf(want, sizeof want, "\nsmsmux_http_receiver_abandoned_total %llu\n",
                 (unsigned long long)st.rx_abandoned);
        CHECK(txt && strstr(txt, want));
        free(txt);
}

int main(void)
{
        int rc = rt_start(1);
        if (rc != RTEST_GO)
                return rc;
        struct http_sim_options ho;
        http_sim_options_init(&ho);
        ho.smpp = E.sim;
        if (rt_http_sim_start(&ho))
                return 1;
        it_sim_ctl(&E, "set all mo_rate 0");
        snprintf(cluster, sizeof cluster, "s%d", (int)getpid());
        rt_n = N_INST;
        if ((rc = rt_start_instances(inst_start)) != RTEST_GO)
                return rc;
        rt_http_push_to_receivers(0, N_INST);
        if ((rc = rt_await_bound()) != RTEST_GO)
                return rc;
        RUN(test_stop_with_store_paused_is_bounded_and_delivers_each_mo_once);
        RUN(test_abandoned_answers_are_counted_in_public_stats);
        rtest_redis_kill(&R, SIGCONT);
        return rt_http_finish();
}
