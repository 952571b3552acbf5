/* This instance's epoch in the Redis data set: how the fence
 * (rstore_fence.c) tells a data set ROLLED BACK (Redis restarted from an
 * older RDB/AOF, a replica promoted with replication lag) from one that
 * still holds what it acknowledged. The generation marker cannot: a
 * rolled-back data set keeps it.
 *
 * The epoch. smsmux:{C}:epoch is a hash, one field per instance, written
 * only by that instance: with the generation marker, by the same script
 * (RS_LUA_GEN: no extra command), on each connection's set-up, with every
 * heartbeat and once after entries were read (below). Each write carries
 * the next number of a sequence of ours (ep_next), so the field's value in
 * a data set names exactly the last write of ours it holds. Redis
 * replication and AOF/RDB keep writes in order: a data set holding our
 * write w holds every write Redis executed before w, and a command we send
 * after a reply came back is executed after the command that reply
 * answers. So a record read before we built write w (rs_ack.need <= w) is
 * in every data set holding w: pending for us there, unless someone moved
 * it since (another instance claimed it; pending for nobody: a taker
 * showed and acknowledged it).
 *
 * Detection. Every reply of the script (and of the refresh, which reads the
 * field in the same atomic call as the pending lists) shows the epoch the
 * data set holds. Below ep_held (the highest a reply showed it holding) in
 * the same generation: the data set lost writes it had acknowledged, it
 * was rolled back. Each record whose need is above what it holds may lack
 * its read: marked rolled, and if the refresh then finds it pending for
 * nobody after its lease ran out, it is shown, not dropped (nobody can
 * have taken it over in a data set that never had it pending for us); one
 * found still pending for us is ours again (unmarked). The script writes
 * nothing while the data set holds less than the caller knew (the caller
 * passes ep_held): a reply that never comes cannot hide the rollback from
 * the next call. A new generation (a data set lost, not rolled back) is
 * the generation's business (rstore_fence.c): the epoch starts over in it.
 *
 * No false positive: only this instance writes its field, every write is
 * higher than the last (at least what the data set held + 1), so the field
 * never goes down in one history; a restart that reloads everything, or a
 * replica promoted in sync, shows the last write whose reply came back, or
 * a later one. A new process of the instance starts from what the data set
 * holds (ep_held 0 until its first reply). Two processes under one
 * instance name (a misconfiguration the store does not support) would see
 * each other's writes as ours.
 *
 * What it cannot see: a rollback to a point after our last epoch write, of
 * entries read after it. The write that follows a read (at most
 * RS_EPOCH_GAP_MS after it, one script call, only when a read brought
 * entries: at most 100 a second under load, none idle) bounds that to the
 * records read in the last RS_EPOCH_GAP_MS plus a round trip before the
 * failure; before it, the heartbeat's write, the last heartbeat period (1
 * s) (test_store_fence_rollback). Such a record, held past its lease and
 * pending for nobody, is dropped as before (docs/scale-out.md "Known
 * limits").
 *
 * Cost: nothing per MT; the heartbeat's script does one HGET and one HSET
 * more, the refresh script one HGET; one script call per RS_EPOCH_GAP_MS
 * at most while reads bring entries. Store thread only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "store/rstore_batch.h"

void rs_epoch_key(const struct smx_rstore *rs, char *key, size_t cap)
{
        snprintf(key, cap, "smsmux:{%s}:epoch", rs->cluster);
}

/* The script's epoch arguments: what the data set is known to hold, and
 * the next epoch (taken). */
static void epoch_args(struct smx_rstore *rs, char held[24], char next[24])
{
        if (rs->ep_next <= rs->ep_held)
                rs->ep_next = rs->ep_held + 1;
        snprintf(held, 24, "%llu", (unsigned long long)rs->ep_held);
        snprintf(next, 24, "%llu", (unsigned long long)rs->ep_next++);
        rs->ep_want = 0;
        rs->ep_sent_ms = rs_mono_ms();
}

int rs_epoch_due(const struct smx_rstore *rs, uint64_t mono_ms)
{
        return rs->ep_want && mono_ms - rs->ep_sent_ms >= RS_EPOCH_GAP_MS;
}

/* Held records whose read may be missing from a data set holding epoch
 * `held`: marked; how many. */
static unsigned mark_rolled(struct smx_rstore *rs, uint64_t held)
{
        unsigned n = 0;
        for (uint32_t p = rs->ack_pos; p != rs->ev_pos; p++) {
                struct rs_ack *a = &rs->ackv[p & (rs->ring_cap - 1)];
                if (a->stream != RS_NO_STREAM && a->need > held && !a->rolled) {
                        a->rolled = 1;
                        n++;
                }
        }
        return n;
}

void rs_epoch_seen(struct smx_rstore *rs, uint64_t held, uint64_t wrote, int gen_new)
{
        if (gen_new) {
                rs->ep_held = 0;        /* a new data set: ours start over in it */
        } else if (rs->ep_held && held < rs->ep_held) {
                unsigned n = mark_rolled(rs, held);
                RS_INC(rs, redis_rolled_back);
                smx_logf(SMX_LOG_WARN, NULL, NULL,
                         "store %s: Redis's data set was rolled back (it holds epoch %llu of "
                         "this instance, it had acknowledged %llu: restarted from an older "
                         "snapshot, or a lagging replica promoted); %u DRs/MOs held here may "
                         "be missing from it: shown if nobody has them",
                         rs->shown_url, (unsigned long long)held,
                         (unsigned long long)rs->ep_held, n);
                rs->ep_held = held;
        }
        if (held > rs->ep_held)
                rs->ep_held = held;
        if (wrote > rs->ep_held)
                rs->ep_held = wrote;
        if (rs->ep_next <= rs->ep_held)
                rs->ep_next = rs->ep_held + 1;
}

uint64_t rs_gen_reply(struct smx_rstore *rs, unsigned link, const redisReply *r)
{
        /* "held written marker" */
        if (!r || r->type != REDIS_REPLY_STRING)
                return 0;
        char *end;
        unsigned long long held = strtoull(r->str, &end, 10);
        if (*end != ' ')
                return 0;
        unsigned long long wrote = strtoull(end + 1, &end, 10);
        if (*end != ' ')
                return 0;
        end++;
        redisReply marker = { .type = REDIS_REPLY_STRING, .str = end,
                              .len = r->len - (size_t)(end - r->str) };
        uint64_t was = rs->gen_known;
        uint64_t g = rs_gen_learn(rs, link, &marker);
        if (g)
                rs_epoch_seen(rs, held, wrote, was && g != was);
        return g;
}

int rs_gen_setup(struct smx_rstore *rs, unsigned link, redisContext *c, uint64_t now_ms)
{
        char key[RS_NAME_MAX + 16], ekey[RS_NAME_MAX + 16], fresh[17], held[24], next[24];
        rs_gen_key(rs, key, sizeof key);
        rs_epoch_key(rs, ekey, sizeof ekey);
        rs_gen_propose(rs, fresh);
        epoch_args(rs, held, next);
        redisReply *r = rs_io_command(rs, link, c, "EVAL %s 2 %s %s %s %s %s %s",
                                      rs_lua[RS_LUA_GEN], key, ekey, fresh, rs->instance, held,
                                      next);
        if (!r || !rs_gen_reply(rs, link, r))
                return rs_conn_fail(rs, link, c, r, "generation marker", now_ms);
        freeReplyObject(r);
        return 0;
}

void rs_batch_gen(struct smx_rstore *rs, struct batch *b)
{
        static _Thread_local char key[RS_NAME_MAX + 16], ekey[RS_NAME_MAX + 16], fresh[17],
                held[24], next[24];
        rs_gen_key(rs, key, sizeof key);
        rs_epoch_key(rs, ekey, sizeof ekey);
        rs_gen_propose(rs, fresh);
        epoch_args(rs, held, next);
        const char *argv[] = { "EVALSHA", rs->sha[RS_LUA_GEN], "2", key, ekey, fresh,
                               rs->instance, held, next };
        size_t lens[9];
        for (int i = 0; i < 9; i++)
                lens[i] = strlen(argv[i]);
        rs_batch_add(rs, b, K_GEN, 0, 9, argv, lens);
}
