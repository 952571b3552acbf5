/* Random MT material for the unit tests that hold a submit_sm fast path
 * (test_pdu_submit_short, test_pdu_submit_pre) against the general encoder:
 * one xorshift generator with a fixed seed (each test file has its own
 * state, so each draws the same sequence on every run), UTF-8 encoding of a
 * code point, texts drawn from several character mixes, address
 * characters and MT identities (gen_ident). Each test draws its address lengths itself (their
 * distributions differ) and fills the characters with gen_addr_chars.
 * Also the general path's verdict on a text: one plain part or not. */
#ifndef SMX_TESTS_PDU_MT_GEN_H
#define SMX_TESTS_PDU_MT_GEN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "text/text.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static inline uint32_t rnd(uint32_t n)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return (uint32_t)(rng % n);
}

static inline size_t put_utf8(uint8_t *p, uint32_t cp)
{
        if (cp < 0x80) {
                p[0] = (uint8_t)cp;
                return 1;
        }
        if (cp < 0x800) {
                p[0] = (uint8_t)(0xC0 | cp >> 6);
                p[1] = (uint8_t)(0x80 | (cp & 0x3F));
                return 2;
        }
        if (cp < 0x10000) {
                p[0] = (uint8_t)(0xE0 | cp >> 12);
                p[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
                p[2] = (uint8_t)(0x80 | (cp & 0x3F));
                return 3;
        }
        p[0] = (uint8_t)(0xF0 | cp >> 18);
        p[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
        p[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        p[3] = (uint8_t)(0x80 | (cp & 0x3F));
        return 4;
}

/* The octets whose GSM septet is the octet itself (GSM-plain, text.h). */
static const char plain_chars[] = "\n\r !\"#%&'()*+,-./0123456789:;<=>?"
                                  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* A random text of up to max characters from one of several mixes (mix 4:
 * GSM-plain characters only). */
static inline size_t gen_text(uint8_t *out, size_t max)
{
        static const uint32_t ext[] = {'{', '}', '[', ']', '~', '\\', '^', '|', 0x20AC};
        static const uint32_t other[] = {0xE9, 0xFC, 0xC5, 0x3A9, 0x416, 0x4E2D, 0x1F600, 0xA3};
        size_t n = rnd((uint32_t)max + 1), o = 0;
        unsigned mix = rnd(5);
        for (size_t i = 0; i < n; i++) {
                uint32_t cp = 0x20 + rnd(0x5F);
                if (mix == 4) {
                        out[o++] = (uint8_t)plain_chars[rnd(sizeof plain_chars - 1)];
                        continue;
                }
                unsigned k = rnd(16);
                if (mix >= 1 && k == 0)
                        cp = ext[rnd(sizeof ext / sizeof ext[0])];
                if (mix >= 2 && k == 1)
                        cp = other[rnd(sizeof other / sizeof other[0])];
                if (mix == 3 && k == 2)
                        cp = '\n';
                o += put_utf8(out + o, cp);
        }
        return o;
}

/* len random address characters: all digits, or all printable ASCII but
 * the space, one or the other at random. */
static inline void gen_addr_chars(char *a, uint8_t len)
{
        int digits = rnd(2);
        for (unsigned i = 0; i < len; i++)
                a[i] = digits ? (char)('0' + rnd(10)) : (char)(' ' + 1 + rnd(0x5E));
}

/* A random MT identity: the 16 octets of the TLV smsmux sends with each
 * MT (SMX_TLV_SMX_MSG_IDENTITY). */
static inline void gen_ident(uint8_t ident[16])
{
        for (int i = 0; i < 16; i++)
                ident[i] = (uint8_t)rnd(256);
}

/* The general path (smx_text_segment into a scratch buffer, as send_mt
 * runs it): 1 when the text makes exactly one part with no payload, no SAR
 * and esm_class 0. *part: that one part (its octets in the scratch buffer,
 * valid until the next call), zeroed when there is not one. */
static inline int general_single_part(const uint8_t *text, size_t tlen,
                                      const struct smx_seg_opts *so, struct smx_seg_part *part)
{
        static uint8_t seg[65536];
        struct smx_seg_part parts[8];
        struct smx_seg_info si;
        int np = smx_text_segment(text, tlen, so, seg, sizeof seg, parts, 8, &si);
        if (np != 1) {
                memset(part, 0, sizeof *part);
                return 0;
        }
        *part = parts[0];
        return !part->payload && !part->sar && part->esm_class == 0;
}

#endif
