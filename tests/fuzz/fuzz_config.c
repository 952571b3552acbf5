/* libFuzzer target: the INI config loader (libinih + the section and key
 * tables of src/config) over arbitrary text, then _finish(). Checks, beyond
 * ASan/UBSan: a failure always explains itself (a NUL-terminated, non-empty
 * message within the buffer); a success yields SMSCs that each have a name,
 * site, host and port; and a password value that occurs only once in the
 * input never appears in an error message (README: passwords are never
 * printed). The input is copied to a NUL-terminated buffer of its size. */
#include <stdlib.h>
#include <string.h>

#include "config/config_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Count occurrences of needle in hay. */
static size_t count_in(const char *hay, const char *needle)
{
        size_t c = 0;
        for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
                c++;
        return c;
}

/* abort() if err shows the value of a `password = VALUE` line (8+ chars,
 * found once in text: anything shorter or repeated may be there for
 * another reason, e.g. a section name the message quotes). */
static void check_no_password(const char *text, const char *err)
{
        const char *line = text;
        while (line && *line) {
                const char *end = strchr(line, '\n');
                size_t len = end ? (size_t)(end - line) : strlen(line);
                const char *p = line;
                while (p < line + len && (*p == ' ' || *p == '\t'))
                        p++;
                if ((size_t)(line + len - p) > 8 && strncmp(p, "password", 8) == 0) {
                        const char *v = memchr(p, '=', (size_t)(line + len - p));
                        if (v) {
                                v++;
                                while (v < line + len && (*v == ' ' || *v == '\t'))
                                        v++;
                                const char *ve = line + len;
                                while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t' ||
                                                  ve[-1] == '\r'))
                                        ve--;
                                size_t vl = (size_t)(ve - v);
                                if (vl >= 8 && vl < 256 && !memchr(v, ';', vl) &&
                                    !memchr(v, '#', vl)) {
                                        char val[256];
                                        memcpy(val, v, vl);
                                        val[vl] = 0;
                                        if (count_in(text, val) == 1 && strstr(err, val))
                                                abort();
                                }
                        }
                }
                line = end ? end + 1 : NULL;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = malloc(size + 1);
        char err[512];
        struct smx_config_file f;

        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = 0;
        if (strlen(text) != size) {     /* an INI file has no NUL bytes */
                free(text);
                return 0;
        }
        memset(err, 0x55, sizeof err);
        smx_config_file_init(&f);
        int rc = smx_config_file_load_string(&f, text, "fuzz.ini", err, sizeof err);
        if (rc == 0) {
                memset(err, 0x55, sizeof err);
                rc = smx_config_file_finish(&f, err, sizeof err);
        }
        if (rc != 0) {
                if (!memchr(err, 0, sizeof err) || err[0] == 0)
                        abort();
                check_no_password(text, err);
        } else {
                for (size_t i = 0; i < f.n_smscs; i++) {
                        const struct smx_smsc_config *s = &f.cfg.smscs[i];
                        if (!s->name || !s->site || !s->host || s->port == 0)
                                abort();
                }
        }
        smx_config_file_free(&f);
        free(text);
        return 0;
}
