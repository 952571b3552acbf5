/* smsmux — send MTs to, and receive MOs and delivery receipts from, a
 * multi-homed SMS aggregation service over SMPP 3.4 (every SMSC of every site
 * bound at once).
 *
 * The whole public API is in this header. Handles are opaque. Functions return
 * 0 (or a count) on success and a negative SMX_E* code on failure; the codes
 * are negative errno values where one fits, and smx_strerror() names them.
 *
 * Threads: smx_submit() may be called from any number of application threads
 * at once. smx_events_poll() must be called from one thread at a time (it is
 * the single consumer of the event rings). Everything else: any one thread.
 *
 * Exactly-once contract: every MT that smx_submit() accepted (returned 0) gets
 * exactly one final outcome event, SMX_EV_SUBMITTED or SMX_EV_FAILED; every
 * delivery receipt and MO the service sends reaches the application exactly
 * once, even when the service re-sends it on another bind. */
#ifndef SMSMUX_H
#define SMSMUX_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors ---- */
#define SMX_OK          0
#define SMX_EAGAIN      (-EAGAIN)      /* ingress full (no free MT slot, or for a text
                                          over 216 bytes no free long-text block, see
                                          long_text_capacity): backpressure, try again */
#define SMX_EINVAL      (-EINVAL)      /* bad argument or config */
#define SMX_ENOMEM      (-ENOMEM)
#define SMX_E2BIG       (-E2BIG)       /* text or field too long */
#define SMX_ESTATE      (-EALREADY)    /* wrong client state (e.g. submit after drain) */
#define SMX_ETIMEDOUT   (-ETIMEDOUT)

/* Human-readable text for an SMX_E* code (or any negative errno). */
const char *smx_strerror(int err);

/* ---- limits ---- */
#define SMX_ID_MAX        64   /* application MT id, bytes (no NUL needed) */
#define SMX_ADDR_MAX      20   /* source/destination address characters */
#define SMX_NAME_MAX      32   /* SMSC / site name */
#define SMX_TEXT_MAX      4096 /* MT text, UTF-8 bytes (segmented as needed) */
#define SMX_MSGID_MAX     64   /* SMSC message_id characters */

/* ---- configuration ---- */

enum smx_bind_mode { SMX_BIND_TRX = 0, SMX_BIND_TX, SMX_BIND_RX };

enum smx_route_policy {
        SMX_ROUTE_ROUND_ROBIN = 0,
        SMX_ROUTE_LEAST_OUTSTANDING,
        SMX_ROUTE_SITE_WEIGHTED,
};

/* How a text longer than one short_message is split (R9). All parts of an
 * MT go to one bind and carry the same MT identity TLV, so a resend after a
 * bind loss between parts is deduplicated per (identity, segment) by the
 * service: no part is delivered twice and none is lost. */
enum smx_segment_mode {
        SMX_SEGMENT_UDH8 = 0,    /* concatenation UDH, 8-bit reference (default) */
        SMX_SEGMENT_UDH16,       /* concatenation UDH, 16-bit reference */
        SMX_SEGMENT_SAR,         /* sar_* TLVs (the SMSC builds the UDH) */
        SMX_SEGMENT_PAYLOAD,     /* whole text in one message_payload TLV */
};

/* One SMSC. Strings are copied by smx_client_create(). */
struct smx_smsc_config {
        const char *name;          /* e.g. "smsc1.dc3" */
        const char *site;          /* e.g. "dc3" */
        const char *host;          /* IPv4/IPv6 literal or host name */
        uint16_t port;
        const char *system_id;     /* NULL: the client default */
        const char *password;      /* NULL: the client default */
        const char *system_type;   /* NULL/"" : empty */
        enum smx_bind_mode bind_mode;
        uint32_t window;           /* 0: client default */
        uint32_t tps;              /* per-bind submit rate, 0 = unlimited */
        uint32_t site_weight;      /* SMX_ROUTE_SITE_WEIGHTED; 0 = 1 */
        enum smx_segment_mode segment_mode; /* long texts; default UDH 8-bit */
        /* Content settings (R9, SMPP.md §6.3). data_coding table: NULL or
         * "service" (this service: 0 UTF-8, 1 ASCII, 2 GSM, 3 Latin-1,
         * 4 binary, 8 UCS-2), "generic" (SMPP 3.4 + 3GPP 23.038: 0 GSM, ...),
         * either followed by overrides ",VALUE=CHARSET" with CHARSET one of
         * utf8 ascii gsm latin1 ucs2 binary unknown, e.g. "generic,0=latin1". */
        const char *data_coding;
        int gsm_packed;            /* the SMSC sends and expects GSM 7-bit packed */
        uint32_t msgid_norm;       /* SMX_MSGID_NORM_* flags for DR correlation */
        /* SMPP over TLS (docs/operating.md, "TLS"). Records are made by OpenSSL
         * on memory buffers; the worker's io_uring still does every read and
         * write. TLS 1.2 at least, OpenSSL's default ciphers, the SMSC's
         * certificate and host name verified unless `insecure`. */
        int tls;                   /* bind over TLS */
        const char *ca_file;       /* PEM file of CAs to trust; NULL with ca_path NULL:
                                      the system store */
        const char *ca_path;       /* directory of hashed CA certificates */
        const char *cert_file;     /* client certificate (PEM), with key_file */
        const char *key_file;      /* its private key (PEM) */
        const char *server_name;   /* SNI and the name the certificate must carry;
                                      NULL: host */
        int insecure;              /* no peer/host verification (tests only; warned) */
};

/* How message ids from this SMSC are compared for DR correlation (R6): a
 * submit_sm_resp id and the ids in its DRs are normalised the same way.
 * AUTO (0, the default): an id made only of hex digits (0-9, a-f, A-F: every
 * decimal id too) is compared case-folded and without leading zeros, any
 * other id exactly; so "00004B2F1E" matches "4b2f1e" and "000000102345"
 * matches "102345", whoever wrote which, while "AB-12" and "ab-12" stay
 * different. AUTO gives the same canonical id whichever bind computes it,
 * so a DR that arrives at another site (R3) matches under the defaults.
 * EXACT turns that off; CASE_FOLD and STRIP_ZEROS apply to every id, of any
 * shape; HEX_TO_DEC (resp id hex, receipt text id decimal) and its reverse
 * DEC_TO_HEX (resp id decimal, receipt text id hex: Kannel's msg-id-type 2)
 * cannot be guessed (1234 is valid in both bases) and are only ever set
 * explicitly, at most one of the two. Either way both ids are compared as
 * decimal numbers; a receipted_message_id TLV is the resp's own id and is
 * read in the resp's base. Both decimal or both hex need no base rule
 * (AUTO).
 * A DR is normalised with the rules of the SMSC it arrives on (then, when
 * that misses, with those of the other SMSCs), the correlation stored with
 * those of the SMSC that accepted the MT: give SMSCs that deliver each
 * other's DRs the same rules (docs/operating.md "Message ids"). */
#define SMX_MSGID_NORM_AUTO        0u       /* default: digit-string ids fold case, drop zeros */
#define SMX_MSGID_NORM_CASE_FOLD   (1u << 0)
#define SMX_MSGID_NORM_STRIP_ZEROS (1u << 1) /* leading zeros do not count */
#define SMX_MSGID_NORM_HEX_TO_DEC  (1u << 2) /* resp id hex, receipt text id decimal */
#define SMX_MSGID_NORM_EXACT       (1u << 3) /* as sent; alone, not with the others */
#define SMX_MSGID_NORM_DEC_TO_HEX  (1u << 4) /* resp id decimal, receipt text id hex;
                                                not with HEX_TO_DEC */

/* Client configuration. Initialise with smx_config_init(), then fill in. */
struct smx_config {
        const struct smx_smsc_config *smscs;
        size_t n_smscs;
        const char *system_id;           /* default "smsmux" */
        const char *password;            /* default "secret" */
        unsigned workers;                /* 0 = one per CPU the process may use, less one
                                            for the application (at least 1) */
        int pin_workers;                 /* 1 (default): pin worker k to the (k mod n)-th of
                                            the n CPUs the process may use (taskset,
                                            cpuset) */
        uint32_t window;                 /* outstanding requests per bind, default 10 */
        uint32_t ingress_capacity;       /* MT slots (power of two), default 65536 */
        uint32_t long_text_capacity;     /* MTs with a text over 216 UTF-8 bytes queued or
                                            in flight at once: preallocated 1 KiB text
                                            blocks, plus a quarter as many (at least one)
                                            4 KiB blocks for texts over 1 KiB (a text up
                                            to 1 KiB takes one when the 1 KiB blocks run
                                            out). 0 (default): ingress_capacity / 8, i.e.
                                            8192 = 16 MiB with the default slots; at most
                                            ingress_capacity */
        uint32_t event_capacity;         /* per-worker event ring slots, default 65536 */
        uint32_t rebind_interval_ms;     /* R2: > 30000 by default */
        uint32_t rebind_jitter_ms;       /* added at random on top, default 2000 */
        uint32_t connect_timeout_ms;     /* default 10000 */
        uint32_t bind_timeout_ms;        /* default 15000 */
        uint32_t response_timeout_ms;    /* submit_sm_resp timer, default 30000 */
        uint32_t enquire_link_interval_ms; /* idle time before probing, default 30000 */
        uint32_t enquire_link_timeout_ms;  /* default 10000 */
        uint32_t unbind_timeout_ms;      /* default 5000 */
        uint32_t pdu_read_timeout_ms;    /* partial PDU completion deadline, default 30000 */
        uint32_t no_route_timeout_ms;    /* no ACTIVE bind this long -> failed(no_route), default 60000 */
        uint32_t retry_backoff_ms;       /* transient status -> retry after, default 200 */
        uint32_t max_attempts;           /* submit attempts per MT before failed, default 10
                                            (pushbacks of a young MT not charged, see smx_submit;
                                            over HTTP: 429 / result_code 6, docs/http.md) */
        uint32_t max_pdu;                /* inbound command_length cap, default 65536 */
        enum smx_route_policy route_policy;
        uint32_t dr_park_timeout_ms;     /* DR-before-resp parking, default 60000 */
        uint32_t dedup_window_ms;        /* DR/MO dedup window, default 600000 */
        const struct smx_http_config *http; /* HTTP API transport; NULL: SMPP only */
        /* stores (correlation, DR park, dedup, MO reassembly) */
        uint32_t corr_capacity;          /* message_id -> MT entries, default 1048576 */
        uint32_t corr_ttl_ms;            /* how long one is kept, default 48 h */
        uint32_t park_capacity;          /* DRs waiting for their resp, default 65536 */
        uint32_t dedup_capacity;         /* DR/MO identities remembered, default 1048576 */
        uint32_t reasm_groups;           /* open MO reassembly groups, default 4096 */
        uint32_t reasm_timeout_ms;       /* MO parts wait this long, default 60000 */
        /* operations (docs/operating.md) */
        uint32_t spare_smscs;            /* bind slots kept for smx_smsc_add(), default 4 */
        int log_level;                   /* enum smx_log_level set at start; -1 (default):
                                            leave the process-wide level alone */
        const char *admin_socket;        /* unix socket (mode 0600) for `smsmux knob|stats`;
                                            NULL: none */
        const char *metrics_addr;        /* Prometheus listener "HOST:PORT" (port 0: any);
                                            NULL: none. Also the knob metrics_addr */
        /* shared state for several instances (docs/scale-out.md) */
        struct smx_store_config {
                const char *url;         /* NULL or "memory" (default): in-process;
                                            "redis://[USER:PASS@]HOST:PORT[/DB]",
                                            "rediss://..." (the same over TLS) or
                                            "unix:///PATH": a Redis server shared by the
                                            instances of one cluster */
                const char *instance;    /* this instance's stable name; NULL: host name */
                const char *cluster;     /* key prefix; NULL: "smsmux" */
                const char *user;        /* Redis ACL user (AUTH user pass); NULL: none */
                const char *password;    /* Redis password; NULL: none. Never logged */
                uint32_t owner_takeover_ms;  /* a silent instance's DRs/MOs are taken over
                                                by a live one after this, default 30000;
                                                heartbeats go min(1 s, this / 4) apart, so
                                                keep it well above a store thread's
                                                longest stall (docs/scale-out.md); a
                                                DR/MO read from Redis is shown only
                                                within 3/4 of this after its last
                                                renewal, else it waits until Redis
                                                confirms it is still ours, or that
                                                Redis lost it with its data or in a
                                                rollback (the fence, its generation
                                                and the epochs) */
                uint32_t hold_ms;        /* Redis unreachable: a DR/MO waits this long for
                                            it, then is answered ESME_RX_T_APPN (the SMSC
                                            re-sends), default 5000 */
                uint32_t local_after_ms; /* Redis unreachable this long: DRs are delivered
                                            uncorrelated and MOs as received on this
                                            instance instead, default 30000 */
                uint32_t buffer_bytes;   /* correlation writes buffered while Redis is slow
                                            or down, default 64 MiB (then counted, dropped:
                                            those MTs' DRs arrive uncorrelated) */
                uint32_t timeout_ms;     /* one Redis round trip, default 1000; also
                                            bounds the TCP connect and the TLS handshake */
                /* TLS to Redis, for a "rediss://HOST:PORT[/DB]" url (Redis's
                 * tls-port): the same keys and behaviour as an SMSC's TLS
                 * (docs/operating.md "TLS"): TLS 1.2 at least, the server's
                 * certificate and name verified unless `insecure`. Given with
                 * any other url: SMX_EINVAL. Key and certificate contents are
                 * never logged (file names are). */
                const char *ca_file;     /* PEM file of CAs to trust; NULL with ca_path
                                            NULL: the system store */
                const char *ca_path;     /* directory of hashed CA certificates */
                const char *cert_file;   /* client certificate (PEM) for mutual TLS
                                            (Redis tls-auth-clients), with key_file */
                const char *key_file;    /* its private key (PEM) */
                const char *server_name; /* SNI and the name the certificate must carry;
                                            NULL: the url's host */
                int insecure;            /* no certificate/name verification (tests only;
                                            warned) */
        } store;
};

void smx_config_init(struct smx_config *cfg);

/* ---- HTTP API transport (SERVICE.md H1-H4; docs/http.md) ----
 * The same smx_submit, events and outcome rules as SMPP. An MT sent over
 * HTTP carries its identity as `message_id` (32 hex digits, the same on every
 * resubmit); SUBMITTED/FAILED, DR and MO events from HTTP have smsc "http". */

enum smx_transport {
        SMX_TRANSPORT_SMPP = 0,  /* MTs over SMPP binds only (default) */
        SMX_TRANSPORT_HTTP,      /* MTs over HTTP only (SMSCs, if any, still bind for DR/MO) */
        SMX_TRANSPORT_BOTH,      /* HTTP carries an MT only while no SMPP bind is ACTIVE */
};

#define SMX_HTTP_URLS_MAX 8

/* Initialise with smx_http_config_init() (it sets the defaults below).
 * Strings are copied at create. A 0 in max_host_conns, max_in_flight, the
 * timeouts, stall_ms, probe_interval_ms, receiver_max_body or receiver_max_request_s
 * means the default; the pauses, the backoff,
 * the healthy window and the grace may be 0. */
struct smx_http_config {
        enum smx_transport transport;
        const char *urls[SMX_HTTP_URLS_MAX]; /* 1: strategy A (H2); 2+: strategy B (H3),
                                                urls[0] the primary */
        unsigned n_urls;
        const char *login, *password;    /* H1 login/password; NULL: system_id/password */
        int use_get;                     /* GET with a query string (default POST) */
        const char *ca_file;             /* NULL: the system's CA store */
        int insecure;                    /* no TLS peer verification (tests only) */
        const char *dns_server;          /* strategy A resolver "HOST:PORT"; NULL: system */
        uint32_t max_host_conns;         /* keep-alive connections per host, default 16 */
        uint32_t max_in_flight;          /* MTs held by HTTP at once, default 512 */
        uint32_t connect_timeout_ms;     /* default 5000 */
        uint32_t timeout_ms;             /* whole request, default 15000 */
        uint32_t stall_ms;               /* a URL (strategy A: the address in use) with
                                            requests out and no answer this long has
                                            stalled: all of them fail at once and the
                                            failover runs (H2/H3), default 3000 */
        uint32_t resubmit_pause_ms;      /* H3 pause before the resubmit, default 30000 */
        uint32_t retry_backoff_ms;       /* throttled / internal error answers, default 1000 */
        uint32_t probe_interval_ms;      /* H3 probes of the primary, default 5000 */
        uint32_t primary_healthy_ms;     /* H3 back to the primary after, default 60000 */
        uint32_t dns_grace_ms;           /* H2 keep the last address on failure, default 30000 */
        const char *receiver;            /* H4 receiver "A.B.C.D:PORT" or "[IPv6]:PORT";
                                            NULL: none */
        const char *receiver_secret;     /* shared secret (field or X-Smsmux-Secret), NULL: none */
        const char *receiver_allow;      /* "ADDR[/N],..." (IPv4 or IPv6): sources allowed,
                                            NULL: any */
        uint32_t receiver_max_body;      /* bytes, default 16384 */
        uint32_t receiver_max_request_s; /* a body still arriving this long after its
                                            headers closes the connection, default 30 */
};

void smx_http_config_init(struct smx_http_config *h);

/* What an operator watches during a failover (docs/http.md). */
struct smx_http_stats {
        int enabled;
        unsigned current_url;            /* index into urls: 0 = primary */
        uint64_t sent, accepted, duplicates, failed, transient, abnormal, resubmits;
        uint64_t switches, switch_backs, probes, probes_ok, stale_closes, connects;
        uint64_t stalls;                 /* a URL / address answered nothing for stall_ms */
        uint32_t in_flight;
        int dns_state;                   /* 0 none, 1 fresh, 2 grace (strategy A) */
        uint64_t dns_queries, dns_answers, dns_failures, dns_changes, dns_grace_uses;
        uint32_t dns_last_ttl_s;
        uint16_t receiver_port;          /* 0: no receiver */
        uint64_t rx_requests, rx_delivered, rx_duplicates, rx_busy, rx_bad, rx_forbidden;
        uint64_t rx_too_large;           /* answered 413, or closed far over receiver_max_body */
        uint64_t rx_too_slow;            /* closed: body not in receiver_max_request_s */
        uint64_t rx_deferred;            /* answered once the shared store (Redis) ran their
                                            script (docs/scale-out.md) */
        uint64_t rx_abandoned;           /* of rx_deferred: answered 503 by the receiver's
                                            close (smx_client_drain / destroy) itself,
                                            their answer not come within 5 s (the
                                            service re-sends them, H4) */
};

/* ---- client ---- */

typedef struct smx_client smx_client;

/* Validate cfg and build a client (nothing connects yet). On error returns a
 * negative code and, if errbuf is not NULL, a message saying what is wrong. */
int smx_client_create(const struct smx_config *cfg, smx_client **out,
                      char *errbuf, size_t errbuf_len);

/* Start the workers: every SMSC is bound (R1) and kept bound. Connect
 * attempts to one SMSC are more than rebind_interval_ms (+ random jitter up
 * to rebind_jitter_ms) apart whatever ended the last session (R2); the first
 * is immediate. Refused credentials are reported in the BIND down event and
 * retried at the same spacing only. */
int smx_client_start(smx_client *c);

/* Stop taking MTs (smx_submit then returns SMX_ESTATE), wait until every
 * accepted MT has its outcome or the timeout passes (the rest fail with
 * reason SMX_FAIL_SHUTDOWN, also those in flight), then unbind every bind
 * (each waits for unbind_resp up to unbind_timeout_ms). With a shared
 * store, the correlation writes still buffered for Redis (slow, away or
 * restarting) then get what is left of timeout_ms to be written; one not
 * written by then is dropped at destroy (logged) and its MT's DRs arrive
 * uncorrelated. Then nothing
 * acknowledged to an SMSC stays behind: a DR still waiting for its
 * submit_sm_resp (none can come now) is delivered uncorrelated (id NULL;
 * message_id, smsc, state as received; counted in
 * smsmux_dr_uncorrelated_total and smsmux_dr_flushed_at_drain_total), an MO
 * still missing parts is delivered as what arrived with partial = 1
 * (smsmux_mo_flushed_at_drain_total). Last, the HTTP receiver (if any)
 * stops acknowledging, as the unbound SMPP binds do: from then on every
 * push gets 503 with Retry-After (the service re-sends it later or to
 * another instance), and drain returns once every push answered 200 has
 * its event in a ring (or, with a shared store, in Redis). So nothing new
 * is acknowledged after drain returns. Returns 0, or SMX_ETIMEDOUT when
 * some MTs had to be failed. Blocks the caller; events that did not fit the
 * event rings wait inside the library, so keep polling after drain until
 * smx_events_poll returns nothing, smx_client_in_flight() is 0 and
 * smx_client_undelivered() is 0: then everything acknowledged has been
 * polled, and smx_client_destroy() loses nothing. */
int smx_client_drain(smx_client *c, uint32_t timeout_ms);

/* What the library holds for the application that no event ring carries
 * yet: DRs and MO parts answered ESME_ROK (DRs waiting for their
 * submit_sm_resp, MO groups waiting for parts) and MT outcomes decided
 * while the rings were full. After smx_client_drain they are turned into
 * events as fast as the rings take them; when this reads 0, the next
 * smx_events_poll calls return the last of them. */
uint64_t smx_client_undelivered(smx_client *c);

/* Stop everything and free the client. What the application has not taken
 * by then is lost for good, because the SMSCs were already answered
 * ESME_ROK (DRs, MOs) and will not send it again: events not polled, and,
 * without a prior smx_client_drain, every DR still waiting for its resp and
 * every MO still missing parts (a warning log line gives the counts, the
 * HTTP receiver's events included). Until destroy the HTTP receiver, if not
 * drained, still answers pushes 200 (a drained one answers 503). So an
 * application that must lose nothing drains and polls as smx_client_drain
 * says before destroying; `smsmux pipe` and `smsmux demo` do. No
 * smx_submit on the client may run during or after destroy; threads that
 * submitted may live on and exit at any time before or after it, but not
 * while it runs (a thread's exit hands its submit lane back to the client). */
void smx_client_destroy(smx_client *c);

/* ---- MTs ---- */

enum smx_encoding {
        SMX_ENC_AUTO = 0,   /* cheapest that holds the text: GSM, else UCS-2 */
        SMX_ENC_GSM,
        SMX_ENC_ASCII,
        SMX_ENC_LATIN1,
        SMX_ENC_UCS2,
        SMX_ENC_UTF8,       /* service default data_coding 0 (R9) */
};

struct smx_mt {
        const char *id;           /* application's identity for the MT */
        size_t id_len;            /* 0: strlen(id) */
        const char *from;         /* source address, digits (or alphanumeric sender) */
        const char *to;           /* destination, international digits, no '+' (R8) */
        const char *text;         /* UTF-8 */
        size_t text_len;          /* 0 with text != NULL: strlen(text) */
        int want_dr;              /* registered_delivery = 1 (R7) when non-zero; with 0
                                     no correlation is kept, so a DR the SMSC sends
                                     anyway reaches the app uncorrelated */
        enum smx_encoding encoding;
        uint8_t priority;         /* priority_flag 0..3 */
};

/* Queue one MT. Never blocks: 0 = accepted (an outcome event will follow),
 * SMX_EAGAIN = ingress full (nothing queued, try later; for a text over 216
 * bytes also when all long_text_capacity text blocks are taken, while a
 * shorter text may still be accepted), SMX_EINVAL / SMX_E2BIG = bad MT
 * (SMX_EINVAL also when the text cannot be represented in the encoding asked
 * for), SMX_ESTATE = the client is draining. Thread-safe; no lock and no
 * allocation (the MT is copied into a preallocated slot, a text too long
 * for it into a preallocated block; both are reused once its outcome is
 * out), no syscall unless a worker is idle and must be woken. Several
 * threads may submit at once, but the ingress queue publishes MTs in the
 * order their cells were reserved: a submitting thread preempted inside
 * smx_submit makes the others (and the workers) wait for it to run again
 * (they spin, then yield). Keep the submitting threads at or below the cores
 * the workers do not use; one submitting thread is never delayed this way.
 *
 * Delivery: the MT goes only to an ACTIVE bind with window space (R4). On a
 * bind loss or response timeout it is resent at once on another ACTIVE bind
 * with the same identity (R5: the service drops the copy); a transient
 * status (throttled, queue full, system error) retries it after
 * retry_backoff_ms, preferring another bind, up to max_attempts (a throttled
 * or queue-full answer is not charged while the MT is younger than
 * no_route_timeout_ms, docs/failover.md); a permanent
 * status fails it. No ACTIVE bind anywhere for no_route_timeout_ms fails it
 * with SMX_FAIL_NO_ROUTE (not permanent). A long text is split into parts
 * (see enum smx_segment_mode), all sent on one bind (they may exceed that
 * bind's window by the part count); the MT is SUBMITTED when every part is
 * accepted, with part 1's message_id. */
int smx_submit(smx_client *c, const struct smx_mt *mt);

/* Queue mts[0..n) in order, as n calls of smx_submit would, but taking
 * slots and entering the ingress queue once per 64 MTs: for an application
 * that has MTs in hand, it costs less per MT (fewer atomic operations, one
 * wake-up check per run). Returns how many were accepted, always a prefix
 * mts[0..return); when that is fewer than n, *err (if not NULL) gets what
 * smx_submit would have returned for mts[return] (SMX_EAGAIN: the ingress or
 * the long-text blocks are full; SMX_EINVAL / SMX_E2BIG: that MT is bad and
 * was not queued; SMX_ESTATE: draining), else 0. Each accepted MT gets its
 * outcome exactly as with smx_submit; every MT of one call shares one
 * submit time stamp (the latency_us origin). Same thread-safety. */
int smx_submit_n(smx_client *c, const struct smx_mt *mts, unsigned n, int *err);

/* ---- events ---- */

enum smx_event_type {
        SMX_EV_SUBMITTED = 1, /* final: the SMSC accepted the MT (with a Redis
                                 store and a DR wanted, shown once its correlation
                                 is in Redis, unless Redis is unreachable:
                                 docs/scale-out.md "The outcome gate") */
        SMX_EV_FAILED,        /* final: the MT will not be sent */
        SMX_EV_DR,            /* a delivery receipt */
        SMX_EV_MO,            /* a mobile-originated message */
        SMX_EV_BIND,          /* a bind went up or down */
};

enum smx_fail_reason {
        SMX_FAIL_NONE = 0,
        SMX_FAIL_REJECTED,     /* permanent status from the SMSC (see status) */
        SMX_FAIL_NO_ROUTE,     /* no ACTIVE bind for no_route_timeout */
        SMX_FAIL_ATTEMPTS,     /* transient failures max_attempts times */
        SMX_FAIL_SHUTDOWN,     /* drain timed out */
        SMX_FAIL_ENCODING,     /* text cannot be encoded as asked */
};
#define SMX_FAIL_REASONS 6     /* count of enum smx_fail_reason values */

enum smx_dr_state {
        SMX_DR_ENROUTE = 1, SMX_DR_DELIVERED, SMX_DR_EXPIRED, SMX_DR_DELETED,
        SMX_DR_UNDELIVERABLE, SMX_DR_ACCEPTED, SMX_DR_UNKNOWN, SMX_DR_REJECTED,
};

/* One event. Strings are NUL-terminated and valid until the next
 * smx_events_poll() call on the same client. For SUBMITTED/FAILED, `smsc`
 * is the bind of the last attempt ("" if none was made). BIND events: one
 * "up" when a bind becomes ACTIVE, one "down" (with bind_reason and the SMPP
 * status behind it, e.g. ESME_RINVPASWD) whenever a session or a connect
 * attempt ends; throttling pauses are not BIND events (see health). BIND
 * events are status reports: when an event ring is full they are skipped,
 * never outcomes, DRs or MOs. */
struct smx_event {
        enum smx_event_type type;
        const char *smsc;          /* bind the event concerns ("" if none) */
        const char *site;
        const char *id;            /* app MT id; NULL for an uncorrelated DR, MO, BIND */
        const char *message_id;    /* SMSC message id (SUBMITTED, DR) */
        /* SUBMITTED / FAILED */
        uint32_t attempts;         /* submit attempts it took (resends included) */
        uint32_t status;           /* last SMPP command_status (FAILED) */
        enum smx_fail_reason reason;
        int permanent;
        uint64_t latency_us;       /* smx_submit -> outcome */
        /* DR */
        enum smx_dr_state state;
        char err[16];              /* receipt err code as text, "" if none */
        /* DR of a long MT: every part's DRs are events of their own. */
        unsigned part;             /* 1-based part the DR is for (1 for a single-part
                                      MT); 0 when unknown (uncorrelated DR) */
        int mt_final;              /* this DR completes the MT: every part now has a
                                      final state. Set once per MT, a single-part
                                      MT's first final DR included */
        enum smx_dr_state mt_state; /* valid when mt_final: the MT's merged state, the
                                      worst part wins: REJECTED > UNDELIVERABLE >
                                      EXPIRED > DELETED > UNKNOWN > DELIVERED */
        int raw;                   /* DR: a receipt with no id and no state, its raw
                                      bytes as hex in text; MO: text is the raw bytes
                                      as hex (binary or unknown data_coding) */
        /* MO */
        const char *from, *to;
        const char *text;          /* UTF-8 */
        size_t text_len;
        unsigned parts;            /* MO segments (1 = single); DR: parts of the MT
                                      (1 = single, 0 when uncorrelated) */
        int partial;               /* MO: parts missing (reassembly timed out, or the
                                      client drained): text is what arrived */
        /* BIND */
        int up;
        const char *bind_reason;   /* why it went down */
};

/* Move up to max events into ev, fairly across the workers' rings. Returns
 * the count (0 = none now; the eventfd will be written when more arrive).
 * The previous batch is released at the start of each call. */
size_t smx_events_poll(smx_client *c, struct smx_event *ev, size_t max);

/* An eventfd that is readable whenever events may be waiting, for the
 * application's own poll/epoll loop. Reading it is optional. */
int smx_events_fd(smx_client *c);

/* ---- introspection ---- */

enum smx_bind_health {
        SMX_HEALTH_DOWN = 0, SMX_HEALTH_CONNECTING, SMX_HEALTH_BINDING,
        SMX_HEALTH_ACTIVE, SMX_HEALTH_THROTTLED, SMX_HEALTH_DRAINING,
};

/* What an SMSC may do, set by the operator. DRAINING: no new MTs go to it
 * (those in flight finish), it stays bound and DRs and MOs keep arriving.
 * REMOVED: unbound for good, never rebound; its counters stay listed. */
enum smx_admin_state { SMX_ADMIN_ENABLED = 0, SMX_ADMIN_DRAINING, SMX_ADMIN_REMOVED };

struct smx_bind_stats {
        char name[SMX_NAME_MAX + 1], site[SMX_NAME_MAX + 1];
        enum smx_bind_health health;
        uint32_t in_flight;
        uint64_t submitted, accepted, failed, resent, throttled, drs, mos;
        uint64_t bind_attempts;
        uint64_t min_attempt_spacing_ms; /* shortest gap between two attempts */
        enum smx_admin_state admin;      /* what the operator set (knob smsc.NAME.admin) */
        unsigned worker;                 /* the worker that owns the bind */
        uint64_t failed_by[SMX_FAIL_REASONS]; /* failed, by enum smx_fail_reason */
        uint64_t latency_count;          /* accepted MTs measured (smx_submit -> accepted) */
        uint64_t latency_p50_us, latency_p99_us, latency_p999_us; /* from a histogram */
        char last_down[48];              /* why the bind last went down ("" never) */
        int tls;                         /* binds over TLS */
        uint64_t tls_handshakes, tls_resumed; /* handshakes done, of them resumed */
        char tls_version[16], tls_cipher[64]; /* of the last handshake ("" none) */
};

/* Number of binds; fills up to max entries of st (may be NULL). */
size_t smx_client_binds(smx_client *c, struct smx_bind_stats *st, size_t max);

/* MTs accepted and not yet given an outcome. */
uint64_t smx_client_in_flight(smx_client *c);

/* HTTP transport counters (struct smx_http_stats); zeroed with enabled = 0
 * when the client has no HTTP transport. */
void smx_client_http_stats(smx_client *c, struct smx_http_stats *st);

/* ---- runtime knobs (docs/operating.md lists them) ----
 * Every knob is read and set by name, with its value as text. A set builds
 * a new immutable snapshot and publishes it with one atomic pointer swap;
 * each worker picks it up at its next loop turn (within ~10 ms), without a
 * lock on the hot path. Names: client-wide knobs by their smx_config name
 * (rebind_interval_ms, rebind_jitter_ms, retry_backoff_ms, max_attempts,
 * no_route_timeout_ms, response_timeout_ms, enquire_link_interval_ms,
 * enquire_link_timeout_ms, route_policy, log_level, metrics_addr); per SMSC
 * "smsc.NAME.tps|window|weight|admin"; per site "site.NAME.tps|window|
 * weight|admin" (every SMSC of the site; a get answers "mixed" when they
 * differ). A window can be lowered and raised back up to the value the bind
 * was created with. Read-only: "metrics_listening" (the bound address). */

/* Set a knob. Returns 0, or SMX_EINVAL (unknown knob, bad value; err says
 * which) / SMX_ESTATE (e.g. enabling a removed SMSC). Any thread. */
int smx_knob_set(smx_client *c, const char *name, const char *value,
                 char *err, size_t err_len);

/* The knob's current value as text in out. Returns its length, or
 * SMX_EINVAL (unknown knob; the reason in out). Any thread. */
int smx_knob_get(smx_client *c, const char *name, char *out, size_t out_len);

/* Every knob as "name value\n" lines. Returns the length needed (like
 * snprintf); out may be NULL to ask. Any thread. */
size_t smx_knob_list(smx_client *c, char *out, size_t out_len);

/* Add an SMSC to a running client (or one not started yet): it takes one
 * of the cfg.spare_smscs slots, is bound at once (R1) and then kept bound
 * like the others. Its window may not exceed cfg.window (the slots' request
 * tables are sized for it). Returns 0, SMX_EINVAL (bad or duplicate name,
 * bad settings; err says which) or SMX_ENOMEM (no spare slot left). Strings
 * are copied. As at create, an SMSC whose msgid_norm differs from that of
 * an SMSC configured (and not removed) at that moment gets a warning log
 * line (docs/operating.md, Message ids). Any thread. */
int smx_smsc_add(smx_client *c, const struct smx_smsc_config *s, char *err, size_t err_len);

/* Shorthands for the knobs smsc.NAME.admin / site.NAME.admin. */
int smx_smsc_set_admin(smx_client *c, const char *smsc, enum smx_admin_state st);
int smx_site_set_admin(smx_client *c, const char *site, enum smx_admin_state st);
const char *smx_admin_state_name(enum smx_admin_state s);

/* ---- stats ---- */

enum smx_stats_format {
        SMX_STATS_TABLE = 0,   /* aligned text for people */
        SMX_STATS_JSON,        /* one JSON object: client, workers, sites, binds */
        SMX_STATS_PROMETHEUS,  /* Prometheus text exposition format 0.0.4 */
};

/* Every counter (per bind, per site, per worker, client totals, inbound
 * stores, and the main smx_client_http_stats counters when the client has
 * the HTTP transport) rendered in
 * fmt into a malloc'd NUL-terminated
 * string (*out; the caller frees it), its length in *len (may be NULL).
 * Returns 0 or SMX_ENOMEM. Any thread; never blocks the workers. */
int smx_stats_render(smx_client *c, enum smx_stats_format fmt, char **out, size_t *len);

/* ---- logging ---- */

enum smx_log_level { SMX_LOG_ERROR = 0, SMX_LOG_WARN, SMX_LOG_INFO, SMX_LOG_DEBUG };

/* Receives one formatted line (no trailing newline). Called from any thread. */
typedef void (*smx_log_fn)(enum smx_log_level level, const char *line, void *arg);

/* Process-wide: log lines up to max_level (default SMX_LOG_WARN) to fn, or to
 * stderr when fn is NULL (never stdout). Lines are rate-limited; passwords are
 * never logged. */
void smx_log_configure(enum smx_log_level max_level, smx_log_fn fn, void *arg);

const char *smx_health_name(enum smx_bind_health h);
const char *smx_dr_state_name(enum smx_dr_state s);
const char *smx_fail_reason_name(enum smx_fail_reason r);

#ifdef __cplusplus
}
#endif
#endif
