/* Rendering a stats snapshot: an aligned table for people, one JSON object
 * for programs (`smsmux stats --json`), and the Prometheus text exposition
 * format 0.0.4 for the metrics listener.
 *
 * Prometheus names follow its conventions: the `smsmux_` prefix, base units
 * (seconds), `_total` on counters, one metric per meaning with labels for
 * the dimensions (smsc, site, reason, state, worker), HELP and TYPE lines
 * once per metric, label values escaped (backslash, quote, newline). Site
 * and worker sums are left to PromQL (sum by (site)) except where a value
 * exists only per worker.
 *
 * The counters are rows of tables (struct counter): a row names a field of
 * a stats struct and says how the text table, the JSON object and the
 * Prometheus text show it, so a new counter is one new row. JSON shows every
 * row, in the order of its table; the text table and Prometheus show the
 * rows that have a place there (tab_pos, prom_pos, col), in that order. The
 * places keep each rendering as it was when each was written out by hand. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats/stats.h"
#include "stats/stats_counters.h"

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


/* The store's TLS state (rediss://) after its counters: the session's
 * version and cipher while connected, the last handshake failure. Never a
 * key, certificate or password: only what OpenSSL negotiated or refused. */
static void table_store_tls(struct sbuf *b, const struct rs_stats *st)
{
        if (!st->tls)
                return;
        sb_printf(b, ", TLS %s %s, handshakes %" PRIu64 ", failed %" PRIu64,
                  st->tls_version[0] ? st->tls_version : "-",
                  st->tls_cipher[0] ? st->tls_cipher : "-", st->tls_handshakes,
                  st->tls_failures);
        if (st->tls_error[0])
                sb_printf(b, " (last: %s)", st->tls_error);
}

static uint64_t cnt_get(const struct counter *c, const void *base, size_t off)
{
        const char *f = (const char *)base + off;
        switch (c->width) {
        case CW_U32: return *(const uint32_t *)(const void *)f;
        case CW_INT: return (uint64_t)*(const int *)(const void *)f;
        default: return *(const uint64_t *)(const void *)f;
        }
}

/* pre, then the value of c in base (an int field prints signed). */
static void cnt_print(struct sbuf *b, const char *pre, const struct counter *c,
                      const void *base, size_t off)
{
        uint64_t v = cnt_get(c, base, off);
        if (c->width == CW_INT)
                sb_printf(b, "%s%d", pre, (int)v);
        else
                sb_printf(b, "%s%" PRIu64, pre, v);
}

/* The row of t[0..n) at place pos of the table (prom = 0) or of the
 * Prometheus text (prom = 1); NULL past the last place. */
static const struct counter *at_pos(const struct counter *t, size_t n, size_t stride,
                                    unsigned pos, int prom)
{
        for (size_t i = 0; i < n; i++) {
                const struct counter *c = (const void *)((const char *)t + i * stride);
                if ((prom ? c->prom_pos : c->tab_pos) == pos)
                        return c;
        }
        return NULL;
}

/* ---- table ---- */

/* The rows of t that have a table place, as one sentence, then tail. */
static void table_sentence(struct sbuf *b, const struct counter *t, size_t n,
                           const void *base, const char *tail)
{
        const struct counter *c;
        for (unsigned pos = 1; (c = at_pos(t, n, sizeof *t, pos, 0)); pos++)
                cnt_print(b, c->tab, c, base, c->off);
        sb_printf(b, "%s", tail);
}

/* The bind counters' column heads (sums = 1: the site/worker tables). */
static void table_heads(struct sbuf *b, int sums)
{
        for (size_t i = 0; i < smx_stats_n_bind_rows; i++) {
                const struct bind_counter *r = &smx_stats_bind_rows[i];
                int w = sums ? r->sum_col : r->col;
                if (w)
                        sb_printf(b, " %*s", w, r->c.tab);
        }
        sb_printf(b, " %8s %8s %8s\n", "P50ms", "P99ms", "P999ms");
}

/* The bind counters' columns of one row, then the latency columns (p50,
 * p99, p999 in microseconds). */
static void table_cells(struct sbuf *b, const void *base, int sums, const uint64_t q_us[3])
{
        for (size_t i = 0; i < smx_stats_n_bind_rows; i++) {
                const struct bind_counter *r = &smx_stats_bind_rows[i];
                int w = sums ? r->sum_col : r->col;
                if (w)
                        sb_printf(b, " %*" PRIu64, w, cnt_get(&r->c, base, sums ? r->sum_off : r->c.off));
        }
        sb_printf(b, " %8.1f %8.1f %8.1f\n", ms(q_us[0]), ms(q_us[1]), ms(q_us[2]));
}

/* " REASON N" for each reason with failures. */
static void table_reasons(struct sbuf *b, const uint64_t *by)
{
        for (unsigned r = 1; r < SMX_FAIL_REASONS; r++)
                if (by[r])
                        sb_printf(b, " %s %" PRIu64,
                                  smx_fail_reason_name((enum smx_fail_reason)r), by[r]);
}

static void table_sums(struct sbuf *b, const char *title, const struct smx_stats_sum *s, size_t n)
{
        sb_printf(b, "\n%-14s %11s", title, "ACTIVE");
        table_heads(b, 1);
        for (size_t i = 0; i < n; i++) {
                const struct smx_lat_snap *l = &s[i].lat;
                const uint64_t q[3] = { lat_snap_quantile(l, 0.5), lat_snap_quantile(l, 0.99),
                                        lat_snap_quantile(l, 0.999) };
                sb_printf(b, "%-14s %5u/%-5u", s[i].name, s[i].binds_active, s[i].binds);
                table_cells(b, &s[i], 1, q);
        }
}

/* One row per bind, then each failing bind's failures by reason. */
static void table_binds(struct sbuf *b, const struct smx_stats_snapshot *s)
{
        sb_printf(b, "\n%-14s %-8s %2s %-10s %-8s", "SMSC", "SITE", "W", "STATE", "ADMIN");
        table_heads(b, 0);
        for (size_t i = 0; i < s->n_binds; i++) {
                const struct smx_bind_stats *p = &s->binds[i].pub;
                sb_printf(b, "%-14s %-8s %2u %-10s %-8s", p->name, p->site, p->worker,
                          smx_health_name(p->health), smx_admin_state_name(p->admin));
                const uint64_t q[3] = { p->latency_p50_us, p->latency_p99_us, p->latency_p999_us };
                table_cells(b, p, 0, q);
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
                        table_reasons(b, p->failed_by);
                        sb_printf(b, "\n");
                }
        }
}

/* TLS binds (version, cipher, handshakes) and kTLS; every bind's last
 * down reason. */
static void table_tls_and_downs(struct sbuf *b, const struct smx_stats_snapshot *s)
{
        int any_tls = 0, any_down = 0;
        for (size_t i = 0; i < s->n_binds; i++) {
                any_tls |= s->binds[i].pub.tls;
                any_down |= s->binds[i].pub.last_down[0] != '\0';
        }
        if (any_tls) {
                sb_printf(b, "\nTLS (%s):\n", s->ktls_note ? s->ktls_note : "kTLS unknown");
                for (size_t i = 0; i < s->n_binds; i++) {
                        const struct smx_bind_stats *p = &s->binds[i].pub;
                        if (!p->tls)
                                continue;
                        sb_printf(b, "  %-14s %-8s %-22s handshakes %" PRIu64 " resumed %" PRIu64 "\n",
                                  p->name, p->tls_version[0] ? p->tls_version : "-",
                                  p->tls_cipher[0] ? p->tls_cipher : "-", p->tls_handshakes,
                                  p->tls_resumed);
                }
        }
        if (any_down) {
                sb_printf(b, "\nlast down:\n");
                for (size_t i = 0; i < s->n_binds; i++)
                        if (s->binds[i].pub.last_down[0])
                                sb_printf(b, "  %-14s %s\n", s->binds[i].pub.name,
                                          s->binds[i].pub.last_down);
        }
}

static void render_table(struct sbuf *b, const struct smx_stats_snapshot *s)
{
        table_sentence(b, smx_stats_client_rows, smx_stats_n_client_rows, s, "\n");
        uint64_t nb = 0;
        for (unsigned r = 1; r < SMX_FAIL_REASONS; r++)
                nb += s->failed_nobind[r];
        if (nb) {
                sb_printf(b, "failed before any attempt:");
                table_reasons(b, s->failed_nobind);
                sb_printf(b, "\n");
        }
        table_binds(b, s);
        table_tls_and_downs(b, s);
        table_sums(b, "SITE", s->sites, s->n_sites);
        table_sums(b, "WORKER", s->workers, s->n_workers);
        if (s->has_inbound)
                table_sentence(b, smx_stats_inbound_rows, smx_stats_n_inbound_rows, &s->inbound, "\n");
        if (s->http.enabled)
                table_sentence(b, smx_stats_http_rows, smx_stats_n_http_rows, &s->http, "\n");
        if (s->has_store) {
                table_sentence(b, smx_stats_store_rows, smx_stats_n_store_rows, &s->store, "");
                table_store_tls(b, &s->store);
                sb_printf(b, "\n");
        }
        if (s->log_suppressed)
                sb_printf(b, "log lines suppressed by the rate limit: %" PRIu64 "\n",
                          s->log_suppressed);
}

/* ---- JSON ---- */

/* "key":value for every row of t, comma-separated. */
static void json_rows(struct sbuf *b, const struct counter *t, size_t n, const void *base)
{
        for (size_t i = 0; i < n; i++) {
                sb_printf(b, "%s\"%s\":", i ? "," : "", t[i].json);
                cnt_print(b, "", &t[i], base, t[i].off);
        }
}

/* The bind counters of a bind (sums = 0) or a sum, comma-separated. */
static void json_bind_rows(struct sbuf *b, const void *base, int sums)
{
        for (size_t i = 0; i < smx_stats_n_bind_rows; i++) {
                const struct bind_counter *r = &smx_stats_bind_rows[i];
                sb_printf(b, "%s\"%s\":", i ? "," : "", r->c.json);
                cnt_print(b, "", &r->c, base, sums ? r->sum_off : r->c.off);
        }
}

static void json_fail(struct sbuf *b, const char *key, const uint64_t *by)
{
        sb_printf(b, "\"%s\":{", key);
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
                sb_printf(b, "%s{\"name\":\"%s\",\"binds\":%u,\"binds_active\":%u,",
                          i ? "," : "", esc(x->name, e, sizeof e), x->binds, x->binds_active);
                json_bind_rows(b, x, 1);
                sb_printf(b, ",");
                json_fail(b, "failed_by", x->failed_by);
                sb_printf(b, ",");
                json_lat(b, &x->lat);
                sb_printf(b, "}");
        }
        sb_printf(b, "]");
}

static void render_json(struct sbuf *b, const struct smx_stats_snapshot *s)
{
        char e1[80], e2[80];
        sb_printf(b, "{\"client\":{");
        json_rows(b, smx_stats_client_rows, smx_stats_n_client_rows, s);
        sb_printf(b, ",");
        json_fail(b, "failed_nobind", s->failed_nobind);
        sb_printf(b, "},\"binds\":[");
        for (size_t i = 0; i < s->n_binds; i++) {
                const struct smx_bind_stats *p = &s->binds[i].pub;
                sb_printf(b, "%s{\"smsc\":\"%s\",\"site\":\"%s\",\"worker\":%u,\"state\":\"%s\","
                          "\"admin\":\"%s\",",
                          i ? "," : "", esc(p->name, e1, sizeof e1), esc(p->site, e2, sizeof e2),
                          p->worker, smx_health_name(p->health), smx_admin_state_name(p->admin));
                json_bind_rows(b, p, 0);
                sb_printf(b, ",\"min_attempt_spacing_ms\":");
                if (p->min_attempt_spacing_ms == UINT64_MAX)
                        sb_printf(b, "null,");
                else
                        sb_printf(b, "%" PRIu64 ",", p->min_attempt_spacing_ms);
                json_fail(b, "failed_by", p->failed_by);
                sb_printf(b, ",");
                json_lat(b, &s->binds[i].lat);
                char e3[160];
                sb_printf(b, ",\"last_down\":\"%s\",\"tls\":%s",
                          esc(p->last_down, e3, sizeof e3), p->tls ? "true" : "false");
                if (p->tls)
                        sb_printf(b, ",\"tls_version\":\"%s\",\"tls_cipher\":\"%s\","
                                  "\"tls_handshakes\":%" PRIu64 ",\"tls_resumed\":%" PRIu64,
                                  esc(p->tls_version, e1, sizeof e1), esc(p->tls_cipher, e2, sizeof e2),
                                  p->tls_handshakes, p->tls_resumed);
                sb_printf(b, "}");
        }
        sb_printf(b, "]");
        {
                char e4[400];
                sb_printf(b, ",\"ktls\":{\"available\":%s,\"note\":\"%s\"}",
                          s->ktls ? "true" : "false",
                          esc(s->ktls_note ? s->ktls_note : "", e4, sizeof e4));
        }
        json_sum(b, "sites", s->sites, s->n_sites);
        json_sum(b, "workers", s->workers, s->n_workers);
        if (s->has_inbound) {
                sb_printf(b, ",\"inbound\":{");
                json_rows(b, smx_stats_inbound_rows, smx_stats_n_inbound_rows, &s->inbound);
                sb_printf(b, "}");
        }
        if (s->has_store) {
                char v1[80], v2[80], v3[120];
                sb_printf(b, ",\"store\":{");
                json_rows(b, smx_stats_store_rows, smx_stats_n_store_rows, &s->store);
                sb_printf(b, ",\"tls\":%s", s->store.tls ? "true" : "false");
                if (s->store.tls)
                        sb_printf(b, ",\"tls_version\":\"%s\",\"tls_cipher\":\"%s\","
                                  "\"tls_error\":\"%s\"",
                                  esc(s->store.tls_version, v1, sizeof v1),
                                  esc(s->store.tls_cipher, v2, sizeof v2),
                                  esc(s->store.tls_error, v3, sizeof v3));
                sb_printf(b, "}");
        }
        if (s->http.enabled) {
                sb_printf(b, ",\"http\":{");
                json_rows(b, smx_stats_http_rows, smx_stats_n_http_rows, &s->http);
                sb_printf(b, "}");
        }
        sb_printf(b, "}\n");
}

/* ---- Prometheus ---- */

static void prom_head(struct sbuf *b, const char *name, const char *type, const char *help)
{
        sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One unlabelled metric per row of t that has a Prometheus place. */
static void prom_rows(struct sbuf *b, const struct counter *t, size_t n, const void *base)
{
        const struct counter *c;
        for (unsigned pos = 1; (c = at_pos(t, n, sizeof *t, pos, 1)); pos++) {
                if (!c->prom || !c->prom_type || !c->help)
                        continue;   /* a row with a place always has them */
                prom_head(b, c->prom, c->prom_type, c->help);
                sb_printf(b, "%s %" PRIu64 "\n", c->prom, cnt_get(c, base, c->off));
        }
}

/* One metric per bind counter that has a Prometheus place, a sample per bind. */
static void prom_bind_rows(struct sbuf *b, const struct smx_stats_snapshot *s)
{
        char e1[80], e2[80];
        const struct counter *c;
        for (unsigned pos = 1;
             (c = at_pos(&smx_stats_bind_rows[0].c, smx_stats_n_bind_rows, sizeof smx_stats_bind_rows[0], pos, 1)); pos++) {
                if (!c->prom || !c->prom_type || !c->help)
                        continue;   /* a row with a place always has them */
                prom_head(b, c->prom, c->prom_type, c->help);
                for (size_t i = 0; i < s->n_binds; i++) {
                        const struct smx_bind_stats *p = &s->binds[i].pub;
                        sb_printf(b, "%s{smsc=\"%s\",site=\"%s\"} %" PRIu64 "\n", c->prom,
                                  esc(p->name, e1, sizeof e1), esc(p->site, e2, sizeof e2),
                                  cnt_get(c, p, c->off));
                }
        }
}

/* A gauge per bind and state, 1 for the state the bind is in and 0 for the
 * others: its health (admin = 0) or what the operator set (admin = 1). */
static void prom_one_hot(struct sbuf *b, const struct smx_stats_snapshot *s, int admin,
                         const char *name, const char *help)
{
        char e1[80], e2[80];
        int lo = admin ? SMX_ADMIN_ENABLED : SMX_HEALTH_DOWN;
        int hi = admin ? SMX_ADMIN_REMOVED : SMX_HEALTH_DRAINING;
        prom_head(b, name, "gauge", help);
        for (size_t i = 0; i < s->n_binds; i++) {
                const struct smx_bind_stats *p = &s->binds[i].pub;
                int cur = admin ? (int)p->admin : (int)p->health;
                for (int v = lo; v <= hi; v++)
                        sb_printf(b, "%s{smsc=\"%s\",site=\"%s\",state=\"%s\"} %d\n", name,
                                  esc(p->name, e1, sizeof e1), esc(p->site, e2, sizeof e2),
                                  admin ? smx_admin_state_name((enum smx_admin_state)v)
                                        : smx_health_name((enum smx_bind_health)v),
                                  cur == v);
        }
}

/* Per bind: its health state, its admin state and whether it is up. */
static void prom_bind_states(struct sbuf *b, const struct smx_stats_snapshot *s)
{
        char e1[80], e2[80];
        prom_one_hot(b, s, 0, "smsmux_bind_state",
                     "1 for the bind's current health state, 0 for the others.");
        prom_one_hot(b, s, 1, "smsmux_bind_admin_state",
                     "1 for what the operator set for the SMSC (enabled, draining, removed).");
        prom_head(b, "smsmux_bind_up", "gauge", "1 when the bind is ACTIVE or THROTTLED.");
        for (size_t i = 0; i < s->n_binds; i++) {
                const struct smx_bind_stats *p = &s->binds[i].pub;
                sb_printf(b, "smsmux_bind_up{smsc=\"%s\",site=\"%s\"} %d\n",
                          esc(p->name, e1, sizeof e1), esc(p->site, e2, sizeof e2),
                          p->health == SMX_HEALTH_ACTIVE || p->health == SMX_HEALTH_THROTTLED);
        }
}

/* Failed MTs by bind and reason, and those that never reached a bind. */
static void prom_failed(struct sbuf *b, const struct smx_stats_snapshot *s)
{
        char e1[80], e2[80];
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
}

/* The accept-latency histogram of each bind. */
static void prom_latency(struct sbuf *b, const struct smx_stats_snapshot *s)
{
        char e1[80], e2[80];
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
}

/* What exists only per worker thread. */
static void prom_workers(struct sbuf *b, const struct smx_stats_snapshot *s)
{
        prom_head(b, "smsmux_worker_binds", "gauge", "Binds owned by the worker thread.");
        for (size_t k = 0; k < s->n_workers; k++)
                sb_printf(b, "smsmux_worker_binds{worker=\"%s\"} %u\n", s->workers[k].name,
                          s->workers[k].binds);
        prom_head(b, "smsmux_worker_mt_in_flight", "gauge",
                  "submit_sm requests outstanding on the worker's binds.");
        for (size_t k = 0; k < s->n_workers; k++)
                sb_printf(b, "smsmux_worker_mt_in_flight{worker=\"%s\"} %u\n", s->workers[k].name,
                          s->workers[k].in_flight);
}

/* TLS handshakes per TLS bind, and whether the kernel offers kTLS. */
static void prom_tls(struct sbuf *b, const struct smx_stats_snapshot *s)
{
        char e1[80], e2[80];
        sb_printf(b, "# HELP smsmux_ktls_available Whether the kernel offers kTLS (the tls ULP).\n"
                     "# TYPE smsmux_ktls_available gauge\nsmsmux_ktls_available %d\n", s->ktls);
        static const char *const names[2] = { "smsmux_tls_handshakes_total",
                                               "smsmux_tls_resumed_total" };
        static const char *const helps[2] = { "TLS handshakes completed by the bind.",
                                              "TLS handshakes that resumed a session." };
        for (int k = 0; k < 2; k++) {
                int head = 0;
                for (size_t i = 0; i < s->n_binds; i++) {
                        const struct smx_bind_stats *p = &s->binds[i].pub;
                        if (!p->tls)
                                continue;
                        if (!head++)
                                sb_printf(b, "# HELP %s %s\n# TYPE %s counter\n", names[k], helps[k],
                                          names[k]);
                        sb_printf(b, "%s{smsc=\"%s\",site=\"%s\"} %" PRIu64 "\n", names[k],
                                  esc(p->name, e1, sizeof e1), esc(p->site, e2, sizeof e2),
                                  k ? p->tls_resumed : p->tls_handshakes);
                }
        }
}

static void render_prom(struct sbuf *b, const struct smx_stats_snapshot *s)
{
        prom_rows(b, smx_stats_client_rows, smx_stats_n_client_rows, s);
        prom_bind_states(b, s);
        prom_bind_rows(b, s);
        prom_failed(b, s);
        prom_latency(b, s);
        prom_workers(b, s);
        prom_tls(b, s);
        if (s->has_inbound)
                prom_rows(b, smx_stats_inbound_rows, smx_stats_n_inbound_rows, &s->inbound);
        if (s->http.enabled)
                prom_rows(b, smx_stats_http_rows, smx_stats_n_http_rows, &s->http);
        if (s->has_store) {
                prom_rows(b, smx_stats_store_rows, smx_stats_n_store_rows, &s->store);
                if (s->store.tls && s->store.tls_version[0]) {
                        char e1[80], e2[80];
                        prom_head(b, "smsmux_store_tls_info", "gauge",
                                  "1 while the shared store is connected over TLS, with the "
                                  "session's version and cipher.");
                        sb_printf(b, "smsmux_store_tls_info{version=\"%s\",cipher=\"%s\"} 1\n",
                                  esc(s->store.tls_version, e1, sizeof e1),
                                  esc(s->store.tls_cipher, e2, sizeof e2));
                }
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
