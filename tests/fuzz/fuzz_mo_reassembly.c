/* libFuzzer target: MO reassembly table driven by a script of operations.
 *
 * Each record: op, who, ref, total, seq, time step, length (6 bits), then
 * that many data octets (63 means 255: a part too long). op bit 7 runs expire (bits 7+6: flush one group, as
 * at shutdown) instead of add; for an add, bit 6 adds every part from seq to
 * total at once (a burst that fills the part pool) and bits 0-5 are the
 * data_coding. who: bits 0-1 the sender (bit 6: one of 66 octets instead,
 * refused), bits 2-3 the destination ("", 65 octets, 66 octets: refused),
 * bits 4-5 the caller's buffer (full, 0, 100, 300 octets: truncation). A small table (3 groups, 255 slots, 50 ms window)
 * forces eviction, pool exhaustion, timeouts, duplicates and ref reuse.
 * Checks, beyond ASan/UBSan (leaks included): no message is longer than the
 * parts it can hold or the buffer, PARTIAL exactly when parts are missing,
 * TRUNCATED when cut, the table never answers ENOMEM (it is sized so that
 * cannot happen), the open count stays within the table size, and the table
 * drains completely. */
#include <stdlib.h>

#include "smsmux.h"

#include "text/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[SMX_SEG_MAX_PARTS * SMX_REASM_PART_MAX];

static void check_msg(const struct smx_reasm_msg *m, size_t cap)
{
        if (m->len > (size_t)m->parts * SMX_REASM_PART_MAX || m->parts > m->total ||
            m->len > cap)
                abort();
        if ((m->flags & SMX_REASM_F_TRUNCATED) && m->len != cap)
                abort();
        if ((m->parts < m->total) != ((m->flags & SMX_REASM_F_PARTIAL) != 0))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const senders[4] = {"447700900000", "447700900001", "1", ""};
        static const char *const dests[4] = {"12025550100", "",
                "99999999999999999999999999999999999999999999999999999999999999999",
                "999999999999999999999999999999999999999999999999999999999999999999"};
        static const size_t caps[4] = {sizeof(out), 0, 100, 300};
        struct smx_reasm_config c = { .max_groups = 3, .max_parts = 1, .timeout_ms = 50 };
        struct smx_reasm *r = smx_reasm_create(&c);
        struct smx_reasm_msg m;
        uint64_t now = 0;
        size_t i = 0;

        if (!r || sizeof(out) < smx_reasm_buf_size())
                abort();
        while (i + 7 <= size) {
                uint8_t op = data[i], who = data[i + 1] & 3;
                /* bit 6: a sender of 66 octets, one more than a key holds */
                static const char long_sender[] =
                        "447777777777777777777777777777777777777777777777777777777777777777";
                struct smx_reasm_key k = {
                        .src = (const uint8_t *)((data[i + 1] & 0x40) ? long_sender
                                                                        : senders[who]),
                        .src_len = (data[i + 1] & 0x40) ? sizeof long_sender - 1
                                                        : __builtin_strlen(senders[who]),
                        .dst = (const uint8_t *)dests[(data[i + 1] >> 2) & 3],
                        .dst_len = __builtin_strlen(dests[(data[i + 1] >> 2) & 3]),
                        .ref = data[i + 2], .total = data[i + 3],
                };
                uint8_t seq = data[i + 4];
                size_t cap = caps[(data[i + 1] >> 4) & 3];
                now += data[i + 5];
                /* 63 stands for 255 octets: longer than a part may be (E2BIG) */
                size_t len = (data[i + 6] & 0x3F) == 0x3F ? 255 : data[i + 6] & 0x3F;
                i += 7;
                if (len > size - i)
                        len = size - i;
                if ((op & 0xC0) == 0xC0) {
                        if (smx_reasm_flush(r, &m, out, cap) == 1) {
                                check_msg(&m, cap);
                                if (!(m.flags & SMX_REASM_F_FLUSHED))
                                        abort();
                        }
                } else if (op & 0x80) {
                        while (smx_reasm_expire(r, now, &m, out, cap) == 1)
                                check_msg(&m, cap);
                } else {
                        /* a burst adds seq, seq + 1, ... total */
                        unsigned last = (op & 0x40) && seq ? k.total : seq;
                        for (unsigned s = seq; s <= last || s == seq; s++) {
                                int rc = smx_reasm_add(r, &k, (uint8_t)s, op & 0x3F, data + i,
                                                       len, now, &m, out, cap);
                                if (rc == SMX_REASM_DONE || rc == SMX_REASM_FLUSHED)
                                        check_msg(&m, cap);
                                if (rc == SMX_ENOMEM ||
                                    ((k.dst_len > SMX_REASM_ADDR_MAX ||
                                      k.src_len > SMX_REASM_ADDR_MAX) && rc != SMX_EINVAL) ||
                                    (len > SMX_REASM_PART_MAX && rc != SMX_E2BIG &&
                                     rc != SMX_EINVAL))
                                        abort();
                                if (s == 255)
                                        break;
                        }
                }
                if (smx_reasm_open(r) > c.max_groups)
                        abort();
                i += len;
        }
        while (smx_reasm_expire(r, now + 1000, &m, out, sizeof(out)) == 1)
                check_msg(&m, sizeof(out));
        if (smx_reasm_open(r) != 0)
                abort();
        smx_reasm_destroy(r);
        return 0;
}
