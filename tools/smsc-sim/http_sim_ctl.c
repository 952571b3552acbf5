/* Control words, the ledger JSON and the counters of the simulator's HTTP
 * side (see http_sim.h for the words). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_form.h"
#include "http_sim_int.h"

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
                int rc = hsim_set_receivers(h, w[2]);
                pthread_mutex_unlock(&h->lock);
                if (rc < 0)
                        goto bad;
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
                                char *body = hsim_form_dup(buf, &len);
                                if (body)
                                        hsim_push_queue(h, body, len, 0);
                        }
                }
                pthread_mutex_unlock(&h->lock);
                return 0;
        }
        if (n < 3)
                goto bad;
        struct site *st = hsim_site_by_name(h, w[2]);
        if (!st)
                goto bad;
        if (strcmp(w[1], "down") == 0) {
                int silent = n >= 4 && strcmp(w[3], "silent") == 0;
                return hsim_site_set_mode(st, silent ? SITE_SILENT : SITE_REFUSE);
        }
        if (strcmp(w[1], "up") == 0)
                return hsim_site_set_mode(st, SITE_UP);
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
                if (strcmp(w[1], "late") == 0) {
                        atomic_store(&st->late_ms, v);
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
                    "\"faults\":%llu,\"dropped\":%llu,\"first_accept_ms\":%llu,"
                    "\"last_accept_ms\":%llu,\"daemon_requests\":[",
                    i ? "," : "", st->name, st->addr, st->port, mode_name(st->mode),
                    (unsigned long long)st->requests, (unsigned long long)st->accepted,
                    (unsigned long long)st->duplicates, (unsigned long long)st->rejected,
                    (unsigned long long)st->faults, (unsigned long long)st->dropped,
                    (unsigned long long)st->first_ms, (unsigned long long)st->last_ms);
                for (unsigned k = 0; k < h->threads; k++)
                        PUT("%s%llu", k ? "," : "", (unsigned long long)st->daemon_requests[k]);
                PUT("]}");
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
        struct site *st = hsim_site_by_name(h, site);
        if (!st)
                return -ENOENT;
        pthread_mutex_lock(&h->lock);
        *accepted = st->accepted;
        *first_ms = st->first_ms;
        *last_ms = st->last_ms;
        pthread_mutex_unlock(&h->lock);
        return 0;
}

int http_sim_site_daemon_requests(struct http_sim *h, const char *site, uint64_t *counts,
                                  unsigned cap)
{
        struct site *st = hsim_site_by_name(h, site);
        if (!st)
                return -ENOENT;
        pthread_mutex_lock(&h->lock);
        for (unsigned k = 0; k < h->threads && k < cap; k++)
                counts[k] = st->daemon_requests[k];
        pthread_mutex_unlock(&h->lock);
        return (int)h->threads;
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
