/* CPU time per thread of this process, split three ways: the application
 * thread (the one that submits and polls events), the library's threads
 * (its workers, and any thread it starts) and other threads the program
 * ran before the library started (an embedded simulator, its HTTP side).
 *
 * The time is the first field of /proc/self/task/TID/schedstat: nanoseconds
 * the thread spent on a CPU, user and kernel together. A thread that exits
 * between two snapshots drops out of the later one, so take both while the
 * client runs. Shared by `smsmux bench` (tools/smsmux/bench.c) and
 * bench/e2e/bench_e2e.c, which report CPU per MT from two snapshots. Not for
 * a hot path: a snapshot opens one file per thread. One thread owns a
 * struct thread_cpu. */
#ifndef SMX_THREAD_CPU_H
#define SMX_THREAD_CPU_H

#include <stddef.h>
#include <stdint.h>

#define THREAD_CPU_MAX_OTHERS 64

/* Who is who; filled by thread_cpu_init(). */
struct thread_cpu {
        long app_tid;
        long others[THREAD_CPU_MAX_OTHERS];
        size_t n_others;
};

/* Nanoseconds on a CPU so far, per group. */
struct thread_cpu_snap {
        uint64_t app_ns, lib_ns, other_ns;
};

/* Call on the application thread before the library starts its threads:
 * the caller becomes the application thread, every other thread alive now
 * counts as "other" (not the library's), every thread started later as the
 * library's. */
void thread_cpu_init(struct thread_cpu *t);

/* Read every thread's CPU time into s. */
void thread_cpu_snapshot(const struct thread_cpu *t, struct thread_cpu_snap *s);

/* (later - earlier) per MT for the application and the library threads, in
 * ns; 0 when mts is 0. */
void thread_cpu_per_mt(const struct thread_cpu_snap *earlier, const struct thread_cpu_snap *later,
                       uint64_t mts, double *app_ns, double *lib_ns);

#endif
