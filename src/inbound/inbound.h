/* The inbound path: what happens to a deliver_sm / data_sm after the worker
 * decoded it, and to a submit_sm_resp's message_id. Shared by every worker
 * (a DR may arrive on any bind of any site, R3), so everything here is
 * thread-safe: sharded tables with short per-shard critical sections, no
 * global lock.
 *
 * It owns: the correlation store (normalised message_id -> MT identity), the
 * park for DRs that arrive before their submit_sm_resp, the dedup window for
 * DRs and MOs (R5), and MO reassembly (UDH 8/16-bit, SAR) across binds.
 *
 * Contract with the worker: a deliver_sm is answered with the status that
 * inbound_on_deliver_w returns, and ESME_ROK is returned only once the event
 * is committed to the worker's event ring (or parked/held by this module, or
 * recognised as a duplicate of one already delivered). A full ring gives
 * ESME_RX_T_APPN so the service re-sends; nothing is ever dropped. */
#ifndef SMX_INBOUND_H
#define SMX_INBOUND_H

#include <stddef.h>
#include <stdint.h>

#include "events/event_ring.h"
#include "pdu/pdu.h"

/* Per-SMSC content settings used on the inbound path (R9, F-07, G-09). */
enum smx_msgid_norm {
        SMX_MSGID_EXACT = 0,       /* compare as sent (default) */
        SMX_MSGID_CASE_FOLD = 1u << 0,
        SMX_MSGID_STRIP_ZEROS = 1u << 1,
        SMX_MSGID_HEX_TO_DEC = 1u << 2,  /* resp id is hex, DR text id is decimal */
};

/* Static facts about one bind, owned by the client, read-only after start. */
struct smx_bind_info {
        uint16_t index;            /* position in smx_client_binds() */
        const char *name, *site;
        uint32_t msgid_norm;       /* SMX_MSGID_* */
        uint8_t gsm_packed;        /* the SMSC sends GSM 7-bit packed */
        uint8_t dcs_map[256];      /* data_coding -> enum smx_encoding (0 = unknown/raw) */
};

struct smx_inbound_config {
        uint32_t corr_capacity;    /* correlation entries (default 1<<20) */
        uint32_t corr_ttl_ms;      /* how long an entry lives (default 48 h) */
        uint32_t park_capacity;    /* parked DRs (default 65536) */
        uint32_t park_timeout_ms;  /* DR-before-resp wait (default 60000) */
        uint32_t dedup_capacity;   /* remembered DR/MO identities (default 1<<20) */
        uint32_t dedup_window_ms;  /* default 600000 */
        uint32_t reasm_groups;     /* open MO reassembly groups (default 4096) */
        uint32_t reasm_timeout_ms; /* default 60000 */
};

struct smx_inbound;

void inbound_config_init(struct smx_inbound_config *cfg);
struct smx_inbound *inbound_create(const struct smx_inbound_config *cfg);
void inbound_destroy(struct smx_inbound *in);

/* A decoded deliver_sm or data_sm arrived on `bind`. Emits DR/MO events into
 * `ring` (the calling worker's). Returns the command_status for the
 * deliver_sm_resp / data_sm_resp. Worker threads only. */
uint32_t inbound_on_deliver_w(struct smx_inbound *in, const struct smx_bind_info *bind,
                              const struct smx_pdu *pdu, struct smx_event_ring *ring,
                              uint64_t now_ms);

/* An MT (or one part of a multipart MT) was accepted with `msgid`. Records the
 * correlation and emits, into `ring`, any DR parked for that id. Returns the
 * number of DR events emitted, or a negative errno (-ENOSPC: store full; the
 * MT is still accepted, its DRs will be uncorrelated). Worker threads only. */
int inbound_on_accepted_w(struct smx_inbound *in, const struct smx_bind_info *bind,
                          const uint8_t *msgid, size_t msgid_len,
                          const char *app_id, size_t app_id_len, uint64_t mt_serial,
                          uint16_t part, uint16_t n_parts,
                          struct smx_event_ring *ring, uint64_t now_ms);

/* Timers: parked DRs past their timeout become uncorrelated DR events, MO
 * groups past theirs become partial MO events, old entries expire. Worker k
 * of n handles shards k, k+n, ... so each item is handled once. */
void inbound_tick_w(struct smx_inbound *in, unsigned worker, unsigned n_workers,
                    struct smx_event_ring *ring, uint64_t now_ms);

struct smx_inbound_stats {
        uint64_t drs, mos, dr_duplicates, mo_duplicates, parked, park_matched,
                 park_expired, uncorrelated, corr_entries, corr_full, ring_full,
                 mo_partial, tlv_text_mismatch;
};
void inbound_stats(const struct smx_inbound *in, struct smx_inbound_stats *st);

#endif
