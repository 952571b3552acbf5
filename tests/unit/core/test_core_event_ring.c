/* The event ring (src/events): outcome entries and full records share one
 * order; an entry holds an outcome whole, a full record is reached through
 * its entry; the ring is full at its capacity whatever mix it holds; a
 * record's heap text is freed with its entry; an uncommitted reserve is
 * replaced by the next one. */
#include <string.h>

#include "events/event_ring.h"
#include "testlib.h"

static void put_outcome(struct smx_event_ring *r, const char *id, const char *msgid, uint32_t attempts)
{
        struct smx_ev_out *o = event_ring_reserve_outcome_w(r);
        CHECK(o != NULL);
        if (!o)
                return;
        size_t il = strlen(id), ml = strlen(msgid);
        CHECK(event_out_fits(il, ml));
        memset(o, 0, sizeof *o);
        o->type = SMX_EV_SUBMITTED;
        o->id_len = (uint8_t)il;
        o->bind = 1;
        o->attempts = attempts;
        o->latency_us = 77;
        memcpy(o->str, id, il + 1);
        memcpy(o->str + il + 1, msgid, ml + 1);
        event_ring_commit_w(r);
}

static void put_mo(struct smx_event_ring *r, const char *text, size_t len)
{
        struct smx_ev_rec *e = event_ring_reserve_w(r);
        CHECK(e != NULL);
        if (!e)
                return;
        e->type = SMX_EV_MO;
        CHECK_EQ(event_rec_set_text(e, text, len), 0);
        event_ring_commit_w(r);
}

static void test_entry_is_one_cache_line_and_fit_rule(void)
{
        CHECK_EQ(sizeof(struct smx_ev_out), 64);
        CHECK(event_out_fits(20, 16));          /* id + NUL + id + NUL = 38 */
        CHECK(event_out_fits(0, 38));
        CHECK(!event_out_fits(20, 19));         /* 41 */
        CHECK(!event_out_fits(SMX_ID_MAX, 0));
}

static void test_outcomes_and_records_keep_one_order(void)
{
        struct smx_event_ring *r = event_ring_create(8);
        CHECK(r != NULL);
        put_outcome(r, "m1", "abc", 1);
        put_mo(r, "hello", 5);
        put_outcome(r, "m2", "", 2);
        put_mo(r, "world", 5);
        CHECK_EQ(event_ring_used(r), 4);

        const struct smx_ev_out *o = event_ring_peek_out_nth(r, 0);
        CHECK(o && o->type == SMX_EV_SUBMITTED && !strcmp(o->str, "m1") &&
              !strcmp(o->str + o->id_len + 1, "abc") && o->attempts == 1);
        o = event_ring_peek_out_nth(r, 1);
        CHECK(o && o->type == SMX_EV_OUT_BIG);
        if (o) {
                struct smx_ev_rec *e = event_ring_big(r, o);
                CHECK(e->type == SMX_EV_MO && !strcmp(event_rec_text(e), "hello"));
        }
        o = event_ring_peek_out_nth(r, 2);
        CHECK(o && o->type == SMX_EV_SUBMITTED && !strcmp(o->str, "m2") && o->str[o->id_len + 1] == 0);
        o = event_ring_peek_out_nth(r, 3);
        CHECK(o && o->type == SMX_EV_OUT_BIG && !strcmp(event_rec_text(event_ring_big(r, o)), "world"));
        CHECK(event_ring_peek_out_nth(r, 4) == NULL);

        /* the test/tool view: an outcome entry copied into a full record */
        struct smx_ev_rec *e = event_ring_peek(r);
        CHECK(e && e->type == SMX_EV_SUBMITTED && !strcmp(e->id, "m1") &&
              !strcmp(e->message_id, "abc") && e->bind == 1 && e->latency_us == 77);
        event_ring_release(r);
        e = event_ring_peek(r);
        CHECK(e && e->type == SMX_EV_MO && !strcmp(event_rec_text(e), "hello"));
        event_ring_release(r);
        event_ring_release(r);
        event_ring_release(r);
        CHECK(event_ring_peek(r) == NULL);
        CHECK_EQ(event_ring_space_w(r), 8);
        event_ring_destroy(r);
}

static void test_full_at_capacity_whatever_the_mix(void)
{
        struct smx_event_ring *r = event_ring_create(4);
        /* wrap the indices several times with a mix of both kinds */
        char big[600];
        memset(big, 'x', sizeof big);
        for (int round = 0; round < 5; round++) {
                put_mo(r, big, sizeof big);             /* heap text */
                put_outcome(r, "a", "b", 1);
                put_mo(r, "t", 1);
                put_outcome(r, "c", "d", 2);
                CHECK_EQ(event_ring_space_w(r), 0);
                CHECK(event_ring_reserve_w(r) == NULL);
                CHECK(event_ring_reserve_outcome_w(r) == NULL);
                struct smx_ev_rec *e = event_ring_peek(r);
                CHECK(e && e->type == SMX_EV_MO && e->text_len == sizeof big);
                event_ring_release(r);                  /* frees the heap text */
                CHECK_EQ(event_ring_space_w(r), 1);
                put_mo(r, "again", 5);
                for (int i = 0; i < 4; i++)
                        event_ring_release(r);
                CHECK_EQ(event_ring_used(r), 0);
        }
        /* destroy frees the heap text of records still in the ring */
        put_mo(r, big, sizeof big);
        event_ring_destroy(r);
}

static void test_uncommitted_reserve_is_replaced(void)
{
        struct smx_event_ring *r = event_ring_create(4);
        struct smx_ev_rec *a = event_ring_reserve_w(r);
        CHECK(a != NULL);
        if (a)
                a->type = SMX_EV_DR;
        /* an outcome reserved instead: the record is not published */
        put_outcome(r, "m9", "z", 3);
        struct smx_ev_rec *b = event_ring_reserve_w(r);
        CHECK(b == a);                                  /* the same record again */
        if (b)
                b->type = SMX_EV_MO;
        event_ring_commit_w(r);
        const struct smx_ev_out *o = event_ring_peek_out_nth(r, 0);
        CHECK(o && o->type == SMX_EV_SUBMITTED);
        o = event_ring_peek_out_nth(r, 1);
        CHECK(o && o->type == SMX_EV_OUT_BIG && event_ring_big(r, o)->type == SMX_EV_MO);
        CHECK_EQ(event_ring_used(r), 2);
        event_ring_destroy(r);
}

int main(void)
{
        RUN(test_entry_is_one_cache_line_and_fit_rule);
        RUN(test_outcomes_and_records_keep_one_order);
        RUN(test_full_at_capacity_whatever_the_mix);
        RUN(test_uncommitted_reserve_is_replaced);
        return t_done();
}
