/* The config file (INI, libinih syntax): read once into a list of entries
 * that remember their line, so every error names FILE:LINE; then
 * sim_topo.c builds the sites and SMSCs from it and sim_cfg_apply() sets the
 * behaviour knobs in file order (later lines win).
 *
 * Sections: [sim] global keys (topology, credentials, rebind_interval,
 * max_pdu); [all] (or keys before any section): every SMSC's knobs;
 * [site NAME]: that site's SMSC count, ports, host and knobs; [smscK.SITE]:
 * one SMSC's port, host and knobs. README.md lists the keys. */
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

/* Keys the topology owns (sim_topo.c) in each kind of section. */
static const char *const topo_keys_sim[] = { "sites", "smscs_per_site", "host", "port_base",
                                             "system_id", "password", "tls_cert", "tls_key", "tls_client_ca",
                                             NULL };
static const char *const topo_keys_site[] = { "smscs", "port_base", "host", "tls_cert", "tls_key",
                                              "tls_client_ca", NULL };
static const char *const topo_keys_smsc[] = { "port", "host", "tls_cert", "tls_key",
                                              "tls_client_ca", NULL };

int sim_cfg_fail(const struct sim_cfg *c, int line, char *err, size_t err_len, const char *fmt, ...)
{
        if (err && err_len) {
                int n = line > 0 ? snprintf(err, err_len, "%s:%d: ", c->path, line)
                                 : snprintf(err, err_len, "%s: ", c->path);
                if (n >= 0 && (size_t)n < err_len) {
                        va_list ap;
                        va_start(ap, fmt);
                        vsnprintf(err + n, err_len - (size_t)n, fmt, ap);
                        va_end(ap);
                }
        }
        return -EINVAL;
}

int sim_cfg_section(const char *section, struct sim_cfg_where *w)
{
        memset(w, 0, sizeof(*w));
        if (!strcmp(section, "sim")) {
                w->kind = SIM_SEC_SIM;
                return 0;
        }
        if (!section[0] || !strcmp(section, "all") || !strcmp(section, "default")) {
                w->kind = SIM_SEC_ALL;
                return 0;
        }
        if (!strncmp(section, "site ", 5) && section[5]) {
                w->kind = SIM_SEC_SITE;
                w->site = section + 5;
                return 0;
        }
        if (!strncmp(section, "smsc", 4) && section[4] >= '1' && section[4] <= '9') {
                char *end;
                unsigned long k = strtoul(section + 4, &end, 10);
                if (*end == '.' && end[1] && k <= 64) {
                        w->kind = SIM_SEC_SMSC;
                        w->k = (unsigned)k;
                        w->site = end + 1;
                        return 0;
                }
        }
        w->kind = SIM_SEC_BAD;
        return -EINVAL;
}

int sim_cfg_is_topo_key(enum sim_cfg_sec kind, const char *key)
{
        const char *const *list = kind == SIM_SEC_SIM ? topo_keys_sim
                                : kind == SIM_SEC_SITE ? topo_keys_site
                                : kind == SIM_SEC_SMSC ? topo_keys_smsc : NULL;
        for (; list && *list; list++)
                if (!strcmp(*list, key))
                        return 1;
        return 0;
}

/* ---- reading ---- */

struct rd {
        FILE *f;
        struct sim_cfg *c;
        int line;
        int at_start;
        int oom;
};

static int add_entry(struct rd *r, const char *section, const char *key, const char *val)
{
        struct sim_cfg *c = r->c;
        if (c->n == c->cap) {
                size_t nc = c->cap ? c->cap * 2 : 64;
                struct sim_cfg_ent *ne = realloc(c->e, nc * sizeof(*ne));
                if (!ne)
                        return -ENOMEM;
                c->e = ne;
                c->cap = nc;
        }
        struct sim_cfg_ent *e = &c->e[c->n];
        e->section = strdup(section);
        e->key = key ? strdup(key) : NULL;
        e->val = val ? strdup(val) : NULL;
        e->line = r->line;
        if (!e->section || (key && !e->key) || (val && !e->val)) {
                free(e->section);
                free(e->key);
                free(e->val);
                return -ENOMEM;
        }
        c->n++;
        return 0;
}

/* inih's reader: counts lines and records each section header (an entry
 * with no key) so a section is checked at its own line even when empty. */
static char *rd_line(char *str, int num, void *stream)
{
        struct rd *r = stream;
        if (!fgets(str, num, r->f))
                return NULL;
        if (r->at_start) {
                r->line++;
                const char *p = str + strspn(str, " \t");
                const char *end = *p == '[' ? strchr(p, ']') : NULL;
                if (end) {
                        char sect[128];
                        const char *b = p + 1 + strspn(p + 1, " \t");
                        size_t n = (size_t)(end - b);
                        while (n && (b[n - 1] == ' ' || b[n - 1] == '\t'))
                                n--;
                        if (n < sizeof(sect)) {
                                memcpy(sect, b, n);
                                sect[n] = 0;
                                if (add_entry(r, sect, NULL, NULL) < 0)
                                        r->oom = 1;
                        }
                }
        }
        size_t len = strlen(str);
        r->at_start = len > 0 && str[len - 1] == '\n';
        return str;
}

static int on_key(void *user, const char *section, const char *key, const char *val)
{
        struct rd *r = user;
        if (add_entry(r, section, key, val) < 0)
                r->oom = 1;
        return 1;
}

int sim_cfg_read(struct sim_cfg *c, const char *path, char *err, size_t err_len)
{
        memset(c, 0, sizeof(*c));
        c->path = path;
        struct rd r = { .c = c, .at_start = 1 };
        r.f = fopen(path, "r");
        if (!r.f) {
                snprintf(err, err_len, "config: cannot open %s: %s", path, strerror(errno));
                return -ENOENT;
        }
        int rc = ini_parse_stream(rd_line, &r, on_key, &r);
        fclose(r.f);
        if (r.oom) {
                snprintf(err, err_len, "config: out of memory");
                sim_cfg_free(c);
                return -ENOMEM;
        }
        if (rc != 0) {
                sim_cfg_fail(c, rc, err, err_len, "syntax error (expected '[section]' or 'key = value')");
                sim_cfg_free(c);
                return -EINVAL;
        }
        return 0;
}

void sim_cfg_free(struct sim_cfg *c)
{
        for (size_t i = 0; i < c->n; i++) {
                free(c->e[i].section);
                free(c->e[i].key);
                free(c->e[i].val);
        }
        free(c->e);
        memset(c, 0, sizeof(*c));
}

/* ---- knobs ---- */

static int parse_seconds(const char *v, double *out)
{
        char *end;
        double d = strtod(v, &end);
        if (end == v || *end || d < 0)
                return -EINVAL;
        *out = d;
        return 0;
}

/* [sim] keys that are not topology: rebind_interval (the flag wins),
 * mt_records_max, max_pdu. */
static int apply_global(struct smsc_sim *s, const struct sim_options *o, const char *key, const char *val)
{
        if (!strcmp(key, "rebind_interval")) {
                double d;
                if (parse_seconds(val, &d) < 0)
                        return -EINVAL;
                if (!(o->given & SIM_GIVEN_REBIND))
                        s->rebind_interval_s = d;
                return 0;
        }
        if (!strcmp(key, "mt_records_max")) {
                char *end;
                unsigned long long u = strtoull(val, &end, 10);
                if (end == val || *end || val[0] == '-' || u == 0 || u > (1ull << 32))
                        return -EINVAL;
                if (!s->anon)       /* the ring is sized at the first such MT */
                        s->mt_records_max = (size_t)u;
                return 0;
        }
        if (!strcmp(key, "max_pdu")) {
                char *end;
                unsigned long u = strtoul(val, &end, 0);
                if (end == val || *end || u < SMPP_HEADER_LEN || u > SIM_IN_CAP)
                        return -EINVAL;
                s->popts.max_pdu = (uint32_t)u;
                return 0;
        }
        return -ENOENT;
}

int sim_cfg_apply(struct smsc_sim *s, const struct sim_options *o, const struct sim_cfg *c, char *err,
                  size_t err_len)
{
        for (size_t i = 0; i < c->n; i++) {
                const struct sim_cfg_ent *e = &c->e[i];
                struct sim_cfg_where w;
                if (!e->key || sim_cfg_section(e->section, &w) < 0 || sim_cfg_is_topo_key(w.kind, e->key))
                        continue;
                int rc = -ENOENT;
                if (w.kind == SIM_SEC_SIM) {
                        rc = apply_global(s, o, e->key, e->val);
                } else {
                        int matched = 0;
                        for (int k = 0; k < s->n_smsc; k++) {
                                struct sim_smsc *m = &s->smsc[k];
                                if (w.kind == SIM_SEC_SITE ? strcmp(w.site, m->site)
                                    : w.kind == SIM_SEC_SMSC ? strcmp(e->section, m->name) : 0)
                                        continue;
                                matched = 1;
                                if ((rc = sim_knob_set(&m->k, e->key, e->val)) < 0)
                                        break;
                        }
                        /* keys before any section may be [sim] keys too */
                        if (rc == -ENOENT && !e->section[0])
                                rc = apply_global(s, o, e->key, e->val);
                        /* a site or SMSC left out by --sites/--smscs-per-site */
                        if (!matched && w.kind != SIM_SEC_ALL)
                                continue;
                }
                if (rc < 0)
                        return sim_cfg_fail(c, e->line, err, err_len, "[%s] %s = %s: %s", e->section, e->key,
                                            e->val, rc == -ENOENT ? "unknown key" : "bad value");
        }
        return 0;
}
