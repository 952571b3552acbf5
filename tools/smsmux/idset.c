/* String set for duplicate-id detection (see idset.h): ids packed into an
 * arena of fixed chunks (2-byte length + bytes, never moved), an open-
 * addressing table of arena offsets with linear probing over FNV-1a hashes,
 * doubling at 70 % load. No allocation per id: one per chunk (every
 * IDSET_CHUNK bytes of ids) and one per doubling. */
#include <stdlib.h>
#include <string.h>

#include "idset.h"

static uint64_t hash(const char *p, size_t n)
{
        uint64_t h = 1469598103934665603ull;
        for (size_t i = 0; i < n; i++)
                h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
        return h;
}

/* The packed entry at arena offset off (2-byte length, then the bytes). */
static const char *entry(const struct idset *s, uint64_t off)
{
        return s->chunks[off / IDSET_CHUNK] + off % IDSET_CHUNK;
}

static size_t entry_len(const char *e)
{
        return (size_t)(unsigned char)e[0] << 8 | (unsigned char)e[1];
}

void idset_init(struct idset *s)
{
        memset(s, 0, sizeof *s);
}

void idset_free(struct idset *s)
{
        for (size_t i = 0; i < s->n_chunks; i++)
                free(s->chunks[i]);
        free(s->chunks);
        free(s->slots);
        memset(s, 0, sizeof *s);
}

size_t idset_bytes(const struct idset *s)
{
        return s->cap * sizeof *s->slots + s->n_chunks * IDSET_CHUNK +
               s->chunks_cap * sizeof *s->chunks;
}

/* Index of id's slot in slots[cap], or of the empty slot where it would go. */
static size_t find(const struct idset *s, const uint64_t *slots, size_t cap, const char *id,
                   size_t len, uint64_t h)
{
        size_t i = (size_t)h & (cap - 1);
        while (slots[i]) {
                const char *e = entry(s, slots[i] - 1);
                if (entry_len(e) == len && memcmp(e + 2, id, len) == 0)
                        break;
                i = (i + 1) & (cap - 1);
        }
        return i;
}

static int grow(struct idset *s)
{
        size_t cap = s->cap ? s->cap * 2 : IDSET_MIN_CAP;
        uint64_t *slots = calloc(cap, sizeof *slots);
        if (!slots)
                return -1;
        for (size_t i = 0; i < s->cap; i++) {
                if (!s->slots[i])
                        continue;
                const char *e = entry(s, s->slots[i] - 1);
                size_t l = entry_len(e);
                slots[find(s, slots, cap, e + 2, l, hash(e + 2, l))] = s->slots[i];
        }
        free(s->slots);
        s->slots = slots;
        s->cap = cap;
        return 0;
}

/* Room for need bytes in the arena; returns the offset, or -1. */
static int64_t arena_take(struct idset *s, size_t need)
{
        if (!s->n_chunks || s->used + need > IDSET_CHUNK) {
                if (s->n_chunks == s->chunks_cap) {
                        size_t ncap = s->chunks_cap ? s->chunks_cap * 2 : 16;
                        char **nc = realloc(s->chunks, ncap * sizeof *nc);
                        if (!nc)
                                return -1;
                        s->chunks = nc;
                        s->chunks_cap = ncap;
                }
                char *c = malloc(IDSET_CHUNK);
                if (!c)
                        return -1;
                s->chunks[s->n_chunks++] = c;
                s->used = 0;
        }
        int64_t off = (int64_t)((s->n_chunks - 1) * IDSET_CHUNK + s->used);
        s->used += need;
        return off;
}

int idset_has(const struct idset *s, const char *id, size_t len)
{
        if (!s->cap)
                return 0;
        return s->slots[find(s, s->slots, s->cap, id, len, hash(id, len))] != 0;
}

int idset_add(struct idset *s, const char *id, size_t len)
{
        if (len > 0xFFFF)
                return -1;
        if ((s->n + 1) * 10 > s->cap * 7 && grow(s) < 0)
                return -1;
        size_t i = find(s, s->slots, s->cap, id, len, hash(id, len));
        if (s->slots[i])
                return 0;
        int64_t off = arena_take(s, len + 2);
        if (off < 0)
                return -1;
        char *e = s->chunks[(uint64_t)off / IDSET_CHUNK] + (uint64_t)off % IDSET_CHUNK;
        e[0] = (char)(len >> 8);
        e[1] = (char)(len & 0xFF);
        memcpy(e + 2, id, len);
        s->slots[i] = (uint64_t)off + 1;
        s->n++;
        return 1;
}
