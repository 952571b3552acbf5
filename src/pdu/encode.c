/* SMPP 3.4 PDU encoder: struct smx_pdu -> bytes in the caller's buffer.
 *
 * Two passes over a handful of lengths, one pass over the bytes: first the
 * exact PDU size is computed while every field is checked against its SMPP
 * maximum (a C-Octet String may not contain a NUL and must fit max-1
 * characters, a time is 0 or 16 characters, short_message at most 254
 * octets), then, if the buffer is large enough, the PDU is written straight
 * into it with no further checks. Nothing is written when the PDU is refused.
 *
 * Known TLVs go out in SMX_TLV_* bit order for each bit in tlv.present, then
 * the caller's raw TLVs. Error responses follow 3.4 §4.4.2: a bind_*_resp or
 * submit_sm_resp with a non-zero status, an empty id and no TLVs is sent
 * header-only; deliver_sm_resp and data_sm_resp always carry their one-octet
 * empty message_id, which every peer accepts (HOSTILE.md K-15). */
#include <errno.h>
#include <string.h>

#include "mem/copy_small.h"
#include "pdu.h"

#define KNOWN_TLV_BITS ((SMX_TLV_MS_AVAILABILITY_STATUS << 1) - 1u)

/* A C-Octet String of at most max octets including its NUL, no inner NUL. */
static inline int cstr_ok(struct smx_bytes v, size_t max)
{
        if (v.len == 0)
                return 1;
        return v.p && v.len < max && !memchr(v.p, 0, v.len);
}

/* cstr_ok without the NUL scan, for strings the caller vouches for
 * (SMX_PDUF_CSTR_CHECKED: lengths measured with strnlen, so no inner NUL). */
static inline int cstr_fits(struct smx_bytes v, size_t max, int scan)
{
        if (scan)
                return cstr_ok(v, max);
        return v.len == 0 || (v.p && v.len < max);
}

static inline int time_ok(struct smx_bytes v)
{
        return v.len == 0 || (v.len == SMPP_TIME_LEN - 1 && cstr_ok(v, SMPP_TIME_LEN));
}

static inline uint8_t *put_cstr(uint8_t *p, struct smx_bytes v)
{
        copy_small(p, v.p, v.len);
        p[v.len] = 0;
        return p + v.len + 1;
}

static inline uint8_t *put_tlv_hdr(uint8_t *p, uint16_t tag, uint16_t len)
{
        smx_put_u16(p, tag);
        smx_put_u16(p + 2, len);
        return p + 4;
}

/* Size of the known TLVs in t->present, or -EINVAL. */
static ssize_t tlv_known_size(const struct smx_tlvs *t)
{
        uint32_t bits = t->present;
        size_t n = 0;

        if (bits & ~KNOWN_TLV_BITS)
                return -EINVAL;
        while (bits) {
                uint32_t bit = bits & -bits;

                bits &= bits - 1;
                switch (bit) {
                case SMX_TLV_RECEIPTED_MESSAGE_ID:
                        if (!cstr_ok(t->receipted_message_id, SMPP_MESSAGE_ID_MAX))
                                return -EINVAL;
                        n += 4 + (size_t)t->receipted_message_id.len + 1;
                        break;
                case SMX_TLV_ADDITIONAL_STATUS_INFO_TEXT:
                        if (!cstr_ok(t->additional_status_info_text, SMPP_STATUS_TEXT_MAX))
                                return -EINVAL;
                        n += 4 + (size_t)t->additional_status_info_text.len + 1;
                        break;
                case SMX_TLV_MESSAGE_PAYLOAD:
                        if (t->message_payload.len && !t->message_payload.p)
                                return -EINVAL;
                        n += 4 + (size_t)t->message_payload.len;
                        break;
                case SMX_TLV_SMX_MSG_IDENTITY:
                        if (t->smx_msg_identity.len < 1 ||
                            t->smx_msg_identity.len > SMPP_SMX_IDENTITY_MAX || !t->smx_msg_identity.p)
                                return -EINVAL;
                        n += 4 + (size_t)t->smx_msg_identity.len;
                        break;
                case SMX_TLV_NETWORK_ERROR_CODE:
                        n += 4 + 3;
                        break;
                case SMX_TLV_SAR_MSG_REF_NUM:
                case SMX_TLV_USER_MESSAGE_REFERENCE:
                case SMX_TLV_SOURCE_PORT:
                case SMX_TLV_DESTINATION_PORT:
                        n += 4 + 2;
                        break;
                default: /* the one-octet TLVs */
                        n += 4 + 1;
                        break;
                }
        }
        return (ssize_t)n;
}

static inline uint8_t *put_u8_tlv(uint8_t *p, uint16_t tag, uint8_t v)
{
        p = put_tlv_hdr(p, tag, 1);
        *p = v;
        return p + 1;
}

static inline uint8_t *put_u16_tlv(uint8_t *p, uint16_t tag, uint16_t v)
{
        p = put_tlv_hdr(p, tag, 2);
        smx_put_u16(p, v);
        return p + 2;
}

static inline uint8_t *put_bytes_tlv(uint8_t *p, uint16_t tag, struct smx_bytes v)
{
        p = put_tlv_hdr(p, tag, v.len);
        copy_small(p, v.p, v.len);
        return p + v.len;
}

static inline uint8_t *put_cstr_tlv(uint8_t *p, uint16_t tag, struct smx_bytes v)
{
        p = put_tlv_hdr(p, tag, (uint16_t)(v.len + 1));
        return put_cstr(p, v);
}

/* Write the known TLVs (already validated by tlv_known_size). */
static uint8_t *tlv_known_write(uint8_t *p, const struct smx_tlvs *t)
{
        uint32_t bits = t->present;

        while (bits) {
                uint32_t bit = bits & -bits;

                bits &= bits - 1;
                switch (bit) {
                case SMX_TLV_RECEIPTED_MESSAGE_ID:
                        p = put_cstr_tlv(p, SMPP_TAG_RECEIPTED_MESSAGE_ID, t->receipted_message_id);
                        break;
                case SMX_TLV_MESSAGE_STATE:
                        p = put_u8_tlv(p, SMPP_TAG_MESSAGE_STATE, t->message_state);
                        break;
                case SMX_TLV_NETWORK_ERROR_CODE:
                        p = put_tlv_hdr(p, SMPP_TAG_NETWORK_ERROR_CODE, 3);
                        p[0] = t->network_error_type;
                        smx_put_u16(p + 1, t->network_error_code);
                        p += 3;
                        break;
                case SMX_TLV_MESSAGE_PAYLOAD:
                        p = put_bytes_tlv(p, SMPP_TAG_MESSAGE_PAYLOAD, t->message_payload);
                        break;
                case SMX_TLV_SAR_MSG_REF_NUM:
                        p = put_u16_tlv(p, SMPP_TAG_SAR_MSG_REF_NUM, t->sar_msg_ref_num);
                        break;
                case SMX_TLV_SAR_TOTAL_SEGMENTS:
                        p = put_u8_tlv(p, SMPP_TAG_SAR_TOTAL_SEGMENTS, t->sar_total_segments);
                        break;
                case SMX_TLV_SAR_SEGMENT_SEQNUM:
                        p = put_u8_tlv(p, SMPP_TAG_SAR_SEGMENT_SEQNUM, t->sar_segment_seqnum);
                        break;
                case SMX_TLV_SC_INTERFACE_VERSION:
                        p = put_u8_tlv(p, SMPP_TAG_SC_INTERFACE_VERSION, t->sc_interface_version);
                        break;
                case SMX_TLV_USER_MESSAGE_REFERENCE:
                        p = put_u16_tlv(p, SMPP_TAG_USER_MESSAGE_REFERENCE, t->user_message_reference);
                        break;
                case SMX_TLV_SOURCE_PORT:
                        p = put_u16_tlv(p, SMPP_TAG_SOURCE_PORT, t->source_port);
                        break;
                case SMX_TLV_DESTINATION_PORT:
                        p = put_u16_tlv(p, SMPP_TAG_DESTINATION_PORT, t->destination_port);
                        break;
                case SMX_TLV_PAYLOAD_TYPE:
                        p = put_u8_tlv(p, SMPP_TAG_PAYLOAD_TYPE, t->payload_type);
                        break;
                case SMX_TLV_MORE_MESSAGES_TO_SEND:
                        p = put_u8_tlv(p, SMPP_TAG_MORE_MESSAGES_TO_SEND, t->more_messages_to_send);
                        break;
                case SMX_TLV_DELIVERY_FAILURE_REASON:
                        p = put_u8_tlv(p, SMPP_TAG_DELIVERY_FAILURE_REASON, t->delivery_failure_reason);
                        break;
                case SMX_TLV_SMX_MSG_IDENTITY:
                        p = put_bytes_tlv(p, SMPP_TAG_SMX_MSG_IDENTITY, t->smx_msg_identity);
                        break;
                case SMX_TLV_ADDITIONAL_STATUS_INFO_TEXT:
                        p = put_cstr_tlv(p, SMPP_TAG_ADDITIONAL_STATUS_INFO_TEXT,
                                         t->additional_status_info_text);
                        break;
                case SMX_TLV_CONGESTION_STATE:
                        p = put_u8_tlv(p, SMPP_TAG_CONGESTION_STATE, t->congestion_state);
                        break;
                case SMX_TLV_MS_AVAILABILITY_STATUS:
                        p = put_u8_tlv(p, SMPP_TAG_MS_AVAILABILITY_STATUS, t->ms_availability_status);
                        break;
                default:
                        break;
                }
        }
        return p;
}

enum body_kind { B_HEADER, B_BIND, B_BIND_RESP, B_OUTBIND, B_SM, B_DATA_SM, B_ALERT, B_SM_RESP };

static int body_kind(uint32_t id)
{
        switch (id) {
        case SMPP_GENERIC_NACK:
        case SMPP_UNBIND:
        case SMPP_UNBIND_RESP:
        case SMPP_ENQUIRE_LINK:
        case SMPP_ENQUIRE_LINK_RESP:
        case SMPP_CANCEL_SM_RESP:
        case SMPP_REPLACE_SM_RESP:
                return B_HEADER;
        case SMPP_BIND_RECEIVER:
        case SMPP_BIND_TRANSMITTER:
        case SMPP_BIND_TRANSCEIVER:
                return B_BIND;
        case SMPP_BIND_RECEIVER_RESP:
        case SMPP_BIND_TRANSMITTER_RESP:
        case SMPP_BIND_TRANSCEIVER_RESP:
                return B_BIND_RESP;
        case SMPP_OUTBIND:
                return B_OUTBIND;
        case SMPP_SUBMIT_SM:
        case SMPP_DELIVER_SM:
                return B_SM;
        case SMPP_DATA_SM:
                return B_DATA_SM;
        case SMPP_ALERT_NOTIFICATION:
                return B_ALERT;
        case SMPP_SUBMIT_SM_RESP:
        case SMPP_DELIVER_SM_RESP:
        case SMPP_DATA_SM_RESP:
                return B_SM_RESP;
        default:
                return -1;
        }
}

/* Error responses that carry nothing are sent header-only (3.4 §4.4.2). */
static inline int resp_body_omitted(const struct smx_pdu *pdu, struct smx_bytes id, size_t n_extra)
{
        uint32_t cid = pdu->h.command_id;

        return pdu->h.command_status != SMPP_ESME_ROK && id.len == 0 && pdu->tlv.present == 0 &&
               n_extra == 0 && cid != SMPP_DELIVER_SM_RESP && cid != SMPP_DATA_SM_RESP;
}

/* Size of the mandatory body, or -EINVAL. */
static ssize_t body_size(int kind, const struct smx_pdu *pdu, size_t n_extra)
{
        const struct smx_body_sm *s = &pdu->u.sm;
        const struct smx_body_bind *b = &pdu->u.bind;

        switch (kind) {
        case B_HEADER:
                return 0;
        case B_BIND:
                if (!cstr_ok(b->system_id, SMPP_SYSTEM_ID_MAX) || !cstr_ok(b->password, SMPP_PASSWORD_MAX) ||
                    !cstr_ok(b->system_type, SMPP_SYSTEM_TYPE_MAX) ||
                    !cstr_ok(b->address_range, SMPP_ADDRESS_RANGE_MAX))
                        return -EINVAL;
                return (ssize_t)b->system_id.len + b->password.len + b->system_type.len +
                       b->address_range.len + 4 + 3;
        case B_BIND_RESP:
                if (!cstr_ok(pdu->u.bind_resp.system_id, SMPP_SYSTEM_ID_MAX))
                        return -EINVAL;
                if (resp_body_omitted(pdu, pdu->u.bind_resp.system_id, n_extra))
                        return 0;
                return (ssize_t)pdu->u.bind_resp.system_id.len + 1;
        case B_OUTBIND:
                if (!cstr_ok(pdu->u.outbind.system_id, SMPP_SYSTEM_ID_MAX) ||
                    !cstr_ok(pdu->u.outbind.password, SMPP_PASSWORD_MAX))
                        return -EINVAL;
                return (ssize_t)pdu->u.outbind.system_id.len + pdu->u.outbind.password.len + 2;
        case B_SM: {
                int scan = !(pdu->flags & SMX_PDUF_CSTR_CHECKED);
                if (!cstr_fits(s->service_type, SMPP_SERVICE_TYPE_MAX, scan) ||
                    !cstr_fits(s->source_addr, SMPP_ADDR_MAX, scan) ||
                    !cstr_fits(s->destination_addr, SMPP_ADDR_MAX, scan) || !time_ok(s->schedule_delivery_time) ||
                    !time_ok(s->validity_period) || s->short_message.len > SMPP_SHORT_MESSAGE_MAX ||
                    (s->short_message.len && !s->short_message.p))
                        return -EINVAL;
                return (ssize_t)s->service_type.len + s->source_addr.len + s->destination_addr.len +
                       s->schedule_delivery_time.len + s->validity_period.len + s->short_message.len +
                       5 /* NULs */ + 2 + 2 + 3 + 5;
        }
        case B_DATA_SM:
                if (!cstr_ok(s->service_type, SMPP_SERVICE_TYPE_MAX) ||
                    !cstr_ok(s->source_addr, SMPP_DATA_SM_ADDR_MAX) ||
                    !cstr_ok(s->destination_addr, SMPP_DATA_SM_ADDR_MAX))
                        return -EINVAL;
                return (ssize_t)s->service_type.len + s->source_addr.len + s->destination_addr.len +
                       3 + 2 + 2 + 3;
        case B_ALERT:
                if (!cstr_ok(s->source_addr, SMPP_DATA_SM_ADDR_MAX) ||
                    !cstr_ok(s->destination_addr, SMPP_DATA_SM_ADDR_MAX))
                        return -EINVAL;
                return (ssize_t)s->source_addr.len + s->destination_addr.len + 2 + 2 + 2;
        case B_SM_RESP:
                if (!cstr_ok(pdu->u.sm_resp.message_id, SMPP_MESSAGE_ID_MAX))
                        return -EINVAL;
                if (resp_body_omitted(pdu, pdu->u.sm_resp.message_id, n_extra))
                        return 0;
                return (ssize_t)pdu->u.sm_resp.message_id.len + 1;
        default:
                return -EINVAL;
        }
}

static uint8_t *body_write(uint8_t *p, int kind, const struct smx_pdu *pdu, size_t body_len)
{
        const struct smx_body_sm *s = &pdu->u.sm;
        const struct smx_body_bind *b = &pdu->u.bind;

        switch (kind) {
        case B_BIND:
                p = put_cstr(p, b->system_id);
                p = put_cstr(p, b->password);
                p = put_cstr(p, b->system_type);
                p[0] = b->interface_version;
                p[1] = b->addr_ton;
                p[2] = b->addr_npi;
                p = put_cstr(p + 3, b->address_range);
                break;
        case B_BIND_RESP:
                if (body_len)
                        p = put_cstr(p, pdu->u.bind_resp.system_id);
                break;
        case B_OUTBIND:
                p = put_cstr(p, pdu->u.outbind.system_id);
                p = put_cstr(p, pdu->u.outbind.password);
                break;
        case B_SM:
                p = put_cstr(p, s->service_type);
                p[0] = s->source_addr_ton;
                p[1] = s->source_addr_npi;
                p = put_cstr(p + 2, s->source_addr);
                p[0] = s->dest_addr_ton;
                p[1] = s->dest_addr_npi;
                p = put_cstr(p + 2, s->destination_addr);
                p[0] = s->esm_class;
                p[1] = s->protocol_id;
                p[2] = s->priority_flag;
                p = put_cstr(p + 3, s->schedule_delivery_time);
                p = put_cstr(p, s->validity_period);
                p[0] = s->registered_delivery;
                p[1] = s->replace_if_present_flag;
                p[2] = s->data_coding;
                p[3] = s->sm_default_msg_id;
                p[4] = (uint8_t)s->short_message.len;
                p += 5;
                copy_small(p, s->short_message.p, s->short_message.len);
                p += s->short_message.len;
                break;
        case B_DATA_SM:
                p = put_cstr(p, s->service_type);
                p[0] = s->source_addr_ton;
                p[1] = s->source_addr_npi;
                p = put_cstr(p + 2, s->source_addr);
                p[0] = s->dest_addr_ton;
                p[1] = s->dest_addr_npi;
                p = put_cstr(p + 2, s->destination_addr);
                p[0] = s->esm_class;
                p[1] = s->registered_delivery;
                p[2] = s->data_coding;
                p += 3;
                break;
        case B_ALERT:
                p[0] = s->source_addr_ton;
                p[1] = s->source_addr_npi;
                p = put_cstr(p + 2, s->source_addr);
                p[0] = s->dest_addr_ton;
                p[1] = s->dest_addr_npi;
                p = put_cstr(p + 2, s->destination_addr);
                break;
        case B_SM_RESP:
                if (body_len)
                        p = put_cstr(p, pdu->u.sm_resp.message_id);
                break;
        default:
                break;
        }
        return p;
}

ssize_t smx_pdu_encode(uint8_t *buf, size_t cap, const struct smx_pdu *pdu,
                       const struct smx_tlv_raw *extra, size_t n_extra)
{
        int kind = body_kind(pdu->h.command_id);
        ssize_t body, tlvs;
        size_t total;
        uint8_t *p;

        if (kind < 0)
                return -EINVAL;
        if (n_extra && !extra)
                return -EINVAL;
        if (kind == B_HEADER && (pdu->tlv.present || n_extra))
                return -EINVAL;
        body = body_size(kind, pdu, n_extra);
        if (body < 0)
                return body;
        tlvs = pdu->tlv.present ? tlv_known_size(&pdu->tlv) : 0;
        if (tlvs < 0)
                return tlvs;
        total = SMPP_HEADER_LEN + (size_t)body + (size_t)tlvs;
        for (size_t i = 0; i < n_extra; i++) {
                if (extra[i].len && !extra[i].value)
                        return -EINVAL;
                total += 4 + (size_t)extra[i].len;
                if (total > UINT32_MAX)
                        return -EINVAL;
        }
        if (total > cap)
                return -ENOSPC;

        smx_put_u32(buf, (uint32_t)total);
        smx_put_u32(buf + 4, pdu->h.command_id);
        smx_put_u32(buf + 8, pdu->h.command_status);
        smx_put_u32(buf + 12, pdu->h.sequence_number);
        p = body_write(buf + SMPP_HEADER_LEN, kind, pdu, (size_t)body);
        if (tlvs)
                p = tlv_known_write(p, &pdu->tlv);
        for (size_t i = 0; i < n_extra; i++) {
                p = put_tlv_hdr(p, extra[i].tag, extra[i].len);
                if (extra[i].len)
                        memcpy(p, extra[i].value, extra[i].len);
                p += extra[i].len;
        }
        return (ssize_t)total;
}

ssize_t smx_pdu_encode_header_only(uint8_t *buf, size_t cap, uint32_t command_id,
                                   uint32_t status, uint32_t seq)
{
        if (cap < SMPP_HEADER_LEN)
                return -ENOSPC;
        smx_put_u32(buf, SMPP_HEADER_LEN);
        smx_put_u32(buf + 4, command_id);
        smx_put_u32(buf + 8, status);
        smx_put_u32(buf + 12, seq);
        return SMPP_HEADER_LEN;
}

ssize_t smx_pdu_encode_empty_resp(uint8_t *buf, size_t cap, uint32_t command_id,
                                  uint32_t status, uint32_t seq)
{
        if (cap < SMPP_HEADER_LEN + 1)
                return -ENOSPC;
        smx_put_u32(buf, SMPP_HEADER_LEN + 1);
        smx_put_u32(buf + 4, command_id);
        smx_put_u32(buf + 8, status);
        smx_put_u32(buf + 12, seq);
        buf[SMPP_HEADER_LEN] = 0;
        return SMPP_HEADER_LEN + 1;
}
