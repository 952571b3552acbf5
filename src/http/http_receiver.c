/* The H4 receiver on libmicrohttpd (see http_receiver.h). MHD parses HTTP;
 * this file hands the request line and headers to http_rx_check_head,
 * collects the body into a fixed buffer, has it judged by http_rx_parse and
 * http_rx_check_secret (http_rx_parse.c: the pure part) and answers by what
 * the deliver callback says.
 *
 * The receiver thread is ours, not MHD's internal polling thread
 * (http_mhd_loop.c: MHD's internal epoll thread can leave a burst of
 * requests ready at once unread until the idle timeout, then close them
 * unanswered). */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http/http_form.h"
#include "http/http_mhd_loop.h"
#include "http/http_receiver.h"
#include "log/log.h"

#define ALLOW_MAX 32

/* rx_req.answer besides an HTTP_RX_* result: */
#define ANS_PENDING (-1)        /* deferred, no answer yet */
#define ANS_ABANDONED (-2)      /* the close gave up waiting: answered 503 */
#define ANS_CLAIMED (-3)        /* the answerer will answer (http_rx_claim) */

/* One allowed network: family, address bytes (4 or 16), prefix length. */
struct allow_ent {
        int family;
        unsigned bits;
        unsigned char net[16];
};

/* Per request: the body so far. Receiver thread only, except `answer`,
 * which http_rx_answer writes (any thread) while the connection is
 * suspended, before it resumes it, `refs` and `all_next`.
 *
 * A deferred request whose answer does not come within HTTP_RX_CLOSE_WAIT_MS
 * of the close is abandoned by the closing thread: answer goes from
 * ANS_PENDING to ANS_ABANDONED (one compare-and-swap: it or the answerer
 * wins, never both), it answers 503 itself, and the request's memory is then
 * shared by the connection (until on_completed) and the answerer's ticket
 * (until its late http_rx_claim / http_rx_answer): `refs`, the last one
 * frees it. It is on no free list, so the receiver may be gone by then. */
struct rx_req {
        size_t len;
        int too_big;
        size_t dropped;               /* body bytes over max_body, read and dropped */
        uint64_t start_ms;            /* headers in (CLOCK_MONOTONIC) */
        struct rx_req *next_free;
        struct http_receiver *r;
        struct MHD_Connection *conn;
        int deferred;                 /* suspended for http_rx_answer */
        int was_deferred;             /* ...and not finished yet (r->n_unfinished) */
        _Atomic int answer;           /* its HTTP_RX_* once given, else ANS_* */
        _Atomic int refs;             /* abandoned: connection + ticket */
        struct rx_req *all_next;      /* every request ever allocated (r->all) */
        char body[];
};

struct http_receiver {
        struct http_rx_config cfg;
        char secret[128];
        size_t secret_len;
        struct allow_ent allow[ALLOW_MAX];
        unsigned n_allow;
        http_rx_deliver_fn fn;
        void *arg;
        struct http_mhd_loop loop;    /* the daemon and the receiver thread
                                       * that runs it */
        struct MHD_Response *ok, *busy;
        struct rx_req *free_reqs;     /* receiver thread only */
        _Atomic(struct rx_req *) all; /* every rx_req allocated, newest first:
                                       * pushed by the receiver thread, walked by
                                       * the close to abandon what waits too long */
        uint16_t port;
        struct http_rx_msg msg;       /* scratch, receiver thread only */
        struct rx_req *cur;           /* the request the callback runs for */
        _Atomic uint32_t n_deferred;  /* suspended, answer not given yet */
        _Atomic uint32_t n_unfinished;        /* deferred, answer not sent yet */
        uint32_t close_wait_ms;       /* the close waits this long for deferred
                                       * answers, then abandons them (503) */
        _Atomic int closing;          /* set by http_rx_close (the client's
                                       * drain, or http_rx_stop): deliver is
                                       * not called again, nothing more is
                                       * deferred, a new message gets 503 at
                                       * once */
        struct http_rx_stats st;
};

void http_rx_config_init(struct http_rx_config *c)
{
        memset(c, 0, sizeof *c);
        c->listen = "127.0.0.1:0";
        c->max_body = 16384;
        c->max_field = 256;
        c->max_headers = 64;
        c->idle_timeout_s = 15;
        c->max_conns = 4096;
        c->max_conns_per_ip = 512;
        c->max_request_s = 30;
}

static uint64_t rx_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The first `bits` bits of a and b are equal. */
static int prefix_eq(const unsigned char *a, const unsigned char *b, unsigned bits)
{
        unsigned whole = bits / 8, rest = bits % 8;
        if (memcmp(a, b, whole) != 0)
                return 0;
        if (!rest)
                return 1;
        unsigned char mask = (unsigned char)(0xFFu << (8 - rest));
        return (a[whole] & mask) == (b[whole] & mask);
}

/* "ADDR[/N],...": IPv4 (N <= 32) or IPv6 (N <= 128) networks. */
static int allow_parse(struct http_receiver *r, const char *list, char *err, size_t err_len)
{
        const char *p = list;
        while (*p) {
                const char *e = strchr(p, ',');
                size_t l = e ? (size_t)(e - p) : strlen(p);
                char tmp[INET6_ADDRSTRLEN + 8];
                if (l == 0 || l >= sizeof tmp || r->n_allow >= ALLOW_MAX) {
                        snprintf(err, err_len, "http receiver: bad allow list");
                        return -1;
                }
                memcpy(tmp, p, l);
                tmp[l] = 0;
                struct allow_ent *ent = &r->allow[r->n_allow];
                memset(ent, 0, sizeof *ent);
                char *slash = strchr(tmp, '/');
                if (slash)
                        *slash = 0;
                if (inet_pton(AF_INET, tmp, ent->net) == 1)
                        ent->family = AF_INET;
                else if (inet_pton(AF_INET6, tmp, ent->net) == 1)
                        ent->family = AF_INET6;
                else {
                        snprintf(err, err_len, "http receiver: bad address '%s' in allow list", tmp);
                        return -1;
                }
                uint32_t max_bits = ent->family == AF_INET ? 32 : 128, b = max_bits;
                if (slash && http_parse_uint(slash + 1, strlen(slash + 1), max_bits, &b) < 0) {
                        snprintf(err, err_len, "http receiver: bad prefix in allow list");
                        return -1;
                }
                ent->bits = b;
                r->n_allow++;
                p += l;
                if (*p == ',')
                        p++;
        }
        return 0;
}

/* 1 when the source addr is in the allow list. An IPv4-mapped IPv6
 * source (::ffff:A.B.C.D, a dual-stack socket) is matched as IPv4. */
static int allowed(const struct http_receiver *r, const struct sockaddr *addr, socklen_t len)
{
        unsigned char a[16];
        int family = addr->sa_family;
        if (family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
                struct sockaddr_in sin;
                memcpy(&sin, addr, sizeof sin);
                memcpy(a, &sin.sin_addr, 4);
        } else if (family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
                struct sockaddr_in6 sin6;
                memcpy(&sin6, addr, sizeof sin6);
                if (IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr)) {
                        family = AF_INET;
                        memcpy(a, &sin6.sin6_addr.s6_addr[12], 4);
                } else {
                        memcpy(a, &sin6.sin6_addr, 16);
                }
        } else {
                return 0;
        }
        for (unsigned i = 0; i < r->n_allow; i++)
                if (r->allow[i].family == family && prefix_eq(a, r->allow[i].net, r->allow[i].bits))
                        return 1;
        return 0;
}

static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t len)
{
        struct http_receiver *r = cls;
        if (!r->n_allow || allowed(r, addr, len))
                return MHD_YES;
        atomic_fetch_add_explicit(&r->st.forbidden, 1, memory_order_relaxed);
        return MHD_NO;
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *why)
{
        char buf[128];
        int n = snprintf(buf, sizeof buf, "%s\n", why);
        struct MHD_Response *rs = MHD_create_response_from_buffer((size_t)n, buf, MHD_RESPMEM_MUST_COPY);
        if (!rs)
                return MHD_NO;
        MHD_add_response_header(rs, "Content-Type", "text/plain");
        enum MHD_Result ret = MHD_queue_response(c, status, rs);
        MHD_destroy_response(rs);
        return ret;
}

static enum MHD_Result bad(struct http_receiver *r, struct MHD_Connection *c, unsigned status,
                           const char *why)
{
        atomic_fetch_add_explicit(status == 413 ? &r->st.too_large :
                                  status == 403 ? &r->st.forbidden : &r->st.bad,
                                  1, memory_order_relaxed);
        return answer(c, status, why);
}

static struct rx_req *req_get(struct http_receiver *r)
{
        struct rx_req *q = r->free_reqs;
        if (q) {
                r->free_reqs = q->next_free;
        } else {
                q = malloc(sizeof *q + r->cfg.max_body + 1);
                if (q) {
                        q->all_next = atomic_load_explicit(&r->all, memory_order_relaxed);
                        atomic_store_explicit(&r->all, q, memory_order_release);
                }
        }
        if (q) {
                q->len = 0;
                q->too_big = 0;
                q->dropped = 0;
                q->start_ms = rx_now_ms();
                q->r = r;
                q->conn = NULL;
                q->deferred = 0;
                q->was_deferred = 0;
                atomic_store_explicit(&q->answer, HTTP_RX_BUSY, memory_order_relaxed);
                atomic_store_explicit(&q->refs, 0, memory_order_relaxed);
        }
        return q;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
        struct http_receiver *r = cls;
        (void)c;
        (void)toe;
        struct rx_req *q = *con_cls;
        if (q && q != (void *)r) {
                if (q->was_deferred)
                        atomic_fetch_sub_explicit(&r->n_unfinished, 1, memory_order_release);
                if (atomic_load_explicit(&q->answer, memory_order_acquire) == ANS_ABANDONED) {
                        /* the ticket may still be out: the last of the two frees */
                        if (atomic_fetch_sub_explicit(&q->refs, 1, memory_order_acq_rel) == 1)
                                free(q);
                } else {
                        q->next_free = r->free_reqs;
                        r->free_reqs = q;
                }
        }
        *con_cls = NULL;
}

static enum MHD_Result first_call(struct http_receiver *r, struct MHD_Connection *c,
                                  const char *url, const char *method, void **con_cls)
{
        atomic_fetch_add_explicit(&r->st.requests, 1, memory_order_relaxed);
        *con_cls = r;    /* marks "answered early": no body is kept */
        int nh = MHD_get_connection_values(c, MHD_HEADER_KIND, NULL, NULL);
        struct http_rx_head h = {
                .path = url, .method = method,
                .content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
                .content_length = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH),
                .n_headers = nh < 0 ? UINT_MAX : (unsigned)nh,
        };
        const char *why = "bad request";
        int st = http_rx_check_head(&h, &r->cfg, &why);
        if (st)
                return bad(r, c, (unsigned)st, why);
        struct rx_req *q = req_get(r);
        if (!q)
                return answer(c, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
        q->conn = c;
        *con_cls = q;
        return MHD_YES;
}

/* The answer for what the deliver callback (or, later, http_rx_answer)
 * said. */
static enum MHD_Result answer_result(struct http_receiver *r, struct MHD_Connection *c, int res)
{
        switch (res) {
        case HTTP_RX_OK:
                atomic_fetch_add_explicit(&r->st.delivered, 1, memory_order_relaxed);
                return MHD_queue_response(c, MHD_HTTP_OK, r->ok);
        case HTTP_RX_DUPLICATE:
                atomic_fetch_add_explicit(&r->st.duplicates, 1, memory_order_relaxed);
                return MHD_queue_response(c, MHD_HTTP_OK, r->ok);
        default:
                atomic_fetch_add_explicit(&r->st.busy, 1, memory_order_relaxed);
                return MHD_queue_response(c, MHD_HTTP_SERVICE_UNAVAILABLE, r->busy);
        }
}

void *http_rx_defer(struct http_receiver *r)
{
        struct rx_req *q = r->cur;
        q->deferred = 1;
        q->was_deferred = 1;
        atomic_store_explicit(&q->refs, 2, memory_order_relaxed);
        atomic_store_explicit(&q->answer, ANS_PENDING, memory_order_release);
        atomic_fetch_add_explicit(&r->n_deferred, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&r->n_unfinished, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&r->st.deferred, 1, memory_order_relaxed);
        MHD_suspend_connection(q->conn);
        return q;
}

/* The answerer's side of an abandoned ticket: drop its reference. */
static void ticket_release(struct rx_req *q)
{
        if (atomic_fetch_sub_explicit(&q->refs, 1, memory_order_acq_rel) == 1)
                free(q);
}

int http_rx_claim(void *ticket)
{
        struct rx_req *q = ticket;
        int exp = ANS_PENDING;
        if (atomic_compare_exchange_strong_explicit(&q->answer, &exp, ANS_CLAIMED,
                                                    memory_order_acq_rel, memory_order_acquire))
                return 1;
        ticket_release(q);      /* abandoned: answered 503 already */
        return 0;
}

int http_rx_answer(void *ticket, int result)
{
        struct rx_req *q = ticket;
        int exp = atomic_load_explicit(&q->answer, memory_order_acquire);
        /* PENDING -> result races with the close's PENDING -> ABANDONED;
         * CLAIMED is ours alone */
        while (exp != ANS_ABANDONED &&
               !atomic_compare_exchange_weak_explicit(&q->answer, &exp, result,
                                                      memory_order_acq_rel,
                                                      memory_order_acquire))
                ;
        if (exp == ANS_ABANDONED) {
                ticket_release(q);
                return 0;
        }
        struct http_receiver *r = q->r;
        struct MHD_Connection *c = q->conn;
        /* from here the receiver thread may answer, finish and reuse q: only
         * the values read above are used */
        MHD_resume_connection(c);
        http_mhd_loop_wake(&r->loop);   /* MHD has no wake-up of its own here */
        atomic_fetch_sub_explicit(&r->n_deferred, 1, memory_order_release);
        return 1;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
        struct http_receiver *r = cls;
        (void)version;
        if (!*con_cls)
                return first_call(r, c, url, method, con_cls);
        if (*con_cls == (void *)r) {
                *upload_size = 0;   /* answered already; drop the rest */
                return MHD_YES;
        }
        struct rx_req *q = *con_cls;
        if (q->deferred) {
                /* resumed by http_rx_answer */
                q->deferred = 0;
                return answer_result(r, c, atomic_load_explicit(&q->answer, memory_order_acquire));
        }
        if (*upload_size) {
                size_t n = *upload_size;
                if (rx_now_ms() - q->start_ms > (uint64_t)r->cfg.max_request_s * 1000u) {
                        /* a body trickled in slower than the deadline: close */
                        atomic_fetch_add_explicit(&r->st.too_slow, 1, memory_order_relaxed);
                        return MHD_NO;
                }
                if (q->too_big || n > r->cfg.max_body - q->len) {
                        q->too_big = 1;
                        q->dropped += n;
                        if (q->dropped > r->cfg.max_body) {
                                /* far over the limit (an endless chunked body):
                                 * stop reading it, close */
                                atomic_fetch_add_explicit(&r->st.too_large, 1, memory_order_relaxed);
                                return MHD_NO;
                        }
                } else {
                        memcpy(q->body + q->len, upload, n);
                        q->len += n;
                }
                *upload_size = 0;
                return MHD_YES;
        }
        if (q->too_big)
                return bad(r, c, MHD_HTTP_CONTENT_TOO_LARGE, "body too large");
        q->body[q->len] = 0;
        const char *why = "bad request";
        struct http_rx_msg *m = &r->msg;
        int st = http_rx_parse(q->body, q->len, &r->cfg, m, &why);
        if (st)
                return bad(r, c, (unsigned)st, why);
        const char *sh = r->secret_len ? MHD_lookup_connection_value(c, MHD_HEADER_KIND, HTTP_RX_SECRET_HEADER) : NULL;
        if ((st = http_rx_check_secret(r->secret, r->secret_len, sh, q->body, q->len, &why)))
                return bad(r, c, (unsigned)st, why);
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
                memcpy(&m->from.sin, ci->client_addr, sizeof m->from.sin);
        else if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET6)
                memcpy(&m->from.sin6, ci->client_addr, sizeof m->from.sin6);
        if (atomic_load_explicit(&r->closing, memory_order_seq_cst)) {
                /* closed (the client drained) or stopping: nothing new is
                 * acknowledged, nothing may be deferred (MHD cannot be
                 * stopped with a connection suspended); the service re-sends
                 * (H4), to this receiver's next life or another instance */
                return answer_result(r, c, HTTP_RX_BUSY);
        }
        r->cur = q;
        int res = r->fn(r->arg, m);
        r->cur = NULL;
        if (res == HTTP_RX_DEFER)
                return MHD_YES;         /* suspended: http_rx_answer resumes it */
        return answer_result(r, c, res);
}

/* "A.B.C.D:PORT" or "[IPv6]:PORT" into sa; returns its length, or -1. */
static socklen_t parse_listen(const char *s, struct sockaddr_storage *sa)
{
        const char *colon = s ? strrchr(s, ':') : NULL;
        if (!colon || colon == s)
                return (socklen_t)-1;
        const char *h = s;
        size_t hl = (size_t)(colon - s);
        int v6 = s[0] == '[';
        if (v6) {
                if (hl < 3 || s[hl - 1] != ']')
                        return (socklen_t)-1;
                h++;
                hl -= 2;
        }
        char host[INET6_ADDRSTRLEN];
        if (hl >= sizeof host)
                return (socklen_t)-1;
        memcpy(host, h, hl);
        host[hl] = 0;
        uint32_t port;
        if (http_parse_uint(colon + 1, strlen(colon + 1), 65535, &port) < 0)
                return (socklen_t)-1;
        memset(sa, 0, sizeof *sa);
        if (v6) {
                struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)sa;
                sin6->sin6_family = AF_INET6;
                sin6->sin6_port = htons((uint16_t)port);
                if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
                        return (socklen_t)-1;
                return (socklen_t)sizeof *sin6;
        }
        struct sockaddr_in *sin = (struct sockaddr_in *)sa;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
                return (socklen_t)-1;
        return (socklen_t)sizeof *sin;
}

int http_rx_start(const struct http_rx_config *cfg, http_rx_deliver_fn fn, void *arg,
                  struct http_receiver **out, char *err, size_t err_len)
{
        *out = NULL;
        struct sockaddr_storage sa;
        if (parse_listen(cfg->listen, &sa) == (socklen_t)-1) {
                snprintf(err, err_len, "http receiver: listen address must be A.B.C.D:PORT or "
                         "[IPv6]:PORT, got '%s'", cfg->listen ? cfg->listen : "");
                return -EINVAL;
        }
        uint16_t lport = sa.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&sa)->sin6_port)
                                                  : ntohs(((struct sockaddr_in *)&sa)->sin_port);
        struct http_receiver *r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        r->cfg = *cfg;
        r->cfg.listen = NULL;
        r->cfg.secret = r->cfg.allow = NULL;
        if (!r->cfg.max_body)
                r->cfg.max_body = 16384;
        if (!r->cfg.max_field)
                r->cfg.max_field = 256;
        if (!r->cfg.max_headers)
                r->cfg.max_headers = 64;
        if (!r->cfg.max_request_s)
                r->cfg.max_request_s = 30;
        r->fn = fn;
        r->arg = arg;
        r->close_wait_ms = cfg->close_wait_ms ? cfg->close_wait_ms : HTTP_RX_CLOSE_WAIT_MS;
        int rc = http_mhd_loop_init(&r->loop, "http receiver");
        if (rc < 0) {
                snprintf(err, err_len, "http receiver: eventfd: %s", strerror(-rc));
                free(r);
                return -ENOMEM;
        }
        if (cfg->secret && *cfg->secret) {
                r->secret_len = strlen(cfg->secret);
                if (r->secret_len >= sizeof r->secret) {
                        snprintf(err, err_len, "http receiver: secret too long");
                        http_mhd_loop_stop(&r->loop);
                        free(r);
                        return -EINVAL;
                }
                memcpy(r->secret, cfg->secret, r->secret_len);
        }
        if (cfg->allow && *cfg->allow && allow_parse(r, cfg->allow, err, err_len) < 0) {
                http_mhd_loop_stop(&r->loop);
                free(r);
                return -EINVAL;
        }
        static const char ok[] = "result_code=0\n", busy[] = "busy, retry\n";
        r->ok = MHD_create_response_from_buffer(sizeof ok - 1, (void *)ok, MHD_RESPMEM_PERSISTENT);
        r->busy = MHD_create_response_from_buffer(sizeof busy - 1, (void *)busy, MHD_RESPMEM_PERSISTENT);
        if (!r->ok || !r->busy) {
                http_rx_stop(r);
                return -ENOMEM;
        }
        MHD_add_response_header(r->busy, MHD_HTTP_HEADER_RETRY_AFTER, "1");
        /* no MHD_USE_INTERNAL_POLLING_THREAD: r->loop runs the daemon (see
         * the top of this file) */
        unsigned flags = HTTP_MHD_LOOP_FLAGS | MHD_USE_TURBO | MHD_ALLOW_SUSPEND_RESUME;
        /* set before the receiver thread exists: the deliver callback may
         * need it (http_rx_defer) for the very first request */
        *out = r;
        if (sa.ss_family == AF_INET6)
                flags |= MHD_USE_IPv6;   /* without MHD_USE_DUAL_STACK: IPv6 only */
        struct MHD_Daemon *d = MHD_start_daemon(flags, lport, on_accept, r, on_request, r,
                                MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(cfg->idle_timeout_s ? cfg->idle_timeout_s : 15),
                                MHD_OPTION_CONNECTION_LIMIT, (unsigned)(cfg->max_conns ? cfg->max_conns : 4096),
                                MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)(cfg->max_conns_per_ip ? cfg->max_conns_per_ip : 512),
                                MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
                                MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
                                MHD_OPTION_NOTIFY_COMPLETED, on_completed, r,
                                MHD_OPTION_END);
        if (!d) {
                *out = NULL;
                snprintf(err, err_len, "http receiver: cannot listen on %s", cfg->listen);
                http_rx_stop(r);
                return -EADDRINUSE;
        }
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
        r->port = di ? di->port : lport;
        rc = http_mhd_loop_start(&r->loop, d);
        if (rc < 0) {
                *out = NULL;
                snprintf(err, err_len, "http receiver: cannot start its thread: %s", strerror(-rc));
                http_rx_stop(r);
                return rc;
        }
        *out = r;
        return 0;
}

uint16_t http_rx_port(const struct http_receiver *r)
{
        return r->port;
}

/* The close gave up waiting: every deferred request still pending is
 * answered 503 by this thread. Its answerer's ticket stays valid (refs) and
 * its late answer is ignored. The list is only pushed to while we walk it
 * (nothing is freed before the stop's end but an abandoned request, which
 * only happens after we passed it). Returns how many. */
static unsigned abandon_pending(struct http_receiver *r)
{
        unsigned n = 0;
        struct rx_req *next;
        for (struct rx_req *q = atomic_load_explicit(&r->all, memory_order_acquire); q; q = next) {
                next = q->all_next;     /* before q may be freed (abandoned) */
                int exp = ANS_PENDING;
                if (!atomic_compare_exchange_strong_explicit(&q->answer, &exp, ANS_ABANDONED,
                                                             memory_order_acq_rel,
                                                             memory_order_acquire))
                        continue;
                /* q lives until on_completed (its connection's reference) */
                atomic_fetch_add_explicit(&r->st.abandoned, 1, memory_order_relaxed);
                MHD_resume_connection(q->conn);
                atomic_fetch_sub_explicit(&r->n_deferred, 1, memory_order_release);
                n++;
        }
        if (n)
                http_mhd_loop_wake(&r->loop);
        return n;
}

void http_rx_close(struct http_receiver *r)
{
        if (!r)
                return;
        /* From now on every message gets 503 at once instead of reaching
         * deliver (nor a deferral: MHD may not be stopped with a connection
         * suspended, 0.9.75 panics, and a ticket answered after the stop
         * would touch freed memory). Once the receiver thread has ended the
         * MHD_run it may be in (it may be delivering or deferring a message
         * that came before the flag), deliver is not called again and
         * n_deferred only falls: wait for the deferred answers (a shared
         * store gives each within its hold_ms once it sees Redis gone; the
         * client closes the receiver before it stops the store), for up to
         * close_wait_ms; then every one still pending is abandoned: answered
         * 503 here (the service re-sends it, H4), and the answerer's late
         * answer only frees the ticket (http_rx_answer). Called again
         * (http_rx_stop after the client's drain closed it), it returns at
         * once. */
        atomic_store_explicit(&r->closing, 1, memory_order_seq_cst);
        http_mhd_loop_sync(&r->loop);
        uint64_t t0 = rx_now_ms();
        int abandoned = 0;
        while (atomic_load_explicit(&r->n_deferred, memory_order_acquire) > 0) {
                if (!abandoned && rx_now_ms() - t0 >= r->close_wait_ms) {
                        abandoned = 1;
                        unsigned n = abandon_pending(r);
                        if (n)
                                smx_logf(SMX_LOG_WARN, NULL, NULL, "http receiver: closing: "
                                         "%u answers still waited for the store after %u ms: "
                                         "answered 503 (the service re-sends them)",
                                         n, r->close_wait_ms);
                        continue;
                }
                /* after abandon_pending only answers being given right now
                 * (claimed, or won the race) are left: they come at once */
                struct timespec ts = { 0, 1000000L };
                nanosleep(&ts, NULL);
        }
}

void http_rx_stop(struct http_receiver *r)
{
        if (!r)
                return;
        http_rx_close(r);
        /* then let the answers given go out (a peer that does not read
         * its answer is not waited for long: it re-sends, H4) */
        uint64_t t0 = rx_now_ms();
        while (atomic_load_explicit(&r->n_unfinished, memory_order_acquire) > 0 &&
               rx_now_ms() - t0 < 1000) {
                struct timespec ts = { 0, 1000000L };
                nanosleep(&ts, NULL);
        }
        /* the receiver thread goes, then MHD closes the connections left
         * (and calls on_completed) on this thread */
        http_mhd_loop_stop(&r->loop);
        if (r->ok)
                MHD_destroy_response(r->ok);
        if (r->busy)
                MHD_destroy_response(r->busy);
        while (r->free_reqs) {
                struct rx_req *q = r->free_reqs;
                r->free_reqs = q->next_free;
                free(q);
        }
        free(r);
}

const struct http_rx_stats *http_rx_stats(const struct http_receiver *r)
{
        return &r->st;
}
