/* Large regions (src/mem/region.c): zeroed, aligned, writable end to end;
 * from 2 MiB up 2 MiB-aligned and advised for transparent huge pages (the
 * mapping is THPeligible in /proc/self/smaps unless THP is `never`); the
 * ingress's slots are such a region. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ingress/ingress.h"
#include "mem/region.h"
#include "testlib.h"

#define MIB ((size_t)1 << 20)

static int all_zero(const uint8_t *p, size_t len)
{
        for (size_t i = 0; i < len; i++)
                if (p[i])
                        return 0;
        return 1;
}

/* THPeligible of the mapping holding p: 1, 0, or -1 when smaps says nothing. */
static int thp_eligible(const void *p)
{
        FILE *f = fopen("/proc/self/smaps", "r");
        if (!f)
                return -1;
        char line[512];
        int in = 0, v = -1;
        uintptr_t a = (uintptr_t)p;
        while (fgets(line, sizeof line, f)) {
                unsigned long lo, hi;
                if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {   /* a mapping's first line */
                        in = a >= lo && a < hi;
                        continue;
                }
                if (in && sscanf(line, "THPeligible: %d", &v) == 1)
                        break;
        }
        fclose(f);
        return v;
}

static int thp_never(void)
{
        FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
        if (!f)
                return 1;
        char buf[128] = "";
        int never = !fgets(buf, sizeof buf, f) || strstr(buf, "[never]") != NULL;
        fclose(f);
        return never;
}

static void test_small_region_is_zeroed_and_cache_line_aligned(void)
{
        uint8_t *p = smx_region_alloc(1000);
        CHECK(p != NULL);
        if (!p)
                return;
        CHECK_EQ((uintptr_t)p % 64, 0);
        CHECK(all_zero(p, 1000));
        memset(p, 0xAB, 1000);
        CHECK_EQ(p[999], 0xAB);
        smx_region_free(p, 1000);
}

static void test_large_region_is_zeroed_2mib_aligned_and_huge_page_advised(void)
{
        size_t len = 5 * MIB + 123;
        uint8_t *p = smx_region_alloc(len);
        CHECK(p != NULL);
        if (!p)
                return;
        CHECK_EQ((uintptr_t)p % (2 * MIB), 0);
        CHECK(all_zero(p, len));
        memset(p, 0x5A, len);
        CHECK_EQ(p[0], 0x5A);
        CHECK_EQ(p[len - 1], 0x5A);
        int e = thp_eligible(p);
        if (thp_never())
                printf("# THP is off here: the advice is a no-op (THPeligible %d)\n", e);
        else
                CHECK_EQ(e, 1);
        smx_region_free(p, len);
}

static void test_ingress_slots_are_a_huge_page_region(void)
{
        struct smx_ingress g;
        CHECK_EQ(ingress_init(&g, 65536), 0);
        CHECK_EQ((uintptr_t)g.slots % (2 * MIB), 0);
        CHECK_EQ(ingress_slot_take(&g), 0);   /* slot 0 on top, zeroed region initialised */
        ingress_fini(&g);
}

int main(void)
{
        RUN(test_small_region_is_zeroed_and_cache_line_aligned);
        RUN(test_large_region_is_zeroed_2mib_aligned_and_huge_page_advised);
        RUN(test_ingress_slots_are_a_huge_page_region);
        return t_done();
}
