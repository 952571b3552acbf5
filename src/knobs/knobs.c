/* Knob snapshots: build one from the configuration, copy-and-set one knob,
 * read a knob as text, list them all (see knobs.h). Pure code.
 *
 * Client-wide knobs are rows of a table (name, kind, offset, range); the
 * per-SMSC and per-site knobs are the four keys of struct smx_bind_knobs
 * addressed as "smsc.NAME.KEY" / "site.NAME.KEY". */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_file.h"
#include "knobs/knobs.h"

enum knob_kind { KK_U32, KK_POLICY, KK_LOG_LEVEL, KK_ADDR };

/* One client-wide knob. */
struct knob_def {
        const char *name;
        enum knob_kind kind;
        size_t off;
        uint32_t min, max;
};

#define KD(f, kind, min, max) { #f, kind, offsetof(struct smx_knobs, f), min, max }

static const struct knob_def client_knobs[] = {
        KD(rebind_interval_ms, KK_U32, 0, 86400000),
        KD(rebind_jitter_ms, KK_U32, 0, 3600000),
        KD(retry_backoff_ms, KK_U32, 0, 3600000),
        KD(max_attempts, KK_U32, 1, 1000000),
        KD(no_route_timeout_ms, KK_U32, 0, 86400000),
        KD(response_timeout_ms, KK_U32, 1, 3600000),
        KD(enquire_link_interval_ms, KK_U32, 1, 86400000),
        KD(enquire_link_timeout_ms, KK_U32, 1, 3600000),
        KD(route_policy, KK_POLICY, 0, 0),
        KD(log_level, KK_LOG_LEVEL, 0, 0),
        KD(metrics_addr, KK_ADDR, 0, 0),
};

#define N_CLIENT_KNOBS (sizeof client_knobs / sizeof client_knobs[0])

enum bind_key { BK_TPS, BK_WINDOW, BK_WEIGHT, BK_ADMIN, BK_N };
static const char *const bind_key_names[BK_N] = { "tps", "window", "weight", "admin" };

static void put_err(char *err, size_t len, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void put_err(char *err, size_t len, const char *fmt, ...)
{
        if (!err || !len)
                return;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, len, fmt, ap);
        va_end(ap);
}

/* ---- names of enumerated values ---- */

static const char *const admin_names[] = { "enabled", "draining", "removed" };
static const char *const policy_names[] = { "round_robin", "least_outstanding", "site_weighted" };
static const char *const level_names[] = { "error", "warn", "info", "debug" };

/* The index of s (any case) in names[0..n), or SMX_EINVAL. */
static int pick(const char *const *names, unsigned n, const char *s)
{
        for (unsigned i = 0; i < n; i++)
                if (!strcasecmp(names[i], s))
                        return (int)i;
        return SMX_EINVAL;
}

#define NAME_OF(names, v) ((unsigned)(v) < sizeof names / sizeof names[0] ? names[v] : "?")
#define PICK(names, s) pick(names, sizeof names / sizeof names[0], s)

const char *smx_admin_state_name(enum smx_admin_state s)
{
        return NAME_OF(admin_names, s);
}

const char *knobs_policy_name(enum smx_route_policy p)
{
        return NAME_OF(policy_names, p);
}

const char *knobs_log_level_name(enum smx_log_level l)
{
        return NAME_OF(level_names, l);
}

int knobs_parse_admin(const char *s, enum smx_admin_state *out)
{
        int i = PICK(admin_names, s);
        if (i >= 0)
                *out = (enum smx_admin_state)i;
        return i < 0 ? i : 0;
}

int knobs_parse_policy(const char *s, enum smx_route_policy *out)
{
        int i = PICK(policy_names, s);
        if (i >= 0)
                *out = (enum smx_route_policy)i;
        return i < 0 ? i : 0;
}

int knobs_parse_log_level(const char *s, enum smx_log_level *out)
{
        int i = PICK(level_names, s);
        if (i >= 0)
                *out = (enum smx_log_level)i;
        return i < 0 ? i : 0;
}

/* "" (off), "IPv4:PORT" or "[IPv6]:PORT"; port 0 = any free port. */
int knobs_addr_ok(const char *s)
{
        size_t n = strlen(s);
        if (n == 0)
                return 1;
        if (n >= SMX_KNOB_ADDR_MAX)
                return 0;
        const char *colon = strrchr(s, ':');
        uint32_t port;
        if (!colon || colon == s || smx_config_parse_u32(colon + 1, 0, 65535, &port) < 0)
                return 0;
        if (s[0] == '[')
                return colon[-1] == ']' && colon - s > 2;
        for (const char *p = s; p < colon; p++)
                if (!((*p >= '0' && *p <= '9') || *p == '.' ||
                      (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '-'))
                        return 0;
        return 1;
}

/* ---- building and copying ---- */

static size_t knobs_size(uint32_t n_binds)
{
        return sizeof(struct smx_knobs) + (size_t)n_binds * sizeof(struct smx_bind_knobs);
}

struct smx_knobs *knobs_from_config(const struct smx_config *cfg,
                                    const struct smx_smsc_config *smscs, size_t n_used,
                                    uint32_t n_binds, const char *const *names,
                                    const char *const *sites, uint32_t default_window)
{
        struct smx_knobs *k = calloc(1, knobs_size(n_binds));
        if (!k)
                return NULL;
        k->gen = 1;
        k->rebind_interval_ms = cfg->rebind_interval_ms;
        k->rebind_jitter_ms = cfg->rebind_jitter_ms;
        k->retry_backoff_ms = cfg->retry_backoff_ms;
        k->max_attempts = cfg->max_attempts;
        k->no_route_timeout_ms = cfg->no_route_timeout_ms;
        k->response_timeout_ms = cfg->response_timeout_ms;
        k->enquire_link_interval_ms = cfg->enquire_link_interval_ms;
        k->enquire_link_timeout_ms = cfg->enquire_link_timeout_ms;
        k->route_policy = (uint8_t)cfg->route_policy;
        k->log_level = (uint8_t)cfg->log_level;
        if (cfg->metrics_addr)
                snprintf(k->metrics_addr, sizeof k->metrics_addr, "%s", cfg->metrics_addr);
        k->n_binds = n_binds;
        k->names = names;
        k->sites = sites;
        for (uint32_t i = 0; i < n_binds; i++) {
                struct smx_bind_knobs *b = &k->bind[i];
                b->window = b->window_max = default_window;
                b->weight = 1;
                b->admin = SMX_ADMIN_ENABLED;
                if (i < n_used) {
                        const struct smx_smsc_config *s = &smscs[i];
                        b->in_use = 1;
                        b->tps = s->tps;
                        if (s->window)
                                b->window = b->window_max = s->window;
                        b->weight = s->site_weight ? s->site_weight : 1;
                }
        }
        return k;
}

struct smx_knobs *knobs_copy(const struct smx_knobs *k)
{
        size_t sz = knobs_size(k->n_binds);
        struct smx_knobs *c = malloc(sz);
        if (c)
                memcpy(c, k, sz);
        return c;
}

int knobs_find_bind(const struct smx_knobs *k, const char *name)
{
        for (uint32_t i = 0; i < k->n_binds; i++)
                if (k->bind[i].in_use && k->names[i] && !strcmp(k->names[i], name))
                        return (int)i;
        return -1;
}

static int site_exists(const struct smx_knobs *k, const char *site)
{
        for (uint32_t i = 0; i < k->n_binds; i++)
                if (k->bind[i].in_use && k->sites[i] && !strcmp(k->sites[i], site))
                        return 1;
        return 0;
}

static const struct knob_def *find_client_knob(const char *name)
{
        for (size_t i = 0; i < N_CLIENT_KNOBS; i++)
                if (!strcmp(client_knobs[i].name, name))
                        return &client_knobs[i];
        return NULL;
}

/* Split "smsc.NAME.KEY" / "site.NAME.KEY": scope 1 smsc, 2 site; the name
 * goes to obj (NUL-terminated), the key index to *key. 0 or SMX_EINVAL. */
static int split_scoped(const char *name, int *scope, char *obj, size_t obj_cap, int *key)
{
        if (!strncmp(name, "smsc.", 5))
                *scope = 1;
        else if (!strncmp(name, "site.", 5))
                *scope = 2;
        else
                return SMX_EINVAL;
        const char *o = name + 5, *dot = strrchr(o, '.');
        if (!dot || dot == o || (size_t)(dot - o) >= obj_cap)
                return SMX_EINVAL;
        memcpy(obj, o, (size_t)(dot - o));
        obj[dot - o] = '\0';
        for (int i = 0; i < BK_N; i++) {
                if (!strcmp(dot + 1, bind_key_names[i])) {
                        *key = i;
                        return 0;
                }
        }
        return SMX_EINVAL;
}

/* Set one per-bind key in b from value (already validated against b). */
static int bind_key_set(struct smx_bind_knobs *b, int key, const char *value, const char *who,
                        char *err, size_t err_len)
{
        uint32_t v;
        enum smx_admin_state st;
        switch (key) {
        case BK_TPS:
                if (smx_config_parse_u32(value, 0, 10000000, &v) < 0)
                        goto bad_num;
                b->tps = v;
                return 0;
        case BK_WINDOW:
                if (smx_config_parse_u32(value, 1, b->window_max, &v) < 0) {
                        put_err(err, err_len, "%s window: '%s' is not a whole number in 1..%u "
                                "(the window it was created with)", who, value, b->window_max);
                        return SMX_EINVAL;
                }
                b->window = v;
                return 0;
        case BK_WEIGHT:
                if (smx_config_parse_u32(value, 1, 1000000, &v) < 0)
                        goto bad_num;
                b->weight = v;
                return 0;
        default:
                if (knobs_parse_admin(value, &st) < 0) {
                        put_err(err, err_len, "%s admin: '%s' is not one of enabled, draining, "
                                "removed", who, value);
                        return SMX_EINVAL;
                }
                if (b->admin == SMX_ADMIN_REMOVED && st != SMX_ADMIN_REMOVED) {
                        put_err(err, err_len, "%s was removed; add it again instead", who);
                        return SMX_ESTATE;
                }
                b->admin = (uint8_t)st;
                return 0;
        }
bad_num:
        put_err(err, err_len, "%s %s: '%s' is not a whole number in range", who,
                bind_key_names[key], value);
        return SMX_EINVAL;
}

/* Set one per-bind key on every SMSC of site (a removed SMSC stays
 * removed). */
static int site_key_set(struct smx_knobs *n, const char *site, int key, const char *value,
                        const char *who, char *err, size_t err_len)
{
        if (!site_exists(n, site)) {
                put_err(err, err_len, "no site named '%s'", site);
                return SMX_EINVAL;
        }
        int rc = 0;
        for (uint32_t i = 0; i < n->n_binds && rc == 0; i++) {
                struct smx_bind_knobs *b = &n->bind[i];
                if (!b->in_use || strcmp(n->sites[i], site))
                        continue;
                if (key == BK_ADMIN && b->admin == SMX_ADMIN_REMOVED)
                        continue;
                rc = bind_key_set(b, key, value, who, err, err_len);
        }
        return rc;
}

static int set_client_knob(struct smx_knobs *n, const struct knob_def *d, const char *value,
                           char *err, size_t err_len)
{
        char *field = (char *)n + d->off;
        uint32_t v;
        switch (d->kind) {
        case KK_U32:
                if (smx_config_parse_u32(value, d->min, d->max, &v) < 0) {
                        put_err(err, err_len, "%s: '%s' is not a whole number in %u..%u",
                                d->name, value, d->min, d->max);
                        return SMX_EINVAL;
                }
                *(uint32_t *)(void *)field = v;
                return 0;
        case KK_POLICY: {
                enum smx_route_policy p;
                if (knobs_parse_policy(value, &p) < 0) {
                        put_err(err, err_len, "%s: '%s' is not one of round_robin, "
                                "least_outstanding, site_weighted", d->name, value);
                        return SMX_EINVAL;
                }
                n->route_policy = (uint8_t)p;
                return 0;
        }
        case KK_LOG_LEVEL: {
                enum smx_log_level l;
                if (knobs_parse_log_level(value, &l) < 0) {
                        put_err(err, err_len, "%s: '%s' is not one of error, warn, info, debug",
                                d->name, value);
                        return SMX_EINVAL;
                }
                n->log_level = (uint8_t)l;
                return 0;
        }
        default:
                if (!knobs_addr_ok(value)) {
                        put_err(err, err_len, "%s: '%s' is not HOST:PORT (IPv4 literal, "
                                "[IPv6] or a name; port 0..65535) or empty", d->name, value);
                        return SMX_EINVAL;
                }
                snprintf(n->metrics_addr, sizeof n->metrics_addr, "%s", value);
                return 0;
        }
}

int knobs_with(const struct smx_knobs *k, const char *name, const char *value,
               struct smx_knobs **out, char *err, size_t err_len)
{
        *out = NULL;
        if (!name || !value) {
                put_err(err, err_len, "knob name and value needed");
                return SMX_EINVAL;
        }
        struct smx_knobs *n = knobs_copy(k);
        if (!n) {
                put_err(err, err_len, "out of memory");
                return SMX_ENOMEM;
        }
        int rc;
        const struct knob_def *d = find_client_knob(name);
        int scope = 0, key = 0;
        char obj[SMX_NAME_MAX + 1];
        if (d) {
                rc = set_client_knob(n, d, value, err, err_len);
        } else if (split_scoped(name, &scope, obj, sizeof obj, &key) < 0) {
                put_err(err, err_len, "unknown knob '%s'", name);
                rc = SMX_EINVAL;
        } else if (scope == 1) {
                int i = knobs_find_bind(n, obj);
                if (i < 0) {
                        put_err(err, err_len, "no SMSC named '%s'", obj);
                        rc = SMX_EINVAL;
                } else {
                        rc = bind_key_set(&n->bind[i], key, value, name, err, err_len);
                }
        } else {
                rc = site_key_set(n, obj, key, value, name, err, err_len);
        }
        if (rc < 0) {
                free(n);
                return rc;
        }
        *out = n;
        return 0;
}

/* ---- reading ---- */

static int client_knob_text(const struct smx_knobs *k, const struct knob_def *d,
                            char *out, size_t len)
{
        const char *field = (const char *)k + d->off;
        switch (d->kind) {
        case KK_U32:
                return snprintf(out, len, "%u", *(const uint32_t *)(const void *)field);
        case KK_POLICY:
                return snprintf(out, len, "%s", knobs_policy_name(k->route_policy));
        case KK_LOG_LEVEL:
                return snprintf(out, len, "%s", knobs_log_level_name(k->log_level));
        default:
                return snprintf(out, len, "%s", k->metrics_addr);
        }
}

static int bind_key_text(const struct smx_bind_knobs *b, int key, char *out, size_t len)
{
        switch (key) {
        case BK_TPS: return snprintf(out, len, "%u", b->tps);
        case BK_WINDOW: return snprintf(out, len, "%u", b->window);
        case BK_WEIGHT: return snprintf(out, len, "%u", b->weight);
        default: return snprintf(out, len, "%s", smx_admin_state_name(b->admin));
        }
}

int knobs_get(const struct smx_knobs *k, const char *name, char *out, size_t out_len)
{
        const struct knob_def *d = name ? find_client_knob(name) : NULL;
        if (d)
                return client_knob_text(k, d, out, out_len);
        int scope = 0, key = 0;
        char obj[SMX_NAME_MAX + 1];
        if (!name || split_scoped(name, &scope, obj, sizeof obj, &key) < 0) {
                put_err(out, out_len, "unknown knob '%s'", name ? name : "");
                return SMX_EINVAL;
        }
        if (scope == 1) {
                int i = knobs_find_bind(k, obj);
                if (i < 0) {
                        put_err(out, out_len, "no SMSC named '%s'", obj);
                        return SMX_EINVAL;
                }
                return bind_key_text(&k->bind[i], key, out, out_len);
        }
        char first[32] = "", cur[32];
        int seen = 0, mixed = 0;
        for (uint32_t i = 0; i < k->n_binds; i++) {
                if (!k->bind[i].in_use || strcmp(k->sites[i], obj))
                        continue;
                bind_key_text(&k->bind[i], key, cur, sizeof cur);
                if (!seen++)
                        memcpy(first, cur, sizeof first);
                else if (strcmp(first, cur))
                        mixed = 1;
        }
        if (!seen) {
                put_err(out, out_len, "no site named '%s'", obj);
                return SMX_EINVAL;
        }
        return snprintf(out, out_len, "%s", mixed ? "mixed" : first);
}

/* Append to out[*pos..len) like snprintf; *pos counts what was needed. */
static void append(char *out, size_t len, size_t *pos, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static void append(char *out, size_t len, size_t *pos, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(*pos < len ? out + *pos : NULL, *pos < len ? len - *pos : 0, fmt, ap);
        va_end(ap);
        if (n > 0)
                *pos += (size_t)n;
}

size_t knobs_list(const struct smx_knobs *k, char *out, size_t out_len)
{
        size_t pos = 0;
        char v[96];
        if (out && out_len)
                out[0] = '\0';
        else
                out = NULL, out_len = 0;
        for (size_t i = 0; i < N_CLIENT_KNOBS; i++) {
                client_knob_text(k, &client_knobs[i], v, sizeof v);
                append(out, out_len, &pos, "%s %s\n", client_knobs[i].name, v);
        }
        for (uint32_t i = 0; i < k->n_binds; i++) {
                if (!k->bind[i].in_use)
                        continue;
                for (int key = 0; key < BK_N; key++) {
                        bind_key_text(&k->bind[i], key, v, sizeof v);
                        append(out, out_len, &pos, "smsc.%s.%s %s\n", k->names[i],
                               bind_key_names[key], v);
                }
        }
        for (uint32_t i = 0; i < k->n_binds; i++) {
                if (!k->bind[i].in_use)
                        continue;
                int first = 1;   /* list each site once, at its first SMSC */
                for (uint32_t j = 0; j < i && first; j++)
                        if (k->bind[j].in_use && !strcmp(k->sites[j], k->sites[i]))
                                first = 0;
                if (!first)
                        continue;
                for (int key = 0; key < BK_N; key++) {
                        char nm[SMX_NAME_MAX + 16];
                        snprintf(nm, sizeof nm, "site.%s.%s", k->sites[i], bind_key_names[key]);
                        knobs_get(k, nm, v, sizeof v);
                        append(out, out_len, &pos, "%s %s\n", nm, v);
                }
        }
        return pos;
}
