/* Knob snapshots (src/knobs/knobs.c): set by name makes a new snapshot and
 * leaves the old one alone, values are range-checked, per-SMSC and per-site
 * names resolve, a removed SMSC stays removed, list shows everything. */
#include "knobs/knobs.h"
#include "testlib.h"

static const char *const names[] = { "smsc1.dc3", "smsc2.dc3", "smsc1.bos", "spare" };
static const char *const sites[] = { "dc3", "dc3", "bos", "" };

static struct smx_knobs *make(void)
{
        struct smx_config cfg;
        smx_config_init(&cfg);
        cfg.log_level = SMX_LOG_WARN;
        static struct smx_smsc_config s[3];
        memset(s, 0, sizeof s);
        s[0].tps = 100;
        s[1].window = 20;
        s[2].site_weight = 3;
        return knobs_from_config(&cfg, s, 3, 4, names, sites, 10);
}

static void get(const struct smx_knobs *k, const char *name, char *v, size_t n)
{
        if (knobs_get(k, name, v, n) < 0)
                printf("# knobs_get %s: %s\n", name, v);
}

static void test_knobs_start_from_the_configuration(void)
{
        struct smx_knobs *k = make();
        char v[64];
        get(k, "rebind_interval_ms", v, sizeof v);
        CHECK_STR(v, "30000");
        get(k, "smsc.smsc1.dc3.tps", v, sizeof v);
        CHECK_STR(v, "100");
        get(k, "smsc.smsc2.dc3.window", v, sizeof v);
        CHECK_STR(v, "20");
        get(k, "smsc.smsc1.dc3.window", v, sizeof v);
        CHECK_STR(v, "10");
        get(k, "smsc.smsc1.bos.weight", v, sizeof v);
        CHECK_STR(v, "3");
        get(k, "route_policy", v, sizeof v);
        CHECK_STR(v, "round_robin");
        get(k, "log_level", v, sizeof v);
        CHECK_STR(v, "warn");
        CHECK_EQ(k->gen, 1);
        free(k);
}

static void test_set_returns_a_new_snapshot_and_keeps_the_old(void)
{
        struct smx_knobs *k = make(), *n = NULL;
        char err[128];
        CHECK_EQ(knobs_with(k, "retry_backoff_ms", "750", &n, err, sizeof err), 0);
        CHECK(n != NULL && n != k);
        CHECK_EQ(k->retry_backoff_ms, 200);
        CHECK_EQ(n->retry_backoff_ms, 750);
        free(k);
        free(n);
}

static void test_set_rejects_values_out_of_range(void)
{
        struct smx_knobs *k = make(), *n = (struct smx_knobs *)1;
        char err[160];
        CHECK_EQ(knobs_with(k, "max_attempts", "0", &n, err, sizeof err), SMX_EINVAL);
        CHECK(n == NULL);
        CHECK(strstr(err, "max_attempts") != NULL);
        CHECK_EQ(knobs_with(k, "retry_backoff_ms", "12x", &n, err, sizeof err), SMX_EINVAL);
        CHECK_EQ(knobs_with(k, "retry_backoff_ms", "-1", &n, err, sizeof err), SMX_EINVAL);
        CHECK_EQ(knobs_with(k, "retry_backoff_ms", "", &n, err, sizeof err), SMX_EINVAL);
        CHECK_EQ(knobs_with(k, "route_policy", "random", &n, err, sizeof err), SMX_EINVAL);
        CHECK(strstr(err, "round_robin") != NULL);
        CHECK_EQ(knobs_with(k, "log_level", "loud", &n, err, sizeof err), SMX_EINVAL);
        free(k);
}

static void test_window_may_not_exceed_the_created_window(void)
{
        struct smx_knobs *k = make(), *n = NULL;
        char err[160];
        CHECK_EQ(knobs_with(k, "smsc.smsc1.dc3.window", "11", &n, err, sizeof err), SMX_EINVAL);
        CHECK(strstr(err, "1..10") != NULL);
        CHECK_EQ(knobs_with(k, "smsc.smsc1.dc3.window", "0", &n, err, sizeof err), SMX_EINVAL);
        CHECK_EQ(knobs_with(k, "smsc.smsc1.dc3.window", "3", &n, err, sizeof err), 0);
        CHECK_EQ(n->bind[0].window, 3);
        CHECK_EQ(n->bind[0].window_max, 10);
        free(n);
        free(k);
}

static void test_unknown_knob_smsc_and_site_are_named(void)
{
        struct smx_knobs *k = make(), *n = NULL;
        char err[160];
        CHECK_EQ(knobs_with(k, "no_such_knob", "1", &n, err, sizeof err), SMX_EINVAL);
        CHECK(strstr(err, "no_such_knob") != NULL);
        CHECK_EQ(knobs_with(k, "smsc.nope.tps", "1", &n, err, sizeof err), SMX_EINVAL);
        CHECK(strstr(err, "nope") != NULL);
        CHECK_EQ(knobs_with(k, "site.nyc.admin", "draining", &n, err, sizeof err), SMX_EINVAL);
        CHECK(strstr(err, "nyc") != NULL);
        CHECK_EQ(knobs_with(k, "smsc.smsc1.dc3.colour", "1", &n, err, sizeof err), SMX_EINVAL);
        /* a spare slot is not addressable */
        CHECK_EQ(knobs_with(k, "smsc.spare.tps", "1", &n, err, sizeof err), SMX_EINVAL);
        char v[64];
        CHECK_EQ(knobs_get(k, "nope", v, sizeof v), SMX_EINVAL);
        free(k);
}

static void test_site_knob_sets_every_smsc_of_the_site(void)
{
        struct smx_knobs *k = make(), *n = NULL;
        char err[160], v[64];
        CHECK_EQ(knobs_with(k, "site.dc3.admin", "draining", &n, err, sizeof err), 0);
        CHECK_EQ(n->bind[0].admin, SMX_ADMIN_DRAINING);
        CHECK_EQ(n->bind[1].admin, SMX_ADMIN_DRAINING);
        CHECK_EQ(n->bind[2].admin, SMX_ADMIN_ENABLED);
        get(n, "site.dc3.admin", v, sizeof v);
        CHECK_STR(v, "draining");
        get(n, "site.bos.admin", v, sizeof v);
        CHECK_STR(v, "enabled");
        free(n);
        free(k);
}

static void test_site_get_says_mixed_when_smscs_differ(void)
{
        struct smx_knobs *k = make(), *n = NULL;
        char err[160], v[64];
        CHECK_EQ(knobs_with(k, "smsc.smsc2.dc3.tps", "7", &n, err, sizeof err), 0);
        get(n, "site.dc3.tps", v, sizeof v);
        CHECK_STR(v, "mixed");
        free(n);
        free(k);
}

static void test_removed_smsc_cannot_be_enabled_and_site_leaves_it_removed(void)
{
        struct smx_knobs *k = make(), *n1 = NULL, *n2 = NULL, *n3 = NULL;
        char err[160];
        CHECK_EQ(knobs_with(k, "smsc.smsc1.dc3.admin", "removed", &n1, err, sizeof err), 0);
        CHECK_EQ(knobs_with(n1, "smsc.smsc1.dc3.admin", "enabled", &n2, err, sizeof err),
                 SMX_ESTATE);
        CHECK(n2 == NULL);
        CHECK_EQ(knobs_with(n1, "site.dc3.admin", "draining", &n3, err, sizeof err), 0);
        CHECK_EQ(n3->bind[0].admin, SMX_ADMIN_REMOVED);
        CHECK_EQ(n3->bind[1].admin, SMX_ADMIN_DRAINING);
        free(k);
        free(n1);
        free(n3);
}

static void test_metrics_addr_accepts_host_port_or_empty(void)
{
        CHECK(knobs_addr_ok(""));
        CHECK(knobs_addr_ok("127.0.0.1:9100"));
        CHECK(knobs_addr_ok("[::1]:0"));
        CHECK(knobs_addr_ok("localhost:9100"));
        CHECK(!knobs_addr_ok("127.0.0.1"));
        CHECK(!knobs_addr_ok("127.0.0.1:65536"));
        CHECK(!knobs_addr_ok(":80"));
        CHECK(!knobs_addr_ok("a b:80"));
        struct smx_knobs *k = make(), *n = NULL;
        char err[160];
        CHECK_EQ(knobs_with(k, "metrics_addr", "nope", &n, err, sizeof err), SMX_EINVAL);
        CHECK_EQ(knobs_with(k, "metrics_addr", "127.0.0.1:9100", &n, err, sizeof err), 0);
        CHECK_STR(n->metrics_addr, "127.0.0.1:9100");
        free(n);
        free(k);
}

static void test_list_has_client_smsc_and_site_knobs(void)
{
        struct smx_knobs *k = make();
        size_t need = knobs_list(k, NULL, 0);
        char *buf = malloc(need + 1);
        CHECK_EQ(knobs_list(k, buf, need + 1), need);
        CHECK(strstr(buf, "retry_backoff_ms 200\n") != NULL);
        CHECK(strstr(buf, "smsc.smsc1.dc3.tps 100\n") != NULL);
        CHECK(strstr(buf, "smsc.smsc1.bos.admin enabled\n") != NULL);
        CHECK(strstr(buf, "site.dc3.window mixed\n") != NULL);
        CHECK(strstr(buf, "site.bos.weight 3\n") != NULL);
        CHECK(strstr(buf, "spare") == NULL);
        /* each site once */
        int seen = 0;
        for (const char *p = buf; (p = strstr(p, "site.dc3.tps ")) != NULL; p++)
                seen++;
        CHECK_EQ(seen, 1);
        /* truncation still reports the full length */
        char small[16];
        CHECK_EQ(knobs_list(k, small, sizeof small), need);
        CHECK_EQ(strlen(small), sizeof small - 1);
        free(buf);
        free(k);
}

static void test_enum_names_round_trip(void)
{
        enum smx_admin_state a;
        CHECK_EQ(knobs_parse_admin("draining", &a), 0);
        CHECK_EQ(a, SMX_ADMIN_DRAINING);
        CHECK_STR(smx_admin_state_name(SMX_ADMIN_REMOVED), "removed");
        enum smx_route_policy p;
        CHECK_EQ(knobs_parse_policy("site_weighted", &p), 0);
        CHECK_EQ(p, SMX_ROUTE_SITE_WEIGHTED);
        enum smx_log_level l;
        CHECK_EQ(knobs_parse_log_level("DEBUG", &l), 0);
        CHECK_EQ(l, SMX_LOG_DEBUG);
        CHECK_EQ(knobs_parse_log_level("trace", &l), SMX_EINVAL);
}

int main(void)
{
        RUN(test_knobs_start_from_the_configuration);
        RUN(test_set_returns_a_new_snapshot_and_keeps_the_old);
        RUN(test_set_rejects_values_out_of_range);
        RUN(test_window_may_not_exceed_the_created_window);
        RUN(test_unknown_knob_smsc_and_site_are_named);
        RUN(test_site_knob_sets_every_smsc_of_the_site);
        RUN(test_site_get_says_mixed_when_smscs_differ);
        RUN(test_removed_smsc_cannot_be_enabled_and_site_leaves_it_removed);
        RUN(test_metrics_addr_accepts_host_port_or_empty);
        RUN(test_list_has_client_smsc_and_site_knobs);
        RUN(test_enum_names_round_trip);
        return t_done();
}
