/* Command-line flags of `smsmux` (../../../shared/CLI.md) and the client
 * configuration built from them: the config file first (--config), then the
 * flags laid over it, so flags win. Pure parsing; nothing connects here. */
#ifndef SMX_CLI_OPTS_H
#define SMX_CLI_OPTS_H

#include <stddef.h>
#include <stdint.h>

#include "config/config_file.h"

/* Which subcommand is parsing: each takes the common flags plus its own. */
enum cli_cmd { CLI_PIPE = 1, CLI_BENCH, CLI_DEMO };

#define CLI_MAX_SMSCS 64

/* One --smsc NAME@SITE=HOST:PORT (or =tls://HOST:PORT). */
struct cli_smsc {
        char name[SMX_NAME_MAX + 1];
        char site[SMX_NAME_MAX + 1];
        char host[256];
        uint16_t port;
        int tls;                         /* tls:// given */
};

/* Everything the flags said; -1 (or NULL) = not given. Owned by main. */
struct cli_opts {
        enum cli_cmd cmd;
        const char *config_path;
        struct cli_smsc smscs[CLI_MAX_SMSCS];
        size_t n_smscs;
        const char *system_id, *password;
        int64_t rebind_interval_ms, window, tps, workers;
        uint32_t drain_timeout_ms;       /* pipe, bench, demo: default 30 s */
        uint64_t count;                  /* bench: MTs to send (0 = by time) */
        uint32_t seconds_ms;             /* bench: how long to send */
        uint32_t duration_ms;            /* demo: traffic time, default 90 s */
        uint32_t rate;                   /* demo: MTs per second */
        const char *admin_path;          /* --admin: admin socket (knob/stats commands) */
        const char *metrics_addr;        /* --metrics HOST:PORT */
        const char *store;               /* --store URL (checked), NULL: the file's/memory */
        const char *instance, *cluster;  /* --instance, --cluster */
        int help;
        /* HTTP transport: --transport, --http-url (repeatable), --http-login,
         * --http-password, --http-resubmit-pause, --dns-server,
         * --http-receiver, --ca-file, --insecure (CLI.md). Strings point
         * into argv. */
        struct smx_http_config http;
        int http_given;                  /* some HTTP flag was given */
        int http_transport_given;        /* --transport was given */
        int http_pause_given;            /* --http-resubmit-pause was given */
        /* SMPP over TLS (CLI.md "SMPP over TLS"): for every TLS SMSC, over the
         * config file's; --ca-file and --insecure also serve the HTTP URLs. */
        const char *tls_server_name, *cert_file, *key_file;
};

/* Parse argv (argv[0] is the subcommand name). Returns 0, or -1 with a
 * message in err (a usage error). */
int cli_opts_parse(struct cli_opts *o, enum cli_cmd cmd, int argc, char **argv,
                   char *err, size_t err_len);

/* Split "NAME@SITE=HOST:PORT" or "NAME@SITE=tls://HOST:PORT" (HOST may be
 * "[v6]"). Returns 0 or -1. */
int cli_parse_smsc_spec(const char *spec, struct cli_smsc *out);

/* Parse decimal seconds ("30", "1.5", "0.25") into milliseconds, at most
 * max_ms. Returns 0 or -1. */
int cli_parse_seconds(const char *s, uint32_t max_ms, uint32_t *out_ms);

/* Build the client configuration: --config file, then every flag over it.
 * f must be smx_config_file_init()ed; free it with smx_config_file_free().
 * Returns 0, or -1 with a message in err (a config error). */
int cli_build_config(const struct cli_opts *o, struct smx_config_file *f,
                     char *err, size_t err_len);

/* The usage text of a subcommand (for --help and usage errors). */
const char *cli_usage(enum cli_cmd cmd);

#endif
