/* The counter tables of the stats renderings (stats_counters.h): the
 * client's totals, per bind (with their site/worker sums), inbound, HTTP and
 * shared-store counters. A new counter is one new row here; stats_render.c
 * shows it in the table, JSON and Prometheus text by its places. */
#include <stddef.h>

#include "stats/stats.h"
#include "stats/stats_counters.h"

#define N_ROWS(t) (sizeof(t) / sizeof((t)[0]))

#define CL(key, field, w, tp, pp, tab, prom, type, help) \
        { key, offsetof(struct smx_stats_snapshot, field), w, tp, pp, tab, prom, type, help }

/* The client's totals; the table shows log_suppressed on a line of its own. */
const struct counter smx_stats_client_rows[] = {
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
const struct bind_counter smx_stats_bind_rows[] = {
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
const struct counter smx_stats_inbound_rows[] = {
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
const struct counter smx_stats_http_rows[] = {
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
        HT(rx_abandoned, CW_U64, 0, 12, NULL, "smsmux_http_receiver_abandoned_total", "counter",
           "HTTP receiver requests its close answered 503 itself, the store's answer not "
           "come in time (H4)."),
};

#define ST(field, tp, pp, tab, prom, type, help) \
        { #field, offsetof(struct rs_stats, field), CW_U64, tp, pp, tab, prom, type, help }

/* The shared store (docs/scale-out.md), when the client has one. */
const struct counter smx_stats_store_rows[] = {
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
        ST(read_connected, 18, 21, ", read connection ", "smsmux_store_read_connected", "gauge",
           "1 while the read connection (blocking XREADGROUP of this instance's stream) is up; "
           "0: the main connection polls the stream."),
        ST(read_connects, 0, 22, NULL, "smsmux_store_read_connects_total", "counter",
           "Read connections set up (over TLS each a handshake)."),
        ST(read_disconnects, 19, 23, ", read disconnects ",
           "smsmux_store_read_disconnects_total", "counter", "Read connections lost."),
        ST(reads, 0, 24, NULL, "smsmux_store_reads_total", "counter",
           "Blocking reads of this instance's stream sent (also in commands and round trips)."),
        ST(fence_renewed, 0, 25, NULL, "smsmux_store_fence_renewed_total", "counter",
           "DRs/MOs held back (lease run out: out of contact with Redis) and found still "
           "this instance's once back: shown."),
        ST(fence_dropped, 0, 26, NULL, "smsmux_store_fence_dropped_total", "counter",
           "DRs/MOs held back and found taken over by another instance once back in "
           "contact with Redis: not shown here (that instance shows them)."),
        ST(fence_redis_lost, 0, 27, NULL, "smsmux_store_fence_redis_lost_total", "counter",
           "DRs/MOs held here that Redis lost (restarted empty, flushed) and nobody else "
           "can have: shown here."),
        ST(redis_data_lost, 0, 28, NULL, "smsmux_store_redis_data_lost_total", "counter",
           "Times this instance found Redis holding a new data set (its generation marker "
           "made anew): Redis lost its data."),
        ST(fence_redis_rolled_back, 0, 29, NULL, "smsmux_store_fence_redis_rolled_back_total",
           "counter",
           "DRs/MOs held here whose read Redis may have lost in a rollback (restarted from an "
           "older snapshot, a lagging replica promoted) and nobody else can have: shown here."),
        ST(redis_rolled_back, 0, 30, NULL, "smsmux_store_redis_rolled_back_total", "counter",
           "Times this instance found Redis's data set rolled back: its epoch lower than "
           "what Redis had acknowledged (the generation marker kept)."),
};

const size_t smx_stats_n_client_rows = N_ROWS(smx_stats_client_rows);
const size_t smx_stats_n_bind_rows = N_ROWS(smx_stats_bind_rows);
const size_t smx_stats_n_inbound_rows = N_ROWS(smx_stats_inbound_rows);
const size_t smx_stats_n_http_rows = N_ROWS(smx_stats_http_rows);
const size_t smx_stats_n_store_rows = N_ROWS(smx_stats_store_rows);
