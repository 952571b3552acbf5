/* The receiver's judgement of one request (see http_receiver.h), as pure
 * functions over what the caller holds: the request line and the headers
 * that matter (http_rx_check_head), the form body (http_rx_parse) and the
 * shared secret (http_rx_check_secret). Each answers 0 or the HTTP status to
 * send, with a one-line reason. Nothing here allocates or keeps state; every
 * read is bounded by the caller's lengths (http_form.h). */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "http/http_form.h"
#include "http/http_receiver.h"
#include "pdu/smpp_defs.h"

#define FIELDS_MAX 32

static const char *const state_names[] = {
        NULL, "ENROUTE", "DELIVERED", "EXPIRED", "DELETED", "UNDELIVERABLE", "ACCEPTED",
        "UNKNOWN", "REJECTED",
};

static int decode_field(const struct http_field *f, char *out, size_t cap, size_t *len,
                        const char **why)
{
        ssize_t n = http_form_decode(f->val, f->val_len, out, cap);
        if (n == -ENOSPC) {
                *why = "field too long";
                return 400;
        }
        if (n < 0) {
                *why = "bad percent-encoding";
                return 400;
        }
        if (!http_utf8_valid((const uint8_t *)out, (size_t)n)) {
                *why = "field is not UTF-8";
                return 400;
        }
        if (len)
                *len = (size_t)n;
        else if (memchr(out, 0, (size_t)n)) {
                /* a field kept as a C string: "a%00b" would silently become "a" */
                *why = "field holds a NUL byte";
                return 400;
        }
        return 0;
}

/* Decode the optional field `key` into out (cap bytes incl. NUL; "" when
 * absent). required: missing is an error. len NULL: the field is used as a
 * C string and may not hold a NUL byte. */
static int get_field(const struct http_field *f, int n, const char *key, char *out, size_t cap,
                     size_t *len, int required, const char **why)
{
        const struct http_field *x = http_form_find(f, n, key);
        out[0] = 0;
        if (len)
                *len = 0;
        if (!x) {
                if (required) {
                        *why = "missing field";
                        return 400;
                }
                return 0;
        }
        int rc = decode_field(x, out, cap, len, why);
        if (rc == 0 && required && !out[0]) {
                *why = "empty field";
                return 400;
        }
        return rc;
}

/* The fields the receiver reads: each may come at most once, so no two
 * readers of one body (a proxy, the service's logs, this parser) can take
 * different values from it. */
static const char *const known_keys[] = {
        "type", "message_id", "app_id", "conversation_id", "carrier", "message_state",
        "result_code", "phone_number", "shortcode", "message", "secret",
};

static int has_duplicate(const struct http_field *f, int n)
{
        for (size_t k = 0; k < sizeof known_keys / sizeof known_keys[0]; k++) {
                const struct http_field *first = http_form_find(f, n, known_keys[k]);
                if (first && http_form_find(first + 1, n - (int)(first - f) - 1, known_keys[k]))
                        return 1;
        }
        return 0;
}

static int secret_ok(const char *want, size_t want_len, const char *got, size_t got_len)
{
        unsigned diff = want_len != got_len;
        for (size_t i = 0; i < want_len; i++)
                diff |= (unsigned)(want[i] ^ (i < got_len ? got[i] : 0));
        return diff == 0;
}

int http_rx_parse(const char *body, size_t len, const struct http_rx_config *cfg,
                  struct http_rx_msg *m, const char **why)
{
        struct http_field f[FIELDS_MAX];
        int n = http_form_parse(body, len, f, FIELDS_MAX);
        if (n < 0) {
                *why = "too many fields";
                return 400;
        }
        if (has_duplicate(f, n)) {
                *why = "duplicate field";
                return 400;
        }
        size_t cap = (size_t)cfg->max_field + 1;
        char type[16];
        int rc;
        memset(m, 0, offsetof(struct http_rx_msg, text));
        m->text[0] = 0;
        if ((rc = get_field(f, n, "type", type, sizeof type, NULL, 1, why)))
                return rc;
        if (strcmp(type, "receipt") == 0)
                m->is_dr = 1;
        else if (strcmp(type, "MO") != 0) {
                *why = "type must be MO or receipt";
                return 400;
        }
        size_t idcap = cap < sizeof m->message_id ? cap : sizeof m->message_id;
        size_t acap = cap < sizeof m->phone_number ? cap : sizeof m->phone_number;
        if ((rc = get_field(f, n, "message_id", m->message_id, idcap, NULL, 1, why)))
                return rc;
        if ((rc = get_field(f, n, "app_id", m->app_id, idcap, NULL, 0, why)) ||
            (rc = get_field(f, n, "conversation_id", m->conversation_id, idcap, NULL, 0, why)) ||
            (rc = get_field(f, n, "carrier", m->carrier, acap, NULL, 0, why)))
                return rc;
        if (m->is_dr) {
                char st[16], res[16];
                if ((rc = get_field(f, n, "message_state", st, sizeof st, NULL, 1, why)))
                        return rc;
                uint32_t v = 0;
                if (http_parse_uint(st, strlen(st), SMPP_STATE_REJECTED, &v) < 0) {
                        v = 0;
                        for (unsigned i = 1; i <= SMPP_STATE_REJECTED; i++)
                                if (strcasecmp(st, state_names[i]) == 0)
                                        v = i;
                }
                if (v < SMPP_STATE_ENROUTE) {
                        *why = "bad message_state";
                        return 400;
                }
                m->state = (uint8_t)v;
                if ((rc = get_field(f, n, "result_code", res, sizeof res, NULL, 0, why)))
                        return rc;
                if (res[0]) {
                        if (http_parse_uint(res, strlen(res), 999, &m->result_code) < 0) {
                                *why = "bad result_code";
                                return 400;
                        }
                        m->has_result = 1;
                }
                return 0;
        }
        if ((rc = get_field(f, n, "phone_number", m->phone_number, acap, NULL, 1, why)) ||
            (rc = get_field(f, n, "shortcode", m->shortcode, acap, NULL, 1, why)))
                return rc;
        return get_field(f, n, "message", m->text, sizeof m->text, &m->text_len, 0, why);
}

int http_rx_check_head(const struct http_rx_head *h, const struct http_rx_config *cfg, const char **why)
{
        static const char form[] = "application/x-www-form-urlencoded";
        if (strcmp(h->path, HTTP_RX_PATH) != 0) {
                *why = "no such path";
                return 404;
        }
        if (strcmp(h->method, "POST") != 0) {
                *why = "POST only";
                return 405;
        }
        if (h->n_headers > cfg->max_headers) {
                *why = "too many header lines";
                return 431;
        }
        const char *ct = h->content_type;
        if (!ct || strncasecmp(ct, form, sizeof form - 1) != 0 ||
            (ct[sizeof form - 1] != 0 && ct[sizeof form - 1] != ';')) {
                *why = "content type must be application/x-www-form-urlencoded";
                return 415;
        }
        const char *cl = h->content_length;
        if (cl) {
                size_t n = strlen(cl), lead = 0;
                if (n == 0 || strspn(cl, "0123456789") != n) {
                        *why = "bad Content-Length";
                        return 400;
                }
                while (lead + 1 < n && cl[lead] == '0')
                        lead++;
                uint32_t clv = 0;
                if (http_parse_uint(cl + lead, n - lead, cfg->max_body, &clv) < 0) {
                        *why = "body too large";     /* over max_body, however many digits */
                        return 413;
                }
        }
        return 0;
}

int http_rx_check_secret(const char *want, size_t want_len, const char *header, const char *body,
                         size_t len, const char **why)
{
        if (!want_len)
                return 0;
        struct http_field f[FIELDS_MAX];
        int n = http_form_parse(body, len, f, FIELDS_MAX);
        const struct http_field *sf = n > 0 ? http_form_find(f, n, "secret") : NULL;
        char sv[128];
        ssize_t sl = -1;
        if (header)
                sl = (ssize_t)strnlen(header, sizeof sv);
        else if (sf)
                sl = http_form_decode(sf->val, sf->val_len, sv, sizeof sv);
        const char *got = header ? header : sv;
        if (sl < 0 || !secret_ok(want, want_len, got, (size_t)sl)) {
                *why = "bad secret";
                return 403;
        }
        return 0;
}
