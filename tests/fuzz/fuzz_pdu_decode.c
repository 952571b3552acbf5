/* libFuzzer target: one SMPP PDU per input.
 *
 * Decodes the input leniently and strictly and checks what the decoder
 * promises: no read outside the frame (ASan), every view inside the frame,
 * a verdict that never answers a response and never nacks with a resp id.
 * A PDU that decoded is re-encoded (its unknown TLVs passed back as raw
 * TLVs); whatever the encoder accepts must decode again with the same known
 * TLVs and re-encode to the same bytes. Strict mode may refuse only what
 * lenient mode flags.
 *
 * The same input also drives what the decoder alone never reaches (found by
 * tools/fuzz-coverage.sh): the last two input octets pick one edit of the
 * decoded PDU before it is encoded again (a field set to a boundary length, with or
 * without an inner NUL, a TLV made present with such a value, an unknown
 * TLV bit, a raw TLV without a value, a buffer one octet short); whatever
 * the encoder accepts must still decode and round-trip, and what it must
 * refuse it refuses. The header fast paths (header-only PDUs, the empty
 * *_resp), the naming/classification functions and the log escaper with a
 * small buffer run on the header of every decoded PDU. A decoded submit_sm
 * of the worker's fast-path shape is also written by smx_pdu_submit_short_*
 * and must equal smx_pdu_encode's bytes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pdu/pdu.h"
#include "pdu/submit_short.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t enc1[70000], enc2[70000], enc3[70000];

/* Values the edits give a field: 300 'A's, and the same with a NUL inside. */
static uint8_t fill_a[300], fill_nul[300];

/* Lengths around every field limit of smpp_defs.h (max includes the NUL). */
static const uint16_t edit_len[16] = {0, 1, 5, 6, 8, 9, 12, 13, 15, 16, 20, 21,
                                      64, 65, 254, 255};

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

static int encode_body_kind(uint32_t id)
{
        switch (id) {
        case SMPP_BIND_RECEIVER: case SMPP_BIND_TRANSMITTER: case SMPP_BIND_TRANSCEIVER:
                return 1;
        case SMPP_BIND_RECEIVER_RESP: case SMPP_BIND_TRANSMITTER_RESP:
        case SMPP_BIND_TRANSCEIVER_RESP:
                return 2;
        case SMPP_OUTBIND:
                return 3;
        case SMPP_SUBMIT_SM: case SMPP_DELIVER_SM:
                return 4;
        case SMPP_SUBMIT_SM_RESP: case SMPP_DELIVER_SM_RESP: case SMPP_DATA_SM_RESP:
                return 5;
        case SMPP_DATA_SM:
                return 6;
        case SMPP_ALERT_NOTIFICATION:
                return 7;
        default:
                return 0; /* header-only kinds */
        }
}

/* The view fields of the body member p's command_id uses (never another
 * union member's: they overlap) that its encoding writes (data_sm has no
 * times or short_message, alert_notification only its addresses). */
static size_t body_views(struct smx_pdu *p, struct smx_bytes **v)
{
        switch (encode_body_kind(p->h.command_id)) {
        case 1:
                v[0] = &p->u.bind.system_id; v[1] = &p->u.bind.password;
                v[2] = &p->u.bind.system_type; v[3] = &p->u.bind.address_range;
                return 4;
        case 2:
                v[0] = &p->u.bind_resp.system_id;
                return 1;
        case 3:
                v[0] = &p->u.outbind.system_id; v[1] = &p->u.outbind.password;
                return 2;
        case 4:
                v[0] = &p->u.sm.service_type; v[1] = &p->u.sm.source_addr;
                v[2] = &p->u.sm.destination_addr; v[3] = &p->u.sm.schedule_delivery_time;
                v[4] = &p->u.sm.validity_period; v[5] = &p->u.sm.short_message;
                return 6;
        case 5:
                v[0] = &p->u.sm_resp.message_id;
                return 1;
        case 6:
                v[0] = &p->u.sm.service_type; v[1] = &p->u.sm.source_addr;
                v[2] = &p->u.sm.destination_addr;
                return 3;
        case 7:
                v[0] = &p->u.sm.source_addr; v[1] = &p->u.sm.destination_addr;
                return 2;
        default:
                return 0;
        }
}

/* Encode e, then check: accepted => decodes, same TLVs, re-encodes alike. */
static ssize_t encode_checked(const struct smx_pdu *e, const struct smx_tlv_raw *extra,
                              size_t n_extra)
{
        struct smx_pdu_opts o = { 0, 0 };
        struct smx_pdu q;
        struct smx_pdu_verdict v;
        struct smx_tlv_raw again[64];
        ssize_t n = smx_pdu_encode(enc3, sizeof enc3, e, extra, n_extra);

        if (n < 0)
                return n;
        must(smx_pdu_decode(enc3, (size_t)n, &o, &q, &v) == SMX_PDU_OK);
        must(q.h.command_id == e->h.command_id && q.tlv.present == e->tlv.present);
        size_t m = unknown_tlvs(&q, again, 64);
        must(smx_pdu_encode(enc2, sizeof enc2, &q, again, m) == n &&
             memcmp(enc2, enc3, (size_t)n) == 0);
        return n;
}

/* One edit of a decoded PDU (see the top): sel picks the edit and the value's
 * form (bit 7: a NUL inside, bit 6: no bytes at all), sel2 the field and its
 * length. */
static void encoder_edges(const struct smx_pdu *p, const struct smx_tlv_raw *extra,
                          size_t n_extra, uint8_t sel, uint8_t sel2)
{
        struct smx_pdu e = *p;
        struct smx_bytes *views[6];
        size_t nv = body_views(&e, views);
        uint16_t len = edit_len[sel2 >> 4];
        const uint8_t *fill = (sel & 0x40) ? NULL : (sel & 0x80) ? fill_nul : fill_a;
        struct smx_tlv_raw raw[65];
        ssize_t n;

        fill_nul[len / 2] = 0;
        switch (sel & 7) {
        case 0: /* a body field at a boundary length */
                if (!nv)
                        break;
                *views[sel2 % nv] = (struct smx_bytes){ fill, len };
                n = encode_checked(&e, extra, n_extra);
                if (!fill && len)
                        must(n == -EINVAL);
                break;
        case 1: /* a view TLV made present at a boundary length */
        case 2: {
                static const uint32_t bit[4] = { SMX_TLV_RECEIPTED_MESSAGE_ID,
                        SMX_TLV_MESSAGE_PAYLOAD, SMX_TLV_SMX_MSG_IDENTITY,
                        SMX_TLV_ADDITIONAL_STATUS_INFO_TEXT };
                struct smx_bytes *tv[4] = { &e.tlv.receipted_message_id,
                        &e.tlv.message_payload, &e.tlv.smx_msg_identity,
                        &e.tlv.additional_status_info_text };
                unsigned k = sel2 & 3;
                e.tlv.present |= bit[k];
                *tv[k] = (struct smx_bytes){ fill, len };
                n = encode_checked(&e, extra, n_extra);
                if (!fill && len)
                        must(n == -EINVAL);
                if (k == 2 && (len == 0 || len > SMPP_SMX_IDENTITY_MAX))
                        must(n == -EINVAL);
                break;
        }
        case 3: /* a TLV bit the encoder does not know */
                e.tlv.present |= 1u << (18 + sel2 % 14);
                must(smx_pdu_encode(enc3, sizeof enc3, &e, extra, n_extra) == -EINVAL);
                break;
        case 4: /* a raw TLV with a length and no value; raw TLVs and no array */
                memcpy(raw, extra, n_extra * sizeof *extra);
                raw[n_extra] = (struct smx_tlv_raw){ 0x1400, (uint16_t)(len | 1), NULL };
                must(smx_pdu_encode(enc3, sizeof enc3, &e, raw, n_extra + 1) == -EINVAL);
                must(smx_pdu_encode(enc3, sizeof enc3, &e, NULL, 1) == -EINVAL);
                break;
        case 5: /* a header-only command given a TLV */
                if (encode_body_kind(e.h.command_id) == 0) {
                        e.tlv.present |= SMX_TLV_MESSAGE_STATE;
                        must(smx_pdu_encode(enc3, sizeof enc3, &e, extra, n_extra) < 0);
                }
                break;
        case 6: /* the buffer exactly the size, and one octet short */
                n = smx_pdu_encode(enc3, sizeof enc3, &e, extra, n_extra);
                if (n > 0) {
                        must(smx_pdu_encode(enc2, (size_t)n, &e, extra, n_extra) == n);
                        must(smx_pdu_encode(enc2, (size_t)n - 1, &e, extra, n_extra) == -ENOSPC);
                }
                break;
        default:
                break;
        }
        fill_nul[len / 2] = 'A';
}

/* What the session sends and logs about a PDU it decoded. */
static void header_paths(const struct smx_pdu *p)
{
        const struct smx_pdu_header *h = &p->h;
        uint32_t id = h->command_id, st = h->command_status, seq = h->sequence_number;
        struct smx_pdu_opts o = { 0, 0 };
        struct smx_pdu q;
        struct smx_pdu_verdict v;
        uint32_t next = smx_seq_next(seq);

        must(smx_command_name(id) && smx_status_name(st) && smx_state_name(p->tlv.message_state));
        must(smx_status_classify(st) <= SMX_STATUS_CONFIG);
        must(next >= SMPP_SEQ_MIN && next <= SMPP_SEQ_MAX);
        must(!(id & SMPP_RESP_BIT) || !smx_command_has_resp(id));

        must(smx_pdu_encode_header_only(enc3, SMPP_HEADER_LEN - 1, id, st, seq) == -ENOSPC);
        must(smx_pdu_encode_header_only(enc3, SMPP_HEADER_LEN, id, st, seq) == SMPP_HEADER_LEN);
        if (id == SMPP_ENQUIRE_LINK || id == SMPP_ENQUIRE_LINK_RESP || id == SMPP_UNBIND ||
            id == SMPP_UNBIND_RESP || id == SMPP_GENERIC_NACK) {
                must(smx_pdu_decode(enc3, SMPP_HEADER_LEN, &o, &q, &v) == SMX_PDU_OK);
                must(q.h.command_id == id && q.h.command_status == st &&
                     q.h.sequence_number == seq);
        }
        must(smx_pdu_encode_empty_resp(enc3, SMPP_HEADER_LEN, id, st, seq) == -ENOSPC);
        must(smx_pdu_encode_empty_resp(enc3, SMPP_HEADER_LEN + 1, id, st, seq) ==
             SMPP_HEADER_LEN + 1);
        if (id == SMPP_DELIVER_SM_RESP || id == SMPP_DATA_SM_RESP) {
                must(smx_pdu_decode(enc3, SMPP_HEADER_LEN + 1, &o, &q, &v) == SMX_PDU_OK);
                must(q.u.sm_resp.message_id.len == 0);
        }
}

/* A decoded submit_sm of the shape the worker's fast path writes (empty
 * service_type and times, protocol_id, replace_if_present and
 * sm_default_msg_id 0, addresses shorter than 21 without NUL, at most the
 * identity TLV, short_message <= 254): written by smx_pdu_submit_short_* it
 * must be byte for byte smx_pdu_encode's. */
static void submit_short_path(const struct smx_pdu *p)
{
        const struct smx_body_sm *b = &p->u.sm;
        if (p->h.command_id != SMPP_SUBMIT_SM || p->h.command_status != 0 ||
            b->service_type.len || b->schedule_delivery_time.len || b->validity_period.len ||
            b->protocol_id || b->replace_if_present_flag || b->sm_default_msg_id ||
            b->source_addr.len >= SMPP_ADDR_MAX || b->destination_addr.len >= SMPP_ADDR_MAX ||
            (b->source_addr.len && memchr(b->source_addr.p, 0, b->source_addr.len)) ||
            (b->destination_addr.len && memchr(b->destination_addr.p, 0, b->destination_addr.len)) ||
            b->short_message.len > SMPP_SHORT_MESSAGE_MAX ||
            (p->tlv.present & ~SMX_TLV_SMX_MSG_IDENTITY) ||
            p->h.sequence_number == 0)
                return;
        int ident = (p->tlv.present & SMX_TLV_SMX_MSG_IDENTITY) != 0;
        if (ident && (p->tlv.smx_msg_identity.len < 1 ||
                      p->tlv.smx_msg_identity.len > SMPP_SMX_IDENTITY_MAX))
                return;
        struct smx_pdu q;
        memset(&q, 0, sizeof q);
        q.h.command_id = SMPP_SUBMIT_SM;
        q.h.sequence_number = p->h.sequence_number;
        q.u.sm = *b;
        q.tlv.present = p->tlv.present;
        q.tlv.smx_msg_identity = p->tlv.smx_msg_identity;
        ssize_t n1 = smx_pdu_encode(enc2, sizeof enc2, &q, NULL, 0);
        must(n1 > 0);
        struct smx_submit_short f = {
                .src = b->source_addr.p, .dst = b->destination_addr.p,
                .src_len = (uint8_t)b->source_addr.len, .dst_len = (uint8_t)b->destination_addr.len,
                .src_ton = b->source_addr_ton, .src_npi = b->source_addr_npi,
                .dst_ton = b->dest_addr_ton, .dst_npi = b->dest_addr_npi,
                .esm_class = b->esm_class, .priority_flag = b->priority_flag,
                .registered_delivery = b->registered_delivery,
        };
        must(smx_pdu_submit_short_begin(enc3, SMX_SUBMIT_SHORT_MAX - 1, &f) == NULL);
        uint8_t *sm = smx_pdu_submit_short_begin(enc3, SMX_SUBMIT_SHORT_MAX, &f);
        must(sm != NULL);
        if (b->short_message.len)
                memcpy(sm, b->short_message.p, b->short_message.len);
        ssize_t n2 = smx_pdu_submit_short_end(enc3, sm, b->short_message.len, b->data_coding,
                                              ident ? p->tlv.smx_msg_identity.p : NULL,
                                              p->tlv.smx_msg_identity.len, p->h.sequence_number);
        must(n2 == n1 && memcmp(enc2, enc3, (size_t)n1) == 0);
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

        /* no options and no verdict wanted: the lenient defaults, same answer */
        if (!strict)
                must(smx_pdu_decode(data, size, NULL, &q, NULL) == rc);

        if (rc != SMX_PDU_OK) {
                check_verdict(&p, &v, rc);
                return rc;
        }
        *flags = p.flags;
        must(p.h.command_length >= SMPP_HEADER_LEN && p.h.command_length <= size);
        check_views(&p, data);
        n_extra = unknown_tlvs(&p, extra, 64);
        must(n_extra <= p.tlv.unknown);
        if (!strict) {
                encoder_edges(&p, extra, n_extra, data[size - 1], data[size - 2]);
                header_paths(&p);
                submit_short_path(&p);
        }
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
        char esc[40];

        if (fill_a[0] != 'A') {
                memset(fill_a, 'A', sizeof fill_a);
                memset(fill_nul, 'A', sizeof fill_nul);
        }
        uint32_t lenient_flags = 0, strict_flags = 0;
        int rl = one(data, size, 0, &lenient_flags);
        int rs = one(data, size, 1, &strict_flags);

        /* strict refuses only what lenient flags: strict OK => lenient OK, same flags */
        if (rs == SMX_PDU_OK)
                must(rl == SMX_PDU_OK && lenient_flags == strict_flags);
        if (size >= 8) {
                /* names of whatever command_id a peer sends, decodable or not */
                uint32_t id = (uint32_t)data[4] << 24 | (uint32_t)data[5] << 16 |
                              (uint32_t)data[6] << 8 | data[7];
                must(smx_command_name(id) != NULL);
                must(!smx_command_has_resp(id) || !(id & SMPP_RESP_BIT));
        }
        smx_frame_peek(data, size, 0);
        if (smx_frame_sniff(data, size)) {
                /* a log line's buffer, also too small for one escape */
                size_t cap = size % sizeof esc;
                size_t w = smx_escape(data, size < 8 ? size : 8, esc, cap);
                must(cap == 0 ? w == 0 : w < cap && esc[w] == 0);
        }
        return 0;
}
