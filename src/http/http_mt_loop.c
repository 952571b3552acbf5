/* The HTTP MT engine's thread (see http_mt_int.h).
 *
 * Loop turn: refresh the strategy-A address (closing sockets to an address
 * that changed or lapsed), fail every transfer to a URL that stalled
 * (http_mt_stall.c), send waiting jobs that are due, pull new MTs while
 * there is room and a usable URL, run the primary probe (strategy B), let
 * curl act on its timer, finish completed transfers, then wait in epoll.
 * curl's sockets and timer reach the loop through CURLMOPT_SOCKETFUNCTION /
 * TIMERFUNCTION (curl_multi_socket_action: only sockets with activity are
 * touched, whatever the number of transfers). http_mt_wake writes the
 * eventfd only when the loop announced it is about to sleep. */
#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "http/http_mt_int.h"
#include "http/http_resolve.h"
#include "smsmux.h"

static uint64_t next_due(struct http_mt *m, uint64_t now)
{
        uint64_t wait = IDLE_WAIT_MS;
        if (m->n_waiting) {
                for (uint32_t i = 0; i < m->n_jobs; i++) {
                        struct job *j = &m->jobs[i];
                        if (j->state != JOB_WAITING)
                                continue;
                        uint64_t due = j->due_ms > m->throttle_until_ms ? j->due_ms
                                                                        : m->throttle_until_ms;
                        wait = due <= now ? 0 : (due - now < wait ? due - now : wait);
                }
        }
        if (m->res) {
                uint64_t r = http_resolve_next_ms(m->res, now);
                if (r < wait)
                        wait = r;
        }
        return http_watch_next_ms(m, now, wait);
}

/* curl tells which sockets to watch: mirror that in the engine's epoll set. */
int http_mt_on_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
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

int http_mt_on_timer(CURLM *multi, long timeout_ms, void *userp)
{
        struct http_mt *m = userp;
        (void)multi;
        m->curl_due_ms = timeout_ms < 0 ? UINT64_MAX : http_now_ms() + (uint64_t)timeout_ms;
        return 0;
}

static int reap(struct http_mt *m)
{
        CURLMsg *msg;
        int left, n = 0;
        uint64_t now = http_now_ms();
        while ((msg = curl_multi_info_read(m->multi, &left))) {
                if (msg->msg == CURLMSG_DONE) {
                        http_mt_finish(m, msg->easy_handle, msg->data.result, now);
                        n++;
                }
        }
        return n;
}

void *http_mt_main(void *arg)
{
        struct http_mt *m = arg;
        struct epoll_event evs[64];
        while (!atomic_load_explicit(&m->stop, memory_order_acquire)) {
                uint64_t now = http_now_ms();
                if (m->ops.tick && m->ops.tick(m->arg, now))
                        http_mt_fail_everything(m, SMX_FAIL_SHUTDOWN);
                http_mt_refresh_dns(m, now);
                http_mt_check_stalls(m, now);
                int work = http_mt_send_due(m, now);
                work += http_mt_pull_new(m, now);
                http_probe_start(m, now);
                int running;
                now = http_now_ms();
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
