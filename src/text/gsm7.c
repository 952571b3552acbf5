/* GSM 03.38 default alphabet and extension table (3GPP TS 23.038 §6.2.1,
 * SMPP.md §9.1-9.2): UTF-8 <-> septets, and septet packing 8-in-7.
 *
 * Septets are handled unpacked (one per octet) everywhere; packing is a
 * separate step because SMSCs differ (a per-SMSC knob). The decoder reads
 * septets through one accessor that works on both forms, so a packed
 * message is decoded without an intermediate buffer. */
#include <string.h>

#include "text/text_internal.h"

#define GSM_ESC 0x1Bu
#define EXT     SMX_TEXT_GSM_EXT

/* Default table: septet -> code point. 0x1B (ESC) never reaches output. */
static const uint16_t gsm_default[128] = {
        0x0040, 0x00A3, 0x0024, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC,
        0x00F2, 0x00C7, 0x000A, 0x00D8, 0x00F8, 0x000D, 0x00C5, 0x00E5,
        0x0394, 0x005F, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8,
        0x03A3, 0x0398, 0x039E, 0x00A0, 0x00C6, 0x00E6, 0x00DF, 0x00C9,
        0x0020, 0x0021, 0x0022, 0x0023, 0x00A4, 0x0025, 0x0026, 0x0027,
        0x0028, 0x0029, 0x002A, 0x002B, 0x002C, 0x002D, 0x002E, 0x002F,
        0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037,
        0x0038, 0x0039, 0x003A, 0x003B, 0x003C, 0x003D, 0x003E, 0x003F,
        0x00A1, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047,
        0x0048, 0x0049, 0x004A, 0x004B, 0x004C, 0x004D, 0x004E, 0x004F,
        0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057,
        0x0058, 0x0059, 0x005A, 0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7,
        0x00BF, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067,
        0x0068, 0x0069, 0x006A, 0x006B, 0x006C, 0x006D, 0x006E, 0x006F,
        0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077,
        0x0078, 0x0079, 0x007A, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0,
};

/* Extension table: code after ESC -> code point (0 = undefined). */
static uint32_t gsm_ext_cp(uint8_t code)
{
        switch (code) {
        case 0x0A: return 0x000C;       /* form feed */
        case 0x14: return 0x005E;       /* ^ */
        case 0x28: return 0x007B;       /* { */
        case 0x29: return 0x007D;       /* } */
        case 0x2F: return 0x005C;       /* \ */
        case 0x3C: return 0x005B;       /* [ */
        case 0x3D: return 0x007E;       /* ~ */
        case 0x3E: return 0x005D;       /* ] */
        case 0x40: return 0x007C;       /* | */
        case 0x65: return 0x20AC;       /* € */
        default: return 0;
        }
}

/* Non-ASCII code points of both tables, sorted by code point. */
static const struct { uint16_t cp; uint16_t code; } gsm_high[] = {
        {0x00A1, 0x40}, {0x00A3, 0x01}, {0x00A4, 0x24}, {0x00A5, 0x03},
        {0x00A7, 0x5F}, {0x00BF, 0x60}, {0x00C4, 0x5B}, {0x00C5, 0x0E},
        {0x00C6, 0x1C}, {0x00C7, 0x09}, {0x00C9, 0x1F}, {0x00D1, 0x5D},
        {0x00D6, 0x5C}, {0x00D8, 0x0B}, {0x00DC, 0x5E}, {0x00DF, 0x1E},
        {0x00E0, 0x7F}, {0x00E4, 0x7B}, {0x00E5, 0x0F}, {0x00E6, 0x1D},
        {0x00E8, 0x04}, {0x00E9, 0x05}, {0x00EC, 0x07}, {0x00F1, 0x7D},
        {0x00F2, 0x08}, {0x00F6, 0x7C}, {0x00F8, 0x0C}, {0x00F9, 0x06},
        {0x00FC, 0x7E}, {0x0393, 0x13}, {0x0394, 0x10}, {0x0398, 0x19},
        {0x039B, 0x14}, {0x039E, 0x1A}, {0x03A0, 0x16}, {0x03A3, 0x18},
        {0x03A6, 0x12}, {0x03A8, 0x17}, {0x03A9, 0x15}, {0x20AC, EXT | 0x65},
};

/* ASCII -> GSM: septet, EXT|code (extension table), or -1 (controls other
 * than LF/FF/CR, backtick, DEL). The fast path of every encoder. Indexed by
 * any octet: 0x80-0xFF (not ASCII, the start of a UTF-8 sequence) are -1, so
 * a scan needs one test per octet. */
#define X(code) (EXT | (code))
const int16_t smx_text_gsm_ascii[256] = {
          -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,  /* 00-07 */
          -1,   -1, 0x0A,   -1, X(0x0A), 0x0D,   -1,   -1,  /* 08-0F */
          -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,  /* 10-17 */
          -1,   -1,   -1,   -1,   -1,   -1,   -1,   -1,  /* 18-1F */
        0x20, 0x21, 0x22, 0x23, 0x02, 0x25, 0x26, 0x27,  /* 20-27 */
        0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x2D, 0x2E, 0x2F,  /* 28-2F */
        0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,  /* 30-37 */
        0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F,  /* 38-3F */
        0x00, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,  /* 40-47 */
        0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F,  /* 48-4F */
        0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57,  /* 50-57 */
        0x58, 0x59, 0x5A, X(0x3C), X(0x2F), X(0x3E), X(0x14), 0x11,  /* 58-5F */
          -1, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67,  /* 60-67 */
        0x68, 0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6E, 0x6F,  /* 68-6F */
        0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77,  /* 70-77 */
        0x78, 0x79, 0x7A, X(0x28), X(0x40), X(0x29), X(0x3D),   -1,  /* 78-7F */
        [0x80 ... 0xFF] = -1,
};
#undef X

/* Code point -> septet (0..0x7F), EXT|code for the extension table, or -1. */
int smx_text_gsm_code(uint32_t cp)
{
        if (cp < 0x80)
                return smx_text_gsm_ascii[cp];
        size_t lo = 0, hi = sizeof(gsm_high) / sizeof(gsm_high[0]);
        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (gsm_high[mid].cp == cp)
                        return gsm_high[mid].code;
                if (gsm_high[mid].cp < cp)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return -1;
}

unsigned smx_gsm7_cp_septets(uint32_t cp)
{
        int c = smx_text_gsm_code(cp);
        if (c < 0)
                return 0;
        return (c & EXT) ? 2 : 1;
}

long smx_gsm7_from_utf8(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                        size_t *bad_at)
{
        size_t i = 0, o = 0;

        while (i < len) {
                uint32_t cp;
                int bad;
                size_t n = smx_utf8_next(in + i, len - i, &cp, &bad);
                int c = bad ? -1 : smx_text_gsm_code(cp);

                if (c < 0) {
                        if (bad_at)
                                *bad_at = i;
                        return SMX_EINVAL;
                }
                if (c & EXT) {
                        if (cap - o < 2)
                                return SMX_E2BIG;
                        out[o++] = GSM_ESC;
                        out[o++] = (uint8_t)(c & 0x7F);
                } else {
                        if (cap - o < 1)
                                return SMX_E2BIG;
                        out[o++] = (uint8_t)c;
                }
                i += n;
        }
        return (long)o;
}

/* Septet i of a message: unpacked (one per octet) or packed after `fill`
 * padding bits. The caller keeps i below the septet count. */
static uint8_t septet_at(const uint8_t *in, size_t len, int packed, unsigned fill, size_t i)
{
        if (!packed)
                return in[i];
        size_t bit = fill + 7 * i;
        size_t b = bit / 8;
        unsigned sh = bit % 8;
        unsigned v = in[b] >> sh;
        if (sh > 1 && b + 1 < len)
                v |= (unsigned)in[b + 1] << (8 - sh);
        return (uint8_t)(v & 0x7F);
}

/* Shared decoder for both forms (text_internal.h). */
size_t smx_text_gsm_decode(const uint8_t *in, size_t len, int packed, unsigned fill,
                           size_t n, uint8_t *out, size_t cap, unsigned *flags)
{
        size_t i = 0, o = 0;

        while (i < n) {
                uint8_t s = septet_at(in, len, packed, fill, i);
                uint32_t cp;
                size_t used = 1;

                if (s > 0x7F) {
                        *flags |= SMX_TEXT_F_HIGH_SEPTET;
                        s &= 0x7F;
                }
                if (s == GSM_ESC) {
                        if (i + 1 >= n) {       /* lone ESC at the end: dropped */
                                *flags |= SMX_TEXT_F_ESC_UNDEFINED;
                                break;
                        }
                        uint8_t e = septet_at(in, len, packed, fill, i + 1) & 0x7F;
                        if (e == GSM_ESC) {
                                /* ESC ESC: reserved for a further table; drop the pair
                                 * and read on from the default table (G-07). */
                                *flags |= SMX_TEXT_F_ESC_UNDEFINED;
                                i += 2;
                                continue;
                        }
                        cp = gsm_ext_cp(e);
                        if (cp == 0) {
                                /* 23.038: show the default-table character. */
                                *flags |= SMX_TEXT_F_ESC_UNDEFINED;
                                cp = gsm_default[e];
                        }
                        used = 2;
                } else {
                        cp = gsm_default[s];
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

size_t smx_gsm7_to_utf8(const uint8_t *septets, size_t n, uint8_t *out, size_t cap,
                        unsigned *flags)
{
        return smx_text_gsm_decode(septets, n, 0, 0, n, out, cap, flags);
}

/* Little-endian 64-bit load and store (octet 0 is the low byte). */
static inline uint64_t load_le64(const uint8_t *p)
{
        uint64_t v;
        memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        v = __builtin_bswap64(v);
#endif
        return v;
}

static inline void store_le64(uint8_t *p, uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        v = __builtin_bswap64(v);
#endif
        memcpy(p, &v, 8);
}

/* Eight septets (one per octet, low octet first, top bits ignored) as 56
 * contiguous bits: pairs to 14 bits, quads to 28, then 56. */
static inline uint64_t septets8(uint64_t w)
{
        w = (w & 0x007F007F007F007Full) | (w >> 1 & 0x3F803F803F803F80ull);
        w = (w & 0x00003FFF00003FFFull) | (w >> 2 & 0x0FFFC0000FFFC000ull);
        return (w & 0x000000000FFFFFFFull) | (w >> 4 & 0x00FFFFFFF0000000ull);
}

size_t smx_gsm7_pack(const uint8_t *septets, size_t n, unsigned fill_bits,
                     uint8_t *out, size_t cap)
{
        size_t need, o = 0, i = 0;
        uint64_t acc = 0;       /* bits not yet written, LSB first */
        unsigned have = fill_bits;

        if (fill_bits > 6)
                return 0;
        need = (fill_bits + 7 * n + 7) / 8;
        if (need > cap)
                return 0;
        /* Eight septets (56 bits) at a time, then one at a time. Octet k is
         * written only after septet k has been read (a block of 8 septets
         * is read whole before its 7 octets are written), so packing in
         * place (out == septets) is safe. The block's 8-octet store puts a
         * partial octet at o + 7: only when o + 7 < need, which a later
         * block or the tail then writes whole (and septet o + 7 of an
         * in-place pack has been read by then). */
        for (; n - i >= 8; i += 8) {
                acc |= septets8(load_le64(septets + i)) << have; /* have < 8: <= 63 bits */
                if (o + 8 <= need) {
                        store_le64(out + o, acc);
                        o += 7;
                        acc >>= 56;
                } else {
                        for (unsigned j = 0; j < 7; j++) {
                                out[o++] = (uint8_t)acc;
                                acc >>= 8;
                        }
                }                       /* 56 bits in, 56 out: have is unchanged */
        }
        for (; i < n; i++) {
                acc |= (uint64_t)(septets[i] & 0x7Fu) << have;
                have += 7;
                while (have >= 8) {
                        out[o++] = (uint8_t)acc;
                        acc >>= 8;
                        have -= 8;
                }
        }
        if (have > 0)
                out[o++] = (uint8_t)acc;
        return o;
}

size_t smx_gsm7_packed_capacity(size_t len, unsigned fill_bits)
{
        if (len * 8 < fill_bits)
                return 0;
        return (len * 8 - fill_bits) / 7;
}

size_t smx_gsm7_unpack(const uint8_t *in, size_t len, unsigned fill_bits, size_t septets,
                       uint8_t *out, size_t cap)
{
        size_t n = smx_gsm7_packed_capacity(len, fill_bits);

        if (fill_bits > 6)
                return 0;
        if (septets < n)
                n = septets;
        if (cap < n)
                n = cap;
        for (size_t i = 0; i < n; i++)
                out[i] = septet_at(in, len, 1, fill_bits, i);
        return n;
}

size_t smx_gsm7_packed_septets(const uint8_t *in, size_t len, unsigned fill_bits,
                               unsigned *flags)
{
        size_t n = smx_gsm7_packed_capacity(len, fill_bits);

        if (fill_bits > 6)
                return 0;
        /* Exactly 7 spare bits can only be fill when the last septet is 0:
         * the sender had 8k-1 septets and zero padding (G-09, 23.038 §6.1.2.1). */
        if (n > 0 && (len * 8 - fill_bits) % 7 == 0 &&
            septet_at(in, len, 1, fill_bits, n - 1) == 0) {
                *flags |= SMX_TEXT_F_PAD_STRIPPED;
                n--;
        }
        return n;
}

unsigned smx_gsm7_fill_bits(size_t udh_len)
{
        return (unsigned)((7 - (udh_len * 8) % 7) % 7);
}
