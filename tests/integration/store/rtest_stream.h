/* Store instances on streams the test writes itself (test_store_claim,
 * test_store_fence): a real redis-server (rtest.h) and the test's own
 * connection to it, clusters named cl1, cl2, ..., uncorrelated DR entries
 * "m<i>" added straight to an instance's stream, instances whose heartbeat
 * the test sets, and store instances (the store thread and its event ring,
 * no SMPP) whose "application" counts each m<i> it was shown. The
 * application polls as smx_events_poll does: through the store's fence
 * (rstore.h: an entry whose lease ran out waits, one another instance took
 * over is dropped). Called from the test's main thread. */
#ifndef RTEST_STREAM_H
#define RTEST_STREAM_H

#include <hiredis/hiredis.h>
#include <stdatomic.h>

#include "rtest.h"
#include "rstore_tlib.h"
#include "store/rstore.h"
#include "testlib.h"

#define MAX_MSG 256

static struct rtest_redis R;
static redisContext *C;
static unsigned cluster_no;
static char cluster[32];

#define cmd(...) rtest_cmd(C, __VA_ARGS__)

static inline void cmd_ok(const char *fmt, ...)
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

static inline uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static inline void new_cluster(void)
{
        snprintf(cluster, sizeof cluster, "cl%u", ++cluster_no);
}

static inline void stream_key(const char *inst, char *key, size_t cap)
{
        snprintf(key, cap, "smsmux:{%s}:s:%s", cluster, inst);
}

/* An uncorrelated DR entry (rstore_ev.c) whose message_id is "m<i>". */
static inline void add_dr(const char *inst, unsigned i)
{
        char key[128];
        stream_key(inst, key, sizeof key);
        rtest_xadd_dr(C, key, i);
}

/* An instance that was alive `ago_ms` ago, with its stream and group. */
static inline void instance_seen(const char *inst, uint64_t ago_ms)
{
        char key[128];
        stream_key(inst, key, sizeof key);
        cmd_ok("XGROUP CREATE %s g 0 MKSTREAM", key);
        char ikey[64], t[24];
        snprintf(ikey, sizeof ikey, "smsmux:{%s}:inst", cluster);
        snprintf(t, sizeof t, "%llu", (unsigned long long)(now_ms() - ago_ms));
        cmd_ok("HSET %s %s %s", ikey, inst, t);
}

/* Entries of inst's stream pending in Redis, -1 on error. */
static inline long long pending(const char *inst)
{
        char key[128];
        stream_key(inst, key, sizeof key);
        return rtest_pending(C, key);
}

/* ---- a store instance and its "application" ---- */

struct inst {
        struct smx_rstore *rs;
        unsigned seen[MAX_MSG];         /* times each m<i> was shown */
        unsigned shown, other;
};

/* workers: 1 gives the instance a worker queue the test writes
 * correlations into (rstore_corr_put_w) */
static inline int inst_start_with(struct inst *in, const char *url, const char *name,
                           uint32_t takeover_ms, uint32_t timeout_ms, unsigned workers)
{
        memset(in, 0, sizeof *in);
        struct rs_config cfg = { .url = url, .instance = name, .cluster = cluster,
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

static inline void inst_stop(struct inst *in)
{
        rstore_destroy(in->rs);
        in->rs = NULL;
}

/* The application's poll: every record in the ring, released, as
 * smx_events_poll takes them: through the fence (a record whose lease ran
 * out stops the poll, a dropped one is released unseen). */
static inline void poll_app(struct inst *in)
{
        struct smx_event_ring *ring = rstore_ring(in->rs);
        struct rs_fence f = rstore_fence(in->rs);
        uint64_t now = rstore_mono_ms();
        struct smx_ev_rec *e;
        while ((e = event_ring_peek(ring)) != NULL) {
                enum rs_fence_verdict fv = rs_fence_check(f, event_ring_view(ring).head, now);
                if (fv == RS_FENCE_WAIT)
                        break;
                if (fv == RS_FENCE_SHOW) {
                        unsigned i;
                        if (e->type == SMX_EV_DR && sscanf(e->message_id, "m%u", &i) == 1 &&
                            i < MAX_MSG)
                                in->seen[i]++;
                        else
                                in->other++;
                        in->shown++;
                }
                event_ring_release(ring);
        }
}

static inline unsigned shown_now(struct inst *in)
{
        poll_app(in);
        return in->shown;
}

/* Poll `polled` (and `also`, if any) until `polled` was shown `n` entries
 * in all (or 20 s). */
static inline int wait_shown(struct inst *polled, unsigned n, struct inst *also)
{
        uint64_t end = now_ms() + 20000;
        while (now_ms() < end) {
                if (also)
                        poll_app(also);
                if (shown_now(polled) >= n)
                        return 1;
                rtest_sleep_ms(5);
        }
        printf("# shown %u, waited for %u\n", polled->shown, n);
        return 0;
}

static inline struct rs_stats stats_of(struct inst *in)
{
        struct rs_stats st;
        rstore_stats(in->rs, &st);
        return st;
}

static inline unsigned held(struct inst *in)
{
        return event_ring_used(rstore_ring(in->rs));
}

/* Wait (polling `polled`, if any) until `in` holds at least n records. */
static inline int wait_held(struct inst *in, unsigned n, struct inst *polled)
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
static inline void run_for(unsigned ms, struct inst *polled)
{
        uint64_t end = now_ms() + ms;
        while (now_ms() < end) {
                if (polled)
                        poll_app(polled);
                rtest_sleep_ms(5);
        }
}

/* m0..m<n-1> each shown exactly once across the instances, nothing else. */
static inline void check_once(struct inst **v, int nv, unsigned n)
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
static inline int wait_acked(const char *inst, struct inst **v, int nv)
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

#endif
