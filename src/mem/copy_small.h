/* copy_small: memcpy for the short strings of the hot path (MT ids,
 * addresses, message ids, an SMS text), inlined: at most two overlapping
 * fixed-size moves for up to 64 bytes instead of a call into libc's memcpy,
 * whose length dispatch cost more than the copy for these sizes (the
 * worker's outcome and the application's smx_submit, bench/README.md "CPU
 * per MT, issue 16"). Reads exactly src[0..len) and writes exactly
 * dst[0..len); the two ranges must not overlap. No state, any thread. */
#ifndef SMX_MEM_COPY_SMALL_H
#define SMX_MEM_COPY_SMALL_H

#include <stddef.h>
#include <string.h>

/* len <= 64. */
static inline void copy_upto64(void *dst, const void *src, size_t len)
{
        char *d = dst;
        const char *s = src;
        if (len >= 32) {
                memcpy(d, s, 32);
                memcpy(d + len - 32, s + len - 32, 32);
        } else if (len >= 16) {
                memcpy(d, s, 16);
                memcpy(d + len - 16, s + len - 16, 16);
        } else if (len >= 8) {
                memcpy(d, s, 8);
                memcpy(d + len - 8, s + len - 8, 8);
        } else if (len >= 4) {
                memcpy(d, s, 4);
                memcpy(d + len - 4, s + len - 4, 4);
        } else if (len >= 2) {
                memcpy(d, s, 2);
                memcpy(d + len - 2, s + len - 2, 2);
        } else if (len == 1) {
                d[0] = s[0];
        }
}

/* len <= 256: 64-octet moves, the last one overlapping the one before
 * (a pre-encoded submit_sm body, worker_mt.c). */
static inline void copy_upto256(void *dst, const void *src, size_t len)
{
        if (len <= 64) {
                copy_upto64(dst, src, len);
                return;
        }
        char *d = dst;
        const char *s = src;
        for (size_t off = 0; off + 64 < len; off += 64)
                memcpy(d + off, s + off, 64);
        memcpy(d + len - 64, s + len - 64, 64);
}

static inline void copy_small(void *dst, const void *src, size_t len)
{
        if (len > 64)
                memcpy(dst, src, len);
        else
                copy_upto64(dst, src, len);
}

#endif
