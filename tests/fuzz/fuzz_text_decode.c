/* libFuzzer target: inbound text decoding and MT encoding.
 *
 * Input: octet 0 = data_coding, octet 1 = options (bit 0 packed GSM, bit 1
 * generic map, bit 2 parse a UDH first, bits 3-4 output capacity class,
 * bits 5-7 segmentation mode/encoding), the rest = short_message. Checks,
 * beyond ASan/UBSan: the output never passes its capacity and is always
 * valid UTF-8; segmentation of the same bytes (as UTF-8 text) never writes
 * past its buffer and every part respects the short_message limit. */
#include <stdlib.h>
#include <string.h>

#include "text/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_utf8(const uint8_t *p, size_t n)
{
        size_t i = 0;
        while (i < n) {
                uint32_t cp;
                int bad;
                i += smx_utf8_next(p + i, n - i, &cp, &bad);
                if (bad)
                        abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const size_t caps[4] = {0, 7, 160, 4096};
        static uint8_t out[4096 + 16];
        static uint8_t segbuf[256 * 256];
        static struct smx_seg_part parts[SMX_SEG_MAX_PARTS];
        struct smx_dcs_map map;
        struct smx_text_decode_opts o = {0};
        struct smx_text_result res;
        struct smx_udh udh;

        if (size < 2)
                return 0;
        uint8_t dcs = data[0], opt = data[1];
        const uint8_t *sm = data + 2;
        size_t len = size - 2;
        size_t cap = caps[(opt >> 3) & 3];

        if (opt & 2)
                smx_dcs_map_generic(&map);
        else
                smx_dcs_map_service(&map);
        o.map = &map;
        o.gsm_packed = opt & 1;
        if (opt & 4) {
                smx_udh_parse(sm, len, &udh);
                if (udh.hdr_len > len ||
                    (udh.payload.len && udh.payload.p + udh.payload.len > sm + len))
                        abort();
                o.udh_len = udh.hdr_len;
        }
        memset(out + cap, 0xA5, 16);
        smx_text_decode(dcs, sm, len, &o, out, cap, &res);
        if (res.len > cap)
                abort();
        for (size_t i = 0; i < 16; i++)
                if (out[cap + i] != 0xA5)
                        abort();
        check_utf8(out, res.len);

        /* The same bytes as MT text. */
        struct smx_seg_opts so = {
                .enc = (enum smx_encoding)((opt >> 5) % 6),
                .mode = (enum smx_seg_mode)((opt >> 5) & 3),
                .ref = 0x1234, .gsm_packed = opt & 1, .map = NULL,
        };
        int n = smx_text_segment(sm, len, &so, segbuf, sizeof(segbuf), parts,
                                 SMX_SEG_MAX_PARTS, NULL);
        for (int k = 0; k < n; k++) {
                if (parts[k].sm < segbuf || parts[k].sm + parts[k].len > segbuf + sizeof(segbuf))
                        abort();
                if (!parts[k].payload && parts[k].len > SMPP_SHORT_MESSAGE_MAX)
                        abort();
                if (!parts[k].payload && parts[k].data_coding != SMPP_DCS_GSM &&
                    parts[k].len > 140)
                        abort();
        }
        return 0;
}
