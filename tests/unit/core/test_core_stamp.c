/* The latency stamp clock (src/core/stamp.[ch]): which kernel clock sources
 * let a stamp be one RDTSC (the TSC itself, and a KVM guest's kvm-clock,
 * which is the guest's TSC scaled), and that stamps, whichever source this
 * machine gives them, never go backwards on a thread and advance with
 * CLOCK_MONOTONIC. */
#include <time.h>

#include "core/stamp.h"
#include "testlib.h"

static uint64_t mono_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void test_tsc_and_kvm_clock_are_tsc_sources(void)
{
        CHECK(smx_stamp_source_is_tsc("tsc\n"));
        CHECK(smx_stamp_source_is_tsc("tsc"));
        CHECK(smx_stamp_source_is_tsc("kvm-clock\n"));
        CHECK(smx_stamp_source_is_tsc("kvm-clock"));
}

static void test_other_sources_are_not(void)
{
        static const char *const no[] = { "hpet\n", "acpi_pm\n", "xen\n", "jiffies\n",
                                           "refined-jiffies\n", "hyperv_clocksource_tsc_page\n",
                                           "tsc2\n", "kvm-clocks\n", "kvm\n", "ts\n", "\n", "" };
        for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
                if (smx_stamp_source_is_tsc(no[i]))
                        printf("# \"%s\" taken for the TSC\n", no[i]);
                CHECK(!smx_stamp_source_is_tsc(no[i]));
        }
}

static void test_stamps_follow_the_monotonic_clock(void)
{
        smx_stamp_init();
        printf("# stamps from %s\n", smx_stamp_clock.tsc ? "RDTSC" : "CLOCK_MONOTONIC");
        uint64_t m0 = mono_us(), s0 = smx_stamp_us(), prev = s0;
        int backwards = 0;
        while (mono_us() - m0 < 50000) {
                uint64_t s = smx_stamp_scale(smx_stamp_raw());
                backwards += s < prev;
                prev = s;
        }
        uint64_t s1 = smx_stamp_us(), m1 = mono_us();
        CHECK_EQ(backwards, 0);
        /* the same 50 ms within 2 % (+ 100 us for the reads around them) */
        uint64_t ds = s1 - s0, dm = m1 - m0;
        uint64_t diff = ds > dm ? ds - dm : dm - ds;
        if (diff > dm / 50 + 100)
                printf("# stamps advanced %" PRIu64 " us, CLOCK_MONOTONIC %" PRIu64 " us\n", ds, dm);
        CHECK(diff <= dm / 50 + 100);
}

int main(void)
{
        RUN(test_tsc_and_kvm_clock_are_tsc_sources);
        RUN(test_other_sources_are_not);
        RUN(test_stamps_follow_the_monotonic_clock);
        return t_done();
}
