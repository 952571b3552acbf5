/* The simulator's HTTP API side (see http_sim.h; files: http_sim_int.h).
 *
 * Threads: per site one libmicrohttpd daemon (or `threads` of them on one
 * port, SO_REUSEPORT; each request is counted for its daemon) each run by a
 * loop thread of ours (http_mhd_loop.h), one push thread (http_sim_push.c),
 * one delay thread that resumes connections held by the `slow` fault, and
 * per silent site an accept thread that takes connections and never
 * answers. Shared state (the dedup
 * table, the recent-MT ring, the push queue, counters) is under `lock`;
 * site fault flags are atomics read by the handlers. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http/http_form.h"
#include "http_sim_int.h"
#include "sim_internal.h"

uint64_t hsim_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

double hsim_rand(struct http_sim *h)
{
        uint64_t x = h->rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        h->rng = x;
        return (double)(x >> 11) / 9007199254740992.0;
}

void http_sim_options_init(struct http_sim_options *o)
{
        memset(o, 0, sizeof *o);
        o->sites = "dc3,bos";
        o->addr_base = "127.0.0.2";
        o->login = "smsmux";
        o->password = "secret";
        o->dr_delay_ms = 20;
        o->threads = 1;
        o->sources = "127.0.0.11,127.0.0.12,127.0.0.13";
}

/* ---- dedup (message_id -> first site), under lock ---- */

static void id_hash(const char *id, uint64_t *a, uint64_t *b)
{
        uint64_t x = 1469598103934665603ull, y = 0x9E3779B97F4A7C15ull;
        for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
                x = (x ^ *p) * 1099511628211ull;
                y = (y ^ *p) * 0xff51afd7ed558ccdull;
                y ^= y >> 29;
        }
        *a = x | 1;   /* never 0: 0,0 marks an empty cell */
        *b = y;
}

static int dedup_grow(struct http_sim *h)
{
        size_t nc = h->tab_cap ? h->tab_cap * 2 : 4096;
        struct dedup_ent *nt = calloc(nc, sizeof *nt);
        if (!nt)
                return -ENOMEM;
        for (size_t i = 0; i < h->tab_cap; i++) {
                struct dedup_ent *e = &h->tab[i];
                if (!e->a)
                        continue;
                size_t j = e->a & (nc - 1);
                while (nt[j].a)
                        j = (j + 1) & (nc - 1);
                nt[j] = *e;
        }
        free(h->tab);
        h->tab = nt;
        h->tab_cap = nc;
        return 0;
}

/* 1: new (recorded), 0: seen before, <0: error. */
static int dedup_put(struct http_sim *h, const char *id, int site)
{
        if ((h->tab_n + 1) * 2 > h->tab_cap && dedup_grow(h) < 0)
                return -ENOMEM;
        uint64_t a, b;
        id_hash(id, &a, &b);
        size_t j = a & (h->tab_cap - 1);
        while (h->tab[j].a) {
                if (h->tab[j].a == a && h->tab[j].b == b)
                        return 0;
                j = (j + 1) & (h->tab_cap - 1);
        }
        h->tab[j] = (struct dedup_ent){ a, b, site };
        h->tab_n++;
        return 1;
}

/* ---- the MT handler ---- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body)
{
        struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
                                                                 MHD_RESPMEM_MUST_COPY);
        if (!r)
                return MHD_NO;
        MHD_add_response_header(r, "Content-Type", "application/x-www-form-urlencoded");
        enum MHD_Result ret = MHD_queue_response(c, status, r);
        MHD_destroy_response(r);
        return ret;
}

/* Field `key` from the POST body fields or the GET query (decoded). */
static int field(struct MHD_Connection *c, const struct http_field *f, int n, const char *key,
                 char *out, size_t cap)
{
        out[0] = 0;
        if (n >= 0) {
                const struct http_field *x = http_form_find(f, n, key);
                if (!x)
                        return 0;
                return http_form_decode(x->val, x->val_len, out, cap) < 0 ? -1 : 1;
        }
        const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
        if (!v)
                return 0;
        size_t l = strlen(v);
        if (l >= cap)
                return -1;
        memcpy(out, v, l + 1);
        return 1;
}

static void hold_conn(struct http_sim *h, struct site *st, struct MHD_Connection *c, uint32_t ms)
{
        pthread_mutex_lock(&h->lock);
        if (h->hold_n == h->hold_cap) {
                size_t nc = h->hold_cap ? h->hold_cap * 2 : 64;
                struct held_conn *nh = realloc(h->hold, nc * sizeof *nh);
                if (!nh) {
                        pthread_mutex_unlock(&h->lock);
                        return;
                }
                h->hold = nh;
                h->hold_cap = nc;
        }
        MHD_suspend_connection(c);
        h->hold[h->hold_n++] = (struct held_conn){ c, st, hsim_now_ms() + ms };
        pthread_cond_signal(&h->delay_cv);
        pthread_mutex_unlock(&h->lock);
}

static enum MHD_Result handle_mt(struct site *st, struct MHD_Connection *c, struct sreq *q, int is_post)
{
        struct http_sim *h = st->h;
        struct http_field f[32];
        int n = -1;
        if (is_post) {
                q->body[q->len] = 0;
                n = http_form_parse(q->body, q->len, f, 32);
                if (n < 0) {
                        pthread_mutex_lock(&h->lock);
                        st->rejected++;
                        pthread_mutex_unlock(&h->lock);
                        return reply(c, 400, "result_code=99&error=too+many+fields");
                }
        }
        char login[64], pw[64], phone[32], sender[32], msgid[65], receipt[8], prio[24], app[65];
        char *msg = malloc(BODY_MAX + 1);
        if (!msg)
                return reply(c, 500, "result_code=98");
        int bad = field(c, f, n, "login", login, sizeof login) < 0 ||
                  field(c, f, n, "password", pw, sizeof pw) < 0 ||
                  field(c, f, n, "phone_number", phone, sizeof phone) <= 0 ||
                  field(c, f, n, "sender", sender, sizeof sender) < 0 ||
                  field(c, f, n, "message", msg, BODY_MAX + 1) <= 0 ||
                  field(c, f, n, "message_id", msgid, sizeof msgid) <= 0 ||
                  field(c, f, n, "receipt", receipt, sizeof receipt) < 0 ||
                  field(c, f, n, "priority", prio, sizeof prio) < 0 ||
                  field(c, f, n, "app_id", app, sizeof app) < 0;
        if (bad || !msgid[0]) {
                free(msg);
                pthread_mutex_lock(&h->lock);
                st->rejected++;
                pthread_mutex_unlock(&h->lock);
                return reply(c, 400, "result_code=99&error=bad+request");
        }
        if (strcmp(login, h->login) != 0 || strcmp(pw, h->password) != 0) {
                free(msg);
                pthread_mutex_lock(&h->lock);
                st->rejected++;
                pthread_mutex_unlock(&h->lock);
                return reply(c, 401, "result_code=2&error=auth+failure");
        }
        if (atomic_load(&st->throttle)) {
                free(msg);
                return reply(c, 429, "result_code=6&error=throttled");
        }
        int want_dr = strcmp(receipt, "TRUE") == 0;
        pthread_mutex_lock(&h->lock);
        int fresh = dedup_put(h, msgid, st->index);
        if (fresh < 0) {
                pthread_mutex_unlock(&h->lock);
                free(msg);
                return reply(c, 500, "result_code=98");
        }
        struct seen_ent *se = NULL;
        uint64_t ha, hb;
        id_hash(msgid, &ha, &hb);
        for (unsigned i = 0; i < SEEN_RING; i++)
                if (h->seen[i].a == ha && strcmp(h->seen[i].id, msgid) == 0)
                        se = &h->seen[i];
        if (!se) {
                se = &h->seen[h->seen_next++ % SEEN_RING];
                memset(se, 0, sizeof *se);
                se->a = ha;
                snprintf(se->id, sizeof se->id, "%s", msgid);
        }
        se->s.times++;
        snprintf(se->s.phone_number, sizeof se->s.phone_number, "%s", phone);
        snprintf(se->s.sender, sizeof se->s.sender, "%s", sender);
        snprintf(se->s.message, sizeof se->s.message, "%s", msg);
        snprintf(se->s.priority, sizeof se->s.priority, "%s", prio);
        snprintf(se->s.receipt, sizeof se->s.receipt, "%s", receipt);
        snprintf(se->s.site, sizeof se->s.site, "%s", st->name);
        if (fresh) {
                uint64_t now = hsim_now_ms();
                st->accepted++;
                if (!st->first_ms)
                        st->first_ms = now;
                st->last_ms = now;
                h->handset_delivered++;
                if (want_dr) {
                        if (h->smpp && h->dr_via_smpp > 0 && hsim_rand(h) < h->dr_via_smpp &&
                            hsim_sq_put(h, st->index, msgid, phone, sender) == 0) {
                                h->dr_via_smpp_n++;
                                curl_multi_wakeup(h->multi);
                        } else {
                                hsim_push_dr(h, msgid, SMPP_STATE_DELIVERED, app);
                        }
                }
        } else {
                st->duplicates++;
        }
        pthread_mutex_unlock(&h->lock);
        free(msg);
        char out[128];
        snprintf(out, sizeof out, "result_code=%d&message_id=%s", fresh ? 0 : 7, msgid);
        uint32_t late = atomic_load(&st->late_ms);
        if (late && fresh) {
                /* accepted (its DR is queued): the answer comes late */
                q->late = 1;
                snprintf(q->late_out, sizeof q->late_out, "%s", out);
                hold_conn(h, st, c, late);
                return MHD_YES;
        }
        return reply(c, 200, out);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
        struct site_daemon *sd = cls;
        struct site *st = sd->site;
        struct http_sim *h = st->h;
        (void)version;
        struct sreq *q = *con_cls;
        int is_post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
        if (!q) {
                q = malloc(sizeof *q);
                if (!q)
                        return MHD_NO;
                q->len = 0;
                q->too_big = q->resumed = q->late = 0;
                q->conn = c;
                *con_cls = q;
                pthread_mutex_lock(&h->lock);
                st->requests++;
                st->daemon_requests[sd->index]++;
                pthread_mutex_unlock(&h->lock);
                return MHD_YES;
        }
        if (*upload_size) {
                size_t n = *upload_size;
                if (q->too_big || n > BODY_MAX - q->len)
                        q->too_big = 1;
                else {
                        memcpy(q->body + q->len, upload, n);
                        q->len += n;
                }
                *upload_size = 0;
                return MHD_YES;
        }
        if (q->late)
                return reply(c, 200, q->late_out);      /* held by `late`, now resumed */
        uint32_t drop = atomic_load(&st->drop_n);
        while (drop && !atomic_compare_exchange_weak(&st->drop_n, &drop, drop - 1))
                ;
        if (drop) {
                pthread_mutex_lock(&h->lock);
                st->dropped++;
                pthread_mutex_unlock(&h->lock);
                return MHD_NO;    /* close without an answer */
        }
        uint32_t slow = atomic_load(&st->slow_ms);
        if (slow && !q->resumed) {
                q->resumed = 1;
                hold_conn(h, st, c, slow);
                return MHD_YES;
        }
        if (strcmp(url, "/httpapi/receiver") != 0)
                return reply(c, 404, "result_code=99&error=no+such+path");
        if (atomic_load(&st->err5xx)) {
                pthread_mutex_lock(&h->lock);
                st->faults++;
                pthread_mutex_unlock(&h->lock);
                return reply(c, 500, "result_code=98&error=internal+error");
        }
        if (q->too_big)
                return reply(c, 413, "result_code=8&error=body+too+long");
        if (!is_post && strcmp(method, MHD_HTTP_METHOD_GET) != 0)
                return reply(c, 405, "result_code=99");
        if (!is_post && !MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "message_id"))
                return reply(c, 400, "result_code=99&error=no+message_id");   /* a probe */
        return handle_mt(st, c, q, is_post);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
        (void)cls;
        (void)c;
        (void)toe;
        free(*con_cls);
        *con_cls = NULL;
}

static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
        (void)cls;
        (void)c;
        size_t l = strlen(s);
        ssize_t n = http_form_decode(s, l, s, l + 1);
        return n < 0 ? l : (size_t)n;
}

/* ---- delay thread (slow fault) ---- */

/* Resume a held connection and wake its site's loop threads (MHD has no
 * wake-up of its own without its internal threads). Under h->lock, so a
 * site being stopped (release_held first) is never woken after. */
static void resume_held(const struct held_conn *hc)
{
        MHD_resume_connection(hc->c);
        for (int i = 0; i < hc->site->n_loops; i++)
                http_mhd_loop_wake(&hc->site->loops[i]);
}

static void *delay_main(void *arg)
{
        struct http_sim *h = arg;
        pthread_mutex_lock(&h->lock);
        while (!atomic_load(&h->stop)) {
                uint64_t now = hsim_now_ms(), next = now + 100;
                for (size_t i = 0; i < h->hold_n;) {
                        if (h->hold[i].due_ms <= now) {
                                resume_held(&h->hold[i]);
                                h->hold[i] = h->hold[--h->hold_n];
                                continue;
                        }
                        if (h->hold[i].due_ms < next)
                                next = h->hold[i].due_ms;
                        i++;
                }
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                uint64_t wait = next - now;
                ts.tv_sec += (time_t)(wait / 1000);
                ts.tv_nsec += (long)(wait % 1000) * 1000000L;
                if (ts.tv_nsec >= 1000000000L) {
                        ts.tv_sec++;
                        ts.tv_nsec -= 1000000000L;
                }
                pthread_cond_timedwait(&h->delay_cv, &h->lock, &ts);
        }
        pthread_mutex_unlock(&h->lock);
        return NULL;
}

/* Resume every held connection of a site at once (before it stops). */
static void release_held(struct http_sim *h, struct site *st)
{
        pthread_mutex_lock(&h->lock);
        for (size_t i = 0; i < h->hold_n;) {
                if (h->hold[i].site == st) {
                        resume_held(&h->hold[i]);
                        h->hold[i] = h->hold[--h->hold_n];
                        continue;
                }
                i++;
        }
        pthread_mutex_unlock(&h->lock);
}

/* ---- sites ---- */

static void site_stop_daemon(struct site *st);

/* Listen on st->addr:st->port (0: a free port, then set): h->threads
 * daemons, each with its loop thread; with more than one they share the
 * port through SO_REUSEPORT (the kernel spreads the connections). */
static int site_listen(struct site *st)
{
        unsigned n = st->h->threads;
        struct sockaddr_in sin;
        memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        inet_pton(AF_INET, st->addr, &sin.sin_addr);
        /* SO_REUSEPORT only when asked for threads: a fixed port taken by
         * another program must still fail to bind */
        struct MHD_OptionItem reuse[] = {
                { n > 1 ? MHD_OPTION_LISTENING_ADDRESS_REUSE : MHD_OPTION_END, 1, NULL },
                { MHD_OPTION_END, 0, NULL },
        };
        unsigned flags = HTTP_MHD_LOOP_FLAGS | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO;
        for (unsigned i = 0; i < n; i++) {
                struct http_mhd_loop *l = &st->loops[i];
                if (http_mhd_loop_init(l, "http sim") < 0) {
                        site_stop_daemon(st);
                        return -ENOMEM;
                }
                st->n_loops = (int)i + 1;
                sin.sin_port = htons(st->port);
                struct MHD_Daemon *d = MHD_start_daemon(flags, st->port, NULL, NULL, on_request,
                                         &st->daemons[i],
                                         MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
                                         MHD_OPTION_ARRAY, reuse,
                                         MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                                         MHD_OPTION_CONNECTION_LIMIT, 4096u,
                                         MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)8192,
                                         MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
                                         MHD_OPTION_NOTIFY_COMPLETED, on_done, st,
                                         MHD_OPTION_UNESCAPE_CALLBACK, unescape, st,
                                         MHD_OPTION_END);
                if (!d || http_mhd_loop_start(l, d) < 0) {
                        site_stop_daemon(st);
                        return -EADDRINUSE;
                }
                if (!st->port) {
                        const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
                        st->port = di ? di->port : 0;
                }
        }
        return 0;
}

static void *silent_main(void *arg)
{
        struct site *st = arg;
        for (;;) {
                struct pollfd p[2] = { { st->silent_fd, POLLIN, 0 }, { st->stop_pipe[0], POLLIN, 0 } };
                if (poll(p, 2, -1) < 0 && errno != EINTR)
                        break;
                if (p[1].revents)
                        break;
                if (p[0].revents) {
                        int fd = accept4(st->silent_fd, NULL, NULL, SOCK_CLOEXEC);
                        if (fd < 0)
                                continue;
                        if (st->n_held < HELD_MAX)
                                st->held[st->n_held++] = fd;   /* accepted, never answered */
                        else
                                close(fd);
                }
        }
        return NULL;
}

static int site_silent_start(struct site *st)
{
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        struct sockaddr_in sin;
        memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        sin.sin_port = htons(st->port);
        inet_pton(AF_INET, st->addr, &sin.sin_addr);
        if (bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(fd, 128) < 0 ||
            pipe2(st->stop_pipe, O_CLOEXEC) < 0) {
                int e = -errno;
                close(fd);
                return e;
        }
        st->silent_fd = fd;
        st->n_held = 0;
        if (pthread_create(&st->silent_thr, NULL, silent_main, st) != 0) {
                close(fd);
                close(st->stop_pipe[0]);
                close(st->stop_pipe[1]);
                st->silent_fd = -1;
                return -EAGAIN;
        }
        return 0;
}

static void site_silent_stop(struct site *st)
{
        if (st->silent_fd < 0)
                return;
        ssize_t r = write(st->stop_pipe[1], "x", 1);
        (void)r;
        pthread_join(st->silent_thr, NULL);
        for (int i = 0; i < st->n_held; i++)
                close(st->held[i]);
        st->n_held = 0;
        close(st->silent_fd);
        close(st->stop_pipe[0]);
        close(st->stop_pipe[1]);
        st->silent_fd = -1;
}

/* Stop the site's daemons: the held connections are resumed first (MHD may
 * not stop with one suspended), then each loop thread goes and its daemon
 * closes what is left. */
static void site_stop_daemon(struct site *st)
{
        if (!st->n_loops)
                return;
        release_held(st->h, st);
        for (int i = 0; i < st->n_loops; i++)
                http_mhd_loop_stop(&st->loops[i]);
        st->n_loops = 0;
}

/* Go to mode (SITE_UP / SITE_REFUSE / SITE_SILENT). Control thread. */
int hsim_site_set_mode(struct site *st, int mode)
{
        if (st->mode == mode)
                return 0;
        if (st->mode == SITE_UP)
                site_stop_daemon(st);
        else if (st->mode == SITE_SILENT)
                site_silent_stop(st);
        st->mode = SITE_REFUSE;
        int rc = 0;
        if (mode == SITE_UP)
                rc = site_listen(st);
        else if (mode == SITE_SILENT)
                rc = site_silent_start(st);
        if (rc == 0)
                st->mode = mode;
        return rc;
}

struct site *hsim_site_by_name(struct http_sim *h, const char *name)
{
        for (int i = 0; i < h->n_sites; i++)
                if (strcmp(h->sites[i].name, name) == 0)
                        return &h->sites[i];
        return NULL;
}

/* ---- start / stop ---- */

/* sim_set_dr_hook's shape for http_sim_take_smpp_dr (engine thread). */
static int smpp_dr_hook(void *arg, const char *message_id, uint8_t message_state)
{
        return http_sim_take_smpp_dr(arg, message_id, message_state);
}

static void curl_init_once(void)
{
        curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int split_list(const char *list, char out[][32], int max)
{
        int n = 0;
        const char *p = list;
        while (p && *p && n < max) {
                const char *e = strchr(p, ',');
                size_t l = e ? (size_t)(e - p) : strlen(p);
                if (l == 0 || l >= 32)
                        return -1;
                memcpy(out[n], p, l);
                out[n][l] = 0;
                n++;
                p += l;
                if (*p == ',')
                        p++;
        }
        return n;
}

int http_sim_start(const struct http_sim_options *o, struct http_sim **out, char *err, size_t err_len)
{
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        pthread_once(&once, curl_init_once);
        *out = NULL;
        struct http_sim *h = calloc(1, sizeof *h);
        if (!h)
                return -ENOMEM;
        pthread_mutex_init(&h->lock, NULL);
        pthread_cond_init(&h->delay_cv, NULL);
        h->rng = 0x2545F4914F6CDD1Dull ^ hsim_now_ms();
        snprintf(h->login, sizeof h->login, "%s", o->login ? o->login : "smsmux");
        snprintf(h->password, sizeof h->password, "%s", o->password ? o->password : "secret");
        if (o->receiver_url && hsim_set_receivers(h, o->receiver_url) < 0) {
                snprintf(err, err_len, "http sim: bad receiver URL list");
                http_sim_stop(h);
                return -EINVAL;
        }
        if (o->receiver_secret)
                snprintf(h->rx_secret, sizeof h->rx_secret, "%s", o->receiver_secret);
        h->dr_delay_ms = o->dr_delay_ms;
        h->threads = o->threads < 1 ? 1 : o->threads > SITE_THREADS_MAX ? SITE_THREADS_MAX
                                                                        : o->threads;
        h->smpp = o->smpp;
        h->dr_via_smpp = o->dr_via_smpp;
        h->smpp_dr_via_http = o->smpp_dr_via_http;
        h->seen = calloc(SEEN_RING, sizeof *h->seen);
        char names[SITES_MAX][32], srcs[SOURCES_MAX][32];
        int ns = split_list(o->sites ? o->sites : "dc3,bos", names, SITES_MAX);
        int nsrc = split_list(o->sources ? o->sources : "", srcs, SOURCES_MAX);
        struct in_addr base;
        int rc = -EINVAL;
        if (!h->seen || ns <= 0 || nsrc < 0 ||
            inet_pton(AF_INET, o->addr_base ? o->addr_base : "127.0.0.2", &base) != 1) {
                snprintf(err, err_len, "http sim: bad sites, sources or address base");
                goto fail;
        }
        for (int i = 0; i < nsrc; i++)
                memcpy(h->sources[i], srcs[i], sizeof h->sources[i]);
        h->n_sources = (unsigned)nsrc;
        for (int attempt = 0; attempt < 20; attempt++) {
                uint16_t port = (uint16_t)o->port;
                rc = 0;
                for (int i = 0; i < ns && rc == 0; i++) {
                        struct site *st = &h->sites[i];
                        st->h = h;
                        st->index = i;
                        st->silent_fd = -1;
                        for (unsigned k = 0; k < SITE_THREADS_MAX; k++)
                                st->daemons[k] = (struct site_daemon){ st, k };
                        snprintf(st->name, sizeof st->name, "%s", names[i]);
                        struct in_addr a = { htonl(ntohl(base.s_addr) + (uint32_t)i) };
                        inet_ntop(AF_INET, &a, st->addr, sizeof st->addr);
                        st->port = port;
                        rc = site_listen(st);
                        if (rc == 0) {
                                port = st->port;
                                h->n_sites = i + 1;
                        }
                }
                if (rc == 0)
                        break;
                for (int i = 0; i < h->n_sites; i++)
                        site_stop_daemon(&h->sites[i]);
                h->n_sites = 0;
                if (o->port)
                        break;
        }
        if (rc < 0) {
                snprintf(err, err_len, "http sim: cannot listen on the site addresses");
                goto fail;
        }
        h->multi = curl_multi_init();
        if (!h->multi || pthread_create(&h->push_thr, NULL, hsim_push_main, h) != 0) {
                rc = -ENOMEM;
                goto fail;
        }
        h->push_started = 1;
        if (pthread_create(&h->delay_thr, NULL, delay_main, h) != 0) {
                rc = -ENOMEM;
                goto fail;
        }
        h->delay_started = 1;
        if (h->smpp) {
                /* the SMPP engine offers us its DRs (http_sim_take_smpp_dr)
                 * and forwards "http ..." control commands */
                sim_set_dr_hook(h->smpp, smpp_dr_hook, h);
                pthread_mutex_lock(&h->smpp->lock);
                h->smpp->http = h;
                pthread_mutex_unlock(&h->smpp->lock);
        }
        *out = h;
        return 0;
fail:
        http_sim_stop(h);
        return rc;
}

void http_sim_stop(struct http_sim *h)
{
        if (!h)
                return;
        if (h->smpp) {
                sim_set_dr_hook(h->smpp, NULL, NULL);
                pthread_mutex_lock(&h->smpp->lock);
                if (h->smpp->http == h)
                        h->smpp->http = NULL;
                pthread_mutex_unlock(&h->smpp->lock);
        }
        atomic_store(&h->stop, 1);
        for (int i = 0; i < h->n_sites; i++) {
                struct site *st = &h->sites[i];
                if (st->mode == SITE_UP)
                        site_stop_daemon(st);
                else if (st->mode == SITE_SILENT)
                        site_silent_stop(st);
        }
        if (h->delay_started) {
                pthread_mutex_lock(&h->lock);
                pthread_cond_signal(&h->delay_cv);
                pthread_mutex_unlock(&h->lock);
                pthread_join(h->delay_thr, NULL);
        }
        if (h->push_started) {
                curl_multi_wakeup(h->multi);
                pthread_join(h->push_thr, NULL);
        }
        for (unsigned i = 0; i < PUSH_CONCURRENCY; i++) {
                struct push *p = h->running[i];
                if (!p)
                        continue;
                curl_multi_remove_handle(h->multi, p->easy);
                curl_easy_cleanup(p->easy);
                curl_slist_free_all(p->hdrs);
                free(p->body);
                free(p);
        }
        if (h->multi)
                curl_multi_cleanup(h->multi);
        for (size_t i = 0; i < h->q_n; i++) {
                if (h->q[i]->easy)
                        curl_easy_cleanup(h->q[i]->easy);
                curl_slist_free_all(h->q[i]->hdrs);
                free(h->q[i]->body);
                free(h->q[i]);
        }
        free(h->q);
        free(h->sq);
        free(h->hold);
        free(h->tab);
        free(h->seen);
        pthread_cond_destroy(&h->delay_cv);
        pthread_mutex_destroy(&h->lock);
        free(h);
}

