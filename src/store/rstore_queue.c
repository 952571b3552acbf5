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
        if (rs->f_n == 0)
                rs->f_head = rs->f_tail = rs->f_used = 0;
}

int rs_drain_workers(struct smx_rstore *rs, uint64_t now)
{
        int work = 0;
        for (unsigned k = 0; k < rs_n_queues(rs); k++) {
                struct rs_worker_q *q = &rs->wq[k];
                struct rs_corr_req *c;
                while ((c = spsc_peek(&q->corr)) != NULL) {
                        if (rs_fifo_put(rs, c) < 0)
                                RS_INC(rs, corr_dropped);       /* past buffer_bytes */
                        spsc_pop(&q->corr);
                        work = 1;
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

