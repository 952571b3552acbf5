/* Delivery receipts: correlation, park, dedup, ring-full, text fallback,
 * message id normalisation, multipart merge (inbound.h). */
#include "inbound_fixture.h"

static const struct smx_bind_info bind0 = { .index = 0, .name = "smsc1.dc3", .site = "dc3" };
static const struct smx_bind_info bind1 = { .index = 1, .name = "smsc2.bos", .site = "bos" };

static int accept_id(struct smx_inbound *in, const struct smx_bind_info *b, const char *msgid,
                     const char *app, uint64_t serial, uint16_t part, uint16_t n_parts,
                     struct smx_event_ring *ring, uint64_t now)
{
        return inbound_on_accepted_w(in, b, (const uint8_t *)msgid, strlen(msgid), app,
                                     strlen(app), serial, part, n_parts, ring, now);
}

static void test_dr_after_accepted_is_correlated_with_app_id(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        CHECK_EQ(accept_id(in, &bind0, "4f2a9c", "order-17", 1, 0, 1, ring, 1000), 0);
        fx_dr(&p, "4f2a9c", SMPP_STATE_DELIVERED, NULL);
        CHECK_EQ(inbound_on_deliver_w(in, &bind1, &p, ring, 1001), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_EQ(ev[0].r.type, SMX_EV_DR);
        CHECK(ev[0].r.flags & SMX_EVF_HAS_ID);
        CHECK_STR(ev[0].r.id, "order-17");
        CHECK_STR(ev[0].r.message_id, "4f2a9c");
        CHECK_EQ(ev[0].r.state, SMX_DR_DELIVERED);
        CHECK_EQ(ev[0].r.bind, 1);
        CHECK(ev[0].r.flags & SMX_EVF_MT_FINAL);
        CHECK_EQ(ev[0].r.mt_state, SMX_DR_DELIVERED);
        CHECK_STR(ev[0].r.from, "12025550100");
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_dr_before_accepted_is_parked_then_matched(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        struct smx_inbound_stats st;
        fx_dr(&p, "77", SMPP_STATE_DELIVERED, NULL);
        CHECK_EQ(inbound_on_deliver_w(in, &bind1, &p, ring, 1000), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 0);
        inbound_stats(in, &st);
        CHECK_EQ(st.parked, 1);
        CHECK_EQ(st.park_now, 1);
        CHECK_EQ(accept_id(in, &bind0, "77", "app-77", 5, 0, 1, ring, 1005), 1);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].r.id, "app-77");
        CHECK(ev[0].r.flags & SMX_EVF_HAS_ID);
        inbound_stats(in, &st);
        CHECK_EQ(st.park_matched, 1);
        CHECK_EQ(st.park_now, 0);
        /* the timer later finds nothing left to deliver */
        inbound_tick_w(in, 0, 1, ring, 1000 + 70000);
        CHECK_EQ(fx_drain(ring, ev, 4), 0);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_park_timeout_gives_uncorrelated_dr(void)
{
        struct smx_inbound *in = fx_inbound(500);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        fx_dr(&p, "never-submitted", SMPP_STATE_UNDELIVERABLE, NULL);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1000), SMPP_ESME_ROK);
        inbound_tick_w(in, 0, 1, ring, 1499);
        CHECK_EQ(fx_drain(ring, ev, 4), 0);
        inbound_tick_w(in, 0, 1, ring, 1500);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_EQ(ev[0].r.type, SMX_EV_DR);
        CHECK(!(ev[0].r.flags & SMX_EVF_HAS_ID));
        CHECK_STR(ev[0].r.id, "");
        CHECK_STR(ev[0].r.message_id, "never-submitted");
        CHECK_EQ(ev[0].r.state, SMX_DR_UNDELIVERABLE);
        struct smx_inbound_stats st;
        inbound_stats(in, &st);
        CHECK_EQ(st.park_expired, 1);
        CHECK_EQ(st.uncorrelated, 1);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_park_timeout_is_split_between_workers(void)
{
        struct smx_inbound *in = fx_inbound(100);
        struct smx_event_ring *r0 = event_ring_create(1024), *r1 = event_ring_create(1024);
        struct smx_pdu p;
        char id[32];
        for (int i = 0; i < 200; i++) {
                snprintf(id, sizeof id, "id-%d", i);
                fx_dr(&p, id, SMPP_STATE_DELIVERED, NULL);
                CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, r0, 1000), SMPP_ESME_ROK);
        }
        inbound_tick_w(in, 0, 2, r0, 2000);
        inbound_tick_w(in, 1, 2, r1, 2000);
        size_t a = fx_discard(r0), b = fx_discard(r1);
        CHECK_EQ(a + b, 200);
        event_ring_destroy(r0);
        event_ring_destroy(r1);
        inbound_destroy(in);
}

static void test_same_dr_on_two_binds_gives_one_event(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        CHECK_EQ(accept_id(in, &bind0, "abc", "a1", 1, 0, 1, ring, 1000), 0);
        fx_dr(&p, "abc", SMPP_STATE_DELIVERED, NULL);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1001), SMPP_ESME_ROK);
        CHECK_EQ(inbound_on_deliver_w(in, &bind1, &p, ring, 1002), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        struct smx_inbound_stats st;
        inbound_stats(in, &st);
        CHECK_EQ(st.dr_duplicates, 1);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_same_parked_dr_twice_is_parked_once(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        fx_dr(&p, "late", SMPP_STATE_DELIVERED, NULL);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1000), SMPP_ESME_ROK);
        CHECK_EQ(inbound_on_deliver_w(in, &bind1, &p, ring, 1001), SMPP_ESME_ROK);
        CHECK_EQ(accept_id(in, &bind0, "late", "x", 1, 0, 1, ring, 1002), 1);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_accepted_then_delivered_gives_two_events(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        CHECK_EQ(accept_id(in, &bind0, "m1", "app", 1, 0, 1, ring, 1000), 0);
        fx_dr(&p, "m1", SMPP_STATE_ACCEPTED, NULL);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1001), SMPP_ESME_ROK);
        fx_dr(&p, "m1", SMPP_STATE_DELIVERED, NULL);
        CHECK_EQ(inbound_on_deliver_w(in, &bind1, &p, ring, 1002), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 2);
        CHECK_EQ(ev[0].r.state, SMX_DR_ACCEPTED);
        CHECK(!(ev[0].r.flags & SMX_EVF_MT_FINAL));
        CHECK_EQ(ev[1].r.state, SMX_DR_DELIVERED);
        CHECK(ev[1].r.flags & SMX_EVF_MT_FINAL);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_intermediate_enroute_is_an_event(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        CHECK_EQ(accept_id(in, &bind0, "m2", "app", 1, 0, 1, ring, 1000), 0);
        fx_dr(&p, NULL, -1, "id:m2 sub:001 dlvrd:000 submit date:2401011200 done date:2401011201 stat:ENROUTE err:000 text:");
        p.u.sm.esm_class = SMPP_ESM_TYPE_INTERMEDIATE;
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1001), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_EQ(ev[0].r.state, SMX_DR_ENROUTE);
        CHECK_STR(ev[0].r.id, "app");
        CHECK(!(ev[0].r.flags & SMX_EVF_MT_FINAL));
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_ring_full_answers_rx_t_appn_and_leaves_no_trace(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(2);
        struct smx_pdu p;
        struct fx_ev ev[4];
        CHECK_EQ(accept_id(in, &bind0, "r1", "app-r1", 1, 0, 1, ring, 1000), 0);
        CHECK_EQ(accept_id(in, &bind0, "r2", "app-r2", 2, 0, 1, ring, 1000), 0);
        CHECK_EQ(accept_id(in, &bind0, "r3", "app-r3", 3, 0, 1, ring, 1000), 0);
        fx_dr(&p, "r1", SMPP_STATE_DELIVERED, NULL);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1001), SMPP_ESME_ROK);
        fx_dr(&p, "r2", SMPP_STATE_DELIVERED, NULL);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1001), SMPP_ESME_ROK);
        fx_dr(&p, "r3", SMPP_STATE_DELIVERED, NULL);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1001), SMPP_ESME_RX_T_APPN);
        struct smx_inbound_stats st;
        inbound_stats(in, &st);
        CHECK_EQ(st.ring_full, 1);
        CHECK_EQ(st.dr_duplicates, 0);
        CHECK_EQ(fx_drain(ring, ev, 4), 2);
        /* the re-send (on another bind) goes through, once */
        CHECK_EQ(inbound_on_deliver_w(in, &bind1, &p, ring, 1002), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].r.id, "app-r3");
        CHECK(ev[0].r.flags & SMX_EVF_MT_FINAL);
        CHECK_EQ(inbound_on_deliver_w(in, &bind1, &p, ring, 1003), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 0);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_accepted_with_ring_full_keeps_dr_parked_until_tick(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(2);
        struct smx_pdu p;
        struct fx_ev ev[4];
        fx_dr(&p, "pq", SMPP_STATE_DELIVERED, NULL);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1000), SMPP_ESME_ROK);
        struct smx_ev_rec *e;
        for (int i = 0; i < 2; i++) {   /* fill the ring with other events */
                e = event_ring_reserve_w(ring);
                CHECK(e != NULL);
                e->type = SMX_EV_BIND;
                event_ring_commit_w(ring);
        }
        CHECK_EQ(accept_id(in, &bind0, "pq", "app-pq", 9, 0, 1, ring, 1001), 0);
        CHECK_EQ(fx_drain(ring, ev, 4), 2);
        inbound_tick_w(in, 0, 1, ring, 1002);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].r.id, "app-pq");
        CHECK(ev[0].r.flags & SMX_EVF_HAS_ID);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_dr_id_from_text_when_no_tlv(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        CHECK_EQ(accept_id(in, &bind0, "0123456789", "t1", 1, 0, 1, ring, 1000), 0);
        fx_dr(&p, NULL, -1, "id:0123456789 sub:001 dlvrd:001 submit date:2401011200 "
                            "done date:2401011201 stat:DELIVRD err:000 text:hello");
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1001), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].r.id, "t1");
        CHECK_EQ(ev[0].r.state, SMX_DR_DELIVERED);
        CHECK_STR(ev[0].r.err, "000");
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_tlv_id_wins_over_text_id(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        CHECK_EQ(accept_id(in, &bind0, "4f2a9c", "mine", 1, 0, 1, ring, 1000), 0);
        CHECK_EQ(accept_id(in, &bind0, "0123456789", "other", 2, 0, 1, ring, 1000), 0);
        fx_dr(&p, "4f2a9c", SMPP_STATE_DELIVERED,
              "id:0123456789 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 "
              "stat:DELIVRD err:000 text:hello");
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1001), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].r.id, "mine");
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_tlv_state_wins_over_text_and_mismatch_is_counted(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        struct smx_inbound_stats st;
        CHECK_EQ(accept_id(in, &bind0, "s1", "a", 1, 0, 1, ring, 1000), 0);
        fx_dr(&p, "s1", SMPP_STATE_DELIVERED, "id:s1 stat:UNDELIV err:2050");
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1001), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_EQ(ev[0].r.state, SMX_DR_DELIVERED);
        CHECK_STR(ev[0].r.err, "2050");
        inbound_stats(in, &st);
        CHECK_EQ(st.tlv_text_mismatch, 1);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_invalid_state_tlv_falls_back_to_text(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        CHECK_EQ(accept_id(in, &bind0, "k21", "a", 1, 0, 1, ring, 1000), 0);
        fx_dr(&p, "k21", 0, "id:k21 sub:001 dlvrd:001 stat:UNDELIV err:000");
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1001), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_EQ(ev[0].r.state, SMX_DR_UNDELIVERABLE);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_err_from_network_error_code_when_text_has_none(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        CHECK_EQ(accept_id(in, &bind0, "ne", "a", 1, 0, 1, ring, 1000), 0);
        fx_dr(&p, "ne", SMPP_STATE_UNDELIVERABLE, NULL);
        p.tlv.present |= SMX_TLV_NETWORK_ERROR_CODE;
        p.tlv.network_error_type = 3;
        p.tlv.network_error_code = 2050;
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1001), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].r.err, "3:2050");
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_mo_imitating_a_receipt_is_an_mo(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        static const char fake[] = "id:4f2a9c sub:001 dlvrd:001 stat:DELIVRD err:000 text:";
        CHECK_EQ(accept_id(in, &bind0, "4f2a9c", "victim", 1, 0, 1, ring, 1000), 0);
        fx_mo(&p, "447700900000", "12025550100", 0, 0, fake, sizeof fake - 1);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1001), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_EQ(ev[0].r.type, SMX_EV_MO);
        CHECK_STR(ev[0].text, fake);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

/* Issue 12 (shutdown): parked DRs leave at the drain, at once (no park
 * timeout), uncorrelated when their id never came, correlated when it did
 * (matched while the ring was full), through a ring that takes one at a
 * time; each exactly once, counted. */
static void test_parked_drs_are_flushed_at_drain_through_a_full_ring(void)
{
        struct smx_inbound *in = fx_inbound(600000);
        struct smx_event_ring *ring = event_ring_create(2);
        struct smx_pdu p;
        struct fx_ev ev[4];
        static const char *ids[] = { "a1", "b2", "c3", "late" };
        for (unsigned i = 0; i < 4; i++) {
                fx_dr(&p, ids[i], SMPP_STATE_DELIVERED, NULL);
                CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1000), SMPP_ESME_ROK);
        }
        CHECK_EQ(fx_drain(ring, ev, 4), 0);
        CHECK_EQ(inbound_undelivered(in), 4);
        /* fill the ring, then the resp of "late" comes: matched, but no room */
        CHECK(event_ring_reserve_w(ring) != NULL);
        event_ring_commit_w(ring);
        CHECK(event_ring_reserve_w(ring) != NULL);
        event_ring_commit_w(ring);
        CHECK_EQ(accept_id(in, &bind1, "late", "app-late", 9, 0, 1, ring, 1001), 0);
        inbound_flush_w(in, 0, 1, ring, 1002);  /* nothing fits: nothing lost */
        CHECK_EQ(inbound_undelivered(in), 4);
        CHECK_EQ(fx_discard(ring), 2);
        size_t got = 0, correlated = 0;
        for (int round = 0; round < 8 && inbound_undelivered(in) > 0; round++) {
                inbound_flush_w(in, 0, 1, ring, 1003);
                size_t n = fx_drain(ring, ev, 4);
                CHECK(n <= 2);
                for (size_t i = 0; i < n; i++) {
                        CHECK_EQ(ev[i].r.type, SMX_EV_DR);
                        CHECK_EQ(ev[i].r.state, SMX_DR_DELIVERED);
                        CHECK_EQ(ev[i].r.bind, 0);
                        if (ev[i].r.flags & SMX_EVF_HAS_ID) {
                                CHECK_STR(ev[i].r.id, "app-late");
                                CHECK_STR(ev[i].r.message_id, "late");
                                correlated++;
                        }
                }
                got += n;
        }
        CHECK_EQ(got, 4);
        CHECK_EQ(correlated, 1);
        CHECK_EQ(inbound_undelivered(in), 0);
        struct smx_inbound_stats st;
        inbound_stats(in, &st);
        CHECK_EQ(st.park_flushed, 4);
        CHECK_EQ(st.uncorrelated, 3);
        CHECK_EQ(st.park_now, 0);
        /* flushing again finds nothing; a re-sent copy is a duplicate */
        inbound_flush_w(in, 0, 1, ring, 1004);
        fx_dr(&p, "a1", SMPP_STATE_DELIVERED, NULL);
        CHECK_EQ(inbound_on_deliver_w(in, &bind1, &p, ring, 1005), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 0);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_hex_resp_id_matches_decimal_text_id(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_bind_info b = bind0;
        struct smx_pdu p;
        struct fx_ev ev[4];
        b.msgid_norm = SMX_MSGID_HEX_TO_DEC;
        CHECK_EQ(accept_id(in, &b, "4F2A9C", "nexmo", 1, 0, 1, ring, 1000), 0);
        fx_dr(&p, NULL, -1, "id:5188252 sub:001 dlvrd:001 stat:DELIVRD err:000");
        CHECK_EQ(inbound_on_deliver_w(in, &b, &p, ring, 1001), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].r.id, "nexmo");
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_case_and_leading_zeros_normalised_when_asked(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_bind_info b = bind0;
        struct smx_pdu p;
        struct fx_ev ev[4];
        b.msgid_norm = SMX_MSGID_CASE_FOLD | SMX_MSGID_STRIP_ZEROS;
        CHECK_EQ(accept_id(in, &b, "4F2A9C", "folded", 1, 0, 1, ring, 1000), 0);
        fx_dr(&p, NULL, -1, "id:0004f2a9c stat:DELIVRD err:000");
        CHECK_EQ(inbound_on_deliver_w(in, &b, &p, ring, 1001), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].r.id, "folded");
        event_ring_destroy(ring);
        inbound_destroy(in);
}

/* Two SMSCs with different explicit rules deliver each other's DRs (R3): a
 * DR whose id its own bind's rules do not find is looked up with the rules
 * of the SMSCs that stored correlations, at once or, when it came before
 * the resp, at the latest when its park wait ends (here: the drain). */
static void test_dr_crossing_to_an_smsc_with_other_rules_is_still_matched(void)
{
        struct smx_inbound *in = fx_inbound(600000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_bind_info hexdec = bind0, exact = bind1;
        struct smx_pdu p;
        struct fx_ev ev[4];
        hexdec.msgid_norm = SMX_MSGID_HEX_TO_DEC;
        exact.msgid_norm = SMX_MSGID_EXACT;
        /* MT on the hex_to_dec SMSC (stored as 5188252), DR on the exact one
         * with the resp's hex id in the TLV (exact: 4F2A9C) */
        CHECK_EQ(accept_id(in, &hexdec, "4F2A9C", "crossed", 1, 0, 1, ring, 1000), 0);
        fx_dr(&p, "4F2A9C", SMPP_STATE_DELIVERED, NULL);
        CHECK_EQ(inbound_on_deliver_w(in, &exact, &p, ring, 1001), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].r.id, "crossed");
        CHECK(ev[0].r.flags & SMX_EVF_MT_FINAL);
        /* the other way: MT on the exact SMSC, an early DR on the hex_to_dec
         * one (its TLV read as hex: 4660); the resp's put does not find it
         * in the park, the drain's last look does */
        fx_dr(&p, "1234", SMPP_STATE_EXPIRED, NULL);
        CHECK_EQ(inbound_on_deliver_w(in, &hexdec, &p, ring, 1002), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 0);
        CHECK_EQ(accept_id(in, &exact, "1234", "early-crossed", 2, 0, 1, ring, 1003), 0);
        CHECK_EQ(fx_drain(ring, ev, 4), 0);
        inbound_flush_w(in, 0, 1, ring, 1004);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].r.id, "early-crossed");
        struct smx_inbound_stats st;
        inbound_stats(in, &st);
        CHECK_EQ(st.id_rules_crossed, 2);
        CHECK_EQ(st.uncorrelated, 0);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_explicit_exact_keeps_case_distinct(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_bind_info b = bind0;
        struct smx_pdu p;
        struct fx_ev ev[4];
        b.msgid_norm = SMX_MSGID_EXACT;
        CHECK_EQ(accept_id(in, &b, "ABC", "upper", 1, 0, 1, ring, 1000), 0);
        fx_dr(&p, "abc", SMPP_STATE_DELIVERED, NULL);
        CHECK_EQ(inbound_on_deliver_w(in, &b, &p, ring, 1001), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 0);     /* parked: "abc" is not "ABC" */
        struct smx_inbound_stats st;
        inbound_stats(in, &st);
        CHECK_EQ(st.parked, 1);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

/* Issue 12: the three SMSCs of the report, with nothing configured (AUTO),
 * each DR arriving on another bind than its MT's (R3). */
static void test_default_auto_matches_case_and_zero_variants_across_binds(void)
{
        static const struct { const char *resp, *dr, *app; } c[] = {
                { "4b2f1", "4B2F1", "case" },
                { "00004B2F1E", "4b2f1e", "hex-zeros" },
                { "000000102345", "102345", "dec-zeros" },
                { "7", "0000007", "short" },
        };
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        for (unsigned i = 0; i < sizeof c / sizeof c[0]; i++) {
                CHECK_EQ(accept_id(in, &bind0, c[i].resp, c[i].app, 10 + i, 0, 1, ring, 1000), 0);
                fx_dr(&p, c[i].dr, SMPP_STATE_DELIVERED, NULL);
                CHECK_EQ(inbound_on_deliver_w(in, &bind1, &p, ring, 1001), SMPP_ESME_ROK);
                CHECK_EQ(fx_drain(ring, ev, 4), 1);
                CHECK_STR(ev[0].r.id, c[i].app);
                CHECK_STR(ev[0].r.message_id, c[i].dr);   /* as the SMSC wrote it */
        }
        /* an id of the text (no TLV), upper case with zeros, early: parks,
         * then the resp in another spelling brings it out correlated */
        fx_dr(&p, NULL, -1, "id:00000ABCDEF0 sub:001 dlvrd:001 stat:DELIVRD err:000");
        CHECK_EQ(inbound_on_deliver_w(in, &bind1, &p, ring, 1002), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 0);
        CHECK_EQ(accept_id(in, &bind0, "abcdef0", "early", 20, 0, 1, ring, 1003), 1);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].r.id, "early");
        /* the same receipt re-sent in yet another spelling is a duplicate */
        fx_dr(&p, "ABCDEF0", SMPP_STATE_DELIVERED, NULL);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1004), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 0);
        struct smx_inbound_stats st;
        inbound_stats(in, &st);
        CHECK_EQ(st.dr_duplicates, 1);
        CHECK_EQ(st.uncorrelated, 0);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

/* AUTO compares an id that is not a digit string exactly: case and zeros
 * of "AB-12" are part of the id. */
static void test_default_auto_keeps_non_digit_ids_exact(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        CHECK_EQ(accept_id(in, &bind0, "0AB-12", "opaque", 1, 0, 1, ring, 1000), 0);
        fx_dr(&p, "0ab-12", SMPP_STATE_DELIVERED, NULL);
        CHECK_EQ(inbound_on_deliver_w(in, &bind1, &p, ring, 1001), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 0);     /* parked */
        fx_dr(&p, "0AB-12", SMPP_STATE_DELIVERED, NULL);
        CHECK_EQ(inbound_on_deliver_w(in, &bind1, &p, ring, 1002), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].r.id, "opaque");
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_multipart_mt_final_once_all_parts_final_worst_wins(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[8];
        CHECK_EQ(accept_id(in, &bind0, "p1", "long", 42, 0, 3, ring, 1000), 0);
        CHECK_EQ(accept_id(in, &bind0, "p2", "long", 42, 1, 3, ring, 1000), 0);
        CHECK_EQ(accept_id(in, &bind1, "p3", "long", 42, 2, 3, ring, 1000), 0);
        fx_dr(&p, "p2", SMPP_STATE_UNDELIVERABLE, NULL);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1001), SMPP_ESME_ROK);
        fx_dr(&p, "p1", SMPP_STATE_ACCEPTED, NULL);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1002), SMPP_ESME_ROK);
        fx_dr(&p, "p1", SMPP_STATE_DELIVERED, NULL);
        CHECK_EQ(inbound_on_deliver_w(in, &bind1, &p, ring, 1003), SMPP_ESME_ROK);
        fx_dr(&p, "p3", SMPP_STATE_DELIVERED, NULL);
        CHECK_EQ(inbound_on_deliver_w(in, &bind1, &p, ring, 1004), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 8), 4);
        for (int i = 0; i < 3; i++) {
                CHECK(!(ev[i].r.flags & SMX_EVF_MT_FINAL));
                CHECK_STR(ev[i].r.id, "long");
                CHECK_EQ(ev[i].r.parts, 3);
        }
        CHECK_EQ(ev[0].r.part, 2);
        CHECK_EQ(ev[2].r.part, 1);
        CHECK_EQ(ev[3].r.part, 3);
        CHECK_EQ(ev[3].r.state, SMX_DR_DELIVERED);
        CHECK(ev[3].r.flags & SMX_EVF_MT_FINAL);
        CHECK_EQ(ev[3].r.mt_state, SMX_DR_UNDELIVERABLE);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_multipart_second_final_state_of_a_part_does_not_refinalise(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[8];
        CHECK_EQ(accept_id(in, &bind0, "q1", "two", 7, 0, 2, ring, 1000), 0);
        CHECK_EQ(accept_id(in, &bind0, "q2", "two", 7, 1, 2, ring, 1000), 0);
        fx_dr(&p, "q1", SMPP_STATE_DELIVERED, NULL);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1001), SMPP_ESME_ROK);
        fx_dr(&p, "q1", SMPP_STATE_REJECTED, NULL);     /* odd SMSC: a second final state */
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1002), SMPP_ESME_ROK);
        fx_dr(&p, "q2", SMPP_STATE_DELIVERED, NULL);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1003), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 8), 3);
        CHECK(!(ev[0].r.flags & SMX_EVF_MT_FINAL));
        CHECK(!(ev[1].r.flags & SMX_EVF_MT_FINAL));
        CHECK(ev[2].r.flags & SMX_EVF_MT_FINAL);
        CHECK_EQ(ev[2].r.mt_state, SMX_DR_DELIVERED);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_multipart_part_resubmitted_under_new_id_counts_once(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[8];
        CHECK_EQ(accept_id(in, &bind0, "first-try", "re", 11, 0, 2, ring, 1000), 0);
        CHECK_EQ(accept_id(in, &bind1, "second-try", "re", 11, 0, 2, ring, 1001), 0);
        CHECK_EQ(accept_id(in, &bind1, "other-part", "re", 11, 1, 2, ring, 1001), 0);
        fx_dr(&p, "first-try", SMPP_STATE_DELIVERED, NULL);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1002), SMPP_ESME_ROK);
        fx_dr(&p, "second-try", SMPP_STATE_DELIVERED, NULL);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1003), SMPP_ESME_ROK);
        fx_dr(&p, "other-part", SMPP_STATE_DELIVERED, NULL);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1004), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 8), 3);
        CHECK_EQ(ev[0].r.part, 1);
        CHECK_EQ(ev[1].r.part, 1);
        CHECK(!(ev[0].r.flags & SMX_EVF_MT_FINAL));
        CHECK(!(ev[1].r.flags & SMX_EVF_MT_FINAL));
        CHECK_EQ(ev[2].r.part, 2);
        CHECK(ev[2].r.flags & SMX_EVF_MT_FINAL);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_parked_multipart_dr_merges_when_matched(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[8];
        CHECK_EQ(accept_id(in, &bind0, "u1", "mp", 8, 0, 2, ring, 1000), 0);
        fx_dr(&p, "u1", SMPP_STATE_EXPIRED, NULL);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1001), SMPP_ESME_ROK);
        fx_dr(&p, "u2", SMPP_STATE_DELIVERED, NULL);     /* before its resp */
        CHECK_EQ(inbound_on_deliver_w(in, &bind1, &p, ring, 1002), SMPP_ESME_ROK);
        CHECK_EQ(accept_id(in, &bind0, "u2", "mp", 8, 1, 2, ring, 1003), 1);
        CHECK_EQ(fx_drain(ring, ev, 8), 2);
        CHECK(ev[1].r.flags & SMX_EVF_MT_FINAL);
        CHECK_EQ(ev[1].r.mt_state, SMX_DR_EXPIRED);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_dr_without_any_id_is_uncorrelated_at_once(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        fx_dr(&p, NULL, SMPP_STATE_DELIVERED, NULL);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1000), SMPP_ESME_ROK);
        CHECK_EQ(inbound_on_deliver_w(in, &bind1, &p, ring, 1001), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK(!(ev[0].r.flags & SMX_EVF_HAS_ID));
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_receipt_without_id_or_state_is_refused_for_good_and_surfaced_raw(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        fx_dr(&p, NULL, -1, "garbage \x01 receipt");
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1000), SMPP_ESME_RX_P_APPN);
        CHECK_EQ(inbound_on_deliver_w(in, &bind1, &p, ring, 1001), SMPP_ESME_RX_P_APPN);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_EQ(ev[0].r.type, SMX_EV_DR);
        CHECK(ev[0].r.flags & SMX_EVF_RAW);
        CHECK(!(ev[0].r.flags & SMX_EVF_HAS_ID));
        CHECK_STR(ev[0].text, "6761726261676520012072656365697074");
        struct smx_inbound_stats st;
        inbound_stats(in, &st);
        CHECK_EQ(st.dr_undecodable, 1);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_overlong_receipted_id_is_uncorrelated_not_parked(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        char id[301];
        memset(id, '7', 300);
        id[300] = 0;
        fx_dr(&p, id, SMPP_STATE_DELIVERED, NULL);
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1000), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK(!(ev[0].r.flags & SMX_EVF_HAS_ID));
        CHECK_EQ(strlen(ev[0].r.message_id), SMX_MSGID_MAX);
        struct smx_inbound_stats st;
        inbound_stats(in, &st);
        CHECK_EQ(st.id_too_long, 1);
        CHECK_EQ(st.parked, 0);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_ucs2_receipt_text_in_payload_is_parsed(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        static const char ascii[] = "id:77aa stat:EXPIRED err:0x1F";
        uint8_t ucs2[2 * sizeof ascii];
        for (size_t i = 0; i < sizeof ascii - 1; i++) {
                ucs2[2 * i] = 0;
                ucs2[2 * i + 1] = (uint8_t)ascii[i];
        }
        CHECK_EQ(accept_id(in, &bind0, "77aa", "u16", 1, 0, 1, ring, 1000), 0);
        fx_dr(&p, NULL, -1, NULL);
        p.u.sm.data_coding = SMPP_DCS_UCS2;
        p.tlv.present |= SMX_TLV_MESSAGE_PAYLOAD;
        p.tlv.message_payload = fx_bytes(ucs2, 2 * (sizeof ascii - 1));
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1001), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].r.id, "u16");
        CHECK_EQ(ev[0].r.state, SMX_DR_EXPIRED);
        CHECK_STR(ev[0].r.err, "0x1F");
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_empty_resp_id_is_refused_but_harmless(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        CHECK_EQ(inbound_on_accepted_w(in, &bind0, (const uint8_t *)"", 0, "a", 1, 1, 0, 1,
                                       ring, 1000), -EINVAL);
        char id[80];
        memset(id, '9', sizeof id);
        CHECK_EQ(inbound_on_accepted_w(in, &bind0, (const uint8_t *)id, sizeof id, "a", 1, 1, 0,
                                       1, ring, 1000), -E2BIG);
        CHECK_EQ(fx_discard(ring), 0);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_non_deliver_pdu_is_refused(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        fx_dr(&p, "x", SMPP_STATE_DELIVERED, NULL);
        p.h.command_id = SMPP_SUBMIT_SM;
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1000), SMPP_ESME_RINVCMDID);
        CHECK_EQ(fx_discard(ring), 0);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_data_sm_receipt_is_handled_like_deliver_sm(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_pdu p;
        struct fx_ev ev[4];
        CHECK_EQ(accept_id(in, &bind0, "ds", "via-data-sm", 1, 0, 1, ring, 1000), 0);
        fx_dr(&p, "ds", SMPP_STATE_DELIVERED, NULL);
        p.h.command_id = SMPP_DATA_SM;
        CHECK_EQ(inbound_on_deliver_w(in, &bind0, &p, ring, 1001), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].r.id, "via-data-sm");
        event_ring_destroy(ring);
        inbound_destroy(in);
}

int main(void)
{
        RUN(test_dr_after_accepted_is_correlated_with_app_id);
        RUN(test_dr_before_accepted_is_parked_then_matched);
        RUN(test_park_timeout_gives_uncorrelated_dr);
        RUN(test_park_timeout_is_split_between_workers);
        RUN(test_same_dr_on_two_binds_gives_one_event);
        RUN(test_same_parked_dr_twice_is_parked_once);
        RUN(test_accepted_then_delivered_gives_two_events);
        RUN(test_intermediate_enroute_is_an_event);
        RUN(test_ring_full_answers_rx_t_appn_and_leaves_no_trace);
        RUN(test_accepted_with_ring_full_keeps_dr_parked_until_tick);
        RUN(test_dr_id_from_text_when_no_tlv);
        RUN(test_tlv_id_wins_over_text_id);
        RUN(test_tlv_state_wins_over_text_and_mismatch_is_counted);
        RUN(test_invalid_state_tlv_falls_back_to_text);
        RUN(test_err_from_network_error_code_when_text_has_none);
        RUN(test_mo_imitating_a_receipt_is_an_mo);
        RUN(test_hex_resp_id_matches_decimal_text_id);
        RUN(test_case_and_leading_zeros_normalised_when_asked);
        RUN(test_parked_drs_are_flushed_at_drain_through_a_full_ring);
        RUN(test_explicit_exact_keeps_case_distinct);
        RUN(test_dr_crossing_to_an_smsc_with_other_rules_is_still_matched);
        RUN(test_default_auto_matches_case_and_zero_variants_across_binds);
        RUN(test_default_auto_keeps_non_digit_ids_exact);
        RUN(test_multipart_mt_final_once_all_parts_final_worst_wins);
        RUN(test_multipart_second_final_state_of_a_part_does_not_refinalise);
        RUN(test_multipart_part_resubmitted_under_new_id_counts_once);
        RUN(test_parked_multipart_dr_merges_when_matched);
        RUN(test_dr_without_any_id_is_uncorrelated_at_once);
        RUN(test_receipt_without_id_or_state_is_refused_for_good_and_surfaced_raw);
        RUN(test_overlong_receipted_id_is_uncorrelated_not_parked);
        RUN(test_ucs2_receipt_text_in_payload_is_parsed);
        RUN(test_empty_resp_id_is_refused_but_harmless);
        RUN(test_non_deliver_pdu_is_refused);
        RUN(test_data_sm_receipt_is_handled_like_deliver_sm);
        return t_done();
}
