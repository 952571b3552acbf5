/* The outcome gate (src/store/rstore.h): with the shared store an MT's
 * SUBMITTED reaches the application only once its correlation is in Redis.
 * Before, the outcome went out with the submit_sm_resp and the correlation
 * write followed on the store thread; a process killed in between (a
 * millisecond normally, longer on a loaded machine or a slow Redis) had
 * shown `submitted` for an MT whose correlation never reached Redis, so the
 * application did not resubmit it and its DR came uncorrelated after the
 * park timeout (test_store_pipe failed so, once, under load: MT c-86).
 * One instance against a real redis-server and smsc-sim:
 *   - Redis running: each SUBMITTED, when polled, has its correlation key
 *     in Redis already;
 *   - Redis paused (SIGSTOP) with a long timeout_ms (the connection is not
 *     given up): none of 20 accepted MTs shows SUBMITTED while Redis cannot
 *     have their correlations (before: all 20 within the pause); once Redis
 *     runs again all 20 do, each with its correlation in Redis, the
 *     connection never lost;
 *   - Redis killed (unreachable): the outcomes are not held, MTs keep
 *     getting them (the documented limit: a crash then loses those
 *     correlations). */
#include <signal.h>

#include "rtest_inst.h"

static redisContext *C;          /* the test's own connection to Redis */

/* 1 when Redis holds a correlation (not a placeholder) for MT id `id` of
 * the cluster: a value of a smsmux:{CLUSTER:*}:c key ending "\x1f<id>". */
static int corr_in_redis(const char *id)
{
        char pat[96];
        snprintf(pat, sizeof pat, "smsmux:{%s:*}:c", cluster);
        redisReply *r = redisCommand(C, "EVAL %s 0 %s",
                                     "local out = {} local cur = '0' repeat "
                                     "local r = redis.call('SCAN', cur, 'MATCH', ARGV[1], "
                                     "'COUNT', 1000) cur = r[1] for _, k in ipairs(r[2]) do "
                                     "out[#out + 1] = redis.call('GET', k) end until cur == '0' "
                                     "return out", pat);
        int found = 0;
        size_t il = strlen(id);
        if (r && r->type == REDIS_REPLY_ARRAY)
                for (size_t i = 0; i < r->elements && !found; i++) {
                        const redisReply *v = r->element[i];
                        found = v->type == REDIS_REPLY_STRING && v->len > il &&
                                v->str[v->len - il - 1] == 0x1f &&
                                memcmp(v->str + v->len - il, id, il) == 0;
                }
        if (r)
                freeReplyObject(r);
        return found;
}

/* Poll a for `ms`: how many SUBMITTED came, and how many of those had no
 * correlation in Redis when polled (checked only while Redis runs). */
static unsigned pump_outcomes(unsigned ms, int redis_runs, unsigned *without_corr)
{
        struct smx_event ev[64];
        unsigned got = 0;
        uint64_t end = it_now_ms() + ms;
        while (it_now_ms() < end) {
                size_t n = smx_events_poll(I[0].c, ev, 64);
                for (size_t i = 0; i < n; i++) {
                        if (ev[i].type != SMX_EV_SUBMITTED && ev[i].type != SMX_EV_FAILED)
                                continue;
                        CHECK_EQ(ev[i].type, SMX_EV_SUBMITTED);
                        got++;
                        if (redis_runs && ev[i].id && !corr_in_redis(ev[i].id)) {
                                printf("# %s shown SUBMITTED, no correlation in Redis\n", ev[i].id);
                                (*without_corr)++;
                        }
                }
                if (!n)
                        it_sleep_ms(2);
        }
        return got;
}

/* n MTs "<prefix>-<k>" (DR wanted) from instance a. */
static void submit(const char *prefix, unsigned n)
{
        for (unsigned k = 0; k < n; k++) {
                char id[32];
                snprintf(id, sizeof id, "%s-%u", prefix, k);
                struct smx_mt mt = { .id = id, .from = "12345", .to = "447700900001",
                                     .text = "gate", .want_dr = 1 };
                CHECK_EQ(smx_submit(I[0].c, &mt), 0);
        }
}

static void test_submitted_shown_only_with_its_correlation_in_redis(void)
{
        unsigned without = 0;
        submit("run", 20);
        unsigned got = pump_outcomes(3000, 1, &without);
        printf("# Redis running: %u SUBMITTED, %u without their correlation\n", got, without);
        CHECK_EQ(got, 20);
        CHECK_EQ(without, 0);
}

static void test_redis_paused_submitted_waits_for_the_correlation(void)
{
        long long disc0 = rt_store_num(I[0].c, "disconnects");
        rtest_redis_kill(&R, SIGSTOP);
        it_sleep_ms(100);
        submit("pause", 20);
        unsigned without = 0;
        unsigned during = pump_outcomes(2500, 0, &without);
        long long sent = 0;
        {
                /* the SMSC accepted them meanwhile: the wait is the store's */
                struct smx_bind_stats st[IT_MAX_SMSC];
                size_t nb = smx_client_binds(I[0].c, st, IT_MAX_SMSC);
                for (size_t b = 0; b < nb; b++)
                        sent += (long long)st[b].accepted;
        }
        printf("# Redis paused 2.5 s: %u SUBMITTED shown (the SMSC accepted %lld MTs in all)\n",
               during, sent);
        CHECK_EQ(during, 0);
        CHECK(sent >= 40);
        rtest_redis_kill(&R, SIGCONT);
        unsigned after = pump_outcomes(3000, 1, &without);
        printf("# Redis running again: %u SUBMITTED, %u without their correlation\n", after,
               without);
        CHECK_EQ(during + after, 20);
        CHECK_EQ(without, 0);
        CHECK_EQ(rt_store_num(I[0].c, "disconnects"), disc0);     /* Redis answered them */
}

static void test_redis_unreachable_outcomes_not_held(void)
{
        rtest_redis_kill(&R, SIGKILL);
        submit("down", 20);
        unsigned without = 0;
        unsigned got = pump_outcomes(3000, 0, &without);
        printf("# Redis killed: %u SUBMITTED within 3 s\n", got);
        CHECK_EQ(got, 20);
}

static int inst_start(struct rt_inst *in, const char *name, int i)
{
        (void)i;
        struct smx_config *cfg = rt_inst_config(in, name);
        cfg->store.timeout_ms = 20000;          /* a paused Redis is waited for, not given up */
        cfg->store.owner_takeover_ms = 60000;
        cfg->store.hold_ms = 20000;
        return rt_inst_launch(in);
}

int main(void)
{
        int rc = rt_start(1);
        if (rc != RTEST_GO)
                return rc;
        C = redisConnectUnix(R.sock);
        if (!C || C->err) {
                printf("Bail out! no connection of the test's own to Redis\n");
                rt_finish();
                return 1;
        }
        it_sim_ctl(&E, "set all dr_before_resp_prob 0");
        it_sim_ctl(&E, "set all dr_delay_ms 20000-30000");     /* no DR meanwhile */
        it_sim_ctl(&E, "set all mo_rate 0");
        snprintf(cluster, sizeof cluster, "g%d", (int)getpid());
        rt_n = 1;
        if ((rc = rt_start_instances(inst_start)) != RTEST_GO || (rc = rt_await_bound()) != RTEST_GO)
                return rc;
        RUN(test_submitted_shown_only_with_its_correlation_in_redis);
        RUN(test_redis_paused_submitted_waits_for_the_correlation);
        redisFree(C);
        C = NULL;
        RUN(test_redis_unreachable_outcomes_not_held);
        return rt_finish();
}
