/* A libmicrohttpd daemon run from our own thread (see http_mhd_loop.h for
 * why): poll() on MHD's epoll fd and an eventfd for at most MHD_get_timeout,
 * then MHD_run, which drains the epoll set without blocking. The eventfd
 * carries the wake-ups (a resumed connection, a sync, the stop); `stopping`
 * tells the stop apart. Each MHD_run ended bumps `turns`, which
 * http_mhd_loop_sync waits on. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "http/http_mhd_loop.h"
#include "log/log.h"

int http_mhd_loop_init(struct http_mhd_loop *l, const char *what)
{
        memset(l, 0, sizeof *l);
        l->what = what;
        l->epoll_fd = -1;
        l->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        return l->wake_fd < 0 ? -errno : 0;
}

/* An eventfd write fails only when its counter is near 2^64: the thread is
 * awake already. */
void http_mhd_loop_wake(struct http_mhd_loop *l)
{
        uint64_t one = 1;
        while (write(l->wake_fd, &one, sizeof one) < 0 && errno == EINTR)
                ;
}

/* The loop thread: every MHD callback of l->d runs here. */
static void *loop_main(void *arg)
{
        struct http_mhd_loop *l = arg;
        for (;;) {
                MHD_UNSIGNED_LONG_LONG to_ms;
                int wait_ms = -1;
                if (MHD_get_timeout(l->d, &to_ms) == MHD_YES)
                        wait_ms = to_ms > INT_MAX ? INT_MAX : (int)to_ms;
                struct pollfd p[2] = { { l->epoll_fd, POLLIN, 0 }, { l->wake_fd, POLLIN, 0 } };
                if (poll(p, 2, wait_ms) < 0 && errno != EINTR) {
                        smx_logf(SMX_LOG_ERROR, NULL, NULL, "%s: poll: %s", l->what, strerror(errno));
                        struct timespec ts = { 0, 10000000L };
                        nanosleep(&ts, NULL);
                }
                if (p[1].revents) {
                        uint64_t n;
                        if (read(l->wake_fd, &n, sizeof n) < 0 && errno != EAGAIN && errno != EINTR)
                                smx_logf(SMX_LOG_ERROR, NULL, NULL, "%s: eventfd: %s", l->what,
                                         strerror(errno));
                        if (atomic_load_explicit(&l->stopping, memory_order_acquire))
                                return NULL;
                }
                MHD_run(l->d);      /* also runs the connections resumed elsewhere */
                atomic_fetch_add_explicit(&l->turns, 1, memory_order_seq_cst);
        }
}

int http_mhd_loop_start(struct http_mhd_loop *l, struct MHD_Daemon *d)
{
        l->d = d;
        const union MHD_DaemonInfo *ei = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD);
        l->epoll_fd = ei ? ei->epoll_fd : -1;
        if (l->epoll_fd < 0)
                return -EINVAL;
        int rc = pthread_create(&l->thread, NULL, loop_main, l);
        if (rc)
                return -rc;
        l->thread_started = 1;
        return 0;
}

/* Why one more ended turn is enough: a callback that read a flag as unset
 * read it before the caller stored it (seq_cst total order). If its turn's
 * increment is before our load of `turns`, what it did is visible through
 * that load; else the turn ends with a count above the one we read, and
 * no turn that began after our load can read the flag unset. */
void http_mhd_loop_sync(struct http_mhd_loop *l)
{
        if (!l->thread_started)
                return;
        uint64_t seen = atomic_load_explicit(&l->turns, memory_order_seq_cst);
        http_mhd_loop_wake(l);
        while (atomic_load_explicit(&l->turns, memory_order_seq_cst) == seen) {
                struct timespec ts = { 0, 200000L };
                nanosleep(&ts, NULL);
        }
}

void http_mhd_loop_stop(struct http_mhd_loop *l)
{
        if (l->thread_started) {
                atomic_store_explicit(&l->stopping, 1, memory_order_release);
                http_mhd_loop_wake(l);
                pthread_join(l->thread, NULL);
        }
        if (l->d)
                MHD_stop_daemon(l->d);
        if (l->wake_fd >= 0)
                close(l->wake_fd);
        const char *what = l->what;
        memset(l, 0, sizeof *l);
        l->what = what;
        l->epoll_fd = l->wake_fd = -1;
}
