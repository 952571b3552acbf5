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
#include "store/store.h"

/* Per-SMSC content settings used on the inbound path (R9, F-07, G-09).
 * Message ids are normalised by smx_msgid_normalise (text/text.h) with these
 * rules, the same way for a submit_sm_resp id (inbound_on_accepted_w), a
 * receipted_message_id TLV and a receipt-text id (inbound_on_deliver_w). */
enum smx_msgid_norm {
        SMX_MSGID_AUTO = 0,        /* default: hex/decimal digit ids case-folded, no
                                      leading zeros; any other id exact */
        SMX_MSGID_CASE_FOLD = 1u << 0,
        SMX_MSGID_STRIP_ZEROS = 1u << 1,
        SMX_MSGID_HEX_TO_DEC = 1u << 2,  /* resp id is hex, DR text id is decimal */
        SMX_MSGID_EXACT = 1u << 3, /* compare as sent */
        SMX_MSGID_DEC_TO_HEX = 1u << 4,  /* resp id is decimal, DR text id is hex */
};

/* Every msgid_norm value is below SMX_MSGID_RULES: the sets of rule values
 * seen (inbound rules_seen / rules_conf) are bit masks of one uint32_t. */
#define SMX_MSGID_RULES 32u
_Static_assert((SMX_MSGID_CASE_FOLD | SMX_MSGID_STRIP_ZEROS | SMX_MSGID_HEX_TO_DEC |
                SMX_MSGID_EXACT | SMX_MSGID_DEC_TO_HEX) < SMX_MSGID_RULES,
               "msgid_norm values fit the rule-set masks");
/* How many msgid_norm values a client accepts (client_smsc_check): exact
 * alone, and any of none / case_fold / strip_zeros / both with none /
 * hex_to_dec / dec_to_hex (auto is the all-none one): 1 + 4 * 3. So a DR
 * has at most SMX_MSGID_RULE_SETS - 1 other rule sets to be looked up
 * under. */
#define SMX_MSGID_RULE_SETS 13u

struct smx_dcs_map;

/* Static facts about one bind, owned by the client, read-only after start.
 * All-zero is a valid default: AUTO ids, unpacked GSM, the service's
 * data_coding table (R9). */
struct smx_bind_info {
        uint16_t index;            /* position in smx_client_binds() */
        const char *name, *site;
        uint32_t msgid_norm;       /* SMX_MSGID_* (the same values as SMX_MSGID_NORM_*) */
        uint8_t gsm_packed;        /* the SMSC sends GSM 7-bit packed */
        const struct smx_dcs_map *dcs_map; /* data_coding -> encoding (text/text.h);
                                              NULL: smx_dcs_map_service() (R9) */
};

/* Sizes and times. Memory is fixed by these, whatever arrives. At capacity:
 * the correlation store first drops expired entries, else refuses the put
 * (inbound_on_accepted_w -ENOSPC, counted corr_full: that MT's DRs arrive
 * uncorrelated); the park sends its oldest DR out uncorrelated (N-13,
 * park_evicted); the dedup window forgets its oldest identities
 * (dedup_evicted); reassembly flushes its oldest group as a partial MO.
 * Layouts and bytes per entry: src/store/corr_mem.c, dedup_mem.c. */
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
 * deliver_sm_resp / data_sm_resp:
 *   ESME_ROK        the event is committed, or the DR is parked / the MO part
 *                   is held here, or it is a duplicate of one delivered (R5);
 *   ESME_RX_T_APPN  the ring is full (or another worker is delivering the
 *                   same DR/MO right now): nothing was kept, the SMSC re-sends;
 *   ESME_RX_P_APPN  a receipt with neither an id (TLV or text) nor a state:
 *                   it can never be used, so it is refused for good, yet still
 *                   surfaced as an uncorrelated DR event flagged SMX_EVF_RAW
 *                   with its bytes as hex in text (HOSTILE ground rule 5);
 *   ESME_RINVCMDID  the PDU is not a deliver_sm/data_sm (a caller bug).
 * Worker threads only.
 *
 * Classification (F-15): a DR is esm_class & 0x3C in {0x04, 0x08, 0x10,
 * 0x20}, or a receipted_message_id / message_state TLV; anything else is an
 * MO, whatever its text looks like. DR id: receipted_message_id TLV, else the
 * receipt text's id (R6); state: message_state TLV, else the text's stat
 * (disagreement counted in tlv_text_mismatch, F-05), else UNKNOWN; err: the
 * text's err as a string (F-13), else network_error_code as "type:code".
 * Each (normalised id, state) reaches the app once (F-03, F-17).
 *
 * Multipart MTs (n_parts > 1 in inbound_on_accepted_w): every part's DRs
 * are events of their own (`part` says which part, `parts` how many). A part
 * is final at its first DELIVERED, EXPIRED, DELETED, UNDELIVERABLE, UNKNOWN
 * or REJECTED (ENROUTE and ACCEPTED are intermediate). The DR that makes the
 * last part final carries SMX_EVF_MT_FINAL and, in mt_state, the MT's merged
 * state: the worst over its parts, REJECTED > UNDELIVERABLE > EXPIRED >
 * DELETED > UNKNOWN > DELIVERED. A single-part MT's first final DR carries
 * the flag too (mt_state = its state), so an app that only wants one outcome
 * per MT reads the events flagged SMX_EVF_MT_FINAL. */
uint32_t inbound_on_deliver_w(struct smx_inbound *in, const struct smx_bind_info *bind,
                              const struct smx_pdu *pdu, struct smx_event_ring *ring,
                              uint64_t now_ms);

/* An MT (or one part of a multipart MT) was accepted with `msgid`. Records the
 * correlation and emits, into `ring`, any DR parked for that id. Never waits
 * behind another thread: when the store's shard lock is held the put is
 * staged and published by a later inbound call or tick of any worker (a DR
 * meanwhile parks and is matched then), and the events emitted may include
 * DRs parked for earlier staged puts. `part` is
 * the 0-based segment index (0..n_parts-1, as the session numbers them);
 * DR events report it 1-based. `mt_serial` + `app_id` identify the MT (the
 * same for every part and every resubmission). Returns the number of DR
 * events emitted, or a negative errno: -ENOSPC the store is full, -E2BIG the
 * id is longer than SMX_MSGID_MAX (B-03), -EINVAL it is empty; in every case
 * the MT is still accepted and its DRs will arrive uncorrelated. Worker
 * threads only. */
int inbound_on_accepted_w(struct smx_inbound *in, const struct smx_bind_info *bind,
                          const uint8_t *msgid, size_t msgid_len,
                          const char *app_id, size_t app_id_len, uint64_t mt_serial,
                          uint16_t part, uint16_t n_parts,
                          struct smx_event_ring *ring, uint64_t now_ms);

/* inbound_on_accepted_w in two steps, so that a worker can gather the
 * accepted MTs of a received buffer and put them as one batch: prepare
 * normalises and hashes the id and starts loading the store slot the put
 * will write (no lock taken, nothing visible yet); commit is the put and the
 * parked-DR match, as inbound_on_accepted_w. Between the two the
 * correlation does not exist: a DR for it (on any worker) misses and parks,
 * and commit then emits it correlated, once, exactly like a staged put
 * (stage.c). So the caller commits every prepared put soon (the worker: at
 * the latest at the end of the loop turn, and before it handles a
 * deliver_sm, so that a DR following its resp on the same connection finds
 * the correlation at once, as without the batch). Prepare returns 0 or the
 * negative errno of inbound_on_accepted_w (-EINVAL, -E2BIG: then there is
 * nothing to commit); commit returns what inbound_on_accepted_w returns.
 * `out->bind` points at `bind`, which must outlive the commit. Worker
 * threads only. */
struct smx_accepted_put {
        struct smx_key128 key;
        const struct smx_bind_info *bind;
        struct smx_corr_val v;
};
int inbound_accepted_prepare(struct smx_inbound *in, const struct smx_bind_info *bind,
                             const uint8_t *msgid, size_t msgid_len, const char *app_id,
                             size_t app_id_len, uint64_t mt_serial, uint16_t part,
                             uint16_t n_parts, struct smx_accepted_put *out);
int inbound_accepted_commit_w(struct smx_inbound *in, const struct smx_accepted_put *a,
                              struct smx_event_ring *ring, uint64_t now_ms);

/* Timers: correlation puts staged by inbound_on_accepted_w are published
 * (waiting for their locks if need be), parked DRs past their timeout
 * become uncorrelated DR events, MO groups past theirs become partial MO
 * events, old entries expire. Worker k of n handles shards k, k+n, ... so
 * each item is handled once. */
void inbound_tick_w(struct smx_inbound *in, unsigned worker, unsigned n_workers,
                    struct smx_event_ring *ring, uint64_t now_ms);

/* Shutdown: nothing acknowledged may stay behind. Publishes the staged
 * correlation puts (waiting for their locks), then delivers every parked DR
 * (correlated if its id is known by now, else uncorrelated: counted
 * uncorrelated and park_flushed) and every open MO group as a partial MO
 * (mo_flushed), as far as `ring` has room; call again (every worker turn)
 * until inbound_undelivered is 0. Worker k of n handles the shards of
 * inbound_tick_w. The client calls it once smx_client_drain has ended
 * every MT and unbound: no submit_sm_resp can come any more. */
void inbound_flush_w(struct smx_inbound *in, unsigned worker, unsigned n_workers,
                     struct smx_event_ring *ring, uint64_t now_ms);

/* DRs and MO parts answered ESME_ROK that no event carries yet: DRs in the
 * park plus open MO groups. When it reads 0, every event they became is
 * already committed to a ring. Any thread. */
uint64_t inbound_undelivered(const struct smx_inbound *in);

struct smx_inbound_stats {
        uint64_t drs, mos, dr_duplicates, mo_duplicates, parked, park_matched,
                 park_expired, uncorrelated, corr_entries, corr_full, ring_full,
                 mo_partial, tlv_text_mismatch;
        uint64_t busy;             /* RX_T_APPN: same DR/MO in flight on another worker */
        uint64_t park_evicted;     /* N-13: park full, oldest delivered uncorrelated */
        uint64_t park_now;         /* DRs parked right now */
        uint64_t mt_final;         /* DR events flagged SMX_EVF_MT_FINAL */
        uint64_t merge_lost;       /* multipart DR whose merge record was gone */
        uint64_t id_too_long;      /* ids over SMX_MSGID_MAX: uncorrelatable (B-03, C-11) */
        uint64_t mo_groups_open;   /* MO reassembly groups waiting for parts */
        uint64_t mo_raw;           /* MOs surfaced as hex (binary / unknown DCS) */
        uint64_t udh_sar_mismatch; /* H-15 */
        uint64_t dr_undecodable;   /* receipts with no id and no state: RX_P_APPN + raw */
        uint64_t corr_staged;      /* accepted-MT puts that met a held shard lock and were
                                      published later (src/inbound/stage.c) */
        uint64_t corr_waited;      /* ...that waited for it (every stage area busy/full) */
        uint64_t park_flushed;     /* parked DRs delivered by inbound_flush_w (shutdown) */
        uint64_t mo_flushed;       /* open MO groups delivered by inbound_flush_w */
        uint64_t id_rules_crossed; /* DRs found only with another SMSC's msgid_norm */
        uint64_t corr_bytes, dedup_entries, dedup_evicted, dedup_bytes;
};
void inbound_stats(const struct smx_inbound *in, struct smx_inbound_stats *st);

/* ---- with a shared store (remote.c, src/store/rstore.h) ---- */
struct smx_rstore;
struct rs_reply_to;
/* inbound_on_accepted_w's counterpart: the correlation goes to the store
 * thread of worker `worker` (0, or a negative errno as there, -ENOBUFS when
 * its ring is full: counted, that MT's DRs arrive uncorrelated). */
int inbound_remote_accepted_w(struct smx_inbound *in, struct smx_rstore *rs, unsigned worker,
                              const struct smx_bind_info *bind, const uint8_t *msgid,
                              size_t msgid_len, const char *app_id, size_t app_id_len,
                              uint16_t part, uint16_t n_parts);
/* inbound_on_deliver_w's counterpart: SMX_DELIVER_DEFER (session.h) when
 * the DR/MO went to the store thread (the answer comes through the reply
 * ring to `to`), else a status as inbound_on_deliver_w's (a DR without a
 * usable id, an MO part too long to reassemble: the in-process path;
 * ESME_RX_T_APPN when the store thread's ring is full). */
uint32_t inbound_remote_deliver_w(struct smx_inbound *in, struct smx_rstore *rs,
                                  unsigned worker, const struct smx_bind_info *b,
                                  const struct smx_pdu *pdu, struct smx_event_ring *ring,
                                  const struct rs_reply_to *to, uint64_t now_ms);
/* A bind with msgid_norm rules `msgid_norm` exists (the client notes every
 * configured one): with a shared store a DR whose id misses under its own
 * bind's rules is also looked up under the others (inbound_remote_dr_req),
 * as inbound_on_deliver_w does in process. Any thread. */
void inbound_note_bind_rules(struct smx_inbound *in, uint32_t msgid_norm);
/* A DR as the store thread takes it (kind, state, keys, id, err, addresses;
 * `to` zeroed but to.is_dr): 1, or 0 when it has no usable id (nothing to
 * correlate: the in-process path takes it). When binds with other explicit
 * msgid_norm rules exist, r->alt holds the id's keys under those rules
 * (one per other rule set, each different from r->key; RS_ALT_MAX holds
 * them all). Any thread. */
struct rs_in_req;
int inbound_remote_dr_req(struct smx_inbound *in, const struct smx_bind_info *b,
                          const struct smx_pdu *pdu, struct rs_in_req *r);
/* Decode MO bytes into e's text with bind b's data_coding map (NULL: the
 * service's); counts the MO. The store thread's events use it. */
void inbound_mo_text(struct smx_inbound *in, struct smx_ev_rec *e, const struct smx_bind_info *b,
                     uint8_t dcs, int packed, size_t udh_len, const uint8_t *data, size_t len);
/* An MO whose text is UTF-8 already (the HTTP API's) into e's text (cut
 * to what the record holds if it cannot take it all); counts the MO. */
void inbound_mo_utf8(struct smx_inbound *in, struct smx_ev_rec *e, const uint8_t *data,
                     size_t len);

#endif
