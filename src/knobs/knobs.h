/* Runtime knobs: the settings an operator may change while the client runs
 * (docs/operating.md has the table).
 *
 * All knobs live in one immutable snapshot, struct smx_knobs. A change never
 * edits a snapshot: knobs_with() copies the current one, sets one knob in
 * the copy and returns it; the client then publishes the copy with one
 * atomic pointer store (src/knobs/knobs_client.c). A worker loads the
 * pointer once per loop turn and reads plain fields from it: no lock on the
 * hot path. Old snapshots are freed once every worker has moved past them.
 *
 * Names: client-wide knobs by their smx_config field name
 * ("retry_backoff_ms", "route_policy", "log_level", "metrics_addr", ...);
 * per SMSC "smsc.NAME.KEY" (tps, window, weight, admin); per site
 * "site.NAME.KEY" (the same keys, applied to every SMSC of the site; a get
 * answers the common value or "mixed").
 *
 * This file and knobs.c are pure (no client, no threads) so the unit tests
 * drive them directly. */
#ifndef SMX_KNOBS_H
#define SMX_KNOBS_H

#include <stddef.h>
#include <stdint.h>

#include "smsmux.h"

#define SMX_KNOB_ADDR_MAX 64   /* metrics_addr "HOST:PORT" */

/* Per-bind knobs; applied by the bind's owning worker. */
struct smx_bind_knobs {
        uint32_t tps;              /* submit_sm per second, 0 = unlimited */
        uint32_t window;           /* outstanding submit_sm, 1..window_max */
        uint32_t window_max;       /* fixed: the window the bind was created with */
        uint32_t weight;           /* site weight (SMX_ROUTE_SITE_WEIGHTED), >= 1 */
        uint8_t admin;             /* enum smx_admin_state */
        uint8_t in_use;            /* fixed per slot once used: 0 = spare slot */
};

/* One immutable snapshot. Published by the knob setter; read by anyone who
 * loaded the pointer (workers once per loop turn). Never written after it is
 * published. */
struct smx_knobs {
        uint64_t gen;              /* 1, 2, ...: each publish adds one */
        uint32_t rebind_interval_ms, rebind_jitter_ms;
        uint32_t retry_backoff_ms, max_attempts, no_route_timeout_ms;
        uint32_t response_timeout_ms, enquire_link_interval_ms, enquire_link_timeout_ms;
        uint8_t route_policy;      /* enum smx_route_policy */
        uint8_t log_level;         /* enum smx_log_level */
        char metrics_addr[SMX_KNOB_ADDR_MAX]; /* "" = no metrics listener */
        uint32_t n_binds;
        const char *const *names;  /* per bind; owned by the client, never change */
        const char *const *sites;
        struct smx_bind_knobs bind[];
};

/* A snapshot from a configuration: client knobs from cfg, n bind entries
 * (names/sites per bind, the per-SMSC values from smscs[0..n_used), spare
 * slots after that with in_use = 0). Returns NULL on allocation failure. */
struct smx_knobs *knobs_from_config(const struct smx_config *cfg,
                                    const struct smx_smsc_config *smscs, size_t n_used,
                                    uint32_t n_binds, const char *const *names,
                                    const char *const *sites, uint32_t default_window);

/* A copy of k (same gen; the publisher sets the next). NULL on ENOMEM. */
struct smx_knobs *knobs_copy(const struct smx_knobs *k);

/* A new snapshot: k with knob `name` set to `value`. Returns 0 and the copy
 * in *out, or a negative SMX_E* code with a message in err (unknown knob,
 * value out of range, unknown SMSC or site); k is never changed. */
int knobs_with(const struct smx_knobs *k, const char *name, const char *value,
               struct smx_knobs **out, char *err, size_t err_len);

/* The value of knob `name` as text in out. Returns the length, or
 * SMX_EINVAL for an unknown knob (message in out when it fits). */
int knobs_get(const struct smx_knobs *k, const char *name, char *out, size_t out_len);

/* Every knob as "name value\n" lines, client knobs first, then each SMSC in
 * use, then each site. Returns the length it needs (like snprintf). */
size_t knobs_list(const struct smx_knobs *k, char *out, size_t out_len);

/* Is s a valid metrics_addr ("" or HOST:PORT)? */
int knobs_addr_ok(const char *s);

/* Index of the bind named `name` (in use), or -1. */
int knobs_find_bind(const struct smx_knobs *k, const char *name);

const char *smx_admin_state_name(enum smx_admin_state s);
int knobs_parse_admin(const char *s, enum smx_admin_state *out);
const char *knobs_policy_name(enum smx_route_policy p);
int knobs_parse_policy(const char *s, enum smx_route_policy *out);
const char *knobs_log_level_name(enum smx_log_level l);
int knobs_parse_log_level(const char *s, enum smx_log_level *out);

#endif
