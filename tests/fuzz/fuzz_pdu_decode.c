/* libFuzzer target: one SMPP PDU per input.
 *
 * Decodes the input leniently and strictly and checks what the decoder
 * promises: no read outside the frame (ASan), every view inside the frame,
 * a verdict that never answers a response and never nacks with a resp id.
 * A PDU that decoded is re-encoded (its unknown TLVs passed back as raw
 * TLVs); whatever the encoder accepts must decode again with the same known
 * TLVs and re-encode to the same bytes. Strict mode may refuse only what
 * lenient mode flags. */
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

/* Tags smx_pdu_decode decodes itself; the rest travel as raw TLVs. */
static int known_tag(uint16_t tag)
{
        switch (tag) {
        case SMPP_TAG_RECEIPTED_MESSAGE_ID: case SMPP_TAG_MESSAGE_STATE:
        case SMPP_TAG_NETWORK_ERROR_CODE: case SMPP_TAG_MESSAGE_PAYLOAD:
        case SMPP_TAG_SAR_MSG_REF_NUM: case SMPP_TAG_SAR_TOTAL_SEGMENTS:
        case SMPP_TAG_SAR_SEGMENT_SEQNUM: case SMPP_TAG_SC_INTERFACE_VERSION:
        case SMPP_TAG_USER_MESSAGE_REFERENCE: case SMPP_TAG_SOURCE_PORT:
        case SMPP_TAG_DESTINATION_PORT: case SMPP_TAG_PAYLOAD_TYPE:
        case SMPP_TAG_MORE_MESSAGES_TO_SEND: case SMPP_TAG_DELIVERY_FAILURE_REASON:
        case SMPP_TAG_SMX_MSG_IDENTITY: case SMPP_TAG_ADDITIONAL_STATUS_INFO_TEXT:
        case SMPP_TAG_CONGESTION_STATE: case SMPP_TAG_MS_AVAILABILITY_STATUS:
                return 1;
        default:
                return 0;
        }
}

/* The unknown TLVs of p, walked with smx_tlv_next, as raw TLVs. */
static size_t unknown_tlvs(const struct smx_pdu *p, struct smx_tlv_raw *out, size_t cap)
{
        uint32_t off = 0;
        uint16_t tag;
        struct smx_bytes v;
        size_t n = 0;

        while (smx_tlv_next(p->tlv.tlv_start, p->tlv.tlv_len, &off, &tag, &v) == 1)
                if (!known_tag(tag) && n < cap)
                        out[n++] = (struct smx_tlv_raw){ tag, v.len, v.p };
        return n;
}

static int one(const uint8_t *data, size_t size, int strict, uint32_t *flags)
{
        struct smx_pdu_opts o = { 0, (uint8_t)strict };
        struct smx_pdu p, q;
        struct smx_pdu_verdict v;
        struct smx_tlv_raw extra[64];
        size_t n_extra;
        ssize_t n1, n2;
        int rc = smx_pdu_decode(data, size, &o, &p, &v);

        if (rc != SMX_PDU_OK) {
                check_verdict(&p, &v, rc);
                return rc;
        }
        *flags = p.flags;
        must(p.h.command_length >= SMPP_HEADER_LEN && p.h.command_length <= size);
        check_views(&p, data);
        n_extra = unknown_tlvs(&p, extra, 64);
        must(n_extra <= p.tlv.unknown);
        n1 = smx_pdu_encode(enc1, sizeof enc1, &p, extra, n_extra);
        if (n1 < 0)
                return rc;
        rc = smx_pdu_decode(enc1, (size_t)n1, &o, &q, &v);
        must(rc == SMX_PDU_OK);
        must(q.h.command_id == p.h.command_id && q.h.sequence_number == p.h.sequence_number);
        must(q.tlv.present == p.tlv.present);
        n_extra = unknown_tlvs(&q, extra, 64);
        n2 = smx_pdu_encode(enc2, sizeof enc2, &q, extra, n_extra);
        must(n2 == n1 && memcmp(enc1, enc2, (size_t)n1) == 0);
        return SMX_PDU_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char esc[64];
        uint32_t lenient_flags = 0, strict_flags = 0;
        int rl = one(data, size, 0, &lenient_flags);
        int rs = one(data, size, 1, &strict_flags);

        /* strict refuses only what lenient flags: strict OK => lenient OK, same flags */
        if (rs == SMX_PDU_OK)
                must(rl == SMX_PDU_OK && lenient_flags == strict_flags);
        smx_frame_peek(data, size, 0);
        if (smx_frame_sniff(data, size))
                smx_escape(data, size < 8 ? size : 8, esc, sizeof esc);
        return 0;
}
