/* The insides of the HTTP MT engine (http_mt.h), shared by its files and by
 * nothing else:
 *   http_mt.c          create / start / wake / destroy, the accessors;
 *   http_mt_request.c  the job pool: building and sending requests, outcomes;
 *   http_mt_answer.c   classifying an answer and acting on it;
 *   http_mt_failover.c abnormal failures, URL switches and the primary probe
 *                      (H3), sockets tied to the strategy-A address (H2);
 *   http_mt_stall.c    a URL / address that answers nothing: every request
 *                      to it fails at once (the site-wide H3 event);
 *   http_mt_loop.c     the engine thread: curl's sockets and timer in epoll.
 * Everything here is used on the engine thread only, except where a field
 * says otherwise. */
#ifndef SMX_HTTP_MT_INT_H
#define SMX_HTTP_MT_INT_H

#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "http/http_mt.h"
#include "http/http_resolve.h"

#define RESP_CAP 512
#define IDLE_WAIT_MS 10
#define MAX_SOCKS 4096
#define HTTP_THROTTLE_MAX_MS 10000      /* as SMPP's bind pause */

enum { JOB_FREE = 0, JOB_RUNNING, JOB_WAITING };

/* One MT held by the engine (or the probe). Engine thread only. */
struct job {
        CURL *easy;
        uint8_t state, probe, streak;   /* streak: abnormal failures in a row */
        unsigned url;                   /* URL of the current / last attempt */
        uint64_t ref, due_ms;
        uint32_t attempts;              /* sends, pushbacks included */
        uint8_t pushbacks;              /* throttled answers not charged as attempts */
        uint64_t taken_ms;              /* when the engine pulled it (pushback_free_ms) */
        uint64_t send_no;               /* m->sends at its last send */
        uint64_t sent_ms;               /* when its last send went out */
        char msgid[HTTP_MSGID_MAX + 1];
        struct http_buf body;
        char *get_url;                  /* GET: url '?' body */
        size_t resp_len;
        char resp[RESP_CAP];
        struct job *next_free;
};

/* Is a URL (strategy B: per URL; strategy A: index 0, the address in use)
 * answering? Engine thread only. */
struct site_watch {
        uint32_t outstanding;           /* transfers to it now (the probe excluded) */
        uint64_t heard_ms;              /* its last answer, or when outstanding left 0 */
        uint8_t suspect;                /* it stalled and has not answered since: no new
                                           MT is pulled for it (its own retries still go) */
        uint32_t window_ms;             /* silence that makes a stall: stall_ms; strategy A
                                           doubles it per stall of the same address (up to
                                           timeout_ms), back to stall_ms once a request is
                                           answered within stall_ms or the address changes */
};

/* One socket curl opened, with the address it was opened to. */
struct sock_rec {
        int fd;
        int family;                     /* AF_INET or AF_INET6 */
        unsigned char a[16];            /* 4 or 16 bytes of address */
};

/* The engine: owned by the engine thread once started; `stop`, `sleeping`
 * and `st` are read by other threads. */
struct http_mt {
        struct http_mt_config cfg;
        char *urls[HTTP_URLS_MAX];
        char login[128], password[128];
        struct http_mt_ops ops;
        void *arg;
        CURLM *multi;
        pthread_t thread;
        int started;
        _Atomic int stop;
        _Atomic int sleeping;
        int ep, wake_fd;                /* epoll set of curl's sockets + wake-up eventfd */
        uint64_t curl_due_ms;           /* curl's timer (UINT64_MAX: none) */
        struct job *jobs;
        struct job *free_list;
        uint32_t n_jobs, n_waiting;
        uint32_t n_running;             /* transfers handed to curl (probe excluded) */
        struct job probe;
        uint64_t next_probe_ms, primary_ok_since_ms;
        struct site_watch watch[HTTP_URLS_MAX];
        /* the throttle pause (http_mt_answer.c): after a throttled answer no
         * MT is sent until throttle_until_ms; the pause starts at
         * retry_backoff_ms and doubles per throttled answer to a request sent
         * after the previous one (up to HTTP_THROTTLE_MAX_MS); an accepted
         * request sent after the pause ended ends it for good */
        uint64_t sends;                 /* requests sent so far (job.send_no) */
        uint64_t throttle_mark;         /* sends when the last throttled answer came */
        uint64_t throttle_until_ms;
        uint32_t throttle_ms;
        /* strategy A */
        struct http_resolver *res;
        uint32_t res_gen;
        int usable;                     /* a URL/address may be used now */
        struct curl_slist *connect_to;  /* current CONNECT_TO entry */
        struct curl_slist **old_lists;
        size_t n_old;
        struct http_addr cur_addr;
        int have_addr;
        struct sock_rec socks[MAX_SOCKS];
        unsigned n_socks;
        char prefix[512];               /* login=..&password=.. encoded */
        size_t prefix_len;
        struct http_mt_stats st;
};

static inline uint64_t http_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* http_mt_request.c */
int http_job_setup(struct http_mt *m, struct job *j);
void http_job_start(struct http_mt *m, struct job *j, uint64_t now);
void http_job_done(struct http_mt *m, struct job *j, int accepted, int dup, int permanent,
                   uint8_t reason, uint32_t code);
void http_job_wait(struct http_mt *m, struct job *j, uint64_t due);
void http_mt_fail_everything(struct http_mt *m, uint8_t reason);
int http_mt_send_due(struct http_mt *m, uint64_t now);
int http_mt_pull_new(struct http_mt *m, uint64_t now);

/* http_mt_answer.c */
void http_mt_finish(struct http_mt *m, CURL *e, CURLcode res, uint64_t now);

/* http_mt_failover.c */
void http_job_abnormal(struct http_mt *m, struct job *j, uint64_t now, uint32_t code);
void http_probe_done(struct http_mt *m, struct job *j, CURLcode res, uint64_t now);
void http_probe_start(struct http_mt *m, uint64_t now);
void http_switch_url(struct http_mt *m, unsigned to, uint64_t now, const char *why);
curl_socket_t http_sock_open(void *clientp, curlsocktype purpose, struct curl_sockaddr *a);
int http_sock_close(void *clientp, curl_socket_t fd);
void http_mt_refresh_dns(struct http_mt *m, uint64_t now);

/* http_mt_stall.c */
void http_watch_sent(struct http_mt *m, unsigned url, uint64_t now);
void http_watch_ended(struct http_mt *m, unsigned url, int answered, uint64_t now);
void http_watch_new_address(struct http_mt *m, uint64_t now);
int http_watch_holds_new(const struct http_mt *m);
void http_mt_check_stalls(struct http_mt *m, uint64_t now);
void http_watch_answered_in(struct http_mt *m, unsigned url, uint64_t ms);
uint64_t http_watch_next_ms(const struct http_mt *m, uint64_t now, uint64_t wait);

/* http_mt_loop.c */
void *http_mt_main(void *arg);
int http_mt_on_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp);
int http_mt_on_timer(CURLM *multi, long timeout_ms, void *userp);

#endif
