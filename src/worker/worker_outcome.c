/* An MT's one outcome, and retries (see worker_int.h).
 *
 * Every accepted MT leaves through exactly one outcome (worker_emit_outcome):
 * the record goes into this worker's event ring or, when the ring is full,
 * onto a worker-local pending list that is flushed first on later turns;
 * while it is non-empty no new MT is taken. An MT whose attempt failed
 * transiently waits out the retry backoff on a worker-local delay list and
 * then goes back to ingress. An outcome's slot is freed into a worker-local
 * chain that goes back to the free stack with one CAS (FREE_CHAIN_MAX slots,
 * or the end of the loop turn). */
#include <string.h>

#include "mem/copy_small.h"
#include "worker/worker_int.h"

static void slot_list_append(struct smx_ingress *g, uint32_t *head, uint32_t *tail, uint32_t idx)
{
        struct smx_slot *s = ingress_slot(g, idx);
        atomic_store_explicit(&s->next, SMX_SLOT_NONE, memory_order_relaxed);
        if (*tail == SMX_SLOT_NONE)
                *head = idx;
        else
                atomic_store_explicit(&ingress_slot(g, *tail)->next, idx, memory_order_relaxed);
        *tail = idx;
}

static uint32_t slot_list_pop(struct smx_ingress *g, uint32_t *head, uint32_t *tail)
{
        uint32_t idx = *head;
        if (idx == SMX_SLOT_NONE)
                return idx;
        *head = atomic_load_explicit(&ingress_slot(g, idx)->next, memory_order_relaxed);
        if (*head == SMX_SLOT_NONE)
                *tail = SMX_SLOT_NONE;
        return idx;
}

/* Write the slot's outcome, with the SMSC's message id `msgid` (not
 * NUL-terminated), into the reserved ring entry `o` or, when the ids do not
 * fit an entry, into a full record; free the slot. Inlined into both
 * callers, so an outcome costs worker_emit_outcome one call, not two
 * (bench/README.md "CPU per MT, issue 16"). */
static inline __attribute__((always_inline)) void commit_outcome(struct smx_worker *w, uint32_t idx, struct smx_ev_out *o,
                           const void *msgid, size_t msgid_len)
{
        struct smx_client *c = w->c;
        struct smx_slot *s = ingress_slot(&c->ing, idx);
        uint8_t type = s->out_type;
        uint8_t flags = (uint8_t)((s->out_permanent ? SMX_EVF_PERMANENT : 0) |
                                  ((s->flags & SMX_SLOTF_RESENT) ? SMX_EVF_RESENT : 0));
        uint64_t now_us = w->now_us;   /* this loop turn's stamp: its answers were just reaped */
        uint64_t latency_us = now_us > s->submit_us ? now_us - s->submit_us : 0;
        /* a SUBMITTED outcome is emitted by its bind's owner: single writer */
        if (type == SMX_EV_SUBMITTED && s->out_bind < c->n_binds)
                lat_hist_add_w(&c->binds[s->out_bind].lat, latency_us);
        size_t id_len = s->id_len;
        if (event_out_fits(id_len, msgid_len)) {
                o->type = type;
                o->flags = flags;
                o->reason = s->out_reason;
                o->id_len = (uint8_t)id_len;
                o->bind = s->out_bind;
                o->unused = 0;
                o->status = s->last_status;
                o->attempts = s->attempts;
                o->latency_us = latency_us;
                /* fixed-size copies (inlined moves, no call): the slot's id
                 * buffer is longer than the entry's strings */
                _Static_assert(sizeof s->id >= SMX_EV_OUT_STR, "slot id covers the entry's strings");
                memcpy(o->str, s->id, SMX_EV_OUT_STR);
                o->str[id_len] = 0;
                copy_upto64(o->str + id_len + 1, msgid, msgid_len);   /* fits: < SMX_EV_OUT_STR */
                o->str[id_len + 1 + msgid_len] = 0;
        } else {
                /* the entry is free, so a record is too (event_ring.h) */
                struct smx_ev_rec *e = event_ring_reserve_w(w->evr);
                e->type = type;
                e->reason = s->out_reason;
                e->flags = flags;
                e->bind = s->out_bind;
                e->status = s->last_status;
                e->attempts = s->attempts;
                e->latency_us = latency_us;
                event_copy_str(e->id, sizeof e->id, s->id, id_len);
                event_copy_str(e->message_id, sizeof e->message_id, msgid, msgid_len);
        }
        event_ring_commit_w(w->evr);
        w->committed = 1;
        ingress_chain_add(&c->ing, &w->freed, idx);
        if (w->freed.n == FREE_CHAIN_MAX)
                worker_free_slots(w);
}

void worker_free_slots(struct smx_worker *w)
{
        ingress_chain_free(&w->c->ing, &w->freed);
}

void worker_emit_outcome(struct smx_worker *w, uint32_t idx, uint8_t type, uint8_t reason,
                         int permanent, uint16_t bind, const uint8_t *msgid, size_t msgid_len)
{
        struct smx_client *c = w->c;
        struct smx_slot *s = ingress_slot(&c->ing, idx);
        slot_tag_bump(s);
        s->out_type = type;
        s->out_reason = reason;
        s->out_permanent = (uint8_t)(permanent != 0);
        s->out_bind = bind;
        if (msgid_len > SMX_MSGID_MAX)
                msgid_len = SMX_MSGID_MAX;
        if (bind < c->n_binds) {
                struct smx_bind *b = &c->binds[bind];
                if (type == SMX_EV_SUBMITTED)   /* by b's owner, the only writer */
                        counter_add_owner(&b->cnt.accepted, 1);
                else
                        atomic_fetch_add_explicit(&b->cnt.failed, 1, memory_order_relaxed);
                if (type == SMX_EV_FAILED && reason < SMX_FAIL_REASONS)
                        atomic_fetch_add_explicit(&b->cnt.failed_by[reason], 1, memory_order_relaxed);
        } else if (type == SMX_EV_FAILED && reason < SMX_FAIL_REASONS) {
                atomic_fetch_add_explicit(&c->failed_nobind[reason], 1, memory_order_relaxed);
        }
        counter_add_owner(&w->decided, 1);
        struct smx_ev_out *e = NULL;
        if (w->pend_head == SMX_SLOT_NONE)
                e = event_ring_reserve_outcome_w(w->evr);
        if (e) {
                /* the id goes straight into the record; only an outcome that
                 * waits for ring room keeps it in the slot */
                commit_outcome(w, idx, e, msgid, msgid_len);
        } else {
                if (msgid_len)
                        memmove(s->out_msgid, msgid, msgid_len);  /* may be out_msgid */
                s->out_msgid[msgid_len] = 0;
                slot_list_append(&c->ing, &w->pend_head, &w->pend_tail, idx);
                atomic_store_explicit(&w->n_pend,
                                      atomic_load_explicit(&w->n_pend, memory_order_relaxed) + 1,
                                      memory_order_release);
        }
}

int worker_flush_pending(struct smx_worker *w)
{
        int n = 0;
        while (w->pend_head != SMX_SLOT_NONE) {
                struct smx_ev_out *e = event_ring_reserve_outcome_w(w->evr);
                if (!e)
                        break;
                uint32_t idx = slot_list_pop(&w->c->ing, &w->pend_head, &w->pend_tail);
                const struct smx_slot *s = ingress_slot(&w->c->ing, idx);
                commit_outcome(w, idx, e, s->out_msgid, strlen(s->out_msgid));
                /* release: whoever sees the count drop also sees the record */
                atomic_store_explicit(&w->n_pend,
                                      atomic_load_explicit(&w->n_pend, memory_order_relaxed) - 1,
                                      memory_order_release);
                n++;
        }
        return n;
}

void worker_fail_mt(struct smx_worker *w, uint32_t idx, uint8_t reason, int permanent)
{
        struct smx_slot *s = ingress_slot(&w->c->ing, idx);
        worker_emit_outcome(w, idx, SMX_EV_FAILED, reason, permanent, s->last_bind, NULL, 0);
}

void worker_retry_mt(struct smx_worker *w, uint32_t idx, int now_ok)
{
        struct smx_client *c = w->c;
        struct smx_slot *s = ingress_slot(&c->ing, idx);
        slot_tag_bump(s);
        if (atomic_load_explicit(&c->fail_all, memory_order_relaxed)) {
                worker_fail_mt(w, idx, SMX_FAIL_SHUTDOWN, 0);
                return;
        }
        if (s->attempts - s->pushbacks >= w->kn->max_attempts) {
                worker_fail_mt(w, idx, SMX_FAIL_ATTEMPTS, 0);
                return;
        }
        if (now_ok) {
                worker_repush(w, idx);
                return;
        }
        s->not_before_ms = (uint32_t)(w->now_ms + w->kn->retry_backoff_ms);
        slot_list_append(&c->ing, &w->delay_head, &w->delay_tail, idx);
}

int worker_release_delayed(struct smx_worker *w)
{
        struct smx_client *c = w->c;
        int n = 0;
        int fail = atomic_load_explicit(&c->fail_all, memory_order_relaxed);
        while (w->delay_head != SMX_SLOT_NONE) {
                struct smx_slot *s = ingress_slot(&c->ing, w->delay_head);
                if (!fail && (int32_t)(s->not_before_ms - (uint32_t)w->now_ms) > 0)
                        break;
                uint32_t idx = slot_list_pop(&c->ing, &w->delay_head, &w->delay_tail);
                if (fail)
                        worker_fail_mt(w, idx, SMX_FAIL_SHUTDOWN, 0);
                else
                        worker_repush(w, idx);
                n++;
        }
        return n;
}
