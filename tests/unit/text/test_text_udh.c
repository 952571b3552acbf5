/* UDH parser (3GPP 23.040 §9.2.3.24; HOSTILE H-01, H-03, H-05). */
#include "testlib.h"
#include "text/text.h"

static void test_udh_parses_8bit_concat(void)
{
        const uint8_t sm[] = {0x05, 0x00, 0x03, 0x2A, 0x03, 0x02, 'h', 'i'};
        struct smx_udh u;
        CHECK_EQ(smx_udh_parse(sm, sizeof(sm), &u), 0);
        CHECK_EQ(u.hdr_len, 6);
        CHECK_EQ(u.has_concat, 1);
        CHECK_EQ(u.concat_16, 0);
        CHECK_EQ(u.ref, 0x2A);
        CHECK_EQ(u.total, 3);
        CHECK_EQ(u.seq, 2);
        CHECK_VIEW(u.payload, "hi");
        CHECK_EQ(u.flags, 0);
}

static void test_udh_parses_16bit_concat(void)
{
        const uint8_t sm[] = {0x06, 0x08, 0x04, 0xBE, 0xEF, 0x02, 0x02, 'x'};
        struct smx_udh u;
        smx_udh_parse(sm, sizeof(sm), &u);
        CHECK_EQ(u.has_concat, 1);
        CHECK_EQ(u.concat_16, 1);
        CHECK_EQ(u.ref, 0xBEEF);
        CHECK_EQ(u.total, 2);
        CHECK_EQ(u.seq, 2);
        CHECK_VIEW(u.payload, "x");
}

static void test_udh_parses_ports_with_concat(void)
{
        const uint8_t sm[] = {0x0B, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0x00, 0x03, 0x07, 0x02, 0x01, 'z'};
        struct smx_udh u;
        smx_udh_parse(sm, sizeof(sm), &u);
        CHECK_EQ(u.has_ports, 1);
        CHECK_EQ(u.ports_16, 1);
        CHECK_EQ(u.dst_port, 0x0B84);
        CHECK_EQ(u.src_port, 0x23F0);
        CHECK_EQ(u.has_concat, 1);
        CHECK_EQ(u.ref, 7);
        CHECK_EQ(u.ie_count, 2);
        CHECK_VIEW(u.payload, "z");
}

static void test_udh_parses_8bit_ports(void)
{
        const uint8_t sm[] = {0x04, 0x04, 0x02, 0x10, 0x20};
        struct smx_udh u;
        smx_udh_parse(sm, sizeof(sm), &u);
        CHECK_EQ(u.has_ports, 1);
        CHECK_EQ(u.ports_16, 0);
        CHECK_EQ(u.dst_port, 0x10);
        CHECK_EQ(u.src_port, 0x20);
        CHECK_EQ(u.payload.len, 0);
}

static void test_h01_udhi_with_empty_message_is_no_udh(void)
{
        struct smx_udh u;
        CHECK_EQ(smx_udh_parse(NULL, 0, &u), 0);
        CHECK_EQ(u.hdr_len, 0);
        CHECK_EQ(u.has_concat, 0);
        CHECK(u.flags & SMX_UDH_F_EMPTY);
        const uint8_t one[] = {0x00};
        CHECK_EQ(smx_udh_parse(one, 0, &u), 0);
        CHECK(u.flags & SMX_UDH_F_EMPTY);
}

static void test_h03_ie_past_udhl_stops_parsing(void)
{
        const uint8_t sm[] = {0x05, 0x00, 0x07, 0x2A, 0x02, 0x01, 'a', 'b', 'c', 'd', 'e'};
        struct smx_udh u;
        smx_udh_parse(sm, sizeof(sm), &u);
        CHECK(u.flags & SMX_UDH_F_IE_OVER);
        CHECK_EQ(u.has_concat, 0);
        CHECK_EQ(u.hdr_len, 6);
        CHECK_VIEW(u.payload, "abcde");
}

static void test_udhl_past_message_consumes_all_and_flags(void)
{
        const uint8_t sm[] = {0x20, 0x00, 0x03, 0x2A};
        struct smx_udh u;
        smx_udh_parse(sm, sizeof(sm), &u);
        CHECK(u.flags & SMX_UDH_F_UDHL_OVER);
        CHECK_EQ(u.hdr_len, 4);
        CHECK_EQ(u.payload.len, 0);
        CHECK_EQ(u.has_concat, 0);
}

static void test_h05_concat_total_zero_is_ignored(void)
{
        const uint8_t sm[] = {0x05, 0x00, 0x03, 0x2A, 0x00, 0x01, 'q'};
        struct smx_udh u;
        smx_udh_parse(sm, sizeof(sm), &u);
        CHECK_EQ(u.has_concat, 0);
        CHECK(u.flags & SMX_UDH_F_CONCAT_BAD);
        CHECK_VIEW(u.payload, "q");
}

static void test_h05_concat_part_zero_is_ignored(void)
{
        const uint8_t sm[] = {0x05, 0x00, 0x03, 0x2A, 0x02, 0x00};
        struct smx_udh u;
        smx_udh_parse(sm, sizeof(sm), &u);
        CHECK_EQ(u.has_concat, 0);
        CHECK(u.flags & SMX_UDH_F_CONCAT_BAD);
}

static void test_h05_concat_part_above_total_is_ignored(void)
{
        const uint8_t sm[] = {0x05, 0x00, 0x03, 0x2A, 0x02, 0x03};
        struct smx_udh u;
        smx_udh_parse(sm, sizeof(sm), &u);
        CHECK_EQ(u.has_concat, 0);
        CHECK(u.flags & SMX_UDH_F_CONCAT_BAD);
}

static void test_repeated_concat_ies_last_one_wins(void)
{
        const uint8_t sm[] = {0x0B, 0x00, 0x03, 0x11, 0x02, 0x01, 0x08, 0x04, 0x22, 0x33, 0x04, 0x03};
        struct smx_udh u;
        smx_udh_parse(sm, sizeof(sm), &u);
        CHECK_EQ(u.has_concat, 1);
        CHECK_EQ(u.concat_16, 1);
        CHECK_EQ(u.ref, 0x2233);
        CHECK_EQ(u.total, 4);
        CHECK_EQ(u.seq, 3);
        CHECK(u.flags & SMX_UDH_F_CONCAT_REPEAT);
}

static void test_concat_with_wrong_iedl_is_ignored(void)
{
        const uint8_t sm[] = {0x06, 0x00, 0x04, 0x2A, 0x02, 0x01, 0x00};
        struct smx_udh u;
        smx_udh_parse(sm, sizeof(sm), &u);
        CHECK_EQ(u.has_concat, 0);
        CHECK(u.flags & SMX_UDH_F_IE_BAD_LEN);
}

static void test_unknown_ie_is_skipped_by_length(void)
{
        const uint8_t sm[] = {0x08, 0x70, 0x01, 0x01, 0x00, 0x03, 0x05, 0x02, 0x02, 'k'};
        struct smx_udh u;
        smx_udh_parse(sm, sizeof(sm), &u);
        CHECK_EQ(u.has_concat, 1);
        CHECK_EQ(u.ref, 5);
        CHECK_EQ(u.seq, 2);
        CHECK_EQ(u.ie_count, 2);
        CHECK_VIEW(u.payload, "k");
}

static void test_national_shift_ies_are_reported(void)
{
        const uint8_t sm[] = {0x06, 0x24, 0x01, 0x01, 0x25, 0x01, 0x02, 'x'};
        struct smx_udh u;
        smx_udh_parse(sm, sizeof(sm), &u);
        CHECK(u.flags & SMX_UDH_F_NATIONAL);
        CHECK_EQ(u.has_single_shift, 1);
        CHECK_EQ(u.single_shift, 1);
        CHECK_EQ(u.has_locking_shift, 1);
        CHECK_EQ(u.locking_shift, 2);
        CHECK_VIEW(u.payload, "x");
}

static void test_write_concat_roundtrips_through_parser(void)
{
        uint8_t sm[8];
        struct smx_udh u;
        CHECK_EQ(smx_udh_write_concat(1, 0xABCD, 9, 4, sm, sizeof(sm)), 7);
        smx_udh_parse(sm, 7, &u);
        CHECK_EQ(u.ref, 0xABCD);
        CHECK_EQ(u.total, 9);
        CHECK_EQ(u.seq, 4);
        CHECK_EQ(smx_udh_write_concat(0, 1, 2, 1, sm, 5), 0);
}

static void test_concat_pick_uses_sar_when_no_udh(void)
{
        struct smx_concat c;
        smx_concat_pick(NULL, 1, 0x0102, 3, 2, &c);
        CHECK_EQ(c.present, 1);
        CHECK_EQ(c.from_udh, 0);
        CHECK_EQ(c.ref, 0x0102);
        CHECK_EQ(c.total, 3);
        CHECK_EQ(c.seq, 2);
}

static void test_h15_udh_wins_over_disagreeing_sar(void)
{
        const uint8_t sm[] = {0x05, 0x00, 0x03, 0x2A, 0x02, 0x01, 'a'};
        struct smx_udh u;
        struct smx_concat c;
        smx_udh_parse(sm, sizeof(sm), &u);
        smx_concat_pick(&u, 1, 0x0999, 4, 3, &c);
        CHECK_EQ(c.present, 1);
        CHECK_EQ(c.from_udh, 1);
        CHECK_EQ(c.mismatch, 1);
        CHECK_EQ(c.ref, 0x2A);
        CHECK_EQ(c.total, 2);
        CHECK_EQ(c.seq, 1);
}

static void test_invalid_sar_triple_is_ignored(void)
{
        struct smx_concat c;
        smx_concat_pick(NULL, 1, 7, 2, 3, &c);
        CHECK_EQ(c.present, 0);
        CHECK_EQ(c.sar_invalid, 1);
        smx_concat_pick(NULL, 1, 7, 0, 0, &c);
        CHECK_EQ(c.present, 0);
        CHECK_EQ(c.sar_invalid, 1);
}

static void test_one_of_one_is_a_single_message(void)
{
        const uint8_t sm[] = {0x05, 0x00, 0x03, 0x2A, 0x01, 0x01, 'a'};
        struct smx_udh u;
        struct smx_concat c;
        smx_udh_parse(sm, sizeof(sm), &u);
        smx_concat_pick(&u, 0, 0, 0, 0, &c);
        CHECK_EQ(c.present, 0);
        CHECK_EQ(c.from_udh, 1);
}

int main(void)
{
        RUN(test_udh_parses_8bit_concat);
        RUN(test_udh_parses_16bit_concat);
        RUN(test_udh_parses_ports_with_concat);
        RUN(test_udh_parses_8bit_ports);
        RUN(test_h01_udhi_with_empty_message_is_no_udh);
        RUN(test_h03_ie_past_udhl_stops_parsing);
        RUN(test_udhl_past_message_consumes_all_and_flags);
        RUN(test_h05_concat_total_zero_is_ignored);
        RUN(test_h05_concat_part_zero_is_ignored);
        RUN(test_h05_concat_part_above_total_is_ignored);
        RUN(test_repeated_concat_ies_last_one_wins);
        RUN(test_concat_with_wrong_iedl_is_ignored);
        RUN(test_unknown_ie_is_skipped_by_length);
        RUN(test_national_shift_ies_are_reported);
        RUN(test_write_concat_roundtrips_through_parser);
        RUN(test_concat_pick_uses_sar_when_no_udh);
        RUN(test_h15_udh_wins_over_disagreeing_sar);
        RUN(test_invalid_sar_triple_is_ignored);
        RUN(test_one_of_one_is_a_single_message);
        return t_done();
}
