/* Golden byte vectors for every PDU the codec handles, checked both ways:
 * the struct encodes to exactly these bytes, and these bytes decode to
 * exactly these fields. The hex was written by hand from the field tables in
 * SMPP.md §1-3 and the base PDUs of HOSTILE.md (lengths counted by hand; each
 * vector's command_length is also checked against its byte count), never
 * produced by the code under test. */
#include <errno.h>

#include "pdu/pdu.h"
#include "testlib.h"

#define S(lit) ((struct smx_bytes){ (const uint8_t *)(lit), (uint16_t)(sizeof(lit) - 1) })

static uint8_t gold[1024];
static size_t gold_len;
static uint8_t enc[1024];

/* Build a golden vector from hex and ASCII pieces (test-side only). */
static void g_reset(void) { gold_len = 0; }
static void g_hex(const char *hex) { gold_len += t_hex(hex, gold + gold_len, sizeof gold - gold_len); }
static void g_str(const char *s) { size_t n = strlen(s); memcpy(gold + gold_len, s, n); gold_len += n; }

static struct smx_pdu new_pdu(uint32_t id, uint32_t status, uint32_t seq)
{
        struct smx_pdu p;

        memset(&p, 0, sizeof p);
        p.h.command_id = id;
        p.h.command_status = status;
        p.h.sequence_number = seq;
        return p;
}

/* The vector is self-consistent, the struct encodes to it, and it decodes. */
static int both_ways(const struct smx_pdu *want, struct smx_pdu *got)
{
        struct smx_pdu_verdict v;
        ssize_t n;
        int rc;

        CHECK_EQ(smx_get_u32(gold), gold_len);
        n = smx_pdu_encode(enc, sizeof enc, want, NULL, 0);
        CHECK_EQ(n, gold_len);
        if (n == (ssize_t)gold_len)
                CHECK_MEM(enc, gold, gold_len);
        rc = smx_pdu_decode(gold, gold_len, NULL, got, &v);
        CHECK_EQ(rc, SMX_PDU_OK);
        CHECK_EQ(v.action, SMX_ACT_NONE);
        CHECK_EQ(got->h.command_length, gold_len);
        CHECK_EQ(got->h.command_id, want->h.command_id);
        CHECK_EQ(got->h.command_status, want->h.command_status);
        CHECK_EQ(got->h.sequence_number, want->h.sequence_number);
        CHECK_EQ(got->flags, 0);
        return rc;
}

static void header_only(const char *hex, uint32_t id, uint32_t status, uint32_t seq)
{
        struct smx_pdu want = new_pdu(id, status, seq), got;
        ssize_t n;

        g_reset();
        g_hex(hex);
        both_ways(&want, &got);
        CHECK_EQ(got.tlv.count, 0);
        n = smx_pdu_encode_header_only(enc, sizeof enc, id, status, seq);
        CHECK_EQ(n, 16);
        CHECK_MEM(enc, gold, 16);
}

/* ---- SMPP.md §1 example frames ---- */

static void test_smpp_md_enquire_link_seq1(void)
{
        header_only("00000010 00000015 00000000 00000001", SMPP_ENQUIRE_LINK, 0, 1);
}

static void test_smpp_md_generic_nack_rinvcmdid_seq7(void)
{
        header_only("00000010 80000000 00000003 00000007", SMPP_GENERIC_NACK, SMPP_ESME_RINVCMDID, 7);
}

static void test_smpp_md_submit_sm_resp_throttled_no_body(void)
{
        struct smx_pdu want = new_pdu(SMPP_SUBMIT_SM_RESP, SMPP_ESME_RTHROTTLED, 42), got;

        g_reset();
        g_hex("00000010 80000004 00000058 0000002a");
        both_ways(&want, &got);
        CHECK_EQ(got.u.sm_resp.message_id.len, 0);
}

static void test_smpp_md_bind_resp_lone_nul_decodes(void)
{
        /* python-smpplib issue #54, quoted in SMPP.md §3 bind_*_resp */
        struct smx_pdu got;
        struct smx_pdu_verdict v;

        g_reset();
        g_hex("00000011 80000002 0000000d 00000001 00");
        CHECK_EQ(smx_pdu_decode(gold, gold_len, NULL, &got, &v), SMX_PDU_OK);
        CHECK_EQ(got.h.command_status, SMPP_ESME_RBINDFAIL);
        CHECK_EQ(got.u.bind_resp.system_id.len, 0);
        CHECK_EQ(got.flags, 0);
}

static void test_smpp_md_error_resp_with_message_id_both_ways(void)
{
        /* jasmin issue #128 (SMPP.md §3 submit_sm_resp, HOSTILE.md B-05) */
        struct smx_pdu want = new_pdu(SMPP_SUBMIT_SM_RESP, SMPP_ESME_RINVSRCADR, 2), got;

        g_reset();
        g_hex("00000019 80000004 0000000a 00000002 3030303030303030 00");
        want.u.sm_resp.message_id = S("00000000");
        both_ways(&want, &got);
        CHECK_VIEW(got.u.sm_resp.message_id, "00000000");
}

/* ---- header-only PDUs ---- */

static void test_enquire_link_resp(void)
{
        header_only("00000010 80000015 00000000 00000001", SMPP_ENQUIRE_LINK_RESP, 0, 1);
}

static void test_unbind(void)
{
        header_only("00000010 00000006 00000000 00000005", SMPP_UNBIND, 0, 5);
}

static void test_unbind_resp(void)
{
        header_only("00000010 80000006 00000000 00000005", SMPP_UNBIND_RESP, 0, 5);
}

static void test_cancel_sm_resp(void)
{
        header_only("00000010 80000008 00000000 00000010", SMPP_CANCEL_SM_RESP, 0, 16);
}

static void test_replace_sm_resp(void)
{
        header_only("00000010 80000007 00000011 7fffffff", SMPP_REPLACE_SM_RESP, SMPP_ESME_RCANCELFAIL,
                    0x7fffffff);
}

/* ---- binds ---- */

static void bind_vector(uint32_t id, uint32_t seq, const char *idhex, const char *seqhex)
{
        struct smx_pdu want = new_pdu(id, 0, seq), got;

        g_reset();
        g_hex("00000023");
        g_hex(idhex);
        g_hex("00000000");
        g_hex(seqhex);
        g_hex("736d736d7578 00  736563726574 00  00  34 00 00  00");
        want.u.bind.system_id = S("smsmux");
        want.u.bind.password = S("secret");
        want.u.bind.system_type = S("");
        want.u.bind.interface_version = SMPP_VERSION_34;
        want.u.bind.address_range = S("");
        both_ways(&want, &got);
        CHECK_VIEW(got.u.bind.system_id, "smsmux");
        CHECK_VIEW(got.u.bind.password, "secret");
        CHECK_VIEW(got.u.bind.system_type, "");
        CHECK_EQ(got.u.bind.interface_version, 0x34);
        CHECK_EQ(got.u.bind.addr_ton, 0);
        CHECK_EQ(got.u.bind.addr_npi, 0);
        CHECK_VIEW(got.u.bind.address_range, "");
        CHECK_EQ(got.tlv.count, 0);
}

static void test_bind_transmitter(void)
{
        bind_vector(SMPP_BIND_TRANSMITTER, 1, "00000002", "00000001");
}

static void test_bind_receiver(void)
{
        bind_vector(SMPP_BIND_RECEIVER, 2, "00000001", "00000002");
}

static void test_bind_transceiver_with_address_range(void)
{
        struct smx_pdu want = new_pdu(SMPP_BIND_TRANSCEIVER, 0, 3), got;

        g_reset();
        /* 16 + 7 + 7 + 4 ("VMA"+NUL) + 3 + 4 ("447"+NUL) = 41 */
        g_hex("00000029 00000009 00000000 00000003");
        g_hex("736d736d7578 00  736563726574 00  564d41 00  34 01 01  343437 00");
        want.u.bind.system_id = S("smsmux");
        want.u.bind.password = S("secret");
        want.u.bind.system_type = S("VMA");
        want.u.bind.interface_version = SMPP_VERSION_34;
        want.u.bind.addr_ton = 1;
        want.u.bind.addr_npi = 1;
        want.u.bind.address_range = S("447");
        both_ways(&want, &got);
        CHECK_VIEW(got.u.bind.system_type, "VMA");
        CHECK_EQ(got.u.bind.addr_ton, 1);
        CHECK_EQ(got.u.bind.addr_npi, 1);
        CHECK_VIEW(got.u.bind.address_range, "447");
}

static void test_bind_transmitter_resp(void)
{
        struct smx_pdu want = new_pdu(SMPP_BIND_TRANSMITTER_RESP, 0, 1), got;

        g_reset();
        g_hex("00000016 80000002 00000000 00000001  534d534331 00");
        want.u.bind_resp.system_id = S("SMSC1");
        both_ways(&want, &got);
        CHECK_VIEW(got.u.bind_resp.system_id, "SMSC1");
        CHECK_EQ(got.tlv.present, 0);
}

static void test_bind_transceiver_resp_with_sc_interface_version(void)
{
        struct smx_pdu want = new_pdu(SMPP_BIND_TRANSCEIVER_RESP, 0, 3), got;

        g_reset();
        g_hex("0000001b 80000009 00000000 00000003  534d534331 00  0210 0001 34");
        want.u.bind_resp.system_id = S("SMSC1");
        want.tlv.present = SMX_TLV_SC_INTERFACE_VERSION;
        want.tlv.sc_interface_version = 0x34;
        both_ways(&want, &got);
        CHECK_VIEW(got.u.bind_resp.system_id, "SMSC1");
        CHECK_EQ(got.tlv.present, SMX_TLV_SC_INTERFACE_VERSION);
        CHECK_EQ(got.tlv.sc_interface_version, 0x34);
        CHECK_EQ(got.tlv.count, 1);
}

static void test_bind_receiver_resp_error_header_only(void)
{
        struct smx_pdu want = new_pdu(SMPP_BIND_RECEIVER_RESP, SMPP_ESME_RBINDFAIL, 2), got;

        g_reset();
        g_hex("00000010 80000001 0000000d 00000002");
        both_ways(&want, &got);
        CHECK_EQ(got.u.bind_resp.system_id.len, 0);
}

static void test_outbind(void)
{
        struct smx_pdu want = new_pdu(SMPP_OUTBIND, 0, 1), got;

        g_reset();
        g_hex("00000019 0000000b 00000000 00000001  534d534331 00  7077 00");
        want.u.outbind.system_id = S("SMSC1");
        want.u.outbind.password = S("pw");
        both_ways(&want, &got);
        CHECK_VIEW(got.u.outbind.system_id, "SMSC1");
        CHECK_VIEW(got.u.outbind.password, "pw");
}

/* ---- submit_sm and its responses ---- */

static void test_submit_sm_with_validity_and_identity(void)
{
        static const uint8_t ident[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0x2a };
        struct smx_pdu want = new_pdu(SMPP_SUBMIT_SM, 0, 2), got;

        g_reset();
        /* body 56 + TLV 20 = 92 */
        g_hex("0000005c 00000004 00000000 00000002");
        g_hex("00  05 00  534d534d5558 00  01 01  343437373030393030313233 00");
        g_hex("00 00 00  00  303030303031303030303030303030 52 00");
        g_hex("01 00 00 00  05  68656c6c6f");
        g_hex("1401 0010  0102030405060708 000000000000002a");
        want.u.sm.service_type = S("");
        want.u.sm.source_addr_ton = 5;
        want.u.sm.source_addr = S("SMSMUX");
        want.u.sm.dest_addr_ton = 1;
        want.u.sm.dest_addr_npi = 1;
        want.u.sm.destination_addr = S("447700900123");
        want.u.sm.schedule_delivery_time = S("");
        want.u.sm.validity_period = S("000001000000000R");
        want.u.sm.registered_delivery = SMPP_REGDEL_FINAL;
        want.u.sm.short_message = S("hello");
        want.tlv.present = SMX_TLV_SMX_MSG_IDENTITY;
        want.tlv.smx_msg_identity.p = ident;
        want.tlv.smx_msg_identity.len = sizeof ident;
        both_ways(&want, &got);
        CHECK_VIEW(got.u.sm.service_type, "");
        CHECK_EQ(got.u.sm.source_addr_ton, 5);
        CHECK_EQ(got.u.sm.source_addr_npi, 0);
        CHECK_VIEW(got.u.sm.source_addr, "SMSMUX");
        CHECK_EQ(got.u.sm.dest_addr_ton, 1);
        CHECK_EQ(got.u.sm.dest_addr_npi, 1);
        CHECK_VIEW(got.u.sm.destination_addr, "447700900123");
        CHECK_EQ(got.u.sm.esm_class, 0);
        CHECK_VIEW(got.u.sm.schedule_delivery_time, "");
        CHECK_VIEW(got.u.sm.validity_period, "000001000000000R");
        CHECK_EQ(got.u.sm.registered_delivery, 1);
        CHECK_VIEW(got.u.sm.short_message, "hello");
        CHECK_EQ(got.tlv.present, SMX_TLV_SMX_MSG_IDENTITY);
        CHECK_EQ(got.tlv.smx_msg_identity.len, 16);
        CHECK_MEM(got.tlv.smx_msg_identity.p, ident, 16);
        CHECK_EQ(got.tlv.count, 1);
        CHECK_EQ(got.tlv.unknown, 0);
}

static void test_submit_sm_payload_and_sar(void)
{
        struct smx_pdu want = new_pdu(SMPP_SUBMIT_SM, 0, 0x0102), got;

        g_reset();
        /* body 29 + TLVs 8+6+5+5 = 69 */
        g_hex("00000045 00000004 00000000 00000102");
        g_hex("00  00 00  00  01 01  343437373030393030313233 00");
        g_hex("00 00 01  00  00  01 00 08 00  00");
        g_hex("0424 0004 00480069  020c 0002 002a  020e 0001 02  020f 0001 01");
        want.u.sm.dest_addr_ton = 1;
        want.u.sm.dest_addr_npi = 1;
        want.u.sm.destination_addr = S("447700900123");
        want.u.sm.priority_flag = 1;
        want.u.sm.registered_delivery = 1;
        want.u.sm.data_coding = SMPP_DCS_UCS2;
        want.tlv.present = SMX_TLV_MESSAGE_PAYLOAD | SMX_TLV_SAR_MSG_REF_NUM |
                           SMX_TLV_SAR_TOTAL_SEGMENTS | SMX_TLV_SAR_SEGMENT_SEQNUM;
        want.tlv.message_payload.p = (const uint8_t *)"\x00H\x00i";
        want.tlv.message_payload.len = 4;
        want.tlv.sar_msg_ref_num = 0x2a;
        want.tlv.sar_total_segments = 2;
        want.tlv.sar_segment_seqnum = 1;
        both_ways(&want, &got);
        CHECK_EQ(got.u.sm.priority_flag, 1);
        CHECK_EQ(got.u.sm.data_coding, 8);
        CHECK_EQ(got.u.sm.short_message.len, 0);
        CHECK_EQ(got.tlv.present, want.tlv.present);
        CHECK_EQ(got.tlv.message_payload.len, 4);
        CHECK_MEM(got.tlv.message_payload.p, "\x00H\x00i", 4);
        CHECK_EQ(got.tlv.sar_msg_ref_num, 0x2a);
        CHECK_EQ(got.tlv.sar_total_segments, 2);
        CHECK_EQ(got.tlv.sar_segment_seqnum, 1);
        CHECK_EQ(got.tlv.count, 4);
}

static void test_submit_sm_resp_full(void)
{
        struct smx_pdu want = new_pdu(SMPP_SUBMIT_SM_RESP, 0, 2), got;

        g_reset();
        g_hex("00000017 80000004 00000000 00000002  346632613963 00");
        want.u.sm_resp.message_id = S("4f2a9c");
        both_ways(&want, &got);
        CHECK_VIEW(got.u.sm_resp.message_id, "4f2a9c");
}

static void test_submit_sm_resp_lone_nul(void)
{
        struct smx_pdu want = new_pdu(SMPP_SUBMIT_SM_RESP, 0, 2), got;

        g_reset();
        g_hex("00000011 80000004 00000000 00000002 00");
        want.u.sm_resp.message_id = S("");
        both_ways(&want, &got);
        CHECK_EQ(got.u.sm_resp.message_id.len, 0);
}

/* ---- deliver_sm: HOSTILE.md base PDUs ---- */

static void mo_body(uint8_t esm)
{
        char esmhex[4];

        g_hex("00  01 01");
        g_str("447700900000");
        g_hex("00  01 01");
        g_str("12025550100");
        snprintf(esmhex, sizeof esmhex, "%02x", esm);
        g_hex("00");
        g_hex(esmhex);
        g_hex("00 00  00  00  00 00 00 00");
}

static void sm_fill_mo(struct smx_pdu *p, uint8_t esm)
{
        p->u.sm.service_type = S("");
        p->u.sm.source_addr_ton = 1;
        p->u.sm.source_addr_npi = 1;
        p->u.sm.source_addr = S("447700900000");
        p->u.sm.dest_addr_ton = 1;
        p->u.sm.dest_addr_npi = 1;
        p->u.sm.destination_addr = S("12025550100");
        p->u.sm.esm_class = esm;
}

static void test_hostile_base_mo_deliver_sm(void)
{
        struct smx_pdu want = new_pdu(SMPP_DELIVER_SM, 0, 9), got;

        g_reset();
        g_hex("0000003a 00000005 00000000 00000009");
        mo_body(0x00);
        g_hex("02");
        g_str("hi");
        CHECK_EQ(gold_len, 58);
        sm_fill_mo(&want, 0);
        want.u.sm.short_message = S("hi");
        both_ways(&want, &got);
        CHECK_VIEW(got.u.sm.source_addr, "447700900000");
        CHECK_VIEW(got.u.sm.destination_addr, "12025550100");
        CHECK_EQ(got.u.sm.esm_class, 0);
        CHECK_VIEW(got.u.sm.short_message, "hi");
        CHECK_EQ(got.tlv.count, 0);
}

#define DR_TEXT "id:0123456789 sub:001 dlvrd:001 submit date:2401011200 " \
                "done date:2401011201 stat:DELIVRD err:000 text:hello"

static void test_hostile_base_dr_deliver_sm(void)
{
        struct smx_pdu want = new_pdu(SMPP_DELIVER_SM, 0, 9), got;

        g_reset();
        /* 16 + 40 + 107 (text) + 11 + 5 = 179 */
        g_hex("000000b3 00000005 00000000 00000009");
        mo_body(0x04);
        g_hex("6b");
        g_str(DR_TEXT);
        g_hex("001e 0007");
        g_str("4f2a9c");
        g_hex("00  0427 0001 02");
        CHECK_EQ(gold_len, 179);
        sm_fill_mo(&want, SMPP_ESM_TYPE_SMSC_DR);
        want.u.sm.short_message = S(DR_TEXT);
        want.tlv.present = SMX_TLV_RECEIPTED_MESSAGE_ID | SMX_TLV_MESSAGE_STATE;
        want.tlv.receipted_message_id = S("4f2a9c");
        want.tlv.message_state = SMPP_STATE_DELIVERED;
        both_ways(&want, &got);
        CHECK_EQ(got.u.sm.esm_class & SMPP_ESM_TYPE_MASK, SMPP_ESM_TYPE_SMSC_DR);
        CHECK_EQ(got.u.sm.short_message.len, 107);
        CHECK_VIEW(got.u.sm.short_message, DR_TEXT);
        CHECK_EQ(got.tlv.present, SMX_TLV_RECEIPTED_MESSAGE_ID | SMX_TLV_MESSAGE_STATE);
        CHECK_VIEW(got.tlv.receipted_message_id, "4f2a9c");
        CHECK_EQ(got.tlv.message_state, 2);
        CHECK_EQ(got.tlv.count, 2);
        CHECK_EQ(got.tlv.tlv_len, 16);
}

static void test_deliver_sm_resp_empty_message_id(void)
{
        struct smx_pdu want = new_pdu(SMPP_DELIVER_SM_RESP, 0, 9), got;
        ssize_t n;

        g_reset();
        g_hex("00000011 80000005 00000000 00000009 00");
        both_ways(&want, &got);
        CHECK_EQ(got.u.sm_resp.message_id.len, 0);
        n = smx_pdu_encode_empty_resp(enc, sizeof enc, SMPP_DELIVER_SM_RESP, 0, 9);
        CHECK_EQ(n, 17);
        CHECK_MEM(enc, gold, 17);
}

static void test_deliver_sm_resp_rx_t_appn_keeps_message_id(void)
{
        struct smx_pdu want = new_pdu(SMPP_DELIVER_SM_RESP, SMPP_ESME_RX_T_APPN, 10), got;

        g_reset();
        g_hex("00000011 80000005 00000064 0000000a 00");
        both_ways(&want, &got);
}

/* ---- data_sm ---- */

static void test_data_sm_receipt(void)
{
        struct smx_pdu want = new_pdu(SMPP_DATA_SM, 0, 4), got;

        g_reset();
        /* body 28 + TLVs 11 + 5 + 7 = 67 */
        g_hex("00000043 00000103 00000000 00000004");
        g_hex("00  01 01  343437373030393030303030 00  00 00  534d534d5558 00  04 00 00");
        g_hex("001e 0007 346632613963 00  0427 0001 05  0423 0003 03 0001");
        want.u.sm.source_addr_ton = 1;
        want.u.sm.source_addr_npi = 1;
        want.u.sm.source_addr = S("447700900000");
        want.u.sm.destination_addr = S("SMSMUX");
        want.u.sm.esm_class = SMPP_ESM_TYPE_SMSC_DR;
        want.tlv.present = SMX_TLV_RECEIPTED_MESSAGE_ID | SMX_TLV_MESSAGE_STATE |
                           SMX_TLV_NETWORK_ERROR_CODE;
        want.tlv.receipted_message_id = S("4f2a9c");
        want.tlv.message_state = SMPP_STATE_UNDELIVERABLE;
        want.tlv.network_error_type = 3;
        want.tlv.network_error_code = 1;
        both_ways(&want, &got);
        CHECK_VIEW(got.u.sm.source_addr, "447700900000");
        CHECK_VIEW(got.u.sm.destination_addr, "SMSMUX");
        CHECK_EQ(got.u.sm.esm_class, 4);
        CHECK_EQ(got.u.sm.short_message.len, 0);
        CHECK_EQ(got.u.sm.validity_period.len, 0);
        CHECK_VIEW(got.tlv.receipted_message_id, "4f2a9c");
        CHECK_EQ(got.tlv.message_state, 5);
        CHECK_EQ(got.tlv.network_error_type, 3);
        CHECK_EQ(got.tlv.network_error_code, 1);
}

static void test_data_sm_long_addresses(void)
{
        struct smx_pdu want = new_pdu(SMPP_DATA_SM, 0, 5), got;

        g_reset();
        /* 40-char source_addr: legal in data_sm (max 65), not in submit_sm.
         * body 1 + 2 + 41 + 2 + 2 + 3 = 51 -> 67 */
        g_hex("00000043 00000103 00000000 00000005  00  05 00");
        g_str("abcdefghijabcdefghijabcdefghijabcdefghij");
        g_hex("00  00 00  41 00  00 01 02");
        want.u.sm.source_addr_ton = 5;
        want.u.sm.source_addr = S("abcdefghijabcdefghijabcdefghijabcdefghij");
        want.u.sm.destination_addr = S("A");
        want.u.sm.registered_delivery = 1;
        want.u.sm.data_coding = 2;
        both_ways(&want, &got);
        CHECK_EQ(got.u.sm.source_addr.len, 40);
        CHECK_VIEW(got.u.sm.destination_addr, "A");
        CHECK_EQ(got.u.sm.registered_delivery, 1);
        CHECK_EQ(got.u.sm.data_coding, 2);
}

static void test_data_sm_resp_empty(void)
{
        struct smx_pdu want = new_pdu(SMPP_DATA_SM_RESP, 0, 4), got;
        ssize_t n;

        g_reset();
        g_hex("00000011 80000103 00000000 00000004 00");
        both_ways(&want, &got);
        n = smx_pdu_encode_empty_resp(enc, sizeof enc, SMPP_DATA_SM_RESP, 0, 4);
        CHECK_EQ(n, 17);
        CHECK_MEM(enc, gold, 17);
}

static void test_data_sm_resp_delivery_failure_reason(void)
{
        struct smx_pdu want = new_pdu(SMPP_DATA_SM_RESP, SMPP_ESME_RDELIVERYFAILURE, 5), got;

        g_reset();
        g_hex("00000016 80000103 000000fe 00000005  00  0425 0001 03");
        want.tlv.present = SMX_TLV_DELIVERY_FAILURE_REASON;
        want.tlv.delivery_failure_reason = 3;
        both_ways(&want, &got);
        CHECK_EQ(got.tlv.present, SMX_TLV_DELIVERY_FAILURE_REASON);
        CHECK_EQ(got.tlv.delivery_failure_reason, 3);
}

/* ---- alert_notification ---- */

static void test_alert_notification(void)
{
        struct smx_pdu want = new_pdu(SMPP_ALERT_NOTIFICATION, 0, 6), got;

        g_reset();
        g_hex("0000002d 00000102 00000000 00000006");
        g_hex("01 01 343437373030393030303030 00  00 00 534d534d5558 00  0422 0001 00");
        want.u.sm.source_addr_ton = 1;
        want.u.sm.source_addr_npi = 1;
        want.u.sm.source_addr = S("447700900000");
        want.u.sm.destination_addr = S("SMSMUX");
        want.tlv.present = SMX_TLV_MS_AVAILABILITY_STATUS;
        want.tlv.ms_availability_status = 0;
        both_ways(&want, &got);
        CHECK_VIEW(got.u.sm.source_addr, "447700900000");
        CHECK_VIEW(got.u.sm.destination_addr, "SMSMUX");
        CHECK_EQ(got.tlv.present, SMX_TLV_MS_AVAILABILITY_STATUS);
        CHECK_EQ(got.tlv.ms_availability_status, 0);
}

/* ---- every known TLV in one PDU, in SMX_TLV_* bit order ---- */

static void test_deliver_sm_every_known_tlv(void)
{
        static const uint8_t ident[3] = { 0xaa, 0xbb, 0xcc };
        struct smx_pdu want = new_pdu(SMPP_DELIVER_SM, 0, 11), got;

        g_reset();
        /* body 40 (sm_length 0) + TLVs:
         * 001e:8 0427:5 0423:7 0424:6 020c:6 020e:5 020f:5 0210:5 0204:6 020a:6
         * 020b:6 0019:5 0426:5 0425:5 1401:7 001d:7 0428:5 0422:5 = 104 -> 160 */
        g_hex("000000a0 00000005 00000000 0000000b");
        mo_body(0x04);
        g_hex("00");
        g_hex("001e 0004 616263 00");
        g_hex("0427 0001 02");
        g_hex("0423 0003 08 0401");
        g_hex("0424 0002 6869");
        g_hex("020c 0002 1234");
        g_hex("020e 0001 03");
        g_hex("020f 0001 02");
        g_hex("0210 0001 34");
        g_hex("0204 0002 beef");
        g_hex("020a 0002 1f90");
        g_hex("020b 0002 0050");
        g_hex("0019 0001 01");
        g_hex("0426 0001 01");
        g_hex("0425 0001 02");
        g_hex("1401 0003 aabbcc");
        g_hex("001d 0003 6f6b 00");
        g_hex("0428 0001 50");
        g_hex("0422 0001 02");
        sm_fill_mo(&want, 4);
        want.tlv.present = (SMX_TLV_MS_AVAILABILITY_STATUS << 1) - 1;
        want.tlv.receipted_message_id = S("abc");
        want.tlv.message_state = 2;
        want.tlv.network_error_type = 8;
        want.tlv.network_error_code = 0x0401;
        want.tlv.message_payload = S("hi");
        want.tlv.sar_msg_ref_num = 0x1234;
        want.tlv.sar_total_segments = 3;
        want.tlv.sar_segment_seqnum = 2;
        want.tlv.sc_interface_version = 0x34;
        want.tlv.user_message_reference = 0xbeef;
        want.tlv.source_port = 8080;
        want.tlv.destination_port = 80;
        want.tlv.payload_type = 1;
        want.tlv.more_messages_to_send = 1;
        want.tlv.delivery_failure_reason = 2;
        want.tlv.smx_msg_identity.p = ident;
        want.tlv.smx_msg_identity.len = 3;
        want.tlv.additional_status_info_text = S("ok");
        want.tlv.congestion_state = 80;
        want.tlv.ms_availability_status = 2;
        both_ways(&want, &got);
        CHECK_EQ(got.tlv.present, want.tlv.present);
        CHECK_EQ(got.tlv.count, 18);
        CHECK_EQ(got.tlv.unknown, 0);
        CHECK_EQ(got.tlv.invalid, 0);
        CHECK_VIEW(got.tlv.receipted_message_id, "abc");
        CHECK_EQ(got.tlv.message_state, 2);
        CHECK_EQ(got.tlv.network_error_type, 8);
        CHECK_EQ(got.tlv.network_error_code, 0x0401);
        CHECK_VIEW(got.tlv.message_payload, "hi");
        CHECK_EQ(got.tlv.sar_msg_ref_num, 0x1234);
        CHECK_EQ(got.tlv.sar_total_segments, 3);
        CHECK_EQ(got.tlv.sar_segment_seqnum, 2);
        CHECK_EQ(got.tlv.sc_interface_version, 0x34);
        CHECK_EQ(got.tlv.user_message_reference, 0xbeef);
        CHECK_EQ(got.tlv.source_port, 8080);
        CHECK_EQ(got.tlv.destination_port, 80);
        CHECK_EQ(got.tlv.payload_type, 1);
        CHECK_EQ(got.tlv.more_messages_to_send, 1);
        CHECK_EQ(got.tlv.delivery_failure_reason, 2);
        CHECK_EQ(got.tlv.smx_msg_identity.len, 3);
        CHECK_MEM(got.tlv.smx_msg_identity.p, ident, 3);
        CHECK_VIEW(got.tlv.additional_status_info_text, "ok");
        CHECK_EQ(got.tlv.congestion_state, 80);
        CHECK_EQ(got.tlv.ms_availability_status, 2);
}

static void test_extra_raw_tlvs_follow_known_ones(void)
{
        struct smx_pdu want = new_pdu(SMPP_SUBMIT_SM_RESP, 0, 3), got;
        struct smx_tlv_raw extra[2] = {
                { 0x1403, 2, (const uint8_t *)"\x01\x02" },
                { SMPP_TAG_ALERT_ON_MESSAGE_DELIVERY, 0, NULL },
        };
        struct smx_pdu_verdict v;
        ssize_t n;

        g_reset();
        g_hex("00000022 80000004 00000000 00000003  3132 00  0428 0001 00  1403 0002 0102  130c 0000");
        want.u.sm_resp.message_id = S("12");
        want.tlv.present = SMX_TLV_CONGESTION_STATE;
        n = smx_pdu_encode(enc, sizeof enc, &want, extra, 2);
        CHECK_EQ(n, gold_len);
        CHECK_MEM(enc, gold, gold_len);
        CHECK_EQ(smx_pdu_decode(gold, gold_len, NULL, &got, &v), SMX_PDU_OK);
        CHECK_VIEW(got.u.sm_resp.message_id, "12");
        CHECK_EQ(got.tlv.count, 3);
        CHECK_EQ(got.tlv.unknown, 2);
        CHECK_EQ(got.tlv.present, SMX_TLV_CONGESTION_STATE);
}

/* ---- recognised, not used: decoded header-only, answered by state ---- */

static void recognised(const char *hex, uint32_t id, int has_resp)
{
        struct smx_pdu got;
        struct smx_pdu_verdict v;

        g_reset();
        g_hex(hex);
        CHECK_EQ(smx_get_u32(gold), gold_len);
        CHECK_EQ(smx_pdu_decode(gold, gold_len, NULL, &got, &v), SMX_PDU_OK);
        CHECK_EQ(got.h.command_id, id);
        CHECK_EQ(v.action, SMX_ACT_NONE);
        CHECK_EQ(smx_command_has_resp(id), has_resp);
        CHECK(strcmp(smx_command_name(id), "unknown") != 0);
}

static void test_query_sm_recognised(void)
{
        /* message_id "4f2a9c", ton 1, npi 1, source_addr "" */
        recognised("0000001a 00000003 00000000 00000007  346632613963 00  01 01 00", SMPP_QUERY_SM, 1);
}

static void test_query_sm_resp_recognised(void)
{
        recognised("0000001a 80000003 00000000 00000007  346632613963 00  00  02 00",
                   SMPP_QUERY_SM_RESP, 0);
}

static void test_cancel_sm_recognised(void)
{
        /* service_type "", message_id "1", 0 0 "", 0 0 "" */
        recognised("00000019 00000008 00000000 00000008  00 3100 00 00 00 00 00 00", SMPP_CANCEL_SM, 1);
}

static void test_replace_sm_recognised(void)
{
        /* message_id "1", 0 0 "", sched "", validity "", regdel, default id, sm_length 0 */
        recognised("0000001a 00000007 00000000 00000009  3100 00 00 00 00 00 00 00 00", SMPP_REPLACE_SM, 1);
}

static void test_submit_multi_recognised(void)
{
        /* "" 0 0 "" , 1 dest: flag 1, 1 1 "1", esm.. sm_length 0 */
        recognised("00000024 00000021 00000000 0000000a  00 00 00 00  01 01 01 01 3100"
                   "  00 00 00 00 00 00 00 00 00 00", SMPP_SUBMIT_MULTI, 1);
}

static void test_submit_multi_resp_recognised(void)
{
        recognised("00000013 80000021 00000000 0000000a  3100 00", SMPP_SUBMIT_MULTI_RESP, 0);
}

static void test_broadcast_sm_recognised(void)
{
        recognised("00000010 00000111 00000000 0000000b", SMPP_BROADCAST_SM, 1);
        recognised("00000010 00000112 00000000 0000000c", SMPP_QUERY_BROADCAST_SM, 1);
        recognised("00000010 00000113 00000000 0000000d", SMPP_CANCEL_BROADCAST_SM, 1);
}

/* ---- encoder guards ---- */

static void test_encode_rejects_overlong_source_addr(void)
{
        struct smx_pdu p = new_pdu(SMPP_SUBMIT_SM, 0, 1);

        p.u.sm.source_addr = S("123456789012345678901"); /* 21 chars: max is 20 + NUL */
        CHECK_EQ(smx_pdu_encode(enc, sizeof enc, &p, NULL, 0), -EINVAL);
        p.u.sm.source_addr = S("12345678901234567890");
        CHECK(smx_pdu_encode(enc, sizeof enc, &p, NULL, 0) > 0);
}

static void test_encode_rejects_nul_inside_cstring(void)
{
        struct smx_pdu p = new_pdu(SMPP_BIND_TRANSCEIVER, 0, 1);

        p.u.bind.system_id = S("ab\0cd");
        CHECK_EQ(smx_pdu_encode(enc, sizeof enc, &p, NULL, 0), -EINVAL);
}

/* SMX_PDUF_CSTR_CHECKED (the worker's submit_sm: addresses measured with
 * strnlen) skips only the NUL scan: an inner NUL is refused without the
 * flag, the lengths are checked with it, and both encode the same bytes. */
static void test_encode_cstr_checked_skips_the_nul_scan_not_the_length_check(void)
{
        struct smx_pdu p = new_pdu(SMPP_SUBMIT_SM, 0, 1);
        uint8_t plain[128];

        p.u.sm.destination_addr = S("4477\0" "00900001");
        CHECK_EQ(smx_pdu_encode(enc, sizeof enc, &p, NULL, 0), -EINVAL);
        p.u.sm.destination_addr = S("447700900001");
        p.u.sm.source_addr = S("12345");
        ssize_t n = smx_pdu_encode(plain, sizeof plain, &p, NULL, 0);
        CHECK(n > 0);
        p.flags = SMX_PDUF_CSTR_CHECKED;
        CHECK_EQ(smx_pdu_encode(enc, sizeof enc, &p, NULL, 0), n);
        CHECK_MEM(enc, plain, (size_t)n);
        p.u.sm.source_addr = S("123456789012345678901"); /* 21 chars: max is 20 + NUL */
        CHECK_EQ(smx_pdu_encode(enc, sizeof enc, &p, NULL, 0), -EINVAL);
        p.u.sm.source_addr = S("12345");
        p.u.sm.destination_addr = S("123456789012345678901");
        CHECK_EQ(smx_pdu_encode(enc, sizeof enc, &p, NULL, 0), -EINVAL);
}

static void test_encode_rejects_time_of_wrong_length(void)
{
        struct smx_pdu p = new_pdu(SMPP_SUBMIT_SM, 0, 1);

        p.u.sm.validity_period = S("2401011200");
        CHECK_EQ(smx_pdu_encode(enc, sizeof enc, &p, NULL, 0), -EINVAL);
}

static void test_encode_rejects_short_message_over_254(void)
{
        static uint8_t text[255];
        struct smx_pdu p = new_pdu(SMPP_SUBMIT_SM, 0, 1);

        p.u.sm.short_message.p = text;
        p.u.sm.short_message.len = 255;
        CHECK_EQ(smx_pdu_encode(enc, sizeof enc, &p, NULL, 0), -EINVAL);
        p.u.sm.short_message.len = 254;
        CHECK_EQ(smx_pdu_encode(enc, sizeof enc, &p, NULL, 0), 16 + 17 + 254);
}

static void test_encode_rejects_identity_over_64(void)
{
        static uint8_t ident[65];
        struct smx_pdu p = new_pdu(SMPP_SUBMIT_SM, 0, 1);

        p.tlv.present = SMX_TLV_SMX_MSG_IDENTITY;
        p.tlv.smx_msg_identity.p = ident;
        p.tlv.smx_msg_identity.len = 65;
        CHECK_EQ(smx_pdu_encode(enc, sizeof enc, &p, NULL, 0), -EINVAL);
        p.tlv.smx_msg_identity.len = 0;
        CHECK_EQ(smx_pdu_encode(enc, sizeof enc, &p, NULL, 0), -EINVAL);
}

static void test_encode_rejects_unknown_command_id(void)
{
        struct smx_pdu p = new_pdu(0x00000099, 0, 1);

        CHECK_EQ(smx_pdu_encode(enc, sizeof enc, &p, NULL, 0), -EINVAL);
}

static void test_encode_enospc_writes_nothing(void)
{
        struct smx_pdu p = new_pdu(SMPP_SUBMIT_SM_RESP, 0, 1);
        uint8_t small[20];

        memset(small, 0xee, sizeof small);
        p.u.sm_resp.message_id = S("4f2a9c"); /* needs 23 */
        CHECK_EQ(smx_pdu_encode(small, 22, &p, NULL, 0), -ENOSPC);
        for (size_t i = 0; i < sizeof small; i++)
                CHECK_EQ(small[i], 0xee);
        CHECK_EQ(smx_pdu_encode_header_only(small, 15, SMPP_ENQUIRE_LINK, 0, 1), -ENOSPC);
        CHECK_EQ(smx_pdu_encode_empty_resp(small, 16, SMPP_DELIVER_SM_RESP, 0, 1), -ENOSPC);
        CHECK_EQ(small[0], 0xee);
}

int main(void)
{
        RUN(test_smpp_md_enquire_link_seq1);
        RUN(test_smpp_md_generic_nack_rinvcmdid_seq7);
        RUN(test_smpp_md_submit_sm_resp_throttled_no_body);
        RUN(test_smpp_md_bind_resp_lone_nul_decodes);
        RUN(test_smpp_md_error_resp_with_message_id_both_ways);
        RUN(test_enquire_link_resp);
        RUN(test_unbind);
        RUN(test_unbind_resp);
        RUN(test_cancel_sm_resp);
        RUN(test_replace_sm_resp);
        RUN(test_bind_transmitter);
        RUN(test_bind_receiver);
        RUN(test_bind_transceiver_with_address_range);
        RUN(test_bind_transmitter_resp);
        RUN(test_bind_transceiver_resp_with_sc_interface_version);
        RUN(test_bind_receiver_resp_error_header_only);
        RUN(test_outbind);
        RUN(test_submit_sm_with_validity_and_identity);
        RUN(test_submit_sm_payload_and_sar);
        RUN(test_submit_sm_resp_full);
        RUN(test_submit_sm_resp_lone_nul);
        RUN(test_hostile_base_mo_deliver_sm);
        RUN(test_hostile_base_dr_deliver_sm);
        RUN(test_deliver_sm_resp_empty_message_id);
        RUN(test_deliver_sm_resp_rx_t_appn_keeps_message_id);
        RUN(test_data_sm_receipt);
        RUN(test_data_sm_long_addresses);
        RUN(test_data_sm_resp_empty);
        RUN(test_data_sm_resp_delivery_failure_reason);
        RUN(test_alert_notification);
        RUN(test_deliver_sm_every_known_tlv);
        RUN(test_extra_raw_tlvs_follow_known_ones);
        RUN(test_query_sm_recognised);
        RUN(test_query_sm_resp_recognised);
        RUN(test_cancel_sm_recognised);
        RUN(test_replace_sm_recognised);
        RUN(test_submit_multi_recognised);
        RUN(test_submit_multi_resp_recognised);
        RUN(test_broadcast_sm_recognised);
        RUN(test_encode_rejects_overlong_source_addr);
        RUN(test_encode_rejects_nul_inside_cstring);
        RUN(test_encode_cstr_checked_skips_the_nul_scan_not_the_length_check);
        RUN(test_encode_rejects_time_of_wrong_length);
        RUN(test_encode_rejects_short_message_over_254);
        RUN(test_encode_rejects_identity_over_64);
        RUN(test_encode_rejects_unknown_command_id);
        RUN(test_encode_enospc_writes_nothing);
        return t_done();
}
