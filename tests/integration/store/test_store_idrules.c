/* Two SMSCs with different explicit msgid_norm, two instances sharing a
 * real redis-server (started here), smsc-sim sending every DR on the other
 * site's SMSC (a session of any instance). dc3 writes its ids upper-case hex
 * with leading zeros ("00000003E9") and is configured `exact`; bos writes
 * them upper-case hex without zeros ("3E9") and keeps the default (`auto`:
 * case folded, zeros stripped). So every DR, normalised by the rules of the
 * SMSC it arrives on, misses the key its MT's correlation was written
 * under: it is found only under the other SMSC's rules.
 *   - DRs after their submit_sm_resp: the DR script tries the other rules
 *     at once: every DR reaches its owner once, correlated;
 *   - DRs before their submit_sm_resp (parked under the receiving rules'
 *     key): the park sweep's last look tries the other rules, so they too
 *     reach their owner once, correlated (after dr_park_timeout_ms). */
#include "rtest_inst.h"

#define N_INST 2

/* Instance `name`: an early DR parks 2 s. */
static int inst_start(struct rt_inst *in, const char *name, int i)
{
        (void)i;
        rt_inst_config(in, name)->dr_park_timeout_ms = 2000;
        return rt_inst_launch(in);
}

/* The MTs' text; how long to go on pumping once the DRs came
 * (past the park timeout: a late copy shows). */
#define T_TEXT "crossing rules"
#define T_QUIET_MS 3000

static void test_drs_crossing_to_an_smsc_with_other_rules_reach_the_owner(void)
{
        it_sim_ctl(&E, "set all dr_before_resp_prob 0");
        rt_check_drs_reach_owner(100, T_TEXT, T_QUIET_MS);
}

static void test_early_drs_crossing_rules_are_found_at_the_park_timeout(void)
{
        /* the sweep's last look found them */
        CHECK(rt_check_early_drs_reach_owner(40, T_TEXT, T_QUIET_MS) > 0);
}

int main(void)
{
        int rc = rt_start(1);
        if (rc != RTEST_GO)
                return rc;
        for (size_t i = 0; i < E.n; i++) {
                int dc3 = !strcmp(E.info[i].site, "dc3");
                E.smsc[i].msgid_norm = dc3 ? SMX_MSGID_NORM_EXACT : SMX_MSGID_NORM_AUTO;
                it_sim_ctl(&E, "set %s msgid_style %s", E.info[i].name, dc3 ? "HEX0" : "HEX");
        }
        it_sim_ctl(&E, "set all other_site_prob 1");
        it_sim_ctl(&E, "set all dr_accepted_prob 0");
        it_sim_ctl(&E, "set all dr_delay_ms 20-100");
        it_sim_ctl(&E, "set all dr_final_mix DELIVERED:100");
        it_sim_ctl(&E, "set all dr_msgid_in tlv");
        snprintf(cluster, sizeof cluster, "r%d", (int)getpid());
        rt_n = N_INST;
        if ((rc = rt_start_instances(inst_start)) != RTEST_GO || (rc = rt_await_bound()) != RTEST_GO)
                return rc;
        RUN(test_drs_crossing_to_an_smsc_with_other_rules_reach_the_owner);
        RUN(test_early_drs_crossing_rules_are_found_at_the_park_timeout);
        return rt_finish();
}
