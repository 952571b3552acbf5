/* SMPP over TLS end to end, against smsc-sim's TLS listeners in-process:
 * two binds carry MTs over verified TLS while seven others fail, each with
 * the reason that names its cause (BIND event, stats, log): expired
 * certificate, wrong host name, client certificate missing or from an
 * unknown CA, TLS to a plain port, plain to a TLS port, an unknown CA (the
 * simulator's badcert fault) and then a stalled handshake. Mid-session, a
 * TLS alert and a truncated record end the good bind, which comes back (the
 * second time resuming its session); every MT gets exactly one outcome, the
 * other binds are untouched, and no attempt comes sooner than the rebind
 * interval (R2); a drain ends each TLS session with our close_notify.
 * Certificates are made by the test. */
#include <unistd.h>

#include "integration/core/itest.h"
#include "tls_certs.h"
#include "tls/tls.h"

#define REBIND_MS 1500

enum { B_GOOD, B_EXPIRED, B_WRONGHOST, B_CCOK, B_CCNONE, B_CCROGUE, B_TLS2PLAIN, B_PLAIN2TLS,
       B_FAULTY, N_BINDS };

static struct it_env env;
static char dir[64];
static struct tc_cert ca, other_ca, good, expired, wronghost, client, rogue;
static char names[N_BINDS][16];
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_has_pem, log_tls_up, log_expired_detail;

static void on_log(enum smx_log_level level, const char *line, void *arg)
{
        (void)level;
        (void)arg;
        pthread_mutex_lock(&log_lock);
        if (strstr(line, "BEGIN") || strstr(line, "PRIVATE KEY"))
                log_has_pem = 1;
        if (strstr(line, "tls: TLSv1.3"))
                log_tls_up = 1;
        if (strstr(line, "certificate has expired"))
                log_expired_detail = 1;
        pthread_mutex_unlock(&log_lock);
}

static const struct smx_bind_stats *bind_stats(struct smx_bind_stats *st, size_t b)
{
        size_t n = smx_client_binds(env.c, st, N_BINDS);
        for (size_t i = 0; i < n && i < N_BINDS; i++)
                if (!strcmp(st[i].name, names[b]))
                        return &st[i];
        return NULL;
}

/* Pump until bind b went down (again) with `reason`; 1 = it did. */
static int wait_reason(size_t b, const char *reason, uint64_t downs_before, unsigned ms)
{
        uint64_t end = it_now_ms() + ms;
        while (it_now_ms() < end) {
                it_pump(&env);
                if (env.downs[b] > downs_before && !strcmp(env.last_down_reason[b], reason))
                        return 1;
                it_sleep_ms(5);
        }
        printf("# %s: waited for \"%s\", last \"%s\" (%llu downs)\n", names[b], reason,
               env.last_down_reason[b], (unsigned long long)env.downs[b]);
        return 0;
}

static int bind_active(size_t b)
{
        struct smx_bind_stats st[N_BINDS];
        const struct smx_bind_stats *p = bind_stats(st, b);
        return p && (p->health == SMX_HEALTH_ACTIVE || p->health == SMX_HEALTH_THROTTLED);
}

static int wait_active(size_t b, unsigned ms)
{
        uint64_t end = it_now_ms() + ms;
        while (it_now_ms() < end) {
                it_pump(&env);
                if (bind_active(b))
                        return 1;
                it_sleep_ms(5);
        }
        return 0;
}

static void test_each_failure_names_its_cause(void)
{
        static const struct { int b; const char *reason; } want[] = {
                { B_EXPIRED, "tls: certificate expired" },
                { B_WRONGHOST, "tls: certificate is for another host" },
                { B_CCNONE, "tls: client certificate refused" },
                { B_CCROGUE, "tls: client certificate refused" },
                { B_TLS2PLAIN, "tls: SMSC does not speak TLS" },
                { B_PLAIN2TLS, "closed by SMSC while binding (TLS port?)" },
                { B_FAULTY, "tls: certificate from unknown CA" },
        };
        CHECK(wait_active(B_GOOD, 15000));
        CHECK(wait_active(B_CCOK, 15000));
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
                CHECK(wait_reason((size_t)want[i].b, want[i].reason, 0, 15000));
        /* the same reasons in stats */
        struct smx_bind_stats st[N_BINDS];
        const struct smx_bind_stats *p = bind_stats(st, B_EXPIRED);
        CHECK(p && !strcmp(p->last_down, "tls: certificate expired") && p->tls == 1 &&
              p->tls_handshakes == 0);
        p = bind_stats(st, B_GOOD);
        CHECK(p && p->tls == 1 && p->tls_handshakes >= 1 && p->last_down[0] == '\0');
        CHECK(p && !strcmp(p->tls_version, "TLSv1.3"));
        p = bind_stats(st, B_PLAIN2TLS);
        CHECK(p && p->tls == 0);
        pthread_mutex_lock(&log_lock);
        CHECK(log_tls_up);
        CHECK(log_expired_detail);
        pthread_mutex_unlock(&log_lock);
}

static void test_mts_flow_over_tls_while_others_fail(void)
{
        CHECK_EQ(it_submit_n(&env, 3000, "hello over TLS"), 3000);
        /* the unknown-CA SMSC now stalls its handshakes instead */
        it_sim_ctl(&env, "tls-fault smsc6.a stall");
        CHECK(wait_reason(B_FAULTY, "tls: handshake timed out", env.downs[B_FAULTY], 10000));
        CHECK(it_wait_outcomes(&env, env.next_mt, 30000));
        CHECK_EQ(env.failed, 0);
        CHECK_EQ(it_bad_outcomes(&env, env.next_mt), 0);
        struct smx_bind_stats st[N_BINDS];
        const struct smx_bind_stats *g = bind_stats(st, B_GOOD);
        const struct smx_bind_stats *o = bind_stats(st, B_CCOK);
        CHECK(g && o && g->accepted + o->accepted == 3000);
}

static void test_alert_and_truncated_record_end_the_bind_which_returns(void)
{
        uint64_t ccok_downs = env.downs[B_CCOK];
        uint64_t before = env.downs[B_GOOD];
        CHECK_EQ(it_submit_n(&env, 2000, "before the alert"), 2000);
        it_sim_ctl(&env, "tls-alert smsc1.a");
        CHECK(wait_reason(B_GOOD, "tls: SMSC sent alert bad record mac", before, 5000));
        CHECK(wait_active(B_GOOD, 10000));
        before = env.downs[B_GOOD];
        CHECK_EQ(it_submit_n(&env, 2000, "before the truncation"), 2000);
        it_sim_ctl(&env, "tls-truncate smsc1.a");
        CHECK(wait_reason(B_GOOD, "tls: truncated record", before, 5000));
        CHECK(wait_active(B_GOOD, 10000));
        CHECK_EQ(it_submit_n(&env, 1000, "after"), 1000);
        CHECK(it_wait_outcomes(&env, env.next_mt, 60000));
        CHECK_EQ(env.failed, 0);
        CHECK_EQ(env.duplicates_outcome, 0);
        CHECK_EQ(it_bad_outcomes(&env, env.next_mt), 0);
        CHECK_EQ(env.downs[B_CCOK], ccok_downs);          /* the other bind untouched */
        struct smx_bind_stats st[N_BINDS];
        const struct smx_bind_stats *g = bind_stats(st, B_GOOD);
        CHECK(g && g->tls_handshakes >= 3);
        /* after the alert the session is dropped (fatal); after the
         * truncation it is resumed */
        CHECK(g && g->tls_resumed >= 1);
}

static void test_rebind_interval_kept_by_every_failing_bind(void)
{
        struct smx_bind_stats st[N_BINDS];
        size_t n = smx_client_binds(env.c, st, N_BINDS);
        CHECK_EQ(n, N_BINDS);
        for (size_t i = 0; i < n && i < N_BINDS; i++) {
                if (st[i].bind_attempts < 2)
                        continue;
                if (st[i].min_attempt_spacing_ms < REBIND_MS)
                        printf("# %s: attempts %llu spaced %llu ms\n", st[i].name,
                               (unsigned long long)st[i].bind_attempts,
                               (unsigned long long)st[i].min_attempt_spacing_ms);
                CHECK(st[i].min_attempt_spacing_ms >= REBIND_MS);
        }
        const struct smx_bind_stats *e = bind_stats(st, B_EXPIRED);
        CHECK(e && e->bind_attempts >= 2);
}

static void test_stats_show_tls_and_no_secrets(void)
{
        char *out = NULL;
        CHECK_EQ(smx_stats_render(env.c, SMX_STATS_TABLE, &out, NULL), 0);
        CHECK(out && strstr(out, "last down:") && strstr(out, "tls: certificate expired"));
        CHECK(out && strstr(out, "handshakes"));
        const char *note;
        int ktls = tls_ktls_probe(&note);
        CHECK(out && strstr(out, note));
        free(out);
        CHECK_EQ(smx_stats_render(env.c, SMX_STATS_JSON, &out, NULL), 0);
        CHECK(out && strstr(out, ktls ? "\"ktls\":{\"available\":true"
                                      : "\"ktls\":{\"available\":false"));
        CHECK(out && strstr(out, "\"last_down\":\"tls: certificate is for another host\""));
        free(out);
        CHECK_EQ(smx_stats_render(env.c, SMX_STATS_PROMETHEUS, &out, NULL), 0);
        CHECK(out && strstr(out, "smsmux_tls_handshakes_total{smsc=\"good\",site=\"a\"}"));
        free(out);
        pthread_mutex_lock(&log_lock);
        CHECK_EQ(log_has_pem, 0);
        pthread_mutex_unlock(&log_lock);
}

/* A drain unbinds every bind: each TLS session ends with our close_notify
 * after the unbind (the simulator counts the ones it read). */
static void test_unbind_ends_with_close_notify(void)
{
        double before = it_json_num(it_summary(&env), "\"name\":\"smsc1.a\"", "tls_close_notify");
        CHECK_EQ(before, 0);
        CHECK_EQ(smx_client_drain(env.c, 5000), 0);
        uint64_t end = it_now_ms() + 5000;
        double good_n = 0, ccok_n = 0;
        while (it_now_ms() < end) {
                it_pump(&env);
                const char *j = it_summary(&env);
                good_n = it_json_num(j, "\"name\":\"smsc1.a\"", "tls_close_notify");
                ccok_n = it_json_num(j, "\"name\":\"smsc4.a\"", "tls_close_notify");
                if (good_n >= 1 && ccok_n >= 1)
                        break;
                it_sleep_ms(20);
        }
        CHECK(good_n >= 1);
        CHECK(ccok_n >= 1);
}

static int write_sim_config(char *path, size_t cap)
{
        snprintf(path, cap, "%s/sim.ini", dir);
        FILE *f = fopen(path, "w");
        if (!f)
                return -1;
        fprintf(f, "[sim]\nsites = a\nsmscs_per_site = 6\nport_base = 0\n"
                   "[smsc1.a]\ntls_cert = %s\ntls_key = %s\n"
                   "[smsc2.a]\ntls_cert = %s\ntls_key = %s\n"
                   "[smsc3.a]\ntls_cert = %s\ntls_key = %s\n"
                   "[smsc4.a]\ntls_cert = %s\ntls_key = %s\ntls_client_ca = %s\n"
                   "[smsc6.a]\ntls_cert = %s\ntls_key = %s\n",
                good.pem, good.keyfile, expired.pem, expired.keyfile, wronghost.pem,
                wronghost.keyfile, good.pem, good.keyfile, ca.pem, good.pem, good.keyfile);
        fclose(f);
        return 0;
}

static int setup(void)
{
        const char *san = "DNS:localhost,IP:127.0.0.1";
        if (tc_make(dir, "ca", "test CA", NULL, -3600, 86400, NULL, &ca) < 0 ||
            tc_make(dir, "other_ca", "other CA", NULL, -3600, 86400, NULL, &other_ca) < 0 ||
            tc_make(dir, "good", "localhost", san, -3600, 86400, &ca, &good) < 0 ||
            tc_make(dir, "expired", "localhost", san, -172800, -86400, &ca, &expired) < 0 ||
            tc_make(dir, "wronghost", "other", "DNS:other.example", -3600, 86400, &ca,
                    &wronghost) < 0 ||
            tc_make(dir, "client", "esme", NULL, -3600, 86400, &ca, &client) < 0 ||
            tc_make(dir, "rogue", "rogue", NULL, -3600, 86400, &other_ca, &rogue) < 0)
                return -1;
        char path[256], err[256];
        if (write_sim_config(path, sizeof path) < 0)
                return -1;
        struct sim_options o;
        sim_options_init(&o);
        o.config_file = path;
        o.seed = 4242;
        memset(&env, 0, sizeof env);
        if (sim_start(&o, &env.sim, err, sizeof err) < 0) {
                printf("# sim_start: %s\n", err);
                return -1;
        }
        it_sim_ctl(&env, "set sim rebind_interval 1.5");
        struct sim_smsc_info info[8];
        size_t n = sim_smscs(env.sim, info, 8);
        if (n != 6 || !info[0].tls || info[4].tls)
                return -1;
        static const int smsc_of[N_BINDS] = { 0, 1, 2, 3, 3, 3, 4, 0, 5 };
        static const char *const bind_names[N_BINDS] = {
                "good", "expired", "wronghost", "ccok", "ccnone", "ccrogue", "tls2plain",
                "plain2tls", "faulty",
        };
        env.n = N_BINDS;
        for (size_t i = 0; i < N_BINDS; i++) {
                const struct sim_smsc_info *m = &info[smsc_of[i]];
                snprintf(names[i], sizeof names[i], "%s", bind_names[i]);
                env.info[i] = *m;
                snprintf(env.info[i].name, sizeof env.info[i].name, "%s", bind_names[i]);
                env.smsc[i] = (struct smx_smsc_config){
                        .name = names[i], .site = "a", .host = info[0].host, .port = m->port,
                        .tls = i != B_PLAIN2TLS, .ca_file = i != B_PLAIN2TLS ? ca.pem : NULL,
                };
        }
        env.smsc[B_CCOK].cert_file = client.pem;
        env.smsc[B_CCOK].key_file = client.keyfile;
        env.smsc[B_CCROGUE].cert_file = rogue.pem;
        env.smsc[B_CCROGUE].key_file = rogue.keyfile;
        it_sim_ctl(&env, "tls-fault smsc6.a badcert");
        smx_config_init(&env.cfg);
        env.cfg.smscs = env.smsc;
        env.cfg.n_smscs = N_BINDS;
        env.cfg.workers = 2;
        env.cfg.pin_workers = 0;
        env.cfg.ingress_capacity = 16384;
        env.cfg.event_capacity = 16384;
        env.cfg.rebind_interval_ms = REBIND_MS;
        env.cfg.rebind_jitter_ms = 200;
        env.cfg.connect_timeout_ms = 1500;
        env.cfg.bind_timeout_ms = 3000;
        env.cfg.response_timeout_ms = 3000;
        env.cfg.retry_backoff_ms = 50;
        env.cfg.max_attempts = 50;
        env.cfg.no_route_timeout_ms = 60000;
        env.outcome = calloc(IT_MAX_MT, 1);
        env.outcomes_seen = calloc(IT_MAX_MT, sizeof *env.outcomes_seen);
        env.fail_reason = calloc(IT_MAX_MT, 1);
        smx_log_configure(SMX_LOG_INFO, on_log, NULL);
        return it_client_start(&env);
}

int main(void)
{
        snprintf(dir, sizeof dir, "/tmp/smx-tls-it-XXXXXX");
        if (!mkdtemp(dir)) {
                printf("Bail out! mkdtemp\n");
                return 1;
        }
        if (setup() < 0) {
                printf("Bail out! setup\n");
                it_stop(&env);
                tc_rmdir(dir);
                return 1;
        }
        RUN(test_each_failure_names_its_cause);
        RUN(test_mts_flow_over_tls_while_others_fail);
        RUN(test_alert_and_truncated_record_end_the_bind_which_returns);
        RUN(test_rebind_interval_kept_by_every_failing_bind);
        RUN(test_stats_show_tls_and_no_secrets);
        RUN(test_unbind_ends_with_close_notify);
        it_stop(&env);
        smx_log_configure(SMX_LOG_WARN, NULL, NULL);
        struct tc_cert *all[] = { &ca, &other_ca, &good, &expired, &wronghost, &client, &rogue };
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
                tc_free(all[i]);
        tc_rmdir(dir);
        return t_done();
}
