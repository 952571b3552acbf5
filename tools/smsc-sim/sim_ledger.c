/* The truth ledger: what the simulated service saw and did, and which rules
 * the client broke. Counters live in each SMSC (sim_counts); this file records
 * bind attempts with their spacing (R2), keeps the violation list, and writes
 * the summary JSON that tests assert on (never on logs).
 *
 * Violations: `rebind_spacing` (R2: two connection attempts to one SMSC closer
 * than the rebind interval), `accepted_while_killed` (R4), `handset_duplicate`
 * (R5: an MT reached the handset twice, only possible with service_dedup=0),
 * `deliver_unacked` (a deliver_sm never acknowledged: after all its sends, or
 * still unanswered at the final ledger). Engine thread (or under the lock). */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "sim_internal.h"

void sim_violation(struct smsc_sim *s, const char *rule, const char *kind, const char *smsc,
                   const char *fmt, ...)
{
        s->viol_total++;
        if (s->n_viol >= SIM_MAX_VIOL)
                return;
        struct sim_viol *v = &s->viol[s->n_viol++];
        snprintf(v->rule, sizeof(v->rule), "%s", rule);
        snprintf(v->kind, sizeof(v->kind), "%s", kind);
        snprintf(v->smsc, sizeof(v->smsc), "%s", smsc);
        v->t = (double)(sim_now_ns() - s->start_ns) / 1e9;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(v->detail, sizeof(v->detail), fmt, ap);
        va_end(ap);
}

void sim_ledger_attempt(struct smsc_sim *s, struct sim_smsc *m, uint64_t at_ns,
                        const char *peer)
{
        uint64_t now = sim_now_ns();
        struct sim_counts *c = &m->c;
        /* R2 is about when the client connected, not when this thread got
         * round to accept(): a busy engine takes a connection from the
         * backlog late, and the next one on time would look too close. */
        uint64_t at = at_ns < s->start_ns ? s->start_ns : at_ns > now ? now : at_ns;
        if (now - at > c->max_accept_lag_ns)
                c->max_accept_lag_ns = now - at;
        if (c->last_attempt_ns && at < c->last_attempt_ns)
                at = c->last_attempt_ns;        /* the backlog is in order; jiffies are coarse */
        c->recent_attempt_ns[c->bind_attempts % SIM_RECENT_ATTEMPTS] = at;
        c->bind_attempts++;
        if (c->last_attempt_ns) {
                uint64_t gap = at - c->last_attempt_ns;
                if (gap == 0)
                        gap = 1;        /* same kernel tick; min_spacing_ns 0 means none yet */
                if (!c->min_spacing_ns || gap < c->min_spacing_ns)
                        c->min_spacing_ns = gap;
                if (s->rebind_interval_s > 0 && (double)gap < s->rebind_interval_s * 1e9)
                        sim_violation(s, "R2", "rebind_spacing", m->name,
                                      "attempt %.3f s after the previous one (interval %g s) "
                                      "from %s after %s", (double)gap / 1e9,
                                      s->rebind_interval_s, peer, c->last_attempt_peer);
        } else {
                c->first_attempt_ns = at;
        }
        c->last_attempt_ns = at;
        snprintf(c->last_attempt_peer, sizeof(c->last_attempt_peer), "%s", peer);
}

/* A bounded JSON writer: keeps the length it would have written. */
struct jw {
        char *buf;
        size_t cap, len;
};

static void jw_printf(struct jw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void jw_printf(struct jw *w, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        size_t room = w->len < w->cap ? w->cap - w->len : 0;
        int n = vsnprintf(room ? w->buf + w->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n > 0)
                w->len += (size_t)n;
}

/* A JSON string from our own names/details (printable ASCII; escape anyway). */
static void jw_str(struct jw *w, const char *s)
{
        jw_printf(w, "\"");
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c == '"' || c == '\\')
                        jw_printf(w, "\\%c", c);
                else if (c < 0x20 || c >= 0x7f)
                        jw_printf(w, "\\u%04x", c);
                else
                        jw_printf(w, "%c", c);
        }
        jw_printf(w, "\"");
}

static const char *smsc_state(const struct sim_smsc *m)
{
        if (m->f.killed)
                return "killed";
        if (m->f.stalled)
                return "stalled";
        return "up";
}

static void counts_json(struct jw *w, const struct sim_counts *c, uint64_t unacked)
{
        jw_printf(w,
                  "\"submit_sm_received\":%llu,\"submit_sm_accepted\":%llu,\"submit_sm_rejected\":%llu,"
                  "\"submit_sm_unanswered\":%llu,\"resp_dropped\":%llu,\"service_duplicates\":%llu,"
                  "\"handset_delivered\":%llu,\"handset_duplicates\":%llu,\"accepted_while_killed\":%llu,"
                  "\"deliver_sm_sent\":%llu,\"deliver_sm_acked\":%llu,\"deliver_sm_nacked\":%llu,"
                  "\"deliver_sm_resent\":%llu,\"deliver_sm_unacked\":%llu,\"dr_sent\":%llu,\"mo_sent\":%llu,"
                  "\"bind_attempts\":%llu,\"bind_pdus\":%llu,\"binds_ok\":%llu,\"binds_refused\":%llu,"
                  "\"unbinds\":%llu,\"enquire_links\":%llu,\"other_pdus\":%llu,\"generic_nacks_sent\":%llu,"
                  "\"hostile_sent\":%llu,\"enquire_links_sent\":%llu,\"dr_handed_off\":%llu,"
                  "\"tls_handshakes\":%llu,\"tls_resumed\":%llu,\"tls_failed\":%llu,"
                  "\"tls_close_notify\":%llu,\"resp_delayed\":%llu,\"resp_delay_ms_total\":%.3f,"
                  "\"resp_delay_ms_max\":%.3f",
                  (unsigned long long)c->submit_received, (unsigned long long)c->submit_accepted,
                  (unsigned long long)c->submit_rejected, (unsigned long long)c->submit_unanswered,
                  (unsigned long long)c->resp_dropped, (unsigned long long)c->service_duplicates,
                  (unsigned long long)c->handset_delivered, (unsigned long long)c->handset_duplicates,
                  (unsigned long long)c->accepted_while_killed, (unsigned long long)c->deliver_sent,
                  (unsigned long long)c->deliver_acked, (unsigned long long)c->deliver_nacked,
                  (unsigned long long)c->deliver_resent, (unsigned long long)unacked,
                  (unsigned long long)c->dr_sent, (unsigned long long)c->mo_sent,
                  (unsigned long long)c->bind_attempts, (unsigned long long)c->bind_pdus,
                  (unsigned long long)c->binds_ok, (unsigned long long)c->binds_refused,
                  (unsigned long long)c->unbinds, (unsigned long long)c->enquire_links,
                  (unsigned long long)c->other_pdus, (unsigned long long)c->generic_nacks_sent,
                  (unsigned long long)c->hostile_sent, (unsigned long long)c->enquire_links_sent,
                  (unsigned long long)c->dr_handed_off, (unsigned long long)c->tls_handshakes,
                  (unsigned long long)c->tls_resumed, (unsigned long long)c->tls_failed,
                  (unsigned long long)c->tls_close_notify, (unsigned long long)c->resp_delayed,
                  (double)c->resp_delay_us_total / 1e3, (double)c->resp_delay_us_max / 1e3);
        /* the drop-resp fault by kind (sim_drop.c), kinds never dropped left out */
        jw_printf(w, ",\"resp_dropped_by\":{");
        int first = 1;
        for (int k = 0; k < SIM_DROP_KINDS; k++) {
                if (!c->resp_dropped_kind[k])
                        continue;
                jw_printf(w, "%s\"%s\":%llu", first ? "" : ",", sim_drop_kind_name(k),
                          (unsigned long long)c->resp_dropped_kind[k]);
                first = 0;
        }
        jw_printf(w, "}");
}

static void add_counts(struct sim_counts *t, const struct sim_counts *c)
{
        t->submit_received += c->submit_received;
        t->submit_accepted += c->submit_accepted;
        t->submit_rejected += c->submit_rejected;
        t->submit_unanswered += c->submit_unanswered;
        t->resp_dropped += c->resp_dropped;
        t->service_duplicates += c->service_duplicates;
        t->handset_delivered += c->handset_delivered;
        t->handset_duplicates += c->handset_duplicates;
        t->accepted_while_killed += c->accepted_while_killed;
        t->deliver_sent += c->deliver_sent;
        t->deliver_acked += c->deliver_acked;
        t->deliver_nacked += c->deliver_nacked;
        t->deliver_resent += c->deliver_resent;
        t->dr_sent += c->dr_sent;
        t->mo_sent += c->mo_sent;
        t->bind_attempts += c->bind_attempts;
        t->bind_pdus += c->bind_pdus;
        t->binds_ok += c->binds_ok;
        t->binds_refused += c->binds_refused;
        t->unbinds += c->unbinds;
        t->enquire_links += c->enquire_links;
        t->other_pdus += c->other_pdus;
        t->generic_nacks_sent += c->generic_nacks_sent;
        t->hostile_sent += c->hostile_sent;
        t->enquire_links_sent += c->enquire_links_sent;
        t->dr_handed_off += c->dr_handed_off;
        t->tls_handshakes += c->tls_handshakes;
        t->tls_resumed += c->tls_resumed;
        t->tls_failed += c->tls_failed;
        t->tls_close_notify += c->tls_close_notify;
        for (int k = 0; k < SIM_DROP_KINDS; k++)
                t->resp_dropped_kind[k] += c->resp_dropped_kind[k];
        if (c->min_spacing_ns && (!t->min_spacing_ns || c->min_spacing_ns < t->min_spacing_ns))
                t->min_spacing_ns = c->min_spacing_ns;
        if (c->max_accept_lag_ns > t->max_accept_lag_ns)
                t->max_accept_lag_ns = c->max_accept_lag_ns;
        t->resp_delayed += c->resp_delayed;
        t->resp_delay_us_total += c->resp_delay_us_total;
        if (c->resp_delay_us_max > t->resp_delay_us_max)
                t->resp_delay_us_max = c->resp_delay_us_max;
}

static void spacing_json(struct jw *w, const struct sim_counts *c)
{
        if (c->min_spacing_ns)
                jw_printf(w, ",\"min_attempt_spacing_s\":%.3f", (double)c->min_spacing_ns / 1e9);
        else
                jw_printf(w, ",\"min_attempt_spacing_s\":null");
        jw_printf(w, ",\"max_accept_lag_s\":%.3f", (double)c->max_accept_lag_ns / 1e9);
}

int sim_ledger_json(struct smsc_sim *s, char *buf, size_t cap, int final)
{
        if (!buf || cap == 0)
                return -EINVAL;
        struct jw w = { buf, cap, 0 };
        uint64_t unacked[SIM_MAX_SMSCS];
        memset(unacked, 0, sizeof(unacked));
        uint64_t unacked_total = 0;
        for (size_t i = 0; i < s->n_dlv; i++) {
                const struct sim_dlv *d = &s->dlv[i];
                if (d->acked || !d->sends)
                        continue;
                if (d->exhausted || final) {
                        int at = d->last_smsc >= 0 ? d->last_smsc : d->origin_smsc;
                        unacked[at]++;
                        unacked_total++;
                }
        }
        struct sim_counts tot;
        memset(&tot, 0, sizeof(tot));
        jw_printf(&w, "{\"elapsed_s\":%.3f,\"final\":%s,\"rebind_interval_s\":%g,\"smscs\":[",
                  (double)(sim_now_ns() - s->start_ns) / 1e9, final ? "true" : "false",
                  s->rebind_interval_s);
        for (int i = 0; i < s->n_smsc; i++) {
                const struct sim_smsc *m = &s->smsc[i];
                jw_printf(&w, "%s{\"name\":", i ? "," : "");
                jw_str(&w, m->name);
                jw_printf(&w, ",\"site\":");
                jw_str(&w, m->site);
                jw_printf(&w, ",\"port\":%u,\"state\":\"%s\",", m->port, smsc_state(m));
                counts_json(&w, &m->c, unacked[i]);
                spacing_json(&w, &m->c);
                /* the last attempts, oldest first, seconds since start */
                jw_printf(&w, ",\"recent_attempts_s\":[");
                uint64_t na = m->c.bind_attempts, first = na > SIM_RECENT_ATTEMPTS ? na - SIM_RECENT_ATTEMPTS : 0;
                for (uint64_t a = first; a < na; a++)
                        jw_printf(&w, "%s%.3f", a == first ? "" : ",",
                                  (double)(m->c.recent_attempt_ns[a % SIM_RECENT_ATTEMPTS] - s->start_ns) / 1e9);
                jw_printf(&w, "]}");
                add_counts(&tot, &m->c);
        }
        jw_printf(&w, "],\"totals\":{");
        counts_json(&w, &tot, unacked_total);
        spacing_json(&w, &tot);
        jw_printf(&w, "},\"handset\":{\"delivered\":%llu,\"duplicates\":%llu,\"service_duplicates\":%llu}",
                  (unsigned long long)tot.handset_delivered, (unsigned long long)tot.handset_duplicates,
                  (unsigned long long)tot.service_duplicates);
        jw_printf(&w, ",\"mt_records\":{\"kept\":%zu,\"max\":%zu,\"evicted\":%llu,\"with_identity\":%zu}",
                  s->n_anon, s->mt_records_max, (unsigned long long)s->mt_records_evicted, s->n_mts);
        jw_printf(&w, ",\"violations\":[");
        int first = 1;
        for (size_t i = 0; i < s->n_viol; i++) {
                const struct sim_viol *v = &s->viol[i];
                jw_printf(&w, "%s{\"rule\":", first ? "" : ",");
                first = 0;
                jw_str(&w, v->rule);
                jw_printf(&w, ",\"kind\":");
                jw_str(&w, v->kind);
                jw_printf(&w, ",\"smsc\":");
                jw_str(&w, v->smsc);
                jw_printf(&w, ",\"t\":%.3f,\"detail\":", v->t);
                jw_str(&w, v->detail);
                jw_printf(&w, "}");
        }
        for (int i = 0; i < s->n_smsc; i++) {
                if (!unacked[i])
                        continue;
                jw_printf(&w, "%s{\"rule\":\"R5\",\"kind\":\"deliver_unacked\",\"smsc\":", first ? "" : ",");
                first = 0;
                jw_str(&w, s->smsc[i].name);
                jw_printf(&w, ",\"count\":%llu,\"detail\":\"deliver_sm never acknowledged\"}",
                          (unsigned long long)unacked[i]);
        }
        uint64_t n_unacked_viol = 0;
        for (int i = 0; i < s->n_smsc; i++)
                n_unacked_viol += unacked[i] ? 1 : 0;
        jw_printf(&w, "],\"violation_count\":%llu,\"violations_truncated\":%s}",
                  (unsigned long long)(s->viol_total + n_unacked_viol),
                  s->viol_total > s->n_viol ? "true" : "false");
        if (w.len >= cap) {
                buf[cap - 1] = 0;
                return (int)(cap - 1);
        }
        return (int)w.len;
}

/* One MT record of the `mts` listing; 0, or -1 when it would not fit. */
static int mt_json(struct jw *w, const struct smsc_sim *s, const struct sim_mt *mt, int comma)
{
        size_t before = w->len;
        jw_printf(w, "%s{\"message_id\":", comma ? "," : "");
        jw_str(w, mt->msgid);
        jw_printf(w, ",\"smsc\":");
        jw_str(w, s->smsc[mt->smsc].name);
        jw_printf(w, ",\"identity\":\"");
        for (size_t k = 0; k < mt->id_len; k++)
                jw_printf(w, "%02x", mt->identity[k]);
        jw_printf(w, "\",\"segment\":%u,\"resubmits\":%u,\"t\":%.3f}", mt->segment, mt->resubmits,
                  (double)(mt->submit_ns - s->start_ns) / 1e9);
        if (w->len + 64 >= w->cap) {
                w->len = before;
                return -1;
        }
        return 0;
}

/* Every MT the service keeps a record of: those with an identity TLV, then
 * the last mt_records_max with a DR to send and no identity (oldest first;
 * `evicted` counts those that left): message_id, SMSC, identity (hex),
 * segment, re-submissions, time since start. Lets a test check the handset
 * view MT by MT. */
int sim_ledger_mts_json(struct smsc_sim *s, char *buf, size_t cap)
{
        if (!buf || cap == 0)
                return -EINVAL;
        struct jw w = { buf, cap, 0 };
        size_t total = s->n_mts + s->n_anon, shown = 0;
        jw_printf(&w, "{\"count\":%zu,\"evicted\":%llu,\"mts\":[", total,
                  (unsigned long long)s->mt_records_evicted);
        for (size_t i = 0; i < total; i++) {
                const struct sim_mt *mt = i < s->n_mts ? s->mts[i] : sim_mt_anon_at(s, i - s->n_mts);
                if (mt_json(&w, s, mt, shown > 0) < 0)
                        break;
                shown++;
        }
        jw_printf(&w, "],\"truncated\":%s}", shown < total ? "true" : "false");
        if (w.len >= cap) {
                buf[cap - 1] = 0;
                return (int)(cap - 1);
        }
        return (int)w.len;
}
