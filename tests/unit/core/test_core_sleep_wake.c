/* The ingress sleep hand-shake (src/ingress/ingress.h): a consumer that
 * sleeps between sparse publishes is never left asleep with MTs queued.
 *
 * A consumer thread pops what is queued; when it finds nothing it announces
 * its sleep (ingress_announce_sleep) and, if that still saw nothing, blocks
 * on an eventfd for up to 2 s. A producer publishes one MT at a time
 * (ingress_publish_n, the call smx_submit makes), reads the flag
 * (ingress_sleep_flag) and writes the eventfd when it says "asleep", exactly
 * as smx_submit and worker_main do; then it waits until the MT is consumed
 * and a little longer (a varying spin), so the next publish races the
 * consumer's way into its sleep. A wake-up lost by the ordering shows as
 * the consumer's wait timing out with an MT queued; it must never happen.
 * (With the fence after the publication removed, i.e. no store-load
 * ordering, this test saw a lost wake-up within 4 to 200 rounds on
 * x86.) */
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "ingress/ingress.h"
#include "testlib.h"

#define ROUNDS 20000
#define ASLEEP 1

struct pair {
        struct smx_ingress g;
        _Atomic int sleeping;
        _Atomic uint32_t consumed;
        _Atomic uint32_t checked;       /* publishes whose wake-up decision is made */
        _Atomic int stop;
        int efd;
        unsigned lost, sleeps, caught;
};

/* Producer and consumer on different CPUs when there are two: on one CPU
 * the consumer would mostly be asleep before the producer runs again, and
 * the race this test is after would hardly ever happen. */
static void pin_to(unsigned k)
{
        cpu_set_t all, one;
        if (sched_getaffinity(0, sizeof all, &all) != 0 || CPU_COUNT(&all) < 2)
                return;
        unsigned seen = 0;
        for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
                if (!CPU_ISSET(cpu, &all))
                        continue;
                if (seen++ == k) {
                        CPU_ZERO(&one);
                        CPU_SET(cpu, &one);
                        pthread_setaffinity_np(pthread_self(), sizeof one, &one);
                        return;
                }
        }
}

static void *consumer(void *arg)
{
        struct pair *p = arg;
        uint32_t x = 777;
        pin_to(1);
        while (!atomic_load(&p->stop)) {
                uint32_t idx[64];
                uint32_t n = ingress_pop_n(&p->g, idx, 64);
                if (n) {
                        for (uint32_t i = 0; i < n; i++)
                                ingress_slot_free(&p->g, idx[i]);
                        atomic_fetch_add(&p->consumed, n);
                        continue;
                }
                /* the rest of a worker's loop turn before it may sleep: a
                 * varying time, so publishes land before, inside and after
                 * the announce */
                x = x * 1103515245u + 12345u;
                for (unsigned s = (x >> 16) & 4095; s > 0; s--)
                        __asm__ volatile("" ::: "memory");
                if (ingress_announce_sleep(&p->g, &p->sleeping, ASLEEP) > 0) {
                        p->caught++;
                        atomic_store(&p->sleeping, 0);
                        continue;
                }
                p->sleeps++;
                struct pollfd pf = { .fd = p->efd, .events = POLLIN };
                int r = poll(&pf, 1, 2000);
                atomic_store(&p->sleeping, 0);
                if (r == 1) {
                        uint64_t v;
                        ssize_t rd = read(p->efd, &v, sizeof v);
                        (void)rd;
                } else if (ingress_queued(&p->g) > 0 &&
                           atomic_load(&p->checked) > atomic_load(&p->consumed)) {
                        /* slept through a publish whose publisher had already
                         * looked at our flag and not woken us (one merely
                         * preempted between the two would be late, not lost) */
                        p->lost++;
                }
        }
        return NULL;
}

/* The publisher's side of smx_submit: publish, then wake the sleeper. */
static void publish_one(struct pair *p, uint32_t idx)
{
        ingress_publish_n(&p->g, &idx, 1);
        if (ingress_sleep_flag(&p->sleeping) == ASLEEP && atomic_exchange(&p->sleeping, 0)) {
                uint64_t one = 1;
                ssize_t w = write(p->efd, &one, sizeof one);
                (void)w;
        }
}

static void test_a_consumer_sleeping_between_sparse_publishes_never_misses_one(void)
{
        static struct pair p;
        CHECK_EQ(ingress_init(&p.g, 1024), 0);
        p.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        CHECK(p.efd >= 0);
        pthread_t t;
        CHECK_EQ(pthread_create(&t, NULL, consumer, &p), 0);
        pin_to(0);
        uint32_t x = 12345;
        unsigned rounds = 0;
        for (; rounds < ROUNDS && p.lost == 0; rounds++) {
                uint32_t idx = ingress_slot_take(&p.g);
                CHECK(idx != SMX_SLOT_NONE);
                if (idx == SMX_SLOT_NONE)
                        break;
                publish_one(&p, idx);
                atomic_store(&p.checked, rounds + 1);
                /* wait until it is consumed, then a varying pause: the next
                 * publish lands anywhere on the consumer's way from its last
                 * pop into poll() */
                for (unsigned spins = 0; atomic_load(&p.consumed) < rounds + 1; spins++)
                        if ((spins & 255) == 255)
                                sched_yield();   /* the consumer may share our CPU */
                x = x * 1103515245u + 12345u;
                for (unsigned s = (x >> 16) & 511; s > 0; s--)
                        __asm__ volatile("" ::: "memory");
        }
        atomic_store(&p.stop, 1);
        uint64_t one = 1;
        ssize_t w = write(p.efd, &one, sizeof one);
        (void)w;
        pthread_join(t, NULL);
        printf("# %u publishes; the consumer announced a sleep and found an MT %u times, "
               "slept %u times, lost %u wake-ups\n", rounds, p.caught, p.sleeps, p.lost);
        CHECK_EQ(p.lost, 0u);
        CHECK_EQ(atomic_load(&p.consumed), rounds);
        CHECK(p.sleeps > 0);    /* the test did exercise the sleep path */
        close(p.efd);
        ingress_fini(&p.g);
}

int main(void)
{
        RUN(test_a_consumer_sleeping_between_sparse_publishes_never_misses_one);
        return t_done();
}
