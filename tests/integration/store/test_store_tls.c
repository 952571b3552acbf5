/* The shared store over TLS (rediss://) with a real redis-server started
 * here on a free TCP port as a TLS-only server requiring client
 * certificates (tls-auth-clients yes), certificates made by the test
 * (tests/tls_certs.h), against smsc-sim:
 *   - a client trusting another CA never connects: a clear reason in the
 *     log and in stats, counted as TLS failures; its MTs still get their
 *     outcomes and, Redis staying out of reach past local_after_ms, its DRs
 *     are delivered uncorrelated on it (the outage behaviour, unchanged);
 *   - without a client certificate Redis refuses us: never connected, the
 *     reason says the client certificate was refused; a server_name the
 *     certificate does not carry is refused; `insecure` connects to an
 *     untrusted certificate, with a warning;
 *   - bad TLS settings (key not matching, CA missing, TLS keys on a plain
 *     URL) fail smx_client_create with the reason;
 *   - a peer that accepts TCP and never answers the handshake: each attempt
 *     ends after timeout_ms (counted, reason "handshake timed out") and the
 *     store keeps retrying;
 *   - two instances with mutual TLS, authenticated as an ACL user (one
 *     with user/password keys, one with both in the URL, one verifying
 *     server_name "localhost" while connecting to 127.0.0.1): every DR
 *     reaches its owner once, correlated, whichever instance's bind it
 *     arrived on; Redis sees them as the ACL user; stats show TLS 1.3 and
 *     the cipher; the password is in no log line;
 *   - redis-server killed and restarted mid-run on the same port: both
 *     instances reconnect with a new handshake; MTs accepted meanwhile keep
 *     flowing and every DR still reaches its owner once, correlated. */
#include <netinet/in.h>
#include <sys/socket.h>

#include "rtest_inst.h"
#include "tls_certs.h"

#define PW "Tls-Acl-pw-93x"

static int tls_port;
static char certdir[64];
static struct tc_cert ca, other_ca, server, client;

static char *stats_json(smx_client *c)
{
        char *txt = NULL;
        if (smx_stats_render(c, SMX_STATS_JSON, &txt, NULL) != 0) {
                free(txt);
                return NULL;
        }
        return txt;
}

/* A string field of the store's stats ("" when absent). */
static void store_str(smx_client *c, const char *key, char *out, size_t cap)
{
        char *txt = stats_json(c);
        out[0] = 0;
        const char *p = txt ? strstr(txt, "\"store\":{") : NULL;
        char pat[64];
        snprintf(pat, sizeof pat, "\"%s\":\"", key);
        const char *q = p ? strstr(p, pat) : NULL;
        if (q) {
                q += strlen(pat);
                size_t n = strcspn(q, "\"");
                snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), q);
        }
        free(txt);
}

static int free_port(void)
{
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t al = sizeof a;
        int port = -1;
        if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
            getsockname(fd, (struct sockaddr *)&a, &al) == 0)
                port = ntohs(a.sin_port);
        if (fd >= 0)
                close(fd);
        return port;
}

/* redis-server: TLS only on tls_port (client certificates required), plus a
 * plain unix socket for the test's own checks; AOF with appendfsync no so
 * a kill -9 keeps what it acknowledged (everysec may not, always waits for
 * the disk: rtest.h). 0 or -1. */
static int tls_redis_spawn(void)
{
        char port[16];
        snprintf(port, sizeof port, "%d", tls_port);
        char *const argv[] = {
                "redis-server", "--port", "0", "--tls-port", port,
                "--bind", "127.0.0.1", "--tls-cert-file", server.pem,
                "--tls-key-file", server.keyfile, "--tls-ca-cert-file", ca.pem,
                "--tls-auth-clients", "yes", "--unixsocket", R.sock,
                "--unixsocketperm", "700", "--dir", R.dir, "--save", "",
                "--appendonly", "yes", "--appendfsync", "no",
                "--logfile", R.log, "--daemonize", "no",
                /* the ACL user, also after a restart */
                "--user", "smx", "on", ">" PW, "~*", "&*", "+@all", NULL,
        };
        return rtest_redis_run(&R, argv);
}

/* How many clients of CLIENT LIST contain `what`. */
static int clients_with(const char *what)
{
        redisContext *c = redisConnectUnix(R.sock);
        int n = -1;
        if (c && !c->err) {
                redisReply *rep = redisCommand(c, "CLIENT LIST");
                if (rep && rep->type == REDIS_REPLY_STRING) {
                        n = 0;
                        for (const char *p = rep->str; (p = strstr(p, what)); p++)
                                n++;
                }
                if (rep)
                        freeReplyObject(rep);
        }
        if (c)
                redisFree(c);
        return n;
}

/* ---- instances ---- */

/* The pair over mutual TLS: instances "a" and "b" of rtest_inst.h. */
static struct rt_inst *const A = &I[0], *const B = &I[1];

static char url_plain[128], url_creds[160];

/* The simulator's config for one worker, on the store over TLS at
 * url_plain as `instance`: our CA, the client certificate, cluster "tls". */
static struct smx_config tls_config(const char *instance)
{
        struct smx_config cfg = rt_store_config(url_plain, instance, "tls");
        cfg.store.ca_file = ca.pem;
        cfg.store.cert_file = client.pem;
        cfg.store.key_file = client.keyfile;
        cfg.store.timeout_ms = 1000;
        cfg.store.hold_ms = 300;
        return cfg;
}

/* Every DR event at in, correlated or not. */
static uint64_t drs(const struct rt_inst *in)
{
        return in->n_drs + in->uncorrelated;
}

/* DR events at in that repeat an earlier one there (same id and state). */
static uint64_t dups(const struct rt_inst *in)
{
        uint64_t n = 0;
        for (size_t j = 1; j < in->n_drs; j++)
                for (size_t k = 0; k < j; k++)
                        n += !strcmp(in->drs[j].id, in->drs[k].id) &&
                             in->drs[j].state == in->drs[k].state;
        return n;
}

static double sim_total(const char *key)
{
        return it_json_num(it_summary(&E), "\"totals\"", key);
}

/* Pump until A and B hold `outcomes` outcomes and, since ev0 (their DR
 * events then), the DRs the service sent since dr0 (at least min), up to
 * 40 s; then 1 s more so a duplicate would show. Counting from ev0 matters
 * after the first subtest: with A's and B's earlier DRs counted the wait
 * ended once the service had sent them, before the DRs it re-sent after
 * the restart arrived (seen: 57 of 60 at one instance, 0 of 60 under ASan). */
static double settle(uint64_t outcomes, double dr0, uint64_t ev0, double min)
{
        uint64_t end = it_now_ms() + 40000;
        double want = 0;
        while (it_now_ms() < end) {
                rt_pump_all();
                want = sim_total("dr_sent") - dr0;
                if (A->outcomes + B->outcomes >= outcomes && want >= min &&
                    (double)(drs(A) + drs(B) - ev0) >= want)
                        break;
                it_sleep_ms(10);
        }
        uint64_t q = it_now_ms() + 1000;
        while (it_now_ms() < q) {
                rt_pump_all();
                it_sleep_ms(10);
        }
        return sim_total("dr_sent") - dr0;
}

static int wait_active(smx_client *c)
{
        uint64_t end = it_now_ms() + 15000;
        while (it_now_ms() < end) {
                rt_pump_all();
                if (E.c)
                        it_pump(&E);
                struct smx_bind_stats st[IT_MAX_SMSC];
                size_t n = smx_client_binds(c, st, IT_MAX_SMSC), a = 0;
                for (size_t b = 0; b < n; b++)
                        a += st[b].health == SMX_HEALTH_ACTIVE;
                if (a == E.n)
                        return 1;
                it_sleep_ms(10);
        }
        return 0;
}

/* A reply on one line (arrays in brackets), for failure diagnostics. */
static void reply_print(const redisReply *r, int depth)
{
        if (!r) {
                printf(" (no reply)");
                return;
        }
        switch (r->type) {
        case REDIS_REPLY_ARRAY:
                printf(" [");
                for (size_t i = 0; i < r->elements && depth < 6; i++)
                        reply_print(r->element[i], depth + 1);
                printf(" ]");
                break;
        case REDIS_REPLY_INTEGER:
                printf(" %lld", r->integer);
                break;
        case REDIS_REPLY_NIL:
                printf(" nil");
                break;
        default:
                printf(" %.*s", (int)(r->len < 200 ? r->len : 200), r->str ? r->str : "");
        }
}

/* On a failed count: what is missing and where it is. The DRs of `in`'s
 * MTs k0..k1-1 not polled since event index ev0, both instances' store
 * stats, our streams' XINFO/XPENDING/entries, and the simulator's ledger. */
static void dump_missing(const struct rt_inst *in, uint64_t k0, uint64_t k1, size_t ev0)
{
        for (uint64_t k = k0; k < k1; k++) {
                char id[64];
                snprintf(id, sizeof id, "%s-%llu", in->name, (unsigned long long)k);
                size_t seen = 0;
                for (size_t j = ev0; j < in->n_drs; j++)
                        seen += !strcmp(in->drs[j].id, id);
                if (seen != 1)
                        printf("# DR of %s seen %zu times at %s\n", id, seen, in->name);
        }
        for (int i = 0; i < rt_n; i++) {
                char *txt = stats_json(I[i].c);
                const char *st = txt ? strstr(txt, "\"store\":{") : NULL;
                printf("# stats %s: %.1500s\n", I[i].name, st ? st : "(none)");
                free(txt);
        }
        redisContext *c = redisConnectUnix(R.sock);
        for (int i = 0; c && !c->err && i < rt_n; i++) {
                char key[96];
                snprintf(key, sizeof key, "smsmux:{tls}:s:%.8s", I[i].name);
                const char *cmds[][6] = {
                        { "XINFO", "STREAM", key, NULL },
                        { "XINFO", "GROUPS", key, NULL },
                        { "XINFO", "CONSUMERS", key, "g", NULL },
                        { "XPENDING", key, "g", "-", "+", "200" },
                        { "XRANGE", key, "-", "+", NULL },
                };
                for (size_t q = 0; q < sizeof cmds / sizeof cmds[0]; q++) {
                        int argc = 0;
                        while (argc < 6 && cmds[q][argc])
                                argc++;
                        redisReply *r = redisCommandArgv(c, argc, cmds[q], NULL);
                        printf("# %s %s:", cmds[q][0], key);
                        reply_print(r, 0);
                        printf("\n");
                        if (r)
                                freeReplyObject(r);
                }
        }
        if (c)
                redisFree(c);
        printf("# sim: %.6000s\n", it_summary(&E));
}

/* The captured log lines from offset `from` that contain `what`. */
static void print_log_since(size_t from, const char *what)
{
        pthread_mutex_lock(&rt_logmu);
        for (const char *p = rt_logbuf + (from < rt_loglen ? from : rt_loglen); *p;) {
                size_t n = strcspn(p, "\n");
                if (memmem(p, n, what, strlen(what)))
                        printf("# log: %.*s\n", (int)n, p);
                p += n + (p[n] == '\n');
        }
        pthread_mutex_unlock(&rt_logmu);
}

/* ---- the tests ---- */

static void test_wrong_ca_never_connects_clear_error_mts_flow(void)
{
        struct smx_config cfg = tls_config("wrongca");
        cfg.store.ca_file = other_ca.pem;
        cfg.store.local_after_ms = 1500;
        smx_client *c = rt_client(&cfg);
        CHECK(c != NULL);
        if (!c)
                return;
        E.c = c;
        CHECK_EQ(it_wait_active(&E, E.n, 10000), 1);
        CHECK_EQ(rt_wait_store(c, "tls_failures", 2, 10000), 1);  /* retried, each counted */
        CHECK_EQ(rt_store_num(c, "connected"), 0);
        CHECK_EQ(rt_store_num(c, "tls_handshakes"), 0);
        char why[64];
        store_str(c, "tls_error", why, sizeof why);
        printf("# stats tls_error: %s\n", why);
        CHECK(!strcmp(why, "tls: certificate from unknown CA"));
        CHECK(rt_log_has("TLS handshake failed: tls: certificate from unknown CA"));
        /* MTs flow; their DRs, Redis out of reach past local_after_ms, are
         * delivered here uncorrelated */
        uint64_t drs0 = E.drs;
        CHECK_EQ(it_submit_n(&E, 20, "wrong CA"), 20);
        CHECK_EQ(it_wait_outcomes(&E, E.next_mt, 20000), 1);
        CHECK_EQ(E.submitted, E.next_mt);
        CHECK_EQ(it_bad_outcomes(&E, E.next_mt), 0);
        uint64_t end = it_now_ms() + 20000;
        while (it_now_ms() < end && E.drs - drs0 < 20) {
                it_pump(&E);
                it_sleep_ms(10);
        }
        CHECK_EQ(E.drs - drs0, 20);
        CHECK(rt_store_num(c, "local_fallback") >= 20);
        CHECK_EQ(rt_store_num(c, "connected"), 0);
        smx_client_destroy(c);
        E.c = NULL;
}

static void test_redis_requires_client_certificate(void)
{
        struct smx_config cfg = tls_config("nocert");
        cfg.store.cert_file = cfg.store.key_file = NULL;
        smx_client *c = rt_client(&cfg);
        CHECK(c != NULL);
        if (!c)
                return;
        CHECK_EQ(rt_wait_store(c, "tls_failures", 2, 10000), 1);  /* retried, each refused */
        CHECK_EQ(rt_store_num(c, "connected"), 0);
        CHECK_EQ(rt_store_num(c, "tls_handshakes"), 0);            /* never set up */
        char why[64];
        store_str(c, "tls_error", why, sizeof why);
        printf("# stats tls_error without a client certificate: %s\n", why);
        CHECK(!strcmp(why, "tls: client certificate refused"));
        smx_client_destroy(c);
}

/* A name the certificate does not carry is refused like a wrong CA;
 * `insecure` connects anyway (to a CA we do not trust), with a warning. */
static void test_wrong_server_name_refused_insecure_warned(void)
{
        struct smx_config cfg = tls_config("wrongname");
        cfg.store.server_name = "other.example";
        smx_client *c = rt_client(&cfg);
        CHECK(c != NULL);
        if (!c)
                return;
        CHECK_EQ(rt_wait_store(c, "tls_failures", 1, 10000), 1);
        CHECK_EQ(rt_store_num(c, "connected"), 0);
        char why[64];
        store_str(c, "tls_error", why, sizeof why);
        CHECK(!strcmp(why, "tls: certificate is for another host"));
        CHECK(rt_log_has("expected name other.example"));
        smx_client_destroy(c);

        cfg.store.server_name = NULL;
        cfg.store.instance = "insecure";
        cfg.store.ca_file = other_ca.pem;
        cfg.store.insecure = 1;
        c = rt_client(&cfg);
        CHECK(c != NULL);
        if (!c)
                return;
        CHECK_EQ(rt_wait_store(c, "connected", 1, 10000), 1);
        CHECK(rt_log_has("tls: insecure: Redis's certificate and host name are NOT verified"));
        CHECK(rt_log_has("NOT verified (insecure)"));
        smx_client_destroy(c);
}

/* A port that accepts TCP and never answers the ClientHello: each
 * handshake gives up after timeout_ms, counted, and the store thread keeps
 * retrying with its backoff instead of hanging. */
static void test_silent_peer_handshake_bounded_by_timeout(void)
{
        int lfd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t al = sizeof a;
        CHECK(lfd >= 0 && bind(lfd, (struct sockaddr *)&a, sizeof a) == 0 &&
              listen(lfd, 16) == 0 && getsockname(lfd, (struct sockaddr *)&a, &al) == 0);
        char url[64];
        snprintf(url, sizeof url, "rediss://127.0.0.1:%d/0", ntohs(a.sin_port));
        struct smx_config cfg = tls_config("silent");
        cfg.store.url = url;
        cfg.store.timeout_ms = 300;
        smx_client *c = rt_client(&cfg);
        CHECK(c != NULL);
        if (c) {
                /* >= 3 attempts of 300 ms each plus the 100/200/400 ms backoff */
                CHECK_EQ(rt_wait_store(c, "tls_failures", 3, 15000), 1);
                CHECK_EQ(rt_store_num(c, "connected"), 0);
                char why[64];
                store_str(c, "tls_error", why, sizeof why);
                CHECK(!strcmp(why, "tls: handshake timed out"));
                CHECK(rt_log_has("tls: handshake timed out (300 ms"));
                smx_client_destroy(c);          /* returns: the thread was not stuck */
        }
        close(lfd);
}

static void test_bad_tls_settings_refused_at_create(void)
{
        struct smx_config cfg = tls_config("bad");
        smx_client *c = NULL;
        char err[256] = "";
        cfg.store.key_file = other_ca.keyfile;          /* not the certificate's key */
        CHECK_EQ(smx_client_create(&cfg, &c, err, sizeof err), SMX_EINVAL);
        printf("# %s\n", err);
        CHECK(strstr(err, "does not match") != NULL);
        cfg.store.key_file = client.keyfile;
        cfg.store.ca_file = "/nonexistent/ca.pem";
        CHECK_EQ(smx_client_create(&cfg, &c, err, sizeof err), SMX_EINVAL);
        CHECK(strstr(err, "/nonexistent/ca.pem") != NULL);
        /* TLS keys with a plain URL: a mistake, not silently plain */
        cfg.store.ca_file = ca.pem;
        cfg.store.url = R.url;
        CHECK_EQ(smx_client_create(&cfg, &c, err, sizeof err), SMX_EINVAL);
        CHECK(strstr(err, "rediss://") != NULL);
        /* key contents never in the error */
        CHECK(!strstr(err, "PRIVATE KEY"));
        CHECK(!rt_log_has("PRIVATE KEY"));
}

static int start_pair(void)
{
        struct smx_config cfg = tls_config("a");
        cfg.dr_park_timeout_ms = 20000;
        cfg.store.local_after_ms = 60000;
        cfg.store.owner_takeover_ms = 60000;
        /* a: user and password keys, the host checked as 127.0.0.1 (SAN IP) */
        snprintf(A->name, sizeof A->name, "a");
        cfg.store.user = "smx";
        cfg.store.password = PW;
        A->c = rt_client(&cfg);
        /* b: user:password in the URL, name verified as "localhost" */
        snprintf(B->name, sizeof B->name, "b");
        cfg.store.url = url_creds;
        cfg.store.instance = "b";
        cfg.store.user = cfg.store.password = NULL;
        cfg.store.server_name = "localhost";
        B->c = rt_client(&cfg);
        return A->c && B->c && wait_active(A->c) && wait_active(B->c) &&
               rt_wait_store(A->c, "connected", 1, 10000) && rt_wait_store(B->c, "connected", 1, 10000);
}

static void test_drs_cross_two_instances_over_mutual_tls_as_acl_user(void)
{
        CHECK_EQ(start_pair(), 1);
        if (!A->c || !B->c)
                return;
        /* Redis knows them as the ACL user, over TLS */
        CHECK(clients_with("user=smx") >= 2);
        it_sim_ctl(&E, "set all other_site_prob 0.5");
        it_sim_ctl(&E, "set all dr_before_resp_prob 0.3");
        it_sim_ctl(&E, "set all dr_accepted_prob 0");
        it_sim_ctl(&E, "set all dr_delay_ms 20-200");
        double dr0 = sim_total("dr_sent");
        uint64_t ev0 = drs(A) + drs(B);
        uint64_t sub = rt_submit_n(A, 60, "tls a") + rt_submit_n(B, 60, "tls b");
        CHECK_EQ(sub, 120);
        double want = settle(120, dr0, ev0, 120);
        printf("# DRs sent %.0f, at a %llu, at b %llu\n", want, (unsigned long long)drs(A),
               (unsigned long long)drs(B));
        CHECK_EQ(A->submitted + B->submitted, 120);
        CHECK_EQ(want, 120);
        CHECK_EQ(drs(A), 60);
        CHECK_EQ(drs(B), 60);
        CHECK_EQ(A->foreign_drs + B->foreign_drs, 0);
        CHECK_EQ(A->uncorrelated + B->uncorrelated, 0);
        CHECK_EQ(dups(A) + dups(B), 0);
        CHECK(rt_store_num(A->c, "drs_routed") + rt_store_num(B->c, "drs_routed") >= 120);
        /* stats: the session's version and cipher */
        char v[32], ciph[80];
        store_str(A->c, "tls_version", v, sizeof v);
        store_str(A->c, "tls_cipher", ciph, sizeof ciph);
        printf("# store TLS: %s %s\n", v, ciph);
        CHECK(!strcmp(v, "TLSv1.3"));
        CHECK(ciph[0] != 0);
        CHECK_EQ(rt_store_num(A->c, "tls_handshakes"), 1);
        CHECK_EQ(rt_store_num(A->c, "tls_failures"), 0);
        /* the read connection: a TLS session of its own, same user */
        CHECK_EQ(rt_store_num(A->c, "read_connected"), 1);
        CHECK_EQ(rt_store_num(A->c, "read_connects"), 1);
        CHECK(rt_store_num(A->c, "reads") >= 1);
        CHECK(clients_with("user=smx") >= 4);  /* both instances' two connections */
        char *txt = NULL;
        CHECK_EQ(smx_stats_render(B->c, SMX_STATS_PROMETHEUS, &txt, NULL), 0);
        CHECK(txt && strstr(txt, "smsmux_store_tls_info{version=\"TLSv1.3\",cipher=\""));
        free(txt);
        txt = NULL;
        CHECK_EQ(smx_stats_render(B->c, SMX_STATS_TABLE, &txt, NULL), 0);
        CHECK(txt && strstr(txt, ", TLS TLSv1.3 "));
        free(txt);
        CHECK(rt_log_has("store rediss://127.0.0.1:"));
        CHECK(!rt_log_has(PW));
}

static void test_redis_restarted_mid_run_reconnects_over_tls(void)
{
        if (!A->c || !B->c)
                return;
        /* a TLS connection set up = one handshake (tls_handshakes) */
        long long conn_a = rt_store_num(A->c, "tls_handshakes"), conn_b = rt_store_num(B->c, "tls_handshakes");
        CHECK_EQ(conn_a, 1);
        CHECK_EQ(conn_b, 1);
        double dr0 = sim_total("dr_sent");
        uint64_t out0 = A->outcomes + B->outcomes, drs_a = drs(A), drs_b = drs(B);
        uint64_t ka = A->next_k, kb = B->next_k;
        size_t eva = A->n_drs, evb = B->n_drs;
        pthread_mutex_lock(&rt_logmu);
        size_t log0 = rt_loglen;
        pthread_mutex_unlock(&rt_logmu);
        uint64_t sub = rt_submit_n(A, 20, "before restart") + rt_submit_n(B, 20, "before restart");
        rtest_redis_kill(&R, SIGKILL);
        /* Redis away: MTs keep flowing */
        sub += rt_submit_n(A, 20, "while away") + rt_submit_n(B, 20, "while away");
        uint64_t end = it_now_ms() + 20000;
        while (it_now_ms() < end && A->outcomes + B->outcomes - out0 < sub) {
                rt_pump_all();
                it_sleep_ms(5);
        }
        CHECK_EQ(A->outcomes + B->outcomes - out0, sub);
        CHECK(rt_wait_store(A->c, "disconnects", 1, 5000));
        CHECK_EQ(rt_store_num(A->c, "connected"), 0);
        CHECK_EQ(tls_redis_spawn(), 0);
        /* each reconnects with a new handshake */
        CHECK_EQ(rt_wait_store(A->c, "tls_handshakes", conn_a + 1, 15000), 1);
        CHECK_EQ(rt_wait_store(B->c, "tls_handshakes", conn_b + 1, 15000), 1);
        CHECK_EQ(rt_store_num(A->c, "connected"), 1);
        CHECK_EQ(rt_store_num(B->c, "connected"), 1);
        CHECK_EQ(rt_store_num(A->c, "tls_failures"), 0);
        if (rt_store_num(A->c, "tls_failures") || rt_store_num(B->c, "tls_failures"))
                print_log_since(log0, "store ");
        sub += rt_submit_n(A, 20, "after restart") + rt_submit_n(B, 20, "after restart");
        CHECK_EQ(sub, 120);
        double want = settle(out0 + sub, dr0, drs_a + drs_b, 120);
        printf("# restart: DRs sent %.0f, at a %llu, at b %llu, handshakes a %lld b %lld\n",
               want, (unsigned long long)(drs(A) - drs_a), (unsigned long long)(drs(B) - drs_b),
               rt_store_num(A->c, "tls_handshakes"), rt_store_num(B->c, "tls_handshakes"));
        CHECK_EQ(drs(A) - drs_a, 60);
        CHECK_EQ(drs(B) - drs_b, 60);
        CHECK_EQ(A->foreign_drs + B->foreign_drs, 0);
        CHECK_EQ(A->uncorrelated + B->uncorrelated, 0);
        CHECK_EQ(dups(A) + dups(B), 0);
        if (drs(A) - drs_a != 60 || drs(B) - drs_b != 60 || dups(A) + dups(B) ||
            A->uncorrelated + B->uncorrelated) {
                dump_missing(A, ka, A->next_k, eva);
                dump_missing(B, kb, B->next_k, evb);
        }
        CHECK(rt_log_has("connected after"));
        CHECK(!rt_log_has(PW));
}

int main(void)
{
        if (!rtest_have_redis())
                return 0;
        smx_log_configure(SMX_LOG_INFO, rt_log_capture, NULL);
        if (rtest_redis_dir(&R, 1, "smx-redis-tls") < 0) {
                printf("Bail out! mkdtemp\n");
                return 1;
        }
        snprintf(certdir, sizeof certdir, "%s", R.dir);
        const char *san = "DNS:localhost,IP:127.0.0.1";
        if (tc_make(certdir, "ca", "test CA", NULL, -3600, 86400, NULL, &ca) < 0 ||
            tc_make(certdir, "other_ca", "other CA", NULL, -3600, 86400, NULL, &other_ca) < 0 ||
            tc_make(certdir, "server", "localhost", san, -3600, 86400, &ca, &server) < 0 ||
            tc_make(certdir, "client", "smsmux", NULL, -3600, 86400, &ca, &client) < 0) {
                printf("Bail out! certificates\n");
                return 1;
        }
        int up = -1;
        for (int tries = 0; tries < 5 && up != 0; tries++) {
                tls_port = free_port();
                up = tls_port > 0 ? tls_redis_spawn() : -1;
        }
        if (up != 0 || it_sim_start(&E, "dc3,bos", 1, 1.0) != 0) {
                printf("Bail out! redis-server (TLS) or smsc-sim did not start\n");
                rtest_redis_stop(&R);
                return 1;
        }
        it_sim_ctl(&E, "set all dr_delay_ms 20-100");
        it_sim_ctl(&E, "set all deliver_max_sends 1000");       /* re-sent while Redis is away */
        rt_n = 2;
        snprintf(url_plain, sizeof url_plain, "rediss://127.0.0.1:%d/0", tls_port);
        snprintf(url_creds, sizeof url_creds, "rediss://smx:%s@127.0.0.1:%d/0", PW, tls_port);
        if (!rtest_redis_ok(&R, "PING")) {
                printf("Bail out! redis-server does not answer\n");
                return 1;
        }
        RUN(test_bad_tls_settings_refused_at_create);
        RUN(test_wrong_ca_never_connects_clear_error_mts_flow);
        RUN(test_redis_requires_client_certificate);
        RUN(test_wrong_server_name_refused_insecure_warned);
        RUN(test_silent_peer_handshake_bounded_by_timeout);
        RUN(test_drs_cross_two_instances_over_mutual_tls_as_acl_user);
        RUN(test_redis_restarted_mid_run_reconnects_over_tls);
        if (A->c)
                smx_client_destroy(A->c);
        if (B->c)
                smx_client_destroy(B->c);
        E.c = NULL;
        it_stop(&E);
        rtest_redis_stop(&R);
        struct tc_cert *all[] = { &ca, &other_ca, &server, &client };
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
                tc_free(all[i]);
        return t_done();
}
