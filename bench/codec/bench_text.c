/* MT text path micro benchmarks: what one submitted MT costs in src/text,
 * i.e. smx_text_choose (counted once, on the application thread, by
 * smx_submit) followed by smx_text_segment with the counted units (encoded
 * once, on the worker, by send_mt), on the same arguments those callers use:
 * SMX_ENC_AUTO, the service data_coding map, UDH 8-bit concatenation, a
 * 64 KiB scratch buffer.
 *
 *   text/choose_segment/ascii23        "bench bench bench bench" (bench_e2e's MT)
 *   text/choose_segment/ascii160       160 ASCII characters: one full part
 *   text/choose_segment/ascii160_packed  the same for an SMSC that wants GSM packed
 *   text/choose_segment/ascii300_udh8  300 ASCII characters: 2 parts (153 + 147)
 *   text/choose_segment/cyrillic_ucs2  54 characters, Cyrillic words and spaces
 *                                      (UCS-2, one part): the non-ASCII path
 *
 * Each operation is one choose + one segment; items/s is MTs per second.
 *
 * Run: bench_text --benchmark_min_time=0.5 [--benchmark_repetitions=3]. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gbench_shim.h"
#include "text/text.h"

#define BATCH 16
#define SCRATCH (64u * 1024u)
#define MAX_PARTS 64u

/* One benchmark case: the text and the SMSC's packing knob. */
struct text_case {
        const char *text;
        size_t len;
        int packed;
        int want_parts;
};

static struct smx_dcs_map service_map;
static uint8_t scratch[SCRATCH];
static struct smx_seg_part parts[MAX_PARTS];

static void bm_choose_segment(struct gbench_state *st, void *arg)
{
        const struct text_case *tc = arg;
        const uint8_t *t = (const uint8_t *)tc->text;
        uint16_t ref = 0;

        while (gbench_keep_running_batch(st, BATCH)) {
                for (int k = 0; k < BATCH; k++) {
                        size_t units = 0;
                        int enc = smx_text_choose(t, tc->len, SMX_ENC_AUTO, &units);
                        struct smx_seg_opts so = {
                                .enc = (enum smx_encoding)enc,
                                .units = units,
                                .mode = SMX_SEG_UDH8,
                                .ref = ref++,
                                .map = &service_map,
                                .gsm_packed = (uint8_t)tc->packed,
                        };
                        struct smx_seg_info si;
                        int np = smx_text_segment(t, tc->len, &so, scratch, sizeof(scratch),
                                                  parts, MAX_PARTS, &si);
                        if (enc < 0 || np != tc->want_parts) {
                                gbench_skip_with_error(st, "unexpected choose/segment result");
                                return;
                        }
                        gbench_do_not_optimize(scratch);
                        gbench_do_not_optimize(parts);
                }
        }
        gbench_set_items_processed(st, gbench_iterations(st));
        gbench_set_bytes_processed(st, gbench_iterations(st) * (int64_t)tc->len);
}

/* n characters of a plain English sentence, repeated. */
static size_t fill_text(char *out, size_t n)
{
        static const char s[] = "Your parcel 4471 is out for delivery today, track it at "
                                "example.com/t/4471 or reply STOP to opt out. ";
        for (size_t i = 0; i < n; i++)
                out[i] = s[i % (sizeof(s) - 1)];
        return n;
}

int main(int argc, char **argv)
{
        static char t160[160], t300[300];
        static const char t23[] = "bench bench bench bench";
        static const char cyr[] = "\xD0\x92\xD0\xB0\xD1\x88 \xD0\xBA\xD0\xBE\xD0\xB4 "
                                  "\xD0\xBF\xD0\xBE\xD0\xB4\xD1\x82\xD0\xB2\xD0\xB5\xD1\x80"
                                  "\xD0\xB6\xD0\xB4\xD0\xB5\xD0\xBD\xD0\xB8\xD1\x8F 482913. "
                                  "\xD0\x9D\xD0\xB5 \xD1\x81\xD0\xBE\xD0\xBE\xD0\xB1\xD1\x89"
                                  "\xD0\xB0\xD0\xB9\xD1\x82\xD0\xB5 \xD0\xB5\xD0\xB3\xD0\xBE "
                                  "\xD0\xBD\xD0\xB8\xD0\xBA\xD0\xBE\xD0\xBC\xD1\x83.";
        static struct text_case c23, c160, c160p, c300, ccyr;

        smx_dcs_map_service(&service_map);
        c23 = (struct text_case){ .text = t23, .len = sizeof(t23) - 1, .want_parts = 1 };
        c160 = (struct text_case){ .text = t160, .len = fill_text(t160, sizeof(t160)),
                                   .want_parts = 1 };
        c160p = c160;
        c160p.packed = 1;
        c300 = (struct text_case){ .text = t300, .len = fill_text(t300, sizeof(t300)),
                                   .want_parts = 2 };
        ccyr = (struct text_case){ .text = cyr, .len = sizeof(cyr) - 1, .want_parts = 1 };

        gbench_register("text/choose_segment/ascii23", bm_choose_segment, &c23);
        gbench_register("text/choose_segment/ascii160", bm_choose_segment, &c160);
        gbench_register("text/choose_segment/ascii160_packed", bm_choose_segment, &c160p);
        gbench_register("text/choose_segment/ascii300_udh8", bm_choose_segment, &c300);
        gbench_register("text/choose_segment/cyrillic_ucs2", bm_choose_segment, &ccyr);
        return gbench_main(argc, argv);
}
