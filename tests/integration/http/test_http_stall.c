/* A site that stops answering mid-run (issue 12 part 3, H2/H3), at the
 * engine level, against the simulator's HTTP side: `http slow SITE MS`
 * holds every request the site gets from then on (keep-alive connections
 * stay open, nothing is answered), and answers them late, after the client
 * has moved on. Every setting but the pause and the DNS TTL is the default
 * (stall_ms 3 s, request timeout 15 s), so only stall detection can move
 * the MTs in time. Each test asserts on outcomes and on the simulator's
 * ledger: every MT accepted exactly once, none failed, no handset
 * duplicate, also after the hung site processed its held requests late;
 * and the only timing asserted is the generous bound (every MT
 * accepted within 15 s of the hang).
 *   - strategy B: one stall event (all requests out fail together), the
 *     pause, the resubmits unanswered too, a second event, the switch;
 *   - strategy A, DNS re-pointed (TTL 60 s, far past the test): the hung
 *     address is re-resolved at once and left;
 *   - strategy A, DNS unchanged but offering two addresses: the hung one is
 *     passed over for the other. */
#include "dns_tlib.h"
#include "http/http_mt.h"
#include "http/http_resolve.h"
#include "http_sim.h"
#include "mt_tlib.h"
#include "smsmux.h"
#include "testlib.h"

#define NAME "smsc-api.hang.test"
#define SLOW_MS 12000u          /* the hung site answers this late */

static struct http_sim *sim;
static char url_dc3[96], url_bos[96], url_name[128];
static uint16_t sim_port;

static int sim_start(void)
{
        if (sim)
                http_sim_stop(sim);
        struct http_sim_options o;
        http_sim_options_init(&o);
        char err[160];
        if (http_sim_start(&o, &sim, err, sizeof err) < 0) {
                printf("# %s\n", err);
                sim = NULL;
                return -1;
        }
        t_sim_site_url(sim, 0, url_dc3, sizeof url_dc3);
        sim_port = t_sim_site_url(sim, 1, url_bos, sizeof url_bos);
        snprintf(url_name, sizeof url_name, "http://" NAME ":%u/httpapi/receiver", sim_port);
        return 0;
}

/* An engine with the default timeouts and stall_ms: strategy B when u1 is
 * given (pause 1 s), else strategy A through dns_server. */
static struct http_mt *engine(const char *u0, const char *u1, const char *dns_server)
{
        struct http_mt_config c;
        http_mt_config_init(&c);
        c.urls[0] = u0;
        c.n_urls = 1;
        if (u1) {
                c.urls[1] = u1;
                c.n_urls = 2;
        }
        c.login = "smsmux";
        c.password = "secret";
        c.dns_server = dns_server;
        c.resubmit_pause_ms = 1000;
        return t_mt_started(&c);
}

/* The accepted MTs' latest outcome time, and counts over the run. */
static void tally(int n, int *once, int *accepted, int *failed, uint64_t *last_ms)
{
        pthread_mutex_lock(&t_mt.mu);
        *once = *accepted = *failed = 0;
        *last_ms = 0;
        for (int i = 0; i < n; i++) {
                *once += t_mt.done[i] == 1;
                *accepted += t_mt.done[i] && t_mt.out[i].accepted;
                *failed += t_mt.done[i] && !t_mt.out[i].accepted;
                if (t_mt.done_ms[i] > *last_ms)
                        *last_ms = t_mt.done_ms[i];
        }
        pthread_mutex_unlock(&t_mt.mu);
}

/* Run n MTs at every_ms, hang `site` after hang_after_ms, call `also` then
 * (may be NULL), wait for every outcome; check the outcomes and the ledger,
 * then wait for the hung site's late answers and check nothing changed.
 * Returns the hang time. */
static uint64_t run_hang(struct http_mt *m, int n, unsigned every_ms, unsigned hang_after_ms,
                         const char *site, void (*also)(void), const char *what)
{
        struct http_sim_counts sc0;
        http_sim_counts(sim, &sc0);     /* the ledger before this run */
        t_mt_run(n, every_ms);
        t_sleep_ms(hang_after_ms);
        char cmd[64], r[128];
        snprintf(cmd, sizeof cmd, "http slow %s %u", site, SLOW_MS);
        uint64_t t_hang = t_now_ms();
        CHECK_EQ(http_sim_ctl(sim, cmd, r, sizeof r), 0);
        if (also)
                also();
        int before = t_mt_count(0);
        t_mt_wait(n, 40000, 0);
        int once, acc, failed;
        uint64_t last;
        tally(n, &once, &acc, &failed, &last);
        const struct http_mt_stats *st = http_mt_stats(m);
        struct http_sim_counts sc;
        http_sim_counts(sim, &sc);
        printf("# %s: %d of %d done at the hang; all %d done %lld ms after it; accepted %d, "
               "failed %d, once %d; stalls %llu, switches %llu, abnormal %llu, handset %llu "
               "(duplicates %llu)\n",
               what, before, n, t_mt_count(0), (long long)(last - t_hang), acc, failed, once,
               (unsigned long long)atomic_load(&st->stalls),
               (unsigned long long)atomic_load(&st->switches),
               (unsigned long long)atomic_load(&st->abnormal),
               (unsigned long long)(sc.handset_delivered - sc0.handset_delivered),
               (unsigned long long)(sc.handset_duplicates - sc0.handset_duplicates));
        CHECK(before < n);              /* the hang came mid-run */
        CHECK_EQ(once, n);
        CHECK_EQ(acc, n);
        CHECK_EQ(failed, 0);
        CHECK(last - t_hang <= 15000);  /* the bound, not a speed test */
        CHECK(atomic_load(&st->stalls) >= 1);
        CHECK_EQ(sc.handset_delivered - sc0.handset_delivered, (uint64_t)n);
        CHECK_EQ(sc.handset_duplicates, sc0.handset_duplicates);
        /* the hung site wakes up and processes what it held: the service
         * knows those message_ids, and the client took its requests back */
        uint64_t dup_before = sc.duplicates;
        uint64_t wake = t_hang + SLOW_MS + 1500;
        while (t_now_ms() < wake)
                t_sleep_ms(50);
        http_sim_counts(sim, &sc);
        tally(n, &once, &acc, &failed, &last);
        printf("# %s: after the hung site woke up: %llu late requests answered as duplicates, "
               "handset %llu\n", what, (unsigned long long)(sc.duplicates - dup_before),
               (unsigned long long)(sc.handset_delivered - sc0.handset_delivered));
        CHECK_EQ(once, n);
        CHECK_EQ(acc, n);
        CHECK_EQ(sc.handset_delivered - sc0.handset_delivered, (uint64_t)n);
        CHECK_EQ(sc.handset_duplicates, sc0.handset_duplicates);
        return t_hang;
}

/* MTs the simulator accepted at the site that hung (*a_hung) and at the
 * other (*a_other, the first at *first_other_ms): more than 100 reached the
 * hung site before it hung, and each of the `total` at one site only. */
static void check_split(const char *hung, const char *other, uint64_t total, uint64_t *a_hung,
                        uint64_t *a_other, uint64_t *first_other_ms)
{
        uint64_t first, last;
        http_sim_site_counts(sim, hung, a_hung, &first, &last);
        http_sim_site_counts(sim, other, a_other, first_other_ms, &last);
        CHECK(*a_hung > 100);
        CHECK_EQ(*a_hung + *a_other, total);
}

static void test_strategy_b_hung_primary_fails_as_one_event_and_switches(void)
{
        CHECK_EQ(sim_start(), 0);
        struct http_mt *m = engine(url_dc3, url_bos, NULL);
        CHECK(m != NULL);
        if (!m)
                return;
        const int n = 1500;
        uint64_t t_hang = run_hang(m, n, 4, 1500, "dc3", NULL, "strategy B");
        const struct http_mt_stats *st = http_mt_stats(m);
        /* one event for the site, then one more for the unanswered resubmits */
        CHECK_EQ(atomic_load(&st->stalls), 2);
        CHECK_EQ(atomic_load(&st->switches), 1);
        CHECK_EQ(atomic_load(&st->current_url), 1);
        uint64_t a_dc3, a_bos, f_bos;
        check_split("dc3", "bos", (uint64_t)n, &a_dc3, &a_bos, &f_bos);
        printf("# strategy B: dc3 accepted %llu before the hang, bos %llu from %lld ms after it\n",
               (unsigned long long)a_dc3, (unsigned long long)a_bos, (long long)(f_bos - t_hang));
        /* the pause was honoured: nothing reached bos before stall + pause */
        CHECK(f_bos >= t_hang + 1000);
        http_mt_destroy(m);
}

static struct t_dns dns;

static void repoint_dns(void)
{
        t_dns_point(&dns, "127.0.0.3");
}

static void test_strategy_a_hung_address_is_resolved_again_and_left(void)
{
        CHECK_EQ(sim_start(), 0);
        /* TTL 60 s: the TTL alone would keep the hung address past the test */
        CHECK_EQ(t_dns_start(&dns, NAME, "127.0.0.2", 60), 0);
        char srv[32];
        snprintf(srv, sizeof srv, "127.0.0.1:%u", dns.port);
        struct http_mt *m = engine(url_name, NULL, srv);
        CHECK(m != NULL);
        if (!m)
                return;
        const int n = 1000;
        uint64_t t_hang = run_hang(m, n, 5, 1500, "dc3", repoint_dns, "strategy A, DNS re-pointed");
        const struct http_resolve_stats *ds = http_mt_dns_stats(m);
        CHECK_EQ(atomic_load(&ds->changes), 1);
        uint64_t a_dc3, a_bos, f_bos;
        (void)t_hang;
        check_split("dc3", "bos", (uint64_t)n, &a_dc3, &a_bos, &f_bos);
        http_mt_destroy(m);
        t_dns_stop(&dns);
}

static void test_strategy_a_hung_address_is_left_for_another_of_the_answer(void)
{
        CHECK_EQ(sim_start(), 0);
        /* one name, both sites' addresses, TTL 60 s; the answer never changes */
        CHECK_EQ(t_dns_start(&dns, NAME, "127.0.0.2", 60), 0);
        FILE *hosts = fopen(dns.hosts, "a");
        CHECK(hosts != NULL);
        if (!hosts)
                return;
        fprintf(hosts, "127.0.0.3 %s\n", NAME);
        fclose(hosts);
        kill(dns.pid, SIGHUP);
        t_sleep_ms(200);
        char srv[32];
        snprintf(srv, sizeof srv, "127.0.0.1:%u", dns.port);
        struct http_mt *m = engine(url_name, NULL, srv);
        CHECK(m != NULL);
        if (!m)
                return;
        /* which address the resolver picked first decides which site hangs */
        t_mt_run(1, 0);
        t_mt_wait(1, 5000, 0);
        uint64_t a2, a3, first, last;
        http_sim_site_counts(sim, "dc3", &a2, &first, &last);
        http_sim_site_counts(sim, "bos", &a3, &first, &last);
        CHECK_EQ(a2 + a3, 1);
        const char *hung = a2 ? "dc3" : "bos", *other = a2 ? "bos" : "dc3";
        printf("# the resolver used %s first; that one hangs\n", hung);
        const int n = 1000;
        pthread_mutex_lock(&t_mt.mu);
        t_mt.tag = "two";                /* new message_ids for the run */
        pthread_mutex_unlock(&t_mt.mu);
        uint64_t t_hang = run_hang(m, n, 5, 1500, hung, NULL, "strategy A, two addresses");
        uint64_t a_h, a_o, f_o;
        check_split(hung, other, (uint64_t)n + 1, &a_h, &a_o, &f_o);
        (void)t_hang;
        CHECK(a_o >= 100);
        CHECK_EQ(atomic_load(&http_mt_dns_stats(m)->changes), 1);   /* the address, not the answer */
        http_mt_destroy(m);
        t_dns_stop(&dns);
}

int main(void)
{
        curl_global_init(CURL_GLOBAL_DEFAULT);
        t_mt.tag = "hang";
        RUN(test_strategy_b_hung_primary_fails_as_one_event_and_switches);
        t_mt.tag = "hangdns";
        RUN(test_strategy_a_hung_address_is_resolved_again_and_left);
        RUN(test_strategy_a_hung_address_is_left_for_another_of_the_answer);
        if (sim)
                http_sim_stop(sim);
        return t_done();
}
