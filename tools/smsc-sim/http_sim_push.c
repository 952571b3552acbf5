/* DR and MO pushes of the simulator's HTTP side to the client's receiver
 * (H4: form POSTs from several source addresses, re-sent until a 2xx; with
 * several receiver URLs, each attempt to the next one), and
 * the DRs that cross transports: an HTTP MT's DR handed to the SMPP engine's
 * delivery queue, an SMPP MT's DR taken from it and pushed over HTTP. One
 * push thread runs a libcurl multi handle. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/http_form.h"
#include "http_sim_int.h"
#include "sim_internal.h"

/* ---- pushes ---- */

int hsim_set_receivers(struct http_sim *h, const char *list)
{
        char urls[RECEIVERS_MAX][512];
        unsigned n = 0;
        const char *p = list;
        while (*p) {
                const char *e = strchr(p, ',');
                size_t l = e ? (size_t)(e - p) : strlen(p);
                if (l == 0 || l >= sizeof urls[0] || n == RECEIVERS_MAX)
                        return -EINVAL;
                memcpy(urls[n], p, l);
                urls[n++][l] = 0;
                p += l + (e != NULL);
        }
        if (strlen(list) >= sizeof h->receiver)
                return -EINVAL;
        memcpy(h->rx_url, urls, sizeof urls);
        h->n_rx = n;
        snprintf(h->receiver, sizeof h->receiver, "%s", n ? list : "");
        return 0;
}

void hsim_push_queue(struct http_sim *h, char *body, size_t len, int is_dr)
{
        struct push *p = calloc(1, sizeof *p);
        if (!p) {
                free(body);
                return;
        }
        p->body = body;
        p->len = len;
        p->is_dr = is_dr;
        p->due_ms = hsim_now_ms() + (is_dr ? h->dr_delay_ms : 0);
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

char *hsim_form_dup(const char *src, size_t *len)
{
        char *p = malloc(*len + 1);
        if (p)
                memcpy(p, src, *len + 1);
        return p;
}

/* Queue a DR push for message_id (lock held). */
void hsim_push_dr(struct http_sim *h, const char *msgid, uint8_t state, const char *app_id)
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
                char *body = hsim_form_dup(buf, &len);
                if (body)
                        hsim_push_queue(h, body, len, 1);
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
        curl_easy_setopt(e, CURLOPT_URL, h->rx_url[h->next_rx++ % h->n_rx]);
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
        p->due_ms = hsim_now_ms() + back;
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

static void sq_flush(struct http_sim *h);

void *hsim_push_main(void *arg)
{
        struct http_sim *h = arg;
        while (!atomic_load(&h->stop)) {
                uint64_t now = hsim_now_ms();
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
                if (h->smpp)
                        sq_flush(h);
                int nfd;
                curl_multi_poll(h->multi, NULL, 0, 10, &nfd);
        }
        return NULL;
}

/* ---- cross-transport ---- */

/* An HTTP MT's DR over the SMPP engine's binds (its own delivery queue and
 * re-send rules). Push thread, h->lock not held. */
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
        int take = h->receiver[0] && hsim_rand(h) < h->smpp_dr_via_http;
        if (take) {
                hsim_push_dr(h, msgid, state, "");
                h->smpp_dr_via_http_n++;
        }
        pthread_mutex_unlock(&h->lock);
        return take;
}

/* Queue a DR for the SMPP side (lock held). */
int hsim_sq_put(struct http_sim *h, int site, const char *msgid, const char *phone,
                  const char *sender)
{
        if (h->sq_n == h->sq_cap) {
                size_t nc = h->sq_cap ? h->sq_cap * 2 : 256;
                struct smpp_dr *nq = realloc(h->sq, nc * sizeof *nq);
                if (!nq)
                        return -ENOMEM;
                h->sq = nq;
                h->sq_cap = nc;
        }
        struct smpp_dr *d = &h->sq[h->sq_n++];
        d->site = site;
        snprintf(d->msgid, sizeof d->msgid, "%s", msgid);
        snprintf(d->phone, sizeof d->phone, "%s", phone);
        snprintf(d->sender, sizeof d->sender, "%s", sender);
        return 0;
}

/* Push thread: hand the queued DRs to the SMPP engine (our lock not held). */
static void sq_flush(struct http_sim *h)
{
        pthread_mutex_lock(&h->lock);
        struct smpp_dr *q = h->sq;
        size_t n = h->sq_n;
        h->sq = NULL;
        h->sq_n = h->sq_cap = 0;
        pthread_mutex_unlock(&h->lock);
        for (size_t i = 0; i < n; i++)
                dr_via_smpp(h, q[i].site, q[i].msgid, q[i].phone, q[i].sender);
        free(q);
}

