/* State of the admin socket and metrics listener of one client (admin.h).
 * Owned by the client; the socket thread reads `lfd`/`stop_fd`, the metrics
 * fields change only under `mlock`. */
#ifndef SMX_ADMIN_INT_H
#define SMX_ADMIN_INT_H

#include <pthread.h>

struct MHD_Daemon;

/* One client's admin socket and metrics listener; owned by the client. */
struct smx_admin {
        struct smx_client *c;
        int lfd;                    /* listening unix socket, -1 none */
        int stop_fd;                /* eventfd: the socket thread ends when readable */
        char path[108];             /* socket path (unlinked at stop) */
        pthread_t thread;
        int thread_started;
        pthread_mutex_t mlock;      /* metrics listener below */
        struct MHD_Daemon *mhd;
        char metrics_bound[80];     /* "HOST:PORT" actually bound, "" none */
};

/* metrics.c */
int metrics_start(struct smx_admin *a, const char *addr, char *err, size_t err_len);
void metrics_stop(struct smx_admin *a);

#endif
