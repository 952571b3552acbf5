/* Which character set an MT goes out in (SMX_ENC_AUTO: GSM 7-bit when every
 * character has a GSM form, else UCS-2), and the per-character encoder the
 * segmenter uses, so counting and writing can never disagree. */
#include "text/text_internal.h"

/* Units of utf8[0..len) in enc, or SMX_EINVAL when enc cannot hold it.
 * For GSM, the GSM-plain octets at the start (one septet each, equal to
 * the octet) are counted first: *plain = 1 when they are the whole text
 * (text.h), else 0. Runs of ASCII that take one unit per octet (for GSM:
 * default-table characters) are counted by a span scan; everything else
 * goes one code point at a time through smx_text_enc_cp. */
static long count_units(const uint8_t *s, size_t len, enum smx_encoding enc, int *plain)
{
        size_t total = 0, i = 0;

        *plain = 0;
        if (enc == SMX_ENC_GSM) {
                i = total = smx_text_gsm_plain_span(s, len);
                if (i == len) {
                        *plain = 1;
                        return (long)total;
                }
        }
        while (i < len) {
                uint8_t b = s[i];
                if (b < 0x80) {
                        size_t k = enc == SMX_ENC_GSM ? smx_text_gsm_basic_span(s + i, len - i)
                                                      : smx_text_ascii_span(s + i, len - i);
                        total += k;
                        i += k;
                        if (i >= len)
                                break;
                        b = s[i];
                }
                if (b < 0x80) {                 /* GSM: extension or no GSM form */
                        int c = smx_text_gsm_ascii[b];
                        if (c < 0)
                                return SMX_EINVAL;
                        total += 2;
                        i++;
                        continue;
                }
                uint32_t cp;
                int bad;
                uint8_t tmp[4];
                unsigned u = 0;
                i += smx_utf8_next(s + i, len - i, &cp, &bad);
                /* Invalid input is U+FFFD, which only the Unicode forms hold. */
                if (bad && enc != SMX_ENC_UCS2 && enc != SMX_ENC_UTF8)
                        return SMX_EINVAL;
                if (smx_text_enc_cp(enc, cp, tmp, &u) == 0)
                        return SMX_EINVAL;
                total += u;
        }
        return (long)total;
}

int smx_text_choose_plain(const uint8_t *utf8, size_t len, enum smx_encoding want,
                          size_t *units, int *gsm_plain)
{
        enum smx_encoding enc = want;
        long n;
        int plain = 0;

        *gsm_plain = 0;
        if (!utf8)
                len = 0;
        if (want == SMX_ENC_AUTO) {
                enc = SMX_ENC_GSM;
                n = count_units(utf8, len, enc, &plain);
                if (n < 0) {
                        enc = SMX_ENC_UCS2;
                        n = count_units(utf8, len, enc, &plain);
                }
        } else if (want < SMX_ENC_GSM || want > SMX_ENC_UTF8) {
                return SMX_EINVAL;
        } else {
                n = count_units(utf8, len, enc, &plain);
        }
        if (n < 0)
                return SMX_EINVAL;
        if (units)
                *units = (size_t)n;
        *gsm_plain = plain;
        return (int)enc;
}

int smx_text_choose(const uint8_t *utf8, size_t len, enum smx_encoding want,
                    size_t *units)
{
        int plain;
        return smx_text_choose_plain(utf8, len, want, units, &plain);
}
