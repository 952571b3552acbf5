/* c-ares resolver with TTLs for strategy A (see http_resolve.h). One
 * lookup (ares_getaddrinfo: A and AAAA) at a time; the shortest TTL among
 * the records of the answer (addresses and CNAMEs) decides how long the
 * first address may be used.
 *
 * A name the hosts file lists is taken from there first, as the system's
 * resolver does (files before DNS): its IPv4 entry, else its IPv6 one. The
 * file has no TTL, so its answer lives HOSTS_TTL_S and the file is read
 * again before that ends: an edit takes effect within a second, and a name
 * removed from it goes to DNS. Before, such a name (`localhost`, a name
 * pinned in /etc/hosts) was asked of DNS only and, where DNS did not know
 * it, nothing was ever sent. */
#include <arpa/inet.h>
#include <netdb.h>
#include <ares.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "http/http_resolve.h"
#include "log/log.h"

#define RETRY_MS 500            /* after a failed query */
#define REFRESH_MIN_MS 250      /* refresh at least this long before expiry */
#define HOSTS_TTL_S 1           /* lifetime of a hosts-file answer */

/* Owned by the one thread that drives it. */
struct http_resolver {
        ares_channel ch;
        char name[256];
        uint32_t grace_ms;
        int in_flight;
        uint64_t now_ms;           /* clock of the last call, for the callback */
        struct http_addr addr;
        int have;                  /* addr is set */
        uint64_t got_ms, expires_ms;
        uint64_t next_query_ms;
        int from_hosts;            /* the address came from the hosts file */
        uint32_t gen;
        int lapsed;                /* the current gen's address is no longer usable */
        struct http_addr avoid;    /* hung: pass over it until avoid_until_ms */
        uint64_t avoid_until_ms;
        struct http_resolve_stats st;
};

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static void lib_init(void)
{
        ares_library_init(ARES_LIB_INIT_ALL);
}

struct http_resolver *http_resolve_create(const char *name, const char *server,
                                          uint32_t grace_ms, char *err, size_t err_len)
{
        pthread_once(&lib_once, lib_init);
        if (!name || strlen(name) >= 256) {
                snprintf(err, err_len, "resolver: bad host name");
                return NULL;
        }
        struct http_resolver *r = calloc(1, sizeof *r);
        if (!r) {
                snprintf(err, err_len, "resolver: out of memory");
                return NULL;
        }
        memcpy(r->name, name, strlen(name) + 1);
        r->grace_ms = grace_ms;
        struct ares_options o;
        memset(&o, 0, sizeof o);
        o.timeout = 1000;
        o.tries = 2;
        o.flags = ARES_FLAG_NOSEARCH;
        o.lookups = (char *)"b";    /* DNS only: a hosts-file entry has no TTL */
        int rc = ares_init_options(&r->ch, &o, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS |
                                   ARES_OPT_LOOKUPS);
        if (rc != ARES_SUCCESS) {
                snprintf(err, err_len, "resolver: %s", ares_strerror(rc));
                free(r);
                return NULL;
        }
        if (server && *server) {
                rc = ares_set_servers_ports_csv(r->ch, server);
                if (rc != ARES_SUCCESS) {
                        snprintf(err, err_len, "resolver: bad DNS server '%s': %s", server,
                                 ares_strerror(rc));
                        ares_destroy(r->ch);
                        free(r);
                        return NULL;
                }
        }
        return r;
}

void http_resolve_destroy(struct http_resolver *r)
{
        if (!r)
                return;
        ares_destroy(r->ch);   /* runs the pending callback with ARES_EDESTRUCTION */
        free(r);
}

static int node_is(const struct ares_addrinfo_node *n, const struct http_addr *a)
{
        if (n->ai_family != a->family)
                return 0;
        if (n->ai_family == AF_INET) {
                struct sockaddr_in sin;
                memcpy(&sin, n->ai_addr, sizeof sin);
                return memcmp(&sin.sin_addr, &a->a.v4, 4) == 0;
        }
        struct sockaddr_in6 sin6;
        memcpy(&sin6, n->ai_addr, sizeof sin6);
        return memcmp(&sin6.sin6_addr, &a->a.v6, 16) == 0;
}

/* The first address of an answer (passing over `avoid` when another is
 * there; avoid NULL: none), and the shortest TTL in it. 0, or -1 when it
 * holds no address. */
static int first_address(const struct ares_addrinfo *ai, const struct http_addr *avoid,
                         struct http_addr *out, int *ttl)
{
        const struct ares_addrinfo_node *first = NULL, *other = NULL;
        int t = -1;
        for (const struct ares_addrinfo_node *n = ai->nodes; n; n = n->ai_next) {
                if (n->ai_family != AF_INET && n->ai_family != AF_INET6)
                        continue;
                if (!first)
                        first = n;
                if (avoid && !other && !node_is(n, avoid))
                        other = n;
                if (t < 0 || n->ai_ttl < t)
                        t = n->ai_ttl;
        }
        if (avoid && other)
                first = other;
        if (!first)
                return -1;
        for (const struct ares_addrinfo_cname *c = ai->cnames; c; c = c->next)
                if (c->ttl < t)
                        t = c->ttl;
        memset(out, 0, sizeof *out);
        out->family = first->ai_family;
        if (first->ai_family == AF_INET) {
                struct sockaddr_in sin;
                memcpy(&sin, first->ai_addr, sizeof sin);
                out->a.v4 = sin.sin_addr;
        } else {
                struct sockaddr_in6 sin6;
                memcpy(&sin6, first->ai_addr, sizeof sin6);
                out->a.v6 = sin6.sin6_addr;
        }
        inet_ntop(out->family, &out->a, out->text, sizeof out->text);
        *ttl = t < 0 ? 0 : t;
        return 0;
}

static void take_address(struct http_resolver *r, const struct http_addr *ap, int ttl, int from_hosts);

static void on_answer(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
        struct http_resolver *r = arg;
        (void)timeouts;
        r->in_flight = 0;
        if (status == ARES_EDESTRUCTION) {
                ares_freeaddrinfo(ai);
                return;
        }
        struct http_addr a;
        int ttl = 0;
        const struct http_addr *avoid = r->now_ms < r->avoid_until_ms ? &r->avoid : NULL;
        if (status == ARES_SUCCESS && (!ai || first_address(ai, avoid, &a, &ttl) < 0))
                status = ARES_ENODATA;
        ares_freeaddrinfo(ai);
        if (status != ARES_SUCCESS) {
                atomic_fetch_add(&r->st.failures, 1);
                r->next_query_ms = r->now_ms + RETRY_MS;
                smx_logf(SMX_LOG_WARN, NULL, NULL, "http: resolving %s failed: %s%s", r->name,
                         ares_strerror(status),
                         r->have ? " (keeping the last address within the grace)" : "");
                return;
        }
        take_address(r, &a, ttl, 0);
}

/* A hosts-file entry for the name: its IPv4 address, else its IPv6 one.
 * 0, or -1 when the file does not list it. */
static int hosts_address(struct http_resolver *r, struct http_addr *out)
{
        static const int families[] = { AF_INET, AF_INET6 };
        for (unsigned i = 0; i < 2; i++) {
                struct hostent *he = NULL;
                if (ares_gethostbyname_file(r->ch, r->name, families[i], &he) != ARES_SUCCESS || !he)
                        continue;
                int ok = he->h_addrtype == families[i] && he->h_addr_list && he->h_addr_list[0];
                if (ok) {
                        memset(out, 0, sizeof *out);
                        out->family = families[i];
                        memcpy(&out->a, he->h_addr_list[0], families[i] == AF_INET ? 4 : 16);
                        inet_ntop(out->family, &out->a, out->text, sizeof out->text);
                }
                ares_free_hostent(he);
                if (ok)
                        return 0;
        }
        return -1;
}

/* An answer (DNS, or the hosts file when from_hosts): the address to use
 * and how long. */
static void take_address(struct http_resolver *r, const struct http_addr *ap, int ttl, int from_hosts)
{
        struct http_addr a = *ap;
        if (from_hosts && !r->from_hosts)
                smx_logf(SMX_LOG_INFO, NULL, NULL, "http: %s is in the hosts file: %s (read again every %d s)",
                         r->name, a.text, HOSTS_TTL_S);
        r->from_hosts = from_hosts;
        atomic_fetch_add(&r->st.answers, 1);
        atomic_store(&r->st.last_ttl_s, (uint32_t)ttl);
        int same = r->have && strcmp(a.text, r->addr.text) == 0;
        if (!same || r->lapsed) {
                if (r->have && !same) {
                        atomic_fetch_add(&r->st.changes, 1);
                        smx_logf(SMX_LOG_INFO, NULL, NULL, "http: %s now resolves to %s (was %s), ttl %d s",
                                 r->name, a.text, r->addr.text, ttl);
                }
                r->addr = a;
                r->gen++;
                r->lapsed = 0;
        }
        r->have = 1;
        r->got_ms = r->now_ms;
        r->expires_ms = r->now_ms + (uint64_t)ttl * 1000u;
        uint64_t ttl_ms = (uint64_t)ttl * 1000u;
        uint64_t lead = ttl_ms / 4 > REFRESH_MIN_MS ? ttl_ms / 4 : REFRESH_MIN_MS;
        /* a TTL too short to refresh ahead (0 included): ask again soon,
         * but not in a loop */
        r->next_query_ms = ttl_ms > lead ? r->expires_ms - lead : r->now_ms + REFRESH_MIN_MS;
}

void http_resolve_tick(struct http_resolver *r, uint64_t now_ms)
{
        r->now_ms = now_ms;
        if (r->in_flight || now_ms < r->next_query_ms)
                return;
        struct http_addr h;
        if (hosts_address(r, &h) == 0) {
                take_address(r, &h, HOSTS_TTL_S, 1);
                return;
        }
        r->in_flight = 1;
        atomic_fetch_add(&r->st.queries, 1);
        /* the TTL counts from when we asked: an answer that took a while is
         * not trusted longer than it was valid */
        struct ares_addrinfo_hints hints;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;     /* A and AAAA */
        hints.ai_socktype = SOCK_STREAM;
        ares_getaddrinfo(r->ch, r->name, NULL, &hints, on_answer, r);
}

void http_resolve_avoid(struct http_resolver *r, const struct http_addr *a, uint64_t now_ms,
                        uint32_t avoid_ms)
{
        r->avoid = *a;
        r->avoid_until_ms = now_ms + avoid_ms;
        r->next_query_ms = now_ms;
        http_resolve_tick(r, now_ms);
}

int http_resolve_fds(struct http_resolver *r, struct pollfd *fds, int max)
{
        ares_socket_t s[ARES_GETSOCK_MAXNUM];
        /* the bit mask is read as unsigned: c-ares' own macros shift a
         * signed 1 into bit 31 for the last socket */
        unsigned bits = (unsigned)ares_getsock(r->ch, s, ARES_GETSOCK_MAXNUM);
        int n = 0;
        for (int i = 0; i < ARES_GETSOCK_MAXNUM && n < max; i++) {
                short ev = 0;
                if ((bits >> i) & 1u)
                        ev |= POLLIN;
                if ((bits >> (i + ARES_GETSOCK_MAXNUM)) & 1u)
                        ev |= POLLOUT;
                if (!ev)
                        continue;
                fds[n].fd = s[i];
                fds[n].events = ev;
                fds[n].revents = 0;
                n++;
        }
        return n;
}

void http_resolve_process(struct http_resolver *r, const struct pollfd *fds, int n)
{
        for (int i = 0; i < n; i++) {
                if (!fds[i].revents)
                        continue;
                ares_socket_t rd = (fds[i].revents & (POLLIN | POLLERR | POLLHUP)) ? fds[i].fd : ARES_SOCKET_BAD;
                ares_socket_t wr = (fds[i].revents & POLLOUT) ? fds[i].fd : ARES_SOCKET_BAD;
                ares_process_fd(r->ch, rd, wr);
        }
        ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);   /* timeouts */
}

uint32_t http_resolve_next_ms(struct http_resolver *r, uint64_t now_ms)
{
        uint64_t wait = 1000;
        if (!r->in_flight)
                wait = r->next_query_ms > now_ms ? r->next_query_ms - now_ms : 0;
        struct timeval tv, max = { 1, 0 };
        if (ares_timeout(r->ch, &max, &tv)) {
                uint64_t t = (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
                if (t < wait)
                        wait = t;
        }
        if (r->have && !r->lapsed) {
                uint64_t end = r->expires_ms;
                if (end > now_ms && end - now_ms < wait)
                        wait = end - now_ms;
        }
        return wait > 1000 ? 1000 : (uint32_t)wait;
}

enum http_addr_state http_resolve_get(struct http_resolver *r, uint64_t now_ms, struct http_addr *addr,
                                      uint32_t *gen, uint64_t *expires_ms)
{
        if (!r->have)
                return HTTP_ADDR_NONE;
        enum http_addr_state st;
        if (now_ms < r->expires_ms) {
                st = HTTP_ADDR_FRESH;
                *expires_ms = r->expires_ms;
        } else if (now_ms < r->expires_ms + r->grace_ms) {
                st = HTTP_ADDR_GRACE;
                *expires_ms = r->expires_ms + r->grace_ms;
                atomic_fetch_add_explicit(&r->st.grace_uses, 1, memory_order_relaxed);
        } else {
                if (!r->lapsed) {
                        r->lapsed = 1;
                        r->gen++;
                        atomic_fetch_add(&r->st.lapses, 1);
                        smx_logf(SMX_LOG_ERROR, NULL, NULL,
                                 "http: %s: no valid address (TTL and grace over, resolution failing)", r->name);
                }
                return HTTP_ADDR_NONE;
        }
        *addr = r->addr;
        *gen = r->gen;
        return st;
}

const struct http_resolve_stats *http_resolve_stats(const struct http_resolver *r)
{
        return &r->st;
}
