/* Hostile input on the inbound path: random decoded deliver_sm / data_sm
 * (any esm_class, data_coding, UDH bytes, TLV combinations, ids of any
 * length, packed or not) never crash, never read outside their views (run
 * under ASan in CI), always get one of the statuses inbound.h promises, and
 * every event's strings are NUL-terminated within their buffers. */
#include <stdio.h>

#include "inbound_fixture.h"

static uint64_t rs = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
        rs ^= rs << 13;
        rs ^= rs >> 7;
        rs ^= rs << 17;
        return (uint32_t)(rs >> 16);
}

/* Views point into their own exact-size heap copies so ASan sees any
 * over-read. */
struct owned {
        uint8_t *p[6];
};

static struct smx_bytes own(struct owned *o, int slot, size_t len)
{
        o->p[slot] = malloc(len ? len : 1);
        for (size_t i = 0; i < len; i++) {
                uint32_t r = rnd();
                /* mostly printable, some structure-looking bytes */
                o->p[slot][i] = (r & 3) == 0 ? (uint8_t)(r >> 8) : (uint8_t)("id:stat0123456789 abcDELIVRDERR\x05\x00\x03"[(r >> 8) % 35]);
        }
        if (len && (rnd() & 1) && slot == 2) {  /* a plausible concat UDH */
                static const uint8_t udh[6] = { 0x05, 0x00, 0x03, 0x2a, 0x02, 0x01 };
                memcpy(o->p[slot], udh, len < 6 ? len : 6);
                if (len >= 6)
                        o->p[slot][5] = (uint8_t)(1 + rnd() % 3);
        }
        struct smx_bytes b = { o->p[slot], (uint16_t)len };
        return b;
}

static void test_random_pdus_never_crash_and_answer_a_promised_status(void)
{
        struct smx_inbound_config c;
        inbound_config_init(&c);
        c.park_capacity = 256;
        c.dedup_capacity = 4096;
        c.corr_capacity = 4096;
        c.reasm_groups = 16;
        c.park_timeout_ms = 50;
        c.reasm_timeout_ms = 50;
        struct smx_inbound *in = inbound_create(&c);
        struct smx_event_ring *ring = event_ring_create(64);
        struct smx_bind_info binds[2] = { { .index = 0 }, { .index = 1, .gsm_packed = 1,
                                                           .msgid_norm = SMX_MSGID_CASE_FOLD |
                                                                         SMX_MSGID_STRIP_ZEROS |
                                                                         SMX_MSGID_HEX_TO_DEC } };
        int bad_status = 0;
        uint64_t now = 1000, events = 0;
        for (int n = 0; n < 100000; n++) {
                struct smx_pdu p;
                struct owned o = { { 0 } };
                memset(&p, 0, sizeof p);
                p.h.command_id = (rnd() & 7) == 0 ? SMPP_DATA_SM : SMPP_DELIVER_SM;
                p.u.sm.source_addr = own(&o, 0, rnd() % 22);
                p.u.sm.destination_addr = own(&o, 1, rnd() % 22);
                p.u.sm.esm_class = (uint8_t)rnd();
                p.u.sm.data_coding = (uint8_t)((rnd() & 1) ? rnd() % 9 : rnd());
                p.u.sm.short_message = own(&o, 2, (rnd() & 3) ? rnd() % 255 : 0);
                p.tlv.present = rnd() & (SMX_TLV_RECEIPTED_MESSAGE_ID | SMX_TLV_MESSAGE_STATE |
                                         SMX_TLV_NETWORK_ERROR_CODE | SMX_TLV_MESSAGE_PAYLOAD |
                                         SMX_TLV_SAR_MSG_REF_NUM | SMX_TLV_SAR_TOTAL_SEGMENTS |
                                         SMX_TLV_SAR_SEGMENT_SEQNUM);
                p.tlv.receipted_message_id = own(&o, 3, rnd() % 80);
                p.tlv.message_payload = own(&o, 4, (rnd() & 15) == 0 ? rnd() % 3000 : rnd() % 40);
                p.tlv.message_state = (uint8_t)(rnd() % 11);
                p.tlv.network_error_type = (uint8_t)rnd();
                p.tlv.network_error_code = (uint16_t)rnd();
                p.tlv.sar_msg_ref_num = (uint16_t)(rnd() % 4);
                p.tlv.sar_total_segments = (uint8_t)(rnd() % 4);
                p.tlv.sar_segment_seqnum = (uint8_t)(rnd() % 5);
                const struct smx_bind_info *b = &binds[rnd() & 1];
                if ((rnd() & 7) == 0) {
                        struct smx_bytes id = own(&o, 5, rnd() % 70);
                        inbound_on_accepted_w(in, b, id.p, id.len, "app", 3, (uint64_t)n,
                                              (uint16_t)(rnd() % 3), (uint16_t)(1 + rnd() % 3),
                                              ring, now);
                }
                uint32_t st = inbound_on_deliver_w(in, b, &p, ring, now);
                if (st != SMPP_ESME_ROK && st != SMPP_ESME_RX_T_APPN && st != SMPP_ESME_RX_P_APPN)
                        bad_status++;
                if ((n & 31) == 0) {
                        now += 7;
                        inbound_tick_w(in, 0, 1, ring, now);
                }
                if (rnd() & 1) {
                        struct smx_ev_rec *e;
                        while ((e = event_ring_peek(ring)) != NULL) {
                                /* every string the app will read is terminated */
                                CHECK(memchr(e->id, 0, sizeof e->id) != NULL);
                                CHECK(memchr(e->message_id, 0, sizeof e->message_id) != NULL);
                                CHECK(memchr(e->err, 0, sizeof e->err) != NULL);
                                CHECK(event_rec_text(e)[e->text_len] == 0);
                                events++;
                                event_ring_release(ring);
                        }
                }
                for (int i = 0; i < 6; i++)
                        free(o.p[i]);
        }
        CHECK_EQ(bad_status, 0);
        CHECK(events > 1000);
        printf("# %llu events\n", (unsigned long long)events);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

int main(void)
{
        RUN(test_random_pdus_never_crash_and_answer_a_promised_status);
        return t_done();
}
