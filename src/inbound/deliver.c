/* inbound_on_deliver_w: one decoded deliver_sm / data_sm in, at most one
 * event out, and the status for its response.
 *
 * DR path (SMPP.md §7, R6, HOSTILE F):
 *   1. id: receipted_message_id TLV, else the receipt text's id; normalised
 *      with the bind's rules (the same function the submit_sm_resp id goes
 *      through) and hashed to a 128-bit key;
 *   2. state: message_state TLV, else the text's stat; err from the text;
 *   3. dedup claim on (key, state): a duplicate is answered ROK, a claim in
 *      flight elsewhere RX_T_APPN;
 *   4. reserve a ring record (none: abort the claim, RX_T_APPN, no trace);
 *   5. correlation hit (its key; on a miss, its id under the msgid_norm
 *      rules of the other SMSCs that stored correlations, inbound_corr_get)
 *      -> DR event with the app id (and multipart merge);
 *      miss -> park (ROK); an id we can never correlate (none, or longer
 *      than SMX_MSGID_MAX) -> uncorrelated event at once;
 *   6. commit the claim.
 * The MO path is in mo.c and follows the same claim / reserve / commit
 * order. */
#include <stdio.h>
#include <string.h>

#include "inbound/inbound_int.h"

void inbound_id_rules_of(uint32_t msgid_norm, struct smx_id_norm *n)
{
        memset(n, 0, sizeof *n);
        n->digits_auto = msgid_norm == SMX_MSGID_AUTO;
        n->fold_case = (msgid_norm & SMX_MSGID_CASE_FOLD) != 0;
        n->strip_zeros = (msgid_norm & SMX_MSGID_STRIP_ZEROS) != 0;
        if (msgid_norm & SMX_MSGID_HEX_TO_DEC) {
                n->resp_base = 16;
                n->dr_base = 10;
        } else if (msgid_norm & SMX_MSGID_DEC_TO_HEX) {
                /* the resp id (and the TLV, which is that id) decimal, the
                 * receipt text's id hex: both compared in decimal */
                n->resp_base = 10;
                n->dr_base = 16;
        }
}

void inbound_id_rules(const struct smx_bind_info *b, struct smx_id_norm *n)
{
        inbound_id_rules_of(b->msgid_norm, n);
}

int inbound_corr_get(struct smx_inbound *in, struct dr_info *d, struct smx_corr_val *v,
                     uint64_t now_ms)
{
        if (in->corr.ops->get(in->corr.impl, &d->key, v, now_ms))
                return 1;
        uint32_t others = atomic_load_explicit(&in->rules_seen, memory_order_relaxed) &
                          ~(1u << d->rules);
        if (!others || !d->has_key)
                return 0;               /* the default: every bind one rule set */
        for (uint32_t r = 0; r < SMX_MSGID_RULES; r++) {
                if (!(others >> r & 1))
                        continue;
                struct smx_id_norm rules;
                char norm[SMX_MSGID_CANON_MAX + 1];
                inbound_id_rules_of(r, &rules);
                int n = smx_msgid_normalise(&rules, (enum smx_id_source)d->id_src,
                                            (const uint8_t *)d->msgid, d->id_len, norm, sizeof norm);
                if (n < 0)
                        continue;
                struct smx_key128 k = smx_hash128(norm, (size_t)n, 0);
                if (smx_key128_eq(&k, &d->key))
                        continue;
                if (in->corr.ops->get(in->corr.impl, &k, v, now_ms)) {
                        d->key = k;
                        CNT_INC(in, id_rules_crossed);
                        return 1;
                }
        }
        return 0;
}

const struct smx_dcs_map *inbound_dcs_map(const struct smx_inbound *in,
                                          const struct smx_bind_info *b)
{
        return b->dcs_map ? b->dcs_map : &in->service_map;
}

void inbound_fill_dr(struct smx_inbound *in, struct smx_ev_rec *e, const struct dr_info *d,
                     const struct smx_corr_val *v, uint64_t now_ms)
{
        e->type = SMX_EV_DR;
        e->state = d->state;
        e->bind = d->bind;
        e->parts = 1;
        e->part = 1;
        memcpy(e->message_id, d->msgid, sizeof e->message_id);
        memcpy(e->err, d->err, sizeof e->err);
        memcpy(e->from, d->from, sizeof e->from);
        memcpy(e->to, d->to, sizeof e->to);
        if (!v) {
                e->id[0] = 0;
                return;
        }
        e->flags |= SMX_EVF_HAS_ID;
        event_copy_str(e->id, sizeof e->id, v->app_id, v->app_len);
        e->parts = v->n_parts ? v->n_parts : 1;
        e->part = v->part ? v->part : 1;
        struct smx_corr_final f;
        if (in->corr.ops->part_final(in->corr.impl, &d->key, d->state, now_ms, &f)) {
                if (f.mt_final) {
                        e->flags |= SMX_EVF_MT_FINAL;
                        e->mt_state = f.mt_state;
                        CNT_INC(in, mt_final);
                }
                if (f.merge_lost)
                        CNT_INC(in, merge_lost);
        }
}

static int state_valid(int s)
{
        return s >= (int)SMPP_STATE_ENROUTE && s <= (int)SMPP_STATE_REJECTED;
}

/* The receipt text of a DR as ASCII-compatible bytes: short_message, else
 * message_payload; UCS-2 text is decoded first (SMPP.md §7.3). */
static size_t dr_text(const struct smx_inbound *in, const struct smx_bind_info *b,
                      const struct smx_pdu *pdu, uint8_t *tmp, size_t cap, const uint8_t **out)
{
        const struct smx_body_sm *sm = &pdu->u.sm;
        const uint8_t *p = sm->short_message.p;
        size_t len = sm->short_message.len;
        if (len == 0 && (pdu->tlv.present & SMX_TLV_MESSAGE_PAYLOAD)) {
                p = pdu->tlv.message_payload.p;
                len = pdu->tlv.message_payload.len;
        }
        *out = p;
        if (len == 0 || !p)
                return 0;
        if (inbound_dcs_map(in, b)->enc[sm->data_coding] == SMX_ENC_UCS2) {
                unsigned fl = 0;
                size_t n = smx_ucs2_to_utf8(p, len, tmp, cap, &fl);
                *out = tmp;
                return n;
        }
        return len;
}

/* d->msgid, d->key, d->has_key from one id (B-03, C-11: an id longer than
 * SMX_MSGID_MAX is kept capped for the event but never correlated). */
static void dr_set_id(struct smx_inbound *in, const struct smx_id_norm *rules,
                      enum smx_id_source src, const uint8_t *id, size_t id_len,
                      struct dr_info *d)
{
        char norm[SMX_MSGID_CANON_MAX + 1];
        d->id_len = (uint16_t)event_copy_str(d->msgid, sizeof d->msgid, id, id_len);
        d->id_src = (uint8_t)src;
        int n = id_len > SMX_MSGID_MAX ? -1
                : smx_msgid_normalise(rules, src, id, id_len, norm, sizeof norm);
        if (n < 0) {
                CNT_INC(in, id_too_long);
                return;
        }
        d->key = smx_hash128(norm, (size_t)n, 0);
        d->has_key = 1;
}


/* Everything the DR path needs from the PDU. d->has_key = 0 when the id is
 * unusable for correlation (none, or longer than SMX_MSGID_MAX). When the
 * TLVs carry id and state, the store slots are prefetched before the
 * receipt text is parsed, so their cache misses overlap the parse. With
 * ident, also the DR's dedup identity (inbound_dr_identity): the one the
 * prefetch computed when the TLVs gave id and state (the TLV state wins
 * below and the key is the TLV id's, so it is the same), else computed at
 * the end. */
static void dr_extract(struct smx_inbound *in, const struct smx_bind_info *b,
                       const struct smx_pdu *pdu, struct dr_info *d, struct smx_key128 *ident)
{
        struct smx_key128 early;
        int have_early = 0;
        const struct smx_body_sm *sm = &pdu->u.sm;
        const struct smx_tlvs *tlv = &pdu->tlv;
        struct smx_id_norm rules;
        struct smx_dr_text t;
        uint8_t tmp[512];
        const uint8_t *txt;

        memset(d, 0, offsetof(struct dr_info, msgid));
        d->msgid[0] = d->err[0] = 0;
        d->bind = b->index;
        d->rules = (uint8_t)(b->msgid_norm % SMX_MSGID_RULES);
        inbound_id_rules(b, &rules);
        int tlv_state = (tlv->present & SMX_TLV_MESSAGE_STATE) ? tlv->message_state : -1;

        /* id: the TLV (the submit_sm_resp id, R6) ... */
        int tlv_id = (tlv->present & SMX_TLV_RECEIPTED_MESSAGE_ID) &&
                     tlv->receipted_message_id.len;
        if (tlv_id) {
                dr_set_id(in, &rules, SMX_ID_FROM_RESP, tlv->receipted_message_id.p,
                          tlv->receipted_message_id.len, d);
                if (d->has_key && in->corr.ops->prefetch)
                        in->corr.ops->prefetch(in->corr.impl, &d->key);
                if (d->has_key && state_valid(tlv_state) && in->dedup.ops->prefetch) {
                        d->state = (uint8_t)tlv_state;
                        early = inbound_dr_identity(d, pdu);
                        have_early = 1;
                        in->dedup.ops->prefetch(in->dedup.impl, &early);
                }
        }

        event_copy_str(d->from, sizeof d->from, sm->source_addr.p, sm->source_addr.len);
        event_copy_str(d->to, sizeof d->to, sm->destination_addr.p, sm->destination_addr.len);
        memset(&t, 0, sizeof t);
        t.state = -1;
        size_t tlen = dr_text(in, b, pdu, tmp, sizeof tmp, &txt);
        if (tlen)
                smx_dr_text_scan(txt, tlen, &t);        /* id, stat, err: no dates */

        /* ... else the text's */
        if (!tlv_id && (t.present & SMX_DR_HAS_ID) && t.id.len)
                dr_set_id(in, &rules, SMX_ID_FROM_DR_TEXT, t.id.p, t.id.len, d);

        /* state: the TLV, else the text (F-05: the TLV wins, count disagreement) */
        d->state_known = state_valid(tlv_state) || state_valid(t.state);
        if (state_valid(tlv_state)) {
                d->state = (uint8_t)tlv_state;
                if (state_valid(t.state) && t.state != tlv_state)
                        CNT_INC(in, tlv_text_mismatch);
        } else if (state_valid(t.state)) {
                d->state = (uint8_t)t.state;
                if (tlv_state >= 0)
                        CNT_INC(in, tlv_text_mismatch);   /* TLV present but invalid (K-21) */
        } else {
                d->state = SMPP_STATE_UNKNOWN;
        }

        /* err: the text's, kept as a string (F-13), else network_error_code */
        if ((t.present & SMX_DR_HAS_ERR) && t.err.len)
                event_copy_str(d->err, sizeof d->err, t.err.p, t.err.len);
        else if (tlv->present & SMX_TLV_NETWORK_ERROR_CODE)
                snprintf(d->err, sizeof d->err, "%u:%u", tlv->network_error_type,
                         tlv->network_error_code);
        if (ident)
                *ident = have_early ? early : inbound_dr_identity(d, pdu);
}

void inbound_dr_extract(struct smx_inbound *in, const struct smx_bind_info *b,
                        const struct smx_pdu *pdu, struct dr_info *d)
{
        dr_extract(in, b, pdu, d, NULL);
}

/* Dedup identity of a DR: (normalised id, state); for one without a usable
 * id, what a re-sent copy shares (addresses, bytes, state). */
struct smx_key128 inbound_dr_identity(const struct dr_info *d, const struct smx_pdu *pdu)
{
        static const char tag_id[] = "dr", tag_raw[] = "dr-raw";
        struct smx_key128 k;
        if (d->has_key) {
                k = smx_hash128(tag_id, sizeof tag_id, d->key.lo);
                k = smx_hash128_more(k, &d->key.hi, sizeof d->key.hi);
        } else {
                const struct smx_body_sm *sm = &pdu->u.sm;
                k = smx_hash128(tag_raw, sizeof tag_raw, 0);
                k = smx_hash128_more(k, d->msgid, strlen(d->msgid));
                k = smx_hash128_more(k, sm->source_addr.p, sm->source_addr.len);
                k = smx_hash128_more(k, sm->destination_addr.p, sm->destination_addr.len);
                k = smx_hash128_more(k, sm->short_message.p, sm->short_message.len);
                if (pdu->tlv.present & SMX_TLV_MESSAGE_PAYLOAD)
                        k = smx_hash128_more(k, pdu->tlv.message_payload.p,
                                             pdu->tlv.message_payload.len);
        }
        return smx_hash128_more(k, &d->state, 1);
}

/* The raw short_message / message_payload of a PDU as hex in the record. */
static void dr_set_raw(struct smx_ev_rec *e, const struct smx_pdu *pdu)
{
        const struct smx_bytes *b = pdu->u.sm.short_message.len ? &pdu->u.sm.short_message
                                                                : &pdu->tlv.message_payload;
        unsigned fl = 0;
        size_t n = smx_text_hex(b->p, b->len, (uint8_t *)e->text, SMX_EV_TEXT_INLINE - 1, &fl);
        e->text[n] = 0;
        e->text_len = (uint32_t)n;
        e->flags |= SMX_EVF_RAW;
        e->dcs = pdu->u.sm.data_coding;
}

uint32_t inbound_dr_local_w(struct smx_inbound *in, const struct smx_bind_info *b,
                                const struct smx_pdu *pdu, struct smx_event_ring *ring,
                                uint64_t now_ms)
{
        struct dr_info d;
        struct smx_key128 ident;
        dr_extract(in, b, pdu, &d, &ident);

        /* HOSTILE rule 5: a receipt with neither id nor state can never mean
         * anything: permanent status (also for its re-sends, rule 7), and
         * still surfaced, raw */
        int undecodable = !d.has_key && !d.msgid[0] && !d.state_known;
        uint32_t status = undecodable ? SMPP_ESME_RX_P_APPN : SMPP_ESME_ROK;

        switch (in->dedup.ops->claim(in->dedup.impl, &ident, now_ms)) {
        case SMX_DEDUP_SEEN:
                CNT_INC(in, dr_duplicates);
                return status;
        case SMX_DEDUP_BUSY:
                CNT_INC(in, busy);
                return SMPP_ESME_RX_T_APPN;
        case SMX_DEDUP_NEW:
                break;
        }
        struct smx_ev_rec *e = event_ring_reserve_w(ring);
        if (!e) {
                in->dedup.ops->abort(in->dedup.impl, &ident);
                CNT_INC(in, ring_full);
                return SMPP_ESME_RX_T_APPN;
        }
        CNT_INC(in, drs);
        struct smx_corr_val v;
        if (undecodable) {
                inbound_fill_dr(in, e, &d, NULL, now_ms);
                dr_set_raw(e, pdu);
                event_ring_commit_w(ring);
                CNT_INC(in, uncorrelated);
                CNT_INC(in, dr_undecodable);
        } else if (!d.has_key) {
                inbound_fill_dr(in, e, &d, NULL, now_ms);
                event_ring_commit_w(ring);
                CNT_INC(in, uncorrelated);
        } else if (inbound_corr_get(in, &d, &v, now_ms)) {
                inbound_fill_dr(in, e, &d, &v, now_ms);
                event_ring_commit_w(ring);
        } else {
                park_put_w(in, &d, ring, e, now_ms);
        }
        in->dedup.ops->commit(in->dedup.impl, &ident, now_ms);
        return status;
}

/* F-15: a receipt by esm_class message type or DR TLVs, never by text. */
int inbound_is_receipt(const struct smx_pdu *pdu)
{
        switch (pdu->u.sm.esm_class & SMPP_ESM_TYPE_MASK) {
        case SMPP_ESM_TYPE_SMSC_DR:
        case SMPP_ESM_TYPE_SME_ACK:
        case SMPP_ESM_TYPE_USER_ACK:
        case SMPP_ESM_TYPE_INTERMEDIATE:
                return 1;
        default:
                return (pdu->tlv.present & (SMX_TLV_RECEIPTED_MESSAGE_ID | SMX_TLV_MESSAGE_STATE)) != 0;
        }
}

uint32_t inbound_on_deliver_w(struct smx_inbound *in, const struct smx_bind_info *bind,
                              const struct smx_pdu *pdu, struct smx_event_ring *ring,
                              uint64_t now_ms)
{
        if (pdu->h.command_id != SMPP_DELIVER_SM && pdu->h.command_id != SMPP_DATA_SM)
                return SMPP_ESME_RINVCMDID;
        if (stage_pending(in) && stage_flush_due())     /* staged correlation puts (stage.c) */
                stage_flush_w(in, ring, now_ms, 0);
        if (inbound_is_receipt(pdu))
                return inbound_dr_local_w(in, bind, pdu, ring, now_ms);
        return mo_on_deliver_w(in, bind, pdu, ring, now_ms);
}
