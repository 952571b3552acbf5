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
 * nobody after its lease ran out: a taker may have shown and acknowledged
 * it, which looks the same, unless the data set it was read from is gone
 * (the generation, below): shown then, else dropped. The check and the
 * claim are one script, so an entry is never taken back from the instance
 * that took it over (a plain XCLAIM 0 would: it claims whatever is
 * pending). In contact with Redis a lease
 * never runs out: renewed after T/4 to T/2, it lasts 3/4 T. Out of contact
 * (cut off, or Redis paused: the refresh's reply comes late and so renews
 * nothing past its send time + 3/4 T) the records wait; the first batch
 * back (a reconnect sends the heartbeat at once) revalidates them.
 *
 * The data set's generation. "Pending for nobody" after the lease ran out
 * is either "taken over and acknowledged" (drop: the taker showed it) or
 * "Redis lost it" (show: nobody else has it). A marker tells them apart:
 * smsmux:{C}:gen holds a random id, made by whichever script finds it
 * missing (GET, SET if nil: one atomic call). It lives exactly as long as
 * the data set: gone with it when Redis restarts without persistence, is
 * flushed (FLUSHALL, FLUSHDB) or is replaced by an empty server; kept by a
 * restart that reloads its AOF/RDB. Each connection learns the generation
 * in its set-up, after its XGROUP CREATE and before its first read (a
 * restart drops every connection; a flush deletes our group, so the read
 * connection's next XREADGROUP fails NOGROUP and it reconnects), the main
 * one again with each heartbeat, and every record carries the generation
 * of the connection that read it (rs_ack.gen). The refresh script returns
 * the generation in the same atomic call as the pending lists. A record
 * pending for nobody whose generation is not the current one came from a
 * data set that is gone: in the new one no one can have it (a takeover is
 * XAUTOCLAIM from a pending list, and it is in none), so it becomes
 * RS_LEASE_ALWAYS and is shown (smsmux_store_fence_redis_lost_total).
 * Still ours in the new data set (a read under a generation learned just
 * before a flush): renewed, and it takes the current generation.
 *
 * The double failure, decided: cut off past T, the entry taken over by
 * another instance (shown and acknowledged there, or still held there:
 * then it shows it too, by the same rule or its live lease), and then
 * Redis loses its data before we are back: we cannot tell that from a
 * plain loss (both say "pending for nobody, data set gone") and show it:
 * twice in all. Chosen over losing it because a duplicate can be
 * recognised by the application (same message_id and state, same MO) and
 * a loss cannot be undone, and because losing Redis's data already voids
 * the store's dedup (the DR masks, the MO dedup keys, the parked DRs go
 * with it): across a data loss the guarantee is at-least-once, never the
 * loss of a DR/MO held here. Without a data loss (same generation) it
 * stays exactly once.
 * What the marker cannot see: a data set rolled back but not replaced (a
 * replica promoted with replication lag, a restart from an older RDB
 * snapshot) keeps the marker, so an entry the older data lacks is
 * "pending for nobody, same generation". The instance's epoch sees it
 * (rstore_epoch.c): the records whose read the older data may lack are
 * marked (rs_ack.rolled) and, pending for nobody past their lease, shown
 * (smsmux_store_fence_redis_rolled_back_total); one the older data holds
 * in the stream but undelivered (the refresh's 4) is released unseen past
 * its lease, the group delivers it again. Nor can it see a
 * marker evicted on its own (maxmemory with an allkeys-* policy; the store
 * needs noeviction anyway): a new generation over intact data makes a
 * held entry taken over and acknowledged meanwhile show twice.
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
#include <stdlib.h>
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

void rs_gen_key(const struct smx_rstore *rs, char *key, size_t cap)
{
        snprintf(key, cap, "smsmux:{%s}:gen", rs->cluster);
}

void rs_gen_propose(struct smx_rstore *rs, char out[17])
{
        /* splitmix64 of seed + n: a new id every call, no syscall */
        uint64_t x = rs->gen_seed + ++rs->gen_made * 0x9E3779B97F4A7C15ull;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
        x ^= x >> 31;
        snprintf(out, 17, "%016llx", (unsigned long long)(x ? x : 1));
}

uint64_t rs_gen_learn(struct smx_rstore *rs, unsigned link, const redisReply *r)
{
        if (!r || r->type != REDIS_REPLY_STRING || r->len == 0)
                return 0;
        /* ours are 16 hex digits; anything else (set by hand) by its bytes */
        uint64_t g = 1469598103934665603ull;
        char *end = NULL;
        if (r->len == 16)
                g = strtoull(r->str, &end, 16);
        if (r->len != 16 || end != r->str + 16) {
                g = 1469598103934665603ull;
                for (size_t i = 0; i < r->len; i++)
                        g = (g ^ (unsigned char)r->str[i]) * 1099511628211ull;
        }
        if (g == 0)
                g = 1;
        rs->gen[link] = g;
        if (rs->gen_known && g != rs->gen_known) {
                RS_INC(rs, redis_data_lost);
                smx_logf(SMX_LOG_WARN, NULL, NULL,
                         "store %s: Redis holds a new data set (generation %016llx, was "
                         "%016llx): it lost its data (restarted without persistence, flushed, "
                         "or another server); DRs/MOs held here from the old one are shown "
                         "(nobody can take them from the new one)",
                         rs->shown_url, (unsigned long long)g,
                         (unsigned long long)rs->gen_known);
        }
        rs->gen_known = g;
        return g;
}

/* The refresh script for up to 256 ids of stream s; the records' ring
 * positions (or, for the reack list, none: `reack`) noted for the reply. */
static int refresh_ids(struct smx_rstore *rs, struct batch *b, uint16_t s, const char **ids,
                       const uint32_t *pos, int n, int reack)
{
        static _Thread_local const char *argv[8 + 256];
        static _Thread_local size_t lens[8 + 256];
        static _Thread_local char gkey[RS_NAME_MAX + 16], ekey[RS_NAME_MAX + 16], fresh[17];
        rs_gen_key(rs, gkey, sizeof gkey);
        rs_epoch_key(rs, ekey, sizeof ekey);
        rs_gen_propose(rs, fresh);
        argv[0] = "EVALSHA";
        argv[1] = rs->sha[RS_LUA_REFRESH];
        argv[2] = "3";
        argv[3] = rs->streams[s].key;
        argv[4] = gkey;
        argv[5] = ekey;
        argv[6] = rs->instance;
        argv[7] = fresh;
        for (int i = 0; i < n; i++)
                argv[8 + i] = ids[i];
        for (int i = 0; i < 8 + n; i++)
                lens[i] = strlen(argv[i]);
        if (rs_batch_add(rs, b, K_REFRESH, s, 8 + n, argv, lens) < 0)
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
        if (now < rs->next_hb_ms) {
                /* entries read since the last epoch write: one soon
                 * (rstore_epoch.c), so a rollback that loses their reads is
                 * seen */
                if (rs_epoch_due(rs, rs_mono_ms()))
                        rs_batch_gen(rs, b);
                return;
        }
        b->claim_own = 1;
        /* the generation first: what this batch reads is tagged with it */
        rs_batch_gen(rs, b);
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
        /* 4 (not delivered) while its lease runs: as pending for nobody */
        static const redisReply undelivered_nobody = { .type = REDIS_REPLY_INTEGER,
                                                       .integer = 3 };
        if (r->type != REDIS_REPLY_ARRAY) {
                if (r->type == REDIS_REPLY_ERROR)
                        smx_logf(SMX_LOG_WARN, NULL, NULL, "store: lease refresh: %s", r->str);
                return;
        }
        /* the data set's generation and our epoch in it, read with the
         * pending lists (rstore_epoch.c) */
        uint64_t gen = 0;
        if (r->elements == c->n + 2) {
                uint64_t was = rs->gen_known;
                gen = rs_gen_learn(rs, RS_MAIN, r->element[c->n]);
                const redisReply *ep = r->element[c->n + 1];
                if (gen && ep->type == REDIS_REPLY_INTEGER)
                        rs_epoch_seen(rs, ep->integer > 0 ? (uint64_t)ep->integer : 0, 0,
                                      was && gen != was);
        }
        if (c->reack)
                return;
        uint32_t head = rs->ev_pos - (rs->ring_cap - event_ring_space_w(rs->ring));
        uint64_t now = rs_mono_ms(), until = rs_lease_until(rs, sent_ms);
        unsigned dropped = 0, lost = 0, gone = 0, rolled = 0, again = 0;
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
                /* pending for nobody, answered while its lease still runs:
                 * no one could have claimed it (it was never idle for T)
                 * before the script ran, and after it no one can (it is in
                 * no pending list): Redis lost it (restarted empty, a
                 * replica promoted without it). Or its lease ran out but
                 * the data set it was read from is gone (a new generation):
                 * in the new one no one can have it (the double failure,
                 * taken and acknowledged before the loss: shown twice, see
                 * the opening comment). Ours to show for good; released as
                 * usual (its XACK is a no-op and ends its place in the held
                 * set) */
                int in_lease = was == RS_LEASE_ALWAYS || now < was;
                if (e->integer == 4 && !in_lease && was != RS_LEASE_DROP) {
                        /* in the stream, not delivered in this data set
                         * (rolled back to before its read): the group
                         * delivers it again, to us for our stream, and that
                         * copy is shown; this one is released unseen. Not
                         * while its lease runs: the application may be
                         * showing it (then as pending for nobody, below) */
                        rs_held_drop(rs, a->stream, a->id);
                        a->stream = RS_NO_STREAM;
                        atomic_store_explicit(l, RS_LEASE_DROP, memory_order_release);
                        again++;
                        rs->lease_changed = 1;
                        continue;
                }
                if (e->integer == 4)
                        e = &undelivered_nobody;
                int from_gone = gen && a->gen && a->gen != gen;
                /* or the data set was rolled back to before its read
                 * (rstore_epoch.c): nobody can have claimed it from a data
                 * set that never had it pending for us */
                int rolled_back = a->rolled && !from_gone;
                if (e->integer == 3 && was != RS_LEASE_DROP &&
                    (in_lease || from_gone || rolled_back)) {
                        a->lease_from = sent_ms;
                        if (was != RS_LEASE_ALWAYS) {   /* logged and counted once */
                                if (in_lease || from_gone) {
                                        in_lease ? lost++ : gone++;
                                        RS_INC(rs, fence_redis_lost);
                                } else {
                                        rolled++;
                                        RS_INC(rs, fence_redis_rolled_back);
                                }
                                rs->lease_changed = 1;
                        }
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
                if (e->integer == 1 && gen && (a->gen != gen || a->rolled)) {
                        /* pending for us in the current data set: its
                         * generation, and the epoch writes after now hold it */
                        a->gen = gen;
                        a->rolled = 0;
                        a->need = rs->ep_next;
                }
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
        if (gone)
                smx_logf(SMX_LOG_WARN, NULL, NULL,
                         "store: %u DRs/MOs of %s held here came from a Redis data set that "
                         "is gone (Redis lost its data while they waited): nobody can take "
                         "them from the new one: shown here",
                         gone, rs->streams[c->stream].name);
        if (again)
                smx_logf(SMX_LOG_WARN, NULL, NULL,
                         "store: %u DRs/MOs of %s held here are in Redis's rolled-back data "
                         "set but no longer delivered: left to be read again (shown then)",
                         again, rs->streams[c->stream].name);
        if (rolled)
                smx_logf(SMX_LOG_WARN, NULL, NULL,
                         "store: %u DRs/MOs of %s held here were read after the point Redis's "
                         "data set was rolled back to (not pending there): nobody can have "
                         "taken them over: shown here",
                         rolled, rs->streams[c->stream].name);
        if (dropped)
                smx_logf(SMX_LOG_WARN, NULL, NULL,
                         "store: %u DRs/MOs of %s were taken over by another instance while "
                         "we were out of contact with Redis: not shown here (it shows them)",
                         dropped, rs->streams[c->stream].name);
}
