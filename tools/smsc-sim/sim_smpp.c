/* What the simulated service does with each PDU an ESME sends: binds with
 * credential checks, submit_sm with faults, dedup by identity (R5) and DR
 * scheduling, enquire_link, unbind, answers to unsupported operations (R7),
 * and deliver_sm_resp bookkeeping. Runs on the engine thread only. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

int sim_session_is_receiver(const struct sim_sess *ss)
{
        return ss->state == SIM_SESS_RX || ss->state == SIM_SESS_TRX;
}

static void send_header_only(struct smsc_sim *s, struct sim_sess *ss, uint32_t id, uint32_t status,
                             uint32_t seq)
{
        uint8_t *w = sim_out_reserve(s, ss, SMPP_HEADER_LEN);
        if (!w)
                return;
        ssize_t n = smx_pdu_encode_header_only(w, SMPP_HEADER_LEN, id, status, seq);
        if (n > 0)
                sim_out_commit(s, ss, (size_t)n);
        if (id == SMPP_GENERIC_NACK)
                s->smsc[ss->smsc].c.generic_nacks_sent++;
}

/* Answer a request with a header-only *_resp, or the empty-id form where
 * the response carries a message_id (deliver_sm_resp, data_sm_resp). */
static void send_status_resp(struct smsc_sim *s, struct sim_sess *ss, uint32_t resp_id,
                             uint32_t status, uint32_t seq)
{
        if (resp_id == SMPP_DELIVER_SM_RESP || resp_id == SMPP_DATA_SM_RESP) {
                uint8_t *w = sim_out_reserve(s, ss, SMPP_HEADER_LEN + 1);
                if (!w)
                        return;
                ssize_t n = smx_pdu_encode_empty_resp(w, SMPP_HEADER_LEN + 1, resp_id, status, seq);
                if (n > 0)
                        sim_out_commit(s, ss, (size_t)n);
                return;
        }
        send_header_only(s, ss, resp_id, status, seq);
}

static void rx_add(struct smsc_sim *s, struct sim_sess *ss)
{
        if (ss->rx_pos >= 0)
                return;
        ss->rx_pos = s->n_rx;
        s->rx[s->n_rx++] = (int)(ss - s->sess);
}

static void view_copy(char *dst, size_t cap, struct smx_bytes v)
{
        size_t n = v.len < cap - 1 ? v.len : cap - 1;
        if (n)
                memcpy(dst, v.p, n);
        dst[n] = 0;
}

static int view_eq(struct smx_bytes v, const char *s)
{
        size_t n = strlen(s);
        return v.len == n && (n == 0 || memcmp(v.p, s, n) == 0);
}

static int send_bind_resp(struct smsc_sim *s, struct sim_sess *ss, const struct sim_smsc *m,
                          uint32_t resp_id, uint32_t seq)
{
        struct smx_pdu r;
        memset(&r, 0, sizeof(r));
        r.h.command_id = resp_id;
        r.h.sequence_number = seq;
        size_t nl = strlen(m->name);
        if (nl > SMPP_SYSTEM_ID_MAX - 1)
                nl = SMPP_SYSTEM_ID_MAX - 1;
        r.u.bind_resp.system_id.p = (const uint8_t *)m->name;
        r.u.bind_resp.system_id.len = (uint16_t)nl;
        if (m->k.send_interface_version) {
                r.tlv.present = SMX_TLV_SC_INTERFACE_VERSION;
                r.tlv.sc_interface_version = SMPP_VERSION_34;
        }
        uint8_t *w = sim_out_reserve(s, ss, 128);
        if (!w)
                return -ENOMEM;
        ssize_t n = smx_pdu_encode(w, 128, &r, NULL, 0);
        if (n <= 0)
                return -EINVAL;
        sim_out_commit(s, ss, (size_t)n);
        return 0;
}

static void on_bind(struct smsc_sim *s, struct sim_sess *ss, const struct smx_pdu *p)
{
        struct sim_smsc *m = &s->smsc[ss->smsc];
        uint32_t cmd = p->h.command_id, seq = p->h.sequence_number;
        uint32_t resp_id = cmd | SMPP_RESP_BIT;
        uint32_t status = SMPP_ESME_ROK;
        m->c.bind_pdus++;
        if (ss->state != SIM_SESS_OPEN)
                status = SMPP_ESME_RALYBND;
        else if (m->f.refuse_bind)
                status = m->f.refuse_bind;
        else if (!view_eq(p->u.bind.system_id, m->k.system_id))
                status = SMPP_ESME_RINVSYSID;
        else if (!view_eq(p->u.bind.password, m->k.password))
                status = SMPP_ESME_RINVPASWD;
        /* a dropped bind_resp: the service did (or refused) the bind, the
         * ESME never hears of it */
        int drop = sim_resp_drop(m, cmd);
        if (status != SMPP_ESME_ROK) {
                m->c.binds_refused++;
                if (!drop)
                        send_header_only(s, ss, resp_id, status, seq);
                return;
        }
        if (!drop && send_bind_resp(s, ss, m, resp_id, seq) < 0)
                return;
        m->c.binds_ok++;
        ss->state = cmd == SMPP_BIND_TRANSMITTER ? SIM_SESS_TX
                  : cmd == SMPP_BIND_RECEIVER ? SIM_SESS_RX : SIM_SESS_TRX;
        if (sim_session_is_receiver(ss))
                rx_add(s, ss);
        if (m->f.hostile_case != -1)
                sim_hostile_send(s, ss, m->f.hostile_case);
        if (sim_session_is_receiver(ss) && s->n_pending)
                sim_on_timer_dlv_retry(s);
}

/* Segment number of an MT part: UDH concat IE, else SAR TLVs, else 1. */
static uint16_t mt_segment(const struct smx_pdu *p)
{
        const struct smx_bytes *sm = &p->u.sm.short_message;
        if ((p->u.sm.esm_class & SMPP_ESM_UDHI) && sm->len > 0) {
                size_t udhl = sm->p[0];
                if (udhl + 1 <= sm->len) {
                        size_t i = 1;
                        uint16_t seg = 0;
                        while (i + 2 <= udhl + 1) {
                                uint8_t iei = sm->p[i], l = sm->p[i + 1];
                                if (i + 2 + l > udhl + 1)
                                        break;
                                const uint8_t *d = sm->p + i + 2;
                                if (iei == 0x00 && l == 3 && d[1] && d[2] && d[2] <= d[1])
                                        seg = d[2];
                                else if (iei == 0x08 && l == 4 && d[2] && d[3] && d[3] <= d[2])
                                        seg = d[3];
                                i += 2 + (size_t)l;
                        }
                        if (seg)
                                return seg;
                }
        }
        if ((p->tlv.present & SMX_TLV_SAR_SEGMENT_SEQNUM) && p->tlv.sar_segment_seqnum)
                return p->tlv.sar_segment_seqnum;
        return 1;
}

static void text20(char *out, const struct smx_pdu *p)
{
        struct smx_bytes sm = p->u.sm.short_message;
        if (!sm.len && (p->tlv.present & SMX_TLV_MESSAGE_PAYLOAD))
                sm = p->tlv.message_payload;
        size_t off = 0;
        if ((p->u.sm.esm_class & SMPP_ESM_UDHI) && sm.len && (size_t)sm.p[0] + 1 <= sm.len)
                off = (size_t)sm.p[0] + 1;
        size_t n = 0;
        for (size_t i = off; i < sm.len && n < 20; i++) {
                uint8_t c = sm.p[i];
                if (p->u.sm.data_coding == SMPP_DCS_UCS2 && c == 0)
                        continue;
                out[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '.';
        }
        out[n] = 0;
}

/* Whether the SMSC's rate limit lets one more submit through. */
static int throttle_blocks(struct smsc_sim *s, struct sim_smsc *m)
{
        if (!m->f.throttled)
                return 0;
        if (m->f.throttle_tps <= 0)
                return 1;
        uint64_t now = sim_now_ns();
        double add = (double)(now - m->f.tps_last_ns) / 1e9 * m->f.throttle_tps;
        m->f.tps_last_ns = now;
        m->f.tps_tokens += add;
        if (m->f.tps_tokens > m->f.throttle_tps)
                m->f.tps_tokens = m->f.throttle_tps;
        if (m->f.tps_tokens >= 1.0) {
                m->f.tps_tokens -= 1.0;
                return 0;
        }
        (void)s;
        return 1;
}

static void send_submit_resp(struct smsc_sim *s, struct sim_sess *ss, uint32_t seq,
                             const char *msgid, size_t idlen, double latency_ms)
{
        struct smx_pdu r;
        r.h.command_id = SMPP_SUBMIT_SM_RESP;
        r.h.command_status = SMPP_ESME_ROK;
        r.h.sequence_number = seq;
        r.u.sm_resp.message_id.p = (const uint8_t *)msgid;
        r.u.sm_resp.message_id.len = (uint16_t)idlen;
        r.tlv.present = 0;
        size_t cap = SMPP_HEADER_LEN + SMPP_MESSAGE_ID_MAX;
        if (latency_ms > 0) {
                /* what was drawn, so a test can tell the knob's distribution
                 * from the wall-clock time a loaded machine adds */
                struct sim_counts *c = &s->smsc[ss->smsc].c;
                uint64_t us = (uint64_t)(latency_ms * 1e3);
                c->resp_delayed++;
                c->resp_delay_us_total += us;
                if (us > c->resp_delay_us_max)
                        c->resp_delay_us_max = us;
                uint8_t *buf = malloc(cap);
                if (!buf)
                        return;
                ssize_t n = smx_pdu_encode(buf, cap, &r, NULL, 0);
                if (n <= 0) {
                        free(buf);
                        return;
                }
                sim_timer_add(s, sim_now_ns() + (uint64_t)(latency_ms * 1e6), SIM_T_RESP, ss->id, buf,
                              (uint64_t)n);
                return;
        }
        uint8_t *w = sim_out_reserve(s, ss, cap);
        if (!w)
                return;
        ssize_t n = smx_pdu_encode(w, cap, &r, NULL, 0);
        if (n > 0)
                sim_out_commit(s, ss, (size_t)n);
}

void sim_on_timer_resp(struct smsc_sim *s, struct sim_timer *t)
{
        struct sim_sess *ss = sim_sess_by_id(s, t->sess_id);
        if (ss && ss->state != SIM_SESS_CLOSING && !s->smsc[ss->smsc].f.stalled)
                sim_out_append(s, ss, t->p, (size_t)t->a);
        free(t->p);
}

static void reject_submit(struct smsc_sim *s, struct sim_sess *ss, uint32_t status, uint32_t seq)
{
        s->smsc[ss->smsc].c.submit_rejected++;
        send_header_only(s, ss, SMPP_SUBMIT_SM_RESP, status, seq);
}

static void on_submit(struct smsc_sim *s, struct sim_sess *ss, const struct smx_pdu *p)
{
        struct sim_smsc *m = &s->smsc[ss->smsc];
        uint32_t seq = p->h.sequence_number;
        if (ss->state != SIM_SESS_TX && ss->state != SIM_SESS_TRX) {
                reject_submit(s, ss, SMPP_ESME_RINVBNDSTS, seq);
                return;
        }
        if (throttle_blocks(s, m)) {
                reject_submit(s, ss, SMPP_ESME_RTHROTTLED, seq);
                return;
        }
        if (m->f.queue_full) {
                reject_submit(s, ss, SMPP_ESME_RMSGQFUL, seq);
                return;
        }
        if (!m->k.dcs_ok[p->u.sm.data_coding]) {
                reject_submit(s, ss, SMPP_ESME_RINVDCS, seq);
                return;
        }
        uint8_t regdel = p->u.sm.registered_delivery & SMPP_REGDEL_RECEIPT_MASK;
        struct sim_mt *mt = NULL;
        char msgid_buf[SMPP_MESSAGE_ID_MAX];
        const char *msgid = msgid_buf;
        size_t idlen;
        int duplicate = 0;

        if (p->tlv.present & SMX_TLV_SMX_MSG_IDENTITY) {
                struct smx_bytes id = p->tlv.smx_msg_identity;
                uint16_t seg = mt_segment(p);
                size_t n = id.len > SMPP_SMX_IDENTITY_MAX ? SMPP_SMX_IDENTITY_MAX : id.len;
                mt = sim_mt_find(s, id.p, n, seg);
                if (mt) {
                        duplicate = 1;
                        mt->resubmits++;
                } else if (!(mt = sim_mt_add_identity(s, id.p, n, seg))) {
                        reject_submit(s, ss, SMPP_ESME_RSYSERR, seq);
                        return;
                }
        } else if (regdel) {
                mt = sim_mt_add_anon(s);
                if (!mt) {
                        reject_submit(s, ss, SMPP_ESME_RSYSERR, seq);
                        return;
                }
        }

        m->c.submit_accepted++;
        if (m->f.killed) {
                m->c.accepted_while_killed++;
                sim_violation(s, "R4", "accepted_while_killed", m->name, "submit_sm seq %u", seq);
        }
        if (duplicate) {
                msgid = mt->msgid;
                idlen = strlen(mt->msgid);
                m->c.service_duplicates++;
                if (!m->k.service_dedup) {
                        m->c.handset_delivered++;
                        m->c.handset_duplicates++;
                        sim_violation(s, "R5", "handset_duplicate", m->name,
                                      "message %s delivered %u times", mt->msgid, mt->resubmits + 1);
                }
        } else {
                idlen = sim_msgid_format(&m->k, ++s->msgid_serial, msgid_buf);
                m->c.handset_delivered++;
                if (mt) {
                        memcpy(mt->msgid, msgid_buf, idlen + 1);
                        mt->msgid_serial = s->msgid_serial;
                        mt->smsc = m->index;
                        mt->submit_ns = sim_now_ns();
                        view_copy(mt->src, sizeof(mt->src), p->u.sm.source_addr);
                        view_copy(mt->dst, sizeof(mt->dst), p->u.sm.destination_addr);
                        text20(mt->text20, p);
                }
        }

        double latency = 0;
        if (m->k.resp_latency_ms.hi > 0 || m->k.resp_latency_ms.exp)
                latency = sim_range_draw(s, &m->k.resp_latency_ms);
        if (!duplicate && regdel) {
                int before = m->k.dr_before_resp_prob > 0 && sim_rand(s) < m->k.dr_before_resp_prob;
                sim_dr_schedule(s, mt, before, regdel);
                if (before && latency < 50)
                        latency = 50;
        }
        if (sim_resp_drop(m, SMPP_SUBMIT_SM))
                return;
        send_submit_resp(s, ss, seq, msgid, idlen, latency);
}

/* A PDU the codec refused: answered as its verdict says. A submit_sm's
 * answer here is a rejection, never dropped (drop-resp submit_sm drops the
 * answers of accepted ones); other kinds' answers may be. */
static void on_refused(struct smsc_sim *s, struct sim_sess *ss, const uint8_t *buf, size_t len,
                       const struct smx_pdu_verdict *v)
{
        struct sim_smsc *m = &s->smsc[ss->smsc];
        uint32_t seq = len >= SMPP_HEADER_LEN ? smx_get_u32(buf + 12) : 0;
        uint32_t cmd = len >= 8 ? smx_get_u32(buf + 4) : 0;
        int answered = v->action == SMX_ACT_RESP || v->action == SMX_ACT_NACK || v->action == SMX_ACT_CLOSE;
        if (cmd == SMPP_SUBMIT_SM) {
                m->c.submit_received++;
                if (answered)
                        m->c.submit_rejected++;
                else
                        m->c.submit_unanswered++;
        }
        int drop = answered && cmd != SMPP_SUBMIT_SM && sim_resp_drop(m, cmd);
        if (v->action == SMX_ACT_CLOSE) {
                ss->state = SIM_SESS_CLOSING;
                sim_out_commit(s, ss, 0);   /* closed once the output is written */
        }
        if (drop || !answered)
                return;
        if (v->action == SMX_ACT_RESP)
                send_status_resp(s, ss, v->answer_id, v->status, seq);
        else
                send_header_only(s, ss, SMPP_GENERIC_NACK,
                                 v->action == SMX_ACT_CLOSE && !v->status ? SMPP_ESME_RINVCMDLEN : v->status, seq);
}

void sim_on_pdu(struct smsc_sim *s, struct sim_sess *ss, const uint8_t *buf, size_t len)
{
        struct sim_smsc *m = &s->smsc[ss->smsc];
        uint32_t cmd = smx_get_u32(buf + 4);
        uint32_t seq = smx_get_u32(buf + 12);
        if (m->f.stalled) {
                /* TCP open, nothing answered */
                if (cmd == SMPP_SUBMIT_SM) {
                        m->c.submit_received++;
                        m->c.submit_unanswered++;
                }
                return;
        }
        if (cmd & SMPP_RESP_BIT) {
                uint32_t status = smx_get_u32(buf + 8);
                if (cmd == SMPP_DELIVER_SM_RESP || cmd == SMPP_GENERIC_NACK)
                        sim_on_deliver_resp(s, ss, seq, status);
                /* enquire_link_resp, unbind_resp and stray responses need nothing */
                return;
        }
        struct smx_pdu p;
        struct smx_pdu_verdict v;
        if (smx_pdu_decode(buf, len, &s->popts, &p, &v) < 0) {
                on_refused(s, ss, buf, len, &v);
                return;
        }
        switch (cmd) {
        case SMPP_SUBMIT_SM:
                m->c.submit_received++;
                on_submit(s, ss, &p);
                break;
        case SMPP_ENQUIRE_LINK:
                m->c.enquire_links++;
                if (!sim_resp_drop(m, cmd))
                        send_header_only(s, ss, SMPP_ENQUIRE_LINK_RESP, SMPP_ESME_ROK, seq);
                break;
        case SMPP_BIND_TRANSMITTER:
        case SMPP_BIND_RECEIVER:
        case SMPP_BIND_TRANSCEIVER:
                on_bind(s, ss, &p);
                break;
        case SMPP_UNBIND:
                m->c.unbinds++;
                if (!sim_resp_drop(m, cmd))
                        send_header_only(s, ss, SMPP_UNBIND_RESP, SMPP_ESME_ROK, seq);
                ss->state = SIM_SESS_CLOSING;
                if (ss->tls)
                        ss->tls_fin = SIM_FIN_NOTIFY;   /* TLS: close_notify, FIN, read theirs */
                sim_out_commit(s, ss, 0);   /* closed once the output is written */
                break;
        case SMPP_DELIVER_SM:
                /* an ESME may not send deliver_sm to the service */
                m->c.other_pdus++;
                if (!sim_resp_drop(m, cmd))
                        send_status_resp(s, ss, SMPP_DELIVER_SM_RESP, SMPP_ESME_RINVBNDSTS, seq);
                break;
        case SMPP_QUERY_SM:
        case SMPP_CANCEL_SM:
        case SMPP_REPLACE_SM:
        case SMPP_SUBMIT_MULTI:
                /* R7: not supported by the service; answered by generic_nack
                 * or, with unsupported_reply=resp, by their own *_resp */
                m->c.other_pdus++;
                if (sim_resp_drop(m, cmd))
                        break;
                if (m->k.unsupported_resp)
                        send_header_only(s, ss, cmd | SMPP_RESP_BIT, SMPP_ESME_RINVCMDID, seq);
                else
                        send_header_only(s, ss, SMPP_GENERIC_NACK, SMPP_ESME_RINVCMDID, seq);
                break;
        default:
                /* data_sm (not in R7) and anything else the service lacks */
                m->c.other_pdus++;
                if (!sim_resp_drop(m, cmd))
                        send_header_only(s, ss, SMPP_GENERIC_NACK, SMPP_ESME_RINVCMDID, seq);
                break;
        }
}
