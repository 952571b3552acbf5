/* The shared store's edges, with a real redis-server:
 *   - a password-protected Redis: the right password (in the URL) connects;
 *     a wrong one never connects, and no log line shows either password;
 *   - bad store URLs and instance names are refused at create, clearly;
 *   - Redis gone for longer than local_after_ms: MTs keep their outcomes
 *     and DRs are delivered uncorrelated on the receiving instance (counted
 *     local_fallback), not refused for ever; once Redis is back, DRs go
 *     through it again, correlated. */
#include "store/rstore.h"
#include "rtest_inst.h"

/* A client on the store at url (cluster "outage", Redis waited for
 * 300 ms, DRs local after local_after_ms). */
static smx_client *make(const char *url, const char *inst, uint32_t local_after_ms)
{
        struct smx_config cfg = rt_store_config(url, inst, "outage");
        cfg.store.hold_ms = 300;
        cfg.store.local_after_ms = local_after_ms;
        cfg.store.timeout_ms = 300;
        return rt_client(&cfg);
}

static void test_password_is_used_and_never_logged(void)
{
        redisContext *rc = redisConnectUnix(R.sock);
        redisReply *rep = rc ? redisCommand(rc, "CONFIG SET requirepass Sekr1t-pw") : NULL;
        CHECK(rep && rep->type == REDIS_REPLY_STATUS);
        if (rep)
                freeReplyObject(rep);
        if (rc)
                redisFree(rc);
        char url[256];
        snprintf(url, sizeof url, "redis://:Sekr1t-pw@127.0.0.1:1/0");  /* syntax only */
        char err[256] = "";
        CHECK_EQ(rstore_url_check(url, err, sizeof err), 0);

        /* unix socket + password in the config */
        struct smx_config cfg = E.cfg;
        cfg.workers = 1;
        cfg.store.url = R.url;
        cfg.store.instance = "pw-good";
        cfg.store.cluster = "auth";
        cfg.store.password = "Sekr1t-pw";
        smx_client *good = NULL;
        CHECK_EQ(smx_client_create(&cfg, &good, err, sizeof err), 0);
        smx_client_start(good);
        cfg.store.instance = "pw-bad";
        cfg.store.password = "Wr0ng-pw";
        smx_client *bad = NULL;
        CHECK_EQ(smx_client_create(&cfg, &bad, err, sizeof err), 0);
        smx_client_start(bad);
        uint64_t end = it_now_ms() + 5000;
        while (it_now_ms() < end && rt_store_num(good, "connected") != 1)
                it_sleep_ms(20);
        it_sleep_ms(500);
        CHECK_EQ(rt_store_num(good, "connected"), 1);
        CHECK_EQ(rt_store_num(bad, "connected"), 0);
        CHECK(rt_log_has("authentication failed"));
        CHECK(!rt_log_has("Sekr1t-pw"));
        CHECK(!rt_log_has("Wr0ng-pw"));
        smx_client_destroy(good);
        smx_client_destroy(bad);
        rc = redisConnectUnix(R.sock);
        rep = rc ? redisCommand(rc, "AUTH Sekr1t-pw") : NULL;
        if (rep)
                freeReplyObject(rep);
        rep = rc ? redisCommand(rc, "CONFIG SET requirepass %s", "") : NULL;
        if (rep)
                freeReplyObject(rep);
        if (rc)
                redisFree(rc);
}

static void test_bad_urls_and_names_are_refused(void)
{
        static const char *bad[] = { "redis://", "redis://host:0", "redis://host:99999",
                                     "redis://host:6379/x", "unix://relative/path",
                                     "mysql://host", "rediss://", "rediss://host:0" };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                struct smx_config cfg = E.cfg;
                cfg.store.url = bad[i];
                smx_client *c = NULL;
                char err[256] = "";
                int rc = smx_client_create(&cfg, &c, err, sizeof err);
                CHECK_EQ(rc, SMX_EINVAL);
                CHECK(strstr(err, "store") != NULL);
                if (c)
                        smx_client_destroy(c);
        }
        struct smx_config cfg = E.cfg;
        cfg.store.url = R.url;
        cfg.store.instance = "has space";
        smx_client *c = NULL;
        char err[256] = "";
        CHECK_EQ(smx_client_create(&cfg, &c, err, sizeof err), SMX_EINVAL);
        CHECK(strstr(err, "instance") != NULL);
        cfg.store.instance = "ok";
        cfg.store.cluster = "{x}";
        CHECK_EQ(smx_client_create(&cfg, &c, err, sizeof err), SMX_EINVAL);
        /* memory is the in-process store: no thread, no Redis */
        cfg.store.url = "memory";
        cfg.store.cluster = NULL;
        CHECK_EQ(smx_client_create(&cfg, &c, err, sizeof err), 0);
        char *txt = NULL;
        CHECK_EQ(smx_stats_render(c, SMX_STATS_JSON, &txt, NULL), 0);
        CHECK(txt && !strstr(txt, "\"store\""));
        free(txt);
        smx_client_destroy(c);
}

static void test_redis_gone_long_drs_delivered_here_uncorrelated(void)
{
        smx_client *c = make(R.url, "solo", 1500);
        CHECK(c != NULL);
        if (!c)
                return;
        uint64_t end = it_now_ms() + 10000;
        while (it_now_ms() < end && rt_store_num(c, "connected") != 1)
                it_sleep_ms(20);
        E.c = c;
        CHECK_EQ(it_wait_active(&E, E.n, 10000), 1);
        rtest_redis_kill(&R, SIGKILL);
        uint64_t base_drs = E.drs;
        CHECK_EQ(it_submit_n(&E, 30, "redis is gone"), 30);
        end = it_now_ms() + 20000;
        while (it_now_ms() < end && (E.submitted + E.failed < E.next_mt || E.drs - base_drs < 30)) {
                it_pump(&E);
                it_sleep_ms(10);
        }
        CHECK_EQ(E.submitted + E.failed, E.next_mt);    /* MTs never waited for Redis */
        CHECK_EQ(it_bad_outcomes(&E, E.next_mt) , 0);
        CHECK_EQ(E.drs - base_drs, 30);                 /* each DR once, here */
        CHECK(rt_store_num(c, "local_fallback") >= 30);
        CHECK(rt_store_num(c, "connected") == 0);
        /* Redis back: the store reconnects (backoff <= 2 s) */
        CHECK_EQ(rtest_redis_spawn(&R), 0);
        end = it_now_ms() + 10000;
        while (it_now_ms() < end && rt_store_num(c, "connected") != 1) {
                it_pump(&E);
                it_sleep_ms(20);
        }
        CHECK_EQ(rt_store_num(c, "connected"), 1);
        long long routed0 = rt_store_num(c, "drs_routed");
        base_drs = E.drs;
        CHECK_EQ(it_submit_n(&E, 20, "redis is back"), 20);
        end = it_now_ms() + 20000;
        while (it_now_ms() < end && E.drs - base_drs < 20) {
                it_pump(&E);
                it_sleep_ms(10);
        }
        CHECK_EQ(E.drs - base_drs, 20);
        CHECK(rt_store_num(c, "drs_routed") - routed0 >= 20);
        smx_client_destroy(c);
        E.c = NULL;
}

/* A 4 KiB write buffer (about 100 correlations of 6-byte ids) while Redis
 * is stopped: it fills, wraps as it drains, and what did not fit is
 * counted; those MTs' DRs arrive uncorrelated after the park timeout, the
 * others correlated; none is lost or doubled. */
static void test_full_write_buffer_is_bounded_counted_and_replayed(void)
{
        struct smx_config cfg = E.cfg;
        cfg.workers = 1;
        cfg.dr_park_timeout_ms = 2000;
        cfg.store.url = R.url;
        cfg.store.instance = "small";
        cfg.store.cluster = "buffer";
        cfg.store.buffer_bytes = 4096;
        cfg.store.timeout_ms = 300;
        cfg.store.hold_ms = 10000;
        cfg.store.local_after_ms = 60000;
        smx_client *c = NULL;
        char err[256] = "";
        CHECK_EQ(smx_client_create(&cfg, &c, err, sizeof err), 0);
        if (!c)
                return;
        smx_client_start(c);
        E.c = c;
        memset(E.outcomes_seen, 0, IT_MAX_MT * sizeof *E.outcomes_seen);
        E.submitted = E.failed = E.drs = E.next_mt = 0;
        CHECK_EQ(it_wait_active(&E, E.n, 10000), 1);
        uint64_t end = it_now_ms() + 5000;
        while (it_now_ms() < end && rt_store_num(c, "connected") != 1)
                it_sleep_ms(20);
        /* first wrap-arounds in normal operation: 400 writes through 4 KiB,
         * 40 at a time (a burst larger than the buffer would be dropped) */
        for (int round = 0; round < 10; round++) {
                CHECK_EQ(it_submit_n(&E, 40, "small buffer"), 40);
                end = it_now_ms() + 10000;
                while (it_now_ms() < end && E.drs < E.next_mt) {
                        it_pump(&E);
                        it_sleep_ms(2);
                }
        }
        CHECK_EQ(E.drs, 400);
        CHECK_EQ(rt_store_num(c, "corr_dropped"), 0);
        CHECK_EQ(rt_store_num(c, "drs_routed"), 400);      /* all correlated through Redis */
        /* then Redis stopped: the buffer fills */
        rtest_redis_kill(&R, SIGSTOP);
        uint64_t drs0 = E.drs;
        CHECK_EQ(it_submit_n(&E, 300, "buffer full"), 300);
        end = it_now_ms() + 10000;
        while (it_now_ms() < end && E.submitted + E.failed < E.next_mt) {
                it_pump(&E);
                it_sleep_ms(5);
        }
        CHECK_EQ(E.submitted + E.failed, E.next_mt);
        it_sleep_ms(500);
        long long dropped = rt_store_num(c, "corr_dropped");
        printf("# correlation writes dropped with a 4 KiB buffer: %lld of 300\n", dropped);
        CHECK(dropped > 0 && dropped < 300);
        rtest_redis_kill(&R, SIGCONT);
        end = it_now_ms() + 30000;
        while (it_now_ms() < end && E.drs - drs0 < 300) {
                it_pump(&E);
                it_sleep_ms(5);
        }
        it_sleep_ms(1000);
        it_pump(&E);
        CHECK_EQ(E.drs - drs0, 300);            /* every DR, once */
        CHECK_EQ(it_bad_outcomes(&E, E.next_mt), 0);
        CHECK_EQ(rt_store_num(c, "corr_buffered"), 0);
        smx_client_destroy(c);
        E.c = NULL;
}

int main(void)
{
        smx_log_configure(SMX_LOG_INFO, rt_log_capture, NULL);
        int rc = rt_start(1);
        if (rc != RTEST_GO)
                return rc;
        it_sim_ctl(&E, "set all dr_delay_ms 20-100");
        it_sim_ctl(&E, "set all deliver_max_sends 1000");       /* re-sent while Redis is away */
        RUN(test_bad_urls_and_names_are_refused);
        RUN(test_password_is_used_and_never_logged);
        RUN(test_redis_gone_long_drs_delivered_here_uncorrelated);
        RUN(test_full_write_buffer_is_bounded_counted_and_replayed);
        it_stop(&E);
        rtest_redis_stop(&R);
        return t_done();
}
