/* Rate-limited logging (see log.h). The level, callback and budget live in
 * process-wide atomics: smx_log_configure may be called at any time. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "log/log.h"

static _Atomic int log_level = SMX_LOG_WARN;
static _Atomic(smx_log_fn) log_fn;
static void *_Atomic log_arg;
static _Atomic uint64_t log_window;      /* current second (monotonic) */
static _Atomic uint32_t log_used;        /* lines in that second */
static _Atomic uint32_t log_dropped;     /* suppressed since the last line */
static _Atomic uint64_t log_suppressed;  /* suppressed in all, for the stats */

void smx_log_configure(enum smx_log_level max_level, smx_log_fn fn, void *arg)
{
        atomic_store(&log_arg, arg);
        atomic_store(&log_fn, fn);
        atomic_store(&log_level, (int)max_level);
}

void smx_log_level_set(enum smx_log_level lvl)
{
        atomic_store(&log_level, (int)lvl);
}

enum smx_log_level smx_log_level_get(void)
{
        return (enum smx_log_level)atomic_load(&log_level);
}

uint64_t smx_log_suppressed_total(void)
{
        return atomic_load_explicit(&log_suppressed, memory_order_relaxed);
}

int smx_log_enabled(enum smx_log_level lvl)
{
        return (int)lvl <= atomic_load_explicit(&log_level, memory_order_relaxed);
}

static const char *level_name(enum smx_log_level lvl)
{
        switch (lvl) {
        case SMX_LOG_ERROR: return "error";
        case SMX_LOG_WARN: return "warn";
        case SMX_LOG_INFO: return "info";
        default: return "debug";
        }
}

/* One budget per wall second; a line over budget is counted, not printed. */
static int log_admit(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
        uint64_t sec = (uint64_t)ts.tv_sec;
        uint64_t cur = atomic_load_explicit(&log_window, memory_order_relaxed);
        if (cur != sec && atomic_compare_exchange_strong(&log_window, &cur, sec))
                atomic_store_explicit(&log_used, 0, memory_order_relaxed);
        if (atomic_fetch_add_explicit(&log_used, 1, memory_order_relaxed) >= SMX_LOG_PER_SEC) {
                atomic_fetch_add_explicit(&log_dropped, 1, memory_order_relaxed);
                atomic_fetch_add_explicit(&log_suppressed, 1, memory_order_relaxed);
                return 0;
        }
        return 1;
}

void smx_logf(enum smx_log_level lvl, const char *smsc, const char *site,
              const char *fmt, ...)
{
        if (!smx_log_enabled(lvl) || !log_admit())
                return;
        char line[512];
        int n = 0;
        uint32_t dropped = atomic_exchange_explicit(&log_dropped, 0, memory_order_relaxed);
        if (dropped)
                n = snprintf(line, sizeof line, "smsmux %s: (%u lines suppressed) ",
                             level_name(lvl), dropped);
        else
                n = snprintf(line, sizeof line, "smsmux %s: ", level_name(lvl));
        if (smsc && n >= 0 && (size_t)n < sizeof line)
                n += snprintf(line + n, sizeof line - (size_t)n, "[%s@%s] ", smsc,
                              site ? site : "");
        if (n >= 0 && (size_t)n < sizeof line) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
                va_end(ap);
        }
        smx_log_fn fn = atomic_load(&log_fn);
        if (fn)
                fn(lvl, line, atomic_load(&log_arg));
        else
                fprintf(stderr, "%s\n", line);
}
