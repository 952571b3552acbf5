/* Preallocated blocks for MT texts too long for a slot's inline buffer.
 *
 * smx_submit() copies a text longer than SMX_SLOT_TEXT_INLINE bytes into
 * one block of this pool and the block goes back when the slot is freed
 * (ingress_slot_free), so no MT costs a malloc/free. Two size classes keep
 * the memory down: 1 KiB blocks (most concatenated SMS: 1024 UTF-8 bytes are
 * 7 parts of GSM text) and SMX_TEXT_MAX blocks (the longest text smx_submit
 * accepts). A text that fits
 * a 1 KiB block takes one, or a large block when none is left. When no
 * block fits, smx_submit returns SMX_EAGAIN (backpressure, like a full
 * ingress). Each class is a LIFO free stack of block indices like the slots'
 * (lock-free, version-tagged top against ABA); the links live in an array of
 * their own, so the text bytes are never read by a racing popper. The block
 * memory is not touched at create: a page is faulted in the first time one
 * of its blocks is used, and the LIFO keeps reusing the same few. */
#ifndef SMX_TEXT_POOL_H
#define SMX_TEXT_POOL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "smsmux.h"

#define SMX_TEXT_BLOCK_SMALL 1024u
#define SMX_TEXT_BLOCK_LARGE ((uint32_t)SMX_TEXT_MAX)
#define SMX_TEXT_CLASSES 2
#define SMX_TEXT_NONE 0xFFFFFFFFu

/* One size class. Shared by all threads: everything but `top` and the links
 * is read-only after init; `top` has a cache line of its own (every take and
 * put CASes it). */
struct smx_text_class {
        uint8_t *mem;              /* n * size bytes, 64-byte aligned */
        _Atomic uint32_t *next;    /* free-stack link of each free block */
        uint32_t size;             /* bytes per block */
        uint32_t n;                /* blocks */
        char pad0_[64 - 2 * sizeof(void *) - 2 * sizeof(uint32_t)];
        _Atomic uint64_t top;      /* version << 32 | block index (SMX_TEXT_NONE: empty) */
        char pad1_[64 - sizeof(uint64_t)];
};

/* The pool: classes by ascending block size. */
struct smx_text_pool {
        struct smx_text_class cls[SMX_TEXT_CLASSES];
};

/* n_small 1 KiB blocks and n_large SMX_TEXT_MAX blocks (either may be 0).
 * 0 or -ENOMEM (the pool is then empty and fini is still safe). */
int text_pool_init(struct smx_text_pool *p, uint32_t n_small, uint32_t n_large);
/* Free the memory; no block may be in use. Safe on a zeroed pool. */
void text_pool_fini(struct smx_text_pool *p);

/* A free block of at least len bytes (len <= SMX_TEXT_MAX), or NULL when
 * none is left. Any thread. */
uint8_t *text_pool_take(struct smx_text_pool *p, size_t len);
/* Return a block text_pool_take gave out. Any thread. */
void text_pool_put(struct smx_text_pool *p, uint8_t *block);

#endif
