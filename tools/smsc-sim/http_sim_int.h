/* Internals of the simulator's HTTP side, shared by its files:
 *   http_sim.c       options, start/stop, sites (listen, refuse, silent), the
 *                    MT handler and its dedup table, the slow-answer thread
 *   http_sim_push.c  DR/MO pushes to the client's receiver (push thread) and
 *                    the cross-transport DRs to and from the SMPP engine
 *   http_sim_ctl.c   control words, the ledger JSON, counters for tests
 * Locks: `lock` guards everything shared below; the SMPP engine's lock may
 * be taken while holding nothing of ours, and ours while holding the
 * engine's (engine -> ours), never the other way. */
#ifndef SMSC_SIM_HTTP_INT_H
#define SMSC_SIM_HTTP_INT_H

#include <curl/curl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "http/http_mhd_loop.h"
#include "http_sim.h"

#define SITES_MAX 16
#define SOURCES_MAX 8
#define BODY_MAX 16384
#define SEEN_RING 256
#define HELD_MAX 256
#define PUSH_CONCURRENCY 64
#define RECEIVERS_MAX 8
#define SITE_THREADS_MAX 16

enum { SITE_UP = 0, SITE_REFUSE, SITE_SILENT };

struct site;

/* One of a site's daemons, its request handler's cls: each request is
 * counted for the daemon whose listening socket took its connection. */
struct site_daemon {
        struct site *site;
        unsigned index;
};

struct site {
        struct http_sim *h;
        int index;
        char name[32], addr[16];
        uint16_t port;
        /* while SITE_UP: h->threads daemons on addr:port (SO_REUSEPORT when
         * more than one), each run by a thread of its own, not by MHD's
         * internal threads (http_mhd_loop.h: those can leave a burst of
         * requests unread until the idle timeout); control thread */
        struct http_mhd_loop loops[SITE_THREADS_MAX];
        struct site_daemon daemons[SITE_THREADS_MAX];
        int n_loops;
        int mode;                        /* SITE_*; changed under h->lock */
        _Atomic int err5xx, throttle;
        _Atomic uint32_t slow_ms, drop_n;
        _Atomic uint32_t late_ms;        /* answer an accepted MT this late (its DR is
                                            queued at once: a DR before the answer) */
        /* silent mode */
        int silent_fd, stop_pipe[2];
        pthread_t silent_thr;
        int held[HELD_MAX];
        int n_held;
        /* counters, under h->lock */
        uint64_t requests, accepted, duplicates, rejected, faults, dropped;
        uint64_t daemon_requests[SITE_THREADS_MAX];     /* requests by daemon */
        uint64_t first_ms, last_ms;
};

/* A request being read by MHD. The handler thread only. */
struct sreq {
        size_t len;
        int too_big, resumed;
        int late;                        /* the answer below waits (late_ms) */
        char late_out[128];
        struct MHD_Connection *conn;
        char body[BODY_MAX + 1];
};

struct held_conn {
        struct MHD_Connection *c;
        struct site *site;
        uint64_t due_ms;
};

struct push {
        char *body;
        size_t len;
        int is_dr;
        uint32_t attempts;
        uint64_t due_ms;
        CURL *easy;
        struct curl_slist *hdrs;
        unsigned src;
        unsigned slot;                   /* index in running[] while sent */
};

struct dedup_ent {
        uint64_t a, b;                   /* 0,0: empty */
        int site;
};

struct seen_ent {
        uint64_t a;                      /* id_hash of id */
        char id[65];
        struct http_sim_seen s;
};

/* A DR of an HTTP MT that goes out over the SMPP engine's binds. */
struct smpp_dr {
        char msgid[65], phone[32], sender[32];
        int site;
};

struct http_sim {
        pthread_mutex_t lock;
        struct site sites[SITES_MAX];
        int n_sites;
        char login[64], password[64];
        char receiver[512], rx_secret[128];
        /* receiver: one URL, or a comma list (a load balancer in front of
         * several client instances): each push attempt goes to the next */
        char rx_url[RECEIVERS_MAX][512];
        unsigned n_rx, next_rx;
        unsigned dr_delay_ms;
        unsigned threads;                /* daemons per site, 1..SITE_THREADS_MAX */
        char sources[SOURCES_MAX][32];
        unsigned n_sources, next_src;
        unsigned src_used_mask;
        struct smsc_sim *smpp;
        double dr_via_smpp, smpp_dr_via_http;
        uint64_t rng;
        int dup_push;
        /* dedup */
        struct dedup_ent *tab;
        size_t tab_cap, tab_n;
        struct seen_ent *seen;
        unsigned seen_next;
        /* pushes */
        struct push **q;
        size_t q_n, q_cap;
        unsigned active;
        struct push *running[PUSH_CONCURRENCY];
        CURLM *multi;
        pthread_t push_thr;
        int push_started;
        _Atomic int stop;
        uint64_t mo_serial;
        /* slow */
        struct held_conn *hold;
        size_t hold_n, hold_cap;
        pthread_t delay_thr;
        pthread_cond_t delay_cv;
        int delay_started;
        /* counters (under lock) */
        uint64_t handset_delivered, handset_duplicates;
        uint64_t dr_pushed, dr_acked, mo_pushed, mo_acked, push_attempts, push_failures;
        uint64_t dr_via_smpp_n, smpp_dr_via_http_n;
        /* DRs for the SMPP side, handed over by the push thread (which takes
         * the engine's lock without holding ours: lock order engine -> ours) */
        struct smpp_dr *sq;
        size_t sq_n, sq_cap;
};

/* http_sim.c */
uint64_t hsim_now_ms(void);
double hsim_rand(struct http_sim *h);          /* [0, 1), lock held */
struct site *hsim_site_by_name(struct http_sim *h, const char *name);
int hsim_site_set_mode(struct site *st, int mode);   /* control thread */
/* Set the receiver URL list (lock held). 0, or -EINVAL (nothing changed). */
int hsim_set_receivers(struct http_sim *h, const char *list);

/* http_sim_push.c (lock held unless said) */
void hsim_push_queue(struct http_sim *h, char *body, size_t len, int is_dr);
char *hsim_form_dup(const char *src, size_t *len);
void hsim_push_dr(struct http_sim *h, const char *msgid, uint8_t state, const char *app_id);
int hsim_sq_put(struct http_sim *h, int site, const char *msgid, const char *phone,
                const char *sender);
void *hsim_push_main(void *arg);               /* the push thread */

#endif
