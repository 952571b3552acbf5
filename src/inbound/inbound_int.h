/* Internals of the inbound room, shared by its files:
 *   inbound.c  create/destroy, inbound_on_accepted_w, inbound_tick_w, stats
 *   deliver.c  inbound_on_deliver_w: classify, DR path, event filling
 *   park.c     DRs waiting for their submit_sm_resp (R3, F-01, N-13)
 *   mo.c       MO decoding and sharded reassembly (R9, G, H)
 *   stage.c    correlation puts that met a held shard lock, published later
 *
 * Lock order (never the other way): stage area -> park shard -> correlation
 * shard -> (merge shard, taken after the part shard is released). The dedup
 * and reassembly locks are never held together with any other. */
#ifndef SMX_INBOUND_INT_H
#define SMX_INBOUND_INT_H

#include <stdatomic.h>

#include "inbound/inbound.h"
#include "store/lock.h"
#include "store/store.h"
#include "text/text.h"

/* A DR as the inbound path carries it (also what a parked DR keeps). */
struct dr_info {
        struct smx_key128 key;          /* hash of the normalised message id */
        uint8_t state;                  /* SMPP_STATE_* (1..8) */
        uint8_t has_key;                /* 0: no usable id, never correlatable */
        uint8_t state_known;            /* state came from the TLV or the text */
        uint8_t id_src;                 /* enum smx_id_source of msgid */
        uint8_t rules;                  /* msgid_norm of the bind it came on */
        uint16_t bind;
        uint16_t id_len;                /* bytes of msgid (it may hold a NUL) */
        char msgid[SMX_MSGID_MAX + 1];  /* as received (capped), for the event */
        char err[16];
        char from[SMX_EV_ADDR_MAX + 1], to[SMX_EV_ADDR_MAX + 1];
};

/* One parked DR; guarded by its shard's lock. */
struct park_item {
        struct dr_info dr;
        uint64_t parked_ms;
        uint8_t live;                   /* 0: matched/delivered, a hole */
        uint8_t ready;                  /* correlation known, ring was full */
};

/* Parked DRs of one shard: a FIFO ring (arrival = timeout order) with a
 * parallel array of key.lo for the scan a submit_sm_resp does. Guarded by
 * `lock`; n_live is also read without it for the fast "empty" check. */
struct park_shard {
        _Alignas(64) smx_lock_t lock;
        uint32_t cap;                   /* items in the ring */
        uint64_t head, tail;            /* free-running (never wrap); [head, tail) in use */
        _Atomic uint32_t n_live;
        uint32_t n_ready;
        uint64_t *keys;
        struct park_item *items;
};

/* One shard of MO reassembly: the text room's table is single-threaded, so
 * each shard has a lock and its own join buffer. */
struct reasm_shard {
        _Alignas(64) smx_lock_t lock;
        struct smx_reasm *t;
        uint8_t *buf;
        size_t cap;
        const struct smx_dcs_map *map;  /* of the bind that added the last part: used
                                           to decode groups the timer flushes */
};

/* A correlation put whose shard lock was held (the holder may be
 * preempted): kept in a stage area until a later call publishes it. */
struct staged_put {
        struct smx_key128 key;
        struct smx_corr_val v;
        uint64_t now_ms;
};

/* 8 x 256 staged puts (~210 KB per instance): at 4 M puts/s a preempted
 * holder's shard (1/64 of the keys) fills them in ~30 ms, longer than the
 * time slices seen on a loaded 2-core machine (bench/README.md "Inbound") */
#define STAGE_AREAS 8u
#define STAGE_CAP 256u
#define STAGE_BUCKETS 64u       /* staged puts counted by key.lo % 64: one key, one bucket */

/* One stage area: staged puts in arrival order. Guarded by `lock`, which
 * the hot path only ever try-locks (a busy area is passed over, never
 * waited for); `pending` mirrors n for a look without the lock. Any thread
 * may publish any area. */
struct stage_area {
        _Alignas(64) smx_lock_t lock;
        _Atomic uint32_t pending;
        uint32_t head, n;               /* FIFO in e[]: head, n entries */
        struct staged_put e[STAGE_CAP];
};

struct inbound_counters {
        _Atomic uint64_t drs, mos, dr_duplicates, mo_duplicates, parked, park_matched,
                park_expired, uncorrelated, corr_full, ring_full, mo_partial,
                tlv_text_mismatch, busy, park_evicted, mt_final, merge_lost,
                id_too_long, mo_raw, udh_sar_mismatch, dr_undecodable, corr_staged,
                corr_waited, park_flushed, mo_flushed, id_rules_crossed;
};

struct smx_inbound {
        struct smx_inbound_config cfg;
        struct smx_corr_store corr;
        struct smx_dedup_store dedup;
        unsigned n_park;
        struct park_shard *park;
        unsigned n_reasm;
        struct reasm_shard *reasm;
        struct smx_dcs_map service_map;
        _Atomic uint32_t n_staged;      /* puts in stage areas (a hint, read without lock) */
        _Atomic uint32_t rules_seen;    /* bit per msgid_norm value (below SMX_MSGID_RULES) of the binds
                                           that stored correlations; set once per value */
        _Atomic uint32_t staged_in[STAGE_BUCKETS];      /* ...per key bucket */
        _Atomic uint32_t rules_conf;    /* bit per msgid_norm value of the configured
                                           binds (inbound_note_bind_rules): the rule
                                           sets a shared store's DR lookup also tries */
        struct stage_area *stage;       /* STAGE_AREAS */
        struct inbound_counters c;
};

#define CNT_ADD(in, field, n) atomic_fetch_add_explicit(&(in)->c.field, (n), memory_order_relaxed)
#define CNT_INC(in, field) CNT_ADD(in, field, 1)

/* bind->msgid_norm flags as the text room's rules. */
void inbound_id_rules(const struct smx_bind_info *b, struct smx_id_norm *n);
void inbound_id_rules_of(uint32_t msgid_norm, struct smx_id_norm *n);

/* The correlation of DR d: its key first; on a miss, when SMSCs with other
 * msgid_norm rules have stored correlations, d's id normalised by each of
 * those rules (a DR crossing between SMSCs configured differently, R3); a
 * hit that way sets d->key to the key found (counted id_rules_crossed).
 * 1 = found (*v filled). */
int inbound_corr_get(struct smx_inbound *in, struct dr_info *d, struct smx_corr_val *v,
                     uint64_t now_ms);

/* The bind's data_coding map (the service table when it has none). */
const struct smx_dcs_map *inbound_dcs_map(const struct smx_inbound *in,
                                          const struct smx_bind_info *b);

/* Fill a reserved record with DR d; `v` is its correlation or NULL
 * (uncorrelated). Records the part's state in the store (multipart merge)
 * and sets SMX_EVF_MT_FINAL. Does not commit. */
void inbound_fill_dr(struct smx_inbound *in, struct smx_ev_rec *e, const struct dr_info *d,
                     const struct smx_corr_val *v, uint64_t now_ms);

/* ---- deliver.c, shared with remote.c ---- */
/* Everything the DR path needs from the PDU (d->has_key = 0: no usable id). */
void inbound_dr_extract(struct smx_inbound *in, const struct smx_bind_info *b,
                        const struct smx_pdu *pdu, struct dr_info *d);
/* Dedup identity of a DR: (normalised id, state), or the bytes a re-sent
 * copy shares when it has no usable id. */
struct smx_key128 inbound_dr_identity(const struct dr_info *d, const struct smx_pdu *pdu);
int inbound_is_receipt(const struct smx_pdu *pdu);
/* The in-process DR path (claim, reserve, correlate or park, commit). */
uint32_t inbound_dr_local_w(struct smx_inbound *in, const struct smx_bind_info *b,
                            const struct smx_pdu *pdu, struct smx_event_ring *ring,
                            uint64_t now_ms);

/* ---- park.c ---- */
int park_init(struct smx_inbound *in);
void park_fini(struct smx_inbound *in);
/* Park d (its dedup claim is the caller's). `e` is a reserved record: it is
 * used (filled, committed) when the correlation turned up meanwhile or the
 * shard was full and its oldest DR had to go out uncorrelated. */
void park_put_w(struct smx_inbound *in, const struct dr_info *d, struct smx_event_ring *ring,
                struct smx_ev_rec *e, uint64_t now_ms);
/* Emit the DRs parked for key k (correlation v). Returns how many. */
int park_match_w(struct smx_inbound *in, const struct smx_key128 *k,
                 const struct smx_corr_val *v, struct smx_event_ring *ring, uint64_t now_ms);
void park_tick_w(struct smx_inbound *in, unsigned shard, struct smx_event_ring *ring,
                 uint64_t now_ms);
/* Every DR of the shard out now (inbound_flush_w), as far as the ring takes. */
void park_flush_w(struct smx_inbound *in, unsigned shard, struct smx_event_ring *ring,
                  uint64_t now_ms);
uint64_t park_count(const struct smx_inbound *in);

/* ---- stage.c ---- */
int stage_init(struct smx_inbound *in);
void stage_fini(struct smx_inbound *in);
/* Put k -> v in the correlation store without waiting behind a held shard
 * lock, then emit the DRs parked for it (and, on one call in
 * STAGE_FLUSH_EVERY, first publish staged puts; a put of a key with a
 * staged put before it queues behind it). When the put cannot take its lock now it
 * is staged (published by a later call of any thread); when every stage
 * area is busy or full it waits for the lock. Returns DR events emitted,
 * or -ENOSPC (store full). */
int stage_put_w(struct smx_inbound *in, const struct smx_bind_info *b,
                const struct smx_key128 *k, const struct smx_corr_val *v,
                struct smx_event_ring *ring, uint64_t now_ms);
/* Publish staged puts and emit the DRs parked for them; `wait`: take
 * every lock however long it is held (the timer), else pass busy ones
 * over. Returns DR events emitted. */
int stage_flush_w(struct smx_inbound *in, struct smx_event_ring *ring, uint64_t now_ms, int wait);
/* Whether the calling thread's hot-path call should try stage_flush_w now:
 * one call in STAGE_FLUSH_EVERY while anything is staged. */
#define STAGE_FLUSH_EVERY 8u
int stage_flush_due(void);

static inline int stage_pending(struct smx_inbound *in)
{
        return atomic_load_explicit(&in->n_staged, memory_order_relaxed) != 0;
}

/* ---- mo.c ---- */
int mo_init(struct smx_inbound *in);
void mo_fini(struct smx_inbound *in);
uint32_t mo_on_deliver_w(struct smx_inbound *in, const struct smx_bind_info *b,
                         const struct smx_pdu *pdu, struct smx_event_ring *ring,
                         uint64_t now_ms);
/* One MO as the dedup and reassembly see it (mo.c). */
struct mo_parsed {
        const uint8_t *data;    /* short_message, else message_payload */
        size_t len;
        size_t udh_len;         /* UDH octets at the start of data */
        uint8_t kind;           /* 0 single, 1 UDH concat, 2 SAR */
        uint16_t ref;
        uint8_t total, seq;
        uint8_t packed;         /* GSM 8-in-7 on this bind */
        struct smx_key128 ident;        /* dedup identity (R5) */
};
void mo_parse(struct smx_inbound *in, const struct smx_bind_info *b, const struct smx_pdu *pdu,
              struct mo_parsed *m);
/* A part's payload as stored for reassembly (packed GSM unpacked to
 * septets) into out (SMX_REASM_PART_MAX + 48 octets); its length. */
size_t mo_part_bytes(const struct mo_parsed *m, uint8_t *out, size_t cap);
/* Hash of a concatenated MO's group (source, destination, ref, total). */
struct smx_key128 mo_group_key(const struct smx_pdu *pdu, const struct mo_parsed *m);
/* Decode MO bytes into the record's text (inline, or heap when long). */
void mo_set_text(struct smx_inbound *in, struct smx_ev_rec *e, uint8_t dcs,
                 const struct smx_dcs_map *map, int packed, size_t udh_len,
                 const uint8_t *data, size_t len);
void mo_tick_w(struct smx_inbound *in, unsigned shard, struct smx_event_ring *ring,
               uint64_t now_ms);
/* Every open group of the shard out now, partial (inbound_flush_w). */
void mo_flush_w(struct smx_inbound *in, unsigned shard, struct smx_event_ring *ring);
uint64_t mo_groups_open(const struct smx_inbound *in);

#endif
