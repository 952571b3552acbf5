/* Hostile and malformed input (HOSTILE.md groups A, B, C, E): one test per
 * entry that concerns the codec, named for it, asserting the verdict (action,
 * status, answer) or the leniency flag the entry requires. Extra tests cover
 * the neighbours of each entry (the numbering gaps), the sequence-number rules
 * and the status classes of SMPP.md §4.
 *
 * Every input is copied into a heap block of exactly its size, so a read one
 * byte past the PDU is an ASan error in the sanitizer build. */
#include <errno.h>
#include <unistd.h>

#include "pdu/pdu.h"
#include "testlib.h"

static uint8_t *wire;      /* exact-size copy of the current input */
static size_t wire_len;
static struct smx_pdu pdu;
static struct smx_pdu_verdict vd;

static const struct smx_pdu_opts lenient = { 0, 0 };
static const struct smx_pdu_opts strict = { 0, 1 };

/* Build the input from hex, with "%s"-style ASCII pieces spliced in by the
 * caller through t_hex on a scratch buffer. */
static void load(const uint8_t *b, size_t n)
{
        free(wire);
        wire = malloc(n ? n : 1);
        memcpy(wire, b, n);
        wire_len = n;
}

static void load_hex(const char *hex)
{
        uint8_t tmp[4096];
        size_t n = t_hex(hex, tmp, sizeof tmp);

        load(tmp, n);
}

/* A whole PDU from hex whose command_length is set to its byte count: for
 * body-level cases, where the frame itself is sound. */
static void load_pdu(const char *hex)
{
        uint8_t tmp[4096];
        size_t n = t_hex(hex, tmp, sizeof tmp);

        smx_put_u32(tmp, (uint32_t)n);
        load(tmp, n);
}

static int dec(const struct smx_pdu_opts *o)
{
        memset(&vd, 0x5a, sizeof vd);
        return smx_pdu_decode(wire, wire_len, o, &pdu, &vd);
}

/* The MO base PDU of HOSTILE.md up to (not including) sm_length, 39 octets. */
#define MO_HEAD_HEX "00 0101 343437373030393030303030 00 0101 3132303235353530313030 00 00 00 00 00 00 00 00 00 00"

static size_t put_hex(uint8_t *b, const char *hex) { return t_hex(hex, b, 4096); }

/* deliver_sm: header(len computed) + MO head + sm_length + sm + tail. */
static void load_deliver(uint32_t status, uint8_t esm, const uint8_t *sm, size_t smlen, uint8_t sml,
                         const char *tail_hex)
{
        uint8_t b[4096];
        size_t n = 16;

        n += put_hex(b + n, MO_HEAD_HEX);
        b[16 + 30] = esm;
        b[n++] = sml;
        if (smlen)
                memcpy(b + n, sm, smlen);
        n += smlen;
        if (tail_hex)
                n += put_hex(b + n, tail_hex);
        smx_put_u32(b, (uint32_t)n);
        smx_put_u32(b + 4, SMPP_DELIVER_SM);
        smx_put_u32(b + 8, status);
        smx_put_u32(b + 12, 9);
        load(b, n);
}

static void load_dr_with_tlvs(const char *tlv_hex)
{
        load_deliver(0, SMPP_ESM_TYPE_SMSC_DR, (const uint8_t *)"id:1 stat:DELIVRD", 17, 17, tlv_hex);
}

#define CHECK_VERDICT(rc_, err_, act_, status_, answer_) do { \
        CHECK_EQ((rc_), (err_)); CHECK_EQ(vd.action, (act_)); \
        CHECK_EQ(vd.status, (status_)); CHECK_EQ(vd.answer_id, (answer_)); \
        CHECK(vd.why != NULL); } while (0)

/* ================= A. Framing and header ================= */

static void test_a01_length_zero_closes(void)
{
        load_hex("00000000 00000005 00000000 00000001");
        CHECK_EQ(smx_frame_peek(wire, 4, 0), SMX_PDU_E_SHORT);
        CHECK_VERDICT(dec(&lenient), SMX_PDU_E_SHORT, SMX_ACT_CLOSE, SMPP_ESME_RINVCMDLEN,
                      SMPP_GENERIC_NACK);
}

static void test_a02_length_below_16_closes(void)
{
        /* OpenBSC aborted on len < 8 (K-7): every value 1..15 is a framing error */
        for (uint32_t l = 1; l < 16; l++) {
                uint8_t b[16] = { 0 };

                smx_put_u32(b, l);
                smx_put_u32(b + 4, SMPP_ENQUIRE_LINK);
                load(b, 16);
                CHECK_EQ(smx_frame_peek(wire, 4, 0), SMX_PDU_E_SHORT);
                CHECK_VERDICT(dec(&lenient), SMX_PDU_E_SHORT, SMX_ACT_CLOSE, SMPP_ESME_RINVCMDLEN,
                              SMPP_GENERIC_NACK);
        }
}

static void test_a03_length_16_on_deliver_sm_answers_rinvcmdlen(void)
{
        load_hex("00000010 00000005 00000000 00000009");
        CHECK_EQ(smx_frame_peek(wire, wire_len, 0), 16);
        CHECK_VERDICT(dec(&lenient), SMX_PDU_E_BODY_SHORT, SMX_ACT_RESP, SMPP_ESME_RINVCMDLEN,
                      SMPP_DELIVER_SM_RESP);
        CHECK_EQ(pdu.h.sequence_number, 9);
}

static long rss_pages(void)
{
        long size = 0, rss = 0;
        FILE *f = fopen("/proc/self/statm", "r");

        if (f) {
                if (fscanf(f, "%ld %ld", &size, &rss) != 2)
                        rss = 0;
                fclose(f);
        }
        return rss;
}

static void test_a05_length_1gib_rejected_from_4_bytes(void)
{
        long before, after;

        load_hex("40000000 00000005 00000000 00000001");
        before = rss_pages();
        CHECK_EQ(smx_frame_peek(wire, 4, 0), SMX_PDU_E_TOO_LONG);
        CHECK_EQ(smx_frame_peek(wire, 4, 1u << 31), 0); /* only a larger cap would wait */
        CHECK_VERDICT(dec(&lenient), SMX_PDU_E_TOO_LONG, SMX_ACT_CLOSE, SMPP_ESME_RINVCMDLEN,
                      SMPP_GENERIC_NACK);
        after = rss_pages();
        CHECK(after - before < 64); /* no 1 GiB allocation, not even a touch */
}

static void test_a04_length_above_cap_is_unsigned(void)
{
        /* 0x80000000+ must not pass a signed compare as negative */
        static const uint32_t lens[] = { 0x80000000u, 0xFFFFFFFFu, 0xFFFFFFF0u, SMPP_DEFAULT_MAX_PDU + 1 };

        for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
                uint8_t b[16] = { 0 };

                smx_put_u32(b, lens[i]);
                smx_put_u32(b + 4, SMPP_DELIVER_SM);
                load(b, 16);
                CHECK_EQ(smx_frame_peek(wire, 4, 0), SMX_PDU_E_TOO_LONG);
                CHECK_VERDICT(dec(&lenient), SMX_PDU_E_TOO_LONG, SMX_ACT_CLOSE, SMPP_ESME_RINVCMDLEN,
                              SMPP_GENERIC_NACK);
        }
}

static void test_a04_length_equal_to_cap_is_framed(void)
{
        uint8_t b[4] = { 0 };

        smx_put_u32(b, 7424);
        CHECK_EQ(smx_frame_peek(b, 4, 7424), 0); /* valid, waits for the body */
        smx_put_u32(b, 7425);
        CHECK_EQ(smx_frame_peek(b, 4, 7424), SMX_PDU_E_TOO_LONG);
}

static void test_a04_decoder_applies_the_configured_cap(void)
{
        struct smx_pdu_opts small = { 64, 0 };
        uint8_t b[65] = { 0 };

        smx_put_u32(b, 65);
        smx_put_u32(b + 4, SMPP_ENQUIRE_LINK);
        load(b, 65);
        CHECK_EQ(smx_frame_peek(wire, wire_len, 64), SMX_PDU_E_TOO_LONG);
        CHECK_EQ(dec(&small), SMX_PDU_E_TOO_LONG);
        CHECK_EQ(vd.action, SMX_ACT_CLOSE);
        smx_put_u32(wire, 64);
        CHECK_EQ(smx_frame_peek(wire, wire_len, 64), 64);
        CHECK_EQ(dec(&small), SMX_PDU_OK);
        CHECK(pdu.flags & SMX_PDUF_TRAILING_BYTES);
}

static void check_sniff(const char *hex, const char *want)
{
        load_hex(hex);
        CHECK_EQ(smx_frame_peek(wire, wire_len, 0), SMX_PDU_E_TOO_LONG);
        CHECK_STR(smx_frame_sniff(wire, wire_len), want);
}

static void test_a07_non_smpp_peer_rejected_and_named(void)
{
        char esc[64];

        check_sniff("48 54 54 50 2f 31 2e 31 20 34 30 30", "HTTP");  /* HTTP/1.1 400 */
        check_sniff("15 03 03 00 02 02 46", "TLS");                  /* TLS alert */
        check_sniff("16 03 03 00 4a 02 00 00 46 03 03", "TLS");      /* ServerHello */
        check_sniff("53 53 48 2d 32 2e 30 2d", "SSH");               /* SSH-2.0- */
        check_sniff("41 4d 51 50 00 00 09 01", "AMQP");              /* AMQP header */
        check_sniff("03 00 00 2f 2a e0 00 00", "RDP/TPKT");          /* TPKT */
        load_hex("00000010 00000015 00000000 00000001");
        CHECK(smx_frame_sniff(wire, wire_len) == NULL);
        /* the log line: first 8 bytes, printable-escaped */
        load_hex("15 03 03 00 02 02 46 0a");
        CHECK_EQ(smx_escape(wire, 8, esc, sizeof esc), 29);
        CHECK_STR(esc, "\\x15\\x03\\x03\\x00\\x02\\x02F\\x0a");
}

static void test_a07_escape_truncates_without_splitting(void)
{
        char esc[6];
        static const uint8_t in[] = { 'a', 'b', 0x01, 'c', '\\' };

        CHECK_EQ(smx_escape(in, sizeof in, esc, sizeof esc), 2); /* "ab" + no room for \x01 */
        CHECK_STR(esc, "ab");
        CHECK_EQ(smx_escape(in, sizeof in, esc, 0), 0);
        {
                char big[32];

                CHECK_EQ(smx_escape(in, sizeof in, big, sizeof big), 9);
                CHECK_STR(big, "ab\\x01c\\\\");
        }
}

static void test_a09_partial_pdu_waits(void)
{
        uint8_t b[50] = { 0 };

        smx_put_u32(b, 200);
        smx_put_u32(b + 4, SMPP_DELIVER_SM);
        CHECK_EQ(smx_frame_peek(b, sizeof b, 0), 0);
        CHECK_EQ(smx_frame_peek(b, 3, 0), 0);
}

static void test_a11_no_prefix_of_a_pdu_is_a_pdu(void)
{
        load_dr_with_tlvs("0427 0001 02");
        for (size_t n = 0; n < wire_len; n++)
                CHECK_EQ(smx_frame_peek(wire, n, 0), 0);
        CHECK_EQ(smx_frame_peek(wire, wire_len, 0), (ssize_t)wire_len);
}

static void check_unknown_request(uint32_t id)
{
        uint8_t b[16];

        smx_put_u32(b, 16);
        smx_put_u32(b + 4, id);
        smx_put_u32(b + 8, 0);
        smx_put_u32(b + 12, 77);
        load(b, 16);
        CHECK_VERDICT(dec(&lenient), SMX_PDU_E_CMDID, SMX_ACT_NACK, SMPP_ESME_RINVCMDID, SMPP_GENERIC_NACK);
        CHECK_EQ(pdu.h.sequence_number, 77);
        CHECK_EQ(smx_command_has_resp(id), 0);
}

static void test_a13_unknown_request_id_nacks_rinvcmdid(void)
{
        check_unknown_request(0x00000099);
        check_unknown_request(0x0000000A); /* reserved */
        check_unknown_request(0x00010201); /* vendor */
        check_unknown_request(0x01000001); /* Huawei SMPP+ */
}

static void test_a13_unknown_request_with_body_still_nacks(void)
{
        load_hex("00000014 00000099 00000000 00000004 01020304");
        CHECK_VERDICT(dec(&lenient), SMX_PDU_E_CMDID, SMX_ACT_NACK, SMPP_ESME_RINVCMDID, SMPP_GENERIC_NACK);
}

static void test_a14_unknown_response_id_dropped_never_nacked(void)
{
        static const uint32_t ids[] = { 0x80000099, 0x8000000B, 0x80000102, 0x8000000A, 0xFFFFFFFF };

        for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
                uint8_t b[16] = { 0 };

                smx_put_u32(b, 16);
                smx_put_u32(b + 4, ids[i]);
                load(b, 16);
                CHECK_EQ(dec(&lenient), SMX_PDU_E_CMDID);
                CHECK_EQ(vd.action, SMX_ACT_DROP);
        }
}

static void test_a15_command_id_zero_nacks(void)
{
        check_unknown_request(0x00000000);
}

static void test_a17_nonzero_status_on_request_is_flagged_and_decoded(void)
{
        load_deliver(SMPP_ESME_RSYSERR, 0, (const uint8_t *)"hi", 2, 2, NULL);
        CHECK_EQ(dec(&lenient), SMX_PDU_OK);
        CHECK_EQ(vd.action, SMX_ACT_NONE);
        CHECK(pdu.flags & SMX_PDUF_NONZERO_STATUS);
        CHECK_VIEW(pdu.u.sm.short_message, "hi");
        CHECK_EQ(pdu.h.command_status, SMPP_ESME_RSYSERR);
}

static void test_a17_nonzero_status_on_response_is_not_flagged(void)
{
        load_hex("00000010 80000004 00000058 0000002a");
        CHECK_EQ(dec(&lenient), SMX_PDU_OK);
        CHECK_EQ(pdu.flags & SMX_PDUF_NONZERO_STATUS, 0);
}

static void test_a19_enquire_link_trailing_bytes_accepted(void)
{
        load_hex("00000014 00000015 00000000 00000003 deadbeef");
        CHECK_EQ(smx_frame_peek(wire, wire_len, 0), 20);
        CHECK_EQ(dec(&lenient), SMX_PDU_OK);
        CHECK(pdu.flags & SMX_PDUF_TRAILING_BYTES);
        CHECK_EQ(pdu.h.command_id, SMPP_ENQUIRE_LINK);
        CHECK_EQ(dec(&strict), SMX_PDU_OK); /* the frame is intact in strict mode too */
}

static void test_a19_generic_nack_with_body_is_not_nacked(void)
{
        load_hex("00000011 80000000 00000003 00000005 00");
        CHECK_EQ(dec(&lenient), SMX_PDU_OK);
        CHECK(pdu.flags & SMX_PDUF_TRAILING_BYTES);
        CHECK_EQ(smx_command_has_resp(SMPP_GENERIC_NACK), 0);
}

static void test_a_buffer_shorter_than_command_length_closes(void)
{
        load_hex("00000020 00000015 00000000 00000003");
        CHECK_VERDICT(dec(&lenient), SMX_PDU_E_SHORT, SMX_ACT_CLOSE, SMPP_ESME_RINVCMDLEN, SMPP_GENERIC_NACK);
        load_hex("00000010 000000");
        CHECK_EQ(dec(&lenient), SMX_PDU_E_SHORT);
        CHECK_EQ(vd.action, SMX_ACT_CLOSE);
}

static void test_a_framer_splits_two_pdus_in_one_read(void)
{
        load_hex("00000010 00000015 00000000 00000001  00000011 80000005 00000000 00000002 00");
        CHECK_EQ(smx_frame_peek(wire, wire_len, 0), 16);
        CHECK_EQ(smx_frame_peek(wire + 16, wire_len - 16, 0), 17);
}

/* ================= B. Mandatory body fields ================= */

static void test_b01_bind_resp_unterminated_system_id_flagged(void)
{
        load_pdu("00000018 80000009 00000000 00000001 41 42 43 44 45 46 47 48");
        CHECK_EQ(dec(&lenient), SMX_PDU_OK);
        CHECK_EQ(pdu.h.command_status, SMPP_ESME_ROK);
        CHECK(pdu.flags & SMX_PDUF_SYSTEM_ID_BAD);
        CHECK_VIEW(pdu.u.bind_resp.system_id, "ABCDEFGH");
}

static void test_b01_bytes_after_the_frame_are_not_read(void)
{
        /* a NUL right after the frame must not terminate the string */
        uint8_t b[25];

        t_hex("00000018 80000009 00000000 00000001 41 42 43 44 45 46 47 48 00", b, sizeof b);
        CHECK_EQ(smx_pdu_decode(b, sizeof b, NULL, &pdu, &vd), SMX_PDU_OK);
        CHECK(pdu.flags & SMX_PDUF_SYSTEM_ID_BAD);
        CHECK_EQ(pdu.u.bind_resp.system_id.len, 8);
        CHECK_EQ(pdu.tlv.count, 0);
}

static void test_b01_deliver_sm_unterminated_source_addr_answers_resp(void)
{
        /* service_type "", ton, npi, then source_addr with no NUL to the end */
        load_pdu("0000001f 00000005 00000000 00000009 00 01 01 34 34 37 37 30 30 39 30 30 30 30");
        CHECK_VERDICT(dec(&lenient), SMX_PDU_E_CSTRING, SMX_ACT_RESP, SMPP_ESME_RINVSRCADR,
                      SMPP_DELIVER_SM_RESP);
}

static void test_b02_overlong_source_addr_answers_rinvsrcadr(void)
{
        /* 25 digits + NUL: NUL is beyond the 21-octet maximum; never shift fields (K-10) */
        load_pdu("00000040 00000005 00000000 00000009 00 01 01"
                 "31323334353637383930313233343536373839303132333435 00"
                 "01 01 31 00 00 00 00 00 00 00 00 00 00 00 00");
        CHECK_VERDICT(dec(&lenient), SMX_PDU_E_CSTRING, SMX_ACT_RESP, SMPP_ESME_RINVSRCADR,
                      SMPP_DELIVER_SM_RESP);
}

static void test_b02_overlong_destination_addr_answers_rinvdstadr(void)
{
        load_pdu("0000003f 00000004 00000000 00000009 00 01 01 31 00 01 01"
                 "31323334353637383930313233343536373839303132333435 00"
                 "00 00 00 00 00 00 00 00 00 00 00");
        CHECK_VERDICT(dec(&lenient), SMX_PDU_E_CSTRING, SMX_ACT_RESP, SMPP_ESME_RINVDSTADR,
                      SMPP_SUBMIT_SM_RESP);
}

static void test_b02_overlong_service_type_answers_rinvsertyp(void)
{
        load_pdu("00000030 00000005 00000000 00000009 41424344454647 00"
                 "01 01 31 00 01 01 31 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00");
        CHECK_VERDICT(dec(&lenient), SMX_PDU_E_CSTRING, SMX_ACT_RESP, SMPP_ESME_RINVSERTYP,
                      SMPP_DELIVER_SM_RESP);
}

static void test_b02_bind_fields_answer_their_own_status(void)
{
        /* system_id of 16 characters (max 15) */
        load_pdu("0000002c 00000009 00000000 00000001 41414141414141414141414141414141 00 00 00 34 00 00 00"
                 "00 00 00 00 00 00 00");
        CHECK_VERDICT(dec(&lenient), SMX_PDU_E_CSTRING, SMX_ACT_RESP, SMPP_ESME_RINVSYSID,
                      SMPP_BIND_TRANSCEIVER_RESP);
        /* password of 9 characters (max 8) */
        load_pdu("00000020 00000002 00000000 00000001 00 313233343536373839 00 00 34 00 00 00");
        CHECK_VERDICT(dec(&lenient), SMX_PDU_E_CSTRING, SMX_ACT_RESP, SMPP_ESME_RINVPASWD,
                      SMPP_BIND_TRANSMITTER_RESP);
        /* system_type of 13 characters (max 12) */
        load_pdu("00000024 00000001 00000000 00000001 00 00 31323334353637383930313233 00 34 00 00 00");
        CHECK_VERDICT(dec(&lenient), SMX_PDU_E_CSTRING, SMX_ACT_RESP, SMPP_ESME_RINVSYSTYP,
                      SMPP_BIND_RECEIVER_RESP);
        /* body ends before address_range */
        load_pdu("00000016 00000009 00000000 00000001 00 00 00 34 00 00");
        CHECK_VERDICT(dec(&lenient), SMX_PDU_E_BODY_SHORT, SMX_ACT_RESP, SMPP_ESME_RINVCMDLEN,
                      SMPP_BIND_TRANSCEIVER_RESP);
}

static void test_b03_submit_sm_resp_200_char_id_accepted_and_flagged(void)
{
        uint8_t b[16 + 201];

        memset(b, 'x', sizeof b);
        t_hex("000000d9 80000004 00000000 00000002", b, 16);
        b[sizeof b - 1] = 0;
        load(b, sizeof b);
        CHECK_EQ(dec(&lenient), SMX_PDU_OK);
        CHECK_EQ(pdu.h.command_status, SMPP_ESME_ROK);
        CHECK(pdu.flags & SMX_PDUF_MESSAGE_ID_LONG);
        CHECK_EQ(pdu.u.sm_resp.message_id.len, 200);
        CHECK(pdu.u.sm_resp.message_id.p == wire + 16);
}

static void test_b03_submit_sm_resp_64_char_id_not_flagged(void)
{
        uint8_t b[16 + 65];

        memset(b, 'y', sizeof b);
        t_hex("00000051 80000004 00000000 00000002", b, 16);
        b[sizeof b - 1] = 0;
        load(b, sizeof b);
        CHECK_EQ(dec(&lenient), SMX_PDU_OK);
        CHECK_EQ(pdu.flags, 0);
        CHECK_EQ(pdu.u.sm_resp.message_id.len, 64);
}

static void test_b04_submit_sm_resp_unterminated_id_runs_to_frame_end(void)
{
        uint8_t b[26];

        t_hex("00000019 80000004 00000000 00000002 3030303030303030 30 00", b, sizeof b);
        /* the frame is 25 octets; the NUL at offset 25 lies outside it */
        CHECK_EQ(smx_pdu_decode(b, sizeof b, NULL, &pdu, &vd), SMX_PDU_OK);
        CHECK(pdu.flags & SMX_PDUF_ID_UNTERMINATED);
        CHECK_EQ(pdu.u.sm_resp.message_id.len, 9);
}

static void test_b05_error_resp_with_body_status_governs(void)
{
        load_pdu("00000019 80000004 0000000a 00000002 3030303030303030 00");
        CHECK_EQ(dec(&lenient), SMX_PDU_OK);
        CHECK_EQ(vd.action, SMX_ACT_NONE);
        CHECK_EQ(pdu.h.command_status, SMPP_ESME_RINVSRCADR);
        CHECK_VIEW(pdu.u.sm_resp.message_id, "00000000");
        CHECK_EQ(smx_status_classify(pdu.h.command_status), SMX_STATUS_PERMANENT);
}

static void test_b07_bind_resp_error_lone_nul_or_no_body(void)
{
        load_pdu("00000011 80000002 0000000d 00000001 00");
        CHECK_EQ(dec(&lenient), SMX_PDU_OK);
        CHECK_EQ(pdu.flags, 0);
        CHECK_EQ(pdu.u.bind_resp.system_id.len, 0);
        CHECK_EQ(smx_status_classify(pdu.h.command_status), SMX_STATUS_CONFIG);
        load_pdu("00000010 80000002 0000000d 00000001");
        CHECK_EQ(dec(&lenient), SMX_PDU_OK);
        CHECK_EQ(pdu.flags, 0);
        CHECK_EQ(pdu.u.bind_resp.system_id.len, 0);
}

static void test_b06_bind_resp_overlong_system_id_flagged(void)
{
        load_pdu("00000025 80000009 00000000 00000001 3132333435363738393031323334353637383930 00");
        CHECK_EQ(dec(&lenient), SMX_PDU_OK);
        CHECK(pdu.flags & SMX_PDUF_SYSTEM_ID_BAD);
        CHECK_EQ(pdu.u.bind_resp.system_id.len, 20);
}

static void test_b08_sm_length_past_frame_answers_rinvmsglen(void)
{
        load_deliver(0, 0, (const uint8_t *)"hi", 2, 3, NULL);
        CHECK_VERDICT(dec(&lenient), SMX_PDU_E_SM_LENGTH, SMX_ACT_RESP, SMPP_ESME_RINVMSGLEN,
                      SMPP_DELIVER_SM_RESP);
}

static void test_b09_sm_length_255_lenient_flags_strict_rejects(void)
{
        uint8_t text[255];

        memset(text, 'a', sizeof text);
        load_deliver(0, 0, text, sizeof text, 255, NULL);
        CHECK_EQ(dec(&lenient), SMX_PDU_OK);
        CHECK(pdu.flags & SMX_PDUF_SM_LENGTH_OVER);
        CHECK_EQ(pdu.u.sm.short_message.len, 255);
        CHECK_VERDICT(dec(&strict), SMX_PDU_E_SM_LENGTH, SMX_ACT_RESP, SMPP_ESME_RINVMSGLEN,
                      SMPP_DELIVER_SM_RESP);
}

static void test_b09_sm_length_254_is_not_flagged(void)
{
        uint8_t text[254];

        memset(text, 'a', sizeof text);
        load_deliver(0, 0, text, sizeof text, 254, NULL);
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK_EQ(pdu.flags, 0);
}

static void test_b10_sm_length_one_short_of_text(void)
{
        /* one stray octet after the message reads as a truncated TLV stream */
        load_deliver(0, 0, (const uint8_t *)"hello", 5, 4, NULL);
        CHECK_EQ(dec(&lenient), SMX_PDU_OK);
        CHECK(pdu.flags & SMX_PDUF_TLV_TRUNCATED);
        CHECK_VIEW(pdu.u.sm.short_message, "hell");
        CHECK_VERDICT(dec(&strict), SMX_PDU_E_TLV_STREAM, SMX_ACT_RESP, SMPP_ESME_RINVOPTPARSTREAM,
                      SMPP_DELIVER_SM_RESP);
}

static void test_b11_sm_length_zero_without_payload_is_valid(void)
{
        load_deliver(0, 0, NULL, 0, 0, NULL);
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK_EQ(pdu.u.sm.short_message.len, 0);
        CHECK_EQ(pdu.tlv.present, 0);
        CHECK_EQ(pdu.flags, 0);
}

static void test_b13_body_ends_inside_fixed_integers(void)
{
        /* deliver_sm stopping after dest_addr_npi, and one octet later */
        load_pdu("0000001e 00000005 00000000 00000009 00 01 01 3434373700 01 01");
        CHECK_VERDICT(dec(&lenient), SMX_PDU_E_BODY_SHORT, SMX_ACT_RESP, SMPP_ESME_RINVCMDLEN,
                      SMPP_DELIVER_SM_RESP);
        load_pdu("00000021 00000005 00000000 00000009 00 01 01 3434373700 01 01 3100 04 00");
        CHECK_VERDICT(dec(&lenient), SMX_PDU_E_BODY_SHORT, SMX_ACT_RESP, SMPP_ESME_RINVCMDLEN,
                      SMPP_DELIVER_SM_RESP);
        /* ends just before sm_length */
        load_pdu("00000026 00000005 00000000 00000009 00 01 01 3434373700 01 01 3100 04 00 00 00 00 00 00 00 00");
        CHECK_VERDICT(dec(&lenient), SMX_PDU_E_BODY_SHORT, SMX_ACT_RESP, SMPP_ESME_RINVCMDLEN,
                      SMPP_DELIVER_SM_RESP);
}

static void test_b13_every_truncation_of_a_dr_is_refused_or_flagged(void)
{
        /* cut the base DR at every length (fixing command_length): no read past
         * the frame, and every refusal is a RESP for the deliver_sm */
        uint8_t full[512];
        size_t n;

        load_dr_with_tlvs("001e 0007 346632613963 00  0427 0001 02");
        n = wire_len;
        memcpy(full, wire, n);
        for (size_t cut = 16; cut < n; cut++) {
                smx_put_u32(full, (uint32_t)cut);
                load(full, cut);
                if (dec(&lenient) != SMX_PDU_OK) {
                        CHECK_EQ(vd.action, SMX_ACT_RESP);
                        CHECK_EQ(vd.answer_id, SMPP_DELIVER_SM_RESP);
                }
        }
}

static void test_b15_time_of_wrong_length_ignored_or_strict(void)
{
        /* validity_period "2401011200" + NUL */
        load_pdu("00000036 00000005 00000000 00000009 00 01 01 3100 01 01 3200 00 00 00"
                 "00 32343031303131323030 00 00 00 00 00 02 6869");
        CHECK_EQ(dec(&lenient), SMX_PDU_OK);
        CHECK(pdu.flags & SMX_PDUF_BAD_TIME);
        CHECK_EQ(pdu.u.sm.validity_period.len, 0);
        CHECK_VIEW(pdu.u.sm.short_message, "hi"); /* later fields still in place */
        CHECK_VERDICT(dec(&strict), SMX_PDU_E_BAD_TIME, SMX_ACT_RESP, SMPP_ESME_RINVCMDLEN,
                      SMPP_DELIVER_SM_RESP);
}

static void test_b16_time_without_nul_in_17_octets_answers_status(void)
{
        /* schedule_delivery_time of 20 characters and no NUL within 17 */
        load_pdu("00000048 00000004 00000000 00000009 00 01 01 3100 01 01 3200 00 00 00"
                 "3030303030303030303030303030303030303030 00 00 00 00 00 00 00 02 6869"
                 "00 00 00 00 00 00 00 00 00 00 00");
        CHECK_VERDICT(dec(&lenient), SMX_PDU_E_CSTRING, SMX_ACT_RESP, SMPP_ESME_RINVSCHED,
                      SMPP_SUBMIT_SM_RESP);
        load_pdu("00000037 00000004 00000000 00000009 00 01 01 3100 01 01 3200 00 00 00"
                 "00 3030303030303030303030303030303030 00 00 00 00 00");
        CHECK_VERDICT(dec(&lenient), SMX_PDU_E_CSTRING, SMX_ACT_RESP, SMPP_ESME_RINVEXPIRY,
                      SMPP_SUBMIT_SM_RESP);
}

static void test_b17_odd_esm_class_values_decode(void)
{
        load_deliver(0, 0x3C, (const uint8_t *)"x", 1, 1, NULL);
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK_EQ(pdu.u.sm.esm_class, 0x3C);
        load_deliver(0, 0xFF, (const uint8_t *)"x", 1, 1, NULL);
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK_EQ(pdu.u.sm.esm_class, 0xFF);
        CHECK_EQ(pdu.u.sm.esm_class & SMPP_ESM_TYPE_MASK, 0x3C);
}

static void test_b19_ton_npi_out_of_range_accepted(void)
{
        load_pdu("00000024 00000005 00000000 00000009 00 07 0f 3100 07 0f 3200 00 00 00 00 00 00 00 00 00 00");
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK_EQ(pdu.u.sm.source_addr_ton, 7);
        CHECK_EQ(pdu.u.sm.source_addr_npi, 15);
        CHECK_EQ(pdu.u.sm.dest_addr_ton, 7);
        CHECK_EQ(pdu.u.sm.dest_addr_npi, 15);
}

static void test_b14_deliver_sm_resp_with_message_id_accepted(void)
{
        load_pdu("00000014 80000005 00000000 00000009 616263 00");
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK_VIEW(pdu.u.sm_resp.message_id, "abc");
}

static void test_b20_null_addresses_accepted(void)
{
        load_pdu("00000021 00000005 00000000 00000009 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00");
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK_EQ(pdu.u.sm.source_addr.len, 0);
        CHECK_EQ(pdu.u.sm.destination_addr.len, 0);
}

static void test_b_data_sm_address_limits(void)
{
        /* data_sm allows 64-char addresses; 65 chars is over */
        uint8_t b[256];
        size_t n = 16;

        n += put_hex(b + n, "00 01 01");
        memset(b + n, '7', 64);
        n += 64;
        n += put_hex(b + n, "00 00 00 3100 04 00 00");
        smx_put_u32(b, (uint32_t)n);
        smx_put_u32(b + 4, SMPP_DATA_SM);
        smx_put_u32(b + 8, 0);
        smx_put_u32(b + 12, 1);
        load(b, n);
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK_EQ(pdu.u.sm.source_addr.len, 64);
        n = 16 + put_hex(b + 16, "00 01 01");
        memset(b + n, '7', 65);
        n += 65;
        n += put_hex(b + n, "00 00 00 3100 04 00 00");
        smx_put_u32(b, (uint32_t)n);
        load(b, n);
        CHECK_VERDICT(dec(&lenient), SMX_PDU_E_CSTRING, SMX_ACT_RESP, SMPP_ESME_RINVSRCADR,
                      SMPP_DATA_SM_RESP);
}

static void test_b_outbind_and_alert_faults_are_dropped(void)
{
        load_pdu("00000018 0000000b 00000000 00000001 4142434445464748");
        CHECK_EQ(dec(&lenient), SMX_PDU_E_NO_RESPONSE);
        CHECK_EQ(vd.action, SMX_ACT_DROP);
        load_pdu("00000013 00000102 00000000 00000001 01 01 31");
        CHECK_EQ(dec(&lenient), SMX_PDU_E_NO_RESPONSE);
        CHECK_EQ(vd.action, SMX_ACT_DROP);
}

/* ================= C. TLVs ================= */

static void test_c01_unknown_tags_skipped(void)
{
        load_dr_with_tlvs("1403 0004 01020304  4000 0000  ffff 0001 00  0427 0001 02");
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK_EQ(pdu.tlv.count, 4);
        CHECK_EQ(pdu.tlv.unknown, 3);
        CHECK_EQ(pdu.tlv.present, SMX_TLV_MESSAGE_STATE);
        CHECK_EQ(pdu.tlv.message_state, SMPP_STATE_DELIVERED);
}

static void test_c01_walker_sees_every_tlv(void)
{
        uint32_t off = 0;
        uint16_t tag;
        struct smx_bytes v;
        static const uint16_t want[] = { 0x1403, 0x4000, 0xffff, 0x0427 };
        size_t i = 0;

        load_dr_with_tlvs("1403 0004 01020304  4000 0000  ffff 0001 00  0427 0001 02");
        CHECK_EQ(dec(&lenient), SMX_PDU_OK);
        while (smx_tlv_next(pdu.tlv.tlv_start, pdu.tlv.tlv_len, &off, &tag, &v) == 1) {
                if (i < 4)
                        CHECK_EQ(tag, want[i]);
                i++;
        }
        CHECK_EQ(i, 4);
        CHECK_EQ(off, pdu.tlv.tlv_len);
}

static void test_c_walker_stops_at_end_and_on_empty_region(void)
{
        uint32_t off = 0;
        uint16_t tag = 0;
        struct smx_bytes v;
        static const uint8_t one[] = { 0x04, 0x27, 0x00, 0x01, 0x02 };

        CHECK_EQ(smx_tlv_next(one, 0, &off, &tag, &v), 0);
        CHECK_EQ(smx_tlv_next(one, 5, &off, &tag, &v), 1);
        CHECK_EQ(tag, SMPP_TAG_MESSAGE_STATE);
        CHECK_EQ(v.len, 1);
        CHECK_EQ(off, 5);
        CHECK_EQ(smx_tlv_next(one, 5, &off, &tag, &v), 0);
        off = 0;
        CHECK_EQ(smx_tlv_next(one, 4, &off, &tag, &v), -1); /* value cut off */
        CHECK_EQ(smx_tlv_next(one, 3, &off, &tag, &v), -1); /* header cut off */
        CHECK_EQ(off, 0);
}

static void test_c02_source_network_type_in_deliver_sm_tolerated(void)
{
        load_dr_with_tlvs("000e 0001 01  0427 0001 02");
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK_EQ(pdu.tlv.unknown, 1);
        CHECK(pdu.tlv.present & SMX_TLV_MESSAGE_STATE);
}

static void test_c03_tlv_value_past_frame_lenient_keeps_earlier(void)
{
        load_dr_with_tlvs("0427 0001 02  0424 01f4 0102030405060708090a0b0c0d0e0f1011121314");
        CHECK_EQ(dec(&lenient), SMX_PDU_OK);
        CHECK(pdu.flags & SMX_PDUF_TLV_TRUNCATED);
        CHECK_EQ(pdu.tlv.present, SMX_TLV_MESSAGE_STATE);
        CHECK_EQ(pdu.tlv.count, 1);
        {
                uint32_t off = 0;
                uint16_t tag;
                struct smx_bytes v;

                CHECK_EQ(smx_tlv_next(pdu.tlv.tlv_start, pdu.tlv.tlv_len, &off, &tag, &v), 1);
                CHECK_EQ(smx_tlv_next(pdu.tlv.tlv_start, pdu.tlv.tlv_len, &off, &tag, &v), -1);
        }
}

static void test_c03_tlv_value_past_frame_strict_rinvoptparstream(void)
{
        load_dr_with_tlvs("0424 01f4 0102030405060708090a0b0c0d0e0f1011121314");
        CHECK_VERDICT(dec(&strict), SMX_PDU_E_TLV_STREAM, SMX_ACT_RESP, SMPP_ESME_RINVOPTPARSTREAM,
                      SMPP_DELIVER_SM_RESP);
}

static void test_c04_tlv_header_cut_short(void)
{
        load_dr_with_tlvs("0427 0001 02  04");
        CHECK_EQ(dec(&lenient), SMX_PDU_OK);
        CHECK(pdu.flags & SMX_PDUF_TLV_TRUNCATED);
        CHECK_EQ(pdu.tlv.present, SMX_TLV_MESSAGE_STATE);
        load_dr_with_tlvs("0427 00");
        CHECK_EQ(dec(&lenient), SMX_PDU_OK);
        CHECK(pdu.flags & SMX_PDUF_TLV_TRUNCATED);
        CHECK_EQ(pdu.tlv.present, 0);
}

static void test_c04_response_tlv_truncation_strict_fails_request(void)
{
        load_pdu("0000001b 80000103 00000000 00000004 00 0425 0001 03 04 25");
        CHECK_EQ(dec(&lenient), SMX_PDU_OK);
        CHECK(pdu.flags & SMX_PDUF_TLV_TRUNCATED);
        CHECK_EQ(pdu.tlv.delivery_failure_reason, 3);
        CHECK_EQ(dec(&strict), SMX_PDU_E_TLV_STREAM);
        CHECK_EQ(vd.action, SMX_ACT_FAIL_REQUEST);
        CHECK_EQ(vd.status, SMPP_ESME_RINVOPTPARSTREAM);
}

static void test_c05_fixed_tlv_length_zero_ignored_no_desync(void)
{
        load_dr_with_tlvs("0427 0000  001e 0004 616263 00");
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK_EQ(pdu.tlv.invalid, 1);
        CHECK_EQ(pdu.tlv.present, SMX_TLV_RECEIPTED_MESSAGE_ID);
        CHECK_VIEW(pdu.tlv.receipted_message_id, "abc");
}

static void test_c06_known_tlv_wrong_length_ignored(void)
{
        /* user_message_reference with length 1 (python-smpp, K-25), message_state length 2 */
        load_dr_with_tlvs("0204 0001 07  0427 0002 0200  020c 0002 0102");
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK_EQ(pdu.tlv.invalid, 2);
        CHECK_EQ(pdu.tlv.present, SMX_TLV_SAR_MSG_REF_NUM);
        CHECK_EQ(pdu.tlv.sar_msg_ref_num, 0x0102);
}

static void test_c07_duplicate_tlv_first_wins(void)
{
        load_dr_with_tlvs("001e 0004 616161 00  001e 0004 626262 00");
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK_VIEW(pdu.tlv.receipted_message_id, "aaa");
        CHECK_EQ(pdu.tlv.duplicate, 1);
        CHECK_EQ(pdu.tlv.count, 2);
}

static void test_c08_thirty_zero_length_tlvs(void)
{
        char hex[30 * 10 + 1];

        for (int i = 0; i < 30; i++)
                memcpy(hex + i * 10, "1400 0000 ", 10);
        hex[300] = 0;
        load_dr_with_tlvs(hex);
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK_EQ(pdu.tlv.count, 30);
        CHECK_EQ(pdu.tlv.unknown, 30);
}

static void test_c09_receipted_message_id_without_nul(void)
{
        load_dr_with_tlvs("001e 0006 346632613963");
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK_VIEW(pdu.tlv.receipted_message_id, "4f2a9c");
}

static void test_c09_receipted_message_id_stops_at_first_nul(void)
{
        load_dr_with_tlvs("001e 0008 3466 00 61396300 00  0427 0001 02");
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK_VIEW(pdu.tlv.receipted_message_id, "4f");
        CHECK_EQ(pdu.tlv.message_state, 2);
}

static void test_c11_receipted_message_id_300_octets_is_a_view(void)
{
        char hex[9 + 600 + 16];
        size_t n = 0;

        n += (size_t)sprintf(hex, "001e 012c ");
        for (int i = 0; i < 300; i++)
                n += (size_t)sprintf(hex + n, "%02x", 'a' + i % 26);
        sprintf(hex + n, " 0427000102");
        load_dr_with_tlvs(hex);
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK(pdu.tlv.present & SMX_TLV_RECEIPTED_MESSAGE_ID);
        CHECK_EQ(pdu.tlv.receipted_message_id.len, 300);
        CHECK(pdu.tlv.receipted_message_id.p >= wire && pdu.tlv.receipted_message_id.p + 300 <= wire + wire_len);
        CHECK_EQ(pdu.tlv.message_state, 2); /* the DR is still processed */
}

static void test_c12_message_state_values_passed_through(void)
{
        load_dr_with_tlvs("0427 0001 00");
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK_EQ(pdu.tlv.message_state, 0);
        CHECK_STR(smx_state_name(0), "SCHEDULED");
        load_dr_with_tlvs("0427 0001 ff");
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK_EQ(pdu.tlv.message_state, 0xff);
        CHECK_STR(smx_state_name(0xff), "UNKNOWN");
}

static void test_c13_network_error_code_length_2_ignored(void)
{
        load_dr_with_tlvs("0423 0002 0102");
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK_EQ(pdu.tlv.present & SMX_TLV_NETWORK_ERROR_CODE, 0);
        CHECK_EQ(pdu.tlv.invalid, 1);
}

static void test_c13_network_error_code_type_and_16bit_code(void)
{
        load_dr_with_tlvs("0423 0003 03 0802");
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK(pdu.tlv.present & SMX_TLV_NETWORK_ERROR_CODE);
        CHECK_EQ(pdu.tlv.network_error_type, 3);
        CHECK_EQ(pdu.tlv.network_error_code, 0x0802); /* 2050, not "3" "2050" joined */
}

static void test_c14_message_payload_over_1024_kept_whole(void)
{
        static char hex[10 + 2 * 2000 + 1];
        size_t n = (size_t)sprintf(hex, "0424 07d0 ");

        for (int i = 0; i < 2000; i++)
                n += (size_t)sprintf(hex + n, "%02x", i & 0xff);
        load_deliver(0, 0, NULL, 0, 0, hex);
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK_EQ(pdu.tlv.message_payload.len, 2000);
        CHECK_EQ(pdu.tlv.message_payload.p[1999], 1999 & 0xff);
}

static void test_c16_message_payload_length_zero_is_an_empty_text(void)
{
        load_deliver(0, 0, NULL, 0, 0, "0424 0000  0427 0001 02");
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK(pdu.tlv.present & SMX_TLV_MESSAGE_PAYLOAD);
        CHECK_EQ(pdu.tlv.message_payload.len, 0);
        CHECK_EQ(pdu.tlv.message_state, 2);
        CHECK_EQ(pdu.flags, 0);
}

static void test_c15_sc_interface_version_variants(void)
{
        load_pdu("00000016 80000009 00000000 00000001 534d534331 00");
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK_EQ(pdu.tlv.present & SMX_TLV_SC_INTERFACE_VERSION, 0);
        load_pdu("0000001b 80000009 00000000 00000001 534d534331 00 0210 0001 33");
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK(pdu.tlv.present & SMX_TLV_SC_INTERFACE_VERSION);
        CHECK_EQ(pdu.tlv.sc_interface_version, SMPP_VERSION_33);
        load_pdu("0000001b 80000009 00000000 00000001 534d534331 00 0210 0001 50");
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK_EQ(pdu.tlv.sc_interface_version, SMPP_VERSION_50);
        load_pdu("0000001c 80000009 00000000 00000001 534d534331 00 0210 0002 3400");
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK_EQ(pdu.tlv.present & SMX_TLV_SC_INTERFACE_VERSION, 0);
        CHECK_EQ(pdu.tlv.invalid, 1);
}

static void test_c_sm_and_payload_both_flagged(void)
{
        load_deliver(0, 0, (const uint8_t *)"hi", 2, 2, "0424 0002 6869");
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK(pdu.flags & SMX_PDUF_SM_AND_PAYLOAD);
}

static void test_c_smx_identity_length_bounds(void)
{
        load_dr_with_tlvs("1401 0000  1401 0001 01");
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK_EQ(pdu.tlv.invalid, 1);
        CHECK_EQ(pdu.tlv.smx_msg_identity.len, 1);
}

/* ================= E. Responses, correlation, sequence numbers ================= */

static void test_e01_responses_are_never_answered(void)
{
        /* whatever is wrong with a response, the verdict never asks for an answer */
        static const char *const bad[] = {
                "00000010 80000099 00000000 00000001",
                "00000011 80000004 00000000 00000001 41",
                "00000018 80000009 00000000 00000001 4142434445464748",
        };

        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                load_pdu(bad[i]);
                if (dec(&strict) != SMX_PDU_OK) {
                        CHECK(vd.action != SMX_ACT_RESP);
                        CHECK(vd.action != SMX_ACT_NACK);
                }
        }
        load_pdu("0000001b 80000103 00000000 00000004 00 0425 0001 03 04 25");
        CHECK_EQ(dec(&strict), SMX_PDU_E_TLV_STREAM);
        CHECK_EQ(vd.action, SMX_ACT_FAIL_REQUEST);
        CHECK_EQ(vd.answer_id, 0);
}

static void test_e03_same_seq_both_directions_told_apart(void)
{
        struct smx_pdu a;

        load_deliver(0, 0, (const uint8_t *)"hi", 2, 2, NULL);
        smx_put_u32(wire + 12, 5);
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        a = pdu;
        load_pdu("00000017 80000004 00000000 00000005 346632613963 00");
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK_EQ(a.h.sequence_number, pdu.h.sequence_number);
        CHECK_EQ(a.h.command_id & SMPP_RESP_BIT, 0);
        CHECK(pdu.h.command_id & SMPP_RESP_BIT);
        CHECK_EQ(smx_command_has_resp(a.h.command_id), 1);
        CHECK_EQ(smx_command_has_resp(pdu.h.command_id), 0);
}

static void test_e05_nack_rinvcmdlen_rinvcmdid_permanent(void)
{
        load_pdu("00000010 80000000 00000002 00000003");
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK_EQ(smx_status_classify(pdu.h.command_status), SMX_STATUS_PERMANENT);
        CHECK_EQ(smx_status_classify(SMPP_ESME_RINVCMDID), SMX_STATUS_PERMANENT);
}

static void test_e07_nack_throttled_or_queue_full_transient(void)
{
        load_pdu("00000010 80000000 00000058 00000003");
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK_EQ(smx_status_classify(pdu.h.command_status), SMX_STATUS_THROTTLED);
        CHECK_EQ(smx_status_classify(SMPP_ESME_RMSGQFUL), SMX_STATUS_THROTTLED);
}

static void test_e09_sequence_wraps_to_1_never_0_never_bit31(void)
{
        uint32_t s = 0x7FFFFFFE;

        s = smx_seq_next(s);
        CHECK_EQ(s, 0x7FFFFFFF);
        s = smx_seq_next(s);
        CHECK_EQ(s, 1);
        CHECK_EQ(smx_seq_next(0), 1);
        CHECK_EQ(smx_seq_next(0x80000000u), 1);
        CHECK_EQ(smx_seq_next(0xFFFFFFFFu), 1);
        CHECK_EQ(smx_seq_next(41), 42);
}

static void test_e09_sequence_edges_decode_unchanged(void)
{
        load_pdu("00000010 00000015 00000000 7fffffff");
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK_EQ(pdu.h.sequence_number, 0x7fffffff);
        load_pdu("00000010 00000015 00000000 00000000");
        CHECK_EQ(dec(&strict), SMX_PDU_OK); /* echoed as received; the session decides */
        CHECK_EQ(pdu.h.sequence_number, 0);
}

static void test_e06_nack_rinvbndsts_is_session(void)
{
        CHECK_EQ(smx_status_classify(SMPP_ESME_RINVBNDSTS), SMX_STATUS_SESSION);
}

/* ---- status classes (SMPP.md §4) ---- */

static void test_status_classes_follow_policy_column(void)
{
        static const struct { uint32_t s; enum smx_status_class c; } tab[] = {
                { SMPP_ESME_ROK, SMX_STATUS_OK },
                { SMPP_ESME_RTHROTTLED, SMX_STATUS_THROTTLED },
                { SMPP_ESME_RSYSERR, SMX_STATUS_TRANSIENT },
                { SMPP_ESME_RMSGQFUL, SMX_STATUS_THROTTLED },
                { SMPP_ESME_RX_T_APPN, SMX_STATUS_TRANSIENT },
                { SMPP_ESME_RUNKNOWNERR, SMX_STATUS_TRANSIENT },
                { 0x400, SMX_STATUS_TRANSIENT },
                { 0x4FF, SMX_STATUS_TRANSIENT },
                { 0x500, SMX_STATUS_PERMANENT },
                { 0x3FF, SMX_STATUS_PERMANENT },
                { SMPP_ESME_RINVBNDSTS, SMX_STATUS_SESSION },
                { SMPP_ESME_RBINDFAIL, SMX_STATUS_CONFIG },
                { SMPP_ESME_RINVPASWD, SMX_STATUS_CONFIG },
                { SMPP_ESME_RINVSYSID, SMX_STATUS_CONFIG },
                { SMPP_ESME_RINVSYSTYP, SMX_STATUS_CONFIG },
                { SMPP_ESME_RALYBND, SMX_STATUS_CONFIG },
                { SMPP_ESME_RINVMSGLEN, SMX_STATUS_PERMANENT },
                { SMPP_ESME_RINVCMDLEN, SMX_STATUS_PERMANENT },
                { SMPP_ESME_RINVSRCADR, SMX_STATUS_PERMANENT },
                { SMPP_ESME_RINVDSTADR, SMX_STATUS_PERMANENT },
                { SMPP_ESME_RSUBMITFAIL, SMX_STATUS_PERMANENT },
                { SMPP_ESME_RX_P_APPN, SMX_STATUS_PERMANENT },
                { SMPP_ESME_RX_R_APPN, SMX_STATUS_PERMANENT },
                { SMPP_ESME_RINVOPTPARSTREAM, SMX_STATUS_PERMANENT },
                { SMPP_ESME_RDELIVERYFAILURE, SMX_STATUS_PERMANENT },
                { SMPP_ESME_RINVDCS, SMX_STATUS_PERMANENT },
        };

        for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
                if (smx_status_classify(tab[i].s) != tab[i].c)
                        t_fail_at(__FILE__, __LINE__, "status 0x%x: class %d, want %d", tab[i].s,
                                  smx_status_classify(tab[i].s), tab[i].c);
}

static void test_names_cover_known_values(void)
{
        CHECK_STR(smx_command_name(SMPP_SUBMIT_SM), "submit_sm");
        CHECK_STR(smx_command_name(SMPP_DELIVER_SM_RESP), "deliver_sm_resp");
        CHECK_STR(smx_command_name(SMPP_GENERIC_NACK), "generic_nack");
        CHECK_STR(smx_command_name(0x99), "unknown");
        CHECK_STR(smx_status_name(SMPP_ESME_RTHROTTLED), "ESME_RTHROTTLED");
        CHECK_STR(smx_status_name(SMPP_ESME_RX_T_APPN), "ESME_RX_T_APPN");
        CHECK_STR(smx_status_name(0x9999), "unknown");
        CHECK_STR(smx_state_name(SMPP_STATE_DELIVERED), "DELIVERED");
        CHECK_STR(smx_state_name(SMPP_STATE_REJECTED), "REJECTED");
        CHECK_STR(smx_state_name(10), "UNKNOWN");
        CHECK_EQ(smx_command_has_resp(SMPP_OUTBIND), 0);
        CHECK_EQ(smx_command_has_resp(SMPP_ALERT_NOTIFICATION), 0);
        CHECK_EQ(smx_command_has_resp(SMPP_ENQUIRE_LINK), 1);
        CHECK_EQ(smx_command_has_resp(SMPP_DATA_SM), 1);
        CHECK_EQ(smx_command_has_resp(SMPP_SUBMIT_SM_RESP), 0);
}

static void test_d03_esme_only_requests_decode_for_an_answer(void)
{
        /* an SMSC sending submit_sm / bind / query_sm: decoded so the session can
         * answer the matching *_resp (RINVBNDSTS is the session's choice) */
        load_pdu("00000021 00000004 00000000 00000003 00 00 00 3100 00 00 3200 00 00 00 00 00 00 00 00 00 00");
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK_EQ(smx_command_has_resp(pdu.h.command_id), 1);
        load_pdu("00000017 00000002 00000000 00000003 00 00 00 34 00 00 00");
        CHECK_EQ(dec(&strict), SMX_PDU_OK);
        CHECK_EQ(pdu.h.command_id, SMPP_BIND_TRANSMITTER);
}

int main(void)
{
        RUN(test_a01_length_zero_closes);
        RUN(test_a02_length_below_16_closes);
        RUN(test_a03_length_16_on_deliver_sm_answers_rinvcmdlen);
        RUN(test_a04_length_above_cap_is_unsigned);
        RUN(test_a04_length_equal_to_cap_is_framed);
        RUN(test_a04_decoder_applies_the_configured_cap);
        RUN(test_a05_length_1gib_rejected_from_4_bytes);
        RUN(test_a07_non_smpp_peer_rejected_and_named);
        RUN(test_a07_escape_truncates_without_splitting);
        RUN(test_a09_partial_pdu_waits);
        RUN(test_a11_no_prefix_of_a_pdu_is_a_pdu);
        RUN(test_a13_unknown_request_id_nacks_rinvcmdid);
        RUN(test_a13_unknown_request_with_body_still_nacks);
        RUN(test_a14_unknown_response_id_dropped_never_nacked);
        RUN(test_a15_command_id_zero_nacks);
        RUN(test_a17_nonzero_status_on_request_is_flagged_and_decoded);
        RUN(test_a17_nonzero_status_on_response_is_not_flagged);
        RUN(test_a19_enquire_link_trailing_bytes_accepted);
        RUN(test_a19_generic_nack_with_body_is_not_nacked);
        RUN(test_a_buffer_shorter_than_command_length_closes);
        RUN(test_a_framer_splits_two_pdus_in_one_read);
        RUN(test_b01_bind_resp_unterminated_system_id_flagged);
        RUN(test_b01_bytes_after_the_frame_are_not_read);
        RUN(test_b01_deliver_sm_unterminated_source_addr_answers_resp);
        RUN(test_b02_overlong_source_addr_answers_rinvsrcadr);
        RUN(test_b02_overlong_destination_addr_answers_rinvdstadr);
        RUN(test_b02_overlong_service_type_answers_rinvsertyp);
        RUN(test_b02_bind_fields_answer_their_own_status);
        RUN(test_b03_submit_sm_resp_200_char_id_accepted_and_flagged);
        RUN(test_b03_submit_sm_resp_64_char_id_not_flagged);
        RUN(test_b04_submit_sm_resp_unterminated_id_runs_to_frame_end);
        RUN(test_b05_error_resp_with_body_status_governs);
        RUN(test_b06_bind_resp_overlong_system_id_flagged);
        RUN(test_b07_bind_resp_error_lone_nul_or_no_body);
        RUN(test_b08_sm_length_past_frame_answers_rinvmsglen);
        RUN(test_b09_sm_length_255_lenient_flags_strict_rejects);
        RUN(test_b09_sm_length_254_is_not_flagged);
        RUN(test_b10_sm_length_one_short_of_text);
        RUN(test_b11_sm_length_zero_without_payload_is_valid);
        RUN(test_b13_body_ends_inside_fixed_integers);
        RUN(test_b13_every_truncation_of_a_dr_is_refused_or_flagged);
        RUN(test_b14_deliver_sm_resp_with_message_id_accepted);
        RUN(test_b15_time_of_wrong_length_ignored_or_strict);
        RUN(test_b16_time_without_nul_in_17_octets_answers_status);
        RUN(test_b17_odd_esm_class_values_decode);
        RUN(test_b19_ton_npi_out_of_range_accepted);
        RUN(test_b20_null_addresses_accepted);
        RUN(test_b_data_sm_address_limits);
        RUN(test_b_outbind_and_alert_faults_are_dropped);
        RUN(test_c01_unknown_tags_skipped);
        RUN(test_c01_walker_sees_every_tlv);
        RUN(test_c_walker_stops_at_end_and_on_empty_region);
        RUN(test_c02_source_network_type_in_deliver_sm_tolerated);
        RUN(test_c03_tlv_value_past_frame_lenient_keeps_earlier);
        RUN(test_c03_tlv_value_past_frame_strict_rinvoptparstream);
        RUN(test_c04_tlv_header_cut_short);
        RUN(test_c04_response_tlv_truncation_strict_fails_request);
        RUN(test_c05_fixed_tlv_length_zero_ignored_no_desync);
        RUN(test_c06_known_tlv_wrong_length_ignored);
        RUN(test_c07_duplicate_tlv_first_wins);
        RUN(test_c08_thirty_zero_length_tlvs);
        RUN(test_c09_receipted_message_id_without_nul);
        RUN(test_c09_receipted_message_id_stops_at_first_nul);
        RUN(test_c11_receipted_message_id_300_octets_is_a_view);
        RUN(test_c12_message_state_values_passed_through);
        RUN(test_c13_network_error_code_length_2_ignored);
        RUN(test_c13_network_error_code_type_and_16bit_code);
        RUN(test_c14_message_payload_over_1024_kept_whole);
        RUN(test_c15_sc_interface_version_variants);
        RUN(test_c16_message_payload_length_zero_is_an_empty_text);
        RUN(test_c_sm_and_payload_both_flagged);
        RUN(test_c_smx_identity_length_bounds);
        RUN(test_d03_esme_only_requests_decode_for_an_answer);
        RUN(test_e01_responses_are_never_answered);
        RUN(test_e03_same_seq_both_directions_told_apart);
        RUN(test_e05_nack_rinvcmdlen_rinvcmdid_permanent);
        RUN(test_e06_nack_rinvbndsts_is_session);
        RUN(test_e07_nack_throttled_or_queue_full_transient);
        RUN(test_e09_sequence_wraps_to_1_never_0_never_bit31);
        RUN(test_e09_sequence_edges_decode_unchanged);
        RUN(test_status_classes_follow_policy_column);
        RUN(test_names_cover_known_values);
        free(wire);
        return t_done();
}
