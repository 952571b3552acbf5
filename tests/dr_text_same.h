/* Field-by-field equality of two parsed receipt texts (struct smx_dr_text),
 * for the tests and the fuzz target that hold the receipt parser's paths
 * (the standard-shape fast path, the general scan, the DR path's scan)
 * against each other: views equal when they have the same length and, if
 * not empty, the same start in the input. */
#ifndef SMX_TESTS_DR_TEXT_SAME_H
#define SMX_TESTS_DR_TEXT_SAME_H

#include "text/text.h"

static inline int dr_same_view(struct smx_text_view a, struct smx_text_view b)
{
        return a.len == b.len && (a.len == 0 || a.p == b.p);
}

static inline int dr_same_date(const struct smx_dr_date *a, const struct smx_dr_date *b)
{
        return a->valid == b->valid && a->year == b->year && a->month == b->month &&
               a->day == b->day && a->hour == b->hour && a->minute == b->minute &&
               a->second == b->second;
}

static inline int dr_text_same(const struct smx_dr_text *a, const struct smx_dr_text *b)
{
        return a->present == b->present && a->flags == b->flags &&
               dr_same_view(a->id, b->id) && dr_same_view(a->sub, b->sub) &&
               dr_same_view(a->dlvrd, b->dlvrd) &&
               dr_same_view(a->submit_date, b->submit_date) &&
               dr_same_view(a->done_date, b->done_date) && dr_same_view(a->stat, b->stat) &&
               dr_same_view(a->err, b->err) && dr_same_view(a->text, b->text) &&
               a->sub_n == b->sub_n && a->dlvrd_n == b->dlvrd_n &&
               dr_same_date(&a->submit, &b->submit) && dr_same_date(&a->done, &b->done) &&
               a->state == b->state;
}

#endif
