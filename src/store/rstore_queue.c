/* The store thread's side of the worker hand-off (rstore.h): the FIFO of
 * correlation writes (records [u8 app_len][key 16][u16 part][u16 n_parts]
 * [app], a 0xFF byte marking a wrap; bounded by buffer_bytes, so a write
 * that does not fit is counted and dropped), taking the workers' rings into
 * it and into the in-queue, and answering a DR/MO through its worker's
 * reply ring. Store thread only (rstore_int.h says what it owns). */
#include <string.h>

#include "store/rstore_int.h"

int rs_fifo_put(struct smx_rstore *rs, const struct rs_corr_req *r)
{
        size_t need = 1 + 16 + 2 + 2 + r->app_len;
        if (rs->f_tail == rs->fifo_cap)
                rs->f_tail = 0;
        size_t tail_room = rs->fifo_cap - rs->f_tail;
        size_t skip = tail_room < need ? tail_room : 0;   /* wrap: the tail room is skipped */
        if (rs->f_used + skip + need > rs->fifo_cap)
                return -1;
        if (skip) {
                rs->fifo[rs->f_tail] = 0xFF;
                rs->f_used += skip;
                rs->f_tail = 0;
        }
        uint8_t *p = rs->fifo + rs->f_tail;
        p[0] = r->app_len;
        memcpy(p + 1, &r->key, 16);
        memcpy(p + 17, &r->part, 2);
        memcpy(p + 19, &r->n_parts, 2);
        memcpy(p + 21, r->app, r->app_len);
        rs->f_tail += need;
        rs->f_used += need;
        rs->f_n++;
        rs->f_put_total++;
        return 0;
}

/* The record at byte offset *off, which moves past a wrap (returned in
 * *skipped); the record's size. */
size_t rs_fifo_at(struct smx_rstore *rs, size_t *off, struct rs_corr_req *r, size_t *skipped)
{
        *skipped = 0;
        if (*off == rs->fifo_cap || rs->fifo[*off] == 0xFF) {
                *skipped = rs->fifo_cap - *off;
                *off = 0;
        }
        const uint8_t *p = rs->fifo + *off;
        r->app_len = p[0];
        memcpy(&r->key, p + 1, 16);
        memcpy(&r->part, p + 17, 2);
        memcpy(&r->n_parts, p + 19, 2);
        memcpy(r->app, p + 21, r->app_len);
        return 21u + r->app_len;
}

/* Drop the oldest record (its write is done). */
void rs_fifo_pop(struct smx_rstore *rs)
{
        struct rs_corr_req r;
        size_t off = rs->f_head, skipped;
        size_t n = rs_fifo_at(rs, &off, &r, &skipped);
        rs->f_head = off + n;
        rs->f_used -= n + skipped;
        rs->f_n--;
        rs->f_pop_total++;
        if (rs->f_n == 0)
                rs->f_head = rs->f_tail = rs->f_used = 0;
}

/* ---- the outcome gate (rstore.h) ----
 * Writes leave the FIFO in order, but one whose SET NX GET found parked DRs
 * is settled only when its correlation script ran (the late list, a batch
 * later), so "settled" is a watermark: every position below the oldest
 * write still in the FIFO or the late list. A mark per drain ties that
 * position to each queue's ring index; a full mark list folds the newest
 * mark forward (later, never earlier). A dropped write (buffer full) takes
 * no position: it is settled with the mark after it. */

static void gate_publish(struct smx_rstore *rs, const uint32_t *taken)
{
        for (unsigned q = 0; q < rs_n_queues(rs); q++) {
                _Atomic uint32_t *d = &rs->wq[q].corr_done;
                if ((int32_t)(taken[q] - atomic_load_explicit(d, memory_order_relaxed)) > 0) {
                        /* seq_cst: pairs with the poll's announcement of sleep */
                        atomic_store(d, taken[q]);
                        rs->gate_changed = 1;
                }
        }
}

static void gate_mark(struct smx_rstore *rs)
{
        unsigned nq = rs_n_queues(rs);
        uint32_t i = rs->m_tail - rs->m_head == RS_MARKS ? rs->m_tail - 1 : rs->m_tail++;
        i %= RS_MARKS;
        rs->mark_pos[i] = rs->f_put_total;
        for (unsigned q = 0; q < nq; q++)
                rs->mark_taken[(size_t)i * nq + q] =
                        atomic_load_explicit(&rs->wq[q].corr.head, memory_order_relaxed);
}

void rs_gate_settle(struct smx_rstore *rs)
{
        if (rs->reput) {
                if (rs->f_n || rs->n_late)
                        return;
                rs->reput = 0;
        }
        uint64_t w = rs->f_pop_total;           /* the oldest position in the FIFO */
        if (rs->n_late && rs->late[0].serial < w)
                w = rs->late[0].serial;
        unsigned nq = rs_n_queues(rs);
        while (rs->m_head != rs->m_tail && rs->mark_pos[rs->m_head % RS_MARKS] <= w) {
                gate_publish(rs, &rs->mark_taken[(size_t)(rs->m_head % RS_MARKS) * nq]);
                rs->m_head++;
        }
}

void rs_gate_release(struct smx_rstore *rs)
{
        unsigned nq = rs_n_queues(rs);
        uint32_t *taken = &rs->mark_taken[(size_t)RS_MARKS * nq];      /* the spare row */
        for (unsigned q = 0; q < nq; q++)
                taken[q] = atomic_load_explicit(&rs->wq[q].corr.head, memory_order_relaxed);
        gate_publish(rs, taken);
        rs->m_head = rs->m_tail;
        rs->reput = 0;
}

int rs_drain_workers(struct smx_rstore *rs, uint64_t now)
{
        int work = 0, took = 0;
        for (unsigned k = 0; k < rs_n_queues(rs); k++) {
                struct rs_worker_q *q = &rs->wq[k];
                struct rs_corr_req *c;
                while ((c = spsc_peek(&q->corr)) != NULL) {
                        if (rs_fifo_put(rs, c) < 0)
                                RS_INC(rs, corr_dropped);       /* past buffer_bytes */
                        spsc_pop(&q->corr);
                        work = took = 1;
                }
                struct rs_in_req *r;
                while (rs->in_tail - rs->in_head < RS_INQ &&
                       q->outstanding + spsc_count(&q->reply) < 2 * RS_IN_RING &&
                       (r = spsc_peek(&q->in)) != NULL) {
                        rs->inq[rs->in_tail % RS_INQ] = *r;
                        rs->inq[rs->in_tail % RS_INQ].t0_ms = now;
                        rs->in_tail++;
                        q->outstanding++;
                        spsc_pop(&q->in);
                        RS_INC(rs, in_requests);
                        work = 1;
                }
        }
        if (!rs->rc && rs->down_since_ms)
                rs_gate_release(rs);    /* Redis unreachable: outcomes are not held */
        else if (took)
                gate_mark(rs);
        RS_SET(rs, corr_buffered, rs->f_n);
        RS_SET(rs, corr_buffered_bytes, rs->f_used);
        RS_SET(rs, in_held, rs->in_tail - rs->in_head);
        return work;
}

/* Answer the oldest in-queue request and drop it: a worker's through its
 * reply ring (the worker is marked in *woken), an extra producer's by
 * answer_ext, here and now. */
void rs_in_answer(struct smx_rstore *rs, uint32_t status, unsigned *woken)
{
        struct rs_in_req *r = &rs->inq[rs->in_head % RS_INQ];
        unsigned k = r->to.worker;
        struct rs_worker_q *q = &rs->wq[k];
        if (k >= rs->host.n_workers) {
                struct rs_reply rep = { .to = r->to, .status = status };
                rs->host.answer_ext(rs->host.ctx, &rep);
        } else {
                struct rs_reply *rep = spsc_slot(&q->reply);
                if (rep) {      /* room is reserved by drain_workers */
                        rep->to = r->to;
                        rep->status = status;
                        spsc_push(&q->reply);
                }
                *woken |= 1u << (k % 32);
        }
        q->outstanding--;
        free(r->data);
        r->data = NULL;
        rs->in_head++;
}

void rs_in_drop(struct smx_rstore *rs)
{
        struct rs_in_req *r = &rs->inq[rs->in_head % RS_INQ];
        rs->wq[r->to.worker].outstanding--;
        free(r->data);
        r->data = NULL;
        rs->in_head++;
}

void rs_wake_workers(struct smx_rstore *rs, unsigned woken)
{
        for (unsigned k = 0; woken && k < rs->host.n_workers; k++)
                if (woken & (1u << (k % 32)))
                        rs->host.wake_worker(rs->host.ctx, k);
}

