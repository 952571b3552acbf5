/* Form fields of the HTTP API (SERVICE.md H1, H4): the pure pieces.
 *
 * Encoding appends `key=value` pairs, application/x-www-form-urlencoded, to a
 * caller-owned buffer: unreserved bytes (ALPHA DIGIT - . _ ~) as they are,
 * space as '+', everything else (including '+', '&', '=', and every byte of a
 * multi-byte UTF-8 sequence) as %XX. Parsing splits a body into views into the
 * caller's buffer; decoding turns one view into bytes ('+' is space, %XX a
 * byte) and refuses a broken escape. Nothing here allocates. */
#ifndef SMX_HTTP_FORM_H
#define SMX_HTTP_FORM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A growing string in a caller-owned fixed buffer. */
struct http_buf {
        char *p;
        size_t len, cap;
};

/* Append "&key=value" ("key=value" when the buffer is empty) with value
 * form-encoded. Returns 0, or -ENOSPC (the buffer is left as it was). */
int http_form_add(struct http_buf *b, const char *key, const char *val, size_t val_len);

/* One field of a parsed body: views into it, still encoded. */
struct http_field {
        const char *key, *val;
        uint32_t key_len, val_len;
};

/* Split body[0..len) at '&' and '='. Empty pairs ("a=1&&b=2") are skipped; a
 * pair without '=' has an empty value. Returns the field count, or -E2BIG
 * when there are more than max fields. */
int http_form_parse(const char *body, size_t len, struct http_field *out, size_t max);

/* Decode one encoded view into out (NUL-terminated). Returns the decoded
 * length, -EINVAL for a '%' not followed by two hex digits, -ENOSPC when it
 * does not fit in cap-1 bytes. */
ssize_t http_form_decode(const char *in, size_t len, char *out, size_t cap);

/* The first field named key, or NULL. */
const struct http_field *http_form_find(const struct http_field *f, int n, const char *key);

/* 1 when p[0..len) is well-formed UTF-8 (no overlongs, no surrogates, at most
 * U+10FFFF), else 0. */
int http_utf8_valid(const uint8_t *p, size_t len);

/* Decimal digits only, value <= max. Returns 0 and sets *out, or -EINVAL. */
int http_parse_uint(const char *p, size_t len, uint32_t max, uint32_t *out);

#endif
