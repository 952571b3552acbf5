/* copy_small / copy_upto64 (src/mem/copy_small.h): for every length from 0
 * to 100 and every source alignment, the bytes arrive in order and nothing
 * before or after dst[0..len) is written. */
#include <string.h>

#include "mem/copy_small.h"
#include "testlib.h"

static void check_len(size_t len, size_t src_off, int upto64)
{
        unsigned char src[128 + 8], dst[128 + 32];
        for (size_t i = 0; i < sizeof src; i++)
                src[i] = (unsigned char)(i * 7 + 1);
        memset(dst, 0xEE, sizeof dst);
        if (upto64)
                copy_upto64(dst + 16, src + src_off, len);
        else
                copy_small(dst + 16, src + src_off, len);
        int ok = memcmp(dst + 16, src + src_off, len) == 0;
        for (size_t i = 0; i < 16; i++)
                ok &= dst[i] == 0xEE;
        for (size_t i = 16 + len; i < sizeof dst; i++)
                ok &= dst[i] == 0xEE;
        if (!ok)
                printf("# len %zu offset %zu upto64 %d\n", len, src_off, upto64);
        CHECK(ok);
}

static void test_every_length_copies_exactly_its_bytes(void)
{
        for (size_t off = 0; off < 8; off++) {
                for (size_t len = 0; len <= 100; len++)
                        check_len(len, off, 0);
                for (size_t len = 0; len <= 64; len++)
                        check_len(len, off, 1);
        }
}

int main(void)
{
        RUN(test_every_length_copies_exactly_its_bytes);
        return t_done();
}
