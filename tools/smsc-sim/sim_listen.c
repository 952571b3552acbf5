/* Each SMSC's listening socket: accepting connections (every one counts as
 * a bind attempt in the ledger, R2; a killed SMSC closes them at once), and
 * the kill/restore faults (kill_mode close-listener closes the socket itself).
 * Engine thread (or under the lock). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sim_engine.h"

/* When the kernel established connection fd, on sim_now_ns()'s clock: the
 * time of its last data (the client's bind, sent right after connecting)
 * or, with none yet, of the handshake (tcpi_last_data_recv starts there),
 * in the kernel's clock ticks. The age and the clock are read together
 * (again if this thread was held up in between), so a thread delayed after
 * accept() still gets the kernel's time. Now if TCP_INFO fails. */
static uint64_t established_at_ns(int fd)
{
        for (int tries = 0;; tries++) {
                uint64_t before = sim_now_ns();
                struct tcp_info ti;
                socklen_t len = sizeof(ti);
                if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 ||
                    len < offsetof(struct tcp_info, tcpi_last_data_recv) +
                          sizeof(ti.tcpi_last_data_recv))
                        return sim_now_ns();
                uint64_t after = sim_now_ns();
                uint64_t age = (uint64_t)ti.tcpi_last_data_recv * 1000000ull;
                if (after - before < 1000000ull || tries == 3)
                        return after > age ? after - age : 0;
        }
}

void sim_on_accept(struct smsc_sim *s, struct sim_smsc *m)
{
        for (int burst = 0; burst < 64 && m->listen_fd >= 0; burst++) {
                struct sockaddr_in peer;
                socklen_t peer_len = sizeof(peer);
                int fd = accept4(m->listen_fd, (struct sockaddr *)&peer, &peer_len,
                                 SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0)
                        return;
                char ip[INET_ADDRSTRLEN] = "?", who[48];
                if (peer_len >= sizeof(peer) && peer.sin_family == AF_INET)
                        inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof(ip));
                snprintf(who, sizeof(who), "%s:%u", ip, (unsigned)ntohs(peer.sin_port));
                sim_ledger_attempt(s, m, established_at_ns(fd), who);
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
                if (sim_tls_accept(s, m, ss) < 0 || epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &e) < 0) {
                        sim_tls_end(ss);
                        free(ss->in);
                        ss->in = NULL;
                        close(fd);
                        ss->fd = -1;
                }
        }
}

/* ---- listeners, kill and restore ---- */

int sim_listen_on(struct smsc_sim *s, struct sim_smsc *m, char *err, size_t err_len)
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
                return sim_listen_on(s, m, NULL, 0);
        return 0;
}
