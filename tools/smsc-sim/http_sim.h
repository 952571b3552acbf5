/* The simulator's HTTP API side (SERVICE.md H1-H4), run next to the SMPP
 * engine (sim.h) or on its own.
 *
 * Each site serves POST/GET /httpapi/receiver on its own loopback address
 * (site i on addr_base + i, all on one port), so a DNS name for the global
 * URL can be pointed at any site by address alone. Behaviour and ledger
 * follow the SMPP side: login/password checked, MTs deduplicated by
 * message_id across every site (a repeat is answered result_code=7 and not
 * delivered to the handset again), DRs for MTs with receipt=TRUE and MOs
 * pushed to the client's receiver URL as H4 form POSTs from several source
 * addresses, re-sent until answered 2xx. With an SMPP engine attached, a
 * share of the HTTP MTs' DRs goes out over its SMPP binds instead, and the
 * SMPP engine may hand its DRs to the HTTP side (cross-transport).
 *
 * Answers: 200 "result_code=0&message_id=ID" accepted; 200 result_code=7
 * duplicate; 401 result_code=2 bad login; 400 result_code=99 bad request;
 * 429 result_code=6 throttled; fault 5xx: 500 result_code=98.
 * Faults per site (http_sim_ctl): down refuse|silent, up, 5xx on|off,
 * slow MS, drop N (close the next N requests without an answer),
 * throttle on|off. */
#ifndef SMSC_SIM_HTTP_H
#define SMSC_SIM_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct smsc_sim;
struct http_sim;

struct http_sim_options {
        const char *sites;         /* comma list, default "dc3,bos" */
        const char *addr_base;     /* address of the first site, default "127.0.0.2" */
        unsigned port;             /* 0: a free port (the same on every site address) */
        const char *login, *password;  /* default smsmux / secret */
        const char *receiver_url;  /* the client's H4 receiver, NULL: set later by ctl */
        const char *receiver_secret; /* sent as X-Smsmux-Secret when set */
        unsigned dr_delay_ms;      /* MT accepted -> DR push, default 20 */
        unsigned threads;          /* HTTP threads per site (each runs its own
                                      daemon on the site's port, SO_REUSEPORT when
                                      more than one), default 1, 1..16 */
        const char *sources;       /* push source addresses, default
                                      "127.0.0.11,127.0.0.12,127.0.0.13" */
        struct smsc_sim *smpp;     /* for cross-transport DRs, may be NULL */
        double dr_via_smpp;        /* share of HTTP MTs' DRs sent over SMPP (0..1) */
        double smpp_dr_via_http;   /* share of SMPP MTs' DRs pushed over HTTP (0..1) */
};

void http_sim_options_init(struct http_sim_options *o);

int http_sim_start(const struct http_sim_options *o, struct http_sim **out, char *err, size_t err_len);
void http_sim_stop(struct http_sim *h);

/* Site i's listening address ("127.0.0.2") and port; returns the site
 * count. */
size_t http_sim_site(const struct http_sim *h, size_t i, char name[32], char addr[16], uint16_t *port);

/* Control commands, all starting with "http " (the same words the control
 * socket takes):
 *   http down SITE refuse|silent   http up SITE
 *   http 5xx SITE on|off           http slow SITE MS
 *   http drop SITE N               http throttle SITE on|off
 *   http receiver URL              http mo N [TEXT]
 *   http dup-push on|off           (push every DR/MO twice)
 *   http summary
 * Returns 0 or -EINVAL with a reason in reply. */
int http_sim_ctl(struct http_sim *h, const char *cmd, char *reply, size_t reply_len);

/* The HTTP ledger as one JSON object. Returns the length (truncated to cap-1). */
int http_sim_summary_json(struct http_sim *h, char *buf, size_t cap);

/* What the service received for one message_id (the latest copy): for field
 * encoding tests. Returns 0, or -ENOENT when it was not seen recently. */
struct http_sim_seen {
        char phone_number[32], sender[32], message[1024], priority[24], receipt[8];
        char site[32];
        unsigned times;            /* requests carrying this message_id */
};
int http_sim_seen(struct http_sim *h, const char *message_id, struct http_sim_seen *out);

/* Offered each DR the SMPP engine is about to send (the engine's lock held;
 * takes only this module's lock): takes a share of them (smpp_dr_via_http)
 * and pushes them over HTTP instead. Returns 1 when taken. */
int http_sim_take_smpp_dr(struct http_sim *h, const char *msgid, uint8_t state);

/* Counters for tests (the same numbers as the JSON). */
struct http_sim_counts {
        uint64_t requests, accepted, duplicates, rejected, faults, dropped;
        uint64_t handset_delivered, handset_duplicates;
        uint64_t dr_pushed, dr_acked, mo_pushed, mo_acked, push_attempts, push_failures;
        uint64_t dr_via_smpp, smpp_dr_via_http;
        unsigned sources_used;
        uint64_t pending_pushes;
};
void http_sim_counts(struct http_sim *h, struct http_sim_counts *c);
/* Per site: accepted MTs and CLOCK_MONOTONIC ms of the first and last one
 * (0 if none). Returns -ENOENT for an unknown site. */
int http_sim_site_counts(struct http_sim *h, const char *site, uint64_t *accepted,
                         uint64_t *first_ms, uint64_t *last_ms);
/* Per site: the requests each of its daemons took (counts[0..cap), as the
 * ledger's "daemon_requests"): which listening socket the kernel handed each
 * connection to. Returns the daemon count (options.threads), or -ENOENT. */
int http_sim_site_daemon_requests(struct http_sim *h, const char *site, uint64_t *counts,
                                  unsigned cap);

#endif
