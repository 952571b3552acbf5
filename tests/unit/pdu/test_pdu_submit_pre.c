/* smx_submit's pre-encoded submit_sm body (src/core/mt_pre.h) against the
 * general path the worker runs for the same MT (smx_text_segment into a
 * scratch buffer, then smx_pdu_encode of a struct smx_pdu set as send_mt
 * sets it), and the slot's accessors against the MT as given.
 *
 * Random MTs (fixed seed): addresses of 0..20 characters (20, the limit, a
 * quarter of the time), digits or alphanumeric, every encoding asked for,
 * packed and unpacked GSM, the service and the generic data_coding maps,
 * texts of ASCII, GSM extension characters, Latin-1, other BMP characters,
 * emoji and GSM-plain ones, every priority, with and without a DR, with and
 * without the identity TLV (a bind that takes no TLVs gets the body less
 * its last 20 octets). The PDU the worker makes of a pre-encoded body (its
 * header, then the body copied, send_mt_pre) must be byte for byte the
 * general path's; the body must be made for exactly the MTs that encode as
 * one short_message and fit the slot's inline area with their text; and
 * smx_slot_from / smx_slot_to / smx_slot_text / smx_slot_pre_len must give
 * back the addresses, the text and the body's length, whether the text is
 * the short_message's octets or stored after them. Nothing is written past
 * the inline area. */
#include <stdlib.h>
#include <string.h>

#include "core/mt_pre.h"
#include "ingress/ingress.h"
#include "pdu/pdu.h"
#include "pdu/smpp_defs.h"
#include "pdu/submit_short.h"
#include "testlib.h"
#include "text/text.h"

#include "pdu_mt_gen.h"

/* An address of random length up to max (pdu_mt_gen.h). */
static void gen_addr(char *a, uint8_t *len, unsigned max)
{
        *len = (uint8_t)(rnd(4) ? rnd(max + 1) : max);
        gen_addr_chars(a, *len);
}

static long cases_pre, cases_pre_enc[SMX_ENC_UTF8 + 1], cases_at_end, cases_limit, cases_general,
        cases_no_ident, bad_bytes, bad_apply, bad_access, bad_over;

/* The general path's PDU for a single-part MT, as send_mt encodes it. */
static ssize_t general_pdu(uint8_t *out, size_t cap, const struct smx_seg_part *pt,
                           const char *from, uint8_t from_len, const char *to, uint8_t to_len,
                           uint8_t prio, int want_dr, const uint8_t *ident, uint32_t seq)
{
        struct smx_pdu p;
        memset(&p, 0, sizeof p);
        int digits = smx_mt_from_digits(from, from_len);
        p.h.command_id = SMPP_SUBMIT_SM;
        p.h.sequence_number = seq;
        p.flags = SMX_PDUF_CSTR_CHECKED;
        p.u.sm.source_addr_ton = digits ? 1 : 5;
        p.u.sm.source_addr_npi = digits ? 1 : 0;
        p.u.sm.source_addr = (struct smx_bytes){ (const uint8_t *)from, from_len };
        p.u.sm.dest_addr_ton = 1;
        p.u.sm.dest_addr_npi = 1;
        p.u.sm.destination_addr = (struct smx_bytes){ (const uint8_t *)to, to_len };
        p.u.sm.esm_class = pt->esm_class;
        p.u.sm.priority_flag = prio;
        p.u.sm.registered_delivery = want_dr ? SMPP_REGDEL_FINAL : SMPP_REGDEL_NONE;
        p.u.sm.data_coding = pt->data_coding;
        p.u.sm.short_message = (struct smx_bytes){ pt->sm, (uint16_t)pt->len };
        if (ident) {
                p.tlv.present |= SMX_TLV_SMX_MSG_IDENTITY;
                p.tlv.smx_msg_identity = (struct smx_bytes){ ident, 16 };
        }
        return smx_pdu_encode(out, cap, &p, NULL, 0);
}

/* One MT through both paths; text NULL: a random one. */
static void one_mt(const struct smx_dcs_map *map, const uint8_t *text_in, size_t tlen_in,
                   enum smx_encoding want)
{
        uint8_t text[1200];
        size_t tlen = tlen_in;
        if (text_in)
                memcpy(text, text_in, tlen);
        else
                tlen = gen_text(text, rnd(3) ? 100 : (rnd(2) ? 214 : 300));
        size_t units = 0;
        int plain = 0;
        int enc = smx_text_choose_plain(text, tlen, want, &units, &plain);
        if (enc < 0)
                return;
        /* 64 bytes each though the generator writes at most SMX_ADDR_MAX:
         * copy_upto64's 32-byte branch, inlined here, is unreachable for
         * these lengths, but gcc -O3 cannot tell and -Warray-bounds fails the
         * release build on a 20-byte array */
        char from[64], to[64];
        uint8_t from_len, to_len;
        gen_addr(from, &from_len, SMX_ADDR_MAX);
        gen_addr(to, &to_len, SMX_ADDR_MAX);
        uint8_t ident[16];
        gen_ident(ident);
        int with_ident = rnd(2), packed = rnd(2), want_dr = rnd(2);
        uint8_t prio = (uint8_t)rnd(4);
        uint32_t seq = 1 + rnd(0x7FFFFFFE);
        static struct smx_dcs_map service_map;
        smx_dcs_map_service(&service_map);
        const struct smx_dcs_map *m = map ? map : &service_map;
        struct smx_seg_opts so = {
                .enc = (enum smx_encoding)enc, .units = units, .mode = (enum smx_seg_mode)rnd(4),
                .ref = (uint16_t)rnd(65536), .map = map, .gsm_packed = (uint8_t)packed,
        };

        /* the general path, without the GSM-plain copy */
        struct smx_seg_part part;
        int single = general_single_part(text, tlen, &so, &part) && units > 0;
        uint8_t want_pdu[1024];
        ssize_t want_n = -1;
        if (single) {
                want_n = general_pdu(want_pdu, sizeof want_pdu, &part, from, from_len, to,
                                     to_len, prio, want_dr, with_ident ? ident : NULL, seq);
                if (want_n <= 0)
                        bad_bytes++;
        }

        /* the pre-encoded body, into a slot filled with a marker */
        static _Alignas(64) uint8_t slot_mem[SMX_SLOT_SIZE + 64];
        memset(slot_mem, 0xA5, sizeof slot_mem);
        struct smx_slot *s = (struct smx_slot *)(void *)slot_mem;
        so.gsm_plain = (uint8_t)plain;
        int at_end = -1;
        size_t body = smx_mt_pre_encode(s->text_inline, SMX_SLOT_TEXT_INLINE, from, from_len, to,
                                        to_len, prio, want_dr, text, tlen, &so, ident,
                                        smx_dcs_for_encoding(m, SMX_ENC_GSM), &at_end);
        for (size_t i = SMX_SLOT_SIZE; i < sizeof slot_mem; i++)
                if (slot_mem[i] != 0xA5)
                        bad_over++;
        /* made exactly for the single-part MTs that fit with their text */
        size_t fixed = SMX_SUBMIT_BODY_FIXED + from_len + to_len + SMX_SUBMIT_IDENT_TLV;
        int expect = 0;
        if (single) {
                size_t sm_len = part.len;
                int same = sm_len == tlen && memcmp(part.sm, text, tlen) == 0;
                expect = fixed + tlen <= SMX_SLOT_TEXT_INLINE &&
                         fixed + sm_len + (same ? 0 : tlen) <= SMX_SLOT_TEXT_INLINE;
        }
        if ((body > 0) != expect) {
                bad_apply++;
                return;
        }
        if (!body) {
                cases_general++;
                return;
        }
        cases_pre++;
        cases_pre_enc[enc]++;
        cases_at_end += at_end == 1;
        cases_limit += from_len == SMX_ADDR_MAX && to_len == SMX_ADDR_MAX;
        cases_no_ident += !with_ident;

        /* the slot as smx_submit leaves it, read back */
        s->overflow = NULL;
        s->flags = (uint8_t)(SMX_SLOTF_PRE | (at_end ? SMX_SLOTF_PRE_TEXT_END : 0));
        s->from_len = from_len;
        s->to_len = to_len;
        s->text_len = (uint16_t)tlen;
        if (smx_slot_pre_len(s) != body || memcmp(smx_slot_from(s), from, from_len) != 0 ||
            memcmp(smx_slot_to(s), to, to_len) != 0 ||
            memcmp(smx_slot_text(s), text, tlen) != 0)
                bad_access++;

        /* the PDU the worker makes of it (send_mt_pre) */
        uint8_t buf[SMPP_HEADER_LEN + 256];
        size_t blen = smx_slot_pre_sm_at(s) + s->text_inline[smx_slot_pre_sm_at(s) - 1] +
                      (with_ident ? SMX_SUBMIT_IDENT_TLV : 0);
        smx_pdu_submit_header(buf, blen, seq);
        copy_upto256(buf + SMPP_HEADER_LEN, s->text_inline, blen);
        if ((ssize_t)(SMPP_HEADER_LEN + blen) != want_n ||
            memcmp(buf, want_pdu, (size_t)want_n) != 0)
                bad_bytes++;
}

static void test_pre_encoded_body_is_the_general_encoders(void)
{
        struct smx_dcs_map service, generic;
        smx_dcs_map_service(&service);
        smx_dcs_map_generic(&generic);
        for (int i = 0; i < 60000; i++)
                one_mt(i & 1 ? &generic : (i & 2 ? &service : NULL), NULL, 0,
                       (enum smx_encoding)rnd(SMX_ENC_UTF8 + 1));
        CHECK_EQ(bad_bytes, 0);
        CHECK_EQ(bad_apply, 0);
        CHECK_EQ(bad_access, 0);
        CHECK_EQ(bad_over, 0);
        printf("# %ld MTs pre-encoded (GSM %ld, ASCII %ld, Latin-1 %ld, UCS-2 %ld, UTF-8 %ld; "
               "text stored after the body %ld, both addresses at 20 %ld, no TLV %ld), "
               "%ld left to the worker\n",
               cases_pre, cases_pre_enc[SMX_ENC_GSM], cases_pre_enc[SMX_ENC_ASCII],
               cases_pre_enc[SMX_ENC_LATIN1], cases_pre_enc[SMX_ENC_UCS2],
               cases_pre_enc[SMX_ENC_UTF8], cases_at_end, cases_limit, cases_no_ident,
               cases_general);
        CHECK(cases_pre > 10000);
        for (int e = SMX_ENC_GSM; e <= SMX_ENC_UCS2; e++)
                CHECK(cases_pre_enc[e] > 200);   /* every encoding the service map sends */
        CHECK(cases_at_end > 1000);
        CHECK(cases_limit > 200);
        CHECK(cases_no_ident > 1000);
        CHECK(cases_general > 1000);
}

/* The size limit, exactly: with both addresses at 20 characters the body's
 * fixed part is 77 octets, so a GSM-plain text of 139 octets (its own
 * short_message) fills the 216-octet inline area and is pre-encoded, one of
 * 140 is not; a UCS-2 text whose short_message differs from it needs room
 * for both. */
static void test_pre_encoding_stops_at_the_inline_area(void)
{
        CHECK_EQ(SMX_SLOT_TEXT_INLINE, 216);
        size_t room = SMX_SLOT_TEXT_INLINE;
        size_t fixed = SMX_SUBMIT_BODY_FIXED + 20 + 20 + SMX_SUBMIT_IDENT_TLV;
        uint8_t area[512], text[256], ident[16] = {1, 2, 3};
        char addr[20];
        memset(addr, '7', sizeof addr);
        memset(text, 'a', sizeof text);
        struct smx_seg_opts so = { .enc = SMX_ENC_GSM, .gsm_plain = 1 };
        int at_end;
        size_t fit = room - fixed;   /* text octets that fill it */
        so.units = fit;
        CHECK_EQ(smx_mt_pre_encode(area, room, addr, 20, addr, 20, 0, 0, text, fit, &so, ident, 2,
                                   &at_end),
                 room);
        CHECK_EQ(at_end, 0);
        so.units = fit + 1;
        CHECK_EQ(smx_mt_pre_encode(area, room, addr, 20, addr, 20, 0, 0, text, fit + 1, &so, ident,
                                   2, &at_end),
                 0);
        /* "\xd0\x96" (Cyrillic Zhe): 2 octets of UTF-8, 2 of UCS-2, not the same */
        uint8_t zhe[200];
        for (size_t i = 0; i < sizeof zhe; i += 2) {
                zhe[i] = 0xD0;
                zhe[i + 1] = 0x96;
        }
        so = (struct smx_seg_opts){ .enc = SMX_ENC_UCS2 };
        size_t n = (room - fixed) / 4 * 2;   /* octets of UTF-8: body + text just fit */
        so.units = n / 2;
        size_t body = smx_mt_pre_encode(area, room, addr, 20, addr, 20, 0, 0, zhe, n, &so, ident, 2,
                                        &at_end);
        CHECK_EQ(body, fixed + n);
        CHECK_EQ(at_end, 1);
        CHECK(memcmp(area + room - n, zhe, n) == 0);
        so.units = n / 2 + 1;
        CHECK_EQ(smx_mt_pre_encode(area, room, addr, 20, addr, 20, 0, 0, zhe, n + 2, &so, ident, 2,
                                   &at_end),
                 0);
}

int main(void)
{
        RUN(test_pre_encoded_body_is_the_general_encoders);
        RUN(test_pre_encoding_stops_at_the_inline_area);
        return t_done();
}
