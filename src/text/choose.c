/* Which character set an MT goes out in (SMX_ENC_AUTO: GSM 7-bit when every
 * character has a GSM form, else UCS-2), and the per-character encoder the
 * segmenter uses, so counting and writing can never disagree. */
#include "text/text_internal.h"

size_t smx_text_enc_cp(enum smx_encoding enc, uint32_t cp, uint8_t tmp[4], unsigned *units)
{
        switch (enc) {
        case SMX_ENC_GSM: {
                int c = smx_text_gsm_code(cp);
                if (c < 0)
                        return 0;
                if (c & SMX_TEXT_GSM_EXT) {
                        tmp[0] = 0x1B;          /* ESC */
                        tmp[1] = (uint8_t)(c & 0x7F);
                        *units = 2;
                        return 2;
                }
                tmp[0] = (uint8_t)c;
                *units = 1;
                return 1;
        }
        case SMX_ENC_UCS2:
                if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                        cp = 0xFFFD;
                if (cp > 0xFFFF) {
                        uint32_t v = cp - 0x10000;
                        uint32_t hi = 0xD800 | (v >> 10), lo = 0xDC00 | (v & 0x3FF);
                        tmp[0] = (uint8_t)(hi >> 8);
                        tmp[1] = (uint8_t)hi;
                        tmp[2] = (uint8_t)(lo >> 8);
                        tmp[3] = (uint8_t)lo;
                        *units = 2;
                        return 4;
                }
                tmp[0] = (uint8_t)(cp >> 8);
                tmp[1] = (uint8_t)cp;
                *units = 1;
                return 2;
        case SMX_ENC_LATIN1:
        case SMX_ENC_ASCII:
                if (cp > (enc == SMX_ENC_ASCII ? 0x7Fu : 0xFFu))
                        return 0;
                tmp[0] = (uint8_t)cp;
                *units = 1;
                return 1;
        case SMX_ENC_UTF8: {
                size_t n = smx_utf8_put(cp, tmp, 4);
                *units = (unsigned)n;
                return n;
        }
        default:
                return 0;
        }
}

int smx_text_choose(const uint8_t *utf8, size_t len, enum smx_encoding want,
                    size_t *units)
{
        enum smx_encoding enc = want;
        size_t total = 0, i;

        if (!utf8)
                len = 0;
        if (want == SMX_ENC_AUTO) {
                enc = SMX_ENC_GSM;
                for (i = 0; i < len; ) {
                        uint32_t cp;
                        int bad;
                        i += smx_utf8_next(utf8 + i, len - i, &cp, &bad);
                        if (bad || smx_gsm7_cp_septets(cp) == 0) {
                                enc = SMX_ENC_UCS2;
                                break;
                        }
                }
        } else if (want < SMX_ENC_GSM || want > SMX_ENC_UTF8) {
                return SMX_EINVAL;
        }
        for (i = 0; i < len; ) {
                uint32_t cp;
                int bad;
                uint8_t tmp[4];
                unsigned u = 0;
                i += smx_utf8_next(utf8 + i, len - i, &cp, &bad);
                /* Invalid input is U+FFFD, which only the Unicode forms hold. */
                if (bad && enc != SMX_ENC_UCS2 && enc != SMX_ENC_UTF8)
                        return SMX_EINVAL;
                if (smx_text_enc_cp(enc, cp, tmp, &u) == 0)
                        return SMX_EINVAL;
                total += u;
        }
        if (units)
                *units = total;
        return (int)enc;
}
