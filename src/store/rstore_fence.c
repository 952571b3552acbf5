/* The fence: an instance never shows its application a stream entry that
 * another instance may have taken over (docs/scale-out.md), also when it
 * is cut off from Redis for longer than owner_takeover_ms.
 *
 * What the others do. An entry pending for us goes to another consumer
 * only through XAUTOCLAIM with a min-idle of owner_takeover_ms (T): of our
 * stream by an instance that judged us silent, of a stream we took over
 * by another taker of the same silent owner or by that owner come back
 * (its own stream's entries idle past T). Whatever they judge and whatever
 * their clocks say, Redis hands the entry over only when its idle time, on
 * Redis's own clock, reached T.
 *
 * The lease. Every command that reset an entry's idle time as ours (the
 * XREADGROUP or XAUTOCLAIM that brought it, the refresh below) reached
 * Redis after we sent it, so no one can claim the entry before (send time
 * + T). Each record of the event ring carries (send time + 3/4 T) of the
 * last such command whose reply came back, on our monotonic clock: its
 * lease (rs->lease, read by smx_events_poll: rstore.h). The quarter left
 * is the margin (Redis's clock running fast, a wall-clock step on the
 * Redis host, scheduling). A blocking read waits at most T/4 in Redis
 * (rs_read_block_ms), so what it brings arrives with at least half its
 * lease left.
 *
 * Renewal. With the heartbeat (at most T/4 apart), each held entry whose
 * lease started more than T/4 ago is refreshed by one script per stream
 * (up to 256 ids a call, RS_LUA_REFRESH): for each id, XPENDING says
 * whether it is still pending for us; if so XCLAIM ... 0 JUSTID resets its
 * idle time (no delivery count, no payload) and the reply renews the
 * record's lease from the batch's send time; if not (acknowledged, or
 * pending for another consumer: taken over while we were away) the record
 * becomes RS_LEASE_DROP: the consumer releases it unseen, it is never
 * acknowledged here (the taker shows and acknowledges it) and it leaves
 * the held set. Except when it is pending for nobody and the reply came
 * back while its lease still ran: no one could claim it before the script
 * ran (never idle for T) nor after (in no pending list), so Redis lost it
 * (restarted without persistence, a replica promoted without it): it
 * becomes RS_LEASE_ALWAYS and is shown (test_store_fence). Pending for
 * nobody after its lease ran out stays a drop: a taker may have shown and
 * acknowledged it, which looks the same. The check and the claim are one script, so an entry is
 * never taken back from the instance that took it over (a plain XCLAIM 0
 * would: it claims whatever is pending). In contact with Redis a lease
 * never runs out: renewed after T/4 to T/2, it lasts 3/4 T. Out of contact
 * (cut off, or Redis paused: the refresh's reply comes late and so renews
 * nothing past its send time + 3/4 T) the records wait; the first batch
 * back (a reconnect sends the heartbeat at once) revalidates them.
 *
 * Cost: nothing per MT; per DR/MO one 8-byte store at commit and, at poll
 * time, one load and a compare (and one clock read per poll); per held
 * entry one XPENDING and a share of an XCLAIM every T/4 to T/4 + one
 * heartbeat (T = 30 s: every 7.5 to 8.5 s), and only for entries held
 * that long (read, not yet polled and released): an application that
 * polls promptly makes none.
 *
 * What the fence cannot close: an entry shown by one smx_events_poll and
 * cut off before the next poll's release reached Redis as its XACK is
 * shown here and, after T, by the taker (as for an application crash:
 * the window is one poll). Store thread, except rstore_fence and
 * rstore_mono_ms (any thread). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log/log.h"
#include "store/rstore_batch.h"

uint64_t rs_mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t rstore_mono_ms(void)
{
        return rs_mono_ms();
}

struct rs_fence rstore_fence(struct smx_rstore *rs)
{
        return (struct rs_fence){ rs->lease, rs->ring_cap - 1 };
}

uint64_t rs_lease_until(const struct smx_rstore *rs, uint64_t from_ms)
{
        uint32_t t = rs->cfg.owner_takeover_ms;
        uint64_t until = from_ms + t - t / 4;
        return until > RS_LEASE_DROP ? until : RS_LEASE_DROP + 1;
}

/* The refresh script for up to 256 ids of stream s; the records' ring
 * positions (or, for the reack list, none: `reack`) noted for the reply. */
static int refresh_ids(struct smx_rstore *rs, struct batch *b, uint16_t s, const char **ids,
                       const uint32_t *pos, int n, int reack)
{
        static _Thread_local const char *argv[5 + 256];
        static _Thread_local size_t lens[5 + 256];
        argv[0] = "EVALSHA";
        argv[1] = rs->sha[RS_LUA_REFRESH];
        argv[2] = "1";
        argv[3] = rs->streams[s].key;
        argv[4] = rs->instance;
        for (int i = 0; i < n; i++)
                argv[5 + i] = ids[i];
        for (int i = 0; i < 5 + n; i++)
                lens[i] = strlen(argv[i]);
        if (rs_batch_add(rs, b, K_REFRESH, s, 5 + n, argv, lens) < 0)
                return -1;
        struct cmd *c = &b->cmd[b->n - 1];
        c->n = (uint32_t)n;
        c->reack = (uint8_t)reack;
        c->ack_to = rs->n_refresh_pos;
        if (!reack) {
                memcpy(rs->refresh_pos + rs->n_refresh_pos, pos, (size_t)n * sizeof *pos);
                rs->n_refresh_pos += (uint32_t)n;
        }
        return 0;
}

/* Whether a held record's lease started long enough ago to renew it. */
static int due(const struct smx_rstore *rs, const struct rs_ack *a, uint64_t mono)
{
        return a->stream != RS_NO_STREAM && mono - a->lease_from >= rs->cfg.owner_takeover_ms / 4;
}

/* Records a[from .. from+count) (& mask) that are due, consecutive ones of
 * one stream per call. */
static int refresh_run(struct smx_rstore *rs, struct batch *b, struct rs_ack *a, uint32_t count,
                       uint32_t mask, uint32_t from, int reack, uint64_t mono)
{
        static _Thread_local const char *ids[256];
        static _Thread_local uint32_t pos[256];
        uint32_t k = 0;
        while (k < count) {
                const struct rs_ack *x = &a[(from + k) & mask];
                if (!due(rs, x, mono)) {
                        k++;
                        continue;
                }
                uint16_t s = x->stream;
                int n = 0;
                while (k < count && n < 256) {
                        const struct rs_ack *y = &a[(from + k) & mask];
                        if (!due(rs, y, mono)) {
                                k++;
                                continue;
                        }
                        if (y->stream != s)
                                break;
                        pos[n] = from + k;
                        ids[n++] = y->id;
                        k++;
                }
                if (refresh_ids(rs, b, s, ids, pos, n, reack) < 0)
                        return -1;
        }
        return 0;
}

void rs_batch_refresh(struct smx_rstore *rs, struct batch *b, uint64_t now)
{
        rs->n_refresh_pos = 0;
        if (now < rs->next_hb_ms)
                return;
        b->claim_own = 1;
        if (rs_held_count(rs) == 0)
                return;
        uint64_t mono = rs_mono_ms();
        /* the reack list (released, their XACK not answered yet): kept
         * ours until it is; then the ring's records not acknowledged yet */
        if (refresh_run(rs, b, rs->reack, rs->n_reack, 0xFFFFFFFFu, 0, 1, mono) < 0)
                return;
        refresh_run(rs, b, rs->ackv, rs->ev_pos - rs->ack_pos, rs->ring_cap - 1, rs->ack_pos, 0,
                    mono);
}

void rs_on_refresh(struct smx_rstore *rs, const struct cmd *c, const redisReply *r,
                   uint64_t sent_ms)
{
        if (c->reack || r->type != REDIS_REPLY_ARRAY) {
                if (r->type == REDIS_REPLY_ERROR)
                        smx_logf(SMX_LOG_WARN, NULL, NULL, "store: lease refresh: %s", r->str);
                return;
        }
        uint32_t head = rs->ev_pos - (rs->ring_cap - event_ring_space_w(rs->ring));
        uint64_t now = rs_mono_ms(), until = rs_lease_until(rs, sent_ms);
        unsigned dropped = 0, lost = 0;
        for (uint32_t j = 0; j < c->n && j < r->elements; j++) {
                uint32_t p = rs->refresh_pos[c->ack_to + j];
                if ((int32_t)(p - head) < 0)
                        continue;       /* released: its XACK settles it */
                struct rs_ack *a = &rs->ackv[p & (rs->ring_cap - 1)];
                const redisReply *e = r->element[j];
                if (a->stream != c->stream || e->type != REDIS_REPLY_INTEGER)
                        continue;
                _Atomic uint64_t *l = &rs->lease[p & (rs->ring_cap - 1)];
                uint64_t was = atomic_load_explicit(l, memory_order_relaxed);
                if (e->integer == 3 && was != RS_LEASE_DROP &&
                    (was == RS_LEASE_ALWAYS || now < was)) {
                        /* pending for nobody, answered while its lease still
                         * runs: no one could have claimed it (it was never
                         * idle for T) before the script ran, and after it
                         * no one can (it is in no pending list): Redis lost
                         * it (restarted empty, a replica promoted without
                         * it). Ours to show for good; released as usual
                         * (its XACK is a no-op and ends its place in the
                         * held set) */
                        a->lease_from = sent_ms;
                        lost += was != RS_LEASE_ALWAYS;   /* logged once */
                        atomic_store_explicit(l, RS_LEASE_ALWAYS, memory_order_release);
                        continue;
                }
                if (e->integer == 0 || e->integer == 3) {
                        /* acknowledged or another consumer's: not shown here */
                        rs_held_drop(rs, a->stream, a->id);
                        a->stream = RS_NO_STREAM;
                        atomic_store_explicit(l, RS_LEASE_DROP, memory_order_release);
                        RS_INC(rs, fence_dropped);
                        dropped++;
                        rs->lease_changed = 1;
                        continue;
                }
                a->lease_from = sent_ms;
                if (was == RS_LEASE_DROP || until <= was)
                        continue;
                if (was <= now && until > now) {
                        RS_INC(rs, fence_renewed);
                        rs->lease_changed = 1;
                }
                atomic_store_explicit(l, until, memory_order_release);
        }
        if (lost)
                smx_logf(SMX_LOG_WARN, NULL, NULL,
                         "store: %u DRs/MOs of %s held here are no longer pending in Redis "
                         "(restarted without persistence?) and nobody could have taken them "
                         "over: shown here",
                         lost, rs->streams[c->stream].name);
        if (dropped)
                smx_logf(SMX_LOG_WARN, NULL, NULL,
                         "store: %u DRs/MOs of %s were taken over by another instance while "
                         "we were out of contact with Redis: not shown here (it shows them)",
                         dropped, rs->streams[c->stream].name);
}
