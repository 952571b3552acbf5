/* Internals of the Redis store (rstore.h), shared by its files:
 *   rstore.c       life cycle, URL, connection (auth, scripts, group),
 *                  the worker-facing rings, stats;
 *   rstore_io.c    the connection's bytes: plain (hiredis's own socket I/O)
 *                  or TLS (our socket, src/tls's session, hiredis's buffers);
 *   rstore_loop.c  the store thread: its turn, sending one pipelined batch
 *                  and dispatching the replies, offline behaviour, the wait;
 *   rstore_read.c  the read connection: a blocking XREADGROUP of our own
 *                  stream, its reconnect;
 *   rstore_batch.c building the batch (rstore_batch.h: its commands);
 *   rstore_reply.c stream entries into event records, the instance scan;
 *   rstore_queue.c the worker hand-off on the store side: the write FIFO,
 *                  draining the rings, answering DRs/MOs;
 *   rstore_ev.c    payload encoding and stream entries -> event records;
 *   rstore_held.c  the entries we hold: never shown twice;
 *   rstore_fence.c their leases: never shown once another may have them;
 *   rstore_lua.c   the scripts.
 * Everything in struct smx_rstore is owned by the store thread, except the
 * rings (one side each), `stop`, `sleeping`, the stats (atomics) and the
 * TLS texts shown in stats (tls_mu). */
#ifndef SMX_RSTORE_INT_H
#define SMX_RSTORE_INT_H

#include <hiredis/hiredis.h>
#include <pthread.h>

#include "store/rstore.h"
#include "store/spsc.h"
#include "tls/tls.h"

enum {
        RS_LUA_CORR = 0, RS_LUA_DR, RS_LUA_PARK_SWEEP, RS_LUA_MO_ONE, RS_LUA_MO_PART,
        RS_LUA_GROUP_SWEEP, RS_LUA_TRIM, RS_LUA_DR_MANY, RS_LUA_REFRESH, RS_LUA_GEN, RS_LUA_N,
};
extern const char *const rs_lua[RS_LUA_N];

#define RS_CORR_RING 32768u     /* per worker: accepted-MT correlations (3 MiB) */
#define RS_IN_RING 4096u        /* per worker: DRs/MOs waiting for the store thread */
#define RS_INQ 16384u           /* DRs/MOs the store thread holds (not yet run) */
#define RS_STREAMS_MAX 64u      /* streams read: own + other instances' taken over */
#define RS_ID_MAX 48            /* a stream entry id "ms-seq" */
#define RS_NAME_MAX 64          /* instance / cluster name */

struct rs_worker_q {
        struct smx_spsc corr;   /* struct rs_corr_req, worker -> store */
        struct smx_spsc in;     /* struct rs_in_req, worker -> store */
        struct smx_spsc reply;  /* struct rs_reply, store -> worker */
        uint32_t outstanding;   /* store thread: taken from `in`, not yet answered */
        /* corr writes settled (rstore_corr_done): the store thread writes,
         * the polling thread reads */
        _Alignas(64) _Atomic uint32_t corr_done;
};

/* What the store thread remembers of each record it put in its event ring,
 * to acknowledge its stream entry once the application released it. */
struct rs_ack {
        uint16_t stream;        /* index in streams[], RS_NO_STREAM: not from one */
        char id[RS_ID_MAX];
        uint64_t lease_from;    /* monotonic ms: the last command that read the entry or
                                   reset its idle time as ours was sent (rstore_fence.c) */
        uint64_t gen;           /* the generation of the Redis data set the entry was
                                   read from (rstore_fence.c); 0: not known */
        uint64_t need;          /* the lowest epoch of ours written after the entry was
                                   read: a data set holding it holds the read
                                   (rstore_epoch.c) */
        uint8_t rolled;         /* a rolled-back data set may lack its read: pending for
                                   nobody, it is shown, not dropped */
};
#define RS_NO_STREAM 0xFFFFu
#define RS_BAD_MAX 64u
#define RS_LATE_MAX 16384u      /* correlation writes whose DRs were parked */

struct rs_stream {
        char name[RS_NAME_MAX + 1];     /* instance */
        char key[2 * RS_NAME_MAX + 16];
        uint8_t dead;                   /* silent past owner_takeover_ms: we take over */
        char trim_to[RS_ID_MAX];        /* highest id we acknowledged since the last trim */
        uint32_t untrimmed;             /* ids acknowledged since the last trim */
};

/* A growing byte buffer (store thread). */
struct rs_buf {
        char *p;
        size_t len, cap;
};

struct rs_counters {
        _Atomic uint64_t connects, disconnects, round_trips, commands;
        _Atomic uint64_t corr_writes, corr_dropped, in_requests, in_retry_later,
                local_fallback, drs_routed, parked, duplicates, mos, events, acks,
                taken_over, heartbeats, park_sweeps, park_released, fence_renewed,
                fence_dropped, fence_redis_lost, redis_data_lost,
                fence_redis_rolled_back, redis_rolled_back;
        _Atomic uint64_t corr_buffered_bytes, corr_buffered, in_held;
        _Atomic uint64_t rtt_last_us, rtt_max_us;
        _Atomic uint64_t rtt_bucket[8];
        _Atomic uint64_t tls_handshakes, tls_failures;
        _Atomic uint64_t read_connects, read_disconnects, reads;
        _Atomic uint8_t connected, read_connected;
};

/* The store's two connections to Redis: the main one (every batch) and
 * the read one (the blocking XREADGROUP of our stream, rstore_read.c). */
enum { RS_MAIN = 0, RS_READ = 1, RS_LINKS = 2 };

/* The TLS sessions of the connections (rediss://), store thread. */
#define RS_TLS_OUT 65536u
struct rs_tls_sess {
        struct smx_tls_conn conn;       /* a reconnect makes a new one */
        uint8_t *out;                   /* records being sent (RS_TLS_OUT bytes) */
        size_t out_off, out_len;
};
struct rs_tls {
        struct smx_tls_ctx ctx;         /* built at create: settings checked early;
                                           shared by both sessions */
        struct rs_tls_sess sess[RS_LINKS];      /* one per connection */
        uint8_t *in;                    /* ciphertext / plaintext scratch (RS_TLS_OUT) */
        /* shown in stats: written by the store thread, read by any (mu) */
        pthread_mutex_t mu;
        char version[16], cipher[64], error[48];
};

struct smx_rstore {
        struct rs_config cfg;
        struct rs_host host;
        char instance[RS_NAME_MAX + 1], cluster[RS_NAME_MAX + 1];
        char user[128], password[256];
        char tcp_host[256], unix_path[256], shown_url[320];     /* shown: no credentials */
        int port, db;
        int use_tls;                    /* rediss:// */
        struct rs_tls *tls;             /* NULL unless use_tls */
        char io_err[416];               /* why the last I/O failed (for the log) */
        struct rs_worker_q *wq;
        struct smx_event_ring *ring;
        uint32_t ring_cap;
        struct rs_ack *ackv;            /* ring_cap entries, by record position */
        _Atomic uint64_t *lease;        /* ring_cap: each record's lease (rstore.h: the
                                           fence); the store thread writes, the
                                           consumer reads */
        uint64_t entries_from_ms;       /* monotonic ms: when the command whose reply
                                           is being taken apart was sent (the lease
                                           of the entries it brings) */
        uint64_t entries_gen;           /* the data-set generation of the connection whose
                                           reply is being taken apart (rstore_fence.c) */
        uint64_t gen[RS_LINKS];         /* per link (RS_MAIN, RS_READ): the data-set
                                           generation it last learned (its set-up; the
                                           main one also each heartbeat and refresh);
                                           0: none yet */
        uint64_t gen_known;             /* the last generation seen (a change is logged) */
        uint64_t gen_seed;              /* random at create: new generation ids */
        uint32_t gen_made;              /* generation ids proposed so far */
        /* this instance's epoch in the data set (rstore_epoch.c) */
        uint64_t ep_next;               /* the epoch the next write carries */
        uint64_t ep_held;               /* the highest epoch of ours the data set is known
                                           to hold (a reply said so); 0: none yet */
        uint64_t ep_sent_ms;            /* monotonic: the last epoch write was built */
        uint8_t ep_want;                /* entries read since: an epoch write soon */
        uint32_t *refresh_pos;          /* this batch's refreshed records (positions) */
        uint32_t n_refresh_pos;
        int lease_changed;              /* a waiting record renewed or dropped: wake
                                           the application */
        uint32_t ev_pos;                /* records committed so far (= ring tail) */
        uint32_t ack_pos;               /* records whose XACK Redis answered (a lost
                                           connection sends the rest again) */
        struct rs_corr_req late[RS_LATE_MAX];   /* written; parked DRs to route (script);
                                                   serial: its FIFO position (the gate) */
        unsigned n_late;
        /* entries to acknowledge that hold no ring record: malformed ones
         * (at most RS_BAD_MAX at a time) and released records moved out of
         * the ring while their XACK waits for Redis; ring_cap + RS_BAD_MAX */
        struct rs_ack *reack;
        uint32_t n_reack;
        uint32_t reack_done;            /* this batch: reack ids answered */
        struct rs_stream streams[RS_STREAMS_MAX];       /* [0]: own */
        struct rs_held *held;           /* taken-over entries held (rstore_held.c) */
        unsigned n_streams;
        /* correlation writes not yet in Redis: byte FIFO of records
         * [u8 app_len][key 16][u16 part][u16 n_parts][app], wrap marker 0xFF */
        uint8_t *fifo;
        size_t fifo_cap, f_head, f_tail, f_used, f_n;
        /* the outcome gate (rstore_queue.c): a record's position is the
         * count of puts before it; mark i says every write taken from
         * queue q before mark_taken[i * queues + q] has a position below
         * mark_pos[i]; published (wq[q].corr_done) once every write below
         * that position is settled */
        uint64_t f_put_total, f_pop_total;
        uint64_t *mark_pos;             /* RS_MARKS */
        uint32_t *mark_taken;           /* (RS_MARKS + 1) x queues (+1: scratch) */
        uint32_t m_head, m_tail;        /* free-running */
        int reput;                      /* a write went back behind newer ones: no
                                           mark published until FIFO and late list
                                           are empty */
        int gate_changed;               /* corr_done moved: wake the application */
        _Atomic int gate_open;          /* the store thread ended: nothing held */
        /* DRs / MOs taken from the workers, oldest first */
        struct rs_in_req *inq;
        uint32_t in_head, in_tail;      /* free-running */
        /* connection */
        redisContext *rc;
        uint64_t next_connect_ms, down_since_ms;
        uint32_t backoff_ms;
        char sha[RS_LUA_N][41];
        char own_from[RS_ID_MAX];       /* "": read new entries (">"); else our pending
                                           entries after this id (after a reconnect) */
        /* the read connection (rstore_read.c); while it is down the main
         * batch reads our stream as the other streams, without blocking */
        redisContext *rd;
        uint64_t rd_next_connect_ms, rd_down_since_ms;
        uint64_t rd_deadline_us;        /* monotonic: the outstanding read's reply is late */
        uint64_t rd_sent_ms;            /* monotonic: the outstanding read was sent */
        uint32_t rd_backoff_ms;
        uint32_t rd_want;               /* records the outstanding read may fill; 0: none out */
        uint64_t last_batch_us;         /* monotonic: the main connection's last batch sent */
        char own_last[RS_ID_MAX];       /* last own-stream id put in the ring */
        int own_history_done;
        uint64_t next_hb_ms, next_sweep_ms, next_scan_ms;
        int sweep_more;                 /* the last park sweep took its whole limit:
                                           sweep again next turn (rstore_batch.c) */
        uint64_t judge_from_ms;         /* no instance is newly judged silent before
                                           this: owner_takeover_ms after we got Redis
                                           back (a reconnect, a round trip that took
                                           half of it), since then every heartbeat is
                                           stale, not only a dead instance's */
        /* thread */
        pthread_t th;
        int started;
        _Atomic int stop;
        _Atomic int sleeping;
        int efd;
        struct rs_buf pl, hd;           /* payload and group header being built */
        struct rs_counters c;
};

/* Queues: the workers' then the extra producers' (rs_host.n_ext). */
static inline unsigned rs_n_queues(const struct smx_rstore *rs)
{
        return rs->host.n_workers + rs->host.n_ext;
}

#define RS_INC(rs, f) atomic_fetch_add_explicit(&(rs)->c.f, 1, memory_order_relaxed)
#define RS_ADD(rs, f, n) atomic_fetch_add_explicit(&(rs)->c.f, (n), memory_order_relaxed)
#define RS_SET(rs, f, v) atomic_store_explicit(&(rs)->c.f, (v), memory_order_relaxed)

/* rstore.c */
int rs_connect(struct smx_rstore *rs, uint64_t now_ms);
void rs_disconnect(struct smx_rstore *rs, const char *why, uint64_t now_ms);
uint64_t rs_now_ms(void);
/* a 128-bit key as the 22-character tag used in Redis keys (+ NUL) */
void rs_tag(const struct smx_key128 *k, char out[33]);

/* rstore_io.c: the connections' bytes, plain or TLS; `link` is RS_MAIN or
 * RS_READ (each has its own TLS session). Store thread. */
/* Build the TLS context from cfg (rstore_create; also checks the files).
 * 0, or -1 with the reason in err. */
int rs_tls_create(struct smx_rstore *rs, const struct rs_config *cfg, char *err, size_t err_len);
void rs_tls_destroy(struct smx_rstore *rs);
/* A connected context (TCP or unix; over TLS, the handshake done), NULL
 * with the reason in rs->io_err; *tls_failed set when the TLS handshake
 * (not the TCP connect) failed. */
redisContext *rs_io_open(struct smx_rstore *rs, unsigned link, int *tls_failed);
/* Send everything queued in c's output buffer: 0, or -1 (rs->io_err). */
int rs_io_flush(struct smx_rstore *rs, unsigned link, redisContext *c);
/* Put what has arrived into c's reader (call when the socket is readable):
 * 0, or -1 (connection lost; rs->io_err). */
int rs_io_fill(struct smx_rstore *rs, unsigned link, redisContext *c);
/* One command and its reply within timeout_ms (the connection set-up);
 * NULL with rs->io_err set. */
redisReply *rs_io_command(struct smx_rstore *rs, unsigned link, redisContext *c,
                          const char *fmt, ...);
/* Close the connection (and its TLS session). */
void rs_io_close(struct smx_rstore *rs, unsigned link, redisContext *c);

/* rstore_fence.c: the lease of a record (rstore.h) whose entry was read
 * or refreshed by a command sent at from_ms (monotonic). */
uint64_t rs_lease_until(const struct smx_rstore *rs, uint64_t from_ms);
uint64_t rs_mono_ms(void);
/* The data-set generation (rstore_fence.c): the marker key's name (cap
 * bytes), a new id to propose in case the key is missing (17 bytes: 16 hex
 * digits), and a reply carrying the marker, learned by link (RS_MAIN,
 * RS_READ): returns the generation (0: the reply carried none). */
void rs_gen_key(const struct smx_rstore *rs, char *key, size_t cap);
void rs_gen_propose(struct smx_rstore *rs, char out[17]);
uint64_t rs_gen_learn(struct smx_rstore *rs, unsigned link, const redisReply *r);
/* rstore_epoch.c: the generation marker and this instance's epoch, asked
 * for (and the epoch written) on a new connection's set-up (after its
 * XGROUP CREATE, before any read): 0, or -1 (rs_conn_fail done). */
int rs_gen_setup(struct smx_rstore *rs, unsigned link, redisContext *c, uint64_t now_ms);
/* The epoch hash's name (cap bytes). */
void rs_epoch_key(const struct smx_rstore *rs, char *key, size_t cap);
/* The reply of the marker-and-epoch script ("held written generation")
 * on link: both learned; the generation, 0 if none. */
uint64_t rs_gen_reply(struct smx_rstore *rs, unsigned link, const redisReply *r);
/* The epoch `held` a reply showed the data set holding (wrote: the one the
 * call wrote, 0 none; gen_new: the reply showed a new generation): below
 * what it was known to hold, the data set was rolled back and the held
 * records whose read it may lack are marked (rs_ack.rolled). */
void rs_epoch_seen(struct smx_rstore *rs, uint64_t held, uint64_t wrote, int gen_new);
/* An epoch write between heartbeats is due: entries were read since the
 * last one, RS_EPOCH_GAP_MS ago or more. */
#define RS_EPOCH_GAP_MS 10u
int rs_epoch_due(const struct smx_rstore *rs, uint64_t mono_ms);

/* rstore_held.c: stream entries between their commit to the ring and
 * their answered XACK (RS_NO_STREAM: ignored). */
int rs_held_create(struct smx_rstore *rs);
void rs_held_destroy(struct smx_rstore *rs);
int rs_held_has(const struct smx_rstore *rs, uint16_t stream, const char *id);
void rs_held_add(struct smx_rstore *rs, uint16_t stream, const char *id);
void rs_held_drop(struct smx_rstore *rs, uint16_t stream, const char *id);
uint32_t rs_held_count(const struct smx_rstore *rs);

/* rstore.c: open link's connection (RS_MAIN or RS_READ; the other link has
 * its own back-off) and set it up: AUTH, SELECT, CLIENT SETNAME
 * smsmux:CLUSTER:INSTANCE:main|read. The context, or NULL (logged, link's
 * retry put off: rs_retry_later). */
redisContext *rs_conn_open(struct smx_rstore *rs, unsigned link, uint64_t now_ms);
/* link is down since now_ms (if not already): its next connect waits a
 * back-off doubling from 100 ms to 2 s. */
void rs_retry_later(struct smx_rstore *rs, unsigned link, uint64_t now_ms);
/* A set-up command `what` of link's new connection c failed (reply r, or
 * NULL: rs->io_err): logged, r freed, c closed, retry put off; -1. */
int rs_conn_fail(struct smx_rstore *rs, unsigned link, redisContext *c, redisReply *r,
                 const char *what, uint64_t now_ms);
/* After a connection that read our stream was lost: the entries Redis sent
 * in a reply we never got are pending for us; read them again (those after
 * the last one we put in the ring) before new ones. */
void rs_own_reread(struct smx_rstore *rs);

/* rstore_read.c: the read connection. Store thread. */
#define RS_READ_BLOCK_MS 2000u  /* a blocking read's BLOCK: bounds the idle
                                   reads (one per 2 s) and how late a dead
                                   connection is noticed (+ timeout_ms) */
#define RS_GATHER_US 1000u       /* under load: a batch of acknowledgements
                                   only waits this long after the last batch,
                                   so several share a round trip (idle: at once) */
/* A blocking read's BLOCK: RS_READ_BLOCK_MS, or owner_takeover_ms / 4 when
 * shorter (rstore_fence.c: the lease of what it brings). */
static inline uint32_t rs_read_block_ms(const struct smx_rstore *rs)
{
        uint32_t q = rs->cfg.owner_takeover_ms / 4;
        return q < RS_READ_BLOCK_MS ? (q ? q : 1) : RS_READ_BLOCK_MS;
}
/* Connect it when due (backoff): 0 up, -1 not. */
int rs_read_connect(struct smx_rstore *rs, uint64_t now_ms);
void rs_read_disconnect(struct smx_rstore *rs, const char *why, uint64_t now_ms);
/* Its turn: take a reply that arrived (entries into the ring), send the
 * next read (blocking for new entries; without BLOCK while our pending ones
 * are read again), notice a reply past its deadline. `readable`: poll said
 * its socket has bytes. 1 if entries were put in the ring. */
int rs_read_turn(struct smx_rstore *rs, uint64_t now_ms, int readable);
/* Records the outstanding read may still fill (not for others to use). */
static inline uint32_t rs_read_reserved(const struct smx_rstore *rs)
{
        return rs->rd ? rs->rd_want : 0;
}

/* rstore_loop.c */
void *rs_main(void *arg);

/* rstore_queue.c */
/* Take what the workers queued (corr writes into the FIFO, DRs/MOs into the
 * in-queue while it and their reply rings have room); 1 if anything. */
int rs_drain_workers(struct smx_rstore *rs, uint64_t now);
/* Answer the oldest in-queue request with `status` and drop it; its worker
 * is marked in *woken. */
void rs_in_answer(struct smx_rstore *rs, uint32_t status, unsigned *woken);
/* Drop the oldest in-queue request unanswered (its producer gave it up:
 * rs_host.claim_ext). */
void rs_in_drop(struct smx_rstore *rs);
void rs_wake_workers(struct smx_rstore *rs, unsigned woken);
/* The correlation-write FIFO (rs->fifo, fifo_cap bytes): append (0, or -1
 * when full: nothing changed), the record at byte offset *off (moved past a
 * wrap, the bytes skipped in *skipped; returns the record's size), drop the
 * oldest. Store thread only. */
int rs_fifo_put(struct smx_rstore *rs, const struct rs_corr_req *r);
size_t rs_fifo_at(struct smx_rstore *rs, size_t *off, struct rs_corr_req *r, size_t *skipped);
void rs_fifo_pop(struct smx_rstore *rs);
/* The outcome gate (rstore.h rstore_corr_done). rs_gate_settle after a
 * batch's replies: publish the marks whose writes are all settled;
 * rs_gate_release: Redis is unreachable, every write taken counts as
 * settled (rs_drain_workers calls it while the main connection is down
 * after a failed attempt). Store thread. */
#define RS_MARKS 256u
void rs_gate_settle(struct smx_rstore *rs);
void rs_gate_release(struct smx_rstore *rs);

/* rstore_ev.c: payloads (length-prefixed fields "N:bytes") */
void rs_buf_field(struct rs_buf *b, const void *data, size_t n);
void rs_buf_str(struct rs_buf *b, const char *s);
void rs_buf_u(struct rs_buf *b, unsigned long v);
/* The payloads the scripts carry. */
void rs_payload_dr(struct smx_rstore *rs, const struct rs_in_req *r, struct rs_buf *b);
void rs_payload_mo(struct smx_rstore *rs, const struct rs_in_req *r, struct rs_buf *b);
void rs_header_group(struct smx_rstore *rs, const struct rs_in_req *r, struct rs_buf *b);
/* A stream entry (its field/value array) as an event record in the ring;
 * returns 1 emitted, 0 malformed (acknowledged and counted, never shown). */
int rs_entry_to_event(struct smx_rstore *rs, const redisReply *fields, struct smx_ev_rec *e);
/* A request turned into a local event (Redis unreachable past
 * local_after_ms): an uncorrelated DR, an MO as received. */
void rs_local_event(struct smx_rstore *rs, const struct rs_in_req *r, struct smx_ev_rec *e);

#endif
