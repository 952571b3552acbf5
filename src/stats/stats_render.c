/* Rendering a stats snapshot: an aligned table for people, one JSON object
 * for programs (`smsmux stats --json`), and the Prometheus text exposition
 * format 0.0.4 for the metrics listener.
 *
 * Prometheus names follow its conventions: the `smsmux_` prefix, base units
 * (seconds), `_total` on counters, one metric per meaning with labels for
 * the dimensions (smsc, site, reason, state, worker), HELP and TYPE lines
 * once per metric, label values escaped (backslash, quote, newline). Site
 * and worker sums are left to PromQL (sum by (site)) except where a value
 * exists only per worker. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats/stats.h"

/* A growing string; `oom` sticks once an allocation failed. */
struct sbuf {
        char *p;
        size_t len, cap;
        int oom;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
        if (b->oom)
                return;
        for (;;) {
                va_list ap;
                va_start(ap, fmt);
                size_t room = b->cap - b->len;
                int n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
                va_end(ap);
                if (n < 0) {
                        b->oom = 1;
                        return;
                }
                if ((size_t)n < room) {
                        b->len += (size_t)n;
                        return;
                }
                size_t cap = b->cap ? b->cap * 2 : 4096;
                while (cap - b->len <= (size_t)n)
                        cap *= 2;
                char *q = realloc(b->p, cap);
                if (!q) {
                        b->oom = 1;
                        return;
                }
                b->p = q;
                b->cap = cap;
        }
}

/* A label value or JSON string with the characters each format needs
 * escaped. Names are short (SMSC, site): bounded to 64 output bytes. */
static const char *esc(const char *s, char *out, size_t cap)
{
        size_t o = 0;
        for (; *s && o + 3 < cap; s++) {
                unsigned char ch = (unsigned char)*s;
                if (ch == '\\' || ch == '"') {
                        out[o++] = '\\';
                        out[o++] = (char)ch;
                } else if (ch == '\n') {
                        out[o++] = '\\';
                        out[o++] = 'n';
                } else if (ch < 0x20) {
                        out[o++] = '?';
                } else {
                        out[o++] = (char)ch;
                }
        }
        out[o] = '\0';
        return out;
}

static double ms(uint64_t us)
{
        return (double)us / 1000.0;
}

/* ---- table ---- */

static void table_sum_row(struct sbuf *b, const char *label, const struct smx_stats_sum *s)
{
        sb_printf(b, "%-14s %5u/%-5u %6u %9" PRIu64 " %9" PRIu64 " %7" PRIu64 " %7" PRIu64
                  " %7" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8.1f %8.1f %8.1f\n",
                  label, s->binds_active, s->binds, s->in_flight, s->submitted, s->accepted,
                  s->failed, s->resent, s->throttled, s->drs, s->mos,
                  ms(lat_snap_quantile(&s->lat, 0.5)), ms(lat_snap_quantile(&s->lat, 0.99)),
                  ms(lat_snap_quantile(&s->lat, 0.999)));
}

static void render_table(struct sbuf *b, const struct smx_stats_snapshot *s)
{
        sb_printf(b, "MTs: accepted %" PRIu64 ", with outcome %" PRIu64 ", in flight %" PRIu64
                  ", waiting for a bind %" PRIu64 "; active binds %d\n",
                  s->mts_accepted, s->mts_decided, s->in_flight, s->queued, s->active_binds);
        uint64_t nb = 0;
        for (unsigned r = 1; r < SMX_FAIL_REASONS; r++)
                nb += s->failed_nobind[r];
        if (nb) {
                sb_printf(b, "failed before any attempt:");
                for (unsigned r = 1; r < SMX_FAIL_REASONS; r++)
                        if (s->failed_nobind[r])
                                sb_printf(b, " %s %" PRIu64,
                                          smx_fail_reason_name((enum smx_fail_reason)r),
                                          s->failed_nobind[r]);
                sb_printf(b, "\n");
        }
        sb_printf(b, "\n%-14s %-8s %2s %-10s %-8s %6s %9s %9s %7s %7s %7s %8s %8s %6s %8s %8s %8s\n",
                  "SMSC", "SITE", "W", "STATE", "ADMIN", "INFL", "SUBMIT", "ACCEPT", "FAILED",
                  "RESENT", "THROTL", "DRS", "MOS", "BINDS", "P50ms", "P99ms", "P999ms");
        for (size_t i = 0; i < s->n_binds; i++) {
                const struct smx_bind_stats *p = &s->binds[i].pub;
                sb_printf(b, "%-14s %-8s %2u %-10s %-8s %6u %9" PRIu64 " %9" PRIu64 " %7" PRIu64
                          " %7" PRIu64 " %7" PRIu64 " %8" PRIu64 " %8" PRIu64 " %6" PRIu64
                          " %8.1f %8.1f %8.1f\n",
                          p->name, p->site, p->worker, smx_health_name(p->health),
                          smx_admin_state_name(p->admin), p->in_flight, p->submitted,
                          p->accepted, p->failed, p->resent, p->throttled, p->drs, p->mos,
                          p->bind_attempts, ms(p->latency_p50_us), ms(p->latency_p99_us),
                          ms(p->latency_p999_us));
        }
        int any_fail = 0;
        for (size_t i = 0; i < s->n_binds; i++)
                any_fail |= s->binds[i].pub.failed != 0;
        if (any_fail) {
                sb_printf(b, "\nfailed by reason:\n");
                for (size_t i = 0; i < s->n_binds; i++) {
                        const struct smx_bind_stats *p = &s->binds[i].pub;
                        if (!p->failed)
                                continue;
                        sb_printf(b, "  %-14s", p->name);
                        for (unsigned r = 1; r < SMX_FAIL_REASONS; r++)
                                if (p->failed_by[r])
                                        sb_printf(b, " %s %" PRIu64,
                                                  smx_fail_reason_name((enum smx_fail_reason)r),
                                                  p->failed_by[r]);
                        sb_printf(b, "\n");
                }
        }
        const char *hdr = "%-14s %11s %6s %9s %9s %7s %7s %7s %8s %8s %8s %8s %8s\n";
        sb_printf(b, "\n");
        sb_printf(b, hdr, "SITE", "ACTIVE", "INFL", "SUBMIT", "ACCEPT", "FAILED", "RESENT",
                  "THROTL", "DRS", "MOS", "P50ms", "P99ms", "P999ms");
        for (size_t i = 0; i < s->n_sites; i++)
                table_sum_row(b, s->sites[i].name, &s->sites[i]);
        sb_printf(b, "\n");
        sb_printf(b, hdr, "WORKER", "ACTIVE", "INFL", "SUBMIT", "ACCEPT", "FAILED", "RESENT",
                  "THROTL", "DRS", "MOS", "P50ms", "P99ms", "P999ms");
        for (size_t i = 0; i < s->n_workers; i++)
                table_sum_row(b, s->workers[i].name, &s->workers[i]);
        if (s->has_inbound) {
                const struct smx_inbound_stats *in = &s->inbound;
                sb_printf(b, "\ninbound: DRs %" PRIu64 " (duplicates dropped %" PRIu64
                          ", uncorrelated %" PRIu64 ", parked now %" PRIu64 ", park expired %"
                          PRIu64 "), MOs %" PRIu64 " (duplicates dropped %" PRIu64
                          ", partial %" PRIu64 "), correlation entries %" PRIu64
                          ", event ring full %" PRIu64 "\n",
                          in->drs, in->dr_duplicates, in->uncorrelated, in->park_now,
                          in->park_expired, in->mos, in->mo_duplicates, in->mo_partial,
                          in->corr_entries, in->ring_full);
        }
        if (s->http.enabled)
                sb_printf(b, "http: url %u, sent %" PRIu64 ", accepted %" PRIu64 ", failed %"
                          PRIu64 ", resubmits %" PRIu64 ", switches %" PRIu64 ", in flight %u, "
                          "receiver DRs/MOs %" PRIu64 "\n",
                          s->http.current_url, s->http.sent, s->http.accepted, s->http.failed,
                          s->http.resubmits, s->http.switches, s->http.in_flight,
                          s->http.rx_delivered);
        if (s->log_suppressed)
                sb_printf(b, "log lines suppressed by the rate limit: %" PRIu64 "\n",
                          s->log_suppressed);
}

/* ---- JSON ---- */

static void json_fail(struct sbuf *b, const uint64_t *by)
{
        sb_printf(b, "\"failed_by\":{");
        for (unsigned r = 1; r < SMX_FAIL_REASONS; r++)
                sb_printf(b, "%s\"%s\":%" PRIu64, r > 1 ? "," : "",
                          smx_fail_reason_name((enum smx_fail_reason)r), by[r]);
        sb_printf(b, "}");
}

static void json_lat(struct sbuf *b, const struct smx_lat_snap *l)
{
        sb_printf(b, "\"latency_us\":{\"count\":%" PRIu64 ",\"sum\":%" PRIu64 ",\"p50\":%" PRIu64
                  ",\"p99\":%" PRIu64 ",\"p999\":%" PRIu64 "}",
                  l->count, l->sum_us, lat_snap_quantile(l, 0.5), lat_snap_quantile(l, 0.99),
                  lat_snap_quantile(l, 0.999));
}

static void json_sum(struct sbuf *b, const char *key, const struct smx_stats_sum *s, size_t n)
{
        char e[80];
        sb_printf(b, ",\"%s\":[", key);
        for (size_t i = 0; i < n; i++) {
                const struct smx_stats_sum *x = &s[i];
                sb_printf(b, "%s{\"name\":\"%s\",\"binds\":%u,\"binds_active\":%u,"
                          "\"in_flight\":%u,\"submitted\":%" PRIu64 ",\"accepted\":%" PRIu64
                          ",\"failed\":%" PRIu64 ",\"resent\":%" PRIu64 ",\"throttled\":%" PRIu64
                          ",\"drs\":%" PRIu64 ",\"mos\":%" PRIu64 ",\"bind_attempts\":%" PRIu64 ",",
                          i ? "," : "", esc(x->name, e, sizeof e), x->binds, x->binds_active,
                          x->in_flight, x->submitted, x->accepted, x->failed, x->resent,
                          x->throttled, x->drs, x->mos, x->bind_attempts);
                json_fail(b, x->failed_by);
                sb_printf(b, ",");
                json_lat(b, &x->lat);
                sb_printf(b, "}");
        }
        sb_printf(b, "]");
}

static void render_json(struct sbuf *b, const struct smx_stats_snapshot *s)
{
        char e1[80], e2[80];
        sb_printf(b, "{\"client\":{\"accepted\":%" PRIu64 ",\"decided\":%" PRIu64
                  ",\"in_flight\":%" PRIu64 ",\"queued\":%" PRIu64 ",\"active_binds\":%d,"
                  "\"log_suppressed\":%" PRIu64 ",\"failed_nobind\":{",
                  s->mts_accepted, s->mts_decided, s->in_flight, s->queued, s->active_binds,
                  s->log_suppressed);
        for (unsigned r = 1; r < SMX_FAIL_REASONS; r++)
                sb_printf(b, "%s\"%s\":%" PRIu64, r > 1 ? "," : "",
                          smx_fail_reason_name((enum smx_fail_reason)r), s->failed_nobind[r]);
        sb_printf(b, "}},\"binds\":[");
        for (size_t i = 0; i < s->n_binds; i++) {
                const struct smx_bind_stats *p = &s->binds[i].pub;
                sb_printf(b, "%s{\"smsc\":\"%s\",\"site\":\"%s\",\"worker\":%u,\"state\":\"%s\","
                          "\"admin\":\"%s\",\"in_flight\":%u,\"submitted\":%" PRIu64
                          ",\"accepted\":%" PRIu64 ",\"failed\":%" PRIu64 ",\"resent\":%" PRIu64
                          ",\"throttled\":%" PRIu64 ",\"drs\":%" PRIu64 ",\"mos\":%" PRIu64
                          ",\"bind_attempts\":%" PRIu64 ",\"min_attempt_spacing_ms\":",
                          i ? "," : "", esc(p->name, e1, sizeof e1), esc(p->site, e2, sizeof e2),
                          p->worker, smx_health_name(p->health), smx_admin_state_name(p->admin),
                          p->in_flight, p->submitted, p->accepted, p->failed, p->resent,
                          p->throttled, p->drs, p->mos, p->bind_attempts);
                if (p->min_attempt_spacing_ms == UINT64_MAX)
                        sb_printf(b, "null,");
                else
                        sb_printf(b, "%" PRIu64 ",", p->min_attempt_spacing_ms);
                json_fail(b, p->failed_by);
                sb_printf(b, ",");
                json_lat(b, &s->binds[i].lat);
                sb_printf(b, "}");
        }
        sb_printf(b, "]");
        json_sum(b, "sites", s->sites, s->n_sites);
        json_sum(b, "workers", s->workers, s->n_workers);
        if (s->has_inbound) {
                const struct smx_inbound_stats *in = &s->inbound;
                sb_printf(b, ",\"inbound\":{\"drs\":%" PRIu64 ",\"mos\":%" PRIu64
                          ",\"dr_duplicates\":%" PRIu64 ",\"mo_duplicates\":%" PRIu64
                          ",\"parked\":%" PRIu64 ",\"park_matched\":%" PRIu64
                          ",\"park_expired\":%" PRIu64 ",\"park_now\":%" PRIu64
                          ",\"uncorrelated\":%" PRIu64 ",\"corr_entries\":%" PRIu64
                          ",\"corr_full\":%" PRIu64 ",\"ring_full\":%" PRIu64
                          ",\"mo_partial\":%" PRIu64 ",\"dedup_entries\":%" PRIu64 "}",
                          in->drs, in->mos, in->dr_duplicates, in->mo_duplicates, in->parked,
                          in->park_matched, in->park_expired, in->park_now, in->uncorrelated,
                          in->corr_entries, in->corr_full, in->ring_full, in->mo_partial,
                          in->dedup_entries);
        }
        if (s->http.enabled)
                sb_printf(b, ",\"http\":{\"current_url\":%u,\"sent\":%" PRIu64 ",\"accepted\":%"
                          PRIu64 ",\"duplicates\":%" PRIu64 ",\"failed\":%" PRIu64
                          ",\"transient\":%" PRIu64 ",\"resubmits\":%" PRIu64 ",\"switches\":%"
                          PRIu64 ",\"in_flight\":%u,\"rx_delivered\":%" PRIu64
                          ",\"rx_duplicates\":%" PRIu64 "}",
                          s->http.current_url, s->http.sent, s->http.accepted, s->http.duplicates,
                          s->http.failed, s->http.transient, s->http.resubmits, s->http.switches,
                          s->http.in_flight, s->http.rx_delivered, s->http.rx_duplicates);
        sb_printf(b, "}\n");
}

/* ---- Prometheus ---- */

static void prom_head(struct sbuf *b, const char *name, const char *type, const char *help)
{
        sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One metric with a value per bind, from the field at `off` of the public
 * bind stats (a uint64_t unless is_u32). */
static void prom_per_bind(struct sbuf *b, const struct smx_stats_snapshot *s, const char *name,
                          const char *type, const char *help, size_t off, int is_u32)
{
        char e1[80], e2[80];
        prom_head(b, name, type, help);
        for (size_t i = 0; i < s->n_binds; i++) {
                const struct smx_bind_stats *p = &s->binds[i].pub;
                const char *f = (const char *)p + off;
                uint64_t v = is_u32 ? *(const uint32_t *)(const void *)f
                                    : *(const uint64_t *)(const void *)f;
                sb_printf(b, "%s{smsc=\"%s\",site=\"%s\"} %" PRIu64 "\n", name,
                          esc(p->name, e1, sizeof e1), esc(p->site, e2, sizeof e2), v);
        }
}

static void prom_one(struct sbuf *b, const char *name, const char *type, const char *help,
                     uint64_t v)
{
        prom_head(b, name, type, help);
        sb_printf(b, "%s %" PRIu64 "\n", name, v);
}

static void render_prom(struct sbuf *b, const struct smx_stats_snapshot *s)
{
        char e1[80], e2[80];
        prom_one(b, "smsmux_mts_accepted_total", "counter",
                 "MTs the application handed over (smx_submit returned 0).", s->mts_accepted);
        prom_one(b, "smsmux_mts_decided_total", "counter",
                 "MTs given their final outcome (submitted or failed).", s->mts_decided);
        prom_one(b, "smsmux_mts_in_flight", "gauge",
                 "MTs accepted and not yet given an outcome.", s->in_flight);
        prom_one(b, "smsmux_ingress_queued", "gauge",
                 "MTs waiting in the ingress ring for an ACTIVE bind.", s->queued);
        prom_one(b, "smsmux_binds_active", "gauge",
                 "Binds ACTIVE or THROTTLED that may carry MTs.", (uint64_t)s->active_binds);
        prom_one(b, "smsmux_log_lines_suppressed_total", "counter",
                 "Log lines dropped by the per-second rate limit.", s->log_suppressed);

        prom_head(b, "smsmux_bind_state", "gauge",
                  "1 for the bind's current health state, 0 for the others.");
        for (size_t i = 0; i < s->n_binds; i++) {
                const struct smx_bind_stats *p = &s->binds[i].pub;
                for (int h = SMX_HEALTH_DOWN; h <= SMX_HEALTH_DRAINING; h++)
                        sb_printf(b, "smsmux_bind_state{smsc=\"%s\",site=\"%s\",state=\"%s\"} %d\n",
                                  esc(p->name, e1, sizeof e1), esc(p->site, e2, sizeof e2),
                                  smx_health_name((enum smx_bind_health)h), (int)p->health == h);
        }
        prom_head(b, "smsmux_bind_admin_state", "gauge",
                  "1 for what the operator set for the SMSC (enabled, draining, removed).");
        for (size_t i = 0; i < s->n_binds; i++) {
                const struct smx_bind_stats *p = &s->binds[i].pub;
                for (int a = SMX_ADMIN_ENABLED; a <= SMX_ADMIN_REMOVED; a++)
                        sb_printf(b, "smsmux_bind_admin_state{smsc=\"%s\",site=\"%s\",state=\"%s\"} %d\n",
                                  esc(p->name, e1, sizeof e1), esc(p->site, e2, sizeof e2),
                                  smx_admin_state_name((enum smx_admin_state)a), (int)p->admin == a);
        }
        prom_head(b, "smsmux_bind_up", "gauge", "1 when the bind is ACTIVE or THROTTLED.");
        for (size_t i = 0; i < s->n_binds; i++) {
                const struct smx_bind_stats *p = &s->binds[i].pub;
                sb_printf(b, "smsmux_bind_up{smsc=\"%s\",site=\"%s\"} %d\n",
                          esc(p->name, e1, sizeof e1), esc(p->site, e2, sizeof e2),
                          p->health == SMX_HEALTH_ACTIVE || p->health == SMX_HEALTH_THROTTLED);
        }
        prom_per_bind(b, s, "smsmux_mt_submitted_total", "counter",
                      "MT submit attempts sent on the bind (all parts of one MT count once).",
                      offsetof(struct smx_bind_stats, submitted), 0);
        prom_per_bind(b, s, "smsmux_mt_accepted_total", "counter",
                      "MTs the SMSC accepted on the bind (final outcome submitted).",
                      offsetof(struct smx_bind_stats, accepted), 0);
        prom_per_bind(b, s, "smsmux_mt_resent_total", "counter",
                      "MTs handed back by the bind (lost or timed out) and resent elsewhere.",
                      offsetof(struct smx_bind_stats, resent), 0);
        prom_per_bind(b, s, "smsmux_mt_throttled_total", "counter",
                      "Throttling answers from the SMSC on the bind.",
                      offsetof(struct smx_bind_stats, throttled), 0);
        prom_per_bind(b, s, "smsmux_dr_received_total", "counter",
                      "Delivery receipts received on the bind and accepted.",
                      offsetof(struct smx_bind_stats, drs), 0);
        prom_per_bind(b, s, "smsmux_mo_received_total", "counter",
                      "MO messages (or MO parts) received on the bind and accepted.",
                      offsetof(struct smx_bind_stats, mos), 0);
        prom_per_bind(b, s, "smsmux_mt_in_flight_bind", "gauge",
                      "submit_sm requests outstanding on the bind.",
                      offsetof(struct smx_bind_stats, in_flight), 1);
        prom_per_bind(b, s, "smsmux_bind_attempts_total", "counter",
                      "Connect attempts to the SMSC (R2: more than the rebind interval apart).",
                      offsetof(struct smx_bind_stats, bind_attempts), 0);

        prom_head(b, "smsmux_mt_failed_total", "counter",
                  "MTs given the final outcome failed, by reason; smsc=\"\" for MTs that "
                  "never reached a bind.");
        for (size_t i = 0; i < s->n_binds; i++) {
                const struct smx_bind_stats *p = &s->binds[i].pub;
                for (unsigned r = 1; r < SMX_FAIL_REASONS; r++)
                        sb_printf(b, "smsmux_mt_failed_total{smsc=\"%s\",site=\"%s\",reason=\"%s\"} %"
                                  PRIu64 "\n", esc(p->name, e1, sizeof e1),
                                  esc(p->site, e2, sizeof e2),
                                  smx_fail_reason_name((enum smx_fail_reason)r), p->failed_by[r]);
        }
        for (unsigned r = 1; r < SMX_FAIL_REASONS; r++)
                sb_printf(b, "smsmux_mt_failed_total{smsc=\"\",site=\"\",reason=\"%s\"} %" PRIu64 "\n",
                          smx_fail_reason_name((enum smx_fail_reason)r), s->failed_nobind[r]);

        prom_head(b, "smsmux_mt_accept_latency_seconds", "histogram",
                  "Time from smx_submit to the SMSC's acceptance, per bind.");
        for (size_t i = 0; i < s->n_binds; i++) {
                const struct smx_bind_stats *p = &s->binds[i].pub;
                const struct smx_lat_snap *l = &s->binds[i].lat;
                esc(p->name, e1, sizeof e1);
                esc(p->site, e2, sizeof e2);
                uint64_t cum = 0;
                for (unsigned k = 0; k < SMX_LAT_BUCKETS; k++) {
                        cum += l->bucket[k];
                        if (k < SMX_LAT_BUCKETS - 1)
                                sb_printf(b, "smsmux_mt_accept_latency_seconds_bucket{smsc=\"%s\","
                                          "site=\"%s\",le=\"%g\"} %" PRIu64 "\n", e1, e2,
                                          (double)smx_lat_le_us[k] / 1e6, cum);
                        else
                                sb_printf(b, "smsmux_mt_accept_latency_seconds_bucket{smsc=\"%s\","
                                          "site=\"%s\",le=\"+Inf\"} %" PRIu64 "\n", e1, e2, cum);
                }
                sb_printf(b, "smsmux_mt_accept_latency_seconds_sum{smsc=\"%s\",site=\"%s\"} %.6f\n",
                          e1, e2, (double)l->sum_us / 1e6);
                sb_printf(b, "smsmux_mt_accept_latency_seconds_count{smsc=\"%s\",site=\"%s\"} %"
                          PRIu64 "\n", e1, e2, cum);
        }

        prom_head(b, "smsmux_worker_binds", "gauge", "Binds owned by the worker thread.");
        for (size_t k = 0; k < s->n_workers; k++)
                sb_printf(b, "smsmux_worker_binds{worker=\"%s\"} %u\n", s->workers[k].name,
                          s->workers[k].binds);
        prom_head(b, "smsmux_worker_mt_in_flight", "gauge",
                  "submit_sm requests outstanding on the worker's binds.");
        for (size_t k = 0; k < s->n_workers; k++)
                sb_printf(b, "smsmux_worker_mt_in_flight{worker=\"%s\"} %u\n", s->workers[k].name,
                          s->workers[k].in_flight);

        if (s->has_inbound) {
                const struct smx_inbound_stats *in = &s->inbound;
                prom_one(b, "smsmux_dr_duplicates_total", "counter",
                         "Re-sent DRs recognised and not delivered again (R5).", in->dr_duplicates);
                prom_one(b, "smsmux_mo_duplicates_total", "counter",
                         "Re-sent MOs recognised and not delivered again (R5).", in->mo_duplicates);
                prom_one(b, "smsmux_dr_uncorrelated_total", "counter",
                         "DRs delivered without an MT id (park timeout or unknown id).",
                         in->uncorrelated);
                prom_one(b, "smsmux_dr_parked", "gauge",
                         "DRs waiting for their submit_sm_resp (R3).", in->park_now);
                prom_one(b, "smsmux_dr_park_expired_total", "counter",
                         "Parked DRs that timed out and were delivered uncorrelated.",
                         in->park_expired);
                prom_one(b, "smsmux_correlation_entries", "gauge",
                         "message_id -> MT entries in the correlation store.", in->corr_entries);
                prom_one(b, "smsmux_correlation_full_total", "counter",
                         "Accepted MTs whose id did not fit the full correlation store.",
                         in->corr_full);
                prom_one(b, "smsmux_dedup_entries", "gauge",
                         "DR/MO identities remembered for deduplication.", in->dedup_entries);
                prom_one(b, "smsmux_event_ring_full_total", "counter",
                         "deliver_sm answered with a transient error because an event ring was full.",
                         in->ring_full);
                prom_one(b, "smsmux_mo_partial_total", "counter",
                         "MOs delivered with parts missing after the reassembly timeout.",
                         in->mo_partial);
        }
        if (s->http.enabled) {
                prom_one(b, "smsmux_http_mt_sent_total", "counter",
                         "MT requests sent over the HTTP API.", s->http.sent);
                prom_one(b, "smsmux_http_mt_accepted_total", "counter",
                         "MTs the HTTP API accepted.", s->http.accepted);
                prom_one(b, "smsmux_http_mt_failed_total", "counter",
                         "MTs the HTTP API refused for good.", s->http.failed);
                prom_one(b, "smsmux_http_resubmits_total", "counter",
                         "HTTP MT resubmissions after an abnormal failure (H3).", s->http.resubmits);
                prom_one(b, "smsmux_http_url_switches_total", "counter",
                         "Switches to an alternate URL (H3).", s->http.switches);
                prom_one(b, "smsmux_http_current_url", "gauge",
                         "Index of the URL in use (0 = primary).", s->http.current_url);
                prom_one(b, "smsmux_http_received_total", "counter",
                         "DRs and MOs delivered by the HTTP receiver (H4).", s->http.rx_delivered);
        }
}

int stats_render(const struct smx_stats_snapshot *s, enum smx_stats_format fmt,
                 char **out, size_t *len)
{
        struct sbuf b = { 0 };
        switch (fmt) {
        case SMX_STATS_JSON: render_json(&b, s); break;
        case SMX_STATS_PROMETHEUS: render_prom(&b, s); break;
        default: render_table(&b, s); break;
        }
        sb_printf(&b, "%s", "");
        if (b.oom || !b.p) {
                free(b.p);
                *out = NULL;
                return SMX_ENOMEM;
        }
        *out = b.p;
        if (len)
                *len = b.len;
        return 0;
}
