/* Text the simulated service sends in MOs, encoded by data_coding the way
 * this service uses it (R9): 0 UTF-8, 1 ASCII, 2 GSM 03.38 (unpacked, one
 * septet per octet, extension characters as ESC + code), 3 ISO-8859-1,
 * 8 UCS-2/UTF-16BE (with surrogate pairs). Characters a coding cannot carry
 * become '?'. Input is our own UTF-8 (knob values), decoded leniently. */
#include <string.h>

#include "sim_internal.h"

/* GSM 03.38 default alphabet: septet -> Unicode code point (SMPP.md §9.1) */
static const uint16_t gsm_basic[128] = {
        0x40, 0xA3, 0x24, 0xA5, 0xE8, 0xE9, 0xF9, 0xEC, 0xF2, 0xC7, 0x0A, 0xD8, 0xF8, 0x0D, 0xC5, 0xE5,
        0x394, 0x5F, 0x3A6, 0x393, 0x39B, 0x3A9, 0x3A0, 0x3A8, 0x3A3, 0x398, 0x39E, 0x1B, 0xC6, 0xE6, 0xDF, 0xC9,
        0x20, 0x21, 0x22, 0x23, 0xA4, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x2D, 0x2E, 0x2F,
        0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F,
        0xA1, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F,
        0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0xC4, 0xD6, 0xD1, 0xDC, 0xA7,
        0xBF, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6E, 0x6F,
        0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0xE4, 0xF6, 0xF1, 0xFC, 0xE0,
};

static const struct {
        uint8_t code;
        uint16_t cp;
} gsm_ext[] = {
        { 0x0A, 0x0C }, { 0x14, '^' }, { 0x28, '{' }, { 0x29, '}' }, { 0x2F, '\\' },
        { 0x3C, '[' }, { 0x3D, '~' }, { 0x3E, ']' }, { 0x40, '|' }, { 0x65, 0x20AC },
};

/* Next code point from UTF-8 at s[*i..n); bad sequences give U+FFFD. */
static uint32_t utf8_next(const uint8_t *s, size_t n, size_t *i)
{
        uint8_t c = s[(*i)++];
        if (c < 0x80)
                return c;
        int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : -1;
        if (extra < 0)
                return 0xFFFD;
        uint32_t cp = c & (0x3Fu >> extra);
        for (int k = 0; k < extra; k++) {
                if (*i >= n || (s[*i] & 0xC0) != 0x80)
                        return 0xFFFD;
                cp = (cp << 6) | (s[(*i)++] & 0x3F);
        }
        return cp > 0x10FFFF ? 0xFFFD : cp;
}

static size_t put_gsm(uint32_t cp, uint8_t *out, size_t w, size_t cap)
{
        for (int k = 0; k < 128; k++) {
                if (gsm_basic[k] == cp && k != 0x1B) {
                        if (w + 1 > cap)
                                return 0;
                        out[w] = (uint8_t)k;
                        return 1;
                }
        }
        for (size_t k = 0; k < sizeof(gsm_ext) / sizeof(gsm_ext[0]); k++) {
                if (gsm_ext[k].cp == cp) {
                        if (w + 2 > cap)
                                return 0;
                        out[w] = 0x1B;
                        out[w + 1] = gsm_ext[k].code;
                        return 2;
                }
        }
        if (w + 1 > cap)
                return 0;
        out[w] = 0x3F;
        return 1;
}

size_t sim_text_encode(uint8_t dcs, const char *utf8, size_t n, uint8_t *out, size_t cap)
{
        const uint8_t *s = (const uint8_t *)utf8;
        size_t i = 0, w = 0;
        while (i < n) {
                size_t start = i;
                uint32_t cp = utf8_next(s, n, &i);
                size_t k;
                switch (dcs) {
                case SMPP_DCS_DEFAULT:
                        k = i - start;
                        if (cp == 0xFFFD && k == 1) {
                                static const uint8_t rep[] = { 0xEF, 0xBF, 0xBD };
                                if (w + 3 > cap)
                                        return w;
                                memcpy(out + w, rep, 3);
                                w += 3;
                                continue;
                        }
                        if (w + k > cap)
                                return w;
                        memcpy(out + w, s + start, k);
                        w += k;
                        break;
                case SMPP_DCS_GSM:
                        k = put_gsm(cp, out, w, cap);
                        if (!k)
                                return w;
                        w += k;
                        break;
                case SMPP_DCS_UCS2:
                        if (cp >= 0x10000) {
                                if (w + 4 > cap)
                                        return w;
                                uint32_t v = cp - 0x10000;
                                uint16_t hi = (uint16_t)(0xD800 | (v >> 10)), lo = (uint16_t)(0xDC00 | (v & 0x3FF));
                                smx_put_u16(out + w, hi);
                                smx_put_u16(out + w + 2, lo);
                                w += 4;
                        } else {
                                if (w + 2 > cap)
                                        return w;
                                smx_put_u16(out + w, (uint16_t)cp);
                                w += 2;
                        }
                        break;
                default: /* 1 ASCII, 3 Latin-1, others: one octet per character */
                        if (w + 1 > cap)
                                return w;
                        out[w++] = (uint8_t)((cp < 0x80 || (dcs == SMPP_DCS_LATIN1 && cp < 0x100)) ? cp : '?');
                        break;
                }
        }
        return w;
}
