/* Strategy A (H2) with a real DNS server: dnsmasq started here answers the
 * global name with a 2 s TTL; the record is flipped from dc3 to bos mid-run
 * and new MTs must follow within TTL + 1 s, with every MT accepted once and
 * no handset duplicate. Then resolution fails: the last address is kept for
 * the grace only, reported, and traffic resumes when DNS is back. */
#include "dns_tlib.h"
#include "http/http_mt.h"
#include "http/http_resolve.h"
#include "http_sim.h"
#include "mt_tlib.h"
#include "smsmux.h"
#include "testlib.h"

#define NAME "smsc-api.example.test"
#define TTL_S 2

static struct http_sim *sim;
static struct t_dns dns;
static char url[128];

static int setup(void)
{
        struct http_sim_options o;
        http_sim_options_init(&o);
        char err[160];
        if (http_sim_start(&o, &sim, err, sizeof err) < 0) {
                printf("# %s\n", err);
                return -1;
        }
        char name[32], addr[16];
        uint16_t port;
        http_sim_site(sim, 0, name, addr, &port);
        snprintf(url, sizeof url, "http://" NAME ":%u/httpapi/receiver", port);
        if (t_dns_start(&dns, NAME, "127.0.0.2", TTL_S) < 0) {
                printf("# dnsmasq did not start\n");
                return -1;
        }
        return 0;
}

/* An engine resolving through the dnsmasq of this test. */
static struct http_mt *engine(uint32_t grace_ms)
{
        char srv[32];
        snprintf(srv, sizeof srv, "127.0.0.1:%u", dns.port);
        return t_mt_engine(url, srv, grace_ms);
}

static void test_dns_flip_moves_new_mts_within_ttl_plus_1s(void)
{
        CHECK_EQ(setup(), 0);
        struct http_mt *m = engine(30000);
        CHECK(m != NULL);
        if (!m)
                return;
        t_mt_run(800, 10);                    /* 100 MT/s for 8 s */
        t_sleep_ms(3300);     /* between two refreshes (they come every 1.5 s) */
        uint64_t flip = t_now_ms();
        t_dns_point(&dns, "127.0.0.3");
        t_mt_wait(800, 15000, 0);
        CHECK_EQ(t_mt_count(0), 800);
        uint64_t a_dc3, f_dc3, l_dc3, a_bos, f_bos, l_bos;
        http_sim_site_counts(sim, "dc3", &a_dc3, &f_dc3, &l_dc3);
        http_sim_site_counts(sim, "bos", &a_bos, &f_bos, &l_bos);
        printf("# flip at +%llu ms: dc3 took %llu (last %+lld ms after the flip), bos took %llu "
               "(first %+lld ms after the flip); TTL %d s\n",
               (unsigned long long)(flip - t_mt.start_ms), (unsigned long long)a_dc3,
               (long long)(l_dc3 - flip), (unsigned long long)a_bos, (long long)(f_bos - flip), TTL_S);
        CHECK(l_dc3 <= flip + TTL_S * 1000 + 1000);   /* nothing to the old address past TTL + 1 s */
        CHECK(f_bos >= flip);
        CHECK(f_bos <= flip + TTL_S * 1000 + 1000);   /* new MTs follow within TTL + 1 s */
        CHECK(a_dc3 > 200);
        CHECK(a_bos > 200);
        int once = 0, acc = 0;
        for (int i = 0; i < 800; i++) {
                once += t_mt.done[i] == 1;
                acc += t_mt.out[i].accepted;
        }
        CHECK_EQ(once, 800);
        CHECK_EQ(acc, 800);
        struct http_sim_counts sc;
        http_sim_counts(sim, &sc);
        CHECK_EQ(sc.handset_delivered, 800);
        CHECK_EQ(sc.handset_duplicates, 0);
        const struct http_resolve_stats *ds = http_mt_dns_stats(m);
        CHECK_EQ(atomic_load(&ds->changes), 1);
        CHECK_EQ(atomic_load(&ds->last_ttl_s), TTL_S);
        CHECK(atomic_load(&ds->answers) >= 4);   /* re-resolved before each expiry */
        http_mt_destroy(m);
}

static void test_dns_failure_keeps_address_for_grace_only_then_recovers(void)
{
        /* DNS answers bos now; the engine learns it, then DNS dies */
        t_dns_point(&dns, "127.0.0.3");
        t_sleep_ms(200);
        struct http_mt *m = engine(1500);
        t_mt_run(4000, 10);
        t_sleep_ms(600);
        uint64_t kill_at = t_now_ms();
        t_dns_stop(&dns);
        /* within TTL + grace MTs still flow to the last address */
        t_sleep_ms(TTL_S * 1000 + 1500 + 300);
        const struct http_resolve_stats *ds = http_mt_dns_stats(m);
        const struct http_mt_stats *st = http_mt_stats(m);
        CHECK(atomic_load(&ds->failures) >= 1);
        CHECK(atomic_load(&ds->grace_uses) >= 1);
        CHECK_EQ(atomic_load(&ds->lapses), 1);
        CHECK_EQ(atomic_load(&st->dns_state), HTTP_ADDR_NONE);
        uint64_t a, f, l;
        http_sim_site_counts(sim, "bos", &a, &f, &l);
        printf("# DNS down at +%llu ms; last MT to the old address %lld ms after (TTL %d s + grace 1.5 s)\n",
               (unsigned long long)(kill_at - t_mt.start_ms), (long long)(l - kill_at), TTL_S);
        CHECK(l <= kill_at + TTL_S * 1000 + 1500 + 100);
        CHECK(l > kill_at + 1000);      /* it did keep going within the grace */
        /* nothing goes anywhere while there is no address; MTs wait */
        int before = t_mt_count(0);
        t_sleep_ms(500);
        CHECK_EQ(t_mt_count(0), before);
        /* DNS back: traffic resumes */
        CHECK_EQ(t_dns_start(&dns, NAME, "127.0.0.3", TTL_S), 0);
        char srv[32];
        snprintf(srv, sizeof srv, "127.0.0.1:%u", dns.port);
        /* the engine was told the old port: restart it on the new one */
        http_mt_destroy(m);
        pthread_mutex_lock(&t_mt.mu);
        int once = 0;
        for (int i = 0; i < t_mt.n; i++)
                once += t_mt.done[i] == 1;
        CHECK_EQ(once, t_mt.n);            /* every MT the engine took got one outcome */
        pthread_mutex_unlock(&t_mt.mu);
        m = engine(1500);
        t_mt_run(50, 5);
        t_mt_wait(50, 5000, 0);
        CHECK_EQ(t_mt_count(0), 50);
        http_mt_destroy(m);
}

int main(void)
{
        curl_global_init(CURL_GLOBAL_DEFAULT);
        t_mt.tag = "dns";
        RUN(test_dns_flip_moves_new_mts_within_ttl_plus_1s);
        RUN(test_dns_failure_keeps_address_for_grace_only_then_recovers);
        t_dns_stop(&dns);
        if (sim)
                http_sim_stop(sim);
        return t_done();
}
