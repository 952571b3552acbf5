/* The per-worker event ring: worker -> application, single producer (the
 * owning worker) and single consumer (the thread in smx_events_poll).
 *
 * Records are fixed-size and written in place: the producer reserves the next
 * free record, fills it, and commits; the consumer reads committed records in
 * order and releases them. Indices are free-running 32-bit counters; capacity
 * is a power of two. Nothing allocates after create, except an MO text too
 * long for the inline buffer (rare), which the producer mallocs and the
 * consumer frees on release.
 *
 * "In the event ring" (ARCHITECTURE: deliver_sm is answered only after the
 * event is safely in the event ring) means: committed. */
#ifndef SMX_EVENT_RING_H
#define SMX_EVENT_RING_H

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

/* One event as stored in a ring. Written by the owner worker between reserve
 * and commit; read by the polling thread between poll and release. */
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

/* SPSC ring of smx_ev_rec. head: next to read (consumer writes); tail: next to
 * write (producer writes). Each sits on its own cache line. */
struct smx_event_ring;

struct smx_event_ring *event_ring_create(uint32_t capacity_pow2);
void event_ring_destroy(struct smx_event_ring *r);

/* Producer (owner worker) only. Returns the next free record, zeroed in the
 * fields events use, or NULL when the ring is full. Reserve again without a
 * commit returns the same record. */
struct smx_ev_rec *event_ring_reserve_w(struct smx_event_ring *r);
/* Publish the reserved record (release store: its contents are visible to the
 * consumer before the new tail is). */
void event_ring_commit_w(struct smx_event_ring *r);
/* Producer only. Like event_ring_reserve_w for a SUBMITTED or FAILED record,
 * of which the consumer reads only the fields up to message_id: those are
 * cleared, the DR/MO/BIND strings further on are left as they are, so an
 * outcome writes the record's first ~180 bytes only (not the string heads
 * spread over its first ~400: fewer cold cache lines per MT). */
struct smx_ev_rec *event_ring_reserve_outcome_w(struct smx_event_ring *r);
/* Free records as the producer sees them now. */
uint32_t event_ring_space_w(const struct smx_event_ring *r);
/* Records committed and not yet released by the consumer (any thread; a
 * snapshot). */
uint32_t event_ring_used(const struct smx_event_ring *r);

/* Consumer only. Returns the oldest committed record or NULL. */
struct smx_ev_rec *event_ring_peek(struct smx_event_ring *r);
/* Consumer only. The n-th committed record after the oldest (0 = oldest), or
 * NULL when fewer than n+1 are committed. Lets the consumer hold a batch of
 * records and release them all later (release frees the oldest first). */
struct smx_ev_rec *event_ring_peek_nth(struct smx_event_ring *r, uint32_t n);
/* Release the record returned by the last peek (frees text_heap). */
void event_ring_release(struct smx_event_ring *r);

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
