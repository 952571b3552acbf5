/* libFuzzer target: delivery-receipt text parser and message id
 * normaliser. Checks, beyond ASan/UBSan: every view lies inside the input,
 * dates marked valid are real dates, and the normalised id is NUL-terminated
 * within its buffer. The input is copied to a buffer of exactly its size so
 * any read past len is caught. */
#include <stdlib.h>
#include <string.h>

#include "text/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_view(struct smx_text_view v, const uint8_t *s, size_t len)
{
        if (v.len && (v.p < s || v.p + v.len > s + len))
                abort();
}

static void check_date(const struct smx_dr_date *d)
{
        if (d->valid && (d->month < 1 || d->month > 12 || d->day < 1 || d->day > 31 ||
                         d->hour > 23 || d->minute > 59 || d->second > 59))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        uint8_t *s = malloc(size ? size : 1);
        struct smx_dr_text d;
        char id[96];

        if (!s)
                return 0;
        if (size)
                memcpy(s, data, size);
        smx_dr_text_parse(s, size, &d);
        check_view(d.id, s, size);
        check_view(d.sub, s, size);
        check_view(d.dlvrd, s, size);
        check_view(d.submit_date, s, size);
        check_view(d.done_date, s, size);
        check_view(d.stat, s, size);
        check_view(d.err, s, size);
        check_view(d.text, s, size);
        check_date(&d.submit);
        check_date(&d.done);
        if (d.state < -1 || d.state > (int)SMPP_STATE_SKIPPED)
                abort();

        const uint8_t *idp = d.id.len ? d.id.p : s;
        size_t idl = d.id.len ? d.id.len : size;
        for (unsigned rule = 0; rule < 5; rule++) {
                struct smx_id_norm n = {
                        .fold_case = rule & 1, .strip_zeros = (rule >> 1) & 1,
                        .resp_base = rule & 1 ? 16 : 10, .dr_base = rule & 2 ? 16 : 0,
                };
                if (rule == 4) {        /* the default: auto, no base */
                        memset(&n, 0, sizeof n);
                        n.digits_auto = 1;
                }
                for (int src = 0; src < 2; src++) {
                        int r = smx_msgid_normalise(&n, (enum smx_id_source)src, idp, idl,
                                                    id, sizeof(id));
                        if (r >= (int)sizeof(id))
                                abort();
                        if (r >= 0 && id[r] != '\0')
                                abort();
                }
        }
        free(s);
        return 0;
}
