/* Encoding choice and MT segmentation (SMPP.md §9.3-9.5). */
#include "testlib.h"
#include "text/text.h"

#define U(s) (const uint8_t *)(s), sizeof(s) - 1

static uint8_t buf[80000];
static struct smx_seg_part parts[256];
static char text[70000];

/* n copies of the UTF-8 string s in `text`; returns the length. */
static size_t rep(const char *s, size_t n)
{
        size_t l = strlen(s), o = 0;
        for (size_t i = 0; i < n; i++) {
                memcpy(text + o, s, l);
                o += l;
        }
        return o;
}

static int seg(size_t len, enum smx_encoding enc, enum smx_seg_mode mode, int packed,
               struct smx_seg_info *info)
{
        struct smx_seg_opts o = { .enc = enc, .mode = mode, .ref = 0x1234,
                                  .gsm_packed = (uint8_t)packed };
        return smx_text_segment((const uint8_t *)text, len, &o, buf, sizeof(buf), parts, 256, info);
}

static void test_choose_auto_picks_gsm_for_extension_chars(void)
{
        size_t units = 0;
        CHECK_EQ(smx_text_choose(U("price: 5\xE2\x82\xAC [ok]"), SMX_ENC_AUTO, &units), SMX_ENC_GSM);
        CHECK_EQ(units, 17); /* 14 characters, 3 of them extension (2 septets) */
}

static void test_choose_auto_picks_ucs2_for_emoji(void)
{
        size_t units = 0;
        CHECK_EQ(smx_text_choose(U("hi \xF0\x9F\x98\x80"), SMX_ENC_AUTO, &units), SMX_ENC_UCS2);
        CHECK_EQ(units, 5); /* h i space + surrogate pair */
}

static void test_choose_auto_picks_ucs2_for_backtick(void)
{
        CHECK_EQ(smx_text_choose(U("a`b"), SMX_ENC_AUTO, NULL), SMX_ENC_UCS2);
}

static void test_choose_explicit_latin1_rejects_emoji(void)
{
        CHECK_EQ(smx_text_choose(U("ok \xF0\x9F\x98\x80"), SMX_ENC_LATIN1, NULL), SMX_EINVAL);
}

static void test_choose_explicit_gsm_rejects_invalid_utf8(void)
{
        CHECK_EQ(smx_text_choose(U("ok \xC0\x80"), SMX_ENC_GSM, NULL), SMX_EINVAL);
}

static void test_choose_explicit_utf8_counts_octets(void)
{
        size_t units = 0;
        CHECK_EQ(smx_text_choose(U("\xC3\xA9t\xC3\xA9"), SMX_ENC_UTF8, &units), SMX_ENC_UTF8);
        CHECK_EQ(units, 5);
}

static void test_gsm_160_chars_is_one_part_without_udh(void)
{
        struct smx_seg_info info;
        size_t len = rep("a", 160);
        CHECK_EQ(seg(len, SMX_ENC_AUTO, SMX_SEG_UDH8, 0, &info), 1);
        CHECK_EQ(info.enc, SMX_ENC_GSM);
        CHECK_EQ(parts[0].len, 160);
        CHECK_EQ(parts[0].esm_class, 0);
        CHECK_EQ(parts[0].data_coding, SMPP_DCS_GSM);
        CHECK_EQ(parts[0].sar, 0);
        CHECK_EQ(parts[0].sm[0], 'a');
}

static void test_gsm_161_chars_is_two_parts_153_and_8(void)
{
        size_t len = rep("a", 161);
        CHECK_EQ(seg(len, SMX_ENC_AUTO, SMX_SEG_UDH8, 0, NULL), 2);
        CHECK_EQ(parts[0].units, 153);
        CHECK_EQ(parts[1].units, 8);
        CHECK_EQ(parts[0].len, 6 + 153);
        CHECK_EQ(parts[1].len, 6 + 8);
        CHECK_EQ(parts[0].esm_class, SMPP_ESM_UDHI);
        const uint8_t udh1[] = {0x05, 0x00, 0x03, 0x34, 0x02, 0x01};
        const uint8_t udh2[] = {0x05, 0x00, 0x03, 0x34, 0x02, 0x02};
        CHECK_MEM(parts[0].sm, udh1, 6);
        CHECK_MEM(parts[1].sm, udh2, 6);
}

static void test_gsm_udh16_parts_hold_152(void)
{
        size_t len = rep("b", 305);
        CHECK_EQ(seg(len, SMX_ENC_GSM, SMX_SEG_UDH16, 0, NULL), 3);
        CHECK_EQ(parts[0].units, 152);
        CHECK_EQ(parts[1].units, 152);
        CHECK_EQ(parts[2].units, 1);
        const uint8_t udh[] = {0x06, 0x08, 0x04, 0x12, 0x34, 0x03, 0x02};
        CHECK_MEM(parts[1].sm, udh, 7);
}

static void test_esc_pair_at_boundary_moves_to_next_part(void)
{
        /* 152 'a' then '€' (2 septets): 154 > 153, so '€' starts part 2. */
        size_t len = rep("a", 152);
        memcpy(text + len, "\xE2\x82\xAC" "bbbbbbbbbb", 13);
        len += 13;
        CHECK_EQ(seg(len, SMX_ENC_AUTO, SMX_SEG_UDH8, 0, NULL), 2);
        CHECK_EQ(parts[0].units, 152);
        CHECK_EQ(parts[0].sm[6 + 151], 'a');
        CHECK_EQ(parts[1].sm[6], 0x1B);
        CHECK_EQ(parts[1].sm[7], 0x65);
        CHECK_EQ(parts[1].units, 12);
}

static void test_gsm_packed_parts_fit_140_octets(void)
{
        uint8_t sept[200], out[400];
        unsigned f = 0;
        size_t len = rep("x", 200);
        CHECK_EQ(seg(len, SMX_ENC_GSM, SMX_SEG_UDH8, 1, NULL), 2);
        CHECK_EQ(parts[0].len, 140);
        /* unpack part 1 after its UDH: 153 'x' */
        size_t n = smx_gsm7_unpack(parts[0].sm + 6, parts[0].len - 6, smx_gsm7_fill_bits(6), 153,
                                   sept, sizeof(sept));
        CHECK_EQ(n, 153);
        CHECK_EQ(smx_gsm7_to_utf8(sept, n, out, sizeof(out), &f), 153);
        CHECK_EQ(out[0], 'x');
        CHECK_EQ(out[152], 'x');
}

static void test_ucs2_70_units_one_part_71_two(void)
{
        size_t len = rep("\xD0\x96", 70); /* Cyrillic Zhe */
        CHECK_EQ(seg(len, SMX_ENC_AUTO, SMX_SEG_UDH8, 0, NULL), 1);
        CHECK_EQ(parts[0].len, 140);
        CHECK_EQ(parts[0].data_coding, SMPP_DCS_UCS2);
        len = rep("\xD0\x96", 71);
        CHECK_EQ(seg(len, SMX_ENC_AUTO, SMX_SEG_UDH8, 0, NULL), 2);
        CHECK_EQ(parts[0].units, 67);
        CHECK_EQ(parts[1].units, 4);
        CHECK_EQ(parts[0].len, 6 + 134);
}

static void test_surrogate_pair_at_boundary_moves_to_next_part(void)
{
        /* 66 units of 'Ж' then an emoji (2 units): 68 > 67. */
        size_t len = rep("\xD0\x96", 66);
        memcpy(text + len, "\xF0\x9F\x98\x80" "\xD0\x96\xD0\x96\xD0\x96\xD0\x96", 12);
        len += 12;
        CHECK_EQ(seg(len, SMX_ENC_AUTO, SMX_SEG_UDH8, 0, NULL), 2);
        CHECK_EQ(parts[0].units, 66);
        CHECK_EQ(parts[0].len, 6 + 132);
        const uint8_t want[] = {0xD8, 0x3D, 0xDE, 0x00};
        CHECK_MEM(parts[1].sm + 6, want, 4);
}

static void test_sar_mode_returns_tlv_values_and_no_udh(void)
{
        size_t len = rep("c", 200);
        CHECK_EQ(seg(len, SMX_ENC_GSM, SMX_SEG_SAR, 0, NULL), 2);
        CHECK_EQ(parts[0].esm_class, 0);
        CHECK_EQ(parts[0].sar, 1);
        CHECK_EQ(parts[0].sar_msg_ref_num, 0x1234);
        CHECK_EQ(parts[0].sar_total_segments, 2);
        CHECK_EQ(parts[0].sar_segment_seqnum, 1);
        CHECK_EQ(parts[1].sar_segment_seqnum, 2);
        CHECK_EQ(parts[0].units, SMX_SEG_GSM_UDH16);
        CHECK_EQ(parts[0].sm[0], 'c');
}

static void test_payload_mode_gives_one_part(void)
{
        size_t len = rep("d", 1000);
        CHECK_EQ(seg(len, SMX_ENC_GSM, SMX_SEG_PAYLOAD, 0, NULL), 1);
        CHECK_EQ(parts[0].payload, 1);
        CHECK_EQ(parts[0].len, 1000);
        CHECK_EQ(parts[0].esm_class, 0);
}

static void test_payload_over_64k_is_e2big(void)
{
        size_t len = rep("\xD0\x96", 33000); /* 66000 UCS-2 octets */
        CHECK_EQ(seg(len, SMX_ENC_UCS2, SMX_SEG_PAYLOAD, 0, NULL), SMX_E2BIG);
}

static void test_more_than_255_parts_is_e2big(void)
{
        size_t len = rep("e", 153 * 255 + 1);
        CHECK_EQ(seg(len, SMX_ENC_GSM, SMX_SEG_UDH8, 0, NULL), SMX_E2BIG);
        len = rep("e", 153 * 255);
        CHECK_EQ(seg(len, SMX_ENC_GSM, SMX_SEG_UDH8, 0, NULL), 255);
}

static void test_max_parts_limit_is_honoured(void)
{
        struct smx_seg_opts o = { .enc = SMX_ENC_GSM, .mode = SMX_SEG_UDH8 };
        size_t len = rep("f", 400);
        CHECK_EQ(smx_text_segment((const uint8_t *)text, len, &o, buf, sizeof(buf), parts, 2, NULL),
                 SMX_E2BIG);
}

static void test_small_buffer_is_e2big(void)
{
        struct smx_seg_opts o = { .enc = SMX_ENC_GSM, .mode = SMX_SEG_UDH8 };
        size_t len = rep("g", 400);
        CHECK_EQ(smx_text_segment((const uint8_t *)text, len, &o, buf, 200, parts, 256, NULL),
                 SMX_E2BIG);
}

static void test_explicit_latin1_with_emoji_is_einval(void)
{
        size_t len = rep("\xF0\x9F\x98\x80", 1);
        CHECK_EQ(seg(len, SMX_ENC_LATIN1, SMX_SEG_UDH8, 0, NULL), SMX_EINVAL);
}

static void test_utf8_parts_never_split_a_sequence(void)
{
        /* 133 'h' + 'é' (2 octets): 135 > 134 so 'é' starts part 2. */
        size_t len = rep("h", 133);
        memcpy(text + len, "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", 14);
        len += 14;
        CHECK_EQ(seg(len, SMX_ENC_UTF8, SMX_SEG_UDH8, 0, NULL), 2);
        CHECK_EQ(parts[0].units, 133);
        CHECK_EQ(parts[0].data_coding, SMPP_DCS_DEFAULT);
        CHECK_EQ(parts[1].sm[6], 0xC3);
}

static void test_generic_map_has_no_utf8_data_coding(void)
{
        struct smx_dcs_map m;
        smx_dcs_map_generic(&m);
        struct smx_seg_opts o = { .enc = SMX_ENC_UTF8, .map = &m };
        CHECK_EQ(smx_text_segment(U("hi"), &o, buf, sizeof(buf), parts, 256, NULL), SMX_EINVAL);
        o.enc = SMX_ENC_AUTO;
        CHECK_EQ(smx_text_segment(U("hi"), &o, buf, sizeof(buf), parts, 256, NULL), 1);
        CHECK_EQ(parts[0].data_coding, 0);
}

static void test_segmented_parts_decode_back_to_text(void)
{
        uint8_t joined[4096], out[4096];
        size_t jl = 0;
        struct smx_text_result res;
        size_t len = rep("\xC3\xA9t\xC3\xA9 \xE2\x82\xAC{} ", 40);
        int n = seg(len, SMX_ENC_AUTO, SMX_SEG_UDH8, 0, NULL);
        CHECK(n > 1);
        for (int i = 0; i < n; i++) {
                memcpy(joined + jl, parts[i].sm + 6, parts[i].len - 6);
                jl += parts[i].len - 6;
        }
        CHECK_EQ(smx_text_decode(SMPP_DCS_GSM, joined, jl, NULL, out, sizeof(out), &res), 0);
        CHECK_EQ(res.len, len);
        CHECK_MEM(out, text, len);
}

static void test_ucs2_udh16_parts_hold_66_units(void)
{
        size_t len = rep("\xD0\x96", 140);
        CHECK_EQ(seg(len, SMX_ENC_UCS2, SMX_SEG_UDH16, 0, NULL), 3);
        CHECK_EQ(parts[0].units, 66);
        CHECK_EQ(parts[1].units, 66);
        CHECK_EQ(parts[2].units, 8);
        CHECK_EQ(parts[0].len, 7 + 132);
}

static void test_latin1_parts_hold_134_octets(void)
{
        size_t len = rep("\xC3\xA9", 141);
        CHECK_EQ(seg(len, SMX_ENC_LATIN1, SMX_SEG_UDH8, 0, NULL), 2);
        CHECK_EQ(parts[0].units, 134);
        CHECK_EQ(parts[1].units, 7);
        CHECK_EQ(parts[0].data_coding, SMPP_DCS_LATIN1);
        CHECK_EQ(parts[0].sm[6], 0xE9);
}

int main(void)
{
        RUN(test_choose_auto_picks_gsm_for_extension_chars);
        RUN(test_choose_auto_picks_ucs2_for_emoji);
        RUN(test_choose_auto_picks_ucs2_for_backtick);
        RUN(test_choose_explicit_latin1_rejects_emoji);
        RUN(test_choose_explicit_gsm_rejects_invalid_utf8);
        RUN(test_choose_explicit_utf8_counts_octets);
        RUN(test_gsm_160_chars_is_one_part_without_udh);
        RUN(test_gsm_161_chars_is_two_parts_153_and_8);
        RUN(test_gsm_udh16_parts_hold_152);
        RUN(test_esc_pair_at_boundary_moves_to_next_part);
        RUN(test_gsm_packed_parts_fit_140_octets);
        RUN(test_ucs2_70_units_one_part_71_two);
        RUN(test_surrogate_pair_at_boundary_moves_to_next_part);
        RUN(test_sar_mode_returns_tlv_values_and_no_udh);
        RUN(test_payload_mode_gives_one_part);
        RUN(test_payload_over_64k_is_e2big);
        RUN(test_more_than_255_parts_is_e2big);
        RUN(test_max_parts_limit_is_honoured);
        RUN(test_small_buffer_is_e2big);
        RUN(test_explicit_latin1_with_emoji_is_einval);
        RUN(test_utf8_parts_never_split_a_sequence);
        RUN(test_generic_map_has_no_utf8_data_coding);
        RUN(test_segmented_parts_decode_back_to_text);
        RUN(test_ucs2_udh16_parts_hold_66_units);
        RUN(test_latin1_parts_hold_134_octets);
        return t_done();
}
