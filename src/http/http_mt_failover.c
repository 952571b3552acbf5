/* Failover of the HTTP MT engine (SERVICE.md H2, H3). Engine thread only.
 *
 * Strategy B: an abnormal failure parks the MT for resubmit_pause_ms and
 * sends it again to the current URL; a second abnormal failure switches to the
 * next URL. While not on the primary, a bare GET probes it every
 * probe_interval_ms; after primary_healthy_ms of good answers the engine
 * switches back.
 *
 * Strategy A: curl opens and closes its sockets through http_sock_open /
 * http_sock_close, so the engine knows the address of every connection; when
 * the resolver's answer changes or lapses, the sockets to the old address are
 * shut down at once and curl never reuses them. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/http_mt_int.h"
#include "http/http_resolve.h"
#include "log/log.h"
#include "smsmux.h"

/* ---- sockets (strategy A: know where each connection goes) ---- */

curl_socket_t http_sock_open(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
        struct http_mt *m = clientp;
        (void)purpose;
        int fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
        if (fd < 0)
                return CURL_SOCKET_BAD;
        atomic_fetch_add_explicit(&m->st.connects, 1, memory_order_relaxed);
        if (m->n_socks >= MAX_SOCKS)
                return fd;
        struct sock_rec *k = &m->socks[m->n_socks];
        memset(k, 0, sizeof *k);
        if (a->family == AF_INET && a->addrlen >= sizeof(struct sockaddr_in)) {
                struct sockaddr_in sin;
                memcpy(&sin, &a->addr, sizeof sin);
                memcpy(k->a, &sin.sin_addr, 4);
        } else if (a->family == AF_INET6 && a->addrlen >= sizeof(struct sockaddr_in6)) {
                struct sockaddr_in6 sin6;
                memcpy(&sin6, &a->addr, sizeof sin6);
                memcpy(k->a, &sin6.sin6_addr, 16);
        } else {
                return fd;
        }
        k->fd = fd;
        k->family = a->family;
        m->n_socks++;
        return fd;
}

int http_sock_close(void *clientp, curl_socket_t fd)
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

static int sock_is_to(const struct sock_rec *k, const struct http_addr *a)
{
        return k->family == a->family &&
               memcmp(k->a, &a->a, a->family == AF_INET ? 4 : 16) == 0;
}

/* Shut down every socket not to `keep` (all of them when keep is NULL):
 * curl then finds those connections dead and never reuses them. */
static void close_stale(struct http_mt *m, const struct http_addr *keep)
{
        for (unsigned i = 0; i < m->n_socks; i++) {
                if (keep && sock_is_to(&m->socks[i], keep))
                        continue;
                shutdown(m->socks[i].fd, SHUT_RDWR);
                atomic_fetch_add_explicit(&m->st.stale_closes, 1, memory_order_relaxed);
        }
}

void http_mt_refresh_dns(struct http_mt *m, uint64_t now)
{
        if (!m->res) {
                m->usable = 1;
                return;
        }
        http_resolve_tick(m->res, now);
        struct http_addr a;
        uint32_t gen = 0;
        uint64_t exp = 0;
        enum http_addr_state st = http_resolve_get(m->res, now, &a, &gen, &exp);
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
        /* any host, any port -> this address (an IPv6 one in brackets) */
        char entry[INET6_ADDRSTRLEN + 8];
        snprintf(entry, sizeof entry, a.family == AF_INET6 ? "::[%s]:" : "::%s:", a.text);
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
        m->cur_addr = a;
        m->have_addr = 1;
        m->res_gen = gen;
        close_stale(m, &m->cur_addr);
        http_watch_new_address(m, now);
}

void http_switch_url(struct http_mt *m, unsigned to, uint64_t now, const char *why)
{
        unsigned from = atomic_load(&m->st.current_url);
        if (from == to)
                return;
        atomic_store(&m->st.current_url, to);
        m->watch[to].suspect = 0;       /* a fresh chance: new MTs go there at once */
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
void http_job_abnormal(struct http_mt *m, struct job *j, uint64_t now, uint32_t code)
{
        atomic_fetch_add_explicit(&m->st.abnormal, 1, memory_order_relaxed);
        if (j->attempts - j->pushbacks >= m->cfg.max_attempts) {
                http_job_done(m, j, 0, 0, 0, SMX_FAIL_ATTEMPTS, code);
                return;
        }
        if (m->cfg.n_urls < 2) {
                if (m->res)
                        http_resolve_tick(m->res, now);
                http_job_wait(m, j, now + m->cfg.retry_backoff_ms);
                return;
        }
        unsigned cur = atomic_load_explicit(&m->st.current_url, memory_order_relaxed);
        if (j->streak == 0 || j->url != cur) {
                /* first failure here (or the client moved on meanwhile):
                 * resubmit after the pause, same message_id */
                j->streak = j->url == cur ? 1 : 0;
                atomic_fetch_add_explicit(&m->st.resubmits, 1, memory_order_relaxed);
                http_job_wait(m, j, j->url == cur ? now + m->cfg.resubmit_pause_ms : now);
                return;
        }
        /* the same failure again after the pause: use the alternate */
        j->streak = 0;
        http_switch_url(m, (cur + 1) % m->cfg.n_urls, now, "resubmit failed again");
        atomic_fetch_add_explicit(&m->st.resubmits, 1, memory_order_relaxed);
        http_job_wait(m, j, now);
}

void http_probe_done(struct http_mt *m, struct job *j, CURLcode res, uint64_t now)
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
                http_switch_url(m, 0, now, "primary answered its probes");
}


void http_probe_start(struct http_mt *m, uint64_t now)
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
