/* The simulator's HTTP API side (see http_sim.h).
 *
 * Threads: one libmicrohttpd daemon per site (internal polling thread(s)),
 * one push thread (libcurl multi) for DR/MO pushes, one delay thread that
 * resumes connections held by the `slow` fault, and per silent site an
 * accept thread that takes connections and never answers. Shared state (the
 * dedup table, the recent-MT ring, the push queue, counters) is under
 * `lock`; site fault flags are atomics read by the handlers. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http/http_form.h"
#include "http_sim.h"
#include "sim_internal.h"

#define SITES_MAX 16
#define SOURCES_MAX 8
#define BODY_MAX 16384
#define SEEN_RING 256
#define HELD_MAX 256
#define PUSH_CONCURRENCY 64

enum { SITE_UP = 0, SITE_REFUSE, SITE_SILENT };

struct site {
        struct http_sim *h;
        int index;
        char name[32], addr[16];
        uint16_t port;
        struct MHD_Daemon *d;
        int mode;                        /* SITE_*; changed under h->lock */
        _Atomic int err5xx, throttle;
        _Atomic uint32_t slow_ms, drop_n;
        /* silent mode */
        int silent_fd, stop_pipe[2];
        pthread_t silent_thr;
        int held[HELD_MAX];
        int n_held;
        /* counters, under h->lock */
        uint64_t requests, accepted, duplicates, rejected, faults, dropped;
        uint64_t first_ms, last_ms;
};

/* A request being read by MHD. The handler thread only. */
struct sreq {
        size_t len;
        int too_big, resumed;
        struct MHD_Connection *conn;
        char body[BODY_MAX + 1];
};

struct held_conn {
        struct MHD_Connection *c;
        struct site *site;
        uint64_t due_ms;
};

struct push {
        char *body;
        size_t len;
        int is_dr;
        uint32_t attempts;
        uint64_t due_ms;
        CURL *easy;
        struct curl_slist *hdrs;
        unsigned src;
        unsigned slot;                   /* index in running[] while sent */
};

struct dedup_ent {
        uint64_t a, b;                   /* 0,0: empty */
        int site;
};

struct seen_ent {
        uint64_t a;                      /* id_hash of id */
        char id[65];
        struct http_sim_seen s;
};

struct http_sim {
        pthread_mutex_t lock;
        struct site sites[SITES_MAX];
        int n_sites;
        char login[64], password[64];
        char receiver[512], rx_secret[128];
        unsigned dr_delay_ms, threads;
        char sources[SOURCES_MAX][32];
        unsigned n_sources, next_src;
        unsigned src_used_mask;
        struct smsc_sim *smpp;
        double dr_via_smpp, smpp_dr_via_http;
        uint64_t rng;
        int dup_push;
        /* dedup */
        struct dedup_ent *tab;
        size_t tab_cap, tab_n;
        struct seen_ent *seen;
        unsigned seen_next;
        /* pushes */
        struct push **q;
        size_t q_n, q_cap;
        unsigned active;
        struct push *running[PUSH_CONCURRENCY];
        CURLM *multi;
        pthread_t push_thr;
        int push_started;
        _Atomic int stop;
        uint64_t mo_serial;
        /* slow */
        struct held_conn *hold;
        size_t hold_n, hold_cap;
        pthread_t delay_thr;
        pthread_cond_t delay_cv;
        int delay_started;
        /* counters (under lock) */
        uint64_t handset_delivered, handset_duplicates;
        uint64_t dr_pushed, dr_acked, mo_pushed, mo_acked, push_attempts, push_failures;
        uint64_t dr_via_smpp_n, smpp_dr_via_http_n;
};

static uint64_t mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static double rnd01(struct http_sim *h)
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

/* ---- pushes ---- */

static void push_queue(struct http_sim *h, char *body, size_t len, int is_dr)
{
        struct push *p = calloc(1, sizeof *p);
        if (!p) {
                free(body);
                return;
        }
        p->body = body;
        p->len = len;
        p->is_dr = is_dr;
        p->due_ms = mono_ms() + (is_dr ? h->dr_delay_ms : 0);
        if (h->q_n == h->q_cap) {
                size_t nc = h->q_cap ? h->q_cap * 2 : 256;
                struct push **nq = realloc(h->q, nc * sizeof *nq);
                if (!nq) {
                        free(body);
                        free(p);
                        return;
                }
                h->q = nq;
                h->q_cap = nc;
        }
        h->q[h->q_n++] = p;
        if (is_dr)
                h->dr_pushed++;
        else
                h->mo_pushed++;
}

static char *form_dup(const char *src, size_t *len)
{
        char *p = malloc(*len + 1);
        if (p)
                memcpy(p, src, *len + 1);
        return p;
}

/* Queue a DR push for message_id (lock held). */
static void push_dr(struct http_sim *h, const char *msgid, uint8_t state, const char *app_id)
{
        char buf[512];
        struct http_buf b = { buf, 0, sizeof buf };
        char st[4];
        snprintf(st, sizeof st, "%u", state);
        if (http_form_add(&b, "type", "receipt", 7) < 0 ||
            http_form_add(&b, "message_id", msgid, strlen(msgid)) < 0 ||
            http_form_add(&b, "message_state", st, strlen(st)) < 0 ||
            http_form_add(&b, "result_code", "0", 1) < 0 ||
            http_form_add(&b, "app_id", app_id, strlen(app_id)) < 0)
                return;
        for (int k = 0; k < (h->dup_push ? 2 : 1); k++) {
                size_t len = b.len;
                char *body = form_dup(buf, &len);
                if (body)
                        push_queue(h, body, len, 1);
        }
}

static size_t drop_body(char *p, size_t sz, size_t n, void *arg)
{
        (void)p;
        (void)arg;
        return sz * n;
}

static void push_start(struct http_sim *h, struct push *p)
{
        if (!p->easy) {
                p->easy = curl_easy_init();
                if (!p->easy)
                        return;
        }
        CURL *e = p->easy;
        curl_easy_setopt(e, CURLOPT_URL, h->receiver);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, p->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)p->len);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, drop_body);
        curl_easy_setopt(e, CURLOPT_PRIVATE, p);
        p->src = h->n_sources ? h->next_src++ % h->n_sources : 0;
        if (h->n_sources) {
                char ifc[48];
                snprintf(ifc, sizeof ifc, "host!%s", h->sources[p->src]);
                curl_easy_setopt(e, CURLOPT_INTERFACE, ifc);
        }
        if (h->rx_secret[0] && !p->hdrs) {
                char line[200];
                snprintf(line, sizeof line, "X-Smsmux-Secret: %s", h->rx_secret);
                p->hdrs = curl_slist_append(NULL, line);
                curl_easy_setopt(e, CURLOPT_HTTPHEADER, p->hdrs);
        }
        p->attempts++;
        h->push_attempts++;
        for (unsigned i = 0; i < PUSH_CONCURRENCY; i++)
                if (!h->running[i]) {
                        h->running[i] = p;
                        p->slot = i;
                        break;
                }
        curl_multi_add_handle(h->multi, e);
        h->active++;
}

static void push_finish(struct http_sim *h, CURL *e, CURLcode res)
{
        struct push *p = NULL;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&p);
        long status = 0;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        curl_multi_remove_handle(h->multi, e);
        h->active--;
        if (!p)
                return;
        h->running[p->slot] = NULL;
        if (res == CURLE_OK && status >= 200 && status < 300) {
                if (p->is_dr)
                        h->dr_acked++;
                else
                        h->mo_acked++;
                h->src_used_mask |= 1u << p->src;
                curl_easy_cleanup(e);
                curl_slist_free_all(p->hdrs);
                free(p->body);
                free(p);
                return;
        }
        h->push_failures++;
        uint32_t back = 50u * (p->attempts < 20 ? p->attempts : 20);
        p->due_ms = mono_ms() + back;
        if (h->q_n == h->q_cap) {
                size_t nc = h->q_cap ? h->q_cap * 2 : 256;
                struct push **nq = realloc(h->q, nc * sizeof *nq);
                if (!nq)
                        return;    /* cannot happen in practice; the push is lost to the ledger */
                h->q = nq;
                h->q_cap = nc;
        }
        h->q[h->q_n++] = p;
}

static void *push_main(void *arg)
{
        struct http_sim *h = arg;
        while (!atomic_load(&h->stop)) {
                uint64_t now = mono_ms();
                pthread_mutex_lock(&h->lock);
                if (h->receiver[0]) {
                        for (size_t i = 0; i < h->q_n && h->active < PUSH_CONCURRENCY;) {
                                struct push *p = h->q[i];
                                if (p->due_ms > now) {
                                        i++;
                                        continue;
                                }
                                h->q[i] = h->q[--h->q_n];
                                push_start(h, p);
                        }
                }
                int running;
                curl_multi_perform(h->multi, &running);
                CURLMsg *m;
                int left;
                while ((m = curl_multi_info_read(h->multi, &left)))
                        if (m->msg == CURLMSG_DONE)
                                push_finish(h, m->easy_handle, m->data.result);
                pthread_mutex_unlock(&h->lock);
                int nfd;
                curl_multi_poll(h->multi, NULL, 0, 10, &nfd);
        }
        return NULL;
}

/* ---- cross-transport ---- */

/* An HTTP MT's DR over the SMPP engine's binds (its own delivery queue and
 * re-send rules). Called without h->lock. */
static int dr_via_smpp(struct http_sim *h, int site, const char *msgid, const char *phone,
                       const char *sender)
{
        struct smsc_sim *s = h->smpp;
        struct smx_pdu p;
        memset(&p, 0, sizeof p);
        p.h.command_id = SMPP_DELIVER_SM;
        p.h.sequence_number = 1;
        p.u.sm.source_addr.p = (const uint8_t *)phone;
        p.u.sm.source_addr.len = (uint16_t)strlen(phone);
        p.u.sm.destination_addr.p = (const uint8_t *)sender;
        p.u.sm.destination_addr.len = (uint16_t)strlen(sender);
        p.u.sm.esm_class = SMPP_ESM_TYPE_SMSC_DR;
        p.u.sm.data_coding = SMPP_DCS_DEFAULT;
        p.tlv.present = SMX_TLV_RECEIPTED_MESSAGE_ID | SMX_TLV_MESSAGE_STATE;
        p.tlv.receipted_message_id.p = (const uint8_t *)msgid;
        p.tlv.receipted_message_id.len = (uint16_t)strlen(msgid);
        p.tlv.message_state = SMPP_STATE_DELIVERED;
        uint8_t buf[512];
        ssize_t len = smx_pdu_encode(buf, sizeof buf, &p, NULL, 0);
        if (len <= 0)
                return -EINVAL;
        uint8_t *copy = malloc((size_t)len);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, buf, (size_t)len);
        pthread_mutex_lock(&s->lock);
        int origin = 0;
        for (int i = 0; i < s->n_smsc; i++)
                if (strcmp(s->smsc[i].site, h->sites[site].name) == 0) {
                        origin = i;
                        break;
                }
        s->smsc[origin].c.dr_sent++;
        size_t idx = sim_dlv_add(s, origin, 1, copy, (size_t)len);
        if (idx != (size_t)-1)
                sim_dlv_try_send(s, idx);
        pthread_mutex_unlock(&s->lock);
        uint64_t one = 1;
        ssize_t r = write(s->wake_fd, &one, sizeof one);
        (void)r;
        return 0;
}

int http_sim_take_smpp_dr(struct http_sim *h, const char *msgid, uint8_t state)
{
        if (!h || h->smpp_dr_via_http <= 0)
                return 0;
        pthread_mutex_lock(&h->lock);
        int take = h->receiver[0] && rnd01(h) < h->smpp_dr_via_http;
        if (take) {
                push_dr(h, msgid, state, "");
                h->smpp_dr_via_http_n++;
        }
        pthread_mutex_unlock(&h->lock);
        return take;
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
        h->hold[h->hold_n++] = (struct held_conn){ c, st, mono_ms() + ms };
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
        int via_smpp = 0;
        if (fresh) {
                uint64_t now = mono_ms();
                st->accepted++;
                if (!st->first_ms)
                        st->first_ms = now;
                st->last_ms = now;
                h->handset_delivered++;
                if (want_dr) {
                        if (h->smpp && h->dr_via_smpp > 0 && rnd01(h) < h->dr_via_smpp) {
                                via_smpp = 1;
                                h->dr_via_smpp_n++;
                        } else {
                                push_dr(h, msgid, SMPP_STATE_DELIVERED, app);
                        }
                }
        } else {
                st->duplicates++;
        }
        pthread_mutex_unlock(&h->lock);
        free(msg);
        if (via_smpp)
                dr_via_smpp(h, st->index, msgid, phone, sender);
        char out[128];
        snprintf(out, sizeof out, "result_code=%d&message_id=%s", fresh ? 0 : 7, msgid);
        return reply(c, 200, out);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
        struct site *st = cls;
        struct http_sim *h = st->h;
        (void)version;
        struct sreq *q = *con_cls;
        int is_post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
        if (!q) {
                q = malloc(sizeof *q);
                if (!q)
                        return MHD_NO;
                q->len = 0;
                q->too_big = q->resumed = 0;
                q->conn = c;
                *con_cls = q;
                pthread_mutex_lock(&h->lock);
                st->requests++;
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

static void *delay_main(void *arg)
{
        struct http_sim *h = arg;
        pthread_mutex_lock(&h->lock);
        while (!atomic_load(&h->stop)) {
                uint64_t now = mono_ms(), next = now + 100;
                for (size_t i = 0; i < h->hold_n;) {
                        if (h->hold[i].due_ms <= now) {
                                MHD_resume_connection(h->hold[i].c);
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
                        MHD_resume_connection(h->hold[i].c);
                        h->hold[i] = h->hold[--h->hold_n];
                        continue;
                }
                i++;
        }
        pthread_mutex_unlock(&h->lock);
}

/* ---- sites ---- */

static int site_listen(struct site *st)
{
        struct sockaddr_in sin;
        memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        sin.sin_port = htons(st->port);
        inet_pton(AF_INET, st->addr, &sin.sin_addr);
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                         MHD_USE_TURBO;
        st->d = MHD_start_daemon(flags, st->port, NULL, NULL, on_request, st,
                                 MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
                                 MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(st->h->threads > 1 ? st->h->threads : 0),
                                 MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                                 MHD_OPTION_CONNECTION_LIMIT, 4096u,
                                 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)8192,
                                 MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_done, st,
                                 MHD_OPTION_UNESCAPE_CALLBACK, unescape, st,
                                 MHD_OPTION_END);
        if (!st->d)
                return -EADDRINUSE;
        if (!st->port) {
                const union MHD_DaemonInfo *di = MHD_get_daemon_info(st->d, MHD_DAEMON_INFO_BIND_PORT);
                st->port = di ? di->port : 0;
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

static void site_stop_daemon(struct site *st)
{
        if (!st->d)
                return;
        release_held(st->h, st);
        MHD_stop_daemon(st->d);
        st->d = NULL;
}

/* Go to mode (SITE_UP / SITE_REFUSE / SITE_SILENT). Control thread. */
static int site_set_mode(struct site *st, int mode)
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

static struct site *site_by_name(struct http_sim *h, const char *name)
{
        for (int i = 0; i < h->n_sites; i++)
                if (strcmp(h->sites[i].name, name) == 0)
                        return &h->sites[i];
        return NULL;
}

/* ---- start / stop ---- */

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
        h->rng = 0x2545F4914F6CDD1Dull ^ mono_ms();
        snprintf(h->login, sizeof h->login, "%s", o->login ? o->login : "smsmux");
        snprintf(h->password, sizeof h->password, "%s", o->password ? o->password : "secret");
        if (o->receiver_url)
                snprintf(h->receiver, sizeof h->receiver, "%s", o->receiver_url);
        if (o->receiver_secret)
                snprintf(h->rx_secret, sizeof h->rx_secret, "%s", o->receiver_secret);
        h->dr_delay_ms = o->dr_delay_ms;
        h->threads = o->threads;
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
        if (!h->multi || pthread_create(&h->push_thr, NULL, push_main, h) != 0) {
                rc = -ENOMEM;
                goto fail;
        }
        h->push_started = 1;
        if (pthread_create(&h->delay_thr, NULL, delay_main, h) != 0) {
                rc = -ENOMEM;
                goto fail;
        }
        h->delay_started = 1;
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
        free(h->hold);
        free(h->tab);
        free(h->seen);
        pthread_cond_destroy(&h->delay_cv);
        pthread_mutex_destroy(&h->lock);
        free(h);
}

/* ---- control, ledger ---- */

int http_sim_ctl(struct http_sim *h, const char *cmd, char *reply_buf, size_t reply_len)
{
        char w[4][256];
        int n = 0;
        const char *p = cmd;
        memset(w, 0, sizeof w);
        while (*p && n < 4) {
                while (*p == ' ')
                        p++;
                if (!*p)
                        break;
                const char *e = p;
                if (n == 3) {
                        e = p + strlen(p);   /* the rest of the line */
                } else {
                        while (*e && *e != ' ')
                                e++;
                }
                size_t l = (size_t)(e - p);
                if (l >= sizeof w[n])
                        l = sizeof w[n] - 1;
                memcpy(w[n], p, l);
                n++;
                p = e;
        }
        snprintf(reply_buf, reply_len, "ok");
        if (n < 2 || strcmp(w[0], "http") != 0)
                goto bad;
        if (strcmp(w[1], "summary") == 0) {
                http_sim_summary_json(h, reply_buf, reply_len);
                return 0;
        }
        if (strcmp(w[1], "receiver") == 0 && n >= 3) {
                pthread_mutex_lock(&h->lock);
                snprintf(h->receiver, sizeof h->receiver, "%s", w[2]);
                pthread_mutex_unlock(&h->lock);
                return 0;
        }
        if (strcmp(w[1], "dup-push") == 0 && n >= 3) {
                pthread_mutex_lock(&h->lock);
                h->dup_push = strcmp(w[2], "on") == 0;
                pthread_mutex_unlock(&h->lock);
                return 0;
        }
        if (strcmp(w[1], "mo") == 0 && n >= 3) {
                uint32_t count;
                if (http_parse_uint(w[2], strlen(w[2]), 1000000, &count) < 0)
                        goto bad;
                const char *text = n >= 4 ? w[3] : NULL;
                pthread_mutex_lock(&h->lock);
                for (uint32_t i = 0; i < count; i++) {
                        char buf[1024], id[32], txt[64], phone[24];
                        uint64_t k = ++h->mo_serial;
                        snprintf(id, sizeof id, "mo-%llu", (unsigned long long)k);
                        snprintf(txt, sizeof txt, "mo text %llu", (unsigned long long)k);
                        snprintf(phone, sizeof phone, "4477009%05llu", (unsigned long long)(k % 100000));
                        const char *t = text ? text : txt;
                        struct http_buf b = { buf, 0, sizeof buf };
                        if (http_form_add(&b, "type", "MO", 2) < 0 ||
                            http_form_add(&b, "message_id", id, strlen(id)) < 0 ||
                            http_form_add(&b, "shortcode", "12345", 5) < 0 ||
                            http_form_add(&b, "phone_number", phone, strlen(phone)) < 0 ||
                            http_form_add(&b, "carrier", "simcarrier", 10) < 0 ||
                            http_form_add(&b, "message", t, strlen(t)) < 0)
                                continue;
                        for (int d = 0; d < (h->dup_push ? 2 : 1); d++) {
                                size_t len = b.len;
                                char *body = form_dup(buf, &len);
                                if (body)
                                        push_queue(h, body, len, 0);
                        }
                }
                pthread_mutex_unlock(&h->lock);
                return 0;
        }
        if (n < 3)
                goto bad;
        struct site *st = site_by_name(h, w[2]);
        if (!st)
                goto bad;
        if (strcmp(w[1], "down") == 0) {
                int silent = n >= 4 && strcmp(w[3], "silent") == 0;
                return site_set_mode(st, silent ? SITE_SILENT : SITE_REFUSE);
        }
        if (strcmp(w[1], "up") == 0)
                return site_set_mode(st, SITE_UP);
        uint32_t v = 0;
        int onoff = n >= 4 && strcmp(w[3], "on") == 0;
        if (strcmp(w[1], "5xx") == 0 && n >= 4) {
                atomic_store(&st->err5xx, onoff);
                return 0;
        }
        if (strcmp(w[1], "throttle") == 0 && n >= 4) {
                atomic_store(&st->throttle, onoff);
                return 0;
        }
        if (n >= 4 && http_parse_uint(w[3], strlen(w[3]), 3600000, &v) == 0) {
                if (strcmp(w[1], "slow") == 0) {
                        atomic_store(&st->slow_ms, v);
                        return 0;
                }
                if (strcmp(w[1], "drop") == 0) {
                        atomic_store(&st->drop_n, v);
                        return 0;
                }
        }
bad:
        snprintf(reply_buf, reply_len, "error: unknown or malformed http command");
        return -EINVAL;
}

static const char *mode_name(int m)
{
        return m == SITE_UP ? "up" : m == SITE_SILENT ? "silent" : "refuse";
}

int http_sim_summary_json(struct http_sim *h, char *buf, size_t cap)
{
        if (!cap)
                return 0;
        size_t o = 0;
#define PUT(...) do { int _n = snprintf(buf + o, o < cap ? cap - o : 0, __VA_ARGS__); \
                if (_n > 0) o += (size_t)_n; } while (0)
        pthread_mutex_lock(&h->lock);
        PUT("{\"sites\":[");
        for (int i = 0; i < h->n_sites; i++) {
                struct site *st = &h->sites[i];
                PUT("%s{\"name\":\"%s\",\"addr\":\"%s\",\"port\":%u,\"state\":\"%s\","
                    "\"requests\":%llu,\"accepted\":%llu,\"duplicates\":%llu,\"rejected\":%llu,"
                    "\"faults\":%llu,\"dropped\":%llu,\"first_accept_ms\":%llu,\"last_accept_ms\":%llu}",
                    i ? "," : "", st->name, st->addr, st->port, mode_name(st->mode),
                    (unsigned long long)st->requests, (unsigned long long)st->accepted,
                    (unsigned long long)st->duplicates, (unsigned long long)st->rejected,
                    (unsigned long long)st->faults, (unsigned long long)st->dropped,
                    (unsigned long long)st->first_ms, (unsigned long long)st->last_ms);
        }
        unsigned used = (unsigned)__builtin_popcount(h->src_used_mask);
        PUT("],\"handset_delivered\":%llu,\"handset_duplicates\":%llu,\"dr_pushed\":%llu,"
            "\"dr_acked\":%llu,\"mo_pushed\":%llu,\"mo_acked\":%llu,\"push_attempts\":%llu,"
            "\"push_failures\":%llu,\"pending_pushes\":%llu,\"sources_used\":%u,"
            "\"dr_via_smpp\":%llu,\"smpp_dr_via_http\":%llu}",
            (unsigned long long)h->handset_delivered, (unsigned long long)h->handset_duplicates,
            (unsigned long long)h->dr_pushed, (unsigned long long)h->dr_acked,
            (unsigned long long)h->mo_pushed, (unsigned long long)h->mo_acked,
            (unsigned long long)h->push_attempts, (unsigned long long)h->push_failures,
            (unsigned long long)(h->q_n + h->active), used,
            (unsigned long long)h->dr_via_smpp_n, (unsigned long long)h->smpp_dr_via_http_n);
        pthread_mutex_unlock(&h->lock);
#undef PUT
        if (o >= cap)
                o = cap - 1;
        return (int)o;
}

int http_sim_seen(struct http_sim *h, const char *message_id, struct http_sim_seen *out)
{
        int rc = -ENOENT;
        pthread_mutex_lock(&h->lock);
        for (unsigned i = 0; i < SEEN_RING; i++)
                if (h->seen[i].id[0] && strcmp(h->seen[i].id, message_id) == 0) {
                        *out = h->seen[i].s;
                        rc = 0;
                }
        pthread_mutex_unlock(&h->lock);
        return rc;
}

void http_sim_counts(struct http_sim *h, struct http_sim_counts *c)
{
        memset(c, 0, sizeof *c);
        pthread_mutex_lock(&h->lock);
        for (int i = 0; i < h->n_sites; i++) {
                struct site *st = &h->sites[i];
                c->requests += st->requests;
                c->accepted += st->accepted;
                c->duplicates += st->duplicates;
                c->rejected += st->rejected;
                c->faults += st->faults;
                c->dropped += st->dropped;
        }
        c->handset_delivered = h->handset_delivered;
        c->handset_duplicates = h->handset_duplicates;
        c->dr_pushed = h->dr_pushed;
        c->dr_acked = h->dr_acked;
        c->mo_pushed = h->mo_pushed;
        c->mo_acked = h->mo_acked;
        c->push_attempts = h->push_attempts;
        c->push_failures = h->push_failures;
        c->dr_via_smpp = h->dr_via_smpp_n;
        c->smpp_dr_via_http = h->smpp_dr_via_http_n;
        c->sources_used = (unsigned)__builtin_popcount(h->src_used_mask);
        c->pending_pushes = h->q_n + h->active;
        pthread_mutex_unlock(&h->lock);
}

int http_sim_site_counts(struct http_sim *h, const char *site, uint64_t *accepted,
                         uint64_t *first_ms, uint64_t *last_ms)
{
        struct site *st = site_by_name(h, site);
        if (!st)
                return -ENOENT;
        pthread_mutex_lock(&h->lock);
        *accepted = st->accepted;
        *first_ms = st->first_ms;
        *last_ms = st->last_ms;
        pthread_mutex_unlock(&h->lock);
        return 0;
}

size_t http_sim_site(const struct http_sim *h, size_t i, char name[32], char addr[16], uint16_t *port)
{
        if (i < (size_t)h->n_sites) {
                memcpy(name, h->sites[i].name, 32);
                memcpy(addr, h->sites[i].addr, 16);
                *port = h->sites[i].port;
        }
        return (size_t)h->n_sites;
}
