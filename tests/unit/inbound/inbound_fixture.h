/* Shared helpers of the inbound tests: build decoded deliver_sm PDUs by hand
 * (struct smx_pdu views over static strings), a small inbound instance, and
 * a ring drain that copies events out. */
#ifndef SMX_INBOUND_FIXTURE_H
#define SMX_INBOUND_FIXTURE_H

#include <string.h>

#include "events/event_ring.h"
#include "inbound/inbound.h"
#include "pdu/pdu.h"
#include "testlib.h"

static inline struct smx_bytes fx_bytes(const void *p, size_t n)
{
        struct smx_bytes b = { (const uint8_t *)p, (uint16_t)n };
        return b;
}

static inline struct smx_bytes fx_str(const char *s)
{
        return fx_bytes(s, strlen(s));
}

/* A deliver_sm MO from -> to with raw short_message bytes. */
static inline void fx_mo(struct smx_pdu *p, const char *from, const char *to, uint8_t dcs,
                         uint8_t esm, const void *sm, size_t sm_len)
{
        memset(p, 0, sizeof *p);
        p->h.command_id = SMPP_DELIVER_SM;
        p->h.sequence_number = 9;
        p->u.sm.source_addr = fx_str(from);
        p->u.sm.destination_addr = fx_str(to);
        p->u.sm.data_coding = dcs;
        p->u.sm.esm_class = esm;
        p->u.sm.short_message = fx_bytes(sm, sm_len);
}

/* A DR deliver_sm: esm_class 0x04, receipted_message_id TLV (if tlv_id),
 * message_state TLV (if state >= 0), receipt text (if text). */
static inline void fx_dr(struct smx_pdu *p, const char *tlv_id, int state, const char *text)
{
        fx_mo(p, "12025550100", "447700900000", 0, SMPP_ESM_TYPE_SMSC_DR,
              text ? text : "", text ? strlen(text) : 0);
        if (tlv_id) {
                p->tlv.present |= SMX_TLV_RECEIPTED_MESSAGE_ID;
                p->tlv.receipted_message_id = fx_str(tlv_id);
        }
        if (state >= 0) {
                p->tlv.present |= SMX_TLV_MESSAGE_STATE;
                p->tlv.message_state = (uint8_t)state;
        }
}

static inline void fx_sar(struct smx_pdu *p, uint16_t ref, uint8_t total, uint8_t seq)
{
        p->tlv.present |= SMX_TLV_SAR_MSG_REF_NUM | SMX_TLV_SAR_TOTAL_SEGMENTS |
                          SMX_TLV_SAR_SEGMENT_SEQNUM;
        p->tlv.sar_msg_ref_num = ref;
        p->tlv.sar_total_segments = total;
        p->tlv.sar_segment_seqnum = seq;
}

static inline struct smx_inbound *fx_inbound(uint32_t park_timeout_ms)
{
        struct smx_inbound_config c;
        inbound_config_init(&c);
        c.corr_capacity = 4096;
        c.park_capacity = 1024;
        c.dedup_capacity = 4096;
        c.reasm_groups = 64;
        c.park_timeout_ms = park_timeout_ms;
        c.reasm_timeout_ms = 1000;
        return inbound_create(&c);
}

/* A copy of one event taken out of a ring. */
struct fx_ev {
        struct smx_ev_rec r;
        char text[4096];
};

/* Move up to max events out of ring into out; returns the count. */
static inline size_t fx_drain(struct smx_event_ring *ring, struct fx_ev *out, size_t max)
{
        size_t n = 0;
        struct smx_ev_rec *e;
        while ((e = event_ring_peek(ring)) != NULL) {
                if (n < max) {
                        out[n].r = *e;
                        out[n].r.text_heap = NULL;
                        size_t l = e->text_len < sizeof out[n].text - 1 ? e->text_len
                                                                      : sizeof out[n].text - 1;
                        memcpy(out[n].text, event_rec_text(e), l);
                        out[n].text[l] = 0;
                }
                n++;
                event_ring_release(ring);
        }
        return n < max ? n : max;
}

/* Release every event in ring; returns how many there were. */
static inline size_t fx_discard(struct smx_event_ring *ring)
{
        size_t n = 0;
        while (event_ring_peek(ring)) {
                event_ring_release(ring);
                n++;
        }
        return n;
}

#endif
