/* The HTTP MT engine: one thread, one CURLM, a fixed pool of jobs (one per
 * MT held; each keeps its easy handle, so keep-alive connections and TLS
 * sessions are reused). See http_mt.h for the outcome rules.
 *
 * Loop turn: refresh the strategy-A address (closing sockets to an address
 * that changed or lapsed), send waiting jobs that are due, pull new MTs while
 * there is room and a usable URL, run the primary probe (strategy B), let
 * curl act on its timer, finish completed transfers, then wait in epoll.
 * curl's sockets and timer reach the loop through CURLMOPT_SOCKETFUNCTION /
 * TIMERFUNCTION (curl_multi_socket_action: only sockets with activity are
 * touched, whatever the number of transfers). http_mt_wake writes the
 * eventfd only when the loop announced it is about to sleep. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http/http_mt.h"
#include "http/http_resolve.h"
#include "log/log.h"
#include "smsmux.h"

#define RESP_CAP 512
#define IDLE_WAIT_MS 10
#define MAX_SOCKS 4096

enum { JOB_FREE = 0, JOB_RUNNING, JOB_WAITING };

/* One MT held by the engine (or the probe). Engine thread only. */
struct job {
        CURL *easy;
        uint8_t state, probe, streak;   /* streak: abnormal failures in a row */
        unsigned url;                   /* URL of the current / last attempt */
        uint64_t ref, due_ms;
        uint32_t attempts;
        char msgid[HTTP_MSGID_MAX + 1];
        struct http_buf body;
        char *get_url;                  /* GET: url '?' body */
        size_t resp_len;
        char resp[RESP_CAP];
        struct job *next_free;
};

/* One socket curl opened, with the address it was opened to. */
struct sock_rec {
        int fd;
        struct in_addr a;
};

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
        /* strategy A */
        struct http_resolver *res;
        uint32_t res_gen;
        int usable;                     /* a URL/address may be used now */
        struct curl_slist *connect_to;  /* current CONNECT_TO entry */
        struct curl_slist **old_lists;
        size_t n_old;
        struct in_addr cur_addr;
        int have_addr;
        struct sock_rec socks[MAX_SOCKS];
        unsigned n_socks;
        char prefix[512];               /* login=..&password=.. encoded */
        size_t prefix_len;
        struct http_mt_stats st;
};

static uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void http_mt_config_init(struct http_mt_config *c)
{
        memset(c, 0, sizeof *c);
        c->max_host_conns = 16;
        c->max_in_flight = 512;
        c->connect_timeout_ms = 5000;
        c->timeout_ms = 15000;
        c->resubmit_pause_ms = 30000;
        c->retry_backoff_ms = 1000;
        c->probe_interval_ms = 5000;
        c->primary_healthy_ms = 60000;
        c->dns_grace_ms = 30000;
        c->max_attempts = 10;
}

int http_answer_classify(long status, const char *body, size_t len, uint32_t *code)
{
        struct http_field f[16];
        uint32_t rc = 0;
        int have_rc = 0;
        int n = http_form_parse(body, len, f, 16);
        if (n > 0) {
                const struct http_field *r = http_form_find(f, n, "result_code");
                if (r) {
                        size_t vl = r->val_len;
                        while (vl > 0 && (r->val[vl - 1] == '\n' || r->val[vl - 1] == '\r' ||
                                          r->val[vl - 1] == ' '))
                                vl--;
                        have_rc = http_parse_uint(r->val, vl, 999, &rc) == 0;
                }
        }
        *code = have_rc ? rc : (uint32_t)status;
        if (status >= 500 || status < 100)
                return HTTP_ANS_ABNORMAL;
        if (status == 429 || status == 408)
                return HTTP_ANS_TRANSIENT;
        if (status >= 300 && status < 400)
                return HTTP_ANS_ABNORMAL;     /* a redirect is not an answer of the API */
        if (!have_rc)
                return status < 300 ? HTTP_ANS_ACCEPTED : HTTP_ANS_PERMANENT;
        switch (rc) {
        case 0:
                return status < 300 ? HTTP_ANS_ACCEPTED : HTTP_ANS_PERMANENT;
        case 7:
                return HTTP_ANS_DUPLICATE;
        case 6:
        case 98:
                return HTTP_ANS_TRANSIENT;
        default:
                return HTTP_ANS_PERMANENT;
        }
}

/* ---- sockets (strategy A: know where each connection goes) ---- */

static curl_socket_t open_sock(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
        struct http_mt *m = clientp;
        (void)purpose;
        int fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
        if (fd < 0)
                return CURL_SOCKET_BAD;
        atomic_fetch_add_explicit(&m->st.connects, 1, memory_order_relaxed);
        if (a->family == AF_INET && m->n_socks < MAX_SOCKS) {
                struct sockaddr_in sin;
                memcpy(&sin, &a->addr, sizeof sin);
                m->socks[m->n_socks].fd = fd;
                m->socks[m->n_socks].a = sin.sin_addr;
                m->n_socks++;
        }
        return fd;
}

static int close_sock(void *clientp, curl_socket_t fd)
{
        struct http_mt *m = clientp;
        for (unsigned i = 0; i < m->n_socks; i++) {
                if (m->socks[i].fd == fd) {
                        m->socks[i] = m->socks[--m->n_socks];
                        break;
                }
        }
        return close(fd);
}

/* Shut down every socket not to `keep` (all of them when keep is NULL):
 * curl then finds those connections dead and never reuses them. */
static void close_stale(struct http_mt *m, const struct in_addr *keep)
{
        for (unsigned i = 0; i < m->n_socks; i++) {
                if (keep && m->socks[i].a.s_addr == keep->s_addr)
                        continue;
                shutdown(m->socks[i].fd, SHUT_RDWR);
                atomic_fetch_add_explicit(&m->st.stale_closes, 1, memory_order_relaxed);
        }
}

static void refresh_dns(struct http_mt *m, uint64_t now)
{
        if (!m->res) {
                m->usable = 1;
                return;
        }
        http_resolve_tick(m->res, now);
        char a[INET_ADDRSTRLEN];
        uint32_t gen = 0;
        uint64_t exp = 0;
        enum http_addr_state st = http_resolve_get(m->res, now, a, &gen, &exp);
        atomic_store_explicit(&m->st.dns_state, (int)st, memory_order_relaxed);
        if (st == HTTP_ADDR_NONE) {
                if (m->have_addr) {
                        close_stale(m, NULL);
                        m->have_addr = 0;
                }
                m->usable = 0;
                return;
        }
        m->usable = 1;
        if (gen == m->res_gen && m->have_addr)
                return;
        char entry[INET_ADDRSTRLEN + 8];
        snprintf(entry, sizeof entry, "::%s:", a);
        struct curl_slist *l = curl_slist_append(NULL, entry);
        if (!l) {
                m->usable = 0;
                return;
        }
        if (m->connect_to) {
                struct curl_slist **ol = realloc(m->old_lists, (m->n_old + 1) * sizeof *ol);
                if (!ol) {
                        curl_slist_free_all(l);
                        m->usable = 0;
                        return;
                }
                m->old_lists = ol;
                m->old_lists[m->n_old++] = m->connect_to;
        }
        m->connect_to = l;
        inet_pton(AF_INET, a, &m->cur_addr);
        m->have_addr = 1;
        m->res_gen = gen;
        close_stale(m, &m->cur_addr);
}

/* ---- jobs ---- */

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
        struct job *j = arg;
        size_t len = sz * n;
        size_t room = RESP_CAP - 1 - j->resp_len;
        size_t k = len < room ? len : room;
        memcpy(j->resp + j->resp_len, p, k);
        j->resp_len += k;
        return len;
}

static int job_setup(struct http_mt *m, struct job *j)
{
        j->easy = curl_easy_init();
        if (!j->easy)
                return -ENOMEM;
        CURL *e = j->easy;
        curl_easy_setopt(e, CURLOPT_PRIVATE, j);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)m->cfg.connect_timeout_ms);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)m->cfg.timeout_ms);
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
        curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_sock);
        curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, m);
        curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, close_sock);
        curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, m);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, m->cfg.insecure ? 0L : 1L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, m->cfg.insecure ? 0L : 2L);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(e, CURLOPT_PROXY, "");   /* never from the environment; skips its lookup per request */
        return 0;
}

static void job_start(struct http_mt *m, struct job *j, uint64_t now)
{
        (void)now;
        unsigned u = atomic_load_explicit(&m->st.current_url, memory_order_relaxed);
        j->url = u;
        j->resp_len = 0;
        j->state = JOB_RUNNING;
        j->attempts++;
        CURL *e = j->easy;
        if (m->cfg.use_get) {
                size_t ul = strlen(m->urls[u]);
                memcpy(j->get_url, m->urls[u], ul);
                j->get_url[ul] = '?';
                memcpy(j->get_url + ul + 1, j->body.p, j->body.len + 1);
                curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
                curl_easy_setopt(e, CURLOPT_URL, j->get_url);
        } else {
                curl_easy_setopt(e, CURLOPT_URL, m->urls[u]);
                curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)j->body.len);
                curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->body.p);
        }
        if (strncmp(m->urls[u], "https:", 6) == 0)
                curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
        curl_easy_setopt(e, CURLOPT_CONNECT_TO, m->connect_to);
        atomic_fetch_add_explicit(&m->st.sent, 1, memory_order_relaxed);
        m->n_running++;
        if (curl_multi_add_handle(m->multi, e) != CURLM_OK) {
                m->n_running--;
                /* cannot happen with a valid handle; treat as an abnormal
                 * failure so the MT is retried, never lost */
                j->state = JOB_WAITING;
                j->due_ms = now + m->cfg.retry_backoff_ms;
                m->n_waiting++;
        }
}

static void job_release(struct http_mt *m, struct job *j)
{
        j->state = JOB_FREE;
        j->next_free = m->free_list;
        m->free_list = j;
        atomic_fetch_sub_explicit(&m->st.in_flight, 1, memory_order_relaxed);
}

static void job_done(struct http_mt *m, struct job *j, int accepted, int dup, int permanent,
                     uint8_t reason, uint32_t code)
{
        struct http_mt_outcome o = {
                .accepted = accepted, .duplicate = dup, .permanent = permanent,
                .reason = reason, .code = code, .attempts = j->attempts, .url = j->url,
        };
        if (accepted)
                atomic_fetch_add_explicit(&m->st.accepted, 1, memory_order_relaxed);
        else
                atomic_fetch_add_explicit(&m->st.failed, 1, memory_order_relaxed);
        if (dup)
                atomic_fetch_add_explicit(&m->st.duplicates, 1, memory_order_relaxed);
        m->ops.done(m->arg, j->ref, j->msgid, &o);
        job_release(m, j);
}

static void job_wait(struct http_mt *m, struct job *j, uint64_t due)
{
        j->state = JOB_WAITING;
        j->due_ms = due;
        m->n_waiting++;
}

static void switch_url(struct http_mt *m, unsigned to, uint64_t now, const char *why)
{
        unsigned from = atomic_load(&m->st.current_url);
        if (from == to)
                return;
        atomic_store(&m->st.current_url, to);
        if (to == 0) {
                atomic_fetch_add(&m->st.switch_backs, 1);
                atomic_store(&m->st.last_switch_back_ms, now);
        } else {
                atomic_fetch_add(&m->st.switches, 1);
                atomic_store(&m->st.last_switch_ms, now);
                m->primary_ok_since_ms = 0;
                m->next_probe_ms = now + m->cfg.probe_interval_ms;
        }
        smx_logf(to == 0 ? SMX_LOG_INFO : SMX_LOG_WARN, NULL, NULL, "http: switching %s -> %s (%s)",
                 m->urls[from], m->urls[to], why);
}

/* An attempt ended without a usable answer (H3 "abnormal"). */
static void job_abnormal(struct http_mt *m, struct job *j, uint64_t now, uint32_t code)
{
        atomic_fetch_add_explicit(&m->st.abnormal, 1, memory_order_relaxed);
        if (j->attempts >= m->cfg.max_attempts) {
                job_done(m, j, 0, 0, 0, SMX_FAIL_ATTEMPTS, code);
                return;
        }
        if (m->cfg.n_urls < 2) {
                if (m->res)
                        http_resolve_tick(m->res, now);
                job_wait(m, j, now + m->cfg.retry_backoff_ms);
                return;
        }
        unsigned cur = atomic_load_explicit(&m->st.current_url, memory_order_relaxed);
        if (j->streak == 0 || j->url != cur) {
                /* first failure here (or the client moved on meanwhile):
                 * resubmit after the pause, same message_id */
                j->streak = j->url == cur ? 1 : 0;
                atomic_fetch_add_explicit(&m->st.resubmits, 1, memory_order_relaxed);
                job_wait(m, j, j->url == cur ? now + m->cfg.resubmit_pause_ms : now);
                return;
        }
        /* the same failure again after the pause: use the alternate */
        j->streak = 0;
        switch_url(m, (cur + 1) % m->cfg.n_urls, now, "resubmit failed again");
        atomic_fetch_add_explicit(&m->st.resubmits, 1, memory_order_relaxed);
        job_wait(m, j, now);
}

static void probe_done(struct http_mt *m, struct job *j, CURLcode res, uint64_t now)
{
        long status = 0;
        curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &status);
        j->state = JOB_FREE;
        m->next_probe_ms = now + m->cfg.probe_interval_ms;
        if (res != CURLE_OK || status < 100 || status >= 500) {
                m->primary_ok_since_ms = 0;
                return;
        }
        atomic_fetch_add(&m->st.probes_ok, 1);
        if (!m->primary_ok_since_ms)
                m->primary_ok_since_ms = now;
        if (now - m->primary_ok_since_ms >= m->cfg.primary_healthy_ms &&
            atomic_load(&m->st.current_url) != 0)
                switch_url(m, 0, now, "primary answered its probes");
}

static void finish(struct http_mt *m, CURL *e, CURLcode res, uint64_t now)
{
        struct job *j = NULL;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&j);
        curl_multi_remove_handle(m->multi, e);
        if (!j)
                return;
        if (j->probe) {
                probe_done(m, j, res, now);
                return;
        }
        m->n_running--;
        if (res != CURLE_OK) {
                job_abnormal(m, j, now, 0);
                return;
        }
        long status = 0;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        uint32_t code = 0;
        j->resp[j->resp_len] = 0;
        switch (http_answer_classify(status, j->resp, j->resp_len, &code)) {
        case HTTP_ANS_ACCEPTED:
                job_done(m, j, 1, 0, 0, SMX_FAIL_NONE, 0);
                break;
        case HTTP_ANS_DUPLICATE:
                job_done(m, j, 1, 1, 0, SMX_FAIL_NONE, 0);
                break;
        case HTTP_ANS_PERMANENT:
                job_done(m, j, 0, 0, 1, SMX_FAIL_REJECTED, code);
                break;
        case HTTP_ANS_TRANSIENT:
                atomic_fetch_add_explicit(&m->st.transient, 1, memory_order_relaxed);
                j->streak = 0;
                if (j->attempts >= m->cfg.max_attempts)
                        job_done(m, j, 0, 0, 0, SMX_FAIL_ATTEMPTS, code);
                else
                        job_wait(m, j, now + m->cfg.retry_backoff_ms);
                break;
        default:
                job_abnormal(m, j, now, code);
                break;
        }
}

static void start_probe(struct http_mt *m, uint64_t now)
{
        if (m->cfg.n_urls < 2 || atomic_load(&m->st.current_url) == 0 ||
            m->probe.state != JOB_FREE || now < m->next_probe_ms)
                return;
        struct job *j = &m->probe;
        j->resp_len = 0;
        j->state = JOB_RUNNING;
        curl_easy_setopt(j->easy, CURLOPT_URL, m->urls[0]);
        curl_easy_setopt(j->easy, CURLOPT_HTTPGET, 1L);
        atomic_fetch_add(&m->st.probes, 1);
        if (curl_multi_add_handle(m->multi, j->easy) != CURLM_OK) {
                j->state = JOB_FREE;
                m->next_probe_ms = now + m->cfg.probe_interval_ms;
        }
}

static void fail_everything(struct http_mt *m, uint8_t reason)
{
        for (uint32_t i = 0; i < m->n_jobs; i++) {
                struct job *j = &m->jobs[i];
                if (j->state == JOB_FREE)
                        continue;
                if (j->state == JOB_RUNNING) {
                        curl_multi_remove_handle(m->multi, j->easy);
                        m->n_running--;
                } else
                        m->n_waiting--;
                job_done(m, j, 0, 0, 0, reason, 0);
        }
}

static int send_due(struct http_mt *m, uint64_t now)
{
        if (!m->n_waiting || !m->usable)
                return 0;
        int n = 0;
        for (uint32_t i = 0; i < m->n_jobs && m->n_waiting && m->n_running < m->cfg.max_host_conns; i++) {
                struct job *j = &m->jobs[i];
                if (j->state != JOB_WAITING || j->due_ms > now)
                        continue;
                m->n_waiting--;
                job_start(m, j, now);
                n++;
        }
        return n;
}

static int pull_new(struct http_mt *m, uint64_t now)
{
        int n = 0;
        /* no more transfers than connections: extra ones would only sit in
         * curl's pending list, which it walks whenever a connection frees */
        while (m->usable && m->free_list && n < 1024 && m->n_running < m->cfg.max_host_conns) {
                struct job *j = m->free_list;
                memcpy(j->body.p, m->prefix, m->prefix_len + 1);
                j->body.len = m->prefix_len;
                j->msgid[0] = 0;
                if (!m->ops.pull(m->arg, &j->body, j->msgid, &j->ref))
                        break;
                m->free_list = j->next_free;
                atomic_fetch_add_explicit(&m->st.in_flight, 1, memory_order_relaxed);
                j->attempts = 0;
                j->streak = 0;
                job_start(m, j, now);
                n++;
        }
        return n;
}

static uint64_t next_due(struct http_mt *m, uint64_t now)
{
        uint64_t wait = IDLE_WAIT_MS;
        if (m->n_waiting) {
                for (uint32_t i = 0; i < m->n_jobs; i++) {
                        struct job *j = &m->jobs[i];
                        if (j->state == JOB_WAITING)
                                wait = j->due_ms <= now ? 0 : (j->due_ms - now < wait ? j->due_ms - now : wait);
                }
        }
        if (m->res) {
                uint64_t r = http_resolve_next_ms(m->res, now);
                if (r < wait)
                        wait = r;
        }
        return wait;
}

/* curl tells which sockets to watch: mirror that in the engine's epoll set. */
static int on_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
        struct http_mt *m = userp;
        (void)e;
        struct epoll_event ev = { .events = 0, .data.fd = fd };
        if (what == CURL_POLL_REMOVE) {
                epoll_ctl(m->ep, EPOLL_CTL_DEL, fd, NULL);
                curl_multi_assign(m->multi, fd, NULL);
                return 0;
        }
        if (what & CURL_POLL_IN)
                ev.events |= EPOLLIN;
        if (what & CURL_POLL_OUT)
                ev.events |= EPOLLOUT;
        if (socketp) {
                epoll_ctl(m->ep, EPOLL_CTL_MOD, fd, &ev);
        } else {
                epoll_ctl(m->ep, EPOLL_CTL_ADD, fd, &ev);
                curl_multi_assign(m->multi, fd, m);    /* marks "added" */
        }
        return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
        struct http_mt *m = userp;
        (void)multi;
        m->curl_due_ms = timeout_ms < 0 ? UINT64_MAX : now_ms() + (uint64_t)timeout_ms;
        return 0;
}

static int reap(struct http_mt *m)
{
        CURLMsg *msg;
        int left, n = 0;
        uint64_t now = now_ms();
        while ((msg = curl_multi_info_read(m->multi, &left))) {
                if (msg->msg == CURLMSG_DONE) {
                        finish(m, msg->easy_handle, msg->data.result, now);
                        n++;
                }
        }
        return n;
}

static void *engine_main(void *arg)
{
        struct http_mt *m = arg;
        struct epoll_event evs[64];
        while (!atomic_load_explicit(&m->stop, memory_order_acquire)) {
                uint64_t now = now_ms();
                if (m->ops.tick && m->ops.tick(m->arg, now))
                        fail_everything(m, SMX_FAIL_SHUTDOWN);
                refresh_dns(m, now);
                int work = send_due(m, now);
                work += pull_new(m, now);
                start_probe(m, now);
                int running;
                now = now_ms();
                if (work || now >= m->curl_due_ms) {
                        m->curl_due_ms = UINT64_MAX;
                        curl_multi_socket_action(m->multi, CURL_SOCKET_TIMEOUT, 0, &running);
                }
                work += reap(m);
                if (work && m->free_list && m->usable && m->n_running < m->cfg.max_host_conns)
                        continue;     /* room freed: pull again before waiting */
                uint64_t wait = next_due(m, now);
                if (m->curl_due_ms != UINT64_MAX)
                        wait = m->curl_due_ms <= now ? 0 : (m->curl_due_ms - now < wait ? m->curl_due_ms - now : wait);
                struct pollfd pf[8];
                int nf = m->res ? http_resolve_fds(m->res, pf, 8) : 0;
                if (nf && wait > 2)
                        wait = 2;     /* a query is out: look at its sockets soon */
                atomic_store(&m->sleeping, 1);
                int n = epoll_wait(m->ep, evs, 64, (int)wait);
                atomic_store(&m->sleeping, 0);
                for (int i = 0; i < n; i++) {
                        int fd = evs[i].data.fd;
                        if (fd == m->wake_fd) {
                                uint64_t v;
                                ssize_t r = read(m->wake_fd, &v, sizeof v);
                                (void)r;
                                continue;
                        }
                        int flags = 0;
                        if (evs[i].events & (EPOLLIN | EPOLLHUP))
                                flags |= CURL_CSELECT_IN;
                        if (evs[i].events & EPOLLOUT)
                                flags |= CURL_CSELECT_OUT;
                        if (evs[i].events & EPOLLERR)
                                flags |= CURL_CSELECT_ERR;
                        curl_multi_socket_action(m->multi, fd, flags, &running);
                }
                if (nf) {
                        poll(pf, (nfds_t)nf, 0);
                        http_resolve_process(m->res, pf, nf);
                }
        }
        return NULL;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
        curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int host_is_literal(const char *url, char *host, size_t cap)
{
        CURLU *u = curl_url();
        char *h = NULL;
        int lit = -1;
        if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK) {
                struct in_addr a4;
                struct in6_addr a6;
                size_t hl = strlen(h);
                lit = h[0] == '[' || inet_pton(AF_INET, h, &a4) == 1 || inet_pton(AF_INET6, h, &a6) == 1;
                if (hl < cap)
                        memcpy(host, h, hl + 1);
                else
                        lit = -1;
        }
        curl_free(h);
        curl_url_cleanup(u);
        return lit;
}

int http_mt_create(const struct http_mt_config *cfg, const struct http_mt_ops *ops, void *arg,
                   struct http_mt **out, char *err, size_t err_len)
{
        pthread_once(&curl_once, curl_init_once);
        *out = NULL;
        if (!cfg->n_urls || cfg->n_urls > HTTP_URLS_MAX) {
                snprintf(err, err_len, "http: 1 to %d URLs needed", HTTP_URLS_MAX);
                return SMX_EINVAL;
        }
        struct http_mt *m = calloc(1, sizeof *m);
        if (!m)
                return SMX_ENOMEM;
        m->ep = m->wake_fd = -1;
        m->cfg = *cfg;
        m->ops = *ops;
        m->arg = arg;
        int rc = SMX_EINVAL;
        char host[256];
        for (unsigned i = 0; i < cfg->n_urls; i++) {
                int lit = cfg->urls[i] ? host_is_literal(cfg->urls[i], host, sizeof host) : -1;
                if (lit < 0) {
                        snprintf(err, err_len, "http: bad URL '%s'", cfg->urls[i] ? cfg->urls[i] : "");
                        goto fail;
                }
                m->urls[i] = strdup(cfg->urls[i]);
                if (!m->urls[i])
                        goto nomem;
                m->cfg.urls[i] = m->urls[i];
                if (cfg->n_urls == 1 && !lit) {
                        m->res = http_resolve_create(host, cfg->dns_server, cfg->dns_grace_ms, err, err_len);
                        if (!m->res)
                                goto fail;
                }
        }
        struct http_buf pb = { m->prefix, 0, sizeof m->prefix };
        const char *login = cfg->login ? cfg->login : "";
        const char *pw = cfg->password ? cfg->password : "";
        if (http_form_add(&pb, "login", login, strlen(login)) < 0 ||
            http_form_add(&pb, "password", pw, strlen(pw)) < 0) {
                snprintf(err, err_len, "http: login/password too long");
                goto fail;
        }
        m->prefix_len = pb.len;
        m->cfg.login = m->cfg.password = NULL;   /* not kept beyond the encoded prefix */
        m->cfg.ca_file = NULL;
        m->cfg.dns_server = NULL;
        if (!m->cfg.max_in_flight)
                m->cfg.max_in_flight = 512;
        if (!m->cfg.max_attempts)
                m->cfg.max_attempts = 10;
        if (!m->cfg.max_host_conns)
                m->cfg.max_host_conns = 16;
        m->multi = curl_multi_init();
        if (!m->multi)
                goto nomem;
        curl_multi_setopt(m->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)(cfg->max_host_conns ? cfg->max_host_conns : 16));
        curl_multi_setopt(m->multi, CURLMOPT_MAXCONNECTS,
                          (long)((cfg->max_host_conns ? cfg->max_host_conns : 16) * (cfg->n_urls + 1) * 2));
        curl_multi_setopt(m->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
        curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
        curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
        curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, on_timer);
        curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
        m->curl_due_ms = UINT64_MAX;
        m->ep = epoll_create1(EPOLL_CLOEXEC);
        m->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (m->ep < 0 || m->wake_fd < 0)
                goto nomem;
        struct epoll_event wev = { .events = EPOLLIN, .data.fd = m->wake_fd };
        epoll_ctl(m->ep, EPOLL_CTL_ADD, m->wake_fd, &wev);
        m->n_jobs = m->cfg.max_in_flight;
        m->jobs = calloc(m->n_jobs, sizeof *m->jobs);
        if (!m->jobs)
                goto nomem;
        size_t max_url = 0;
        for (unsigned i = 0; i < cfg->n_urls; i++)
                if (strlen(m->urls[i]) > max_url)
                        max_url = strlen(m->urls[i]);
        for (uint32_t i = 0; i < m->n_jobs; i++) {
                struct job *j = &m->jobs[i];
                j->body.p = malloc(HTTP_BODY_MAX);
                j->body.cap = HTTP_BODY_MAX;
                if (cfg->use_get)
                        j->get_url = malloc(max_url + 2 + HTTP_BODY_MAX);
                if (!j->body.p || (cfg->use_get && !j->get_url) || job_setup(m, j) < 0)
                        goto nomem;
                if (cfg->ca_file)
                        curl_easy_setopt(j->easy, CURLOPT_CAINFO, cfg->ca_file);
                j->next_free = m->free_list;
                m->free_list = j;
        }
        if (job_setup(m, &m->probe) < 0)
                goto nomem;
        if (cfg->ca_file)
                curl_easy_setopt(m->probe.easy, CURLOPT_CAINFO, cfg->ca_file);
        m->probe.probe = 1;
        *out = m;
        return 0;
nomem:
        rc = SMX_ENOMEM;
        snprintf(err, err_len, "http: out of memory");
fail:
        http_mt_destroy(m);
        return rc;
}

int http_mt_start(struct http_mt *m)
{
        int rc = pthread_create(&m->thread, NULL, engine_main, m);
        if (rc)
                return -rc;
        m->started = 1;
        return 0;
}

void http_mt_wake(struct http_mt *m)
{
        if (atomic_exchange(&m->sleeping, 0)) {
                uint64_t one = 1;
                ssize_t r = write(m->wake_fd, &one, sizeof one);
                (void)r;
        }
}

void http_mt_destroy(struct http_mt *m)
{
        if (!m)
                return;
        if (m->started) {
                atomic_store(&m->stop, 1);
                atomic_store(&m->sleeping, 1);
                http_mt_wake(m);
                pthread_join(m->thread, NULL);
                m->started = 0;
        }
        if (m->jobs && m->multi)
                fail_everything(m, SMX_FAIL_SHUTDOWN);
        for (uint32_t i = 0; m->jobs && i < m->n_jobs; i++) {
                struct job *j = &m->jobs[i];
                if (j->easy)
                        curl_easy_cleanup(j->easy);
                free(j->body.p);
                free(j->get_url);
        }
        if (m->probe.easy) {
                if (m->probe.state == JOB_RUNNING)
                        curl_multi_remove_handle(m->multi, m->probe.easy);
                curl_easy_cleanup(m->probe.easy);
        }
        if (m->multi)
                curl_multi_cleanup(m->multi);
        if (m->ep >= 0)
                close(m->ep);
        if (m->wake_fd >= 0)
                close(m->wake_fd);
        free(m->jobs);
        curl_slist_free_all(m->connect_to);
        for (size_t i = 0; i < m->n_old; i++)
                curl_slist_free_all(m->old_lists[i]);
        free(m->old_lists);
        http_resolve_destroy(m->res);
        for (unsigned i = 0; i < HTTP_URLS_MAX; i++)
                free(m->urls[i]);
        free(m);
}

int http_mt_usable(const struct http_mt *m)
{
        return m->usable;
}

const struct http_mt_stats *http_mt_stats(const struct http_mt *m)
{
        return &m->st;
}

const struct http_resolve_stats *http_mt_dns_stats(const struct http_mt *m)
{
        return m->res ? http_resolve_stats(m->res) : NULL;
}
