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
 *   2. it is kept from looking idle to the others: with the heartbeat,
 *      each held entry whose idle time was last reset more than
 *      owner_takeover_ms / 4 ago has it reset again, if it is still ours
 *      (rstore_fence.c: XPENDING, then XCLAIM ... 0 JUSTID: no delivery
 *      count, no payload), before the batch's XAUTOCLAIM, so another live
 *      instance taking over the same silent owner, or the owner come back,
 *      never claims what we hold while we are in contact with Redis. Our
 *      own stream's entries too: a live instance's heartbeat keeps the
 *      others off its stream, but the fence's lease rests on idle time
 *      alone (one clock, Redis's).
 * And every heartbeat an instance claims its own stream's entries idle
 * past owner_takeover_ms (XAUTOCLAIM, whatever consumer had them): with 2.
 * those are only entries another instance took over while we were away and
 * then left without acknowledging (it stopped or crashed before its
 * application polled them), which nobody else claims from a live owner;
 * our own held ones it returns are skipped by 1. Claimed entries do not
 * move own_last (where our ordered reading of our stream goes on).
 * An instance cut off from Redis for longer than owner_takeover_ms cannot
 * reset anything; what it holds may be claimed by the others: the fence
 * (rstore_fence.c) keeps it from showing those.
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

#include "store/rstore_int.h"

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

uint32_t rs_held_count(const struct smx_rstore *rs)
{
        return rs->held->n;
}
