/* The receipt text's fast path against the general scan (src/text/dr_text.c):
 * smx_dr_text_parse_standard reads only the Appendix B shape most SMSCs
 * send; wherever it accepts a text, every field it fills (present bits,
 * flags, each view's start and length, counts, dates, state, the label
 * count) must be what smx_dr_text_parse_general gives, and
 * smx_dr_text_parse must give the general scan's result on every text,
 * standard or not. Checked over generated standard receipts whose values
 * hold label words, odd bytes, bad dates and counts, and over the same
 * receipts mutated (a byte replaced, inserted or removed, a label's case
 * changed, the text cut short) so that both paths are taken. On every one
 * of them smx_dr_text_scan (the DR path's parse) must give parse's return,
 * present bits, views and state, with counts and dates left unread. */
#include "testlib.h"
#include "dr_text_same.h"

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t rnd(uint32_t n)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return (uint32_t)(rng % n);
}

static const char *pick(const char *const *v, size_t n)
{
        return v[rnd((uint32_t)n)];
}
#define PICK(v) pick(v, sizeof v / sizeof v[0])

/* A value of the standard shape: no ':' and no blank, at least one octet;
 * label words, '_', '-', NUL and non-ASCII octets included on purpose. */
static size_t gen_value(uint8_t *w, const char *const *parts, size_t n_parts)
{
        size_t len = 0;
        int k = rnd(4) ? 1 : 2 + (int)rnd(2);  /* mostly one part */
        for (int i = 0; i < k; i++) {
                const char *p = pick(parts, n_parts);
                size_t pl = strlen(p);
                if (pl == 0) {          /* "" stands for one raw octet */
                        static const uint8_t raw[] = { 0, 0x80, 0xe9, 0xff, '-', '.', '/', '=' };
                        w[len++] = raw[rnd(sizeof raw)];
                        continue;
                }
                memcpy(w + len, p, pl);
                len += pl;
        }
        return len;
}

static const char *const id_parts[] = {
        "0123456789", "abcdef", "ABCDEF", "7f3a", "id", "ID", "sub", "dlvrd", "submit",
        "submit_date", "done", "done_date", "date", "stat", "err", "text", "x", "_", "-", "",
        "0", "00000",
};
static const char *const count_parts[] = { "001", "1", "0", "123456789", "1234567890", "x", "-", "" };
static const char *const date_parts[] = {
        "2401011200", "240101120059", "20240101120059", "2402291200", "2302291200",
        "0000000000", "2413011200", "2401011260", "12", "x", "2401011201", "",
};
static const char *const stat_parts[] = {
        "DELIVRD", "delivrd", "Delivered", "DELIVERED", "UNDELIV", "EXPIRED", "REJECTD",
        "failed", "ACCEPTD", "UNKNOWN", "ENROUTE", "DELETED", "SKIPPED", "SCHEDULED", "ERR",
        "text", "id", "DELIVRDX", "",
};
static const char *const err_parts[] = { "000", "0", "0x1f", "N/A", "err", "text", "id", "" };
static const char *const text_parts[] = {
        "", "hello", " ", "\t", "\r\n", "id:5", "stat:FAILED", " err:1", "text:", ":", "sub:9",
        "submit date:2401011200", "\xe9t\xe9", "x",
};

/* One receipt of the standard shape into buf; its length. */
static size_t gen_standard(uint8_t *buf)
{
        size_t n = 0;
        int clean = rnd(4) == 0;        /* good counts, dates and stat: no flag */
#define LIT(s) do { memcpy(buf + n, s, sizeof s - 1); n += sizeof s - 1; } while (0)
#define VAL(parts) (n += gen_value(buf + n, parts, sizeof parts / sizeof parts[0]))
#define VALC(parts, good) do { if (clean) LIT(good); else VAL(parts); } while (0)
        LIT("id:");
        VAL(id_parts);
        LIT(" sub:");
        VALC(count_parts, "001");
        LIT(" dlvrd:");
        VALC(count_parts, "001");
        LIT(" submit date:");
        VALC(date_parts, "2401011200");
        LIT(" done date:");
        VALC(date_parts, "240101120130");
        LIT(" stat:");
        if (clean) {
                LIT("DELIVRD");
        } else if (rnd(2)) {           /* the common case: one whole stat word */
                const char *w = PICK(stat_parts);
                memcpy(buf + n, w[0] ? w : "DELIVRD", w[0] ? strlen(w) : 7);
                n += w[0] ? strlen(w) : 7;
        } else {
                VAL(stat_parts);
        }
        LIT(" err:");
        VAL(err_parts);
        if (rnd(8)) {           /* text is optional */
                LIT(" text:");
                int k = (int)rnd(5);
                for (int i = 0; i < k; i++) {
                        const char *p = PICK(text_parts);
                        memcpy(buf + n, p, strlen(p));
                        n += strlen(p);
                }
        }
#undef LIT
#undef VAL
#undef VALC
        return n;
}

/* smx_dr_text_scan against smx_dr_text_parse's result full: the same but
 * for the counts and dates, which scan leaves unread. */
static int scan_matches(const struct smx_dr_text *scan, int n_scan, const struct smx_dr_text *full,
                        int n_full)
{
        struct smx_dr_text want = *full;
        want.flags &= SMX_DR_F_UNKNOWN_STAT;
        want.sub_n = want.dlvrd_n = -1;
        memset(&want.submit, 0, sizeof want.submit);
        memset(&want.done, 0, sizeof want.done);
        return n_scan == n_full && dr_text_same(scan, &want);
}

/* smx_dr_text_parse against the general scan on s[0..len); when the fast
 * path accepts s, the fast path's own result too. Returns 1 if the fast
 * path accepted s. The text is copied to a buffer of exactly len octets. */
static int compare_paths(const uint8_t *text, size_t len, unsigned *mismatches)
{
        static uint8_t s[512];
        struct smx_dr_text fast, gen, both, scan;
        memcpy(s, text, len);
        int nf = smx_dr_text_parse_standard(s, len, &fast);
        int ng = smx_dr_text_parse_general(s, len, &gen);
        int nb = smx_dr_text_parse(s, len, &both);
        int ns = smx_dr_text_scan(s, len, &scan);
        if (nb != ng || !dr_text_same(&both, &gen))
                (*mismatches)++;
        if (!scan_matches(&scan, ns, &gen, ng))
                (*mismatches)++;
        if (nf >= 0 && (nf != ng || !dr_text_same(&fast, &gen)))
                (*mismatches)++;
        return nf >= 0;
}

static void test_standard_receipts_take_the_fast_path_with_the_same_result(void)
{
        uint8_t buf[512];
        unsigned mismatches = 0, fast = 0, with_text = 0, bad_flags = 0;
        for (int i = 0; i < 40000; i++) {
                size_t len = gen_standard(buf);
                fast += (unsigned)compare_paths(buf, len, &mismatches);
                struct smx_dr_text d;
                smx_dr_text_parse_standard(buf, len, &d);
                with_text += (d.present & SMX_DR_HAS_TEXT) != 0;
                bad_flags += d.flags != 0;
        }
        CHECK_EQ(mismatches, 0);
        CHECK_EQ(fast, 40000);                  /* every one of them took the fast path */
        CHECK(with_text > 30000 && with_text < 40000);  /* with and without text: */
        CHECK(bad_flags > 10000 && bad_flags < 39000);  /* good and bad values */
}

static void test_mutated_receipts_give_the_general_result_either_way(void)
{
        static const uint8_t odd[] = { ':', ' ', '\t', '\r', '\n', 'A', 'x', '_', 0, 0xff, 'I', 'S' };
        uint8_t buf[512];
        unsigned mismatches = 0, fast = 0, general = 0;
        for (int i = 0; i < 60000; i++) {
                size_t len = gen_standard(buf);
                int k = 1 + (int)rnd(3);
                for (int m = 0; m < k && len > 0; m++) {
                        size_t at = rnd((uint32_t)len);
                        switch (rnd(5)) {
                        case 0:         /* replace */
                                buf[at] = odd[rnd(sizeof odd)];
                                break;
                        case 1:         /* insert */
                                memmove(buf + at + 1, buf + at, len - at);
                                buf[at] = odd[rnd(sizeof odd)];
                                len++;
                                break;
                        case 2:         /* remove */
                                memmove(buf + at, buf + at + 1, len - at - 1);
                                len--;
                                break;
                        case 3:         /* case */
                                if (buf[at] >= 'a' && buf[at] <= 'z')
                                        buf[at] = (uint8_t)(buf[at] - 32);
                                break;
                        default:        /* cut short */
                                len = at;
                                break;
                        }
                }
                if (compare_paths(buf, len, &mismatches))
                        fast++;
                else
                        general++;
        }
        CHECK_EQ(mismatches, 0);
        CHECK(fast > 5000);                     /* mutations inside values stay standard */
        CHECK(general > 20000);                 /* most others fall back */
}

static void test_every_prefix_of_a_receipt(void)
{
        const char *r = "id:7f3a-sub sub:001 dlvrd:001 submit date:2401011200 "
                        "done date:2401011201 stat:DELIVRD err:000 text:id:5 stat:FAILED";
        unsigned mismatches = 0, fast = 0;
        size_t n = strlen(r);
        for (size_t len = 0; len <= n; len++)
                fast += (unsigned)compare_paths((const uint8_t *)r, len, &mismatches);
        CHECK_EQ(mismatches, 0);
        /* accepted: the three prefixes ending in err's value ("err:0", "err:00",
         * "err:000": no text, err runs to the end) and every one holding all
         * of " text:"; refused: the rest */
        size_t text_at = (size_t)(strstr(r, " text:") - r);
        CHECK_EQ(fast, 3 + (n - (text_at + 6) + 1));
}

static void test_fast_path_values_and_what_it_refuses(void)
{
        struct smx_dr_text d;
        const char *ok = "id:0123456789 sub:001 dlvrd:001 submit date:2401011200 "
                         "done date:2401011201 stat:DELIVRD err:000 text:hello world ";
        CHECK_EQ(smx_dr_text_parse_standard((const uint8_t *)ok, strlen(ok), &d), 8);
        CHECK_VIEW(d.id, "0123456789");
        CHECK_VIEW(d.text, "hello world");
        CHECK_EQ(d.state, SMPP_STATE_DELIVERED);
        CHECK_EQ(d.submit.valid, 1);
        CHECK_EQ(d.flags, 0);
        /* the general scan's cases, refused by the fast path (-1, *out reset) */
        static const char *const refused[] = {
                "ID:1 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000",
                "id:1  sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000",
                "id:1\tsub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000",
                "id:a:b sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000",
                "id:1 dlvrd:001 sub:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000",
                "id:1 sub:001 dlvrd:001 submit_date:2401011200 done date:2401011201 stat:DELIVRD err:000",
                "id: sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000",
                "id:1 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD",
                "id:1 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000 ",
                " id:1 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000",
                "hello",
                "",
        };
        for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
                CHECK_EQ(smx_dr_text_parse_standard((const uint8_t *)refused[i], strlen(refused[i]),
                                                    &d), -1);
                CHECK_EQ(d.present, 0);
                CHECK_EQ(d.state, -1);
                unsigned mismatches = 0;
                compare_paths((const uint8_t *)refused[i], strlen(refused[i]), &mismatches);
                CHECK_EQ(mismatches, 0);
        }
        CHECK_EQ(smx_dr_text_parse_standard(NULL, 0, &d), -1);
        CHECK_EQ(smx_dr_text_parse(NULL, 0, &d), 0);
}

int main(void)
{
        RUN(test_standard_receipts_take_the_fast_path_with_the_same_result);
        RUN(test_mutated_receipts_give_the_general_result_either_way);
        RUN(test_every_prefix_of_a_receipt);
        RUN(test_fast_path_values_and_what_it_refuses);
        return t_done();
}
