/* Issue 12 (shutdown audit): a DR pushed to the client's H4 receiver for an
 * id no MT has waits in the park like an SMPP one; smx_client_drain
 * delivers it uncorrelated. One pushed after the drain is not acknowledged
 * (503: the receiver takes nothing new once drained, like the unbound SMPP
 * binds; the service re-sends it elsewhere) and never reaches the
 * application, so nothing acknowledged can be lost at destroy. */
#include "http_tlib.h"
#include "smsmux.h"
#include "testlib.h"

static smx_client *c;

/* Poll until a DR for message_id `id` came (1) or the timeout (0). */
static int wait_dr(const char *id, int *correlated, unsigned timeout_ms)
{
        uint64_t end = t_now_ms() + timeout_ms;
        while (t_now_ms() < end) {
                struct smx_event ev[32];
                size_t n = smx_events_poll(c, ev, 32);
                for (size_t i = 0; i < n; i++)
                        if (ev[i].type == SMX_EV_DR && ev[i].message_id &&
                            !strcmp(ev[i].message_id, id)) {
                                *correlated = ev[i].id != NULL;
                                return 1;
                        }
                if (!n)
                        t_sleep_ms(5);
        }
        return 0;
}

static void test_http_dr_parked_at_drain_delivered_none_taken_after(void)
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
        CHECK_EQ(smx_client_create(&cfg, &c, err, sizeof err), 0);
        if (!c)
                return;
        CHECK_EQ(smx_client_start(c), 0);
        struct smx_http_stats st;
        smx_client_http_stats(c, &st);
        char url[96];
        snprintf(url, sizeof url, "http://127.0.0.1:%u/httpapi/receiver", st.receiver_port);
        CHECK_EQ(t_post(url, NULL, "type=receipt&message_id=UNKH1&message_state=DELIVERED", NULL),
                 200);
        int corr = -1;
        CHECK_EQ(wait_dr("UNKH1", &corr, 300), 0);      /* parked, no resp will come */
        CHECK_EQ(smx_client_undelivered(c), 1);
        smx_client_drain(c, 100);
        CHECK_EQ(wait_dr("UNKH1", &corr, 5000), 1);
        CHECK_EQ(corr, 0);
        CHECK_EQ(t_post(url, NULL, "type=receipt&message_id=UNKH2&message_state=UNDELIVERABLE",
                        NULL), 503);
        CHECK_EQ(wait_dr("UNKH2", &corr, 300), 0);
        CHECK_EQ(smx_client_undelivered(c), 0);
        smx_client_destroy(c);
        c = NULL;
}

int main(void)
{
        smx_log_configure(SMX_LOG_ERROR, NULL, NULL);
        RUN(test_http_dr_parked_at_drain_delivered_none_taken_after);
        return t_done();
}
