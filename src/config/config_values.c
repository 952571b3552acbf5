/* Typed config values: whole numbers in a range, powers of two, booleans,
 * the enumerations (route policy, bind mode, segment mode, message_id
 * normalisation, log level), addresses and bounded strings. Each key kind
 * is parsed by config_apply_key(), which writes the field only when the
 * value is good and otherwise records a "[SECTION] KEY: ..." error; a
 * secret's value never appears in a message. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config/config_int.h"
#include "config/dcs_spec.h"
#include "knobs/knobs.h"
#include "text/text.h"

int smx_config_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
        uint64_t v = 0;
        if (!s || !*s)
                return SMX_EINVAL;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9')
                        return SMX_EINVAL;
                v = v * 10 + (uint64_t)(*p - '0');
                if (v > U32_MAX)
                        return SMX_EINVAL;
        }
        if (v < min || v > max)
                return SMX_EINVAL;
        *out = (uint32_t)v;
        return 0;
}

static int parse_bool(const char *s, int *out)
{
        static const char *const yes[] = { "1", "true", "yes", "on" };
        static const char *const no[] = { "0", "false", "no", "off" };
        for (size_t i = 0; i < 4; i++) {
                if (!strcasecmp(s, yes[i])) { *out = 1; return 0; }
                if (!strcasecmp(s, no[i])) { *out = 0; return 0; }
        }
        return SMX_EINVAL;
}

static int parse_policy(const char *s, enum smx_route_policy *out)
{
        if (!strcmp(s, "round_robin")) *out = SMX_ROUTE_ROUND_ROBIN;
        else if (!strcmp(s, "least_outstanding")) *out = SMX_ROUTE_LEAST_OUTSTANDING;
        else if (!strcmp(s, "site_weighted")) *out = SMX_ROUTE_SITE_WEIGHTED;
        else return SMX_EINVAL;
        return 0;
}

static int parse_bind_mode(const char *s, enum smx_bind_mode *out)
{
        if (!strcmp(s, "trx")) *out = SMX_BIND_TRX;
        else if (!strcmp(s, "tx")) *out = SMX_BIND_TX;
        else if (!strcmp(s, "rx")) *out = SMX_BIND_RX;
        else return SMX_EINVAL;
        return 0;
}

static int parse_seg_mode(const char *s, enum smx_segment_mode *out)
{
        if (!strcmp(s, "udh8")) *out = SMX_SEGMENT_UDH8;
        else if (!strcmp(s, "udh16")) *out = SMX_SEGMENT_UDH16;
        else if (!strcmp(s, "sar")) *out = SMX_SEGMENT_SAR;
        else if (!strcmp(s, "payload")) *out = SMX_SEGMENT_PAYLOAD;
        else return SMX_EINVAL;
        return 0;
}

/* "exact" or a comma list of case_fold, strip_zeros, hex_to_dec. */
static int parse_msgid_norm(const char *s, uint32_t *out)
{
        static const struct { const char *name; uint32_t flag; } words[] = {
                { "exact", SMX_MSGID_NORM_EXACT },
                { "case_fold", SMX_MSGID_NORM_CASE_FOLD },
                { "strip_zeros", SMX_MSGID_NORM_STRIP_ZEROS },
                { "hex_to_dec", SMX_MSGID_NORM_HEX_TO_DEC },
        };
        uint32_t v = 0;
        const char *p = s;
        for (;;) {
                const char *e = strchr(p, ',');
                size_t n = e ? (size_t)(e - p) : strlen(p);
                while (n && *p == ' ')
                        p++, n--;
                while (n && p[n - 1] == ' ')
                        n--;
                size_t i = 0;
                while (i < 4 && !(strlen(words[i].name) == n && !strncmp(words[i].name, p, n)))
                        i++;
                if (i == 4)
                        return SMX_EINVAL;
                v |= words[i].flag;
                if (!e)
                        break;
                p = e + 1;
        }
        *out = v;
        return 0;
}

/* Set one key of the struct at base from value, per def. */
void config_apply_key(struct load_ctx *x, const struct key_def *def, void *base,
                      const char *section, const char *value)
{
        char *field = (char *)base + def->off;
        uint32_t v;
        switch (def->kind) {
        case KEY_U32:
        case KEY_POW2:
        case KEY_UNSIGNED:
        case KEY_PORT:
                if (smx_config_parse_u32(value, def->min, def->max, &v) < 0 ||
                    (def->kind == KEY_POW2 && (v & (v - 1)) != 0)) {
                        config_fail(x, "[%s] %s: '%s' is not %s in %u..%u", section,
                                 def->name, value,
                                 def->kind == KEY_POW2 ? "a power of two" : "a whole number",
                                 def->min, def->max);
                        return;
                }
                if (def->kind == KEY_PORT)
                        *(uint16_t *)(void *)field = (uint16_t)v;
                else if (def->kind == KEY_UNSIGNED)
                        *(unsigned *)(void *)field = v;
                else
                        *(uint32_t *)(void *)field = v;
                return;
        case KEY_BOOL: {
                int b;
                if (parse_bool(value, &b) < 0) {
                        config_fail(x, "[%s] %s: '%s' is not a boolean (true/false)",
                                 section, def->name, value);
                        return;
                }
                *(int *)(void *)field = b;
                return;
        }
        case KEY_POLICY:
                if (parse_policy(value, (enum smx_route_policy *)(void *)field) < 0)
                        config_fail(x, "[%s] %s: '%s' is not one of round_robin, "
                                 "least_outstanding, site_weighted", section, def->name, value);
                return;
        case KEY_BIND_MODE:
                if (parse_bind_mode(value, (enum smx_bind_mode *)(void *)field) < 0)
                        config_fail(x, "[%s] %s: '%s' is not one of trx, tx, rx",
                                 section, def->name, value);
                return;
        case KEY_LOG_LEVEL: {
                enum smx_log_level l;
                if (knobs_parse_log_level(value, &l) < 0) {
                        config_fail(x, "[%s] %s: '%s' is not one of error, warn, info, debug",
                                 section, def->name, value);
                        return;
                }
                *(int *)(void *)field = (int)l;
                return;
        }
        case KEY_SEG_MODE:
                if (parse_seg_mode(value, (enum smx_segment_mode *)(void *)field) < 0)
                        config_fail(x, "[%s] %s: '%s' is not one of udh8, udh16, sar, payload",
                                 section, def->name, value);
                return;
        case KEY_MSGID:
                if (parse_msgid_norm(value, (uint32_t *)(void *)field) < 0)
                        config_fail(x, "[%s] %s: '%s' is not exact or a comma list of case_fold, "
                                 "strip_zeros, hex_to_dec", section, def->name, value);
                return;
        case KEY_TRANSPORT:
                if (config_parse_transport(value, (enum smx_transport *)(void *)field) < 0)
                        config_fail(x, "[%s] %s: '%s' is not one of smpp, http, both",
                                 section, def->name, value);
                return;
        case KEY_URLS:
                config_add_urls(x, base, section, def, value);
                return;
        case KEY_SECS:
                if (smx_config_parse_u32(value, def->min, def->max, &v) < 0) {
                        config_fail(x, "[%s] %s: '%s' is not a whole number of seconds in %u..%u",
                                 section, def->name, value, def->min, def->max);
                        return;
                }
                *(uint32_t *)(void *)field = v * 1000u;
                return;
        case KEY_IPV4_ADDR:
                if (!config_ipv4_addr_ok(value)) {
                        config_fail(x, "[%s] %s: '%s' is not IPv4:PORT", section, def->name, value);
                        return;
                }
                goto copy_string;
        case KEY_ADDR:
                if (!knobs_addr_ok(value)) {
                        config_fail(x, "[%s] %s: '%s' is not HOST:PORT", section, def->name, value);
                        return;
                }
                goto copy_string;
        case KEY_DCS: {
                struct smx_dcs_map m;
                char why[160];
                if (smx_dcs_spec_parse(value, &m, why, sizeof why) < 0) {
                        config_fail(x, "[%s] %s", section, why);
                        return;
                }
                goto copy_string;
        }
        case KEY_STR:
        case KEY_SECRET:
        copy_string: {
                size_t len = strlen(value);
                if (len < def->min || len > def->max) {
                        /* the value itself is left out: it may be a secret */
                        config_fail(x, "[%s] %s: length %zu is not in %u..%u", section,
                                 def->name, len, def->min, def->max);
                        return;
                }
                char *copy = config_own_string(x->f, value);
                if (!copy) {
                        config_fail(x, "out of memory");
                        x->err = SMX_ENOMEM;
                        return;
                }
                *(const char **)(void *)field = copy;
                return;
        }
        }
}
