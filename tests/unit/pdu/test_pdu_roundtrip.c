/* Round trips over random valid PDUs (fixed-seed PRNG, so every run is the
 * same): encode -> decode -> encode gives the same bytes; unknown TLVs come
 * back through smx_tlv_next; and a stream of many PDUs cut at random points
 * comes out of the framer as the same PDUs in the same order. */
#include <errno.h>

#include "pdu/pdu.h"
#include "testlib.h"

#define N_PDUS 5000

static uint64_t rng_state;

static uint32_t rnd(void)
{
        /* xorshift64* */
        rng_state ^= rng_state >> 12;
        rng_state ^= rng_state << 25;
        rng_state ^= rng_state >> 27;
        return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 32);
}

static uint32_t below(uint32_t n) { return n ? rnd() % n : 0; }

/* Storage for the random field values of one PDU. */
static uint8_t pool[8][300];
static uint8_t extra_vals[4][64];

/* A C-Octet String of 0..max-1 non-NUL octets. */
static struct smx_bytes rnd_cstr(int slot, size_t max)
{
        struct smx_bytes b;
        size_t n = below((uint32_t)max);

        for (size_t i = 0; i < n; i++)
                pool[slot][i] = (uint8_t)(1 + below(255));
        b.p = pool[slot];
        b.len = (uint16_t)n;
        return b;
}

static struct smx_bytes rnd_octets(int slot, size_t max)
{
        struct smx_bytes b;
        size_t n = below((uint32_t)max + 1);

        for (size_t i = 0; i < n; i++)
                pool[slot][i] = (uint8_t)rnd();
        b.p = pool[slot];
        b.len = (uint16_t)n;
        return b;
}

static struct smx_bytes rnd_time(int slot)
{
        struct smx_bytes b = { pool[slot], 0 };

        if (rnd() & 1) {
                for (int i = 0; i < 16; i++)
                        pool[slot][i] = (uint8_t)('0' + below(10));
                pool[slot][15] = "+-R"[below(3)];
                b.len = 16;
        }
        return b;
}

static void rnd_tlvs(struct smx_tlvs *t)
{
        uint32_t all = (SMX_TLV_MS_AVAILABILITY_STATUS << 1) - 1;

        t->present = (rnd() & 3) ? rnd() & all : 0;
        t->receipted_message_id = rnd_cstr(4, SMPP_MESSAGE_ID_MAX);
        t->message_payload = rnd_octets(5, 299);
        t->smx_msg_identity = rnd_octets(6, SMPP_SMX_IDENTITY_MAX);
        if (t->smx_msg_identity.len == 0)
                t->smx_msg_identity.len = 1;
        t->additional_status_info_text = rnd_cstr(7, 256 > 300 ? 300 : 256);
        t->message_state = (uint8_t)rnd();
        t->network_error_type = (uint8_t)rnd();
        t->network_error_code = (uint16_t)rnd();
        t->sar_msg_ref_num = (uint16_t)rnd();
        t->sar_total_segments = (uint8_t)rnd();
        t->sar_segment_seqnum = (uint8_t)rnd();
        t->sc_interface_version = (uint8_t)rnd();
        t->user_message_reference = (uint16_t)rnd();
        t->source_port = (uint16_t)rnd();
        t->destination_port = (uint16_t)rnd();
        t->payload_type = (uint8_t)rnd();
        t->more_messages_to_send = (uint8_t)rnd();
        t->delivery_failure_reason = (uint8_t)rnd();
        t->congestion_state = (uint8_t)rnd();
        t->ms_availability_status = (uint8_t)rnd();
}

static const uint32_t ids[] = {
        SMPP_GENERIC_NACK, SMPP_UNBIND, SMPP_UNBIND_RESP, SMPP_ENQUIRE_LINK, SMPP_ENQUIRE_LINK_RESP,
        SMPP_CANCEL_SM_RESP, SMPP_REPLACE_SM_RESP,
        SMPP_BIND_RECEIVER, SMPP_BIND_TRANSMITTER, SMPP_BIND_TRANSCEIVER,
        SMPP_BIND_RECEIVER_RESP, SMPP_BIND_TRANSMITTER_RESP, SMPP_BIND_TRANSCEIVER_RESP,
        SMPP_OUTBIND, SMPP_SUBMIT_SM, SMPP_DELIVER_SM, SMPP_DATA_SM, SMPP_ALERT_NOTIFICATION,
        SMPP_SUBMIT_SM_RESP, SMPP_DELIVER_SM_RESP, SMPP_DATA_SM_RESP,
};

static int header_only_id(uint32_t id)
{
        return id == SMPP_GENERIC_NACK || id == SMPP_UNBIND || id == SMPP_UNBIND_RESP ||
               id == SMPP_ENQUIRE_LINK || id == SMPP_ENQUIRE_LINK_RESP || id == SMPP_CANCEL_SM_RESP ||
               id == SMPP_REPLACE_SM_RESP;
}

/* A random valid PDU; *n_extra raw TLVs with vendor tags go in extra. */
static void rnd_pdu(struct smx_pdu *p, struct smx_tlv_raw *extra, size_t *n_extra)
{
        uint32_t id = ids[below(sizeof ids / sizeof ids[0])];

        memset(p, 0, sizeof *p);
        p->h.command_id = id;
        p->h.command_status = (id & SMPP_RESP_BIT) && (rnd() & 1) ? below(0x500) : 0;
        p->h.sequence_number = 1 + below(SMPP_SEQ_MAX);
        *n_extra = 0;
        if (header_only_id(id))
                return;
        switch (id) {
        case SMPP_BIND_RECEIVER:
        case SMPP_BIND_TRANSMITTER:
        case SMPP_BIND_TRANSCEIVER:
                p->u.bind.system_id = rnd_cstr(0, SMPP_SYSTEM_ID_MAX);
                p->u.bind.password = rnd_cstr(1, SMPP_PASSWORD_MAX);
                p->u.bind.system_type = rnd_cstr(2, SMPP_SYSTEM_TYPE_MAX);
                p->u.bind.interface_version = (uint8_t)rnd();
                p->u.bind.addr_ton = (uint8_t)rnd();
                p->u.bind.addr_npi = (uint8_t)rnd();
                p->u.bind.address_range = rnd_cstr(3, SMPP_ADDRESS_RANGE_MAX);
                break;
        case SMPP_BIND_RECEIVER_RESP:
        case SMPP_BIND_TRANSMITTER_RESP:
        case SMPP_BIND_TRANSCEIVER_RESP:
                p->u.bind_resp.system_id = rnd_cstr(0, SMPP_SYSTEM_ID_MAX);
                break;
        case SMPP_OUTBIND:
                p->u.outbind.system_id = rnd_cstr(0, SMPP_SYSTEM_ID_MAX);
                p->u.outbind.password = rnd_cstr(1, SMPP_PASSWORD_MAX);
                break;
        case SMPP_SUBMIT_SM:
        case SMPP_DELIVER_SM:
        case SMPP_DATA_SM:
        case SMPP_ALERT_NOTIFICATION: {
                size_t amax = id == SMPP_SUBMIT_SM || id == SMPP_DELIVER_SM ? SMPP_ADDR_MAX
                                                                            : SMPP_DATA_SM_ADDR_MAX;

                p->u.sm.service_type = rnd_cstr(0, SMPP_SERVICE_TYPE_MAX);
                p->u.sm.source_addr_ton = (uint8_t)rnd();
                p->u.sm.source_addr_npi = (uint8_t)rnd();
                p->u.sm.source_addr = rnd_cstr(1, amax);
                p->u.sm.dest_addr_ton = (uint8_t)rnd();
                p->u.sm.dest_addr_npi = (uint8_t)rnd();
                p->u.sm.destination_addr = rnd_cstr(2, amax);
                p->u.sm.esm_class = (uint8_t)rnd();
                p->u.sm.protocol_id = (uint8_t)rnd();
                p->u.sm.priority_flag = (uint8_t)rnd();
                p->u.sm.schedule_delivery_time = rnd_time(3);
                p->u.sm.validity_period = rnd_time(4);
                p->u.sm.registered_delivery = (uint8_t)rnd();
                p->u.sm.replace_if_present_flag = (uint8_t)rnd();
                p->u.sm.data_coding = (uint8_t)rnd();
                p->u.sm.sm_default_msg_id = (uint8_t)rnd();
                p->u.sm.short_message = rnd_octets(5, SMPP_SHORT_MESSAGE_MAX);
                if (id != SMPP_SUBMIT_SM && id != SMPP_DELIVER_SM) {
                        /* fields data_sm / alert_notification do not carry */
                        struct smx_body_sm *b = &p->u.sm;

                        b->protocol_id = b->priority_flag = 0;
                        b->replace_if_present_flag = b->sm_default_msg_id = 0;
                        b->schedule_delivery_time.len = b->validity_period.len = 0;
                        b->short_message.len = 0;
                        if (id == SMPP_ALERT_NOTIFICATION) {
                                b->service_type.len = 0;
                                b->esm_class = b->registered_delivery = b->data_coding = 0;
                        }
                }
                break;
        }
        case SMPP_SUBMIT_SM_RESP:
        case SMPP_DELIVER_SM_RESP:
        case SMPP_DATA_SM_RESP:
                p->u.sm_resp.message_id = rnd_cstr(0, SMPP_MESSAGE_ID_MAX);
                break;
        default:
                break;
        }
        rnd_tlvs(&p->tlv);
        if (p->u.sm.short_message.len && (id == SMPP_SUBMIT_SM || id == SMPP_DELIVER_SM) && (rnd() & 1))
                p->tlv.present &= ~(uint32_t)SMX_TLV_MESSAGE_PAYLOAD;
        *n_extra = below(4);
        for (size_t i = 0; i < *n_extra; i++) {
                extra[i].tag = (uint16_t)(0x1500 + below(0x2b00)); /* vendor, unknown to us */
                extra[i].len = (uint16_t)below(64);
                for (size_t k = 0; k < extra[i].len; k++)
                        extra_vals[i][k] = (uint8_t)rnd();
                extra[i].value = extra_vals[i];
        }
}

/* The unknown TLVs of a decoded PDU, in order, as raw TLVs. */
static size_t unknown_tlvs(const struct smx_pdu *p, struct smx_tlv_raw *out, size_t cap)
{
        uint32_t off = 0;
        uint16_t tag;
        struct smx_bytes v;
        size_t n = 0;

        while (smx_tlv_next(p->tlv.tlv_start, p->tlv.tlv_len, &off, &tag, &v) == 1)
                if (tag >= 0x1500 && n < cap)
                        out[n++] = (struct smx_tlv_raw){ tag, v.len, v.p };
        return n;
}

static void test_random_pdus_encode_decode_encode_identical(void)
{
        static uint8_t a[70000], b[70000];
        int failures = 0;

        rng_state = 0x5eed0001;
        for (int i = 0; i < N_PDUS && failures < 5; i++) {
                struct smx_pdu p, q;
                struct smx_pdu_verdict v;
                struct smx_tlv_raw extra[4], back[8];
                size_t n_extra, n_back;
                ssize_t na, nb;
                int rc;

                rnd_pdu(&p, extra, &n_extra);
                na = smx_pdu_encode(a, sizeof a, &p, extra, n_extra);
                if (na < 16) {
                        t_fail_at(__FILE__, __LINE__, "pdu %d (%s): encode %zd", i,
                                  smx_command_name(p.h.command_id), na);
                        failures++;
                        continue;
                }
                rc = smx_pdu_decode(a, (size_t)na, NULL, &q, &v);
                if (rc != SMX_PDU_OK || q.h.command_length != (uint32_t)na ||
                    (q.flags & ~(uint32_t)SMX_PDUF_SM_AND_PAYLOAD)) {
                        t_fail_at(__FILE__, __LINE__, "pdu %d (%s): decode rc %d flags 0x%x (%s)", i,
                                  smx_command_name(p.h.command_id), rc, q.flags, rc ? v.why : "");
                        failures++;
                        continue;
                }
                n_back = unknown_tlvs(&q, back, 8);
                CHECK_EQ(n_back, n_extra);
                CHECK_EQ(q.tlv.present, header_only_id(p.h.command_id) ? 0 : p.tlv.present);
                nb = smx_pdu_encode(b, sizeof b, &q, back, n_back);
                if (nb != na || memcmp(a, b, (size_t)na) != 0) {
                        t_fail_at(__FILE__, __LINE__, "pdu %d (%s): re-encode differs (%zd vs %zd)", i,
                                  smx_command_name(p.h.command_id), nb, na);
                        t_hexdump("first", a, (size_t)na);
                        t_hexdump("second", b, nb > 0 ? (size_t)nb : 0);
                        failures++;
                }
        }
}

static void test_fast_paths_match_the_general_encoder(void)
{
        rng_state = 0x5eed0002;
        for (int i = 0; i < 1000; i++) {
                uint8_t a[32], b[32];
                struct smx_pdu p;
                uint32_t hdr_ids[] = { SMPP_ENQUIRE_LINK, SMPP_ENQUIRE_LINK_RESP, SMPP_UNBIND,
                                       SMPP_UNBIND_RESP, SMPP_GENERIC_NACK };
                uint32_t resp_ids[] = { SMPP_DELIVER_SM_RESP, SMPP_DATA_SM_RESP };

                memset(&p, 0, sizeof p);
                p.h.command_id = hdr_ids[below(5)];
                p.h.command_status = below(0x100);
                p.h.sequence_number = rnd();
                CHECK_EQ(smx_pdu_encode(a, sizeof a, &p, NULL, 0), 16);
                CHECK_EQ(smx_pdu_encode_header_only(b, sizeof b, p.h.command_id, p.h.command_status,
                                                    p.h.sequence_number), 16);
                CHECK_MEM(a, b, 16);
                p.h.command_id = resp_ids[below(2)];
                CHECK_EQ(smx_pdu_encode(a, sizeof a, &p, NULL, 0), 17);
                CHECK_EQ(smx_pdu_encode_empty_resp(b, sizeof b, p.h.command_id, p.h.command_status,
                                                   p.h.sequence_number), 17);
                CHECK_MEM(a, b, 17);
        }
}

/* A stream of many PDUs, delivered in random chunks, framed back. */
static void test_framer_recovers_pdus_from_randomly_cut_stream(void)
{
        enum { COUNT = 2000 };
        static uint8_t stream[COUNT * 1200];
        static uint32_t offs[COUNT + 1];
        static uint8_t rx[70000];
        size_t total = 0, fed = 0, have = 0, got = 0;
        int bad = 0;

        rng_state = 0x5eed0003;
        for (int i = 0; i < COUNT; i++) {
                struct smx_pdu p;
                struct smx_tlv_raw extra[4];
                size_t n_extra;
                ssize_t n;

                rnd_pdu(&p, extra, &n_extra);
                n = smx_pdu_encode(stream + total, sizeof stream - total, &p, extra, n_extra);
                CHECK(n >= 16);
                if (n < 16)
                        return;
                offs[i] = (uint32_t)total;
                total += (size_t)n;
        }
        offs[COUNT] = (uint32_t)total;

        while (fed < total || have) {
                size_t chunk = 1 + below(below(4) == 0 ? 3 : 700);
                ssize_t f;

                if (chunk > total - fed)
                        chunk = total - fed;
                memcpy(rx + have, stream + fed, chunk);
                have += chunk;
                fed += chunk;
                while ((f = smx_frame_peek(rx, have, 0)) > 0) {
                        struct smx_pdu q;
                        struct smx_pdu_verdict v;
                        size_t want = offs[got + 1] - offs[got];

                        if ((size_t)f != want || memcmp(rx, stream + offs[got], want) != 0 ||
                            smx_pdu_decode(rx, (size_t)f, NULL, &q, &v) != SMX_PDU_OK)
                                bad++;
                        got++;
                        memmove(rx, rx + f, have - (size_t)f);
                        have -= (size_t)f;
                }
                CHECK(f == 0);
                if (f < 0 || (chunk == 0 && have))
                        break;
        }
        CHECK_EQ(got, COUNT);
        CHECK_EQ(bad, 0);
        CHECK_EQ(have, 0);
}

static void test_framer_one_byte_at_a_time(void)
{
        uint8_t s[64];
        size_t n = t_hex("00000010 00000015 00000000 00000001  00000011 80000005 00000000 00000002 00"
                         "00000010 80000015 00000000 00000003", s, sizeof s);
        size_t start = 0, frames = 0;

        for (size_t end = 1; end <= n; end++) {
                ssize_t f = smx_frame_peek(s + start, end - start, 0);

                CHECK(f >= 0);
                if (f > 0) {
                        CHECK_EQ((size_t)f, end - start);
                        start = end;
                        frames++;
                }
        }
        CHECK_EQ(frames, 3);
        CHECK_EQ(start, n);
}

int main(void)
{
        RUN(test_random_pdus_encode_decode_encode_identical);
        RUN(test_fast_paths_match_the_general_encoder);
        RUN(test_framer_recovers_pdus_from_randomly_cut_stream);
        RUN(test_framer_one_byte_at_a_time);
        return t_done();
}
