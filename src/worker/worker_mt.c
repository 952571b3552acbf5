/* MT dispatch: while one of this worker's binds is ACTIVE with window space
 * (R4), take MTs from ingress, let the router pick a bind and encode the MT
 * (segmented if long, R9) straight into that bind's send buffer. A
 * single-part MT whose body smx_submit pre-encoded (core/mt_pre.h) is sent
 * as a header and a copy of that body to every bind whose settings give the
 * same octets (send_mt_pre); any other bind encodes it from its fields. */
#include <errno.h>
#include <string.h>

#include "core/mt_pre.h"
#include "http/http.h"
#include "pdu/submit_short.h"
#include "store/rstore.h"
#include "worker/worker_int.h"

_Static_assert((int)SMX_SEGMENT_UDH8 == (int)SMX_SEG_UDH8 &&
               (int)SMX_SEGMENT_UDH16 == (int)SMX_SEG_UDH16 &&
               (int)SMX_SEGMENT_SAR == (int)SMX_SEG_SAR &&
               (int)SMX_SEGMENT_PAYLOAD == (int)SMX_SEG_PAYLOAD,
               "public segment modes map 1:1 onto the text layer's");

/* Per-bind rate limit (smx_smsc_config.tps): a token bucket holding at most
 * a tenth of a second of traffic (at least one submit_sm). */
static int tps_ok(struct smx_bind *b, uint64_t now)
{
        if (!b->tps)
                return 1;
        if (now > b->tokens_ms) {
                double burst = b->tps / 10.0 > 1.0 ? b->tps / 10.0 : 1.0;
                b->tokens += (double)(now - b->tokens_ms) * b->tps / 1000.0;
                if (b->tokens > burst)
                        b->tokens = burst;
                b->tokens_ms = now;
        }
        return b->tokens >= 1.0;
}

int worker_route_ready(struct smx_bind *b, uint64_t now)
{
        /* a draining or removed SMSC takes no new MT (knob smsc.NAME.admin) */
        return b->fd >= 0 &&
               atomic_load_explicit(&b->admin, memory_order_relaxed) == SMX_ADMIN_ENABLED &&
               session_can_submit(&b->sess, now, SMX_PART_PDU_MAX) && tps_ok(b, now);
}

/* source_addr TON/NPI: international/E.164 for digits, alphanumeric else. */
static int from_is_digits(const struct smx_slot *s)
{
        return smx_mt_from_digits(smx_slot_from(s), s->from_len);
}

/* A new attempt of MT s on bind b in n_parts parts: its tag moved on (one
 * thread at a time handles an MT, the ring handing it over with
 * release/acquire, so no locked increment; answers of old attempts on other
 * workers only read it), the parts' tallies cleared. Returns the tag. */
static inline uint32_t attempt_begin(struct smx_slot *s, const struct smx_bind *b, int n_parts)
{
        uint32_t tag = atomic_load_explicit(&s->tag, memory_order_relaxed) + 1;
        atomic_store_explicit(&s->tag, tag, memory_order_relaxed);
        s->n_parts = (uint8_t)n_parts;
        s->parts_ok = 0;
        s->parts_failed = s->fail_bits = 0;
        s->attempts++;
        s->last_bind = b->index;
        return tag;
}

/* A one-part submit_sm committed on b: its counters and its tps token. */
static inline void one_part_sent(struct smx_bind *b)
{
        counter_add_owner(&b->cnt.in_flight, 1);   /* b's owner alone writes */
        counter_add_owner(&b->cnt.submitted, 1);
        if (b->tps)
                b->tokens -= 1;
}

/* send_mt for an MT whose submit_sm body smx_submit pre-encoded with the
 * client's profile, on a bind for which that body is its own (pre_mask):
 * the header written, the body copied (less its identity TLV when the bind
 * takes no TLVs). Returns 0 or 1 as send_mt; the checks, their order and
 * every side effect are send_mt_short's. */
static int send_mt_pre(struct smx_worker *w, struct smx_bind *b, uint32_t idx,
                       struct smx_slot *s)
{
        size_t cap;
        (void)session_out_tail(&b->sess, &cap);
        size_t sm_at = smx_slot_pre_sm_at(s);
        size_t sm_len = s->text_inline[sm_at - 1];
        /* send_mt's room test for its one part */
        if (sm_len + SMX_SUBMIT_OVERHEAD + SMX_ANSWER_ROOM > cap) {
                worker_repush(w, idx);
                return 1;
        }
        uint32_t tag = attempt_begin(s, b, 1);
        uint8_t *dst;
        size_t at_cap;
        uint32_t seq = session_submit_begin(&b->sess, &dst, &at_cap);
        if (!seq) {
                s->attempts--;
                worker_retry_mt(w, idx, 1);
                return 0;
        }
        size_t body = sm_at + sm_len + (b->sess.tlvs_ok ? SMX_SUBMIT_IDENT_TLV : 0);
        smx_pdu_submit_header(dst, body, seq);
        copy_upto256(dst + SMPP_HEADER_LEN, s->text_inline, body);
        session_submit_commit(&b->sess, seq, SMPP_HEADER_LEN + body, idx, tag, 0, w->now_ms);
        one_part_sent(b);
        return 0;
}

/* The common case of send_mt, a text that fits one short_message: the
 * submit_sm is written straight into the bind's output (smx_pdu_submit_short_*)
 * with the text encoded in place (smx_text_single_part), no segment scratch,
 * no struct smx_pdu, no general encoder. Returns 0, 1 or -1 as send_mt, or
 * SHORT_NOT_HERE when it does not apply (nothing committed, the slot
 * untouched: send_mt's general path then does exactly what it did before). The checks, their
 * order and every side effect are send_mt's for a one-part MT. */
#define SHORT_NOT_HERE 2

static int send_mt_short(struct smx_worker *w, struct smx_bind *b, uint32_t idx,
                         struct smx_slot *s, const struct smx_seg_opts *so)
{
        size_t cap;
        uint8_t *dst = session_out_tail(&b->sess, &cap);
        int digits_from = from_is_digits(s);
        struct smx_submit_short f = {
                .src = (const uint8_t *)smx_slot_from(s), .dst = (const uint8_t *)smx_slot_to(s),
                .src_len = s->from_len, .dst_len = s->to_len,
                .src_ton = digits_from ? 1 : 5, .src_npi = digits_from ? 1 : 0,
                .dst_ton = 1, .dst_npi = 1,
                .esm_class = 0, .priority_flag = s->priority,
                .registered_delivery = s->want_dr ? SMPP_REGDEL_FINAL : SMPP_REGDEL_NONE,
        };
        uint8_t *sm = smx_pdu_submit_short_begin(dst, cap, &f);
        if (!sm)
                return SHORT_NOT_HERE;
        uint8_t dcs;
        long len = smx_text_single_part(smx_slot_text(s), s->text_len, so, sm,
                                        SMPP_SHORT_MESSAGE_MAX, &dcs);
        if (len < 0)
                return SHORT_NOT_HERE;
        /* send_mt's room test for its one part */
        if ((size_t)len + SMX_SUBMIT_OVERHEAD + SMX_ANSWER_ROOM > cap) {
                worker_repush(w, idx);
                return 1;
        }
        uint32_t tag = attempt_begin(s, b, 1);
        uint8_t ident[16];
        client_mt_identity(w->c, idx, s, ident);
        uint8_t *at;
        size_t at_cap;
        uint32_t seq = session_submit_begin(&b->sess, &at, &at_cap);   /* at == dst */
        if (!seq) {
                s->attempts--;
                worker_retry_mt(w, idx, 1);
                return 0;
        }
        ssize_t n = smx_pdu_submit_short_end(dst, sm, (size_t)len, dcs,
                                             b->sess.tlvs_ok ? ident : NULL, sizeof ident, seq);
        if (n < 0) {            /* cannot happen: len <= 254, ident 16 octets */
                worker_emit_outcome(w, idx, SMX_EV_FAILED, SMX_FAIL_ENCODING, 1, b->index, NULL, 0);
                return -1;
        }
        session_submit_commit(&b->sess, seq, (size_t)n, idx, tag, 0, w->now_ms);
        one_part_sent(b);
        return 0;
}

/* Encode every part of the MT into the bind's send buffer (one attempt).
 * Returns 0, 1 when the bind's output has no room for all parts now (the MT
 * went back to ingress untouched), or -1 when the text cannot be encoded
 * (MT failed). */
static int send_mt(struct smx_worker *w, struct smx_bind *b, uint32_t idx)
{
        struct smx_client *c = w->c;
        struct smx_slot *s = ingress_slot(&c->ing, idx);
        if ((s->flags & SMX_SLOTF_PRE) && ((b->pre_mask >> s->encoding) & 1u))
                return send_mt_pre(w, b, idx, s);
        struct smx_seg_opts so = {
                .enc = (enum smx_encoding)s->encoding,
                .units = s->units,
                .mode = (enum smx_seg_mode)b->seg_mode,
                .ref = (uint16_t)(s->gen ^ idx),
                .map = &b->dcs,
                .gsm_packed = b->info.gsm_packed,
                .gsm_plain = (s->flags & SMX_SLOTF_GSM_PLAIN) != 0,
        };
        int r = send_mt_short(w, b, idx, s, &so);
        if (r != SHORT_NOT_HERE)
                return r;
        struct smx_seg_info si;
        int np = smx_text_segment(smx_slot_text(s), s->text_len, &so, w->seg, SMX_SEG_SCRATCH,
                                  w->parts, SMX_MT_MAX_PARTS, &si);
        if (np <= 0) {
                s->last_status = 0;
                worker_emit_outcome(w, idx, SMX_EV_FAILED, SMX_FAIL_ENCODING, 1, b->index, NULL, 0);
                return -1;
        }
        /* all parts go out together: wait for output room rather than split */
        size_t need = 0;
        for (int i = 0; i < np; i++)
                need += w->parts[i].len + SMX_SUBMIT_OVERHEAD;
        if (need + SMX_ANSWER_ROOM > (size_t)(b->sess.out_cap - b->sess.out_len)) {
                worker_repush(w, idx);
                return 1;
        }
        uint32_t tag = attempt_begin(s, b, np);
        uint8_t ident[16];
        client_mt_identity(c, idx, s, ident);
        int digits_from = from_is_digits(s);
        /* w->sm_pdu: the worker's submit_sm, zeroed once at init; every field
         * an MT varies is set below for each part, the others stay 0 */
        struct smx_pdu *p = &w->sm_pdu;
        for (int i = 0; i < np; i++) {
                const struct smx_seg_part *pt = &w->parts[i];
                p->tlv.present = 0;
                p->u.sm.short_message = (struct smx_bytes){ NULL, 0 };
                p->h.command_id = SMPP_SUBMIT_SM;
                /* from/to were measured with strnlen by smx_submit (no inner
                 * NUL), service_type is empty: the encoder needs no NUL scan */
                p->flags = SMX_PDUF_CSTR_CHECKED;
                p->u.sm.source_addr_ton = digits_from ? 1 : 5;
                p->u.sm.source_addr_npi = digits_from ? 1 : 0;
                p->u.sm.source_addr = (struct smx_bytes){ (const uint8_t *)smx_slot_from(s), s->from_len };
                p->u.sm.dest_addr_ton = 1;
                p->u.sm.dest_addr_npi = 1;
                p->u.sm.destination_addr = (struct smx_bytes){ (const uint8_t *)smx_slot_to(s), s->to_len };
                p->u.sm.esm_class = pt->esm_class;
                p->u.sm.priority_flag = s->priority;
                p->u.sm.registered_delivery = s->want_dr ? SMPP_REGDEL_FINAL : SMPP_REGDEL_NONE;
                p->u.sm.data_coding = pt->data_coding;
                if (pt->payload) {
                        p->tlv.present |= SMX_TLV_MESSAGE_PAYLOAD;
                        p->tlv.message_payload = (struct smx_bytes){ pt->sm, (uint16_t)pt->len };
                } else {
                        p->u.sm.short_message = (struct smx_bytes){ pt->sm, (uint16_t)pt->len };
                }
                if (pt->sar) {
                        p->tlv.present |= SMX_TLV_SAR_MSG_REF_NUM | SMX_TLV_SAR_TOTAL_SEGMENTS |
                                         SMX_TLV_SAR_SEGMENT_SEQNUM;
                        p->tlv.sar_msg_ref_num = pt->sar_msg_ref_num;
                        p->tlv.sar_total_segments = pt->sar_total_segments;
                        p->tlv.sar_segment_seqnum = pt->sar_segment_seqnum;
                }
                if (b->sess.tlvs_ok) {
                        p->tlv.present |= SMX_TLV_SMX_MSG_IDENTITY;
                        p->tlv.smx_msg_identity = (struct smx_bytes){ ident, sizeof ident };
                }
                uint8_t *dst;
                size_t cap;
                uint32_t seq = session_submit_begin(&b->sess, &dst, &cap);
                p->h.sequence_number = seq;
                ssize_t n = seq ? smx_pdu_encode(dst, cap, p, NULL, 0) : -ENOSPC;
                if (n < 0) {
                        /* parts already queued carry the old tag: their answers
                         * are ignored once retry_mt/emit_outcome move the tag on */
                        if (n == -EINVAL) {
                                worker_emit_outcome(w, idx, SMX_EV_FAILED, SMX_FAIL_ENCODING, 1,
                                             b->index, NULL, 0);
                                return -1;
                        }
                        s->attempts--;
                        worker_retry_mt(w, idx, 1);
                        return 0;
                }
                session_submit_commit(&b->sess, seq, (size_t)n, idx, tag, (uint8_t)i, w->now_ms);
        }
        counter_add_owner(&b->cnt.in_flight, (uint32_t)np);   /* b's owner alone writes */
        counter_add_owner(&b->cnt.submitted, 1);
        if (b->tps)
                b->tokens -= np;
        return 0;
}

/* Start loading the cache lines of an MT slot that dispatch reads: the
 * header, from/to, and the first two lines of inline text (a long text is
 * in a text block, loaded when segmented). At saturation the ingress is
 * long and its slots are cold by the time a worker reaches them. */
static void prefetch_slot(const struct smx_ingress *g, uint32_t idx)
{
        const struct smx_slot *s = ingress_slot(g, idx);
        const uint8_t *p = (const uint8_t *)s;
        __builtin_prefetch(p, 1, 3);
        __builtin_prefetch(s->to, 1, 3);
        __builtin_prefetch(s->text_inline, 1, 3);
        __builtin_prefetch(s->text_inline + 64, 1, 3);
}

#define PREFETCH_AHEAD 8          /* MTs between the one encoded and the one loading */

/* The MTs a dispatch pass took from ingress: the batch being encoded and
 * the next one, popped one batch ahead so that the MT PREFETCH_AHEAD places
 * on can be prefetched across a batch boundary (worker-local, on the stack). */
struct pop_ahead {
        uint32_t cur[POP_BATCH], next[POP_BATCH];
        uint32_t n_cur, i_cur, n_next;
        int primed;             /* the first MTs of the pass were prefetched */
};

/* Pop up to `want` MTs into the look-ahead batch. */
static void pop_next(struct smx_ingress *g, struct pop_ahead *pa, uint32_t want)
{
        pa->n_next = want ? ingress_pop_n(g, pa->next, want > POP_BATCH ? POP_BATCH : want) : 0;
}

/* The next MT to encode, SMX_SLOT_NONE when none was popped. `budget` is
 * how many more MTs this pass may pop (window room, turn limit). */
static uint32_t take_mt(struct smx_ingress *g, struct pop_ahead *pa, uint32_t *budget)
{
        if (pa->i_cur == pa->n_cur) {
                if (pa->n_next == 0) {
                        pop_next(g, pa, *budget);
                        *budget -= pa->n_next;
                }
                memcpy(pa->cur, pa->next, pa->n_next * sizeof pa->cur[0]);
                pa->n_cur = pa->n_next;
                pa->i_cur = 0;
                pop_next(g, pa, *budget);
                *budget -= pa->n_next;
                if (pa->n_cur == 0)
                        return SMX_SLOT_NONE;
                if (!pa->primed) {      /* the pass's first batch: load its first MTs */
                        pa->primed = 1;
                        for (uint32_t k = 0; k < PREFETCH_AHEAD && k < pa->n_cur; k++)
                                prefetch_slot(g, pa->cur[k]);
                }
        }
        uint32_t ahead = pa->i_cur + PREFETCH_AHEAD;
        if (ahead < pa->n_cur)
                prefetch_slot(g, pa->cur[ahead]);
        else if (ahead - pa->n_cur < pa->n_next)
                prefetch_slot(g, pa->next[ahead - pa->n_cur]);
        return pa->cur[pa->i_cur++];
}

/* MTs popped but not encoded go back to ingress, oldest first. */
static void give_back(struct smx_worker *w, struct pop_ahead *pa)
{
        while (pa->i_cur < pa->n_cur)
                worker_repush(w, pa->cur[pa->i_cur++]);
        for (uint32_t k = 0; k < pa->n_next; k++)
                worker_repush(w, pa->next[k]);
        pa->n_next = 0;
}

/* Correlation writes the worker's ring can still take beyond those the
 * outstanding submit_sm will bring (each resp of an MT that asked for a DR
 * pushes one; counted for every MT, a bound). UINT32_MAX without a shared
 * store. */
static uint32_t corr_room_left(struct smx_worker *w)
{
        if (!w->c->rstore)
                return UINT32_MAX;
        uint32_t room = rstore_corr_room_w(w->c->rstore, w->k), owed = 0;
        for (unsigned i = 0; i < w->n_binds; i++)
                owed += w->binds[i]->sess.n_submit;
        return room > owed ? room - owed : 0;
}

int worker_corr_room_ok(struct smx_worker *w)
{
        return corr_room_left(w) >= SMX_MT_MAX_PARTS;
}

int worker_dispatch(struct smx_worker *w)
{
        struct smx_client *c = w->c;
        if (w->pend_head != SMX_SLOT_NONE || event_ring_space_w(w->evr) < EVENT_RESERVE)
                return 0;
        if (c->http && smx_http_exclusive(c->http))
                return 0;   /* transport http: MTs go over HTTP only */
        unsigned n = w->n_binds, ready = 0;
        uint32_t room = 0;         /* window space of the ready binds */
        for (unsigned i = 0; i < n; i++) {
                struct smx_bind *b = w->binds[i];
                w->cand[i].ready = (uint8_t)worker_route_ready(b, w->now_ms);
                w->cand[i].outstanding = b->sess.n_submit;
                w->cand[i].weight = b->weight;
                w->cand[i].bind = b->index;
                ready += w->cand[i].ready;
                if (w->cand[i].ready && b->scfg.window > b->sess.n_submit)
                        room += b->scfg.window - b->sess.n_submit;
        }
        if (ready == 0)
                return 0;
        /* shared store: a resp's correlation write must find room in the
         * hand-off ring (a full ring dropped it, and its DRs waited out the
         * park timeout uncorrelated: issue 13), so MTs wait in ingress while
         * the store thread catches up; it drains its rings every ms */
        uint32_t corr_left = corr_room_left(w);
        if (corr_left < SMX_MT_MAX_PARTS)
                return 0;
        /* pop no more than the ready binds' window room and the turn allow;
         * at least one MT, whose route_pick decides */
        uint32_t budget = room < DISPATCH_PER_TURN ? room : DISPATCH_PER_TURN;
        if (budget == 0)
                budget = 1;
        struct pop_ahead pa;
        pa.n_cur = pa.i_cur = pa.n_next = 0;
        pa.primed = 0;
        int done = 0;
        while (ready > 0 && corr_left >= SMX_MT_MAX_PARTS) {
                uint32_t idx = take_mt(&c->ing, &pa, &budget);
                if (idx == SMX_SLOT_NONE)
                        break;
                done++;
                struct smx_slot *s = ingress_slot(&c->ing, idx);
                if (atomic_load_explicit(&c->fail_all, memory_order_relaxed)) {
                        worker_fail_mt(w, idx, SMX_FAIL_SHUTDOWN, 0);
                        continue;
                }
                int i = route_pick(&w->router, w->cand, n, s->last_bind);
                if (i < 0) {
                        pa.i_cur--;             /* this MT too goes back, first */
                        done--;
                        break;
                }
                struct smx_bind *b = w->binds[i];
                uint32_t submits = b->sess.n_submit;
                int deferred = send_mt(w, b, idx) == 1;
                if (b->sess.n_submit > submits)
                        corr_left -= b->sess.n_submit - submits;  /* <= SMX_MT_MAX_PARTS: no wrap */
                w->cand[i].outstanding = b->sess.n_submit;
                if (deferred || !worker_route_ready(b, w->now_ms)) {
                        w->cand[i].ready = 0;
                        ready--;
                }
                if (w->pend_head != SMX_SLOT_NONE || event_ring_space_w(w->evr) < EVENT_RESERVE)
                        break;
        }
        give_back(w, &pa);
        return done;
}

int worker_sweep_ingress(struct smx_worker *w)
{
        struct smx_client *c = w->c;
        uint8_t reason;
        if (atomic_load_explicit(&c->fail_all, memory_order_relaxed))
                reason = SMX_FAIL_SHUTDOWN;
        else if (w->k == 0 && !c->http_carries_mts && atomic_load(&c->active_binds) == 0 &&
                 w->now_ms - atomic_load(&c->no_route_since_ms) >= w->kn->no_route_timeout_ms)
                reason = SMX_FAIL_NO_ROUTE;
        else
                return 0;
        /* At shutdown every MT left in the ingress fails now, also while
         * outcomes wait for ring room (they queue on the slot-linked pending
         * list, which needs no room): the drain's bound must not depend on
         * the application polling. */
        int shutdown = reason == SMX_FAIL_SHUTDOWN;
        int n = 0;
        while (n < DISPATCH_PER_TURN && (shutdown || w->pend_head == SMX_SLOT_NONE)) {
                uint32_t idx = ingress_pop(&c->ing);
                if (idx == SMX_SLOT_NONE)
                        break;
                worker_fail_mt(w, idx, reason, 0);
                n++;
        }
        return n;
}
