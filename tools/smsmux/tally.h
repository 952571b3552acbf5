/* Bookkeeping shared by `bench` and `demo`: latency samples with
 * percentiles, and counters per SMSC name. Owned by one thread. */
#ifndef SMX_TALLY_H
#define SMX_TALLY_H

#include <stddef.h>
#include <stdint.h>

#include "smsmux.h"

/* Latency samples in microseconds (kept up to a cap, then every later one is
 * dropped and counted); owned by the bench or demo main thread. */
struct lat_samples {
        uint32_t *us;
        size_t n, cap, max, dropped;
};

void lat_init(struct lat_samples *l, size_t max);
void lat_add(struct lat_samples *l, uint64_t us);
/* Sorts the samples; then lat_pct() answers (p in 0..100). */
void lat_sort(struct lat_samples *l);
uint32_t lat_pct(const struct lat_samples *l, double p);
void lat_free(struct lat_samples *l);

/* Counters of one SMSC as the application saw them; part of a struct tally. */
struct smsc_tally {
        char name[SMX_NAME_MAX + 1];
        uint64_t submitted, failed, drs, mos, ups, downs;
};

#define TALLY_MAX 64

/* Per-SMSC counters of one run; owned by the thread that polls the events. */
struct tally {
        struct smsc_tally s[TALLY_MAX];
        size_t n;
        uint64_t other;          /* events naming no (or too many) SMSCs */
};

/* The entry for name, created on first use; NULL when the table is full. */
struct smsc_tally *tally_get(struct tally *t, const char *name);

/* Count one event in its SMSC's entry. */
void tally_event(struct tally *t, const struct smx_event *ev);

#endif
