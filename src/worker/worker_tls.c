/* SMPP over TLS on the worker's ring (src/tls does the TLS, this file the
 * plumbing). After the TCP connect the handshake runs on memory BIOs: the
 * ClientHello and every later record are copied into the bind's record
 * buffer (tls_out) and sent by an ordinary io_uring send; what the
 * multishot recv gets goes into OpenSSL, and the plaintext it yields is
 * framed by worker_feed exactly like a plain connection's bytes. The session
 * stays CONNECTING until the handshake is done, then binds.
 *
 * Output keeps the plain path's batching: send_due (worker_loop.c) decides
 * when the session's output is worth a send; then all of it is encrypted at
 * once (records of up to 16 KiB) and goes out in one send, one send in
 * flight per bind. Records OpenSSL makes on its own (handshake, key update
 * answers, alerts, close_notify) go out at the next turn.
 *
 * A failure ends the attempt with tls_conn's reason (the BIND event, the log
 * with OpenSSL's detail, stats); the next attempt waits for the rebind
 * clock like any other. A handshake that has not ended within
 * connect_timeout_ms ends the attempt too. On a graceful close (unbind) our
 * close_notify goes out after the last PDU. Worker thread only. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "worker/worker_int.h"

#define TLS_OUT_CAP (SMX_OUTBUF_CAP / 2 + 8192)   /* a half of plaintext + record overhead */

/* End the attempt for the TLS reason, logging OpenSSL's detail. */
static void tls_fail(struct smx_worker *w, struct smx_bind *b)
{
        const char *why = b->tls.reason[0] ? b->tls.reason : "tls: failed";
        if (b->tls.detail[0])
                smx_logf(SMX_LOG_WARN, b->name, b->site, "%s (%s)", why, b->tls.detail);
        char reason[48];
        snprintf(reason, sizeof reason, "%s", why);
        worker_close_conn(w, b, 0, reason);
}

/* Said once per process: whether kTLS could be used (it is not: see tls.h). */
static atomic_int ktls_said;

int worker_tls_begin(struct smx_worker *w, struct smx_bind *b)
{
        struct smx_client *c = w->c;
        if (!atomic_exchange(&ktls_said, 1)) {
                const char *why;
                tls_ktls_probe(&why);
                smx_logf(SMX_LOG_INFO, NULL, NULL, "tls: %s", why);
        }
        if (!b->tls_ctx) {
                char err[256];
                b->tls_ctx = calloc(1, sizeof *b->tls_ctx);
                if (!b->tls_ctx || tls_ctx_init(b->tls_ctx, b->tls_cfg, b->host, err,
                                                sizeof err) < 0) {
                        if (b->tls_ctx)
                                smx_logf(SMX_LOG_ERROR, b->name, b->site, "tls: %s", err);
                        free(b->tls_ctx);
                        b->tls_ctx = NULL;
                        worker_close_conn(w, b, 0, "tls: settings unusable");
                        return -1;
                }
                if (b->tls_cfg->insecure)
                        smx_logf(SMX_LOG_WARN, b->name, b->site,
                                 "tls: insecure: the SMSC's certificate and host name are NOT "
                                 "verified (test use only)");
        }
        if (!b->tls_out && !(b->tls_out = malloc(TLS_OUT_CAP))) {
                worker_close_conn(w, b, 0, "tls: out of memory");
                return -1;
        }
        b->tls_out_len = b->tls_out_off = 0;
        if (tls_conn_start(&b->tls, b->tls_ctx) < 0) {
                tls_fail(w, b);
                return -1;
        }
        b->tls_hs_deadline_ms = w->now_ms + c->cfg.connect_timeout_ms;
        worker_arm_recv(w, b);
        return 0;
}

void worker_tls_end(struct smx_bind *b)
{
        tls_conn_end(&b->tls);
        b->tls.state = TLS_CLOSED;
        b->tls_out_len = b->tls_out_off = 0;
        b->tls_hs_deadline_ms = 0;
}

static void handshake_done(struct smx_worker *w, struct smx_bind *b)
{
        struct smx_tls_conn *t = &b->tls;
        b->tls_hs_deadline_ms = 0;
        counter_add_owner(&b->cnt.tls_handshakes, 1);
        if (t->resumed)
                counter_add_owner(&b->cnt.tls_resumed, 1);
        bind_texts_set(&b->texts, NULL, t->version, t->cipher);
        smx_logf(SMX_LOG_INFO, b->name, b->site, "tls: %s %s%s%s", t->version, t->cipher,
                 t->resumed ? ", session resumed" : "",
                 b->tls_ctx->verify ? "" : ", NOT verified (insecure)");
        session_connected(&b->sess, w->now_ms);   /* the bind request; a failure closes */
}

int worker_tls_feed(struct smx_worker *w, struct smx_bind *b, const uint8_t *p, size_t n)
{
        struct smx_tls_conn *t = &b->tls;
        if (tls_conn_input(t, p, n) < 0) {
                tls_fail(w, b);
                return -1;
        }
        if (t->state == TLS_HANDSHAKE) {
                int r = tls_conn_handshake(t);
                if (r < 0) {
                        tls_fail(w, b);
                        return -1;
                }
                if (r == 0)
                        return 0;
                handshake_done(w, b);
                if (b->sess.close_wanted)
                        return -1;
        }
        uint8_t *buf = w->tls_plain;
        for (;;) {
                long got = tls_conn_read(t, buf, TLS_READ_CHUNK);
                if (got == 0)
                        return 0;
                if (got < 0) {
                        if (t->state == TLS_CLOSED && b->sess.close_wanted)
                                return -1;      /* the close path answers with ours */
                        if (t->state == TLS_CLOSED && b->sess.state == SMX_HEALTH_DRAINING) {
                                /* their close_notify after our unbind: the normal end */
                                worker_close_conn(w, b, b->sess.down_status,
                                                  b->sess.down_reason[0] ? b->sess.down_reason
                                                                         : "unbound");
                                return -1;
                        }
                        tls_fail(w, b);
                        return -1;
                }
                if (worker_feed(w, b, buf, (size_t)got) < 0)
                        return -1;
        }
}

void worker_tls_eof(struct smx_worker *w, struct smx_bind *b)
{
        const char *why = tls_conn_eof_reason(&b->tls);
        if (b->tls.detail[0] && strcmp(why, "tls: closed without close_notify") != 0)
                smx_logf(SMX_LOG_WARN, b->name, b->site, "%s (%s)", why, b->tls.detail);
        char reason[48];
        snprintf(reason, sizeof reason, "%s", why);
        worker_close_conn(w, b, 0, reason);
}

/* Move the records OpenSSL has written into the send buffer. */
static void collect_records(struct smx_bind *b)
{
        if (b->tls_out_off == b->tls_out_len)
                b->tls_out_off = b->tls_out_len = 0;
        if (b->tls_out_off > 0)
                return;         /* the rest of a short send goes first */
        b->tls_out_len += (uint32_t)tls_conn_take(&b->tls, b->tls_out + b->tls_out_len,
                                                  TLS_OUT_CAP - b->tls_out_len);
}

int worker_tls_send(struct smx_worker *w, struct smx_bind *b, int due)
{
        if (b->fd < 0 || b->send_inflight || !b->tls.ssl)
                return 0;
        if (due && b->tls.state == TLS_OPEN && b->tls_out_len == b->tls_out_off &&
            tls_conn_pending(&b->tls) == 0) {
                const uint8_t *data;
                size_t len;
                while ((len = session_out_take(&b->sess, &data)) > 0) {
                        if (tls_conn_write(&b->tls, data, len) < 0) {
                                tls_fail(w, b);
                                return 1;
                        }
                        session_out_consumed(&b->sess, len);
                }
                b->out_since_us = 0;
        }
        collect_records(b);
        if (b->tls_out_len == b->tls_out_off)
                return 0;
        struct io_uring_sqe *sqe = worker_get_sqe(w);
        io_uring_prep_send(sqe, b->fd, b->tls_out + b->tls_out_off,
                           b->tls_out_len - b->tls_out_off, MSG_NOSIGNAL);
        io_uring_sqe_set_data64(sqe, ud_make(OP_SEND, b->local, b->conn_gen));
        b->send_inflight = 1;
        return 1;
}

void worker_tls_sent(struct smx_bind *b, size_t n)
{
        b->tls_out_off += (uint32_t)n;
        if (b->tls_out_off >= b->tls_out_len)
                b->tls_out_off = b->tls_out_len = 0;
}

int worker_tls_flushed(const struct smx_bind *b)
{
        return b->tls_out_len == b->tls_out_off && tls_conn_pending(&b->tls) == 0;
}

int worker_tls_tick(struct smx_worker *w, struct smx_bind *b)
{
        if (b->tls.state == TLS_HANDSHAKE && b->tls_hs_deadline_ms &&
            w->now_ms >= b->tls_hs_deadline_ms) {
                smx_logf(SMX_LOG_WARN, b->name, b->site, "tls: handshake timed out (%u ms, "
                         "the SMSC never finished it)", w->c->cfg.connect_timeout_ms);
                worker_close_conn(w, b, 0, "tls: handshake timed out");
                return 1;
        }
        return 0;
}

void worker_tls_close_notify(struct smx_bind *b)
{
        tls_conn_shutdown(&b->tls);
}

void worker_tls_fini(struct smx_bind *b)
{
        tls_conn_end(&b->tls);
        if (b->tls_ctx) {
                tls_ctx_fini(b->tls_ctx);
                free(b->tls_ctx);
                b->tls_ctx = NULL;
        }
        free(b->tls_out);
        b->tls_out = NULL;
}
