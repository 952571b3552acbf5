/* bench_ck_reasm: the MO reassembly table's group index
 * (src/text/reassembly.c: a bucket array of group indexes chained through
 * the group records, 2 buckets per group) against ck_hs (ck 0.7.1) holding
 * pointers to the same group records, same program, same run (issue 16
 * item 4).
 *
 * The table is single-threaded (each of the inbound's reassembly shards
 * locks its own), so ck_hs runs without CK_HS_MODE_SPMC and nothing else is
 * added: a lock would be the same for both. Size: what the defaults give,
 * 4096 groups over 16 shards = 256 groups per table; loads 50 % and 80 % of
 * them open. Key: (source, destination, reference, total), FNV-1a hashed
 * (reassembly.c's key_hash), compared field by field (its key_equal).
 *   find_hit / find_miss: an MO part looks its group up (ours: reassembly.c's
 *     own find(); ck: ck_hs_get with a compare that calls key_equal);
 *   insert_remove: a group opens and closes (ours: group_new's bucket link
 *     and group_free's chain unlink, the same statements; ck: ck_hs_put_unique
 *     - a new group is only made after a miss - and ck_hs_remove).
 * Counter B_per_group: the index's bytes per group record. */
#include <ck_hs.h>
#include <stdio.h>

#include "ck_pair.h"
#include "gbench_shim.h"
#include "text/reassembly.c"

#define GROUPS 256u

struct lookup {
        const struct smx_reasm_key *k;
        uint32_t h;
};

struct tcase {
        struct pair_case pc;            /* first: pair_register fills it */
        struct smx_reasm *r;
        ck_hs_t hs;
        uint8_t src[GROUPS * 2][16], dst[GROUPS * 2][8];
        struct smx_reasm_key keys[GROUPS * 2];  /* [0, n) open, [GROUPS, 2 GROUPS) never */
        uint32_t hash[GROUPS * 2];
        uint32_t n;
        double bytes_per;               /* the index's bytes per group record */
};

static unsigned long hs_hash_cb(const void *o, unsigned long seed)
{
        return ((const struct reasm_group *)o)->hash;
}

static bool hs_cmp_cb(const void *stored, const void *key)
{
        const struct lookup *l = key;
        return key_equal(stored, l->k, l->h);
}

static void make_key(struct tcase *c, uint32_t i)
{
        snprintf((char *)c->src[i], sizeof c->src[i], "4479%08u", i * 7919u);
        snprintf((char *)c->dst[i], sizeof c->dst[i], "%07u", 1000000u + i % 97u);
        c->keys[i] = (struct smx_reasm_key){ c->src[i], 12, c->dst[i], 7, (uint16_t)(i * 31u), 3 };
        c->hash[i] = key_hash(&c->keys[i]);
}

static int case_ready(struct tcase *c, struct gbench_state *st)
{
        if (c->r)
                return 0;
        struct smx_reasm_config cfg = { .max_groups = GROUPS, .timeout_ms = 60000 };
        c->r = smx_reasm_create(&cfg);
        size_t before = hs_bytes;
        if (!c->r || !ck_hs_init(&c->hs, CK_HS_MODE_OBJECT | CK_HS_MODE_DELETE, hs_hash_cb,
                                 hs_cmp_cb, &hs_alloc, 2 * GROUPS, 1)) {
                gbench_skip_with_error(st, "create failed");
                return -1;
        }
        c->n = GROUPS * c->pc.load_pct / 100;
        for (uint32_t i = 0; i < 2 * GROUPS; i++)
                make_key(c, i);
        for (uint32_t i = 0; i < c->n; i++) {
                uint32_t idx = group_new(c->r, &c->keys[i], c->hash[i], 0, 1);
                if (c->pc.use_ck) {     /* the ck table indexes the same records */
                        uint32_t *pp = &c->r->bucket[c->hash[i] & (c->r->nbuckets - 1)];
                        *pp = G(c->r, idx)->hnext;
                        ck_hs_put_unique(&c->hs, c->hash[i], G(c->r, idx));
                }
        }
        c->bytes_per = c->pc.use_ck ? (double)(hs_bytes - before) / GROUPS
                                    : (double)(c->r->nbuckets * sizeof *c->r->bucket) / GROUPS +
                                              sizeof(uint32_t);    /* + hnext */
        return 0;
}

static inline uint32_t ours_find(struct tcase *c, uint32_t i)
{
        return find(c->r, &c->keys[i], key_hash(&c->keys[i]));
}

static inline void *ck_find(struct tcase *c, uint32_t i)
{
        struct lookup l = { &c->keys[i], key_hash(&c->keys[i]) };
        return ck_hs_get(&c->hs, l.h, &l);
}

static void bm_find(struct gbench_state *st, struct tcase *c, int miss)
{
        if (case_ready(c, st))
                return;
        uint32_t i = 0, base = miss ? GROUPS : 0, span = miss ? GROUPS : c->n;
        int64_t bad = 0;
        while (gbench_keep_running(st)) {
                int found = c->pc.use_ck ? ck_find(c, base + i) != NULL
                                         : ours_find(c, base + i) != 0;
                bad += found == miss;
                if (++i == span)
                        i = 0;
        }
        pair_report(st, "B_per_group", c->bytes_per, bad, "a lookup answered wrong");
}

static void bm_find_hit(struct gbench_state *st, void *arg) { bm_find(st, arg, 0); }
static void bm_find_miss(struct gbench_state *st, void *arg) { bm_find(st, arg, 1); }

/* A group's index entry made and dropped: key GROUPS + i on record idx. */
static void bm_insert_remove(struct gbench_state *st, void *arg)
{
        struct tcase *c = arg;
        if (case_ready(c, st))
                return;
        struct smx_reasm *r = c->r;
        uint32_t i = 0, idx = r->free_g;       /* a free record to index */
        struct reasm_group *g = G(r, idx);
        int64_t bad = 0;
        while (gbench_keep_running(st)) {
                const struct smx_reasm_key *k = &c->keys[GROUPS + i];
                uint32_t h = c->hash[GROUPS + i];
                g->hash = h;            /* the key, as group_new writes it */
                g->ref = k->ref;
                g->total = k->total;
                g->src_len = (uint8_t)k->src_len;
                g->dst_len = (uint8_t)k->dst_len;
                memcpy(g->src, k->src, k->src_len);
                memcpy(g->dst, k->dst, k->dst_len);
                if (c->pc.use_ck) {
                        struct lookup l = { k, h };
                        ck_hs_put_unique(&c->hs, h, g);
                        bad += ck_hs_remove(&c->hs, h, &l) != g;
                } else {
                        uint32_t *b = &r->bucket[h & (r->nbuckets - 1)];
                        g->hnext = *b;          /* group_new */
                        *b = idx;
                        uint32_t *pp = &r->bucket[g->hash & (r->nbuckets - 1)];
                        while (*pp && *pp != idx)       /* group_free */
                                pp = &G(r, *pp)->hnext;
                        bad += *pp != idx;
                        if (*pp)
                                *pp = g->hnext;
                }
                gbench_clobber_memory();
                if (++i == GROUPS)
                        i = 0;
        }
        pair_report(st, "B_per_group", c->bytes_per, bad, "a remove answered wrong");
}

int main(int argc, char **argv)
{
        static struct tcase cases[2][2];
        static const struct pair_op ops[3] = {
                { "find_hit", bm_find_hit },
                { "find_miss", bm_find_miss },
                { "insert_remove", bm_insert_remove },
        };
        pair_register("reasm", "ours_buckets", ops, cases, sizeof cases[0][0]);
        return gbench_main(argc, argv);
}
