/* Latency percentiles and per-SMSC counters (see tally.h): samples are kept
 * in a growing array up to a cap and sorted once for the percentiles; the
 * per-SMSC table is a small array searched by name. */
#include <stdlib.h>
#include <string.h>

#include "tally.h"

void lat_init(struct lat_samples *l, size_t max)
{
        memset(l, 0, sizeof *l);
        l->max = max;
}

void lat_add(struct lat_samples *l, uint64_t us)
{
        if (l->n == l->cap) {
                size_t cap = l->cap ? l->cap * 2 : 4096;
                if (cap > l->max)
                        cap = l->max;
                uint32_t *p = cap > l->cap ? realloc(l->us, cap * sizeof *p) : NULL;
                if (!p) {
                        l->dropped++;
                        return;
                }
                l->us = p;
                l->cap = cap;
        }
        l->us[l->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static int cmp_u32(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
        return (x > y) - (x < y);
}

void lat_sort(struct lat_samples *l)
{
        if (l->n)
                qsort(l->us, l->n, sizeof *l->us, cmp_u32);
}

uint32_t lat_pct(const struct lat_samples *l, double p)
{
        if (!l->n)
                return 0;
        /* nearest rank: the smallest sample with at least p% at or below it */
        double rank = p / 100.0 * (double)l->n - 1e-9;  /* 99.9% of 1000 is 999, not 999.0000001 */
        size_t k = (size_t)rank;
        if ((double)k < rank)
                k++;
        if (k == 0)
                k = 1;
        if (k > l->n)
                k = l->n;
        return l->us[k - 1];
}

void lat_free(struct lat_samples *l)
{
        free(l->us);
        memset(l, 0, sizeof *l);
}

struct smsc_tally *tally_get(struct tally *t, const char *name)
{
        if (!name || !*name)
                return NULL;
        for (size_t i = 0; i < t->n; i++)
                if (!strcmp(t->s[i].name, name))
                        return &t->s[i];
        size_t len = strnlen(name, SMX_NAME_MAX + 1);
        if (t->n == TALLY_MAX || len > SMX_NAME_MAX)
                return NULL;
        struct smsc_tally *e = &t->s[t->n++];
        memset(e, 0, sizeof *e);
        memcpy(e->name, name, len);
        return e;
}

void tally_event(struct tally *t, const struct smx_event *ev)
{
        struct smsc_tally *e = tally_get(t, ev->smsc);
        if (!e) {
                t->other++;
                return;
        }
        switch (ev->type) {
        case SMX_EV_SUBMITTED: e->submitted++; break;
        case SMX_EV_FAILED: e->failed++; break;
        case SMX_EV_DR: e->drs++; break;
        case SMX_EV_MO: e->mos++; break;
        case SMX_EV_BIND:
                if (ev->up)
                        e->ups++;
                else
                        e->downs++;
                break;
        }
}
