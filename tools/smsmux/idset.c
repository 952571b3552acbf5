/* String set for duplicate-id detection (see idset.h): open addressing
 * with linear probing over FNV-1a hashes; a slot holds a 2-byte length and
 * the id's bytes; the table doubles at 70% load. */
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

static int slot_eq(const char *slot, const char *id, size_t len)
{
        size_t l = (size_t)(unsigned char)slot[0] << 8 | (unsigned char)slot[1];
        return l == len && memcmp(slot + 2, id, len) == 0;
}

static size_t slot_len(const char *slot)
{
        return (size_t)(unsigned char)slot[0] << 8 | (unsigned char)slot[1];
}

void idset_init(struct idset *s)
{
        memset(s, 0, sizeof *s);
}

void idset_free(struct idset *s)
{
        for (size_t i = 0; i < s->cap; i++)
                free(s->slots[i]);
        free(s->slots);
        memset(s, 0, sizeof *s);
}

/* Index of id's slot, or of the empty slot where it would go. */
static size_t find(char *const *slots, size_t cap, const char *id, size_t len)
{
        size_t i = (size_t)hash(id, len) & (cap - 1);
        while (slots[i] && !slot_eq(slots[i], id, len))
                i = (i + 1) & (cap - 1);
        return i;
}

static int grow(struct idset *s)
{
        size_t cap = s->cap ? s->cap * 2 : 1024;
        char **slots = calloc(cap, sizeof *slots);
        if (!slots)
                return -1;
        for (size_t i = 0; i < s->cap; i++) {
                char *e = s->slots[i];
                if (e)
                        slots[find(slots, cap, e + 2, slot_len(e))] = e;
        }
        free(s->slots);
        s->slots = slots;
        s->cap = cap;
        return 0;
}

int idset_has(const struct idset *s, const char *id, size_t len)
{
        if (!s->cap)
                return 0;
        return s->slots[find(s->slots, s->cap, id, len)] != NULL;
}

int idset_add(struct idset *s, const char *id, size_t len)
{
        if (len > 0xFFFF)
                return -1;
        if ((s->n + 1) * 10 > s->cap * 7 && grow(s) < 0)
                return -1;
        size_t i = find(s->slots, s->cap, id, len);
        if (s->slots[i])
                return 0;
        char *e = malloc(len + 2);
        if (!e)
                return -1;
        e[0] = (char)(len >> 8);
        e[1] = (char)(len & 0xFF);
        memcpy(e + 2, id, len);
        s->slots[i] = e;
        s->n++;
        return 1;
}
