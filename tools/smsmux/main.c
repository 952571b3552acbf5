/* smsmux: the command-line program. `smsmux pipe|bench|demo|knob|stats|smsc|site [flags]`; the
 * machine-readable contracts are in ../../../shared/CLI.md. This file only
 * picks the subcommand and turns usage errors into exit status 2. */
#include <stdio.h>
#include <string.h>

#include "admin_cmd.h"
#include "cli_client.h"
#include "commands.h"

static void usage_all(FILE *to)
{
        fputs("usage: smsmux COMMAND [flags]\n"
              "  pipe    MT requests as JSON lines on stdin, events as JSON lines on stdout\n"
              "  bench   push MTs as fast as the library takes them, print mt_per_s\n"
              "  demo    embedded 2-site simulator, traffic and a fault plan, a summary\n"
              "  knob    get or set a knob of a running smsmux (admin socket)\n"
              "  stats   counters of a running smsmux: table, --json or --prometheus\n"
              "  smsc    add, drain, enable or remove an SMSC of a running smsmux\n"
              "  site    drain, enable or remove every SMSC of a site\n"
              "`smsmux COMMAND --help` lists the flags of a command.\n", to);
}

int main(int argc, char **argv)
{
        if (argc < 2) {
                usage_all(stderr);
                return CLI_EXIT_USAGE;
        }
        const char *name = argv[1];
        enum cli_cmd cmd;
        if (!strcmp(name, "knob"))
                return cli_knob(argc - 1, argv + 1);
        if (!strcmp(name, "stats"))
                return cli_stats(argc - 1, argv + 1);
        if (!strcmp(name, "smsc") || !strcmp(name, "site"))
                return cli_smsc(argc - 1, argv + 1);
        if (!strcmp(name, "pipe")) {
                cmd = CLI_PIPE;
        } else if (!strcmp(name, "bench")) {
                cmd = CLI_BENCH;
        } else if (!strcmp(name, "demo")) {
                cmd = CLI_DEMO;
        } else if (!strcmp(name, "help") || !strcmp(name, "--help") || !strcmp(name, "-h")) {
                usage_all(stdout);
                return CLI_EXIT_OK;
        } else {
                fprintf(stderr, "smsmux: unknown command '%s'\n", name);
                usage_all(stderr);
                return CLI_EXIT_USAGE;
        }
        struct cli_opts o;
        char err[512];
        if (cli_opts_parse(&o, cmd, argc - 1, argv + 1, err, sizeof err) < 0) {
                fprintf(stderr, "smsmux %s: %s\n%s", name, err, cli_usage(cmd));
                return CLI_EXIT_USAGE;
        }
        if (o.help) {
                fputs(cli_usage(cmd), stderr);
                return CLI_EXIT_OK;
        }
        switch (cmd) {
        case CLI_PIPE: return cli_pipe(&o);
        case CLI_BENCH: return cli_bench(&o);
        default: return cli_demo(&o);
        }
}
