/* The topology: which sites there are, how many SMSCs each has, and the
 * host, port and default credentials of each SMSC, from the start-up
 * options and the config file (sim_config.c). A flag given on the command
 * line (sim_options.given) wins over the file; `--port-base` and `--host`
 * win over every port and host in it, so `--port-base 0` always means free
 * ports. Without them an SMSC's port is its own `port`, else its site's
 * `port_base` + (K - 1), else the global port base + its index counting
 * site by site (../../shared/CLI.md); hosts likewise. Sections naming a
 * site or SMSC that `--sites`/`--smscs-per-site` left out are skipped; from
 * the file alone they are errors. Runs in sim_start before any thread. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

/* What the file says about one site (NULL: nothing). */
struct topo_site {
        char name[SIM_NAME_MAX];
        const struct sim_cfg_ent *count_at, *port_base_at, *host_at;
};

/* The topology being worked out. sim_start's stack, one thread. */
struct topo {
        const struct sim_options *o;
        const struct sim_cfg *c;
        char *err;
        size_t err_len;
        const char *sites;                     /* comma list in use */
        const struct sim_cfg_ent *sites_at;    /* NULL: from the options */
        const struct sim_cfg_ent *per_site_at, *host_at, *port_base_at;
        const char *system_id, *password;      /* default credentials */
        struct topo_site site[SIM_MAX_SMSCS];
        int n_site;
};

/* An error at entry e (FILE:LINE: ...), or about a flag when e is NULL. */
static int fail(struct topo *t, const struct sim_cfg_ent *e, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int fail(struct topo *t, const struct sim_cfg_ent *e, const char *fmt, ...)
{
        char msg[200];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (e)
                return sim_cfg_fail(t->c, e->line, t->err, t->err_len, "%s", msg);
        snprintf(t->err, t->err_len, "%s", msg);
        return -EINVAL;
}

static int parse_uint(const char *v, unsigned long lo, unsigned long hi, unsigned long *out)
{
        char *end;
        errno = 0;
        unsigned long x = strtoul(v, &end, 10);
        if (v[0] < '0' || v[0] > '9' || errno || *end || x < lo || x > hi)
                return -EINVAL;
        *out = x;
        return 0;
}

static unsigned uint_of(const struct sim_cfg_ent *e)
{
        return (unsigned)strtoul(e->val, NULL, 10);
}

static int host_ok(const char *h)
{
        struct in_addr a;
        return inet_pton(AF_INET, h, &a) == 1;
}

static int site_name_ok(const char *p, size_t n)
{
        if (n == 0 || n >= SIM_NAME_MAX - 8)
                return 0;
        for (size_t i = 0; i < n; i++) {
                char ch = p[i];
                if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                      ch == '-' || ch == '_'))
                        return 0;
        }
        return 1;
}

static struct topo_site *site_find(struct topo *t, const char *name)
{
        for (int i = 0; i < t->n_site; i++)
                if (!strcmp(name, t->site[i].name))
                        return &t->site[i];
        return NULL;
}

/* One [sim] key of the topology (flags win over it). */
static int read_global(struct topo *t, const struct sim_cfg_ent *e)
{
        unsigned long u;
        unsigned given = t->o->given;
        if (!strcmp(e->key, "sites")) {
                if (!(given & SIM_GIVEN_SITES)) {
                        t->sites = e->val;
                        t->sites_at = e;
                }
        } else if (!strcmp(e->key, "smscs_per_site")) {
                if (parse_uint(e->val, 1, 64, &u) < 0)
                        return fail(t, e, "[sim] smscs_per_site = %s: expected 1..64", e->val);
                t->per_site_at = e;
        } else if (!strcmp(e->key, "host")) {
                if (!host_ok(e->val))
                        return fail(t, e, "[sim] host = %s: an IPv4 address expected", e->val);
                t->host_at = e;
        } else if (!strcmp(e->key, "port_base")) {
                if (parse_uint(e->val, 0, 65535, &u) < 0)
                        return fail(t, e, "[sim] port_base = %s: expected 0..65535", e->val);
                t->port_base_at = e;
        } else if (!strncmp(e->key, "tls_", 4)) {
                return 0;       /* sim_tls.c reads them */
        } else {
                int sysid = !strcmp(e->key, "system_id");
                if (strlen(e->val) >= (sysid ? SMPP_SYSTEM_ID_MAX : SMPP_PASSWORD_MAX))
                        return fail(t, e, "[sim] %s: longer than SMPP allows", e->key);
                if (sysid && !(given & SIM_GIVEN_SYSTEM_ID))
                        t->system_id = e->val;
                if (!sysid && !(given & SIM_GIVEN_PASSWORD))
                        t->password = e->val;
        }
        return 0;
}

/* The site list in use, each name checked. */
static int read_sites(struct topo *t)
{
        const char *p = t->sites && *t->sites ? t->sites : "dc3,bos";
        const char *what = t->sites_at ? "sites" : "--sites";
        while (*p) {
                size_t n = strcspn(p, ",");
                const char *name = p;
                while (n && *name == ' ')
                        name++, n--;
                while (n && name[n - 1] == ' ')
                        n--;
                if (!site_name_ok(name, n))
                        return fail(t, t->sites_at, "bad site name '%.*s' in %s (1..%d letters, digits, '-', '_')",
                                    (int)n, name, what, SIM_NAME_MAX - 9);
                if (t->n_site == SIM_MAX_SMSCS)
                        return fail(t, t->sites_at, "too many sites in %s", what);
                struct topo_site *ts = &t->site[t->n_site];
                memset(ts, 0, sizeof(*ts));
                snprintf(ts->name, sizeof(ts->name), "%.*s", (int)n, name);
                if (site_find(t, ts->name))
                        return fail(t, t->sites_at, "site %s listed twice in %s", ts->name, what);
                t->n_site++;
                p += strcspn(p, ",");
                if (*p == ',')
                        p++;
        }
        return 0;
}

static unsigned site_count(const struct topo *t, const struct topo_site *ts)
{
        if (t->o->given & SIM_GIVEN_PER_SITE)
                return t->o->smscs_per_site;
        if (ts->count_at)
                return uint_of(ts->count_at);
        if (t->per_site_at)
                return uint_of(t->per_site_at);
        return t->o->smscs_per_site ? t->o->smscs_per_site : 1;
}

/* A [site NAME] or [smscK.SITE] entry: its site must be in use (else it is
 * skipped when the flags chose the sites, an error when the file did).
 * Returns the site, NULL to skip, or sets *rc. */
static struct topo_site *entry_site(struct topo *t, const struct sim_cfg_ent *e, const struct sim_cfg_where *w,
                                    int *rc)
{
        struct topo_site *ts = site_find(t, w->site);
        if (!ts && !(t->o->given & SIM_GIVEN_SITES)) {
                char list[256] = "";
                for (int i = 0; i < t->n_site; i++)
                        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? "," : "",
                                 t->site[i].name);
                *rc = fail(t, e, "[%s]: site %s is not one of the sites (%s)", e->section, w->site, list);
        }
        return ts;
}

/* A key in a section where it does not belong, named with where it goes. */
static int misplaced(struct topo *t, const struct sim_cfg_ent *e, enum sim_cfg_sec kind)
{
        static const struct { enum sim_cfg_sec kind; const char *where; } homes[] = {
                { SIM_SEC_SIM, "[sim]" }, { SIM_SEC_SITE, "[site NAME]" }, { SIM_SEC_SMSC, "[smscK.SITE]" },
        };
        char where[64] = "";
        if (sim_cfg_is_topo_key(kind, e->key))
                return 0;
        for (size_t i = 0; i < sizeof(homes) / sizeof(homes[0]); i++)
                if (homes[i].kind != kind && sim_cfg_is_topo_key(homes[i].kind, e->key) &&
                    strcmp(e->key, "system_id") && strcmp(e->key, "password"))
                        snprintf(where + strlen(where), sizeof(where) - strlen(where), "%s%s",
                                 where[0] ? " or " : "", homes[i].where);
        if (!where[0])
                return 0;
        return fail(t, e, "[%s] %s: belongs in %s", e->section, e->key, where);
}

/* Check every section and topology key of the file. */
static int read_file(struct topo *t)
{
        const struct sim_cfg *c = t->c;
        for (size_t i = 0; i < c->n; i++)
                if (c->e[i].key && !strcmp(c->e[i].section, "sim") && sim_cfg_is_topo_key(SIM_SEC_SIM, c->e[i].key))
                        if (read_global(t, &c->e[i]) < 0)
                                return -EINVAL;
        if (read_sites(t) < 0)
                return -EINVAL;
        for (size_t i = 0; i < c->n; i++) {
                const struct sim_cfg_ent *e = &c->e[i];
                struct sim_cfg_where w;
                int rc = 0;
                unsigned long u;
                if (sim_cfg_section(e->section, &w) < 0)
                        return fail(t, e, "unknown section [%s] (sim, all, site NAME, smscK.SITE)", e->section);
                if (w.kind == SIM_SEC_SIM)
                        continue;
                if (e->key && misplaced(t, e, w.kind) < 0)
                        return -EINVAL;
                if (w.kind == SIM_SEC_ALL)
                        continue;
                struct topo_site *ts = entry_site(t, e, &w, &rc);
                if (rc < 0)
                        return rc;
                if (!ts || !e->key || w.kind != SIM_SEC_SITE)
                        continue;
                if (!strcmp(e->key, "smscs")) {
                        if (parse_uint(e->val, 1, 64, &u) < 0)
                                return fail(t, e, "[%s] smscs = %s: expected 1..64", e->section, e->val);
                        ts->count_at = e;
                } else if (!strcmp(e->key, "port_base")) {
                        if (parse_uint(e->val, 0, 65535, &u) < 0)
                                return fail(t, e, "[%s] port_base = %s: expected 0..65535", e->section, e->val);
                        ts->port_base_at = e;
                } else if (!strcmp(e->key, "host")) {
                        if (!host_ok(e->val))
                                return fail(t, e, "[%s] host = %s: an IPv4 address expected", e->section, e->val);
                        ts->host_at = e;
                }
        }
        /* [smscK.SITE]: K within its site's count, port and host values */
        for (size_t i = 0; i < c->n; i++) {
                const struct sim_cfg_ent *e = &c->e[i];
                struct sim_cfg_where w;
                int rc = 0;
                unsigned long u;
                if (sim_cfg_section(e->section, &w) < 0 || w.kind != SIM_SEC_SMSC)
                        continue;
                struct topo_site *ts = entry_site(t, e, &w, &rc);
                if (!ts)
                        continue;
                unsigned n = site_count(t, ts);
                if (w.k > n) {
                        if (t->o->given & SIM_GIVEN_PER_SITE)
                                continue;
                        return fail(t, e, "[%s]: no such SMSC (site %s has %u)", e->section, ts->name, n);
                }
                if (e->key && !strcmp(e->key, "port") && parse_uint(e->val, 1, 65535, &u) < 0)
                        return fail(t, e, "[%s] port = %s: expected 1..65535", e->section, e->val);
                if (e->key && !strcmp(e->key, "host") && !host_ok(e->val))
                        return fail(t, e, "[%s] host = %s: an IPv4 address expected", e->section, e->val);
        }
        return 0;
}

/* The last entry setting `key` in section `section` (NULL: none). */
static const struct sim_cfg_ent *last_key(const struct sim_cfg *c, const char *section, const char *key)
{
        const struct sim_cfg_ent *found = NULL;
        for (size_t i = 0; i < c->n; i++)
                if (c->e[i].key && !strcmp(c->e[i].key, key) && !strcmp(c->e[i].section, section))
                        found = &c->e[i];
        return found;
}

/* Host and port of m, SMSC number k (1-based) of site ts. *at: the entry
 * that chose the port (NULL: the options). */
static int place(struct topo *t, const struct topo_site *ts, struct sim_smsc *m, unsigned k,
                 const struct sim_cfg_ent **at)
{
        const struct sim_options *o = t->o;
        const struct sim_cfg_ent *h = last_key(t->c, m->name, "host");
        const char *host = o->host ? o->host : "127.0.0.1";
        if (!(o->given & SIM_GIVEN_HOST))
                host = h ? h->val : ts->host_at ? ts->host_at->val : t->host_at ? t->host_at->val : host;
        snprintf(m->host, sizeof(m->host), "%s", host);
        unsigned long port = 0, base = o->port_base;
        unsigned long off = (unsigned long)m->index;
        const struct sim_cfg_ent *p = last_key(t->c, m->name, "port");
        *at = NULL;
        if (o->given & SIM_GIVEN_PORT_BASE) {
                p = NULL;
        } else if (p) {
                *at = p;
                base = uint_of(p);
                off = 0;
        } else if (ts->port_base_at) {
                *at = ts->port_base_at;
                base = uint_of(ts->port_base_at);
                off = k - 1;
        } else if (t->port_base_at) {
                *at = t->port_base_at;
                base = uint_of(t->port_base_at);
        }
        if (base) {
                port = base + off;
                if (port > 65535)
                        return fail(t, *at, "%s: port %lu is above 65535 (port base %lu)", m->name, port, base);
        }
        m->port = (uint16_t)port;
        return 0;
}

int sim_topo_build(struct smsc_sim *s, const struct sim_options *o, const struct sim_cfg *c, char *err,
                   size_t err_len)
{
        struct topo *t = calloc(1, sizeof(*t));
        if (!t) {
                snprintf(err, err_len, "out of memory");
                return -ENOMEM;
        }
        t->o = o;
        t->c = c;
        t->err = err;
        t->err_len = err_len;
        t->sites = o->sites;
        t->system_id = o->system_id;
        t->password = o->password;
        int rc = o->smscs_per_site > 64 ? fail(t, NULL, "at most 64 SMSCs per site") : read_file(t);
        const struct sim_cfg_ent *port_at[SIM_MAX_SMSCS];
        for (int si = 0; si < t->n_site && rc == 0; si++) {
                struct topo_site *ts = &t->site[si];
                unsigned n = site_count(t, ts);
                snprintf(s->sites[s->n_sites++], SIM_NAME_MAX, "%s", ts->name);
                for (unsigned k = 1; k <= n && rc == 0; k++) {
                        if (s->n_smsc >= SIM_MAX_SMSCS) {
                                rc = fail(t, ts->count_at ? ts->count_at : t->per_site_at,
                                          "too many SMSCs (max %d)", SIM_MAX_SMSCS);
                                break;
                        }
                        struct sim_smsc *m = &s->smsc[s->n_smsc];
                        m->index = s->n_smsc;
                        snprintf(m->name, sizeof(m->name), "smsc%u.%.23s", k, ts->name);
                        memcpy(m->site, ts->name, sizeof(m->site));
                        m->site_index = si;
                        m->listen_fd = -1;
                        m->f.hostile_case = -1;
                        struct sim_options defaults = *o;
                        defaults.system_id = t->system_id;
                        defaults.password = t->password;
                        sim_knobs_default(&m->k, &defaults);
                        if ((rc = place(t, ts, m, k, &port_at[m->index])) < 0)
                                break;
                        for (int j = 0; j < m->index && m->port; j++)
                                if (s->smsc[j].port == m->port && !strcmp(s->smsc[j].host, m->host))
                                        rc = fail(t, port_at[m->index], "%s: port %u on %s is %s's already",
                                                  m->name, m->port, m->host, s->smsc[j].name);
                        s->n_smsc++;
                }
        }
        if (rc == 0 && !s->n_smsc)
                rc = fail(t, t->sites_at, "no SMSC to start");
        free(t);
        return rc;
}
