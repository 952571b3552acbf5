/* Non-blocking resolution of SMSC host names for the worker (c-ares).
 *
 * A bind whose host is a name (IP literals never come here) starts a lookup
 * (ares_getaddrinfo: hosts file, then DNS; A and AAAA) when its connect
 * attempt starts and stays CONNECTING, with no socket, until the answer is
 * in. The lookup has the attempt's connect_timeout_ms: a failed or late
 * answer ends the attempt like a refused connect, so the rebind clock (R2)
 * paces the next one, and every attempt resolves afresh. Of several
 * addresses the attempt uses the first in c-ares' order (RFC 6724, as
 * getaddrinfo) that is not the one whose connect failed last
 * (worker_resolve_conn_failed), so a dead address is not retried while the
 * answer has another, even when the DNS server rotates its answers.
 *
 * One c-ares channel per worker, made on the first name lookup (a worker
 * with IP literals only never has one). Its sockets are watched with one-shot
 * io_uring polls on the worker's own ring (OP_RESOLVE completions), its
 * timeouts are run from the loop turn (worker_resolve_tick), so nothing here
 * blocks the loop and nothing costs anything per MT. The c-ares callback only
 * records the answer in the bind's slot; the loop turn acts on it. Everything
 * runs on the worker's thread: the resolver is found through a thread-local
 * pointer (struct smx_worker is core's), made and destroyed on that thread. */
#include <ares.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "worker/worker_int.h"

#define RES_SOCKS 16                /* c-ares sockets watched at once */
#define ARES_TRY_MS 1000            /* c-ares: first try's timeout (later tries longer) */
#define ARES_TRIES 2

const char *worker_resolve_dns_servers;

enum { SLOT_IDLE = 0, SLOT_PENDING, SLOT_DONE };

/* The lookup of one bind's current attempt. Owned by the worker thread. */
struct res_slot {
        uint32_t id;                       /* tags the attempt's callback */
        uint8_t state;
        int status;                        /* ARES_SUCCESS or the failure */
        uint64_t deadline_ms;
        struct sockaddr_storage failed;    /* the last address whose connect failed */
        socklen_t failed_len;              /* 0: none */
        struct sockaddr_storage addr;
        socklen_t addr_len;
};

/* A c-ares socket and its io_uring poll. Owned by the worker thread. */
struct res_sock {
        int fd;
        uint8_t active, armed;
        short want;                        /* POLLIN / POLLOUT */
        uint32_t tag;                      /* tags the poll's completion */
};

/* One worker's resolver: channel, sockets, one slot per bind. Worker thread only. */
struct worker_resolver {
        struct smx_worker *w;
        ares_channel ch;
        int ok;                            /* channel made */
        int closing;                       /* being destroyed: no more SQEs */
        unsigned pending;                  /* slots PENDING or DONE */
        unsigned outstanding;              /* c-ares callbacks still to come */
        uint64_t timeout_at_ms;            /* when c-ares next needs its timeouts run */
        struct res_sock socks[RES_SOCKS];
        struct res_slot *slots;            /* n_binds */
};

/* What a lookup's callback needs to find its slot. */
struct res_query {
        struct worker_resolver *r;
        unsigned local;
        uint32_t id;
};

static __thread struct worker_resolver *tls_res;

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static void lib_init(void)
{
        ares_library_init(ARES_LIB_INIT_ALL);
}

static struct worker_resolver *res_of(struct smx_worker *w)
{
        struct worker_resolver *r = tls_res;
        return r && r->w == w ? r : NULL;
}

static void sock_submit_poll(struct worker_resolver *r, unsigned i)
{
        struct res_sock *s = &r->socks[i];
        struct io_uring_sqe *sqe = worker_get_sqe(r->w);
        io_uring_prep_poll_add(sqe, s->fd, (unsigned)s->want);
        io_uring_sqe_set_data64(sqe, ud_make(OP_RESOLVE, i, s->tag));
        s->armed = 1;
}

static void sock_cancel_poll(struct worker_resolver *r, unsigned i)
{
        struct res_sock *s = &r->socks[i];
        if (s->armed && !r->closing) {
                struct io_uring_sqe *sqe = worker_get_sqe(r->w);
                io_uring_prep_poll_remove(sqe, ud_make(OP_RESOLVE, i, s->tag));
                io_uring_sqe_set_data64(sqe, ud_make(OP_RESOLVE, i, s->tag + 1));
        }
        s->armed = 0;
        s->tag += 2;   /* both completions above are now stale */
}

/* c-ares opens, changes or closes a socket (closed right after this call). */
static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
        struct worker_resolver *r = data;
        int free_i = -1, at = -1;
        for (unsigned i = 0; i < RES_SOCKS; i++) {
                if (r->socks[i].active && r->socks[i].fd == fd)
                        at = (int)i;
                else if (!r->socks[i].active && free_i < 0)
                        free_i = (int)i;
        }
        short want = (short)((readable ? POLLIN : 0) | (writable ? POLLOUT : 0));
        if (at >= 0) {
                struct res_sock *s = &r->socks[at];
                if (s->want == want)
                        return;
                sock_cancel_poll(r, (unsigned)at);
                s->want = want;
                if (!want)
                        s->active = 0;
                return;
        }
        if (!want)
                return;
        if (free_i < 0) {
                /* more sockets than watched: the lookups on it end by their deadline */
                smx_logf(SMX_LOG_WARN, NULL, NULL, "resolver: more than %d DNS sockets", RES_SOCKS);
                return;
        }
        struct res_sock *s = &r->socks[free_i];
        s->fd = fd;
        s->active = 1;
        s->armed = 0;
        s->want = want;
}

/* After any c-ares call: poll what c-ares waits on, note its next timeout. */
static void res_sync(struct worker_resolver *r, uint64_t now_ms)
{
        if (r->closing)
                return;
        for (unsigned i = 0; i < RES_SOCKS; i++)
                if (r->socks[i].active && r->socks[i].want && !r->socks[i].armed)
                        sock_submit_poll(r, i);
        r->timeout_at_ms = UINT64_MAX;
        if (r->outstanding) {
                struct timeval tv, max = { 1, 0 };
                const struct timeval *t = ares_timeout(r->ch, &max, &tv);
                uint64_t ms = t ? (uint64_t)t->tv_sec * 1000u + ((uint64_t)t->tv_usec + 999u) / 1000u
                                : 1000u;
                r->timeout_at_ms = now_ms + ms;
        }
}

static struct worker_resolver *res_create(struct smx_worker *w)
{
        pthread_once(&lib_once, lib_init);
        struct worker_resolver *r = calloc(1, sizeof *r);
        if (!r)
                return NULL;
        r->w = w;
        r->slots = calloc(w->n_binds ? w->n_binds : 1, sizeof *r->slots);
        if (!r->slots) {
                free(r);
                return NULL;
        }
        r->timeout_at_ms = UINT64_MAX;
        struct ares_options o;
        memset(&o, 0, sizeof o);
        o.timeout = ARES_TRY_MS;
        o.tries = ARES_TRIES;
        o.lookups = (char *)"fb";          /* hosts file, then DNS (as getaddrinfo) */
        o.sock_state_cb = on_sock_state;
        o.sock_state_cb_data = r;
        int rc = ares_init_options(&r->ch, &o, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
                                   ARES_OPT_LOOKUPS | ARES_OPT_SOCK_STATE_CB);
        if (rc != ARES_SUCCESS) {
                smx_logf(SMX_LOG_ERROR, NULL, NULL, "resolver: %s", ares_strerror(rc));
                return r;                  /* ok = 0: every lookup fails */
        }
        r->ok = 1;
        if (worker_resolve_dns_servers) {
                rc = ares_set_servers_ports_csv(r->ch, worker_resolve_dns_servers);
                if (rc != ARES_SUCCESS)
                        smx_logf(SMX_LOG_ERROR, NULL, NULL, "resolver: DNS servers '%s': %s",
                                 worker_resolve_dns_servers, ares_strerror(rc));
        }
        return r;
}

static int same_addr(const struct sockaddr *x, socklen_t xl, const struct sockaddr_storage *y,
                     socklen_t yl)
{
        if (yl == 0 || x->sa_family != y->ss_family)
                return 0;
        if (x->sa_family == AF_INET && xl >= sizeof(struct sockaddr_in))
                return ((const struct sockaddr_in *)x)->sin_addr.s_addr ==
                       ((const struct sockaddr_in *)y)->sin_addr.s_addr;
        if (x->sa_family == AF_INET6 && xl >= sizeof(struct sockaddr_in6))
                return !memcmp(&((const struct sockaddr_in6 *)x)->sin6_addr,
                               &((const struct sockaddr_in6 *)y)->sin6_addr,
                               sizeof(struct in6_addr));
        return 0;
}

/* The address this attempt uses: the first usable one that is not the slot's
 * last failed address, else the first. */
static int pick_address(const struct ares_addrinfo *ai, const struct res_slot *sl, uint16_t port,
                        struct sockaddr_storage *ss, socklen_t *len)
{
        const struct ares_addrinfo_node *first = NULL, *pick = NULL;
        for (const struct ares_addrinfo_node *x = ai->nodes; x && !pick; x = x->ai_next) {
                size_t sz = x->ai_family == AF_INET ? sizeof(struct sockaddr_in)
                          : x->ai_family == AF_INET6 ? sizeof(struct sockaddr_in6) : 0;
                if (sz == 0 || !x->ai_addr || x->ai_addrlen < sz)
                        continue;
                if (!first)
                        first = x;
                if (!same_addr(x->ai_addr, x->ai_addrlen, &sl->failed, sl->failed_len))
                        pick = x;
        }
        if (!pick)
                pick = first;
        if (!pick)
                return -1;
        size_t sz = pick->ai_family == AF_INET ? sizeof(struct sockaddr_in)
                                               : sizeof(struct sockaddr_in6);
        memset(ss, 0, sizeof *ss);
        memcpy(ss, pick->ai_addr, sz);
        if (pick->ai_family == AF_INET)
                ((struct sockaddr_in *)ss)->sin_port = htons(port);
        else
                ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
        *len = (socklen_t)sz;
        return 0;
}

/* c-ares' answer: only recorded here (it may run inside ares_getaddrinfo or
 * ares_process_fd); the loop turn acts on it. */
static void on_answer(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
        struct res_query *q = arg;
        struct worker_resolver *r = q->r;
        (void)timeouts;
        r->outstanding--;
        struct res_slot *sl = &r->slots[q->local];
        if (status != ARES_EDESTRUCTION && sl->state == SLOT_PENDING && sl->id == q->id) {
                struct smx_bind *b = r->w->binds[q->local];
                if (status == ARES_SUCCESS &&
                    (!ai || pick_address(ai, sl, b->port, &sl->addr, &sl->addr_len) < 0))
                        status = ARES_ENODATA;
                sl->status = status;
                sl->state = SLOT_DONE;
        }
        ares_freeaddrinfo(ai);
        free(q);
}

int worker_resolve_start(struct smx_worker *w, struct smx_bind *b)
{
        struct worker_resolver *r = res_of(w);
        if (!r) {
                r = res_create(w);
                if (!r)
                        return -1;
                tls_res = r;
        }
        if (!r->ok)
                return -1;
        struct res_query *q = malloc(sizeof *q);
        if (!q)
                return -1;
        struct res_slot *sl = &r->slots[b->local];
        if (sl->state == SLOT_IDLE)
                r->pending++;
        sl->id++;
        sl->state = SLOT_PENDING;
        sl->status = ARES_SUCCESS;
        sl->deadline_ms = w->now_ms + w->c->cfg.connect_timeout_ms;
        *q = (struct res_query){ .r = r, .local = b->local, .id = sl->id };
        r->outstanding++;
        struct ares_addrinfo_hints hints;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;       /* A and AAAA */
        hints.ai_socktype = SOCK_STREAM;
        ares_getaddrinfo(r->ch, b->host, NULL, &hints, on_answer, q);
        res_sync(r, w->now_ms);
        return 0;
}

static void slot_clear(struct worker_resolver *r, struct res_slot *sl)
{
        if (sl->state != SLOT_IDLE) {
                sl->state = SLOT_IDLE;
                sl->id++;                  /* a late answer is ignored */
                r->pending--;
        }
}

void worker_resolve_cancel(struct smx_worker *w, struct smx_bind *b)
{
        struct worker_resolver *r = res_of(w);
        if (r)
                slot_clear(r, &r->slots[b->local]);
}

void worker_resolve_conn_failed(struct smx_worker *w, struct smx_bind *b)
{
        struct worker_resolver *r = res_of(w);
        if (!r)
                return;
        struct res_slot *sl = &r->slots[b->local];
        sl->failed = b->addr;
        sl->failed_len = b->addr_len;
}

int worker_resolving(struct smx_worker *w, const struct smx_bind *b)
{
        struct worker_resolver *r = res_of(w);
        return r && r->slots[b->local].state != SLOT_IDLE;
}

void worker_resolve_on_cqe(struct smx_worker *w, unsigned i, uint32_t tag, int res)
{
        struct worker_resolver *r = res_of(w);
        if (!r || i >= RES_SOCKS)
                return;
        struct res_sock *s = &r->socks[i];
        if (!s->active || !s->armed || s->tag != tag)
                return;                    /* a cancelled poll, or its removal */
        s->armed = 0;
        int fd = s->fd;
        int rd = res < 0 || (res & (POLLIN | POLLERR | POLLHUP));
        int wr = res >= 0 && (res & POLLOUT);
        ares_process_fd(r->ch, rd ? fd : ARES_SOCKET_BAD, wr ? fd : ARES_SOCKET_BAD);
        res_sync(r, w->now_ms);
}

int worker_resolve_tick(struct smx_worker *w)
{
        struct worker_resolver *r = tls_res;
        if (!r || r->w != w || (!r->pending && !r->outstanding))
                return 0;
        struct smx_client *c = w->c;
        if (r->outstanding && w->now_ms >= r->timeout_at_ms) {
                ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
                res_sync(r, w->now_ms);
        }
        if (!r->pending)
                return 0;
        int work = 0;
        int shutting = atomic_load_explicit(&c->unbind_all, memory_order_relaxed) ||
                       atomic_load_explicit(&c->stop, memory_order_relaxed);
        for (unsigned i = 0; i < w->n_binds && r->pending; i++) {
                struct res_slot *sl = &r->slots[i];
                struct smx_bind *b = w->binds[i];
                if (sl->state == SLOT_PENDING) {
                        if (shutting) {
                                worker_close_conn(w, b, 0, "shutdown");
                                work = 1;
                        } else if (w->now_ms >= sl->deadline_ms) {
                                /* logged as the bind's down reason */
                                worker_close_conn(w, b, 0, "resolve: timed out");
                                work = 1;
                        }
                        continue;
                }
                if (sl->state != SLOT_DONE)
                        continue;
                work = 1;
                int status = sl->status;
                slot_clear(r, sl);
                if (shutting) {
                        worker_close_conn(w, b, 0, "shutdown");
                } else if (status != ARES_SUCCESS) {
                        char why[64];
                        snprintf(why, sizeof why, "resolve: %s", ares_strerror(status));
                        worker_close_conn(w, b, 0, why);
                } else {
                        worker_connect_addr(w, b, &sl->addr, sl->addr_len);
                }
        }
        return work;
}

void worker_resolve_fini(struct smx_worker *w)
{
        struct worker_resolver *r = res_of(w);
        if (!r)
                return;
        r->closing = 1;
        if (r->ok)
                ares_destroy(r->ch);       /* pending callbacks run with ARES_EDESTRUCTION */
        free(r->slots);
        free(r);
        tls_res = NULL;
}
