/* Flag parsing for the smsmux subcommands and the overlay of flags on the
 * config file. One option table serves every subcommand; each entry says
 * which subcommands take it, so `pipe --count 5` is a usage error rather than
 * a flag silently ignored. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli_opts.h"
#include "knobs/knobs.h"
#include "store/rstore.h"

#define ALL ((1u << CLI_PIPE) | (1u << CLI_BENCH) | (1u << CLI_DEMO))
#define ONLY(c) (1u << (c))

enum {
        OPT_SMSC = 1000, OPT_CONFIG, OPT_SYSTEM_ID, OPT_PASSWORD, OPT_REBIND,
        OPT_WINDOW, OPT_TPS, OPT_WORKERS, OPT_DRAIN, OPT_COUNT, OPT_SECONDS,
        OPT_DURATION, OPT_RATE, OPT_HELP, OPT_ADMIN, OPT_METRICS,
        OPT_TRANSPORT, OPT_HTTP_URL, OPT_HTTP_LOGIN, OPT_HTTP_PASSWORD, OPT_HTTP_PAUSE,
        OPT_DNS_SERVER, OPT_HTTP_RECEIVER, OPT_CA_FILE, OPT_INSECURE,
        OPT_TLS_SERVER_NAME, OPT_CERT_FILE, OPT_KEY_FILE,
        OPT_STORE, OPT_INSTANCE, OPT_CLUSTER,
};

static const struct option long_opts[] = {
        { "smsc", required_argument, NULL, OPT_SMSC },
        { "config", required_argument, NULL, OPT_CONFIG },
        { "system-id", required_argument, NULL, OPT_SYSTEM_ID },
        { "password", required_argument, NULL, OPT_PASSWORD },
        { "rebind-interval", required_argument, NULL, OPT_REBIND },
        { "window", required_argument, NULL, OPT_WINDOW },
        { "tps", required_argument, NULL, OPT_TPS },
        { "workers", required_argument, NULL, OPT_WORKERS },
        { "drain-timeout", required_argument, NULL, OPT_DRAIN },
        { "count", required_argument, NULL, OPT_COUNT },
        { "seconds", required_argument, NULL, OPT_SECONDS },
        { "duration", required_argument, NULL, OPT_DURATION },
        { "rate", required_argument, NULL, OPT_RATE },
        { "help", no_argument, NULL, OPT_HELP },
        { "admin", required_argument, NULL, OPT_ADMIN },
        { "metrics", required_argument, NULL, OPT_METRICS },
        { "transport", required_argument, NULL, OPT_TRANSPORT },
        { "http-url", required_argument, NULL, OPT_HTTP_URL },
        { "http-login", required_argument, NULL, OPT_HTTP_LOGIN },
        { "http-password", required_argument, NULL, OPT_HTTP_PASSWORD },
        { "http-resubmit-pause", required_argument, NULL, OPT_HTTP_PAUSE },
        { "dns-server", required_argument, NULL, OPT_DNS_SERVER },
        { "http-receiver", required_argument, NULL, OPT_HTTP_RECEIVER },
        { "ca-file", required_argument, NULL, OPT_CA_FILE },
        { "insecure", no_argument, NULL, OPT_INSECURE },
        { "tls-server-name", required_argument, NULL, OPT_TLS_SERVER_NAME },
        { "cert-file", required_argument, NULL, OPT_CERT_FILE },
        { "key-file", required_argument, NULL, OPT_KEY_FILE },
        { "store", required_argument, NULL, OPT_STORE },
        { "instance", required_argument, NULL, OPT_INSTANCE },
        { "cluster", required_argument, NULL, OPT_CLUSTER },
        { NULL, 0, NULL, 0 },
};

/* Which subcommands take each option (indexed like long_opts). */
#define SENDERS (ONLY(CLI_PIPE) | ONLY(CLI_BENCH))   /* demo runs its own SMSCs */
static const unsigned opt_cmds[] = {
        SENDERS, SENDERS, ALL, ALL, ALL, ALL, ALL, ALL, ALL,
        ONLY(CLI_BENCH), ONLY(CLI_BENCH), ONLY(CLI_DEMO), ONLY(CLI_DEMO), ALL,
        ALL, ALL,
        ALL, ALL, ALL, ALL, ALL, ALL, ALL, ALL, ALL,    /* the HTTP transport flags */
        SENDERS, SENDERS, SENDERS,                      /* SMPP over TLS */
        ALL, ALL, ALL,                                  /* shared state */
};

static const char *cmd_name(enum cli_cmd cmd)
{
        return cmd == CLI_PIPE ? "pipe" : cmd == CLI_BENCH ? "bench" : "demo";
}

static const char smsc_usage[] =
        "  --smsc NAME@SITE=HOST:PORT  an SMSC to bind (repeatable); =tls://HOST:PORT binds\n"
        "                              over TLS (the SMSC's certificate and host verified)\n"
        "  --config FILE               INI config file (flags win over it)\n"
        "  --tls-server-name NAME      name the TLS SMSCs' certificates must carry (and SNI;\n"
        "                              default: each SMSC's host)\n"
        "  --cert-file FILE --key-file FILE  client certificate for the TLS SMSCs\n";

static const char common_usage[] =
        "  --system-id ID --password PW  credentials (an SMSC's own in the file win)\n"
        "  --rebind-interval SECONDS   spacing of bind attempts to one SMSC (default 30)\n"
        "  --window N                  outstanding submits per bind (every SMSC)\n"
        "  --tps N                     submits per second per bind, 0 = unlimited\n"
        "  --workers N                 worker threads, 0 = CPUs usable - 1 (at least 1)\n"
        "  --drain-timeout SECONDS     wait for outstanding outcomes at the end (default 30)\n"
        "  --admin PATH                admin socket for `smsmux knob|stats` (mode 0600)\n"
        "  --metrics HOST:PORT         Prometheus metrics on http://HOST:PORT/metrics\n";

static const char store_usage[] =
        "  --store memory|redis://HOST:PORT[/DB]|unix:///PATH  where correlation, dedup, DR\n"
        "                              parking and MO reassembly live (default memory);\n"
        "                              instances sharing a store and --cluster share DRs/MOs;\n"
        "                              rediss://HOST:PORT[/DB]: over TLS ([store] TLS keys\n"
        "                              of --config FILE, docs/scale-out.md)\n"
        "  --instance NAME             this instance's stable name (default: host name)\n"
        "  --cluster NAME              key prefix in the store (default smsmux)\n";

static const char http_usage[] =
        "  --transport smpp|http|both  how MTs go out (default smpp; both: HTTP only while\n"
        "                              no SMPP bind is ACTIVE)\n"
        "  --http-url URL              HTTP API URL (repeatable): one = strategy A (DNS TTL\n"
        "                              obeyed), more = strategy B (first is the primary)\n"
        "  --http-login L --http-password P  HTTP API credentials (default: --system-id/--password)\n"
        "  --http-resubmit-pause SECONDS  pause before a resubmit (default 30)\n"
        "  --dns-server HOST:PORT      resolver for strategy A (default: the system's)\n"
        "  --http-receiver HOST:PORT   listen for MO/DR POSTs on /httpapi/receiver\n"
        "  --ca-file FILE              CA certificates for https URLs and TLS SMSCs\n"
        "                              (default: the system store)\n"
        "  --insecure                  no TLS peer verification (test use only)\n";

const char *cli_usage(enum cli_cmd cmd)
{
        static char buf[4096];
        const char *head, *extra = "";
        switch (cmd) {
        case CLI_PIPE:
                head = "usage: smsmux pipe [flags] < mts.jsonl > events.jsonl\n"
                       "  Reads one MT per line as JSON, writes one event per line as JSON.\n";
                break;
        case CLI_BENCH:
                head = "usage: smsmux bench [flags] [--count N | --seconds S]\n"
                       "  Pushes MTs as fast as the library takes them (to an embedded\n"
                       "  simulator when no --smsc/--config SMSC is given); summary on stderr,\n"
                       "  last stdout line mt_per_s=<number>.\n";
                extra = "  --count N                   MTs to send (default 100000)\n"
                        "  --seconds S                 send for S seconds instead\n";
                break;
        default:
                head = "usage: smsmux demo [flags]\n"
                       "  Embedded simulator (2 sites x 2 SMSCs), traffic for --duration while a\n"
                       "  fault plan plays, one progress line per second, a final summary.\n";
                extra = "  --duration SECONDS          traffic time (default 90)\n"
                        "  --rate N                    MTs per second (default 200)\n";
                break;
        }
        snprintf(buf, sizeof buf, "%s%s%s%s%s%s  --help                      this text\n",
                 head, cmd == CLI_DEMO ? "" : smsc_usage, common_usage, store_usage, http_usage,
                 extra);
        return buf;
}

int cli_parse_seconds(const char *s, uint32_t max_ms, uint32_t *out_ms)
{
        uint64_t ms = 0;
        const char *p = s;
        int digits = 0;
        for (; *p >= '0' && *p <= '9'; p++, digits++) {
                ms = ms * 10 + (uint64_t)(*p - '0');
                if (ms > max_ms)
                        return -1;
        }
        ms *= 1000;
        if (*p == '.') {
                uint64_t scale = 100;
                for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
                        ms += (uint64_t)(*p - '0') * scale;
                        scale /= 10;
                }
        }
        if (*p || !digits || ms > max_ms)
                return -1;
        *out_ms = (uint32_t)ms;
        return 0;
}

int cli_parse_smsc_spec(const char *spec, struct cli_smsc *out)
{
        const char *at = strchr(spec, '@');
        const char *eq = at ? strchr(at + 1, '=') : NULL;
        if (!at || !eq)
                return -1;
        size_t nlen = (size_t)(at - spec), slen = (size_t)(eq - at - 1);
        if (nlen == 0 || nlen > SMX_NAME_MAX || slen == 0 || slen > SMX_NAME_MAX)
                return -1;
        const char *hp = eq + 1, *hend, *colon;
        out->tls = 0;
        if (!strncmp(hp, "tls://", 6)) {
                out->tls = 1;
                hp += 6;
        }
        if (*hp == '[') {               /* [v6-literal]:port */
                hend = strchr(hp, ']');
                if (!hend || hend[1] != ':')
                        return -1;
                colon = hend + 1;
                hp++;
        } else {
                colon = strrchr(hp, ':');
                if (!colon)
                        return -1;
                hend = colon;
        }
        size_t hlen = (size_t)(hend - hp);
        uint32_t port;
        if (hlen == 0 || hlen >= sizeof out->host ||
            smx_config_parse_u32(colon + 1, 1, 65535, &port) < 0)
                return -1;
        memcpy(out->name, spec, nlen);
        out->name[nlen] = '\0';
        memcpy(out->site, at + 1, slen);
        out->site[slen] = '\0';
        memcpy(out->host, hp, hlen);
        out->host[hlen] = '\0';
        out->port = (uint16_t)port;
        return 0;
}

static int num_flag(const char *name, const char *v, uint32_t min, uint32_t max,
                    int64_t *out, char *err, size_t err_len)
{
        uint32_t n;
        if (smx_config_parse_u32(v, min, max, &n) < 0) {
                snprintf(err, err_len, "--%s: '%s' is not a whole number in %u..%u",
                         name, v, min, max);
                return -1;
        }
        *out = n;
        return 0;
}

static int secs_flag(const char *name, const char *v, uint32_t max_ms, uint32_t *out,
                     char *err, size_t err_len)
{
        if (cli_parse_seconds(v, max_ms, out) < 0) {
                snprintf(err, err_len, "--%s: '%s' is not a number of seconds "
                         "(0..%u, e.g. 30 or 1.5)", name, v, max_ms / 1000);
                return -1;
        }
        return 0;
}

/* Apply one of the HTTP flags (--transport, --http-*, --dns-server,
 * --ca-file, --insecure) or TLS flags (--tls-server-name, --cert-file,
 * --key-file) to o. 0, or -1 with the reason in err. */
static int apply_http_flag(struct cli_opts *o, int c, const char *arg, char *err, size_t err_len)
{
        switch (c) {
        case OPT_TRANSPORT:
                if (!strcmp(arg, "smpp"))
                        o->http.transport = SMX_TRANSPORT_SMPP;
                else if (!strcmp(arg, "http"))
                        o->http.transport = SMX_TRANSPORT_HTTP;
                else if (!strcmp(arg, "both"))
                        o->http.transport = SMX_TRANSPORT_BOTH;
                else {
                        snprintf(err, err_len, "--transport: '%s' is not smpp, http or both",
                                 arg);
                        return -1;
                }
                o->http_transport_given = 1;
                break;
        case OPT_HTTP_URL:
                if (o->http.n_urls == SMX_HTTP_URLS_MAX) {
                        snprintf(err, err_len, "--http-url: at most %d", SMX_HTTP_URLS_MAX);
                        return -1;
                }
                if (strncmp(arg, "http://", 7) != 0 && strncmp(arg, "https://", 8) != 0) {
                        snprintf(err, err_len, "--http-url: '%s' is not an http:// or https:// URL",
                                 arg);
                        return -1;
                }
                o->http.urls[o->http.n_urls++] = arg;
                break;
        case OPT_HTTP_LOGIN: o->http.login = arg; break;
        case OPT_HTTP_PASSWORD: o->http.password = arg; break;
        case OPT_HTTP_PAUSE:
                if (secs_flag("http-resubmit-pause", arg, 86400000,
                              &o->http.resubmit_pause_ms, err, err_len) < 0)
                        return -1;
                o->http_pause_given = 1;
                break;
        case OPT_DNS_SERVER: o->http.dns_server = arg; break;
        case OPT_HTTP_RECEIVER: o->http.receiver = arg; break;
        case OPT_CA_FILE: o->http.ca_file = arg; return 0;      /* HTTP and TLS SMSCs */
        case OPT_INSECURE: o->http.insecure = 1; return 0;
        case OPT_TLS_SERVER_NAME:
                if (!*arg || strlen(arg) > 253) {
                        snprintf(err, err_len, "--tls-server-name: 1..253 characters");
                        return -1;
                }
                o->tls_server_name = arg;
                return 0;
        case OPT_CERT_FILE: o->cert_file = arg; return 0;
        case OPT_KEY_FILE: o->key_file = arg; return 0;
        default: return -2;
        }
        o->http_given = 1;
        return 0;
}

/* Apply flag c (with its value arg) to o. 0, -1 with the reason in err, or
 * -2 when c is no flag at all. */
static int apply_flag(struct cli_opts *o, int c, const char *arg, char *err, size_t err_len)
{
        uint32_t ms;
        int64_t n;
        switch (c) {
        case OPT_SMSC:
                if (o->n_smscs == CLI_MAX_SMSCS) {
                        snprintf(err, err_len, "--smsc: at most %d", CLI_MAX_SMSCS);
                        return -1;
                }
                if (cli_parse_smsc_spec(arg, &o->smscs[o->n_smscs]) < 0) {
                        snprintf(err, err_len, "--smsc: '%s' is not NAME@SITE=HOST:PORT "
                                 "or NAME@SITE=tls://HOST:PORT", arg);
                        return -1;
                }
                o->n_smscs++;
                break;
        case OPT_CONFIG: o->config_path = arg; break;
        case OPT_SYSTEM_ID: o->system_id = arg; break;
        case OPT_PASSWORD: o->password = arg; break;
        case OPT_REBIND:
                if (secs_flag("rebind-interval", arg, 86400000, &ms, err, err_len) < 0)
                        return -1;
                o->rebind_interval_ms = ms;
                break;
        case OPT_WINDOW:
                if (num_flag("window", arg, 1, 65535, &o->window, err, err_len) < 0)
                        return -1;
                break;
        case OPT_TPS:
                if (num_flag("tps", arg, 0, 0xFFFFFFFFu, &o->tps, err, err_len) < 0)
                        return -1;
                break;
        case OPT_WORKERS:
                if (num_flag("workers", arg, 0, 1024, &o->workers, err, err_len) < 0)
                        return -1;
                break;
        case OPT_DRAIN:
                if (secs_flag("drain-timeout", arg, 86400000, &o->drain_timeout_ms,
                              err, err_len) < 0)
                        return -1;
                break;
        case OPT_COUNT:
                if (num_flag("count", arg, 1, 0xFFFFFFFFu, &n, err, err_len) < 0)
                        return -1;
                o->count = (uint64_t)n;
                break;
        case OPT_SECONDS:
                if (secs_flag("seconds", arg, 86400000, &o->seconds_ms, err, err_len) < 0)
                        return -1;
                break;
        case OPT_DURATION:
                if (secs_flag("duration", arg, 86400000, &o->duration_ms, err, err_len) < 0)
                        return -1;
                break;
        case OPT_RATE:
                if (num_flag("rate", arg, 1, 1000000, &n, err, err_len) < 0)
                        return -1;
                o->rate = (uint32_t)n;
                break;
        case OPT_HELP: o->help = 1; break;
        case OPT_ADMIN: o->admin_path = arg; break;
        case OPT_METRICS:
                if (!knobs_addr_ok(arg) || !*arg) {
                        snprintf(err, err_len, "--metrics: '%s' is not HOST:PORT", arg);
                        return -1;
                }
                o->metrics_addr = arg;
                break;
        case OPT_STORE:
                if (rstore_url_check(arg, err, err_len) < 0)
                        return -1;
                o->store = arg;
                break;
        case OPT_INSTANCE: o->instance = arg; break;
        case OPT_CLUSTER: o->cluster = arg; break;
        default:
                return apply_http_flag(o, c, arg, err, err_len);
        }
        return 0;
}

/* What no single flag can tell: --count with --seconds, the bench default,
 * the demo's shortest run. 0, or -1 with the reason in err. */
static int check_flags(struct cli_opts *o, enum cli_cmd cmd, char *err, size_t err_len)
{
        if (cmd == CLI_BENCH && o->count && o->seconds_ms) {
                snprintf(err, err_len, "give --count or --seconds, not both");
                return -1;
        }
        if (cmd == CLI_BENCH && !o->count && !o->seconds_ms)
                o->count = 100000;
        if (!o->cert_file != !o->key_file) {
                snprintf(err, err_len, "--cert-file and --key-file go together");
                return -1;
        }
        if (cmd == CLI_DEMO && o->duration_ms < 1000) {
                snprintf(err, err_len, "--duration: at least 1 second");
                return -1;
        }
        return 0;
}

int cli_opts_parse(struct cli_opts *o, enum cli_cmd cmd, int argc, char **argv,
                   char *err, size_t err_len)
{
        memset(o, 0, sizeof *o);
        o->cmd = cmd;
        o->rebind_interval_ms = o->window = o->tps = o->workers = -1;
        o->drain_timeout_ms = 30000;
        o->duration_ms = 90000;
        o->rate = 200;
        smx_http_config_init(&o->http);
        optind = 0;             /* glibc: full re-initialisation */
        opterr = 0;
        for (;;) {
                int idx = -1;
                int c = getopt_long(argc, argv, ":h", long_opts, &idx);
                if (c == -1)
                        break;
                if (c == '?') {
                        snprintf(err, err_len, "unknown flag '%s'", argv[optind - 1]);
                        return -1;
                }
                if (c == ':') {
                        snprintf(err, err_len, "flag '%s' needs a value", argv[optind - 1]);
                        return -1;
                }
                if (c == 'h') {
                        o->help = 1;
                        continue;
                }
                if (idx >= 0 && !(opt_cmds[idx] & ONLY(cmd))) {
                        snprintf(err, err_len, "--%s is not a flag of 'smsmux %s'",
                                 long_opts[idx].name, cmd_name(cmd));
                        return -1;
                }
                int rc = apply_flag(o, c, optarg, err, err_len);
                if (rc == -2)
                        snprintf(err, err_len, "unknown flag '%s'", argv[optind - 1]);
                if (rc < 0)
                        return -1;
        }
        if (optind < argc) {
                snprintf(err, err_len, "unexpected argument '%s'", argv[optind]);
                return -1;
        }
        return check_flags(o, cmd, err, err_len);
}

/* Lay the HTTP flags that were given over the file's [http] settings, field
 * by field, so a flag wins and the file's other keys stay. --http-url given
 * at all replaces the file's whole URL list. */
static void http_overlay(const struct cli_opts *o, struct smx_config_file *f)
{
        struct smx_http_config *h = &f->http;
        const struct smx_http_config *g = &o->http;
        if (o->http_transport_given)
                h->transport = g->transport;
        if (g->n_urls) {
                for (unsigned i = 0; i < g->n_urls; i++)
                        h->urls[i] = g->urls[i];
                h->n_urls = g->n_urls;
        }
        if (g->login)
                h->login = g->login;
        if (g->password)
                h->password = g->password;
        if (o->http_pause_given)
                h->resubmit_pause_ms = g->resubmit_pause_ms;
        if (g->dns_server)
                h->dns_server = g->dns_server;
        if (g->receiver)
                h->receiver = g->receiver;
        if (g->ca_file)
                h->ca_file = g->ca_file;
        if (g->insecure)
                h->insecure = 1;
        f->http_set = 1;        /* _finish() points cfg.http at f->http */
}

/* The TLS flags win over every TLS SMSC's own settings. */
static void tls_overlay(const struct cli_opts *o, struct smx_config_file *f)
{
        for (size_t i = 0; i < f->n_smscs; i++) {
                struct smx_smsc_config *s = &f->smscs[i];
                if (!s->tls)
                        continue;
                if (o->http.ca_file) {
                        s->ca_file = o->http.ca_file;
                        s->ca_path = NULL;
                }
                if (o->http.insecure)
                        s->insecure = 1;
                if (o->tls_server_name)
                        s->server_name = o->tls_server_name;
                if (o->cert_file) {
                        s->cert_file = o->cert_file;
                        s->key_file = o->key_file;
                }
        }
}

int cli_build_config(const struct cli_opts *o, struct smx_config_file *f,
                     char *err, size_t err_len)
{
        if (o->config_path &&
            smx_config_file_load(f, o->config_path, err, err_len) < 0)
                return -1;
        for (size_t i = 0; i < o->n_smscs; i++) {
                const struct cli_smsc *s = &o->smscs[i];
                if (smx_config_file_add_smsc(f, s->name, s->site, s->host, s->port,
                                             err, err_len) < 0)
                        return -1;
                /* the flag says plain or TLS, over the file's `tls`; plain
                 * drops the file's TLS settings of that SMSC */
                for (size_t j = 0; j < f->n_smscs; j++) {
                        struct smx_smsc_config *fs = &f->smscs[j];
                        if (strcmp(fs->name, s->name) != 0)
                                continue;
                        fs->tls = s->tls;
                        if (!s->tls) {
                                fs->ca_file = fs->ca_path = fs->cert_file = fs->key_file = NULL;
                                fs->server_name = NULL;
                                fs->insecure = 0;
                        }
                }
        }
        tls_overlay(o, f);
        struct smx_config *c = &f->cfg;
        if (o->system_id)
                c->system_id = o->system_id;
        if (o->password)
                c->password = o->password;
        if (o->rebind_interval_ms >= 0)
                c->rebind_interval_ms = (uint32_t)o->rebind_interval_ms;
        if (o->workers >= 0)
                c->workers = (unsigned)o->workers;
        if (o->admin_path)
                c->admin_socket = o->admin_path;
        if (o->metrics_addr)
                c->metrics_addr = o->metrics_addr;
        if (o->store)
                c->store.url = o->store;
        if (o->instance)
                c->store.instance = o->instance;
        if (o->cluster)
                c->store.cluster = o->cluster;
        /* --window and --tps are per bind: they win over every SMSC's own. */
        if (o->window >= 0) {
                c->window = (uint32_t)o->window;
                for (size_t i = 0; i < f->n_smscs; i++)
                        f->smscs[i].window = 0;
        }
        if (o->tps >= 0)
                for (size_t i = 0; i < f->n_smscs; i++)
                        f->smscs[i].tps = (uint32_t)o->tps;
        if (o->http_given || (f->http_set && (o->http.ca_file || o->http.insecure)))
                http_overlay(o, f);
        return smx_config_file_finish(f, err, err_len) < 0 ? -1 : 0;
}
