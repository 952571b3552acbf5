/* SMPP 3.4 PDU decoder: one framed PDU -> struct smx_pdu of views.
 *
 * A cursor walks the body once, left to right; every read is checked against
 * the end of *this* PDU (buf + command_length), never against the buffer. The
 * result holds views into buf; nothing is copied, allocated or zeroed beyond
 * the fields the PDU kind defines. Mandatory C-Octet Strings must end with a
 * NUL inside both their SMPP maximum (which counts the NUL) and the frame:
 * otherwise the position of every later field is unknowable, so a request is
 * refused with its own *_resp. Responses are read leniently (an odd message_id
 * or system_id is flagged, not fatal) because the request they answer already
 * went out and its outcome is what matters (B-03, B-05).
 *
 * Verdicts (HOSTILE.md A, B, C, E). "RESP" = the request's own *_resp with the
 * status; "lenient"/"strict" = smx_pdu_opts.strict.
 *
 *   failure                                      err             action     status
 *   ------------------------------------------   --------------  ---------  -----------------
 *   fewer than 16 octets in buf                  E_SHORT         CLOSE      RINVCMDLEN (nack only if header read)
 *   command_length < 16                   E_SHORT         CLOSE      RINVCMDLEN, generic_nack
 *   command_length > cap            E_TOO_LONG      CLOSE      RINVCMDLEN, generic_nack
 *   buf shorter than command_length              E_SHORT         CLOSE      RINVCMDLEN (framer misuse)
 *   unknown/reserved request id     E_CMDID         NACK       RINVCMDID, generic_nack
 *   unknown response id                          E_CMDID         DROP       RINVCMDID
 *   request body ends inside a field (A-03, B-13) E_BODY_SHORT   RESP       RINVCMDLEN
 *   service_type unterminated / over-long        E_CSTRING       RESP       RINVSERTYP
 *   source_addr unterminated / over-long         E_CSTRING       RESP       RINVSRCADR
 *   destination_addr unterminated / over-long    E_CSTRING       RESP       RINVDSTADR
 *   bind system_id / password / system_type      E_CSTRING       RESP       RINVSYSID / RINVPASWD / RINVSYSTYP
 *   bind address_range                           E_CSTRING       RESP       RBINDFAIL
 *   schedule_delivery_time / validity_period
 *     with no NUL within 17 octets               E_CSTRING       RESP       RINVSCHED / RINVEXPIRY
 *   time field of another length (B-15)          lenient: OK + SMX_PDUF_BAD_TIME, view empty
 *                                                strict: E_BAD_TIME RESP RINVCMDLEN
 *   sm_length past the frame                     E_SM_LENGTH     RESP       RINVMSGLEN
 *   sm_length 255 (B-09)                         lenient: OK + SMX_PDUF_SM_LENGTH_OVER
 *                                                strict: E_SM_LENGTH RESP RINVMSGLEN
 *   TLV header/value past the frame (C-03)       lenient: OK + SMX_PDUF_TLV_TRUNCATED, earlier TLVs kept
 *                                                strict: E_TLV_STREAM, RESP (request) or
 *                                                FAIL_REQUEST (response), RINVOPTPARSTREAM
 *   outbind / alert_notification body faults     E_NO_RESPONSE   DROP       (the specific status, for logs)
 *   a response body fault (strict TLVs only)     as above        FAIL_REQUEST
 *   accepted with a flag, never refused:
 *     request with command_status != 0    SMX_PDUF_NONZERO_STATUS
 *     header-only PDU with a body         SMX_PDUF_TRAILING_BYTES
 *     bind_resp system_id unterminated / > 15 (B-01)   SMX_PDUF_SYSTEM_ID_BAD (view to NUL or frame end)
 *     *_resp message_id > 64 chars (B-03)        SMX_PDUF_MESSAGE_ID_LONG (full view)
 *     *_resp message_id unterminated             SMX_PDUF_ID_UNTERMINATED (view to frame end)
 *     short_message and message_payload both     SMX_PDUF_SM_AND_PAYLOAD
 *     unknown TLV (C-01)                         skipped by length, tlv.unknown++
 *     known TLV with a wrong length (C-05, C-13) ignored, tlv.invalid++
 *     repeated known TLV (C-07)                  first wins, tlv.duplicate++
 */
#include <string.h>

#include "pdu.h"

/* Read cursor over one PDU body; lives on the decoding thread's stack. */
struct rd {
        const uint8_t *p;
        const uint8_t *end;
};

/* Why a body was refused; mapped to an action by the caller. */
struct fail {
        uint32_t status;
        const char *why;
};

enum { RD_OK = 0, RD_EMPTY, RD_BAD, RD_BADLEN };

static inline int fail_at(struct fail *f, int err, uint32_t status, const char *why)
{
        f->status = status;
        f->why = why;
        return err;
}

static inline void sat_inc(uint16_t *c)
{
        if (*c != UINT16_MAX)
                (*c)++;
}

static inline uint16_t clamp16(size_t n)
{
        return n > UINT16_MAX ? UINT16_MAX : (uint16_t)n;
}

/* A mandatory C-Octet String of at most max octets including the NUL. */
static inline int rd_cstr(struct rd *r, size_t max, struct smx_bytes *v)
{
        const uint8_t *p = r->p;
        size_t left = (size_t)(r->end - p);
        const uint8_t *nul;

        if (left == 0)
                return RD_EMPTY;
        if (p[0] == 0) {
                v->p = p;
                v->len = 0;
                r->p = p + 1;
                return RD_OK;
        }
        nul = memchr(p, 0, left < max ? left : max);
        if (!nul)
                return RD_BAD;
        v->p = p;
        v->len = (uint16_t)(nul - p);
        r->p = nul + 1;
        return RD_OK;
}

/* A time field: 1 octet (NUL) or 17 (16 chars + NUL). Another terminated
 * length is flagged and ignored (view empty) unless strict. */
static inline int rd_time(struct rd *r, struct smx_bytes *v, uint32_t *flags, int strict)
{
        const uint8_t *p = r->p;
        size_t left = (size_t)(r->end - p);
        const uint8_t *nul;

        if (left == 0)
                return RD_EMPTY;
        v->p = p;
        if (p[0] == 0) {
                v->len = 0;
                r->p = p + 1;
                return RD_OK;
        }
        nul = memchr(p, 0, left < SMPP_TIME_LEN ? left : SMPP_TIME_LEN);
        if (!nul)
                return RD_BAD;
        if (nul - p == SMPP_TIME_LEN - 1) {
                v->len = SMPP_TIME_LEN - 1;
        } else {
                if (strict)
                        return RD_BADLEN;
                *flags |= SMX_PDUF_BAD_TIME;
                v->len = 0;
        }
        r->p = nul + 1;
        return RD_OK;
}

/* A C-string in a response, read leniently: absent (0 octets left) is an
 * empty view; without a NUL the view runs to the frame end. Returns 1 when a
 * NUL ended it (so TLVs may follow), 0 otherwise. */
static inline int rd_resp_cstr(struct rd *r, struct smx_bytes *v)
{
        const uint8_t *p = r->p;
        size_t left = (size_t)(r->end - p);
        const uint8_t *nul;

        v->p = p;
        if (left == 0) {
                v->len = 0;
                return 0;
        }
        if (p[0] == 0) {
                v->len = 0;
                r->p = p + 1;
                return 1;
        }
        nul = memchr(p, 0, left);
        if (!nul) {
                v->len = clamp16(left);
                r->p = r->end;
                return 0;
        }
        v->len = clamp16((size_t)(nul - p));
        r->p = nul + 1;
        return 1;
}

static inline void tlv_reset(struct smx_tlvs *t, const uint8_t *at)
{
        t->present = 0;
        t->count = 0;
        t->unknown = 0;
        t->invalid = 0;
        t->duplicate = 0;
        t->tlv_start = at;
        t->tlv_len = 0;
}

/* 1 when this occurrence of a known TLV is to be used; else counted. */
static inline int tlv_take(struct smx_tlvs *t, uint32_t bit, int len_ok)
{
        if (t->present & bit) {
                sat_inc(&t->duplicate);
                return 0;
        }
        if (!len_ok) {
                sat_inc(&t->invalid);
                return 0;
        }
        t->present |= bit;
        return 1;
}

/* A C-string TLV value: up to the first NUL or the value's end (C-09). */
static inline void tlv_cstr(struct smx_bytes *v, const uint8_t *p, uint16_t len)
{
        const uint8_t *nul = memchr(p, 0, len);

        v->p = p;
        v->len = nul ? (uint16_t)(nul - p) : len;
}

static void tlv_known(struct smx_tlvs *t, uint16_t tag, const uint8_t *v, uint16_t len)
{
        switch (tag) {
        case SMPP_TAG_RECEIPTED_MESSAGE_ID:
                /* any length >= 1 is kept as a view; the consumer caps (C-11) */
                if (tlv_take(t, SMX_TLV_RECEIPTED_MESSAGE_ID, len >= 1))
                        tlv_cstr(&t->receipted_message_id, v, len);
                break;
        case SMPP_TAG_MESSAGE_STATE:
                if (tlv_take(t, SMX_TLV_MESSAGE_STATE, len == 1))
                        t->message_state = v[0];
                break;
        case SMPP_TAG_NETWORK_ERROR_CODE:
                if (tlv_take(t, SMX_TLV_NETWORK_ERROR_CODE, len == 3)) {
                        t->network_error_type = v[0];
                        t->network_error_code = smx_get_u16(v + 1);
                }
                break;
        case SMPP_TAG_MESSAGE_PAYLOAD:
                if (tlv_take(t, SMX_TLV_MESSAGE_PAYLOAD, 1)) {
                        t->message_payload.p = v;
                        t->message_payload.len = len;
                }
                break;
        case SMPP_TAG_SAR_MSG_REF_NUM:
                if (tlv_take(t, SMX_TLV_SAR_MSG_REF_NUM, len == 2))
                        t->sar_msg_ref_num = smx_get_u16(v);
                break;
        case SMPP_TAG_SAR_TOTAL_SEGMENTS:
                if (tlv_take(t, SMX_TLV_SAR_TOTAL_SEGMENTS, len == 1))
                        t->sar_total_segments = v[0];
                break;
        case SMPP_TAG_SAR_SEGMENT_SEQNUM:
                if (tlv_take(t, SMX_TLV_SAR_SEGMENT_SEQNUM, len == 1))
                        t->sar_segment_seqnum = v[0];
                break;
        case SMPP_TAG_SC_INTERFACE_VERSION:
                if (tlv_take(t, SMX_TLV_SC_INTERFACE_VERSION, len == 1))
                        t->sc_interface_version = v[0];
                break;
        case SMPP_TAG_USER_MESSAGE_REFERENCE:
                if (tlv_take(t, SMX_TLV_USER_MESSAGE_REFERENCE, len == 2))
                        t->user_message_reference = smx_get_u16(v);
                break;
        case SMPP_TAG_SOURCE_PORT:
                if (tlv_take(t, SMX_TLV_SOURCE_PORT, len == 2))
                        t->source_port = smx_get_u16(v);
                break;
        case SMPP_TAG_DESTINATION_PORT:
                if (tlv_take(t, SMX_TLV_DESTINATION_PORT, len == 2))
                        t->destination_port = smx_get_u16(v);
                break;
        case SMPP_TAG_PAYLOAD_TYPE:
                if (tlv_take(t, SMX_TLV_PAYLOAD_TYPE, len == 1))
                        t->payload_type = v[0];
                break;
        case SMPP_TAG_MORE_MESSAGES_TO_SEND:
                if (tlv_take(t, SMX_TLV_MORE_MESSAGES_TO_SEND, len == 1))
                        t->more_messages_to_send = v[0];
                break;
        case SMPP_TAG_DELIVERY_FAILURE_REASON:
                if (tlv_take(t, SMX_TLV_DELIVERY_FAILURE_REASON, len == 1))
                        t->delivery_failure_reason = v[0];
                break;
        case SMPP_TAG_SMX_MSG_IDENTITY:
                if (tlv_take(t, SMX_TLV_SMX_MSG_IDENTITY, len >= 1 && len <= SMPP_SMX_IDENTITY_MAX)) {
                        t->smx_msg_identity.p = v;
                        t->smx_msg_identity.len = len;
                }
                break;
        case SMPP_TAG_ADDITIONAL_STATUS_INFO_TEXT:
                if (tlv_take(t, SMX_TLV_ADDITIONAL_STATUS_INFO_TEXT,
                             len >= 1 && len <= SMPP_STATUS_TEXT_MAX))
                        tlv_cstr(&t->additional_status_info_text, v, len);
                break;
        case SMPP_TAG_CONGESTION_STATE:
                if (tlv_take(t, SMX_TLV_CONGESTION_STATE, len == 1))
                        t->congestion_state = v[0];
                break;
        case SMPP_TAG_MS_AVAILABILITY_STATUS:
                if (tlv_take(t, SMX_TLV_MS_AVAILABILITY_STATUS, len == 1))
                        t->ms_availability_status = v[0];
                break;
        default:
                sat_inc(&t->unknown);
                break;
        }
}

/* Parse the TLV region [p, end). Lenient: a truncated tail is dropped and
 * flagged; strict: refused with RINVOPTPARSTREAM. */
static int tlvs_parse(const uint8_t *p, const uint8_t *end, struct smx_pdu *out, int strict,
                      struct fail *f)
{
        struct smx_tlvs *t = &out->tlv;

        t->tlv_start = p;
        t->tlv_len = (uint32_t)(end - p);
        while (p != end) {
                size_t left = (size_t)(end - p);
                uint16_t tag, len;

                if (left < 4)
                        goto truncated;
                tag = smx_get_u16(p);
                len = smx_get_u16(p + 2);
                if (len > left - 4)
                        goto truncated;
                sat_inc(&t->count);
                tlv_known(t, tag, p + 4, len);
                p += 4 + (size_t)len;
        }
        return SMX_PDU_OK;
truncated:
        if (strict)
                return fail_at(f, SMX_PDU_E_TLV_STREAM, SMPP_ESME_RINVOPTPARSTREAM,
                               "TLV runs past the end of the PDU");
        out->flags |= SMX_PDUF_TLV_TRUNCATED;
        return SMX_PDU_OK;
}

static inline int body_short(struct fail *f, const char *why)
{
        return fail_at(f, SMX_PDU_E_BODY_SHORT, SMPP_ESME_RINVCMDLEN, why);
}

/* Mandatory C-string: on failure return from the body decoder with the
 * field's own status (over-long/unterminated) or RINVCMDLEN (body ended). */
#define MAND_CSTR(r, view, max, status, name)                                           \
        do {                                                                            \
                int rc_ = rd_cstr((r), (max), &(view));                                 \
                if (rc_ != RD_OK)                                                       \
                        return rc_ == RD_EMPTY ? body_short(f, "body ends before " name) \
                               : fail_at(f, SMX_PDU_E_CSTRING, (status),                \
                                         name " not NUL-terminated within its maximum"); \
        } while (0)

#define NEED(r, n, name)                                                        \
        do {                                                                    \
                if ((size_t)((r)->end - (r)->p) < (n))                          \
                        return body_short(f, "body ends inside " name);         \
        } while (0)

#define TIME(r, view, status, name)                                                     \
        do {                                                                            \
                int rc_ = rd_time((r), &(view), &out->flags, strict);                   \
                if (rc_ == RD_EMPTY)                                                    \
                        return body_short(f, "body ends before " name);                 \
                if (rc_ == RD_BAD)                                                      \
                        return fail_at(f, SMX_PDU_E_CSTRING, (status),                  \
                                       name " not NUL-terminated within 17 octets");    \
                if (rc_ == RD_BADLEN)                                                   \
                        return fail_at(f, SMX_PDU_E_BAD_TIME, SMPP_ESME_RINVCMDLEN,     \
                                       name " neither 1 nor 17 octets");                \
        } while (0)

/* submit_sm, deliver_sm (3.4 §4.4.1, §4.6.1) */
static int body_sm(struct rd *r, struct smx_pdu *out, int strict, struct fail *f)
{
        struct smx_body_sm *b = &out->u.sm;
        const uint8_t *q;
        size_t sml;
        int rc;

        MAND_CSTR(r, b->service_type, SMPP_SERVICE_TYPE_MAX, SMPP_ESME_RINVSERTYP, "service_type");
        NEED(r, 2, "source_addr_ton/npi");
        b->source_addr_ton = r->p[0];
        b->source_addr_npi = r->p[1];
        r->p += 2;
        MAND_CSTR(r, b->source_addr, SMPP_ADDR_MAX, SMPP_ESME_RINVSRCADR, "source_addr");
        NEED(r, 2, "dest_addr_ton/npi");
        b->dest_addr_ton = r->p[0];
        b->dest_addr_npi = r->p[1];
        r->p += 2;
        MAND_CSTR(r, b->destination_addr, SMPP_ADDR_MAX, SMPP_ESME_RINVDSTADR, "destination_addr");
        NEED(r, 3, "esm_class/protocol_id/priority_flag");
        b->esm_class = r->p[0];
        b->protocol_id = r->p[1];
        b->priority_flag = r->p[2];
        r->p += 3;
        TIME(r, b->schedule_delivery_time, SMPP_ESME_RINVSCHED, "schedule_delivery_time");
        TIME(r, b->validity_period, SMPP_ESME_RINVEXPIRY, "validity_period");
        NEED(r, 5, "registered_delivery..sm_length");
        q = r->p;
        b->registered_delivery = q[0];
        b->replace_if_present_flag = q[1];
        b->data_coding = q[2];
        b->sm_default_msg_id = q[3];
        sml = q[4];
        r->p = q + 5;
        if (sml > (size_t)(r->end - r->p))
                return fail_at(f, SMX_PDU_E_SM_LENGTH, SMPP_ESME_RINVMSGLEN,
                               "sm_length runs past the end of the PDU");
        if (sml > SMPP_SHORT_MESSAGE_MAX) {
                if (strict)
                        return fail_at(f, SMX_PDU_E_SM_LENGTH, SMPP_ESME_RINVMSGLEN,
                                       "sm_length above 254");
                out->flags |= SMX_PDUF_SM_LENGTH_OVER;
        }
        b->short_message.p = r->p;
        b->short_message.len = (uint16_t)sml;
        r->p += sml;
        rc = tlvs_parse(r->p, r->end, out, strict, f);
        if (rc == SMX_PDU_OK && sml && (out->tlv.present & SMX_TLV_MESSAGE_PAYLOAD))
                out->flags |= SMX_PDUF_SM_AND_PAYLOAD;
        return rc;
}

static inline void sm_clear_unused(struct smx_body_sm *b, const uint8_t *at)
{
        b->protocol_id = 0;
        b->priority_flag = 0;
        b->schedule_delivery_time.p = at;
        b->schedule_delivery_time.len = 0;
        b->validity_period.p = at;
        b->validity_period.len = 0;
        b->replace_if_present_flag = 0;
        b->sm_default_msg_id = 0;
        b->short_message.p = at;
        b->short_message.len = 0;
}

/* data_sm (3.4 §4.7.1): addresses up to 65, text only in TLVs. */
static int body_data_sm(struct rd *r, struct smx_pdu *out, int strict, struct fail *f)
{
        struct smx_body_sm *b = &out->u.sm;

        MAND_CSTR(r, b->service_type, SMPP_SERVICE_TYPE_MAX, SMPP_ESME_RINVSERTYP, "service_type");
        NEED(r, 2, "source_addr_ton/npi");
        b->source_addr_ton = r->p[0];
        b->source_addr_npi = r->p[1];
        r->p += 2;
        MAND_CSTR(r, b->source_addr, SMPP_DATA_SM_ADDR_MAX, SMPP_ESME_RINVSRCADR, "source_addr");
        NEED(r, 2, "dest_addr_ton/npi");
        b->dest_addr_ton = r->p[0];
        b->dest_addr_npi = r->p[1];
        r->p += 2;
        MAND_CSTR(r, b->destination_addr, SMPP_DATA_SM_ADDR_MAX, SMPP_ESME_RINVDSTADR,
                  "destination_addr");
        NEED(r, 3, "esm_class/registered_delivery/data_coding");
        b->esm_class = r->p[0];
        b->registered_delivery = r->p[1];
        b->data_coding = r->p[2];
        r->p += 3;
        sm_clear_unused(b, r->p);
        return tlvs_parse(r->p, r->end, out, strict, f);
}

/* alert_notification (3.4 §4.12.1): esme_addr lands in dest_*. */
static int body_alert(struct rd *r, struct smx_pdu *out, int strict, struct fail *f)
{
        struct smx_body_sm *b = &out->u.sm;

        b->service_type.p = r->p;
        b->service_type.len = 0;
        NEED(r, 2, "source_addr_ton/npi");
        b->source_addr_ton = r->p[0];
        b->source_addr_npi = r->p[1];
        r->p += 2;
        MAND_CSTR(r, b->source_addr, SMPP_DATA_SM_ADDR_MAX, SMPP_ESME_RINVSRCADR, "source_addr");
        NEED(r, 2, "esme_addr_ton/npi");
        b->dest_addr_ton = r->p[0];
        b->dest_addr_npi = r->p[1];
        r->p += 2;
        MAND_CSTR(r, b->destination_addr, SMPP_DATA_SM_ADDR_MAX, SMPP_ESME_RINVDSTADR, "esme_addr");
        b->esm_class = 0;
        b->registered_delivery = 0;
        b->data_coding = 0;
        sm_clear_unused(b, r->p);
        return tlvs_parse(r->p, r->end, out, strict, f);
}

/* bind_transmitter / bind_receiver / bind_transceiver (3.4 §4.1) */
static int body_bind(struct rd *r, struct smx_pdu *out, int strict, struct fail *f)
{
        struct smx_body_bind *b = &out->u.bind;

        MAND_CSTR(r, b->system_id, SMPP_SYSTEM_ID_MAX, SMPP_ESME_RINVSYSID, "system_id");
        MAND_CSTR(r, b->password, SMPP_PASSWORD_MAX, SMPP_ESME_RINVPASWD, "password");
        MAND_CSTR(r, b->system_type, SMPP_SYSTEM_TYPE_MAX, SMPP_ESME_RINVSYSTYP, "system_type");
        NEED(r, 3, "interface_version/addr_ton/addr_npi");
        b->interface_version = r->p[0];
        b->addr_ton = r->p[1];
        b->addr_npi = r->p[2];
        r->p += 3;
        MAND_CSTR(r, b->address_range, SMPP_ADDRESS_RANGE_MAX, SMPP_ESME_RBINDFAIL, "address_range");
        return tlvs_parse(r->p, r->end, out, strict, f);
}

/* outbind (3.4 §4.1.7) */
static int body_outbind(struct rd *r, struct smx_pdu *out, int strict, struct fail *f)
{
        struct smx_body_outbind *b = &out->u.outbind;

        MAND_CSTR(r, b->system_id, SMPP_SYSTEM_ID_MAX, SMPP_ESME_RINVSYSID, "system_id");
        MAND_CSTR(r, b->password, SMPP_PASSWORD_MAX, SMPP_ESME_RINVPASWD, "password");
        return tlvs_parse(r->p, r->end, out, strict, f);
}

/* bind_*_resp: 16-octet, lone-NUL and full forms (B-07); an unterminated or
 * over-long system_id is kept and flagged (B-01). */
static int body_bind_resp(struct rd *r, struct smx_pdu *out, int strict, struct fail *f)
{
        struct smx_bytes *id = &out->u.bind_resp.system_id;
        int terminated = rd_resp_cstr(r, id);

        if (id->len > SMPP_SYSTEM_ID_MAX - 1 || (!terminated && id->len))
                out->flags |= SMX_PDUF_SYSTEM_ID_BAD;
        if (!terminated)
                return SMX_PDU_OK;
        return tlvs_parse(r->p, r->end, out, strict, f);
}

/* submit_sm_resp / deliver_sm_resp / data_sm_resp: message_id in any of the
 * forms seen in the wild (B-03, B-05); TLVs may follow a terminated id. */
static int body_sm_resp(struct rd *r, struct smx_pdu *out, int strict, struct fail *f)
{
        struct smx_bytes *id = &out->u.sm_resp.message_id;
        int terminated = rd_resp_cstr(r, id);

        if (id->len > SMPP_MESSAGE_ID_MAX - 1)
                out->flags |= SMX_PDUF_MESSAGE_ID_LONG;
        if (!terminated) {
                if (id->len)
                        out->flags |= SMX_PDUF_ID_UNTERMINATED;
                return SMX_PDU_OK;
        }
        return tlvs_parse(r->p, r->end, out, strict, f);
}

static inline int refuse(struct smx_pdu_verdict *v, int err, enum smx_pdu_action act,
                         uint32_t status, uint32_t answer_id, const char *why)
{
        v->action = act;
        v->status = status;
        v->answer_id = answer_id;
        v->why = why;
        return err;
}

enum kind { K_REQ, K_RESP, K_NORESP };

int smx_pdu_decode(const uint8_t *buf, size_t len, const struct smx_pdu_opts *opts,
                   struct smx_pdu *out, struct smx_pdu_verdict *verdict)
{
        struct smx_pdu_verdict spare;
        struct smx_pdu_verdict *v = verdict ? verdict : &spare;
        uint32_t cap = opts && opts->max_pdu ? opts->max_pdu : SMPP_DEFAULT_MAX_PDU;
        int strict = opts && opts->strict;
        struct fail f = { 0, NULL };
        struct rd r;
        uint32_t clen, id;
        enum kind kind;
        int rc;

        out->flags = 0;
        if (len < SMPP_HEADER_LEN) {
                memset(&out->h, 0, sizeof out->h);
                tlv_reset(&out->tlv, buf);
                return refuse(v, SMX_PDU_E_SHORT, SMX_ACT_CLOSE, SMPP_ESME_RINVCMDLEN,
                              SMPP_GENERIC_NACK, "fewer than 16 octets: no SMPP header");
        }
        clen = smx_get_u32(buf);
        id = smx_get_u32(buf + 4);
        out->h.command_length = clen;
        out->h.command_id = id;
        out->h.command_status = smx_get_u32(buf + 8);
        out->h.sequence_number = smx_get_u32(buf + 12);
        tlv_reset(&out->tlv, buf + SMPP_HEADER_LEN);
        if (clen < SMPP_HEADER_LEN)
                return refuse(v, SMX_PDU_E_SHORT, SMX_ACT_CLOSE, SMPP_ESME_RINVCMDLEN,
                              SMPP_GENERIC_NACK, "command_length below 16");
        if (clen > cap)
                return refuse(v, SMX_PDU_E_TOO_LONG, SMX_ACT_CLOSE, SMPP_ESME_RINVCMDLEN,
                              SMPP_GENERIC_NACK, "command_length above the cap");
        if (clen > len)
                return refuse(v, SMX_PDU_E_SHORT, SMX_ACT_CLOSE, SMPP_ESME_RINVCMDLEN,
                              SMPP_GENERIC_NACK, "buffer holds less than command_length");

        r.p = buf + SMPP_HEADER_LEN;
        r.end = buf + clen;
        kind = (id & SMPP_RESP_BIT) ? K_RESP : K_REQ;

        switch (id) {
        case SMPP_SUBMIT_SM_RESP:
        case SMPP_DELIVER_SM_RESP:
        case SMPP_DATA_SM_RESP:
                rc = body_sm_resp(&r, out, strict, &f);
                break;
        case SMPP_SUBMIT_SM:
        case SMPP_DELIVER_SM:
                rc = body_sm(&r, out, strict, &f);
                break;
        case SMPP_DATA_SM:
                rc = body_data_sm(&r, out, strict, &f);
                break;
        case SMPP_BIND_RECEIVER:
        case SMPP_BIND_TRANSMITTER:
        case SMPP_BIND_TRANSCEIVER:
                rc = body_bind(&r, out, strict, &f);
                break;
        case SMPP_BIND_RECEIVER_RESP:
        case SMPP_BIND_TRANSMITTER_RESP:
        case SMPP_BIND_TRANSCEIVER_RESP:
                rc = body_bind_resp(&r, out, strict, &f);
                break;
        case SMPP_OUTBIND:
                kind = K_NORESP;
                rc = body_outbind(&r, out, strict, &f);
                break;
        case SMPP_ALERT_NOTIFICATION:
                kind = K_NORESP;
                rc = body_alert(&r, out, strict, &f);
                break;
        case SMPP_GENERIC_NACK:
        case SMPP_UNBIND:
        case SMPP_UNBIND_RESP:
        case SMPP_ENQUIRE_LINK:
        case SMPP_ENQUIRE_LINK_RESP:
        case SMPP_CANCEL_SM_RESP:
        case SMPP_REPLACE_SM_RESP:
                /* header only; a body is tolerated */
                if (r.p != r.end)
                        out->flags |= SMX_PDUF_TRAILING_BYTES;
                rc = SMX_PDU_OK;
                break;
        case SMPP_QUERY_SM:
        case SMPP_REPLACE_SM:
        case SMPP_CANCEL_SM:
        case SMPP_SUBMIT_MULTI:
        case SMPP_BROADCAST_SM:
        case SMPP_QUERY_BROADCAST_SM:
        case SMPP_CANCEL_BROADCAST_SM:
        case SMPP_QUERY_SM_RESP:
        case SMPP_SUBMIT_MULTI_RESP:
        case SMPP_BROADCAST_SM_RESP:
        case SMPP_QUERY_BROADCAST_SM_RESP:
        case SMPP_CANCEL_BROADCAST_SM_RESP:
                /* recognised, not used by this client: header only, the
                 * session answers by state (D-03) */
                rc = SMX_PDU_OK;
                break;
        default:
                if (kind == K_RESP)
                        return refuse(v, SMX_PDU_E_CMDID, SMX_ACT_DROP, SMPP_ESME_RINVCMDID, 0,
                                      "unknown response command_id");
                return refuse(v, SMX_PDU_E_CMDID, SMX_ACT_NACK, SMPP_ESME_RINVCMDID,
                              SMPP_GENERIC_NACK, "unknown request command_id");
        }
        if (kind != K_RESP && out->h.command_status != SMPP_ESME_ROK)
                out->flags |= SMX_PDUF_NONZERO_STATUS;
        if (rc == SMX_PDU_OK) {
                v->action = SMX_ACT_NONE;
                v->status = SMPP_ESME_ROK;
                v->answer_id = 0;
                v->why = NULL;
                return SMX_PDU_OK;
        }
        if (kind == K_REQ)
                return refuse(v, rc, SMX_ACT_RESP, f.status, id | SMPP_RESP_BIT, f.why);
        if (kind == K_RESP)
                return refuse(v, rc, SMX_ACT_FAIL_REQUEST, f.status, 0, f.why);
        return refuse(v, SMX_PDU_E_NO_RESPONSE, SMX_ACT_DROP, f.status, 0, f.why);
}

int smx_tlv_next(const uint8_t *tlv_start, uint32_t tlv_len, uint32_t *off, uint16_t *tag,
                 struct smx_bytes *value)
{
        uint32_t o = *off, left;
        uint16_t len;

        if (o >= tlv_len)
                return 0;
        left = tlv_len - o;
        if (left < 4)
                return -1;
        len = smx_get_u16(tlv_start + o + 2);
        if (len > left - 4)
                return -1;
        *tag = smx_get_u16(tlv_start + o);
        value->p = tlv_start + o + 4;
        value->len = len;
        *off = o + 4 + len;
        return 1;
}
