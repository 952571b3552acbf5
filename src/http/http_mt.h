/* The HTTP MT client (SERVICE.md H1-H3): a dedicated thread running
 * libcurl's multi interface over a keep-alive pool.
 *
 * It pulls MTs from its owner through `ops->pull` whenever it has room and a
 * usable URL, sends each as an H1 request whose message_id is the MT's
 * identity, and reports exactly one final outcome per MT through `ops->done`
 * (both called on the engine thread). Between the two it owns the MT:
 *   - accepted: 2xx with result_code 0, or result_code 7 (the service already
 *     has this message_id: a resubmit it recognised) -> accepted;
 *   - transient (429, result_code 6 throttled or 98 internal error): sent
 *     again after retry_backoff_ms, same message_id; a throttled answer
 *     (429, 6: the service took nothing) is not charged against
 *     max_attempts while the MT is younger than pushback_free_ms, as SMPP's
 *     ESME_RTHROTTLED / ESME_RMSGQFUL are not, and pauses every send
 *     (retry_backoff_ms, doubling per round of throttled answers up to 10 s,
 *     over once a request sent after it is accepted), as SMPP pauses a
 *     throttled bind;
 *   - permanent (other 4xx, other result codes) -> failed with the code;
 *   - abnormal (connect failure or timeout, reset, no answer, 5xx, a 1xx or
 *     3xx status, an answer that cannot be read): strategy A retries after retry_backoff_ms and
 *     re-resolves; strategy B (H3) waits resubmit_pause_ms and sends again to
 *     the current URL; when that fails abnormally too, the client switches to
 *     the next URL, where the MT goes at once. While not on the primary it
 *     probes the primary every probe_interval_ms and goes back once it has
 *     answered every probe for primary_healthy_ms.
 *   - stalled site: when a URL (strategy A: the address in use) has had
 *     requests outstanding and answered none of them for stall_ms, all of
 *     them fail abnormally at once, as one event for the site, instead of
 *     each waiting out its own timeout_ms. Strategy B then parks them for the
 *     pause and pulls no new MT for that URL until it answers again; a second
 *     stall of the same URL (the resubmits unanswered too) switches to the
 *     next URL, where every held MT goes at once. Strategy A retries them
 *     after retry_backoff_ms and asks DNS again at once, avoiding the hung
 *     address while the answer offers another.
 * After max_attempts charged sends an MT fails (reason attempts; the outcome's
 * attempts counts every send); at stop every MT
 * still held fails (reason shutdown).
 *
 * Strategy A (one URL with a host name): the address comes from
 * http_resolve.h and is handed to curl with CURLOPT_CONNECT_TO, so a
 * connection is tied to the address it was made to; when the address changes
 * or lapses, every socket to the old one is shut down at once. */
#ifndef SMX_HTTP_MT_H
#define SMX_HTTP_MT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http_form.h"

#define HTTP_URLS_MAX   8
#define HTTP_BODY_MAX   16384   /* one encoded request body (4096-byte text fits) */
#define HTTP_MSGID_MAX  64

struct http_mt_config {
        const char *urls[HTTP_URLS_MAX];
        unsigned n_urls;              /* 1: strategy A; 2+: strategy B, [0] primary */
        const char *login, *password;
        int use_get;                  /* GET with a query string instead of POST */
        const char *ca_file;          /* NULL: the system's CA store */
        int insecure;                 /* no peer verification (tests only) */
        const char *dns_server;       /* strategy A: "host:port", NULL: system */
        uint32_t max_host_conns;      /* connections per host (default 16) */
        uint32_t max_in_flight;       /* MTs held at once, incl. paused (default 512) */
        uint32_t connect_timeout_ms;  /* default 5000 */
        uint32_t timeout_ms;          /* whole request (default 15000) */
        uint32_t stall_ms;            /* a URL (strategy A: the address) with requests
                                         outstanding and no answer this long has stalled:
                                         all of them fail abnormally at once (default 3000) */
        uint32_t resubmit_pause_ms;   /* H3 pause (default 30000) */
        uint32_t retry_backoff_ms;    /* transient answers, strategy A (default 1000) */
        uint32_t probe_interval_ms;   /* H3 primary probes (default 5000) */
        uint32_t primary_healthy_ms;  /* H3 back to primary after (default 60000) */
        uint32_t dns_grace_ms;        /* H2 keep last address (default 30000) */
        uint32_t max_attempts;        /* default 10 */
        uint32_t pushback_free_ms;    /* a throttled answer (429, result_code 6) is not
                                         charged against max_attempts while the MT is
                                         younger than this (since the engine took it),
                                         at most 255 times: the client's
                                         no_route_timeout_ms (default 60000; 0: always
                                         charged) */
};

void http_mt_config_init(struct http_mt_config *c);

/* What the engine says about one MT. */
struct http_mt_outcome {
        int accepted;                 /* 1 accepted (also "duplicate") */
        int duplicate;                /* accepted because the service had it already */
        int permanent;                /* failed for good (else: gave up, transient) */
        uint8_t reason;               /* SMX_FAIL_* when not accepted */
        uint32_t code;                /* result_code, else HTTP status, else 0 */
        uint32_t attempts;
        unsigned url;                 /* index of the URL of the last attempt */
};

struct http_mt_ops {
        /* Give the engine one MT: append its fields (not login/password) to
         * body, copy its message_id into msgid (NUL-terminated), set *ref.
         * Return 1 when an MT was given, 0 when none is waiting. */
        int (*pull)(void *arg, struct http_buf *body, char msgid[HTTP_MSGID_MAX + 1], uint64_t *ref);
        void (*done)(void *arg, uint64_t ref, const char *msgid, const struct http_mt_outcome *o);
        /* Called once per loop turn (engine thread), may be NULL. Returns
         * non-zero when every MT held must fail now (reason shutdown). */
        int (*tick)(void *arg, uint64_t now_ms);
};

/* Counters, readable from any thread. */
struct http_mt_stats {
        _Atomic uint64_t sent, accepted, duplicates, failed, transient, pushbacks, abnormal,
                         resubmits, switches, switch_backs, probes, probes_ok,
                         stale_closes, connects, stalls;
        _Atomic uint32_t in_flight;   /* MTs held (sending or waiting) */
        _Atomic uint32_t throttle_ms; /* the current throttle pause, 0 none */
        _Atomic uint32_t current_url; /* index in use */
        _Atomic uint64_t last_switch_ms, last_switch_back_ms;  /* CLOCK_MONOTONIC */
        _Atomic int dns_state;        /* enum http_addr_state (strategy A) */
};

struct http_mt;

int http_mt_create(const struct http_mt_config *cfg, const struct http_mt_ops *ops, void *arg,
                   struct http_mt **out, char *err, size_t err_len);
int http_mt_start(struct http_mt *m);
/* Wake the loop (new MTs waiting). Any thread; cheap when it is busy. */
void http_mt_wake(struct http_mt *m);
/* Fail every MT still held with reason shutdown (after the thread stopped),
 * free everything. */
void http_mt_destroy(struct http_mt *m);
const struct http_mt_stats *http_mt_stats(const struct http_mt *m);
/* 1 when a URL (and, for strategy A, an address) may be used now. Engine
 * thread only (the ops callbacks). */
int http_mt_usable(const struct http_mt *m);
/* The DNS counters of strategy A, or NULL. */
const struct http_resolve_stats *http_mt_dns_stats(const struct http_mt *m);

/* Classify an answer: HTTP status + body ("result_code=N..." form fields).
 * Returns one of HTTP_ANS_*. *code is the result code or the status. */
enum { HTTP_ANS_ACCEPTED = 0, HTTP_ANS_DUPLICATE, HTTP_ANS_TRANSIENT, HTTP_ANS_PERMANENT,
       HTTP_ANS_ABNORMAL };
int http_answer_classify(long status, const char *body, size_t len, uint32_t *code);

#endif
