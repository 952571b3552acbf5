/* The per-bind session state machine (src/session): every transition, the
 * HOSTILE.md D/E cases it owns, the window, sequence numbering and timers.
 * Driven directly: PDUs in as bytes, answers read back from its output. */
#include "session/session.h"
#include "testlib.h"

/* ---- a recording owner ---- */

struct rec {
        int resp_calls, lost_calls, deliver_calls, state_calls, late_calls;
        uint32_t last_status, last_ref, deliver_status;
        int last_timed_out;
        char last_msgid[80];
        size_t last_msgid_len;
        enum smx_bind_health last_from, last_to;
        char last_reason[64];
};
static struct rec R;

static void o_resp(void *ctx, uint32_t ref, uint32_t gen, uint8_t part, uint32_t status,
                   const uint8_t *msgid, size_t n, int late)
{
        (void)ctx; (void)gen; (void)part;
        R.resp_calls++;
        R.late_calls += late;
        R.last_ref = ref;
        R.last_status = status;
        if (n > sizeof R.last_msgid - 1)
                n = sizeof R.last_msgid - 1;
        memcpy(R.last_msgid, msgid ? (const char *)msgid : "", n);
        R.last_msgid[n] = 0;
        R.last_msgid_len = n;
}
static void o_lost(void *ctx, uint32_t ref, uint32_t gen, uint8_t part, int timed_out)
{
        (void)ctx; (void)gen; (void)part;
        R.lost_calls++;
        R.last_ref = ref;
        R.last_timed_out = timed_out;
}
static uint32_t o_deliver(void *ctx, const struct smx_pdu *p)
{
        (void)ctx; (void)p;
        R.deliver_calls++;
        return R.deliver_status;
}
static void o_state(void *ctx, enum smx_bind_health from, enum smx_bind_health to,
                    uint32_t status, const char *reason)
{
        (void)ctx;
        R.state_calls++;
        R.last_from = from;
        R.last_to = to;
        R.last_status = status;
        snprintf(R.last_reason, sizeof R.last_reason, "%s", reason ? reason : "");
}
static const struct smx_session_ops OPS = { o_resp, o_lost, o_deliver, o_state };

static struct smx_session_cfg CFG = {
        .system_id = "smsmux", .password = "secret", .system_type = "",
        .bind_mode = SMX_BIND_TRX, .window = 4,
        .bind_timeout_ms = 1000, .response_timeout_ms = 2000,
        .enquire_link_interval_ms = 5000, .enquire_link_timeout_ms = 1000,
        .unbind_timeout_ms = 500, .throttle_base_ms = 100, .throttle_max_ms = 800,
        .max_pdu = 65536,
};

static struct smx_session S;
static struct smx_req TAB[64];
static uint8_t OUT[65536];

/* ---- helpers ---- */

struct hdr { uint32_t len, id, status, seq; };

/* The k-th PDU in the output (0-based); id 0 when there is none. */
static struct hdr out_pdu(int k)
{
        struct hdr h = { 0, 0, 0, 0 };
        uint32_t off = 0;
        for (int i = 0; off + 16 <= S.out_len; i++) {
                uint32_t len = smx_get_u32(S.out + off);
                if (i == k) {
                        h.len = len;
                        h.id = smx_get_u32(S.out + off + 4);
                        h.status = smx_get_u32(S.out + off + 8);
                        h.seq = smx_get_u32(S.out + off + 12);
                        return h;
                }
                off += len;
        }
        return h;
}

static int out_count(void)
{
        int n = 0;
        for (uint32_t off = 0; off + 16 <= S.out_len; off += smx_get_u32(S.out + off))
                n++;
        return n;
}

static void out_clear(void)
{
        const uint8_t *p;
        session_out_consumed(&S, session_out_take(&S, &p));
}

static int feed_hdr(uint32_t id, uint32_t status, uint32_t seq, uint64_t now)
{
        uint8_t b[16];
        smx_pdu_encode_header_only(b, sizeof b, id, status, seq);
        return session_on_pdu(&S, b, 16, now);
}

static int feed_pdu(const struct smx_pdu *p, uint64_t now)
{
        uint8_t b[1024];
        ssize_t n = smx_pdu_encode(b, sizeof b, p, NULL, 0);
        if (n < 0) {
                printf("# encode failed %zd\n", n);
                return -99;
        }
        return session_on_pdu(&S, b, (size_t)n, now);
}

static int feed_bind_resp(uint32_t id, uint32_t status, uint32_t seq, uint64_t now)
{
        struct smx_pdu p;
        memset(&p, 0, sizeof p);
        p.h.command_id = id;
        p.h.command_status = status;
        p.h.sequence_number = seq;
        if (status == 0)
                p.u.bind_resp.system_id = (struct smx_bytes){ (const uint8_t *)"SMSC", 4 };
        return feed_pdu(&p, now);
}

static int feed_submit_resp(uint32_t status, uint32_t seq, const char *msgid, uint64_t now)
{
        struct smx_pdu p;
        memset(&p, 0, sizeof p);
        p.h.command_id = SMPP_SUBMIT_SM_RESP;
        p.h.command_status = status;
        p.h.sequence_number = seq;
        if (msgid)
                p.u.sm_resp.message_id = (struct smx_bytes){ (const uint8_t *)msgid,
                                                             (uint16_t)strlen(msgid) };
        return feed_pdu(&p, now);
}

static int feed_deliver(uint32_t id, uint32_t seq, uint64_t now)
{
        struct smx_pdu p;
        memset(&p, 0, sizeof p);
        p.h.command_id = id;
        p.h.sequence_number = seq;
        p.u.sm.source_addr = (struct smx_bytes){ (const uint8_t *)"447700900000", 12 };
        p.u.sm.destination_addr = (struct smx_bytes){ (const uint8_t *)"12345", 5 };
        if (id == SMPP_DELIVER_SM)
                p.u.sm.short_message = (struct smx_bytes){ (const uint8_t *)"hi", 2 };
        return feed_pdu(&p, now);
}

static void fresh(void)
{
        memset(&R, 0, sizeof R);
        session_init(&S, &CFG, &OPS, NULL, TAB, 64, OUT, sizeof OUT);
}

/* A session in BINDING with its bind request taken out of the output; returns
 * the bind's sequence number. */
static uint32_t to_binding(uint64_t now)
{
        fresh();
        session_connecting(&S, now);
        session_connected(&S, now);
        uint32_t seq = out_pdu(0).seq;
        out_clear();
        return seq;
}

static void to_active(uint64_t now)
{
        uint32_t seq = to_binding(now);
        feed_bind_resp(SMPP_BIND_TRANSCEIVER_RESP, 0, seq, now);
        out_clear();
        memset(&R, 0, sizeof R);
}

/* Queue a submit_sm (header only is enough for the state machine). */
static uint32_t submit(uint32_t ref, uint64_t now)
{
        uint8_t *dst;
        size_t cap;
        uint32_t seq = session_submit_begin(&S, &dst, &cap);
        ssize_t n = smx_pdu_encode_header_only(dst, cap, SMPP_SUBMIT_SM, 0, seq);
        session_submit_commit(&S, seq, (size_t)n, ref, 7, 0, now);
        return seq;
}

/* ---- tests ---- */

static void test_pdus_queued_during_a_send_go_out_in_the_next_send(void)
{
        to_active(0);
        uint32_t a = submit(1, 1);
        const uint8_t *p1, *p2;
        size_t n1 = session_out_take(&S, &p1);
        CHECK_EQ(n1, 16);
        CHECK_EQ(smx_get_u32(p1 + 12), a);
        uint32_t b = submit(2, 2);                 /* written while p1 is being sent */
        CHECK_EQ(smx_get_u32(p1 + 12), a);         /* the bytes being sent are untouched */
        CHECK_EQ(session_out_pending(&S), 32);
        CHECK_EQ(session_out_take(&S, &p2), 16);   /* no second send before the first ends */
        CHECK(p2 == p1);
        session_out_consumed(&S, n1);
        CHECK_EQ(session_out_take(&S, &p2), 16);
        CHECK(p2 != p1);
        CHECK_EQ(smx_get_u32(p2 + 12), b);
        session_out_consumed(&S, 16);
        CHECK_EQ(session_out_pending(&S), 0);
        CHECK_EQ(session_out_take(&S, &p2), 0);
}

static void test_short_send_sends_its_rest_before_newer_pdus(void)
{
        to_active(0);
        uint32_t a = submit(1, 1);
        const uint8_t *p;
        CHECK_EQ(session_out_take(&S, &p), 16);
        uint32_t b = submit(2, 2);
        session_out_consumed(&S, 5);               /* the socket took 5 of 16 bytes */
        const uint8_t *rest;
        CHECK_EQ(session_out_take(&S, &rest), 11);
        CHECK(rest == p + 5);
        CHECK_EQ(smx_get_u32(rest + 7), a);        /* seq of the first PDU at offset 12 */
        session_out_consumed(&S, 11);
        CHECK_EQ(session_out_take(&S, &p), 16);
        CHECK_EQ(smx_get_u32(p + 12), b);
}

static void test_reconnect_forgets_output_of_the_old_connection(void)
{
        to_active(0);
        submit(1, 1);
        const uint8_t *p;
        CHECK_EQ(session_out_take(&S, &p), 16);
        submit(2, 2);
        session_closed(&S, 3, 0, "test");
        CHECK_EQ(session_out_pending(&S), 0);
        session_connecting(&S, 4);
        session_connected(&S, 4);
        size_t n = session_out_take(&S, &p);       /* only the new bind request */
        CHECK(n >= 16);
        CHECK_EQ(smx_get_u32(p), n);
        CHECK_EQ(smx_get_u32(p + 4), SMPP_BIND_TRANSCEIVER);
}

static void test_session_starts_down(void)
{
        fresh();
        CHECK_EQ(S.state, SMX_HEALTH_DOWN);
        CHECK_EQ(session_can_submit(&S, 0, 300), 0);
}

static void test_connect_sends_bind_transceiver_with_credentials(void)
{
        fresh();
        session_connecting(&S, 10);
        CHECK_EQ(S.state, SMX_HEALTH_CONNECTING);
        CHECK_EQ(session_connected(&S, 10), 0);
        CHECK_EQ(S.state, SMX_HEALTH_BINDING);
        struct hdr h = out_pdu(0);
        CHECK_EQ(h.id, SMPP_BIND_TRANSCEIVER);
        CHECK_EQ(h.seq, 1);
        struct smx_pdu p;
        struct smx_pdu_verdict v;
        CHECK_EQ(smx_pdu_decode(S.out, S.out_len, NULL, &p, &v), SMX_PDU_OK);
        CHECK_VIEW(p.u.bind.system_id, "smsmux");
        CHECK_VIEW(p.u.bind.password, "secret");
        CHECK_EQ(p.u.bind.interface_version, 0x34);
}

static void test_bind_resp_ok_makes_bind_active(void)
{
        uint32_t seq = to_binding(0);
        CHECK_EQ(feed_bind_resp(SMPP_BIND_TRANSCEIVER_RESP, 0, seq, 5), SESS_OK);
        CHECK_EQ(S.state, SMX_HEALTH_ACTIVE);
        CHECK_EQ(R.last_from, SMX_HEALTH_BINDING);
        CHECK_EQ(R.last_to, SMX_HEALTH_ACTIVE);
        CHECK_EQ(session_can_submit(&S, 5, 300), 1);
}

static void test_bind_refused_closes_with_its_status(void)
{
        uint32_t seq = to_binding(0);
        CHECK_EQ(feed_bind_resp(SMPP_BIND_TRANSCEIVER_RESP, SMPP_ESME_RINVPASWD, seq, 5), SESS_CLOSE);
        CHECK_EQ(S.close_wanted, 1);
        CHECK_EQ(S.down_status, SMPP_ESME_RINVPASWD);
        CHECK(strstr(S.down_reason, "ESME_RINVPASWD") != NULL);
        session_closed(&S, 6, S.down_status, S.down_reason);
        CHECK_EQ(S.state, SMX_HEALTH_DOWN);
        CHECK_EQ(R.last_status, SMPP_ESME_RINVPASWD);
}

static void test_bind_resp_of_wrong_type_closes(void)
{
        uint32_t seq = to_binding(0);
        CHECK_EQ(feed_bind_resp(SMPP_BIND_RECEIVER_RESP, 0, seq, 5), SESS_CLOSE);
        CHECK(S.state != SMX_HEALTH_ACTIVE);
}

static void test_bind_resp_with_wrong_seq_closes(void)
{
        uint32_t seq = to_binding(0);
        CHECK_EQ(feed_bind_resp(SMPP_BIND_TRANSCEIVER_RESP, 0, seq + 98, 5), SESS_CLOSE);
        CHECK(S.state != SMX_HEALTH_ACTIVE);
}

static void test_no_bind_resp_closes_after_bind_timeout(void)
{
        to_binding(0);
        CHECK_EQ(session_tick(&S, 999), SESS_OK);
        CHECK_EQ(session_tick(&S, 1000), SESS_CLOSE);
        CHECK(strstr(S.down_reason, "bind") != NULL);
}

static void test_deliver_before_bind_resp_gets_rinvbndsts(void)
{
        to_binding(0);
        CHECK_EQ(feed_deliver(SMPP_DELIVER_SM, 9, 1), SESS_OK);
        CHECK_EQ(R.deliver_calls, 0);
        struct hdr h = out_pdu(0);
        CHECK_EQ(h.id, SMPP_DELIVER_SM_RESP);
        CHECK_EQ(h.status, SMPP_ESME_RINVBNDSTS);
        CHECK_EQ(h.seq, 9);
}

static void test_enquire_link_before_bind_resp_is_answered(void)
{
        to_binding(0);
        CHECK_EQ(feed_hdr(SMPP_ENQUIRE_LINK, 0, 77, 1), SESS_OK);
        struct hdr h = out_pdu(0);
        CHECK_EQ(h.id, SMPP_ENQUIRE_LINK_RESP);
        CHECK_EQ(h.status, 0);
        CHECK_EQ(h.seq, 77);
}

static void test_enquire_link_with_window_full_is_answered(void)
{
        to_active(0);
        for (uint32_t i = 0; i < CFG.window; i++)
                submit(i, 0);
        CHECK_EQ(session_can_submit(&S, 0, 300), 0);
        out_clear();
        CHECK_EQ(feed_hdr(SMPP_ENQUIRE_LINK, 0, 5, 1), SESS_OK);
        CHECK_EQ(out_pdu(0).id, SMPP_ENQUIRE_LINK_RESP);
}

static void test_deliver_when_bound_is_answered_with_owner_status(void)
{
        to_active(0);
        R.deliver_status = SMPP_ESME_RX_T_APPN;
        CHECK_EQ(feed_deliver(SMPP_DELIVER_SM, 12, 1), SESS_OK);
        CHECK_EQ(R.deliver_calls, 1);
        struct hdr h = out_pdu(0);
        CHECK_EQ(h.id, SMPP_DELIVER_SM_RESP);
        CHECK_EQ(h.status, SMPP_ESME_RX_T_APPN);
        CHECK_EQ(h.len, 17);   /* empty message_id (K-15) */
}

static void test_data_sm_is_answered_with_data_sm_resp(void)
{
        to_active(0);
        R.deliver_status = 0;
        CHECK_EQ(feed_deliver(SMPP_DATA_SM, 13, 1), SESS_OK);
        CHECK_EQ(R.deliver_calls, 1);
        CHECK_EQ(out_pdu(0).id, SMPP_DATA_SM_RESP);
        CHECK_EQ(out_pdu(0).seq, 13);
}

static void test_unbind_from_smsc_is_answered_then_closes(void)
{
        to_active(0);
        CHECK_EQ(feed_hdr(SMPP_UNBIND, 0, 40, 1), SESS_CLOSE);
        CHECK_EQ(out_pdu(0).id, SMPP_UNBIND_RESP);
        CHECK_EQ(out_pdu(0).seq, 40);
        CHECK_EQ(S.close_wanted, 1);
}

/* D-09 with MTs in flight: the SMSC may answer them after its unbind; the
 * unbind_resp waits for those answers (no new submit meanwhile), so an MT
 * the SMSC accepted keeps its message id and is not resent. */
static void test_unbind_from_smsc_with_submits_out_waits_for_their_answers(void)
{
        to_active(0);
        uint32_t s1 = submit(1, 0), s2 = submit(2, 0);
        out_clear();
        CHECK_EQ(feed_hdr(SMPP_UNBIND, 0, 40, 1), SESS_OK);
        CHECK_EQ(out_count(), 0);
        CHECK_EQ(S.state, SMX_HEALTH_DRAINING);
        CHECK_EQ(session_can_submit(&S, 1, 300), 0);
        CHECK_EQ(feed_submit_resp(0, s1, "A1", 2), SESS_OK);
        CHECK_EQ(R.resp_calls, 1);
        CHECK_EQ(out_count(), 0);
        CHECK_EQ(feed_submit_resp(0, s2, "A2", 3), SESS_CLOSE);
        CHECK_EQ(R.resp_calls, 2);
        CHECK_STR(R.last_msgid, "A2");
        CHECK_EQ(out_pdu(0).id, SMPP_UNBIND_RESP);
        CHECK_EQ(out_pdu(0).seq, 40);
        CHECK_STR(S.down_reason, "unbind from SMSC");
        session_closed(&S, 4, S.down_status, S.down_reason);
        CHECK_EQ(R.lost_calls, 0);
}

/* ... but not longer than unbind_timeout_ms: then unbind_resp, close, and
 * what is still outstanding is handed back. */
static void test_unbind_from_smsc_answered_at_unbind_timeout(void)
{
        to_active(0);
        submit(1, 0);
        submit(2, 0);
        out_clear();
        CHECK_EQ(feed_hdr(SMPP_UNBIND, 0, 41, 10), SESS_OK);
        CHECK_EQ(session_tick(&S, 509), SESS_OK);
        CHECK_EQ(out_count(), 0);
        CHECK_EQ(session_tick(&S, 510), SESS_CLOSE);
        CHECK_EQ(out_pdu(0).id, SMPP_UNBIND_RESP);
        CHECK_EQ(out_pdu(0).seq, 41);
        session_closed(&S, 511, S.down_status, S.down_reason);
        CHECK_EQ(R.lost_calls, 2);
        CHECK_EQ(S.state, SMX_HEALTH_DOWN);
}

static void test_our_unbind_answered_closes(void)
{
        to_active(0);
        CHECK_EQ(session_unbind(&S, 10), SESS_OK);
        CHECK_EQ(S.state, SMX_HEALTH_DRAINING);
        struct hdr h = out_pdu(0);
        CHECK_EQ(h.id, SMPP_UNBIND);
        CHECK_EQ(session_can_submit(&S, 10, 300), 0);
        CHECK_EQ(feed_hdr(SMPP_UNBIND_RESP, 0, h.seq, 11), SESS_CLOSE);
}

static void test_our_unbind_unanswered_closes_after_timeout(void)
{
        to_active(0);
        session_unbind(&S, 10);
        CHECK_EQ(session_tick(&S, 509), SESS_OK);
        CHECK_EQ(session_tick(&S, 510), SESS_CLOSE);
        CHECK(strstr(S.down_reason, "unbind") != NULL);
}

static void test_enquire_link_sent_after_idle(void)
{
        to_active(0);
        CHECK_EQ(session_tick(&S, 4999), SESS_OK);
        CHECK_EQ(out_count(), 0);
        CHECK_EQ(session_tick(&S, 5000), SESS_OK);
        CHECK_EQ(out_pdu(0).id, SMPP_ENQUIRE_LINK);
        /* one at a time */
        session_tick(&S, 5001);
        CHECK_EQ(out_count(), 1);
}

static void test_unanswered_enquire_link_closes(void)
{
        to_active(0);
        session_tick(&S, 5000);
        CHECK_EQ(session_tick(&S, 5999), SESS_OK);
        CHECK_EQ(session_tick(&S, 6000), SESS_CLOSE);
        CHECK(strstr(S.down_reason, "enquire_link") != NULL);
}

static void test_enquire_link_nacked_stops_probing(void)
{
        to_active(0);
        session_tick(&S, 5000);
        uint32_t seq = out_pdu(0).seq;
        out_clear();
        CHECK_EQ(feed_hdr(SMPP_GENERIC_NACK, SMPP_ESME_RINVCMDID, seq, 5001), SESS_OK);
        CHECK_EQ(S.state, SMX_HEALTH_ACTIVE);
        session_tick(&S, 20000);
        session_tick(&S, 40000);
        CHECK_EQ(out_count(), 0);
}

static void test_window_limits_outstanding_submits(void)
{
        to_active(0);
        for (uint32_t i = 0; i < CFG.window; i++) {
                CHECK_EQ(session_can_submit(&S, 0, 300), 1);
                submit(i, 0);
        }
        CHECK_EQ(session_can_submit(&S, 0, 300), 0);
        CHECK_EQ(S.n_submit, CFG.window);
}

static void test_submit_resp_ok_reports_message_id_and_frees_window(void)
{
        to_active(0);
        uint32_t seq = submit(3, 0);
        CHECK_EQ(feed_submit_resp(0, seq, "4F2A9C", 1), SESS_OK);
        CHECK_EQ(R.resp_calls, 1);
        CHECK_EQ(R.last_ref, 3);
        CHECK_EQ(R.last_status, 0);
        CHECK_STR(R.last_msgid, "4F2A9C");
        CHECK_EQ(S.n_submit, 0);
}

/* session_on_pdu reads a plain submit_sm_resp (terminated message_id ending
 * the PDU) without the general decoder; every other form goes through it.
 * Both must report the same: the fast form, one with a TLV after the id, one
 * with the id unterminated (B-05: the view runs to the frame end), an empty
 * id, and a non-zero status. */
static void test_submit_resp_forms_fast_and_general_report_alike(void)
{
        to_active(0);
        uint8_t b[128];
        static const uint8_t id[] = "77AB01";
        /* plain: header + "77AB01\0" */
        uint32_t seq = submit(5, 0);
        size_t n = 16 + sizeof id;
        smx_put_u32(b, (uint32_t)n);
        smx_put_u32(b + 4, SMPP_SUBMIT_SM_RESP);
        smx_put_u32(b + 8, 0);
        smx_put_u32(b + 12, seq);
        memcpy(b + 16, id, sizeof id);
        CHECK_EQ(session_on_pdu(&S, b, n, 1), SESS_OK);
        CHECK_EQ(R.resp_calls, 1);
        CHECK_EQ(R.last_ref, 5);
        CHECK_STR(R.last_msgid, "77AB01");
        CHECK_EQ(S.n_submit, 0);
        /* the same with a 5-octet TLV after the id: the general decoder */
        seq = submit(6, 0);
        uint8_t tlv[5] = { 0x04, 0x27, 0x00, 0x01, 0x02 };      /* message_state */
        n = 16 + sizeof id + sizeof tlv;
        smx_put_u32(b, (uint32_t)n);
        smx_put_u32(b + 12, seq);
        memcpy(b + 16 + sizeof id, tlv, sizeof tlv);
        CHECK_EQ(session_on_pdu(&S, b, n, 1), SESS_OK);
        CHECK_EQ(R.resp_calls, 2);
        CHECK_EQ(R.last_ref, 6);
        CHECK_STR(R.last_msgid, "77AB01");
        CHECK_EQ(S.n_submit, 0);
        /* unterminated id: the general decoder's view to the frame end */
        seq = submit(7, 0);
        n = 16 + sizeof id - 1;
        smx_put_u32(b, (uint32_t)n);
        smx_put_u32(b + 12, seq);
        CHECK_EQ(session_on_pdu(&S, b, n, 1), SESS_OK);
        CHECK_EQ(R.resp_calls, 3);
        CHECK_EQ(R.last_ref, 7);
        CHECK_STR(R.last_msgid, "77AB01");
        /* an empty id, and a non-zero status (fast form both) */
        seq = submit(8, 0);
        smx_put_u32(b, 17);
        smx_put_u32(b + 8, SMPP_ESME_RSYSERR);
        smx_put_u32(b + 12, seq);
        b[16] = 0;
        CHECK_EQ(session_on_pdu(&S, b, 17, 1), SESS_OK);
        CHECK_EQ(R.resp_calls, 4);
        CHECK_EQ(R.last_ref, 8);
        CHECK_EQ(R.last_status, SMPP_ESME_RSYSERR);
        CHECK_STR(R.last_msgid, "");
        CHECK_EQ(S.n_submit, 0);
        /* an answer to no outstanding submit stays unknown */
        CHECK_EQ(session_on_pdu(&S, b, 17, 1), SESS_OK);
        CHECK_EQ(R.resp_calls, 4);
        CHECK_EQ(S.cnt.unknown_resp, 1);
}

/* The fast read's check that the message_id holds no NUL but its
 * terminator (an inlined word-at-a-time scan): for every id length up to
 * 64 and every place of an inner NUL, the session reports what the general
 * decoder reads from the same octets (an id cut at the inner NUL, or no
 * answer at all when the rest does not parse), and with no inner NUL the
 * whole id. */
static void test_submit_resp_inner_nul_at_every_place_reads_as_the_decoder(void)
{
        uint8_t b[16 + 64 + 1];
        int bad = 0, fast = 0;
        for (size_t len = 1; len <= 64; len++) {
                for (long k = -1; k < (long)len; k++) {
                        to_active(0);
                        uint32_t seq = submit(9, 0);
                        size_t n = 16 + len + 1;
                        smx_put_u32(b, (uint32_t)n);
                        smx_put_u32(b + 4, SMPP_SUBMIT_SM_RESP);
                        smx_put_u32(b + 8, 0);
                        smx_put_u32(b + 12, seq);
                        for (size_t i = 0; i < len; i++)
                                b[16 + i] = (uint8_t)('A' + i % 26);
                        if (k >= 0)
                                b[16 + k] = 0;
                        b[16 + len] = 0;
                        struct smx_pdu p;
                        struct smx_pdu_verdict v;
                        struct smx_pdu_opts o = { .max_pdu = 0, .strict = 0 };
                        int rc = smx_pdu_decode(b, n, &o, &p, &v);
                        session_on_pdu(&S, b, n, 1);
                        if (rc == SMX_PDU_OK) {
                                bad += R.resp_calls != 1 || R.last_ref != 9 ||
                                       R.last_msgid_len != p.u.sm_resp.message_id.len ||
                                       memcmp(R.last_msgid, p.u.sm_resp.message_id.p,
                                              R.last_msgid_len) != 0;
                        } else {
                                bad += R.resp_calls != 0;
                        }
                        if (k < 0) {
                                fast++;
                                bad += R.resp_calls != 1 || R.last_msgid_len != len;
                        } else {
                                bad += R.resp_calls == 1 && R.last_msgid_len != (size_t)k;
                        }
                }
        }
        CHECK_EQ(fast, 64);
        CHECK_EQ(bad, 0);
}

static void test_response_with_unknown_seq_is_counted_not_nacked(void)
{
        to_active(0);
        submit(1, 0);
        out_clear();
        CHECK_EQ(feed_submit_resp(0, 999, "x", 1), SESS_OK);
        CHECK_EQ(R.resp_calls, 0);
        CHECK_EQ(S.cnt.unknown_resp, 1);
        CHECK_EQ(out_count(), 0);
        CHECK_EQ(S.n_submit, 1);
}

static void test_deliver_seq_colliding_with_our_submit_keeps_it_outstanding(void)
{
        to_active(0);
        uint32_t seq = submit(1, 0);
        out_clear();
        CHECK_EQ(feed_deliver(SMPP_DELIVER_SM, seq, 1), SESS_OK);
        CHECK_EQ(out_pdu(0).id, SMPP_DELIVER_SM_RESP);
        CHECK_EQ(out_pdu(0).seq, seq);
        CHECK_EQ(S.n_submit, 1);
        CHECK_EQ(feed_submit_resp(0, seq, "m1", 2), SESS_OK);
        CHECK_EQ(R.resp_calls, 1);
}

static void test_sequence_wraps_to_one_and_skips_outstanding(void)
{
        to_active(0);
        uint32_t s1 = submit(1, 0);               /* seq 2 (bind took 1) */
        session_set_next_seq(&S, 0x7FFFFFFE);
        CHECK_EQ(submit(2, 0), 0x7FFFFFFE);
        CHECK_EQ(submit(3, 0), 0x7FFFFFFF);
        /* 1 is free (bind answered), 2 is outstanding: 1 then 3 */
        CHECK_EQ(submit(4, 0), 1);
        feed_submit_resp(0, 1, "a", 1);
        CHECK_EQ(S.n_submit, 3);
        uint32_t next = submit(5, 0);
        CHECK(next != s1);
        CHECK_EQ(next, 3);
}

static void test_sequence_never_zero_or_above_max(void)
{
        to_active(0);
        session_set_next_seq(&S, 0);
        uint32_t a = submit(1, 0);
        CHECK(a >= 1 && a <= 0x7FFFFFFF);
        session_set_next_seq(&S, 0x80000000u);
        uint32_t b = submit(2, 0);
        CHECK(b >= 1 && b <= 0x7FFFFFFF);
}

static void test_response_timeout_resends_and_late_resp_hits_tombstone(void)
{
        to_active(0);
        uint32_t seq = submit(9, 100);
        CHECK_EQ(session_tick(&S, 2099), SESS_OK);
        CHECK_EQ(R.lost_calls, 0);
        session_tick(&S, 2100);
        CHECK_EQ(R.lost_calls, 1);
        CHECK_EQ(R.last_ref, 9);
        CHECK_EQ(R.last_timed_out, 1);
        CHECK_EQ(S.n_submit, 0);
        /* the link is suspect: no routing until it answers; a probe is out */
        CHECK_EQ(session_can_submit(&S, 2100, 300), 0);
        CHECK_EQ(out_pdu(out_count() - 1).id, SMPP_ENQUIRE_LINK);
        CHECK_EQ(feed_submit_resp(0, seq, "late", 2200), SESS_OK);
        CHECK_EQ(R.late_calls, 1);
        CHECK_EQ(S.cnt.late_resp, 1);
        CHECK_EQ(session_can_submit(&S, 2200, 300), 1);
}

static void test_connection_loss_hands_back_every_in_flight_mt(void)
{
        to_active(0);
        submit(1, 0);
        submit(2, 0);
        submit(3, 0);
        session_closed(&S, 5, 0, "connection reset");
        CHECK_EQ(R.lost_calls, 3);
        CHECK_EQ(R.last_timed_out, 0);
        CHECK_EQ(S.state, SMX_HEALTH_DOWN);
        CHECK_STR(R.last_reason, "connection reset");
        CHECK_EQ(S.n_submit, 0);
}

static void test_throttled_pauses_then_resumes_with_growing_backoff(void)
{
        to_active(0);
        uint32_t seq = submit(1, 0);
        feed_submit_resp(SMPP_ESME_RTHROTTLED, seq, NULL, 10);
        CHECK_EQ(S.state, SMX_HEALTH_THROTTLED);
        CHECK_EQ(R.resp_calls, 1);
        CHECK_EQ(session_can_submit(&S, 50, 300), 0);
        session_tick(&S, 109);
        CHECK_EQ(S.state, SMX_HEALTH_THROTTLED);
        session_tick(&S, 110);
        CHECK_EQ(S.state, SMX_HEALTH_ACTIVE);
        seq = submit(2, 110);
        feed_submit_resp(SMPP_ESME_RTHROTTLED, seq, NULL, 120);
        CHECK_EQ(S.throttle_ms, 200);
        session_tick(&S, 319);
        CHECK_EQ(S.state, SMX_HEALTH_THROTTLED);
        session_tick(&S, 320);
        CHECK_EQ(S.state, SMX_HEALTH_ACTIVE);
        seq = submit(3, 320);
        feed_submit_resp(0, seq, "ok", 330);
        /* sent after the pause ended and accepted: the SMSC takes MTs
         * again, the next pushback pauses the base 100 ms, not 400 */
        CHECK_EQ(S.throttle_ms, 0);
        seq = submit(4, 340);
        feed_submit_resp(SMPP_ESME_RTHROTTLED, seq, NULL, 350);
        CHECK_EQ(S.throttle_ms, 100);
        CHECK_EQ(S.throttle_until_ms, 450);
}

/* An MT in flight when the SMSC throttled, accepted afterwards, says little
 * about now: it only halves the pause; the pause keeps growing while every
 * MT sent after a pause is throttled again. */
static void test_throttle_pause_halves_for_an_mt_sent_before_it(void)
{
        to_active(0);
        uint32_t early = submit(1, 0);
        uint32_t seq = submit(2, 0);
        feed_submit_resp(SMPP_ESME_RTHROTTLED, seq, NULL, 10);      /* 100 ms */
        session_tick(&S, 110);
        seq = submit(3, 110);
        feed_submit_resp(SMPP_ESME_RTHROTTLED, seq, NULL, 120);     /* 200 ms */
        session_tick(&S, 320);
        seq = submit(4, 320);
        feed_submit_resp(SMPP_ESME_RTHROTTLED, seq, NULL, 330);     /* 400 ms */
        CHECK_EQ(S.throttle_ms, 400);
        feed_submit_resp(0, early, "ok", 340);
        CHECK_EQ(S.throttle_ms, 200);
}

static void test_throttle_backoff_is_capped(void)
{
        to_active(0);
        uint64_t t = 0;
        for (int i = 0; i < 10; i++) {
                uint32_t seq = submit((uint32_t)i, t);
                feed_submit_resp(SMPP_ESME_RTHROTTLED, seq, NULL, t);
                t += 10000;
                session_tick(&S, t);
        }
        CHECK_EQ(S.throttle_ms, CFG.throttle_max_ms);
}

static void test_nack_rinvbndsts_on_submit_closes_bind(void)
{
        to_active(0);
        uint32_t seq = submit(1, 0);
        CHECK_EQ(feed_hdr(SMPP_GENERIC_NACK, SMPP_ESME_RINVBNDSTS, seq, 1), SESS_CLOSE);
        CHECK_EQ(R.resp_calls, 1);
        CHECK_EQ(R.last_status, SMPP_ESME_RINVBNDSTS);
}

/* D-17 with other submits outstanding: we unbind and take the answers the
 * SMSC still gives before its unbind_resp (no accepted MT resent). */
static void test_nack_rinvbndsts_with_others_out_unbinds_and_takes_their_answers(void)
{
        to_active(0);
        uint32_t s1 = submit(1, 0), s2 = submit(2, 0);
        out_clear();
        CHECK_EQ(feed_hdr(SMPP_GENERIC_NACK, SMPP_ESME_RINVBNDSTS, s1, 1), SESS_OK);
        CHECK_EQ(R.resp_calls, 1);
        CHECK_EQ(S.state, SMX_HEALTH_DRAINING);
        CHECK_EQ(session_can_submit(&S, 1, 300), 0);
        struct hdr u = out_pdu(0);
        CHECK_EQ(u.id, SMPP_UNBIND);
        CHECK_EQ(feed_submit_resp(0, s2, "B2", 2), SESS_OK);
        CHECK_EQ(R.resp_calls, 2);
        CHECK_EQ(R.last_status, 0);
        CHECK_STR(R.last_msgid, "B2");
        CHECK_EQ(feed_hdr(SMPP_UNBIND_RESP, 0, u.seq, 3), SESS_CLOSE);
        CHECK_STR(S.down_reason, "SMSC says the bind is not usable");
        CHECK_EQ(S.down_status, SMPP_ESME_RINVBNDSTS);
        session_closed(&S, 4, S.down_status, S.down_reason);
        CHECK_EQ(R.lost_calls, 0);
}

/* ... and an SMSC that answers nothing more: closed at unbind_timeout_ms, the
 * rest handed back. */
static void test_nack_rinvbndsts_with_others_out_closes_at_unbind_timeout(void)
{
        to_active(0);
        uint32_t s1 = submit(1, 0);
        submit(2, 0);
        CHECK_EQ(feed_submit_resp(SMPP_ESME_RINVBNDSTS, s1, NULL, 10), SESS_OK);
        CHECK_EQ(session_tick(&S, 509), SESS_OK);
        CHECK_EQ(session_tick(&S, 510), SESS_CLOSE);
        CHECK_STR(S.down_reason, "SMSC says the bind is not usable");
        session_closed(&S, 511, S.down_status, S.down_reason);
        CHECK_EQ(R.lost_calls, 1);
}

static void test_esme_only_request_gets_its_resp_with_rinvbndsts(void)
{
        to_active(0);
        CHECK_EQ(feed_hdr(SMPP_QUERY_SM, 0, 21, 1), SESS_OK);
        /* query_sm with no body: the decoder answers; either way a query_sm_resp */
        struct hdr h = out_pdu(0);
        CHECK_EQ(h.id, SMPP_QUERY_SM_RESP);
        CHECK_EQ(h.seq, 21);
        CHECK(h.status != 0);
        CHECK_EQ(S.state, SMX_HEALTH_ACTIVE);
}

static void test_unknown_command_gets_generic_nack_rinvcmdid(void)
{
        to_active(0);
        CHECK_EQ(feed_hdr(0x00000099, 0, 22, 1), SESS_OK);
        struct hdr h = out_pdu(0);
        CHECK_EQ(h.id, SMPP_GENERIC_NACK);
        CHECK_EQ(h.status, SMPP_ESME_RINVCMDID);
        CHECK_EQ(h.seq, 22);
        CHECK_EQ(S.state, SMX_HEALTH_ACTIVE);
}

static void test_generic_nack_from_smsc_is_never_answered(void)
{
        to_active(0);
        CHECK_EQ(feed_hdr(SMPP_GENERIC_NACK, SMPP_ESME_RINVCMDID, 555, 1), SESS_OK);
        CHECK_EQ(out_count(), 0);
}

static void test_alert_notification_is_not_answered(void)
{
        to_active(0);
        struct smx_pdu p;
        memset(&p, 0, sizeof p);
        p.h.command_id = SMPP_ALERT_NOTIFICATION;
        p.h.sequence_number = 4;
        uint8_t b[64];
        /* hand-made: source ton/npi/addr, esme ton/npi/addr */
        size_t n = t_hex("0000001c 00000102 00000000 00000004 0101 3100 0101 3200", b, sizeof b);
        smx_put_u32(b, (uint32_t)n);
        CHECK_EQ(session_on_pdu(&S, b, n, 1), SESS_OK);
        CHECK_EQ(out_count(), 0);
}

static void test_framing_error_nacks_rinvcmdlen_then_closes(void)
{
        to_active(0);
        uint8_t b[16];
        t_hex("00000000 00000005 00000000 00000009", b, sizeof b);
        CHECK_EQ(session_on_frame_error(&S, b, 16, "bad length"), SESS_CLOSE);
        struct hdr h = out_pdu(0);
        CHECK_EQ(h.id, SMPP_GENERIC_NACK);
        CHECK_EQ(h.status, SMPP_ESME_RINVCMDLEN);
        CHECK_EQ(h.seq, 9);
        CHECK_EQ(S.close_wanted, 1);
}

static void test_framing_error_without_header_closes_silently(void)
{
        to_active(0);
        uint8_t b[3] = { 0, 0, 0 };
        CHECK_EQ(session_on_frame_error(&S, b, 3, "bad length"), SESS_CLOSE);
        CHECK_EQ(out_count(), 0);
}

static void test_abandon_turns_in_flight_into_tombstones(void)
{
        to_active(0);
        uint32_t seq = submit(1, 0);
        submit(2, 0);
        session_abandon(&S, 10);
        CHECK_EQ(R.lost_calls, 2);
        CHECK_EQ(S.n_submit, 0);
        feed_submit_resp(0, seq, "x", 11);
        CHECK_EQ(R.late_calls, 1);
}

static void test_sc_interface_version_33_disables_tlvs(void)
{
        uint32_t seq = to_binding(0);
        uint8_t b[64];
        size_t n = t_hex("00000000 80000009 00000000 00000000 534d534300 0210 0001 33", b, sizeof b);
        smx_put_u32(b, (uint32_t)n);
        smx_put_u32(b + 12, seq);
        CHECK_EQ(session_on_pdu(&S, b, n, 1), SESS_OK);
        CHECK_EQ(S.state, SMX_HEALTH_ACTIVE);
        CHECK_EQ(S.tlvs_ok, 0);
}

static void test_connect_failure_goes_down_with_its_reason(void)
{
        fresh();
        session_connecting(&S, 0);
        session_closed(&S, 5, 0, "connect: Connection refused");
        CHECK_EQ(S.state, SMX_HEALTH_DOWN);
        CHECK_EQ(R.last_from, SMX_HEALTH_CONNECTING);
        CHECK_STR(R.last_reason, "connect: Connection refused");
        int calls = R.state_calls;
        session_closed(&S, 6, 0, "again");          /* DOWN: nothing more happens */
        CHECK_EQ(R.state_calls, calls);
}

/* A DR/MO the SMSC sent before it saw our unbind (or one behind its own
 * unbind) is taken: answered with the owner's status (the drain delivers
 * it), not refused. */
static void test_deliver_while_unbinding_is_taken(void)
{
        to_active(0);
        session_unbind(&S, 1);
        out_clear();
        CHECK_EQ(feed_deliver(SMPP_DELIVER_SM, 31, 2), SESS_OK);
        CHECK_EQ(R.deliver_calls, 1);
        CHECK_EQ(out_pdu(0).id, SMPP_DELIVER_SM_RESP);
        CHECK_EQ(out_pdu(0).status, SMPP_ESME_ROK);
}

/* ... but once the session is closing, nothing more is taken. */
static void test_deliver_after_close_wanted_gets_rinvbndsts(void)
{
        to_active(0);
        uint32_t seq = submit(1, 0);
        CHECK_EQ(feed_hdr(SMPP_GENERIC_NACK, SMPP_ESME_RINVBNDSTS, seq, 1), SESS_CLOSE);
        out_clear();
        feed_deliver(SMPP_DELIVER_SM, 32, 2);
        CHECK_EQ(S.close_wanted, 1);
        CHECK_EQ(R.deliver_calls, 0);
        CHECK_EQ(out_pdu(0).id, SMPP_DELIVER_SM_RESP);
        CHECK_EQ(out_pdu(0).status, SMPP_ESME_RINVBNDSTS);
}

static void test_nack_rthrottled_on_submit_throttles_the_bind(void)
{
        to_active(0);
        uint32_t seq = submit(1, 0);
        CHECK_EQ(feed_hdr(SMPP_GENERIC_NACK, SMPP_ESME_RTHROTTLED, seq, 1), SESS_OK);
        CHECK_EQ(R.resp_calls, 1);
        CHECK_EQ(R.last_status, SMPP_ESME_RTHROTTLED);
        CHECK_EQ(S.state, SMX_HEALTH_THROTTLED);
}

static void test_nack_rinvcmdid_on_submit_is_reported_and_bind_stays(void)
{
        to_active(0);
        uint32_t seq = submit(1, 0);
        CHECK_EQ(feed_hdr(SMPP_GENERIC_NACK, SMPP_ESME_RINVCMDID, seq, 1), SESS_OK);
        CHECK_EQ(R.resp_calls, 1);
        CHECK_EQ(R.last_status, SMPP_ESME_RINVCMDID);
        CHECK_EQ(smx_status_classify(SMPP_ESME_RINVCMDID), SMX_STATUS_PERMANENT);
        CHECK_EQ(S.state, SMX_HEALTH_ACTIVE);
        CHECK_EQ(out_count(), 1);   /* only our submit_sm: a nack is never answered */
}

static void test_rebind_after_down_starts_a_fresh_session(void)
{
        to_active(0);
        submit(1, 0);
        session_closed(&S, 10, 0, "reset");
        session_connecting(&S, 2000);
        CHECK_EQ(S.state, SMX_HEALTH_CONNECTING);
        CHECK_EQ(S.n_submit, 0);
        CHECK_EQ(S.close_wanted, 0);
        session_connected(&S, 2001);
        CHECK_EQ(out_pdu(0).id, SMPP_BIND_TRANSCEIVER);
        CHECK_EQ(out_count(), 1);
}

int main(void)
{
        RUN(test_session_starts_down);
        RUN(test_connect_sends_bind_transceiver_with_credentials);
        RUN(test_bind_resp_ok_makes_bind_active);
        RUN(test_bind_refused_closes_with_its_status);
        RUN(test_bind_resp_of_wrong_type_closes);
        RUN(test_bind_resp_with_wrong_seq_closes);
        RUN(test_no_bind_resp_closes_after_bind_timeout);
        RUN(test_deliver_before_bind_resp_gets_rinvbndsts);
        RUN(test_enquire_link_before_bind_resp_is_answered);
        RUN(test_enquire_link_with_window_full_is_answered);
        RUN(test_pdus_queued_during_a_send_go_out_in_the_next_send);
        RUN(test_short_send_sends_its_rest_before_newer_pdus);
        RUN(test_reconnect_forgets_output_of_the_old_connection);
        RUN(test_deliver_when_bound_is_answered_with_owner_status);
        RUN(test_data_sm_is_answered_with_data_sm_resp);
        RUN(test_unbind_from_smsc_is_answered_then_closes);
        RUN(test_unbind_from_smsc_with_submits_out_waits_for_their_answers);
        RUN(test_unbind_from_smsc_answered_at_unbind_timeout);
        RUN(test_our_unbind_answered_closes);
        RUN(test_our_unbind_unanswered_closes_after_timeout);
        RUN(test_enquire_link_sent_after_idle);
        RUN(test_unanswered_enquire_link_closes);
        RUN(test_enquire_link_nacked_stops_probing);
        RUN(test_window_limits_outstanding_submits);
        RUN(test_submit_resp_ok_reports_message_id_and_frees_window);
        RUN(test_submit_resp_forms_fast_and_general_report_alike);
        RUN(test_submit_resp_inner_nul_at_every_place_reads_as_the_decoder);
        RUN(test_response_with_unknown_seq_is_counted_not_nacked);
        RUN(test_deliver_seq_colliding_with_our_submit_keeps_it_outstanding);
        RUN(test_sequence_wraps_to_one_and_skips_outstanding);
        RUN(test_sequence_never_zero_or_above_max);
        RUN(test_response_timeout_resends_and_late_resp_hits_tombstone);
        RUN(test_connection_loss_hands_back_every_in_flight_mt);
        RUN(test_throttled_pauses_then_resumes_with_growing_backoff);
        RUN(test_throttle_pause_halves_for_an_mt_sent_before_it);
        RUN(test_throttle_backoff_is_capped);
        RUN(test_nack_rinvbndsts_on_submit_closes_bind);
        RUN(test_nack_rinvbndsts_with_others_out_unbinds_and_takes_their_answers);
        RUN(test_nack_rinvbndsts_with_others_out_closes_at_unbind_timeout);
        RUN(test_esme_only_request_gets_its_resp_with_rinvbndsts);
        RUN(test_unknown_command_gets_generic_nack_rinvcmdid);
        RUN(test_generic_nack_from_smsc_is_never_answered);
        RUN(test_alert_notification_is_not_answered);
        RUN(test_framing_error_nacks_rinvcmdlen_then_closes);
        RUN(test_framing_error_without_header_closes_silently);
        RUN(test_abandon_turns_in_flight_into_tombstones);
        RUN(test_sc_interface_version_33_disables_tlvs);
        RUN(test_connect_failure_goes_down_with_its_reason);
        RUN(test_deliver_while_unbinding_is_taken);
        RUN(test_deliver_after_close_wanted_gets_rinvbndsts);
        RUN(test_nack_rthrottled_on_submit_throttles_the_bind);
        RUN(test_nack_rinvcmdid_on_submit_is_reported_and_bind_stays);
        RUN(test_rebind_after_down_starts_a_fresh_session);
        return t_done();
}
