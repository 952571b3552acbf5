/* submit_sm fast path: the worker's single-part MT encoded straight into the
 * send buffer in two steps, with one bounds check for the whole PDU instead
 * of smx_pdu_encode's per-field checks, body-kind dispatch and TLV loop.
 *
 * smx_pdu_submit_short_begin checks once that the buffer can hold the
 * largest such PDU (SMX_SUBMIT_SHORT_MAX: both addresses at their maximum, a
 * 254-octet short_message, the identity TLV at its maximum) and that the
 * addresses fit; it writes the header's command_id/status and every
 * mandatory field up to sm_length, and returns where short_message goes.
 * The caller writes the short_message octets there (the text layer encodes
 * the text in place: smx_text_single_part), then smx_pdu_submit_short_end
 * patches data_coding, sm_length, the sequence number and command_length
 * and appends the smx_msg_identity TLV. The fields the worker never sets
 * (service_type, schedule_delivery_time, validity_period, protocol_id,
 * replace_if_present_flag, sm_default_msg_id) are empty / 0. The bytes are
 * exactly smx_pdu_encode's for the same submit_sm with tlv.present empty or
 * SMX_TLV_SMX_MSG_IDENTITY alone (tests/unit/pdu/test_pdu_submit_short.c
 * compares the two over generated PDUs). Pure functions, any thread. */
#ifndef SMX_PDU_SUBMIT_SHORT_H
#define SMX_PDU_SUBMIT_SHORT_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mem/copy_small.h"
#include "pdu/pdu.h"
#include "pdu/smpp_defs.h"

/* The mandatory fields of a worker's submit_sm. Addresses carry no NUL
 * (the caller measured them) and no terminator. */
struct smx_submit_short {
        const uint8_t *src, *dst;
        uint8_t src_len, dst_len;       /* < SMPP_ADDR_MAX */
        uint8_t src_ton, src_npi, dst_ton, dst_npi;
        uint8_t esm_class, priority_flag, registered_delivery;
};

/* The largest PDU the fast path writes (header, mandatory fields, a full
 * short_message, the identity TLV at its maximum). */
#define SMX_SUBMIT_SHORT_MAX                                                                  \
        (SMPP_HEADER_LEN + 1u /* service_type */ + 2u + SMPP_ADDR_MAX + 2u + SMPP_ADDR_MAX + \
         3u + 2u /* two empty times */ + 5u + SMPP_SHORT_MESSAGE_MAX + 4u +                 \
         SMPP_SMX_IDENTITY_MAX)

/* The body (everything after the 16-octet header) up to sm_length, written
 * at body with no bounds check: the caller guarantees 17 + src_len + dst_len
 * octets of room and addresses under SMPP_ADDR_MAX. Returns where
 * short_message goes. smx_submit pre-encodes a single-part MT's body into
 * its slot this way (src/core/submit.c). */
static inline uint8_t *smx_pdu_submit_body_begin(uint8_t *body, const struct smx_submit_short *f)
{
        uint8_t *p = body;
        p[0] = 0;                       /* service_type "" */
        p[1] = f->src_ton;
        p[2] = f->src_npi;
        p += 3;
        copy_upto64(p, f->src, f->src_len);
        p += f->src_len;
        p[0] = 0;
        p[1] = f->dst_ton;
        p[2] = f->dst_npi;
        p += 3;
        copy_upto64(p, f->dst, f->dst_len);
        p += f->dst_len;
        p[0] = 0;
        p[1] = f->esm_class;
        p[2] = 0;                       /* protocol_id */
        p[3] = f->priority_flag;
        p[4] = 0;                       /* schedule_delivery_time "" */
        p[5] = 0;                       /* validity_period "" */
        p[6] = f->registered_delivery;
        p[7] = 0;                       /* replace_if_present_flag */
        p[8] = 0;                       /* data_coding, patched by _end */
        p[9] = 0;                       /* sm_default_msg_id */
        p[10] = 0;                      /* sm_length, patched by _end */
        return p + 11;
}

/* Octets of a body before its short_message: service_type, the two
 * addresses with TON/NPI and terminators, the fields up to sm_length. */
#define SMX_SUBMIT_BODY_FIXED 17u
/* Octets of the identity TLV of a 16-octet identity (tag, length, value). */
#define SMX_SUBMIT_IDENT_TLV 20u
/* Where a body's source_addr starts: after service_type's NUL and the
 * source TON/NPI. */
#define SMX_SUBMIT_BODY_SRC_AT 3u
/* Where a body's destination_addr starts: after source_addr (src_len
 * octets), its NUL and the destination TON/NPI. */
static inline size_t smx_submit_body_dst_at(size_t src_len)
{
        return SMX_SUBMIT_BODY_SRC_AT + src_len + 3u;
}
/* Where a body's short_message starts (its sm_length octet is the one
 * before). */
static inline size_t smx_submit_body_sm_at(size_t src_len, size_t dst_len)
{
        return SMX_SUBMIT_BODY_FIXED + src_len + dst_len;
}

/* Finish a body begun at body whose short_message (sm_len octets,
 * <= SMPP_SHORT_MESSAGE_MAX) is at sm: data_coding, sm_length and the
 * identity TLV (identity NULL: none; else id_len octets,
 * 1..SMPP_SMX_IDENTITY_MAX). Returns the body's length. No checks. */
static inline size_t smx_pdu_submit_body_end(uint8_t *body, uint8_t *sm, size_t sm_len,
                                             uint8_t data_coding, const uint8_t *identity,
                                             size_t id_len)
{
        sm[-3] = data_coding;
        sm[-1] = (uint8_t)sm_len;
        uint8_t *p = sm + sm_len;
        if (identity) {
                smx_put_u16(p, SMPP_TAG_SMX_MSG_IDENTITY);
                smx_put_u16(p + 2, (uint16_t)id_len);
                copy_upto64(p + 4, identity, id_len);
                p += 4 + id_len;
        }
        return (size_t)(p - body);
}

/* The 16-octet header of a submit_sm whose body is body_len octets. */
static inline void smx_pdu_submit_header(uint8_t *buf, size_t body_len, uint32_t seq)
{
        smx_put_u32(buf, (uint32_t)(SMPP_HEADER_LEN + body_len));
        smx_put_u32(buf + 4, SMPP_SUBMIT_SM);
        smx_put_u32(buf + 8, 0);
        smx_put_u32(buf + 12, seq);
}

/* Write the PDU up to sm_length into buf; returns where short_message goes
 * (room for SMPP_SHORT_MESSAGE_MAX octets and the TLV after it), or NULL when
 * cap < SMX_SUBMIT_SHORT_MAX or an address is too long (nothing to do here:
 * the general encoder decides). */
static inline uint8_t *smx_pdu_submit_short_begin(uint8_t *buf, size_t cap,
                                                  const struct smx_submit_short *f)
{
        if (cap < SMX_SUBMIT_SHORT_MAX || f->src_len >= SMPP_ADDR_MAX ||
            f->dst_len >= SMPP_ADDR_MAX)
                return NULL;
        smx_put_u32(buf + 4, SMPP_SUBMIT_SM);
        smx_put_u32(buf + 8, 0);
        return smx_pdu_submit_body_begin(buf + SMPP_HEADER_LEN, f);
}

/* Finish the PDU begun at buf whose short_message (sm_len octets) is at sm:
 * data_coding, sm_length, sequence number, the identity TLV (identity NULL:
 * none; else id_len octets, 1..SMPP_SMX_IDENTITY_MAX) and command_length.
 * Returns the PDU's length, or -EINVAL (sm_len or id_len out of range:
 * nothing valid was written). */
static inline ssize_t smx_pdu_submit_short_end(uint8_t *buf, uint8_t *sm, size_t sm_len,
                                               uint8_t data_coding, const uint8_t *identity,
                                               size_t id_len, uint32_t seq)
{
        if (sm_len > SMPP_SHORT_MESSAGE_MAX ||
            (identity && (id_len < 1 || id_len > SMPP_SMX_IDENTITY_MAX)))
                return -EINVAL;
        size_t total = SMPP_HEADER_LEN +
                       smx_pdu_submit_body_end(buf + SMPP_HEADER_LEN, sm, sm_len, data_coding,
                                               identity, id_len);
        smx_put_u32(buf, (uint32_t)total);
        smx_put_u32(buf + 12, seq);
        return (ssize_t)total;
}

#endif
