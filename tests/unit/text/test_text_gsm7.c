/* GSM 03.38: default and extension tables, packing, and HOSTILE G-05/G-07/G-09. */
#include "testlib.h"
#include "text/text.h"

#define U(s) (const uint8_t *)(s), sizeof(s) - 1

static void test_gsm7_encodes_extension_chars_as_esc_pairs(void)
{
        uint8_t out[64];
        const uint8_t want[] = {0x1B, 0x65, 0x1B, 0x3C, 0x1B, 0x3E, 0x1B, 0x28, 0x1B, 0x29,
                                0x1B, 0x3D, 0x1B, 0x2F, 0x1B, 0x14, 0x1B, 0x40};
        long n = smx_gsm7_from_utf8(U("\xE2\x82\xAC[]{}~\\^|"), out, sizeof(out), NULL);
        CHECK_EQ(n, 18);
        CHECK_MEM(out, want, sizeof(want));
}

static void test_gsm7_encodes_default_table_specials(void)
{
        uint8_t out[16];
        /* @ £ $ ¥ è é Δ _ ¤ ¡ Ä ß */
        const uint8_t want[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x10, 0x11, 0x24, 0x40, 0x5B, 0x1E};
        long n = smx_gsm7_from_utf8(U("@\xC2\xA3$\xC2\xA5\xC3\xA8\xC3\xA9\xCE\x94_\xC2\xA4\xC2\xA1\xC3\x84\xC3\x9F"),
                                    out, sizeof(out), NULL);
        CHECK_EQ(n, 12);
        CHECK_MEM(out, want, sizeof(want));
}

static void test_gsm7_rejects_backtick_and_reports_offset(void)
{
        uint8_t out[16];
        size_t at = 99;
        CHECK_EQ(smx_gsm7_from_utf8(U("ab`c"), out, sizeof(out), &at), SMX_EINVAL);
        CHECK_EQ(at, 2);
}

static void test_gsm7_rejects_emoji(void)
{
        uint8_t out[16];
        CHECK_EQ(smx_gsm7_from_utf8(U("hi \xF0\x9F\x98\x80"), out, sizeof(out), NULL), SMX_EINVAL);
}

static void test_gsm7_encode_reports_small_buffer(void)
{
        uint8_t out[3];
        CHECK_EQ(smx_gsm7_from_utf8(U("ab\xE2\x82\xAC"), out, sizeof(out), NULL), SMX_E2BIG);
}

static void test_gsm7_counts_extension_as_two_septets(void)
{
        CHECK_EQ(smx_gsm7_cp_septets(0x20AC), 2);
        CHECK_EQ(smx_gsm7_cp_septets('['), 2);
        CHECK_EQ(smx_gsm7_cp_septets('A'), 1);
        CHECK_EQ(smx_gsm7_cp_septets(0x00E9), 1);
        CHECK_EQ(smx_gsm7_cp_septets('`'), 0);
        CHECK_EQ(smx_gsm7_cp_septets(0x00E1), 0); /* á is not GSM */
}

static void test_gsm7_decodes_extension_and_accents(void)
{
        uint8_t out[64];
        unsigned f = 0;
        const uint8_t in[] = {0x1B, 0x65, 0x20, 0x04, 0x05, 0x7F, 0x1B, 0x3C, 0x1B, 0x3E};
        size_t n = smx_gsm7_to_utf8(in, sizeof(in), out, sizeof(out), &f);
        const char want[] = "\xE2\x82\xAC \xC3\xA8\xC3\xA9\xC3\xA0[]";
        CHECK_EQ(n, sizeof(want) - 1);
        CHECK_MEM(out, want, sizeof(want) - 1);
        CHECK_EQ(f, 0);
}

static void test_g05_zero_septet_is_at_sign_not_terminator(void)
{
        uint8_t out[16];
        unsigned f = 0;
        const uint8_t in[] = {0x00, 0x48, 0x00};
        size_t n = smx_gsm7_to_utf8(in, sizeof(in), out, sizeof(out), &f);
        CHECK_EQ(n, 3);
        CHECK_MEM(out, "@H@", 3);
}

static void test_g07_esc_undefined_shows_base_char(void)
{
        uint8_t out[16];
        unsigned f = 0;
        const uint8_t in[] = {0x1B, 0x41};
        size_t n = smx_gsm7_to_utf8(in, sizeof(in), out, sizeof(out), &f);
        CHECK_EQ(n, 1);
        CHECK_MEM(out, "A", 1);
        CHECK(f & SMX_TEXT_F_ESC_UNDEFINED);
}

static void test_g07_esc_esc_is_dropped_then_base_table(void)
{
        uint8_t out[16];
        unsigned f = 0;
        const uint8_t in[] = {0x1B, 0x1B, 0x41};
        size_t n = smx_gsm7_to_utf8(in, sizeof(in), out, sizeof(out), &f);
        CHECK_EQ(n, 1);
        CHECK_MEM(out, "A", 1);
        CHECK(f & SMX_TEXT_F_ESC_UNDEFINED);
}

static void test_gsm7_trailing_lone_esc_is_dropped(void)
{
        uint8_t out[16];
        unsigned f = 0;
        const uint8_t in[] = {0x41, 0x1B};
        CHECK_EQ(smx_gsm7_to_utf8(in, sizeof(in), out, sizeof(out), &f), 1);
        CHECK(f & SMX_TEXT_F_ESC_UNDEFINED);
}

static void test_gsm7_high_octet_is_masked_and_flagged(void)
{
        uint8_t out[16];
        unsigned f = 0;
        const uint8_t in[] = {0xC1};
        CHECK_EQ(smx_gsm7_to_utf8(in, sizeof(in), out, sizeof(out), &f), 1);
        CHECK_EQ(out[0], 'A');
        CHECK(f & SMX_TEXT_F_HIGH_SEPTET);
}

static void test_gsm7_decode_truncates_at_char_boundary(void)
{
        uint8_t out[4];
        unsigned f = 0;
        const uint8_t in[] = {0x41, 0x1B, 0x65, 0x42}; /* A € B: € needs 3 octets */
        size_t n = smx_gsm7_to_utf8(in, sizeof(in), out, 3, &f);
        CHECK_EQ(n, 1);
        CHECK(f & SMX_TEXT_F_TRUNCATED);
}

static void test_gsm7_packs_hello(void)
{
        uint8_t out[8];
        const uint8_t want[] = {0xE8, 0x32, 0x9B, 0xFD, 0x06};
        CHECK_EQ(smx_gsm7_pack((const uint8_t *)"hello", 5, 0, out, sizeof(out)), 5);
        CHECK_MEM(out, want, 5);
}

static void test_gsm7_pack_refuses_small_buffer(void)
{
        uint8_t out[4];
        CHECK_EQ(smx_gsm7_pack((const uint8_t *)"hello", 5, 0, out, sizeof(out)), 0);
}

static void test_gsm7_pack_in_place_matches_copy(void)
{
        uint8_t a[160], b[160], packed[160];
        for (int i = 0; i < 160; i++)
                a[i] = b[i] = (uint8_t)((i * 37 + 11) & 0x7F);
        size_t n1 = smx_gsm7_pack(a, 160, 1, packed, sizeof(packed));
        size_t n2 = smx_gsm7_pack(b, 160, 1, b, sizeof(b));
        CHECK_EQ(n1, 141);
        CHECK_EQ(n2, n1);
        CHECK_MEM(b, packed, n1);
}

static void test_gsm7_unpack_roundtrips_with_fill_bits(void)
{
        uint8_t s[20], packed[32], back[20];
        for (unsigned fill = 0; fill <= 6; fill++) {
                for (int i = 0; i < 20; i++)
                        s[i] = (uint8_t)(0x7F - i * 3);
                size_t n = smx_gsm7_pack(s, 20, fill, packed, sizeof(packed));
                CHECK_EQ(n, (fill + 140 + 7) / 8);
                CHECK_EQ(smx_gsm7_unpack(packed, n, fill, 20, back, sizeof(back)), 20);
                CHECK_MEM(back, s, 20);
        }
}

static void test_g09_seven_septets_in_seven_octets_strip_pad_at(void)
{
        const uint8_t in[] = {0x31, 0xD9, 0x8C, 0x56, 0xB3, 0xDD, 0x00};
        uint8_t out[16];
        unsigned f = 0;
        struct smx_text_result res;
        struct smx_dcs_map m;
        smx_dcs_map_generic(&m);
        struct smx_text_decode_opts o = { .map = &m, .gsm_packed = 1 };
        CHECK_EQ(smx_gsm7_packed_septets(in, sizeof(in), 0, &f), 7);
        CHECK(f & SMX_TEXT_F_PAD_STRIPPED);
        CHECK_EQ(smx_text_decode(0x00, in, sizeof(in), &o, out, sizeof(out), &res), 0);
        CHECK_EQ(res.len, 7);
        CHECK_MEM(out, "1234567", 7);
        CHECK(res.flags & SMX_TEXT_F_PAD_STRIPPED);
}

static void test_g09_eight_real_septets_are_unaffected(void)
{
        const uint8_t in[] = {0x31, 0xD9, 0x8C, 0x56, 0xB3, 0xDD, 0x70};
        uint8_t out[16];
        struct smx_text_result res;
        struct smx_dcs_map m;
        smx_dcs_map_generic(&m);
        struct smx_text_decode_opts o = { .map = &m, .gsm_packed = 1 };
        CHECK_EQ(smx_text_decode(0x00, in, sizeof(in), &o, out, sizeof(out), &res), 0);
        CHECK_EQ(res.len, 8);
        CHECK_MEM(out, "12345678", 8);
        CHECK_EQ(res.flags & SMX_TEXT_F_PAD_STRIPPED, 0);
}

static void test_g09_known_septet_count_keeps_real_trailing_at(void)
{
        /* "1234567@" packs to the same octets as "1234567" + fill: only the
         * count tells them apart. */
        const uint8_t in[] = {0x31, 0xD9, 0x8C, 0x56, 0xB3, 0xDD, 0x00};
        uint8_t out[16];
        struct smx_text_result res;
        struct smx_dcs_map m;
        smx_dcs_map_generic(&m);
        struct smx_text_decode_opts o = { .map = &m, .gsm_packed = 1, .septets = 8 };
        CHECK_EQ(smx_text_decode(0x00, in, sizeof(in), &o, out, sizeof(out), &res), 0);
        CHECK_EQ(res.len, 8);
        CHECK_MEM(out, "1234567@", 8);
}

static void test_gsm7_fill_bits_after_udh(void)
{
        CHECK_EQ(smx_gsm7_fill_bits(6), 1);
        CHECK_EQ(smx_gsm7_fill_bits(7), 0);
        CHECK_EQ(smx_gsm7_fill_bits(12), 2); /* 96 bits -> next septet boundary at 98 */
        CHECK_EQ(smx_gsm7_fill_bits(0), 0);
}

static void test_gsm7_roundtrip_all_encodable_chars(void)
{
        /* Every default-table septet except ESC, decoded and re-encoded. */
        uint8_t sept[127], utf[512], back[256];
        unsigned f = 0;
        size_t k = 0;
        for (unsigned s = 0; s < 128; s++)
                if (s != 0x1B)
                        sept[k++] = (uint8_t)s;
        size_t n = smx_gsm7_to_utf8(sept, k, utf, sizeof(utf), &f);
        CHECK_EQ(f, 0);
        long m = smx_gsm7_from_utf8(utf, n, back, sizeof(back), NULL);
        CHECK_EQ(m, (long)k);
        CHECK_MEM(back, sept, k);
}

int main(void)
{
        RUN(test_gsm7_encodes_extension_chars_as_esc_pairs);
        RUN(test_gsm7_encodes_default_table_specials);
        RUN(test_gsm7_rejects_backtick_and_reports_offset);
        RUN(test_gsm7_rejects_emoji);
        RUN(test_gsm7_encode_reports_small_buffer);
        RUN(test_gsm7_counts_extension_as_two_septets);
        RUN(test_gsm7_decodes_extension_and_accents);
        RUN(test_g05_zero_septet_is_at_sign_not_terminator);
        RUN(test_g07_esc_undefined_shows_base_char);
        RUN(test_g07_esc_esc_is_dropped_then_base_table);
        RUN(test_gsm7_trailing_lone_esc_is_dropped);
        RUN(test_gsm7_high_octet_is_masked_and_flagged);
        RUN(test_gsm7_decode_truncates_at_char_boundary);
        RUN(test_gsm7_packs_hello);
        RUN(test_gsm7_pack_refuses_small_buffer);
        RUN(test_gsm7_pack_in_place_matches_copy);
        RUN(test_gsm7_unpack_roundtrips_with_fill_bits);
        RUN(test_g09_seven_septets_in_seven_octets_strip_pad_at);
        RUN(test_g09_eight_real_septets_are_unaffected);
        RUN(test_g09_known_septet_count_keeps_real_trailing_at);
        RUN(test_gsm7_fill_bits_after_udh);
        RUN(test_gsm7_roundtrip_all_encodable_chars);
        return t_done();
}
