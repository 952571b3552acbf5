/* One libmicrohttpd daemon run from a thread of our own (the receiver, the
 * simulator's HTTP sites), instead of MHD's internal polling thread.
 *
 * Why: libmicrohttpd's internal epoll thread (0.9.75, and upstream since)
 * drains its epoll set by calling epoll_wait again while the previous call
 * filled all of its 128 event slots, with the full wait time each call.
 * When exactly 128 events were pending, the second call sleeps until the
 * next connection timeout with the requests it was just told about unread
 * (edge-triggered: no new event comes for them), and they are then closed
 * as idle, unanswered: a burst of a few hundred requests ready at once lost
 * most of them now and then.
 *
 * The loop thread polls MHD's epoll fd and an eventfd for at most
 * MHD_get_timeout, then calls MHD_run, whose epoll_wait never waits. The
 * daemon is started with MHD_USE_EPOLL and without
 * MHD_USE_INTERNAL_POLLING_THREAD (and so without MHD_USE_ITC): MHD then
 * has no wake-up of its own, so whoever calls MHD_resume_connection from
 * another thread calls http_mhd_loop_wake after it.
 *
 * Threads: init, start and stop from one control thread; wake from any
 * thread; every MHD callback of the daemon runs on the loop thread (and,
 * during stop, on the stopping thread once the loop thread is gone). */
#ifndef SMX_HTTP_MHD_LOOP_H
#define SMX_HTTP_MHD_LOOP_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct http_mhd_loop {
        const char *what;             /* "http receiver": names log lines */
        struct MHD_Daemon *d;         /* owned from http_mhd_loop_start on */
        int epoll_fd;                 /* MHD's epoll set (owned by MHD) */
        int wake_fd;                  /* eventfd: wakes the loop thread */
        _Atomic int stopping;         /* set by http_mhd_loop_stop before it wakes it */
        _Atomic uint64_t turns;       /* MHD_runs ended: loop thread writes,
                                       * http_mhd_loop_sync reads */
        pthread_t thread;
        int thread_started;
};

/* The flags the daemon is started with (add MHD_USE_TURBO,
 * MHD_ALLOW_SUSPEND_RESUME, ... as needed; never a thread flag). */
#define HTTP_MHD_LOOP_FLAGS MHD_USE_EPOLL

/* Prepare l (its eventfd). 0, or -errno (nothing to stop). */
int http_mhd_loop_init(struct http_mhd_loop *l, const char *what);

/* Take d (started with HTTP_MHD_LOOP_FLAGS) and start the loop thread.
 * 0, or -errno: then l still owns d and http_mhd_loop_stop stops it. */
int http_mhd_loop_start(struct http_mhd_loop *l, struct MHD_Daemon *d);

/* Wake the loop thread (any thread): after MHD_resume_connection. */
void http_mhd_loop_wake(struct http_mhd_loop *l);

/* Wake the loop thread and wait (control thread) until it has ended the
 * MHD_run it may be in, or the next one: every MHD callback that starts
 * after the return sees what the caller stored (seq_cst atomics) before the
 * call, and everything the callbacks before did is visible to the
 * caller. The receiver's stop uses it so that no request is
 * deferred after it decided to close. Returns at once when the thread was
 * never started. */
void http_mhd_loop_sync(struct http_mhd_loop *l);

/* Join the loop thread, then MHD_stop_daemon on this thread (MHD closes
 * the connections left and calls their completion callbacks here), then
 * close the eventfd. Safe after a failed init or start; l is left empty. */
void http_mhd_loop_stop(struct http_mhd_loop *l);

#endif
