/* A C face for Google Benchmark (1.7), so benchmark bodies can be plain C.
 *
 * A benchmark is a C function that loops while gbench_keep_running() (or the
 * batched gbench_keep_running_batch()) says so, and reports how many items or
 * bytes it handled. main() registers the functions and calls gbench_main(),
 * which understands the usual --benchmark_* flags (filter, min_time,
 * repetitions, format, out, ...):
 *
 *   static void bm_encode(struct gbench_state *st, void *arg) {
 *           while (gbench_keep_running(st))
 *                   gbench_do_not_optimize(encode(buf));
 *           gbench_set_items_processed(st, gbench_iterations(st));
 *   }
 *   int main(int argc, char **argv) {
 *           gbench_register("encode", bm_encode, NULL);
 *           return gbench_main(argc, argv);
 *   }
 *
 * All C++ lives in gbench_shim.cc; nothing here needs a C++ compiler. The
 * state is only valid inside the benchmark function that received it, on the
 * thread that runs it. */
#ifndef GBENCH_SHIM_H
#define GBENCH_SHIM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct gbench_state; /* a benchmark::State, owned by the benchmark runner */

typedef void (*gbench_fn)(struct gbench_state *st, void *arg);

/* Register fn under `name` (copied); arg is passed back on every run.
 * Returns 0, or -1 if name is NULL/empty or fn is NULL. */
int gbench_register(const char *name, gbench_fn fn, void *arg);

/* True while the runner wants another iteration. The first call starts the
 * timer, the call that returns false stops it. */
int gbench_keep_running(struct gbench_state *st);

/* Like gbench_keep_running but counts n iterations per true answer, so a
 * body can run n operations per call and hide the call's cost. */
int gbench_keep_running_batch(struct gbench_state *st, int64_t n);

/* Iterations run so far (after the loop: the total). */
int64_t gbench_iterations(const struct gbench_state *st);

/* Report throughput: shown as items/s and bytes/s. Call after the loop. */
void gbench_set_items_processed(struct gbench_state *st, int64_t items);
void gbench_set_bytes_processed(struct gbench_state *st, int64_t bytes);

/* A short text shown next to the result (copied). */
void gbench_set_label(struct gbench_state *st, const char *label);

/* A named counter shown in the results (e.g. average PDU size). */
void gbench_set_counter(struct gbench_state *st, const char *name, double value);

/* Abort this benchmark with a message (e.g. the codec refused its input);
 * the body must return right after. */
void gbench_skip_with_error(struct gbench_state *st, const char *msg);

/* Pause/resume the timer around setup work inside the loop (costly: use
 * only for setup that cannot be hoisted out). */
void gbench_pause_timing(struct gbench_state *st);
void gbench_resume_timing(struct gbench_state *st);

/* Parse --benchmark_* flags from argv, run the selected benchmarks, print
 * the report. Returns 0, or 1 on an unknown flag. */
int gbench_main(int argc, char **argv);

/* Keep the compiler from discarding a computed value or the memory it points
 * to (same trick as benchmark::DoNotOptimize). */
static inline void gbench_do_not_optimize(const void *p)
{
        __asm__ __volatile__("" : : "r"(p) : "memory");
}
static inline void gbench_use_value(int64_t v)
{
        __asm__ __volatile__("" : : "r"(v) : "memory");
}
/* Force pending writes to memory to be treated as observed. */
static inline void gbench_clobber_memory(void)
{
        __asm__ __volatile__("" : : : "memory");
}

#ifdef __cplusplus
}
#endif

#endif
