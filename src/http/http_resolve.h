/* The strategy-A resolver (SERVICE.md H2): one host name, resolved with
 * c-ares so the TTL of every answer is known. A and AAAA records are both
 * asked for; the address used is the first of the answer in the order
 * c-ares gives it (RFC 6724 destination order, as getaddrinfo), so the
 * resolver decides between IPv4 and IPv6. A name the hosts file lists is
 * taken from it first (its IPv4 entry, else its IPv6 one), as the system's
 * resolver does; with no TTL there, that answer lives 1 s and the file is
 * read again before it ends.
 *
 * The address is valid until the answer's TTL runs out; a query is started
 * again before that (at three quarters of the TTL, at least 250 ms before the
 * end). When a query fails the last address is kept for a bounded grace after
 * its expiry (and every use in grace is counted, so it is reported), then
 * dropped. An address the caller found hung (http_resolve_avoid) is passed
 * over for a while in favour of the next address of the answer, if there is
 * one. `gen` changes whenever the address to use changes or lapses, so
 * the caller knows when to stop using, and close, connections to the old one.
 *
 * Driven by its owner's loop (one thread): fds() and next_ms() say what to
 * wait for, process() and tick() do the work. Not thread-safe except the
 * counters in struct http_resolve_stats, which are atomics. */
#ifndef SMX_HTTP_RESOLVE_H
#define SMX_HTTP_RESOLVE_H

#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>

enum http_addr_state {
        HTTP_ADDR_NONE = 0,     /* nothing usable (yet, or grace is over) */
        HTTP_ADDR_FRESH,        /* within the answer's TTL */
        HTTP_ADDR_GRACE,        /* TTL over, resolution failing, grace running */
};

struct http_resolve_stats {
        _Atomic uint64_t queries, answers, failures, changes, grace_uses, lapses;
        _Atomic uint32_t last_ttl_s;
};

/* One resolved address: family, bytes, and the text form (no brackets). */
struct http_addr {
        int family;                      /* AF_INET or AF_INET6 */
        union {
                struct in_addr v4;
                struct in6_addr v6;
        } a;
        char text[INET6_ADDRSTRLEN];
};

struct http_resolver;

/* name: the host to resolve (A and AAAA records). server: "host:port" of the DNS
 * server, NULL for the system's resolvers. grace_ms: how long past expiry the
 * last address may still be used while resolution fails. Returns NULL with
 * a message in err on failure. */
struct http_resolver *http_resolve_create(const char *name, const char *server,
                                          uint32_t grace_ms, char *err, size_t err_len);
void http_resolve_destroy(struct http_resolver *r);

/* Start the query that is due (first one, refresh, retry after failure). */
void http_resolve_tick(struct http_resolver *r, uint64_t now_ms);

/* The address `a` hung (it took requests and answered none): ask again at
 * once, and for the next avoid_ms prefer any other address an answer
 * offers (when it offers none, `a` is still used). One address is avoided
 * at a time: the latest. */
void http_resolve_avoid(struct http_resolver *r, const struct http_addr *a, uint64_t now_ms,
                        uint32_t avoid_ms);

/* The sockets c-ares waits on, as pollfds (at most max). */
int http_resolve_fds(struct http_resolver *r, struct pollfd *fds, int max);

/* Handle readiness reported in fds (revents) and c-ares' own timeouts. */
void http_resolve_process(struct http_resolver *r, const struct pollfd *fds, int n);

/* Milliseconds until tick/process has something to do (capped at 1000). */
uint32_t http_resolve_next_ms(struct http_resolver *r, uint64_t now_ms);

/* The address to use now. Fills addr and *gen; *expires_ms is when it
 * stops being usable (end of TTL, or end of grace). */
enum http_addr_state http_resolve_get(struct http_resolver *r, uint64_t now_ms, struct http_addr *addr,
                                      uint32_t *gen, uint64_t *expires_ms);

const struct http_resolve_stats *http_resolve_stats(const struct http_resolver *r);

#endif
