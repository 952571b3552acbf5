/* The simulator's engine: one epoll thread serving every SMSC's listening
 * socket, every session and the control socket, plus a binary-heap timer
 * queue for everything delayed (responses, DRs, re-sends, MOs, the fault plan).
 *
 * A loop turn: epoll_wait (timeout = next timer), take the lock, read each
 * readable session in one big chunk and hand every whole PDU to sim_on_pdu
 * (answers are appended to the session's output buffer), run due timers, then
 * write every session with pending output once. Sessions whose output piles up
 * past SIM_OUT_HIGH stop being read until the peer drains them. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sim_internal.h"

enum { EP_LISTEN = 1, EP_SESS, EP_WAKE, EP_CTL };

#define EP_TAG(type, idx) (((uint64_t)(type) << 32) | (uint32_t)(idx))

uint64_t sim_now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

double sim_rand(struct smsc_sim *s)
{
        /* xorshift64*: good enough for behaviour draws, reproducible by seed */
        uint64_t x = s->rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s->rng = x;
        return (double)((x * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
}

double sim_range_draw(struct smsc_sim *s, const struct sim_range *r)
{
        if (r->exp) {
                double v = -r->lo * log(1.0 - sim_rand(s));
                return r->hi > 0 && v > r->hi ? r->hi : v;
        }
        if (r->hi <= r->lo)
                return r->lo;
        return r->lo + (r->hi - r->lo) * sim_rand(s);
}

/* ---- timers: a min-heap on (at, order) ---- */

static int timer_less(const struct sim_timer *a, const struct sim_timer *b)
{
        return a->at < b->at || (a->at == b->at && a->order < b->order);
}

void sim_timer_add(struct smsc_sim *s, uint64_t at, int kind, uint64_t sess_id, void *p, uint64_t a)
{
        if (s->n_timers == s->cap_timers) {
                size_t nc = s->cap_timers ? s->cap_timers * 2 : 1024;
                struct sim_timer *nt = realloc(s->timers, nc * sizeof(*nt));
                if (!nt) {
                        if (kind == SIM_T_RESP)
                                free(p);
                        return;
                }
                s->timers = nt;
                s->cap_timers = nc;
        }
        size_t i = s->n_timers++;
        struct sim_timer t = { at, s->timer_order++, kind, sess_id, p, a };
        while (i > 0) {
                size_t parent = (i - 1) / 2;
                if (!timer_less(&t, &s->timers[parent]))
                        break;
                s->timers[i] = s->timers[parent];
                i = parent;
        }
        s->timers[i] = t;
}

static void timer_pop(struct smsc_sim *s, struct sim_timer *out)
{
        *out = s->timers[0];
        struct sim_timer last = s->timers[--s->n_timers];
        size_t i = 0, n = s->n_timers;
        for (;;) {
                size_t l = 2 * i + 1, r = l + 1, m = i;
                const struct sim_timer *best = &last;
                if (l < n && timer_less(&s->timers[l], best)) {
                        m = l;
                        best = &s->timers[l];
                }
                if (r < n && timer_less(&s->timers[r], best))
                        m = r;
                if (m == i)
                        break;
                s->timers[i] = s->timers[m];
                i = m;
        }
        if (n)
                s->timers[i] = last;
}

/* ---- sessions and output ---- */

struct sim_sess *sim_sess_by_id(struct smsc_sim *s, uint64_t id)
{
        size_t slot = (size_t)(id % SIM_MAX_SESS);
        struct sim_sess *ss = &s->sess[slot];
        return (ss->fd >= 0 && ss->id == id) ? ss : NULL;
}

static void sess_mark_dirty(struct smsc_sim *s, struct sim_sess *ss)
{
        if (!ss->dirty) {
                ss->dirty = 1;
                s->flush_list[s->n_flush++] = (int)(ss - s->sess);
        }
}

uint8_t *sim_out_reserve(struct smsc_sim *s, struct sim_sess *ss, size_t n)
{
        (void)s;
        if (ss->out_off && ss->out_off == ss->out_len)
                ss->out_off = ss->out_len = 0;
        if (ss->out_len + n > ss->out_cap) {
                if (ss->out_off) {
                        memmove(ss->out, ss->out + ss->out_off, ss->out_len - ss->out_off);
                        ss->out_len -= ss->out_off;
                        ss->out_off = 0;
                }
                if (ss->out_len + n > ss->out_cap) {
                        size_t nc = ss->out_cap ? ss->out_cap : 64 * 1024;
                        while (nc < ss->out_len + n)
                                nc *= 2;
                        uint8_t *no = realloc(ss->out, nc);
                        if (!no)
                                return NULL;
                        ss->out = no;
                        ss->out_cap = nc;
                }
        }
        return ss->out + ss->out_len;
}

void sim_out_commit(struct smsc_sim *s, struct sim_sess *ss, size_t n)
{
        ss->out_len += n;
        sess_mark_dirty(s, ss);
}

int sim_out_append(struct smsc_sim *s, struct sim_sess *ss, const uint8_t *p, size_t n)
{
        uint8_t *w = sim_out_reserve(s, ss, n);
        if (!w)
                return -ENOMEM;
        memcpy(w, p, n);
        sim_out_commit(s, ss, n);
        return 0;
}

static void sess_set_events(struct smsc_sim *s, struct sim_sess *ss)
{
        uint32_t ev = 0;
        if (!ss->read_paused && ss->state != SIM_SESS_CLOSING)
                ev |= EPOLLIN;
        if (ss->out_len > ss->out_off && !s->smsc[ss->smsc].f.slow_bps)
                ev |= EPOLLOUT;
        if (ev == ss->ep_events)
                return;
        struct epoll_event e = { .events = ev, .data.u64 = EP_TAG(EP_SESS, ss - s->sess) };
        epoll_ctl(s->ep, EPOLL_CTL_MOD, ss->fd, &e);
        ss->ep_events = ev;
}

void sim_sess_close(struct smsc_sim *s, struct sim_sess *ss, int rst)
{
        if (ss->fd < 0)
                return;
        if (rst) {
                struct linger lg = { 1, 0 };
                setsockopt(ss->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        }
        epoll_ctl(s->ep, EPOLL_CTL_DEL, ss->fd, NULL);
        close(ss->fd);
        ss->fd = -1;
        sim_on_sess_closed(s, ss);
        free(ss->in);
        free(ss->out);
        free(ss->fl);
        ss->fl = NULL;
        ss->n_fl = ss->cap_fl = 0;
        ss->in = ss->out = NULL;
        ss->in_len = ss->out_len = ss->out_off = ss->out_cap = 0;
        ss->state = SIM_SESS_OPEN;
}

/* Write what is pending (at most `limit` bytes). Returns -1 if the session
 * was closed. */
static int sess_write(struct smsc_sim *s, struct sim_sess *ss, size_t limit)
{
        while (ss->out_len > ss->out_off && limit) {
                size_t n = ss->out_len - ss->out_off;
                if (n > limit)
                        n = limit;
                ssize_t w = send(ss->fd, ss->out + ss->out_off, n, MSG_NOSIGNAL);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN || errno == EWOULDBLOCK)
                                break;
                        sim_sess_close(s, ss, 0);
                        return -1;
                }
                ss->out_off += (size_t)w;
                limit -= (size_t)w;
        }
        if (ss->out_off == ss->out_len) {
                ss->out_off = ss->out_len = 0;
                if (ss->state == SIM_SESS_CLOSING) {
                        sim_sess_close(s, ss, 0);
                        return -1;
                }
        }
        return 0;
}

static void sess_process_input(struct smsc_sim *s, struct sim_sess *ss);

void sim_flush_all(struct smsc_sim *s)
{
        for (int i = 0; i < s->n_flush; i++) {
                struct sim_sess *ss = &s->sess[s->flush_list[i]];
                ss->dirty = 0;
                if (ss->fd < 0)
                        continue;
                if (!s->smsc[ss->smsc].f.slow_bps) {
                        if (sess_write(s, ss, SIZE_MAX) < 0)
                                continue;
                } else if (ss->out_len > ss->out_off) {
                        sim_arm_drip(s);
                }
                int was_paused = ss->read_paused;
                ss->read_paused = ss->out_len - ss->out_off > SIM_OUT_HIGH;
                sess_set_events(s, ss);
                if (was_paused && !ss->read_paused && ss->in_len)
                        sess_process_input(s, ss);
        }
        s->n_flush = 0;
}

void sim_arm_drip(struct smsc_sim *s)
{
        if (s->drip_armed)
                return;
        s->drip_armed = 1;
        sim_timer_add(s, sim_now_ns() + 10000000ull, SIM_T_DRIP, 0, NULL, 0);
}

/* Send what is pending, then half a PDU header, then RST (the `reset` fault). */
void sim_sess_reset(struct smsc_sim *s, struct sim_sess *ss)
{
        uint8_t hdr[SMPP_HEADER_LEN];
        if (smx_pdu_encode_header_only(hdr, sizeof(hdr), SMPP_ENQUIRE_LINK, SMPP_ESME_ROK, ss->seq) > 0 &&
            sim_out_append(s, ss, hdr, SMPP_HEADER_LEN / 2) == 0) {
                if (sess_write(s, ss, SIZE_MAX) < 0)
                        return;
        }
        sim_sess_close(s, ss, 1);
}

static void on_drip(struct smsc_sim *s)
{
        s->drip_armed = 0;
        int again = 0;
        for (int i = 0; i < SIM_MAX_SESS; i++) {
                struct sim_sess *ss = &s->sess[i];
                if (ss->fd < 0)
                        continue;
                uint32_t bps = s->smsc[ss->smsc].f.slow_bps;
                if (!bps) {
                        if (ss->out_len > ss->out_off)
                                sess_mark_dirty(s, ss);
                        continue;
                }
                if (ss->out_len <= ss->out_off)
                        continue;
                ss->drip_credit += (double)bps / 100.0;
                size_t chunk = (size_t)ss->drip_credit;
                if (chunk) {
                        ss->drip_credit -= (double)chunk;
                        if (sess_write(s, ss, chunk) < 0)
                                continue;
                }
                if (ss->out_len > ss->out_off)
                        again = 1;
        }
        if (again)
                sim_arm_drip(s);
}

/* Frame and handle every whole PDU in the input buffer. */
static void sess_process_input(struct smsc_sim *s, struct sim_sess *ss)
{
        size_t off = 0;
        uint64_t id = ss->id;
        while (off < ss->in_len) {
                if (ss->out_len - ss->out_off > SIM_OUT_HIGH) {
                        ss->read_paused = 1;
                        break;
                }
                ssize_t n = smx_frame_peek(ss->in + off, ss->in_len - off, s->popts.max_pdu);
                if (n == 0)
                        break;
                if (n < 0) {
                        /* command_length unusable: nack if the header is here, then close */
                        if (ss->in_len - off >= SMPP_HEADER_LEN) {
                                uint8_t *w = sim_out_reserve(s, ss, SMPP_HEADER_LEN);
                                uint32_t seq = smx_get_u32(ss->in + off + 12);
                                if (w) {
                                        ssize_t k = smx_pdu_encode_header_only(w, SMPP_HEADER_LEN,
                                                SMPP_GENERIC_NACK, SMPP_ESME_RINVCMDLEN, seq);
                                        if (k > 0)
                                                sim_out_commit(s, ss, (size_t)k);
                                }
                                s->smsc[ss->smsc].c.generic_nacks_sent++;
                        }
                        ss->state = SIM_SESS_CLOSING;
                        ss->in_len = 0;
                        sess_mark_dirty(s, ss);
                        return;
                }
                sim_on_pdu(s, ss, ss->in + off, (size_t)n);
                if (!sim_sess_by_id(s, id))
                        return;
                off += (size_t)n;
                if (ss->state == SIM_SESS_CLOSING) {
                        ss->in_len = 0;
                        return;
                }
        }
        if (off) {
                memmove(ss->in, ss->in + off, ss->in_len - off);
                ss->in_len -= off;
        }
}

static void sess_on_readable(struct smsc_sim *s, struct sim_sess *ss)
{
        if (ss->read_paused || ss->state == SIM_SESS_CLOSING)
                return;
        if (ss->in_len >= SIM_IN_CAP)
                return;
        ssize_t r = recv(ss->fd, ss->in + ss->in_len, SIM_IN_CAP - ss->in_len, 0);
        if (r == 0) {
                sim_sess_close(s, ss, 0);
                return;
        }
        if (r < 0) {
                if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                        sim_sess_close(s, ss, 0);
                return;
        }
        ss->in_len += (size_t)r;
        sess_process_input(s, ss);
        if (ss->fd >= 0 && ss->read_paused)
                sess_mark_dirty(s, ss);
}

static void on_accept(struct smsc_sim *s, struct sim_smsc *m)
{
        for (int burst = 0; burst < 64 && m->listen_fd >= 0; burst++) {
                int fd = accept4(m->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0)
                        return;
                sim_ledger_attempt(s, m);
                if (m->f.killed) {
                        close(fd);
                        continue;
                }
                int slot = -1;
                for (int i = 0; i < SIM_MAX_SESS; i++) {
                        int j = (int)((s->next_sess_id + (uint64_t)i) % SIM_MAX_SESS);
                        if (s->sess[j].fd < 0) {
                                slot = j;
                                break;
                        }
                }
                if (slot < 0) {
                        close(fd);
                        continue;
                }
                int one = 1;
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                struct sim_sess *ss = &s->sess[slot];
                memset(ss, 0, sizeof(*ss));
                ss->in = malloc(SIM_IN_CAP);
                if (!ss->in) {
                        close(fd);
                        ss->fd = -1;
                        continue;
                }
                /* ids are unique for ever and map back to their slot */
                uint64_t id = s->next_sess_id + SIM_MAX_SESS;
                id -= id % SIM_MAX_SESS;
                id += (uint64_t)slot;
                if (id <= s->next_sess_id)
                        id += SIM_MAX_SESS;
                s->next_sess_id = id + 1;
                ss->id = id;
                ss->fd = fd;
                ss->smsc = m->index;
                ss->seq = 1;
                ss->rx_pos = -1;
                ss->ep_events = EPOLLIN;
                struct epoll_event e = { .events = EPOLLIN, .data.u64 = EP_TAG(EP_SESS, slot) };
                if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &e) < 0) {
                        free(ss->in);
                        ss->in = NULL;
                        close(fd);
                        ss->fd = -1;
                }
        }
}

/* ---- listeners, kill and restore ---- */

static int listen_on(struct smsc_sim *s, struct sim_smsc *m, char *err, size_t err_len)
{
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(m->port) };
        if (inet_pton(AF_INET, m->host, &a.sin_addr) != 1) {
                close(fd);
                if (err)
                        snprintf(err, err_len, "bad host address %s (IPv4 expected)", m->host);
                return -EINVAL;
        }
        if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 512) < 0) {
                int e = errno;
                close(fd);
                if (err)
                        snprintf(err, err_len, "%s: cannot listen on %s:%u: %s", m->name, m->host,
                                 m->port, strerror(e));
                return -e;
        }
        socklen_t al = sizeof(a);
        getsockname(fd, (struct sockaddr *)&a, &al);
        m->port = ntohs(a.sin_port);
        struct epoll_event e = { .events = EPOLLIN, .data.u64 = EP_TAG(EP_LISTEN, m->index) };
        epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &e);
        m->listen_fd = fd;
        return 0;
}

int sim_smsc_kill(struct smsc_sim *s, struct sim_smsc *m)
{
        m->f.killed = 1;
        for (int i = 0; i < SIM_MAX_SESS; i++)
                if (s->sess[i].fd >= 0 && s->sess[i].smsc == m->index)
                        sim_sess_close(s, &s->sess[i], 0);
        if (!m->k.kill_accept_close && m->listen_fd >= 0) {
                epoll_ctl(s->ep, EPOLL_CTL_DEL, m->listen_fd, NULL);
                close(m->listen_fd);
                m->listen_fd = -1;
        }
        return 0;
}

int sim_smsc_restore(struct smsc_sim *s, struct sim_smsc *m)
{
        m->f.killed = 0;
        if (m->listen_fd < 0)
                return listen_on(s, m, NULL, 0);
        return 0;
}

/* ---- the loop ---- */

static void run_timers(struct smsc_sim *s)
{
        uint64_t now = sim_now_ns();
        int budget = 100000;
        while (s->n_timers && s->timers[0].at <= now && budget--) {
                struct sim_timer t;
                timer_pop(s, &t);
                switch (t.kind) {
                case SIM_T_RESP: sim_on_timer_resp(s, &t); break;
                case SIM_T_DR: sim_on_timer_dr(s, &t); break;
                case SIM_T_DLV_CHECK: sim_on_timer_dlv_check(s); break;
                case SIM_T_DLV_RETRY: sim_on_timer_dlv_retry(s); break;
                case SIM_T_MO: sim_on_timer_mo(s, &t); break;
                case SIM_T_PLAN: sim_on_timer_plan(s, &t); break;
                case SIM_T_DRIP: on_drip(s); break;
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
                                if ((evs[i].events & (EPOLLHUP | EPOLLERR)) &&
                                    (ss->state == SIM_SESS_CLOSING || ss->read_paused)) {
                                        /* not reading it any more: the peer is gone */
                                        sim_sess_close(s, ss, 0);
                                        continue;
                                }
                                if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                                        sess_on_readable(s, ss);
                                if (ss->fd >= 0 && (evs[i].events & EPOLLOUT))
                                        sess_mark_dirty(s, ss);
                        } else if (type == EP_LISTEN) {
                                on_accept(s, &s->smsc[idx]);
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
}

static int add_sites(struct smsc_sim *s, const struct sim_options *o, char *err, size_t err_len)
{
        const char *p = o->sites && *o->sites ? o->sites : "dc3,bos";
        unsigned per = o->smscs_per_site ? o->smscs_per_site : 1;
        if (per > 64) {
                snprintf(err, err_len, "at most 64 SMSCs per site");
                return -EINVAL;
        }
        while (*p) {
                const char *e = strchr(p, ',');
                size_t n = e ? (size_t)(e - p) : strlen(p);
                if (n == 0 || n >= SIM_NAME_MAX - 8) {
                        snprintf(err, err_len, "bad site name in --sites");
                        return -EINVAL;
                }
                int si = s->n_sites++;
                memcpy(s->sites[si], p, n);
                s->sites[si][n] = 0;
                for (unsigned k = 1; k <= per; k++) {
                        if (s->n_smsc >= SIM_MAX_SMSCS) {
                                snprintf(err, err_len, "too many SMSCs (max %d)", SIM_MAX_SMSCS);
                                return -EINVAL;
                        }
                        if (o->port_base && o->port_base + (unsigned)s->n_smsc > 65535u) {
                                snprintf(err, err_len, "--port-base too high for %d SMSCs", s->n_smsc + 1);
                                return -EINVAL;
                        }
                        struct sim_smsc *m = &s->smsc[s->n_smsc];
                        m->index = s->n_smsc;
                        char site[SIM_NAME_MAX];
                        memcpy(site, s->sites[si], sizeof(site));
                        snprintf(m->name, sizeof(m->name), "smsc%u.%.23s", (unsigned)(uint8_t)k, site);
                        memcpy(m->site, site, sizeof(m->site));
                        m->site_index = si;
                        snprintf(m->host, sizeof(m->host), "%s", o->host ? o->host : "127.0.0.1");
                        m->port = o->port_base ? (uint16_t)(o->port_base + (unsigned)s->n_smsc) : 0;
                        m->listen_fd = -1;
                        m->f.hostile_case = -1;
                        sim_knobs_default(&m->k, o);
                        s->n_smsc++;
                }
                p += n;
                if (*p == ',')
                        p++;
        }
        return s->n_smsc ? 0 : -EINVAL;
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
        }
        free(s->pending);
        for (int i = 0; i < s->n_smsc; i++) {
                if (s->smsc[i].listen_fd >= 0)
                        close(s->smsc[i].listen_fd);
                free(s->smsc[i].dq);
        }
        for (size_t i = 0; i < s->n_timers; i++)
                if (s->timers[i].kind == SIM_T_RESP)
                        free(s->timers[i].p);
        free(s->timers);
        for (size_t i = 0; i < s->n_mts; i++)
                free(s->mts[i]);
        free(s->mts);
        free(s->mt_hash);
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
        rc = add_sites(s, o, err, err_len);
        if (rc < 0)
                goto fail;
        if (o->config_file) {
                rc = sim_config_load(s, o->config_file, err, err_len);
                if (rc < 0)
                        goto fail;
        }
        for (int i = 0; i < s->n_smsc; i++) {
                rc = listen_on(s, &s->smsc[i], err, err_len);
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
