/* bench_ck: Concurrency Kit (ck 0.7.1) against the hand-written structures
 * of src/ingress and src/knobs, same program, same run (issue 16 item 4).
 *
 * Rings (4096 cells of 32-bit slot indices, what the ingress queue holds):
 *   ours = src/ingress/idx_ring.h; ck = ck_ring MPMC typed for a 4-byte
 *   struct (CK_RING_PROTOTYPE), which holds size - 1 entries.
 *   - ring/1: push one, pop one (one thread): the uncontended cost;
 *   - ring/32: push a run of 32 (ours: idx_ring_push_n, one reservation;
 *     ck: 32 enqueues), pop 32 (ours: idx_ring_pop_n, one CAS; ck: 32
 *     dequeues): what smx_submit_n and the worker's batched pop do;
 *   - ring/2threads: this thread pushes 65536 indices in runs of 32, a
 *     second thread pops them 32 at a time (ck: one by one), per index.
 * Stacks (4096 elements, the free slots): ours = src/ingress/free_stack.h
 *   (64-bit version+index top, 4-byte links); ck = ck_stack MPMC (pointer
 *   + generation, 16-byte CAS; 8-byte entries).
 *   - stack/1: pop one, push it back; stack/32: pop 32 (ours: pop_n, one
 *     CAS; ck: 32 pops) and push them back one by one.
 * Knob snapshots (src/knobs/knobs_client.c), the worker's side per loop
 *   turn: ours = load the published pointer, compare with the one held;
 *   ck = ck_epoch_end of the previous turn's section, ck_epoch_begin, load
 *   (the section must cover the whole turn: the worker keeps using the
 *   snapshot). Plus the setter's side: publish + retire + reclaim.
 * Figures and decisions: bench/README.md "ck or ours". */
#include <ck_epoch.h>
#include <ck_pr.h>
#include <ck_ring.h>
#include <ck_stack.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gbench_shim.h"
#include "ingress/free_stack.h"
#include "ingress/idx_ring.h"

#define N 4096u
#define RUN 32u

/* ---- rings ---- */

struct idx { uint32_t v; };
CK_RING_PROTOTYPE(idx, idx)

static _Atomic uint32_t our_cells[N];
static struct smx_idx_ring our_ring;
static struct ck_ring ck_ring;
static struct idx ck_buf[N];

static void rings_reset(void)
{
        memset(&our_ring, 0, sizeof our_ring);
        our_ring.mask = N - 1;
        our_ring.cell = our_cells;
        ck_ring_init(&ck_ring, N);
}

static void bm_ring1_ours(struct gbench_state *st, void *arg)
{
        rings_reset();
        uint32_t v = 0, out = 0;
        while (gbench_keep_running(st)) {
                idx_ring_push(&our_ring, v++);
                idx_ring_pop_n(&our_ring, &out, 1);
                gbench_use_value(out);
        }
        gbench_set_items_processed(st, gbench_iterations(st));
}

static void bm_ring1_ck(struct gbench_state *st, void *arg)
{
        rings_reset();
        struct idx v = { 0 }, out = { 0 };
        while (gbench_keep_running(st)) {
                v.v++;
                ck_ring_enqueue_mpmc_idx(&ck_ring, ck_buf, &v);
                ck_ring_dequeue_mpmc_idx(&ck_ring, ck_buf, &out);
                gbench_use_value(out.v);
        }
        gbench_set_items_processed(st, gbench_iterations(st));
}

static void bm_ring32_ours(struct gbench_state *st, void *arg)
{
        rings_reset();
        uint32_t in[RUN], out[RUN] = { 0 };
        for (uint32_t i = 0; i < RUN; i++)
                in[i] = i;
        while (gbench_keep_running(st)) {
                idx_ring_push_n(&our_ring, in, RUN);
                uint32_t got = idx_ring_pop_n(&our_ring, out, RUN);
                gbench_use_value(out[got - 1]);
        }
        gbench_set_items_processed(st, gbench_iterations(st) * RUN);
}

static void bm_ring32_ck(struct gbench_state *st, void *arg)
{
        rings_reset();
        struct idx in[RUN], out[RUN] = { { 0 } };
        for (uint32_t i = 0; i < RUN; i++)
                in[i].v = i;
        while (gbench_keep_running(st)) {
                for (uint32_t i = 0; i < RUN; i++)
                        ck_ring_enqueue_mpmc_idx(&ck_ring, ck_buf, &in[i]);
                for (uint32_t i = 0; i < RUN; i++)
                        ck_ring_dequeue_mpmc_idx(&ck_ring, ck_buf, &out[i]);
                gbench_use_value(out[RUN - 1].v);
        }
        gbench_set_items_processed(st, gbench_iterations(st) * RUN);
}

#define XFER (1u << 16)

static void *consume_ours(void *arg)
{
        uint32_t out[RUN], got = 0;
        uint64_t sum = 0;
        while (got < XFER) {
                uint32_t n = idx_ring_pop_n(&our_ring, out, RUN);
                for (uint32_t i = 0; i < n; i++)
                        sum += out[i];
                got += n;
        }
        *(uint64_t *)arg = sum;
        return NULL;
}

static void *consume_ck(void *arg)
{
        struct idx out;
        uint32_t got = 0;
        uint64_t sum = 0;
        while (got < XFER) {
                if (ck_ring_dequeue_mpmc_idx(&ck_ring, ck_buf, &out)) {
                        sum += out.v;
                        got++;
                }
        }
        *(uint64_t *)arg = sum;
        return NULL;
}

static void bm_ring2t_ours(struct gbench_state *st, void *arg)
{
        rings_reset();
        uint32_t in[RUN];
        uint64_t sum = 0;
        while (gbench_keep_running(st)) {
                pthread_t t;
                pthread_create(&t, NULL, consume_ours, &sum);
                for (uint32_t k = 0; k < XFER; k += RUN) {
                        for (uint32_t i = 0; i < RUN; i++)
                                in[i] = k + i;
                        while (idx_ring_push_n(&our_ring, in, RUN) < 0)
                                ;
                }
                pthread_join(t, NULL);
        }
        gbench_use_value((int64_t)sum);
        gbench_set_items_processed(st, gbench_iterations(st) * XFER);
}

static void bm_ring2t_ck(struct gbench_state *st, void *arg)
{
        rings_reset();
        uint64_t sum = 0;
        while (gbench_keep_running(st)) {
                pthread_t t;
                pthread_create(&t, NULL, consume_ck, &sum);
                for (uint32_t k = 0; k < XFER; k++) {
                        struct idx v = { k };
                        while (!ck_ring_enqueue_mpmc_idx(&ck_ring, ck_buf, &v))
                                ;
                }
                pthread_join(t, NULL);
        }
        gbench_use_value((int64_t)sum);
        gbench_set_items_processed(st, gbench_iterations(st) * XFER);
}

/* ---- stacks ---- */

static _Atomic uint32_t our_links[N];
static _Atomic uint64_t our_top;
static struct ck_stack ck_stack CK_CC_CACHELINE;
static struct ck_stack_entry ck_entries[N];

static struct free_stack_links links(void)
{
        return (struct free_stack_links){ (uint8_t *)our_links, sizeof our_links[0] };
}

static void stacks_reset(void)
{
        for (uint32_t i = 0; i < N; i++)
                atomic_init(&our_links[i], i + 1 < N ? i + 1 : FREE_STACK_NONE);
        atomic_init(&our_top, 0);
        ck_stack_init(&ck_stack);
        for (uint32_t i = N; i-- > 0;)
                ck_stack_push_mpmc(&ck_stack, &ck_entries[i]);
}

static void bm_stack1_ours(struct gbench_state *st, void *arg)
{
        stacks_reset();
        while (gbench_keep_running(st)) {
                uint32_t i = free_stack_pop(&our_top, links());
                free_stack_push(&our_top, links(), i);
        }
        gbench_set_items_processed(st, gbench_iterations(st));
}

static void bm_stack1_ck(struct gbench_state *st, void *arg)
{
        stacks_reset();
        while (gbench_keep_running(st)) {
                struct ck_stack_entry *e = ck_stack_pop_mpmc(&ck_stack);
                ck_stack_push_mpmc(&ck_stack, e);
        }
        gbench_set_items_processed(st, gbench_iterations(st));
}

static void bm_stack32_ours(struct gbench_state *st, void *arg)
{
        stacks_reset();
        uint32_t out[RUN];
        while (gbench_keep_running(st)) {
                uint32_t n = free_stack_pop_n(&our_top, links(), N, out, RUN);
                while (n-- > 0)
                        free_stack_push(&our_top, links(), out[n]);
        }
        gbench_set_items_processed(st, gbench_iterations(st) * RUN);
}

static void bm_stack32_ck(struct gbench_state *st, void *arg)
{
        stacks_reset();
        struct ck_stack_entry *out[RUN];
        while (gbench_keep_running(st)) {
                for (uint32_t i = 0; i < RUN; i++)
                        out[i] = ck_stack_pop_mpmc(&ck_stack);
                for (uint32_t i = RUN; i-- > 0;)
                        ck_stack_push_mpmc(&ck_stack, out[i]);
        }
        gbench_set_items_processed(st, gbench_iterations(st) * RUN);
}

/* ---- knob snapshots ---- */

struct snap {
        uint64_t gen;
        ck_epoch_entry_t epoch_entry;
        char body[256];
};

static _Atomic(struct snap *) cur;
static _Atomic uint64_t seen[4];

/* ours: what knobs_sync_w does at the top of every loop turn */
static void bm_knob_turn_ours(struct gbench_state *st, void *arg)
{
        static struct snap s0 = { .gen = 1 };
        atomic_store(&cur, &s0);
        struct snap *held = NULL;
        while (gbench_keep_running(st)) {
                struct snap *k = atomic_load(&cur);
                if (k != held) {
                        atomic_store(&seen[0], k->gen);
                        held = k;
                }
                gbench_use_value((int64_t)held->gen);
        }
        gbench_set_items_processed(st, gbench_iterations(st));
}

static ck_epoch_t epoch;

static void bm_knob_turn_ck(struct gbench_state *st, void *arg)
{
        static struct snap s0 = { .gen = 1 };
        static ck_epoch_record_t rec;
        ck_epoch_init(&epoch);
        ck_epoch_register(&epoch, &rec, NULL);
        atomic_store(&cur, &s0);
        ck_epoch_begin(&rec, NULL);
        while (gbench_keep_running(st)) {
                ck_epoch_end(&rec, NULL);
                ck_epoch_begin(&rec, NULL);
                struct snap *k = atomic_load_explicit(&cur, memory_order_acquire);
                gbench_use_value((int64_t)k->gen);
        }
        ck_epoch_end(&rec, NULL);
        ck_epoch_unregister(&rec);
        gbench_set_items_processed(st, gbench_iterations(st));
}

/* the setter: publish a new snapshot, retire the old one, free what no
 * reader holds (one reader that keeps up) */
static void bm_knob_set_ours(struct gbench_state *st, void *arg)
{
        struct snap *retired[64];
        size_t n_ret = 0;
        atomic_store(&cur, calloc(1, sizeof(struct snap)));
        while (gbench_keep_running(st)) {
                struct snap *next = malloc(sizeof *next), *old = atomic_load(&cur);
                next->gen = old->gen + 1;
                atomic_store(&cur, next);
                retired[n_ret++] = old;
                atomic_store(&seen[0], next->gen);   /* the reader moved on */
                uint64_t min = atomic_load(&seen[0]);
                size_t j = 0;
                for (size_t i = 0; i < n_ret; i++) {
                        if (retired[i]->gen < min)
                                free(retired[i]);
                        else
                                retired[j++] = retired[i];
                }
                n_ret = j;
        }
        for (size_t i = 0; i < n_ret; i++)
                free(retired[i]);
        free(atomic_load(&cur));
        gbench_set_items_processed(st, gbench_iterations(st));
}

static void snap_free_cb(ck_epoch_entry_t *e)
{
        free((char *)e - offsetof(struct snap, epoch_entry));
}

static void bm_knob_set_ck(struct gbench_state *st, void *arg)
{
        static ck_epoch_record_t writer, reader;
        ck_epoch_init(&epoch);
        ck_epoch_register(&epoch, &writer, NULL);
        ck_epoch_register(&epoch, &reader, NULL);
        atomic_store(&cur, calloc(1, sizeof(struct snap)));
        while (gbench_keep_running(st)) {
                struct snap *next = malloc(sizeof *next), *old = atomic_load(&cur);
                next->gen = old->gen + 1;
                atomic_store(&cur, next);
                ck_epoch_call(&writer, &old->epoch_entry, snap_free_cb);
                ck_epoch_begin(&reader, NULL);       /* the reader moved on */
                ck_epoch_end(&reader, NULL);
                ck_epoch_poll(&writer);
        }
        ck_epoch_barrier(&writer);
        free(atomic_load(&cur));
        ck_epoch_unregister(&writer);
        ck_epoch_unregister(&reader);
        gbench_set_items_processed(st, gbench_iterations(st));
}

int main(int argc, char **argv)
{
        gbench_register("ring/1/ours_idx_ring", bm_ring1_ours, NULL);
        gbench_register("ring/1/ck_ring_mpmc", bm_ring1_ck, NULL);
        gbench_register("ring/32/ours_idx_ring", bm_ring32_ours, NULL);
        gbench_register("ring/32/ck_ring_mpmc", bm_ring32_ck, NULL);
        gbench_register("ring/2threads/ours_idx_ring", bm_ring2t_ours, NULL);
        gbench_register("ring/2threads/ck_ring_mpmc", bm_ring2t_ck, NULL);
        gbench_register("stack/1/ours_free_stack", bm_stack1_ours, NULL);
        gbench_register("stack/1/ck_stack_mpmc", bm_stack1_ck, NULL);
        gbench_register("stack/32/ours_free_stack", bm_stack32_ours, NULL);
        gbench_register("stack/32/ck_stack_mpmc", bm_stack32_ck, NULL);
        gbench_register("knob_turn/ours_seen_gen", bm_knob_turn_ours, NULL);
        gbench_register("knob_turn/ck_epoch", bm_knob_turn_ck, NULL);
        gbench_register("knob_set/ours_seen_gen", bm_knob_set_ours, NULL);
        gbench_register("knob_set/ck_epoch", bm_knob_set_ck, NULL);
        return gbench_main(argc, argv);
}
