/* Correlation puts that met a held shard lock.
 *
 * Every accepted MT puts message_id -> MT into the correlation store. Its
 * shard locks are spinlocks held for one probe, but with more threads than
 * cores (workers, the application, an SMSC peer on a small machine) a holder
 * can be preempted, and a waiter then spins and yields until it runs again
 * (bench/README.md "Inbound"). So the accepted-MT path never waits: it
 * try-locks (try_put: a short spin), and when the lock stays held the put is
 * staged here and the call returns. Staged puts are published by a later
 * inbound call of any thread (accepted, deliver; each thread tries on one
 * call in STAGE_FLUSH_EVERY) that finds their locks free and room in its
 * event ring, and at the latest by the timer
 * (inbound_tick_w, every worker, ~50 ms), which waits for them. Only puts
 * that meet a held lock, or whose key bucket (key.lo % 64) already has a
 * staged put, are staged: while one shard's holder is preempted, puts to
 * the others go straight in.
 *
 * What stays true. A staged put is invisible until published: a DR for it,
 * on any worker, misses and parks, and publishing is put-then-park_match_w
 * like a direct put, so the DR is correlated, once. try_put creates a
 * multipart MT's merge record before its part entry, as put does, and a put
 * that met a held part lock is retried whole. A put whose key bucket has a
 * staged put is staged behind it, and an area publishes in arrival order,
 * keeping back every later put of a bucket it had to keep back, so two puts
 * of one message id (an id reused for a later MT) land in order as long as
 * they are staged from one bind (the area is picked by bind index).
 * A staged put keeps the time of its call, so its entry expires as if put
 * then. Memory is fixed (STAGE_AREAS x STAGE_CAP entries, allocated at
 * create); when every area is busy or full the put waits for its lock as
 * before (counted corr_waited). A full store refuses a direct put with
 * -ENOSPC; a staged put that finds it full later is counted corr_full. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inbound/inbound_int.h"

#define STAGE_RING_ROOM 8u      /* free ring records a publish outside the timer wants */

int stage_init(struct smx_inbound *in)
{
        in->stage = aligned_alloc(64, STAGE_AREAS * sizeof *in->stage);
        if (!in->stage)
                return -ENOMEM;
        memset(in->stage, 0, STAGE_AREAS * sizeof *in->stage);
        for (unsigned i = 0; i < STAGE_AREAS; i++)
                smx_lock_init(&in->stage[i].lock);
        atomic_init(&in->n_staged, 0);
        return 0;
}

void stage_fini(struct smx_inbound *in)
{
        free(in->stage);
        in->stage = NULL;
}

/* How long a put tests a held lock before it stages: a holder running on
 * another core leaves within a probe (~100-300 ns); a preempted one does
 * not. Publishing a staged put tests once. */
#define SPINS_DIRECT 16u
#define WAIT UINT32_MAX

static int corr_put_now(struct smx_inbound *in, const struct smx_key128 *k,
                        const struct smx_corr_val *v, uint64_t now_ms, unsigned spins)
{
        if (spins == WAIT || !in->corr.ops->try_put)
                return in->corr.ops->put(in->corr.impl, k, v, now_ms);
        return in->corr.ops->try_put(in->corr.impl, k, v, now_ms, spins);
}

static unsigned bucket_of(const struct smx_key128 *k)
{
        return (unsigned)(k->lo % STAGE_BUCKETS);
}

/* After a put that took effect (rc 0) or was refused: the parked DRs. */
static int put_done(struct smx_inbound *in, int rc, const struct smx_key128 *k,
                    const struct smx_corr_val *v, struct smx_event_ring *ring, uint64_t now_ms)
{
        if (rc != 0) {
                CNT_INC(in, corr_full);
                return rc;
        }
        return park_match_w(in, k, v, ring, now_ms);
}

/* Publish area a's puts in arrival order. One that cannot go now (its lock
 * is held, or the ring has no room for its parked DRs: they would only be
 * marked ready for the timer) stays, and so does every later one of its
 * bucket, so two puts of one key never swap. Area lock held. */
static int area_flush(struct smx_inbound *in, struct stage_area *a, struct smx_event_ring *ring,
                      uint64_t now_ms, int wait)
{
        uint64_t blocked = 0;           /* buckets with a put kept back */
        uint32_t kept = 0, n0 = a->n;
        int n = 0;
        for (uint32_t i = 0; i < n0; i++) {
                struct staged_put *p = &a->e[(a->head + i) % STAGE_CAP];
                unsigned bk = bucket_of(&p->key);
                int rc = -EBUSY;
                if (!(blocked >> bk & 1) &&
                    (wait || event_ring_space_w(ring) >= STAGE_RING_ROOM))
                        rc = corr_put_now(in, &p->key, &p->v, p->now_ms, wait ? WAIT : 0);
                if (rc == -EBUSY) {
                        blocked |= 1ull << bk;
                        if (kept != i)
                                a->e[(a->head + kept) % STAGE_CAP] = *p;
                        kept++;
                        continue;
                }
                atomic_fetch_sub_explicit(&in->staged_in[bk], 1, memory_order_relaxed);
                atomic_fetch_sub_explicit(&in->n_staged, 1, memory_order_relaxed);
                int r = put_done(in, rc, &p->key, &p->v, ring, now_ms);
                if (r > 0)
                        n += r;
        }
        a->n = kept;
        atomic_store_explicit(&a->pending, kept, memory_order_relaxed);
        return n;
}

int stage_flush_w(struct smx_inbound *in, struct smx_event_ring *ring, uint64_t now_ms, int wait)
{
        int n = 0;
        for (unsigned i = 0; i < STAGE_AREAS && stage_pending(in); i++) {
                struct stage_area *a = &in->stage[i];
                if (atomic_load_explicit(&a->pending, memory_order_relaxed) == 0)
                        continue;
                if (wait)
                        smx_lock(&a->lock);
                else if (!smx_trylock(&a->lock, 0))
                        continue;
                n += area_flush(in, a, ring, now_ms, wait);
                smx_unlock(&a->lock);
        }
        return n;
}

/* Whether this call should try to publish staged puts: every
 * STAGE_FLUSH_EVERY-th call of a thread while any are staged. Trying on every
 * call would poll the held lock's cache line (a miss each time) for as long
 * as its holder is off the CPU; order does not need it (a put of a bucket
 * with a staged put queues behind it). */
int stage_flush_due(void)
{
        static _Thread_local unsigned calls;
        return (++calls % STAGE_FLUSH_EVERY) == 0;
}

/* Stage k -> v in the bind's area, else any free one: 1, or 0 when every
 * area is busy or full. */
static int stage_add(struct smx_inbound *in, const struct smx_bind_info *b,
                     const struct smx_key128 *k, const struct smx_corr_val *v, uint64_t now_ms)
{
        unsigned start = b->index % STAGE_AREAS;
        for (unsigned i = 0; i < STAGE_AREAS; i++) {
                struct stage_area *a = &in->stage[(start + i) % STAGE_AREAS];
                if (!smx_trylock(&a->lock, 0))
                        continue;
                int room = a->n < STAGE_CAP;
                if (room) {
                        struct staged_put *p = &a->e[(a->head + a->n) % STAGE_CAP];
                        p->key = *k;
                        p->v = *v;
                        p->now_ms = now_ms;
                        a->n++;
                        atomic_store_explicit(&a->pending, a->n, memory_order_relaxed);
                        atomic_fetch_add_explicit(&in->staged_in[bucket_of(k)], 1,
                                                  memory_order_relaxed);
                        atomic_fetch_add_explicit(&in->n_staged, 1, memory_order_relaxed);
                }
                smx_unlock(&a->lock);
                if (room)
                        return 1;
        }
        return 0;
}

int stage_put_w(struct smx_inbound *in, const struct smx_bind_info *b,
                const struct smx_key128 *k, const struct smx_corr_val *v,
                struct smx_event_ring *ring, uint64_t now_ms)
{
        int n = 0, rc;
        if (stage_pending(in) && stage_flush_due())
                n = stage_flush_w(in, ring, now_ms, 0);
        /* a put of a key with one staged before it queues behind it */
        if (atomic_load_explicit(&in->staged_in[bucket_of(k)], memory_order_relaxed) == 0) {
                rc = corr_put_now(in, k, v, now_ms, SPINS_DIRECT);
                if (rc != -EBUSY)
                        goto done;
        }
        if (stage_add(in, b, k, v, now_ms)) {
                CNT_INC(in, corr_staged);
                return n;
        }
        CNT_INC(in, corr_waited);
        rc = corr_put_now(in, k, v, now_ms, WAIT);
done:
        rc = put_done(in, rc, k, v, ring, now_ms);
        return rc < 0 ? rc : n + rc;
}
