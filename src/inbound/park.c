/* The park: DRs whose message id is not in the correlation store yet, the
 * DR-before-submit_sm_resp race of R3. A DR waits here up to
 * park_timeout_ms; the submit_sm_resp that brings its id turns it into a
 * correlated event (park_match_w, or the timer when the ring was full); past
 * the timeout it is delivered uncorrelated (F-01), never dropped.
 *
 * Shards by key.lo; each is a FIFO ring of preallocated items, so memory is
 * fixed at create time whatever arrives (N-13). Matched items leave holes
 * that the head skips; a full ring is first compacted, and only if every
 * item is live does its oldest DR go out uncorrelated to make room
 * (N-13: overflow delivered oldest-first, counted park_evicted).
 *
 * Shutdown (park_flush_w, from inbound_flush_w once the client drains): no
 * resp can come any more, so every parked DR leaves at once, correlated if
 * its id turned up meanwhile, else uncorrelated (message_id, SMSC, state),
 * never dropped: each was acknowledged with ESME_ROK.
 *
 * The race with a concurrent submit_sm_resp. park_put_w, under the park
 * shard's lock, first counts the DR in n_live, then looks its id up in the
 * correlation store; a put (inbound_on_accepted_w, or a staged put being
 * published) reads n_live after its put, and scans the shard under the park
 * lock only when it is not 0. Both the lookup and the put hold the id's
 * correlation shard lock, so one comes first: if the lookup, the put's
 * lock acquire makes the n_live count visible to it (it scans, waiting for
 * park_put_w to finish, and finds the DR); if the put, the lookup finds
 * the entry and the DR is delivered at once. So the accepted-MT path takes
 * no park lock when nothing is parked in the shard. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inbound/inbound_int.h"

static struct park_shard *pshard_of(struct smx_inbound *in, const struct smx_key128 *k)
{
        return &in->park[k->lo & (in->n_park - 1)];
}

int park_init(struct smx_inbound *in)
{
        in->n_park = smx_store_shards_for(in->cfg.park_capacity);
        in->park = aligned_alloc(64, in->n_park * sizeof *in->park);
        if (!in->park)
                return -ENOMEM;
        memset(in->park, 0, in->n_park * sizeof *in->park);
        uint32_t per = (uint32_t)(((uint64_t)in->cfg.park_capacity + in->n_park - 1) / in->n_park);
        if (per == 0)
                per = 1;
        for (unsigned i = 0; i < in->n_park; i++) {
                struct park_shard *s = &in->park[i];
                smx_lock_init(&s->lock);
                s->cap = per;
                s->keys = calloc(per, sizeof *s->keys);
                s->items = calloc(per, sizeof *s->items);
                if (!s->keys || !s->items)
                        return -ENOMEM;
        }
        return 0;
}

void park_fini(struct smx_inbound *in)
{
        for (unsigned i = 0; in->park && i < in->n_park; i++) {
                free(in->park[i].keys);
                free(in->park[i].items);
        }
        free(in->park);
        in->park = NULL;
}

static struct park_item *item_at(struct park_shard *s, uint64_t pos)
{
        return &s->items[pos % s->cap];
}

/* Take item out of the live set. Lock held. */
static void item_kill(struct park_shard *s, struct park_item *it)
{
        if (it->ready)
                s->n_ready--;
        it->live = 0;
        it->ready = 0;
        /* release: a reader of n_live (park_count, after a drain) that sees
         * the DR gone also sees the event committed before this */
        atomic_store_explicit(&s->n_live, atomic_load_explicit(&s->n_live, memory_order_relaxed) - 1,
                              memory_order_release);
}

/* Advance head over holes. Lock held. */
static void trim_head(struct park_shard *s)
{
        while (s->head != s->tail && !item_at(s, s->head)->live)
                s->head++;
}

/* Squeeze the holes out, keeping arrival order. Lock held. */
static void compact(struct park_shard *s)
{
        uint64_t w = s->head;
        for (uint64_t r = s->head; r != s->tail; r++) {
                struct park_item *it = item_at(s, r);
                if (!it->live)
                        continue;
                if (w != r) {
                        *item_at(s, w) = *it;
                        s->keys[w % s->cap] = s->keys[r % s->cap];
                        it->live = 0;
                }
                w++;
        }
        s->tail = w;
}

/* Emit item `it` into a reserved record: correlated when v != NULL. */
static void emit_item(struct smx_inbound *in, struct park_shard *s, struct park_item *it,
                      struct smx_ev_rec *e, struct smx_event_ring *ring,
                      const struct smx_corr_val *v, uint64_t now_ms)
{
        inbound_fill_dr(in, e, &it->dr, v, now_ms);
        event_ring_commit_w(ring);
        item_kill(s, it);
        if (v)
                CNT_INC(in, park_matched);
        else
                CNT_INC(in, uncorrelated);
}

void park_put_w(struct smx_inbound *in, const struct dr_info *d, struct smx_event_ring *ring,
                struct smx_ev_rec *e, uint64_t now_ms)
{
        struct park_shard *s = pshard_of(in, &d->key);
        struct smx_corr_val v;

        smx_lock(&s->lock);
        /* counted before the lookup (see the top of this file); n_live only
         * changes under this lock */
        uint32_t live = atomic_load_explicit(&s->n_live, memory_order_relaxed);
        atomic_store_explicit(&s->n_live, live + 1, memory_order_relaxed);
        if (in->corr.ops->get(in->corr.impl, &d->key, &v, now_ms)) {
                /* the submit_sm_resp landed meanwhile */
                atomic_store_explicit(&s->n_live, live, memory_order_relaxed);
                smx_unlock(&s->lock);
                inbound_fill_dr(in, e, d, &v, now_ms);
                event_ring_commit_w(ring);
                return;
        }
        trim_head(s);
        if (s->tail - s->head == s->cap) {
                if (live < s->cap) {
                        compact(s);
                } else {
                        /* N-13: full of live DRs, the oldest goes out uncorrelated */
                        struct park_item *old = item_at(s, s->head);
                        emit_item(in, s, old, e, ring, NULL, now_ms);
                        CNT_INC(in, park_evicted);
                        trim_head(s);
                }
        }
        struct park_item *it = item_at(s, s->tail);
        s->keys[s->tail % s->cap] = d->key.lo;
        it->dr = *d;
        it->parked_ms = now_ms;
        it->live = 1;
        it->ready = 0;
        s->tail++;
        smx_unlock(&s->lock);
        CNT_INC(in, parked);
}

int park_match_w(struct smx_inbound *in, const struct smx_key128 *k,
                 const struct smx_corr_val *v, struct smx_event_ring *ring, uint64_t now_ms)
{
        struct park_shard *s = pshard_of(in, k);
        int n = 0;

        /* nothing parked: no lock (the top of this file says why this
         * cannot miss a DR parking right now) */
        if (atomic_load_explicit(&s->n_live, memory_order_relaxed) == 0)
                return 0;
        smx_lock(&s->lock);
        for (uint64_t pos = s->head; pos != s->tail; pos++) {
                if (s->keys[pos % s->cap] != k->lo)
                        continue;
                struct park_item *it = item_at(s, pos);
                if (!it->live || it->dr.key.hi != k->hi)
                        continue;
                struct smx_ev_rec *e = event_ring_reserve_w(ring);
                if (!e) {
                        /* ring full: the timer delivers it (correlated) later */
                        if (!it->ready) {
                                it->ready = 1;
                                s->n_ready++;
                        }
                        continue;
                }
                emit_item(in, s, it, e, ring, v, now_ms);
                n++;
        }
        trim_head(s);
        smx_unlock(&s->lock);
        return n;
}

void park_tick_w(struct smx_inbound *in, unsigned shard, struct smx_event_ring *ring,
                 uint64_t now_ms)
{
        struct park_shard *s = &in->park[shard];
        struct smx_corr_val v;

        if (atomic_load_explicit(&s->n_live, memory_order_relaxed) == 0)
                return;
        smx_lock(&s->lock);
        /* matched while the ring was full */
        for (uint64_t pos = s->head; s->n_ready && pos != s->tail; pos++) {
                struct park_item *it = item_at(s, pos);
                if (!it->live || !it->ready)
                        continue;
                struct smx_ev_rec *e = event_ring_reserve_w(ring);
                if (!e)
                        goto out;
                int hit = inbound_corr_get(in, &it->dr, &v, now_ms);
                emit_item(in, s, it, e, ring, hit ? &v : NULL, now_ms);
        }
        /* timed out, oldest first: one last look in the store, else uncorrelated */
        trim_head(s);
        while (s->head != s->tail) {
                struct park_item *it = item_at(s, s->head);
                if (it->parked_ms + in->cfg.park_timeout_ms > now_ms)
                        break;
                struct smx_ev_rec *e = event_ring_reserve_w(ring);
                if (!e)
                        break;
                int hit = inbound_corr_get(in, &it->dr, &v, now_ms);
                emit_item(in, s, it, e, ring, hit ? &v : NULL, now_ms);
                if (!hit)
                        CNT_INC(in, park_expired);
                trim_head(s);
        }
out:
        trim_head(s);
        smx_unlock(&s->lock);
}

void park_flush_w(struct smx_inbound *in, unsigned shard, struct smx_event_ring *ring,
                  uint64_t now_ms)
{
        struct park_shard *s = &in->park[shard];
        struct smx_corr_val v;

        if (atomic_load_explicit(&s->n_live, memory_order_relaxed) == 0)
                return;
        smx_lock(&s->lock);
        trim_head(s);
        for (uint64_t pos = s->head; pos != s->tail; pos++) {
                struct park_item *it = item_at(s, pos);
                if (!it->live)
                        continue;
                struct smx_ev_rec *e = event_ring_reserve_w(ring);
                if (!e)
                        break;          /* ring full: the next call goes on */
                /* one last look (a staged put was just published), else uncorrelated */
                int hit = inbound_corr_get(in, &it->dr, &v, now_ms);
                emit_item(in, s, it, e, ring, hit ? &v : NULL, now_ms);
                CNT_INC(in, park_flushed);
        }
        trim_head(s);
        smx_unlock(&s->lock);
}

uint64_t park_count(const struct smx_inbound *in)
{
        uint64_t n = 0;
        for (unsigned i = 0; i < in->n_park; i++)
                n += atomic_load_explicit(&in->park[i].n_live, memory_order_acquire);
        return n;
}
