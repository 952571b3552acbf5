/* The accepted-MT correlation in two steps (inbound_accepted_prepare, then
 * inbound_accepted_commit_w), as a worker uses it: a put prepared at its
 * submit_sm_resp is committed some resps later (src/worker/worker_session.c
 * accepted_put). Between the two the correlation does not exist, so a DR
 * that races the resp (another worker, another site) parks; the commit must
 * emit it correlated, exactly once, and nothing may be left in the park. */
#include <errno.h>
#include <stdio.h>

#include "inbound/inbound_int.h"
#include "inbound_fixture.h"

static const struct smx_bind_info bind_exact = { .index = 0, .name = "b0", .site = "s",
                                                 .msgid_norm = SMX_MSGID_NORM_EXACT };
static const struct smx_bind_info bind_auto = { .index = 1, .name = "b1", .site = "s",
                                                .msgid_norm = SMX_MSGID_NORM_AUTO };

static int prepare(struct smx_inbound *in, const struct smx_bind_info *b, const char *id,
                   const char *app, uint64_t serial, uint16_t part, uint16_t n_parts,
                   struct smx_accepted_put *a)
{
        return inbound_accepted_prepare(in, b, (const uint8_t *)id, strlen(id), app, strlen(app),
                                        serial, part, n_parts, a);
}

static uint32_t dr(struct smx_inbound *in, const struct smx_bind_info *b, const char *id,
                   int state, struct smx_event_ring *ring)
{
        struct smx_pdu p;
        fx_dr(&p, id, state, NULL);
        return inbound_on_deliver_w(in, b, &p, ring, 1000);
}

static int corr_has(struct smx_inbound *in, const char *id)
{
        struct smx_key128 k = smx_hash128(id, strlen(id), 0);
        struct smx_corr_val v;
        return in->corr.ops->get(in->corr.impl, &k, &v, 1000);
}

static void test_dr_racing_a_prepared_put_is_correlated_once_at_commit(void)
{
        struct smx_inbound *in = fx_inbound(600000);
        struct smx_event_ring *ring = event_ring_create(64);
        struct fx_ev ev[4];
        struct smx_accepted_put a;

        CHECK_EQ(prepare(in, &bind_exact, "A1", "appA", 1, 0, 1, &a), 0);
        CHECK_EQ(corr_has(in, "A1"), 0);                /* nothing visible yet */
        /* its DR, from another worker, before the commit: acknowledged, parked */
        CHECK_EQ(dr(in, &bind_exact, "A1", SMPP_STATE_DELIVERED, ring), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 0);
        CHECK_EQ(inbound_undelivered(in), 1);

        CHECK_EQ(inbound_accepted_commit_w(in, &a, ring, 1000), 1);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_EQ(ev[0].r.type, SMX_EV_DR);
        CHECK(ev[0].r.flags & SMX_EVF_HAS_ID);
        CHECK_STR(ev[0].r.id, "appA");
        CHECK_STR(ev[0].r.message_id, "A1");
        CHECK_EQ(ev[0].r.state, SMX_DR_DELIVERED);
        CHECK(ev[0].r.flags & SMX_EVF_MT_FINAL);
        CHECK_EQ(corr_has(in, "A1"), 1);
        CHECK_EQ(inbound_undelivered(in), 0);

        /* once: neither the timer nor the shutdown flush brings it again */
        inbound_tick_w(in, 0, 1, ring, 1001);
        inbound_flush_w(in, 0, 1, ring, 1002);
        CHECK_EQ(fx_drain(ring, ev, 4), 0);
        struct smx_inbound_stats st;
        inbound_stats(in, &st);
        CHECK_EQ(st.park_matched, 1);
        CHECK_EQ(st.uncorrelated, 0);
        CHECK_EQ(st.park_now, 0);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_dr_after_commit_is_correlated_at_once(void)
{
        struct smx_inbound *in = fx_inbound(600000);
        struct smx_event_ring *ring = event_ring_create(64);
        struct fx_ev ev[4];
        struct smx_accepted_put a;

        CHECK_EQ(prepare(in, &bind_exact, "B1", "appB", 2, 0, 1, &a), 0);
        CHECK_EQ(inbound_accepted_commit_w(in, &a, ring, 1000), 0);     /* nothing parked */
        CHECK_EQ(dr(in, &bind_exact, "B1", SMPP_STATE_UNDELIVERABLE, ring), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK(ev[0].r.flags & SMX_EVF_HAS_ID);
        CHECK_STR(ev[0].r.id, "appB");
        CHECK_EQ(ev[0].r.state, SMX_DR_UNDELIVERABLE);
        struct smx_inbound_stats st;
        inbound_stats(in, &st);
        CHECK_EQ(st.parked, 0);
        event_ring_destroy(ring);
        inbound_destroy(in);
}

/* A worker commits its prepared puts oldest first: two MTs accepted under
 * one id (an SMSC reusing ids) end with the later one's correlation, and a
 * multipart MT whose two parts' DRs both raced their puts gets one DR per
 * part and one merged final. */
static void test_prepared_puts_committed_in_order(void)
{
        struct smx_inbound *in = fx_inbound(600000);
        struct smx_event_ring *ring = event_ring_create(64);
        struct fx_ev ev[4];
        struct smx_accepted_put a[4];

        CHECK_EQ(prepare(in, &bind_exact, "C1", "first", 3, 0, 1, &a[0]), 0);
        CHECK_EQ(prepare(in, &bind_exact, "C1", "second", 4, 0, 1, &a[1]), 0);
        CHECK_EQ(prepare(in, &bind_exact, "P1", "long", 5, 0, 2, &a[2]), 0);
        CHECK_EQ(prepare(in, &bind_exact, "P2", "long", 5, 1, 2, &a[3]), 0);
        CHECK_EQ(dr(in, &bind_exact, "P2", SMPP_STATE_EXPIRED, ring), SMPP_ESME_ROK);
        CHECK_EQ(dr(in, &bind_exact, "P1", SMPP_STATE_DELIVERED, ring), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 0);
        int emitted = 0;
        for (int i = 0; i < 4; i++)
                emitted += inbound_accepted_commit_w(in, &a[i], ring, 1000);
        CHECK_EQ(emitted, 2);
        CHECK_EQ(fx_drain(ring, ev, 4), 2);
        int finals = 0;
        for (int i = 0; i < 2; i++) {
                CHECK(ev[i].r.flags & SMX_EVF_HAS_ID);
                CHECK_STR(ev[i].r.id, "long");
                finals += (ev[i].r.flags & SMX_EVF_MT_FINAL) != 0;
                if (ev[i].r.flags & SMX_EVF_MT_FINAL)
                        CHECK_EQ(ev[i].r.mt_state, SMX_DR_EXPIRED);    /* the worse part */
        }
        CHECK_EQ(finals, 1);
        CHECK_EQ(dr(in, &bind_exact, "C1", SMPP_STATE_DELIVERED, ring), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].r.id, "second");
        event_ring_destroy(ring);
        inbound_destroy(in);
}

/* prepare applies the bind's msgid_norm rules, as the one-step put does */
static void test_prepare_normalises_with_the_binds_rules(void)
{
        struct smx_inbound *in = fx_inbound(600000);
        struct smx_event_ring *ring = event_ring_create(64);
        struct fx_ev ev[4];
        struct smx_accepted_put a;

        CHECK_EQ(prepare(in, &bind_auto, "00004B2F1E", "appD", 6, 0, 1, &a), 0);
        CHECK_EQ(dr(in, &bind_auto, "4b2f1e", SMPP_STATE_DELIVERED, ring), SMPP_ESME_ROK);
        CHECK_EQ(inbound_accepted_commit_w(in, &a, ring, 1000), 1);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].r.id, "appD");
        event_ring_destroy(ring);
        inbound_destroy(in);
}

static void test_prepare_refuses_ids_no_dr_can_name(void)
{
        struct smx_inbound *in = fx_inbound(600000);
        struct smx_accepted_put a;
        char longid[SMX_MSGID_MAX + 8];
        memset(longid, 'A', sizeof longid - 1);
        longid[sizeof longid - 1] = 0;

        CHECK_EQ(inbound_accepted_prepare(in, &bind_exact, (const uint8_t *)"", 0, "x", 1, 7, 0, 1,
                                          &a), -EINVAL);
        CHECK_EQ(prepare(in, &bind_exact, longid, "x", 7, 0, 1, &a), -E2BIG);
        struct smx_inbound_stats st;
        inbound_stats(in, &st);
        CHECK_EQ(st.id_too_long, 1);
        CHECK_EQ(st.corr_entries, 0);
        inbound_destroy(in);
}

int main(void)
{
        RUN(test_dr_racing_a_prepared_put_is_correlated_once_at_commit);
        RUN(test_dr_after_commit_is_correlated_at_once);
        RUN(test_prepared_puts_committed_in_order);
        RUN(test_prepare_normalises_with_the_binds_rules);
        RUN(test_prepare_refuses_ids_no_dr_can_name);
        return t_done();
}
