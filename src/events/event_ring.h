/* The per-worker event ring: worker -> application, single producer (the
 * owning worker) and single consumer (the thread in smx_events_poll).
 *
 * Two arrays share one order. The ring proper is an array of 64-byte entries
 * (struct smx_ev_out, one cache line each): a SUBMITTED or FAILED outcome
 * whose MT id and message id fit is stored whole in its entry, so an outcome
 * costs the worker one line written and the application one line read, and
 * the ring's footprint (4 MiB at the default 65 536) stays cache-sized. Every
 * other event (DR, MO, BIND, an outcome with long ids) is written into a full
 * record (struct smx_ev_rec, ~850 bytes) of a side array, and its entry only
 * says which record. Records are taken in entry order and released with their
 * entry, so the side array needs no indices of its own: it never holds more
 * records than the ring holds entries.
 *
 * The producer reserves an entry or a record, fills it, and commits; the
 * consumer reads committed entries in order and releases them. Indices are
 * free-running 32-bit counters; capacity is a power of two. Nothing allocates
 * after create, except an MO text too long for the inline buffer (rare),
 * which the producer mallocs and the consumer frees on release.
 *
 * "In the event ring" (ARCHITECTURE: deliver_sm is answered only after the
 * event is safely in the event ring) means: committed. */
#ifndef SMX_EVENT_RING_H
#define SMX_EVENT_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "smsmux.h"

#define SMX_EV_ADDR_MAX   65   /* data_sm addresses may be 64 chars */
#define SMX_EV_TEXT_INLINE 480 /* MO text bytes stored inline (UTF-8) */

enum {
        SMX_EVF_PERMANENT  = 1u << 0,  /* FAILED: permanent */
        SMX_EVF_HAS_ID     = 1u << 1,  /* DR: correlated (id valid) */
        SMX_EVF_PARTIAL    = 1u << 2,  /* MO: reassembly timed out */
        SMX_EVF_UP         = 1u << 3,  /* BIND: up */
        SMX_EVF_RESENT     = 1u << 4,  /* SUBMITTED/FAILED: was resent at least once */
        SMX_EVF_HTTP       = 1u << 5,  /* arrived over the HTTP transport */
        SMX_EVF_MT_FINAL   = 1u << 6,  /* DR: every part of the MT is now final; the
                                          merged state is in mt_state (inbound.h) */
        SMX_EVF_RAW        = 1u << 7,  /* MO: text is the raw bytes as hex (binary or
                                          unknown data_coding, dcs says which); DR:
                                          a receipt with no id and no state, its
                                          raw bytes as hex in text (inbound.h) */
};

/* One event as stored in a full record (every event but an outcome whose ids
 * fit an entry). Written by the owner worker between reserve and commit; read
 * by the polling thread between peek and release. */
struct smx_ev_rec {
        uint8_t type;            /* enum smx_event_type */
        uint8_t flags;           /* SMX_EVF_* */
        uint8_t state;           /* DR: enum smx_dr_state */
        uint8_t reason;          /* FAILED: enum smx_fail_reason */
        uint16_t bind;           /* bind index (smx_client_binds order); 0xFFFF none */
        uint16_t parts;          /* MO parts */
        uint32_t status;         /* FAILED: last command_status */
        uint32_t attempts;
        uint16_t part;           /* DR: 1-based part of a multipart MT (1 if single) */
        uint8_t mt_state;        /* DR with SMX_EVF_MT_FINAL: merged MT state */
        uint8_t dcs;             /* MO: data_coding of the (first) part */
        uint32_t text_len;
        char *text_heap;         /* non-NULL when text_len >= SMX_EV_TEXT_INLINE */
        uint64_t latency_us;
        char id[SMX_ID_MAX + 1];
        char message_id[SMX_MSGID_MAX + 1];
        char err[16];
        char reason_text[48];    /* BIND: why it went down */
        char from[SMX_EV_ADDR_MAX + 1];
        char to[SMX_EV_ADDR_MAX + 1];
        char text[SMX_EV_TEXT_INLINE];
};

/* One ring entry (a cache line): a whole SUBMITTED/FAILED outcome, or a
 * reference to a full record. Written by the owner worker between reserve and
 * commit; read by the polling thread between peek and release. */
#define SMX_EV_OUT_BIG   0xFF   /* type: the event is the full record `big` */
#define SMX_EV_OUT_STR   40     /* id, NUL, message id, NUL */
struct smx_ev_out {
        uint8_t type;            /* SMX_EV_SUBMITTED / SMX_EV_FAILED, or SMX_EV_OUT_BIG */
        uint8_t flags;           /* SMX_EVF_* */
        uint8_t reason;          /* FAILED: enum smx_fail_reason */
        uint8_t id_len;          /* the message id starts at str + id_len + 1 */
        uint16_t bind;           /* bind index; 0xFFFF none */
        uint16_t unused;
        uint32_t status;         /* FAILED: last command_status */
        union {
                uint32_t attempts;
                uint32_t big;    /* SMX_EV_OUT_BIG: free-running index of the record */
        };
        uint64_t latency_us;
        char str[SMX_EV_OUT_STR];
};
_Static_assert(sizeof(struct smx_ev_out) == 64, "one cache line per outcome");

/* Whether an outcome with these ids fits an entry (else it takes a record). */
static inline int event_out_fits(size_t id_len, size_t msgid_len)
{
        return id_len + msgid_len + 2 <= SMX_EV_OUT_STR;
}

/* SPSC ring. head: next entry to read (consumer writes); tail: next entry to
 * write (producer writes). Each sits on its own cache line. The layout is
 * here so that the producer's per-outcome calls (space, reserve, commit) are
 * inlined into the worker's dispatch and resp paths (bench/README.md "CPU
 * per MT, issue 16"); only event_ring.c and these inline functions touch
 * the fields. */
struct smx_event_ring {
        _Alignas(64) _Atomic uint32_t head;    /* written by the consumer */
        _Alignas(64) _Atomic uint32_t tail;    /* written by the producer */
        _Alignas(64) uint32_t mask;            /* read-only after create */
        uint32_t cached_head;                  /* producer's last view of head */
        uint32_t big_tail;                     /* producer: next record to take */
        uint8_t reserved_big;                  /* producer: the last reserve was a record */
        struct smx_ev_out *outs;               /* the entries */
        struct smx_ev_rec *recs;               /* the full records */
        /* The shared store's outcome gate (event_ring_gate): NULL, or per
         * entry the producer's count of correlation writes handed to the
         * store thread when the entry was committed (written by the
         * producer before the tail, read by the consumer); gate_src is
         * that count (the producer's own ring index), gate_q its queue. */
        uint32_t *gate;
        const _Atomic uint32_t *gate_src;
        unsigned gate_q;
        _Alignas(64) struct smx_ev_rec scratch; /* consumer: event_ring_peek's copy */
};

/* Entries (and records) the producer loads ahead of the one it fills. */
#define SMX_EV_AHEAD 8

struct smx_event_ring *event_ring_create(uint32_t capacity_pow2);
void event_ring_destroy(struct smx_event_ring *r);

/* Gate the ring on the shared store's correlation writes (before the
 * producer starts): every entry committed from now on records *count, the
 * number of correlation writes its producer handed to the store thread
 * (queue q) so far, so the consumer shows it only once the store says
 * those writes are in Redis (rstore_corr_done): an MT's SUBMITTED outcome
 * never before its correlation, and the entries after it in order. 0 or
 * -ENOMEM. */
int event_ring_gate(struct smx_event_ring *r, const _Atomic uint32_t *count, unsigned q);

/* Producer (owner worker) only. Returns the next free full record, zeroed in
 * the fields events use, or NULL when the ring is full; commit publishes it
 * (through the next entry). Reserve again without a commit returns the same
 * record. */
struct smx_ev_rec *event_ring_reserve_w(struct smx_event_ring *r);

/* Producer only. The next free entry, or NULL when the ring is full; the
 * entry SMX_EV_AHEAD on starts loading for writing, so its stores do not
 * wait for memory. */
static inline struct smx_ev_out *event_ring_next_free_w(struct smx_event_ring *r)
{
        uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
        if (t - r->cached_head > r->mask) {
                /* acquire: see event_ring_space_w */
                r->cached_head = atomic_load_explicit(&r->head, memory_order_acquire);
                if (t - r->cached_head > r->mask)
                        return NULL;
        }
        __builtin_prefetch(&r->outs[(t + SMX_EV_AHEAD) & r->mask], 1, 3);
        return &r->outs[t & r->mask];
}

/* Producer only. The next free entry for a SUBMITTED or FAILED outcome whose
 * ids fit (event_out_fits), or NULL when the ring is full; the caller writes
 * every field. A reserve of either kind replaces an uncommitted one. */
static inline struct smx_ev_out *event_ring_reserve_outcome_w(struct smx_event_ring *r)
{
        struct smx_ev_out *o = event_ring_next_free_w(r);
        if (o)
                r->reserved_big = 0;
        return o;
}

/* Publish what was reserved last (release store: its contents are visible to
 * the consumer before the new tail is). */
static inline void event_ring_commit_w(struct smx_event_ring *r)
{
        uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
        if (r->reserved_big) {
                struct smx_ev_out *o = &r->outs[t & r->mask];
                o->type = SMX_EV_OUT_BIG;
                o->big = r->big_tail++;
                r->reserved_big = 0;
        }
        if (r->gate)    /* the writes this entry may be shown after (event_ring_gate) */
                r->gate[t & r->mask] = atomic_load_explicit(r->gate_src, memory_order_relaxed);
        /* release: the entry's and the record's contents happen-before the
         * consumer's acquire load of the new tail */
        atomic_store_explicit(&r->tail, t + 1, memory_order_release);
}

/* Free entries as the producer sees them now. */
static inline uint32_t event_ring_space_w(const struct smx_event_ring *r)
{
        /* acquire: pairs with the consumer's release of head, so entries it
         * released are no longer being read when we reuse them */
        struct smx_event_ring *m = (struct smx_event_ring *)r;
        uint32_t h = atomic_load_explicit(&m->head, memory_order_acquire);
        uint32_t t = atomic_load_explicit(&m->tail, memory_order_relaxed);
        return r->mask + 1 - (t - h);
}
/* Entries committed and not yet released by the consumer (any thread; a
 * snapshot). */
uint32_t event_ring_used(const struct smx_event_ring *r);

/* Consumer only. The n-th committed entry after the oldest (0 = oldest), or
 * NULL when fewer than n+1 are committed. Lets the consumer hold a batch of
 * entries and release them all later (release frees the oldest first). */
const struct smx_ev_out *event_ring_peek_out_nth(struct smx_event_ring *r, uint32_t n);
/* Consumer only. How many entries are committed and not released (one
 * acquire load of tail: the entries below it are complete). */
uint32_t event_ring_readable(struct smx_event_ring *r);
/* Consumer only. Where the entries are, for reading a batch without a call
 * per entry: the n-th after the oldest (n < event_ring_readable) is
 * outs[(head + n) & mask]. Valid until the consumer releases entries. */
struct smx_ev_view {
        const struct smx_ev_out *outs;
        uint32_t head, mask;
};
struct smx_ev_view event_ring_view(struct smx_event_ring *r);
static inline const struct smx_ev_out *event_view_nth(struct smx_ev_view v, uint32_t n)
{
        return &v.outs[(v.head + n) & v.mask];
}
/* Consumer only. The full record an SMX_EV_OUT_BIG entry refers to. */
struct smx_ev_rec *event_ring_big(struct smx_event_ring *r, const struct smx_ev_out *o);
/* Consumer only. The oldest committed event as a full record, or NULL: the
 * record itself, or an outcome entry copied into a consumer-owned record
 * (valid until the next peek). For tests and tools; smx_events_poll reads
 * the entries. */
struct smx_ev_rec *event_ring_peek(struct smx_event_ring *r);
/* Release the oldest entry (and its record's text_heap). */
void event_ring_release(struct smx_event_ring *r);
/* Release the n oldest entries (n <= committed; their records' text_heap
 * freed) with one store of head, not one per entry. */
void event_ring_release_n(struct smx_event_ring *r, uint32_t n);

/* Set the text of a record: inline when it fits, else malloc'd (text_heap).
 * Always NUL-terminated. Returns 0 or -ENOMEM. Producer only. */
int event_rec_set_text(struct smx_ev_rec *e, const char *text, size_t len);
/* The text of a record, NUL-terminated. */
static inline const char *event_rec_text(const struct smx_ev_rec *e)
{
        return e->text_heap ? e->text_heap : e->text;
}

/* Copy at most cap-1 bytes of a (possibly non-terminated) view into dst and
 * NUL-terminate; bytes outside printable ASCII are kept as-is. Returns length. */
size_t event_copy_str(char *dst, size_t cap, const void *src, size_t len);

#endif
