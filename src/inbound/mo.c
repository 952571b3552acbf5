/* MOs: decode to UTF-8 and reassemble concatenated ones (R9, SMPP.md §9,
 * HOSTILE G and H).
 *
 * A single MO is decoded straight into its event record (text/text.h,
 * smx_text_decode, per the bind's data_coding map and packed-GSM knob; a
 * binary or unknown data_coding is surfaced as hex with SMX_EVF_RAW, never
 * guessed). A part (UDH concatenation IE, else complete SAR TLVs; UDH wins
 * when both, H-15) goes into the text room's reassembly table, sharded by a
 * hash of (source, destination, reference, total) so parts of one message
 * meet in one shard whatever bind or site they came from. Packed GSM parts
 * are unpacked to septets first so parts join; the joined bytes are decoded
 * once (G-03). A complete message is one MO event with parts = N; a group
 * whose window passes (tick) or that is flushed to make room is a partial
 * MO event (SMX_EVF_PARTIAL); the timer decodes it with the data_coding map
 * of the bind that last added a part to that shard (binds of one service
 * share a map; the table does not remember binds per group). When the
 * client drains, mo_flush_w delivers every open group at once as what
 * arrived (partial), never discarded: each part was acknowledged.
 *
 * Identity for dedup (R5): source, destination, data_coding, esm_class,
 * concatenation kind/ref/total/part, the user_message_reference TLV when
 * present (the handset's TP-MR: a user sending the same text twice gives two
 * references, a re-sent copy the same one), and a hash of every byte of the
 * short_message or message_payload: what only a re-sent copy shares.
 * Without that TLV the same text from the same handset to the same address
 * within dedup_window_ms cannot be told from a re-send and is kept once. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inbound/inbound_int.h"

int mo_init(struct smx_inbound *in)
{
        in->n_reasm = smx_store_shards_for(in->cfg.reasm_groups);
        if (in->n_reasm > 16)
                in->n_reasm = 16;
        in->reasm = aligned_alloc(64, in->n_reasm * sizeof *in->reasm);
        if (!in->reasm)
                return -ENOMEM;
        memset(in->reasm, 0, in->n_reasm * sizeof *in->reasm);
        struct smx_reasm_config rc = {
                .max_groups = in->cfg.reasm_groups / in->n_reasm,
                .max_parts = 0,
                .timeout_ms = in->cfg.reasm_timeout_ms,
        };
        if (rc.max_groups == 0)
                rc.max_groups = 1;
        for (unsigned i = 0; i < in->n_reasm; i++) {
                struct reasm_shard *s = &in->reasm[i];
                smx_lock_init(&s->lock);
                s->cap = smx_reasm_buf_size();
                s->buf = malloc(s->cap);
                s->t = smx_reasm_create(&rc);
                if (!s->buf || !s->t)
                        return -ENOMEM;
        }
        return 0;
}

void mo_fini(struct smx_inbound *in)
{
        for (unsigned i = 0; in->reasm && i < in->n_reasm; i++) {
                free(in->reasm[i].buf);
                if (in->reasm[i].t)
                        smx_reasm_destroy(in->reasm[i].t);
        }
        free(in->reasm);
        in->reasm = NULL;
}

uint64_t mo_groups_open(const struct smx_inbound *in)
{
        uint64_t n = 0;
        for (unsigned i = 0; i < in->n_reasm; i++) {
                struct reasm_shard *s = &in->reasm[i];
                smx_lock(&s->lock);
                n += smx_reasm_open(s->t);
                smx_unlock(&s->lock);
        }
        return n;
}

/* Decode data into the record's text (inline when it fits, else heap). */
void mo_set_text(struct smx_inbound *in, struct smx_ev_rec *e, uint8_t dcs,
                 const struct smx_dcs_map *map, int packed, size_t udh_len,
                 const uint8_t *data, size_t len)
{
        struct smx_text_decode_opts o = { .map = map, .gsm_packed = (uint8_t)packed,
                                          .udh_len = udh_len, .septets = 0 };
        struct smx_text_result res = { 0 };
        size_t bound = len * 3 + 8;     /* UTF-8 from any input: <= 3 octets per octet */
        uint8_t *heap = NULL;
        if (bound >= SMX_EV_TEXT_INLINE)
                heap = malloc(bound + 1);
        if (heap) {
                smx_text_decode(dcs, data, len, &o, heap, bound, &res);
                if (res.len < SMX_EV_TEXT_INLINE) {
                        memcpy(e->text, heap, res.len);
                        e->text[res.len] = 0;
                        free(heap);
                } else {
                        heap[res.len] = 0;
                        e->text_heap = (char *)heap;
                }
        } else {
                /* short input, or no memory: what fits inline (F_TRUNCATED) */
                smx_text_decode(dcs, data, len, &o, (uint8_t *)e->text,
                                SMX_EV_TEXT_INLINE - 1, &res);
                e->text[res.len] = 0;
        }
        e->text_len = (uint32_t)res.len;
        e->dcs = dcs;
        if (res.flags & SMX_TEXT_F_RAW) {
                e->flags |= SMX_EVF_RAW;
                if (in)
                        CNT_INC(in, mo_raw);
        }
}

static void fill_mo_head(struct smx_ev_rec *e, uint16_t bind, const void *from, size_t from_len,
                         const void *to, size_t to_len, unsigned parts)
{
        e->type = SMX_EV_MO;
        e->bind = bind;
        e->parts = (uint16_t)parts;
        event_copy_str(e->from, sizeof e->from, from, from_len);
        event_copy_str(e->to, sizeof e->to, to, to_len);
}

/* A message out of the reassembly table (complete or partial). Lock held. */
static void fill_reasm(struct smx_inbound *in, struct smx_ev_rec *e, uint16_t bind,
                       const struct smx_dcs_map *map, const struct smx_reasm_msg *m,
                       const uint8_t *buf)
{
        fill_mo_head(e, bind, m->src, m->src_len, m->dst, m->dst_len,
                     m->parts ? m->parts : 1);
        /* parts were stored unpacked (septets for GSM): decode unpacked */
        mo_set_text(in, e, m->dcs, map, 0, 0, buf, m->len);
        if (m->flags & SMX_REASM_F_PARTIAL) {
                e->flags |= SMX_EVF_PARTIAL;
                CNT_INC(in, mo_partial);
        }
        CNT_INC(in, mos);
}

/* Where a concatenated MO's parts meet. */
static struct reasm_shard *rshard_of(struct smx_inbound *in, const struct smx_reasm_key *k)
{
        struct smx_key128 h = smx_hash128(k->src, k->src_len, 0);
        h = smx_hash128_more(h, k->dst, k->dst_len);
        uint8_t rt[3] = { (uint8_t)(k->ref >> 8), (uint8_t)k->ref, k->total };
        h = smx_hash128_more(h, rt, sizeof rt);
        return &in->reasm[h.lo & (in->n_reasm - 1)];
}

void mo_parse(struct smx_inbound *in, const struct smx_bind_info *b, const struct smx_pdu *pdu,
              struct mo_parsed *m)
{
        const struct smx_body_sm *sm = &pdu->u.sm;
        const struct smx_tlvs *tlv = &pdu->tlv;
        const struct smx_dcs_map *map = inbound_dcs_map(in, b);
        memset(m, 0, sizeof *m);
        m->data = sm->short_message.p;
        m->len = sm->short_message.len;
        if (m->len == 0 && (tlv->present & SMX_TLV_MESSAGE_PAYLOAD)) {
                m->data = tlv->message_payload.p;
                m->len = tlv->message_payload.len;
        }
        if (!m->data)
                m->len = 0;

        /* concatenation: UDH IE, else SAR TLVs (H-15: UDH wins) */
        struct smx_udh u;
        memset(&u, 0, sizeof u);
        if ((sm->esm_class & SMPP_ESM_UDHI) && m->len)
                smx_udh_parse(m->data, m->len, &u);
        m->udh_len = u.hdr_len;
        const uint32_t sar_all = SMX_TLV_SAR_MSG_REF_NUM | SMX_TLV_SAR_TOTAL_SEGMENTS |
                                 SMX_TLV_SAR_SEGMENT_SEQNUM;
        int sar_ok = (tlv->present & sar_all) == sar_all && tlv->sar_total_segments >= 2 &&
                     tlv->sar_segment_seqnum >= 1 &&
                     tlv->sar_segment_seqnum <= tlv->sar_total_segments;
        if (u.has_concat && u.total >= 2) {
                m->kind = 1;
                m->ref = u.ref;
                m->total = u.total;
                m->seq = u.seq;
                if (sar_ok && (tlv->sar_msg_ref_num != u.ref ||
                               tlv->sar_total_segments != u.total ||
                               tlv->sar_segment_seqnum != u.seq))
                        CNT_INC(in, udh_sar_mismatch);
        } else if (sar_ok) {
                m->kind = 2;
                m->ref = tlv->sar_msg_ref_num;
                m->total = tlv->sar_total_segments;
                m->seq = tlv->sar_segment_seqnum;
        }
        m->packed = b->gsm_packed && map->enc[sm->data_coding] == SMX_ENC_GSM;

        /* identity (R5) */
        static const char tag[] = "mo";
        struct smx_key128 ident = smx_hash128(tag, sizeof tag, 0);
        ident = smx_hash128_more(ident, sm->source_addr.p, sm->source_addr.len);
        ident = smx_hash128_more(ident, sm->destination_addr.p, sm->destination_addr.len);
        uint8_t fixed[7] = { sm->data_coding, sm->esm_class, m->kind,
                             (uint8_t)(m->ref >> 8), (uint8_t)m->ref, m->total, m->seq };
        ident = smx_hash128_more(ident, fixed, sizeof fixed);
        if (tlv->present & SMX_TLV_USER_MESSAGE_REFERENCE) {
                /* the handset's own reference (TP-MR) when the SMSC passes
                 * it: a re-sent copy carries the same, the user sending the
                 * same text again a new one */
                uint8_t umr[3] = { 'r', (uint8_t)(tlv->user_message_reference >> 8),
                                   (uint8_t)tlv->user_message_reference };
                ident = smx_hash128_more(ident, umr, sizeof umr);
        }
        m->ident = smx_hash128_more(ident, m->data, m->len);
}

size_t mo_part_bytes(const struct mo_parsed *m, uint8_t *out, size_t cap)
{
        const uint8_t *pd = m->data + m->udh_len;
        size_t plen = m->len - m->udh_len;
        if (m->packed) {
                unsigned fl = 0, fill = smx_gsm7_fill_bits(m->udh_len);
                size_t n = smx_gsm7_packed_septets(pd, plen, fill, &fl);
                return smx_gsm7_unpack(pd, plen, fill, n, out, cap);
        }
        if (plen > cap)
                plen = cap;
        memcpy(out, pd, plen);
        return plen;
}

struct smx_key128 mo_group_key(const struct smx_pdu *pdu, const struct mo_parsed *m)
{
        const struct smx_body_sm *sm = &pdu->u.sm;
        struct smx_key128 h = smx_hash128(sm->source_addr.p, sm->source_addr.len, 0x67);
        h = smx_hash128_more(h, sm->destination_addr.p, sm->destination_addr.len);
        uint8_t rt[3] = { (uint8_t)(m->ref >> 8), (uint8_t)m->ref, m->total };
        return smx_hash128_more(h, rt, sizeof rt);
}

uint32_t mo_on_deliver_w(struct smx_inbound *in, const struct smx_bind_info *b,
                         const struct smx_pdu *pdu, struct smx_event_ring *ring,
                         uint64_t now_ms)
{
        const struct smx_body_sm *sm = &pdu->u.sm;
        const struct smx_dcs_map *map = inbound_dcs_map(in, b);
        struct mo_parsed mp;
        mo_parse(in, b, pdu, &mp);
        const uint8_t *data = mp.data;
        size_t len = mp.len;
        struct smx_key128 ident = mp.ident;

        switch (in->dedup.ops->claim(in->dedup.impl, &ident, now_ms)) {
        case SMX_DEDUP_SEEN:
                CNT_INC(in, mo_duplicates);
                return SMPP_ESME_ROK;
        case SMX_DEDUP_BUSY:
                CNT_INC(in, busy);
                return SMPP_ESME_RX_T_APPN;
        case SMX_DEDUP_NEW:
                break;
        }
        /* A record first: completing a group must not fail after the table
         * changed. An uncommitted reservation is simply reused later. */
        struct smx_ev_rec *e = event_ring_reserve_w(ring);
        if (!e) {
                in->dedup.ops->abort(in->dedup.impl, &ident);
                CNT_INC(in, ring_full);
                return SMPP_ESME_RX_T_APPN;
        }
        int packed = mp.packed;

        if (mp.kind != 0) {
                const uint8_t *pd = data + mp.udh_len;
                size_t plen = len - mp.udh_len;
                uint8_t septets[SMX_REASM_PART_MAX + 48];
                if (packed) {
                        plen = mo_part_bytes(&mp, septets, sizeof septets);
                        pd = septets;
                }
                struct smx_reasm_key key = {
                        .src = sm->source_addr.p, .src_len = sm->source_addr.len,
                        .dst = sm->destination_addr.p, .dst_len = sm->destination_addr.len,
                        .ref = mp.ref, .total = mp.total,
                };
                struct reasm_shard *s = rshard_of(in, &key);
                struct smx_reasm_msg m;
                smx_lock(&s->lock);
                s->map = map;
                int rc = smx_reasm_add(s->t, &key, mp.seq, sm->data_coding, pd, plen, now_ms,
                                       &m, s->buf, s->cap);
                if (rc == SMX_REASM_DONE || rc == SMX_REASM_FLUSHED) {
                        fill_reasm(in, e, rc == SMX_REASM_DONE ? b->index : 0xFFFF, map, &m, s->buf);
                        event_ring_commit_w(ring);
                }
                smx_unlock(&s->lock);
                if (rc == SMX_REASM_DUP)
                        CNT_INC(in, mo_duplicates);
                if (rc >= 0) {
                        in->dedup.ops->commit(in->dedup.impl, &ident, now_ms);
                        return SMPP_ESME_ROK;
                }
                /* the table will not take it (address or part too long):
                 * deliver the part on its own, flagged partial */
                fill_mo_head(e, b->index, sm->source_addr.p, sm->source_addr.len,
                             sm->destination_addr.p, sm->destination_addr.len, 1);
                mo_set_text(in, e, sm->data_coding, map, packed, mp.udh_len, data, len);
                e->flags |= SMX_EVF_PARTIAL;
                CNT_INC(in, mo_partial);
        } else {
                fill_mo_head(e, b->index, sm->source_addr.p, sm->source_addr.len,
                             sm->destination_addr.p, sm->destination_addr.len, 1);
                mo_set_text(in, e, sm->data_coding, map, packed, mp.udh_len, data, len);
        }
        CNT_INC(in, mos);
        event_ring_commit_w(ring);
        in->dedup.ops->commit(in->dedup.impl, &ident, now_ms);
        return SMPP_ESME_ROK;
}

/* Emit the shard's open groups as MOs while the ring has room: every one at
 * shutdown (flush: partial when parts are missing, counted mo_flushed), else
 * those whose window passed at now_ms (partial). A full ring stops it; the
 * next call goes on. */
static void reasm_emit_w(struct smx_inbound *in, unsigned shard, struct smx_event_ring *ring,
                         uint64_t now_ms, int flush)
{
        struct reasm_shard *s = &in->reasm[shard];
        for (;;) {
                struct smx_ev_rec *e = event_ring_reserve_w(ring);
                if (!e)
                        return;
                struct smx_reasm_msg m;
                smx_lock(&s->lock);
                int r = flush ? smx_reasm_flush(s->t, &m, s->buf, s->cap)
                              : smx_reasm_expire(s->t, now_ms, &m, s->buf, s->cap);
                if (r == 1) {
                        fill_reasm(in, e, 0xFFFF, s->map, &m, s->buf);
                        event_ring_commit_w(ring);
                }
                smx_unlock(&s->lock);
                if (r != 1)
                        return;
                if (flush)
                        CNT_INC(in, mo_flushed);
        }
}

void mo_flush_w(struct smx_inbound *in, unsigned shard, struct smx_event_ring *ring)
{
        reasm_emit_w(in, shard, ring, 0, 1);
}

void mo_tick_w(struct smx_inbound *in, unsigned shard, struct smx_event_ring *ring,
               uint64_t now_ms)
{
        reasm_emit_w(in, shard, ring, now_ms, 0);
}
