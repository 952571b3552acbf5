/* Typed config values: whole numbers in a range, powers of two, booleans,
 * the enumerations (route policy, bind mode, segment mode, log level,
 * transport), message_id normalisation, addresses and bounded strings.
 * config_apply_key() parses a value by its key's kind and writes the field
 * only when the value is good; otherwise it records a "[SECTION] KEY: ..."
 * error. A secret's value never appears in a message. The words of each
 * enumeration are one table, which also writes the "one of ..." list. */
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

/* One word of an enumeration and the value it stands for. */
struct enum_word {
        const char *word;
        int value;
};

static const struct enum_word policy_words[] = {
        { "round_robin", SMX_ROUTE_ROUND_ROBIN },
        { "least_outstanding", SMX_ROUTE_LEAST_OUTSTANDING },
        { "site_weighted", SMX_ROUTE_SITE_WEIGHTED },
};
static const struct enum_word bind_mode_words[] = {
        { "trx", SMX_BIND_TRX }, { "tx", SMX_BIND_TX }, { "rx", SMX_BIND_RX },
};
static const struct enum_word seg_mode_words[] = {
        { "udh8", SMX_SEGMENT_UDH8 }, { "udh16", SMX_SEGMENT_UDH16 },
        { "sar", SMX_SEGMENT_SAR }, { "payload", SMX_SEGMENT_PAYLOAD },
};
static const struct enum_word log_level_words[] = {
        { "error", SMX_LOG_ERROR }, { "warn", SMX_LOG_WARN },
        { "info", SMX_LOG_INFO }, { "debug", SMX_LOG_DEBUG },
};
static const struct enum_word transport_words[] = {
        { "smpp", SMX_TRANSPORT_SMPP }, { "http", SMX_TRANSPORT_HTTP },
        { "both", SMX_TRANSPORT_BOTH },
};

/* The enumerated key kinds: their words, and whether case matters (the log
 * level is matched like the log_level knob, in any case). */
static const struct {
        enum key_kind kind;
        const struct enum_word *words;
        size_t n;
        int any_case;
} enums[] = {
        { KEY_POLICY, policy_words, N_KEYS(policy_words), 0 },
        { KEY_BIND_MODE, bind_mode_words, N_KEYS(bind_mode_words), 0 },
        { KEY_SEG_MODE, seg_mode_words, N_KEYS(seg_mode_words), 0 },
        { KEY_LOG_LEVEL, log_level_words, N_KEYS(log_level_words), 1 },
        { KEY_TRANSPORT, transport_words, N_KEYS(transport_words), 0 },
};

/* "auto" (the default), "exact", or a comma list of case_fold, strip_zeros,
 * and one of hex_to_dec / dec_to_hex. "auto" and "exact" stand alone:
 * combined with anything they would mean two different rules; so would
 * hex_to_dec with dec_to_hex (which side is hex). */
static int parse_msgid_norm(const char *s, uint32_t *out)
{
        static const struct { const char *name; uint32_t flag; } words[] = {
                { "auto", SMX_MSGID_NORM_AUTO },
                { "exact", SMX_MSGID_NORM_EXACT },
                { "case_fold", SMX_MSGID_NORM_CASE_FOLD },
                { "strip_zeros", SMX_MSGID_NORM_STRIP_ZEROS },
                { "hex_to_dec", SMX_MSGID_NORM_HEX_TO_DEC },
                { "dec_to_hex", SMX_MSGID_NORM_DEC_TO_HEX },
        };
        const size_t n_words = sizeof words / sizeof words[0];
        uint32_t v = 0;
        unsigned n_items = 0, alone = 0;
        const char *p = s;
        for (;;) {
                const char *e = strchr(p, ',');
                size_t n = e ? (size_t)(e - p) : strlen(p);
                while (n && *p == ' ')
                        p++, n--;
                while (n && p[n - 1] == ' ')
                        n--;
                size_t i = 0;
                while (i < n_words && !(strlen(words[i].name) == n && !strncmp(words[i].name, p, n)))
                        i++;
                if (i == n_words)
                        return SMX_EINVAL;
                v |= words[i].flag;
                n_items++;
                alone += i < 2;
                if (!e)
                        break;
                p = e + 1;
        }
        if (alone && n_items > 1)
                return SMX_EINVAL;
        if ((v & SMX_MSGID_NORM_HEX_TO_DEC) && (v & SMX_MSGID_NORM_DEC_TO_HEX))
                return SMX_EINVAL;
        *out = v;
        return 0;
}

/* A number kind: U32, POW2, UNSIGNED, PORT (each in [min, max]) or SECS
 * (whole seconds stored as milliseconds). */
static void apply_number(struct load_ctx *x, const struct key_def *def, char *field,
                         const char *section, const char *value)
{
        uint32_t v;
        if (smx_config_parse_u32(value, def->min, def->max, &v) < 0 ||
            (def->kind == KEY_POW2 && (v & (v - 1)) != 0)) {
                config_fail(x, "[%s] %s: '%s' is not %s in %u..%u", section, def->name, value,
                            def->kind == KEY_POW2 ? "a power of two"
                            : def->kind == KEY_SECS ? "a whole number of seconds"
                                                    : "a whole number",
                            def->min, def->max);
                return;
        }
        if (def->kind == KEY_PORT)
                *(uint16_t *)(void *)field = (uint16_t)v;
        else if (def->kind == KEY_UNSIGNED)
                *(unsigned *)(void *)field = v;
        else if (def->kind == KEY_SECS)
                *(uint32_t *)(void *)field = v * 1000u;
        else
                *(uint32_t *)(void *)field = v;
}

/* An enumerated kind (the enums table): one of its words. */
static void apply_enum(struct load_ctx *x, const struct key_def *def, char *field,
                       const char *section, const char *value)
{
        size_t e = 0;
        while (e + 1 < N_KEYS(enums) && enums[e].kind != def->kind)
                e++;        /* every enumerated kind has a row */
        const struct enum_word *w = enums[e].words;
        for (size_t i = 0; i < enums[e].n; i++) {
                if (enums[e].any_case ? !strcasecmp(value, w[i].word) : !strcmp(value, w[i].word)) {
                        *(int *)(void *)field = w[i].value;
                        return;
                }
        }
        char list[128];
        size_t len = 0;
        for (size_t i = 0; i < enums[e].n && len < sizeof list; i++)
                len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "",
                                        w[i].word);
        config_fail(x, "[%s] %s: '%s' is not one of %s", section, def->name, value, list);
}

/* A string kind: checked by its kind (ADDR, LISTEN_ADDR, DCS; STR and SECRET
 * only by length), then copied into the set. */
static void apply_string(struct load_ctx *x, const struct key_def *def, char *field,
                         const char *section, const char *value)
{
        struct smx_dcs_map m;
        char why[160];
        const char *want = def->kind == KEY_LISTEN_ADDR && !config_listen_addr_ok(value)
                                 ? "IPv4:PORT or [IPv6]:PORT"
                         : def->kind == KEY_ADDR && !knobs_addr_ok(value) ? "HOST:PORT" : NULL;
        if (want) {
                config_fail(x, "[%s] %s: '%s' is not %s", section, def->name, value, want);
                return;
        }
        if (def->kind == KEY_DCS && smx_dcs_spec_parse(value, &m, why, sizeof why) < 0) {
                config_fail(x, "[%s] %s", section, why);
                return;
        }
        size_t len = strlen(value);
        if (len < def->min || len > def->max) {
                /* the value itself is left out: it may be a secret */
                config_fail(x, "[%s] %s: length %zu is not in %u..%u", section, def->name, len,
                            def->min, def->max);
                return;
        }
        char *copy = config_own_string(x->f, value);
        if (!copy) {
                config_fail(x, "out of memory");
                x->err = SMX_ENOMEM;
                return;
        }
        *(const char **)(void *)field = copy;
}

void config_apply_key(struct load_ctx *x, const struct key_def *def, void *base,
                      const char *section, const char *value)
{
        char *field = (char *)base + def->off;
        int b;
        switch (def->kind) {
        case KEY_U32:
        case KEY_POW2:
        case KEY_UNSIGNED:
        case KEY_PORT:
        case KEY_SECS:
                apply_number(x, def, field, section, value);
                return;
        case KEY_POLICY:
        case KEY_BIND_MODE:
        case KEY_SEG_MODE:
        case KEY_LOG_LEVEL:
        case KEY_TRANSPORT:
                apply_enum(x, def, field, section, value);
                return;
        case KEY_BOOL:
                if (parse_bool(value, &b) < 0)
                        config_fail(x, "[%s] %s: '%s' is not a boolean (true/false)",
                                    section, def->name, value);
                else
                        *(int *)(void *)field = b;
                return;
        case KEY_MSGID:
                if (parse_msgid_norm(value, (uint32_t *)(void *)field) < 0)
                        config_fail(x, "[%s] %s: '%s' is not auto, exact or a comma list of "
                                    "case_fold, strip_zeros and one of hex_to_dec, dec_to_hex",
                                    section, def->name, value);
                return;
        case KEY_URLS:
                config_add_urls(x, base, section, def, value);
                return;
        case KEY_STR:
        case KEY_SECRET:
        case KEY_ADDR:
        case KEY_LISTEN_ADDR:
        case KEY_DCS:
                apply_string(x, def, field, section, value);
                return;
        }
}
