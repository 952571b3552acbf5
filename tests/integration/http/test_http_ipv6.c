/* HTTP over IPv6 on ::1: the receiver listening on "[::1]:PORT" (its peer
 * address, an IPv6 allow list), the MT engine sending to a URL with an IPv6
 * literal host, and strategy A following an AAAA answer: MTs go to the
 * address the resolver gives, move to an A record and back within the TTL
 * when the record changes, and the sockets to the old address are shut
 * down. The service here is a small libmicrohttpd server per address that
 * answers every POST with result_code=0. Skipped (TAP "# SKIP") when the
 * machine has no ::1. */
#include <microhttpd.h>
#include <stdatomic.h>

#include "dns_tlib.h"
#include "http/http_mt.h"
#include "http/http_receiver.h"
#include "http/http_resolve.h"
#include "mhd_tlib.h"
#include "mt_tlib.h"
#include "testlib.h"

#define NAME "smsc-api6.example.test"
#define TTL_S 1

/* 1 when a socket can be bound to [::1]. */
static int have_ipv6_loopback(void)
{
        int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return 0;
        struct sockaddr_in6 a;
        memset(&a, 0, sizeof a);
        a.sin6_family = AF_INET6;
        a.sin6_addr = in6addr_loopback;
        int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
        close(fd);
        return ok;
}

/* ---- a minimal H1 service on one address ---- */

struct svc {
        struct MHD_Daemon *d;
        uint16_t port;
        _Atomic unsigned posts, from_v6, from_v4;
};

static enum MHD_Result svc_request(void *cls, struct MHD_Connection *c, const char *url,
                                   const char *method, const char *version, const char *upload,
                                   size_t *upload_size, void **con_cls)
{
        struct svc *s = cls;
        (void)url;
        (void)version;
        (void)upload;
        if (t_mhd_reading(con_cls, upload_size))
                return MHD_YES;
        if (strcmp(method, "POST") == 0) {
                atomic_fetch_add(&s->posts, 1);
                const union MHD_ConnectionInfo *ci =
                        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
                if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET6)
                        atomic_fetch_add(&s->from_v6, 1);
                else if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
                        atomic_fetch_add(&s->from_v4, 1);
        }
        static const char ok[] = "result_code=0\n";
        struct MHD_Response *r = MHD_create_response_from_buffer(sizeof ok - 1, (void *)ok,
                                                                 MHD_RESPMEM_PERSISTENT);
        enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
        MHD_destroy_response(r);
        return ret;
}

/* Listen on ip ("::1" or "127.0.0.1") port (0: any free). 0 or -1. */
static int svc_start(struct svc *s, const char *ip, uint16_t port)
{
        memset(s, 0, sizeof *s);
        struct sockaddr_storage sa;
        memset(&sa, 0, sizeof sa);
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
        if (strchr(ip, ':')) {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *)&sa;
                a->sin6_family = AF_INET6;
                a->sin6_port = htons(port);
                inet_pton(AF_INET6, ip, &a->sin6_addr);
                flags |= MHD_USE_IPv6;
        } else {
                struct sockaddr_in *a = (struct sockaddr_in *)&sa;
                a->sin_family = AF_INET;
                a->sin_port = htons(port);
                inet_pton(AF_INET, ip, &a->sin_addr);
        }
        s->d = MHD_start_daemon(flags, port, NULL, NULL, svc_request, s,
                                MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_END);
        if (!s->d)
                return -1;
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
        s->port = di ? di->port : port;
        return 0;
}

static void svc_stop(struct svc *s)
{
        if (s->d)
                MHD_stop_daemon(s->d);
        s->d = NULL;
}

/* ---- receiver ---- */

static struct {
        _Atomic unsigned calls, from_v6_loopback;
} rxs;

static int deliver(void *arg, const struct http_rx_msg *m)
{
        (void)arg;
        atomic_fetch_add(&rxs.calls, 1);
        if (m->from.sa.sa_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&m->from.sin6.sin6_addr))
                atomic_fetch_add(&rxs.from_v6_loopback, 1);
        return HTTP_RX_OK;
}

static struct http_receiver *rx_start(const char *listen, const char *allow, char *err, size_t len)
{
        struct http_rx_config c;
        http_rx_config_init(&c);
        c.listen = listen;
        c.allow = allow;
        struct http_receiver *r = NULL;
        if (http_rx_start(&c, deliver, NULL, &r, err, len) < 0)
                return NULL;
        return r;
}

static long rx_post(uint16_t port, int k)
{
        char url[80], body[128];
        snprintf(url, sizeof url, "http://[::1]:%u/httpapi/receiver", port);
        snprintf(body, sizeof body, "type=MO&message_id=six-%d&shortcode=1&phone_number=2&message=x", k);
        return t_post(url, NULL, body, NULL);
}

static void test_receiver_listens_on_ipv6_loopback_and_sees_the_v6_peer(void)
{
        memset(&rxs, 0, sizeof rxs);
        char err[160] = "";
        struct http_receiver *r = rx_start("[::1]:0", NULL, err, sizeof err);
        CHECK(r != NULL);
        if (!r) {
                printf("# %s\n", err);
                return;
        }
        CHECK(http_rx_port(r) != 0);
        for (int k = 0; k < 5; k++)
                CHECK_EQ(rx_post(http_rx_port(r), k), 200);
        CHECK_EQ(atomic_load(&rxs.calls), 5);
        CHECK_EQ(atomic_load(&rxs.from_v6_loopback), 5);
        /* listening on ::1 only: the IPv4 loopback is not served */
        char url[80];
        snprintf(url, sizeof url, "http://127.0.0.1:%u/httpapi/receiver", http_rx_port(r));
        CHECK_EQ(t_post(url, NULL, "type=MO&message_id=v4&shortcode=1&phone_number=2", NULL), -1);
        http_rx_stop(r);
}

static void test_receiver_ipv6_allow_list_admits_only_matching_prefixes(void)
{
        memset(&rxs, 0, sizeof rxs);
        char err[160] = "";
        struct http_receiver *r = rx_start("[::1]:0", "10.0.0.0/8,::1/128", err, sizeof err);
        CHECK(r != NULL);
        if (!r)
                return;
        CHECK_EQ(rx_post(http_rx_port(r), 1), 200);
        http_rx_stop(r);
        r = rx_start("[::1]:0", "127.0.0.1,fe80::/10,::2/127", err, sizeof err);
        CHECK(r != NULL);
        if (!r)
                return;
        CHECK_EQ(rx_post(http_rx_port(r), 2), -1);      /* closed at accept */
        CHECK_EQ(atomic_load(&http_rx_stats(r)->forbidden), 1);
        CHECK_EQ(atomic_load(&rxs.calls), 1);
        http_rx_stop(r);
        r = rx_start("[::1]:0", "::/0", err, sizeof err);
        CHECK(r != NULL);
        if (r) {
                CHECK_EQ(rx_post(http_rx_port(r), 3), 200);
                http_rx_stop(r);
        }
}

static void test_receiver_refuses_malformed_listen_and_allow_addresses(void)
{
        static const char *const bad_listen[] = { "::1:80", "[::1]", "[::1:80", "[::g]:80",
                                                  "[::1]:65536", "[]:80" };
        char err[160];
        for (size_t i = 0; i < sizeof bad_listen / sizeof bad_listen[0]; i++) {
                struct http_receiver *r = rx_start(bad_listen[i], NULL, err, sizeof err);
                CHECK(r == NULL);
                if (r)
                        http_rx_stop(r);
        }
        static const char *const bad_allow[] = { "::1/129", "::g", "10.0.0.0/33" };
        for (size_t i = 0; i < sizeof bad_allow / sizeof bad_allow[0]; i++) {
                struct http_receiver *r = rx_start("[::1]:0", bad_allow[i], err, sizeof err);
                CHECK(r == NULL);
                if (r)
                        http_rx_stop(r);
        }
}

/* ---- MT engine ---- */

static void test_mt_engine_sends_to_an_ipv6_literal_url(void)
{
        struct svc s;
        CHECK_EQ(svc_start(&s, "::1", 0), 0);
        char url[96];
        snprintf(url, sizeof url, "http://[::1]:%u/httpapi/receiver", s.port);
        t_mt_run(50, 0);
        struct http_mt *m = t_mt_engine(url, NULL, 0);
        CHECK(m != NULL);
        t_mt_wait(50, 10000, 1);
        CHECK_EQ(t_mt_count(1), 50);
        CHECK_EQ(t_mt.accepted, 50);
        CHECK_EQ(atomic_load(&s.from_v6), 50);
        CHECK(http_mt_dns_stats(m) == NULL);     /* a literal: no resolver */
        http_mt_destroy(m);
        svc_stop(&s);
}

/* A v6 service on [::1]:P and a v4 one on 127.0.0.1:P (the URL names one
 * port). 0 or -1. */
static int svc_pair(struct svc *v6, struct svc *v4)
{
        for (int tries = 0; tries < 20; tries++) {
                if (svc_start(v6, "::1", 0) < 0)
                        return -1;
                if (svc_start(v4, "127.0.0.1", v6->port) == 0)
                        return 0;
                svc_stop(v6);
        }
        return -1;
}

static void test_strategy_a_follows_aaaa_then_a_then_aaaa_within_the_ttl(void)
{
        struct svc v6, v4;
        CHECK_EQ(svc_pair(&v6, &v4), 0);
        struct t_dns dns;
        CHECK_EQ(t_dns_start(&dns, NAME, "::1", TTL_S), 0);
        if (!v6.d || !dns.pid) {
                svc_stop(&v6);
                svc_stop(&v4);
                t_dns_stop(&dns);
                return;
        }
        char url[128], srv[32];
        snprintf(url, sizeof url, "http://" NAME ":%u/httpapi/receiver", v6.port);
        snprintf(srv, sizeof srv, "127.0.0.1:%u", dns.port);
        t_mt_run(900, 10);                           /* 100 MT/s for 9 s */
        struct http_mt *m = t_mt_engine(url, srv, 0);
        CHECK(m != NULL);
        if (!m)
                goto out;
        t_sleep_ms(2000);
        unsigned v6_before = atomic_load(&v6.posts);
        t_dns_point(&dns, "127.0.0.1");
        uint64_t flip = t_now_ms();
        /* within TTL + 1 s the A record is in use: new posts reach v4 only */
        while (atomic_load(&v4.posts) == 0 && t_now_ms() - flip < 5000)
                t_sleep_ms(10);
        uint64_t moved_ms = t_now_ms() - flip;
        t_sleep_ms(300);
        unsigned v6_after_move = atomic_load(&v6.posts);
        t_sleep_ms(1500);
        CHECK_EQ(atomic_load(&v6.posts), v6_after_move);   /* nothing more to ::1 */
        t_dns_point(&dns, "::1");
        flip = t_now_ms();
        unsigned v6_mid = atomic_load(&v6.posts);
        while (atomic_load(&v6.posts) == v6_mid && t_now_ms() - flip < 5000)
                t_sleep_ms(10);
        uint64_t back_ms = t_now_ms() - flip;
        t_mt_wait(900, 15000, 1);
        printf("# AAAA ::1 -> A 127.0.0.1 after %llu ms, back to ::1 after %llu ms; posts v6 %u "
               "(from v6 %u), v4 %u; TTL %d s\n", (unsigned long long)moved_ms,
               (unsigned long long)back_ms, atomic_load(&v6.posts), atomic_load(&v6.from_v6),
               atomic_load(&v4.posts), TTL_S);
        CHECK(v6_before > 0);
        CHECK(moved_ms <= (TTL_S + 1) * 1000u);
        CHECK(back_ms <= (TTL_S + 1) * 1000u);
        CHECK(atomic_load(&v4.posts) > 0);
        CHECK_EQ(atomic_load(&v6.from_v6), atomic_load(&v6.posts));
        CHECK_EQ(atomic_load(&v4.from_v4), atomic_load(&v4.posts));
        CHECK_EQ(t_mt_count(1), 900);
        CHECK_EQ(t_mt.accepted, 900);
        const struct http_resolve_stats *ds = http_mt_dns_stats(m);
        CHECK(ds && atomic_load(&ds->changes) >= 2);
        CHECK(atomic_load(&http_mt_stats(m)->stale_closes) >= 1);
        http_mt_destroy(m);
out:
        t_dns_stop(&dns);
        svc_stop(&v6);
        svc_stop(&v4);
}

int main(void)
{
        if (!have_ipv6_loopback()) {
                printf("1..0 # SKIP no IPv6 loopback (::1) on this machine\n");
                return 0;
        }
        curl_global_init(CURL_GLOBAL_DEFAULT);
        t_mt.tag = "v6";
        RUN(test_receiver_listens_on_ipv6_loopback_and_sees_the_v6_peer);
        RUN(test_receiver_ipv6_allow_list_admits_only_matching_prefixes);
        RUN(test_receiver_refuses_malformed_listen_and_allow_addresses);
        RUN(test_mt_engine_sends_to_an_ipv6_literal_url);
        RUN(test_strategy_a_follows_aaaa_then_a_then_aaaa_within_the_ttl);
        int rc = t_done();
        curl_global_cleanup();
        return rc;
}
