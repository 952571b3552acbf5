/* What bench_ck_held and bench_ck_reasm share: two single-owner tables,
 * ours against one ck_hs, compared on three operations at loads 50 % and
 * 80 %. Each program's case struct starts with a struct pair_case (the load
 * and which table it runs); this header gives ck_hs a counting allocator
 * (hs_bytes: the bytes ck_hs holds, for the bytes-per-entry counter), the
 * end-of-run report every benchmark makes, and the registration of
 * op x load x {ours, ck_hs}. Single-threaded: nothing here is shared
 * between threads (hs_bytes is atomic only because ck calls back). */
#ifndef BENCH_CK_PAIR_H
#define BENCH_CK_PAIR_H

#include <ck_malloc.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "gbench_shim.h"

struct pair_case {
        unsigned load_pct;
        int use_ck;                     /* 1: the ck_hs table; 0: ours */
};

static _Atomic size_t hs_bytes;

static void *hs_malloc(size_t n)
{
        hs_bytes += n;
        return malloc(n);
}

static void hs_free(void *p, size_t n, bool defer)
{
        hs_bytes -= n;
        free(p);
}

static struct ck_malloc hs_alloc = { hs_malloc, NULL, hs_free };

/* After the timed loop: items = iterations, the bytes-per-entry counter,
 * and a skip with `wrong` when any answer was wrong. */
static void pair_report(struct gbench_state *st, const char *counter, double bytes_per,
                        int64_t bad, const char *wrong)
{
        gbench_set_items_processed(st, gbench_iterations(st));
        gbench_set_counter(st, counter, bytes_per);
        if (bad)
                gbench_skip_with_error(st, wrong);
}

struct pair_op {
        const char *name;
        gbench_fn fn;
};

/* Register "prefix/op/loadL/{ours_name|ck_hs}" for each of the 3 ops, loads
 * 50 and 80, ours then ck_hs. cases: 2 x 2 case structs of `case_size`
 * bytes ([load][ck]), each starting with a struct pair_case; a case keeps
 * its table across the ops run on it. */
static void pair_register(const char *prefix, const char *ours_name,
                          const struct pair_op ops[3], void *cases, size_t case_size)
{
        static const unsigned loads[] = { 50, 80 };
        for (unsigned o = 0; o < 3; o++)
                for (unsigned l = 0; l < 2; l++)
                        for (int ck = 0; ck < 2; ck++) {
                                char name[96];
                                struct pair_case *c =
                                        (void *)((char *)cases + (l * 2 + ck) * case_size);
                                c->load_pct = loads[l];
                                c->use_ck = ck;
                                snprintf(name, sizeof name, "%s/%s/load%u/%s", prefix,
                                         ops[o].name, loads[l], ck ? "ck_hs" : ours_name);
                                gbench_register(name, ops[o].fn, c);
                        }
}

#endif
