/* The lease fence (src/store/rstore_fence.c): an instance cut off from
 * Redis does not show an entry another instance may have taken over.
 * Against a real redis-server; instance a reaches it through a TCP proxy
 * the test controls (rtest_proxy.h: cut = packets dropped, its requests
 * time out and its reconnects hang), the others through its unix socket.
 * Entries are DRs written straight into the streams (rtest_stream.h), each
 * with its own message_id, counted as each "application" is shown them:
 *   - a holds entries of its own stream and of a silent instance x it took
 *     over, its application has not polled them; a is cut off for longer
 *     than owner_takeover_ms: b takes them all over and shows them; a's
 *     application then polls: nothing (before the fence: all of them,
 *     each DR twice); a back in contact: it learns they are b's and drops
 *     them; every entry once in total, all acknowledged;
 *   - a cut off for less than the takeover time: it shows its entries
 *     (during the cut too: their leases still run), b none;
 *   - a alone, cut off past the takeover time: its application is shown
 *     nothing once the leases ran out; back in contact, a finds the
 *     entries still its own (nobody took them) and shows each once;
 *   - Redis paused (SIGSTOP) past the takeover time while a holds entries
 *     and b is polled: a's leases run out during the pause; once Redis
 *     runs again a revalidates, the entries are still its own, it shows
 *     each once and b none;
 *   - a stopped while cut off, its entries unshown: they stay pending in
 *     Redis and b takes them over, each once;
 *   - Redis restarted empty (no persistence) while a holds entries its
 *     application has not polled: a's refresh, answered while the leases
 *     still run, finds them pending for nobody; nobody can have taken
 *     them (none was idle for owner_takeover_ms), so a shows each once
 *     after the leases ran out (before: dropped unseen, every DR lost). */
#include "rtest_proxy.h"
#include "rtest_stream.h"

#define TAKEOVER_MS 1500u
#define A_TIMEOUT_MS 300u       /* a notices the cut quickly */

static struct rtest_proxy P;
static struct inst IA, IB;

/* a (on a_url, its requests timing out after a_timeout_ms) and, with_b,
 * b (on Redis directly, polled meanwhile), both with owner_takeover_ms
 * takeover_ms; m0..m<n-1> written to a's stream and held by a. */
static void start_with_entries(const char *a_url, uint32_t a_timeout_ms, uint32_t takeover_ms,
                               unsigned n, int with_b)
{
        CHECK(inst_start_with(&IA, a_url, "a", takeover_ms, a_timeout_ms, 0) == 0);
        if (with_b)
                CHECK(inst_start_with(&IB, R.url, "b", takeover_ms, 10000, 0) == 0);
        for (unsigned i = 0; i < n; i++)
                add_dr("a", i);
        CHECK(wait_held(&IA, n, with_b ? &IB : NULL));
}

/* a's stream all acknowledged (a and b polled), m0..m<n-1> each shown
 * once, none by b; then a and b stopped. */
static void check_a_showed_each_once_b_none(unsigned n)
{
        struct inst *v[] = { &IA, &IB };
        CHECK(wait_acked("a", v, 2));
        check_once(v, 2, n);
        CHECK_EQ(IB.shown, 0);
        inst_stop(&IA);
        inst_stop(&IB);
}

static void test_cut_off_past_takeover_taker_shows_entries_once_and_a_never(void)
{
        enum { OWN = 20, TAKEN = 10, N = OWN + TAKEN };
        new_cluster();
        /* x silent for long: a takes its entries (m20..m29) over */
        instance_seen("x", 10 * TAKEOVER_MS);
        for (unsigned i = OWN; i < N; i++)
                add_dr("x", i);
        CHECK(inst_start_with(&IA, P.url, "a", TAKEOVER_MS, A_TIMEOUT_MS, 0) == 0);
        CHECK(wait_held(&IA, TAKEN, NULL));
        for (unsigned i = 0; i < OWN; i++)
                add_dr("a", i);
        CHECK(wait_held(&IA, N, NULL));
        CHECK(inst_start_with(&IB, R.url, "b", TAKEOVER_MS, 10000, 0) == 0);
        run_for(2 * TAKEOVER_MS, &IB);          /* a alive: b takes nothing */
        CHECK_EQ(IB.shown, 0);
        rtest_proxy_cut(&P);
        /* b judges a silent after owner_takeover_ms and shows what a held */
        CHECK(wait_shown(&IB, N, NULL));
        /* a's application polls while a is still cut off */
        poll_app(&IA);
        printf("# cut off a showed %u of the %u entries b took over\n", IA.shown, N);
        CHECK_EQ(IA.shown, 0);
        rtest_proxy_heal(&P);
        /* back in contact: a learns the entries are b's, never shows them */
        run_for(3 * TAKEOVER_MS, &IA);
        poll_app(&IB);
        struct rs_stats st;
        rstore_stats(IA.rs, &st);
        printf("# a dropped %llu entries another instance took\n",
               (unsigned long long)st.fence_dropped);
        CHECK_EQ(st.fence_dropped, N);
        struct inst *v[] = { &IA, &IB };
        CHECK(wait_acked("a", v, 2));
        CHECK(wait_acked("x", v, 2));
        check_once(v, 2, N);
        CHECK_EQ(IA.shown, 0);
        inst_stop(&IA);
        inst_stop(&IB);
}

static void test_cut_off_shorter_than_takeover_a_shows_its_entries_b_none(void)
{
        /* a long takeover time: a's heartbeat gap across the cut and its
         * reconnect (about 3 s at worst) stays far from it on a loaded box */
        enum { T = 8000, N = 20 };
        new_cluster();
        start_with_entries(P.url, A_TIMEOUT_MS, T, N, 1);
        rtest_proxy_cut(&P);
        run_for(100, &IB);
        /* a's leases still run: shown while a is cut off */
        CHECK_EQ(shown_now(&IA), N);
        run_for(1000, &IB);
        rtest_proxy_heal(&P);
        run_for(T, &IB);
        check_a_showed_each_once_b_none(N);
}

static void test_cut_off_alone_entries_wait_then_shown_once_after_revalidation(void)
{
        enum { N = 20 };
        new_cluster();
        start_with_entries(P.url, A_TIMEOUT_MS, TAKEOVER_MS, N, 0);
        rtest_proxy_cut(&P);
        rtest_sleep_ms(TAKEOVER_MS);            /* every lease ran out (3/4 of it) */
        /* nobody can say whether another instance took them: not shown */
        CHECK_EQ(shown_now(&IA), 0);
        rtest_sleep_ms(3 * TAKEOVER_MS / 2);
        CHECK_EQ(shown_now(&IA), 0);
        rtest_proxy_heal(&P);
        /* back: still a's (pending for a in Redis): shown, once */
        CHECK(wait_shown(&IA, N, NULL));
        struct inst *v[] = { &IA };
        CHECK(wait_acked("a", v, 1));
        check_once(v, 1, N);
        struct rs_stats st;
        rstore_stats(IA.rs, &st);
        CHECK_EQ(st.fence_dropped, 0);
        inst_stop(&IA);
}

static void test_redis_paused_past_takeover_holder_revalidates_and_shows_once(void)
{
        enum { N = 20 };
        new_cluster();
        start_with_entries(R.url, 10000, TAKEOVER_MS, N, 1);
        rtest_redis_kill(&R, SIGSTOP);
        rtest_sleep_ms(2 * TAKEOVER_MS);
        /* a's leases ran out while Redis did not answer */
        CHECK_EQ(shown_now(&IA), 0);
        rtest_sleep_ms(TAKEOVER_MS / 2);
        rtest_redis_kill(&R, SIGCONT);
        CHECK(wait_shown(&IA, N, &IB));
        run_for(2 * TAKEOVER_MS, &IB);
        check_a_showed_each_once_b_none(N);
}

/* An instance stopped while cut off loses nothing: what it never showed
 * stays pending in Redis, and the instance that takes it over shows it. */
static void test_stopped_while_cut_off_taker_shows_each_once(void)
{
        enum { N = 20 };
        new_cluster();
        start_with_entries(P.url, A_TIMEOUT_MS, TAKEOVER_MS, N, 1);
        rtest_proxy_cut(&P);
        run_for(TAKEOVER_MS, &IB);
        CHECK_EQ(shown_now(&IA), 0);            /* leases ran out: waiting */
        inst_stop(&IA);                         /* stopped while cut off */
        rtest_proxy_heal(&P);
        CHECK(wait_shown(&IB, N, NULL));
        struct inst *vb[] = { &IB };
        CHECK(wait_acked("a", vb, 1));          /* IA is stopped: not polled */
        struct inst *v[] = { &IA, &IB };
        check_once(v, 2, N);
        inst_stop(&IB);
}

/* Redis restarted without persistence while a holds entries: the refresh
 * finds them pending for nobody (the group was made anew), answered while
 * their leases still run. They cannot have been taken over; they must be
 * shown, not dropped. owner_takeover_ms 8 s: the refresh (due after 2 s,
 * with a heartbeat at most 2 s later) comes well within the 6 s lease. */
static void test_redis_restarted_empty_while_entries_held_shows_each_once(void)
{
        enum { N = 20 };
        const uint32_t t = 8000;
        new_cluster();
        start_with_entries(R.url, 10000, t, N, 0);
        redisFree(C);
        rtest_redis_kill(&R, SIGKILL);
        CHECK_EQ(rtest_redis_spawn(&R), 0);
        C = redisConnectUnix(R.sock);
        CHECK(C && !C->err);
        /* past every lease: a record is shown only if the refresh found it
         * could not have been taken over */
        rtest_sleep_ms(t);
        CHECK(wait_shown(&IA, N, NULL));
        run_for(500, &IA);
        struct inst *v[] = { &IA };
        check_once(v, 1, N);
        struct rs_stats st;
        rstore_stats(IA.rs, &st);
        CHECK_EQ(st.fence_dropped, 0);
        inst_stop(&IA);
}

int main(void)
{
        int rc = rtest_start_proxied(&R, &C, &P);
        if (rc != RTEST_GO)
                return rc;
        RUN(test_cut_off_past_takeover_taker_shows_entries_once_and_a_never);
        RUN(test_cut_off_shorter_than_takeover_a_shows_its_entries_b_none);
        RUN(test_cut_off_alone_entries_wait_then_shown_once_after_revalidation);
        RUN(test_redis_paused_past_takeover_holder_revalidates_and_shows_once);
        RUN(test_stopped_while_cut_off_taker_shows_each_once);
        RUN(test_redis_restarted_empty_while_entries_held_shows_each_once);
        rtest_stop_proxied(&R, C, &P);
        return t_done();
}
