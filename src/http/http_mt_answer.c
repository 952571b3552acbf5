/* Reading an answer of the HTTP API (see http_mt.h for the rules): the pure
 * classification of status + body, and what the engine does with a finished
 * transfer (accepted, duplicate, permanent, transient or abnormal).
 * http_mt_finish runs on the engine thread. */
#include "http/http_mt_int.h"
#include "smsmux.h"

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
        if (status >= 500 || status < 200)
                return HTTP_ANS_ABNORMAL;       /* no status, or 1xx: not a final answer */
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

/* A throttled answer: pause every send. A pushback to a request sent after
 * the last one doubles the pause; the others (sent before we knew) only
 * make sure it is on. */
static void throttle_pause(struct http_mt *m, const struct job *j, uint64_t now)
{
        uint32_t base = m->cfg.retry_backoff_ms ? m->cfg.retry_backoff_ms : 100;
        if (!m->throttle_ms)
                m->throttle_ms = base;
        else if (j->send_no >= m->throttle_mark)
                m->throttle_ms = m->throttle_ms >= HTTP_THROTTLE_MAX_MS / 2 ? HTTP_THROTTLE_MAX_MS
                                                                           : m->throttle_ms * 2;
        else if (now < m->throttle_until_ms)
                return;
        if (m->throttle_ms < base)
                m->throttle_ms = base;
        m->throttle_mark = m->sends;
        m->throttle_until_ms = now + m->throttle_ms;
        atomic_store_explicit(&m->st.throttle_ms, m->throttle_ms, memory_order_relaxed);
}

/* An accepted request: sent after the last pushback (so after its pause
 * ended) it shows the service takes MTs again and the next throttle starts
 * from retry_backoff_ms; one sent before only halves the pause. */
static void throttle_relax(struct http_mt *m, const struct job *j)
{
        if (!m->throttle_ms)
                return;
        uint32_t base = m->cfg.retry_backoff_ms ? m->cfg.retry_backoff_ms : 100;
        if (j->send_no >= m->throttle_mark || m->throttle_ms / 2 < base)
                m->throttle_ms = 0;
        else
                m->throttle_ms /= 2;
        atomic_store_explicit(&m->st.throttle_ms, m->throttle_ms, memory_order_relaxed);
}

void http_mt_finish(struct http_mt *m, CURL *e, CURLcode res, uint64_t now)
{
        struct job *j = NULL;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&j);
        curl_multi_remove_handle(m->multi, e);
        if (!j)
                return;
        if (j->probe) {
                http_probe_done(m, j, res, now);
                return;
        }
        m->n_running--;
        http_watch_ended(m, j->url, res == CURLE_OK, now);
        if (res == CURLE_OK)
                http_watch_answered_in(m, j->url, now - j->sent_ms);
        if (res != CURLE_OK) {
                http_job_abnormal(m, j, now, 0);
                return;
        }
        long status = 0;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        uint32_t code = 0;
        j->resp[j->resp_len] = 0;
        switch (http_answer_classify(status, j->resp, j->resp_len, &code)) {
        case HTTP_ANS_ACCEPTED:
                throttle_relax(m, j);
                http_job_done(m, j, 1, 0, 0, SMX_FAIL_NONE, 0);
                break;
        case HTTP_ANS_DUPLICATE:
                throttle_relax(m, j);
                http_job_done(m, j, 1, 1, 0, SMX_FAIL_NONE, 0);
                break;
        case HTTP_ANS_PERMANENT:
                http_job_done(m, j, 0, 0, 1, SMX_FAIL_REJECTED, code);
                break;
        case HTTP_ANS_TRANSIENT:
                atomic_fetch_add_explicit(&m->st.transient, 1, memory_order_relaxed);
                j->streak = 0;
                /* a throttled answer (the service took nothing) is not
                 * charged while the MT is young, as SMPP's pushbacks are not
                 * (worker_session.c): it waits for the service to take it
                 * instead of ending attempts_exhausted during a throttle;
                 * past that age, or 255 times, it counts again so an endless
                 * throttle still ends */
                if (status == 429 || code == 6) {
                        throttle_pause(m, j, now);
                        if (j->pushbacks < UINT8_MAX && now - j->taken_ms < m->cfg.pushback_free_ms) {
                                j->pushbacks++;
                                atomic_fetch_add_explicit(&m->st.pushbacks, 1,
                                                          memory_order_relaxed);
                        }
                }
                if (j->attempts - j->pushbacks >= m->cfg.max_attempts)
                        http_job_done(m, j, 0, 0, 0, SMX_FAIL_ATTEMPTS, code);
                else
                        http_job_wait(m, j, now + m->cfg.retry_backoff_ms);
                break;
        default:
                http_job_abnormal(m, j, now, code);
                break;
        }
}
