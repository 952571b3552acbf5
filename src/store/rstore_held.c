/* The stream entries this instance holds (read or claimed, not
 * acknowledged yet), so that each DR/MO is shown once across instances,
 * whoever takes over whom and however long an application does not poll.
 *
 * The rule. An entry is held from the moment its record is committed to
 * the event ring until Redis answered its XACK (ackv up to ack_pos, or the
 * reack list). While held:
 *   1. it is never put in the ring again: XAUTOCLAIM returns every pending
 *      entry idle past owner_takeover_ms, ours included, so when the
 *      application does not poll for that long (or Redis was unreachable
 *      or paused that long) it returns entries we hold; a read of our own
 *      pending entries after a reconnect may too. They are skipped here
 *      (rs_held_has) - claiming them again only made us their owner again;
 *   2. if it is another instance's (taken over: streams[s], s > 0), it is
 *      kept from looking idle to the others: every heartbeat (at most
 *      owner_takeover_ms / 4 apart) XCLAIM ... 0 JUSTID of those entries
 *      resets their idle time in Redis (JUSTID: no delivery count, no
 *      payload), before the batch's XAUTOCLAIM, so another live instance
 *      taking over the same silent owner, or the owner come back, never
 *      claims what we hold.
 * And every heartbeat an instance claims its own stream's entries idle
 * past owner_takeover_ms (XAUTOCLAIM, whatever consumer had them): with 2.
 * those are only entries another instance took over while we were away and
 * then left without acknowledging (it stopped or crashed before its
 * application polled them), which nobody else claims from a live owner;
 * our own held ones it returns are skipped by 1. Claimed entries do not
 * move own_last (where our ordered reading of our stream goes on).
 * What remains: an instance cut off from Redis for longer than
 * owner_takeover_ms cannot reset anything; what it holds is claimed by the
 * others and shown by both (docs/scale-out.md, Known limits).
 *
 * The set is an open-addressed table of parsed ids (ms, seq, stream), sized
 * at create for the most ids that can be held: the ring's records plus the
 * reack list (2 * ring_cap + RS_BAD_MAX), at most half full. Nothing
 * allocates after create. Store thread only.
 *
 * Why not ck_hs (Concurrency Kit): bench/ck/bench_ck_held, same run, 80 %
 * of the ids held: has hit 53 ns vs 56, miss 52.5 vs 51 (ck 2-6 % ahead),
 * add + drop (every held entry) 96 vs 113; ck_hs takes 64 B per id against
 * these 96 (1 MB more at the default ring): not worth bringing ck back into
 * the library.
 * bench/README.md "ck or ours". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/rstore_batch.h"

struct rs_held_slot {
        uint64_t ms, seq;
        uint16_t stream;        /* stream index + 1; 0: empty */
};

struct rs_held {
        struct rs_held_slot *slot;
        uint32_t mask;
        uint32_t n;
};

static int parse_id(const char *id, uint64_t *ms, uint64_t *seq)
{
        char *end;
        *ms = strtoull(id, &end, 10);
        if (end == id || (*end != '-' && *end != 0))
                return -1;
        *seq = *end == '-' ? strtoull(end + 1, NULL, 10) : 0;
        return 0;
}

static uint32_t hash_of(uint64_t ms, uint64_t seq, uint16_t st)
{
        uint64_t h = ms * 0x9E3779B97F4A7C15ull ^ (seq + st) * 0xC2B2AE3D27D4EB4Full;
        h ^= h >> 29;
        h *= 0xBF58476D1CE4E5B9ull;
        return (uint32_t)(h ^ (h >> 32));
}

int rs_held_create(struct smx_rstore *rs)
{
        uint32_t most = 2 * rs->ring_cap + RS_BAD_MAX, cap = 1024;
        while (cap < 2 * most)
                cap *= 2;
        rs->held = calloc(1, sizeof *rs->held);
        if (!rs->held)
                return -1;
        rs->held->slot = calloc(cap, sizeof *rs->held->slot);
        if (!rs->held->slot)
                return -1;
        rs->held->mask = cap - 1;
        return 0;
}

void rs_held_destroy(struct smx_rstore *rs)
{
        if (rs->held)
                free(rs->held->slot);
        free(rs->held);
        rs->held = NULL;
}

/* The slot holding (stream, id), or the empty slot ending its probe. */
static uint32_t find(const struct rs_held *h, uint64_t ms, uint64_t seq, uint16_t st)
{
        uint32_t i = hash_of(ms, seq, st) & h->mask;
        while (h->slot[i].stream &&
               (h->slot[i].stream != st || h->slot[i].ms != ms || h->slot[i].seq != seq))
                i = (i + 1) & h->mask;
        return i;
}

int rs_held_has(const struct smx_rstore *rs, uint16_t stream, const char *id)
{
        uint64_t ms, seq;
        if (stream == RS_NO_STREAM || parse_id(id, &ms, &seq) < 0)
                return 0;
        const struct rs_held *h = rs->held;
        return h->slot[find(h, ms, seq, (uint16_t)(stream + 1))].stream != 0;
}

void rs_held_add(struct smx_rstore *rs, uint16_t stream, const char *id)
{
        uint64_t ms, seq;
        struct rs_held *h = rs->held;
        if (stream == RS_NO_STREAM || parse_id(id, &ms, &seq) < 0 ||
            h->n >= h->mask / 2)
                return;         /* the last cannot happen: sized for every held id */
        uint16_t st = (uint16_t)(stream + 1);
        uint32_t i = find(h, ms, seq, st);
        if (h->slot[i].stream)
                return;
        h->slot[i] = (struct rs_held_slot){ ms, seq, st };
        h->n++;
}

void rs_held_drop(struct smx_rstore *rs, uint16_t stream, const char *id)
{
        uint64_t ms, seq;
        struct rs_held *h = rs->held;
        if (stream == RS_NO_STREAM || parse_id(id, &ms, &seq) < 0)
                return;
        uint32_t i = find(h, ms, seq, (uint16_t)(stream + 1));
        if (!h->slot[i].stream)
                return;
        /* backward-shift deletion: no tombstones */
        uint32_t j = i;
        for (;;) {
                h->slot[i].stream = 0;
                for (;;) {
                        j = (j + 1) & h->mask;
                        if (!h->slot[j].stream)
                                goto done;
                        uint32_t home = hash_of(h->slot[j].ms, h->slot[j].seq,
                                                h->slot[j].stream) & h->mask;
                        /* j's entry may move to i when its home is not in (i, j] */
                        if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
                                break;
                }
                h->slot[i] = h->slot[j];
                i = j;
        }
done:
        h->n--;
}

/* XCLAIM key g instance 0 id... JUSTID for up to 256 ids of stream s. */
static int refresh_ids(struct smx_rstore *rs, struct batch *b, uint16_t s, const char **ids,
                       int n)
{
        static _Thread_local const char *argv[6 + 256];
        static _Thread_local size_t lens[6 + 256];
        argv[0] = "XCLAIM";
        argv[1] = rs->streams[s].key;
        argv[2] = "g";
        argv[3] = rs->instance;
        argv[4] = "0";
        for (int i = 0; i < n; i++)
                argv[5 + i] = ids[i];
        argv[5 + n] = "JUSTID";
        for (int i = 0; i < 6 + n; i++)
                lens[i] = strlen(argv[i]);
        return rs_batch_add(rs, b, K_REFRESH, s, 6 + n, argv, lens);
}

static int refresh_run(struct smx_rstore *rs, struct batch *b, const struct rs_ack *a,
                       uint32_t count, uint32_t mask, uint32_t from)
{
        static _Thread_local const char *ids[256];
        uint32_t k = 0;
        while (k < count) {
                const struct rs_ack *x = &a[(from + k) & mask];
                if (x->stream == 0 || x->stream == RS_NO_STREAM) {
                        k++;
                        continue;
                }
                uint16_t s = x->stream;
                int n = 0;
                while (k < count && n < 256 && a[(from + k) & mask].stream == s)
                        ids[n++] = a[(from + k++) & mask].id;
                if (refresh_ids(rs, b, s, ids, n) < 0)
                        return -1;
        }
        return 0;
}

void rs_batch_refresh(struct smx_rstore *rs, struct batch *b, uint64_t now)
{
        if (now < rs->next_hb_ms)
                return;
        b->claim_own = 1;
        if (rs->held->n == 0)
                return;
        /* the reack list (released, their XACK not answered yet), then the
         * ring's records not acknowledged yet */
        if (refresh_run(rs, b, rs->reack, rs->n_reack, 0xFFFFFFFFu, 0) < 0)
                return;
        refresh_run(rs, b, rs->ackv, rs->ev_pos - rs->ack_pos, rs->ring_cap - 1, rs->ack_pos);
}
