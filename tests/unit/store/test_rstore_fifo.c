/* The shared store's correlation-write FIFO (src/store/rstore_loop.c): the
 * bytes a Redis outage buffers. Records of every size go in and come out in
 * order with their contents, across many wrap-arounds of a small buffer; a
 * put into a full buffer changes nothing and says so; memory per record is
 * 21 bytes plus the MT id. No Redis needed. */
#include "store/rstore_int.h"
#include "testlib.h"

static void fill(struct rs_corr_req *r, uint64_t n)
{
        memset(r, 0, sizeof *r);
        r->key.lo = n * 0x9E3779B97F4A7C15ull;
        r->key.hi = ~n;
        r->part = (uint16_t)(n % 7 + 1);
        r->n_parts = (uint16_t)(n % 5 + 1);
        r->app_len = (uint8_t)(n * 13 % (SMX_ID_MAX + 1));
        for (unsigned i = 0; i < r->app_len; i++)
                r->app[i] = (char)('a' + (n + i) % 26);
}

static int same(const struct rs_corr_req *a, const struct rs_corr_req *b)
{
        return a->key.lo == b->key.lo && a->key.hi == b->key.hi && a->part == b->part &&
               a->n_parts == b->n_parts && a->app_len == b->app_len &&
               !memcmp(a->app, b->app, a->app_len);
}

static void test_fifo_keeps_order_and_contents_across_wraps(void)
{
        static struct smx_rstore rs;
        memset(&rs, 0, sizeof rs);
        rs.fifo_cap = 1000;
        rs.fifo = malloc(rs.fifo_cap);
        uint64_t next_in = 0, next_out = 0, full = 0, bad = 0;
        uint64_t rnd = 42;
        for (int step = 0; step < 200000; step++) {
                rnd = rnd * 6364136223846793005ull + 1442695040888963407ull;
                int put = (rnd >> 33) % 100 < 55;
                if (put) {
                        struct rs_corr_req r;
                        fill(&r, next_in);
                        size_t used = rs.f_used;
                        if (rs_fifo_put(&rs, &r) == 0) {
                                next_in++;
                        } else {
                                full++;
                                bad += rs.f_used != used;       /* a refused put changes nothing */
                        }
                } else if (rs.f_n) {
                        struct rs_corr_req got, want;
                        size_t off = rs.f_head, skipped;
                        size_t sz = rs_fifo_at(&rs, &off, &got, &skipped);
                        fill(&want, next_out);
                        bad += !same(&got, &want);
                        bad += sz != 21u + want.app_len;
                        rs_fifo_pop(&rs);
                        next_out++;
                }
                bad += rs.f_used > rs.fifo_cap;
                bad += (rs.f_n == 0) != (rs.f_used == 0);
        }
        printf("# %llu records through a 1000-byte FIFO, %llu puts refused (full)\n",
               (unsigned long long)next_out, (unsigned long long)full);
        CHECK_EQ(bad, 0);
        CHECK(next_out > 10000);
        CHECK(full > 0);
        free(rs.fifo);
}

static void test_record_is_21_bytes_plus_the_id(void)
{
        static struct smx_rstore rs;
        memset(&rs, 0, sizeof rs);
        rs.fifo_cap = 4096;
        rs.fifo = malloc(rs.fifo_cap);
        struct rs_corr_req r;
        memset(&r, 0, sizeof r);
        r.app_len = 20;
        CHECK_EQ(rs_fifo_put(&rs, &r), 0);
        CHECK_EQ(rs.f_used, 41);        /* <= 64 B per buffered write (issue 13) */
        free(rs.fifo);
}

int main(void)
{
        RUN(test_fifo_keeps_order_and_contents_across_wraps);
        RUN(test_record_is_21_bytes_plus_the_id);
        return t_done();
}
