/* The config-file loader (see config_file.h for the format).
 *
 * libinih does the INI syntax. We feed it through our own line reader so we
 * always know the current line number: the reader also notices section
 * headers, so an [smsc NAME] section is created (and an unknown section
 * rejected) at its own line even when it holds no key. Keys are looked up in
 * two tables, one for [client] (fields of struct smx_config) and one for
 * [smsc NAME] (fields of struct smx_smsc_config). The first error wins; inih
 * reports the line of the first error, which lets us tell our errors (key,
 * value) from its own (syntax). */
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "config/config_file.h"
#include "config/dcs_spec.h"
#include "knobs/knobs.h"
#include "pdu/smpp_defs.h"
#include "text/text.h"

enum key_kind {
        KEY_U32,        /* uint32_t field, [min, max] */
        KEY_POW2,       /* uint32_t field, a power of two in [min, max] */
        KEY_UNSIGNED,   /* unsigned field */
        KEY_BOOL,       /* int field, 0/1 */
        KEY_STR,        /* const char * field, at most max bytes */
        KEY_SECRET,     /* like KEY_STR, never echoed */
        KEY_POLICY,     /* enum smx_route_policy */
        KEY_BIND_MODE,  /* enum smx_bind_mode */
        KEY_PORT,       /* uint16_t field, 1..65535 */
        KEY_LOG_LEVEL,  /* int field: error | warn | info | debug */
        KEY_ADDR,       /* const char * "HOST:PORT" (metrics_addr) */
        KEY_SEG_MODE,   /* enum smx_segment_mode: udh8 | udh16 | sar | payload */
        KEY_DCS,        /* const char * data_coding table (dcs_spec.h) */
        KEY_MSGID,      /* uint32_t SMX_MSGID_NORM_* from a comma list */
        KEY_TRANSPORT,  /* enum smx_transport: smpp | http | both */
        KEY_URLS,       /* urls[]/n_urls of struct smx_http_config, appended */
        KEY_SECS,       /* uint32_t milliseconds field given in whole seconds */
        KEY_IPV4_ADDR,  /* const char * "IPv4:PORT" (the HTTP receiver) */
};

/* One settable key: its name, how to parse it, where it goes. */
struct key_def {
        const char *name;
        enum key_kind kind;
        size_t off;
        uint32_t min, max;
};

#define U32_MAX 0xFFFFFFFFu
#define CK(field, kind, min, max) { #field, kind, offsetof(struct smx_config, field), min, max }
#define SK(field, kind, min, max) { #field, kind, offsetof(struct smx_smsc_config, field), min, max }

static const struct key_def client_keys[] = {
        CK(system_id, KEY_STR, 1, SMPP_SYSTEM_ID_MAX - 1),
        CK(password, KEY_SECRET, 0, SMPP_PASSWORD_MAX - 1),
        CK(workers, KEY_UNSIGNED, 0, 1024),
        CK(pin_workers, KEY_BOOL, 0, 1),
        CK(window, KEY_U32, 1, 65535),
        CK(ingress_capacity, KEY_POW2, 2, 1u << 24),
        CK(event_capacity, KEY_POW2, 128, 1u << 30),
        CK(rebind_interval_ms, KEY_U32, 0, U32_MAX),
        CK(rebind_jitter_ms, KEY_U32, 0, U32_MAX),
        CK(connect_timeout_ms, KEY_U32, 1, U32_MAX),
        CK(bind_timeout_ms, KEY_U32, 1, U32_MAX),
        CK(response_timeout_ms, KEY_U32, 1, U32_MAX),
        CK(enquire_link_interval_ms, KEY_U32, 1, U32_MAX),
        CK(enquire_link_timeout_ms, KEY_U32, 1, U32_MAX),
        CK(unbind_timeout_ms, KEY_U32, 0, U32_MAX),
        CK(pdu_read_timeout_ms, KEY_U32, 1, U32_MAX),
        CK(no_route_timeout_ms, KEY_U32, 0, U32_MAX),
        CK(retry_backoff_ms, KEY_U32, 0, U32_MAX),
        CK(max_attempts, KEY_U32, 1, U32_MAX),
        CK(max_pdu, KEY_U32, 1024, U32_MAX),
        CK(route_policy, KEY_POLICY, 0, 0),
        CK(dr_park_timeout_ms, KEY_U32, 0, U32_MAX),
        CK(dedup_window_ms, KEY_U32, 0, U32_MAX),
        CK(corr_capacity, KEY_U32, 1, 1u << 30),
        CK(corr_ttl_ms, KEY_U32, 1, U32_MAX),
        CK(park_capacity, KEY_U32, 1, 1u << 26),
        CK(dedup_capacity, KEY_U32, 1, 1u << 30),
        CK(reasm_groups, KEY_U32, 1, 1u << 24),
        CK(reasm_timeout_ms, KEY_U32, 1, U32_MAX),
        CK(spare_smscs, KEY_U32, 0, 4096),
        CK(log_level, KEY_LOG_LEVEL, 0, 0),
        CK(admin_socket, KEY_STR, 1, 107),
        CK(metrics_addr, KEY_ADDR, 0, SMX_KNOB_ADDR_MAX - 1),
};

static const struct key_def smsc_keys[] = {
        SK(site, KEY_STR, 1, SMX_NAME_MAX),
        SK(host, KEY_STR, 1, 253),
        SK(port, KEY_PORT, 1, 65535),
        SK(system_id, KEY_STR, 1, SMPP_SYSTEM_ID_MAX - 1),
        SK(password, KEY_SECRET, 0, SMPP_PASSWORD_MAX - 1),
        SK(system_type, KEY_STR, 0, SMPP_SYSTEM_TYPE_MAX - 1),
        SK(bind_mode, KEY_BIND_MODE, 0, 0),
        SK(window, KEY_U32, 1, 65535),
        SK(tps, KEY_U32, 0, U32_MAX),
        SK(segment_mode, KEY_SEG_MODE, 0, 0),
        SK(data_coding, KEY_DCS, 1, 1024),
        SK(gsm_packed, KEY_BOOL, 0, 1),
        SK(msgid_norm, KEY_MSGID, 0, 0),
};

#define HK(field, kind, min, max) { #field, kind, offsetof(struct smx_http_config, field), min, max }
#define HK_AS(name, field, kind, min, max) \
        { name, kind, offsetof(struct smx_http_config, field), min, max }

/* [http]: the fields the --transport/--http-* flags set, under the flags'
 * names, and the other knobs of struct smx_http_config by field name. */
static const struct key_def http_keys[] = {
        HK(transport, KEY_TRANSPORT, 0, 0),
        HK_AS("url", urls, KEY_URLS, 8, 2048),
        HK(login, KEY_STR, 1, SMPP_SYSTEM_ID_MAX - 1),
        HK(password, KEY_SECRET, 0, 255),
        HK(use_get, KEY_BOOL, 0, 1),
        HK(ca_file, KEY_STR, 1, 4095),
        HK(insecure, KEY_BOOL, 0, 1),
        HK(dns_server, KEY_ADDR, 1, SMX_KNOB_ADDR_MAX - 1),
        HK(max_host_conns, KEY_U32, 1, 65535),
        HK(max_in_flight, KEY_U32, 1, 1u << 24),
        HK(connect_timeout_ms, KEY_U32, 1, U32_MAX),
        HK(timeout_ms, KEY_U32, 1, U32_MAX),
        HK_AS("resubmit_pause", resubmit_pause_ms, KEY_SECS, 0, 86400),
        HK(resubmit_pause_ms, KEY_U32, 0, 86400000),
        HK(retry_backoff_ms, KEY_U32, 0, U32_MAX),
        HK(probe_interval_ms, KEY_U32, 1, U32_MAX),
        HK(primary_healthy_ms, KEY_U32, 0, U32_MAX),
        HK(dns_grace_ms, KEY_U32, 0, U32_MAX),
        HK(receiver, KEY_IPV4_ADDR, 1, SMX_KNOB_ADDR_MAX - 1),
        HK(receiver_secret, KEY_SECRET, 1, 255),
        HK(receiver_allow, KEY_STR, 1, 4095),
        HK(receiver_max_body, KEY_U32, 256, 1u << 24),
};

#define N_KEYS(t) (sizeof(t) / sizeof((t)[0]))

/* Parser state for one load; lives on the loader's stack. */
struct load_ctx {
        struct smx_config_file *f;
        const char *name;          /* file name for messages */
        FILE *fp;                  /* file input, or */
        const char *text;          /* string input (read position) */
        unsigned line;             /* line of the text last handed to inih */
        int at_line_start;
        int sect_kind;             /* SECT_* of the current section */
        size_t sect_index;         /* smsc or site index */
        int err;                   /* first error (negative), 0 = none */
        unsigned err_line;
        char *errbuf;
        size_t errlen;
};

enum { SECT_NONE, SECT_CLIENT, SECT_SITE, SECT_SMSC, SECT_HTTP, SECT_BAD };

static void ctx_fail(struct load_ctx *x, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void ctx_fail(struct load_ctx *x, const char *fmt, ...)
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

static char *own_string(struct smx_config_file *f, const char *s)
{
        if (f->n_strings == f->cap_strings) {
                size_t cap = f->cap_strings ? f->cap_strings * 2 : 16;
                char **p = realloc(f->strings, cap * sizeof *p);
                if (!p)
                        return NULL;
                f->strings = p;
                f->cap_strings = cap;
        }
        char *copy = strdup(s);
        if (copy)
                f->strings[f->n_strings++] = copy;
        return copy;
}

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

static int parse_transport(const char *s, enum smx_transport *out)
{
        if (!strcmp(s, "smpp")) *out = SMX_TRANSPORT_SMPP;
        else if (!strcmp(s, "http")) *out = SMX_TRANSPORT_HTTP;
        else if (!strcmp(s, "both")) *out = SMX_TRANSPORT_BOTH;
        else return SMX_EINVAL;
        return 0;
}

/* "A.B.C.D:PORT" with each part in range and nothing else. */
static int ipv4_addr_ok(const char *s)
{
        uint32_t v;
        char part[8];
        for (int i = 0; i < 5; i++) {
                size_t n = 0;
                while (s[n] >= '0' && s[n] <= '9' && n < sizeof part - 1)
                        n++;
                if (n == 0 || n == sizeof part - 1)
                        return 0;
                memcpy(part, s, n);
                part[n] = '\0';
                if (smx_config_parse_u32(part, 0, i < 4 ? 255 : 65535, &v) < 0)
                        return 0;
                s += n;
                if (i < 3 && *s++ != '.')
                        return 0;
                if (i == 3 && *s++ != ':')
                        return 0;
        }
        return *s == '\0';
}

/* Append each URL of a comma list to h->urls (spaces around items trimmed). */
static void add_urls(struct load_ctx *x, struct smx_http_config *h, const char *section,
                     const struct key_def *def, const char *value)
{
        const char *p = value;
        for (;;) {
                const char *e = strchr(p, ',');
                size_t n = e ? (size_t)(e - p) : strlen(p);
                while (n && (*p == ' ' || *p == '\t'))
                        p++, n--;
                while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
                        n--;
                int scheme = (n > 7 && !strncmp(p, "http://", 7)) ||
                             (n > 8 && !strncmp(p, "https://", 8));
                if (!scheme || n > def->max) {
                        ctx_fail(x, "[%s] %s: '%.*s' is not an http:// or https:// URL",
                                 section, def->name, (int)(n > 200 ? 200 : n), p);
                        return;
                }
                if (h->n_urls == SMX_HTTP_URLS_MAX) {
                        ctx_fail(x, "[%s] %s: at most %d URLs", section, def->name,
                                 SMX_HTTP_URLS_MAX);
                        return;
                }
                char buf[2049];
                memcpy(buf, p, n);
                buf[n] = '\0';
                char *copy = own_string(x->f, buf);
                if (!copy) {
                        ctx_fail(x, "out of memory");
                        x->err = SMX_ENOMEM;
                        return;
                }
                h->urls[h->n_urls++] = copy;
                if (!e)
                        return;
                p = e + 1;
        }
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
static void apply_key(struct load_ctx *x, const struct key_def *def, void *base,
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
                        ctx_fail(x, "[%s] %s: '%s' is not %s in %u..%u", section,
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
                        ctx_fail(x, "[%s] %s: '%s' is not a boolean (true/false)",
                                 section, def->name, value);
                        return;
                }
                *(int *)(void *)field = b;
                return;
        }
        case KEY_POLICY:
                if (parse_policy(value, (enum smx_route_policy *)(void *)field) < 0)
                        ctx_fail(x, "[%s] %s: '%s' is not one of round_robin, "
                                 "least_outstanding, site_weighted", section, def->name, value);
                return;
        case KEY_BIND_MODE:
                if (parse_bind_mode(value, (enum smx_bind_mode *)(void *)field) < 0)
                        ctx_fail(x, "[%s] %s: '%s' is not one of trx, tx, rx",
                                 section, def->name, value);
                return;
        case KEY_LOG_LEVEL: {
                enum smx_log_level l;
                if (knobs_parse_log_level(value, &l) < 0) {
                        ctx_fail(x, "[%s] %s: '%s' is not one of error, warn, info, debug",
                                 section, def->name, value);
                        return;
                }
                *(int *)(void *)field = (int)l;
                return;
        }
        case KEY_SEG_MODE:
                if (parse_seg_mode(value, (enum smx_segment_mode *)(void *)field) < 0)
                        ctx_fail(x, "[%s] %s: '%s' is not one of udh8, udh16, sar, payload",
                                 section, def->name, value);
                return;
        case KEY_MSGID:
                if (parse_msgid_norm(value, (uint32_t *)(void *)field) < 0)
                        ctx_fail(x, "[%s] %s: '%s' is not exact or a comma list of case_fold, "
                                 "strip_zeros, hex_to_dec", section, def->name, value);
                return;
        case KEY_TRANSPORT:
                if (parse_transport(value, (enum smx_transport *)(void *)field) < 0)
                        ctx_fail(x, "[%s] %s: '%s' is not one of smpp, http, both",
                                 section, def->name, value);
                return;
        case KEY_URLS:
                add_urls(x, base, section, def, value);
                return;
        case KEY_SECS:
                if (smx_config_parse_u32(value, def->min, def->max, &v) < 0) {
                        ctx_fail(x, "[%s] %s: '%s' is not a whole number of seconds in %u..%u",
                                 section, def->name, value, def->min, def->max);
                        return;
                }
                *(uint32_t *)(void *)field = v * 1000u;
                return;
        case KEY_IPV4_ADDR:
                if (!ipv4_addr_ok(value)) {
                        ctx_fail(x, "[%s] %s: '%s' is not IPv4:PORT", section, def->name, value);
                        return;
                }
                goto copy_string;
        case KEY_ADDR:
                if (!knobs_addr_ok(value)) {
                        ctx_fail(x, "[%s] %s: '%s' is not HOST:PORT", section, def->name, value);
                        return;
                }
                goto copy_string;
        case KEY_DCS: {
                struct smx_dcs_map m;
                char why[160];
                if (smx_dcs_spec_parse(value, &m, why, sizeof why) < 0) {
                        ctx_fail(x, "[%s] %s", section, why);
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
                        ctx_fail(x, "[%s] %s: length %zu is not in %u..%u", section,
                                 def->name, len, def->min, def->max);
                        return;
                }
                char *copy = own_string(x->f, value);
                if (!copy) {
                        ctx_fail(x, "out of memory");
                        x->err = SMX_ENOMEM;
                        return;
                }
                *(const char **)(void *)field = copy;
                return;
        }
        }
}

static const struct key_def *find_key(const struct key_def *t, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (!strcmp(t[i].name, name))
                        return &t[i];
        return NULL;
}

static ssize_t find_smsc(const struct smx_config_file *f, const char *name)
{
        for (size_t i = 0; i < f->n_smscs; i++)
                if (!strcmp(f->smscs[i].name, name))
                        return (ssize_t)i;
        return -1;
}

static ssize_t find_site(const struct smx_config_file *f, const char *name)
{
        for (size_t i = 0; i < f->n_sites; i++)
                if (!strcmp(f->sites[i].name, name))
                        return (ssize_t)i;
        return -1;
}

/* Append an SMSC named name (which must be new); returns its index or < 0. */
static ssize_t smsc_new(struct smx_config_file *f, const char *name, unsigned line)
{
        if (f->n_smscs == f->cap_smscs) {
                size_t cap = f->cap_smscs ? f->cap_smscs * 2 : 8;
                struct smx_smsc_config *s = realloc(f->smscs, cap * sizeof *s);
                if (!s)
                        return SMX_ENOMEM;
                f->smscs = s;
                unsigned *l = realloc(f->smsc_lines, cap * sizeof *l);
                if (!l)
                        return SMX_ENOMEM;
                f->smsc_lines = l;
                f->cap_smscs = cap;
        }
        char *copy = own_string(f, name);
        if (!copy)
                return SMX_ENOMEM;
        struct smx_smsc_config *s = &f->smscs[f->n_smscs];
        memset(s, 0, sizeof *s);
        s->name = copy;
        s->bind_mode = SMX_BIND_TRX;
        f->smsc_lines[f->n_smscs] = line;
        return (ssize_t)f->n_smscs++;
}

static ssize_t site_new(struct smx_config_file *f, const char *name, unsigned line)
{
        if (f->n_sites == f->cap_sites) {
                size_t cap = f->cap_sites ? f->cap_sites * 2 : 4;
                struct smx_config_site *s = realloc(f->sites, cap * sizeof *s);
                if (!s)
                        return SMX_ENOMEM;
                f->sites = s;
                f->cap_sites = cap;
        }
        char *copy = own_string(f, name);
        if (!copy)
                return SMX_ENOMEM;
        f->sites[f->n_sites] = (struct smx_config_site){ .name = copy, .weight = 1, .line = line };
        return (ssize_t)f->n_sites++;
}

/* A name of an SMSC or site: 1..SMX_NAME_MAX bytes, no spaces or '@', '='. */
static int name_ok(const char *s)
{
        size_t n = 0;
        for (; s[n]; n++)
                if (s[n] == ' ' || s[n] == '\t' || s[n] == '@' || s[n] == '=' ||
                    s[n] == '[' || s[n] == ']')
                        return 0;
        return n >= 1 && n <= SMX_NAME_MAX;
}

/* A section header was read: "[client]", "[site NAME]" or "[smsc NAME]". */
static void section_begin(struct load_ctx *x, const char *sect)
{
        x->sect_kind = SECT_BAD;
        if (!strcmp(sect, "client")) {
                x->sect_kind = SECT_CLIENT;
                return;
        }
        if (!strcmp(sect, "http")) {
                x->sect_kind = SECT_HTTP;
                x->f->http_set = 1;
                return;
        }
        int is_smsc = !strncmp(sect, "smsc ", 5), is_site = !strncmp(sect, "site ", 5);
        if (!is_smsc && !is_site) {
                ctx_fail(x, "unknown section [%s] (expected [client], [http], "
                         "[site NAME] or [smsc NAME])", sect);
                return;
        }
        const char *name = sect + 5;
        while (*name == ' ')
                name++;
        if (!name_ok(name)) {
                ctx_fail(x, "[%s]: bad name (1..%d characters, no spaces, '@', '=')",
                         sect, SMX_NAME_MAX);
                return;
        }
        ssize_t i = is_smsc ? find_smsc(x->f, name) : find_site(x->f, name);
        if (i >= 0) {
                ctx_fail(x, "[%s] appears twice", sect);
                return;
        }
        i = is_smsc ? smsc_new(x->f, name, x->line) : site_new(x->f, name, x->line);
        if (i < 0) {
                ctx_fail(x, "out of memory");
                x->err = SMX_ENOMEM;
                return;
        }
        x->sect_kind = is_smsc ? SECT_SMSC : SECT_SITE;
        x->sect_index = (size_t)i;
}

/* inih calls this for every key = value. */
static int on_key(void *user, const char *section, const char *key, const char *value)
{
        struct load_ctx *x = user;
        if (x->err)
                return 0;
        switch (x->sect_kind) {
        case SECT_NONE:
                ctx_fail(x, "key '%s' outside any section", key);
                return 0;
        case SECT_BAD:
                return 0;   /* the section header already failed */
        case SECT_CLIENT: {
                const struct key_def *d = find_key(client_keys, N_KEYS(client_keys), key);
                if (!d) {
                        ctx_fail(x, "unknown key '%s' in [%s]", key, section);
                        return 0;
                }
                apply_key(x, d, &x->f->cfg, section, value);
                break;
        }
        case SECT_HTTP: {
                const struct key_def *d = find_key(http_keys, N_KEYS(http_keys), key);
                if (!d) {
                        ctx_fail(x, "unknown key '%s' in [%s]", key, section);
                        return 0;
                }
                apply_key(x, d, &x->f->http, section, value);
                break;
        }
        case SECT_SITE: {
                uint32_t w;
                if (strcmp(key, "weight") != 0) {
                        ctx_fail(x, "unknown key '%s' in [%s] (only 'weight')", key, section);
                        return 0;
                }
                if (smx_config_parse_u32(value, 1, 1000000, &w) < 0) {
                        ctx_fail(x, "[%s] weight: '%s' is not a whole number in 1..1000000",
                                 section, value);
                        return 0;
                }
                x->f->sites[x->sect_index].weight = w;
                break;
        }
        case SECT_SMSC: {
                const struct key_def *d = find_key(smsc_keys, N_KEYS(smsc_keys), key);
                if (!d) {
                        ctx_fail(x, "unknown key '%s' in [%s]", key, section);
                        return 0;
                }
                apply_key(x, d, &x->f->smscs[x->sect_index], section, value);
                break;
        }
        }
        return x->err ? 0 : 1;
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
                if (*p == '[') {
                        char sect[128];
                        header_name(p + 1, sect, sizeof sect);
                        section_begin(x, sect);
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
        int rc = ini_parse_stream(read_line, x, on_key, x);
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

void smx_config_file_init(struct smx_config_file *f)
{
        memset(f, 0, sizeof *f);
        smx_config_init(&f->cfg);
        smx_http_config_init(&f->http);
}

int smx_config_file_add_smsc(struct smx_config_file *f, const char *name,
                             const char *site, const char *host, uint16_t port,
                             char *err, size_t err_len)
{
        if (!name_ok(name) || !name_ok(site) || !host || !*host || port == 0) {
                if (err && err_len)
                        snprintf(err, err_len, "SMSC '%s': need a name and site of 1..%d "
                                 "characters (no spaces, '@', '='), a host and a port in "
                                 "1..65535", name, SMX_NAME_MAX);
                return SMX_EINVAL;
        }
        ssize_t i = find_smsc(f, name);
        if (i < 0)
                i = smsc_new(f, name, 0);
        char *s = i >= 0 ? own_string(f, site) : NULL;
        char *h = s ? own_string(f, host) : NULL;
        if (!h) {
                if (err && err_len)
                        snprintf(err, err_len, "out of memory");
                return SMX_ENOMEM;
        }
        f->smscs[i].site = s;
        f->smscs[i].host = h;
        f->smscs[i].port = port;
        return 0;
}

int smx_config_file_finish(struct smx_config_file *f, char *err, size_t err_len)
{
        for (size_t i = 0; i < f->n_smscs; i++) {
                struct smx_smsc_config *s = &f->smscs[i];
                const char *miss = !s->site ? "site" : !s->host ? "host" : !s->port ? "port" : NULL;
                if (miss) {
                        if (err && err_len)
                                snprintf(err, err_len, "%s:%u: [smsc %s]: missing key '%s'",
                                         f->path ? f->path : "(config)", f->smsc_lines[i],
                                         s->name, miss);
                        return SMX_EINVAL;
                }
                ssize_t k = find_site(f, s->site);
                s->site_weight = k >= 0 ? f->sites[k].weight : 1;
        }
        f->cfg.smscs = f->smscs;
        f->cfg.n_smscs = f->n_smscs;
        if (f->http_set)
                f->cfg.http = &f->http;
        return 0;
}

void smx_config_file_free(struct smx_config_file *f)
{
        for (size_t i = 0; i < f->n_strings; i++)
                free(f->strings[i]);
        free(f->strings);
        free(f->smscs);
        free(f->smsc_lines);
        free(f->sites);
        memset(f, 0, sizeof *f);
}
