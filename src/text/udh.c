/* User data header (3GPP TS 23.040 §9.2.3.24; SMPP.md §9.4): UDHL, then IEs
 * of (IEI, IEDL, data). Every read is checked against both the UDHL and the
 * short_message length; a malformed header never stops the text from being
 * delivered (HOSTILE H-01..H-05). */
#include "text/text.h"

enum {
        IEI_CONCAT8 = 0x00,     /* 8-bit reference concatenation, IEDL 3 */
        IEI_PORT8 = 0x04,       /* 8-bit application ports, IEDL 2 */
        IEI_PORT16 = 0x05,      /* 16-bit application ports, IEDL 4 */
        IEI_CONCAT16 = 0x08,    /* 16-bit reference concatenation, IEDL 4 */
        IEI_SINGLE_SHIFT = 0x24, /* national language single shift, IEDL 1 */
        IEI_LOCKING_SHIFT = 0x25, /* national language locking shift, IEDL 1 */
};

/* One concat IE: valid (total >= 1, 1 <= seq <= total) replaces any earlier
 * one (23.040: the last of repeated/conflicting IEs wins); invalid ones are
 * ignored (H-05). */
static void take_concat(struct smx_udh *u, int ref16, const uint8_t *d)
{
        uint16_t ref = ref16 ? (uint16_t)(d[0] << 8 | d[1]) : d[0];
        uint8_t total = d[ref16 ? 2 : 1], seq = d[ref16 ? 3 : 2];

        if (total == 0 || seq == 0 || seq > total) {
                u->flags |= SMX_UDH_F_CONCAT_BAD;
                return;
        }
        if (u->has_concat)
                u->flags |= SMX_UDH_F_CONCAT_REPEAT;
        u->has_concat = 1;
        u->concat_16 = (uint8_t)(ref16 != 0);
        u->ref = ref;
        u->total = total;
        u->seq = seq;
}

int smx_udh_parse(const uint8_t *sm, size_t len, struct smx_udh *out)
{
        *out = (struct smx_udh){0};
        if (!sm || len == 0) {
                out->flags |= SMX_UDH_F_EMPTY;
                return 0;
        }
        size_t udhl = sm[0];
        if (udhl + 1 > len) {
                /* The header claims more than there is: no text can be found. */
                out->flags |= SMX_UDH_F_UDHL_OVER;
                out->hdr_len = len;
                out->payload.p = sm + len;
                out->payload.len = 0;
                udhl = len - 1;
        } else {
                out->hdr_len = udhl + 1;
                out->payload.p = sm + udhl + 1;
                out->payload.len = len - udhl - 1;
        }

        const uint8_t *h = sm + 1;
        size_t i = 0;
        while (i + 2 <= udhl) {
                uint8_t iei = h[i], iedl = h[i + 1];
                if (iedl > udhl - i - 2) {
                        out->flags |= SMX_UDH_F_IE_OVER;        /* H-03 */
                        break;
                }
                const uint8_t *d = h + i + 2;
                out->ie_count++;
                switch (iei) {
                case IEI_CONCAT8:
                case IEI_CONCAT16: {
                        int ref16 = iei == IEI_CONCAT16;
                        if (iedl != (ref16 ? 4 : 3))
                                out->flags |= SMX_UDH_F_IE_BAD_LEN;
                        else
                                take_concat(out, ref16, d);
                        break;
                }
                case IEI_PORT8:
                        if (iedl != 2) {
                                out->flags |= SMX_UDH_F_IE_BAD_LEN;
                                break;
                        }
                        out->has_ports = 1;
                        out->ports_16 = 0;
                        out->dst_port = d[0];
                        out->src_port = d[1];
                        break;
                case IEI_PORT16:
                        if (iedl != 4) {
                                out->flags |= SMX_UDH_F_IE_BAD_LEN;
                                break;
                        }
                        out->has_ports = 1;
                        out->ports_16 = 1;
                        out->dst_port = (uint16_t)(d[0] << 8 | d[1]);
                        out->src_port = (uint16_t)(d[2] << 8 | d[3]);
                        break;
                case IEI_SINGLE_SHIFT:
                case IEI_LOCKING_SHIFT:
                        if (iedl != 1) {
                                out->flags |= SMX_UDH_F_IE_BAD_LEN;
                                break;
                        }
                        out->flags |= SMX_UDH_F_NATIONAL;
                        if (iei == IEI_SINGLE_SHIFT) {
                                out->has_single_shift = 1;
                                out->single_shift = d[0];
                        } else {
                                out->has_locking_shift = 1;
                                out->locking_shift = d[0];
                        }
                        break;
                default:
                        break;          /* other IEs: skipped by length */
                }
                i += 2 + (size_t)iedl;
        }
        if (i < udhl && !(out->flags & SMX_UDH_F_IE_OVER))
                out->flags |= SMX_UDH_F_IE_OVER;        /* one stray octet left */
        return 0;
}

size_t smx_udh_write_concat(int ref16, uint16_t ref, uint8_t total, uint8_t seq,
                            uint8_t *out, size_t cap)
{
        if (ref16) {
                if (cap < 7)
                        return 0;
                out[0] = 6;
                out[1] = IEI_CONCAT16;
                out[2] = 4;
                out[3] = (uint8_t)(ref >> 8);
                out[4] = (uint8_t)ref;
                out[5] = total;
                out[6] = seq;
                return 7;
        }
        if (cap < 6)
                return 0;
        out[0] = 5;
        out[1] = IEI_CONCAT8;
        out[2] = 3;
        out[3] = (uint8_t)ref;
        out[4] = total;
        out[5] = seq;
        return 6;
}

void smx_concat_pick(const struct smx_udh *udh, int sar_present, uint16_t sar_ref,
                     uint8_t sar_total, uint8_t sar_seq, struct smx_concat *out)
{
        int sar_ok = sar_present && sar_total >= 1 && sar_seq >= 1 && sar_seq <= sar_total;

        *out = (struct smx_concat){0};
        if (sar_present && !sar_ok)
                out->sar_invalid = 1;
        if (udh && udh->has_concat) {
                out->from_udh = 1;
                out->ref = udh->ref;
                out->total = udh->total;
                out->seq = udh->seq;
                if (sar_ok && (sar_ref != udh->ref || sar_total != udh->total ||
                               sar_seq != udh->seq))
                        out->mismatch = 1;
        } else if (sar_ok) {
                out->ref = sar_ref;
                out->total = sar_total;
                out->seq = sar_seq;
        } else {
                return;
        }
        out->present = out->total >= 2;
}
