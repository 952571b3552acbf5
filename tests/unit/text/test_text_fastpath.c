/* The ASCII fast paths of the MT text path (count_units in choose.c,
 * fill_part in segment.c, 8-septet packing in gsm7.c) against a plain
 * reference written here: one code point at a time, no fast path.
 *
 * The reference decodes UTF-8 with smx_utf8_next (its invalid-input rule is
 * the contract, and it is not what the fast paths change) and takes its GSM
 * mapping from the GSM *decoder* (every septet and ESC pair decoded once at
 * start-up), so it shares no table with the encoder under test. It splits
 * parts by the rules of SMPP.md §9.3-9.5 as text.h states them, and packs
 * septets bit by bit. Random texts (fixed seed) of several mixes are run
 * through every encoding, every segmentation mode, packed and unpacked GSM,
 * with and without counted units (counted: with smx_text_choose_plain's
 * GSM-plain verdict, so a GSM-plain text takes the copy instead of the
 * table), and with buffers and part limits that run out; results, parts,
 * units and every byte must be identical. The verdict itself is checked
 * against the decoder's table: GSM-plain exactly when the text goes out in
 * GSM and every octet decodes, as a septet, to itself. */
#include "testlib.h"
#include "text/text.h"

#define MAXTEXT 4200
#define MAXCH MAXTEXT
#define BUFCAP 80000
#define NPARTS 256

/* ---- reference ---- */

#define REF_EXT 0x100
static int16_t ref_gsm[0x10000]; /* code point -> septet, REF_EXT | code, or -1 */

static uint32_t decode_one(const uint8_t *s, size_t n, unsigned *flags)
{
        uint8_t out[16];
        uint32_t cp;
        int bad;
        *flags = 0;
        size_t w = smx_gsm7_to_utf8(s, n, out, sizeof(out), flags);
        if (w == 0)
                return 0xFFFFFFFFu;
        smx_utf8_next(out, w, &cp, &bad);
        return cp;
}

static void ref_gsm_build(void)
{
        unsigned flags;

        for (size_t i = 0; i < 0x10000; i++)
                ref_gsm[i] = -1;
        for (unsigned s = 0; s < 128; s++) {
                if (s == 0x1B)
                        continue;
                uint8_t sep = (uint8_t)s;
                uint32_t cp = decode_one(&sep, 1, &flags);
                if (cp < 0x10000 && ref_gsm[cp] < 0)
                        ref_gsm[cp] = (int16_t)s;
        }
        for (unsigned e = 0; e < 128; e++) {
                uint8_t pair[2] = {0x1B, (uint8_t)e};
                uint32_t cp = decode_one(pair, 2, &flags);
                if (!(flags & SMX_TEXT_F_ESC_UNDEFINED) && cp < 0x10000 && ref_gsm[cp] < 0)
                        ref_gsm[cp] = (int16_t)(REF_EXT | e);
        }
}

/* One character in the target encoding. */
struct ref_char {
        uint8_t b[4];
        uint8_t w;      /* octets (GSM: unpacked septets) */
        uint8_t u;      /* units */
};

static size_t ref_utf8_put(uint32_t cp, uint8_t *o)
{
        if (cp < 0x80) {
                o[0] = (uint8_t)cp;
                return 1;
        }
        if (cp < 0x800) {
                o[0] = (uint8_t)(0xC0 | cp >> 6);
                o[1] = (uint8_t)(0x80 | (cp & 0x3F));
                return 2;
        }
        if (cp < 0x10000) {
                o[0] = (uint8_t)(0xE0 | cp >> 12);
                o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
                o[2] = (uint8_t)(0x80 | (cp & 0x3F));
                return 3;
        }
        o[0] = (uint8_t)(0xF0 | cp >> 18);
        o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        o[3] = (uint8_t)(0x80 | (cp & 0x3F));
        return 4;
}

/* Encode cp (bad: it stands for invalid input) in enc; 0 = cannot. */
static int ref_enc_char(enum smx_encoding enc, uint32_t cp, int bad, struct ref_char *c)
{
        switch (enc) {
        case SMX_ENC_GSM: {
                int g = (!bad && cp < 0x10000) ? ref_gsm[cp] : -1;
                if (g < 0)
                        return 0;
                if (g & REF_EXT) {
                        c->b[0] = 0x1B;
                        c->b[1] = (uint8_t)(g & 0x7F);
                        c->w = c->u = 2;
                } else {
                        c->b[0] = (uint8_t)g;
                        c->w = c->u = 1;
                }
                return 1;
        }
        case SMX_ENC_UCS2:
                if (cp >= 0x10000) {
                        uint32_t v = cp - 0x10000, hi = 0xD800 + (v >> 10), lo = 0xDC00 + (v & 0x3FF);
                        c->b[0] = (uint8_t)(hi >> 8);
                        c->b[1] = (uint8_t)hi;
                        c->b[2] = (uint8_t)(lo >> 8);
                        c->b[3] = (uint8_t)lo;
                        c->w = 4;
                        c->u = 2;
                } else {
                        c->b[0] = (uint8_t)(cp >> 8);
                        c->b[1] = (uint8_t)cp;
                        c->w = 2;
                        c->u = 1;
                }
                return 1;
        case SMX_ENC_LATIN1:
        case SMX_ENC_ASCII:
                if (bad || cp > (enc == SMX_ENC_ASCII ? 0x7Fu : 0xFFu))
                        return 0;
                c->b[0] = (uint8_t)cp;
                c->w = c->u = 1;
                return 1;
        case SMX_ENC_UTF8:
                c->w = c->u = (uint8_t)ref_utf8_put(cp, c->b);
                return 1;
        default:
                return 0;
        }
}

/* The whole text in enc: chars and total units; 0 when enc cannot hold it. */
static int ref_encode(const uint8_t *t, size_t len, enum smx_encoding enc, struct ref_char *ch,
                      size_t *nch, size_t *units)
{
        size_t i = 0, n = 0, u = 0;

        while (i < len) {
                uint32_t cp;
                int bad;
                i += smx_utf8_next(t + i, len - i, &cp, &bad);
                if (!ref_enc_char(enc, cp, bad, &ch[n]))
                        return 0;
                u += ch[n++].u;
        }
        *nch = n;
        *units = u;
        return 1;
}

static uint8_t ref_dcs(enum smx_encoding enc)
{
        switch (enc) {
        case SMX_ENC_GSM: return SMPP_DCS_GSM;
        case SMX_ENC_UCS2: return SMPP_DCS_UCS2;
        case SMX_ENC_LATIN1: return SMPP_DCS_LATIN1;
        case SMX_ENC_ASCII: return SMPP_DCS_IA5;
        default: return SMPP_DCS_DEFAULT;
        }
}

/* Pack n septets after `fill` zero bits, one bit at a time. */
static size_t ref_pack(const uint8_t *sep, size_t n, unsigned fill, uint8_t *out)
{
        size_t bytes = (fill + 7 * n + 7) / 8;
        memset(out, 0, bytes);
        for (size_t i = 0; i < n; i++)
                for (unsigned b = 0; b < 7; b++)
                        if (sep[i] >> b & 1) {
                                size_t bit = fill + 7 * i + b;
                                out[bit / 8] |= (uint8_t)(1u << (bit % 8));
                        }
        return bytes;
}

static size_t ref_limit(enum smx_encoding enc, int k)
{
        static const size_t gsm[3] = {160, 153, 152}, ucs2[3] = {70, 67, 66}, oct[3] = {140, 134, 133};
        return enc == SMX_ENC_GSM ? gsm[k] : enc == SMX_ENC_UCS2 ? ucs2[k] : oct[k];
}

/* Octets of chars ch[a..b) written to out (GSM packed after `fill` bits if
 * packed); *raw gets the unpacked size. */
static size_t ref_emit(const struct ref_char *ch, size_t a, size_t b, enum smx_encoding enc,
                       int packed, unsigned fill, uint8_t *out, size_t *raw)
{
        static uint8_t tmp[BUFCAP];
        size_t o = 0;
        for (size_t k = a; k < b; k++)
                for (unsigned j = 0; j < ch[k].w; j++)
                        tmp[o++] = ch[k].b[j];
        *raw = o;
        if (enc == SMX_ENC_GSM && packed)
                return ref_pack(tmp, o, fill, out);
        memcpy(out, tmp, o);
        return o;
}

/* smx_text_segment as text.h states it, for the service map. */
static int ref_segment(const uint8_t *t, size_t len, enum smx_encoding want,
                       enum smx_seg_mode mode, int packed, uint16_t ref, uint8_t *buf,
                       size_t cap, struct smx_seg_part *parts, size_t max_parts,
                       struct smx_seg_info *info)
{
        static struct ref_char ch[MAXCH];
        size_t nch, units, raw;
        enum smx_encoding enc = want;

        if (want == SMX_ENC_AUTO) {
                enc = SMX_ENC_GSM;
                if (!ref_encode(t, len, enc, ch, &nch, &units)) {
                        enc = SMX_ENC_UCS2;
                        ref_encode(t, len, enc, ch, &nch, &units);
                }
        } else if (!ref_encode(t, len, enc, ch, &nch, &units)) {
                return SMX_EINVAL;
        }
        if (max_parts == 0)
                return SMX_E2BIG;
        info->enc = enc;
        info->units = units;
        info->bytes = 0;
        if (units <= ref_limit(enc, 0) || mode == SMX_SEG_PAYLOAD) {
                static uint8_t tmp[BUFCAP];
                size_t n = ref_emit(ch, 0, nch, enc, packed, 0, tmp, &raw);
                if (raw > cap || n > 65535)
                        return SMX_E2BIG;
                memcpy(buf, tmp, n);
                parts[0] = (struct smx_seg_part){
                        .sm = buf, .len = (uint32_t)n,
                        .units = (uint16_t)(units > 65535 ? 65535 : units),
                        .data_coding = ref_dcs(enc),
                        .payload = units > ref_limit(enc, 0),
                };
                info->bytes = n;
                return 1;
        }
        size_t hdr = mode == SMX_SEG_UDH8 ? 6 : mode == SMX_SEG_UDH16 ? 7 : 0;
        size_t limit = ref_limit(enc, mode == SMX_SEG_UDH8 ? 1 : 2);
        unsigned fill = hdr ? (unsigned)((7 - hdr * 8 % 7) % 7) : 0;
        size_t bounds[NPARTS + 1], np = 0, a = 0;

        /* part boundaries by units alone */
        bounds[0] = 0;
        while (a < nch) {
                size_t u = 0, b = a;
                while (b < nch && u + ch[b].u <= limit)
                        u += ch[b++].u;
                if (np >= max_parts || np >= 255)
                        return SMX_E2BIG;
                bounds[++np] = b;
                a = b;
        }
        size_t off = 0;
        for (size_t p = 0; p < np; p++) {
                size_t u = 0;
                for (size_t k = bounds[p]; k < bounds[p + 1]; k++)
                        u += ch[k].u;
                static uint8_t tmp[BUFCAP];
                size_t n = ref_emit(ch, bounds[p], bounds[p + 1], enc, packed, fill, tmp, &raw);
                if (hdr + raw > cap - off)
                        return SMX_E2BIG;
                if (hdr == 6) {
                        const uint8_t h[6] = {5, 0, 3, (uint8_t)ref, (uint8_t)np, (uint8_t)(p + 1)};
                        memcpy(buf + off, h, 6);
                } else if (hdr == 7) {
                        const uint8_t h[7] = {6, 8, 4, (uint8_t)(ref >> 8), (uint8_t)ref,
                                              (uint8_t)np, (uint8_t)(p + 1)};
                        memcpy(buf + off, h, 7);
                }
                memcpy(buf + off + hdr, tmp, n);
                parts[p] = (struct smx_seg_part){
                        .sm = buf + off, .len = (uint32_t)(hdr + n), .units = (uint16_t)u,
                        .esm_class = hdr ? SMPP_ESM_UDHI : 0, .data_coding = ref_dcs(enc),
                        .sar = mode == SMX_SEG_SAR,
                        .sar_msg_ref_num = mode == SMX_SEG_SAR ? ref : 0,
                        .sar_total_segments = mode == SMX_SEG_SAR ? (uint8_t)np : 0,
                        .sar_segment_seqnum = mode == SMX_SEG_SAR ? (uint8_t)(p + 1) : 0,
                };
                off += hdr + n;
        }
        info->bytes = off;
        return (int)np;
}

/* ---- random texts ---- */

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(uint32_t n)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return (uint32_t)((rng >> 11) % n);
}

static const char basic_ascii[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                  "0123456789 !\"#$%&'()*+,-./:;<=>?@_\n\r";
static const char ext_ascii[] = "^{}\\[]~|\f";
static const char bad_ascii[] = {0x00, 0x01, 0x09, 0x1F, '`', 0x7F};
static const char *const gsm_high[] = {"\xC3\xA9", "\xC3\xBC", "\xCE\x94", "\xE2\x82\xAC",
                                       "\xC2\xA1", "\xC2\xA3", "\xC2\xA5", "\xC2\xA7"};
static const char *const other[] = {
        "\xC3\xA7", "\xC2\xA9", "\xC3\xBF",             /* Latin-1 without a GSM form */
        "\xD0\x96", "\xE4\xB8\xAD", "\xF0\x9F\x98\x80",  /* BMP, astral */
        "\xFF", "\xC0\x80", "\xE2\x82", "\x80", "\xF0\x9F\x98", "\xED\xA0\x80", /* invalid */
};

/* Mixes, in per-mille of characters: extension, unmappable ASCII, GSM
 * non-ASCII, everything else non-ASCII. */
struct mix {
        unsigned ext, bad, high, other;
};

static const struct mix MIX_ASCII = {0, 0, 0, 0};
static const struct mix MIX_EXT = {80, 0, 0, 0};
static const struct mix MIX_ANY_ASCII = {40, 10, 0, 0};
static const struct mix MIX_GSM_HIGH = {30, 0, 40, 0};
static const struct mix MIX_ALL = {30, 5, 30, 20};
static const struct mix MIX_PLAIN = {0, 0, 0, 0};  /* gen_plain: GSM-plain characters only */

/* The octets that decode, as a GSM septet, to themselves (ref_gsm). */
static char plain_set[128];
static size_t n_plain;

static void plain_set_build(void)
{
        n_plain = 0;
        for (unsigned b = 1; b < 128; b++)
                if (ref_gsm[b] == (int16_t)b)
                        plain_set[n_plain++] = (char)b;
}

/* `nch` random characters of mix m into t; returns octets. */
static size_t gen(uint8_t *t, size_t nch, const struct mix *m)
{
        size_t o = 0;
        if (m == &MIX_PLAIN) {
                for (; o < nch && o < MAXTEXT; o++)
                        t[o] = (uint8_t)plain_set[rnd((uint32_t)n_plain)];
                return o;
        }
        for (size_t k = 0; k < nch && o + 4 <= MAXTEXT; k++) {
                uint32_t r = rnd(1000);
                const char *s;
                char one[2] = {0, 0};
                size_t l = 1;
                if (r < m->ext) {
                        one[0] = ext_ascii[rnd(sizeof(ext_ascii) - 1)];
                        s = one;
                } else if ((r -= m->ext) < m->bad) {
                        one[0] = bad_ascii[rnd(sizeof(bad_ascii))];
                        s = one;
                } else if ((r -= m->bad) < m->high) {
                        s = gsm_high[rnd(sizeof(gsm_high) / sizeof(gsm_high[0]))];
                        l = strlen(s);
                } else if ((r -= m->high) < m->other) {
                        s = other[rnd(sizeof(other) / sizeof(other[0]))];
                        l = strlen(s);
                } else {
                        one[0] = basic_ascii[rnd(sizeof(basic_ascii) - 1)];
                        s = one;
                }
                memcpy(t + o, s, l);
                o += l;
        }
        return o;
}

/* Character counts to try: around 1-3 times every part limit, plus random. */
static size_t pick_len(unsigned i)
{
        static const size_t lim[] = {160, 153, 152, 140, 134, 133, 70, 67, 66};
        if (i % 4 == 3)
                return rnd(1200);
        size_t l = lim[rnd(sizeof(lim) / sizeof(lim[0]))] * (1 + rnd(3));
        return l + rnd(5) - 2;
}

/* ---- comparison ---- */

static uint8_t buf_lib[BUFCAP], buf_ref[BUFCAP];
static struct smx_seg_part p_lib[NPARTS], p_ref[NPARTS];
static unsigned reports;

static const enum smx_encoding encs[] = {SMX_ENC_AUTO, SMX_ENC_GSM, SMX_ENC_UCS2,
                                         SMX_ENC_LATIN1, SMX_ENC_ASCII, SMX_ENC_UTF8};
static const enum smx_seg_mode modes[] = {SMX_SEG_UDH8, SMX_SEG_UDH16, SMX_SEG_SAR,
                                          SMX_SEG_PAYLOAD};

static int part_eq(const struct smx_seg_part *a, const uint8_t *abuf,
                   const struct smx_seg_part *b, const uint8_t *bbuf)
{
        return a->sm - abuf == b->sm - bbuf && a->len == b->len && a->units == b->units &&
               a->esm_class == b->esm_class && a->data_coding == b->data_coding &&
               a->payload == b->payload && a->sar == b->sar &&
               a->sar_msg_ref_num == b->sar_msg_ref_num &&
               a->sar_total_segments == b->sar_total_segments &&
               a->sar_segment_seqnum == b->sar_segment_seqnum &&
               memcmp(a->sm, b->sm, a->len) == 0;
}

/* Segment t both ways; 1 when identical. with_units: pass the count
 * smx_text_choose made (as smx_submit and the worker do). */
static int same_segmentation(const uint8_t *t, size_t len, enum smx_encoding want,
                             enum smx_seg_mode mode, int packed, int with_units, size_t cap,
                             size_t max_parts)
{
        struct smx_seg_opts o = { .enc = want, .mode = mode, .ref = (uint16_t)rnd(65536),
                                  .gsm_packed = (uint8_t)packed };
        struct smx_seg_info il = {0}, ir = {0};
        size_t units = 0;

        if (with_units) {
                int plain = 0;
                int e = smx_text_choose_plain(t, len, want, &units, &plain);
                if (e >= 0) {
                        o.enc = (enum smx_encoding)e;
                        o.units = units;
                        o.gsm_plain = (uint8_t)plain;
                }
        }
        int rl = smx_text_segment(t, len, &o, buf_lib, cap, p_lib, max_parts, &il);
        int rr = ref_segment(t, len, want, mode, packed, o.ref, buf_ref, cap, p_ref, max_parts,
                             &ir);
        int ok = rl == rr;
        if (ok && rl > 0) {
                ok = il.enc == ir.enc && il.units == ir.units && il.bytes == ir.bytes;
                for (int k = 0; ok && k < rl; k++)
                        ok = part_eq(&p_lib[k], buf_lib, &p_ref[k], buf_ref);
        }
        if (!ok && reports++ < 5) {
                printf("# mismatch: len %zu enc %d mode %d packed %d units %d cap %zu max %zu:"
                       " lib %d ref %d\n", len, want, mode, packed, with_units, cap, max_parts,
                       rl, rr);
                t_hexdump("text", t, len);
        }
        return ok;
}

/* Every encoding x mode x packing x counted/uncounted for n texts of mix m. */
static void run_mix(const struct mix *m, unsigned n)
{
        static uint8_t t[MAXTEXT];
        unsigned bad = 0, runs = 0;

        reports = 0;
        for (unsigned i = 0; i < n; i++) {
                size_t len = gen(t, pick_len(i), m);
                for (size_t e = 0; e < sizeof(encs) / sizeof(encs[0]); e++)
                        for (size_t md = 0; md < sizeof(modes) / sizeof(modes[0]); md++)
                                for (int pk = 0; pk < 2; pk++) {
                                        runs++;
                                        if (!same_segmentation(t, len, encs[e], modes[md], pk,
                                                               (i + pk) & 1, BUFCAP, NPARTS))
                                                bad++;
                                }
        }
        CHECK_EQ(bad, 0);
        CHECK(runs >= n * 48);
}

/* ---- tests ---- */

static void test_choose_counts_like_reference_for_every_encoding(void)
{
        static uint8_t t[MAXTEXT];
        static struct ref_char ch[MAXCH];
        const struct mix *mixes[] = {&MIX_ASCII, &MIX_EXT, &MIX_ANY_ASCII, &MIX_GSM_HIGH, &MIX_ALL};
        unsigned bad = 0;

        for (unsigned i = 0; i < 2000; i++) {
                size_t len = gen(t, pick_len(i), mixes[i % 5]);
                for (size_t e = 0; e < sizeof(encs) / sizeof(encs[0]); e++) {
                        size_t units = 0, ru = 0, nch;
                        int r = smx_text_choose(t, len, encs[e], &units);
                        int want;
                        if (encs[e] == SMX_ENC_AUTO) {
                                want = ref_encode(t, len, SMX_ENC_GSM, ch, &nch, &ru)
                                               ? SMX_ENC_GSM : SMX_ENC_UCS2;
                                if (want == SMX_ENC_UCS2)
                                        ref_encode(t, len, SMX_ENC_UCS2, ch, &nch, &ru);
                        } else {
                                want = ref_encode(t, len, encs[e], ch, &nch, &ru)
                                               ? (int)encs[e] : SMX_EINVAL;
                        }
                        if (r != want || (r >= 0 && units != ru))
                                bad++;
                }
        }
        CHECK_EQ(bad, 0);
}

/* smx_text_choose_plain: the same encoding and units as smx_text_choose,
 * and GSM-plain exactly when the reference says so (GSM chosen, every octet
 * in plain_set), over every mix and GSM-plain texts with one other
 * character put at a random place. */
static void test_choose_plain_verdict_matches_reference(void)
{
        static uint8_t t[MAXTEXT];
        const struct mix *mixes[] = {&MIX_ASCII, &MIX_EXT, &MIX_ANY_ASCII, &MIX_GSM_HIGH, &MIX_ALL,
                                     &MIX_PLAIN, &MIX_PLAIN};
        unsigned bad = 0, plain_seen = 0, not_plain_seen = 0;

        CHECK(n_plain > 60 && n_plain < 90);    /* LF, CR, space, digits, letters, punctuation */
        for (unsigned i = 0; i < 20000; i++) {
                const struct mix *m = mixes[i % 7];
                size_t len = gen(t, m == &MIX_PLAIN ? rnd(400) : pick_len(i), m);
                if (i % 7 == 6 && len > 0) {    /* one octet of anything else in plain text */
                        uint8_t odd = rnd(2) ? (uint8_t)rnd(128)
                                               : (uint8_t)basic_ascii[rnd(sizeof(basic_ascii) - 1)];
                        t[rnd((uint32_t)len)] = odd;
                }
                for (size_t e = 0; e < sizeof(encs) / sizeof(encs[0]); e++) {
                        size_t u1 = 7, u2 = 9;
                        int plain = -1;
                        int r1 = smx_text_choose(t, len, encs[e], &u1);
                        int r2 = smx_text_choose_plain(t, len, encs[e], &u2, &plain);
                        int want = r2 == SMX_ENC_GSM;
                        for (size_t k = 0; want && k < len; k++)
                                want = t[k] < 128 && memchr(plain_set, t[k], n_plain) != NULL;
                        if (r1 != r2 || (r1 >= 0 && u1 != u2) || plain != want)
                                bad++;
                        plain_seen += plain == 1;
                        not_plain_seen += plain == 0 && r2 == SMX_ENC_GSM;
                }
        }
        CHECK_EQ(bad, 0);
        CHECK(plain_seen > 5000);
        CHECK(not_plain_seen > 5000);
}

/* GSM-plain texts of every length up to 3 parts and beyond, segmented with
 * the copy (counted) and without it (uncounted) against the reference. */
static void test_segment_gsm_plain_matches_reference(void)
{
        run_mix(&MIX_PLAIN, 300);
        static uint8_t t[MAXTEXT];
        unsigned bad = 0;
        reports = 0;
        for (size_t n = 0; n <= 3 * 153 + 2; n++) {
                size_t len = gen(t, n, &MIX_PLAIN);
                for (size_t md = 0; md < sizeof(modes) / sizeof(modes[0]); md++)
                        for (int pk = 0; pk < 2; pk++)
                                for (int wu = 0; wu < 2; wu++)
                                        bad += !same_segmentation(t, len, SMX_ENC_GSM, modes[md],
                                                                  pk, wu, BUFCAP, NPARTS);
        }
        CHECK_EQ(bad, 0);
}

static void test_segment_ascii_only_matches_reference(void)
{
        run_mix(&MIX_ASCII, 300);
}

static void test_segment_ascii_with_extension_chars_matches_reference(void)
{
        run_mix(&MIX_EXT, 300);
}

static void test_segment_ascii_with_unmappable_chars_matches_reference(void)
{
        run_mix(&MIX_ANY_ASCII, 200);
}

static void test_segment_with_gsm_non_ascii_matches_reference(void)
{
        run_mix(&MIX_GSM_HIGH, 200);
}

static void test_segment_with_any_non_ascii_and_invalid_utf8_matches_reference(void)
{
        run_mix(&MIX_ALL, 300);
}

static void test_segment_at_every_gsm_part_limit_matches_reference(void)
{
        static uint8_t t[MAXTEXT];
        unsigned bad = 0;

        reports = 0;
        /* every character count from 0 to 3 x 153 + 2 in ASCII, then one
         * extension character at every position of a 2-part text */
        for (size_t n = 0; n <= 3 * 153 + 2; n++) {
                size_t len = gen(t, n, &MIX_ASCII);
                for (size_t md = 0; md < sizeof(modes) / sizeof(modes[0]); md++)
                        for (int pk = 0; pk < 2; pk++)
                                bad += !same_segmentation(t, len, SMX_ENC_GSM, modes[md], pk,
                                                          (int)(n & 1), BUFCAP, NPARTS);
        }
        for (size_t at = 0; at < 310; at++) {
                size_t len = gen(t, 310, &MIX_ASCII);
                t[at] = '{';
                for (size_t md = 0; md < sizeof(modes) / sizeof(modes[0]); md++)
                        for (int pk = 0; pk < 2; pk++)
                                bad += !same_segmentation(t, len, SMX_ENC_AUTO, modes[md], pk, 1,
                                                          BUFCAP, NPARTS);
        }
        CHECK_EQ(bad, 0);
}

static void test_segment_at_every_octet_and_ucs2_part_limit_matches_reference(void)
{
        static uint8_t t[MAXTEXT];
        static const enum smx_encoding e[] = {SMX_ENC_UCS2, SMX_ENC_LATIN1, SMX_ENC_ASCII,
                                              SMX_ENC_UTF8};
        unsigned bad = 0;

        reports = 0;
        for (size_t n = 0; n <= 3 * 134 + 2; n++) {
                size_t len = gen(t, n, &MIX_ASCII);
                for (size_t k = 0; k < sizeof(e) / sizeof(e[0]); k++)
                        for (size_t md = 0; md < sizeof(modes) / sizeof(modes[0]); md++)
                                bad += !same_segmentation(t, len, e[k], modes[md], 0,
                                                          (int)(n & 1), BUFCAP, NPARTS);
        }
        /* a 2-octet character (é) at every position of a 2-part text */
        for (size_t at = 0; at + 1 < 280; at++) {
                size_t len = gen(t, 280, &MIX_ASCII);
                t[at] = 0xC3;
                t[at + 1] = 0xA9;
                for (size_t k = 0; k < sizeof(e) / sizeof(e[0]); k++)
                        for (size_t md = 0; md < sizeof(modes) / sizeof(modes[0]); md++)
                                bad += !same_segmentation(t, len, e[k], modes[md], 0, 1,
                                                          BUFCAP, NPARTS);
        }
        CHECK_EQ(bad, 0);
}

static void test_segment_with_small_buffers_and_part_limits_matches_reference(void)
{
        static uint8_t t[MAXTEXT];
        const struct mix *mixes[] = {&MIX_ASCII, &MIX_EXT, &MIX_ALL};
        unsigned bad = 0, e2big = 0;

        reports = 0;
        for (unsigned i = 0; i < 3000; i++) {
                size_t len = gen(t, rnd(600), mixes[i % 3]);
                size_t cap = rnd(2 * (unsigned)len + 40);
                size_t max_parts = rnd(6);
                enum smx_encoding e = encs[rnd(sizeof(encs) / sizeof(encs[0]))];
                enum smx_seg_mode md = modes[rnd(sizeof(modes) / sizeof(modes[0]))];
                int pk = (int)rnd(2);
                bad += !same_segmentation(t, len, e, md, pk, (int)(i & 1), cap, max_parts);
                struct smx_seg_opts o = { .enc = e, .mode = md, .gsm_packed = (uint8_t)pk };
                if (smx_text_segment(t, len, &o, buf_lib, cap, p_lib, max_parts, NULL) ==
                    SMX_E2BIG)
                        e2big++;
        }
        CHECK_EQ(bad, 0);
        CHECK(e2big > 300);     /* the limits were really hit */
}

static void test_segment_into_no_buffer_is_e2big_for_every_encoding(void)
{
        struct smx_seg_part part;

        for (size_t e = 0; e < sizeof(encs) / sizeof(encs[0]); e++) {
                struct smx_seg_opts o = { .enc = encs[e], .mode = SMX_SEG_UDH8 };
                CHECK_EQ(smx_text_segment((const uint8_t *)"abc", 3, &o, NULL, 0, &part, 1, NULL),
                         SMX_E2BIG);
        }
}

static void test_gsm7_pack_matches_bitwise_reference(void)
{
        uint8_t sep[300], in_place[300], out[300], want[300];
        unsigned bad = 0;

        for (unsigned i = 0; i < 3000; i++) {
                size_t n = rnd(260);
                unsigned fill = rnd(7);
                for (size_t k = 0; k < n; k++)
                        sep[k] = (uint8_t)rnd(128);
                size_t w = ref_pack(sep, n, fill, want);
                memset(out, 0xAA, sizeof(out));
                if (smx_gsm7_pack(sep, n, fill, out, sizeof(out)) != w || memcmp(out, want, w) != 0)
                        bad++;
                if (out[w] != 0xAA)     /* nothing written past the packed octets */
                        bad++;
                memcpy(in_place, sep, n);
                if (smx_gsm7_pack(in_place, n, fill, in_place, sizeof(in_place)) != w ||
                    memcmp(in_place, want, w) != 0)
                        bad++;
                if (w > 0 && smx_gsm7_pack(sep, n, fill, out, w - 1) != 0)
                        bad++;
        }
        CHECK_EQ(bad, 0);
}

int main(void)
{
        ref_gsm_build();
        plain_set_build();
        RUN(test_choose_counts_like_reference_for_every_encoding);
        RUN(test_choose_plain_verdict_matches_reference);
        RUN(test_segment_gsm_plain_matches_reference);
        RUN(test_segment_ascii_only_matches_reference);
        RUN(test_segment_ascii_with_extension_chars_matches_reference);
        RUN(test_segment_ascii_with_unmappable_chars_matches_reference);
        RUN(test_segment_with_gsm_non_ascii_matches_reference);
        RUN(test_segment_with_any_non_ascii_and_invalid_utf8_matches_reference);
        RUN(test_segment_at_every_gsm_part_limit_matches_reference);
        RUN(test_segment_at_every_octet_and_ucs2_part_limit_matches_reference);
        RUN(test_segment_with_small_buffers_and_part_limits_matches_reference);
        RUN(test_segment_into_no_buffer_is_e2big_for_every_encoding);
        RUN(test_gsm7_pack_matches_bitwise_reference);
        return t_done();
}
