/* Takeover without duplicates (src/store/rstore_held.c), against a real
 * redis-server: Redis store instances (the store thread and its event
 * ring, no SMPP) whose application stops polling while they hold stream
 * entries they read and did not acknowledge yet. Entries are DRs written
 * straight into the streams, each with its own message_id, and counted as
 * the "application" takes them from the event ring:
 *   - B takes over silent A's stream (A's pending entries and unread ones)
 *     and is not polled for several owner_takeover_ms, Redis paused for
 *     longer than that meanwhile: each entry once;
 *   - B's own stream, not polled and its connection cut: each entry once;
 *   - B and C both take over A; B is not polled, C is: each entry once
 *     across B and C (C never claims what B holds);
 *   - A comes back while B holds A's entries: each entry once across A
 *     and B, and every entry acknowledged in the end;
 *   - ... and B stops before its application polled them: A claims them
 *     after owner_takeover_ms and shows each once;
 *   - Redis paused for 2.5 owner_takeover_ms with A and B alive: A does
 *     not take B over when Redis is back (every heartbeat stale), so DRs
 *     routed to B then reach B only. */
#include "rtest_stream.h"

#define TAKEOVER_MS 1500u   /* heartbeats 375 ms apart: 1.1 s of slack for a loaded machine */

static int inst_start(struct inst *in, const char *name)
{
        return inst_start_with(in, R.url, name, TAKEOVER_MS, 10000, 0);
}

static struct inst IA, IB, IC;

/* A new cluster in which a was last seen 10 takeover times ago, with
 * m0..m<n-1> in its stream, the first `read` of them read by a (pending
 * for a). */
static void silent_owner(unsigned n, unsigned read)
{
        new_cluster();
        instance_seen("a", 10 * TAKEOVER_MS);
        for (unsigned i = 0; i < n; i++)
                add_dr("a", i);
        char key[128];
        stream_key("a", key, sizeof key);
        cmd_ok("XREADGROUP GROUP g a COUNT %u STREAMS %s >", read, key);
}

static void test_takeover_not_polled_for_several_takeover_times_shows_each_once(void)
{
        silent_owner(40, 20);   /* a read the first 20 before it went silent */
        CHECK(inst_start(&IB, "b") == 0);
        CHECK(wait_held(&IB, 40, NULL));
        run_for(6 * TAKEOVER_MS, NULL);         /* b's application does not poll */
        /* Redis paused longer than the takeover time (b's batch waits for
         * it, within timeout_ms): what b holds is idle to the XAUTOCLAIM it
         * had sent already */
        rtest_redis_kill(&R, SIGSTOP);
        rtest_sleep_ms(5 * TAKEOVER_MS / 2);
        rtest_redis_kill(&R, SIGCONT);
        run_for(2 * TAKEOVER_MS, NULL);
        poll_app(&IB);
        struct inst *v[] = { &IB };
        CHECK(wait_acked("a", v, 1));
        check_once(v, 1, 40);
        inst_stop(&IB);
}

static void test_own_stream_not_polled_and_reconnected_shows_each_once(void)
{
        new_cluster();
        CHECK(inst_start(&IB, "b") == 0);
        for (unsigned i = 0; i < 30; i++)
                add_dr("b", i);
        CHECK(wait_held(&IB, 30, NULL));
        run_for(3 * TAKEOVER_MS, NULL);
        /* its connection cut while it holds them all: it reads its pending
         * entries again after reconnecting */
        cmd_ok("CLIENT KILL TYPE normal SKIPME yes");
        for (unsigned i = 30; i < 40; i++)
                add_dr("b", i);
        CHECK(wait_held(&IB, 40, NULL));
        run_for(3 * TAKEOVER_MS, NULL);
        poll_app(&IB);
        struct inst *v[] = { &IB };
        CHECK(wait_acked("b", v, 1));
        check_once(v, 1, 40);
        inst_stop(&IB);
}

static void test_two_takers_one_not_polled_each_once_across_both(void)
{
        silent_owner(60, 30);
        CHECK(inst_start(&IB, "b") == 0);
        CHECK(wait_held(&IB, 1, NULL));         /* b took some over first */
        CHECK(inst_start(&IC, "c") == 0);
        /* c is polled all along, b not, for several takeover times */
        run_for(8 * TAKEOVER_MS, &IC);
        poll_app(&IB);
        struct inst *v[] = { &IB, &IC };
        CHECK(wait_acked("a", v, 2));
        check_once(v, 2, 60);
        printf("# b showed %u, c %u\n", IB.shown, IC.shown);
        inst_stop(&IB);
        inst_stop(&IC);
}

/* a silent for 10 takeover times with 30 entries, the first 10 read by a
 * before; b takes all 30 over and holds them (not polled); then a comes
 * back (same name) while b holds them, and gets 10 more (m30..m39). */
static void owner_back_while_b_holds_its_entries(void)
{
        silent_owner(30, 10);
        CHECK(inst_start(&IB, "b") == 0);
        CHECK(wait_held(&IB, 30, NULL));
        CHECK(inst_start(&IA, "a") == 0);
        for (unsigned i = 30; i < 40; i++)
                add_dr("a", i);
}

static void test_owner_back_while_taker_holds_its_entries_each_once(void)
{
        owner_back_while_b_holds_its_entries();
        run_for(6 * TAKEOVER_MS, &IA);          /* a polled, b not */
        poll_app(&IB);
        struct inst *v[] = { &IA, &IB };
        CHECK(wait_acked("a", v, 2));
        check_once(v, 2, 40);
        CHECK(IB.shown >= 30);          /* and what it read before it saw a back */
        inst_stop(&IA);
        inst_stop(&IB);
}

static void test_taker_stops_holding_entries_of_owner_back_owner_shows_them_once(void)
{
        owner_back_while_b_holds_its_entries();
        run_for(3 * TAKEOVER_MS, &IA);
        /* b stops, its application never polled what it holds: pending for
         * b in a's stream, a live owner's stream nobody else claims */
        CHECK_EQ(IB.shown, 0);
        inst_stop(&IB);
        struct inst *v[] = { &IA };
        CHECK(wait_acked("a", v, 1));
        check_once(v, 1, 40);
        inst_stop(&IA);
}

/* Redis paused for longer than owner_takeover_ms while a and b are both
 * alive: once it runs again every heartbeat is stale. a never lost its
 * connection (its heartbeat batch, instance scan included, waited out the
 * pause); b lost it and reconnects within its backoff. a must not judge b
 * silent meanwhile: it judges no instance until owner_takeover_ms after
 * Redis came back. Before, a's first scan took b over and a read b's
 * stream until its next scan: DRs routed to b in that second reached a
 * (the "each DR at its owner" failures of test_store_pipe under load,
 * whose Redis SIGSTOP lasts 5 s against a 3 s takeover). */
static void test_redis_paused_past_takeover_live_instance_not_taken_over(void)
{
        enum { T = 4000, N0 = 30, N = 80 };
        new_cluster();
        CHECK(inst_start_with(&IA, R.url, "a", T, 30000, 1) == 0);    /* no disconnect */
        CHECK(inst_start_with(&IB, R.url, "b", T, 500, 0) == 0);      /* disconnects, reconnects */
        for (unsigned i = 0; i < N0; i++)
                add_dr("b", i);
        CHECK(wait_held(&IB, N0, &IA));
        rtest_redis_kill(&R, SIGSTOP);
        rtest_sleep_ms(5 * T / 2);
        rtest_redis_kill(&R, SIGCONT);
        /* DRs for b keep coming (its stream), a is busy (correlation
         * writes, as under MT load: its batches go out back to back) */
        for (unsigned i = N0; i < N; i++) {
                add_dr("b", i);
                struct rs_corr_req r;
                memset(&r, 0, sizeof r);
                r.key.lo = i + 1;
                r.part = r.n_parts = 1;
                r.app_len = (uint8_t)snprintf(r.app, sizeof r.app, "x%u", i);
                rstore_corr_put_w(IA.rs, 0, &r);
                rstore_kick_w(IA.rs, 0);
                poll_app(&IA);
                rtest_sleep_ms(20);
        }
        run_for(T, &IA);                /* a polled, b not */
        struct rs_stats st;
        rstore_stats(IA.rs, &st);
        printf("# a took over %llu entries, showed %u\n", (unsigned long long)st.taken_over,
               IA.shown);
        CHECK_EQ(st.taken_over, 0);
        CHECK_EQ(IA.shown, 0);
        poll_app(&IB);
        struct inst *v[] = { &IA, &IB };
        CHECK(wait_acked("b", v, 2));
        check_once(v, 2, N);
        inst_stop(&IA);
        inst_stop(&IB);
}

int main(void)
{
        int rc = rtest_start_connected(&R, &C);
        if (rc != RTEST_GO)
                return rc;
        RUN(test_takeover_not_polled_for_several_takeover_times_shows_each_once);
        RUN(test_own_stream_not_polled_and_reconnected_shows_each_once);
        RUN(test_two_takers_one_not_polled_each_once_across_both);
        RUN(test_owner_back_while_taker_holds_its_entries_each_once);
        RUN(test_taker_stops_holding_entries_of_owner_back_owner_shows_them_once);
        RUN(test_redis_paused_past_takeover_live_instance_not_taken_over);
        rtest_stop_connected(&R, C);
        return t_done();
}
