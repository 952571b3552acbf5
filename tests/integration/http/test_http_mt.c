/* The HTTP MT engine (H1, H3) against the simulator's HTTP side: fields
 * arrive as sent, duplicates count as accepted, outcome classes, and the
 * strategy-B failover timeline (pause honoured, switch, switch back) with
 * the pause lowered, for refused, silent and 5xx sites. */
#include <pthread.h>

#include "http/http_mt.h"
#include "http_sim.h"
#include "http_tlib.h"
#include "smsmux.h"
#include "testlib.h"

#define N_MAX 2000

/* The MTs a test hands the engine and what came back. */
static struct {
        pthread_mutex_t mu;
        int n, next;
        char msgid[N_MAX][65];
        char text[N_MAX][256];
        int done[N_MAX];
        struct http_mt_outcome out[N_MAX];
        uint64_t done_ms[N_MAX];
        const char *login;
} H = { .mu = PTHREAD_MUTEX_INITIALIZER };

static int pull(void *arg, struct http_buf *body, char msgid[HTTP_MSGID_MAX + 1], uint64_t *ref)
{
        (void)arg;
        pthread_mutex_lock(&H.mu);
        int i = H.next < H.n ? H.next++ : -1;
        pthread_mutex_unlock(&H.mu);
        if (i < 0)
                return 0;
        http_form_add(body, "phone_number", "447700900001", 12);
        http_form_add(body, "sender", "12345", 5);
        http_form_add(body, "message", H.text[i], strlen(H.text[i]));
        http_form_add(body, "message_id", H.msgid[i], strlen(H.msgid[i]));
        http_form_add(body, "receipt", "FALSE", 5);
        memcpy(msgid, H.msgid[i], strlen(H.msgid[i]) + 1);
        *ref = (uint64_t)i;
        return 1;
}

static void done(void *arg, uint64_t ref, const char *msgid, const struct http_mt_outcome *o)
{
        (void)arg;
        (void)msgid;
        pthread_mutex_lock(&H.mu);
        H.done[ref]++;
        H.out[ref] = *o;
        H.done_ms[ref] = t_now_ms();
        pthread_mutex_unlock(&H.mu);
}

static const struct http_mt_ops ops = { .pull = pull, .done = done };

static struct http_sim *sim;
static char url_dc3[96], url_bos[96];

static void sim_start(void)
{
        if (sim)
                http_sim_stop(sim);
        struct http_sim_options o;
        http_sim_options_init(&o);
        char err[160];
        if (http_sim_start(&o, &sim, err, sizeof err) < 0) {
                printf("# %s\n", err);
                return;
        }
        t_sim_site_url(sim, 0, url_dc3, sizeof url_dc3);
        t_sim_site_url(sim, 1, url_bos, sizeof url_bos);
}

static void add_mts(int n, const char *prefix, const char *text)
{
        pthread_mutex_lock(&H.mu);
        for (int i = 0; i < n && H.n < N_MAX; i++) {
                snprintf(H.msgid[H.n], 65, "%s-%d", prefix, H.n);
                snprintf(H.text[H.n], 256, "%s", text);
                H.n++;
        }
        pthread_mutex_unlock(&H.mu);
}

static void reset(void)
{
        pthread_mutex_lock(&H.mu);
        H.n = H.next = 0;
        memset(H.done, 0, sizeof H.done);
        pthread_mutex_unlock(&H.mu);
}

static int n_done(void)
{
        pthread_mutex_lock(&H.mu);
        int k = 0;
        for (int i = 0; i < H.n; i++)
                k += H.done[i] > 0;
        pthread_mutex_unlock(&H.mu);
        return k;
}

static int wait_done(int n, unsigned ms)
{
        uint64_t end = t_now_ms() + ms;
        while (n_done() < n && t_now_ms() < end)
                t_sleep_ms(5);
        return n_done();
}

/* The engine on the URLs given; max_attempts / pushback_free_ms / timeout_ms
 * (else 600) when not 0. */
static struct http_mt *engine_ex(const char *u0, const char *u1, int get, uint32_t pause_ms,
                                 uint32_t max_attempts, uint32_t pushback_free_ms, uint32_t timeout_ms)
{
        struct http_mt_config c;
        http_mt_config_init(&c);
        c.urls[0] = u0;
        c.n_urls = 1;
        if (u1) {
                c.urls[1] = u1;
                c.n_urls = 2;
        }
        c.login = H.login ? H.login : "smsmux";
        c.password = "secret";
        c.use_get = get;
        c.resubmit_pause_ms = pause_ms;
        c.retry_backoff_ms = 100;
        c.probe_interval_ms = 100;
        c.primary_healthy_ms = 1000;
        c.timeout_ms = timeout_ms ? timeout_ms : 600;
        c.connect_timeout_ms = 500;
        if (max_attempts)
                c.max_attempts = max_attempts;
        if (pushback_free_ms)
                c.pushback_free_ms = pushback_free_ms;
        struct http_mt *m = NULL;
        char err[160];
        if (http_mt_create(&c, &ops, NULL, &m, err, sizeof err) < 0)
                printf("# %s\n", err);
        else
                http_mt_start(m);
        return m;
}

static struct http_mt *engine(const char *u0, const char *u1, int get, uint32_t pause_ms)
{
        return engine_ex(u0, u1, get, pause_ms, 0, 0, 0);
}

static void check_fields_arrive(int get)
{
        sim_start();
        reset();
        static const char *texts[] = {
                "plain", "a+b", "x&y=z", "\xF0\x9F\x98\x80 emoji \xF0\x9F\x8E\x89", "\xC3\xBC\xC3\xB1\xC3\xAE",
                "100% & + = ? # / ;", "  spaces  ",
        };
        int n = (int)(sizeof texts / sizeof texts[0]);
        for (int i = 0; i < n; i++) {
                char p[16];
                snprintf(p, sizeof p, "f%d-%d", get, i);
                add_mts(1, p, texts[i]);
        }
        struct http_mt *m = engine(url_dc3, NULL, get, 1000);
        CHECK_EQ(wait_done(n, 5000), n);
        for (int i = 0; i < n; i++) {
                struct http_sim_seen s;
                CHECK_EQ(http_sim_seen(sim, H.msgid[i], &s), 0);
                CHECK_STR(s.message, texts[i]);
                CHECK_STR(s.phone_number, "447700900001");
                CHECK_STR(s.sender, "12345");
                CHECK_EQ(H.out[i].accepted, 1);
        }
        http_mt_destroy(m);
}

static void test_mt_post_fields_arrive_exactly_as_sent(void)
{
        check_fields_arrive(0);
}

static void test_mt_get_fields_arrive_exactly_as_sent(void)
{
        check_fields_arrive(1);
}

static void test_mt_many_accepted_once_each_over_keepalive(void)
{
        sim_start();
        reset();
        add_mts(1000, "many", "hello");
        struct http_mt *m = engine(url_dc3, NULL, 0, 1000);
        CHECK_EQ(wait_done(1000, 20000), 1000);
        struct http_sim_counts sc;
        http_sim_counts(sim, &sc);
        CHECK_EQ(sc.handset_delivered, 1000);
        CHECK_EQ(sc.duplicates, 0);
        const struct http_mt_stats *st = http_mt_stats(m);
        CHECK_EQ(atomic_load(&st->accepted), 1000);
        CHECK(atomic_load(&st->connects) <= 16);    /* keep-alive pool, per-host cap */
        http_mt_destroy(m);
}

static void test_mt_duplicate_answer_counts_as_accepted(void)
{
        sim_start();
        reset();
        add_mts(1, "dup", "once");
        pthread_mutex_lock(&H.mu);
        snprintf(H.msgid[1], 65, "%s", H.msgid[0]);   /* the same identity again */
        snprintf(H.text[1], 256, "once");
        H.n = 2;
        pthread_mutex_unlock(&H.mu);
        struct http_mt *m = engine(url_dc3, NULL, 0, 1000);
        CHECK_EQ(wait_done(2, 5000), 2);
        CHECK_EQ(H.out[0].accepted + H.out[1].accepted, 2);
        CHECK_EQ(H.out[0].duplicate + H.out[1].duplicate, 1);
        struct http_sim_counts sc;
        http_sim_counts(sim, &sc);
        CHECK_EQ(sc.handset_delivered, 1);
        CHECK_EQ(sc.duplicates, 1);
        http_mt_destroy(m);
}

static void test_mt_bad_login_fails_permanently_with_auth_code(void)
{
        sim_start();
        reset();
        H.login = "intruder";
        add_mts(1, "auth", "x");
        struct http_mt *m = engine(url_dc3, NULL, 0, 1000);
        H.login = NULL;
        CHECK_EQ(wait_done(1, 5000), 1);
        CHECK_EQ(H.out[0].accepted, 0);
        CHECK_EQ(H.out[0].permanent, 1);
        CHECK_EQ(H.out[0].reason, SMX_FAIL_REJECTED);
        CHECK_EQ(H.out[0].code, 2);
        CHECK_EQ(H.out[0].attempts, 1);
        http_mt_destroy(m);
}

static void test_mt_throttled_answers_are_retried_then_accepted(void)
{
        sim_start();
        reset();
        char r[256];
        CHECK_EQ(http_sim_ctl(sim, "http throttle dc3 on", r, sizeof r), 0);
        add_mts(3, "thr", "x");
        struct http_mt *m = engine(url_dc3, NULL, 0, 1000);
        t_sleep_ms(350);
        CHECK_EQ(n_done(), 0);
        http_sim_ctl(sim, "http throttle dc3 off", r, sizeof r);
        CHECK_EQ(wait_done(3, 3000), 3);
        for (int i = 0; i < 3; i++) {
                CHECK_EQ(H.out[i].accepted, 1);
                CHECK(H.out[i].attempts >= 3);
        }
        CHECK_EQ(atomic_load(&http_mt_stats(m)->switches), 0);
        http_mt_destroy(m);
}

/* A throttled answer (429, result_code 6: the service took nothing) is not
 * charged against max_attempts while the MT is young, as SMPP's
 * ESME_RTHROTTLED is not: with max_attempts 3 and a throttle lasting well
 * over 3 sends, every MT is still accepted once it ends (the old engine
 * failed each after its third send, reason attempts). */
static void test_mt_throttle_is_not_charged_while_young(void)
{
        sim_start();
        reset();
        char r[256];
        CHECK_EQ(http_sim_ctl(sim, "http throttle dc3 on", r, sizeof r), 0);
        add_mts(3, "thy", "x");
        struct http_mt *m = engine_ex(url_dc3, NULL, 0, 1000, 3, 60000, 0);
        /* every MT throttled at least 5 times (sends 100 ms apart) */
        uint64_t end = t_now_ms() + 20000;
        while (atomic_load(&http_mt_stats(m)->pushbacks) < 15 && t_now_ms() < end)
                t_sleep_ms(10);
        CHECK(atomic_load(&http_mt_stats(m)->pushbacks) >= 15);
        CHECK_EQ(n_done(), 0);
        http_sim_ctl(sim, "http throttle dc3 off", r, sizeof r);
        CHECK_EQ(wait_done(3, 10000), 3);
        for (int i = 0; i < 3; i++) {
                CHECK_EQ(H.out[i].accepted, 1);
                CHECK(H.out[i].attempts > 3);   /* more sends than max_attempts */
        }
        http_mt_destroy(m);
}

/* Past pushback_free_ms a throttled answer counts again: an endless throttle
 * still ends each MT (reason attempts, code 6) after max_attempts charged
 * sends, the uncharged ones on top. */
static void test_mt_endless_throttle_still_ends(void)
{
        sim_start();
        reset();
        char r[256];
        CHECK_EQ(http_sim_ctl(sim, "http throttle dc3 on", r, sizeof r), 0);
        add_mts(2, "the", "x");
        struct http_mt *m = engine_ex(url_dc3, NULL, 0, 1000, 3, 400, 0);
        CHECK_EQ(wait_done(2, 20000), 2);
        for (int i = 0; i < 2; i++) {
                CHECK_EQ(H.out[i].accepted, 0);
                CHECK_EQ(H.out[i].permanent, 0);
                CHECK_EQ(H.out[i].reason, SMX_FAIL_ATTEMPTS);
                CHECK_EQ(H.out[i].code, 6);
                CHECK(H.out[i].attempts > 3);   /* the first 400 ms were not charged */
        }
        http_sim_ctl(sim, "http throttle dc3 off", r, sizeof r);
        http_mt_destroy(m);
}

/* A throttled answer pauses every send, as SMPP pauses a throttled bind:
 * the pause starts at retry_backoff_ms (100 ms here) and doubles per round
 * of throttled answers (10 MTs through 3 s of throttle: ~6 rounds, not the
 * ~30 one retry every 100 ms would make); once an MT sent after the pause
 * is accepted the pause is over, and the next throttle pauses 100 ms again,
 * not the 1.6 s it had reached. */
static void test_mt_throttle_pauses_sends_and_resets_once_accepted(void)
{
        sim_start();
        reset();
        char r[256];
        CHECK_EQ(http_sim_ctl(sim, "http throttle dc3 on", r, sizeof r), 0);
        add_mts(10, "thp", "x");
        uint64_t t0 = t_now_ms();       /* before the engine: its first sends go at once */
        struct http_mt *m = engine(url_dc3, NULL, 0, 1000);
        const struct http_mt_stats *st = http_mt_stats(m);
        uint64_t end = t0 + 20000;
        while (atomic_load(&st->throttle_ms) < 1600 && t_now_ms() < end)
                t_sleep_ms(5);
        CHECK(atomic_load(&st->throttle_ms) >= 1600);
        uint64_t took = t_now_ms() - t0;
        uint64_t sent = atomic_load(&st->sent);
        unsigned pause = atomic_load(&st->throttle_ms), rounds = 1;
        for (unsigned p = pause; p > 100; p /= 2)
                rounds++;               /* 100 ms after round 1, doubled per round since */
        printf("# %llu requests in %llu ms of throttle, pause now %u ms (%u rounds)\n",
               (unsigned long long)sent, (unsigned long long)took, pause, rounds);
        CHECK(took >= 100 + 200 + 400 + 800);   /* the pauses were waited */
        CHECK(sent <= 10ull * rounds);          /* one send per MT per round */
        CHECK_EQ(n_done(), 0);
        http_sim_ctl(sim, "http throttle dc3 off", r, sizeof r);
        CHECK_EQ(wait_done(10, 15000), 10);
        for (int i = 0; i < 10; i++)
                CHECK_EQ(H.out[i].accepted, 1);
        CHECK_EQ(atomic_load(&st->throttle_ms), 0);
        CHECK_EQ(http_sim_ctl(sim, "http throttle dc3 on", r, sizeof r), 0);
        add_mts(1, "thq", "x");
        http_mt_wake(m);
        end = t_now_ms() + 10000;
        while (atomic_load(&st->throttle_ms) == 0 && t_now_ms() < end)
                t_sleep_ms(2);
        CHECK_EQ(atomic_load(&st->throttle_ms), 100);
        http_sim_ctl(sim, "http throttle dc3 off", r, sizeof r);
        CHECK_EQ(wait_done(11, 10000), 11);
        CHECK_EQ(H.out[10].accepted, 1);
        http_mt_destroy(m);
}

/* H3: the primary fails as `down_cmd` says; one MT must wait out the pause,
 * be resubmitted, fail again, go to the alternate; after the primary is
 * back and has answered probes for primary_healthy_ms, traffic returns. */
static void failover_timeline(const char *down_cmd, const char *up_cmd, const char *tag)
{
        sim_start();
        reset();
        char r[256];
        CHECK_EQ(http_sim_ctl(sim, down_cmd, r, sizeof r), 0);
        const uint32_t pause = 1000;
        struct http_mt *m = engine(url_dc3, url_bos, 0, pause);
        uint64_t t0 = t_now_ms();
        add_mts(1, tag, "failover");
        http_mt_wake(m);
        CHECK_EQ(wait_done(1, 10000), 1);
        const struct http_mt_stats *st = http_mt_stats(m);
        uint64_t took = H.done_ms[0] - t0;
        printf("# %s: MT accepted at the alternate after %llu ms (pause %u ms, attempts %u)\n", tag,
               (unsigned long long)took, pause, H.out[0].attempts);
        CHECK_EQ(H.out[0].accepted, 1);
        CHECK_EQ(H.out[0].url, 1);
        CHECK_EQ(H.out[0].attempts, 3);           /* primary, resubmit to primary, alternate */
        CHECK(took >= pause);                    /* the pause was honoured */
        /* and nothing longer was waited for: both primary attempts ended
         * abnormally on their own (refused, 5xx, or the 600 ms timeout_ms),
         * not through the stall detector (stall_ms 3000 of silence) nor a
         * default timer (timeout 15 s, pause 30 s: wait_done's 10 s above
         * would not see the MT done). Counted by the engine, not timed, so
         * a loaded machine cannot fail it. */
        printf("# %s: abnormal %llu, resubmits %llu, stalls %llu\n", tag,
               (unsigned long long)atomic_load(&st->abnormal),
               (unsigned long long)atomic_load(&st->resubmits),
               (unsigned long long)atomic_load(&st->stalls));
        CHECK_EQ(atomic_load(&st->abnormal), 2);  /* primary, resubmit to primary */
        CHECK_EQ(atomic_load(&st->resubmits), 2); /* after the pause, to the alternate */
        CHECK_EQ(atomic_load(&st->stalls), 0);
        CHECK_EQ(atomic_load(&st->switches), 1);
        CHECK_EQ(atomic_load(&st->current_url), 1);
        uint64_t a, f, l;
        http_sim_site_counts(sim, "bos", &a, &f, &l);
        CHECK_EQ(a, 1);
        /* new MTs go straight to the alternate, no pause: one attempt each,
         * no further abnormal failure or resubmit */
        add_mts(5, tag, "after switch");
        http_mt_wake(m);
        CHECK_EQ(wait_done(6, 10000), 6);
        http_sim_site_counts(sim, "bos", &a, &f, &l);
        CHECK_EQ(a, 6);
        for (int i = 1; i < 6; i++) {
                CHECK_EQ(H.out[i].attempts, 1);
                CHECK_EQ(H.out[i].url, 1);
        }
        CHECK_EQ(atomic_load(&st->abnormal), 2);
        CHECK_EQ(atomic_load(&st->resubmits), 2);
        /* primary back: probes succeed for primary_healthy_ms, then switch back */
        uint64_t t_up = t_now_ms();
        CHECK_EQ(http_sim_ctl(sim, up_cmd, r, sizeof r), 0);
        uint64_t end = t_up + 20000;    /* generous: primary_healthy_ms's default is 60 s */
        while (atomic_load(&st->current_url) != 0 && t_now_ms() < end)
                t_sleep_ms(10);
        uint64_t back = t_now_ms() - t_up;
        printf("# %s: back on the primary %llu ms after it recovered (healthy window 1000 ms)\n", tag,
               (unsigned long long)back);
        CHECK_EQ(atomic_load(&st->current_url), 0);
        CHECK(back >= 1000);             /* the healthy window was waited for */
        CHECK_EQ(atomic_load(&st->switch_backs), 1);
        add_mts(5, tag, "back home");
        http_mt_wake(m);
        CHECK_EQ(wait_done(11, 10000), 11);
        http_sim_site_counts(sim, "dc3", &a, &f, &l);
        CHECK_EQ(a, 5);
        struct http_sim_counts sc;
        http_sim_counts(sim, &sc);
        CHECK_EQ(sc.handset_delivered, 11);
        for (int i = 0; i < 11; i++)
                CHECK_EQ(H.done[i], 1);
        http_mt_destroy(m);
}

static void test_mt_failover_timeline_site_refusing(void)
{
        failover_timeline("http down dc3 refuse", "http up dc3", "refuse");
}

static void test_mt_failover_timeline_site_silent(void)
{
        failover_timeline("http down dc3 silent", "http up dc3", "silent");
}

static void test_mt_failover_timeline_site_5xx(void)
{
        failover_timeline("http 5xx dc3 on", "http 5xx dc3 off", "5xx");
}

static void test_mt_dropped_connections_are_resubmitted_without_loss(void)
{
        sim_start();
        reset();
        char r[256];
        CHECK_EQ(http_sim_ctl(sim, "http drop dc3 3", r, sizeof r), 0);
        add_mts(10, "drop", "x");
        struct http_mt *m = engine(url_dc3, NULL, 0, 1000);   /* one URL: retry after backoff */
        CHECK_EQ(wait_done(10, 5000), 10);
        int acc = 0;
        for (int i = 0; i < 10; i++)
                acc += H.out[i].accepted;
        CHECK_EQ(acc, 10);
        struct http_sim_counts sc;
        http_sim_counts(sim, &sc);
        CHECK_EQ(sc.dropped, 3);
        CHECK_EQ(sc.handset_delivered, 10);
        CHECK_EQ(atomic_load(&http_mt_stats(m)->abnormal), 3);
        http_mt_destroy(m);
}

static void test_mt_slow_answers_are_waited_for(void)
{
        sim_start();
        reset();
        char r[256];
        CHECK_EQ(http_sim_ctl(sim, "http slow dc3 300", r, sizeof r), 0);
        add_mts(10, "slow", "x");      /* fewer than the per-host connection cap */
        uint64_t t0 = t_now_ms();
        /* timeout_ms 10 s, far above the 300 ms the answers take, so a loaded
         * machine cannot turn a slow answer into a timeout: what is proved is
         * that a late answer is waited for (no retry after retry_backoff_ms,
         * no stall), once per MT */
        struct http_mt *m = engine_ex(url_dc3, NULL, 0, 1000, 0, 0, 10000);
        CHECK_EQ(wait_done(10, 20000), 10);
        CHECK(t_now_ms() - t0 >= 300);
        for (int i = 0; i < 10; i++)
                CHECK_EQ(H.out[i].attempts, 1);
        http_mt_destroy(m);
}

static void test_mt_held_mts_fail_with_shutdown_when_destroyed(void)
{
        sim_start();
        reset();
        char r[256];
        CHECK_EQ(http_sim_ctl(sim, "http down dc3 silent", r, sizeof r), 0);
        add_mts(4, "stop", "x");
        struct http_mt *m = engine(url_dc3, NULL, 0, 1000);
        /* all 4 taken by the engine (sending to the silent site), not still
         * waiting in our list, before it is destroyed */
        uint64_t end = t_now_ms() + 10000;
        while (atomic_load(&http_mt_stats(m)->in_flight) < 4 && t_now_ms() < end)
                t_sleep_ms(5);
        CHECK_EQ(atomic_load(&http_mt_stats(m)->in_flight), 4);
        http_mt_destroy(m);
        CHECK_EQ(n_done(), 4);
        for (int i = 0; i < 4; i++) {
                CHECK_EQ(H.done[i], 1);
                CHECK_EQ(H.out[i].reason, SMX_FAIL_SHUTDOWN);
        }
}

int main(void)
{
        RUN(test_mt_post_fields_arrive_exactly_as_sent);
        RUN(test_mt_get_fields_arrive_exactly_as_sent);
        RUN(test_mt_many_accepted_once_each_over_keepalive);
        RUN(test_mt_duplicate_answer_counts_as_accepted);
        RUN(test_mt_bad_login_fails_permanently_with_auth_code);
        RUN(test_mt_throttled_answers_are_retried_then_accepted);
        RUN(test_mt_throttle_is_not_charged_while_young);
        RUN(test_mt_endless_throttle_still_ends);
        RUN(test_mt_throttle_pauses_sends_and_resets_once_accepted);
        RUN(test_mt_failover_timeline_site_refusing);
        RUN(test_mt_failover_timeline_site_silent);
        RUN(test_mt_failover_timeline_site_5xx);
        RUN(test_mt_dropped_connections_are_resubmitted_without_loss);
        RUN(test_mt_slow_answers_are_waited_for);
        RUN(test_mt_held_mts_fail_with_shutdown_when_destroyed);
        http_sim_stop(sim);
        return t_done();
}
