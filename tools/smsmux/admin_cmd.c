/* `smsmux knob`, `stats`, `smsc` and `site`: clients of a running smsmux's admin
 * socket (src/admin/admin.h has the protocol). They send one request line,
 * print the answer's body on stdout, and turn "error: ..." into a message on
 * stderr and exit status 1. The socket comes from --admin PATH or from the
 * admin_socket key of --config FILE. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "admin_cmd.h"
#include "cli_client.h"
#include "config/config_file.h"

static const char knob_usage[] =
        "usage: smsmux knob get NAME | set NAME VALUE | list  (--admin PATH | --config FILE)\n"
        "  Reads or changes a knob of a running smsmux (pipe, bench or demo started with\n"
        "  --admin PATH, or admin_socket in its config). NAME: a client knob such as\n"
        "  retry_backoff_ms, or smsc.NAME.tps|window|weight|admin, site.NAME.<same>;\n"
        "  admin is enabled, draining or removed. `knob list` shows them all.\n";

static const char smsc_usage[] =
        "usage: smsmux smsc add NAME@SITE=HOST:PORT [KEY=VALUE ...]  (--admin PATH | --config FILE)\n"
        "       smsmux smsc drain|enable|remove NAME\n"
        "       smsmux site drain|enable|remove SITE\n"
        "  add: a new SMSC for a running smsmux (KEY: any key of an [smsc] section,\n"
        "  e.g. system_id=... window=5 tps=100); it is bound at once. drain: no new MTs,\n"
        "  stays bound, DRs and MOs still received; remove: unbound for good.\n";

static const char stats_usage[] =
        "usage: smsmux stats [--json | --prometheus]  (--admin PATH | --config FILE)\n"
        "  Counters of a running smsmux per bind, site and worker: a table, one JSON\n"
        "  object (--json) or Prometheus text (--prometheus).\n";

/* Send line, read the whole answer into a malloc'd string. NULL on error
 * (message printed). */
static char *ask(const char *path, const char *line)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof sa.sun_path) {
                fprintf(stderr, "smsmux: admin socket path too long: %s\n", path);
                return NULL;
        }
        memcpy(sa.sun_path, path, strlen(path) + 1);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                fprintf(stderr, "smsmux: cannot reach the admin socket %s: %s\n", path,
                        strerror(errno));
                if (fd >= 0)
                        close(fd);
                return NULL;
        }
        size_t ll = strlen(line);
        if (write(fd, line, ll) != (ssize_t)ll || write(fd, "\n", 1) != 1) {
                fprintf(stderr, "smsmux: admin socket %s: %s\n", path, strerror(errno));
                close(fd);
                return NULL;
        }
        size_t cap = 65536, len = 0;
        char *buf = malloc(cap);
        while (buf) {
                if (len + 1 == cap) {
                        char *b = realloc(buf, cap * 2);
                        if (!b) {
                                free(buf);
                                buf = NULL;
                                break;
                        }
                        buf = b;
                        cap *= 2;
                }
                ssize_t r = read(fd, buf + len, cap - 1 - len);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                len += (size_t)r;
        }
        close(fd);
        if (!buf) {
                fprintf(stderr, "smsmux: out of memory\n");
                return NULL;
        }
        buf[len] = '\0';
        return buf;
}

/* Print the body of an "ok" answer; report an error answer. */
static int finish(char *ans)
{
        if (!ans)
                return CLI_EXIT_FAIL;
        int rc = CLI_EXIT_OK;
        if (!strncmp(ans, "ok\n", 3)) {
                fputs(ans + 3, stdout);
        } else {
                const char *why = !strncmp(ans, "error: ", 7) ? ans + 7 : ans;
                fprintf(stderr, "smsmux: %s%s", *why ? why : "no answer from the admin socket",
                        *why && why[strlen(why) - 1] == '\n' ? "" : "\n");
                rc = CLI_EXIT_FAIL;
        }
        free(ans);
        return rc;
}

/* Common flags; returns the socket path or NULL (usage error printed).
 * Positional arguments are left in argv[optind..). */
static const char *parse_common(int argc, char **argv, const char *usage, int *fmt,
                                struct smx_config_file *f, int *exit_code)
{
        enum { O_ADMIN = 1, O_CONFIG, O_JSON, O_PROM, O_HELP };
        static const struct option opts[] = {
                { "admin", required_argument, NULL, O_ADMIN },
                { "config", required_argument, NULL, O_CONFIG },
                { "json", no_argument, NULL, O_JSON },
                { "prometheus", no_argument, NULL, O_PROM },
                { "help", no_argument, NULL, O_HELP },
                { NULL, 0, NULL, 0 },
        };
        const char *admin = NULL, *config = NULL;
        optind = 0;
        opterr = 0;
        *exit_code = CLI_EXIT_USAGE;
        for (;;) {
                int c = getopt_long(argc, argv, "h", opts, NULL);
                if (c == -1)
                        break;
                switch (c) {
                case O_ADMIN: admin = optarg; break;
                case O_CONFIG: config = optarg; break;
                case O_JSON:
                case O_PROM:
                        if (!fmt) {
                                fprintf(stderr, "smsmux: --%s is a flag of 'smsmux stats'\n%s",
                                        c == O_JSON ? "json" : "prometheus", usage);
                                return NULL;
                        }
                        *fmt = c == O_JSON ? 1 : 2;
                        break;
                case 'h':
                case O_HELP:
                        fputs(usage, stdout);
                        *exit_code = CLI_EXIT_OK;
                        return NULL;
                default:
                        fprintf(stderr, "smsmux: unknown flag '%s'\n%s", argv[optind - 1], usage);
                        return NULL;
                }
        }
        if (admin)
                return admin;
        if (config) {
                char err[512];
                if (smx_config_file_load(f, config, err, sizeof err) < 0) {
                        fprintf(stderr, "smsmux: %s\n", err);
                        return NULL;
                }
                if (f->cfg.admin_socket)
                        return f->cfg.admin_socket;
                fprintf(stderr, "smsmux: %s has no admin_socket in [client]\n", config);
                return NULL;
        }
        fprintf(stderr, "smsmux: which smsmux? give --admin PATH or --config FILE\n%s", usage);
        return NULL;
}

/* Builds the request line from the words after the flags, a[0..n) (cmd is
 * the subcommand, fmt what --json/--prometheus chose). Returns 0, or -1
 * after printing why the words are wrong. */
typedef int (*line_fn)(const char *cmd, int n, char **a, int fmt, char *line, size_t cap);

/* What every admin command does around its request line: the flags, the
 * socket, the line, the answer. Returns the exit status. */
static int run_admin(int argc, char **argv, const char *usage, int takes_fmt, line_fn build)
{
        struct smx_config_file f;
        smx_config_file_init(&f);
        int code, fmt = 0;
        char line[1024];
        const char *path = parse_common(argc, argv, usage, takes_fmt ? &fmt : NULL, &f, &code);
        if (path && build(argv[0], argc - optind, argv + optind, fmt, line, sizeof line) < 0)
                code = CLI_EXIT_USAGE;
        else if (path)
                code = finish(ask(path, line));
        smx_config_file_free(&f);
        return code;
}

static int knob_line(const char *cmd, int n, char **a, int fmt, char *line, size_t cap)
{
        (void)cmd;
        (void)fmt;
        int ok = 1;
        if (n == 1 && !strcmp(a[0], "list"))
                snprintf(line, cap, "knob list");
        else if (n == 2 && !strcmp(a[0], "get"))
                snprintf(line, cap, "knob get %s", a[1]);
        else if ((n == 3 || n == 2) && !strcmp(a[0], "set"))
                snprintf(line, cap, "knob set %s %s", a[1], n == 3 ? a[2] : "");
        else
                ok = 0;
        if (ok && (strpbrk(a[n - 1], " \t\n") || (n > 1 && strpbrk(a[1], " \t\n"))))
                ok = 0;
        if (!ok) {
                fprintf(stderr, "smsmux knob: expected get NAME, set NAME VALUE or list\n%s",
                        knob_usage);
                return -1;
        }
        return 0;
}

int cli_knob(int argc, char **argv)
{
        return run_admin(argc, argv, knob_usage, 0, knob_line);
}

static int stats_line(const char *cmd, int n, char **a, int fmt, char *line, size_t cap)
{
        (void)cmd;
        if (n > 0) {
                fprintf(stderr, "smsmux stats: unexpected argument '%s'\n%s", a[0], stats_usage);
                return -1;
        }
        snprintf(line, cap, "%s", fmt == 1 ? "stats json" : fmt == 2 ? "stats prometheus"
                                                                  : "stats table");
        return 0;
}

int cli_stats(int argc, char **argv)
{
        return run_admin(argc, argv, stats_usage, 1, stats_line);
}

/* `smsmux smsc ...` / `smsmux site ...`: cmd is "smsc" or "site"; the words
 * after it become one admin request line. */
static int smsc_line(const char *cmd, int n, char **a, int fmt, char *line, size_t cap)
{
        (void)fmt;
        int is_site = !strcmp(cmd, "site");
        int ok = n >= 2 && (!strcmp(a[0], "drain") || !strcmp(a[0], "enable") ||
                            !strcmp(a[0], "remove") || (!is_site && !strcmp(a[0], "add")));
        if (ok && strcmp(a[0], "add") != 0 && n != 2)
                ok = 0;
        size_t len = (size_t)snprintf(line, cap, "%s", cmd);
        for (int i = 0; ok && i < n; i++) {
                if (strpbrk(a[i], " \t\n") || len + strlen(a[i]) + 2 >= cap)
                        ok = 0;
                else
                        len += (size_t)snprintf(line + len, cap - len, " %s", a[i]);
        }
        if (!ok) {
                fprintf(stderr, "smsmux %s: bad arguments\n%s", cmd, smsc_usage);
                return -1;
        }
        return 0;
}

int cli_smsc(int argc, char **argv)
{
        return run_admin(argc, argv, smsc_usage, 0, smsc_line);
}
