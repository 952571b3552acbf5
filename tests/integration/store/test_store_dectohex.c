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

/* Every DR event, correlated or not. */
static size_t all_drs(void)
{
        size_t n = 0;
        for (int i = 0; i < N_INST; i++)
                n += I[i].n_drs + I[i].uncorrelated;
        return n;
}

/* Instance `name` with the default park timeout (60 s). */
static int inst_start(struct rt_inst *in, const char *name, int i)
{
        (void)i;
        rt_inst_config(in, name);
        return rt_inst_launch(in);
}

/* n MTs from each instance, then every DR: once, at its owner, correlated. */
static void run_and_check(unsigned n)
{
        rt_reset_events();
        uint64_t k0[N_INST], out0 = 0;
        for (int i = 0; i < N_INST; i++) {
                k0[i] = I[i].next_k;
                out0 += I[i].outcomes;
                CHECK_EQ(rt_submit_n(&I[i], n, "hex receipt"), n);
        }
        uint64_t end = it_now_ms() + 30000;
        while (it_now_ms() < end && all_drs() < (size_t)(N_INST * n)) {
                rt_pump_all();
                it_sleep_ms(5);
        }
        rt_settle(0, 0, 0, 1000);       /* a duplicate would show */
        uint64_t outs = 0;
        for (int i = 0; i < N_INST; i++)
                outs += I[i].outcomes;
        CHECK_EQ(outs - out0, (uint64_t)N_INST * n);
        printf("# DRs: a %zu (uncorrelated %llu), b %zu (uncorrelated %llu)\n", I[0].n_drs,
               (unsigned long long)I[0].uncorrelated, I[1].n_drs,
               (unsigned long long)I[1].uncorrelated);
        unsigned missing = 0, twice = 0;
        for (int i = 0; i < N_INST; i++) {
                CHECK_EQ(I[i].uncorrelated, 0);
                CHECK_EQ(I[i].foreign_drs, 0);
                CHECK_EQ(I[i].n_drs, n);
                for (unsigned j = 0; j < n; j++) {
                        char id[32];
                        snprintf(id, sizeof id, "%.7s-%llu", I[i].name,
                                 (unsigned long long)(k0[i] + j));
                        unsigned c = rt_dr_count(id);
                        missing += c == 0;
                        twice += c > 1;
                }
        }
        CHECK_EQ(missing, 0);
        CHECK_EQ(twice, 0);
}

static void test_hex_text_receipts_of_decimal_resp_ids_reach_the_owner(void)
{
        it_sim_ctl(&E, "set all dr_before_resp_prob 0");
        run_and_check(100);
}

static void test_hex_receipts_before_the_resp_park_then_reach_the_owner(void)
{
        it_sim_ctl(&E, "set all dr_before_resp_prob 1");
        double parked0 = rt_store_sum("parked");
        run_and_check(40);
        printf("# parked %.0f\n", rt_store_sum("parked") - parked0);
        CHECK(rt_store_sum("parked") - parked0 >= 40);  /* most of the 80 waited */
        it_sim_ctl(&E, "set all dr_before_resp_prob 0");
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
