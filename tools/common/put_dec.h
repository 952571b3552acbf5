/* Decimal formatting without printf for the benchmarks' per-MT ids and
 * texts (`smsmux bench`, bench/e2e/bench_e2e.c), where snprintf would cost
 * more than the library's work on the MT. */
#ifndef SMX_PUT_DEC_H
#define SMX_PUT_DEC_H

#include <stddef.h>
#include <stdint.h>

/* Decimal digits of v at p (no NUL); returns the length (at most 20). */
static inline size_t put_dec(char *p, uint64_t v)
{
        char t[24];
        size_t n = 0;
        do {
                t[n++] = (char)('0' + v % 10);
                v /= 10;
        } while (v);
        for (size_t i = 0; i < n; i++)
                p[i] = t[n - 1 - i];
        return n;
}

#endif
