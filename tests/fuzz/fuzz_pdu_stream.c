/* libFuzzer target: the framer and decoder over a byte stream.
 *
 * Input layout: byte 0 picks the PDU cap (default, 64, 512, 4096) and the
 * decoder mode; bytes 1..8 are chunk sizes (1..256) used in turn; the rest
 * is the stream. Chunks are appended to a receive buffer the way a socket
 * reader would; whole PDUs are decoded and consumed; a framing error ends the
 * stream as it would end the connection. Checks that the framer never
 * returns more than it was given and that consumption adds up. */
#include <stdlib.h>
#include <string.h>

#include "pdu/pdu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t rx[65536 + 256];

static void must(int cond)
{
        if (!cond)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const uint32_t caps[] = { 0, 64, 512, 4096 };
        struct smx_pdu_opts o;
        size_t fed = 0, have = 0, consumed = 0, k = 0;
        const uint8_t *chunks, *s;
        size_t n;

        if (size < 9)
                return 0;
        o.max_pdu = caps[data[0] & 3];
        o.strict = (data[0] >> 2) & 1;
        chunks = data + 1;
        s = data + 9;
        n = size - 9;

        while (fed < n) {
                size_t c = (size_t)chunks[k++ % 8] + 1;
                ssize_t f;

                if (c > n - fed)
                        c = n - fed;
                must(have + c <= sizeof rx);
                memcpy(rx + have, s + fed, c);
                have += c;
                fed += c;
                while ((f = smx_frame_peek(rx, have, o.max_pdu)) > 0) {
                        struct smx_pdu p;
                        struct smx_pdu_verdict v;

                        must((size_t)f <= have && (size_t)f >= SMPP_HEADER_LEN);
                        if (smx_pdu_decode(rx, (size_t)f, &o, &p, &v) != SMX_PDU_OK)
                                must(v.action != SMX_ACT_CLOSE);
                        memmove(rx, rx + f, have - (size_t)f);
                        have -= (size_t)f;
                        consumed += (size_t)f;
                }
                if (f < 0) {
                        char esc[64];

                        smx_frame_sniff(rx, have);
                        smx_escape(rx, have < 8 ? have : 8, esc, sizeof esc);
                        return 0;
                }
        }
        must(consumed + have == n);
        return 0;
}
