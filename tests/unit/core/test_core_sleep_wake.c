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
 * publisher preempted by the consumer).
 *
 * The fourth runs several of each at once (several application threads in
 * smx_submit / smx_submit_n, several workers): two producers publishing
 * runs of 1..8, one of them descheduled between its CAS and its
 * publication one run in 16 (the other's runs queue behind it), two
 * consumers with their own flags. With the sleeper reading p_tail instead
 * of p_head it loses a wake-up within a few hundred runs. */
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

/* The CPUs the process may run on, read once at start (main): a test that
 * pinned the main thread would otherwise leave every later thread, which
 * inherits its mask, a one-CPU set, and no case would run on two CPUs. */
static cpu_set_t start_cpus;

/* Pin the calling thread to the k-th CPU of start_cpus (when there are at
 * least two). Producer and consumer on different CPUs for the race: on one
 * CPU the consumer would mostly be asleep before the producer runs again. */
static void pin_to(unsigned k)
{
        cpu_set_t one;
        if (CPU_COUNT(&start_cpus) < 2)
                return;
        unsigned seen = 0;
        for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
                if (!CPU_ISSET(cpu, &start_cpus))
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


/* Several publishers and several sleepers at once, as several application
 * threads calling smx_submit / smx_submit_n and several workers make them:
 * NPROD producers each publish runs of 1..8 MTs (ingress_publish_n, then
 * the flag of every consumer, as publish() in src/core/submit.c), and wait
 * until their own run is consumed; NCONS consumers pop, announce their own
 * sleep and block on their own eventfd for up to 3 s. Producer 0 stops one
 * run in 16 between its reservation CAS and its publication for 1-3 ms (a
 * publisher descheduled there), so the other producer's runs queue behind
 * it (their publication waits for p_tail) and the consumers see the ring
 * reserved and not published. A lost wake-up leaves a run unconsumed until
 * a consumer's 3 s timeout: a producer waiting 2.5 s for its run counts it
 * (no thread is runnable and starved that long). Every MT is popped exactly
 * once (a per-slot in-ring mark). */
#define NPROD 2
#define NCONS 2
#define MULTI_RUNS 6000

struct multi {
        struct smx_ingress g;
        _Atomic int sleeping[NCONS];
        int efd[NCONS];
        _Atomic uint8_t owner[1024];
        _Atomic uint8_t in_ring[1024];
        _Atomic uint32_t consumed[NPROD];
        _Atomic uint32_t dup, lost, sleeps, unpublished, stopped_windows;
        _Atomic uint32_t timeouts_with_queued;
        _Atomic uint64_t max_wait_us;
        _Atomic int stop;
};

struct multi_arg {
        struct multi *m;
        unsigned k;
        uint32_t produced;
};

static uint64_t mono_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void multi_wake_all(struct multi *m)
{
        for (unsigned j = 0; j < NCONS; j++)
                if (ingress_sleep_flag(&m->sleeping[j]) == ASLEEP &&
                    atomic_exchange(&m->sleeping[j], 0)) {
                        uint64_t one = 1;
                        ssize_t w = write(m->efd[j], &one, sizeof one);
                        (void)w;
                }
}

static void *multi_consumer(void *arg)
{
        struct multi_arg *a = arg;
        struct multi *m = a->m;
        unsigned j = a->k;
        uint32_t x = 991 + j;
        while (!atomic_load(&m->stop)) {
                uint32_t idx[16];
                uint32_t n = ingress_pop_n(&m->g, idx, 16);
                if (n) {
                        for (uint32_t i = 0; i < n; i++) {
                                if (atomic_exchange(&m->in_ring[idx[i]], 0) != 1)
                                        atomic_fetch_add(&m->dup, 1);
                                unsigned k = atomic_load(&m->owner[idx[i]]);
                                ingress_slot_free(&m->g, idx[i]);
                                atomic_fetch_add(&m->consumed[k], 1);
                        }
                        continue;
                }
                x = x * 1103515245u + 12345u;
                for (unsigned s = (x >> 16) & 2047; s > 0; s--)
                        __asm__ volatile("" ::: "memory");
                uint32_t reserved = ingress_announce_sleep(&m->g, &m->sleeping[j], ASLEEP);
                if (reserved > 0) {
                        if (ingress_queued(&m->g) == 0)
                                atomic_fetch_add(&m->unpublished, 1);
                        atomic_store(&m->sleeping[j], 0);
                        ingress_await_published(&m->g);
                        continue;
                }
                atomic_fetch_add(&m->sleeps, 1);
                struct pollfd pf = { .fd = m->efd[j], .events = POLLIN };
                int r = poll(&pf, 1, 3000);
                atomic_store(&m->sleeping[j], 0);
                if (r == 1) {
                        uint64_t v;
                        ssize_t rd = read(m->efd[j], &v, sizeof v);
                        (void)rd;
                } else if (ingress_queued(&m->g) > 0) {
                        atomic_fetch_add(&m->timeouts_with_queued, 1);
                }
        }
        return NULL;
}

static void *multi_producer(void *arg)
{
        struct multi_arg *a = arg;
        struct multi *m = a->m;
        struct smx_idx_ring *r = &m->g.in_ring;
        uint32_t x = 4242 + a->k * 7919;
        for (unsigned run = 0; run < MULTI_RUNS && atomic_load(&m->lost) == 0; run++) {
                x = x * 1103515245u + 12345u;
                uint32_t n = 1 + ((x >> 16) & 7), idx[8];
                for (uint32_t i = 0; i < n; i++) {
                        idx[i] = ingress_slot_take(&m->g);
                        if (idx[i] == SMX_SLOT_NONE)
                                return NULL;   /* cannot happen: main checks produced */
                        atomic_store(&m->owner[idx[i]], (uint8_t)a->k);
                        atomic_store(&m->in_ring[idx[i]], 1);
                }
                if (a->k == 0 && (run & 15) == 15) {
                        /* stopped between the reservation and the publication */
                        uint32_t cell = atomic_fetch_add_explicit(&r->p_head, n,
                                                                  memory_order_seq_cst);
                        multi_wake_all(m);
                        usleep(1000 + ((x >> 8) & 2047));
                        atomic_fetch_add(&m->stopped_windows, 1);
                        for (uint32_t i = 0; i < n; i++)
                                atomic_store_explicit(&r->cell[(cell + i) & r->mask], idx[i],
                                                      memory_order_relaxed);
                        while (atomic_load_explicit(&r->p_tail, memory_order_acquire) != cell)
                                sched_yield();
                        atomic_store_explicit(&r->p_tail, cell + n, memory_order_release);
                } else {
                        ingress_publish_n(&m->g, idx, n);
                        multi_wake_all(m);
                }
                a->produced += n;
                uint64_t t0 = mono_us();
                for (unsigned spins = 0; atomic_load(&m->consumed[a->k]) < a->produced; spins++)
                        if ((spins & 255) == 255)
                                sched_yield();
                uint64_t waited = mono_us() - t0;
                if (waited >= 2500000u)
                        atomic_fetch_add(&m->lost, 1);
                uint64_t mx = atomic_load(&m->max_wait_us);
                while (waited > mx && !atomic_compare_exchange_weak(&m->max_wait_us, &mx, waited))
                        ;
                for (unsigned s = (x >> 20) & 1023; s > 0; s--)
                        __asm__ volatile("" ::: "memory");
        }
        return NULL;
}

static void test_several_publishers_of_runs_and_several_sleepers_lose_no_wake_up(void)
{
        static struct multi m;
        memset(&m, 0, sizeof m);
        CHECK_EQ(ingress_init(&m.g, 1024), 0);
        pthread_t ct[NCONS], pt[NPROD];
        struct multi_arg ca[NCONS], pa[NPROD];
        for (unsigned j = 0; j < NCONS; j++) {
                m.efd[j] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
                CHECK(m.efd[j] >= 0);
                ca[j] = (struct multi_arg){ &m, j, 0 };
                CHECK_EQ(pthread_create(&ct[j], NULL, multi_consumer, &ca[j]), 0);
        }
        for (unsigned k = 0; k < NPROD; k++) {
                pa[k] = (struct multi_arg){ &m, k, 0 };
                CHECK_EQ(pthread_create(&pt[k], NULL, multi_producer, &pa[k]), 0);
        }
        for (unsigned k = 0; k < NPROD; k++)
                pthread_join(pt[k], NULL);
        atomic_store(&m.stop, 1);
        for (unsigned j = 0; j < NCONS; j++) {
                uint64_t one = 1;
                ssize_t w = write(m.efd[j], &one, sizeof one);
                (void)w;
        }
        for (unsigned j = 0; j < NCONS; j++) {
                pthread_join(ct[j], NULL);
                close(m.efd[j]);
        }
        printf("# %u producers x %u runs of 1..8, %u consumers: %u sleeps, %u stopped "
               "publications, a reservation seen unpublished %u times, %u timeouts with MTs "
               "queued, longest wait for a run %llu us, %u lost, %u popped twice\n",
               NPROD, MULTI_RUNS, NCONS, atomic_load(&m.sleeps),
               atomic_load(&m.stopped_windows), atomic_load(&m.unpublished),
               atomic_load(&m.timeouts_with_queued), (unsigned long long)atomic_load(&m.max_wait_us),
               atomic_load(&m.lost), atomic_load(&m.dup));
        for (unsigned k = 0; k < NPROD; k++) {
                if (atomic_load(&m.lost) == 0)
                        CHECK(pa[k].produced >= MULTI_RUNS);   /* every run was published */
                CHECK_EQ(atomic_load(&m.consumed[k]), pa[k].produced);
        }
        CHECK_EQ(atomic_load(&m.lost), 0u);
        CHECK_EQ(atomic_load(&m.timeouts_with_queued), 0u);
        CHECK_EQ(atomic_load(&m.dup), 0u);
        CHECK_EQ(ingress_queued(&m.g), 0u);
        CHECK(atomic_load(&m.sleeps) > 0);
        CHECK(atomic_load(&m.stopped_windows) > 0);
        ingress_fini(&m.g);
}

int main(void)
{
        if (sched_getaffinity(0, sizeof start_cpus, &start_cpus) != 0)
                CPU_ZERO(&start_cpus);
        RUN(test_a_consumer_sleeping_between_sparse_publishes_never_misses_one);
        RUN(test_a_publisher_stopped_between_reservation_and_publication_is_not_slept_past);
        RUN(test_the_same_with_publisher_and_consumer_sharing_a_cpu);
        RUN(test_several_publishers_of_runs_and_several_sleepers_lose_no_wake_up);
        return t_done();
}
