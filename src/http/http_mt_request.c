/* The HTTP MT engine's job pool (see http_mt_int.h): building one request
 * per MT (the encoded login/password prefix, then the fields `ops->pull`
 * appends; GET puts them in the query string), handing it to curl, and
 * reporting an MT's one outcome through `ops->done`. A job keeps its easy
 * handle for its whole life, so keep-alive connections and TLS sessions are
 * reused. Engine thread only. */
#include <errno.h>
#include <string.h>

#include "http/http_mt_int.h"
#include "smsmux.h"

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

int http_job_setup(struct http_mt *m, struct job *j)
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
        curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, http_sock_open);
        curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, m);
        curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, http_sock_close);
        curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, m);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, m->cfg.insecure ? 0L : 1L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, m->cfg.insecure ? 0L : 2L);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(e, CURLOPT_PROXY, "");   /* never from the environment; skips its lookup per request */
        return 0;
}

void http_job_start(struct http_mt *m, struct job *j, uint64_t now)
{
        unsigned u = atomic_load_explicit(&m->st.current_url, memory_order_relaxed);
        j->url = u;
        j->resp_len = 0;
        j->state = JOB_RUNNING;
        j->attempts++;
        j->send_no = m->sends++;
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
                return;
        }
        j->sent_ms = now;
        http_watch_sent(m, u, now);
}

static void job_release(struct http_mt *m, struct job *j)
{
        j->state = JOB_FREE;
        j->next_free = m->free_list;
        m->free_list = j;
        atomic_fetch_sub_explicit(&m->st.in_flight, 1, memory_order_relaxed);
}

void http_job_done(struct http_mt *m, struct job *j, int accepted, int dup, int permanent,
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

void http_job_wait(struct http_mt *m, struct job *j, uint64_t due)
{
        j->state = JOB_WAITING;
        j->due_ms = due;
        m->n_waiting++;
}


void http_mt_fail_everything(struct http_mt *m, uint8_t reason)
{
        uint64_t now = http_now_ms();
        for (uint32_t i = 0; i < m->n_jobs; i++) {
                struct job *j = &m->jobs[i];
                if (j->state == JOB_FREE)
                        continue;
                if (j->state == JOB_RUNNING) {
                        curl_multi_remove_handle(m->multi, j->easy);
                        m->n_running--;
                        http_watch_ended(m, j->url, 0, now);
                } else
                        m->n_waiting--;
                http_job_done(m, j, 0, 0, 0, reason, 0);
        }
}

int http_mt_send_due(struct http_mt *m, uint64_t now)
{
        if (!m->n_waiting || !m->usable || now < m->throttle_until_ms)
                return 0;
        int n = 0;
        for (uint32_t i = 0; i < m->n_jobs && m->n_waiting && m->n_running < m->cfg.max_host_conns; i++) {
                struct job *j = &m->jobs[i];
                if (j->state != JOB_WAITING || j->due_ms > now)
                        continue;
                m->n_waiting--;
                http_job_start(m, j, now);
                n++;
        }
        return n;
}

int http_mt_pull_new(struct http_mt *m, uint64_t now)
{
        int n = 0;
        /* no more transfers than connections: extra ones would only sit in
         * curl's pending list, which it walks whenever a connection frees */
        if (http_watch_holds_new(m))
                return 0;       /* the current URL stalled: MTs wait in the ring, not on it */
        if (now < m->throttle_until_ms)
                return 0;       /* the service throttles: MTs wait in the ring */
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
                j->pushbacks = 0;
                j->taken_ms = now;
                j->streak = 0;
                http_job_start(m, j, now);
                n++;
        }
        return n;
}
