/* Connections: connect (with a linked timeout) to an IP literal at once, or
 * to a host name once worker_resolve.c has it (never blocking), the multishot
 * recv into the worker's provided-buffer ring, and framing of received bytes
 * into the bind's session (decoded in place; a PDU straddling two buffers is
 * copied into the bind's reassembly buffer). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log/log.h"
#include "worker/worker_int.h"

static uint32_t rnd32(struct smx_worker *w)
{
        uint64_t x = w->rnd;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        w->rnd = x;
        return (uint32_t)(x >> 16);
}

void worker_close_conn(struct smx_worker *w, struct smx_bind *b, uint32_t status, const char *reason)
{
        worker_resolve_cancel(w, b);
        if (b->sess.state == SMX_HEALTH_CONNECTING && b->fd >= 0)
                worker_resolve_conn_failed(w, b);   /* next attempt: another address */
        if (b->fd >= 0) {
                shutdown(b->fd, SHUT_RDWR);   /* ends the multishot recv */
                close(b->fd);
                b->fd = -1;
        }
        if (b->tls_cfg)
                worker_tls_end(b);
        b->conn_gen++;
        b->rbuf_len = 0;
        b->close_deadline_ms = 0;
        session_closed(&b->sess, w->now_ms, status, reason);
}

/* An IP literal as the connect target: 0, or -1 when the host is a name. */
static int literal_addr(const struct smx_bind *b, struct sockaddr_storage *ss, socklen_t *len)
{
        memset(ss, 0, sizeof *ss);
        struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        if (inet_pton(AF_INET, b->host, &a4->sin_addr) == 1) {
                a4->sin_family = AF_INET;
                a4->sin_port = htons(b->port);
                *len = sizeof *a4;
                return 0;
        }
        if (inet_pton(AF_INET6, b->host, &a6->sin6_addr) == 1) {
                a6->sin6_family = AF_INET6;
                a6->sin6_port = htons(b->port);
                *len = sizeof *a6;
                return 0;
        }
        return -1;
}

void worker_start_connect(struct smx_worker *w, struct smx_bind *b)
{
        rebind_attempt(&b->clk, w->now_ms, w->kn->rebind_interval_ms, w->kn->rebind_jitter_ms,
                       rnd32(w));
        atomic_store_explicit(&b->cnt.attempts, b->clk.attempts, memory_order_relaxed);
        if (b->clk.min_spacing_ms != UINT64_MAX)
                atomic_store_explicit(&b->cnt.min_spacing_ms, b->clk.min_spacing_ms,
                                      memory_order_relaxed);
        session_connecting(&b->sess, w->now_ms);
        struct sockaddr_storage ss;
        socklen_t alen;
        if (literal_addr(b, &ss, &alen) == 0) {
                worker_connect_addr(w, b, &ss, alen);
                return;
        }
        /* a host name: resolved without blocking; the bind stays CONNECTING
         * (no socket yet) and worker_resolve_tick connects or fails it */
        if (worker_resolve_start(w, b) < 0)
                worker_close_conn(w, b, 0, "resolve: no resolver");
}

void worker_connect_addr(struct smx_worker *w, struct smx_bind *b,
                         const struct sockaddr_storage *ss, socklen_t alen)
{
        struct smx_client *c = w->c;
        b->addr = *ss;
        b->addr_len = alen;
        int fd = socket(b->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                worker_close_conn(w, b, 0, "socket failed");
                return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        b->fd = fd;
        b->conn_gen++;
        /* the connect and its linked timeout must go in the same submission */
        if (io_uring_sq_space_left(&w->ring) < 2)
                io_uring_submit(&w->ring);
        struct io_uring_sqe *sqe = worker_get_sqe(w);
        io_uring_prep_connect(sqe, fd, (struct sockaddr *)&b->addr, alen);
        io_uring_sqe_set_data64(sqe, ud_make(OP_CONNECT, b->local, b->conn_gen));
        sqe->flags |= IOSQE_IO_LINK;
        sqe = worker_get_sqe(w);
        b->connect_ts.tv_sec = c->cfg.connect_timeout_ms / 1000;
        b->connect_ts.tv_nsec = (long long)(c->cfg.connect_timeout_ms % 1000) * 1000000LL;
        io_uring_prep_link_timeout(sqe, &b->connect_ts, 0);
        io_uring_sqe_set_data64(sqe, ud_make(OP_TIMEOUT, b->local, b->conn_gen));
}

void worker_arm_recv(struct smx_worker *w, struct smx_bind *b)
{
        struct io_uring_sqe *sqe = worker_get_sqe(w);
        io_uring_prep_recv_multishot(sqe, b->fd, NULL, 0, 0);
        sqe->flags |= IOSQE_BUFFER_SELECT;
        sqe->buf_group = w->bgid;
        io_uring_sqe_set_data64(sqe, ud_make(OP_RECV, b->local, b->conn_gen));
}

void worker_arm_efd(struct smx_worker *w)
{
        struct io_uring_sqe *sqe = worker_get_sqe(w);
        io_uring_prep_read(sqe, w->efd, &w->efd_val, sizeof w->efd_val, 0);
        io_uring_sqe_set_data64(sqe, ud_make(OP_EFD, 0, 0));
}

void worker_recycle_buf(struct smx_worker *w, unsigned bid)
{
        io_uring_buf_ring_add(w->br, w->bufs + (size_t)bid * SMX_RECV_BUFSZ, SMX_RECV_BUFSZ,
                              (unsigned short)bid, io_uring_buf_ring_mask(SMX_RECV_BUFS), 0);
        io_uring_buf_ring_advance(w->br, 1);
}

/* A cursor running a few whole PDUs ahead of the one being handled in a
 * received buffer: the MT slot each submit_sm_resp there answers is
 * prefetched, so it is in cache when the response is handled (at load the
 * slots of a full window are too many to stay cached). */
#define FEED_LEAD 8
struct feed_ahead {
        const uint8_t *q;       /* first PDU not yet looked at */
        size_t left;            /* bytes from q to the end of the buffer */
        unsigned lead;          /* PDUs between the current one and q */
};

static void feed_prefetch(const struct smx_worker *w, const struct smx_bind *b,
                          struct feed_ahead *fa)
{
        while (fa->lead < FEED_LEAD && fa->left >= SMPP_HEADER_LEN) {
                uint32_t len = smx_get_u32(fa->q);
                if (len < SMPP_HEADER_LEN || len > fa->left) {
                        fa->left = 0;   /* partial or bad: the framer decides */
                        return;
                }
                if (smx_get_u32(fa->q + 4) == SMPP_SUBMIT_SM_RESP) {
                        uint32_t ref = session_peek_submit_ref(&b->sess, smx_get_u32(fa->q + 12));
                        if (ref < w->c->ing.n_slots) {
                                const uint8_t *slot = (const uint8_t *)ingress_slot(&w->c->ing, ref);
                                __builtin_prefetch(slot, 1, 3);
                                __builtin_prefetch(slot + 64, 1, 3);
                                __builtin_prefetch(slot + 128, 1, 3);
                        }
                }
                fa->q += len;
                fa->left -= len;
                fa->lead++;
        }
}

/* The session wants to close: the complete responses left in this read
 * still go in (a submit_sm_resp the SMSC sent right after the PDU that closes
 * the session names an MT it accepted: dropping it would resend that MT and
 * lose its message id). Requests are left unanswered, as the rest of the
 * stream: the SMSC re-sends a deliver_sm elsewhere. A partial or unframeable
 * rest is dropped with the connection. */
static int feed_closing(struct smx_worker *w, struct smx_bind *b, const uint8_t *p, size_t n)
{
        uint32_t cap = w->c->cfg.max_pdu;
        while (n >= SMPP_HEADER_LEN && b->rbuf_len == 0) {
                ssize_t fl = smx_frame_peek(p, n, cap);
                if (fl <= 0)
                        break;
                if (smx_get_u32(p + 4) & SMPP_RESP_BIT)
                        session_on_pdu(&b->sess, p, (size_t)fl, w->now_ms);
                p += fl;
                n -= (size_t)fl;
        }
        return -1;
}

int worker_feed(struct smx_worker *w, struct smx_bind *b, const uint8_t *p, size_t n)
{
        struct smx_client *c = w->c;
        uint32_t cap = c->cfg.max_pdu;
        struct feed_ahead fa = { NULL, 0, 0 };
        while (n > 0) {
                if (b->sess.close_wanted)
                        return feed_closing(w, b, p, n);
                if (b->rbuf_len > 0) {
                        /* complete the PDU in the reassembly buffer */
                        size_t need;
                        if (b->rbuf_len < 4) {
                                size_t k = 4 - b->rbuf_len;
                                if (k > n)
                                        k = n;
                                memcpy(b->rbuf + b->rbuf_len, p, k);
                                b->rbuf_len += (uint32_t)k;
                                p += k;
                                n -= k;
                                if (b->rbuf_len < 4)
                                        return 0;
                        }
                        ssize_t fl = smx_frame_peek(b->rbuf, b->rbuf_len, cap);
                        if (fl < 0) {
                                session_on_frame_error(&b->sess, b->rbuf, b->rbuf_len,
                                                       "unusable command_length");
                                return -1;
                        }
                        uint32_t len = smx_get_u32(b->rbuf);
                        need = len - b->rbuf_len;
                        if (need > n)
                                need = n;
                        memcpy(b->rbuf + b->rbuf_len, p, need);
                        b->rbuf_len += (uint32_t)need;
                        p += need;
                        n -= need;
                        if (b->rbuf_len < len)
                                return 0;
                        b->rbuf_len = 0;
                        session_on_pdu(&b->sess, b->rbuf, len, w->now_ms);
                        continue;       /* a close is seen at the top */
                }
                ssize_t fl = smx_frame_peek(p, n, cap);
                if (fl < 0) {
                        const char *hint = smx_frame_sniff(p, n);
                        char esc[40];
                        smx_escape(p, n < 8 ? n : 8, esc, sizeof esc);
                        smx_logf(SMX_LOG_ERROR, b->name, b->site,
                                 "unusable command_length, first bytes \"%s\"%s%s", esc,
                                 hint ? ": peer looks like " : "", hint ? hint : "");
                        session_on_frame_error(&b->sess, p, n,
                                               hint && !strcmp(hint, "TLS")
                                               ? "SMSC speaks TLS (set tls)"
                                               : "unusable command_length");
                        return -1;
                }
                if (fl == 0) {
                        /* partial PDU: keep it (bounded by max_pdu) */
                        memcpy(b->rbuf, p, n);
                        b->rbuf_len = (uint32_t)n;
                        b->partial_since_ms = w->now_ms;
                        return 0;
                }
                if (!fa.q)
                        fa = (struct feed_ahead){ p, n, 0 };
                feed_prefetch(w, b, &fa);
                session_on_pdu(&b->sess, p, (size_t)fl, w->now_ms);
                if (fa.lead > 0)
                        fa.lead--;
                p += fl;
                n -= (size_t)fl;
        }
        return 0;
}
