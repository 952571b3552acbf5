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
#include <hiredis/hiredis.h>
#include <stdatomic.h>

#include "rtest.h"
#include "rstore_tlib.h"
#include "store/rstore.h"
#include "testlib.h"

#define TAKEOVER_MS 1500u   /* heartbeats 375 ms apart: 1.1 s of slack for a loaded machine */
#define MAX_MSG 256

static struct rtest_redis R;
static redisContext *C;
static unsigned cluster_no;
static char cluster[32];

#define cmd(...) rtest_cmd(C, __VA_ARGS__)

static void cmd_ok(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        redisReply *r = redisvCommand(C, fmt, ap);
        va_end(ap);
        if (!r || r->type == REDIS_REPLY_ERROR)
                printf("# %s: %s\n", fmt, r ? r->str : "no reply");
        if (r)
                freeReplyObject(r);
}

static uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void new_cluster(void)
{
        snprintf(cluster, sizeof cluster, "cl%u", ++cluster_no);
}

static void stream_key(const char *inst, char *key, size_t cap)
{
        snprintf(key, cap, "smsmux:{%s}:s:%s", cluster, inst);
}

/* An uncorrelated DR entry (rstore_ev.c) whose message_id is "m<i>". */
static void add_dr(const char *inst, unsigned i)
{
        char key[128], mid[16], v[128];
        stream_key(inst, key, sizeof key);
        int ml = snprintf(mid, sizeof mid, "m%u", i);
        int vl = snprintf(v, sizeof v, "U00\x1f" "1:2%d:%s0:0:0:0:", ml, mid);
        cmd_ok("XADD %s * v %b", key, v, (size_t)vl);
}

/* An instance that was alive `ago_ms` ago, with its stream and group. */
static void instance_seen(const char *inst, uint64_t ago_ms)
{
        char key[128];
        stream_key(inst, key, sizeof key);
        cmd_ok("XGROUP CREATE %s g 0 MKSTREAM", key);
        char ikey[64], t[24];
        snprintf(ikey, sizeof ikey, "smsmux:{%s}:inst", cluster);
        snprintf(t, sizeof t, "%llu", (unsigned long long)(now_ms() - ago_ms));
        cmd_ok("HSET %s %s %s", ikey, inst, t);
}

static long long pending(const char *inst)
{
        char key[128];
        stream_key(inst, key, sizeof key);
        redisReply *r = cmd("XPENDING %s g", key);
        long long n = -1;
        if (r && r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
            r->element[0]->type == REDIS_REPLY_INTEGER)
                n = r->element[0]->integer;
        if (r)
                freeReplyObject(r);
        return n;
}

/* ---- a store instance and its "application" ---- */

struct inst {
        struct smx_rstore *rs;
        unsigned seen[MAX_MSG];         /* times each m<i> was shown */
        unsigned shown, other;
};

/* workers: 1 gives the instance a worker queue the test writes
 * correlations into (rstore_corr_put_w) */
static int inst_start_with(struct inst *in, const char *name, uint32_t takeover_ms,
                           uint32_t timeout_ms, unsigned workers)
{
        memset(in, 0, sizeof *in);
        struct rs_config cfg = { .url = R.url, .instance = name, .cluster = cluster,
                                 .owner_takeover_ms = takeover_ms, .timeout_ms = timeout_ms,
                                 .corr_ttl_ms = 60000 };
        struct rs_host host = rtest_quiet_host(workers);
        char err[256] = "";
        if (rstore_create(&cfg, &host, &in->rs, err, sizeof err) < 0) {
                printf("# rstore_create %s: %s\n", name, err);
                return -1;
        }
        return rstore_start(in->rs);
}

static int inst_start(struct inst *in, const char *name)
{
        return inst_start_with(in, name, TAKEOVER_MS, 10000, 0);
}

static void inst_stop(struct inst *in)
{
        rstore_destroy(in->rs);
        in->rs = NULL;
}

/* The application's poll: every record in the ring, released. */
static void poll_app(struct inst *in)
{
        struct smx_event_ring *ring = rstore_ring(in->rs);
        struct smx_ev_rec *e;
        while ((e = event_ring_peek(ring)) != NULL) {
                unsigned i;
                if (e->type == SMX_EV_DR && sscanf(e->message_id, "m%u", &i) == 1 && i < MAX_MSG)
                        in->seen[i]++;
                else
                        in->other++;
                in->shown++;
                event_ring_release(ring);
        }
}

static unsigned held(struct inst *in)
{
        return event_ring_used(rstore_ring(in->rs));
}

/* Wait (polling `polled`, if any) until `in` holds at least n records. */
static int wait_held(struct inst *in, unsigned n, struct inst *polled)
{
        uint64_t end = now_ms() + 20000;
        while (now_ms() < end) {
                if (polled)
                        poll_app(polled);
                if (held(in) >= n)
                        return 1;
                rtest_sleep_ms(5);
        }
        printf("# holds %u records, waited for %u\n", held(in), n);
        return 0;
}

/* Keep `polled` (if any) polled for ms. */
static void run_for(unsigned ms, struct inst *polled)
{
        uint64_t end = now_ms() + ms;
        while (now_ms() < end) {
                if (polled)
                        poll_app(polled);
                rtest_sleep_ms(5);
        }
}

/* m0..m<n-1> each shown exactly once across the instances, nothing else. */
static void check_once(struct inst **v, int nv, unsigned n)
{
        unsigned twice = 0, never = 0, shown = 0;
        for (unsigned i = 0; i < n; i++) {
                unsigned t = 0;
                for (int k = 0; k < nv; k++)
                        t += v[k]->seen[i];
                twice += t > 1;
                never += t == 0;
        }
        for (int k = 0; k < nv; k++) {
                shown += v[k]->shown;
                CHECK_EQ(v[k]->other, 0);
        }
        CHECK_EQ(twice, 0);
        CHECK_EQ(never, 0);
        CHECK_EQ(shown, n);
}

/* Until Redis has no pending entry for inst (acknowledged), polling v. */
static int wait_acked(const char *inst, struct inst **v, int nv)
{
        uint64_t end = now_ms() + 20000;
        while (now_ms() < end) {
                for (int k = 0; k < nv; k++)
                        poll_app(v[k]);
                if (pending(inst) == 0)
                        return 1;
                rtest_sleep_ms(10);
        }
        printf("# %s: %lld entries still pending\n", inst, pending(inst));
        return 0;
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
        CHECK(inst_start_with(&IA, "a", T, 30000, 1) == 0);    /* no disconnect */
        CHECK(inst_start_with(&IB, "b", T, 500, 0) == 0);      /* disconnects, reconnects */
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
