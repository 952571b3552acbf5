/* Form encoding and parsing for the HTTP API (see http_form.h). Every loop is
 * bounded by the length of the caller's view or buffer. */
#include <errno.h>
#include <string.h>

#include "http/http_form.h"

static int unreserved(unsigned char ch)
{
        return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
               ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

int http_form_add(struct http_buf *b, const char *key, const char *val, size_t val_len)
{
        static const char hex[] = "0123456789ABCDEF";
        size_t klen = strlen(key), at = b->len;
        size_t need = (at ? 1 : 0) + klen + 1;
        if (at + need >= b->cap)
                return -ENOSPC;
        char *o = b->p + at;
        if (at)
                *o++ = '&';
        memcpy(o, key, klen);
        o += klen;
        *o++ = '=';
        size_t room = b->cap - (size_t)(o - b->p) - 1;   /* keep a NUL */
        for (size_t i = 0; i < val_len; i++) {
                unsigned char ch = (unsigned char)val[i];
                if (unreserved(ch) || ch == ' ') {
                        if (room < 1)
                                goto full;
                        *o++ = ch == ' ' ? '+' : (char)ch;
                        room--;
                } else {
                        if (room < 3)
                                goto full;
                        *o++ = '%';
                        *o++ = hex[ch >> 4];
                        *o++ = hex[ch & 15];
                        room -= 3;
                }
        }
        *o = 0;
        b->len = (size_t)(o - b->p);
        return 0;
full:
        b->p[at] = 0;
        return -ENOSPC;
}

int http_form_parse(const char *body, size_t len, struct http_field *out, size_t max)
{
        size_t i = 0;
        int n = 0;
        while (i < len) {
                size_t start = i;
                while (i < len && body[i] != '&')
                        i++;
                size_t end = i;
                if (i < len)
                        i++;    /* skip '&' */
                if (end == start)
                        continue;
                if ((size_t)n >= max)
                        return -E2BIG;
                const char *eq = memchr(body + start, '=', end - start);
                struct http_field *f = &out[n++];
                f->key = body + start;
                if (eq) {
                        f->key_len = (uint32_t)(eq - (body + start));
                        f->val = eq + 1;
                        f->val_len = (uint32_t)(end - (size_t)(eq + 1 - body));
                } else {
                        f->key_len = (uint32_t)(end - start);
                        f->val = body + end;
                        f->val_len = 0;
                }
        }
        return n;
}

static int hexval(unsigned char ch)
{
        if (ch >= '0' && ch <= '9')
                return ch - '0';
        if (ch >= 'a' && ch <= 'f')
                return ch - 'a' + 10;
        if (ch >= 'A' && ch <= 'F')
                return ch - 'A' + 10;
        return -1;
}

ssize_t http_form_decode(const char *in, size_t len, char *out, size_t cap)
{
        size_t o = 0;
        if (cap == 0)
                return -ENOSPC;
        for (size_t i = 0; i < len; i++) {
                unsigned char ch = (unsigned char)in[i];
                if (ch == '%') {
                        if (len - i < 3)
                                return -EINVAL;
                        int hi = hexval((unsigned char)in[i + 1]);
                        int lo = hexval((unsigned char)in[i + 2]);
                        if (hi < 0 || lo < 0)
                                return -EINVAL;
                        ch = (unsigned char)(hi << 4 | lo);
                        i += 2;
                } else if (ch == '+') {
                        ch = ' ';
                }
                if (o + 1 >= cap)
                        return -ENOSPC;
                out[o++] = (char)ch;
        }
        out[o] = 0;
        return (ssize_t)o;
}

const struct http_field *http_form_find(const struct http_field *f, int n, const char *key)
{
        size_t kl = strlen(key);
        for (int i = 0; i < n; i++)
                if (f[i].key_len == kl && memcmp(f[i].key, key, kl) == 0)
                        return &f[i];
        return NULL;
}

int http_utf8_valid(const uint8_t *p, size_t len)
{
        size_t i = 0;
        while (i < len) {
                uint8_t c = p[i];
                if (c < 0x80) {
                        i++;
                        continue;
                }
                size_t n;
                uint32_t cp;
                if (c >= 0xC2 && c <= 0xDF) {
                        n = 1;
                        cp = c & 0x1F;
                } else if (c >= 0xE0 && c <= 0xEF) {
                        n = 2;
                        cp = c & 0x0F;
                } else if (c >= 0xF0 && c <= 0xF4) {
                        n = 3;
                        cp = c & 0x07;
                } else {
                        return 0;
                }
                if (len - i <= n)
                        return 0;
                for (size_t k = 1; k <= n; k++) {
                        if ((p[i + k] & 0xC0) != 0x80)
                                return 0;
                        cp = cp << 6 | (p[i + k] & 0x3F);
                }
                if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
                    (cp >= 0xD800 && cp <= 0xDFFF))
                        return 0;
                i += n + 1;
        }
        return 1;
}

int http_parse_uint(const char *p, size_t len, uint32_t max, uint32_t *out)
{
        if (len == 0 || len > 10)
                return -EINVAL;
        uint64_t v = 0;
        for (size_t i = 0; i < len; i++) {
                if (p[i] < '0' || p[i] > '9')
                        return -EINVAL;
                v = v * 10 + (uint64_t)(p[i] - '0');
        }
        if (v > max)
                return -EINVAL;
        *out = (uint32_t)v;
        return 0;
}
