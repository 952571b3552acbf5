/* Private to src/worker: what the worker's files share (see worker_loop.c
 * for the loop turn). The files split the worker by concern:
 *   worker_loop.c     the io_uring loop, CQE dispatch, per-bind housekeeping,
 *                     wake-ups, init/fini;
 *   worker_conn.c     connect, multishot recv with provided buffers,
 *                     framing of received bytes into the session;
 *   worker_resolve.c  host names resolved without blocking (c-ares on the
 *                     worker's ring);
 *   worker_mt.c       MT dispatch: routing, encoding into the send buffer,
 *                     the no-route sweep;
 *   worker_outcome.c  an MT's one outcome, retries, the pending/delay lists;
 *   worker_session.c  the session callbacks (resp, lost, deliver, state);
 *   worker_tls.c      SMPP over TLS: handshake, records in and out on the
 *                     same ring (src/tls on memory BIOs).
 * Everything here runs on the owning worker thread only. */
#ifndef SMX_WORKER_INT_H
#define SMX_WORKER_INT_H

#include "core/client_int.h"

enum { OP_EFD = 1, OP_CONNECT, OP_RECV, OP_SEND, OP_TIMEOUT, OP_RESOLVE };

#define WAIT_MS 10
#define DISPATCH_PER_TURN 512
#define POP_BATCH 32              /* MTs taken from ingress with one CAS */
#define SEND_BATCH_BYTES 16384    /* output worth a send while the worker is busy */
#define SEND_HOLD_US 200          /* longest a busy worker holds output back */
#define APP_WAKE_TURNS 4          /* busy turns a sleeping app's wake-up may wait */
#define APP_WAKE_HOLD_US 200      /* and at most this long */
#define EVENT_RESERVE 64          /* ring room kept before taking new MTs */
#define CLOSE_FLUSH_MS 1000
#define SMX_SUBMIT_OVERHEAD 160   /* submit_sm bytes besides the text (fields, TLVs) */
#define SMX_ANSWER_ROOM 16384     /* output kept for answers to the SMSC */
#define TLS_READ_CHUNK 16384      /* plaintext taken out of TLS at a time (w->tls_plain) */
#define ACC_LAG 16                /* accepted MTs' correlation puts prepared ahead (w->acc) */
#define FREE_CHAIN_MAX 32         /* freed slots returned to the pool at once (w->freed) */

/* io_uring user data: operation, bind (local index), connection generation. */
static inline uint64_t ud_make(unsigned op, unsigned local, uint32_t gen)
{
        return ((uint64_t)gen << 32) | ((uint64_t)local << 8) | op;
}

/* worker_loop.c */
/* Move an MT's tag on (answers to its earlier attempts become stale). Only
 * the thread handling the MT writes it (see send_mt): no locked increment. */
static inline void slot_tag_bump(struct smx_slot *s)
{
        atomic_store_explicit(&s->tag, atomic_load_explicit(&s->tag, memory_order_relaxed) + 1,
                              memory_order_relaxed);
}

struct io_uring_sqe *worker_get_sqe(struct smx_worker *w);

/* worker_ring.c: ring setup (deferred completions when the kernel has them),
 * enabling it from the worker thread, and one kernel entry per busy turn. */
int worker_ring_init(struct smx_worker *w);
int worker_ring_enable(struct smx_worker *w);
void worker_ring_submit(struct smx_worker *w);

/* worker_conn.c */
void worker_close_conn(struct smx_worker *w, struct smx_bind *b, uint32_t status,
                       const char *reason);
/* Start a connect attempt (rebind clock, CONNECTING): an IP literal is
 * connected at once, a host name is resolved first (worker_resolve.c). */
void worker_start_connect(struct smx_worker *w, struct smx_bind *b);
/* Open the socket and submit the connect (with its linked timeout) to ss. */
void worker_connect_addr(struct smx_worker *w, struct smx_bind *b,
                         const struct sockaddr_storage *ss, socklen_t alen);
void worker_arm_recv(struct smx_worker *w, struct smx_bind *b);
void worker_arm_efd(struct smx_worker *w);
void worker_recycle_buf(struct smx_worker *w, unsigned bid);
/* Feed received bytes to the bind's session. Returns 0, or -1 when the
 * session is closing (the rest of the bytes are ignored). */
int worker_feed(struct smx_worker *w, struct smx_bind *b, const uint8_t *p, size_t n);

/* worker_resolve.c: one c-ares channel per worker thread, made on its first
 * host name; its sockets are polled on the worker's ring (OP_RESOLVE). */
/* Start resolving b's host for the attempt under way (b stays CONNECTING);
 * -1 when no lookup could be started. */
int worker_resolve_start(struct smx_worker *w, struct smx_bind *b);
/* b's lookup (if any) no longer matters: its answer is dropped. */
void worker_resolve_cancel(struct smx_worker *w, struct smx_bind *b);
/* b's connect to b->addr failed: the next attempt uses another address of
 * the answer if it has one. */
void worker_resolve_conn_failed(struct smx_worker *w, struct smx_bind *b);
/* b is waiting for its lookup (no socket, still CONNECTING). */
int worker_resolving(struct smx_worker *w, const struct smx_bind *b);
/* A poll on a resolver socket completed (slot and tag from the user data). */
void worker_resolve_on_cqe(struct smx_worker *w, unsigned slot, uint32_t tag, int res);
/* Once per loop turn: c-ares timeouts, then each answered or overdue lookup
 * connects its bind or ends the attempt. Returns 1 when it did something. */
int worker_resolve_tick(struct smx_worker *w);
/* On the worker thread as it exits: the channel goes, pending lookups end. */
void worker_resolve_fini(struct smx_worker *w);
/* Test hook: "ip:port[,ip:port]" DNS servers for resolvers made after it is
 * set, instead of the system's (NULL). Set before smx_client_start. */
extern const char *worker_resolve_dns_servers;

/* Put an MT this worker holds back on ingress (a retry, or popped and not
 * encoded), counted in `repushed` after the push so the accepted count,
 * which is the ring's pushes less these, stays right (client_accepted). */
static inline void worker_repush(struct smx_worker *w, uint32_t idx)
{
        ingress_push(&w->c->ing, idx);
        counter_add_owner(&w->repushed, 1);
}

/* worker_outcome.c */
/* The one final outcome of an MT (SMX_EV_SUBMITTED or SMX_EV_FAILED). */
void worker_emit_outcome(struct smx_worker *w, uint32_t idx, uint8_t type, uint8_t reason,
                         int permanent, uint16_t bind, const uint8_t *msgid, size_t msgid_len);
/* Return the slots freed by outcomes so far to the pool (end of a turn). */
void worker_free_slots(struct smx_worker *w);
/* Outcomes that waited for event-ring room; returns how many went out. */
int worker_flush_pending(struct smx_worker *w);
void worker_fail_mt(struct smx_worker *w, uint32_t idx, uint8_t reason, int permanent);
/* The MT's attempt failed transiently: retry after the backoff (on another
 * bind if there is one), or fail it when attempts are used up. */
void worker_retry_mt(struct smx_worker *w, uint32_t idx, int now_ok);
/* MTs whose retry backoff is over go back to ingress (any bind may take them). */
int worker_release_delayed(struct smx_worker *w);

/* worker_mt.c */
/* The bind may take an MT now (connected, enabled, window/output/tps room). */
int worker_route_ready(struct smx_bind *b, uint64_t now);
/* Take MTs from ingress and encode them into the ready binds' send buffers. */
int worker_dispatch(struct smx_worker *w);
/* With a shared store: whether the worker's correlation hand-off ring has
 * room for every resp its binds still wait for plus one more MT's parts
 * (rstore_corr_room_w). No new MT is sent while it has not. */
int worker_corr_room_ok(struct smx_worker *w);
/* No ACTIVE bind anywhere for no_route_timeout: every waiting MT fails
 * (no_route, not permanent). Also drains ingress on a drain timeout. */
int worker_sweep_ingress(struct smx_worker *w);

/* worker_tls.c (b->tls_cfg set: the bind speaks TLS) */
/* The TCP connect completed: start the handshake. 0, or -1 (closed). */
int worker_tls_begin(struct smx_worker *w, struct smx_bind *b);
/* Ciphertext received: handshake, then plaintext into worker_feed. 0, or -1
 * when the connection failed or the session is closing. */
int worker_tls_feed(struct smx_worker *w, struct smx_bind *b, const uint8_t *p, size_t n);
/* The SMSC closed the connection: close with the TLS reason. */
void worker_tls_eof(struct smx_worker *w, struct smx_bind *b);
/* Encrypt the session's output when `due` and send what records wait. */
int worker_tls_send(struct smx_worker *w, struct smx_bind *b, int due);
/* A send of n record bytes completed. */
void worker_tls_sent(struct smx_bind *b, size_t n);
/* Nothing of the records is left to send. */
int worker_tls_flushed(const struct smx_bind *b);
/* Handshake deadline; 1 when it closed the connection. */
int worker_tls_tick(struct smx_worker *w, struct smx_bind *b);
/* Queue our close_notify (graceful close). */
void worker_tls_close_notify(struct smx_bind *b);
/* The connection is gone: its TLS state goes (the context stays). */
void worker_tls_end(struct smx_bind *b);
/* The bind goes away: context, session and buffers freed. */
void worker_tls_fini(struct smx_bind *b);

/* worker_session.c */
extern const struct smx_session_ops worker_session_ops;
/* Put every correlation still prepared (w->acc, in arrival order) and emit
 * the DRs parked for them. Called before a deliver_sm is handled and once
 * per loop turn after the completions: a prepared put never outlives the
 * turn that prepared it. */
void worker_accepted_flush(struct smx_worker *w);
/* Shared store: answer the deliver_sms whose scripts ran, and kick the
 * store thread when this turn queued anything for it. 1 when it answered. */
int worker_store_turn(struct smx_worker *w);

#endif
