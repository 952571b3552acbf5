/* A real DNS server for the strategy-A tests: dnsmasq (Debian), started by
 * the test on a free UDP port bound to 127.0.0.1, answering names from a
 * hosts file (A or AAAA records) with a short TTL; t_dns_point() rewrites
 * the file and sends SIGHUP so the next answer carries the new address. */
#ifndef DNS_TLIB_H
#define DNS_TLIB_H

#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>

#include "http_tlib.h"

struct t_dns {
        pid_t pid;
        uint16_t port;
        char hosts[64];
        char name[128];
};

/* A loopback port free for UDP and for TCP at once: dnsmasq listens on
 * both, and a port taken on either makes it fail to start. */
static inline uint16_t t_free_udp_port(void)
{
        for (int tries = 0; tries < 64; tries++) {
                int u = socket(AF_INET, SOCK_DGRAM, 0);
                struct sockaddr_in a;
                memset(&a, 0, sizeof a);
                a.sin_family = AF_INET;
                inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
                bind(u, (struct sockaddr *)&a, sizeof a);
                socklen_t l = sizeof a;
                getsockname(u, (struct sockaddr *)&a, &l);
                int t = socket(AF_INET, SOCK_STREAM, 0);
                int ok = bind(t, (struct sockaddr *)&a, sizeof a) == 0;
                close(t);
                close(u);
                if (ok)
                        return ntohs(a.sin_port);
        }
        return 0;
}

static inline int t_dns_write(struct t_dns *d, const char *addr)
{
        char tmp[80];
        snprintf(tmp, sizeof tmp, "%s.new", d->hosts);
        FILE *f = fopen(tmp, "w");
        if (!f)
                return -1;
        fprintf(f, "%s %s\n", addr, d->name);
        fclose(f);
        return rename(tmp, d->hosts);
}

/* One query of type qtype (1 A, 28 AAAA); returns 1 when answered with a
 * record. */
static inline int t_dns_answers_type(uint16_t port, const char *name, unsigned qtype)
{
        unsigned char q[300] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
        size_t n = 12;
        const char *p = name;
        while (*p) {
                const char *dot = strchr(p, '.');
                size_t l = dot ? (size_t)(dot - p) : strlen(p);
                q[n++] = (unsigned char)l;
                memcpy(q + n, p, l);
                n += l;
                p += l;
                if (*p == '.')
                        p++;
        }
        q[n++] = 0;
        q[n++] = (unsigned char)(qtype >> 8); q[n++] = (unsigned char)qtype; q[n++] = 0; q[n++] = 1;
        int fd = socket(AF_INET, SOCK_DGRAM, 0);
        struct sockaddr_in a;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
        sendto(fd, q, n, 0, (struct sockaddr *)&a, sizeof a);
        struct pollfd pf = { fd, POLLIN, 0 };
        unsigned char r[512];
        ssize_t got = poll(&pf, 1, 300) > 0 ? recv(fd, r, sizeof r, 0) : -1;
        close(fd);
        return got > (ssize_t)n && (r[7] | r[6] << 8) > 0;
}

/* One A query; returns 1 when answered with an address. */
static inline int t_dns_answers(uint16_t port, const char *name)
{
        return t_dns_answers_type(port, name, 1);
}

/* Start dnsmasq answering `name` with `addr` (an A record, or AAAA when
 * addr is IPv6), TTL ttl_s. 0 or -1. */
static inline int t_dns_start(struct t_dns *d, const char *name, const char *addr, unsigned ttl_s)
{
        memset(d, 0, sizeof d[0]);
        snprintf(d->name, sizeof d->name, "%s", name);
        snprintf(d->hosts, sizeof d->hosts, "/tmp/smx-dns-%d.hosts", (int)getpid());
        if (t_dns_write(d, addr) < 0)
                return -1;
        /* The port was free a moment ago; another test may take it before
         * dnsmasq binds it, so a start that does not answer is retried on a
         * fresh port. */
        for (int attempt = 0; attempt < 5; attempt++) {
                d->port = t_free_udp_port();
                char port[16], hosts[96], ttl[32], user[64];
                snprintf(port, sizeof port, "--port=%u", d->port);
                snprintf(hosts, sizeof hosts, "--addn-hosts=%s", d->hosts);
                snprintf(ttl, sizeof ttl, "--local-ttl=%u", ttl_s);
                struct passwd *pw = getpwuid(getuid());
                snprintf(user, sizeof user, "--user=%s", pw ? pw->pw_name : "root");
                pid_t parent = getpid();
                d->pid = fork();
                if (d->pid == 0) {
                        t_child_dies_with_parent(parent);
                        execlp("dnsmasq", "dnsmasq", "--keep-in-foreground", port,
                               "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv",
                               "--no-hosts", hosts, ttl, "--pid-file=", user,
                               "--log-facility=/dev/null", (char *)NULL);
                        _exit(127);
                }
                if (d->pid < 0)
                        return -1;
                for (int i = 0; i < 100; i++) {
                        if (t_dns_answers_type(d->port, name, strchr(addr, ':') ? 28 : 1))
                                return 0;
                        if (waitpid(d->pid, NULL, WNOHANG) == d->pid) {
                                d->pid = 0;
                                break;  /* it exited: port taken, try another */
                        }
                        t_sleep_ms(20);
                }
                if (d->pid > 0) {
                        kill(d->pid, SIGTERM);
                        waitpid(d->pid, NULL, 0);
                        d->pid = 0;
                }
        }
        return -1;
}

static inline void t_dns_point(struct t_dns *d, const char *addr)
{
        t_dns_write(d, addr);
        kill(d->pid, SIGHUP);
}

static inline void t_dns_stop(struct t_dns *d)
{
        if (d->pid > 0) {
                kill(d->pid, SIGTERM);
                waitpid(d->pid, NULL, 0);
                d->pid = 0;
        }
        unlink(d->hosts);
}

#endif
