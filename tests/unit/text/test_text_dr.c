/* Delivery-receipt text parser and message id normaliser
 * (SMPP.md §7.2-7.3; HOSTILE F-07, F-09..F-15). */
#include "testlib.h"
#include "text/text.h"

static int parse(const char *s, struct smx_dr_text *d)
{
        return smx_dr_text_parse((const uint8_t *)s, strlen(s), d);
}

static void test_dr_parses_appendix_b_format(void)
{
        struct smx_dr_text d;
        CHECK_EQ(parse("id:0123456789 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 "
                       "stat:DELIVRD err:000 text:hello", &d), 8);
        CHECK_VIEW(d.id, "0123456789");
        CHECK_EQ(d.sub_n, 1);
        CHECK_EQ(d.dlvrd_n, 1);
        CHECK_EQ(d.submit.valid, 1);
        CHECK_EQ(d.submit.year, 2024);
        CHECK_EQ(d.submit.month, 1);
        CHECK_EQ(d.submit.hour, 12);
        CHECK_EQ(d.done.minute, 1);
        CHECK_EQ(d.state, SMPP_STATE_DELIVERED);
        CHECK_VIEW(d.err, "000");
        CHECK_VIEW(d.text, "hello");
        CHECK_EQ(d.flags, 0);
}

static void test_f09_capital_text_label_and_upper_case_keys(void)
{
        struct smx_dr_text d;
        parse("ID:abc SUB:001 DLVRD:001 SUBMIT DATE:2401011200 DONE DATE:2401011201 STAT:UNDELIV "
              "ERR:001 Text:Hi there", &d);
        CHECK_VIEW(d.id, "abc");
        CHECK_EQ(d.state, SMPP_STATE_UNDELIVERABLE);
        CHECK_VIEW(d.text, "Hi there");
        CHECK_EQ(d.present, 0xFF);
}

static void test_f09_fields_in_any_order(void)
{
        struct smx_dr_text d;
        parse("stat:EXPIRED err:123 id:XYZ-1 done date:2401020000 sub:1 dlvrd:0 submit date:2401011200", &d);
        CHECK_VIEW(d.id, "XYZ-1");
        CHECK_EQ(d.state, SMPP_STATE_EXPIRED);
        CHECK_VIEW(d.err, "123");
        CHECK_EQ(d.sub_n, 1);
        CHECK_EQ(d.dlvrd_n, 0);
        CHECK_EQ(d.done.day, 2);
        CHECK_EQ(d.submit.valid, 1);
        CHECK_EQ(d.present & SMX_DR_HAS_TEXT, 0);
}

static void test_f09_tabs_and_crlf_between_fields(void)
{
        struct smx_dr_text d;
        parse("id:42\tsub:001\r\ndlvrd:001\r\nsubmit date:2401011200\tdone date:2401011201\r\n"
              "stat:DELIVRD\terr:000\r\ntext:x\r\n", &d);
        CHECK_VIEW(d.id, "42");
        CHECK_VIEW(d.sub, "001");
        CHECK_EQ(d.state, SMPP_STATE_DELIVERED);
        CHECK_VIEW(d.text, "x");
}

static void test_f09_twelve_digit_submit_date(void)
{
        struct smx_dr_text d;
        parse("id:1 submit date:240101120030 done date:2401011201 stat:DELIVRD", &d);
        CHECK_EQ(d.submit.valid, 1);
        CHECK_EQ(d.submit.second, 30);
        CHECK_EQ(d.done.valid, 1);
}

static void test_f09_fourteen_digit_done_date(void)
{
        struct smx_dr_text d;
        parse("id:1 submit date:2401011200 done date:20240101120100 stat:DELIVRD", &d);
        CHECK_EQ(d.done.valid, 1);
        CHECK_EQ(d.done.year, 2024);
        CHECK_EQ(d.done.minute, 1);
        CHECK_EQ(d.flags, 0);
}

static void test_f09_missing_sub_and_dlvrd(void)
{
        struct smx_dr_text d;
        parse("id:77 submit date:2401011200 done date:2401011201 stat:DELIVRD err:0", &d);
        CHECK_EQ(d.present & (SMX_DR_HAS_SUB | SMX_DR_HAS_DLVRD), 0);
        CHECK_EQ(d.sub_n, -1);
        CHECK_EQ(d.dlvrd_n, -1);
        CHECK_EQ(d.flags, 0);
        CHECK_EQ(d.state, SMPP_STATE_DELIVERED);
}

static void test_f11_zero_date_is_null_with_flag(void)
{
        struct smx_dr_text d;
        parse("id:1 submit date:0000000000 done date:2401011201 stat:DELIVRD", &d);
        CHECK_EQ(d.submit.valid, 0);
        CHECK(d.flags & SMX_DR_F_BAD_SUBMIT_DATE);
        CHECK_EQ(d.done.valid, 1);
        CHECK_EQ(d.state, SMPP_STATE_DELIVERED);
}

static void test_f11_month_13_is_null_with_flag(void)
{
        struct smx_dr_text d;
        parse("id:1 submit date:2401011200 done date:2413011201 stat:DELIVRD", &d);
        CHECK_EQ(d.done.valid, 0);
        CHECK(d.flags & SMX_DR_F_BAD_DONE_DATE);
}

static void test_f11_done_before_submit_nulls_done_date(void)
{
        struct smx_dr_text d;
        parse("id:1 submit date:2401021200 done date:2401011200 stat:DELIVRD", &d);
        CHECK_EQ(d.submit.valid, 1);
        CHECK_EQ(d.done.valid, 0);
        CHECK(d.flags & SMX_DR_F_BAD_DONE_DATE);
}

static void test_f11_garbage_date_is_null(void)
{
        struct smx_dr_text d;
        parse("id:1 submit date:yesterday done date:24-01-01 stat:DELIVRD", &d);
        CHECK_EQ(d.submit.valid, 0);
        CHECK_EQ(d.done.valid, 0);
        CHECK(d.flags & SMX_DR_F_BAD_SUBMIT_DATE);
        CHECK(d.flags & SMX_DR_F_BAD_DONE_DATE);
        CHECK_VIEW(d.submit_date, "yesterday");
}

static void test_f13_long_err_kept_as_string(void)
{
        struct smx_dr_text d;
        parse("id:1 stat:UNDELIV err:2050 text:", &d);
        CHECK_VIEW(d.err, "2050");
}

static void test_f13_hex_err_kept_as_string(void)
{
        struct smx_dr_text d;
        parse("id:1 stat:UNDELIV err:0x1F", &d);
        CHECK_VIEW(d.err, "0x1F");
}

static void test_f13_na_err_kept_as_string(void)
{
        struct smx_dr_text d;
        parse("id:1 stat:UNDELIV err:N/A text:abc", &d);
        CHECK_VIEW(d.err, "N/A");
}

static void test_stat_full_words_and_lower_case(void)
{
        CHECK_EQ(smx_dr_stat_state((const uint8_t *)"DELIVERED", 9), SMPP_STATE_DELIVERED);
        CHECK_EQ(smx_dr_stat_state((const uint8_t *)"undeliverable", 13), SMPP_STATE_UNDELIVERABLE);
        CHECK_EQ(smx_dr_stat_state((const uint8_t *)"FAILED", 6), SMPP_STATE_UNDELIVERABLE);
        CHECK_EQ(smx_dr_stat_state((const uint8_t *)"delivrd", 7), SMPP_STATE_DELIVERED);
        CHECK_EQ(smx_dr_stat_state((const uint8_t *)"AcceptD", 7), SMPP_STATE_ACCEPTED);
        CHECK_EQ(smx_dr_stat_state((const uint8_t *)"REJECTD", 7), SMPP_STATE_REJECTED);
        CHECK_EQ(smx_dr_stat_state((const uint8_t *)"ENROUTE", 7), SMPP_STATE_ENROUTE);
        CHECK_EQ(smx_dr_stat_state((const uint8_t *)"DELIV", 5), -1);
}

static void test_unknown_stat_flags_and_keeps_view(void)
{
        struct smx_dr_text d;
        parse("id:1 stat:BOUNCED", &d);
        CHECK_EQ(d.state, -1);
        CHECK(d.flags & SMX_DR_F_UNKNOWN_STAT);
        CHECK_VIEW(d.stat, "BOUNCED");
}

static void test_f15_mo_imitating_receipt_parses_but_text_alone_decides_nothing(void)
{
        /* The parser reads it (the inbound room decides DR vs MO by esm_class
         * and TLVs, never by text); here: the text's id is only a view. */
        struct smx_dr_text d;
        CHECK(parse("id:4f2a9c sub:001 dlvrd:001 stat:DELIVRD err:000 text:", &d) >= 5);
        CHECK_VIEW(d.id, "4f2a9c");
        CHECK_EQ(d.text.len, 0);
}

static void test_plain_text_has_no_labels(void)
{
        struct smx_dr_text d;
        CHECK_EQ(parse("see you at 5: ok? identity:no", &d), 0);
        CHECK_EQ(d.present, 0);
        CHECK_EQ(d.state, -1);
}

static void test_first_label_wins_and_text_keeps_label_words(void)
{
        struct smx_dr_text d;
        parse("id:1 stat:DELIVRD text:my id:2 stat:nope", &d);
        CHECK_VIEW(d.id, "1");
        CHECK_EQ(d.state, SMPP_STATE_DELIVERED);
        CHECK_VIEW(d.text, "my id:2 stat:nope");
}

static void test_dr_parse_never_reads_past_len(void)
{
        /* The buffer continues past len with a label that must not be seen. */
        const char *s = "id:12 stat:DELIVRD err:000";
        struct smx_dr_text d;
        smx_dr_text_parse((const uint8_t *)s, 13, &d); /* "id:12 stat:DE" */
        CHECK_VIEW(d.stat, "DE");
        CHECK_EQ(d.present & SMX_DR_HAS_ERR, 0);
        CHECK_EQ(d.state, -1);
}

static void test_f07_hex_resp_matches_decimal_receipt(void)
{
        struct smx_id_norm n = { .resp_base = 16, .dr_base = 10 };
        char a[80], b[80];
        CHECK_EQ(smx_msgid_normalise(&n, SMX_ID_FROM_RESP, (const uint8_t *)"4F2A9C", 6, a, sizeof(a)), 7);
        CHECK_EQ(smx_msgid_normalise(&n, SMX_ID_FROM_DR_TEXT, (const uint8_t *)"5188252", 7, b, sizeof(b)), 7);
        CHECK_STR(a, "5188252");
        CHECK_STR(b, a);
}

static void test_f07_padded_lower_case_hex_matches(void)
{
        struct smx_id_norm n = { .resp_base = 16, .dr_base = 16 };
        char a[80], b[80];
        smx_msgid_normalise(&n, SMX_ID_FROM_RESP, (const uint8_t *)"4F2A9C", 6, a, sizeof(a));
        smx_msgid_normalise(&n, SMX_ID_FROM_DR_TEXT, (const uint8_t *)"0004f2a9c", 9, b, sizeof(b));
        CHECK_STR(a, b);
}

static void test_f07_default_is_exact_match(void)
{
        char a[80];
        CHECK_EQ(smx_msgid_normalise(NULL, SMX_ID_FROM_RESP, (const uint8_t *)"004F2a", 6, a, sizeof(a)), 6);
        CHECK_STR(a, "004F2a");
}

static void test_id_case_fold_and_zero_strip_for_opaque_ids(void)
{
        struct smx_id_norm n = { .fold_case = 1, .strip_zeros = 1 };
        char a[80];
        smx_msgid_normalise(&n, SMX_ID_FROM_DR_TEXT, (const uint8_t *)"00AbC-9", 7, a, sizeof(a));
        CHECK_STR(a, "abc-9");
        smx_msgid_normalise(&n, SMX_ID_FROM_DR_TEXT, (const uint8_t *)"0000", 4, a, sizeof(a));
        CHECK_STR(a, "0");
}

static void test_id_long_hex_converts_exactly(void)
{
        /* 2^64 = 0x10000000000000000 = 18446744073709551616 */
        struct smx_id_norm n = { .resp_base = 16 };
        char a[80];
        smx_msgid_normalise(&n, SMX_ID_FROM_RESP, (const uint8_t *)"10000000000000000", 17, a, sizeof(a));
        CHECK_STR(a, "18446744073709551616");
        /* a limb boundary with inner zeros: 0x3B9ACA00 = 1000000000 */
        smx_msgid_normalise(&n, SMX_ID_FROM_RESP, (const uint8_t *)"3B9ACA00", 8, a, sizeof(a));
        CHECK_STR(a, "1000000000");
}

static void test_id_not_a_number_in_its_base_stays_text(void)
{
        struct smx_id_norm n = { .dr_base = 10 };
        char a[80];
        smx_msgid_normalise(&n, SMX_ID_FROM_DR_TEXT, (const uint8_t *)"0x1F", 4, a, sizeof(a));
        CHECK_STR(a, "0x1F");
}

/* The default rule (digits_auto): edge cases of issue 12. */
static int auto_norm(const char *id, char *out, size_t cap)
{
        struct smx_id_norm n = { .digits_auto = 1 };
        return smx_msgid_normalise(&n, SMX_ID_FROM_RESP, (const uint8_t *)id, strlen(id), out, cap);
}

static void test_auto_folds_and_strips_digit_strings_only(void)
{
        char a[300];
        CHECK_EQ(auto_norm("00004B2F1E", a, sizeof a), 6);
        CHECK_STR(a, "4b2f1e");
        CHECK_EQ(auto_norm("000000102345", a, sizeof a), 6);
        CHECK_STR(a, "102345");
        CHECK_EQ(auto_norm("4B2F1", a, sizeof a), 5);
        CHECK_STR(a, "4b2f1");
        /* mixed case hex is still a digit string */
        auto_norm("0aBcD", a, sizeof a);
        CHECK_STR(a, "abcd");
        /* not a digit string: exact, zeros and case kept */
        auto_norm("00AB-12", a, sizeof a);
        CHECK_STR(a, "00AB-12");
        auto_norm("0x1F", a, sizeof a);
        CHECK_STR(a, "0x1F");
        auto_norm("0G12", a, sizeof a);      /* G is not a hex digit */
        CHECK_STR(a, "0G12");
        auto_norm("00 12", a, sizeof a);
        CHECK_STR(a, "00 12");
        /* UUID-like ids with dashes stay exact, case included */
        auto_norm("6F9619FF-8B86-D011", a, sizeof a);
        CHECK_STR(a, "6F9619FF-8B86-D011");
}

static void test_auto_edge_cases(void)
{
        char a[300], b[300];
        /* empty */
        CHECK_EQ(auto_norm("", a, sizeof a), 0);
        CHECK_STR(a, "");
        /* all zeros keep one zero, whatever their count */
        CHECK_EQ(auto_norm("0000", a, sizeof a), 1);
        CHECK_STR(a, "0");
        CHECK_EQ(auto_norm("0", b, sizeof b), 1);
        CHECK_STR(b, a);
        /* long ids (no number conversion: any length) */
        char lng[201];
        memset(lng, '0', 100);
        memset(lng + 100, 'F', 100);
        lng[200] = 0;
        CHECK_EQ(auto_norm(lng, a, sizeof a), 100);
        for (int i = 0; i < 100; i++)
                CHECK_EQ(a[i], 'f');
        /* one non-hex byte anywhere makes the whole id exact */
        lng[150] = 'z';
        CHECK_EQ(auto_norm(lng, a, sizeof a), 200);
        CHECK(memcmp(a, lng, 200) == 0);
        /* the explicit base rules come first (hex_to_dec is never guessed) */
        struct smx_id_norm n = { .digits_auto = 1, .resp_base = 16 };
        smx_msgid_normalise(&n, SMX_ID_FROM_RESP, (const uint8_t *)"1234", 4, a, sizeof a);
        CHECK_STR(a, "4660");
        /* too small an output is still E2BIG */
        CHECK_EQ(auto_norm("00012345", a, 4), SMX_E2BIG);
}

static void test_id_output_too_small_is_e2big(void)
{
        char a[4];
        CHECK_EQ(smx_msgid_normalise(NULL, SMX_ID_FROM_RESP, (const uint8_t *)"12345", 5, a, sizeof(a)),
                 SMX_E2BIG);
}

/* ---- the label scan against the straightforward one ----
 * smx_dr_text_parse tries at a word start only the labels that begin with
 * its first letter. ref_scan below is the scan as first written (every
 * label tried at every word start); over generated receipt-like texts both
 * must find the same labels at the same places (so every value view, and
 * what is derived from the views, is the same). */

static int ref_word_at(const uint8_t *s, size_t len, size_t i, const char *w)
{
        size_t k = 0;
        for (; w[k]; k++) {
                uint8_t c = i + k < len ? s[i + k] : 0;
                if (c >= 'A' && c <= 'Z')
                        c = (uint8_t)(c + 32);
                if (i + k >= len || c != (uint8_t)w[k])
                        return 0;
        }
        return (int)k;
}

static int ref_label_at(const uint8_t *s, size_t len, size_t i, size_t *val)
{
        static const char *const first[8] = {
                "id", "sub", "dlvrd", "submit", "done", "stat", "err", "text",
        };
        for (int l = 0; l < 8; l++) {
                int n = ref_word_at(s, len, i, first[l]);
                if (!n)
                        continue;
                size_t j = i + (size_t)n;
                if (l == 3 || l == 4) {
                        while (j < len && (s[j] == ' ' || s[j] == '\t' || s[j] == '_'))
                                j++;
                        int d = ref_word_at(s, len, j, "date");
                        if (!d)
                                continue;
                        j += (size_t)d;
                }
                while (j < len && (s[j] == ' ' || s[j] == '\t'))
                        j++;
                if (j < len && s[j] == ':') {
                        *val = j + 1;
                        return l;
                }
        }
        return -1;
}

static int ref_is_word(uint8_t c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               c == '_';
}

/* present bits and each found label's value start, as the first scan. */
static unsigned ref_scan(const uint8_t *s, size_t len, size_t val[8])
{
        unsigned present = 0;
        for (size_t i = 0; i < len; i++) {
                size_t v;
                if (i > 0 && ref_is_word(s[i - 1]))
                        continue;
                int l = ref_label_at(s, len, i, &v);
                if (l < 0 || (present & (1u << l)))
                        continue;
                present |= 1u << l;
                val[l] = v;
                i = v - 1;
        }
        return present;
}

static void test_label_scan_matches_the_plain_scan_on_generated_texts(void)
{
        static const char *const tok[] = {
                "id", "ID", "Id", "sub", "SUB", "dlvrd", "DLVRD", "submit", "Submit", "submit date",
                "submit_date", "submitdate", "submit \t date", "done", "DONE", "done date",
                "done_date", "stat", "STAT", "err", "Err", "text", "Text", "TEXT", "date", "idx",
                "subs", "texts", "e", "t", "d", "s", "i", ":", ":", ":", " ", " ", "  ", "\t",
                "id:", "stat:", "err:", "text:", "sub:", "dlvrd:", "submit date:", "done date:",
                " id:", " stat:", " err:", " text:", " sub:", " dlvrd:", " submit date:", " done date:",
                "\r\n", "_", "-", "0", "123", "2401011200", "DELIVRD", "x", "a:b", "\xe9",
        };
        const size_t ntok = sizeof tok / sizeof tok[0];
        uint64_t r = 0x9e3779b97f4a7c15ull;
        uint8_t buf[256];
        unsigned mismatches = 0, with_labels = 0;
        for (int n = 0; n < 50000; n++) {
                size_t len = 0;
                int ntoks = 1 + (int)(r % 24);
                for (int t = 0; t < ntoks; t++) {
                        r ^= r << 13; r ^= r >> 7; r ^= r << 17;
                        const char *w = tok[r % ntok];
                        size_t wl = strlen(w);
                        if (len + wl > sizeof buf)
                                break;
                        memcpy(buf + len, w, wl);
                        len += wl;
                }
                r ^= r << 13; r ^= r >> 7; r ^= r << 17;
                size_t val[8];
                unsigned present = ref_scan(buf, len, val);
                struct smx_dr_text d;
                smx_dr_text_parse(buf, len, &d);
                const struct smx_text_view *views[8] = { &d.id, &d.sub, &d.dlvrd, &d.submit_date,
                                                         &d.done_date, &d.stat, &d.err, &d.text };
                int same = d.present == present;
                for (int l = 0; same && l < 8; l++) {
                        if (!(present & (1u << l)))
                                continue;
                        /* the view starts at the value (after blanks) or is empty */
                        size_t a = val[l];
                        while (a < len && (buf[a] == ' ' || buf[a] == '\t' || buf[a] == '\r' ||
                                           buf[a] == '\n'))
                                a++;
                        if (views[l]->len && views[l]->p != buf + a)
                                same = 0;
                }
                if (!same)
                        mismatches++;
                if (present)
                        with_labels++;
        }
        CHECK_EQ(mismatches, 0);
        CHECK(with_labels > 10000);     /* the generator does reach labels */
}

int main(void)
{
        RUN(test_dr_parses_appendix_b_format);
        RUN(test_f09_capital_text_label_and_upper_case_keys);
        RUN(test_f09_fields_in_any_order);
        RUN(test_f09_tabs_and_crlf_between_fields);
        RUN(test_f09_twelve_digit_submit_date);
        RUN(test_f09_fourteen_digit_done_date);
        RUN(test_f09_missing_sub_and_dlvrd);
        RUN(test_f11_zero_date_is_null_with_flag);
        RUN(test_f11_month_13_is_null_with_flag);
        RUN(test_f11_done_before_submit_nulls_done_date);
        RUN(test_f11_garbage_date_is_null);
        RUN(test_f13_long_err_kept_as_string);
        RUN(test_f13_hex_err_kept_as_string);
        RUN(test_f13_na_err_kept_as_string);
        RUN(test_stat_full_words_and_lower_case);
        RUN(test_unknown_stat_flags_and_keeps_view);
        RUN(test_f15_mo_imitating_receipt_parses_but_text_alone_decides_nothing);
        RUN(test_plain_text_has_no_labels);
        RUN(test_first_label_wins_and_text_keeps_label_words);
        RUN(test_dr_parse_never_reads_past_len);
        RUN(test_f07_hex_resp_matches_decimal_receipt);
        RUN(test_f07_padded_lower_case_hex_matches);
        RUN(test_f07_default_is_exact_match);
        RUN(test_id_case_fold_and_zero_strip_for_opaque_ids);
        RUN(test_id_long_hex_converts_exactly);
        RUN(test_id_not_a_number_in_its_base_stays_text);
        RUN(test_auto_folds_and_strips_digit_strings_only);
        RUN(test_auto_edge_cases);
        RUN(test_id_output_too_small_is_e2big);
        RUN(test_label_scan_matches_the_plain_scan_on_generated_texts);
        return t_done();
}
