/* A latency histogram of fixed buckets (microseconds), one per bind: the
 * bind's owning worker adds submit -> accepted latencies, anyone reads. The
 * bucket bounds are Prometheus-style upper bounds ("le"), so the metrics
 * page exposes it as a native histogram and the stats table estimates
 * percentiles from it (lat_hist_quantile).
 *
 * Single writer: the owner adds with a relaxed load + store (no locked
 * instruction on the hot path); readers use relaxed loads and may see a
 * count that is one sample ahead of the sum, never a torn value. */
#ifndef SMX_LAT_HIST_H
#define SMX_LAT_HIST_H

#include <stdatomic.h>
#include <stdint.h>

#define SMX_LAT_BUCKETS 19   /* the last is +Inf */

static const uint64_t smx_lat_le_us[SMX_LAT_BUCKETS - 1] = {
        100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
        500000, 1000000, 2500000, 5000000, 10000000, 30000000, 60000000,
};

/* Per-bind histogram; written by the owning worker only. */
struct smx_lat_hist {
        _Atomic uint64_t bucket[SMX_LAT_BUCKETS];  /* not cumulative */
        _Atomic uint64_t count, sum_us;
};

/* A plain copy for reading and summing; owned by the reader. */
struct smx_lat_snap {
        uint64_t bucket[SMX_LAT_BUCKETS];
        uint64_t count, sum_us;
};

/* The bucket of `us`: the first whose bound is >= us. The scan starts at
 * the bounds below us's power of two (smx_lat_from_bits, indexed by the bit
 * length of us), and since the bounds grow by 2-2.5x at least one apart, it
 * moves on at most once or twice: an add per outcome without the
 * data-dependent loop whose exit the branch predictor missed whenever
 * latencies straddle a bound (commit_outcome, bench/README.md "CPU per MT,
 * issue 16"). Any start at or below the answer gives the same answer. */
static const uint8_t smx_lat_from_bits[65] = {
        0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
        13, 14, 15, 16, 17, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18,
        18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18,
        18, 18, 18, 18, 18, 18, 18,
};

static inline unsigned lat_hist_index(uint64_t us)
{
        unsigned i = smx_lat_from_bits[us ? 64 - __builtin_clzll(us) : 0];
        while (i < SMX_LAT_BUCKETS - 1 && us > smx_lat_le_us[i])
                i++;
        return i;
}

/* Owner thread only. */
static inline void lat_hist_add_w(struct smx_lat_hist *h, uint64_t us)
{
        unsigned i = lat_hist_index(us);
        atomic_store_explicit(&h->bucket[i],
                              atomic_load_explicit(&h->bucket[i], memory_order_relaxed) + 1,
                              memory_order_relaxed);
        atomic_store_explicit(&h->sum_us,
                              atomic_load_explicit(&h->sum_us, memory_order_relaxed) + us,
                              memory_order_relaxed);
        atomic_store_explicit(&h->count,
                              atomic_load_explicit(&h->count, memory_order_relaxed) + 1,
                              memory_order_relaxed);
}

static inline void lat_hist_read(const struct smx_lat_hist *h, struct smx_lat_snap *s)
{
        s->count = s->sum_us = 0;
        for (unsigned i = 0; i < SMX_LAT_BUCKETS; i++) {
                s->bucket[i] = atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
                s->count += s->bucket[i];
        }
        s->sum_us = atomic_load_explicit(&h->sum_us, memory_order_relaxed);
}

static inline void lat_snap_add(struct smx_lat_snap *to, const struct smx_lat_snap *from)
{
        for (unsigned i = 0; i < SMX_LAT_BUCKETS; i++)
                to->bucket[i] += from->bucket[i];
        to->count += from->count;
        to->sum_us += from->sum_us;
}

/* The q-quantile (0 < q < 1) in microseconds, interpolated linearly inside
 * its bucket (the +Inf bucket answers its lower bound). 0 when empty. */
static inline uint64_t lat_snap_quantile(const struct smx_lat_snap *s, double q)
{
        if (s->count == 0)
                return 0;
        double rank = q * (double)s->count;
        uint64_t seen = 0;
        for (unsigned i = 0; i < SMX_LAT_BUCKETS; i++) {
                if (s->bucket[i] == 0)
                        continue;
                if ((double)(seen + s->bucket[i]) >= rank) {
                        uint64_t lo = i ? smx_lat_le_us[i - 1] : 0;
                        if (i == SMX_LAT_BUCKETS - 1)
                                return lo;
                        uint64_t hi = smx_lat_le_us[i];
                        double frac = (rank - (double)seen) / (double)s->bucket[i];
                        if (frac < 0)
                                frac = 0;
                        return lo + (uint64_t)(frac * (double)(hi - lo));
                }
                seen += s->bucket[i];
        }
        return smx_lat_le_us[SMX_LAT_BUCKETS - 2];
}

#endif
