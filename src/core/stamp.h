/* Latency time stamps: microseconds since an arbitrary origin, cheap enough
 * to take twice per MT (smx_submit, and the outcome that ends it).
 *
 * When the kernel's own clock is the TSC scaled (clock source "tsc", or
 * "kvm-clock": a KVM guest's clock is the host's scale applied to the
 * guest's RDTSC) and the TSC is invariant (CPU flags constant_tsc +
 * nonstop_tsc), a stamp is one RDTSC scaled by a factor measured once
 * against CLOCK_MONOTONIC; otherwise it is smx_now_us(). (A kvm-clock
 * CLOCK_MONOTONIC read is ~41 ns on the benchmark's VM, an lfence, RDTSC and
 * the pvclock page, against an RDTSC that overlaps the caller's work:
 * bench/README.md "CPU per MT, issue 16".) Stamps are only ever subtracted
 * from one another, and a difference that comes out negative (a VM restored
 * or moved to another host in between) is read as 0: they are not
 * comparable with smx_now_ms()/smx_now_us() readings. */
#ifndef SMX_STAMP_H
#define SMX_STAMP_H

#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define SMX_STAMP_HAVE_TSC 1
#else
#define SMX_STAMP_HAVE_TSC 0
#endif

/* The scale, written once by smx_stamp_init (before any client thread
 * starts), read by every thread afterwards. */
struct smx_stamp_clock {
        int tsc;                /* 1: stamps come from RDTSC */
        uint64_t tsc0;          /* TSC at calibration */
        uint64_t mult;          /* microseconds per TSC tick, 32.32 fixed point */
};
extern struct smx_stamp_clock smx_stamp_clock;

/* Decide the source and calibrate (a few ms, once per process; thread safe). */
void smx_stamp_init(void);
/* 1 when a kernel clock source of this name (as read from sysfs, with or
 * without its newline) is the TSC scaled, so RDTSC stamps agree with it. */
int smx_stamp_source_is_tsc(const char *name);
uint64_t smx_now_us(void);

/* A stamp in two steps, so the clock read can be issued early and its
 * latency (RDTSC: ~17 ns on the benchmark's VM, bench/README.md issue 16)
 * overlap the caller's other work: smx_stamp_raw reads the clock (TSC
 * ticks, or smx_now_us() without the TSC), smx_stamp_scale turns that
 * reading into the stamp smx_stamp_us would have returned at that instant. */
static inline uint64_t smx_stamp_raw(void)
{
#if SMX_STAMP_HAVE_TSC
        if (smx_stamp_clock.tsc)
                return __rdtsc();
#endif
        return smx_now_us();
}

static inline uint64_t smx_stamp_scale(uint64_t raw)
{
#if SMX_STAMP_HAVE_TSC
        if (smx_stamp_clock.tsc)
                return (uint64_t)(((unsigned __int128)(raw - smx_stamp_clock.tsc0) *
                                   smx_stamp_clock.mult) >> 32);
#endif
        return raw;
}

static inline uint64_t smx_stamp_us(void)
{
        return smx_stamp_scale(smx_stamp_raw());
}

#endif
