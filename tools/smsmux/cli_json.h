/* JSON for `smsmux pipe`: reading one MT request line (with jansson) and
 * writing one event line (by hand, into a caller-owned buffer). Output is
 * always valid UTF-8 JSON: control characters are escaped and a byte that
 * is not part of valid UTF-8 becomes U+FFFD. Field names and order are the
 * contract of ../../../shared/CLI.md. */
#ifndef SMX_CLI_JSON_H
#define SMX_CLI_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "smsmux.h"

/* A growing output line; owned by one thread. */
struct jbuf {
        char *p;
        size_t len, cap;
        int oom;                 /* an append failed: the line is unusable */
};

void jbuf_reset(struct jbuf *b);
void jbuf_free(struct jbuf *b);
void jbuf_raw(struct jbuf *b, const char *s, size_t n);
/* Append s[0..n) as a JSON string literal (quotes included). */
void jbuf_str(struct jbuf *b, const char *s, size_t n);

/* The line (with '\n') for one library event. Returns 0, or -1 when the
 * event type is unknown or memory ran out. */
int cli_json_event(struct jbuf *b, const struct smx_event *ev);

/* The line for a `failed` outcome the CLI itself decides (duplicate_id,
 * bad_request, shutdown). id may be NULL: then "id":null and, when line > 0,
 * "line":N. */
int cli_json_failed(struct jbuf *b, const char *id, size_t id_len, const char *reason,
                    int permanent, uint64_t line);

/* One parsed MT request. The strings point into a jansson object kept in
 * `owner`; release it with cli_mt_release(). */
struct cli_mt {
        struct smx_mt mt;
        const char *id;          /* NULL: no usable id on the line */
        size_t id_len;
        void *owner;
};

/* Parse one stdin line. Returns 0 when mt is a complete request; -1 when the
 * line is a bad request (mt->id still set if an id could be read), with a
 * short reason in why. Either way call cli_mt_release(). */
int cli_mt_parse(const char *line, size_t len, struct cli_mt *mt, char *why, size_t why_len);
void cli_mt_release(struct cli_mt *mt);

#endif
