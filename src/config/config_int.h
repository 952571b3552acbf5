/* Private to src/config: what the config-file loader's files share.
 *
 *   config_reader.c    the line reader under libinih, FILE:LINE errors, load()
 *   config_sections.c  section headers and key = value dispatch; [client],
 *                      [site NAME] and [smsc NAME] key tables
 *   config_http.c      the [http] key table and its value checks
 *   config_values.c    typed values: numbers, booleans, enums, strings
 *   config_file.c      the loaded set: owned strings, SMSCs, sites, finish
 *
 * A key is a row of a table (struct key_def): name, kind, offset in the
 * struct it sets, range. One load runs on the caller's thread with its state
 * in a struct load_ctx on the stack; nothing here is shared between threads. */
#ifndef SMX_CONFIG_INT_H
#define SMX_CONFIG_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "config/config_file.h"

enum key_kind {
        KEY_U32,        /* uint32_t field, [min, max] */
        KEY_POW2,       /* uint32_t field, a power of two in [min, max] */
        KEY_UNSIGNED,   /* unsigned field */
        KEY_BOOL,       /* int field, 0/1 */
        KEY_STR,        /* const char * field, at most max bytes */
        KEY_SECRET,     /* like KEY_STR, never echoed */
        KEY_POLICY,     /* enum smx_route_policy */
        KEY_BIND_MODE,  /* enum smx_bind_mode */
        KEY_PORT,       /* uint16_t field, 1..65535 */
        KEY_LOG_LEVEL,  /* int field: error | warn | info | debug */
        KEY_ADDR,       /* const char * "HOST:PORT" (metrics_addr) */
        KEY_SEG_MODE,   /* enum smx_segment_mode: udh8 | udh16 | sar | payload */
        KEY_DCS,        /* const char * data_coding table (dcs_spec.h) */
        KEY_MSGID,      /* uint32_t SMX_MSGID_NORM_* from a comma list */
        KEY_TRANSPORT,  /* enum smx_transport: smpp | http | both */
        KEY_URLS,       /* urls[]/n_urls of struct smx_http_config, appended */
        KEY_SECS,       /* uint32_t milliseconds field given in whole seconds */
        KEY_LISTEN_ADDR, /* const char * "IPv4:PORT" or "[IPv6]:PORT" (the HTTP receiver) */
};

/* One settable key: its name, how to parse it, where it goes. */
struct key_def {
        const char *name;
        enum key_kind kind;
        size_t off;
        uint32_t min, max;
};

#define U32_MAX 0xFFFFFFFFu
#define N_KEYS(t) (sizeof(t) / sizeof((t)[0]))

/* Parser state for one load; lives on the loader's stack. */
struct load_ctx {
        struct smx_config_file *f;
        const char *name;          /* file name for messages */
        FILE *fp;                  /* file input, or */
        const char *text;          /* string input (read position) */
        unsigned line;             /* line of the text last handed to inih */
        int at_line_start;
        int line_indented;         /* that line starts with a space or tab */
        char line_head[64];        /* its text from the first non-blank, cut short */
        char last_key[64];         /* key of the last key line of this section */
        int sect_kind;             /* SECT_* of the current section */
        size_t sect_index;         /* smsc or site index */
        int err;                   /* first error (negative), 0 = none */
        unsigned err_line;
        char *errbuf;
        size_t errlen;
};

enum { SECT_NONE, SECT_CLIENT, SECT_SITE, SECT_SMSC, SECT_HTTP, SECT_STORE, SECT_BAD };

/* config_reader.c: record the first error as "NAME:LINE: " + fmt. */
void config_fail(struct load_ctx *x, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* config_sections.c: a section header was read / inih's key callback. */
void config_section_begin(struct load_ctx *x, const char *sect);
int config_on_key(void *user, const char *section, const char *key, const char *value);

/* config_http.c */
extern const struct key_def config_http_keys[];
extern const size_t config_n_http_keys;
int config_listen_addr_ok(const char *s);
void config_add_urls(struct load_ctx *x, struct smx_http_config *h, const char *section,
                     const struct key_def *def, const char *value);

/* config_values.c: set one key of the struct at base from value, per def. */
void config_apply_key(struct load_ctx *x, const struct key_def *def, void *base,
                      const char *section, const char *value);

/* config_file.c: the set's storage. */
char *config_own_string(struct smx_config_file *f, const char *s);
ssize_t config_find_smsc(const struct smx_config_file *f, const char *name);
ssize_t config_find_site(const struct smx_config_file *f, const char *name);
ssize_t config_smsc_new(struct smx_config_file *f, const char *name, unsigned line);
ssize_t config_site_new(struct smx_config_file *f, const char *name, unsigned line);
int config_name_ok(const char *s);

#endif
