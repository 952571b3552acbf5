/* Splitting an MT into submit_sm parts (SMPP.md §9.3-9.5).
 *
 * One pass per part: characters are encoded straight into the caller's
 * buffer after the part's UDH, until the next character would pass the
 * part's unit limit. Runs of ASCII that take one unit each are copied in a
 * tight loop (GSM: a table lookup per octet, or a plain copy when the
 * counting pass found the text GSM-plain, smx_text_choose_plain; ASCII,
 * Latin-1, UTF-8: memcpy) bounded once by the units and octets left; every other character goes one
 * at a time through smx_text_enc_cp. A character is written whole
 * or not at all, so an ESC pair, a surrogate pair or a UTF-8 sequence never
 * straddles two parts. GSM septets are written one per octet and, for SMSCs
 * that want packed data, packed in place afterwards. The concatenation
 * total is known only at the end and is patched into each UDH / SAR triple. */
#include "mem/copy_small.h"
#include "text/text_internal.h"

/* Units a part may hold: hdr 0 (single), 6 (8-bit ref) or 7 (16-bit ref). */
static size_t part_limit(enum smx_encoding enc, size_t hdr)
{
        static const uint16_t gsm[3] = {SMX_SEG_GSM_SINGLE, SMX_SEG_GSM_UDH8, SMX_SEG_GSM_UDH16};
        static const uint16_t ucs2[3] = {SMX_SEG_UCS2_SINGLE, SMX_SEG_UCS2_UDH8,
                                         SMX_SEG_UCS2_UDH16};
        static const uint16_t octet[3] = {SMX_SEG_OCTET_SINGLE, SMX_SEG_OCTET_UDH8,
                                          SMX_SEG_OCTET_UDH16};
        size_t k = hdr == 0 ? 0 : hdr == 6 ? 1 : 2;

        if (enc == SMX_ENC_GSM)
                return gsm[k];
        if (enc == SMX_ENC_UCS2)
                return ucs2[k];
        return octet[k];
}

/* The fast path of fill_part: ASCII characters from s[0..n) that take one
 * unit each in enc, written to out, whose room the caller has already
 * bounded (n units, and `room` octets). Returns the characters written; the
 * character it stops at (if any) is left to the per-character path.
 * plain: the whole text is GSM-plain (smx_text_choose_plain), so each
 * septet is its octet and the run is copied, not looked up. */
static size_t fill_ascii_run(enum smx_encoding enc, int plain, const uint8_t *s, size_t n,
                             uint8_t *out, size_t room)
{
        size_t k;

        switch (enc) {
        case SMX_ENC_GSM:
                if (n > room)
                        n = room;
                if (plain) {
                        copy_small(out, s, n);
                        return n;
                }
                return smx_text_gsm_basic_copy(s, n, out);
        case SMX_ENC_UCS2:
                if (n > room / 2)
                        n = room / 2;
                for (k = 0; k < n && s[k] < 0x80; k++) {
                        out[2 * k] = 0;
                        out[2 * k + 1] = s[k];
                }
                return k;
        case SMX_ENC_LATIN1:
        case SMX_ENC_ASCII:
        case SMX_ENC_UTF8:
                if (n > room)
                        n = room;
                k = smx_text_ascii_span(s, n);
                memcpy(out, s, k);
                return k;
        default:
                return 0;
        }
}

/* Encode characters from utf8[*pos..len) into dst[hdr..room) while the part
 * holds at most `limit` units. Returns the part's octets (UDH included) or
 * SMX_E2BIG when the buffer runs out; *units gets the units written.
 * Runs of ASCII go through fill_ascii_run, bounded once by the units and
 * octets left; the character after a run goes through the general path,
 * which alone decides E2BIG / EINVAL / end of part, exactly as if every
 * character had taken it. plain: the text is GSM-plain (fill_ascii_run). */
static long fill_part(enum smx_encoding enc, int packed, int plain, const uint8_t *utf8,
                      size_t len, size_t *pos, size_t limit, uint8_t *dst, size_t hdr,
                      size_t room, size_t *units)
{
        size_t o = hdr, u = 0, i = *pos;

        while (i < len) {
                if (utf8[i] < 0x80 && o < room) {
                        size_t run = len - i;
                        if (run > limit - u)
                                run = limit - u;
                        run = fill_ascii_run(enc, plain, utf8 + i, run, dst + o, room - o);
                        i += run;
                        o += run * (enc == SMX_ENC_UCS2 ? 2 : 1);
                        u += run;
                        if (i >= len)
                                break;
                }

                uint32_t cp;
                int bad;
                uint8_t tmp[4];
                unsigned cu = 0;
                size_t n = 1;
                if (utf8[i] < 0x80)
                        cp = utf8[i];
                else
                        n = smx_utf8_next(utf8 + i, len - i, &cp, &bad);
                size_t w = smx_text_enc_cp(enc, cp, tmp, &cu);

                if (w == 0)
                        return SMX_EINVAL;      /* smx_text_choose said it fits */
                if (u + cu > limit)
                        break;
                if (room - o < w)
                        return SMX_E2BIG;
                for (size_t k = 0; k < w; k++)
                        dst[o + k] = tmp[k];
                o += w;
                u += cu;
                i += n;
        }
        *pos = i;
        *units = u;
        if (enc == SMX_ENC_GSM && packed)
                o = hdr + smx_gsm7_pack(dst + hdr, u, hdr ? smx_gsm7_fill_bits(hdr) : 0,
                                        dst + hdr, room - hdr);
        return (long)o;
}

long smx_text_single_part(const uint8_t *utf8, size_t len, const struct smx_seg_opts *opts,
                          uint8_t *dst, size_t room, uint8_t *data_coding)
{
        enum smx_encoding enc = opts->enc;
        size_t units = opts->units, pos = 0, u;

        /* only a text the caller counted in an explicit encoding; anything
         * else (and every error) is smx_text_segment's */
        if (!utf8 || !units || enc < SMX_ENC_GSM || enc > SMX_ENC_UTF8 ||
            units > part_limit(enc, 0))
                return SMX_EINVAL;
        int dcs = smx_dcs_for_encoding(opts->map ? opts->map : smx_text_service_map(), enc);
        if (dcs < 0)
                return SMX_EINVAL;
        int plain = enc == SMX_ENC_GSM && opts->gsm_plain;
        long n = fill_part(enc, opts->gsm_packed != 0, plain, utf8, len, &pos, units, dst, 0,
                           room, &u);
        if (n < 0)
                return n;
        *data_coding = (uint8_t)dcs;
        return n;
}

int smx_text_segment(const uint8_t *utf8, size_t len, const struct smx_seg_opts *opts,
                     uint8_t *buf, size_t cap, struct smx_seg_part *parts,
                     size_t max_parts, struct smx_seg_info *info)
{
        const struct smx_dcs_map *map = opts->map;
        size_t units, off = 0, pos = 0, nparts = 0, hdr = 0;
        int packed = opts->gsm_packed != 0, plain = 0;
        int r, dcs;
        enum smx_encoding enc;

        if (!utf8)
                len = 0;
        if (!map)
                map = smx_text_service_map();
        if (opts->units && opts->enc >= SMX_ENC_GSM && opts->enc <= SMX_ENC_UTF8) {
                enc = opts->enc;          /* counted by the caller (smx_text_choose) */
                units = opts->units;
                plain = enc == SMX_ENC_GSM && opts->gsm_plain;
        } else {
                r = smx_text_choose(utf8, len, opts->enc, &units);
                if (r < 0)
                        return r;
                enc = (enum smx_encoding)r;
        }
        dcs = smx_dcs_for_encoding(map, enc);
        if (dcs < 0)
                return SMX_EINVAL;
        if (max_parts == 0)
                return SMX_E2BIG;
        if (info) {
                info->enc = enc;
                info->units = units;
                info->bytes = 0;
        }

        if (units <= part_limit(enc, 0) || opts->mode == SMX_SEG_PAYLOAD) {
                int payload = units > part_limit(enc, 0);
                size_t u;
                long n = fill_part(enc, packed, plain, utf8, len, &pos,
                                   payload ? SIZE_MAX : units, buf, 0, cap, &u);
                if (n < 0)
                        return (int)n;
                if (n > (long)SMX_SEG_PAYLOAD_MAX)
                        return SMX_E2BIG;
                parts[0] = (struct smx_seg_part){
                        .sm = buf, .len = (uint32_t)n,
                        .units = (uint16_t)(u > UINT16_MAX ? UINT16_MAX : u),
                        .data_coding = (uint8_t)dcs, .payload = (uint8_t)payload,
                };
                if (info)
                        info->bytes = (size_t)n;
                return 1;
        }

        if (opts->mode == SMX_SEG_UDH8)
                hdr = 6;
        else if (opts->mode == SMX_SEG_UDH16)
                hdr = 7;
        /* SAR parts leave room for the 16-bit-reference UDH the SMSC may build. */
        size_t limit = part_limit(enc, opts->mode == SMX_SEG_SAR ? 7 : hdr);

        while (pos < len) {
                struct smx_seg_part *p;
                size_t u;
                long n;

                if (nparts >= max_parts || nparts >= SMX_SEG_MAX_PARTS)
                        return SMX_E2BIG;
                if (hdr && smx_udh_write_concat(hdr == 7, opts->ref, 0, (uint8_t)(nparts + 1),
                                                buf + off, cap - off) != hdr)
                        return SMX_E2BIG;
                n = fill_part(enc, packed, plain, utf8, len, &pos, limit, buf + off, hdr,
                              cap - off, &u);
                if (n < 0)
                        return (int)n;
                p = &parts[nparts++];
                *p = (struct smx_seg_part){
                        .sm = buf + off, .len = (uint32_t)n, .units = (uint16_t)u,
                        .esm_class = hdr ? SMPP_ESM_UDHI : 0, .data_coding = (uint8_t)dcs,
                        .sar = opts->mode == SMX_SEG_SAR,
                        .sar_msg_ref_num = opts->mode == SMX_SEG_SAR ? opts->ref : 0,
                        .sar_segment_seqnum = opts->mode == SMX_SEG_SAR ? (uint8_t)nparts : 0,
                };
                off += (size_t)n;
        }
        for (size_t k = 0; k < nparts; k++) {
                if (hdr)
                        buf[(size_t)(parts[k].sm - buf) + hdr - 2] = (uint8_t)nparts;
                if (parts[k].sar)
                        parts[k].sar_total_segments = (uint8_t)nparts;
        }
        if (info)
                info->bytes = off;
        return (int)nparts;
}
