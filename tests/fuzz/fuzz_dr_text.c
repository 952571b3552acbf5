/* libFuzzer target: delivery-receipt text parser and message id
 * normaliser. Checks, beyond ASan/UBSan: every view lies inside the input,
 * dates marked valid are real dates, the normalised id is NUL-terminated
 * within its buffer, and the parser's two paths agree: smx_dr_text_parse
 * gives the general scan's result, and where the standard-shape fast path
 * accepts the input, its result is the general scan's field for field, and
 * smx_dr_text_scan gives the same less the counts and dates. The
 * input is copied to a buffer of exactly its size so any read past len is
 * caught. */
#include <stdlib.h>
#include <string.h>

#include "dr_text_same.h"

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

static void check_same(const struct smx_dr_text *a, const struct smx_dr_text *b)
{
        if (!dr_text_same(a, b))
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
        int n = smx_dr_text_parse(s, size, &d);
        struct smx_dr_text g, f;
        int ng = smx_dr_text_parse_general(s, size, &g);
        int nf = smx_dr_text_parse_standard(s, size, &f);
        if (n != ng)
                abort();
        check_same(&d, &g);
        if (nf >= 0) {
                if (nf != ng)
                        abort();
                check_same(&f, &g);
        }
        /* the DR path's scan: the same but counts and dates left unread */
        struct smx_dr_text sc;
        if (smx_dr_text_scan(s, size, &sc) != ng)
                abort();
        g.flags &= SMX_DR_F_UNKNOWN_STAT;
        g.sub_n = g.dlvrd_n = -1;
        memset(&g.submit, 0, sizeof g.submit);
        memset(&g.done, 0, sizeof g.done);
        check_same(&sc, &g);
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
                struct smx_id_norm norm = {
                        .fold_case = rule & 1, .strip_zeros = (rule >> 1) & 1,
                        .resp_base = rule & 1 ? 16 : 10, .dr_base = rule & 2 ? 16 : 0,
                };
                if (rule == 4) {        /* the default: auto, no base */
                        memset(&norm, 0, sizeof norm);
                        norm.digits_auto = 1;
                }
                for (int src = 0; src < 2; src++) {
                        int r = smx_msgid_normalise(&norm, (enum smx_id_source)src, idp, idl,
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
