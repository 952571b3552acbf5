/* The service's memory of the MTs it took.
 *
 * MTs with the identity TLV are kept for ever in `mts` and an open-addressing
 * hash on (identity, segment): that is the service's dedup (R5), and it must
 * remember every identity it saw. MTs without it (kept only to send their
 * DRs and for the `mts` listing) live in a ring of at most mt_records_max
 * records: when it is full the oldest leaves it (`mt_records_evicted`
 * counts them); a record whose DRs are still scheduled is then owned by its
 * DR timers alone and freed by the last of them (sim_mt_dr_done). So a long
 * blast without identities keeps at most mt_records_max records plus those
 * with a DR on its way. Engine thread (or under the lock). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

static uint64_t mt_hash(const uint8_t *id, size_t n, uint16_t seg)
{
        uint64_t h = 1469598103934665603ull;
        for (size_t i = 0; i < n; i++)
                h = (h ^ id[i]) * 1099511628211ull;
        h = (h ^ seg) * 1099511628211ull;
        h = (h ^ (seg >> 8)) * 1099511628211ull;
        return h ^ (h >> 29);
}

struct sim_mt *sim_mt_find(struct smsc_sim *s, const uint8_t *id, size_t n, uint16_t seg)
{
        if (!s->hash_cap)
                return NULL;
        size_t mask = s->hash_cap - 1;
        for (size_t i = mt_hash(id, n, seg) & mask;; i = (i + 1) & mask) {
                uint32_t v = s->mt_hash[i];
                if (!v)
                        return NULL;
                struct sim_mt *mt = s->mts[v - 1];
                if (mt->id_len == n && mt->segment == seg && memcmp(mt->identity, id, n) == 0)
                        return mt;
        }
}

static void mt_hash_insert(struct smsc_sim *s, size_t idx)
{
        struct sim_mt *mt = s->mts[idx];
        size_t mask = s->hash_cap - 1;
        size_t i = mt_hash(mt->identity, mt->id_len, mt->segment) & mask;
        while (s->mt_hash[i])
                i = (i + 1) & mask;
        s->mt_hash[i] = (uint32_t)idx + 1;
}

/* Index the last record of `mts`, doubling the hash when half full. */
static int mt_index_identity(struct smsc_sim *s)
{
        size_t idx = s->n_mts - 1;
        if ((idx + 1) * 2 > s->hash_cap) {
                size_t nc = s->hash_cap ? s->hash_cap * 2 : 8192;
                uint32_t *nh = calloc(nc, sizeof(*nh));
                if (!nh)
                        return -ENOMEM;
                free(s->mt_hash);
                s->mt_hash = nh;
                s->hash_cap = nc;
                for (size_t i = 0; i < s->n_mts; i++)
                        mt_hash_insert(s, i);
                return 0;
        }
        mt_hash_insert(s, idx);
        return 0;
}

struct sim_mt *sim_mt_add_identity(struct smsc_sim *s, const uint8_t *id, size_t n, uint16_t seg)
{
        if (s->n_mts == s->cap_mts) {
                size_t nc = s->cap_mts ? s->cap_mts * 2 : 4096;
                struct sim_mt **nm = realloc(s->mts, nc * sizeof(*nm));
                if (!nm)
                        return NULL;
                s->mts = nm;
                s->cap_mts = nc;
        }
        struct sim_mt *mt = calloc(1, sizeof(*mt));
        if (!mt)
                return NULL;
        mt->id_len = (uint8_t)n;
        memcpy(mt->identity, id, n);
        mt->segment = seg;
        s->mts[s->n_mts++] = mt;
        if (mt_index_identity(s) < 0) {
                s->n_mts--;
                free(mt);
                return NULL;
        }
        return mt;
}

struct sim_mt *sim_mt_add_anon(struct smsc_sim *s)
{
        size_t cap = s->mt_records_max;
        if (!s->anon) {
                s->anon = calloc(cap, sizeof(*s->anon));
                if (!s->anon)
                        return NULL;
        }
        struct sim_mt *mt = calloc(1, sizeof(*mt));
        if (!mt)
                return NULL;
        if (s->n_anon == cap) {
                struct sim_mt *old = s->anon[s->anon_head];
                if (old->dr_pending)
                        old->detached = 1;      /* its last DR frees it */
                else
                        free(old);
                s->anon_head = (s->anon_head + 1) % cap;
                s->n_anon--;
                if (!s->mt_records_evicted++)
                        fprintf(stderr, "smsc-sim: mt_records_max %zu reached: the oldest records of MTs "
                                "without identity leave the ledger (their DRs are still sent)\n", cap);
        }
        s->anon[(s->anon_head + s->n_anon) % cap] = mt;
        s->n_anon++;
        return mt;
}

struct sim_mt *sim_mt_anon_at(const struct smsc_sim *s, size_t i)
{
        return i < s->n_anon ? s->anon[(s->anon_head + i) % s->mt_records_max] : NULL;
}

void sim_mt_dr_done(struct sim_mt *mt)
{
        if (mt->dr_pending)
                mt->dr_pending--;
        if (!mt->dr_pending && mt->detached)
                free(mt);
}

void sim_mts_free(struct smsc_sim *s)
{
        for (size_t i = 0; i < s->n_timers; i++)
                if (s->timers[i].kind == SIM_T_DR)
                        sim_mt_dr_done(s->timers[i].p);
        for (size_t i = 0; i < s->n_mts; i++)
                free(s->mts[i]);
        free(s->mts);
        free(s->mt_hash);
        for (size_t i = 0; i < s->n_anon; i++)
                free(sim_mt_anon_at(s, i));
        free(s->anon);
}
