/* Parsing the data_coding table text (see dcs_spec.h): the base table
 * ("service" or "generic") first, then each "VALUE=CHARSET" item of the
 * comma list overrides one data_coding value. Pure: no allocation, and the
 * first bad item is named in the error. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config/dcs_spec.h"
#include "text/text.h"

static const struct {
        const char *name;
        uint8_t enc;
} charsets[] = {
        { "utf8", SMX_ENC_UTF8 }, { "ascii", SMX_ENC_ASCII }, { "gsm", SMX_ENC_GSM },
        { "latin1", SMX_ENC_LATIN1 }, { "ucs2", SMX_ENC_UCS2 },
        { "binary", SMX_TEXT_ENC_BINARY }, { "unknown", SMX_TEXT_ENC_UNKNOWN },
};

/* One item s[0..n): "VALUE=CHARSET". */
static int parse_item(const char *s, size_t n, struct smx_dcs_map *m)
{
        const char *eq = memchr(s, '=', n);
        if (!eq || eq == s)
                return -1;
        unsigned v = 0, base = 10;
        const char *p = s;
        if (eq - s > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
                base = 16;
                p += 2;
        }
        for (; p < eq; p++) {
                unsigned d;
                if (*p >= '0' && *p <= '9')
                        d = (unsigned)(*p - '0');
                else if (base == 16 && *p >= 'a' && *p <= 'f')
                        d = (unsigned)(*p - 'a' + 10);
                else if (base == 16 && *p >= 'A' && *p <= 'F')
                        d = (unsigned)(*p - 'A' + 10);
                else
                        return -1;
                v = v * base + d;
                if (v > 255)
                        return -1;
        }
        const char *cs = eq + 1;
        size_t cl = n - (size_t)(cs - s);
        for (size_t i = 0; i < sizeof charsets / sizeof charsets[0]; i++) {
                if (strlen(charsets[i].name) == cl && !strncasecmp(charsets[i].name, cs, cl)) {
                        m->enc[v] = charsets[i].enc;
                        return 0;
                }
        }
        return -1;
}

int smx_dcs_spec_parse(const char *spec, struct smx_dcs_map *m, char *err, size_t err_len)
{
        if (!spec || !*spec) {
                smx_dcs_map_service(m);
                return 0;
        }
        const char *comma = strchr(spec, ',');
        size_t bl = comma ? (size_t)(comma - spec) : strlen(spec);
        if (bl == 7 && !strncmp(spec, "service", 7)) {
                smx_dcs_map_service(m);
        } else if (bl == 7 && !strncmp(spec, "generic", 7)) {
                smx_dcs_map_generic(m);
        } else {
                if (err && err_len)
                        snprintf(err, err_len, "data_coding: '%.*s' is not service or generic",
                                 (int)(bl < 40 ? bl : 40), spec);
                return SMX_EINVAL;
        }
        while (comma) {
                const char *item = comma + 1;
                comma = strchr(item, ',');
                size_t n = comma ? (size_t)(comma - item) : strlen(item);
                while (n && *item == ' ')
                        item++, n--;
                while (n && item[n - 1] == ' ')
                        n--;
                if (parse_item(item, n, m) < 0) {
                        if (err && err_len)
                                snprintf(err, err_len, "data_coding: '%.*s' is not VALUE=CHARSET "
                                         "(0..255 = utf8|ascii|gsm|latin1|ucs2|binary|unknown)",
                                         (int)(n < 40 ? n : 40), item);
                        return SMX_EINVAL;
                }
        }
        return 0;
}
