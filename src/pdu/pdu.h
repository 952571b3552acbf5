/* The SMPP 3.4 PDU codec: pure functions over caller-owned buffers.
 *
 * Decoding works in place: a decoded `struct smx_pdu` holds views (pointer +
 * length) into the buffer the PDU was framed from; nothing is copied or
 * allocated, so the buffer must outlive the views. Encoding writes a whole PDU
 * straight into a caller-provided buffer and never allocates.
 *
 * The decoder is strict about memory (every read bounded by what is left of
 * *this* PDU, every C-Octet String NUL-terminated within its maximum) and
 * lenient about content (unknown TLVs skipped, known TLVs with a wrong length
 * ignored and flagged). When it refuses a PDU it says what the session must
 * answer: the request's own *_resp with a status, a generic_nack, close the
 * connection, or (for a response) fail the one request it answers.
 *
 * No function here does I/O or keeps state between calls. */
#ifndef SMX_PDU_H
#define SMX_PDU_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "smpp_defs.h"

/* A view of bytes inside a PDU buffer. For C-Octet Strings `len` excludes the
 * NUL; for Octet Strings it is the declared length. p may be NULL when len=0. */
struct smx_bytes {
        const uint8_t *p;
        uint16_t len;
};

struct smx_pdu_header {
        uint32_t command_length;
        uint32_t command_id;
        uint32_t command_status;
        uint32_t sequence_number;
};

/* bind_transmitter / bind_receiver / bind_transceiver (3.4 §4.1) */
struct smx_body_bind {
        struct smx_bytes system_id, password, system_type;
        uint8_t interface_version, addr_ton, addr_npi;
        struct smx_bytes address_range;
};

/* bind_*_resp: system_id (absent or empty when status != 0, B-07) */
struct smx_body_bind_resp {
        struct smx_bytes system_id;
};

/* outbind */
struct smx_body_outbind {
        struct smx_bytes system_id, password;
};

/* submit_sm, deliver_sm and data_sm share this body. For data_sm the fields
 * it does not carry (protocol_id, priority_flag, times, replace flag,
 * sm_default_msg_id, short_message) are zero/empty. */
struct smx_body_sm {
        struct smx_bytes service_type;
        uint8_t source_addr_ton, source_addr_npi;
        struct smx_bytes source_addr;
        uint8_t dest_addr_ton, dest_addr_npi;
        struct smx_bytes destination_addr;
        uint8_t esm_class, protocol_id, priority_flag;
        struct smx_bytes schedule_delivery_time, validity_period; /* len 0 or 16 */
        uint8_t registered_delivery, replace_if_present_flag, data_coding;
        uint8_t sm_default_msg_id;
        struct smx_bytes short_message; /* may contain 0x00 (GSM '@') */
};

/* submit_sm_resp, deliver_sm_resp, data_sm_resp: message_id, possibly absent
 * (error status, B-05) or empty. */
struct smx_body_sm_resp {
        struct smx_bytes message_id;
};

/* Known TLVs, decoded. `present` has one SMX_TLV_* bit per TLV seen with a
 * valid length; the first occurrence wins (C-07). Unknown TLVs are not
 * decoded here: walk them with smx_tlv_next() over [tlv_start, tlv_len). */
enum {
        SMX_TLV_RECEIPTED_MESSAGE_ID = 1u << 0,
        SMX_TLV_MESSAGE_STATE        = 1u << 1,
        SMX_TLV_NETWORK_ERROR_CODE   = 1u << 2,
        SMX_TLV_MESSAGE_PAYLOAD      = 1u << 3,
        SMX_TLV_SAR_MSG_REF_NUM      = 1u << 4,
        SMX_TLV_SAR_TOTAL_SEGMENTS   = 1u << 5,
        SMX_TLV_SAR_SEGMENT_SEQNUM   = 1u << 6,
        SMX_TLV_SC_INTERFACE_VERSION = 1u << 7,
        SMX_TLV_USER_MESSAGE_REFERENCE = 1u << 8,
        SMX_TLV_SOURCE_PORT          = 1u << 9,
        SMX_TLV_DESTINATION_PORT     = 1u << 10,
        SMX_TLV_PAYLOAD_TYPE         = 1u << 11,
        SMX_TLV_MORE_MESSAGES_TO_SEND = 1u << 12,
        SMX_TLV_DELIVERY_FAILURE_REASON = 1u << 13,
        SMX_TLV_SMX_MSG_IDENTITY     = 1u << 14,
        SMX_TLV_ADDITIONAL_STATUS_INFO_TEXT = 1u << 15,
        SMX_TLV_CONGESTION_STATE     = 1u << 16,
        SMX_TLV_MS_AVAILABILITY_STATUS = 1u << 17,
};

struct smx_tlvs {
        uint32_t present;                  /* SMX_TLV_* bits */
        struct smx_bytes receipted_message_id; /* C-string, NUL optional (C-09) */
        struct smx_bytes message_payload;
        struct smx_bytes smx_msg_identity;
        struct smx_bytes additional_status_info_text;
        uint8_t message_state;
        uint8_t network_error_type;        /* network_error_code octet 1 */
        uint16_t network_error_code;       /* octets 2-3, big-endian on the wire */
        uint16_t sar_msg_ref_num;
        uint8_t sar_total_segments, sar_segment_seqnum;
        uint8_t sc_interface_version;
        uint16_t user_message_reference;
        uint16_t source_port, destination_port;
        uint8_t payload_type, more_messages_to_send, delivery_failure_reason;
        uint8_t congestion_state, ms_availability_status;
        uint16_t count;                    /* TLVs in the PDU */
        uint16_t unknown;                  /* TLVs with tags we do not decode */
        uint16_t invalid;                  /* known tags with a wrong length (C-05, C-13) */
        uint16_t duplicate;                /* repeats of a known tag (C-07) */
        const uint8_t *tlv_start;          /* raw TLV region, for smx_tlv_next() */
        uint32_t tlv_len;
};

/* Leniency flags: the PDU was accepted but something in it was off. */
enum {
        SMX_PDUF_TLV_TRUNCATED    = 1u << 0, /* a TLV ran past the frame; tail dropped (C-03) */
        SMX_PDUF_SYSTEM_ID_BAD    = 1u << 1, /* bind_resp system_id unterminated/too long (B-01) */
        SMX_PDUF_MESSAGE_ID_LONG  = 1u << 2, /* *_resp message_id longer than 64 chars (B-03) */
        SMX_PDUF_TRAILING_BYTES   = 1u << 3, /* bytes after a header-only body */
        SMX_PDUF_BAD_TIME         = 1u << 4, /* time field neither 0 nor 16 chars (B-15) */
        SMX_PDUF_SM_AND_PAYLOAD   = 1u << 5, /* both short_message and message_payload */
        SMX_PDUF_SM_LENGTH_OVER   = 1u << 6, /* sm_length 255 accepted (B-09, lenient) */
        SMX_PDUF_NONZERO_STATUS   = 1u << 7, /* request carried command_status != 0 */
        SMX_PDUF_ID_UNTERMINATED  = 1u << 8, /* *_resp message_id had no NUL: view runs to the frame end */
        /* input to smx_pdu_encode (submit_sm/deliver_sm): the caller vouches
         * that service_type, source_addr and destination_addr hold no NUL
         * (their lengths were measured with strnlen): the encoder checks
         * their lengths but skips the per-field NUL scan (the worker's MTs) */
        SMX_PDUF_CSTR_CHECKED     = 1u << 9,
};

/* A decoded PDU. All views point into the buffer passed to smx_pdu_decode.
 * Only the union member for h.command_id is written (bind: bind_transmitter/
 * receiver/transceiver; bind_resp: their resps; outbind; sm: submit_sm,
 * deliver_sm, data_sm and alert_notification, whose source_addr/esme_addr land
 * in source_* / dest_*; sm_resp: submit_sm_resp, deliver_sm_resp,
 * data_sm_resp). A field of `tlv` is meaningful only when its `present` bit is
 * set; the counters, tlv_start and tlv_len are always written. query_sm,
 * cancel_sm, replace_sm, submit_multi, the 5.0 broadcast commands and their
 * resps are recognised (SMX_PDU_OK, header only, body not parsed) so that the
 * session can answer them by state. The decoder does not zero the rest. */
struct smx_pdu {
        struct smx_pdu_header h;
        union {
                struct smx_body_bind bind;
                struct smx_body_bind_resp bind_resp;
                struct smx_body_outbind outbind;
                struct smx_body_sm sm;
                struct smx_body_sm_resp sm_resp;
        } u;
        struct smx_tlvs tlv;
        uint32_t flags;                    /* SMX_PDUF_* */
};

/* What the session must do about a PDU the decoder refused. */
enum smx_pdu_action {
        SMX_ACT_NONE = 0,        /* decoded fine */
        SMX_ACT_RESP,            /* answer the request with its own *_resp and `status` */
        SMX_ACT_NACK,            /* answer with generic_nack and `status` */
        SMX_ACT_FAIL_REQUEST,    /* a bad response: fail the one request it answers */
        SMX_ACT_DROP,            /* log, count, drop (a response/nack we cannot use) */
        SMX_ACT_CLOSE,           /* stream unusable: (nack if header read, then) close */
};

/* Decoder error codes (negative). */
enum smx_pdu_err {
        SMX_PDU_OK             = 0,
        SMX_PDU_E_SHORT        = -1,  /* command_length < 16 or buffer shorter than it */
        SMX_PDU_E_TOO_LONG     = -2,  /* command_length above the cap */
        SMX_PDU_E_CMDID        = -3,  /* unknown or reserved command_id */
        SMX_PDU_E_BODY_SHORT   = -4,  /* body ends inside a mandatory field (B-13) */
        SMX_PDU_E_CSTRING      = -5,  /* C-string not terminated within max/frame (B-01) */
        SMX_PDU_E_SM_LENGTH    = -6,  /* sm_length past the frame, or > 254 when strict */
        SMX_PDU_E_TLV_STREAM   = -7,  /* TLV header/value past the frame (strict mode) */
        SMX_PDU_E_BAD_TIME     = -8,  /* time field neither 1 nor 17 octets (strict) */
        SMX_PDU_E_NO_RESPONSE  = -9,  /* PDU kind that has no response (outbind/alert) malformed */
};

/* Result of a refused decode, filled by smx_pdu_decode when it returns < 0. */
struct smx_pdu_verdict {
        enum smx_pdu_action action;
        uint32_t status;        /* command_status to put in the answer */
        uint32_t answer_id;     /* command_id of the answer (resp or generic_nack) */
        const char *why;        /* static text for logs */
};

/* Decoder options. Zero-initialised = defaults. */
struct smx_pdu_opts {
        uint32_t max_pdu;       /* cap on command_length; 0 = SMPP_DEFAULT_MAX_PDU */
        uint8_t strict;         /* 1: reject what lenient mode flags (B-09, B-15, C-03) */
};

/* Decode one whole PDU: buf[0..len) must hold at least command_length bytes
 * (use the framer first). Returns SMX_PDU_OK, or a negative smx_pdu_err with
 * *verdict saying what to answer (verdict may be NULL; opts NULL = defaults).
 * Never reads outside buf[0..command_length), except that the 16-octet header
 * is read whenever len >= 16 so that out->h (sequence number included) is
 * filled even for a refused frame. The verdict table is in decode.c. */
int smx_pdu_decode(const uint8_t *buf, size_t len, const struct smx_pdu_opts *opts,
                   struct smx_pdu *out, struct smx_pdu_verdict *verdict);

/* Walk the raw TLV region: returns 1 and fills tag/value while a whole TLV
 * remains at *off, 0 at the end, -1 if the rest is truncated. */
int smx_tlv_next(const uint8_t *tlv_start, uint32_t tlv_len, uint32_t *off,
                 uint16_t *tag, struct smx_bytes *value);

/* ---- framing ---- */

/* Look at the start of a byte stream. Returns the length of the first PDU when
 * all of it is in buf (> 0), 0 when more bytes are needed, or a negative
 * smx_pdu_err (SMX_PDU_E_SHORT / SMX_PDU_E_TOO_LONG) when command_length is
 * unusable: the stream cannot be resynchronised. max_pdu 0 = default cap.
 * Reads at most 4 bytes to decide. */
ssize_t smx_frame_peek(const uint8_t *buf, size_t len, uint32_t max_pdu);

/* A hint for logs when command_length is absurd: names the protocol the first
 * bytes look like ("TLS", "HTTP", "SSH", ...), or NULL. (A-07, N-09) */
const char *smx_frame_sniff(const uint8_t *buf, size_t len);

/* Escape up to n bytes as printable ASCII (\xNN for others) into out (NUL-
 * terminated, truncated to cap). For logging peer data safely. */
size_t smx_escape(const uint8_t *in, size_t n, char *out, size_t cap);

/* ---- encoding ---- */

/* Outbound TLVs beyond the ones in struct smx_tlvs: raw tag/value pairs. */
struct smx_tlv_raw {
        uint16_t tag;
        uint16_t len;
        const uint8_t *value;
};

/* Encode `pdu` (its h.command_id, h.command_status, h.sequence_number and the
 * body matching the command_id; command_length is computed) into buf[0..cap).
 * Known TLVs are written for every bit set in pdu->tlv.present (in bit order),
 * then `extra` raw TLVs. Returns bytes written, or -ENOSPC when cap is too
 * small, -EINVAL when a field exceeds its SMPP maximum or the command_id is
 * not one we encode. Writes nothing outside buf[0..cap). */
ssize_t smx_pdu_encode(uint8_t *buf, size_t cap, const struct smx_pdu *pdu,
                       const struct smx_tlv_raw *extra, size_t n_extra);

/* Fast paths for the common answers: header-only PDUs (enquire_link(+resp),
 * unbind(+resp), generic_nack) and the empty-message_id deliver_sm_resp /
 * data_sm_resp (K-15). Return bytes written or -ENOSPC. */
ssize_t smx_pdu_encode_header_only(uint8_t *buf, size_t cap, uint32_t command_id,
                                   uint32_t status, uint32_t seq);
ssize_t smx_pdu_encode_empty_resp(uint8_t *buf, size_t cap, uint32_t command_id,
                                  uint32_t status, uint32_t seq);

/* ---- naming, classification ---- */

const char *smx_command_name(uint32_t command_id);  /* "submit_sm", or "unknown" */
const char *smx_status_name(uint32_t status);       /* "ESME_RTHROTTLED", or "unknown" */
const char *smx_state_name(uint8_t message_state);  /* "DELIVERED", or "UNKNOWN" */

/* True when command_id is a request for which the 3.4 spec (or 5.0, for the
 * broadcast commands) defines a response. */
int smx_command_has_resp(uint32_t command_id);

/* Client policy for a submit_sm_resp / generic_nack status (SMPP.md §4). */
enum smx_status_class {
        SMX_STATUS_OK = 0,
        SMX_STATUS_TRANSIENT,   /* retry on another ACTIVE bind after backoff */
        SMX_STATUS_THROTTLED,   /* transient + slow this bind */
        SMX_STATUS_PERMANENT,   /* MT failed */
        SMX_STATUS_SESSION,     /* bind problem: retry the MT elsewhere, rebind this one */
        SMX_STATUS_CONFIG,      /* credentials/configuration: alert, keep R2 spacing */
};
enum smx_status_class smx_status_classify(uint32_t status);
/* smx_status_classify with ESME_ROK, every accepted submit_sm's status,
 * answered inline (no call on the resp path). */
static inline enum smx_status_class smx_status_class_of(uint32_t status)
{
        return status == 0 ? SMX_STATUS_OK : smx_status_classify(status);
}

/* The sequence number after `seq` for requests we originate: 1..0x7FFFFFFF,
 * wrapping to 1, never 0 and never with bit 31 set (SMPP.md §8.3, E-09). */
static inline uint32_t smx_seq_next(uint32_t seq)
{
        return (seq >= SMPP_SEQ_MAX || seq == 0) ? SMPP_SEQ_MIN : seq + 1;
}

/* Big-endian helpers, used by codec and framer alike. */
static inline uint32_t smx_get_u32(const uint8_t *p)
{
        return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint16_t smx_get_u16(const uint8_t *p)
{
        return (uint16_t)(((uint16_t)p[0] << 8) | p[1]);
}
static inline void smx_put_u32(uint8_t *p, uint32_t v)
{
        p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
        p[2] = (uint8_t)(v >> 8);  p[3] = (uint8_t)v;
}
static inline void smx_put_u16(uint8_t *p, uint16_t v)
{
        p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v;
}

#endif
