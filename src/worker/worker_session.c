/* The session callbacks (src/session calls them on the worker thread):
 * submit_sm_resp, lost/timed-out requests, deliver_sm, health changes; the
 * accepted MTs' correlation puts, prepared at their resp and put ACC_LAG
 * resps later (accepted_put: the store slot has been loading meanwhile, so
 * consecutive puts' memory misses overlap); and,
 * with a shared store, the deferred deliver_sm answers (worker_store_turn).
 * A pushback (ESME_RTHROTTLED, ESME_RMSGQFUL) is not charged as an attempt
 * while the MT is younger than no_route_timeout_ms (cb_mt_resp). */
#include <string.h>

#include "core/stamp.h"
#include "log/log.h"
#include "worker/worker_int.h"

static inline uint32_t mt_ref_ok(struct smx_client *c, uint32_t ref, uint32_t tag)
{
        return ref < c->ing.n_slots &&
               atomic_load_explicit(&ingress_slot(&c->ing, ref)->tag, memory_order_relaxed) == tag;
}

/* Put the oldest prepared correlation. */
static void accepted_commit_oldest(struct smx_worker *w)
{
        struct smx_accepted_put *a = &w->acc[w->acc_head];
        w->acc_head = (w->acc_head + 1) % ACC_LAG;
        w->n_acc--;
        if (inbound_accepted_commit_w(w->c->inbound, a, w->evr, w->now_ms) > 0)
                w->committed = 1;
}

void worker_accepted_flush(struct smx_worker *w)
{
        while (w->n_acc)
                accepted_commit_oldest(w);
}

/* An MT that asked for a DR was accepted with msgid: its correlation is
 * prepared now (id hashed, the store slot it writes starts loading) and put
 * ACC_LAG resps later, when that slot is in cache: a put is one random
 * probe of a table of millions, a miss to memory each, and this way the
 * misses of consecutive resps overlap instead of queueing. */
static void accepted_put(struct smx_worker *w, struct smx_bind *b, const struct smx_slot *s,
                         uint32_t ref, uint8_t part, const uint8_t *msgid, size_t msgid_len)
{
        if (w->n_acc == ACC_LAG)
                accepted_commit_oldest(w);
        struct smx_accepted_put *a = &w->acc[(w->acc_head + w->n_acc) % ACC_LAG];
        if (inbound_accepted_prepare(w->c->inbound, &b->info, msgid, msgid_len, s->id, s->id_len,
                                     smx_slot_serial(ref, s->gen), part, s->n_parts, a) == 0)
                w->n_acc++;
}

/* The last part of an attempt with failed parts (a one-part MT's failure
 * included) has answered or been lost: the attempt ends here, once. A
 * rejected part fails the MT. Otherwise it is sent again: at once when parts
 * were only lost (R4: any ACTIVE bind may take it), after retry_backoff_ms
 * when the SMSC answered with an error. A pushback (ESME_RTHROTTLED,
 * ESME_RMSGQFUL) alone is not charged as an attempt while the MT is younger
 * than no_route_timeout_ms (the client's bound on waiting for somewhere to
 * send it) and fewer than 255 times: the SMSC took nothing and the bind
 * pauses; after that it counts like any transient failure, so max_attempts
 * still ends it. */
static void attempt_failed(struct smx_worker *w, struct smx_bind *b, uint32_t ref,
                           struct smx_slot *s)
{
        uint8_t f = s->fail_bits;
        if (f & SMX_PARTF_PERMANENT) {
                slot_tag_bump(s);
                worker_emit_outcome(w, ref, SMX_EV_FAILED, SMX_FAIL_REJECTED, 1, b->index, NULL, 0);
                return;
        }
        if (f == SMX_PARTF_THROTTLED) {
                uint64_t now_us = smx_stamp_us();
                uint64_t age_us = now_us > s->submit_us ? now_us - s->submit_us : 0;
                if (s->pushbacks < UINT8_MAX && age_us < (uint64_t)w->kn->no_route_timeout_ms * 1000u)
                        s->pushbacks++;
        }
        if (f & SMX_PARTF_LOST) {
                atomic_fetch_add_explicit(&b->cnt.resent, 1, memory_order_relaxed);
                s->flags |= SMX_SLOTF_RESENT;
        }
        worker_retry_mt(w, ref, f == SMX_PARTF_LOST);
}

static void cb_mt_resp(void *ctx, uint32_t ref, uint32_t tag, uint8_t part, uint32_t status,
                       const uint8_t *msgid, size_t msgid_len, int late)
{
        struct smx_bind *b = ctx;
        struct smx_worker *w = b->w;
        struct smx_client *c = w->c;
        if (late || !mt_ref_ok(c, ref, tag))
                return;    /* an older attempt: its MT has moved on (E-01 tombstone) */
        struct smx_slot *s = ingress_slot(&c->ing, ref);
        s->last_status = status;
        enum smx_status_class cls = smx_status_class_of(status);
        if (cls == SMX_STATUS_OK) {
                counter_sub_owner(&b->cnt.in_flight, 1);
                /* Correlation only for MTs that asked for a DR: no DR is due for
                 * the others, so their message ids are not stored and no parked
                 * DR can be waiting for them. A DR the SMSC sends anyway for such
                 * an MT reaches the app uncorrelated (no MT id), like any DR
                 * whose id is unknown. */
                if (s->want_dr && c->rstore) {
                        /* shared store: the store thread writes it (rstore.h) */
                        inbound_remote_accepted_w(c->inbound, c->rstore, w->k, &b->info, msgid,
                                                  msgid_len, s->id, s->id_len, part, s->n_parts);
                        w->store_pushed = 1;
                } else if (s->want_dr) {
                        accepted_put(w, b, s, ref, part, msgid, msgid_len);
                }
                if (s->n_parts == 1) {
                        /* single part: the resp's id is the outcome's, no staging copy */
                        worker_emit_outcome(w, ref, SMX_EV_SUBMITTED, SMX_FAIL_NONE, 0, b->index,
                                            msgid, msgid_len);
                        return;
                }
                if (part == 0) {
                        size_t n = msgid_len > SMX_MSGID_MAX ? SMX_MSGID_MAX : msgid_len;
                        if (n)
                                memcpy(s->out_msgid, msgid, n);
                        s->out_msgid[n] = 0;
                }
                if (++s->parts_ok + s->parts_failed < s->n_parts)
                        return;
                if (s->parts_failed) {
                        attempt_failed(w, b, ref, s);
                        return;
                }
                char mid[SMX_MSGID_MAX + 1];
                size_t n = strlen(s->out_msgid);
                memcpy(mid, s->out_msgid, n + 1);
                worker_emit_outcome(w, ref, SMX_EV_SUBMITTED, SMX_FAIL_NONE, 0, b->index,
                             (const uint8_t *)mid, n);
                return;
        }
        /* a part failed; a long MT's attempt ends when every part has
         * answered (attempt_failed), so the answers of its other parts are
         * taken: an accepted part keeps its message id (its DRs find the MT) */
        counter_sub_owner(&b->cnt.in_flight, 1);
        if (cls == SMX_STATUS_THROTTLED) {
                atomic_fetch_add_explicit(&b->cnt.throttled, 1, memory_order_relaxed);
                s->fail_bits |= SMX_PARTF_THROTTLED;
        } else {
                s->fail_bits |= cls == SMX_STATUS_PERMANENT ? SMX_PARTF_PERMANENT
                                                             : SMX_PARTF_TRANSIENT;
        }
        if (s->parts_ok + ++s->parts_failed < s->n_parts)
                return;
        attempt_failed(w, b, ref, s);
}

static void cb_mt_lost(void *ctx, uint32_t ref, uint32_t tag, uint8_t part, int timed_out)
{
        struct smx_bind *b = ctx;
        struct smx_worker *w = b->w;
        struct smx_client *c = w->c;
        (void)part;
        if (!mt_ref_ok(c, ref, tag))
                return;
        struct smx_slot *s = ingress_slot(&c->ing, ref);
        counter_sub_owner(&b->cnt.in_flight, 1);
        if (timed_out)
                s->last_status = SMPP_ESME_RUNKNOWNERR;
        s->fail_bits |= SMX_PARTF_LOST;
        if (s->parts_ok + ++s->parts_failed < s->n_parts)
                return;         /* the attempt ends with its last part */
        attempt_failed(w, b, ref, s);
}

static uint32_t cb_deliver(void *ctx, const struct smx_pdu *pdu)
{
        struct smx_bind *b = ctx;
        struct smx_worker *w = b->w;
        /* the correlations of resps handled before this PDU go in first: a
         * DR right behind its resp finds it, as if put one by one */
        if (w->n_acc)
                worker_accepted_flush(w);
        uint32_t before = event_ring_space_w(w->evr);
        int dr = (pdu->u.sm.esm_class & SMPP_ESM_TYPE_MASK) != 0 ||
                 (pdu->tlv.present & SMX_TLV_RECEIPTED_MESSAGE_ID);
        uint32_t st;
        if (w->c->rstore) {
                /* shared store: answered when its script ran (worker_store_turn) */
                struct rs_reply_to to = {
                        .worker = (uint16_t)w->k, .local = (uint16_t)b->local, .bind = b->index,
                        .gen = b->conn_gen, .seq = pdu->h.sequence_number,
                        .cmd = pdu->h.command_id, .is_dr = (uint8_t)dr,
                };
                st = inbound_remote_deliver_w(w->c->inbound, w->c->rstore, w->k, &b->info, pdu,
                                              w->evr, &to, w->now_ms);
                if (st == SMX_DELIVER_DEFER) {
                        w->store_pushed = 1;
                        return st;
                }
        } else {
                st = inbound_on_deliver_w(w->c->inbound, &b->info, pdu, w->evr, w->now_ms);
        }
        if (event_ring_space_w(w->evr) != before)
                w->committed = 1;
        if (st == SMPP_ESME_ROK)
                atomic_fetch_add_explicit(dr ? &b->cnt.drs : &b->cnt.mos, 1, memory_order_relaxed);
        return st;
}

int worker_store_turn(struct smx_worker *w)
{
        struct smx_rstore *rs = w->c->rstore;
        if (!rs)
                return 0;
        int n = 0;
        struct rs_reply r;
        while (rstore_reply_pop_w(rs, w->k, &r)) {
                n++;
                if (r.to.local >= w->n_binds)
                        continue;
                struct smx_bind *b = w->binds[r.to.local];
                if (b->conn_gen != r.to.gen || b->fd < 0)
                        continue;       /* that connection is gone: the SMSC re-sends */
                session_answer_deferred(&b->sess, r.to.cmd, r.to.seq, r.status);
                if (r.status == SMPP_ESME_ROK)
                        atomic_fetch_add_explicit(r.to.is_dr ? &b->cnt.drs : &b->cnt.mos, 1,
                                                  memory_order_relaxed);
        }
        if (w->store_pushed) {
                w->store_pushed = 0;
                rstore_kick_w(rs, w->k);
        }
        return n > 0;
}

static void emit_bind_event(struct smx_worker *w, struct smx_bind *b, int up, uint32_t status,
                            const char *reason)
{
        struct smx_ev_rec *e = event_ring_reserve_w(w->evr);
        if (!e)
                return;    /* status only; the ring is kept for outcomes */
        e->type = SMX_EV_BIND;
        e->flags = up ? SMX_EVF_UP : 0;
        e->bind = b->index;
        e->status = status;
        if (reason)
                event_copy_str(e->reason_text, sizeof e->reason_text, reason, strlen(reason));
        event_ring_commit_w(w->evr);
        w->committed = 1;
}

static void cb_state(void *ctx, enum smx_bind_health from, enum smx_bind_health to,
                     uint32_t status, const char *reason)
{
        struct smx_bind *b = ctx;
        struct smx_worker *w = b->w;
        struct smx_client *c = w->c;
        atomic_store_explicit(&b->health, (uint8_t)to, memory_order_relaxed);
        /* a receive-only bind never carries MTs: it does not count as a route */
        int active = (to == SMX_HEALTH_ACTIVE || to == SMX_HEALTH_THROTTLED) &&
                     b->scfg.bind_mode != SMX_BIND_RX;
        if (active && !b->counted_active) {
                b->counted_active = 1;
                atomic_fetch_add(&c->active_binds, 1);
        } else if (!active && b->counted_active) {
                b->counted_active = 0;
                if (atomic_fetch_sub(&c->active_binds, 1) == 1)
                        atomic_store(&c->no_route_since_ms, w->now_ms);
        }
        if (to == SMX_HEALTH_ACTIVE && from == SMX_HEALTH_BINDING) {
                smx_logf(SMX_LOG_INFO, b->name, b->site, "bound");
                emit_bind_event(w, b, 1, 0, NULL);
        } else if (to == SMX_HEALTH_DOWN) {
                int cfg_err = smx_status_classify(status) == SMX_STATUS_CONFIG;
                int graceful = from == SMX_HEALTH_DRAINING;
                smx_logf(cfg_err ? SMX_LOG_ERROR : graceful ? SMX_LOG_INFO : SMX_LOG_WARN,
                         b->name, b->site,
                         "down: %s%s", reason ? reason : "closed",
                         cfg_err ? " (check system_id/password; retried at the rebind interval)" : "");
                emit_bind_event(w, b, 0, status, reason ? reason : "closed");
                bind_texts_set(&b->texts, reason ? reason : "closed", NULL, NULL);
        } else if (to == SMX_HEALTH_THROTTLED) {
                smx_logf(SMX_LOG_DEBUG, b->name, b->site, "throttled for %u ms", b->sess.throttle_ms);
        }
}

const struct smx_session_ops worker_session_ops = {
        .mt_resp = cb_mt_resp,
        .mt_lost = cb_mt_lost,
        .deliver = cb_deliver,
        .state = cb_state,
};
