/* The HTTP transport glue (see http.h).
 *
 * MT side, on the engine thread: `pull` pops a slot from the ingress ring
 * (only while HTTP may carry MTs: transport http, or transport both with no
 * SMPP bind ACTIVE; never while outcomes wait for ring room) and encodes it
 * as H1 fields; message_id is the MT identity (client nonce + slot serial,
 * 32 hex digits), so every resubmit of the MT carries the same one. `done`
 * records the correlation message_id -> MT for DRs (the same store SMPP uses,
 * so a DR for an HTTP MT may come over SMPP and the other way round) and
 * writes the one outcome into ring 0; when the ring is full the slot waits on
 * a local list flushed first on later turns.
 *
 * Receiver side, on the MHD thread: a DR becomes a deliver_sm receipt view
 * (receipted_message_id + message_state) through inbound_on_deliver_w, so it
 * is correlated, parked and deduplicated exactly as one from an SMPP bind; an
 * MO is deduplicated by its message_id and written into ring 1. The 2xx goes
 * out only after that (http_receiver.h).
 *
 * With a shared store (Redis, src/store/rstore.h) both sides take the SMPP
 * path through it: `done` hands an accepted MT's correlation (MTs that
 * asked for a DR) to the store thread through the MT thread's own queue,
 * and `pull` gives the engine no new MT unless that queue's ring has room
 * for the correlation of every MT it holds plus the new one, as a worker
 * sends no submit_sm without it (worker_corr_room_ok): a store thread that
 * falls behind holds MTs back in the ingress (smx_submit backpressure)
 * instead of dropping their correlations;
 * the receiver hands each DR (with a usable id) and MO to the store thread
 * through the receiver's queue and defers the HTTP answer (the connection
 * is suspended) until the script ran: 200 once Redis has it (correlated and
 * routed to the owner's stream, parked, or a duplicate), 503 when the store
 * cannot take it now (queue full, Redis away past hold_ms), so the service
 * re-sends, as ESME_RX_T_APPN does over SMPP. The H4 API carries no MO
 * parts: an MO is one script (dedup by message_id across the cluster). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/client_int.h"
#include "http/http.h"
#include "http/http_mt.h"
#include "http/http_receiver.h"
#include "http/http_resolve.h"
#include "inbound/inbound_int.h"
#include "log/log.h"

#define EVENT_RESERVE 64

/* Owned by the client; the MT thread writes pend_*, the receiver thread
 * nothing here but its ring. */
struct smx_http {
        struct smx_client *c;
        struct smx_http_config cfg;       /* copy; strings point into store */
        char *store[SMX_HTTP_URLS_MAX + 8];
        unsigned n_store;
        struct http_mt *mt;
        struct http_receiver *rx;
        struct smx_event_ring *ring[SMX_HTTP_RINGS];
        struct smx_bind_info info;
        uint32_t pend_head, pend_tail;    /* outcomes waiting for ring room */
        uint32_t corr_owed;               /* shared store: MTs held by the MT engine
                                             that asked for a DR (each may owe one
                                             correlation write) */
        uint64_t now_ms;
        uint64_t unusable_since_ms;       /* no URL/address usable since (0: usable) */
};

void smx_http_config_init(struct smx_http_config *h)
{
        memset(h, 0, sizeof *h);
        h->transport = SMX_TRANSPORT_SMPP;
        h->max_host_conns = 16;
        h->max_in_flight = 512;
        h->connect_timeout_ms = 5000;
        h->timeout_ms = 15000;
        h->stall_ms = 3000;
        h->resubmit_pause_ms = 30000;
        h->retry_backoff_ms = 1000;
        h->probe_interval_ms = 5000;
        h->primary_healthy_ms = 60000;
        h->dns_grace_ms = 30000;
        h->receiver_max_body = 16384;
        h->receiver_max_request_s = 30;
}

static void wake_app(struct smx_client *c)
{
        /* pairs with the consumer's store of app_sleeping (smx_events_poll) */
        if (atomic_exchange(&c->app_sleeping, 0)) {
                uint64_t one = 1;
                ssize_t r = write(c->app_efd, &one, sizeof one);
                (void)r;
        }
}

/* ---- MT outcomes (engine thread) ---- */

static void list_append(struct smx_ingress *g, uint32_t *head, uint32_t *tail, uint32_t idx)
{
        struct smx_slot *s = ingress_slot(g, idx);
        s->next = SMX_SLOT_NONE;
        if (*tail == SMX_SLOT_NONE)
                *head = idx;
        else
                ingress_slot(g, *tail)->next = idx;
        *tail = idx;
}

static void commit_outcome(struct smx_http *h, uint32_t idx, struct smx_ev_rec *e)
{
        struct smx_client *c = h->c;
        struct smx_slot *s = ingress_slot(&c->ing, idx);
        e->type = s->out_type;
        e->reason = s->out_reason;
        e->flags = (uint8_t)(SMX_EVF_HTTP | (s->out_permanent ? SMX_EVF_PERMANENT : 0) |
                             ((s->flags & SMX_SLOTF_RESENT) ? SMX_EVF_RESENT : 0));
        e->bind = SMX_BIND_HTTP;
        e->status = s->last_status;
        e->attempts = s->attempts;
        uint64_t now_us = smx_stamp_us();
        e->latency_us = now_us > s->submit_us ? now_us - s->submit_us : 0;
        event_copy_str(e->id, sizeof e->id, s->id, s->id_len);
        event_copy_str(e->message_id, sizeof e->message_id, s->out_msgid, strlen(s->out_msgid));
        event_ring_commit_w(h->ring[0]);
        ingress_slot_free(&c->ing, idx);
}

static int flush_pending(struct smx_http *h)
{
        int n = 0;
        struct smx_ingress *g = &h->c->ing;
        while (h->pend_head != SMX_SLOT_NONE) {
                struct smx_ev_rec *e = event_ring_reserve_w(h->ring[0]);
                if (!e)
                        break;
                uint32_t idx = h->pend_head;
                h->pend_head = ingress_slot(g, idx)->next;
                if (h->pend_head == SMX_SLOT_NONE)
                        h->pend_tail = SMX_SLOT_NONE;
                commit_outcome(h, idx, e);
                n++;
        }
        return n;
}

static void msgid_of(const struct smx_client *c, uint32_t idx, const struct smx_slot *s,
                     char out[HTTP_MSGID_MAX + 1])
{
        static const char hex[] = "0123456789abcdef";
        uint8_t id[16];
        client_mt_identity(c, idx, s, id);
        for (int i = 0; i < 16; i++) {
                out[2 * i] = hex[id[i] >> 4];
                out[2 * i + 1] = hex[id[i] & 15];
        }
        out[32] = 0;
}

static const char *const prio_name[4] = { NULL, "BULK", "INTERACTIVE_LOW", "INTERACTIVE" };

static int mt_pull(void *arg, struct http_buf *body, char msgid[HTTP_MSGID_MAX + 1], uint64_t *ref)
{
        struct smx_http *h = arg;
        struct smx_client *c = h->c;
        if (h->pend_head != SMX_SLOT_NONE || event_ring_space_w(h->ring[0]) < EVENT_RESERVE)
                return 0;
        if (atomic_load_explicit(&c->fail_all, memory_order_relaxed))
                return 0;
        if (h->cfg.transport == SMX_TRANSPORT_BOTH &&
            atomic_load_explicit(&c->active_binds, memory_order_relaxed) > 0)
                return 0;
        if (c->rstore) {
                /* room for every correlation owed plus this MT's (the ring's
                 * room only grows until this thread pushes) */
                unsigned q = c->n_workers + SMX_HTTP_STORE_Q_MT;
                if (rstore_corr_room_w(c->rstore, q) <= h->corr_owed) {
                        rstore_kick_w(c->rstore, q);
                        return 0;       /* the engine's loop looks again within 10 ms */
                }
        }
        for (;;) {
                uint32_t idx = ingress_pop(&c->ing);
                if (idx == SMX_SLOT_NONE)
                        return 0;
                struct smx_slot *s = ingress_slot(&c->ing, idx);
                atomic_fetch_add_explicit(&s->tag, 1, memory_order_relaxed);
                msgid_of(c, idx, s, msgid);
                size_t at = body->len;
                int rc = http_form_add(body, "phone_number", smx_slot_to(s), s->to_len);
                if (!rc && s->from_len)
                        rc = http_form_add(body, "sender", smx_slot_from(s), s->from_len);
                if (!rc)
                        rc = http_form_add(body, "message", (const char *)smx_slot_text(s), s->text_len);
                if (!rc)
                        rc = http_form_add(body, "message_id", msgid, 32);
                if (!rc)
                        rc = http_form_add(body, "receipt", s->want_dr ? "TRUE" : "FALSE",
                                           s->want_dr ? 4 : 5);
                if (!rc && s->priority && s->priority < 4)
                        rc = http_form_add(body, "priority", prio_name[s->priority],
                                           strlen(prio_name[s->priority]));
                if (rc == 0) {
                        *ref = idx;
                        if (c->rstore && s->want_dr)
                                h->corr_owed++;
                        return 1;
                }
                /* cannot happen within SMX_TEXT_MAX (HTTP_BODY_MAX covers it):
                 * still, the MT gets its outcome */
                body->len = at;
                body->p[at] = 0;
                s->out_type = SMX_EV_FAILED;
                s->out_reason = SMX_FAIL_ENCODING;
                s->out_permanent = 1;
                s->out_msgid[0] = 0;
                atomic_fetch_add_explicit(&c->decided, 1, memory_order_release);
                list_append(&c->ing, &h->pend_head, &h->pend_tail, idx);
                return 0;
        }
}

static void mt_done(void *arg, uint64_t ref, const char *msgid, const struct http_mt_outcome *o)
{
        struct smx_http *h = arg;
        struct smx_client *c = h->c;
        uint32_t idx = (uint32_t)ref;
        struct smx_slot *s = ingress_slot(&c->ing, idx);
        uint64_t now = smx_now_ms();
        s->attempts = o->attempts;
        s->last_status = o->code;
        if (o->attempts > 1)
                s->flags |= SMX_SLOTF_RESENT;
        if (c->rstore && s->want_dr && h->corr_owed)
                h->corr_owed--;         /* its write goes now, or none is owed */
        size_t ml = strlen(msgid);
        if (o->accepted) {
                s->out_type = SMX_EV_SUBMITTED;
                s->out_reason = SMX_FAIL_NONE;
                s->out_permanent = 0;
                memcpy(s->out_msgid, msgid, ml + 1);
                if (c->rstore) {
                        /* shared store: the store thread writes it, as for an
                         * SMPP resp (only for an MT that asked for a DR) */
                        if (s->want_dr) {
                                unsigned q = c->n_workers + SMX_HTTP_STORE_Q_MT;
                                inbound_remote_accepted_w(c->inbound, c->rstore, q, &h->info,
                                                          (const uint8_t *)msgid, ml, s->id,
                                                          s->id_len, 0, 1);
                                rstore_kick_w(c->rstore, q);
                        }
                } else {
                        inbound_on_accepted_w(c->inbound, &h->info, (const uint8_t *)msgid, ml,
                                              s->id, s->id_len, smx_slot_serial(idx, s->gen), 0,
                                              1, h->ring[0], now);
                }
        } else {
                s->out_type = SMX_EV_FAILED;
                s->out_reason = o->reason;
                s->out_permanent = (uint8_t)(o->permanent != 0);
                s->out_msgid[0] = 0;
        }
        atomic_fetch_add_explicit(&c->decided, 1, memory_order_release);
        struct smx_ev_rec *e = NULL;
        if (h->pend_head == SMX_SLOT_NONE)
                e = event_ring_reserve_w(h->ring[0]);
        if (e)
                commit_outcome(h, idx, e);
        else
                list_append(&c->ing, &h->pend_head, &h->pend_tail, idx);
        wake_app(c);
}

/* Transport http with nothing usable (strategy A: no address, TTL and grace
 * over) for no_route_timeout_ms: the MTs waiting in ingress fail no_route,
 * as they would with no ACTIVE SMPP bind. */
static int fail_no_route(struct smx_http *h, uint64_t now_ms)
{
        struct smx_client *c = h->c;
        if (h->cfg.transport != SMX_TRANSPORT_HTTP || http_mt_usable(h->mt)) {
                h->unusable_since_ms = 0;
                return 0;
        }
        if (!h->unusable_since_ms)
                h->unusable_since_ms = now_ms;
        if (now_ms - h->unusable_since_ms < c->cfg.no_route_timeout_ms)
                return 0;
        int n = 0;
        while (n < 512 && h->pend_head == SMX_SLOT_NONE) {
                uint32_t idx = ingress_pop(&c->ing);
                if (idx == SMX_SLOT_NONE)
                        break;
                struct smx_slot *s = ingress_slot(&c->ing, idx);
                s->out_type = SMX_EV_FAILED;
                s->out_reason = SMX_FAIL_NO_ROUTE;
                s->out_permanent = 0;
                s->out_msgid[0] = 0;
                atomic_fetch_add_explicit(&c->decided, 1, memory_order_release);
                struct smx_ev_rec *e = event_ring_reserve_w(h->ring[0]);
                if (e)
                        commit_outcome(h, idx, e);
                else
                        list_append(&c->ing, &h->pend_head, &h->pend_tail, idx);
                n++;
        }
        return n;
}

static int mt_tick(void *arg, uint64_t now_ms)
{
        struct smx_http *h = arg;
        h->now_ms = now_ms;
        if (flush_pending(h) + fail_no_route(h, now_ms) > 0)
                wake_app(h->c);
        return atomic_load_explicit(&h->c->fail_all, memory_order_relaxed) != 0;
}

static const struct http_mt_ops mt_ops = { .pull = mt_pull, .done = mt_done, .tick = mt_tick };

/* ---- receiver (MHD thread) ---- */

/* Hand a DR/MO to the store thread (shared store): the HTTP answer waits
 * for its script (http_rx_defer; smx_http_store_answer gives it), so the
 * service keeps re-sending until Redis has it. The store's queue full:
 * 503 now, the service re-sends (as ESME_RX_T_APPN does over SMPP). */
static int rx_to_store(struct smx_http *h, struct rs_in_req *r)
{
        struct smx_client *c = h->c;
        unsigned q = c->n_workers + SMX_HTTP_STORE_Q_RX;
        if (!rstore_in_room_w(c->rstore, q)) {
                free(r->data);
                return HTTP_RX_BUSY;
        }
        r->to.worker = (uint16_t)q;
        r->to.bind = SMX_BIND_HTTP;
        r->to.ext = http_rx_defer(h->rx);
        rstore_in_w(c->rstore, q, r);           /* room checked: only this thread pushes */
        rstore_kick_w(c->rstore, q);
        return HTTP_RX_DEFER;
}

/* A ticket the receiver's close abandoned (answered 503 after waiting
 * HTTP_RX_CLOSE_WAIT_MS) only frees it: the receiver, and h, may be gone.
 * Its script may have run: then its event is in Redis once, and the
 * service's re-send of it is a duplicate there (200, not delivered again). */
void smx_http_store_answer(struct smx_http *h, void *ticket, uint32_t status)
{
        if (http_rx_answer(ticket, status == SMPP_ESME_ROK ? HTTP_RX_OK : HTTP_RX_BUSY) &&
            status == SMPP_ESME_ROK)
                wake_app(h->c);
}

int smx_http_store_claim(struct smx_http *h, void *ticket)
{
        (void)h;
        return http_rx_claim(ticket);
}

/* The H4 DR as a deliver_sm receipt view (receipted_message_id +
 * message_state): the inbound path judges it like one from an SMPP bind. */
static void dr_view(const struct http_rx_msg *m, struct smx_pdu *p)
{
        memset(p, 0, sizeof *p);
        p->h.command_id = SMPP_DELIVER_SM;
        p->u.sm.esm_class = SMPP_ESM_TYPE_SMSC_DR;
        p->tlv.present = SMX_TLV_RECEIPTED_MESSAGE_ID | SMX_TLV_MESSAGE_STATE;
        p->tlv.receipted_message_id.p = (const uint8_t *)m->message_id;
        p->tlv.receipted_message_id.len = (uint16_t)strlen(m->message_id);
        p->tlv.message_state = m->state;
}

static int rx_dr(struct smx_http *h, const struct http_rx_msg *m, uint64_t now)
{
        struct smx_pdu p;
        dr_view(m, &p);
        if (h->c->rstore) {
                struct rs_in_req r;
                if (inbound_remote_dr_req(h->c->inbound, &h->info, &p, &r))
                        return rx_to_store(h, &r);
                /* no usable id: nothing to correlate, handled here */
        }
        uint32_t st = inbound_on_deliver_w(h->c->inbound, &h->info, &p, h->ring[1], now);
        return st == SMPP_ESME_ROK ? HTTP_RX_OK : HTTP_RX_BUSY;
}

/* The MO's dedup identity: its message_id (the service re-sends with the
 * same one, H4), the same on every instance. */
static struct smx_key128 mo_ident(const struct http_rx_msg *m)
{
        static const char tag[] = "http-mo";
        struct smx_key128 ident = smx_hash128(tag, sizeof tag, 0);
        return smx_hash128_more(ident, m->message_id, strlen(m->message_id));
}

/* Shared store: one MO script (dedup across the cluster, then this
 * instance's stream). The H4 API carries no parts: nothing to reassemble. */
static int rx_mo_store(struct smx_http *h, const struct http_rx_msg *m)
{
        struct rs_in_req r;
        memset(&r, 0, offsetof(struct rs_in_req, msgid));
        r.kind = RS_IN_MO_ONE;
        r.http = 1;
        r.ident = mo_ident(m);
        event_copy_str(r.msgid, sizeof r.msgid, m->message_id, strlen(m->message_id));
        r.err[0] = 0;
        event_copy_str(r.from, sizeof r.from, m->phone_number, strlen(m->phone_number));
        event_copy_str(r.to_addr, sizeof r.to_addr, m->shortcode, strlen(m->shortcode));
        r.data = malloc(m->text_len ? m->text_len : 1);
        if (!r.data)
                return HTTP_RX_BUSY;
        memcpy(r.data, m->text, m->text_len);
        r.len = (uint32_t)m->text_len;
        return rx_to_store(h, &r);
}

static int rx_mo(struct smx_http *h, const struct http_rx_msg *m, uint64_t now)
{
        struct smx_inbound *in = h->c->inbound;
        if (h->c->rstore)
                return rx_mo_store(h, m);
        struct smx_key128 ident = mo_ident(m);
        switch (in->dedup.ops->claim(in->dedup.impl, &ident, now)) {
        case SMX_DEDUP_SEEN:
                CNT_INC(in, mo_duplicates);
                return HTTP_RX_DUPLICATE;
        case SMX_DEDUP_BUSY:
                CNT_INC(in, busy);
                return HTTP_RX_BUSY;
        case SMX_DEDUP_NEW:
                break;
        }
        struct smx_ev_rec *e = event_ring_reserve_w(h->ring[1]);
        if (!e || event_rec_set_text(e, m->text, m->text_len) < 0) {
                in->dedup.ops->abort(in->dedup.impl, &ident);
                CNT_INC(in, ring_full);
                return HTTP_RX_BUSY;
        }
        e->type = SMX_EV_MO;
        e->flags |= SMX_EVF_HTTP;
        e->bind = SMX_BIND_HTTP;
        e->parts = 1;
        event_copy_str(e->from, sizeof e->from, m->phone_number, strlen(m->phone_number));
        event_copy_str(e->to, sizeof e->to, m->shortcode, strlen(m->shortcode));
        event_copy_str(e->message_id, sizeof e->message_id, m->message_id, strlen(m->message_id));
        event_ring_commit_w(h->ring[1]);
        in->dedup.ops->commit(in->dedup.impl, &ident, now);
        CNT_INC(in, mos);
        return HTTP_RX_OK;
}

static int rx_deliver(void *arg, const struct http_rx_msg *m)
{
        struct smx_http *h = arg;
        uint64_t now = smx_now_ms();
        int rc = m->is_dr ? rx_dr(h, m, now) : rx_mo(h, m, now);
        if (rc == HTTP_RX_OK)
                wake_app(h->c);
        return rc;
}

/* ---- life cycle ---- */

static const char *keep(struct smx_http *h, const char *s)
{
        if (!s)
                return NULL;
        if (h->n_store >= sizeof h->store / sizeof h->store[0])
                return NULL;
        char *d = strdup(s);
        if (d)
                h->store[h->n_store++] = d;
        return d;
}

int smx_http_create(struct smx_client *c, const struct smx_http_config *cfg, struct smx_http **out,
                    char *err, size_t err_len)
{
        *out = NULL;
        if ((unsigned)cfg->transport > SMX_TRANSPORT_BOTH) {
                snprintf(err, err_len, "http: bad transport");
                return SMX_EINVAL;
        }
        if (cfg->transport != SMX_TRANSPORT_SMPP && (cfg->n_urls == 0 || cfg->n_urls > SMX_HTTP_URLS_MAX)) {
                snprintf(err, err_len, "http: transport %s needs 1 to %d URLs",
                         cfg->transport == SMX_TRANSPORT_HTTP ? "http" : "both", SMX_HTTP_URLS_MAX);
                return SMX_EINVAL;
        }
        struct smx_http *h = calloc(1, sizeof *h);
        if (!h)
                return SMX_ENOMEM;
        h->c = c;
        h->cfg = *cfg;
        h->pend_head = h->pend_tail = SMX_SLOT_NONE;
        h->info.index = SMX_BIND_HTTP;
        h->info.name = "http";
        h->info.site = "";
        h->info.msgid_norm = SMX_MSGID_AUTO;
        int rc = SMX_ENOMEM;
        for (unsigned i = 0; i < SMX_HTTP_RINGS; i++) {
                h->ring[i] = event_ring_create(c->cfg.event_capacity);
                if (!h->ring[i])
                        goto fail;
        }
        h->cfg.receiver = keep(h, cfg->receiver);
        h->cfg.receiver_secret = keep(h, cfg->receiver_secret);
        h->cfg.receiver_allow = keep(h, cfg->receiver_allow);
        if (cfg->transport != SMX_TRANSPORT_SMPP) {
                struct http_mt_config mc;
                http_mt_config_init(&mc);
                for (unsigned i = 0; i < cfg->n_urls; i++)
                        mc.urls[i] = cfg->urls[i];
                mc.n_urls = cfg->n_urls;
                mc.login = cfg->login ? cfg->login : c->cfg.system_id;
                mc.password = cfg->password ? cfg->password : c->cfg.password;
                mc.use_get = cfg->use_get;
                mc.ca_file = cfg->ca_file;
                mc.insecure = cfg->insecure;
                mc.dns_server = cfg->dns_server;
                /* 0 keeps the default where 0 cannot work; the pauses and
                 * windows may be 0 (smx_http_config_init sets the defaults) */
#define KNOB(f) if (cfg->f) mc.f = cfg->f
                KNOB(max_host_conns);
                KNOB(max_in_flight);
                KNOB(connect_timeout_ms);
                KNOB(timeout_ms);
                KNOB(stall_ms);
                KNOB(probe_interval_ms);
#undef KNOB
                mc.resubmit_pause_ms = cfg->resubmit_pause_ms;
                mc.retry_backoff_ms = cfg->retry_backoff_ms;
                mc.primary_healthy_ms = cfg->primary_healthy_ms;
                mc.dns_grace_ms = cfg->dns_grace_ms;
                mc.max_attempts = c->cfg.max_attempts;
                mc.pushback_free_ms = c->cfg.no_route_timeout_ms;
                rc = http_mt_create(&mc, &mt_ops, h, &h->mt, err, err_len);
                if (rc < 0)
                        goto fail;
        }
        *out = h;
        return 0;
fail:
        smx_http_destroy(h);
        return rc;
}

int smx_http_start(struct smx_http *h)
{
        if (h->cfg.receiver) {
                struct http_rx_config rc;
                http_rx_config_init(&rc);
                rc.listen = h->cfg.receiver;
                rc.secret = h->cfg.receiver_secret;
                rc.allow = h->cfg.receiver_allow;
                if (h->cfg.receiver_max_body)
                        rc.max_body = h->cfg.receiver_max_body;
                if (h->cfg.receiver_max_request_s)
                        rc.max_request_s = h->cfg.receiver_max_request_s;
                char err[160];
                int r = http_rx_start(&rc, rx_deliver, h, &h->rx, err, sizeof err);
                if (r < 0) {
                        smx_logf(SMX_LOG_ERROR, NULL, NULL, "http: %s", err);
                        return r;
                }
                smx_logf(SMX_LOG_INFO, NULL, NULL, "http: receiver listening on port %u", http_rx_port(h->rx));
        }
        if (h->mt) {
                int r = http_mt_start(h->mt);
                if (r < 0)
                        return r;
        }
        return 0;
}

void smx_http_close_receiver(struct smx_http *h)
{
        if (h && h->rx)
                http_rx_close(h->rx);
}

void smx_http_destroy(struct smx_http *h)
{
        if (!h)
                return;
        if (h->rx)
                http_rx_stop(h->rx);
        if (h->mt)
                http_mt_destroy(h->mt);   /* stops the thread; held MTs get `done` */
        if (h->ring[0])
                flush_pending(h);
        for (unsigned i = 0; i < SMX_HTTP_RINGS; i++)
                event_ring_destroy(h->ring[i]);
        for (unsigned i = 0; i < h->n_store; i++)
                free(h->store[i]);
        free(h);
}

void smx_http_wake(struct smx_http *h)
{
        if (h->mt)
                http_mt_wake(h->mt);
}

struct smx_event_ring *smx_http_ring(struct smx_http *h, unsigned i)
{
        return i < SMX_HTTP_RINGS ? h->ring[i] : NULL;
}

int smx_http_exclusive(const struct smx_http *h)
{
        return h && h->cfg.transport == SMX_TRANSPORT_HTTP;
}

int smx_http_carries_mts(const struct smx_http *h)
{
        return h && h->cfg.transport != SMX_TRANSPORT_SMPP;
}


void smx_http_stats_fill(struct smx_http *h, struct smx_http_stats *st)
{
        memset(st, 0, sizeof *st);
        if (!h)
                return;
        st->enabled = 1;
        if (h->mt) {
                const struct http_mt_stats *m = http_mt_stats(h->mt);
#define LD(dst, src) st->dst = atomic_load_explicit(&m->src, memory_order_relaxed)
                LD(current_url, current_url);
                LD(sent, sent);
                LD(accepted, accepted);
                LD(duplicates, duplicates);
                LD(failed, failed);
                LD(transient, transient);
                LD(abnormal, abnormal);
                LD(resubmits, resubmits);
                LD(switches, switches);
                LD(switch_backs, switch_backs);
                LD(probes, probes);
                LD(probes_ok, probes_ok);
                LD(stale_closes, stale_closes);
                LD(connects, connects);
                LD(stalls, stalls);
                LD(in_flight, in_flight);
                LD(dns_state, dns_state);
#undef LD
                const struct http_resolve_stats *d = http_mt_dns_stats(h->mt);
                if (d) {
                        st->dns_queries = atomic_load_explicit(&d->queries, memory_order_relaxed);
                        st->dns_answers = atomic_load_explicit(&d->answers, memory_order_relaxed);
                        st->dns_failures = atomic_load_explicit(&d->failures, memory_order_relaxed);
                        st->dns_changes = atomic_load_explicit(&d->changes, memory_order_relaxed);
                        st->dns_grace_uses = atomic_load_explicit(&d->grace_uses, memory_order_relaxed);
                        st->dns_last_ttl_s = atomic_load_explicit(&d->last_ttl_s, memory_order_relaxed);
                }
        }
        if (h->rx) {
                const struct http_rx_stats *r = http_rx_stats(h->rx);
                st->receiver_port = http_rx_port(h->rx);
                st->rx_requests = atomic_load_explicit(&r->requests, memory_order_relaxed);
                st->rx_delivered = atomic_load_explicit(&r->delivered, memory_order_relaxed);
                st->rx_duplicates = atomic_load_explicit(&r->duplicates, memory_order_relaxed);
                st->rx_busy = atomic_load_explicit(&r->busy, memory_order_relaxed);
                st->rx_bad = atomic_load_explicit(&r->bad, memory_order_relaxed);
                st->rx_forbidden = atomic_load_explicit(&r->forbidden, memory_order_relaxed);
                st->rx_too_large = atomic_load_explicit(&r->too_large, memory_order_relaxed);
                st->rx_too_slow = atomic_load_explicit(&r->too_slow, memory_order_relaxed);
                st->rx_deferred = atomic_load_explicit(&r->deferred, memory_order_relaxed);
                st->rx_abandoned = atomic_load_explicit(&r->abandoned, memory_order_relaxed);
        }
}
