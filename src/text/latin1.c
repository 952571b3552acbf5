/* ISO-8859-1 and ASCII (IA5): one octet per character. Latin-1 octets map
 * to the code points of the same value; ASCII octets above 0x7F are not
 * characters and are replaced (flagged). */
#include "text/text.h"

long smx_latin1_from_utf8(const uint8_t *in, size_t len, uint32_t max_cp,
                          uint8_t *out, size_t cap, size_t *bad_at)
{
        size_t i = 0, o = 0;

        while (i < len) {
                uint32_t cp;
                int bad;
                size_t n = smx_utf8_next(in + i, len - i, &cp, &bad);

                if (bad || cp > max_cp) {
                        if (bad_at)
                                *bad_at = i;
                        return SMX_EINVAL;
                }
                if (o >= cap)
                        return SMX_E2BIG;
                out[o++] = (uint8_t)cp;
                i += n;
        }
        return (long)o;
}

static size_t octets_to_utf8(const uint8_t *in, size_t len, uint32_t max_cp,
                             uint8_t *out, size_t cap, unsigned *flags)
{
        size_t o = 0;

        for (size_t i = 0; i < len; i++) {
                uint32_t cp = in[i];
                if (cp > max_cp) {
                        *flags |= SMX_TEXT_F_REPLACED;
                        cp = 0xFFFD;
                }
                size_t w = smx_utf8_put(cp, out + o, cap - o);
                if (w == 0) {
                        *flags |= SMX_TEXT_F_TRUNCATED;
                        break;
                }
                o += w;
        }
        return o;
}

size_t smx_latin1_to_utf8(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                          unsigned *flags)
{
        return octets_to_utf8(in, len, 0xFF, out, cap, flags);
}

size_t smx_ascii_to_utf8(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                         unsigned *flags)
{
        return octets_to_utf8(in, len, 0x7F, out, cap, flags);
}
