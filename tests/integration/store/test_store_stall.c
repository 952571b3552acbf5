/* The store thread never stops taking the workers' hand-offs while Redis
 * is slow to read (issue 13, bench/README.md "Stalls"), against a real
 * redis-server. The stalls of bench_store were correlation writes dropped
 * at a worker's full hand-off ring (32 768 writes) while the store thread
 * sat for about a second in a blocking write of a multi-megabyte batch to a
 * busy Redis; their DRs then waited out the park timeout and came
 * uncorrelated. Here one store (the store thread and its rings, no SMPP)
 * gets correlation writes from the test thread acting as worker 0 while
 * redis-server is paused with SIGSTOP, so nothing is read from the
 * connection and the store thread's batch cannot be written:
 *   - it still takes twice the ring's capacity of writes into its FIFO
 *     (the test pushes only into free ring room, waiting for it, as the
 *     workers' dispatch does): none dropped, the connection kept;
 *   - once Redis runs again, every write is in Redis, once. */
#include <hiredis/hiredis.h>
#include <signal.h>

#include "rtest.h"
#include "rstore_tlib.h"
#include "store/rstore.h"
#include "testlib.h"

#define N_FIRST 20000u          /* a batch of ~2 MB: far more than a socket buffer */
#define N_TOTAL 65536u          /* twice the hand-off ring (RS_CORR_RING) */

static struct rtest_redis R;
static redisContext *C;

static uint64_t mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Push writes [*next, upto) as worker 0, only into free ring room; wait for
 * room up to `until`. The number pushed. */
static uint32_t push_until(struct smx_rstore *rs, uint32_t *next, uint32_t upto, uint64_t until)
{
        uint32_t n = 0;
        while (*next < upto && mono_ms() < until) {
                if (rstore_corr_room_w(rs, 0) == 0) {
                        rstore_kick_w(rs, 0);
                        rtest_sleep_ms(1);
                        continue;
                }
                struct rs_corr_req r;
                memset(&r, 0, sizeof r);
                r.key.lo = 0x9E3779B97F4A7C15ull * (*next + 1);
                r.key.hi = *next;
                r.part = r.n_parts = 1;
                r.app_len = (uint8_t)snprintf(r.app, sizeof r.app, "m%019u", *next);
                if (rstore_corr_put_w(rs, 0, &r) != 0)
                        break;
                (*next)++;
                n++;
                if ((n & 1023) == 0)
                        rstore_kick_w(rs, 0);
        }
        rstore_kick_w(rs, 0);
        return n;
}

static void test_redis_not_reading_writes_still_taken_none_dropped(void)
{
        struct rs_config cfg = { .url = R.url, .instance = "a", .cluster = "stall",
                                 .corr_ttl_ms = 600000,
                                 .timeout_ms = 120000 };   /* no disconnect while paused */
        struct rs_host host = rtest_quiet_host(1);
        struct smx_rstore *rs = NULL;
        char err[256] = "";
        CHECK_EQ(rstore_create(&cfg, &host, &rs, err, sizeof err), 0);
        if (!rs) {
                printf("# rstore_create: %s\n", err);
                return;
        }
        CHECK_EQ(rstore_start(rs), 0);
        uint64_t until = mono_ms() + 20000;
        while (!rtest_rs_stats(rs).connected && mono_ms() < until)
                rtest_sleep_ms(5);
        CHECK_EQ(rtest_rs_stats(rs).connected, 1);
        rtest_redis_kill(&R, SIGSTOP);
        uint32_t next = 0;
        /* the first writes: the store thread takes them and sends them as one
         * batch that the paused Redis does not read */
        push_until(rs, &next, N_FIRST, mono_ms() + 20000);
        until = mono_ms() + 20000;
        while (rtest_rs_stats(rs).corr_buffered < N_FIRST && mono_ms() < until)
                rtest_sleep_ms(2);
        CHECK_EQ(rtest_rs_stats(rs).corr_buffered, N_FIRST);
        /* then twice the ring: it only fits if the store thread keeps taking
         * writes while its batch waits for Redis to read */
        push_until(rs, &next, N_TOTAL, mono_ms() + 30000);
        until = mono_ms() + 30000;
        while (rtest_rs_stats(rs).corr_buffered < N_TOTAL && mono_ms() < until)
                rtest_sleep_ms(2);
        struct rs_stats st = rtest_rs_stats(rs);
        printf("# Redis paused: %u of %u writes pushed, %llu in the store's FIFO, %llu dropped, "
               "%llu written\n", next, N_TOTAL, (unsigned long long)st.corr_buffered,
               (unsigned long long)st.corr_dropped, (unsigned long long)st.corr_writes);
        CHECK_EQ(next, N_TOTAL);
        CHECK_EQ(st.corr_buffered, N_TOTAL);
        CHECK_EQ(st.corr_dropped, 0);
        CHECK_EQ(st.disconnects, 0);
        rtest_redis_kill(&R, SIGCONT);
        push_until(rs, &next, N_TOTAL, mono_ms() + 60000);     /* the rest, if any */
        until = mono_ms() + 60000;
        while (rtest_rs_stats(rs).corr_writes < next && mono_ms() < until)
                rtest_sleep_ms(10);
        st = rtest_rs_stats(rs);
        CHECK_EQ(st.corr_writes, N_TOTAL);
        CHECK_EQ(st.corr_dropped, 0);
        CHECK_EQ(st.corr_buffered, 0);
        /* each one a correlation key in Redis (plus the instance hash and the
         * stream) */
        redisReply *r = rtest_cmd(C, "EVAL %s 0", "local n = 0 local cur = '0' repeat "
                                  "local r = redis.call('SCAN', cur, 'MATCH', 'smsmux:{stall:*}:c', "
                                  "'COUNT', 10000) cur = r[1] n = n + #r[2] until cur == '0' "
                                  "return n");
        CHECK(r && r->type == REDIS_REPLY_INTEGER);
        if (r && r->type == REDIS_REPLY_INTEGER)
                CHECK_EQ(r->integer, N_TOTAL);
        if (r)
                freeReplyObject(r);
        rstore_destroy(rs);
}

int main(void)
{
        int rc = rtest_start_connected(&R, &C);
        if (rc != RTEST_GO)
                return rc;
        RUN(test_redis_not_reading_writes_still_taken_none_dropped);
        rtest_redis_kill(&R, SIGCONT);
        rtest_stop_connected(&R, C);
        return t_done();
}
