/* bench_ck_held: the Redis store's set of held stream entries
 * (src/store/rstore_held.c: open addressing over (ms, seq, stream), 24-byte
 * slots, power-of-two size, at most half full) against ck_hs (ck 0.7.1) of
 * pointers to pooled (ms, seq, stream) records, same program, same run
 * (issue 16 item 4).
 *
 * The set belongs to the store thread alone, so ck_hs runs without
 * CK_HS_MODE_SPMC, no lock, no epoch. Both parse the stream id text the
 * same way (strtoull twice: what rs_held_* take is Redis's "ms-seq"). Size:
 * the default event ring (16384) gives room for 2 x 16384 + 64 held ids
 * (131072 slots); loads 50 % and 80 % of those ids held.
 *   has_hit / has_miss: XAUTOCLAIM returned an entry: is it ours?
 *   add_drop: an entry is committed to the ring, then its XACK answered.
 * ours = rs_held_has / rs_held_add / rs_held_drop (the library's, linked).
 * Counter B_per_id: the set's bytes per id it must hold. */
#include <ck_hs.h>
#include <stdio.h>

#include "ck_pair.h"
#include "gbench_shim.h"
#include "store/rstore_int.h"

#define RING_CAP 16384u
#define MOST (2u * RING_CAP + RS_BAD_MAX)
#define MISS_BASE (4u * MOST)

struct held_rec {
        uint64_t ms, seq;
        uint16_t stream;
};

struct tcase {
        struct pair_case pc;            /* first: pair_register fills it */
        int ready;
        struct smx_rstore *rs;          /* ours: only ring_cap and held are used */
        ck_hs_t hs;
        struct held_rec *pool;
        uint32_t *free_idx, n_free;
        uint32_t n;                     /* ids held: [0, n) */
        double bytes_per;               /* the set's bytes per id it must hold */
};

static char (*ids)[32];                 /* "ms-seq" of id i; [MISS_BASE, +MOST) never held */

static void ids_init(void)
{
        if (ids)
                return;
        ids = malloc((size_t)(MISS_BASE + MOST) * sizeof *ids);
        if (!ids)
                abort();
        for (uint32_t i = 0; i < MISS_BASE + MOST; i++)
                snprintf(ids[i], sizeof ids[i], "%llu-%u", 1764900000000ull + i / 4, i % 4);
}

static unsigned long rec_hash(uint64_t ms, uint64_t seq, uint16_t st)
{
        uint64_t h = ms * 0x9E3779B97F4A7C15ull ^ (seq + st) * 0xC2B2AE3D27D4EB4Full;
        h ^= h >> 29;
        h *= 0xBF58476D1CE4E5B9ull;
        return (unsigned long)(h ^ (h >> 32));
}

static unsigned long hs_hash_cb(const void *o, unsigned long seed)
{
        const struct held_rec *r = o;
        return rec_hash(r->ms, r->seq, r->stream);
}

static bool hs_cmp_cb(const void *a, const void *b)
{
        const struct held_rec *x = a, *y = b;
        return x->ms == y->ms && x->seq == y->seq && x->stream == y->stream;
}

static int parse(const char *id, struct held_rec *r, uint16_t stream)
{
        char *end;
        r->ms = strtoull(id, &end, 10);
        if (end == id || (*end != '-' && *end != 0))
                return -1;
        r->seq = *end == '-' ? strtoull(end + 1, NULL, 10) : 0;
        r->stream = (uint16_t)(stream + 1);
        return 0;
}

static int ck_has(struct tcase *c, const char *id)
{
        struct held_rec k;
        if (parse(id, &k, 0) < 0)
                return 0;
        return ck_hs_get(&c->hs, rec_hash(k.ms, k.seq, k.stream), &k) != NULL;
}

static void ck_add(struct tcase *c, const char *id)
{
        struct held_rec k;
        if (parse(id, &k, 0) < 0 || c->n_free == 0)
                return;
        unsigned long h = rec_hash(k.ms, k.seq, k.stream);
        if (ck_hs_get(&c->hs, h, &k))
                return;
        struct held_rec *r = &c->pool[c->free_idx[--c->n_free]];
        *r = k;
        ck_hs_put_unique(&c->hs, h, r);
}

static void ck_drop(struct tcase *c, const char *id)
{
        struct held_rec k;
        if (parse(id, &k, 0) < 0)
                return;
        struct held_rec *r = ck_hs_remove(&c->hs, rec_hash(k.ms, k.seq, k.stream), &k);
        if (r)
                c->free_idx[c->n_free++] = (uint32_t)(r - c->pool);
}

static int case_ready(struct tcase *c, struct gbench_state *st)
{
        ids_init();
        if (c->ready)
                return 0;
        size_t before = hs_bytes;
        c->n = MOST * c->pc.load_pct / 100;
        if (c->pc.use_ck) {
                c->pool = malloc(MOST * sizeof *c->pool);
                c->free_idx = malloc(MOST * sizeof *c->free_idx);
                if (!c->pool || !c->free_idx ||
                    !ck_hs_init(&c->hs, CK_HS_MODE_OBJECT | CK_HS_MODE_DELETE, hs_hash_cb,
                                hs_cmp_cb, &hs_alloc, 2 * MOST, 1))
                        goto fail;
                for (uint32_t i = 0; i < MOST; i++)
                        c->free_idx[i] = MOST - 1 - i;
                c->n_free = MOST;
                for (uint32_t i = 0; i < c->n; i++)
                        ck_add(c, ids[i]);
                c->bytes_per = (double)(hs_bytes - before) / MOST + sizeof *c->pool +
                               sizeof *c->free_idx;
        } else {
                c->rs = calloc(1, sizeof *c->rs);
                if (!c->rs)
                        goto fail;
                c->rs->ring_cap = RING_CAP;
                if (rs_held_create(c->rs) != 0)
                        goto fail;
                for (uint32_t i = 0; i < c->n; i++)
                        rs_held_add(c->rs, 0, ids[i]);
                uint32_t slots = 1024;  /* rs_held_create's size */
                while (slots < 2 * MOST)
                        slots *= 2;
                c->bytes_per = (double)slots * 24 / MOST;
        }
        c->ready = 1;
        return 0;
fail:
        gbench_skip_with_error(st, "create failed");
        return -1;
}

static void bm_has(struct gbench_state *st, struct tcase *c, int miss)
{
        if (case_ready(c, st))
                return;
        uint32_t i = 0, base = miss ? MISS_BASE : 0, span = miss ? MOST : c->n;
        int64_t bad = 0;
        while (gbench_keep_running(st)) {
                const char *id = ids[base + i];
                int got = c->pc.use_ck ? ck_has(c, id) : rs_held_has(c->rs, 0, id);
                bad += got == miss;
                if (++i == span)
                        i = 0;
        }
        pair_report(st, "B_per_id", c->bytes_per, bad, "a lookup answered wrong");
}

static void bm_has_hit(struct gbench_state *st, void *arg) { bm_has(st, arg, 0); }
static void bm_has_miss(struct gbench_state *st, void *arg) { bm_has(st, arg, 1); }

/* Hold a new id, then release it: the window [0, n) stays as it was. */
static void bm_add_drop(struct gbench_state *st, void *arg)
{
        struct tcase *c = arg;
        if (case_ready(c, st))
                return;
        uint32_t i = 0;
        int64_t bad = 0;
        while (gbench_keep_running(st)) {
                const char *id = ids[MISS_BASE + i];
                if (c->pc.use_ck) {
                        ck_add(c, id);
                        ck_drop(c, id);
                } else {
                        rs_held_add(c->rs, 0, id);
                        rs_held_drop(c->rs, 0, id);
                }
                if (++i == MOST)
                        i = 0;
        }
        bad += c->pc.use_ck ? ck_has(c, ids[MISS_BASE]) : rs_held_has(c->rs, 0, ids[MISS_BASE]);
        pair_report(st, "B_per_id", c->bytes_per, bad, "a dropped id is still held");
}

int main(int argc, char **argv)
{
        static struct tcase cases[2][2];
        static const struct pair_op ops[3] = {
                { "has_hit", bm_has_hit },
                { "has_miss", bm_has_miss },
                { "add_drop", bm_add_drop },
        };
        pair_register("held", "ours_rs_held", ops, cases, sizeof cases[0][0]);
        return gbench_main(argc, argv);
}
