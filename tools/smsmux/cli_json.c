/* JSON in and out for the CLI (see cli_json.h). Input goes through jansson,
 * which rejects anything that is not one well-formed JSON text; output lines
 * are assembled here because their shape is fixed and small. */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_json.h"

void jbuf_reset(struct jbuf *b)
{
        b->len = 0;
        b->oom = 0;
}

void jbuf_free(struct jbuf *b)
{
        free(b->p);
        memset(b, 0, sizeof *b);
}

static int jbuf_room(struct jbuf *b, size_t n)
{
        if (b->oom)
                return -1;
        if (b->len + n <= b->cap)
                return 0;
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
                cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
                b->oom = 1;
                return -1;
        }
        b->p = p;
        b->cap = cap;
        return 0;
}

void jbuf_raw(struct jbuf *b, const char *s, size_t n)
{
        if (jbuf_room(b, n) < 0)
                return;
        memcpy(b->p + b->len, s, n);
        b->len += n;
}

static void jbuf_lit(struct jbuf *b, const char *s)
{
        jbuf_raw(b, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s[0..n) (1..4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
        unsigned char c = s[0];
        size_t need;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c < 0x80)
                return 1;
        if (c >= 0xC2 && c <= 0xDF) need = 1;
        else if (c == 0xE0) { need = 2; lo = 0xA0; }
        else if (c == 0xED) { need = 2; hi = 0x9F; }
        else if (c >= 0xE1 && c <= 0xEF) need = 2;
        else if (c == 0xF0) { need = 3; lo = 0x90; }
        else if (c >= 0xF1 && c <= 0xF3) need = 3;
        else if (c == 0xF4) { need = 3; hi = 0x8F; }
        else return 0;
        if (n < need + 1 || s[1] < lo || s[1] > hi)
                return 0;
        for (size_t i = 2; i <= need; i++)
                if (s[i] < 0x80 || s[i] > 0xBF)
                        return 0;
        return need + 1;
}

void jbuf_str(struct jbuf *b, const char *str, size_t n)
{
        const unsigned char *s = (const unsigned char *)str;
        static const char hex[] = "0123456789abcdef";
        jbuf_raw(b, "\"", 1);
        size_t i = 0;
        while (i < n) {
                unsigned char c = s[i];
                if (c == '"' || c == '\\') {
                        char e[2] = { '\\', (char)c };
                        jbuf_raw(b, e, 2);
                        i++;
                } else if (c < 0x20) {
                        const char *short_esc = c == '\n' ? "\\n" : c == '\r' ? "\\r" :
                                                c == '\t' ? "\\t" : NULL;
                        if (short_esc) {
                                jbuf_raw(b, short_esc, 2);
                        } else {
                                char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
                                jbuf_raw(b, e, 6);
                        }
                        i++;
                } else {
                        size_t k = utf8_seq(s + i, n - i);
                        if (k == 0) {
                                jbuf_raw(b, "\xEF\xBF\xBD", 3);  /* U+FFFD */
                                i++;
                        } else {
                                jbuf_raw(b, (const char *)s + i, k);
                                i += k;
                        }
                }
        }
        jbuf_raw(b, "\"", 1);
}

static void jbuf_cstr(struct jbuf *b, const char *s)
{
        if (s)
                jbuf_str(b, s, strlen(s));
        else
                jbuf_lit(b, "null");
}

static void jbuf_u64(struct jbuf *b, uint64_t v)
{
        char num[24];
        int n = snprintf(num, sizeof num, "%" PRIu64, v);
        jbuf_raw(b, num, (size_t)n);
}

/* ,"key":"s" -- s NULL becomes "" (or null when null_ok). */
static void jbuf_kv(struct jbuf *b, const char *key, const char *s, int null_ok)
{
        jbuf_lit(b, ",\"");
        jbuf_lit(b, key);
        jbuf_lit(b, "\":");
        jbuf_cstr(b, s || null_ok ? s : "");
}

static int jbuf_done(struct jbuf *b)
{
        jbuf_raw(b, "}\n", 2);
        return b->oom ? -1 : 0;
}

int cli_json_event(struct jbuf *b, const struct smx_event *ev)
{
        jbuf_reset(b);
        switch (ev->type) {
        case SMX_EV_SUBMITTED:
                jbuf_lit(b, "{\"event\":\"submitted\"");
                jbuf_kv(b, "id", ev->id, 1);
                jbuf_kv(b, "smsc", ev->smsc, 0);
                jbuf_kv(b, "message_id", ev->message_id, 0);
                break;
        case SMX_EV_FAILED:
                jbuf_lit(b, "{\"event\":\"failed\"");
                jbuf_kv(b, "id", ev->id, 1);
                jbuf_kv(b, "reason", smx_fail_reason_name(ev->reason), 1);
                jbuf_lit(b, ev->permanent ? ",\"permanent\":true" : ",\"permanent\":false");
                break;
        case SMX_EV_DR:
                jbuf_lit(b, "{\"event\":\"dr\"");
                jbuf_kv(b, "id", ev->id, 1);
                jbuf_kv(b, "message_id", ev->message_id, 0);
                jbuf_kv(b, "state", smx_dr_state_name(ev->state), 1);
                jbuf_kv(b, "smsc", ev->smsc, 0);
                if (ev->parts > 1 && ev->part) {
                        jbuf_lit(b, ",\"part\":");
                        jbuf_u64(b, ev->part);
                }
                if (ev->parts > 1 && ev->mt_final) {
                        jbuf_lit(b, ",\"final\":true");
                        jbuf_kv(b, "mt_state", smx_dr_state_name(ev->mt_state), 1);
                }
                if (ev->raw && ev->text) {
                        /* a receipt with neither id nor state: its bytes, as hex */
                        jbuf_lit(b, ",\"raw\":true,\"text\":");
                        jbuf_str(b, ev->text, ev->text_len);
                }
                break;
        case SMX_EV_MO:
                jbuf_lit(b, "{\"event\":\"mo\"");
                jbuf_kv(b, "from", ev->from, 0);
                jbuf_kv(b, "to", ev->to, 0);
                jbuf_lit(b, ",\"text\":");
                if (ev->text)
                        jbuf_str(b, ev->text, ev->text_len);
                else
                        jbuf_lit(b, "\"\"");
                jbuf_kv(b, "smsc", ev->smsc, 0);
                if (ev->parts > 1) {
                        jbuf_lit(b, ",\"parts\":");
                        jbuf_u64(b, ev->parts);
                }
                if (ev->partial)
                        jbuf_lit(b, ",\"partial\":true");
                if (ev->raw)    /* binary or unknown data_coding: text is the bytes as hex */
                        jbuf_lit(b, ",\"raw\":true");
                break;
        case SMX_EV_BIND:
                jbuf_lit(b, "{\"event\":\"bind\"");
                jbuf_kv(b, "smsc", ev->smsc, 0);
                jbuf_kv(b, "site", ev->site, 0);
                if (ev->up) {
                        jbuf_lit(b, ",\"state\":\"up\"");
                } else {
                        jbuf_lit(b, ",\"state\":\"down\"");
                        jbuf_kv(b, "reason", ev->bind_reason && *ev->bind_reason ?
                                             ev->bind_reason : "unknown", 1);
                }
                break;
        default:
                return -1;
        }
        return jbuf_done(b);
}

int cli_json_failed(struct jbuf *b, const char *id, size_t id_len, const char *reason,
                    int permanent, uint64_t line)
{
        jbuf_reset(b);
        jbuf_lit(b, "{\"event\":\"failed\",\"id\":");
        if (id)
                jbuf_str(b, id, id_len);
        else
                jbuf_lit(b, "null");
        jbuf_kv(b, "reason", reason, 1);
        jbuf_lit(b, permanent ? ",\"permanent\":true" : ",\"permanent\":false");
        if (!id && line > 0) {
                jbuf_lit(b, ",\"line\":");
                jbuf_u64(b, line);
        }
        return jbuf_done(b);
}

/* A string member without NUL bytes, length in [min, max]; NULL otherwise. */
static const char *get_str(json_t *root, const char *key, size_t min, size_t max, size_t *len)
{
        json_t *v = json_object_get(root, key);
        if (!json_is_string(v))
                return NULL;
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (n < min || n > max || memchr(s, '\0', n))
                return NULL;
        if (len)
                *len = n;
        return s;
}

static int parse_encoding(const char *s, enum smx_encoding *out)
{
        static const struct { const char *name; enum smx_encoding enc; } t[] = {
                { "auto", SMX_ENC_AUTO }, { "gsm", SMX_ENC_GSM }, { "ascii", SMX_ENC_ASCII },
                { "latin1", SMX_ENC_LATIN1 }, { "ucs2", SMX_ENC_UCS2 }, { "utf8", SMX_ENC_UTF8 },
        };
        for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
                if (!strcmp(s, t[i].name)) {
                        *out = t[i].enc;
                        return 0;
                }
        return -1;
}

int cli_mt_parse(const char *line, size_t len, struct cli_mt *mt, char *why, size_t why_len)
{
        json_error_t jerr;
        memset(mt, 0, sizeof *mt);
        json_t *root = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
        if (!root) {
                snprintf(why, why_len, "not JSON: %s", jerr.text);
                return -1;
        }
        mt->owner = root;
        if (!json_is_object(root)) {
                snprintf(why, why_len, "not a JSON object");
                return -1;
        }
        mt->id = get_str(root, "id", 1, SMX_ID_MAX, &mt->id_len);
        if (!mt->id) {
                snprintf(why, why_len, "\"id\" missing or not a string of 1..%d bytes", SMX_ID_MAX);
                return -1;
        }
        struct smx_mt *m = &mt->mt;
        m->id = mt->id;
        m->id_len = mt->id_len;
        m->want_dr = 1;
        m->from = get_str(root, "from", 1, SIZE_MAX, NULL);
        m->to = get_str(root, "to", 1, SIZE_MAX, NULL);
        if (!m->from || !m->to) {
                snprintf(why, why_len, "\"%s\" missing or not a non-empty string",
                         m->from ? "to" : "from");
                return -1;
        }
        json_t *text = json_object_get(root, "text");
        if (!json_is_string(text)) {
                snprintf(why, why_len, "\"text\" missing or not a string");
                return -1;
        }
        m->text = json_string_value(text);
        m->text_len = json_string_length(text);
        json_t *v = json_object_get(root, "dr");
        if (v) {
                if (!json_is_boolean(v)) {
                        snprintf(why, why_len, "\"dr\" is not true/false");
                        return -1;
                }
                m->want_dr = json_is_true(v);
        }
        v = json_object_get(root, "encoding");
        if (v && (!json_is_string(v) || parse_encoding(json_string_value(v), &m->encoding) < 0)) {
                snprintf(why, why_len, "\"encoding\" is not one of auto gsm ascii latin1 ucs2 utf8");
                return -1;
        }
        v = json_object_get(root, "priority");
        if (v) {
                if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 3) {
                        snprintf(why, why_len, "\"priority\" is not an integer 0..3");
                        return -1;
                }
                m->priority = (uint8_t)json_integer_value(v);
        }
        return 0;
}

void cli_mt_release(struct cli_mt *mt)
{
        json_decref(mt->owner);
        memset(mt, 0, sizeof *mt);
}
