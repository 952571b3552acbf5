/* Internals shared by the client (src/core) and the workers (src/worker):
 * the client, its binds and its workers. Not part of the public API.
 *
 * Cross-thread state, and who writes it:
 *   - the ingress pool/rings (src/ingress): any thread, lock-free;
 *   - each worker's event ring: that worker produces, smx_events_poll consumes;
 *   - bind `health` and counters: the owning worker writes (relaxed atomics),
 *     anyone reads;
 *   - client flags (state, fail_all, unbind_all, inbound_flush, stop) and
 *     totals: atomics.
 * Everything else in a bind or worker is touched only by the owning worker. */
#ifndef SMX_CLIENT_INT_H
#define SMX_CLIENT_INT_H

#include <liburing.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>

#include "core/stamp.h"
#include "events/event_ring.h"
#include "inbound/inbound.h"
#include "ingress/ingress.h"
#include "knobs/knobs_client.h"
#include "route/route.h"
#include "session/rebind.h"
#include "session/session.h"
#include "smsmux.h"
#include "stats/lat_hist.h"
#include "store/rstore.h"
#include "text/text.h"
#include "tls/tls.h"

#define SMX_OUTBUF_CAP   (256u * 1024u)  /* per-bind send buffer: two halves */
#define SMX_RECV_BUFS    64u             /* provided buffers per worker */
#define SMX_RECV_BUFSZ   16384u
#define SMX_SEG_SCRATCH  (64u * 1024u)
#define SMX_MT_MAX_PARTS 64u             /* parts of one MT (SMX_TEXT_MAX fits) */
#define SMX_PART_PDU_MAX 512u            /* bound on one submit_sm's size */

/* Per-bind counters: written by the owning worker, read by anyone. */
struct smx_bind_counters {
        _Atomic uint64_t submitted, accepted, failed, resent, throttled, drs, mos;
        _Atomic uint64_t attempts, min_spacing_ms;
        _Atomic uint32_t in_flight;
        _Atomic uint64_t failed_by[SMX_FAIL_REASONS]; /* any worker adds (the MT's last bind) */
        _Atomic uint64_t tls_handshakes, tls_resumed;  /* TLS handshakes done, of them resumed */
};

/* A bind's texts for stats (why it last went down, the TLS version and
 * cipher of the connection): the owning worker writes them under `seq`
 * (odd while writing), readers copy and retry when seq moved. */
struct smx_bind_texts {
        _Atomic uint32_t seq;
        char last_down[48];
        char tls_version[16];
        char tls_cipher[64];
};
void bind_texts_set(struct smx_bind_texts *t, const char *last_down, const char *version,
                    const char *cipher);
void bind_texts_get(const struct smx_bind_texts *t, struct smx_bind_texts *copy);

/* One SMPP session to one SMSC. Owned by exactly one worker for its whole
 * life; only that worker touches it, except `health` and `cnt` (atomics). */
struct smx_bind {
        _Atomic uint8_t health;            /* enum smx_bind_health, owner writes */
        struct smx_bind_counters cnt;
        struct smx_lat_hist lat;           /* submit -> accepted; owner writes (src/stats) */
        _Atomic uint8_t admin;             /* enum smx_admin_state; owner writes (src/knobs) */
        _Atomic uint8_t in_use;            /* 0: a spare slot (smx_smsc_add fills it, then sets 1) */
        uint8_t spare;                     /* owner: not connected until the snapshot says in_use */
        /* fixed after create */
        uint16_t index;
        unsigned worker, local;            /* owning worker, index among its binds */
        struct smx_worker *w;              /* the owning worker */
        char name[SMX_NAME_MAX + 1], site[SMX_NAME_MAX + 1];
        char host[256];
        uint16_t port;
        uint32_t weight;
        uint32_t tps;                      /* submit_sm per second, 0 = unlimited */
        uint8_t seg_mode;                  /* enum smx_seg_mode */
        char system_id[SMPP_SYSTEM_ID_MAX], password[SMPP_PASSWORD_MAX];
        char system_type[SMPP_SYSTEM_TYPE_MAX];
        struct smx_session_cfg scfg;
        struct smx_bind_info info;
        struct smx_dcs_map dcs;
        uint8_t pre_mask;                  /* bit e set: a body smx_submit pre-encoded for
                                              encoding e (the client's profile) is this
                                              bind's own octets (core/mt_pre.h) */
        /* owner worker only */
        struct smx_session sess;
        struct smx_req *tab;
        uint8_t *out;
        uint8_t *rbuf;                     /* reassembly of a PDU straddling buffers */
        uint32_t rbuf_len;
        uint64_t partial_since_ms;         /* first byte of an incomplete PDU */
        int fd;
        uint32_t conn_gen;                 /* tags completions of one connection */
        uint8_t send_inflight;
        uint64_t out_since_us;             /* owner: output waiting since (stamp), 0 none */
        uint8_t retired;                   /* unbound for good (drain) */
        uint64_t close_deadline_ms;        /* flush-then-close limit */
        struct smx_rebind_clock clk;
        uint8_t counted_active;            /* counted in client->active_binds */
        double tokens;                     /* tps bucket */
        uint64_t tokens_ms;                /* last refill */
        struct sockaddr_storage addr;      /* connect target (kept for the SQE) */
        socklen_t addr_len;
        struct __kernel_timespec connect_ts; /* link timeout of the connect SQE */
        /* SMPP over TLS (src/tls, worker_tls.c); tls_cfg fixed after setup */
        struct smx_tls_cfg *tls_cfg;       /* NULL: plain TCP */
        struct smx_tls_ctx *tls_ctx;       /* owner: made at the first connect */
        struct smx_tls_conn tls;           /* owner: the connection's TLS state */
        uint8_t *tls_out;                  /* owner: records being sent */
        uint32_t tls_out_len, tls_out_off; /* their bytes; how many were sent */
        uint64_t tls_hs_deadline_ms;       /* owner: handshake must end by then */
        struct smx_bind_texts texts;       /* owner writes, stats read */
};

/* One worker thread: an io_uring, the binds it owns, its event ring. */
struct smx_worker {
        struct smx_client *c;
        unsigned k;
        pthread_t thread;
        int started;
        struct io_uring ring;
        unsigned ring_setup;               /* IORING_SETUP_* the ring got (worker_ring.c) */
        int efd;                           /* wake-up eventfd, read kept armed */
        uint64_t efd_val;
        _Atomic int sleeping;              /* set before waiting (see smx_submit):
                                              WORKER_SLEEP_FOR_INGRESS or
                                              WORKER_SLEEP_BUSY, 0 awake */
        struct io_uring_buf_ring *br;
        uint8_t *bufs;
        uint16_t bgid;
        struct smx_bind **binds;
        unsigned n_binds;
        struct smx_event_ring *evr;
        struct smx_router router;
        struct smx_route_cand *cand;
        uint32_t pend_head, pend_tail;     /* outcomes waiting for event-ring room */
        uint32_t delay_head, delay_tail;   /* MTs waiting out retry_backoff */
        uint8_t *seg;                      /* segmentation scratch */
        uint8_t *tls_plain;                /* plaintext out of TLS records (worker_tls.c) */
        struct smx_pdu sm_pdu;             /* submit_sm being encoded (worker_mt.c) */
        struct smx_seg_part *parts;
        /* correlation puts of accepted MTs that asked for a DR, prepared
         * (hashed, store slot prefetched) and put ACC_LAG resps later
         * (worker_session.c): a ring, acc_head the oldest of n_acc */
        struct smx_accepted_put *acc;
        unsigned acc_head, n_acc;
        /* slots of this turn's outcomes, returned to the free stack with
         * one CAS per FREE_CHAIN_MAX or at the end of the turn */
        struct smx_slot_chain freed;
        uint64_t rnd;
        uint64_t now_ms;
        uint64_t now_us;                   /* smx_stamp_us() at the start of the loop turn */
        uint64_t last_inbound_tick_ms;
        int committed;                     /* events committed this loop turn */
        int wake_owed;                     /* events committed, the app not yet woken */
        unsigned wake_owed_turns;          /* busy turns since (worker_loop.c) */
        uint64_t wake_owed_us;             /* now_us of the turn that first owed it */
        int store_pushed;                  /* queued for the store thread this turn */
        const struct smx_knobs *kn;        /* knob snapshot of this loop turn (src/knobs) */
        _Atomic uint64_t decided;          /* outcomes this worker gave; it alone writes */
        _Atomic uint32_t repushed;         /* MTs this worker put back on ingress (a
                                              retry, a give-back), counted after the
                                              push; it alone writes (client_accepted) */
        _Atomic uint32_t n_pend;           /* outcomes on pend_head (decided, not yet in
                                              the ring); it alone writes, anyone reads
                                              (smx_client_undelivered) */
        int bufs_registered;
};

enum smx_client_state { SMX_CS_CREATED = 0, SMX_CS_RUNNING, SMX_CS_DRAINING, SMX_CS_STOPPED };

struct smx_http;
struct smx_knob_state;
struct smx_admin;

struct smx_client {
        struct smx_config cfg;             /* copy; string fields point into binds/own */
        char def_system_id[SMPP_SYSTEM_ID_MAX], def_password[SMPP_PASSWORD_MAX];
        struct smx_bind *binds;
        uint32_t n_binds;
        struct smx_worker *workers;
        unsigned n_workers;
        struct smx_ingress ing;
        /* Each application thread's lane of ing (ingress/lane.h): found
         * through a thread-local one-entry cache keyed by serial (never
         * reused, unlike the client's address), else lane_key; handed back
         * at thread exit by lane_key's destructor (client_lane_exit). */
        uint64_t serial;
        pthread_key_t lane_key;
        int lane_key_ok;
        struct smx_inbound *inbound;
        uint8_t nonce[8];                  /* MT identity prefix (R5) */
        /* The profile smx_submit pre-encodes single-part submit_sm bodies
         * with (core/mt_pre.h): the first configured SMSC's data_coding map
         * and GSM packing. Fixed at create. pre_on 0: no pre-encoding (no
         * SMSC configured, or MTs go over HTTP only). */
        struct smx_dcs_map pre_map;
        int pre_gsm_dcs;                   /* pre_map's data_coding for GSM, < 0 none */
        uint8_t pre_packed, pre_on;
        _Atomic int state;                 /* enum smx_client_state */
        /* The largest accepted count a reader reported (stats_collect), so
         * the reported counter never goes back (client_accepted). Readers
         * only; smx_submit counts nothing itself. */
        _Alignas(64) _Atomic uint64_t accepted_seen;
        _Alignas(64) _Atomic uint64_t decided; /* outcomes given by the HTTP transport */
        _Alignas(64) _Atomic int active_binds; /* binds ACTIVE or THROTTLED */
        _Atomic uint64_t no_route_since_ms;
        _Atomic int fail_all;              /* drain timed out: fail what is left */
        _Atomic int unbind_all;            /* drain: unbind everything, no rebind */
        _Atomic int inbound_flush;         /* drain done: workers flush the park and
                                              MO reassembly every turn (inbound_flush_w) */
        _Atomic int stop;
        int app_efd;
        _Atomic int app_sleeping;          /* the app found no events and may wait */
        uint32_t poll_rr;                  /* consumer: next ring to start with */
        uint32_t *held;                    /* consumer: records held per ring */
        uint32_t store_shown;              /* consumer: of the store ring's held records,
                                              those shown (the rest the fence dropped) */
        int efd_armed;                     /* consumer: announced sleep, efd may be set */
        struct smx_http *http;             /* HTTP transport (src/http), NULL: none */
        struct smx_rstore *rstore;         /* shared store (src/store/rstore.h), NULL: memory */
        struct smx_key128 ident_seed;      /* shared store: MT identity = hash(cluster, app id) */
        int http_carries_mts;              /* transport http or both: no "no_route" sweep */
        unsigned n_rings;                  /* event rings polled: workers', HTTP's, store's */
        struct smx_knob_state *ks;         /* runtime knobs (src/knobs) */
        struct smx_admin *admin;           /* admin socket, metrics listener (src/admin) */
        _Atomic uint64_t failed_nobind[SMX_FAIL_REASONS]; /* failed before any attempt */
};

/* The 16-octet MT identity (identity TLV 0x1401, HTTP message_id; R5).
 * In-process store: client nonce + slot serial (unique within this process).
 * Shared store: the 128-bit hash of (cluster, application MT id), the same
 * in every instance and after a restart, so a resubmitted MT is the same
 * message to the service. Collision bound (docs/scale-out.md): two distinct
 * ids collide with probability 2^-128; among n live ids, about n^2 / 2^129
 * (10^12 ids: < 2e-15). */
static inline void client_mt_identity(const struct smx_client *c, uint32_t idx,
                                      const struct smx_slot *s, uint8_t out[16])
{
        if (c->rstore) {
                struct smx_key128 k = smx_hash128_more(c->ident_seed, s->id, s->id_len);
                for (int i = 0; i < 8; i++) {
                        out[i] = (uint8_t)(k.hi >> (56 - 8 * i));
                        out[8 + i] = (uint8_t)(k.lo >> (56 - 8 * i));
                }
                return;
        }
        memcpy(out, c->nonce, 8);
        uint64_t serial = smx_slot_serial(idx, s->gen);
        for (int i = 0; i < 8; i++)
                out[8 + i] = (uint8_t)(serial >> (56 - 8 * i));
}

/* Shared store (core/shared_store.c): created by smx_client_create when
 * cfg->store.url names one; its event ring is polled last. */
int client_store_create(struct smx_client *c, const struct smx_config *cfg, char *err,
                        size_t err_len);

/* MTs given an outcome so far: the workers' counts plus the HTTP transport's. */
uint64_t client_decided(struct smx_client *c);
/* lane_key's destructor: a thread's lane handed back at its exit. */
void client_lane_exit(void *lane);
/* MTs accepted by smx_submit so far, given `decided` read before (see
 * submit.c): never less than the true count at the time of the call, at
 * most one per worker more (a re-push under way). */
uint64_t client_accepted(struct smx_client *c, uint64_t decided);

/* Add to (or subtract from) a counter that only the calling thread writes
 * while others may read it: a plain load and store, no locked instruction.
 * Release, so a reader's acquire load sees what was done before. */
#define counter_add_owner(ctr, v)                                                          \
        atomic_store_explicit((ctr), atomic_load_explicit((ctr), memory_order_relaxed) + (v), \
                              memory_order_release)
#define counter_sub_owner(ctr, v)                                                          \
        atomic_store_explicit((ctr), atomic_load_explicit((ctr), memory_order_relaxed) - (v), \
                              memory_order_release)

uint64_t smx_now_ms(void);
uint64_t smx_now_us(void);

/* Check one SMSC's settings against cfg (0, or SMX_EINVAL with errbuf). */
int client_smsc_check(const struct smx_config *cfg, const struct smx_smsc_config *s,
                      char *errbuf, size_t len);
/* Log the msgid_norm warning (client.c) when SMSCs a and b, which may
 * deliver each other's DRs, compare message ids differently: 1 if it did. */
int client_warn_msgid_norm_mix(const char *a, uint32_t a_norm, const char *b, uint32_t b_norm);
/* Fill bind slot b from s (identity, credentials, session settings, content,
 * TLS settings). */
int client_bind_setup(struct smx_client *c, struct smx_bind *b, const struct smx_smsc_config *s,
                      uint16_t index);   /* 0 or SMX_ENOMEM */

/* Worker entry points (src/worker/worker_loop.c). */
int worker_init(struct smx_worker *w, struct smx_client *c, unsigned k);
void worker_fini(struct smx_worker *w);
void *worker_main(void *arg);
/* A sleeping worker's `sleeping`: it could take MTs from ingress (a submit
 * wakes it), or none of its binds can take one now (window full, TPS spent,
 * no ACTIVE bind: a submit leaves it asleep, a completion or its wait
 * timeout wakes it). Anything else that needs it calls worker_wake. */
#define WORKER_SLEEP_FOR_INGRESS 1
#define WORKER_SLEEP_BUSY 2
void worker_wake(struct smx_worker *w);

#endif
