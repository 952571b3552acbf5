/* The inbound path with a shared store (src/store/rstore.h): the same
 * parsing as the in-process path (deliver.c, mo.c), then the decision is
 * Redis's, taken atomically by one script, and the deliver_sm is answered
 * when the script ran (SMX_DELIVER_DEFER: the worker gets the status
 * through its reply ring). The worker never waits.
 *
 *   DR with a usable id    -> RS_IN_DR: dedup on (id, state) across the
 *                             cluster, then routed to the owner's stream or
 *                             parked until the resp's correlation comes;
 *   DR without one         -> the in-process path (nothing to correlate:
 *                             uncorrelated event here, local dedup);
 *   MO                     -> RS_IN_MO_ONE, or RS_IN_MO_PART for a part of
 *                             a concatenated MO (reassembled in Redis, once,
 *                             on the instance that brings the last part);
 *                             a part the reassembly could not hold (too
 *                             long) -> the in-process path.
 * Accepted MT -> an RS corr write (fire and forget, buffered and replayed
 * by the store thread). The HTTP transport uses the same requests
 * (inbound_remote_dr_req, inbound_remote_accepted_w) through its own store
 * queues (http/http_transport.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inbound/inbound_int.h"
#include "session/session.h"
#include "store/rstore.h"

int inbound_remote_accepted_w(struct smx_inbound *in, struct smx_rstore *rs, unsigned worker,
                              const struct smx_bind_info *bind, const uint8_t *msgid,
                              size_t msgid_len, const char *app_id, size_t app_id_len,
                              uint16_t part, uint16_t n_parts)
{
        struct smx_id_norm rules;
        char norm[SMX_MSGID_CANON_MAX + 1];
        inbound_id_rules(bind, &rules);
        if (msgid_len == 0)
                return -EINVAL;
        int n = msgid_len > SMX_MSGID_MAX ? -1
                : smx_msgid_normalise(&rules, SMX_ID_FROM_RESP, msgid, msgid_len, norm, sizeof norm);
        if (n < 0) {
                CNT_INC(in, id_too_long);
                return -E2BIG;
        }
        inbound_note_bind_rules(in, bind->msgid_norm);
        struct rs_corr_req r;
        r.key = smx_hash128(norm, (size_t)n, 0);
        r.serial = 0;
        r.part = (uint16_t)(part + 1);
        r.n_parts = n_parts ? n_parts : 1;
        r.app_len = (uint8_t)(app_id_len > SMX_ID_MAX ? SMX_ID_MAX : app_id_len);
        memcpy(r.app, app_id, r.app_len);
        return rstore_corr_put_w(rs, worker, &r);
}

static uint32_t push(struct smx_rstore *rs, unsigned worker, struct rs_in_req *r)
{
        if (rstore_in_w(rs, worker, r) < 0) {
                free(r->data);
                return SMPP_ESME_RX_T_APPN;     /* the store thread is behind: re-send */
        }
        return SMX_DELIVER_DEFER;
}

void inbound_note_bind_rules(struct smx_inbound *in, uint32_t msgid_norm)
{
        uint32_t bit = 1u << (msgid_norm % SMX_MSGID_RULES);
        if (!(atomic_load_explicit(&in->rules_conf, memory_order_relaxed) & bit))
                atomic_fetch_or_explicit(&in->rules_conf, bit, memory_order_relaxed);
}

_Static_assert(RS_ALT_MAX >= SMX_MSGID_RULE_SETS - 1u,
               "a DR's keys under every other configured rule set fit rs_in_req.alt");

/* d's id under the other binds' rules (the keys that differ from d->key):
 * all of them, RS_ALT_MAX being room for every other valid rule set. */
static void alt_keys(struct smx_inbound *in, const struct dr_info *d, struct rs_in_req *r)
{
        uint32_t others = atomic_load_explicit(&in->rules_conf, memory_order_relaxed) &
                          ~(1u << d->rules);
        for (uint32_t rule = 0; others && rule < SMX_MSGID_RULES && r->n_alt < RS_ALT_MAX; rule++) {
                if (!(others >> rule & 1))
                        continue;
                struct smx_id_norm rules;
                char norm[SMX_MSGID_CANON_MAX + 1];
                inbound_id_rules_of(rule, &rules);
                int n = smx_msgid_normalise(&rules, (enum smx_id_source)d->id_src,
                                            (const uint8_t *)d->msgid, d->id_len, norm, sizeof norm);
                if (n < 0)
                        continue;
                struct smx_key128 k = smx_hash128(norm, (size_t)n, 0);
                int seen = smx_key128_eq(&k, &d->key);
                for (unsigned i = 0; i < r->n_alt && !seen; i++)
                        seen = smx_key128_eq(&k, &r->alt[i]);
                if (!seen)
                        r->alt[r->n_alt++] = k;
        }
}

int inbound_remote_dr_req(struct smx_inbound *in, const struct smx_bind_info *b,
                          const struct smx_pdu *pdu, struct rs_in_req *r)
{
        struct dr_info d;
        inbound_dr_extract(in, b, pdu, &d);
        if (!d.has_key)
                return 0;
        memset(r, 0, offsetof(struct rs_in_req, msgid));
        alt_keys(in, &d, r);
        r->kind = RS_IN_DR;
        r->to.is_dr = 1;
        r->state = d.state;
        r->key = d.key;
        r->ident = inbound_dr_identity(&d, pdu);
        memcpy(r->msgid, d.msgid, sizeof r->msgid);
        memcpy(r->err, d.err, sizeof r->err);
        memcpy(r->from, d.from, sizeof r->from);
        memcpy(r->to_addr, d.to, sizeof r->to_addr);
        return 1;
}

uint32_t inbound_remote_deliver_w(struct smx_inbound *in, struct smx_rstore *rs,
                                  unsigned worker, const struct smx_bind_info *b,
                                  const struct smx_pdu *pdu, struct smx_event_ring *ring,
                                  const struct rs_reply_to *to, uint64_t now_ms)
{
        if (pdu->h.command_id != SMPP_DELIVER_SM && pdu->h.command_id != SMPP_DATA_SM)
                return SMPP_ESME_RINVCMDID;
        const struct smx_body_sm *sm = &pdu->u.sm;
        struct rs_in_req r;
        if (inbound_is_receipt(pdu)) {
                if (!inbound_remote_dr_req(in, b, pdu, &r))
                        return inbound_dr_local_w(in, b, pdu, ring, now_ms);
                r.to = *to;
                r.to.is_dr = 1;
                r.t0_ms = now_ms;
                return push(rs, worker, &r);
        }
        memset(&r, 0, offsetof(struct rs_in_req, msgid));
        r.msgid[0] = r.err[0] = 0;
        r.to = *to;
        r.t0_ms = now_ms;
        struct mo_parsed m;
        mo_parse(in, b, pdu, &m);
        event_copy_str(r.from, sizeof r.from, sm->source_addr.p, sm->source_addr.len);
        event_copy_str(r.to_addr, sizeof r.to_addr, sm->destination_addr.p,
                       sm->destination_addr.len);
        r.dcs = sm->data_coding;
        r.ident = m.ident;
        if (m.kind != 0) {
                if (m.len - m.udh_len > SMX_REASM_PART_MAX ||
                    sm->source_addr.len > SMX_EV_ADDR_MAX ||
                    sm->destination_addr.len > SMX_EV_ADDR_MAX)
                        return mo_on_deliver_w(in, b, pdu, ring, now_ms);
                uint8_t part[SMX_REASM_PART_MAX + 48];
                size_t n = mo_part_bytes(&m, part, sizeof part);
                r.kind = RS_IN_MO_PART;
                r.seq = m.seq;
                r.total = m.total;
                r.key = mo_group_key(pdu, &m);
                r.data = malloc(n ? n : 1);
                if (!r.data)
                        return SMPP_ESME_RX_T_APPN;
                memcpy(r.data, part, n);
                r.len = (uint32_t)n;
                return push(rs, worker, &r);
        }
        r.kind = RS_IN_MO_ONE;
        r.packed = m.packed;
        r.udh_len = (uint16_t)m.udh_len;
        r.data = malloc(m.len ? m.len : 1);
        if (!r.data)
                return SMPP_ESME_RX_T_APPN;
        if (m.len)
                memcpy(r.data, m.data, m.len);
        r.len = (uint32_t)m.len;
        return push(rs, worker, &r);
}

void inbound_mo_text(struct smx_inbound *in, struct smx_ev_rec *e, const struct smx_bind_info *b,
                     uint8_t dcs, int packed, size_t udh_len, const uint8_t *data, size_t len)
{
        const struct smx_dcs_map *map = b ? inbound_dcs_map(in, b) : &in->service_map;
        mo_set_text(in, e, dcs, map, packed, udh_len, data, len);
        CNT_INC(in, mos);
}

void inbound_mo_utf8(struct smx_inbound *in, struct smx_ev_rec *e, const uint8_t *data,
                     size_t len)
{
        if (event_rec_set_text(e, (const char *)data, len) < 0) {
                /* no memory for a long text: what fits inline, whole characters */
                size_t n = SMX_EV_TEXT_INLINE - 1;
                while (n > 0 && (data[n] & 0xC0) == 0x80)
                        n--;
                event_rec_set_text(e, (const char *)data, n);
        }
        CNT_INC(in, mos);
}
