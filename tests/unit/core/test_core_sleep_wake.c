/* The ingress sleep hand-shake (src/ingress/ingress.h): a consumer that
 * sleeps between sparse publishes is never left asleep with MTs queued.
 *
 * A consumer thread pops what is queued; when it finds nothing it announces
 * its sleep (ingress_announce_sleep: its flag, then the ring's reservation
 * counter) and, if that still saw nothing reserved, blocks on an eventfd
 * for up to 2 s; if it saw something reserved it waits for the publication
 * as the worker does (ingress_await_published) and looks again.
 *
 * The first test races them: a producer publishes one MT at a time
 * (ingress_publish_n, the call smx_submit makes, no fence), reads the flag
 * (ingress_sleep_flag) and writes the eventfd when it says "asleep", as
 * smx_submit and worker_main do; then it waits until the MT is consumed and
 * a little longer (a varying spin), so the next publish races the
 * consumer's way into its sleep. A wake-up lost by the ordering shows as
 * the consumer's wait timing out with an MT queued; it must never happen.
 * (With the consumer looking at the published end p_tail instead of the
 * reservation counter, the x86 store buffer lets the producer's flag load
 * pass its publication, and this test loses a wake-up within a few hundred
 * rounds; so it did with the old protocol's fence removed.)
 *
 * The second test stops a producer between its reservation CAS and its
 * publication, the window the protocol lets the flag load run into: the
 * producer reserves a cell by hand (the seq_cst CAS of idx_ring_push_n),
 * reads the flag at once (wakes the consumer if it sleeps), then waits
 * until the consumer has announced twice more (or 300 ms) and only then
 * writes the cell and publishes, without looking at the flag again. A
 * consumer that slept on seeing nothing published would sleep through the
 * publication (2 s, a lost wake-up); this one must stay up, yielding, and
 * pop it. Run with both threads on different CPUs and on the same one (a
 * publisher preempted by the consumer). */
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "ingress/ingress.h"
#include "testlib.h"

#define ROUNDS 20000
#define STOPPED_ROUNDS 40
#define ASLEEP 1

struct pair {
        struct smx_ingress g;
        _Atomic int sleeping;
        _Atomic uint32_t consumed;
        _Atomic uint32_t checked;       /* publishes whose wake-up decision is made */
        _Atomic uint32_t announces;     /* the consumer's announced sleeps */
        _Atomic int stop;
        int efd;
        unsigned consumer_cpu;
        unsigned lost, sleeps, caught, unpublished;
};

/* Pin the calling thread to the k-th CPU it may run on (when there are at
 * least two). Producer and consumer on different CPUs for the race: on one
 * CPU the consumer would mostly be asleep before the producer runs again. */
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
        pin_to(p->consumer_cpu);
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
                uint32_t reserved = ingress_announce_sleep(&p->g, &p->sleeping, ASLEEP);
                atomic_fetch_add(&p->announces, 1);
                if (reserved > 0) {
                        p->caught++;
                        if (ingress_queued(&p->g) == 0)
                                p->unpublished++;   /* reserved, not yet published */
                        atomic_store(&p->sleeping, 0);
                        ingress_await_published(&p->g);
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

/* The publisher's wake-up, as smx_submit's publish makes it. */
static void wake_if_asleep(struct pair *p)
{
        if (ingress_sleep_flag(&p->sleeping) == ASLEEP && atomic_exchange(&p->sleeping, 0)) {
                uint64_t one = 1;
                ssize_t w = write(p->efd, &one, sizeof one);
                (void)w;
        }
}

static void pair_start(struct pair *p, pthread_t *t, unsigned consumer_cpu)
{
        memset(p, 0, sizeof *p);
        CHECK_EQ(ingress_init(&p->g, 1024), 0);
        p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        CHECK(p->efd >= 0);
        p->consumer_cpu = consumer_cpu;
        CHECK_EQ(pthread_create(t, NULL, consumer, p), 0);
}

static void pair_stop(struct pair *p, pthread_t t)
{
        atomic_store(&p->stop, 1);
        uint64_t one = 1;
        ssize_t w = write(p->efd, &one, sizeof one);
        (void)w;
        pthread_join(t, NULL);
        close(p->efd);
        ingress_fini(&p->g);
}

static void wait_consumed(struct pair *p, uint32_t n)
{
        for (unsigned spins = 0; atomic_load(&p->consumed) < n; spins++)
                if ((spins & 255) == 255)
                        sched_yield();   /* the consumer may share our CPU */
}

static void test_a_consumer_sleeping_between_sparse_publishes_never_misses_one(void)
{
        static struct pair p;
        pthread_t t;
        pair_start(&p, &t, 1);
        pin_to(0);
        uint32_t x = 12345;
        unsigned rounds = 0;
        for (; rounds < ROUNDS && p.lost == 0; rounds++) {
                uint32_t idx = ingress_slot_take(&p.g);
                CHECK(idx != SMX_SLOT_NONE);
                if (idx == SMX_SLOT_NONE)
                        break;
                ingress_publish_n(&p.g, &idx, 1);
                wake_if_asleep(&p);
                atomic_store(&p.checked, rounds + 1);
                /* wait until it is consumed, then a varying pause: the next
                 * publish lands anywhere on the consumer's way from its last
                 * pop into poll() */
                wait_consumed(&p, rounds + 1);
                x = x * 1103515245u + 12345u;
                for (unsigned s = (x >> 16) & 511; s > 0; s--)
                        __asm__ volatile("" ::: "memory");
        }
        pair_stop(&p, t);
        printf("# %u publishes; the consumer announced a sleep and found an MT reserved %u "
               "times (%u of them not yet published), slept %u times, lost %u wake-ups\n",
               rounds, p.caught, p.unpublished, p.sleeps, p.lost);
        CHECK_EQ(p.lost, 0u);
        CHECK_EQ(atomic_load(&p.consumed), rounds);
        CHECK(p.sleeps > 0);    /* the test did exercise the sleep path */
}

static uint64_t mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* One publisher stopped between its reservation and its publication, per
 * round; consumer on CPU consumer_cpu, producer on CPU 0. */
static void stopped_publisher_rounds(unsigned consumer_cpu)
{
        static struct pair p;
        pthread_t t;
        pair_start(&p, &t, consumer_cpu);
        pin_to(0);
        struct smx_idx_ring *r = &p.g.in_ring;
        unsigned rounds = 0, windows = 0;
        for (; rounds < STOPPED_ROUNDS && p.lost == 0; rounds++) {
                /* let the consumer get into its sleep first, most rounds */
                if (rounds % 4 != 3)
                        usleep(2000);
                uint32_t idx = ingress_slot_take(&p.g);
                CHECK(idx != SMX_SLOT_NONE);
                if (idx == SMX_SLOT_NONE)
                        break;
                /* the reservation, as idx_ring_push_n makes it (the ring
                 * holds every slot: no room check needed) */
                uint32_t cell = atomic_fetch_add_explicit(&r->p_head, 1, memory_order_seq_cst);
                /* the flag load the protocol lets run ahead of the
                 * publication: its only look at the flag */
                wake_if_asleep(&p);
                atomic_store(&p.checked, rounds + 1);
                /* stopped: until the consumer has looked twice more */
                uint32_t seen = atomic_load(&p.announces);
                uint64_t until = mono_ms() + 300;
                while (atomic_load(&p.announces) - seen < 2 && mono_ms() < until)
                        sched_yield();
                if (atomic_load(&p.announces) - seen >= 2)
                        windows++;
                /* the publication, as idx_ring_push_n makes it */
                atomic_store_explicit(&r->cell[cell & r->mask], idx, memory_order_relaxed);
                while (atomic_load_explicit(&r->p_tail, memory_order_acquire) != cell)
                        sched_yield();
                atomic_store_explicit(&r->p_tail, cell + 1, memory_order_release);
                wait_consumed(&p, rounds + 1);
        }
        pair_stop(&p, t);
        printf("# consumer on CPU index %u: %u stopped publishes, %u of them with the "
               "consumer announcing twice inside the window; it saw a reservation not yet "
               "published %u times, slept %u times, lost %u wake-ups\n",
               consumer_cpu, rounds, windows, p.unpublished, p.sleeps, p.lost);
        CHECK_EQ(p.lost, 0u);
        CHECK_EQ(atomic_load(&p.consumed), rounds);
        CHECK(windows > 0);          /* the window was exercised */
        CHECK(p.unpublished > 0);    /* and seen from the consumer's side */
        CHECK(p.sleeps > 0);         /* the consumer did go to sleep between rounds */
}

static void test_a_publisher_stopped_between_reservation_and_publication_is_not_slept_past(void)
{
        stopped_publisher_rounds(1);   /* different CPUs (when there are two) */
}

static void test_the_same_with_publisher_and_consumer_sharing_a_cpu(void)
{
        stopped_publisher_rounds(0);   /* the consumer yields to the stopped publisher */
}

int main(void)
{
        RUN(test_a_consumer_sleeping_between_sparse_publishes_never_misses_one);
        RUN(test_a_publisher_stopped_between_reservation_and_publication_is_not_slept_past);
        RUN(test_the_same_with_publisher_and_consumer_sharing_a_cpu);
        return t_done();
}
