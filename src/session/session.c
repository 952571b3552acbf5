/* Per-bind SMPP session state machine (see session.h). Every answer the
 * SMSC is owed is appended to the output buffer at once (enquire_link_resp
 * bypasses window, throttling and application backpressure, D-13); the
 * owner sends the buffer once per loop turn. */
#include <stdio.h>
#include <string.h>

#include "session/session.h"


uint32_t session_table_size(uint32_t window)
{
        uint32_t need = 4 * (window + 4), n = 16;
        while (n < need)
                n <<= 1;
        return n;
}

static void set_state(struct smx_session *s, enum smx_bind_health to, uint32_t status,
                      const char *reason)
{
        enum smx_bind_health from = s->state;
        if (from == to)
                return;
        s->state = to;
        if (s->ops && s->ops->state)
                s->ops->state(s->ctx, from, to, status, reason);
}

void session_init(struct smx_session *s, const struct smx_session_cfg *cfg,
                  const struct smx_session_ops *ops, void *ctx,
                  struct smx_req *tab, uint32_t tab_cells, uint8_t *out, uint32_t out_cap)
{
        memset(s, 0, sizeof *s);
        s->state = SMX_HEALTH_DOWN;
        s->cfg = cfg;
        s->ops = ops;
        s->ctx = ctx;
        s->seq_next = SMPP_SEQ_MIN;
        s->tab = tab;
        s->tab_mask = tab_cells - 1;
        memset(tab, 0, sizeof *tab * tab_cells);
        s->next_deadline_ms = UINT64_MAX;
        s->enquire_ok = 1;
        s->tlvs_ok = 1;
        s->out = out;
        s->out_cap = out_cap / 2;
        s->spare = out + s->out_cap;
}

/* Forget the output (a new connection starts, or the old one is gone). */
static void out_reset(struct smx_session *s)
{
        if (s->flight) {
                s->spare = s->flight;
                s->flight = NULL;
        }
        s->flight_len = s->flight_off = 0;
        s->out_len = 0;
}

/* Mark the session for closing: the owner flushes the output, then calls
 * session_closed(). The first reason wins. */
static int want_close(struct smx_session *s, uint32_t status, const char *reason)
{
        if (!s->close_wanted) {
                s->close_wanted = 1;
                s->down_status = status;
                snprintf(s->down_reason, sizeof s->down_reason, "%s", reason);
        }
        return SESS_CLOSE;
}


void session_set_next_seq(struct smx_session *s, uint32_t seq)
{
        s->seq_next = (seq < SMPP_SEQ_MIN || seq > SMPP_SEQ_MAX) ? SMPP_SEQ_MIN : seq;
}


static void untrack(struct smx_session *s, struct smx_req *r)
{
        if (r->kind == SREQ_SUBMIT)
                s->n_submit--;
        else if (r->kind != SREQ_FREE)
                s->n_other--;
        r->kind = SREQ_FREE;
}

/* Append a header-only PDU (enquire_link(_resp), unbind(_resp), generic_nack,
 * a bodiless *_resp). Returns 0, or -1 when the output is full. */
static int put_header(struct smx_session *s, uint32_t id, uint32_t status, uint32_t seq)
{
        ssize_t n = smx_pdu_encode_header_only(s->out + s->out_len, s->out_cap - s->out_len,
                                               id, status, seq);
        if (n < 0)
                return -1;
        s->out_len += (uint32_t)n;
        return 0;
}

static int put_empty_resp(struct smx_session *s, uint32_t id, uint32_t status, uint32_t seq)
{
        ssize_t n = smx_pdu_encode_empty_resp(s->out + s->out_len, s->out_cap - s->out_len,
                                              id, status, seq);
        if (n < 0)
                return -1;
        s->out_len += (uint32_t)n;
        return 0;
}

/* Answer a request with its own response (or generic_nack) and `status`. */
static int answer(struct smx_session *s, uint32_t answer_id, uint32_t status, uint32_t seq)
{
        int rc;
        if (answer_id == SMPP_DELIVER_SM_RESP || answer_id == SMPP_DATA_SM_RESP)
                rc = put_empty_resp(s, answer_id, status, seq);
        else
                rc = put_header(s, answer_id, status, seq);
        if (answer_id == SMPP_GENERIC_NACK)
                s->cnt.nacks_sent++;
        if (rc < 0)
                return want_close(s, 0, "output buffer full");
        return SESS_OK;
}

int session_answer_deferred(struct smx_session *s, uint32_t command_id, uint32_t seq,
                            uint32_t status)
{
        if (s->state == SMX_HEALTH_DOWN || s->state == SMX_HEALTH_CONNECTING)
                return SESS_OK;         /* that connection is gone: the SMSC re-sends */
        return answer(s, command_id | SMPP_RESP_BIT, status, seq);
}

void session_connecting(struct smx_session *s, uint64_t now_ms)
{
        (void)now_ms;
        s->close_wanted = 0;
        s->down_status = 0;
        s->down_reason[0] = 0;
        out_reset(s);
        s->enquire_ok = 1;
        s->enquire_out = 0;
        s->tlvs_ok = 1;
        s->throttle_ms = 0;
        s->peer_unbind = 0;
        s->unbind_why = NULL;
        s->unbind_status = 0;
        set_state(s, SMX_HEALTH_CONNECTING, 0, NULL);
}

static struct smx_bytes str_view(const char *p)
{
        struct smx_bytes b = { (const uint8_t *)p, 0 };
        if (p)
                b.len = (uint16_t)strnlen(p, 64);
        return b;
}

int session_connected(struct smx_session *s, uint64_t now_ms)
{
        static const uint32_t bind_ids[] = {
                [SMX_BIND_TRX] = SMPP_BIND_TRANSCEIVER,
                [SMX_BIND_TX] = SMPP_BIND_TRANSMITTER,
                [SMX_BIND_RX] = SMPP_BIND_RECEIVER,
        };
        set_state(s, SMX_HEALTH_BINDING, 0, NULL);
        s->last_rx_ms = now_ms;
        struct smx_pdu p;
        memset(&p, 0, sizeof p);
        uint32_t seq = session_alloc_seq(s);
        p.h.command_id = bind_ids[s->cfg->bind_mode <= SMX_BIND_RX ? s->cfg->bind_mode : 0];
        p.h.sequence_number = seq;
        p.u.bind.system_id = str_view(s->cfg->system_id);
        p.u.bind.password = str_view(s->cfg->password);
        p.u.bind.system_type = str_view(s->cfg->system_type);
        p.u.bind.interface_version = 0x34;
        ssize_t n = smx_pdu_encode(s->out + s->out_len, s->out_cap - s->out_len, &p, NULL, 0);
        if (n < 0 || seq == 0) {
                want_close(s, 0, "bind request could not be encoded");
                return -1;
        }
        s->out_len += (uint32_t)n;
        session_track(s, seq, SREQ_BIND, 0, 0, 0, now_ms + s->cfg->bind_timeout_ms);
        return 0;
}

static void throttle(struct smx_session *s, uint64_t now_ms)
{
        uint32_t base = s->cfg->throttle_base_ms ? s->cfg->throttle_base_ms : 100;
        uint32_t max = s->cfg->throttle_max_ms > base ? s->cfg->throttle_max_ms : base;
        s->throttle_ms = s->throttle_ms ? s->throttle_ms * 2 : base;
        if (s->throttle_ms > max)
                s->throttle_ms = max;
        s->throttle_until_ms = now_ms + s->throttle_ms;
        s->throttle_mark_seq = s->seq_next;
        s->cnt.throttled++;
        if (s->state == SMX_HEALTH_ACTIVE)
                set_state(s, SMX_HEALTH_THROTTLED, SMPP_ESME_RTHROTTLED, "throttled");
}

/* An accepted submit: one sent after the last pause ended (numbered from
 * throttle_mark_seq on, within half the sequence space: numbers wrap) shows
 * the SMSC takes MTs again, so the next throttle starts from the base pause
 * (an SMSC that throttled for a while an hour ago is not paused for seconds
 * at its next pushback); one sent before the throttle only halves it. */
static void throttle_relax(struct smx_session *s, uint32_t seq)
{
        uint32_t base = s->cfg->throttle_base_ms ? s->cfg->throttle_base_ms : 100;
        if (((seq - s->throttle_mark_seq) & SMPP_SEQ_MAX) < SMPP_SEQ_MAX / 2) {
                s->throttle_ms = 0;
                return;
        }
        s->throttle_ms /= 2;
        if (s->throttle_ms < base)
                s->throttle_ms = 0;
}

static int on_bind_resp(struct smx_session *s, struct smx_req *r, const struct smx_pdu *p)
{
        static const uint32_t resp_ids[] = {
                [SMX_BIND_TRX] = SMPP_BIND_TRANSCEIVER_RESP,
                [SMX_BIND_TX] = SMPP_BIND_TRANSMITTER_RESP,
                [SMX_BIND_RX] = SMPP_BIND_RECEIVER_RESP,
        };
        untrack(s, r);
        uint32_t want = resp_ids[s->cfg->bind_mode <= SMX_BIND_RX ? s->cfg->bind_mode : 0];
        if (p->h.command_id != want)                                    /* D-05 */
                return want_close(s, p->h.command_status, "wrong answer to bind");
        if (p->h.command_status != SMPP_ESME_ROK) {
                char why[48];
                snprintf(why, sizeof why, "bind refused: %s", smx_status_name(p->h.command_status));
                return want_close(s, p->h.command_status, why);
        }
        if ((p->tlv.present & SMX_TLV_SC_INTERFACE_VERSION) && p->tlv.sc_interface_version <= 0x33)
                s->tlvs_ok = 0;                                         /* C-15 */
        set_state(s, SMX_HEALTH_ACTIVE, 0, NULL);
        return SESS_OK;
}

/* The answer (command_id id, status st, message_id mid[0..mid_len) of a
 * submit_sm_resp) to the outstanding submit_sm r, numbered seq. Inlined
 * into its callers: the fast read of a plain submit_sm_resp (on_pdu) makes
 * no call of its own before the worker's callback (bench/README.md "CPU
 * per MT, issue 16"). */
static inline __attribute__((always_inline)) int on_submit_resp(struct smx_session *s, struct smx_req *r, uint32_t seq, uint32_t id,
                          uint32_t st, const uint8_t *mid, size_t mid_len, uint64_t now_ms)
{
        uint32_t ref = r->ref, gen = r->ref_gen;
        uint8_t part = r->part;
        untrack(s, r);
        if (id != SMPP_SUBMIT_SM_RESP && id != SMPP_GENERIC_NACK) {
                /* some other response on this number: the request's fate is
                 * unknown, resend it (same identity, R5) */
                s->cnt.bad_pdus++;
                s->ops->mt_lost(s->ctx, ref, gen, part, 0);
                return SESS_OK;
        }
        enum smx_status_class cls = smx_status_class_of(st);
        if (cls == SMX_STATUS_THROTTLED)
                throttle(s, now_ms);
        else if (cls == SMX_STATUS_OK && s->throttle_ms)
                throttle_relax(s, seq);
        if (id != SMPP_SUBMIT_SM_RESP)
                s->ops->mt_resp(s->ctx, ref, gen, part, st, NULL, 0, 0);
        else
                s->ops->mt_resp(s->ctx, ref, gen, part, st, mid, mid_len, 0);
        if (cls == SMX_STATUS_SESSION) {                        /* D-17 */
                static const char why[] = "SMSC says the bind is not usable";
                if (s->state == SMX_HEALTH_DRAINING)
                        return SESS_OK;   /* unbinding already: the others are awaited */
                if (s->n_submit > 0 && session_bound(s) && !s->close_wanted &&
                    session_unbind(s, now_ms) == SESS_OK && s->state == SMX_HEALTH_DRAINING) {
                        /* the SMSC may still answer the other submit_sm (an MT
                         * it accepted must not be resent): unbind, take their
                         * answers until its unbind_resp or unbind_timeout_ms */
                        s->unbind_why = why;
                        s->unbind_status = st;
                        return SESS_OK;
                }
                return want_close(s, st, why);
        }
        return SESS_OK;
}

static int on_response(struct smx_session *s, const struct smx_pdu *p, uint64_t now_ms)
{
        uint32_t seq = p->h.sequence_number, id = p->h.command_id;
        struct smx_req *r = &s->tab[seq & s->tab_mask];
        if (r->kind == SREQ_FREE || r->seq != seq) {                    /* E-01 */
                s->cnt.unknown_resp++;
                if (s->state == SMX_HEALTH_BINDING &&
                    (id & ~SMPP_RESP_BIT) >= SMPP_BIND_RECEIVER &&
                    ((id & ~SMPP_RESP_BIT) <= SMPP_BIND_TRANSMITTER ||
                     (id & ~SMPP_RESP_BIT) == SMPP_BIND_TRANSCEIVER))
                        return want_close(s, 0, "bind_resp with a wrong sequence number");
                return SESS_OK;
        }
        s->suspect = 0;
        switch (r->kind) {
        case SREQ_BIND:
                return on_bind_resp(s, r, p);
        case SREQ_SUBMIT:
                return on_submit_resp(s, r, seq, id, p->h.command_status,
                                      p->u.sm_resp.message_id.p, p->u.sm_resp.message_id.len,
                                      now_ms);
        case SREQ_TOMB: {
                uint32_t ref = r->ref, gen = r->ref_gen;
                uint8_t part = r->part;
                untrack(s, r);
                s->cnt.late_resp++;
                if (id == SMPP_SUBMIT_SM_RESP)
                        s->ops->mt_resp(s->ctx, ref, gen, part, p->h.command_status,
                                        p->u.sm_resp.message_id.p, p->u.sm_resp.message_id.len, 1);
                return SESS_OK;
        }
        case SREQ_ENQUIRE:
                untrack(s, r);
                s->enquire_out = 0;
                s->cnt.enquire_answered++;
                if (id == SMPP_GENERIC_NACK)                            /* D-15 */
                        s->enquire_ok = 0;
                return SESS_OK;
        case SREQ_UNBIND:
                untrack(s, r);
                return want_close(s, s->unbind_status, s->unbind_why ? s->unbind_why : "unbound");
        default:
                return SESS_OK;
        }
}

static int on_request(struct smx_session *s, const struct smx_pdu *p, uint64_t now_ms)
{
        uint32_t id = p->h.command_id, seq = p->h.sequence_number;
        switch (id) {
        case SMPP_ENQUIRE_LINK:                                         /* D-13 */
                return answer(s, SMPP_ENQUIRE_LINK_RESP, SMPP_ESME_ROK, seq);
        case SMPP_DELIVER_SM:
        case SMPP_DATA_SM: {
                uint32_t resp = id | SMPP_RESP_BIT;
                /* D-01; while our unbind (or the SMSC's) waits for its answer
                 * the DR/MO is still taken: the drain delivers it (a refusal
                 * could make the SMSC give it up) */
                if ((!session_bound(s) && s->state != SMX_HEALTH_DRAINING) || s->close_wanted)
                        return answer(s, resp, SMPP_ESME_RINVBNDSTS, seq);
                if (s->out_cap - s->out_len < 64)
                        return want_close(s, 0, "output buffer full");
                uint32_t st = s->ops->deliver(s->ctx, p);
                if (st == SMX_DELIVER_DEFER)
                        return SESS_OK;         /* session_answer_deferred later */
                return answer(s, resp, st, seq);
        }
        case SMPP_UNBIND:                                               /* D-09 */
                if (s->n_submit > 0 && !s->close_wanted && !s->peer_unbind &&
                    s->state != SMX_HEALTH_DRAINING) {
                        /* submits outstanding: the SMSC may answer them yet
                         * (accepted MTs must not be resent); unbind_resp once
                         * they are answered (peer_unbind_check) */
                        s->peer_unbind = 1;
                        s->peer_unbind_seq = seq;
                        s->peer_unbind_deadline_ms = now_ms + s->cfg->unbind_timeout_ms;
                        set_state(s, SMX_HEALTH_DRAINING, 0, "unbind from SMSC");
                        return SESS_OK;
                }
                if (answer(s, SMPP_UNBIND_RESP, SMPP_ESME_ROK, seq) != SESS_OK)
                        return SESS_CLOSE;
                return want_close(s, 0, "unbind from SMSC");
        case SMPP_ALERT_NOTIFICATION:
                return SESS_OK;
        case SMPP_OUTBIND:                                              /* D-03 */
                return answer(s, SMPP_GENERIC_NACK, SMPP_ESME_RINVCMDID, seq);
        default:
                if (smx_command_has_resp(id))                           /* D-03 */
                        return answer(s, id | SMPP_RESP_BIT, SMPP_ESME_RINVBNDSTS, seq);
                return answer(s, SMPP_GENERIC_NACK, SMPP_ESME_RINVCMDID, seq);
        }
}

/* The SMSC's deferred unbind (D-09): answer it now and close. */
static int peer_unbind_answer(struct smx_session *s)
{
        s->peer_unbind = 0;
        if (answer(s, SMPP_UNBIND_RESP, SMPP_ESME_ROK, s->peer_unbind_seq) != SESS_OK)
                return SESS_CLOSE;
        return want_close(s, 0, "unbind from SMSC");
}

static int on_pdu(struct smx_session *s, const uint8_t *buf, size_t len, uint64_t now_ms);

/* Whether p[0..n) holds no NUL: memchr(p, 0, n) == NULL, inlined for a
 * message id (n <= 64 in practice, any n works): 8-octet words, the last one
 * overlapping, tested with the classic has-a-zero-byte expression; reads
 * only p[0..n). The call into libc's memchr was ~2 % of the worker's samples
 * on the resp path (bench/README.md "CPU per MT, issue 16"). */
static inline int no_nul(const uint8_t *p, size_t n)
{
        const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
        if (n >= 8) {
                uint64_t v, acc = 0;
                size_t i = 0;
                for (; i + 8 < n; i += 8) {
                        memcpy(&v, p + i, 8);
                        acc |= (v - ones) & ~v & highs;
                }
                memcpy(&v, p + n - 8, 8);
                acc |= (v - ones) & ~v & highs;
                return acc == 0;
        }
        for (size_t i = 0; i < n; i++)
                if (!p[i])
                        return 0;
        return 1;
}

int session_on_pdu(struct smx_session *s, const uint8_t *buf, size_t len, uint64_t now_ms)
{
        int rc = on_pdu(s, buf, len, now_ms);
        if (__builtin_expect(s->peer_unbind, 0) && rc == SESS_OK && s->n_submit == 0)
                return peer_unbind_answer(s);
        return rc;
}

static int on_pdu(struct smx_session *s, const uint8_t *buf, size_t len, uint64_t now_ms)
{
        if (s->state == SMX_HEALTH_DOWN || s->state == SMX_HEALTH_CONNECTING)
                return SESS_OK;
        s->last_rx_ms = now_ms;
        /* The common PDU, read without the general decoder: a submit_sm_resp
         * whose terminated message_id ends the PDU (no TLVs), answering a
         * submit_sm outstanding under its number. smx_pdu_decode reads such a
         * PDU as SMX_PDU_OK with exactly these header fields and message_id
         * view, and on_response would take this same branch; anything else
         * (malformed, TLVs, a tombstone, an unknown number) goes the general
         * way below. */
        uint32_t max_pdu = s->cfg->max_pdu ? s->cfg->max_pdu : SMPP_DEFAULT_MAX_PDU;
        if (len > SMPP_HEADER_LEN && len <= SMPP_HEADER_LEN + SMPP_MESSAGE_ID_MAX &&
            len <= max_pdu && smx_get_u32(buf) == len &&
            smx_get_u32(buf + 4) == SMPP_SUBMIT_SM_RESP && buf[len - 1] == 0) {
                size_t id_len = len - SMPP_HEADER_LEN - 1;
                uint32_t seq = smx_get_u32(buf + 12);
                struct smx_req *r = &s->tab[seq & s->tab_mask];
                if (r->kind == SREQ_SUBMIT && r->seq == seq &&
                    no_nul(buf + SMPP_HEADER_LEN, id_len)) {
                        s->suspect = 0;
                        return on_submit_resp(s, r, seq, SMPP_SUBMIT_SM_RESP, smx_get_u32(buf + 8),
                                              buf + SMPP_HEADER_LEN, id_len, now_ms);
                }
        }
        struct smx_pdu p;
        struct smx_pdu_verdict v;
        struct smx_pdu_opts o = { .max_pdu = s->cfg->max_pdu, .strict = 0 };
        int rc = smx_pdu_decode(buf, len, &o, &p, &v);
        if (rc == SMX_PDU_OK) {
                if (p.h.command_id & SMPP_RESP_BIT)
                        return on_response(s, &p, now_ms);
                return on_request(s, &p, now_ms);
        }
        s->cnt.bad_pdus++;
        uint32_t seq = len >= 16 ? smx_get_u32(buf + 12) : 0;
        switch (v.action) {
        case SMX_ACT_RESP:
        case SMX_ACT_NACK:
                return answer(s, v.action == SMX_ACT_NACK ? SMPP_GENERIC_NACK : v.answer_id,
                              v.status, seq);
        case SMX_ACT_FAIL_REQUEST: {
                struct smx_req *r = &s->tab[seq & s->tab_mask];
                if (r->kind == SREQ_FREE || r->seq != seq)
                        return SESS_OK;
                if (r->kind == SREQ_SUBMIT) {
                        uint32_t ref = r->ref, gen = r->ref_gen;
                        uint8_t part = r->part;
                        untrack(s, r);
                        s->ops->mt_lost(s->ctx, ref, gen, part, 0);
                        return SESS_OK;
                }
                if (r->kind == SREQ_ENQUIRE) {
                        untrack(s, r);
                        s->enquire_out = 0;
                        return SESS_OK;
                }
                if (r->kind == SREQ_TOMB) {
                        untrack(s, r);
                        return SESS_OK;
                }
                untrack(s, r);
                return want_close(s, v.status, v.why ? v.why : "malformed response");
        }
        case SMX_ACT_CLOSE:
                return session_on_frame_error(s, buf, len, v.why ? v.why : "malformed PDU");
        case SMX_ACT_DROP:
        default:
                return SESS_OK;
        }
}

int session_on_frame_error(struct smx_session *s, const uint8_t *buf, size_t len,
                           const char *why)
{
        if (len >= SMPP_HEADER_LEN) {
                uint32_t id = smx_get_u32(buf + 4);
                if (id != SMPP_GENERIC_NACK)       /* never nack a nack */
                        answer(s, SMPP_GENERIC_NACK, SMPP_ESME_RINVCMDLEN, smx_get_u32(buf + 12));
        }
        return want_close(s, SMPP_ESME_RINVCMDLEN, why);
}

static int send_enquire(struct smx_session *s, uint64_t now_ms)
{
        uint32_t seq = session_alloc_seq(s);
        if (seq == 0 || put_header(s, SMPP_ENQUIRE_LINK, 0, seq) < 0)
                return SESS_OK;    /* retried on a later tick */
        session_track(s, seq, SREQ_ENQUIRE, 0, 0, 0, now_ms + s->cfg->enquire_link_timeout_ms);
        s->enquire_out = 1;
        s->cnt.enquire_sent++;
        return SESS_OK;
}

int session_tick(struct smx_session *s, uint64_t now_ms)
{
        if (s->state == SMX_HEALTH_DOWN || s->state == SMX_HEALTH_CONNECTING)
                return SESS_OK;
        if (s->close_wanted)
                return SESS_CLOSE;
        if (s->state == SMX_HEALTH_THROTTLED && now_ms >= s->throttle_until_ms)
                set_state(s, SMX_HEALTH_ACTIVE, 0, NULL);
        if (now_ms >= s->next_deadline_ms) {
                uint64_t next = UINT64_MAX;
                for (uint32_t i = 0; i <= s->tab_mask; i++) {
                        struct smx_req *r = &s->tab[i];
                        if (r->kind == SREQ_FREE)
                                continue;
                        if (r->deadline_ms > now_ms) {
                                if (r->deadline_ms < next)
                                        next = r->deadline_ms;
                                continue;
                        }
                        switch (r->kind) {
                        case SREQ_BIND:                                 /* D-07 */
                                untrack(s, r);
                                return want_close(s, 0, "no bind_resp");
                        case SREQ_ENQUIRE:                              /* D-15 */
                                untrack(s, r);
                                return want_close(s, 0, "enquire_link unanswered");
                        case SREQ_UNBIND:                               /* D-11 */
                                untrack(s, r);
                                return want_close(s, s->unbind_status, s->unbind_why
                                                  ? s->unbind_why : "unbind unanswered");
                        case SREQ_TOMB:
                                untrack(s, r);
                                break;
                        case SREQ_SUBMIT: {
                                /* its fate is unknown: resend elsewhere, keep a
                                 * tombstone for a late answer, and probe the link
                                 * before routing more here */
                                uint32_t ref = r->ref, gen = r->ref_gen;
                                uint8_t part = r->part;
                                s->n_submit--;
                                s->n_other++;
                                r->kind = SREQ_TOMB;
                                r->deadline_ms = now_ms + s->cfg->response_timeout_ms;
                                if (r->deadline_ms < next)
                                        next = r->deadline_ms;
                                /* with enquire_link refused (D-15) no probe can
                                 * clear the doubt: keep routing */
                                s->suspect = s->enquire_ok;
                                s->ops->mt_lost(s->ctx, ref, gen, part, 1);
                                break;
                        }
                        default:
                                break;
                        }
                }
                s->next_deadline_ms = next;
        }
        if (s->peer_unbind && (s->n_submit == 0 || now_ms >= s->peer_unbind_deadline_ms))
                return peer_unbind_answer(s);   /* still outstanding: handed back at the close */
        if (session_bound(s) && s->enquire_ok && !s->enquire_out &&
            (s->suspect || now_ms - s->last_rx_ms >= s->cfg->enquire_link_interval_ms))
                return send_enquire(s, now_ms);
        return SESS_OK;
}

void session_closed(struct smx_session *s, uint64_t now_ms, uint32_t status, const char *reason)
{
        (void)now_ms;
        if (s->state == SMX_HEALTH_DOWN)
                return;
        for (uint32_t i = 0; i <= s->tab_mask; i++) {
                struct smx_req *r = &s->tab[i];
                if (r->kind == SREQ_SUBMIT) {
                        uint32_t ref = r->ref, gen = r->ref_gen;
                        uint8_t part = r->part;
                        untrack(s, r);
                        s->ops->mt_lost(s->ctx, ref, gen, part, 0);
                } else {
                        untrack(s, r);
                }
        }
        s->n_submit = s->n_other = 0;
        s->next_deadline_ms = UINT64_MAX;
        s->enquire_out = 0;
        s->suspect = 0;
        s->peer_unbind = 0;
        s->unbind_why = NULL;
        s->unbind_status = 0;
        out_reset(s);
        s->close_wanted = 0;
        set_state(s, SMX_HEALTH_DOWN, status, reason ? reason : "closed");
}

int session_unbind(struct smx_session *s, uint64_t now_ms)
{
        if (s->state == SMX_HEALTH_DOWN || s->state == SMX_HEALTH_DRAINING)
                return s->close_wanted ? SESS_CLOSE : SESS_OK;
        if (!session_bound(s) || s->close_wanted)
                return want_close(s, 0, "shutdown");
        uint32_t seq = session_alloc_seq(s);
        if (seq == 0 || put_header(s, SMPP_UNBIND, 0, seq) < 0)
                return want_close(s, 0, "shutdown");
        session_track(s, seq, SREQ_UNBIND, 0, 0, 0, now_ms + s->cfg->unbind_timeout_ms);
        set_state(s, SMX_HEALTH_DRAINING, 0, "unbinding");
        return SESS_OK;
}

size_t session_out_take(struct smx_session *s, const uint8_t **p)
{
        if (!s->flight) {
                if (s->out_len == 0)
                        return 0;
                s->flight = s->out;
                s->flight_len = s->out_len;
                s->flight_off = 0;
                s->out = s->spare;
                s->spare = NULL;
                s->out_len = 0;
        }
        *p = s->flight + s->flight_off;
        return s->flight_len - s->flight_off;
}

void session_out_consumed(struct smx_session *s, size_t n)
{
        if (!s->flight)
                return;
        if (n < (size_t)(s->flight_len - s->flight_off)) {
                s->flight_off += (uint32_t)n;   /* short send: the rest goes next */
                return;
        }
        s->spare = s->flight;
        s->flight = NULL;
        s->flight_len = s->flight_off = 0;
}

void session_abandon(struct smx_session *s, uint64_t now_ms)
{
        if (s->n_submit == 0)
                return;
        for (uint32_t i = 0; i <= s->tab_mask; i++) {
                struct smx_req *r = &s->tab[i];
                if (r->kind != SREQ_SUBMIT)
                        continue;
                s->n_submit--;
                s->n_other++;
                r->kind = SREQ_TOMB;
                r->deadline_ms = now_ms + s->cfg->response_timeout_ms;
                if (r->deadline_ms < s->next_deadline_ms)
                        s->next_deadline_ms = r->deadline_ms;
                s->ops->mt_lost(s->ctx, r->ref, r->ref_gen, r->part, 0);
        }
}
