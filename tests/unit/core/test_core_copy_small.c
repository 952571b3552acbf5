/* copy_small / copy_upto64 / copy_upto256 (src/mem/copy_small.h): for every
 * length each may copy (copy_small to 300, copy_upto64 to 64, copy_upto256
 * to 256) and every source alignment, the bytes arrive in order and nothing
 * before or after dst[0..len) is written. */
#include <string.h>

#include "mem/copy_small.h"
#include "testlib.h"

enum { COPY_SMALL, COPY_UPTO64, COPY_UPTO256 };

static void check_len(size_t len, size_t src_off, int which)
{
        unsigned char src[300 + 8], dst[300 + 32];
        for (size_t i = 0; i < sizeof src; i++)
                src[i] = (unsigned char)(i * 7 + 1);
        memset(dst, 0xEE, sizeof dst);
        if (which == COPY_UPTO64)
                copy_upto64(dst + 16, src + src_off, len);
        else if (which == COPY_UPTO256)
                copy_upto256(dst + 16, src + src_off, len);
        else
                copy_small(dst + 16, src + src_off, len);
        int ok = memcmp(dst + 16, src + src_off, len) == 0;
        for (size_t i = 0; i < 16; i++)
                ok &= dst[i] == 0xEE;
        for (size_t i = 16 + len; i < sizeof dst; i++)
                ok &= dst[i] == 0xEE;
        if (!ok)
                printf("# len %zu offset %zu copy %d\n", len, src_off, which);
        CHECK(ok);
}

static void test_every_length_copies_exactly_its_bytes(void)
{
        for (size_t off = 0; off < 8; off++) {
                for (size_t len = 0; len <= 300; len++)
                        check_len(len, off, COPY_SMALL);
                for (size_t len = 0; len <= 64; len++)
                        check_len(len, off, COPY_UPTO64);
                for (size_t len = 0; len <= 256; len++)
                        check_len(len, off, COPY_UPTO256);
        }
}

int main(void)
{
        RUN(test_every_length_copies_exactly_its_bytes);
        return t_done();
}
