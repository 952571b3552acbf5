/* Helpers shared between the files of src/text; not part of the API. */
#ifndef SMX_TEXT_INTERNAL_H
#define SMX_TEXT_INTERNAL_H

#include <string.h>

#include "text/text.h"

/* Decode n septets of GSM text, unpacked (packed = 0) or packed after `fill`
 * padding bits, to UTF-8 in out[0..cap). n must not exceed what `in` holds. */
size_t smx_text_gsm_decode(const uint8_t *in, size_t len, int packed, unsigned fill,
                           size_t n, uint8_t *out, size_t cap, unsigned *flags);

/* The map smx_dcs_map_service() fills, as a shared constant. */
const struct smx_dcs_map *smx_text_service_map(void);

/* GSM code of a code point: the septet (0..0x7F), SMX_TEXT_GSM_EXT | code
 * for the extension table (sent as ESC, code), or -1 when GSM has none. */
#define SMX_TEXT_GSM_EXT 0x100
int smx_text_gsm_code(uint32_t cp);
extern const int16_t smx_text_gsm_ascii[256]; /* the same for cp < 0x80; -1 above */

/* Fast paths of the MT text path (count_units, fill_part): runs of ASCII
 * octets that take exactly one unit each in the target encoding. */

/* Octets at the start of s[0..n) that are ASCII (< 0x80); eight at a time. */
static inline size_t smx_text_ascii_span(const uint8_t *s, size_t n)
{
        size_t k = 0;

        while (n - k >= 8) {
                uint64_t w;
                memcpy(&w, s + k, 8);
                if (w & 0x8080808080808080ull)
                        break;
                k += 8;
        }
        while (k < n && s[k] < 0x80)
                k++;
        return k;
}

/* Octets at the start of s[0..n) that are ASCII characters of the GSM
 * default table (one septet each); stops at an extension character, one GSM
 * lacks, or a non-ASCII octet. */
static inline size_t smx_text_gsm_basic_span(const uint8_t *s, size_t n)
{
        size_t k = 0;

        for (; k < n; k++)
                if ((uint16_t)smx_text_gsm_ascii[s[k]] >= 0x80)
                        break;
        return k;
}

/* Octets at the start of s[0..n) that are GSM-plain: ASCII characters of
 * the GSM default table whose septet is the octet itself (text.h,
 * smx_text_choose_plain); one compare per octet, as smx_text_gsm_basic_span. */
static inline size_t smx_text_gsm_plain_span(const uint8_t *s, size_t n)
{
        size_t k = 0;

        for (; k < n; k++)
                if ((uint16_t)smx_text_gsm_ascii[s[k]] != s[k])
                        break;
        return k;
}

/* The same, writing each character's septet to out[k]. */
static inline size_t smx_text_gsm_basic_copy(const uint8_t *s, size_t n, uint8_t *out)
{
        size_t k = 0;

        for (; k < n; k++) {
                uint16_t c = (uint16_t)smx_text_gsm_ascii[s[k]];
                if (c >= 0x80)
                        break;
                out[k] = (uint8_t)c;
        }
        return k;
}

/* Encode one code point in enc into tmp[0..4): returns octets (or septets,
 * for GSM: 1 or 2, ESC first) and *units (septets / UTF-16 units / octets);
 * 0 when enc cannot hold cp. */
static inline size_t smx_text_enc_cp(enum smx_encoding enc, uint32_t cp, uint8_t tmp[4],
                                     unsigned *units)
{
        switch (enc) {
        case SMX_ENC_GSM: {
                int c = cp < 0x80 ? smx_text_gsm_ascii[cp] : smx_text_gsm_code(cp);
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

#endif
