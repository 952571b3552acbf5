/* A 128-bit keyed hash for the stores' keys (normalised message ids, DR and
 * MO identities). Keys are kept as this hash, never as the bytes: two
 * independent 64-bit lanes, each a multiply-fold ("mum") over 8-byte words,
 * finalised together. Not cryptographic; the seed is fixed so that the same
 * input gives the same key in every process (HOSTILE rule 7, and a future
 * shared Redis/Valkey backend). The chance that two distinct ids collide on
 * all 128 bits is negligible (~n^2 / 2^129). */
#ifndef SMX_STORE_HASH128_H
#define SMX_STORE_HASH128_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct smx_key128 {
        uint64_t lo, hi;
};

static inline uint64_t smx_h_mum(uint64_t a, uint64_t b)
{
        __uint128_t r = (__uint128_t)a * b;
        return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t smx_h_rd64(const uint8_t *p)
{
        uint64_t v;
        memcpy(&v, p, 8);
        return v;
}

/* Hash n bytes at p, continuing from `seed` (0 for a fresh key). */
static inline struct smx_key128 smx_hash128(const void *data, size_t n, uint64_t seed)
{
        static const uint64_t K0 = 0xa0761d6478bd642full, K1 = 0xe7037ed1a0b428dbull,
                              K2 = 0x8ebc6af09c88c6e3ull, K3 = 0x589965cc75374cc3ull;
        const uint8_t *p = data;
        uint64_t a = seed ^ K0 ^ (uint64_t)n, b = (seed << 1 | seed >> 63) ^ K1;
        size_t left = n;
        while (left >= 16) {
                uint64_t w0 = smx_h_rd64(p), w1 = smx_h_rd64(p + 8);
                a = smx_h_mum(w0 ^ K2 ^ a, w1 ^ K3) ^ b;
                b = smx_h_mum(w1 ^ K0 ^ b, w0 ^ K1 ^ a);
                p += 16;
                left -= 16;
        }
        uint8_t tail[16] = { 0 };
        if (left)
                memcpy(tail, p, left);
        uint64_t w0 = smx_h_rd64(tail) ^ ((uint64_t)left << 56), w1 = smx_h_rd64(tail + 8);
        a = smx_h_mum(w0 ^ K2 ^ a, w1 ^ K3 ^ b);
        b = smx_h_mum(w1 ^ K0 ^ b, w0 ^ K1 ^ a);
        struct smx_key128 k;
        k.lo = smx_h_mum(a ^ K3, b ^ K2 ^ (uint64_t)n);
        k.hi = smx_h_mum(b ^ K1, k.lo ^ K0);
        return k;
}

/* Continue a hash with more bytes (for keys made of several fields). */
static inline struct smx_key128 smx_hash128_more(struct smx_key128 k, const void *data, size_t n)
{
        return smx_hash128(data, n, k.lo ^ (k.hi << 7 | k.hi >> 57));
}

/* Open-addressing helpers shared by the stores: the home slot of a key in a
 * table of n slots (any n, by multiply-shift, no power of two needed, so a
 * table can be sized to its capacity), and the next slot of a linear probe. */
static inline uint32_t smx_slot_home(uint32_t n, uint64_t h)
{
        return (uint32_t)(((__uint128_t)h * n) >> 64);
}

static inline uint32_t smx_slot_next(uint32_t n, uint32_t i)
{
        return i + 1 == n ? 0 : i + 1;
}

static inline int smx_key128_eq(const struct smx_key128 *a, const struct smx_key128 *b)
{
        return a->lo == b->lo && a->hi == b->hi;
}

#endif
