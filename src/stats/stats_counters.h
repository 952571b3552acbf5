/* The counters the stats renderings show (stats_counters.c): each row names
 * a field of a stats struct and its place in the text table, the JSON object
 * and the Prometheus text; stats_render.c walks the rows. Read-only data,
 * shared by every thread that renders. */
#ifndef SMX_STATS_COUNTERS_H
#define SMX_STATS_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

enum cnt_width { CW_U64, CW_U32, CW_INT };

/* One counter: the field it reads and its place in each rendering. */
struct counter {
        const char *json;          /* JSON key */
        size_t off;                /* offset of the field in the group's struct */
        uint8_t width;             /* enum cnt_width */
        uint8_t tab_pos;           /* 1..: place in the table's sentence, 0: not there */
        uint8_t prom_pos;          /* 1..: place in the Prometheus text, 0: not there */
        const char *tab;           /* the words before the value, or a column head */
        const char *prom, *prom_type, *help;
};

/* A bind counter also has a field in struct smx_stats_sum and columns. */
struct bind_counter {
        struct counter c;          /* off: in struct smx_bind_stats */
        size_t sum_off;            /* the same counter in struct smx_stats_sum */
        uint8_t col;               /* column width in the bind table */
        uint8_t sum_col;           /* in the site/worker tables, 0: not there */
};

extern const struct counter smx_stats_client_rows[], smx_stats_inbound_rows[], smx_stats_http_rows[], smx_stats_store_rows[];
extern const struct bind_counter smx_stats_bind_rows[];
extern const size_t smx_stats_n_client_rows, smx_stats_n_bind_rows, smx_stats_n_inbound_rows, smx_stats_n_http_rows, smx_stats_n_store_rows;

#endif
