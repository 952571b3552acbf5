/* The receiver's judgement of one request (see http_receiver.h), as pure
 * functions over what the caller holds: the request line and the headers
 * that matter (http_rx_check_head), the form body (http_rx_parse) and the
 * shared secret (http_rx_check_secret). Each answers 0 or the HTTP status to
 * send, with a one-line reason. Nothing here allocates or keeps state; every
 * read is bounded by the caller's lengths (http_form.h).
 *
 * Field names are decoded like values ("message%5Fid" is message_id), with
 * the same rules: a broken escape, invalid UTF-8, a NUL byte or a name over
 * max_field bytes is a 400 (the limit is raised to the longest name the
 * receiver reads, NAME_MIN, and capped at NAME_CAP), and fields are found
 * and counted by their decoded names.
 *
 * Raw CR and LF bytes at the very end of the body are not read: a form
 * encodes a line break as %0D%0A, so a raw one there is the sender ending
 * the body as a text line, not part of the last value (without this a DR
 * whose last field is result_code got a 400 on every re-send, and the
 * service's retries never delivered it). */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "http/http_form.h"
#include "http/http_receiver.h"
#include "pdu/smpp_defs.h"

#define FIELDS_MAX 32
#define NAME_CAP 256            /* decoded bytes of a field name, at most */
#define NAME_MIN 15             /* ... at least: "conversation_id" */

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

/* The fields the receiver reads: each may come at most once, so no two
 * readers of one body (a proxy, the service's logs, this parser) can take
 * different values from it. */
static const char *const known_keys[] = {
        "type", "message_id", "app_id", "conversation_id", "carrier", "message_state",
        "result_code", "phone_number", "shortcode", "message", "secret",
};
#define N_KNOWN (sizeof known_keys / sizeof known_keys[0])

/* Decode the name of f (at most cap - 1 bytes, within NAME_MIN..NAME_CAP)
 * by the rules of a value kept as a C string. Sets *k to its index in
 * known_keys, or -1. 0 or 400. */
static int name_known(const struct http_field *f, size_t cap, int *k, const char **why)
{
        char name[NAME_CAP + 1];
        const struct http_field as_val = { .val = f->key, .val_len = f->key_len };
        if (cap > sizeof name)
                cap = sizeof name;
        if (cap < NAME_MIN + 1)
                cap = NAME_MIN + 1;
        int rc = decode_field(&as_val, name, cap, NULL, why);
        *k = -1;
        if (rc)
                return rc;
        for (size_t i = 0; i < N_KNOWN; i++)
                if (strcmp(name, known_keys[i]) == 0)
                        *k = (int)i;
        return 0;
}

/* The known key of each field by its decoded name (kidx[i], -1: none).
 * 0, or 400 for a name that does not decode, or for a known key given
 * twice. */
static int name_fields(const struct http_field *f, int n, size_t cap, signed char *kidx,
                       const char **why)
{
        unsigned seen = 0;
        for (int i = 0; i < n; i++) {
                int k, rc = name_known(&f[i], cap, &k, why);
                if (rc)
                        return rc;
                kidx[i] = (signed char)k;
                if (k < 0)
                        continue;
                if (seen & (1u << k)) {
                        *why = "duplicate field";
                        return 400;
                }
                seen |= 1u << k;
        }
        return 0;
}

/* The field whose decoded name is key, or NULL. */
static const struct http_field *find_field(const struct http_field *f, int n,
                                           const signed char *kidx, const char *key)
{
        for (int i = 0; i < n; i++)
                if (kidx[i] >= 0 && strcmp(known_keys[kidx[i]], key) == 0)
                        return &f[i];
        return NULL;
}

/* Decode the optional field `key` into out (cap bytes incl. NUL; "" when
 * absent). required: missing is an error. len NULL: the field is used as a
 * C string and may not hold a NUL byte. */
static int get_field(const struct http_field *f, int n, const signed char *kidx, const char *key,
                     char *out, size_t cap, size_t *len, int required, const char **why)
{
        const struct http_field *x = find_field(f, n, kidx, key);
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

/* The body's length without the raw line break a sender may end it with. */
static size_t form_len(const char *body, size_t len)
{
        while (len > 0 && (body[len - 1] == '\n' || body[len - 1] == '\r'))
                len--;
        return len;
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
        int n = http_form_parse(body, form_len(body, len), f, FIELDS_MAX);
        if (n < 0) {
                *why = "too many fields";
                return 400;
        }
        size_t cap = (size_t)cfg->max_field + 1;
        signed char kidx[FIELDS_MAX];
        int rc = name_fields(f, n, cap, kidx, why);
        if (rc)
                return rc;
        char type[16];
        memset(m, 0, offsetof(struct http_rx_msg, text));
        m->text[0] = 0;
        if ((rc = get_field(f, n, kidx, "type", type, sizeof type, NULL, 1, why)))
                return rc;
        /* H4 spells them `MO` and `receipt`; any case is taken, as for the
         * state names (a pusher writing `mo` would otherwise get 400 and
         * re-send for ever, the message never delivered) */
        if (strcasecmp(type, "receipt") == 0)
                m->is_dr = 1;
        else if (strcasecmp(type, "MO") != 0) {
                *why = "type must be MO or receipt";
                return 400;
        }
        size_t idcap = cap < sizeof m->message_id ? cap : sizeof m->message_id;
        size_t acap = cap < sizeof m->phone_number ? cap : sizeof m->phone_number;
        if ((rc = get_field(f, n, kidx, "message_id", m->message_id, idcap, NULL, 1, why)))
                return rc;
        if ((rc = get_field(f, n, kidx, "app_id", m->app_id, idcap, NULL, 0, why)) ||
            (rc = get_field(f, n, kidx, "conversation_id", m->conversation_id, idcap, NULL, 0, why)) ||
            (rc = get_field(f, n, kidx, "carrier", m->carrier, acap, NULL, 0, why)))
                return rc;
        if (m->is_dr) {
                char st[16], res[16];
                if ((rc = get_field(f, n, kidx, "message_state", st, sizeof st, NULL, 1, why)))
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
                if ((rc = get_field(f, n, kidx, "result_code", res, sizeof res, NULL, 0, why)))
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
        if ((rc = get_field(f, n, kidx, "phone_number", m->phone_number, acap, NULL, 1, why)) ||
            (rc = get_field(f, n, kidx, "shortcode", m->shortcode, acap, NULL, 1, why)))
                return rc;
        return get_field(f, n, kidx, "message", m->text, sizeof m->text, &m->text_len, 0, why);
}

/* The path of a request target: itself in origin form, the part from the
 * first '/' after the authority in absolute form ("http://host:port/p",
 * RFC 9112 3.2.2, which a server must accept); "" when there is none. */
static const char *target_path(const char *t)
{
        size_t s = strncasecmp(t, "http://", 7) == 0 ? 7 : strncasecmp(t, "https://", 8) == 0 ? 8 : 0;
        if (!s)
                return t;
        const char *p = strchr(t + s, '/');
        return p ? p : "";
}

int http_rx_check_head(const struct http_rx_head *h, const struct http_rx_config *cfg, const char **why)
{
        static const char form[] = "application/x-www-form-urlencoded";
        if (strcmp(target_path(h->path), HTTP_RX_PATH) != 0) {
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
        /* after the type: optional whitespace (RFC 9110 OWS, before a ';'
         * or ending the value), then the end or the parameters */
        const char *after = ct ? ct + strspn(ct, " \t") : NULL;
        if (after && strncasecmp(after, form, sizeof form - 1) == 0)
                after += sizeof form - 1 + strspn(after + sizeof form - 1, " \t");
        else
                after = NULL;
        if (!after || (*after != 0 && *after != ';')) {
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
        int n = http_form_parse(body, form_len(body, len), f, FIELDS_MAX);
        const struct http_field *sf = NULL;
        for (int i = 0; i < n && !sf; i++) {
                /* by its decoded name, as http_rx_parse finds it */
                const char *ignored;
                int k;
                if (name_known(&f[i], NAME_CAP + 1, &k, &ignored) == 0 && k >= 0 &&
                    strcmp(known_keys[k], "secret") == 0)
                        sf = &f[i];
        }
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
