/* The HTTP transport's receiver with a shared store: three instances of one
 * cluster in one process, a real redis-server (started here on a unix
 * socket), smsc-sim's SMPP engine and its HTTP side, which pushes every DR
 * and MO to the three instances' receivers in turn (a load balancer in
 * front of them: each push attempt goes to the next receiver, so a copy the
 * service re-sends lands on another instance).
 *   a: transport http (its MTs go over the HTTP API), receiver on;
 *   b, c: transport smpp, receivers on; all three bound to every SMSC.
 * What it proves:
 *   - an HTTP MT's DR pushed to any instance's receiver reaches a alone,
 *     correlated, once, also when the DR arrives before a has the MT's
 *     answer (the service answers late: the DR parks in Redis) and when the
 *     service pushes every DR twice (shared dedup);
 *   - an SMPP MT's DR pushed over HTTP (some before the submit_sm_resp)
 *     reaches its owner b once, correlated;
 *   - an MO pushed twice, to two instances, is delivered once overall, with
 *     its text, from the HTTP transport;
 *   - Redis paused: the receivers answer 503 after hold_ms (the service
 *     re-sends), nothing is delivered twice or lost once Redis is back;
 *   - an instance stopped while its receiver holds deferred answers stops
 *     (after answering them 503) and the re-sends reach the others, once. */
#include "../core/itest.h"
#include "http_sim.h"
#include "rtest.h"

#define N_INST 3
#define MAX_EV 4096

struct inst {
        char name[8];
        smx_client *c;
        struct smx_config cfg;
        struct smx_http_config hc;
        uint64_t outcomes, submitted, next_k;
        uint64_t foreign_drs, uncorrelated, drs_http;
        char dr_ids[MAX_EV][SMX_ID_MAX + 1];
        size_t n_drs;
        char mo_text[MAX_EV][64];
        uint64_t mos_not_http;
        size_t n_mos;
};

static struct it_env E;
static struct http_sim *H;
static struct rtest_redis R;
static struct inst I[N_INST];
static char cluster[32], http_urls[2][96];
static unsigned mo_serial;      /* the simulator's last MO number ("mo text N") */

static void pump_one(struct inst *in)
{
        struct smx_event ev[128];
        size_t n;
        if (!in->c)
                return;
        while ((n = smx_events_poll(in->c, ev, 128)) > 0) {
                for (size_t i = 0; i < n; i++) {
                        const struct smx_event *x = &ev[i];
                        if (x->type == SMX_EV_SUBMITTED || x->type == SMX_EV_FAILED) {
                                in->outcomes++;
                                in->submitted += x->type == SMX_EV_SUBMITTED;
                        } else if (x->type == SMX_EV_DR) {
                                if (!x->id) {
                                        in->uncorrelated++;
                                        continue;
                                }
                                if (strncmp(x->id, in->name, strlen(in->name)) ||
                                    x->id[strlen(in->name)] != '-')
                                        in->foreign_drs++;
                                in->drs_http += x->smsc && !strcmp(x->smsc, "http");
                                if (in->n_drs < MAX_EV)
                                        snprintf(in->dr_ids[in->n_drs++], SMX_ID_MAX + 1, "%s",
                                                 x->id);
                        } else if (x->type == SMX_EV_MO && in->n_mos < MAX_EV) {
                                size_t l = x->text_len < 63 ? x->text_len : 63;
                                memcpy(in->mo_text[in->n_mos], x->text, l);
                                in->mo_text[in->n_mos++][l] = 0;
                                in->mos_not_http += !x->smsc || strcmp(x->smsc, "http");
                        }
                }
        }
}

static void pump_all(void)
{
        for (int i = 0; i < N_INST; i++)
                pump_one(&I[i]);
}

static size_t total_drs(void)
{
        size_t n = 0;
        for (int i = 0; i < N_INST; i++)
                n += I[i].n_drs;
        return n;
}

static size_t total_mos(void)
{
        size_t n = 0;
        for (int i = 0; i < N_INST; i++)
                n += I[i].n_mos;
        return n;
}

static void reset_events(void)
{
        for (int i = 0; i < N_INST; i++) {
                I[i].n_drs = I[i].n_mos = 0;
                I[i].foreign_drs = I[i].uncorrelated = I[i].drs_http = I[i].mos_not_http = 0;
        }
}

/* Pump until `drs` DRs and `mos` MOs arrived in total, then `quiet_ms`
 * more so a duplicate would show. */
static int settle(size_t drs, size_t mos, unsigned timeout_ms, unsigned quiet_ms)
{
        uint64_t end = it_now_ms() + timeout_ms;
        int ok = 0;
        while (it_now_ms() < end) {
                pump_all();
                if (total_drs() >= drs && total_mos() >= mos) {
                        ok = 1;
                        break;
                }
                it_sleep_ms(5);
        }
        uint64_t q = it_now_ms() + quiet_ms;
        while (it_now_ms() < q) {
                pump_all();
                it_sleep_ms(5);
        }
        return ok;
}

/* How many times DR id appears across every instance. */
static unsigned dr_count(const char *id)
{
        unsigned n = 0;
        for (int i = 0; i < N_INST; i++)
                for (size_t j = 0; j < I[i].n_drs; j++)
                        n += !strcmp(I[i].dr_ids[j], id);
        return n;
}

static unsigned mo_count(const char *text)
{
        unsigned n = 0;
        for (int i = 0; i < N_INST; i++)
                for (size_t j = 0; j < I[i].n_mos; j++)
                        n += !strcmp(I[i].mo_text[j], text);
        return n;
}

/* A number of the store's JSON stats of instance i. */
static double store_stat(int i, const char *key)
{
        char *txt = NULL;
        double v = -1;
        if (smx_stats_render(I[i].c, SMX_STATS_JSON, &txt, NULL) == 0 && txt)
                v = it_json_num(txt, "\"store\"", key);
        free(txt);
        return v;
}

static double store_sum(const char *key)
{
        double s = 0;
        for (int i = 0; i < N_INST; i++)
                s += store_stat(i, key);
        return s;
}

static int inst_start(struct inst *in, const char *name, enum smx_transport t)
{
        snprintf(in->name, sizeof in->name, "%s", name);
        in->cfg = E.cfg;
        in->cfg.workers = 1;
        in->cfg.dr_park_timeout_ms = 20000;
        in->cfg.store.url = R.url;
        in->cfg.store.instance = in->name;
        in->cfg.store.cluster = cluster;
        in->cfg.store.hold_ms = 500;
        smx_http_config_init(&in->hc);
        in->hc.transport = t;
        if (t != SMX_TRANSPORT_SMPP) {
                in->hc.urls[0] = http_urls[0];
                in->hc.urls[1] = http_urls[1];
                in->hc.n_urls = 2;
        }
        in->hc.receiver = "127.0.0.1:0";
        in->cfg.http = &in->hc;
        char err[256] = "";
        int rc = smx_client_create(&in->cfg, &in->c, err, sizeof err);
        if (rc < 0) {
                printf("# smx_client_create %s: %s (%s)\n", name, smx_strerror(rc), err);
                return rc;
        }
        return smx_client_start(in->c);
}

static uint16_t rx_port(int i)
{
        struct smx_http_stats st;
        smx_client_http_stats(I[i].c, &st);
        return (uint16_t)st.receiver_port;
}

static struct smx_http_stats rx_stats(int i)
{
        struct smx_http_stats st;
        smx_client_http_stats(I[i].c, &st);
        return st;
}

static int all_active(void)
{
        uint64_t end = it_now_ms() + 15000;
        while (it_now_ms() < end) {
                pump_all();
                int ok = 1;
                for (int i = 0; i < N_INST; i++) {
                        struct smx_bind_stats st[IT_MAX_SMSC];
                        size_t n = smx_client_binds(I[i].c, st, IT_MAX_SMSC), a = 0;
                        for (size_t b = 0; b < n; b++)
                                a += st[b].health == SMX_HEALTH_ACTIVE;
                        ok &= a == E.n;
                }
                if (ok)
                        return 1;
                it_sleep_ms(10);
        }
        return 0;
}

static uint64_t submit_n(struct inst *in, unsigned n)
{
        uint64_t ok = 0;
        for (unsigned i = 0; i < n; i++) {
                char id[64];
                snprintf(id, sizeof id, "%s-%llu", in->name, (unsigned long long)in->next_k);
                struct smx_mt mt = { .id = id, .from = "12345", .to = "447700900001",
                                     .text = "shared store over http", .want_dr = 1 };
                int rc;
                while ((rc = smx_submit(in->c, &mt)) == SMX_EAGAIN) {
                        pump_all();
                        it_sleep_ms(1);
                }
                if (rc == 0) {
                        in->next_k++;
                        ok++;
                }
        }
        return ok;
}

static uint64_t await_outcomes(struct inst *in, uint64_t want)
{
        uint64_t end = it_now_ms() + 30000;
        while (it_now_ms() < end && in->outcomes < want) {
                pump_all();
                it_sleep_ms(5);
        }
        return in->outcomes;
}

static void hctl(const char *cmd)
{
        char r[512];
        if (http_sim_ctl(H, cmd, r, sizeof r) < 0)
                printf("# http sim: %s: %s\n", cmd, r);
}

/* Every DR of `in`'s MTs k0..k0+n-1 reached `in` once, nobody else. */
static void check_drs_once_at(struct inst *in, uint64_t k0, unsigned n)
{
        unsigned missing = 0, twice = 0;
        for (unsigned k = 0; k < n; k++) {
                char id[64];
                snprintf(id, sizeof id, "%s-%llu", in->name, (unsigned long long)(k0 + k));
                unsigned c = dr_count(id);
                missing += c == 0;
                twice += c > 1;
        }
        CHECK_EQ(missing, 0);
        CHECK_EQ(twice, 0);
        CHECK_EQ(in->n_drs, n);
        CHECK_EQ(in->foreign_drs, 0);
        for (int i = 0; i < N_INST; i++) {
                CHECK_EQ(I[i].uncorrelated, 0);
                if (&I[i] != in)
                        CHECK_EQ(I[i].n_drs, 0);
        }
}

#define N_HTTP 120

/* HTTP MTs from a; the service answers the first half 800 ms late (their
 * DRs are pushed before a has the answer: parked in Redis, routed when a's
 * correlation write comes) and pushes every DR twice, each copy to the next
 * receiver. */
static void test_http_mt_drs_reach_the_owner_once_from_any_receiver(void)
{
        struct inst *a = &I[0];
        reset_events();
        uint64_t k0 = a->next_k, out0 = a->outcomes;
        double parked0 = store_sum("parked"), dup0 = store_sum("duplicates");
        struct smx_http_stats b0 = rx_stats(1), c0 = rx_stats(2);
        hctl("http dup-push on");
        hctl("http late dc3 800");
        hctl("http late bos 800");
        CHECK_EQ(submit_n(a, N_HTTP / 2), N_HTTP / 2);
        CHECK_EQ(await_outcomes(a, out0 + N_HTTP / 2), out0 + N_HTTP / 2);
        hctl("http late dc3 0");
        hctl("http late bos 0");
        CHECK_EQ(submit_n(a, N_HTTP / 2), N_HTTP / 2);
        CHECK_EQ(await_outcomes(a, out0 + N_HTTP), out0 + N_HTTP);
        CHECK_EQ(a->submitted, a->outcomes);
        settle(N_HTTP, 0, 30000, 1500);
        hctl("http dup-push off");
        printf("# HTTP MTs' DRs: a %zu (over http %llu), b %zu, c %zu; parked %.0f, "
               "duplicates %.0f\n", a->n_drs, (unsigned long long)a->drs_http, I[1].n_drs,
               I[2].n_drs, store_sum("parked") - parked0, store_sum("duplicates") - dup0);
        check_drs_once_at(a, k0, N_HTTP);
        CHECK_EQ(a->drs_http, N_HTTP);
        CHECK(rx_stats(0).rx_deferred > 0);     /* answered once Redis had them */
        /* b's and c's receivers took some of them, and Redis parked the
         * early ones and recognised the second copies */
        struct smx_http_stats b1 = rx_stats(1), c1 = rx_stats(2);
        CHECK(b1.rx_delivered + b1.rx_duplicates - b0.rx_delivered - b0.rx_duplicates > 0);
        CHECK(c1.rx_delivered + c1.rx_duplicates - c0.rx_delivered - c0.rx_duplicates > 0);
        CHECK(store_sum("parked") - parked0 > 0);
        CHECK(store_sum("duplicates") - dup0 >= N_HTTP);
        struct http_sim_counts sc;
        http_sim_counts(H, &sc);
        CHECK_EQ(sc.dr_acked, sc.dr_pushed);
}

#define N_SMPP 120

/* SMPP MTs from b; the service pushes half of their DRs over HTTP to the
 * receivers in turn (some written before the submit_sm_resp), the rest on
 * an SMPP bind of any instance. */
static void test_smpp_mt_drs_pushed_over_http_reach_the_owner_once(void)
{
        struct inst *b = &I[1];
        reset_events();
        it_sim_ctl(&E, "set all dr_before_resp_prob 0.3");
        uint64_t k0 = b->next_k, out0 = b->outcomes;
        struct http_sim_counts s0, s1;
        http_sim_counts(H, &s0);
        CHECK_EQ(submit_n(b, N_SMPP), N_SMPP);
        CHECK_EQ(await_outcomes(b, out0 + N_SMPP), out0 + N_SMPP);
        settle(N_SMPP, 0, 30000, 1500);
        http_sim_counts(H, &s1);
        printf("# SMPP MTs' DRs: b %zu (over http %llu), a %zu, c %zu; service pushed %llu "
               "over http\n", b->n_drs, (unsigned long long)b->drs_http, I[0].n_drs, I[2].n_drs,
               (unsigned long long)(s1.smpp_dr_via_http - s0.smpp_dr_via_http));
        check_drs_once_at(b, k0, N_SMPP);
        CHECK(s1.smpp_dr_via_http - s0.smpp_dr_via_http > N_SMPP / 5);
        CHECK_EQ(b->drs_http, s1.smpp_dr_via_http - s0.smpp_dr_via_http);
        it_sim_ctl(&E, "set all dr_before_resp_prob 0");
}

/* MOs pushed twice each, the copies to different receivers: once overall. */
static void test_http_mo_pushed_to_two_instances_is_delivered_once(void)
{
        reset_events();
        struct http_sim_counts s0;
        http_sim_counts(H, &s0);
        unsigned k0 = mo_serial;
        hctl("http dup-push on");
        hctl("http mo 90");
        mo_serial += 90;
        settle(0, 90, 20000, 1500);
        hctl("http dup-push off");
        unsigned missing = 0, twice = 0;
        for (unsigned k = 1; k <= 90; k++) {
                char t[64];
                snprintf(t, sizeof t, "mo text %u", k0 + k);
                unsigned n = mo_count(t);
                missing += n == 0;
                twice += n > 1;
        }
        printf("# MOs: a %zu, b %zu, c %zu\n", I[0].n_mos, I[1].n_mos, I[2].n_mos);
        CHECK_EQ(total_mos(), 90);
        CHECK_EQ(missing, 0);
        CHECK_EQ(twice, 0);
        for (int i = 0; i < N_INST; i++)
                CHECK_EQ(I[i].mos_not_http, 0);
        struct http_sim_counts s1;
        http_sim_counts(H, &s1);
        CHECK_EQ(s1.mo_pushed - s0.mo_pushed, 180);
        CHECK_EQ(s1.mo_acked - s0.mo_acked, 180);
}

/* Redis paused: a DR/MO waits hold_ms (500 ms), then the receiver answers
 * 503 and the service re-sends (to the next receiver); once Redis is back
 * every one is delivered once. */
static void test_redis_paused_receivers_answer_503_then_deliver_once(void)
{
        reset_events();
        struct http_sim_counts s0;
        http_sim_counts(H, &s0);
        uint64_t busy0 = rx_stats(0).rx_busy + rx_stats(1).rx_busy + rx_stats(2).rx_busy;
        unsigned k0 = mo_serial;
        rtest_redis_kill(&R, SIGSTOP);
        hctl("http mo 40");
        mo_serial += 40;
        uint64_t end = it_now_ms() + 3000;
        while (it_now_ms() < end) {
                pump_all();
                it_sleep_ms(5);
        }
        CHECK_EQ(total_mos(), 0);                       /* nothing without Redis */
        rtest_redis_kill(&R, SIGCONT);
        settle(0, 40, 30000, 1500);
        uint64_t busy = rx_stats(0).rx_busy + rx_stats(1).rx_busy + rx_stats(2).rx_busy - busy0;
        struct http_sim_counts s1;
        http_sim_counts(H, &s1);
        printf("# Redis paused 3 s: %llu answers 503, %llu failed pushes; MOs a %zu, b %zu, "
               "c %zu\n", (unsigned long long)busy,
               (unsigned long long)(s1.push_failures - s0.push_failures), I[0].n_mos,
               I[1].n_mos, I[2].n_mos);
        CHECK(busy > 0);
        CHECK(s1.push_failures - s0.push_failures > 0);
        CHECK_EQ(total_mos(), 40);
        unsigned missing = 0, twice = 0;
        for (unsigned k = 1; k <= 40; k++) {
                char t[64];
                snprintf(t, sizeof t, "mo text %u", k0 + k);
                unsigned n = mo_count(t);
                missing += n == 0;
                twice += n > 1;
        }
        CHECK_EQ(missing, 0);
        CHECK_EQ(twice, 0);
        CHECK_EQ(s1.mo_acked - s0.mo_acked, 40);
        CHECK(store_sum("in_retry_later") > 0);
}

/* An instance stopped while its receiver holds requests waiting for a
 * paused Redis: the stop waits for their answers (503 after hold_ms; the
 * daemon may not stop with a suspended connection), nothing hangs or
 * crashes, and the service's re-sends reach the other two: every MO once.
 * Runs last: it leaves c stopped. */
static void test_instance_stopped_with_answers_pending_loses_nothing(void)
{
        reset_events();
        struct http_sim_counts s0;
        http_sim_counts(H, &s0);
        unsigned k0 = mo_serial;
        rtest_redis_kill(&R, SIGSTOP);
        hctl("http mo 30");
        mo_serial += 30;
        uint64_t end = it_now_ms() + 200;
        while (it_now_ms() < end) {
                pump_all();
                it_sleep_ms(5);
        }
        struct smx_http_stats st = rx_stats(2);
        printf("# c holds %llu deferred answers when it stops\n",
               (unsigned long long)(st.rx_requests - st.rx_delivered - st.rx_duplicates -
                                    st.rx_busy - st.rx_bad - st.rx_forbidden));
        uint64_t t0 = it_now_ms();
        smx_client_destroy(I[2].c);
        I[2].c = NULL;
        uint64_t took = it_now_ms() - t0;
        printf("# c stopped in %llu ms\n", (unsigned long long)took);
        CHECK(took < 30000);                    /* it stops (no hang) */
        rtest_redis_kill(&R, SIGCONT);
        settle(0, 30, 30000, 1500);
        unsigned missing = 0, twice = 0;
        for (unsigned k = 1; k <= 30; k++) {
                char t[64];
                snprintf(t, sizeof t, "mo text %u", k0 + k);
                unsigned n = mo_count(t);
                missing += n == 0;
                twice += n > 1;
        }
        printf("# MOs: a %zu, b %zu\n", I[0].n_mos, I[1].n_mos);
        CHECK_EQ(missing, 0);
        CHECK_EQ(twice, 0);
        CHECK_EQ(total_mos(), 30);
        struct http_sim_counts s1;
        http_sim_counts(H, &s1);
        CHECK_EQ(s1.mo_acked - s0.mo_acked, 30);
}

int main(void)
{
        if (system("command -v redis-server >/dev/null 2>&1") != 0) {
                printf("1..0 # SKIP redis-server not installed (tools/bootstrap.sh)\n");
                return 0;
        }
        if (rtest_redis_start(&R, 0) != 0 || it_sim_start(&E, "dc3,bos", 1, 1.0) != 0) {
                printf("Bail out! redis-server or smsc-sim did not start\n");
                rtest_redis_stop(&R);
                return 1;
        }
        struct http_sim_options ho;
        http_sim_options_init(&ho);
        ho.smpp = E.sim;
        ho.smpp_dr_via_http = 0.5;
        ho.dr_delay_ms = 5;
        char err[256];
        if (http_sim_start(&ho, &H, err, sizeof err) < 0) {
                printf("Bail out! http sim: %s\n", err);
                return 1;
        }
        for (size_t i = 0; i < 2; i++) {
                char name[32], addr[16];
                uint16_t port;
                http_sim_site(H, i, name, addr, &port);
                snprintf(http_urls[i], sizeof http_urls[i], "http://%s:%u/httpapi/receiver",
                         addr, port);
        }
        it_sim_ctl(&E, "set all other_site_prob 0.5");
        it_sim_ctl(&E, "set all dr_accepted_prob 0");
        it_sim_ctl(&E, "set all dr_delay_ms 20-100");
        it_sim_ctl(&E, "set all dr_final_mix DELIVERED:100");
        it_sim_ctl(&E, "set all mo_rate 0");
        snprintf(cluster, sizeof cluster, "h%d", (int)getpid());
        static const char *names[N_INST] = { "a", "b", "c" };
        for (int i = 0; i < N_INST; i++)
                if (inst_start(&I[i], names[i], i == 0 ? SMX_TRANSPORT_HTTP : SMX_TRANSPORT_SMPP)) {
                        printf("Bail out! instance %s did not start\n", names[i]);
                        return 1;
                }
        char cmd[400];
        snprintf(cmd, sizeof cmd, "http receiver http://127.0.0.1:%u/httpapi/receiver,"
                 "http://127.0.0.1:%u/httpapi/receiver,http://127.0.0.1:%u/httpapi/receiver",
                 rx_port(0), rx_port(1), rx_port(2));
        hctl(cmd);
        if (!all_active()) {
                printf("Bail out! not every instance bound every SMSC\n");
                return 1;
        }
        RUN(test_http_mt_drs_reach_the_owner_once_from_any_receiver);
        RUN(test_smpp_mt_drs_pushed_over_http_reach_the_owner_once);
        RUN(test_http_mo_pushed_to_two_instances_is_delivered_once);
        RUN(test_redis_paused_receivers_answer_503_then_deliver_once);
        RUN(test_instance_stopped_with_answers_pending_loses_nothing);
        for (int i = 0; i < N_INST; i++)
                if (I[i].c)
                        smx_client_destroy(I[i].c);
        http_sim_stop(H);
        E.c = NULL;
        it_stop(&E);
        rtest_redis_stop(&R);
        return t_done();
}
