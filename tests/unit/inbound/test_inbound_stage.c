/* The accepted-MT put that never waits (src/inbound/stage.c): when the
 * correlation store's try_put meets a held shard lock the put is staged and
 * published later, with the DRs parked for it meanwhile. The held lock is
 * simulated by wrapping the store's ops: try_put answers -EBUSY while
 * `busy` is set, everything else goes to the real in-process store. */
#include <errno.h>
#include <stdio.h>

#include "inbound/inbound_int.h"
#include "inbound_fixture.h"

static struct smx_corr_ops wrapped;
static const struct smx_corr_ops *real;
static int busy;
static unsigned tries_of_serial_8;
static struct smx_key128 real_busy_key;        /* this key's lock is held too */

static int busy_try_put(void *impl, const struct smx_key128 *k, const struct smx_corr_val *v,
                        uint64_t now_ms, unsigned spins)
{
        tries_of_serial_8 += v->mt_serial == 8;
        if (busy || smx_key128_eq(k, &real_busy_key))
                return -EBUSY;
        return real->try_put(impl, k, v, now_ms, spins);
}

static struct smx_inbound *stage_inbound(void)
{
        struct smx_inbound *in = fx_inbound(600000);
        real = in->corr.ops;
        wrapped = *real;
        wrapped.try_put = busy_try_put;
        in->corr.ops = &wrapped;
        busy = 0;
        tries_of_serial_8 = 0;
        return in;
}

static void stage_destroy(struct smx_inbound *in)
{
        in->corr.ops = real;
        inbound_destroy(in);
}

/* exact ids: corr_has() hashes the id as written */
static const struct smx_bind_info bind0 = { .index = 0, .name = "b0", .site = "s",
                                            .msgid_norm = SMX_MSGID_EXACT };

static int accept(struct smx_inbound *in, const char *id, const char *app, uint64_t serial,
                  uint16_t part, uint16_t n_parts, struct smx_event_ring *ring)
{
        return inbound_on_accepted_w(in, &bind0, (const uint8_t *)id, strlen(id), app,
                                     strlen(app), serial, part, n_parts, ring, 1000);
}

static uint32_t dr(struct smx_inbound *in, const char *id, int state, struct smx_event_ring *ring)
{
        struct smx_pdu p;
        fx_dr(&p, id, state, NULL);
        return inbound_on_deliver_w(in, &bind0, &p, ring, 1000);
}

static int corr_has(struct smx_inbound *in, const char *id, struct smx_corr_val *v)
{
        struct smx_key128 k = smx_hash128(id, strlen(id), 0);
        return real->get(in->corr.impl, &k, v, 1000);
}

static void test_try_put_without_contention_stores_like_put(void)
{
        struct smx_corr_config cc = { .capacity = 1024, .ttl_ms = 1000 };
        struct smx_corr_store s;
        CHECK_EQ(smx_corr_mem_open(&cc, &s), 0);
        struct smx_key128 k1 = smx_hash128("p1", 2, 0), k2 = smx_hash128("p2", 2, 0);
        struct smx_corr_val v = { .mt_serial = 7, .part = 1, .n_parts = 2, .app_len = 3 };
        memcpy(v.app_id, "mt7", 3);
        CHECK_EQ(s.ops->try_put(s.impl, &k1, &v, 0, 0), 0);
        v.part = 2;
        CHECK_EQ(s.ops->try_put(s.impl, &k2, &v, 0, 0), 0);
        struct smx_corr_val got;
        CHECK_EQ(s.ops->get(s.impl, &k2, &got, 10), 1);
        CHECK_EQ(got.mt_serial, 7);
        CHECK_EQ(got.part, 2);
        /* the merge record exists: the second final part completes the MT */
        struct smx_corr_final f;
        CHECK_EQ(s.ops->part_final(s.impl, &k1, SMPP_STATE_DELIVERED, 10, &f), 1);
        CHECK_EQ(f.mt_final, 0);
        CHECK_EQ(s.ops->part_final(s.impl, &k2, SMPP_STATE_EXPIRED, 10, &f), 1);
        CHECK_EQ(f.mt_final, 1);
        CHECK_EQ(f.mt_state, SMPP_STATE_EXPIRED);
        CHECK_EQ(f.merge_lost, 0);
        s.ops->destroy(s.impl);
}

static void test_put_meeting_held_lock_is_staged_and_published_by_next_call(void)
{
        struct smx_inbound *in = stage_inbound();
        struct smx_event_ring *ring = event_ring_create(64);
        struct smx_corr_val v;
        struct fx_ev ev[4];

        busy = 1;
        CHECK_EQ(accept(in, "A1", "appA", 1, 0, 1, ring), 0);
        CHECK_EQ(corr_has(in, "A1", &v), 0);            /* not visible yet */
        /* its DR meanwhile (another worker): parks, nothing delivered */
        CHECK_EQ(dr(in, "A1", SMPP_STATE_DELIVERED, ring), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 0);

        busy = 0;
        /* one of the next STAGE_FLUSH_EVERY accepted MTs publishes A1 and
         * emits its parked DR */
        int emitted = 0;
        char id[16];
        for (unsigned i = 0; i < STAGE_FLUSH_EVERY && emitted == 0; i++) {
                snprintf(id, sizeof id, "B%u", i);
                emitted = accept(in, id, "appB", 2 + i, 0, 1, ring);
        }
        CHECK_EQ(emitted, 1);
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_EQ(ev[0].r.type, SMX_EV_DR);
        CHECK(ev[0].r.flags & SMX_EVF_HAS_ID);
        CHECK_STR(ev[0].r.id, "appA");
        CHECK(ev[0].r.flags & SMX_EVF_MT_FINAL);
        CHECK_EQ(corr_has(in, "A1", &v), 1);
        CHECK_EQ(corr_has(in, "B0", &v), 1);

        struct smx_inbound_stats st;
        inbound_stats(in, &st);
        CHECK_EQ(st.corr_staged, 1);
        CHECK_EQ(st.corr_waited, 0);
        CHECK_EQ(st.park_now, 0);
        CHECK_EQ(st.park_matched, 1);
        event_ring_destroy(ring);
        stage_destroy(in);
}

static void test_deliver_calls_publish_staged_puts(void)
{
        struct smx_inbound *in = stage_inbound();
        struct smx_event_ring *ring = event_ring_create(64);
        struct smx_corr_val v;
        char id[16];

        busy = 1;
        CHECK_EQ(accept(in, "C1", "appC", 3, 0, 1, ring), 0);
        busy = 0;
        /* DRs (of ids never accepted) on this thread: one of the next
         * STAGE_FLUSH_EVERY deliver calls publishes C1 */
        for (unsigned i = 0; i < STAGE_FLUSH_EVERY && !corr_has(in, "C1", &v); i++) {
                snprintf(id, sizeof id, "Z%u", i);
                CHECK_EQ(dr(in, id, SMPP_STATE_DELIVERED, ring), SMPP_ESME_ROK);
        }
        CHECK_EQ(corr_has(in, "C1", &v), 1);
        CHECK_EQ(v.mt_serial, 3);
        CHECK_EQ(stage_pending(in), 0);
        event_ring_destroy(ring);
        stage_destroy(in);
}

static void test_tick_publishes_staged_puts_while_the_lock_stays_held(void)
{
        struct smx_inbound *in = stage_inbound();
        struct smx_event_ring *ring = event_ring_create(64);
        struct fx_ev ev[4];

        busy = 1;                                       /* never lets go */
        CHECK_EQ(accept(in, "D1", "appD", 4, 0, 1, ring), 0);
        CHECK_EQ(dr(in, "D1", SMPP_STATE_UNDELIVERABLE, ring), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 0);
        inbound_tick_w(in, 0, 1, ring, 1001);           /* the timer waits for the lock */
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK_STR(ev[0].r.id, "appD");
        CHECK_EQ(ev[0].r.state, SMPP_STATE_UNDELIVERABLE);
        struct smx_inbound_stats st;
        inbound_stats(in, &st);
        CHECK_EQ(st.park_now, 0);
        CHECK_EQ(st.uncorrelated, 0);
        event_ring_destroy(ring);
        stage_destroy(in);
}

static void test_reused_id_staged_twice_keeps_the_later_mt(void)
{
        struct smx_inbound *in = stage_inbound();
        struct smx_event_ring *ring = event_ring_create(64);
        struct smx_corr_val v;

        busy = 1;
        CHECK_EQ(accept(in, "E1", "first", 5, 0, 1, ring), 0);
        busy = 0;
        /* E1's bucket has a staged put: this one queues behind, never overtakes */
        CHECK_EQ(accept(in, "E1", "second", 6, 0, 1, ring), 0);
        inbound_tick_w(in, 0, 1, ring, 1001);
        CHECK_EQ(corr_has(in, "E1", &v), 1);
        CHECK_EQ(v.mt_serial, 6);
        CHECK_EQ(v.app_len, 6);
        CHECK(memcmp(v.app_id, "second", 6) == 0);
        event_ring_destroy(ring);
        stage_destroy(in);
}

static void test_new_put_queues_behind_staged_ones_while_lock_is_held(void)
{
        struct smx_inbound *in = stage_inbound();
        struct smx_event_ring *ring = event_ring_create(64);
        struct smx_corr_val v;

        busy = 1;
        CHECK_EQ(accept(in, "F1", "first", 7, 0, 1, ring), 0);
        CHECK_EQ(accept(in, "F1", "second", 8, 0, 1, ring), 0);
        /* the new put never tried the lock: it queued behind the first */
        CHECK_EQ(tries_of_serial_8, 0);
        busy = 0;
        inbound_tick_w(in, 0, 1, ring, 1001);
        CHECK_EQ(corr_has(in, "F1", &v), 1);
        CHECK_EQ(v.mt_serial, 8);
        struct smx_inbound_stats st;
        inbound_stats(in, &st);
        CHECK_EQ(st.corr_staged, 2);
        event_ring_destroy(ring);
        stage_destroy(in);
}

/* An id whose key falls in another stage bucket than `other`'s. */
static void id_in_other_bucket(const char *other, char *out, size_t cap)
{
        struct smx_key128 ko = smx_hash128(other, strlen(other), 0);
        for (unsigned i = 0;; i++) {
                snprintf(out, cap, "J%u", i);
                struct smx_key128 k = smx_hash128(out, strlen(out), 0);
                if (k.lo % STAGE_BUCKETS != ko.lo % STAGE_BUCKETS)
                        return;
        }
}

static void test_put_of_another_bucket_goes_straight_in_while_one_is_staged(void)
{
        struct smx_inbound *in = stage_inbound();
        struct smx_event_ring *ring = event_ring_create(64);
        struct smx_corr_val v;
        char other[32];

        busy = 1;
        CHECK_EQ(accept(in, "I1", "held", 10, 0, 1, ring), 0);  /* staged */
        id_in_other_bucket("I1", other, sizeof other);
        busy = 0;
        real_busy_key = smx_hash128("I1", 2, 0);                /* only I1's lock is held */
        CHECK_EQ(accept(in, other, "free", 11, 0, 1, ring), 0);
        CHECK_EQ(corr_has(in, other, &v), 1);
        CHECK_EQ(corr_has(in, "I1", &v), 0);
        struct smx_inbound_stats st;
        inbound_stats(in, &st);
        CHECK_EQ(st.corr_staged, 1);
        real_busy_key.lo = real_busy_key.hi = 0;
        inbound_tick_w(in, 0, 1, ring, 1001);
        CHECK_EQ(corr_has(in, "I1", &v), 1);
        event_ring_destroy(ring);
        stage_destroy(in);
}

static void test_every_area_full_falls_back_to_a_waiting_put(void)
{
        struct smx_inbound *in = stage_inbound();
        struct smx_event_ring *ring = event_ring_create(64);
        struct smx_corr_val v;
        char id[32];

        busy = 1;
        for (unsigned i = 0; i < STAGE_AREAS * STAGE_CAP; i++) {
                snprintf(id, sizeof id, "G%u", i);
                CHECK_EQ(accept(in, id, "g", i, 0, 1, ring), 0);
        }
        CHECK_EQ(accept(in, "G-last", "g", 99999, 0, 1, ring), 0);
        CHECK_EQ(corr_has(in, "G-last", &v), 1);        /* put at once, waiting */
        CHECK_EQ(corr_has(in, "G0", &v), 0);
        struct smx_inbound_stats st;
        inbound_stats(in, &st);
        CHECK_EQ(st.corr_staged, STAGE_AREAS * STAGE_CAP);
        CHECK_EQ(st.corr_waited, 1);
        busy = 0;
        inbound_tick_w(in, 0, 1, ring, 1001);
        CHECK_EQ(corr_has(in, "G0", &v), 1);
        snprintf(id, sizeof id, "G%u", STAGE_AREAS * STAGE_CAP - 1);
        CHECK_EQ(corr_has(in, id, &v), 1);
        CHECK_EQ(stage_pending(in), 0);
        event_ring_destroy(ring);
        stage_destroy(in);
}

static void test_staged_multipart_mt_gets_one_merged_final(void)
{
        struct smx_inbound *in = stage_inbound();
        struct smx_event_ring *ring = event_ring_create(64);
        struct fx_ev ev[8];

        busy = 1;
        CHECK_EQ(accept(in, "H-1", "appH", 9, 0, 2, ring), 0);
        CHECK_EQ(accept(in, "H-2", "appH", 9, 1, 2, ring), 0);
        CHECK_EQ(dr(in, "H-2", SMPP_STATE_REJECTED, ring), SMPP_ESME_ROK);     /* parks */
        busy = 0;
        /* parked too, or correlated at once if this call publishes first */
        CHECK_EQ(dr(in, "H-1", SMPP_STATE_DELIVERED, ring), SMPP_ESME_ROK);
        inbound_tick_w(in, 0, 1, ring, 1001);
        size_t n = fx_drain(ring, ev, 8);
        CHECK_EQ(n, 2);
        int finals = 0;
        for (size_t i = 0; i < n; i++) {
                CHECK_STR(ev[i].r.id, "appH");
                CHECK_EQ(ev[i].r.parts, 2);
                if (ev[i].r.flags & SMX_EVF_MT_FINAL) {
                        finals++;
                        CHECK_EQ(ev[i].r.mt_state, SMPP_STATE_REJECTED);
                }
        }
        CHECK_EQ(finals, 1);
        struct smx_inbound_stats st;
        inbound_stats(in, &st);
        CHECK_EQ(st.merge_lost, 0);
        event_ring_destroy(ring);
        stage_destroy(in);
}

/* Issue 12 (shutdown): a put still staged when the client drains is
 * published by the flush before the park is emptied, so the DR parked for
 * it leaves correlated, not as an unknown id. */
static void test_drain_flush_publishes_staged_puts_before_the_park(void)
{
        struct smx_inbound *in = stage_inbound();
        struct smx_event_ring *ring = event_ring_create(64);
        struct fx_ev ev[4];
        busy = 1;
        CHECK_EQ(accept(in, "G1", "appG", 11, 0, 1, ring), 0);
        CHECK_EQ(dr(in, "G1", SMPP_STATE_EXPIRED, ring), SMPP_ESME_ROK);
        CHECK_EQ(fx_drain(ring, ev, 4), 0);
        CHECK_EQ(inbound_undelivered(in), 1);
        /* the flush waits for the held lock (the timer's put), so it must
         * become free; the staged put is still unpublished here */
        busy = 0;
        CHECK(stage_pending(in));
        inbound_flush_w(in, 0, 1, ring, 1001);
        CHECK(!stage_pending(in));
        CHECK_EQ(fx_drain(ring, ev, 4), 1);
        CHECK(ev[0].r.flags & SMX_EVF_HAS_ID);
        CHECK_STR(ev[0].r.id, "appG");
        CHECK_EQ(ev[0].r.state, SMX_DR_EXPIRED);
        CHECK_EQ(inbound_undelivered(in), 0);
        struct smx_inbound_stats st;
        inbound_stats(in, &st);
        CHECK_EQ(st.uncorrelated, 0);
        event_ring_destroy(ring);
        stage_destroy(in);
}

int main(void)
{
        RUN(test_try_put_without_contention_stores_like_put);
        RUN(test_put_meeting_held_lock_is_staged_and_published_by_next_call);
        RUN(test_deliver_calls_publish_staged_puts);
        RUN(test_tick_publishes_staged_puts_while_the_lock_stays_held);
        RUN(test_reused_id_staged_twice_keeps_the_later_mt);
        RUN(test_new_put_queues_behind_staged_ones_while_lock_is_held);
        RUN(test_put_of_another_bucket_goes_straight_in_while_one_is_staged);
        RUN(test_every_area_full_falls_back_to_a_waiting_put);
        RUN(test_staged_multipart_mt_gets_one_merged_final);
        RUN(test_drain_flush_publishes_staged_puts_before_the_park);
        return t_done();
}
