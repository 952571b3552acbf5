/* The HTTP MT engine's life (see http_mt.h): checking the configuration,
 * building the curl multi handle, the job pool and the strategy-A resolver,
 * starting and stopping the engine thread (http_mt_loop.c), and the
 * accessors. The rest of the engine: http_mt_int.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "http/http_mt_int.h"
#include "http/http_resolve.h"
#include "smsmux.h"

void http_mt_config_init(struct http_mt_config *c)
{
        memset(c, 0, sizeof *c);
        c->max_host_conns = 16;
        c->max_in_flight = 512;
        c->connect_timeout_ms = 5000;
        c->timeout_ms = 15000;
        c->stall_ms = 3000;
        c->resubmit_pause_ms = 30000;
        c->retry_backoff_ms = 1000;
        c->probe_interval_ms = 5000;
        c->primary_healthy_ms = 60000;
        c->dns_grace_ms = 30000;
        c->max_attempts = 10;
        c->pushback_free_ms = 60000;
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
        if (!m->cfg.stall_ms)
                m->cfg.stall_ms = 3000;
        m->multi = curl_multi_init();
        if (!m->multi)
                goto nomem;
        curl_multi_setopt(m->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)(cfg->max_host_conns ? cfg->max_host_conns : 16));
        curl_multi_setopt(m->multi, CURLMOPT_MAXCONNECTS,
                          (long)((cfg->max_host_conns ? cfg->max_host_conns : 16) * (cfg->n_urls + 1) * 2));
        curl_multi_setopt(m->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
        curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, http_mt_on_socket);
        curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
        curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, http_mt_on_timer);
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
                if (!j->body.p || (cfg->use_get && !j->get_url) || http_job_setup(m, j) < 0)
                        goto nomem;
                if (cfg->ca_file)
                        curl_easy_setopt(j->easy, CURLOPT_CAINFO, cfg->ca_file);
                j->next_free = m->free_list;
                m->free_list = j;
        }
        if (http_job_setup(m, &m->probe) < 0)
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
        int rc = pthread_create(&m->thread, NULL, http_mt_main, m);
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
                http_mt_fail_everything(m, SMX_FAIL_SHUTDOWN);
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
