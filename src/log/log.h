/* Logging: one line per event, to stderr (never stdout: the CLI's stdout is
 * machine-readable) or to the application's callback (smx_log_configure).
 *
 * Every line carries a level and, when it concerns a bind, "smsc@site".
 * Lines are rate-limited process-wide (a per-second budget); the number of
 * lines suppressed is reported on the next line that passes. Callers never
 * pass passwords or raw peer bytes (escape them with smx_escape first).
 * Thread-safe; no lock (the budget is an atomic counter). */
#ifndef SMX_LOG_H
#define SMX_LOG_H

#include "smsmux.h"

#define SMX_LOG_PER_SEC 200   /* lines per second before suppression */

int smx_log_enabled(enum smx_log_level lvl);

/* The process-wide level alone (the knob log_level); the callback stays. */
void smx_log_level_set(enum smx_log_level lvl);
enum smx_log_level smx_log_level_get(void);

/* Lines suppressed by the rate limit since the process started. */
uint64_t smx_log_suppressed_total(void);

/* Log one line. `smsc` and `site` may be NULL (no bind context). */
void smx_logf(enum smx_log_level lvl, const char *smsc, const char *site,
              const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
