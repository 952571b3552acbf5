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
                http_job_done(m, j, 1, 0, 0, SMX_FAIL_NONE, 0);
                break;
        case HTTP_ANS_DUPLICATE:
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
                if ((status == 429 || code == 6) && j->pushbacks < UINT8_MAX &&
                    now - j->taken_ms < m->cfg.pushback_free_ms) {
                        j->pushbacks++;
                        atomic_fetch_add_explicit(&m->st.pushbacks, 1, memory_order_relaxed);
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
