/* libFuzzer target: one SMPP PDU per input.
 *
 * Decodes the input leniently and strictly and checks what the decoder
 * promises: no read outside the frame (ASan), every view inside the frame,
 * a verdict that never answers a response and never nacks with a resp id.
 * A PDU that decoded is re-encoded; whatever the encoder accepts must decode
 * again and re-encode to the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "pdu/pdu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t enc1[70000], enc2[70000];

static void must(int cond)
{
        if (!cond)
                abort();
}

static void view_inside(struct smx_bytes v, const uint8_t *lo, const uint8_t *hi)
{
        if (v.len)
                must(v.p >= lo && v.p + v.len <= hi);
}

static void check_views(const struct smx_pdu *p, const uint8_t *buf)
{
        const uint8_t *hi = buf + p->h.command_length;
        const struct smx_tlvs *t = &p->tlv;

        switch (p->h.command_id) {
        case SMPP_SUBMIT_SM:
        case SMPP_DELIVER_SM:
        case SMPP_DATA_SM:
        case SMPP_ALERT_NOTIFICATION:
                view_inside(p->u.sm.service_type, buf, hi);
                view_inside(p->u.sm.source_addr, buf, hi);
                view_inside(p->u.sm.destination_addr, buf, hi);
                view_inside(p->u.sm.schedule_delivery_time, buf, hi);
                view_inside(p->u.sm.validity_period, buf, hi);
                view_inside(p->u.sm.short_message, buf, hi);
                must(p->u.sm.source_addr.len < SMPP_DATA_SM_ADDR_MAX);
                break;
        case SMPP_SUBMIT_SM_RESP:
        case SMPP_DELIVER_SM_RESP:
        case SMPP_DATA_SM_RESP:
                view_inside(p->u.sm_resp.message_id, buf, hi);
                break;
        case SMPP_BIND_RECEIVER_RESP:
        case SMPP_BIND_TRANSMITTER_RESP:
        case SMPP_BIND_TRANSCEIVER_RESP:
                view_inside(p->u.bind_resp.system_id, buf, hi);
                break;
        default:
                break;
        }
        if (t->present & SMX_TLV_RECEIPTED_MESSAGE_ID)
                view_inside(t->receipted_message_id, buf, hi);
        if (t->present & SMX_TLV_MESSAGE_PAYLOAD)
                view_inside(t->message_payload, buf, hi);
        if (t->present & SMX_TLV_SMX_MSG_IDENTITY)
                view_inside(t->smx_msg_identity, buf, hi);
        must(t->tlv_len == 0 || (t->tlv_start >= buf && t->tlv_start + t->tlv_len <= hi));
}

static void check_verdict(const struct smx_pdu *p, const struct smx_pdu_verdict *v, int rc)
{
        uint32_t id = p->h.command_id;

        must(rc < 0);
        must(v->why != NULL);
        switch (v->action) {
        case SMX_ACT_RESP:
                must(!(id & SMPP_RESP_BIT));
                must(smx_command_has_resp(id));
                must(v->answer_id == (id | SMPP_RESP_BIT));
                break;
        case SMX_ACT_NACK:
                must(!(id & SMPP_RESP_BIT));
                must(v->answer_id == SMPP_GENERIC_NACK);
                break;
        case SMX_ACT_FAIL_REQUEST:
                must(id & SMPP_RESP_BIT);
                break;
        case SMX_ACT_DROP:
        case SMX_ACT_CLOSE:
                break;
        default:
                abort();
        }
}

static void one(const uint8_t *data, size_t size, int strict)
{
        struct smx_pdu_opts o = { 0, (uint8_t)strict };
        struct smx_pdu p, q;
        struct smx_pdu_verdict v;
        ssize_t n1, n2;
        int rc = smx_pdu_decode(data, size, &o, &p, &v);

        if (rc != SMX_PDU_OK) {
                check_verdict(&p, &v, rc);
                return;
        }
        must(p.h.command_length >= SMPP_HEADER_LEN && p.h.command_length <= size);
        check_views(&p, data);
        n1 = smx_pdu_encode(enc1, sizeof enc1, &p, NULL, 0);
        if (n1 < 0)
                return;
        rc = smx_pdu_decode(enc1, (size_t)n1, &o, &q, &v);
        must(rc == SMX_PDU_OK);
        must(q.h.command_id == p.h.command_id && q.h.sequence_number == p.h.sequence_number);
        n2 = smx_pdu_encode(enc2, sizeof enc2, &q, NULL, 0);
        must(n2 == n1 && memcmp(enc1, enc2, (size_t)n1) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char esc[64];

        one(data, size, 0);
        one(data, size, 1);
        smx_frame_peek(data, size, 0);
        if (smx_frame_sniff(data, size))
                smx_escape(data, size < 8 ? size : 8, esc, sizeof esc);
        return 0;
}
