/* Logging (src/log): lines go to the application's callback with their
 * level and [smsc@site], the level filters (and is the knob log_level), and
 * the per-second budget suppresses a flood and says how much it dropped. */
#include <time.h>

#include "log/log.h"
#include "testlib.h"

static int got;
static char last[512];
static enum smx_log_level last_level;

static void collect(enum smx_log_level lvl, const char *line, void *arg)
{
        (void)arg;
        got++;
        last_level = lvl;
        snprintf(last, sizeof last, "%s", line);
}

static void test_line_carries_level_and_bind_context(void)
{
        smx_log_configure(SMX_LOG_INFO, collect, NULL);
        got = 0;
        smx_logf(SMX_LOG_WARN, "smsc1.dc3", "dc3", "down: %s", "connection reset");
        CHECK_EQ(got, 1);
        CHECK_EQ(last_level, SMX_LOG_WARN);
        CHECK(strstr(last, "warn") != NULL);
        CHECK(strstr(last, "[smsc1.dc3@dc3] down: connection reset") != NULL);
        CHECK(strchr(last, '\n') == NULL);
        smx_logf(SMX_LOG_INFO, NULL, NULL, "started");
        CHECK_EQ(got, 2);
        CHECK(strchr(last, '[') == NULL);
}

static void test_level_filters_and_can_change_at_runtime(void)
{
        smx_log_configure(SMX_LOG_WARN, collect, NULL);
        got = 0;
        smx_logf(SMX_LOG_INFO, NULL, NULL, "hidden");
        CHECK_EQ(got, 0);
        smx_log_level_set(SMX_LOG_DEBUG);
        CHECK_EQ(smx_log_level_get(), SMX_LOG_DEBUG);
        smx_logf(SMX_LOG_DEBUG, NULL, NULL, "shown");
        CHECK_EQ(got, 1);
        smx_log_level_set(SMX_LOG_ERROR);
        smx_logf(SMX_LOG_WARN, NULL, NULL, "hidden again");
        CHECK_EQ(got, 1);
}

static void test_flood_is_rate_limited_and_reported(void)
{
        smx_log_configure(SMX_LOG_INFO, collect, NULL);
        /* start at the beginning of a second of the limiter's clock */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
        time_t sec = ts.tv_sec;
        do {
                struct timespec nap = { 0, 2000000 };
                nanosleep(&nap, NULL);
                clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
        } while (ts.tv_sec == sec);
        got = 0;
        uint64_t before = smx_log_suppressed_total();
        for (int i = 0; i < SMX_LOG_PER_SEC + 300; i++)
                smx_logf(SMX_LOG_INFO, NULL, NULL, "flood %d", i);
        CHECK(got <= SMX_LOG_PER_SEC * 2);
        CHECK(got < SMX_LOG_PER_SEC + 300);
        CHECK(smx_log_suppressed_total() - before >= 100);
        /* the next second's first line says how many were dropped */
        sec = ts.tv_sec;
        do {
                struct timespec nap = { 0, 5000000 };
                nanosleep(&nap, NULL);
                clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
        } while (ts.tv_sec == sec);
        smx_logf(SMX_LOG_WARN, NULL, NULL, "after");
        CHECK(strstr(last, "lines suppressed") != NULL);
        CHECK(strstr(last, "after") != NULL);
}

int main(void)
{
        RUN(test_line_carries_level_and_bind_context);
        RUN(test_level_filters_and_can_change_at_runtime);
        RUN(test_flood_is_rate_limited_and_reported);
        smx_log_configure(SMX_LOG_WARN, NULL, NULL);
        return t_done();
}
