/* A bind's texts for stats (struct smx_bind_texts): the owning worker writes
 * them, any thread copies them, under a sequence count (odd while a write is
 * under way; a reader retries when it saw it odd or moved), so a stats call
 * never waits on the worker and never shows half of two texts. */
#include <string.h>

#include "core/client_int.h"

static void copy_text(char *dst, size_t cap, const char *src)
{
        size_t n = strlen(src);
        if (n >= cap)
                n = cap - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
}

void bind_texts_set(struct smx_bind_texts *t, const char *last_down, const char *version,
                    const char *cipher)
{
        uint32_t s = atomic_load_explicit(&t->seq, memory_order_relaxed);
        atomic_store_explicit(&t->seq, s + 1, memory_order_relaxed);
        atomic_thread_fence(memory_order_release);
        if (last_down)
                copy_text(t->last_down, sizeof t->last_down, last_down);
        if (version)
                copy_text(t->tls_version, sizeof t->tls_version, version);
        if (cipher)
                copy_text(t->tls_cipher, sizeof t->tls_cipher, cipher);
        atomic_store_explicit(&t->seq, s + 2, memory_order_release);
}

void bind_texts_get(const struct smx_bind_texts *t, struct smx_bind_texts *copy)
{
        for (;;) {
                uint32_t a = atomic_load_explicit(&t->seq, memory_order_acquire);
                if (a & 1)
                        continue;
                memcpy(copy->last_down, t->last_down, sizeof copy->last_down);
                memcpy(copy->tls_version, t->tls_version, sizeof copy->tls_version);
                memcpy(copy->tls_cipher, t->tls_cipher, sizeof copy->tls_cipher);
                atomic_thread_fence(memory_order_acquire);
                if (atomic_load_explicit(&t->seq, memory_order_relaxed) == a)
                        break;
        }
        copy->last_down[sizeof copy->last_down - 1] = '\0';
        copy->tls_version[sizeof copy->tls_version - 1] = '\0';
        copy->tls_cipher[sizeof copy->tls_cipher - 1] = '\0';
}
