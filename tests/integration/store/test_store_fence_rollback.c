/* The fence across a Redis data set ROLLED BACK rather than lost
 * (src/store/rstore_fence.c, "Rolled back"): Redis restarted from an
 * older RDB snapshot (as a replica promoted with replication lag) keeps
 * the generation marker, so only the instances' epochs tell that writes
 * it had acknowledged are gone. Against a real redis-server the test
 * restarts from a snapshot it made earlier (rtest_redis_snapshot); entries
 * are DRs written straight into a's stream (rtest_stream.h), each with its
 * own message_id:
 *   - rolled back to before the entries existed, back only after a's
 *     leases ran out: a shows each held entry once (before the epoch:
 *     "pending for nobody, same generation", dropped unseen: all lost);
 *   - the same with the entries read just before the failure (within a
 *     heartbeat of the snapshot): the epoch write that follows a read
 *     covers them (before it: lost);
 *   - rolled back to after the entries were written but before a read
 *     them: the refresh finds them in the stream, not delivered; dropped
 *     here, the group delivers them again and a shows each once (shown
 *     for the rollback instead, the copy read again could be shown too);
 *   - restarted from what it saved at its stop (SHUTDOWN SAVE: nothing
 *     rolled back), leases run out: still ours, each shown once, no
 *     rollback counted;
 *   - a cut off, its entries taken over, shown and acknowledged by b, then
 *     Redis restarted the same way: a drops them (each shown once, by b),
 *     no rollback counted by a or b (no false positive). */
#include "rtest_proxy.h"
#include "rtest_stream.h"

#define TAKEOVER_MS 2000u       /* heartbeat 500 ms, leases 1.5 s */
#define A_TIMEOUT_MS 300u       /* a notices the failure quickly */

static struct rtest_proxy P;
static struct inst IA, IB;

/* The test's connection again after a restart of redis-server. */
static void reconnect_test(void)
{
        C = redisConnectUnix(R.sock);
        CHECK(C && !C->err);
}

/* redis-server killed and, past every lease of a (twice the takeover
 * time), started from the snapshot `name`. */
static void restart_from(const char *name)
{
        redisFree(C);
        CHECK_EQ(rtest_redis_restart_from(&R, name, 2 * TAKEOVER_MS), 0);
        reconnect_test();
}

/* redis-server stopped by SHUTDOWN SAVE and, past every lease of a,
 * started again from what it saved: nothing lost (a snapshot made by SAVE
 * before a kill would miss the heartbeats written between the two: a
 * rollback, rightly counted). */
static void restart_saved(void)
{
        redisFree(C);
        CHECK_EQ(rtest_redis_restart_saved(&R, 2 * TAKEOVER_MS), 0);
        reconnect_test();
}

/* The next heartbeat of `in` has just been answered. */
static void after_a_heartbeat(struct inst *in)
{
        uint64_t hb = stats_of(in).heartbeats, end = now_ms() + 5000;
        while (stats_of(in).heartbeats == hb && now_ms() < end)
                rtest_sleep_ms(1);
        rtest_sleep_ms(30);     /* its batch's replies taken */
}

/* a showed m0..m<n-1> once each, none dropped; `rolled` of them as
 * rolled back (and then at least one rollback seen), no data loss. */
static void check_a_showed_once(unsigned n, unsigned rolled)
{
        run_for(500, &IA);
        struct inst *v[] = { &IA };
        check_once(v, 1, n);
        struct rs_stats st = stats_of(&IA);
        printf("# a: %llu shown as rolled back, %llu rollbacks, %llu dropped, %llu lost\n",
               (unsigned long long)st.fence_redis_rolled_back,
               (unsigned long long)st.redis_rolled_back, (unsigned long long)st.fence_dropped,
               (unsigned long long)st.fence_redis_lost);
        CHECK_EQ(st.fence_dropped, 0);
        CHECK_EQ(st.fence_redis_rolled_back, rolled);
        if (rolled)
                CHECK(st.redis_rolled_back >= 1);
        else
                CHECK_EQ(st.redis_rolled_back, 0);
        CHECK_EQ(st.redis_data_lost, 0);
        inst_stop(&IA);
}

static void test_rolled_back_to_before_the_entries_past_leases_shows_each_once(void)
{
        enum { N = 20 };
        new_cluster();
        CHECK(inst_start_with(&IA, R.url, "a", TAKEOVER_MS, A_TIMEOUT_MS, 0) == 0);
        run_for(800, NULL);             /* a set up: the marker, its epoch */
        CHECK_EQ(rtest_redis_snapshot(&R, "old.rdb"), 0);
        after_a_heartbeat(&IA);         /* an epoch write of a the snapshot lacks */
        for (unsigned i = 0; i < N; i++)
                add_dr("a", i);
        CHECK(wait_held(&IA, N, NULL));
        run_for(1200, NULL);            /* held, renewed, unpolled */
        CHECK_EQ(held(&IA), N);
        /* the DR entries and a's reads are not in the snapshot; the
         * generation marker is: before the epoch, "pending for nobody after
         * the lease, same generation" dropped them all */
        restart_from("old.rdb");
        CHECK(wait_shown(&IA, N, NULL));
        check_a_showed_once(N, N);
}

static void test_read_just_before_the_rollback_still_shown_once(void)
{
        enum { N = 20 };
        new_cluster();
        CHECK(inst_start_with(&IA, R.url, "a", TAKEOVER_MS, A_TIMEOUT_MS, 0) == 0);
        run_for(800, NULL);
        /* the snapshot right after a heartbeat of a: it holds a's last
         * epoch write; the entries are written and read before the next */
        after_a_heartbeat(&IA);
        CHECK_EQ(rtest_redis_snapshot(&R, "old.rdb"), 0);
        for (unsigned i = 0; i < N; i++)
                add_dr("a", i);
        CHECK(wait_held(&IA, N, NULL));
        rtest_sleep_ms(100);            /* less than a heartbeat (500 ms) */
        restart_from("old.rdb");
        CHECK(wait_shown(&IA, N, NULL));
        check_a_showed_once(N, N);
}

static void test_rolled_back_to_before_the_reads_read_again_shown_once(void)
{
        enum { N = 20 };
        new_cluster();
        CHECK(inst_start_with(&IA, P.url, "a", TAKEOVER_MS, A_TIMEOUT_MS, 0) == 0);
        run_for(800, NULL);
        /* the entries written while a is cut off: in the snapshot, not
         * delivered to anybody */
        rtest_proxy_cut(&P);
        for (unsigned i = 0; i < N; i++)
                add_dr("a", i);
        CHECK_EQ(rtest_redis_snapshot(&R, "old.rdb"), 0);
        rtest_proxy_heal(&P);
        CHECK(wait_held(&IA, N, NULL));
        run_for(1200, NULL);            /* read, epoch writes the snapshot lacks */
        CHECK_EQ(held(&IA), N);
        restart_from("old.rdb");
        CHECK(wait_shown(&IA, N, NULL));
        run_for(2 * TAKEOVER_MS, &IA);
        struct inst *v[] = { &IA };
        check_once(v, 1, N);
        struct rs_stats st = stats_of(&IA);
        printf("# a: %llu rollbacks, %llu shown as rolled back, %llu dropped\n",
               (unsigned long long)st.redis_rolled_back,
               (unsigned long long)st.fence_redis_rolled_back,
               (unsigned long long)st.fence_dropped);
        CHECK(st.redis_rolled_back >= 1);
        CHECK_EQ(st.fence_redis_rolled_back, 0);
        CHECK_EQ(st.fence_dropped, 0);
        CHECK_EQ(pending("a"), 0);      /* the copies read again acknowledged */
        inst_stop(&IA);
}

static void test_restart_that_saved_everything_nothing_rolled_back(void)
{
        enum { N = 20 };
        new_cluster();
        CHECK(inst_start_with(&IA, R.url, "a", TAKEOVER_MS, A_TIMEOUT_MS, 0) == 0);
        for (unsigned i = 0; i < N; i++)
                add_dr("a", i);
        CHECK(wait_held(&IA, N, NULL));
        run_for(800, NULL);
        /* saved as the data set is when Redis stops: a restart that
         * reloads everything (its writes are all there) */
        restart_saved();
        CHECK(wait_shown(&IA, N, NULL));
        check_a_showed_once(N, 0);
}

static void test_takeover_then_restart_that_saved_everything_dropped(void)
{
        enum { N = 20 };
        new_cluster();
        CHECK(inst_start_with(&IA, P.url, "a", TAKEOVER_MS, A_TIMEOUT_MS, 0) == 0);
        for (unsigned i = 0; i < N; i++)
                add_dr("a", i);
        CHECK(wait_held(&IA, N, NULL));
        run_for(800, NULL);
        CHECK(inst_start_with(&IB, R.url, "b", TAKEOVER_MS, 10000, 0) == 0);
        rtest_proxy_cut(&P);
        CHECK(wait_shown(&IB, N, NULL));
        struct inst *vb[] = { &IB };
        CHECK(wait_acked("a", vb, 1));          /* acknowledged by b in Redis */
        run_for(300, &IB);
        restart_saved();
        rtest_proxy_heal(&P);
        run_for(3 * TAKEOVER_MS, &IA);
        poll_app(&IB);
        struct rs_stats st = stats_of(&IA);
        printf("# a: %llu dropped, %llu shown as rolled back, %llu rollbacks\n",
               (unsigned long long)st.fence_dropped,
               (unsigned long long)st.fence_redis_rolled_back,
               (unsigned long long)st.redis_rolled_back);
        CHECK_EQ(st.fence_dropped, N);
        CHECK_EQ(st.fence_redis_rolled_back, 0);
        CHECK_EQ(st.fence_redis_lost, 0);
        CHECK_EQ(st.redis_rolled_back, 0);
        CHECK_EQ(stats_of(&IB).redis_rolled_back, 0);
        CHECK_EQ(IA.shown, 0);
        struct inst *v[] = { &IA, &IB };
        check_once(v, 2, N);
        inst_stop(&IA);
        inst_stop(&IB);
}

int main(void)
{
        int rc = rtest_start_proxied(&R, &C, &P);
        if (rc != RTEST_GO)
                return rc;
        RUN(test_rolled_back_to_before_the_entries_past_leases_shows_each_once);
        RUN(test_read_just_before_the_rollback_still_shown_once);
        RUN(test_rolled_back_to_before_the_reads_read_again_shown_once);
        RUN(test_restart_that_saved_everything_nothing_rolled_back);
        RUN(test_takeover_then_restart_that_saved_everything_dropped);
        rtest_stop_proxied(&R, C, &P);
        return t_done();
}
