/* The HTTP transport's MT thread never drops a correlation write when the
 * store thread falls behind: it sends no new MT unless its correlation ring
 * to the store thread has room for every MT it holds plus the new one (as
 * a worker's dispatch does, test_store_stall), so MTs wait in the ingress
 * instead. One instance, transport http (smsc-sim's HTTP side answers
 * every MT), store on a real redis-server.
 *
 * A store thread that takes nothing from its rings (no CPU for it) is
 * played by wrapping rs_drain_workers at link time (-Wl,--wrap, meson.build):
 * while `intake_paused` it takes nothing and sleeps 1 ms. Redis is
 * SIGSTOPped meanwhile too. (Redis paused alone cannot fill the ring: since
 * the stall fix the store thread keeps draining it into its write buffer.)
 *   - 36 000 MTs, more than the ring (32 768): while paused at most the
 *     ring's worth is accepted (the transport's counters), none dropped
 *     (before: all 36 000 accepted, 3 232 correlation writes dropped at the
 *     full ring), and no outcome shown (the outcome gate: its correlation
 *     write is not in Redis; before the gate every accepted MT's was);
 *   - once the store runs and Redis is back: every MT accepted, every
 *     correlation written (one key each in Redis), none dropped. */
#include <stdatomic.h>

#include "rtest_http.h"
#include "store/rstore.h"

#define N_MTS 36000u
#define CORR_RING 32768u        /* RS_CORR_RING: the MT thread's ring */

static atomic_int intake_paused;

int __real_rs_drain_workers(struct smx_rstore *rs, uint64_t now);
int __wrap_rs_drain_workers(struct smx_rstore *rs, uint64_t now);

int __wrap_rs_drain_workers(struct smx_rstore *rs, uint64_t now)
{
        if (atomic_load(&intake_paused)) {
                rtest_sleep_ms(1);
                return 0;
        }
        return __real_rs_drain_workers(rs, now);
}


static int inst_start(struct rt_inst *in, const char *name, int i)
{
        (void)i;
        struct smx_config *cfg = rt_inst_config(in, name);
        /* the library's defaults (the test helpers' are 16 384): the event
         * ring, which holds the outcomes waiting for their correlation
         * writes (the outcome gate), is not what stops the MT thread here,
         * the correlation ring is */
        cfg->event_capacity = 65536;
        cfg->ingress_capacity = 65536;
        smx_http_config_init(&in->hc);
        in->hc.transport = SMX_TRANSPORT_HTTP;
        rt_http_post_to_sim(in);
        cfg->http = &in->hc;
        return rt_inst_launch(in);
}

/* Submit MTs a-<k> (DR wanted) until n are queued; never blocks. */
static unsigned submit_all(struct rt_inst *in, unsigned n)
{
        unsigned ok = 0;
        uint64_t end = it_now_ms() + 60000;
        while (ok < n && it_now_ms() < end) {
                char id[32];
                snprintf(id, sizeof id, "a-%u", ok);
                struct smx_mt mt = { .id = id, .from = "12345", .to = "447700900001",
                                     .text = "backpressure", .want_dr = 1 };
                int rc = smx_submit(in->c, &mt);
                if (rc == 0) {
                        ok++;
                } else if (rc == SMX_EAGAIN) {
                        rt_pump_all();
                        it_sleep_ms(1);
                } else {
                        printf("# smx_submit: %s\n", smx_strerror(rc));
                        break;
                }
        }
        return ok;
}

/* MTs the HTTP transport's MT thread sent and had answered (accepted or
 * failed). Not the application's outcomes: those wait for their
 * correlation writes (the outcome gate), which a stalled store thread does
 * not take. */
static uint64_t http_answered(struct rt_inst *in)
{
        struct smx_http_stats st;
        smx_client_http_stats(in->c, &st);
        return st.accepted + st.failed;
}

/* Pump until the MTs answered stop growing for quiet_ms. */
static uint64_t answered_settle(struct rt_inst *in, unsigned quiet_ms, unsigned timeout_ms)
{
        uint64_t end = it_now_ms() + timeout_ms, last = http_answered(in), since = it_now_ms();
        while (it_now_ms() < end) {
                rt_pump_all();
                uint64_t n = http_answered(in);
                if (n != last) {
                        last = n;
                        since = it_now_ms();
                } else if (it_now_ms() - since >= quiet_ms) {
                        break;
                }
                it_sleep_ms(5);
        }
        return last;
}

/* Pump until the outcomes stop growing for quiet_ms (or reach want). */
static uint64_t outcomes_settle(struct rt_inst *in, uint64_t want, unsigned quiet_ms,
                                unsigned timeout_ms)
{
        uint64_t end = it_now_ms() + timeout_ms, last = in->outcomes, since = it_now_ms();
        while (it_now_ms() < end && in->outcomes < want) {
                rt_pump_all();
                if (in->outcomes != last) {
                        last = in->outcomes;
                        since = it_now_ms();
                } else if (it_now_ms() - since >= quiet_ms) {
                        break;
                }
                it_sleep_ms(5);
        }
        return in->outcomes;
}

/* The correlation keys of the cluster in Redis. */
static long long corr_keys(void)
{
        char pat[64];
        snprintf(pat, sizeof pat, "smsmux:{%s:*}:c", cluster);
        redisContext *c = redisConnectUnix(R.sock);
        long long n = -1;
        redisReply *r = c && !c->err
                ? rtest_cmd(c, "EVAL %s 0 %s", "local n = 0 local cur = '0' repeat "
                            "local r = redis.call('SCAN', cur, 'MATCH', ARGV[1], 'COUNT', 10000) "
                            "cur = r[1] n = n + #r[2] until cur == '0' return n", pat)
                : NULL;
        if (r && r->type == REDIS_REPLY_INTEGER)
                n = r->integer;
        if (r)
                freeReplyObject(r);
        if (c)
                redisFree(c);
        return n;
}

static void test_store_behind_http_mts_wait_no_correlation_dropped(void)
{
        struct rt_inst *a = &I[0];
        CHECK(rt_wait_store(a->c, "connected", 1, 20000));
        atomic_store(&intake_paused, 1);
        rtest_redis_kill(&R, SIGSTOP);
        CHECK_EQ(submit_all(a, N_MTS), N_MTS);
        /* everything the MT thread is allowed to send, answered */
        uint64_t paused_out = answered_settle(a, 3000, 90000);
        long long dropped = rt_store_num(a->c, "corr_dropped");
        printf("# store paused: %llu of %u MTs accepted, %lld correlation writes dropped, "
               "%llu outcomes shown\n", (unsigned long long)paused_out, N_MTS, dropped,
               (unsigned long long)a->outcomes);
        CHECK(paused_out <= CORR_RING);
        /* the outcome gate: none shown while its correlation write is not
         * even taken by the store thread (before: every one answered) */
        CHECK_EQ(a->outcomes, 0);
        CHECK(paused_out >= CORR_RING - 1024);  /* it did send up to the ring's room */
        CHECK_EQ(dropped, 0);
        rtest_redis_kill(&R, SIGCONT);
        atomic_store(&intake_paused, 0);
        uint64_t out = outcomes_settle(a, N_MTS, 20000, 120000);
        CHECK_EQ(out, N_MTS);
        CHECK_EQ(a->submitted, N_MTS);
        CHECK(rt_wait_store(a->c, "corr_writes", N_MTS, 60000));
        printf("# after: %llu accepted, corr_writes %lld, dropped %lld\n",
               (unsigned long long)a->submitted, rt_store_num(a->c, "corr_writes"),
               rt_store_num(a->c, "corr_dropped"));
        CHECK_EQ(rt_store_num(a->c, "corr_writes"), N_MTS);
        CHECK_EQ(rt_store_num(a->c, "corr_dropped"), 0);
        CHECK_EQ(corr_keys(), N_MTS);
}

int main(void)
{
        int rc = rt_start(1);
        if (rc != RTEST_GO)
                return rc;
        struct http_sim_options ho;
        http_sim_options_init(&ho);
        ho.dr_delay_ms = 5;
        if (rt_http_sim_start(&ho))
                return 1;
        snprintf(cluster, sizeof cluster, "bp%d", (int)getpid());
        rt_n = 1;
        if ((rc = rt_start_instances(inst_start)) != RTEST_GO)
                return rc;
        RUN(test_store_behind_http_mts_wait_no_correlation_dropped);
        rtest_redis_kill(&R, SIGCONT);
        atomic_store(&intake_paused, 0);
        return rt_http_finish();
}
