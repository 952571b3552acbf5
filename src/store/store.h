/* The shared stores of the inbound path, each behind a small ops table so a
 * second backend (Redis/Valkey, for several application instances sharing
 * DRs, ARCHITECTURE "Scaling out") can be added without touching callers.
 * Today there is one backend of each: in-process, sharded, open addressing.
 *
 *   correlation store  normalised message_id -> MT identity (app id, MT
 *                      serial, part/n_parts), plus the merge record of a
 *                      multipart MT (which parts are final, worst state);
 *   dedup window       DR / MO identities seen recently (R5).
 *
 * Keys are 128-bit hashes (store/hash128.h) of the identity bytes. Every
 * function is thread-safe: a key maps to one shard (power-of-two count), and
 * each shard has its own spinlock held only for a probe; there is no global
 * lock. The correlation put also comes as try_put, which gives up rather
 * than wait behind a held shard lock. Shard s of n is "owned" for timers by worker s % n_workers
 * (expire(part, n_parts)). Times are the caller's monotonic milliseconds. */
#ifndef SMX_STORE_H
#define SMX_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "smsmux.h"
#include "store/hash128.h"

/* ---- correlation store ---- */

/* What one message_id correlates to. */
struct smx_corr_val {
        uint64_t mt_serial;
        uint16_t part, n_parts;         /* 1-based part number, total parts (1 = single) */
        uint8_t app_len;                /* <= SMX_ID_MAX */
        char app_id[SMX_ID_MAX];        /* not NUL-terminated */
};

/* Result of recording a part's DR state (smx_corr_ops.part_final). */
struct smx_corr_final {
        uint8_t newly_final;    /* this state made the part final (first final state) */
        uint8_t mt_final;       /* ...and with it every part of the MT is final */
        uint8_t mt_state;       /* mt_final: merged state, worst of the parts */
        uint8_t merge_lost;     /* n_parts > 1 but the merge record is gone (TTL/full) */
};

struct smx_corr_stats {
        uint64_t entries;       /* live entries (part entries + merge records) */
        uint64_t capacity;      /* entries accepted before puts are refused */
        uint64_t slots;         /* table slots (entries / slots = load) */
        uint64_t bytes;         /* memory held: slots + app-id pool */
        uint64_t puts, hits, misses, full, expired;
};

struct smx_corr_config {
        uint32_t capacity;      /* live entries, all shards (>= 1) */
        uint32_t ttl_ms;        /* entry lifetime from its put */
};

struct smx_corr_ops {
        const char *name;
        /* Insert or replace k -> v; an MT with n_parts > 1 also gets (or
         * keeps) its merge record. 0, or -ENOSPC when the shard is at
         * capacity and nothing in it has expired (counted in `full`). */
        int (*put)(void *impl, const struct smx_key128 *k, const struct smx_corr_val *v,
                   uint64_t now_ms);
        /* As put, but never waits behind a shard lock that another thread
         * holds (it may be preempted): it tests each lock it needs up to
         * `spins` times (a pause between), and returns -EBUSY when one stays
         * held. Then the part entry is unchanged (at most the merge record
         * was created or refreshed, as put does first anyway) and the
         * caller retries later (inbound stages it). */
        int (*try_put)(void *impl, const struct smx_key128 *k, const struct smx_corr_val *v,
                       uint64_t now_ms, unsigned spins);
        /* 1 and *v filled when k is known and not expired, else 0. */
        int (*get)(void *impl, const struct smx_key128 *k, struct smx_corr_val *v,
                   uint64_t now_ms);
        /* Record DR state `state` (SMPP_STATE_*) for the part k maps to and
         * merge it into its MT. Returns 1 (k known, *out filled) or 0. */
        int (*part_final)(void *impl, const struct smx_key128 *k, uint8_t state,
                          uint64_t now_ms, struct smx_corr_final *out);
        /* Drop expired entries of shards part, part+n_parts, ...; returns
         * how many. */
        size_t (*expire)(void *impl, unsigned part, unsigned n_parts, uint64_t now_ms);
        /* Hint that k will be looked up soon (starts the cache miss early);
         * no lock, no effect on contents. May be NULL. */
        void (*prefetch)(void *impl, const struct smx_key128 *k);
        void (*stats)(void *impl, struct smx_corr_stats *st);
        void (*destroy)(void *impl);
};

struct smx_corr_store {
        const struct smx_corr_ops *ops;
        void *impl;
};

/* The in-process backend. 0 or -EINVAL / -ENOMEM. */
int smx_corr_mem_open(const struct smx_corr_config *cfg, struct smx_corr_store *out);

/* Whether a message_state ends a part, and the merge order of final states:
 * REJECTED > UNDELIVERABLE > EXPIRED > DELETED > UNKNOWN > DELIVERED. */
int smx_corr_state_is_final(uint8_t state);
int smx_corr_state_rank(uint8_t state);

/* ---- dedup window ---- */

enum smx_dedup_claim {
        SMX_DEDUP_NEW = 0,      /* not seen: claimed (pending) by the caller */
        SMX_DEDUP_SEEN,         /* seen and committed within the window: a duplicate */
        SMX_DEDUP_BUSY,         /* another thread holds a pending claim on it */
};

struct smx_dedup_stats {
        uint64_t entries, capacity, slots, bytes;
        uint64_t claims, seen, busy, aborted, expired, evicted;
};

struct smx_dedup_config {
        uint32_t capacity;      /* identities remembered, all shards (>= 1) */
        uint32_t window_ms;     /* how long a committed identity is remembered */
};

struct smx_dedup_ops {
        const char *name;
        /* Claim k. NEW: the caller must later commit (its event is
         * delivered) or abort (nothing was delivered: no trace is left). At
         * capacity the oldest identities are forgotten first (counted in
         * `evicted`), so a claim always succeeds. */
        enum smx_dedup_claim (*claim)(void *impl, const struct smx_key128 *k, uint64_t now_ms);
        void (*commit)(void *impl, const struct smx_key128 *k, uint64_t now_ms);
        void (*abort)(void *impl, const struct smx_key128 *k);
        size_t (*expire)(void *impl, unsigned part, unsigned n_parts, uint64_t now_ms);
        void (*prefetch)(void *impl, const struct smx_key128 *k);      /* may be NULL */
        void (*stats)(void *impl, struct smx_dedup_stats *st);
        void (*destroy)(void *impl);
};

struct smx_dedup_store {
        const struct smx_dedup_ops *ops;
        void *impl;
};

int smx_dedup_mem_open(const struct smx_dedup_config *cfg, struct smx_dedup_store *out);

/* Shard count for `capacity` entries: a power of two, at most 64, with at
 * least 256 entries per shard (so small capacities are exact). */
unsigned smx_store_shards_for(uint32_t capacity);

#endif
