/* The worker: one thread, one io_uring, a fixed set of binds (k, k+W, ...).
 *
 * Each loop turn: reap completions (connect, multishot recv into the
 * worker's provided-buffer ring, send, the wake-up eventfd), feed received
 * bytes to the binds' session state machines (framed with smx_frame_peek,
 * decoded in place; a PDU straddling two buffers is copied into the bind's
 * reassembly buffer), run timers, start connects allowed by the rebind clock
 * (R2; a host name is first resolved without blocking, worker_resolve.c,
 * whose DNS sockets are polled on this ring), move due retries back to
 * ingress, flush outcomes that waited for event-ring room, take MTs from
 * ingress while one of its binds is ACTIVE with window space (R4) and encode
 * them straight into that bind's send buffer (one half of it, while the
 * other half is being sent), start a send per bind whose output is due
 * (send_due: at most one in flight per bind, batched while the worker is
 * busy), run the inbound timers (and, once the client has drained, the
 * inbound flush of parked DRs and open MO groups), then enter the kernel
 * once (worker_ring.c). When a turn did nothing
 * the worker sets `sleeping` and waits (short timeout) for a completion;
 * smx_submit writes the eventfd only when it sees `sleeping` set to
 * WORKER_SLEEP_FOR_INGRESS (a worker whose binds cannot take an MT now is
 * left asleep), so under load no syscall is made per MT. Every accepted MT leaves through exactly one
 * outcome (worker_outcome.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include "http/http.h"
#include "log/log.h"
#include "worker/worker_int.h"

struct io_uring_sqe *worker_get_sqe(struct smx_worker *w)
{
        struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);
        if (!sqe) {
                io_uring_submit(&w->ring);
                sqe = io_uring_get_sqe(&w->ring);
        }
        return sqe;
}

static void on_cqe(struct smx_worker *w, struct io_uring_cqe *cqe)
{
        uint64_t ud = io_uring_cqe_get_data64(cqe);
        unsigned op = ud & 0xFF, local = (unsigned)(ud >> 8) & 0xFFFFFF;
        uint32_t gen = (uint32_t)(ud >> 32);
        int res = cqe->res;
        if (op == OP_EFD) {
                worker_arm_efd(w);
                return;
        }
        if (op == OP_RESOLVE) {
                worker_resolve_on_cqe(w, local, gen, res);
                return;
        }
        if (local >= w->n_binds)
                return;
        struct smx_bind *b = w->binds[local];
        int current = gen == b->conn_gen && b->fd >= 0;
        switch (op) {
        case OP_CONNECT:
                if (!current)
                        return;
                if (res < 0) {
                        char why[48];
                        snprintf(why, sizeof why, "connect: %s",
                                 res == -ECANCELED ? "timed out" : strerror(-res));
                        worker_close_conn(w, b, 0, why);
                        return;
                }
                if (b->tls_cfg)
                        worker_tls_begin(w, b);
                else if (session_connected(&b->sess, w->now_ms) == 0)
                        worker_arm_recv(w, b);
                return;
        case OP_RECV: {
                int has_buf = (cqe->flags & IORING_CQE_F_BUFFER) != 0;
                unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
                int more = (cqe->flags & IORING_CQE_F_MORE) != 0;
                if (current && res > 0 && has_buf) {
                        const uint8_t *p = w->bufs + (size_t)bid * SMX_RECV_BUFSZ;
                        if (b->tls_cfg)
                                worker_tls_feed(w, b, p, (size_t)res);
                        else
                                worker_feed(w, b, p, (size_t)res);
                        /* a TLS failure closes the connection right there */
                        current = gen == b->conn_gen && b->fd >= 0;
                }
                if (has_buf)
                        worker_recycle_buf(w, bid);
                if (!current || b->sess.close_wanted)
                        return;
                if (res == 0) {                                 /* A-11, N-03 */
                        if (b->tls_cfg)
                                worker_tls_eof(w, b);
                        else if (b->sess.state == SMX_HEALTH_BINDING)
                                /* a TLS-only port closes on our plain bind */
                                worker_close_conn(w, b, 0, "closed by SMSC while binding "
                                                           "(TLS port?)");
                        else
                                worker_close_conn(w, b, 0, "connection closed by SMSC");
                        return;
                }
                if (res < 0 && res != -ENOBUFS) {
                        char why[48];
                        snprintf(why, sizeof why, "recv: %s", strerror(-res));
                        worker_close_conn(w, b, 0, why);
                        return;
                }
                if (!more)
                        worker_arm_recv(w, b);
                return;
        }
        case OP_SEND:
                b->send_inflight = 0;
                if (!current)
                        return;
                if (res < 0) {
                        char why[48];
                        snprintf(why, sizeof why, "send: %s", strerror(-res));
                        worker_close_conn(w, b, 0, why);
                        return;
                }
                if (b->tls_cfg)
                        worker_tls_sent(b, (size_t)res);
                else
                        session_out_consumed(&b->sess, (size_t)res);
                return;
        default:
                return;
        }
}

/* Per-bind housekeeping: timers, closing, connecting, drain. */
static int service_bind(struct smx_worker *w, struct smx_bind *b)
{
        struct smx_client *c = w->c;
        struct smx_session *s = &b->sess;
        int work = 0;
        if (b->fd < 0) {
                if (worker_resolving(w, b))
                        return 0;       /* CONNECTING, waiting for its address */
                if (s->state != SMX_HEALTH_DOWN)
                        session_closed(s, w->now_ms, 0, "closed");
                if (!b->retired && !b->send_inflight &&
                    !atomic_load_explicit(&c->unbind_all, memory_order_relaxed) &&
                    !atomic_load_explicit(&c->stop, memory_order_relaxed) &&
                    rebind_due(&b->clk, w->now_ms)) {
                        worker_start_connect(w, b);
                        work = 1;
                }
                return work;
        }
        if (atomic_load_explicit(&c->fail_all, memory_order_relaxed))
                session_abandon(s, w->now_ms);
        if (atomic_load_explicit(&c->unbind_all, memory_order_relaxed) && !b->retired) {
                b->retired = 1;
                session_unbind(s, w->now_ms);
                work = 1;
        }
        if (b->rbuf_len > 0 && w->now_ms - b->partial_since_ms >= c->cfg.pdu_read_timeout_ms)
                session_on_frame_error(s, NULL, 0, "partial PDU never completed");  /* */
        if (b->tls_cfg && worker_tls_tick(w, b))
                return 1;
        session_tick(s, w->now_ms);
        if (s->close_wanted) {
                if (!b->close_deadline_ms)
                        b->close_deadline_ms = w->now_ms + CLOSE_FLUSH_MS;
                int flushed = session_out_pending(s) == 0 && !b->send_inflight;
                if (flushed && b->tls_cfg && tls_conn_can_notify(&b->tls)) {
                        worker_tls_close_notify(b);     /* after the last PDU */
                        return 1;
                }
                if (b->tls_cfg)
                        flushed = flushed && worker_tls_flushed(b);
                if (flushed || w->now_ms >= b->close_deadline_ms) {
                        worker_close_conn(w, b, s->down_status, s->down_reason);
                        return 1;
                }
        }
        return work;
}

/* Whether a bind's output should be sent now. One send per bind is in
 * flight at a time; while the worker is busy, output is held until it is
 * worth a send of its own (SEND_BATCH_BYTES, or the window is full, or it
 * has waited SEND_HOLD_US): fewer, larger TCP segments cost the kernel (ours
 * and the SMSC's) less per MT. A turn with nothing else to do sends
 * everything, so at low load nothing waits; so do answers while the bind
 * is not bound, a close, and the rest of a short send. */
static int send_due(const struct smx_worker *w, struct smx_bind *b, int idle)
{
        const struct smx_session *s = &b->sess;
        if (b->fd < 0 || b->send_inflight || s->state == SMX_HEALTH_CONNECTING)
                return 0;
        size_t pending = session_out_pending(s);
        if (pending == 0)
                return 0;
        if (!b->out_since_us)
                b->out_since_us = w->now_us;
        return idle || s->flight || s->close_wanted || !session_bound(s) ||
               pending >= SEND_BATCH_BYTES || s->n_submit >= b->scfg.window ||
               w->now_us - b->out_since_us >= SEND_HOLD_US;
}

static int send_output(struct smx_worker *w, struct smx_bind *b, int idle)
{
        const uint8_t *data;
        size_t len;
        if (b->tls_cfg)
                return worker_tls_send(w, b, send_due(w, b, idle));
        if (!send_due(w, b, idle) || (len = session_out_take(&b->sess, &data)) == 0)
                return 0;
        struct io_uring_sqe *sqe = worker_get_sqe(w);
        io_uring_prep_send(sqe, b->fd, data, len, MSG_NOSIGNAL);
        io_uring_sqe_set_data64(sqe, ud_make(OP_SEND, b->local, b->conn_gen));
        b->send_inflight = 1;
        b->out_since_us = 0;
        return 1;
}

void worker_wake(struct smx_worker *w)
{
        if (atomic_exchange(&w->sleeping, 0)) {
                uint64_t one = 1;
                ssize_t r = write(w->efd, &one, sizeof one);
                (void)r;
        }
}

static void wake_app(struct smx_client *c)
{
        /* seq_cst exchange: pairs with the consumer's store of app_sleeping
         * followed by its re-check of the rings (see smx_events_poll) */
        if (atomic_exchange(&c->app_sleeping, 0)) {
                uint64_t one = 1;
                ssize_t r = write(c->app_efd, &one, sizeof one);
                (void)r;
        }
}

static int can_take_work(struct smx_worker *w)
{
        if (w->c->http && smx_http_exclusive(w->c->http))
                return 0;       /* transport http: ingress is the HTTP transport's (else the
                                   worker spins while MTs wait for it) */
        if (!worker_corr_room_ok(w))
                return 0;       /* shared store behind: the WAIT_MS timeout looks again */
        for (unsigned i = 0; i < w->n_binds; i++)
                if (worker_route_ready(w->binds[i], w->now_ms))
                        return 1;
        return 0;
}

/* Pin the calling worker k to the (k mod n)-th of the n CPUs it may run on
 * (the set it inherited: the process's, as taskset, a cgroup cpuset or the
 * application narrowed it), never to a CPU outside that set. */
static void worker_pin(unsigned k)
{
        cpu_set_t allowed;
        if (pthread_getaffinity_np(pthread_self(), sizeof allowed, &allowed) != 0)
                return;
        int n = CPU_COUNT(&allowed);
        if (n <= 0)
                return;
        int want = (int)(k % (unsigned)n);
        for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
                if (!CPU_ISSET(cpu, &allowed) || want-- > 0)
                        continue;
                cpu_set_t set;
                CPU_ZERO(&set);
                CPU_SET(cpu, &set);
                pthread_setaffinity_np(pthread_self(), sizeof set, &set);
                return;
        }
}

void *worker_main(void *arg)
{
        struct smx_worker *w = arg;
        struct smx_client *c = w->c;
        if (c->cfg.pin_workers)
                worker_pin(w->k);
        if (worker_ring_enable(w) < 0) {
                smx_logf(SMX_LOG_ERROR, NULL, NULL, "worker %u: io_uring could not be enabled", w->k);
                return NULL;
        }
        worker_arm_efd(w);
        while (!atomic_load_explicit(&c->stop, memory_order_acquire)) {
                w->now_ms = smx_now_ms();
                w->now_us = smx_stamp_us();
                knobs_sync_w(w);
                w->committed = 0;
                int work = 0;
                unsigned head, seen = 0;
                struct io_uring_cqe *cqe;
                io_uring_for_each_cqe(&w->ring, head, cqe) {
                        on_cqe(w, cqe);
                        seen++;
                }
                if (seen) {
                        io_uring_cq_advance(&w->ring, seen);
                        work = 1;
                }
                if (w->n_acc)
                        worker_accepted_flush(w);
                work |= worker_flush_pending(w) > 0;
                work |= worker_release_delayed(w) > 0;
                work |= worker_sweep_ingress(w) > 0;
                work |= worker_dispatch(w) > 0;
                work |= worker_resolve_tick(w);
                work |= worker_store_turn(w);
                for (unsigned i = 0; i < w->n_binds; i++)
                        work |= service_bind(w, w->binds[i]);
                int idle = !work;
                for (unsigned i = 0; i < w->n_binds; i++)
                        work |= send_output(w, w->binds[i], idle);
                if (w->now_ms - w->last_inbound_tick_ms >= 50) {
                        uint32_t before = event_ring_space_w(w->evr);
                        inbound_tick_w(c->inbound, w->k, c->n_workers, w->evr, w->now_ms);
                        if (event_ring_space_w(w->evr) != before)
                                w->committed = 1;
                        w->last_inbound_tick_ms = w->now_ms;
                }
                /* drained: parked DRs and open MO groups leave now, as far as
                 * the ring takes them; every turn until none is left */
                if (atomic_load_explicit(&c->inbound_flush, memory_order_relaxed)) {
                        uint32_t before = event_ring_space_w(w->evr);
                        inbound_flush_w(c->inbound, w->k, c->n_workers, w->evr, w->now_ms);
                        if (event_ring_space_w(w->evr) != before)
                                w->committed = 1;
                }
                if (w->freed.n)
                        worker_free_slots(w);
                /* a sleeping application is woken when the worker goes
                 * idle, or after APP_WAKE_TURNS busy turns or APP_WAKE_HOLD_US
                 * since the first event it has not been told of: sharing a
                 * CPU, a woken application preempts the worker at once, so a
                 * wake-up per busy turn cost two context switches per turn */
                if (w->committed && !w->wake_owed) {
                        w->wake_owed = 1;
                        w->wake_owed_turns = 0;
                        w->wake_owed_us = w->now_us;
                }
                if (w->wake_owed && (!work || ++w->wake_owed_turns >= APP_WAKE_TURNS ||
                                     w->now_us - w->wake_owed_us >= APP_WAKE_HOLD_US)) {
                        wake_app(c);
                        w->wake_owed = 0;
                }
                if (work) {
                        worker_ring_submit(w);
                        continue;
                }
                /* a submit wakes us only if we can take its MTs; otherwise a
                 * completion (a resp freeing window room, a bind coming up)
                 * or the WAIT_MS timeout (TPS tokens, knobs) does */
                int takes = can_take_work(w);
                /* publish `sleeping`, then look again: an MT reserved on the
                 * ring before the store may not be followed by a wake-up
                 * (the hand-shake with smx_submit's publish:
                 * src/ingress/ingress.h); one reserved and not yet
                 * published means its publisher is mid-push: give it the
                 * CPU if it does not appear at once */
                uint32_t reserved = ingress_announce_sleep(
                        &c->ing, &w->sleeping, takes ? WORKER_SLEEP_FOR_INGRESS : WORKER_SLEEP_BUSY);
                if (takes && reserved > 0 && w->pend_head == SMX_SLOT_NONE) {
                        atomic_store(&w->sleeping, 0);
                        ingress_await_published(&c->ing);
                        worker_ring_submit(w);
                        continue;
                }
                struct __kernel_timespec ts = { .tv_sec = 0, .tv_nsec = WAIT_MS * 1000000LL };
                io_uring_submit_and_wait_timeout(&w->ring, &cqe, 1, &ts, NULL);
                atomic_store(&w->sleeping, 0);
        }
        worker_free_slots(w);
        if (w->wake_owed)
                wake_app(c);
        for (unsigned i = 0; i < w->n_binds; i++) {
                struct smx_bind *b = w->binds[i];
                if (b->fd >= 0) {
                        shutdown(b->fd, SHUT_RDWR);
                        close(b->fd);
                        b->fd = -1;
                }
        }
        worker_resolve_fini(w);
        return NULL;
}

int worker_init(struct smx_worker *w, struct smx_client *c, unsigned k)
{
        memset(w, 0, sizeof *w);
        w->c = c;
        w->k = k;
        w->efd = -1;
        w->pend_head = w->pend_tail = SMX_SLOT_NONE;
        w->freed = SMX_SLOT_CHAIN_EMPTY;
        w->delay_head = w->delay_tail = SMX_SLOT_NONE;
        if (getrandom(&w->rnd, sizeof w->rnd, 0) != sizeof w->rnd || w->rnd == 0)
                w->rnd = 0x9E3779B97F4A7C15ull ^ ((uint64_t)k << 32) ^ smx_now_us();
        route_init(&w->router, c->cfg.route_policy);
        for (uint32_t i = k; i < c->n_binds; i += c->n_workers)
                w->n_binds++;
        w->binds = calloc(w->n_binds ? w->n_binds : 1, sizeof *w->binds);
        w->cand = calloc(w->n_binds ? w->n_binds : 1, sizeof *w->cand);
        w->seg = malloc(SMX_SEG_SCRATCH);
        w->tls_plain = malloc(TLS_READ_CHUNK);
        w->parts = calloc(SMX_MT_MAX_PARTS, sizeof *w->parts);
        w->acc = calloc(ACC_LAG, sizeof *w->acc);
        w->evr = event_ring_create(c->cfg.event_capacity);
        w->bufs = aligned_alloc(4096, (size_t)SMX_RECV_BUFS * SMX_RECV_BUFSZ);
        if (!w->binds || !w->cand || !w->seg || !w->tls_plain || !w->parts || !w->acc || !w->evr || !w->bufs)
                return -ENOMEM;
        unsigned j = 0;
        for (uint32_t i = k; i < c->n_binds; i += c->n_workers) {
                struct smx_bind *b = &c->binds[i];
                b->worker = k;
                b->local = j;
                b->w = w;
                w->binds[j++] = b;
                /* room for a full window plus one MT's parts beyond it */
                uint32_t cells = session_table_size(b->scfg.window + SMX_MT_MAX_PARTS);
                b->tab = calloc(cells, sizeof *b->tab);
                b->out = malloc(SMX_OUTBUF_CAP);
                b->rbuf = malloc(c->cfg.max_pdu);
                if (!b->tab || !b->out || !b->rbuf)
                        return -ENOMEM;
                session_init(&b->sess, &b->scfg, &worker_session_ops, b, b->tab, cells, b->out,
                             SMX_OUTBUF_CAP);
        }
        w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (w->efd < 0)
                return -errno;
        int r = worker_ring_init(w);
        if (r < 0)
                return r;
        w->started = 1;   /* ring initialised */
        size_t br_size = SMX_RECV_BUFS * sizeof(struct io_uring_buf);
        w->br = aligned_alloc(4096, (br_size + 4095) & ~(size_t)4095);
        if (!w->br)
                return -ENOMEM;
        io_uring_buf_ring_init(w->br);
        w->bgid = 1;
        struct io_uring_buf_reg reg = {
                .ring_addr = (unsigned long)(uintptr_t)w->br,
                .ring_entries = SMX_RECV_BUFS,
                .bgid = w->bgid,
        };
        r = io_uring_register_buf_ring(&w->ring, &reg, 0);
        if (r < 0)
                return r;
        w->bufs_registered = 1;
        for (unsigned i = 0; i < SMX_RECV_BUFS; i++)
                io_uring_buf_ring_add(w->br, w->bufs + (size_t)i * SMX_RECV_BUFSZ, SMX_RECV_BUFSZ,
                                      (unsigned short)i, io_uring_buf_ring_mask(SMX_RECV_BUFS),
                                      (int)i);
        io_uring_buf_ring_advance(w->br, SMX_RECV_BUFS);
        return 0;
}

void worker_fini(struct smx_worker *w)
{
        struct smx_client *c = w->c;
        if (!c)
                return;
        for (unsigned i = 0; i < w->n_binds; i++) {
                struct smx_bind *b = w->binds[i];
                if (!b)
                        continue;
                if (b->fd >= 0)
                        close(b->fd);
                worker_tls_fini(b);
                free(b->tab);
                free(b->out);
                free(b->rbuf);
                b->tab = NULL;
                b->out = b->rbuf = NULL;
        }
        if (w->started) {
                if (w->bufs_registered)
                        io_uring_unregister_buf_ring(&w->ring, w->bgid);
                io_uring_queue_exit(&w->ring);
        }
        if (w->efd >= 0)
                close(w->efd);
        free(w->br);
        free(w->bufs);
        free(w->binds);
        free(w->cand);
        free(w->seg);
        free(w->tls_plain);
        free(w->parts);
        free(w->acc);
        event_ring_destroy(w->evr);
        w->c = NULL;
}
