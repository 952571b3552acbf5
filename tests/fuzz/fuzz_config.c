/* libFuzzer target: the INI config loader (libinih + the section and key
 * tables of src/config) over arbitrary text, then _finish(). Checks, beyond
 * ASan/UBSan: a failure always explains itself (a NUL-terminated, non-empty
 * message within the buffer); a success yields SMSCs that each have a name,
 * site, host and port; and no error message shows a password value
 * (README: passwords are never printed): a value found in the message must
 * still be there when the input's value is replaced, i.e. be the message's
 * own text (a section name, a word of the message). The input is copied to
 * a NUL-terminated buffer of its size. */
#include <stdlib.h>
#include <string.h>

#include "config/config_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Load text and finish; err gets the message of a failure. */
static int load(const char *text, char *err, size_t err_len, struct smx_config_file *f)
{
        memset(err, 0x55, err_len);
        smx_config_file_init(f);
        int rc = smx_config_file_load_string(f, text, "fuzz.ini", err, err_len);
        if (rc == 0) {
                memset(err, 0x55, err_len);
                rc = smx_config_file_finish(f, err, err_len);
        }
        return rc;
}

/* The message of text with the bytes [off, off + len) replaced by others
 * still contains val: then val is the message's own text. */
static int still_there(const char *text, size_t off, size_t len, const char *val)
{
        size_t size = strlen(text);
        char *other = malloc(size + 1);
        char err[512];
        struct smx_config_file f;
        if (!other)
                return 1;
        memcpy(other, text, size + 1);
        for (size_t i = 0; i < len; i++)
                other[off + i] = text[off + i] == 'q' ? 'z' : 'q';
        int rc = load(other, err, sizeof err, &f);
        smx_config_file_free(&f);
        free(other);
        return rc != 0 && strstr(err, val) != NULL;
}

/* abort() if err shows the value (4+ chars) of a `password = VALUE` line. */
static void check_no_password(const char *text, const char *err)
{
        const char *line = text;
        while (line && *line) {
                const char *end = strchr(line, '\n');
                size_t len = end ? (size_t)(end - line) : strlen(line);
                const char *p = line;
                while (p < line + len && (*p == ' ' || *p == '\t'))
                        p++;
                const char *v = NULL;
                if ((size_t)(line + len - p) > 8 && strncmp(p, "password", 8) == 0)
                        v = memchr(p, '=', (size_t)(line + len - p));
                if (v) {
                        v++;
                        while (v < line + len && (*v == ' ' || *v == '\t'))
                                v++;
                        const char *ve = line + len;
                        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r'))
                                ve--;
                        size_t vl = (size_t)(ve - v);
                        if (vl >= 4 && vl < 256) {
                                char val[256];
                                memcpy(val, v, vl);
                                val[vl] = 0;
                                if (strstr(err, val) &&
                                    !still_there(text, (size_t)(v - text), vl, val))
                                        abort();
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
        int rc = load(text, err, sizeof err, &f);
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
