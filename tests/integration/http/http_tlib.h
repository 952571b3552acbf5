/* Helpers shared by the HTTP tests: raw HTTP exchanges over a socket bound
 * to a chosen loopback source (one form POST at a time on a kept-alive
 * one), warm kept-alive connections and a burst of requests on them, a
 * curl-multi burst of form POSTs, time, a bounded wait for a counter kept
 * under a lock, and a program started with its stdin and stdout on pipes,
 * a simulated site's MT URL. */
#ifndef HTTP_TLIB_H
#define HTTP_TLIB_H

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "child_tlib.h"
#include "http_sim.h"

static inline uint64_t t_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static inline void t_sleep_ms(unsigned ms)
{
        struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
}

/* Wait (at most timeout_ms) until *counter, read under mu, has grown by n
 * past `from`; the growth seen last. For a counter a receiver-thread
 * callback bumps under its lock (how many requests it deferred). */
static inline uint64_t t_wait_locked_growth(pthread_mutex_t *mu, const uint64_t *counter,
                                            uint64_t from, uint64_t n, unsigned timeout_ms)
{
        uint64_t end = t_now_ms() + timeout_ms;
        for (;;) {
                pthread_mutex_lock(mu);
                uint64_t d = *counter - from;
                pthread_mutex_unlock(mu);
                if (d >= n || t_now_ms() > end)
                        return d;
                t_sleep_ms(1);
        }
}

/* A TCP connection from `src` (NULL: any) to 127.0.0.1:port, or -1. */
static inline int t_connect(const char *src, const char *dst, uint16_t port)
{
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -1;
        struct sockaddr_in a;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        if (src) {
                inet_pton(AF_INET, src, &a.sin_addr);
                if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
                        close(fd);
                        return -1;
                }
        }
        a.sin_port = htons(port);
        inet_pton(AF_INET, dst ? dst : "127.0.0.1", &a.sin_addr);
        if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

/* Read until the peer closes, `cap` is full or timeout_ms passes. Returns
 * bytes read (0: closed without a byte), -1 on timeout with nothing read. */
static inline ssize_t t_read_all(int fd, char *out, size_t cap, unsigned timeout_ms)
{
        size_t n = 0;
        uint64_t end = t_now_ms() + timeout_ms;
        while (n + 1 < cap) {
                uint64_t now = t_now_ms();
                if (now >= end)
                        break;
                struct pollfd p = { fd, POLLIN, 0 };
                if (poll(&p, 1, (int)(end - now)) <= 0)
                        break;
                ssize_t r = read(fd, out + n, cap - 1 - n);
                if (r <= 0)
                        break;
                n += (size_t)r;
                out[n] = 0;
                /* one answer is enough once its body (Content-Length) is in */
                char *hdr_end = strstr(out, "\r\n\r\n");
                char *cl = strstr(out, "Content-Length: ");
                if (hdr_end && cl && cl < hdr_end &&
                    n >= (size_t)(hdr_end + 4 - out) + (size_t)atoi(cl + 16))
                        break;
        }
        out[n] = 0;
        return n ? (ssize_t)n : (t_now_ms() >= end ? -1 : 0);
}

/* The status of an HTTP answer text, or 0 if there is none. */
static inline int t_status(const char *resp)
{
        if (strncmp(resp, "HTTP/1.", 7) != 0 || strlen(resp) < 12)
                return 0;
        return atoi(resp + 9);
}

/* The request line and headers of a form POST to /httpapi/receiver (the
 * receiver's path, and the simulator's MT path); Content-Length follows. */
#define FORM_HEAD "POST /httpapi/receiver HTTP/1.1\r\nHost: x\r\n" \
                  "Content-Type: application/x-www-form-urlencoded\r\n"

/* Write a form POST of `body` on fd (kept alive); 0 when all of it went. */
static inline int t_send_form(int fd, const char *body)
{
        char req[1024];
        int n = snprintf(req, sizeof req, FORM_HEAD "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
        if (n < 0 || (size_t)n >= sizeof req)
                return -1;
        return send(fd, req, (size_t)n, MSG_NOSIGNAL) == n ? 0 : -1;
}

/* The next answer on fd into buf: its status (0: closed without one, -1:
 * none within timeout_ms). */
static inline int t_read_answer(int fd, char *buf, size_t cap, unsigned timeout_ms)
{
        ssize_t n = t_read_all(fd, buf, cap, timeout_ms);
        return n < 0 ? -1 : n == 0 ? 0 : t_status(buf);
}

/* The "ready at once" burst tests (test_http_sim_burst, test_http_receiver):
 * a request of id `id` written on fd (0 when sent), and whether fd's next
 * answer within timeout_ms is the right one for it. */
typedef int (*t_send_fn)(int fd, const char *id);
typedef int (*t_answered_fn)(int fd, const char *id, unsigned timeout_ms);

/* n kept-alive connections to dst:port (NULL: 127.0.0.1) in fds (-1 where
 * the connect failed), each warmed with one request "warm-I" answered in
 * 10 s: how many were. */
static inline int t_warm_connections(int *fds, int n, const char *dst, uint16_t port,
                                     t_send_fn send_req, t_answered_fn answered)
{
        int warm = 0;
        for (int i = 0; i < n; i++) {
                char id[32];
                snprintf(id, sizeof id, "warm-%d", i);
                fds[i] = t_connect(NULL, dst, port);
                warm += fds[i] >= 0 && send_req(fds[i], id) == 0 && answered(fds[i], id, 10000);
        }
        return warm;
}

/* Request "burst-ROUND-I" written on each of fds[0..k-1]: how many went. */
static inline int t_send_burst(const int *fds, int k, int round, t_send_fn send_req)
{
        int sent = 0;
        for (int i = 0; i < k; i++) {
                char id[32];
                snprintf(id, sizeof id, "burst-%d-%d", round, i);
                sent += send_req(fds[i], id) == 0;
        }
        return sent;
}

/* How many of fds[0..k-1] answered their "burst-ROUND-I" within timeout_ms
 * each (read in turn). */
static inline int t_burst_answered(const int *fds, int k, int round, unsigned timeout_ms,
                                   t_answered_fn answered)
{
        int n = 0;
        for (int i = 0; i < k; i++) {
                char id[32];
                snprintf(id, sizeof id, "burst-%d-%d", round, i);
                n += answered(fds[i], id, timeout_ms);
        }
        return n;
}

/* Send raw bytes on a fresh connection and return the answer's status (0:
 * closed without an answer, -1: no answer in time). */
static inline int t_raw(uint16_t port, const char *src, const void *req, size_t len, unsigned timeout_ms)
{
        int fd = t_connect(src, NULL, port);
        if (fd < 0)
                return -2;
        size_t off = 0;
        while (off < len) {
                ssize_t w = send(fd, (const char *)req + off, len - off, MSG_NOSIGNAL);
                if (w <= 0)
                        break;
                off += (size_t)w;
        }
        static char buf[65536];
        ssize_t n = t_read_all(fd, buf, sizeof buf, timeout_ms);
        close(fd);
        if (n < 0)
                return -1;
        return n == 0 ? 0 : t_status(buf);
}

/* POST a form body to url from src; status, or -1 on a transport error. */
static inline long t_post(const char *url, const char *src, const char *body, const char *hdr)
{
        CURL *e = curl_easy_init();
        struct curl_slist *h = hdr ? curl_slist_append(NULL, hdr) : NULL;
        curl_easy_setopt(e, CURLOPT_URL, url);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        if (h)
                curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
        FILE *null = fopen("/dev/null", "w");
        curl_easy_setopt(e, CURLOPT_WRITEDATA, null);
        if (src) {
                char ifc[48];
                snprintf(ifc, sizeof ifc, "host!%s", src);
                curl_easy_setopt(e, CURLOPT_INTERFACE, ifc);
        }
        long st = -1;
        if (curl_easy_perform(e) == CURLE_OK)
                curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &st);
        curl_slist_free_all(h);
        curl_easy_cleanup(e);
        fclose(null);
        return st;
}

static size_t t_discard(char *p, size_t s, size_t n, void *a)
{
        (void)p;
        (void)a;
        return s * n;
}

/* POST n bodies at once (all in flight together, over up to `conns`
 * connections, from the given source addresses in turn). statuses[i] gets
 * each answer's status (-1 transport error). */
static inline void t_burst(const char *url, char **bodies, size_t n, const char *const *srcs,
                           size_t n_srcs, long *statuses)
{
        CURLM *m = curl_multi_init();
        CURL **es = calloc(n, sizeof *es);
        curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, 256L);
        for (size_t i = 0; i < n; i++) {
                CURL *e = curl_easy_init();
                es[i] = e;
                statuses[i] = -1;
                curl_easy_setopt(e, CURLOPT_URL, url);
                curl_easy_setopt(e, CURLOPT_POSTFIELDS, bodies[i]);
                curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 20000L);
                curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
                curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, t_discard);
                curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)&statuses[i]);
                if (n_srcs) {
                        char ifc[48];
                        snprintf(ifc, sizeof ifc, "host!%s", srcs[i % n_srcs]);
                        curl_easy_setopt(e, CURLOPT_INTERFACE, ifc);
                }
                curl_multi_add_handle(m, e);
        }
        int running = 1;
        while (running) {
                curl_multi_perform(m, &running);
                CURLMsg *msg;
                int left;
                while ((msg = curl_multi_info_read(m, &left))) {
                        if (msg->msg != CURLMSG_DONE)
                                continue;
                        long *st = NULL;
                        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&st);
                        if (msg->data.result == CURLE_OK)
                                curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, st);
                }
                if (running)
                        curl_multi_poll(m, NULL, 0, 100, NULL);
        }
        for (size_t i = 0; i < n; i++) {
                curl_multi_remove_handle(m, es[i]);
                curl_easy_cleanup(es[i]);
        }
        free(es);
        curl_multi_cleanup(m);
}

/* The MT URL of the simulator's site i (http://ADDR:PORT/httpapi/receiver)
 * into url; returns the site's port. */
static inline uint16_t t_sim_site_url(const struct http_sim *h, size_t i, char *url, size_t cap)
{
        char name[32], addr[16];
        uint16_t port = 0;
        http_sim_site(h, i, name, addr, &port);
        snprintf(url, cap, "http://%s:%u/httpapi/receiver", addr, port);
        return port;
}

/* Start the program at path with args, its stdin fed from *to_child and its
 * stdout read from *from_child (both ends ours, the child's closed here).
 * Returns the child's pid, or -1 if the pipes or the fork failed. */
static inline pid_t spawn_piped(const char *path, char *const args[], int *to_child,
                                int *from_child)
{
        int pin[2], pout[2];
        if (pipe(pin) < 0)
                return -1;
        if (pipe(pout) < 0) {
                close(pin[0]);
                close(pin[1]);
                return -1;
        }
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid == 0) {
                t_child_dies_with_parent(parent);
                dup2(pin[0], 0);
                dup2(pout[1], 1);
                close(pin[1]);
                close(pout[0]);
                execv(path, args);
                _exit(127);
        }
        close(pin[0]);
        close(pout[1]);
        if (pid < 0) {
                close(pin[1]);
                close(pout[0]);
                return -1;
        }
        *to_child = pin[1];
        *from_child = pout[0];
        return pid;
}

#endif
