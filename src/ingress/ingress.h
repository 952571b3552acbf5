/* MT slots, their free stack, the shared MPMC ring and the per-thread lanes
 * (lane.h) between application threads and workers.
 *
 * Every accepted MT lives in one preallocated 448-byte slot from smx_submit()
 * until its outcome is in an event ring. Free slots form a LIFO stack of
 * bundles linked through the slots themselves (lock-free, a version-tagged
 * top against ABA), so smx_submit reuses slots freed last, whose lines are
 * still in cache. An MT waiting for a worker sits (by index) on its
 * thread's lane (lane.h) or on the shared ingress ring, an MPMC ring of
 * 4-byte indices (idx_ring.h) that holds exactly n_slots entries, so it can
 * hold every slot at once: a push of a slot index can therefore never fail
 * (re-enqueueing an MT for a resend is always possible, and a full lane
 * overflows to it), and "ingress full" is "no free slot" (except the few
 * cached in other threads' lanes). Workers pop several at once.
 *
 * A slot is written by the submitting thread before its index is published
 * and afterwards only by the worker that popped it (the publication's
 * release and the pop's acquire order the hand-over). Text up to SMX_SLOT_TEXT_INLINE bytes is stored inline; a
 * longer text is in one preallocated block of the text pool (text_pool.h)
 * that goes back to the pool with the slot. */
#ifndef SMX_INGRESS_H
#define SMX_INGRESS_H

#include <pthread.h>
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
                                      the slot is free and heads a bundle, the free
                                      stack link to the next bundle (read racily by a
                                      popper whose CAS then fails) */
        union {
                uint32_t attempts; /* submit_sm sent so far (pushbacks included) */
                uint32_t free_n;   /* while free, at a bundle's head: its size */
        };
        uint64_t submit_us;        /* smx_stamp_us() at smx_submit (core/stamp.h) */
        uint8_t *overflow;         /* text when longer than the inline buffer: a
                                      text pool block, NULL otherwise */
        union {
                uint32_t not_before_ms; /* retry backoff: not sent before this (low 32
                                           bits of the ms clock; compared wrap-safe) */
                uint32_t free_next;     /* while free: the next slot of its bundle
                                           (SMX_SLOT_NONE: the bundle's last) */
        };
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

/* The most slots per bundle of the free stack, so the most a lane caches;
 * an ingress uses n_slots / 64 of them, between 1 and this (struct
 * smx_ingress, bundle), so that threads' caches hold little of a small
 * pool: a thread finds the ingress full (SMX_EAGAIN) while up to
 * bundle - 1 slots per other submitting thread sit in their caches. */
#define SMX_SLOT_BUNDLE 32u
/* Most lanes an ingress has (a thread beyond that submits on the shared
 * ring), and the most cells one lane's ring has: min(n_slots, this), 16 KiB
 * per submitting thread at most; a fuller lane overflows to the shared
 * ring. */
#define SMX_LANES_MAX 256u
#define SMX_LANE_CELLS_MAX 4096u

struct smx_lane;

/* The pool and its rings. Shared by all threads; fields are read-only after
 * create except the rings (MPMC), the lanes (lane.h) and the slots
 * (hand-over, see above).
 *
 * The free stack is bundled: each element is a bundle of up to `bundle`
 * free slots (its head's free_n says how many), chained
 * inside through free_next; bundle heads are linked through `next` and
 * the top is version << 32 | the top bundle's head. A lane refills its
 * cache with one bundle, one CAS and no walk (the walk of 32 dependent
 * links, a cache miss each, was 6 % of smx_submit: bench/README.md); a
 * worker's run of freed slots goes back as bundles of up to `bundle`,
 * one CAS for the run. */
struct smx_ingress {
        uint32_t n_slots;
        uint32_t lane_cells;       /* cells of each lane's ring */
        uint32_t bundle;           /* slots per bundle (SMX_SLOT_BUNDLE above) */
        uint8_t *slots;            /* n_slots * SMX_SLOT_SIZE, 64-byte aligned */
        struct smx_idx_ring in_ring;       /* n_slots cells */
        /* free stack top: version << 32 | top bundle's head (SMX_SLOT_NONE:
         * empty); a cache line of its own, every refill and free CASes it */
        char pad0_[64];
        _Atomic uint64_t free_top;
        char pad1_[64 - sizeof(uint64_t)];
        /* the lanes made so far (lane.h), each kept until ingress_fini and
         * reused when its thread hands it back; lane[i] is set before
         * n_lanes covers it (release). Read by every consumer. */
        _Atomic uint32_t n_lanes;
        struct smx_lane *_Atomic lane[SMX_LANES_MAX];
        pthread_mutex_t lanes_mu;  /* lane claim and hand-back (not the hot path) */
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
/* Free the slots, the rings, the lanes and the text pool. */
void ingress_fini(struct smx_ingress *g);

static inline struct smx_slot *ingress_slot(const struct smx_ingress *g, uint32_t idx)
{
        return (struct smx_slot *)(void *)(g->slots + (size_t)idx * SMX_SLOT_SIZE);
}

/* Take one bundle of free slots with one CAS: its head (the rest follow
 * through free_next, *n in all), or SMX_SLOT_NONE when none is free. */
static inline uint32_t ingress_bundle_take(struct smx_ingress *g, uint32_t *n)
{
        uint64_t t = atomic_load_explicit(&g->free_top, memory_order_acquire);
        for (;;) {
                uint32_t head = (uint32_t)t;
                if (head == SMX_SLOT_NONE)
                        return SMX_SLOT_NONE;
                /* racy if another thread took this bundle meanwhile: then
                 * the version moved and the CAS fails */
                uint32_t below = atomic_load_explicit(&ingress_slot(g, head)->next,
                                                      memory_order_relaxed);
                if (atomic_compare_exchange_weak_explicit(&g->free_top, &t,
                                                          free_stack_top(t, below),
                                                          memory_order_acquire,
                                                          memory_order_acquire)) {
                        *n = ingress_slot(g, head)->free_n;
                        return head;
                }
        }
}
/* Give back a bundle (head, n slots chained through free_next, the last's
 * SMX_SLOT_NONE, 1 <= n <= g->bundle) with one CAS. */
void ingress_bundle_put(struct smx_ingress *g, uint32_t head, uint32_t n);

/* Take a free slot: its index, or SMX_SLOT_NONE when the free stack is
 * empty. Takes a bundle and gives the rest back (two CASes): for
 * threads without a lane and for tests; smx_submit takes from its lane. */
uint32_t ingress_slot_take(struct smx_ingress *g);
/* Take up to max free slots; returns how many went into out. */
uint32_t ingress_slot_take_n(struct smx_ingress *g, uint32_t *out, uint32_t max);
/* The slot's side of a free: its text block back to the text pool, a new
 * identity (gen, tag), answers of its last attempt stale. */
void ingress_slot_release(struct smx_ingress *g, uint32_t idx);
/* Return a slot to the pool (ingress_slot_release, then a bundle of one). */
void ingress_slot_free(struct smx_ingress *g, uint32_t idx);

/* Slots freed by one thread and returned to the pool together: bundles of
 * up to g->bundle, linked, given back with one CAS for the run
 * instead of one per slot (a worker frees the slots of a loop turn's
 * outcomes this way). Owned by that thread. */
struct smx_slot_chain {
        uint32_t first;         /* head of the newest bundle (SMX_SLOT_NONE: empty) */
        uint32_t tail_head;     /* head of the oldest bundle: linked to the stack */
        uint32_t n;
};
#define SMX_SLOT_CHAIN_EMPTY ((struct smx_slot_chain){ SMX_SLOT_NONE, SMX_SLOT_NONE, 0 })
/* Free slot idx (as ingress_slot_free) into the chain: it reaches the pool
 * at ingress_chain_free. */
void ingress_chain_add(struct smx_ingress *g, struct smx_slot_chain *ch, uint32_t idx);
/* Return the chain's slots to the pool (one CAS); the chain is empty after. */
void ingress_chain_free(struct smx_ingress *g, struct smx_slot_chain *ch);

/* Queue a slot for the workers on the shared ring. Never fails (see above). */
void ingress_push(struct smx_ingress *g, uint32_t idx);
/* Queue n slots as one run, in order (one reservation). Never fails. */
void ingress_push_n(struct smx_ingress *g, const uint32_t *idx, uint32_t n);
/* ingress_push_n (n >= 1), inline: the publication of a thread without a
 * lane. Its ring reservation CAS is seq_cst, so the publisher's seq_cst
 * loads of the workers' `sleeping` after it need no fence (the hand-shake
 * below). Never fails. */
static inline void ingress_publish_n(struct smx_ingress *g, const uint32_t *idx, uint32_t n)
{
        (void)idx_ring_push_n(&g->in_ring, idx, n);   /* cannot fail: holds every slot */
}
/* Pop the oldest queued slot, or SMX_SLOT_NONE. */
uint32_t ingress_pop(struct smx_ingress *g);
/* Pop up to max queued slots from the lanes (lane.h) into out, the lanes
 * taken in turn from a per-thread start; returns how many. */
uint32_t ingress_pop_lanes(struct smx_ingress *g, uint32_t *out, uint32_t max);
/* Pop up to max queued slots into out: the shared ring's first (re-pushed
 * MTs, threads without a lane), then the lanes'; returns how many. */
static inline uint32_t ingress_pop_n(struct smx_ingress *g, uint32_t *out, uint32_t max)
{
        uint32_t n = idx_ring_pop_n(&g->in_ring, out, max);
        if (n < max && atomic_load_explicit(&g->n_lanes, memory_order_acquire))
                n += ingress_pop_lanes(g, out + n, max - n);
        return n;
}
/* MTs published on the lanes and not yet popped (a snapshot). */
uint32_t ingress_lanes_queued(const struct smx_ingress *g);

/* A full fence (seq_cst): the publisher's and the sleeper's halves of the
 * lane hand-shake below. On x86 a locked no-op on the stack, cheaper than
 * mfence and as strong for ordinary (write-back) memory. */
static inline void smx_fence_sc(void)
{
#if defined(__x86_64__)
        __asm__ volatile("lock orq $0, (%%rsp)" ::: "memory", "cc");
#else
        atomic_thread_fence(memory_order_seq_cst);
#endif
}

/* The sleep hand-shake between a thread that may sleep waiting for MTs (a
 * worker) and the threads that publish them (smx_submit), with no lost
 * wake-up.
 *
 * Lanes (lane.h: a thread's own single-producer ring, published with a
 * release store) are a store-buffering pattern: the publisher W(tail)
 * then R(flag); the sleeper W(flag) then R(tail). Without a fence, x86
 * lets each side's load pass its own store (the store waits in the store
 * buffer) and both miss the other: the publisher sees the sleeper awake,
 * the sleeper sees nothing queued and sleeps with an MT on the lane. So
 * each side makes a seq_cst fence between its store and its load (the
 * publisher's in lane_publish_n, the sleeper's in ingress_announce_sleep):
 * of the two fences one is first in the single total order S, and the
 * load after the later one sees the store before the earlier one. (A
 * membarrier on the sleeper's side instead, with no fence on the
 * publisher's, costs 13.6 us per sleep on this VM: bench/README.md.)
 * tests/unit/core/test_core_lane_litmus.c loses wake-ups in most rounds
 * with the publisher's fence removed.
 *
 * The shared ring (threads without a lane, a worker's re-push) needs no
 * fence on the publisher's side: the sleeper, after W(flag) seq_cst, then
 * R(p_head) seq_cst (idx_ring_reserved: the ring's reservation counter,
 * not its published end p_tail), compares it with c_head; the publisher
 * reserves its run with the ring's seq_cst CAS on p_head, publishes it
 * (p_tail, release), then R(flag) seq_cst (ingress_sleep_flag), and wakes
 * the sleeper if the flag says it sleeps. The CAS is sequenced before
 * R(flag), so it precedes it in S. Suppose R(flag) returned a value older
 * than the W(flag) of an announce that ended in a sleep: then CAS <
 * R(flag) < W(flag) < R(p_head) in S, and R(p_head) sees the reservation:
 * either its run is not yet popped (the sleeper stays up, contradiction)
 * or a consumer popped it already (it is being handled). If R(flag) saw
 * W(flag), the publisher wakes the sleeper; if it saw a later store (the
 * sleeper's own reset after waking, or a waker's exchange, which ends the
 * sleep), the sleep is over.
 *
 * The price of looking at reservations is a new case for the sleeper: it
 * may see a run reserved and not yet published (its publisher between its
 * CAS and its store to p_tail), so it must not sleep, yet has nothing to
 * pop. If that publisher runs on another CPU the run appears within a few
 * pauses; if it was preempted, possibly on the sleeper's own CPU, the
 * sleeper calls ingress_await_published, which pauses a little and then
 * yields the CPU, and looks again at its next turn. Stressed by
 * tests/unit/core/test_core_sleep_wake.c. */
static inline int ingress_sleep_flag(_Atomic int *flag)
{
        return atomic_load_explicit(flag, memory_order_seq_cst);
}
/* Store the flag (seq_cst), a full fence, then return how many slots are
 * reserved on the shared ring or published on a lane and not yet popped:
 * sleep only on 0. */
uint32_t ingress_announce_sleep(const struct smx_ingress *g, _Atomic int *flag, int value);
/* After ingress_announce_sleep returned > 0 (the caller, awake again, will
 * look at the rings on its next turn): if nothing is published yet, the
 * run it saw is reserved and its publisher is between its CAS and its
 * publication; pause up to 64 times for it (a publisher on another CPU),
 * then yield the CPU (one preempted, maybe on this CPU) rather than spin.
 * Returns at once when something is published. */
static inline void ingress_await_published(const struct smx_ingress *g)
{
        for (unsigned i = 0; i < 64; i++) {
                if (idx_ring_size(&g->in_ring) > 0 || ingress_lanes_queued(g) > 0)
                        return;
#if defined(__x86_64__) || defined(__i386__)
                __builtin_ia32_pause();
#endif
        }
        sched_yield();
}

/* Slots published since the ingress was created, modulo 2^32: the shared
 * ring's reservation counter (a push counts before its slot can be
 * popped) plus every lane's published end. Acquire loads. */
uint32_t ingress_pushed(const struct smx_ingress *g);
/* Approximate number of queued slots (published, not yet popped). */
uint32_t ingress_queued(const struct smx_ingress *g);

/* The 16-octet MT identity (R5): 8-octet client nonce + 8-octet serial
 * (generation << 32 | slot index), both big-endian. */
static inline uint64_t smx_slot_serial(uint32_t idx, uint32_t gen)
{
        return ((uint64_t)gen << 32) | idx;
}

#endif
