/* One SMPP session (bind) as a pure state machine: no sockets, no clock, no
 * threads. Events go in (connected, bytes of one framed PDU, tick, closed,
 * unbind request), actions come out: PDUs appended to the session's output
 * buffer, a "close" verdict, and calls to the owner's callbacks (MT answered,
 * MT lost, deliver_sm arrived, state changed). The worker owns the socket and
 * turns completions into these events; unit tests drive it directly.
 *
 *   DOWN -> CONNECTING -> BINDING -> ACTIVE <-> THROTTLED -> DRAINING -> DOWN
 *
 * DRAINING is our unbind waiting for its unbind_resp, or the SMSC's unbind
 * waiting for the answers to the submit_sm it already has (D-09): no new
 * submit_sm goes out, the outstanding ones are answered (their message ids
 * kept, nothing resent twice), then the unbind_resp and the close; after
 * unbind_timeout_ms whatever is still outstanding is handed back
 * (mt_lost). ESME_RINVBNDSTS to a submit_sm while others are outstanding
 * (D-17) is the same in our direction: we unbind, the SMSC may still answer
 * the others before its unbind_resp. Complete PDUs received in the same read as the one that made
 * the session close are still taken (session_on_pdu), so an answer the SMSC
 * sent just after a closing one is not thrown away and its MT resent.
 *
 * Outstanding requests live in a table indexed by sequence_number & mask, so
 * a response is matched in O(1); a number whose cell is taken (outstanding or
 * tombstone) is skipped when numbering (E-09), numbers run 1..0x7FFFFFFF and
 * wrap to 1. A submit_sm whose response timed out leaves a tombstone for one
 * more response timeout so that a late response is attributed, not counted
 * as unknown and never reported twice (E-01). Requests the SMSC sends are
 * never looked up in the table (E-03).
 *
 * Owned by the worker that owns the bind; only that thread calls in. */
#ifndef SMX_SESSION_H
#define SMX_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "pdu/pdu.h"
#include "smsmux.h"

enum smx_req_kind {
        SREQ_FREE = 0, SREQ_BIND, SREQ_SUBMIT, SREQ_ENQUIRE, SREQ_UNBIND, SREQ_TOMB,
};

/* One outstanding request (or tombstone). */
struct smx_req {
        uint32_t seq;
        uint8_t kind;              /* enum smx_req_kind */
        uint8_t part;              /* segment index of a submit_sm (0-based) */
        uint32_t ref, ref_gen;     /* the MT slot and its generation */
        uint64_t deadline_ms;      /* response due (tombstone: expiry) */
};

struct smx_session_cfg {
        const char *system_id, *password, *system_type;
        enum smx_bind_mode bind_mode;
        uint32_t window;
        uint32_t bind_timeout_ms, response_timeout_ms;
        uint32_t enquire_link_interval_ms, enquire_link_timeout_ms;
        uint32_t unbind_timeout_ms;
        uint32_t throttle_base_ms, throttle_max_ms;
        uint32_t max_pdu;
};

/* Callbacks into the owner (the worker, or a test). */
struct smx_session_ops {
        /* A submit_sm got its answer (submit_sm_resp or generic_nack). msgid is
         * the resp's message_id (may be empty). late: it answers a request
         * that had already timed out (its MT was resent). */
        void (*mt_resp)(void *ctx, uint32_t ref, uint32_t ref_gen, uint8_t part,
                        uint32_t status, const uint8_t *msgid, size_t msgid_len, int late);
        /* An in-flight submit_sm lost its request (bind lost or response
         * timeout): the MT must be resent elsewhere with the same identity. */
        void (*mt_lost)(void *ctx, uint32_t ref, uint32_t ref_gen, uint8_t part, int timed_out);
        /* A deliver_sm/data_sm arrived on a bound session; returns the status
         * to answer with, or SMX_DELIVER_DEFER: the owner answers later with
         * session_answer_deferred (a shared store decides, rstore.h). */
        uint32_t (*deliver)(void *ctx, const struct smx_pdu *pdu);
        /* The state changed. status/reason say why when going DOWN. */
        void (*state)(void *ctx, enum smx_bind_health from, enum smx_bind_health to,
                      uint32_t status, const char *reason);
};

#define SMX_DELIVER_DEFER 0xFFFFFFFFu

struct smx_session_counters {
        uint64_t unknown_resp;     /* responses matching no request (dropped) */
        uint64_t late_resp;        /* responses matching a tombstone */
        uint64_t nacks_sent, bad_pdus, enquire_sent, enquire_answered;
        uint64_t throttled;
};

/* The session. Owned by one worker thread. */
struct smx_session {
        enum smx_bind_health state;
        const struct smx_session_cfg *cfg;
        const struct smx_session_ops *ops;
        void *ctx;
        uint32_t seq_next;
        struct smx_req *tab;       /* outstanding requests, tab_mask + 1 cells */
        uint32_t tab_mask;
        uint32_t n_submit;         /* outstanding submit_sm */
        uint32_t n_other;          /* outstanding bind/enquire/unbind + tombstones */
        uint64_t next_deadline_ms; /* no timer fires before this */
        uint64_t last_rx_ms;       /* last PDU received */
        uint8_t enquire_ok;        /* 0 after the SMSC nacked our enquire_link (D-15) */
        uint8_t enquire_out;       /* an enquire_link of ours is outstanding */
        uint8_t close_wanted;      /* the owner must flush the output and close */
        uint8_t tlvs_ok;           /* bind_resp said 3.4+ (or nothing): TLVs allowed */
        uint8_t suspect;           /* a response timed out: probe before routing more */
        uint8_t peer_unbind;       /* the SMSC sent unbind with submits outstanding: its
                                      unbind_resp waits for their answers (D-09) */
        uint32_t peer_unbind_seq;  /* that unbind's sequence number */
        uint64_t peer_unbind_deadline_ms; /* answer it by then whatever is outstanding */
        const char *unbind_why;    /* our unbind was sent because of this (D-17), NULL:
                                      a plain unbind; the close reports it */
        uint32_t unbind_status;    /* the command_status behind unbind_why */
        uint64_t throttle_until_ms;
        uint32_t throttle_ms;      /* current adaptive pause */
        uint32_t throttle_mark_seq; /* the next sequence number when the last throttled
                                       answer came: a submit numbered from it on was
                                       sent after that pause ended */
        uint32_t down_status;      /* command_status behind the last close, 0 none */
        char down_reason[48];
        /* Output, double-buffered so nothing is ever moved: PDUs are encoded
         * at out + out_len while the other half (flight) is being sent. */
        uint8_t *out;              /* half being filled (memory owned by the caller) */
        uint32_t out_len, out_cap; /* bytes in it; size of each half */
        uint8_t *spare;            /* the other half when no send holds it, else NULL */
        uint8_t *flight;           /* half handed to the owner to send, NULL none */
        uint32_t flight_len, flight_off; /* its bytes; how many were sent */
        struct smx_session_counters cnt;
};

/* Table cells needed for a window: a power of two >= 4 * (window + 4). */
uint32_t session_table_size(uint32_t window);

void session_init(struct smx_session *s, const struct smx_session_cfg *cfg,
                  const struct smx_session_ops *ops, void *ctx,
                  struct smx_req *tab, uint32_t tab_cells, uint8_t *out, uint32_t out_cap);
/* (out, out_cap) is split in two halves of out_cap / 2 bytes. */

/* DOWN -> CONNECTING (a connect attempt starts). */
void session_connecting(struct smx_session *s, uint64_t now_ms);
/* CONNECTING -> BINDING: the TCP connection is up; the bind request is
 * queued. Returns 0, or -1 if it could not be encoded (session closes). */
int session_connected(struct smx_session *s, uint64_t now_ms);

/* Result of the event functions below. */
enum { SESS_OK = 0, SESS_CLOSE = 1 };

/* One whole PDU (frame from smx_frame_peek) arrived. */
int session_on_pdu(struct smx_session *s, const uint8_t *buf, size_t len, uint64_t now_ms);
/* The byte stream cannot be framed (command_length unusable, A-01..A-07):
 * generic_nack RINVCMDLEN if a 16-octet header is available, then close. */
int session_on_frame_error(struct smx_session *s, const uint8_t *buf, size_t len,
                           const char *why);
/* Answer a deliver_sm/data_sm (command_id) whose deliver callback returned
 * SMX_DELIVER_DEFER. Nothing when the session is down meanwhile. */
int session_answer_deferred(struct smx_session *s, uint32_t command_id, uint32_t seq,
                            uint32_t status);
/* Timers: response/bind/unbind/enquire deadlines, enquire_link when idle,
 * end of a throttle pause. */
int session_tick(struct smx_session *s, uint64_t now_ms);
/* The connection is gone (or the owner closed it): -> DOWN; every in-flight
 * MT is handed back through mt_lost. */
void session_closed(struct smx_session *s, uint64_t now_ms, uint32_t status, const char *reason);
/* Start a graceful unbind: ACTIVE/THROTTLED -> DRAINING, unbind sent, close
 * on unbind_resp or after unbind_timeout. BINDING/CONNECTING: close at once. */
int session_unbind(struct smx_session *s, uint64_t now_ms);

/* Give up every in-flight submit_sm (drain timeout): each becomes a
 * tombstone and is handed back through mt_lost. The session stays up. */
void session_abandon(struct smx_session *s, uint64_t now_ms);

/* The per-MT calls of the worker's dispatch (session_can_submit,
 * session_submit_begin, session_submit_commit) and what they use are inline
 * here, so a dispatched MT makes no call into session.c (bench/README.md
 * "CPU per MT, issue 16"). Owner thread only, as the rest of the session. */

/* Output space kept free for answers (deliver_sm_resp, enquire_link_resp,
 * generic_nack) when deciding whether another submit_sm fits. */
#define SESS_ANSWER_HEADROOM 16384u

/* The next free sequence number (numbers we originate run 1..0x7FFFFFFF and
 * skip those still outstanding), or 0 when the table has none. */
static inline uint32_t session_alloc_seq(struct smx_session *s)
{
        for (uint32_t i = 0; i <= s->tab_mask; i++) {
                uint32_t seq = s->seq_next;
                s->seq_next = seq >= SMPP_SEQ_MAX ? SMPP_SEQ_MIN : seq + 1;
                if (s->tab[seq & s->tab_mask].kind == SREQ_FREE)
                        return seq;
        }
        return 0;
}

/* Record an outstanding request under its sequence number. */
static inline void session_track(struct smx_session *s, uint32_t seq, uint8_t kind, uint32_t ref,
                                 uint32_t ref_gen, uint8_t part, uint64_t deadline)
{
        struct smx_req *r = &s->tab[seq & s->tab_mask];
        r->seq = seq;
        r->kind = kind;
        r->part = part;
        r->ref = ref;
        r->ref_gen = ref_gen;
        r->deadline_ms = deadline;
        if (kind == SREQ_SUBMIT)
                s->n_submit++;
        else
                s->n_other++;
        if (deadline < s->next_deadline_ms)
                s->next_deadline_ms = deadline;
}

/* May a submit_sm of up to `pdu_max` octets be sent now (ACTIVE, not paused,
 * window space, output space, a free sequence number)? */
static inline int session_can_submit(const struct smx_session *s, uint64_t now_ms, size_t pdu_max)
{
        (void)now_ms;
        return s->state == SMX_HEALTH_ACTIVE && !s->close_wanted && !s->suspect &&
               s->cfg->bind_mode != SMX_BIND_RX &&
               s->n_submit < s->cfg->window &&
               s->n_submit + s->n_other < (s->tab_mask + 1) / 2 &&
               (size_t)(s->out_cap - s->out_len) >= pdu_max + SESS_ANSWER_HEADROOM;
}
/* Where the next PDU would be encoded (the end of the output being filled)
 * and the room there; nothing is reserved (the worker's submit_sm fast path
 * writes a PDU here, then takes its sequence number with
 * session_submit_begin, which hands out the same place). */
static inline uint8_t *session_out_tail(const struct smx_session *s, size_t *cap)
{
        *cap = s->out_cap - s->out_len;
        return s->out + s->out_len;
}
/* Encode-in-place for a submit_sm: returns the next sequence number (0 when
 * none is free) and where to encode (*dst, *cap). Commit with the length. */
static inline uint32_t session_submit_begin(struct smx_session *s, uint8_t **dst, size_t *cap)
{
        *dst = s->out + s->out_len;
        *cap = s->out_cap - s->out_len;
        return session_alloc_seq(s);
}
static inline void session_submit_commit(struct smx_session *s, uint32_t seq, size_t len,
                                         uint32_t ref, uint32_t ref_gen, uint8_t part,
                                         uint64_t now_ms)
{
        s->out_len += (uint32_t)len;
        session_track(s, seq, SREQ_SUBMIT, ref, ref_gen, part,
                      now_ms + s->cfg->response_timeout_ms);
}

/* Force the next sequence number (tests of E-09). */
void session_set_next_seq(struct smx_session *s, uint32_t seq);

/* Output handling by the owner, one send at a time: session_out_take gives
 * the bytes to send next (*p, returned length; 0: nothing) — what is left of
 * the half being sent, else the filled half, which then stops taking new
 * PDUs; after a send of n of them completes, session_out_consumed(n).
 * session_out_pending: bytes not yet reported sent. */
size_t session_out_take(struct smx_session *s, const uint8_t **p);
void session_out_consumed(struct smx_session *s, size_t n);
static inline size_t session_out_pending(const struct smx_session *s)
{
        return s->out_len + (s->flight ? s->flight_len - s->flight_off : 0);
}

/* The ref of the outstanding submit_sm with this sequence number, or
 * UINT32_MAX: a read-only look for prefetching, no state changes. */
static inline uint32_t session_peek_submit_ref(const struct smx_session *s, uint32_t seq)
{
        const struct smx_req *r = &s->tab[seq & s->tab_mask];
        return r->kind == SREQ_SUBMIT && r->seq == seq ? r->ref : UINT32_MAX;
}

static inline int session_bound(const struct smx_session *s)
{
        return s->state == SMX_HEALTH_ACTIVE || s->state == SMX_HEALTH_THROTTLED;
}

#endif
