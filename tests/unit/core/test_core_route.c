/* Routing policies (src/route): only ready binds are picked (R4), the bind
 * of the last attempt is avoided when another is ready, and each policy
 * spreads MTs as documented. */
#include "route/route.h"
#include "testlib.h"

static void cands(struct smx_route_cand *c, unsigned n)
{
        for (unsigned i = 0; i < n; i++)
                c[i] = (struct smx_route_cand){ .ready = 1, .outstanding = 0, .weight = 1,
                                                .bind = (uint16_t)(10 + i) };
}

static void test_no_ready_bind_gives_none(void)
{
        struct smx_router r;
        route_init(&r, SMX_ROUTE_ROUND_ROBIN);
        struct smx_route_cand c[3];
        cands(c, 3);
        for (int i = 0; i < 3; i++)
                c[i].ready = 0;
        CHECK_EQ(route_pick(&r, c, 3, 0xFFFF), -1);
        CHECK_EQ(route_pick(&r, c, 0, 0xFFFF), -1);
}

static void test_round_robin_cycles_over_ready_binds(void)
{
        struct smx_router r;
        route_init(&r, SMX_ROUTE_ROUND_ROBIN);
        struct smx_route_cand c[3];
        cands(c, 3);
        c[1].ready = 0;
        int seq[4];
        for (int i = 0; i < 4; i++)
                seq[i] = route_pick(&r, c, 3, 0xFFFF);
        CHECK_EQ(seq[0], 0);
        CHECK_EQ(seq[1], 2);
        CHECK_EQ(seq[2], 0);
        CHECK_EQ(seq[3], 2);
}

static void test_retry_prefers_another_bind(void)
{
        struct smx_router r;
        route_init(&r, SMX_ROUTE_ROUND_ROBIN);
        struct smx_route_cand c[2];
        cands(c, 2);
        for (int i = 0; i < 10; i++)
                CHECK_EQ(route_pick(&r, c, 2, 10), 1);
}

static void test_retry_uses_same_bind_when_it_is_the_only_one(void)
{
        struct smx_router r;
        route_init(&r, SMX_ROUTE_LEAST_OUTSTANDING);
        struct smx_route_cand c[2];
        cands(c, 2);
        c[1].ready = 0;
        CHECK_EQ(route_pick(&r, c, 2, 10), 0);
}

static void test_least_outstanding_picks_the_emptiest(void)
{
        struct smx_router r;
        route_init(&r, SMX_ROUTE_LEAST_OUTSTANDING);
        struct smx_route_cand c[4];
        cands(c, 4);
        c[0].outstanding = 5;
        c[1].outstanding = 2;
        c[2].outstanding = 7;
        c[3].outstanding = 3;
        CHECK_EQ(route_pick(&r, c, 4, 0xFFFF), 1);
        c[1].ready = 0;
        CHECK_EQ(route_pick(&r, c, 4, 0xFFFF), 3);
}

static void test_site_weighted_follows_weights(void)
{
        struct smx_router r;
        route_init(&r, SMX_ROUTE_SITE_WEIGHTED);
        struct smx_route_cand c[2];
        cands(c, 2);
        c[0].weight = 3;
        c[1].weight = 1;
        int count[2] = { 0, 0 };
        for (int i = 0; i < 400; i++)
                count[route_pick(&r, c, 2, 0xFFFF)]++;
        CHECK_EQ(count[0], 300);
        CHECK_EQ(count[1], 100);
}

static void test_site_weighted_skips_unready(void)
{
        struct smx_router r;
        route_init(&r, SMX_ROUTE_SITE_WEIGHTED);
        struct smx_route_cand c[3];
        cands(c, 3);
        c[0].weight = 10;
        c[0].ready = 0;
        for (int i = 0; i < 20; i++)
                CHECK(route_pick(&r, c, 3, 0xFFFF) != 0);
}

int main(void)
{
        RUN(test_no_ready_bind_gives_none);
        RUN(test_round_robin_cycles_over_ready_binds);
        RUN(test_retry_prefers_another_bind);
        RUN(test_retry_uses_same_bind_when_it_is_the_only_one);
        RUN(test_least_outstanding_picks_the_emptiest);
        RUN(test_site_weighted_follows_weights);
        RUN(test_site_weighted_skips_unready);
        return t_done();
}
