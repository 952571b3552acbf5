/* A backlog of parked DRs past their park timeout drains promptly, against
 * a real redis-server: 5 000 DRs parked with no correlation (what a real
 * loss of correlations leaves: each DR's id in the park index with its
 * deadline past, its list of DRs and the placeholder), then one Redis store
 * instance (the store thread and its event ring, no SMPP) starts and its
 * "application" polls. Each DR must come out once, uncorrelated, on the
 * instance that received it, and all of them within a few heartbeats: the
 * sweep goes on turn after turn while it finds a full batch due. Before,
 * the sweep released 64 ids per heartbeat (1 s): 5 000 take 79 heartbeats
 * (that sweep, played by the new code limited to 64 ids and one call per
 * heartbeat: 1 920 of 5 000 after 31 heartbeats; the new one: all after 1).
 * The bound is on heartbeats counted by the store, not wall-clock time. */
#include <hiredis/hiredis.h>

#include "rtest.h"
#include "rstore_tlib.h"
#include "store/rstore.h"
#include "testlib.h"

#define N_DRS 5000u
#define MAX_HEARTBEATS 10u      /* the old sweep needed 79 */

static struct rtest_redis R;
static redisContext *C;
static unsigned seen[N_DRS];

/* N_DRS DRs parked for instance "a" of cluster "pd", as the DR script parks
 * them (rstore_lua.c): id h<i> (a 22-character tag) -> its park list (one
 * DR: receiving instance, state DELIVERED, the payload whose message_id is
 * m<i>), the placeholder "P" in its correlation key, and its deadline in
 * the park index: 0, long past. */
static long long park_backlog(void)
{
        redisReply *r = rtest_cmd(
                C, "EVAL %s 0 %u",
                "for i = 0, tonumber(ARGV[1]) - 1 do\n"
                "  local h = string.format('h%021d', i)\n"
                "  local mid = 'm' .. i\n"
                "  local pl = '1:2' .. #mid .. ':' .. mid .. '0:0:0:0:'\n"
                "  redis.call('RPUSH', 'smsmux:{pd:' .. h .. '}:p', 'a\\31' .. '2\\31' .. pl)\n"
                "  redis.call('SET', 'smsmux:{pd:' .. h .. '}:c', 'P', 'PX', 600000)\n"
                "  redis.call('ZADD', 'smsmux:{pd}:parked', 0, h)\n"
                "end\n"
                "return redis.call('ZCARD', 'smsmux:{pd}:parked')",
                N_DRS);
        long long n = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
        if (r && r->type == REDIS_REPLY_ERROR)
                printf("# %s\n", r->str);
        if (r)
                freeReplyObject(r);
        return n;
}

/* The application: every DR taken from the ring, counted by its id. */
static unsigned poll_app(struct smx_rstore *rs, unsigned *other)
{
        struct smx_event_ring *ring = rstore_ring(rs);
        struct smx_ev_rec *e;
        unsigned n = 0;
        while ((e = event_ring_peek(ring)) != NULL) {
                unsigned i;
                if (e->type == SMX_EV_DR && !e->id[0] &&
                    sscanf(e->message_id, "m%u", &i) == 1 && i < N_DRS)
                        seen[i]++;
                else
                        (*other)++;
                event_ring_release(ring);
                n++;
        }
        if (n)
                rstore_released(rs);
        return n;
}

static unsigned distinct(void)
{
        unsigned n = 0;
        for (unsigned i = 0; i < N_DRS; i++)
                n += seen[i] > 0;
        return n;
}

static void test_backlog_past_park_timeout_drains_within_a_few_heartbeats(void)
{
        CHECK_EQ(park_backlog(), N_DRS);
        struct rs_config cfg = { .url = R.url, .instance = "a", .cluster = "pd",
                                 .owner_takeover_ms = 30000, .timeout_ms = 5000,
                                 .corr_ttl_ms = 600000, .park_timeout_ms = 60000,
                                 .dedup_window_ms = 60000, .reasm_timeout_ms = 60000 };
        struct rs_host host = rtest_quiet_host(0);
        struct smx_rstore *rs = NULL;
        char err[256] = "";
        CHECK_EQ(rstore_create(&cfg, &host, &rs, err, sizeof err), 0);
        if (!rs) {
                printf("# rstore_create: %s\n", err);
                return;
        }
        CHECK_EQ(rstore_start(rs), 0);
        unsigned other = 0;
        uint64_t hb_done = 0;
        /* until every DR came or 3x the bound in heartbeats (the old sweep
         * would still be releasing: this is how it fails, not by time) */
        for (int spins = 0; spins < 120000; spins++) {
                poll_app(rs, &other);
                struct rs_stats st = rtest_rs_stats(rs);
                if (distinct() == N_DRS) {
                        hb_done = st.heartbeats;
                        break;
                }
                if (st.heartbeats > 3 * MAX_HEARTBEATS)
                        break;
                rtest_sleep_ms(1);
        }
        struct rs_stats st = rtest_rs_stats(rs);
        printf("# %u of %u DRs after %llu heartbeats (%llu park-sweep calls, %llu released)\n",
               distinct(), N_DRS, (unsigned long long)(hb_done ? hb_done : st.heartbeats),
               (unsigned long long)st.park_sweeps, (unsigned long long)st.park_released);
        CHECK_EQ(distinct(), N_DRS);
        CHECK(hb_done >= 1 && hb_done <= MAX_HEARTBEATS);
        /* two more heartbeats: a DR released twice would show now */
        uint64_t hb_end = st.heartbeats + 2;
        for (int spins = 0; spins < 30000 && rtest_rs_stats(rs).heartbeats < hb_end; spins++) {
                poll_app(rs, &other);
                rtest_sleep_ms(1);
        }
        poll_app(rs, &other);
        unsigned twice = 0;
        for (unsigned i = 0; i < N_DRS; i++)
                twice += seen[i] > 1;
        CHECK_EQ(twice, 0);
        CHECK_EQ(other, 0);
        CHECK_EQ(rtest_rs_stats(rs).park_released, N_DRS);
        /* the park index, lists and placeholders are gone */
        CHECK_EQ(rtest_redis_int(&R, "ZCARD smsmux:{pd}:parked"), 0);
        CHECK_EQ(rtest_redis_int(&R, "EXISTS smsmux:{pd:h000000000000000000004}:p"), 0);
        CHECK_EQ(rtest_redis_int(&R, "EXISTS smsmux:{pd:h000000000000000004999}:c"), 0);
        rstore_destroy(rs);
}

int main(void)
{
        int rc = rtest_start_connected(&R, &C);
        if (rc != RTEST_GO)
                return rc;
        RUN(test_backlog_past_park_timeout_drains_within_a_few_heartbeats);
        rtest_stop_connected(&R, C);
        return t_done();
}
