/* Stats without a client (src/stats): the latency histogram and its
 * percentiles, site/worker sums, and the three renderings of a hand-made
 * snapshot (JSON checked with jansson, Prometheus checked line by line; the
 * integration tests parse it with prometheus_client). */
#include <jansson.h>

#include "stats/stats.h"
#include "testlib.h"

static void test_histogram_buckets_are_upper_bounds(void)
{
        CHECK_EQ(lat_hist_index(0), 0);
        CHECK_EQ(lat_hist_index(100), 0);
        CHECK_EQ(lat_hist_index(101), 1);
        CHECK_EQ(lat_hist_index(1000), 3);
        CHECK_EQ(lat_hist_index(60000000), SMX_LAT_BUCKETS - 2);
        CHECK_EQ(lat_hist_index(60000001), SMX_LAT_BUCKETS - 1);
}

/* The index as the definition says: the first bucket whose bound is >= us. */
static unsigned index_by_scan(uint64_t us)
{
        unsigned i = 0;
        while (i < SMX_LAT_BUCKETS - 1 && us > smx_lat_le_us[i])
                i++;
        return i;
}

/* lat_hist_index starts its scan from a table indexed by the bit length:
 * the same bucket as the plain scan for every value up to 2^22, around
 * every bound and every power of two, and the largest values. */
static void test_histogram_index_matches_the_plain_scan(void)
{
        int bad = 0;
        for (uint64_t us = 0; us <= (1u << 22); us++)
                bad += lat_hist_index(us) != index_by_scan(us);
        for (unsigned k = 0; k < SMX_LAT_BUCKETS - 1; k++)
                for (int d = -2; d <= 2; d++) {
                        uint64_t us = smx_lat_le_us[k] + (uint64_t)(int64_t)d;
                        bad += lat_hist_index(us) != index_by_scan(us);
                }
        for (unsigned b = 1; b < 64; b++)
                for (int d = -1; d <= 1; d++) {
                        uint64_t us = ((uint64_t)1 << b) + (uint64_t)(int64_t)d;
                        bad += lat_hist_index(us) != index_by_scan(us);
                }
        bad += lat_hist_index(UINT64_MAX) != SMX_LAT_BUCKETS - 1;
        CHECK_EQ(bad, 0);
}

static void test_quantiles_fall_in_the_right_bucket(void)
{
        struct smx_lat_hist h;
        memset(&h, 0, sizeof h);
        for (int i = 0; i < 898; i++)
                lat_hist_add_w(&h, 800);          /* (500, 1000] */
        for (int i = 0; i < 100; i++)
                lat_hist_add_w(&h, 20000);        /* (10000, 25000] */
        lat_hist_add_w(&h, 2000000);              /* (1 s, 2.5 s] */
        lat_hist_add_w(&h, 2000000);
        struct smx_lat_snap s;
        lat_hist_read(&h, &s);
        CHECK_EQ(s.count, 1000);
        CHECK_EQ(s.sum_us, 898ull * 800 + 100ull * 20000 + 2 * 2000000ull);
        uint64_t p50 = lat_snap_quantile(&s, 0.5), p99 = lat_snap_quantile(&s, 0.99),
                 p999 = lat_snap_quantile(&s, 0.999);
        CHECK(p50 > 500 && p50 <= 1000);
        CHECK(p99 > 10000 && p99 <= 25000);
        CHECK(p999 > 1000000 && p999 <= 2500000);
        struct smx_lat_snap empty = { 0 };
        CHECK_EQ(lat_snap_quantile(&empty, 0.5), 0);
}

/* Two binds on site dc3 (workers 0 and 1), one on bos (worker 0). */
static void make_snapshot(struct smx_stats_snapshot *s)
{
        memset(s, 0, sizeof *s);
        s->mts_accepted = 120;
        s->mts_decided = 117;
        s->in_flight = 3;
        s->active_binds = 2;
        s->failed_nobind[SMX_FAIL_NO_ROUTE] = 4;
        s->n_binds = 3;
        s->binds = calloc(3, sizeof *s->binds);
        static const char *const nm[] = { "smsc1.dc3", "smsc2.dc3", "smsc1.bos" };
        static const char *const st[] = { "dc3", "dc3", "bos" };
        for (int i = 0; i < 3; i++) {
                struct smx_bind_stats *p = &s->binds[i].pub;
                snprintf(p->name, sizeof p->name, "%s", nm[i]);
                snprintf(p->site, sizeof p->site, "%s", st[i]);
                p->worker = i == 1 ? 1 : 0;
                p->health = i == 2 ? SMX_HEALTH_DOWN : SMX_HEALTH_ACTIVE;
                p->admin = i == 1 ? SMX_ADMIN_DRAINING : SMX_ADMIN_ENABLED;
                p->submitted = 40 + (uint64_t)i;
                p->accepted = 38;
                p->failed = 2;
                p->failed_by[SMX_FAIL_REJECTED] = 2;
                p->drs = 10;
                p->mos = (uint64_t)i;
                p->in_flight = 1;
                p->min_attempt_spacing_ms = i == 0 ? UINT64_MAX : 31000;
                s->binds[i].lat.bucket[3] = 38;
                s->binds[i].lat.count = 38;
                s->binds[i].lat.sum_us = 38 * 900;
        }
        s->binds[1].pub.name[0] = 0;
        snprintf(s->binds[1].pub.name, sizeof s->binds[1].pub.name, "odd\"name");
}

static void test_sums_group_by_site_and_worker(void)
{
        struct smx_stats_snapshot s;
        make_snapshot(&s);
        CHECK_EQ(stats_sum(&s, 2), 0);
        CHECK_EQ(s.n_sites, 2);
        CHECK_STR(s.sites[0].name, "dc3");
        CHECK_EQ(s.sites[0].binds, 2);
        CHECK_EQ(s.sites[0].submitted, 81);
        CHECK_EQ(s.sites[0].binds_active, 2);
        CHECK_EQ(s.sites[1].binds_active, 0);
        CHECK_EQ(s.sites[0].failed_by[SMX_FAIL_REJECTED], 4);
        CHECK_EQ(s.sites[0].lat.count, 76);
        CHECK_EQ(s.n_workers, 2);
        CHECK_EQ(s.workers[0].binds, 2);
        CHECK_EQ(s.workers[1].binds, 1);
        CHECK_EQ(s.workers[0].mos, 2);
        stats_free(&s);
}

static void test_json_rendering_parses_and_carries_the_numbers(void)
{
        struct smx_stats_snapshot s;
        make_snapshot(&s);
        stats_sum(&s, 2);
        char *out = NULL;
        size_t len = 0;
        CHECK_EQ(stats_render(&s, SMX_STATS_JSON, &out, &len), 0);
        json_error_t jerr;
        json_t *j = json_loadb(out, len, 0, &jerr);
        CHECK(j != NULL);
        if (!j) {
                printf("# %s at %d: %s\n", jerr.text, jerr.position, out);
                free(out);
                stats_free(&s);
                return;
        }
        CHECK_EQ(json_integer_value(json_object_get(json_object_get(j, "client"), "accepted")), 120);
        CHECK_EQ(json_integer_value(json_object_get(json_object_get(json_object_get(j, "client"),
                                                                    "failed_nobind"), "no_route")), 4);
        json_t *b = json_object_get(j, "binds");
        CHECK_EQ(json_array_size(b), 3);
        CHECK_STR(json_string_value(json_object_get(json_array_get(b, 1), "smsc")), "odd\"name");
        CHECK_STR(json_string_value(json_object_get(json_array_get(b, 1), "admin")), "draining");
        CHECK(json_is_null(json_object_get(json_array_get(b, 0), "min_attempt_spacing_ms")));
        CHECK_EQ(json_integer_value(json_object_get(json_object_get(json_array_get(b, 0),
                                                                    "failed_by"), "rejected")), 2);
        json_t *lat = json_object_get(json_array_get(b, 0), "latency_us");
        CHECK_EQ(json_integer_value(json_object_get(lat, "count")), 38);
        CHECK(json_integer_value(json_object_get(lat, "p50")) > 500);
        CHECK_EQ(json_array_size(json_object_get(j, "sites")), 2);
        CHECK_EQ(json_array_size(json_object_get(j, "workers")), 2);
        json_decref(j);
        free(out);
        stats_free(&s);
}

/* Every sample line: name{labels} value, names [a-z_], one HELP and TYPE
 * per metric before its samples. */
static void test_prometheus_rendering_is_well_formed(void)
{
        struct smx_stats_snapshot s;
        make_snapshot(&s);
        stats_sum(&s, 2);
        char *out = NULL;
        CHECK_EQ(stats_render(&s, SMX_STATS_PROMETHEUS, &out, NULL), 0);
        char typed[64][64];
        int n_typed = 0, bad = 0;
        for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
                if (!strncmp(line, "# TYPE ", 7)) {
                        char name[64];
                        sscanf(line + 7, "%63s", name);
                        for (int i = 0; i < n_typed; i++)
                                if (!strcmp(typed[i], name))
                                        bad++;     /* TYPE twice */
                        if (n_typed < 64)
                                snprintf(typed[n_typed++], 64, "%s", name);
                        continue;
                }
                if (line[0] == '#')
                        continue;
                size_t i = 0;
                while ((line[i] >= 'a' && line[i] <= 'z') || line[i] == '_')
                        i++;
                if (i == 0 || (line[i] != '{' && line[i] != ' '))
                        bad++;
                if (strncmp(line, "smsmux_", 7))
                        bad++;
                char *sp = strrchr(line, ' ');
                if (!sp || !sp[1])
                        bad++;
        }
        CHECK_EQ(bad, 0);
        CHECK(n_typed > 20);
        free(out);
        out = NULL;
        CHECK_EQ(stats_render(&s, SMX_STATS_PROMETHEUS, &out, NULL), 0);
        CHECK(strstr(out, "smsmux_mt_failed_total{smsc=\"smsc1.dc3\",site=\"dc3\",reason=\"rejected\"} 2\n"));
        CHECK(strstr(out, "smsmux_mt_failed_total{smsc=\"\",site=\"\",reason=\"no_route\"} 4\n"));
        CHECK(strstr(out, "smsc=\"odd\\\"name\""));           /* escaped quote */
        CHECK(strstr(out, "smsmux_mt_accept_latency_seconds_bucket{smsc=\"smsc1.dc3\",site=\"dc3\",le=\"0.001\"} 38\n"));
        CHECK(strstr(out, "smsmux_mt_accept_latency_seconds_bucket{smsc=\"smsc1.dc3\",site=\"dc3\",le=\"+Inf\"} 38\n"));
        CHECK(strstr(out, "smsmux_mt_accept_latency_seconds_count{smsc=\"smsc1.dc3\",site=\"dc3\"} 38\n"));
        CHECK(strstr(out, "smsmux_bind_state{smsc=\"smsc1.bos\",site=\"bos\",state=\"DOWN\"} 1\n"));
        CHECK(strstr(out, "smsmux_bind_admin_state{smsc=\"odd\\\"name\",site=\"dc3\",state=\"draining\"} 1\n"));
        CHECK(strstr(out, "smsmux_mts_in_flight 3\n"));
        free(out);
        stats_free(&s);
}

static void test_table_rendering_names_every_bind_site_and_worker(void)
{
        struct smx_stats_snapshot s;
        make_snapshot(&s);
        stats_sum(&s, 2);
        char *out = NULL;
        CHECK_EQ(stats_render(&s, SMX_STATS_TABLE, &out, NULL), 0);
        CHECK(strstr(out, "smsc1.dc3") && strstr(out, "smsc1.bos") && strstr(out, "draining"));
        CHECK(strstr(out, "\nSITE") && strstr(out, "\nWORKER"));
        CHECK(strstr(out, "failed before any attempt: no_route 4"));
        CHECK(strstr(out, "rejected 2"));
        free(out);
        stats_free(&s);
}

static void set_http(struct smx_stats_snapshot *s)
{
        s->http.enabled = 1;
        s->http.current_url = 1;
        s->http.sent = 501;
        s->http.accepted = 480;
        s->http.duplicates = 7;
        s->http.failed = 12;
        s->http.transient = 9;
        s->http.resubmits = 6;
        s->http.switches = 2;
        s->http.in_flight = 5;
        s->http.rx_delivered = 77;
        s->http.rx_duplicates = 3;
        s->http.rx_too_large = 4;
        s->http.rx_too_slow = 2;
        s->http.rx_deferred = 9;
        s->http.rx_abandoned = 5;
        s->http.stalls = 3;
}

static void test_http_counters_appear_in_every_rendering_when_enabled(void)
{
        struct smx_stats_snapshot s;
        make_snapshot(&s);
        set_http(&s);
        stats_sum(&s, 2);
        char *out = NULL;
        size_t len = 0;
        CHECK_EQ(stats_render(&s, SMX_STATS_TABLE, &out, NULL), 0);
        CHECK(strstr(out, "http: url 1, sent 501, accepted 480, failed 12, resubmits 6, "
                          "switches 2, in flight 5, receiver DRs/MOs 77, receiver too large 4, "
                          "too slow 2\n") != NULL);
        free(out);
        out = NULL;
        CHECK_EQ(stats_render(&s, SMX_STATS_JSON, &out, &len), 0);
        json_error_t jerr;
        json_t *j = json_loadb(out, len, 0, &jerr);
        CHECK(j != NULL);
        json_t *h = json_object_get(j, "http");
        CHECK_EQ(json_integer_value(json_object_get(h, "sent")), 501);
        CHECK_EQ(json_integer_value(json_object_get(h, "accepted")), 480);
        CHECK_EQ(json_integer_value(json_object_get(h, "duplicates")), 7);
        CHECK_EQ(json_integer_value(json_object_get(h, "failed")), 12);
        CHECK_EQ(json_integer_value(json_object_get(h, "resubmits")), 6);
        CHECK_EQ(json_integer_value(json_object_get(h, "current_url")), 1);
        CHECK_EQ(json_integer_value(json_object_get(h, "rx_delivered")), 77);
        CHECK_EQ(json_integer_value(json_object_get(h, "rx_too_large")), 4);
        CHECK_EQ(json_integer_value(json_object_get(h, "rx_too_slow")), 2);
        CHECK_EQ(json_integer_value(json_object_get(h, "rx_deferred")), 9);
        CHECK_EQ(json_integer_value(json_object_get(h, "rx_abandoned")), 5);
        CHECK_EQ(json_integer_value(json_object_get(h, "stalls")), 3);
        json_decref(j);
        free(out);
        out = NULL;
        CHECK_EQ(stats_render(&s, SMX_STATS_PROMETHEUS, &out, NULL), 0);
        CHECK(strstr(out, "# TYPE smsmux_http_mt_sent_total counter\n") != NULL);
        CHECK(strstr(out, "\nsmsmux_http_mt_sent_total 501\n") != NULL);
        CHECK(strstr(out, "\nsmsmux_http_mt_accepted_total 480\n") != NULL);
        CHECK(strstr(out, "\nsmsmux_http_mt_failed_total 12\n") != NULL);
        CHECK(strstr(out, "\nsmsmux_http_resubmits_total 6\n") != NULL);
        CHECK(strstr(out, "\nsmsmux_http_url_switches_total 2\n") != NULL);
        CHECK(strstr(out, "# TYPE smsmux_http_stalls_total counter\n") != NULL);
        CHECK(strstr(out, "\nsmsmux_http_stalls_total 3\n") != NULL);
        CHECK(strstr(out, "# TYPE smsmux_http_current_url gauge\n") != NULL);
        CHECK(strstr(out, "\nsmsmux_http_current_url 1\n") != NULL);
        CHECK(strstr(out, "\nsmsmux_http_received_total 77\n") != NULL);
        CHECK(strstr(out, "# TYPE smsmux_http_receiver_too_large_total counter\n") != NULL);
        CHECK(strstr(out, "\nsmsmux_http_receiver_too_large_total 4\n") != NULL);
        CHECK(strstr(out, "# TYPE smsmux_http_receiver_too_slow_total counter\n") != NULL);
        CHECK(strstr(out, "\nsmsmux_http_receiver_too_slow_total 2\n") != NULL);
        CHECK(strstr(out, "# TYPE smsmux_http_receiver_deferred_total counter\n") != NULL);
        CHECK(strstr(out, "\nsmsmux_http_receiver_deferred_total 9\n") != NULL);
        CHECK(strstr(out, "# TYPE smsmux_http_receiver_abandoned_total counter\n") != NULL);
        CHECK(strstr(out, "\nsmsmux_http_receiver_abandoned_total 5\n") != NULL);
        free(out);
        stats_free(&s);
}

static void test_http_counters_are_left_out_without_http(void)
{
        struct smx_stats_snapshot s;
        make_snapshot(&s);
        stats_sum(&s, 2);
        static const enum smx_stats_format fmts[] = {
                SMX_STATS_TABLE, SMX_STATS_JSON, SMX_STATS_PROMETHEUS
        };
        for (size_t i = 0; i < 3; i++) {
                char *out = NULL;
                CHECK_EQ(stats_render(&s, fmts[i], &out, NULL), 0);
                CHECK(out && strstr(out, "http") == NULL);
                free(out);
        }
        stats_free(&s);
}

static void test_correlation_staging_counters_reach_json_and_prometheus(void)
{
        struct smx_stats_snapshot s;
        make_snapshot(&s);
        s.has_inbound = 1;
        s.inbound.corr_staged = 17;
        s.inbound.corr_waited = 3;
        stats_sum(&s, 2);
        char *out = NULL;
        CHECK_EQ(stats_render(&s, SMX_STATS_PROMETHEUS, &out, NULL), 0);
        CHECK(out && strstr(out, "\nsmsmux_correlation_staged_total 17\n"));
        CHECK(out && strstr(out, "\nsmsmux_correlation_waited_total 3\n"));
        CHECK(out && strstr(out, "# TYPE smsmux_correlation_staged_total counter\n"));
        free(out);
        out = NULL;
        CHECK_EQ(stats_render(&s, SMX_STATS_JSON, &out, NULL), 0);
        CHECK(out && strstr(out, "\"corr_staged\":17"));
        CHECK(out && strstr(out, "\"corr_waited\":3"));
        free(out);
        stats_free(&s);
}

int main(void)
{
        RUN(test_histogram_buckets_are_upper_bounds);
        RUN(test_histogram_index_matches_the_plain_scan);
        RUN(test_quantiles_fall_in_the_right_bucket);
        RUN(test_sums_group_by_site_and_worker);
        RUN(test_json_rendering_parses_and_carries_the_numbers);
        RUN(test_prometheus_rendering_is_well_formed);
        RUN(test_table_rendering_names_every_bind_site_and_worker);
        RUN(test_http_counters_appear_in_every_rendering_when_enabled);
        RUN(test_http_counters_are_left_out_without_http);
        RUN(test_correlation_staging_counters_reach_json_and_prometheus);
        return t_done();
}
