/* The fence through smx_events_poll (src/core/events_poll.c): two client
 * instances bound to smsc-sim share a real redis-server; a reaches it
 * through a TCP proxy of the test (rtest_proxy.h), b directly. DR entries
 * (uncorrelated, message_id "m<i>") are written into a's stream and read
 * by a's store while a's application does not poll. a is cut off for
 * longer than owner_takeover_ms: b takes them over and its application
 * is shown each; then a's application polls with smx_events_poll, cut off
 * and after contact is back: it is shown none of them (each DR once in
 * total), a counts them dropped, and nothing stays pending. Then the
 * short cut: new entries for a, a cut off for a moment and polled
 * meanwhile: shown by a (their leases run), none by b. */
#include <hiredis/hiredis.h>

#include "rtest_inst.h"
#include "rtest_proxy.h"

#define TAKEOVER_MS 3000u   /* heartbeats 750 ms apart */
#define N 24
#define CL "fp"

static struct rtest_proxy P;
static redisContext *C;
static unsigned seen[2][2 * N];         /* [instance][m<i>] times shown */
static unsigned shown[2];

/* inst's stream in cluster CL. */
static void stream_key(const char *inst, char *key, size_t cap)
{
        snprintf(key, cap, "smsmux:{" CL "}:s:%s", inst);
}

/* An uncorrelated DR entry "m<i>" in inst's stream (rtest.h). */
static void add_dr(const char *inst, unsigned i)
{
        char key[64];
        stream_key(inst, key, sizeof key);
        rtest_xadd_dr(C, key, i);
}

/* Entries of inst's stream pending in Redis, -1 on error. */
static long long pending(const char *inst)
{
        char key[64];
        stream_key(inst, key, sizeof key);
        return rtest_pending(C, key);
}

/* Instance k's application: smx_events_poll until it has nothing. */
static void pump(int k)
{
        struct smx_event ev[64];
        size_t n;
        while ((n = smx_events_poll(I[k].c, ev, 64)) > 0)
                for (size_t i = 0; i < n; i++) {
                        unsigned m;
                        if (ev[i].type == SMX_EV_DR && ev[i].message_id &&
                            sscanf(ev[i].message_id, "m%u", &m) == 1 && m < 2 * N) {
                                seen[k][m]++;
                                shown[k]++;
                        }
                }
}

static void pump_for(unsigned ms, int also_a)
{
        uint64_t end = it_now_ms() + ms;
        while (it_now_ms() < end) {
                pump(1);
                if (also_a)
                        pump(0);
                it_sleep_ms(5);
        }
}

/* m<from>..m<to-1> each shown exactly once across a and b. */
static void check_once(unsigned from, unsigned to)
{
        unsigned twice = 0, never = 0;
        for (unsigned i = from; i < to; i++) {
                unsigned t = seen[0][i] + seen[1][i];
                twice += t > 1;
                never += t == 0;
        }
        CHECK_EQ(twice, 0);
        CHECK_EQ(never, 0);
}

static int wait_pending_zero(const char *inst)
{
        uint64_t end = it_now_ms() + 20000;
        while (it_now_ms() < end) {
                pump(0);
                pump(1);
                if (pending(inst) == 0)
                        return 1;
                it_sleep_ms(10);
        }
        printf("# %s: %lld entries still pending\n", inst, pending(inst));
        return 0;
}

static void test_cut_off_past_takeover_smx_events_poll_shows_none_of_what_b_took(void)
{
        long long ev0 = rt_store_num(I[0].c, "events");
        for (unsigned i = 0; i < N; i++)
                add_dr("a", i);
        CHECK(rt_wait_store(I[0].c, "events", ev0 + N, 10000));     /* in a's ring, unpolled */
        pump_for(TAKEOVER_MS, 0);
        CHECK_EQ(shown[1], 0);
        rtest_proxy_cut(&P);
        uint64_t end = it_now_ms() + 20000;
        while (shown[1] < N && it_now_ms() < end) {
                pump(1);
                it_sleep_ms(5);
        }
        CHECK_EQ(shown[1], N);
        pump(0);
        printf("# cut off a's smx_events_poll showed %u of the %u DRs b took over\n", shown[0],
               N);
        CHECK_EQ(shown[0], 0);
        rtest_proxy_heal(&P);
        pump_for(3 * TAKEOVER_MS, 1);
        CHECK(wait_pending_zero("a"));
        CHECK_EQ(shown[0], 0);
        CHECK_EQ(rt_store_num(I[0].c, "fence_dropped"), N);
        check_once(0, N);
}

static void test_short_cut_a_shows_its_dr_b_none(void)
{
        unsigned a0 = shown[0], b0 = shown[1];
        long long ev0 = rt_store_num(I[0].c, "events");
        for (unsigned i = N; i < 2 * N; i++)
                add_dr("a", i);
        CHECK(rt_wait_store(I[0].c, "events", ev0 + N, 10000));
        rtest_proxy_cut(&P);
        pump_for(100, 1);
        CHECK_EQ(shown[0] - a0, N);             /* leases still run */
        pump_for(200, 1);
        rtest_proxy_heal(&P);
        pump_for(2 * TAKEOVER_MS, 1);
        CHECK(wait_pending_zero("a"));
        CHECK_EQ(shown[1] - b0, 0);
        check_once(N, 2 * N);
}

static int start_inst(struct rt_inst *in, const char *name, int i)
{
        struct smx_config *cfg = rt_inst_config(in, name);
        cfg->store.owner_takeover_ms = TAKEOVER_MS;
        if (i == 0) {
                cfg->store.url = P.url;
                cfg->store.timeout_ms = 300;
        }
        return rt_inst_launch(in);
}

int main(void)
{
        int rc = rt_start(1);
        if (rc != RTEST_GO)
                return rc;
        snprintf(cluster, sizeof cluster, CL);
        C = redisConnectUnix(R.sock);
        if (!C || C->err || rtest_proxy_start(&P, R.sock) != 0) {
                printf("Bail out! no connection to redis-server or no proxy\n");
                return 1;
        }
        rt_n = 2;
        if ((rc = rt_start_instances(start_inst)) != RTEST_GO ||
            (rc = rt_await_bound()) != RTEST_GO)
                return rc;
        RUN(test_cut_off_past_takeover_smx_events_poll_shows_none_of_what_b_took);
        RUN(test_short_cut_a_shows_its_dr_b_none);
        rc = rt_finish();
        rtest_proxy_stop(&P);
        redisFree(C);
        return rc;
}
