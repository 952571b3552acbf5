/* The fence's data-set generation (src/store/rstore_fence.c): "pending for
 * nobody" found only after a held entry's lease ran out is "taken over and
 * acknowledged" (drop) unless the data set the entry was read from is gone
 * (Redis lost its data: show). Against a real redis-server; instance a
 * reaches it through a TCP proxy the test cuts (rtest_proxy.h) or
 * directly, b directly. Entries are DRs written straight into a's stream
 * (rtest_stream.h), each with its own message_id:
 *   - Redis restarted empty (no persistence) and back only after a's
 *     leases ran out: a shows each held entry once (before the marker:
 *     dropped unseen, every DR lost);
 *   - FLUSHALL while a is cut off past its leases: the same;
 *   - no data loss, a cut off past the takeover time, b takes the entries
 *     over, shows and acknowledges them before a is back: a drops them
 *     (each shown once, by b), nothing counted as lost by Redis;
 *   - the same after a restart of Redis that emptied it before the
 *     entries were written: entries read from the new data set carry its
 *     generation, so a takeover from it still drops (no false "lost");
 *   - the double failure, as decided: taken over and acknowledged, and
 *     then Redis emptied before a is back: a shows them too (each twice in
 *     all: at-least-once across a loss of Redis's data, never a loss). */
#include "rtest_proxy.h"
#include "rtest_stream.h"

#define TAKEOVER_MS 1500u
#define A_TIMEOUT_MS 300u       /* a notices the cut quickly */

static struct rtest_proxy P;
static struct inst IA, IB;

/* a (started) holding m0..m<n-1> of its stream unpolled. */
static void a_holds(unsigned n)
{
        for (unsigned i = 0; i < n; i++)
                add_dr("a", i);
        CHECK(wait_held(&IA, n, NULL));
}

/* a on a_url, holding m0..m<n-1> of its stream unpolled. */
static void start_a_with_entries(const char *a_url, unsigned n)
{
        CHECK(inst_start_with(&IA, a_url, "a", TAKEOVER_MS, A_TIMEOUT_MS, 0) == 0);
        a_holds(n);
}

/* redis-server killed, `down_ms` later started again with no data. */
static void redis_restart_empty(unsigned down_ms)
{
        redisFree(C);
        rtest_redis_kill(&R, SIGKILL);
        rtest_sleep_ms(down_ms);
        CHECK_EQ(rtest_redis_spawn(&R), 0);
        C = redisConnectUnix(R.sock);
        CHECK(C && !C->err);
}

/* a alone showed m0..m<n-1> once each, as lost by Redis, none dropped. */
static void check_a_showed_lost_entries_once(unsigned n)
{
        run_for(500, &IA);
        struct inst *v[] = { &IA };
        check_once(v, 1, n);
        struct rs_stats st = stats_of(&IA);
        printf("# a: %llu shown as lost by Redis, %llu dropped, %llu new data sets\n",
               (unsigned long long)st.fence_redis_lost, (unsigned long long)st.fence_dropped,
               (unsigned long long)st.redis_data_lost);
        CHECK_EQ(st.fence_dropped, 0);
        CHECK_EQ(st.fence_redis_lost, n);
        CHECK(st.redis_data_lost >= 1);
        inst_stop(&IA);
}

static void test_redis_restarted_empty_after_leases_ran_out_shows_each_once(void)
{
        enum { N = 20 };
        new_cluster();
        start_a_with_entries(R.url, N);
        /* away for longer than every lease (3/4 of the takeover time) */
        redis_restart_empty(2 * TAKEOVER_MS);
        /* the refresh after the reconnect finds them pending for nobody
         * (the group made anew), their leases run out: only the new
         * generation tells that nobody can have taken them */
        CHECK(wait_shown(&IA, N, NULL));
        check_a_showed_lost_entries_once(N);
}

static void test_flushall_while_cut_off_past_leases_shows_each_once(void)
{
        enum { N = 20 };
        new_cluster();
        start_a_with_entries(P.url, N);
        rtest_proxy_cut(&P);
        rtest_sleep_ms(TAKEOVER_MS);            /* every lease ran out */
        CHECK_EQ(shown_now(&IA), 0);
        cmd_ok("FLUSHALL");
        rtest_proxy_heal(&P);
        CHECK(wait_shown(&IA, N, NULL));
        check_a_showed_lost_entries_once(N);
}

/* a (started, through the proxy) holds m0..m<n-1>; cut off until b took
 * them over, showed and acknowledged them all; `lose` then empties Redis
 * before a is back (b reconnects); a back in contact for a while. */
static void takeover_acked_then_back(unsigned n, int lose)
{
        a_holds(n);
        CHECK(inst_start_with(&IB, R.url, "b", TAKEOVER_MS, 10000, 0) == 0);
        rtest_proxy_cut(&P);
        CHECK(wait_shown(&IB, n, NULL));
        struct inst *vb[] = { &IB };
        CHECK(wait_acked("a", vb, 1));          /* acknowledged by b in Redis */
        if (lose)
                redis_restart_empty(100);
        rtest_proxy_heal(&P);
        run_for(3 * TAKEOVER_MS, &IA);
        poll_app(&IB);
}

/* After takeover_acked_then_back(n, 0): a's fence dropped all n entries b
 * took over (none taken for a loss of Redis's data), a showed none, so each
 * was shown once in all; both stopped. */
static void check_takeover_dropped(unsigned n)
{
        struct rs_stats st = stats_of(&IA);
        CHECK_EQ(st.fence_dropped, n);
        CHECK_EQ(st.fence_redis_lost, 0);
        CHECK_EQ(IA.shown, 0);
        struct inst *v[] = { &IA, &IB };
        check_once(v, 2, n);
        inst_stop(&IA);
        inst_stop(&IB);
}

static void test_taken_over_and_acked_without_data_loss_dropped_not_shown_twice(void)
{
        enum { N = 20 };
        new_cluster();
        CHECK(inst_start_with(&IA, P.url, "a", TAKEOVER_MS, A_TIMEOUT_MS, 0) == 0);
        takeover_acked_then_back(N, 0);
        check_takeover_dropped(N);
}

static void test_takeover_from_the_new_data_set_after_a_loss_still_dropped(void)
{
        enum { N = 20 };
        new_cluster();
        /* Redis restarted empty under a running a before the entries
         * exist: a's connections learn the new generation when they
         * reconnect, before they read anything */
        CHECK(inst_start_with(&IA, P.url, "a", TAKEOVER_MS, A_TIMEOUT_MS, 0) == 0);
        run_for(500, NULL);
        redis_restart_empty(100);
        uint64_t end = now_ms() + 20000;
        while (stats_of(&IA).redis_data_lost == 0 && now_ms() < end)
                rtest_sleep_ms(10);
        CHECK_EQ(stats_of(&IA).redis_data_lost, 1);
        /* the takeover of entries of the new data set: dropped as
         * without a loss */
        takeover_acked_then_back(N, 0);
        check_takeover_dropped(N);
}

static void test_double_failure_taken_over_then_redis_emptied_shown_again(void)
{
        enum { N = 20 };
        new_cluster();
        CHECK(inst_start_with(&IA, P.url, "a", TAKEOVER_MS, A_TIMEOUT_MS, 0) == 0);
        takeover_acked_then_back(N, 1);
        /* by design (rstore_fence.c): indistinguishable from a plain loss,
         * shown rather than lost */
        struct rs_stats st = stats_of(&IA);
        CHECK_EQ(st.fence_dropped, 0);
        CHECK_EQ(st.fence_redis_lost, N);
        CHECK_EQ(IA.shown, N);
        CHECK_EQ(IB.shown, N);
        for (unsigned i = 0; i < N; i++) {
                CHECK_EQ(IA.seen[i], 1);
                CHECK_EQ(IB.seen[i], 1);
        }
        inst_stop(&IA);
        inst_stop(&IB);
}

int main(void)
{
        int rc = rtest_start_proxied(&R, &C, &P);
        if (rc != RTEST_GO)
                return rc;
        RUN(test_redis_restarted_empty_after_leases_ran_out_shows_each_once);
        RUN(test_flushall_while_cut_off_past_leases_shows_each_once);
        RUN(test_taken_over_and_acked_without_data_loss_dropped_not_shown_twice);
        RUN(test_takeover_from_the_new_data_set_after_a_loss_still_dropped);
        RUN(test_double_failure_taken_over_then_redis_emptied_shown_again);
        rtest_stop_proxied(&R, C, &P);
        return t_done();
}
