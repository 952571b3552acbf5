/* DRs and MOs pushed to the client's H4 receiver while the application
 * shuts down as include/smsmux.h says (smx_client_drain, poll until nothing
 * is left, smx_client_destroy). Each round, pusher threads keep POSTing
 * DRs (for ids no MT has) and MOs, each with an id of its own, on kept-alive
 * connections, as fast as the receiver answers, through the drain, the
 * final polling and the destroy, and record each answer and the phase it
 * was sent in. Asserted:
 *   - every push answered 200 reaches the application exactly once (a 200
 *     is the library's promise: the service will not send it again);
 *   - every push sent after smx_client_drain returned and before destroy
 *     got 503 (the receiver takes nothing new once drained, as unbound
 *     SMPP binds do: the service re-sends it elsewhere or later), not a
 *     hang and not a connection closed without an answer;
 *   - the polling after drain ends (undelivered and in_flight reach 0).
 * Before the fix the receiver answered 200 until destroy, and what came
 * between the application's last poll and destroy was lost unlogged. */
#include <pthread.h>
#include <stdatomic.h>

#include "http_tlib.h"
#include "smsmux.h"
#include "testlib.h"

enum {
        ROUNDS = 5,
        PUSHERS = 2,
        PUSH_MAX = 200000,      /* per pusher and round */
        PRE_DRAIN_MS = 150,     /* pushing before the drain starts, at least */
        PRE_DRAIN_PUSHES = 200, /* ...and at least this many answered */
        AFTER_PUSHES = 20,      /* per pusher, answered between drain and destroy */
        AFTER_MS = 30,          /* ...and at least this long */
};

enum { PH_RUNNING = 0, PH_DRAINED, PH_DESTROYING };

static _Atomic int phase;
static atomic_int stop_pushers;
static uint16_t rx_port;

struct pusher {
        int idx;
        _Atomic int n;           /* pushes made (answered, or given up on) */
        _Atomic int n_after;     /* of them sent between drain and destroy */
        short *status;           /* per push: HTTP status, 0 closed, -1 no answer */
        unsigned char *ph;       /* per push: phase when it was sent */
        unsigned char *seen;     /* per push: times delivered to the app */
        pthread_t th;
};

static struct pusher pushers[PUSHERS];

static void *pusher_main(void *arg)
{
        struct pusher *p = arg;
        int fd = -1;
        char body[256], buf[4096];
        while (!atomic_load(&stop_pushers) && p->n < PUSH_MAX) {
                if (fd < 0) {
                        fd = t_connect(NULL, NULL, rx_port);
                        if (fd < 0) {
                                /* the receiver is gone (destroy): nothing more to push */
                                if (atomic_load(&phase) == PH_DESTROYING)
                                        break;
                                t_sleep_ms(1);
                                continue;
                        }
                }
                int i = p->n;
                if (i % 2)
                        snprintf(body, sizeof body, "type=receipt&message_id=D%d-%d&message_state=2",
                                 p->idx, i);
                else
                        snprintf(body, sizeof body, "type=MO&message_id=M%d-%d&shortcode=1234"
                                 "&phone_number=447700900001&message=M%d-%d", p->idx, i, p->idx, i);
                p->ph[i] = (unsigned char)atomic_load(&phase);
                int st = t_send_form(fd, body) == 0 ? t_read_answer(fd, buf, sizeof buf, 10000) : 0;
                p->status[i] = (short)st;
                if (p->ph[i] == PH_DRAINED)
                        atomic_fetch_add(&p->n_after, 1);
                atomic_fetch_add(&p->n, 1);
                if (st != 200 && st != 503) {
                        close(fd);
                        fd = -1;
                }
        }
        if (fd >= 0)
                close(fd);
        return NULL;
}

/* The pusher and push an event stands for, from "D<p>-<i>" / "M<p>-<i>". */
static void count(const char *id)
{
        int pi, i;
        if (!id || (id[0] != 'D' && id[0] != 'M') || sscanf(id + 1, "%d-%d", &pi, &i) != 2 ||
            pi < 0 || pi >= PUSHERS || i < 0 || i >= PUSH_MAX || (i % 2 == 1) != (id[0] == 'D')) {
                CHECK(0 && "an event for no push");
                return;
        }
        if (pushers[pi].seen[i] < 255)
                pushers[pi].seen[i]++;
}

static size_t poll_some(smx_client *c)
{
        struct smx_event ev[256];
        size_t n = smx_events_poll(c, ev, 256);
        for (size_t k = 0; k < n; k++) {
                if (ev[k].type == SMX_EV_DR) {
                        count(ev[k].message_id);
                } else if (ev[k].type == SMX_EV_MO) {
                        char id[64];
                        size_t l = ev[k].text_len < sizeof id - 1 ? ev[k].text_len : sizeof id - 1;
                        memcpy(id, ev[k].text, l);
                        id[l] = 0;
                        count(id);
                }
        }
        return n;
}

static void one_round(int round)
{
        struct smx_http_config hc;
        struct smx_config cfg;
        smx_http_config_init(&hc);
        hc.transport = SMX_TRANSPORT_HTTP;
        hc.urls[0] = "http://127.0.0.1:9/httpapi/receiver";   /* no MT is sent */
        hc.n_urls = 1;
        hc.receiver = "127.0.0.1:0";
        smx_config_init(&cfg);
        cfg.http = &hc;
        cfg.workers = 1;
        cfg.pin_workers = 0;
        char err[256] = "";
        smx_client *c = NULL;
        CHECK_EQ(smx_client_create(&cfg, &c, err, sizeof err), 0);
        if (!c)
                return;
        CHECK_EQ(smx_client_start(c), 0);
        struct smx_http_stats hs;
        smx_client_http_stats(c, &hs);
        rx_port = (uint16_t)hs.receiver_port;
        atomic_store(&phase, PH_RUNNING);
        atomic_store(&stop_pushers, 0);
        for (int k = 0; k < PUSHERS; k++) {
                struct pusher *p = &pushers[k];
                p->idx = k;
                atomic_store(&p->n, 0);
                atomic_store(&p->n_after, 0);
                memset(p->seen, 0, PUSH_MAX);
                pthread_create(&p->th, NULL, pusher_main, p);
        }
        /* a loaded machine may start the pushers late: wait for their pushes */
        uint64_t t0 = t_now_ms();
        for (;;) {
                int pushed = 0;
                for (int k = 0; k < PUSHERS; k++)
                        pushed += atomic_load(&pushers[k].n);
                if ((t_now_ms() - t0 >= PRE_DRAIN_MS && pushed >= PRE_DRAIN_PUSHES) ||
                    t_now_ms() - t0 > 20000)
                        break;
                if (!poll_some(c))
                        t_sleep_ms(1);
        }
        smx_client_drain(c, 1000);
        atomic_store(&phase, PH_DRAINED);
        /* the header's rule: poll until nothing comes and nothing is held */
        uint64_t end = t_now_ms() + 30000;
        for (;;) {
                size_t n = poll_some(c);
                if (!n && smx_client_in_flight(c) == 0 && smx_client_undelivered(c) == 0)
                        break;
                if (t_now_ms() > end)
                        break;
                if (!n)
                        t_sleep_ms(1);
        }
        CHECK_EQ(smx_client_undelivered(c), 0);
        CHECK_EQ(smx_client_in_flight(c), 0);
        /* the application winds down (no more polls); the pushers go on
         * a while, until each had some pushes answered in this window */
        t_sleep_ms(AFTER_MS);
        end = t_now_ms() + 20000;
        for (int k = 0; k < PUSHERS; k++)
                while (atomic_load(&pushers[k].n_after) < AFTER_PUSHES && t_now_ms() < end)
                        t_sleep_ms(1);
        atomic_store(&phase, PH_DESTROYING);
        smx_client_destroy(c);
        atomic_store(&stop_pushers, 1);
        for (int k = 0; k < PUSHERS; k++)
                pthread_join(pushers[k].th, NULL);
        int acked = 0, lost = 0, dup = 0, after = 0, after_not_503 = 0, before = 0;
        for (int k = 0; k < PUSHERS; k++) {
                struct pusher *p = &pushers[k];
                for (int i = 0; i < p->n; i++) {
                        if (p->status[i] == 200) {
                                acked++;
                                if (p->seen[i] == 0)
                                        lost++;
                        }
                        if (p->seen[i] > 1)
                                dup++;
                        if (p->seen[i] && p->status[i] != 200)
                                dup++;   /* delivered though the service will re-send it */
                        if (p->ph[i] == PH_RUNNING)
                                before++;
                        if (p->ph[i] == PH_DRAINED) {
                                after++;
                                if (p->status[i] != 503)
                                        after_not_503++;
                        }
                }
        }
        printf("# round %d: %d pushes before drain, %d acknowledged, %d between drain and "
               "destroy (%d not answered 503), %d acknowledged but lost, %d extra\n",
               round, before, acked, after, after_not_503, lost, dup);
        CHECK(acked > 0);
        CHECK(after > 0);          /* the window was exercised */
        CHECK_EQ(lost, 0);
        CHECK_EQ(dup, 0);
        CHECK_EQ(after_not_503, 0);
}

static void test_http_pushes_through_shutdown_acknowledged_iff_delivered(void)
{
        for (int k = 0; k < PUSHERS; k++) {
                pushers[k].status = calloc(PUSH_MAX, sizeof *pushers[k].status);
                pushers[k].ph = calloc(PUSH_MAX, 1);
                pushers[k].seen = calloc(PUSH_MAX, 1);
        }
        for (int r = 0; r < ROUNDS; r++)
                one_round(r);
        for (int k = 0; k < PUSHERS; k++) {
                free(pushers[k].status);
                free(pushers[k].ph);
                free(pushers[k].seen);
        }
}

int main(void)
{
        smx_log_configure(SMX_LOG_ERROR, NULL, NULL);
        RUN(test_http_pushes_through_shutdown_acknowledged_iff_delivered);
        return t_done();
}
