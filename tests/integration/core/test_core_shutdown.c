/* Shutdown loses nothing accepted (issue 12, part 2): every place where an
 * accepted MT or an acknowledged DR/MO can wait when the client drains,
 * driven through the public API against smsc-sim:
 *   - MTs waiting out a retry backoff (a transient status) fail "shutdown",
 *     once each, when the drain times out, their outcomes flowing after the
 *     drain when the rings were full;
 *   - DRs parked for an id that never comes and MOs missing parts are
 *     delivered at the drain, also when they are more than the event rings
 *     hold: the rest waits (smx_client_undelivered) and flows as the
 *     application polls, each once;
 *   - smx_client_destroy without a drain says in the log what it discards.
 * The CLI path (pipe) is tests/integration/cli/test_pipe_shutdown.py; the
 * inbound room's own flush, ring-full and staged-put cases are unit tests
 * (tests/unit/inbound). */
#include "itest.h"

static struct it_env E;

/* DR / MO events of the last pump (beyond it_pump's counts). */
static uint64_t unk_drs, unk_uncorrelated, unk_dups, partial_mos, other_mos;
static uint8_t unk_seen[1024];

static void pump_inbound(void)
{
        struct smx_event ev[64];
        size_t n;
        while ((n = smx_events_poll(E.c, ev, 64)) > 0) {
                for (size_t i = 0; i < n; i++) {
                        const struct smx_event *x = &ev[i];
                        if (x->type == SMX_EV_DR && x->message_id &&
                            !strncmp(x->message_id, "UNK", 3)) {
                                unsigned k = (unsigned)strtoul(x->message_id + 3, NULL, 10);
                                unk_drs++;
                                unk_uncorrelated += x->id == NULL;
                                if (k < 1024 && unk_seen[k]++)
                                        unk_dups++;
                        } else if (x->type == SMX_EV_MO) {
                                if (x->partial && x->parts == 2)      /* 2 of 3 parts came */
                                        partial_mos++;
                                else
                                        other_mos++;
                        }
                }
        }
}

static double acked(void)
{
        return it_json_num(it_summary(&E), "\"totals\"", "deliver_sm_acked");
}

#define N_BACKOFF 300

/* ... and their outcomes, more than the event rings (2 x 128) hold while
 * nobody polls, wait in the workers (smx_client_undelivered counts them)
 * and reach the app as it polls after the drain. */
static void test_mts_in_retry_backoff_fail_once_at_drain(void)
{
        uint32_t window0 = E.cfg.window;
        E.cfg.retry_backoff_ms = 20000;         /* they sit in the backoff list */
        /* queue full pauses a bind like throttling: windows that take every
         * MT in the first flights, so each is refused and backs off */
        E.cfg.window = 100;
        E.cfg.event_capacity = 128;
        CHECK_EQ(it_client_start(&E), 0);
        CHECK_EQ(it_wait_active(&E, E.n, 10000), 1);
        double rej0 = it_json_num(it_summary(&E), "\"totals\"", "submit_sm_rejected");
        it_sim_ctl(&E, "queue-full all on");
        CHECK_EQ(it_submit_n(&E, N_BACKOFF, "backing off"), N_BACKOFF);
        /* On a loaded machine the first flights may not carry all of them:
         * the first refusal pauses its bind for the pause base, which is
         * retry_backoff_ms (20 s here), and the MTs left in the ingress go
         * out (and are refused) when it ends; an MT refused in the first
         * flight is then out of its backoff, refused again, and backs off
         * again. Either way each ends up in the backoff list: wait out one
         * pause on top of the usual bound. */
        uint64_t end = it_now_ms() + 15000 + E.cfg.retry_backoff_ms;
        while (it_json_num(it_summary(&E), "\"totals\"", "submit_sm_rejected") - rej0 < N_BACKOFF &&
               it_now_ms() < end) {
                it_pump(&E);
                it_sleep_ms(5);
        }
        CHECK(it_json_num(it_summary(&E), "\"totals\"", "submit_sm_rejected") - rej0 >= N_BACKOFF);
        it_pump(&E);
        CHECK_EQ(E.submitted + E.failed, 0);     /* all waiting in the backoff */
        CHECK_EQ(smx_client_drain(E.c, 200), SMX_ETIMEDOUT);
        CHECK_EQ(smx_client_in_flight(E.c), 0);
        uint64_t waiting = smx_client_undelivered(E.c);
        printf("# outcomes waiting for ring room after the drain: %llu\n",
               (unsigned long long)waiting);
        CHECK(waiting > 0);
        end = it_now_ms() + 10000;
        while ((smx_client_undelivered(E.c) > 0 || it_pump(&E) > 0) && it_now_ms() < end) {
                it_pump(&E);
                it_sleep_ms(2);
        }
        it_pump(&E);
        CHECK_EQ(smx_client_undelivered(E.c), 0);
        CHECK_EQ(E.failed, N_BACKOFF);
        CHECK_EQ(it_bad_outcomes(&E, N_BACKOFF), 0);
        int shutdown = 0;
        for (int k = 0; k < N_BACKOFF; k++)
                shutdown += E.fail_reason[k] == SMX_FAIL_SHUTDOWN;
        CHECK_EQ(shutdown, N_BACKOFF);
        it_sim_ctl(&E, "queue-full all off");
        smx_client_destroy(E.c);
        E.c = NULL;
        E.cfg.window = window0;
}

static size_t throttled_binds(void)
{
        struct smx_bind_stats st[IT_MAX_SMSC];
        size_t n = smx_client_binds(E.c, st, IT_MAX_SMSC), t = 0;
        for (size_t i = 0; i < n && i < IT_MAX_SMSC; i++)
                t += st[i].health == SMX_HEALTH_THROTTLED;
        return t;
}

#define N_BEHIND 300

/* Every SMSC answers "queue full", so every bind is paused and most MTs
 * wait in the ingress; nobody polls, so outcomes outgrow the event rings.
 * A drain that times out still fails each of them at once (the drain's
 * bound does not wait for the application to poll), each exactly once. */
static void test_mts_behind_paused_binds_fail_once_at_drain_without_polling(void)
{
        uint32_t window0 = E.cfg.window;
        E.cfg.retry_backoff_ms = 20000;
        E.cfg.event_capacity = 128;
        E.cfg.window = 1;
        CHECK_EQ(it_client_start(&E), 0);
        CHECK_EQ(it_wait_active(&E, E.n, 10000), 1);
        uint64_t first = E.next_mt, failed0 = E.failed, submitted0 = E.submitted;
        it_sim_ctl(&E, "queue-full all on");
        CHECK_EQ(it_submit_n(&E, N_BEHIND, "behind a paused bind"), N_BEHIND);
        uint64_t end = it_now_ms() + 15000;
        while (throttled_binds() < E.n && it_now_ms() < end)
                it_sleep_ms(5);
        CHECK_EQ(throttled_binds(), E.n);
        CHECK_EQ(E.submitted - submitted0, 0);
        CHECK_EQ(smx_client_drain(E.c, 200), SMX_ETIMEDOUT);
        CHECK_EQ(smx_client_in_flight(E.c), 0);
        CHECK(smx_client_undelivered(E.c) > 0);
        end = it_now_ms() + 10000;
        while ((smx_client_undelivered(E.c) > 0 || it_pump(&E) > 0) && it_now_ms() < end) {
                it_pump(&E);
                it_sleep_ms(2);
        }
        it_pump(&E);
        CHECK_EQ(smx_client_undelivered(E.c), 0);
        CHECK_EQ(E.failed - failed0, N_BEHIND);
        int once = 0, shutdown = 0;
        for (uint64_t k = first; k < first + N_BEHIND && k < IT_MAX_MT; k++) {
                once += E.outcomes_seen[k] == 1;
                shutdown += E.fail_reason[k] == SMX_FAIL_SHUTDOWN;
        }
        CHECK_EQ(once, N_BEHIND);
        CHECK_EQ(shutdown, N_BEHIND);
        it_sim_ctl(&E, "queue-full all off");
        smx_client_destroy(E.c);
        E.c = NULL;
        E.cfg.window = window0;
}

#define N_UNK 400
#define N_PARTIAL 20

static void test_parked_drs_and_open_mos_beyond_the_rings_reach_the_app_after_drain(void)
{
        E.cfg.event_capacity = 128;     /* 2 workers x 128: fewer than the drain frees */
        E.cfg.retry_backoff_ms = 50;
        CHECK_EQ(it_client_start(&E), 0);
        CHECK_EQ(it_wait_active(&E, E.n, 10000), 1);
        /* a deliver_sm refused while a ring is full is re-sent soon */
        it_sim_ctl(&E, "set all deliver_timeout_ms 300");
        it_sim_ctl(&E, "set all deliver_max_sends 50");
        double a0 = acked();
        for (int k = 0; k < N_UNK; k++)
                it_sim_ctl(&E, "dr %s UNK%d EXPIRED", E.info[k % E.n].name, k);
        it_sim_ctl(&E, "mo %s %d 3 2", E.info[0].name, N_PARTIAL);
        uint64_t end = it_now_ms() + 30000;
        while (acked() - a0 < N_UNK + 2 * N_PARTIAL && it_now_ms() < end) {
                pump_inbound();
                it_sleep_ms(5);
        }
        CHECK_EQ(acked() - a0, N_UNK + 2 * N_PARTIAL);
        pump_inbound();
        CHECK_EQ(unk_drs + partial_mos, 0);     /* all parked / open */
        CHECK_EQ(smx_client_undelivered(E.c), N_UNK + N_PARTIAL);
        /* nobody polls during the drain: the rings fill, the rest waits */
        CHECK_EQ(smx_client_drain(E.c, 2000), 0);
        uint64_t left = smx_client_undelivered(E.c);
        printf("# undelivered right after the drain: %llu\n", (unsigned long long)left);
        CHECK(left > 0);
        end = it_now_ms() + 15000;
        while (smx_client_undelivered(E.c) > 0 && it_now_ms() < end) {
                pump_inbound();
                it_sleep_ms(2);
        }
        pump_inbound();
        CHECK_EQ(smx_client_undelivered(E.c), 0);
        CHECK_EQ(unk_drs, N_UNK);
        CHECK_EQ(unk_uncorrelated, N_UNK);
        CHECK_EQ(unk_dups, 0);
        CHECK_EQ(partial_mos, N_PARTIAL);
        CHECK_EQ(other_mos, 0);
        smx_client_destroy(E.c);
        E.c = NULL;
}

static char warn_line[512];

static void capture(enum smx_log_level level, const char *line, void *arg)
{
        (void)arg;
        if (level == SMX_LOG_WARN && strstr(line, "destroy:"))
                snprintf(warn_line, sizeof warn_line, "%s", line);
}

static void test_destroy_without_drain_logs_what_it_discards(void)
{
        E.cfg.event_capacity = 1024;
        CHECK_EQ(it_client_start(&E), 0);
        CHECK_EQ(it_wait_active(&E, E.n, 10000), 1);
        pump_inbound();
        double a0 = acked();
        it_sim_ctl(&E, "dr %s UNK900 DELIVERED", E.info[0].name);
        it_sim_ctl(&E, "dr %s UNK901 DELIVERED", E.info[1].name);
        uint64_t end = it_now_ms() + 10000;
        while (acked() - a0 < 2 && it_now_ms() < end)
                it_sleep_ms(5);
        CHECK_EQ(smx_client_undelivered(E.c), 2);
        smx_log_configure(SMX_LOG_WARN, capture, NULL);
        smx_client_destroy(E.c);
        E.c = NULL;
        smx_log_configure(SMX_LOG_ERROR, NULL, NULL);
        printf("# %s\n", warn_line);
        CHECK(strstr(warn_line, "2 acknowledged DRs/MO groups") != NULL);
}

int main(void)
{
        if (it_sim_start(&E, "dc3,bos", 2, 1.0) < 0) {
                printf("not ok 1 - setup\n1..1\n");
                return 1;
        }
        E.cfg.rebind_interval_ms = 1000;
        smx_log_configure(SMX_LOG_ERROR, NULL, NULL);
        RUN(test_mts_in_retry_backoff_fail_once_at_drain);
        RUN(test_mts_behind_paused_binds_fail_once_at_drain_without_polling);
        RUN(test_parked_drs_and_open_mos_beyond_the_rings_reach_the_app_after_drain);
        RUN(test_destroy_without_drain_logs_what_it_discards);
        it_stop(&E);
        return t_done();
}
