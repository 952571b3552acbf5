/* smsmux config files: an INI file (parsed by libinih) turned into a
 * struct smx_config plus the SMSC array it points at.
 *
 *   [client]            every scalar of struct smx_config, by its field name
 *   system_id = smsmux  (route_policy = round_robin | least_outstanding |
 *   window = 10          site_weighted)
 *   [site dc3]
 *   weight = 2          site_weight of every SMSC of that site
 *   [smsc smsc1.dc3]
 *   site = dc3          every field of struct smx_smsc_config but name and
 *   host = 127.0.0.1    site_weight (bind_mode = trx | tx | rx)
 *   port = 2775
 *   [http]              every field of struct smx_http_config (transport =
 *   transport = both     smpp | http | both; url = repeatable or a comma
 *   url = https://a/x    list, the first the primary; resubmit_pause in
 *   resubmit_pause = 30  seconds; dns_server, receiver = HOST:PORT;
 *   stall_ms = 3000      the *_ms keys in milliseconds)
 *   [store]             every field of struct smx_store_config (url =
 *   url = redis://h:6379 memory | redis://HOST:PORT[/DB] | unix:///PATH,
 *   instance = app1      instance, cluster, user, password, the timers)
 *
 * A struct smx_config_file owns every string and the SMSC array; cfg points
 * into it. The loader is strict: an unknown section or key, a bad number or
 * an SMSC without host/port is an error that names the file, the line and the
 * key. Password values never appear in a message. Command-line flags are laid
 * over the file afterwards by the caller (plain assignments to cfg, and
 * smx_config_file_add_smsc() for --smsc), so flags win. */
#ifndef SMX_CONFIG_FILE_H
#define SMX_CONFIG_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "smsmux.h"

/* One [site NAME] section; part of a struct smx_config_file (one thread). */
struct smx_config_site {
        char *name;
        uint32_t weight;
        unsigned line;             /* where the section starts */
};

/* The loaded configuration; owned by whoever called smx_config_file_init(). */
struct smx_config_file {
        struct smx_config cfg;            /* cfg.smscs set by _finish() */
        struct smx_smsc_config *smscs;    /* strings owned by this struct */
        unsigned *smsc_lines;             /* section line per SMSC, 0 = flag */
        size_t n_smscs, cap_smscs;
        struct smx_config_site *sites;
        size_t n_sites, cap_sites;
        char **strings;                   /* every string we copied */
        size_t n_strings, cap_strings;
        const char *path;                 /* the file loaded last, for messages */
        struct smx_http_config http;      /* [http]; strings owned by this struct */
        int http_set;                     /* an [http] section (or an HTTP flag) was
                                             seen: _finish() points cfg.http here */
};

/* Empty set: library defaults (smx_config_init), no SMSC. */
void smx_config_file_init(struct smx_config_file *f);

/* Parse path into f (keys it sets replace what f held). Returns 0, or a
 * negative SMX_E* code with "FILE:LINE: ..." in err. On error f is still
 * safe to free but its contents are unspecified. */
int smx_config_file_load(struct smx_config_file *f, const char *path,
                         char *err, size_t err_len);

/* Same, from an in-memory INI text; name stands in for the file in messages. */
int smx_config_file_load_string(struct smx_config_file *f, const char *text,
                                const char *name, char *err, size_t err_len);

/* Add an SMSC, or, when one of that name exists, give it this site, host and
 * port (its other settings stay). Used for --smsc NAME@SITE=HOST:PORT. */
int smx_config_file_add_smsc(struct smx_config_file *f, const char *name,
                             const char *site, const char *host, uint16_t port,
                             char *err, size_t err_len);

/* Check that every SMSC is complete (site, host, port), apply site weights,
 * and point f->cfg.smscs at the array. Call after the last change. */
int smx_config_file_finish(struct smx_config_file *f, char *err, size_t err_len);

/* Free everything f owns. */
void smx_config_file_free(struct smx_config_file *f);

/* Parse a decimal unsigned number in [min, max] from the whole of s (no sign,
 * no spaces, no trailing text). Returns 0 or SMX_EINVAL. */
int smx_config_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);

#endif
