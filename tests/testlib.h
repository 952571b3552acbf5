/* A tiny test harness that speaks TAP. One behaviour per test function:
 *
 *   static void test_framer_rejects_length_below_16(void) {
 *           CHECK_EQ(smx_frame_peek(buf, 16, 0), SMX_PDU_E_SHORT);
 *   }
 *   int main(void) { RUN(test_framer_rejects_length_below_16); return t_done(); }
 *
 * A failed CHECK reports file:line and the values, marks the test failed and
 * goes on; t_done() prints the TAP plan and returns the exit status. */
#ifndef SMX_TESTLIB_H
#define SMX_TESTLIB_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_count, t_failed_count, t_cur_failed;
static const char *t_cur_name;

static inline void t_fail_at(const char *file, int line, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
#include <stdarg.h>
static inline void t_fail_at(const char *file, int line, const char *fmt, ...)
{
        va_list ap;
        t_cur_failed = 1;
        printf("# %s: %s:%d: ", t_cur_name ? t_cur_name : "?", file, line);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        fflush(stdout);
}

#define CHECK(cond) do { if (!(cond)) t_fail_at(__FILE__, __LINE__, "CHECK(%s)", #cond); } while (0)
#define CHECK_EQ(a, b) do { long long _a = (long long)(a), _b = (long long)(b); \
        if (_a != _b) t_fail_at(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, _a, _b); } while (0)
#define CHECK_NE(a, b) do { long long _a = (long long)(a), _b = (long long)(b); \
        if (_a == _b) t_fail_at(__FILE__, __LINE__, "%s != %s: both %lld", #a, #b, _a); } while (0)
#define CHECK_MEM(a, b, n) do { size_t _n = (n); if (memcmp((a), (b), _n) != 0) { \
        t_fail_at(__FILE__, __LINE__, "memory %s != %s over %zu bytes", #a, #b, _n); \
        t_hexdump("got", (const void *)(a), _n); t_hexdump("want", (const void *)(b), _n); } } while (0)
#define CHECK_STR(a, b) do { const char *_a = (a), *_b = (b); \
        if (!_a || !_b || strcmp(_a, _b) != 0) t_fail_at(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", \
                #a, #b, _a ? _a : "(null)", _b ? _b : "(null)"); } while (0)
/* A view (pointer + length) equals a C string. */
#define CHECK_VIEW(view, s) do { const char *_s = (s); size_t _l = strlen(_s); \
        if ((view).len != _l || (_l && memcmp((view).p, _s, _l) != 0)) \
                t_fail_at(__FILE__, __LINE__, "view %s != \"%s\" (len %u vs %zu)", #view, _s, (unsigned)(view).len, _l); } while (0)

static inline void t_hexdump(const char *label, const void *p, size_t n)
{
        const unsigned char *b = p;
        printf("#   %s:", label);
        for (size_t i = 0; i < n && i < 96; i++)
                printf(" %02x", b[i]);
        printf(n > 96 ? " ...\n" : "\n");
}

static inline void t_run(const char *name, void (*fn)(void))
{
        t_cur_name = name;
        t_cur_failed = 0;
        fn();
        t_count++;
        if (t_cur_failed)
                t_failed_count++;
        printf("%s %d - %s\n", t_cur_failed ? "not ok" : "ok", t_count, name);
        fflush(stdout);
}

#define RUN(fn) t_run(#fn, fn)

static inline int t_done(void)
{
        printf("1..%d\n", t_count);
        return t_failed_count ? 1 : 0;
}

/* Parse hex ("00 00 00 10 ...", spaces optional) into buf; returns length. */
static inline size_t t_hex(const char *hex, unsigned char *buf, size_t cap)
{
        size_t n = 0;
        int hi = -1;
        for (const char *s = hex; *s; s++) {
                int v;
                if (*s >= '0' && *s <= '9') v = *s - '0';
                else if (*s >= 'a' && *s <= 'f') v = *s - 'a' + 10;
                else if (*s >= 'A' && *s <= 'F') v = *s - 'A' + 10;
                else continue;
                if (hi < 0) hi = v;
                else { if (n < cap) buf[n] = (unsigned char)(hi << 4 | v); n++; hi = -1; }
        }
        return n;
}

#endif
