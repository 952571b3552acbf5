/* The shared store: correlation, DR park, dedup and MO reassembly kept in a
 * Redis server that several instances of one cluster share (ARCHITECTURE
 * "Scaling out", docs/scale-out.md). Request/completion: a worker never
 * waits on the network.
 *
 * Shape: one store thread per client owns the Redis connections (hiredis,
 * pipelined: every loop turn sends what the workers queued since the last
 * one as one batch on the main connection, then reads the batch's replies;
 * a second connection waits in a blocking XREADGROUP of the owner stream,
 * rstore_read.c, polled by the same thread). Why a thread and not
 * the workers' io_uring: one connection, one owner of every byte of hiredis
 * state, one place for reconnect, backoff, buffering and replay, and the
 * workers' loop stays as it is; the cost is a hand-off per message through
 * lock-free single-producer rings, no syscall per message (the worker kicks
 * the store thread at most once per loop turn).
 *
 *   worker k --corr ring k--> store thread   accepted MT: correlation write,
 *                                            fire and forget (buffered,
 *                                            bounded, replayed on reconnect)
 *   worker k --in ring k----> store thread   DR / MO: one atomic Lua script;
 *   worker k <--reply ring k- store thread   its deliver_sm_resp status comes
 *                                            back when the script ran
 *   owner stream --XREADGROUP--> store event ring --smx_events_poll--> app
 *                                XACK when the app's next poll releases
 *                                the event; the stream is trimmed below
 *                                its oldest unacknowledged entry
 *
 * Every DR and MO reaches the application through a Redis Stream (the
 * owner's for a correlated DR, the receiving instance's for an MO or an
 * uncorrelated DR), so it survives this process: a restart with the same
 * instance name reads its pending entries again, and after
 * owner_takeover_ms of silence (heartbeat) another instance claims them.
 *
 * TLS to Redis (rediss://): hiredis 0.14 (Debian 12) has no TLS, so the
 * store thread runs the TLS session itself with src/tls over its own TCP
 * socket and hands hiredis only plaintext (rstore_io.c says how and why). */
#ifndef SMX_RSTORE_H
#define SMX_RSTORE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "events/event_ring.h"
#include "smsmux.h"
#include "store/hash128.h"

/* Where a deferred deliver_sm_resp goes: the bind (its worker-local index
 * and connection generation) and the PDU it answers; for a request from an
 * extra producer (rs_host.n_ext), `ext` is that producer's ticket. */
struct rs_reply_to {
        uint16_t worker;        /* the bind's worker (its queue); extra producer i:
                                   n_workers + i */
        uint16_t local;         /* bind index among its worker's binds */
        uint16_t bind;          /* bind index (smx_client_binds order) */
        uint32_t gen;           /* the bind's conn_gen when the PDU came */
        uint32_t seq;           /* its sequence_number */
        uint32_t cmd;           /* deliver_sm or data_sm */
        uint8_t is_dr;
        void *ext;              /* extra producer's ticket (NULL for a worker) */
};

struct rs_reply {
        struct rs_reply_to to;
        uint32_t status;        /* command_status to answer with */
};

/* The bind index of events of the HTTP transport (SMX_BIND_HTTP, http/http.h). */
#define RS_BIND_HTTP 0xFFFEu

/* A DR's id under other SMSCs' msgid_norm rules, tried when its own key
 * misses (inbound_remote_dr_req): room for every other rule set a client
 * can have configured (SMX_MSGID_RULE_SETS - 1, asserted in
 * inbound/remote.c), so none is ever left out of the lookup. */
#define RS_ALT_MAX 12u

enum rs_in_kind { RS_IN_DR = 1, RS_IN_MO_ONE, RS_IN_MO_PART };

/* A DR or MO (part) handed to the store thread. MO data is malloc'd by the
 * worker and freed by the store thread. */
struct rs_in_req {
        uint8_t kind;           /* enum rs_in_kind */
        uint8_t state;          /* DR: SMPP_STATE_* */
        uint8_t dcs, packed;    /* MO: data_coding; GSM packed (single MO only) */
        uint8_t seq, total;     /* MO part: 1-based part, parts */
        uint8_t http;           /* MO from the HTTP API's receiver: data is UTF-8
                                   text, msgid its message_id */
        uint16_t udh_len;       /* MO single: UDH octets to skip when decoding */
        struct smx_key128 key;  /* DR: hash of the normalised id; MO part: group */
        struct smx_key128 ident;/* dedup identity */
        uint8_t n_alt;          /* DR: keys of its id under other SMSCs' msgid_norm */
        struct smx_key128 alt[RS_ALT_MAX];
        struct rs_reply_to to;
        uint64_t t0_ms;         /* when it arrived */
        uint8_t *data;          /* MO payload (part: unpacked septets/octets) */
        uint32_t len;
        char msgid[SMX_MSGID_MAX + 1];  /* DR: as received; HTTP MO: message_id */
        char err[16];
        char from[SMX_EV_ADDR_MAX + 1], to_addr[SMX_EV_ADDR_MAX + 1];
};

/* An accepted MT's correlation. */
struct rs_corr_req {
        struct smx_key128 key;
        uint64_t serial;
        uint16_t part, n_parts; /* 1-based part, parts */
        uint8_t app_len;
        char app[SMX_ID_MAX];
};

/* What the store thread needs from its client.
 *
 * Producers: each worker k has its queue k (rings for correlation writes,
 * DRs/MOs, and the answers back). n_ext more queues, n_workers + i, serve
 * threads that are not workers (the HTTP transport's MT thread writes
 * correlations through one, its receiver thread hands DRs/MOs through
 * another); each queue still has exactly one producer. An extra queue's
 * DR/MO is answered by calling answer_ext on the store thread (with the
 * request's reply_to, whose `ext` is the producer's ticket) instead of
 * through a reply ring: every request taken is answered exactly once
 * (also at destroy: those still queued with ESME_RX_T_APPN), or dropped
 * unanswered when claim_ext says its producer gave up on it. */
struct rs_host {
        void *ctx;
        unsigned n_workers;
        unsigned n_ext;
        void (*wake_worker)(void *ctx, unsigned k);
        void (*answer_ext)(void *ctx, const struct rs_reply *r);
        /* An extra producer's request the store thread is about to deliver
         * itself (Redis away past local_after_ms): 1 when it may (its
         * answer_ext follows at once), 0 when its producer gave up on it
         * (the HTTP receiver's close answered it 503): the request is then
         * dropped, neither delivered nor answered. NULL: always 1. */
        int (*claim_ext)(void *ctx, const struct rs_reply_to *to);
        void (*wake_app)(void *ctx);
        /* bind index by name (events name the bind that received a DR/MO
         * on another instance), -1 when this instance has none */
        int (*bind_by_name)(void *ctx, const char *name);
        const char *(*bind_name)(void *ctx, unsigned index);
        /* decode MO bytes into e's text with bind `index`'s data_coding map
         * (0xFFFF: the service's table); packed: GSM 8-in-7 */
        void (*mo_text)(void *ctx, struct smx_ev_rec *e, unsigned index, uint8_t dcs,
                        int packed, size_t udh_len, const uint8_t *data, size_t len);
};

struct rs_config {
        const char *url, *instance, *cluster, *user, *password;
        uint32_t owner_takeover_ms, hold_ms, local_after_ms, buffer_bytes, timeout_ms;
        uint32_t corr_ttl_ms, park_timeout_ms, dedup_window_ms, reasm_timeout_ms;
        uint32_t event_capacity;
        /* TLS (rediss:// only): smx_store_config's keys */
        const char *ca_file, *ca_path, *cert_file, *key_file, *server_name;
        int insecure;
};

/* Counters, any thread reads. */
struct rs_stats {
        uint64_t connected;     /* 1 connected, 0 not */
        uint64_t connects, disconnects, round_trips, commands;
        uint64_t corr_writes, corr_buffered_bytes, corr_buffered, corr_dropped;
        uint64_t in_requests, in_held, in_retry_later, local_fallback;
        uint64_t drs_routed, parked, duplicates, mos, events, acks, taken_over;
        uint64_t heartbeats;            /* heartbeats written (each turn that had one due) */
        uint64_t park_sweeps;           /* park-sweep calls answered (one per heartbeat, and
                                           one per turn while a backlog is due) */
        uint64_t park_released;         /* DRs the park sweeps released (past the timeout) */
        uint64_t fence_renewed;         /* held records whose lease ran out, found still
                                           ours once back in contact (shown) */
        uint64_t fence_dropped;         /* held records another instance took over while
                                           we were out of contact (not shown here) */
        uint64_t fence_redis_lost;      /* held records Redis lost (pending for nobody
                                           while their lease ran, or from a data set
                                           that is gone): shown here (rstore_fence.c) */
        uint64_t redis_data_lost;       /* times a new data-set generation was seen:
                                           Redis lost its data (rstore_fence.c) */
        uint64_t fence_redis_rolled_back;       /* held records whose read a rolled-back
                                                   data set may lack, found pending for
                                                   nobody: shown here (rstore_fence.c) */
        uint64_t redis_rolled_back;     /* times the data set was found rolled back (our
                                           epoch lower than Redis had acknowledged) */
        uint64_t rtt_last_us, rtt_max_us;
        uint64_t rtt_bucket[8];         /* <=100us, 250, 500, 1ms, 2.5, 10, 100, more */
        uint64_t tls;                   /* 1: rediss:// */
        uint64_t tls_handshakes;        /* main TLS connections set up (= connects; the
                                           read connection's: read_connects) */
        uint64_t tls_failures;          /* handshakes / sessions that failed (either) */
        char tls_version[16], tls_cipher[64];   /* of the connection up now; "" none */
        char tls_error[48];             /* why the last handshake failed; "" none since */
        /* the read connection (blocking XREADGROUP of our stream, rstore_read.c) */
        uint64_t read_connected;        /* 1 up, 0 not (the batch reads our stream) */
        uint64_t read_connects, read_disconnects;
        uint64_t reads;                 /* XREADGROUPs it sent (in commands, round_trips) */
};

struct smx_rstore;

/* Whether url names a shared store ("redis://", "rediss://", "unix://");
 * NULL/"memory": 0. */
int rstore_url_is_shared(const char *url);
/* Check url syntax (0 or -EINVAL with err). */
int rstore_url_check(const char *url, char *err, size_t err_len);

int rstore_create(const struct rs_config *cfg, const struct rs_host *host,
                  struct smx_rstore **out, char *err, size_t err_len);
int rstore_start(struct smx_rstore *rs);
/* Stops the thread (a last bounded flush of buffered writes) and frees. */
void rstore_destroy(struct smx_rstore *rs);

/* The event ring the store thread fills (DRs and MOs of this instance). */
struct smx_event_ring *rstore_ring(struct smx_rstore *rs);

/* The fence (rstore_fence.c): each record of the store's event ring that
 * came from a Redis stream carries a lease, the time (CLOCK_MONOTONIC, ms)
 * until which no other instance can have claimed its entry: Redis gives a
 * pending entry to another consumer only once it was idle for
 * owner_takeover_ms, and every command that read it or reset its idle time
 * as ours starts a lease of 3/4 of that (the rest is the margin). The
 * consumer (smx_events_poll) shows a record only while its lease runs; one
 * whose lease ran out waits (it and the records after it) until the store
 * thread, back in contact with Redis, finds the entry still pending for
 * this instance (lease renewed: shown) or not (RS_LEASE_DROP: released
 * unseen and never acknowledged here; the instance that took it over
 * shows it), or finds it pending for nobody where nobody can have it
 * (Redis lost it: the lease still ran, or the data set it was read from
 * is gone: RS_LEASE_ALWAYS, shown). A record not from a stream (delivered locally while Redis was
 * away) is RS_LEASE_ALWAYS. One load and a compare per record, and one
 * clock read per poll of the store's ring. */
#define RS_LEASE_ALWAYS 0u
#define RS_LEASE_DROP 1u
enum rs_fence_verdict { RS_FENCE_SHOW = 0, RS_FENCE_DROP, RS_FENCE_WAIT };
struct rs_fence {
        _Atomic uint64_t *lease;        /* by ring position (& mask) */
        uint32_t mask;
};
struct rs_fence rstore_fence(struct smx_rstore *rs);
/* The fence's clock: CLOCK_MONOTONIC in ms. */
uint64_t rstore_mono_ms(void);
/* The verdict on the record at the store ring's (free-running) position
 * pos, committed and not released; the consumer's thread. */
static inline enum rs_fence_verdict rs_fence_check(struct rs_fence f, uint32_t pos,
                                                   uint64_t now_ms)
{
        uint64_t v = atomic_load_explicit(&f.lease[pos & f.mask], memory_order_acquire);
        if (v == RS_LEASE_ALWAYS)
                return RS_FENCE_SHOW;
        if (v == RS_LEASE_DROP)
                return RS_FENCE_DROP;
        return now_ms < v ? RS_FENCE_SHOW : RS_FENCE_WAIT;
}
const char *rstore_instance(const struct smx_rstore *rs);
const char *rstore_cluster(const struct smx_rstore *rs);

/* The producer of queue k only (worker k, or extra producer k -
 * n_workers). 0, or -ENOBUFS when its ring is full (corr: counted dropped;
 * in: the caller answers ESME_RX_T_APPN). */
int rstore_corr_put_w(struct smx_rstore *rs, unsigned k, const struct rs_corr_req *r);
/* The producer of queue k: how many more correlation writes its ring takes
 * now (it only grows until that producer pushes). A worker sends no new
 * submit_sm unless this exceeds the resps it still waits for plus the new
 * MT's parts (worker_dispatch), so a resp's correlation write always finds
 * room: a store thread that falls behind holds MTs back in the ingress
 * instead of losing correlations (issue 13). */
uint32_t rstore_corr_room_w(struct smx_rstore *rs, unsigned k);
int rstore_in_w(struct smx_rstore *rs, unsigned k, const struct rs_in_req *r);
/* The producer of queue k: 1 when rstore_in_w(k) would take a request now
 * (it stays true until that producer pushes). */
int rstore_in_room_w(struct smx_rstore *rs, unsigned k);
/* Worker k, once per loop turn after it queued something. */
void rstore_kick_w(struct smx_rstore *rs, unsigned k);
/* The application's thread (smx_events_poll), after it released records
 * of the store's ring: wakes the store thread if it sleeps, so their XACK
 * goes out now (an idle store otherwise sleeps until its heartbeat). */
void rstore_released(struct smx_rstore *rs);
/* Worker k: the next deferred answer, 1 or 0 when none. */
int rstore_reply_pop_w(struct smx_rstore *rs, unsigned k, struct rs_reply *out);

/* The outcome gate (event_ring_gate, rstore_queue.c): an application is
 * never shown an MT's SUBMITTED before that MT's correlation is in Redis,
 * so a crash of the process right after it showed one loses no
 * correlation (the application resubmits only what it saw no outcome for).
 * rstore_corr_count: queue k's count of correlation writes pushed (its
 * producer records it in each event it commits). rstore_corr_done (the
 * polling thread): how many of queue k's writes are settled - answered by
 * Redis (for a write that found parked DRs: its correlation script too),
 * dropped, or given up because Redis is unreachable (then outcomes are not
 * held: MTs keep their outcomes flowing through an outage, the documented
 * limit) or the store thread has ended. */
const _Atomic uint32_t *rstore_corr_count(struct smx_rstore *rs, unsigned k);
uint32_t rstore_corr_done(struct smx_rstore *rs, unsigned k);

void rstore_stats(const struct smx_rstore *rs, struct rs_stats *st);

#endif
