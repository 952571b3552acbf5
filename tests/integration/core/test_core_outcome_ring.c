/* Outcomes that find the worker's event ring full wait on the worker
 * (worker_outcome.c: the pending list, with the SMSC's message id kept in
 * the MT's slot) and reach the application, once each, with that id, when
 * it polls again. An outcome that finds room writes the id straight into
 * the ring record; this test makes most outcomes take the other path: a
 * 128-record ring, 2 binds of window 200, the application not polling
 * until outcomes are waiting on the worker. An outcome whose MT id and
 * message id fit a ring entry is stored whole in it, one with a longer id
 * in a full record (src/events/event_ring.h); the second test mixes both,
 * through a full ring, and checks each id arrives whole. */
#include "itest.h"

static struct it_env E;

#define N_MT 600u

static void test_outcomes_beyond_a_full_ring_keep_their_message_id(void)
{
        CHECK_EQ(it_wait_active(&E, E.n, 10000), 1);
        uint64_t first = E.next_mt;
        CHECK_EQ(it_try_submit_n(&E, N_MT, "pending outcome"), N_MT);
        /* no poll: the ring fills, outcomes of the MTs still on the wire wait
         * on the worker (which takes no new MT meanwhile) */
        uint64_t end = it_now_ms() + 20000;
        while (smx_client_undelivered(E.c) == 0 && it_now_ms() < end)
                it_sleep_ms(5);
        CHECK(smx_client_undelivered(E.c) > 0);
        it_sleep_ms(300);                               /* the rest of the window's resps */

        static uint8_t seen[N_MT];
        unsigned submitted = 0, without_id = 0, bad = 0;
        end = it_now_ms() + 20000;
        while (submitted < N_MT && it_now_ms() < end) {
                struct smx_event ev[64];
                size_t n = smx_events_poll(E.c, ev, 64);
                for (size_t i = 0; i < n; i++) {
                        if (ev[i].type != SMX_EV_SUBMITTED && ev[i].type != SMX_EV_FAILED)
                                continue;
                        unsigned long k = ev[i].id ? strtoul(ev[i].id + 3, NULL, 10) : 0;
                        if (ev[i].type != SMX_EV_SUBMITTED || k < first || k >= first + N_MT) {
                                bad++;
                                continue;
                        }
                        seen[k - first]++;
                        submitted++;
                        if (!ev[i].message_id || !ev[i].message_id[0])
                                without_id++;
                }
                if (n == 0)
                        it_sleep_ms(2);
        }
        CHECK_EQ(submitted, N_MT);
        CHECK_EQ(bad, 0);
        CHECK_EQ(without_id, 0);
        unsigned not_once = 0;
        for (unsigned k = 0; k < N_MT; k++)
                not_once += seen[k] != 1;
        CHECK_EQ(not_once, 0);
}

/* "mt-K" padded with 'x' to `len` characters (60 takes a full record). */
static void long_id(char *id, uint64_t k, size_t len)
{
        int n = snprintf(id, SMX_ID_MAX + 1, "mt-%llu", (unsigned long long)k);
        for (size_t i = (size_t)n; i < len; i++)
                id[i] = 'x';
        id[len > (size_t)n ? len : (size_t)n] = 0;
}

static void test_long_and_short_ids_share_the_ring_in_order(void)
{
        uint64_t first = E.next_mt;
        char id[SMX_ID_MAX + 1];
        unsigned in = 0;
        for (; in < N_MT; in++) {
                long_id(id, first + in, (in % 3) ? 60 : 0);   /* 2 in 3 long */
                struct smx_mt mt = it_mt(first + in, (char[32]){ 0 }, "mixed ids");
                mt.id = id;
                if (smx_submit(E.c, &mt) != 0)
                        break;
        }
        CHECK_EQ(in, N_MT);
        E.next_mt += in;
        uint64_t end = it_now_ms() + 20000;
        while (smx_client_undelivered(E.c) == 0 && it_now_ms() < end)
                it_sleep_ms(5);
        CHECK(smx_client_undelivered(E.c) > 0);
        it_sleep_ms(300);

        static uint8_t seen[N_MT];
        memset(seen, 0, sizeof seen);
        unsigned submitted = 0, without_id = 0, bad = 0;
        end = it_now_ms() + 20000;
        while (submitted < N_MT && it_now_ms() < end) {
                struct smx_event ev[64];
                size_t n = smx_events_poll(E.c, ev, 64);
                for (size_t i = 0; i < n; i++) {
                        if (ev[i].type != SMX_EV_SUBMITTED && ev[i].type != SMX_EV_FAILED)
                                continue;
                        unsigned long k = ev[i].id ? strtoul(ev[i].id + 3, NULL, 10) : 0;
                        if (ev[i].type != SMX_EV_SUBMITTED || k < first || k >= first + N_MT) {
                                bad++;
                                continue;
                        }
                        long_id(id, k, ((k - first) % 3) ? 60 : 0);
                        if (strcmp(ev[i].id, id) != 0)
                                bad++;
                        seen[k - first]++;
                        submitted++;
                        if (!ev[i].message_id || !ev[i].message_id[0])
                                without_id++;
                }
                if (n == 0)
                        it_sleep_ms(2);
        }
        CHECK_EQ(submitted, N_MT);
        CHECK_EQ(bad, 0);
        CHECK_EQ(without_id, 0);
        unsigned not_once = 0;
        for (unsigned k = 0; k < N_MT; k++)
                not_once += seen[k] != 1;
        CHECK_EQ(not_once, 0);
}

/* Fields a SUBMITTED/FAILED event does not use, zero. */
static int outcome_rest_zero(const struct smx_event *x)
{
        static const char zero_err[sizeof x->err];
        return x->state == 0 && !memcmp(x->err, zero_err, sizeof x->err) && x->part == 0 &&
               x->mt_final == 0 && x->mt_state == 0 && x->raw == 0 && !x->from && !x->to &&
               !x->text && x->text_len == 0 && x->parts == 0 && x->partial == 0 && x->up == 0 &&
               !x->bind_reason;
}

/* Every field of each event that its type does not set is zero, whatever
 * the application's array held before the poll (smx_events_poll writes
 * every field: events_poll.c clears the ones an event leaves, field by
 * field). The array is filled with 0xA5 before each poll; BIND events (the
 * binds coming up), outcomes held whole in a ring entry (short id) and in a
 * full record (60-character id), and the DRs the simulator sends for them
 * are all checked. */
static void test_every_field_an_event_does_not_set_is_zero(void)
{
        struct smx_event ev[64];
        unsigned ups = 0, outcomes = 0, drs = 0, bad = 0;
        uint64_t first = E.next_mt;
        char id[SMX_ID_MAX + 1];
        const unsigned n_mt = 100;
        int submitted = 0;
        uint64_t end = it_now_ms() + 20000;
        while ((outcomes < n_mt || drs < n_mt / 2) && it_now_ms() < end) {
                if (!submitted && ups == E.n) {
                        for (unsigned i = 0; i < n_mt; i++) {
                                long_id(id, first + i, (i & 1) ? 60 : 0);
                                struct smx_mt mt = it_mt(first + i, (char[32]){ 0 }, "zeroed");
                                mt.id = id;
                                CHECK_EQ(smx_submit(E.c, &mt), 0);
                        }
                        E.next_mt += n_mt;
                        submitted = 1;
                }
                memset(ev, 0xA5, sizeof ev);
                size_t n = smx_events_poll(E.c, ev, 64);
                for (size_t i = 0; i < n; i++) {
                        const struct smx_event *x = &ev[i];
                        switch (x->type) {
                        case SMX_EV_BIND:
                                ups += x->up == 1;
                                bad += x->id || x->message_id || x->attempts || x->reason ||
                                       x->permanent || x->latency_us || x->state || x->err[0] ||
                                       x->part || x->mt_final || x->mt_state || x->raw ||
                                       x->from || x->to || x->text || x->text_len || x->parts ||
                                       x->partial || !x->smsc || !x->site;
                                break;
                        case SMX_EV_SUBMITTED:
                        case SMX_EV_FAILED:
                                outcomes++;
                                bad += !outcome_rest_zero(x) || !x->id || !x->smsc || !x->site ||
                                       (x->type == SMX_EV_SUBMITTED &&
                                        (x->permanent || x->reason || !x->message_id));
                                break;
                        case SMX_EV_DR:
                                drs++;
                                bad += x->attempts || x->status || x->reason || x->permanent ||
                                       x->latency_us || x->partial || x->up || x->bind_reason ||
                                       !x->message_id || !x->smsc || !x->site;
                                break;
                        default:
                                bad++;
                                break;
                        }
                }
                if (n == 0)
                        it_sleep_ms(2);
        }
        CHECK_EQ(ups, E.n);
        CHECK_EQ(outcomes, n_mt);
        CHECK(drs >= n_mt / 2);
        CHECK_EQ(bad, 0);
}

int main(void)
{
        if (it_sim_start(&E, "dc3", 2, 1.0) < 0) {
                printf("not ok 1 - setup\n1..1\n");
                return 1;
        }
        E.cfg.event_capacity = 128;
        E.cfg.window = 200;
        if (it_client_start(&E) < 0) {
                printf("not ok 1 - setup\n1..1\n");
                return 1;
        }
        smx_log_configure(SMX_LOG_ERROR, NULL, NULL);
        RUN(test_every_field_an_event_does_not_set_is_zero);
        RUN(test_outcomes_beyond_a_full_ring_keep_their_message_id);
        RUN(test_long_and_short_ids_share_the_ring_in_order);
        smx_client_drain(E.c, 3000);
        it_stop(&E);
        return t_done();
}
