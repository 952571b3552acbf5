/* blast: a raw pipelined SMPP load tool, in two roles.
 *
 * Client (default): binds N transceiver connections, then keeps each one
 * full of pre-encoded submit_sm PDUs (up to --window outstanding, written in
 * batches of --batch) and counts submit_sm_resp. Prints a summary to stderr
 * and, as the last stdout line, `submit_per_s=<number>`. This measures an
 * SMSC (smsc-sim), and is the no-library baseline the dispatcher is compared
 * against. By default every PDU is a memcpy of ONE pre-encoded submit_sm
 * with a new sequence number; with --encode each submit_sm is encoded afresh
 * by the codec (smx_pdu_encode) with its own sequence number, its own text
 * ("blast " + a 17-digit counter, 23 characters like the default) and its
 * own 16-octet message identity TLV, as a real pipelined client (or smsmux)
 * must do.
 *
 * Sink (--sink): a trivial SMSC that accepts any bind and answers every
 * submit_sm with submit_sm_resp OK as fast as it can (and enquire_link,
 * unbind). Prints `listening HOST:PORT` and `ready`; on SIGINT/SIGTERM prints
 * `bytes_in=` and `bytes_out=` (on the wire), then `submit_sm=<count>`, and
 * exits.
 * With --tls-cert FILE --tls-key FILE the sink speaks TLS only (sink_tls.c).
 * With --dr-lag N (1..65536) the sink also answers each submit_sm that asks
 * for a delivery receipt (registered_delivery & 3 == 1) with a DR
 * deliver_sm (esm_class SMSC receipt, receipted_message_id and
 * message_state DELIVERED TLVs, the usual receipt text), written N
 * receipt-asking submit_sm later on the same connection: a receipt comes
 * after its submit_sm_resp, as from a real SMSC, and the dispatcher's
 * whole DR path (put, deliver_sm, correlation hit, DR event, answer) is
 * measured. Receipts still queued when a connection closes are not sent.
 *
 * Both are one epoll thread; PDUs are framed with smx_frame_peek. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pdu/pdu.h"
#include "sink_tls.h"

#define BUF_CAP (1u << 20)

struct conn {
        int fd;
        uint8_t *in, *out;
        size_t in_len, out_off, out_len;
        uint64_t sent, acked, failed;
        uint32_t seq;
        uint64_t msgid;
        int ep_out;             /* EPOLLOUT is being watched */
        struct sink_tls tls;    /* sink with TLS: the connection's TLS state */
        uint64_t bytes_in, bytes_out;   /* sink, plain: on the wire */
        uint64_t *dr_ids;               /* sink --dr-lag: message ids owed a receipt */
        unsigned dr_head, dr_n;
        uint32_t dr_seq;                /* sink: deliver_sm sequence numbers */
};

struct cfg {
        const char *host, *system_id, *password;
        unsigned port, conns, window, batch;
        uint64_t count;
        double seconds;
        int sink;
        int regdel;
        int encode;             /* --encode: encode each submit_sm afresh */
        const char *tls_cert, *tls_key; /* sink: TLS only */
        unsigned dr_lag;                /* sink: receipts, this many submit_sm late (0: none) */
};

static unsigned sink_dr_lag;            /* cfg.dr_lag, for sink_answer */

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
        (void)sig;
        stop_flag = 1;
}

/* CPU time of the calling thread, user and kernel (blast's client is one
 * thread): the same measure as bench_e2e's schedstat CPU per MT. */
static double thread_cpu_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
        while (n) {
                ssize_t w = write(fd, p, n);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -1;
                }
                p += w;
                n -= (size_t)w;
        }
        return 0;
}

/* Read exactly one PDU, blocking (the bind_resp; what follows it, such as
 * queued DRs, stays in the socket for the main loop). */
static ssize_t read_pdu_blocking(int fd, uint8_t *buf, size_t cap)
{
        size_t have = 0, want = SMPP_HEADER_LEN;
        while (have < want) {
                ssize_t r = read(fd, buf + have, want - have);
                if (r <= 0)
                        return -1;
                have += (size_t)r;
                if (have == SMPP_HEADER_LEN && want == SMPP_HEADER_LEN) {
                        ssize_t n = smx_frame_peek(buf, have, 0);
                        uint32_t len = smx_get_u32(buf);
                        if (n < 0 || len > cap)
                                return -1;
                        want = len;
                }
        }
        return (ssize_t)have;
}

static int connect_bind(const struct cfg *c)
{
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)c->port) };
        if (fd < 0 || inet_pton(AF_INET, c->host, &a.sin_addr) != 1 ||
            connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
                fprintf(stderr, "blast: connect %s:%u: %s\n", c->host, c->port, strerror(errno));
                return -1;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        struct smx_pdu p;
        memset(&p, 0, sizeof(p));
        p.h.command_id = SMPP_BIND_TRANSCEIVER;
        p.h.sequence_number = 1;
        p.u.bind.system_id.p = (const uint8_t *)c->system_id;
        p.u.bind.system_id.len = (uint16_t)strlen(c->system_id);
        p.u.bind.password.p = (const uint8_t *)c->password;
        p.u.bind.password.len = (uint16_t)strlen(c->password);
        p.u.bind.interface_version = SMPP_VERSION_34;
        uint8_t buf[256];
        ssize_t n = smx_pdu_encode(buf, sizeof(buf), &p, NULL, 0);
        if (n <= 0 || write_all(fd, buf, (size_t)n) < 0) {
                close(fd);
                return -1;
        }
        n = read_pdu_blocking(fd, buf, sizeof(buf));
        if (n < 16 || smx_get_u32(buf + 4) != SMPP_BIND_TRANSCEIVER_RESP || smx_get_u32(buf + 8) != 0) {
                fprintf(stderr, "blast: bind refused (status 0x%x)\n", n >= 16 ? smx_get_u32(buf + 8) : 0);
                close(fd);
                return -1;
        }
        return fd;
}

static ssize_t encode_submit(uint8_t *buf, size_t cap, int regdel)
{
        static const char text[] = "blast blast blast blast";
        struct smx_pdu p;
        memset(&p, 0, sizeof(p));
        p.h.command_id = SMPP_SUBMIT_SM;
        p.h.sequence_number = 1;
        p.u.sm.source_addr.p = (const uint8_t *)"12345";
        p.u.sm.source_addr.len = 5;
        p.u.sm.destination_addr.p = (const uint8_t *)"447700900001";
        p.u.sm.destination_addr.len = 12;
        p.u.sm.registered_delivery = (uint8_t)regdel;
        p.u.sm.short_message.p = (const uint8_t *)text;
        p.u.sm.short_message.len = (uint16_t)(sizeof(text) - 1);
        return smx_pdu_encode(buf, cap, &p, NULL, 0);
}

/* One submit_sm of its own (--encode): sequence number seq, text and
 * identity from the message counter n. */
static ssize_t encode_fresh(uint8_t *buf, size_t cap, int regdel, uint32_t seq, uint64_t n)
{
        char text[23] = "blast ";
        uint64_t v = n;
        for (int i = 22; i >= 6; i--) {
                text[i] = (char)('0' + v % 10);
                v /= 10;
        }
        uint8_t ident[16] = { 'b', 'l', 'a', 's', 't', 0, 0, 0 };
        for (int i = 0; i < 8; i++)
                ident[8 + i] = (uint8_t)(n >> (56 - 8 * i));
        struct smx_pdu p;
        memset(&p, 0, sizeof(p));
        p.h.command_id = SMPP_SUBMIT_SM;
        p.h.sequence_number = seq;
        p.u.sm.source_addr_ton = 1;
        p.u.sm.source_addr_npi = 1;
        p.u.sm.source_addr = (struct smx_bytes){ (const uint8_t *)"12345", 5 };
        p.u.sm.dest_addr_ton = 1;
        p.u.sm.dest_addr_npi = 1;
        p.u.sm.destination_addr = (struct smx_bytes){ (const uint8_t *)"447700900001", 12 };
        p.u.sm.registered_delivery = (uint8_t)regdel;
        p.u.sm.short_message = (struct smx_bytes){ (const uint8_t *)text, sizeof text };
        p.tlv.present |= SMX_TLV_SMX_MSG_IDENTITY;
        p.tlv.smx_msg_identity = (struct smx_bytes){ ident, sizeof ident };
        return smx_pdu_encode(buf, cap, &p, NULL, 0);
}

static int run_client(const struct cfg *c)
{
        uint8_t tmpl[256];
        ssize_t tl = encode_submit(tmpl, sizeof(tmpl), c->regdel);
        if (tl <= 0)
                return 1;
        struct conn *cs = calloc(c->conns, sizeof(*cs));
        int ep = epoll_create1(0);
        for (unsigned i = 0; i < c->conns; i++) {
                cs[i].fd = connect_bind(c);
                if (cs[i].fd < 0)
                        return 1;
                cs[i].in = malloc(BUF_CAP);
                cs[i].out = malloc(BUF_CAP);
                cs[i].seq = 2;
                struct epoll_event e = { .events = EPOLLIN, .data.u32 = i };
                epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &e);
        }
        uint64_t total_target = c->count;
        uint64_t queued = 0, acked = 0, failed = 0;
        double t0 = now_s(), deadline = c->seconds > 0 ? t0 + c->seconds : 0;
        double cpu0 = thread_cpu_s();
        struct epoll_event evs[64];
        while (!stop_flag) {
                int done_sending = (total_target && queued >= total_target) ||
                                   (deadline && now_s() >= deadline);
                if (done_sending && acked + failed >= queued)
                        break;
                /* fill every connection's window with whole batches */
                for (unsigned i = 0; i < c->conns && !done_sending; i++) {
                        struct conn *k = &cs[i];
                        while (k->sent - k->acked - k->failed + c->batch <= c->window &&
                               k->out_len + c->batch * (size_t)(c->encode ? 256 : tl) <=
                                       BUF_CAP / 2 &&
                               (!total_target || queued < total_target)) {
                                unsigned nb = c->batch;
                                if (total_target && queued + nb > total_target)
                                        nb = (unsigned)(total_target - queued);
                                for (unsigned b = 0; b < nb; b++) {
                                        uint8_t *w = k->out + k->out_len;
                                        if (c->encode) {
                                                ssize_t el = encode_fresh(w, 256, c->regdel, k->seq,
                                                                          queued + b);
                                                if (el <= 0)
                                                        return 1;
                                                k->out_len += (size_t)el;
                                        } else {
                                                memcpy(w, tmpl, (size_t)tl);
                                                smx_put_u32(w + 12, k->seq);
                                                k->out_len += (size_t)tl;
                                        }
                                        k->seq = k->seq >= SMPP_SEQ_MAX ? 2 : k->seq + 1;
                                }
                                k->sent += nb;
                                queued += nb;
                        }
                }
                /* write first; watch EPOLLOUT only while something is left */
                for (unsigned i = 0; i < c->conns; i++) {
                        struct conn *k = &cs[i];
                        if (k->out_len > k->out_off) {
                                ssize_t w = send(k->fd, k->out + k->out_off, k->out_len - k->out_off,
                                                 MSG_DONTWAIT | MSG_NOSIGNAL);
                                if (w > 0)
                                        k->out_off += (size_t)w;
                                if (k->out_off == k->out_len)
                                        k->out_off = k->out_len = 0;
                        }
                        int want = k->out_len > k->out_off;
                        if (want != k->ep_out) {
                                struct epoll_event me = { .events = EPOLLIN | (want ? EPOLLOUT : 0), .data.u32 = i };
                                epoll_ctl(ep, EPOLL_CTL_MOD, k->fd, &me);
                                k->ep_out = want;
                        }
                }
                int n = epoll_wait(ep, evs, 64, 100);
                for (int e = 0; e < n; e++) {
                        struct conn *k = &cs[evs[e].data.u32];
                        if ((evs[e].events & EPOLLOUT) && k->out_len > k->out_off) {
                                ssize_t w = send(k->fd, k->out + k->out_off, k->out_len - k->out_off,
                                                 MSG_DONTWAIT | MSG_NOSIGNAL);
                                if (w > 0) {
                                        k->out_off += (size_t)w;
                                        if (k->out_off == k->out_len)
                                                k->out_off = k->out_len = 0;
                                }
                        }
                        if (evs[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                                ssize_t r = recv(k->fd, k->in + k->in_len, BUF_CAP - k->in_len, MSG_DONTWAIT);
                                if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
                                        fprintf(stderr, "blast: connection closed by peer\n");
                                        stop_flag = 1;
                                        break;
                                }
                                if (r > 0)
                                        k->in_len += (size_t)r;
                                size_t off = 0;
                                for (;;) {
                                        ssize_t pl = smx_frame_peek(k->in + off, k->in_len - off, 0);
                                        if (pl <= 0)
                                                break;
                                        const uint8_t *p = k->in + off;
                                        uint32_t id = smx_get_u32(p + 4);
                                        if (id == SMPP_SUBMIT_SM_RESP) {
                                                if (smx_get_u32(p + 8) == 0)
                                                        k->acked++;
                                                else
                                                        k->failed++;
                                        } else if (id == SMPP_ENQUIRE_LINK || id == SMPP_DELIVER_SM) {
                                                /* no room for the answer: leave the PDU for the next turn */
                                                if (k->out_len + 17 > BUF_CAP)
                                                        break;
                                                uint8_t *a = k->out + k->out_len;
                                                ssize_t al = id == SMPP_DELIVER_SM
                                                        ? smx_pdu_encode_empty_resp(a, 17, SMPP_DELIVER_SM_RESP, 0, smx_get_u32(p + 12))
                                                        : smx_pdu_encode_header_only(a, 17, SMPP_ENQUIRE_LINK_RESP, 0, smx_get_u32(p + 12));
                                                if (al > 0)
                                                        k->out_len += (size_t)al;
                                        }
                                        off += (size_t)pl;
                                }
                                memmove(k->in, k->in + off, k->in_len - off);
                                k->in_len -= off;
                        }
                }
                acked = failed = 0;
                for (unsigned i = 0; i < c->conns; i++) {
                        acked += cs[i].acked;
                        failed += cs[i].failed;
                }
        }
        double el = now_s() - t0, cpu = thread_cpu_s() - cpu0;
        fprintf(stderr, "blast: %u connections, window %u, batch %u: sent %llu, ok %llu, errors %llu in %.3f s\n",
                c->conns, c->window, c->batch, (unsigned long long)queued, (unsigned long long)acked,
                (unsigned long long)failed, el);
        /* before the last line, which scripts read as the rate */
        printf("cpu_ns_per_pdu=%.1f\n", acked + failed ? cpu * 1e9 / (double)(acked + failed) : 0.0);
        printf("submit_per_s=%.0f\n", el > 0 ? (double)(acked + failed) / el : 0.0);
        for (unsigned i = 0; i < c->conns; i++) {
                close(cs[i].fd);
                free(cs[i].in);
                free(cs[i].out);
        }
        free(cs);
        close(ep);
        return 0;
}

/* ---- sink ---- */

/* A receipt deliver_sm for message id v (hex, as the resp gave it). */
static ssize_t sink_receipt(struct conn *k, uint8_t *w, size_t room, uint64_t v)
{
        char id[24], text[160];
        int il = snprintf(id, sizeof id, "%llx", (unsigned long long)v);
        int tl = snprintf(text, sizeof text, "id:%s sub:001 dlvrd:001 submit date:2612052200 "
                          "done date:2612052200 stat:DELIVRD err:000 text:blast", id);
        struct smx_pdu d;
        memset(&d, 0, sizeof d);
        d.h.command_id = SMPP_DELIVER_SM;
        k->dr_seq = k->dr_seq >= SMPP_SEQ_MAX || k->dr_seq < 2 ? 2 : k->dr_seq + 1;
        d.h.sequence_number = k->dr_seq;
        d.u.sm.source_addr = (struct smx_bytes){ (const uint8_t *)"447700900001", 12 };
        d.u.sm.destination_addr = (struct smx_bytes){ (const uint8_t *)"12345", 5 };
        d.u.sm.esm_class = SMPP_ESM_TYPE_SMSC_DR;
        d.u.sm.short_message = (struct smx_bytes){ (const uint8_t *)text, (uint16_t)tl };
        d.tlv.present |= SMX_TLV_RECEIPTED_MESSAGE_ID | SMX_TLV_MESSAGE_STATE;
        d.tlv.receipted_message_id = (struct smx_bytes){ (const uint8_t *)id, (uint16_t)il };
        d.tlv.message_state = SMPP_STATE_DELIVERED;
        return smx_pdu_encode(w, room, &d, NULL, 0);
}

/* --dr-lag: note that message id v owes a receipt; write the one that is
 * dr_lag receipt-asking submit_sm old, if any. */
static void sink_receipt_due(struct conn *k, const uint8_t *p, uint64_t v)
{
        struct smx_pdu s;
        if (!k->dr_ids || smx_pdu_decode(p, smx_get_u32(p), NULL, &s, NULL) != SMX_PDU_OK ||
            (s.u.sm.registered_delivery & 3) != 1)
                return;
        if (k->dr_n == sink_dr_lag) {
                ssize_t n = sink_receipt(k, k->out + k->out_len, BUF_CAP - k->out_len,
                                         k->dr_ids[k->dr_head]);
                if (n > 0)
                        k->out_len += (size_t)n;
                k->dr_head = (k->dr_head + 1) % sink_dr_lag;
                k->dr_n--;
        }
        k->dr_ids[(k->dr_head + k->dr_n) % sink_dr_lag] = v;
        k->dr_n++;
}

static void sink_answer(struct conn *k, const uint8_t *p)
{
        uint32_t id = smx_get_u32(p + 4), seq = smx_get_u32(p + 12);
        uint8_t *w = k->out + k->out_len;
        size_t room = BUF_CAP - k->out_len;
        ssize_t n = 0;
        struct smx_pdu r;
        char msgid[24];
        switch (id) {
        case SMPP_SUBMIT_SM: {
                uint64_t v = ++k->msgid;
                int l = snprintf(msgid, sizeof(msgid), "%llx", (unsigned long long)v);
                memset(&r, 0, sizeof(r));
                r.h.command_id = SMPP_SUBMIT_SM_RESP;
                r.h.sequence_number = seq;
                r.u.sm_resp.message_id.p = (const uint8_t *)msgid;
                r.u.sm_resp.message_id.len = (uint16_t)l;
                n = smx_pdu_encode(w, room, &r, NULL, 0);
                k->acked++;
                if (n > 0 && sink_dr_lag) {
                        k->out_len += (size_t)n;
                        n = 0;
                        sink_receipt_due(k, p, v);
                }
                break;
        }
        case SMPP_BIND_TRANSMITTER:
        case SMPP_BIND_RECEIVER:
        case SMPP_BIND_TRANSCEIVER:
                memset(&r, 0, sizeof(r));
                r.h.command_id = id | SMPP_RESP_BIT;
                r.h.sequence_number = seq;
                r.u.bind_resp.system_id.p = (const uint8_t *)"sink";
                r.u.bind_resp.system_id.len = 4;
                n = smx_pdu_encode(w, room, &r, NULL, 0);
                break;
        case SMPP_ENQUIRE_LINK:
        case SMPP_UNBIND:
                n = smx_pdu_encode_header_only(w, room, id | SMPP_RESP_BIT, 0, seq);
                break;
        default:
                if (!(id & SMPP_RESP_BIT))
                        n = smx_pdu_encode_header_only(w, room, SMPP_GENERIC_NACK, SMPP_ESME_RINVCMDID, seq);
                break;
        }
        if (n > 0)
                k->out_len += (size_t)n;
}

static int run_sink(const struct cfg *c)
{
        int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int one = 1;
        setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)c->port) };
        if (inet_pton(AF_INET, c->host, &a.sin_addr) != 1 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
            listen(lfd, 128) < 0) {
                fprintf(stderr, "blast: sink listen: %s\n", strerror(errno));
                return 1;
        }
        socklen_t al = sizeof(a);
        getsockname(lfd, (struct sockaddr *)&a, &al);
        void *tls_ctx = NULL;
        if (c->tls_cert && !(tls_ctx = sink_tls_ctx(c->tls_cert, c->tls_key))) {
                fprintf(stderr, "blast: sink: TLS certificate %s / key %s unusable\n", c->tls_cert,
                        c->tls_key);
                return 1;
        }
        printf("listening sink %s%s:%u\nready\n", tls_ctx ? "tls://" : "", c->host,
               ntohs(a.sin_port));
        fflush(stdout);
        int ep = epoll_create1(0);
        struct epoll_event le = { .events = EPOLLIN, .data.u32 = UINT32_MAX };
        epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &le);
        enum { MAXC = 1024 };
        struct conn *cs = calloc(MAXC, sizeof(*cs));
        for (int i = 0; i < MAXC; i++)
                cs[i].fd = -1;
        uint64_t closed_acked = 0, wire_in = 0, wire_out = 0;
        struct epoll_event evs[64];
        while (!stop_flag) {
                int n = epoll_wait(ep, evs, 64, 200);
                for (int e = 0; e < n; e++) {
                        uint32_t idx = evs[e].data.u32;
                        if (idx == UINT32_MAX) {
                                int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                                int slot = -1;
                                for (int i = 0; fd >= 0 && i < MAXC; i++)
                                        if (cs[i].fd < 0) {
                                                slot = i;
                                                break;
                                        }
                                if (slot < 0) {
                                        if (fd >= 0)
                                                close(fd);
                                        continue;
                                }
                                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                                memset(&cs[slot], 0, sizeof(cs[slot]));
                                cs[slot].fd = fd;
                                cs[slot].in = malloc(BUF_CAP);
                                cs[slot].out = malloc(BUF_CAP);
                                if (c->dr_lag)
                                        cs[slot].dr_ids = calloc(c->dr_lag, sizeof *cs[slot].dr_ids);
                                if (tls_ctx && sink_tls_accept(&cs[slot].tls, tls_ctx) < 0) {
                                        close(fd);
                                        cs[slot].fd = -1;
                                        free(cs[slot].in);
                                        free(cs[slot].out);
                                        free(cs[slot].dr_ids);
                                        continue;
                                }
                                struct epoll_event ce = { .events = EPOLLIN, .data.u32 = (uint32_t)slot };
                                epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ce);
                                continue;
                        }
                        struct conn *k = &cs[idx];
                        if (k->fd < 0)
                                continue;
                        if (k->out_len < BUF_CAP / 2) {
                                ssize_t r = k->tls.ssl
                                        ? sink_tls_recv(&k->tls, k->fd, k->in + k->in_len,
                                                        BUF_CAP - k->in_len)
                                        : recv(k->fd, k->in + k->in_len, BUF_CAP - k->in_len,
                                               MSG_DONTWAIT);
                                if (r > 0 && !k->tls.ssl)
                                        k->bytes_in += (uint64_t)r;
                                if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
                                        closed_acked += k->acked;
                                        wire_in += k->bytes_in + k->tls.bytes_in;
                                        wire_out += k->bytes_out + k->tls.bytes_out;
                                        sink_tls_free(&k->tls);
                                        close(k->fd);
                                        k->fd = -1;
                                        free(k->in);
                                        free(k->out);
                                        free(k->dr_ids);
                                        continue;
                                }
                                if (r > 0)
                                        k->in_len += (size_t)r;
                                size_t off = 0;
                                for (;;) {
                                        ssize_t pl = smx_frame_peek(k->in + off, k->in_len - off, 0);
                                        if (pl < 0) {
                                                off = k->in_len;
                                                break;
                                        }
                                        if (pl == 0 || k->out_len + 512 > BUF_CAP)
                                                break;
                                        sink_answer(k, k->in + off);
                                        off += (size_t)pl;
                                }
                                memmove(k->in, k->in + off, k->in_len - off);
                                k->in_len -= off;
                        }
                        if (k->tls.ssl) {
                                if (sink_tls_send(&k->tls, k->fd, k->out + k->out_off,
                                                  k->out_len - k->out_off) == 0)
                                        k->out_off = k->out_len = 0;
                        } else if (k->out_len > k->out_off) {
                                ssize_t w = send(k->fd, k->out + k->out_off, k->out_len - k->out_off,
                                                 MSG_DONTWAIT | MSG_NOSIGNAL);
                                if (w > 0) {
                                        k->out_off += (size_t)w;
                                        k->bytes_out += (uint64_t)w;
                                }
                                if (k->out_off == k->out_len)
                                        k->out_off = k->out_len = 0;
                        }
                        int want = k->tls.ssl ? sink_tls_pending(&k->tls) : k->out_len > k->out_off;
                        if (want != k->ep_out) {
                                struct epoll_event me = { .events = EPOLLIN | (want ? EPOLLOUT : 0), .data.u32 = idx };
                                epoll_ctl(ep, EPOLL_CTL_MOD, k->fd, &me);
                                k->ep_out = want;
                        }
                }
        }
        uint64_t total = closed_acked;
        for (int i = 0; i < MAXC; i++)
                if (cs[i].fd >= 0) {
                        total += cs[i].acked;
                        wire_in += cs[i].bytes_in + cs[i].tls.bytes_in;
                        wire_out += cs[i].bytes_out + cs[i].tls.bytes_out;
                        sink_tls_free(&cs[i].tls);
                        close(cs[i].fd);
                        free(cs[i].in);
                        free(cs[i].out);
                }
        free(cs);
        close(lfd);
        close(ep);
        printf("bytes_in=%llu\nbytes_out=%llu\nsubmit_sm=%llu\n", (unsigned long long)wire_in,
               (unsigned long long)wire_out, (unsigned long long)total);
        sink_tls_ctx_free(tls_ctx);
        return 0;
}

static void usage(FILE *f)
{
        fprintf(f,
                "usage: blast [--host 127.0.0.1] --port P [--connections 1] [--count N | --seconds S]\n"
                "             [--window 10000] [--batch 256] [--system-id smsmux] [--password secret]\n"
                "             [--registered-delivery 0|1] [--encode]\n"
                "       blast --sink [--host 127.0.0.1] [--port 0] [--tls-cert FILE --tls-key FILE]\n"
                "                    [--dr-lag N]\n");
}

int main(int argc, char **argv)
{
        struct cfg c = { "127.0.0.1", "smsmux", "secret", 0, 1, 10000, 256, 0, 0, 0, 0, 0, NULL, NULL, 0 };
        static const struct option opts[] = {
                { "host", required_argument, NULL, 'H' }, { "port", required_argument, NULL, 'p' },
                { "connections", required_argument, NULL, 'n' }, { "count", required_argument, NULL, 'c' },
                { "seconds", required_argument, NULL, 's' }, { "window", required_argument, NULL, 'w' },
                { "batch", required_argument, NULL, 'b' }, { "system-id", required_argument, NULL, 'u' },
                { "password", required_argument, NULL, 'P' }, { "sink", no_argument, NULL, 'S' },
                { "registered-delivery", required_argument, NULL, 'r' }, { "help", no_argument, NULL, 'h' },
                { "encode", no_argument, NULL, 'e' }, { "dr-lag", required_argument, NULL, 'D' },
                { "tls-cert", required_argument, NULL, 'C' }, { "tls-key", required_argument, NULL, 'K' },
                { NULL, 0, NULL, 0 },
        };
        int o;
        while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (o) {
                case 'H': c.host = optarg; break;
                case 'p': c.port = (unsigned)strtoul(optarg, NULL, 10); break;
                case 'n': c.conns = (unsigned)strtoul(optarg, NULL, 10); break;
                case 'c': c.count = strtoull(optarg, NULL, 10); break;
                case 's': c.seconds = strtod(optarg, NULL); break;
                case 'w': c.window = (unsigned)strtoul(optarg, NULL, 10); break;
                case 'b': c.batch = (unsigned)strtoul(optarg, NULL, 10); break;
                case 'u': c.system_id = optarg; break;
                case 'P': c.password = optarg; break;
                case 'S': c.sink = 1; break;
                case 'r': c.regdel = atoi(optarg) ? 1 : 0; break;
                case 'e': c.encode = 1; break;
                case 'D': c.dr_lag = (unsigned)strtoul(optarg, NULL, 10); break;
                case 'C': c.tls_cert = optarg; break;
                case 'K': c.tls_key = optarg; break;
                case 'h': usage(stdout); return 0;
                default: usage(stderr); return 2;
                }
        }
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        signal(SIGPIPE, SIG_IGN);
        if (c.sink && !c.tls_cert != !c.tls_key) {
                usage(stderr);
                return 2;
        }
        if (c.sink && c.dr_lag > 65536) {
                usage(stderr);
                return 2;
        }
        sink_dr_lag = c.dr_lag;
        if (c.sink)
                return run_sink(&c);
        if (!c.port || !c.conns || !c.batch || c.window < c.batch || c.conns > 1024 ||
            (size_t)c.batch * 128 > BUF_CAP || (!c.count && c.seconds <= 0)) {
                usage(stderr);
                return 2;
        }
        return run_client(&c);
}
