/* Inbound text to UTF-8: data_coding through the SMSC's map to a codec, then
 * that codec into the caller's buffer. Data we cannot read as text (binary,
 * or a data_coding the map does not know) is written as hex and flagged, so
 * the application sees exactly what arrived (HOSTILE ground rule 5). */
#include "text/text_internal.h"

size_t smx_text_hex(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                    unsigned *flags)
{
        static const char digits[] = "0123456789ABCDEF";
        size_t o = 0;

        for (size_t i = 0; i < len; i++) {
                if (cap - o < 2) {
                        *flags |= SMX_TEXT_F_TRUNCATED;
                        break;
                }
                out[o++] = (uint8_t)digits[in[i] >> 4];
                out[o++] = (uint8_t)digits[in[i] & 0x0F];
        }
        return o;
}

static size_t decode_gsm(const uint8_t *in, size_t len, const struct smx_text_decode_opts *o,
                         uint8_t *out, size_t cap, unsigned *flags)
{
        size_t udh = o->udh_len < len ? o->udh_len : len;
        const uint8_t *p = in + udh;
        size_t plen = len - udh;

        if (!o->gsm_packed) {
                size_t n = plen;
                if (o->septets && o->septets < n)
                        n = o->septets;
                return smx_text_gsm_decode(p, plen, 0, 0, n, out, cap, flags);
        }
        unsigned fill = smx_gsm7_fill_bits(udh);
        size_t n;
        if (o->septets) {
                n = smx_gsm7_packed_capacity(plen, fill);
                if (o->septets < n)
                        n = o->septets;
        } else {
                n = smx_gsm7_packed_septets(p, plen, fill, flags);
        }
        return smx_text_gsm_decode(p, plen, 1, fill, n, out, cap, flags);
}

int smx_text_decode(uint8_t dcs, const uint8_t *in, size_t len,
                    const struct smx_text_decode_opts *opts,
                    uint8_t *out, size_t cap, struct smx_text_result *res)
{
        static const struct smx_text_decode_opts defaults;
        const struct smx_text_decode_opts *o = opts ? opts : &defaults;
        const struct smx_dcs_map *map = o->map;
        unsigned flags = 0;
        size_t w = 0;
        uint8_t enc;

        res->len = 0;
        res->flags = 0;
        res->enc = SMX_TEXT_ENC_UNKNOWN;
        if (!out && cap > 0)
                return SMX_EINVAL;
        if (!in) {
                static const uint8_t none[1];
                in = none;
                len = 0;
        }
        if (!map)
                map = smx_text_service_map();
        enc = map->enc[dcs];
        if (enc == SMX_ENC_GSM) {
                w = decode_gsm(in, len, o, out, cap, &flags);
        } else {
                size_t udh = o->udh_len < len ? o->udh_len : len;
                const uint8_t *p = in + udh;
                size_t plen = len - udh;

                switch (enc) {
                case SMX_ENC_UCS2:
                        w = smx_ucs2_to_utf8(p, plen, out, cap, &flags);
                        break;
                case SMX_ENC_LATIN1:
                        w = smx_latin1_to_utf8(p, plen, out, cap, &flags);
                        break;
                case SMX_ENC_ASCII:
                        w = smx_ascii_to_utf8(p, plen, out, cap, &flags);
                        break;
                case SMX_ENC_UTF8:
                        w = smx_utf8_sanitize(p, plen, out, cap, &flags);
                        break;
                case SMX_TEXT_ENC_BINARY:
                        flags |= SMX_TEXT_F_RAW;
                        w = smx_text_hex(p, plen, out, cap, &flags);
                        break;
                default:
                        /* Unknown, and SMX_ENC_AUTO which is no charset. The
                         * whole data (header included) is shown. */
                        enc = SMX_TEXT_ENC_UNKNOWN;
                        flags |= SMX_TEXT_F_RAW | SMX_TEXT_F_UNKNOWN_DCS;
                        w = smx_text_hex(in, len, out, cap, &flags);
                        break;
                }
        }
        res->len = w;
        res->flags = flags;
        res->enc = enc;
        return 0;
}
