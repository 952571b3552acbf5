/* MOs: decoding per data_coding, UDH and SAR reassembly across binds,
 * partial delivery on timeout, dedup of re-sent MOs, ring-full handling. */
#include "inbound_fixture.h"
#include "text/text.h"

static const struct smx_bind_info bind0 = { .index = 0, .name = "smsc1.dc3", .site = "dc3" };
static const struct smx_bind_info bind1 = { .index = 1, .name = "smsc1.bos", .site = "bos" };

/* short_message = UDH (8-bit ref) + text */
static size_t udh_part(uint8_t *buf, uint8_t ref, uint8_t total, uint8_t seq, const char *text)
{
        uint8_t h[6] = { 0x05, 0x00, 0x03, ref, total, seq };
        memcpy(buf, h, 6);
        memcpy(buf + 6, text, strlen(text));
        return 6 + strlen(text);
}

static void test_single_utf8_mo_is_one_event(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        static const char t[] = "h\xc3\xa9llo";        /* dcs 0 = UTF-8 (R9) */
        fx_mo(&p, "447700900000", "12025550100", 0, 0, t, sizeof t - 1);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1000), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_EQ(ev[0].r.type, SMX_EV_MO);
        CHECK_STR(ev[0].text, t);
        CHECK_EQ(ev[0].r.text_len, sizeof t - 1);
        CHECK_STR(ev[0].r.from, "447700900000");
        CHECK_STR(ev[0].r.to, "12025550100");
        CHECK_EQ(ev[0].r.parts, 1);
        CHECK(!(ev[0].r.flags & SMX_EVF_PARTIAL));
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_gsm_at_sign_zero_byte_is_a_character(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        static const uint8_t sm[] = { 0x00, 0x48, 0x00 };
        fx_mo(&p, "1", "2", SMPP_DCS_GSM, 0, sm, sizeof sm);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1000), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].text, "@H@");
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_ucs2_mo_is_decoded(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        static const uint8_t sm[] = { 0x00, 0x48, 0x00, 0x69, 0xd8, 0x3d, 0xde, 0x00 };
        fx_mo(&p, "1", "2", SMPP_DCS_UCS2, 0, sm, sizeof sm);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1000), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].text, "Hi\xf0\x9f\x98\x80");
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_unknown_dcs_is_surfaced_raw_as_hex(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        static const uint8_t sm[] = { 0xde, 0xad, 0x01 };
        fx_mo(&p, "1", "2", 0x0E, 0, sm, sizeof sm);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1000), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK(ev[0].r.flags & SMX_EVF_RAW);
        CHECK_EQ(ev[0].r.dcs, 0x0E);
        CHECK_STR(ev[0].text, "DEAD01");
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_bind_dcs_map_is_used(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        struct smx_dcs_map latin;
        smx_dcs_map_service(&latin);
        latin.enc[0] = SMX_ENC_LATIN1;          /* G-11: a Latin-1 SMSC */
        struct smx_bind_info b = bind0;
        b.dcs_map = &latin;
        static const uint8_t sm[] = { 0xc3, 0xa9 };
        fx_mo(&p, "1", "2", 0, 0, sm, sizeof sm);
        CHECK_EQ(inbound_on_deliver_w(in, &b, &p, ring, 1000), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].text, "\xc3\x83\xc2\xa9");  /* "Ã©" */
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_packed_gsm_single_mo_is_unpacked(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        struct smx_bind_info b = bind0;
        b.gsm_packed = 1;
        static const uint8_t sm[] = { 0xe8, 0x32, 0x9b, 0xfd, 0x06 };    /* "hello" */
        fx_mo(&p, "1", "2", SMPP_DCS_GSM, 0, sm, sizeof sm);
        CHECK_EQ(inbound_on_deliver_w(in, &b, &p, ring, 1000), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].text, "hello");
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_long_payload_mo_goes_to_heap_text(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        static char big[3000];
        memset(big, 'x', sizeof big);
        fx_mo(&p, "1", "2", 0, 0, "", 0);
        p.tlv.present |= SMX_TLV_MESSAGE_PAYLOAD;
        p.tlv.message_payload = fx_bytes(big, sizeof big);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1000), SMPP_ESME_ROK);
        struct smx_ev_rec *e = event_ring_peek(ring);
        CHECK(e != NULL);
        if (e) {
                CHECK_EQ(e->text_len, sizeof big);
                CHECK(e->text_heap != NULL);
                CHECK_EQ(strlen(event_rec_text(e)), sizeof big);
                event_ring_release(ring);
        }
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_udh_parts_out_of_order_across_binds_give_one_mo(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        uint8_t b1[64], b2[64], b3[64];
        size_t l1 = udh_part(b1, 0x2a, 3, 1, "one "), l2 = udh_part(b2, 0x2a, 3, 2, "two "),
               l3 = udh_part(b3, 0x2a, 3, 3, "three");
        fx_mo(&p, "447700900000", "12025550100", 0, SMPP_ESM_UDHI, b3, l3);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1000), SMPP_ESME_ROK);
        fx_mo(&p, "447700900000", "12025550100", 0, SMPP_ESM_UDHI, b1, l1);
        CHECK_EQ(inbound_on_deliver_w(in, &bind1, &p, ring, 1001), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 0);
        fx_mo(&p, "447700900000", "12025550100", 0, SMPP_ESM_UDHI, b2, l2);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1002), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].text, "one two three");
        CHECK_EQ(ev[0].r.parts, 3);
        CHECK(!(ev[0].r.flags & SMX_EVF_PARTIAL));
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_sar_parts_out_of_order_give_one_mo(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        fx_mo(&p, "1", "2", 0, 0, "world", 5);
        fx_sar(&p, 0x1234, 2, 2);
        CHECK_EQ(inbound_on_deliver_w(in, &bind1, &p, ring, 1000), SMPP_ESME_ROK);
        fx_mo(&p, "1", "2", 0, 0, "hello ", 6);
        fx_sar(&p, 0x1234, 2, 1);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1001), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].text, "hello world");
        CHECK_EQ(ev[0].r.parts, 2);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_surrogate_pair_split_across_parts_is_joined(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        static const uint8_t a[] = { 0x00, 0x41, 0xd8, 0x3d }, b[] = { 0xde, 0x00 };
        fx_mo(&p, "1", "2", SMPP_DCS_UCS2, 0, a, sizeof a);
        fx_sar(&p, 7, 2, 1);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1000), SMPP_ESME_ROK);
        fx_mo(&p, "1", "2", SMPP_DCS_UCS2, 0, b, sizeof b);
        fx_sar(&p, 7, 2, 2);
        CHECK_EQ(inbound_on_deliver_w(in, &bind1, &p, ring, 1001), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].text, "A\xf0\x9f\x98\x80");
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_same_part_resent_on_other_bind_is_kept_once(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        uint8_t b1[64], b2[64];
        size_t l1 = udh_part(b1, 9, 2, 1, "ab"), l2 = udh_part(b2, 9, 2, 2, "cd");
        fx_mo(&p, "1", "2", 0, SMPP_ESM_UDHI, b1, l1);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1000), SMPP_ESME_ROK);
        CHECK_EQ(inbound_on_deliver_w(in, &bind1, &p, ring, 1001), SMPP_ESME_ROK);
        fx_mo(&p, "1", "2", 0, SMPP_ESM_UDHI, b2, l2);
        CHECK_EQ(inbound_on_deliver_w(in, &bind1, &p, ring, 1002), SMPP_ESME_ROK);
        /* the last part re-sent after completion: not a second MO */
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1003), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].text, "abcd");
        struct smx_inbound_stats st;
        inbound_stats(in, &st);
        CHECK_EQ(st.mo_duplicates, 2);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

/* The same text sent twice by the user: the SMSC passes the handset's
 * reference (user_message_reference, TP-MR), new for the second message and
 * the same on a re-sent copy. */
static void test_same_text_with_a_new_user_message_reference_is_a_new_mo(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        static const char t[] = "YES";
        fx_mo(&p, "447700900000", "12345", 0, 0, t, sizeof t - 1);
        p.tlv.present |= SMX_TLV_USER_MESSAGE_REFERENCE;
        p.tlv.user_message_reference = 0x0107;
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1000), SMPP_ESME_ROK);
        CHECK_EQ(inbound_on_deliver_w(in, &bind1, &p, ring, 1001), SMPP_ESME_ROK); /* re-sent */
        p.tlv.user_message_reference = 0x0108;
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1002), SMPP_ESME_ROK); /* sent again */
        CHECK_EQ(fx_drain(ring, ev, 4), 2);
        CHECK_STR(ev[0].text, "YES");
        CHECK_STR(ev[1].text, "YES");
        struct smx_inbound_stats st;
        inbound_stats(in, &st);
        CHECK_EQ(st.mo_duplicates, 1);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_incomplete_group_is_delivered_partial_on_timeout(void)
{
        struct smx_inbound *in = fx_inbound(60000);     /* reasm timeout 1000 ms */
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        uint8_t b1[64], b3[64];
        size_t l1 = udh_part(b1, 5, 3, 1, "first "), l3 = udh_part(b3, 5, 3, 3, "third");
        fx_mo(&p, "1", "2", 0, SMPP_ESM_UDHI, b1, l1);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1000), SMPP_ESME_ROK);
        fx_mo(&p, "1", "2", 0, SMPP_ESM_UDHI, b3, l3);
        CHECK_EQ(inbound_on_deliver_w(in, &bind1, &p, ring, 1100), SMPP_ESME_ROK);
        struct smx_inbound_stats st;
        inbound_stats(in, &st);
        CHECK_EQ(st.mo_groups_open, 1);
        for (unsigned w = 0; w < 2; w++)
                inbound_tick_w(in, w, 2, ring, 1500);
        CHECK_EQ(fx_drain(ring, ev, 4), 0);
        for (unsigned w = 0; w < 2; w++)
                inbound_tick_w(in, w, 2, ring, 2100);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK(ev[0].r.flags & SMX_EVF_PARTIAL);
        CHECK_EQ(ev[0].r.parts, 2);
        CHECK(strstr(ev[0].text, "first") != NULL);
        CHECK(strstr(ev[0].text, "third") != NULL);
        inbound_stats(in, &st);
        CHECK_EQ(st.mo_partial, 1);
        CHECK_EQ(st.mo_groups_open, 0);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

/* Issue 12 (shutdown): an MO still missing parts when the client drains is
 * delivered at once as what arrived, flagged partial, never discarded; with
 * the ring full the flush waits for room, then goes on, each group once. */
static void test_open_groups_are_flushed_partial_at_drain_even_through_a_full_ring(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(2);
        struct smx_pdu p;
        struct fx_ev ev[4];
        uint8_t b[64];
        for (uint8_t ref = 1; ref <= 3; ref++) {
                size_t l = udh_part(b, ref, 3, 2, ref == 1 ? "one-" : ref == 2 ? "two-" : "three-");
                fx_mo(&p, "447700900001", "12345", 0, SMPP_ESM_UDHI, b, l);
                CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1000), SMPP_ESME_ROK);
        }
        CHECK_EQ(inbound_undelivered(in), 3);
        /* one worker of two: only its shards; then the other */
        size_t got = 0;
        int seen[4] = { 0 };
        for (int round = 0; round < 4 && inbound_undelivered(in) > 0; round++) {
                for (unsigned w = 0; w < 2; w++)
                        inbound_flush_w(in, w, 2, ring, 1001);  /* well before any timeout */
                size_t n = fx_drain(ring, ev, 4);
                CHECK(n <= 2);                  /* never more than the ring holds */
                for (size_t i = 0; i < n; i++) {
                        CHECK(ev[i].r.flags & SMX_EVF_PARTIAL);
                        CHECK_EQ(ev[i].r.parts, 1);
                        seen[1] += strstr(ev[i].text, "one-") != NULL;
                        seen[2] += strstr(ev[i].text, "two-") != NULL;
                        seen[3] += strstr(ev[i].text, "three-") != NULL;
                }
                got += n;
        }
        CHECK_EQ(got, 3);
        CHECK(seen[1] == 1 && seen[2] == 1 && seen[3] == 1);
        CHECK_EQ(inbound_undelivered(in), 0);
        struct smx_inbound_stats st;
        inbound_stats(in, &st);
        CHECK_EQ(st.mo_flushed, 3);
        CHECK_EQ(st.mo_partial, 3);
        CHECK_EQ(st.mos, 3);
        /* a re-sent copy of a flushed part is a duplicate, not a new MO */
        size_t l = udh_part(b, 1, 3, 2, "one-");
        fx_mo(&p, "447700900001", "12345", 0, SMPP_ESM_UDHI, b, l);
        CHECK_EQ(inbound_on_deliver_w(in, &bind1, &p, ring, 1002), SMPP_ESME_ROK);
        CHECK_EQ(inbound_undelivered(in), 0);
        CHECK_EQ(fx_drain(ring, ev, 4), 0);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_timed_out_group_is_decoded_with_the_bind_map(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        struct smx_dcs_map latin;
        smx_dcs_map_service(&latin);
        latin.enc[0] = SMX_ENC_LATIN1;
        struct smx_bind_info b = bind0;
        b.dcs_map = &latin;
        static const uint8_t part1[] = { 0xe9, 0x74, 0xe9 };     /* "été" in Latin-1 */
        fx_mo(&p, "1", "2", 0, 0, part1, sizeof part1);
        fx_sar(&p, 77, 2, 1);
        CHECK_EQ(inbound_on_deliver_w(in, &b, &p, ring, 1000), SMPP_ESME_ROK);
        inbound_tick_w(in, 0, 1, ring, 3000);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK(ev[0].r.flags & SMX_EVF_PARTIAL);
        CHECK_STR(ev[0].text, "\xc3\xa9t\xc3\xa9");
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_ring_full_on_completing_part_leaves_no_trace(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(2);
        struct smx_pdu p;
        struct fx_ev ev[4];
        uint8_t b1[64], b2[64];
        size_t l1 = udh_part(b1, 3, 2, 1, "AB"), l2 = udh_part(b2, 3, 2, 2, "CD");
        fx_mo(&p, "1", "2", 0, SMPP_ESM_UDHI, b1, l1);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1000), SMPP_ESME_ROK);
        for (int i = 0; i < 2; i++) {
                struct smx_ev_rec *e = event_ring_reserve_w(ring);
                CHECK(e != NULL);
                e->type = SMX_EV_BIND;
                event_ring_commit_w(ring);
        }
        fx_mo(&p, "1", "2", 0, SMPP_ESM_UDHI, b2, l2);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1001), SMPP_ESME_RX_T_APPN);
        CHECK_EQ(fx_drain(ring, ev, 4), 2);
        CHECK_EQ(inbound_on_deliver_w(in, &bind1, &p, ring, 1002), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].text, "ABCD");
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_single_mo_ring_full_then_resend_once(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(2);
        struct smx_pdu p;
        struct fx_ev ev[4];
        fx_mo(&p, "1", "2", 0, 0, "a", 1);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1000), SMPP_ESME_ROK);
        fx_mo(&p, "1", "2", 0, 0, "b", 1);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1000), SMPP_ESME_ROK);
        fx_mo(&p, "1", "2", 0, 0, "c", 1);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1000), SMPP_ESME_RX_T_APPN);
        CHECK_EQ(fx_drain(ring, ev, 4), 2);
        CHECK_EQ(inbound_on_deliver_w(in, &bind1, &p, ring, 1001), SMPP_ESME_ROK);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1002), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].text, "c");
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_invalid_concat_ie_is_a_single_message(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        uint8_t b[64];
        size_t l = udh_part(b, 0x2a, 2, 3, "odd");     /* part > total (H-05) */
        fx_mo(&p, "1", "2", 0, SMPP_ESM_UDHI, b, l);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1000), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].text, "odd");
        CHECK_EQ(ev[0].r.parts, 1);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_udhi_with_empty_message_is_an_empty_mo(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        fx_mo(&p, "1", "2", 0, SMPP_ESM_UDHI, "", 0);  /* H-01 */
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1000), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_EQ(ev[0].r.text_len, 0);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_udh_wins_over_disagreeing_sar_and_is_counted(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        uint8_t b1[64], b2[64];
        size_t l1 = udh_part(b1, 1, 2, 1, "x"), l2 = udh_part(b2, 1, 2, 2, "y");
        fx_mo(&p, "1", "2", 0, SMPP_ESM_UDHI, b1, l1);
        fx_sar(&p, 99, 3, 3);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1000), SMPP_ESME_ROK);
        fx_mo(&p, "1", "2", 0, SMPP_ESM_UDHI, b2, l2);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1001), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].text, "xy");
        struct smx_inbound_stats st;
        inbound_stats(in, &st);
        CHECK_EQ(st.udh_sar_mismatch, 1);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_packed_gsm_udh_parts_join(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_bind_info b = bind0;
        struct smx_pdu p;
        struct fx_ev ev[4];
        b.gsm_packed = 1;
        /* each part: 6-octet UDH, 1 fill bit, then packed septets */
        uint8_t sept[8], buf[2][32];
        size_t len[2];
        const char *txt[2] = { "hello ", "world" };
        for (int i = 0; i < 2; i++) {
                size_t n = strlen(txt[i]);
                memcpy(sept, txt[i], n);
                uint8_t h[6] = { 0x05, 0x00, 0x03, 0x11, 2, (uint8_t)(i + 1) };
                memcpy(buf[i], h, 6);
                len[i] = 6 + smx_gsm7_pack(sept, n, smx_gsm7_fill_bits(6), buf[i] + 6, 26);
        }
        fx_mo(&p, "1", "2", SMPP_DCS_GSM, SMPP_ESM_UDHI, buf[1], len[1]);
        CHECK_EQ(inbound_on_deliver_w(in, &b, &p, ring, 1000), SMPP_ESME_ROK);
        fx_mo(&p, "1", "2", SMPP_DCS_GSM, SMPP_ESM_UDHI, buf[0], len[0]);
        CHECK_EQ(inbound_on_deliver_w(in, &b, &p, ring, 1001), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].text, "hello world");
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_two_identical_mos_within_window_are_one(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        fx_mo(&p, "1", "2", 0, 0, "yes", 3);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1000), SMPP_ESME_ROK);
        CHECK_EQ(inbound_on_deliver_w(in, &bind1, &p, ring, 2000), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        /* after the window (600 s default) the same bytes are a new MO */
        CHECK_EQ(inbound_on_deliver_w(in, &bind1, &p, ring, 1000 + 600000 + 1), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

int main(void)
{
        RUN(test_single_utf8_mo_is_one_event);
        RUN(test_gsm_at_sign_zero_byte_is_a_character);
        RUN(test_ucs2_mo_is_decoded);
        RUN(test_unknown_dcs_is_surfaced_raw_as_hex);
        RUN(test_bind_dcs_map_is_used);
        RUN(test_packed_gsm_single_mo_is_unpacked);
        RUN(test_long_payload_mo_goes_to_heap_text);
        RUN(test_udh_parts_out_of_order_across_binds_give_one_mo);
        RUN(test_sar_parts_out_of_order_give_one_mo);
        RUN(test_surrogate_pair_split_across_parts_is_joined);
        RUN(test_same_part_resent_on_other_bind_is_kept_once);
        RUN(test_same_text_with_a_new_user_message_reference_is_a_new_mo);
        RUN(test_incomplete_group_is_delivered_partial_on_timeout);
        RUN(test_open_groups_are_flushed_partial_at_drain_even_through_a_full_ring);
        RUN(test_timed_out_group_is_decoded_with_the_bind_map);
        RUN(test_ring_full_on_completing_part_leaves_no_trace);
        RUN(test_single_mo_ring_full_then_resend_once);
        RUN(test_invalid_concat_ie_is_a_single_message);
        RUN(test_udhi_with_empty_message_is_an_empty_mo);
        RUN(test_udh_wins_over_disagreeing_sar_and_is_counted);
        RUN(test_packed_gsm_udh_parts_join);
        RUN(test_two_identical_mos_within_window_are_one);
        return t_done();
}
