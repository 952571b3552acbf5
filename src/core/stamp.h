/* Latency time stamps: microseconds since an arbitrary origin, cheap enough
 * to take twice per MT (smx_submit, and the outcome that ends it).
 *
 * When the kernel itself keeps time with an invariant TSC (clock source
 * "tsc", CPU flags constant_tsc + nonstop_tsc), a stamp is one RDTSC scaled
 * by a factor measured once against CLOCK_MONOTONIC; otherwise it is
 * smx_now_us(). Stamps are only ever subtracted from one another: they are
 * not comparable with smx_now_ms()/smx_now_us() readings. */
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
uint64_t smx_now_us(void);

static inline uint64_t smx_stamp_us(void)
{
#if SMX_STAMP_HAVE_TSC
        if (smx_stamp_clock.tsc) {
                uint64_t d = __rdtsc() - smx_stamp_clock.tsc0;
                return (uint64_t)(((unsigned __int128)d * smx_stamp_clock.mult) >> 32);
        }
#endif
        return smx_now_us();
}

#endif
