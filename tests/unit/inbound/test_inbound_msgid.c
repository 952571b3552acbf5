/* msgid_norm's two base rules on the inbound path: hex_to_dec (resp id hex,
 * receipt text id decimal) and its reverse dec_to_hex (resp id decimal,
 * receipt text id hex, Kannel's msg-id-type 2). The rule set a bind's
 * msgid_norm gives the normaliser (inbound_id_rules_of + smx_msgid_normalise:
 * both directions, the receipted_message_id TLV read as the resp's id, zeros,
 * ids too long to convert, ids that are not numbers), then DRs through
 * inbound_on_deliver_w: text-only hex receipts of decimal resp ids, after the
 * resp and before it (parked, then matched), the TLV case, and DRs crossing
 * between a dec_to_hex SMSC and SMSCs with other rules (the rules bit of
 * dec_to_hex is past the four older ones), in process and as the keys a
 * shared store's DR script is given. */
#include "inbound/inbound_int.h"
#include "inbound_fixture.h"
#include "store/rstore.h"

static const struct smx_bind_info bind0 = { .index = 0, .name = "smsc1.dc3", .site = "dc3" };
static const struct smx_bind_info bind1 = { .index = 1, .name = "smsc2.bos", .site = "bos" };

static int accept_id(struct smx_inbound *in, const struct smx_bind_info *b, const char *msgid,
                     const char *app, uint64_t serial, struct smx_event_ring *ring, uint64_t now)
{
        return inbound_on_accepted_w(in, b, (const uint8_t *)msgid, strlen(msgid), app,
                                     strlen(app), serial, 0, 1, ring, now);
}

/* id normalised as it comes from src under msgid_norm `norm`. */
static int norm_as(uint32_t norm, enum smx_id_source src, const char *id, char *out, size_t cap)
{
        struct smx_id_norm rules;
        inbound_id_rules_of(norm, &rules);
        return smx_msgid_normalise(&rules, src, (const uint8_t *)id, strlen(id), out, cap);
}

static void test_dec_to_hex_makes_decimal_resp_and_hex_receipt_equal(void)
{
        char a[SMX_MSGID_CANON_MAX + 1];
        const uint32_t d2h = SMX_MSGID_DEC_TO_HEX;
        CHECK_EQ(norm_as(d2h, SMX_ID_FROM_RESP, "5188252", a, sizeof a), 7);
        CHECK_STR(a, "5188252");
        /* the receipt's id in hex, any case, any padding: 0x4F2A9C = 5188252 */
        CHECK_EQ(norm_as(d2h, SMX_ID_FROM_DR_TEXT, "4F2A9C", a, sizeof a), 7);
        CHECK_STR(a, "5188252");
        norm_as(d2h, SMX_ID_FROM_DR_TEXT, "4f2a9c", a, sizeof a);
        CHECK_STR(a, "5188252");
        norm_as(d2h, SMX_ID_FROM_DR_TEXT, "00004F2A9C", a, sizeof a);
        CHECK_STR(a, "5188252");
        /* a padded decimal resp id loses its zeros too */
        norm_as(d2h, SMX_ID_FROM_RESP, "0005188252", a, sizeof a);
        CHECK_STR(a, "5188252");
        /* all zeros on both sides stay one zero */
        norm_as(d2h, SMX_ID_FROM_RESP, "000", a, sizeof a);
        CHECK_STR(a, "0");
        norm_as(d2h, SMX_ID_FROM_DR_TEXT, "00", a, sizeof a);
        CHECK_STR(a, "0");
        /* the TLV is the resp's own id (R6): read as decimal, never as hex */
        norm_as(d2h, SMX_ID_FROM_RESP, "1234", a, sizeof a);
        CHECK_STR(a, "1234");
        norm_as(d2h, SMX_ID_FROM_DR_TEXT, "1234", a, sizeof a);
        CHECK_STR(a, "4660");
}

static void test_hex_to_dec_is_unchanged_and_the_mirror_of_dec_to_hex(void)
{
        char a[SMX_MSGID_CANON_MAX + 1];
        const uint32_t h2d = SMX_MSGID_HEX_TO_DEC;
        norm_as(h2d, SMX_ID_FROM_RESP, "4F2A9C", a, sizeof a);
        CHECK_STR(a, "5188252");
        norm_as(h2d, SMX_ID_FROM_DR_TEXT, "5188252", a, sizeof a);
        CHECK_STR(a, "5188252");
        norm_as(h2d, SMX_ID_FROM_RESP, "1234", a, sizeof a);
        CHECK_STR(a, "4660");
        norm_as(h2d, SMX_ID_FROM_DR_TEXT, "1234", a, sizeof a);
        CHECK_STR(a, "1234");
        /* hex_to_dec's receipt id is decimal: hex letters make it opaque */
        norm_as(h2d, SMX_ID_FROM_DR_TEXT, "4F2A9C", a, sizeof a);
        CHECK_STR(a, "4F2A9C");
        /* auto still guesses no base: a decimal-looking id stays decimal */
        norm_as(SMX_MSGID_AUTO, SMX_ID_FROM_DR_TEXT, "4F2A9C", a, sizeof a);
        CHECK_STR(a, "4f2a9c");
        norm_as(SMX_MSGID_AUTO, SMX_ID_FROM_RESP, "5188252", a, sizeof a);
        CHECK_STR(a, "5188252");
}

static void test_dec_to_hex_leaves_non_numbers_opaque(void)
{
        char a[SMX_MSGID_CANON_MAX + 1];
        const uint32_t d2h = SMX_MSGID_DEC_TO_HEX;
        /* a resp id that is not decimal, a receipt id that is not hex: kept as
         * text (case and zeros as sent, no flag asks otherwise) */
        norm_as(d2h, SMX_ID_FROM_RESP, "51A8", a, sizeof a);
        CHECK_STR(a, "51A8");
        norm_as(d2h, SMX_ID_FROM_DR_TEXT, "004F-2A", a, sizeof a);
        CHECK_STR(a, "004F-2A");
        norm_as(d2h, SMX_ID_FROM_DR_TEXT, "0x4F2A", a, sizeof a);
        CHECK_STR(a, "0x4F2A");
        CHECK_EQ(norm_as(d2h, SMX_ID_FROM_DR_TEXT, "", a, sizeof a), 0);
        /* with the flags, opaque ids fold and lose zeros */
        norm_as(d2h | SMX_MSGID_CASE_FOLD | SMX_MSGID_STRIP_ZEROS, SMX_ID_FROM_DR_TEXT, "004F-2A",
                a, sizeof a);
        CHECK_STR(a, "4f-2a");
        norm_as(d2h | SMX_MSGID_CASE_FOLD, SMX_ID_FROM_RESP, "AB-1", a, sizeof a);
        CHECK_STR(a, "ab-1");
}

static void test_dec_to_hex_long_ids(void)
{
        char a[SMX_MSGID_CANON_MAX + 1], small[SMX_MSGID_MAX + 1], big[200];
        const uint32_t d2h = SMX_MSGID_DEC_TO_HEX;
        /* the longest id an SMSC may send (SMX_MSGID_MAX = 64 hex digits) is
         * 2^256 - 1: 78 decimal digits, which the canonical buffer holds */
        memset(big, 'F', 64);
        big[64] = 0;
        CHECK_EQ(norm_as(d2h, SMX_ID_FROM_DR_TEXT, big, a, sizeof a), 78);
        CHECK_STR(a, "115792089237316195423570985008687907853269984665640564039457584007913129639935");
        /* ... and would not fit a buffer of the id's own length */
        CHECK_EQ(norm_as(d2h, SMX_ID_FROM_DR_TEXT, big, small, sizeof small), SMX_E2BIG);
        /* a long decimal resp id is copied, not converted: any length */
        memset(big, '9', 64);
        big[64] = 0;
        CHECK_EQ(norm_as(d2h, SMX_ID_FROM_RESP, big, a, sizeof a), 64);
        CHECK_STR(a, big);
        /* past the converter's 128 digits the id is opaque, kept as sent */
        char out[260];
        memset(big, 'A', 150);
        big[150] = 0;
        CHECK_EQ(norm_as(d2h, SMX_ID_FROM_DR_TEXT, big, out, sizeof out), 150);
        CHECK_STR(out, big);
}

/* The case of the brief: resp 5188252, text-only receipt id:4F2A9C. */
static void test_text_only_hex_receipt_of_decimal_resp_is_correlated(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_bind_info b = bind0;
        struct smx_pdu p;
        struct fx_ev ev[4];
        struct smx_inbound_stats st;
        /* under the default the two spellings name different MTs: parked */
        CHECK_EQ(accept_id(in, &b, "5188252", "kannel-2", 1, ring, 1000), 0);
        fx_dr(&p, NULL, -1, "id:4F2A9C sub:001 dlvrd:001 stat:DELIVRD err:000");
        CHECK_EQ(inbound_on_deliver_w(in, &b, &p, ring, 1001), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 0);
        inbound_stats(in, &st);
        CHECK_EQ(st.parked, 1);
        event_ring_destroy(ring);
        inbound_destroy(in);

        in = fx_inbound(60000);
        ring = event_ring_create(16);
        b.msgid_norm = SMX_MSGID_DEC_TO_HEX;
        CHECK_EQ(accept_id(in, &b, "5188252", "kannel-2", 1, ring, 1000), 0);
        CHECK_EQ(inbound_on_deliver_w(in, &b, &p, ring, 1001), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_EQ(ev[0].r.type, SMX_EV_DR);
        CHECK(ev[0].r.flags & SMX_EVF_HAS_ID);
        CHECK_STR(ev[0].r.id, "kannel-2");
        CHECK_STR(ev[0].r.message_id, "4F2A9C");  /* as the receipt wrote it */
        CHECK_EQ(ev[0].r.state, SMX_DR_DELIVERED);
        CHECK(ev[0].r.flags & SMX_EVF_MT_FINAL);
        /* a re-sent copy in lower case with zeros is the same DR: a duplicate */
        fx_dr(&p, NULL, -1, "id:004f2a9c sub:001 dlvrd:001 stat:DELIVRD err:000");
        CHECK_EQ(inbound_on_deliver_w(in, &b, &p, ring, 1002), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 0);
        inbound_stats(in, &st);
        CHECK_EQ(st.parked, 0);
        CHECK_EQ(st.uncorrelated, 0);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_hex_receipt_before_decimal_resp_is_parked_then_matched(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_bind_info b0 = bind0, b1 = bind1;
        struct smx_pdu p;
        struct fx_ev ev[4];
        struct smx_inbound_stats st;
        b0.msgid_norm = b1.msgid_norm = SMX_MSGID_DEC_TO_HEX;
        /* 0x4F2A9D = 5188253, written before the resp, at the other site */
        fx_dr(&p, NULL, -1, "id:4F2A9D sub:001 dlvrd:001 stat:UNDELIV err:001");
        CHECK_EQ(inbound_on_deliver_w(in, &b1, &p, ring, 1000), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 0);
        inbound_stats(in, &st);
        CHECK_EQ(st.parked, 1);
        CHECK_EQ(st.park_now, 1);
        CHECK_EQ(accept_id(in, &b0, "5188253", "early", 2, ring, 1005), 1);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].r.id, "early");
        CHECK_STR(ev[0].r.message_id, "4F2A9D");
        CHECK_EQ(ev[0].r.state, SMX_DR_UNDELIVERABLE);
        CHECK_EQ(ev[0].r.bind, 1);
        inbound_stats(in, &st);
        CHECK_EQ(st.park_matched, 1);
        CHECK_EQ(st.park_now, 0);
        CHECK_EQ(st.id_rules_crossed, 0);       /* one rule set: the key itself */
        inbound_tick_w(in, 0, 1, ring, 1000 + 70000);
        CHECK_EQ(fx_drain(ring, ev, 4), 0);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

/* R6: when the TLV is there it is the resp's id, decimal on this SMSC;
 * only the text's id is hex. */
static void test_receipted_message_id_tlv_is_read_as_the_decimal_resp_id(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_bind_info b = bind0;
        struct smx_pdu p;
        struct fx_ev ev[4];
        b.msgid_norm = SMX_MSGID_DEC_TO_HEX;
        CHECK_EQ(accept_id(in, &b, "1234", "dec-1234", 1, ring, 1000), 0);
        CHECK_EQ(accept_id(in, &b, "4660", "dec-4660", 2, ring, 1000), 0);
        /* TLV 1234 (the text's id, 4D2, is 1234 in hex: the same MT) */
        fx_dr(&p, "1234", SMPP_STATE_DELIVERED, "id:4D2 sub:001 dlvrd:001 stat:DELIVRD err:000");
        CHECK_EQ(inbound_on_deliver_w(in, &b, &p, ring, 1001), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].r.id, "dec-1234");
        CHECK_STR(ev[0].r.message_id, "1234");
        /* text only, id:1234 is hex: 0x1234 = 4660, the other MT */
        fx_dr(&p, NULL, -1, "id:1234 sub:001 dlvrd:001 stat:DELIVRD err:000");
        CHECK_EQ(inbound_on_deliver_w(in, &b, &p, ring, 1002), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].r.id, "dec-4660");
        event_ring_destroy(ring);
        inbound_destroy(in);
}

/* SMSCs with other rules deliver a dec_to_hex SMSC's DRs (R3): the second
 * look under the storing SMSC's rules finds them, after the resp at once,
 * before it at the drain's last look. dec_to_hex is rules bit 16, past the
 * four older flags: the rule sets seen must keep it apart from auto (0). */
static void test_dr_crossing_from_dec_to_hex_to_auto_smsc_is_matched(void)
{
        struct smx_inbound *in = fx_inbound(600000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_bind_info d2h = bind0, autob = bind1;
        struct smx_pdu p;
        struct fx_ev ev[4];
        struct smx_inbound_stats st;
        d2h.msgid_norm = SMX_MSGID_DEC_TO_HEX;
        /* MT on the dec_to_hex SMSC, its text-only receipt on the auto one
         * (auto: "4f2a9c", a miss; dec_to_hex's rules: 5188252, the MT) */
        CHECK_EQ(accept_id(in, &d2h, "5188252", "crossed", 1, ring, 1000), 0);
        fx_dr(&p, NULL, -1, "id:4F2A9C sub:001 dlvrd:001 stat:DELIVRD err:000");
        CHECK_EQ(inbound_on_deliver_w(in, &autob, &p, ring, 1001), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].r.id, "crossed");
        inbound_stats(in, &st);
        CHECK_EQ(st.id_rules_crossed, 1);
        /* early: the receipt comes first on the auto SMSC (parked under
         * "4f2a9d"), the resp's key (5188253) does not find it; the drain's
         * last look does */
        fx_dr(&p, NULL, -1, "id:4F2A9D sub:001 dlvrd:001 stat:DELIVRD err:000");
        CHECK_EQ(inbound_on_deliver_w(in, &autob, &p, ring, 1002), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 0);
        CHECK_EQ(accept_id(in, &d2h, "5188253", "early-crossed", 2, ring, 1003), 0);
        CHECK_EQ(fx_drain(ring, ev, 4), 0);
        inbound_flush_w(in, 0, 1, ring, 1004);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].r.id, "early-crossed");
        inbound_stats(in, &st);
        CHECK_EQ(st.id_rules_crossed, 2);
        CHECK_EQ(st.uncorrelated, 0);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

/* A hex_to_dec SMSC and a dec_to_hex one side by side: each SMSC's own
 * receipts match its MTs, and a DR crossing between them is still found. */
static void test_hex_to_dec_and_dec_to_hex_smscs_side_by_side(void)
{
        struct smx_inbound *in = fx_inbound(600000);
        struct smx_event_ring *ring = event_ring_create(16);
        struct smx_bind_info h2d = bind0, d2h = bind1;
        struct smx_pdu p;
        struct fx_ev ev[4];
        h2d.msgid_norm = SMX_MSGID_HEX_TO_DEC;
        d2h.msgid_norm = SMX_MSGID_DEC_TO_HEX;
        CHECK_EQ(accept_id(in, &h2d, "4F2A9C", "h2d", 1, ring, 1000), 0);     /* 5188252 */
        CHECK_EQ(accept_id(in, &d2h, "5188260", "d2h", 2, ring, 1000), 0);    /* 0x4F2AA4 */
        fx_dr(&p, NULL, -1, "id:5188252 stat:DELIVRD err:000");
        CHECK_EQ(inbound_on_deliver_w(in, &h2d, &p, ring, 1001), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].r.id, "h2d");
        fx_dr(&p, NULL, -1, "id:4f2aa4 stat:DELIVRD err:000");
        CHECK_EQ(inbound_on_deliver_w(in, &d2h, &p, ring, 1002), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].r.id, "d2h");
        /* the d2h MT's receipt on the h2d SMSC: h2d reads id:4F2AA4 as
         * opaque text, the second look under dec_to_hex finds 5188260 */
        fx_dr(&p, NULL, -1, "id:4F2AA4 stat:EXPIRED err:000");
        CHECK_EQ(inbound_on_deliver_w(in, &h2d, &p, ring, 1003), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].r.id, "d2h");
        CHECK_EQ(ev[0].r.state, SMX_DR_EXPIRED);
        struct smx_inbound_stats st;
        inbound_stats(in, &st);
        CHECK_EQ(st.id_rules_crossed, 1);
        CHECK_EQ(st.uncorrelated, 0);
        CHECK_EQ(st.parked, 0);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

/* With a shared store the DR script is given the id's keys under the other
 * configured SMSCs' rules (inbound_remote_dr_req): a receipt arriving on an
 * auto SMSC carries its key under dec_to_hex too, and the other way round. */
static void test_shared_store_dr_carries_its_key_under_dec_to_hex(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_bind_info d2h = bind0, autob = bind1;
        struct smx_pdu p;
        struct rs_in_req r;
        d2h.msgid_norm = SMX_MSGID_DEC_TO_HEX;
        const struct smx_key128 k_dec = smx_hash128("5188252", 7, 0);
        const struct smx_key128 k_auto = smx_hash128("4f2a9c", 6, 0);
        /* one rule set configured: no other keys */
        inbound_note_bind_rules(in, autob.msgid_norm);
        fx_dr(&p, NULL, -1, "id:4F2A9C sub:001 dlvrd:001 stat:DELIVRD err:000");
        CHECK_EQ(inbound_remote_dr_req(in, &autob, &p, &r), 1);
        CHECK(smx_key128_eq(&r.key, &k_auto));
        CHECK_EQ(r.n_alt, 0);
        inbound_note_bind_rules(in, d2h.msgid_norm);
        CHECK_EQ(inbound_remote_dr_req(in, &autob, &p, &r), 1);
        CHECK(smx_key128_eq(&r.key, &k_auto));
        CHECK_EQ(r.n_alt, 1);
        CHECK(smx_key128_eq(&r.alt[0], &k_dec));
        CHECK_EQ(r.state, SMPP_STATE_DELIVERED);
        CHECK_STR(r.msgid, "4F2A9C");
        /* on the dec_to_hex SMSC: its own key is the decimal one */
        CHECK_EQ(inbound_remote_dr_req(in, &d2h, &p, &r), 1);
        CHECK(smx_key128_eq(&r.key, &k_dec));
        CHECK_EQ(r.n_alt, 1);
        CHECK(smx_key128_eq(&r.alt[0], &k_auto));
        /* the TLV is the decimal resp id on both: one key, nothing else */
        fx_dr(&p, "5188252", SMPP_STATE_DELIVERED, NULL);
        CHECK_EQ(inbound_remote_dr_req(in, &d2h, &p, &r), 1);
        CHECK(smx_key128_eq(&r.key, &k_dec));
        CHECK_EQ(r.n_alt, 0);
        inbound_destroy(in);
}

/* Every msgid_norm value a client accepts (client_smsc_check): exact, and
 * none / case_fold / strip_zeros / both with none / hex_to_dec /
 * dec_to_hex. */
static const uint32_t every_rule_set[SMX_MSGID_RULE_SETS] = {
        SMX_MSGID_EXACT,
#define BASES(flags) (flags), (flags) | SMX_MSGID_HEX_TO_DEC, (flags) | SMX_MSGID_DEC_TO_HEX
        BASES(0u), BASES(SMX_MSGID_CASE_FOLD), BASES(SMX_MSGID_STRIP_ZEROS),
        BASES(SMX_MSGID_CASE_FOLD | SMX_MSGID_STRIP_ZEROS),
#undef BASES
};

/* With every rule set configured, a shared store's DR carries its id's key
 * under each of them that differs from its own: none is left out however
 * many there are (there was room for three). The id, zero-padded mixed-case
 * hex, has a different canonical form under more than three of them. */
static void test_shared_store_dr_carries_its_key_under_every_rule_set(void)
{
        struct smx_inbound *in = fx_inbound(60000);
        struct smx_bind_info autob = bind1;
        struct smx_pdu p;
        struct rs_in_req r;
        for (unsigned i = 0; i < SMX_MSGID_RULE_SETS; i++)
                inbound_note_bind_rules(in, every_rule_set[i]);
        inbound_note_bind_rules(in, autob.msgid_norm);
        fx_dr(&p, NULL, -1, "id:004F2a9C sub:001 dlvrd:001 stat:DELIVRD err:000");
        CHECK_EQ(inbound_remote_dr_req(in, &autob, &p, &r), 1);
        char own[SMX_MSGID_CANON_MAX + 1];
        int n = norm_as(SMX_MSGID_AUTO, SMX_ID_FROM_DR_TEXT, "004F2a9C", own, sizeof own);
        CHECK(n > 0);
        struct smx_key128 want[SMX_MSGID_RULE_SETS];
        unsigned n_want = 0;
        want[n_want++] = smx_hash128(own, (size_t)n, 0);
        CHECK(smx_key128_eq(&r.key, &want[0]));
        for (unsigned i = 0; i < SMX_MSGID_RULE_SETS; i++) {
                char norm[SMX_MSGID_CANON_MAX + 1];
                n = norm_as(every_rule_set[i], SMX_ID_FROM_DR_TEXT, "004F2a9C", norm, sizeof norm);
                CHECK(n > 0);
                struct smx_key128 k = smx_hash128(norm, (size_t)n, 0);
                int seen = 0;
                for (unsigned j = 0; j < n_want && !seen; j++)
                        seen = smx_key128_eq(&k, &want[j]);
                if (!seen)
                        want[n_want++] = k;
        }
        /* more than the three there used to be room for */
        CHECK(n_want - 1 > 3);
        CHECK_EQ(r.n_alt, n_want - 1);
        for (unsigned j = 1; j < n_want; j++) {
                int found = 0;
                for (unsigned i = 0; i < r.n_alt && !found; i++)
                        found = smx_key128_eq(&r.alt[i], &want[j]);
                CHECK(found);
        }
        inbound_destroy(in);
}

int main(void)
{
        RUN(test_dec_to_hex_makes_decimal_resp_and_hex_receipt_equal);
        RUN(test_hex_to_dec_is_unchanged_and_the_mirror_of_dec_to_hex);
        RUN(test_dec_to_hex_leaves_non_numbers_opaque);
        RUN(test_dec_to_hex_long_ids);
        RUN(test_text_only_hex_receipt_of_decimal_resp_is_correlated);
        RUN(test_hex_receipt_before_decimal_resp_is_parked_then_matched);
        RUN(test_receipted_message_id_tlv_is_read_as_the_decimal_resp_id);
        RUN(test_dr_crossing_from_dec_to_hex_to_auto_smsc_is_matched);
        RUN(test_hex_to_dec_and_dec_to_hex_smscs_side_by_side);
        RUN(test_shared_store_dr_carries_its_key_under_dec_to_hex);
        RUN(test_shared_store_dr_carries_its_key_under_every_rule_set);
        return t_done();
}
