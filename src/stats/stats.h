/* Stats: what smx_stats_render and smx_client_binds report. Counters are
 * kept where they are written (per bind, written by the owning worker;
 * client totals; the inbound stores), and summed here on read, so taking a
 * snapshot never stops a worker. A snapshot is a plain struct; rendering it
 * as a table, JSON or Prometheus text (stats_render.c) is pure code the unit
 * tests drive without a client. */
#ifndef SMX_STATS_H
#define SMX_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "inbound/inbound.h"
#include "smsmux.h"
#include "stats/lat_hist.h"
#include "store/rstore.h"

struct smx_bind;
struct smx_client;

/* One bind, copied out; part of a snapshot (its caller's thread). */
struct smx_stats_bind {
        struct smx_bind_stats pub;         /* the public fields, percentiles filled */
        struct smx_lat_snap lat;
};

/* A sum over binds (a site or a worker); part of a snapshot. */
struct smx_stats_sum {
        char name[SMX_NAME_MAX + 1];       /* site name, or the worker number */
        unsigned binds, binds_active;
        uint32_t in_flight;
        uint64_t submitted, accepted, failed, resent, throttled, drs, mos, bind_attempts;
        uint64_t failed_by[SMX_FAIL_REASONS];
        struct smx_lat_snap lat;
};

/* Everything one render shows. Owned by the caller of stats_collect. */
struct smx_stats_snapshot {
        uint64_t mts_accepted, mts_decided, in_flight, queued;
        int active_binds;
        uint64_t failed_nobind[SMX_FAIL_REASONS]; /* failed before any attempt */
        uint64_t log_suppressed;
        struct smx_stats_bind *binds;
        size_t n_binds;
        struct smx_stats_sum *sites, *workers;
        size_t n_sites, n_workers;
        struct smx_inbound_stats inbound;
        int has_inbound;
        struct smx_http_stats http;              /* enabled 0: no HTTP transport */
        struct rs_stats store;                   /* shared store (rstore.h) */
        int has_store;
        int ktls;                                /* the kernel offers kTLS */
        const char *ktls_note;                   /* what TLS records go through (static) */
};

/* Fill the fields of struct smx_bind_stats beyond the basic counters (admin
 * state, worker, failures by reason, latency) from a bind; lat (may be NULL)
 * gets the histogram. Any thread. */
void stats_fill_bind(const struct smx_bind *b, struct smx_bind_stats *o, struct smx_lat_snap *lat);

/* Take a snapshot of the client (0 or SMX_ENOMEM); free with stats_free. */
int stats_collect(struct smx_client *c, struct smx_stats_snapshot *s);
void stats_free(struct smx_stats_snapshot *s);

/* Build the site and worker sums of s from its binds (stats_collect calls
 * it; tests call it on hand-made snapshots). 0 or SMX_ENOMEM. */
int stats_sum(struct smx_stats_snapshot *s, unsigned n_workers);

/* Render s in fmt into a malloc'd string. 0 or SMX_ENOMEM. */
int stats_render(const struct smx_stats_snapshot *s, enum smx_stats_format fmt,
                 char **out, size_t *len);

#endif
