/* Sessions (accepted ESME connections): their output buffers, the flush
 * pass that writes every session with pending output once per loop turn
 * (or drips it under the `slow` fault), the `reset` fault, and input framing:
 * each whole PDU read is handed to sim_on_pdu. A session whose output piles
 * up past SIM_OUT_HIGH stops being read until the peer drains it. Engine
 * thread only. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sim_engine.h"

/* ---- sessions and output ---- */

struct sim_sess *sim_sess_by_id(struct smsc_sim *s, uint64_t id)
{
        size_t slot = (size_t)(id % SIM_MAX_SESS);
        struct sim_sess *ss = &s->sess[slot];
        return (ss->fd >= 0 && ss->id == id) ? ss : NULL;
}

void sim_sess_mark_dirty(struct smsc_sim *s, struct sim_sess *ss)
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
        sim_sess_mark_dirty(s, ss);
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
        if ((!ss->read_paused && ss->state != SIM_SESS_CLOSING) || ss->tls_fin)
                ev |= EPOLLIN;
        if (sim_sess_out_pending(ss) && !s->smsc[ss->smsc].f.slow_bps)
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
        sim_tls_end(ss);
        ss->fl = NULL;
        ss->n_fl = ss->cap_fl = 0;
        ss->in = ss->out = NULL;
        ss->in_len = ss->out_len = ss->out_off = ss->out_cap = 0;
        ss->state = SIM_SESS_OPEN;
}

/* Send buf[*off..len) on fd, at most `limit` bytes, advancing *off; stops
 * when the socket would block. Returns -1 on a send error (the caller closes
 * the session), else 0. */
static int send_upto(int fd, const uint8_t *buf, size_t len, size_t *off, size_t limit)
{
        while (len > *off && limit) {
                size_t n = len - *off;
                if (n > limit)
                        n = limit;
                ssize_t w = send(fd, buf + *off, n, MSG_NOSIGNAL);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN || errno == EWOULDBLOCK)
                                break;
                        return -1;
                }
                *off += (size_t)w;
                limit -= (size_t)w;
        }
        return 0;
}

/* Write what is pending (at most `limit` bytes). Returns -1 if the session
 * was closed. */
static int sess_write_tls(struct smsc_sim *s, struct sim_sess *ss, size_t limit);

static int sess_write(struct smsc_sim *s, struct sim_sess *ss, size_t limit)
{
        if (ss->tls || ss->tls_stall)
                return sess_write_tls(s, ss, limit);
        if (send_upto(ss->fd, ss->out, ss->out_len, &ss->out_off, limit) < 0) {
                sim_sess_close(s, ss, 0);
                return -1;
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

/* sess_write for a TLS session: the plaintext becomes records first, the
 * records are what goes out (and what the `slow` fault drips). */
static int sess_write_tls(struct smsc_sim *s, struct sim_sess *ss, size_t limit)
{
        if (sim_tls_encrypt(s, ss) < 0) {
                sim_sess_close(s, ss, 0);
                return -1;
        }
        if (ss->state == SIM_SESS_CLOSING && ss->tls_fin == SIM_FIN_NOTIFY) {
                sim_tls_close_notify(ss);               /* after the unbind_resp */
                ss->tls_fin = SIM_FIN_NOTIFIED;
        }
        if (send_upto(ss->fd, ss->cout, ss->cout_len, &ss->cout_off, limit) < 0) {
                sim_sess_close(s, ss, 0);
                return -1;
        }
        if (ss->cout_off == ss->cout_len) {
                ss->cout_off = ss->cout_len = 0;
                if (ss->state == SIM_SESS_CLOSING && ss->tls_fin) {
                        shutdown(ss->fd, SHUT_WR);      /* the peer reads to the end */
                        return 0;
                }
                if (ss->state == SIM_SESS_CLOSING) {
                        sim_sess_close(s, ss, 0);
                        return -1;
                }
        }
        return 0;
}

static void sess_process_input(struct smsc_sim *s, struct sim_sess *ss);
static void tls_pump(struct smsc_sim *s, struct sim_sess *ss);

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
                } else if (sim_sess_out_pending(ss)) {
                        sim_arm_drip(s);
                }
                int was_paused = ss->read_paused;
                ss->read_paused = sim_sess_out_pending(ss) > SIM_OUT_HIGH;
                sess_set_events(s, ss);
                if (was_paused && !ss->read_paused && ss->in_len)
                        sess_process_input(s, ss);
                if (was_paused && !ss->read_paused && ss->fd >= 0 && ss->tls)
                        tls_pump(s, ss);
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

void sim_on_drip(struct smsc_sim *s)
{
        s->drip_armed = 0;
        int again = 0;
        for (int i = 0; i < SIM_MAX_SESS; i++) {
                struct sim_sess *ss = &s->sess[i];
                if (ss->fd < 0)
                        continue;
                uint32_t bps = s->smsc[ss->smsc].f.slow_bps;
                if (!bps) {
                        if (sim_sess_out_pending(ss))
                                sim_sess_mark_dirty(s, ss);
                        continue;
                }
                if (!sim_sess_out_pending(ss))
                        continue;
                ss->drip_credit += (double)bps / 100.0;
                size_t chunk = (size_t)ss->drip_credit;
                if (chunk) {
                        ss->drip_credit -= (double)chunk;
                        if (sess_write(s, ss, chunk) < 0)
                                continue;
                }
                if (sim_sess_out_pending(ss))
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
                if (sim_sess_out_pending(ss) > SIM_OUT_HIGH) {
                        ss->read_paused = 1;
                        break;
                }
                ssize_t n = smx_frame_peek(ss->in + off, ss->in_len - off, s->popts.max_pdu);
                if (n == 0)
                        break;
                if (n < 0) {
                        /* command_length unusable: nack if the header is here, then close */
                        if (ss->in_len - off >= SMPP_HEADER_LEN &&
                            !sim_resp_drop(&s->smsc[ss->smsc], 0)) {
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
                        sim_sess_mark_dirty(s, ss);
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

/* Plaintext waiting in the session's TLS state goes to the framing. */
static void tls_pump(struct smsc_sim *s, struct sim_sess *ss)
{
        uint64_t id = ss->id;
        while (ss->in_len < SIM_IN_CAP && !ss->read_paused && ss->state != SIM_SESS_CLOSING) {
                long n = sim_tls_read(s, ss, ss->in + ss->in_len, SIM_IN_CAP - ss->in_len);
                if (n < 0) {
                        ss->state = SIM_SESS_CLOSING;   /* an alert of ours may go out */
                        break;
                }
                if (n == 0)
                        break;
                ss->in_len += (size_t)n;
                sess_process_input(s, ss);
                if (!sim_sess_by_id(s, id))
                        return;
        }
        sim_sess_mark_dirty(s, ss);
}

/* recv what the socket has into buf: the byte count, or 0 when there was
 * nothing (would block) or the session was closed (the peer's EOF or a
 * socket error). */
static size_t sess_recv(struct smsc_sim *s, struct sim_sess *ss, uint8_t *buf, size_t cap)
{
        ssize_t r = recv(ss->fd, buf, cap, 0);
        if (r > 0)
                return (size_t)r;
        if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
                sim_sess_close(s, ss, 0);
        return 0;
}

static void tls_on_readable(struct smsc_sim *s, struct sim_sess *ss)
{
        uint8_t raw[16384];
        size_t r = sess_recv(s, ss, raw, sizeof raw);
        if (r == 0)
                return;
        int k = sim_tls_input(s, ss, raw, r);
        if (k < 0) {
                ss->state = SIM_SESS_CLOSING;   /* its alert goes out, then the close */
                sim_sess_mark_dirty(s, ss);
                return;
        }
        if (k == 0) {
                sim_sess_mark_dirty(s, ss);     /* handshake records */
                return;
        }
        tls_pump(s, ss);
}

void sim_sess_on_readable(struct smsc_sim *s, struct sim_sess *ss)
{
        if (ss->tls_fin && ss->state == SIM_SESS_CLOSING) {
                /* after our FIN: read until the peer closes (its close_notify
                 * is counted, the rest dropped) */
                uint8_t sink[16384];
                ssize_t r = recv(ss->fd, sink, sizeof sink, 0);
                if (r > 0)
                        sim_tls_after_fin(s, ss, sink, (size_t)r);
                if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
                        sim_sess_close(s, ss, 0);
                return;
        }
        if (ss->read_paused || ss->state == SIM_SESS_CLOSING)
                return;
        if (ss->tls || ss->tls_stall) {
                tls_on_readable(s, ss);
                return;
        }
        if (ss->in_len >= SIM_IN_CAP)
                return;
        size_t r = sess_recv(s, ss, ss->in + ss->in_len, SIM_IN_CAP - ss->in_len);
        if (r == 0)
                return;
        ss->in_len += r;
        sess_process_input(s, ss);
        if (ss->fd >= 0 && ss->read_paused)
                sim_sess_mark_dirty(s, ss);
}
