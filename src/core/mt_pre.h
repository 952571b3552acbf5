/* A single-part MT's submit_sm body, encoded once by smx_submit on the
 * application thread into the MT's slot, so the worker only writes the
 * 16-octet header (length, command id, status, its sequence number) and
 * copies the body into the bind's send buffer (src/worker/worker_mt.c
 * send_mt_pre).
 *
 * The body is everything after the header: service_type, the addresses with
 * their TON/NPI, the mandatory fields, the short_message (the text encoded
 * as smx_text_single_part encodes it) and the identity TLV last (a bind that
 * takes no TLVs gets the body less its last SMX_SUBMIT_IDENT_TLV octets). It
 * depends on the bind only through the data_coding sent for the MT's
 * encoding and GSM packing: smx_submit encodes with the client's profile
 * (the first configured SMSC's, client.c client_pre_profile), and a worker
 * sends the body as is only to a bind whose settings give the same octets
 * for that encoding (smx_bind.pre_mask); any other bind, a resend to one,
 * a long MT and the HTTP transport read the MT's fields as before. Those
 * fields are not stored twice: the addresses are read from the body
 * (smx_slot_from / smx_slot_to), and the text too when the short_message
 * octets are the text's own (a GSM-plain text unpacked, ASCII, most
 * 8-bit texts), else the text is stored at the end of the slot's inline
 * area (smx_slot_text); the body's length is read from its sm_length octet
 * (smx_slot_pre_len), so the slot's layout is unchanged. The octets are exactly the
 * worker's own encoders' (tests/unit/pdu/test_pdu_submit_short.c compares
 * the two over generated MTs). Pure function, any thread. */
#ifndef SMX_CORE_MT_PRE_H
#define SMX_CORE_MT_PRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mem/copy_small.h"
#include "pdu/smpp_defs.h"
#include "pdu/submit_short.h"
#include "text/text.h"

/* source_addr TON/NPI: international/E.164 for digits, alphanumeric else
 * (the worker's rule, worker_mt.c). */
static inline int smx_mt_from_digits(const char *from, size_t from_len)
{
        int digits = from_len > 0;
        for (size_t i = 0; i < from_len; i++)
                if (from[i] < '0' || from[i] > '9')
                        digits = 0;
        return digits;
}

/* Encode the body of a single-part MT's submit_sm into area[0..room), the
 * text (text_len octets, counted: so->enc explicit, so->units set) encoded
 * with so (its map and gsm_packed: the profile's), ident the MT's 16-octet
 * identity, gsm_dcs the data_coding so->map sends for SMX_ENC_GSM (< 0:
 * none): a GSM-plain text unpacked is copied with it, without the text
 * layer's call (the octets smx_text_single_part would write). Returns the body's length and sets *text_at_end: 0 when the
 * MT's text (as given) is the short_message's octets, 1 when it is not and
 * was copied to area[room - text_len..room). Returns 0 when the
 * MT is not pre-encoded (more than one part, a character the encoding
 * cannot carry, no room): the caller stores it the usual way; area may have
 * been written. Addresses are under SMPP_ADDR_MAX octets (smx_submit's
 * checks). */
static inline size_t smx_mt_pre_encode(uint8_t *area, size_t room, const char *from,
                                       size_t from_len, const char *to, size_t to_len,
                                       uint8_t priority, int want_dr, const uint8_t *text,
                                       size_t text_len, const struct smx_seg_opts *so,
                                       const uint8_t ident[16], int gsm_dcs, int *text_at_end)
{
        size_t fixed = SMX_SUBMIT_BODY_FIXED + from_len + to_len + SMX_SUBMIT_IDENT_TLV;
        if (text_len == 0 || fixed + text_len > room)
                return 0;
        int digits = smx_mt_from_digits(from, from_len);
        struct smx_submit_short f = {
                .src = (const uint8_t *)from, .dst = (const uint8_t *)to,
                .src_len = (uint8_t)from_len, .dst_len = (uint8_t)to_len,
                .src_ton = digits ? 1 : 5, .src_npi = digits ? 1 : 0,
                .dst_ton = 1, .dst_npi = 1,
                .esm_class = 0, .priority_flag = priority,
                .registered_delivery = want_dr ? SMPP_REGDEL_FINAL : SMPP_REGDEL_NONE,
        };
        uint8_t *sm = smx_pdu_submit_body_begin(area, &f);
        size_t sm_room = room - fixed;
        if (sm_room > SMPP_SHORT_MESSAGE_MAX)
                sm_room = SMPP_SHORT_MESSAGE_MAX;
        /* a GSM-plain text unpacked is its own septets (smx_text_choose_plain) */
        int plain = so->enc == SMX_ENC_GSM && so->gsm_plain && !so->gsm_packed &&
                    so->units == text_len && gsm_dcs >= 0;
        uint8_t dcs;
        long len;
        if (plain && text_len <= SMX_SEG_GSM_SINGLE) {
                copy_small(sm, text, text_len);
                len = (long)text_len;
                dcs = (uint8_t)gsm_dcs;
        } else {
                len = smx_text_single_part(text, text_len, so, sm, sm_room, &dcs);
                if (len < 0)
                        return 0;
        }
        size_t body = smx_pdu_submit_body_end(area, sm, (size_t)len, dcs, ident, 16);
        if ((size_t)len == text_len && (plain || memcmp(sm, text, text_len) == 0)) {
                *text_at_end = 0;
                return body;
        }
        if (body + text_len > room)
                return 0;
        copy_small(area + room - text_len, text, text_len);
        *text_at_end = 1;
        return body;
}

#endif
