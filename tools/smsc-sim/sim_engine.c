/* The simulator's engine: one epoll thread serving every SMSC's listening
 * socket, every session and the control socket, plus a binary-heap timer
 * queue for everything delayed (responses, DRs, re-sends, MOs, the fault plan).
 *
 * A loop turn: epoll_wait (timeout = next timer), take the lock, read each
 * readable session in one big chunk and hand every whole PDU to sim_on_pdu
 * (answers are appended to the session's output buffer), run due timers, then
 * write every session with pending output once. This file holds the loop and
 * the public API (sim.h); sim_timer.c, sim_sess.c and sim_listen.c the rest
 * (sim_engine.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "sim_engine.h"

/* ---- the loop ---- */

static void run_timers(struct smsc_sim *s)
{
        uint64_t now = sim_now_ns();
        int budget = 100000;
        while (s->n_timers && s->timers[0].at <= now && budget--) {
                struct sim_timer t;
                sim_timer_pop(s, &t);
                switch (t.kind) {
                case SIM_T_RESP: sim_on_timer_resp(s, &t); break;
                case SIM_T_DR: sim_on_timer_dr(s, &t); break;
                case SIM_T_DLV_CHECK: sim_on_timer_dlv_check(s); break;
                case SIM_T_DLV_RETRY: sim_on_timer_dlv_retry(s); break;
                case SIM_T_MO: sim_on_timer_mo(s, &t); break;
                case SIM_T_PLAN: sim_on_timer_plan(s, &t); break;
                case SIM_T_DRIP: sim_on_drip(s); break;
                case SIM_T_ELINK: sim_on_timer_elink(s, &t); break;
                default: break;
                }
        }
}

static void *engine_main(void *arg)
{
        struct smsc_sim *s = arg;
        struct epoll_event evs[256];
        for (;;) {
                int timeout = -1;
                pthread_mutex_lock(&s->lock);
                if (s->stop) {
                        pthread_mutex_unlock(&s->lock);
                        break;
                }
                if (s->n_timers) {
                        uint64_t now = sim_now_ns(), at = s->timers[0].at;
                        timeout = at <= now ? 0 : (int)((at - now + 999999) / 1000000);
                        if (timeout > 1000)
                                timeout = 1000;
                }
                pthread_mutex_unlock(&s->lock);
                int n = epoll_wait(s->ep, evs, 256, timeout);
                pthread_mutex_lock(&s->lock);
                for (int i = 0; i < n; i++) {
                        uint32_t type = (uint32_t)(evs[i].data.u64 >> 32);
                        uint32_t idx = (uint32_t)evs[i].data.u64;
                        if (type == EP_SESS) {
                                struct sim_sess *ss = &s->sess[idx];
                                if (ss->fd < 0)
                                        continue;
                                if ((evs[i].events & (EPOLLHUP | EPOLLERR)) && !ss->tls_fin &&
                                    (ss->state == SIM_SESS_CLOSING || ss->read_paused)) {
                                        /* not reading it any more: the peer is gone */
                                        sim_sess_close(s, ss, 0);
                                        continue;
                                }
                                if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                                        sim_sess_on_readable(s, ss);
                                if (ss->fd >= 0 && (evs[i].events & EPOLLOUT))
                                        sim_sess_mark_dirty(s, ss);
                        } else if (type == EP_LISTEN) {
                                sim_on_accept(s, &s->smsc[idx]);
                        } else if (type == EP_WAKE) {
                                uint64_t v;
                                ssize_t r = read(s->wake_fd, &v, sizeof(v));
                                (void)r;
                        } else if (type == EP_CTL) {
                                sim_ctl_on_accept(s);
                        }
                }
                run_timers(s);
                sim_flush_all(s);
                pthread_mutex_unlock(&s->lock);
        }
        return NULL;
}

/* ---- public API ---- */

void sim_options_init(struct sim_options *o)
{
        memset(o, 0, sizeof(*o));
        o->sites = "dc3,bos";
        o->smscs_per_site = 2;
        o->host = "127.0.0.1";
        o->port_base = 2775;
        o->system_id = "smsmux";
        o->password = "secret";
        o->rebind_interval_s = 30;
        o->mt_records_max = 100000;
}

static void sim_free(struct smsc_sim *s)
{
        for (int i = 0; i < SIM_MAX_SESS; i++) {
                struct sim_sess *ss = &s->sess[i];
                if (ss->fd >= 0)
                        close(ss->fd);
                free(ss->in);
                free(ss->out);
                free(ss->fl);
                sim_tls_end(ss);
        }
        sim_tls_free(s);
        free(s->pending);
        for (int i = 0; i < s->n_smsc; i++) {
                if (s->smsc[i].listen_fd >= 0)
                        close(s->smsc[i].listen_fd);
                free(s->smsc[i].dq);
        }
        sim_mts_free(s);
        for (size_t i = 0; i < s->n_timers; i++)
                if (s->timers[i].kind == SIM_T_RESP)
                        free(s->timers[i].p);
        free(s->timers);
        for (size_t i = 0; i < s->n_dlv; i++)
                free(s->dlv[i].pdu);
        free(s->dlv);
        free(s->plan);
        if (s->ctl_fd >= 0) {
                close(s->ctl_fd);
                unlink(s->ctl_path);
        }
        if (s->wake_fd >= 0)
                close(s->wake_fd);
        if (s->ep >= 0)
                close(s->ep);
        pthread_mutex_destroy(&s->lock);
        free(s);
}

int sim_start(const struct sim_options *o, struct smsc_sim **out, char *err, size_t err_len)
{
        char dummy[8];
        if (!err) {
                err = dummy;
                err_len = sizeof(dummy);
        }
        err[0] = 0;
        struct smsc_sim *s = calloc(1, sizeof(*s));
        if (!s) {
                snprintf(err, err_len, "out of memory");
                return -ENOMEM;
        }
        pthread_mutex_init(&s->lock, NULL);
        s->ep = epoll_create1(EPOLL_CLOEXEC);
        s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        s->ctl_fd = -1;
        for (int i = 0; i < SIM_MAX_SESS; i++)
                s->sess[i].fd = -1;
        s->start_ns = sim_now_ns();
        s->rng = o->seed ? o->seed : (uint64_t)time(NULL) ^ s->start_ns;
        s->rng = s->rng * 0x9E3779B97F4A7C15ull | 1;
        s->rebind_interval_s = o->rebind_interval_s;
        s->mt_records_max = o->mt_records_max ? o->mt_records_max : 100000;
        s->mo_ref = (uint32_t)(s->rng >> 40);
        if (o->ledger_path)
                snprintf(s->ledger_path, sizeof(s->ledger_path), "%s", o->ledger_path);
        int rc;
        if (s->ep < 0 || s->wake_fd < 0) {
                rc = -errno;
                snprintf(err, err_len, "epoll/eventfd: %s", strerror(errno));
                goto fail;
        }
        struct epoll_event e = { .events = EPOLLIN, .data.u64 = EP_TAG(EP_WAKE, 0) };
        epoll_ctl(s->ep, EPOLL_CTL_ADD, s->wake_fd, &e);
        struct sim_cfg cf = { 0 };
        if (o->config_file && (rc = sim_cfg_read(&cf, o->config_file, err, err_len)) < 0)
                goto fail;
        rc = sim_topo_build(s, o, &cf, err, err_len);
        if (rc == 0)
                rc = sim_cfg_apply(s, o, &cf, err, err_len);
        if (rc == 0)
                rc = sim_tls_setup(s, o, &cf, err, err_len);
        sim_cfg_free(&cf);
        if (rc < 0)
                goto fail;
        for (int i = 0; i < s->n_smsc; i++) {
                rc = sim_listen_on(s, &s->smsc[i], err, err_len);
                if (rc < 0)
                        goto fail;
        }
        if (o->control_path) {
                rc = sim_ctl_listen(s, o->control_path, err, err_len);
                if (rc < 0)
                        goto fail;
                struct epoll_event ce = { .events = EPOLLIN, .data.u64 = EP_TAG(EP_CTL, 0) };
                epoll_ctl(s->ep, EPOLL_CTL_ADD, s->ctl_fd, &ce);
        }
        if (o->plan_path) {
                rc = sim_plan_load(s, o->plan_path, err, err_len);
                if (rc < 0)
                        goto fail;
        }
        for (int i = 0; i < s->n_smsc; i++) {
                sim_mo_arm(s, &s->smsc[i]);
                sim_elink_arm(s, &s->smsc[i]);
        }
        rc = pthread_create(&s->thread, NULL, engine_main, s);
        if (rc) {
                snprintf(err, err_len, "pthread_create: %s", strerror(rc));
                rc = -rc;
                goto fail;
        }
        s->running = 1;
        *out = s;
        return 0;
fail:
        sim_free(s);
        return rc < 0 ? rc : -EINVAL;
}

size_t sim_smscs(const struct smsc_sim *s, struct sim_smsc_info *out, size_t max)
{
        size_t n = 0;
        for (int i = 0; i < s->n_smsc && n < max; i++, n++) {
                snprintf(out[n].name, sizeof(out[n].name), "%s", s->smsc[i].name);
                snprintf(out[n].site, sizeof(out[n].site), "%s", s->smsc[i].site);
                snprintf(out[n].host, sizeof(out[n].host), "%s", s->smsc[i].host);
                out[n].port = s->smsc[i].port;
                out[n].tls = s->smsc[i].tls_ctx != NULL;
        }
        return (size_t)s->n_smsc;
}

static void wake(struct smsc_sim *s)
{
        uint64_t one = 1;
        ssize_t r = write(s->wake_fd, &one, sizeof(one));
        (void)r;
}

int sim_ctl(struct smsc_sim *s, const char *command, char *reply, size_t reply_len)
{
        pthread_mutex_lock(&s->lock);
        int rc = sim_ctl_locked(s, command, reply, reply_len);
        pthread_mutex_unlock(&s->lock);
        wake(s);
        return rc;
}

int sim_summary_json(struct smsc_sim *s, char *buf, size_t cap)
{
        pthread_mutex_lock(&s->lock);
        int rc = sim_ledger_json(s, buf, cap, 0);
        pthread_mutex_unlock(&s->lock);
        return rc;
}

int sim_plan_start(struct smsc_sim *s, const char *path, char *err, size_t err_len)
{
        pthread_mutex_lock(&s->lock);
        int rc = sim_plan_load(s, path, err, err_len);
        pthread_mutex_unlock(&s->lock);
        wake(s);
        return rc;
}

void sim_set_dr_hook(struct smsc_sim *s, sim_dr_hook_fn hook, void *arg)
{
        pthread_mutex_lock(&s->lock);
        s->dr_hook = hook;
        s->dr_hook_arg = arg;
        pthread_mutex_unlock(&s->lock);
}

void sim_stop(struct smsc_sim *s)
{
        if (!s)
                return;
        pthread_mutex_lock(&s->lock);
        s->stop = 1;
        pthread_mutex_unlock(&s->lock);
        wake(s);
        if (s->running)
                pthread_join(s->thread, NULL);
        /* stop accepting, then flush what is pending for a moment */
        for (int i = 0; i < s->n_smsc; i++) {
                if (s->smsc[i].listen_fd >= 0) {
                        close(s->smsc[i].listen_fd);
                        s->smsc[i].listen_fd = -1;
                }
        }
        if (s->ledger_path[0]) {
                size_t cap = 1u << 20;
                char *buf = malloc(cap);
                if (buf) {
                        int n = sim_ledger_json(s, buf, cap, 1);
                        if (n > 0) {
                                FILE *f = strcmp(s->ledger_path, "-") ? fopen(s->ledger_path, "w") : stdout;
                                if (f) {
                                        fwrite(buf, 1, (size_t)n, f);
                                        fputc('\n', f);
                                        if (f == stdout)
                                                fflush(f);
                                        else
                                                fclose(f);
                                }
                        }
                        free(buf);
                }
        }
        sim_free(s);
}
