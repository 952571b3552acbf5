/* The Redis store's life cycle, its URL, the main connection
 * (authentication, script loading, the consumer group, the data set's
 * generation marker (rstore_fence.c), the heartbeat; the
 * bytes themselves, plain or TLS, are rstore_io.c's; the read connection is
 * rstore_read.c's) and the worker-facing rings. See rstore.h for the design and rstore_int.h for the file map.
 * Credentials are kept only to authenticate; nothing here logs them (the
 * URL is shown as shown_url, without user and password). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "log/log.h"
#include "pdu/smpp_defs.h"
#include "store/rstore_int.h"

uint64_t rs_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void rs_tag(const struct smx_key128 *k, char out[33])
{
        /* 128 bits as 22 base64url characters (shorter keys: less Redis
         * memory per correlation than 32 hex digits) */
        static const char b64[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        uint64_t hi = k->hi, lo = k->lo;
        for (int i = 0; i < 22; i++) {
                out[i] = b64[lo & 63];
                lo = (lo >> 6) | (hi << 58);
                hi >>= 6;
        }
        out[22] = 0;
}

int rstore_url_is_shared(const char *url)
{
        return url && (!strncmp(url, "redis://", 8) || !strncmp(url, "rediss://", 9) ||
                       !strncmp(url, "unix://", 7));
}

/* Split url into rs's fields. 0 or -EINVAL. rs may be a scratch struct. */
static int parse_url(const char *url, struct smx_rstore *rs, char *err, size_t err_len)
{
        if (!strncmp(url, "unix://", 7)) {
                const char *p = url + 7;
                if (p[0] != '/' || strlen(p) >= sizeof rs->unix_path) {
                        snprintf(err, err_len, "store: unix:///PATH needs an absolute path");
                        return -EINVAL;
                }
                snprintf(rs->unix_path, sizeof rs->unix_path, "%s", p);
                snprintf(rs->shown_url, sizeof rs->shown_url, "unix://%s", p);
                return 0;
        }
        rs->use_tls = !strncmp(url, "rediss://", 9);
        if (strncmp(url, "redis://", 8) != 0 && !rs->use_tls) {
                snprintf(err, err_len, "store: '%.64s' is not memory, redis://HOST:PORT[/DB], "
                         "rediss://HOST:PORT[/DB] or unix:///PATH", url);
                return -EINVAL;
        }
        const char *p = url + (rs->use_tls ? 9 : 8);
        const char *at = strrchr(p, '@');
        if (at) {
                /* [USER:]PASS@ (the part before the host) */
                const char *colon = memchr(p, ':', (size_t)(at - p));
                size_t ul = colon ? (size_t)(colon - p) : 0;
                const char *pw = colon ? colon + 1 : p;
                size_t pl = (size_t)(at - pw);
                if (ul >= sizeof rs->user || pl >= sizeof rs->password) {
                        snprintf(err, err_len, "store: user or password too long");
                        return -EINVAL;
                }
                memcpy(rs->user, p, ul);
                rs->user[ul] = 0;
                memcpy(rs->password, pw, pl);
                rs->password[pl] = 0;
                p = at + 1;
        }
        const char *slash = strchr(p, '/');
        const char *colon = strrchr(p, ':');
        if (slash && colon && colon > slash)
                colon = NULL;
        size_t hl = colon ? (size_t)(colon - p) : slash ? (size_t)(slash - p) : strlen(p);
        if (hl == 0 || hl >= sizeof rs->tcp_host) {
                snprintf(err, err_len, "store: %s URL without a host",
                         rs->use_tls ? "rediss://" : "redis://");
                return -EINVAL;
        }
        memcpy(rs->tcp_host, p, hl);
        rs->tcp_host[hl] = 0;
        rs->port = 6379;
        if (colon) {
                char *end;
                long port = strtol(colon + 1, &end, 10);
                if (end == colon + 1 || port < 1 || port > 65535 || (*end && *end != '/')) {
                        snprintf(err, err_len, "store: bad port in redis:// URL");
                        return -EINVAL;
                }
                rs->port = (int)port;
        }
        rs->db = 0;
        if (slash && slash[1]) {
                char *end;
                long db = strtol(slash + 1, &end, 10);
                if (*end || db < 0 || db > 1000000) {
                        snprintf(err, err_len, "store: bad database number in redis:// URL");
                        return -EINVAL;
                }
                rs->db = (int)db;
        }
        snprintf(rs->shown_url, sizeof rs->shown_url, "%s://%s:%d/%d",
                 rs->use_tls ? "rediss" : "redis", rs->tcp_host, rs->port, rs->db);
        return 0;
}

int rstore_url_check(const char *url, char *err, size_t err_len)
{
        if (!url || !strcmp(url, "memory"))
                return 0;
        struct smx_rstore *scratch = calloc(1, sizeof *scratch);
        if (!scratch)
                return -ENOMEM;
        int rc = parse_url(url, scratch, err, err_len);
        free(scratch);
        return rc;
}

/* Instance and cluster names go into keys and scripts: printable, no
 * braces, colon or separator characters. */
static int name_ok(const char *s)
{
        if (!s || !*s || strlen(s) > RS_NAME_MAX)
                return 0;
        for (; *s; s++)
                if (*s <= ' ' || *s > '~' || *s == '{' || *s == '}' || *s == ':')
                        return 0;
        return 1;
}

int rstore_create(const struct rs_config *cfg, const struct rs_host *host,
                  struct smx_rstore **out, char *err, size_t err_len)
{
        char dummy[8];
        if (!err) {
                err = dummy;
                err_len = sizeof dummy;
        }
        *out = NULL;
        struct smx_rstore *rs = calloc(1, sizeof *rs);
        if (!rs)
                return -ENOMEM;
        rs->cfg = *cfg;
        rs->host = *host;
        rs->efd = -1;
        int rc = parse_url(cfg->url, rs, err, err_len);
        if (rc < 0)
                goto fail;
        if (cfg->user)
                snprintf(rs->user, sizeof rs->user, "%s", cfg->user);
        if (cfg->password)
                snprintf(rs->password, sizeof rs->password, "%s", cfg->password);
        rs->cfg.user = rs->cfg.password = rs->cfg.url = NULL;  /* kept here only */
        if (!rs->cfg.timeout_ms)
                rs->cfg.timeout_ms = 1000;
        if (rs_tls_create(rs, cfg, err, err_len) < 0) {
                rc = -EINVAL;
                goto fail;
        }
        rs->cfg.ca_file = rs->cfg.ca_path = rs->cfg.cert_file = rs->cfg.key_file = NULL;
        rs->cfg.server_name = NULL;     /* the TLS context holds what it needs */
        char hn[256] = "";
        const char *inst = cfg->instance;
        if (!inst || !*inst) {
                if (gethostname(hn, sizeof hn - 1) != 0 || !hn[0])
                        snprintf(hn, sizeof hn, "smsmux");
                inst = hn;
        }
        const char *cl = cfg->cluster && *cfg->cluster ? cfg->cluster : "smsmux";
        if (!name_ok(inst) || !name_ok(cl)) {
                snprintf(err, err_len, "store: instance and cluster names are 1-%d printable "
                         "characters without spaces, ':', '{' or '}'", RS_NAME_MAX);
                rc = -EINVAL;
                goto fail;
        }
        snprintf(rs->instance, sizeof rs->instance, "%s", inst);
        snprintf(rs->cluster, sizeof rs->cluster, "%s", cl);
        rs->cfg.instance = rs->instance;
        rs->cfg.cluster = rs->cluster;
        if (!rs->cfg.owner_takeover_ms)
                rs->cfg.owner_takeover_ms = 30000;
        if (!rs->cfg.hold_ms)
                rs->cfg.hold_ms = 5000;
        if (!rs->cfg.local_after_ms)
                rs->cfg.local_after_ms = 30000;
        if (!rs->cfg.buffer_bytes)
                rs->cfg.buffer_bytes = 64u << 20;
        if (!rs->cfg.timeout_ms)
                rs->cfg.timeout_ms = 1000;
        rs->ring_cap = 16384;
        while (rs->ring_cap > 1024 && cfg->event_capacity && rs->ring_cap > cfg->event_capacity)
                rs->ring_cap /= 2;
        rs->ring = event_ring_create(rs->ring_cap);
        rs->ackv = calloc(rs->ring_cap, sizeof *rs->ackv);
        rs->reack = calloc(rs->ring_cap + RS_BAD_MAX, sizeof *rs->reack);
        rs->lease = calloc(rs->ring_cap, sizeof *rs->lease);
        rs->refresh_pos = calloc(rs->ring_cap, sizeof *rs->refresh_pos);
        rs->fifo_cap = rs->cfg.buffer_bytes;
        rs->fifo = malloc(rs->fifo_cap);
        rs->inq = calloc(RS_INQ, sizeof *rs->inq);
        unsigned nq = rs_n_queues(rs);
        rs->wq = calloc(nq ? nq : 1, sizeof *rs->wq);
        rs->mark_pos = calloc(RS_MARKS, sizeof *rs->mark_pos);
        rs->mark_taken = calloc((size_t)(RS_MARKS + 1) * (nq ? nq : 1), sizeof *rs->mark_taken);
        rs->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        rc = -ENOMEM;
        if (!rs->ring || !rs->ackv || !rs->reack || !rs->lease || !rs->refresh_pos || !rs->fifo || !rs->inq || !rs->wq ||
            !rs->mark_pos || !rs->mark_taken || rs->efd < 0 || rs_held_create(rs) < 0)
                goto fail;
        /* the seed of the generation ids this instance proposes
         * (rstore_fence.c): unlike any other instance's */
        if (getrandom(&rs->gen_seed, sizeof rs->gen_seed, 0) != sizeof rs->gen_seed)
                rs->gen_seed = rs_mono_ms() * 0x9E3779B97F4A7C15ull ^ (uint64_t)getpid() << 32 ^
                               (uint64_t)(uintptr_t)rs;
        for (unsigned k = 0; k < nq; k++) {
                struct rs_worker_q *q = &rs->wq[k];
                if (spsc_init(&q->corr, RS_CORR_RING, sizeof(struct rs_corr_req)) < 0 ||
                    spsc_init(&q->in, RS_IN_RING, sizeof(struct rs_in_req)) < 0 ||
                    spsc_init(&q->reply, 2 * RS_IN_RING, sizeof(struct rs_reply)) < 0)
                        goto fail;
        }
        struct rs_stream *own = &rs->streams[0];
        snprintf(own->name, sizeof own->name, "%s", rs->instance);
        snprintf(own->key, sizeof own->key, "smsmux:{%s}:s:%s", rs->cluster, rs->instance);
        rs->n_streams = 1;
        snprintf(rs->own_from, sizeof rs->own_from, "0");      /* our pending entries first */
        *out = rs;
        return 0;
fail:
        rstore_destroy(rs);
        return rc;
}

int rstore_start(struct smx_rstore *rs)
{
        if (rs->tls && !rs->tls->ctx.verify)
                smx_logf(SMX_LOG_WARN, NULL, NULL, "store %s: tls: insecure: Redis's certificate "
                         "and host name are NOT verified (test use only)", rs->shown_url);
        int rc = pthread_create(&rs->th, NULL, rs_main, rs);
        if (rc != 0)
                return -rc;
        rs->started = 1;
        return 0;
}

void rstore_destroy(struct smx_rstore *rs)
{
        if (!rs)
                return;
        if (rs->started) {
                atomic_store(&rs->stop, 1);
                uint64_t one = 1;
                ssize_t w = write(rs->efd, &one, sizeof one);
                (void)w;
                pthread_join(rs->th, NULL);
        }
        if (rs->rc)
                rs_io_close(rs, RS_MAIN, rs->rc);
        if (rs->rd)
                rs_io_close(rs, RS_READ, rs->rd);
        rs_tls_destroy(rs);
        /* an extra producer's requests still here are answered (retry
         * later): the HTTP receiver's close may have given them up, and its
         * tickets are freed by that answer */
        for (uint32_t i = rs->in_head; rs->inq && i != rs->in_tail; i++) {
                struct rs_in_req *r = &rs->inq[i % RS_INQ];
                if (r->to.worker >= rs->host.n_workers && rs->host.answer_ext) {
                        struct rs_reply rep = { .to = r->to, .status = SMPP_ESME_RX_T_APPN };
                        rs->host.answer_ext(rs->host.ctx, &rep);
                }
                free(r->data);
        }
        if (rs->wq) {
                for (unsigned k = 0; k < rs_n_queues(rs); k++) {
                        struct rs_worker_q *q = &rs->wq[k];
                        struct rs_in_req *r;
                        while (q->in.buf && (r = spsc_peek(&q->in)) != NULL) {
                                if (k >= rs->host.n_workers && rs->host.answer_ext) {
                                        struct rs_reply rep = { .to = r->to,
                                                                .status = SMPP_ESME_RX_T_APPN };
                                        rs->host.answer_ext(rs->host.ctx, &rep);
                                }
                                free(r->data);
                                spsc_pop(&q->in);
                        }
                        spsc_fini(&q->corr);
                        spsc_fini(&q->in);
                        spsc_fini(&q->reply);
                }
        }
        free(rs->wq);
        free(rs->mark_pos);
        free(rs->mark_taken);
        free(rs->inq);
        free(rs->pl.p);
        free(rs->hd.p);
        free(rs->fifo);
        free(rs->ackv);
        free(rs->reack);
        free((void *)rs->lease);
        free(rs->refresh_pos);
        rs_held_destroy(rs);
        if (rs->ring)
                event_ring_destroy(rs->ring);
        if (rs->efd >= 0)
                close(rs->efd);
        memset(rs->password, 0, sizeof rs->password);
        free(rs);
}

struct smx_event_ring *rstore_ring(struct smx_rstore *rs)
{
        return rs->ring;
}

const char *rstore_instance(const struct smx_rstore *rs)
{
        return rs->instance;
}

const char *rstore_cluster(const struct smx_rstore *rs)
{
        return rs->cluster;
}

/* ---- connection ---- */

static int reply_ok(redisContext *c, redisReply *r, const char *busy_ok)
{
        if (!r)
                return 0;
        int ok = r->type != REDIS_REPLY_ERROR ||
                 (busy_ok && r->str && !strncmp(r->str, busy_ok, strlen(busy_ok)));
        (void)c;
        return ok;
}

void rs_own_reread(struct smx_rstore *rs)
{
        if (rs->own_history_done)
                snprintf(rs->own_from, sizeof rs->own_from, "%s",
                         rs->own_last[0] ? rs->own_last : "0");
}

void rs_disconnect(struct smx_rstore *rs, const char *why, uint64_t now_ms)
{
        if (rs->rc) {
                smx_logf(SMX_LOG_WARN, NULL, NULL, "store %s: connection lost (%s)",
                         rs->shown_url, why);
                rs_io_close(rs, RS_MAIN, rs->rc);
                rs->rc = NULL;
                RS_INC(rs, disconnects);
        }
        RS_SET(rs, connected, 0);
        rs_retry_later(rs, RS_MAIN, now_ms);
        /* without the read connection the batch read our stream: entries
         * read with ">" whose reply was lost are pending for us */
        if (!rs->rd)
                rs_own_reread(rs);
}

void rs_retry_later(struct smx_rstore *rs, unsigned link, uint64_t now_ms)
{
        uint64_t *down_since = link == RS_READ ? &rs->rd_down_since_ms : &rs->down_since_ms;
        uint32_t *backoff = link == RS_READ ? &rs->rd_backoff_ms : &rs->backoff_ms;
        uint64_t *next = link == RS_READ ? &rs->rd_next_connect_ms : &rs->next_connect_ms;
        if (!*down_since)
                *down_since = now_ms;
        *backoff = *backoff ? *backoff * 2 : 100;
        if (*backoff > 2000)
                *backoff = 2000;
        *next = now_ms + *backoff;
}

int rs_conn_fail(struct smx_rstore *rs, unsigned link, redisContext *c, redisReply *r,
                 const char *what, uint64_t now_ms)
{
        smx_logf(SMX_LOG_WARN, NULL, NULL, "store %s: %s%s failed: %s", rs->shown_url,
                 link == RS_READ ? "read connection: " : "", what,
                 r && r->type == REDIS_REPLY_ERROR && r->str ? r->str
                 : rs->io_err[0] ? rs->io_err : "no answer");
        if (r)
                freeReplyObject(r);
        rs_io_close(rs, link, c);
        rs_retry_later(rs, link, now_ms);
        return -1;
}

/* On a new connection (either link), authenticate, select the database and
 * name it: 0, or -1 (logged, closed, retry put off: rs_conn_fail). */
static int conn_setup(struct smx_rstore *rs, unsigned link, redisContext *c, uint64_t now_ms)
{
        redisReply *r;
        if (rs->password[0]) {
                /* the password goes to Redis only, never to a log line */
                r = rs->user[0] ? rs_io_command(rs, link, c, "AUTH %s %s", rs->user, rs->password)
                                : rs_io_command(rs, link, c, "AUTH %s", rs->password);
                if (!reply_ok(c, r, NULL))
                        return rs_conn_fail(rs, link, c, r, "authentication", now_ms);
                freeReplyObject(r);
        }
        if (rs->db) {
                r = rs_io_command(rs, link, c, "SELECT %d", rs->db);
                if (!reply_ok(c, r, NULL))
                        return rs_conn_fail(rs, link, c, r, "SELECT", now_ms);
                freeReplyObject(r);
        }
        /* named for CLIENT LIST / CLIENT KILL: smsmux:CLUSTER:INSTANCE:main|read */
        r = rs_io_command(rs, link, c, "CLIENT SETNAME smsmux:%s:%s:%s", rs->cluster,
                          rs->instance, link == RS_READ ? "read" : "main");
        if (!r)         /* an ACL user without CLIENT SETNAME: unnamed, not an error */
                return rs_conn_fail(rs, link, c, r, "CLIENT SETNAME", now_ms);
        freeReplyObject(r);
        return 0;
}

redisContext *rs_conn_open(struct smx_rstore *rs, unsigned link, uint64_t now_ms)
{
        int tls_failed = 0;
        redisContext *c = rs_io_open(rs, link, &tls_failed);
        if (!c) {
                /* the first failure, then one line every 2 s while it lasts */
                int down = link == RS_READ ? rs->rd_down_since_ms != 0 : rs->down_since_ms != 0;
                uint32_t backoff = link == RS_READ ? rs->rd_backoff_ms : rs->backoff_ms;
                if (!down || backoff >= 2000)
                        smx_logf(SMX_LOG_WARN, NULL, NULL, "store %s: %scannot connect: %s%s",
                                 rs->shown_url, link == RS_READ ? "read connection: " : "",
                                 tls_failed ? "TLS handshake failed: " : "", rs->io_err);
                rs_retry_later(rs, link, now_ms);
                return NULL;
        }
        return conn_setup(rs, link, c, now_ms) < 0 ? NULL : c;
}

int rs_connect(struct smx_rstore *rs, uint64_t now_ms)
{
        redisContext *c = rs_conn_open(rs, RS_MAIN, now_ms);
        if (!c)
                return -1;
        redisReply *r;
        for (int i = 0; i < RS_LUA_N; i++) {
                r = rs_io_command(rs, RS_MAIN, c, "SCRIPT LOAD %s", rs_lua[i]);
                if (!reply_ok(c, r, NULL) || r->type != REDIS_REPLY_STRING || r->len != 40)
                        return rs_conn_fail(rs, RS_MAIN, c, r, "SCRIPT LOAD", now_ms);
                memcpy(rs->sha[i], r->str, 40);
                rs->sha[i][40] = 0;
                freeReplyObject(r);
        }
        r = rs_io_command(rs, RS_MAIN, c, "XGROUP CREATE %s g 0 MKSTREAM", rs->streams[0].key);
        if (!reply_ok(c, r, "BUSYGROUP"))
                return rs_conn_fail(rs, RS_MAIN, c, r, "XGROUP CREATE", now_ms);
        freeReplyObject(r);
        if (rs_gen_setup(rs, RS_MAIN, c, now_ms) < 0)
                return -1;
        r = rs_io_command(rs, RS_MAIN, c, "HSET smsmux:{%s}:inst %s %llu", rs->cluster, rs->instance,
                         (unsigned long long)rs_now_ms());
        if (!reply_ok(c, r, NULL))
                return rs_conn_fail(rs, RS_MAIN, c, r, "HSET", now_ms);
        freeReplyObject(r);
        rs->rc = c;
        RS_INC(rs, connects);
        if (rs->tls)
                RS_INC(rs, tls_handshakes);
        RS_SET(rs, connected, 1);
        char tls_note[160] = "";
        const struct smx_tls_conn *tc = rs->tls ? &rs->tls->sess[RS_MAIN].conn : NULL;
        if (tc)
                snprintf(tls_note, sizeof tls_note, " (%s %s%s%s)", tc->version,
                         tc->cipher, tc->resumed ? ", session resumed" : "",
                         rs->tls->ctx.verify ? "" : ", NOT verified (insecure)");
        if (rs->down_since_ms)
                rs->judge_from_ms = now_ms + rs->cfg.owner_takeover_ms;
        if (rs->down_since_ms)
                smx_logf(SMX_LOG_WARN, NULL, NULL, "store %s: connected after %llu ms%s",
                         rs->shown_url, (unsigned long long)(now_ms - rs->down_since_ms),
                         tls_note);
        else
                smx_logf(SMX_LOG_INFO, NULL, NULL, "store %s: connected as %s in cluster %s%s",
                         rs->shown_url, rs->instance, rs->cluster, tls_note);
        rs->down_since_ms = 0;
        rs->backoff_ms = 0;
        rs->next_hb_ms = 0;
        return 0;
}

/* ---- worker side ---- */

int rstore_corr_put_w(struct smx_rstore *rs, unsigned k, const struct rs_corr_req *r)
{
        struct smx_spsc *q = &rs->wq[k].corr;
        struct rs_corr_req *s = spsc_slot(q);
        if (!s) {
                RS_INC(rs, corr_dropped);
                return -ENOBUFS;
        }
        memcpy(s, r, offsetof(struct rs_corr_req, app) + r->app_len);
        spsc_push(q);
        return 0;
}

const _Atomic uint32_t *rstore_corr_count(struct smx_rstore *rs, unsigned k)
{
        return &rs->wq[k].corr.tail;
}

uint32_t rstore_corr_done(struct smx_rstore *rs, unsigned k)
{
        if (atomic_load_explicit(&rs->gate_open, memory_order_acquire))
                return atomic_load_explicit(&rs->wq[k].corr.tail, memory_order_acquire);
        /* seq_cst: pairs with the store thread's publication (rs_gate_settle)
         * and the poll's announcement of sleep */
        return atomic_load(&rs->wq[k].corr_done);
}

uint32_t rstore_corr_room_w(struct smx_rstore *rs, unsigned k)
{
        struct smx_spsc *q = &rs->wq[k].corr;
        return q->mask + 1 - spsc_count(q);
}

int rstore_in_w(struct smx_rstore *rs, unsigned k, const struct rs_in_req *r)
{
        struct smx_spsc *q = &rs->wq[k].in;
        struct rs_in_req *s = spsc_slot(q);
        if (!s)
                return -ENOBUFS;
        *s = *r;
        spsc_push(q);
        return 0;
}

int rstore_in_room_w(struct smx_rstore *rs, unsigned k)
{
        return spsc_slot(&rs->wq[k].in) != NULL;
}

void rstore_kick_w(struct smx_rstore *rs, unsigned k)
{
        (void)k;
        if (atomic_exchange(&rs->sleeping, 0)) {
                uint64_t one = 1;
                ssize_t w = write(rs->efd, &one, sizeof one);
                (void)w;
        }
}

void rstore_released(struct smx_rstore *rs)
{
        if (atomic_exchange(&rs->sleeping, 0)) {
                uint64_t one = 1;
                ssize_t w = write(rs->efd, &one, sizeof one);
                (void)w;
        }
}

int rstore_reply_pop_w(struct smx_rstore *rs, unsigned k, struct rs_reply *out)
{
        struct smx_spsc *q = &rs->wq[k].reply;
        struct rs_reply *r = spsc_peek(q);
        if (!r)
                return 0;
        *out = *r;
        spsc_pop(q);
        return 1;
}

#define LD(f) atomic_load_explicit(&rs->c.f, memory_order_relaxed)

void rstore_stats(const struct smx_rstore *rs_c, struct rs_stats *st)
{
        struct smx_rstore *rs = (struct smx_rstore *)rs_c;
        memset(st, 0, sizeof *st);
        st->connected = LD(connected);
        st->connects = LD(connects);
        st->disconnects = LD(disconnects);
        st->round_trips = LD(round_trips);
        st->commands = LD(commands);
        st->corr_writes = LD(corr_writes);
        st->corr_buffered_bytes = LD(corr_buffered_bytes);
        st->corr_buffered = LD(corr_buffered);
        st->corr_dropped = LD(corr_dropped);
        st->in_requests = LD(in_requests);
        st->in_held = LD(in_held);
        st->in_retry_later = LD(in_retry_later);
        st->local_fallback = LD(local_fallback);
        st->drs_routed = LD(drs_routed);
        st->parked = LD(parked);
        st->duplicates = LD(duplicates);
        st->mos = LD(mos);
        st->events = LD(events);
        st->acks = LD(acks);
        st->taken_over = LD(taken_over);
        st->heartbeats = LD(heartbeats);
        st->park_sweeps = LD(park_sweeps);
        st->park_released = LD(park_released);
        st->fence_renewed = LD(fence_renewed);
        st->fence_dropped = LD(fence_dropped);
        st->fence_redis_lost = LD(fence_redis_lost);
        st->redis_data_lost = LD(redis_data_lost);
        st->fence_redis_rolled_back = LD(fence_redis_rolled_back);
        st->redis_rolled_back = LD(redis_rolled_back);
        st->rtt_last_us = LD(rtt_last_us);
        st->rtt_max_us = LD(rtt_max_us);
        for (int i = 0; i < 8; i++)
                st->rtt_bucket[i] = LD(rtt_bucket[i]);
        st->tls = rs->tls != NULL;
        st->tls_handshakes = LD(tls_handshakes);
        st->tls_failures = LD(tls_failures);
        st->read_connected = LD(read_connected);
        st->read_connects = LD(read_connects);
        st->read_disconnects = LD(read_disconnects);
        st->reads = LD(reads);
        if (rs->tls) {
                pthread_mutex_lock(&rs->tls->mu);
                snprintf(st->tls_version, sizeof st->tls_version, "%s", rs->tls->version);
                snprintf(st->tls_cipher, sizeof st->tls_cipher, "%s", rs->tls->cipher);
                snprintf(st->tls_error, sizeof st->tls_error, "%s", rs->tls->error);
                pthread_mutex_unlock(&rs->tls->mu);
        }
}
