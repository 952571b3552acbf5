/* A site that answers nothing (SERVICE.md H3, H2), detected as one event for
 * the site rather than one timeout per MT. Engine thread only.
 *
 * Every URL (strategy A: the one address in use) has a watch: how many
 * transfers are out to it and when it last answered (any HTTP answer counts;
 * a transfer that ended in a network error or a timeout does not), or when
 * requests went out to it after none were. Once a URL has had requests
 * outstanding and answered none of them for stall_ms, it has stalled: every
 * transfer to it is taken back from curl at once (curl closes a connection
 * whose transfer is removed half-way, so nothing the hung site might still
 * say is ever read: a job has one outcome only) and fails abnormally:
 *   - strategy B, the current URL, first stall: each MT is parked for
 *     resubmit_pause_ms and resubmitted there with the same message_id; the
 *     URL is suspect, and no new MT is pulled for it until it answers (the
 *     MTs behind wait in the ingress ring, not on a hung connection);
 *   - strategy B, a stall of a suspect URL (the resubmits went unanswered
 *     too), or an MT that had already failed abnormally there: the failure
 *     repeated, so the client switches to the next URL and every MT held
 *     goes there at once, the waiting ones behind them too;
 *   - strategy B, a URL the client already left: its MTs go to the current
 *     one at once;
 *   - strategy B, every stall of the current URL also doubles the silence
 *     its next stall needs (up to timeout_ms; back to stall_ms once it
 *     answers within stall_ms), as for strategy A below: the resubmit after
 *     the pause is then waited for, so a site slower than stall_ms at every
 *     answer is not taken for a hung one, and when every URL is that slow
 *     the MTs are accepted instead of failing after max_attempts stalls
 *     that each cut a request the service took; a hung URL costs its
 *     resubmit 2 x stall_ms before the switch;
 *   - strategy A: each MT is retried after retry_backoff_ms; the name is
 *     resolved again at once, passing over the hung address for
 *     AVOID_MS when the answer has another; no new MT is pulled until the
 *     address answers or changes. When the address stays the same, its next
 *     stall needs twice the silence (up to timeout_ms): a service that takes
 *     longer than stall_ms to answer every request is slow, not gone, and
 *     the retry is then waited for (its answer, "duplicate" when the first
 *     send was taken, counts as accepted) instead of each attempt being cut
 *     at stall_ms until max_attempts fails an MT the service has taken. An
 *     answer within stall_ms, or a new address, brings it back to stall_ms.
 * An MT that has used max_attempts fails (reason attempts) as anywhere else. */
#include <stdio.h>

#include "http/http_mt_int.h"
#include "log/log.h"
#include "smsmux.h"

#define AVOID_MS 60000u     /* strategy A: a hung address is passed over this long */

void http_watch_sent(struct http_mt *m, unsigned url, uint64_t now)
{
        struct site_watch *w = &m->watch[url];
        if (w->outstanding++ == 0)
                w->heard_ms = now;
}

/* The silence that makes URL u stalled now. */
static uint64_t stall_window(const struct http_mt *m, const struct site_watch *w)
{
        return w->window_ms > m->cfg.stall_ms ? w->window_ms : m->cfg.stall_ms;
}

/* A request to URL u was answered `ms` after it went out: an address that
 * answers within stall_ms is watched with stall_ms again. */
void http_watch_answered_in(struct http_mt *m, unsigned url, uint64_t ms)
{
        if (ms < m->cfg.stall_ms)
                m->watch[url].window_ms = 0;
}

void http_watch_ended(struct http_mt *m, unsigned url, int answered, uint64_t now)
{
        struct site_watch *w = &m->watch[url];
        if (w->outstanding)
                w->outstanding--;
        if (answered) {
                w->heard_ms = now;
                w->suspect = 0;
        }
}

/* Strategy A moved to another address: it starts with a clean record. */
void http_watch_new_address(struct http_mt *m, uint64_t now)
{
        m->watch[0].suspect = 0;
        m->watch[0].heard_ms = now;
        m->watch[0].window_ms = 0;
}

/* New MTs wait while the current URL is suspect and MTs of ours are still
 * out to find out whether it answers again; with none left, new MTs go and
 * are the test (so a suspect URL never blocks the flow for good). */
int http_watch_holds_new(const struct http_mt *m)
{
        unsigned cur = atomic_load_explicit(&m->st.current_url, memory_order_relaxed);
        return m->watch[cur].suspect && m->n_waiting + m->n_running > 0;
}

/* When the next stall could be declared (capped by wait). */
uint64_t http_watch_next_ms(const struct http_mt *m, uint64_t now, uint64_t wait)
{
        for (unsigned u = 0; u < m->cfg.n_urls; u++) {
                const struct site_watch *w = &m->watch[u];
                if (!w->outstanding)
                        continue;
                uint64_t due = w->heard_ms + stall_window(m, w);
                uint64_t in = due <= now ? 0 : due - now;
                if (in < wait)
                        wait = in;
        }
        return wait;
}

/* URL u stalled: its next stall needs twice the silence (up to timeout_ms),
 * until it answers within stall_ms again (http_watch_answered_in). */
static void widen_window(const struct http_mt *m, struct site_watch *w)
{
        uint64_t next = stall_window(m, w) * 2;
        uint64_t cap = m->cfg.timeout_ms > m->cfg.stall_ms ? m->cfg.timeout_ms : m->cfg.stall_ms;
        w->window_ms = (uint32_t)(next < cap ? next : cap);
}

static void site_stalled(struct http_mt *m, unsigned u, uint64_t now)
{
        struct site_watch *w = &m->watch[u];
        unsigned cur = atomic_load_explicit(&m->st.current_url, memory_order_relaxed);
        int strategy_b = m->cfg.n_urls > 1;
        int repeated = w->suspect;
        uint32_t n = 0;
        for (uint32_t i = 0; i < m->n_jobs; i++) {
                struct job *j = &m->jobs[i];
                if (j->state != JOB_RUNNING || j->url != u)
                        continue;
                if (j->streak)
                        repeated = 1;
                n++;
        }
        atomic_fetch_add_explicit(&m->st.stalls, 1, memory_order_relaxed);
        const char *what = !strategy_b ? "asking DNS again" :
                           u != cur ? "already left: to the current URL" :
                           repeated ? "again after the pause: switching" : "resubmitting after the pause";
        smx_logf(SMX_LOG_WARN, NULL, NULL,
                 "http: %s%s%s answered nothing for %llu ms with %u requests out: all of them failed (%s)",
                 m->urls[u], m->res && m->have_addr ? " at " : "", m->res && m->have_addr ? m->cur_addr.text : "",
                 (unsigned long long)(now - w->heard_ms), n, what);
        uint64_t due = now;
        if (!strategy_b || u == cur)
                widen_window(m, w);
        if (!strategy_b) {
                w->suspect = 1;
                if (m->res && m->have_addr)
                        http_resolve_avoid(m->res, &m->cur_addr, now, AVOID_MS);
                due = now + m->cfg.retry_backoff_ms;
        } else if (u == cur && repeated) {
                http_switch_url(m, (cur + 1) % m->cfg.n_urls, now, "no answer again after the pause");
        } else if (u == cur) {
                w->suspect = 1;
                due = now + m->cfg.resubmit_pause_ms;
        }
        unsigned now_cur = atomic_load_explicit(&m->st.current_url, memory_order_relaxed);
        for (uint32_t i = 0; i < m->n_jobs; i++) {
                struct job *j = &m->jobs[i];
                if (j->state != JOB_RUNNING || j->url != u)
                        continue;
                curl_multi_remove_handle(m->multi, j->easy);
                m->n_running--;
                http_watch_ended(m, u, 0, now);
                atomic_fetch_add_explicit(&m->st.abnormal, 1, memory_order_relaxed);
                if (j->attempts - j->pushbacks >= m->cfg.max_attempts) {
                        http_job_done(m, j, 0, 0, 0, SMX_FAIL_ATTEMPTS, 0);
                        continue;
                }
                if (strategy_b) {
                        j->streak = u == now_cur ? 1 : 0;
                        atomic_fetch_add_explicit(&m->st.resubmits, 1, memory_order_relaxed);
                }
                http_job_wait(m, j, due);
        }
        w->outstanding = 0;
        w->heard_ms = now;
}

void http_mt_check_stalls(struct http_mt *m, uint64_t now)
{
        for (unsigned u = 0; u < m->cfg.n_urls; u++) {
                const struct site_watch *w = &m->watch[u];
                if (w->outstanding && now - w->heard_ms >= stall_window(m, w))
                        site_stalled(m, u, now);
        }
}
