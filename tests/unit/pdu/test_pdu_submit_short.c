/* The worker's submit_sm fast path (src/pdu/submit_short.h with the text
 * encoded in place by smx_text_single_part) against the general path it
 * replaces for a single-part MT (smx_text_segment into a scratch buffer,
 * then smx_pdu_encode of a struct smx_pdu set as the worker sets it).
 *
 * Random MTs (fixed seed): addresses of 0..20 characters, every encoding,
 * packed and unpacked GSM, the service and the generic data_coding maps,
 * texts of ASCII, GSM extension characters, Latin-1, other BMP characters
 * and emoji, with and without the identity TLV, every esm/priority/DR
 * setting, and GSM-plain texts (every octet its own septet). The fast path
 * gets the GSM-plain verdict of smx_text_choose_plain (so it copies such a
 * text), the general path does not (it maps every octet, as before that
 * verdict existed). Whenever the fast path says it applies, the PDU it writes must
 * be byte for byte the general path's; it must apply to every counted
 * (non-empty) text that segments into one part, and refuse every one that
 * does not (and never write past SMX_SUBMIT_SHORT_MAX). The bounds: an address of 21
 * characters or a buffer under SMX_SUBMIT_SHORT_MAX is refused. */
#include <stdlib.h>
#include <string.h>

#include "pdu/pdu.h"
#include "pdu/smpp_defs.h"
#include "pdu/submit_short.h"
#include "testlib.h"
#include "text/text.h"

#include "pdu_mt_gen.h"

/* An address of random length up to max (pdu_mt_gen.h). */
static void gen_addr(char *a, uint8_t *len, unsigned max)
{
        *len = (uint8_t)rnd(max + 1);
        gen_addr_chars(a, *len);
}

static long cases_fast, cases_general, cases_plain, bad_bytes, bad_apply, bad_over;

/* One MT through both paths. */
static void one_mt(const struct smx_dcs_map *map)
{
        uint8_t text[1200];
        size_t tlen = gen_text(text, rnd(3) ? 100 : 300);
        enum smx_encoding want = (enum smx_encoding)rnd(SMX_ENC_UTF8 + 1);
        size_t units = 0;
        int plain = 0;
        int enc = smx_text_choose_plain(text, tlen, want, &units, &plain);
        if (enc < 0)
                return;
        char from[SMX_ADDR_MAX], to[SMX_ADDR_MAX];
        uint8_t from_len, to_len;
        gen_addr(from, &from_len, SMX_ADDR_MAX);
        gen_addr(to, &to_len, SMX_ADDR_MAX);
        uint8_t ident[16];
        gen_ident(ident);
        int with_ident = rnd(2), packed = rnd(2);
        uint8_t esm = rnd(2) ? 0 : (uint8_t)rnd(256), prio = (uint8_t)rnd(4);
        uint8_t regdel = rnd(2) ? SMPP_REGDEL_FINAL : SMPP_REGDEL_NONE;
        uint8_t ton = (uint8_t)rnd(7), npi = (uint8_t)rnd(19);
        uint32_t seq = 1 + rnd(0x7FFFFFFE);
        struct smx_seg_opts so = {
                .enc = (enum smx_encoding)enc, .units = units, .mode = (enum smx_seg_mode)rnd(4),
                .ref = (uint16_t)rnd(65536), .map = map, .gsm_packed = (uint8_t)packed,
        };

        /* the general path, as send_mt runs it, without the GSM-plain copy */
        struct smx_seg_part part;
        int single = general_single_part(text, tlen, &so, &part);
        uint8_t want_pdu[1024];
        ssize_t want_n = -1;
        if (single) {
                struct smx_pdu p;
                memset(&p, 0, sizeof p);
                p.h.command_id = SMPP_SUBMIT_SM;
                p.h.sequence_number = seq;
                p.flags = SMX_PDUF_CSTR_CHECKED;
                p.u.sm.source_addr_ton = ton;
                p.u.sm.source_addr_npi = npi;
                p.u.sm.source_addr = (struct smx_bytes){ (const uint8_t *)from, from_len };
                p.u.sm.dest_addr_ton = 1;
                p.u.sm.dest_addr_npi = 1;
                p.u.sm.destination_addr = (struct smx_bytes){ (const uint8_t *)to, to_len };
                p.u.sm.esm_class = esm;
                p.u.sm.priority_flag = prio;
                p.u.sm.registered_delivery = regdel;
                p.u.sm.data_coding = part.data_coding;
                p.u.sm.short_message = (struct smx_bytes){ part.sm, (uint16_t)part.len };
                if (with_ident) {
                        p.tlv.present |= SMX_TLV_SMX_MSG_IDENTITY;
                        p.tlv.smx_msg_identity = (struct smx_bytes){ ident, sizeof ident };
                }
                want_n = smx_pdu_encode(want_pdu, sizeof want_pdu, &p, NULL, 0);
                if (want_n <= 0)
                        bad_bytes++;
        }

        /* the fast path, into a buffer filled with a marker */
        uint8_t buf[SMX_SUBMIT_SHORT_MAX + 64];
        memset(buf, 0xA5, sizeof buf);
        struct smx_submit_short f = {
                .src = (const uint8_t *)from, .dst = (const uint8_t *)to,
                .src_len = from_len, .dst_len = to_len, .src_ton = ton, .src_npi = npi,
                .dst_ton = 1, .dst_npi = 1, .esm_class = esm, .priority_flag = prio,
                .registered_delivery = regdel,
        };
        uint8_t *sm = smx_pdu_submit_short_begin(buf, SMX_SUBMIT_SHORT_MAX, &f);
        if (!sm) {
                bad_apply++;
                return;
        }
        uint8_t dcs = 0;
        so.gsm_plain = (uint8_t)plain;
        long len = smx_text_single_part(text, tlen, &so, sm, SMPP_SHORT_MESSAGE_MAX, &dcs);
        /* an empty text has no units counted: smx_text_segment's */
        if ((len >= 0) != (single && units > 0)) {
                bad_apply++;
                return;
        }
        if (len < 0) {
                cases_general++;
                return;
        }
        ssize_t n = smx_pdu_submit_short_end(buf, sm, (size_t)len, dcs, with_ident ? ident : NULL,
                                             sizeof ident, seq);
        cases_fast++;
        cases_plain += plain;
        if (n != want_n || memcmp(buf, want_pdu, (size_t)want_n) != 0)
                bad_bytes++;
        for (size_t i = (size_t)(n > 0 ? n : 0); i < sizeof buf; i++)
                if (i >= SMX_SUBMIT_SHORT_MAX && buf[i] != 0xA5)
                        bad_over++;
}

static void test_fast_path_is_byte_identical_to_the_general_encoder(void)
{
        struct smx_dcs_map service, generic;
        smx_dcs_map_service(&service);
        smx_dcs_map_generic(&generic);
        for (int i = 0; i < 40000; i++)
                one_mt(i & 1 ? &generic : (i & 2 ? &service : NULL));
        CHECK_EQ(bad_bytes, 0);
        CHECK_EQ(bad_apply, 0);
        CHECK_EQ(bad_over, 0);
        printf("# %ld MTs on the fast path (%ld of them GSM-plain), %ld left to the general path\n",
               cases_fast, cases_plain, cases_general);
        CHECK(cases_fast > 10000);      /* both paths were exercised */
        CHECK(cases_plain > 2000);      /* and the GSM-plain copy */
        CHECK(cases_general > 1000);
}

static void test_fast_path_refuses_what_it_cannot_bound(void)
{
        uint8_t buf[SMX_SUBMIT_SHORT_MAX];
        uint8_t addr[32];
        memset(addr, '1', sizeof addr);
        struct smx_submit_short f = { .src = addr, .dst = addr, .src_len = 20, .dst_len = 20 };
        CHECK(smx_pdu_submit_short_begin(buf, sizeof buf, &f) != NULL);
        CHECK(smx_pdu_submit_short_begin(buf, sizeof buf - 1, &f) == NULL);
        f.src_len = SMPP_ADDR_MAX;
        CHECK(smx_pdu_submit_short_begin(buf, sizeof buf, &f) == NULL);
        f.src_len = 20;
        f.dst_len = SMPP_ADDR_MAX;
        CHECK(smx_pdu_submit_short_begin(buf, sizeof buf, &f) == NULL);
        f.dst_len = 0;
        uint8_t *sm = smx_pdu_submit_short_begin(buf, sizeof buf, &f);
        CHECK(sm != NULL);
        CHECK_EQ(smx_pdu_submit_short_end(buf, sm, SMPP_SHORT_MESSAGE_MAX + 1, 0, NULL, 0, 1),
                 -EINVAL);
        CHECK_EQ(smx_pdu_submit_short_end(buf, sm, 0, 0, addr, 0, 1), -EINVAL);
        CHECK_EQ(smx_pdu_submit_short_end(buf, sm, 0, 0, addr, SMPP_SMX_IDENTITY_MAX + 1, 1),
                 -EINVAL);
        /* a full short_message and the largest identity fit the bound exactly */
        uint8_t id[SMPP_SMX_IDENTITY_MAX];
        memset(id, 7, sizeof id);
        f.src_len = f.dst_len = 20;
        sm = smx_pdu_submit_short_begin(buf, sizeof buf, &f);
        memset(sm, 'x', SMPP_SHORT_MESSAGE_MAX);
        CHECK_EQ(smx_pdu_submit_short_end(buf, sm, SMPP_SHORT_MESSAGE_MAX, 0, id, sizeof id, 9),
                 (long long)SMX_SUBMIT_SHORT_MAX);
        /* and decode as the submit_sm they are */
        struct smx_pdu p;
        CHECK_EQ(smx_pdu_decode(buf, SMX_SUBMIT_SHORT_MAX, NULL, &p, NULL), SMX_PDU_OK);
        CHECK_EQ(p.h.sequence_number, 9);
        CHECK_EQ(p.u.sm.short_message.len, SMPP_SHORT_MESSAGE_MAX);
        CHECK_EQ(p.u.sm.source_addr.len, 20);
        CHECK_EQ(p.tlv.smx_msg_identity.len, SMPP_SMX_IDENTITY_MAX);
}

static void test_single_part_refuses_uncounted_and_long_texts(void)
{
        uint8_t text[400], out[SMPP_SHORT_MESSAGE_MAX], dcs;
        memset(text, 'a', sizeof text);
        struct smx_seg_opts so = { .enc = SMX_ENC_GSM, .units = 160 };
        CHECK_EQ(smx_text_single_part(text, 160, &so, out, sizeof out, &dcs), 160);
        so.units = 161;
        CHECK(smx_text_single_part(text, 161, &so, out, sizeof out, &dcs) < 0);
        so.units = 0;           /* not counted: smx_text_segment counts */
        CHECK(smx_text_single_part(text, 10, &so, out, sizeof out, &dcs) < 0);
        so = (struct smx_seg_opts){ .enc = SMX_ENC_AUTO, .units = 10 };
        CHECK(smx_text_single_part(text, 10, &so, out, sizeof out, &dcs) < 0);
        so = (struct smx_seg_opts){ .enc = SMX_ENC_UCS2, .units = 70 };
        CHECK_EQ(smx_text_single_part(text, 70, &so, out, sizeof out, &dcs), 140);
        CHECK(smx_text_single_part(text, 70, &so, out, 139, &dcs) < 0);   /* room too small */
}

int main(void)
{
        RUN(test_fast_path_is_byte_identical_to_the_general_encoder);
        RUN(test_fast_path_refuses_what_it_cannot_bound);
        RUN(test_single_part_refuses_uncounted_and_long_texts);
        return t_done();
}
