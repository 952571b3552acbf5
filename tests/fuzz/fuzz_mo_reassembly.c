/* libFuzzer target: MO reassembly table driven by a script of operations.
 *
 * Each record: op (bit 7: run expire instead of add), sender (low 2 bits),
 * ref, total, seq, time step, length (6 bits), then that many data octets.
 * A small table (3 groups, 255 slots, 50 ms window) forces eviction, pool
 * exhaustion, timeouts, duplicates and ref reuse. Checks, beyond ASan/UBSan
 * (leaks included): no message is longer than the parts it can hold, the
 * open count stays within the table size, and the table drains completely. */
#include <stdlib.h>

#include "text/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[SMX_SEG_MAX_PARTS * SMX_REASM_PART_MAX];

static void check_msg(const struct smx_reasm_msg *m)
{
        if (m->len > (size_t)m->parts * SMX_REASM_PART_MAX || m->parts > m->total ||
            m->len > sizeof(out))
                abort();
        if ((m->parts < m->total) != ((m->flags & SMX_REASM_F_PARTIAL) != 0))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const senders[4] = {"447700900000", "447700900001", "1", ""};
        struct smx_reasm_config c = { .max_groups = 3, .max_parts = 1, .timeout_ms = 50 };
        struct smx_reasm *r = smx_reasm_create(&c);
        struct smx_reasm_msg m;
        uint64_t now = 0;
        size_t i = 0;

        if (!r)
                return 0;
        while (i + 7 <= size) {
                uint8_t op = data[i], who = data[i + 1] & 3;
                struct smx_reasm_key k = {
                        .src = (const uint8_t *)senders[who],
                        .src_len = __builtin_strlen(senders[who]),
                        .dst = (const uint8_t *)"12025550100", .dst_len = 11,
                        .ref = data[i + 2], .total = data[i + 3],
                };
                uint8_t seq = data[i + 4];
                now += data[i + 5];
                size_t len = data[i + 6] & 0x3F;
                i += 7;
                if (len > size - i)
                        len = size - i;
                if (op & 0x80) {
                        while (smx_reasm_expire(r, now, &m, out, sizeof(out)) == 1)
                                check_msg(&m);
                } else {
                        int rc = smx_reasm_add(r, &k, seq, op, data + i, len, now, &m, out,
                                               sizeof(out));
                        if (rc == SMX_REASM_DONE || rc == SMX_REASM_FLUSHED)
                                check_msg(&m);
                }
                if (smx_reasm_open(r) > c.max_groups)
                        abort();
                i += len;
        }
        while (smx_reasm_expire(r, now + 1000, &m, out, sizeof(out)) == 1)
                check_msg(&m);
        if (smx_reasm_open(r) != 0)
                abort();
        smx_reasm_destroy(r);
        return 0;
}
