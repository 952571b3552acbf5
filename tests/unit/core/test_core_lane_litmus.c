/* The lanes' sleep hand-shake as a store-buffering litmus test
 * (src/ingress/ingress.h, lane.h): the library's own lane publication
 * (lane_publish_n, then ingress_sleep_flag, as smx_submit's publish) raced
 * head-on against a worker's announce (ingress_announce_sleep), the two
 * threads on two different CPUs, released together by a spinning barrier
 * each round.
 *
 * Each side stores, then loads what the other stored: the publisher the
 * lane's tail, then the sleep flag; the sleeper the flag, then the lanes'
 * tails. If neither load sees the other's store, the publisher does not
 * wake the sleeper and the sleeper finds nothing queued and sleeps with an
 * MT on the lane: a lost wake-up. x86 allows exactly that when a side has
 * no full fence between its store and its load (the store waits in the
 * store buffer while the load runs ahead). With lane_publish_n's fence
 * removed this loses a wake-up in a large share of the rounds; with it,
 * never. The test also checks that the race is real: both orders (the
 * publisher seeing the flag, the sleeper seeing the MT) occur.
 *
 * The CPUs are read once, at start, from the process's mask: a thread
 * pinned earlier would otherwise hand its one-CPU mask to every thread it
 * creates. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "ingress/lane.h"
#include "testlib.h"

#define ROUNDS 1000000u
#define MAX_SECONDS 10   /* fewer rounds on a loaded machine */
#define ASLEEP 1

static int cpu_pub = -1, cpu_sleep = -1;

/* The first two CPUs of the mask the process started with. */
static void record_cpus(void)
{
        cpu_set_t all;
        if (sched_getaffinity(0, sizeof all, &all) != 0)
                return;
        for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
                if (!CPU_ISSET(cpu, &all))
                        continue;
                if (cpu_pub < 0)
                        cpu_pub = cpu;
                else if (cpu_sleep < 0)
                        cpu_sleep = cpu;
        }
}

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int pin(int cpu)
{
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        if (pthread_setaffinity_np(pthread_self(), sizeof one, &one) != 0)
                return -1;
        return sched_getcpu() == cpu ? 0 : -1;
}

struct litmus {
        struct smx_ingress g;
        struct smx_lane *lane;
        uint32_t idx;                   /* the one MT published each round */
        char pad0_[64];
        _Atomic int flag;               /* the sleeper's `sleeping` */
        char pad1_[64];
        _Atomic uint32_t arrived;       /* the spinning barrier */
        char pad2_[64];
        int pub_saw_asleep;             /* this round: the publisher would wake */
        _Atomic uint32_t last_round;    /* set by the sleeper at the time limit */
        uint64_t deadline_ns;
        uint32_t rounds;
        int pinned_pub, pinned_sleep;
        unsigned lost, pub_first, sleep_first, both;
};

/* Both threads wait here; the k-th barrier (from 1) lets them on when both
 * have arrived at it. */
static void barrier(struct litmus *t, uint32_t k)
{
        atomic_fetch_add_explicit(&t->arrived, 1, memory_order_acq_rel);
        while (atomic_load_explicit(&t->arrived, memory_order_acquire) < 2 * k)
                __builtin_ia32_pause();
}

/* A short delay (0-255 empty iterations) for one side, chosen per round:
 * which side's store comes first varies, so both orders and the head-on
 * case occur (without it one side is nearly always first: with the fence
 * removed, 0.1-0.4 % of rounds lost a wake-up; with it, 2-10 %). */
static void jitter(uint32_t r, int side)
{
        uint32_t h = (r + 1) * 2654435761u;
        if ((int)((h >> 28) & 1) != side)
                return;
        for (unsigned n = (h >> 16) & 255; n > 0; n--)
                __asm__ volatile("" ::: "memory");
}

static void *publisher(void *arg)
{
        struct litmus *t = arg;
        t->pinned_pub = pin(cpu_pub) == 0;
        for (uint32_t r = 0; r < ROUNDS; r++) {
                barrier(t, 3 * r + 1);
                /* the flag's line shared in this core's cache, as a
                 * publisher that looked at it before finds it */
                (void)atomic_load_explicit(&t->flag, memory_order_relaxed);
                barrier(t, 3 * r + 2);
                jitter(r, 0);
                lane_publish_n(t->lane, &t->idx, 1);
                t->pub_saw_asleep = ingress_sleep_flag(&t->flag) == ASLEEP;
                barrier(t, 3 * r + 3);
                if (atomic_load_explicit(&t->last_round, memory_order_relaxed) == r)
                        break;
        }
        return NULL;
}

static void *sleeper(void *arg)
{
        struct litmus *t = arg;
        t->pinned_sleep = pin(cpu_sleep) == 0;
        for (uint32_t r = 0; r < ROUNDS; r++) {
                barrier(t, 3 * r + 1);
                barrier(t, 3 * r + 2);
                jitter(r, 1);
                uint32_t queued = ingress_announce_sleep(&t->g, &t->flag, ASLEEP);
                /* a loaded machine (preempted spinners): stop at the time
                 * limit, both threads after the same round */
                if ((r & 4095) == 4095 && now_ns() > t->deadline_ns)
                        atomic_store_explicit(&t->last_round, r, memory_order_relaxed);
                if (r == ROUNDS - 1)
                        atomic_store_explicit(&t->last_round, r, memory_order_relaxed);
                barrier(t, 3 * r + 3);
                int woken = t->pub_saw_asleep;
                if (!woken && queued == 0)
                        t->lost++;      /* asleep with the MT on the lane */
                else if (woken && queued)
                        t->both++;
                else if (woken)
                        t->sleep_first++;
                else
                        t->pub_first++;
                /* reset for the next round (ordered by its barrier); read
                 * the MT as a worker would */
                uint32_t got;
                if (ingress_pop_n(&t->g, &got, 1) != 1 || got != t->idx)
                        t->lost += 1000000;   /* the MT vanished: fail loudly */
                atomic_store_explicit(&t->flag, 0, memory_order_relaxed);
                t->rounds = r + 1;
                if (atomic_load_explicit(&t->last_round, memory_order_relaxed) == r)
                        break;
        }
        return NULL;
}

static void test_lane_publish_and_announce_never_both_miss(void)
{
        if (cpu_sleep < 0) {
                printf("# one CPU only: the litmus needs two\n");
                return;
        }
        static struct litmus t;
        memset(&t, 0, sizeof t);
        CHECK_EQ(ingress_init(&t.g, 1024), 0);
        t.lane = lane_claim(&t.g);
        CHECK(t.lane != NULL);
        if (!t.lane)
                return;
        t.idx = lane_take(t.lane);
        CHECK(t.idx != SMX_SLOT_NONE);
        atomic_store(&t.last_round, UINT32_MAX);
        uint64_t a = now_ns();
        t.deadline_ns = a + (uint64_t)MAX_SECONDS * 1000000000u;
        pthread_t tp, ts;
        CHECK_EQ(pthread_create(&ts, NULL, sleeper, &t), 0);
        CHECK_EQ(pthread_create(&tp, NULL, publisher, &t), 0);
        pthread_join(tp, NULL);
        pthread_join(ts, NULL);
        double s = (double)(now_ns() - a) / 1e9;
        printf("# CPUs %d and %d, %u rounds in %.2f s: lost %u, publisher saw the flag only %u, "
               "sleeper saw the MT only %u, both %u\n",
               cpu_pub, cpu_sleep, t.rounds, s, t.lost, t.sleep_first, t.pub_first, t.both);
        CHECK(t.pinned_pub && t.pinned_sleep);
        CHECK_EQ(t.lost, 0);
        /* the race is real: each side's store was sometimes first */
        CHECK(t.pub_first > 0);
        CHECK(t.sleep_first > 0);
        lane_release(t.lane);
        ingress_fini(&t.g);
}

int main(void)
{
        record_cpus();
        RUN(test_lane_publish_and_announce_never_both_miss);
        return t_done();
}
