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
        RUN(test_outcomes_beyond_a_full_ring_keep_their_message_id);
        RUN(test_long_and_short_ids_share_the_ring_in_order);
        smx_client_drain(E.c, 3000);
        it_stop(&E);
        return t_done();
}
