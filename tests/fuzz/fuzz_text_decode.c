/* libFuzzer target: inbound text decoding and MT encoding.
 *
 * Input: octet 0 = data_coding, octet 1 = options (bit 0 packed GSM, bit 1
 * generic map, bit 2 parse a UDH first, bits 3-4 output capacity class,
 * bits 5-7 segmentation mode/encoding), the rest = short_message. Checks,
 * beyond ASan/UBSan: the output never passes its capacity and is always
 * valid UTF-8; segmentation of the same bytes (as UTF-8 text) never writes
 * past its buffer and every part respects the short_message limit.
 *
 * What that alone never reached (tools/fuzz-coverage.sh) runs on the same
 * input too: octet 0 also picks the segmentation options (info wanted, the
 * caller's unit count passed, max_parts 255/1/2/3, the decode map or the
 * default, a buffer of 2 parts or the full one); the parts' units must add
 * up to the text's. A known septet count for packed GSM (the last octet). The
 * reference encoders (GSM, Latin-1/ASCII, UCS-2) over the bytes as UTF-8 into
 * a capacity picked by octet 0: what they accept round-trips through the
 * matching decoder (GSM: re-encoding the decoded text gives the same septets,
 * and packing then unpacking gives them back), what they refuse they refuse
 * with the right error and offset. With a UDH, the concatenation pick
 * against SAR values made of the same octets, or agreeing with the UDH but
 * for nothing, the total or the part number. */
#include <stdint.h>
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

static void must(int cond)
{
        if (!cond)
                abort();
}

/* The first code point of s at off has no GSM form, or is invalid UTF-8. */
static int not_gsm_at(const uint8_t *s, size_t len, size_t off)
{
        uint32_t cp;
        int bad;

        if (off >= len)
                return 0;
        smx_utf8_next(s + off, len - off, &cp, &bad);
        return bad || smx_gsm7_cp_septets(cp) == 0;
}

/* The reference encoders over in[0..len) as UTF-8, into cap octets. */
static void encoders(const uint8_t *in, size_t len, size_t cap, unsigned fill, int ascii)
{
        static uint8_t enc[8192], dec[16384], again[16384];
        unsigned fl = 0;
        size_t bad_at = SIZE_MAX, septets = 0;
        long n;

        n = smx_gsm7_from_utf8(in, len, enc, cap, &bad_at);
        if (n >= 0) {
                must((size_t)n <= cap);
                for (size_t i = 0; i < len;) {
                        uint32_t cp;
                        int bad;
                        i += smx_utf8_next(in + i, len - i, &cp, &bad);
                        septets += smx_gsm7_cp_septets(cp);
                }
                must((size_t)n == septets);
                for (long i = 0; i < n; i++)
                        must(enc[i] <= 0x7F);
                size_t d = smx_gsm7_to_utf8(enc, (size_t)n, dec, sizeof dec, &fl);
                must(!(fl & (SMX_TEXT_F_TRUNCATED | SMX_TEXT_F_HIGH_SEPTET)));
                must(smx_gsm7_from_utf8(dec, d, again, sizeof again, NULL) == n &&
                     memcmp(again, enc, (size_t)n) == 0);
                size_t packed = smx_gsm7_pack(enc, (size_t)n, fill, dec, sizeof dec);
                must(packed == (fill + 7 * (size_t)n + 7) / 8);
                must(smx_gsm7_unpack(dec, packed, fill, (size_t)n, again, sizeof again) ==
                     (size_t)n && memcmp(again, enc, (size_t)n) == 0);
                /* half the room: the first half; no room or fill 7: nothing */
                must(smx_gsm7_unpack(dec, packed, fill, (size_t)n, again, (size_t)n / 2) ==
                     (size_t)n / 2 && memcmp(again, enc, (size_t)n / 2) == 0);
                must(smx_gsm7_pack(enc, (size_t)n, fill, dec, packed - 1) == 0 || packed == 0);
                must(smx_gsm7_pack(enc, (size_t)n, 7, dec, sizeof dec) == 0);
                must(smx_gsm7_unpack(dec, packed, 7, (size_t)n, again, sizeof again) == 0);
                must(smx_gsm7_packed_septets(dec, packed, 7, &fl) == 0);
        } else if (n == SMX_EINVAL) {
                must(bad_at < len && not_gsm_at(in, len, bad_at));
        } else {
                must(n == SMX_E2BIG);
        }

        uint32_t max_cp = ascii ? 0x7F : 0xFF;
        bad_at = SIZE_MAX;
        n = smx_latin1_from_utf8(in, len, max_cp, enc, cap, &bad_at);
        if (n >= 0) {
                for (long i = 0; i < n; i++)
                        must(enc[i] <= max_cp);
                fl = 0;
                size_t d = ascii ? smx_ascii_to_utf8(enc, (size_t)n, dec, sizeof dec, &fl)
                                 : smx_latin1_to_utf8(enc, (size_t)n, dec, sizeof dec, &fl);
                must(d == len && memcmp(dec, in, len) == 0 && fl == 0);
        } else if (n == SMX_EINVAL) {
                uint32_t cp;
                int bad;
                must(bad_at < len);
                smx_utf8_next(in + bad_at, len - bad_at, &cp, &bad);
                must(bad || cp > max_cp);
        } else {
                must(n == SMX_E2BIG);
        }

        n = smx_ucs2_from_utf8(in, len, enc, cap);
        if (n >= 0) {
                must((size_t)n <= cap && n % 2 == 0);
                uint32_t first = 0;
                int bad;
                if (len)
                        smx_utf8_next(in, len, &first, &bad);
                /* a leading U+FEFF / U+FFFE reads back as a byte-order mark */
                if (first != 0xFEFF && first != 0xFFFE) {
                        unsigned sf = 0;
                        fl = 0;
                        size_t d = smx_ucs2_to_utf8(enc, (size_t)n, dec, sizeof dec, &fl);
                        size_t c = smx_utf8_sanitize(in, len, again, sizeof again, &sf);
                        must(d == c && memcmp(dec, again, c) == 0);
                }
        } else {
                must(n == SMX_E2BIG);
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

                struct smx_concat c;
                /* SAR made of input octets, or (bit 7) agreeing with the UDH */
                uint8_t sar_total = len ? sm[len - 1] : 0, sar_seq = dcs >> 4;
                uint16_t sar_ref = (uint16_t)(dcs * 257u);
                if (dcs & 0x80) {
                        sar_total = udh.total;
                        sar_seq = udh.seq;
                        sar_ref = udh.ref;
                        if ((dcs & 0x0C) == 0x04)
                                sar_total ^= 1;  /* agrees but for the total */
                        else if ((dcs & 0x0C) == 0x08)
                                sar_seq ^= 1;    /* agrees but for the part */
                }
                smx_concat_pick((dcs & 2) ? NULL : &udh, dcs & 1, sar_ref, sar_total, sar_seq,
                                &c);
                if ((dcs & 0x80) && c.from_udh)
                        must(c.mismatch == ((dcs & 1) && ((dcs & 0x0C) == 0x04 ||
                                                          (dcs & 0x0C) == 0x08) &&
                                            sar_total >= 1 && sar_seq >= 1 &&
                                            sar_seq <= sar_total));
                if (c.present)
                        must(c.total >= 2 && c.seq >= 1 && c.seq <= c.total);
                if (c.from_udh)
                        must(!(dcs & 2) && udh.has_concat && c.ref == udh.ref);
                else if (c.present)
                        must((dcs & 1) && c.total == sar_total && c.seq == sar_seq);
                must(c.sar_invalid == ((dcs & 1) && !(sar_total >= 1 && sar_seq >= 1 &&
                                                      sar_seq <= sar_total)));
        }
        memset(out + cap, 0xA5, 16);
        smx_text_decode(dcs, sm, len, &o, out, cap, &res);
        if (res.len > cap)
                abort();
        for (size_t i = 0; i < 16; i++)
                if (out[cap + i] != 0xA5)
                        abort();
        check_utf8(out, res.len);
        if (len) {
                /* the septet count known (SMPP carries none; a caller may) */
                o.septets = sm[len - 1];
                smx_text_decode(dcs, sm, len, &o, out, cap, &res);
                must(res.len <= cap);
                check_utf8(out, res.len);
        }
        encoders(sm, len, caps[(dcs >> 4) & 3] ? caps[(dcs >> 4) & 3] * 2 : 0,
                 dcs % 7, dcs & 0x40);

        /* The same bytes as MT text. */
        static const size_t max_parts[4] = {SMX_SEG_MAX_PARTS, 1, 2, 3};
        struct smx_seg_opts so = {
                .enc = (enum smx_encoding)((opt >> 5) % 6),
                .mode = (enum smx_seg_mode)((opt >> 5) & 3),
                .ref = 0x1234, .gsm_packed = opt & 1,
                .map = (dcs & 0x10) ? &map : NULL,
        };
        struct smx_seg_info info;
        size_t units = 0;
        if ((dcs & 2) && smx_text_choose(sm, len, so.enc, &units) == (int)so.enc)
                so.units = units;
        /* choosing: an encoding the enum does not have; the count not wanted */
        must(smx_text_choose(sm, len, (enum smx_encoding)(6 + (opt >> 5)), NULL) == SMX_EINVAL);
        if (smx_text_choose(sm, len, so.enc, NULL) >= 0)
                must(smx_text_choose(sm, len, so.enc, &units) >= 0);
        must(smx_dcs_for_encoding(&map, SMX_ENC_AUTO) == SMX_EINVAL);
        size_t segcap = (dcs & 0x20) ? 2 * SMX_SEG_PART_BYTES_MAX : sizeof(segbuf);
        int n = smx_text_segment(sm, len, &so, segbuf, segcap, parts,
                                 max_parts[(dcs >> 2) & 3], (dcs & 1) ? &info : NULL);
        must(n >= 1 || n == SMX_EINVAL || n == SMX_E2BIG);
        if (n >= 1 && (dcs & 1)) {
                size_t sum = 0;
                for (int k = 0; k < n; k++)
                        sum += parts[k].units;
                must(info.bytes <= segcap && (n == 1 || sum == info.units));
        }
        /* unpacked GSM takes up to 160 octets; the map says which data_coding is GSM */
        struct smx_dcs_map service;
        smx_dcs_map_service(&service);
        int gsm_dcs = smx_dcs_for_encoding(so.map ? so.map : &service, SMX_ENC_GSM);
        for (int k = 0; k < n; k++) {
                if (parts[k].sm < segbuf || parts[k].sm + parts[k].len > segbuf + sizeof(segbuf))
                        abort();
                if (!parts[k].payload && parts[k].len > SMPP_SHORT_MESSAGE_MAX)
                        abort();
                if (!parts[k].payload && parts[k].data_coding != gsm_dcs &&
                    parts[k].len > 140)
                        abort();
        }
        return 0;
}
