/* Internals of `smsmux demo` shared by demo.c (traffic, fault plan,
 * progress) and demo_report.c (the final table and the verdict). */
#ifndef SMX_DEMO_H
#define SMX_DEMO_H

#include <stddef.h>
#include <stdint.h>

#include "smsc-sim/sim.h"
#include "smsmux.h"
#include "tally.h"

/* The application's own record of every MT it handed over (index = the
 * number in the id "d<N>"); the demo's main thread owns it. */
struct demo_book {
        uint8_t *outcomes;          /* final outcome events seen per MT */
        uint8_t *dr_seen;           /* bit (state - 1) set per DR state seen */
        size_t n, cap;              /* MTs accepted by smx_submit */
        uint64_t submitted, failed, fail_by_reason[8];
        uint64_t drs, dr_uncorrelated, dr_dups, mos, mo_parts_max;
        uint64_t unknown_ids;       /* outcome or DR naming an id we never sent */
        struct tally per;
        int quiet;                  /* the run is over: print no more bind lines */
};

/* What the verdict rests on; filled and read by the demo's main thread. */
struct demo_result {
        uint64_t no_outcome, extra_outcomes, handset_delivered, handset_dups,
                 never_delivered, lost, duplicated;
        double sim_min_spacing_s;   /* < 0: no SMSC saw two attempts */
        double lib_min_spacing_s;   /* < 0: unknown */
        uint64_t violations;
};

/* Print the summary table (stdout) from the book, the client's bind stats
 * and the simulator's ledger JSON; fill r. */
void demo_report(const struct demo_book *b, smx_client *c, const char *ledger_json,
                 double rebind_interval_s, struct demo_result *r);

#endif
