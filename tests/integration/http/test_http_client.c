/* The HTTP transport through the public API: smx_submit, smx_events_poll,
 * the same outcome and event rules as SMPP. Against smsc-sim's SMPP engine
 * and its HTTP side in-process: MTs over HTTP (strategy B) with DRs pushed to
 * the receiver and correlated to their MTs, MOs exactly once although the
 * service pushes each twice, transport both switching to HTTP when no SMPP
 * bind is ACTIVE, and DRs that cross transports (an HTTP MT's DR on an SMPP
 * bind, an SMPP MT's DR over HTTP). */
#include <pthread.h>
#include <sys/resource.h>

#include "http_sim.h"
#include "http_tlib.h"
#include "sim.h"
#include "smsmux.h"
#include "testlib.h"

#define N_MAX 4000

struct env {
        struct smsc_sim *smpp;
        struct http_sim *http;
        struct sim_smsc_info info[8];
        struct smx_smsc_config smsc[8];
        size_t n_smsc;
        char url[2][96];
        smx_client *c;
        /* per MT "m-<n>" */
        int outcomes[N_MAX], drs[N_MAX], submitted_http[N_MAX];
        char msgid[N_MAX][65];
        uint64_t uncorrelated, mos, dr_events, dr_http, dr_smpp;
        char mo_seen[2000];
        uint64_t mo_dups;
};

static int env_start(struct env *e, int with_smpp, double dr_via_smpp, double smpp_dr_via_http)
{
        memset(e, 0, sizeof *e);
        char err[256];
        if (with_smpp) {
                struct sim_options o;
                sim_options_init(&o);
                o.sites = "dc3,bos";
                o.smscs_per_site = 1;
                o.port_base = 0;
                o.seed = 7;
                if (sim_start(&o, &e->smpp, err, sizeof err) < 0) {
                        printf("# %s\n", err);
                        return -1;
                }
                char r[256];
                sim_ctl(e->smpp, "set sim rebind_interval 1", r, sizeof r);
                e->n_smsc = sim_smscs(e->smpp, e->info, 8);
                for (size_t i = 0; i < e->n_smsc; i++)
                        e->smsc[i] = (struct smx_smsc_config){ .name = e->info[i].name,
                                .site = e->info[i].site, .host = e->info[i].host,
                                .port = e->info[i].port };
        }
        struct http_sim_options ho;
        http_sim_options_init(&ho);
        ho.smpp = e->smpp;
        ho.dr_via_smpp = dr_via_smpp;
        ho.smpp_dr_via_http = smpp_dr_via_http;
        if (http_sim_start(&ho, &e->http, err, sizeof err) < 0) {
                printf("# %s\n", err);
                return -1;
        }
        for (int i = 0; i < 2; i++)
                t_sim_site_url(e->http, (size_t)i, e->url[i], sizeof e->url[i]);
        return 0;
}

static uint32_t event_capacity = 65536;

static int env_client(struct env *e, enum smx_transport t)
{
        struct smx_http_config hc;
        smx_http_config_init(&hc);
        hc.transport = t;
        hc.urls[0] = e->url[0];
        hc.urls[1] = e->url[1];
        hc.n_urls = 2;
        hc.resubmit_pause_ms = 500;
        hc.receiver = "127.0.0.1:0";
        struct smx_config cfg;
        smx_config_init(&cfg);
        cfg.smscs = e->n_smsc ? e->smsc : NULL;
        cfg.n_smscs = e->n_smsc;
        cfg.http = &hc;
        cfg.workers = 2;
        cfg.pin_workers = 0;
        cfg.rebind_interval_ms = 1000;
        cfg.rebind_jitter_ms = 100;
        cfg.event_capacity = event_capacity;
        char err[256];
        if (smx_client_create(&cfg, &e->c, err, sizeof err) < 0) {
                printf("# create: %s\n", err);
                return -1;
        }
        if (smx_client_start(e->c) < 0)
                return -1;
        struct smx_http_stats st;
        smx_client_http_stats(e->c, &st);
        char cmd[128], r[256];
        snprintf(cmd, sizeof cmd, "http receiver http://127.0.0.1:%u/httpapi/receiver", st.receiver_port);
        return http_sim_ctl(e->http, cmd, r, sizeof r);
}

static void env_stop(struct env *e)
{
        if (e->c) {
                smx_client_drain(e->c, 5000);
                smx_client_destroy(e->c);
        }
        if (e->http)
                http_sim_stop(e->http);
        if (e->smpp)
                sim_stop(e->smpp);
}

static int submit(struct env *e, int k, int want_dr)
{
        char id[32];
        snprintf(id, sizeof id, "m-%d", k);
        struct smx_mt mt = { .id = id, .from = "12345", .to = "447700900001",
                             .text = "hello over http \xF0\x9F\x98\x80", .want_dr = want_dr };
        int rc;
        while ((rc = smx_submit(e->c, &mt)) == SMX_EAGAIN)
                t_sleep_ms(1);
        return rc;
}

static void pump(struct env *e, unsigned ms)
{
        struct smx_event ev[128];
        uint64_t end = t_now_ms() + ms;
        while (t_now_ms() < end) {
                size_t n = smx_events_poll(e->c, ev, 128);
                for (size_t i = 0; i < n; i++) {
                        const struct smx_event *x = &ev[i];
                        int k = x->id && !strncmp(x->id, "m-", 2) ? atoi(x->id + 2) : -1;
                        if (x->type == SMX_EV_SUBMITTED || x->type == SMX_EV_FAILED) {
                                if (k >= 0 && k < N_MAX) {
                                        e->outcomes[k]++;
                                        if (x->type == SMX_EV_SUBMITTED && !strcmp(x->smsc, "http")) {
                                                e->submitted_http[k] = 1;
                                                snprintf(e->msgid[k], 65, "%s", x->message_id ? x->message_id : "");
                                        }
                                }
                        } else if (x->type == SMX_EV_DR) {
                                e->dr_events++;
                                if (!strcmp(x->smsc, "http"))
                                        e->dr_http++;
                                else
                                        e->dr_smpp++;
                                if (k >= 0 && k < N_MAX)
                                        e->drs[k]++;
                                else
                                        e->uncorrelated++;
                        } else if (x->type == SMX_EV_MO) {
                                e->mos++;
                                int mk = x->text && !strncmp(x->text, "mo text ", 8) ? atoi(x->text + 8) : -1;
                                if (mk > 0 && mk < 2000) {
                                        if (e->mo_seen[mk])
                                                e->mo_dups++;
                                        e->mo_seen[mk] = 1;
                                }
                        }
                }
                if (!n)
                        t_sleep_ms(2);
        }
}

static int count(const int *a, int n, int v)
{
        int k = 0;
        for (int i = 0; i < n; i++)
                k += a[i] == v;
        return k;
}

static void test_client_http_mts_one_outcome_each_and_drs_correlated(void)
{
        static struct env e;
        CHECK_EQ(env_start(&e, 0, 0, 0), 0);
        CHECK_EQ(env_client(&e, SMX_TRANSPORT_HTTP), 0);
        enum { N = 300 };
        for (int k = 0; k < N; k++)
                CHECK_EQ(submit(&e, k, 1), 0);
        pump(&e, 3000);
        CHECK_EQ(count(e.outcomes, N, 1), N);
        CHECK_EQ(count(e.submitted_http, N, 1), N);
        CHECK_EQ(strlen(e.msgid[0]), 32);
        CHECK_EQ(count(e.drs, N, 1), N);          /* each DR once, with its MT's id */
        CHECK_EQ(e.uncorrelated, 0);
        CHECK_EQ(e.dr_http, N);
        struct http_sim_counts sc;
        http_sim_counts(e.http, &sc);
        CHECK_EQ(sc.handset_delivered, N);
        CHECK(sc.sources_used >= 2);
        struct http_sim_seen seen;
        CHECK_EQ(http_sim_seen(e.http, e.msgid[N - 1], &seen), 0);
        CHECK_STR(seen.message, "hello over http \xF0\x9F\x98\x80");
        CHECK_STR(seen.receipt, "TRUE");
        CHECK_EQ(smx_client_in_flight(e.c), 0);
        env_stop(&e);
}

static void test_client_mos_reach_the_app_once_although_pushed_twice(void)
{
        static struct env e;
        CHECK_EQ(env_start(&e, 0, 0, 0), 0);
        CHECK_EQ(env_client(&e, SMX_TRANSPORT_HTTP), 0);
        char r[256];
        http_sim_ctl(e.http, "http dup-push on", r, sizeof r);
        http_sim_ctl(e.http, "http mo 200", r, sizeof r);
        pump(&e, 2500);
        CHECK_EQ(e.mos, 200);
        CHECK_EQ(e.mo_dups, 0);
        struct http_sim_counts sc;
        http_sim_counts(e.http, &sc);
        CHECK_EQ(sc.mo_pushed, 400);
        CHECK_EQ(sc.mo_acked, 400);
        struct smx_http_stats st;
        smx_client_http_stats(e.c, &st);
        CHECK_EQ(st.rx_delivered, 200);
        CHECK_EQ(st.rx_duplicates, 200);
        env_stop(&e);
}

static void test_client_strategy_b_failover_keeps_one_outcome_per_mt(void)
{
        static struct env e;
        CHECK_EQ(env_start(&e, 0, 0, 0), 0);
        CHECK_EQ(env_client(&e, SMX_TRANSPORT_HTTP), 0);
        char r[256];
        enum { N = 400 };
        for (int k = 0; k < N / 2; k++)
                submit(&e, k, 0);
        pump(&e, 300);
        http_sim_ctl(e.http, "http down dc3 refuse", r, sizeof r);
        for (int k = N / 2; k < N; k++)
                submit(&e, k, 0);
        pump(&e, 3000);
        CHECK_EQ(count(e.outcomes, N, 1), N);
        struct smx_http_stats st;
        smx_client_http_stats(e.c, &st);
        CHECK_EQ(st.switches, 1);
        CHECK_EQ(st.current_url, 1);
        CHECK(st.resubmits >= 1);
        struct http_sim_counts sc;
        http_sim_counts(e.http, &sc);
        CHECK_EQ(sc.handset_delivered, N);
        CHECK_EQ(sc.handset_duplicates, 0);
        env_stop(&e);
}

static void test_client_both_uses_http_only_while_no_smpp_bind_is_active(void)
{
        static struct env e;
        CHECK_EQ(env_start(&e, 1, 0, 0), 0);
        CHECK_EQ(env_client(&e, SMX_TRANSPORT_BOTH), 0);
        pump(&e, 500);                     /* binds come up */
        enum { N = 200 };
        for (int k = 0; k < N; k++)
                submit(&e, k, 0);
        pump(&e, 1000);
        CHECK_EQ(count(e.outcomes, N, 1), N);
        CHECK_EQ(count(e.submitted_http, N, 1), 0);   /* SMPP carried them all */
        char r[256];
        sim_ctl(e.smpp, "kill smsc1.dc3", r, sizeof r);
        sim_ctl(e.smpp, "kill smsc1.bos", r, sizeof r);
        pump(&e, 500);
        for (int k = N; k < 2 * N; k++)
                submit(&e, k, 0);
        pump(&e, 1500);
        CHECK_EQ(count(e.outcomes, 2 * N, 1), 2 * N);
        int via_http = 0;
        for (int k = N; k < 2 * N; k++)
                via_http += e.submitted_http[k];
        CHECK_EQ(via_http, N);
        /* with an SMPP bind configured smx_submit pre-encodes these MTs'
         * submit_sm bodies (src/core/mt_pre.h): the HTTP transport reads
         * their addresses and text back out of the slot's body */
        for (int k = N; k < 2 * N; k += 37) {
                struct http_sim_seen seen;
                CHECK_EQ(http_sim_seen(e.http, e.msgid[k], &seen), 0);
                CHECK_STR(seen.phone_number, "447700900001");
                CHECK_STR(seen.sender, "12345");
                CHECK_STR(seen.message, "hello over http \xF0\x9F\x98\x80");
        }
        env_stop(&e);
}

static void test_client_http_mt_drs_cross_to_smpp_binds(void)
{
        static struct env e;
        CHECK_EQ(env_start(&e, 1, 0.5, 0), 0);
        CHECK_EQ(env_client(&e, SMX_TRANSPORT_HTTP), 0);   /* SMSCs bind for DRs/MOs */
        pump(&e, 500);
        enum { N = 300 };
        for (int k = 0; k < N; k++)
                submit(&e, k, 1);
        pump(&e, 3000);
        CHECK_EQ(count(e.outcomes, N, 1), N);
        CHECK_EQ(count(e.submitted_http, N, 1), N);
        CHECK_EQ(count(e.drs, N, 1), N);
        CHECK_EQ(e.uncorrelated, 0);
        printf("# DRs of HTTP MTs: %llu over HTTP, %llu over SMPP binds\n",
               (unsigned long long)e.dr_http, (unsigned long long)e.dr_smpp);
        CHECK(e.dr_smpp > N / 4);
        CHECK(e.dr_http > N / 4);
        env_stop(&e);
}

static void test_client_smpp_mt_drs_cross_to_the_http_receiver(void)
{
        static struct env e;
        CHECK_EQ(env_start(&e, 1, 0, 0.5), 0);
        CHECK_EQ(env_client(&e, SMX_TRANSPORT_SMPP), 0);   /* MTs over SMPP, receiver on */
        pump(&e, 500);
        enum { N = 300 };
        for (int k = 0; k < N; k++)
                submit(&e, k, 1);
        pump(&e, 3000);
        CHECK_EQ(count(e.outcomes, N, 1), N);
        CHECK_EQ(count(e.submitted_http, N, 1), 0);
        CHECK_EQ(count(e.drs, N, 1), N);                   /* correlated once, whichever way */
        CHECK_EQ(e.uncorrelated, 0);
        printf("# DRs of SMPP MTs: %llu over SMPP binds, %llu over HTTP\n",
               (unsigned long long)e.dr_smpp, (unsigned long long)e.dr_http);
        CHECK(e.dr_http > N / 4);
        CHECK(e.dr_smpp > N / 4);
        env_stop(&e);
}

static void test_client_full_event_ring_answers_503_then_takes_every_mo_once(void)
{
        static struct env e;
        CHECK_EQ(env_start(&e, 0, 0, 0), 0);
        event_capacity = 128;
        CHECK_EQ(env_client(&e, SMX_TRANSPORT_HTTP), 0);
        event_capacity = 65536;
        char r[256];
        http_sim_ctl(e.http, "http mo 400", r, sizeof r);
        t_sleep_ms(1000);                  /* the application does not poll: the ring fills */
        struct smx_http_stats st;
        smx_client_http_stats(e.c, &st);
        CHECK(st.rx_busy > 0);
        CHECK(st.rx_delivered <= 128);
        pump(&e, 4000);                    /* now it polls: the service's retries get in */
        CHECK_EQ(e.mos, 400);
        CHECK_EQ(e.mo_dups, 0);
        smx_client_http_stats(e.c, &st);
        CHECK_EQ(st.rx_delivered, 400);
        struct http_sim_counts sc;
        http_sim_counts(e.http, &sc);
        CHECK_EQ(sc.mo_acked, 400);
        CHECK(sc.push_failures > 0);       /* the 503s were retried */
        printf("# ring of 128: %llu answers 503, all 400 MOs delivered once\n",
               (unsigned long long)st.rx_busy);
        env_stop(&e);
}

/* A one-worker client (pinned to no CPU) on the HTTP transport sending to
 * url alone, with defaults otherwise; hc is the config cfg points to. */
static void http_only_config(struct smx_http_config *hc, struct smx_config *cfg, const char *url)
{
        smx_http_config_init(hc);
        hc->transport = SMX_TRANSPORT_HTTP;
        hc->urls[0] = url;
        hc->n_urls = 1;
        smx_config_init(cfg);
        cfg->http = hc;
        cfg->workers = 1;
        cfg->pin_workers = 0;
}

static void test_client_http_with_no_usable_address_fails_no_route(void)
{
        /* strategy A, the name never resolves (a DNS server that is not there) */
        struct smx_http_config hc;
        struct smx_config cfg;
        http_only_config(&hc, &cfg, "http://smsc-api.invalid.test:8080/httpapi/receiver");
        hc.dns_server = "127.0.0.1:9";
        hc.dns_grace_ms = 100;
        cfg.no_route_timeout_ms = 500;
        static struct env e;
        memset(&e, 0, sizeof e);
        char err[256];
        CHECK_EQ(smx_client_create(&cfg, &e.c, err, sizeof err), 0);
        CHECK_EQ(smx_client_start(e.c), 0);
        for (int k = 0; k < 20; k++)
                submit(&e, k, 0);
        uint64_t t0 = t_now_ms();
        struct smx_event ev[64];
        int failed = 0, no_route = 0;
        while (failed < 20 && t_now_ms() - t0 < 5000) {
                size_t n = smx_events_poll(e.c, ev, 64);
                for (size_t i = 0; i < n; i++)
                        if (ev[i].type == SMX_EV_FAILED) {
                                failed++;
                                no_route += ev[i].reason == SMX_FAIL_NO_ROUTE;
                        }
                if (!n)
                        t_sleep_ms(5);
        }
        CHECK_EQ(failed, 20);
        CHECK_EQ(no_route, 20);
        CHECK(t_now_ms() - t0 >= 400);
        struct smx_http_stats st;
        smx_client_http_stats(e.c, &st);
        CHECK(st.dns_failures >= 1);
        CHECK_EQ(st.dns_state, 0);
        smx_client_destroy(e.c);
}

/* A client with only the receiver's knobs set: max_request_s 1 s, body
 * limit 1024. A POST declaring more than the limit is answered 413 and a
 * body still trickling in after 1 s closes the connection; both are counted
 * in smx_client_http_stats. */
static void test_client_receiver_limits_are_set_and_counted(void)
{
        struct smx_http_config hc;
        struct smx_config cfg;
        http_only_config(&hc, &cfg, "http://127.0.0.1:9/httpapi/receiver");
        CHECK_EQ(hc.receiver_max_request_s, 30);
        hc.receiver = "127.0.0.1:0";
        hc.receiver_max_body = 1024;
        hc.receiver_max_request_s = 1;
        smx_client *c = NULL;
        char err[256];
        CHECK_EQ(smx_client_create(&cfg, &c, err, sizeof err), 0);
        if (!c)
                return;
        CHECK_EQ(smx_client_start(c), 0);
        struct smx_http_stats st;
        smx_client_http_stats(c, &st);
        static const char big[] = "POST /httpapi/receiver HTTP/1.1\r\nHost: x\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1025\r\n\r\n";
        CHECK_EQ(t_raw(st.receiver_port, NULL, big, sizeof big - 1, 2000), 413);
        int fd = t_connect(NULL, NULL, st.receiver_port);
        CHECK(fd >= 0);
        static const char slow[] = "POST /httpapi/receiver HTTP/1.1\r\nHost: x\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\n"
                "type=MO&";
        CHECK(send(fd, slow, sizeof slow - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof slow - 1));
        t_sleep_ms(1300);
        ssize_t w = send(fd, "message_id=1&", 13, MSG_NOSIGNAL);
        (void)w;
        char buf[512];
        CHECK_EQ(t_read_all(fd, buf, sizeof buf, 3000), 0);   /* closed, no answer */
        close(fd);
        smx_client_http_stats(c, &st);
        CHECK_EQ(st.rx_too_large, 1);
        CHECK_EQ(st.rx_too_slow, 1);
        CHECK_EQ(st.rx_delivered, 0);
        smx_client_destroy(c);
}

static double cpu_s(void)
{
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
               (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* transport http with SMSCs bound (for DRs/MOs) and MTs waiting in ingress
 * for the HTTP side (every URL refusing, MTs paused): the workers must sleep,
 * not spin over MTs they may not take. */
static void test_client_workers_idle_while_mts_wait_for_http(void)
{
        static struct env e;
        CHECK_EQ(env_start(&e, 1, 0, 0), 0);
        char r[256];
        http_sim_ctl(e.http, "http down dc3 refuse", r, sizeof r);
        http_sim_ctl(e.http, "http down bos refuse", r, sizeof r);
        CHECK_EQ(env_client(&e, SMX_TRANSPORT_HTTP), 0);
        pump(&e, 500);                              /* binds up */
        for (int k = 0; k < 1000; k++)              /* > max_in_flight: some stay in ingress */
                submit(&e, k, 0);
        t_sleep_ms(200);
        double c0 = cpu_s();
        t_sleep_ms(1000);
        double used = cpu_s() - c0;
        printf("# CPU while MTs wait for HTTP: %.2f s in 1 s\n", used);
        CHECK(used < 0.5);
        http_sim_ctl(e.http, "http up bos", r, sizeof r);
        pump(&e, 4000);
        CHECK_EQ(count(e.outcomes, 1000, 1), 1000);
        env_stop(&e);
}

static void test_sim_control_forwards_http_commands(void)
{
        static struct env e;
        CHECK_EQ(env_start(&e, 1, 0, 0), 0);
        char r[4096];
        CHECK_EQ(sim_ctl(e.smpp, "http down dc3 refuse", r, sizeof r), 0);
        CHECK_EQ(t_post(e.url[0], NULL, "x=1", NULL), -1);
        CHECK_EQ(sim_ctl(e.smpp, "http up dc3", r, sizeof r), 0);
        CHECK_EQ(t_post(e.url[0], NULL, "message_id=1", NULL), 400);
        CHECK_EQ(sim_ctl(e.smpp, "http summary", r, sizeof r), 0);
        CHECK(strstr(r, "\"handset_delivered\"") != NULL);
        CHECK(sim_ctl(e.smpp, "http bogus", r, sizeof r) < 0);
        env_stop(&e);
}

int main(void)
{
        curl_global_init(CURL_GLOBAL_DEFAULT);
        RUN(test_client_http_mts_one_outcome_each_and_drs_correlated);
        RUN(test_client_mos_reach_the_app_once_although_pushed_twice);
        RUN(test_client_strategy_b_failover_keeps_one_outcome_per_mt);
        RUN(test_client_both_uses_http_only_while_no_smpp_bind_is_active);
        RUN(test_client_http_mt_drs_cross_to_smpp_binds);
        RUN(test_client_smpp_mt_drs_cross_to_the_http_receiver);
        RUN(test_client_full_event_ring_answers_503_then_takes_every_mo_once);
        RUN(test_client_http_with_no_usable_address_fails_no_route);
        RUN(test_client_receiver_limits_are_set_and_counted);
        RUN(test_client_workers_idle_while_mts_wait_for_http);
        RUN(test_sim_control_forwards_http_commands);
        return t_done();
}
