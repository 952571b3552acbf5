/* UTF-8 reading and writing for the content layer.
 *
 * smx_utf8_next() is the one place input text is decoded: every codec calls
 * it, so every codec treats invalid input the same way (G-11): an ill-formed
 * sequence becomes one U+FFFD per maximal invalid subpart (Unicode §3.9,
 * "best practice for U+FFFD substitution"), never a guess. */
#include "text/text.h"

#define REPLACEMENT 0xFFFDu

size_t smx_utf8_next(const uint8_t *s, size_t len, uint32_t *cp, int *bad)
{
        uint8_t b0 = s[0];
        uint32_t c;
        size_t need, i;
        uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the second octet */

        *bad = 0;
        if (b0 < 0x80) {
                *cp = b0;
                return 1;
        }
        if (b0 >= 0xC2 && b0 <= 0xDF) {
                need = 1;
                c = b0 & 0x1F;
        } else if (b0 >= 0xE0 && b0 <= 0xEF) {
                need = 2;
                c = b0 & 0x0F;
                if (b0 == 0xE0)
                        lo = 0xA0;      /* no overlong forms */
                else if (b0 == 0xED)
                        hi = 0x9F;      /* no surrogates */
        } else if (b0 >= 0xF0 && b0 <= 0xF4) {
                need = 3;
                c = b0 & 0x07;
                if (b0 == 0xF0)
                        lo = 0x90;
                else if (b0 == 0xF4)
                        hi = 0x8F;      /* nothing above U+10FFFF */
        } else {
                /* 0x80-0xC1 (continuation or overlong lead), 0xF5-0xFF */
                *cp = REPLACEMENT;
                *bad = 1;
                return 1;
        }
        for (i = 1; i <= need; i++) {
                uint8_t b;
                if (i >= len)
                        goto invalid;
                b = s[i];
                if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF))
                        goto invalid;
                c = (c << 6) | (b & 0x3F);
        }
        *cp = c;
        return need + 1;
invalid:
        /* s[0..i) is the maximal valid prefix: replace it as one unit. */
        *cp = REPLACEMENT;
        *bad = 1;
        return i;
}

size_t smx_utf8_put(uint32_t cp, uint8_t *out, size_t cap)
{
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                cp = REPLACEMENT;
        if (cp < 0x80) {
                if (cap < 1)
                        return 0;
                out[0] = (uint8_t)cp;
                return 1;
        }
        if (cp < 0x800) {
                if (cap < 2)
                        return 0;
                out[0] = (uint8_t)(0xC0 | cp >> 6);
                out[1] = (uint8_t)(0x80 | (cp & 0x3F));
                return 2;
        }
        if (cp < 0x10000) {
                if (cap < 3)
                        return 0;
                out[0] = (uint8_t)(0xE0 | cp >> 12);
                out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
                out[2] = (uint8_t)(0x80 | (cp & 0x3F));
                return 3;
        }
        if (cap < 4)
                return 0;
        out[0] = (uint8_t)(0xF0 | cp >> 18);
        out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
        out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[3] = (uint8_t)(0x80 | (cp & 0x3F));
        return 4;
}

size_t smx_utf8_sanitize(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                         unsigned *flags)
{
        size_t i = 0, o = 0;

        while (i < len) {
                uint32_t cp;
                int bad;
                size_t n = smx_utf8_next(in + i, len - i, &cp, &bad);
                size_t w;

                if (bad) {
                        *flags |= SMX_TEXT_F_REPLACED;
                        w = smx_utf8_put(cp, out + o, cap - o);
                } else if (n <= cap - o) {
                        for (size_t k = 0; k < n; k++)
                                out[o + k] = in[i + k];
                        w = n;
                } else {
                        w = 0;
                }
                if (w == 0) {
                        *flags |= SMX_TEXT_F_TRUNCATED;
                        break;
                }
                o += w;
                i += n;
        }
        return o;
}
