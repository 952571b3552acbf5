/* The store thread (rstore.h). One turn:
 *   1. take what the workers queued: correlation writes into the byte FIFO
 *      (bounded by buffer_bytes; past it counted and dropped), DRs/MOs into
 *      the in-queue (while it and the worker's reply ring have room);
 *   2. connected: one pipelined batch - XACK of the events the
 *      application released (every 256 of a stream, and once a second, a
 *      trim of it below what is acknowledged), the correlation writes, one script per
 *      DR/MO, XREADGROUP of silent instances' streams (of ours too while
 *      the read connection is down), plus XAUTOCLAIM of their pending
 *      entries, never showing again one we hold: rstore_held.c), and every
 *      heartbeat (1 s, owner_takeover_ms
 *      / 4 if shorter) the heartbeat, the idle reset of the taken-over
 *      entries we hold, the park and MO-group sweeps and the instance scan (the
 *      park sweep also every turn while its last call took a full batch); then
 *      the replies in order. A write or DR leaves its queue only when its
 *      reply came, so a connection lost mid-batch replays it (each script
 *      is idempotent: a replayed DR/MO finds its dedup key and is answered
 *      ROK; its first run already queued the event);
 *   3. not connected: reconnect with backoff (100 ms doubling to 2 s); a
 *      DR/MO waiting past hold_ms is answered ESME_RX_T_APPN (the SMSC
 *      re-sends); once Redis has been unreachable for local_after_ms, DRs
 *      are delivered uncorrelated and MOs as received on this instance
 *      (counted local_fallback) rather than refused for ever;
 *   3b. the read connection's turn (rstore_read.c): its reply's entries into
 *      the ring, the next blocking XREADGROUP of our stream out;
 *   4. nothing to do: sleep on the eventfd (workers' kicks, the
 *      application's poll releasing our records) and the read connection's
 *      socket, until the next heartbeat or the read's deadline; 2 ms while
 *      a connection is down or DRs/MOs wait (the offline timers).
 * At stop: a last bounded attempt (2 s) to write buffered correlations and
 * acknowledge released events. The batch is built by rstore_batch.c; the
 * replies carrying stream entries are taken apart by rstore_reply.c. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log/log.h"
#include "pdu/smpp_defs.h"
#include "store/rstore_batch.h"

#define IDLE_MS 2
#define IDLE_MAX_MS 1000

/* ---- 3. offline ---- */

static int offline(struct smx_rstore *rs, uint64_t now)
{
        int work = 0;
        unsigned woken = 0;
        int local = rs->down_since_ms && now - rs->down_since_ms >= rs->cfg.local_after_ms;
        while (rs->in_head != rs->in_tail) {
                struct rs_in_req *r = &rs->inq[rs->in_head % RS_INQ];
                if (local) {
                        /* not the room an outstanding read may fill */
                        struct smx_ev_rec *e =
                                event_ring_space_w(rs->ring) > 1 + rs_read_reserved(rs)
                                ? rs_ev_reserve(rs) : NULL;
                        if (!e)
                                break;
                        if (r->to.worker >= rs->host.n_workers && rs->host.claim_ext &&
                            !rs->host.claim_ext(rs->host.ctx, &r->to)) {
                                /* answered 503 by the HTTP receiver's close: the
                                 * service re-sends it; delivering it too would
                                 * duplicate it */
                                rs_in_drop(rs);
                                work = 1;
                                continue;
                        }
                        rs_local_event(rs, r, e);
                        rs_ev_commit(rs, RS_NO_STREAM, NULL);
                        RS_INC(rs, local_fallback);
                        rs_in_answer(rs, SMPP_ESME_ROK, &woken);
                } else if (now - r->t0_ms >= rs->cfg.hold_ms) {
                        RS_INC(rs, in_retry_later);
                        rs_in_answer(rs, SMPP_ESME_RX_T_APPN, &woken);
                } else {
                        break;
                }
                work = 1;
        }
        rs_wake_workers(rs, woken);
        if (work)
                rs->host.wake_app(rs->host.ctx);
        return work;
}

/* ---- 2. the batch: sent, then its replies in order ---- */

static void rtt_note(struct smx_rstore *rs, uint64_t us)
{
        static const uint64_t le[7] = { 100, 250, 500, 1000, 2500, 10000, 100000 };
        unsigned i = 0;
        while (i < 7 && us > le[i])
                i++;
        RS_INC(rs, rtt_bucket[i]);
        RS_SET(rs, rtt_last_us, us);
        if (us > atomic_load_explicit(&rs->c.rtt_max_us, memory_order_relaxed))
                RS_SET(rs, rtt_max_us, us);
}

static uint64_t mono_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The late list after a batch: the first `done` ran their script (gone),
 * `added` new ones were appended after the old ones. And the reack ids
 * whose XACK was answered are dropped. */
static void late_settle(struct smx_rstore *rs, unsigned done, unsigned added)
{
        if (rs->reack_done) {
                /* the reack ids Redis answered (the first ones) */
                uint32_t d = rs->reack_done < rs->n_reack ? rs->reack_done : rs->n_reack;
                for (uint32_t i = 0; i < d; i++)
                        rs_held_drop(rs, rs->reack[i].stream, rs->reack[i].id);
                memmove(rs->reack, rs->reack + d, (rs->n_reack - d) * sizeof *rs->reack);
                rs->n_reack -= d;
                rs->reack_done = 0;
        }
        unsigned total = rs->n_late + added;
        if (done)
                memmove(rs->late, rs->late + done, (total - done) * sizeof *rs->late);
        rs->n_late = total - done;
}

/* The next reply of the batch. While it is not in yet, the workers' rings
 * are drained into the FIFO and in-queue (so a slow Redis never makes them
 * overflow); no reply within timeout_ms: -1 (the caller disconnects). */
static int get_reply(struct smx_rstore *rs, redisReply **out, uint64_t now)
{
        void *r = NULL;
        uint64_t limit = mono_us() + (uint64_t)rs->cfg.timeout_ms * 1000u;
        for (;;) {
                if (redisGetReplyFromReader(rs->rc, &r) != REDIS_OK)
                        return -1;
                if (r) {
                        *out = r;
                        return 0;
                }
                uint64_t t = mono_us();
                if (t >= limit)
                        return -1;
                struct pollfd p = { rs->rc->fd, POLLIN, 0 };
                int rc = poll(&p, 1, 1);        /* 1 ms at a time, draining between */
                if (rc == 0) {
                        rs_drain_workers(rs, now);
                        continue;
                }
                if (rc < 0)
                        continue;
                if (rs_io_fill(rs, RS_MAIN, rs->rc) != 0)
                        return -1;
        }
}

/* Nothing to send but acknowledgements (no write, DR/MO, heartbeat or
 * polled read due) and the last batch went out less than RS_GATHER_US ago:
 * let more gather for one round trip (idle_wait sleeps the rest). */
static int acks_can_wait(struct smx_rstore *rs, uint64_t now)
{
        if (rs->f_n || rs->n_late || rs->in_head != rs->in_tail || now >= rs->next_hb_ms ||
            !rs->rd || rs->sweep_more)
                return 0;
        for (unsigned s = 1; s < rs->n_streams; s++)
                if (rs->streams[s].dead)
                        return 0;
        return mono_us() - rs->last_batch_us < RS_GATHER_US;
}

static int run_batch(struct smx_rstore *rs, uint64_t now, int final)
{
        if (!final && acks_can_wait(rs, now))
                return 0;
        static _Thread_local struct cmd cmds[65536];
        struct batch b = { .cmd = cmds, .n = 0, .cap = sizeof cmds / sizeof cmds[0], .read_budget = 0 };
        struct common cm;
        snprintf(cm.now, sizeof cm.now, "%llu", (unsigned long long)now);
        snprintf(cm.ttl, sizeof cm.ttl, "%u", rs->cfg.corr_ttl_ms);
        rs_batch_acks(rs, &b);
        rs_batch_trims(rs, &b, final || now >= rs->next_hb_ms);
        int n_corr = rs_batch_corr(rs, &b, &cm);
        int n_in = final ? 0 : rs_batch_in(rs, &b, &cm);
        if (!final) {
                rs_batch_refresh(rs, &b, now);
                rs_batch_reads(rs, &b);
                rs_batch_periodic(rs, &b, &cm, now);
        }
        if (b.n == 0)
                return 0;
        rs->io_err[0] = 0;
        rs->last_batch_us = mono_us();
        if (rs_io_flush(rs, RS_MAIN, rs->rc) != 0) {
                rs_disconnect(rs, rs->io_err[0] ? rs->io_err : "write", now);
                return 1;
        }
        uint64_t t0 = mono_us();
        uint64_t sent_ms = rs->last_batch_us / 1000u;   /* the fence's clock (ms) */
        int got = 0;
        unsigned woken = 0, late_done = 0, late_new = 0;
        int swept_full = 0;
        for (unsigned i = 0; i < b.n; i++) {
                redisReply *r = NULL;
                if (get_reply(rs, &r, now) != 0) {
                        /* what has no reply yet stays queued and is replayed */
                        late_settle(rs, late_done, late_new);
                        rs_disconnect(rs, rs->io_err[0] ? rs->io_err
                                          : rs->rc->errstr[0] ? rs->rc->errstr : "no reply", now);
                        rs_wake_workers(rs, woken);
                        return 1;
                }
                struct cmd *c = &b.cmd[i];
                int err = r->type == REDIS_REPLY_ERROR;
                if ((i & 255) == 255)
                        rs_drain_workers(rs, now);  /* keep the workers' rings from filling */
                if (err && r->str && !strncmp(r->str, "NOSCRIPT", 8)) {
                        /* the server lost its scripts (restarted): reconnect loads them */
                        freeReplyObject(r);
                        late_settle(rs, late_done, late_new);
                        rs_disconnect(rs, "scripts missing", now);
                        rs_wake_workers(rs, woken);
                        return 1;
                }
                switch (c->kind) {
                case K_CORR_SCRIPT:
                        if (err)
                                smx_logf(SMX_LOG_WARN, NULL, NULL, "store: correlation write: %s",
                                         r->str);
                        else if (r->type == REDIS_REPLY_INTEGER && r->integer > 0)
                                RS_ADD(rs, drs_routed, (uint64_t)r->integer);
                        late_done++;
                        break;
                case K_CORR_SET: {
                        /* the key was there when SET NX GET returns a value:
                         * ours (a replay), another MT's (a reused id: replaced)
                         * or the DR script's placeholder (DRs are parked for
                         * it): the correlation script stores ours and routes
                         * the parked DRs (rstore_lua.c) */
                        int late = 0;
                        if (err) {
                                smx_logf(SMX_LOG_WARN, NULL, NULL, "store: correlation write: %s",
                                         r->str);
                                RS_INC(rs, corr_dropped);
                        } else {
                                RS_INC(rs, corr_writes);
                        }
                        struct rs_corr_req cr;
                        size_t off = rs->f_head, skipped;
                        rs_fifo_at(rs, &off, &cr, &skipped);
                        if (!err && r->type == REDIS_REPLY_STRING) {
                                char val[RS_NAME_MAX + SMX_ID_MAX + 64];
                                int vl = rs_corr_value(rs, &cr, val, sizeof val);
                                const char *ours = memchr(val, 0x1f, (size_t)vl);
                                const char *had = memchr(r->str, 0x1f, r->len);
                                size_t ol = ours ? (size_t)vl - (size_t)(ours - val) : 0;
                                late = !ours || !had || r->len - (size_t)(had - r->str) != ol ||
                                       memcmp(ours, had, ol) != 0;
                        }
                        if (late) {
                                cr.serial = rs->f_pop_total;    /* its position (the gate) */
                                if (rs->n_late + late_new < RS_LATE_MAX) {
                                        rs->late[rs->n_late + late_new++] = cr;
                                } else {
                                        rs_fifo_put(rs, &cr);      /* written again, then routed */
                                        rs->reput = 1;
                                }
                        }
                        rs_fifo_pop(rs);
                        break;
                }
                case K_IN: {
                        struct rs_in_req *q = &rs->inq[rs->in_head % RS_INQ];
                        uint32_t status = SMPP_ESME_ROK;
                        if (err) {
                                smx_logf(SMX_LOG_WARN, NULL, NULL, "store: DR/MO script: %s",
                                         r->str);
                                status = SMPP_ESME_RX_T_APPN;
                        } else if (r->type == REDIS_REPLY_INTEGER) {
                                long long v = r->integer;
                                if (v == 0 || v == 3)
                                        RS_INC(rs, duplicates);
                                else if (q->kind == RS_IN_DR)
                                        v == 2 ? RS_INC(rs, parked) : RS_INC(rs, drs_routed);
                                else if (v == 1)
                                        RS_INC(rs, mos);
                        }
                        rs_in_answer(rs, status, &woken);
                        break;
                }
                case K_IN_MANY:
                        /* one code per DR, in order (lua_dr_many); an error
                         * (none expected) has every DR of the call re-sent by
                         * the service: DRs it routed are then duplicates */
                        if (err)
                                smx_logf(SMX_LOG_WARN, NULL, NULL, "store: DR script: %s",
                                         r->str);
                        for (uint32_t j = 0; j < c->n; j++) {
                                const redisReply *e = !err && r->type == REDIS_REPLY_ARRAY &&
                                                      j < r->elements ? r->element[j] : NULL;
                                if (!e || e->type != REDIS_REPLY_INTEGER) {
                                        rs_in_answer(rs, SMPP_ESME_RX_T_APPN, &woken);
                                        continue;
                                }
                                if (e->integer == 0)
                                        RS_INC(rs, duplicates);
                                else
                                        e->integer == 2 ? RS_INC(rs, parked) : RS_INC(rs, drs_routed);
                                rs_in_answer(rs, SMPP_ESME_ROK, &woken);
                        }
                        break;
                case K_REFRESH:
                        rs_on_refresh(rs, c, r, sent_ms);
                        break;
                case K_GEN:
                        if (err)
                                smx_logf(SMX_LOG_WARN, NULL, NULL, "store: generation marker: %s",
                                         r->str);
                        else
                                rs_gen_reply(rs, RS_MAIN, r);
                        break;
                case K_READ:
                        rs->entries_from_ms = sent_ms;
                        rs->entries_gen = rs->gen[RS_MAIN];
                        if (!err) {
                                got += rs_on_read(rs, c->stream, r);
                        } else if (r->str && !strncmp(r->str, "NOGROUP", 7) && c->stream > 0) {
                                rs->streams[c->stream].dead = 0;        /* never started */
                        }
                        break;
                case K_CLAIM:
                        if (!err && r->type == REDIS_REPLY_ARRAY && r->elements >= 2) {
                                /* claimed entries come in no order with what we
                                 * read: our stream's reading goes on from where it was */
                                char own_last[RS_ID_MAX];
                                memcpy(own_last, rs->own_last, sizeof own_last);
                                rs->entries_from_ms = sent_ms;
                                rs->entries_gen = rs->gen[RS_MAIN];
                                got += rs_on_entries(rs, c->stream, r->element[1]);
                                if (c->stream == 0)
                                        memcpy(rs->own_last, own_last, sizeof own_last);
                        }
                        break;
                case K_SCAN:
                        if (!err) {
                                /* a batch that waited half the takeover time for
                                 * Redis (paused, not lost): as after a reconnect */
                                uint64_t waited_ms = (mono_us() - rs->last_batch_us) / 1000u;
                                uint64_t at = rs_now_ms();
                                if (2 * waited_ms >= rs->cfg.owner_takeover_ms)
                                        rs->judge_from_ms = at + rs->cfg.owner_takeover_ms;
                                rs_on_scan(rs, r, at);
                        }
                        break;
                case K_ACK:
                        if (!err && r->type == REDIS_REPLY_INTEGER)
                                RS_ADD(rs, acks, (uint64_t)r->integer);
                        if (c->has_ack_to && (int32_t)(c->ack_to - rs->ack_pos) > 0) {
                                for (uint32_t p = rs->ack_pos; p != c->ack_to; p++) {
                                        const struct rs_ack *a =
                                                &rs->ackv[p & (rs->ring_cap - 1)];
                                        rs_held_drop(rs, a->stream, a->id);
                                }
                                rs->ack_pos = c->ack_to;
                        }
                        if (c->reack)
                                rs->reack_done += c->n;
                        break;
                case K_PARK_SWEEP:
                        /* {DRs released, ids swept}: a full call may have
                         * left more past their timeout: sweep again next turn */
                        if (err) {
                                smx_logf(SMX_LOG_WARN, NULL, NULL, "store: park sweep: %s", r->str);
                        } else if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
                                   r->element[0]->type == REDIS_REPLY_INTEGER &&
                                   r->element[1]->type == REDIS_REPLY_INTEGER) {
                                RS_INC(rs, park_sweeps);
                                RS_ADD(rs, park_released, (uint64_t)r->element[0]->integer);
                                if (r->element[1]->integer >= (long long)RS_SWEEP_IDS) {
                                        rs->sweep_more = 1;
                                        swept_full = 1;
                                }
                        }
                        break;
                case K_TRIM:
                        if (err)
                                smx_logf(SMX_LOG_WARN, NULL, NULL, "store: stream trim: %s", r->str);
                        break;
                default:
                        break;
                }
                freeReplyObject(r);
        }
        late_settle(rs, late_done, late_new);
        rs_gate_settle(rs);     /* outcomes whose correlations are in Redis now */
        RS_INC(rs, round_trips);
        RS_ADD(rs, commands, b.n);
        rtt_note(rs, mono_us() - t0);
        rs_wake_workers(rs, woken);
        return n_corr > 0 || n_in > 0 || got > 0 || swept_full;
}

/* Records the application released whose XACK is not sent yet (or ids
 * waiting for one). */
static int acks_due(struct smx_rstore *rs)
{
        uint32_t head = rs->ev_pos - (rs->ring_cap - event_ring_space_w(rs->ring));
        return head != rs->ack_pos || rs->n_reack;
}

/* How long the thread may sleep: until the next heartbeat or the read's
 * deadline when both connections are up and nothing waits on a timer;
 * IDLE_MS otherwise (reconnects, the offline answers). */
static int idle_ms(struct smx_rstore *rs, uint64_t now)
{
        if (!rs->rc || !rs->rd || rs->in_head != rs->in_tail || rs->n_late || rs->sweep_more)
                return IDLE_MS;
        uint64_t ms = rs->next_hb_ms > now ? rs->next_hb_ms - now : 1;
        uint64_t t = mono_us();
        uint64_t until = rs->rd_deadline_us;
        if (rs->rd_want && until > t && (until - t) / 1000 + 1 < ms)
                ms = (until - t) / 1000 + 1;    /* the read's deadline */
        if (acks_due(rs))
                ms = 1;         /* gathering acknowledgements (acks_can_wait) */
        if (rs->ep_want && ms > RS_EPOCH_GAP_MS)
                ms = RS_EPOCH_GAP_MS;   /* the epoch write after a read (rstore_epoch.c) */
        return (int)(ms < IDLE_MAX_MS ? ms : IDLE_MAX_MS);
}

static void idle_wait(struct smx_rstore *rs, uint64_t now)
{
        atomic_store(&rs->sleeping, 1);
        atomic_thread_fence(memory_order_seq_cst);
        for (unsigned k = 0; k < rs_n_queues(rs); k++)
                if (spsc_count(&rs->wq[k].in) || spsc_count(&rs->wq[k].corr)) {
                        atomic_store(&rs->sleeping, 0);
                        return;
                }
        if (rs->rc && acks_due(rs) && !acks_can_wait(rs, now)) {
                /* released since the batch (rstore_released kicks only a sleeper) */
                atomic_store(&rs->sleeping, 0);
                return;
        }
        struct pollfd p[2] = { { rs->efd, POLLIN, 0 }, { rs->rd ? rs->rd->fd : -1, POLLIN, 0 } };
        nfds_t n = rs->rd && rs->rd_want ? 2 : 1;
        if (poll(p, n, idle_ms(rs, now)) > 0 && (p[0].revents & POLLIN)) {
                uint64_t v;
                ssize_t r = read(rs->efd, &v, sizeof v);
                (void)r;
        }
        atomic_store(&rs->sleeping, 0);
}

/* The read connection's socket has bytes (or was closed): poll, no wait. */
static int read_ready(struct smx_rstore *rs)
{
        if (!rs->rd || !rs->rd_want)
                return 0;
        struct pollfd p = { rs->rd->fd, POLLIN, 0 };
        return poll(&p, 1, 0) > 0;
}

void *rs_main(void *arg)
{
        struct smx_rstore *rs = arg;
        /* hiredis writes with write(2): a write to a connection Redis closed
         * must fail with EPIPE, not kill the application with SIGPIPE. The
         * signal is thread-directed, so blocking it here is enough. */
        sigset_t pipe_set;
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
        uint32_t last_events = 0;
        while (!atomic_load_explicit(&rs->stop, memory_order_acquire)) {
                uint64_t now = rs_now_ms();
                int work = rs_drain_workers(rs, now);
                if (!rs->rc && now >= rs->next_connect_ms)
                        rs_connect(rs, now);
                if (rs->rc && !rs->rd)
                        rs_read_connect(rs, now);
                if (rs->rc) {
                        work |= run_batch(rs, now, 0);
                } else {
                        work |= offline(rs, now);
                }
                work |= rs_read_turn(rs, rs_now_ms(), read_ready(rs));
                if (rs->ev_pos != last_events || rs->lease_changed || rs->gate_changed) {
                        /* new records, waiting ones renewed or dropped, or
                         * outcomes whose correlations are settled */
                        last_events = rs->ev_pos;
                        rs->lease_changed = 0;
                        rs->gate_changed = 0;
                        rs->host.wake_app(rs->host.ctx);
                }
                if (!work)
                        idle_wait(rs, rs_now_ms());
        }
        /* stop: a blocked read holds nothing (what Redis sent us in a reply
         * not taken stays pending for the next start) */
        if (rs->rd) {
                rs_io_close(rs, RS_READ, rs->rd);
                rs->rd = NULL;
                rs->rd_want = 0;
                RS_SET(rs, read_connected, 0);
        }
        /* stop: the buffered correlations and the acks, for up to 2 s. A
         * correlation write is done when its SET NX GET ran and, if that found
         * DRs parked for it (the placeholder), when the correlation script it
         * calls for ran too (rs->late): without the script those DRs stay
         * parked and leave uncorrelated at dr_park_timeout_ms. */
        uint64_t limit = rs_now_ms() + 2000;
        for (;;) {
                uint64_t now = rs_now_ms();
                rs_drain_workers(rs, now);
                if (now >= limit)
                        break;
                if (!rs->rc) {
                        if (now >= rs->next_connect_ms)
                                rs_connect(rs, now);
                        if (!rs->rc) {
                                struct timespec ts = { 0, 20 * 1000000L };
                                nanosleep(&ts, NULL);
                                continue;
                        }
                }
                run_batch(rs, now, 1);
                if (rs->rc && rs->f_n == 0 && rs->n_late == 0)
                        break;
        }
        if (rs->f_n || rs->n_late)
                smx_logf(SMX_LOG_WARN, NULL, NULL, "store: %zu correlation writes not written "
                         "at stop (their DRs will arrive uncorrelated)",
                         rs->f_n + (size_t)rs->n_late);
        /* nothing settles any more: the outcome gate opens */
        atomic_store_explicit(&rs->gate_open, 1, memory_order_release);
        rs->host.wake_app(rs->host.ctx);
        return NULL;
}
