/* smsc-sim: the multi-site SMSC simulator as a program (../shared/CLI.md).
 *
 *   smsc-sim [--config FILE] [--sites dc3,bos] [--smscs-per-site 2]
 *            [--host 127.0.0.1] [--port-base 2775] [--system-id smsmux]
 *            [--password secret] [--control PATH] [--ledger FILE]
 *            [--plan FILE] [--rebind-interval S] [--seed N] [--set KEY=VALUE]...
 *            [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]]
 *   smsc-sim ctl --control PATH COMMAND [ARGS]
 *
 * Starts the engine (sim.h), prints `listening NAME SITE HOST:PORT` per SMSC
 * (`tls://HOST:PORT` for a TLS listener)
 * and `ready`, runs until SIGINT/SIGTERM, then writes the ledger JSON. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "http_sim.h"
#include "sim.h"

static void usage(FILE *f)
{
        fprintf(f,
                "usage: smsc-sim [--config FILE] [--sites dc3,bos] [--smscs-per-site 2] [--host 127.0.0.1]\n"
                "                [--port-base 2775] [--system-id smsmux] [--password secret]\n"
                "                [--control PATH] [--ledger FILE] [--plan FILE] [--rebind-interval S]\n"
                "                [--seed N] [--set KEY=VALUE]... [--tls-cert FILE --tls-key FILE\n"
                "                 [--tls-client-ca FILE]]\n"
                "                [--http-port PORT [--http-addr-base 127.0.0.2] [--http-receiver URL]\n"
                "                 [--http-dr-via-smpp F] [--smpp-dr-via-http F]]   (HTTP API side, http_sim.h)\n"
                "       smsc-sim ctl --control PATH COMMAND [ARGS]   (COMMAND `help` lists them)\n");
}

static int run_ctl(int argc, char **argv)
{
        const char *path = NULL;
        int i = 1;
        for (; i < argc; i++) {
                if (!strcmp(argv[i], "--control") && i + 1 < argc)
                        path = argv[++i];
                else if (!strncmp(argv[i], "--control=", 10))
                        path = argv[i] + 10;
                else
                        break;
        }
        if (!path || i >= argc) {
                usage(stderr);
                return 2;
        }
        char cmd[1024];
        size_t n = 0;
        for (; i < argc; i++) {
                int w = snprintf(cmd + n, sizeof(cmd) - n, "%s%s", n ? " " : "", argv[i]);
                if (w < 0 || (size_t)w >= sizeof(cmd) - n - 1) {
                        fprintf(stderr, "smsc-sim ctl: command too long\n");
                        return 2;
                }
                n += (size_t)w;
        }
        cmd[n++] = '\n';
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof(a.sun_path)) {
                fprintf(stderr, "smsc-sim ctl: control path too long\n");
                return 2;
        }
        snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
                fprintf(stderr, "smsc-sim ctl: %s: %s\n", path, strerror(errno));
                return 1;
        }
        size_t off = 0;
        while (off < n) {
                ssize_t w = write(fd, cmd + off, n - off);
                if (w <= 0) {
                        fprintf(stderr, "smsc-sim ctl: write: %s\n", strerror(errno));
                        return 1;
                }
                off += (size_t)w;
        }
        char buf[65536];
        int first = 1, failed = 0;
        for (;;) {
                ssize_t r = read(fd, buf, sizeof(buf));
                if (r <= 0)
                        break;
                if (first && r >= 6 && !memcmp(buf, "error:", 6))
                        failed = 1;
                first = 0;
                fwrite(buf, 1, (size_t)r, stdout);
        }
        close(fd);
        if (first) {
                fprintf(stderr, "smsc-sim ctl: no reply\n");
                return 1;
        }
        return failed;
}

static int parse_uint(const char *v, unsigned long max, unsigned long *out)
{
        char *end;
        errno = 0;
        unsigned long x = strtoul(v, &end, 10);
        if (errno || end == v || *end || x > max)
                return -1;
        *out = x;
        return 0;
}

int main(int argc, char **argv)
{
        if (argc > 1 && !strcmp(argv[1], "ctl"))
                return run_ctl(argc - 1, argv + 1);

        struct sim_options o;
        sim_options_init(&o);
        o.ledger_path = "-";
        const char *sets[64];
        int n_sets = 0;
        static const struct option opts[] = {
                { "config", required_argument, NULL, 'c' },
                { "sites", required_argument, NULL, 's' },
                { "smscs-per-site", required_argument, NULL, 'n' },
                { "host", required_argument, NULL, 'H' },
                { "port-base", required_argument, NULL, 'p' },
                { "system-id", required_argument, NULL, 'u' },
                { "password", required_argument, NULL, 'w' },
                { "control", required_argument, NULL, 'C' },
                { "ledger", required_argument, NULL, 'l' },
                { "plan", required_argument, NULL, 'P' },
                { "rebind-interval", required_argument, NULL, 'r' },
                { "seed", required_argument, NULL, 'S' },
                { "set", required_argument, NULL, 'k' },
                { "help", no_argument, NULL, 'h' },
                /* the HTTP API side (http_sim.h) */
                { "http-port", required_argument, NULL, 1001 },
                { "http-addr-base", required_argument, NULL, 1002 },
                { "http-receiver", required_argument, NULL, 1003 },
                { "http-dr-via-smpp", required_argument, NULL, 1004 },
                { "smpp-dr-via-http", required_argument, NULL, 1005 },
                { "tls-cert", required_argument, NULL, 1006 },
                { "tls-key", required_argument, NULL, 1007 },
                { "tls-client-ca", required_argument, NULL, 1008 },
                { NULL, 0, NULL, 0 },
        };
        struct http_sim_options ho;
        http_sim_options_init(&ho);
        int http_on = 0;
        int c;
        unsigned long ul;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 'c': o.config_file = optarg; break;
                case 's': o.sites = optarg; o.given |= SIM_GIVEN_SITES; break;
                case 'n':
                        if (parse_uint(optarg, 64, &ul) < 0 || !ul) {
                                fprintf(stderr, "smsc-sim: bad --smscs-per-site %s\n", optarg);
                                return 2;
                        }
                        o.smscs_per_site = (unsigned)ul;
                        o.given |= SIM_GIVEN_PER_SITE;
                        break;
                case 'H': o.host = optarg; o.given |= SIM_GIVEN_HOST; break;
                case 'p':
                        if (parse_uint(optarg, 65535, &ul) < 0) {
                                fprintf(stderr, "smsc-sim: bad --port-base %s\n", optarg);
                                return 2;
                        }
                        o.port_base = (unsigned)ul;
                        o.given |= SIM_GIVEN_PORT_BASE;
                        break;
                case 'u': o.system_id = optarg; o.given |= SIM_GIVEN_SYSTEM_ID; break;
                case 'w': o.password = optarg; o.given |= SIM_GIVEN_PASSWORD; break;
                case 'C': o.control_path = optarg; break;
                case 'l': o.ledger_path = optarg; break;
                case 'P': o.plan_path = optarg; break;
                case 'r': {
                        char *end;
                        o.rebind_interval_s = strtod(optarg, &end);
                        if (*end || end == optarg || o.rebind_interval_s < 0) {
                                fprintf(stderr, "smsc-sim: bad --rebind-interval %s\n", optarg);
                                return 2;
                        }
                        o.given |= SIM_GIVEN_REBIND;
                        break;
                }
                case 'S':
                        if (parse_uint(optarg, UINT32_MAX, &ul) < 0) {
                                fprintf(stderr, "smsc-sim: bad --seed %s\n", optarg);
                                return 2;
                        }
                        o.seed = (uint32_t)ul;
                        break;
                case 'k':
                        if (!strchr(optarg, '=') || n_sets == 64) {
                                fprintf(stderr, "smsc-sim: bad --set %s (KEY=VALUE)\n", optarg);
                                return 2;
                        }
                        sets[n_sets++] = optarg;
                        break;
                case 1001:
                        if (parse_uint(optarg, 65535, &ul) < 0) {
                                fprintf(stderr, "smsc-sim: bad --http-port %s\n", optarg);
                                return 2;
                        }
                        ho.port = (unsigned)ul;
                        http_on = 1;
                        break;
                case 1002: ho.addr_base = optarg; break;
                case 1003: ho.receiver_url = optarg; break;
                case 1004:
                case 1005: {
                        char *end;
                        double v = strtod(optarg, &end);
                        if (*end || end == optarg || v < 0 || v > 1) {
                                fprintf(stderr, "smsc-sim: bad share %s (0..1)\n", optarg);
                                return 2;
                        }
                        if (c == 1004)
                                ho.dr_via_smpp = v;
                        else
                                ho.smpp_dr_via_http = v;
                        break;
                }
                case 1006: o.tls_cert = optarg; break;
                case 1007: o.tls_key = optarg; break;
                case 1008: o.tls_client_ca = optarg; break;
                case 'h': usage(stdout); return 0;
                default: usage(stderr); return 2;
                }
        }
        if (optind < argc) {
                usage(stderr);
                return 2;
        }
        if (!o.tls_cert != !o.tls_key) {
                fprintf(stderr, "smsc-sim: --tls-cert and --tls-key go together\n");
                return 2;
        }

        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        signal(SIGPIPE, SIG_IGN);

        struct smsc_sim *s;
        char err[256];
        int rc = sim_start(&o, &s, err, sizeof(err));
        if (rc < 0) {
                fprintf(stderr, "smsc-sim: %s\n", err[0] ? err : strerror(-rc));
                return 1;
        }
        for (int i = 0; i < n_sets; i++) {
                char cmd[512], reply[256];
                const char *eq = strchr(sets[i], '=');
                snprintf(cmd, sizeof(cmd), "set all %.*s %s", (int)(eq - sets[i]), sets[i], eq + 1);
                if (sim_ctl(s, cmd, reply, sizeof(reply)) < 0) {
                        fprintf(stderr, "smsc-sim: --set %s: %s\n", sets[i], reply);
                        _exit(2);
                }
        }
        struct sim_smsc_info info[256];
        size_t n = sim_smscs(s, info, 256);
        struct http_sim *hs = NULL;
        char site_list[1024] = "";
        if (http_on) {
                /* the HTTP API serves the sites the engine has (flags or file) */
                for (size_t i = 0; i < n && i < 256; i++) {
                        if (i && !strcmp(info[i].site, info[i - 1].site))
                                continue;
                        size_t l = strlen(site_list);
                        snprintf(site_list + l, sizeof(site_list) - l, "%s%s", l ? "," : "", info[i].site);
                }
                ho.sites = site_list;
                ho.smpp = s;
                if (o.system_id)
                        ho.login = o.system_id;
                if (o.password)
                        ho.password = o.password;
                if (http_sim_start(&ho, &hs, err, sizeof(err)) < 0) {
                        fprintf(stderr, "smsc-sim: %s\n", err);
                        sim_stop(s);
                        return 1;
                }
        }
        for (size_t i = 0; i < n && i < 256; i++)
                printf("listening %s %s %s%s:%u\n", info[i].name, info[i].site,
                       info[i].tls ? "tls://" : "", info[i].host, info[i].port);
        if (hs) {
                char name[32], addr[16];
                uint16_t port;
                size_t sites = http_sim_site(hs, 0, name, addr, &port);
                for (size_t i = 0; i < sites; i++) {
                        http_sim_site(hs, i, name, addr, &port);
                        printf("http %s %s:%u /httpapi/receiver\n", name, addr, port);
                }
        }
        printf("ready\n");
        fflush(stdout);

        int sig;
        sigwait(&set, &sig);
        if (hs) {
                char summary[16384];   /* 16 sites with 16 daemons each fit */
                if (http_sim_summary_json(hs, summary, sizeof(summary)) > 0)
                        fprintf(stderr, "http ledger: %s\n", summary);
                http_sim_stop(hs);
        }
        sim_stop(s);
        return 0;
}
