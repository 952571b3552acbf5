/* What the service sends on its own: delivery receipts for MTs that asked
 * for them, MOs (single and multipart, UDH or SAR, possibly out of order),
 * and re-sends of any deliver_sm whose deliver_sm_resp did not come in time,
 * on another bind, as the real service does (R3, R5).
 *
 * Every deliver_sm is a `struct sim_dlv` (the encoded PDU, its sequence number
 * patched per send). It goes to a bound receiver session of its SMSC, or of an
 * SMSC at another site with the other_site_prob knob, or waits in `pending`
 * while no receiver is bound. Engine thread only. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim_internal.h"

#define DLV_RETRY_NS 100000000ull

static const char *state_text(uint8_t st)
{
        static const char *t[] = { "SCHEDLD", "ENROUTE", "DELIVRD", "EXPIRED", "DELETED",
                                   "UNDELIV", "ACCEPTD", "UNKNOWN", "REJECTD", "SKIPPED" };
        return st < 10 ? t[st] : "UNKNOWN";
}

static uint8_t draw_final(struct smsc_sim *s, const struct sim_knobs *k)
{
        uint64_t total = 0;
        for (int i = 0; i < 10; i++)
                total += k->final_weight[i];
        if (!total)
                return SMPP_STATE_DELIVERED;
        double x = sim_rand(s) * (double)total;
        for (int i = 0; i < 10; i++) {
                if (x < (double)k->final_weight[i])
                        return (uint8_t)i;
                x -= (double)k->final_weight[i];
        }
        return SMPP_STATE_DELIVERED;
}

static void dr_send(struct smsc_sim *s, struct sim_mt *mt, uint8_t st);

/* A DR of mt now, or at `at` by a timer that holds mt (sim_mts.c). */
static void dr_at(struct smsc_sim *s, struct sim_mt *mt, int now, uint64_t at, uint8_t st)
{
        if (now) {
                dr_send(s, mt, st);
                return;
        }
        size_t before = s->n_timers;
        sim_timer_add(s, at, SIM_T_DR, 0, mt, st);
        if (s->n_timers > before)
                mt->dr_pending++;
}

void sim_dr_schedule(struct smsc_sim *s, struct sim_mt *mt, int before_resp, uint8_t regdel)
{
        const struct sim_knobs *k = &s->smsc[mt->smsc].k;
        uint8_t final = draw_final(s, k);
        int want_final = regdel == SMPP_REGDEL_FINAL ||
                         (regdel == SMPP_REGDEL_FAILURE && final != SMPP_STATE_DELIVERED);
        int accepted = regdel == SMPP_REGDEL_FINAL && k->dr_accepted_prob > 0 &&
                       sim_rand(s) < k->dr_accepted_prob;
        uint64_t now = sim_now_ns();
        uint64_t t1 = before_resp ? now : now + (uint64_t)(sim_range_draw(s, &k->dr_delay_ms) * 1e6);
        if (accepted) {
                dr_at(s, mt, before_resp, t1, SMPP_STATE_ACCEPTED);
                before_resp = 0;
                t1 += (uint64_t)(sim_range_draw(s, &k->dr_delay_ms) * 1e6);
        }
        if (want_final)
                dr_at(s, mt, before_resp, t1, final);
}

/* YYMMDDhhmm (UTC) of a monotonic instant at or before `now_mono`; the
 * last minute formatted is cached (DRs come in bursts). */
static void fmt_date(struct smsc_sim *s, char *out, uint64_t mono_ns, uint64_t now_mono, time_t now_wall)
{
        uint64_t back = now_mono > mono_ns ? now_mono - mono_ns : 0;
        time_t t = now_wall - (time_t)(back / 1000000000ull);
        if (t / 60 != s->date_min || !s->date_str[0]) {
                struct tm tm;
                gmtime_r(&t, &tm);
                strftime(s->date_str, sizeof(s->date_str), "%y%m%d%H%M", &tm);
                s->date_min = t / 60;
        }
        memcpy(out, s->date_str, sizeof(s->date_str));
}

void sim_on_timer_dr(struct smsc_sim *s, struct sim_timer *t)
{
        struct sim_mt *mt = t->p;
        dr_send(s, mt, (uint8_t)t->a);
        sim_mt_dr_done(mt);
}

/* Build the DR deliver_sm for `mt` in state `st`, with the Appendix-B text
 * whose id is the carrier's (not the message_id: R6). The MT's SMSC writes
 * the message_id in its dr_msgid_style (default: as in the resp), in the
 * receipted_message_id TLV, or with dr_msgid_in = text only as the text's
 * id: (no TLV). */
static void dr_send(struct smsc_sim *s, struct sim_mt *mt, uint8_t st)
{
        struct sim_smsc *m = &s->smsc[mt->smsc];
        if (s->dr_hook && s->dr_hook(s->dr_hook_arg, mt->msgid, st) == 1) {
                m->c.dr_handed_off++;
                return;
        }
        uint64_t now = sim_now_ns();
        time_t wall = time(NULL);
        char sub[11], done[11], text[200];
        fmt_date(s, sub, mt->submit_ns, now, wall);
        fmt_date(s, done, now, now, wall);
        /* a carrier id: stable per MT, unrelated to the message_id */
        uint64_t carrier = 0;
        for (const char *c = mt->msgid; *c; c++)
                carrier = carrier * 131 + (uint8_t)*c;
        carrier %= 10000000000ull;
        char dr_id[SMPP_MESSAGE_ID_MAX + 32];
        if (m->k.dr_msgid_style == SIM_MSGID_SAME || !mt->msgid_serial)
                snprintf(dr_id, sizeof(dr_id), "%s", mt->msgid);
        else
                sim_msgid_format_style((enum sim_msgid_style)m->k.dr_msgid_style,
                                       m->k.msgid_width, mt->msgid_serial, dr_id);
        char text_id[SMPP_MESSAGE_ID_MAX + 32];
        if (m->k.dr_msgid_text)
                snprintf(text_id, sizeof(text_id), "%s", dr_id);
        else
                snprintf(text_id, sizeof(text_id), "%010llu", (unsigned long long)carrier);
        int n = snprintf(text, sizeof(text),
                         "id:%s sub:001 dlvrd:%s submit date:%s done date:%s stat:%s err:%s text:%s",
                         text_id, st == SMPP_STATE_DELIVERED ? "001" : "000", sub,
                         done, state_text(st),
                         (st == SMPP_STATE_DELIVERED || st == SMPP_STATE_ACCEPTED ||
                          st == SMPP_STATE_ENROUTE) ? "000" : "001", mt->text20);
        if (n < 0)
                return;
        if ((size_t)n >= sizeof(text))
                n = sizeof(text) - 1;
        struct smx_pdu p;
        memset(&p, 0, sizeof(p));
        p.h.command_id = SMPP_DELIVER_SM;
        p.h.sequence_number = 1;
        p.u.sm.source_addr.p = (const uint8_t *)mt->dst;
        p.u.sm.source_addr.len = (uint16_t)strlen(mt->dst);
        p.u.sm.destination_addr.p = (const uint8_t *)mt->src;
        p.u.sm.destination_addr.len = (uint16_t)strlen(mt->src);
        p.u.sm.esm_class = st == SMPP_STATE_ENROUTE ? SMPP_ESM_TYPE_INTERMEDIATE : SMPP_ESM_TYPE_SMSC_DR;
        p.u.sm.data_coding = SMPP_DCS_DEFAULT;
        p.u.sm.short_message.p = (const uint8_t *)text;
        p.u.sm.short_message.len = (uint16_t)n;
        p.tlv.present = SMX_TLV_MESSAGE_STATE;
        if (!m->k.dr_msgid_text) {
                p.tlv.present |= SMX_TLV_RECEIPTED_MESSAGE_ID;
                p.tlv.receipted_message_id.p = (const uint8_t *)dr_id;
                p.tlv.receipted_message_id.len = (uint16_t)strlen(dr_id);
        }
        p.tlv.message_state = st;
        uint8_t buf[512];
        ssize_t len = smx_pdu_encode(buf, sizeof(buf), &p, NULL, 0);
        if (len <= 0)
                return;
        uint8_t *copy = malloc((size_t)len);
        if (!copy)
                return;
        memcpy(copy, buf, (size_t)len);
        m->c.dr_sent++;
        size_t idx = sim_dlv_add(s, m->index, 1, copy, (size_t)len);
        if (idx != (size_t)-1)
                sim_dlv_try_send(s, idx);
}

int sim_dr_inject(struct smsc_sim *s, struct sim_smsc *m, const char *msgid, uint8_t st)
{
        struct sim_mt mt;
        memset(&mt, 0, sizeof(mt));
        if (strlen(msgid) >= sizeof(mt.msgid))
                return -EINVAL;
        snprintf(mt.msgid, sizeof(mt.msgid), "%s", msgid);
        mt.smsc = m->index;
        mt.submit_ns = sim_now_ns();
        snprintf(mt.src, sizeof(mt.src), "12345");
        snprintf(mt.dst, sizeof(mt.dst), "447700900000");
        snprintf(mt.text20, sizeof(mt.text20), "injected");
        uint64_t before = m->c.dr_sent;
        dr_send(s, &mt, st);
        return m->c.dr_sent > before || m->c.dr_handed_off ? 0 : -ENOMEM;
}

size_t sim_dlv_add(struct smsc_sim *s, int origin, int is_dr, uint8_t *pdu, size_t len)
{
        if (s->n_dlv == s->cap_dlv) {
                size_t nc = s->cap_dlv ? s->cap_dlv * 2 : 1024;
                struct sim_dlv *nd = realloc(s->dlv, nc * sizeof(*nd));
                if (!nd) {
                        free(pdu);
                        return (size_t)-1;
                }
                s->dlv = nd;
                s->cap_dlv = nc;
        }
        struct sim_dlv *d = &s->dlv[s->n_dlv];
        memset(d, 0, sizeof(*d));
        d->pdu = pdu;
        d->len = len;
        d->origin_smsc = origin;
        d->is_dr = (uint8_t)is_dr;
        d->last_smsc = -1;
        return s->n_dlv++;
}

static void pending_push(struct smsc_sim *s, size_t idx)
{
        if (s->n_pending == s->cap_pending) {
                size_t nc = s->cap_pending ? s->cap_pending * 2 : 256;
                size_t *np = realloc(s->pending, nc * sizeof(*np));
                if (!np)
                        return;
                s->pending = np;
                s->cap_pending = nc;
        }
        s->pending[s->n_pending++] = idx;
        if (!s->dlv_retry_armed) {
                s->dlv_retry_armed = 1;
                sim_timer_add(s, sim_now_ns() + DLV_RETRY_NS, SIM_T_DLV_RETRY, 0, NULL, 0);
        }
}

/* A session that can carry a deliver_sm now: bound as receiver, its SMSC
 * neither killed nor stalled. */
static int usable(struct smsc_sim *s, const struct sim_sess *ss)
{
        const struct sim_smsc *m = &s->smsc[ss->smsc];
        return ss->fd >= 0 && sim_session_is_receiver(ss) && !m->f.killed && !m->f.stalled;
}

/* Pick a receiver session for a deliver_sm produced at SMSC `origin`:
 * another site's bind with other_site_prob, else one of origin's binds, else
 * any bind at all. `avoid` (a session id) is skipped when there is a choice. */
static struct sim_sess *pick_session(struct smsc_sim *s, int origin, uint64_t avoid)
{
        const struct sim_smsc *om = &s->smsc[origin];
        int want_other = om->k.other_site_prob > 0 && sim_rand(s) < om->k.other_site_prob;
        int cand[64];
        for (int pass = 0; pass < 4; pass++) {
                int n = 0;
                for (int i = 0; i < s->n_rx && n < 64; i++) {
                        struct sim_sess *ss = &s->sess[s->rx[i]];
                        if (!usable(s, ss))
                                continue;
                        int same_smsc = ss->smsc == origin;
                        int other_site = s->smsc[ss->smsc].site_index != om->site_index;
                        if (pass == 0 && !(want_other ? other_site : same_smsc))
                                continue;
                        if (pass == 1 && !same_smsc)
                                continue;
                        if (pass < 3 && ss->id == avoid)
                                continue;
                        cand[n++] = s->rx[i];
                }
                if (n)
                        return &s->sess[cand[(int)(sim_rand(s) * n) % n]];
        }
        return NULL;
}

/* The in-flight table of a session is a ring indexed by our sequence
 * number: seqs are handed out one by one, so live entries never collide
 * until more than cap_fl are outstanding, and then the ring doubles. */
static int fl_grow(struct sim_sess *ss)
{
        size_t nc = ss->cap_fl ? ss->cap_fl * 2 : 64;
        for (;;) {
                struct sim_fl *n = calloc(nc, sizeof(*n));
                if (!n)
                        return -ENOMEM;
                int clash = 0;
                for (size_t i = 0; i < ss->cap_fl && !clash; i++) {
                        if (!ss->fl[i].used)
                                continue;
                        struct sim_fl *d = &n[ss->fl[i].seq & (nc - 1)];
                        if (d->used)
                                clash = 1;
                        else
                                *d = ss->fl[i];
                }
                if (!clash) {
                        free(ss->fl);
                        ss->fl = n;
                        ss->cap_fl = nc;
                        return 0;
                }
                free(n);
                nc *= 2;
        }
}

static int fl_add(struct sim_sess *ss, uint32_t seq, size_t idx)
{
        for (;;) {
                if (ss->cap_fl) {
                        struct sim_fl *f = &ss->fl[seq & (ss->cap_fl - 1)];
                        if (!f->used) {
                                f->seq = seq;
                                f->idx = idx;
                                f->used = 1;
                                ss->n_fl++;
                                return 0;
                        }
                }
                if (fl_grow(ss) < 0)
                        return -ENOMEM;
        }
}

static int fl_take(struct sim_sess *ss, uint32_t seq, size_t *idx)
{
        if (!ss->cap_fl)
                return 0;
        struct sim_fl *f = &ss->fl[seq & (ss->cap_fl - 1)];
        if (!f->used || f->seq != seq)
                return 0;
        *idx = f->idx;
        f->used = 0;
        ss->n_fl--;
        return 1;
}

static void dq_arm(struct smsc_sim *s)
{
        if (s->dlv_check_armed)
                return;
        s->dlv_check_armed = 1;
        sim_timer_add(s, sim_now_ns() + 50000000ull, SIM_T_DLV_CHECK, 0, NULL, 0);
}

static void dq_push(struct smsc_sim *s, struct sim_smsc *m, size_t idx, uint32_t sends)
{
        if (m->dq_len == m->dq_cap) {
                size_t nc = m->dq_cap ? m->dq_cap * 2 : 1024;
                struct sim_dq_ent *n = malloc(nc * sizeof(*n));
                if (!n)
                        return;     /* not watched: it waits for its resp or a session close */
                for (size_t i = 0; i < m->dq_len; i++)
                        n[i] = m->dq[(m->dq_head + i) % m->dq_cap];
                free(m->dq);
                m->dq = n;
                m->dq_cap = nc;
                m->dq_head = 0;
        }
        m->dq[(m->dq_head + m->dq_len) % m->dq_cap] = (struct sim_dq_ent){ idx, sends };
        m->dq_len++;
        dq_arm(s);
}

void sim_dlv_try_send(struct smsc_sim *s, size_t idx)
{
        struct sim_dlv *d = &s->dlv[idx];
        if (d->acked || d->exhausted || d->in_flight)
                return;
        struct sim_sess *ss = pick_session(s, d->origin_smsc, d->sess_id);
        if (!ss) {
                pending_push(s, idx);
                return;
        }
        struct sim_smsc *m = &s->smsc[ss->smsc];
        uint32_t seq = ss->seq++;
        if (ss->seq > SMPP_SEQ_MAX)
                ss->seq = SMPP_SEQ_MIN;
        smx_put_u32(d->pdu + 12, seq);
        if (sim_out_append(s, ss, d->pdu, d->len) < 0) {
                pending_push(s, idx);
                return;
        }
        uint64_t now = sim_now_ns();
        d->in_flight = 1;
        d->seq = seq;
        d->sess_id = ss->id;
        d->sends++;
        d->last_smsc = m->index;
        if (!d->first_sent_ns)
                d->first_sent_ns = now;
        m->c.deliver_sent++;
        if (d->sends > 1)
                m->c.deliver_resent++;
        /* without memory for the table the resp is not matched, and the
         * check timer re-sends it: a duplicate, never a loss */
        (void)fl_add(ss, seq, idx);
        const struct sim_knobs *k = &s->smsc[d->origin_smsc].k;
        d->deadline_ns = now + (uint64_t)k->deliver_timeout_ms * 1000000ull;
        dq_push(s, &s->smsc[d->origin_smsc], idx, d->sends);
}

static int status_is_transient(uint32_t st)
{
        return st == SMPP_ESME_RX_T_APPN || st == SMPP_ESME_RSYSERR || st == SMPP_ESME_RMSGQFUL ||
               st == SMPP_ESME_RTHROTTLED || st == SMPP_ESME_RINVBNDSTS;
}

void sim_on_deliver_resp(struct smsc_sim *s, struct sim_sess *ss, uint32_t seq, uint32_t status)
{
        size_t idx;
        if (!fl_take(ss, seq, &idx))
                return;   /* late (already timed out and re-sent) or unknown */
        struct sim_dlv *d = &s->dlv[idx];
        struct sim_smsc *m = &s->smsc[ss->smsc];
        d->in_flight = 0;
        if (status == SMPP_ESME_ROK) {
                d->acked = 1;
                m->c.deliver_acked++;
                free(d->pdu);       /* never sent again */
                d->pdu = NULL;
                return;
        }
        m->c.deliver_nacked++;
        if (!status_is_transient(status)) {
                d->acked = 1;   /* a permanent answer is an answer */
                return;
        }
        if (d->sends >= s->smsc[d->origin_smsc].k.deliver_max_sends) {
                d->exhausted = 1;
                return;
        }
        pending_push(s, idx);
}

/* Deliveries whose deliver_sm_resp is overdue go out again on another
 * bind (or are given up after deliver_max_sends). Each SMSC's queue is in
 * send order with one timeout, so the sweep stops at the first live entry
 * not yet due; entries already answered or re-sent are dropped on the way. */
void sim_on_timer_dlv_check(struct smsc_sim *s)
{
        s->dlv_check_armed = 0;
        uint64_t now = sim_now_ns();
        int again = 0;
        for (int i = 0; i < s->n_smsc; i++) {
                struct sim_smsc *m = &s->smsc[i];
                while (m->dq_len) {
                        struct sim_dq_ent e = m->dq[m->dq_head];
                        struct sim_dlv *d = &s->dlv[e.idx];
                        int live = d->in_flight && d->sends == e.sends && !d->acked;
                        if (live && d->deadline_ns > now)
                                break;
                        m->dq_head = (m->dq_head + 1) % m->dq_cap;
                        m->dq_len--;
                        if (!live)
                                continue;
                        struct sim_sess *ss = sim_sess_by_id(s, d->sess_id);
                        size_t got;
                        if (ss)
                                fl_take(ss, d->seq, &got);
                        d->in_flight = 0;
                        if (d->sends >= m->k.deliver_max_sends) {
                                d->exhausted = 1;
                                continue;
                        }
                        sim_dlv_try_send(s, e.idx);
                }
                if (m->dq_len)
                        again = 1;
        }
        if (again)
                dq_arm(s);
}

void sim_on_timer_dlv_retry(struct smsc_sim *s)
{
        s->dlv_retry_armed = 0;
        size_t n = s->n_pending;
        if (!n)
                return;
        size_t *list = s->pending;
        s->pending = NULL;
        s->n_pending = s->cap_pending = 0;
        for (size_t i = 0; i < n; i++)
                sim_dlv_try_send(s, list[i]);
        free(list);
}

void sim_on_sess_closed(struct smsc_sim *s, struct sim_sess *ss)
{
        if (ss->rx_pos >= 0) {
                int last = s->rx[--s->n_rx];
                s->rx[ss->rx_pos] = last;
                s->sess[last].rx_pos = ss->rx_pos;
                ss->rx_pos = -1;
        }
        /* what was in flight here goes out again on another bind */
        for (size_t i = 0; i < ss->cap_fl && ss->n_fl; i++) {
                if (!ss->fl[i].used)
                        continue;
                ss->fl[i].used = 0;
                ss->n_fl--;
                size_t idx = ss->fl[i].idx;
                struct sim_dlv *d = &s->dlv[idx];
                d->in_flight = 0;
                if (d->sends >= s->smsc[d->origin_smsc].k.deliver_max_sends)
                        d->exhausted = 1;
                else
                        pending_push(s, idx);
        }
}

/* ---- MOs ---- */

void sim_mo_arm(struct smsc_sim *s, struct sim_smsc *m)
{
        if (m->mo_armed || m->k.mo_rate <= 0)
                return;
        m->mo_armed = 1;
        double gap = 1e9 / m->k.mo_rate;
        sim_timer_add(s, sim_now_ns() + (uint64_t)gap, SIM_T_MO, 0, NULL, (uint64_t)m->index);
}

void sim_on_timer_mo(struct smsc_sim *s, struct sim_timer *t)
{
        struct sim_smsc *m = &s->smsc[t->a];
        m->mo_armed = 0;
        if (m->k.mo_rate <= 0)
                return;
        if (!m->f.killed && !m->f.stalled)
                sim_mo_generate(s, m, 0);
        sim_mo_arm(s, m);
}

int sim_mo_generate(struct smsc_sim *s, struct sim_smsc *m, unsigned parts)
{
        return sim_mo_generate_some(s, m, parts, 0);
}

int sim_mo_generate_some(struct smsc_sim *s, struct sim_smsc *m, unsigned parts, unsigned send)
{
        const struct sim_knobs *k = &m->k;
        if (parts == 0)
                parts = (k->mo_multipart_prob > 0 && sim_rand(s) < k->mo_multipart_prob)
                        ? 2 + (unsigned)(sim_rand(s) * 2) : 1;
        if (parts > 255)
                parts = 255;
        uint64_t serial = ++m->mo_serial;
        char from[32];
        snprintf(from, sizeof(from), "%s%04u", k->mo_from, (unsigned)(serial % 10000));
        int sar = parts > 1 && k->mo_sar_prob > 0 && sim_rand(s) < k->mo_sar_prob;
        int reverse = parts > 1 && k->mo_out_of_order_prob > 0 && sim_rand(s) < k->mo_out_of_order_prob;
        int udh16 = parts > 1 && !sar && k->mo_udh16_prob > 0 && sim_rand(s) < k->mo_udh16_prob;
        uint16_t ref = (uint16_t)(++s->mo_ref & 0xFF);
        if (sar || udh16)
                ref = (uint16_t)(s->mo_ref & 0xFFFF);
        size_t first = s->n_dlv;
        for (unsigned part = 1; part <= parts; part++) {
                char txt[200];
                int tn;
                if (parts == 1 && k->mo_text[0])
                        tn = snprintf(txt, sizeof(txt), "%s", k->mo_text);
                else if (parts == 1)
                        tn = snprintf(txt, sizeof(txt), "MO %llu from %s", (unsigned long long)serial, m->name);
                else
                        tn = snprintf(txt, sizeof(txt), "[MO %llu part %u/%u from %s] %s",
                                      (unsigned long long)serial, part, parts, m->name, k->mo_text);
                if (tn < 0)
                        return -EINVAL;
                if ((size_t)tn >= sizeof(txt))
                        tn = (int)sizeof(txt) - 1;
                uint8_t sm[SMPP_SHORT_MESSAGE_MAX];
                size_t sl = 0;
                struct smx_pdu p;
                memset(&p, 0, sizeof(p));
                p.h.command_id = SMPP_DELIVER_SM;
                p.h.sequence_number = 1;
                if (udh16) {
                        sm[sl++] = 6;
                        sm[sl++] = 0x08;
                        sm[sl++] = 4;
                        sm[sl++] = (uint8_t)(ref >> 8);
                        sm[sl++] = (uint8_t)ref;
                        sm[sl++] = (uint8_t)parts;
                        sm[sl++] = (uint8_t)part;
                        p.u.sm.esm_class = SMPP_ESM_UDHI;
                } else if (parts > 1 && !sar) {
                        sm[sl++] = 5;
                        sm[sl++] = 0x00;
                        sm[sl++] = 3;
                        sm[sl++] = (uint8_t)ref;
                        sm[sl++] = (uint8_t)parts;
                        sm[sl++] = (uint8_t)part;
                        p.u.sm.esm_class = SMPP_ESM_UDHI;
                } else if (parts > 1) {
                        p.tlv.present = SMX_TLV_SAR_MSG_REF_NUM | SMX_TLV_SAR_TOTAL_SEGMENTS |
                                        SMX_TLV_SAR_SEGMENT_SEQNUM;
                        p.tlv.sar_msg_ref_num = ref;
                        p.tlv.sar_total_segments = (uint8_t)parts;
                        p.tlv.sar_segment_seqnum = (uint8_t)part;
                }
                sl += sim_text_encode(k->mo_dcs, txt, (size_t)tn, sm + sl, sizeof(sm) - sl);
                p.u.sm.source_addr.p = (const uint8_t *)from;
                p.u.sm.source_addr.len = (uint16_t)strlen(from);
                p.u.sm.destination_addr.p = (const uint8_t *)k->mo_to;
                p.u.sm.destination_addr.len = (uint16_t)strlen(k->mo_to);
                p.u.sm.data_coding = k->mo_dcs;
                p.u.sm.short_message.p = sm;
                p.u.sm.short_message.len = (uint16_t)sl;
                uint8_t buf[512];
                ssize_t len = smx_pdu_encode(buf, sizeof(buf), &p, NULL, 0);
                if (len <= 0)
                        return (int)len;
                uint8_t *copy = malloc((size_t)len);
                if (!copy)
                        return -ENOMEM;
                memcpy(copy, buf, (size_t)len);
                if (send && part > send) {      /* a part the service never sends */
                        free(copy);
                        continue;
                }
                if (sim_dlv_add(s, m->index, 0, copy, (size_t)len) == (size_t)-1)
                        return -ENOMEM;
        }
        m->c.mo_sent++;
        size_t last = s->n_dlv;
        if (reverse)
                for (size_t i = last; i > first; i--)
                        sim_dlv_try_send(s, i - 1);
        else
                for (size_t i = first; i < last; i++)
                        sim_dlv_try_send(s, i);
        return 0;
}

/* ---- service-side enquire_link ---- */

void sim_elink_arm(struct smsc_sim *s, struct sim_smsc *m)
{
        if (m->elink_armed || !m->k.enquire_link_ms)
                return;
        m->elink_armed = 1;
        sim_timer_add(s, sim_now_ns() + (uint64_t)m->k.enquire_link_ms * 1000000ull, SIM_T_ELINK, 0, NULL,
                      (uint64_t)m->index);
}

void sim_on_timer_elink(struct smsc_sim *s, struct sim_timer *t)
{
        struct sim_smsc *m = &s->smsc[t->a];
        m->elink_armed = 0;
        if (!m->k.enquire_link_ms)
                return;
        if (!m->f.killed && !m->f.stalled) {
                for (int i = 0; i < SIM_MAX_SESS; i++) {
                        struct sim_sess *ss = &s->sess[i];
                        if (ss->fd < 0 || ss->smsc != m->index || ss->state == SIM_SESS_OPEN ||
                            ss->state == SIM_SESS_CLOSING)
                                continue;
                        uint8_t *w = sim_out_reserve(s, ss, SMPP_HEADER_LEN);
                        if (!w)
                                continue;
                        uint32_t seq = ss->seq++;
                        if (ss->seq > SMPP_SEQ_MAX)
                                ss->seq = SMPP_SEQ_MIN;
                        if (smx_pdu_encode_header_only(w, SMPP_HEADER_LEN, SMPP_ENQUIRE_LINK, SMPP_ESME_ROK, seq) > 0) {
                                sim_out_commit(s, ss, SMPP_HEADER_LEN);
                                m->c.enquire_links_sent++;
                        }
                }
        }
        sim_elink_arm(s, m);
}
