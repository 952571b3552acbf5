/* UCS-2 as SMSCs really send it: UTF-16BE, with surrogate pairs for
 * characters above U+FFFF (emoji). Odd lengths and unpaired surrogates are
 * replaced, flagged, never fatal (G-01). A few SMSCs put a byte-order mark
 * first, some of them little-endian: the mark is honoured and removed. */
#include "text/text.h"

#define REPLACEMENT 0xFFFDu

long smx_ucs2_from_utf8(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
        size_t i = 0, o = 0;

        while (i < len) {
                uint32_t cp;
                int bad;
                size_t n = smx_utf8_next(in + i, len - i, &cp, &bad);

                if (cp > 0xFFFF) {
                        uint32_t v = cp - 0x10000;
                        uint32_t hi = 0xD800 | (v >> 10), lo = 0xDC00 | (v & 0x3FF);
                        if (cap - o < 4)
                                return SMX_E2BIG;
                        out[o++] = (uint8_t)(hi >> 8);
                        out[o++] = (uint8_t)hi;
                        out[o++] = (uint8_t)(lo >> 8);
                        out[o++] = (uint8_t)lo;
                } else {
                        if (cap - o < 2)
                                return SMX_E2BIG;
                        out[o++] = (uint8_t)(cp >> 8);
                        out[o++] = (uint8_t)cp;
                }
                i += n;
        }
        return (long)o;
}

size_t smx_ucs2_to_utf8(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                        unsigned *flags)
{
        size_t i = 0, o = 0;
        unsigned hi = 0, lo = 1;        /* octet order inside a unit: big-endian */

        if (len >= 2 && in[0] == 0xFE && in[1] == 0xFF) {
                *flags |= SMX_TEXT_F_BOM;
                i = 2;
        } else if (len >= 2 && in[0] == 0xFF && in[1] == 0xFE) {
                *flags |= SMX_TEXT_F_BOM | SMX_TEXT_F_LITTLE_ENDIAN;
                hi = 1;
                lo = 0;
                i = 2;
        }
        while (i < len) {
                uint32_t cp;
                size_t used = 2;

                if (len - i < 2) {
                        *flags |= SMX_TEXT_F_ODD_LENGTH | SMX_TEXT_F_REPLACED;
                        cp = REPLACEMENT;
                        used = 1;
                } else {
                        cp = (uint32_t)in[i + hi] << 8 | in[i + lo];
                        if (cp >= 0xD800 && cp <= 0xDBFF) {
                                uint32_t low = len - i >= 4 ?
                                        ((uint32_t)in[i + 2 + hi] << 8 | in[i + 2 + lo]) : 0;
                                if (low >= 0xDC00 && low <= 0xDFFF) {
                                        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                                        used = 4;
                                } else {
                                        *flags |= SMX_TEXT_F_REPLACED;
                                        cp = REPLACEMENT;
                                }
                        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                                *flags |= SMX_TEXT_F_REPLACED;
                                cp = REPLACEMENT;
                        }
                }
                size_t w = smx_utf8_put(cp, out + o, cap - o);
                if (w == 0) {
                        *flags |= SMX_TEXT_F_TRUNCATED;
                        break;
                }
                o += w;
                i += used;
        }
        return o;
}
