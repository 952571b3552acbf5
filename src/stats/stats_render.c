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

/* ---- the counters ---- */

enum cnt_width { CW_U64, CW_U32, CW_INT };

/* One counter: the field it reads and its place in each rendering. */
struct counter {
        const char *json;          /* JSON key */
        size_t off;                /* offset of the field in the group's struct */
        uint8_t width;             /* enum cnt_width */
        uint8_t tab_pos;           /* 1..: place in the table's sentence, 0: not there */
        uint8_t prom_pos;          /* 1..: place in the Prometheus text, 0: not there */
        const char *tab;           /* the words before the value, or a column head */
        const char *prom, *prom_type, *help;
};

/* A bind counter also has a field in struct smx_stats_sum and columns. */
struct bind_counter {
        struct counter c;          /* off: in struct smx_bind_stats */
        size_t sum_off;            /* the same counter in struct smx_stats_sum */
        uint8_t col;               /* column width in the bind table */
        uint8_t sum_col;           /* in the site/worker tables, 0: not there */
};

#define N_ROWS(t) (sizeof(t) / sizeof((t)[0]))

#define CL(key, field, w, tp, pp, tab, prom, type, help) \
        { key, offsetof(struct smx_stats_snapshot, field), w, tp, pp, tab, prom, type, help }

/* The client's totals; the table shows log_suppressed on a line of its own. */
static const struct counter client_rows[] = {
        CL("accepted", mts_accepted, CW_U64, 1, 1, "MTs: accepted ",
           "smsmux_mts_accepted_total", "counter",
           "MTs the application handed over (smx_submit returned 0)."),
        CL("decided", mts_decided, CW_U64, 2, 2, ", with outcome ",
           "smsmux_mts_decided_total", "counter",
           "MTs given their final outcome (submitted or failed)."),
        CL("in_flight", in_flight, CW_U64, 3, 3, ", in flight ",
           "smsmux_mts_in_flight", "gauge", "MTs accepted and not yet given an outcome."),
        CL("queued", queued, CW_U64, 4, 4, ", waiting for a bind ",
           "smsmux_ingress_queued", "gauge", "MTs waiting in the ingress ring for an ACTIVE bind."),
        CL("active_binds", active_binds, CW_INT, 5, 5, "; active binds ",
           "smsmux_binds_active", "gauge", "Binds ACTIVE or THROTTLED that may carry MTs."),
        CL("log_suppressed", log_suppressed, CW_U64, 0, 6, NULL,
           "smsmux_log_lines_suppressed_total", "counter",
           "Log lines dropped by the per-second rate limit."),
};

#define BC(field, w, col, sum_col, head, pp, prom, type, help)                               \
        { { #field, offsetof(struct smx_bind_stats, field), w, 0, pp, head, prom, type, help }, \
          offsetof(struct smx_stats_sum, field), col, sum_col }

/* Per bind, and summed per site and per worker. Failures by reason and
 * latency are rendered on their own (they are arrays). */
static const struct bind_counter bind_rows[] = {
        BC(in_flight, CW_U32, 6, 6, "INFL", 7, "smsmux_mt_in_flight_bind", "gauge",
           "submit_sm requests outstanding on the bind."),
        BC(submitted, CW_U64, 9, 9, "SUBMIT", 1, "smsmux_mt_submitted_total", "counter",
           "MT submit attempts sent on the bind (all parts of one MT count once)."),
        BC(accepted, CW_U64, 9, 9, "ACCEPT", 2, "smsmux_mt_accepted_total", "counter",
           "MTs the SMSC accepted on the bind (final outcome submitted)."),
        BC(failed, CW_U64, 7, 7, "FAILED", 0, NULL, NULL, NULL),
        BC(resent, CW_U64, 7, 7, "RESENT", 3, "smsmux_mt_resent_total", "counter",
           "MTs handed back by the bind (lost or timed out) and resent elsewhere."),
        BC(throttled, CW_U64, 7, 7, "THROTL", 4, "smsmux_mt_throttled_total", "counter",
           "Throttling answers from the SMSC on the bind."),
        BC(drs, CW_U64, 8, 8, "DRS", 5, "smsmux_dr_received_total", "counter",
           "Delivery receipts received on the bind and accepted."),
        BC(mos, CW_U64, 8, 8, "MOS", 6, "smsmux_mo_received_total", "counter",
           "MO messages (or MO parts) received on the bind and accepted."),
        BC(bind_attempts, CW_U64, 6, 0, "BINDS", 8, "smsmux_bind_attempts_total", "counter",
           "Connect attempts to the SMSC (R2: more than the rebind interval apart)."),
};

#define IN(field, tp, pp, tab, prom, type, help) \
        { #field, offsetof(struct smx_inbound_stats, field), CW_U64, tp, pp, tab, prom, type, help }

/* The inbound stores (DRs and MOs), when the client has them. */
static const struct counter inbound_rows[] = {
        IN(drs, 1, 0, "\ninbound: DRs ", NULL, NULL, NULL),
        IN(mos, 6, 0, "), MOs ", NULL, NULL, NULL),
        IN(dr_duplicates, 2, 1, " (duplicates dropped ", "smsmux_dr_duplicates_total", "counter",
           "Re-sent DRs recognised and not delivered again (R5)."),
        IN(mo_duplicates, 7, 2, " (duplicates dropped ", "smsmux_mo_duplicates_total", "counter",
           "Re-sent MOs recognised and not delivered again (R5)."),
        IN(parked, 0, 0, NULL, NULL, NULL, NULL),
        IN(park_matched, 0, 0, NULL, NULL, NULL, NULL),
        IN(park_expired, 5, 5, ", park expired ", "smsmux_dr_park_expired_total", "counter",
           "Parked DRs that timed out and were delivered uncorrelated."),
        IN(park_now, 4, 4, ", parked now ", "smsmux_dr_parked", "gauge",
           "DRs waiting for their submit_sm_resp (R3)."),
        IN(uncorrelated, 3, 3, ", uncorrelated ", "smsmux_dr_uncorrelated_total", "counter",
           "DRs delivered without an MT id (park timeout or unknown id)."),
        IN(corr_entries, 9, 6, "), correlation entries ", "smsmux_correlation_entries", "gauge",
           "message_id -> MT entries in the correlation store."),
        IN(corr_full, 0, 7, NULL, "smsmux_correlation_full_total", "counter",
           "Accepted MTs whose id did not fit the full correlation store."),
        IN(ring_full, 10, 9, ", event ring full ", "smsmux_event_ring_full_total", "counter",
           "deliver_sm answered with a transient error because an event ring was full."),
        IN(mo_partial, 8, 10, ", partial ", "smsmux_mo_partial_total", "counter",
           "MOs delivered with parts missing after the reassembly timeout."),
        IN(dedup_entries, 0, 8, NULL, "smsmux_dedup_entries", "gauge",
           "DR/MO identities remembered for deduplication."),
        IN(corr_staged, 0, 11, NULL, "smsmux_correlation_staged_total", "counter",
           "Accepted-MT correlation puts staged because their shard was busy."),
        IN(corr_waited, 0, 12, NULL, "smsmux_correlation_waited_total", "counter",
           "Accepted-MT correlation puts that had to wait for a busy shard."),
        IN(park_flushed, 0, 13, NULL, "smsmux_dr_flushed_at_drain_total", "counter",
           "Parked DRs delivered at once when the client drained (no resp could come)."),
        IN(mo_flushed, 0, 14, NULL, "smsmux_mo_flushed_at_drain_total", "counter",
           "Open MO groups delivered as they were (partial) when the client drained."),
        IN(id_rules_crossed, 0, 15, NULL, "smsmux_dr_matched_other_msgid_norm_total", "counter",
           "DRs matched only with another SMSC's msgid_norm (SMSCs configured differently)."),
};

#define HT(field, w, tp, pp, tab, prom, type, help) \
        { #field, offsetof(struct smx_http_stats, field), w, tp, pp, tab, prom, type, help }

/* The HTTP transport, when the client has it. */
static const struct counter http_rows[] = {
        HT(current_url, CW_U32, 1, 6, "http: url ", "smsmux_http_current_url", "gauge",
           "Index of the URL in use (0 = primary)."),
        HT(sent, CW_U64, 2, 1, ", sent ", "smsmux_http_mt_sent_total", "counter",
           "MT requests sent over the HTTP API."),
        HT(accepted, CW_U64, 3, 2, ", accepted ", "smsmux_http_mt_accepted_total", "counter",
           "MTs the HTTP API accepted."),
        HT(duplicates, CW_U64, 0, 0, NULL, NULL, NULL, NULL),
        HT(failed, CW_U64, 4, 3, ", failed ", "smsmux_http_mt_failed_total", "counter",
           "MTs the HTTP API refused for good."),
        HT(transient, CW_U64, 0, 0, NULL, NULL, NULL, NULL),
        HT(resubmits, CW_U64, 5, 4, ", resubmits ", "smsmux_http_resubmits_total", "counter",
           "HTTP MT resubmissions after an abnormal failure (H3)."),
        HT(switches, CW_U64, 6, 5, ", switches ", "smsmux_http_url_switches_total", "counter",
           "Switches to an alternate URL (H3)."),
        HT(in_flight, CW_U32, 7, 0, ", in flight ", NULL, NULL, NULL),
        HT(stalls, CW_U64, 0, 10, NULL, "smsmux_http_stalls_total", "counter",
           "Times a URL (or address) answered nothing for stall_ms with requests out (H2/H3)."),
        HT(rx_delivered, CW_U64, 8, 7, ", receiver DRs/MOs ", "smsmux_http_received_total",
           "counter", "DRs and MOs delivered by the HTTP receiver (H4)."),
        HT(rx_duplicates, CW_U64, 0, 0, NULL, NULL, NULL, NULL),
        HT(rx_too_large, CW_U64, 9, 8, ", receiver too large ",
           "smsmux_http_receiver_too_large_total", "counter",
           "HTTP receiver requests answered 413, or closed far over the body limit (H4)."),
        HT(rx_too_slow, CW_U64, 10, 9, ", too slow ", "smsmux_http_receiver_too_slow_total",
           "counter", "HTTP receiver connections closed: body not in within max_request_s (H4)."),
        HT(rx_deferred, CW_U64, 0, 11, NULL, "smsmux_http_receiver_deferred_total", "counter",
           "HTTP receiver requests answered once the shared store ran their script (H4)."),
};

#define ST(field, tp, pp, tab, prom, type, help) \
        { #field, offsetof(struct rs_stats, field), CW_U64, tp, pp, tab, prom, type, help }

/* The shared store (docs/scale-out.md), when the client has one. */
static const struct counter store_rows[] = {
        ST(connected, 1, 1, "store: connected ", "smsmux_store_connected", "gauge",
           "1 while the shared store (Redis) is connected."),
        ST(disconnects, 2, 2, ", disconnects ", "smsmux_store_disconnects_total", "counter",
           "Connections to the shared store lost."),
        ST(round_trips, 3, 3, ", round trips ", "smsmux_store_round_trips_total", "counter",
           "Pipelined batches sent to the shared store."),
        ST(commands, 4, 4, ", commands ", "smsmux_store_commands_total", "counter",
           "Commands sent to the shared store."),
        ST(rtt_last_us, 5, 5, ", rtt us ", "smsmux_store_rtt_last_us", "gauge",
           "Round trip of the last batch, microseconds."),
        ST(rtt_max_us, 6, 6, " (max ", "smsmux_store_rtt_max_us", "gauge",
           "Longest batch round trip seen, microseconds."),
        ST(corr_writes, 7, 7, "), correlation writes ", "smsmux_store_corr_writes_total",
           "counter", "Accepted-MT correlations written to the shared store."),
        ST(corr_buffered, 8, 8, ", buffered ", "smsmux_store_corr_buffered", "gauge",
           "Correlation writes waiting for the shared store (backlog)."),
        ST(corr_buffered_bytes, 0, 9, NULL, "smsmux_store_corr_buffered_bytes", "gauge",
           "Memory held by the buffered correlation writes."),
        ST(corr_dropped, 9, 10, ", dropped ", "smsmux_store_corr_dropped_total", "counter",
           "Correlation writes dropped (buffer full): those MTs' DRs arrive uncorrelated."),
        ST(in_held, 10, 11, ", DRs/MOs waiting ", "smsmux_store_inbound_waiting", "gauge",
           "DRs/MOs received and waiting for the shared store (deliver_sm not yet answered)."),
        ST(in_retry_later, 11, 12, ", answered retry-later ", "smsmux_store_retry_later_total",
           "counter", "DRs/MOs answered ESME_RX_T_APPN while the store was unreachable."),
        ST(local_fallback, 12, 13, ", delivered locally ", "smsmux_store_local_fallback_total",
           "counter", "DRs/MOs delivered on this instance without the store (long outage)."),
        ST(drs_routed, 13, 14, ", DRs routed ", "smsmux_store_drs_routed_total", "counter",
           "DRs matched to their MT and queued for its owner."),
        ST(parked, 14, 15, ", parked ", "smsmux_store_drs_parked_total", "counter",
           "DRs parked in the store until their MT's submit_sm_resp."),
        ST(duplicates, 15, 16, ", duplicates ", "smsmux_store_duplicates_total", "counter",
           "DRs/MOs the shared dedup window recognised (any instance)."),
        ST(events, 16, 17, ", events ", "smsmux_store_events_total", "counter",
           "DR/MO events read from this instance's stream (and taken over)."),
        ST(taken_over, 17, 18, ", taken over ", "smsmux_store_taken_over_total", "counter",
           "Events taken over from silent instances."),
        ST(tls_handshakes, 0, 19, NULL, "smsmux_store_tls_handshakes_total", "counter",
           "TLS connections to the shared store set up (rediss://; a new handshake per connection)."),
        ST(tls_failures, 0, 20, NULL, "smsmux_store_tls_failures_total", "counter",
           "TLS sessions with the shared store that failed (certificate, CA, alert)."),
};

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
        for (size_t i = 0; i < N_ROWS(bind_rows); i++) {
                const struct bind_counter *r = &bind_rows[i];
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
        for (size_t i = 0; i < N_ROWS(bind_rows); i++) {
                const struct bind_counter *r = &bind_rows[i];
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
        table_sentence(b, client_rows, N_ROWS(client_rows), s, "\n");
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
                table_sentence(b, inbound_rows, N_ROWS(inbound_rows), &s->inbound, "\n");
        if (s->http.enabled)
                table_sentence(b, http_rows, N_ROWS(http_rows), &s->http, "\n");
        if (s->has_store) {
                table_sentence(b, store_rows, N_ROWS(store_rows), &s->store, "");
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
        for (size_t i = 0; i < N_ROWS(bind_rows); i++) {
                const struct bind_counter *r = &bind_rows[i];
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
        json_rows(b, client_rows, N_ROWS(client_rows), s);
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
                json_rows(b, inbound_rows, N_ROWS(inbound_rows), &s->inbound);
                sb_printf(b, "}");
        }
        if (s->has_store) {
                char v1[80], v2[80], v3[120];
                sb_printf(b, ",\"store\":{");
                json_rows(b, store_rows, N_ROWS(store_rows), &s->store);
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
                json_rows(b, http_rows, N_ROWS(http_rows), &s->http);
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
             (c = at_pos(&bind_rows[0].c, N_ROWS(bind_rows), sizeof bind_rows[0], pos, 1)); pos++) {
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
        prom_rows(b, client_rows, N_ROWS(client_rows), s);
        prom_bind_states(b, s);
        prom_bind_rows(b, s);
        prom_failed(b, s);
        prom_latency(b, s);
        prom_workers(b, s);
        prom_tls(b, s);
        if (s->has_inbound)
                prom_rows(b, inbound_rows, N_ROWS(inbound_rows), &s->inbound);
        if (s->http.enabled)
                prom_rows(b, http_rows, N_ROWS(http_rows), &s->http);
        if (s->has_store) {
                prom_rows(b, store_rows, N_ROWS(store_rows), &s->store);
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
