/* Per-SMSC content settings reach the wire: an SMSC that refuses
 * data_coding 2 (smsc-sim `dcs` knob) rejects a GSM MT sent with the
 * service table (GSM = 2), and accepts it when the SMSC's data_coding table
 * says "service,0=gsm" (GSM goes out as 0). The same table text loaded from
 * an INI file gives the same result. */
#include "config/config_file.h"
#include "itest.h"
#include "pdu/smpp_defs.h"

static int run_one(const char *data_coding, struct smx_event *out)
{
        struct it_env e;
        if (it_sim_start(&e, "dc3", 1, 1.0) < 0)
                return -1;
        it_sim_ctl(&e, "set smsc1.dc3 dcs 0,1,3,8");
        e.smsc[0].data_coding = data_coding;
        int rc = -1;
        if (it_client_start(&e) == 0 && it_wait_active(&e, 1, 10000)) {
                struct smx_mt mt = { .id = "gsm-1", .from = "12345", .to = "447700900001",
                                     .text = "plain GSM text", .encoding = SMX_ENC_GSM };
                rc = smx_submit(e.c, &mt);
                uint64_t end = it_now_ms() + 10000;
                struct smx_event ev[16];
                int found = 0;
                while (rc == 0 && !found && it_now_ms() < end) {
                        size_t n = smx_events_poll(e.c, ev, 16);
                        for (size_t i = 0; i < n; i++) {
                                if (ev[i].type == SMX_EV_SUBMITTED || ev[i].type == SMX_EV_FAILED) {
                                        out->type = ev[i].type;
                                        out->reason = ev[i].reason;
                                        out->status = ev[i].status;
                                        out->permanent = ev[i].permanent;
                                        found = 1;
                                }
                        }
                        it_sleep_ms(5);
                }
                rc = found ? 0 : -1;
        }
        it_stop(&e);
        return rc;
}

static void test_service_table_sends_gsm_as_2_and_is_refused(void)
{
        struct smx_event ev = { 0 };
        CHECK_EQ(run_one(NULL, &ev), 0);
        CHECK_EQ(ev.type, SMX_EV_FAILED);
        CHECK_EQ(ev.reason, SMX_FAIL_REJECTED);
        CHECK_EQ(ev.status, SMPP_ESME_RINVDCS);
}

static void test_overridden_table_sends_gsm_as_0_and_is_accepted(void)
{
        struct smx_event ev = { 0 };
        CHECK_EQ(run_one("service,0=gsm", &ev), 0);
        CHECK_EQ(ev.type, SMX_EV_SUBMITTED);
}

static void test_the_ini_key_carries_the_same_table(void)
{
        struct smx_config_file f;
        char err[256];
        smx_config_file_init(&f);
        CHECK_EQ(smx_config_file_load_string(&f, "[smsc smsc1.dc3]\nsite = dc3\nhost = h\n"
                                             "port = 1\ndata_coding = service,0=gsm\n",
                                             "c.ini", err, sizeof err), 0);
        CHECK_EQ(smx_config_file_finish(&f, err, sizeof err), 0);
        struct smx_event ev = { 0 };
        CHECK_EQ(run_one(f.cfg.smscs[0].data_coding, &ev), 0);
        CHECK_EQ(ev.type, SMX_EV_SUBMITTED);
        smx_config_file_free(&f);
}

int main(void)
{
        RUN(test_service_table_sends_gsm_as_2_and_is_refused);
        RUN(test_overridden_table_sends_gsm_as_0_and_is_accepted);
        RUN(test_the_ini_key_carries_the_same_table);
        return t_done();
}
