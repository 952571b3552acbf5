/* smx_submit and smx_submit_n: the application side of the ingress.
 *
 * An MT is checked (lengths, encoding: the text is counted once, here), a
 * free slot taken from the calling thread's lane (ingress/lane.h: a cache
 * refilled a bundle at a time from the lock-free free stack), the MT copied
 * into it (a text too long for the slot into a preallocated text block; a
 * single-part MT as its encoded submit_sm body, core/mt_pre.h) and its
 * index published on the lane (a release store and a fence); a run of MTs
 * is published once per SUBMIT_CHUNK. A thread without a lane (more than
 * SMX_LANES_MAX at once) uses the shared free stack and ring. No lock, no
 * allocation, and no syscall unless a worker announced it is about to
 * sleep (a lane is claimed, under a mutex, once per thread). Also the
 * in-flight count (accepted: the lanes' and the shared ring's pushes less
 * the workers' re-pushes; decided by the workers and the HTTP transport). */
#include <string.h>

#include "core/client_int.h"
#include "core/mt_pre.h"
#include "ingress/lane.h"
#include "mem/copy_small.h"
#include "http/http.h"
#include "text/gsm_plain.h"

/* An MT checked by mt_check: the lengths and the encoding smx_submit chose. */
struct mt_checked {
        size_t id_len, text_len, to_len, from_len, units;
        int enc;
        int gsm_plain;          /* smx_text_choose_plain's verdict */
};

/* The checks of smx_submit that need no slot: 0, SMX_EINVAL or SMX_E2BIG.
 * Inlined (as slot_fill and the slot take): one MT's smx_submit is one
 * function, no call per step. */
static inline __attribute__((always_inline)) int mt_check(const struct smx_mt *mt, struct mt_checked *k)
{
        if (!mt || !mt->id || !mt->to || !mt->text)
                return SMX_EINVAL;
        k->id_len = mt->id_len ? mt->id_len : strlen(mt->id);
        k->text_len = mt->text_len ? mt->text_len : strlen(mt->text);
        k->to_len = strnlen(mt->to, SMX_ADDR_MAX + 1);
        k->from_len = mt->from ? strnlen(mt->from, SMX_ADDR_MAX + 1) : 0;
        if (k->id_len == 0 || k->to_len == 0)
                return SMX_EINVAL;
        if (k->id_len > SMX_ID_MAX || k->to_len > SMX_ADDR_MAX || k->from_len > SMX_ADDR_MAX ||
            k->text_len > SMX_TEXT_MAX)
                return SMX_E2BIG;
        if ((unsigned)mt->encoding > SMX_ENC_UTF8 || mt->priority > 3)
                return SMX_EINVAL;
        /* the common case, a GSM-plain text in GSM or AUTO, without the
         * count's call: what smx_text_choose_plain would answer, 16 octets
         * at a time (text/gsm_plain.h) */
        if ((mt->encoding == SMX_ENC_AUTO || mt->encoding == SMX_ENC_GSM) &&
            smx_text_gsm_plain_all((const uint8_t *)mt->text, k->text_len)) {
                k->units = k->text_len;
                k->enc = SMX_ENC_GSM;
                k->gsm_plain = 1;
                return 0;
        }
        k->units = 0;
        k->enc = smx_text_choose_plain((const uint8_t *)mt->text, k->text_len, mt->encoding,
                                       &k->units, &k->gsm_plain);
        return k->enc < 0 ? SMX_EINVAL : 0;
}

/* Pre-encode a checked single-part MT's submit_sm body into slot s (its id
 * and gen set) with the client's profile (core/mt_pre.h): the slot flags
 * to add (SMX_SLOTF_PRE, SMX_SLOTF_PRE_TEXT_END), or 0 when it is not
 * pre-encoded (the caller stores text and addresses as fields). */
static inline __attribute__((always_inline)) unsigned slot_pre_encode(
        struct smx_client *c, uint32_t idx, struct smx_slot *s, const struct smx_mt *mt,
        const struct mt_checked *k)
{
        if (!c->pre_on || k->text_len > SMX_SLOT_TEXT_INLINE)
                return 0;
        uint8_t ident[16];
        client_mt_identity(c, idx, s, ident);
        struct smx_seg_opts so = {
                .enc = (enum smx_encoding)k->enc, .units = k->units, .map = &c->pre_map,
                .gsm_packed = c->pre_packed, .gsm_plain = (uint8_t)k->gsm_plain,
        };
        int at_end;
        if (!smx_mt_pre_encode(s->text_inline, SMX_SLOT_TEXT_INLINE, mt->from ? mt->from : "",
                               k->from_len, mt->to, k->to_len, mt->priority, mt->want_dr != 0,
                               (const uint8_t *)mt->text, k->text_len, &so, ident, c->pre_gsm_dcs,
                               &at_end))
                return 0;
        return SMX_SLOTF_PRE | (at_end ? SMX_SLOTF_PRE_TEXT_END : 0);
}

/* Copy a checked MT into slot idx: 0, or SMX_EAGAIN when its text needs a
 * text-pool block and none is free (the caller frees the slot). A
 * single-part MT's submit_sm body is encoded here, once, instead of its
 * text and addresses being copied (slot_pre_encode): the worker then only
 * writes the header and copies the body (bench/README.md, issue 16). */
static inline __attribute__((always_inline)) int slot_fill(struct smx_client *c, uint32_t idx, const struct smx_mt *mt,
                     const struct mt_checked *k, uint64_t now_us)
{
        struct smx_slot *s = ingress_slot(&c->ing, idx);
        s->id_len = (uint8_t)k->id_len;
        copy_small(s->id, mt->id, k->id_len);
        unsigned pre = slot_pre_encode(c, idx, s, mt, k);   /* text, addresses in it */
        if (!pre && k->text_len > SMX_SLOT_TEXT_INLINE) {
                s->overflow = text_pool_take(&c->ing.text, k->text_len);
                if (!s->overflow)       /* every long-text block in use: backpressure */
                        return SMX_EAGAIN;
                memcpy(s->overflow, mt->text, k->text_len);
        } else if (!pre) {
                copy_small(s->text_inline, mt->text, k->text_len);
        }
        s->text_len = (uint16_t)k->text_len;
        s->submit_us = now_us;
        s->not_before_ms = 0;
        s->attempts = 0;
        s->pushbacks = 0;
        s->last_status = 0;
        s->last_bind = 0xFFFF;
        s->to_len = (uint8_t)k->to_len;
        s->from_len = (uint8_t)k->from_len;
        if (!pre) {
                copy_small(s->to, mt->to, k->to_len);
                if (k->from_len)
                        copy_small(s->from, mt->from, k->from_len);
        }
        s->want_dr = mt->want_dr != 0;
        s->encoding = (uint8_t)k->enc;    /* the worker segments without counting again */
        s->units = (uint16_t)k->units;
        s->priority = mt->priority;
        s->flags = (uint8_t)((k->gsm_plain ? SMX_SLOTF_GSM_PLAIN : 0) | pre);   /* the worker copies it */
        s->n_parts = s->parts_ok = s->parts_failed = s->fail_bits = 0;
        s->out_msgid[0] = 0;
        return 0;
}

/* Wake the idle workers that can take MTs just published (a worker asleep
 * with every bind's window full would only wake, find nothing to do and
 * sleep again: a syscall and two context switches per publish when threads
 * outnumber cores, bench/README.md "Worker count"), and the HTTP loop. The
 * flag loads follow the publication's fence (a lane's) or its seq_cst CAS
 * (the shared ring's): no lost wake-up, src/ingress/ingress.h. */
static inline void wake_takers(struct smx_client *c)
{
        for (unsigned k = 0; k < c->n_workers; k++)
                if (ingress_sleep_flag(&c->workers[k].sleeping) == WORKER_SLEEP_FOR_INGRESS)
                        worker_wake(&c->workers[k]);
        if (c->http)
                smx_http_wake(c->http);
}

/* The calling thread's lane of c (ingress/lane.h), NULL when it has none
 * (SMX_LANES_MAX threads hold one): the shared ring then. The one-entry
 * thread-local cache is keyed by the client's serial, never reused, so a
 * destroyed client's entry matches no later client. */
static _Thread_local struct {
        uint64_t serial;
        struct smx_lane *lane;
} tls_lane;

static __attribute__((noinline)) struct smx_lane *client_lane_slow(struct smx_client *c)
{
        struct smx_lane *l = pthread_getspecific(c->lane_key);
        if (!l) {
                l = lane_claim(&c->ing);
                if (l && pthread_setspecific(c->lane_key, l) != 0) {
                        lane_release(l);
                        l = NULL;
                }
        }
        tls_lane.serial = c->serial;
        tls_lane.lane = l;
        return l;
}

static inline struct smx_lane *client_lane(struct smx_client *c)
{
        if (__builtin_expect(tls_lane.serial == c->serial, 1))
                return tls_lane.lane;
        return client_lane_slow(c);
}

void client_lane_exit(void *lane)
{
        struct smx_lane *l = lane;
        if (tls_lane.lane == l)
                tls_lane.serial = 0;
        lane_release(l);
}

/* Take a free slot: from the lane's cache (one CAS per bundle), else from
 * the shared free stack. */
static inline uint32_t slot_take(struct smx_client *c, struct smx_lane *l)
{
        return l ? lane_take(l) : ingress_slot_take(&c->ing);
}
/* A slot taken and not published goes back (its text block freed). */
static void slot_untake(struct smx_client *c, struct smx_lane *l, uint32_t idx)
{
        if (l) {
                ingress_slot_release(&c->ing, idx);
                lane_put(l, idx);
        } else {
                ingress_slot_free(&c->ing, idx);
        }
}

/* Hand filled slots to the workers, in order: on the thread's lane (a
 * release store and a fence: no locked instruction on a line another core
 * writes) or, without one, on the shared ring (its seq_cst CAS); either
 * counts them as accepted (client_accepted); then wake who sleeps. */
static inline void publish(struct smx_client *c, struct smx_lane *l, const uint32_t *idx,
                           uint32_t n)
{
        if (l)
                lane_publish_n(l, idx, n);
        else
                ingress_publish_n(&c->ing, idx, n);
        wake_takers(c);
}

static int submit_state_ok(struct smx_client *c)
{
        int st = atomic_load_explicit(&c->state, memory_order_relaxed);
        return st == SMX_CS_RUNNING || st == SMX_CS_CREATED;
}

int smx_submit(smx_client *c, const struct smx_mt *mt)
{
        if (!c || !mt || !mt->id || !mt->to || !mt->text)
                return SMX_EINVAL;
        if (!submit_state_ok(c))
                return SMX_ESTATE;
        /* the latency stamp's clock read first: its ~17 ns (RDTSC) overlap
         * the checks and the slot take instead of stalling the fill */
        uint64_t stamp_raw = smx_stamp_raw();
        struct mt_checked k;
        int rc = mt_check(mt, &k);
        if (rc < 0)
                return rc;
        struct smx_lane *l = client_lane(c);
        uint32_t idx = slot_take(c, l);
        if (idx == SMX_SLOT_NONE)
                return SMX_EAGAIN;
        rc = slot_fill(c, idx, mt, &k, smx_stamp_scale(stamp_raw));
        if (rc < 0) {
                slot_untake(c, l, idx);
                return rc;
        }
        publish(c, l, &idx, 1);
        /* the next call's slot, while the application does its own work */
        if (l)
                lane_prefetch_next(l);
        return 0;
}

#define SUBMIT_CHUNK 64u   /* MTs per slot take and ring push in smx_submit_n */

int smx_submit_n(smx_client *c, const struct smx_mt *mts, unsigned n, int *err)
{
        if (err)
                *err = 0;
        if (!c || (!mts && n > 0)) {
                if (err)
                        *err = SMX_EINVAL;
                return 0;
        }
        if (n > 0 && !submit_state_ok(c)) {
                if (err)
                        *err = SMX_ESTATE;
                return 0;
        }
        unsigned done = 0;
        uint64_t now_us = smx_stamp_us();
        struct smx_lane *l = n > 0 ? client_lane(c) : NULL;
        while (done < n) {
                uint32_t want = n - done < SUBMIT_CHUNK ? n - done : SUBMIT_CHUNK;
                uint32_t idx[SUBMIT_CHUNK];
                uint32_t got = 0;
                if (l)
                        while (got < want && (idx[got] = lane_take(l)) != SMX_SLOT_NONE)
                                got++;
                else
                        got = ingress_slot_take_n(&c->ing, idx, want);
                uint32_t filled = 0;
                int rc = got ? 0 : SMX_EAGAIN;
                while (filled < got) {
                        struct mt_checked k;
                        rc = mt_check(&mts[done + filled], &k);
                        if (rc == 0)
                                rc = slot_fill(c, idx[filled], &mts[done + filled], &k, now_us);
                        if (rc < 0)
                                break;
                        filled++;
                }
                for (uint32_t i = got; i > filled; i--)
                        slot_untake(c, l, idx[i - 1]);   /* taken, not used */
                if (filled)
                        publish(c, l, idx, filled);
                done += filled;
                if (rc < 0) {
                        if (err)
                                *err = rc;
                        break;
                }
        }
        return (int)done;
}

uint64_t client_decided(struct smx_client *c)
{
        uint64_t d = atomic_load_explicit(&c->decided, memory_order_acquire);
        for (unsigned k = 0; k < c->n_workers; k++)
                d += atomic_load_explicit(&c->workers[k].decided, memory_order_acquire);
        return d;
}

/* accepted = pushes (the shared ring's p_head plus every lane's p_tail,
 * ingress_pushed) - the workers' re-pushes. Counted without a locked
 * instruction of its own: a push counts by its reservation CAS (shared
 * ring) or its release store of p_tail (lane; lanes are never freed before
 * the ingress, so the sum never goes back). Read in this order, each load
 * acquire: decided (caller), then each worker's `repushed`, then the
 * pushes. A worker adds to `repushed` (release) after its push's CAS, so
 * every re-push counted in r is in p too: p - r >= the MTs smx_submit
 * pushed by the time p is read >= those pushed when decided was read >=
 * decided (an outcome follows its MT's push, whose lane existed then and
 * so is below n_lanes when the pushes are read). So in flight is never under-counted (a
 * drain never ends with an MT in flight); it may be over-counted, for an
 * instant, by re-pushes whose CAS is done and count is not. The ring's
 * counter is 32-bit: the difference is taken modulo 2^32, exact while
 * fewer than 2^32 MTs are in flight (at most n_slots are). */
uint64_t client_accepted(struct smx_client *c, uint64_t decided)
{
        uint32_t r = 0;
        for (unsigned k = 0; k < c->n_workers; k++)
                r += atomic_load_explicit(&c->workers[k].repushed, memory_order_acquire);
        uint32_t p = ingress_pushed(&c->ing);
        return decided + (uint32_t)(p - r - (uint32_t)decided);
}

uint64_t smx_client_in_flight(smx_client *c)
{
        uint64_t d = client_decided(c);
        return client_accepted(c, d) - d;
}
