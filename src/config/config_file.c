/* The loaded configuration set (see config_file.h for the format): the
 * strings it owns, its SMSCs (with the line of each section) and sites, and
 * the public calls around a load: init, --smsc flags laid over the file,
 * finish (completeness, site weights) and free. Parsing is in
 * config_reader.c, config_sections.c, config_values.c and config_http.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_int.h"

char *config_own_string(struct smx_config_file *f, const char *s)
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

ssize_t config_find_smsc(const struct smx_config_file *f, const char *name)
{
        for (size_t i = 0; i < f->n_smscs; i++)
                if (!strcmp(f->smscs[i].name, name))
                        return (ssize_t)i;
        return -1;
}

ssize_t config_find_site(const struct smx_config_file *f, const char *name)
{
        for (size_t i = 0; i < f->n_sites; i++)
                if (!strcmp(f->sites[i].name, name))
                        return (ssize_t)i;
        return -1;
}

/* Append an SMSC named name (which must be new); returns its index or < 0. */
ssize_t config_smsc_new(struct smx_config_file *f, const char *name, unsigned line)
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
        char *copy = config_own_string(f, name);
        if (!copy)
                return SMX_ENOMEM;
        struct smx_smsc_config *s = &f->smscs[f->n_smscs];
        memset(s, 0, sizeof *s);
        s->name = copy;
        s->bind_mode = SMX_BIND_TRX;
        f->smsc_lines[f->n_smscs] = line;
        return (ssize_t)f->n_smscs++;
}

ssize_t config_site_new(struct smx_config_file *f, const char *name, unsigned line)
{
        if (f->n_sites == f->cap_sites) {
                size_t cap = f->cap_sites ? f->cap_sites * 2 : 4;
                struct smx_config_site *s = realloc(f->sites, cap * sizeof *s);
                if (!s)
                        return SMX_ENOMEM;
                f->sites = s;
                f->cap_sites = cap;
        }
        char *copy = config_own_string(f, name);
        if (!copy)
                return SMX_ENOMEM;
        f->sites[f->n_sites] = (struct smx_config_site){ .name = copy, .weight = 1, .line = line };
        return (ssize_t)f->n_sites++;
}

/* A name of an SMSC or site: 1..SMX_NAME_MAX bytes, no spaces or '@', '='. */
int config_name_ok(const char *s)
{
        size_t n = 0;
        for (; s[n]; n++)
                if (s[n] == ' ' || s[n] == '\t' || s[n] == '@' || s[n] == '=' ||
                    s[n] == '[' || s[n] == ']')
                        return 0;
        return n >= 1 && n <= SMX_NAME_MAX;
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
        if (!config_name_ok(name) || !config_name_ok(site) || !host || !*host || port == 0) {
                if (err && err_len)
                        snprintf(err, err_len, "SMSC '%s': need a name and site of 1..%d "
                                 "characters (no spaces, '@', '='), a host and a port in "
                                 "1..65535", name, SMX_NAME_MAX);
                return SMX_EINVAL;
        }
        ssize_t i = config_find_smsc(f, name);
        if (i < 0)
                i = config_smsc_new(f, name, 0);
        char *s = i >= 0 ? config_own_string(f, site) : NULL;
        char *h = s ? config_own_string(f, host) : NULL;
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
                ssize_t k = config_find_site(f, s->site);
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
