/* SMSC host names are resolved without blocking the worker: an SMSC given
 * as "localhost" binds and carries MTs; with a DNS server that never
 * answers (a UDP socket of ours that is never read), the other bind of the
 * same worker keeps carrying MTs at full pace while the lookups hang, and
 * the unresolvable SMSC goes through failed attempts paced by the rebind
 * clock (R2); with a real DNS server (dnsmasq, started here) giving two
 * addresses of which the first (::1, first in RFC 6724 order) refuses, the
 * next attempt uses the other one (127.0.0.1). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child_tlib.h"
#include "itest.h"
#include "worker/worker_int.h"

#define DEAD_NAME "smsc1.unanswered"
#define DEAD_HOST "smsc.unanswered.test"

static void test_localhost_smsc_binds_and_carries_mts(void)
{
        struct it_env e;
        if (it_sim_start(&e, "dc3", 2, 1.0) < 0) {
                CHECK(0);
                return;
        }
        for (size_t i = 0; i < e.n; i++)
                e.smsc[i].host = "localhost";
        CHECK_EQ(it_client_start(&e), 0);
        CHECK_EQ(it_wait_active(&e, e.n, 10000), 1);
        CHECK_EQ(it_submit_n(&e, 2000, "via localhost"), 2000);
        CHECK_EQ(it_wait_outcomes(&e, 2000, 30000), 1);
        CHECK_EQ(e.submitted, 2000);
        CHECK_EQ(it_bad_outcomes(&e, 2000), 0);
        struct smx_bind_stats st[IT_MAX_SMSC];
        size_t n = smx_client_binds(e.c, st, IT_MAX_SMSC);
        CHECK_EQ(n, e.n);
        for (size_t i = 0; i < n; i++) {
                CHECK_EQ(st[i].bind_attempts, 1);
                CHECK(st[i].accepted > 0);
        }
        const char *j = it_summary(&e);
        CHECK_EQ(it_json_num(j, "\"totals\"", "submit_sm_accepted"), 2000);
        smx_client_drain(e.c, 5000);
        it_stop(&e);
}

/* A UDP socket on 127.0.0.1 that receives DNS queries and never answers. */
static int dead_dns_open(char *addr, size_t len)
{
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -1;
        struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = 0 };
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t sl = sizeof sin;
        if (bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
            getsockname(fd, (struct sockaddr *)&sin, &sl) < 0) {
                close(fd);
                return -1;
        }
        snprintf(addr, len, "127.0.0.1:%u", (unsigned)ntohs(sin.sin_port));
        return fd;
}

static size_t dead_dns_queries(int fd)
{
        uint8_t buf[1024];
        size_t n = 0;
        while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
                n++;
        return n;
}

static int bind_stats_of(struct it_env *e, const char *name, struct smx_bind_stats *out)
{
        struct smx_bind_stats st[IT_MAX_SMSC];
        size_t n = smx_client_binds(e->c, st, IT_MAX_SMSC);
        for (size_t i = 0; i < n && i < IT_MAX_SMSC; i++) {
                if (!strcmp(st[i].name, name)) {
                        *out = st[i];
                        return 0;
                }
        }
        return -1;
}

static void test_hung_lookup_never_stalls_the_other_bind_of_its_worker(void)
{
        struct it_env e;
        char dns[64];
        int dfd = dead_dns_open(dns, sizeof dns);
        CHECK(dfd >= 0);
        if (dfd < 0 || it_sim_start(&e, "dc3", 1, 1.0) < 0) {
                CHECK(0);
                return;
        }
        worker_resolve_dns_servers = dns;
        /* a second SMSC on the same worker whose name never resolves; named
         * in e.info so that it_pump keeps its BIND down reasons */
        snprintf(e.info[1].name, sizeof e.info[1].name, "%s", DEAD_NAME);
        snprintf(e.info[1].site, sizeof e.info[1].site, "%s", e.info[0].site);
        e.smsc[1] = (struct smx_smsc_config){
                .name = e.info[1].name, .site = e.info[1].site,
                .host = DEAD_HOST, .port = e.info[0].port,
        };
        e.n = 2;
        e.cfg.n_smscs = 2;
        e.cfg.workers = 1;
        e.cfg.rebind_interval_ms = 1500;
        e.cfg.rebind_jitter_ms = 100;
        e.cfg.connect_timeout_ms = 1200;     /* how long each lookup hangs: less than
                                                the rebind interval, so the clock paces */
        CHECK_EQ(it_client_start(&e), 0);
        CHECK_EQ(it_wait_active(&e, 1, 10000), 1);
        struct smx_bind_stats d0 = { .bind_attempts = 0 }, d1 = d0, live = d0;
        CHECK_EQ(bind_stats_of(&e, DEAD_NAME, &d0), 0);
        CHECK_EQ(bind_stats_of(&e, e.info[0].name, &live), 0);
        CHECK_EQ(live.worker, d0.worker);

        /* 2000 MTs in batches of 50 over ~4 s (several hung lookups): each
         * batch is answered well within one lookup's hang (1.2 s) */
        uint64_t worst_ms = 0, start = it_now_ms();
        for (int batch = 0; batch < 40; batch++) {
                uint64_t t0 = it_now_ms();
                CHECK_EQ(it_submit_n(&e, 50, "dns is dead"), 50);
                CHECK_EQ(it_wait_outcomes(&e, e.next_mt, 10000), 1);
                uint64_t dt = it_now_ms() - t0;
                if (dt > worst_ms)
                        worst_ms = dt;
                it_sleep_ms(100);
        }
        uint64_t took = it_now_ms() - start;
        printf("# 2000 MTs in %llu ms, slowest batch of 50: %llu ms\n",
               (unsigned long long)took, (unsigned long long)worst_ms);
        CHECK_EQ(e.submitted, 2000);
        CHECK_EQ(it_bad_outcomes(&e, 2000), 0);
        CHECK(worst_ms < 500);
        CHECK(took >= 4000);

        CHECK_EQ(bind_stats_of(&e, DEAD_NAME, &d1), 0);
        printf("# %s: %llu attempts, shortest spacing %llu ms, last down: %s\n", DEAD_NAME,
               (unsigned long long)d1.bind_attempts,
               (unsigned long long)d1.min_attempt_spacing_ms, e.last_down_reason[1]);
        CHECK(d1.bind_attempts >= d0.bind_attempts + 2);
        CHECK(d1.min_attempt_spacing_ms > 1500);
        CHECK(d1.bind_attempts <= d0.bind_attempts + took / 1500 + 1);
        CHECK(d1.health != SMX_HEALTH_ACTIVE);
        CHECK_EQ(d1.accepted, 0);
        CHECK(e.downs[1] >= 2);
        CHECK(strstr(e.last_down_reason[1], "resolve") != NULL);
        CHECK(dead_dns_queries(dfd) > 0);     /* the lookups did go to the dead server */
        smx_client_drain(e.c, 5000);
        it_stop(&e);
        worker_resolve_dns_servers = NULL;
        close(dfd);
}

/* A loopback port free for UDP and TCP at once (dnsmasq takes both). */
static uint16_t free_dns_port(void)
{
        for (int tries = 0; tries < 64; tries++) {
                int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                int t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                struct sockaddr_in a = { .sin_family = AF_INET };
                a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                socklen_t l = sizeof a;
                int ok = u >= 0 && t >= 0 && bind(u, (struct sockaddr *)&a, sizeof a) == 0 &&
                         getsockname(u, (struct sockaddr *)&a, &l) == 0 &&
                         bind(t, (struct sockaddr *)&a, sizeof a) == 0;
                if (u >= 0)
                        close(u);
                if (t >= 0)
                        close(t);
                if (ok)
                        return ntohs(a.sin_port);
        }
        return 0;
}

/* 1 when the server on port answers an A query for name with a record. */
static int dns_answers(uint16_t port, const char *name)
{
        uint8_t q[300] = { 0x51, 0x52, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
        size_t n = 12;
        for (const char *p = name; *p;) {
                const char *dot = strchr(p, '.');
                size_t l = dot ? (size_t)(dot - p) : strlen(p);
                q[n++] = (uint8_t)l;
                memcpy(q + n, p, l);
                n += l;
                p += l + (dot ? 1 : 0);
        }
        q[n++] = 0;
        q[n++] = 0;
        q[n++] = 1;     /* A */
        q[n++] = 0;
        q[n++] = 1;     /* IN */
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return 0;
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sendto(fd, q, n, 0, (struct sockaddr *)&a, sizeof a);
        struct pollfd pf = { fd, POLLIN, 0 };
        uint8_t r[512];
        ssize_t got = poll(&pf, 1, 300) > 0 ? recv(fd, r, sizeof r, 0) : -1;
        close(fd);
        return got > (ssize_t)n && (r[6] << 8 | r[7]) > 0;
}

/* dnsmasq on 127.0.0.1:*port answering `name` with the addresses of the
 * hosts file `hosts` (nothing else). Its pid, or -1. */
static pid_t dnsmasq_start(const char *hosts, const char *name, uint16_t *port)
{
        for (int attempt = 0; attempt < 5; attempt++) {
                *port = free_dns_port();
                char parg[32], harg[128];
                snprintf(parg, sizeof parg, "--port=%u", (unsigned)*port);
                snprintf(harg, sizeof harg, "--addn-hosts=%s", hosts);
                pid_t parent = getpid();
                pid_t pid = fork();
                if (pid == 0) {
                        t_child_dies_with_parent(parent);
                        execlp("dnsmasq", "dnsmasq", "--keep-in-foreground", parg,
                               "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv",
                               "--no-hosts", harg, "--local-ttl=1", "--pid-file=", "--user=root",
                               "--log-facility=/dev/null", (char *)NULL);
                        _exit(127);
                }
                if (pid < 0)
                        return -1;
                for (int i = 0; i < 40; i++) {
                        if (dns_answers(*port, name))
                                return pid;
                        if (waitpid(pid, NULL, WNOHANG) == pid)
                                break;
                        it_sleep_ms(50);
                }
                kill(pid, SIGTERM);
                waitpid(pid, NULL, 0);
        }
        return -1;
}

static void dnsmasq_stop(pid_t pid)
{
        if (pid > 0) {
                kill(pid, SIGTERM);
                waitpid(pid, NULL, 0);
        }
}

#define MULTI_HOST "smsc.two-addresses.test"

static int have_ipv6_loopback(void)
{
        int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
        int ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
        if (fd >= 0)
                close(fd);
        return ok;
}

static void test_refused_first_address_next_attempt_uses_the_second(void)
{
        char hosts[64];
        snprintf(hosts, sizeof hosts, "/tmp/smx-resolve-%d.hosts", (int)getpid());
        FILE *f = fopen(hosts, "w");
        CHECK(f != NULL);
        if (!f)
                return;
        /* the simulator listens on 127.0.0.1 only: ::1 refuses */
        fprintf(f, "127.0.0.1 %s\n::1 %s\n", MULTI_HOST, MULTI_HOST);
        fclose(f);
        uint16_t port = 0;
        pid_t pid = dnsmasq_start(hosts, MULTI_HOST, &port);
        CHECK(pid > 0);
        struct it_env e;
        if (pid <= 0 || it_sim_start(&e, "dc3", 1, 1.0) < 0) {
                printf("# dnsmasq did not start\n");
                dnsmasq_stop(pid);
                unlink(hosts);
                return;
        }
        char dns[32];
        snprintf(dns, sizeof dns, "127.0.0.1:%u", (unsigned)port);
        worker_resolve_dns_servers = dns;
        e.smsc[0].host = MULTI_HOST;
        e.cfg.workers = 1;
        e.cfg.rebind_interval_ms = 1000;
        e.cfg.rebind_jitter_ms = 100;
        CHECK_EQ(it_client_start(&e), 0);
        CHECK_EQ(it_wait_active(&e, 1, 8000), 1);
        struct smx_bind_stats st = { .bind_attempts = 0 };
        CHECK_EQ(bind_stats_of(&e, e.info[0].name, &st), 0);
        printf("# bound after %llu attempts, first down: %s\n",
               (unsigned long long)st.bind_attempts, e.last_down_reason[0]);
        CHECK_EQ(st.bind_attempts, 2);
        CHECK(strstr(e.last_down_reason[0], "refused") != NULL);
        CHECK_EQ(it_submit_n(&e, 200, "second address"), 200);
        CHECK_EQ(it_wait_outcomes(&e, 200, 10000), 1);
        CHECK_EQ(e.submitted, 200);
        smx_client_drain(e.c, 5000);
        it_stop(&e);
        worker_resolve_dns_servers = NULL;
        dnsmasq_stop(pid);
        unlink(hosts);
}

int main(void)
{
        RUN(test_localhost_smsc_binds_and_carries_mts);
        RUN(test_hung_lookup_never_stalls_the_other_bind_of_its_worker);
        if (have_ipv6_loopback())
                RUN(test_refused_first_address_next_attempt_uses_the_second);
        else
                printf("ok %d - test_refused_first_address_next_attempt_uses_the_second"
                       " # SKIP no IPv6 loopback (::1)\n", ++t_count);
        return t_done();
}
