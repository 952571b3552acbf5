/* MT slots and the two MPMC rings between application threads and workers.
 *
 * Every accepted MT lives in one preallocated 448-byte slot from smx_submit()
 * until its outcome is in an event ring. Free slots form a LIFO stack linked
 * through the slots themselves (lock-free, a version-tagged top against ABA),
 * so smx_submit reuses the slot freed last, whose lines are still in cache.
 * An MT waiting for a worker sits (by index) on the ingress ring, an MPMC
 * ring of 4-byte indices (idx_ring.h) that holds exactly n_slots entries, so
 * it can hold every slot at once: a push of a slot index can therefore never
 * fail (re-enqueueing an MT for a resend is always possible), and "ingress
 * full" is exactly "no free slot". Workers pop several at once.
 *
 * A slot is written by the submitting thread before its index is pushed and
 * afterwards only by the worker that popped it (the ring's CAS orders the
 * hand-over). Text up to SMX_SLOT_TEXT_INLINE bytes is stored inline; a
 * longer text is in one preallocated block of the text pool (text_pool.h)
 * that goes back to the pool with the slot. */
#ifndef SMX_INGRESS_H
#define SMX_INGRESS_H

#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ingress/free_stack.h"
#include "ingress/idx_ring.h"
#include "ingress/text_pool.h"
#include "pdu/submit_short.h"
#include "smsmux.h"

#define SMX_SLOT_NONE 0xFFFFFFFFu

enum {
        SMX_SLOTF_RESENT = 1u << 0,   /* sent again after a lost/timed-out request */
        SMX_SLOTF_GSM_PLAIN = 1u << 1, /* smx_submit found the text GSM-plain (text.h
                                          smx_text_choose_plain): encoded by a copy */
        SMX_SLOTF_PRE = 1u << 2,       /* text_inline holds the MT's submit_sm body,
                                          pre-encoded by smx_submit (core/mt_pre.h);
                                          from/to are not written (smx_slot_from/_to) */
        SMX_SLOTF_PRE_TEXT_END = 1u << 3, /* with PRE: the text is not the body's
                                          short_message octets and sits at the end of
                                          the inline area (smx_slot_text) */
};

/* How the failed parts of a long MT's attempt failed (smx_slot.fail_bits). */
enum {
        SMX_PARTF_THROTTLED = 1u << 0,  /* ESME_RTHROTTLED / ESME_RMSGQFUL */
        SMX_PARTF_TRANSIENT = 1u << 1,  /* another transient error status */
        SMX_PARTF_LOST = 1u << 2,       /* no answer: bind lost or response timeout */
        SMX_PARTF_PERMANENT = 1u << 3,  /* rejected */
};

/* One MT in flight. Owned by whichever thread holds its index (see above).
 * 448 bytes (7 cache lines): the fields the worker reads first fill line 0;
 * addresses carry no NUL (lengths say where they end); the text follows
 * inline when it fits (216 bytes: a single-part SMS of 160 GSM characters in
 * ASCII or of 70 UCS-2 characters of up to 3 UTF-8 bytes), else it is in one
 * block of the ingress's text pool. A single-part MT whose submit_sm body
 * smx_submit pre-encoded (SMX_SLOTF_PRE, core/mt_pre.h) has that body at
 * text_inline, its addresses inside it, and its text inside it too or at
 * the end of the inline area (smx_slot_text). */
struct smx_slot {
        uint32_t gen;              /* bumped when the slot is freed (identity serial) */
        _Atomic uint32_t tag;      /* current attempt; changed before every hand-over,
                                      so a response carrying an older tag is stale */
        _Atomic uint32_t next;     /* worker-local list link (SMX_SLOT_NONE = end); while
                                      the slot is free, the free stack link (read racily
                                      by a popper whose CAS then fails) */
        uint32_t attempts;         /* submit_sm sent so far (pushbacks included) */
        uint64_t submit_us;        /* smx_stamp_us() at smx_submit (core/stamp.h) */
        uint8_t *overflow;         /* text when longer than the inline buffer: a
                                      text pool block, NULL otherwise */
        uint32_t not_before_ms;    /* retry backoff: not sent before this (low 32 bits of
                                      the ms clock; compared wrap-safe) */
        uint32_t last_status;      /* last command_status seen */
        uint16_t text_len;
        uint16_t last_bind;        /* bind of the last attempt, 0xFFFF none */
        uint16_t out_bind;
        uint16_t units;            /* text units in `encoding`, as smx_submit counted */
        uint8_t id_len, from_len, to_len;
        uint8_t n_parts, parts_ok; /* segments of the current attempt, accepted so far */
        uint8_t want_dr, priority, flags;
        uint8_t encoding;          /* as smx_submit chose it (never SMX_ENC_AUTO) */
        /* outcome, filled when the outcome cannot go into a full event ring */
        uint8_t out_type, out_reason, out_permanent;
        uint8_t pushbacks;         /* ESME_RTHROTTLED/RMSGQFUL answers not charged as
                                      attempts (worker_session.c; saturates at 255) */
        uint8_t parts_failed;      /* parts of the current attempt answered with an
                                      error or lost (a long MT's attempt ends when
                                      parts_ok + parts_failed == n_parts) */
        uint8_t fail_bits;         /* SMX_PARTF_*: how those parts failed */
        char from[SMX_ADDR_MAX];
        char to[SMX_ADDR_MAX];
        char id[SMX_ID_MAX];
        char out_msgid[SMX_MSGID_MAX + 1];
        uint8_t text_inline[];     /* fills the slot up to SMX_SLOT_SIZE */
};

#define SMX_SLOT_SIZE 448u
#define SMX_SLOT_TEXT_INLINE (SMX_SLOT_SIZE - sizeof(struct smx_slot))

/* Octets of a pre-encoded body (SMX_SLOTF_PRE) before its short_message,
 * and before its sm_length octet: service_type, the addresses with TON/NPI
 * and NULs, the fields up to sm_length (pdu/submit_short.h
 * SMX_SUBMIT_BODY_FIXED). */
static inline size_t smx_slot_pre_sm_at(const struct smx_slot *s)
{
        return smx_submit_body_sm_at(s->from_len, s->to_len);
}
/* The pre-encoded body's length, identity TLV included: its fields, its
 * short_message (sm_length says how long) and the 20-octet TLV. */
static inline size_t smx_slot_pre_len(const struct smx_slot *s)
{
        size_t at = smx_slot_pre_sm_at(s);
        return at + s->text_inline[at - 1] + SMX_SUBMIT_IDENT_TLV;
}
static inline const uint8_t *smx_slot_text(const struct smx_slot *s)
{
        if (s->overflow)
                return s->overflow;
        if (!(s->flags & SMX_SLOTF_PRE))
                return s->text_inline;
        if (s->flags & SMX_SLOTF_PRE_TEXT_END)
                return s->text_inline + SMX_SLOT_TEXT_INLINE - s->text_len;
        return s->text_inline + smx_slot_pre_sm_at(s);
}
/* The source / destination address (from_len / to_len octets): inside the
 * pre-encoded body when there is one (source_addr after service_type and
 * TON/NPI; destination_addr after its NUL and TON/NPI). */
static inline const char *smx_slot_from(const struct smx_slot *s)
{
        return (s->flags & SMX_SLOTF_PRE) ? (const char *)s->text_inline + SMX_SUBMIT_BODY_SRC_AT
                                          : s->from;
}
static inline const char *smx_slot_to(const struct smx_slot *s)
{
        return (s->flags & SMX_SLOTF_PRE)
                       ? (const char *)s->text_inline + smx_submit_body_dst_at(s->from_len)
                       : s->to;
}

/* The pool and its rings. Shared by all threads; fields are read-only after
 * create except the rings (MPMC) and the slots (hand-over, see above). */
struct smx_ingress {
        uint32_t n_slots;
        uint8_t *slots;            /* n_slots * SMX_SLOT_SIZE, 64-byte aligned */
        struct smx_idx_ring in_ring;       /* n_slots cells */
        /* free stack top: version << 32 | slot index (SMX_SLOT_NONE: empty);
         * padded to a cache line of its own, every take and free CASes it */
        char pad0_[64];
        _Atomic uint64_t free_top;
        char pad1_[64 - sizeof(uint64_t)];
        struct smx_text_pool text;         /* blocks for texts not inline (empty
                                              until ingress_text_init) */
};

/* Ring bytes allocated per slot of capacity (memory per in-flight MT). */
#define SMX_INGRESS_RING_BYTES_PER_SLOT sizeof(uint32_t)

int ingress_init(struct smx_ingress *g, uint32_t n_slots);
/* Create the text pool of an initialised ingress: n_long 1 KiB blocks and a
 * quarter as many (at least one) SMX_TEXT_MAX blocks; n_long 0 means
 * n_slots / 8, and more than n_slots is n_slots (an MT holds one block).
 * 0 or -ENOMEM. Without it every text must fit inline. */
int ingress_text_init(struct smx_ingress *g, uint32_t n_long);
/* Free the slots, the rings and the text pool. */
void ingress_fini(struct smx_ingress *g);

static inline struct smx_slot *ingress_slot(const struct smx_ingress *g, uint32_t idx)
{
        return (struct smx_slot *)(void *)(g->slots + (size_t)idx * SMX_SLOT_SIZE);
}

/* The free stack's links: each slot's `next` field. */
static inline struct free_stack_links ingress_slot_links(const struct smx_ingress *g)
{
        return (struct free_stack_links){ g->slots + offsetof(struct smx_slot, next),
                                          SMX_SLOT_SIZE };
}

/* Take a free slot (the one freed last): its index, or SMX_SLOT_NONE when
 * all are in use. Inline: smx_submit's one CAS without a call. */
static inline uint32_t ingress_slot_take(struct smx_ingress *g)
{
        return free_stack_pop(&g->free_top, ingress_slot_links(g));
}
/* Start loading, for writing, the slot that a take would hand out now (the
 * free stack's top), so the next smx_submit fills it from cache. A hint:
 * another thread may take that slot first. */
static inline void ingress_prefetch_next_free(const struct smx_ingress *g)
{
        uint32_t idx = (uint32_t)atomic_load_explicit(&((struct smx_ingress *)g)->free_top,
                                                      memory_order_relaxed);
        if (idx >= g->n_slots)
                return;
        const char *p = (const char *)ingress_slot(g, idx);
        for (unsigned off = 0; off < SMX_SLOT_SIZE; off += 64)
                __builtin_prefetch(p + off, 1, 3);
}
/* Take up to max free slots with one CAS (the most recently freed first);
 * returns how many went into out. */
uint32_t ingress_slot_take_n(struct smx_ingress *g, uint32_t *out, uint32_t max);
/* Return a slot to the pool (its text block back to the text pool, bumps
 * gen). */
void ingress_slot_free(struct smx_ingress *g, uint32_t idx);

/* Slots freed by one thread and returned to the pool together: one CAS on
 * the free stack's top for the run instead of one per slot (a worker frees
 * the slots of a loop turn's outcomes this way). Owned by that thread. */
struct smx_slot_chain {
        uint32_t first, last, n;
};
#define SMX_SLOT_CHAIN_EMPTY ((struct smx_slot_chain){ SMX_SLOT_NONE, SMX_SLOT_NONE, 0 })
/* Free slot idx (as ingress_slot_free) into the chain: it reaches the pool
 * at ingress_chain_free. */
void ingress_chain_add(struct smx_ingress *g, struct smx_slot_chain *ch, uint32_t idx);
/* Return the chain's slots to the pool (one CAS); the chain is empty after. */
void ingress_chain_free(struct smx_ingress *g, struct smx_slot_chain *ch);

/* Queue a slot for the workers. Never fails (see above). */
void ingress_push(struct smx_ingress *g, uint32_t idx);
/* Queue n slots as one run, in order (one reservation). Never fails. */
void ingress_push_n(struct smx_ingress *g, const uint32_t *idx, uint32_t n);
/* ingress_push_n (n >= 1), inline: smx_submit's publication. Its ring
 * reservation CAS is seq_cst, so the publisher's seq_cst loads of the
 * workers' `sleeping` after it need no fence (the hand-shake below). Never
 * fails. */
static inline void ingress_publish_n(struct smx_ingress *g, const uint32_t *idx, uint32_t n)
{
        (void)idx_ring_push_n(&g->in_ring, idx, n);   /* cannot fail: holds every slot */
}
/* Pop the oldest queued slot, or SMX_SLOT_NONE. */
uint32_t ingress_pop(struct smx_ingress *g);
/* Pop up to max of the oldest queued slots into out; returns how many. */
static inline uint32_t ingress_pop_n(struct smx_ingress *g, uint32_t *out, uint32_t max)
{
        return idx_ring_pop_n(&g->in_ring, out, max);
}
/* The sleep hand-shake between a thread that may sleep waiting for MTs (a
 * worker) and the threads that publish them (smx_submit), with no lost
 * wake-up and no fence on the publisher's side.
 *
 * The sleeper calls ingress_announce_sleep: W(flag) seq_cst, then
 * R(p_head) seq_cst (idx_ring_reserved: the ring's reservation counter,
 * not its published end p_tail), and compares it with c_head; it sleeps
 * only if that returned 0, i.e. every cell reserved so far was popped. A
 * publisher (ingress_publish_n) reserves its run with the ring's CAS on
 * p_head, seq_cst; publishes it (p_tail, release); then, with no fence,
 * R(flag) seq_cst (ingress_sleep_flag), and wakes the sleeper if the flag
 * says it sleeps. The CAS is sequenced before R(flag), so it precedes it
 * in the single total order S of seq_cst operations. Suppose R(flag)
 * returned a value older than the W(flag) of an announce that ended in a
 * sleep: then R(flag) precedes W(flag) in S (a seq_cst load reads the
 * last store to its object before it in S, and every store to `sleeping`
 * is seq_cst), so CAS < R(flag) < W(flag) < R(p_head) in S, and a seq_cst
 * load reads the last modification before it in S or a later one:
 * R(p_head) sees the reservation. Then either its run is not yet popped
 * (p_head != c_head: the sleeper stays up, contradiction) or a consumer
 * popped it already (it is being handled). If R(flag) saw W(flag), the
 * publisher wakes the sleeper; if it saw a later store (the sleeper's own
 * reset after waking, or a waker's exchange, which ends the sleep), the
 * sleep is over. Either way no MT waits out a sleep. The publication (the
 * store to p_tail) needs no ordering against R(flag): the sleeper looks
 * at the reservation, which the CAS made visible, so on x86 the
 * publisher's store may sit in its store buffer while its flag load runs
 * ahead.
 *
 * The price is a new case for the sleeper: it may see a run reserved and
 * not yet published (its publisher between its CAS and its store to
 * p_tail), so it must not sleep, yet has nothing to pop. If that
 * publisher runs on another CPU the run appears within a few pauses; if
 * it was preempted, possibly on the sleeper's own CPU (here the
 * application thread and the worker share CPU 1), spinning would burn the
 * sleeper's time slice while the publisher cannot run: the sleeper calls
 * ingress_await_published, which pauses a little and then yields the CPU,
 * and looks again at its next turn.
 *
 * Cost: the publisher's CAS is the one locked instruction it makes anyway
 * (on x86 a seq_cst CAS is the same `lock cmpxchg` as a relaxed one) and
 * its flag loads are plain loads; the sleeper's store is an XCHG once per
 * sleep. (Before, the publisher made a seq_cst fence after its
 * publication, a second locked instruction per smx_submit; making the
 * publication a seq_cst store instead measured no better: bench/README.md,
 * issue 16 table.) Every ring push makes the CAS seq_cst, so a worker's
 * re-push (ingress_push) is covered too, though a re-push wakes no one
 * (the re-pushing worker is awake; others see it at their next turn or
 * their WAIT_MS timeout). Stressed by tests/unit/core/test_core_sleep_wake.c
 * (the race, and a publisher stopped between its CAS and its
 * publication). */
static inline int ingress_sleep_flag(_Atomic int *flag)
{
        return atomic_load_explicit(flag, memory_order_seq_cst);
}
/* Store the flag (seq_cst), then return how many slots are reserved on the
 * ring and not yet popped (published or not): sleep only on 0. */
static inline uint32_t ingress_announce_sleep(const struct smx_ingress *g, _Atomic int *flag,
                                              int value)
{
        atomic_store_explicit(flag, value, memory_order_seq_cst);
        return idx_ring_reserved(&g->in_ring);   /* its load of p_head is seq_cst */
}
/* After ingress_announce_sleep returned > 0 (the caller, awake again, will
 * look at the ring on its next turn): if nothing is published yet, the
 * run it saw is reserved and its publisher is between its CAS and its
 * publication; pause up to 64 times for it (a publisher on another CPU),
 * then yield the CPU (one preempted, maybe on this CPU) rather than spin.
 * Returns at once when something is published. */
static inline void ingress_await_published(const struct smx_ingress *g)
{
        for (unsigned i = 0; i < 64; i++) {
                if (idx_ring_size(&g->in_ring) > 0)
                        return;
#if defined(__x86_64__) || defined(__i386__)
                __builtin_ia32_pause();
#endif
        }
        sched_yield();
}

/* Slots pushed on the ingress ring since it was created, modulo 2^32 (the
 * ring's reservation counter: a push counts before its slot can be popped).
 * Acquire. */
static inline uint32_t ingress_pushed(const struct smx_ingress *g)
{
        return atomic_load_explicit(&((struct smx_ingress *)g)->in_ring.p_head,
                                    memory_order_acquire);
}
/* Approximate number of queued slots (published, not yet popped). */
uint32_t ingress_queued(const struct smx_ingress *g);

/* The 16-octet MT identity (R5): 8-octet client nonce + 8-octet serial
 * (generation << 32 | slot index), both big-endian. */
static inline uint64_t smx_slot_serial(uint32_t idx, uint32_t gen)
{
        return ((uint64_t)gen << 32) | idx;
}

#endif
