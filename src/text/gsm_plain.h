/* smx_text_gsm_plain_all: is every octet of a text its own GSM septet (LF,
 * CR, space, digits, letters, the ASCII punctuation but $ @ [ \ ] ^ _ and
 * the backquote, braces, bar and tilde)? Such a text is counted (units =
 * octets) and encoded (copied) without a table lookup per octet; that is
 * what smx_text_choose_plain's first span finds octet by octet
 * (text_internal.h smx_text_gsm_plain_span), here answered 16 octets at a
 * time so smx_submit can skip the count's call for the common case
 * (bench/README.md "CPU per MT, issue 16").
 *
 * With SSE2 (every x86-64) each 16-octet block is classified with range
 * compares (signed: octets >= 0x80, never plain, are negative and fail every
 * range), the last block overlapping the one before; a text under 16 octets
 * is read as one 16-octet load when that load stays in the text's 4 KiB page
 * (it cannot fault; the lanes past the text are ignored, and the read is
 * hidden from AddressSanitizer), else octet by octet. Without SSE2, octet by
 * octet. tests/unit/text/test_text_gsm_plain.c checks it against the GSM
 * table for every octet value at every position. Pure, any thread. */
#ifndef SMX_TEXT_GSM_PLAIN_H
#define SMX_TEXT_GSM_PLAIN_H

#include <stddef.h>
#include <stdint.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The rule, one octet (the scalar form; the table's verdict). */
static inline int smx_text_gsm_plain_octet(uint8_t b)
{
        return b == 0x0A || b == 0x0D || (b >= 0x20 && b <= 0x3F && b != 0x24) ||
               ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A);
}

#if defined(__SSE2__)
/* Lanes of v whose octet is GSM-plain: a 16-bit mask. */
static inline unsigned smx_text_gsm_plain_mask16(__m128i v)
{
        __m128i lf = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x0A));
        __m128i cr = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x0D));
        __m128i punct = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(0x1F)),
                                      _mm_cmplt_epi8(v, _mm_set1_epi8(0x40)));
        punct = _mm_andnot_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(0x24)), punct);
        __m128i f = _mm_or_si128(v, _mm_set1_epi8(0x20));   /* upper case folded */
        __m128i alpha = _mm_and_si128(_mm_cmpgt_epi8(f, _mm_set1_epi8(0x60)),
                                      _mm_cmplt_epi8(f, _mm_set1_epi8(0x7B)));
        __m128i ok = _mm_or_si128(_mm_or_si128(lf, cr), _mm_or_si128(punct, alpha));
        return (unsigned)_mm_movemask_epi8(ok);
}

__attribute__((no_sanitize_address)) static inline unsigned smx_text_gsm_plain_mask_short(
        const uint8_t *s)
{
        return smx_text_gsm_plain_mask16(_mm_loadu_si128((const __m128i *)(const void *)s));
}
#endif

/* 1 when every octet of s[0..len) is GSM-plain (len 0 included). */
static inline int smx_text_gsm_plain_all(const uint8_t *s, size_t len)
{
#if defined(__SSE2__)
        if (len >= 16) {
                size_t i = 0;
                for (; i + 16 < len; i += 16)
                        if (smx_text_gsm_plain_mask16(
                                    _mm_loadu_si128((const __m128i *)(const void *)(s + i))) !=
                            0xFFFFu)
                                return 0;
                return smx_text_gsm_plain_mask16(_mm_loadu_si128(
                               (const __m128i *)(const void *)(s + len - 16))) == 0xFFFFu;
        }
        if (len > 0 && ((uintptr_t)s & 4095u) <= 4096u - 16u) {
                unsigned want = (1u << len) - 1u;
                return (smx_text_gsm_plain_mask_short(s) & want) == want;
        }
#endif
        for (size_t i = 0; i < len; i++)
                if (!smx_text_gsm_plain_octet(s[i]))
                        return 0;
        return 1;
}

#endif
