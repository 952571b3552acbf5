/* The store connections' bytes (rstore_int.h), plain or over TLS: the
 * main connection and the read connection (rstore_read.c), each with its
 * own TLS session from the one context (same CA, name, client certificate).
 *
 * Plain (redis://, unix://): a redis:// TCP connect is ours, non-blocking
 * and waited for draining (tcp_connect, as for TLS), the socket then handed
 * to hiredis (redisConnectFd); a unix:// one is hiredis's (it never waits).
 * hiredis reads (redisBufferRead, once poll says there are bytes); writes are ours, non-blocking (send with
 * MSG_DONTWAIT from hiredis's output buffer), because a blocking write of a
 * large batch held the store thread until Redis had read all of it.
 *
 * Every wait for the socket (room to write, a reply) is 1 ms polls with
 * the workers' rings drained between them (wait_draining): the store
 * thread never stops taking the workers' hand-offs for longer than a
 * millisecond of its own time, whatever Redis does.
 *
 * TLS (rediss://): hiredis 0.14 has no TLS, so hiredis does no I/O at all
 * on a TLS connection. The store thread opens the TCP socket itself
 * (non-blocking, connect bounded by timeout_ms), runs the handshake with
 * src/tls (OpenSSL 3 on memory BIOs, the same code and reasons as SMPP
 * over TLS; bounded by timeout_ms), and then wraps the socket in a
 * redisContext (redisConnectFd) used only for its two buffers: commands are
 * formatted into its output buffer (redisAppendCommand*, as on a plain
 * connection), which rs_io_flush encrypts and sends; received records are
 * decrypted and fed to its reader (redisReaderFeed), from which replies are
 * taken as on a plain connection (redisGetReplyFromReader).
 *
 * Why this and not a socketpair with hiredis on one end: the store thread
 * already runs every exchange itself (one pipelined batch, then its replies
 * with a poll), so feeding hiredis's buffers adds no thread, no extra copy
 * through the kernel, and no second place where a connection can half-die;
 * a socketpair would need a pump running while hiredis blocks in
 * redisCommand, i.e. a second thread per connection. Everything else
 * (batching, replay, reconnect with backoff, offline behaviour) is the same
 * code for both: a reconnect is a new TCP connection and a new handshake
 * (resuming the last session when Redis offers tickets).
 *
 * Nothing secret reaches io_err or a log line: only the server, file names
 * and OpenSSL's reasons. Owned by the store thread, except the texts shown
 * in stats (rs->tls->mu). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/sds.h>

#include "log/log.h"
#include "store/rstore_int.h"

static uint64_t mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Wait for `events` on fd until `deadline` (mono ms): 1 ready, 0 timed
 * out. The store thread, also while it connects (the TCP connect and the
 * TLS handshake wait here too), polls 1 ms at a time and between the polls
 * takes what the workers queued (rs_drain_workers), so however long Redis takes to read a batch or
 * answer, the workers' hand-off rings keep being emptied into the FIFO and
 * the in-queue. A store thread blocked in a write for a second (a batch
 * larger than the socket buffer, Redis busy or descheduled) let a worker's
 * correlation ring fill, and every write past it was dropped: the stalls of
 * issue 13 (bench/README.md). */
static int wait_draining(struct smx_rstore *rs, int fd, short events, uint64_t deadline)
{
        for (;;) {
                uint64_t now = mono_ms();
                if (now >= deadline)
                        return 0;
                struct pollfd p = { fd, events, 0 };
                int r = poll(&p, 1, 1);
                if (r > 0)
                        return 1;
                if (r < 0 && errno != EINTR)
                        return 1;       /* let the next call report the error */
                rs_drain_workers(rs, rs_now_ms());
        }
}

/* ---- the TLS context (create / destroy) ---- */

int rs_tls_create(struct smx_rstore *rs, const struct rs_config *cfg, char *err, size_t err_len)
{
        int any = cfg->ca_file || cfg->ca_path || cfg->cert_file || cfg->key_file ||
                  cfg->server_name || cfg->insecure;
        if (!rs->use_tls) {
                if (any) {
                        snprintf(err, err_len, "store: TLS settings given but the store url "
                                 "is not rediss://");
                        return -1;
                }
                return 0;
        }
        if (cfg->server_name && (!*cfg->server_name || strlen(cfg->server_name) > 253)) {
                snprintf(err, err_len, "store: server_name must be 1..253 characters");
                return -1;
        }
        rs->tls = calloc(1, sizeof *rs->tls);
        if (!rs->tls) {
                snprintf(err, err_len, "store: out of memory");
                return -1;
        }
        pthread_mutex_init(&rs->tls->mu, NULL);
        for (unsigned l = 0; l < RS_LINKS; l++)
                rs->tls->sess[l].out = malloc(RS_TLS_OUT);
        rs->tls->in = malloc(RS_TLS_OUT);
        int oom = 0;
        struct smx_tls_cfg *t = tls_cfg_new_fields(cfg->ca_file, cfg->ca_path, cfg->cert_file,
                                                   cfg->key_file, cfg->server_name,
                                                   cfg->insecure, &oom);
        if (!t || !rs->tls->sess[RS_MAIN].out || !rs->tls->sess[RS_READ].out || !rs->tls->in) {
                tls_cfg_free(t);
                snprintf(err, err_len, "store: out of memory");
                return -1;
        }
        char why[300];
        int rc = tls_ctx_init(&rs->tls->ctx, t, rs->tcp_host, why, sizeof why);
        tls_cfg_free(t);
        if (rc < 0) {
                snprintf(err, err_len, "store: tls: %s", why);
                return -1;
        }
        rs->tls->ctx.peer = "Redis";
        return 0;
}

void rs_tls_destroy(struct smx_rstore *rs)
{
        if (!rs->tls)
                return;
        for (unsigned l = 0; l < RS_LINKS; l++) {
                tls_conn_end(&rs->tls->sess[l].conn);
                free(rs->tls->sess[l].out);
        }
        tls_ctx_fini(&rs->tls->ctx);
        pthread_mutex_destroy(&rs->tls->mu);
        free(rs->tls->in);
        free(rs->tls);
        rs->tls = NULL;
}

/* What stats show: the main session's version and cipher, or why a
 * session (either) failed. */
static void tls_show(struct smx_rstore *rs, unsigned link, const char *version,
                     const char *cipher, const char *error)
{
        struct rs_tls *t = rs->tls;
        pthread_mutex_lock(&t->mu);
        if (link == RS_MAIN) {
                snprintf(t->version, sizeof t->version, "%s", version);
                snprintf(t->cipher, sizeof t->cipher, "%s", cipher);
        }
        if (error)
                snprintf(t->error, sizeof t->error, "%s", error);
        pthread_mutex_unlock(&t->mu);
}

/* ---- TLS records out and in ---- */

static void tls_failed_why(struct smx_rstore *rs, unsigned link);

/* The connection broke (a write failed, or we are closing it): read what is
 * still queued on the socket through the session, so an alert Redis sent
 * before closing (e.g. our client certificate refused, which TLS 1.3 tells
 * only after the handshake) becomes the reason. 1 if the session failed or
 * was closed by Redis. */
static int tls_drain_alert(struct smx_rstore *rs, unsigned link, int fd)
{
        struct rs_tls *t = rs->tls;
        struct smx_tls_conn *conn = &t->sess[link].conn;
        if (!conn->ssl || conn->state != TLS_OPEN)
                return conn->state == TLS_FAILED || conn->state == TLS_CLOSED;
        for (int i = 0; i < 16; i++) {
                ssize_t n = recv(fd, t->in, RS_TLS_OUT, MSG_DONTWAIT);
                if (n <= 0 || tls_conn_input(conn, t->in, (size_t)n) < 0)
                        break;
        }
        while (tls_conn_read(conn, t->in, RS_TLS_OUT) > 0)
                ;       /* replies of a connection being dropped: not wanted */
        return conn->state == TLS_FAILED || conn->state == TLS_CLOSED;
}

/* Send the records OpenSSL made (and what is left of the last chunk); a
 * stall longer than timeout_ms fails. 0 or -1 (io_err). */
static int tls_send(struct smx_rstore *rs, unsigned link, int fd)
{
        struct rs_tls_sess *t = &rs->tls->sess[link];
        uint64_t deadline = mono_ms() + rs->cfg.timeout_ms;
        for (;;) {
                if (t->out_off == t->out_len) {
                        t->out_off = 0;
                        t->out_len = tls_conn_take(&t->conn, t->out, RS_TLS_OUT);
                        if (t->out_len == 0)
                                return 0;
                }
                ssize_t n = send(fd, t->out + t->out_off, t->out_len - t->out_off,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n > 0) {
                        t->out_off += (size_t)n;
                        deadline = mono_ms() + rs->cfg.timeout_ms;
                        continue;
                }
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                        if (!wait_draining(rs, fd, POLLOUT, deadline)) {
                                snprintf(rs->io_err, sizeof rs->io_err,
                                         "write stalled for %u ms", rs->cfg.timeout_ms);
                                return -1;
                        }
                        continue;
                }
                int e = errno;
                if (tls_drain_alert(rs, link, fd))
                        tls_failed_why(rs, link);
                else
                        snprintf(rs->io_err, sizeof rs->io_err, "write: %s", strerror(e));
                return -1;
        }
}

/* Read the ciphertext waiting on the socket into the session: 1 some, 0
 * none yet, -1 the connection ended or failed (io_err). */
static int tls_recv(struct smx_rstore *rs, unsigned link, int fd)
{
        struct rs_tls *t = rs->tls;
        struct smx_tls_conn *conn = &t->sess[link].conn;
        int got = 0;
        for (int i = 0; i < 64; i++) {
                ssize_t n = recv(fd, t->in, RS_TLS_OUT, MSG_DONTWAIT);
                if (n > 0) {
                        if (tls_conn_input(conn, t->in, (size_t)n) < 0) {
                                snprintf(rs->io_err, sizeof rs->io_err, "%s", conn->reason);
                                return -1;
                        }
                        got = 1;
                        if ((size_t)n < RS_TLS_OUT)
                                break;
                        continue;
                }
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                        break;
                if (n == 0) {
                        const char *why = tls_conn_eof_reason(conn);
                        snprintf(rs->io_err, sizeof rs->io_err, "%s%s%s", why,
                                 conn->detail[0] ? ": " : "", conn->detail);
                        return -1;
                }
                snprintf(rs->io_err, sizeof rs->io_err, "read: %s", strerror(errno));
                return -1;
        }
        return got;
}

static void tls_failed_why(struct smx_rstore *rs, unsigned link)
{
        const struct smx_tls_conn *c = &rs->tls->sess[link].conn;
        snprintf(rs->io_err, sizeof rs->io_err, "%s%s%s", c->reason, c->detail[0] ? " (" : "",
                 c->detail[0] ? c->detail : "");
        if (c->detail[0])
                strncat(rs->io_err, ")", sizeof rs->io_err - strlen(rs->io_err) - 1);
}

/* ---- opening ---- */

/* A TCP connection to host:port within timeout_ms: the socket, or -1. */
static int tcp_connect(struct smx_rstore *rs)
{
        char port[8];
        snprintf(port, sizeof port, "%d", rs->port);
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
        struct addrinfo *res = NULL;
        int gr = getaddrinfo(rs->tcp_host, port, &hints, &res);
        if (gr != 0) {
                snprintf(rs->io_err, sizeof rs->io_err, "cannot resolve %s: %s", rs->tcp_host,
                         gai_strerror(gr));
                return -1;
        }
        uint64_t deadline = mono_ms() + rs->cfg.timeout_ms;
        int fd = -1;
        snprintf(rs->io_err, sizeof rs->io_err, "no address for %s", rs->tcp_host);
        for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
                fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                            a->ai_protocol);
                if (fd < 0)
                        continue;
                int rc = connect(fd, a->ai_addr, a->ai_addrlen);
                if (rc < 0 && errno == EINPROGRESS) {
                        if (!wait_draining(rs, fd, POLLOUT, deadline)) {
                                snprintf(rs->io_err, sizeof rs->io_err, "connect timed out "
                                         "(%u ms)", rs->cfg.timeout_ms);
                        } else {
                                int e = 0;
                                socklen_t el = sizeof e;
                                getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
                                rc = e ? -1 : 0;
                                errno = e;
                                if (rc < 0)
                                        snprintf(rs->io_err, sizeof rs->io_err,
                                                 "connect: %s", strerror(e));
                        }
                } else if (rc < 0) {
                        snprintf(rs->io_err, sizeof rs->io_err, "connect: %s", strerror(errno));
                }
                if (rc < 0) {
                        close(fd);
                        fd = -1;
                }
        }
        freeaddrinfo(res);
        if (fd >= 0) {
                int one = 1;
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
        }
        return fd;
}

/* A plain redis:// connection: our own non-blocking connect (tcp_connect,
 * waiting in wait_draining like the TLS one), not hiredis's, which blocked
 * the store thread for up to timeout_ms per attempt when SYNs went
 * unanswered, emptying no worker ring meanwhile. The socket is then made
 * blocking, as hiredis leaves a connection it opened itself (the rest of
 * this file sends with MSG_DONTWAIT and reads after poll either way), and
 * wrapped in a context (redisConnectFd: blocking flag, connected). NULL:
 * io_err says why. A unix:// connect never waits (local: refused, or a full
 * backlog's EAGAIN, at once), so it stays hiredis's. */
static redisContext *plain_tcp_open(struct smx_rstore *rs)
{
        int fd = tcp_connect(rs);
        if (fd < 0)
                return NULL;
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
                snprintf(rs->io_err, sizeof rs->io_err, "fcntl: %s", strerror(errno));
                close(fd);
                return NULL;
        }
        redisContext *c = redisConnectFd(fd);   /* takes fd: redisFree closes it */
        if (!c) {
                snprintf(rs->io_err, sizeof rs->io_err, "out of memory");
                close(fd);
        }
        return c;
}

/* The handshake on fd within timeout_ms: 0, or -1 (io_err). */
static int tls_handshake(struct smx_rstore *rs, unsigned link, int fd)
{
        struct rs_tls_sess *t = &rs->tls->sess[link];
        tls_conn_end(&t->conn);
        t->out_off = t->out_len = 0;
        if (tls_conn_start(&t->conn, &rs->tls->ctx) < 0) {
                tls_failed_why(rs, link);
                return -1;
        }
        uint64_t deadline = mono_ms() + rs->cfg.timeout_ms;
        for (;;) {
                if (tls_send(rs, link, fd) < 0)
                        return -1;
                int hs = tls_conn_handshake(&t->conn);
                if (hs < 0) {
                        tls_send(rs, link, fd); /* our alert, best effort */
                        tls_failed_why(rs, link);
                        return -1;
                }
                if (hs == 1)
                        return tls_send(rs, link, fd);  /* our Finished */
                if (tls_conn_pending(&t->conn))
                        continue;
                if (!wait_draining(rs, fd, POLLIN, deadline)) {
                        snprintf(t->conn.reason, sizeof t->conn.reason, "tls: handshake timed out");
                        snprintf(rs->io_err, sizeof rs->io_err, "tls: handshake timed out "
                                 "(%u ms; is this Redis's tls-port?)", rs->cfg.timeout_ms);
                        return -1;
                }
                if (tls_recv(rs, link, fd) < 0)
                        return -1;
        }
}

redisContext *rs_io_open(struct smx_rstore *rs, unsigned link, int *tls_failed)
{
        *tls_failed = 0;
        rs->io_err[0] = 0;
        if (!rs->use_tls) {
                struct timeval tv = { rs->cfg.timeout_ms / 1000,
                                      (rs->cfg.timeout_ms % 1000) * 1000 };
                redisContext *c = rs->unix_path[0]
                                  ? redisConnectUnixWithTimeout(rs->unix_path, tv)
                                  : plain_tcp_open(rs);
                if (!c && !rs->unix_path[0])
                        return NULL;            /* io_err says why */
                if (!c || c->err) {
                        snprintf(rs->io_err, sizeof rs->io_err, "%s",
                                 c ? c->errstr : "out of memory");
                        if (c)
                                redisFree(c);
                        return NULL;
                }
                redisSetTimeout(c, tv);
                if (!rs->unix_path[0])
                        redisEnableKeepAlive(c);
                return c;
        }
        int fd = tcp_connect(rs);
        if (fd < 0)
                return NULL;
        struct smx_tls_conn *conn = &rs->tls->sess[link].conn;
        if (tls_handshake(rs, link, fd) < 0) {
                *tls_failed = 1;
                RS_INC(rs, tls_failures);
                tls_show(rs, link, "", "", conn->reason[0] ? conn->reason : "tls: failed");
                tls_conn_end(conn);
                close(fd);
                return NULL;
        }
        redisContext *c = redisConnectFd(fd);   /* takes fd: redisFree closes it */
        if (!c || c->err) {
                snprintf(rs->io_err, sizeof rs->io_err, "out of memory");
                if (c)
                        redisFree(c);
                else
                        close(fd);
                tls_conn_end(conn);
                return NULL;
        }
        /* counted as a handshake once the connection is set up (rs_connect):
         * with TLS 1.3 Redis may still refuse our certificate on the first read */
        tls_show(rs, link, conn->version, conn->cipher, "");
        return c;
}

void rs_io_close(struct smx_rstore *rs, unsigned link, redisContext *c)
{
        struct rs_tls_sess *t = rs->tls ? &rs->tls->sess[link] : NULL;
        if (t && c)
                tls_drain_alert(rs, link, c->fd);
        if (t && t->conn.ssl && t->conn.state == TLS_FAILED) {
                /* failed after the handshake, e.g. TLS 1.3: Redis refuses
                 * our client certificate with an alert on the first read */
                RS_INC(rs, tls_failures);
                tls_show(rs, link, "", "", t->conn.reason);
        }
        if (t) {
                if (c && tls_conn_can_notify(&t->conn)) {
                        /* close_notify, best effort and without waiting */
                        tls_conn_shutdown(&t->conn);
                        size_t n = tls_conn_take(&t->conn, t->out, RS_TLS_OUT);
                        if (n) {
                                ssize_t w = send(c->fd, t->out, n, MSG_NOSIGNAL | MSG_DONTWAIT);
                                (void)w;
                        }
                }
                tls_conn_end(&t->conn);
                t->out_off = t->out_len = 0;
                tls_show(rs, link, "", "", NULL);
        }
        if (c)
                redisFree(c);
}

/* ---- the exchange ---- */

int rs_io_flush(struct smx_rstore *rs, unsigned link, redisContext *c)
{
        if (!rs->tls) {
                /* never a blocking write (redisBufferWrite on the blocking
                 * socket waited until Redis had read the whole batch): what
                 * the socket takes now, then wait for room, draining */
                uint64_t deadline = mono_ms() + rs->cfg.timeout_ms;
                while (sdslen(c->obuf)) {
                        ssize_t n = send(c->fd, c->obuf, sdslen(c->obuf),
                                         MSG_NOSIGNAL | MSG_DONTWAIT);
                        if (n > 0) {
                                sdsrange(c->obuf, n, -1);
                                deadline = mono_ms() + rs->cfg.timeout_ms;
                                continue;
                        }
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                                if (!wait_draining(rs, c->fd, POLLOUT, deadline)) {
                                        snprintf(rs->io_err, sizeof rs->io_err,
                                                 "write stalled for %u ms", rs->cfg.timeout_ms);
                                        return -1;
                                }
                                continue;
                        }
                        snprintf(rs->io_err, sizeof rs->io_err, "write: %s",
                                 n < 0 ? strerror(errno) : "closed");
                        return -1;
                }
                return 0;
        }
        size_t n = sdslen(c->obuf);
        if (n) {
                if (tls_conn_write(&rs->tls->sess[link].conn, (const uint8_t *)c->obuf, n) < 0) {
                        tls_failed_why(rs, link);
                        return -1;
                }
                sdsclear(c->obuf);
        }
        return tls_send(rs, link, c->fd);
}

int rs_io_fill(struct smx_rstore *rs, unsigned link, redisContext *c)
{
        if (!rs->tls) {
                if (redisBufferRead(c) != REDIS_OK) {
                        snprintf(rs->io_err, sizeof rs->io_err, "%s",
                                 c->errstr[0] ? c->errstr : "read");
                        return -1;
                }
                return 0;
        }
        struct rs_tls *t = rs->tls;
        struct smx_tls_conn *conn = &t->sess[link].conn;
        int r = tls_recv(rs, link, c->fd);
        /* the plaintext of every whole record received, also when the
         * connection ended right after them */
        for (;;) {
                long n = tls_conn_read(conn, t->in, RS_TLS_OUT);
                if (n > 0) {
                        if (redisReaderFeed(c->reader, (const char *)t->in, (size_t)n) != REDIS_OK) {
                                snprintf(rs->io_err, sizeof rs->io_err, "out of memory");
                                return -1;
                        }
                        continue;
                }
                if (n < 0) {
                        tls_failed_why(rs, link);
                        return -1;
                }
                break;
        }
        /* reading can make records to send (a key update's answer) */
        if (tls_conn_pending(conn) && tls_send(rs, link, c->fd) < 0)
                return -1;
        return r < 0 ? -1 : 0;
}

redisReply *rs_io_command(struct smx_rstore *rs, unsigned link, redisContext *c,
                          const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int rc = redisvAppendCommand(c, fmt, ap);
        va_end(ap);
        if (rc != REDIS_OK) {
                snprintf(rs->io_err, sizeof rs->io_err, "out of memory");
                return NULL;
        }
        if (rs_io_flush(rs, link, c) < 0)
                return NULL;
        uint64_t deadline = mono_ms() + rs->cfg.timeout_ms;
        for (;;) {
                void *r = NULL;
                if (redisGetReplyFromReader(c, &r) != REDIS_OK) {
                        snprintf(rs->io_err, sizeof rs->io_err, "%s",
                                 c->errstr[0] ? c->errstr : "protocol error");
                        return NULL;
                }
                if (r)
                        return r;
                if (!wait_draining(rs, c->fd, POLLIN, deadline)) {
                        snprintf(rs->io_err, sizeof rs->io_err, "no answer within %u ms",
                                 rs->cfg.timeout_ms);
                        return NULL;
                }
                if (rs_io_fill(rs, link, c) < 0)
                        return NULL;
        }
}
