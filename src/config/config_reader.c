/* The config-file reader: libinih does the INI syntax; we feed it through
 * our own line reader so we always know the current line number. The
 * reader also notices section headers, so an [smsc NAME] section is created
 * (and an unknown section rejected) at its own line even when it holds no
 * key. The first error wins; inih reports the line of the first error,
 * which lets us tell our errors (key, value) from its own (syntax). Every
 * message starts "FILE:LINE: ". The reader also keeps whether the line is
 * indented and how it starts: inih hands an indented line after a key line
 * over as more value of that key (a multi-line value), which the key
 * callback refuses without quoting it (it may be any other line, such as a
 * password). */
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config/config_int.h"

void config_fail(struct load_ctx *x, const char *fmt, ...)
{
        if (x->err)
                return;
        x->err = SMX_EINVAL;
        x->err_line = x->line;
        if (!x->errbuf || !x->errlen)
                return;
        int n = snprintf(x->errbuf, x->errlen, "%s:%u: ", x->name, x->line);
        if (n < 0 || (size_t)n >= x->errlen)
                return;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(x->errbuf + n, x->errlen - (size_t)n, fmt, ap);
        va_end(ap);
}

/* Trim spaces around s[0..n) into out (cap bytes); returns out. */
static void header_name(const char *s, char *out, size_t cap)
{
        const char *end = strchr(s, ']');
        if (!end)
                end = s + strlen(s);
        while (s < end && (*s == ' ' || *s == '\t'))
                s++;
        while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
        size_t n = (size_t)(end - s);
        if (n >= cap)
                n = cap - 1;
        memcpy(out, s, n);
        out[n] = '\0';
}

/* The inih reader: hands over one line (or a piece of a long one) and keeps
 * x->line pointing at it; a section header is handled here first. */
static char *read_line(char *str, int num, void *stream)
{
        struct load_ctx *x = stream;
        char *got;
        if (x->fp) {
                got = fgets(str, num, x->fp);
        } else {
                const char *t = x->text;
                if (!*t)
                        return NULL;
                size_t n = 0;
                while (t[n] && t[n] != '\n' && n + 2 < (size_t)num)
                        n++;
                if (t[n] == '\n')
                        n++;
                memcpy(str, t, n);
                str[n] = '\0';
                x->text = t + n;
                got = str;
        }
        if (!got)
                return NULL;
        if (x->at_line_start) {
                x->line++;
                const char *p = str;
                while (*p == ' ' || *p == '\t')
                        p++;
                x->line_indented = p > str;
                size_t h = 0;
                while (p[h] && p[h] != '\n' && p[h] != '\r' && h + 1 < sizeof x->line_head) {
                        x->line_head[h] = p[h];
                        h++;
                }
                x->line_head[h] = '\0';
                if (*p == '[') {
                        char sect[128];
                        header_name(p + 1, sect, sizeof sect);
                        config_section_begin(x, sect);
                }
        }
        size_t len = strlen(str);
        x->at_line_start = len > 0 && str[len - 1] == '\n';
        return got;
}

static int load(struct smx_config_file *f, struct load_ctx *x)
{
        f->path = x->name;
        x->f = f;
        x->at_line_start = 1;
        int rc = ini_parse_stream(read_line, x, config_on_key, x);
        if (rc < 0) {
                if (x->errbuf && x->errlen)
                        snprintf(x->errbuf, x->errlen, "%s: cannot read the file", x->name);
                return SMX_EINVAL;
        }
        if (rc > 0 && (!x->err || (unsigned)rc < x->err_line)) {
                if (x->errbuf && x->errlen)
                        snprintf(x->errbuf, x->errlen, "%s:%d: syntax error (expected "
                                 "'[section]' or 'key = value')", x->name, rc);
                return SMX_EINVAL;
        }
        return x->err;
}

int smx_config_file_load(struct smx_config_file *f, const char *path,
                         char *err, size_t err_len)
{
        struct load_ctx x = { .name = path, .errbuf = err, .errlen = err_len };
        x.fp = fopen(path, "r");
        if (!x.fp) {
                if (err && err_len)
                        snprintf(err, err_len, "%s: %s", path, strerror(errno));
                return SMX_EINVAL;
        }
        int rc = load(f, &x);
        fclose(x.fp);
        return rc;
}

int smx_config_file_load_string(struct smx_config_file *f, const char *text,
                                const char *name, char *err, size_t err_len)
{
        struct load_ctx x = { .name = name, .text = text, .errbuf = err, .errlen = err_len };
        return load(f, &x);
}
