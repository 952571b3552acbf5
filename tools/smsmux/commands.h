/* The smsmux subcommands, each run from main() with its parsed flags; each
 * returns the process exit status. */
#ifndef SMX_CLI_COMMANDS_H
#define SMX_CLI_COMMANDS_H

#include "cli_opts.h"

int cli_pipe(const struct cli_opts *o);
int cli_bench(const struct cli_opts *o);
int cli_demo(const struct cli_opts *o);

#endif
