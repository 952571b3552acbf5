/* How a worker's io_uring is set up and entered.
 *
 * Completions (a TCP segment from the SMSC, a finished send) are produced
 * by the kernel on whatever CPU handled them. By default io_uring then
 * interrupts the worker's CPU (an IPI) so the completion is posted at once:
 * at line rate that is one interrupt per received segment, measured at ~20 %
 * of the worker's time. The ring therefore asks, best first:
 *   1. DEFER_TASKRUN + SINGLE_ISSUER (Linux 6.1): completions are posted
 *      only when this worker enters the kernel asking for events, which it
 *      does once per busy loop turn (worker_ring_submit) and when it waits.
 *      Only one thread may then use the ring, so it is created disabled and
 *      enabled by the worker thread itself (worker_ring_enable).
 *   2. COOP_TASKRUN + TASKRUN_FLAG (Linux 5.19): no interrupt; the kernel
 *      raises IORING_SQ_TASKRUN and liburing enters when it sees it.
 *   3. no flag (older kernels): the default behaviour.
 * All three run the same loop; only the way of entering the kernel differs. */
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "worker/worker_int.h"

#define RING_ENTRIES 256

int worker_ring_init(struct smx_worker *w)
{
        static const unsigned modes[] = {
                IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SINGLE_ISSUER |
                        IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_R_DISABLED,
                IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
                0,
        };
        int r = -EINVAL;
        for (unsigned i = 0; i < sizeof modes / sizeof modes[0]; i++) {
                r = io_uring_queue_init(RING_ENTRIES, &w->ring, modes[i]);
                if (r == 0) {
                        w->ring_setup = modes[i];
                        return 0;
                }
                if (r != -EINVAL)
                        return r;   /* not a question of flags (ENOMEM, EMFILE...) */
        }
        return r;
}

int worker_ring_enable(struct smx_worker *w)
{
        if (!(w->ring_setup & IORING_SETUP_R_DISABLED))
                return 0;
        /* liburing 2.3 declares io_uring_enable_rings but does not export it */
        long r = syscall(__NR_io_uring_register, w->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS,
                         NULL, 0);
        return r < 0 ? -errno : 0;
}

void worker_ring_submit(struct smx_worker *w)
{
        if (w->ring_setup & IORING_SETUP_DEFER_TASKRUN)
                io_uring_submit_and_get_events(&w->ring);
        else
                io_uring_submit(&w->ring);
}
