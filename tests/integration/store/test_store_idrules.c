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
#include "../core/itest.h"
#include "rtest.h"

#define N_INST 2
#define MAX_EV 4096

struct inst {
        char name[8];
        smx_client *c;
        struct smx_config cfg;
        uint64_t outcomes, next_k;
        uint64_t foreign_drs, uncorrelated;
        char dr_ids[MAX_EV][SMX_ID_MAX + 1];
        size_t n_drs;
};

static struct it_env E;
static struct rtest_redis R;
static struct inst I[N_INST];
static char cluster[32];

static void pump_all(void)
{
        struct smx_event ev[128];
        for (int i = 0; i < N_INST; i++) {
                struct inst *in = &I[i];
                size_t n;
                while ((n = smx_events_poll(in->c, ev, 128)) > 0) {
                        for (size_t j = 0; j < n; j++) {
                                const struct smx_event *x = &ev[j];
                                if (x->type == SMX_EV_SUBMITTED || x->type == SMX_EV_FAILED) {
                                        in->outcomes++;
                                } else if (x->type == SMX_EV_DR) {
                                        if (!x->id) {
                                                in->uncorrelated++;
                                                continue;
                                        }
                                        if (strncmp(x->id, in->name, strlen(in->name)) ||
                                            x->id[strlen(in->name)] != '-')
                                                in->foreign_drs++;
                                        if (in->n_drs < MAX_EV)
                                                snprintf(in->dr_ids[in->n_drs++],
                                                         SMX_ID_MAX + 1, "%s", x->id);
                                }
                        }
                }
        }
}

static size_t all_drs(void)
{
        size_t n = 0;
        for (int i = 0; i < N_INST; i++)
                n += I[i].n_drs + I[i].uncorrelated;
        return n;
}

static unsigned dr_count(const char *id)
{
        unsigned n = 0;
        for (int i = 0; i < N_INST; i++)
                for (size_t j = 0; j < I[i].n_drs; j++)
                        n += !strcmp(I[i].dr_ids[j], id);
        return n;
}

static void reset_events(void)
{
        for (int i = 0; i < N_INST; i++)
                I[i].n_drs = I[i].foreign_drs = I[i].uncorrelated = 0;
}

static int inst_start(struct inst *in, const char *name)
{
        snprintf(in->name, sizeof in->name, "%s", name);
        in->cfg = E.cfg;
        in->cfg.workers = 1;
        in->cfg.dr_park_timeout_ms = 2000;
        in->cfg.store.url = R.url;
        in->cfg.store.instance = in->name;
        in->cfg.store.cluster = cluster;
        char err[256] = "";
        int rc = smx_client_create(&in->cfg, &in->c, err, sizeof err);
        if (rc < 0) {
                printf("# smx_client_create %s: %s (%s)\n", name, smx_strerror(rc), err);
                return rc;
        }
        return smx_client_start(in->c);
}

static int all_active(void)
{
        uint64_t end = it_now_ms() + 15000;
        while (it_now_ms() < end) {
                pump_all();
                int ok = 1;
                for (int i = 0; i < N_INST; i++) {
                        struct smx_bind_stats st[IT_MAX_SMSC];
                        size_t n = smx_client_binds(I[i].c, st, IT_MAX_SMSC), a = 0;
                        for (size_t b = 0; b < n; b++)
                                a += st[b].health == SMX_HEALTH_ACTIVE;
                        ok &= a == E.n;
                }
                if (ok)
                        return 1;
                it_sleep_ms(10);
        }
        return 0;
}

/* n MTs from each instance, then every DR: once, at its owner, correlated. */
static void run_and_check(unsigned n)
{
        reset_events();
        uint64_t k0[N_INST], out0 = 0;
        for (int i = 0; i < N_INST; i++) {
                k0[i] = I[i].next_k;
                out0 += I[i].outcomes;
                for (unsigned j = 0; j < n; j++) {
                        char id[32];
                        snprintf(id, sizeof id, "%.7s-%llu", I[i].name,
                                 (unsigned long long)I[i].next_k++);
                        struct smx_mt mt = { .id = id, .from = "12345", .to = "447700900001",
                                             .text = "crossing rules", .want_dr = 1 };
                        int rc;
                        while ((rc = smx_submit(I[i].c, &mt)) == SMX_EAGAIN) {
                                pump_all();
                                it_sleep_ms(1);
                        }
                        CHECK_EQ(rc, 0);
                }
        }
        uint64_t end = it_now_ms() + 30000;
        while (it_now_ms() < end && all_drs() < (size_t)(N_INST * n)) {
                pump_all();
                it_sleep_ms(5);
        }
        uint64_t quiet = it_now_ms() + 3000;    /* past the park timeout: a late copy shows */
        while (it_now_ms() < quiet) {
                pump_all();
                it_sleep_ms(5);
        }
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
                        unsigned c = dr_count(id);
                        missing += c == 0;
                        twice += c > 1;
                }
        }
        CHECK_EQ(missing, 0);
        CHECK_EQ(twice, 0);
}

static void test_drs_crossing_to_an_smsc_with_other_rules_reach_the_owner(void)
{
        it_sim_ctl(&E, "set all dr_before_resp_prob 0");
        run_and_check(100);
}

static double parked_total(void)
{
        double s = 0;
        for (int i = 0; i < N_INST; i++) {
                char *txt = NULL;
                if (smx_stats_render(I[i].c, SMX_STATS_JSON, &txt, NULL) == 0 && txt)
                        s += it_json_num(txt, "\"store\"", "parked");
                free(txt);
        }
        return s;
}

static void test_early_drs_crossing_rules_are_found_at_the_park_timeout(void)
{
        it_sim_ctl(&E, "set all dr_before_resp_prob 1");
        double parked0 = parked_total();
        run_and_check(40);
        printf("# parked %.0f\n", parked_total() - parked0);
        CHECK(parked_total() - parked0 > 0);    /* the sweep's last look found them */
        it_sim_ctl(&E, "set all dr_before_resp_prob 0");
}

int main(void)
{
        if (system("command -v redis-server >/dev/null 2>&1") != 0) {
                printf("1..0 # SKIP redis-server not installed (tools/bootstrap.sh)\n");
                return 0;
        }
        if (rtest_redis_start(&R, 0) != 0 || it_sim_start(&E, "dc3,bos", 1, 1.0) != 0) {
                printf("Bail out! redis-server or smsc-sim did not start\n");
                rtest_redis_stop(&R);
                return 1;
        }
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
        static const char *names[N_INST] = { "a", "b" };
        for (int i = 0; i < N_INST; i++)
                if (inst_start(&I[i], names[i]) != 0) {
                        printf("Bail out! instance %s did not start\n", names[i]);
                        return 1;
                }
        if (!all_active()) {
                printf("Bail out! not every instance bound every SMSC\n");
                return 1;
        }
        RUN(test_drs_crossing_to_an_smsc_with_other_rules_reach_the_owner);
        RUN(test_early_drs_crossing_rules_are_found_at_the_park_timeout);
        for (int i = 0; i < N_INST; i++)
                smx_client_destroy(I[i].c);
        E.c = NULL;
        it_stop(&E);
        rtest_redis_stop(&R);
        return t_done();
}
