/* UTF-8, UCS-2, Latin-1, ASCII, data_coding maps and smx_text_decode
 * (HOSTILE G-01, G-11; SERVICE R9). */
#include "testlib.h"
#include "text/text.h"

#define U(s) (const uint8_t *)(s), sizeof(s) - 1

static void test_utf8_next_reads_four_byte_emoji(void)
{
        uint32_t cp;
        int bad;
        CHECK_EQ(smx_utf8_next((const uint8_t *)"\xF0\x9F\x98\x80", 4, &cp, &bad), 4);
        CHECK_EQ(cp, 0x1F600);
        CHECK_EQ(bad, 0);
}

static void test_g11_overlong_nul_becomes_replacement(void)
{
        uint8_t out[16];
        unsigned f = 0;
        size_t n = smx_utf8_sanitize((const uint8_t *)"\xC0\x80", 2, out, sizeof(out), &f);
        /* c0 and 80 are each an invalid unit: two U+FFFD */
        CHECK_EQ(n, 6);
        CHECK_MEM(out, "\xEF\xBF\xBD\xEF\xBF\xBD", 6);
        CHECK(f & SMX_TEXT_F_REPLACED);
}

static void test_g11_truncated_sequence_becomes_one_replacement(void)
{
        uint8_t out[16];
        unsigned f = 0;
        size_t n = smx_utf8_sanitize((const uint8_t *)"a\xE2\x82", 3, out, sizeof(out), &f);
        CHECK_EQ(n, 4);
        CHECK_MEM(out, "a\xEF\xBF\xBD", 4);
        CHECK(f & SMX_TEXT_F_REPLACED);
}

static void test_utf8_rejects_encoded_surrogate(void)
{
        uint32_t cp;
        int bad;
        smx_utf8_next((const uint8_t *)"\xED\xA0\x80", 3, &cp, &bad);
        CHECK_EQ(cp, 0xFFFD);
        CHECK_EQ(bad, 1);
}

static void test_g11_dcs0_is_utf8_on_service_map(void)
{
        uint8_t out[16];
        struct smx_text_result res;
        CHECK_EQ(smx_text_decode(0x00, U("\xC3\xA9"), NULL, out, sizeof(out), &res), 0);
        CHECK_EQ(res.len, 2);
        CHECK_MEM(out, "\xC3\xA9", 2);
        CHECK_EQ(res.enc, SMX_ENC_UTF8);
}

static void test_g11_dcs0_is_latin1_on_a_latin1_smsc(void)
{
        uint8_t out[16];
        struct smx_text_result res;
        struct smx_dcs_map m;
        smx_dcs_map_service(&m);
        m.enc[0] = SMX_ENC_LATIN1;
        struct smx_text_decode_opts o = { .map = &m };
        CHECK_EQ(smx_text_decode(0x00, U("\xC3\xA9"), &o, out, sizeof(out), &res), 0);
        CHECK_EQ(res.len, 4);
        CHECK_MEM(out, "\xC3\x83\xC2\xA9", 4); /* "Ã©" */
}

static void test_dcs0_is_gsm_on_generic_map(void)
{
        uint8_t out[16];
        struct smx_text_result res;
        struct smx_dcs_map m;
        smx_dcs_map_generic(&m);
        struct smx_text_decode_opts o = { .map = &m };
        const uint8_t in[] = {0x00, 0x48, 0x00};
        CHECK_EQ(smx_text_decode(0x00, in, sizeof(in), &o, out, sizeof(out), &res), 0);
        CHECK_EQ(res.len, 3);
        CHECK_MEM(out, "@H@", 3);
}

static void test_ucs2_encodes_emoji_as_surrogate_pair(void)
{
        uint8_t out[16];
        const uint8_t want[] = {0x00, 0x48, 0xD8, 0x3D, 0xDE, 0x00};
        CHECK_EQ(smx_ucs2_from_utf8(U("H\xF0\x9F\x98\x80"), out, sizeof(out)), 6);
        CHECK_MEM(out, want, 6);
}

static void test_ucs2_decodes_surrogate_pair_to_emoji(void)
{
        uint8_t out[16];
        unsigned f = 0;
        const uint8_t in[] = {0xD8, 0x3D, 0xDE, 0x00, 0x00, 0x21};
        size_t n = smx_ucs2_to_utf8(in, sizeof(in), out, sizeof(out), &f);
        CHECK_EQ(n, 5);
        CHECK_MEM(out, "\xF0\x9F\x98\x80!", 5);
        CHECK_EQ(f, 0);
}

static void test_g01_ucs2_odd_length_gives_replacement_and_flag(void)
{
        uint8_t out[16];
        struct smx_text_result res;
        const uint8_t in[] = {0x00, 0x48, 0x00, 0x69, 0x00};
        CHECK_EQ(smx_text_decode(SMPP_DCS_UCS2, in, sizeof(in), NULL, out, sizeof(out), &res), 0);
        CHECK_EQ(res.len, 5);
        CHECK_MEM(out, "Hi\xEF\xBF\xBD", 5);
        CHECK(res.flags & SMX_TEXT_F_ODD_LENGTH);
        CHECK(res.flags & SMX_TEXT_F_REPLACED);
}

static void test_ucs2_lone_high_surrogate_is_replaced(void)
{
        uint8_t out[16];
        unsigned f = 0;
        const uint8_t in[] = {0xD8, 0x3D, 0x00, 0x41};
        size_t n = smx_ucs2_to_utf8(in, sizeof(in), out, sizeof(out), &f);
        CHECK_EQ(n, 4);
        CHECK_MEM(out, "\xEF\xBF\xBD" "A", 4);
        CHECK(f & SMX_TEXT_F_REPLACED);
}

static void test_ucs2_lone_low_surrogate_is_replaced(void)
{
        uint8_t out[16];
        unsigned f = 0;
        const uint8_t in[] = {0xDE, 0x00};
        CHECK_EQ(smx_ucs2_to_utf8(in, sizeof(in), out, sizeof(out), &f), 3);
        CHECK(f & SMX_TEXT_F_REPLACED);
}

static void test_ucs2_big_endian_bom_is_removed(void)
{
        uint8_t out[16];
        unsigned f = 0;
        const uint8_t in[] = {0xFE, 0xFF, 0x00, 0x48, 0x00, 0x69};
        CHECK_EQ(smx_ucs2_to_utf8(in, sizeof(in), out, sizeof(out), &f), 2);
        CHECK_MEM(out, "Hi", 2);
        CHECK(f & SMX_TEXT_F_BOM);
        CHECK_EQ(f & SMX_TEXT_F_LITTLE_ENDIAN, 0);
}

static void test_ucs2_little_endian_bom_switches_byte_order(void)
{
        uint8_t out[16];
        unsigned f = 0;
        const uint8_t in[] = {0xFF, 0xFE, 0x48, 0x00, 0x3D, 0xD8, 0x00, 0xDE};
        CHECK_EQ(smx_ucs2_to_utf8(in, sizeof(in), out, sizeof(out), &f), 5);
        CHECK_MEM(out, "H\xF0\x9F\x98\x80", 5);
        CHECK(f & SMX_TEXT_F_LITTLE_ENDIAN);
}

static void test_latin1_roundtrips_accented_text(void)
{
        uint8_t l1[16], back[32];
        unsigned f = 0;
        const char s[] = "caf\xC3\xA9 na\xC3\xAFve \xC3\xBC\xC3\x9F"; /* café naïve üß */
        long n = smx_latin1_from_utf8(U(s), 0xFF, l1, sizeof(l1), NULL);
        CHECK_EQ(n, 13);
        CHECK_EQ(l1[3], 0xE9);
        size_t m = smx_latin1_to_utf8(l1, (size_t)n, back, sizeof(back), &f);
        CHECK_EQ(m, sizeof(s) - 1);
        CHECK_MEM(back, s, m);
}

static void test_latin1_rejects_euro_sign(void)
{
        uint8_t out[8];
        size_t at = 0;
        CHECK_EQ(smx_latin1_from_utf8(U("a\xE2\x82\xAC"), 0xFF, out, sizeof(out), &at), SMX_EINVAL);
        CHECK_EQ(at, 1);
}

static void test_ascii_rejects_accent_and_decodes_high_octet_as_replacement(void)
{
        uint8_t out[8];
        unsigned f = 0;
        CHECK_EQ(smx_latin1_from_utf8(U("\xC3\xA9"), 0x7F, out, sizeof(out), NULL), SMX_EINVAL);
        const uint8_t in[] = {'o', 0xE9};
        CHECK_EQ(smx_ascii_to_utf8(in, 2, out, sizeof(out), &f), 4);
        CHECK(f & SMX_TEXT_F_REPLACED);
}

static void test_service_map_follows_r9(void)
{
        struct smx_dcs_map m;
        smx_dcs_map_service(&m);
        CHECK_EQ(m.enc[0], SMX_ENC_UTF8);
        CHECK_EQ(m.enc[1], SMX_ENC_ASCII);
        CHECK_EQ(m.enc[2], SMX_ENC_GSM);
        CHECK_EQ(m.enc[3], SMX_ENC_LATIN1);
        CHECK_EQ(m.enc[8], SMX_ENC_UCS2);
        CHECK_EQ(m.enc[0xF0], SMX_TEXT_ENC_UNKNOWN);
        CHECK_EQ(smx_dcs_for_encoding(&m, SMX_ENC_GSM), 2);
        CHECK_EQ(smx_dcs_for_encoding(&m, SMX_ENC_UTF8), 0);
}

static void test_generic_map_follows_23038_groups(void)
{
        struct smx_dcs_map m;
        smx_dcs_map_generic(&m);
        CHECK_EQ(m.enc[0x00], SMX_ENC_GSM);
        CHECK_EQ(m.enc[0x02], SMX_TEXT_ENC_BINARY);
        CHECK_EQ(m.enc[0x18], SMX_ENC_UCS2);     /* UCS2 class 0 "flash" */
        CHECK_EQ(m.enc[0xF1], SMX_ENC_GSM);
        CHECK_EQ(m.enc[0xF5], SMX_TEXT_ENC_BINARY);
        CHECK_EQ(m.enc[0x05], SMX_TEXT_ENC_UNKNOWN); /* JIS: not guessed */
        CHECK_EQ(smx_dcs_for_encoding(&m, SMX_ENC_GSM), 0);
        CHECK_EQ(smx_dcs_for_encoding(&m, SMX_ENC_UTF8), SMX_EINVAL);
}

static void test_unknown_dcs_is_reported_as_hex(void)
{
        uint8_t out[16];
        struct smx_text_result res;
        const uint8_t in[] = {0x1B, 0x00, 0xFF};
        CHECK_EQ(smx_text_decode(0x05, in, sizeof(in), NULL, out, sizeof(out), &res), 0);
        CHECK_EQ(res.len, 6);
        CHECK_MEM(out, "1B00FF", 6);
        CHECK(res.flags & SMX_TEXT_F_RAW);
        CHECK(res.flags & SMX_TEXT_F_UNKNOWN_DCS);
        CHECK_EQ(res.enc, SMX_TEXT_ENC_UNKNOWN);
}

static void test_binary_dcs_is_hex_without_unknown_flag(void)
{
        uint8_t out[16];
        struct smx_text_result res;
        const uint8_t in[] = {0xCA, 0xFE};
        CHECK_EQ(smx_text_decode(SMPP_DCS_BINARY, in, sizeof(in), NULL, out, sizeof(out), &res), 0);
        CHECK_MEM(out, "CAFE", 4);
        CHECK(res.flags & SMX_TEXT_F_RAW);
        CHECK_EQ(res.flags & SMX_TEXT_F_UNKNOWN_DCS, 0);
}

static void test_decode_never_writes_past_cap(void)
{
        uint8_t out[8];
        struct smx_text_result res;
        memset(out, 0xAA, sizeof(out));
        /* UCS-2 "ééé": 2 octets each in UTF-8; cap 5 fits two. */
        const uint8_t in[] = {0x00, 0xE9, 0x00, 0xE9, 0x00, 0xE9};
        CHECK_EQ(smx_text_decode(SMPP_DCS_UCS2, in, sizeof(in), NULL, out, 5, &res), 0);
        CHECK_EQ(res.len, 4);
        CHECK(res.flags & SMX_TEXT_F_TRUNCATED);
        CHECK_EQ(out[4], 0xAA);
        CHECK_EQ(out[5], 0xAA);
}

static void test_decode_skips_udh(void)
{
        uint8_t out[16];
        struct smx_text_result res;
        const uint8_t in[] = {0x05, 0x00, 0x03, 0x2A, 0x02, 0x01, 'h', 'i'};
        struct smx_text_decode_opts o = { .udh_len = 6 };
        CHECK_EQ(smx_text_decode(SMPP_DCS_IA5, in, sizeof(in), &o, out, sizeof(out), &res), 0);
        CHECK_EQ(res.len, 2);
        CHECK_MEM(out, "hi", 2);
}

static void test_decode_packed_gsm_after_udh_uses_fill_bits(void)
{
        uint8_t sm[32], out[16];
        struct smx_text_result res;
        struct smx_dcs_map m;
        smx_dcs_map_generic(&m);
        size_t h = smx_udh_write_concat(0, 0x2A, 2, 1, sm, sizeof(sm));
        size_t n = smx_gsm7_pack((const uint8_t *)"hello", 5, smx_gsm7_fill_bits(h), sm + h,
                                 sizeof(sm) - h);
        struct smx_text_decode_opts o = { .map = &m, .gsm_packed = 1, .udh_len = h };
        CHECK_EQ(smx_text_decode(0, sm, h + n, &o, out, sizeof(out), &res), 0);
        CHECK_EQ(res.len, 5);
        CHECK_MEM(out, "hello", 5);
}

static void test_hex_stops_on_even_boundary(void)
{
        uint8_t out[5];
        unsigned f = 0;
        const uint8_t in[] = {1, 2, 3};
        CHECK_EQ(smx_text_hex(in, 3, out, sizeof(out), &f), 4);
        CHECK(f & SMX_TEXT_F_TRUNCATED);
}

int main(void)
{
        RUN(test_utf8_next_reads_four_byte_emoji);
        RUN(test_g11_overlong_nul_becomes_replacement);
        RUN(test_g11_truncated_sequence_becomes_one_replacement);
        RUN(test_utf8_rejects_encoded_surrogate);
        RUN(test_g11_dcs0_is_utf8_on_service_map);
        RUN(test_g11_dcs0_is_latin1_on_a_latin1_smsc);
        RUN(test_dcs0_is_gsm_on_generic_map);
        RUN(test_ucs2_encodes_emoji_as_surrogate_pair);
        RUN(test_ucs2_decodes_surrogate_pair_to_emoji);
        RUN(test_g01_ucs2_odd_length_gives_replacement_and_flag);
        RUN(test_ucs2_lone_high_surrogate_is_replaced);
        RUN(test_ucs2_lone_low_surrogate_is_replaced);
        RUN(test_ucs2_big_endian_bom_is_removed);
        RUN(test_ucs2_little_endian_bom_switches_byte_order);
        RUN(test_latin1_roundtrips_accented_text);
        RUN(test_latin1_rejects_euro_sign);
        RUN(test_ascii_rejects_accent_and_decodes_high_octet_as_replacement);
        RUN(test_service_map_follows_r9);
        RUN(test_generic_map_follows_23038_groups);
        RUN(test_unknown_dcs_is_reported_as_hex);
        RUN(test_binary_dcs_is_hex_without_unknown_flag);
        RUN(test_decode_never_writes_past_cap);
        RUN(test_decode_skips_udh);
        RUN(test_decode_packed_gsm_after_udh_uses_fill_bits);
        RUN(test_hex_stops_on_even_boundary);
        return t_done();
}
