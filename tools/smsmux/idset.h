/* The set of MT ids `smsmux pipe` has seen (in flight or finished), so a
 * repeated id is refused with duplicate_id. Open addressing, FNV-1a, grows
 * at 70% load; each id is copied once. Owned by the pipe's one thread. */
#ifndef SMX_IDSET_H
#define SMX_IDSET_H

#include <stddef.h>
#include <stdint.h>

/* The set; owned by the pipe's one thread. */
struct idset {
        char **slots;           /* each: 2-byte length + bytes, or NULL */
        size_t cap, n;
};

void idset_init(struct idset *s);
void idset_free(struct idset *s);

/* Insert id[0..len) (len <= 65535). Returns 1 if added, 0 if it was there,
 * -1 when out of memory. */
int idset_add(struct idset *s, const char *id, size_t len);
int idset_has(const struct idset *s, const char *id, size_t len);

#endif
