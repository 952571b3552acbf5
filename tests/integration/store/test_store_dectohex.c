/* msgid_norm dec_to_hex with the shared store: two instances sharing a real
 * redis-server (started here), smsc-sim's two SMSCs answering submit_sm_resp
 * with decimal ids (msgid_style dec) and writing the id in upper-case hex in
 * text-only receipts (dr_msgid_style HEX, dr_msgid_in text: no
 * receipted_message_id TLV), each DR sent on the other site's SMSC (a
 * session of either instance); both SMSCs configured dec_to_hex. Every DR
 * reaches its MT's owner once, correlated: after the resp (the DR script
 * finds the correlation the other instance wrote), and before it (parked in
 * Redis under the receipt's key, matched by the resp's correlation write:
 * the park timeout is the default 60 s, longer than the test waits, so no
 * sweep's last look can be what found them).
 * (Both SMSCs get the rule: with dec_to_hex on one and auto on the other, a
 * receipt id of hex digits without a letter crossing to the auto SMSC names
 * another MT's decimal id, docs/operating.md "Message ids".) */
#include "rtest_inst.h"

#define N_INST 2

/* Instance `name` with the default park timeout (60 s). */
static int inst_start(struct rt_inst *in, const char *name, int i)
{
        (void)i;
        rt_inst_config(in, name);
        return rt_inst_launch(in);
}

/* The MTs' text; how long to go on pumping once the DRs came
 * (a duplicate would show). */
#define T_TEXT "hex receipt"
#define T_QUIET_MS 1000

static void test_hex_text_receipts_of_decimal_resp_ids_reach_the_owner(void)
{
        it_sim_ctl(&E, "set all dr_before_resp_prob 0");
        rt_check_drs_reach_owner(100, T_TEXT, T_QUIET_MS);
}

static void test_hex_receipts_before_the_resp_park_then_reach_the_owner(void)
{
        CHECK(rt_check_early_drs_reach_owner(40, T_TEXT, T_QUIET_MS) >= 40); /* most of the 80 waited */
}

int main(void)
{
        int rc = rt_start(1);
        if (rc != RTEST_GO)
                return rc;
        for (size_t i = 0; i < E.n; i++) {
                E.smsc[i].msgid_norm = SMX_MSGID_NORM_DEC_TO_HEX;
        }
        it_sim_ctl(&E, "set all msgid_style dec");
        it_sim_ctl(&E, "set all dr_msgid_style HEX");
        it_sim_ctl(&E, "set all dr_msgid_in text");
        it_sim_ctl(&E, "set all other_site_prob 1");
        it_sim_ctl(&E, "set all dr_accepted_prob 0");
        it_sim_ctl(&E, "set all dr_delay_ms 20-100");
        it_sim_ctl(&E, "set all dr_final_mix DELIVERED:100");
        snprintf(cluster, sizeof cluster, "x%d", (int)getpid());
        rt_n = N_INST;
        if ((rc = rt_start_instances(inst_start)) != RTEST_GO || (rc = rt_await_bound()) != RTEST_GO)
                return rc;
        RUN(test_hex_text_receipts_of_decimal_resp_ids_reach_the_owner);
        RUN(test_hex_receipts_before_the_resp_park_then_reach_the_owner);
        return rt_finish();
}
