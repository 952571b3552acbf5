/* The set of MT ids `smsmux pipe` has seen (in flight or finished), so a
 * repeated id is refused with duplicate_id (CLI.md: a repeat of a finished
 * id is refused too, so the set holds every id of the process's life; it is
 * the pipe's only per-MT memory that does not end with the MT).
 *
 * Layout, chosen so the set costs little and says exactly what it costs:
 * the ids' bytes are packed (2-byte length + bytes, no per-id allocation)
 * into an arena of IDSET_CHUNK-byte chunks; an open-addressing table of
 * 8-byte slots (arena offset + 1, 0 = empty; linear probing over FNV-1a)
 * points into it and doubles at 70 % load, starting at IDSET_MIN_CAP.
 * idset_bytes() is what it holds: table + chunks + the chunk list. For ids
 * of L bytes that is L + 2 plus 11.4-22.9 B of table per id (the table's
 * share depends on where the last doubling fell). tests/integration/net/
 * soak.py computes the same figure to take the set out of its RSS rule.
 * Owned by the pipe's one thread. */
#ifndef SMX_IDSET_H
#define SMX_IDSET_H

#include <stddef.h>
#include <stdint.h>

#define IDSET_CHUNK ((size_t)1 << 20)
#define IDSET_MIN_CAP ((size_t)1024)

/* The set; owned by the pipe's one thread. */
struct idset {
        uint64_t *slots;        /* arena offset + 1 of each id, 0 = empty */
        size_t cap, n;
        char **chunks;          /* arena: each IDSET_CHUNK bytes */
        size_t n_chunks, chunks_cap;
        size_t used;            /* bytes used in the last chunk */
};

void idset_init(struct idset *s);
void idset_free(struct idset *s);

/* Insert id[0..len) (len <= 65535). Returns 1 if added, 0 if it was there,
 * -1 when out of memory. */
int idset_add(struct idset *s, const char *id, size_t len);
int idset_has(const struct idset *s, const char *id, size_t len);

/* Bytes the set holds (table, arena chunks, chunk list). */
size_t idset_bytes(const struct idset *s);

#endif
