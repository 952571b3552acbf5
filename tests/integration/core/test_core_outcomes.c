/* Outcome rules against smsc-sim: a permanent status fails the MT at once
 * (one attempt, permanent, the status reported); a transient one (queue
 * full) is retried until it clears; a pushback (throttled, queue full) is not
 * charged as an attempt while the MT is younger than no_route_timeout_ms,
 * after which max_attempts transient failures end in "attempts_exhausted"
 * (not permanent); an SMSC that accepts TCP and closes
 * it at once is retried only at the rebind spacing (R2); the accepted count
 * counts each MT once however often it went back on ingress. */
#include "itest.h"

static struct it_env E;

/* Submit one MT and wait for its outcome; returns the event type. */
static int one_outcome(const char *text, enum smx_encoding enc, struct smx_event *out)
{
        char id[32];
        snprintf(id, sizeof id, "one-%llu", (unsigned long long)E.next_mt++);
        struct smx_mt mt = { .id = id, .from = "12345", .to = "447700900001", .text = text,
                             .want_dr = 0, .encoding = enc };
        if (smx_submit(E.c, &mt) != 0)
                return -1;
        uint64_t end = it_now_ms() + 45000;     /* endless pushback: bound + paused retries */
        while (it_now_ms() < end) {
                struct smx_event ev[32];
                size_t n = smx_events_poll(E.c, ev, 32);
                for (size_t i = 0; i < n; i++) {
                        if ((ev[i].type == SMX_EV_SUBMITTED || ev[i].type == SMX_EV_FAILED) &&
                            ev[i].id && !strcmp(ev[i].id, id)) {
                                *out = ev[i];
                                return ev[i].type;
                        }
                }
                it_sleep_ms(2);
        }
        return 0;
}

static void test_permanent_status_fails_at_once(void)
{
        CHECK_EQ(it_wait_active(&E, E.n, 10000), 1);
        it_sim_ctl(&E, "set all dcs 0,1,2,3");
        struct smx_event ev;
        CHECK_EQ(one_outcome("\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", SMX_ENC_UCS2, &ev),
                 SMX_EV_FAILED);
        CHECK_EQ(ev.reason, SMX_FAIL_REJECTED);
        CHECK_EQ(ev.permanent, 1);
        CHECK_EQ(ev.attempts, 1);
        CHECK_EQ(ev.status, 0x104);
        it_sim_ctl(&E, "set all dcs 0,1,2,3,8");
        CHECK_EQ(one_outcome("\xd0\x9f\xd1\x80\xd0\xb8", SMX_ENC_UCS2, &ev), SMX_EV_SUBMITTED);
        CHECK(ev.message_id != NULL);
}

static void test_transient_status_is_retried_until_it_clears(void)
{
        it_sim_ctl(&E, "queue-full all on");
        char id[32];
        snprintf(id, sizeof id, "one-%llu", (unsigned long long)E.next_mt++);
        struct smx_mt mt = { .id = id, .from = "12345", .to = "447700900001", .text = "retry me" };
        CHECK_EQ(smx_submit(E.c, &mt), 0);
        it_sleep_ms(290);   /* two attempts refused, the third (400 ms) goes through */
        it_sim_ctl(&E, "queue-full all off");
        int got = 0;
        uint64_t end = it_now_ms() + 10000;
        while (!got && it_now_ms() < end) {
                struct smx_event ev[32];
                size_t n = smx_events_poll(E.c, ev, 32);
                for (size_t i = 0; i < n; i++) {
                        if (ev[i].id && !strcmp(ev[i].id, id)) {
                                got = 1;
                                CHECK_EQ(ev[i].type, SMX_EV_SUBMITTED);
                                CHECK(ev[i].attempts >= 2);
                        }
                }
                it_sleep_ms(2);
        }
        CHECK_EQ(got, 1);
}

/* Every bind answers ESME_RTHROTTLED for 3 s: each pushback pauses the bind,
 * and the MT waits retry_backoff_ms for a bind with room. Those waits are not
 * charged as attempts (the MT is younger than no_route_timeout_ms), so the MT
 * is sent more than max_attempts (4) times and submitted once the SMSCs take
 * traffic again; when they were charged (before), it ended
 * attempts_exhausted within the first second or so. */
static void test_throttled_everywhere_mt_waits_instead_of_failing(void)
{
        CHECK_EQ(it_wait_active(&E, E.n, 10000), 1);
        it_sim_ctl(&E, "throttle all on");
        char id[32];
        snprintf(id, sizeof id, "one-%llu", (unsigned long long)E.next_mt++);
        struct smx_mt mt = { .id = id, .from = "12345", .to = "447700900001", .text = "wait" };
        CHECK_EQ(smx_submit(E.c, &mt), 0);
        uint64_t lift = it_now_ms() + 3000, end = lift + 30000;
        int lifted = 0, got = 0;
        while (!got && it_now_ms() < end) {
                if (!lifted && it_now_ms() >= lift) {
                        it_sim_ctl(&E, "throttle all off");
                        lifted = 1;
                }
                struct smx_event ev[32];
                size_t n = smx_events_poll(E.c, ev, 32);
                for (size_t i = 0; i < n; i++) {
                        if (!ev[i].id || strcmp(ev[i].id, id))
                                continue;
                        got = 1;
                        CHECK_EQ(ev[i].type, SMX_EV_SUBMITTED);
                        CHECK(ev[i].attempts > E.cfg.max_attempts);
                        CHECK(lifted);
                }
                it_sleep_ms(2);
        }
        if (!lifted)
                it_sim_ctl(&E, "throttle all off");
        CHECK_EQ(got, 1);
}

/* Endless pushback still ends: queue full everywhere, the MT is not charged
 * for pushbacks until it is no_route_timeout_ms (here 1 s) old, then
 * max_attempts more end it, transient, with the status and every submit_sm counted. */
static void test_attempts_run_out_on_endless_transient_failures(void)
{
        CHECK_EQ(smx_knob_set(E.c, "no_route_timeout_ms", "1000", NULL, 0), 0);
        it_sleep_ms(50);                        /* workers take the knob within ~10 ms */
        it_sim_ctl(&E, "queue-full all on");
        struct smx_event ev;
        uint64_t t0 = it_now_ms();
        CHECK_EQ(one_outcome("never", SMX_ENC_AUTO, &ev), SMX_EV_FAILED);
        uint64_t took = it_now_ms() - t0;
        CHECK_EQ(ev.reason, SMX_FAIL_ATTEMPTS);
        CHECK_EQ(ev.permanent, 0);
        CHECK(ev.attempts > E.cfg.max_attempts);        /* the free pushbacks, then 4 */
        CHECK(took >= 1000);
        CHECK_EQ(ev.status, 0x14);   /* ESME_RMSGQFUL */
        it_sim_ctl(&E, "queue-full all off");
        CHECK_EQ(smx_knob_set(E.c, "no_route_timeout_ms", "60000", NULL, 0), 0);
}

/* One SMSC answers "queue full" to everything while the other accepts: the
 * refusing bind is paused like a throttled one, so the MTs it refused go to
 * the other bind instead of spending their attempts where they are refused
 * fastest; none ends in attempts_exhausted. */
#define N_QFULL 600
static void test_queue_full_smsc_among_healthy_ones_fails_no_mt(void)
{
        uint64_t first = E.next_mt, failed0 = E.failed;
        it_sim_ctl(&E, "queue-full smsc1.dc3 on");
        CHECK_EQ(it_submit_n(&E, N_QFULL, "queue full there"), N_QFULL);
        uint64_t end = it_now_ms() + 30000;
        uint64_t have = 0;
        while (it_now_ms() < end) {
                it_pump(&E);
                have = 0;
                for (uint64_t k = first; k < first + N_QFULL && k < IT_MAX_MT; k++)
                        have += E.outcomes_seen[k] > 0;
                if (have == N_QFULL)
                        break;
                it_sleep_ms(5);
        }
        it_sim_ctl(&E, "queue-full smsc1.dc3 off");
        CHECK_EQ(have, N_QFULL);
        int once = 0;
        for (uint64_t k = first; k < first + N_QFULL && k < IT_MAX_MT; k++)
                once += E.outcomes_seen[k] == 1;
        CHECK_EQ(once, N_QFULL);
        CHECK_EQ(E.failed - failed0, 0);
        CHECK(it_json_num(it_summary(&E), "\"name\":\"smsc1.dc3\"", "submit_sm_rejected") > 0);
}

static void test_accept_then_close_smsc_keeps_rebind_spacing(void)
{
        it_sim_ctl(&E, "set smsc1.dc3 kill_mode accept-close");
        it_sim_ctl(&E, "kill smsc1.dc3");
        uint64_t downs = it_downs_during(&E, "smsc1.dc3", 3500);
        CHECK(downs >= 2);
        CHECK(downs <= 5);
        const char *j = it_summary(&E);
        CHECK(it_json_num(j, "\"name\":\"smsc1.dc3\"", "min_attempt_spacing_s") > 1.0);
        CHECK_EQ(it_json_num(j, NULL, "violation_count"), 0);
        if (it_json_num(j, NULL, "violation_count") != 0)
                it_print_violations(&E);
        it_sim_ctl(&E, "restore smsc1.dc3");
        CHECK_EQ(it_wait_active(&E, E.n, 5000), 1);
}

/* One counter of the Prometheus rendering (the first line naming it). */
static unsigned long long prom_value(const char *name)
{
        char *out = NULL;
        size_t len = 0;
        unsigned long long v = ~0ull;
        if (smx_stats_render(E.c, SMX_STATS_PROMETHEUS, &out, &len) != 0)
                return v;
        char key[96];
        snprintf(key, sizeof key, "\n%s ", name);
        const char *p = strstr(out, key);
        if (p)
                v = strtoull(p + strlen(key), NULL, 10);
        free(out);
        return v;
}

/* After the tests above (MTs retried after transient failures and
 * pushbacks: each went back on ingress, some many times), the accepted
 * count is exactly the MTs smx_submit accepted, once each: it is derived
 * from the ingress ring's pushes less the workers' re-pushes
 * (client_accepted), and in flight is 0 once every outcome is out. */
static void test_accepted_counts_each_mt_once_however_often_it_was_resent(void)
{
        CHECK(E.next_mt >= 4);
        CHECK_EQ(smx_client_in_flight(E.c), 0);
        CHECK_EQ(prom_value("smsmux_mts_accepted_total"), E.next_mt);
        CHECK_EQ(prom_value("smsmux_mts_decided_total"), E.next_mt);
        CHECK_EQ(prom_value("smsmux_mts_in_flight"), 0);
}

int main(void)
{
        if (it_sim_start(&E, "dc3", 2, 1.0) < 0) {
                printf("not ok 1 - setup\n1..1\n");
                return 1;
        }
        E.cfg.rebind_interval_ms = 1000;
        E.cfg.max_attempts = 4;
        E.cfg.retry_backoff_ms = 200;   /* attempts at 0, 200, 400, 600 ms */
        if (it_client_start(&E) < 0) {
                printf("not ok 1 - setup\n1..1\n");
                return 1;
        }
        smx_log_configure(SMX_LOG_ERROR, NULL, NULL);
        RUN(test_permanent_status_fails_at_once);
        RUN(test_throttled_everywhere_mt_waits_instead_of_failing);
        RUN(test_transient_status_is_retried_until_it_clears);
        RUN(test_attempts_run_out_on_endless_transient_failures);
        RUN(test_queue_full_smsc_among_healthy_ones_fails_no_mt);
        RUN(test_accept_then_close_smsc_keeps_rebind_spacing);
        RUN(test_accepted_counts_each_mt_once_however_often_it_was_resent);
        smx_client_drain(E.c, 3000);
        it_stop(&E);
        return t_done();
}
