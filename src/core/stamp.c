/* The latency stamp clock (see stamp.h): choose RDTSC only when the kernel
 * trusts it too, and measure its rate against CLOCK_MONOTONIC over 5 ms. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/stamp.h"

struct smx_stamp_clock smx_stamp_clock;

static pthread_once_t stamp_once = PTHREAD_ONCE_INIT;

/* 1 when /proc/cpuinfo lists every flag of `want` (space separated). */
static int cpu_has_flags(const char *const *want, unsigned n)
{
        FILE *f = fopen("/proc/cpuinfo", "r");
        if (!f)
                return 0;
        char line[4096];
        int ok = 0;
        while (fgets(line, sizeof line, f)) {
                if (strncmp(line, "flags", 5) != 0)
                        continue;
                ok = 1;
                for (unsigned i = 0; i < n && ok; i++) {
                        size_t l = strlen(want[i]);
                        const char *p = line;
                        ok = 0;
                        while ((p = strstr(p, want[i])) != NULL) {
                                if ((p[-1] == ' ' || p[-1] == '\t') &&
                                    (p[l] == ' ' || p[l] == '\n' || p[l] == 0)) {
                                        ok = 1;
                                        break;
                                }
                                p += l;
                        }
                }
                break;
        }
        fclose(f);
        return ok;
}

int smx_stamp_source_is_tsc(const char *name)
{
        size_t n = strcspn(name, "\n");
        return (n == 3 && memcmp(name, "tsc", 3) == 0) ||
               (n == 9 && memcmp(name, "kvm-clock", 9) == 0);
}

static int kernel_clock_is_tsc(void)
{
        FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
        if (!f)
                return 0;
        char name[32] = "";
        int ok = fgets(name, sizeof name, f) != NULL && smx_stamp_source_is_tsc(name);
        fclose(f);
        return ok;
}

static void stamp_calibrate(void)
{
#if SMX_STAMP_HAVE_TSC
        static const char *const flags[] = { "constant_tsc", "nonstop_tsc" };
        if (!kernel_clock_is_tsc() || !cpu_has_flags(flags, 2))
                return;
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        uint64_t t0 = __rdtsc();
        struct timespec nap = { 0, 5000000 };
        nanosleep(&nap, NULL);
        clock_gettime(CLOCK_MONOTONIC, &b);
        uint64_t t1 = __rdtsc();
        uint64_t ns = (uint64_t)(b.tv_sec - a.tv_sec) * 1000000000u + (uint64_t)b.tv_nsec -
                      (uint64_t)a.tv_nsec;
        if (t1 <= t0 || ns < 1000000u)
                return;
        /* mult = us per tick in 32.32: ns * 2^32 / (1000 * ticks) */
        smx_stamp_clock.mult =
                (uint64_t)(((unsigned __int128)ns << 32) / ((unsigned __int128)(t1 - t0) * 1000u));
        smx_stamp_clock.tsc0 = t0;
        smx_stamp_clock.tsc = smx_stamp_clock.mult > 0;
#endif
}

void smx_stamp_init(void)
{
        pthread_once(&stamp_once, stamp_calibrate);
}
