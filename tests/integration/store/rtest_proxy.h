/* A TCP proxy the test controls, between one store instance and the
 * test's redis-server (its unix socket): the instance's url is
 * redis://127.0.0.1:PORT, and the test cuts it off from Redis without
 * touching Redis or the other instances.
 *   forwarding: every byte both ways;
 *   cut:        nothing moves on the connections it has, and new ones are
 *               accepted (the TCP connect succeeds) and then hang too, as
 *               behind a network partition that drops packets: the
 *               instance sees its replies time out (timeout_ms) and its
 *               reconnects hang;
 *   heal:       the connections of the cut are closed (neither side gets
 *               a byte held across it) and new ones are forwarded again.
 * One thread of its own (poll on the listener and, while forwarding, every
 * connection pair); the test's thread only flips `cut` and `heal`. */
#ifndef RTEST_PROXY_H
#define RTEST_PROXY_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "rtest.h"

#define RTEST_PROXY_PAIRS 32

struct rtest_proxy {
        int lfd, port;
        char target[128];               /* redis-server's unix socket */
        char url[64];                   /* redis://127.0.0.1:PORT */
        pthread_t th;
        _Atomic int cut, heal, stop;
        /* proxy thread only */
        int cl[RTEST_PROXY_PAIRS], up[RTEST_PROXY_PAIRS];   /* client side, Redis side; -1 free */
};

static inline void rtest_proxy_close(struct rtest_proxy *p, int i)
{
        if (p->cl[i] >= 0)
                close(p->cl[i]);
        if (p->up[i] >= 0)
                close(p->up[i]);
        p->cl[i] = p->up[i] = -1;
}

static inline void rtest_proxy_accept(struct rtest_proxy *p)
{
        int fd = accept(p->lfd, NULL, NULL);
        if (fd < 0)
                return;
        int i = 0;
        while (i < RTEST_PROXY_PAIRS && p->cl[i] >= 0)
                i++;
        int u = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t tl = strnlen(p->target, sizeof sa.sun_path - 1);
        memcpy(sa.sun_path, p->target, tl);
        if (i == RTEST_PROXY_PAIRS || u < 0 ||
            connect(u, (struct sockaddr *)&sa, sizeof sa) != 0) {
                close(fd);
                if (u >= 0)
                        close(u);
                return;
        }
        p->cl[i] = fd;
        p->up[i] = u;
}

/* Move what `from` has to `to`: 0, or -1 when either side is done. */
static inline int rtest_proxy_move(int from, int to)
{
        char buf[65536];
        ssize_t n = read(from, buf, sizeof buf);
        if (n <= 0)
                return -1;
        for (ssize_t off = 0; off < n;) {
                ssize_t w = write(to, buf + off, (size_t)(n - off));
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return -1;
                off += w;
        }
        return 0;
}

static inline void *rtest_proxy_main(void *arg)
{
        struct rtest_proxy *p = arg;
        while (!atomic_load(&p->stop)) {
                if (atomic_exchange(&p->heal, 0)) {
                        for (int i = 0; i < RTEST_PROXY_PAIRS; i++)
                                rtest_proxy_close(p, i);
                        atomic_store(&p->cut, 0);
                }
                int cut = atomic_load(&p->cut);
                struct pollfd f[1 + 2 * RTEST_PROXY_PAIRS];
                int who[1 + 2 * RTEST_PROXY_PAIRS];
                int n = 0;
                f[n].fd = p->lfd;
                f[n].events = POLLIN;
                who[n++] = -1;
                for (int i = 0; i < RTEST_PROXY_PAIRS && !cut; i++) {
                        if (p->cl[i] < 0)
                                continue;
                        f[n] = (struct pollfd){ p->cl[i], POLLIN, 0 };
                        who[n++] = 2 * i;
                        f[n] = (struct pollfd){ p->up[i], POLLIN, 0 };
                        who[n++] = 2 * i + 1;
                }
                if (poll(f, (nfds_t)n, 10) <= 0)
                        continue;
                for (int k = 0; k < n; k++) {
                        if (!f[k].revents)
                                continue;
                        if (who[k] < 0) {
                                rtest_proxy_accept(p);
                                continue;
                        }
                        int i = who[k] / 2;
                        if (p->cl[i] < 0)
                                continue;       /* closed earlier in this round */
                        int from = who[k] % 2 ? p->up[i] : p->cl[i];
                        int to = who[k] % 2 ? p->cl[i] : p->up[i];
                        if (rtest_proxy_move(from, to) < 0)
                                rtest_proxy_close(p, i);
                }
        }
        for (int i = 0; i < RTEST_PROXY_PAIRS; i++)
                rtest_proxy_close(p, i);
        return NULL;
}

/* Listen on 127.0.0.1 (a free port) and forward to the unix socket
 * `target`. 0, or -1. */
static inline int rtest_proxy_start(struct rtest_proxy *p, const char *target)
{
        memset(p, 0, sizeof *p);
        for (int i = 0; i < RTEST_PROXY_PAIRS; i++)
                p->cl[i] = p->up[i] = -1;
        snprintf(p->target, sizeof p->target, "%s", target);
        p->lfd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t sl = sizeof sa;
        if (p->lfd < 0 || bind(p->lfd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
            listen(p->lfd, 16) != 0 || getsockname(p->lfd, (struct sockaddr *)&sa, &sl) != 0)
                return -1;
        p->port = ntohs(sa.sin_port);
        snprintf(p->url, sizeof p->url, "redis://127.0.0.1:%d", p->port);
        return pthread_create(&p->th, NULL, rtest_proxy_main, p) == 0 ? 0 : -1;
}

static inline void rtest_proxy_cut(struct rtest_proxy *p)
{
        atomic_store(&p->cut, 1);
}

static inline void rtest_proxy_heal(struct rtest_proxy *p)
{
        atomic_store(&p->heal, 1);
}

static inline void rtest_proxy_stop(struct rtest_proxy *p)
{
        atomic_store(&p->stop, 1);
        pthread_join(p->th, NULL);
        close(p->lfd);
}

/* The start of a test that talks to Redis itself and puts p between a
 * store instance and Redis: rtest_start_connected, then p forwarding to r.
 * RTEST_GO, or the exit status (skip: 0; bail out, printed: 1). */
static inline int rtest_start_proxied(struct rtest_redis *r, redisContext **c,
                                      struct rtest_proxy *p)
{
        int rc = rtest_start_connected(r, c);
        if (rc != RTEST_GO)
                return rc;
        if (rtest_proxy_start(p, r->sock) != 0) {
                printf("Bail out! no proxy\n");
                rtest_stop_connected(r, *c);
                return 1;
        }
        return RTEST_GO;
}

/* The end of such a test: p stopped, then rtest_stop_connected. */
static inline void rtest_stop_proxied(struct rtest_redis *r, redisContext *c,
                                      struct rtest_proxy *p)
{
        rtest_proxy_stop(p);
        rtest_stop_connected(r, c);
}

#endif
