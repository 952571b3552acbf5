/* The worker: one thread, one io_uring, a fixed set of binds (k, k+W, ...).
 *
 * Each loop turn: reap completions (connect, multishot recv into the
 * worker's provided-buffer ring, send, the wake-up eventfd), feed received
 * bytes to the binds' session state machines (framed with smx_frame_peek,
 * decoded in place; a PDU straddling two buffers is copied into the bind's
 * reassembly buffer), run timers, start connects allowed by the rebind clock
 * (R2), move due retries back to ingress, flush outcomes that waited for
 * event-ring room, take MTs from ingress while one of its binds is ACTIVE
 * with window space (R4) and encode them straight into that bind's send
 * buffer, then queue at most one send per bind and call io_uring_submit once.
 * When a turn did nothing the worker sets `sleeping` and waits (short
 * timeout) for a completion; smx_submit writes the eventfd only when it sees
 * `sleeping`, so under load no syscall is made per MT.
 *
 * Every accepted MT leaves through exactly one outcome (emit_outcome): the
 * record goes into this worker's event ring or, when the ring is full, onto
 * a worker-local pending list that is flushed first on later turns; while it
 * is non-empty no new MT is taken. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include "core/client_int.h"
#include "http/http.h"
#include "log/log.h"

enum { OP_EFD = 1, OP_CONNECT, OP_RECV, OP_SEND, OP_TIMEOUT };

_Static_assert((int)SMX_SEGMENT_UDH8 == (int)SMX_SEG_UDH8 &&
               (int)SMX_SEGMENT_UDH16 == (int)SMX_SEG_UDH16 &&
               (int)SMX_SEGMENT_SAR == (int)SMX_SEG_SAR &&
               (int)SMX_SEGMENT_PAYLOAD == (int)SMX_SEG_PAYLOAD,
               "public segment modes map 1:1 onto the text layer's");

#define WAIT_MS 10
#define DISPATCH_PER_TURN 512
#define EVENT_RESERVE 64          /* ring room kept before taking new MTs */
#define CLOSE_FLUSH_MS 1000
#define SMX_SUBMIT_OVERHEAD 160   /* submit_sm bytes besides the text (fields, TLVs) */
#define SMX_ANSWER_ROOM 16384     /* output kept for answers to the SMSC */

static inline uint64_t ud_make(unsigned op, unsigned local, uint32_t gen)
{
        return ((uint64_t)gen << 32) | ((uint64_t)local << 8) | op;
}

static uint32_t rnd32(struct smx_worker *w)
{
        uint64_t x = w->rnd;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        w->rnd = x;
        return (uint32_t)(x >> 16);
}

static struct io_uring_sqe *get_sqe(struct smx_worker *w)
{
        struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);
        if (!sqe) {
                io_uring_submit(&w->ring);
                sqe = io_uring_get_sqe(&w->ring);
        }
        return sqe;
}

/* ---- outcomes ---- */

static void slot_list_append(struct smx_ingress *g, uint32_t *head, uint32_t *tail, uint32_t idx)
{
        struct smx_slot *s = ingress_slot(g, idx);
        s->next = SMX_SLOT_NONE;
        if (*tail == SMX_SLOT_NONE)
                *head = idx;
        else
                ingress_slot(g, *tail)->next = idx;
        *tail = idx;
}

static uint32_t slot_list_pop(struct smx_ingress *g, uint32_t *head, uint32_t *tail)
{
        uint32_t idx = *head;
        if (idx == SMX_SLOT_NONE)
                return idx;
        *head = ingress_slot(g, idx)->next;
        if (*head == SMX_SLOT_NONE)
                *tail = SMX_SLOT_NONE;
        return idx;
}

/* Write the slot's outcome into a ring record; free the slot. */
static void commit_outcome(struct smx_worker *w, uint32_t idx, struct smx_ev_rec *e)
{
        struct smx_client *c = w->c;
        struct smx_slot *s = ingress_slot(&c->ing, idx);
        e->type = s->out_type;
        e->reason = s->out_reason;
        e->flags = (uint8_t)((s->out_permanent ? SMX_EVF_PERMANENT : 0) |
                             ((s->flags & SMX_SLOTF_RESENT) ? SMX_EVF_RESENT : 0));
        e->bind = s->out_bind;
        e->status = s->last_status;
        e->attempts = s->attempts;
        uint64_t now_us = smx_now_us();
        e->latency_us = now_us > s->submit_us ? now_us - s->submit_us : 0;
        /* a SUBMITTED outcome is emitted by its bind's owner: single writer */
        if (e->type == SMX_EV_SUBMITTED && e->bind < c->n_binds)
                lat_hist_add_w(&c->binds[e->bind].lat, e->latency_us);
        event_copy_str(e->id, sizeof e->id, s->id, s->id_len);
        event_copy_str(e->message_id, sizeof e->message_id, s->out_msgid, strlen(s->out_msgid));
        event_ring_commit_w(w->evr);
        w->committed = 1;
        ingress_slot_free(&c->ing, idx);
}

/* The one final outcome of an MT (SMX_EV_SUBMITTED or SMX_EV_FAILED). */
static void emit_outcome(struct smx_worker *w, uint32_t idx, uint8_t type, uint8_t reason,
                         int permanent, uint16_t bind, const uint8_t *msgid, size_t msgid_len)
{
        struct smx_client *c = w->c;
        struct smx_slot *s = ingress_slot(&c->ing, idx);
        atomic_fetch_add_explicit(&s->tag, 1, memory_order_relaxed);
        s->out_type = type;
        s->out_reason = reason;
        s->out_permanent = (uint8_t)(permanent != 0);
        s->out_bind = bind;
        if (msgid_len > SMX_MSGID_MAX)
                msgid_len = SMX_MSGID_MAX;
        if (msgid_len)
                memcpy(s->out_msgid, msgid, msgid_len);
        s->out_msgid[msgid_len] = 0;
        if (bind < c->n_binds) {
                struct smx_bind *b = &c->binds[bind];
                if (type == SMX_EV_SUBMITTED)
                        atomic_fetch_add_explicit(&b->cnt.accepted, 1, memory_order_relaxed);
                else
                        atomic_fetch_add_explicit(&b->cnt.failed, 1, memory_order_relaxed);
                if (type == SMX_EV_FAILED && reason < SMX_FAIL_REASONS)
                        atomic_fetch_add_explicit(&b->cnt.failed_by[reason], 1, memory_order_relaxed);
        } else if (type == SMX_EV_FAILED && reason < SMX_FAIL_REASONS) {
                atomic_fetch_add_explicit(&c->failed_nobind[reason], 1, memory_order_relaxed);
        }
        atomic_fetch_add_explicit(&c->decided, 1, memory_order_release);
        struct smx_ev_rec *e = NULL;
        if (w->pend_head == SMX_SLOT_NONE)
                e = event_ring_reserve_w(w->evr);
        if (e)
                commit_outcome(w, idx, e);
        else
                slot_list_append(&c->ing, &w->pend_head, &w->pend_tail, idx);
}

static int flush_pending(struct smx_worker *w)
{
        int n = 0;
        while (w->pend_head != SMX_SLOT_NONE) {
                struct smx_ev_rec *e = event_ring_reserve_w(w->evr);
                if (!e)
                        break;
                uint32_t idx = slot_list_pop(&w->c->ing, &w->pend_head, &w->pend_tail);
                commit_outcome(w, idx, e);
                n++;
        }
        return n;
}

static void fail_mt(struct smx_worker *w, uint32_t idx, uint8_t reason, int permanent)
{
        struct smx_slot *s = ingress_slot(&w->c->ing, idx);
        emit_outcome(w, idx, SMX_EV_FAILED, reason, permanent, s->last_bind, NULL, 0);
}

/* The MT's attempt failed transiently: retry after the backoff (on another
 * bind if there is one), or fail it when attempts are used up. */
static void retry_mt(struct smx_worker *w, uint32_t idx, int now_ok)
{
        struct smx_client *c = w->c;
        struct smx_slot *s = ingress_slot(&c->ing, idx);
        atomic_fetch_add_explicit(&s->tag, 1, memory_order_relaxed);
        if (atomic_load_explicit(&c->fail_all, memory_order_relaxed)) {
                fail_mt(w, idx, SMX_FAIL_SHUTDOWN, 0);
                return;
        }
        if (s->attempts >= w->kn->max_attempts) {
                fail_mt(w, idx, SMX_FAIL_ATTEMPTS, 0);
                return;
        }
        if (now_ok) {
                ingress_push(&c->ing, idx);
                return;
        }
        s->not_before_ms = w->now_ms + w->kn->retry_backoff_ms;
        slot_list_append(&c->ing, &w->delay_head, &w->delay_tail, idx);
}

/* ---- session callbacks ---- */

static inline uint32_t mt_ref_ok(struct smx_client *c, uint32_t ref, uint32_t tag)
{
        return ref < c->ing.n_slots &&
               atomic_load_explicit(&ingress_slot(&c->ing, ref)->tag, memory_order_relaxed) == tag;
}

static void cb_mt_resp(void *ctx, uint32_t ref, uint32_t tag, uint8_t part, uint32_t status,
                       const uint8_t *msgid, size_t msgid_len, int late)
{
        struct smx_bind *b = ctx;
        struct smx_worker *w = b->w;
        struct smx_client *c = w->c;
        if (late || !mt_ref_ok(c, ref, tag))
                return;    /* an older attempt: its MT has moved on (E-01 tombstone) */
        struct smx_slot *s = ingress_slot(&c->ing, ref);
        s->last_status = status;
        enum smx_status_class cls = smx_status_classify(status);
        if (cls == SMX_STATUS_OK) {
                atomic_fetch_sub_explicit(&b->cnt.in_flight, 1, memory_order_relaxed);
                if (part == 0) {
                        size_t n = msgid_len > SMX_MSGID_MAX ? SMX_MSGID_MAX : msgid_len;
                        if (n)
                                memcpy(s->out_msgid, msgid, n);
                        s->out_msgid[n] = 0;
                }
                int r = inbound_on_accepted_w(c->inbound, &b->info, msgid, msgid_len, s->id,
                                              s->id_len, smx_slot_serial(ref, s->gen), part,
                                              s->n_parts, w->evr, w->now_ms);
                if (r > 0)
                        w->committed = 1;
                if (++s->parts_ok < s->n_parts)
                        return;
                char mid[SMX_MSGID_MAX + 1];
                size_t n = strlen(s->out_msgid);
                memcpy(mid, s->out_msgid, n + 1);
                emit_outcome(w, ref, SMX_EV_SUBMITTED, SMX_FAIL_NONE, 0, b->index,
                             (const uint8_t *)mid, n);
                return;
        }
        /* a part failed: the attempt is over; the other parts' answers are stale */
        atomic_fetch_sub_explicit(&b->cnt.in_flight, s->n_parts - s->parts_ok,
                                  memory_order_relaxed);
        if (cls == SMX_STATUS_THROTTLED)
                atomic_fetch_add_explicit(&b->cnt.throttled, 1, memory_order_relaxed);
        if (cls == SMX_STATUS_PERMANENT) {
                atomic_fetch_add_explicit(&s->tag, 1, memory_order_relaxed);
                emit_outcome(w, ref, SMX_EV_FAILED, SMX_FAIL_REJECTED, 1, b->index, NULL, 0);
                return;
        }
        retry_mt(w, ref, 0);
}

static void cb_mt_lost(void *ctx, uint32_t ref, uint32_t tag, uint8_t part, int timed_out)
{
        struct smx_bind *b = ctx;
        struct smx_worker *w = b->w;
        struct smx_client *c = w->c;
        (void)part;
        if (!mt_ref_ok(c, ref, tag))
                return;
        struct smx_slot *s = ingress_slot(&c->ing, ref);
        atomic_fetch_sub_explicit(&b->cnt.in_flight, s->n_parts - s->parts_ok, memory_order_relaxed);
        atomic_fetch_add_explicit(&b->cnt.resent, 1, memory_order_relaxed);
        s->flags |= SMX_SLOTF_RESENT;
        if (timed_out)
                s->last_status = SMPP_ESME_RUNKNOWNERR;
        /* R4: straight back to ingress, any ACTIVE bind may take it */
        retry_mt(w, ref, 1);
}

static uint32_t cb_deliver(void *ctx, const struct smx_pdu *pdu)
{
        struct smx_bind *b = ctx;
        struct smx_worker *w = b->w;
        uint32_t before = event_ring_space_w(w->evr);
        uint32_t st = inbound_on_deliver_w(w->c->inbound, &b->info, pdu, w->evr, w->now_ms);
        if (event_ring_space_w(w->evr) != before)
                w->committed = 1;
        if (st == SMPP_ESME_ROK) {
                int dr = (pdu->u.sm.esm_class & SMPP_ESM_TYPE_MASK) != 0 ||
                         (pdu->tlv.present & SMX_TLV_RECEIPTED_MESSAGE_ID);
                atomic_fetch_add_explicit(dr ? &b->cnt.drs : &b->cnt.mos, 1, memory_order_relaxed);
        }
        return st;
}

static void emit_bind_event(struct smx_worker *w, struct smx_bind *b, int up, uint32_t status,
                            const char *reason)
{
        struct smx_ev_rec *e = event_ring_reserve_w(w->evr);
        if (!e)
                return;    /* status only; the ring is kept for outcomes */
        e->type = SMX_EV_BIND;
        e->flags = up ? SMX_EVF_UP : 0;
        e->bind = b->index;
        e->status = status;
        if (reason)
                event_copy_str(e->reason_text, sizeof e->reason_text, reason, strlen(reason));
        event_ring_commit_w(w->evr);
        w->committed = 1;
}

static void cb_state(void *ctx, enum smx_bind_health from, enum smx_bind_health to,
                     uint32_t status, const char *reason)
{
        struct smx_bind *b = ctx;
        struct smx_worker *w = b->w;
        struct smx_client *c = w->c;
        atomic_store_explicit(&b->health, (uint8_t)to, memory_order_relaxed);
        /* a receive-only bind never carries MTs: it does not count as a route */
        int active = (to == SMX_HEALTH_ACTIVE || to == SMX_HEALTH_THROTTLED) &&
                     b->scfg.bind_mode != SMX_BIND_RX;
        if (active && !b->counted_active) {
                b->counted_active = 1;
                atomic_fetch_add(&c->active_binds, 1);
        } else if (!active && b->counted_active) {
                b->counted_active = 0;
                if (atomic_fetch_sub(&c->active_binds, 1) == 1)
                        atomic_store(&c->no_route_since_ms, w->now_ms);
        }
        if (to == SMX_HEALTH_ACTIVE && from == SMX_HEALTH_BINDING) {
                smx_logf(SMX_LOG_INFO, b->name, b->site, "bound");
                emit_bind_event(w, b, 1, 0, NULL);
        } else if (to == SMX_HEALTH_DOWN) {
                int cfg_err = smx_status_classify(status) == SMX_STATUS_CONFIG;
                int graceful = from == SMX_HEALTH_DRAINING;
                smx_logf(cfg_err ? SMX_LOG_ERROR : graceful ? SMX_LOG_INFO : SMX_LOG_WARN,
                         b->name, b->site,
                         "down: %s%s", reason ? reason : "closed",
                         cfg_err ? " (check system_id/password; retried at the rebind interval)" : "");
                emit_bind_event(w, b, 0, status, reason ? reason : "closed");
        } else if (to == SMX_HEALTH_THROTTLED) {
                smx_logf(SMX_LOG_DEBUG, b->name, b->site, "throttled for %u ms", b->sess.throttle_ms);
        }
}

static const struct smx_session_ops session_ops = {
        .mt_resp = cb_mt_resp,
        .mt_lost = cb_mt_lost,
        .deliver = cb_deliver,
        .state = cb_state,
};

/* ---- connections ---- */

static void close_conn(struct smx_worker *w, struct smx_bind *b, uint32_t status, const char *reason)
{
        if (b->fd >= 0) {
                shutdown(b->fd, SHUT_RDWR);   /* ends the multishot recv */
                close(b->fd);
                b->fd = -1;
        }
        b->conn_gen++;
        b->rbuf_len = 0;
        b->close_deadline_ms = 0;
        session_closed(&b->sess, w->now_ms, status, reason);
}

static int resolve(struct smx_bind *b, struct sockaddr_storage *ss, socklen_t *len)
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
        /* a host name: resolved at connect time (blocking, once per attempt) */
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
        if (getaddrinfo(b->host, NULL, &hints, &res) != 0 || !res)
                return -1;
        memcpy(ss, res->ai_addr, res->ai_addrlen);
        *len = res->ai_addrlen;
        if (ss->ss_family == AF_INET)
                a4->sin_port = htons(b->port);
        else
                a6->sin6_port = htons(b->port);
        freeaddrinfo(res);
        return 0;
}

static void start_connect(struct smx_worker *w, struct smx_bind *b)
{
        struct smx_client *c = w->c;
        rebind_attempt(&b->clk, w->now_ms, w->kn->rebind_interval_ms, w->kn->rebind_jitter_ms,
                       rnd32(w));
        atomic_store_explicit(&b->cnt.attempts, b->clk.attempts, memory_order_relaxed);
        if (b->clk.min_spacing_ms != UINT64_MAX)
                atomic_store_explicit(&b->cnt.min_spacing_ms, b->clk.min_spacing_ms,
                                      memory_order_relaxed);
        session_connecting(&b->sess, w->now_ms);
        socklen_t alen;
        if (resolve(b, &b->addr, &alen) < 0) {
                close_conn(w, b, 0, "cannot resolve host");
                return;
        }
        b->addr_len = alen;
        int fd = socket(b->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                close_conn(w, b, 0, "socket failed");
                return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        b->fd = fd;
        b->conn_gen++;
        /* the connect and its linked timeout must go in the same submission */
        if (io_uring_sq_space_left(&w->ring) < 2)
                io_uring_submit(&w->ring);
        struct io_uring_sqe *sqe = get_sqe(w);
        io_uring_prep_connect(sqe, fd, (struct sockaddr *)&b->addr, alen);
        io_uring_sqe_set_data64(sqe, ud_make(OP_CONNECT, b->local, b->conn_gen));
        sqe->flags |= IOSQE_IO_LINK;
        sqe = get_sqe(w);
        b->connect_ts.tv_sec = c->cfg.connect_timeout_ms / 1000;
        b->connect_ts.tv_nsec = (long long)(c->cfg.connect_timeout_ms % 1000) * 1000000LL;
        io_uring_prep_link_timeout(sqe, &b->connect_ts, 0);
        io_uring_sqe_set_data64(sqe, ud_make(OP_TIMEOUT, b->local, b->conn_gen));
}

static void arm_recv(struct smx_worker *w, struct smx_bind *b)
{
        struct io_uring_sqe *sqe = get_sqe(w);
        io_uring_prep_recv_multishot(sqe, b->fd, NULL, 0, 0);
        sqe->flags |= IOSQE_BUFFER_SELECT;
        sqe->buf_group = w->bgid;
        io_uring_sqe_set_data64(sqe, ud_make(OP_RECV, b->local, b->conn_gen));
}

static void arm_efd(struct smx_worker *w)
{
        struct io_uring_sqe *sqe = get_sqe(w);
        io_uring_prep_read(sqe, w->efd, &w->efd_val, sizeof w->efd_val, 0);
        io_uring_sqe_set_data64(sqe, ud_make(OP_EFD, 0, 0));
}

static void recycle_buf(struct smx_worker *w, unsigned bid)
{
        io_uring_buf_ring_add(w->br, w->bufs + (size_t)bid * SMX_RECV_BUFSZ, SMX_RECV_BUFSZ,
                              (unsigned short)bid, io_uring_buf_ring_mask(SMX_RECV_BUFS), 0);
        io_uring_buf_ring_advance(w->br, 1);
}

/* Feed received bytes to the bind's session. Returns 0, or -1 when the
 * session is closing (the rest of the bytes are ignored). */
static int feed(struct smx_worker *w, struct smx_bind *b, const uint8_t *p, size_t n)
{
        struct smx_client *c = w->c;
        uint32_t cap = c->cfg.max_pdu;
        while (n > 0) {
                if (b->sess.close_wanted)
                        return -1;
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
                        if (session_on_pdu(&b->sess, b->rbuf, len, w->now_ms) == SESS_CLOSE)
                                return -1;
                        continue;
                }
                ssize_t fl = smx_frame_peek(p, n, cap);
                if (fl < 0) {
                        const char *hint = smx_frame_sniff(p, n);
                        char esc[40];
                        smx_escape(p, n < 8 ? n : 8, esc, sizeof esc);
                        smx_logf(SMX_LOG_ERROR, b->name, b->site,
                                 "unusable command_length, first bytes \"%s\"%s%s", esc,
                                 hint ? ": peer looks like " : "", hint ? hint : "");
                        session_on_frame_error(&b->sess, p, n, "unusable command_length");
                        return -1;
                }
                if (fl == 0) {
                        /* partial PDU: keep it (bounded by max_pdu) */
                        memcpy(b->rbuf, p, n);
                        b->rbuf_len = (uint32_t)n;
                        b->partial_since_ms = w->now_ms;
                        return 0;
                }
                if (session_on_pdu(&b->sess, p, (size_t)fl, w->now_ms) == SESS_CLOSE)
                        return -1;
                p += fl;
                n -= (size_t)fl;
        }
        return 0;
}

static void on_cqe(struct smx_worker *w, struct io_uring_cqe *cqe)
{
        uint64_t ud = io_uring_cqe_get_data64(cqe);
        unsigned op = ud & 0xFF, local = (unsigned)(ud >> 8) & 0xFFFFFF;
        uint32_t gen = (uint32_t)(ud >> 32);
        int res = cqe->res;
        if (op == OP_EFD) {
                arm_efd(w);
                return;
        }
        if (local >= w->n_binds)
                return;
        struct smx_bind *b = w->binds[local];
        int current = gen == b->conn_gen && b->fd >= 0;
        switch (op) {
        case OP_CONNECT:
                if (!current)
                        return;
                if (res < 0) {
                        char why[48];
                        snprintf(why, sizeof why, "connect: %s",
                                 res == -ECANCELED ? "timed out" : strerror(-res));
                        close_conn(w, b, 0, why);
                        return;
                }
                if (session_connected(&b->sess, w->now_ms) == 0)
                        arm_recv(w, b);
                return;
        case OP_RECV: {
                int has_buf = (cqe->flags & IORING_CQE_F_BUFFER) != 0;
                unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
                int more = (cqe->flags & IORING_CQE_F_MORE) != 0;
                if (current && res > 0 && has_buf)
                        feed(w, b, w->bufs + (size_t)bid * SMX_RECV_BUFSZ, (size_t)res);
                if (has_buf)
                        recycle_buf(w, bid);
                if (!current || b->sess.close_wanted)
                        return;
                if (res == 0) {                                 /* A-11, N-03 */
                        close_conn(w, b, 0, "connection closed by SMSC");
                        return;
                }
                if (res < 0 && res != -ENOBUFS) {
                        char why[48];
                        snprintf(why, sizeof why, "recv: %s", strerror(-res));
                        close_conn(w, b, 0, why);
                        return;
                }
                if (!more)
                        arm_recv(w, b);
                return;
        }
        case OP_SEND:
                b->send_inflight = 0;
                if (!current)
                        return;
                if (res < 0) {
                        char why[48];
                        snprintf(why, sizeof why, "send: %s", strerror(-res));
                        close_conn(w, b, 0, why);
                        return;
                }
                session_out_consumed(&b->sess, (size_t)res);
                return;
        default:
                return;
        }
}

/* ---- MT dispatch ---- */

/* Per-bind rate limit (smx_smsc_config.tps): a token bucket holding at most
 * a tenth of a second of traffic (at least one submit_sm). */
static int tps_ok(struct smx_bind *b, uint64_t now)
{
        if (!b->tps)
                return 1;
        if (now > b->tokens_ms) {
                double burst = b->tps / 10.0 > 1.0 ? b->tps / 10.0 : 1.0;
                b->tokens += (double)(now - b->tokens_ms) * b->tps / 1000.0;
                if (b->tokens > burst)
                        b->tokens = burst;
                b->tokens_ms = now;
        }
        return b->tokens >= 1.0;
}

static int route_ready(struct smx_bind *b, uint64_t now)
{
        /* a draining or removed SMSC takes no new MT (knob smsc.NAME.admin) */
        return b->fd >= 0 &&
               atomic_load_explicit(&b->admin, memory_order_relaxed) == SMX_ADMIN_ENABLED &&
               session_can_submit(&b->sess, now, SMX_PART_PDU_MAX) && tps_ok(b, now);
}

/* Encode every part of the MT into the bind's send buffer (one attempt).
 * Returns 0, 1 when the bind's output has no room for all parts now (the MT
 * went back to ingress untouched), or -1 when the text cannot be encoded
 * (MT failed). */
static int send_mt(struct smx_worker *w, struct smx_bind *b, uint32_t idx)
{
        struct smx_client *c = w->c;
        struct smx_slot *s = ingress_slot(&c->ing, idx);
        struct smx_seg_opts so = {
                .enc = (enum smx_encoding)s->encoding,
                .mode = (enum smx_seg_mode)b->seg_mode,
                .ref = (uint16_t)(s->gen ^ idx),
                .map = &b->dcs,
                .gsm_packed = b->info.gsm_packed,
        };
        struct smx_seg_info si;
        int np = smx_text_segment(smx_slot_text(s), s->text_len, &so, w->seg, SMX_SEG_SCRATCH,
                                  w->parts, SMX_MT_MAX_PARTS, &si);
        if (np <= 0) {
                s->last_status = 0;
                emit_outcome(w, idx, SMX_EV_FAILED, SMX_FAIL_ENCODING, 1, b->index, NULL, 0);
                return -1;
        }
        /* all parts go out together: wait for output room rather than split */
        size_t need = 0;
        for (int i = 0; i < np; i++)
                need += w->parts[i].len + SMX_SUBMIT_OVERHEAD;
        if (need + SMX_ANSWER_ROOM > (size_t)(b->sess.out_cap - b->sess.out_len)) {
                ingress_push(&c->ing, idx);
                return 1;
        }
        uint32_t tag = atomic_fetch_add_explicit(&s->tag, 1, memory_order_relaxed) + 1;
        s->n_parts = (uint8_t)np;
        s->parts_ok = 0;
        s->attempts++;
        s->last_bind = b->index;
        uint8_t ident[16];
        memcpy(ident, c->nonce, 8);
        uint64_t serial = smx_slot_serial(idx, s->gen);
        for (int i = 0; i < 8; i++)
                ident[8 + i] = (uint8_t)(serial >> (56 - 8 * i));
        int digits_from = s->from_len > 0;
        for (unsigned i = 0; i < s->from_len; i++)
                if (s->from[i] < '0' || s->from[i] > '9')
                        digits_from = 0;
        for (int i = 0; i < np; i++) {
                const struct smx_seg_part *pt = &w->parts[i];
                struct smx_pdu p;
                memset(&p, 0, sizeof p);
                p.h.command_id = SMPP_SUBMIT_SM;
                p.u.sm.source_addr_ton = digits_from ? 1 : 5;
                p.u.sm.source_addr_npi = digits_from ? 1 : 0;
                p.u.sm.source_addr = (struct smx_bytes){ (const uint8_t *)s->from, s->from_len };
                p.u.sm.dest_addr_ton = 1;
                p.u.sm.dest_addr_npi = 1;
                p.u.sm.destination_addr = (struct smx_bytes){ (const uint8_t *)s->to, s->to_len };
                p.u.sm.esm_class = pt->esm_class;
                p.u.sm.priority_flag = s->priority;
                p.u.sm.registered_delivery = s->want_dr ? SMPP_REGDEL_FINAL : SMPP_REGDEL_NONE;
                p.u.sm.data_coding = pt->data_coding;
                if (pt->payload) {
                        p.tlv.present |= SMX_TLV_MESSAGE_PAYLOAD;
                        p.tlv.message_payload = (struct smx_bytes){ pt->sm, (uint16_t)pt->len };
                } else {
                        p.u.sm.short_message = (struct smx_bytes){ pt->sm, (uint16_t)pt->len };
                }
                if (pt->sar) {
                        p.tlv.present |= SMX_TLV_SAR_MSG_REF_NUM | SMX_TLV_SAR_TOTAL_SEGMENTS |
                                         SMX_TLV_SAR_SEGMENT_SEQNUM;
                        p.tlv.sar_msg_ref_num = pt->sar_msg_ref_num;
                        p.tlv.sar_total_segments = pt->sar_total_segments;
                        p.tlv.sar_segment_seqnum = pt->sar_segment_seqnum;
                }
                if (b->sess.tlvs_ok) {
                        p.tlv.present |= SMX_TLV_SMX_MSG_IDENTITY;
                        p.tlv.smx_msg_identity = (struct smx_bytes){ ident, sizeof ident };
                }
                uint8_t *dst;
                size_t cap;
                uint32_t seq = session_submit_begin(&b->sess, &dst, &cap);
                p.h.sequence_number = seq;
                ssize_t n = seq ? smx_pdu_encode(dst, cap, &p, NULL, 0) : -ENOSPC;
                if (n < 0) {
                        /* parts already queued carry the old tag: their answers
                         * are ignored once retry_mt/emit_outcome move the tag on */
                        if (n == -EINVAL) {
                                emit_outcome(w, idx, SMX_EV_FAILED, SMX_FAIL_ENCODING, 1,
                                             b->index, NULL, 0);
                                return -1;
                        }
                        s->attempts--;
                        retry_mt(w, idx, 1);
                        return 0;
                }
                session_submit_commit(&b->sess, seq, (size_t)n, idx, tag, (uint8_t)i, w->now_ms);
        }
        atomic_fetch_add_explicit(&b->cnt.in_flight, (uint32_t)np, memory_order_relaxed);
        atomic_fetch_add_explicit(&b->cnt.submitted, 1, memory_order_relaxed);
        if (b->tps)
                b->tokens -= np;
        return 0;
}

static int dispatch(struct smx_worker *w)
{
        struct smx_client *c = w->c;
        if (w->pend_head != SMX_SLOT_NONE || event_ring_space_w(w->evr) < EVENT_RESERVE)
                return 0;
        if (c->http && smx_http_exclusive(c->http))
                return 0;   /* transport http: MTs go over HTTP only */
        unsigned n = w->n_binds, ready = 0;
        for (unsigned i = 0; i < n; i++) {
                struct smx_bind *b = w->binds[i];
                w->cand[i].ready = (uint8_t)route_ready(b, w->now_ms);
                w->cand[i].outstanding = b->sess.n_submit;
                w->cand[i].weight = b->weight;
                w->cand[i].bind = b->index;
                ready += w->cand[i].ready;
        }
        int done = 0;
        while (ready > 0 && done < DISPATCH_PER_TURN) {
                uint32_t idx = ingress_pop(&c->ing);
                if (idx == SMX_SLOT_NONE)
                        break;
                done++;
                struct smx_slot *s = ingress_slot(&c->ing, idx);
                if (atomic_load_explicit(&c->fail_all, memory_order_relaxed)) {
                        fail_mt(w, idx, SMX_FAIL_SHUTDOWN, 0);
                        continue;
                }
                int i = route_pick(&w->router, w->cand, n, s->last_bind);
                if (i < 0) {
                        ingress_push(&c->ing, idx);
                        break;
                }
                struct smx_bind *b = w->binds[i];
                int deferred = send_mt(w, b, idx) == 1;
                w->cand[i].outstanding = b->sess.n_submit;
                if (deferred || !route_ready(b, w->now_ms)) {
                        w->cand[i].ready = 0;
                        ready--;
                }
                if (w->pend_head != SMX_SLOT_NONE || event_ring_space_w(w->evr) < EVENT_RESERVE)
                        break;
        }
        return done;
}

/* MTs whose retry backoff is over go back to ingress (any bind may take them). */
static int release_delayed(struct smx_worker *w)
{
        struct smx_client *c = w->c;
        int n = 0;
        int fail = atomic_load_explicit(&c->fail_all, memory_order_relaxed);
        while (w->delay_head != SMX_SLOT_NONE) {
                struct smx_slot *s = ingress_slot(&c->ing, w->delay_head);
                if (!fail && s->not_before_ms > w->now_ms)
                        break;
                uint32_t idx = slot_list_pop(&c->ing, &w->delay_head, &w->delay_tail);
                if (fail)
                        fail_mt(w, idx, SMX_FAIL_SHUTDOWN, 0);
                else
                        ingress_push(&c->ing, idx);
                n++;
        }
        return n;
}

/* No ACTIVE bind anywhere for no_route_timeout: every waiting MT fails
 * (no_route, not permanent). Also drains ingress on a drain timeout. */
static int sweep_ingress(struct smx_worker *w)
{
        struct smx_client *c = w->c;
        uint8_t reason;
        if (atomic_load_explicit(&c->fail_all, memory_order_relaxed))
                reason = SMX_FAIL_SHUTDOWN;
        else if (w->k == 0 && !c->http_carries_mts && atomic_load(&c->active_binds) == 0 &&
                 w->now_ms - atomic_load(&c->no_route_since_ms) >= w->kn->no_route_timeout_ms)
                reason = SMX_FAIL_NO_ROUTE;
        else
                return 0;
        int n = 0;
        while (n < DISPATCH_PER_TURN && w->pend_head == SMX_SLOT_NONE) {
                uint32_t idx = ingress_pop(&c->ing);
                if (idx == SMX_SLOT_NONE)
                        break;
                fail_mt(w, idx, reason, 0);
                n++;
        }
        return n;
}

/* Per-bind housekeeping: timers, closing, connecting, drain. */
static int service_bind(struct smx_worker *w, struct smx_bind *b)
{
        struct smx_client *c = w->c;
        struct smx_session *s = &b->sess;
        int work = 0;
        if (b->fd < 0) {
                if (s->state != SMX_HEALTH_DOWN)
                        session_closed(s, w->now_ms, 0, "closed");
                if (!b->retired && !b->send_inflight &&
                    !atomic_load_explicit(&c->unbind_all, memory_order_relaxed) &&
                    !atomic_load_explicit(&c->stop, memory_order_relaxed) &&
                    rebind_due(&b->clk, w->now_ms)) {
                        start_connect(w, b);
                        work = 1;
                }
                return work;
        }
        if (atomic_load_explicit(&c->fail_all, memory_order_relaxed))
                session_abandon(s, w->now_ms);
        if (atomic_load_explicit(&c->unbind_all, memory_order_relaxed) && !b->retired) {
                b->retired = 1;
                session_unbind(s, w->now_ms);
                work = 1;
        }
        if (b->rbuf_len > 0 && w->now_ms - b->partial_since_ms >= c->cfg.pdu_read_timeout_ms)
                session_on_frame_error(s, NULL, 0, "partial PDU never completed");  /* */
        session_tick(s, w->now_ms);
        if (s->close_wanted) {
                if (!b->close_deadline_ms)
                        b->close_deadline_ms = w->now_ms + CLOSE_FLUSH_MS;
                if ((s->out_len == 0 && !b->send_inflight) || w->now_ms >= b->close_deadline_ms) {
                        close_conn(w, b, s->down_status, s->down_reason);
                        return 1;
                }
        }
        if (s->out_len > 0 && !b->send_inflight && s->state != SMX_HEALTH_CONNECTING) {
                struct io_uring_sqe *sqe = get_sqe(w);
                io_uring_prep_send(sqe, b->fd, s->out, s->out_len, MSG_NOSIGNAL);
                io_uring_sqe_set_data64(sqe, ud_make(OP_SEND, b->local, b->conn_gen));
                b->send_inflight = 1;
                work = 1;
        }
        return work;
}

void worker_wake(struct smx_worker *w)
{
        if (atomic_exchange(&w->sleeping, 0)) {
                uint64_t one = 1;
                ssize_t r = write(w->efd, &one, sizeof one);
                (void)r;
        }
}

static void wake_app(struct smx_client *c)
{
        /* seq_cst exchange: pairs with the consumer's store of app_sleeping
         * followed by its re-check of the rings (see smx_events_poll) */
        if (atomic_exchange(&c->app_sleeping, 0)) {
                uint64_t one = 1;
                ssize_t r = write(c->app_efd, &one, sizeof one);
                (void)r;
        }
}

static int can_take_work(struct smx_worker *w)
{
        if (w->c->http && smx_http_exclusive(w->c->http))
                return 0;       /* transport http: ingress is the HTTP transport's (else the
                                   worker spins while MTs wait for it) */
        for (unsigned i = 0; i < w->n_binds; i++)
                if (route_ready(w->binds[i], w->now_ms))
                        return 1;
        return 0;
}

void *worker_main(void *arg)
{
        struct smx_worker *w = arg;
        struct smx_client *c = w->c;
        if (c->cfg.pin_workers) {
                long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
                if (ncpu > 0) {
                        cpu_set_t set;
                        CPU_ZERO(&set);
                        CPU_SET(w->k % (unsigned)ncpu, &set);
                        pthread_setaffinity_np(pthread_self(), sizeof set, &set);
                }
        }
        arm_efd(w);
        while (!atomic_load_explicit(&c->stop, memory_order_acquire)) {
                w->now_ms = smx_now_ms();
                knobs_sync_w(w);
                w->committed = 0;
                int work = 0;
                unsigned head, seen = 0;
                struct io_uring_cqe *cqe;
                io_uring_for_each_cqe(&w->ring, head, cqe) {
                        on_cqe(w, cqe);
                        seen++;
                }
                if (seen) {
                        io_uring_cq_advance(&w->ring, seen);
                        work = 1;
                }
                work |= flush_pending(w) > 0;
                work |= release_delayed(w) > 0;
                work |= sweep_ingress(w) > 0;
                work |= dispatch(w) > 0;
                for (unsigned i = 0; i < w->n_binds; i++)
                        work |= service_bind(w, w->binds[i]);
                if (w->now_ms - w->last_inbound_tick_ms >= 50) {
                        uint32_t before = event_ring_space_w(w->evr);
                        inbound_tick_w(c->inbound, w->k, c->n_workers, w->evr, w->now_ms);
                        if (event_ring_space_w(w->evr) != before)
                                w->committed = 1;
                        w->last_inbound_tick_ms = w->now_ms;
                }
                if (w->committed)
                        wake_app(c);
                if (work) {
                        io_uring_submit(&w->ring);
                        continue;
                }
                atomic_store(&w->sleeping, 1);
                /* re-check after publishing `sleeping`: an MT pushed before the
                 * store was not followed by a wake-up */
                if (ingress_queued(&c->ing) > 0 && can_take_work(w) &&
                    w->pend_head == SMX_SLOT_NONE) {
                        atomic_store(&w->sleeping, 0);
                        io_uring_submit(&w->ring);
                        continue;
                }
                struct __kernel_timespec ts = { .tv_sec = 0, .tv_nsec = WAIT_MS * 1000000LL };
                io_uring_submit_and_wait_timeout(&w->ring, &cqe, 1, &ts, NULL);
                atomic_store(&w->sleeping, 0);
        }
        for (unsigned i = 0; i < w->n_binds; i++) {
                struct smx_bind *b = w->binds[i];
                if (b->fd >= 0) {
                        shutdown(b->fd, SHUT_RDWR);
                        close(b->fd);
                        b->fd = -1;
                }
        }
        return NULL;
}

int worker_init(struct smx_worker *w, struct smx_client *c, unsigned k)
{
        memset(w, 0, sizeof *w);
        w->c = c;
        w->k = k;
        w->efd = -1;
        w->pend_head = w->pend_tail = SMX_SLOT_NONE;
        w->delay_head = w->delay_tail = SMX_SLOT_NONE;
        if (getrandom(&w->rnd, sizeof w->rnd, 0) != sizeof w->rnd || w->rnd == 0)
                w->rnd = 0x9E3779B97F4A7C15ull ^ ((uint64_t)k << 32) ^ smx_now_us();
        route_init(&w->router, c->cfg.route_policy);
        for (uint32_t i = k; i < c->n_binds; i += c->n_workers)
                w->n_binds++;
        w->binds = calloc(w->n_binds ? w->n_binds : 1, sizeof *w->binds);
        w->cand = calloc(w->n_binds ? w->n_binds : 1, sizeof *w->cand);
        w->seg = malloc(SMX_SEG_SCRATCH);
        w->parts = calloc(SMX_MT_MAX_PARTS, sizeof *w->parts);
        w->evr = event_ring_create(c->cfg.event_capacity);
        w->bufs = aligned_alloc(4096, (size_t)SMX_RECV_BUFS * SMX_RECV_BUFSZ);
        if (!w->binds || !w->cand || !w->seg || !w->parts || !w->evr || !w->bufs)
                return -ENOMEM;
        unsigned j = 0;
        for (uint32_t i = k; i < c->n_binds; i += c->n_workers) {
                struct smx_bind *b = &c->binds[i];
                b->worker = k;
                b->local = j;
                b->w = w;
                w->binds[j++] = b;
                /* room for a full window plus one MT's parts beyond it */
                uint32_t cells = session_table_size(b->scfg.window + SMX_MT_MAX_PARTS);
                b->tab = calloc(cells, sizeof *b->tab);
                b->out = malloc(SMX_OUTBUF_CAP);
                b->rbuf = malloc(c->cfg.max_pdu);
                if (!b->tab || !b->out || !b->rbuf)
                        return -ENOMEM;
                session_init(&b->sess, &b->scfg, &session_ops, b, b->tab, cells, b->out,
                             SMX_OUTBUF_CAP);
        }
        w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (w->efd < 0)
                return -errno;
        int r = io_uring_queue_init(256, &w->ring, 0);
        if (r < 0)
                return r;
        w->started = 1;   /* ring initialised */
        size_t br_size = SMX_RECV_BUFS * sizeof(struct io_uring_buf);
        w->br = aligned_alloc(4096, (br_size + 4095) & ~(size_t)4095);
        if (!w->br)
                return -ENOMEM;
        io_uring_buf_ring_init(w->br);
        w->bgid = 1;
        struct io_uring_buf_reg reg = {
                .ring_addr = (unsigned long)(uintptr_t)w->br,
                .ring_entries = SMX_RECV_BUFS,
                .bgid = w->bgid,
        };
        r = io_uring_register_buf_ring(&w->ring, &reg, 0);
        if (r < 0)
                return r;
        w->bufs_registered = 1;
        for (unsigned i = 0; i < SMX_RECV_BUFS; i++)
                io_uring_buf_ring_add(w->br, w->bufs + (size_t)i * SMX_RECV_BUFSZ, SMX_RECV_BUFSZ,
                                      (unsigned short)i, io_uring_buf_ring_mask(SMX_RECV_BUFS),
                                      (int)i);
        io_uring_buf_ring_advance(w->br, SMX_RECV_BUFS);
        return 0;
}

void worker_fini(struct smx_worker *w)
{
        struct smx_client *c = w->c;
        if (!c)
                return;
        for (unsigned i = 0; i < w->n_binds; i++) {
                struct smx_bind *b = w->binds[i];
                if (!b)
                        continue;
                if (b->fd >= 0)
                        close(b->fd);
                free(b->tab);
                free(b->out);
                free(b->rbuf);
                b->tab = NULL;
                b->out = b->rbuf = NULL;
        }
        if (w->started) {
                if (w->bufs_registered)
                        io_uring_unregister_buf_ring(&w->ring, w->bgid);
                io_uring_queue_exit(&w->ring);
        }
        if (w->efd >= 0)
                close(w->efd);
        free(w->br);
        free(w->bufs);
        free(w->binds);
        free(w->cand);
        free(w->seg);
        free(w->parts);
        event_ring_destroy(w->evr);
        w->c = NULL;
}
